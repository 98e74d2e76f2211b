/*
 * cli: what every tool's command line shares -- --db, --format, --help,
 * --version -- and opening the store the way the options and the
 * environment say.  Tools print; this module only parses and opens.
 */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdio.h>

#include "emit.h"
#include "store.h"

#define CLI_SHORT "d:f:hV"
#define CLI_LONG \
	{"db", required_argument, NULL, 'd'}, \
	    {"format", required_argument, NULL, 'f'}, \
	    {"help", no_argument, NULL, 'h'}, \
	{ \
		"version", no_argument, NULL, 'V' \
	}

struct cli {
	const char *db;
	enum emit_format format;
	int help, version;
};

/*
 * Take a common option.  Returns 1 when opt was one (and was valid), 0 when
 * it is the tool's own, -1 with an EX_USAGE error when its argument is bad.
 */
int cli_option(struct cli *c, int opt, const char *arg);

/*
 * Locate and open the database, creating it when missing if create is set
 * (tools that only read never make one at a mistyped path).  NULL with an
 * error set on failure.
 */
struct store *cli_store(const struct cli *c, int create);

/*
 * Call first in main: a standard descriptor the caller closed (">&-") is
 * opened on /dev/null for reading, so that no file the tool opens later
 * takes its number -- writes to it fail (EBADF) and are reported as they
 * would have been, instead of landing in that file.  And JOBKIT_FORMAT,
 * the default format off a terminal (emit_format_env()), is checked: a
 * value that is no format ends the tool with EX_USAGE and the one-line
 * "tool: JOBKIT_FORMAT: unknown format 'x' (...)" on stderr.  jansson's
 * hash seed is drawn here too, before the first object, with one
 * getrandom(2) instead of its open, read and close of /dev/urandom.
 */
void cli_guard_fds(void);

/*
 * Block until fp has input or is at its end.  A tool reading jobs piped
 * from another opens the database after this, so that in
 * "job-submit ... | job-describe" on a new database the first made it.
 */
void cli_await_input(FILE *fp);

/*
 * Read the jobs named on fp as idin reads them (IDs or prefixes a line,
 * any tool's JSON or NDJSON output) and call fn for each, in order, as
 * each arrives.  For something that names no job fn is called with id
 * NULL and the error set (EX_DATAERR naming the line), to report as it
 * reports a job it cannot act on.  fn returns 0 to go on or -1 to stop.
 * Returns 0, or -1 when fn stopped (or out of memory).
 */
int cli_read_ids(FILE *fp, int (*fn)(const char *id, void *arg), void *arg);

/*
 * Where the database is, as an absolute path (the JOBKIT_DB of the tasks
 * a runner starts: jobs they submit go to it, wherever they run), into a
 * new string *db; and, unless *results is already set (--results), the
 * results root beside it, "results/", into a new string *results.
 * 0, or -1 with an error.
 */
int cli_paths(const struct cli *c, char **db, char **results);

/*
 * Stopped by signal signo (blocked, read from a signalfd), with what it
 * stopped recorded: die by it, as shells expect of a program a signal
 * stopped, so that a script of steps stops at Ctrl-C rather than go on.
 * Exits 128 + signo should the signal not kill.
 */
void cli_die_by(int signo) __attribute__((noreturn));

/*
 * The path of another jobkit tool installed beside the running one (a tool
 * calls the tools of its own version), in buf (len bytes).  Returns 0, or
 * -1 with an EX_UNAVAILABLE error when there is none.
 */
int cli_sibling(const char *tool, char *buf, size_t len);

#endif
