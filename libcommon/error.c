#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

#define ERROR_MAX 4096

/* Per thread: a transfer thread's failure does not overwrite the caller's. */
static _Thread_local char error_buf[ERROR_MAX];
static _Thread_local int error_code = EX_SOFTWARE;

int
error_set(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error_buf, sizeof(error_buf), fmt, ap);
	va_end(ap);
	error_code = status;
	return -1;
}

int
error_wrap(const char *fmt, ...)
{
	char old[ERROR_MAX], pre[256];
	va_list ap;

	memcpy(old, error_buf, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	snprintf(error_buf, sizeof(error_buf), "%.255s: %.3800s", pre, old);
	return -1;
}

const char *
error_msg(void)
{
	return error_buf;
}

int
error_status(void)
{
	return error_code;
}
