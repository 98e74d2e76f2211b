/*
 * Unit test of store_batch(): a stream's plain jobs go in many rows to a
 * statement (issue 13: 200,000 jobs a second), and the database holds
 * exactly what it holds when each goes in alone -- the same rows, numbers,
 * events, labels and signatures, whatever else the stream holds (keys,
 * dependencies, notes, labels).  Reads in the transaction see the jobs
 * that wait, and a rollback leaves none of them.  The saving is counted,
 * not timed (store_steps()): make check runs on a loaded machine.
 */
#include <jansson.h>
#include <stdint.h>
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

#define NSPECS 300

static char dir[4096];

/* Spec i of the stream: every kind of job, plain ones the most (those
 * with a key, a dependency or notes go in alone). */
static void
spec_text(int i, const char *dep, char *buf, size_t len)
{
	int kind = i % 10;

	if (i % 100 >= 10 && kind >= 2 && kind <= 4)
		kind = 0;
	switch (kind) {
	case 1:
		snprintf(buf, len,
		    "{\"name\":\"l%d\",\"command\":[\"echo\",\"%d\"],"
		    "\"labels\":{\"a\":\"x%d\",\"b\":\"y\",\"c\":\"z\"}}",
		    i, i, i % 7);
		break;
	case 2:
		snprintf(buf, len,
		    "{\"name\":\"k%d\",\"command\":[\"true\"],"
		    "\"key\":\"key-%d\"}",
		    i, i % 40);
		break;
	case 3:
		snprintf(buf, len,
		    "{\"name\":\"d%d\",\"command\":[\"true\"],"
		    "\"after\":[\"%s\"]}",
		    i, dep);
		break;
	case 4:
		snprintf(buf, len,
		    "{\"name\":\"n%d\",\"command\":[\"true\"],"
		    "\"notes\":[\"note %d\"]}",
		    i, i);
		break;
	case 5:
		snprintf(buf, len,
		    "{\"command\":[\"true\"],\"hold\":true,\"priority\":%d,"
		    "\"queue\":\"q%d\",\"labels\":{\"one\":\"%d\"}}",
		    i % 5, i % 3, i);
		break;
	case 6:
		snprintf(buf, len,
		    "{\"name\":\"r%d\",\"command\":[\"true\"],\"resources\":"
		    "{\"cpu\":\"500m\",\"memory\":\"1GiB\"},\"retries\":2}",
		    i);
		break;
	default:
		snprintf(buf, len,
		    "{\"name\":\"p%d\",\"command\":[\"true\",\"%d\"]}", i, i);
	}
}

/* Add a job of spec (JSON text), with the stream's environment, as
 * job-submit does: its ID into id. */
static int
add(struct store *st, const char *text, json_t *env, char *id)
{
	json_t *raw, *spec;
	struct job_new jn;
	int rc = -1, existed;

	if ((raw = json_loads(text, 0, NULL)) == NULL)
		return -1;
	if ((spec = spec_normalize(raw, parse_now_ms())) != NULL &&
	    spec_to_job(spec, &jn) == 0) {
		if (json_object_get(spec, "export") == NULL)
			jn.export = env;
		rc = store_job_add(st, &jn, id, NULL, &existed);
	}
	if (rc == -1)
		printf("# add %s: %s\n", text, error_msg());
	json_decref(spec);
	json_decref(raw);
	return rc;
}

/*
 * The stream into a new database at path, batched or one by one: the
 * statements it ran, or -1.
 */
static int64_t
stream(const char *path, int batched, json_t *env)
{
	struct store *st = store_open(path, 1);
	char dep[ID_LEN + 1], id[ID_LEN + 1], text[512];
	int64_t steps = -1;

	if (st == NULL || add(st, "{\"command\":[\"true\"]}", env, dep) == -1 ||
	    store_steps(st) == -1 || store_begin(st) == -1)
		goto out;
	if (batched)
		store_batch(st);
	for (int i = 0; i < NSPECS; i++) {
		spec_text(i, dep, text, sizeof(text));
		if (add(st, text, env, id) == -1) {
			store_rollback(st);
			goto out;
		}
	}
	if (store_commit(st) == 0)
		steps = store_runs(st);
out:
	if (steps == -1)
		printf("# %s: %s\n", path, error_msg());
	store_close(st);
	return steps;
}

static int
grow(void *arg, int n, char **v, char **names)
{
	FILE *f = arg;

	for (int i = 0; i < n; i++)
		fprintf(f, "%s|", v[i] ? v[i] : "NULL");
	fputc('\n', f);
	return 0;
}

