/*
 * The sqlite backend of the store.  Statements are prepared once per
 * handle and reused; dynamic queries are put together from constant
 * fragments with every value bound, never formatted into the SQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sys/types.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>

#include <sqlite3.h>

#include "dirs.h"
#include "error.h"
#include "parse.h"
#include "sign.h"
#include "spec.h"
#include "store.h"
#include "syncer.h"
#include "utf8.h"
#include "walvfs.h"

#define STORE_BUSY_MS 60000
#define SCHEMA_VERSION 7

enum stmt {
	S_JOB_BY_KEY,
	S_JOB_BY_TOKEN,
	S_JOB_TOKEN,
	S_JOB_INSERT,
	S_JOB_LABEL,
	S_JOB_DEP,
	S_JOB_SET_STATE,
	S_JOB_HEAD,
	S_JOB_BRIEF,
	S_JOB_RESOLVE,
	S_DEP_STATES,
	S_DEPENDENTS_WAITING,
	S_DEPENDENTS_CANCELLED,
	S_EVENT,
	S_LAST_CREATED,
	S_COUNT
};

/* The inserts of a job, an event and a label, after INSERT and before
 * their values: S_JOB_INSERT, S_EVENT and S_JOB_LABEL give one row of
 * them, store_flush() many. */
#define JOBS_INTO \
	" INTO jobs (rid, name, owner, uid, state, queue, priority," \
	" created, updated, not_before, max_attempts, idem_key, labels," \
	" reason, spec, cpu_milli, memory, disk, gpu, export, sig, parent," \
	" concurrency, selector, wait_until) VALUES"
#define EVENTS_INTO \
	" INTO events (job, task, time, type, state, message) VALUES"
#define LABELS_INTO " INTO job_labels (key, value, job) VALUES"

/* Their parameters, in each row of a batch (store_batch()); the tables a
 * batch goes into, and how many sizes of batch statement there are. */
#define JOB_PARAMS 23
#define EVENT_PARAMS 6
#define LABEL_PARAMS 3
enum batch_table { BATCH_JOBS, BATCH_EVENTS, BATCH_LABELS, BATCH_TABLES };
#define BATCH_SIZES 3

static const char *stmt_sql[S_COUNT] = {
    [S_JOB_BY_KEY] = "SELECT rid FROM jobs WHERE uid = ?1 AND idem_key = ?2",
    [S_JOB_BY_TOKEN] = "SELECT rid FROM jobs WHERE token = ?1",
    [S_JOB_TOKEN] = "UPDATE jobs SET token = ?2 WHERE rid = ?1",
    [S_JOB_INSERT] =
	"INSERT" JOBS_INTO
	" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	" ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?9)",
    [S_JOB_LABEL] = "INSERT" LABELS_INTO " (?1, ?2, ?3)",
    [S_JOB_DEP] = "INSERT OR IGNORE INTO job_deps (job, dep, kind)"
		  " VALUES (?1, ?2, ?3)",
    [S_JOB_SET_STATE] =
	"UPDATE jobs SET state = ?2, updated = ?3, reason = ?4,"
	" ended = CASE WHEN ?2 IN ('succeeded', 'failed', 'cancelled')"
	" THEN ?3 END WHERE rid = ?1",
    [S_JOB_HEAD] = "SELECT rid, state, uid, owner, priority, queue, attempts,"
		   " json_extract(spec, '$.retries') FROM jobs WHERE rid = ?1",
    [S_JOB_BRIEF] = "SELECT jk_id(rid) AS id, name, state, queue,"
		    " priority, created, not_before"
		    " FROM jobs WHERE rid = ?1",
    [S_JOB_RESOLVE] = "SELECT jk_id(rid) FROM jobs WHERE rid >= ?1"
		      " AND rid < ?2 ORDER BY rid LIMIT 10",
    [S_DEP_STATES] = "SELECT d.dep, d.kind, j.state FROM job_deps d"
		     " LEFT JOIN jobs j ON j.rid = d.dep WHERE d.job = ?1",
    [S_DEPENDENTS_WAITING] =
	"SELECT j.rid FROM job_deps d JOIN jobs j ON j.rid = d.job"
	" WHERE d.dep = ?1 AND j.state = 'waiting'",
    /* Cancelled by a dependency: store_settle() says why so. */
    [S_DEPENDENTS_CANCELLED] =
	"SELECT j.rid FROM job_deps d JOIN jobs j ON j.rid = d.job"
	" WHERE d.dep = ?1 AND ((j.state = 'cancelled'"
	" AND substr(j.reason, 1, 11) = 'dependency ') OR (d.kind = 'shard'"
	" AND j.state IN ('succeeded', 'failed')))",
    /* The newest job's creation time, and the next job's number, as
     * AUTOINCREMENT would give it: the signature covers it. */
    [S_LAST_CREATED] =
	"SELECT (SELECT created FROM jobs ORDER BY rid DESC LIMIT 1),"
	" max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'jobs'),"
	" 0), coalesce((SELECT max(rid) FROM jobs), 0)) + 1",
    [S_EVENT] = "INSERT" EVENTS_INTO " (?1, ?2, ?3, ?4, ?5, ?6)",
};

static const char *schema_v1[] = {
    "CREATE TABLE jobs ("
    " rid INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL,"
    " owner TEXT NOT NULL,"
    " uid INTEGER NOT NULL,"
    " state TEXT NOT NULL,"
    " queue TEXT NOT NULL,"
    " priority INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " not_before INTEGER,"
    " started INTEGER,"
    " ended INTEGER,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " max_attempts INTEGER NOT NULL DEFAULT 1,"
    " cancel_requested INTEGER NOT NULL DEFAULT 0,"
    " idem_key TEXT,"
    " labels TEXT,"
    " reason TEXT,"
    " spec TEXT NOT NULL)",
    "CREATE UNIQUE INDEX jobs_key ON jobs (uid, idem_key)"
    " WHERE idem_key IS NOT NULL",
    "CREATE INDEX jobs_state ON jobs (state, created)",
    "CREATE INDEX jobs_created ON jobs (created)",
    "CREATE INDEX jobs_started ON jobs (started) WHERE started IS NOT NULL",
    "CREATE INDEX jobs_ended ON jobs (ended) WHERE ended IS NOT NULL",
    "CREATE INDEX jobs_owner ON jobs (owner, created)",
    "CREATE INDEX jobs_ready ON jobs (queue, priority DESC, created)"
    " WHERE state = 'queued'",
    "CREATE TABLE job_labels ("
    " key TEXT NOT NULL, value TEXT NOT NULL, job INTEGER NOT NULL,"
    " PRIMARY KEY (key, value, job)) WITHOUT ROWID",
    "CREATE TABLE job_deps ("
    " job INTEGER NOT NULL, dep INTEGER NOT NULL, kind TEXT NOT NULL,"
    " PRIMARY KEY (job, dep)) WITHOUT ROWID",
    "CREATE INDEX job_deps_dep ON job_deps (dep)",
    "CREATE TABLE events ("
    " eid INTEGER PRIMARY KEY,"
    " job INTEGER NOT NULL,"
    " task INTEGER,"
    " time INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " state TEXT,"
    " message TEXT)",
    "CREATE INDEX events_job ON events (job, eid)",
    "CREATE TABLE runs ("
    " rid INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"
    " owner TEXT NOT NULL,"
    " uid INTEGER NOT NULL,"
    " host TEXT NOT NULL,"
    " pid INTEGER NOT NULL,"
    " lease INTEGER NOT NULL,"
    " started INTEGER NOT NULL,"
    " keepalive INTEGER NOT NULL,"
    " ended INTEGER,"
    " labels TEXT,"
    " capacity TEXT)",
    "CREATE INDEX runs_started ON runs (started)",
    "CREATE TABLE tasks ("
    " rid INTEGER PRIMARY KEY AUTOINCREMENT,"
    " job INTEGER NOT NULL,"
    " attempt INTEGER NOT NULL,"
    " run INTEGER,"
    " host TEXT,"
    " pid INTEGER,"
    " state TEXT NOT NULL,"
    " lease INTEGER NOT NULL,"
    " started INTEGER NOT NULL,"
    " keepalive INTEGER NOT NULL,"
    " ended INTEGER,"
    " exit_code INTEGER,"
    " signal INTEGER,"
    " error TEXT,"
    " stdout TEXT,"
    " stderr TEXT,"
    " stdout_truncated INTEGER,"
    " stderr_truncated INTEGER,"
    " usage TEXT,"
    " enforcement TEXT,"
    " results TEXT,"
    " UNIQUE (job, attempt))",
    "CREATE INDEX tasks_state ON tasks (state, started)",
    "CREATE INDEX tasks_started ON tasks (started)",
    "CREATE INDEX tasks_ended ON tasks (ended) WHERE ended IS NOT NULL",
    "CREATE INDEX tasks_alive ON tasks (keepalive) WHERE ended IS NULL",
    "CREATE INDEX tasks_run ON tasks (run)",
    NULL,
};

/*
 * Version 2: what a job asks for is in columns written at submit time, so
 * that a claim tests the fit in its query, on an index of the queued jobs
 * in claim order (priority, then age: rid rises with created), and never
 * passes over a job that fits however many ahead of it do not.  A job is
 * signed by its owner (sign.h).  The environment a job records of its
 * submitter is stored once for all the jobs that share it (a batch), not
 * in each spec.  A run records its mode: the job of a foreground run that
 * died is its terminal's, not to be run again by another.
 */
static const char *schema_v2[] = {
    "ALTER TABLE jobs ADD COLUMN cpu_milli INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN memory INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN disk INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN gpu INTEGER NOT NULL DEFAULT 0",
    "UPDATE jobs SET"
    " cpu_milli = CAST(round(coalesce(json_extract(spec,"
    " '$.resources.cpu'), 0) * 1000) AS INTEGER),"
    " memory = coalesce(json_extract(spec, '$.resources.memory'), 0),"
    " disk = coalesce(json_extract(spec, '$.resources.disk'), 0),"
    " gpu = coalesce(json_extract(spec, '$.resources.gpu'), 0)"
    " WHERE json_extract(spec, '$.resources') IS NOT NULL",
    "DROP INDEX jobs_ready",
    "CREATE INDEX jobs_ready ON jobs (queue, priority DESC, rid, not_before,"
    " gpu, cpu_milli, memory, disk, uid) WHERE state = 'queued'",
    "CREATE INDEX jobs_claim ON jobs (priority DESC, rid, queue, not_before,"
    " gpu, cpu_milli, memory, disk, uid) WHERE state = 'queued'",
    "CREATE INDEX jobs_due ON jobs (not_before)"
    " WHERE state = 'queued' AND not_before IS NOT NULL",
    "ALTER TABLE jobs ADD COLUMN export INTEGER",
    "ALTER TABLE jobs ADD COLUMN sig BLOB",
    "CREATE TABLE exports (id INTEGER PRIMARY KEY, env TEXT NOT NULL UNIQUE)",
    "ALTER TABLE runs ADD COLUMN mode TEXT",
    NULL,
};

/*
 * Version 3: a task records what was staged for it (the inputs fetched and
 * the objects uploaded, from artifact-fetch --stage), and a job's context
 * folder is kept packed, once per content, for any worker to unpack.
 */
static const char *schema_v3[] = {
    "ALTER TABLE tasks ADD COLUMN staged TEXT",
    "CREATE TABLE contexts (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL)",
    NULL,
};

/*
 * Version 4: a job of shards (Bacalhau's sharding) is the parent of its
 * shards, which wait in its dependencies as kind 'shard', and caps how many
 * of them run at once; a job may ask for workers with certain labels (its
 * selector); a task records the GPUs it was given.
 */
static const char *schema_v4[] = {
    "ALTER TABLE jobs ADD COLUMN parent INTEGER",
    "ALTER TABLE jobs ADD COLUMN concurrency INTEGER",
    "ALTER TABLE jobs ADD COLUMN selector TEXT",
    "CREATE INDEX jobs_parent ON jobs (parent, state)"
    " WHERE parent IS NOT NULL",
    "ALTER TABLE tasks ADD COLUMN devices TEXT",
    NULL,
};

/*
 * Version 5: Reflow's task database.  A task records what it executes (the
 * digest of its spec, spec_digest(), once it starts) and a human name for
 * it (its job's name), both indexed, to find every execution of a command
 * across jobs; a run found lost by a reaper says so, and the unfinished
 * tasks of a run are found on an index of their own for its renewals.
 */
static const char *schema_v5[] = {
    "ALTER TABLE tasks ADD COLUMN cmd TEXT",
    "ALTER TABLE tasks ADD COLUMN ident TEXT",
    "UPDATE tasks SET ident = (SELECT name FROM jobs WHERE rid = tasks.job)",
    "CREATE INDEX tasks_cmd ON tasks (cmd, started) WHERE cmd IS NOT NULL",
    "CREATE INDEX tasks_ident ON tasks (ident, started)",
    "CREATE INDEX tasks_run_alive ON tasks (run) WHERE ended IS NULL",
    "ALTER TABLE runs ADD COLUMN lost INTEGER",
    "CREATE INDEX runs_alive ON runs (keepalive) WHERE ended IS NULL",
    NULL,
};

/*
 * Version 6: a claim costs the same however many queued jobs it cannot
 * take.  A job's due time is kept apart in wait_until (not_before stays
 * what was asked) until a claim sees it pass, so that the due jobs are the
 * queued ones without it; those are indexed by what a worker must offer
 * them (queue, resources, owner), then in claim order, so that a claim
 * seeks once per kind of job instead of walking jobs (store_claim()).
 */
static const char *schema_v6[] = {
    "ALTER TABLE jobs ADD COLUMN wait_until INTEGER",
    "UPDATE jobs SET wait_until = not_before WHERE not_before IS NOT NULL",
    "DROP INDEX jobs_due",
    "DROP INDEX jobs_ready",
    "DROP INDEX jobs_claim",
    "CREATE INDEX jobs_wait ON jobs (wait_until)"
    " WHERE state = 'queued' AND wait_until IS NOT NULL",
    "CREATE INDEX jobs_fit ON jobs (queue, gpu, cpu_milli, memory, disk,"
    " uid, priority DESC, rid) WHERE state = 'queued' AND wait_until IS NULL",
    NULL,
};

/*
 * Version 7: a job handed to a worker to store (relay.h) carries its
 * submitter's token, so that a submitter left without an answer, storing
 * it itself, finds the job the worker stored instead of making another.
 */
static const char *schema_v7[] = {
    "ALTER TABLE jobs ADD COLUMN token BLOB",
    "CREATE UNIQUE INDEX jobs_token ON jobs (token) WHERE token IS NOT NULL",
    NULL,
};

/* Each entry brings the schema from version i to i + 1. */
static const char **migrations[] = {schema_v1, schema_v2, schema_v3, schema_v4,
    schema_v5, schema_v6, schema_v7};

/* How many jobs become due between two notes before the next looks at
 * all (store_note_unfit()). */
#define NOTE_DUE 16

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmts[S_COUNT];
	struct {
		const char *sql; /* a string literal: cached by address */
		sqlite3_stmt *stmt;
	} cache[32];
	int depth; /* open store_begin() calls */
	int failed; /* a nested write failed: commit must roll back */
	int full; /* a write found the disk full (store_unfill()) */
	uid_t uid;
	char owner[64];
	char host[256]; /* where tasks start, asked once (store_host()) */
	/* Only we may write the database: its rows need no signatures. */
	int private;
	struct sign_key *key; /* ours, once needed */
	int key_tried;
	char *export; /* the last environment stored, and its row */
	int64_t export_id;
	json_t *export_obj; /* and the object it came from, if shared */
	struct store_user {
		uid_t uid;
		int found; /* in the password database */
		char name[64], home[4096];
		struct sign_key *key; /* once read */
	} users[8]; /* whose jobs we checked: a worker's few owners */
	int nusers;
	int64_t data_version; /* as store_changed() last read it */
	int seen_version;
	int wal_frames; /* in the WAL after our last commit, or -1 */
	int idled; /* store_idle() copies the WAL: the close need not */
	/* Commits wait for the disk on a thread (store_later()): the WAL
	 * synced, through a descriptor of our own; lazy, store_lazy()'s;
	 * ticket, where store_commit_later() wants its commit's. */
	struct syncer *sync;
	int sync_fd, lazy;
	uint64_t *ticket;
	int64_t txn; /* transactions begun: which one is open */
	/* The next job's number and the last one's creation time, as the
	 * open transaction next_txn made them (store_created_now()). */
	int64_t next_txn, next_rid, last_created;
	int counting; /* store_steps() was called: steps counts, and runs */
	int64_t steps, runs;
	/* What store_note_unfit() has looked at, once noted: the jobs up to
	 * noted_rid and the events up to noted_eid.  The jobs our claims
	 * found due since, which no event says: due[ndue], or all_due when
	 * there were more. */
	int noted, ndue, all_due;
	int64_t noted_rid, noted_eid, due[NOTE_DUE];
	/* A look at all jobs under way: the part from sweep_lo is next, up
	 * to the last job and event when it began. */
	int sweeping;
	int64_t sweep_lo, sweep_rid, sweep_eid;
	/* The open transaction's jobs whose rows wait to go in together,
	 * many to a statement (store_batch()). */
	int batching, flushing, npending;
	struct job_row *pending;
	sqlite3_stmt *many[BATCH_TABLES][BATCH_SIZES]; /* by table, rows */
	/* store_next_due()'s query, kept with the text it was built to: a
	 * worker with a slot free asks it after every claim and every end,
	 * and its queues, hence the text, do not change. */
	char *next_sql;
	sqlite3_stmt *next;
};

static sqlite3_stmt *store_prep(
    struct store *st, const char *sql, const char *fmt, ...);
static int store_flush(struct store *st);
static void store_unbatch(struct store *st);
static int insert_labels(struct store *st, const struct job_row *p, int n);
static void store_unfill(struct store *st);
static void store_unprep(struct store *st, sqlite3_stmt *s);
static int store_step_done(struct store *st, sqlite3_stmt *s, const char *what);

/* Run a statement that returns no rows (store_prep()'s statements). */
#define store_write(st, what, sql, ...) \
	store_step_done((st), store_prep((st), (sql), __VA_ARGS__), (what))

/* Turn the last sqlite error into ours. */
static int
store_fail(struct store *st, const char *what)
{
	int rc = sqlite3_extended_errcode(st->db);
	int status = EX_SOFTWARE;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return error_set(EX_TEMPFAIL,
		    "%s: database '%s' is busy (gave up after %d s)", what,
		    st->path, STORE_BUSY_MS / 1000);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return error_set(
		    EX_DATAERR, "'%s' is not a jobkit database", st->path);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		status = EX_NOPERM;
		break;
	case SQLITE_CANTOPEN:
		status = EX_CANTCREAT;
		break;
	case SQLITE_CONSTRAINT:
		/* Rows a write would break (changed around the tools). */
		status = EX_DATAERR;
		break;
	case SQLITE_FULL:
		st->full = 1;
		/* FALLTHROUGH */
	case SQLITE_IOERR:
		status = EX_IOERR;
		break;
	}
	error_set(status, "%s: %s: %s", what, st->path, sqlite3_errmsg(st->db));
	if (st->depth == 0)
		store_unfill(st);
	return -1;
}

/*
 * Every statement the store prepares, or takes from its cache, comes here
 * first: the rows that wait (store_batch()) go in before anything else
 * reads or writes.  0, or -1 with the error set.
 */
static int
store_ready(struct store *st)
{
	return st->npending > 0 ? store_flush(st) : 0;
}

static sqlite3_stmt *
store_stmt(struct store *st, enum stmt s)
{
	if (store_ready(st) == -1)
		return NULL;
	if (st->stmts[s] == NULL &&
	    sqlite3_prepare_v3(st->db, stmt_sql[s], -1,
		SQLITE_PREPARE_PERSISTENT, &st->stmts[s], NULL) != SQLITE_OK) {
		store_fail(st, "cannot prepare statement");
		return NULL;
	}
	return st->stmts[s];
}

/* Run a prepared statement that returns no rows, then reset it. */
static int
store_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		/* step's error is in the handle; reset may have replaced it */
		return store_fail(st, what);
	}
	return 0;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int
store_exec(struct store *st, const char *sql, const char *what)
{
	if (store_ready(st) == -1)
		return -1;
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, what);
	return 0;
}

char *
store_locate(const char *path)
{
	const char *env = getenv("JOBKIT_DB"), *base;
	struct passwd *pw;
	char *out;

	if (path != NULL && *path != '\0')
		out = strdup(path);
	else if (env != NULL && *env != '\0')
		out = strdup(env);
	else {
		base = getenv("XDG_DATA_HOME");
		if (base != NULL && *base == '/') {
			if (asprintf(&out, "%s/jobkit/jobkit.db", base) == -1)
				out = NULL;
		} else {
			base = getenv("HOME");
			if ((base == NULL || *base == '\0') &&
			    (pw = getpwuid(getuid())) != NULL)
				base = pw->pw_dir;
			if (base == NULL) {
				error_set(EX_CONFIG,
				    "cannot find a home "
				    "folder for the database: set JOBKIT_DB");
				return NULL;
			}
			if (asprintf(&out, "%s/.local/share/jobkit/jobkit.db",
				base) == -1)
				out = NULL;
		}
	}
	if (out == NULL)
		error_set(EX_OSERR, "out of memory");
	return out;
}

static int
errno_status(int e)
{
	return e == EACCES || e == EPERM		? EX_NOPERM
	    : e == ENOENT || e == ENOTDIR || e == EROFS ? EX_CANTCREAT
							: EX_IOERR;
}

/* mkdir -p the folder of path; folders it makes are 0700. */
static int
store_mkdirs(const char *path)
{
	char dir[PATH_MAX];

	if (dirs_make(path, 0700, DIRS_PARENTS, dir, sizeof(dir)) == -1)
		return error_set(errno == EACCES || errno == EROFS ||
			    errno == ENOTDIR || errno == ENOENT
			? EX_CANTCREAT
			: EX_IOERR,
		    "cannot create folder '%s': %s", dir, strerror(errno));
	return 0;
}

static int
store_create_file(const char *path, int create)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return error_set(EX_CANTCREAT,
			    "cannot open database '%s': is a folder", path);
		if (access(path, R_OK | W_OK) == -1)
			return error_set(EX_NOPERM,
			    "cannot open database '%s': %s", path,
			    strerror(errno));
		return 0;
	}
	if (!create)
		return error_set(EX_NOINPUT,
		    "no database '%s' (nothing was submitted there)", path);
	if (store_mkdirs(path) == -1)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 && errno != EEXIST)
		return error_set(errno == EACCES || errno == EROFS ||
			    errno == ENOENT || errno == ENOTDIR
			? EX_CANTCREAT
			: errno_status(errno),
		    "cannot create database '%s': %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return 0;
}

static int
store_user_version(struct store *st, int64_t *v)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_fail(st, "cannot read database");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_fail(st, "cannot read database");
	return 0;
}

