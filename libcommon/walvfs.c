/*
 * walvfs: the default sqlite VFS with the store's WAL kept and overwritten
 * rather than created, grown and truncated by every short-lived tool, and
 * its frames gathered into few writes (see walvfs.h).  A WAL file is the
 * default VFS's own with its methods table swapped for a copy, and so is a
 * database file; what a WAL gathers lives just past the default VFS's part
 * of the file object (our szOsFile is the default's plus struct gather).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "walvfs.h"

/* sqlite's WAL header; a file no longer than it is an empty WAL. */
#define WAL_HEADER 32
/* A frame's header, before its page; bytes 4-7 are not zero in a commit
 * frame's (the database's size after the commit). */
#define FRAME_HEADER 24
/* The most one write passes to the default VFS: unixWrite() takes fewer
 * than 128 KiB a call. */
#define GATHER_MAX (124 * 1024)

/*
 * Writes to a WAL not yet passed on: one run of bytes from off.  Only a
 * connection holding the WAL's write lock writes it, and a run is passed
 * on before that lock is let go (g_shm_lock()), before a commit frame could
 * become visible to other connections (the page after a commit frame's
 * header), and before anything else is asked of the file.
 */
struct gather {
	unsigned char *buf; /* GATHER_MAX bytes, or NULL: write through */
	sqlite3_int64 off;
	int len;
	int commit; /* the run ends with a commit frame's header */
	struct gather *next, **prev; /* every WAL open, for g_shm_lock() */
};

static sqlite3_vfs vfs;
static int shrink; /* walvfs_shrink() */
static size_t gather_at; /* where a file's struct gather starts */
static struct gather *gathers;
static int (*base_open)(
    sqlite3_vfs *, sqlite3_filename, sqlite3_file *, int, int *);
/* The default VFS's methods for a WAL and for a database, and copies with
 * ours in their place. */
static const sqlite3_io_methods *base_methods, *base_db_methods;
static sqlite3_io_methods wal_methods, db_methods;

static struct gather *
gather_of(sqlite3_file *f)
{
	return (struct gather *)((char *)f + gather_at);
}

static sqlite3_file *
file_of(struct gather *g)
{
	return (sqlite3_file *)((char *)g - gather_at);
}

/* Pass the run on; it is gone either way, as a failed write would be. */
static int
g_flush(sqlite3_file *f, struct gather *g)
{
	int rc = SQLITE_OK;

	if (g->len > 0)
		rc = base_methods->xWrite(f, g->buf, g->len, g->off);
	g->len = 0;
	g->commit = 0;
	return rc;
}

static int
g_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct gather *g = gather_of(f);
	int rc, commit;

	if (g->len > 0 && (off != g->off + g->len || g->len + n > GATHER_MAX) &&
	    (rc = g_flush(f, g)) != SQLITE_OK)
		return rc;
	if (g->buf == NULL || n > GATHER_MAX)
		return base_methods->xWrite(f, p, n, off);
	if (g->len == 0)
		g->off = off;
	memcpy(g->buf + g->len, p, (size_t)n);
	g->len += n;
	/* The page after a commit frame's header ends the commit: under
	 * synchronous=NORMAL no sync comes before other connections may
	 * read it. */
	commit = g->commit;
	g->commit = n == FRAME_HEADER &&
	    memcmp((const char *)p + 4, "\0\0\0\0", 4) != 0;
	return commit ? g_flush(f, g) : SQLITE_OK;
}

static int
g_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	int rc = g_flush(f, gather_of(f));

	return rc != SQLITE_OK ? rc : base_methods->xRead(f, p, n, off);
}

static int
g_sync(sqlite3_file *f, int flags)
{
	int rc = g_flush(f, gather_of(f));

	return rc != SQLITE_OK ? rc : base_methods->xSync(f, flags);
}

static int
g_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = g_flush(f, gather_of(f));

	return rc != SQLITE_OK ? rc : base_methods->xFileSize(f, size);
}

static int
g_control(sqlite3_file *f, int op, void *arg)
{
	int rc = g_flush(f, gather_of(f));

	return rc != SQLITE_OK ? rc : base_methods->xFileControl(f, op, arg);
}

static int
g_close(sqlite3_file *f)
{
	struct gather *g = gather_of(f);
	int rc = g_flush(f, g), rc2;

	if (g->prev != NULL) {
		if (g->next != NULL)
			g->next->prev = g->prev;
		*g->prev = g->next;
	}
	free(g->buf);
	memset(g, 0, sizeof(*g));
	rc2 = base_methods->xClose(f);
	return rc != SQLITE_OK ? rc : rc2;
}

