/* lifecycle: the state machine of jobs (see lifecycle.h). */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "lifecycle.h"

int
lifecycle_terminal(const char *state)
{
	return state != NULL &&
	    (strcmp(state, STATE_SUCCEEDED) == 0 ||
		strcmp(state, STATE_FAILED) == 0 ||
		strcmp(state, STATE_CANCELLED) == 0);
}

static int
is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

static void
move_clear(struct lifecycle_move *m)
{
	memset(m, 0, sizeof(*m));
}

/* A row write with its event: the reason is the event's message. */
static void
move_to(struct lifecycle_move *m, enum lifecycle_write w, const char *state,
    const char *event)
{
	m->write = w;
	m->state = state;
	m->event = event;
	snprintf(m->reason, sizeof(m->reason), "%s", m->message);
}

void
lifecycle_submit(const struct lifecycle_submit *s, struct lifecycle_move *m)
{
	move_clear(m);
	snprintf(m->message, sizeof(m->message), "%s",
	    !s->hold && s->shards ? "waiting for its shards" : "submitted");
	move_to(m, LIFECYCLE_STATE,
	    s->hold	    ? STATE_HELD
		: s->shards ? STATE_WAITING
			    : STATE_QUEUED,
	    "submitted");
	m->by_deps = s->deps && !s->hold;
}

void
lifecycle_submit_deps(const struct lifecycle_deps *v, struct lifecycle_move *m)
{
	m->by_deps = 0;
	if (is(v->state, STATE_QUEUED))
		return;
	m->state = v->state;
	if (v->reason[0] != '\0')
		snprintf(m->message, sizeof(m->message), "%s", v->reason);
	snprintf(m->reason, sizeof(m->reason), "%s", m->message);
}

void
lifecycle_refuse(const char *why, struct lifecycle_move *m)
{
	move_clear(m);
	snprintf(m->message, sizeof(m->message), "refused: %s", why);
	move_to(m, LIFECYCLE_STATE, STATE_FAILED, "refused");
	m->settle = LIFECYCLE_SETTLE_ENDED;
}

int64_t
lifecycle_backoff(int64_t n, int lost)
{
	int64_t backoff = n < 1 ? 1000
	    : n < 10		? 1000LL << (n - 1)
				: LIFECYCLE_MAX_BACKOFF;

	if (backoff > LIFECYCLE_MAX_BACKOFF)
		backoff = LIFECYCLE_MAX_BACKOFF;
	return lost ? 0 : backoff;
}

/* Whether a failed attempt's exit status is one the spec retries on. */
static int
retry_allowed(const struct lifecycle_attempt *a)
{
	if (a->retry_on == NULL || !is(a->state, "failed"))
		return 1;
	for (size_t i = 0; i < a->nretry_on; i++)
		if (a->retry_on[i] == a->exit_code)
			return 1;
	return 0;
}

/* How it ended, as a status ("exit status 3") into code, and why, into
 * why: its error says more than its status, unless it says only that. */
static void
attempt_why(const struct lifecycle_attempt *a, char *code, size_t clen,
    char *why, size_t wlen)
{
	if (a->exit_code >= 0)
		snprintf(code, clen, "exit status %d", a->exit_code);
	else if (a->signal > 0)
		snprintf(code, clen, "signal %d", a->signal);
	else
		snprintf(code, clen, "%s", a->state);
	snprintf(why, wlen, "%s",
	    a->error != NULL && strncmp(a->error, "exit status ", 12) != 0 &&
		    strncmp(a->error, "killed by signal ", 17) != 0
		? a->error
		: code);
}

/* Neither a worker that stopped nor one that died is the job's fault: the
 * attempt goes back unused. */
static void
attempt_give_back(const struct lifecycle_attempt *a, const char *why,
    struct lifecycle_move *m)
{
	if (a->requeue)
		snprintf(m->message, sizeof(m->message),
		    "attempt %lld given back (%s); queued again "
		    "without using a retry",
		    (long long)a->attempt, a->error ? a->error : why);
	else
		snprintf(m->message, sizeof(m->message),
		    "attempt %lld lost (%s); queued again without "
		    "using a retry (lost %lld of %d)",
		    (long long)a->attempt, why, (long long)a->lost,
		    LIFECYCLE_MAX_LOST);
	move_to(m, LIFECYCLE_GIVE_BACK, STATE_QUEUED,
	    a->requeue ? "requeued" : "lost");
}

/* The job's state after an attempt not given back, and a note on why it
 * is not run again; *retry is 0 when retry_on refused it. */
static const char *
attempt_state(const struct lifecycle_attempt *a, const char **note, int *retry)
{
	int lost = is(a->state, "lost");

	*note = "";
	*retry = 1;
	if (is(a->state, "succeeded"))
		return STATE_SUCCEEDED;
	if (is(a->state, "cancelled") || a->cancel)
		return STATE_CANCELLED;
	if (lost && a->foreground && a->retries == 0) {
		*note = "; not run again: it ran in the foreground and asked "
			"for no retries";
		return STATE_FAILED;
	}
	if (a->no_retry) {
		if (a->attempts < a->max_attempts)
			*note = a->exit_code < 0 && a->signal == 0
			    ? "; not retried"
			    : "; not retried: its command ran, and may have "
			      "done its work";
		return STATE_FAILED;
	}
	if (a->attempts < a->max_attempts && (*retry = retry_allowed(a)))
		return STATE_QUEUED;
	return STATE_FAILED;
}

