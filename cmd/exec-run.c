/*
 * exec-run: execute jobs -- one in the foreground, the ones named or piped
 * in, or whatever a worker loop claims -- and wait for jobs or follow
 * their logs.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "error.h"
#include "exec.h"
#include "idin.h"
#include "lease.h"
#include "parse.h"
#include "relay.h"
#include "spec.h"
#include "specopt.h"
#include "store.h"
#include "utf8.h"

#define MAX_TASKS 256
/* How long a foreground job runs before exec-run watches the database. */
#define WATCH_DELAY_MS 50
#define MAX_QUEUES 32

enum opt {
	O_WORKER = 256,
	O_DRAIN,
	O_IDLE_EXIT,
	O_CAPACITY,
	O_WAIT,
	O_LOGS,
	O_FOLLOW,
	O_STDERR,
	O_TAIL,
	O_BOTH,
	O_LEASE,
	O_RESULTS,
	O_ENGINE,
	O_SANDBOX,
	O_GPUS,
	O_PIP,
	O_SPEC /* of rules: no option's */
};

static const struct option longopts[] = {SPECOPT_LONG,
    {"shell", required_argument, NULL, 'S'},
    {"worker", no_argument, NULL, O_WORKER},
    {"jobs", required_argument, NULL, 'j'},
    {"drain", no_argument, NULL, O_DRAIN},
    {"idle-exit", required_argument, NULL, O_IDLE_EXIT},
    {"capacity", required_argument, NULL, O_CAPACITY},
    {"wait", no_argument, NULL, O_WAIT}, {"logs", no_argument, NULL, O_LOGS},
    {"follow", no_argument, NULL, O_FOLLOW},
    {"stderr", no_argument, NULL, O_STDERR},
    {"tail", required_argument, NULL, O_TAIL},
    {"both", no_argument, NULL, O_BOTH},
    {"lease", required_argument, NULL, O_LEASE},
    {"results", required_argument, NULL, O_RESULTS},
    {"engine", required_argument, NULL, O_ENGINE},
    {"sandbox", no_argument, NULL, O_SANDBOX},
    {"gpus", required_argument, NULL, O_GPUS},
    {"pip", no_argument, NULL, O_PIP}, {"quiet", no_argument, NULL, 'q'},
    CLI_LONG, {NULL, 0, NULL, 0}};

/* What an exec-run does; the command line picks one (pick_mode()). */
enum mode {
	M_FOREGROUND, /* a command after '--', or --shell */
	M_NAMED, /* the jobs named, as arguments or on stdin */
	M_WORKER, /* --worker: whatever it claims */
	M_WAIT, /* --wait */
	M_LOGS /* --logs */
};
#define NMODES (M_LOGS + 1)
#define IN(m) (1u << (m))
/* The modes that run tasks here. */
#define RUNS_TASKS (IN(M_FOREGROUND) | IN(M_NAMED) | IN(M_WORKER))

/* As a run records it (run_new.mode); --wait and --logs start none. */
static const char *const mode_name[NMODES] = {[M_FOREGROUND] = "foreground",
    [M_NAMED] = "named",
    [M_WORKER] = "worker",
    [M_WAIT] = "wait",
    [M_LOGS] = "logs"};

/*
 * The modes each option may be given in: elsewhere it would change
 * nothing, so it is refused, "--option" and why.  Checked in this order
 * (check_rules()), so that of several refused the first here is named; an
 * option with no rule goes with any mode, one with two with the modes both
 * allow.
 */
static const struct rule {
	int opt; /* O_SPEC: any spec option without a rule of its own */
	unsigned modes;
	const char *why;
} rules[] = {{O_FOLLOW, IN(M_LOGS), " goes with --logs"},
    {O_STDERR, IN(M_LOGS), " goes with --logs"},
    {O_BOTH, IN(M_LOGS), " goes with --logs"},
    {O_TAIL, IN(M_LOGS), " goes with --logs"},
    {O_DRAIN, IN(M_WORKER), " goes with --worker"},
    {O_IDLE_EXIT, IN(M_WORKER), " goes with --worker"},
    {O_CAPACITY, IN(M_WORKER), " goes with --worker"},
    {'j', ~IN(M_FOREGROUND), " goes with job IDs or --worker"},
    {SPECOPT_AT, ~IN(M_FOREGROUND),
	": a command given here runs now (job-submit queues it for later)"},
    {'H', ~IN(M_FOREGROUND),
	": a command given here runs now (job-submit queues it for later)"},
    {SPECOPT_AT, IN(M_FOREGROUND), " goes with a command"},
    {'H', IN(M_FOREGROUND), " goes with a command"},
    {O_SPEC, IN(M_FOREGROUND), " goes with a command"},
    {'Q', IN(M_FOREGROUND) | IN(M_WORKER), " goes with a command or --worker"},
    {'l', IN(M_FOREGROUND) | IN(M_WORKER), " goes with a command or --worker"}};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

static const struct emit_col columns[] = {{"id", "TASK", 10, 0, 0},
    {"state", "STATE", 10, 0, 0}, {"exit_code", "EXIT", 4, EMIT_RIGHT, 0},
    {"job_state", "JOB", 10, 0, 0}, {"error", "ERROR", 0, 0, 0},
    {NULL, NULL, 0, 0, 0}};

struct task {
	char id[ID_LEN + 24];
	char job[ID_LEN + 1];
	int64_t attempt;
	struct exec *x;
	int64_t cpu, memory, disk, gpu; /* reserved */
	uint64_t gpu_mask; /* the devices it holds, of the runner's */
	char *notify; /* its job's webhook, or NULL */
	char devices[256]; /* and their names, "0,2" */
	int requeue; /* stopped by our shutdown */
	int gone; /* its lease was lost: stopped, its end not ours */
	const struct exec_result *res; /* once it ended */
	int64_t record_at; /* its end, refused by the database: try then */
	int ending; /* its end is in the transaction being written */
	/* What it runs (Reflow's ImgCmdID), found by run-query --cmd; it
	 * is recorded with its pid at pid_at, or with its end if sooner. */
	char digest[SPEC_DIGEST_LEN + 1];
	int64_t pid_at; /* 0 once recorded */
};

/*
 * Tasks that ended and the jobs claimed in their place, in one commit that
 * a worker made without waiting for the disk (store_commit_later()): the
 * ends are reported and the claims started once the commit is on the disk
 * (settle()), and meanwhile the worker tends its other tasks.  The ended
 * tasks stay in the runner's list, marked ending, until then.
 */
struct group {
	struct group *next;
	uint64_t ticket;
	int n, nclaim;
	struct task **ended; /* n of them */
	json_t **job; /* what store_task_finish() said of each */
	json_t **info; /* the claims, nclaim */
	int *last; /* each end was its job's last attempt */
};

/*
 * A task's pid (and devices, and what it runs) is recorded once it has run
 * this long, or with its end if that comes first: a short job costs no
 * transaction of its own for it.
 */
#define PID_DELAY_MS 50

/* The GPUs a task was given, "0,2", or NULL for none. */
static const char *
devices_of(const struct task *t)
{
	return t->devices[0] ? t->devices : NULL;
}

/* GPUs a worker hands out, at most. */
#define MAX_GPUS 64

/* A task's end the database refused is tried again this often. */
#define RECORD_AGAIN_MS 1000
/* How often a worker tries again to listen for submitters (relay.h). */
#define RELAY_RETRY_MS 10000

/* A job of the foreground or named ones, to claim again here when due. */
struct retry {
	char job[ID_LEN + 1];
	int64_t due;
};

struct runner {
	struct cli cli;
	json_t *over;
	const char *shell;
	char **argv; /* foreground command */
	char **ids; /* named jobs, or NULL */
	int from_stdin; /* named jobs come on stdin */
	enum mode mode;
	int drain, follow, use_stderr, both, quiet;
	int64_t tail; /* --logs: the last lines to show, -1 for all */
	int slots;
	int64_t idle_exit, lease_len;
	const char *queues[MAX_QUEUES + 1];
	int nqueues;
	struct claim_fit cap; /* the whole capacity; -1 unlimited */
	char *results; /* results root */
	struct store *st;
	struct lease *lease; /* the run's (lease.h) */
	const char *run; /* its ID */
	struct run_new rn; /* what it was started as, to start anew */
	struct task *tasks[MAX_TASKS];
	int ntasks;
	/* A worker's commits not yet on the disk (end_and_claim()), oldest
	 * first, with the tasks they claimed, to start then. */
	struct group *groups, **groups_end;
	int sigfd, inofd;
	char *dbpath; /* the database watched (watch_db()) */
	char dbname[256]; /* its file name, in the folder watched */
	char stager[PATH_MAX]; /* artifact-fetch beside us, or "" */
	int stopping, signo;
	int status;
	struct emit *out;
	int foreground, worker; /* mode is M_FOREGROUND, M_WORKER */
	int stdout_gone; /* our reader went away */
	/* Named jobs on stdin are read only when some are there (stdin is
	 * unbuffered, so poll(2) tells), never waited for in a read while
	 * tasks run and leases are due. */
	int stdin_ready, stdin_wait;
	/* A write seen before its commit shows: looked for again then. */
	int64_t recheck, recheck_ms, recheck_end;
	int run_ended; /* the foreground run's end went with its task's */
	int lost; /* the run's lease was lost */
	int64_t retry_due; /* a job this run re-queued becomes due then */
	struct retry *retries; /* of the foreground or named jobs */
	int nretries, maxretries;
	json_t *elsewhere; /* jobs whose retry another run took */
	int db_changed; /* another process wrote the database */
	int64_t watch_at; /* when to watch_db(), if not yet */
	char *db; /* where the database is, absolute: JOBKIT_DB of tasks */
	int unrecorded; /* tasks whose end waits to be recorded */
	int give_up; /* and a signal said not to wait for them */
	int64_t next_due; /* the next job due, of those we may claim */
	int64_t noted; /* when we last said why the jobs we cannot run wait */
	int note; /* and a claim found nothing since */
	json_t *shards; /* of named jobs of shards, to run next */
	const char *engine; /* of container jobs (exec_opts) */
	int sandbox; /* every task in the sandbox */
	const char *gpus; /* --gpus, or NULL */
	int pip; /* tasks may install Python packages */
	char *gpu[MAX_GPUS]; /* the devices a task may be given */
	int ngpu;
	uint64_t gpu_busy; /* those given to running tasks */
	/* A worker stores the jobs job-submit hands it (relay.h); where it
	 * cannot listen (another worker does), it tries again then. */
	struct relay *relay;
	int64_t relay_at;
	int relayed; /* it stored jobs since it last claimed */
};

/* Out of memory: our own failure, 125 in the foreground as timeout(1)'s. */
static void oom(const struct runner *r) __attribute__((noreturn));

static void
oom(const struct runner *r)
{
	errx(r->foreground ? 125 : EX_OSERR, "out of memory");
}

/* o[k] = s when s is UTF-8 (else left out, as jansson would): 0, or -1
 * when out of memory. */
static int
text_set(json_t *o, const char *k, const char *s)
{
	if (!utf8_valid(s, strlen(s)))
		return 0;
	return spec_set(o, k, json_string_nocheck(s));
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: exec-run [spec options] [-S 'command line'] [-- command "
	    "[argument ...]]\n"
	    "       exec-run [options] id ...       ... | exec-run [options]\n"
	    "       exec-run --worker [-j N] [-Q queue ...] [--capacity "
	    "cpu=N,memory=SIZE,disk=SIZE,gpu=N]\n"
	    "                [--drain] [--idle-exit DUR] [--lease DUR]\n"
	    "       exec-run --wait id ...\n"
	    "       exec-run --logs [id] [--follow] [--stderr | --both] "
	    "[--tail N]\n"
	    "spec options (foreground job):\n" SPECOPT_USAGE_NOW
	    "  -S, --shell CMDLINE\n"
	    "run options:\n"
	    "  --worker               -j, --jobs N          --drain\n"
	    "  --idle-exit DUR        --capacity SPEC       --lease DUR\n"
	    "  --results DIR          --wait                --logs\n"
	    "  --follow               --stderr              --both\n"
	    "  --tail N               -q, --quiet\n"
	    "  --engine auto|docker|podman|host             --sandbox\n"
	    "  --gpus LIST            --pip\n"
	    "  -f, --format json|ndjson|table|text          -d, --db PATH\n"
	    "  -h, --help             -V, --version\n");
}

static int64_t
duration_arg(const char *opt, const char *arg)
{
	int64_t ms;

	if (parse_duration(arg, &ms) == -1)
		errx(EX_USAGE, "%s: %s", opt, error_msg());
	return ms;
}

