/*
 * lifecycle: the state machine of jobs.  Pure functions from facts -- a
 * job's state and attempts, and what happened: an attempt ended, a
 * dependency ended, a user acted -- to a move: the job's new state, the
 * event to append and its message, how long until it is due, and what
 * follows (its dependents settle, its shards go with it).  No SQL, no
 * clock, no I/O: the store gathers the facts, asks, and applies the move
 * in one transaction.  Every text here is one users and tests read, in
 * events, reasons and errors.
 */
#ifndef LIFECYCLE_H
#define LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

/* Job and task states, as stored and shown. */
#define STATE_WAITING "waiting"
#define STATE_QUEUED "queued"
#define STATE_HELD "held"
#define STATE_RUNNING "running"
#define STATE_SUCCEEDED "succeeded"
#define STATE_FAILED "failed"
#define STATE_CANCELLED "cancelled"

/* Lost attempts (their worker died) that do not spend the job's retries. */
#define LIFECYCLE_MAX_LOST 3

/* The longest backoff before a failed attempt's job may start again, ms. */
#define LIFECYCLE_MAX_BACKOFF 300000

/* The size of a move's texts, and of a verdict's reason. */
#define LIFECYCLE_TEXT 512
#define LIFECYCLE_REASON_LEN 128

/* 1 when a job in state (may be NULL) is terminal: succeeded, failed or
 * cancelled. */
int lifecycle_terminal(const char *state);

/* What a move writes to the job's row. */
enum lifecycle_write {
	LIFECYCLE_NOTHING, /* the job is left as it is */
	LIFECYCLE_STATE, /* state and reason (and its end, when terminal) */
	LIFECYCLE_REASON, /* only the reason: a job of shards says how far
			     they are */
	LIFECYCLE_GIVE_BACK, /* the attempt is given back: state and reason,
				max_attempts + 1, not_before cleared */
	LIFECYCLE_BACKOFF, /* state and reason, due after backoff ms */
	LIFECYCLE_RENEW, /* retried: state, reason and max_attempts; its end
			    and a cancel request cleared */
	LIFECYCLE_CANCEL_REQUEST, /* its worker is to stop it; state kept */
	LIFECYCLE_REMOVE /* the job goes, with its tasks and events */
};

/* After a move: the jobs that depend on this one. */
enum lifecycle_settle {
	LIFECYCLE_SETTLE_NONE,
	LIFECYCLE_SETTLE_ENDED, /* it ended: the jobs waiting on it go where
				   their dependencies now leave them */
	LIFECYCLE_SETTLE_REVIVED /* it was retried: those cancelled because
				    of it wait again (lifecycle_settle()) */
};

/* With a move: the shards of a job of shards (none for another job). */
enum lifecycle_shards {
	LIFECYCLE_SHARDS_NONE,
	LIFECYCLE_SHARDS_CANCEL, /* once it is cancelled, those not ended are */
	LIFECYCLE_SHARDS_RETRY /* before its dependencies are read, those
				  that failed or were cancelled are retried */
};

/* A transition of one job, or a refusal (status not 0). */
struct lifecycle_move {
	enum lifecycle_write write;
	const char *state; /* its state after the move (the event's), NULL
			      with LIFECYCLE_NOTHING and LIFECYCLE_REMOVE */
	char reason[LIFECYCLE_TEXT]; /* its reason, when the row changes */
	const char *event; /* the event's type; NULL: no event */
	char message[LIFECYCLE_TEXT]; /* the event's message */
	int64_t backoff; /* ms, with LIFECYCLE_BACKOFF; else 0 */
	int64_t max_attempts; /* with LIFECYCLE_RENEW */
	/* State is what the job's dependencies say, read once the shards
	 * have gone: lifecycle_act_deps() completes the move. */
	int by_deps;
	enum lifecycle_settle settle;
	enum lifecycle_shards shards;
	int status; /* refused: a sysexits.h status; 0 when not */
	char error[LIFECYCLE_TEXT]; /* why it was refused */
};

/* How an attempt ended, and the facts of its job. */
struct lifecycle_attempt {
	int64_t attempt; /* its number, from 1 */
	const char *state; /* succeeded, failed, timed_out, cancelled, lost */
	int exit_code; /* -1 when none */
	int signal; /* 0 when none */
	const char *error; /* may be NULL */
	int requeue; /* stopped by its worker: queue again, no attempt used */
	int no_retry; /* its end is not known in full: never run again */
	int foreground; /* lost: it ran in a foreground run */
	int64_t attempts; /* the job's attempts, this one included */
	int64_t max_attempts;
	int64_t retries; /* as its spec asks */
	int cancel; /* a user asked to cancel the job */
	int64_t lost; /* its lost attempts, this one included */
	/* The exit statuses its spec retries a failed attempt on; NULL (not
	 * an empty array): any. */
	const int64_t *retry_on;
	size_t nretry_on;
};

/*
 * What an ended attempt does to its job, into *m: succeeded; cancelled
 * (when cancel was asked, unless it succeeded); queued again at once
 * without using an attempt when its worker gave it back (requeue, unless
 * cancel was asked) or it was lost, up to LIFECYCLE_MAX_LOST lost attempts
 * (but a foreground one of a job without retries fails); failed, never
 * retried, when no_retry; queued again after lifecycle_backoff() while
 * attempts remain and retry_on allows its exit status; else failed.  A job
 * that ends settles its dependents.  Never refused.
 */
void lifecycle_attempt_end(
    const struct lifecycle_attempt *a, struct lifecycle_move *m);

/* The backoff after attempt n (from 1): 1 s, 2 s, 4 s ... at most
 * LIFECYCLE_MAX_BACKOFF; 0 after a lost one (lost set), ms. */
