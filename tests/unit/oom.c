/*
 * Out of memory in libcommon's JSON code (issue 13): every allocation of
 * jansson's is made to fail in turn, the first, then the second, and so
 * on, while specs are normalized, foreign documents imported and a run's
 * lease renewed.  Each run must fail with EX_OSERR "out of memory", or
 * recover and give what a run with all the memory it wants gives; never a
 * spec short of a field, or news short of a task.  Under AddressSanitizer
 * the failed runs also prove nothing leaks.  argv[1] is tests/data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "id.h"
#include "import.h"
#include "jsonin.h"
#include "lease.h"
#include "parse.h"
#include "spec.h"
#include "specopt.h"
#include "store.h"
#include "yamljson.h"
#include "tap.h"

static long fail_at, allocs;

static void *
failing_malloc(size_t n)
{
	if (fail_at > 0 && ++allocs == fail_at)
		return NULL;
	return malloc(n);
}

/* What an operation makes of in: a new reference, or NULL with an error. */
typedef json_t *(*op_fn)(json_t *in);

/*
 * Whether a run that failed said why: out of memory, or with any some
 * error (jansson's parser takes a string it had no memory for for bad
 * JSON, which jsonin cannot tell apart).
 */
static int
said(int any)
{
	if (any)
		return strcmp(error_msg(), "none") != 0;
	return error_status() == EX_OSERR &&
	    strcmp(error_msg(), "out of memory") == 0;
}

/*
 * Run op with allocation n failing, for every n until a run needs no
 * more than it was given; count the runs that went wrong.
 */
static void
each_failure(const char *name, op_fn op, json_t *in, int any)
{
	json_t *want, *got;
	long n, bad = 0, runs = 0;

	fail_at = 0;
	if ((want = op(in)) == NULL) {
		ok(0, "%s: %s", name, error_msg());
		return;
	}
	for (n = 1;; n++) {
		allocs = 0;
		fail_at = n;
		error_set(EX_SOFTWARE, "none");
		got = op(in);
		fail_at = 0;
		if (allocs < n) { /* nothing failed: every one was tried */
			json_decref(got);
			break;
		}
		runs++;
		if (got == NULL ? !said(any) : !json_equal(got, want)) {
			if (bad++ == 0)
				printf("# allocation %ld: %s\n", n,
				    got == NULL ? error_msg()
						: "a different result");
		}
		json_decref(got);
	}
	ok(bad == 0 && runs > 0, "%s: %ld failed allocations, each said", name,
	    runs);
	json_decref(want);
}

static json_t *
normalize(json_t *in)
{
	return spec_normalize(in, 0);
}

/* Normalized, named, redacted and digested, as job-describe shows it. */
static json_t *
shown(json_t *in)
{
	struct job_new jn;
	char digest[SPEC_DIGEST_LEN + 1];
	json_t *spec = spec_normalize(in, 0);

	if (spec == NULL || spec_to_job(spec, &jn) == -1 ||
	    spec_redact(spec) == -1 || spec_digest(spec, digest) == -1 ||
	    json_object_set_new(spec, "digest", json_string(digest)) == -1) {
		json_decref(spec);
		if (error_status() != EX_OSERR)
			error_set(EX_OSERR, "out of memory"); /* the last */
		return NULL;
	}
	return spec;
}

/* A task's end as the store records it: its usage, whole or none, and
 * saying why. */
static json_t *
ended(json_t *in)
{
	struct exec_result x = {.state = "succeeded",
	    .user_cpu = 0.5,
	    .system_cpu = 0.25,
	    .max_rss = 1 << 20};
	struct task_result res;

	return lease_result(&x, "results/a001.1", &res) == 0 ? res.usage : NULL;
}

static json_t *
merged(json_t *in)
{
	json_t *spec = json_deep_copy(in);
	json_t *over =
	    json_pack("{s:{s:s}, s:[s]}", "env", "B", "2", "after", "3f9c0000");

	if (spec == NULL || over == NULL || spec_merge(spec, over) == -1) {
		json_decref(spec);
		spec = NULL;
		error_set(EX_OSERR, "out of memory");
	}
	json_decref(over);
	return spec;
}

