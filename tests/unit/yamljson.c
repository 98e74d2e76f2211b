/*
 * Unit tests of libcommon's yamljson: YAML read as gopkg.in/yaml.v2 (through
 * sigs.k8s.io/yaml) reads it, into jansson values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "tap.h"
#include "yamljson.h"

static char got[65536];

/* The documents of text[0..len) as compact JSON, or "error N: message". */
static const char *
yaml(const char *text, size_t len, size_t flags)
{
	json_t *docs;
	char *s;

	if ((docs = yamljson_parse(text, len)) == NULL) {
		snprintf(got, sizeof(got), "error %d: %s", error_status(),
		    error_msg());
		return got;
	}
	s = json_dumps(docs, JSON_COMPACT | JSON_ENCODE_ANY | flags);
	snprintf(got, sizeof(got), "%s", s != NULL ? s : "(no dump)");
	free(s);
	json_decref(docs);
	return got;
}

/* text as YAML, keys sorted. */
static const char *
y(const char *text)
{
	return yaml(text, strlen(text), JSON_SORT_KEYS);
}

/* "v: text" read, and the JSON want expected for its value. */
static void
value_is(const char *text, const char *want)
{
	char in[256], expect[256];

	snprintf(in, sizeof(in), "v: %s\n", text);
	snprintf(expect, sizeof(expect), "[{\"v\":%s}]", want);
	is_str(y(in), expect, "'%s' is %s", text, want);
}

static void
test_scalars(void)
{
	static const char *const yaml11[] = {"y", "Y", "yes", "Yes", "YES", "n",
	    "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"};
	static const struct {
		const char *in, *want;
	} values[] = {{"~", "null"}, {"null", "null"}, {"Null", "null"},
	    {"NULL", "null"}, {"", "null"}, {"true", "true"}, {"True", "true"},
	    {"TRUE", "true"}, {"false", "false"}, {"False", "false"},
	    {"FALSE", "false"}, {"tRUE", "\"tRUE\""}, {"0", "0"}, {"42", "42"},
	    {"-5", "-5"}, {"+7", "7"}, {"0x1F", "31"}, {"0X1f", "31"},
	    {"-0x10", "-16"}, {"0o17", "15"}, {"017", "15"}, {"0b101", "5"},
	    {"1_000", "1000"}, {"0x_ff", "255"},
	    {"9223372036854775807", "9223372036854775807"},
	    {"-9223372036854775808", "-9223372036854775808"},
	    {"9223372036854775808", "9.2233720368547758e18"},
	    {"0xffffffffffffffff", "1.8446744073709552e19"},
	    {"-9223372036854775809", "-9.2233720368547758e18"},
	    {"123456789012345678901234567890", "1.2345678901234568e29"},
	    {"1.5", "1.5"}, {"-.5", "-0.5"}, {".5", "0.5"}, {"+.5e1", "5.0"},
	    {"1e3", "1000.0"}, {"1E-1", "0.10000000000000001"}, {"1.", "1.0"},
	    {"08", "8.0"}, {"1_0.5", "10.5"}, {".inf", "\".inf\""},
	    {"-.inf", "\"-.inf\""}, {"+.INF", "\"+.INF\""},
	    {".nan", "\".nan\""}, {".NaN", "\".NaN\""}, {"nan", "\"nan\""},
	    {"inf", "\"inf\""}, {"=", "\"=\""}, {"<<", "\"<<\""},
	    {"0x", "\"0x\""}, {"0b2", "\"0b2\""}, {"1.2.3", "\"1.2.3\""},
	    {"._5", "\"._5\""}, {"-x", "\"-x\""}, {"1e", "\"1e\""},
	    {"2001-12-14", "\"2001-12-14\""}, {"12:30", "\"12:30\""},
	    {"1Gb", "\"1Gb\""}, {"'yes'", "\"yes\""}, {"\"1\"", "\"1\""},
	    {"'null'", "\"null\""}, {"''", "\"\""}, {"\"true\"", "\"true\""},
	    {"\"caf\\u00e9\"", "\"caf\xc3\xa9\""}, {"!!str 1", "\"1\""},
	    {"!!str true", "\"true\""}, {"!!int \"10\"", "10"},
	    {"!!int 0x10", "16"}, {"!!float 1", "1.0"},
	    {"!!float '2.5'", "2.5"}, {"!!float .inf", "\".inf\""},
	    {"!!bool yes", "true"}, {"!!bool 'off'", "false"},
	    {"!!bool True", "true"}, {"!!null ''", "null"},
	    {"!!null ~", "null"}, {"! 12", "\"12\""},
	    {"!<tag:yaml.org,2002:int> 3", "3"}};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		value_is(values[i].in, values[i].want);
	for (size_t i = 0; i < sizeof(yaml11) / sizeof(yaml11[0]); i++) {
		char want[16];

		snprintf(want, sizeof(want), "\"%s\"", yaml11[i]);
		value_is(yaml11[i], want);
	}
	is_str(y("a: |\n  one\n  two\nb: >\n  one\n  two\nc: |-\n  42\n"),
	    "[{\"a\":\"one\\ntwo\\n\",\"b\":\"one two\\n\",\"c\":\"42\"}]",
	    "block scalars are strings");
	is_str(y("1: a\ntrue: b\n0x10: c\n~: d\n"),
	    "[{\"0x10\":\"c\",\"1\":\"a\",\"true\":\"b\",\"~\":\"d\"}]",
	    "a key is its scalar's text");
	is_str(y("hello"), "[\"hello\"]", "a document may be a scalar");
	is_str(y("[1, two, 3.5, yes, {a: b}]"),
	    "[[1,\"two\",3.5,\"yes\",{\"a\":\"b\"}]]", "flow collections");
}

