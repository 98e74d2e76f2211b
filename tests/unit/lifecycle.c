/*
 * Unit tests of libcommon's lifecycle: the state machine of jobs, as
 * tables of facts and the moves they make.  No database, no clock.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "lifecycle.h"
#include "tap.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A move as a row expects it; texts NULL are "" (none). */
struct want {
	enum lifecycle_write write;
	const char *state, *event, *message, *reason;
	int64_t backoff;
	enum lifecycle_settle settle;
	enum lifecycle_shards shards;
	int by_deps;
	int64_t max_attempts;
};

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static int
same_str(const char *what, const char *got, const char *want)
{
	if (strcmp(or_empty(got), or_empty(want)) == 0)
		return 1;
	printf("#   %s: got '%s', want '%s'\n", what, or_empty(got),
	    or_empty(want));
	return 0;
}

static int
same_int(const char *what, long long got, long long want)
{
	if (got == want)
		return 1;
	printf("#   %s: got %lld, want %lld\n", what, got, want);
	return 0;
}

/* Whether m is w, saying where not; the reason is the message unless w
 * names one. */
static int
same_move(const struct lifecycle_move *m, const struct want *w)
{
	int ok = 1;

	ok &= same_int("write", m->write, w->write);
	ok &= same_str("state", m->state, w->state);
	ok &= same_str("event", m->event, w->event);
	ok &= same_str("message", m->message, w->message);
	ok &= same_str("reason", m->reason, w->reason ? w->reason : w->message);
	ok &= same_int("backoff", m->backoff, w->backoff);
	ok &= same_int("settle", m->settle, w->settle);
	ok &= same_int("shards", m->shards, w->shards);
	ok &= same_int("by_deps", m->by_deps, w->by_deps);
	ok &= same_int("max_attempts", m->max_attempts, w->max_attempts);
	ok &= same_int("status", m->status, 0);
	return ok;
}

static const int64_t on75[] = {75}, none[1];

/* An attempt of a job with attempts left (1 of 3) or not (1 of 1). */
#define LEFT .attempts = 1, .max_attempts = 3, .retries = 2
#define LAST .attempts = 1, .max_attempts = 1
#define EXIT(n) .exit_code = n, .signal = 0
#define SIGNAL(n) .exit_code = -1, .signal = n
#define RETRY_ON75 .retry_on = on75, .nretry_on = 1
#define LEASE "lease expired: no keepalive for 5s"
#define DIED "exec-run died (pid 42 on h, no keepalive for 5s)"
/* A move's fields; reason NULL: the message. */
#define MOVE(w, st, ev, msg, rs) \
	.write = LIFECYCLE_##w, .state = st, .event = ev, .message = msg, \
	.reason = rs
#define ENDS(st, ev, msg) \
	{ \
		MOVE(STATE, st, ev, msg, NULL), \
		    .settle = LIFECYCLE_SETTLE_ENDED \
	}
#define RETRIES(msg, ms) \
	{ \
		MOVE(BACKOFF, STATE_QUEUED, "retry", msg, NULL), .backoff = ms \
	}
#define GIVES_BACK(ev, msg) \
	{ \
		MOVE(GIVE_BACK, STATE_QUEUED, ev, msg, NULL) \
	}
#define GIVEN_BACK " queued again without using a retry"
#define NOT_ON " is not one of its retry_on statuses"