int64_t lifecycle_backoff(int64_t n, int lost);

/* One dependency of a job. */
struct lifecycle_dep {
	const char *id; /* full ID */
	const char *kind; /* "success" (--after), "any" (--after-any) or
			     "shard" (the job is its job of shards) */
	const char *state; /* NULL when it was deleted */
};

/*
 * Where a job's dependencies leave it, folded one dependency at a time
 * (lifecycle_deps_start(), lifecycle_deps_add() for each,
 * lifecycle_deps_end()) or from an array (lifecycle_deps()): state is
 * "queued" when all are done (the --after ones succeeded; a deleted one
 * counts as done), "cancelled" when an --after one ended otherwise (the
 * reason names it), "waiting" while any is still to finish.  A job of
 * shards runs nothing itself: it waits while any shard is to finish,
 * saying how many ended, then has succeeded when all did, else failed,
 * naming the first shard that did not.
 */
struct lifecycle_deps {
	const char *state;
	char reason[LIFECYCLE_REASON_LEN]; /* "" while it waits on dependencies
					  that are not shards */
	int shards; /* how many shards it has */
	/* (the fold's) */
	int waiting, ended;
	char failed[96];
};

/* Start a fold in *v: no dependencies yet. */
void lifecycle_deps_start(struct lifecycle_deps *v);

/* Add dependency d; returns 1 when the verdict is known already (the
 * rest need not be added), else 0. */
int lifecycle_deps_add(struct lifecycle_deps *v, const struct lifecycle_dep *d);

/* End the fold: v->state and v->reason hold the verdict. */
void lifecycle_deps_end(struct lifecycle_deps *v);

/* The verdict of deps[0..n) (n may be 0), into *v. */
void lifecycle_deps(
    struct lifecycle_deps *v, const struct lifecycle_dep *deps, size_t n);

/*
 * A job that depends on job dep, which ended (revive 0) or was retried
 * (revive 1), where verdict v (its dependencies read anew) leaves it,
 * into *m: a waiting one stays, a waiting job of shards saying how far
 * they are; on a retry one that v still cancels stays; else it moves to
 * v's state, its event of that state's name ("revived" on a retry), and
 * settles its own dependents in turn when it ended or was revived.
 */
void lifecycle_settle(const struct lifecycle_deps *v, const char *dep,
    int revive, struct lifecycle_move *m);

/* What a job is as it is submitted. */
struct lifecycle_submit {
	int hold; /* asked to be held */
	int shards; /* a job of shards */
	int deps; /* it has dependencies */
};

/*
 * The first state of a job submitted as s, into *m (LIFECYCLE_STATE, event
 * "submitted"): held when asked ("submitted"), whatever its dependencies;
 * a job of shards waits for them ("waiting for its shards"); else queued
 * ("submitted").  With dependencies and not held, m->by_deps is set:
 * lifecycle_submit_deps() completes the move.  Never refused.
 */
void lifecycle_submit(
    const struct lifecycle_submit *s, struct lifecycle_move *m);

/* Complete submit move m from its dependencies' verdict v: when they let
 * it go, m is left as it is; else it is v's state, with v's reason when v
 * has one. */
void lifecycle_submit_deps(
    const struct lifecycle_deps *v, struct lifecycle_move *m);

/* A job a claim may not start (it may not run as its owner, or its rows
 * were changed so that it cannot), why, into *m: failed, event
 * "refused", "refused: <why>", settling its dependents. */
void lifecycle_refuse(const char *why, struct lifecycle_move *m);

/* What a user (or a runner, LIFECYCLE_RUN) does to a job. */
enum lifecycle_action {
	LIFECYCLE_CANCEL,
	LIFECYCLE_HOLD,
	LIFECYCLE_RELEASE,
	LIFECYCLE_RETRY,
	LIFECYCLE_DELETE,
	LIFECYCLE_UPDATE, /* its priority or queue */
	LIFECYCLE_RUN /* claimed by name */
};

/* The facts of a job an action looks at. */
struct lifecycle_job {
	const char *id; /* its full ID, for the error texts */
	const char *state;
	int64_t attempts; /* made so far */
	int64_t retries; /* as its spec asks */
};

/*
 * What act does to job j, into *m.  Returns 0: the move (LIFECYCLE_NOTHING
 * when the job is left unchanged: holding a held job, releasing one that
 * is not held; for LIFECYCLE_UPDATE and LIFECYCLE_RUN, the store makes the
 * change); or -1 when the job's state refuses it, m->status being
 * EX_DATAERR and m->error "cannot <act> job '<id>': it is <state>".
 * Cancel: a running job is asked to stop, a terminal one refused, any
 * other cancelled (settling its dependents, cancelling its shards).  Hold:
 * queued or waiting.  Release: held, into what its dependencies say;
 * running and terminal refused.  Retry: terminal, into what its
 * dependencies say.  Delete: terminal.  Update: neither running nor
 * terminal.  Run: queued.  With m->by_deps set, lifecycle_act_deps()
 * completes the move.
 */
int lifecycle_act(enum lifecycle_action act, const struct lifecycle_job *j,
    struct lifecycle_move *m);

/*
 * Complete move m of act (release or retry) of job j from its
 * dependencies' verdict v.  Returns 0, or -1 when a retry is refused
 * because v cancels the job (EX_DATAERR, "cannot retry job '<id>':
 * <reason>").
 */
int lifecycle_act_deps(enum lifecycle_action act, const struct lifecycle_job *j,
    const struct lifecycle_deps *v, struct lifecycle_move *m);

/* 1 when a shard in state goes with its job of shards when shards says,
 * else 0. */
int lifecycle_shard_follows(enum lifecycle_shards shards, const char *state);

#endif
