#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "error.h"
#include "idin.h"

int
cli_option(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 'd':
		c->db = arg;
		return 1;
	case 'f':
		return emit_format_parse(arg, &c->format) == -1 ? -1 : 1;
	case 'h':
		c->help = 1;
		return 1;
	case 'V':
		c->version = 1;
		return 1;
	}
	return 0;
}

struct store *
cli_store(const struct cli *c, int create)
{
	struct store *st;
	char *where;

	if ((where = store_locate(c->db)) == NULL)
		return NULL;
	st = store_open(where, create);
	free(where);
	return st;
}

void
cli_guard_fds(void)
{
	enum emit_format f;
	size_t seed;

	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDONLY) != fd)
			_exit(EX_OSERR);
	/* Before anything is read or written: a bad default is a usage
	 * error, whatever the tool was about to do. */
	if (emit_format_env(&f) == -1)
		errx(EX_USAGE, "%s", error_msg());
	/* jansson would open, read and close /dev/urandom for its hash seed
	 * at the first object: one call does.  0 (none) leaves it to it. */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = 0;
	json_object_seed(seed);
}

void
cli_await_input(FILE *fp)
{
	int c = getc(fp);

	if (c != EOF)
		ungetc(c, fp);
}

int
cli_read_ids(FILE *fp, int (*fn)(const char *id, void *arg), void *arg)
{
	struct idin *in = idin_open(fp, "stdin");
	const char *ref;
	int r = 0, k;

	if (in == NULL)
		return -1;
	while (r == 0 && (k = idin_next(in, &ref)) != 0)
		r = fn(k == 1 ? ref : NULL, arg);
	idin_close(in);
	return r;
}

int
cli_sibling(const char *tool, char *buf, size_t len)
{
	char self[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(buf, len, "%s/%s", self, tool);
			if (access(buf, X_OK) == 0)
				return 0;
		}
	}
	buf[0] = '\0';
	return error_set(EX_UNAVAILABLE, "no %s beside this tool", tool);
}

int
cli_paths(const struct cli *c, char **db, char **results)
{
	char *loc, cwd[4096];

	if ((loc = store_locate(c->db)) == NULL)
		return -1;
	if (*loc == '/' || strstr(loc, "://") != NULL ||
	    getcwd(cwd, sizeof(cwd)) == NULL)
		*db = strdup(loc);
	else if (asprintf(db, "%s/%s", cwd, loc) == -1)
		*db = NULL;
	if (*db == NULL ||
	    (*results == NULL &&
		asprintf(results, "%s/results", dirname(loc)) == -1)) {
		free(loc);
		return error_set(EX_OSERR, "out of memory");
	}
	free(loc);
	return 0;
}

void
cli_die_by(int signo)
{
	sigset_t set;

	fflush(NULL);
	signal(signo, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, signo);
	raise(signo);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	exit(128 + signo);
}