static const struct {
	const char *name;
	struct lifecycle_attempt a;
	struct want w;
} ends[] = {
    {"succeeded, last attempt", {1, "succeeded", EXIT(0), LAST},
	ENDS("succeeded", "succeeded", "attempt 1 succeeded (exit status 0)")},
    {"succeeded, attempts left", {1, "succeeded", EXIT(0), LEFT},
	ENDS("succeeded", "succeeded", "attempt 1 succeeded (exit status 0)")},
    {"failed, last attempt", {1, "failed", EXIT(3), LAST},
	ENDS("failed", "failed", "attempt 1 failed (exit status 3)")},
    {"failed, attempts left", {1, "failed", EXIT(3), LEFT},
	RETRIES("attempt 1 failed (exit status 3); retry 1 of 2 in 1s", 1000)},
    {"failed, attempts left, retry_on matches",
	{1, "failed", EXIT(75), LEFT, RETRY_ON75},
	RETRIES("attempt 1 failed (exit status 75); retry 1 of 2 in 1s", 1000)},
    {"failed, attempts left, retry_on does not match",
	{1, "failed", EXIT(3), LEFT, RETRY_ON75},
	ENDS("failed", "failed",
	    "attempt 1 failed (exit status 3); not retried: exit status "
	    "3" NOT_ON)},
    {"failed, attempts left, an empty retry_on",
	{1, "failed", EXIT(3), LEFT, .retry_on = none, .nretry_on = 0},
	ENDS("failed", "failed",
	    "attempt 1 failed (exit status 3); not retried: exit status "
	    "3" NOT_ON)},
    {"failed, last attempt, retry_on does not match",
	{1, "failed", EXIT(3), LAST, RETRY_ON75},
	ENDS("failed", "failed", "attempt 1 failed (exit status 3)")},
    {"failed, last attempt, retry_on matches",
	{1, "failed", EXIT(75), LAST, RETRY_ON75},
	ENDS("failed", "failed", "attempt 1 failed (exit status 75)")},
    {"killed by a signal, retry_on",
	{1, "failed", SIGNAL(9), "killed by signal 9", LEFT, RETRY_ON75},
	ENDS("failed", "failed",
	    "attempt 1 failed (signal 9); not retried: signal 9" NOT_ON)},
    {"failed, its error says more than its status",
	{1, "failed", EXIT(1), "cannot stage input 'in'", LAST},
	ENDS("failed", "failed", "attempt 1 failed (cannot stage input 'in')")},
    {"failed, its error says only its status",
	{1, "failed", EXIT(1), "exit status 1", LAST},
	ENDS("failed", "failed", "attempt 1 failed (exit status 1)")},
    {"timed out, attempts left, retry_on does not apply",
	{1, "timed_out", SIGNAL(15), "timed out after 1s", LEFT, RETRY_ON75},
	RETRIES("attempt 1 timed_out (timed out after 1s); retry 1 of 2 in 1s",
	    1000)},
    {"timed out, last attempt",
	{1, "timed_out", SIGNAL(15), "timed out after 1s", LAST},
	ENDS(
	    "failed", "timed_out", "attempt 1 timed_out (timed out after 1s)")},
    {"cancelled", {1, "cancelled", SIGNAL(15), NULL, LEFT},
	ENDS("cancelled", "cancelled", "attempt 1 cancelled (signal 15)")},
    {"cancel requested, then it failed with attempts left",
	{1, "failed", EXIT(143), LEFT, .cancel = 1},
	ENDS("cancelled", "cancelled", "attempt 1 failed (exit status 143)")},
    {"cancel requested, but it succeeded",
	{1, "succeeded", EXIT(0), LEFT, .cancel = 1},
	ENDS("succeeded", "succeeded", "attempt 1 succeeded (exit status 0)")},
    {"cancel requested, then its worker gave it back",
	{1, "failed", SIGNAL(0), "worker stopping", .requeue = 1, LEFT,
	    .cancel = 1},
	ENDS("cancelled", "cancelled", "attempt 1 failed (worker stopping)")},
    {"cancel requested, then it was lost",
	{1, "lost", SIGNAL(0), LEASE, LEFT, .cancel = 1, .lost = 1},
	ENDS("cancelled", "cancelled", "attempt 1 lost (" LEASE ")")},
    {"given back by its worker",
	{1, "failed", SIGNAL(0), "worker stopping", .requeue = 1, LAST},
	GIVES_BACK(
	    "requeued", "attempt 1 given back (worker stopping);" GIVEN_BACK)},
    {"given back, no error", {2, "failed", SIGNAL(0), NULL, .requeue = 1, LAST},
	GIVES_BACK("requeued", "attempt 2 given back (failed);" GIVEN_BACK)},
    {"given back, its error in full",
	{1, "failed", EXIT(1), "exit status 1: stopped", .requeue = 1, LAST},
	GIVES_BACK("requeued",
	    "attempt 1 given back (exit status 1: stopped);" GIVEN_BACK)},
    {"lost once", {1, "lost", SIGNAL(0), LEASE, LAST, .lost = 1},
	GIVES_BACK(
	    "lost", "attempt 1 lost (" LEASE ");" GIVEN_BACK " (lost 1 of 3)")},
    {"lost twice", {2, "lost", SIGNAL(0), LEASE, LAST, .lost = 2},
	GIVES_BACK(
	    "lost", "attempt 2 lost (" LEASE ");" GIVEN_BACK " (lost 2 of 3)")},
    {"lost 3 times", {3, "lost", SIGNAL(0), LEASE, LAST, .lost = 3},
	GIVES_BACK(
	    "lost", "attempt 3 lost (" LEASE ");" GIVEN_BACK " (lost 3 of 3)")},
    {"lost 4 times, attempts left",
	{4, "lost", SIGNAL(0), LEASE, .attempts = 4, .max_attempts = 5,
	    .retries = 1, .lost = 4},
	RETRIES("attempt 4 lost (" LEASE "); retry 4 of 4 in 0s", 0)},
    {"lost 4 times, none left",
	{4, "lost", SIGNAL(0), LEASE, .attempts = 4, .max_attempts = 4,
	    .lost = 4},
	ENDS("failed", "lost", "attempt 4 lost (" LEASE ")")},
    {"lost in the foreground, no retries",
	{1, "lost", SIGNAL(0), DIED, LAST, .foreground = 1, .lost = 1},
	ENDS("failed", "lost",
	    "attempt 1 lost: " DIED "; not run again: it ran in the foreground"
	    " and asked for no retries")},
    {"lost in the foreground, with retries",
	{1, "lost", SIGNAL(0), DIED, LEFT, .foreground = 1, .lost = 1},
	GIVES_BACK(
	    "lost", "attempt 1 lost (" DIED ");" GIVEN_BACK " (lost 1 of 3)")},
    {"lost in the foreground 4 times, with retries",
	{4, "lost", SIGNAL(0), DIED, .attempts = 4, .max_attempts = 5,
	    .retries = 1, .foreground = 1, .lost = 4},
	RETRIES("attempt 4 lost: " DIED "; retry 4 of 4 in 0s", 0)},
    {"no_retry with attempts left, its command ran",
	{1, "failed", EXIT(3), "cannot write results", .no_retry = 1, LEFT},
	ENDS("failed", "failed",
	    "attempt 1 failed (cannot write results); not retried: its"
	    " command ran, and may have done its work")},
    {"no_retry with attempts left, killed",
	{1, "failed", SIGNAL(9), NULL, .no_retry = 1, LEFT},
	ENDS("failed", "failed",
	    "attempt 1 failed (signal 9); not retried: its command ran, and"
	    " may have done its work")},
    {"no_retry with attempts left, it never ran",
	{1, "failed", SIGNAL(0), "its owner is gone", .no_retry = 1, LEFT},
	ENDS("failed", "failed",
	    "attempt 1 failed (its owner is gone); not retried")},
    {"no_retry, last attempt",
	{1, "failed", EXIT(3), NULL, .no_retry = 1, LAST},
	ENDS("failed", "failed", "attempt 1 failed (exit status 3)")},
    {"failed attempt 2", {2, "failed", EXIT(1), .attempts = 2, 3, 2},
	RETRIES("attempt 2 failed (exit status 1); retry 2 of 2 in 2s", 2000)},
    {"failed attempt 9", {9, "failed", EXIT(1), .attempts = 9, 10, 9},
	RETRIES(
	    "attempt 9 failed (exit status 1); retry 9 of 9 in 256s", 256000)},
    {"failed attempt 10", {10, "failed", EXIT(1), .attempts = 10, 11, 10},
	RETRIES("attempt 10 failed (exit status 1); retry 10 of 10 in 300s",
	    300000)},
    {"failed attempt 20", {20, "failed", EXIT(1), .attempts = 20, 21, 20},
	RETRIES("attempt 20 failed (exit status 1); retry 20 of 20 in 300s",
	    300000)},
};

