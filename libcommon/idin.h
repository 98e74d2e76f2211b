/*
 * idin: the one reader of jobs named on a stream (stdin), for every tool
 * that takes jobs there.  It reads what any tool writes, in any mix: an
 * ID or a prefix a line, NDJSON, pretty-printed objects, and JSON arrays
 * (--format json) of objects or of ID strings.  An object names its job
 * by "job" when it has one (a task, a result) and else by "id"; an object
 * of a run is refused.  Built on jsonin: one value held at a time, each
 * returned as soon as it has arrived, so a tool at the end of a pipeline
 * acts on the first job while the next is still being written.
 */
#ifndef IDIN_H
#define IDIN_H

#include <stdio.h>

struct idin;

/*
 * Read from fp (not closed by idin_close), named in messages as name
 * ("stdin").  NULL with an error set when out of memory.
 */
struct idin *idin_open(FILE *fp, const char *name);

/*
 * The next job named: 1 with the ID or prefix in *ref (owned by in, valid
 * until the next call), 0 at the end of input, or -1 with an error naming
 * the line (EX_DATAERR; EX_IOERR when the input cannot be read) for
 * something that names no job.  Call again after -1 for the next: after
 * an error that leaves no next to find (the end of input inside a value,
 * a value too large or too deep) the rest of the input is read and
 * dropped, and the next call returns 0.
 */
int idin_next(struct idin *in, const char **ref);

void idin_close(struct idin *in);

#endif
