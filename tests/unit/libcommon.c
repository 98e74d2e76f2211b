/*
 * Unit tests of libcommon: parse, id, jsonin, idin, spec, emit, import, utf8,
 * sha256, sign, jobname.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emit.h"
#include "error.h"
#include "id.h"
#include "idin.h"
#include "import.h"
#include "jobname.h"
#include "jsonin.h"
#include "parse.h"
#include "sha256.h"
#include "sign.h"
#include "spec.h"
#include "tap.h"
#include "utf8.h"

static void
test_duration(void)
{
	static const struct {
		const char *in;
		int64_t ms;
	} good[] = {{"90s", 90000}, {"1h30m", 5400000}, {"1.5h", 5400000},
	    {"250ms", 250}, {"90", 90000}, {"0", 0}, {"2d", 172800000},
	    {"1w", 604800000}, {".5s", 500}, {"1m30s", 90000}};
	static const char *bad[] = {
	    "", "-5s", "5x", "h", "1h30", "1e3", "5.", "1000000w", "1 h", "s5"};
	int64_t ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		ok(parse_duration(good[i].in, &ms) == 0 && ms == good[i].ms,
		    "duration '%s' is %lld ms", good[i].in,
		    (long long)good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 42;
		ok(parse_duration(bad[i], &ms) == -1 && ms == 42 &&
			error_status() == EX_DATAERR &&
			strstr(error_msg(), bad[i]) != NULL,
		    "duration '%s' is refused, quoted, nothing stored", bad[i]);
	}
}

static void
test_size(void)
{
	static const struct {
		const char *in;
		uint64_t n;
	} good[] = {{"4096", 4096}, {"512MiB", 512ull << 20},
	    {"2G", 2ull << 30}, {"2GB", 2000000000ull}, {"4k", 4096},
	    {"1.5K", 1536}, {"1KiB", 1024}, {"3B", 3}, {"1T", 1ull << 40}};
	static const char *bad[] = {
	    "", "-1", "1X", "1iB", "20E", "1.5B", "G", "1GiBB"};
	uint64_t n;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(parse_size(good[i].in, &n) == 0 && n == good[i].n,
		    "size '%s'", good[i].in);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(parse_size(bad[i], &n) == -1 && error_status() == EX_DATAERR,
		    "size '%s' is refused", bad[i]);
}

static void
test_cpu(void)
{
	int64_t m;

	ok(parse_cpu("2", &m) == 0 && m == 2000, "cpu 2 is 2000m");
	ok(parse_cpu("0.5", &m) == 0 && m == 500, "cpu 0.5 is 500m");
	ok(parse_cpu("500m", &m) == 0 && m == 500, "cpu 500m");
	ok(parse_cpu("0.0001", &m) == -1, "cpu finer than 1m is refused");
	ok(parse_cpu("m", &m) == -1, "cpu 'm' is refused");
	ok(parse_cpu("-1", &m) == -1, "negative cpu is refused");
}

static void
test_time(void)
{
	const int64_t now = 1795000000000LL; /* 2026-11-18T... */
	char buf[32];
	int64_t ms;

	ok(parse_time("now", now, -1, &ms) == 0 && ms == now, "now");
	ok(parse_time("2026-11-22T10:00:00Z", now, -1, &ms) == 0 &&
		ms == 1795341600000LL,
	    "RFC 3339 UTC");
	ok(parse_time("2026-11-22T11:00:00+01:00", now, -1, &ms) == 0 &&
		ms == 1795341600000LL,
	    "RFC 3339 with an offset");
	ok(parse_time("2026-11-22T04:30:00-0530", now, -1, &ms) == 0 &&
		ms == 1795341600000LL,
	    "offset without a colon");
	ok(parse_time("2026-11-22T10:00:00.250Z", now, -1, &ms) == 0 &&
		ms == 1795341600250LL,
	    "fractional seconds");
	ok(parse_time("2026-11-22", now, -1, &ms) == 0 && ms == 1795305600000LL,
	    "a date is midnight UTC");
	ok(parse_time("-2h", now, 1, &ms) == 0 && ms == now - 7200000,
	    "-2h is two hours ago whatever the direction");
	ok(parse_time("+2h", now, -1, &ms) == 0 && ms == now + 7200000,
	    "+2h is two hours ahead");
	ok(parse_time("2h", now, -1, &ms) == 0 && ms == now - 7200000,
	    "bare 2h in a filter is ago");
	ok(parse_time("2h", now, 1, &ms) == 0 && ms == now + 7200000,
	    "bare 2h for --at is ahead");
	ok(parse_time("yesterday", now, -1, &ms) == -1 &&
		error_status() == EX_DATAERR,
	    "garbage is refused");
	ok(parse_time("2026-13-01", now, -1, &ms) == -1, "month 13");
	is_str(parse_fmt_time(1795341600250LL, buf), "2026-11-22T10:00:00.250Z",
	    "formatting with milliseconds");
	is_str(parse_fmt_time(0, buf), "1970-01-01T00:00:00.000Z", "epoch");
	ok(parse_time(parse_fmt_time(now, buf), 0, 1, &ms) == 0 && ms == now,
	    "format and parse round trip");
}

static void
test_int(void)
{
	int64_t v;

	ok(parse_int("42", 0, 100, &v) == 0 && v == 42, "int 42");
	ok(parse_int("101", 0, 100, &v) == -1, "int out of range");
	ok(parse_int("4x", 0, 100, &v) == -1, "int with junk");
	ok(parse_int("99999999999999999999", 0, INT64_MAX, &v) == -1,
	    "int overflow");
}

