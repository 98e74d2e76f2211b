#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "error.h"
#include "yamljson.h"

#define TAG_YAML "tag:yaml.org,2002:"

/* What a scalar's text is, as yaml.v2's resolver sees it. */
enum scalar_kind {
	SC_STR,
	SC_NULL,
	SC_BOOL,
	SC_BOOL11, /* yes, no, on, off...: YAML 1.1 only */
	SC_INT,
	SC_BIG, /* an integer beyond int64, as a real */
	SC_FLOAT,
	SC_SPECIAL, /* .inf, .nan */
	SC_RANGE, /* a number no double holds */
	SC_NOMEM
};

struct scalar {
	enum scalar_kind kind;
	int b;
	int64_t i;
	double d;
};

static const struct {
	const char *text;
	enum scalar_kind kind;
	int b;
} scalar_words[] = {{"", SC_NULL, 0}, {"~", SC_NULL, 0}, {"null", SC_NULL, 0},
    {"Null", SC_NULL, 0}, {"NULL", SC_NULL, 0}, {"true", SC_BOOL, 1},
    {"True", SC_BOOL, 1}, {"TRUE", SC_BOOL, 1}, {"false", SC_BOOL, 0},
    {"False", SC_BOOL, 0}, {"FALSE", SC_BOOL, 0}, {"y", SC_BOOL11, 1},
    {"Y", SC_BOOL11, 1}, {"yes", SC_BOOL11, 1}, {"Yes", SC_BOOL11, 1},
    {"YES", SC_BOOL11, 1}, {"on", SC_BOOL11, 1}, {"On", SC_BOOL11, 1},
    {"ON", SC_BOOL11, 1}, {"n", SC_BOOL11, 0}, {"N", SC_BOOL11, 0},
    {"no", SC_BOOL11, 0}, {"No", SC_BOOL11, 0}, {"NO", SC_BOOL11, 0},
    {"off", SC_BOOL11, 0}, {"Off", SC_BOOL11, 0}, {"OFF", SC_BOOL11, 0},
    {".nan", SC_SPECIAL, 0}, {".NaN", SC_SPECIAL, 0}, {".NAN", SC_SPECIAL, 0},
    {".inf", SC_SPECIAL, 0}, {".Inf", SC_SPECIAL, 0}, {".INF", SC_SPECIAL, 0},
    {"+.inf", SC_SPECIAL, 0}, {"+.Inf", SC_SPECIAL, 0},
    {"+.INF", SC_SPECIAL, 0}, {"-.inf", SC_SPECIAL, 0},
    {"-.Inf", SC_SPECIAL, 0}, {"-.INF", SC_SPECIAL, 0}};

struct anchor {
	json_t *value;
	char *text; /* a scalar's text, for an alias used as a key */
	size_t nodes; /* values a copy makes */
	int height; /* levels of mappings and sequences in it */
};

/* A mapping or sequence being read. */
struct frame {
	json_t *value;
	char *anchor; /* its anchor, defined when it ends */
	size_t first; /* nodes made before it */
	int height; /* its tallest child's height */
	char *key; /* a mapping's key waiting for its value */
	int merging; /* that key is "<<" */
	int merged; /* a "<<" key was seen */
	json_t *merge; /* what "<<" holds: merged in when the mapping ends */
	yaml_mark_t mark; /* where it starts */
};

struct reader {
	yaml_parser_t parser;
	yaml_event_t event;
	const char *buf;
	size_t len;
	struct frame stack[YAMLJSON_MAX_DEPTH];
	int depth;
	json_t *names; /* anchor name -> index in anchors */
	struct anchor *anchors;
	size_t nanchors, anchors_cap;
	size_t nodes;
	json_t *root; /* the document's value */
	json_t *docs;
};

static int
nomem(void)
{
	return error_set(EX_OSERR, "out of memory");
}

/* An EX_DATAERR error at mark.  Returns -1. */
static int
bad(const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(EX_DATAERR, "line %zu, column %zu: %s", m->line + 1,
	    m->column + 1, msg);
}

