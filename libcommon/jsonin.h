/*
 * jsonin: read JSON values one after another from a stream -- one spec,
 * NDJSON, or pretty-printed objects back to back -- without ever holding
 * more than one value in memory, and refusing a value that is larger or
 * deeper than the limits before it is parsed.
 *
 * Input is read a byte at a time through stdio, never past the end of the
 * value being read: a value is returned as soon as its last byte arrives,
 * so that a reader at the end of a pipeline acts on each as it comes.
 */
#ifndef JSONIN_H
#define JSONIN_H

#include <stdio.h>
#include <jansson.h>

#define JSONIN_MAX_BYTES (10u << 20) /* 10 MiB per value */
#define JSONIN_MAX_DEPTH 32

/* What jsonin_accept() may add to the plain objects and arrays. */
#define JSONIN_ITEMS 0x1 /* a top-level array is its elements, each alone */
#define JSONIN_WORDS 0x2 /* a line that is not JSON is a string: the line */

struct jsonin;

/*
 * Read from fp (not closed by jsonin_close).  name is used in messages
 * ("stdin").  Returns NULL with an error set when out of memory.
 */
struct jsonin *jsonin_open(FILE *fp, const char *name);

/*
 * Widen what jsonin_next() returns, by JSONIN_* flags: with JSONIN_ITEMS
 * the elements of a top-level array, one by one (any JSON value, an
 * element as large as a value may be), instead of the array whole; with
 * JSONIN_WORDS a top-level JSON string, and a line that starts with
 * anything but '{', '[' or '"' as a string of the line without the
 * blanks around it (a job ID piped in).  Call before the first
 * jsonin_next().
 */
void jsonin_accept(struct jsonin *in, int flags);

/*
 * The next value: a top-level object or array (or what jsonin_accept()
 * added).  Returns 1 and a new reference in *out, 0 at the end of input,
 * or -1 with an EX_DATAERR (EX_IOERR for read errors) error naming the
 * line.  *line is the line the value starts on.  After a value that is
 * not valid JSON (or, for words, not UTF-8) reading may go on with the
 * next; after any other error (a value too large or too deep, no value
 * where one belongs, the end of input inside one) jsonin_broken() is 1
 * and the rest of the input is left unread.
 */
int jsonin_next(struct jsonin *in, json_t **out, size_t *line);

/* Whether an error left the input where no next value can be found. */
int jsonin_broken(const struct jsonin *in);

void jsonin_close(struct jsonin *in);

#endif
