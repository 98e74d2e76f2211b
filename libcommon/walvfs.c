/*
 * walvfs: the default sqlite VFS with the store's WAL kept and overwritten
 * rather than created, grown and truncated by every short-lived tool (see
 * walvfs.h).  A WAL file is the default VFS's own, with one method,
 * xTruncate, acting differently.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "walvfs.h"

/* sqlite's WAL header; a file no longer than it is an empty WAL. */
#define WAL_HEADER 32

static sqlite3_vfs vfs;
static int shrink; /* walvfs_shrink() */
static int (*base_open)(
    sqlite3_vfs *, sqlite3_filename, sqlite3_file *, int, int *);
/* The default VFS's methods for a WAL, and a copy with our xTruncate. */
static const sqlite3_io_methods *base_methods;
static sqlite3_io_methods wal_methods;

/* To nothing: zero the header instead, keeping the file's blocks, unless
 * a big transaction left more than we keep. */
static int
w_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	static const char zero[WAL_HEADER];
	sqlite3_int64 now;

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

static int
w_open(
    sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	int rc = SQLITE_CANTOPEN;

	if (!(flags & SQLITE_OPEN_WAL))
		return base_open(v, name, f, flags, out);
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
	 * for a copy with our xTruncate (as sqlite's own recover extension
	 * swaps a file's methods).  Nothing of sqlite checks a WAL file's
	 * methods by address.
	 */
	if (rc == SQLITE_OK && base_methods == NULL) {
		base_methods = f->pMethods;
		wal_methods = *f->pMethods;
		wal_methods.xTruncate = w_truncate;
	}
	if (rc == SQLITE_OK && f->pMethods == base_methods)
		f->pMethods = &wal_methods;
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
	vfs.pNext = NULL;
	base_open = base->xOpen;
	vfs.xOpen = w_open;
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
		vfs.zName = NULL;
		return NULL;
	}
	return vfs.zName;
}
