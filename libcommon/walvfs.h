/*
 * walvfs: the sqlite VFS the store opens databases with.  It is the
 * default VFS except for how it treats the WAL, which the store keeps
 * between connections (SQLITE_FCNTL_PERSIST_WAL) so that a short-lived
 * tool does not create, grow and delete it on every run:
 *
 *  - a WAL that exists is opened without O_CREAT, so that sqlite does not
 *    sync the folder at the connection's first commit (it does for every
 *    file opened with O_CREAT); we sync it once, when the WAL is made;
 *  - the last connection's "truncate the WAL to nothing" after its final
 *    checkpoint becomes "zero the WAL's header": sqlite reads a WAL with a
 *    bad header as empty, exactly as it reads an empty file, and the next
 *    writer overwrites blocks the file already has, so its waits for the
 *    disk need not also commit the file system's metadata.  Like the
 *    truncation, the zeroing is not synced; either way a crash at most
 *    replays frames already copied into the database.  A WAL longer than
 *    WALVFS_KEEP, left by a big transaction, is truncated as sqlite asks;
 *  - a transaction's frames are gathered and written together, in writes
 *    of up to 124 KiB, instead of two writes a frame (its header, its
 *    page): a worker's commit of 18 frames was 36 pwrites.  Writes go out
 *    in the order sqlite made them, and before anything else is asked of
 *    the file (a read, a sync, its size, a truncation, a file control, its
 *    close), before a commit frame could be read by another connection
 *    (at its page: under synchronous=NORMAL no sync comes first), and
 *    before the connection lets go of an exclusive lock on the WAL index
 *    (after which another may write the WAL).  A crash loses nothing it
 *    would not have lost: what was held back was never synced, and a
 *    commit is not one until its sync.  Without memory for the 124 KiB,
 *    writes go through one by one.
 *
 * Everything else, and every other file, goes to the default VFS as is.
 */
#ifndef WALVFS_H
#define WALVFS_H

/* The most of its WAL a database keeps between connections. */
#define WALVFS_KEEP 4194304 /* 4 MiB */

/* The VFS's name for sqlite3_open_v2(), registered at the first call;
 * NULL (the default VFS) if that fails. */
const char *walvfs_name(void);

/*
 * With on set, a WAL truncated to nothing is truncated, not kept: a full
 * disk wants its blocks back (a checkpoint that follows a write refused
 * for want of space, the close of a connection that had one).
 */
void walvfs_shrink(int on);

#endif
