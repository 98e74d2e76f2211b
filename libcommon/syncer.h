/*
 * syncer: waits for the disk on a thread of its own, so that a process
 * with other work (a worker with tasks to tend) need not stop for each
 * fdatasync(2) of a file it writes.
 *
 * Each syncer_ask() hands out a ticket, and the next fdatasync the thread
 * begins covers every write made before that call.  The thread syncs again
 * while tickets are outstanding, one sync for all that came meanwhile
 * (group commit).  Its descriptor becomes readable whenever a sync ends;
 * syncer_done() then says up to which ticket writes are on the disk.
 *
 * Once a sync fails, no later one is believed (after a failed fsync Linux
 * may drop the pages it could not write and report the next sync clean):
 * every call that reports durability fails from then on.
 *
 * The thread touches nothing but the file and its own fields; it blocks
 * every signal, so that a process that takes them on a signalfd still
 * gets them all.
 */
#ifndef SYNCER_H
#define SYNCER_H

#include <stdint.h>

struct syncer;

/*
 * Start syncing fd, which stays the caller's (it must stay open until
 * syncer_free()).  Returns NULL (error set) if the thread cannot start.
 */
struct syncer *syncer_new(int fd);

/* A ticket for every write made so far: the first is 1. */
uint64_t syncer_ask(struct syncer *s);

/* The descriptor to poll: readable when a sync has ended. */
int syncer_fd(const struct syncer *s);

/*
 * Empty the descriptor and set *done to the last ticket whose writes are
 * on the disk.  Returns 0, or -1 (EX_IOERR, error set) once a sync failed.
 */
int syncer_done(struct syncer *s, uint64_t *done);

/*
 * Sync now on the caller's thread, as a plain fdatasync would, and count
 * it for every ticket handed out before.  Returns 0, or -1 (EX_IOERR,
 * error set) if this or an earlier sync failed.
 */
int syncer_now(struct syncer *s);

/* Stop the thread, after the sync it is in, if any.  NULL is a no-op. */
void syncer_free(struct syncer *s);

#endif