static void
test_id(void)
{
	static const int64_t nums[] = {1, 2, 31, 32, 1000, 32767, 32768, 32769,
	    1048575, 1048576, 123456789};
	char a[ID_LEN + 1], b[ID_LEN + 1];
	int64_t lo, hi;

	ok(id_format(1, a) == 0 && strcmp(a, "a001") == 0, "1 is a001");
	ok(id_format(31, a) == 0 && strcmp(a, "a00z") == 0, "31 is a00z");
	ok(id_format(32, a) == 0 && strcmp(a, "a010") == 0, "32 is a010");
	ok(id_format(32767, a) == 0 && strcmp(a, "azzz") == 0, "32767 is azzz");
	ok(id_format(32768, a) == 0 && strcmp(a, "b1000") == 0,
	    "32768 is b1000");
	ok(id_format(0, a) == -1, "0 has no ID");
	for (size_t i = 0; i + 1 < sizeof(nums) / sizeof(nums[0]); i++) {
		id_format(nums[i], a);
		id_format(nums[i + 1], b);
		ok(strcmp(a, b) < 0 && strncmp(a, b, strlen(a)) != 0,
		    "%s sorts before %s and is not its prefix", a, b);
	}
	ok(id_range("a00k", &lo, &hi) == 0 && lo == 19 && hi == 20,
	    "a full ID is one number");
	ok(id_range("A00K", &lo, &hi) == 0 && lo == 19, "case-insensitive");
	ok(id_range("a0ok", &lo, &hi) == 0 && lo == 19, "o reads as 0");
	ok(id_range("a0il", &lo, &hi) == 0 && lo == 33, "i and l read as 1");
	ok(id_range("b100", &lo, &hi) == 0 && lo == 32768 && hi == 32768 + 32,
	    "a prefix is a range");
	ok(id_range("b000", &lo, &hi) == -1 && error_status() == EX_NOINPUT,
	    "no b ID starts with b000");
	ok(id_range("a00", &lo, &hi) == -1 && error_status() == EX_USAGE,
	    "3 characters are too short");
	ok(id_range("z001", &lo, &hi) == -1 && error_status() == EX_NOINPUT,
	    "no class z");
	ok(id_range("a00u", &lo, &hi) == -1, "u is no digit");
	ok(id_range("a0012", &lo, &hi) == -1, "too long for its class");
}

/* Read all values of s; returns the count, or -1 with line in *line. */
static int
read_all(const char *s, size_t len, size_t *lines, int max)
{
	FILE *fp = fmemopen((void *)s, len, "r");
	struct jsonin *in = jsonin_open(fp, "stdin");
	json_t *v;
	size_t line;
	int n = 0, r;

	while ((r = jsonin_next(in, &v, &line)) == 1) {
		if (n < max)
			lines[n] = line;
		n++;
		json_decref(v);
	}
	jsonin_close(in);
	fclose(fp);
	return r == -1 ? -1 : n;
}

static void
test_jsonin(void)
{
	size_t lines[8];
	char *big, *deep;
	int i;

	const char *nd = "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n";
	ok(read_all(nd, strlen(nd), lines, 8) == 3 && lines[0] == 1 &&
		lines[1] == 2 && lines[2] == 4,
	    "NDJSON: three values on lines 1, 2, 4");
	const char *pretty = "{\n \"a\": \"}{\\\"\",\n \"b\": [1,\n 2]\n}\n"
			     "{\n \"c\": 3\n}\n";
	ok(read_all(pretty, strlen(pretty), lines, 8) == 2 && lines[0] == 1 &&
		lines[1] == 6,
	    "pretty-printed objects back to back, braces in strings");
	ok(read_all("", 0, lines, 8) == 0, "empty input: no value");
	ok(read_all("{\"a\":1}\n{\"a\":\n", 16, lines, 8) == -1 &&
		strstr(error_msg(), "line 2") != NULL,
	    "unexpected end names its line: %s", error_msg());
	ok(read_all("{\"a\":1}\n{\"a\" 1}\n", 16, lines, 8) == -1 &&
		strstr(error_msg(), "line 2") != NULL &&
		error_status() == EX_DATAERR,
	    "invalid JSON names its line: %s", error_msg());
	ok(read_all("42\n", 3, lines, 8) == -1 &&
		strstr(error_msg(), "expected a JSON object") != NULL,
	    "a scalar is refused");
	ok(read_all("{\"a\":\"\xff\"}", 9, lines, 8) == -1 &&
		error_status() == EX_DATAERR,
	    "invalid UTF-8 is refused: %s", error_msg());
	deep = malloc(200);
	for (i = 0; i < JSONIN_MAX_DEPTH; i++)
		deep[i] = '[', deep[2 * JSONIN_MAX_DEPTH - 1 - i] = ']';
	ok(read_all(deep, 2 * JSONIN_MAX_DEPTH, lines, 8) == 1,
	    "depth %d is allowed", JSONIN_MAX_DEPTH);
	for (i = 0; i <= JSONIN_MAX_DEPTH; i++)
		deep[i] = '[', deep[2 * JSONIN_MAX_DEPTH + 1 - i] = ']';
	ok(read_all(deep, 2 * JSONIN_MAX_DEPTH + 2, lines, 8) == -1 &&
		strstr(error_msg(), "deeper") != NULL,
	    "depth %d is refused", JSONIN_MAX_DEPTH + 1);
	free(deep);
	size_t n = JSONIN_MAX_BYTES + 100;
	big = malloc(n);
	memset(big, ' ', n);
	memcpy(big, "{\"a\":\"", 6);
	memset(big + 6, 'x', n - 10);
	memcpy(big + n - 4, "\"}\n", 3);
	ok(read_all(big, n - 1, lines, 8) == -1 &&
		strstr(error_msg(), "larger than 10 MiB") != NULL,
	    "a value over 10 MiB is refused");
	free(big);
}

