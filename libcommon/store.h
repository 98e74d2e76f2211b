/*
 * store: the task database.  Everything the tools keep -- jobs, their
 * labels, dependencies and events, tasks and runs -- is reached through
 * this API and nothing else, so another backend (PostgreSQL) can stand
 * behind it without a tool changing.  The sqlite backend runs in WAL mode
 * with synchronous=FULL, takes every write with BEGIN IMMEDIATE, waits on a
 * busy database, and migrates its versioned schema forward in one
 * transaction.
 *
 * Rows come out as jansson objects with stable key order: full IDs, times
 * in RFC 3339 UTC, absent values omitted.  Every function returns 0 (or a
 * documented value) on success and -1 with an error set; on failure no
 * write is left half done.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "id.h"
#include "lifecycle.h"

struct store;

/* Job and task states (STATE_QUEUED ...): lifecycle.h's. */

/* 1 when a job in state (may be NULL) is terminal: succeeded, failed or
 * cancelled. */
int store_terminal(const char *state);

/* Lost attempts (their worker died) that do not spend the job's retries. */
#define STORE_MAX_LOST LIFECYCLE_MAX_LOST

/*
 * Where the database is: path (a --db option; NULL if none), else
 * $JOBKIT_DB, else $XDG_DATA_HOME/jobkit/jobkit.db (~/.local/share/...).
 * Returns a malloc'd string, or NULL with an error set.
 */
char *store_locate(const char *path);

/*
 * Open the database at location (a path, or a URL whose scheme names a
 * backend), creating it (mode 0600 in a 0700 folder) when missing if create
 * is set.  The caller is the process's real user.  Errors: EX_NOINPUT when
 * it is missing and create is not set, EX_CANTCREAT when it cannot be made,
 * EX_NOPERM when it may not be read, EX_DATAERR when the file is not a
 * jobkit database, EX_UNAVAILABLE for an unknown backend or a newer schema.
 */
struct store *store_open(const char *location, int create);

void store_close(struct store *st);

/*
 * Transactions.  Writes inside begin/commit are one all-or-nothing unit;
 * a write outside one is its own transaction.  Begin waits for the write
 * lock (EX_TEMPFAIL after the busy timeout).  Rollback never fails.
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/*
 * In the open transaction, the rows of plain jobs (no key, dependencies,
 * parent or notes) that store_job_add() makes wait, to go in many to a
 * statement: before anything else reads or writes, and at the commit.  A
 * failure to write them is then that later call's, or the commit's; it
 * rolls the transaction back all the same.  Ends with the transaction;
 * a no-op outside one.
 */
void store_batch(struct store *st);

/*
 * Commits that wait for the disk on a thread of their own (syncer.h), so
 * that a worker tends its other tasks meanwhile.  After store_later() the
 * connection commits at synchronous=NORMAL: store_commit() then syncs the
 * WAL itself, and is as durable as before, while store_commit_later()
 * commits without waiting and sets *ticket (0 when nothing was written).
 * Such a commit shows to other connections at once, but is durable only
 * once store_durable() has set *done to its ticket or beyond; nothing may
 * act on it before (start a command, report an end).  store_durable_fd()
 * is the descriptor to poll for that: -1 without store_later().
 * store_later() returns -1 (error set) if the thread cannot be had; the
 * store then commits as before, and store_commit_later() is
 * store_commit() with a ticket of 0.  store_durable() returns -1
 * (EX_IOERR) once a sync failed: from then on nothing committed is known
 * to be on the disk, and every store_commit() fails.
 */
int store_later(struct store *st);
int store_commit_later(struct store *st, uint64_t *ticket);
int store_durable_fd(const struct store *st);
int store_durable(struct store *st, uint64_t *done);

/*
 * Commits that are reported together wait for the disk together.  After
 * store_later(), store_commit_unsynced() commits without waiting, and
 * store_sync() waits, on the caller's thread, until every commit made so
 * far is on the disk: one sync for them all.  Without store_later() each
 * commit waits for the disk as it is made, and store_sync() does nothing.
 * Both return 0, or -1 (error set): store_sync() EX_IOERR, as
 * store_durable().
 */
int store_commit_unsynced(struct store *st);
int store_sync(struct store *st);

