/*
 * job-describe: everything about given jobs -- spec (secrets redacted),
 * state, owner, times, dependencies, every task with its result, and the
 * full event history -- as jobkit shows them, or in Bacalhau's V1beta1
 * shape (-f bacalhau).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "parse.h"
#include "spec.h"
#include "store.h"

static const struct option longopts[] = {
    {"spec", no_argument, NULL, 's'}, CLI_LONG, {NULL, 0, NULL, 0}};

struct describe {
	struct cli cli;
	int spec_only;
	int bacalhau; /* -f bacalhau */
	struct store *st;
	struct emit *out;
	int status;
	int shown;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: job-describe [-s] [-f format] [-d db] id ...\n"
	    "       job-describe [-s] [-f format] [-d db] < ids\n"
	    "  -s, --spec             print only the job's spec\n"
	    "  -f, --format FMT       json, ndjson, table, text or bacalhau\n"
	    "  -d, --db PATH          the task database\n"
	    "  -h, --help             -V, --version\n");
}

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static const char *
when(json_t *o, const char *key, char *buf)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? emit_localtime(s, buf, 32) : "-";
}

/* The command as a shell would show it. */
static void
print_command(json_t *spec)
{
	json_t *cmd = json_object_get(spec, "command"), *a;
	size_t i;

	if (cmd == NULL) {
		/* A script's further lines stay in the value's column. */
		const char *p = str(spec, "shell"), *nl;
		printf("  shell      ");
		for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
			printf("%.*s\n             ", (int)(nl - p), p);
		printf("%s\n", p);
		return;
	}
	printf("  command   ");
	json_array_foreach(cmd, i, a)
	{
		const char *s = json_string_value(a);
		if (*s != '\0' &&
		    strpbrk(s, " \t\n'\"\\$`*?[]{}()<>|&;#~") == NULL)
			printf(" %s", s);
		else {
			printf(" '");
			for (; *s != '\0'; s++)
				printf(*s == '\'' ? "'\\''" : "%c", *s);
			printf("'");
		}
	}
	printf("\n");
}

/* What was staged around a task: each object fetched, each uploaded. */
static void
print_staged(json_t *staged)
{
	static const char *parts[][2] = {{"inputs", "in "}, {"uploads", "out"}};
	char size[32];
	json_t *o;
	size_t i;

	for (int k = 0; k < 2; k++)
		json_array_foreach(json_object_get(staged, parts[k][0]), i, o)
		{
			printf("      %s %s", parts[k][1], str(o, "url"));
			if (json_object_get(o, "path") != NULL)
				printf(" -> %s", str(o, "path"));
			printf("  %s  sha256 %.12s%s%s\n",
			    parse_fmt_size((uint64_t)json_integer_value(
					       json_object_get(o, "size")),
				size),
			    str(o, "sha256"),
			    json_is_true(json_object_get(o, "cached"))
				? "  cached"
				: "",
			    json_is_true(json_object_get(o, "mutable"))
				? "  (changed, sent back)"
				: "");
		}
}

