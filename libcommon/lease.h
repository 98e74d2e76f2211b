/*
 * lease: one process's hold on rows of the task database, as Reflow's
 * KeepRunAlive, KeepTaskAlive and KeepIDAliveAndEnd keep theirs.  It is the
 * one lease session of jobkit: exec-run and task-keepalive both hold their
 * runs and tasks through it, so that the two can never disagree about what
 * a lease is.  When a lease has expired is decided by the store alone
 * (store.h); this module decides when to renew, and what a renewal found.
 *
 * A lease is a run the caller starts (lease_start()), whose tasks it holds
 * (lease_hold()) and renews with it, or a row it was given to keep: a run
 * or a single task (lease_keep()).  The caller asks lease_due() when to
 * call lease_tick() next, and reads what happened in struct lease_news.
 * Renewals come every interval (a third of the lease unless told); one
 * the database refuses for now (busy) is retried with backoff while the
 * lease lasts.
 *
 * A lease is lost when a reaper found it expired (its rows ended lost),
 * when its rows were ended by another, or when no renewal succeeded for a
 * whole lease, after which any reaper may take it.  The caller must then
 * stop what it runs under the lease without recording an end, so that one
 * attempt never runs twice.
 */
#ifndef LEASE_H
#define LEASE_H

#include <stdint.h>
#include <jansson.h>

#include "exec.h"
#include "store.h"

/* The exit status of a tool whose lease was lost (task-keepalive(1)). */
#define LEASE_LOST_STATUS 122

struct lease;

/* What one lease_tick() found; every member empty when nothing. */
struct lease_news {
	json_t *cancel; /* IDs of held tasks whose job was asked to cancel */
	json_t *gone; /* IDs of held tasks ended by another (found lost) */
	json_t *reaped; /* store_reap()'s changes, with a "killed" count on
			   each task of this host (lease_reaps()) */
	int lost; /* the lease itself is lost: stop everything under it */
	int ended; /* (and that is because another ended its rows, not
		      because a reaper found them lost) */
	int renewed; /* a renewal was made */
	char why[300]; /* why it is lost, or why a renewal is retried */
};

/*
 * Start run rn and hold its lease, renewed every interval_ms (0: a third
 * of rn->lease_ms).  The run is recorded in the caller's open transaction
 * if there is one.  NULL with an error.
 */
struct lease *lease_start(
    struct store *st, const struct run_new *rn, int64_t interval_ms);

/*
 * Keep the lease of an existing run ("r..." ID) or task, setting its
 * lease to lease_ms (0: keeping the row's); interval_ms as for
 * lease_start(), and shorter than the lease (EX_USAGE).  The first
 * renewal is made here: NULL with an error when it fails (EX_NOINPUT no
 * such row, EX_NOPERM another user's, EX_DATAERR it has already ended).
 */
struct lease *lease_keep(
    struct store *st, const char *id, int64_t lease_ms, int64_t interval_ms);

/* The run's ID (lease_start()), or the row kept (lease_keep()). */
const char *lease_id(const struct lease *l);

/* Whether the kept row is a task (lease_keep() of a task ID). */
int lease_is_task(const struct lease *l);

/* The lease and the renewal interval, in ms. */
int64_t lease_ms(const struct lease *l);
int64_t lease_interval(const struct lease *l);

/* Also reap (lease_reap()) once a lease, the first time after delay ms
 * (0: at the next lease_tick()). */
void lease_reaps(struct lease *l, int64_t delay);

/*
 * Reap: store_reap(), then kill what is left on this host of each task
 * found lost (exec_kill_task()), its count in the change's "killed".  The
 * changes go into *changes, a new array.  0, or -1 with *changes NULL
 * (EX_OSERR: out of memory to tell the kills, which were still made).
 */
int lease_reap(struct store *st, json_t **changes);

/*
 * A task's end as the store records it, from what its process came to;
 * results is its results folder, usage a new object res owns (free it
 * with json_decref(res->usage)).  Returns 0, or -1 (EX_OSERR) with
 * res->usage NULL when there was no memory for it: res is whole but for
 * that, and the end may be recorded without its usage.
 */
int lease_result(
    const struct exec_result *x, const char *results, struct task_result *res);

/*
 * A task started under the run (its ID, copied), renewed with it until
 * lease_release(); a task the store then finds ended is in news.gone.
 * 0, or -1 (EX_OSERR).
 */
int lease_hold(struct lease *l, const char *task);
void lease_release(struct lease *l, const char *task);

/* How many tasks are held. */
int lease_held(const struct lease *l);

/* When lease_tick() is due next (ms since the epoch). */
int64_t lease_due(const struct lease *l);

/*
 * Renew and reap if due at now; what was found goes into *news (free it
 * with lease_news_free()).  0, or -1 with an error the lease cannot
 * survive (EX_NOINPUT, EX_NOPERM, EX_OSERR); a renewal failing for now is
 * no error while the lease lasts (news->why says it), and news->lost once
 * it does not.
 */
int lease_tick(struct lease *l, int64_t now, struct lease_news *news);

/*
 * Between renewals (when the database changed): the held tasks whose job
 * was asked to cancel, as a new array in *cancel.  0 or -1.
 */
int lease_cancels(struct lease *l, json_t **cancel);

/* The run ended (lease_start() only; it stays in the database). */
int lease_end(struct lease *l);

void lease_news_free(struct lease_news *news);
void lease_free(struct lease *l);

#endif