/* Options as job-submit applies them, onto a new object. */
static json_t *
options(json_t *in)
{
	static const struct {
		int c;
		const char *arg;
	} opts[] = {{'n', "t"}, {'e', "A=1"}, {'l', "k=v"}, {'w', "/tmp"},
	    {'t', "1h"}, {SPECOPT_RETRY_ON, "1,2"}, {SPECOPT_CPU, "2"},
	    {SPECOPT_EXPORT, "PATH,X=y"}, {SPECOPT_IMAGE, "alpine"},
	    {SPECOPT_AFTER_ANY, "3f9c0000"}, {'H', NULL}};
	json_t *over = json_object(), *exp;
	char *argv[] = {"echo", "hi", NULL};

	if (over == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (specopt_apply(over, opts[i].c, opts[i].arg) != 1) {
			json_decref(over);
			return NULL;
		}
	if ((exp = specopt_export(over)) == NULL ||
	    spec_set(over, "export", exp) == -1 ||
	    spec_set(over, "command", specopt_argv(argv)) == -1) {
		json_decref(over);
		return NULL;
	}
	return over;
}

/* A YAML document (anchors, merges) and JSON lines, read. */
static json_t *
yaml(json_t *in)
{
	static const char text[] = "a: &x {b: [1, 2.5, yes, ~], c: text}\n"
				   "d: *x\ne: {<<: *x, f: g}\n";
	return yamljson_parse(text, sizeof(text) - 1);
}

static json_t *
lines(json_t *in)
{
	static char text[] = "{\"a\": [1, \"b\"]}\n3f9c0000\n[{}, 2]\n";
	FILE *fp = fmemopen(text, sizeof(text) - 1, "r");
	struct jsonin *r = fp != NULL ? jsonin_open(fp, "stdin") : NULL;
	json_t *all = json_array(), *v;
	size_t line;
	int n;

	if (all == NULL)
		error_set(EX_OSERR, "out of memory");
	if (r != NULL)
		jsonin_accept(r, JSONIN_ITEMS | JSONIN_WORDS);
	while (r != NULL && all != NULL && (n = jsonin_next(r, &v, &line)) != 0)
		if (n == -1 || spec_append(all, v) == -1) {
			json_decref(all);
			all = NULL;
		}
	if (r == NULL) {
		json_decref(all);
		all = NULL;
	}
	jsonin_close(r);
	if (fp != NULL)
		fclose(fp);
	return all;
}

/*
 * A run's renewal (lease_tick()) sorting its held tasks: one whose job
 * was asked to cancel, one ended by another, one still running.  A
 * renewal the store had no memory for is retried, and says why.
 */
static struct lease *lease;
static int64_t lease_now;

static json_t *
renewed(json_t *in)
{
	struct lease_news n;
	json_t *news = NULL;

	lease_now += lease_interval(lease);
	if (lease_tick(lease, lease_now, &n) == 0 && n.renewed &&
	    (news = json_pack(
		 "{s:O, s:O}", "cancel", n.cancel, "gone", n.gone)) == NULL)
		error_set(EX_OSERR, "out of memory");
	lease_news_free(&n);
	return news;
}

/* A new job claimed by the lease's run and held, its task's ID into task,
 * its own into job: 0 or -1. */
static int
held(struct store *st, char *task, char *job)
{
	json_t *raw = json_pack("{s:[s]}", "command", "true"), *spec, *t;
	json_t *out = NULL;
	struct job_new jn;
	char id[ID_LEN + 1];
	int existed, r = -1;

	if ((spec = spec_normalize(raw, 0)) != NULL &&
	    spec_to_job(spec, &jn) == 0 &&
	    store_job_add(st, &jn, id, &out, &existed) == 0 &&
	    store_claim_job(st, lease_id(lease), id, &t) == 0) {
		snprintf(task, 64, "%s",
		    json_string_value(json_object_get(t, "id")));
		snprintf(job, 64, "%s", id);
		json_decref(t);
		r = lease_hold(lease, task);
	}
	json_decref(out);
	json_decref(spec);
	json_decref(raw);
	return r;
}

static void
each_renewal(void)
{
	static const char *const ext[] = {"", "-wal", "-shm"};
	struct run_new rn = {
	    .kind = "exec-run", .mode = "worker", .lease_ms = 600000};
	struct task_result end = {.state = "succeeded", .exit_code = 0};
	char dir[] = "/tmp/jobkit-oom.XXXXXX", path[64], task[3][64], job[64];
	struct store *st = NULL;
	json_t *out = NULL;
	int r = -1;

	if (mkdtemp(dir) == NULL) {
		ok(0, "lease_tick: a folder for its database");
		return;
	}
	snprintf(path, sizeof(path), "%s/jobkit.db", dir);
	if ((st = store_open(path, 1)) != NULL &&
	    (lease = lease_start(st, &rn, 1000)) != NULL &&
	    held(st, task[0], job) == 0 &&
	    store_job_act(st, job, STORE_CANCEL, NULL, &out) == 0 &&
	    held(st, task[1], job) == 0 &&
	    store_task_finish(st, task[1], &end, NULL) == 0 &&
	    held(st, task[2], job) == 0)
		r = 0;
	json_decref(out);
	if (r == 0) {
		lease_now = parse_now_ms();
		each_failure("lease_tick", renewed, NULL, 0);
	} else
		ok(0, "lease_tick: %s", error_msg());
	lease_free(lease);
	store_close(st);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/jobkit.db%s", dir, ext[i]);
		unlink(path);
	}
	rmdir(dir);
}

