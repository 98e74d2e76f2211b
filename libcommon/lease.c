#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "exec.h"
#include "lease.h"
#include "parse.h"
#include "spec.h"

/* The first retry of a refused renewal, doubled up to the interval. */
#define LEASE_BACKOFF_MS 250

struct lease {
	struct store *st;
	char id[STORE_RUN_ID_LEN + 24];
	int task; /* keeps one task, not a run */
	int started; /* lease_start(): ours to end */
	int64_t lease, interval;
	int64_t last_ok, next, backoff;
	int reap;
	int64_t next_reap;
	int lost;
	char (*held)[STORE_RUN_ID_LEN + 24];
	int nheld, cap;
};

static struct lease *
lease_new(struct store *st, int64_t lease_ms, int64_t interval_ms)
{
	struct lease *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	l->st = st;
	l->lease = lease_ms;
	l->interval = interval_ms > 0 ? interval_ms : lease_ms / 3;
	l->last_ok = parse_now_ms();
	l->next = l->last_ok + l->interval;
	return l;
}

struct lease *
lease_start(struct store *st, const struct run_new *rn, int64_t interval_ms)
{
	struct lease *l = lease_new(st, rn->lease_ms, interval_ms);

	if (l == NULL)
		return NULL;
	if (store_run_start(st, rn, l->id) == -1) {
		free(l);
		return NULL;
	}
	l->started = 1;
	return l;
}

/* One renewal of l's rows; 0, 1 (they ended) or -1. */
static int
renew(
    struct lease *l, int64_t lease_ms, json_t **tasks, char *state, int *cancel)
{
	/* A renewal waits for a busy database no longer than the lease
	 * lasts, so that its end is found in time. */
	int64_t left = l->last_ok + l->lease - parse_now_ms();
	int r;

	store_set_busy(l->st, left > 0 ? left : 1);
	if (l->task)
		r = store_task_keepalive(l->st, l->id, lease_ms, state, cancel);
	else
		r = store_run_keepalive(l->st, l->id, lease_ms, tasks);
	store_set_busy(l->st, 0);
	return r;
}

struct lease *
lease_keep(
    struct store *st, const char *id, int64_t lease_ms, int64_t interval_ms)
{
	struct lease *l;
	char state[16] = "";
	int cancel, r;

	if (lease_ms == 0 && store_lease_of(st, id, &lease_ms) == -1)
		return NULL;
	if (interval_ms >= lease_ms) {
		error_set(EX_USAGE,
		    "--interval must be shorter than the lease (%llds)",
		    (long long)(lease_ms / 1000));
		return NULL;
	}
	if ((l = lease_new(st, lease_ms, interval_ms)) == NULL)
		return NULL;
	snprintf(l->id, sizeof(l->id), "%s", id);
	l->task = id[0] != 'r';
	if ((r = renew(l, lease_ms, NULL, state, &cancel)) != 0) {
		if (r >= 1)
			error_set(EX_DATAERR, "%s '%s' has ended%s%s",
			    l->task ? "task" : "run", id, *state ? ": " : "",
			    state);
		free(l);
		return NULL;
	}
	return l;
}

const char *
lease_id(const struct lease *l)
{
	return l->id;
}

int
lease_is_task(const struct lease *l)
{
	return l->task;
}

int64_t
lease_ms(const struct lease *l)
{
	return l->lease;
}

int64_t
lease_interval(const struct lease *l)
{
	return l->interval;
}

void
lease_reaps(struct lease *l, int64_t delay)
{
	l->reap = 1;
	l->next_reap = delay > 0 ? parse_now_ms() + delay : 0;
}

int
lease_hold(struct lease *l, const char *task)
{
	if (l->nheld == l->cap) {
		int cap = l->cap ? 2 * l->cap : 8;
		void *p = realloc(l->held, (size_t)cap * sizeof(*l->held));
		if (p == NULL)
			return error_set(EX_OSERR, "out of memory");
		l->held = p;
		l->cap = cap;
	}
	snprintf(l->held[l->nheld++], sizeof(*l->held), "%s", task);
	return 0;
}

