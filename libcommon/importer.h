/*
 * importer: what the readers of foreign documents (import-*.c) share.
 * Internal to import; the tools include import.h only.
 */
#ifndef IMPORTER_H
#define IMPORTER_H

#include <stdio.h>
#include <jansson.h>

#include "import.h"

/* The readers: each returns an array of specs, as import_specs(). */
json_t *import_bacalhau(json_t *doc, const struct import_opts *o);
json_t *import_studioml(json_t *doc, const struct import_opts *o);
json_t *import_determined(json_t *doc, const struct import_opts *o);

/* Where a reader is in the document, and whether its names match
 * regardless of case (Go's encoding/json does). */
struct import_at {
	const char *path;
	int anycase;
};

/* -1 with an EX_DATAERR error "path: message". */
int import_bad(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A member by name (any case when anycase); NULL when absent or null. */
json_t *import_member(json_t *o, const char *key, int anycase);

/*
 * Typed getters: 0 with *out NULL when absent (or null), 0 with *out set
 * when of the type, -1 naming "path: 'key' must be ..." when of another.
 * import_get_str gives NULL for an empty string too; import_get_strings
 * checks every element is a string.
 */
int import_get(struct import_at a, json_t *o, const char *key, json_type type,
    const char *what, json_t **out);
int import_get_str(
    struct import_at a, json_t *o, const char *key, const char **out);
int import_get_strings(
    struct import_at a, json_t *o, const char *key, json_t **out);

/* A size as go-humanize reads it ("1gb" is 10^9 bytes, "1gib" 2^30) into a
 * new integer *out: 0, or -1 naming path (or EX_OSERR, out of memory). */
int import_humanize_size(const char *path, const char *s, json_t **out);

/* o[key] (a size string or a number of bytes) into res[field] when it is
 * above zero: 0, or -1 naming a.path.key. */
int import_size_member(struct import_at a, json_t *o, const char *key,
    json_t *res, const char *field);

/* Words for sh(1): single-quoted; " --opt=VALUE" as one word; each
 * element of an array of strings after a space. */
void import_sh_word(FILE *fp, const char *s);
void import_sh_opt(FILE *fp, const char *opt, const char *value);
void import_sh_words(FILE *fp, json_t *arr);

/* The place in the work directory of an absolute target (its leading
 * slashes skipped), and whether target is absolute, not "/" and free of
 * "..". */
const char *import_relative(const char *target);
int import_target_ok(const char *target);

/*
 * o[k] = v (a copy; nothing when v is NULL); o[k], made an empty object or
 * array when absent.  o may be NULL (what the last two give when out of
 * memory), so that calls nest and one check covers them: import_set_str()
 * returns 0 or -1, the others NULL, with an EX_OSERR error.
 */
int import_set_str(json_t *o, const char *k, const char *v);
json_t *import_object_at(json_t *o, const char *k);
json_t *import_array_at(json_t *o, const char *k);

/*
 * A reader of a document's object, as spec.c checks a spec: one entry a
 * member, each with a small reader called in the table's order.  An entry
 * without read is a member known to mean nothing here (not kept).
 */
struct import_field {
	const char *name;
	int (*read)(void *ctx, const char *path, const char *name, json_t *v);
};

/*
 * Read the members of o (the object at path) by table t: read(ctx,
 * "PATH.NAME", NAME, value) for each member present and not null.  A
 * member no entry names is kept in foreign under its path ("$.a.b"), or,
 * when foreign is NULL, refused.  Returns 0, or -1 with the reader's error
 * or an EX_DATAERR one naming the path ("must be an object", "unknown
 * key").
 */
int import_table(void *ctx, const char *path, json_t *o,
    const struct import_field *t, json_t *foreign);

/*
 * A bool as Go's YAML reads one into a bool-typed field: true, false, or
 * YAML 1.1's words (y, yes, on, n, no, off, in their usual cases), which
 * yamljson leaves as strings.  1 or 0, or -1 when v is none of them.
 */
int import_bool(const json_t *v);

/*
 * The text of a string-typed member: a string's own, or a number's (YAML
 * gives one where Go reads the field as text), printed into a new string
 * appended to hold so that it lives as long as hold does.  NULL when v is
 * neither, or when memory runs out (then with an EX_OSERR error).
 */
const char *import_text(json_t *v, json_t *hold);

#endif