/* "cpu=4,memory=8G,disk=100G,gpu=0" */
static void
capacity_arg(struct claim_fit *f, char *arg)
{
	char *tok, *save = NULL, *eq;
	uint64_t size;
	int64_t v;

	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			errx(EX_USAGE,
			    "--capacity: expected KEY=VALUE, got "
			    "'%s'",
			    tok);
		*eq++ = '\0';
		if (strcmp(tok, "cpu") == 0 && parse_cpu(eq, &v) == 0)
			f->cpu_milli = v;
		else if (strcmp(tok, "memory") == 0 &&
		    parse_size(eq, &size) == 0)
			f->memory = (int64_t)size;
		else if (strcmp(tok, "disk") == 0 && parse_size(eq, &size) == 0)
			f->disk = (int64_t)size;
		else if (strcmp(tok, "gpu") == 0 &&
		    parse_int(eq, 0, 1024, &v) == 0)
			f->gpu = v;
		else
			errx(EX_USAGE, "--capacity: bad '%s=%s'", tok, eq);
	}
}

static const char *
engine_arg(const char *arg)
{
	if (strcmp(arg, "auto") != 0 && strcmp(arg, "docker") != 0 &&
	    strcmp(arg, "podman") != 0 && strcmp(arg, "host") != 0)
		errx(EX_USAGE,
		    "--engine: '%s' is not auto, docker, podman or host", arg);
	return arg;
}

/* "0,2": device indexes or UUIDs, as CUDA_VISIBLE_DEVICES takes them. */
static const char *
gpus_arg(const char *arg)
{
	const char *p = arg;

	for (;; p++) {
		size_t n = strspn(p,
		    "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-");
		if (n == 0 || (p[n] != ',' && p[n] != '\0'))
			errx(EX_USAGE,
			    "--gpus: '%s' is not a list of devices (0,2)", arg);
		p += n;
		if (*p == '\0')
			return arg;
	}
}

static const char *
long_name(int c)
{
	for (const struct option *o = longopts; o->name != NULL; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/*
 * Note that option c was given, in the rules it falls under; spec says
 * it is a spec option.  Each rule keeps the first option that fell under
 * it, for its error to name.
 */
static void
note_option(int *seen, int c, int spec)
{
	int own = 0;

	for (size_t i = 0; i < NRULES; i++)
		if (rules[i].opt == c) {
			own = 1;
			if (seen[i] == 0)
				seen[i] = c;
		}
	for (size_t i = 0; spec && !own && i < NRULES; i++)
		if (rules[i].opt == O_SPEC && seen[i] == 0)
			seen[i] = c;
}

/* Options of exec-run's own; those that pick a mode go in *asked. */
static void
run_option(struct runner *r, int c, char *arg, unsigned *asked)
{
	int64_t v;

	switch (c) {
	case 'S':
		r->shell = arg;
		break;
	case O_WORKER:
		*asked |= IN(M_WORKER);
		break;
	case 'j':
		if (parse_int(arg, 1, MAX_TASKS, &v) == -1)
			errx(EX_USAGE, "--jobs: %s", error_msg());
		r->slots = (int)v;
		break;
	case O_DRAIN:
		r->drain = 1;
		break;
	case O_IDLE_EXIT:
		r->idle_exit = duration_arg("--idle-exit", arg);
		break;
	case O_CAPACITY:
		capacity_arg(&r->cap, arg);
		break;
	case O_WAIT:
		*asked |= IN(M_WAIT);
		break;
	case O_LOGS:
		*asked |= IN(M_LOGS);
		break;
	case O_FOLLOW:
		r->follow = 1;
		break;
	case O_STDERR:
		r->use_stderr = 1;
		break;
	case O_BOTH:
		r->both = 1;
		break;
	case O_TAIL:
		if (parse_int(arg, 0, INT64_MAX, &r->tail) == -1)
			errx(EX_USAGE, "--tail: %s", error_msg());
		break;
	case O_LEASE:
		r->lease_len = duration_arg("--lease", arg);
		if (r->lease_len < 1000)
			errx(EX_USAGE, "--lease: at least 1s");
		break;
	case O_RESULTS:
		r->results = strdup(arg);
		break;
	case 'q':
		r->quiet = 1;
		break;
	case O_ENGINE:
		r->engine = engine_arg(arg);
		break;
	case O_SANDBOX:
		r->sandbox = 1;
		break;
	case O_PIP:
		r->pip = 1;
		break;
	case O_GPUS:
		r->gpus = gpus_arg(arg);
		break;
	default:
		usage(stderr);
		exit(EX_USAGE);
	}
}

/*
 * The mode the command line asks for: a command, or one of --worker,
 * --wait and --logs (asked), else named jobs; nids job IDs were given.
 */
static enum mode
pick_mode(const struct runner *r, unsigned asked, int nids)
{
	int command = r->argv != NULL || r->shell != NULL;

	if ((asked & (asked - 1)) != 0) /* more than one */
		errx(EX_USAGE, "give one of --worker, --wait, --logs");
	if (command && (asked != 0 || nids > 0))
		errx(EX_USAGE,
		    "a command runs alone: no job IDs, --worker, "
		    "--wait or --logs with it");
	if (r->argv != NULL && r->argv[0] == NULL)
		errx(EX_USAGE, "no command after '--'");
	if (r->argv != NULL && r->shell != NULL)
		errx(
		    EX_USAGE, "give a command after '--' or --shell, not both");
	if (command)
		return M_FOREGROUND;
	if (asked == IN(M_WORKER) && nids > 0)
		errx(EX_USAGE, "--worker takes no job IDs");
	if (asked == IN(M_LOGS) && nids > 1)
		errx(EX_USAGE, "--logs takes one job or task ID");
	for (enum mode m = 0; m < NMODES; m++)
		if (asked == IN(m))
			return m;
	return M_NAMED;
}

/* An option that would change nothing in mode m is an error, not a
 * no-op: the first rule broken is said. */
static void
check_rules(enum mode m, const int *seen)
{
	for (size_t i = 0; i < NRULES; i++)
		if (seen[i] != 0 && (rules[i].modes & IN(m)) == 0)
			errx(EX_USAGE, "--%s%s", long_name(seen[i]),
			    rules[i].why);
}

static void
parse_options(struct runner *r, int argc, char **argv)
{
	int c, end = argc, k, spec, seen[NRULES] = {0};
	unsigned asked = 0;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			end = i;
			r->argv = argv + i + 1;
			break;
		}
	while ((c = getopt_long(end, argv, SPECOPT_SHORT "S:j:q" CLI_SHORT,
		    longopts, NULL)) != -1) {
		spec = (k = cli_option(&r->cli, c, optarg)) == 0 &&
		    (k = specopt_apply(r->over, c, optarg)) == 1;
		if (k == -1)
			errx(error_status(), "%s", error_msg());
		note_option(seen, c, spec);
		if (c == 'Q' && !spec_word_ok(optarg))
			errx(EX_USAGE,
			    "--queue: '%s' must be 1 to 63 letters, digits "
			    "and . _ - /",
			    optarg);
		if (c == 'Q' && r->nqueues < MAX_QUEUES)
			r->queues[r->nqueues++] = optarg;
		if (k == 0)
			run_option(r, c, optarg, &asked);
	}
	r->ids = optind < end ? argv + optind : NULL;
	r->mode = pick_mode(r, asked, end - optind);
	r->foreground = r->mode == M_FOREGROUND;
	r->worker = r->mode == M_WORKER;
	/* Outside --logs, the rules say these go with it. */
	if (r->mode == M_LOGS && r->use_stderr && r->both)
		errx(EX_USAGE, "give --stderr or --both, not both");
	check_rules(r->mode, seen);
	r->from_stdin =
	    (r->mode == M_NAMED || r->mode == M_WAIT) && r->ids == NULL;
	if (r->from_stdin && !r->cli.help && !r->cli.version &&
	    isatty(STDIN_FILENO))
		errx(EX_USAGE,
		    "no job: give a command after '--', job IDs, "
		    "--worker, or pipe jobs in");
}

/* results/ beside the database, unless --results says. */
static void
pick_results(struct runner *r)
{
	if (cli_paths(&r->cli, &r->db, &r->results) == -1)
		errx(error_status(), "%s", error_msg());
}

/*
 * Watch the database and its WAL themselves, so that a file written beside
 * them (a log) wakes no one; the folder is watched only for files made or
 * renamed there, to watch the WAL anew when it is made again.
 */
static void
watch_files(struct runner *r)
{
	char wal[PATH_MAX];

	inotify_add_watch(r->inofd, r->dbpath, IN_MODIFY);
	snprintf(wal, sizeof(wal), "%s-wal", r->dbpath);
	inotify_add_watch(r->inofd, wal, IN_MODIFY);
}

/* Wake up when another process writes the database. */
static void
watch_db(struct runner *r)
{
	char *db = store_locate(r->cli.db), *slash;

	r->inofd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (db == NULL || r->inofd == -1 || strlen(db) + 5 > PATH_MAX) {
		free(db);
		return;
	}
	r->dbpath = db;
	slash = strrchr(db, '/');
	snprintf(
	    r->dbname, sizeof(r->dbname), "%s", slash != NULL ? slash + 1 : db);
	if (slash == NULL)
		inotify_add_watch(r->inofd, ".", IN_CREATE | IN_MOVED_TO);
	else {
		*slash = '\0';
		inotify_add_watch(
		    r->inofd, slash == db ? "/" : db, IN_CREATE | IN_MOVED_TO);
		*slash = '/';
	}
	watch_files(r);
}

/*
 * Whether the events read from inotify into buf (n bytes) say the database
 * (or its WAL) was written or made anew; one made anew is watched again.
 */
static int
db_written(struct runner *r, const char *buf, ssize_t n)
{
	size_t len = strlen(r->dbname);
	int written = 0;

	for (ssize_t i = 0; i < n;) {
		const struct inotify_event *e = (const void *)(buf + i);
		if (e->len == 0)
			written = 1;
		else if (strncmp(e->name, r->dbname, len) == 0) {
			watch_files(r);
			written = 1;
		}
		i += (ssize_t)(sizeof(*e) + e->len);
	}
	return written;
}

static int64_t
res_of(json_t *spec, const char *key, double scale)
{
	json_t *v = json_object_get(json_object_get(spec, "resources"), key);

	return v ? (int64_t)(json_number_value(v) * scale) : 0;
}

/*
 * A task that could not start.  Our failure, not the job's, goes back to
 * the queue with its attempt unused, and we take no more, or we would fail
 * every job there the same way; one that is the job's alone (its spec is
 * not one a tool could have stored, someone put their own in its results'
 * place) fails that job, and we go on.
 */
static int
start_failed(struct runner *r, struct task *t, json_t *info, int job)
{
	int status = error_status();
	struct task_result res = {.state = job ? "failed" : "cancelled",
	    .exit_code = -1,
	    .error = error_msg(),
	    .requeue = !r->foreground && !job,
	    .no_retry = job};

	warnx("%s: %s", t->id, error_msg());
	store_task_finish(r->st, t->id, &res, NULL);
	/* A worker's status is its own; a job runner's, its jobs'. */
	if ((!job || !r->worker) && (r->status == 0 || r->foreground))
		r->status = r->foreground || job ? 125 : status;
	if (!job && !r->stopping++ && r->worker)
		warnx("stopping: cannot start tasks here");
	r->gpu_busy &= ~t->gpu_mask;
	free(t->notify);
	free(t);
	json_decref(info);
	return -1;
}

/*
 * The job's context folder, packed, from the database into a memfd for
 * its stager: the descriptor, 0 when it has none, -1 with an error.
 */
static int
context_of(struct runner *r, json_t *spec)
{
	const char *sha = json_string_value(json_object_get(spec, "context"));
	int fd;

	if (sha == NULL)
		return 0;
	if ((fd = memfd_create("jobkit-context", MFD_CLOEXEC)) == -1)
		return error_set(
		    EX_OSERR, "cannot keep the context: %s", strerror(errno));
	if (store_context_get(r->st, sha + 7, fd) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return error_wrap("its context");
	}
	return fd;
}

/* Start a claimed task ({id, job, attempt, uid, owner, spec}, stolen). */
/*
 * The GPUs a worker knows: --gpus, else as many as --capacity gpu=N says
 * (0 to N-1), else those nvidia-smi -L lists (a worker only: it is asked
 * once), else none.  The capacity follows the devices.
 */
static void
find_gpus(struct runner *r)
{
	char buf[512], *save = NULL, *tok, *list = NULL;
	FILE *fp;

	if (r->gpus != NULL && (list = strdup(r->gpus)) == NULL)
		errx(EX_OSERR, "out of memory");
	for (tok = list ? strtok_r(list, ",", &save) : NULL; tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (r->ngpu == MAX_GPUS)
			errx(EX_USAGE, "--gpus: at most %d devices", MAX_GPUS);
		if ((r->gpu[r->ngpu++] = strdup(tok)) == NULL)
			errx(EX_OSERR, "out of memory");
	}
	free(list);
	if (r->gpus != NULL && r->cap.gpu >= 0 && r->cap.gpu != r->ngpu)
		errx(EX_USAGE, "--gpus names %d devices, --capacity gpu=%lld",
		    r->ngpu, (long long)r->cap.gpu);
	if (r->gpus == NULL && r->cap.gpu < 0 && r->worker &&
	    (fp = popen("nvidia-smi -L 2>/dev/null", "r")) != NULL) {
		r->cap.gpu = 0;
		while (fgets(buf, sizeof(buf), fp) != NULL)
			if (strncmp(buf, "GPU ", 4) == 0 &&
			    r->cap.gpu < MAX_GPUS)
				r->cap.gpu++;
		pclose(fp);
	}
	for (int i = r->ngpu; i < r->cap.gpu && i < MAX_GPUS; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		if ((r->gpu[r->ngpu++] = strdup(buf)) == NULL)
			errx(EX_OSERR, "out of memory");
	}
	if (r->gpus != NULL || r->cap.gpu >= 0)
		r->cap.gpu = r->ngpu;
}

/* Give t the free GPUs it asked for, the lowest first: none when too few
 * are free (a job named to us, run whatever it asked). */
static void
take_gpus(struct runner *r, struct task *t)
{
	size_t len = 0;
	int n = 0;

	for (int i = 0; i < r->ngpu && n < t->gpu; i++)
		if (!(r->gpu_busy & (1ull << i)))
			n++;
	if (t->gpu <= 0 || n < t->gpu)
		return;
	for (int i = 0; i < r->ngpu && n > 0; i++) {
		if (r->gpu_busy & (1ull << i))
			continue;
		t->gpu_mask |= 1ull << i;
		len +=
		    (size_t)snprintf(t->devices + len, sizeof(t->devices) - len,
			"%s%s", len ? "," : "", r->gpu[i]);
		if (len >= sizeof(t->devices))
			len = sizeof(t->devices) - 1;
		n--;
	}
	r->gpu_busy |= t->gpu_mask;
}

static int
start_task(struct runner *r, json_t *info)
{
	json_t *spec;
	struct exec_opts o = {0};
	struct task *t;
	char dir[4096];

	if ((t = calloc(1, sizeof(*t))) == NULL)
		errx(EX_OSERR, "out of memory");
	snprintf(t->id, sizeof(t->id), "%s",
	    json_string_value(json_object_get(info, "id")));
	snprintf(t->job, sizeof(t->job), "%s",
	    json_string_value(json_object_get(info, "job")));
	t->attempt = json_integer_value(json_object_get(info, "attempt"));
	/*
	 * What runs is checked again, as job-submit checked it: a row written
	 * around the tools, even one its owner signed, must not reach the
	 * executor unchecked.
	 */
	if ((spec = spec_normalize(json_object_get(info, "spec"), 0)) == NULL) {
		error_wrap("its spec is not one jobkit would store");
		return start_failed(r, t, info, 1);
	}
	if (spec_set(info, "spec", spec) == -1)
		oom(r);
	t->cpu = res_of(spec, "cpu", 1000);
	t->memory = res_of(spec, "memory", 1);
	t->disk = res_of(spec, "disk", 1);
	t->gpu = res_of(spec, "gpu", 1);
	snprintf(dir, sizeof(dir), "%s/%s", r->results, t->id);
	o.job = t->job;
	o.task = t->id;
	o.attempt = t->attempt;
	o.results = dir;
	o.passthrough = r->foreground;
	o.db = r->db;
	/* Root runs each job as its owner; others claim only their own. */
	o.uid = (uid_t)json_integer_value(json_object_get(info, "uid"));
	o.owner = json_string_value(json_object_get(info, "owner"));
	o.as_owner = geteuid() == 0 && o.uid != 0;
	o.stager = r->stager[0] != '\0' ? r->stager : NULL;
	o.engine = r->engine;
	o.sandbox = r->sandbox;
	take_gpus(r, t);
	if (json_object_get(spec, "notify") != NULL &&
	    (t->notify = strdup(
		 json_string_value(json_object_get(spec, "notify")))) == NULL)
		errx(EX_OSERR, "out of memory");
	o.gpus = devices_of(t);
	o.pip = r->pip;
	if ((o.context = context_of(r, spec)) == -1)
		return start_failed(r, t, info, 1);
	t->x = exec_start(spec, &o);
	if (o.context > 0)
		close(o.context);
	if (t->x == NULL)
		return start_failed(r, t, info, error_status() == EX_NOPERM);
	if (spec_digest(spec, t->digest) == -1)
		errx(EX_OSERR, "%s", error_msg());
	t->pid_at = parse_now_ms() + PID_DELAY_MS;
	if (lease_hold(r->lease, t->id) == -1)
		errx(EX_OSERR, "%s", error_msg());
	r->tasks[r->ntasks++] = t;
	json_decref(info);
	return 0;
}

static void
report_row(
    struct runner *r, struct task *t, const struct exec_result *x, json_t *job)
{
	json_t *o, *js = json_object_get(job, "state");

	o = json_pack("{s:s, s:s, s:I, s:s}", "id", t->id, "job", t->job,
	    "attempt", (json_int_t)t->attempt, "state", x->state);
	if (o == NULL ||
	    (x->exit_code >= 0 &&
		spec_set(o, "exit_code", json_integer(x->exit_code)) == -1) ||
	    (x->signal > 0 &&
		spec_set(o, "signal", json_integer(x->signal)) == -1) ||
	    (x->error[0] != '\0' && text_set(o, "error", x->error) == -1) ||
	    (js != NULL && json_object_set(o, "job_state", js) == -1))
		oom(r);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/%s", r->results, t->id);
	if (text_set(o, "results", dir) == -1)
		oom(r);
	(void)emit_row(r->out, o); /* report() sees a failure */
	json_decref(o);
}

/* One result object per task, on stdout. */
static void
report(
    struct runner *r, struct task *t, const struct exec_result *x, json_t *job)
{
	if (r->foreground)
		return;
	if (r->stdout_gone)
		return;
	if (r->quiet)
		printf("%s\n", t->id);
	else
		report_row(r, t, x, job);
	/*
	 * Nobody reads what we print any more (or it cannot be written):
	 * finish what runs, as on a first SIGTERM, instead of dying of
	 * SIGPIPE and stranding it.
	 */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		r->stdout_gone = errno != 0 ? errno : EIO;
		if (r->stdout_gone != EPIPE)
			warnx("cannot write results: %s",
			    strerror(r->stdout_gone));
		r->stopping++;
	}
}

