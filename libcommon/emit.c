#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "emit.h"
#include "error.h"
#include "id.h"
#include "parse.h"

/* The narrowest a flexible column is cut to. */
#define FLEX_MIN 10
#define ELLIPSIS "\xe2\x80\xa6"

struct emit {
	FILE *fp;
	enum emit_format f;
	const struct emit_col *cols;
	int *w; /* each column's width; -1: dropped */
	int ncols, last; /* last: the last column shown */
	int max; /* the width a table fits, 0 when it is not fitted */
	int color;
	size_t rows;
};

int
emit_format_parse(const char *s, enum emit_format *f)
{
	static const char *names[] = {"json", "ndjson", "table", "text"};
	static const enum emit_format vals[] = {
	    EMIT_JSON, EMIT_NDJSON, EMIT_TABLE, EMIT_TEXT};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*f = vals[i];
			return 0;
		}
	return error_set(
	    EX_USAGE, "unknown format '%s' (json, ndjson, table or text)", s);
}

int
emit_format_env(enum emit_format *f)
{
	const char *s = getenv("JOBKIT_FORMAT");

	*f = EMIT_AUTO;
	if (s == NULL || *s == '\0')
		return 0;
	if (emit_format_parse(s, f) == -1) {
		*f = EMIT_AUTO;
		return error_wrap("JOBKIT_FORMAT");
	}
	return 0;
}

/* The code point at s, into *cp; returns its length in bytes. */
static size_t
emit_decode(const unsigned char *s, uint32_t *cp)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;

	*cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return i; /* not UTF-8: never past its end */
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return n;
}

/* Columns a code point takes: 2 when East Asian wide, 0 when combining. */
static int
emit_cp_width(uint32_t cp)
{
	static const uint32_t wide[][2] = {{0x1100, 0x115f}, {0x2e80, 0x303e},
	    {0x3041, 0x33ff}, {0x3400, 0x4dbf}, {0x4e00, 0x9fff},
	    {0xa000, 0xa4cf}, {0xac00, 0xd7a3}, {0xf900, 0xfaff},
	    {0xfe30, 0xfe4f}, {0xff00, 0xff60}, {0xffe0, 0xffe6},
	    {0x1f300, 0x1f64f}, {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd},
	    {0x30000, 0x3fffd}};
	static const uint32_t zero[][2] = {{0x0300, 0x036f}, {0x200b, 0x200f},
	    {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}};
	size_t i;

	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if (cp >= zero[i][0] && cp <= zero[i][1])
			return 0;
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

size_t
emit_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	uint32_t cp;

	while (*p != '\0') {
		p += emit_decode(p, &cp);
		w += (size_t)emit_cp_width(cp);
	}
	return w;
}

/*
 * s with its control characters escaped, as a new string (NULL when out
 * of memory); newlines are kept when keep_nl is set.
 */
