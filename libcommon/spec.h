/*
 * spec: the job spec, as documented in jobkit-spec(5).  A spec is checked
 * field by field -- unknown fields, wrong types and impossible values are
 * refused with the JSON path of the offender ("$.resources.cpu") -- and
 * normalized: durations become seconds, sizes bytes, CPU cores, times
 * RFC 3339, so every stored spec reads the same way.
 */
#ifndef SPEC_H
#define SPEC_H

#include <jansson.h>

#include "store.h"

#define SPEC_DEFAULT_QUEUE "default"
/* The most shards a job may have (and jobs an --array). */
#define SPEC_MAX_SHARDS 10000
/* The largest output summary kept in the database, per stream. */
#define SPEC_MAX_RETURN (1u << 20)

/*
 * Check spec and return a new normalized copy, or NULL with an EX_DATAERR
 * error "$.path: what is wrong".  now_ms anchors relative times.
 */
json_t *spec_normalize(json_t *spec, int64_t now_ms);

/*
 * The text of a normalized spec as the store keeps it: compact, without
 * its own environment ("export", kept apart).  Returns a new string, or
 * NULL when out of memory.
 */
char *spec_stored(json_t *spec);

/* Give a normalized spec its default name (jobname.h) when it has none:
 * 0, or -1 (EX_OSERR). */
int spec_name(json_t *spec);

/*
 * Fill jn from a normalized spec, giving it its default name when it has
 * none.  Strings in jn point into spec, which must outlive it.  Returns 0,
 * or -1 (EX_DATAERR) when the spec names no command, (EX_OSERR) when out
 * of memory.
 */
int spec_to_job(json_t *spec, struct job_new *jn);

/*
 * Merge override (fields given as options) into spec, in place: objects
 * (env, labels, resources, output) key by key, after lists appended,
 * anything else replaced (workdir and scratch replace each other).
 * Returns 0 or -1 (EX_OSERR, out of memory).
 */
int spec_merge(json_t *spec, json_t *override);

/*
 * Check one artifact object (jobkit-spec(5)): a new normalized reference,
 * or NULL with an EX_DATAERR error naming the member ("$.hash: ...").
 */
json_t *spec_artifact(json_t *a);

/*
 * Replace secrets in a (normalized) spec with "***", in place: inline
 * credentials, passwords in URLs, and env and export values whose name
 * says secret, token, password or key.  Returns 0, or -1 (EX_OSERR) when
 * out of memory, and then the spec may still hold secrets: show none of it.
 */
int spec_redact(json_t *spec);

/*
 * What a job executes, as Reflow's ImgCmdID: the sha256 of its argv or
 * shell string, work directory, "env", context, inputs (their hash where
 * the spec gives one, else their URL, with path and unpack) and container
 * (image, entrypoint, workdir), written "sha256:<64 hex>" into
 * out[SPEC_DIGEST_LEN + 1].  Two jobs that would run the same thing on the
 * same data have the same digest, whatever their name, queue, limits or
 * labels.  0, or -1 (EX_OSERR).
 */
#define SPEC_DIGEST_LEN 71
int spec_digest(json_t *spec, char *out);

/*
 * o[k] = v, and a appended v, taking the reference to v (released when
 * they fail).  v may be NULL, what a jansson constructor gives when out of
 * memory, so that one check covers the making and the setting.  0, or -1
 * with an EX_OSERR "out of memory" error.
 */
int spec_set(json_t *o, const char *k, json_t *v);
int spec_append(json_t *a, json_t *v);

/* The length *n of v written as compact JSON, without writing it: 0, or
 * -1 (EX_OSERR). */
int spec_json_len(const json_t *v, size_t *n);

/* 1 when s may be a queue name: 1 to 63 letters, digits and . _ - /. */
int spec_word_ok(const char *s);

/* 1 when k may name an environment variable: [A-Za-z_][A-Za-z0-9_]*. */
int spec_env_name_ok(const char *k);

#endif
