/*
 * Unit test of walvfs's gathering of WAL frames (walvfs.h): a commit's
 * frames reach the file in a write or two instead of two a frame, and no
 * other connection ever reads the WAL other than as the frames' order
 * left it -- a commit without a sync (synchronous=NORMAL) is there for
 * the next reader at once, frames of a transaction rolled back do not land
 * on another writer's afterwards, and frames spilled and rewritten within
 * one transaction recover with their checksums whole.  The writes are
 * counted through the unix VFS's own hook for its system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "walvfs.h"

/* The rows 1..N, as generate_series(), which not every sqlite has. */
#define SERIES(n) \
	"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s" \
	" WHERE i < " #n ") SELECT i FROM s)"

static char dir[4096];
static long writes; /* pwrite calls through the unix VFS */
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);

static ssize_t
count_pwrite(int fd, const void *p, size_t n, off_t off)
{
	writes++;
	return real_pwrite(fd, p, n, off);
}

static int
frames_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	*(int *)arg = frames;
	return SQLITE_OK;
}

static sqlite3 *
open_db(const char *name, const char *vfs)
{
	char path[4200];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sqlite3_open_v2(path, &db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) != SQLITE_OK ||
	    sqlite3_exec(db,
		"PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
		" CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB)",
		NULL, NULL, NULL) != SQLITE_OK) {
		printf("# open %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	/* The frames stay in the WAL for the other connections to read. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	return db;
}

static int
run(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		printf("# %s: %s\n", sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

/* The first column of sql's first row as text, or the error. */
static const char *
first_row(sqlite3 *db, const char *sql, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		snprintf(out, size, "error: %s", sqlite3_errmsg(db));
	else
		snprintf(out, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

/* "rows bytes" of t, or the error, as another connection reads them. */
static const char *
contents(sqlite3 *db, char *out, size_t size)
{
	return first_row(db,
	    "SELECT count(*) || ' ' || CAST(total(length(v)) AS INTEGER)"
	    " FROM t",
	    out, size);
}

static const char *
integrity(sqlite3 *db, char *out, size_t size)
{
	return first_row(db, "PRAGMA integrity_check", out, size);
}

static int
copy_file(const char *from, const char *to)
{
	char a[4200], b[4200], buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	if ((in = open(a, O_RDONLY)) == -1)
		return -1;
	if ((out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (n < 0)
		rc = -1;
	close(in);
	close(out);
	return rc;
}

/*
 * A reader that comes in the instant after a commit is published in the
 * WAL index and before the writer lets go of the WAL (the first call of
 * the writer's into its VFS after the publishing is that letting go):
 * what the test puts in place of the writer's database's xShmLock.
 */
static const sqlite3_io_methods *probe_base;
static sqlite3_io_methods probe_methods;
static sqlite3 *probe_db;
static char probe_got[256];

static int
probe_shm_lock(sqlite3_file *f, int ofst, int n, int flags)
{
	if (probe_db != NULL && ofst == 0 &&
	    flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE)) {
		contents(probe_db, probe_got, sizeof(probe_got));
		probe_db = NULL;
	}
	return probe_base->xShmLock(f, ofst, n, flags);
}

/* A commit of many frames, with and without a sync. */
static void
test_gathered(const char *vfs)
{
	sqlite3 *a = open_db("g.db", vfs), *b = open_db("g.db", NULL);
	sqlite3_file *file = NULL;
	int frames = 0;

	if (a == NULL || b == NULL) {
		ok(0, "open g.db");
		sqlite3_close(a);
		sqlite3_close(b);
		return;
	}
	sqlite3_wal_hook(a, frames_hook, &frames);
	run(a,
	    "BEGIN; INSERT INTO t (v) SELECT randomblob(1000) FROM " SERIES(
		40));
	writes = 0;
	run(a, "COMMIT");
	ok(frames >= 10 && writes <= 2,
	    "a commit of %d frames, synced, takes %ld writes", frames, writes);
	/* Without a sync, the commit is in the file before the writer lets
	 * go of the WAL: a reader may come in before that. */
	sqlite3_file_control(a, "main", SQLITE_FCNTL_FILE_POINTER, &file);
	probe_base = file->pMethods;
	probe_methods = *probe_base;
	probe_methods.xShmLock = probe_shm_lock;
	file->pMethods = &probe_methods;
	run(a,
	    "PRAGMA synchronous = NORMAL; BEGIN; INSERT INTO t (v) SELECT"
	    " randomblob(1000) FROM " SERIES(40));
	writes = 0;
	probe_db = b;
	run(a, "COMMIT");
	ok(writes <= 2, "a commit without a sync takes %ld writes", writes);
	is_str(probe_got, "80 80000",
	    "a reader between its publishing and the writer letting go sees "
	    "it");
	file->pMethods = probe_base;
	sqlite3_close(b);
	sqlite3_close(a);
}

/*
 * A transaction too big for its cache spills frames into the WAL before
 * its end and is rolled back; another connection writes over them.  What
 * the first held back must not land on the second's frames later.
 */
static void
test_rolled_back(const char *vfs)
{
	sqlite3 *a = open_db("r.db", vfs), *b = open_db("r.db", NULL);
	char got[256];

	if (a == NULL || b == NULL) {
		ok(0, "open r.db");
		sqlite3_close(a);
		sqlite3_close(b);
		return;
	}
	/* From an empty WAL, so that the rollback reads nothing back from
	 * it: what the WAL holds then goes at the letting go, or never. */
	run(a,
	    "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA cache_size = 5;"
	    " BEGIN; INSERT INTO t (v) SELECT randomblob(1000) FROM " SERIES(
		300) "; ROLLBACK");
	/* More frames than the first spilled, so that they cover them. */
	run(b, "INSERT INTO t (v) SELECT zeroblob(900) FROM " SERIES(400));
	is_str(contents(a, got, sizeof(got)), "400 360000",
	    "the writer whose transaction rolled back reads the other's rows");
	sqlite3_close(a);
	is_str(contents(b, got, sizeof(got)), "400 360000",
	    "so does the other, once the first has closed");
	is_str(
	    integrity(b, got, sizeof(got)), "ok", "and the database is whole");
	sqlite3_close(b);
}

/*
 * Frames spilled and then written again in the same transaction (sqlite
 * rewrites them in place and mends the checksums after them): a copy of
 * the database and its WAL, opened afresh, recovers every frame, which
 * it does only if each frame's checksum chain is whole.
 */
static void
test_rewritten(const char *vfs)
{
	sqlite3 *a = open_db("w.db", vfs), *c = NULL;
	char got[256];

	if (a == NULL) {
		ok(0, "open w.db");
		return;
	}
	/* Spilled frames read back while the transaction goes on. */
	run(a,
	    "PRAGMA cache_size = 5; BEGIN; INSERT INTO t (v) SELECT"
	    " randomblob(1000) FROM " SERIES(200));
	is_str(contents(a, got, sizeof(got)), "200 200000",
	    "a transaction reads back the frames it spilled");
	run(a,
	    "UPDATE t SET v = randomblob(700);"
	    " UPDATE t SET v = randomblob(900) WHERE k % 2 = 0; COMMIT");
	if (copy_file("w.db", "c.db") == -1 ||
	    copy_file("w.db-wal", "c.db-wal") == -1)
		printf("# copy: %s\n", strerror(errno));
	c = open_db("c.db", NULL);
	is_str(contents(c, got, sizeof(got)), "200 160000",
	    "a copy recovers every frame of a transaction that rewrote its "
	    "own");
	is_str(integrity(c, got, sizeof(got)), "ok", "and the copy is whole");
	sqlite3_close(c);
	sqlite3_close(a);
}

static void
remove_all(void)
{
	static const char *names[] = {"g.db", "r.db", "w.db", "c.db"};
	static const char *tails[] = {"", "-wal", "-shm"};
	char path[4300];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (size_t j = 0; j < sizeof(tails) / sizeof(tails[0]); j++) {
			snprintf(path, sizeof(path), "%s/%s%s", dir, names[i],
			    tails[j]);
			unlink(path);
		}
}

int
main(void)
{
	sqlite3_vfs *unix_vfs;
	const char *vfs = walvfs_name();

	if (tap_tmpdir(dir, sizeof(dir), "walvfs") == NULL)
		return 1;
	ok(vfs != NULL, "walvfs registers");
	unix_vfs = sqlite3_vfs_find(NULL);
	real_pwrite = (ssize_t(*)(int, const void *, size_t,
	    off_t))unix_vfs->xGetSystemCall(unix_vfs, "pwrite64");
	if (real_pwrite != NULL)
		unix_vfs->xSetSystemCall(
		    unix_vfs, "pwrite64", (sqlite3_syscall_ptr)count_pwrite);
	else {
		real_pwrite = (ssize_t(*)(int, const void *, size_t,
		    off_t))unix_vfs->xGetSystemCall(unix_vfs, "pwrite");
		unix_vfs->xSetSystemCall(
		    unix_vfs, "pwrite", (sqlite3_syscall_ptr)count_pwrite);
	}
	ok(real_pwrite != NULL, "the unix VFS's writes can be counted");
	test_gathered(vfs);
	test_rolled_back(vfs);
	test_rewritten(vfs);
	remove_all();
	rmdir(dir);
	return done_testing();
}