static int
store_migrate(struct store *st)
{
	int64_t v, tables = 0;
	sqlite3_stmt *s;
	char sql[64];
	const char **m;

	if (store_user_version(st, &v) == -1)
		return -1;
	if (v == SCHEMA_VERSION)
		return 0;
	if (v > SCHEMA_VERSION)
		return error_set(EX_UNAVAILABLE,
		    "database '%s' has schema "
		    "version %lld, newer than this jobkit's %d",
		    st->path, (long long)v, SCHEMA_VERSION);
	if (store_begin(st) == -1)
		return -1;
	if (store_user_version(st, &v) == -1)
		goto fail;
	if (v == 0) {
		if (sqlite3_prepare_v2(st->db,
			"SELECT count(*) FROM "
			"sqlite_master",
			-1, &s, NULL) != SQLITE_OK) {
			store_fail(st, "cannot read database");
			goto fail;
		}
		if (sqlite3_step(s) == SQLITE_ROW)
			tables = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		if (tables > 0) {
			error_set(EX_DATAERR, "'%s' is not a jobkit database",
			    st->path);
			goto fail;
		}
	}
	for (; v < SCHEMA_VERSION; v++)
		for (m = migrations[v]; *m != NULL; m++)
			if (store_exec(st, *m, "cannot migrate database") == -1)
				goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (store_exec(st, sql, "cannot migrate database") == -1)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

/* Switch to WAL once; a new database can be busy while another switches. */
static int
store_wal(struct store *st)
{
	sqlite3_stmt *s;
	int rc, tries;
	char mode[16] = "";

	for (tries = 0; tries < STORE_BUSY_MS / 10; tries++) {
		if (sqlite3_prepare_v2(st->db,
			mode[0] ? "PRAGMA journal_mode "
				  "= WAL"
				: "PRAGMA journal_mode",
			-1, &s, NULL) != SQLITE_OK)
			return store_fail(st, "cannot open database");
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			snprintf(mode, sizeof(mode), "%s",
			    (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		if (rc == SQLITE_ROW && strcmp(mode, "wal") == 0)
			return 0;
		if (rc != SQLITE_ROW && (rc & 0xff) != SQLITE_BUSY)
			return store_fail(st, "cannot open database");
		if (rc != SQLITE_ROW)
			usleep(10000);
		if (mode[0] == '\0')
			snprintf(mode, sizeof(mode), "?");
	}
	return store_fail(st, "cannot switch database to WAL");
}

/* jk_id(n): the ID of sequence number n, for rows we print. */
static void
sql_jk_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	char id[ID_LEN + 1];

	if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER ||
	    id_format(sqlite3_value_int64(argv[0]), id) == -1) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, id, -1, SQLITE_TRANSIENT);
}

/* One requirement of a selector against a worker's labels (k8s's). */
static int
requirement_met(json_t *req, json_t *labels)
{
	const char *op = json_string_value(json_object_get(req, "operator"));
	json_t *vals = json_object_get(req, "values"), *v;
	const char *have = json_string_value(json_object_get(
	    labels, json_string_value(json_object_get(req, "key"))));
	const char *want = json_string_value(json_array_get(vals, 0));
	size_t i;
	int in = 0;

	if (op == NULL)
		return 0;
	json_array_foreach(vals, i, v)
	{
		if (have != NULL && json_is_string(v) &&
		    strcmp(have, json_string_value(v)) == 0)
			in = 1;
	}
	if (strcmp(op, "exists") == 0)
		return have != NULL;
	if (strcmp(op, "!exists") == 0)
		return have == NULL;
	if (strcmp(op, "in") == 0 || strcmp(op, "=") == 0)
		return in;
	if (strcmp(op, "notin") == 0 || strcmp(op, "!=") == 0)
		return !in;
	if (have == NULL || want == NULL)
		return 0;
	return strcmp(op, "gt") == 0 ? strtod(have, NULL) > strtod(want, NULL)
				     : strtod(have, NULL) < strtod(want, NULL);
}

/* The first requirement of a selector the labels do not meet, or NULL:
 * both JSON texts. */
static json_t *
unmet(sqlite3_value **argv, json_t **reqs)
{
	const char *sel = (const char *)sqlite3_value_text(argv[0]);
	const char *lab = (const char *)sqlite3_value_text(argv[1]);
	json_t *labels, *r, *found = NULL;
	size_t i;

	*reqs = sel ? json_loads(sel, 0, NULL) : NULL;
	labels = lab ? json_loads(lab, 0, NULL) : NULL;
	json_array_foreach(*reqs, i, r)
	{
		if (found == NULL && !requirement_met(r, labels))
			found = r;
	}
	json_decref(labels);
	return found;
}

/* jk_match(selector, labels): 1 when the labels (a JSON object) meet
 * every requirement of the selector (jobkit-spec(5)). */
static void
sql_jk_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	json_t *reqs;

	(void)argc;
	sqlite3_result_int(ctx, unmet(argv, &reqs) == NULL);
	json_decref(reqs);
}

/* jk_unmet(selector, labels): why a job waits for a worker with other
 * labels ("waiting for a worker with Architecture = arm64"), or NULL. */
static void
sql_jk_unmet(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	json_t *reqs, *r = unmet(argv, &reqs), *v;
	char buf[512];
	size_t n, i;

	(void)argc;
	if (r == NULL) {
		sqlite3_result_null(ctx);
		json_decref(reqs);
		return;
	}
	n = (size_t)snprintf(buf, sizeof(buf),
	    "waiting for a worker with %s %s",
	    json_string_value(json_object_get(r, "key")),
	    json_string_value(json_object_get(r, "operator")));
	json_array_foreach(json_object_get(r, "values"), i, v)
	{
		if (n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
			    i ? "," : " ", json_string_value(v));
	}
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
	json_decref(reqs);
}

/*
 * jk_wait(owner, cpu_milli, memory, disk, gpu): why a queued job waits for
 * a worker that can run it -- of its owner, when owner is not NULL, else
 * with what it asks for.
 */
static void
sql_jk_wait(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static const char *const names[] = {"cpu", "memory", "disk", "gpu"};
	const unsigned char *owner = sqlite3_value_text(argv[0]);
	char buf[256], num[32];
	size_t n;

	if (owner != NULL) {
		snprintf(buf, sizeof(buf),
		    "no worker may run jobs of '%.64s' here", owner);
		sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
		return;
	}
	n = (size_t)snprintf(buf, sizeof(buf), "waiting for a worker with");
	for (int i = 0, first = 1; i < 4; i++) {
		int64_t v = sqlite3_value_int64(argv[i + 1]);
		if (v <= 0)
			continue;
		if (i == 0)
			snprintf(num, sizeof(num), "%g", (double)v / 1000);
		else if (i == 3)
			snprintf(num, sizeof(num), "%lld", (long long)v);
		else
			parse_fmt_size((uint64_t)v, num);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %s=%s",
		    first ? "" : ",", names[i], num);
		first = 0;
	}
	sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
}

/*
 * The name of a uid: /etc/passwd first, read directly, since asking NSS
 * (nscd, nsswitch.conf, then the same file) costs more than opening the
 * database; NSS for the users only a directory service knows.
 */