/*
 * A database's locks on its WAL index.  Letting go of an exclusive one
 * (the WAL's write lock among them) first passes on what every WAL holds,
 * since another connection may write the WAL once it is let go.  What a
 * WAL holds then is never a commit (that went at its page), only frames
 * of a transaction rolled back, which no reader looks at; a failure to
 * write them changes nothing, and the lock is let go whatever happens.
 */
static int
g_shm_lock(sqlite3_file *f, int ofst, int n, int flags)
{
	if (flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE))
		for (struct gather *g = gathers; g != NULL; g = g->next)
			(void)g_flush(file_of(g), g);
	return base_db_methods->xShmLock(f, ofst, n, flags);
}

/* To nothing: zero the header instead, keeping the file's blocks, unless
 * a big transaction left more than we keep. */
static int
w_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	static const char zero[WAL_HEADER];
	sqlite3_int64 now;
	int rc = g_flush(f, gather_of(f));

	if (rc != SQLITE_OK)
		return rc;
	if (size == 0 && !shrink &&
	    base_methods->xFileSize(f, &now) == SQLITE_OK && now > WAL_HEADER &&
	    now <= WALVFS_KEEP)
		return base_methods->xWrite(f, zero, (int)sizeof(zero), 0);
	return base_methods->xTruncate(f, size);
}

static void
sync_folder(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s",
		    slash == path ? 1 : (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

/* A database's methods become ours, which differ only in g_shm_lock(). */
static int
db_open(
    sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	int rc = base_open(v, name, f, flags, out);

	if (rc != SQLITE_OK || !(flags & SQLITE_OPEN_MAIN_DB) ||
	    f->pMethods == NULL || f->pMethods->iVersion < 2)
		return rc;
	if (base_db_methods == NULL) {
		base_db_methods = f->pMethods;
		db_methods = *f->pMethods;
		db_methods.xShmLock = g_shm_lock;
	}
	if (f->pMethods == base_db_methods)
		f->pMethods = &db_methods;
	return rc;
}

static int
w_open(
    sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	struct gather *g = gather_of(f);
	int rc = SQLITE_CANTOPEN;

	memset(g, 0, sizeof(*g));
	if (!(flags & SQLITE_OPEN_WAL))
		return db_open(v, name, f, flags, out);
	/* An existing WAL without O_CREAT; a new one with it. */
	f->pMethods = NULL;
	if (flags & SQLITE_OPEN_CREATE)
		rc = base_open(v, name, f, flags & ~SQLITE_OPEN_CREATE, out);
	if ((rc & 0xff) == SQLITE_CANTOPEN) {
		if (f->pMethods != NULL)
			f->pMethods->xClose(f);
		rc = base_open(v, name, f, flags, out);
		/* Its name is durable before anyone may open it without
		 * O_CREAT, even if this connection never writes. */
		if (rc == SQLITE_OK)
			sync_folder(name);
	}
	/*
	 * The file stays the default VFS's; only its methods table is swapped
	 * for a copy with ours (as sqlite's own recover extension swaps a
	 * file's methods).  Nothing of sqlite checks a file's methods by
	 * address.
	 */
	if (rc == SQLITE_OK && base_methods == NULL) {
		base_methods = f->pMethods;
		wal_methods = *f->pMethods;
		wal_methods.xClose = g_close;
		wal_methods.xRead = g_read;
		wal_methods.xWrite = g_write;
		wal_methods.xTruncate = w_truncate;
		wal_methods.xSync = g_sync;
		wal_methods.xFileSize = g_size;
		wal_methods.xFileControl = g_control;
	}
	if (rc != SQLITE_OK || f->pMethods != base_methods)
		return rc;
	f->pMethods = &wal_methods;
	/* Without the memory, every write goes through as it comes. */
	g->buf = malloc(GATHER_MAX);
	if ((g->next = gathers) != NULL)
		g->next->prev = &g->next;
	g->prev = &gathers;
	gathers = g;
	return rc;
}

void
walvfs_shrink(int on)
{
	shrink = on;
}

const char *
walvfs_name(void)
{
	sqlite3_vfs *base;

	if (vfs.zName != NULL)
		return vfs.zName;
	if (sqlite3_initialize() != SQLITE_OK ||
	    (base = sqlite3_vfs_find(NULL)) == NULL)
		return NULL;
	vfs = *base;
	vfs.zName = "jobkit";
	gather_at = ((size_t)base->szOsFile + 15) & ~(size_t)15;
	vfs.szOsFile = (int)(gather_at + sizeof(struct gather));
	vfs.pNext = NULL;
	base_open = base->xOpen;
	vfs.xOpen = w_open;
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
		vfs.zName = NULL;
		return NULL;
	}
	return vfs.zName;
}
