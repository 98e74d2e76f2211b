#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jsonin.h"
#include "utf8.h"

/* What the value being read is. */
enum { V_NONE, V_CONTAINER, V_STRING, V_ATOM, V_WORD };

struct jsonin {
	FILE *fp;
	const char *name;
	int flags;
	char *buf;
	size_t cap, len; /* the bytes of the value being read */
	size_t line; /* line of the next byte */
	size_t vline; /* line the value being read starts on */
	size_t aline; /* line the top-level array being read starts on */
	int kind, depth, in_str, esc;
	int arr; /* in a top-level array: '[' just opened, ',' after a
		    comma, 'v' after an element; 0 outside one */
	int broken;
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
jsonin_accept(struct jsonin *in, int flags)
{
	in->flags = flags;
}

int
jsonin_broken(const struct jsonin *in)
{
	return in->broken;
}

void
jsonin_close(struct jsonin *in)
{
	if (in == NULL)
		return;
	free(in->buf);
	free(in);
}

/* Keep byte c of the value, within the limit. */
static int
jsonin_put(struct jsonin *in, int c)
{
	size_t cap;
	char *p;

	if (in->len >= JSONIN_MAX_BYTES)
		return error_set(EX_DATAERR, "%s: line %zu: %s than %u MiB",
		    in->name, in->vline,
		    in->kind == V_WORD ? "line longer" : "JSON value larger",
		    JSONIN_MAX_BYTES >> 20);
	if (in->len == in->cap) {
		cap = in->cap ? 2 * in->cap : 4096;
		if ((p = realloc(in->buf, cap)) == NULL)
			return error_set(EX_OSERR, "out of memory");
		in->buf = p;
		in->cap = cap;
	}
	in->buf[in->len++] = (char)c;
	return 0;
}

/* Begin a value with its first byte c. */
static int
jsonin_start(struct jsonin *in, int c)
{
	if (c == '{' || c == '[') {
		in->kind = V_CONTAINER;
		in->depth = 1;
	} else if (c == '"') {
		in->kind = V_STRING;
		in->in_str = 1;
	} else
		in->kind = in->arr ? V_ATOM : V_WORD;
	in->vline = in->line;
	in->len = 0;
	return jsonin_put(in, c);
}

/* Byte c between values: blanks, and a top-level array's punctuation. */
static int
jsonin_between(struct jsonin *in, int c)
{
	if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
		return 0;
	if (in->arr == 0 && c == '[' && (in->flags & JSONIN_ITEMS)) {
		in->arr = '[';
		in->aline = in->line;
		return 0;
	}
	if (in->arr == 0 && c != '{' && c != '[' && !(in->flags & JSONIN_WORDS))
		return error_set(EX_DATAERR,
		    "%s: line %zu: expected a JSON object", in->name, in->line);
	if (in->arr == 0)
		return jsonin_start(in, c);
	if (c == ']' && in->arr != ',') {
		in->arr = 0;
		return 0;
	}
	if (c == ',' && in->arr == 'v') {
		in->arr = ',';
		return 0;
	}
	if (c == ']' || c == ',' || in->arr == 'v')
		return error_set(EX_DATAERR, "%s: line %zu: invalid JSON: %s",
		    in->name, in->line,
		    in->arr == 'v' ? "',' or ']' expected" : "value expected");
	return jsonin_start(in, c);
}

/* Byte c of the value being read: 1 when it was its last, 0, or -1. */
static int
jsonin_within(struct jsonin *in, int c)
{
	if (in->kind == V_ATOM && c != '\0' && strchr(",]} \t\r\n", c)) {
		ungetc(c, in->fp);
		return 1;
	}
	if (c == '\n')
		in->line++;
	if (in->kind == V_WORD && c == '\n')
		return 1;
	if (jsonin_put(in, c) == -1)
		return -1;
	if (in->kind == V_WORD || in->kind == V_ATOM)
		return 0;
	if (in->in_str) {
		if (in->esc)
			in->esc = 0;
		else if (c == '\\')
			in->esc = 1;
		else if (c == '"')
			in->in_str = 0;
		return !in->in_str && in->kind == V_STRING;
	}
	if (c == '"')
		in->in_str = 1;
	else if ((c == '{' || c == '[') && ++in->depth > JSONIN_MAX_DEPTH)
		return error_set(EX_DATAERR,
		    "%s: line %zu: JSON nested deeper than %d levels", in->name,
		    in->line, JSONIN_MAX_DEPTH);
	else if (c == '}' || c == ']')
		return --in->depth == 0;
	return 0;
}

/* The value read whole, parsed. */
static int
jsonin_done(struct jsonin *in, json_t **out, size_t *line)
{
	json_error_t jerr;
	int kind = in->kind;

	*line = in->vline;
	in->kind = V_NONE;
	in->depth = in->in_str = in->esc = 0;
	if (in->arr)
		in->arr = 'v';
	if (kind == V_WORD) {
		while (in->len > 0 && strchr(" \t\r", in->buf[in->len - 1]))
			in->len--;
		*out = NULL;
		if (!utf8_valid(in->buf, in->len))
			return error_set(EX_DATAERR,
			    "%s: line %zu: not UTF-8 text", in->name,
			    in->vline);
		if ((*out = json_stringn_nocheck(in->buf, in->len)) == NULL)
			return error_set(EX_OSERR, "out of memory");
		return 1;
	}
	*out = json_loadb(
	    in->buf, in->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	/* jansson gives an error without a place when memory runs out
	 * (and, out of it inside a string, one that looks like bad JSON). */
	if (*out == NULL &&
	    (jerr.line < 1 ||
		json_error_code(&jerr) == json_error_out_of_memory))
		return error_set(EX_OSERR, "out of memory");
	if (*out == NULL)
		return error_set(EX_DATAERR, "%s: line %zu: invalid JSON: %s",
		    in->name, in->vline + (size_t)jerr.line - 1, jerr.text);
	return 1;
}

/* At the end of input: the last value, 0, or -1. */
static int
jsonin_end(struct jsonin *in, json_t **out, size_t *line)
{
	if (ferror(in->fp)) {
		in->broken = 1;
		return error_set(EX_IOERR, "cannot read %s", in->name);
	}
	if (in->kind == V_ATOM || in->kind == V_WORD)
		return jsonin_done(in, out, line);
	if (in->kind == V_NONE && in->arr == 0)
		return 0;
	in->broken = 1;
	return error_set(EX_DATAERR, "%s: line %zu: unexpected end of input",
	    in->name, in->kind == V_NONE ? in->aline : in->vline);
}

int
jsonin_next(struct jsonin *in, json_t **out, size_t *line)
{
	int c, r;

	if (in->broken)
		return 0;
	for (;;) {
		if ((c = getc_unlocked(in->fp)) == EOF)
			return jsonin_end(in, out, line);
		if (in->kind == V_NONE) {
			if (c == '\n')
				in->line++;
			r = jsonin_between(in, c);
		} else
			r = jsonin_within(in, c);
		if (r == -1) {
			in->broken = 1;
			return -1;
		}
		if (r == 1)
			return jsonin_done(in, out, line);
	}
}