/* A readable page for a terminal: the JSON formats carry everything. */
static void
print_text(json_t *job)
{
	char t[32];
	json_t *v, *spec = json_object_get(job, "spec");
	const char *k;
	size_t i;
	/* Made first: no half a page when it cannot be. */
	char *dump = json_dumps(spec, JSON_COMPACT);

	if (dump == NULL)
		errx(EX_OSERR, "out of memory");
	printf("job %s  %s\n", str(job, "id"), str(job, "name"));
	printf("  state      %s (%s)\n", str(job, "state"), str(job, "reason"));
	if (json_is_true(json_object_get(job, "cancel_requested")))
		printf("  cancel     requested\n");
	printf("  owner      %s\n", str(job, "owner"));
	printf("  queue      %s, priority %lld\n", str(job, "queue"),
	    (long long)json_integer_value(json_object_get(job, "priority")));
	printf("  attempts   %lld of %lld\n",
	    (long long)json_integer_value(json_object_get(job, "attempts")),
	    (long long)json_integer_value(
		json_object_get(job, "max_attempts")));
	printf("  created    %s\n", when(job, "created", t));
	if (json_object_get(job, "not_before") != NULL)
		printf("  not before %s\n", when(job, "not_before", t));
	if (json_object_get(job, "started") != NULL)
		printf("  started    %s\n", when(job, "started", t));
	if (json_object_get(job, "ended") != NULL)
		printf("  ended      %s\n", when(job, "ended", t));
	if (json_object_get(job, "key") != NULL)
		printf("  key        %s\n", str(job, "key"));
	json_object_foreach(json_object_get(job, "labels"), k, v)
	    printf("  label      %s=%s\n", k, json_string_value(v));
	print_command(spec);
	printf("  spec       %s\n", dump);
	free(dump);
	if (json_array_size(v = json_object_get(job, "dependencies")) > 0) {
		printf("dependencies\n");
		json_array_foreach(v, i, spec) printf("  %-10s %-8s %s\n",
		    str(spec, "id"), str(spec, "kind"), str(spec, "state"));
	}
	if (json_array_size(v = json_object_get(job, "dependents")) > 0) {
		printf("dependents\n");
		json_array_foreach(v, i, spec) printf("  %-10s %-8s %s\n",
		    str(spec, "id"), str(spec, "kind"), str(spec, "state"));
	}
	if (json_array_size(v = json_object_get(job, "tasks")) > 0) {
		printf("tasks\n");
		json_array_foreach(v, i, spec)
		{
			printf("  %-12s %-10s %s  host %s", str(spec, "id"),
			    str(spec, "state"), when(spec, "started", t),
			    str(spec, "host"));
			if (json_object_get(spec, "exit_code") != NULL)
				printf("  exit %lld",
				    (long long)json_integer_value(
					json_object_get(spec, "exit_code")));
			if (json_object_get(spec, "signal") != NULL)
				printf("  signal %lld",
				    (long long)json_integer_value(
					json_object_get(spec, "signal")));
			if (json_object_get(spec, "error") != NULL)
				printf("  error: %s", str(spec, "error"));
			printf("\n");
			/* What it ran (Reflow's Ident and ImgCmdID): run-query
			 * tasks --cmd finds every run of the same. */
			if (json_object_get(spec, "cmd") != NULL)
				printf("    ident %s  run %s  cmd %s\n",
				    str(spec, "ident"), str(spec, "run"),
				    str(spec, "cmd"));
			print_staged(json_object_get(spec, "staged"));
		}
	}
	printf("events\n");
	json_array_foreach(json_object_get(job, "events"), i, v)
	    printf("  %s  %-16s %-10s %s\n", when(v, "time", t), str(v, "type"),
		str(v, "state"), str(v, "message"));
}

/* Bacalhau's V1beta1 shape ---------------------------------------------- */

static const char *
bac_map(const char *const (*map)[2], const char *s, const char *other)
{
	for (; s != NULL && (*map)[0] != NULL; map++)
		if (strcmp(s, (*map)[0]) == 0)
			return (*map)[1];
	return other;
}

/* A task's state as a Bacalhau shard state on its node. */
static const char *
bac_state(const char *s)
{
	static const char *const map[][2] = {{"running", "Running"},
	    {"succeeded", "Completed"}, {"cancelled", "Cancelled"},
	    {NULL, NULL}};

	return bac_map(map, s, "Error");
}

/* A jobkit event as the nearest of Bacalhau's JobEventType names. */
static const char *
bac_event(const char *type)
{
	static const char *const map[][2] = {{"submitted", "Created"},
	    {"started", "Running"}, {"succeeded", "ResultsPublished"},
	    {"failed", "ComputeError"}, {"timed_out", "ComputeError"},
	    {"lost", "ComputeError"}, {"refused", "ComputeError"},
	    {"cancelled", "Error"}, {NULL, NULL}};

	return bac_map(map, type, "DealUpdated");
}

/* o[k] = v when v is a string not empty: 0, or -1 (out of memory; o may
 * be NULL, what a builder gave). */
static int
bac_set_str(json_t *o, const char *k, json_t *v)
{
	if (json_is_string(v) && json_string_length(v) > 0)
		return json_object_set(o, k, v);
	return o != NULL ? 0 : -1;
}

/* The elements of a (when there is one) appended to arr: 0, or -1. */
static int
bac_extend(json_t *arr, json_t *a)
{
	return a != NULL ? json_array_extend(arr, a) : 0;
}

/* A member's string, "" when absent. */
static const char *
bac_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/*
 * The builders of Bacalhau's shape return NULL (or -1) when out of
 * memory, and print_bacalhau() says so: each goes on past a failure with
 * calls that take NULL, and checks once, freeing what it made.
 */

/* Docker: the container, its whole argv as the Entrypoint (V1beta1 has
 * no Parameters), the environment as NAME=value. */