static void
test_attempt_end(void)
{
	struct lifecycle_move m;

	for (size_t i = 0; i < N(ends); i++) {
		memset(&m, 0x55, sizeof(m));
		lifecycle_attempt_end(&ends[i].a, &m);
		ok(same_move(&m, &ends[i].w), "attempt: %s", ends[i].name);
	}
}

static void
test_backoff(void)
{
	static const struct {
		int64_t n;
		int lost;
		int64_t ms;
	} rows[] = {{1, 0, 1000}, {2, 0, 2000}, {3, 0, 4000}, {9, 0, 256000},
	    {10, 0, 300000}, {20, 0, 300000}, {1, 1, 0}, {20, 1, 0}};

	for (size_t i = 0; i < N(rows); i++)
		ok(lifecycle_backoff(rows[i].n, rows[i].lost) == rows[i].ms,
		    "backoff after attempt %lld%s is %lld ms",
		    (long long)rows[i].n, rows[i].lost ? " (lost)" : "",
		    (long long)rows[i].ms);
}

#define DEP(id, kind, state) \
	{ \
		id, kind, state \
	}
static const struct lifecycle_dep d_none[1],
    d_done[] = {
	DEP("a002", "success", "succeeded"), DEP("a003", "any", "failed")};
static const struct lifecycle_dep d_running[] = {
    DEP("a002", "success", "succeeded"), DEP("a003", "success", "running")};
