/* dirs: mkdir -p. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dirs.h"

static int
dirs_fail(const char *dir, char *failed, size_t size)
{
	int e = errno;

	if (failed != NULL && size > 0)
		snprintf(failed, size, "%s", dir);
	errno = e;
	return -1;
}

int
dirs_make(const char *path, mode_t mode, int flags, char *failed, size_t size)
{
	char dir[PATH_MAX], *p;
	size_t n = strlen(path);

	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return dirs_fail(path, failed, size);
	}
	memcpy(dir, path, n + 1);
	if ((flags & DIRS_PARENTS) != 0) {
		if ((p = strrchr(dir, '/')) == NULL || p == dir)
			return 0;
		*p = '\0';
	}
	/* Most often all of it is there: one call finds that out. */
	if (mkdir(dir, mode) == 0 || errno == EEXIST)
		return 0;
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) == -1 && errno != EEXIST)
			return dirs_fail(dir, failed, size);
		*p = '/';
	}
	if (mkdir(dir, mode) == -1 && errno != EEXIST)
		return dirs_fail(dir, failed, size);
	return 0;
}