/*
 * Work a connection may do while it waits for something else (a
 * foreground exec-run, or task-keepalive, while its command runs): copy
 * the WAL into the database once it is long enough that the close would,
 * so that the two syncs of that checkpoint are paid while no one waits for
 * them.  A store that idles leaves the WAL at its close up to twice as
 * long, for its next idle time.  Nothing in a transaction.  0, or -1
 * (error set) if the copy failed; a reader in the way is no failure.
 */
int store_idle(struct store *st);

/*
 * How long a statement waits for a busy database before it fails with
 * EX_TEMPFAIL: ms, at most the default (60 s), which ms <= 0 restores.
 */
void store_set_busy(struct store *st, int64_t ms);

/* A job to create, filled by spec_to_job(); all strings borrowed. */
#define STORE_TOKEN_LEN 16 /* bytes of a job_new's token */

struct job_new {
	json_t *spec; /* normalized spec; "after" IDs are rewritten */
	const char *name;
	const char *queue;
	int64_t priority;
	int hold;
	int64_t not_before; /* ms since the epoch, 0 for none */
	const char *key; /* idempotency key or NULL */
	json_t *labels; /* object of strings, may be NULL */
	json_t *after; /* arrays of ID prefixes, may be NULL */
	json_t *after_any;
	int64_t max_attempts; /* retries + 1 */
	int64_t cpu_milli, memory, disk, gpu; /* what it asks for; 0: none */
	/* The environment it records when its spec has none ("export"):
	 * one object for every job of a stream, stored once. */
	json_t *export;
	int64_t concurrency; /* > 0: a job of shards, running at most so
				many of them at once */
	const char *parent; /* the job of shards this one is a shard of
			       (a full ID), or NULL */
	int64_t parent_rid; /* (the store's) */
	json_t *selector; /* labels its worker must have, or NULL */
	/* The spec as it is stored, if the caller dumped it already
	 * (spec_stored()).  Used
	 * unless the store changes the spec (its dependencies' IDs, a
	 * shard's parent); the caller's. */
	const char *text;
	/* The submitter's token of a job handed to a worker (relay.h), or
	 * NULL: a job with it stored already is the one returned. */
	const unsigned char *token;
};

/*
 * Create a job.  Dependencies must exist (EX_NOINPUT otherwise) and are
 * resolved to full IDs.  The initial state is held, waiting (on
 * dependencies), cancelled (a dependency already failed) or queued.  With
 * a key that the caller already used, or a token a job was stored with,
 * nothing is created and the existing job is returned.  Its ID goes into id[ID_LEN + 1]; *out, unless out is
 * NULL, receives a new object {id, name, state, ...}; *existed is set to 1
 * when it was an existing job.
 */
int store_job_add(struct store *st, const struct job_new *jn, char *id,
    json_t **out, int *existed);

/*
 * Resolve an ID or a unique prefix of at least ID_MIN_PREFIX characters into
 * id[ID_LEN + 1].  EX_NOINPUT when no job matches, EX_USAGE (listing the
 * candidates) when several do.
 */
int store_job_resolve(struct store *st, const char *prefix, char *id);

/*
 * Everything about one job, by full ID: its columns, spec, dependencies,
 * dependents, events and tasks.  A new object, or NULL (EX_NOINPUT).
 */
json_t *store_job_describe(struct store *st, const char *id);

enum store_action {
	STORE_CANCEL,
	STORE_HOLD,
	STORE_RELEASE,
	STORE_RETRY,
	STORE_DELETE,
	STORE_UPDATE
};

/* What STORE_UPDATE changes: set has_* for the fields to change. */
struct job_change {
	int has_priority;
	int64_t priority;
	const char *queue; /* NULL: unchanged */
};

/*
 * Change one job (full ID) on behalf of the caller, who must own it or be
 * root (EX_NOPERM).  A change the job's state does not allow fails with
 * EX_DATAERR naming the state.  Each change appends an event; a job that
 * ends releases or cancels the jobs waiting on it.  *out gets the job's
 * {id, name, state} afterwards (for STORE_DELETE, state "deleted").
 */
int store_job_act(struct store *st, const char *id, enum store_action act,
    const struct job_change *chg, json_t **out);

/* Which rows run-query wants. */
enum store_noun { STORE_JOBS, STORE_TASKS, STORE_RUNS, STORE_QUEUES };