static void
owner_name(uid_t uid, char *buf, size_t len)
{
	FILE *fp = fopen("/etc/passwd", "re");
	struct passwd *pw = NULL;

	if (fp != NULL) {
		/* NIS "+" and "-" lines are NSS's to resolve. */
		while ((pw = fgetpwent(fp)) != NULL &&
		    (pw->pw_uid != uid || pw->pw_name[0] == '+' ||
			pw->pw_name[0] == '-'))
			;
		if (pw != NULL)
			snprintf(buf, len, "%s", pw->pw_name);
		fclose(fp);
	}
	if (pw == NULL && (pw = getpwuid(uid)) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else if (pw == NULL)
		snprintf(buf, len, "%u", (unsigned)uid);
}

/* Whether file path is uid's, writable by no group or other; a missing
 * one is, when missing is set. */
static int
store_mine(const char *path, uid_t uid, int missing)
{
	struct stat sb;

	if (stat(path, &sb) == -1)
		return missing && errno == ENOENT;
	return sb.st_uid == uid && !(sb.st_mode & 022);
}

/*
 * Whether no one but uid may write the database at path: the file, its
 * WAL and its shared memory index are uid's, writable by no group or
 * other, in a folder where no one else may make a file (such as a WAL
 * of their own before ours) or put another in its place.
 */
static int
store_private(const char *path, uid_t uid)
{
	char other[4200], *slash;

	if (!store_mine(path, uid, 0))
		return 0;
	snprintf(other, sizeof(other), "%s-wal", path);
	if (!store_mine(other, uid, 1))
		return 0;
	snprintf(other, sizeof(other), "%s-shm", path);
	if (!store_mine(other, uid, 1))
		return 0;
	snprintf(other, sizeof(other), "%s", path);
	if ((slash = strrchr(other, '/')) == NULL)
		snprintf(other, sizeof(other), ".");
	else
		slash[slash == other] = '\0';
	return store_mine(other, uid, 0);
}

/*
 * How much WAL a database carries between connections.  The last
 * connection to close copies the WAL into the database and resets it, two
 * fdatasyncs, and the next writer's restarted WAL costs a third: a
 * short-lived tool paid three syncs beside its commit's one.  Instead a
 * connection closes without that checkpoint unless its last commit left
 * more than STORE_WAL_FRAMES frames, so that the cost is paid once in
 * several runs.  The price of a WAL left behind is paid by the next tool
 * to open the database with no other connection open: sqlite rebuilds its
 * index of the WAL by reading it, one pread per frame, so the limit is
 * small.  A connection that stays (a worker) checkpoints at sqlite's usual
 * WAL size, as its autocheckpoint would; one that waits for a command (a
 * foreground exec-run, task-keepalive) checkpoints while it waits
 * (store_idle()).
 */
#define STORE_WAL_FRAMES 64
#define STORE_WAL_MAX 1000

static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;

	st->wal_frames = frames;
	/*
	 * At synchronous=NORMAL (store_later()), FULL's sync, here, after
	 * every commit that wrote (a transaction's, or a write's outside
	 * one), unless it was lazy or is synced later.  Should the sync fail,
	 * the commit is made but may not be on the disk: the statement fails
	 * all the same (sqlite passes our error on), and nothing later is
	 * believed durable (syncer.h).
	 */
	if (st->sync != NULL && st->ticket != NULL)
		*st->ticket = syncer_ask(st->sync);
	else if (st->sync != NULL && !st->lazy && syncer_now(st->sync) == -1)
		return SQLITE_IOERR_FSYNC;
	if (frames >= STORE_WAL_MAX)
		sqlite3_wal_checkpoint_v2(
		    db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

/*
 * sqlite's process-wide settings, before anything initializes it.  No
 * tool reaches sqlite from more than one thread (fetch.c's download
 * thread never touches the store), so its mutexes guard nothing; nor does
 * anything read its memory statistics, whose upkeep takes a mutex on
 * every allocation.  A short-lived tool spent a tenth of its instructions
 * on the two.
 */
static void
store_configure(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *
store_open(const char *location, int create)
{
	struct store *st;
	const char *colon = strstr(location, "://");
	char sql[128];

	if (colon != NULL) {
		if (strncmp(location, "postgresql://", 13) == 0 ||
		    strncmp(location, "postgres://", 11) == 0)
			error_set(EX_UNAVAILABLE,
			    "cannot open database '%s': "
			    "this jobkit was built without PostgreSQL",
			    location);
		else
			error_set(EX_USAGE,
			    "cannot open database '%s': "
			    "unknown kind of database",
			    location);
		return NULL;
	}
	store_configure();
	if (store_create_file(location, create) == -1)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->path = strdup(location)) == NULL) {
		free(st);
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	st->uid = getuid();
	owner_name(st->uid, st->owner, sizeof(st->owner));
	st->private = store_private(location, st->uid);
	if (sqlite3_open_v2(location, &st->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		walvfs_name()) != SQLITE_OK) {
		store_fail(st, "cannot open database");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/*
	 * Keep the WAL file, so that a short-lived tool does not create it,
	 * grow it and unlink it on every run; walvfs.h says how it is reused.
	 * journal_size_limit holds it to WALVFS_KEEP once a big transaction
	 * is done.
	 */
	int persist = 1;
	sqlite3_file_control(
	    st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	st->wal_frames = -1;
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(st->db, store_wal_hook, st);
	sqlite3_create_function_v2(st->db, "jk_id", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_jk_id, NULL, NULL,
	    NULL);
	sqlite3_create_function_v2(st->db, "jk_match", 2,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_jk_match, NULL, NULL,
	    NULL);
	sqlite3_create_function_v2(st->db, "jk_unmet", 2,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_jk_unmet, NULL, NULL,
	    NULL);
	sqlite3_create_function_v2(st->db, "jk_wait", 5,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_jk_wait, NULL, NULL,
	    NULL);
	/* A large cache keeps a big batch from spilling pages early. */
	snprintf(sql, sizeof(sql),
	    "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = %d;"
	    " PRAGMA cache_size = -16384",
	    WALVFS_KEEP);
	if (store_exec(st, sql, "cannot open database") == -1 ||
	    store_wal(st) == -1 || store_migrate(st) == -1)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	syncer_free(st->sync);
	if (st->sync != NULL)
		close(st->sync_fd);
	store_unbatch(st);
	free(st->pending);
	for (int t = 0; t < BATCH_TABLES; t++)
		for (int k = 0; k < BATCH_SIZES; k++)
			sqlite3_finalize(st->many[t][k]);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	for (size_t i = 0; i < sizeof(st->cache) / sizeof(st->cache[0]); i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_finalize(st->next);
	free(st->next_sql);
	/* The WAL a refused write grew is given back, not kept; so is one a
	 * checkpoint could not copy (store_wal_hook()). */
	if (st->full ||
	    st->wal_frames >= (st->idled ? 2 : 1) * STORE_WAL_FRAMES)
		sqlite3_db_config(
		    st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	walvfs_shrink(st->full);
	sqlite3_close(st->db);
	walvfs_shrink(0);
	sign_key_free(st->key);
	for (int i = 0; i < st->nusers; i++)
		sign_key_free(st->users[i].key);
	free(st->export);
	free(st->path);
	free(st);
}

int
store_idle(struct store *st)
{
	int rc;

	st->idled = 1;
	if (st->depth > 0 || st->wal_frames < STORE_WAL_FRAMES)
		return 0;
	rc = sqlite3_wal_checkpoint_v2(
	    st->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		return store_fail(st, "cannot copy the WAL into the database");
	return 0;
}

int
store_begin(struct store *st)
{
	if (st->depth++ > 0)
		return 0;
	st->failed = 0;
	st->txn++;
	if (store_exec(st, "BEGIN IMMEDIATE", "cannot write") == -1) {
		st->depth = 0;
		return -1;
	}
	return 0;
}

/*
 * A transaction that failed for want of space (a big batch on a full disk)
 * leaves its frames in the WAL, which keeps the disk full until a
 * checkpoint resets it -- with another connection open (a worker), not
 * before that one closes.  Once the transaction is gone, copy what the WAL
 * holds into the database and truncate it; if a reader keeps that from
 * completing, the next failure tries again.
 */
static void
store_unfill(struct store *st)
{
	int rc;

	if (!st->full || st->depth > 0 || !sqlite3_get_autocommit(st->db))
		return;
	walvfs_shrink(1);
	rc = sqlite3_exec(
	    st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	walvfs_shrink(0);
	if (rc == SQLITE_OK)
		st->full = 0;
}

/* End a transaction sqlite may already have rolled back itself (a full
 * disk, an I/O error): the error that ended it stays the one reported. */
static void
store_abort(struct store *st)
{
	store_unbatch(st);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	/* The row of the environment we remember may have gone with it. */
	free(st->export);
	st->export = NULL;
	st->export_obj = NULL;
	store_unfill(st);
}

static int
store_finish(struct store *st, uint64_t *ticket)
{
	int r;

	if (st->depth == 0 || --st->depth > 0)
		return 0;
	if (st->failed) {
		store_abort(st);
		return error_set(EX_SOFTWARE, "transaction rolled back");
	}
	if (store_flush(st) == -1) {
		store_abort(st);
		return -1;
	}
	st->batching = 0;
	st->ticket = ticket;
	r = store_exec(st, "COMMIT", "cannot commit");
	st->ticket = NULL;
	if (r == -1)
		store_abort(st);
	return r;
}

int
store_commit(struct store *st)
{
	return store_finish(st, NULL);
}

int
store_commit_later(struct store *st, uint64_t *ticket)
{
	*ticket = 0;
	return store_finish(st, ticket);
}

/*
 * A connection at synchronous=NORMAL with a sync of its own after each
 * commit is one at FULL: in WAL mode FULL differs only in the fdatasync
 * of the WAL before the commit shows (sqlite syncs the WAL's header and
 * checkpoints at NORMAL too).  What changes is that a commit shows to
 * other connections up to that sync sooner.
 */
int
store_later(struct store *st)
{
	static const char normal[] = "PRAGMA synchronous = NORMAL";
	const char *wal;

	if (st->sync != NULL)
		return 0;
	if (st->depth > 0)
		return error_set(EX_SOFTWARE, "store_later in a transaction");
	wal = sqlite3_filename_wal(sqlite3_db_filename(st->db, "main"));
	if (wal == NULL)
		return error_set(EX_SOFTWARE, "no WAL for '%s'", st->path);
	if ((st->sync_fd = open(wal, O_RDONLY | O_CLOEXEC)) == -1)
		return error_set(
		    EX_IOERR, "cannot open '%s': %s", wal, strerror(errno));
	/* A file system that cannot sync a file opened for reading keeps
	 * the store as it was, rather than failing the first commit. */
	if (fdatasync(st->sync_fd) == -1) {
		error_set(
		    EX_IOERR, "cannot sync '%s': %s", wal, strerror(errno));
		close(st->sync_fd);
		return -1;
	}
	if ((st->sync = syncer_new(st->sync_fd)) == NULL) {
		close(st->sync_fd);
		return -1;
	}
	if (store_exec(st, normal, "cannot open database") == -1) {
		syncer_free(st->sync);
		st->sync = NULL;
		close(st->sync_fd);
		return -1;
	}
	return 0;
}

int
store_durable_fd(const struct store *st)
{
	return st->sync != NULL ? syncer_fd(st->sync) : -1;
}

int
store_commit_unsynced(struct store *st)
{
	int lazy = st->lazy, r;

	/* store_wal_hook() syncs a commit unless lazy; at FULL (no
	 * store_later()) sqlite syncs it itself. */
	st->lazy = 1;
	r = store_commit(st);
	st->lazy = lazy;
	return r;
}

int
store_sync(struct store *st)
{
	return st->sync != NULL ? syncer_now(st->sync) : 0;
}

int
store_durable(struct store *st, uint64_t *done)
{
	if (st->sync == NULL) {
		*done = UINT64_MAX;
		return 0;
	}
	return syncer_done(st->sync, done);
}

/*
 * Facts a power failure may lose without harm (a pid, a keepalive, a run's
 * end) are committed without waiting for the disk: the WAL keeps them in
 * order and the next full commit makes them durable with everything else.
 * Outside a transaction only; inside one the outer commit decides.
 */
static void
store_lazy(struct store *st, int lazy)
{
	if (st->sync != NULL && st->depth == 0)
		st->lazy = lazy;
	else if (st->depth == 0)
		sqlite3_exec(st->db,
		    lazy ? "PRAGMA synchronous = NORMAL"
			 : "PRAGMA synchronous = FULL",
		    NULL, NULL, NULL);
}

void
store_set_busy(struct store *st, int64_t ms)
{
	sqlite3_busy_timeout(
	    st->db, ms <= 0 || ms > STORE_BUSY_MS ? STORE_BUSY_MS : (int)ms);
}

void
store_rollback(struct store *st)
{
	if (st->depth == 0)
		return;
	if (--st->depth > 0) {
		st->failed = 1;
		return;
	}
	store_abort(st);
}

/* Column names whose integers are times, and whose text is JSON. */
static int
col_is(const char *name, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(name, *set) == 0)
			return 1;
	return 0;
}

static const char *const time_cols[] = {"created", "updated", "not_before",
    "started", "ended", "keepalive", "time", "task_started", "task_ended",
    NULL};
static const char *const json_cols[] = {
    "labels", "spec", "usage", "capacity", "export_env", "staged", NULL};
static const char *const bool_cols[] = {
    "cancel_requested", "stdout_truncated", "stderr_truncated", NULL};

/* Text that is not UTF-8 (kept by an older version), made so. */
static json_t *
text_json(const char *text)
{
	size_t n = strlen(text);
	char *clean = malloc(3 * n + 1);
	json_t *v;

	if (clean == NULL)
		return NULL;
	utf8_clean(text, n, 1, clean, 3 * n, NULL);
	v = json_string(clean);
	free(clean);
	return v;
}

/* The current row of s as a new object; NULL columns are left out. */
static json_t *
row_json(sqlite3_stmt *s)
{
	json_t *o = json_object(), *v;
	int i, n = sqlite3_column_count(s);
	char buf[32];

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(s, i);
		const char *text;

		switch (sqlite3_column_type(s, i)) {
		case SQLITE_NULL:
			continue;
		case SQLITE_INTEGER:
			if (col_is(name, time_cols))
				v = json_string(parse_fmt_time(
				    sqlite3_column_int64(s, i), buf));
			else if (col_is(name, bool_cols))
				v = json_boolean(sqlite3_column_int64(s, i));
			else
				v = json_integer(sqlite3_column_int64(s, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(s, i));
			break;
		default:
			text = (const char *)sqlite3_column_text(s, i);
			/* A JSON column written around the tools is shown as
			 * the text it is. */
			if ((!col_is(name, json_cols) ||
				(v = json_loads(text, 0, NULL)) == NULL) &&
			    (v = json_string(text)) == NULL)
				v = text_json(text); /* not UTF-8 */
		}
		if (v == NULL || json_object_set_new(o, name, v) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Bind an event as S_EVENT's ?1..?6, from ?b + 1 on. */
static void
event_bind(sqlite3_stmt *s, int b, int64_t job, int64_t attempt, int64_t now,
    const char *type, const char *state, const char *msg)
{
	sqlite3_bind_int64(s, b + 1, job);
	if (attempt > 0)
		sqlite3_bind_int64(s, b + 2, attempt);
	sqlite3_bind_int64(s, b + 3, now);
	bind_text(s, b + 4, type);
	bind_text(s, b + 5, state);
	bind_text(s, b + 6, msg);
}

static int
store_event(struct store *st, int64_t job, int64_t attempt, int64_t now,
    const char *type, const char *state, const char *msg)
{
	sqlite3_stmt *s = store_stmt(st, S_EVENT);

	if (s == NULL)
		return -1;
	event_bind(s, 0, job, attempt, now, type, state, msg);
	return store_done(st, s, "cannot record event");
}

static int
store_set_reason(struct store *st, int64_t rid, const char *reason)
{
	return store_write(st, "cannot change job",
	    "UPDATE jobs SET reason = ? WHERE rid = ?", "ti", reason, rid);
}

static int
store_set_state(struct store *st, int64_t rid, const char *state, int64_t now,
    const char *reason)
{
	sqlite3_stmt *s = store_stmt(st, S_JOB_SET_STATE);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, rid);
	bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, now);
	bind_text(s, 4, reason);
	return store_done(st, s, "cannot change job");
}

/* Where job rid's dependencies leave it (lifecycle_deps()), into *v. */
static int
store_deps(struct store *st, int64_t rid, struct lifecycle_deps *v)
{
	sqlite3_stmt *s = store_stmt(st, S_DEP_STATES);
	char id[ID_LEN + 1];
	int rc, bad = 0;

	if (s == NULL)
		return -1;
	lifecycle_deps_start(v);
	sqlite3_bind_int64(s, 1, rid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct lifecycle_dep d = {id,
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2)};

		if ((bad = id_format(sqlite3_column_int64(s, 0), id) == -1) ||
		    lifecycle_deps_add(v, &d))
			break;
	}
	sqlite3_reset(s);
	if (bad)
		return -1;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot read dependencies");
	lifecycle_deps_end(v);
	return 0;
}

/*
 * A job ended: move the jobs waiting on it, and on those in turn, to
 * queued or cancelled.
 */
struct ridlist {
	int64_t *v;
	size_t n, cap;
};

static int
ridlist_push(struct ridlist *l, int64_t rid)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		int64_t *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return error_set(EX_OSERR, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = rid;
	return 0;
}

static int
store_dependents(
    struct store *st, enum stmt which, int64_t rid, struct ridlist *out)
{
	sqlite3_stmt *s = store_stmt(st, which);
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, rid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (ridlist_push(out, sqlite3_column_int64(s, 0)) == -1)
			break;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_ROW
		    ? -1
		    : store_fail(st, "cannot read dependents");
	return 0;
}

static int store_delete(struct store *st, int64_t rid);

/*
 * Write move m of job rid (made by attempt, when > 0) to its row and its
 * events.  What follows it (settling, shards) is the caller's.
 */
static int
store_apply(struct store *st, int64_t rid, int64_t attempt,
    const struct lifecycle_move *m, int64_t now)
{
	int r = 0;

	switch (m->write) {
	case LIFECYCLE_NOTHING:
		return 0;
	case LIFECYCLE_REASON:
		return store_set_reason(st, rid, m->reason);
	case LIFECYCLE_REMOVE:
		return store_delete(st, rid);
	case LIFECYCLE_STATE:
		r = store_set_state(st, rid, m->state, now, m->reason);
		break;
	case LIFECYCLE_GIVE_BACK:
		r = store_write(st, "cannot requeue job",
		    "UPDATE jobs SET state = ?, updated = ?, reason = ?,"
		    " max_attempts = max_attempts + 1, not_before = NULL,"
		    " wait_until = NULL WHERE rid = ?",
		    "titi", m->state, now, m->reason, rid);
		break;
	case LIFECYCLE_BACKOFF:
		r = store_write(st, "cannot requeue job",
		    "UPDATE jobs SET state = ?1, not_before = ?2,"
		    " wait_until = ?2, updated = ?3, reason = ?4"
		    " WHERE rid = ?5",
		    "tiiti", m->state, now + m->backoff, now, m->reason, rid);
		break;
	case LIFECYCLE_RENEW:
		r = store_write(st, "cannot change job",
		    "UPDATE jobs SET state = ?, updated = ?, ended = NULL,"
		    " cancel_requested = 0, reason = ?, max_attempts = ?"
		    " WHERE rid = ?",
		    "titii", m->state, now, m->reason, m->max_attempts, rid);
		break;
	case LIFECYCLE_CANCEL_REQUEST:
		r = store_write(st, "cannot change job",
		    "UPDATE jobs SET cancel_requested = 1, updated = ?"
		    " WHERE rid = ?",
		    "ii", now, rid);
		break;
	}
	if (r == -1 || m->event == NULL)
		return r;
	return store_event(
	    st, rid, attempt, now, m->event, m->state, m->message);
}

/*
 * Job rid ended: the jobs waiting on it go where their dependencies now
 * leave them (queued, or cancelled, saying by which), and the jobs
 * waiting on those cancelled, in turn.  With revive, rid was retried
 * instead: the jobs cancelled because of a dependency wait again unless
 * another still fails them ("revived"), and so, in turn, do those
 * cancelled because of them -- each looked at whenever one of its
 * dependencies is revived, since the one that cancelled it may be revived
 * last.  A job its user cancelled is left alone.
 */
static int
store_settle_walk(struct store *st, int64_t rid, int64_t now, int revive)
{
	struct ridlist todo = {0}, deps = {0};
	struct lifecycle_deps v;
	struct lifecycle_move m;
	char id[ID_LEN + 1];
	size_t i;
	int r = -1;

	if (ridlist_push(&todo, rid) == -1)
		return -1;
	while (todo.n > 0) {
		int64_t cur = todo.v[--todo.n];
		deps.n = 0;
		if (store_dependents(st,
			revive ? S_DEPENDENTS_CANCELLED : S_DEPENDENTS_WAITING,
			cur, &deps) == -1 ||
		    id_format(cur, id) == -1)
			goto out;
		for (i = 0; i < deps.n; i++) {
			if (store_deps(st, deps.v[i], &v) == -1)
				goto out;
			lifecycle_settle(&v, id, revive, &m);
			if (store_apply(st, deps.v[i], 0, &m, now) == -1 ||
			    (m.settle != LIFECYCLE_SETTLE_NONE &&
				ridlist_push(&todo, deps.v[i]) == -1))
				goto out;
		}
	}
	r = 0;
out:
	free(todo.v);
	free(deps.v);
	return r;
}

static int
store_settle(struct store *st, int64_t rid, int64_t now)
{
	return store_settle_walk(st, rid, now, 0);
}

static json_t *
store_brief(struct store *st, int64_t rid)
{
	sqlite3_stmt *s = store_stmt(st, S_JOB_BRIEF);
	json_t *o = NULL;

	if (s == NULL)
		return NULL;
	sqlite3_bind_int64(s, 1, rid);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = row_json(s);
	else
		store_fail(st, "cannot read job");
	sqlite3_reset(s);
	if (o == NULL)
		error_set(EX_OSERR, "out of memory");
	return o;
}

/* The sequence number of a full ID. */
static int
rid_of(const char *id, int64_t *rid)
{
	int64_t hi;

	if (id_range(id, rid, &hi) == -1)
		return -1;
	if (hi - *rid != 1)
		return error_set(EX_NOINPUT, "no such job '%s'", id);
	return 0;
}

/* The sequence number of run ID "r<id>". */
static int
run_rid(const char *run, int64_t *rid)
{
	int64_t hi;

	if (run[0] != 'r' || id_range(run + 1, rid, &hi) == -1 ||
	    hi - *rid != 1)
		return error_set(EX_NOINPUT, "no such run '%s'", run);
	return 0;
}

int
store_job_resolve(struct store *st, const char *prefix, char *id)
{
	char list[400], job[ID_LEN + 1];
	const char *dot = strchr(prefix, '.');
	sqlite3_stmt *s;
	int64_t lo, hi;
	int rc, n = 0;
	size_t len = 0;

	if (prefix[0] == 'r' && id_range(prefix + 1, &lo, &hi) == 0)
		return error_set(
		    EX_DATAERR, "'%s' is a run, not a job", prefix);
	/* A task ID, job.attempt, names its job. */
	if (dot != NULL && dot > prefix && (size_t)(dot - prefix) <= ID_LEN &&
	    dot[1] != '\0' &&
	    strspn(dot + 1, "0123456789") == strlen(dot + 1)) {
		snprintf(job, sizeof(job), "%.*s", (int)(dot - prefix), prefix);
		prefix = job;
	}
	if (id_range(prefix, &lo, &hi) == -1)
		return -1;
	if ((s = store_stmt(st, S_JOB_RESOLVE)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, lo);
	sqlite3_bind_int64(s, 2, hi);
	list[0] = '\0';
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);
		if (n++ == 0)
			snprintf(id, ID_LEN + 1, "%s", m);
		if (len < sizeof(list))
			len += snprintf(list + len, sizeof(list) - len, "%s%s",
			    n > 1 ? ", " : "", m);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_fail(st, "cannot look up job");
	if (n == 0)
		return error_set(EX_NOINPUT, "no such job '%s'", prefix);
	if (n > 1)
		return error_set(EX_USAGE, "job ID '%s' is ambiguous: %s%s",
		    prefix, list, n == 10 ? ", ..." : "");
	return 0;
}

/* Resolve each prefix of arr in place to a full ID. */
static int
resolve_array(struct store *st, json_t *arr)
{
	char id[ID_LEN + 1];
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
	{
		if (store_job_resolve(st, json_string_value(v), id) == -1)
			return error_wrap("dependency");
		if (json_string_set(v, id) == -1)
			return error_set(EX_OSERR, "out of memory");
	}
	return 0;
}

static int
store_add_deps(struct store *st, int64_t rid, json_t *arr, const char *kind)
{
	sqlite3_stmt *s;
	json_t *v;
	size_t i;

	int64_t dep;

	json_array_foreach(arr, i, v)
	{
		if (rid_of(json_string_value(v), &dep) == -1 ||
		    (s = store_stmt(st, S_JOB_DEP)) == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, rid);
		sqlite3_bind_int64(s, 2, dep);
		bind_text(s, 3, kind);
		if (store_done(st, s, "cannot add dependency") == -1)
			return -1;
	}
	return 0;
}

/* The job statement s (bound) finds, or 0; s is reset. */
static int
store_found(struct store *st, sqlite3_stmt *s, int64_t *rid)
{
	int rc = sqlite3_step(s);

	*rid = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot look up the job made before");
	return 0;
}

/* The job jn names by the key the caller made it with, else by its
 * token (relay.h), or 0. */
static int
store_existing(struct store *st, const struct job_new *jn, int64_t *rid)
{
	sqlite3_stmt *s;

	*rid = 0;
	if (jn->key != NULL) {
		if ((s = store_stmt(st, S_JOB_BY_KEY)) == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, st->uid);
		bind_text(s, 2, jn->key);
		if (store_found(st, s, rid) == -1)
			return -1;
	}
	if (*rid == 0 && jn->token != NULL) {
		if ((s = store_stmt(st, S_JOB_BY_TOKEN)) == NULL)
			return -1;
		sqlite3_bind_blob(
		    s, 1, jn->token, STORE_TOKEN_LEN, SQLITE_STATIC);
		if (store_found(st, s, rid) == -1)
			return -1;
	}
	return 0;
}

/* Job rid was stored for the request of this token. */
static int
store_token(struct store *st, int64_t rid, const unsigned char *token)
{
	sqlite3_stmt *s = store_stmt(st, S_JOB_TOKEN);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, rid);
	sqlite3_bind_blob(s, 2, token, STORE_TOKEN_LEN, SQLITE_STATIC);
	return store_done(st, s, "cannot record the job's token");
}

/*
 * Our key, made at the first job we sign.  NULL, with the error, where
 * none can be had: a private database does without.
 */
static struct sign_key *
store_key(struct store *st)
{
	if (st->key == NULL)
		st->key = sign_key_mine();
	return st->key;
}

/* The row of environment text in exports, made if missing; the last one
 * is remembered (a batch shares one). */
static int
store_export_id(struct store *st, const char *text, int64_t *id)
{
	sqlite3_stmt *s;
	int rc;

	if (st->export != NULL &&
	    (text == st->export || strcmp(st->export, text) == 0)) {
		*id = st->export_id;
		return 0;
	}
	if (store_write(st, "cannot record environment",
		"INSERT OR IGNORE INTO exports (env) VALUES (?)", "t",
		text) == -1 ||
	    (s = store_prep(st, "SELECT id FROM exports WHERE env = ?", "t",
		 text)) == NULL)
		return -1;
	rc = sqlite3_step(s);
	*id = sqlite3_column_int64(s, 0);
	store_unprep(st, s);
	if (rc != SQLITE_ROW)
		return store_fail(st, "cannot record environment");
	free(st->export);
	if ((st->export = strdup(text)) == NULL)
		return error_set(EX_OSERR, "out of memory");
	st->export_id = *id;
	return 0;
}

/*
 * A spec as stored: its text without its environment, which is stored
 * apart (the row *export of text *etext: the spec's own export, else the
 * stream's jn->export, whose text is kept for the next job), and the
 * signature of both with our key into sig[SIGN_LEN] (*signed_ is 0 when
 * there is none, in a private database only).  *owned is what of it to
 * free.
 */
static int
store_spec_text(struct store *st, const struct job_new *jn, int64_t rid,
    char **text, const char **etext, char **owned, int64_t *export,
    unsigned char *sig, int *signed_)
{
	json_t *own = json_object_get(jn->spec, "export");
	struct sign_key *key;

	*etext = *owned = NULL;
	*export = 0;
	*signed_ = 0;
	*text = jn->text != NULL ? (char *)jn->text : spec_stored(jn->spec);
	if (own != NULL)
		*etext = *owned = json_dumps(own, JSON_COMPACT);
	else if (jn->export != NULL && jn->export == st->export_obj)
		*etext = st->export;
	else if (jn->export != NULL)
		*etext = *owned = json_dumps(jn->export, JSON_COMPACT);
	if (*text == NULL || (*etext == NULL && (own || jn->export)))
		return error_set(EX_OSERR, "out of memory");
	if (*etext != NULL && store_export_id(st, *etext, export) == -1)
		return -1;
	/* A stream's environment is dumped once, not for each job. */
	st->export_obj = own == NULL ? jn->export : NULL;
	if ((key = store_key(st)) != NULL) {
		sign_job(key, rid, st->uid, st->owner, *text, *etext, sig);
		*signed_ = 1;
	} else if (!st->private)
		return error_wrap("cannot sign the job (a shared database "
				  "needs each user's key)");
	return 0;
}

/*
 * A job's row as S_JOB_INSERT binds it.  Made with store_row_make(), it
 * points into the job_new it came from; store_row_keep() makes every text
 * its own, for a row that goes in later, with others' (store_batch()).
 */
struct job_row {
	int64_t rid, now, priority, not_before, max_attempts;
	int64_t cpu_milli, memory, disk, gpu, export, parent_rid, concurrency;
	const char *name, *queue, *key, *state, *spec;
	char *labels, *selector;
	char *own_name, *own_queue, *own_spec; /* what of them is ours */
	unsigned char sig[SIGN_LEN];
	int signed_;
	/* What goes in with it: its labels' rows (key, value, key, ...:
	 * copies, not the spec's, which the caller's other thread frees),
	 * its event. */
	char **label_kv;
	size_t nlabels;
	const char *event;
	char *message;
};

static void
store_row_free(struct job_row *r)
{
	free(r->own_name);
	free(r->own_queue);
	free(r->own_spec);
	free(r->labels);
	free(r->selector);
	free(r->message);
	free(r->label_kv);
	memset(r, 0, sizeof(*r));
}

static int
store_row_make(struct store *st, const struct job_new *jn, const char *state,
    int64_t now, int64_t rid, struct job_row *r)
{
	char *spec = NULL, *owned = NULL;
	const char *etext;

	memset(r, 0, sizeof(*r));
	if (store_spec_text(st, jn, rid, &spec, &etext, &owned, &r->export,
		r->sig, &r->signed_) == -1)
		goto fail;
	free(owned);
	owned = NULL;
	r->spec = spec;
	if (spec != jn->text)
		r->own_spec = spec;
	if ((jn->labels != NULL && json_object_size(jn->labels) > 0 &&
		(r->labels = json_dumps(jn->labels, JSON_COMPACT)) == NULL) ||
	    (jn->selector != NULL &&
		(r->selector = json_dumps(jn->selector, JSON_COMPACT)) ==
		    NULL)) {
		error_set(EX_OSERR, "out of memory");
		goto fail;
	}
	r->rid = rid;
	r->now = now;
	r->name = jn->name;
	r->queue = jn->queue;
	r->key = jn->key;
	r->state = state;
	r->priority = jn->priority;
	r->not_before = jn->not_before;
	r->max_attempts = jn->max_attempts;
	r->cpu_milli = jn->cpu_milli;
	r->memory = jn->memory;
	r->disk = jn->disk;
	r->gpu = jn->gpu;
	r->parent_rid = jn->parent_rid;
	r->concurrency = jn->concurrency;
	return 0;
fail:
	free(owned);
	if (r->own_spec == NULL && spec != jn->text)
		free(spec);
	store_row_free(r);
	return -1;
}

/* The labels of a row, copied into one block of its own. */
static int
store_row_labels(struct job_row *r, json_t *labels)
{
	size_t n = json_object_size(labels), len = 0, i = 0;
	const char *k;
	json_t *v;
	char *p;

	json_object_foreach(labels, k, v)
	{
		if (!json_is_string(v))
			return error_set(
			    EX_SOFTWARE, "label '%s': not a string", k);
		len += strlen(k) + json_string_length(v) + 2;
	}
	if (n == 0)
		return 0;
	if ((r->label_kv = malloc(2 * n * sizeof(char *) + len)) == NULL)
		return error_set(EX_OSERR, "out of memory");
	p = (char *)(r->label_kv + 2 * n);
	json_object_foreach(labels, k, v)
	{
		r->label_kv[i++] = p;
		p = stpcpy(p, k) + 1;
		r->label_kv[i++] = p;
		p = stpcpy(p, json_string_value(v)) + 1;
	}
	r->nlabels = n;
	return 0;
}

/* The row's texts, its own: the job_new they came from may go. */
static int
store_row_keep(struct job_row *r)
{
	if ((r->own_name = strdup(r->name)) == NULL ||
	    (r->own_queue = strdup(r->queue)) == NULL ||
	    (r->own_spec == NULL && (r->own_spec = strdup(r->spec)) == NULL))
		return error_set(EX_OSERR, "out of memory");
	r->name = r->own_name;
	r->queue = r->own_queue;
	r->spec = r->own_spec;
	return 0;
}

/* Bind r as S_JOB_INSERT's ?1..?23, from ?base + 1 on. */
static void
store_row_bind(
    const struct store *st, sqlite3_stmt *s, int b, const struct job_row *r)
{
	sqlite3_bind_int64(s, b + 1, r->rid);
	bind_text(s, b + 2, r->name);
	bind_text(s, b + 3, st->owner);
	sqlite3_bind_int64(s, b + 4, st->uid);
	bind_text(s, b + 5, r->state);
	bind_text(s, b + 6, r->queue);
	sqlite3_bind_int64(s, b + 7, r->priority);
	sqlite3_bind_int64(s, b + 8, r->now);
	if (r->not_before > 0)
		sqlite3_bind_int64(s, b + 9, r->not_before);
	sqlite3_bind_int64(s, b + 10, r->max_attempts);
	bind_text(s, b + 11, r->key);
	bind_text(s, b + 12, r->labels);
	bind_text(s, b + 13, "submitted");
	bind_text(s, b + 14, r->spec);
	sqlite3_bind_int64(s, b + 15, r->cpu_milli);
	sqlite3_bind_int64(s, b + 16, r->memory);
	sqlite3_bind_int64(s, b + 17, r->disk);
	sqlite3_bind_int64(s, b + 18, r->gpu);
	if (r->export > 0)
		sqlite3_bind_int64(s, b + 19, r->export);
	if (r->signed_)
		sqlite3_bind_blob(s, b + 20, r->sig, SIGN_LEN, SQLITE_STATIC);
	if (r->parent_rid > 0)
		sqlite3_bind_int64(s, b + 21, r->parent_rid);
	if (r->concurrency > 0)
		sqlite3_bind_int64(s, b + 22, r->concurrency);
	bind_text(s, b + 23, r->selector);
}

/* Insert job number rid. */
static int
store_insert_job(struct store *st, const struct job_new *jn, const char *state,
    int64_t now, int64_t rid)
{
	sqlite3_stmt *s = store_stmt(st, S_JOB_INSERT);
	struct job_row r;
	int rc;

	if (s == NULL || store_row_make(st, jn, state, now, rid, &r) == -1)
		return -1;
	store_row_bind(st, s, 0, &r);
	rc = store_done(st, s, "cannot add job");
	/* Its labels go in as a batch's do (insert_labels()). */
	if (rc == 0 &&
	    (store_row_labels(&r, jn->labels) == -1 ||
		insert_labels(st, &r, 1) == -1))
		rc = -1;
	store_row_free(&r);
	return rc;
}

/*
 * A stream's jobs go in up to STORE_BATCH_ROWS to a statement: a
 * statement's own work (its cursors on the table and each index,
 * AUTOINCREMENT's row in sqlite_sequence, its end) is most of what storing
 * a plain job costs, and 64 rows a statement made a stream of them go in
 * 40% faster.  Fewer rows go in by the statements of 16 and 4 rows, then
 * one by one.
 */
#define STORE_BATCH_ROWS 64
static const int batch_rows[BATCH_SIZES] = {STORE_BATCH_ROWS, 16, 4};

void
store_batch(struct store *st)
{
	int most = sqlite3_limit(st->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);

	if (st->depth == 0 || st->batching ||
	    STORE_BATCH_ROWS * JOB_PARAMS > most)
		return;
	if (st->pending == NULL &&
	    (st->pending = calloc(STORE_BATCH_ROWS, sizeof(*st->pending))) ==
		NULL)
		return; /* one by one then */
	st->batching = 1;
}

/*
 * The statement of rows rows, each of the values in tuple (parameters of
 * the one-row statement, 1-based, a parameter may recur), numbered on by
 * n from one row to the next.  Only parameters are written into it.  OR
 * FAIL needs no statement journal (a copy of each page the statement
 * changes, undone should a later row break a constraint): a failed batch
 * fails its transaction.
 */
static sqlite3_stmt *
many_stmt(struct store *st, const char *into, const int *tuple, int len, int n,
    int rows)
{
	size_t cap = strlen(into) + (size_t)rows * (size_t)len * 8 + 32;
	sqlite3_stmt *s = NULL;
	char *sql, *p;

	if ((sql = p = malloc(cap)) == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	p += sprintf(p, "INSERT OR FAIL%s", into);
	for (int r = 0; r < rows; r++)
		for (int i = 0; i < len; i++)
			p += sprintf(p, "%s?%d%s",
			    i > 0	? ""
				: r > 0 ? ", ("
					: " (",
			    r * n + tuple[i], i == len - 1 ? ")" : ", ");
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
		NULL) != SQLITE_OK)
		store_fail(st, "cannot prepare statement");
	free(sql);
	return s;
}

/* The statement putting rows[k] rows into t, made once. */
static sqlite3_stmt *
many_get(struct store *st, enum batch_table t, int k)
{
	/* S_JOB_INSERT's, S_EVENT's and S_JOB_LABEL's values. */
	static const int job[] = {1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11, 12, 13,
	    14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 9};
	static const int event[] = {1, 2, 3, 4, 5, 6};
	static const int label[] = {1, 2, 3};
	static const struct {
		const char *into;
		const int *tuple;
		int len, n;
	} of[BATCH_TABLES] = {
#define N(a) (int)(sizeof(a) / sizeof((a)[0]))
	    [BATCH_JOBS] = {JOBS_INTO, job, N(job), JOB_PARAMS},
	    [BATCH_EVENTS] = {EVENTS_INTO, event, N(event), EVENT_PARAMS},
	    [BATCH_LABELS] = {LABELS_INTO, label, N(label), LABEL_PARAMS},
#undef N
	};
	sqlite3_stmt **s = &st->many[t][k];

	if (*s == NULL)
		*s = many_stmt(st, of[t].into, of[t].tuple, of[t].len, of[t].n,
		    batch_rows[k]);
	return *s;
}

/*
 * For left rows to go into t, the statement that takes the most of them,
 * with how many into *rows: one of batch_rows[], or the one-row statement
 * one.  NULL on an error.
 */
static sqlite3_stmt *
many_next(
    struct store *st, enum batch_table t, int left, int *rows, enum stmt one)
{
	for (int k = 0; k < BATCH_SIZES; k++)
		if (left >= batch_rows[k]) {
			*rows = batch_rows[k];
			return many_get(st, t, k);
		}
	*rows = 1;
	return st->stmts[one] != NULL ? st->stmts[one] : store_stmt(st, one);
}

/* Drop the rows that wait (the transaction they were for has gone). */
static void
store_unbatch(struct store *st)
{
	while (st->npending > 0)
		store_row_free(&st->pending[--st->npending]);
	st->batching = 0;
}

/* The jobs of rows p[n] and their events, in as few statements as may be. */
static int
insert_jobs(struct store *st, const struct job_row *p, int n)
{
	sqlite3_stmt *js, *es;
	int rows, i = 0;

	while (i < n) {
		if ((js = many_next(
			 st, BATCH_JOBS, n - i, &rows, S_JOB_INSERT)) == NULL ||
		    (es = many_next(st, BATCH_EVENTS, n - i, &rows, S_EVENT)) ==
			NULL)
			return -1;
		for (int r = 0; r < rows; r++, i++) {
			store_row_bind(st, js, r * JOB_PARAMS, &p[i]);
			event_bind(es, r * EVENT_PARAMS, p[i].rid, 0, p[i].now,
			    p[i].event, p[i].state, p[i].message);
		}
		if (store_done(st, js, "cannot add job") == -1 ||
		    store_done(st, es, "cannot record event") == -1)
			return -1;
	}
	return 0;
}

/* The labels of rows p[n], in as few statements as may be. */
static int
insert_labels(struct store *st, const struct job_row *p, int n)
{
	sqlite3_stmt *s = NULL;
	int left = 0, rows = 0, r = 0;

	for (int i = 0; i < n; i++)
		left += (int)p[i].nlabels;
	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < p[i].nlabels; j++) {
			if (r == 0 &&
			    (s = many_next(st, BATCH_LABELS, left, &rows,
				 S_JOB_LABEL)) == NULL)
				return -1;
			bind_text(
			    s, r * LABEL_PARAMS + 1, p[i].label_kv[2 * j]);
			bind_text(
			    s, r * LABEL_PARAMS + 2, p[i].label_kv[2 * j + 1]);
			sqlite3_bind_int64(s, r * LABEL_PARAMS + 3, p[i].rid);
			left--;
			if (++r == rows) {
				r = 0;
				if (store_done(st, s, "cannot add label") == -1)
					return -1;
			}
		}
	return 0;
}

/*
 * The rows that wait go in.  Before anything else reads or writes
 * (store_ready()), and before the commit.  The rows go whether or not
 * this succeeds; if it does not, neither may the transaction.
 */
static int
store_flush(struct store *st)
{
	int r = 0;

	if (st->npending == 0 || st->flushing)
		return 0;
	st->flushing = 1;
	if (insert_jobs(st, st->pending, st->npending) == -1 ||
	    insert_labels(st, st->pending, st->npending) == -1) {
		st->failed = 1;
		r = -1;
	}
	while (st->npending > 0)
		store_row_free(&st->pending[--st->npending]);
	st->flushing = 0;
	return r;
}

/* A plain job's rows, to go in with the next ones (store_batch()). */
static int
store_defer_job(struct store *st, const struct job_new *jn,
    const struct lifecycle_move *m, int64_t now, int64_t rid)
{
	struct job_row r;

	/* Made apart: making it may write what waits (a new environment's
	 * row), and empty the batch. */
	if (store_row_make(st, jn, m->state, now, rid, &r) == -1)
		return -1;
	r.event = m->event;
	if (store_row_keep(&r) == -1 ||
	    store_row_labels(&r, jn->labels) == -1) {
		store_row_free(&r);
		return -1;
	}
	if ((r.message = strdup(m->message)) == NULL) {
		store_row_free(&r);
		return error_set(EX_OSERR, "out of memory");
	}
	st->pending[st->npending++] = r;
	if (st->npending == STORE_BATCH_ROWS)
		return store_flush(st);
	return 0;
}

/*
 * What a store knows of a job's owner: its password database entry, looked
 * up anew each time (a uid may be given to another user while a worker
 * runs), and its key, kept while the entry stays the same.
 */
static struct store_user *
store_user(struct store *st, uid_t uid)
{
	struct passwd pw, *found = NULL;
	struct store_user *u = NULL;
	char buf[4096];
	int i;

	for (i = 0; i < st->nusers && u == NULL; i++)
		if (st->users[i].uid == uid)
			u = &st->users[i];
	/* A worker serves few owners; past that, the first is forgotten. */
	if (u == NULL &&
	    st->nusers < (int)(sizeof(st->users) / sizeof(st->users[0])))
		u = &st->users[st->nusers++];
	else if (u == NULL) {
		u = &st->users[0];
		sign_key_free(u->key);
		u->key = NULL;
	}
	u->uid = uid;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) != 0 ||
	    found == NULL) {
		u->found = 0;
		return u;
	}
	if (!u->found || strcmp(u->name, pw.pw_name) != 0 ||
	    strcmp(u->home, pw.pw_dir) != 0) {
		sign_key_free(u->key);
		u->key = NULL;
	}
	u->found = 1;
	snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw.pw_dir);
	return u;
}

/* The key of user u: ours, or (root reading it) another's. */
static struct sign_key *
store_owner_key(struct store *st, struct store_user *u)
{
	if (u->uid == st->uid)
		return store_key(st);
	if (u->key == NULL)
		u->key = sign_key_of(u->uid, u->home);
	return u->key;
}

/*
 * May a job be run as its owner?  The owner must still be the user of its
 * uid, and, unless only we may write the database, the job signed with the
 * owner's key: whoever can write a shared database can change a row, not
 * sign it.  1 when it may, 0 when not (why says it), -1 on an error.
 */
static int
store_vouch(struct store *st, int64_t rid, int64_t uid, const char *owner,
    const char *spec, const char *export, const void *sig, size_t siglen,
    char *why, size_t len)
{
	struct store_user *u = NULL;
	struct sign_key *key;

	/* Our own jobs are ours, whatever the password database says. */
	if ((uid_t)uid != st->uid && !(u = store_user(st, (uid_t)uid))->found) {
		snprintf(why, len, "its owner '%s' (uid %lld) no longer exists",
		    owner, (long long)uid);
		return 0;
	}
	if (u != NULL && strcmp(u->name, owner) != 0) {
		snprintf(why, len,
		    "its owner '%s' (uid %lld) no longer exists: that uid is "
		    "now that of '%s'",
		    owner, (long long)uid, u->name);
		return 0;
	}
	if (st->private)
		return 1;
	if ((key = u ? store_owner_key(st, u) : store_key(st)) == NULL) {
		snprintf(why, len, "cannot check that it is %s's: %s", owner,
		    error_msg());
		return 0;
	}
	if (sign_check(key, rid, uid, owner, spec, export, sig, siglen))
		return 1;
	/* The owner may have made a new key since we read theirs. */
	if (u != NULL) {
		sign_key_free(u->key);
		u->key = NULL;
	} else {
		sign_key_free(st->key);
		st->key = NULL;
	}
	if ((key = u ? store_owner_key(st, u) : store_key(st)) != NULL &&
	    sign_check(key, rid, uid, owner, spec, export, sig, siglen))
		return 1;
	snprintf(why, len,
	    sig == NULL ? "it is not signed by its owner '%s' (stored by an "
			  "older jobkit, or changed since)"
			: "its signature is not that of its owner '%s': it "
			  "was changed since it was submitted",
	    owner);
	return 0;
}

/*
 * Job rid, vouched for: *spec gets its spec, with its recorded
 * environment, to run.  1, 0 when it may not run as its owner (why says
 * so), or -1 on an error.
 */
static int
store_vouched_spec(
    struct store *st, int64_t rid, json_t **spec, char *why, size_t len)
{
	const char *text, *etext, *owner;
	json_t *exp = NULL;
	sqlite3_stmt *s;
	int ok;

	*spec = NULL;
	if ((s = store_prep(st,
		 "SELECT j.uid, j.owner, j.spec, e.env, j.sig FROM jobs j"
		 " LEFT JOIN exports e ON e.id = j.export WHERE j.rid = ?",
		 "i", rid)) == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_unprep(st, s);
		return store_fail(st, "cannot read job");
	}
	owner = (const char *)sqlite3_column_text(s, 1);
	text = (const char *)sqlite3_column_text(s, 2);
	etext = (const char *)sqlite3_column_text(s, 3);
	ok = store_vouch(st, rid, sqlite3_column_int64(s, 0), owner, text,
	    etext, sqlite3_column_blob(s, 4),
	    (size_t)sqlite3_column_bytes(s, 4), why, len);
	/* A row written around job-submit is refused, not taken for an
	 * error of ours: it would stop the queue behind it.  (json_is_object()
	 * is a macro: no call in its argument.) */
	if (ok == 1) {
		*spec = json_loads(text, 0, NULL);
		exp = etext != NULL ? json_loads(etext, 0, NULL) : NULL;
		if (!json_is_object(*spec) ||
		    (etext != NULL &&
			(!json_is_object(exp) ||
			    json_object_set(*spec, "export", exp) == -1))) {
			json_decref(*spec);
			*spec = NULL;
			snprintf(why, len, "its spec is not one jobkit stored");
			ok = 0;
		}
		json_decref(exp);
	}
	store_unprep(st, s);
	return ok;
}

/* A job that may not run as its owner fails, saying why; the jobs that
 * wait on it are settled. */
static int
store_refuse(struct store *st, int64_t rid, const char *why, int64_t now)
{
	struct lifecycle_move m;

	lifecycle_refuse(why, &m);
	return store_apply(st, rid, 0, &m, now) == -1 ||
		store_settle(st, rid, now) == -1
	    ? -1
	    : 0;
}

/*
 * The creation time of a new job: now, but never before the newest job's,
 * so that creation times rise with IDs and a window on them is a range of
 * IDs (qb_filters narrows label lookups with it); and its number, *rid.
 * The caller holds the write lock.
 */
static int
store_created_now(struct store *st, int64_t *now, int64_t *rid)
{
	sqlite3_stmt *s;
	int rc;

	*now = parse_now_ms();
	/* A stream of jobs in one transaction reads it once: no one else
	 * may insert while we hold the write lock. */
	if (st->depth > 0 && st->next_txn == st->txn) {
		if (st->last_created > *now)
			*now = st->last_created;
		*rid = st->next_rid;
		return 0;
	}
	if ((s = store_stmt(st, S_LAST_CREATED)) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    sqlite3_column_int64(s, 0) > *now)
		*now = sqlite3_column_int64(s, 0);
	*rid = rc == SQLITE_ROW ? sqlite3_column_int64(s, 1) : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot read jobs");
	return 0;
}

/* What store_brief() would read back for a job just made. */
static json_t *
job_brief_new(
    int64_t rid, const struct job_new *jn, const char *state, int64_t now)
{
	char id[ID_LEN + 1], t[32];
	json_t *o;

	if (id_format(rid, id) == -1)
		return NULL;
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id", id, "name",
	    jn->name, "state", state, "queue", jn->queue, "priority",
	    (json_int_t)jn->priority, "created", parse_fmt_time(now, t));
	/* As store_brief() shows it. */
	if (o != NULL && jn->not_before > 0 &&
	    json_object_set_new(o, "not_before",
		json_string(parse_fmt_time(jn->not_before, t))) == -1) {
		json_decref(o);
		o = NULL;
	}
	if (o == NULL)
		error_set(EX_OSERR, "out of memory");
	return o;
}

