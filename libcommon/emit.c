#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emit.h"
#include "error.h"
#include "id.h"
#include "parse.h"

struct emit {
	FILE *fp;
	enum emit_format f;
	const struct emit_col *cols;
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

struct emit *
emit_open(FILE *fp, enum emit_format f, enum emit_format tty_default,
    const struct emit_col *cols)
{
	struct emit *e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	if (f == EMIT_AUTO)
		f = isatty(fileno(fp)) ? tty_default : EMIT_NDJSON;
	if (f == EMIT_TABLE && cols == NULL)
		f = EMIT_TEXT;
	e->fp = fp;
	e->f = f;
	e->cols = cols;
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

/* A cell: objects of strings become "k=v,k=v", arrays "a,b". */
static void
emit_cell(FILE *fp, json_t *v, const struct emit_col *c)
{
	char buf[64], out[512];
	const char *s, *key;
	json_t *m;
	size_t i, n = 0;
	int w = c->width;

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
	if (w == 0)
		fputs(s, fp);
	else if (c->flags & EMIT_RIGHT)
		fprintf(fp, "%*.*s  ", w, w, s);
	else
		fprintf(fp, "%-*.*s  ", w, w, s);
}

static void
emit_table_row(struct emit *e, json_t *obj)
{
	const struct emit_col *c;

	if (e->rows == 0) {
		for (c = e->cols; c->key != NULL; c++) {
			if (c->width == 0)
				fputs(c->title, e->fp);
			else
				fprintf(e->fp,
				    (c->flags & EMIT_RIGHT) ? "%*s  "
							    : "%-*s  ",
				    c->width, c->title);
		}
		fputc('\n', e->fp);
	}
	for (c = e->cols; c->key != NULL; c++)
		emit_cell(e->fp, json_object_get(obj, c->key), c);
	fputc('\n', e->fp);
}

static void
emit_text_value(FILE *fp, const char *key, json_t *v, int indent)
{
	char buf[64];
	const char *s, *k;
	json_t *m;
	size_t i;

	if ((s = emit_scalar(v, buf, sizeof(buf))) != NULL) {
		/* A value of several lines (a shell script) keeps to the
		 * layout: its further lines indented under its key. */
		fprintf(fp, "%*s%s: ", indent, "", key);
		for (; (k = strchr(s, '\n')) != NULL && k[1] != '\0'; s = k + 1)
			fprintf(
			    fp, "%.*s\n%*s", (int)(k - s), s, indent + 4, "");
		fprintf(fp, "%s%s", s, strchr(s, '\n') ? "" : "\n");
		return;
	}
	if (json_is_array(v) && json_array_size(v) == 0) {
		fprintf(fp, "%*s%s: -\n", indent, "", key);
		return;
	}
	fprintf(fp, "%*s%s:\n", indent, "", key);
	if (json_is_object(v)) {
		json_object_foreach(v, k, m)
		    emit_text_value(fp, k, m, indent + 2);
		return;
	}
	json_array_foreach(v, i, m)
	{
		if (json_is_object(m)) {
			const char *k2;
			json_t *m2;
			int first = 1;
			json_object_foreach(m, k2, m2)
			{
				if (first) {
					snprintf(buf, sizeof(buf), "- %s", k2);
					emit_text_value(
					    fp, buf, m2, indent + 2);
					first = 0;
				} else
					emit_text_value(fp, k2, m2, indent + 4);
			}
		} else if ((s = emit_scalar(m, buf, sizeof(buf))) != NULL)
			fprintf(fp, "%*s- %s\n", indent + 2, "", s);
	}
}

int
emit_row(struct emit *e, json_t *obj)
{
	const char *k;
	json_t *v;

	switch (e->f) {
	case EMIT_JSON:
		fputs(e->rows ? ",\n" : "[\n", e->fp);
		json_dumpf(
		    obj, e->fp, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
		break;
	case EMIT_TABLE:
		emit_table_row(e, obj);
		break;
	case EMIT_TEXT:
		if (e->rows)
			fputc('\n', e->fp);
		json_object_foreach(obj, k, v) emit_text_value(e->fp, k, v, 0);
		break;
	default:
		json_dumpf(obj, e->fp, JSON_COMPACT | JSON_REAL_PRECISION(10));
		fputc('\n', e->fp);
	}
	e->rows++;
	if (ferror(e->fp))
		return error_set(EX_IOERR, "cannot write output");
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
	free(e);
	return r;
}
