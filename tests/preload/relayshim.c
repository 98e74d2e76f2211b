/*
 * Preloaded into a tool by the shell tests of the relay (relay.h): a
 * submitter that cannot open the database itself, so that only a worker
 * can have stored its job, and a worker that is slow to take a request or
 * dies before it answers.
 *
 *   RELAYSHIM_NOOPEN=PATH  opening PATH fails with EACCES
 *   RELAYSHIM_HOLD=FILE    while FILE exists, accept4(2) waits
 *   RELAYSHIM_DIE=FILE     while FILE exists, send(2) kills the process
 *                          (SIGKILL) instead of sending
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int
exists(const char *env)
{
	const char *f = getenv(env);

	return f != NULL && access(f, F_OK) == 0;
}

static int
denied(const char *path)
{
	const char *p = getenv("RELAYSHIM_NOOPEN");

	if (p == NULL || path == NULL || strcmp(p, path) != 0)
		return 0;
	errno = EACCES;
	return 1;
}

#define OPEN_LIKE(name, ...) \
	int name(__VA_ARGS__, int flags, ...) \
	{ \
		static int (*real)(); \
		va_list ap; \
		mode_t mode; \
		if (denied(path)) \
			return -1; \
		if (real == NULL) \
			real = (int (*)())dlsym(RTLD_NEXT, #name); \
		va_start(ap, flags); \
		mode = va_arg(ap, mode_t); \
		va_end(ap); \
		return OPEN_CALL; \
	}

#define OPEN_CALL real(path, flags, mode)
OPEN_LIKE(open, const char *path)
OPEN_LIKE(open64, const char *path)
#undef OPEN_CALL
#define OPEN_CALL real(dirfd, path, flags, mode)
OPEN_LIKE(openat, int dirfd, const char *path)
OPEN_LIKE(openat64, int dirfd, const char *path)

int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	struct timespec ts = {0, 10 * 1000 * 1000};

	while (exists("RELAYSHIM_HOLD"))
		nanosleep(&ts, NULL);
	if (real == NULL)
		real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(
		    RTLD_NEXT, "accept4");
	return real(fd, sa, len, flags);
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	static ssize_t (*real)(int, const void *, size_t, int);

	if (exists("RELAYSHIM_DIE"))
		kill(getpid(), SIGKILL);
	if (real == NULL)
		real = (ssize_t(*)(int, const void *, size_t, int))dlsym(
		    RTLD_NEXT, "send");
	return real(fd, buf, n, flags);
}
