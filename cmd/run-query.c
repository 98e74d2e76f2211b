/*
 * run-query: find and count jobs, tasks and runs by state, user, queue,
 * label, name, ID and time window.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "parse.h"
#include "store.h"

#define MAX_LIST 64

enum opt {
	O_SINCE = 256,
	O_UNTIL,
	O_DEPENDENCY_OF,
	O_DEPENDENT_OF,
	O_SUMMARY,
	O_RUN,
	O_ALIVE,
	O_LOST,
	O_WITH_RUN,
	O_IDENT,
	O_CMD,
	O_ALL_USERS
};

static const struct option longopts[] = {
    {"state", required_argument, NULL, 's'},
    {"user", required_argument, NULL, 'u'},
    {"queue", required_argument, NULL, 'Q'},
    {"label", required_argument, NULL, 'l'},
    {"name", required_argument, NULL, 'n'},
    {"id", required_argument, NULL, 'i'}, {"job", required_argument, NULL, 'j'},
    {"since", required_argument, NULL, O_SINCE},
    {"until", required_argument, NULL, O_UNTIL},
    {"time", required_argument, NULL, 't'},
    {"dependency-of", required_argument, NULL, O_DEPENDENCY_OF},
    {"dependent-of", required_argument, NULL, O_DEPENDENT_OF},
    {"limit", required_argument, NULL, 'L'},
    {"sort", required_argument, NULL, 'o'}, {"reverse", no_argument, NULL, 'r'},
    {"count", no_argument, NULL, 'c'},
    {"summary", no_argument, NULL, O_SUMMARY},
    {"run", required_argument, NULL, O_RUN},
    {"alive", no_argument, NULL, O_ALIVE}, {"lost", no_argument, NULL, O_LOST},
    {"with-run", no_argument, NULL, O_WITH_RUN},
    {"ident", required_argument, NULL, O_IDENT},
    {"cmd", required_argument, NULL, O_CMD},
    {"all-users", no_argument, NULL, O_ALL_USERS},
    {"quiet", no_argument, NULL, 'q'}, CLI_LONG, {NULL, 0, NULL, 0}};

static const struct emit_col job_cols[] = {{"id", "ID", 8, EMIT_SHORTID},
    {"state", "STATE", 9, 0}, {"owner", "OWNER", 8, 0},
    {"queue", "QUEUE", 10, 0}, {"priority", "PRIO", 4, EMIT_RIGHT},
    {"created", "CREATED", 19, EMIT_TIME}, {"name", "NAME", 16, 0},
    {"reason", "REASON", 0, 0}, {NULL, NULL, 0, 0}};
static const struct emit_col task_cols[] = {{"id", "TASK", 8, EMIT_SHORTID},
    {"job", "JOB", 8, EMIT_SHORTID}, {"attempt", "TRY", 3, EMIT_RIGHT},
    {"state", "STATE", 9, 0}, {"host", "HOST", 12, 0},
    {"started", "STARTED", 19, EMIT_TIME}, {"exit_code", "EXIT", 4, EMIT_RIGHT},
    {"name", "NAME", 0, 0}, {NULL, NULL, 0, 0}};
/* What is alive, as reflow ps shows it. */
static const struct emit_col ps_cols[] = {{"id", "TASK", 10, 0},
    {"ident", "IDENT", 16, 0}, {"started", "START", 19, EMIT_TIME},
    {"elapsed", "ELAPSED", 9, EMIT_RIGHT}, {"state", "STATE", 8, 0},
    {"mem", "MEM", 8, EMIT_RIGHT}, {"cpu", "CPU", 5, EMIT_RIGHT},
    {"command", "COMMAND", 0, 0}, {NULL, NULL, 0, 0}};
static const struct emit_col run_cols[] = {{"id", "RUN", 8, EMIT_SHORTID},
    {"kind", "KIND", 14, 0}, {"state", "STATE", 7, 0}, {"owner", "OWNER", 8, 0},
    {"host", "HOST", 12, 0}, {"pid", "PID", 7, EMIT_RIGHT},
    {"started", "STARTED", 19, EMIT_TIME}, {"tasks", "TASKS", 0, 0},
    {NULL, NULL, 0, 0}};