static const struct lifecycle_dep d_failed[] = {
    DEP("a002", "success", "running"), DEP("a003", "success", "failed"),
    DEP("a004", "success", "cancelled")};
static const struct lifecycle_dep d_cancelled[] = {
    DEP("a003", "success", "cancelled"), DEP("a002", "success", "failed")};
static const struct lifecycle_dep d_any[] = {
    DEP("a002", "any", "failed"), DEP("a003", "any", "cancelled")};
static const struct lifecycle_dep d_deleted[] = {
    DEP("a002", "success", NULL), DEP("a003", "success", "succeeded")};
static const struct lifecycle_dep d_held[] = {DEP("a002", "any", "held")};
static const struct lifecycle_dep s_waiting[] = {
    DEP("a002", "shard", "succeeded"), DEP("a003", "shard", "running"),
    DEP("a004", "shard", "queued")};
static const struct lifecycle_dep s_done[] = {
    DEP("a002", "shard", "succeeded"), DEP("a003", "shard", "succeeded")};
static const struct lifecycle_dep s_failed[] = {
    DEP("a002", "shard", "succeeded"), DEP("a003", "shard", "cancelled"),
    DEP("a004", "shard", "failed")};
static const struct lifecycle_dep s_failing[] = {
    DEP("a002", "shard", "failed"), DEP("a003", "shard", "running")};
static const struct lifecycle_dep s_deleted[] = {
    DEP("a002", "shard", NULL), DEP("a003", "shard", "succeeded")};
static const struct lifecycle_dep s_after[] = {
    DEP("a002", "shard", "succeeded"), DEP("a005", "success", "failed")};