/* What the database at path holds, times aside: a new string. */
static char *
contents(const char *path)
{
	static const char *sql =
	    "SELECT rid, name, owner, uid, state, queue, priority, not_before,"
	    " attempts, max_attempts, idem_key, labels, reason, spec,"
	    " cpu_milli, memory, disk, gpu, export, hex(sig), parent,"
	    " concurrency, selector, wait_until FROM jobs ORDER BY rid;"
	    " SELECT eid, job, task, type, state, message FROM events"
	    " ORDER BY eid;"
	    " SELECT * FROM job_labels ORDER BY job, key;"
	    " SELECT * FROM job_deps ORDER BY job, dep;"
	    " SELECT * FROM exports ORDER BY id";
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	sqlite3 *db = NULL;

	if (f == NULL)
		return NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(db, sql, grow, f, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", path, sqlite3_errmsg(db));
		fclose(f);
		free(text);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_close(db);
	fclose(f);
	return text;
}

/* How many jobs the store holds, or -1. */
static long
count_jobs(struct store *st)
{
	struct store_query q = {
	    .noun = STORE_JOBS, .since = INT64_MIN, .until = INT64_MAX};
	int64_t n;

	return store_count(st, &q, &n) == -1 ? -1 : (long)n;
}

static void
test_same(json_t *env)
{
	char one[4200], many[4200];
	char *a, *b;
	int64_t sa, sb;

	snprintf(one, sizeof(one), "%s/one.db", dir);
	snprintf(many, sizeof(many), "%s/many.db", dir);
	sb = stream(one, 0, env);
	sa = stream(many, 1, env);
	ok(sa > 0 && sb > 0, "a stream of %d stored both ways", NSPECS);
	a = contents(many);
	b = contents(one);
	ok(a != NULL && b != NULL && strcmp(a, b) == 0,
	    "batched, the database holds what it holds one by one: rows,"
	    " numbers, events, labels, dependencies, signatures");
	if (a != NULL && b != NULL && strcmp(a, b) != 0) {
		size_t i = 0;
		while (a[i] == b[i])
			i++;
		printf("#   first difference at %zu: '%.60s' / '%.60s'\n", i,
		    a + i, b + i);
	}
	ok(a != NULL && strstr(a, "|note|") != NULL &&
		strstr(a, "|x3|") != NULL,
	    "and it holds the notes and labels");
	free(a);
	free(b);
	/* A statement's own work is most of a plain job's: one by one,
	 * three a job (the job, its event, a label). */
	printf("# statements: %lld batched, %lld one by one\n", (long long)sa,
	    (long long)sb);
	ok(sa > 0 && sa * 5 < sb,
	    "batched, it ran under a fifth of the statements");
}

static void
test_reads_and_rollback(json_t *env)
{
	char path[4200], id[ID_LEN + 1], third[ID_LEN + 1] = "";
	struct store *st;
	json_t *d;
	long before;

	snprintf(path, sizeof(path), "%s/read.db", dir);
	if ((st = store_open(path, 1)) == NULL) {
		ok(0, "open: %s", error_msg());
		return;
	}
	before = count_jobs(st);
	ok(before == 0, "a new database has no jobs");
	store_begin(st);
	store_batch(st);
	for (int i = 0; i < 10; i++) {
		add(st, "{\"command\":[\"true\"]}", env, id);
		if (i == 2)
			snprintf(third, sizeof(third), "%s", id);
	}
	d = store_job_describe(st, third);
	is_str(json_string_value(json_object_get(d, "id")), third,
	    "in the transaction, a job that waits to go in is read");
	json_decref(d);
	ok(count_jobs(st) == 10, "and counted, with the others");
	for (int i = 0; i < 5; i++)
		add(st, "{\"command\":[\"true\"]}", env, id);
	store_rollback(st);
	ok(count_jobs(st) == 0, "rolled back, none of them is left");
	ok(add(st, "{\"name\":\"after\",\"command\":[\"true\"]}", env, id) ==
		    0 &&
		count_jobs(st) == 1,
	    "and the next job goes in alone");
	store_close(st);
	snprintf(path, sizeof(path), "%s/read.db", dir);
	unlink(path);
}

/* Remove the databases of the test and the files sqlite keeps beside. */
static void
clean(void)
{
	static const char *names[] = {"one.db", "many.db", "read.db"};
	static const char *ends[] = {"", "-wal", "-shm"};
	char path[4300];

	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++) {
			snprintf(path, sizeof(path), "%s/%s%s", dir, names[i],
			    ends[j]);
			unlink(path);
		}
	rmdir(dir);
}

int
main(void)
{
	json_t *env =
	    json_pack("{s:s, s:s}", "PATH", "/usr/bin:/bin", "LANG", "C.UTF-8");

	if (env == NULL || tap_tmpdir(dir, sizeof(dir), "batch") == NULL)
		return 1;
	test_same(env);
	test_reads_and_rollback(env);
	json_decref(env);
	clean();
	return done_testing();
}