static json_t *
bac_docker(json_t *spec)
{
	json_t *c = json_object_get(spec, "container"), *d = json_object();
	json_t *argv = json_array(), *env = json_array(), *v;
	json_t *sh = json_object_get(spec, "shell");
	const char *k;
	int bad = argv == NULL || env == NULL;

	bad |= bac_extend(argv, json_object_get(c, "entrypoint")) == -1 ||
	    bac_extend(argv, json_object_get(spec, "command")) == -1;
	if (sh != NULL)
		bad |= json_array_append_new(argv, json_string("sh")) == -1 ||
		    json_array_append_new(argv, json_string("-c")) == -1 ||
		    json_array_append(argv, sh) == -1;
	json_object_foreach(json_object_get(spec, "env"), k, v) bad |=
	    json_array_append_new(
		env, json_sprintf("%s=%s", k, json_string_value(v))) == -1;
	v = json_object_get(c, "workdir");
	if (bad || bac_set_str(d, "Image", json_object_get(c, "image")) == -1 ||
	    json_object_set(d, "Entrypoint", argv) == -1 ||
	    json_object_set(d, "EnvironmentVariables", env) == -1 ||
	    bac_set_str(d, "WorkingDirectory",
		v != NULL ? v : json_object_get(spec, "workdir")) == -1) {
		json_decref(d);
		d = NULL;
	}
	json_decref(argv);
	json_decref(env);
	return d;
}

static json_t *
bac_resources(json_t *res)
{
	static const char *const keys[][2] = {{"cpu", "CPU"},
	    {"memory", "Memory"}, {"disk", "Disk"}, {"gpu", "GPU"}};
	json_t *r = json_object(), *v;

	for (int i = 0; r != NULL && i < 4; i++)
		if ((v = json_object_get(res, keys[i][0])) != NULL &&
		    spec_set(r, keys[i][1],
			json_is_integer(v)
			    ? json_sprintf(
				  "%lld", (long long)json_integer_value(v))
			    : json_sprintf("%g", json_number_value(v))) == -1) {
			json_decref(r);
			r = NULL;
		}
	return r;
}

/* The target a relative path is bound at, else the path made absolute. */
static json_t *
bac_target(json_t *spec, const char *path)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(spec, "binds"), i, b)
	{
		if (strcmp(str(b, "source"), path) == 0)
			return json_incref(json_object_get(b, "target"));
	}
	return json_sprintf("/%s", path);
}

/* Where Bacalhau mounts an input: the folder of a file named as its URL
 * ends (its path, as a Bacalhau job gives it), else the target itself. */
static json_t *
bac_mount(json_t *target, const char *url)
{
	const char *t = json_string_value(target), *base;
	size_t n = strcspn(url, "?#");

	if (t == NULL)
		return target; /* NULL: out of memory */
	base = strrchr(t, '/');
	if (base != NULL && base != t && n > strlen(base) &&
	    strncmp(url + n - strlen(base), base, strlen(base)) == 0) {
		json_t *dir = json_stringn(t, (size_t)(base - t));
		json_decref(target);
		return dir;
	}
	return target;
}