/* A job of ours to claim again at due (ms since the epoch). */
static void
add_retry(struct runner *r, const char *job, int64_t due)
{
	struct retry *q;

	if (r->nretries == r->maxretries) {
		r->maxretries = r->maxretries ? 2 * r->maxretries : 16;
		q = reallocarray(r->retries, r->maxretries, sizeof(*q));
		if (q == NULL)
			errx(EX_OSERR, "out of memory");
		r->retries = q;
	}
	q = &r->retries[r->nretries++];
	snprintf(q->job, sizeof(q->job), "%s", job);
	q->due = due;
}

/*
 * Remember when a job we re-queued for a retry becomes due.  The jobs a
 * user named, or ran in the foreground, are retried here, not left to a
 * worker that may never come.
 */
static void
note_retry(struct runner *r, json_t *job)
{
	const char *nb = json_string_value(json_object_get(job, "not_before"));
	const char *state = json_string_value(json_object_get(job, "state"));
	const char *id = json_string_value(json_object_get(job, "id"));
	int64_t due;

	if (nb == NULL || state == NULL || strcmp(state, STATE_QUEUED) != 0 ||
	    parse_time(nb, 0, 1, &due) == -1)
		return;
	if (due > r->retry_due)
		r->retry_due = due;
	if (!r->worker && id != NULL)
		add_retry(r, id, due);
}

/*
 * Record a task's end; the foreground run ends with its job's last task,
 * in the same commit (if that fails, the task's end is recorded alone, as
 * a worker's is).  Returns 0, or -1 with the store's error; *job gets the
 * job's brief, *last whether the job is done.
 */
static int
record_end(struct runner *r, struct task *t, const struct task_result *res,
    json_t **job, int *last)
{
	int one = r->foreground && store_begin(r->st) == 0, k;

	k = store_task_finish(r->st, t->id, res, job);
	*last = k == 0 &&
	    store_terminal(json_string_value(json_object_get(*job, "state")));
	if (one && k == 0 && (!*last || lease_end(r->lease) == 0) &&
	    store_commit(r->st) == 0) {
		r->run_ended = *last;
		return 0;
	}
	if (!one)
		return k;
	store_rollback(r->st);
	json_decref(*job);
	*job = NULL;
	k = store_task_finish(r->st, t->id, res, job);
	*last = k == 0 &&
	    store_terminal(json_string_value(json_object_get(*job, "state")));
	return k;
}

/* A refusal the database may take back: busy, or a full disk. */
static int
may_record_later(int status)
{
	return status == EX_TEMPFAIL || status == EX_IOERR;
}

/*
 * A task ended: record it, report it, free it.  An end the database
 * refuses for now (a full disk) keeps the task, its lease renewed, and is
 * tried again (run_loop()): given up, the task would be found lost and run
 * again.  Returns 1 when the task was freed.
 */
/*
 * The job of t ended: its webhook gets a summary, posted by artifact-fetch
 * --notify in a process of its own (with retries that must not hold up
 * the worker), which records how it went as an event of the job.  The
 * "text" member is what a Slack webhook shows.
 */
/* The summary a webhook gets: a new string, or NULL. */
static char *
notify_body(struct task *t, const struct exec_result *x, json_t *job)
{
	const char *state = json_string_value(json_object_get(job, "state"));
	const char *name = json_string_value(json_object_get(job, "name"));
	char text[1024], *body;
	json_t *o;

	snprintf(text, sizeof(text), "jobkit: job %s '%s' %s (exit %d)%s%s",
	    t->job, name ? name : "", state ? state : "ended", x->exit_code,
	    x->error[0] ? ": " : "", x->error);
	o = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:I, s:i, s:i, s:s?}",
	    "text", text, "id", t->job, "name", name, "state", state, "task",
	    t->id, "attempt", (json_int_t)t->attempt, "exit_code", x->exit_code,
	    "signal", x->signal, "error", x->error[0] ? x->error : NULL);
	body = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return body;
}

/*
 * The job of t ended: its webhook gets a summary, posted by artifact-fetch
 * --notify in a process of its own (with retries that must not hold up
 * the worker), which records how it went as an event of the job.  The
 * "text" member is what a Slack webhook shows.
 */
static void
notify(
    struct runner *r, struct task *t, const struct exec_result *x, json_t *job)
{
	char *argv[] = {r->stager, "--notify", t->notify, "--job", t->job,
	    "--db", r->db, "-q", NULL};
	char *body = notify_body(t, x, job);
	int p[2];
	pid_t pid = -1;

	if (body == NULL || r->stager[0] == '\0' || r->db == NULL ||
	    pipe2(p, O_CLOEXEC) == -1) {
		warnx("%s: cannot notify its webhook", t->job);
		free(body);
		return;
	}
	/* Its outcome is an event: nothing of it on our output, which
	 * a pipeline reads to its end. */
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(p[0], STDIN_FILENO);
		if (null != -1) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execv(r->stager, argv);
		_exit(127);
	}
	close(p[0]);
	if (pid > 0) {
		exec_spare(pid);
		/* A summary is far smaller than a pipe holds. */
		if (write(p[1], body, strlen(body)) == -1)
			warnx("%s: cannot notify: %s", t->job, strerror(errno));
	} else
		warn("%s: cannot notify", t->job);
	close(p[1]);
	free(body);
}

/* A task's result, as the store records it: res->usage is the caller's,
 * res->results points into dir (len bytes). */
static void
end_result(struct runner *r, struct task *t, struct task_result *res, char *dir,
    size_t len)
{
	if (t->res == NULL)
		t->res = exec_result(t->x);
	snprintf(dir, len, "%s/%s", r->results, t->id);
	/* Its end is recorded all the same. */
	if (lease_result(t->res, dir, res) == -1)
		warnx("%s: its usage is not recorded: %s", t->id, error_msg());
	if (t->pid_at != 0) {
		res->pid = exec_pid(t->x);
		res->devices = devices_of(t);
		res->cmd = t->digest;
	}
	if (t->requeue) {
		res->state = "cancelled";
		res->requeue = 1;
		res->error = "its worker stopped";
	}
}

