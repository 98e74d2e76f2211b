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
#include <strings.h>

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

/* The window of jobs when no selection is given: what ended in the last
 * hour besides what is active. */
#define RECENT_MS (3600 * 1000)

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
    {"all", no_argument, NULL, 'a'}, {"quiet", no_argument, NULL, 'q'},
    CLI_LONG, {NULL, 0, NULL, 0}};

/*
 * The columns of each noun, by the names --format takes.  A key that
 * starts with "_" is a cell made for the table (table_cells()).
 */
struct column {
	const char *name;
	struct emit_col c;
};

static const struct column job_cols[] = {
    {"id", {"id", "ID", 8, EMIT_SHORTID, 0}},
    {"state", {"state", "STATE", 9, EMIT_STATE, 0}},
    {"owner", {"owner", "OWNER", 8, 0, 2}},
    {"queue", {"queue", "QUEUE", 10, 0, 3}},
    {"prio", {"priority", "PRIO", 4, EMIT_RIGHT, 4}},
    {"created", {"created", "CREATED", 19, EMIT_TIME, 5}},
    {"started", {"started", "STARTED", 19, EMIT_TIME, 0}},
    {"ended", {"ended", "ENDED", 19, EMIT_TIME, 0}},
    {"time", {"_time", "TIME", 8, EMIT_RIGHT, 0}},
    {"tries", {"attempts", "TRIES", 5, EMIT_RIGHT, 0}},
    {"exit", {"_exit", "EXIT", 6, EMIT_RIGHT, 1}},
    {"labels", {"labels", "LABELS", 16, EMIT_FLEX, 0}},
    {"reason", {"_reason", "REASON", 12, EMIT_FLEX, 0}},
    {"command", {"command", "COMMAND", 24, EMIT_FLEX, 0}},
    {"name", {"_name", "NAME", 24, EMIT_FLEX, 0}}, {NULL, {NULL}}};
static const struct column task_cols[] = {{"id", {"_task", "TASK", 10, 0, 0}},
    {"job", {"job", "JOB", 8, EMIT_SHORTID, 0}},
    {"try", {"attempt", "TRY", 3, EMIT_RIGHT, 0}},
    {"name", {"_name", "NAME", 20, EMIT_FLEX, 0}},
    {"ident", {"ident", "IDENT", 16, EMIT_FLEX, 0}},
    {"state", {"state", "STATE", 9, EMIT_STATE, 0}},
    {"exit", {"_exit", "EXIT", 5, EMIT_RIGHT, 0}},
    {"elapsed", {"elapsed", "ELAPSED", 8, EMIT_RIGHT, 0}},
    {"cputime", {"_cputime", "CPUTIME", 7, EMIT_RIGHT, 2}},
    {"maxrss", {"_maxrss", "MAXRSS", 7, EMIT_RIGHT, 1}},
    {"mem", {"mem", "MEM", 8, EMIT_RIGHT, 0}},
    {"cpu", {"cpu", "CPU", 5, EMIT_RIGHT, 0}},
    {"start", {"started", "START", 19, EMIT_TIME, 3}},
    {"end", {"ended", "END", 19, EMIT_TIME, 0}},
    {"host", {"host", "HOST", 12, 0, 0}},
    {"pid", {"pid", "PID", 7, EMIT_RIGHT, 0}},
    {"queue", {"queue", "QUEUE", 10, 0, 0}},
    {"owner", {"owner", "OWNER", 8, 0, 0}}, {"run", {"run", "RUN", 9, 0, 0}},
    {"error", {"error", "ERROR", 16, EMIT_FLEX, 0}},
    {"command", {"command", "COMMAND", 24, EMIT_FLEX, 0}}, {NULL, {NULL}}};
static const struct column run_cols[] = {
    {"id", {"id", "RUN", 8, EMIT_SHORTID, 0}},
    {"kind", {"kind", "KIND", 14, 0, 0}}, {"mode", {"mode", "MODE", 10, 0, 0}},
    {"state", {"state", "STATE", 7, EMIT_STATE, 0}},
    {"owner", {"owner", "OWNER", 8, 0, 0}},
    {"host", {"host", "HOST", 12, 0, 0}},
    {"pid", {"pid", "PID", 7, EMIT_RIGHT, 0}},
    {"started", {"started", "STARTED", 19, EMIT_TIME, 0}},
    {"ended", {"ended", "ENDED", 19, EMIT_TIME, 0}},
    {"capacity", {"capacity", "CAPACITY", 16, EMIT_FLEX, 0}},
    {"tasks", {"tasks", "TASKS", 5, EMIT_RIGHT, 0}}, {NULL, {NULL}}};
