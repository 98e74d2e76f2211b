/*
 * job-describe: everything about given jobs -- spec (secrets redacted),
 * state, owner, times, dependencies, every task with its result, and the
 * full event history.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	    "  -f, --format FMT       json, ndjson, table or text\n"
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
	char *dump = json_dumps(spec, JSON_COMPACT);
	printf("  spec       %s\n", dump != NULL ? dump : "?");
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
			print_staged(json_object_get(spec, "staged"));
		}
	}
	printf("events\n");
	json_array_foreach(json_object_get(job, "events"), i, v)
	    printf("  %s  %-16s %-10s %s\n", when(v, "time", t), str(v, "type"),
		str(v, "state"), str(v, "message"));
}

static int
describe_one(const char *ref, void *arg)
{
	struct describe *d = arg;
	char id[ID_LEN + 1];
	json_t *job;

	if (store_job_resolve(d->st, ref, id) == -1 ||
	    (job = store_job_describe(d->st, id)) == NULL) {
		warnx("%s", error_msg());
		if (d->status == 0)
			d->status = error_status();
		return 0;
	}
	spec_redact(json_object_get(job, "spec"));
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
