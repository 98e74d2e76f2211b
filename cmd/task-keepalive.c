/*
 * task-keepalive: leases for anything.  Wrap a command as a task of a job
 * (Reflow's KeepIDAliveAndEnd), keep a task or run alive while something
 * else runs, and reap the leases nobody renews.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "exec.h"
#include "lease.h"
#include "parse.h"
#include "spec.h"
#include "specopt.h"
#include "store.h"

enum opt {
	O_TASK = 256,
	O_RUN,
	O_END,
	O_NOW,
	O_REAP,
	O_LEASE,
	O_INTERVAL,
	O_RESULTS
};

static const struct option longopts[] = {SPECOPT_LONG,
    {"job", required_argument, NULL, 'j'},
    {"task", required_argument, NULL, O_TASK},
    {"run", required_argument, NULL, O_RUN},
    {"end", required_argument, NULL, O_END}, {"now", no_argument, NULL, O_NOW},
    {"reap", no_argument, NULL, O_REAP},
    {"lease", required_argument, NULL, O_LEASE},
    {"interval", required_argument, NULL, O_INTERVAL},
    {"results", required_argument, NULL, O_RESULTS},
    {"verbose", no_argument, NULL, 'v'}, {"quiet", no_argument, NULL, 'q'},
    CLI_LONG, {NULL, 0, NULL, 0}};

static const struct emit_col task_cols[] = {{"id", "TASK", 10, 0, 0},
    {"job", "JOB", 8, EMIT_SHORTID, 0}, {"attempt", "TRY", 3, EMIT_RIGHT, 0},
    {"run", "RUN", 9, 0, 0}, {"lease_s", "LEASE", 0, 0, 0},
    {NULL, NULL, 0, 0, 0}};
static const struct emit_col reap_cols[] = {{"id", "ID", 10, 0, 0},
    {"kind", "KIND", 4, 0, 0}, {"state", "STATE", 5, 0, 0},
    {"job_state", "JOB", 9, 0, 0}, {"host", "HOST", 12, 0, 0},
    {"error", "ERROR", 0, 0, 0}, {NULL, NULL, 0, 0, 0}};

/* The states --end may record: a task's ends, but lost (a reaper's). */
static const char *const end_states[] = {
    "succeeded", "failed", "timed_out", "cancelled", NULL};

struct keeper {
	struct cli cli;
	json_t *over; /* spec options, for a job we submit */
	int spec_opt; /* the first of them given (not -l) */
	char **argv; /* the command, or NULL */
	const char *job, *task, *run, *end;
	int now, reap, verbose, quiet;
	int64_t lease_len, interval;
	char *db, *results;
	struct store *st;
	struct lease *lease;
	char tid[STORE_RUN_ID_LEN + 24]; /* the task we hold */
	int sigfd, signo;
	int cancelled; /* its job was asked to cancel */
	int timing; /* --lease or --interval was given */
	int lease_set; /* --lease was */
	char digest[SPEC_DIGEST_LEN + 1]; /* of what the task runs */
	struct exec *x;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: task-keepalive [options] [spec options] -- command [arg "
	    "...]\n"
	    "       task-keepalive -j ID [options] [-- command [arg ...]]\n"
	    "       task-keepalive --task ID | --run ID [--end STATE [--now]]\n"
	    "       task-keepalive --reap\n"
	    "options:\n"
	    "  -j, --job ID           --task ID             --run ID\n"
	    "  --end STATE            --now                 --reap\n"
	    "  --lease DUR            --interval DUR        --results DIR\n"
	    "  -v, --verbose          -q, --quiet\n"
	    "  -d, --db PATH          -f, --format FMT      -h, --help\n"
	    "  -V, --version\n"
	    "spec options (a command task-keepalive submits):\n" SPECOPT_USAGE);
}