static void
test_bad_scalars(void)
{
	static const struct {
		const char *in, *want;
	} bad[] = {{"0x1ffffffffffffffff",
		       "number '0x1ffffffffffffffff' "
		       "out of range"},
	    {"-0x8000000000000001",
		"number '-0x8000000000000001' out of range"},
	    {"1e400", "number '1e400' out of range"},
	    {"!!int 1e400", "number '1e400' out of range"},
	    {"!!int abc", "cannot read 'abc' as !!int"},
	    {"!!int 1.5", "cannot read '1.5' as !!int"},
	    {"!!float yes", "cannot read 'yes' as !!float"},
	    {"!!bool 1", "cannot read '1' as !!bool"},
	    {"!!null 0", "cannot read '0' as !!null"},
	    {"!!binary aGk=", "unsupported tag '!!binary'"},
	    {"!!timestamp 2001-12-14", "unsupported tag '!!timestamp'"},
	    {"!foo x", "unsupported tag '!foo'"},
	    {"!!merge x", "unsupported tag '!!merge'"},
	    {"!!seq {a: 1}", "unsupported tag '!!seq'"},
	    {"!!set {a: 1}", "unsupported tag '!!set'"},
	    {"!!str [a]", "unsupported tag '!!str'"},
	    {"\"a\\0b\"", "string holds a NUL character"}};
	char in[256], want[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), "v: %s\n", bad[i].in);
		snprintf(want, sizeof(want), "error 65: line 1, column 4: %s",
		    bad[i].want);
		is_str(y(in), want, "'%s' is refused", bad[i].in);
	}
	is_str(y("v: !!map {a: 1}\nw: !!seq [1]\n"),
	    "[{\"v\":{\"a\":1},\"w\":[1]}]", "!!map and !!seq are honoured");
}

static void
test_documents(void)
{
	is_str(y(""), "[]", "an empty stream is no document");
	is_str(y("# nothing but a comment\n\n"), "[]",
	    "a stream of comments is no document");
	is_str(y("---\n"), "[null]", "an empty document is null");
	is_str(
	    y("a: 1\n---\nb: 2\n"), "[{\"a\":1},{\"b\":2}]", "two documents");
	is_str(y("--- 1\n--- [x]\n...\n---\nc: d\n...\n"),
	    "[1,[\"x\"],{\"c\":\"d\"}]", "three documents with end markers");
	is_str(y("%YAML 1.1\n%TAG ! tag:yaml.org,2002:\n---\nv: !int '7'\n"),
	    "[{\"v\":7}]", "directives and a TAG handle");
	is_str(yaml("\xff\xfe"
		    "a\0:\0 \0"
		    "1\0\n\0",
		   12, 0),
	    "[{\"a\":1}]", "UTF-16 with a byte order mark");
}

