/*
 * relay: a job handed to a worker that has the database open, to store.
 * A submit that opens sqlite itself spends most of its time reading the
 * schema and compiling statements; a worker has done both already.  So
 * exec-run --worker listens on an abstract unix socket named by the
 * database file's device and inode, and job-submit hands it one checked
 * spec: the worker stores the job, commits it to the disk, and answers
 * with what job-submit prints.  Where no worker listens, nothing changes.
 *
 * A worker serves only its own user, and a submitter talks only to a
 * worker of its own (SO_PEERCRED on both ends), so what is stored is what
 * the submitter could have stored itself, owned by the same user.
 *
 * Every request carries a token of the submitter's, stored with the job
 * (store.h): a submitter left without an answer -- its worker died, or
 * took longer than RELAY_WAIT_MS -- stores the job itself with the same
 * token, and whichever of the two comes second finds the first's job
 * instead of making another.  So a job is stored once, whatever happens.
 */
#ifndef RELAY_H
#define RELAY_H

#include <jansson.h>

#include "store.h"

/* How long a submitter waits for a worker's answer before storing the job
 * itself (a worker answers in a few milliseconds). */
#define RELAY_WAIT_MS 2000

/* The most descriptors relay_fds() names. */
#define RELAY_FDS 17

struct relay;

/*
 * Listen for submitters of the database at path, which the caller has
 * open and whose queues are named (NULL-terminated, outliving the relay;
 * NULL for every queue): a submitter that would start a worker for its
 * job's queue is told whether this one serves it.  NULL with an error
 * when it cannot (EX_TEMPFAIL: another worker listens for it already); a
 * worker goes on without, and may try again.
 */
struct relay *relay_listen(const char *path, const char *const *queues);

/* Stop listening, and drop the requests not yet answered (their
 * submitters store their jobs themselves). */
void relay_close(struct relay *rl);

/* The descriptors to poll for input (at most RELAY_FDS) into fds; returns
 * how many.  The caller calls relay_step() when any is readable. */
int relay_fds(const struct relay *rl, int *fds);

/*
 * Take the submitters waiting, read what they sent, store each job in st
 * (each in a commit of its own, one sync for all that came together) and
 * answer once they are on the disk, never waiting for a submitter.
 * Returns how many jobs it stored (a caller that claims jobs looks
 * again), or -1 when out of memory.  A request it cannot store is
 * answered with the store's error, for the submitter to report; st's
 * errors are the submitter's, not the worker's.
 */
int relay_step(struct relay *rl, struct store *st);

/* What a submitter hands over: a normalized spec (spec.h), the
 * environment it records when the spec has none (or NULL), and whether
 * the job's brief is wanted or only its ID. */
struct relay_job {
	json_t *spec;
	json_t *export;
	int brief;
	unsigned char token[STORE_TOKEN_LEN]; /* relay_submit() draws it */
	int sent; /* set when a worker was handed it: store it with token */
	int served; /* and when the worker that stored it serves its queue */
};

/*
 * Hand job to the worker serving the database at path.  Returns 1 when
 * it stored the job: its ID in id[ID_LEN + 1], its brief (if asked) in a
 * new *brief, job->served set.  0 when no worker took it: the caller
 * stores it itself, and if job->sent, with job->token (the worker may
 * have stored it after all).  -1 with the error the worker's store gave
 * (a dependency that does not exist, ...), which is what storing it here
 * would have given.
 */
int relay_submit(
    const char *path, struct relay_job *job, char *id, json_t **brief);

#endif