/* The parts of a job that lifecycle changes look at. */
struct job_head {
	int64_t rid, uid, priority, attempts, retries;
	char state[16], owner[64], queue[128];
};

static int store_head(struct store *st, const char *id, struct job_head *h);

/*
 * The job of shards jn is to join: it must be one (its concurrency set),
 * the caller's, and still waiting for its shards.  Sets jn->parent_rid.
 */
static int
store_shard_of(struct store *st, struct job_new *jn)
{
	struct job_head h;
	sqlite3_stmt *s;
	int rc, parent = 0;

	if (store_head(st, jn->parent, &h) == -1)
		return -1;
	if ((s = store_prep(st,
		 "SELECT concurrency IS NOT NULL FROM jobs WHERE rid = ?", "i",
		 h.rid)) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		parent = sqlite3_column_int(s, 0);
	store_unprep(st, s);
	if (rc != SQLITE_ROW)
		return store_fail(st, "cannot read job");
	if (!parent)
		return error_set(
		    EX_DATAERR, "job '%s' is not a job of shards", jn->parent);
	if ((uid_t)h.uid != st->uid)
		return error_set(
		    EX_NOPERM, "job '%s' belongs to '%s'", jn->parent, h.owner);
	if (store_terminal(h.state))
		return error_set(EX_DATAERR,
		    "job '%s' has %s: it takes no "
		    "more shards",
		    jn->parent, h.state);
	jn->parent_rid = h.rid;
	return 0;
}

/* Shard rid joins its parent's dependencies, which say how many ended. */
static int
store_add_shard(struct store *st, const struct job_new *jn, int64_t rid)
{
	sqlite3_stmt *s = store_stmt(st, S_JOB_DEP);
	struct lifecycle_deps v;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, jn->parent_rid);
	sqlite3_bind_int64(s, 2, rid);
	bind_text(s, 3, "shard");
	if (store_done(st, s, "cannot add shard") == -1 ||
	    store_deps(st, jn->parent_rid, &v) == -1)
		return -1;
	return store_set_reason(st, jn->parent_rid, v.reason);
}

/* What a foreign document's reader noted: an event each. */
static int
store_notes(struct store *st, int64_t rid, const struct job_new *jn,
    const char *state, int64_t now)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(jn->spec, "notes"), i, v)
	{
		if (store_event(st, rid, 0, now, "note", state,
			json_string_value(v)) == -1)
			return -1;
	}
	return 0;
}

/* Complete submit move m of new job rid (inserted in m's state) from its
 * dependencies (lifecycle_submit_deps()). */
static int
store_deps_initial(
    struct store *st, int64_t rid, struct lifecycle_move *m, int64_t now)
{
	struct lifecycle_deps v;
	const char *inserted = m->state;

	if (store_deps(st, rid, &v) == -1)
		return -1;
	lifecycle_submit_deps(&v, m);
	return strcmp(m->state, inserted) == 0
	    ? 0
	    : store_set_state(st, rid, m->state, now, m->reason);
}

/*
 * Job rid's rows, now: the job, its labels, what makes it a shard, its
 * dependencies (m completed by them), its events.
 */
static int
store_add_now(struct store *st, struct job_new *jn,
    const struct lifecycle_submit *sub, struct lifecycle_move *m, int64_t now,
    int64_t rid)
{
	if ((jn->parent != NULL && store_shard_of(st, jn) == -1) ||
	    (sub->deps &&
		(resolve_array(st, jn->after) == -1 ||
		    resolve_array(st, jn->after_any) == -1)) ||
	    store_insert_job(st, jn, m->state, now, rid) == -1 ||
	    (jn->parent_rid > 0 && store_add_shard(st, jn, rid) == -1))
		return -1;
	if (sub->deps &&
	    (store_add_deps(st, rid, jn->after, "success") == -1 ||
		store_add_deps(st, rid, jn->after_any, "any") == -1 ||
		(m->by_deps && store_deps_initial(st, rid, m, now) == -1)))
		return -1;
	if (store_event(st, rid, 0, now, m->event, m->state, m->message) ==
		-1 ||
	    store_notes(st, rid, jn, m->state, now) == -1)
		return -1;
	return 0;
}

int
store_job_add(struct store *st, const struct job_new *given, char *id,
    json_t **out, int *existed)
{
	struct job_new copy = *given, *jn = &copy;
	struct lifecycle_submit sub = {0};
	struct lifecycle_move m;
	int64_t rid, now;
	int defer;

	*existed = 0;
	/* A plain job's rows may wait for the next ones (store_batch());
	 * any other's go in after those that wait, and the transaction
	 * fails with them. */
	defer = st->batching && jn->key == NULL && jn->token == NULL &&
	    jn->parent == NULL && json_array_size(jn->after) == 0 &&
	    json_array_size(jn->after_any) == 0 &&
	    json_array_size(json_object_get(jn->spec, "notes")) == 0;
	if (!defer && store_flush(st) == -1)
		return -1;
	if (store_begin(st) == -1 || store_created_now(st, &now, &rid) == -1) {
		store_rollback(st);
		return -1;
	}
	if (jn->key != NULL || jn->token != NULL) {
		int64_t had;
		if (store_existing(st, jn, &had) == -1)
			goto fail;
		if (had != 0) {
			*existed = 1;
			rid = had;
			goto done;
		}
	}
	sub.hold = jn->hold;
	sub.shards = jn->concurrency > 0;
	sub.deps =
	    json_array_size(jn->after) + json_array_size(jn->after_any) > 0;
	/* What changes the spec makes a text dumped before stale. */
	if (sub.deps || jn->parent != NULL)
		jn->text = NULL;
	lifecycle_submit(&sub, &m);
	if ((defer ? store_defer_job(st, jn, &m, now, rid)
		   : store_add_now(st, jn, &sub, &m, now, rid)) == -1 ||
	    (jn->token != NULL && store_token(st, rid, jn->token) == -1))
		goto fail;
	/* The next job of this transaction follows this one. */
	st->next_txn = st->txn;
	st->next_rid = rid + 1;
	st->last_created = now;
	if (out != NULL &&
	    (*out = job_brief_new(rid, jn, m.state, now)) == NULL)
		goto fail;
	goto commit;
done:
	if (out != NULL && (*out = store_brief(st, rid)) == NULL)
		goto fail;
commit:
	if (id_format(rid, id) == 0 && store_commit(st) == 0)
		return 0;
	if (out != NULL) {
		json_decref(*out);
		*out = NULL;
	}
	return -1;
fail:
	store_rollback(st);
	return -1;
}