struct store_query {
	enum store_noun noun;
	const char **states; /* NULL-terminated, or NULL for any */
	const char *user;
	const char *queue;
	const char **labels; /* "k=v", NULL-terminated */
	const char *name; /* glob */
	const char *id; /* ID prefix */
	const char *job; /* tasks of this job (full ID) */
	const char *time; /* created, started, ended, keepalive */
	int64_t since, until; /* ms; INT64_MIN / INT64_MAX when open */
	const char *dependency_of; /* full job IDs */
	const char *dependent_of;
	const char *sort; /* column name, NULL for creation order */
	int reverse;
	int64_t limit; /* 0: no limit */
	/* Of runs and tasks (Reflow's RunQuery and TaskQuery).  With since
	 * or until and no time field, the rows alive at some moment in the
	 * window: started before until, and not ended or ended after
	 * since. */
	const char *run; /* tasks of this run, or this run ("r" ID) */
	const char *ident; /* tasks whose ident (job name) is this */
	const char *cmd; /* tasks of this command digest (in full:
			    store_cmd_resolve()) */
	int alive; /* rows alive now: no end, a keepalive within the lease */
	int lost; /* rows lost: found so, or their lease expired */
	int with_run; /* each task with its run's row, as "run_row" */
	/* Of jobs (and queues): when not 0, only jobs that have not ended
	 * and those that ended at or after this time (ms). */
	int64_t recent;
};

/*
 * The command digest (spec_digest()) of which prefix is the start, with
 * or without "sha256:", into full[72]: EX_USAGE when it is no digest's
 * start or when tasks ran two digests it starts (listing them); full is
 * the prefix itself (matching no task) when none did.
 */
int store_cmd_resolve(struct store *st, const char *prefix, char *full);

/* The name of the caller, as the store records owners. */
const char *store_caller(const struct store *st);

/* Where the database is, as it was opened. */
const char *store_path(const struct store *st);

/* The fields run-query accepts for sort and time, per noun. */
int store_query_check(const struct store_query *q);

/*
 * Call fn for each matching row (a borrowed object, valid during the
 * call); fn returns 0 to go on, -1 to stop with its error.  A job's row
 * ends with what it runs ("command", one line) and its last attempt's
 * "exit_code", "signal", "task_started" and "task_ended", and when it is
 * due ("not_before"), where known.
 */
int store_query(struct store *st, const struct store_query *q,
    int (*fn)(json_t *row, void *arg), void *arg);

/* Count matching rows into *n. */
int store_count(struct store *st, const struct store_query *q, int64_t *n);

/*
 * Counts of matching rows per state and per queue:
 * {"total": N, "states": {...}, "queues": {"q": {"state": n, ...}}}.
 */
json_t *store_summary(struct store *st, const struct store_query *q);

/*
 * Execution: runs, claims, task results and leases.  A run is one
 * exec-run or task-keepalive session; it owns the tasks it starts and
 * renews their keepalive.  A task whose keepalive is older than its lease
 * is lost, and its job is re-queued or failed by the attempts it has left.
 */

/* A run to record; host and pid are the calling process's. */
struct run_new {
	const char *kind; /* "exec-run", "task-keepalive" */
	/*
	 * "foreground", "named" or "worker".  A foreground run's job is its
	 * terminal's: if the run dies, the job fails rather than run again
	 * behind the user's back, unless it asked for retries.
	 */
	const char *mode;
	int64_t lease_ms;
	json_t *capacity; /* may be NULL */
	json_t *labels; /* may be NULL */
};

/*
 * Run IDs are "r" and a job-style ID ("ra001"), so that a run piped where
 * jobs are expected is refused rather than taken for the job of the same
 * number.
 */
#define STORE_RUN_ID_LEN (ID_LEN + 1)

/* Record a run; its ID goes into id[STORE_RUN_ID_LEN + 1]. */
int store_run_start(struct store *st, const struct run_new *rn, char *id);

/*
 * Renew the keepalive of a run and of its unfinished tasks (the lease
 * module's, lease.h).  Returns 0, *tasks (when not NULL) receiving a new
 * object {"alive": [IDs of the run's unfinished tasks], "cancel": [those
 * of them whose job was asked to cancel]}; 1 when a reaper found the run
 * lost, 2 when it has ended, and nothing was renewed; -1
 * with an error: EX_NOINPUT no such run, EX_NOPERM another user's (unless
 * the caller is root), EX_TEMPFAIL the database stayed busy.
 */