static int64_t
duration_arg(const char *opt, const char *arg)
{
	int64_t ms;

	if (parse_duration(arg, &ms) == -1)
		errx(EX_USAGE, "%s: %s", opt, error_msg());
	if (ms <= 0)
		errx(EX_USAGE, "%s: '%s' must be more than zero", opt, arg);
	return ms;
}

static const char *
end_arg(const char *arg)
{
	for (int i = 0; end_states[i] != NULL; i++)
		if (strcmp(arg, end_states[i]) == 0)
			return arg;
	errx(EX_USAGE,
	    "--end: unknown state '%s' (one of: succeeded, failed, "
	    "timed_out, cancelled)",
	    arg);
}

/* What goes with what: a mistaken combination is an error, not a no-op. */
static void
check_options(struct keeper *k, int extra)
{
	int modes =
	    (k->job != NULL) + (k->task != NULL) + (k->run != NULL) + k->reap;

	if (modes > 1)
		errx(EX_USAGE, "give one of --job, --task, --run, --reap");
	if (k->argv != NULL && k->argv[0] == NULL)
		errx(EX_USAGE, "no command after '--'");
	if (extra)
		errx(EX_USAGE, "a command goes after '--'");
	if (k->argv != NULL && (k->task || k->run || k->reap))
		errx(EX_USAGE,
		    "--%s takes no command: it keeps a lease while "
		    "something else runs",
		    k->reap	  ? "reap"
			: k->task ? "task"
				  : "run");
	if (k->argv == NULL && modes == 0 && !k->cli.help && !k->cli.version)
		errx(EX_USAGE,
		    "give a command after '--', --job, --task, "
		    "--run or --reap");
	if (k->spec_opt && (modes > 0))
		errx(EX_USAGE,
		    "spec options are for a command task-keepalive "
		    "submits, not with --job, --task, --run or --reap");
	if (k->now && k->end == NULL)
		errx(EX_USAGE, "--now goes with --end STATE");
	if (k->end != NULL && (k->argv != NULL || k->reap))
		errx(EX_USAGE,
		    "--end goes with --job, --task or --run: a "
		    "command's end is its own");
	if (k->timing && k->reap)
		errx(EX_USAGE,
		    "--lease and --interval go with a lease to "
		    "keep, not with --reap");
	if (json_object_get(k->over, "container") != NULL)
		errx(EX_USAGE,
		    "--image: task-keepalive runs the command on "
		    "this host (exec-run runs it in a container)");
	if (k->interval > 0 && k->interval >= k->lease_len &&
	    (k->lease_set || (!k->task && !k->run)))
		errx(EX_USAGE,
		    "--interval must be shorter than the lease (%llds)",
		    (long long)(k->lease_len / 1000));
}