static int
store_head(struct store *st, const char *id, struct job_head *h)
{
	sqlite3_stmt *s;
	int64_t rid;
	int rc;

	if (rid_of(id, &rid) == -1 || (s = store_stmt(st, S_JOB_HEAD)) == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, rid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		h->rid = sqlite3_column_int64(s, 0);
		snprintf(h->state, sizeof(h->state), "%s",
		    (const char *)sqlite3_column_text(s, 1));
		h->uid = sqlite3_column_int64(s, 2);
		snprintf(h->owner, sizeof(h->owner), "%s",
		    (const char *)sqlite3_column_text(s, 3));
		h->priority = sqlite3_column_int64(s, 4);
		snprintf(h->queue, sizeof(h->queue), "%s",
		    (const char *)sqlite3_column_text(s, 5));
		h->attempts = sqlite3_column_int64(s, 6);
		h->retries = sqlite3_column_int64(s, 7);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return error_set(EX_NOINPUT, "no such job '%s'", id);
	if (rc != SQLITE_ROW)
		return store_fail(st, "cannot read job");
	return 0;
}

/* Run one constant statement with ?1 = rid and ?2..?4 as given. */
static int
store_run(struct store *st, const char *sql, int64_t rid, int64_t a,
    const char *b, int64_t c)
{
	sqlite3_stmt *s;

	if (store_ready(st) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return store_fail(st, "cannot prepare statement");
	sqlite3_bind_int64(s, 1, rid);
	sqlite3_bind_int64(s, 2, a);
	bind_text(s, 3, b);
	sqlite3_bind_int64(s, 4, c);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_fail(st, "cannot change job");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * The shards of job rid (none when it is not a job of shards) that go
 * with it when shards says (lifecycle_shard_follows()), by number.
 */
static int
store_shards(struct store *st, int64_t rid, enum lifecycle_shards shards,
    struct ridlist *out)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = store_prep(st,
		 "SELECT d.dep, j.state FROM job_deps d JOIN jobs j ON"
		 " j.rid = d.dep WHERE d.job = ? AND d.kind = 'shard'",
		 "i", rid)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (lifecycle_shard_follows(
			shards, (const char *)sqlite3_column_text(s, 1)) &&
		    ridlist_push(out, sqlite3_column_int64(s, 0)) == -1)
			break;
	store_unprep(st, s);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_ROW ? -1
					: store_fail(st, "cannot read shards");
	return 0;
}

static int store_act(struct store *st, enum lifecycle_action act,
    const char *id, struct job_head *h, int64_t now);

/* Cancel (or retry) the shards of h that go with it: the job of shards
 * goes with them. */
static int
store_act_shards(struct store *st, struct job_head *h,
    enum lifecycle_shards shards, int64_t now)
{
	struct ridlist l = {0};
	struct job_head sh;
	char id[ID_LEN + 1];
	int r = 0;

	if (store_shards(st, h->rid, shards, &l) == -1)
		return -1;
	for (size_t i = 0; r == 0 && i < l.n; i++)
		r = id_format(l.v[i], id) == -1 ||
			store_head(st, id, &sh) == -1 ||
			store_act(st,
			    shards == LIFECYCLE_SHARDS_RETRY ? LIFECYCLE_RETRY
							     : LIFECYCLE_CANCEL,
			    id, &sh, now) == -1
		    ? -1
		    : 0;
	free(l.v);
	return r;
}

/* What follows a move: the jobs that depend on rid settle. */
static int
store_follow(
    struct store *st, int64_t rid, enum lifecycle_settle settle, int64_t now)
{
	if (settle == LIFECYCLE_SETTLE_NONE)
		return 0;
	return store_settle_walk(
	    st, rid, now, settle == LIFECYCLE_SETTLE_REVIVED);
}

/*
 * Do act to job id (h): what the lifecycle says, with the shards of a
 * retry first (the job's verdict reads them) and those of a cancel last.
 * For LIFECYCLE_UPDATE, only whether the job's state allows it.
 */
static int
store_act(struct store *st, enum lifecycle_action act, const char *id,
    struct job_head *h, int64_t now)
{
	struct lifecycle_job j = {id, h->state, h->attempts, h->retries};
	struct lifecycle_deps v;
	struct lifecycle_move m;

	if (lifecycle_act(act, &j, &m) == -1)
		return error_set(m.status, "%s", m.error);
	if (m.shards == LIFECYCLE_SHARDS_RETRY &&
	    store_act_shards(st, h, m.shards, now) == -1)
		return -1;
	if (m.by_deps) {
		if (store_deps(st, h->rid, &v) == -1)
			return -1;
		if (lifecycle_act_deps(act, &j, &v, &m) == -1)
			return error_set(m.status, "%s", m.error);
	}
	if (store_apply(st, h->rid, 0, &m, now) == -1 ||
	    store_follow(st, h->rid, m.settle, now) == -1)
		return -1;
	return m.shards == LIFECYCLE_SHARDS_CANCEL
	    ? store_act_shards(st, h, m.shards, now)
	    : 0;
}

/* A job goes, with everything that is its own. */
static int
store_delete(struct store *st, int64_t rid)
{
	static const char *const sql[] = {"DELETE FROM events WHERE job = ?1",
	    "DELETE FROM tasks WHERE job = ?1",
	    "DELETE FROM job_labels WHERE job = ?1",
	    "DELETE FROM job_deps WHERE job = ?1",
	    "DELETE FROM jobs WHERE rid = ?1", NULL};

	for (const char *const *q = sql; *q != NULL; q++)
		if (store_run(st, *q, rid, 0, NULL, 0) == -1)
			return -1;
	return 0;
}

/*
 * A job whose spec we changed is signed again, with its owner's key (ours,
 * or root's reading the owner's).  A private database needs no signature.
 */
static int
store_resign(struct store *st, int64_t rid)
{
	unsigned char sig[SIGN_LEN];
	struct sign_key *key;
	sqlite3_stmt *s;
	int64_t uid;

	if (st->private)
		return 0;
	if ((s = store_prep(st,
		 "SELECT j.uid, j.owner, j.spec, e.env FROM jobs j LEFT JOIN"
		 " exports e ON e.id = j.export WHERE j.rid = ?",
		 "i", rid)) == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_unprep(st, s);
		return store_fail(st, "cannot read job");
	}
	uid = sqlite3_column_int64(s, 0);
	if ((key = store_owner_key(st, store_user(st, (uid_t)uid))) != NULL)
		sign_job(key, rid, uid, (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2),
		    (const char *)sqlite3_column_text(s, 3), sig);
	store_unprep(st, s);
	if (key == NULL)
		return error_wrap("cannot sign the job again");
	if ((s = store_prep(st, "UPDATE jobs SET sig = ? WHERE rid = ?", "ni",
		 rid)) == NULL)
		return -1;
	sqlite3_bind_blob(s, 1, sig, SIGN_LEN, SQLITE_TRANSIENT);
	return store_step_done(st, s, "cannot sign job");
}

/*
 * A job to change is its owner's as it stands (store_vouch()): one someone
 * changed behind its owner's back is not signed again, and stays refused.
 */
static int
store_vouched(struct store *st, const char *id, int64_t rid)
{
	char why[512];
	json_t *spec;
	int ok = store_vouched_spec(st, rid, &spec, why, sizeof(why));

	json_decref(spec);
	if (ok == 0)
		return error_set(
		    EX_DATAERR, "cannot change job '%s': %s", id, why);
	return ok == 1 ? 0 : -1;
}

static int
act_update(struct store *st, const char *id, struct job_head *h,
    const struct job_change *chg, int64_t now)
{
	char msg[300];
	int changed = 0;

	if (store_act(st, LIFECYCLE_UPDATE, id, h, now) == -1 ||
	    store_vouched(st, id, h->rid) == -1)
		return -1;
	if (chg->has_priority && chg->priority != h->priority) {
		snprintf(msg, sizeof(msg), "priority %lld -> %lld",
		    (long long)h->priority, (long long)chg->priority);
		if (store_run(st,
			"UPDATE jobs SET priority = ?2, updated = ?4,"
			" spec = json_set(spec, '$.priority', ?2)"
			" WHERE rid = ?1",
			h->rid, chg->priority, NULL, now) ||
		    store_event(st, h->rid, 0, now, "priority", h->state, msg))
			return -1;
		changed = 1;
	}
	if (chg->queue != NULL && strcmp(chg->queue, h->queue) != 0) {
		snprintf(
		    msg, sizeof(msg), "queue %s -> %s", h->queue, chg->queue);
		if (store_run(st,
			"UPDATE jobs SET queue = ?3, updated = ?2,"
			" spec = json_set(spec, '$.queue', ?3)"
			" WHERE rid = ?1",
			h->rid, now, chg->queue, 0) ||
		    store_event(st, h->rid, 0, now, "queue", h->state, msg))
			return -1;
		changed = 1;
	}
	return changed ? store_resign(st, h->rid) : 0;
}

/* The lifecycle's names of the store's actions. */
static const enum lifecycle_action acts[] = {[STORE_CANCEL] = LIFECYCLE_CANCEL,
    [STORE_HOLD] = LIFECYCLE_HOLD,
    [STORE_RELEASE] = LIFECYCLE_RELEASE,
    [STORE_RETRY] = LIFECYCLE_RETRY,
    [STORE_DELETE] = LIFECYCLE_DELETE,
    [STORE_UPDATE] = LIFECYCLE_UPDATE};

int
store_job_act(struct store *st, const char *id, enum store_action act,
    const struct job_change *chg, json_t **out)
{
	struct job_head h;
	int64_t now = parse_now_ms();
	int r;

	*out = NULL;
	if (store_begin(st) == -1)
		return -1;
	if (store_head(st, id, &h) == -1)
		goto fail;
	if (st->uid != 0 && (uid_t)h.uid != st->uid) {
		error_set(EX_NOPERM, "job '%s' belongs to '%s'", id, h.owner);
		goto fail;
	}
	r = act == STORE_UPDATE ? act_update(st, id, &h, chg, now)
				: store_act(st, acts[act], id, &h, now);
	if (r != 0)
		goto fail;
	if (act == STORE_DELETE)
		*out = json_pack("{s:s, s:s}", "id", id, "state", "deleted");
	else
		*out = store_brief(st, h.rid);
	if (*out == NULL || store_commit(st) == -1) {
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 0;
fail:
	store_rollback(st);
	return -1;
}

/* Rows of a one-parameter query (?1 = rid or text) as an array. */
static json_t *
store_rows(struct store *st, const char *sql, int64_t rid, const char *text)
{
	json_t *arr = json_array(), *o;
	sqlite3_stmt *s;
	int rc;

	if (arr == NULL)
		goto oom;
	if (store_ready(st) == -1) {
		json_decref(arr);
		return NULL;
	}
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		json_decref(arr);
		store_fail(st, "cannot prepare statement");
		return NULL;
	}
	if (text != NULL)
		bind_text(s, 1, text);
	else
		sqlite3_bind_int64(s, 1, rid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((o = row_json(s)) == NULL ||
		    json_array_append_new(arr, o) == -1)
			break;
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return arr;
	json_decref(arr);
	if (rc == SQLITE_ROW)
		goto oom;
	store_fail(st, "cannot read");
	return NULL;
oom:
	error_set(EX_OSERR, "out of memory");
	return NULL;
}

json_t *
store_job_describe(struct store *st, const char *id)
{
	json_t *job = NULL, *rows, *part, *spec;
	int64_t rid;

	if (rid_of(id, &rid) == -1)
		return NULL;
	if ((rows = store_rows(st,
		 "SELECT jk_id(rid) AS id, name, state,"
		 " owner, queue,"
		 " priority, attempts, max_attempts, cancel_requested,"
		 " idem_key AS key, created, updated, not_before, started, "
		 "ended,"
		 " reason, labels, spec, (SELECT env FROM exports WHERE"
		 " id = export) AS export_env FROM jobs WHERE rid = ?1",
		 rid, NULL)) == NULL)
		return NULL;
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		error_set(EX_NOINPUT, "no such job '%s'", id);
		return NULL;
	}
	job = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	/* The environment it recorded is stored apart: it is its spec's (a
	 * spec that is not JSON stays the text it is, without it). */
	spec = json_object_get(job, "spec");
	if ((part = json_object_get(job, "export_env")) != NULL &&
	    ((json_is_object(spec) &&
		 json_object_set(spec, "export", part) == -1) ||
		json_object_del(job, "export_env") == -1)) {
		json_decref(job);
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	static const struct {
		const char *key, *sql;
	} parts[] = {
	    {"dependencies",
		"SELECT jk_id(d.dep) AS id, d.kind, j.state"
		" FROM job_deps d LEFT JOIN jobs j ON j.rid = d.dep"
		" WHERE d.job = ?1 ORDER BY d.dep"},
	    {"dependents",
		"SELECT jk_id(j.rid) AS id, d.kind, j.state"
		" FROM job_deps d JOIN jobs j ON j.rid = d.job WHERE d.dep = ?1"
		" ORDER BY j.rid"},
	    {"tasks",
		"SELECT jk_id(t.job) || '.' || t.attempt AS id,"
		" t.attempt, t.state, 'r' || jk_id(r.rid) AS run, t.host,"
		" t.pid, t.started, t.keepalive, t.ended, t.exit_code,"
		" t.signal, t.error, t.stdout, t.stderr, t.stdout_truncated,"
		" t.stderr_truncated, t.usage, t.enforcement, t.results,"
		" t.staged, t.devices, t.ident, t.cmd"
		" FROM tasks t LEFT JOIN runs r ON r.rid = t.run"
		" WHERE t.job = ?1 ORDER BY t.attempt"},
	    {"events",
		"SELECT time, type, state, CASE WHEN task IS NOT NULL"
		" THEN jk_id(job) || '.' || task END AS task, message"
		" FROM events WHERE job = ?1 ORDER BY eid"},
	};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if ((part = store_rows(st, parts[i].sql, rid, NULL)) == NULL) {
			json_decref(job);
			return NULL;
		}
		if (json_object_set_new(job, parts[i].key, part) == -1) {
			json_decref(job);
			error_set(EX_OSERR, "out of memory");
			return NULL;
		}
	}
	return job;
}

/*
 * Queries are assembled from the constant fragments below; every value a
 * user gave is bound, never written into the SQL text.  The room holds
 * the most filters run-query takes (64 states and 64 labels, each label
 * in a window with four binds and 300 bytes of SQL) with some to spare.
 */
#define QB_MAX_BINDS 512

struct qb {
	char sql[32768];
	size_t len;
	int where;
	int nb;
	int full; /* a fragment or a value did not fit: qb_prepare() refuses */
	struct {
		int is_text;
		int len; /* of text, or -1: up to its NUL */
		const char *text;
		int64_t num;
	} b[QB_MAX_BINDS];
	int dense; /* the default window: walk the sort's index (qb_dense) */
	int recent_part; /* of the default window, only RECENT_ACTIVE or
			    RECENT_ENDED (store_count()), or 0: both */
};

#define RECENT_ACTIVE 1
#define RECENT_ENDED 2
#define ACTIVE_STATES "('waiting', 'queued', 'held', 'running')"

static void
qb_add(struct qb *q, const char *frag)
{
	size_t n = strlen(frag);

	if (q->len + n < sizeof(q->sql)) {
		memcpy(q->sql + q->len, frag, n + 1);
		q->len += n;
	} else
		q->full = 1;
}

static void
qb_cond(struct qb *q, const char *frag)
{
	qb_add(q, q->where++ ? " AND " : " WHERE ");
	qb_add(q, frag);
}

/* Bind the first n bytes of v, or all of it with n -1; v must outlive q. */
static void
qb_textn(struct qb *q, const char *v, int n)
{
	if (q->nb < QB_MAX_BINDS) {
		q->b[q->nb].is_text = 1;
		q->b[q->nb].len = n;
		q->b[q->nb++].text = v;
	} else
		q->full = 1;
}

static void
qb_text(struct qb *q, const char *v)
{
	qb_textn(q, v, -1);
}

static void
qb_num(struct qb *q, int64_t v)
{
	if (q->nb < QB_MAX_BINDS) {
		q->b[q->nb].is_text = 0;
		q->b[q->nb++].num = v;
	} else
		q->full = 1;
}

/* The table alias, time columns and sort columns of each noun. */
struct noun_def {
	const char *select, *from, *alias_id, *owner, *queue, *name, *labels,
	    *state;
	const char *const *times; /* name, column pairs */
	const char *const *sorts; /* name, column pairs */
};

static const char *const job_times[] = {"created", "j.created", "started",
    "j.started", "ended", "j.ended", "updated", "j.updated", NULL};
static const char *const job_sorts[] = {"created", "j.created", "started",
    "j.started", "ended", "j.ended", "updated", "j.updated", "priority",
    "j.priority", "name", "j.name", "state", "j.state", "queue", "j.queue",
    "id", "j.rid", "owner", "j.owner", NULL};
static const char *const task_times[] = {"created", "t.started", "started",
    "t.started", "ended", "t.ended", "keepalive", "t.keepalive", NULL};
static const char *const task_sorts[] = {"created", "t.started", "started",
    "t.started", "ended", "t.ended", "keepalive", "t.keepalive", "attempt",
    "t.attempt", "state", "t.state", "id", "t.job", "job", "t.job", NULL};
static const char *const run_times[] = {"created", "r.started", "started",
    "r.started", "ended", "r.ended", "keepalive", "r.keepalive", NULL};
static const char *const run_sorts[] = {"created", "r.started", "started",
    "r.started", "ended", "r.ended", "keepalive", "r.keepalive", "id", "r.rid",
    "host", "r.host", NULL};
static const char *const queue_sorts[] = {
    "created", "j.queue", "queue", "j.queue", NULL};

/*
 * When a lease has expired -- a run's or a task's, the row's columns
 * prefixed by t ("r." or ""), now the parameter n: decided here and
 * nowhere else.
 */
#define LEASE_EXPIRED(t, n) " " t "keepalive + " t "lease < " n " "

/*
 * Whether job t (its columns prefixed by t) may start as far as its parent
 * says: it is no shard, or fewer of its parent's shards run than the
 * parent's concurrency.  The claim and a named claim both ask this.
 */
#define SHARD_ROOM(t) \
	" (" t "parent IS NULL OR (SELECT count(*) FROM jobs s WHERE" \
	" s.parent = " t "parent AND s.state = 'running') < (SELECT" \
	" p.concurrency FROM jobs p WHERE p.rid = " t "parent)) "

/* A task's state as it stands: one whose lease expired is lost, even
 * before a reaper records it so. */
#define TASK_STATE \
	"CASE WHEN t.ended IS NULL AND" LEASE_EXPIRED( \
	    "t.", "?1") "THEN" \
			" 'lost' ELSE t.state END"

#define RUN_STATE \
	"CASE WHEN r.lost IS NOT NULL THEN 'lost' WHEN r.ended IS NOT NULL" \
	" THEN 'ended' WHEN" LEASE_EXPIRED("r.", "?1") "THEN 'lost' ELSE" \
						       " 'running' END"

/* What job j runs, as one line: its shell string, its command's words
 * joined by spaces, or its image. */
#define JOB_COMMAND \
	"coalesce(json_extract(j.spec, '$.shell'), (SELECT" \
	" group_concat(value, ' ') FROM json_each(j.spec, '$.command'))," \
	" json_extract(j.spec, '$.container.image'))"

static const struct noun_def nouns[] = {
    [STORE_JOBS] =
	{"SELECT jk_id(j.rid) AS id, j.name, j.state, j.owner, j.queue,"
	 " j.priority, j.attempts, j.created, j.started, j.ended, j.labels,"
	 " j.reason, " JOB_COMMAND " AS command, lt.exit_code, lt.signal,"
	 " lt.started AS task_started, lt.ended AS task_ended, j.not_before"
	 " FROM jobs j"
	 " LEFT JOIN tasks lt ON lt.job = j.rid AND lt.attempt = (SELECT"
	 " max(attempt) FROM tasks WHERE job = j.rid)",
	    " FROM jobs j", "j.rid", "j.owner", "j.queue", "j.name", "j.rid",
	    "j.state", job_times, job_sorts},
    [STORE_TASKS] =
	{"SELECT jk_id(t.job) || '.' || t.attempt AS id,"
	 " jk_id(t.job) AS job, j.name, t.attempt, " TASK_STATE " AS state,"
	 " j.queue, j.owner, 'r' || jk_id(t.run) AS run, t.host, t.pid,"
	 " t.started, t.keepalive, t.ended, t.lease, t.exit_code, t.signal,"
	 " t.error, t.ident, t.cmd, t.usage, nullif(j.cpu_milli, 0) AS "
	 "cpu_milli,"
	 " nullif(j.memory, 0) AS memory,"
	 " " JOB_COMMAND " AS command"
	 " FROM tasks t JOIN jobs j ON j.rid = t.job",
	    " FROM tasks t JOIN jobs j ON j.rid = t.job", "t.job", "j.owner",
	    "j.queue", "j.name", "j.rid", TASK_STATE, task_times, task_sorts},
    [STORE_RUNS] = {"SELECT 'r' || jk_id(r.rid) AS id, r.kind, r.mode,"
		    " r.owner, "
		    "r.host, r.pid, " RUN_STATE
		    " AS state, r.started, r.keepalive, r.ended, r.lease,"
		    " r.capacity, r.labels, (SELECT count(*) FROM tasks t"
		    " WHERE t.run = r.rid) AS tasks FROM runs r",
	" FROM runs r", "r.rid", "r.owner", NULL, NULL, NULL, RUN_STATE,
	run_times, run_sorts},
    [STORE_QUEUES] =
	{"SELECT j.queue, count(*) AS jobs,"
	 " sum(j.state = 'waiting') AS waiting,"
	 " sum(j.state = 'queued') AS queued, sum(j.state = 'held') AS held,"
	 " sum(j.state = 'running') AS running,"
	 " sum(j.state = 'succeeded') AS succeeded,"
	 " sum(j.state = 'failed') AS failed,"
	 " sum(j.state = 'cancelled') AS cancelled FROM jobs j",
	    " FROM jobs j", "j.rid", "j.owner", "j.queue", "j.name", "j.rid",
	    "j.state", job_times, queue_sorts},
};

static const char *
pair_lookup(const char *const *pairs, const char *name)
{
	for (; pairs[0] != NULL; pairs += 2)
		if (strcmp(pairs[0], name) == 0)
			return pairs[1];
	return NULL;
}

static int
pair_error(const char *what, const char *name, const char *const *pairs)
{
	char list[256];
	size_t n = 0;

	for (; pairs[0] != NULL; pairs += 2)
		n += snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0,
		    "%s%s", n ? ", " : "", pairs[0]);
	return error_set(
	    EX_USAGE, "unknown %s '%s' (one of: %s)", what, name, list);
}

int
store_query_check(const struct store_query *q)
{
	const struct noun_def *d = &nouns[q->noun];

	if (q->time != NULL && pair_lookup(d->times, q->time) == NULL)
		return pair_error("time field", q->time, d->times);
	if (q->sort != NULL && pair_lookup(d->sorts, q->sort) == NULL)
		return pair_error("sort field", q->sort, d->sorts);
	if (q->noun == STORE_RUNS &&
	    (q->queue || q->name || q->dependency_of || q->dependent_of ||
		q->job))
		return error_set(EX_USAGE,
		    "runs have no queue, name, "
		    "job or dependency to filter on");
	if (q->noun != STORE_TASKS && (q->ident || q->cmd || q->with_run))
		return error_set(EX_USAGE, "--%s is for tasks",
		    q->ident	 ? "ident"
			: q->cmd ? "cmd"
				 : "with-run");
	if ((q->noun == STORE_JOBS || q->noun == STORE_QUEUES) &&
	    (q->run || q->alive || q->lost))
		return error_set(EX_USAGE, "--%s is for tasks and runs",
		    q->run	   ? "run"
			: q->alive ? "alive"
				   : "lost");
	return 0;
}

/* The first job created at or after ?, or past every job. */
#define FIRST_CREATED \
	"coalesce((SELECT rid FROM jobs WHERE created >= ? ORDER BY created" \
	" LIMIT 1), 9223372036854775807)"

/*
 * Runs and tasks in a window are those alive at some moment in it, as
 * Reflow's queries take them: started before its end, and not ended, or
 * ended after its start.  Returns 1 when that is the filter.
 */
static int
qb_alive_window(struct qb *q, const struct store_query *sq)
{
	int t = sq->noun == STORE_TASKS;

	if (!t && sq->noun != STORE_RUNS)
		return 0;
	if (sq->since != INT64_MIN) {
		/* Two index ranges, not a scan of all that started before. */
		qb_cond(q,
		    t ? "t.rid IN (SELECT rid FROM tasks WHERE ended >= ? UNION"
			" ALL SELECT rid FROM tasks WHERE ended IS NULL)"
		      : "r.rid IN (SELECT rid FROM runs WHERE ended >= ? UNION"
			" ALL SELECT rid FROM runs WHERE ended IS NULL)");
		qb_num(q, sq->since);
	}
	if (sq->until != INT64_MAX) {
		qb_cond(q, t ? "t.started < ?" : "r.started < ?");
		qb_num(q, sq->until);
	}
	return 1;
}

/*
 * Tasks in states (TASK_STATE's), on the index of their state column: a
 * task that has not ended is running while its lease holds, and lost
 * after, whatever a reaper has recorded yet.
 */
static void
qb_task_states(struct qb *q, const char *const *states)
{
	int lost = 0, i;

	for (i = 0; states[i] != NULL; i++)
		lost |= strcmp(states[i], "lost") == 0;
	qb_cond(q,
	    lost ? "t.rid IN (SELECT rid FROM tasks WHERE state IN ("
		 : "(t.state IN (");
	for (i = 0; states[i] != NULL; i++) {
		qb_add(q, i ? ", ?" : "?");
		qb_text(q, states[i]);
	}
	qb_add(q,
	    lost ? ") AND (ended IS NOT NULL OR NOT" LEASE_EXPIRED(
		       "", "?1") ") UNION ALL SELECT rid FROM tasks"
				 " WHERE ended IS NULL AND" LEASE_EXPIRED(
				     "", "?1") ")"
		 : ") AND (t.ended IS NOT NULL OR NOT" LEASE_EXPIRED(
		       "t.", "?1") "))");
}

/* The filters of runs and tasks: their run, identity, and liveness. */
static int
qb_rows(struct qb *q, const struct store_query *sq)
{
	static const char *const lost[] = {"lost", NULL};
	int t = sq->noun == STORE_TASKS;
	int64_t rid;

	if (sq->run != NULL) {
		if (run_rid(sq->run, &rid) == -1)
			return -1;
		qb_cond(q, t ? "t.run = ?" : "r.rid = ?");
		qb_num(q, rid);
	}
	if (sq->ident != NULL) {
		qb_cond(q, "t.ident = ?");
		qb_text(q, sq->ident);
	}
	if (sq->cmd != NULL) {
		qb_cond(q, "t.cmd = ?");
		qb_text(q, sq->cmd);
	}
	if (sq->alive)
		qb_cond(q,
		    t ? "t.ended IS NULL AND NOT" LEASE_EXPIRED("t.", "?1")
		      : "r.ended IS NULL AND NOT" LEASE_EXPIRED("r.", "?1"));
	if (sq->lost && t)
		qb_task_states(q, lost);
	else if (sq->lost)
		qb_cond(q,
		    "r.rid IN (SELECT rid FROM runs WHERE lost IS NOT NULL "
		    "UNION"
		    " ALL SELECT rid FROM runs WHERE ended IS NULL "
		    "AND" LEASE_EXPIRED("", "?1") ")");
	return 0;
}

/* The filter on states: "state IN (...)", or a task's own test. */
static void
qb_states(struct qb *q, const struct store_query *sq)
{
	const struct noun_def *d = &nouns[sq->noun];

	if (sq->states == NULL || sq->states[0] == NULL)
		return;
	if (sq->noun == STORE_TASKS) {
		qb_task_states(q, sq->states);
		return;
	}
	qb_cond(q, d->state);
	qb_add(q, " IN (");
	for (size_t i = 0; sq->states[i] != NULL; i++) {
		qb_add(q, i ? ", ?" : "?");
		qb_text(q, sq->states[i]);
	}
	qb_add(q, ")");
}

/*
 * The filter on one label, "key" or "key=value".  by_created says the
 * window is on creation time, which a label's jobs can be ranged on.
 */
static void
qb_label(struct qb *q, const struct store_query *sq, const char *label,
    int by_created)
{
	const struct noun_def *d = &nouns[sq->noun];
	const char *eq = strchr(label, '=');
	int k = (int)(eq ? (size_t)(eq - label) : strlen(label));

	if (sq->noun == STORE_RUNS) {
		/* A run's few labels live in its row. */
		qb_cond(q,
		    "EXISTS (SELECT 1 FROM json_each(r.labels) WHERE key = ?");
		qb_textn(q, label, k);
		if (eq) {
			qb_add(q, " AND value = ?");
			qb_text(q, eq + 1);
		}
		qb_add(q, ")");
		return;
	}
	qb_cond(q, d->labels);
	qb_add(q,
	    eq ? " IN (SELECT job FROM job_labels WHERE key = ?"
		 " AND value = ?"
	       : " IN (SELECT job FROM job_labels WHERE key = ?");
	qb_textn(q, label, k);
	if (eq)
		qb_text(q, eq + 1);
	/* A window on creation time is a range of the label's jobs. */
	if (by_created && sq->since != INT64_MIN) {
		qb_add(q, " AND job >= " FIRST_CREATED);
		qb_num(q, sq->since);
	}
	if (by_created && sq->until != INT64_MAX) {
		qb_add(q, " AND job < " FIRST_CREATED);
		qb_num(q, sq->until);
	}
	qb_add(q, ")");
}

/* The filter on an ID prefix: the range of IDs it names. */
static int
qb_id(struct qb *q, const struct store_query *sq)
{
	const struct noun_def *d = &nouns[sq->noun];
	const char *p = sq->id;
	int64_t lo, hi;

	if (sq->noun == STORE_RUNS && *p++ != 'r')
		return error_set(EX_USAGE,
		    "'%s' is not a run ID (they start with r)", sq->id);
	if (id_range(p, &lo, &hi) == -1)
		return p == sq->id ? -1 : error_wrap("run ID '%s'", sq->id);
	qb_cond(q, d->alias_id);
	qb_add(q, " >= ? AND ");
	qb_add(q, d->alias_id);
	qb_add(q, " < ?");
	qb_num(q, lo);
	qb_num(q, hi);
	return 0;
}

/* The time window: --since and --until on the column col. */
static void
qb_window(struct qb *q, const struct store_query *sq, const char *col)
{
	if (sq->time == NULL && qb_alive_window(q, sq))
		return;
	if (sq->since != INT64_MIN) {
		qb_cond(q, col);
		qb_add(q, " >= ?");
		qb_num(q, sq->since);
	}
	if (sq->until != INT64_MAX) {
		qb_cond(q, col);
		qb_add(q, " < ?");
		qb_num(q, sq->until);
	}
}

/* The default window of jobs and queues: active, or ended lately. */
static void
qb_recent(struct qb *q, const struct store_query *sq)
{
	if (sq->recent == 0 ||
	    (sq->noun != STORE_JOBS && sq->noun != STORE_QUEUES))
		return;
	/* Two index ranges: what has not ended, what ended since (or one
	 * of them: store_count() counts each apart); or, when those are
	 * many, the sort's index walked until the limit (qb_dense()). */
	if (q->recent_part == RECENT_ACTIVE)
		qb_cond(q, "j.state IN " ACTIVE_STATES);
	else if (q->recent_part == RECENT_ENDED)
		qb_cond(q, "j.ended >= ?");
	else if (q->dense)
		qb_cond(q, "(j.state IN " ACTIVE_STATES " OR j.ended >= ?)");
	else
		qb_cond(q,
		    "j.rid IN (SELECT rid FROM jobs WHERE state "
		    "IN " ACTIVE_STATES " UNION ALL SELECT rid FROM jobs"
		    " WHERE ended >= ?)");
	if (q->recent_part != RECENT_ACTIVE)
		qb_num(q, sq->recent);
}

/* The condition cond on the job id names, if any; cond binds its rid. */
static int
qb_job(struct qb *q, const char *id, const char *cond)
{
	int64_t rid;

	if (id == NULL)
		return 0;
	if (rid_of(id, &rid) == -1)
		return -1;
	qb_cond(q, cond);
	qb_num(q, rid);
	return 0;
}

/*
 * The WHERE clause shared by queries, counts and summaries, its
 * conditions in the order their binds are numbered (?1 is now).
 */
static int
qb_filters(struct qb *q, const struct store_query *sq, int64_t now)
{
	const struct noun_def *d = &nouns[sq->noun];
	const char *col =
	    pair_lookup(d->times, sq->time ? sq->time : "created");
	/* Creation times rise with IDs (store_created_now). */
	int by_created = strcmp(col, "j.created") == 0;

	if (sq->noun == STORE_RUNS || sq->noun == STORE_TASKS)
		qb_num(q, now); /* ?1 in RUN_STATE and TASK_STATE */
	qb_states(q, sq);
	if (sq->user != NULL) {
		qb_cond(q, d->owner);
		qb_add(q, " = ?");
		qb_text(q, sq->user);
	}
	if (sq->queue != NULL) {
		qb_cond(q, d->queue);
		qb_add(q, " = ?");
		qb_text(q, sq->queue);
	}
	for (size_t i = 0; sq->labels != NULL && sq->labels[i] != NULL; i++)
		qb_label(q, sq, sq->labels[i], by_created);
	if (sq->name != NULL) {
		qb_cond(q, d->name);
		qb_add(q, " GLOB ?");
		qb_text(q, sq->name);
	}
	if ((sq->id != NULL && qb_id(q, sq) == -1) ||
	    qb_job(q, sq->job, "j.rid = ?") == -1 || qb_rows(q, sq) == -1)
		return -1;
	qb_window(q, sq, col);
	qb_recent(q, sq);
	if (qb_job(q, sq->dependency_of,
		"j.rid IN (SELECT dep FROM job_deps WHERE job = ?)") == -1 ||
	    qb_job(q, sq->dependent_of,
		"j.rid IN (SELECT job FROM job_deps WHERE dep = ?)") == -1)
		return -1;
	return 0;
}

/* Bind q's values to s, a statement of q's text. */
static void
qb_bind(const struct qb *q, sqlite3_stmt *s)
{
	for (int i = 0; i < q->nb; i++) {
		if (q->b[i].is_text && q->b[i].text != NULL)
			sqlite3_bind_text(
			    s, i + 1, q->b[i].text, q->b[i].len, SQLITE_STATIC);
		else if (q->b[i].is_text)
			sqlite3_bind_null(s, i + 1);
		else
			sqlite3_bind_int64(s, i + 1, q->b[i].num);
	}
}

static int
qb_prepare(struct store *st, struct qb *q, sqlite3_stmt **s)
{
	if (q->full)
		return error_set(EX_USAGE, "too many filters");
	if (store_ready(st) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db, q->sql, -1, s, NULL) != SQLITE_OK)
		return store_fail(st, "cannot prepare query");
	qb_bind(q, *s);
	return 0;
}