/* What idin reads in s: refs and errors, space-separated ("!" + error). */
static const char *
ids_of(const char *s)
{
	static char out[1024];
	FILE *fp = fmemopen((void *)s, strlen(s), "r");
	struct idin *in = idin_open(fp, "stdin");
	const char *ref;
	size_t n = 0;
	int k;

	out[0] = '\0';
	while ((k = idin_next(in, &ref)) != 0 && n < sizeof(out))
		n += snprintf(out + n, sizeof(out) - n, "%s%s%s", n ? " " : "",
		    k == 1 ? "" : "!",
		    k == 1 ? ref : error_msg() + strlen("stdin: "));
	idin_close(in);
	fclose(fp);
	return out;
}

static void
test_idin(void)
{
	is_str(ids_of(" a001 \n\na002\r\n"), "a001 a002",
	    "IDs a line, blanks around them dropped");
	is_str(ids_of("{\"id\":\"a001\"}\n{\"id\":\"a002.1\",\"job\":"
		      "\"a002\"}\n"),
	    "a001 a002", "NDJSON: a task names its job by \"job\"");
	is_str(ids_of("[\n{\n  \"id\": \"a001\"\n},\n{\n  \"id\": "
		      "\"a002\"\n}\n]\n[]\n"),
	    "a001 a002", "a pretty array of objects, and an empty one");
	is_str(ids_of("[\"a001\", \"a002\"]a003\n{\"id\":\"a004\"}"),
	    "a001 a002 a003 a004", "an array of IDs, then a line, then JSON");
	is_str(ids_of("a001\n{\"id\" 1}\na002\n"),
	    "a001 !line 2: invalid JSON: ':' expected near '1' a002",
	    "a line of bad JSON is one error among good lines");
	is_str(ids_of("[{\"id\":\"a001\"},\n{\"name\":\"x\"},\n7,\n"
		      "{\"id\":\"ra001\"},\n{\"job\":1}]"),
	    "a001 !line 2: object has no \"id\" "
	    "!line 3: expected a job ID or an object with \"id\" "
	    "!line 4: 'ra001' is a run, not a job "
	    "!line 5: \"job\" is not a string",
	    "elements that name no job, each named by its line");
	is_str(ids_of("[\n{\"id\":\"a001\"},\n{\"id\":\"a0"),
	    "a001 !line 3: unexpected end of input",
	    "a truncated array: what came before it, then the error");
	is_str(ids_of("[\"a001\",,\"a002\"]\na003\n"),
	    "a001 !line 1: invalid JSON: value expected",
	    "a broken array ends the input");
	is_str(ids_of("\xff\xfe\na001\n"), "!line 1: not UTF-8 text a001",
	    "a line not UTF-8 is an error, and the next is read");
}

static json_t *
norm(const char *text)
{
	json_t *in = json_loads(text, 0, NULL), *out;

	out = spec_normalize(in, parse_now_ms());
	json_decref(in);
	return out;
}

static int
refused(const char *text, const char *msg)
{
	json_t *out = norm(text);

	json_decref(out);
	if (out != NULL || strstr(error_msg(), msg) == NULL) {
		printf("#   '%s': %s\n", text, out ? "accepted" : error_msg());
		return 0;
	}
	return error_status() == EX_DATAERR;
}

