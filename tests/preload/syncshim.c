/*
 * Preloaded into a tool by the shell tests: a disk whose syncs of a
 * database's WAL hang or fail, for the syncs made on a thread other than
 * the process's first (store_later()'s), so that what a worker does while
 * its commit goes to the disk can be seen.
 *
 *   SYNCSHIM_HOLD=FILE  while FILE exists, such a sync waits (it writes
 *                       "held" to SYNCSHIM_LOG once it does)
 *   SYNCSHIM_FAIL=FILE  while FILE exists, such a sync fails with EIO
 *   SYNCSHIM_LOG=FILE   a line for each such sync: held, failed, synced
 *   SYNCSHIM_NORDONLY=FILE  while FILE exists, any sync of a WAL through a
 *                       descriptor opened for reading fails with EINVAL,
 *                       as on a file system that refuses it
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void
say(const char *what)
{
	const char *log = getenv("SYNCSHIM_LOG");
	int fd;

	if (log == NULL ||
	    (fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600)) == -1)
		return;
	(void)!write(fd, what, strlen(what));
	close(fd);
}

static int
exists(const char *env)
{
	const char *f = getenv(env);

	return f != NULL && access(f, F_OK) == 0;
}

int
fdatasync(int fd)
{
	char link[64], path[4096];
	ssize_t n;
	int held = 0;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n > 4 && memcmp(path + n - 4, "-wal", 4) == 0 &&
	    (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY &&
	    exists("SYNCSHIM_NORDONLY")) {
		say("refused\n");
		errno = EINVAL;
		return -1;
	}
	if (n > 4 && gettid() != getpid() &&
	    memcmp(path + n - 4, "-wal", 4) == 0) {
		while (exists("SYNCSHIM_HOLD")) {
			if (!held++)
				say("held\n");
			usleep(10000);
		}
		if (exists("SYNCSHIM_FAIL")) {
			say("failed\n");
			errno = EIO;
			return -1;
		}
		say("synced\n");
	}
	return (int)syscall(SYS_fdatasync, fd);
}