static const struct emit_col queue_cols[] = {{"queue", "QUEUE", 12, 0},
    {"jobs", "JOBS", 7, EMIT_RIGHT}, {"waiting", "WAIT", 6, EMIT_RIGHT},
    {"queued", "QUEUED", 6, EMIT_RIGHT}, {"held", "HELD", 6, EMIT_RIGHT},
    {"running", "RUN", 6, EMIT_RIGHT}, {"succeeded", "OK", 7, EMIT_RIGHT},
    {"failed", "FAILED", 6, EMIT_RIGHT}, {"cancelled", "CANCEL", 0, 0},
    {NULL, NULL, 0, 0}};

static const struct {
	const char *name;
	enum store_noun noun;
	const struct emit_col *cols;
	const char *const states[9];
} nouns[] = {
    {"jobs", STORE_JOBS, job_cols,
	{"waiting", "queued", "held", "running", "succeeded", "failed",
	    "cancelled", NULL}},
    {"tasks", STORE_TASKS, task_cols,
	{"running", "succeeded", "failed", "timed_out", "cancelled", "lost",
	    NULL}},
    {"runs", STORE_RUNS, run_cols, {"running", "ended", "lost", NULL}},
    {"queues", STORE_QUEUES, queue_cols,
	{"waiting", "queued", "held", "running", "succeeded", "failed",
	    "cancelled", NULL}},
};

struct query {
	struct cli cli;
	struct store_query q;
	const char *states[MAX_LIST + 1], *labels[MAX_LIST + 1];
	char ids[3][ID_LEN + 1];
	const char *refs[3]; /* --job, --dependency-of, --dependent-of */
	int count, summary, quiet, ns, nl, which, all_users, ps;
	const char *cmd; /* --cmd, as given */
	char digest[72];
	struct emit *out;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: run-query [options] [jobs|tasks|runs|queues]\n"
	    "  -s, --state S[,S...]   -u, --user USER       -Q, --queue Q\n"
	    "  -l, --label K[=V]      -n, --name GLOB       -i, --id PREFIX\n"
	    "  -j, --job ID           --since TIME          --until TIME\n"
	    "  -t, --time created|started|ended|keepalive|updated\n"
	    "  --dependency-of ID     --dependent-of ID     -L, --limit N\n"
	    "  -o, --sort FIELD       -r, --reverse         -c, --count\n"
	    "  --summary              -q, --quiet (IDs only)\n"
	    "  --run ID               --alive               --lost\n"
	    "  --with-run             --ident NAME          --cmd DIGEST\n"
	    "  --all-users\n"
	    "  -f, --format json|ndjson|table|text          -d, --db PATH\n"
	    "  -h, --help             -V, --version\n");
}

static void
add_states(struct query *qq, char *arg)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (qq->ns == MAX_LIST)
			errx(EX_USAGE, "too many states");
		qq->states[qq->ns++] = tok;
	}
}

static int64_t
time_arg(const char *opt, const char *arg)
{
	int64_t ms;

	if (parse_time(arg, parse_now_ms(), -1, &ms) == -1)
		errx(EX_USAGE, "%s: %s", opt, error_msg());
	return ms;
}

