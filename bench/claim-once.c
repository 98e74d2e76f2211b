/*
 * claim-once DB [QUEUE ...]: one claim, as a worker with no GPU that
 * serves QUEUEs (every queue when none) makes it, and nothing else: the
 * instrument of bench/run.sh's section 9.  It prints the claimed task's ID,
 * the claim's own time in ms and its steps (store_steps()), and exits 0;
 * 1 when no job fitted, 2 on an error.  The task is left running.
 */
#include <err.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "error.h"
#include "store.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	struct run_new rn = {
	    .kind = "exec-run", .mode = "worker", .lease_ms = 60000};
	struct claim_fit fit = {
	    .queues = argc > 2 ? (const char **)argv + 2 : NULL,
	    .cpu_milli = -1,
	    .memory = -1,
	    .disk = -1,
	    .gpu = 0};
	char run[STORE_RUN_ID_LEN + 1];
	struct store *st;
	json_t *task;
	int64_t steps;
	double t;
	int k;

	if (argc < 2) {
		fprintf(stderr, "usage: claim-once DB [QUEUE ...]\n");
		return 2;
	}
	if ((st = store_open(argv[1], 0)) == NULL ||
	    store_run_start(st, &rn, run) == -1 || store_steps(st) == -1)
		errx(2, "%s", error_msg());
	t = now_ms();
	if ((k = store_claim(st, run, &fit, &task)) == -1)
		errx(2, "%s", error_msg());
	t = now_ms() - t;
	steps = store_steps(st);
	if (k == 1)
		printf("%s %.3f %lld\n",
		    json_string_value(json_object_get(task, "id")), t,
		    (long long)steps);
	json_decref(task);
	if (store_run_end(st, run) == -1)
		errx(2, "%s", error_msg());
	store_close(st);
	return k == 1 ? 0 : 1;
}
