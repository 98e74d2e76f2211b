/*
 * exec: run one task's process.  The process gets its own session and
 * process group, stdin from /dev/null, a work directory (the spec's, else a
 * fresh one), the environment the spec recorded of its submitter ("export";
 * ours for a spec without one) with the spec's "env" over it, PWD, and
 * JOBKIT_JOB_ID, JOBKIT_TASK_ID, JOBKIT_ATTEMPT and JOBKIT_DB.  Its memory
 * and CPU are held by a cgroup v2 group of its own where we may make one
 * (cgroup.h); elsewhere its resident memory is watched from /proc and its
 * CPU held by RLIMIT_CPU.  A root caller may run it as another user, with
 * that user's groups, HOME, USER, LOGNAME and SHELL, the user owning its
 * results.  stdout and stderr are streamed to files in the results
 * directory up to a per-file limit, with a summary of at most the return
 * limit kept in memory and truncation flags for both (Bacalhau's
 * WriteJobResults and OutputLimits).  The summary of a longer output is
 * its head, a line "[... N bytes ...]" and its tail (kept in a ring), so
 * that a traceback at its end is kept too.  Memory stays flat whatever
 * the job prints.  "order" in the results directory gets a line per read
 * that went into a file, "o N" or "e N" (N bytes of stdout or stderr), so
 * that the two can be shown interleaved as they were written; it is made
 * only once both streams have written (its first line covering all the
 * first wrote until then), is not synced, and stops where it cannot be
 * written.  Timeout and cancel send SIGTERM to the whole group, then
 * SIGKILL after the grace period.
 *
 * A spec with inputs or outputs runs under o->stager (artifact-fetch
 * --stage FD -- command): it fetches the inputs into the work directory,
 * runs the command, uploads the outputs and writes what it staged to
 * staged.json in the results, which the result carries.
 *
 * A container job (the spec's "container") runs in a container engine --
 * docker run or podman run -- or, with the engine "host", on the host in
 * the sandbox; a job whose spec says "sandbox" (or any job, with
 * o->sandbox) runs in the sandbox: bubblewrap, with the host's file system
 * read-only, the work directory and the spec's "binds" writable (as they
 * say), a private /tmp, its own PID, IPC and UTS namespaces and no network
 * unless the spec's "network" is "full" (sandbox.h).  The stager runs
 * outside, around it.  An engine or bubblewrap missing, or a container
 * with nothing to run on the host, ends the task at once: status 125 and
 * an error saying what is missing -- never a run without the isolation
 * asked for.
 *
 * The module knows nothing of the store: the caller polls the descriptors
 * exec_fds() names and calls exec_step() when one is ready or a deadline
 * (exec_deadline()) passes.
 */
#ifndef EXEC_H
#define EXEC_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define EXEC_DEFAULT_MAX_FILE (1ull << 30)
#define EXEC_DEFAULT_MAX_RETURN 4096
#define EXEC_DEFAULT_GRACE_MS 10000

struct exec;

struct exec_opts {
	const char *job, *task; /* IDs, for the environment */
	int64_t attempt;
	const char *results; /* results directory for this task (made) */
	int passthrough; /* also copy output to our stdout/stderr */
	int64_t timeout_ms; /* overrides the spec when > 0 */
	int64_t grace_ms; /* overrides the spec when > 0 */
	uint64_t max_file; /* overrides the spec when > 0 */
	uint64_t max_return; /* overrides the spec when > 0 */
	const char *db; /* JOBKIT_DB for the task, or NULL */
	int as_owner; /* run as uid (the caller is root) */
	uid_t uid;
	const char *owner; /* its name, for messages */
	const char *stager; /* artifact-fetch, for a spec with inputs,
			       outputs or a context, or NULL */
	int context; /* a descriptor of the packed context; 0 for none
			(stdin is never one) */
	const char *engine; /* for container jobs: "auto" or NULL (docker,
			       else podman, on our PATH), "docker",
			       "podman", or "host" (in the sandbox) */
	int sandbox; /* every task in the sandbox (bubblewrap) */
	const char *gpus; /* devices given to this task ("0,2"), or NULL:
			     in CUDA_VISIBLE_DEVICES and
			     NVIDIA_VISIBLE_DEVICES, and to docker */
	int pip; /* JOBKIT_PIP=1 in its environment: a job may install
		    the Python packages it names (a StudioML request's) */
};

/* How a task ended, filled by exec_result(). */
struct exec_result {
	const char *state; /* succeeded, failed, timed_out, cancelled */
	int exit_code; /* -1 when killed by a signal or not started */
	int signal; /* 0 when none */
	char error[512]; /* why it did not succeed, "" when it did */
	char *out, *err; /* summaries, owned by the struct exec */
	int out_truncated, err_truncated;
	double user_cpu, system_cpu; /* seconds */
	int64_t max_rss; /* bytes */
	const char *enforcement; /* "cgroup", "watch" (RSS from /proc, CPU
				    by rlimit) or "rlimit" */
	int status; /* for the caller's exit: timeout(1)-like; 74 when the
		       results could not be written */
	int echo_errno; /* why passing the output through failed, or 0 */
	int no_retry; /* ended without its results or before its owner
			 could run it: not to be run again */
	int oom; /* killed at its memory limit */
	json_t *staged; /* {inputs, uploads} staged around it, or NULL;
			   owned by the struct exec */
};

