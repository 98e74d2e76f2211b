/*
 * yamljson: YAML text read into jansson values, the way the Go programs
 * whose job files jobkit imports read it (Bacalhau and Determined use
 * gopkg.in/yaml.v2 through sigs.k8s.io/yaml: YAML 1.1 scalars), so that a
 * document means here what it means there.
 *
 * A plain (unquoted, untagged) scalar is
 *   null     ~, null, Null, NULL, or nothing at all;
 *   a bool   true, True, TRUE, false, False, FALSE;
 *   an int   decimal with an optional sign, 0x hex, 0o or leading-0
 *            octal, 0b binary, '_' anywhere after the first character
 *            ignored ("1_000");  one beyond int64 becomes a real;
 *   a real   1.5, -.5, 1e3, 1., 08 (not octal, so decimal: yaml.v2),
 *            a jansson real even when whole (1e3 is 1000.0);
 *   a string otherwise.
 * Quoted and block (| >) scalars are always strings.
 *
 * Kept as strings, with their own text:
 *   - YAML 1.1's other booleans y, Y, yes, Yes, YES, n, N, no, No, NO, on,
 *     On, ON, off, Off, OFF.  sigs.k8s.io/yaml hands a string-typed field
 *     their text and a bool-typed field their truth, so a caller that wants
 *     a bool accepts these words itself and a caller that wants a string
 *     keeps "yes" (an environment entry "- A=yes" stays "A=yes").
 *   - .inf, -.inf, +.inf, .nan and their capitalised forms: JSON has no
 *     such numbers.
 *   - "=" (YAML 1.1's value key), "<<" outside a key, timestamps.
 * A number JSON cannot hold (1e400, 0x1ffffffffffffffff) is an error.
 *
 * Explicit tags: !!str, !!int, !!float, !!bool (which also takes the YAML
 * 1.1 words), !!null, !!map and !!seq are honoured; any other tag is an
 * error naming it.
 *
 * Mappings: keys are scalars (or aliases of scalars) and the key is the
 * scalar's text ("0x10", "yes", "~"); a duplicate key is an error.  A
 * plain "<<" key merges a mapping, or a list of mappings (earlier ones
 * win), into the mapping holding it; its own keys win over merged ones
 * wherever they are.  Keys keep the document's order, merged ones last.
 * Anchors and aliases are copied, never shared: every value of the result
 * has one owner.
 */
#ifndef YAMLJSON_H
#define YAMLJSON_H

#include <stddef.h>
#include <jansson.h>

#include "jsonin.h"

/* The limits of JSON input (jsonin.h) hold for YAML too. */
#define YAMLJSON_MAX_BYTES JSONIN_MAX_BYTES /* of text */
#define YAMLJSON_MAX_DEPTH JSONIN_MAX_DEPTH /* mappings and sequences */
/*
 * Values in the whole result, aliases expanded: what stops an alias bomb.
 * Far more than a job file holds (a 9 MiB one of 70000 jobs has 840000),
 * though 10 MiB of nothing but tiny values could go over.
 */
#define YAMLJSON_MAX_NODES 1000000

/*
 * Read the YAML stream buf[0..len) (no NUL needed at its end; UTF-8, or
 * UTF-16 with a byte order mark).  Returns a new array holding one value per
 * document (an empty stream gives an empty array), or NULL with an error:
 * EX_DATAERR with a one-line message naming the line and column ("line 3,
 * column 5: mapping values are not allowed in this context") for text
 * that is not YAML, does not fit the rules above, is not UTF-8, holds a
 * NUL character in a string, or goes over a limit above (text over the
 * size limit is "YAML text larger than 10 MiB", no line); EX_OSERR when
 * out of memory.  Nothing is left allocated on failure.
 */
json_t *yamljson_parse(const char *buf, size_t len);

/*
 * 1 when buf[0..len) is to be read as YAML, 0 when it is JSON: the first
 * byte that is not a space, tab, CR or LF is '{' or '['.  JSON is YAML
 * too, but a caller keeps jansson for it (its errors, its speed); a flow
 * mapping or sequence at the very start of a YAML file is then read as
 * JSON.  Empty or blank text is YAML (an empty stream).
 */
int yamljson_looks_like(const char *buf, size_t len);

#endif
