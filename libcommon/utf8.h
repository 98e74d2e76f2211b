/*
 * utf8: make bytes a program printed fit for JSON text.  jansson refuses
 * strings that are not UTF-8, and sqlite TEXT read back stops at a NUL, so
 * a job's output summary is cleaned before it is kept.
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/*
 * Copy in[0..len) to out as valid UTF-8 of at most max bytes (out has room
 * for max + 1: it is NUL-terminated).  Each NUL, and each longest start of
 * a sequence that is not valid (Unicode's maximal subpart: at least one
 * byte), becomes one U+FFFD.  A sequence the end of in
 * cuts off is dropped when in was cut from longer text (whole is 0), and
 * is bad bytes when in is all there is.  Returns the bytes written; *cut
 * (when not NULL) is set to 1 when something did not fit, else left alone.
 */
size_t utf8_clean(
    const char *in, size_t len, int whole, char *out, size_t max, int *cut);

/* 1 when s[0..len) is valid UTF-8 without a NUL, what jansson takes for a
 * string; else 0. */
int utf8_valid(const char *s, size_t len);

#endif
