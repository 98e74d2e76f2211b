/*
 * jobname: the default name of a job, from its command.
 *
 * A job is named by its program's base name ("make"), unless that says
 * nothing of the job: a wrapper (env, nice, timeout, sudo ...) names what
 * it runs, a shell or an interpreter (sh x.sh, python3 x.py) names its
 * script with the script's arguments ("x.py --lr 0.1"), so the rows of a
 * sweep differ, and a shell string names its first command that does
 * something ("cd /src && make" is "make").
 */
#ifndef JOBNAME_H
#define JOBNAME_H

#include <stddef.h>

/* The longest default name, in bytes; a longer one is cut (at a UTF-8
 * character's start) to fit. */
#define JOBNAME_MAX 80

/*
 * The default name of the command argv (NULL-terminated) into buf, of
 * len bytes (at least 8), always terminated.  Never fails: a command of
 * no words is "job".  Returns buf.
 */
const char *jobname_argv(const char *const *argv, char *buf, size_t len);

/* The same for a shell command line, as sh -c would run it. */
const char *jobname_shell(const char *line, char *buf, size_t len);

#endif