static const struct column queue_cols[] = {
    {"queue", {"queue", "QUEUE", 12, EMIT_FLEX, 0}},
    {"jobs", {"jobs", "JOBS", 7, EMIT_RIGHT, 0}},
    {"waiting", {"waiting", "WAIT", 6, EMIT_RIGHT, 0}},
    {"queued", {"queued", "QUEUED", 6, EMIT_RIGHT, 0}},
    {"held", {"held", "HELD", 6, EMIT_RIGHT, 0}},
    {"running", {"running", "RUN", 6, EMIT_RIGHT, 0}},
    {"succeeded", {"succeeded", "OK", 7, EMIT_RIGHT, 0}},
    {"failed", {"failed", "FAILED", 6, EMIT_RIGHT, 0}},
    {"cancelled", {"cancelled", "CANCEL", 6, EMIT_RIGHT, 0}}, {NULL, {NULL}}};

/* What is alive, as reflow ps shows it. */
#define PS_VIEW "id,ident,start,elapsed,state,mem,cpu,command"

static const struct {
	const char *name;
	enum store_noun noun;
	const struct column *cols;
	const char *view; /* the table's columns when none are asked for */
	const char *const states[9];
} nouns[] = {
    {"jobs", STORE_JOBS, job_cols,
	"id,state,owner,queue,prio,created,time,exit,reason,name",
	{"waiting", "queued", "held", "running", "succeeded", "failed",
	    "cancelled", NULL}},
    /* sacct's line of accounting */
    {"tasks", STORE_TASKS, task_cols,
	"id,name,state,exit,elapsed,cputime,maxrss,start",
	{"running", "succeeded", "failed", "timed_out", "cancelled", "lost",
	    NULL}},
    {"runs", STORE_RUNS, run_cols, "id,kind,state,owner,host,pid,started,tasks",
	{"running", "ended", "lost", NULL}},
    {"queues", STORE_QUEUES, queue_cols,
	"queue,jobs,waiting,queued,held,running,succeeded,failed,cancelled",
	{"waiting", "queued", "held", "running", "succeeded", "failed",
	    "cancelled", NULL}},
};

/* Whether a live worker serves a queue, asked once per queue. */
#define MAX_QUEUES 16

struct query {
	struct cli cli;
	struct store_query q;
	const char *states[MAX_LIST + 1], *labels[MAX_LIST + 1];
	char ids[3][ID_LEN + 1];
	const char *refs[3]; /* --job, --dependency-of, --dependent-of */
	int count, summary, quiet, ns, nl, which, all_users, all, table;
	const char *cmd; /* --cmd, as given */
	const char *columns; /* --format's list of columns, or NULL */
	char digest[72];
	struct emit_col cols[MAX_LIST + 1];
	struct emit *out;
	struct store *st;
	char served_q[MAX_QUEUES][64];
	int served[MAX_QUEUES], nserved;
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
	    "  --all-users            -a, --all (jobs ended over an hour ago "
	    "too)\n"
	    "  -f, --format json|ndjson|table|text|COLUMN[,COLUMN...]\n"
	    "  -d, --db PATH\n"
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
	while (
	    (c = getopt_long(argc, argv, "s:u:Q:l:n:i:j:t:L:o:rcqa" CLI_SHORT,
		 longopts, NULL)) != -1) {
		/* Besides a format, a list of columns: a table of them. */
		if (c == 'f' &&
		    emit_format_parse(optarg, &qq->cli.format) == -1) {
			qq->columns = optarg;
			qq->cli.format = EMIT_TABLE;
			continue;
		}
		if (c == 'f') {
			qq->columns = NULL;
			continue;
		}
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
		case 'a':
			qq->all = 1;
			break;
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
}

/* Whether jobs were selected by more than owner, queue and labels. */
static int
selected(const struct query *qq)
{
	const struct store_query *q = &qq->q;

	return qq->all || qq->ns > 0 || q->since != INT64_MIN ||
	    q->until != INT64_MAX || q->id != NULL || q->name != NULL ||
	    qq->refs[0] != NULL || qq->refs[1] != NULL || qq->refs[2] != NULL;
}

/* The names of the noun's columns, for an error. */
static void
column_names(const struct column *cols, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; cols->name != NULL; cols++)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		    n ? ", " : "", cols->name);
}