/* An input artifact as a StorageSpec: s3 URLs as S3, others as a URL. */
static json_t *
bac_input(json_t *spec, json_t *a)
{
	const char *url = str(a, "url"), *key;
	json_t *s = json_object(), *s3;
	int bad = bac_set_str(s, "Name", json_object_get(a, "name")) == -1;

	if (strncmp(url, "s3://", 5) == 0) {
		key = url + 5 + strcspn(url + 5, "/");
		bad |= spec_set(s, "StorageSource", json_string("S3")) == -1;
		s3 = json_pack(
		    "{s:s%}", "Bucket", url + 5, (size_t)(key - url - 5));
		if (*key == '/' && key[1] != '\0')
			bad |= spec_set(s3, "Key", json_string(key + 1)) == -1;
		bad |= bac_set_str(s3, "Endpoint",
			   json_object_get(a, "endpoint")) == -1 ||
		    bac_set_str(s3, "Region",
			json_object_get(
			    json_object_get(a, "credentials"), "region")) == -1;
		bad |= spec_set(s, "S3", s3) == -1;
	} else
		bad |= spec_set(s, "StorageSource",
			   json_string("URLDownload")) == -1 ||
		    json_object_set(s, "URL", json_object_get(a, "url")) == -1;
	bad |= spec_set(s, "path",
		   bac_mount(bac_target(spec, str(a, "path")), url)) == -1;
	if (bad) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* inputs: the input artifacts, and host folders bound (LocalDirectory);
 * outputs: the output artifacts, and other writable binds. */
static int
bac_volumes(json_t *spec, json_t *bs)
{
	json_t *in = json_array(), *out = json_array(), *v;
	size_t i;
	int bad = 0;

	json_array_foreach(json_object_get(spec, "inputs"), i, v) bad |=
	    spec_append(in, bac_input(spec, v)) == -1;
	json_array_foreach(json_object_get(spec, "outputs"), i, v) bad |=
	    spec_append(out,
		json_pack("{s:s, s:o}", "Name", str(v, "name"), "path",
		    bac_target(spec, str(v, "path")))) == -1;
	json_array_foreach(json_object_get(spec, "binds"), i, v)
	{
		const char *src = str(v, "source");
		if (*src == '/')
			bad |=
			    spec_append(in,
				json_pack("{s:s, s:s, s:O, s:b}",
				    "StorageSource", "LocalDirectory",
				    "SourcePath", src, "path",
				    json_object_get(v, "target"), "ReadWrite",
				    !json_is_true(json_object_get(
					v, "read_only")))) == -1;
		else if (!json_is_true(json_object_get(v, "read_only")))
			bad |=
			    spec_append(out,
				json_pack("{s:s, s:O}", "Name",
				    strrchr(str(v, "target"), '/') + 1, "path",
				    json_object_get(v, "target"))) == -1;
	}
	bad |= spec_set(bs, "inputs", in) == -1;
	bad |= spec_set(bs, "outputs", out) == -1;
	return bad ? -1 : 0;
}

static json_t *
bac_spec(json_t *spec)
{
	json_t *s = json_object(), *v, *sel, *ann, *ns = NULL;
	const char *k;
	size_t i;
	int bad = spec_set(s, "Engine", json_string("Docker")) == -1;

	bad |= spec_set(s, "Docker", bac_docker(spec)) == -1 ||
	    spec_set(s, "Resources",
		bac_resources(json_object_get(spec, "resources"))) == -1;
	if ((v = json_object_get(spec, "network")) != NULL)
		bad |= spec_set(s, "Network",
			   json_pack("{s:s}", "Type",
			       strcmp(json_string_value(v), "full") == 0
				   ? "Full"
				   : "None")) == -1;
	if ((v = json_object_get(spec, "timeout")) != NULL)
		bad |= json_object_set(s, "Timeout", v) == -1;
	bad |= bac_volumes(spec, s) == -1;
	/* Set here, filled after: the order of the keys stays. */
	bad |= json_object_set(s, "Annotations", ann = json_array()) == -1;
	json_object_foreach(json_object_get(spec, "labels"), k, sel) bad |=
	    spec_append(ann,
		*json_string_value(sel)
		    ? json_sprintf("%s=%s", k, json_string_value(sel))
		    : json_string(k)) == -1;
	json_array_foreach(json_object_get(spec, "selector"), i, sel)
	{
		if (ns == NULL)
			bad |= json_object_set(
				   s, "NodeSelectors", ns = json_array()) == -1;
		bad |= spec_append(ns,
			   json_pack("{s:O, s:O, s:O*}", "Key",
			       json_object_get(sel, "key"), "Operator",
			       json_object_get(sel, "operator"), "Values",
			       json_object_get(sel, "values"))) == -1;
	}
	json_decref(ann);
	json_decref(ns);
	if (bad) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* A task as a shard's state on the node (the host) that ran it; an
 * error is the runner's when the command did not exit on its own. */
static json_t *
bac_shard(json_t *t, json_int_t shard)
{
	json_t *s = json_pack("{s:s, s:I, s:s}", "NodeId", str(t, "host"),
	    "ShardIndex", shard, "State", bac_state(str(t, "state")));
	json_t *code = json_object_get(t, "exit_code");
	json_t *sig = json_object_get(t, "signal");

	if (bac_set_str(s, "Status", json_object_get(t, "error")) == -1)
		goto fail;
	if (json_object_get(t, "ended") == NULL)
		return s;
	if (spec_set(s, "RunOutput",
		json_pack("{s:s, s:b, s:s, s:b, s:I, s:s}", "stdout",
		    bac_str(t, "stdout"), "stdouttruncated",
		    json_is_true(json_object_get(t, "stdout_truncated")),
		    "stderr", bac_str(t, "stderr"), "stderrtruncated",
		    json_is_true(json_object_get(t, "stderr_truncated")),
		    "exitCode",
		    strcmp(str(t, "state"), "timed_out") == 0 ? (json_int_t)124
			: code != NULL ? json_integer_value(code)
			: sig != NULL  ? 128 + json_integer_value(sig)
				       : (json_int_t)-1,
		    "runnerError", code != NULL ? "" : bac_str(t, "error"))) ==
	    -1)
		goto fail;
	return s;
fail:
	json_decref(s);
	return NULL;
}

/* JobState.Nodes: one RunCommandResult per task, under its host (a host
 * that ran several attempts has them as host#attempt), added to nodes:
 * 0, or -1. */
static int
bac_nodes(json_t *nodes, json_t *job, json_int_t shard)
{
	json_t *t, *shards;
	char key[300], idx[24];
	size_t i;

	snprintf(idx, sizeof(idx), "%lld", (long long)shard);
	json_array_foreach(json_object_get(job, "tasks"), i, t)
	{
		snprintf(key, sizeof(key), "%s", str(t, "host"));
		shards = json_object_get(json_object_get(nodes, key), "Shards");
		if (shards != NULL && json_object_get(shards, idx) != NULL)
			snprintf(key, sizeof(key), "%s#%lld", str(t, "host"),
			    (long long)json_integer_value(
				json_object_get(t, "attempt")));
		if ((shards = json_object_get(
			 json_object_get(nodes, key), "Shards")) == NULL) {
			if (spec_set(nodes, key,
				json_pack("{s:{}}", "Shards")) == -1)
				return -1;
			shards = json_object_get(
			    json_object_get(nodes, key), "Shards");
		}
		if (spec_set(shards, idx, bac_shard(t, shard)) == -1)
			return -1;
	}
	return 0;
}

/*
 * A job of shards is one Bacalhau job: its shards' tasks are its nodes'
 * shards, and the Spec is its first shard's.  *spec is set to the spec
 * to show; returns how many shards (0: not a job of shards), or -1 when
 * out of memory.
 */
static json_int_t
bac_shards(struct store *st, json_t *job, json_t *nodes, json_t **spec)
{
	json_t *d, *sj;
	json_int_t n = 0;
	size_t i;

	json_array_foreach(json_object_get(job, "dependencies"), i, d)
	{
		if (strcmp(str(d, "kind"), "shard") != 0 ||
		    (sj = store_job_describe(st, str(d, "id"))) == NULL)
			continue;
		if (spec_redact(json_object_get(sj, "spec")) == -1 ||
		    bac_nodes(nodes, sj, n) == -1) {
			json_decref(sj);
			return -1;
		}
		if (n++ == 0)
			*spec = json_incref(json_object_get(sj, "spec"));
		json_decref(sj);
	}
	return n;
}

static json_t *
bac_events(json_t *job, json_int_t shard)
{
	json_t *evs = json_array(), *e, *ev, *t;
	size_t i, j;

	json_array_foreach(json_object_get(job, "events"), i, e)
	{
		int bad = 0;
		ev = json_pack("{s:s, s:O, s:s, s:O, s:O}", "APIVersion",
		    "V1beta1", "JobID", json_object_get(job, "id"), "EventName",
		    bac_event(str(e, "type")), "Status",
		    json_object_get(e, "message"), "EventTime",
		    json_object_get(e, "time"));
		if (shard > 0)
			bad |= spec_set(
				   ev, "ShardIndex", json_integer(shard)) == -1;
		json_array_foreach(json_object_get(job, "tasks"), j, t)
		{
			if (json_equal(json_object_get(t, "id"),
				json_object_get(e, "task")))
				bad |= bac_set_str(ev, "SourceNodeID",
					   json_object_get(t, "host")) == -1;
		}
		if (bad) {
			json_decref(ev);
			ev = NULL;
		}
		if (spec_append(evs, ev) == -1) {
			json_decref(evs);
			return NULL;
		}
	}
	return evs;
}

/* The job as `bacalhau describe` prints one: indented 4 spaces on a
 * terminal (Bacalhau's JSONIndentSpaceNumber), else one a line. */
static void
print_bacalhau(struct store *st, json_t *job, int spec_only)
{
	json_t *spec = json_object_get(job, "spec"), *out, *shown = NULL;
	json_t *shard =
	    json_object_get(json_object_get(job, "labels"), "shard");
	json_int_t n =
	    shard != NULL ? strtoll(json_string_value(shard), NULL, 10) : 0;
	json_t *c = json_object_get(spec, "concurrency"),
	       *nodes = json_object();
	json_int_t shards = bac_shards(st, job, nodes, &shown);

	/* Without shards, a Concurrency the document gave is foreign,
	 * under the path it had there. */
	if (c == NULL) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(spec, "foreign"), k, v)
		{
			size_t l = strlen(k);
			if (l >= 16 &&
			    strcasecmp(k + l - 16, "Deal.Concurrency") == 0)
				c = v;
		}
	}
	if (shards == -1 || (shards == 0 && bac_nodes(nodes, job, n) == -1))
		errx(EX_OSERR, "out of memory");
	spec = shown != NULL ? shown : spec;
	out = spec_only
	    ? bac_spec(spec)
	    : json_pack("{s:{s:s, s:O, s:O, s:o, s:{s:I}, s:{s:I}, s:{s:o}, "
			"s:o}}",
		  "Job", "APIVersion", "V1beta1", "ID",
		  json_object_get(job, "id"), "CreatedAt",
		  json_object_get(job, "created"), "Spec", bac_spec(spec),
		  "Deal", "Concurrency",
		  json_is_integer(c) ? json_integer_value(c) : (json_int_t)1,
		  "ExecutionPlan", "ShardsTotal",
		  shards ? shards : (json_int_t)1, "JobState", "Nodes", nodes,
		  "JobEvents", bac_events(job, n));
	json_decref(shown);
	if (spec_only)
		json_decref(nodes);
	if (out == NULL)
		errx(EX_OSERR, "out of memory");
	if (json_dumpf(out, stdout,
		isatty(STDOUT_FILENO) ? JSON_INDENT(4) : JSON_COMPACT) == -1)
		errx(EX_IOERR, "cannot write the job");
	putchar('\n');
	json_decref(out);
}

