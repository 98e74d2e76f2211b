/*
 * Unit test of the claim's cost: with a million queued jobs ahead of the
 * one that fits -- unfit by resources, not yet due, or of a queue the
 * worker does not serve -- a claim costs what it costs with none (issue
 * 13; DESIGN.md: "a job that fits is never passed over however many do
 * not").  So does a worker's note of why the jobs it cannot fit wait,
 * once it has noted them.  The cost is counted, not timed
 * (store_steps()): make check runs on a loaded machine.  And when the next
 * job of a worker's queues comes due, asked again and again as a worker
 * asks it: the store keeps that query between calls (test_next_due()).
 *
 * Usage: claim [N]: N jobs in the way (1000000).
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "parse.h"
#include "spec.h"
#include "store.h"
#include "tap.h"

/*
 * The claims that fail today: its query walks the index of the queued jobs
 * in claim order and tests each job's due time, resources and (with more
 * than one queue) queue as it goes, about 6 steps a job.  Flat needs the
 * query to seek past them.  Remove the mark from a claim once it passes.
 */

static char dir[4096];

/* Remove the database at path and the files sqlite keeps beside it. */
static void
remove_db(const char *path)
{
	char other[4300];

	unlink(path);
	snprintf(other, sizeof(other), "%s-wal", path);
	unlink(other);
	snprintf(other, sizeof(other), "%s-shm", path);
	unlink(other);
}

/* Add a job of spec (JSON text) through the store, as job-submit does. */
static int
add(struct store *st, const char *text)
{
	json_t *raw, *spec;
	struct job_new jn;
	char id[ID_LEN + 1];
	int rc = -1, existed;

	if ((raw = json_loads(text, 0, NULL)) == NULL)
		return -1;
	if ((spec = spec_normalize(raw, parse_now_ms())) != NULL &&
	    spec_to_job(spec, &jn) == 0)
		rc = store_job_add(st, &jn, id, NULL, &existed);
	json_decref(spec);
	json_decref(raw);
	return rc;
}

/*
 * Copy job 1, n - 1 times, with raw SQL as job-submit would have stored
 * them (the copies' signatures do not match their numbers: none of them
 * is claimed).  One transaction, no journal: a test database.
 */