static void
test_spec(void)
{
	struct job_new jn;
	json_t *s, *o;
	char *d;

	s = norm("{\"command\":[\"/bin/true\"],\"timeout\":\"1h30m\","
		 "\"resources\":{\"memory\":\"512MiB\",\"cpu\":\"500m\"},"
		 "\"at\":\"+1h\",\"grace\":\"90s\"}");
	ok(s != NULL, "a spec normalizes");
	d = json_dumps(s, JSON_COMPACT);
	ok(strstr(d, "\"timeout\":5400") && strstr(d, "\"grace\":90") &&
		strstr(d, "\"memory\":536870912") && strstr(d, "\"cpu\":0.5"),
	    "durations, sizes and cpu in base units: %s", d);
	ok(strstr(d, "\"at\":\"20") && strstr(d, "Z\""),
	    "--at becomes RFC 3339");
	free(d);
	spec_to_job(s, &jn);
	is_str(jn.name, "true", "default name is the program's base name");
	is_str(jn.queue, "default", "default queue");
	ok(jn.max_attempts == 1 && jn.not_before > 0, "attempts, not before");
	json_decref(s);
	s = norm("{\"shell\":\"  make -j4 && echo ok\"}");
	spec_to_job(s, &jn);
	is_str(jn.name, "make", "a shell job is named by its first word");
	json_decref(s);

	ok(refused("{\"command\":[\"x\"],\"foo\":1}", "$.foo: unknown field"),
	    "unknown top-level field, with its path");
	ok(refused("{\"command\":[\"x\"],\"resources\":{\"cpuu\":1}}",
	       "$.resources.cpuu: unknown field"),
	    "unknown nested field, with its path");
	ok(refused("{\"command\":[\"x\"],\"name\":5}",
	       "$.name: expected a string, got an integer"),
	    "wrong type");
	ok(refused("{\"command\":[\"x\"],\"retries\":-1}", "$.retries"),
	    "negative retries");
	ok(refused("{\"command\":[\"x\"],\"priority\":5000}", "$.priority"),
	    "priority out of range");
	ok(refused("{\"command\":[\"x\"],\"resources\":{\"gpu\":-1}}",
	       "$.resources.gpu"),
	    "negative gpu");
	ok(refused("{\"command\":[]}", "$.command: must name a program"),
	    "empty command");
	ok(refused("{\"command\":[\"x\"],\"shell\":\"y\"}", "not both"),
	    "command and shell");
	ok(refused("{\"name\":\"x\"}", "needs a command or a shell"),
	    "neither command nor shell");
	ok(refused("{\"command\":[\"x\"],\"inputs\":[{\"url\":\"http://h/"
		   "x\",\"hash\":\"md5:1\"}]}",
	       "$.inputs[0].hash"),
	    "a hash that is not sha256");
	ok(refused("{\"command\":[\"x\"],\"inputs\":[{\"url\":\"http://h/"
		   "x\",\"path\":\"../x\"}]}",
	       "$.inputs[0].path"),
	    "an artifact path leaving the work directory");
	ok(refused("{\"command\":[\"x\"],\"outputs\":[{\"path\":\"x\"}]}",
	       "needs a url"),
	    "an artifact without a url");
	ok(refused("{\"command\":[\"x\"],\"inputs\":[{\"url\":\"gopher://h\"}"
		   "]}",
	       "$.inputs[0].url"),
	    "an unknown URL scheme");
	ok(refused("{\"command\":[\"x\"],\"env\":{\"1X\":\"y\"}}", "$.env.1X"),
	    "a bad variable name");
	ok(refused("{\"command\":[\"x\"],\"labels\":{\"a b\":\"y\"}}",
	       "$.labels.a b"),
	    "a bad label key");
	ok(refused("{\"command\":[\"x\"],\"timeout\":\"soon\"}",
	       "$.timeout: invalid duration 'soon'"),
	    "a bad duration names the field");

	s = json_loads("{\"env\":{\"A\":\"1\"},\"after\":[\"a001\"],"
		       "\"queue\":\"q\"}",
	    0, NULL);
	o = json_loads("{\"env\":{\"B\":\"2\"},\"after\":[\"a002\"],"
		       "\"queue\":\"r\"}",
	    0, NULL);
	spec_merge(s, o);
	d = json_dumps(s, JSON_COMPACT);
	is_str(d,
	    "{\"env\":{\"A\":\"1\",\"B\":\"2\"},\"after\":[\"a001\",\"a002\"],"
	    "\"queue\":\"r\"}",
	    "merge: objects by key, after appended, scalars replaced");
	free(d);
	json_decref(s);
	json_decref(o);

	s = norm("{\"command\":[\"x\"],\"env\":{\"API_TOKEN\":\"t\","
		 "\"PATH\":\"/bin\"},\"inputs\":[{\"url\":\"https://u:pw@h/"
		 "x\",\"credentials\":{\"password\":\"p\","
		 "\"secret_access_key\":\"k\",\"env\":\"V\"}}]}");
	spec_redact(s);
	d = json_dumps(s, JSON_COMPACT);
	ok(strstr(d, "\"API_TOKEN\":\"***\"") && strstr(d, "/bin") &&
		strstr(d, "https://u:***@h/x") &&
		strstr(d, "\"password\":\"***\"") &&
		strstr(d, "\"secret_access_key\":\"***\"") &&
		strstr(d, "\"env\":\"V\"") && !strstr(d, "pw@"),
	    "redaction: %s", d);
	free(d);
	json_decref(s);
}

static char *
emit_all(enum emit_format f, const struct emit_col *cols, const char *rows)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct emit *e = emit_open(fp, f, EMIT_TABLE, cols);
	json_t *arr = json_loads(rows, 0, NULL), *v;
	size_t i;

	json_array_foreach(arr, i, v) emit_row(e, v);
	emit_close(e);
	fclose(fp);
	json_decref(arr);
	return buf;
}

static void
test_emit(void)
{
	static const struct emit_col cols[] = {{"id", "ID", 8, EMIT_SHORTID, 0},
	    {"n", "N", 3, EMIT_RIGHT, 0}, {"name", "NAME", 0, 0, 0},
	    {NULL, NULL, 0, 0, 0}};
	const char *rows = "[{\"id\":\"b123456789\",\"n\":7,\"name\":\"x\"},"
			   "{\"id\":\"a001\",\"name\":\"y\"}]";
	enum emit_format f;
	char *s;

	s = emit_all(EMIT_NDJSON, cols, rows);
	is_str(s,
	    "{\"id\":\"b123456789\",\"n\":7,\"name\":\"x\"}\n"
	    "{\"id\":\"a001\",\"name\":\"y\"}\n",
	    "ndjson: compact, keys in order");
	free(s);
	s = emit_all(EMIT_JSON, cols, "[]");
	is_str(s, "[]\n", "json: an empty array");
	free(s);
	s = emit_all(EMIT_JSON, cols, rows);
	ok(s[0] == '[' && strstr(s, "\"id\": \"a001\"") &&
		strcmp(s + strlen(s) - 3, "\n]\n") == 0,
	    "json: one indented array");
	free(s);
	s = emit_all(EMIT_TABLE, cols, rows);
	is_str(s,
	    "ID          N  NAME\n"
	    "b1234567    7  x\n"
	    "a001        -  y\n",
	    "table: header, short IDs, padding, - for missing");
	free(s);
	s = emit_all(EMIT_TEXT, cols, "[{\"a\":1,\"b\":{\"c\":\"d\"}}]");
	is_str(s, "a: 1\nb:\n  c: d\n", "text: key: value, nested");
	free(s);
	s = emit_all(EMIT_TABLE, cols,
	    "[{\"id\":\"a1\",\"name\":\"x\\ty\\u001b[0m\\n\\u007f\"}]");
	is_str(s, "ID          N  NAME\na1          -  x\\ty\\x1b[0m\\n\\x7f\n",
	    "table: control characters escaped");
	free(s);
	s = emit_all(EMIT_TEXT, cols, "[{\"a\":\"1\\t2\\n3\"}]");
	is_str(s, "a: 1\\t2\n    3\n", "text: escaped, lines kept");
	free(s);
	setenv("COLUMNS", "20", 1);
	s = emit_all(EMIT_TABLE, cols,
	    "[{\"id\":\"a1\",\"n\":1,\"name\":"
	    "\"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}]");
	is_str(s,
	    "ID          N  NAME\na1          1  "
	    "\u00e9\u00e9\u00e9\u00e9\u2026\n",
	    "table: fitted to COLUMNS, cut between characters");
	free(s);
	unsetenv("COLUMNS");
	ok(emit_width("\u540d\u00e9e\u0301") == 4,
	    "width: wide, narrow, combining");
	ok(emit_format_parse("ndjson", &f) == 0 && f == EMIT_NDJSON,
	    "format ndjson");
	ok(emit_format_parse("yaml", &f) == -1 && error_status() == EX_USAGE,
	    "format yaml is refused");
}