static void
test_aliases(void)
{
	json_t *docs, *doc;

	is_str(y("a: &x {b: 1, c: [2]}\nd: *x\n"),
	    "[{\"a\":{\"b\":1,\"c\":[2]},\"d\":{\"b\":1,\"c\":[2]}}]",
	    "an alias repeats its anchor's value");
	is_str(y("a: &x 1\nb: &x two\nc: *x\n"),
	    "[{\"a\":1,\"b\":\"two\",\"c\":\"two\"}]",
	    "an anchor defined again: the latest holds");
	is_str(y("k: &k name\n*k : v\n"), "[{\"k\":\"name\",\"name\":\"v\"}]",
	    "an alias of a scalar as a key");
	is_str(y("a: &n 0x10\nb: {*n : x}\n"),
	    "[{\"a\":16,\"b\":{\"0x10\":\"x\"}}]",
	    "an alias key is its scalar's text");
	docs = yamljson_parse("a: &x {b: [1]}\nc: *x\n", 21);
	doc = json_array_get(docs, 0);
	ok(docs != NULL &&
		json_object_get(doc, "a") != json_object_get(doc, "c") &&
		json_object_get(json_object_get(doc, "a"), "b") !=
		    json_object_get(json_object_get(doc, "c"), "b") &&
		json_object_get(doc, "a")->refcount == 1,
	    "an alias is a copy: nothing is shared");
	json_decref(docs);
	is_str(y("a: *nope\n"),
	    "error 65: line 1, column 4: unknown anchor 'nope'",
	    "an unknown alias is refused");
	is_str(y("a: &x 1\n---\nb: *x\n"),
	    "error 65: line 3, column 4: unknown anchor 'x'",
	    "anchors do not cross documents");
	is_str(y("a: &x [1, *x]\n"),
	    "error 65: line 1, column 11: anchor 'x' value contains itself",
	    "an anchor inside itself is refused");
	is_str(y("a: &x [1]\n*x : 2\n"),
	    "error 65: line 2, column 1: a mapping key must be a scalar",
	    "an alias of a sequence as a key is refused");
}

static void
test_merge(void)
{
	is_str(y("base: &b {a: 1, b: 2}\nd:\n  <<: *b\n  b: 3\n"),
	    "[{\"base\":{\"a\":1,\"b\":2},\"d\":{\"a\":1,\"b\":3}}]",
	    "merge: the mapping's own keys win");
	is_str(y("base: &b {a: 1, b: 2}\nd:\n  b: 3\n  <<: *b\n"),
	    "[{\"base\":{\"a\":1,\"b\":2},\"d\":{\"a\":1,\"b\":3}}]",
	    "merge: its own keys win, before the merge key too");
	is_str(y("x: &x {a: 1, b: 1}\ny: &y {b: 2, c: 2}\n"
		 "z: {<<: [*x, *y], c: 3}\n"),
	    "[{\"x\":{\"a\":1,\"b\":1},\"y\":{\"b\":2,\"c\":2},"
	    "\"z\":{\"a\":1,\"b\":1,\"c\":3}}]",
	    "merge of a list: earlier mappings win");
	is_str(y("z:\n  <<: {a: 1}\n  b: 2\n"), "[{\"z\":{\"a\":1,\"b\":2}}]",
	    "merge of a mapping written in place");
	is_str(y("x: &x {a: 1}\ny: &y {<<: *x, b: 2}\nz: {<<: *y}\n"),
	    "[{\"x\":{\"a\":1},\"y\":{\"a\":1,\"b\":2},\"z\":{\"a\":1,\"b\":2}}"
	    "]",
	    "merge of a mapping that merged");
	is_str(y("z: {'<<': 1, !!merge <<: {a: 2}}\n"),
	    "[{\"z\":{\"<<\":1,\"a\":2}}]",
	    "a quoted '<<' is a key, a !!merge one merges");
	is_str(y("z:\n  <<: 5\n"),
	    "error 65: line 2, column 7: merge key '<<' needs a mapping or a "
	    "list of mappings",
	    "merge of a scalar is refused");
	is_str(y("x: &x [1]\nz:\n  <<: [*x]\n"),
	    "error 65: line 3, column 7: merge key '<<' needs a mapping or a "
	    "list of mappings",
	    "merge of a list of sequences is refused");
	is_str(y("z:\n  <<: {a: 1}\n  <<: {b: 1}\n"),
	    "error 65: line 3, column 3: duplicate key '<<'",
	    "two merge keys are refused");
}