/*
 * Make the results root dir (mode 0700, parents too) unless it exists, and
 * check that tasks' folders can be made in it: 0, or -1 (EX_CANTCREAT).
 */
int exec_results_ready(const char *dir);

/*
 * Start the task described by spec (a normalized job spec, borrowed).  A
 * program that cannot be run still yields a struct exec that ends at once
 * with status 126 or 127 and an error, and so does one whose owner no
 * longer exists (125).  NULL with an error set when the results directory
 * cannot be made (EX_CANTCREAT), when what is in its place is someone
 * else's or a link (EX_NOPERM: the job's trouble, not the caller's), or
 * fork fails.
 */
struct exec *exec_start(json_t *spec, const struct exec_opts *o);

/* The pid of the process group leader (0 if it never started). */
pid_t exec_pid(const struct exec *x);

/*
 * Up to max descriptors to poll for input into fds; returns how many.
 * They close as the process's output ends.
 */
int exec_fds(const struct exec *x, int *fds, int max);

/* The next time (ms since the epoch) exec_step() must be called, or -1. */
int64_t exec_deadline(const struct exec *x);

/*
 * Move output and check deadlines, memory and the process: call when a
 * descriptor is ready, a deadline passed, or SIGCHLD came.  Returns 1 once
 * the task has ended and all its output is read, 0 while it runs.  An
 * output file that cannot be written (a full disk) stops being written;
 * the task runs on, its output still read, and ends failed with
 * "results: why".
 */
int exec_step(struct exec *x, int64_t now_ms);

/* Ask the task to stop: SIGTERM to its group, SIGKILL after the grace. */
void exec_cancel(struct exec *x, const char *why);

/*
 * The result, once exec_step() returned 1; the first call also writes
 * exitCode and result.json (a file that cannot be written whole is
 * removed, and the result is failed with "results: why").
 */
const struct exec_result *exec_result(struct exec *x);

/*
 * Processes of a task that left its process group (setsid(2)) come to
 * the caller once their parent dies, the caller being a subreaper
 * (PR_SET_CHILD_SUBREAPER): strays.  exec_step() SIGKILLs those of a
 * task whose leader it reaps, and their groups, never waiting;
 * exec_reap_orphans() reaps them as they die and looks again for the
 * children that come to us so.  A child is taken for a task's only when
 * it is known to be one: in a session or group a task's process made,
 * the child of a stray killed, or -- alive -- naming the task's
 * JOBKIT_TASK_ID in its environment or holding its output pipes.  Any
 * other child of the caller (one in its own session, one it forked) is
 * never signalled nor reaped here.  A process of a task that cleared its
 * environment, let go of its output and made a session of its own while
 * its parent lived is not known (but by its cgroup, where it has one).
 */

/*
 * Look now for the strays of every task ended: SIGKILL them and their
 * groups; then, with wait_ms > 0, wait up to that long for them and for
 * those that come as they die (for a caller about to exit: never in an
 * event loop).  Returns how many were killed.
 */
int exec_kill_strays(int wait_ms);

/* How long exec_kill_strays() waits for strays when the caller exits. */
#define EXEC_STRAYS_WAIT_MS 2000

/*
 * The time (ms since the epoch) exec_reap_orphans() must be called next
 * while strays are killed but not gone, or -1: the caller's event loop
 * wakes by then.
 */
int64_t exec_strays_due(void);

/*
 * What a runner of tasks does first: block SIGCHLD, SIGINT, SIGTERM and
 * SIGHUP, to read them from the signalfd returned (-1 with EX_OSERR), and
 * become a subreaper, so that what a task leaves behind comes to the
 * caller (exec_kill_strays(), exec_reap_orphans()).
 */
int exec_signals(void);

/*
 * Reap the children that came to the caller as subreaper and are known
 * for a task's (above), leaving the leaders of running tasks to
 * exec_step() and every other child to the caller; and move on with the
 * strays killed: those gone are reaped, and the children they leave are
 * looked at.  Never waits: call it each time the caller's loop wakes
 * (SIGCHLD, exec_strays_due()).
 */
void exec_reap_orphans(void);

/*
 * SIGKILL every process on this host, whoever's child, whose environment
 * names task as its JOBKIT_TASK_ID and db as its JOBKIT_DB (the same file,
 * however named), and the group of any that leads one: what is left of a
 * task found lost, its runner gone.  Only processes the caller may read
 * the environment of are seen.  Returns how many.
 */
int exec_kill_task(const char *task, const char *db);

/*
 * pid, a child of the caller that is no task's (a notifier, say), is
 * never taken for a stray nor reaped here, whatever it does (the last 16
 * are kept; others are known by what is above).
 */
void exec_spare(pid_t pid);

/* Kill what is left of the task's group and free everything. */
void exec_free(struct exec *x);

#endif