static int end_done(
    struct runner *r, int i, int k, json_t *job, int last, int64_t now);

/* Task i is done with: its slot, lease and devices are free. */
static void
task_free(struct runner *r, int i)
{
	struct task *t = r->tasks[i];

	lease_release(r->lease, t->id);
	exec_free(t->x);
	r->gpu_busy &= ~t->gpu_mask;
	free(t->notify);
	free(t);
	r->tasks[i] = r->tasks[--r->ntasks];
}

/* A task ended: record it, then report it.  Returns 1 when it is done
 * with, 0 when its end is to be recorded later. */
static int
end_task(struct runner *r, int i, int64_t now)
{
	struct task *t = r->tasks[i];
	const struct exec_result *x;
	json_t *usage, *job = NULL;
	struct task_result res;
	char dir[4096];
	int k, last;

	end_result(r, t, &res, dir, sizeof(dir));
	x = t->res;
	usage = res.usage;
	if (t->gone) {
		/* Found lost and given to another attempt: not ours to end. */
		json_decref(usage);
		warnx("%s: stopped, its lease lost: its end is not recorded",
		    t->id);
		if (!r->worker && r->status == 0)
			r->status = LEASE_LOST_STATUS;
		report(r, t, x, NULL);
		task_free(r, i);
		return 1;
	}
	k = record_end(r, t, &res, &job, &last);
	json_decref(usage);
	return end_done(r, i, k, job, last, now);
}

/* What follows a task's end that record_end() tried (k, job, last). */
static int
end_done(struct runner *r, int i, int k, json_t *job, int last, int64_t now)
{
	struct task *t = r->tasks[i];
	const struct exec_result *x = t->res;
	int lost;

	if (k == -1 && may_record_later(error_status()) && !r->give_up) {
		if (t->record_at == 0) {
			warnx("%s: cannot record its end: %s; trying again "
			      "every %d s",
			    t->id, error_msg(), RECORD_AGAIN_MS / 1000);
			r->unrecorded++;
		}
		t->record_at = now + RECORD_AGAIN_MS;
		return 0;
	}
	if (t->record_at != 0)
		r->unrecorded--;
	lost = k == -1 && may_record_later(error_status());
	if (k == -1)
		warnx("%s: %s%s", t->id, error_msg(),
		    lost ? ": its end is not recorded, it will be found lost"
			 : "");
	else if (t->record_at != 0)
		warnx("%s: its end is recorded", t->id);
	if (!t->requeue)
		note_retry(r, job);
	/*
	 * A worker's status is its own; a job runner's, its jobs': the first
	 * that failed, by its last attempt.
	 */
	if (!r->worker && (last || k == -1) &&
	    (r->foreground || r->status == 0))
		r->status = lost ? EX_IOERR : x->status;
	if (r->foreground &&
	    (x->status == EX_IOERR || x->oom ||
		(x->status >= 125 && x->status <= 127)))
		warnx("%s", x->error);
	/* A reader that went away is a pipeline's business; a full disk
	 * where the output should go is ours. */
	if (x->echo_errno != 0 && x->echo_errno != EPIPE) {
		warnx("cannot pass the job's output through: %s",
		    strerror(x->echo_errno));
		if (r->foreground && r->status == 0)
			r->status = 125;
	}
	if (last && t->notify != NULL)
		notify(r, t, x, job);
	report(r, t, x, job);
	json_decref(job);
	task_free(r, i);
	return 1;
}

/* Take what a task reserves from what is free (-1: unlimited). */
static void
reserve(
    struct claim_fit *f, int64_t cpu, int64_t memory, int64_t disk, int64_t gpu)
{
	if (f->cpu_milli >= 0)
		f->cpu_milli -= cpu;
	if (f->memory >= 0)
		f->memory -= memory;
	if (f->disk >= 0)
		f->disk -= disk;
	if (f->gpu >= 0)
		f->gpu -= gpu;
}

/* Take what a claimed job will reserve (its info) from what is free. */
static void
reserve_claim(struct claim_fit *f, json_t *info)
{
	json_t *spec = json_object_get(info, "spec");

	reserve(f, res_of(spec, "cpu", 1000), res_of(spec, "memory", 1),
	    res_of(spec, "disk", 1), res_of(spec, "gpu", 1));
}

/* What is still free of the capacity, but for tasks ending now; the
 * claims that wait for their commit (struct group) hold theirs. */
static void
free_capacity(struct runner *r, struct claim_fit *f)
{
	*f = r->cap;
	f->queues = r->nqueues ? r->queues : NULL;
	for (int i = 0; i < r->ntasks; i++)
		if (!r->tasks[i]->ending)
			reserve(f, r->tasks[i]->cpu, r->tasks[i]->memory,
			    r->tasks[i]->disk, r->tasks[i]->gpu);
	for (struct group *g = r->groups; g != NULL; g = g->next)
		for (int i = 0; i < g->nclaim; i++)
			reserve_claim(f, g->info[i]);
}

/* The slots taken: tasks running, and those claimed but not started. */
static int
busy(const struct runner *r)
{
	int n = 0;

	for (int i = 0; i < r->ntasks; i++)
		n += !r->tasks[i]->ending;
	for (struct group *g = r->groups; g != NULL; g = g->next)
		n += g->nclaim;
	return n;
}

/* How often at most a worker says why the jobs it cannot run wait. */
#define NOTE_EVERY_MS 5000

/*
 * A slot is free and nothing fits it: the jobs of our queues that we can
 * never run say why they wait (store_note_unfit()), when something may
 * have changed since we last said, and not more often than NOTE_EVERY_MS.
 * Returns when to look again (INT64_MAX: at the next change).
 */
static int64_t
note_unfit(struct runner *r, int64_t now)
{
	struct claim_fit cap = r->cap;
	int k;

	if (!r->note)
		return INT64_MAX;
	if (now < r->noted + NOTE_EVERY_MS)
		return r->noted + NOTE_EVERY_MS;
	cap.queues = r->nqueues ? r->queues : NULL;
	if ((k = store_note_unfit(r->st, &cap)) == -1)
		warnx("%s", error_msg());
	/* The rest of a look at every job, once the loop has tended to
	 * what else is due. */
	if (k == 1)
		return now;
	r->noted = now;
	r->note = 0;
	return INT64_MAX;
}

/* With a slot free, learn when the next job we may claim becomes due. */
static void
find_next_due(struct runner *r)
{
	struct claim_fit f;

	r->next_due = 0;
	free_capacity(r, &f);
	if (busy(r) < r->slots && !r->stopping &&
	    store_next_due(r->st, &f, &r->next_due) == -1)
		warnx("%s", error_msg());
}

/*
 * Claim work while slots are free; then, with a slot still free, learn
 * when the next job of ours becomes due, to wake up for it.  Nothing is
 * claimed while a task's end waits to be recorded: the database refuses
 * writes.
 */
static void
claim_more(struct runner *r)
{
	struct claim_fit f;
	json_t *info;
	int k;

	while (!r->stopping && r->unrecorded == 0 && busy(r) < r->slots) {
		free_capacity(r, &f);
		if ((k = store_claim(r->st, r->run, &f, &info)) == -1) {
			warnx("%s", error_msg());
			if (r->status == 0)
				r->status = error_status();
			break;
		}
		if (k == 0) {
			r->note |= r->db_changed || r->relayed || r->noted == 0;
			break;
		}
		start_task(r, info);
	}
	find_next_due(r);
}

/* Keep what a commit not yet on the disk is to report and start. */
static void
group_add(struct runner *r, uint64_t ticket, const int *idx, int n,
    json_t **job, const int *last, json_t **info, int nclaim)
{
	struct group *g;
	size_t ptrs = (size_t)(2 * n + nclaim);

	g = calloc(
	    1, sizeof(*g) + ptrs * sizeof(void *) + (size_t)n * sizeof(int));
	if (g == NULL)
		oom(r);
	g->ticket = ticket;
	g->n = n;
	g->nclaim = nclaim;
	g->ended = (struct task **)(g + 1);
	g->job = (json_t **)(g->ended + n);
	g->info = g->job + n;
	g->last = (int *)(g->info + nclaim);
	for (int i = 0; i < n; i++) {
		g->ended[i] = r->tasks[idx[i]];
		g->job[i] = job[i];
		g->last[i] = last[i];
	}
	memcpy(g->info, info, (size_t)nclaim * sizeof(*info));
	*r->groups_end = g;
	r->groups_end = &g->next;
}

/* Where task t is in the runner's list. */
static int
task_index(const struct runner *r, const struct task *t)
{
	int i = 0;

	while (r->tasks[i] != t)
		i++;
	return i;
}

/*
 * A group's commit is on the disk: report its ends, then start its claims.
 * A run found lost meanwhile starts none (their rows are its own, found
 * lost with it); after a second signal they start only to be cancelled,
 * as the running ones were.
 */
static void
group_done(struct runner *r, struct group *g, int64_t now)
{
	int i, n;

	for (i = 0; i < g->n; i++)
		end_done(r, task_index(r, g->ended[i]), 0, g->job[i],
		    g->last[i], now);
	/* With nothing running, look once more for what the tasks left
	 * (exec_kill_strays()), never waiting here. */
	if (r->ntasks == 0)
		exec_kill_strays(0);
	for (i = 0; i < g->nclaim; i++) {
		if (r->lost) {
			json_decref(g->info[i]);
			continue;
		}
		n = r->ntasks;
		start_task(r, g->info[i]);
		if (r->stopping > 1 && r->ntasks > n) {
			r->tasks[n]->requeue = 1;
			exec_cancel(r->tasks[n]->x, "cancelled");
		}
	}
	find_next_due(r);
}

/*
 * Settle the groups whose commits are on the disk, oldest first.  Should
 * the disk have refused a sync, nothing since is known to be there: the
 * worker kills its tasks and stops, reporting none, and their jobs are
 * found lost once its lease runs out.
 */
static void
settle(struct runner *r)
{
	int64_t now = parse_now_ms();
	struct group *g;
	uint64_t done;

	if (store_durable(r->st, &done) == -1) {
		for (int i = 0; i < r->ntasks; i++)
			if (!r->tasks[i]->ending)
				kill(-exec_pid(r->tasks[i]->x), SIGKILL);
		errx(EX_IOERR, "%s", error_msg());
	}
	while ((g = r->groups) != NULL && g->ticket <= done) {
		if ((r->groups = g->next) == NULL)
			r->groups_end = &r->groups;
		group_done(r, g, now);
		free(g);
	}
}

/*
 * A worker's tasks that ended (indexes idx, highest first), recorded in one
 * transaction with the claims of the slots they free: one wait for the disk
 * for them all (group commit), not one for each end and one for each claim.
 * Every end is committed before it is reported and before a task starts in
 * its place, and each task claimed starts only once the commit is on the
 * disk (settle()), so a crash at any point leaves every job in one state;
 * the worker does not wait for the disk meanwhile.  Returns how many
 * ended, or -1 if the group was not written: each end is then recorded on
 * its own (end_task(), which knows what to do with a refusal).
 */
static int
end_and_claim(struct runner *r, const int *idx, int n, int64_t now)
{
	struct task_result res;
	json_t *job[MAX_TASKS], *info[MAX_TASKS];
	int last[MAX_TASKS], k = 0, c, i, ended = 0, nclaim = 0;
	struct claim_fit f;
	uint64_t ticket;
	char dir[4096];

	for (i = 0; i < n; i++)
		if (r->tasks[idx[i]]->gone || r->tasks[idx[i]]->record_at != 0)
			return -1;
	if (store_begin(r->st) == -1)
		return -1;
	for (; ended < n && k == 0; ended++) {
		struct task *t = r->tasks[idx[ended]];
		end_result(r, t, &res, dir, sizeof(dir));
		t->ending = 1;
		k = store_task_finish(r->st, t->id, &res, &job[ended]);
		json_decref(res.usage);
		last[ended] = k == 0 &&
		    store_terminal(json_string_value(
			json_object_get(job[ended], "state")));
	}
	while (k == 0 && !r->stopping && !r->lost && r->unrecorded == 0 &&
	    busy(r) + nclaim < r->slots) {
		free_capacity(r, &f);
		for (i = 0; i < nclaim; i++)
			reserve_claim(&f, info[i]);
		if ((c = store_claim(r->st, r->run, &f, &info[nclaim])) == -1)
			k = -1;
		else if (c == 0)
			r->note |= r->db_changed || r->relayed || r->noted == 0;
		if (c != 1)
			break;
		nclaim++;
	}
	if (k == 0 && store_commit_later(r->st, &ticket) == 0) {
		group_add(r, ticket, idx, n, job, last, info, nclaim);
		settle(r);
		return n;
	}
	if (k != 0)
		store_rollback(r->st);
	for (i = 0; i < ended; i++) {
		r->tasks[idx[i]]->ending = 0;
		json_decref(job[i]);
	}
	for (i = 0; i < nclaim; i++)
		json_decref(info[i]);
	return -1;
}

