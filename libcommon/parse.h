/*
 * parse: the units people type.  Every function takes a NUL-terminated
 * string, stores the value through its last argument and returns 0, or
 * returns -1 with an EX_DATAERR error that quotes the input.  Nothing is
 * stored on failure.
 */
#ifndef PARSE_H
#define PARSE_H

#include <stdint.h>

/*
 * A duration: a plain number of seconds ("90", "1.5") or numbers with units
 * ms, s, m, h, d, w ("90s", "1h30m", "1.5h", "250ms").  Result in
 * milliseconds, at most 100 years.
 */
int parse_duration(const char *s, int64_t *ms);

/*
 * A size in bytes: plain bytes ("4096"), binary units K M G T P with an
 * optional "iB" ("512MiB", "2G", "4k"), or decimal ones with "B" ("2GB").
 */
int parse_size(const char *s, uint64_t *bytes);

/* CPU: cores ("2", "0.5") or millicores ("500m").  Result in millicores. */
int parse_cpu(const char *s, int64_t *millicores);

/*
 * A point in time, in milliseconds since the epoch: "now", an RFC 3339
 * time ("2026-11-22T10:00:00Z", offsets and fractions allowed), a date
 * ("2026-11-22", midnight UTC), "-2h" or "+2h" relative to now_ms, and a
 * bare duration ("2h") which goes in direction dir (-1: ago, +1: ahead).
 */
int parse_time(const char *s, int64_t now_ms, int dir, int64_t *ms);

/*
 * Format ms since the epoch as RFC 3339 UTC with milliseconds
 * ("2026-11-22T10:00:00.123Z") into buf, which must hold 32 bytes.
 */
char *parse_fmt_time(int64_t ms, char *buf);

/*
 * Format a size as people read it, in binary units ("512MiB", "1.5GiB",
 * "100B"), into buf, which must hold 32 bytes.  Returns buf.
 */
char *parse_fmt_size(uint64_t bytes, char *buf);

/* A whole number in [min, max], decimal.  */
int parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* Milliseconds since the epoch, from the real-time clock. */
int64_t parse_now_ms(void);

/* Milliseconds from the monotonic clock, for deadlines and waits that a
 * change of the time of day must not move. */
int64_t parse_mono_ms(void);

#endif