static void
parse_options(struct keeper *k, int argc, char **argv)
{
	int c, end = argc, r;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			end = i;
			k->argv = argv + i + 1;
			break;
		}
	while ((c = getopt_long(end, argv, SPECOPT_SHORT "j:vq" CLI_SHORT,
		    longopts, NULL)) != -1) {
		if ((r = cli_option(&k->cli, c, optarg)) == 0 &&
		    (r = specopt_apply(k->over, c, optarg)) == 1 && c != 'l' &&
		    !k->spec_opt)
			k->spec_opt = c;
		if (r == -1)
			errx(error_status(), "%s", error_msg());
		if (r == 1)
			continue;
		switch (c) {
		case 'j':
			k->job = optarg;
			break;
		case O_TASK:
			k->task = optarg;
			break;
		case O_RUN:
			k->run = optarg;
			break;
		case O_END:
			k->end = end_arg(optarg);
			break;
		case O_NOW:
			k->now = 1;
			break;
		case O_REAP:
			k->reap = 1;
			break;
		case O_LEASE:
			k->lease_len = duration_arg("--lease", optarg);
			k->timing = k->lease_set = 1;
			if (k->lease_len < 1000)
				errx(EX_USAGE, "--lease: at least 1s");
			break;
		case O_INTERVAL:
			k->interval = duration_arg("--interval", optarg);
			k->timing = 1;
			break;
		case O_RESULTS:
			k->results = strdup(optarg);
			break;
		case 'v':
			k->verbose = 1;
			break;
		case 'q':
			k->quiet = 1;
			break;
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
	check_options(k, optind < end);
}

/* The first stopping signal read, or 0. */
static int
read_signals(struct keeper *k)
{
	struct signalfd_siginfo si;

	while (read(k->sigfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo != SIGCHLD && k->signo == 0)
			k->signo = (int)si.ssi_signo;
	return k->signo;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Whether held task id ended otherwise than lost (another ended it). */
static int
ended_otherwise(struct keeper *k, const char *id)
{
	char state[16] = "";
	int cancel;

	return store_task_keepalive(k->st, id, 0, state, &cancel) == 1 &&
	    strcmp(state, "lost") != 0;
}

/*
 * Renew when due.  Returns 0 while the lease holds; 1 once it is lost
 * (said on stderr); 2 when what it kept was ended by another (said
 * unless quiet).  Cancel requests set k->cancelled.
 */
static int
tend(struct keeper *k, int64_t now)
{
	struct lease_news n;
	int64_t t0 = mono_us();
	int r = 0;

	if (now < lease_due(k->lease))
		return 0;
	if (lease_tick(k->lease, now, &n) == -1)
		errx(error_status(), "%s", error_msg());
	if (n.renewed && k->verbose)
		fprintf(stderr, "task-keepalive: renewed '%s' in %.3f ms\n",
		    lease_id(k->lease), (double)(mono_us() - t0) / 1000);
	else if (n.why[0] != '\0' && !n.lost)
		warnx("%s", n.why);
	if (json_array_size(n.cancel) > 0)
		k->cancelled = 1;
	if (n.lost)
		r = n.ended ? 2 : 1;
	else if (json_array_size(n.gone) > 0) {
		/* The task we hold, ended while our run lives. */
		r = ended_otherwise(k, k->tid) ? 2 : 1;
		snprintf(n.why, sizeof(n.why), "task '%s' was %s", k->tid,
		    r == 2 ? "ended by another" : "found lost by a reaper");
	}
	if (r == 1)
		warnx("lease lost: %s", n.why);
	else if (r == 2 && !k->quiet)
		warnx("%s", n.why);
	lease_news_free(&n);
	return r;
}

/* Wait for a signal, the command's output or the next renewal. */
static void
wait_for(struct keeper *k, int64_t now)
{
	struct pollfd pfd[3];
	int fds[2], n = 0, nf;
	int64_t until = lease_due(k->lease), d;

	pfd[n++] = (struct pollfd){.fd = k->sigfd, .events = POLLIN};
	if (k->x != NULL) {
		nf = exec_fds(k->x, fds, 2);
		for (int i = 0; i < nf; i++)
			pfd[n++] =
			    (struct pollfd){.fd = fds[i], .events = POLLIN};
		if ((d = exec_deadline(k->x)) > 0 && d < until)
			until = d;
	}
	if ((d = exec_strays_due()) > 0 && d < until)
		until = d;
	d = until - now;
	poll(pfd, (nfds_t)n, d < 0 ? 0 : d > 60000 ? 60000 : (int)d);
	read_signals(k);
	exec_reap_orphans();
}

/* spec's command: ours (the tool stops when it cannot be). */
static void
set_command(json_t *spec, char **argv)
{
	json_t *a = specopt_argv(argv);

	if (a == NULL || spec_set(spec, "command", a) == -1)
		errx(error_status(), "%s", error_msg());
}

/* The job and spec the command runs as: claimed named, or submitted. */
static json_t *
claim_named(struct keeper *k)
{
	char id[ID_LEN + 1];
	json_t *info;

	if (store_job_resolve(k->st, k->job, id) == -1 ||
	    store_claim_job(k->st, lease_id(k->lease), id, &info) == -1)
		return NULL;
	return info;
}

/*
 * A job with our key that is queued is claimed; one that ended is run
 * again as its next attempt (a cron line's job, night after night); one
 * running is left alone, so that two never overlap.
 */
static json_t *
claim_keyed(struct keeper *k, const char *id, const char *key)
{
	char state[16];
	json_t *info, *out = NULL;

	if (store_job_state(k->st, id, state) == -1)
		return NULL;
	if (strcmp(state, STATE_RUNNING) == 0) {
		error_set(EX_TEMPFAIL,
		    "job '%s' of key '%s' is running: not starting it twice",
		    id, key);
		return NULL;
	}
	if (store_terminal(state) &&
	    store_job_act(k->st, id, STORE_RETRY, NULL, &out) == -1)
		return NULL;
	json_decref(out);
	if (store_claim_job(k->st, lease_id(k->lease), id, &info) == -1)
		return NULL;
	return info;
}

static json_t *
submit_claim(struct keeper *k)
{
	struct job_new jn;
	json_t *raw, *spec, *out = NULL, *info = NULL;
	char id[ID_LEN + 1];
	int existed;

	if ((raw = json_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	set_command(raw, k->argv);
	if (spec_merge(raw, k->over) == -1 ||
	    (spec = spec_normalize(raw, parse_now_ms())) == NULL ||
	    specopt_workdir(spec) == -1 || spec_to_job(spec, &jn) == -1) {
		json_decref(raw);
		errx(error_status(), "%s", error_msg());
	}
	json_decref(raw);
	if (jn.hold || jn.not_before > 0)
		errx(EX_USAGE,
		    "--%s: a command given here runs now (job-submit "
		    "queues it for later)",
		    jn.hold ? "hold" : "at");
	if (store_job_add(k->st, &jn, id, &out, &existed) == 0) {
		if (existed)
			info = claim_keyed(k, id, jn.key);
		else if (strcmp(
			     json_string_value(json_object_get(out, "state")),
			     STATE_QUEUED) != 0)
			error_set(EX_DATAERR,
			    "job '%s' is %s: a command given here runs now, "
			    "once what it is --after has ended as asked",
			    id,
			    json_string_value(json_object_get(out, "state")));
		else if (store_claim_job(
			     k->st, lease_id(k->lease), id, &info) == -1)
			info = NULL;
	}
	json_decref(out);
	json_decref(spec);
	return info;
}

/*
 * Record the run and claim the task in one transaction: the command
 * starts only once both are committed, so a crash leaves a task recorded
 * that never ran (found lost later), never one that ran unrecorded.
 */
static json_t *
start_lease(struct keeper *k)
{
	struct run_new rn = {.kind = "task-keepalive",
	    .mode = k->argv != NULL ? "wrap" : "claim",
	    .lease_ms = k->lease_len};
	json_t *info = NULL;
	int e;

	rn.labels = json_object_get(k->over, "labels");
	if (store_begin(k->st) == -1 ||
	    (k->lease = lease_start(k->st, &rn, k->interval)) == NULL ||
	    (info = k->job != NULL ? claim_named(k) : submit_claim(k)) ==
		NULL ||
	    store_commit(k->st) == -1) {
		e = error_status();
		store_rollback(k->st);
		/* A job that cannot run is bad input, as exec-run says. */
		errx(e, "%s", error_msg());
	}
	snprintf(k->tid, sizeof(k->tid), "%s",
	    json_string_value(json_object_get(info, "id")));
	if (lease_hold(k->lease, k->tid) == -1)
		errx(EX_OSERR, "%s", error_msg());
	return info;
}

/* Record the end of the task we hold, and of our run. */
static int
record(struct keeper *k, const struct task_result *res)
{
	if (store_begin(k->st) == -1)
		return -1;
	if (store_task_finish(k->st, k->tid, res, NULL) == -1 ||
	    lease_end(k->lease) == -1) {
		store_rollback(k->st);
		return -1;
	}
	return store_commit(k->st);
}

/* The command runs as the job's task, here, like timeout(1) runs it. */
static struct exec *
start_command(struct keeper *k, json_t *info)
{
	json_t *spec = json_object_get(info, "spec");
	struct exec_opts o = {0};
	char dir[4096];

	/* The job's environment, limits and timeout; our command, run on
	 * this host in its work directory, with nothing staged. */
	set_command(spec, k->argv);
	static const char *const drop[] = {"shell", "container", "inputs",
	    "outputs", "context", "binds", "sandbox", NULL};
	for (int i = 0; drop[i] != NULL; i++)
		json_object_del(spec, drop[i]);
	if (specopt_workdir(spec) == -1 || spec_digest(spec, k->digest) == -1)
		errx(125, "%s", error_msg());
	snprintf(dir, sizeof(dir), "%s/%s", k->results, k->tid);
	o.job = json_string_value(json_object_get(info, "job"));
	o.task = k->tid;
	o.attempt = json_integer_value(json_object_get(info, "attempt"));
	o.results = dir;
	o.passthrough = 1;
	o.db = k->db;
	o.uid = getuid();
	return exec_start(spec, &o);
}

static int
wrap(struct keeper *k)
{
	json_t *info = start_lease(k);
	const struct exec_result *x;
	struct task_result res;
	char dir[4096];
	int lost = 0, stopped = 0, rc;

	if (exec_results_ready(k->results) == -1 ||
	    (k->x = start_command(k, info)) == NULL) {
		warnx("%s", error_msg());
		(void)lease_result(
		    &(struct exec_result){.state = "failed", .exit_code = -1},
		    NULL, &res);
		res.error = error_msg();
		res.no_retry = 1;
		record(k, &res);
		json_decref(res.usage);
		json_decref(info);
		return 125;
	}
	json_decref(info);
	store_task_pid(k->st, k->tid, exec_pid(k->x), NULL, k->digest);
	/* While the command runs, as exec-run's foreground does. */
	(void)store_idle(k->st);
	for (;;) {
		int64_t now = parse_now_ms();
		if (!lost && tend(k, now) != 0) {
			lost = 1;
			exec_cancel(k->x, "its lease was lost");
		}
		if (!stopped && (k->cancelled || k->signo)) {
			stopped = 1;
			exec_cancel(k->x, "cancelled");
		}
		if (exec_step(k->x, parse_now_ms()))
			break;
		wait_for(k, parse_now_ms());
	}
	x = exec_result(k->x);
	if (lost) {
		warnx("%s: stopped, its lease lost: its end is not recorded "
		      "(it may run again as another attempt)",
		    k->tid);
		return LEASE_LOST_STATUS;
	}
	snprintf(dir, sizeof(dir), "%s/%s", k->results, k->tid);
	/* Its end is recorded all the same. */
	if (lease_result(x, dir, &res) == -1)
		warnx("%s: its usage is not recorded: %s", k->tid, error_msg());
	rc = record(k, &res);
	json_decref(res.usage);
	if (rc == -1) {
		warnx("%s: cannot record its end: %s", k->tid, error_msg());
		return error_status() == EX_DATAERR ? LEASE_LOST_STATUS
						    : EX_IOERR;
	}
	if (k->cancelled && !k->signo) {
		warnx("%s: its job was cancelled: the command was stopped",
		    k->tid);
		return LEASE_LOST_STATUS;
	}
	if (x->status >= 125 && x->status <= 127)
		warnx("%s", x->error);
	return x->status;
}

/* End the task we hold, or every unfinished one of a run, as state. */
static int
end_lease(struct keeper *k, const char *id)
{
	struct task_result res = {.state = k->end,
	    .exit_code = -1,
	    .error = "ended by task-keepalive --end"};
	json_t *tasks = NULL, *v;
	char state[16];
	size_t i;
	int cancel, r;

	if (strcmp(k->end, "succeeded") == 0)
		res.error = NULL;
	else if (k->cancelled)
		res.error = "its job was cancelled";
	if (id[0] != 'r') {
		if ((r = store_task_keepalive(k->st, id, 0, state, &cancel)) ==
		    1)
			return error_set(
			    EX_DATAERR, "task '%s' has ended: %s", id, state);
		return r == 0 ? store_task_finish(k->st, id, &res, NULL) : -1;
	}
	if ((r = store_run_keepalive(k->st, id, 0, &tasks)) != 0)
		return r == -1
		    ? -1
		    : error_set(EX_DATAERR, "run '%s' has ended", id);
	json_array_foreach(json_object_get(tasks, "alive"), i, v)
	{
		if (store_task_finish(
			k->st, json_string_value(v), &res, NULL) == -1 &&
		    error_status() != EX_DATAERR) {
			json_decref(tasks);
			return -1;
		}
	}
	json_decref(tasks);
	return store_run_end(k->st, id);
}

/* A task ID whose job part may be a unique prefix ("3f9c.1"). */
static const char *
resolve_task(struct keeper *k, char *buf, size_t len)
{
	char job[ID_LEN + 1], pre[ID_LEN + 1];
	const char *dot = strchr(k->task, '.');

	if (dot == NULL || (size_t)(dot - k->task) > ID_LEN)
		errx(EX_NOINPUT, "no such task '%s' (task IDs are JOB.ATTEMPT)",
		    k->task);
	snprintf(pre, sizeof(pre), "%.*s", (int)(dot - k->task), k->task);
	if (store_job_resolve(k->st, pre, job) == -1)
		errx(error_status(), "task '%s': %s", k->task, error_msg());
	snprintf(buf, len, "%s%s", job, dot);
	return buf;
}

/* The job of what we keep was asked to cancel: the task ends so. */
static int
cancel_kept(struct keeper *k, const char *id)
{
	warnx("'%s': its job was asked to cancel", id);
	if (lease_is_task(k->lease) || k->job != NULL) {
		k->end = "cancelled";
		if (end_lease(k, id) == -1 ||
		    (k->job != NULL && lease_end(k->lease) == -1))
			errx(error_status(), "%s", error_msg());
	}
	return LEASE_LOST_STATUS;
}

/*
 * Renew until a signal, the lease's loss, or its end by another; then
 * record --end STATE, or leave the task to its lease.
 */
static int
keep(struct keeper *k, const char *id)
{
	int r = 0;

	while (!k->signo && r == 0) {
		if ((r = tend(k, parse_now_ms())) == 0 && k->cancelled)
			return cancel_kept(k, id);
		if (r == 0)
			wait_for(k, parse_now_ms());
	}
	if (r != 0) {
		if (k->job != NULL)
			lease_end(k->lease);
		return r == 1 ? LEASE_LOST_STATUS : 0;
	}
	if (k->end == NULL) {
		if (k->job != NULL)
			lease_end(k->lease);
		if (!k->quiet)
			warnx("'%s' is left to its lease: it ends lost unless "
			      "renewed",
			    id);
		return 0;
	}
	r = end_lease(k, id);
	if (k->job != NULL)
		lease_end(k->lease);
	/* Ended meanwhile, since our last renewal: as found at one. */
	if (r == -1 && error_status() == EX_DATAERR && id[0] != 'r') {
		r = ended_otherwise(k, id);
		warnx("%s", error_msg());
		return r ? 0 : LEASE_LOST_STATUS;
	}
	if (r == -1)
		errx(error_status(), "%s", error_msg());
	return 0;
}

/* --job ID with no command: claim, print the task, keep its lease. */
static int
claim(struct keeper *k)
{
	json_t *info = start_lease(k);
	struct emit *e;

	json_object_del(info, "spec");
	json_object_del(info, "uid");
	if (spec_set(info, "run", json_string(lease_id(k->lease))) == -1 ||
	    spec_set(
		info, "lease_s", json_integer(lease_ms(k->lease) / 1000)) == -1)
		errx(error_status(), "%s", error_msg());
	if ((e = emit_open(stdout, k->cli.format, EMIT_TABLE, task_cols)) ==
	    NULL)
		errx(error_status(), "%s", error_msg());
	if (k->quiet)
		printf("%s\n", k->tid);
	else
		emit_row(e, info);
	emit_close(e);
	fflush(stdout);
	json_decref(info);
	if (k->now) {
		if (end_lease(k, k->tid) == -1 || lease_end(k->lease) == -1)
			errx(error_status(), "%s", error_msg());
		return 0;
	}
	return keep(k, k->tid);
}

static int
reap(struct keeper *k)
{
	json_t *changes, *v;
	struct emit *e;
	size_t i;

	if (lease_reap(k->st, &changes) == -1)
		errx(error_status(), "%s", error_msg());
	if ((e = emit_open(stdout, k->cli.format, EMIT_TABLE, reap_cols)) ==
	    NULL)
		errx(error_status(), "%s", error_msg());
	json_array_foreach(changes, i, v)
	{
		if (k->quiet)
			printf("%s\n",
			    json_string_value(json_object_get(v, "id")));
		else
			emit_row(e, v);
	}
	json_decref(changes);
	return emit_close(e) == -1 ? EX_IOERR : 0;
}

static int
keep_given(struct keeper *k)
{
	char buf[STORE_RUN_ID_LEN + 24];
	const char *id =
	    k->run != NULL ? k->run : resolve_task(k, buf, sizeof(buf));

	if (k->now) {
		if (end_lease(k, id) == -1)
			errx(error_status(), "%s", error_msg());
		return 0;
	}
	/* A lease kept is the row's unless told. */
	if ((k->lease = lease_keep(k->st, id, k->lease_set ? k->lease_len : 0,
		 k->interval)) == NULL)
		errx(error_status(), "%s", error_msg());
	return keep(k, id);
}

int
main(int argc, char **argv)
{
	struct keeper k = {.lease_len = 60000};
	int status;

	argv[0] = program_invocation_short_name;
	cli_guard_fds();
	if ((k.over = json_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	parse_options(&k, argc, argv);
	if (k.cli.help || k.cli.version) {
		if (k.cli.help)
			usage(stdout);
		else
			printf("task-keepalive (jobkit) %s\n", JOBKIT_VERSION);
		json_decref(k.over);
		return 0;
	}
	if (cli_paths(&k.cli, &k.db, &k.results) == -1)
		errx(error_status(), "%s", error_msg());
	/* Only what submits or claims may make a database. */
	if ((k.st = cli_store(&k.cli, k.argv != NULL && k.job == NULL)) == NULL)
		errx(k.argv != NULL ? 125 : error_status(), "%s", error_msg());
	signal(SIGPIPE, SIG_IGN);
	if ((k.sigfd = exec_signals()) == -1)
		errx(EX_OSERR, "%s", error_msg());
	if (k.reap)
		status = reap(&k);
	else if (k.argv != NULL)
		status = wrap(&k);
	else if (k.job != NULL)
		status = claim(&k);
	else
		status = keep_given(&k);
	exec_free(k.x);
	/* What the command left that got away from its group goes with
	 * us. */
	exec_kill_strays(EXEC_STRAYS_WAIT_MS);
	lease_free(k.lease);
	store_close(k.st);
	json_decref(k.over);
	free(k.db);
	free(k.results);
	/* A command a signal stopped: its end is recorded, and we go the
	 * way it went. */
	if (k.signo != 0 && k.argv != NULL && status != LEASE_LOST_STATUS)
		cli_die_by(k.signo);
	return status;
}