void
lifecycle_attempt_end(
    const struct lifecycle_attempt *a, struct lifecycle_move *m)
{
	char why[300], code[64];
	const char *state, *note;
	int retry, lost = is(a->state, "lost");
	size_t n;

	move_clear(m);
	attempt_why(a, code, sizeof(code), why, sizeof(why));
	if ((a->requeue && !a->cancel) ||
	    (lost && !a->cancel && !(a->foreground && a->retries == 0) &&
		a->lost > 0 && a->lost <= LIFECYCLE_MAX_LOST)) {
		attempt_give_back(a, why, m);
		return;
	}
	state = attempt_state(a, &note, &retry);
	snprintf(m->message, sizeof(m->message),
	    lost && a->foreground ? "attempt %lld %s: %s%s"
				  : "attempt %lld %s (%s)%s",
	    (long long)a->attempt, a->state, why, note);
	n = strlen(m->message);
	if (a->attempts < a->max_attempts && !retry && is(state, STATE_FAILED))
		snprintf(m->message + n, sizeof(m->message) - n,
		    "; not retried: %s is not one of its retry_on statuses",
		    code);
	if (is(state, STATE_QUEUED)) {
		m->backoff = lifecycle_backoff(a->attempt, lost);
		n = strlen(m->message);
		snprintf(m->message + n, sizeof(m->message) - n,
		    "; retry %lld of %lld in %llds", (long long)a->attempts,
		    (long long)a->max_attempts - 1,
		    (long long)m->backoff / 1000);
		move_to(m, LIFECYCLE_BACKOFF, STATE_QUEUED, "retry");
		return;
	}
	/* The event is the attempt's end (timed_out, lost ...); the state,
	 * the job's. */
	move_to(m, LIFECYCLE_STATE, state,
	    is(state, STATE_CANCELLED) ? "cancelled" : a->state);
	m->settle = LIFECYCLE_SETTLE_ENDED;
}

void
lifecycle_deps_start(struct lifecycle_deps *v)
{
	memset(v, 0, sizeof(*v));
	v->state = STATE_QUEUED;
}

int
lifecycle_deps_add(struct lifecycle_deps *v, const struct lifecycle_dep *d)
{
	int shard = is(d->kind, "shard");

	if (is(v->state, STATE_CANCELLED))
		return 1;
	v->shards += shard;
	if (d->state == NULL) {
		v->ended += shard;
		return 0;
	}
	if (!lifecycle_terminal(d->state))
		v->waiting = 1;
	else if (shard) {
		v->ended++;
		if (!is(d->state, STATE_SUCCEEDED) && !*v->failed)
			snprintf(v->failed, sizeof(v->failed), "shard %s %s",
			    d->id, d->state);
	} else if (is(d->kind, "success") && !is(d->state, STATE_SUCCEEDED)) {
		v->state = STATE_CANCELLED;
		snprintf(v->reason, sizeof(v->reason), "dependency %s %s",
		    d->id, d->state);
		return 1;
	}
	return 0;
}

void
lifecycle_deps_end(struct lifecycle_deps *v)
{
	if (is(v->state, STATE_CANCELLED))
		return;
	if (v->shards > 0) {
		v->state = v->waiting ? STATE_WAITING
		    : *v->failed      ? STATE_FAILED
				      : STATE_SUCCEEDED;
		if (v->waiting || !*v->failed)
			snprintf(v->reason, sizeof(v->reason),
			    "%d of %d shards ended%s", v->ended, v->shards,
			    *v->failed ? ", one failed" : "");
		else
			snprintf(v->reason, sizeof(v->reason), "%s", v->failed);
	} else if (v->waiting)
		v->state = STATE_WAITING;
	else
		snprintf(v->reason, sizeof(v->reason), "dependencies done");
}

void
lifecycle_deps(
    struct lifecycle_deps *v, const struct lifecycle_dep *deps, size_t n)
{
	lifecycle_deps_start(v);
	for (size_t i = 0; i < n; i++)
		if (lifecycle_deps_add(v, &deps[i]))
			break;
	lifecycle_deps_end(v);
}

void
lifecycle_settle(const struct lifecycle_deps *v, const char *dep, int revive,
    struct lifecycle_move *m)
{
	move_clear(m);
	if (is(v->state, revive ? STATE_CANCELLED : STATE_WAITING)) {
		if (!revive && v->shards > 0) {
			m->write = LIFECYCLE_REASON;
			m->state = v->state;
			snprintf(m->reason, sizeof(m->reason), "%s", v->reason);
		}
		return;
	}
	if (revive)
		snprintf(m->message, sizeof(m->message),
		    "dependency %s retried", dep);
	else
		snprintf(m->message, sizeof(m->message), "%s", v->reason);
	move_to(m, LIFECYCLE_STATE, v->state, revive ? "revived" : v->state);
	if (revive)
		m->settle = LIFECYCLE_SETTLE_REVIVED;
	else if (lifecycle_terminal(v->state))
		m->settle = LIFECYCLE_SETTLE_ENDED;
}