static void
parse_options(struct query *qq, int argc, char **argv)
{
	struct store_query *q = &qq->q;
	int c, r;

	q->since = INT64_MIN;
	q->until = INT64_MAX;
	while ((c = getopt_long(argc, argv, "s:u:Q:l:n:i:j:t:L:o:rcq" CLI_SHORT,
		    longopts, NULL)) != -1) {
		if ((r = cli_option(&qq->cli, c, optarg)) == -1)
			errx(EX_USAGE, "%s", error_msg());
		if (r == 1)
			continue;
		switch (c) {
		case 's':
			add_states(qq, optarg);
			break;
		case 'u':
			q->user = optarg;
			break;
		case 'Q':
			q->queue = optarg;
			break;
		case 'l':
			if (qq->nl == MAX_LIST)
				errx(EX_USAGE, "too many labels");
			qq->labels[qq->nl++] = optarg;
			break;
		case 'n':
			q->name = optarg;
			break;
		case 'i':
			q->id = optarg;
			break;
		case 'j':
			qq->refs[0] = optarg;
			break;
		case O_SINCE:
			q->since = time_arg("--since", optarg);
			break;
		case O_UNTIL:
			q->until = time_arg("--until", optarg);
			break;
		case 't':
			q->time = optarg;
			break;
		case O_DEPENDENCY_OF:
			qq->refs[1] = optarg;
			break;
		case O_DEPENDENT_OF:
			qq->refs[2] = optarg;
			break;
		case 'L':
			if (parse_int(optarg, 1, INT64_MAX, &q->limit) == -1)
				errx(EX_USAGE, "--limit: %s", error_msg());
			break;
		case 'o':
			q->sort = optarg;
			break;
		case 'r':
			q->reverse = 1;
			break;
		case 'c':
			qq->count = 1;
			break;
		case O_SUMMARY:
			qq->summary = 1;
			break;
		case 'q':
			qq->quiet = 1;
			break;
		case O_RUN:
			q->run = optarg;
			break;
		case O_ALIVE:
			q->alive = 1;
			break;
		case O_LOST:
			q->lost = 1;
			break;
		case O_WITH_RUN:
			q->with_run = 1;
			break;
		case O_IDENT:
			q->ident = optarg;
			break;
		case O_CMD:
			qq->cmd = optarg;
			break;
		case O_ALL_USERS:
			qq->all_users = 1;
			break;
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
}

/* The noun operand, and states that belong to it. */
static void
check_query(struct query *qq, int argc, char **argv)
{
	const char *noun = optind < argc ? argv[optind++] : "jobs";
	size_t i, n = sizeof(nouns) / sizeof(nouns[0]);
	int j, k;

	if (optind < argc)
		errx(EX_USAGE, "unexpected argument '%s'", argv[optind]);
	for (i = 0; i < n && strcmp(nouns[i].name, noun) != 0; i++)
		;
	if (i == n)
		errx(EX_USAGE,
		    "unknown kind '%s' (jobs, tasks, runs or "
		    "queues)",
		    noun);
	qq->which = (int)i;
	qq->q.noun = nouns[i].noun;
	for (j = 0; j < qq->ns; j++) {
		for (k = 0; nouns[i].states[k] != NULL; k++)
			if (strcmp(nouns[i].states[k], qq->states[j]) == 0)
				break;
		if (nouns[i].states[k] == NULL)
			errx(EX_USAGE, "unknown state '%s' for %s",
			    qq->states[j], noun);
	}
	qq->q.states = qq->ns ? qq->states : NULL;
	qq->q.labels = qq->nl ? qq->labels : NULL;
	if (qq->count && qq->summary)
		errx(EX_USAGE, "give --count or --summary, not both");
	if (qq->all_users && qq->q.user != NULL)
		errx(EX_USAGE, "give --user or --all-users, not both");
	if (qq->q.alive && qq->q.lost)
		errx(EX_USAGE, "give --alive or --lost, not both");
	qq->q.cmd = qq->cmd; /* resolved once the store is open */
	if (store_query_check(&qq->q) == -1)
		errx(EX_USAGE, "%s", error_msg());
}

/* Resolve --job, --dependency-of and --dependent-of to full IDs, and
 * --cmd to a digest; runs and tasks are the caller's unless told. */
static void
resolve_refs(struct query *qq, struct store *st)
{
	if (qq->cmd != NULL) {
		if (store_cmd_resolve(st, qq->cmd, qq->digest) == -1)
			errx(error_status(), "%s", error_msg());
		qq->q.cmd = qq->digest;
	}
	if ((qq->q.noun == STORE_TASKS || qq->q.noun == STORE_RUNS) &&
	    qq->q.user == NULL && !qq->all_users)
		qq->q.user = store_caller(st);
	const char **dst[3] = {
	    &qq->q.job, &qq->q.dependency_of, &qq->q.dependent_of};

	for (int i = 0; i < 3; i++) {
		if (qq->refs[i] == NULL)
			continue;
		if (store_job_resolve(st, qq->refs[i], qq->ids[i]) == -1)
			errx(error_status(), "%s", error_msg());
		*dst[i] = qq->ids[i];
	}
}

/* A duration in seconds as ps shows it: 59s, 12m03s, 3h05m, 2d04h. */
static void
fmt_elapsed(int64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)s / 60,
		    (long long)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", (long long)s / 3600,
		    (long long)s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)s / 86400,
		    (long long)s % 86400 / 3600);
}