int store_run_keepalive(
    struct store *st, const char *run, int64_t lease_ms, json_t **tasks);

/*
 * Renew one task's keepalive, not its run's.  Returns 0; 1 when the task
 * has ended (found lost, or ended by another), its state in state[16];
 * -1 with an error as store_run_keepalive()'s.  *cancel is set to 1 when
 * its job was asked to cancel, else 0.  Both renewals set the rows' lease
 * to lease_ms when it is > 0.
 */
int store_task_keepalive(struct store *st, const char *task, int64_t lease_ms,
    char *state, int *cancel);

/*
 * Read-only: the IDs of the run's unfinished tasks whose job was asked to
 * cancel, as a new array in *cancel.
 */
int store_run_cancels(struct store *st, const char *run, json_t **cancel);

/*
 * The lease of a run ("r" ID) or task, in ms, into *ms.  EX_NOINPUT when
 * there is no such row.
 */
int store_lease_of(struct store *st, const char *id, int64_t *ms);

/*
 * The ID (ID_LEN + 1 bytes) of the job the caller submitted last, not
 * counting shards (a job of shards counts, as the parent of its last
 * ones).  EX_NOINPUT ("no jobs of yours") when the caller has none.
 */
int store_job_last(struct store *st, char *id);

/*
 * Whether another process committed to the database since the last call
 * (the first call says it did), into *changed.  A process woken by a
 * write it saw (inotify) asks this to know whether the commit shows yet.
 * Returns 0, or -1 with the error set.
 */
int store_changed(struct store *st, int *changed);

/*
 * Whether a live worker would take the caller's jobs of queue: one whose
 * lease holds, run by root or by the caller, that serves queue (or every
 * queue).  Sets *served to 1 or 0; returns 0, or -1 with the error set.
 */
int store_queue_served(struct store *st, const char *queue, int *served);

/* The run ended (it stays in the database). */
int store_run_end(struct store *st, const char *run);

/* What a worker may take: queues (NULL: any) and free resources. */
struct claim_fit {
	const char **queues; /* NULL-terminated or NULL */
	int64_t cpu_milli; /* < 0: unlimited */
	int64_t memory, disk; /* bytes; < 0: unlimited */
	int64_t gpu; /* < 0: unlimited */
	const char *labels; /* the worker's labels, a JSON object, for the
			       jobs' selectors; NULL: none */
};

/*
 * Claim the queued job with the highest priority, then the oldest, that
 * is due and fits, for run: the job becomes running and a task (attempt
 * n + 1) is recorded.  A caller that is not root claims only its own
 * user's jobs (root runs each as its owner).  The fit is tested in the
 * query, so a job that fits is found however many ahead of it do not.
 * Returns 1 and *task = {"id" (task), "job", "attempt", "uid", "owner",
 * "spec"} when one was claimed, 0 when none fits.
 */
int store_claim(struct store *st, const char *run, const struct claim_fit *fit,
    json_t **task);

/*
 * Say why the queued, due jobs of cap's queues wait that the caller can
 * never run, cap being its whole capacity: another user's, when the caller
 * is not root ("no worker may run jobs of 'alice' here"), or asking for
 * more than cap ("waiting for a worker with gpu=4").  Their reason is
 * written where it changes; job-describe and run-query show it.  The first
 * note through st looks at every job, a part (some thousands) a call:
 * returns 1 while parts remain, to be called again, so that the caller
 * may tend to other things between them.  Later notes look only at the
 * jobs submitted or changed since, and those st's claims found due, so cap
 * must be the same at every call through st.  Returns 0 when done, -1 on
 * an error.
 */
int store_note_unfit(struct store *st, const struct claim_fit *cap);

/*
 * When the next queued job of fit's queues that is not yet due becomes
 * due (its --at time, or the end of a retry's backoff), into *due (ms
 * since the epoch); 0 when none waits for a time.
 */
int store_next_due(struct store *st, const struct claim_fit *fit, int64_t *due);

/*
 * Claim one named job (full ID) for run, whatever its queue and time.
 * EX_DATAERR when the job is not queued (running, finished, held or
 * waiting), EX_NOINPUT when there is no such job, EX_TEMPFAIL when it is
 * a shard whose parent already runs its concurrency of shards.
 */
