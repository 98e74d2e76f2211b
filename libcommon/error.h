/*
 * error: the one error-message mechanism of libcommon.
 *
 * Library functions that fail return -1 (or NULL) after calling error_set();
 * the tool reads the message and the exit status (a sysexits.h code) and
 * reports them.  Messages are lowercase, without a trailing period, and
 * name their subject in single quotes.
 */
#ifndef ERROR_H
#define ERROR_H

#include <sysexits.h>

/* Record a failure: exit status and printf-style message.  Returns -1. */
int error_set(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Put "prefix: " in front of the current message, keeping its status.
 * Returns -1.
 */
int error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message ("" when none), valid until the next error_set(). */
const char *error_msg(void);

/* The last exit status, EX_SOFTWARE when none was set. */
int error_status(void);

#endif