/* Import one document; the first spec's field as compact JSON, or the
 * error message. */
static char *
import_field(enum import_format f, const char *doc, const char *field)
{
	static char buf[2048];
	json_t *in = json_loads(doc, 0, NULL), *specs, *v;
	char *d;

	specs = import_specs(f, in, NULL);
	json_decref(in);
	if (specs == NULL) {
		snprintf(buf, sizeof(buf), "error %d: %s", error_status(),
		    error_msg());
		return buf;
	}
	v = json_object_get(json_array_get(specs, 0), field);
	d = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	snprintf(
	    buf, sizeof(buf), "%zu %s", json_array_size(specs), d ? d : "-");
	free(d);
	json_decref(specs);
	return buf;
}

static void
test_import(void)
{
	enum import_format f = IMPORT_NONE;
	const char *task =
	    "{\"Tasks\":[{\"Engine\":{\"Type\":\"docker\","
	    "\"Params\":{\"Image\":\"img\"}},\"Resources\":%s}]}";
	char doc[512];

	ok(import_format_parse("bacalhau", &f) == 0 && f == IMPORT_BACALHAU,
	    "import: bacalhau is a format");
	ok(import_format_parse("studioml", &f) == 0 && f == IMPORT_STUDIOML,
	    "import: studioml is a format");
	ok(import_format_parse("json", &f) == -1, "import: json is not");
	/* go-humanize sizes: powers of 1000 without i, of 1024 with it
	 * (tests/unit/bacalhau.c has the rest of the Bacalhau reader). */
	snprintf(doc, sizeof(doc), task, "{\"Memory\":\"1.5 GB\"}");
	is_str(import_field(IMPORT_BACALHAU, doc, "resources"),
	    "1 {\"memory\":1500000000}", "import: 1.5 GB");
	snprintf(
	    doc, sizeof(doc), task, "{\"Memory\":\"2Mi\",\"Disk\":\"1k\"}");
	is_str(import_field(IMPORT_BACALHAU, doc, "resources"),
	    "1 {\"memory\":2097152,\"disk\":1000}", "import: 2Mi and 1k");
	snprintf(doc, sizeof(doc), task, "{\"Memory\":\"\",\"GPU\":\"0\"}");
	is_str(import_field(IMPORT_BACALHAU, doc, "resources"), "1 -",
	    "import: empty and zero amounts are no request");
	snprintf(doc, sizeof(doc), task, "{\"Memory\":\"1qb\"}");
	is_str(import_field(IMPORT_BACALHAU, doc, "resources"),
	    "error 65: $.Tasks[0].Resources.Memory: invalid size '1qb'",
	    "import: an unknown unit");
	snprintf(doc, sizeof(doc), task, "{\"GPU\":\"1.5\"}");
	is_str(import_field(IMPORT_BACALHAU, doc, "resources"),
	    "error 65: $.Tasks[0].Resources.GPU: '1.5' is not a number of GPUs",
	    "import: a fraction of a GPU");
	/* Parameters are the command, as given: no shell in between. */
	is_str(import_field(IMPORT_BACALHAU,
		   "{\"Tasks\":[{\"Engine\":{\"Type\":\"DOCKER\",\"Params\":{"
		   "\"Image\":\"i\",\"Parameters\":[\"a'b\",\"\"]}}}]}",
		   "command"),
	    "1 [\"a'b\",\"\"]", "import: parameters kept, empty ones too");
	is_str(import_field(IMPORT_BACALHAU,
		   "{\"Count\":3,\"Tasks\":[{\"Engine\":{\"Type\":\"docker\","
		   "\"Params\":{\"Image\":\"i\"}}}]}",
		   "name"),
	    "3 \"i\"", "import: Count 3 is three specs, named by the image");
	is_str(import_field(IMPORT_BACALHAU, "[]", "name"),
	    "error 65: $: a Bacalhau job must be an object",
	    "import: not an object");
	/* StudioML: %VAR% expanded by the shell, other text kept literal. */
	is_str(import_field(IMPORT_STUDIOML,
		   "{\"experiment\":{\"key\":\"k\",\"filename\":\"f.py\"},"
		   "\"config\":{\"env\":{\"A\":\"%HOME%/$x %\"}}}",
		   "shell"),
	    "1 \"set -e; export A=\\\"${HOME}/\\\\$x %\\\"; exec python3 "
	    "'f.py'\"",
	    "import: a %%VAR%% is the worker's variable, $ stays literal");
	is_str(import_field(IMPORT_STUDIOML,
		   "{\"experiment\":{\"key\":\"k\",\"filename\":\"f\","
		   "\"artifacts\":{\"../x\":{\"url\":\"http://h/x\"}}}}",
		   "inputs"),
	    "error 65: $.experiment.artifacts.../x: an artifact name must be "
	    "a file name",
	    "import: an artifact name that leaves the work directory");
}