/* The table's columns, from a comma list of names (any case). */
static void
pick_columns(struct query *qq, const char *list)
{
	const struct column *all = nouns[qq->which].cols, *c;
	char *copy = strdup(list), *tok, *p, names[512];
	int n = 0, custom = list == qq->columns;

	if (copy == NULL)
		errx(EX_OSERR, "out of memory");
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		for (c = all; c->name != NULL && strcasecmp(c->name, tok); c++)
			;
		if (c->name == NULL) {
			column_names(all, names, sizeof(names));
			errx(EX_USAGE, "unknown column '%s' (%s)", tok, names);
		}
		if (n == MAX_LIST)
			errx(EX_USAGE, "too many columns");
		qq->cols[n] = c->c;
		/* Columns asked for by name are never dropped. */
		if (custom)
			qq->cols[n].prio = 0;
		n++;
	}
	qq->cols[n].key = NULL;
	free(copy);
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
	if (qq->q.noun == STORE_JOBS && !selected(qq))
		qq->q.recent = parse_now_ms() - RECENT_MS;
	/* On a terminal, what is alive reads like reflow ps. */
	if (qq->columns != NULL)
		pick_columns(qq, qq->columns);
	else if (qq->q.noun == STORE_TASKS && qq->q.alive)
		pick_columns(qq, PS_VIEW);
	else
		pick_columns(qq, nouns[i].view);
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

/* Seconds between two RFC 3339 times (to NULL: now) into *s; 0 or -1. */
static int
seconds(const char *from, const char *to, int64_t *s)
{
	int64_t a, b = parse_now_ms();

	if (from == NULL || parse_time(from, 0, 0, &a) == -1 ||
	    (to != NULL && parse_time(to, 0, 0, &b) == -1))
		return -1;
	*s = (b - a) / 1000;
	return 0;
}

static const char *
str(json_t *row, const char *key)
{
	return json_string_value(json_object_get(row, key));
}

/* A cell of row: the tool stops when there is no memory for it. */
static void
set_str(json_t *row, const char *key, const char *v)
{
	if (json_object_set_new(row, key, json_string(v)) == -1)
		errx(EX_OSERR, "out of memory");
}

/*
 * The name to show: the job's own, or what it runs when its name is none
 * or just the program's (the name a job is given when it is not named).
 */
static void
name_cell(json_t *row)
{
	const char *name = str(row, "name"), *cmd = str(row, "command");
	const char *w, *base;
	size_t n;

	if (cmd != NULL && (name == NULL || *name == '\0')) {
		set_str(row, "_name", cmd);
		return;
	}
	if (cmd != NULL && name != NULL) {
		w = cmd + strspn(cmd, " \t\n");
		n = strcspn(w, " \t\n;|&<>()");
		for (base = w + n; base > w && base[-1] != '/'; base--)
			;
		n -= (size_t)(base - w);
		n = strcspn(base, ":@") < n ? strcspn(base, ":@") : n;
		if (strlen(name) == n && strncmp(name, base, n) == 0)
			name = cmd;
	}
	set_str(row, "_name", name ? name : "-");
}

/* A queued job no live worker serves waits for one.  A job some worker
 * can never run says why (exec-run wrote it). */
static int
queue_served(struct query *qq, const char *queue)
{
	int i, v = 1;

	for (i = 0; i < qq->nserved; i++)
		if (strcmp(qq->served_q[i], queue) == 0)
			return qq->served[i];
	if (store_queue_served(qq->st, queue, &v) == -1)
		warnx("%s", error_msg());
	if (i < MAX_QUEUES && strlen(queue) < sizeof(qq->served_q[0])) {
		strcpy(qq->served_q[i], queue);
		qq->served[qq->nserved++] = v;
	}
	return v;
}

/* Why a queued job waits: not due yet, nothing may run it, or none runs
 * its queue; "-" when it only waits its turn. */
static const char *
queued_reason(struct query *qq, json_t *row, char *buf, size_t len)
{
	const char *why = str(row, "reason"), *due = str(row, "not_before");
	const char *queue = str(row, "queue");
	int64_t ms;

	if (due != NULL && parse_time(due, 0, 0, &ms) == 0 &&
	    ms > parse_now_ms()) {
		strcpy(buf, "due in ");
		fmt_elapsed(
		    (ms - parse_now_ms() + 999) / 1000, buf + 7, len - 7);
		return buf;
	}
	if (why != NULL &&
	    (strncmp(why, "waiting for a worker", 20) == 0 ||
		strncmp(why, "no worker may", 13) == 0))
		return why;
	if (queue != NULL && !queue_served(qq, queue))
		return "no worker";
	return "-";
}

/* REASON: why a job waits, or how it failed; "-" for the rest. */
static void
reason_cell(struct query *qq, json_t *row)
{
	const char *state = str(row, "state"), *why = str(row, "reason");
	char buf[64];

	if (state == NULL)
		why = NULL;
	else if (strcmp(state, STATE_QUEUED) == 0)
		why = queued_reason(qq, row, buf, sizeof(buf));
	else if (strcmp(state, STATE_HELD) == 0)
		why = "held";
	else if (strcmp(state, STATE_WAITING) == 0)
		why = why == NULL || strcmp(why, "submitted") == 0
		    ? "dependency"
		    : why;
	else if (strcmp(state, STATE_FAILED) != 0 &&
	    strcmp(state, STATE_CANCELLED) != 0)
		why = NULL;
	set_str(row, "_reason", why ? why : "-");
}