static int
qb_select(struct qb *q, const struct store_query *sq)
{
	const struct noun_def *d = &nouns[sq->noun];
	const char *col;

	qb_add(q, d->select);
	if (qb_filters(q, sq, parse_now_ms()) == -1)
		return -1;
	if (sq->noun == STORE_QUEUES)
		qb_add(q, " GROUP BY j.queue");
	/*
	 * Rows come in the order of the time they are filtered on, unless
	 * told otherwise: the index that finds the window then also sorts it.
	 */
	col = pair_lookup(
	    d->sorts, sq->sort ? sq->sort : (sq->time ? sq->time : "created"));
	if (col == NULL)
		col = pair_lookup(d->sorts, "created");
	qb_add(q, " ORDER BY ");
	qb_add(q, col);
	qb_add(q, sq->reverse ? " DESC" : "");
	if (sq->noun != STORE_QUEUES) {
		qb_add(q, ", ");
		qb_add(q, d->alias_id);
		qb_add(q, sq->reverse ? " DESC" : "");
	}
	if (sq->limit > 0) {
		qb_add(q, " LIMIT ?");
		qb_num(q, sq->limit);
	}
	return 0;
}

/* Task row's run, embedded as "run_row" (Reflow's WithAlloc). */
static int
store_with_run(struct store *st, json_t *row)
{
	const char *run = json_string_value(json_object_get(row, "run"));
	sqlite3_stmt *s;
	int64_t rid;
	json_t *o;
	int rc;

	if (run == NULL || run_rid(run, &rid) == -1)
		return 0;
	if ((s = store_prep(st,
		 "SELECT 'r' || jk_id(r.rid) AS id, r.kind, r.mode, r.owner,"
		 " r.host, r.pid, " RUN_STATE " AS state, r.started,"
		 " r.keepalive, r.ended, r.lease, r.capacity, r.labels FROM"
		 " runs r WHERE r.rid = ?2",
		 "ii", parse_now_ms(), rid)) == NULL)
		return -1;
	rc = sqlite3_step(s);
	o = rc == SQLITE_ROW ? row_json(s) : NULL;
	store_unprep(st, s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot read run");
	if (o != NULL && spec_set(row, "run_row", o) == -1)
		return -1;
	return 0;
}

int
store_cmd_resolve(struct store *st, const char *prefix, char *full)
{
	char lo[80], hi[80], found[2][80];
	sqlite3_stmt *s;
	size_t n;
	int k = 0, rc;

	snprintf(lo, sizeof(lo), "%s%s",
	    strncmp(prefix, "sha256:", 7) == 0 ? "" : "sha256:", prefix);
	n = strlen(lo);
	if (n > 71 || strspn(lo + 7, "0123456789abcdef") != n - 7)
		return error_set(EX_USAGE,
		    "--cmd: '%s' is not the start of a sha256:<hex> digest",
		    prefix);
	/* The digests that start so sort before the prefix bumped by one
	 * (of "sha256:", before "sha256;"). */
	memcpy(hi, lo, n + 1);
	hi[n - 1]++;
	if ((s = store_prep(st,
		 "SELECT DISTINCT cmd FROM tasks WHERE cmd >= ? AND cmd < ?"
		 " LIMIT 2",
		 "tt", lo, hi)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < 2)
		snprintf(found[k++], sizeof(found[0]), "%s",
		    sqlite3_column_text(s, 0));
	store_unprep(st, s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(st, "cannot look for digests");
	if (k == 2)
		return error_set(EX_USAGE,
		    "--cmd: '%s' is ambiguous: %s, %s, ...", prefix, found[0],
		    found[1]);
	snprintf(full, 72, "%.71s", k == 1 ? found[0] : lo);
	return 0;
}

const char *
store_caller(const struct store *st)
{
	return st->owner;
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

/*
 * Whether the default window of jobs, listed up to a limit in order of
 * creation, is better found by walking the jobs in that order until the
 * limit than by gathering and sorting every active job: when the active
 * ones are so many (a sweep of 100,000 queued) that the walk meets the
 * limit soon -- active^2 > limit * jobs.  Counting stops at that bound.
 */
static int
qb_dense(struct store *st, const struct store_query *q)
{
	sqlite3_stmt *s;
	int64_t jobs = 0, active = 0, bound;

	if (q->recent == 0 || q->noun != STORE_JOBS || q->limit <= 0 ||
	    (q->sort != NULL && strcmp(q->sort, "created") != 0) ||
	    (q->time != NULL && strcmp(q->time, "created") != 0))
		return 0;
	if ((s = store_prep(st, "SELECT max(rid) FROM jobs", "")) == NULL)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		jobs = sqlite3_column_int64(s, 0);
	store_unprep(st, s);
	bound = (int64_t)sqrt((double)q->limit * (double)jobs) + 1;
	if ((s = store_prep(st,
		 "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE state "
		 "IN " ACTIVE_STATES " LIMIT ?)",
		 "i", bound)) == NULL)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		active = sqlite3_column_int64(s, 0);
	store_unprep(st, s);
	return active >= bound;
}

int
store_query(struct store *st, const struct store_query *q,
    int (*fn)(json_t *row, void *arg), void *arg)
{
	struct qb *b;
	sqlite3_stmt *s = NULL;
	json_t *row;
	int rc, r = -1;

	if (store_query_check(q) == -1)
		return -1;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return error_set(EX_OSERR, "out of memory");
	b->dense = qb_dense(st, q);
	if (qb_select(b, q) == -1 || qb_prepare(st, b, &s) == -1)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((row = row_json(s)) == NULL) {
			error_set(EX_OSERR, "out of memory");
			goto out;
		}
		if (q->with_run && store_with_run(st, row) == -1) {
			json_decref(row);
			goto out;
		}
		int stop = fn(row, arg);
		json_decref(row);
		if (stop != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot query");
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(s);
	free(b);
	return r;
}

/* The rows of q, of the default window's part (qb.recent_part), into *n. */
static int
count_part(struct store *st, const struct store_query *q, int part, int64_t *n)
{
	struct qb *b;
	sqlite3_stmt *s = NULL;
	int r = -1;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return error_set(EX_OSERR, "out of memory");
	b->recent_part = part;
	/* Count rows, not the output columns a query would compute. */
	qb_add(b, "SELECT count(*) FROM (");
	if (q->noun == STORE_QUEUES) {
		if (qb_select(b, q) == -1)
			goto out;
	} else {
		/* A run's state names ?1 (now) first, as its query does. */
		qb_add(b,
		    q->noun == STORE_RUNS	 ? "SELECT " RUN_STATE
			: q->noun == STORE_TASKS ? "SELECT " TASK_STATE
						 : "SELECT 1");
		qb_add(b, nouns[q->noun].from);
		if (qb_filters(b, q, parse_now_ms()) == -1)
			goto out;
		if (q->limit > 0) {
			qb_add(b, " LIMIT ?");
			qb_num(b, q->limit);
		}
	}
	qb_add(b, ")");
	if (qb_prepare(st, b, &s) == -1)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, "cannot count");
		goto out;
	}
	*n = sqlite3_column_int64(s, 0);
	r = 0;
out:
	sqlite3_finalize(s);
	free(b);
	return r;
}

int
store_count(struct store *st, const struct store_query *q, int64_t *n)
{
	int64_t ended;

	if (store_query_check(q) == -1)
		return -1;
	if (q->noun != STORE_JOBS || q->recent == 0)
		return count_part(st, q, 0, n);
	/*
	 * The default window's jobs are those not ended and those ended
	 * since: apart, each is counted on its index, not by looking up
	 * every row the two gather (100,000 active: 110 ms, not 5).
	 */
	if (count_part(st, q, RECENT_ACTIVE, n) == -1 ||
	    count_part(st, q, RECENT_ENDED, &ended) == -1)
		return -1;
	*n += ended;
	if (q->limit > 0 && *n > q->limit)
		*n = q->limit;
	return 0;
}

static int
summary_add(json_t *obj, const char *key, int64_t n)
{
	json_t *v = json_object_get(obj, key);

	return spec_set(
	    obj, key, json_integer(n + (v ? json_integer_value(v) : 0)));
}

json_t *
store_summary(struct store *st, const struct store_query *q)
{
	struct qb *b;
	sqlite3_stmt *s = NULL;
	json_t *out = NULL, *states, *queues, *qo;
	int64_t total = 0;
	int rc;

	if (store_query_check(q) == -1)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	qb_add(b, "SELECT count(*), ");
	qb_add(b, nouns[q->noun].state);
	qb_add(b, ", ");
	qb_add(b, nouns[q->noun].queue ? nouns[q->noun].queue : "NULL");
	qb_add(b, nouns[q->noun].from);
	out = json_pack("{s:i, s:{}, s:{}}", "total", 0, "states", "queues");
	if (out == NULL || qb_filters(b, q, parse_now_ms()) == -1)
		goto fail;
	qb_add(b, " GROUP BY 2, 3 ORDER BY 3, 2");
	if (qb_prepare(st, b, &s) == -1)
		goto fail;
	states = json_object_get(out, "states");
	queues = json_object_get(out, "queues");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(s, 0);
		const char *state = (const char *)sqlite3_column_text(s, 1);
		const char *queue = (const char *)sqlite3_column_text(s, 2);

		total += n;
		if (summary_add(states, state, n) == -1)
			goto fail;
		if (queue == NULL)
			continue;
		if ((qo = json_object_get(queues, queue)) == NULL &&
		    spec_set(queues, queue, qo = json_object()) == -1)
			goto fail;
		if (summary_add(qo, state, n) == -1)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot summarize");
		goto fail;
	}
	if (spec_set(out, "total", json_integer(total)) == -1)
		goto fail;
	if (q->noun == STORE_RUNS)
		json_object_del(out, "queues");
	sqlite3_finalize(s);
	free(b);
	return out;
fail:
	sqlite3_finalize(s);
	free(b);
	json_decref(out);
	return NULL;
}

/*
 * Execution.  These statements are prepared once per handle, cached by
 * the address of their SQL text (always a string literal here), and bound
 * from a little format: i an int64_t, t a string (NULL binds NULL), n a
 * NULL.
 */
static sqlite3_stmt *
store_prep(struct store *st, const char *sql, const char *fmt, ...)
{
	size_t i, n = sizeof(st->cache) / sizeof(st->cache[0]);
	sqlite3_stmt *s = NULL;
	va_list ap;
	int k;

	if (store_ready(st) == -1)
		return NULL;
	for (i = 0; i < n && st->cache[i].sql != NULL; i++)
		if (st->cache[i].sql == sql) {
			s = st->cache[i].stmt;
			break;
		}
	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, sql, -1,
			SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			store_fail(st, "cannot prepare statement");
			return NULL;
		}
		if (i < n) {
			st->cache[i].sql = sql;
			st->cache[i].stmt = s;
		}
	}
	va_start(ap, fmt);
	for (k = 1; *fmt != '\0'; fmt++, k++) {
		if (*fmt == 'i')
			sqlite3_bind_int64(s, k, va_arg(ap, int64_t));
		else if (*fmt == 't')
			bind_text(s, k, va_arg(ap, const char *));
		else
			sqlite3_bind_null(s, k);
	}
	va_end(ap);
	return s;
}

/* Finish with a statement from store_prep() (or store_next_due()'s kept
 * query): kept ones are reset for the next use, the others freed. */
static void
store_unprep(struct store *st, sqlite3_stmt *s)
{
	size_t i, n = sizeof(st->cache) / sizeof(st->cache[0]);

	for (i = 0; i < n && st->cache[i].stmt != s; i++)
		;
	if (i < n || (s != NULL && s == st->next)) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	} else
		sqlite3_finalize(s);
}

static int
store_step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, what);
		store_unprep(st, s);
		return -1;
	}
	store_unprep(st, s);
	return 0;
}

/* This machine's name, as its tasks and runs record it: a worker asks
 * once, not at every task. */
static const char *
store_host(struct store *st)
{
	if (st->host[0] == '\0' &&
	    gethostname(st->host, sizeof(st->host) - 1) == -1)
		st->host[0] = '\0';
	return st->host;
}

/* A task ID "a00k.2": its job's row and attempt. */
static int
task_of(const char *task, int64_t *job, int64_t *attempt)
{
	char buf[ID_LEN + 1];
	const char *dot = strchr(task, '.');
	int64_t hi;

	if (dot == NULL || (size_t)(dot - task) > ID_LEN ||
	    parse_int(dot + 1, 1, INT32_MAX, attempt) == -1)
		return error_set(EX_NOINPUT, "no such task '%s'", task);
	memcpy(buf, task, (size_t)(dot - task));
	buf[dot - task] = '\0';
	if (id_range(buf, job, &hi) == -1 || hi - *job != 1)
		return error_set(EX_NOINPUT, "no such task '%s'", task);
	return 0;
}

static void
task_name(int64_t job, int64_t attempt, char *buf, size_t len)
{
	char id[ID_LEN + 1];

	if (id_format(job, id) == -1)
		snprintf(id, sizeof(id), "?");
	snprintf(buf, len, "%s.%lld", id, (long long)attempt);
}

int
store_run_start(struct store *st, const struct run_new *rn, char *id)
{
	const char *host = store_host(st);
	char *cap = NULL, *labels = NULL;
	int64_t now = parse_now_ms();
	int r = -1;

	if ((rn->capacity &&
		(cap = json_dumps(rn->capacity, JSON_COMPACT)) == NULL) ||
	    (rn->labels &&
		(labels = json_dumps(rn->labels, JSON_COMPACT)) == NULL)) {
		error_set(EX_OSERR, "out of memory");
		goto out;
	}
	id[0] = 'r';
	if (store_begin(st) == -1)
		goto out;
	if (store_write(st, "cannot record run",
		"INSERT INTO runs (kind, mode, owner, uid, host, pid, lease,"
		" started, keepalive, labels, capacity) VALUES (?, ?, ?, ?, ?,"
		" ?, ?, ?, ?, ?, ?)",
		"tttitiiiitt", rn->kind, rn->mode, st->owner, (int64_t)st->uid,
		host, (int64_t)getpid(), rn->lease_ms, now, now, labels,
		cap) == -1 ||
	    id_format(sqlite3_last_insert_rowid(st->db), id + 1) == -1) {
		store_rollback(st);
		goto out;
	}
	r = store_commit(st);
out:
	free(cap);
	free(labels);
	return r;
}

/* The unfinished tasks of run rid into *out: {"alive": [...], "cancel":
 * [those whose job was asked to cancel]}. */
static int
store_run_tasks(struct store *st, int64_t rid, json_t **out)
{
	char name[ID_LEN + 24];
	json_t *alive, *cancel;
	sqlite3_stmt *s;
	int rc;

	if ((*out = json_pack("{s:[], s:[]}", "alive", "cancel")) == NULL)
		return error_set(EX_OSERR, "out of memory");
	alive = json_object_get(*out, "alive");
	cancel = json_object_get(*out, "cancel");
	if ((s = store_prep(st,
		 "SELECT t.job, t.attempt, j.cancel_requested FROM tasks t"
		 " JOIN jobs j ON j.rid = t.job WHERE t.run = ? AND"
		 " t.ended IS NULL",
		 "i", rid)) == NULL)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		task_name(sqlite3_column_int64(s, 0),
		    sqlite3_column_int64(s, 1), name, sizeof(name));
		if (json_array_append_new(alive, json_string(name)) == -1 ||
		    (sqlite3_column_int(s, 2) &&
			json_array_append_new(cancel, json_string(name)) ==
			    -1)) {
			error_set(EX_OSERR, "out of memory");
			break;
		}
	}
	store_unprep(st, s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		store_fail(st, "cannot read tasks");
fail:
	json_decref(*out);
	*out = NULL;
	return -1;
}

/* Why run rid was not renewed: 1 when a reaper found it lost, 2 when it
 * ended, -1 when it is no run, or another user's. */
static int
store_run_gone(struct store *st, const char *run, int64_t rid)
{
	sqlite3_stmt *s;
	int64_t uid;
	int rc, lost;

	if ((s = store_prep(st,
		 "SELECT uid, lost IS NOT NULL FROM runs WHERE rid = ?", "i",
		 rid)) == NULL)
		return -1;
	rc = sqlite3_step(s);
	uid = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	lost = rc == SQLITE_ROW && sqlite3_column_int(s, 1);
	store_unprep(st, s);
	if (rc == SQLITE_DONE)
		return error_set(EX_NOINPUT, "no such run '%s'", run);
	if (rc != SQLITE_ROW)
		return store_fail(st, "cannot read run");
	if (st->uid != 0 && (uid_t)uid != st->uid)
		return error_set(EX_NOPERM, "run '%s' is another user's", run);
	return lost ? 1 : 2;
}

int
store_run_keepalive(
    struct store *st, const char *run, int64_t lease_ms, json_t **tasks)
{
	int64_t rid, now;
	int r;

	if (tasks != NULL)
		*tasks = NULL;
	if (run_rid(run, &rid) == -1)
		return -1;
	store_lazy(st, 1);
	if (store_begin(st) == -1) {
		store_lazy(st, 0);
		return -1;
	}
	/* The time it is renewed, once the database let us write. */
	now = parse_now_ms();
	if (store_write(st, "cannot renew run",
		"UPDATE runs SET keepalive = ?1, lease = coalesce(nullif(?4, "
		"0),"
		" lease) WHERE rid = ?2 AND ended IS NULL AND (uid = ?3 OR"
		" ?3 = 0)",
		"iiii", now, rid, (int64_t)st->uid, lease_ms) == -1)
		goto fail;
	if (sqlite3_changes(st->db) == 0) {
		r = store_run_gone(st, run, rid);
		store_rollback(st);
		store_lazy(st, 0);
		return r;
	}
	if (store_write(st, "cannot renew tasks",
		"UPDATE tasks SET keepalive = ?1, lease = coalesce(nullif(?3,"
		" 0), lease) WHERE run = ?2 AND ended IS NULL",
		"iii", now, rid, lease_ms) == -1 ||
	    (tasks != NULL && store_run_tasks(st, rid, tasks) == -1))
		goto fail;
	r = store_commit(st);
	store_lazy(st, 0);
	if (r == -1 && tasks != NULL) {
		json_decref(*tasks);
		*tasks = NULL;
	}
	return r;
fail:
	store_rollback(st);
	store_lazy(st, 0);
	return -1;
}