/* "!!int" for "tag:yaml.org,2002:int", other tags as they are. */
static const char *
tag_short(const char *tag, char *buf, size_t size)
{
	if (strncmp(tag, TAG_YAML, strlen(TAG_YAML)) != 0)
		return tag;
	snprintf(buf, size, "!!%s", tag + strlen(TAG_YAML));
	return buf;
}

/* 1 when tag is the YAML tag named name ("int"). */
static int
tag_is(const yaml_char_t *tag, const char *name)
{
	const char *t = (const char *)tag;

	return t != NULL && strncmp(t, TAG_YAML, strlen(TAG_YAML)) == 0 &&
	    strcmp(t + strlen(TAG_YAML), name) == 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Skip the digits at *s: 1 when there was one. */
static int
skip_digits(const char **s)
{
	const char *p = *s;

	while (is_digit(**s))
		(*s)++;
	return *s > p;
}

/* yaml.v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int
float_syntax(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		s++;
		if (!skip_digits(&s))
			return 0;
	} else {
		if (!skip_digits(&s))
			return 0;
		if (*s == '.') {
			s++;
			skip_digits(&s);
		}
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!skip_digits(&s))
			return 0;
	}
	return *s == '\0';
}

/*
 * Go's strconv.ParseUint(s, 0, 64): 0x, 0o, 0b prefixes, a leading 0 for
 * octal.  Returns 0 with *out set, 1 when the number is too large, -1
 * when s is not one.
 */
static int
go_uint(const char *s, uint64_t *out)
{
	unsigned base = 10, d;
	uint64_t n = 0;
	int range = 0;
	char c;

	if (*s == '\0')
		return -1;
	if (s[0] == '0') {
		c = s[1] | 0x20;
		base = 8;
		s++;
		if (s[0] != '\0' && s[1] != '\0' &&
		    (c == 'b' || c == 'o' || c == 'x')) {
			base = c == 'b' ? 2 : c == 'o' ? 8 : 16;
			s++;
		}
	}
	for (; *s != '\0'; s++) {
		c = *s | 0x20;
		if (is_digit(*s))
			d = *s - '0';
		else if (c >= 'a' && c <= 'z')
			d = c - 'a' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		if (n > (UINT64_MAX - d) / base)
			range = 1;
		else
			n = n * base + d;
	}
	*out = n;
	return range;
}

/* A real from float_syntax() text. */
static void
scalar_float(const char *s, enum scalar_kind kind, struct scalar *sc)
{
	sc->d = strtod(s, NULL);
	sc->kind = isinf(sc->d) ? SC_RANGE : kind;
}

/*
 * A number that starts with a digit or a sign, '_' dropped: an int as
 * ParseInt reads it, else one as ParseUint does (a real here), else a real
 * of yaml.v2's float syntax, else a string.
 */
static void
scalar_number(const char *plain, struct scalar *sc)
{
	const char *p = plain;
	uint64_t u = 0;
	int neg = 0, r;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	r = go_uint(p, &u);
	sc->kind = SC_INT;
	if (r == 0 && !neg && u <= INT64_MAX)
		sc->i = (int64_t)u;
	else if (r == 0 && neg && u <= (uint64_t)INT64_MAX + 1)
		sc->i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	else if (r == 0 && !neg) {
		sc->kind = SC_BIG;
		sc->d = (double)u;
	} else if (float_syntax(plain))
		scalar_float(plain, r >= 0 ? SC_BIG : SC_FLOAT, sc);
	else
		sc->kind = r >= 0 ? SC_RANGE : SC_STR;
}

/* ParseFloat's rule for '_': between two digits ("._5" is no number). */
static int
underscores_ok(const char *s)
{
	for (const char *p = s; (p = strchr(p, '_')) != NULL; p++)
		if (p == s || !is_digit(p[-1]) || !is_digit(p[1]))
			return 0;
	return 1;
}

/* s without its '_', or s itself when it has none; NULL out of memory. */
static char *
drop_underscores(const char *s)
{
	char *t, *q;

	if (strchr(s, '_') == NULL)
		return (char *)s;
	if ((t = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (q = t; *s != '\0'; s++)
		if (*s != '_')
			*q++ = *s;
	*q = '\0';
	return t;
}

/* Resolve the text of a plain scalar as yaml.v2 does. */
static void
scalar_resolve(const char *s, struct scalar *sc)
{
	char *plain;
	size_t i;

	for (i = 0; i < sizeof(scalar_words) / sizeof(scalar_words[0]); i++)
		if (strcmp(s, scalar_words[i].text) == 0) {
			sc->kind = scalar_words[i].kind;
			sc->b = scalar_words[i].b;
			return;
		}
	sc->kind = SC_STR;
	if (*s != '.' && *s != '+' && *s != '-' && !is_digit(*s))
		return;
	if (*s == '.' && !underscores_ok(s))
		return;
	if ((plain = drop_underscores(s)) == NULL) {
		sc->kind = SC_NOMEM;
		return;
	}
	if (*s != '.')
		scalar_number(plain, sc);
	else if (float_syntax(plain))
		scalar_float(plain, SC_FLOAT, sc);
	if (plain != s)
		free(plain);
}

/* What kinds a tag takes, and what it makes of them. */
static int
scalar_tagged(const char *tag, struct scalar *sc)
{
	if (tag_is((const yaml_char_t *)tag, "int"))
		return sc->kind == SC_INT || sc->kind == SC_BIG;
	if (tag_is((const yaml_char_t *)tag, "float")) {
		if (sc->kind == SC_INT) {
			sc->kind = SC_FLOAT;
			sc->d = (double)sc->i;
		} else if (sc->kind == SC_SPECIAL)
			sc->kind = SC_STR;
		return sc->kind == SC_FLOAT || sc->kind == SC_BIG ||
		    sc->kind == SC_STR;
	}
	if (tag_is((const yaml_char_t *)tag, "bool")) {
		if (sc->kind == SC_BOOL11)
			sc->kind = SC_BOOL;
		return sc->kind == SC_BOOL;
	}
	return sc->kind == SC_NULL;
}

/* The kind of the scalar event ev, by its style and tag.  0 or -1. */
static int
scalar_kind(const yaml_event_t *ev, struct scalar *sc)
{
	const char *text = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	char buf[256];

	sc->kind = SC_STR;
	if (memchr(text, '\0', ev->data.scalar.length) != NULL)
		return bad(&ev->start_mark, "string holds a NUL character");
	if (tag == NULL && !ev->data.scalar.plain_implicit)
		return 0;
	if (tag != NULL &&
	    (strcmp(tag, "!") == 0 || tag_is(ev->data.scalar.tag, "str")))
		return 0;
	if (tag != NULL && !tag_is(ev->data.scalar.tag, "int") &&
	    !tag_is(ev->data.scalar.tag, "float") &&
	    !tag_is(ev->data.scalar.tag, "bool") &&
	    !tag_is(ev->data.scalar.tag, "null"))
		return bad(&ev->start_mark, "unsupported tag '%s'",
		    tag_short(tag, buf, sizeof(buf)));
	scalar_resolve(text, sc);
	if (sc->kind == SC_NOMEM)
		return nomem();
	if (sc->kind == SC_RANGE)
		return bad(
		    &ev->start_mark, "number '%.64s' out of range", text);
	if (tag == NULL && (sc->kind == SC_BOOL11 || sc->kind == SC_SPECIAL))
		sc->kind = SC_STR;
	else if (tag != NULL && !scalar_tagged(tag, sc))
		return bad(&ev->start_mark, "cannot read '%.64s' as %s", text,
		    tag_short(tag, buf, sizeof(buf)));
	return 0;
}

static json_t *
scalar_json(const struct scalar *sc, const char *text, size_t len)
{
	switch (sc->kind) {
	case SC_NULL:
		return json_null();
	case SC_BOOL:
		return json_boolean(sc->b);
	case SC_INT:
		return json_integer(sc->i);
	case SC_BIG:
	case SC_FLOAT:
		return json_real(sc->d);
	default:
		return json_stringn(text, len);
	}
}

/* Count n more values against YAMLJSON_MAX_NODES. */
static int
reader_count(struct reader *r, size_t n)
{
	if (n > YAMLJSON_MAX_NODES - r->nodes)
		return bad(&r->event.start_mark,
		    "more than %d values once aliases are expanded",
		    YAMLJSON_MAX_NODES);
	r->nodes += n;
	return 0;
}

/* Define (or define again) anchor name as value; text for a scalar. */
static int
anchor_set(struct reader *r, const char *name, json_t *value, const char *text,
    size_t nodes, int height)
{
	json_t *idx = json_object_get(r->names, name);
	struct anchor *a, *p;
	char *t = NULL;

	if (text != NULL && (t = strdup(text)) == NULL)
		return nomem();
	if (idx != NULL) {
		a = &r->anchors[json_integer_value(idx)];
		json_decref(a->value);
		free(a->text);
	} else {
		if (r->nanchors == r->anchors_cap) {
			p = reallocarray(
			    r->anchors, r->anchors_cap * 2 + 16, sizeof(*p));
			if (p == NULL)
				goto fail;
			r->anchors = p;
			r->anchors_cap = r->anchors_cap * 2 + 16;
		}
		if (json_object_set_new(r->names, name,
			json_integer((json_int_t)r->nanchors)) == -1)
			goto fail;
		a = &r->anchors[r->nanchors++];
	}
	a->value = json_incref(value);
	a->text = t;
	a->nodes = nodes;
	a->height = height;
	return 0;
fail:
	free(t);
	return nomem();
}

/* Anchors belong to one document. */
static void
anchors_clear(struct reader *r)
{
	for (size_t i = 0; i < r->nanchors; i++) {
		json_decref(r->anchors[i].value);
		free(r->anchors[i].text);
	}
	r->nanchors = 0;
	json_object_clear(r->names);
}

static void
frame_clear(struct frame *f)
{
	json_decref(f->value);
	json_decref(f->merge);
	free(f->anchor);
	free(f->key);
	memset(f, 0, sizeof(*f));
}

static struct frame *
reader_top(struct reader *r)
{
	return r->depth > 0 ? &r->stack[r->depth - 1] : NULL;
}

/* 1 when the next value read is a mapping's key. */
static int
reader_wants_key(struct reader *r)
{
	struct frame *f = reader_top(r);

	return f != NULL && json_is_object(f->value) && f->key == NULL &&
	    !f->merging;
}

/* Take v (height levels tall; stolen) as what "<<" holds. */
static int
frame_take_merge(struct frame *f, json_t *v, int height, const yaml_mark_t *m)
{
	static const char msg[] =
	    "merge key '<<' needs a mapping or a list of mappings";
	size_t i;
	json_t *e;

	f->merging = 0;
	f->merge = v;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			if (!json_is_object(e))
				return bad(m, msg);
		}
		height--;
	} else if (!json_is_object(v))
		return bad(m, msg);
	/* what is merged in is one level down (two in a list) */
	if (height - 1 > f->height)
		f->height = height - 1;
	return 0;
}

/* Merge what "<<" held: keys the mapping has win, then earlier mappings. */
static int
frame_merge(struct frame *f)
{
	json_t *from, *v;
	const char *k;
	size_t i, n = json_is_array(f->merge) ? json_array_size(f->merge) : 1;

	for (i = 0; i < n; i++) {
		from = json_is_array(f->merge) ? json_array_get(f->merge, i)
					       : f->merge;
		json_object_foreach(from, k, v)
		{
			if (json_object_get(f->value, k) == NULL &&
			    json_object_set(f->value, k, v) == -1)
				return nomem();
		}
	}
	return 0;
}

/* Put v (height levels tall; stolen) where the document is at. */
static int
reader_add(struct reader *r, json_t *v, int height, const yaml_mark_t *m)
{
	struct frame *f = reader_top(r);
	int rc;

	if (f == NULL) {
		json_decref(r->root);
		r->root = v;
		return 0;
	}
	if (f->merging)
		return frame_take_merge(f, v, height, m);
	if (height > f->height)
		f->height = height;
	if (json_is_array(f->value))
		rc = json_array_append_new(f->value, v);
	else
		rc = json_object_set_new(f->value, f->key, v);
	free(f->key);
	f->key = NULL;
	return rc == -1 ? nomem() : 0;
}

/* The text of a key (or "<<" when merge); keys are set when their value is. */
static int
reader_key(struct reader *r, const char *text, int merge)
{
	struct frame *f = reader_top(r);

	if (merge ? f->merged : json_object_get(f->value, text) != NULL)
		return bad(&r->event.start_mark, "duplicate key '%.64s'", text);
	if (merge) {
		f->merged = f->merging = 1;
		return 0;
	}
	if ((f->key = strdup(text)) == NULL)
		return nomem();
	return 0;
}

static int
reader_scalar(struct reader *r)
{
	const yaml_event_t *ev = &r->event;
	const char *text = (const char *)ev->data.scalar.value;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	int key = reader_wants_key(r), merge;
	struct scalar sc;
	json_t *v;

	/* yaml.v2 takes a plain "<<", or one tagged !!merge */
	merge = key && ev->data.scalar.length == 2 && strcmp(text, "<<") == 0 &&
	    (ev->data.scalar.plain_implicit ||
		tag_is(ev->data.scalar.tag, "merge"));
	sc.kind = SC_STR;
	if (!merge && scalar_kind(ev, &sc) == -1)
		return -1;
	if ((v = scalar_json(&sc, text, ev->data.scalar.length)) == NULL)
		return nomem();
	if (anchor != NULL && anchor_set(r, anchor, v, text, 1, 0) == -1)
		goto fail;
	if (key) {
		json_decref(v);
		return reader_key(r, text, merge);
	}
	if (reader_count(r, 1) == -1)
		goto fail;
	return reader_add(r, v, 0, &ev->start_mark);
fail:
	json_decref(v);
	return -1;
}

static int
reader_alias(struct reader *r)
{
	const yaml_event_t *ev = &r->event;
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a;
	json_t *idx, *v;

	for (int i = 0; i < r->depth; i++)
		if (r->stack[i].anchor != NULL &&
		    strcmp(r->stack[i].anchor, name) == 0)
			return bad(&ev->start_mark,
			    "anchor '%s' value contains itself", name);
	if ((idx = json_object_get(r->names, name)) == NULL)
		return bad(&ev->start_mark, "unknown anchor '%s'", name);
	a = &r->anchors[json_integer_value(idx)];
	if (reader_wants_key(r)) {
		if (a->text == NULL)
			return bad(
			    &ev->start_mark, "a mapping key must be a scalar");
		return reader_key(r, a->text, 0);
	}
	if (r->depth + a->height > YAMLJSON_MAX_DEPTH)
		return bad(&ev->start_mark, "nested deeper than %d levels",
		    YAMLJSON_MAX_DEPTH);
	if (reader_count(r, a->nodes) == -1)
		return -1;
	if ((v = json_deep_copy(a->value)) == NULL)
		return nomem();
	return reader_add(r, v, a->height, &ev->start_mark);
}

/* The start of a mapping (or a sequence). */
static int
reader_push(struct reader *r, int mapping)
{
	const yaml_event_t *ev = &r->event;
	const char *tag = (const char *)(mapping ? ev->data.mapping_start.tag
						 : ev->data.sequence_start.tag);
	const char *anchor =
	    (const char *)(mapping ? ev->data.mapping_start.anchor
				   : ev->data.sequence_start.anchor);
	struct frame *f;
	char buf[256];

	if (reader_wants_key(r))
		return bad(&ev->start_mark, "a mapping key must be a scalar");
	if (tag != NULL && strcmp(tag, "!") != 0 &&
	    !tag_is((const yaml_char_t *)tag, mapping ? "map" : "seq"))
		return bad(&ev->start_mark, "unsupported tag '%s'",
		    tag_short(tag, buf, sizeof(buf)));
	if (r->depth == YAMLJSON_MAX_DEPTH)
		return bad(&ev->start_mark, "nested deeper than %d levels",
		    YAMLJSON_MAX_DEPTH);
	if (reader_count(r, 1) == -1)
		return -1;
	f = &r->stack[r->depth++];
	f->first = r->nodes - 1;
	f->mark = ev->start_mark;
	if ((f->value = mapping ? json_object() : json_array()) == NULL ||
	    (anchor != NULL && (f->anchor = strdup(anchor)) == NULL))
		return nomem();
	return 0;
}

/* The end of a mapping or a sequence. */
static int
reader_pop(struct reader *r)
{
	struct frame *f = reader_top(r);
	int height = f->height + 1;
	yaml_mark_t mark = f->mark;
	json_t *v;

	if (f->merge != NULL && frame_merge(f) == -1)
		return -1;
	if (f->anchor != NULL &&
	    anchor_set(r, f->anchor, f->value, NULL, r->nodes - f->first,
		height) == -1)
		return -1;
	v = json_incref(f->value);
	frame_clear(f);
	r->depth--;
	return reader_add(r, v, height, &mark);
}

static int
reader_document_end(struct reader *r)
{
	json_t *v = r->root != NULL ? r->root : json_null();

	r->root = NULL;
	anchors_clear(r);
	return json_array_append_new(r->docs, v) == -1 ? nomem() : 0;
}

/* Line and column (from 1) of byte offset in buf, counting characters. */
static void
offset_mark(const char *buf, size_t len, size_t offset, yaml_mark_t *m)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < offset && i < len; i++)
		if (buf[i] == '\n') {
			m->line++;
			m->column = 0;
		} else if ((buf[i] & 0xc0) != 0x80)
			m->column++;
}

