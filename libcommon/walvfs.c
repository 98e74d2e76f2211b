/*
 * walvfs: the default sqlite VFS with the store's WAL kept and overwritten
 * rather than created, grown and truncated by every short-lived tool (see
 * walvfs.h).  WAL files are wrapped so that one method, xTruncate, can act
 * differently; the others pass through.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "walvfs.h"

/* sqlite's WAL header; a file no longer than it is an empty WAL. */
#define WAL_HEADER 32

struct wal_file {
	sqlite3_file base; /* our methods */
	sqlite3_file *real; /* the default VFS's file, just after us */
};

static sqlite3_vfs vfs;
static int (*base_open)(
    sqlite3_vfs *, sqlite3_filename, sqlite3_file *, int, int *);

static sqlite3_file *
real(sqlite3_file *f)
{
	return ((struct wal_file *)f)->real;
}

static int
w_close(sqlite3_file *f)
{
	return real(f)->pMethods->xClose(real(f));
}

static int
w_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return real(f)->pMethods->xRead(real(f), buf, n, off);
}

static int
w_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	return real(f)->pMethods->xWrite(real(f), buf, n, off);
}

/* To nothing: zero the header instead, keeping the file's blocks, unless
 * a big transaction left more than we keep. */
static int
w_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	static const char zero[WAL_HEADER];
	sqlite3_int64 now;
	int rc;

	if (size == 0 &&
	    (rc = real(f)->pMethods->xFileSize(real(f), &now)) == SQLITE_OK &&
	    now > WAL_HEADER && now <= WALVFS_KEEP)
		return real(f)->pMethods->xWrite(
		    real(f), zero, (int)sizeof(zero), 0);
	return real(f)->pMethods->xTruncate(real(f), size);
}

static int
w_sync(sqlite3_file *f, int flags)
{
	return real(f)->pMethods->xSync(real(f), flags);
}

static int
w_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return real(f)->pMethods->xFileSize(real(f), size);
}

static int
w_lock(sqlite3_file *f, int level)
{
	return real(f)->pMethods->xLock(real(f), level);
}

static int
w_unlock(sqlite3_file *f, int level)
{
	return real(f)->pMethods->xUnlock(real(f), level);
}

static int
w_check_reserved(sqlite3_file *f, int *out)
{
	return real(f)->pMethods->xCheckReservedLock(real(f), out);
}

static int
w_file_control(sqlite3_file *f, int op, void *arg)
{
	return real(f)->pMethods->xFileControl(real(f), op, arg);
}

static int
w_sector_size(sqlite3_file *f)
{
	return real(f)->pMethods->xSectorSize(real(f));
}

static int
w_device(sqlite3_file *f)
{
	return real(f)->pMethods->xDeviceCharacteristics(real(f));
}

static int
w_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **p)
{
	return real(f)->pMethods->xShmMap(real(f), pg, sz, extend, p);
}

static int
w_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return real(f)->pMethods->xShmLock(real(f), off, n, flags);
}

static void
w_shm_barrier(sqlite3_file *f)
{
	real(f)->pMethods->xShmBarrier(real(f));
}

static int
w_shm_unmap(sqlite3_file *f, int delete)
{
	return real(f)->pMethods->xShmUnmap(real(f), delete);
}

static int
w_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
	return real(f)->pMethods->xFetch(real(f), off, n, p);
}

static int
w_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return real(f)->pMethods->xUnfetch(real(f), off, p);
}

/* iVersion is the wrapped file's, so sqlite calls only what it has. */
static sqlite3_io_methods wal_methods = {
    .xClose = w_close,
    .xRead = w_read,
    .xWrite = w_write,
    .xTruncate = w_truncate,
    .xSync = w_sync,
    .xFileSize = w_file_size,
    .xLock = w_lock,
    .xUnlock = w_unlock,
    .xCheckReservedLock = w_check_reserved,
    .xFileControl = w_file_control,
    .xSectorSize = w_sector_size,
    .xDeviceCharacteristics = w_device,
    .xShmMap = w_shm_map,
    .xShmLock = w_shm_lock,
    .xShmBarrier = w_shm_barrier,
    .xShmUnmap = w_shm_unmap,
    .xFetch = w_fetch,
    .xUnfetch = w_unfetch,
};

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

static int
w_open(
    sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = SQLITE_CANTOPEN;

	if (!(flags & SQLITE_OPEN_WAL))
		return base_open(v, name, f, flags, out);
	w->base.pMethods = NULL;
	w->real = (sqlite3_file *)(w + 1);
	w->real->pMethods = NULL;
	/* An existing WAL without O_CREAT; a new one with it. */
	if (flags & SQLITE_OPEN_CREATE)
		rc = base_open(
		    v, name, w->real, flags & ~SQLITE_OPEN_CREATE, out);
	if ((rc & 0xff) == SQLITE_CANTOPEN) {
		if (w->real->pMethods != NULL)
			w->real->pMethods->xClose(w->real);
		rc = base_open(v, name, w->real, flags, out);
		/* Its name is durable before anyone may open it without
		 * O_CREAT, even if this connection never writes. */
		if (rc == SQLITE_OK)
			sync_folder(name);
	}
	/* Even a failed open may leave a file for sqlite to close. */
	if (w->real->pMethods != NULL) {
		wal_methods.iVersion = w->real->pMethods->iVersion;
		w->base.pMethods = &wal_methods;
	}
	return rc;
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
	vfs.szOsFile = (int)sizeof(struct wal_file) + base->szOsFile;
	vfs.zName = "jobkit";
	vfs.pNext = NULL;
	base_open = base->xOpen;
	vfs.xOpen = w_open;
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
		vfs.zName = NULL;
		return NULL;
	}
	return vfs.zName;
}