static void
test_utf8(void)
{
	static const struct {
		const char *in;
		size_t len;
		int whole; /* in is all the text, not cut from more */
		const char *out;
		const char *what;
	} t[] = {
	    {"plain", 5, 0, "plain", "ASCII is kept"},
	    {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, 0,
		"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		"2-, 3- and 4-byte sequences are kept"},
	    {"a\xff"
	     "b",
		3, 0,
		"a\xef\xbf\xbd"
		"b",
		"a byte that begins nothing is U+FFFD"},
	    {"a\0b", 3, 0,
		"a\xef\xbf\xbd"
		"b",
		"so is a NUL"},
	    {"\xc0\xaf", 2, 0, "\xef\xbf\xbd\xef\xbf\xbd",
		"an overlong form is two bad bytes"},
	    {"a\xe2\x82"
	     "b",
		4, 0,
		"a\xef\xbf\xbd"
		"b",
		"a sequence broken off inside is one U+FFFD"},
	    {"\xed\xa0\x80", 3, 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		"a surrogate is refused"},
	    {"\xf4\x90\x80\x80", 4, 0,
		"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		"so is a code point past U+10FFFF"},
	    {"ab\xe2\x82", 4, 0, "ab", "a sequence a cut ends with is dropped"},
	    {"ab\xe2\x82", 4, 1, "ab\xef\xbf\xbd",
		"but one U+FFFD at the end of the whole text"},
	};
	char out[64];
	int cut;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		utf8_clean(t[i].in, t[i].len, t[i].whole, out, 63, NULL);
		ok(strcmp(out, t[i].out) == 0, "utf8: %s", t[i].what);
	}
	cut = 0;
	utf8_clean("ab\xc3\xa9", 4, 1, out, 3, &cut);
	ok(strcmp(out, "ab") == 0 && cut == 1,
	    "utf8: a character that does not fit is left out, and said so");
	cut = 0;
	utf8_clean("a\xff", 2, 1, out, 3, &cut);
	ok(strcmp(out, "a") == 0 && cut == 1,
	    "utf8: as is a U+FFFD that does not fit");
	cut = 0;
	utf8_clean("ab", 2, 1, out, 3, &cut);
	ok(cut == 0, "utf8: text that fits is not said to be cut");
}

/* SHA-256 in C (portable 1), or as the CPU has it. */
static void
sha256_case(int portable)
{
	const char *how = portable ? "in C" : "as built";

	/* FIPS 180-4's examples (NIST's SHA256.pdf) and sha256sum's. */
	static const struct {
		const char *text, *want;
	} v[] = {
	    {"",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8"
		"55"},
	    {"abc",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
		"ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06"
		"c1"},
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9"
		"d1"},
	};
	char got[2 * SHA256_LEN + 1], once[2 * SHA256_LEN + 1];
	unsigned char *buf;
	struct sha256 c;
	size_t len = 1000000;

	sha256_portable(portable);

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256_hex(v[i].text, strlen(v[i].text), got);
		is_str(got, v[i].want, "sha256 %s: of %zu bytes", how,
		    strlen(v[i].text));
	}
	if ((buf = malloc(len)) == NULL) {
		ok(0, "sha256 %s: a buffer", how);
		return;
	}
	memset(buf, 'a', len);
	sha256_hex(buf, len, got);
	is_str(got,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	    "sha256 %s: of a million a's", how);
	/* Fed in pieces of every size that straddles a block, the same. */
	for (size_t i = 0; i < 300; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	sha256_hex(buf, 300, once);
	int same = 1;
	for (size_t step = 1; step <= 130; step++) {
		sha256_init(&c);
		for (size_t at = 0; at < 300; at += step)
			sha256_update(
			    &c, buf + at, at + step > 300 ? 300 - at : step);
		sha256_final_hex(&c, got);
		same = same && strcmp(got, once) == 0;
	}
	ok(same, "sha256 %s: pieces of 1 to 130 bytes hash as one", how);
	free(buf);
	sha256_portable(0);
}

static void
test_sha256(void)
{
	sha256_case(1);
	sha256_case(0);
}

static void
hex(const unsigned char *b, char *out)
{
	for (int i = 0; i < SIGN_LEN; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* Write a key file under home; mode as given. */
static void
put_key(const char *home, const char *text, mode_t mode)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/.local", home);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.local/share", home);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.local/share/jobkit", home);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.local/share/jobkit/key", home);
	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) != -1) {
		(void)!write(fd, text, strlen(text));
		close(fd);
	}
	chmod(path, mode);
}

