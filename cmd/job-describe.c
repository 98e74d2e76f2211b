/*
 * job-describe: everything about given jobs -- spec (secrets redacted),
 * state, owner, times, dependencies, every task with its result, and the
 * full event history.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
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
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: job-describe [-s] [-f format] [-d db] [id ...]\n"
	    "       ... | job-describe [-s] [-f format] [-d db]\n"
	    "  -s, --spec             print only the job's spec\n"
	    "  -f, --format FMT       json, ndjson, table or text\n"
	    "  -d, --db PATH          the task database\n"
	    "  -h, --help             -V, --version\n");
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
	if (emit_row(d->out,
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
	if ((d.st = cli_store(&d.cli)) == NULL ||
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
