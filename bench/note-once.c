/*
 * note-once DB: what a worker with no GPU pays to say why the queued jobs
 * it cannot take wait (store_note_unfit()): its first note, which looks at
 * every job, and the note after one more such job is submitted, which
 * looks only at what changed.  The instrument of bench/run.sh's section 9.
 * It prints both notes' times in ms and the second's steps, and exits 0;
 * 2 on an error.  The job it submits stays queued.
 */
#include <err.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "error.h"
#include "parse.h"
#include "spec.h"
#include "store.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One job that asks for a GPU, through the store as job-submit adds it. */
static int
add_one(struct store *st)
{
	json_t *raw, *spec = NULL;
	struct job_new jn;
	char id[ID_LEN + 1];
	int rc = -1, existed;

	raw = json_pack(
	    "{s:[s], s:{s:i}}", "command", "true", "resources", "gpu", 1);
	if (raw != NULL &&
	    (spec = spec_normalize(raw, parse_now_ms())) != NULL &&
	    spec_to_job(spec, &jn) == 0)
		rc = store_job_add(st, &jn, id, NULL, &existed);
	json_decref(spec);
	json_decref(raw);
	return rc;
}

int
main(int argc, char **argv)
{
	struct claim_fit cap = {
	    .cpu_milli = -1, .memory = -1, .disk = -1, .gpu = 0};
	struct store *st;
	double first, after;
	int64_t steps;

	if (argc != 2) {
		fprintf(stderr, "usage: note-once DB\n");
		return 2;
	}
	if ((st = store_open(argv[1], 0)) == NULL)
		errx(2, "%s", error_msg());
	first = now_ms();
	if (store_note_unfit(st, &cap) == -1)
		errx(2, "%s", error_msg());
	first = now_ms() - first;
	if (add_one(st) == -1 || (steps = store_steps(st)) == -1)
		errx(2, "%s", error_msg());
	after = now_ms();
	if (store_note_unfit(st, &cap) == -1)
		errx(2, "%s", error_msg());
	after = now_ms() - after;
	printf("%.1f %.3f %lld\n", first, after,
	    (long long)(store_steps(st) - steps));
	store_close(st);
	return 0;
}