static const struct {
	const char *name;
	const struct lifecycle_dep *deps;
	size_t n;
	const char *state, *reason;
	int shards;
} verdicts[] = {
    {"none", d_none, 0, "queued", "dependencies done", 0},
    {"all done (--after succeeded, --after-any failed)", d_done, N(d_done),
	"queued", "dependencies done", 0},
    {"one still running", d_running, N(d_running), "waiting", "", 0},
    {"one held", d_held, N(d_held), "waiting", "", 0},
    {"an --after one failed (the first named)", d_failed, N(d_failed),
	"cancelled", "dependency a003 failed", 0},
    {"an --after one cancelled", d_cancelled, N(d_cancelled), "cancelled",
	"dependency a003 cancelled", 0},
    {"--after-any ones failed and cancelled", d_any, N(d_any), "queued",
	"dependencies done", 0},
    {"a deleted one counts as done", d_deleted, N(d_deleted), "queued",
	"dependencies done", 0},
    {"shards still to finish", s_waiting, N(s_waiting), "waiting",
	"1 of 3 shards ended", 3},
    {"shards all succeeded", s_done, N(s_done), "succeeded",
	"2 of 2 shards ended", 2},
    {"shards ended, not all succeeded", s_failed, N(s_failed), "failed",
	"shard a003 cancelled", 3},
    {"a shard failed, one still to finish", s_failing, N(s_failing), "waiting",
	"1 of 2 shards ended, one failed", 2},
    {"a deleted shard counts as ended", s_deleted, N(s_deleted), "succeeded",
	"2 of 2 shards ended", 2},
    {"a job of shards whose --after one failed", s_after, N(s_after),
	"cancelled", "dependency a005 failed", 1},
};

static void
test_deps(void)
{
	struct lifecycle_deps v;

	for (size_t i = 0; i < N(verdicts); i++) {
		lifecycle_deps(&v, verdicts[i].deps, verdicts[i].n);
		ok(same_str("state", v.state, verdicts[i].state) &&
			same_str("reason", v.reason, verdicts[i].reason) &&
			same_int("shards", v.shards, verdicts[i].shards),
		    "dependencies: %s", verdicts[i].name);
	}
	/* The fold stops where the verdict is known. */
	lifecycle_deps_start(&v);
	ok(lifecycle_deps_add(&v, &d_running[0]) == 0 &&
		lifecycle_deps_add(&v, &d_failed[1]) == 1 &&
		lifecycle_deps_add(&v, &d_failed[2]) == 1 &&
		(lifecycle_deps_end(&v), 1) &&
		same_str("reason", v.reason, "dependency a003 failed"),
	    "dependencies: the first that cancels is the one named");
}

static const struct {
	const char *name;
	const struct lifecycle_dep *deps;
	size_t n;
	int revive;
	struct want w;
} settles[] = {
    {"a job still waiting stays", d_running, N(d_running), 0,
	{.write = LIFECYCLE_NOTHING}},
    {"a job of shards says how far they are", s_waiting, N(s_waiting), 0,
	{MOVE(REASON, "waiting", NULL, NULL, "1 of 3 shards ended")}},
    {"a job whose dependencies are done is queued", d_done, N(d_done), 0,
	{MOVE(STATE, "queued", "queued", "dependencies done", NULL)}},
    {"a job an --after one failed is cancelled, in turn", d_failed, N(d_failed),
	0, ENDS("cancelled", "cancelled", "dependency a003 failed")},
    {"a job of shards all succeeded ends, in turn", s_done, N(s_done), 0,
	ENDS("succeeded", "succeeded", "2 of 2 shards ended")},
    {"a job of shards one failed ends, in turn", s_failed, N(s_failed), 0,
	ENDS("failed", "failed", "shard a003 cancelled")},
    {"retried: one still cancelled by another stays", d_failed, N(d_failed), 1,
	{.write = LIFECYCLE_NOTHING}},
    {"retried: a cancelled one waits again, in turn", d_running, N(d_running),
	1,
	{MOVE(STATE, "waiting", "revived", "dependency a001 retried", NULL),
	    .settle = LIFECYCLE_SETTLE_REVIVED}},
    {"retried: a cancelled one is queued again, in turn", d_done, N(d_done), 1,
	{MOVE(STATE, "queued", "revived", "dependency a001 retried", NULL),
	    .settle = LIFECYCLE_SETTLE_REVIVED}},
    {"retried: a job of shards waits again, in turn", s_waiting, N(s_waiting),
	1,
	{MOVE(STATE, "waiting", "revived", "dependency a001 retried", NULL),
	    .settle = LIFECYCLE_SETTLE_REVIVED}},
};

