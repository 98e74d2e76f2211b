/*
 * id: identifiers for jobs, tasks and runs.
 *
 * An ID is 26 characters of lowercase Crockford base32: 48 bits of
 * milliseconds since the epoch, then 80 random bits (a ULID).  IDs sort by
 * creation time; IDs made by one process within one millisecond increase
 * monotonically.  Humans see the first ID_SHORT characters.
 */
#ifndef ID_H
#define ID_H

#include <stddef.h>
#include <stdint.h>

#define ID_LEN 26
#define ID_SHORT 8
#define ID_MIN_PREFIX 4

/* Make a new ID for time now_ms into buf[ID_LEN + 1].  Returns 0 or -1. */
int id_new(int64_t now_ms, char *buf);

/*
 * Check that s can be (a prefix of) an ID: ID_MIN_PREFIX to ID_LEN base32
 * characters.  Copies it lowercased, with Crockford's i/l->1 and o->0, into
 * out[ID_LEN + 1].  Returns 0, or -1 with EX_USAGE-class error set.
 */
int id_prefix(const char *s, char *out);

/* The creation time of an ID, in ms since the epoch, or -1. */
int64_t id_time(const char *id);

#endif