/* Whether stdin has something to read (or its end), within ms. */
static int
stdin_readable(int ms)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};

	return poll(&p, 1, ms) > 0;
}

/* The next reference of a job named: from argv, or stdin as it comes
 * (2: none there yet). */
static int
next_ref(struct runner *r, const char **ref)
{
	static struct idin *in;
	int k;

	if (r->ids != NULL) {
		if ((*ref = *r->ids) == NULL)
			return 0;
		r->ids++;
		return 1;
	}
	if (!r->stdin_ready)
		return 2;
	if (in == NULL && (in = idin_open(stdin, "stdin")) == NULL)
		errx(EX_OSERR, "%s", error_msg());
	if ((k = idin_next(in, ref)) == 0) {
		idin_close(in);
		in = NULL;
	}
	r->stdin_ready = k != 0 && stdin_readable(0);
	return k;
}

/* The next named job to run: a shard due, or the next named. */
static int
next_named(struct runner *r, char *id)
{
	const char *ref;
	int k;

	for (;;) {
		if (json_array_size(r->shards) > 0) {
			snprintf(id, ID_LEN + 1, "%s",
			    json_string_value(json_array_get(r->shards, 0)));
			json_array_remove(r->shards, 0);
			return 1;
		}
		if ((k = next_ref(r, &ref)) == 0 || k == 2)
			return 0;
		if (k == 1 && store_job_resolve(r->st, ref, id) == 0)
			return 1;
		warnx("%s", error_msg());
		if (r->status == 0)
			r->status = error_status();
	}
}

/* Whether this run ran job id (its last task is ours). */
static int
ran_here(struct runner *r, const char *id)
{
	json_t *job = store_job_describe(r->st, id), *tasks, *t;
	int yes;

	tasks = json_object_get(job, "tasks");
	t = json_array_get(tasks, json_array_size(tasks) - 1);
	yes = t != NULL && json_is_string(json_object_get(t, "run")) &&
	    strcmp(json_string_value(json_object_get(t, "run")), r->run) == 0;
	json_decref(job);
	return yes;
}

/* Named job id is a job of shards: its shards that have not ended are to
 * run next.  1 when it is one. */
static int
named_shards(struct runner *r, const char *id)
{
	json_t *ids = store_job_shards(r->st, id);
	int yes = json_array_size(ids) > 0;

	if (yes &&
	    ((r->shards == NULL && (r->shards = json_array()) == NULL) ||
		json_array_extend(r->shards, ids) == -1))
		errx(EX_OSERR, "out of memory");
	json_decref(ids);
	return yes;
}

static void
run_named(struct runner *r)
{
	char id[ID_LEN + 1];
	json_t *info;

	while (!r->stopping && r->ntasks < r->slots && next_named(r, id)) {
		if (store_claim_job(r->st, r->run, id, &info) == -1) {
			int e = error_status();
			char why[512];
			snprintf(why, sizeof(why), "%s", error_msg());
			/* A shard over its parent's cap waits for a slot:
			 * first to run when one frees. */
			if (e == EX_TEMPFAIL) {
				if ((r->shards == NULL &&
					(r->shards = json_array()) == NULL) ||
				    json_array_insert_new(
					r->shards, 0, json_string(id)) == -1)
					errx(EX_OSERR, "out of memory");
				break;
			}
			/* A job named twice is still one job to run; a job
			 * of shards is its shards. */
			if (e == EX_DATAERR &&
			    (ran_here(r, id) || named_shards(r, id)))
				continue;
			warnx("%s", why);
			if (r->status == 0)
				r->status = e;
			continue;
		}
		start_task(r, info);
	}
}

static void
on_signal(struct runner *r)
{
	struct signalfd_siginfo si;
	int i;

	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		r->stopping++;
		r->signo = (int)si.ssi_signo;
		/* A worker finishes its tasks on the first signal. */
		if (r->worker && r->stopping == 1) {
			/* Not those ended whose commit goes to the disk;
			 * those claimed in it, yes (busy()). */
			warnx("stopping: finishing %d task(s); signal again to "
			      "cancel them",
			    busy(r));
			continue;
		}
		for (i = 0; i < r->ntasks; i++) {
			r->tasks[i]->requeue = r->worker;
			exec_cancel(r->tasks[i]->x, "cancelled");
			/* And ends the database refuses are waited for no
			 * more: they go as lost. */
			if (r->tasks[i]->record_at != 0) {
				r->give_up = 1;
				r->tasks[i]->record_at = 1;
			}
		}
	}
}

/* Cancel the tasks whose jobs were asked to cancel. */
static void
cancel_listed(struct runner *r, json_t *cancel)
{
	json_t *v;
	size_t i;
	int k;

	json_array_foreach(cancel, i, v)
	{
		for (k = 0; k < r->ntasks; k++)
			if (strcmp(r->tasks[k]->id, json_string_value(v)) == 0)
				exec_cancel(r->tasks[k]->x, "cancelled");
	}
}

static void
check_cancels(struct runner *r)
{
	json_t *cancel;

	if (lease_cancels(r->lease, &cancel) == -1) {
		warnx("%s", error_msg());
		return;
	}
	cancel_listed(r, cancel);
	json_decref(cancel);
}

/* Stop the tasks listed (all, with all set): their lease is lost. */
static void
stop_gone(struct runner *r, json_t *gone, int all)
{
	for (int k = 0; k < r->ntasks; k++) {
		struct task *t = r->tasks[k];
		json_t *v;
		size_t i;
		int hit = all;

		json_array_foreach(gone, i, v)
		{
			hit |= strcmp(t->id, json_string_value(v)) == 0;
		}
		if (hit && !t->gone) {
			t->gone = 1;
			exec_cancel(t->x, "its lease was lost");
		}
	}
}

/* Renew the run's lease and reap others' when due; act on what it found. */
static void
tend_lease(struct runner *r, int64_t now)
{
	struct lease_news n;
	json_t *v;
	size_t i;

	if (now < lease_due(r->lease))
		return;
	if (lease_tick(r->lease, now, &n) == -1)
		errx(error_status(), "%s", error_msg());
	if (n.why[0] != '\0' && !n.lost)
		warnx("%s", n.why);
	cancel_listed(r, n.cancel);
	stop_gone(r, n.gone, 0);
	if (n.lost && !r->lost) {
		warnx("%s: stopping its %d task(s)", n.why, r->ntasks);
		r->lost = 1;
		stop_gone(r, NULL, 1);
	}
	json_array_foreach(n.reaped, i, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "kind")),
			"task") == 0)
			warnx("%s: found lost (%s)",
			    json_string_value(json_object_get(v, "id")),
			    json_string_value(json_object_get(v, "error")));
	}
	lease_news_free(&n);
}

/* A worker whose run was found lost goes on as a new run. */
static void
new_run(struct runner *r)
{
	char old[STORE_RUN_ID_LEN + 1];

	snprintf(old, sizeof(old), "%s", r->run);
	lease_free(r->lease);
	if ((r->lease = lease_start(r->st, &r->rn, 0)) == NULL)
		errx(error_status(), "%s", error_msg());
	r->run = lease_id(r->lease);
	warnx("run '%s' lost: going on as run '%s'", old, r->run);
	r->lost = 0;
}

/* A worker listens for jobs to store, unless another worker does; one
 * that is stopping takes no more, and its submitters store them. */
static void
tend_relay(struct runner *r, int64_t now)
{
	if (r->stopping && r->relay != NULL) {
		relay_close(r->relay);
		r->relay = NULL;
	}
	if (!r->worker || r->relay != NULL || now < r->relay_at || r->stopping)
		return;
	if ((r->relay = relay_listen(r->db,
		 r->nqueues ? (const char *const *)r->queues : NULL)) == NULL)
		r->relay_at = now + RELAY_RETRY_MS;
}

/* Store what submitters handed us; a new job may be ours to claim. */
static void
take_relayed(struct runner *r)
{
	int n = relay_step(r->relay, r->st);

	if (n == -1)
		oom(r);
	/* Not db_changed: db_settle() sees only others' commits. */
	if (n > 0)
		r->relayed = 1;
}

