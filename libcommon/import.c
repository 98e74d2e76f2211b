#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "import.h"
#include "importer.h"
#include "parse.h"
#include "spec.h"

int
import_format_parse(const char *name, enum import_format *f)
{
	if (strcmp(name, "bacalhau") == 0)
		*f = IMPORT_BACALHAU;
	else if (strcmp(name, "studioml") == 0)
		*f = IMPORT_STUDIOML;
	else if (strcmp(name, "determined") == 0)
		*f = IMPORT_DETERMINED;
	else
		return -1;
	return 0;
}

const char *
import_format_name(enum import_format f)
{
	return f == IMPORT_BACALHAU  ? "bacalhau"
	    : f == IMPORT_STUDIOML   ? "studioml"
	    : f == IMPORT_DETERMINED ? "determined"
				     : "jobkit";
}

int
import_bad(const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(EX_DATAERR, "%s: %s", path, msg);
}

/* A member by name; Bacalhau (Go) matches names regardless of case. */
json_t *
import_member(json_t *o, const char *key, int anycase)
{
	const char *k;
	json_t *v;

	if ((v = json_object_get(o, key)) != NULL || !anycase)
		return json_is_null(v) ? NULL : v;
	json_object_foreach(o, k, v)
	{
		if (strcasecmp(k, key) == 0)
			return json_is_null(v) ? NULL : v;
	}
	return NULL;
}

int
import_get(struct import_at a, json_t *o, const char *key, json_type type,
    const char *what, json_t **out)
{
	*out = import_member(o, key, a.anycase);
	if (*out != NULL && json_typeof(*out) != type)
		return import_bad(a.path, "'%s' must be %s", key, what);
	return 0;
}

int
import_get_str(struct import_at a, json_t *o, const char *key, const char **out)
{
	json_t *v;

	if (import_get(a, o, key, JSON_STRING, "a string", &v) == -1)
		return -1;
	*out = v && *json_string_value(v) ? json_string_value(v) : NULL;
	return 0;
}

/* An array of strings (or absent: an empty one). */
int
import_get_strings(struct import_at a, json_t *o, const char *key, json_t **out)
{
	json_t *v;
	size_t i;

	if (import_get(a, o, key, JSON_ARRAY, "an array of strings", out) == -1)
		return -1;
	json_array_foreach(*out, i, v)
	{
		if (!json_is_string(v))
			return import_bad(
			    a.path, "'%s[%zu]' must be a string", key, i);
	}
	return 0;
}

/* Sizes as go-humanize writes them: "1gb" is 10^9 bytes, "1gib" 2^30. */
int
import_humanize_size(const char *path, const char *s, json_t **out)
{
	static const char units[] = "kmgtpe";
	char buf[64], *p, *e;
	double n, mult = 1;
	size_t j = 0;

	for (const char *q = s; *q != '\0'; q++)
		if (!isspace((unsigned char)*q)) {
			if (j == sizeof(buf) - 1)
				return import_bad(
				    path, "invalid size '%.40s...'", s);
			buf[j++] = (char)tolower((unsigned char)*q);
		}
	buf[j] = '\0';
	n = strtod(buf, &e);
	if (e == buf || n < 0 || !isfinite(n))
		return import_bad(path, "invalid size '%s'", s);
	p = e;
	if (*p != '\0' && *p != 'b') {
		const char *u = strchr(units, *p);
		int base = 1000;
		if (u == NULL)
			return import_bad(path, "invalid size '%s'", s);
		p++;
		if (*p == 'i') {
			base = 1024;
			p++;
		}
		if (*p == 'b')
			p++;
		for (int i = 0; i <= u - units; i++)
			mult *= base;
	} else if (*p == 'b')
		p++;
	if (*p != '\0')
		return import_bad(path, "invalid size '%s'", s);
	n = ceil(n * mult);
	if (n > 9.2e18)
		return import_bad(path, "size '%s' is too large", s);
	if ((*out = json_integer((json_int_t)n)) == NULL)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

/* A size member that may be a string or a number of bytes. */
int
import_size_member(struct import_at a, json_t *o, const char *key, json_t *res,
    const char *field)
{
	char path[512];
	json_t *v = import_member(o, key, a.anycase), *n = NULL;

	snprintf(path, sizeof(path), "%.400s.%s", a.path, key);
	if (v == NULL || (json_is_string(v) && *json_string_value(v) == '\0'))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		n = json_incref(v);
	else if (!json_is_string(v))
		return import_bad(path, "must be a size");
	else if (import_humanize_size(path, json_string_value(v), &n) == -1)
		return -1;
	if (json_integer_value(n) > 0 && json_object_set(res, field, n) == -1) {
		json_decref(n);
		return error_set(EX_OSERR, "out of memory");
	}
	json_decref(n);
	return 0;
}

/* A word for sh(1): in single quotes, a quote as '\''. */
void
import_sh_word(FILE *fp, const char *s)
{
	fputc('\'', fp);
	for (; *s != '\0'; s++)
		if (*s == '\'')
			fputs("'\\''", fp);
		else
			fputc(*s, fp);
	fputc('\'', fp);
}

/* " --opt=VALUE" as one word: an option's value is never taken for an
 * option of its own, whatever it starts with. */
void
import_sh_opt(FILE *fp, const char *opt, const char *value)
{
	fprintf(fp, " %s", opt);
	import_sh_word(fp, value);
}

void
import_sh_words(FILE *fp, json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		fputc(' ', fp);
		import_sh_word(fp, json_string_value(v));
	}
}

