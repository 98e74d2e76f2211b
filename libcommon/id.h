/*
 * id: identifiers for jobs and runs.
 *
 * An ID is a per-database sequence number n >= 1 written in lowercase
 * Crockford base32 behind a length-class letter: "abcdefghjk" stand for
 * 3, 4, ... 12 digits.  So the first 32767 jobs are a001 ... azzz, then
 * b1000 and on.  IDs sort by creation time as strings, no ID is a prefix
 * of another, they are short enough to type, and any prefix of at least
 * ID_MIN_PREFIX characters names the IDs that start with it.  A task's ID
 * is its job's ID, a dot and the attempt number ("a00k.2").
 */
#ifndef ID_H
#define ID_H

#include <stdint.h>

#define ID_LEN 13 /* the longest ID; buffers are ID_LEN + 1 */
#define ID_SHORT 8
#define ID_MIN_PREFIX 4

/* Write n (1 <= n < 32^12) as an ID into buf[ID_LEN + 1].  Returns 0 or -1. */
int id_format(int64_t n, char *buf);

/*
 * The sequence numbers [*lo, *hi) whose IDs start with prefix.  Input is
 * case-insensitive, and i, l read as 1, o as 0.  Returns 0, or -1 with
 * EX_USAGE when shorter than ID_MIN_PREFIX and EX_NOINPUT ("no such job")
 * when no ID can start so.
 */
int id_range(const char *prefix, int64_t *lo, int64_t *hi);

#endif
