/*
 * Unit test of dirs_make() (dirs.h), the one mkdir -p of libcommon: the
 * folders it makes and their modes, only the parents when asked, what it
 * does when something is in the way, and the folder it names on failure
 * -- and nothing written there when it succeeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"
#include "tap.h"

static char top[PATH_MAX - 64];

/* The permission bits of top/rel, or -1 when it is not a folder. */
static int
mode_of(const char *rel)
{
	char p[PATH_MAX];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (stat(p, &sb) == -1 || !S_ISDIR(sb.st_mode))
		return -1;
	return (int)(sb.st_mode & 07777);
}

static int
make(const char *rel, mode_t mode, int flags, char *failed, size_t size)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	return dirs_make(p, mode, flags, failed, size);
}

int
main(void)
{
	char failed[PATH_MAX], want[PATH_MAX], big[PATH_MAX + 16];
	int fd;

	if (tap_tmpdir(top, sizeof(top), "dirs") == NULL)
		return 1;
	umask(022);

	snprintf(failed, sizeof(failed), "untouched");
	ok(make("a/b/c", 0700, 0, failed, sizeof(failed)) == 0,
	    "a path of three missing folders is made");
	ok(mode_of("a") == 0700 && mode_of("a/b") == 0700 &&
		mode_of("a/b/c") == 0700,
	    "each with the mode asked for");
	is_str(failed, "untouched", "and nothing is said of a success");
	ok(make("a/b/c", 0700, 0, NULL, 0) == 0,
	    "a path that is all there is success");
	ok(make("a/b/c/", 0700, 0, NULL, 0) == 0 && mode_of("a/b/c") == 0700,
	    "with a trailing slash too");

	ok(make("m/n", 0777, 0, NULL, 0) == 0 && mode_of("m") == 0755 &&
		mode_of("m/n") == 0755,
	    "a mode is less the umask, as mkdir(1) makes it");

	ok(make("p/q/file", 0700, DIRS_PARENTS, NULL, 0) == 0,
	    "only the parents, when asked");
	ok(mode_of("p/q") == 0700 && mode_of("p/q/file") == -1,
	    "the folders above are made, the last name is not");
	ok(make("a/b/new", 0700, DIRS_PARENTS, NULL, 0) == 0 &&
		mode_of("a/b/new") == -1,
	    "parents that exist are success, and the name is still not made");
	ok(dirs_make("justaname", 0700, DIRS_PARENTS, NULL, 0) == 0 &&
		access("justaname", F_OK) == -1,
	    "a name without a folder has no parents to make");

	snprintf(want, sizeof(want), "%s/f", top);
	fd = open(want, O_WRONLY | O_CREAT | O_EXCL, 0600);
	close(fd);
	snprintf(failed, sizeof(failed), "untouched");
	errno = 0;
	ok(make("f/x/y", 0700, 0, failed, sizeof(failed)) == -1 &&
		errno == ENOTDIR,
	    "a file in the way fails, with the kernel's reason");
	snprintf(want, sizeof(want), "%s/f/x", top);
	is_str(failed, want, "naming the first folder that could not be made");
	ok(make("f", 0700, 0, NULL, 0) == 0 && mode_of("f") == -1,
	    "a file by the last name is left for the caller to find");

	memset(big, 'd', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	errno = 0;
	ok(dirs_make(big, 0700, 0, failed, sizeof(failed)) == -1 &&
		errno == ENAMETOOLONG,
	    "a path longer than PATH_MAX is refused");

	if (geteuid() == 0) {
		printf("ok %d # skip root makes folders anywhere\n", ++tap_n);
		printf("ok %d # skip root makes folders anywhere\n", ++tap_n);
	} else {
		ok(make("ro", 0500, 0, NULL, 0) == 0, "a folder without w");
		snprintf(failed, sizeof(failed), "untouched");
		errno = 0;
		ok(make("ro/s/t", 0700, 0, failed, sizeof(failed)) == -1 &&
			errno == EACCES &&
			strcmp(failed + strlen(top), "/ro/s") == 0,
		    "one that may not be written in fails at its child");
	}
	return done_testing();
}