/* The cells of the ps view: elapsed time, memory and CPU (what the task
 * used once it ended, else what its job asked for). */
static void
ps_cells(json_t *row)
{
	const char *st = json_string_value(json_object_get(row, "started"));
	const char *en = json_string_value(json_object_get(row, "ended"));
	json_t *use = json_object_get(row, "usage");
	int64_t a, b = parse_now_ms(), mem;
	char buf[32];

	if (st != NULL && parse_time(st, 0, 0, &a) == 0 &&
	    (en == NULL || parse_time(en, 0, 0, &b) == 0)) {
		fmt_elapsed((b - a) / 1000, buf, sizeof(buf));
		json_object_set_new(row, "elapsed", json_string(buf));
	}
	mem = use != NULL ? json_integer_value(json_object_get(use, "max_rss"))
			  : json_integer_value(json_object_get(row, "memory"));
	if (mem > 0)
		json_object_set_new(row, "mem",
		    json_string(parse_fmt_size((uint64_t)mem, buf)));
	if (use != NULL)
		snprintf(buf, sizeof(buf), "%.1fs",
		    json_number_value(json_object_get(use, "user_cpu")) +
			json_number_value(json_object_get(use, "system_cpu")));
	else
		snprintf(buf, sizeof(buf), "%g",
		    (double)json_integer_value(
			json_object_get(row, "cpu_milli")) /
			1000);
	if (use != NULL ||
	    json_integer_value(json_object_get(row, "cpu_milli")) > 0)
		json_object_set_new(row, "cpu", json_string(buf));
}

static int
print_row(json_t *row, void *arg)
{
	struct query *qq = arg;

	if (qq->ps)
		ps_cells(row);
	json_t *id =
	    json_object_get(row, qq->q.noun == STORE_QUEUES ? "queue" : "id");

	if (qq->quiet) {
		printf("%s\n", json_string_value(id));
		return 0;
	}
	return emit_row(qq->out, row);
}

static int
run(struct query *qq, struct store *st)
{
	json_t *v;
	int64_t n;

	if (qq->count) {
		if (store_count(st, &qq->q, &n) == -1)
			return -1;
		printf("%lld\n", (long long)n);
		return 0;
	}
	if (qq->summary) {
		if ((v = store_summary(st, &qq->q)) == NULL)
			return -1;
		/* A summary nests: as a table it is shown as text. */
		if (qq->cli.format == EMIT_TABLE)
			qq->cli.format = EMIT_TEXT;
		qq->out = emit_open(stdout, qq->cli.format, EMIT_TEXT, NULL);
		if (qq->out == NULL || emit_row(qq->out, v) == -1) {
			json_decref(v);
			return -1;
		}
		json_decref(v);
		return emit_close(qq->out);
	}
	/* On a terminal, what is alive reads like reflow ps. */
	qq->ps = qq->q.noun == STORE_TASKS && qq->q.alive;
	qq->out = emit_open(stdout, qq->cli.format, EMIT_TABLE,
	    qq->ps ? ps_cols : nouns[qq->which].cols);
	if (qq->out != NULL && emit_format(qq->out) != EMIT_TABLE)
		qq->ps = 0;
	if (qq->out == NULL || store_query(st, &qq->q, print_row, qq) == -1)
		return -1;
	return emit_close(qq->out);
}

int
main(int argc, char **argv)
{
	struct query qq = {0};
	struct store *st;

	/* getopt(3)'s messages name the tool, not the path it ran by. */
	argv[0] = program_invocation_short_name;
	cli_guard_fds();
	parse_options(&qq, argc, argv);
	if (qq.cli.help) {
		usage(stdout);
		return 0;
	}
	if (qq.cli.version) {
		printf("run-query (jobkit) %s\n", JOBKIT_VERSION);
		return 0;
	}
	check_query(&qq, argc, argv);
	if ((st = cli_store(&qq.cli, 0)) == NULL)
		errx(error_status(), "%s", error_msg());
	resolve_refs(&qq, st);
	if (run(&qq, st) == -1)
		errx(error_status(), "%s", error_msg());
	store_close(st);
	return 0;
}