/* Wait for output, signals, deadlines, database writes or submitters. */
static void
wait_events(struct runner *r, int64_t until)
{
	struct pollfd pfd[2 * MAX_TASKS + 4 + RELAY_FDS];
	int n = 0, i, fds[RELAY_FDS], k, durable = -1, relay = -1;
	int64_t now = parse_now_ms(), d;
	char buf[4096] __attribute__((aligned(8)));

	if (r->watch_at > 0 && now >= r->watch_at) {
		/* What was written before the watch is looked at once. */
		r->watch_at = 0;
		watch_db(r);
		r->db_changed = 1;
		return;
	}
	if (r->watch_at > 0 && r->watch_at < until)
		until = r->watch_at;
	pfd[n++] = (struct pollfd){.fd = r->sigfd, .events = POLLIN};
	if (r->inofd != -1)
		pfd[n++] = (struct pollfd){.fd = r->inofd, .events = POLLIN};
	if (r->stdin_wait)
		pfd[n++] =
		    (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
	for (i = 0; i < r->ntasks; i++) {
		k = exec_fds(r->tasks[i]->x, fds, 2);
		for (int j = 0; j < k; j++)
			pfd[n++] =
			    (struct pollfd){.fd = fds[j], .events = POLLIN};
		if ((d = exec_deadline(r->tasks[i]->x)) > 0 && d < until)
			until = d;
		if ((d = r->tasks[i]->record_at) > 0 && d < until)
			until = d;
	}
	if (r->groups != NULL) {
		durable = n;
		pfd[n++] = (struct pollfd){
		    .fd = store_durable_fd(r->st), .events = POLLIN};
	}
	if (r->relay != NULL) {
		relay = n;
		k = relay_fds(r->relay, fds);
		for (int j = 0; j < k; j++)
			pfd[n++] =
			    (struct pollfd){.fd = fds[j], .events = POLLIN};
	}
	d = until - now;
	if (poll(pfd, (nfds_t)n, d < 0 ? 0 : d > 60000 ? 60000 : (int)d) > 0) {
		if (durable != -1 && pfd[durable].revents)
			settle(r);
		for (i = relay; relay != -1 && i < n; i++)
			if (pfd[i].revents) {
				take_relayed(r);
				break;
			}
		if (pfd[0].revents)
			on_signal(r);
		if (n > 1 && pfd[1].fd == r->inofd && pfd[1].revents) {
			ssize_t got;
			while ((got = read(r->inofd, buf, sizeof(buf))) > 0)
				r->db_changed |= db_written(r, buf, got);
		}
		for (i = 1; i < n && r->stdin_wait; i++)
			if (pfd[i].fd == STDIN_FILENO && pfd[i].revents)
				r->stdin_ready = 1;
	}
}

/*
 * Claim the retries of our jobs that are due, and a foreground job whose
 * dependencies have let it go, while slots are free.  Returns when the
 * next one is due (INT64_MAX when none waits).
 */
static int64_t
run_retries(struct runner *r, int64_t now)
{
	int64_t next = INT64_MAX;
	char state[16];
	json_t *info;
	struct retry *q;

	for (int i = 0; i < r->nretries;) {
		q = &r->retries[i];
		if (q->due > now || r->ntasks >= r->slots || r->stopping) {
			if (q->due > now && q->due < next)
				next = q->due;
			i++;
			continue;
		}
		if (store_claim_job(r->st, r->run, q->job, &info) == 0)
			start_task(r, info);
		else if (error_status() == EX_DATAERR &&
		    store_job_state(r->st, q->job, state) == 0 &&
		    strcmp(state, STATE_WAITING) == 0) {
			/* Look again when the database changes, or in 1 s. */
			q->due = now + 1000;
			if (q->due < next)
				next = q->due;
			i++;
			continue;
		} else if (error_status() == EX_DATAERR) {
			/* Taken by a worker, held or cancelled meanwhile. */
			if (spec_append(r->elsewhere, json_string(q->job)) ==
			    -1)
				oom(r);
		} else {
			warnx("%s", error_msg());
			if (r->foreground || r->status == 0)
				r->status =
				    r->foreground ? 125 : error_status();
		}
		*q = r->retries[--r->nretries];
	}
	return next;
}

/* When a loop with nothing running is done. */
static int
loop_done(struct runner *r, int more, int64_t now, int64_t idle_since)
{
	if (r->stopping)
		return 1;
	if (r->foreground)
		return r->nretries == 0;
	if (!r->worker)
		return !more && r->nretries == 0;
	if (r->drain && now >= r->retry_due)
		return 1;
	return r->idle_exit > 0 && now - idle_since >= r->idle_exit;
}

/*
 * inotify wakes us at a write to the database's WAL, which may come before
 * the commit shows (its index is updated after the sync, which a loaded
 * disk makes long): a change is a commit of another process, looked for
 * again after 2 ms, 4 ms ... 1 s apart, for 5 s after the write, until it
 * shows (or the write was ours, or rolled back).
 */
static void
db_settle(struct runner *r, int64_t now)
{
	int changed = 1;

	if (r->db_changed) {
		r->recheck_ms = 0;
		r->recheck_end = now + 5000;
	} else if (r->recheck == 0 || now < r->recheck)
		return;
	if (store_changed(r->st, &changed) == -1)
		changed = 1;
	r->db_changed = changed;
	r->recheck_ms = changed	       ? 0
	    : r->recheck_ms == 0       ? 2
	    : r->recheck_ms * 2 > 1000 ? 1000
				       : r->recheck_ms * 2;
	r->recheck = changed || now + r->recheck_ms > r->recheck_end
	    ? 0
	    : now + r->recheck_ms;
}

/* Record the pids of the tasks that have run PID_DELAY_MS; returns when
 * the next is due (INT64_MAX for none). */
static int64_t
record_pids(struct runner *r, int64_t now)
{
	int64_t next = INT64_MAX;

	for (int i = 0; i < r->ntasks; i++) {
		struct task *t = r->tasks[i];
		if (t->pid_at == 0 || t->res != NULL)
			continue;
		if (now < t->pid_at) {
			if (t->pid_at < next)
				next = t->pid_at;
			continue;
		}
		/* A fact a failure may lose: its end records it again. */
		if (store_task_pid(r->st, t->id, exec_pid(t->x), devices_of(t),
			t->digest) == 0)
			t->pid_at = 0;
		else
			t->pid_at = now + PID_DELAY_MS;
	}
	return next;
}

/*
 * When the loop must wake with nothing to read: the first of the lease's
 * renewal (a worker's every third of it), the idle exit, a retry's or a
 * job's due time, due (a named job's retry, when after now), note (the
 * next note on unfit jobs, note_unfit()), pids (record_pids()), a recheck
 * and the strays' next look.
 */
static int64_t
wake_at(const struct runner *r, int64_t now, int64_t idle_since, int64_t due,
    int64_t note, int64_t pids)
{
	int64_t until = lease_due(r->lease);

	if (r->worker && now + lease_interval(r->lease) < until)
		until = now + lease_interval(r->lease);
	if (r->ntasks == 0 && r->idle_exit > 0 &&
	    idle_since + r->idle_exit < until)
		until = idle_since + r->idle_exit;
	if (r->retry_due > now && r->retry_due < until)
		until = r->retry_due;
	if (due > now && due < until)
		until = due;
	/* A job due at a time (--at, a retry's backoff) starts then,
	 * whoever wrote it. */
	if (r->next_due > now && r->next_due < until)
		until = r->next_due;
	if (note < until)
		until = note;
	if (pids < until)
		until = pids;
	if (r->recheck > 0 && r->recheck < until)
		until = r->recheck;
	/* Strays killed are looked at again until they are gone. */
	if (exec_strays_due() > 0 && exec_strays_due() < until)
		until = exec_strays_due();
	return until;
}

/* Step every task; put in idx the index of each that ended (or whose end
 * is due to be recorded), last first, and return how many. */
static int
step_tasks(struct runner *r, int64_t now, int *idx)
{
	int n = 0;

	for (int i = r->ntasks - 1; i >= 0; i--) {
		struct task *t = r->tasks[i];

		/* Ending: reported once its group's commit is on the disk
		 * (settle()). */
		if (t->ending)
			continue;
		if (t->res != NULL ? now >= t->record_at
				   : exec_step(t->x, now) != 0)
			idx[n++] = i;
	}
	return n;
}

/* The main loop of every mode that runs tasks. */
static void
run_loop(struct runner *r)
{
	int64_t now, idle_since, due = 0, note = INT64_MAX, pids;
	int i, n, more = 1, ended, look = 1, idx[MAX_TASKS];

	idle_since = parse_now_ms();
	for (;;) {
		now = parse_now_ms();
		/* The run's lease, renewed every third of it (a worker's
		 * idle too: it shows it serves its queues), and others'
		 * reaped once a lease. */
		tend_lease(r, now);
		tend_relay(r, now);
		db_settle(r, now);
		pids = record_pids(r, now);
		if (r->lost && r->ntasks == 0) {
			if (!r->worker || r->stopping)
				break;
			new_run(r);
		}
		/* A worker claims when something may have changed: a write,
		 * a task's end, a job's due time, and every third of a lease
		 * (not each time a task's memory is sampled). */
		if (r->lost)
			;
		else if (r->worker) {
			int came = r->next_due > 0 && now >= r->next_due;

			if (look || r->db_changed || came || r->relayed)
				claim_more(r);
			r->relayed = 0;
			/* A job that came due and fits nothing of ours says
			 * why it waits. */
			r->note |= came;
			look = 0;
			note = note_unfit(r, now);
		} else {
			due = run_retries(r, now);
			if (more && !r->foreground) {
				run_named(r);
				more = json_array_size(r->shards) > 0 ||
				    (r->ids != NULL ? *r->ids != NULL
						    : !feof(stdin));
			}
			r->stdin_wait = more && r->ids == NULL &&
			    !r->foreground && !r->stdin_ready &&
			    r->ntasks < r->slots && !r->stopping;
		}
		if (r->ntasks > 0)
			idle_since = now;
		else if (loop_done(r, more, now, idle_since))
			break;
		if (r->db_changed && r->ntasks > 0)
			check_cancels(r);
		r->db_changed = 0;
		wait_events(r, wake_at(r, now, idle_since, due, note, pids));
		exec_reap_orphans();
		now = parse_now_ms();
		n = step_tasks(r, now, idx);
		/* A worker writes the ends with the claims that follow. */
		if (n > 0 && r->worker && end_and_claim(r, idx, n, now) >= 0)
			continue;
		for (i = 0, ended = 0; i < n; i++)
			ended += end_task(r, idx[i], now);
		/* With nothing running, look once more for what the tasks
		 * left (exec_kill_strays()), never waiting here. */
		if (ended && r->ntasks == 0)
			exec_kill_strays(0);
		look |= ended > 0;
	}
}

/*
 * exec-run -- cmd: record the run, submit the job and claim it in one
 * transaction (one wait for the disk, not three), then run it here.  The
 * command starts only once that is committed: a crash may leave a task
 * recorded that never ran (found lost later), never one that ran unrecorded.
 */
static void
submit_foreground(struct runner *r, const struct run_new *rn)
{
	struct job_new jn;
	json_t *raw, *spec, *info, *out = NULL, *cmd;
	char id[ID_LEN + 1], cwd[4096];
	int existed, waiting = 0;

	/* Like timeout(1), a command typed here runs here, with our
	 * environment (unless --export says what of it). */
	cwd[0] = '\0';
	if (json_object_get(r->over, "workdir") == NULL &&
	    json_object_get(r->over, "scratch") == NULL) {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			err(125, "current directory");
		if (!utf8_valid(cwd, strlen(cwd)))
			errx(125, "current directory '%s' is not UTF-8", cwd);
	}
	/* JSON text is UTF-8: a command that is not is bad input (65),
	 * refused before anything is made. */
	if (r->shell != NULL && !utf8_valid(r->shell, strlen(r->shell)))
		errx(EX_DATAERR, "the command is not UTF-8");
	if (r->shell != NULL)
		cmd = json_string_nocheck(r->shell);
	else if ((cmd = specopt_argv(r->argv)) == NULL)
		errx(error_status() == EX_DATAERR ? EX_DATAERR : 125, "%s",
		    error_msg());
	if ((raw = json_object()) == NULL ||
	    spec_set(raw, r->shell != NULL ? "shell" : "command", cmd) == -1 ||
	    (cwd[0] != '\0' &&
		spec_set(raw, "workdir", json_string_nocheck(cwd)) == -1))
		oom(r);
	if (spec_merge(raw, r->over) == -1)
		oom(r);
	/* A bad spec is bad input (65), as job-submit says; only what
	 * fails in exec-run itself is 125. */
	if ((spec = spec_normalize(raw, parse_now_ms())) == NULL ||
	    spec_to_job(spec, &jn) == -1) {
		json_decref(raw);
		json_decref(spec);
		errx(error_status(), "%s", error_msg());
	}
	if (store_begin(r->st) == -1 ||
	    (r->lease = lease_start(r->st, rn, 0)) == NULL ||
	    (r->run = lease_id(r->lease), 0) ||
	    store_job_add(r->st, &jn, id, &out, &existed) == -1 ||
	    (!existed &&
		!(waiting =
			strcmp(json_string_value(json_object_get(out, "state")),
			    STATE_WAITING) == 0) &&
		store_claim_job(r->st, r->run, id, &info) == -1) ||
	    store_commit(r->st) == -1) {
		/* An unknown --after job is bad input too. */
		int e = error_status();
		errx(e == EX_DATAERR || e == EX_NOINPUT ? e : 125, "%s",
		    error_msg());
	}
	json_decref(out);
	if (waiting) {
		/* --after a job still to end: run here once that lets it. */
		add_retry(r, id, 0);
		warnx("job '%s' waits for its dependencies", id);
	} else if (existed) {
		/* The key's job ran or runs already: its end is ours. */
		warnx(
		    "job '%s' has key '%s': not running it again", id, jn.key);
		if (spec_append(r->elsewhere, json_string(id)) == -1)
			oom(r);
	} else if (start_task(r, info) == -1) {
		exit(r->status);
	} else {
		/* While the command runs: a failed copy is no failure of
		 * the job; the next run, or a close that finds the WAL
		 * twice as long, copies it. */
		(void)store_idle(r->st);
	}
	json_decref(raw);
	json_decref(spec);
}

/* The exit status an ended task stands for, timeout(1)-like. */
static int
task_status(json_t *t)
{
	const char *state = json_string_value(json_object_get(t, "state"));

	if (state != NULL && strcmp(state, STATE_SUCCEEDED) == 0)
		return 0;
	if (state != NULL && strcmp(state, "timed_out") == 0)
		return 124;
	if (json_object_get(t, "signal") != NULL)
		return 128 +
		    (int)json_integer_value(json_object_get(t, "signal"));
	if (json_object_get(t, "exit_code") != NULL &&
	    json_integer_value(json_object_get(t, "exit_code")) != 0)
		return (int)json_integer_value(json_object_get(t, "exit_code"));
	return 1;
}

/* The exit status a finished job stands for, timeout(1)-like. */
static int
job_status(json_t *job)
{
	json_t *tasks = json_object_get(job, "tasks"), *t;
	const char *state = json_string_value(json_object_get(job, "state"));

	if (strcmp(state, STATE_SUCCEEDED) == 0)
		return 0;
	t = json_array_get(tasks, json_array_size(tasks) - 1);
	if (t == NULL) {
		/* Cancelled while queued, or failed by its dependency. */
		warnx("job '%s' %s without running: %s",
		    json_string_value(json_object_get(job, "id")), state,
		    json_string_value(json_object_get(job, "reason")));
		return 1;
	}
	/* A job that failed with a task that succeeded (its outputs could
	 * not be uploaded, say) still failed. */
	return task_status(t) == 0 ? 1 : task_status(t);
}

/*
 * Say once, at a terminal, that a queued job waits for a worker nobody
 * runs, rather than seem to hang.  Only of a job not yet attempted: the
 * retries of one run here or in the foreground are that run's to take,
 * and it is no worker.
 */
static void
note_unserved(struct runner *r, json_t *job, int *noted)
{
	const char *queue = json_string_value(json_object_get(job, "queue"));
	const char *state = json_string_value(json_object_get(job, "state"));
	int served = 1;

	if (*noted || state == NULL || strcmp(state, STATE_QUEUED) != 0 ||
	    json_integer_value(json_object_get(job, "attempts")) != 0)
		return;
	*noted = 1;
	if (!isatty(STDERR_FILENO) || queue == NULL ||
	    store_queue_served(r->st, queue, &served) == -1 || served)
		return;
	warnx("waiting: no worker serves queue '%s'; start one with "
	      "exec-run --worker",
	    queue);
}

/*
 * exec-run --wait: wait for one job (ref NULL: a bad line of stdin, the
 * error set); the first that failed sets the status.
 */
static int
wait_one(const char *ref, void *arg)
{
	struct runner *r = arg;
	char id[ID_LEN + 1], state[16];
	json_t *job;
	int status, noted = 0;

	if (r->stopping)
		return -1;
	if (ref == NULL || store_job_resolve(r->st, ref, id) == -1)
		errx(error_status(), "%s", error_msg());
	for (;;) {
		if (store_job_state(r->st, id, state) == -1)
			errx(error_status(), "%s", error_msg());
		if (store_terminal(state))
			break;
		if (!noted && strcmp(state, STATE_QUEUED) == 0 &&
		    (job = store_job_describe(r->st, id)) != NULL) {
			note_unserved(r, job, &noted);
			json_decref(job);
		}
		wait_events(r, parse_now_ms() + 1000);
		if (r->stopping)
			return -1;
	}
	if ((job = store_job_describe(r->st, id)) == NULL)
		errx(error_status(), "%s", error_msg());
	status = job_status(job);
	json_decref(job);
	if (r->status == 0)
		r->status = status;
	return 0;
}

/* exec-run --wait: the jobs named, or those on stdin. */
static int
wait_jobs(struct runner *r)
{
	r->status = 0;
	if (r->ids == NULL) {
		if (cli_read_ids(stdin, wait_one, r) == -1 && !r->stopping)
			errx(error_status(), "%s", error_msg());
	} else
		for (char **p = r->ids; *p != NULL && !r->stopping; p++)
			wait_one(*p, r);
	return r->stopping ? 128 + r->signo : r->status;
}

/* The task of job that ref names (its attempt, or else the last). */
static void
pick_task(json_t *job, const char *ref, char *task, size_t len)
{
	json_t *t;
	size_t i;

	task[0] = '\0';
	json_array_foreach(json_object_get(job, "tasks"), i, t)
	{
		const char *tid = json_string_value(json_object_get(t, "id"));
		if (strchr(ref, '.') == NULL ||
		    strcmp(strchr(ref, '.'), strchr(tid, '.')) == 0)
			snprintf(task, len, "%s", tid);
	}
}

/*
 * The output of a task as exec-run --logs shows it: one stream, or both
 * interleaved in the order the order file recorded their writes; from
 * the start, or skipping what comes before the last lines (--tail).
 */
struct logview {
	char path[3][PATH_MAX]; /* stdout, stderr, order */
	int fd[3]; /* -1 until the file is there */
	int bad; /* the one that could not be opened */
	int both, which; /* interleaved, else the stream shown (0, 1) */
	char rec[64]; /* an order record read in part */
	size_t reclen;
	char obuf[4096]; /* of the order file, read ahead */
	size_t opos, olen;
	int cur; /* the stream of the record being copied */
	int64_t left; /* and its bytes still to copy */
	int64_t copied[2], ordered[2]; /* bytes shown; bytes records cover */
	int counting; /* count lines, print nothing */
	int64_t lines, bytes; /* counted: lines and bytes */
	int last_nl; /* the last byte counted ended a line */
	int64_t skip_nl, skip_bytes; /* lines and bytes not to print */
	int werr; /* errno: our stdout could not be written */
};

static void
view_init(struct logview *v, const char *dir, int both, int which)
{
	static const char *names[] = {"stdout", "stderr", "order"};

	memset(v, 0, sizeof(*v));
	v->both = both;
	v->which = which;
	for (int i = 0; i < 3; i++) {
		snprintf(v->path[i], sizeof(v->path[i]), "%.4080s/%s", dir,
		    names[i]);
		v->fd[i] = -1;
	}
}

static void
view_close(struct logview *v)
{
	for (int i = 0; i < 3; i++)
		if (v->fd[i] != -1)
			close(v->fd[i]);
}

/*
 * Open the files not open yet; a task just claimed may not have made
 * them.  Returns 0, or -1 when one to show is missing and must be there
 * (must), or cannot be read; errno says why.
 */
static int
view_open(struct logview *v, int must)
{
	for (int i = 0; i < 3; i++) {
		if (v->fd[i] != -1 || (!v->both && i != v->which))
			continue;
		v->fd[i] = open(v->path[i], O_RDONLY | O_CLOEXEC);
		/* Results of before the order file are shown unmixed. */
		if (v->fd[i] == -1 && (errno != ENOENT || (must && i < 2))) {
			v->bad = i;
			return -1;
		}
	}
	return 0;
}

/* n bytes of the output: counted, skipped or printed. */
static void
view_emit(struct logview *v, const char *buf, size_t n)
{
	const char *nl;

	if (v->counting) {
		for (size_t i = 0; i < n; i++)
			v->lines += buf[i] == '\n';
		v->bytes += (int64_t)n;
		if (n > 0)
			v->last_nl = buf[n - 1] == '\n';
		return;
	}
	while (n > 0 && v->skip_bytes > 0 && v->skip_nl > 0) {
		size_t k =
		    n < (size_t)v->skip_bytes ? n : (size_t)v->skip_bytes;
		if ((nl = memchr(buf, '\n', k)) != NULL) {
			k = (size_t)(nl - buf) + 1;
			v->skip_nl--;
		}
		v->skip_bytes -= (int64_t)k;
		buf += k;
		n -= k;
	}
	if (n > 0 && fwrite(buf, 1, n, stdout) != n && v->werr == 0)
		v->werr = errno;
}

/* Copy up to max bytes (-1: all there is) of stream i on. */
static int64_t
view_copy(struct logview *v, int i, int64_t max)
{
	char buf[65536];
	int64_t done = 0;
	ssize_t n;

	while (v->fd[i] != -1 && (max < 0 || done < max)) {
		size_t want = max < 0 || max - done > (int64_t)sizeof(buf)
		    ? sizeof(buf)
		    : (size_t)(max - done);
		if ((n = read(v->fd[i], buf, want)) <= 0)
			break;
		view_emit(v, buf, (size_t)n);
		done += n;
		v->copied[i] += n;
	}
	return done;
}

/* Take one order record ("o 123" or "e 45") from v->rec. */
static void
view_record(struct logview *v)
{
	char *end;
	long long n;

	v->rec[v->reclen] = '\0';
	n = strtoll(v->rec + 1, &end, 10);
	if ((v->rec[0] == 'o' || v->rec[0] == 'e') && n > 0 && *end == '\0') {
		v->cur = v->rec[0] == 'e';
		/* What was shown before the file was there is not again. */
		v->ordered[v->cur] += n;
		v->left = v->ordered[v->cur] - v->copied[v->cur];
	}
	v->reclen = 0;
}

/* Copy what the order file says was written since we last looked. */
static void
view_interleave(struct logview *v)
{
	ssize_t n;
	char c;

	while (v->fd[2] != -1) {
		if (v->left > 0) {
			v->left -= view_copy(v, v->cur, v->left);
			if (v->left > 0)
				return; /* the file is behind: later */
		}
		if (v->opos == v->olen) {
			if ((n = read(v->fd[2], v->obuf, sizeof(v->obuf))) <= 0)
				return;
			v->olen = (size_t)n;
			v->opos = 0;
		}
		c = v->obuf[v->opos++];
		if (c == '\n')
			view_record(v);
		else if (v->reclen < sizeof(v->rec) - 1)
			v->rec[v->reclen++] = c;
	}
}

/*
 * Show what the task's files have now; once the task has ended (final),
 * also what no order record covers: stdout, then stderr.  Until the order
 * file is made (once both streams have written) only one has output,
 * shown as it comes.
 */
static void
view_pump(struct logview *v, int final)
{
	if (!v->both)
		view_copy(v, v->which, -1);
	else {
		view_interleave(v);
		if (final || v->fd[2] == -1) {
			view_copy(v, 0, -1);
			view_copy(v, 1, -1);
		}
	}
	if (fflush(stdout) == EOF && v->werr == 0)
		v->werr = errno;
}

/* The last lines of v only: skip what comes before them (tail of them). */
static void
view_tail(struct logview *v, int64_t tail, int must, int final)
{
	struct logview c;
	int64_t lines;

	view_init(&c, "", v->both, v->which);
	memcpy(c.path, v->path, sizeof(c.path));
	c.counting = 1;
	if (view_open(&c, must) == 0)
		view_pump(&c, final);
	view_close(&c);
	lines = c.lines + (c.bytes > 0 && !c.last_nl);
	if (lines > tail) {
		v->skip_nl = lines - tail;
		v->skip_bytes = c.bytes;
	}
}

/* Open what v shows, or exit saying why not. */
static void
view_start(struct logview *v, int must)
{
	if (view_open(v, must) == -1)
		err(errno == EACCES ? EX_NOPERM : EX_NOINPUT, "%s",
		    v->path[v->bad]);
}

/* The task of job with this ID, or NULL. */
static json_t *
task_of(json_t *job, const char *task)
{
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(job, "tasks"), i, t)
	{
		if (strcmp(json_string_value(json_object_get(t, "id")), task) ==
		    0)
			return t;
	}
	return NULL;
}

