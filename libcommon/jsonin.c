#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jsonin.h"

#define JSONIN_CHUNK 65536

struct jsonin {
	FILE *fp;
	const char *name;
	char *buf;
	size_t cap, len; /* bytes held */
	size_t pos; /* next byte to scan */
	size_t start; /* first byte of the value being scanned */
	size_t line; /* line of buf[pos] */
	size_t vline; /* line the current value starts on */
	int depth, in_str, esc, eof;
};

struct jsonin *
jsonin_open(FILE *fp, const char *name)
{
	struct jsonin *in;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	in->fp = fp;
	in->name = name;
	in->line = 1;
	return in;
}

void
jsonin_close(struct jsonin *in)
{
	if (in == NULL)
		return;
	free(in->buf);
	free(in);
}

/* Drop consumed bytes and read another chunk.  Returns 1, 0 at EOF, -1. */
static int
jsonin_fill(struct jsonin *in)
{
	size_t n, keep = in->depth > 0 ? in->start : in->pos;
	char *p;

	if (keep > 0) {
		memmove(in->buf, in->buf + keep, in->len - keep);
		in->len -= keep;
		in->pos -= keep;
		in->start -= keep;
	}
	if (in->cap - in->len < JSONIN_CHUNK) {
		if ((p = realloc(in->buf, in->cap + JSONIN_CHUNK)) == NULL)
			return error_set(EX_OSERR, "out of memory");
		in->buf = p;
		in->cap += JSONIN_CHUNK;
	}
	n = fread(in->buf + in->len, 1, in->cap - in->len, in->fp);
	if (n == 0 && ferror(in->fp))
		return error_set(EX_IOERR, "cannot read %s", in->name);
	in->len += n;
	return n > 0;
}

/* Scan buffered bytes for the end of a value: 1 found, 0 need more, -1. */
static int
jsonin_scan(struct jsonin *in)
{
	for (; in->pos < in->len; in->pos++) {
		char c = in->buf[in->pos];

		if (in->depth > 0 && in->pos - in->start >= JSONIN_MAX_BYTES)
			return error_set(EX_DATAERR,
			    "%s: line %zu: JSON value larger than %u MiB",
			    in->name, in->vline, JSONIN_MAX_BYTES >> 20);
		if (c == '\n')
			in->line++;
		if (in->depth == 0) {
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
				continue;
			if (c != '{' && c != '[')
				return error_set(EX_DATAERR,
				    "%s: line %zu: expected a JSON object",
				    in->name, in->line);
			in->start = in->pos;
			in->vline = in->line;
			in->depth = 1;
			continue;
		}
		if (in->in_str) {
			if (in->esc)
				in->esc = 0;
			else if (c == '\\')
				in->esc = 1;
			else if (c == '"')
				in->in_str = 0;
		} else if (c == '"')
			in->in_str = 1;
		else if (c == '{' || c == '[') {
			if (++in->depth > JSONIN_MAX_DEPTH)
				return error_set(EX_DATAERR,
				    "%s: line %zu: JSON nested deeper than %d "
				    "levels",
				    in->name, in->line, JSONIN_MAX_DEPTH);
		} else if ((c == '}' || c == ']') && --in->depth == 0) {
			in->pos++;
			return 1;
		}
	}
	return 0;
}

int
jsonin_next(struct jsonin *in, json_t **out, size_t *line)
{
	json_error_t jerr;
	int r;

	while ((r = jsonin_scan(in)) == 0) {
		if (in->eof || (r = jsonin_fill(in)) == 0) {
			in->eof = 1;
			if (in->depth == 0)
				return 0;
			return error_set(EX_DATAERR,
			    "%s: line %zu: unexpected end of input", in->name,
			    in->vline);
		}
		if (r == -1)
			return -1;
	}
	if (r == -1)
		return -1;
	*line = in->vline;
	*out = json_loadb(in->buf + in->start, in->pos - in->start,
	    JSON_REJECT_DUPLICATES, &jerr);
	in->depth = 0;
	in->in_str = in->esc = 0;
	if (*out == NULL)
		return error_set(EX_DATAERR, "%s: line %zu: invalid JSON: %s",
		    in->name, in->vline + (size_t)jerr.line - 1, jerr.text);
	return 1;
}