static enum import_format format;

static json_t *
imported(json_t *doc)
{
	struct import_opts o = {0};

	return import_specs(format, doc, &o);
}

/* A document of tests/data: JSON, or the first of a YAML file. */
static json_t *
load(const char *dir, const char *name)
{
	char path[1024], *buf = NULL;
	size_t len = 0;
	json_t *docs, *doc = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (strstr(name, ".json") != NULL)
		return json_load_file(path, 0, NULL);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	buf = malloc(1 << 20);
	if (buf != NULL)
		len = fread(buf, 1, 1 << 20, fp);
	fclose(fp);
	if (buf != NULL && (docs = yamljson_parse(buf, len)) != NULL) {
		doc = json_incref(json_array_get(docs, 0));
		json_decref(docs);
	}
	free(buf);
	return doc;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *file;
		enum import_format f;
	} docs[] = {{"bacalhau-job.json", IMPORT_BACALHAU},
	    {"bacalhau-spec.json", IMPORT_BACALHAU},
	    {"bacalhau-v1beta1.json", IMPORT_BACALHAU},
	    {"bacalhau-v1beta2.json", IMPORT_BACALHAU},
	    {"bacalhau-wrapped.json", IMPORT_BACALHAU},
	    {"bacalhau-noop.json", IMPORT_BACALHAU},
	    {"bacalhau-flat.yaml", IMPORT_BACALHAU},
	    {"studioml-request.json", IMPORT_STUDIOML},
	    {"studioml-minio.json", IMPORT_STUDIOML},
	    {"determined-command.yaml", IMPORT_DETERMINED}};
	const char *dir = argc > 1 ? argv[1] : "tests/data";
	char tmp[] = "/tmp/jobkit-oom.XXXXXX", path[64];
	json_t *spec, *doc;
	FILE *fp;

	json_set_alloc_funcs(failing_malloc, free);
	spec = json_loads("{\"name\": \"t\", \"command\": [\"echo\", \"hi\"],"
			  "\"env\": {\"A\": \"1\", \"API_TOKEN\": \"s\"},"
			  "\"labels\": {\"k\": \"v\"}, \"retries\": 2,"
			  "\"resources\": {\"cpu\": \"500m\", \"memory\": "
			  "\"1GiB\", \"gpu\": 1}, \"timeout\": \"1h30m\","
			  "\"retry_on\": [1, 2], \"at\": \"2030-01-01\","
			  "\"inputs\": [{\"url\": \"https://u:p@example.com/"
			  "a.tgz\", \"path\": \"a\", \"unpack\": true,"
			  "\"credentials\": {\"password\": \"x\"}}],"
			  "\"outputs\": [{\"url\": \"s3://b/k\", \"path\": "
			  "\"out\"}], \"notify\": "
			  "\"https://hooks.example.com/secret\","
			  "\"notes\": [\"n\"], \"foreign\": {\"$.x\": 1}}",
	    0, NULL);
	ok(spec != NULL, "the spec reads");
	each_failure("spec_normalize", normalize, spec, 0);
	each_failure("spec_to_job, spec_redact, spec_digest", shown, spec, 0);
	each_failure("spec_merge", merged, spec, 0);
	each_failure("lease_result", ended, NULL, 0);
	each_failure("specopt_apply, specopt_export", options, NULL, 0);
	each_failure("yamljson_parse", yaml, NULL, 0);
	each_failure("jsonin_next", lines, NULL, 1);
	json_decref(spec);
	spec = json_loads("{\"shards\": [{\"command\": [\"a\"]}, {\"shell\": "
			  "\"echo b\", \"env\": {\"X\": \"y\"}}], "
			  "\"concurrency\": 1}",
	    0, NULL);
	each_failure("spec_normalize, shards", shown, spec, 0);
	json_decref(spec);
	each_renewal();

	/* Sharded: its input a folder of files to share out. */
	if (mkdtemp(tmp) != NULL &&
	    (doc = load(dir, "bacalhau-sharded.json")) != NULL) {
		json_t *in = json_array_get(
		    json_object_get(json_object_get(doc, "Spec"), "inputs"), 0);
		for (int i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/f%d.txt", tmp, i);
			if ((fp = fopen(path, "w")) != NULL)
				fclose(fp);
		}
		json_object_set_new(in, "SourcePath", json_string(tmp));
		format = IMPORT_BACALHAU;
		each_failure("bacalhau-sharded.json", imported, doc, 0);
		json_decref(doc);
		for (int i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/f%d.txt", tmp, i);
			unlink(path);
		}
		rmdir(tmp);
	}
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		if ((doc = load(dir, docs[i].file)) == NULL) {
			ok(0, "%s reads", docs[i].file);
			continue;
		}
		format = docs[i].f;
		each_failure(docs[i].file, imported, doc, 0);
		json_decref(doc);
	}
	return done_testing();
}