static void
test_sign(void)
{
	const char *spec = "{\"command\":[\"true\"]}", *tmp = getenv("T");
	char home[4096], got[2 * SIGN_LEN + 1], key[66], path[4200];
	unsigned char sig[SIGN_LEN];
	struct sign_key *k;

	/* The test's own folder (lib.sh), which TMPDIR holds. */
	snprintf(home, sizeof(home), "%s/sign.XXXXXX",
	    tmp			   ? tmp
		: getenv("TMPDIR") ? getenv("TMPDIR")
				   : "/tmp");
	if (mkdtemp(home) == NULL) {
		ok(0, "sign: a temporary home");
		return;
	}
	memset(key, '0', 64);
	for (int i = 0; i < 64; i += 2)
		key[i + 1] = 'b';
	key[64] = '\n';
	key[65] = '\0';
	put_key(home, key, 0600);
	k = sign_key_of(getuid(), home);
	ok(k != NULL, "sign: a key of 0x0b bytes is read");
	if (k == NULL)
		return;
	/* RFC 2104's HMAC-SHA256, as python3's hmac module computes it, of
	 * the fields each ended by a NUL. */
	sign_job(k, 7, 1000, "alice", spec, NULL, sig);
	hex(sig, got);
	is_str(got,
	    "d6fb4ad4bd9766863269e4f7c42664e09babbcde50dad31079721e84f986ff17",
	    "sign: the signature is HMAC-SHA256 of the job's fields");
	sign_job(k, 7, 1000, "alice", spec, "{\"PATH\":\"/bin\"}", sig);
	hex(sig, got);
	is_str(got,
	    "f3c568afd8c6414330556734e9e0339c06d288a38e889c25834968b94264a514",
	    "sign: and covers its recorded environment");
	ok(sign_check(k, 7, 1000, "alice", spec, "{\"PATH\":\"/bin\"}", sig,
	       SIGN_LEN) == 1,
	    "sign: a signature checks");
	/* Version 2, which a later jobkit writes: "jobkit job 2", the
	 * environment, rid, uid, owner, spec (python3's hmac again). */
	static const char v2[] =
	    "59ec0e704ca26de8c3e015d8533f84017691cd0af802281d64770044a2327b37";
	unsigned char two[SIGN_LEN];
	for (int i = 0; i < SIGN_LEN; i++)
		sscanf(v2 + 2 * i, "%2hhx", &two[i]);
	ok(sign_check(k, 7, 1000, "alice", spec, "{\"PATH\":\"/bin\"}", two,
	       SIGN_LEN) == 1,
	    "sign: a version 2 signature checks");
	ok(sign_check(k, 8, 1000, "alice", spec, "{\"PATH\":\"/bin\"}", two,
	       SIGN_LEN) == 0 &&
		sign_check(k, 7, 1000, "alice", spec, NULL, two, SIGN_LEN) == 0,
	    "sign: but only for its own job and environment");
	ok(sign_check(k, 7, 0, "alice", spec, "{\"PATH\":\"/bin\"}", sig,
	       SIGN_LEN) == 0,
	    "sign: not for another uid");
	ok(sign_check(k, 8, 1000, "alice", spec, "{\"PATH\":\"/bin\"}", sig,
	       SIGN_LEN) == 0,
	    "sign: nor another job");
	ok(sign_check(k, 7, 1000, "alice", spec, "{\"PATH\":\"/tmp\"}", sig,
	       SIGN_LEN) == 0,
	    "sign: nor another environment");
	ok(sign_check(k, 7, 1000, "alice", spec, NULL, NULL, 0) == 0,
	    "sign: no signature does not check");
	sign_key_free(k);
	put_key(home, key, 0640);
	ok(sign_key_of(getuid(), home) == NULL && error_status() == EX_DATAERR,
	    "sign: a key others may read is refused");
	put_key(home, "0b0b\n", 0600);
	ok(sign_key_of(getuid(), home) == NULL && error_status() == EX_DATAERR,
	    "sign: a short key is refused");
	ok(sign_key_of(getuid() + 1, home) == NULL,
	    "sign: so is one of another uid");
	snprintf(path, sizeof(path), "%s/.local/share/jobkit/key", home);
	unlink(path);
	ok(sign_key_of(getuid(), home) == NULL && error_status() == EX_NOINPUT,
	    "sign: a missing key is no such file");
	static const char *const dirs[] = {
	    "/.local/share/jobkit", "/.local/share", "/.local", ""};
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s", home, dirs[i]);
		rmdir(path);
	}
}

/* Digest of a spec given as JSON text, normalized first, into out. */
static int
digest_of(const char *text, char *out)
{
	json_t *s = norm(text);
	int r = s != NULL ? spec_digest(s, out) : -1;

	json_decref(s);
	return r;
}

