/*
 * sign: what binds a job to its owner.  Anyone who may write a shared
 * database may change its rows -- the owner of a job, what it runs -- but
 * not sign them: each user has a key of 32 random bytes that only they
 * (and root) may read, in ~/.local/share/jobkit/key (mode 0600, made at
 * their first submit), and a job is stored with the HMAC-SHA256 of what
 * it runs and whom it runs as under its owner's key.  A worker runs a job
 * only when its signature is its owner's.
 */
#ifndef SIGN_H
#define SIGN_H

#include <stdint.h>
#include <sys/types.h>

#define SIGN_LEN 32 /* a signature's length in bytes */

struct sign_key;

/*
 * The caller's own key, under $HOME (else its home in the password
 * database), made if missing.  NULL with an error (EX_CANTCREAT: it
 * cannot be made; EX_DATAERR: it is not a key) on failure.
 */
struct sign_key *sign_key_mine(void);

/*
 * The key of user uid, whose home is home (root reading another user's):
 * it must be a regular file of uid's, readable by no one else.  NULL with
 * an error (EX_NOINPUT when there is none) on failure.
 */
struct sign_key *sign_key_of(uid_t uid, const char *home);

void sign_key_free(struct sign_key *k);

/*
 * The signature of a job: its number (rid: a row copied to another job,
 * or two swapped, is no longer signed), its owner (uid and name), its spec
 * and its recorded environment (export; NULL for none), as the database
 * stores them, into out[SIGN_LEN].
 */
void sign_job(const struct sign_key *k, int64_t rid, int64_t uid,
    const char *owner, const char *spec, const char *export,
    unsigned char *out);

/* 1 when sig (len bytes; may be NULL) is the signature sign_job() makes,
 * or its version 2, which a later jobkit writes (the same fields, the
 * environment first). */
int sign_check(const struct sign_key *k, int64_t rid, int64_t uid,
    const char *owner, const char *spec, const char *export, const void *sig,
    size_t len);

#endif