static int
refuse(
    struct lifecycle_move *m, const char *what, const struct lifecycle_job *j)
{
	m->status = EX_DATAERR;
	snprintf(m->error, sizeof(m->error), "cannot %s job '%s': it is %s",
	    what, j->id, j->state);
	return -1;
}

/* A move whose reason and message are texts of their own. */
static void
move_says(struct lifecycle_move *m, enum lifecycle_write w, const char *state,
    const char *reason, const char *event, const char *message)
{
	m->write = w;
	m->state = state;
	snprintf(m->reason, sizeof(m->reason), "%s", reason);
	m->event = event;
	snprintf(m->message, sizeof(m->message), "%s", message);
}

static int
act_cancel(const struct lifecycle_job *j, struct lifecycle_move *m)
{
	if (is(j->state, STATE_RUNNING)) {
		move_says(m, LIFECYCLE_CANCEL_REQUEST, STATE_RUNNING, "",
		    "cancel-requested", "cancel requested by user");
		return 0;
	}
	if (lifecycle_terminal(j->state))
		return refuse(m, "cancel", j);
	move_says(m, LIFECYCLE_STATE, STATE_CANCELLED, "cancelled by user",
	    "cancelled", "cancelled by user");
	m->settle = LIFECYCLE_SETTLE_ENDED;
	m->shards = LIFECYCLE_SHARDS_CANCEL;
	return 0;
}

static int
act_hold(const struct lifecycle_job *j, struct lifecycle_move *m)
{
	if (is(j->state, STATE_HELD))
		return 0;
	if (!is(j->state, STATE_QUEUED) && !is(j->state, STATE_WAITING))
		return refuse(m, "hold", j);
	move_says(
	    m, LIFECYCLE_STATE, STATE_HELD, "held", "held", "held by user");
	return 0;
}

static int
act_release(const struct lifecycle_job *j, struct lifecycle_move *m)
{
	if (is(j->state, STATE_RUNNING) || lifecycle_terminal(j->state))
		return refuse(m, "release", j);
	if (is(j->state, STATE_HELD))
		m->by_deps = 1;
	return 0;
}

static int
act_retry(const struct lifecycle_job *j, struct lifecycle_move *m)
{
	if (!lifecycle_terminal(j->state))
		return refuse(m, "retry", j);
	/* A job of shards is retried by retrying those that did not
	 * succeed; it waits for them again. */
	m->shards = LIFECYCLE_SHARDS_RETRY;
	m->by_deps = 1;
	return 0;
}

int
lifecycle_act(enum lifecycle_action act, const struct lifecycle_job *j,
    struct lifecycle_move *m)
{
	move_clear(m);
	switch (act) {
	case LIFECYCLE_CANCEL:
		return act_cancel(j, m);
	case LIFECYCLE_HOLD:
		return act_hold(j, m);
	case LIFECYCLE_RELEASE:
		return act_release(j, m);
	case LIFECYCLE_RETRY:
		return act_retry(j, m);
	case LIFECYCLE_DELETE:
		if (!lifecycle_terminal(j->state))
			return refuse(m, "delete", j);
		m->write = LIFECYCLE_REMOVE;
		return 0;
	case LIFECYCLE_UPDATE:
		return is(j->state, STATE_RUNNING) ||
			lifecycle_terminal(j->state)
		    ? refuse(m, "change", j)
		    : 0;
	case LIFECYCLE_RUN:
		return is(j->state, STATE_QUEUED) ? 0 : refuse(m, "run", j);
	}
	return 0;
}

int
lifecycle_act_deps(enum lifecycle_action act, const struct lifecycle_job *j,
    const struct lifecycle_deps *v, struct lifecycle_move *m)
{
	int cancelled = is(v->state, STATE_CANCELLED);

	m->by_deps = 0;
	if (act == LIFECYCLE_RELEASE) {
		move_says(m, LIFECYCLE_STATE, v->state, "released", "released",
		    cancelled ? v->reason : "released");
		if (cancelled)
			m->settle = LIFECYCLE_SETTLE_ENDED;
		return 0;
	}
	if (cancelled) {
		m->status = EX_DATAERR;
		snprintf(m->error, sizeof(m->error),
		    "cannot retry job '%s': %s", j->id, v->reason);
		return -1;
	}
	move_says(m, LIFECYCLE_RENEW, v->state, "retried", "retried",
	    "retried by user");
	m->max_attempts = j->attempts + 1 + j->retries;
	m->settle = LIFECYCLE_SETTLE_REVIVED;
	return 0;
}

int
lifecycle_shard_follows(enum lifecycle_shards shards, const char *state)
{
	if (shards == LIFECYCLE_SHARDS_CANCEL)
		return !lifecycle_terminal(state);
	if (shards == LIFECYCLE_SHARDS_RETRY)
		return lifecycle_terminal(state) && !is(state, STATE_SUCCEEDED);
	return 0;
}