static void
test_mappings(void)
{
	is_str(y("a: 1\nb: 2\na: 3\n"),
	    "error 65: line 3, column 1: duplicate key 'a'",
	    "a duplicate key is refused");
	is_str(y("x:\n  'a': 1\n  \"a\": 2\n"),
	    "error 65: line 3, column 3: duplicate key 'a'",
	    "a duplicate key is refused whatever its quoting");
	is_str(y("? [a]\n: 1\n"),
	    "error 65: line 1, column 3: a mapping key must be a scalar",
	    "a sequence as a key is refused");
	is_str(y("{a: 1}: 1\n"),
	    "error 65: line 1, column 1: a mapping key must be a scalar",
	    "a mapping as a key is refused");
	is_str(y("\"a\\0b\": 1\n"),
	    "error 65: line 1, column 1: string holds a NUL character",
	    "a key with a NUL character is refused");
	is_str(yaml("b: 1\na: 2\nc: 3\n", 15, 0), "[{\"b\":1,\"a\":2,\"c\":3}]",
	    "keys keep their order");
}

/* "[" n times, "]" n times. */
static char *
nested(int n)
{
	char *s = malloc(2 * n + 1);

	for (int i = 0; i < n; i++) {
		s[i] = '[';
		s[2 * n - 1 - i] = ']';
	}
	s[2 * n] = '\0';
	return s;
}

static void
test_limits(void)
{
	char *s, *big, msg[128];
	struct timespec t0, t1;
	size_t n;

	s = nested(YAMLJSON_MAX_DEPTH);
	ok(strncmp(y(s), "[[[", 3) == 0, "depth %d is allowed",
	    YAMLJSON_MAX_DEPTH);
	free(s);
	s = nested(YAMLJSON_MAX_DEPTH + 1);
	snprintf(msg, sizeof(msg),
	    "error 65: line 1, column %d: nested deeper than %d levels",
	    YAMLJSON_MAX_DEPTH + 1, YAMLJSON_MAX_DEPTH);
	is_str(y(s), msg, "depth %d is refused", YAMLJSON_MAX_DEPTH + 1);
	free(s);
	/* 1 + 20 levels, used 1 + 20 levels down: 41 */
	big = malloc(1024);
	s = nested(20);
	snprintf(big, 1024, "a: &x %s\nb: %.20s*x%s\n", s, s, s + 20);
	is_str(y(big),
	    "error 65: line 2, column 24: nested deeper than 32 levels",
	    "an alias that makes it too deep is refused");
	free(s);
	s = nested(11);
	snprintf(big, 1024, "a: &x %s\nb: %.10s*x%s\n", s, s, s + 12);
	ok(strncmp(y(big), "[{", 2) == 0, "one that does not is read: %.40s",
	    got);
	free(s);
	free(big);

	const char *lol = "a: &a [x, x, x, x, x, x, x, x, x]\n"
			  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			  "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
			  "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
			  "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	y(lol);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ok(strstr(got, "error 65: line 7, column ") != NULL &&
		strstr(got,
		    "more than 1000000 values once aliases are "
		    "expanded") != NULL &&
		(t1.tv_sec - t0.tv_sec) * 1000 +
			(t1.tv_nsec - t0.tv_nsec) / 1000000 <
		    5000,
	    "a billion laughs are refused quickly: %s", got);

	n = YAMLJSON_MAX_BYTES;
	big = malloc(n + 1);
	memset(big, '\n', n + 1);
	memcpy(big, "a: 1\n", 5);
	is_str(yaml(big, n, 0), "[{\"a\":1}]", "10 MiB of text is read");
	is_str(yaml(big, n + 1, 0), "error 65: YAML text larger than 10 MiB",
	    "a byte more is refused");
	free(big);
}