static int
copy_first(const char *path, long n)
{
	static const char *sql =
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	    " WHERE i < ?1) INSERT INTO jobs (name, owner, uid, state, queue,"
	    " priority, created, updated, not_before, max_attempts, labels,"
	    " reason, spec, cpu_milli, memory, disk, gpu, export, sig,"
	    " wait_until) SELECT name, owner, uid, state, queue, priority,"
	    " created, updated, not_before, max_attempts, labels, reason,"
	    " spec, cpu_milli, memory, disk, gpu, export, sig, wait_until"
	    " FROM jobs, n"
	    " WHERE jobs.rid = 1";
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(db,
		"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
		" PRAGMA cache_size = -65536; BEGIN",
		NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, n - 1);
	if (sqlite3_step(s) == SQLITE_DONE &&
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
out:
	if (rc == -1)
		printf("# %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* What a worker may take: queues (NULL: any), gpu (< 0: any). */
static struct claim_fit
fit_of(const char **queues, int64_t gpu)
{
	struct claim_fit f = {.queues = queues,
	    .cpu_milli = -1,
	    .memory = -1,
	    .disk = -1,
	    .gpu = gpu};

	return f;
}

/* Claim with fit in st for run: the steps it took (-1 on an error), the
 * job's name into name[64] ("" when none was claimed). */
static int64_t
claim_steps(
    struct store *st, const char *run, const struct claim_fit *fit, char *name)
{
	json_t *task = NULL;
	int64_t before;
	int k;

	*name = '\0';
	if ((before = store_steps(st)) == -1)
		return -1;
	if ((k = store_claim(st, run, fit, &task)) == -1) {
		printf("# claim: %s\n", error_msg());
		return -1;
	}
	if (k == 1)
		snprintf(name, 64, "%s",
		    json_string_value(json_object_get(
			json_object_get(task, "spec"), "name")));
	json_decref(task);
	return store_steps(st) - before;
}

/* A case: n jobs like ahead (JSON) in the way of those in fits (named
 * fit0, fit1), which the claims of fits take in turn, and then a claim
 * that may take anything (wide: one of the n, fitting). */
struct way {
	const char *what;
	const char *ahead;
	const char *fits[2];
	struct claim_fit claims[2];
	int wide; /* a last claim takes the first of them */
};

/* Make the database of w with n ahead, open it, start a run: the store. */
static struct store *
make(const struct way *w, long n, const char *path, char *run)
{
	struct store *st = NULL;
	struct run_new rn = {
	    .kind = "exec-run", .mode = "worker", .lease_ms = 60000};

	remove_db(path);
	if (n > 0) {
		if ((st = store_open(path, 1)) == NULL ||
		    add(st, w->ahead) == -1)
			goto fail;
		store_close(st);
		st = NULL;
		if (n > 1 && copy_first(path, n) == -1)
			return NULL;
	}
	if ((st = store_open(path, 1)) == NULL)
		goto fail;
	for (int i = 0; i < 2 && w->fits[i] != NULL; i++)
		if (add(st, w->fits[i]) == -1)
			goto fail;
	/* With none in the way, the last claim has one to take, behind. */
	if (n == 0 && w->wide && add(st, w->ahead) == -1)
		goto fail;
	if (store_run_start(st, &rn, run) == -1)
		goto fail;
	return st;
fail:
	printf("# %s: %s\n", path, error_msg());
	store_close(st);
	return NULL;
}

/* The claims of w with n in the way, their steps into steps[3]. */
static int
claims(const struct way *w, long n, int64_t *steps)
{
	char path[4200], run[STORE_RUN_ID_LEN + 1], name[64], want[16];
	struct claim_fit any = fit_of(NULL, -1);
	struct store *st;
	int i, rc = -1;

	snprintf(path, sizeof(path), "%s/%ld.db", dir, n);
	if ((st = make(w, n, path, run)) == NULL)
		return -1;
	for (i = 0; i < 3; i++) {
		steps[i] = 0;
		if (i < 2 && w->fits[i] == NULL)
			continue;
		if (i == 2 && !w->wide)
			break;
		if ((steps[i] = claim_steps(
			 st, run, i < 2 ? &w->claims[i] : &any, name)) == -1)
			goto out;
		if (i < 2)
			snprintf(want, sizeof(want), "fit%d", i);
		else
			snprintf(want, sizeof(want), "ahead");
		if (strcmp(name, want) != 0) {
			printf("# %s: claim %d took '%s', not '%s'\n", w->what,
			    i + 1, name, want);
			goto out;
		}
	}
	rc = 0;
out:
	store_close(st);
	remove_db(path);
	return rc;
}

static void
test_way(const struct way *w, long n)
{
	static const char *how[] = {"the first claim", "the second claim",
	    "a claim of the first of them (they fit it)"};
	int64_t none[3], many[3];
	int i;

	if (claims(w, 0, none) == -1 || claims(w, n, many) == -1) {
		ok(0, "%s: the claims ran", w->what);
		return;
	}
	for (i = 0; i < 3; i++) {
		if (i < 2 ? w->fits[i] == NULL : !w->wide)
			continue;
		printf("# %s, %s: %lld steps with none in the way, %lld with"
		       " %ld\n",
		    w->what, how[i], (long long)none[i], (long long)many[i], n);
		ok(none[i] > 0 && many[i] * 10 <= none[i] * 12,
		    "%s, %ld of them: %s costs what it costs with none "
		    "(within 20%%)",
		    w->what, n, how[i]);
	}
}

/* The reason of the last job of the database at path into why[128]. */
static int
last_reason(const char *path, char *why)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	*why = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db,
		"SELECT reason FROM jobs ORDER BY rid DESC LIMIT 1", -1, &s,
		NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		snprintf(
		    why, 128, "%s", (const char *)sqlite3_column_text(s, 0));
		rc = 0;
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

/* How many calls the last note took: a look at every job is made in
 * parts, a call each. */
static int parts;

/* A whole note of cap's, however many calls it takes. */
static int
note(struct store *st, const struct claim_fit *cap)
{
	int k;

	for (parts = 1; (k = store_note_unfit(st, cap)) == 1; parts++)
		;
	return k;
}

/*
 * A worker without GPUs says why the jobs that want one wait
 * (store_note_unfit()): n of them once, then again after one more is
 * submitted.  The steps of that second note into *steps, the newest job's
 * reason into why[128].
 */
static int
note_steps(long n, int64_t *steps, char *why, int *first)
{
	static const char ahead[] = "{\"name\":\"ahead\",\"command\":"
				    "[\"true\"],\"resources\":{\"gpu\":2}}",
			  newer[] = "{\"name\":\"newer\",\"command\":"
				    "[\"true\"],\"resources\":{\"gpu\":3}}";
	struct claim_fit cap = fit_of(NULL, 0);
	struct store *st = NULL;
	char path[4200];
	int64_t before;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/note-%ld.db", dir, n);
	remove_db(path);
	if ((st = store_open(path, 1)) == NULL || add(st, ahead) == -1)
		goto out;
	store_close(st);
	st = NULL;
	if (n > 1 && copy_first(path, n) == -1)
		goto out;
	if ((st = store_open(path, 1)) == NULL || note(st, &cap) == -1 ||
	    (*first = parts, add(st, newer)) == -1 ||
	    (before = store_steps(st)) == -1 || note(st, &cap) == -1)
		goto out;
	*steps = store_steps(st) - before;
	rc = last_reason(path, why);
out:
	if (rc == -1)
		printf("# note with %ld: %s\n", n, error_msg());
	store_close(st);
	remove_db(path);
	return rc;
}

/* The note after a change costs what it costs with none noted before. */
static void
test_note(long n)
{
	int64_t one, many;
	char why[2][128];
	int first[2];

	if (note_steps(1, &one, why[0], &first[0]) == -1 ||
	    note_steps(n, &many, why[1], &first[1]) == -1) {
		ok(0, "the notes ran");
		return;
	}
	printf("# the first note took %d call(s) with 1 job, %d with %ld\n",
	    first[0], first[1], n);
	ok(first[0] == 1 && (n <= 20000 || first[1] > 1),
	    "a worker's first note looks at them a part a call");
	printf("# a note after one submit: %lld steps with 1 noted before,"
	       " %lld with %ld\n",
	    (long long)one, (long long)many, n);
	ok(one > 0 && many * 10 <= one * 12,
	    "%ld jobs a worker cannot fit: the note after one more costs what "
	    "it costs with one (within 20%%)",
	    n);
	ok(strcmp(why[1], "waiting for a worker with gpu=3") == 0,
	    "and the job submitted says why it waits ('%s')", why[1]);
}

/* store_next_due() for fit in st, or -2 on an error (said). */
static int64_t
next_due(struct store *st, const char **queues)
{
	struct claim_fit f = fit_of(queues, -1);
	int64_t due;

	if (store_next_due(st, &f, &due) == -1) {
		printf("# next due: %s\n", error_msg());
		return -2;
	}
	return due;
}

/*
 * When the next job of a worker's queues comes due (store_next_due()),
 * asked again and again as a worker asks it after each claim: the store
 * keeps the query it built last and binds it anew, so each answer must be
 * the database's as it is then, for the queues asked, whatever was asked
 * before it.
 */
static void
test_next_due(void)
{
	static const char *qa[] = {"a", NULL}, *qb[] = {"b", NULL},
			  *qab[] = {"a", "b", NULL};
	static const char *const jobs[] = {
	    "{\"command\":[\"true\"],\"queue\":\"a\",\"at\":\"+2h\"}",
	    "{\"command\":[\"true\"],\"queue\":\"a\",\"at\":\"+1h\"}",
	    "{\"command\":[\"true\"],\"queue\":\"b\",\"at\":\"+30m\"}"};
	char path[4200];
	struct store *st;
	int64_t a2, a1, b1, none;

	snprintf(path, sizeof(path), "%s/due.db", dir);
	remove_db(path);
	if ((st = store_open(path, 1)) == NULL || add(st, jobs[0]) == -1)
		goto fail;
	a2 = next_due(st, qa);
	none = next_due(st, qb);
	ok(a2 > parse_now_ms() && none == 0 && next_due(st, qab) == a2 &&
		next_due(st, NULL) == a2 && next_due(st, qa) == a2,
	    "the next due of queue a is its job's, of b none, of both and of "
	    "any a's, asked twice");
	if (add(st, jobs[1]) == -1 || add(st, jobs[2]) == -1)
		goto fail;
	a1 = next_due(st, qa);
	b1 = next_due(st, qb);
	ok(a1 > 0 && a1 < a2 && b1 > 0 && b1 < a1,
	    "asked again after two jobs more: a's is the earlier job's, b's "
	    "its one job's");
	ok(next_due(st, NULL) == b1 && next_due(st, qab) == b1 &&
		next_due(st, qa) == a1,
	    "and any queue's, and both's, is b's; a's again a's");
	goto out;
fail:
	ok(0, "the jobs due later were stored: %s", error_msg());
out:
	store_close(st);
	remove_db(path);
}

int
main(int argc, char **argv)
{
	static const char *qa[] = {"a", NULL}, *qab[] = {"a", "b", NULL};
	const struct way ways[] = {
	    {"unfit by resources (gpu 2, the worker has none)",
		"{\"name\":\"ahead\",\"command\":[\"true\"],"
		"\"resources\":{\"gpu\":2}}",
		{"{\"name\":\"fit0\",\"command\":[\"true\"]}", NULL},
		{fit_of(NULL, 0)}, 1},
	    {"not yet due (--at in a year)",
		"{\"name\":\"ahead\",\"command\":[\"true\"],\"at\":\"+8760h\"}",
		{"{\"name\":\"fit0\",\"command\":[\"true\"]}", NULL},
		{fit_of(NULL, -1)}, 0},
	    {"of a queue the worker does not serve (it serves a, then a and b)",
		"{\"name\":\"ahead\",\"command\":[\"true\"],\"queue\":\"c\"}",
		{"{\"name\":\"fit0\",\"command\":[\"true\"],\"queue\":\"a\"}",
		    "{\"name\":\"fit1\",\"command\":[\"true\"],\"queue\":"
		    "\"b\"}"},
		{fit_of(qa, -1), fit_of(qab, -1)}, 1},
	};
	long n = argc > 1 ? atol(argv[1]) : 1000000;

	if (tap_tmpdir(dir, sizeof(dir), "claim") == NULL)
		return 1;
	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++)
		test_way(&ways[i], n);
	test_note(n);
	test_next_due();
	rmdir(dir);
	return done_testing();
}