void
lease_release(struct lease *l, const char *task)
{
	for (int i = 0; i < l->nheld; i++)
		if (strcmp(l->held[i], task) == 0) {
			memcpy(
			    l->held[i], l->held[--l->nheld], sizeof(*l->held));
			return;
		}
}

int
lease_held(const struct lease *l)
{
	return l->nheld;
}

int64_t
lease_due(const struct lease *l)
{
	if (l->lost)
		return INT64_MAX;
	return l->reap && l->next_reap < l->next ? l->next_reap : l->next;
}

static int
in_list(json_t *list, const char *id)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		if (strcmp(json_string_value(v), id) == 0)
			return 1;
	}
	return 0;
}

/* What a run's renewal found of the held tasks (all, for a kept run). */
static int
sort_tasks(struct lease *l, json_t *tasks, struct lease_news *n)
{
	json_t *alive = json_object_get(tasks, "alive");
	json_t *cancel = json_object_get(tasks, "cancel");

	if (!l->started) {
		n->cancel = json_incref(cancel);
		return 0;
	}
	if ((n->cancel = json_array()) == NULL ||
	    (n->gone = json_array()) == NULL) {
		error_set(EX_OSERR, "out of memory");
		goto fail;
	}
	for (int i = 0; i < l->nheld; i++) {
		if (!in_list(alive, l->held[i])) {
			if (spec_append(n->gone, json_string(l->held[i])) == -1)
				goto fail;
		} else if (in_list(cancel, l->held[i]) &&
		    spec_append(n->cancel, json_string(l->held[i])) == -1)
			goto fail;
	}
	return 0;
fail:
	json_decref(n->cancel);
	json_decref(n->gone);
	n->cancel = n->gone = NULL;
	return -1;
}

/* A renewal the database refused: retried while the lease lasts. */
static void
renew_later(struct lease *l, int64_t now, struct lease_news *n)
{
	int64_t end = l->last_ok + l->lease;

	now = parse_now_ms(); /* after the wait for the database */
	if (now >= end) {
		l->lost = n->lost = 1;
		snprintf(n->why, sizeof(n->why),
		    "no renewal succeeded for %llds: %s",
		    (long long)((now - l->last_ok) / 1000), error_msg());
		return;
	}
	l->backoff = l->backoff ? 2 * l->backoff : LEASE_BACKOFF_MS;
	if (l->backoff > l->interval)
		l->backoff = l->interval;
	l->next = now + l->backoff;
	/* The last try comes before the lease runs out. */
	if (l->next > end - LEASE_BACKOFF_MS)
		l->next =
		    end - LEASE_BACKOFF_MS > now ? end - LEASE_BACKOFF_MS : end;
	snprintf(n->why, sizeof(n->why), "renewal failed, retrying: %s",
	    error_msg());
}

static int
tick_renew(struct lease *l, int64_t now, struct lease_news *n)
{
	json_t *tasks = NULL;
	char state[16] = "";
	int cancel = 0, r;

	r = renew(l, 0, l->task ? NULL : &tasks, state, &cancel);
	if (r == -1) {
		if (error_status() == EX_NOINPUT || error_status() == EX_NOPERM)
			return -1;
		renew_later(l, now, n);
		return 0;
	}
	if (r >= 1) {
		l->lost = n->lost = 1;
		n->ended = l->task ? strcmp(state, "lost") != 0 : r == 2;
		if (l->task)
			snprintf(n->why, sizeof(n->why), "task '%s' %s", l->id,
			    strcmp(state, "lost") == 0
				? "was found lost by a reaper"
				: "was ended by another");
		else
			snprintf(n->why, sizeof(n->why), "run '%s' %s", l->id,
			    r == 2 ? "was ended by another"
				   : "was found lost by a reaper");
		return 0;
	}
	n->renewed = 1;
	l->last_ok = now;
	l->next = now + l->interval;
	l->backoff = 0;
	if (l->task) {
		if (cancel && (n->cancel = json_pack("[s]", l->id)) == NULL)
			return error_set(EX_OSERR, "out of memory");
		return 0;
	}
	r = sort_tasks(l, tasks, n);
	json_decref(tasks);
	return r;
}

