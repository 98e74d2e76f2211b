/*
 * fetch: transfers of artifacts (jobkit-spec(5)) over http, https, s3, ftp,
 * ftps and file URLs, with libcurl; hashes with libcrypto in the same pass
 * as the write; archives through pack.  artifact-fetch and exec-run's
 * staging both use it: it is the one implementation of transfers.
 *
 * A secret (a password, token or secret key, inline or read from where a
 * reference points) is handed to libcurl and nowhere else: never to a
 * message, a result, an environment or a command line.  URLs in results
 * and messages are shown without their user and password.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stdint.h>
#include <jansson.h>

#include "pack.h"

#define FETCH_CACHE_MAX (10LL << 30) /* default bound of the cache */
/* S3 uploads larger than this go in parts of this size (multipart). */
#define FETCH_PART_SIZE (16LL << 20)
/* A job's packed context, at most: Determined's limit (95 MiB). */
#define FETCH_CONTEXT_MAX 99614720LL

struct fetch_opts {
	const char *endpoint; /* S3 endpoint (else AWS_ENDPOINT_URL, AWS) */
	const char *cacert; /* a CA bundle for https, else the system's */
	const char *cache; /* the cache folder, NULL for none */
	int64_t cache_max; /* its bound in bytes, 0 for FETCH_CACHE_MAX */
	int64_t max_bytes; /* a cap on one object's size, 0 for none */
	int64_t connect_timeout; /* ms, 0 for 30 s */
	int64_t timeout; /* ms for a whole transfer, 0 for none */
	int retries; /* attempts after the first on transient errors */
	int progress; /* draw progress on stderr (a terminal) */
	int unpack; /* unpack every artifact, as if each said so */
	struct pack_limits limits; /* for unpacking */
};

/*
 * The cache folder to use by default: $XDG_CACHE_HOME/jobkit, else
 * $HOME/.cache/jobkit.  Returns a new string, or NULL (no cache) when
 * neither is set to an absolute path.
 */
char *fetch_cache_default(void);

/*
 * Fetch the artifact a (an object as jobkit-spec(5) describes; url
 * required) to dest: a file, or the folder to unpack into when the
 * artifact (or o->unpack) says unpack, or the folder to fill when the URL
 * is an s3:// prefix ending in '/'.  The file appears whole or not at all
 * (written beside dest and renamed); an unpacked folder gains the whole
 * archive or nothing.  A hash given is checked in the same pass as the
 * write; a mismatch leaves nothing.  Transient failures (5xx, 429,
 * timeouts, resets) are retried o->retries times with backoff and jitter,
 * resuming with a range request where the server allows.
 *
 * Returns 0 and appends one result object per object fetched to results
 * (url without credentials, path, size, sha256, cached, seconds), or -1
 * with an error: EX_DATAERR (hash mismatch, refused archive entry, bad
 * artifact, over max_bytes), EX_NOINPUT (no such object), EX_UNAVAILABLE
 * (unreachable), EX_CANTCREAT, EX_IOERR, EX_TEMPFAIL (still failing after
 * the retries), EX_NOPERM (credentials refused or missing).
 */
int fetch_get(const json_t *a, const char *dest, const struct fetch_opts *o,
    json_t *results);

/*
 * Upload src -- a file, or a folder packed as tar, tar.gz or zip (fmt, or
 * by the URL's name when fmt is -1) -- to the artifact a's url: s3 (PUT),
 * http(s) (PUT) or ftp.  Streamed from disk.  Returns 0 and sets *result
 * to a new object (url, size, sha256), or -1 with an error as fetch_get().
 */
int fetch_put(const char *src, const json_t *a, int fmt,
    const struct fetch_opts *o, json_t **result);

/*
 * A digest of what path holds, in hex (65 bytes): a file's sha256, or for
 * a folder the sha256 of its files' relative paths, modes and sha256s in
 * order, so that any change to it changes the digest.  -1 with an error.
 */
int fetch_digest(const char *path, char *hex);

/* The sha256 (hex, 65 bytes) of what fd holds from where it is. */
int fetch_digest_fd(int fd, char *hex);

/*
 * POST body (JSON, NUL-terminated) to an http or https url, retried as
 * fetch_get() retries: 0 once the server took it (2xx), or -1 with an
 * error as fetch_get().
 */
int fetch_post(const char *url, const char *body, const struct fetch_opts *o);

/* The URL u without its user and password, in buf (len bytes). */
const char *fetch_redact_url(const char *u, char *buf, size_t len);

#endif