static char *
emit_escape(const char *s, int keep_nl)
{
	const unsigned char *p;
	char *out, *o;

	if ((out = malloc(strlen(s) * 6 + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)s, o = out; *p != '\0'; p++) {
		if (*p == '\n' && keep_nl)
			*o++ = '\n';
		else if (*p == '\t' || *p == '\n' || *p == '\r') {
			*o++ = '\\';
			*o++ = *p == '\t' ? 't' : *p == '\n' ? 'n' : 'r';
		} else if (*p < 0x20 || *p == 0x7f)
			o += sprintf(o, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			o += sprintf(o, "\\u%04x", *++p); /* C1: CSI and such */
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

/* Write s cut to w columns (w < 0: whole), ending in an ellipsis when it
 * was cut; returns the columns written. */
static int
emit_put(FILE *fp, const char *s, int w)
{
	const unsigned char *p = (const unsigned char *)s;
	int used = 0, cw;
	size_t n;
	uint32_t cp;

	if (w < 0 || emit_width(s) <= (size_t)w) {
		fputs(s, fp);
		return (int)emit_width(s);
	}
	if (w == 0)
		return 0;
	while (*p != '\0') {
		n = emit_decode(p, &cp);
		if (used + (cw = emit_cp_width(cp)) > w - 1)
			break;
		fwrite(p, 1, n, fp);
		used += cw;
		p += n;
	}
	fputs(ELLIPSIS, fp);
	return used + 1;
}

/* The width to fit a table on fp to, or 0 when it is not to be fitted. */
static int
emit_width_of(FILE *fp)
{
	const char *s = getenv("COLUMNS");
	struct winsize ws;
	int64_t n;

	if (s != NULL && parse_int(s, 1, 100000, &n) == 0)
		return (int)n;
	if (!isatty(fileno(fp)))
		return 0;
	if (ioctl(fileno(fp), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static int
emit_use_color(FILE *fp)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	return isatty(fileno(fp)) && (nc == NULL || *nc == '\0') &&
	    term != NULL && *term != '\0' && strcmp(term, "dumb") != 0;
}

/* The width the shown columns take, separators included. */
static int
emit_need(const struct emit *e)
{
	int n = 0;

	for (int i = 0; i < e->ncols; i++)
		if (e->w[i] >= 0)
			n += e->w[i] + (i == e->last ? 0 : 2);
	return n;
}

static void
emit_find_last(struct emit *e)
{
	for (e->last = e->ncols - 1; e->last > 0 && e->w[e->last] < 0;)
		e->last--;
}

/* Drop the column with the highest priority; 0 when none may go. */
static int
emit_drop(struct emit *e)
{
	int best = -1;

	for (int i = 0; i < e->ncols; i++)
		if (e->w[i] >= 0 && e->cols[i].prio > 0 &&
		    (best < 0 || e->cols[i].prio >= e->cols[best].prio))
			best = i;
	if (best < 0)
		return 0;
	e->w[best] = -1;
	emit_find_last(e);
	return 1;
}

/* Cut the widest flexible column by one; 0 when none may be cut. */
static int
emit_cut(struct emit *e)
{
	int best = -1;

	for (int i = 0; i < e->ncols; i++)
		if (e->w[i] > FLEX_MIN && (e->cols[i].flags & EMIT_FLEX) &&
		    (best < 0 || e->w[i] > e->w[best]))
			best = i;
	if (best < 0)
		return 0;
	e->w[best]--;
	return 1;
}

/*
 * Each column's width: what it says (at least its title's), and for the
 * last its title's or FLEX_MIN; fitted to e->max, columns go by priority,
 * then flexible ones are cut.  Room left over widens the flexible columns
 * (a third as much again at most) and then the last.
 */
static void
emit_layout(struct emit *e)
{
	int i, nflex = 0, slack;

	for (i = 0; i < e->ncols; i++) {
		int t = (int)emit_width(e->cols[i].title);
		e->w[i] = e->cols[i].width > t ? e->cols[i].width : t;
		if (e->cols[i].width == 0 && e->w[i] < FLEX_MIN)
			e->w[i] = FLEX_MIN;
	}
	emit_find_last(e);
	if (e->max == 0)
		return;
	while (emit_need(e) > e->max && emit_drop(e))
		;
	while (emit_need(e) > e->max && emit_cut(e))
		;
	for (i = 0; i < e->last; i++)
		nflex += e->w[i] >= 0 && (e->cols[i].flags & EMIT_FLEX);
	slack = e->max - emit_need(e);
	for (i = 0; i < e->last && slack > 0; i++)
		if (e->w[i] >= 0 && (e->cols[i].flags & EMIT_FLEX)) {
			int more = slack / (nflex + 1);
			more = more > e->w[i] / 3 ? e->w[i] / 3 : more;
			e->w[i] += more;
		}
}

struct emit *
emit_open(FILE *fp, enum emit_format f, enum emit_format tty_default,
    const struct emit_col *cols)
{
	enum emit_format env;
	struct emit *e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	/* A bad JOBKIT_FORMAT was refused when the tool started. */
	if (f == EMIT_AUTO && !isatty(fileno(fp)))
		f = emit_format_env(&env) == 0 && env != EMIT_AUTO
		    ? env
		    : EMIT_NDJSON;
	if (f == EMIT_AUTO)
		f = tty_default;
	if (f == EMIT_TABLE && (cols == NULL || cols[0].key == NULL))
		f = EMIT_TEXT;
	e->fp = fp;
	e->f = f;
	e->cols = cols;
	if (f == EMIT_TABLE) {
		while (cols[e->ncols].key != NULL)
			e->ncols++;
		if ((e->w = calloc((size_t)e->ncols, sizeof(int))) == NULL) {
			free(e);
			error_set(EX_OSERR, "out of memory");
			return NULL;
		}
		e->max = emit_width_of(fp);
		e->color = emit_use_color(fp);
		emit_layout(e);
	}
	return e;
}

enum emit_format
emit_format(const struct emit *e)
{
	return e->f;
}

const char *
emit_localtime(const char *s, char *buf, size_t len)
{
	int64_t ms;
	struct tm tm;
	time_t t;

	if (parse_time(s, 0, 0, &ms) == -1)
		return s;
	t = (time_t)(ms / 1000);
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* A scalar as a short string for tables and text; NULL for containers. */
static const char *
emit_scalar(json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(
		    buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "-";
	default:
		return NULL;
	}
}

/*
 * A cell's text, escaped, as a new string (NULL when out of memory):
 * objects of strings become "k=v,k=v", arrays "a,b".
 */
static char *
emit_cell_text(json_t *v, const struct emit_col *c)
{
	char buf[64], out[512];
	const char *s, *key;
	json_t *m;
	size_t i, n = 0;

	out[0] = '\0';
	if (v == NULL)
		s = "-";
	else if ((s = emit_scalar(v, buf, sizeof(buf))) != NULL) {
		if ((c->flags & EMIT_TIME) && json_is_string(v))
			s = emit_localtime(s, buf, sizeof(buf));
		else if ((c->flags & EMIT_SHORTID) && strlen(s) > ID_SHORT) {
			snprintf(out, sizeof(out), "%.*s", ID_SHORT, s);
			s = out;
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, m)
		{
			const char *ms = emit_scalar(m, buf, sizeof(buf));
			n += snprintf(out + n,
			    n < sizeof(out) ? sizeof(out) - n : 0, "%s%s=%s",
			    n ? "," : "", key, ms ? ms : "...");
		}
		s = n ? out : "-";
	} else {
		json_array_foreach(v, i, m)
		{
			const char *ms = emit_scalar(m, buf, sizeof(buf));
			n += snprintf(out + n,
			    n < sizeof(out) ? sizeof(out) - n : 0, "%s%s",
			    n ? "," : "", ms ? ms : "...");
		}
		s = n ? out : "-";
	}
	return emit_escape(s, 0);
}

/* The colour of a state cell, or NULL. */
static const char *
emit_state_color(const char *s)
{
	static const char *const map[] = {"failed", "\033[31m", "lost",
	    "\033[31m", "timed_out", "\033[31m", "running", "\033[33m",
	    "succeeded", "\033[32m", "cancelled", "\033[2m", "held", "\033[2m",
	    NULL};

	for (int i = 0; map[i] != NULL; i += 2)
		if (strcmp(s, map[i]) == 0)
			return map[i + 1];
	return NULL;
}

/*
 * Write cell s of column i at column *pos of the line: cut to the
 * column's width and to what the line has left, padded unless it is the
 * last.  Colour codes take no room.
 */
static void
emit_put_cell(struct emit *e, int i, const char *s, int *pos, int color)
{
	const struct emit_col *c = &e->cols[i];
	const char *code = color ? emit_state_color(s) : NULL;
	int right = (c->flags & EMIT_RIGHT) != 0, last = i == e->last;
	int room = e->max ? e->max - *pos : -1;
	int cut = last || room < 0 || e->w[i] > room ? room : e->w[i];
	int to = last && !right ? 0 : e->w[i], sw, n;

	if (room >= 0 && to > room)
		to = room;
	sw = (int)emit_width(s);
	if (cut >= 0 && sw > cut)
		sw = cut;
	n = to > sw ? to - sw : 0;
	if (right) {
		fprintf(e->fp, "%*s", n, "");
		*pos += n;
		n = 0;
	}
	if (code != NULL)
		fputs(code, e->fp);
	*pos += emit_put(e->fp, s, cut);
	if (code != NULL)
		fputs("\033[0m", e->fp);
	if (last)
		return;
	n += 2;
	if (room >= 0 && n > e->max - *pos)
		n = e->max - *pos;
	fprintf(e->fp, "%*s", n, "");
	*pos += n;
}

static int
emit_table_row(struct emit *e, json_t *obj)
{
	char *s;
	int i, pos = 0;

	if (e->rows == 0) {
		for (i = 0; i < e->ncols; i++)
			if (e->w[i] >= 0)
				emit_put_cell(e, i, e->cols[i].title, &pos, 0);
		fputc('\n', e->fp);
	}
	for (i = 0, pos = 0; i < e->ncols; i++) {
		if (e->w[i] < 0)
			continue;
		s = emit_cell_text(
		    json_object_get(obj, e->cols[i].key), &e->cols[i]);
		if (s == NULL)
			return error_set(EX_OSERR, "out of memory");
		emit_put_cell(
		    e, i, s, &pos, e->color && (e->cols[i].flags & EMIT_STATE));
		free(s);
	}
	fputc('\n', e->fp);
	return 0;
}

/* "key: value", a value of several lines indented under its key. */
static void
emit_text_scalar(FILE *fp, const char *key, const char *s, int indent)
{
	const char *k;
	char *esc = emit_escape(s, 1);

	if (esc == NULL)
		return;
	s = esc;
	fprintf(fp, "%*s%s: ", indent, "", key);
	for (; (k = strchr(s, '\n')) != NULL && k[1] != '\0'; s = k + 1)
		fprintf(fp, "%.*s\n%*s", (int)(k - s), s, indent + 4, "");
	fprintf(fp, "%s%s", s, strchr(s, '\n') ? "" : "\n");
	free(esc);
}

static void emit_text_value(FILE *fp, const char *key, json_t *v, int indent);

/* One member of an array: "- value", or an object's members under "- ". */
static void
emit_text_item(FILE *fp, json_t *m, int indent)
{
	char buf[64], *esc;
	const char *k, *s;
	json_t *v;
	int first = 1;

	if (json_is_object(m)) {
		json_object_foreach(m, k, v)
		{
			if (first) {
				snprintf(buf, sizeof(buf), "- %s", k);
				emit_text_value(fp, buf, v, indent);
				first = 0;
			} else
				emit_text_value(fp, k, v, indent + 2);
		}
	} else if ((s = emit_scalar(m, buf, sizeof(buf))) != NULL &&
	    (esc = emit_escape(s, 0)) != NULL) {
		fprintf(fp, "%*s- %s\n", indent, "", esc);
		free(esc);
	}
}

static void
emit_text_value(FILE *fp, const char *key, json_t *v, int indent)
{
	char buf[64], *ek;
	const char *s, *k;
	json_t *m;
	size_t i;

	if ((ek = emit_escape(key, 0)) == NULL)
		return;
	key = ek;
	if ((s = emit_scalar(v, buf, sizeof(buf))) != NULL)
		emit_text_scalar(fp, key, s, indent);
	else if (json_is_array(v) && json_array_size(v) == 0)
		fprintf(fp, "%*s%s: -\n", indent, "", key);
	else {
		fprintf(fp, "%*s%s:\n", indent, "", key);
		if (json_is_object(v)) {
			json_object_foreach(v, k, m)
			    emit_text_value(fp, k, m, indent + 2);
		} else {
			json_array_foreach(v, i, m)
			    emit_text_item(fp, m, indent + 2);
		}
	}
	free(ek);
}

int
emit_row(struct emit *e, json_t *obj)
{
	const char *k;
	json_t *v;
	int r = 0;

	switch (e->f) {
	case EMIT_JSON:
		fputs(e->rows ? ",\n" : "[\n", e->fp);
		r = json_dumpf(
		    obj, e->fp, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		break;
	case EMIT_TABLE:
		if (emit_table_row(e, obj) == -1)
			return -1;
		break;
	case EMIT_TEXT:
		if (e->rows)
			fputc('\n', e->fp);
		json_object_foreach(obj, k, v) emit_text_value(e->fp, k, v, 0);
		break;
	default:
		r = json_dumpf(
		    obj, e->fp, JSON_COMPACT | JSON_REAL_PRECISION(10));
		fputc('\n', e->fp);
	}
	e->rows++;
	if (ferror(e->fp))
		return error_set(EX_IOERR, "cannot write output");
	/* Not the stream's: what jansson dumps with ran out. */
	if (r == -1)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

int
emit_close(struct emit *e)
{
	int r = 0;

	if (e->f == EMIT_JSON)
		fputs(e->rows ? "\n]\n" : "[]\n", e->fp);
	if (fflush(e->fp) == EOF || ferror(e->fp))
		r = error_set(EX_IOERR, "cannot write output");
	free(e->w);
	free(e);
	return r;
}
