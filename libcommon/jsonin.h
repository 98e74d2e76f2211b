/*
 * jsonin: read JSON values one after another from a stream -- one spec,
 * NDJSON, or pretty-printed objects back to back -- without ever holding
 * more than one value in memory, and refusing a value that is larger or
 * deeper than the limits before it is parsed.
 */
#ifndef JSONIN_H
#define JSONIN_H

#include <stdio.h>
#include <jansson.h>

#define JSONIN_MAX_BYTES (10u << 20) /* 10 MiB per value */
#define JSONIN_MAX_DEPTH 32

struct jsonin;

/*
 * Read from fp (not closed by jsonin_close).  name is used in messages
 * ("stdin").  Returns NULL with an error set when out of memory.
 */
struct jsonin *jsonin_open(FILE *fp, const char *name);

/*
 * The next top-level value, which must be an object or an array.  Returns
 * 1 and a new reference in *out, 0 at the end of input, or -1 with an
 * EX_DATAERR (EX_IOERR for read errors) error naming the line.
 * *line is the line the value starts on.
 */
int jsonin_next(struct jsonin *in, json_t **out, size_t *line);

void jsonin_close(struct jsonin *in);

#endif