/* The facts of a task the caller means to renew or end. */
static int
store_task_facts(struct store *st, const char *task, int64_t *job,
    int64_t *attempt, char *state, int *cancel)
{
	sqlite3_stmt *s;
	int64_t uid;
	int rc, ended;

	if (task_of(task, job, attempt) == -1)
		return -1;
	if ((s = store_prep(st,
		 "SELECT t.ended IS NOT NULL, t.state, j.uid,"
		 " j.cancel_requested FROM tasks t JOIN jobs j ON j.rid ="
		 " t.job WHERE t.job = ? AND t.attempt = ?",
		 "ii", *job, *attempt)) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		store_unprep(st, s);
		return rc == SQLITE_DONE
		    ? error_set(EX_NOINPUT, "no such task '%s'", task)
		    : store_fail(st, "cannot read task");
	}
	ended = sqlite3_column_int(s, 0);
	snprintf(state, 16, "%s", sqlite3_column_text(s, 1));
	uid = sqlite3_column_int64(s, 2);
	*cancel = sqlite3_column_int(s, 3);
	store_unprep(st, s);
	if (st->uid != 0 && (uid_t)uid != st->uid)
		return error_set(
		    EX_NOPERM, "task '%s' is another user's", task);
	return ended;
}

int
store_task_keepalive(struct store *st, const char *task, int64_t lease_ms,
    char *state, int *cancel)
{
	int64_t job, attempt;
	int r;

	store_lazy(st, 1);
	if (store_begin(st) == -1) {
		store_lazy(st, 0);
		return -1;
	}
	r = store_task_facts(st, task, &job, &attempt, state, cancel);
	if (r == 0 &&
	    store_write(st, "cannot renew task",
		"UPDATE tasks SET keepalive = ?, lease = coalesce(nullif(?, 0),"
		" lease) WHERE job = ? AND attempt = ?",
		"iiii", parse_now_ms(), lease_ms, job, attempt) == -1)
		r = -1;
	if (r == 0)
		r = store_commit(st);
	else
		store_rollback(st);
	store_lazy(st, 0);
	return r;
}

int
store_run_cancels(struct store *st, const char *run, json_t **cancel)
{
	char name[ID_LEN + 24];
	sqlite3_stmt *s;
	int64_t rid;
	int rc;

	if (run_rid(run, &rid) == -1)
		return -1;
	if ((*cancel = json_array()) == NULL)
		return error_set(EX_OSERR, "out of memory");
	if ((s = store_prep(st,
		 "SELECT t.job, t.attempt FROM tasks t JOIN jobs j ON"
		 " j.rid = t.job WHERE t.run = ? AND t.ended IS NULL"
		 " AND j.cancel_requested = 1",
		 "i", rid)) == NULL)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		task_name(sqlite3_column_int64(s, 0),
		    sqlite3_column_int64(s, 1), name, sizeof(name));
		if (spec_append(*cancel, json_string(name)) == -1) {
			store_unprep(st, s);
			goto fail;
		}
	}
	store_unprep(st, s);
	if (rc == SQLITE_DONE)
		return 0;
	store_fail(st, "cannot read tasks");
fail:
	json_decref(*cancel);
	*cancel = NULL;
	return -1;
}

int
store_lease_of(struct store *st, const char *id, int64_t *ms)
{
	int64_t rid, attempt;
	sqlite3_stmt *s;
	int rc;

	if (id[0] == 'r' ? run_rid(id, &rid) : task_of(id, &rid, &attempt))
		return -1;
	s = id[0] == 'r'
	    ? store_prep(st, "SELECT lease FROM runs WHERE rid = ?", "i", rid)
	    : store_prep(st,
		  "SELECT lease FROM tasks WHERE job = ? AND attempt = ?", "ii",
		  rid, attempt);
	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*ms = sqlite3_column_int64(s, 0);
	store_unprep(st, s);
	if (rc == SQLITE_DONE)
		return error_set(EX_NOINPUT, "no such %s '%s'",
		    id[0] == 'r' ? "run" : "task", id);
	return rc == SQLITE_ROW ? 0 : store_fail(st, "cannot read lease");
}

int
store_job_last(struct store *st, char *id)
{
	sqlite3_stmt *s;
	int rc;

	/* Shards are made after their parent: the newest job that is no
	 * shard is what the caller last submitted. */
	s = store_prep(st,
	    "SELECT rid FROM jobs WHERE uid = ? AND parent IS NULL"
	    " ORDER BY rid DESC LIMIT 1",
	    "i", (int64_t)st->uid);
	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    id_format(sqlite3_column_int64(s, 0), id) == -1)
		rc = SQLITE_ERROR;
	store_unprep(st, s);
	if (rc == SQLITE_DONE)
		return error_set(EX_NOINPUT, "no jobs of yours");
	return rc == SQLITE_ROW ? 0 : store_fail(st, "cannot read jobs");
}

int
store_changed(struct store *st, int *changed)
{
	sqlite3_stmt *s;
	int64_t v;
	int rc;

	/* sqlite's data_version moves when another connection commits. */
	if ((s = store_prep(st, "PRAGMA data_version", "")) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	store_unprep(st, s);
	if (rc != SQLITE_ROW)
		return store_fail(st, "cannot read the database's version");
	*changed = !st->seen_version || v != st->data_version;
	st->data_version = v;
	st->seen_version = 1;
	return 0;
}

int
store_queue_served(struct store *st, const char *queue, int *served)
{
	sqlite3_stmt *s;
	int rc;

	/* A worker records the queues it serves in its capacity ("queues",
	 * absent when it serves them all). */
	s = store_prep(st,
	    "SELECT 1 FROM runs WHERE ended IS NULL AND mode = 'worker'"
	    " AND NOT" LEASE_EXPIRED(
		"", "?1") "AND (uid = 0 OR uid = ?2)"
			  " AND (json_type(capacity, '$.queues') IS NOT "
			  "'array' OR EXISTS"
			  " (SELECT 1 FROM json_each(capacity, '$.queues') "
			  "WHERE value = ?3))"
			  " LIMIT 1",
	    "iit", parse_now_ms(), (int64_t)st->uid, queue);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	store_unprep(st, s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot read runs");
	*served = rc == SQLITE_ROW;
	return 0;
}

int
store_run_end(struct store *st, const char *run)
{
	int64_t rid, now = parse_now_ms();
	int r;

	if (run_rid(run, &rid) == -1)
		return -1;
	store_lazy(st, 1);
	r = store_write(st, "cannot end run",
	    "UPDATE runs SET ended = ?1, keepalive = ?1 WHERE rid = ?2 AND"
	    " ended IS NULL",
	    "ii", now, rid);
	store_lazy(st, 0);
	return r;
}

/* Start attempt n + 1 of job rid for run: the job runs, a task is made;
 * *task holds spec (stolen). */
static int
store_start_task(struct store *st, int64_t run, int64_t rid, json_t *spec,
    int64_t now, json_t **task)
{
	const char *host = store_host(st);
	char name[ID_LEN + 24], id[ID_LEN + 1], msg[400];
	char owner[64];
	int64_t attempt, lease = 60000, uid;
	sqlite3_stmt *s;

	if (id_format(rid, id) == -1) {
		json_decref(spec);
		return error_set(EX_DATAERR, "its number %lld is out of range",
		    (long long)rid);
	}
	if ((s = store_prep(st,
		 "SELECT j.attempts + 1, r.lease, j.uid, j.owner FROM jobs j,"
		 " runs r WHERE j.rid = ? AND r.rid = ?",
		 "ii", rid, run)) == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_unprep(st, s);
		json_decref(spec);
		return error_set(EX_NOINPUT, "no such run or job");
	}
	attempt = sqlite3_column_int64(s, 0);
	lease = sqlite3_column_int64(s, 1);
	uid = sqlite3_column_int64(s, 2);
	snprintf(owner, sizeof(owner), "%s", sqlite3_column_text(s, 3));
	store_unprep(st, s);
	task_name(rid, attempt, name, sizeof(name));
	snprintf(msg, sizeof(msg), "attempt %lld started on %s",
	    (long long)attempt, host);
	if (store_write(st, "cannot start job",
		"UPDATE jobs SET state = 'running', attempts = ?,"
		" started = coalesce(started, ?), updated = ?,"
		" reason = 'running' WHERE rid = ?",
		"iiii", attempt, now, now, rid) == -1 ||
	    store_write(st, "cannot record task",
		"INSERT INTO tasks (job, attempt, run, host, state, lease,"
		" started, keepalive, cmd, ident) SELECT ?1, ?2, ?3, ?4,"
		" 'running', ?5, ?6, ?7, NULL, name FROM jobs WHERE rid = ?1",
		"iiitiii", rid, attempt, run, host, lease, now, now) == -1 ||
	    store_event(st, rid, attempt, now, "started", STATE_RUNNING, msg) ==
		-1) {
		json_decref(spec);
		return -1;
	}
	if ((*task = json_pack("{s:s, s:s, s:I, s:I, s:s, s:o}", "id", name,
		 "job", id, "attempt", (json_int_t)attempt, "uid",
		 (json_int_t)uid, "owner", owner, "spec", spec)) == NULL)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

/* A limit of fit as a bound for SQL: unlimited is the largest integer. */
static int64_t
fit_bound(int64_t v)
{
	return v < 0 ? INT64_MAX : v;
}

/*
 * The WHERE clause of the queued jobs fit's queues hold that are due at
 * now, and that the caller may run: a root worker anyone's, another only
 * its own user's.  With unfit set, those of them it can never run instead:
 * another user's, or more than the whole of fit.
 */
/* " AND queue IN (...)" of fit's queues, none when it names none. */
static void
qb_queues(struct qb *b, const struct claim_fit *fit)
{
	int i;

	for (i = 0; fit && fit->queues && fit->queues[i] != NULL; i++) {
		qb_add(b, i ? ", ?" : " AND queue IN (?");
		qb_text(b, fit->queues[i]);
	}
	qb_add(b, i ? ")" : "");
}

/* Run the statement b built, which returns no rows, and free b. */
static int
qb_write(struct store *st, struct qb *b, const char *what)
{
	sqlite3_stmt *s;
	int rc;

	if (qb_prepare(st, b, &s) == -1) {
		free(b);
		return -1;
	}
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	free(b);
	return rc == SQLITE_DONE ? 0 : store_fail(st, what);
}

/* The due queued jobs of fit's queues that a worker with fit free could
 * not run: they ask for more, or are another's (a root one runs any). */
static void
qb_unfit(
    struct qb *b, struct store *st, const struct claim_fit *fit, int64_t now)
{
	qb_add(b,
	    " WHERE state = 'queued' AND (not_before IS NULL OR"
	    " not_before <= ?)");
	qb_num(b, now);
	qb_queues(b, fit);
	qb_add(b, " AND (gpu > ? OR cpu_milli > ? OR memory > ? OR disk > ?");
	qb_num(b, fit_bound(fit ? fit->gpu : -1));
	qb_num(b, fit_bound(fit ? fit->cpu_milli : -1));
	qb_num(b, fit_bound(fit ? fit->memory : -1));
	qb_num(b, fit_bound(fit ? fit->disk : -1));
	if (st->uid != 0) {
		qb_add(b, " OR uid != ?");
		qb_num(b, st->uid);
	}
	qb_add(b, ")");
}

/*
 * What a claim looks for: the due queued jobs (DUE_QUEUED) by their kind,
 * what a worker must offer them (KIND_COLS), on jobs_fit.  first_kind is
 * the first kind there; kind_after[i], the first whose first i columns are
 * ?1.. and whose next is past ?i+1: one seek each, where a row value
 * compared with ">" would step through the jobs of the kind it is past.
 * best_of_kind is the first of a kind in claim order (priority, then age:
 * rid rises with created) that may start.
 */
#define KIND_COLS "queue, gpu, cpu_milli, memory, disk, uid"
#define DUE_QUEUED " state = 'queued' AND wait_until IS NULL"
#define KIND_SELECT "SELECT " KIND_COLS " FROM jobs INDEXED BY jobs_fit WHERE"
#define KIND_ORDER " ORDER BY " KIND_COLS " LIMIT 1"
#define KIND_AFTER(eq, col) \
	KIND_SELECT DUE_QUEUED eq " AND " col " > ?" KIND_ORDER
static const char first_kind[] = KIND_SELECT DUE_QUEUED KIND_ORDER;
static const char *const kind_after[] = {
    KIND_AFTER("", "queue"),
    KIND_AFTER(" AND queue = ?", "gpu"),
    KIND_AFTER(" AND queue = ? AND gpu = ?", "cpu_milli"),
    KIND_AFTER(" AND queue = ? AND gpu = ? AND cpu_milli = ?", "memory"),
    KIND_AFTER(" AND queue = ? AND gpu = ? AND cpu_milli = ? AND"
	       " memory = ?",
	"disk"),
    KIND_AFTER(" AND queue = ? AND gpu = ? AND cpu_milli = ? AND"
	       " memory = ? AND disk = ?",
	"uid"),
};
static const char best_of_kind[] =
    "SELECT rid, priority FROM jobs INDEXED BY jobs_fit WHERE" DUE_QUEUED
    " AND queue = ?1 AND gpu = ?2 AND cpu_milli = ?3 AND memory = ?4 AND"
    " disk = ?5 AND uid = ?6 AND" SHARD_ROOM(
	"jobs.") "AND (selector IS"
		 " NULL OR jk_match(selector, ?7)) ORDER BY priority DESC, rid "
		 "LIMIT 1";

/* Whether a worker with fit free may run jobs of kind k (gpu, cpu_milli,
 * memory, disk, uid) of st's caller: root runs anyone's. */
static int
kind_fits(struct store *st, const struct claim_fit *fit, const int64_t *k)
{
	return k[0] <= fit_bound(fit ? fit->gpu : -1) &&
	    k[1] <= fit_bound(fit ? fit->cpu_milli : -1) &&
	    k[2] <= fit_bound(fit ? fit->memory : -1) &&
	    k[3] <= fit_bound(fit ? fit->disk : -1) &&
	    (st->uid == 0 || k[4] == (int64_t)st->uid);
}

/*
 * The best job of kind (queue, k) for fit, if it is better than *best
 * (priority *prio): then *best and *prio are it.
 */
static int
claim_kind(struct store *st, const struct claim_fit *fit, const char *queue,
    const int64_t *k, int64_t *best, int64_t *prio)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = store_prep(st, best_of_kind, "tiiiiit", queue, k[0], k[1],
		 k[2], k[3], k[4], fit && fit->labels ? fit->labels : "{}")) ==
	    NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW &&
	    (*best == 0 || sqlite3_column_int64(s, 1) > *prio ||
		(sqlite3_column_int64(s, 1) == *prio &&
		    sqlite3_column_int64(s, 0) < *best))) {
		*best = sqlite3_column_int64(s, 0);
		*prio = sqlite3_column_int64(s, 1);
	}
	store_unprep(st, s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE
	    ? 0
	    : store_fail(st, "cannot look for work");
}

/*
 * Into queue and k (gpu, cpu_milli, memory, disk, uid), the next kind: the
 * first of all with from -1, the first of queue with from 1 (k[0] -1), or
 * the one after them with from 5, not leaving queue with floor 1.  Returns
 * 1, 0 when there is none, -1 on error.
 */
static int
claim_next_kind(
    struct store *st, char *queue, size_t len, int64_t *k, int from, int floor)
{
	static const char *const fmt[] = {
	    "t", "ti", "tii", "tiii", "tiiii", "tiiiii"};
	sqlite3_stmt *s;
	int rc = SQLITE_DONE;

	if (from < 0)
		floor = from;
	for (int i = from; rc == SQLITE_DONE && i >= floor; i--) {
		/* Kind columns 0 .. i - 1 are queue, k[0] ..; past column i. */
		s = i < 0 ? store_prep(st, first_kind, "")
			  : store_prep(st, kind_after[i], fmt[i], queue, k[0],
				k[1], k[2], k[3], k[4]);
		if (s == NULL)
			return -1;
		if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			snprintf(queue, len, "%s",
			    (const char *)sqlite3_column_text(s, 0));
			for (int j = 0; j < 5; j++)
				k[j] = sqlite3_column_int64(s, j + 1);
		}
		store_unprep(st, s);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot look for work");
	return rc == SQLITE_ROW;
}

/*
 * The job a claim takes (*best, 0 for none): the first in claim order of
 * the due queued jobs of fit's queues (all, without) that fit fits.  Each
 * kind of such jobs costs a seek or few, and one more for its best job if
 * it fits, so a claim costs what the kinds do, not the jobs it cannot
 * take: a million that ask for a GPU the worker has not are one kind.
 * (Within a kind, jobs waiting for their shards' room or asking for labels
 * the worker has not are still passed one by one.)
 */
static int
claim_search(struct store *st, const struct claim_fit *fit, int64_t *best)
{
	static const char *const all[] = {NULL};
	const char *const *q =
	    fit && fit->queues && fit->queues[0] ? fit->queues : all;
	char queue[1024];
	int64_t k[5], prio = 0;
	int one = q != all, rc;

	*best = 0;
	do {
		snprintf(queue, sizeof(queue), "%s", one ? *q : "");
		k[0] = -1;
		for (rc = claim_next_kind(
			 st, queue, sizeof(queue), k, one ? 1 : -1, one);
		     rc == 1;
		     rc = claim_next_kind(st, queue, sizeof(queue), k, 5, one))
			if (kind_fits(st, fit, k) &&
			    claim_kind(st, fit, queue, k, best, &prio) == -1)
				return -1;
		if (rc == -1)
			return -1;
	} while (one && *++q != NULL);
	return 0;
}

/*
 * The jobs whose due time has passed join the due ones; the next note
 * looks at them (st->due).  Read, then changed only if there are any: an
 * UPDATE ... RETURNING keeps its rows in a table of its own, a page cache
 * made and freed at every claim of a worker.
 */
static int
store_due(struct store *st, int64_t now)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	s = store_prep(st,
	    "SELECT rid FROM jobs INDEXED BY jobs_wait"
	    " WHERE state = 'queued' AND wait_until <= ?",
	    "i", now);
	if (s == NULL)
		return -1;
	for (; (rc = sqlite3_step(s)) == SQLITE_ROW; n++)
		if (st->ndue < NOTE_DUE)
			st->due[st->ndue++] = sqlite3_column_int64(s, 0);
		else
			st->all_due = 1;
	if (rc != SQLITE_DONE)
		store_fail(st, "cannot look for work");
	store_unprep(st, s);
	if (rc != SQLITE_DONE)
		return -1;
	return n == 0 ? 0
		      : store_write(st, "cannot look for work",
			    "UPDATE jobs INDEXED BY jobs_wait SET wait_until ="
			    " NULL WHERE state = 'queued' AND wait_until <= ?",
			    "i", now);
}

int
store_claim(struct store *st, const char *run, const struct claim_fit *fit,
    json_t **task)
{
	int64_t runrid, now = parse_now_ms(), rid;
	char why[512];
	json_t *spec = NULL;
	int ok;

	*task = NULL;
	if (run_rid(run, &runrid) == -1)
		return -1;
	/* The jobs whose due time has passed join the due ones. */
	if (store_begin(st) == -1)
		goto out;
	if (store_due(st, now) == -1)
		goto fail;
	/*
	 * A job that may not run as its owner, or whose rows were changed so
	 * that it cannot start, fails; the next is looked at, so that the
	 * queue behind it goes on.
	 */
	for (;;) {
		if (claim_search(st, fit, &rid) == -1)
			goto fail;
		if (rid == 0)
			break;
		if ((ok = store_vouched_spec(
			 st, rid, &spec, why, sizeof(why))) == -1)
			goto fail;
		if (ok == 1 &&
		    store_start_task(st, runrid, rid, spec, now, task) == 0)
			break;
		if (ok == 1 && error_status() != EX_DATAERR)
			goto fail;
		if (ok == 1)
			snprintf(why, sizeof(why), "%s", error_msg());
		if (store_refuse(st, rid, why, now) == -1)
			goto fail;
	}
	if (store_commit(st) == -1)
		goto out;
	return rid != 0;
fail:
	store_rollback(st);
out:
	json_decref(*task);
	*task = NULL;
	return -1;
}

/*
 * Which jobs a note looks at: those whose rid is in (lo, hi], or with
 * lo < 0, those submitted, changed or found due since the last note (a
 * job's every change is an event, and a new job's rid is above any before
 * it).
 */
static void
qb_noted(struct qb *b, struct store *st, int64_t lo, int64_t hi)
{
	if (lo >= 0) {
		qb_add(b, " AND rid > ? AND rid <= ?");
		qb_num(b, lo);
		qb_num(b, hi);
		return;
	}
	qb_add(b,
	    " AND (rid > ? OR rid IN (SELECT job FROM events WHERE eid > ?)");
	qb_num(b, st->noted_rid);
	qb_num(b, st->noted_eid);
	for (int i = 0; i < st->ndue; i++) {
		qb_add(b, i ? ", ?" : " OR rid IN (?");
		qb_num(b, st->due[i]);
	}
	qb_add(b, st->ndue ? "))" : ")");
}

/* The due queued jobs of cap's queues whose selector cap's labels do not
 * meet say which requirement, where that changes. */
static int
note_unmatched(
    struct store *st, const struct claim_fit *cap, int64_t lo, int64_t hi)
{
	const char *labels = cap->labels ? cap->labels : "{}";
	struct qb *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return error_set(EX_OSERR, "out of memory");
	qb_add(b, "UPDATE jobs NOT INDEXED SET reason = jk_unmet(selector, ?)");
	qb_text(b, labels);
	qb_add(b,
	    " WHERE state = 'queued' AND selector IS NOT NULL AND"
	    " (not_before IS NULL OR not_before <= ?)");
	qb_num(b, parse_now_ms());
	qb_queues(b, cap);
	qb_noted(b, st, lo, hi);
	qb_add(b,
	    " AND jk_unmet(selector, ?) IS NOT NULL AND reason IS NOT"
	    " jk_unmet(selector, ?)");
	qb_text(b, labels);
	qb_text(b, labels);
	return qb_write(st, b, "cannot note why jobs wait");
}

/* The jobs of cap's queues that cap can never fit say what they ask. */
static int
note_wanting(
    struct store *st, const struct claim_fit *cap, int64_t lo, int64_t hi)
{
	struct qb *b;