static void
test_settle(void)
{
	struct lifecycle_deps v;
	struct lifecycle_move m;

	for (size_t i = 0; i < N(settles); i++) {
		lifecycle_deps(&v, settles[i].deps, settles[i].n);
		lifecycle_settle(&v, "a001", settles[i].revive, &m);
		ok(same_move(&m, &settles[i].w), "settle: %s", settles[i].name);
	}
}

static const char *const states[] = {
    "waiting", "queued", "held", "running", "succeeded", "failed", "cancelled"};

/* Each action in each state (in the order of states): the move it makes,
 * or NO when the state refuses it. */
#define NOTHING \
	{ \
		.write = LIFECYCLE_NOTHING \
	}
#define CANCELS \
	{ \
		MOVE(STATE, "cancelled", "cancelled", "cancelled by user", \
		    NULL), \
		    .settle = LIFECYCLE_SETTLE_ENDED, \
		    .shards = LIFECYCLE_SHARDS_CANCEL \
	}
#define HOLDS \
	{ \
		MOVE(STATE, "held", "held", "held by user", "held") \
	}
#define BY_DEPS \
	{ \
		.write = LIFECYCLE_NOTHING, .by_deps = 1 \
	}
#define RETRIES_BY_DEPS \
	{ \
		.write = LIFECYCLE_NOTHING, .shards = LIFECYCLE_SHARDS_RETRY, \
		.by_deps = 1 \
	}
#define REMOVES \
	{ \
		.write = LIFECYCLE_REMOVE \
	}
#define OK(...) \
	{ \
		.w = __VA_ARGS__ \
	}
#define NO \
	{ \
		.refused = 1 \
	}
static const struct {
	enum lifecycle_action act;
	const char *verb;
	struct {
		int refused;
		struct want w;
	} in[7];
} acts[] = {
    {LIFECYCLE_CANCEL, "cancel",
	{OK(CANCELS), OK(CANCELS), OK(CANCELS),
	    OK({MOVE(CANCEL_REQUEST, "running", "cancel-requested",
		"cancel requested by user", "")}),
	    NO, NO, NO}},
    {LIFECYCLE_HOLD, "hold",
	{OK(HOLDS), OK(HOLDS), OK(NOTHING), NO, NO, NO, NO}},
    {LIFECYCLE_RELEASE, "release",
	{OK(NOTHING), OK(NOTHING), OK(BY_DEPS), NO, NO, NO, NO}},
    {LIFECYCLE_RETRY, "retry",
	{NO, NO, NO, NO, OK(RETRIES_BY_DEPS), OK(RETRIES_BY_DEPS),
	    OK(RETRIES_BY_DEPS)}},
    {LIFECYCLE_DELETE, "delete",
	{NO, NO, NO, NO, OK(REMOVES), OK(REMOVES), OK(REMOVES)}},
    {LIFECYCLE_UPDATE, "change",
	{OK(NOTHING), OK(NOTHING), OK(NOTHING), NO, NO, NO, NO}},
    {LIFECYCLE_RUN, "run", {NO, OK(NOTHING), NO, NO, NO, NO, NO}},
};

static void
test_act(void)
{
	struct lifecycle_job j = {"a001", NULL, 2, 1};
	struct lifecycle_move m;
	char err[128];
	int rc;

	for (size_t i = 0; i < N(acts); i++)
		for (size_t s = 0; s < N(states); s++) {
			j.state = states[s];
			rc = lifecycle_act(acts[i].act, &j, &m);
			if (!acts[i].in[s].refused) {
				ok(rc == 0 && same_move(&m, &acts[i].in[s].w),
				    "%s a job %s", acts[i].verb, states[s]);
				continue;
			}
			snprintf(err, sizeof(err),
			    "cannot %s job 'a001': it is %s", acts[i].verb,
			    states[s]);
			ok(rc == -1 && m.status == EX_DATAERR &&
				same_str("error", m.error, err),
			    "%s a job %s: refused", acts[i].verb, states[s]);
		}
}