/* libyaml's error, as one line. */
static int
reader_parse_error(struct reader *r)
{
	const yaml_parser_t *p = &r->parser;
	const char *problem = p->problem ? p->problem : "not YAML";
	yaml_mark_t m;

	if (p->error == YAML_MEMORY_ERROR)
		return nomem();
	if (p->error == YAML_READER_ERROR) {
		offset_mark(r->buf, r->len, p->problem_offset, &m);
		if (p->problem_value == -1)
			return bad(&m, "%s", problem);
		return bad(&m, "%s (0x%02x)", problem, p->problem_value);
	}
	if (p->context == NULL)
		return bad(&p->problem_mark, "%s", problem);
	return bad(&p->problem_mark, "%s (%s at line %zu, column %zu)", problem,
	    p->context, p->context_mark.line + 1, p->context_mark.column + 1);
}

/* Take in r->event: 1 at the end of the stream, 0, or -1. */
static int
reader_event(struct reader *r)
{
	switch (r->event.type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_END_EVENT:
		return reader_document_end(r);
	case YAML_SCALAR_EVENT:
		return reader_scalar(r);
	case YAML_ALIAS_EVENT:
		return reader_alias(r);
	case YAML_SEQUENCE_START_EVENT:
		return reader_push(r, 0);
	case YAML_MAPPING_START_EVENT:
		return reader_push(r, 1);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return reader_pop(r);
	default:
		return 0;
	}
}