/* Describe the job ref names (NULL: a bad line of stdin, the error set). */
static int
describe_one(const char *ref, void *arg)
{
	struct describe *d = arg;
	char id[ID_LEN + 1];
	json_t *job;

	if (ref == NULL || store_job_resolve(d->st, ref, id) == -1 ||
	    (job = store_job_describe(d->st, id)) == NULL) {
		warnx("%s", error_msg());
		if (d->status == 0)
			d->status = error_status();
		return 0;
	}
	/* A spec not redacted is not shown. */
	if (spec_redact(json_object_get(job, "spec")) == -1)
		errx(error_status(), "%s", error_msg());
	if (d->bacalhau) {
		print_bacalhau(d->st, job, d->spec_only);
		json_decref(job);
		return 0;
	}
	if (!d->spec_only && emit_format(d->out) == EMIT_TEXT) {
		if (d->shown++ > 0)
			printf("\n");
		print_text(job);
	} else if (emit_row(d->out,
		       d->spec_only ? json_object_get(job, "spec") : job) == -1)
		errx(error_status(), "%s", error_msg());
	json_decref(job);
	return 0;
}

int
main(int argc, char **argv)
{
	struct describe d = {0};
	int c, r;

	/* getopt(3)'s messages name the tool, not the path it ran by. */
	argv[0] = program_invocation_short_name;
	cli_guard_fds();
	while ((c = getopt_long(argc, argv, "s" CLI_SHORT, longopts, NULL)) !=
	    -1) {
		if (c == 'f' && strcmp(optarg, "bacalhau") == 0) {
			d.bacalhau = 1;
			continue;
		}
		if ((r = cli_option(&d.cli, c, optarg)) == -1)
			errx(EX_USAGE, "%s", error_msg());
		if (r == 1)
			continue;
		if (c != 's') {
			usage(stderr);
			return EX_USAGE;
		}
		d.spec_only = 1;
	}
	if (d.cli.help) {
		usage(stdout);
		return 0;
	}
	if (d.cli.version) {
		printf("job-describe (jobkit) %s\n", JOBKIT_VERSION);
		return 0;
	}
	if (optind == argc && isatty(STDIN_FILENO))
		errx(EX_USAGE, "no job: give job IDs, or pipe jobs in");
	if (optind == argc)
		cli_await_input(stdin);
	if ((d.st = cli_store(&d.cli, 0)) == NULL ||
	    (d.out = emit_open(stdout, d.cli.format, EMIT_TEXT, NULL)) == NULL)
		errx(error_status(), "%s", error_msg());
	if (optind == argc) {
		if (cli_read_ids(stdin, describe_one, &d) == -1)
			errx(error_status(), "%s", error_msg());
	} else
		for (; optind < argc; optind++)
			describe_one(argv[optind], &d);
	if (emit_close(d.out) == -1)
		errx(error_status(), "%s", error_msg());
	store_close(d.st);
	return d.status;
}