int store_claim_job(
    struct store *st, const char *run, const char *job, json_t **task);

/*
 * The IDs of the shards of job id (a full ID) that have not ended, in
 * order: a new array, empty when it is no job of shards; NULL with an
 * error.
 */
json_t *store_job_shards(struct store *st, const char *id);

/*
 * Append an event of type (a word) with message to job id (a full ID or a
 * unique prefix), in its current state: what happened to it outside the
 * store, such as a notification.  EX_NOINPUT when there is no such job.
 */
int store_job_note(
    struct store *st, const char *id, const char *type, const char *message);

/* Record the pid of a task's process group leader, the GPUs it was given
 * ("0,2", or NULL for none), and what it runs (a spec_digest(), or NULL:
 * left as it is). */
int store_task_pid(struct store *st, const char *task, int64_t pid,
    const char *devices, const char *cmd);

/* How a task ended.  Strings may be NULL. */
struct task_result {
	const char *state; /* succeeded, failed, timed_out, cancelled, lost */
	int exit_code; /* -1 when none */
	int signal; /* 0 when none */
	const char *error;
	const char *out, *err; /* summaries */
	int out_truncated, err_truncated;
	json_t *usage; /* {"user_cpu","system_cpu","max_rss"} */
	const char *enforcement;
	const char *results; /* results directory */
	json_t *staged; /* {inputs, uploads} of artifact-fetch --stage */
	int requeue; /* stopped by its worker: queue again, no attempt used */
	int no_retry; /* it ran, but its end is not known in full (its
			 results could not be written, its owner is gone):
			 failed, never run again */
	int foreground; /* lost: it ran in a foreground run (store_reap) */
	/* What store_task_pid() would have recorded, if it has not been:
	 * recorded with the end (pid 0 leaves all three as they are). */
	int64_t pid;
	const char *devices, *cmd;
};

/*
 * Record a task's end and decide its job: succeeded; cancelled; queued
 * again at once without spending an attempt when its worker stopped it
 * (r->requeue) or it was lost, up to STORE_MAX_LOST lost attempts; or, for
 * a failed, timed-out or (further) lost task, queued again after a backoff
 * while attempts remain (and the exit status is one the spec retries on),
 * else failed.  Jobs waiting on it are settled.  *job (when not NULL) receives
 * the job's {id, name, state, ...} afterwards.  EX_DATAERR when the task
 * had already ended (for instance, found lost).
 */
int store_task_finish(struct store *st, const char *task,
    const struct task_result *r, json_t **job);

/*
 * A job's context folder, packed (job-submit --context): stored once per
 * content under its sha256 (hex), in the open transaction.  0 or -1.
 */
int store_context_put(
    struct store *st, const char *sha, const void *data, size_t len);

/*
 * Write the context sha256 (hex) to fd.  0, or -1: EX_NOINPUT when the
 * database has none of that name, EX_IOERR when fd refuses it.
 */
int store_context_get(struct store *st, const char *sha, int fd);

/*
 * Mark every unfinished task and every run whose lease expired lost,
 * deciding each task's job as store_task_finish() does, in one
 * transaction: of reapers that run at once, each lost row is handled by
 * exactly one.  *changes receives a new array of one object per change: a
 * task's {"id", "kind": "task", "job", "state": "lost", "job_state",
 * "host", "pid", "error"}, then a run's {"id", "kind": "run", "state":
 * "lost", "host", "pid", "quiet_s"}.
 */
int store_reap(struct store *st, json_t **changes);

/* A job's state into state[16]; EX_NOINPUT when there is no such job. */
int store_job_state(struct store *st, const char *job, char *state);

/*
 * The work the backend did in the statements the store ran since the
 * first call, which starts counting and returns 0: for sqlite, the steps
 * of its virtual machine.  A count, not a time, so that a test on a loaded
 * machine can see that a query walks past rows it should have skipped on
 * an index (a claim with a million unfit jobs ahead of the one that fits,
 * tests/unit/claim.c).  -1 with an error when the backend cannot count.
 */
int64_t store_steps(struct store *st);

/* The statements the store ran since store_steps() began counting, or -1
 * before (a batch of rows is one: store_batch()). */
int64_t store_runs(const struct store *st);

#endif