static void
reader_free(struct reader *r)
{
	while (r->depth > 0)
		frame_clear(&r->stack[--r->depth]);
	anchors_clear(r);
	free(r->anchors);
	json_decref(r->names);
	json_decref(r->root);
	json_decref(r->docs);
	yaml_parser_delete(&r->parser);
}

json_t *
yamljson_parse(const char *buf, size_t len)
{
	struct reader r;
	json_t *docs = NULL;
	int rc;

	if (len > YAMLJSON_MAX_BYTES) {
		error_set(EX_DATAERR, "YAML text larger than %u MiB",
		    YAMLJSON_MAX_BYTES >> 20);
		return NULL;
	}
	memset(&r, 0, sizeof(r));
	r.buf = buf;
	r.len = len;
	if (!yaml_parser_initialize(&r.parser)) {
		nomem();
		return NULL;
	}
	yaml_parser_set_input_string(
	    &r.parser, (const unsigned char *)buf, len);
	if ((r.names = json_object()) == NULL ||
	    (r.docs = json_array()) == NULL) {
		nomem();
		goto done;
	}
	do {
		if (!yaml_parser_parse(&r.parser, &r.event)) {
			reader_parse_error(&r);
			goto done;
		}
		rc = reader_event(&r);
		yaml_event_delete(&r.event);
	} while (rc == 0);
	if (rc == 1) {
		docs = r.docs;
		r.docs = NULL;
	}
done:
	reader_free(&r);
	return docs;
}

int
yamljson_looks_like(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
		    buf[i] != '\n')
			break;
	return i == len || (buf[i] != '{' && buf[i] != '[');
}