int
lease_reap(struct store *st, json_t **changes)
{
	char host[256] = "";
	json_t *v;
	size_t i;
	int bad = 0;

	if (store_reap(st, changes) == -1)
		return -1;
	if (json_array_size(*changes) == 0)
		return 0;
	gethostname(host, sizeof(host) - 1);
	json_array_foreach(*changes, i, v)
	{
		const char *h = json_string_value(json_object_get(v, "host"));
		const char *kind =
		    json_string_value(json_object_get(v, "kind"));
		int killed;

		if (h == NULL || strcmp(h, host) != 0 ||
		    strcmp(kind, "task") != 0)
			continue;
		/* What is left is killed whether or not it can be told. */
		killed =
		    exec_kill_task(json_string_value(json_object_get(v, "id")),
			store_path(st));
		bad |= spec_set(v, "killed", json_integer(killed)) == -1;
	}
	if (bad) {
		json_decref(*changes);
		*changes = NULL;
		return -1;
	}
	return 0;
}

static void
tick_reap(struct lease *l, int64_t now, struct lease_news *n)
{
	l->next_reap = now + l->lease;
	if (lease_reap(l->st, &n->reaped) == -1 && n->why[0] == '\0')
		snprintf(n->why, sizeof(n->why), "%s", error_msg());
}

int
lease_result(
    const struct exec_result *x, const char *results, struct task_result *res)
{
	memset(res, 0, sizeof(*res));
	res->usage = json_pack("{s:f, s:f, s:I}", "user_cpu", x->user_cpu,
	    "system_cpu", x->system_cpu, "max_rss", (json_int_t)x->max_rss);
	res->state = x->state;
	res->no_retry = x->no_retry;
	res->exit_code = x->exit_code;
	res->signal = x->signal;
	res->error = x->error[0] ? x->error : NULL;
	res->out = x->out;
	res->err = x->err;
	res->out_truncated = x->out_truncated;
	res->err_truncated = x->err_truncated;
	res->enforcement = x->enforcement;
	res->results = results;
	res->staged = x->staged;
	return res->usage != NULL ? 0 : error_set(EX_OSERR, "out of memory");
}

int
lease_tick(struct lease *l, int64_t now, struct lease_news *n)
{
	memset(n, 0, sizeof(*n));
	if (l->lost) {
		n->lost = 1;
		snprintf(n->why, sizeof(n->why), "lease of '%s' lost", l->id);
		return 0;
	}
	/* Renewed before reaping: a caller back from a long stall keeps
	 * what no other reaper took meanwhile. */
	if (now >= l->next && tick_renew(l, now, n) == -1)
		return -1;
	if (l->reap && now >= l->next_reap && !l->lost)
		tick_reap(l, now, n);
	return 0;
}

int
lease_cancels(struct lease *l, json_t **cancel)
{
	if (l->task) {
		*cancel = json_array();
		return *cancel != NULL ? 0
				       : error_set(EX_OSERR, "out of memory");
	}
	return store_run_cancels(l->st, l->id, cancel);
}

int
lease_end(struct lease *l)
{
	return l->started ? store_run_end(l->st, l->id) : 0;
}

void
lease_news_free(struct lease_news *n)
{
	json_decref(n->cancel);
	json_decref(n->gone);
	json_decref(n->reaped);
	n->cancel = n->gone = n->reaped = NULL;
}

void
lease_free(struct lease *l)
{
	if (l == NULL)
		return;
	free(l->held);
	free(l);
}