static void
test_digest(void)
{
	char a[SPEC_DIGEST_LEN + 1], b[SPEC_DIGEST_LEN + 1];

	ok(digest_of("{\"command\":[\"make\",\"all\"],\"env\":{\"A\":\"1\","
		     "\"B\":\"2\"},\"name\":\"x\",\"queue\":\"q1\"}",
	       a) == 0 &&
		strncmp(a, "sha256:", 7) == 0 && strlen(a) == SPEC_DIGEST_LEN,
	    "digest: sha256:<64 hex> (%s)", a);
	ok(digest_of("{\"env\":{\"B\":\"2\",\"A\":\"1\"},\"command\":[\"make\","
		     "\"all\"],\"name\":\"y\",\"priority\":5,\"retries\":2,"
		     "\"labels\":{\"k\":\"v\"}}",
	       b) == 0 &&
		strcmp(a, b) == 0,
	    "digest: the same whatever the order, name, priority, retries, "
	    "labels");
	digest_of("{\"command\":[\"make\",\"all\"],\"env\":{\"A\":\"1\","
		  "\"B\":\"3\"}}",
	    b);
	ok(strcmp(a, b) != 0, "digest: another environment, another digest");
	digest_of("{\"command\":[\"make\",\"all\"],\"env\":{\"A\":\"1\","
		  "\"B\":\"2\"},\"workdir\":\"/tmp\"}",
	    b);
	ok(strcmp(a, b) != 0, "digest: another work directory, another one");
	digest_of(
	    "{\"shell\":\"make all\",\"env\":{\"A\":\"1\",\"B\":\"2\"}}", b);
	ok(strcmp(a, b) != 0, "digest: a shell string is not the argv");
	digest_of("{\"command\":[\"cat\",\"d\"],\"inputs\":[{\"url\":"
		  "\"https://h/d\",\"path\":\"d\"}]}",
	    a);
	digest_of("{\"command\":[\"cat\",\"d\"],\"inputs\":[{\"url\":"
		  "\"https://h/d\",\"path\":\"d\",\"hash\":\"sha256:"
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852"
		  "b855\"}]}",
	    b);
	ok(strcmp(a, b) != 0, "digest: an input's hash, where given, counts");
	digest_of("{\"command\":[\"cat\",\"d\"],\"inputs\":[{\"url\":"
		  "\"https://mirror/d\",\"path\":\"d\",\"hash\":\"sha256:"
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852"
		  "b855\"}]}",
	    a);
	ok(strcmp(a, b) == 0,
	    "digest: the same data from another URL is the same command");
	digest_of("{\"container\":{\"image\":\"ubuntu:22.04\"},\"command\":"
		  "[\"ls\"]}",
	    a);
	digest_of("{\"container\":{\"image\":\"ubuntu:24.04\"},\"command\":"
		  "[\"ls\"]}",
	    b);
	ok(strcmp(a, b) != 0, "digest: the image counts");
}

/* Default names: what a command runs, not its wrapper or interpreter. */
static void
test_jobname(void)
{
	static const struct {
		const char *argv[10], *want;
	} av[] = {{{"make", "test", NULL}, "make"},
	    {{"/usr/bin/gzip", "-9", "a", NULL}, "gzip"},
	    {{"python3", "x.py", NULL}, "x.py"},
	    {{"python3", "-u", "train.py", "--lr", "0.1", NULL},
		"train.py --lr 0.1"},
	    {{"python3.11", "-W", "ignore", "t.py", NULL}, "t.py"},
	    {{"python3", "-m", "http.server", "80", NULL}, "http.server 80"},
	    {{"python3", "-c", "print(1)", NULL}, "python3"},
	    {{"env", "-u", "X", "A=1", "nice", "-n", "5", "./run.sh", NULL},
		"run.sh"},
	    {{"timeout", "-s", "KILL", "10s", "perl", "a.pl", NULL}, "a.pl"},
	    {{"sh", "-c", "echo hi", NULL}, "echo"},
	    {{"bash", "-euc", "cd /x && make -j4", NULL}, "make"},
	    {{"bash", "-o", "pipefail", "job.sh", "a", NULL}, "job.sh a"},
	    {{"sh", NULL}, "sh"}, {{"A=1", NULL}, "job"},
	    {{"sudo", "-u", "bob", NULL}, "sudo"}};
	static const struct {
		const char *line, *want;
	} sh[] = {{"make -j4 && echo ok", "make"},
	    {"for x in a b; do\n\techo \"$x\"\ndone", "echo"},
	    {"cd /src; FOO=1 ./build.sh x", "build.sh"},
	    {"2>/dev/null python3 'my script.py' a", "my script.py a"},
	    {"while read f; do gzip \"$f\"; done < list", "gzip"},
	    {"if [ -f x ]; then sh -c 'python3 y.py'; fi", "y.py"},
	    {"   ", "sh"}, {"cd /tmp", "cd"}};
	char buf[257], small[11], *longarg;
	size_t i;

	for (i = 0; i < sizeof(av) / sizeof(av[0]); i++)
		is_str(jobname_argv(av[i].argv, buf, sizeof(buf)), av[i].want,
		    "jobname: %s ... is '%s'", av[i].argv[0], av[i].want);
	for (i = 0; i < sizeof(sh) / sizeof(sh[0]); i++)
		is_str(jobname_shell(sh[i].line, buf, sizeof(buf)), sh[i].want,
		    "jobname: shell '%s' is '%s'", sh[i].line, sh[i].want);
	/* Cut to fit, never inside a character. */
	const char *u[] = {"python3", "x.py", "\xc3\xa9\xc3\xa9\xc3\xa9", NULL};
	is_str(jobname_argv(u, small, sizeof(small)), "x.py \xc3\xa9\xc3\xa9",
	    "jobname: cut at a character's start");
	if ((longarg = malloc(4000)) != NULL) {
		memset(longarg, 'a', 3999);
		longarg[3999] = '\0';
		const char *l[] = {"python3", "x.py", longarg, NULL};
		ok(strlen(jobname_argv(l, buf, sizeof(buf))) == JOBNAME_MAX,
		    "jobname: at most %d bytes", JOBNAME_MAX);
		free(longarg);
	}
}

int
main(void)
{
	test_duration();
	test_size();
	test_cpu();
	test_time();
	test_int();
	test_id();
	test_jsonin();
	test_idin();
	test_spec();
	test_digest();
	test_emit();
	test_import();
	test_utf8();
	test_sha256();
	test_sign();
	test_jobname();
	return done_testing();
}