/* A path inside the task's work directory for an absolute target. */
const char *
import_relative(const char *target)
{
	while (*target == '/')
		target++;
	return target;
}

/* An absolute path whose place in the work directory stays inside it. */
int
import_target_ok(const char *target)
{
	const char *p;
	size_t n;

	if (target == NULL || *target != '/' ||
	    *import_relative(target) == '\0')
		return 0;
	for (p = target; *p != '\0'; p += n) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 2 && strncmp(p, "..", 2) == 0)
			return 0;
	}
	return 1;
}

/* A " --volume=" mounting target from the same place in the work
 * directory. */
int
import_set_str(json_t *o, const char *k, const char *v)
{
	if (o != NULL && v == NULL)
		return 0;
	return spec_set(o, k, json_string(v));
}

json_t *
import_object_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL && spec_set(o, k, v = json_object()) == -1)
		return NULL;
	return v;
}

json_t *
import_array_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL && spec_set(o, k, v = json_array()) == -1)
		return NULL;
	return v;
}

/* The first note of a spec or of its shards: what would run otherwise
 * than in the document's own system. */
static const char *
first_note(json_t *spec)
{
	json_t *s;
	size_t i;

	if (json_array_size(json_object_get(spec, "notes")) > 0)
		return json_string_value(
		    json_array_get(json_object_get(spec, "notes"), 0));
	json_array_foreach(json_object_get(spec, "shards"), i, s)
	{
		if (first_note(s) != NULL)
			return first_note(s);
	}
	return NULL;
}

json_t *
import_specs(enum import_format f, json_t *doc, const struct import_opts *o)
{
	static const struct import_opts none;
	json_t *specs, *spec;
	const char *note;
	size_t i;

	if (o == NULL)
		o = &none;
	specs = f == IMPORT_BACALHAU ? import_bacalhau(doc, o)
	    : f == IMPORT_STUDIOML   ? import_studioml(doc, o)
				     : import_determined(doc, o);
	/* --strict: nothing runs otherwise than its document says. */
	json_array_foreach(o->strict ? specs : NULL, i, spec)
	{
		if ((note = first_note(spec)) != NULL) {
			error_set(EX_DATAERR, "%s (refused: --strict)", note);
			json_decref(specs);
			return NULL;
		}
	}

	/* Their inputs and results are paths in a work folder of its own. */
	json_array_foreach(specs, i, spec)
	{
		if (json_object_set_new(spec, "scratch", json_true()) == -1) {
			json_decref(specs);
			error_set(EX_OSERR, "out of memory");
			return NULL;
		}
	}
	return specs;
}

int
import_table(void *ctx, const char *path, json_t *o,
    const struct import_field *t, json_t *foreign)
{
	const struct import_field *f;
	char sub[640];
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return import_bad(path, "must be an object");
	for (f = t; f->name != NULL; f++) {
		v = json_object_get(o, f->name);
		if (v == NULL || json_is_null(v) || f->read == NULL)
			continue;
		snprintf(sub, sizeof(sub), "%.500s.%s", path, f->name);
		if (f->read(ctx, sub, f->name, v) == -1)
			return -1;
	}
	json_object_foreach(o, k, v)
	{
		for (f = t; f->name != NULL; f++)
			if (strcmp(f->name, k) == 0)
				break;
		if (f->name != NULL || json_is_null(v))
			continue;
		snprintf(sub, sizeof(sub), "%.500s.%s", path, k);
		if (foreign == NULL)
			return import_bad(sub, "unknown key");
		if (json_object_set(foreign, sub, v) == -1)
			return error_set(EX_OSERR, "out of memory");
	}
	return 0;
}

int
import_bool(const json_t *v)
{
	static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "on",
	    "On", "ON", "true", "True", "TRUE", NULL};
	static const char *const no[] = {"n", "N", "no", "No", "NO", "off",
	    "Off", "OFF", "false", "False", "FALSE", NULL};
	const char *s = json_string_value(v);

	if (json_is_boolean(v))
		return json_is_true(v);
	for (int i = 0; s != NULL && yes[i] != NULL; i++)
		if (strcmp(s, yes[i]) == 0)
			return 1;
	for (int i = 0; s != NULL && no[i] != NULL; i++)
		if (strcmp(s, no[i]) == 0)
			return 0;
	return -1;
}

const char *
import_text(json_t *v, json_t *hold)
{
	char buf[64];
	json_t *t;

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(
		    buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
	else
		return NULL;
	if ((t = json_string(buf)) == NULL ||
	    json_array_append_new(hold, t) == -1) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	return json_string_value(t);
}