/*
 * Show the output of task (of job id, described in job), following it
 * until it ends with --follow; tail: how many of the last lines of what
 * it has so far to show, or -1 for all.  Returns 0, or the errno with
 * which our stdout could not be written: then it stops.
 */
static int
show_task(struct runner *r, const char *id, json_t *job, const char *task,
    int64_t tail)
{
	json_t *t = task_of(job, task), *j;
	const char *dir = json_string_value(json_object_get(t, "results"));
	char path[PATH_MAX];
	struct logview v;
	int ended = json_object_get(t, "ended") != NULL;

	if (dir == NULL) {
		snprintf(path, sizeof(path), "%s/%s", r->results, task);
		dir = path;
	}
	view_init(&v, dir, r->both, r->use_stderr);
	if (tail >= 0)
		view_tail(&v, tail, !r->follow || ended, ended);
	view_start(&v, !r->follow || ended);
	view_pump(&v, ended);
	while (r->follow && !ended && v.werr == 0) {
		/* Output is not a database write: look again soon. */
		wait_events(r, parse_now_ms() + 100);
		if (r->stopping)
			break;
		/* The task's end is one: look only then. */
		if (r->db_changed || r->inofd == -1) {
			r->db_changed = 0;
			j = store_job_describe(r->st, id);
			t = task_of(j, task);
			ended =
			    t == NULL || json_object_get(t, "ended") != NULL;
			json_decref(j);
		}
		view_start(&v, ended);
		view_pump(&v, ended);
	}
	view_close(&v);
	return v.werr;
}

/*
 * The job's task that ref names into task, waiting for it to start when
 * following.  Returns the job's description, or NULL when a signal
 * stopped the wait.
 */
static json_t *
await_task(
    struct runner *r, const char *id, const char *ref, char *task, size_t len)
{
	const char *state, *of = strchr(ref, '.') ? " of that attempt" : "";
	json_t *job;
	int noted = 0;

	for (;;) {
		if ((job = store_job_describe(r->st, id)) == NULL)
			errx(error_status(), "%s", error_msg());
		pick_task(job, ref, task, len);
		if (task[0] != '\0')
			return job;
		state = json_string_value(json_object_get(job, "state"));
		if (store_terminal(state))
			errx(EX_NOINPUT, "job '%s' %s with no task%s", id,
			    state, of);
		if (!r->follow)
			errx(EX_NOINPUT, "job '%s' has no task%s yet", id, of);
		note_unserved(r, job, &noted);
		json_decref(job);
		wait_events(r, parse_now_ms() + 1000);
		if (r->stopping)
			return NULL;
	}
}

/*
 * After task ended: wait for the job's next attempt, into task (and say
 * so at a terminal), and return 1; or return 0 with the job's status in
 * *status once it is terminal; -1 when a signal stopped the wait.
 */
static int
await_next(
    struct runner *r, const char *id, char *task, size_t len, int *status)
{
	char next[ID_LEN + 24];
	json_t *job, *t;
	int noted = 0;

	snprintf(next, sizeof(next), "%.*s.%lld", (int)strcspn(task, "."), task,
	    strtoll(strchr(task, '.') + 1, NULL, 10) + 1);
	for (;;) {
		if ((job = store_job_describe(r->st, id)) == NULL)
			errx(error_status(), "%s", error_msg());
		if ((t = task_of(job, next)) != NULL) {
			if (isatty(STDERR_FILENO))
				warnx("attempt %lld of %lld",
				    (long long)json_integer_value(
					json_object_get(t, "attempt")),
				    (long long)json_integer_value(
					json_object_get(job, "max_attempts")));
			snprintf(task, len, "%s", next);
			json_decref(job);
			return 1;
		}
		if (store_terminal(
			json_string_value(json_object_get(job, "state")))) {
			*status = job_status(job);
			json_decref(job);
			return 0;
		}
		note_unserved(r, job, &noted);
		json_decref(job);
		wait_events(r, parse_now_ms() + 1000);
		if (r->stopping)
			return -1;
	}
}

