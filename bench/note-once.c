/*
 * note-once DB: what a worker with no GPU pays to say why the queued jobs
 * it cannot take wait (store_note_unfit()): its first note, which looks at
 * every job, and the note after one more such job is submitted, which
 * looks only at what changed.  The instrument of bench/run.sh's section 9.
 * It prints both notes' times in ms and the second's steps, and exits 0;
 * 2 on an error.  The job it submits (with the job-submit first in PATH)
 * stays queued.
 */
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include "error.h"
#include "store.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One more job that asks for a GPU, by job-submit (first in PATH), as a
 * user would submit it beside a worker. */
static int
submit_one(const char *db)
{
	char *argv[] = {"job-submit", "-d", (char *)db, "-q", "--gpu", "1",
	    "--", "true", NULL};
	extern char **environ;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	/* Its ID is not ours to print. */
	if (posix_spawn_file_actions_init(&fa) != 0)
		return error_set(EX_OSERR, "out of memory");
	rc = posix_spawn_file_actions_addopen(
		 &fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawnp(&pid, "job-submit", &fa, NULL, argv, environ) != 0 ||
	    waitpid(pid, &status, 0) == -1;
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return error_set(EX_OSERR, "cannot run job-submit");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return error_set(EX_SOFTWARE, "job-submit failed");
	return 0;
}

/* A whole note of cap's, however many parts it takes. */
static int
note(struct store *st, const struct claim_fit *cap)
{
	int k;

	while ((k = store_note_unfit(st, cap)) == 1)
		;
	return k;
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
	if (note(st, &cap) == -1)
		errx(2, "%s", error_msg());
	first = now_ms() - first;
	if (submit_one(argv[1]) == -1 || (steps = store_steps(st)) == -1)
		errx(2, "%s", error_msg());
	after = now_ms();
	if (note(st, &cap) == -1)
		errx(2, "%s", error_msg());
	after = now_ms() - after;
	printf("%.1f %.3f %lld\n", first, after,
	    (long long)(store_steps(st) - steps));
	store_close(st);
	return 0;
}