	/* Root with no limits can run anything: nothing to look for. */
	if (st->uid == 0 && cap->cpu_milli < 0 && cap->memory < 0 &&
	    cap->disk < 0 && cap->gpu < 0)
		return 0;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return error_set(EX_OSERR, "out of memory");
		/* A root caller may run anyone's jobs. */
#define WAIT_REASON \
	"jk_wait(CASE WHEN ? AND uid != ? THEN owner END, cpu_milli," \
	" memory, disk, gpu)"
	qb_add(b, "UPDATE jobs NOT INDEXED SET reason = " WAIT_REASON);
	qb_num(b, st->uid != 0);
	qb_num(b, st->uid);
	qb_unfit(b, st, cap, parse_now_ms());
	qb_noted(b, st, lo, hi);
	/* Only rows whose reason changes are written. */
	qb_add(b, " AND reason IS NOT " WAIT_REASON);
	qb_num(b, st->uid != 0);
	qb_num(b, st->uid);
#undef WAIT_REASON
	return qb_write(st, b, "cannot note why jobs wait");
}

/* The last job's rid and the last event's, into rid and eid. */
static int
note_marks(struct store *st, int64_t *rid, int64_t *eid)
{
	sqlite3_stmt *s;

	s = store_prep(st,
	    "SELECT (SELECT max(rid) FROM jobs), (SELECT max(eid) FROM events)",
	    "");
	if (s == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_unprep(st, s);
		return store_fail(st, "cannot note why jobs wait");
	}
	*rid = sqlite3_column_int64(s, 0);
	*eid = sqlite3_column_int64(s, 1);
	store_unprep(st, s);
	return 0;
}

/*
 * How many jobs a look at all of them writes at once: it holds the write
 * lock for a few milliseconds a part, not the second a million jobs take.
 */
#define NOTE_PART 16384

/*
 * The next part of a look at every job: 1 while parts remain, 0 once the
 * last is done.  The jobs found due before it began are among those it
 * looks at; those submitted, changed or found due meanwhile are the next
 * note's.
 */
static int
note_all(struct store *st, const struct claim_fit *cap)
{
	int64_t lo;

	if (!st->sweeping) {
		if (note_marks(st, &st->sweep_rid, &st->sweep_eid) == -1)
			return -1;
		st->sweep_lo = 0;
		st->sweeping = 1;
		st->ndue = st->all_due = 0;
	}
	lo = st->sweep_lo;
	if (lo < st->sweep_rid &&
	    (note_unmatched(st, cap, lo, lo + NOTE_PART) == -1 ||
		note_wanting(st, cap, lo, lo + NOTE_PART) == -1))
		return -1;
	if ((st->sweep_lo = lo + NOTE_PART) < st->sweep_rid)
		return 1;
	st->noted_rid = st->sweep_rid;
	st->noted_eid = st->sweep_eid;
	st->noted = 1;
	st->sweeping = 0;
	return 0;
}

/* The jobs submitted or changed since the last note, in one transaction
 * that also reads where the next one begins. */
static int
note_since(struct store *st, const struct claim_fit *cap)
{
	int64_t rid, eid;

	if (store_begin(st) == -1)
		return -1;
	if (note_marks(st, &rid, &eid) == -1 ||
	    note_unmatched(st, cap, -1, 0) == -1 ||
	    note_wanting(st, cap, -1, 0) == -1) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st) == -1)
		return -1;
	st->noted_rid = rid;
	st->noted_eid = eid;
	st->ndue = 0;
	return 0;
}

/* The most queues and due jobs a note of what changed binds; with more,
 * every reason is written again (note_all()). */
#define NOTE_SINCE_MAX 32

int
store_note_unfit(struct store *st, const struct claim_fit *cap)
{
	int rc, n, q = 0;

	/* A note of what changed binds each queue and each job found due. */
	for (n = st->ndue; cap->queues != NULL && cap->queues[q] != NULL; q++)
		n++;
	/* Reasons are shown, not relied on: a crash may lose the last. */
	store_lazy(st, 1);
	if (!st->noted || st->sweeping || st->all_due || n > NOTE_SINCE_MAX)
		rc = note_all(st, cap);
	else
		rc = note_since(st, cap);
	store_lazy(st, 0);
	return rc;
}

int
store_next_due(struct store *st, const struct claim_fit *fit, int64_t *due)
{
	sqlite3_stmt *s;
	struct qb *b;
	int rc;

	*due = 0;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return error_set(EX_OSERR, "out of memory");
	qb_add(b,
	    "SELECT wait_until FROM jobs INDEXED BY jobs_wait WHERE"
	    " state = 'queued' AND wait_until > ?");
	qb_num(b, parse_now_ms());
	qb_queues(b, fit);
	qb_add(b, " ORDER BY wait_until LIMIT 1");
	if (st->next != NULL && !b->full && strcmp(st->next_sql, b->sql) == 0 &&
	    store_ready(st) == 0) {
		s = st->next;
		qb_bind(b, s);
	} else {
		sqlite3_finalize(st->next);
		free(st->next_sql);
		st->next = NULL;
		st->next_sql = NULL;
		if (qb_prepare(st, b, &s) == -1) {
			free(b);
			return -1;
		}
		/* Without memory for the text, it is prepared each time. */
		if ((st->next_sql = strdup(b->sql)) != NULL)
			st->next = s;
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*due = sqlite3_column_int64(s, 0);
	/* Before b goes: its queue names are bound without a copy. */
	store_unprep(st, s);
	free(b);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot look for due jobs");
	return 0;
}

/* A shard whose parent runs as many shards as it may at once waits, named
 * or not: EX_TEMPFAIL then. */
static int
shard_capped(struct store *st, int64_t rid, const char *job)
{
	sqlite3_stmt *s;
	int rc, capped = 0;

	if ((s = store_prep(st,
		 "SELECT NOT" SHARD_ROOM("j.") "FROM jobs j WHERE j.rid = ?",
		 "i", rid)) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		capped = sqlite3_column_int(s, 0);
	store_unprep(st, s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail(st, "cannot read job");
	if (capped)
		return error_set(EX_TEMPFAIL,
		    "job '%s' waits: its parent runs as many shards as it may",
		    job);
	return 0;
}

int
store_claim_job(
    struct store *st, const char *run, const char *job, json_t **task)
{
	int64_t runrid, now = parse_now_ms();
	struct job_head h;
	json_t *spec;
	char why[512];
	int ok;

	*task = NULL;
	if (run_rid(run, &runrid) == -1 || store_begin(st) == -1)
		return -1;
	if (store_head(st, job, &h) == -1)
		goto fail;
	/* Only root may run another user's job, as that user. */
	if (st->uid != 0 && (uid_t)h.uid != st->uid) {
		error_set(EX_NOPERM, "job '%s' belongs to '%s'", job, h.owner);
		goto fail;
	}
	if (store_act(st, LIFECYCLE_RUN, job, &h, now) == -1 ||
	    shard_capped(st, h.rid, job) == -1)
		goto fail;
	if ((ok = store_vouched_spec(st, h.rid, &spec, why, sizeof(why))) == -1)
		goto fail;
	if (ok == 0) {
		/* It fails for good, whatever the caller does next. */
		if (store_refuse(st, h.rid, why, now) == -1 ||
		    store_commit(st) == -1)
			return -1;
		return error_set(EX_NOPERM, "job '%s' refused: %s", job, why);
	}
	if (store_start_task(st, runrid, h.rid, spec, now, task) == -1)
		goto fail;
	if (store_commit(st) == 0)
		return 0;
	json_decref(*task);
	*task = NULL;
	return -1;
fail:
	store_rollback(st);
	return -1;
}

int
store_task_pid(struct store *st, const char *task, int64_t pid,
    const char *devices, const char *cmd)
{
	int64_t job, attempt;
	int r;

	if (task_of(task, &job, &attempt) == -1)
		return -1;
	store_lazy(st, 1);
	r = store_write(st, "cannot record pid",
	    "UPDATE tasks SET pid = ?, devices = ?, cmd = coalesce(?, cmd)"
	    " WHERE job = ? AND attempt = ?",
	    "ittii", pid, devices, cmd, job, attempt);
	store_lazy(st, 0);
	return r;
}

/* How many of the job's attempts were lost, into *n. */
static int
store_count_lost(struct store *st, int64_t rid, int64_t *n)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = store_prep(st,
		 "SELECT count(*) FROM tasks WHERE job = ? AND state = 'lost'",
		 "i", rid)) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	store_unprep(st, s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, "cannot read tasks");
}

/* The exit statuses spec retries on, into a->retry_on (malloc'd, NULL
 * when it names none). */
static int
spec_retry_on(json_t *spec, struct lifecycle_attempt *a)
{
	static const int64_t none[1];
	json_t *on = json_object_get(spec, "retry_on"), *v;
	int64_t *codes;
	size_t i;

	if (on == NULL)
		return 0;
	a->nretry_on = json_array_size(on);
	if (a->nretry_on == 0) {
		a->retry_on = none;
		return 0;
	}
	if ((codes = calloc(a->nretry_on, sizeof(*codes))) == NULL)
		return error_set(EX_OSERR, "out of memory");
	json_array_foreach(on, i, v) codes[i] = json_integer_value(v);
	a->retry_on = codes;
	return 0;
}

/* The facts of job rid that deciding its ended attempt a looks at, into
 * a; a->retry_on is the caller's to free unless it is empty. */
static int
store_facts(struct store *st, int64_t rid, struct lifecycle_attempt *a)
{
	sqlite3_stmt *s;
	json_t *spec;
	int rc;

	if ((s = store_prep(st,
		 "SELECT attempts, max_attempts, cancel_requested, spec FROM"
		 " jobs WHERE rid = ?",
		 "i", rid)) == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_unprep(st, s);
		return error_set(EX_NOINPUT, "job of task is gone");
	}
	a->attempts = sqlite3_column_int64(s, 0);
	a->max_attempts = sqlite3_column_int64(s, 1);
	a->cancel = sqlite3_column_int64(s, 2) != 0;
	spec = json_loads((const char *)sqlite3_column_text(s, 3), 0, NULL);
	store_unprep(st, s);
	if (spec == NULL)
		return error_set(EX_OSERR, "out of memory");
	a->retries = json_integer_value(json_object_get(spec, "retries"));
	rc = spec_retry_on(spec, a);
	json_decref(spec);
	if (rc == 0 && strcmp(a->state, "lost") == 0 &&
	    store_count_lost(st, rid, &a->lost) == -1)
		rc = -1;
	return rc;
}

/*
 * Decide the job of an ended task (lifecycle_attempt_end()); the task row
 * is already updated.
 */
static int
store_decide(struct store *st, int64_t rid, int64_t attempt,
    const struct task_result *r, int64_t now)
{
	struct lifecycle_attempt a = {.attempt = attempt,
	    .state = r->state,
	    .exit_code = r->exit_code,
	    .signal = r->signal,
	    .error = r->error,
	    .requeue = r->requeue,
	    .no_retry = r->no_retry,
	    .foreground = r->foreground};
	struct lifecycle_move m;
	int rc;

	rc = store_facts(st, rid, &a);
	if (rc == 0)
		lifecycle_attempt_end(&a, &m);
	if (a.nretry_on > 0)
		free((int64_t *)a.retry_on);
	if (rc == -1 || store_apply(st, rid, attempt, &m, now) == -1)
		return -1;
	return store_follow(st, rid, m.settle, now);
}

/* Record an ended task (in an open transaction). */
static int
store_end_task(struct store *st, int64_t job, int64_t attempt,
    const struct task_result *r, int64_t now)
{
	char *usage = NULL, *staged = NULL;
	int rc;

	if ((r->usage &&
		(usage = json_dumps(r->usage,
		     JSON_COMPACT | JSON_REAL_PRECISION(10))) == NULL) ||
	    (r->staged &&
		(staged = json_dumps(r->staged, JSON_COMPACT)) == NULL)) {
		free(usage);
		return error_set(EX_OSERR, "out of memory");
	}
	rc = store_write(st, "cannot record result",
	    "UPDATE tasks SET state = ?, ended = ?, keepalive = ?,"
	    " exit_code = nullif(?, -1), signal = nullif(?, 0), error = ?,"
	    " stdout = ?, stderr = ?,"
	    " stdout_truncated = ?, stderr_truncated = ?, usage = ?,"
	    " enforcement = ?, results = ?, staged = ?,"
	    " pid = coalesce(nullif(?, 0), pid),"
	    " devices = coalesce(?, devices), cmd = coalesce(?, cmd)"
	    " WHERE job = ? AND attempt = ?",
	    "tiiiitttiittttittii", r->state, now, now, (int64_t)r->exit_code,
	    (int64_t)r->signal, r->error, r->out, r->err,
	    (int64_t)r->out_truncated, (int64_t)r->err_truncated, usage,
	    r->enforcement, r->results, staged, r->pid, r->devices, r->cmd, job,
	    attempt);
	free(usage);
	free(staged);
	return rc;
}

int
store_task_finish(struct store *st, const char *task,
    const struct task_result *r, json_t **job)
{
	int64_t rid, attempt, now = parse_now_ms();
	sqlite3_stmt *s;
	int rc, ended;

	if (job != NULL)
		*job = NULL;
	if (task_of(task, &rid, &attempt) == -1 || store_begin(st) == -1)
		return -1;
	if ((s = store_prep(st,
		 "SELECT ended IS NOT NULL FROM tasks WHERE job = ? AND"
		 " attempt = ?",
		 "ii", rid, attempt)) == NULL)
		goto fail;
	rc = sqlite3_step(s);
	ended = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	store_unprep(st, s);
	if (rc != SQLITE_ROW) {
		error_set(EX_NOINPUT, "no such task '%s'", task);
		goto fail;
	}
	if (ended) {
		error_set(EX_DATAERR, "task '%s' had already ended", task);
		goto fail;
	}
	if (store_end_task(st, rid, attempt, r, now) == -1 ||
	    store_decide(st, rid, attempt, r, now) == -1 ||
	    (job != NULL && (*job = store_brief(st, rid)) == NULL))
		goto fail;
	if (store_commit(st) == 0)
		return 0;
fail:
	if (job != NULL) {
		json_decref(*job);
		*job = NULL;
	}
	store_rollback(st);
	return -1;
}

/* Why the attempt of a task found lost ended, into r (why holds it). */
static int
store_lost_why(struct store *st, int64_t job, int64_t attempt, int64_t now,
    struct task_result *r, char *why, size_t len)
{
	sqlite3_stmt *s;
	int64_t quiet;

	if ((s = store_prep(st,
		 "SELECT t.keepalive, r.mode, r.pid, r.host FROM tasks t LEFT"
		 " JOIN runs r ON r.rid = t.run WHERE t.job = ? AND"
		 " t.attempt = ?",
		 "ii", job, attempt)) == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_unprep(st, s);
		return store_fail(st, "cannot read task");
	}
	quiet = (now - sqlite3_column_int64(s, 0)) / 1000;
	r->foreground = sqlite3_column_type(s, 1) == SQLITE_TEXT &&
	    strcmp((const char *)sqlite3_column_text(s, 1), "foreground") == 0;
	if (r->foreground)
		snprintf(why, len,
		    "exec-run died (pid %lld on %s, no keepalive for %llds)",
		    (long long)sqlite3_column_int64(s, 2),
		    (const char *)sqlite3_column_text(s, 3), (long long)quiet);
	else
		snprintf(why, len, "lease expired: no keepalive for %llds",
		    (long long)quiet);
	store_unprep(st, s);
	r->error = why;
	return 0;
}

/* One task found lost: recorded, its job decided, its change in out. */
static int
store_reap_task(struct store *st, sqlite3_stmt *row, int64_t now, json_t *out)
{
	struct task_result r = {.state = "lost", .exit_code = -1};
	int64_t job = sqlite3_column_int64(row, 0);
	int64_t attempt = sqlite3_column_int64(row, 1);
	char why[400], name[ID_LEN + 24], id[ID_LEN + 1];
	json_t *o, *brief;

	task_name(job, attempt, name, sizeof(name));
	if (id_format(job, id) == -1 ||
	    store_lost_why(st, job, attempt, now, &r, why, sizeof(why)) == -1 ||
	    store_end_task(st, job, attempt, &r, now) == -1 ||
	    store_decide(st, job, attempt, &r, now) == -1 ||
	    (brief = store_brief(st, job)) == NULL)
		return -1;
	o = json_pack("{s:s, s:s, s:s, s:s, s:O?, s:s?, s:I, s:s}", "id", name,
	    "kind", "task", "job", id, "state", "lost", "job_state",
	    json_object_get(brief, "state"), "host",
	    (const char *)sqlite3_column_text(row, 2), "pid",
	    (json_int_t)sqlite3_column_int64(row, 3), "error", why);
	json_decref(brief);
	if (o == NULL || json_array_append_new(out, o) == -1)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

/* The runs whose lease expired, marked lost, into out. */
static int
store_reap_runs(struct store *st, int64_t now, json_t *out)
{
	char id[STORE_RUN_ID_LEN + 1] = "r";
	sqlite3_stmt *s;
	json_t *o;
	int rc;

	if ((s = store_prep(st,
		 "SELECT rid, host, pid, keepalive FROM runs WHERE ended IS"
		 " NULL AND" LEASE_EXPIRED("", "?"),
		 "i", now)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (id_format(sqlite3_column_int64(s, 0), id + 1) == -1)
			continue;
		o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "id", id,
		    "kind", "run", "state", "lost", "host",
		    (const char *)sqlite3_column_text(s, 1), "pid",
		    (json_int_t)sqlite3_column_int64(s, 2), "quiet_s",
		    (json_int_t)((now - sqlite3_column_int64(s, 3)) / 1000));
		if (o == NULL || json_array_append_new(out, o) == -1) {
			store_unprep(st, s);
			return error_set(EX_OSERR, "out of memory");
		}
	}
	store_unprep(st, s);
	if (rc != SQLITE_DONE)
		return store_fail(st, "cannot look for lost runs");
	return store_write(st, "cannot mark runs lost",
	    "UPDATE runs SET lost = ?1, ended = ?1 WHERE ended IS NULL"
	    " AND" LEASE_EXPIRED("", "?1"),
	    "i", now);
}

int
store_reap(struct store *st, json_t **changes)
{
	int64_t now = parse_now_ms();
	struct ridlist jobs = {0}, attempts = {0};
	sqlite3_stmt *s;
	json_t *out;
	size_t i;
	int rc;

	*changes = NULL;
	if ((out = json_array()) == NULL)
		return error_set(EX_OSERR, "out of memory");
	if (store_begin(st) == -1) {
		json_decref(out);
		return -1;
	}
	/* Ordered, so that reapers that run at once take the same first. */
	if ((s = store_prep(st,
		 "SELECT job, attempt, host, pid FROM tasks WHERE ended IS NULL"
		 " AND" LEASE_EXPIRED("", "?") "ORDER BY job, attempt",
		 "i", now)) == NULL)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (ridlist_push(&jobs, sqlite3_column_int64(s, 0)) == -1 ||
		    ridlist_push(&attempts, sqlite3_column_int64(s, 1)) == -1)
			break;
	store_unprep(st, s);
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_ROW)
			store_fail(st, "cannot look for lost tasks");
		goto fail;
	}
	for (i = 0; i < jobs.n; i++) {
		if ((s = store_prep(st,
			 "SELECT job, attempt, host, pid FROM tasks WHERE job"
			 " = ? AND attempt = ?",
			 "ii", jobs.v[i], attempts.v[i])) == NULL)
			goto fail;
		rc = sqlite3_step(s) == SQLITE_ROW
		    ? store_reap_task(st, s, now, out)
		    : store_fail(st, "cannot read task");
		store_unprep(st, s);
		if (rc == -1)
			goto fail;
	}
	if (store_reap_runs(st, now, out) == -1)
		goto fail;
	if (store_commit(st) == -1)
		goto fail_committed;
	free(jobs.v);
	free(attempts.v);
	*changes = out;
	return 0;
fail:
	store_rollback(st);
fail_committed:
	free(jobs.v);
	free(attempts.v);
	json_decref(out);
	return -1;
}

int
store_job_state(struct store *st, const char *job, char *state)
{
	struct job_head h;

	if (store_head(st, job, &h) == -1)
		return -1;
	memcpy(state, h.state, sizeof(h.state));
	return 0;
}

int
store_terminal(const char *state)
{
	return lifecycle_terminal(state);
}

int
store_context_put(
    struct store *st, const char *sha, const void *data, size_t len)
{
	sqlite3_stmt *s = store_prep(st,
	    "INSERT OR IGNORE INTO contexts (sha256, data) VALUES (?, ?)", "t",
	    sha);

	if (s == NULL)
		return -1;
	sqlite3_bind_blob64(s, 2, data, len, SQLITE_STATIC);
	return store_step_done(st, s, "cannot store the context");
}

int
store_context_get(struct store *st, const char *sha, int fd)
{
	sqlite3_stmt *s = store_prep(
	    st, "SELECT data FROM contexts WHERE sha256 = ?", "t", sha);
	const char *p;
	size_t n, done = 0;
	int rc;

	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			error_set(
			    EX_NOINPUT, "no context '%s' in the database", sha);
		else
			store_fail(st, "cannot read the context");
		store_unprep(st, s);
		return -1;
	}
	p = sqlite3_column_blob(s, 0);
	n = (size_t)sqlite3_column_bytes(s, 0);
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			error_set(EX_IOERR, "cannot copy the context: %s",
			    strerror(errno));
			store_unprep(st, s);
			return -1;
		}
		done += (size_t)w;
	}
	store_unprep(st, s);
	return 0;
}

int
store_job_note(
    struct store *st, const char *id, const char *type, const char *message)
{
	char full[ID_LEN + 1];
	struct job_head h;

	if (store_begin(st) == -1)
		return -1;
	if (store_job_resolve(st, id, full) == -1 ||
	    store_head(st, full, &h) == -1 ||
	    store_event(st, h.rid, 0, parse_now_ms(), type, h.state, message) ==
		-1 ||
	    store_commit(st) == -1) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

json_t *
store_job_shards(struct store *st, const char *id)
{
	struct ridlist l = {0};
	char sid[ID_LEN + 1];
	json_t *out = NULL;
	int64_t rid;

	/* Those that have not ended: the ones a cancel takes along. */
	if (rid_of(id, &rid) == -1 ||
	    store_shards(st, rid, LIFECYCLE_SHARDS_CANCEL, &l) == -1)
		goto done;
	if ((out = json_array()) == NULL) {
		error_set(EX_OSERR, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < l.n; i++)
		if (id_format(l.v[i], sid) == 0 &&
		    spec_append(out, json_string(sid)) == -1) {
			json_decref(out);
			out = NULL;
			break;
		}
done:
	free(l.v);
	return out;
}

/*
 * Counting steps.  sqlite calls store_profiled() once for each run of a
 * statement, when it finishes or is reset, finalized ones included (the
 * claim's query is put together and finalized on each call); reading its
 * counter with the reset flag set counts each step once.
 */
static int
store_profiled(unsigned type, void *arg, void *stmt, void *ns)
{
	struct store *st = arg;

	st->steps += sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_VM_STEP, 1);
	st->runs++;
	return 0;
}

int64_t
store_steps(struct store *st)
{
	sqlite3_stmt *s = NULL;

	if (st->counting)
		return st->steps;
	/* What the statements cached so far did before we were asked is not
	 * counted. */
	while ((s = sqlite3_next_stmt(st->db, s)) != NULL)
		sqlite3_stmt_status(s, SQLITE_STMTSTATUS_VM_STEP, 1);
	if (sqlite3_trace_v2(
		st->db, SQLITE_TRACE_PROFILE, store_profiled, st) != SQLITE_OK)
		return store_fail(st, "cannot count steps");
	st->counting = 1;
	st->steps = st->runs = 0;
	return 0;
}

int64_t
store_runs(const struct store *st)
{
	return st->counting ? st->runs : -1;
}