static const struct {
	const char *name;
	enum lifecycle_action act;
	const struct lifecycle_dep *deps;
	size_t n;
	struct want w;
} by_deps[] = {
    {"release into queued", LIFECYCLE_RELEASE, d_done, N(d_done),
	{MOVE(STATE, "queued", "released", "released", NULL)}},
    {"release into waiting", LIFECYCLE_RELEASE, d_running, N(d_running),
	{MOVE(STATE, "waiting", "released", "released", NULL)}},
    {"release into cancelled: its dependents settle", LIFECYCLE_RELEASE,
	d_failed, N(d_failed),
	{MOVE(STATE, "cancelled", "released", "dependency a003 failed",
	     "released"),
	    .settle = LIFECYCLE_SETTLE_ENDED}},
    {"release a job of shards that all succeeded", LIFECYCLE_RELEASE, s_done,
	N(s_done), {MOVE(STATE, "succeeded", "released", "released", NULL)}},
    {"retry into queued: its attempts renewed", LIFECYCLE_RETRY, d_none, 0,
	{MOVE(RENEW, "queued", "retried", "retried by user", "retried"),
	    .settle = LIFECYCLE_SETTLE_REVIVED,
	    .shards = LIFECYCLE_SHARDS_RETRY, .max_attempts = 7}},
    {"retry into waiting", LIFECYCLE_RETRY, d_running, N(d_running),
	{MOVE(RENEW, "waiting", "retried", "retried by user", "retried"),
	    .settle = LIFECYCLE_SETTLE_REVIVED,
	    .shards = LIFECYCLE_SHARDS_RETRY, .max_attempts = 7}},
    {"retry a job of shards: it waits for them again", LIFECYCLE_RETRY,
	s_waiting, N(s_waiting),
	{MOVE(RENEW, "waiting", "retried", "retried by user", "retried"),
	    .settle = LIFECYCLE_SETTLE_REVIVED,
	    .shards = LIFECYCLE_SHARDS_RETRY, .max_attempts = 7}},
};

static void
test_act_deps(void)
{
	struct lifecycle_job j = {"a001", "failed", 4, 2};
	struct lifecycle_deps v;
	struct lifecycle_move m;

	for (size_t i = 0; i < N(by_deps); i++) {
		j.state = by_deps[i].act == LIFECYCLE_RETRY ? "failed" : "held";
		lifecycle_deps(&v, by_deps[i].deps, by_deps[i].n);
		ok(lifecycle_act(by_deps[i].act, &j, &m) == 0 && m.by_deps &&
			lifecycle_act_deps(by_deps[i].act, &j, &v, &m) == 0 &&
			same_move(&m, &by_deps[i].w),
		    "%s", by_deps[i].name);
	}
	j.state = "cancelled";
	lifecycle_deps(&v, d_failed, N(d_failed));
	ok(lifecycle_act(LIFECYCLE_RETRY, &j, &m) == 0 &&
		lifecycle_act_deps(LIFECYCLE_RETRY, &j, &v, &m) == -1 &&
		m.status == EX_DATAERR &&
		same_str("error", m.error,
		    "cannot retry job 'a001': dependency a003 failed"),
	    "retry refused while a dependency cancels the job");
}