static void
test_syntax(void)
{
	is_str(y("a: 1\nb: c: d\n"),
	    "error 65: line 2, column 5: mapping values are not allowed in "
	    "this context",
	    "a syntax error names line and column");
	is_str(y("a:\n  - 1\n - 2\n"),
	    "error 65: line 3, column 2: did not find expected key (while "
	    "parsing a block mapping at line 1, column 1)",
	    "what libyaml was parsing is named too");
	is_str(y("a: [1, 2\n"),
	    "error 65: line 2, column 1: did not find expected ',' or ']' "
	    "(while parsing a flow sequence at line 1, column 4)",
	    "an unclosed flow sequence");
	is_str(y("a: 1\nb: caf\xc3\xa9 \xff\n"),
	    "error 65: line 2, column 9: invalid leading UTF-8 octet (0xff)",
	    "bytes that are not UTF-8 are refused where they are");
	is_str(yaml("a: \"x\0\"\n", 8, 0),
	    "error 65: line 1, column 6: control characters are not allowed "
	    "(0x00)",
	    "a NUL byte is refused");
	is_str(y("a: \"\\ud800\"\n"),
	    "error 65: line 1, column 7: found invalid Unicode character "
	    "escape code (while parsing a quoted scalar at line 1, column 4)",
	    "a lone surrogate is refused");
}

static void
test_bacalhau(void)
{
	const char *job = "APIVersion: V1beta1\n"
			  "Spec:\n"
			  "  Engine: Docker\n"
			  "  Verifier: Noop\n"
			  "  Publisher: Estuary\n"
			  "  Docker:\n"
			  "    Image: ubuntu\n"
			  "    Entrypoint:\n"
			  "      - echo\n"
			  "      - \"hello\"\n"
			  "    EnvironmentVariables:\n"
			  "      - A=yes\n"
			  "      - B=1\n"
			  "  Resources:\n"
			  "    CPU: 0.5\n"
			  "    Memory: 1Gb\n"
			  "    GPU: \"1\"\n"
			  "  Timeout: 1800\n"
			  "  Deal:\n"
			  "    Concurrency: 1\n"
			  "  DoNotTrack: yes\n"
			  "  Annotations: [a, b]\n";

	is_str(yaml(job, strlen(job), 0),
	    "[{\"APIVersion\":\"V1beta1\",\"Spec\":{\"Engine\":\"Docker\","
	    "\"Verifier\":\"Noop\",\"Publisher\":\"Estuary\","
	    "\"Docker\":{\"Image\":\"ubuntu\",\"Entrypoint\":[\"echo\","
	    "\"hello\"],\"EnvironmentVariables\":[\"A=yes\",\"B=1\"]},"
	    "\"Resources\":{\"CPU\":0.5,\"Memory\":\"1Gb\",\"GPU\":\"1\"},"
	    "\"Timeout\":1800,\"Deal\":{\"Concurrency\":1},"
	    "\"DoNotTrack\":\"yes\",\"Annotations\":[\"a\",\"b\"]}}]",
	    "a Bacalhau V1beta1 job");
}

static void
test_looks_like(void)
{
	ok(yamljson_looks_like("{\"a\": 1}", 8) == 0, "an object is JSON");
	ok(yamljson_looks_like(" \r\n\t[1]", 7) == 0, "so is an array");
	ok(yamljson_looks_like("a: 1\n", 5) == 1, "a mapping is YAML");
	ok(yamljson_looks_like("---\n{}\n", 7) == 1, "so is '---'");
	ok(yamljson_looks_like("# x\n{}\n", 7) == 1, "so is a comment");
	ok(yamljson_looks_like("", 0) == 1 && yamljson_looks_like(" \n", 2),
	    "empty or blank text is YAML");
	ok(yamljson_looks_like("a{", 1) == 1, "only len bytes are looked at");
}

int
main(void)
{
	test_scalars();
	test_bad_scalars();
	test_documents();
	test_aliases();
	test_merge();
	test_mappings();
	test_limits();
	test_syntax();
	test_bacalhau();
	test_looks_like();
	return done_testing();
}
