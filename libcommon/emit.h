/*
 * emit: write objects in the format the user asked for.
 *
 *   json    one indented JSON array of all objects
 *   ndjson  one compact object a line (the default when not a terminal)
 *   table   columns with a header (the default on a terminal for lists)
 *   text    "key: value" blocks (the default on a terminal for one thing)
 *
 * Keys keep the order the objects were built in, so output is stable.
 * Off a terminal, JOBKIT_FORMAT names the default in place of ndjson.
 *
 * Tables and text never write a control character raw: tab, newline,
 * ESC, the other C0 controls, DEL and the C1 controls are shown escaped
 * ("\t", "\n", "\x1b", "\u009b"); a value of several lines in text keeps
 * its further lines indented under its key instead.  A table fits a width
 * when fp is a terminal or COLUMNS is a positive integer (the width:
 * COLUMNS, else the terminal's, else 80): columns with a priority go,
 * highest first, then the widest flexible column is cut, cells that are
 * longer than their column end in "\u2026", and no line is longer than
 * the width.  Otherwise cells are written whole.  The STATE cell is
 * coloured on a terminal, unless NO_COLOR is set and not empty or TERM is
 * unset or "dumb".
 */
#ifndef EMIT_H
#define EMIT_H

#include <stdio.h>
#include <jansson.h>

enum emit_format { EMIT_AUTO, EMIT_JSON, EMIT_NDJSON, EMIT_TABLE, EMIT_TEXT };

/* Column flags for tables. */
#define EMIT_SHORTID 0x1 /* show the first ID_SHORT characters */
#define EMIT_TIME 0x2 /* an RFC 3339 value, shown in local time */
#define EMIT_RIGHT 0x4 /* align right (numbers) */
#define EMIT_FLEX 0x8 /* may be cut to fit (a name, a reason, a command) */
#define EMIT_STATE 0x10 /* a state, coloured on a terminal */

struct emit_col {
	const char *key; /* member of the object */
	const char *title; /* header */
	int width; /* the last column is never padded: 0 there */
	int flags;
	int prio; /* 0: always shown; else dropped when the table is too
		     wide for its width, the highest first */
};

struct emit;

/*
 * Parse "json", "ndjson", "table" or "text".  Returns 0, or -1 with an
 * EX_USAGE error.
 */
int emit_format_parse(const char *s, enum emit_format *f);

/*
 * Start output to fp.  An EMIT_AUTO format becomes tty_default when fp is a
 * terminal and EMIT_NDJSON otherwise.  cols (ending with a NULL key) are
 * used by tables; without them tables fall back to text.  Returns NULL
 * with an error set when out of memory.
 */
struct emit *emit_open(FILE *fp, enum emit_format f,
    enum emit_format tty_default, const struct emit_col *cols);

/*
 * The default format off a terminal as JOBKIT_FORMAT names it, into *f
 * (EMIT_AUTO when it is unset or empty).  Returns 0, or -1 with an
 * EX_USAGE error ("JOBKIT_FORMAT: unknown format 'x' (...)").
 */
int emit_format_env(enum emit_format *f);

/*
 * The width of a UTF-8 string s on a terminal, in columns: a code point is
 * one, an East Asian wide one two, a combining mark none.
 */
size_t emit_width(const char *s);

/* The format in effect after EMIT_AUTO was resolved. */
enum emit_format emit_format(const struct emit *e);

/* Write one object (borrowed).  Returns 0, or -1 (EX_IOERR) on error. */
int emit_row(struct emit *e, json_t *obj);

/*
 * An RFC 3339 time s as local "YYYY-MM-DD HH:MM:SS" in buf (len >= 20);
 * returns buf, or s itself when it is not a time.
 */
const char *emit_localtime(const char *s, char *buf, size_t len);

/* Finish (closing a JSON array), flush and free.  Returns 0 or -1. */
int emit_close(struct emit *e);

#endif