/* Submitted as sub, then with deps (deps NULL: none read): where to. */
static const struct {
	const char *name;
	struct lifecycle_submit sub;
	const struct lifecycle_dep *deps;
	size_t n;
	struct want w;
} submits[] = {
    {"submitted: queued", {0, 0, 0}, NULL, 0,
	{MOVE(STATE, "queued", "submitted", "submitted", NULL)}},
    {"submitted held", {1, 0, 0}, NULL, 0,
	{MOVE(STATE, "held", "submitted", "submitted", NULL)}},
    {"submitted held, with dependencies: held, not read", {1, 0, 1}, NULL, 0,
	{MOVE(STATE, "held", "submitted", "submitted", NULL)}},
    {"a job of shards waits for them", {0, 1, 0}, NULL, 0,
	{MOVE(STATE, "waiting", "submitted", "waiting for its shards", NULL)}},
    {"with dependencies done: queued", {0, 0, 1}, d_done, N(d_done),
	{MOVE(STATE, "queued", "submitted", "submitted", NULL)}},
    {"with dependencies running: waiting", {0, 0, 1}, d_running, N(d_running),
	{MOVE(STATE, "waiting", "submitted", "submitted", NULL)}},
    {"with a dependency failed: cancelled, naming it", {0, 0, 1}, d_failed,
	N(d_failed),
	{MOVE(
	    STATE, "cancelled", "submitted", "dependency a003 failed", NULL)}},
    {"a job of shards whose dependencies are done waits for its shards",
	{0, 1, 1}, d_done, N(d_done),
	{MOVE(STATE, "waiting", "submitted", "waiting for its shards", NULL)}},
    {"a job of shards whose dependencies run waits", {0, 1, 1}, d_running,
	N(d_running),
	{MOVE(STATE, "waiting", "submitted", "waiting for its shards", NULL)}},
};

static void
test_submit(void)
{
	struct lifecycle_deps v;
	struct lifecycle_move m;

	for (size_t i = 0; i < N(submits); i++) {
		lifecycle_submit(&submits[i].sub, &m);
		if (m.by_deps != (submits[i].deps != NULL)) {
			ok(0, "%s: dependencies read (%d)", submits[i].name,
			    m.by_deps);
			continue;
		}
		if (m.by_deps) {
			lifecycle_deps(&v, submits[i].deps, submits[i].n);
			lifecycle_submit_deps(&v, &m);
		}
		ok(same_move(&m, &submits[i].w), "%s", submits[i].name);
	}
	lifecycle_refuse("no such user 'bob'", &m);
	ok(same_move(&m,
	       &(struct want){MOVE(STATE, "failed", "refused",
				  "refused: no such user 'bob'", NULL),
		   .settle = LIFECYCLE_SETTLE_ENDED}),
	    "a job a claim may not start fails, refused, and settles");
}

static void
test_shard_follows(void)
{
	static const int cancel[] = {1, 1, 1, 1, 0, 0, 0};
	static const int retry[] = {0, 0, 0, 0, 0, 1, 1};

	for (size_t s = 0; s < N(states); s++) {
		ok(lifecycle_shard_follows(
		       LIFECYCLE_SHARDS_CANCEL, states[s]) == cancel[s],
		    "a shard %s %s with a cancel", states[s],
		    cancel[s] ? "goes" : "stays");
		ok(lifecycle_shard_follows(LIFECYCLE_SHARDS_RETRY, states[s]) ==
			retry[s],
		    "a shard %s %s with a retry", states[s],
		    retry[s] ? "goes" : "stays");
	}
	ok(!lifecycle_shard_follows(LIFECYCLE_SHARDS_NONE, "queued"),
	    "no shards go with other moves");
}

static void
test_terminal(void)
{
	static const int want[] = {0, 0, 0, 0, 1, 1, 1};

	for (size_t s = 0; s < N(states); s++)
		ok(lifecycle_terminal(states[s]) == want[s], "%s is %sterminal",
		    states[s], want[s] ? "" : "not ");
	ok(!lifecycle_terminal(NULL), "no state is not terminal");
}

int
main(void)
{
	test_attempt_end();
	test_backoff();
	test_deps();
	test_settle();
	test_act();
	test_act_deps();
	test_submit();
	test_shard_follows();
	test_terminal();
	return done_testing();
}