/* The caller's newest job (jobs are listed newest first). */
static int
newest_row(json_t *row, void *arg)
{
	snprintf(arg, ID_LEN + 1, "%s",
	    json_string_value(json_object_get(row, "id")));
	return 0;
}

static void
newest_job(struct runner *r, char *id)
{
	struct store_query q = {.noun = STORE_JOBS,
	    .user = store_caller(r->st),
	    .since = INT64_MIN,
	    .until = INT64_MAX,
	    .reverse = 1,
	    .limit = 1};

	id[0] = '\0';
	if (store_query(r->st, &q, newest_row, id) == -1)
		errx(error_status(), "%s", error_msg());
	if (id[0] == '\0')
		errx(EX_NOINPUT, "no jobs of yours");
}

/*
 * exec-run --logs: print a task's output (of ref, or of the caller's
 * newest job when ref is NULL); with --follow, follow it while it runs
 * and the job's next attempts, and exit with the job's status.
 */
static int
show_logs(struct runner *r, const char *ref)
{
	char id[ID_LEN + 1], task[ID_LEN + 24], jobref[ID_LEN + 1];
	int status = 0, one = ref != NULL && strchr(ref, '.') != NULL;
	int64_t tail = r->tail;
	json_t *job;
	int werr;

	if (ref == NULL)
		newest_job(r, id);
	else {
		snprintf(jobref, sizeof(jobref), "%.*s", (int)strcspn(ref, "."),
		    ref);
		if (store_job_resolve(r->st, jobref, id) == -1)
			errx(error_status(), "%s", error_msg());
	}
	if ((job = await_task(r, id, one ? ref : id, task, sizeof(task))) ==
	    NULL)
		return 128 + r->signo;
	do {
		werr = show_task(r, id, job, task, tail);
		json_decref(job);
		job = NULL;
		tail = -1; /* the next attempts are shown whole */
		/* A reader gone is the end of following, as for a worker. */
		if (werr == EPIPE)
			return 0;
		if (werr != 0)
			errx(EX_IOERR, "stdout: %s", strerror(werr));
	} while (r->follow && !one && !r->stopping &&
	    await_next(r, id, task, sizeof(task), &status) == 1 &&
	    (job = store_job_describe(r->st, id)) != NULL);
	if (r->stopping)
		return 128 + r->signo;
	if (r->follow && one && (job = store_job_describe(r->st, id)) != NULL)
		status = task_status(task_of(job, task));
	json_decref(job);
	return status;
}

/* A run's labels follow the rules of a job's (jobkit-spec(5)). */
static void
check_labels(json_t *labels)
{
	json_t *probe, *spec;

	if (labels == NULL)
		return;
	probe = json_pack("{s:[s], s:O}", "command", "true", "labels", labels);
	if (probe == NULL)
		errx(EX_OSERR, "out of memory");
	spec = spec_normalize(probe, 0);
	json_decref(probe);
	if (spec == NULL)
		errx(error_status(), "%s", error_msg());
	json_decref(spec);
}

/* A worker's capacity as its run records it: what it runs at once, and
 * each resource it was given a limit of. */
static json_t *
capacity_json(const struct runner *r)
{
	json_t *o = json_pack("{s:i}", "jobs", r->slots);

	if (o == NULL ||
	    (r->cap.cpu_milli >= 0 &&
		spec_set(o, "cpu",
		    json_real((double)r->cap.cpu_milli / 1000)) == -1) ||
	    (r->cap.memory >= 0 &&
		spec_set(o, "memory", json_integer(r->cap.memory)) == -1) ||
	    (r->cap.disk >= 0 &&
		spec_set(o, "disk", json_integer(r->cap.disk)) == -1) ||
	    (r->cap.gpu >= 0 &&
		spec_set(o, "gpu", json_integer(r->cap.gpu)) == -1))
		errx(EX_OSERR, "out of memory");
	/* The queues it serves, so that job-submit --start and --wait can
	 * tell whether a worker serves a job's queue; none means all. */
	if (r->nqueues > 0) {
		json_t *q = json_array();
		if (spec_set(o, "queues", q) == -1)
			errx(EX_OSERR, "out of memory");
		for (int i = 0; i < r->nqueues; i++)
			if (spec_append(q, json_string(r->queues[i])) == -1)
				errx(EX_OSERR, "out of memory");
	}
	return o;
}

/*
 * After the loop, the jobs whose retries were ours: a signal cancels them,
 * as it cancelled their running tasks; a job whose retry another run took
 * is waited for, and its end gives our status.
 */
static void
settle_retries(struct runner *r)
{
	json_t *v, *out = NULL;
	char state[16];
	size_t i;

	/*
	 * Stopped with no signal (nobody reads us, a task could not start):
	 * what is still to run stays queued for whoever runs it, and our
	 * status says they were not run.
	 */
	if (r->stopping && r->signo == 0) {
		int left = r->nretries > 0 ||
		    (r->ids != NULL ? *r->ids != NULL
				    : r->from_stdin && !feof(stdin));
		if (!r->worker && left && r->stdout_gone) {
			warnx("stopped with jobs left queued: nobody reads "
			      "the results");
			if (r->status == 0)
				r->status = EX_IOERR;
		}
		return;
	}
	for (int k = 0; k < r->nretries; k++)
		if (spec_append(r->elsewhere, json_string(r->retries[k].job)) ==
		    -1)
			oom(r);
	r->nretries = 0;
	json_array_foreach(r->elsewhere, i, v)
	{
		const char *id = json_string_value(v);
		if (r->signo == 0) {
			if (store_job_state(r->st, id, state) == 0 &&
			    !store_terminal(state))
				warnx(
				    "job '%s' is %s, not by this run; waiting "
				    "for it",
				    id, state);
			if (r->foreground)
				r->status = 0;
			if (wait_one(id, r) == 0)
				continue;
		}
		if (store_job_act(r->st, id, STORE_CANCEL, NULL, &out) == 0)
			warnx("job '%s' cancelled", id);
		json_decref(out);
		out = NULL;
		r->status = 128 + r->signo;
	}
}

/*
 * A worker's labels: -l's, and those a Bacalhau node gives itself, which
 * its users' jobs select on (Architecture as Go names it, and
 * Operating-System), unless -l set them.
 */
static json_t *
node_labels(struct runner *r)
{
	static const char *const arch[][2] = {{"x86_64", "amd64"},
	    {"aarch64", "arm64"}, {"i686", "386"}, {"i386", "386"},
	    {"armv7l", "arm"}, {"armv6l", "arm"}};
	json_t *l = json_object_get(r->over, "labels");
	struct utsname u;
	const char *a;

	if (l == NULL &&
	    json_object_set_new(r->over, "labels", l = json_object()) == -1)
		errx(EX_OSERR, "out of memory");
	if (uname(&u) == -1)
		return l;
	a = u.machine;
	for (size_t i = 0; i < sizeof(arch) / sizeof(arch[0]); i++)
		if (strcmp(u.machine, arch[i][0]) == 0)
			a = arch[i][1];
	if ((json_object_get(l, "Architecture") == NULL &&
		spec_set(l, "Architecture", json_string(a)) == -1) ||
	    (json_object_get(l, "Operating-System") == NULL &&
		spec_set(l, "Operating-System", json_string("linux")) == -1))
		errx(EX_OSERR, "out of memory");
	return l;
}

/* Runs the foreground job, the named jobs or the worker loop. */
static void
execute(struct runner *r, struct run_new *rn)
{
	/* The foreground prints its job's output, not result objects. */
	if (!r->foreground &&
	    (r->out = emit_open(stdout, r->cli.format, EMIT_TABLE, columns)) ==
		NULL)
		errx(error_status(), "%s", error_msg());
	rn->lease_ms = r->lease_len;
	rn->mode = mode_name[r->mode];
	if (r->worker) {
		rn->labels = node_labels(r);
		check_labels(rn->labels);
		rn->capacity = capacity_json(r);
		/* Jobs with a selector match these in the claim. */
		if (rn->labels != NULL &&
		    (r->cap.labels = json_dumps(rn->labels, JSON_COMPACT)) ==
			NULL)
			errx(EX_OSERR, "out of memory");
	}
	r->rn = *rn;
	if (r->foreground)
		submit_foreground(r, rn);
	else if ((r->lease = lease_start(r->st, rn, 0)) == NULL)
		errx(error_status(), "%s", error_msg());
	r->run = lease_id(r->lease);
	/* A command run here reaps only if it runs long: a short one need
	 * not look for others' dead runs each time (workers do). */
	lease_reaps(r->lease, r->foreground ? lease_interval(r->lease) : 0);
	run_loop(r);
	/* Submitters waiting now store their jobs themselves. */
	relay_close(r->relay);
	r->relay = NULL;
	json_decref(rn->capacity);
	/* Whatever of our tasks got away from its group goes with us:
	 * out of the loop, it may be waited for. */
	exec_kill_strays(EXEC_STRAYS_WAIT_MS);
	settle_retries(r);
	if (!r->run_ended)
		lease_end(r->lease);
	lease_free(r->lease);
	if (r->out != NULL)
		emit_close(r->out);
	free((char *)r->cap.labels);
	json_decref(r->shards);
	for (int i = 0; i < r->ngpu; i++)
		free(r->gpu[i]);
}

/* What a mode needs before it starts: its results root and GPUs, the jobs
 * on stdin, the database, signals and the watch on the database. */
static void
set_up(struct runner *r)
{
	int runs = (IN(r->mode) & RUNS_TASKS) != 0;

	pick_results(r);
	if (runs)
		find_gpus(r);
	if (r->from_stdin) {
		/* Unbuffered, so that poll(2) says whether named jobs wait. */
		setvbuf(stdin, NULL, _IONBF, 0);
		cli_await_input(stdin);
	}
	r->stdin_ready = 1; /* what cli_await_input() put back */
	/* Only what may submit or wait for work makes a database. */
	if ((r->st = cli_store(&r->cli, r->foreground || r->worker)) == NULL)
		errx(r->foreground ? 125 : error_status(), "%s", error_msg());
	/* Checked before anything is claimed, not found out job by job. */
	if (runs && exec_results_ready(r->results) == -1)
		errx(r->foreground ? 125 : error_status(), "%s", error_msg());
	/* A closed stdout is an error to handle, not a death (report()). */
	signal(SIGPIPE, SIG_IGN);
	if ((r->sigfd = exec_signals()) == -1)
		errx(EX_OSERR, "%s", error_msg());
	/* A worker tends its tasks while its commits go to the disk; without
	 * the thread that takes (store.h), it waits for each, as before. */
	r->groups_end = &r->groups;
	if (r->worker)
		(void)store_later(r->st);
	/* A foreground job that ends at once never pays for the watch: the
	 * exit of a process with an inotify descriptor waits for the
	 * kernel's grace period, often 10 to 30 ms. */
	if (r->foreground)
		r->watch_at = parse_now_ms() + WATCH_DELAY_MS;
	else
		watch_db(r);
	/* The stager of inputs and outputs: a worker stages with the
	 * artifact-fetch of its own version. */
	cli_sibling("artifact-fetch", r->stager, sizeof(r->stager));
}

int
main(int argc, char **argv)
{
	struct runner r = {.slots = 1,
	    .tail = -1,
	    .lease_len = 60000,
	    .inofd = -1,
	    .cap = {.cpu_milli = -1, .memory = -1, .disk = -1, .gpu = -1}};
	struct run_new rn = {.kind = "exec-run"};

	/* getopt(3)'s messages name the tool, not the path it ran by. */
	argv[0] = program_invocation_short_name;
	cli_guard_fds();
	if ((r.over = json_object()) == NULL ||
	    (r.elsewhere = json_array()) == NULL)
		errx(EX_OSERR, "out of memory");
	parse_options(&r, argc, argv);
	if (r.cli.help || r.cli.version) {
		json_decref(r.over);
		json_decref(r.elsewhere);
		if (r.cli.help)
			usage(stdout);
		else
			printf("exec-run (jobkit) %s\n", JOBKIT_VERSION);
		return 0;
	}
	set_up(&r);
	switch (r.mode) {
	case M_FOREGROUND:
	case M_NAMED:
	case M_WORKER:
		execute(&r, &rn);
		break;
	case M_WAIT:
		r.status = wait_jobs(&r);
		break;
	case M_LOGS:
		r.status = show_logs(&r, r.ids != NULL ? r.ids[0] : NULL);
		break;
	}
	store_close(r.st);
	json_decref(r.over);
	json_decref(r.elsewhere);
	free(r.retries);
	free(r.results);
	free(r.db);
	free(r.dbpath);
	/* Stopped by a signal, with what it cancelled recorded. */
	if (r.signo != 0) {
		cgroup_leave();
		cli_die_by(r.signo);
	}
	return r.status;
}