/* TIME: how long the last attempt has run, or ran. */
static void
time_cell(json_t *row)
{
	const char *state = str(row, "state"), *st = str(row, "task_started");
	const char *en = str(row, "task_ended");
	int64_t s;
	char buf[32];

	if (state != NULL && strcmp(state, STATE_RUNNING) != 0 &&
	    !store_terminal(state))
		en = st = NULL; /* waiting again: no time of its own */
	if (state != NULL && strcmp(state, STATE_RUNNING) == 0)
		en = NULL;
	else if (en == NULL)
		st = NULL;
	if (seconds(st, en, &s) == 0) {
		fmt_elapsed(s, buf, sizeof(buf));
		set_str(row, "_time", buf);
	}
}

/* EXIT: the code, or "sig N"; as code:signal for sacct's tasks. */
static void
exit_cell(json_t *row, int pair)
{
	json_t *code = json_object_get(row, "exit_code");
	int64_t sig = json_integer_value(json_object_get(row, "signal"));
	char buf[32];

	if (code == NULL && sig == 0)
		return;
	if (pair)
		snprintf(buf, sizeof(buf), "%lld:%lld",
		    (long long)json_integer_value(code), (long long)sig);
	else if (sig > 0)
		snprintf(buf, sizeof(buf), "sig %lld", (long long)sig);
	else
		snprintf(buf, sizeof(buf), "%lld",
		    (long long)json_integer_value(code));
	set_str(row, "_exit", buf);
}

/* The cells of the tasks' table: its ID short, its accounting, and the
 * ps view's memory and CPU (what the task used once it ended, else what
 * its job asked for). */
static void
task_cells(json_t *row)
{
	const char *id = str(row, "id"), *dot;
	json_t *use = json_object_get(row, "usage");
	int64_t s, mem;
	double cpu;
	char buf[40];

	if (id != NULL && (dot = strchr(id, '.')) != NULL) {
		snprintf(buf, sizeof(buf), "%.*s%s",
		    (int)(dot - id) < ID_SHORT ? (int)(dot - id) : ID_SHORT, id,
		    dot);
		set_str(row, "_task", buf);
	}
	name_cell(row);
	exit_cell(row, 1);
	if (seconds(str(row, "started"), str(row, "ended"), &s) == 0) {
		fmt_elapsed(s, buf, sizeof(buf));
		set_str(row, "elapsed", buf);
	}
	if (use != NULL) {
		cpu = json_number_value(json_object_get(use, "user_cpu")) +
		    json_number_value(json_object_get(use, "system_cpu"));
		if (cpu < 60)
			snprintf(buf, sizeof(buf), "%.1fs", cpu);
		else
			fmt_elapsed((int64_t)cpu, buf, sizeof(buf));
		set_str(row, "_cputime", buf);
		set_str(row, "cpu", buf);
		if ((mem = json_integer_value(
			 json_object_get(use, "max_rss"))) > 0)
			set_str(
			    row, "_maxrss", parse_fmt_size((uint64_t)mem, buf));
	}
	mem = use != NULL ? json_integer_value(json_object_get(use, "max_rss"))
			  : json_integer_value(json_object_get(row, "memory"));
	if (mem > 0)
		set_str(row, "mem", parse_fmt_size((uint64_t)mem, buf));
	if (use == NULL &&
	    json_integer_value(json_object_get(row, "cpu_milli")) > 0) {
		snprintf(buf, sizeof(buf), "%g",
		    (double)json_integer_value(
			json_object_get(row, "cpu_milli")) /
			1000);
		set_str(row, "cpu", buf);
	}
}

/* Cells a table shows that are not members of the row as it is. */
static void
table_cells(struct query *qq, json_t *row)
{
	if (qq->q.noun == STORE_TASKS)
		task_cells(row);
	else if (qq->q.noun == STORE_JOBS) {
		name_cell(row);
		reason_cell(qq, row);
		time_cell(row);
		exit_cell(row, 0);
	}
}

static int
print_row(json_t *row, void *arg)
{
	struct query *qq = arg;

	if (qq->table)
		table_cells(qq, row);
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

	qq->st = st;
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
	qq->out = emit_open(stdout, qq->cli.format, EMIT_TABLE, qq->cols);
	if (qq->out == NULL)
		return -1;
	qq->table = !qq->quiet && emit_format(qq->out) == EMIT_TABLE;
	if (store_query(st, &qq->q, print_row, qq) == -1)
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
