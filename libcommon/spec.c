#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "id.h"
#include "jobname.h"
#include "parse.h"
#include "sha256.h"
#include "spec.h"

#define SPEC_MAX_ARGS 65536
#define SPEC_MAX_ENTRIES 4096
#define SPEC_MAX_STRING 65536
#define SPEC_MAX_NAME 256
#define SPEC_NAME_WORDS 64 /* of a command, that name it */

#define SPEC_MAX_FOREIGN 65536
#define SPEC_PRIORITY_MAX 1000
#define SPEC_MAX_RETRIES 1000

/* A JSON path being checked, like "$.inputs[2].url". */
struct path {
	char buf[512];
	size_t len;
};

static size_t
path_push(struct path *p, const char *key, long idx)
{
	size_t old = p->len, n;
	char num[24];

	if (key == NULL) {
		n = (size_t)snprintf(num, sizeof(num), "[%ld]", idx);
		key = num;
	} else {
		n = strlen(key);
		if (p->len + 1 < sizeof(p->buf))
			p->buf[p->len++] = '.';
	}
	/* A path too long to show is cut, never overrun. */
	if (p->len + n >= sizeof(p->buf))
		n = sizeof(p->buf) - p->len - 1;
	memcpy(p->buf + p->len, key, n);
	p->len += n;
	p->buf[p->len] = '\0';
	return old;
}

static void
path_pop(struct path *p, size_t old)
{
	p->len = old;
	p->buf[old] = '\0';
}

static int
bad(struct path *p, const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	return error_set(EX_DATAERR, "%s: %s", p->buf, msg);
}

static const char *
type_name(json_t *v)
{
	static const char *names[] = {"an object", "an array", "a string",
	    "an integer", "a number", "true", "false", "null"};
	return names[json_typeof(v)];
}

static int
want(struct path *p, json_t *v, int ok, const char *what)
{
	char msg[128];

	if (ok)
		return 0;
	snprintf(msg, sizeof(msg), "expected %s, got %s", what, type_name(v));
	return error_set(EX_DATAERR, "%s: %s", p->buf, msg);
}

/* A string of 1..max bytes without control characters. */
static int
check_string(struct path *p, json_t *v, size_t max, json_t **out)
{
	const char *s;
	char most[24];
	size_t n;

	if (want(p, v, json_is_string(v), "a string") == -1)
		return -1;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0)
		return bad(p, "must not be empty%s", "");
	snprintf(most, sizeof(most), "%zu", max);
	if (n > max)
		return bad(p, "longer than %s bytes", most);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return bad(p, "contains a control character%s", "");
	*out = json_incref(v);
	return 0;
}

/* A shell script: lines and tabs too (heredocs, YAML "|" blocks). */
static int
check_script(struct path *p, json_t *v, json_t **out)
{
	const char *t;
	size_t n;

	if (want(p, v, json_is_string(v), "a string") == -1)
		return -1;
	t = json_string_value(v);
	n = json_string_length(v);
	if (n == 0)
		return bad(p, "must not be empty%s", "");
	if (n > SPEC_MAX_STRING)
		return bad(p, "longer than %s bytes", "65536");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] < 0x20 && t[i] != '\t' && t[i] != '\n')
			return bad(p,
			    "contains a control character other than a tab "
			    "or a newline%s",
			    "");
	*out = json_incref(v);
	return 0;
}

static int
check_name(struct path *p, json_t *v, json_t **out)
{
	return check_string(p, v, SPEC_MAX_NAME, out);
}

static int
check_text(struct path *p, json_t *v, json_t **out)
{
	return check_string(p, v, SPEC_MAX_STRING, out);
}

/* Queue names and label keys: letters, digits and . _ - / */
static int
check_word(struct path *p, json_t *v, json_t **out)
{
	const char *s;

	if (check_string(p, v, 63, out) == -1)
		return -1;
	if (!spec_word_ok(s = json_string_value(v))) {
		json_decref(*out);
		return bad(
		    p, "'%s' may hold only letters, digits and . _ - /", s);
	}
	return 0;
}

int
spec_word_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 63)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-/", *s))
			return 0;
	return 1;
}

static int
check_bool(struct path *p, json_t *v, json_t **out)
{
	if (want(p, v, json_is_boolean(v), "true or false") == -1)
		return -1;
	*out = json_incref(v);
	return 0;
}

static int
check_range(struct path *p, json_t *v, int64_t min, int64_t max, json_t **out)
{
	char msg[96];

	if (want(p, v, json_is_integer(v), "an integer") == -1)
		return -1;
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(msg, sizeof(msg), "must be from %lld to %lld",
		    (long long)min, (long long)max);
		return bad(p, "%s", msg);
	}
	*out = json_incref(v);
	return 0;
}

static int
check_priority(struct path *p, json_t *v, json_t **out)
{
	return check_range(p, v, -SPEC_PRIORITY_MAX, SPEC_PRIORITY_MAX, out);
}

static int
check_retries(struct path *p, json_t *v, json_t **out)
{
	return check_range(p, v, 0, SPEC_MAX_RETRIES, out);
}

static int
check_gpu(struct path *p, json_t *v, json_t **out)
{
	return check_range(p, v, 0, 1024, out);
}

/* A number in base units, or a string in the unit's notation. */
static json_t *
number_json(double v)
{
	return v == floor(v) && fabs(v) < 9e15 ? json_integer((json_int_t)v)
					       : json_real(v);
}

static int
check_duration(struct path *p, json_t *v, json_t **out)
{
	int64_t ms;

	if (json_is_number(v)) {
		if (json_number_value(v) < 0 || json_number_value(v) > 3.2e9)
			return bad(p, "must be from 0 to 100 years%s", "");
		*out = number_json(round(json_number_value(v) * 1000) / 1000);
		return 0;
	}
	if (want(p, v, json_is_string(v), "a duration") == -1)
		return -1;
	if (parse_duration(json_string_value(v), &ms) == -1)
		return error_wrap("%s", p->buf);
	*out = number_json(ms / 1000.0);
	return 0;
}

static int
check_size(struct path *p, json_t *v, json_t **out)
{
	uint64_t n;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return bad(p, "must not be negative%s", "");
		*out = json_incref(v);
		return 0;
	}
	if (want(p, v, json_is_string(v), "a size") == -1)
		return -1;
	if (parse_size(json_string_value(v), &n) == -1)
		return error_wrap("%s", p->buf);
	if (n > (uint64_t)INT64_MAX)
		return bad(p, "is too large%s", "");
	*out = json_integer((json_int_t)n);
	return 0;
}

static int
check_cpu(struct path *p, json_t *v, json_t **out)
{
	int64_t mc;

	if (json_is_number(v)) {
		double c = json_number_value(v);
		if (c < 0 || c > 1e6)
			return bad(p, "must be from 0 to 1000000 cores%s", "");
		if (c * 1000 != floor(c * 1000))
			return bad(p, "is finer than a millicore%s", "");
		*out = number_json(c);
		return 0;
	}
	if (want(p, v, json_is_string(v), "a CPU amount") == -1)
		return -1;
	if (parse_cpu(json_string_value(v), &mc) == -1)
		return error_wrap("%s", p->buf);
	*out = number_json(mc / 1000.0);
	return 0;
}

static int
check_time(struct path *p, json_t *v, json_t **out)
{
	static int64_t now;
	char buf[32];
	int64_t ms;

	if (now == 0)
		now = parse_now_ms();
	if (want(p, v, json_is_string(v), "a time") == -1)
		return -1;
	if (parse_time(json_string_value(v), now, 1, &ms) == -1)
		return error_wrap("%s", p->buf);
	*out = json_string(parse_fmt_time(ms, buf));
	return 0;
}

static int
check_id(struct path *p, json_t *v, json_t **out)
{
	int64_t lo, hi;

	if (want(p, v, json_is_string(v), "a job ID") == -1)
		return -1;
	if (id_range(json_string_value(v), &lo, &hi) == -1)
		return error_set(EX_DATAERR, "%s: '%s' is not a job ID", p->buf,
		    json_string_value(v));
	*out = json_incref(v);
	return 0;
}

static int
check_exit_status(struct path *p, json_t *v, json_t **out)
{
	return check_range(p, v, 0, 255, out);
}

static int
check_hash(struct path *p, json_t *v, json_t **out)
{
	const char *s, *hex;
	char lower[72];
	size_t i, digits;

	if (want(p, v, json_is_string(v), "a hash") == -1)
		return -1;
	s = json_string_value(v);
	if (strncmp(s, "sha256:", 7) == 0)
		digits = 64, hex = s + 7;
	else if (strncmp(s, "md5:", 4) == 0)
		digits = 32, hex = s + 4;
	else
		digits = 0, hex = s;
	if (digits == 0 || strlen(hex) != digits)
		return bad(p,
		    "'%s' is not sha256:<64 hex digits> or "
		    "md5:<32 hex digits>",
		    s);
	for (i = 0; s[i] != '\0'; i++) {
		if (s + i >= hex && !isxdigit((unsigned char)s[i]))
			return bad(p,
			    "'%s' is not sha256:<64 hex digits> or "
			    "md5:<32 hex digits>",
			    s);
		lower[i] = (char)tolower((unsigned char)s[i]);
	}
	lower[i] = '\0';
	*out = json_string(lower);
	return 0;
}

static int
check_relpath(struct path *p, json_t *v, json_t **out)
{
	const char *s;

	if (check_text(p, v, out) == -1)
		return -1;
	s = json_string_value(v);
	if (*s == '/' || strcmp(s, "..") == 0 || strncmp(s, "../", 3) == 0 ||
	    strstr(s, "/../") != NULL ||
	    (strlen(s) >= 3 && strcmp(s + strlen(s) - 3, "/..") == 0)) {
		json_decref(*out);
		return bad(p, "'%s' must stay inside the work directory", s);
	}
	return 0;
}

static int
check_url(struct path *p, json_t *v, json_t **out)
{
	static const char *schemes[] = {"http://", "https://", "s3://",
	    "ftp://", "ftps://", "file://", NULL};
	const char *s;

	if (check_text(p, v, out) == -1)
		return -1;
	s = json_string_value(v);
	for (int i = 0; schemes[i] != NULL; i++)
		if (strncmp(s, schemes[i], strlen(schemes[i])) == 0 &&
		    s[strlen(schemes[i])] != '\0')
			return 0;
	json_decref(*out);
	return bad(
	    p, "'%s' is not an http, https, s3, ftp, ftps or file URL", s);
}

/* A field of an object: its name, how to check it. */
struct field {
	const char *name;
	int (*check)(struct path *, json_t *, json_t **);
};

/* The most fields a table has (spec_fields has 37): check_object()
 * keeps what it finds of each. */
#define SPEC_MAX_FIELDS 48
#define FIELDS_FIT(t) \
	_Static_assert(sizeof(t) / sizeof((t)[0]) <= SPEC_MAX_FIELDS + 1, \
	    #t " has more fields than check_object() keeps")

static int check_object(
    struct path *p, json_t *v, const struct field *f, json_t **out);

#define OBJECT_CHECKER(fn, table) \
	static int fn(struct path *p, json_t *v, json_t **out) \
	{ \
		return check_object(p, v, table, out); \
	}

/* Arrays and maps of one checker. */
static int
check_array_of(struct path *p, json_t *v, size_t max,
    int (*each)(struct path *, json_t *, json_t **), json_t **out)
{
	json_t *arr, *e, *n;
	size_t i, old;

	if (want(p, v, json_is_array(v), "an array") == -1)
		return -1;
	if (json_array_size(v) > max)
		return bad(p, "has too many entries%s", "");
	if ((arr = json_array()) == NULL)
		return error_set(EX_OSERR, "out of memory");
	json_array_foreach(v, i, e)
	{
		old = path_push(p, NULL, (long)i);
		if (each(p, e, &n) == -1) {
			json_decref(arr);
			return -1;
		}
		path_pop(p, old);
		if (spec_append(arr, n) == -1) {
			json_decref(arr);
			return -1;
		}
	}
	*out = arr;
	return 0;
}

static int
check_map(struct path *p, json_t *v, int (*key_ok)(const char *),
    const char *key_rule, size_t max_value, json_t **out)
{
	json_t *obj, *e;
	const char *k;
	size_t old;

	if (want(p, v, json_is_object(v), "an object") == -1)
		return -1;
	if (json_object_size(v) > SPEC_MAX_ENTRIES)
		return bad(p, "has too many entries%s", "");
	if ((obj = json_object()) == NULL)
		return error_set(EX_OSERR, "out of memory");
	json_object_foreach(v, k, e)
	{
		old = path_push(p, k, 0);
		if (!key_ok(k)) {
			json_decref(obj);
			return bad(p, key_rule, k);
		}
		if (want(p, e, json_is_string(e), "a string") == -1 ||
		    (json_string_length(e) > max_value &&
			bad(p, "value longer than %s bytes",
			    max_value == 256 ? "256" : "65536") == -1)) {
			json_decref(obj);
			return -1;
		}
		path_pop(p, old);
		if (json_object_set(obj, k, e) == -1) {
			json_decref(obj);
			return error_set(EX_OSERR, "out of memory");
		}
	}
	*out = obj;
	return 0;
}

int
spec_env_name_ok(const char *k)
{
	if (!isalpha((unsigned char)*k) && *k != '_')
		return 0;
	for (; *k != '\0'; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return 0;
	return 1;
}

static int
label_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 63 || !isalnum((unsigned char)*k))
		return 0;
	for (; *k != '\0'; k++)
		if (!isalnum((unsigned char)*k) && !strchr("._-/", *k))
			return 0;
	return 1;
}

static int
check_env(struct path *p, json_t *v, json_t **out)
{
	return check_map(p, v, spec_env_name_ok,
	    "'%s' is not a valid variable "
	    "name",
	    SPEC_MAX_STRING, out);
}

/* A worker's own variable the job gets (a node's secrets): NAME, or
 * NAME=VAR, the worker's VAR as NAME. */
static int
check_worker_var(struct path *p, json_t *v, json_t **out)
{
	const char *s, *eq;
	char name[256];

	if (check_name(p, v, out) == -1)
		return -1;
	s = json_string_value(v);
	eq = strchr(s, '=');
	snprintf(name, sizeof(name), "%.*s",
	    (int)(eq ? (size_t)(eq - s) : strlen(s)), s);
	if (!spec_env_name_ok(name) || (eq && !spec_env_name_ok(eq + 1))) {
		json_decref(*out);
		return bad(p, "'%s' is not NAME or NAME=VAR", s);
	}
	return 0;
}

static int
check_env_names(struct path *p, json_t *v, json_t **out)
{
	return check_array_of(p, v, SPEC_MAX_ENTRIES, check_worker_var, out);
}

static int
check_labels(struct path *p, json_t *v, json_t **out)
{
	return check_map(p, v, label_key_ok,
	    "label key '%s' may hold only "
	    "letters, digits and . _ - / (63 at most)",
	    256, out);
}

/* An argument: any string without NUL, empty ones too. */
static int
check_argument(struct path *p, json_t *v, json_t **out)
{
	if (want(p, v, json_is_string(v), "a string") == -1)
		return -1;
	if (json_string_length(v) > (1u << 20))
		return bad(p, "longer than %s", "1 MiB");
	*out = json_incref(v);
	return 0;
}

static int
check_command(struct path *p, json_t *v, json_t **out)
{
	if (check_array_of(p, v, SPEC_MAX_ARGS, check_argument, out) == -1)
		return -1;
	if (json_array_size(*out) == 0) {
		json_decref(*out);
		return bad(p, "must name a program%s", "");
	}
	return 0;
}

static int
check_ids(struct path *p, json_t *v, json_t **out)
{
	return check_array_of(p, v, 1000, check_id, out);
}

static int
check_exit_statuses(struct path *p, json_t *v, json_t **out)
{
	return check_array_of(p, v, 256, check_exit_status, out);
}

static const struct field resource_fields[] = {{"cpu", check_cpu},
    {"memory", check_size}, {"disk", check_size}, {"gpu", check_gpu},
    {NULL, NULL}};
FIELDS_FIT(resource_fields);
OBJECT_CHECKER(check_resources, resource_fields)

/* The summary lives in memory and in the database: kept small. */
static int
check_return(struct path *p, json_t *v, json_t **out)
{
	if (check_size(p, v, out) == -1)
		return -1;
	if (json_integer_value(*out) > SPEC_MAX_RETURN) {
		json_decref(*out);
		*out = NULL;
		return bad(p,
		    "must be at most 1MiB (the whole output is in the "
		    "results files)%s",
		    "");
	}
	return 0;
}

static const struct field output_fields[] = {
    {"max_file", check_size}, {"max_return", check_return}, {NULL, NULL}};
FIELDS_FIT(output_fields);
OBJECT_CHECKER(check_output, output_fields)

static int
check_netrc(struct path *p, json_t *v, json_t **out)
{
	return json_is_boolean(v) ? check_bool(p, v, out)
				  : check_text(p, v, out);
}

static const struct field credential_fields[] = {{"env", check_text},
    {"file", check_text}, {"netrc", check_netrc}, {"aws_profile", check_text},
    {"username", check_text}, {"password", check_text}, {"token", check_text},
    {"access_key_id", check_text}, {"secret_access_key", check_text},
    {"session_token", check_text}, {"region", check_text}, {NULL, NULL}};
FIELDS_FIT(credential_fields);
OBJECT_CHECKER(check_credentials, credential_fields)

static int check_webhook(struct path *p, json_t *v, json_t **out);

static const struct field artifact_fields[] = {{"name", check_name},
    {"url", check_url}, {"hash", check_hash}, {"unpack", check_bool},
    {"path", check_relpath}, {"mutable", check_bool},
    {"credentials", check_credentials}, {"endpoint", check_webhook},
    {NULL, NULL}};
FIELDS_FIT(artifact_fields);

static int
check_artifact(struct path *p, json_t *v, json_t **out)
{
	if (check_object(p, v, artifact_fields, out) == -1)
		return -1;
	if (json_object_get(*out, "url") == NULL) {
		json_decref(*out);
		return bad(p, "an artifact needs a url%s", "");
	}
	return 0;
}

/* A context folder kept in the database: named by its sha256. */
static int
check_context(struct path *p, json_t *v, json_t **out)
{
	if (check_hash(p, v, out) == -1)
		return -1;
	if (strncmp(json_string_value(*out), "sha256:", 7) != 0) {
		json_decref(*out);
		return bad(p, "a context is named by its sha256%s", "");
	}
	return 0;
}

static int
check_artifacts(struct path *p, json_t *v, json_t **out)
{
	return check_array_of(p, v, 1000, check_artifact, out);
}

/* An absolute path without "..": a place in a sandbox or container. */
static int
check_abspath(struct path *p, json_t *v, json_t **out)
{
	const char *s, *c;
	size_t n;

	if (check_text(p, v, out) == -1)
		return -1;
	s = json_string_value(v);
	for (c = s; *s == '/' && *c != '\0'; c += n) {
		c += strspn(c, "/");
		n = strcspn(c, "/");
		if (n == 2 && strncmp(c, "..", 2) == 0)
			break;
	}
	if (*s != '/' || *c != '\0') {
		json_decref(*out);
		return bad(p, "'%s' must be an absolute path without '..'", s);
	}
	return 0;
}

/* An image name is never taken for an option of docker's. */
static int
check_image(struct path *p, json_t *v, json_t **out)
{
	if (check_text(p, v, out) == -1)
		return -1;
	if (*json_string_value(v) == '-') {
		json_decref(*out);
		return bad(
		    p, "'%s' is not an image name", json_string_value(v));
	}
	return 0;
}

static const struct field container_fields[] = {{"image", check_image},
    {"entrypoint", check_command}, {"workdir", check_abspath}, {NULL, NULL}};
FIELDS_FIT(container_fields);

static int
check_container(struct path *p, json_t *v, json_t **out)
{
	if (check_object(p, v, container_fields, out) == -1)
		return -1;
	if (json_object_get(*out, "image") == NULL) {
		json_decref(*out);
		return bad(p, "a container needs an image%s", "");
	}
	return 0;
}

/* A bind's source: a host path, or one inside the work directory. */
static int
check_source(struct path *p, json_t *v, json_t **out)
{
	if (json_is_string(v) && *json_string_value(v) == '/')
		return check_abspath(p, v, out);
	return check_relpath(p, v, out);
}

static const struct field bind_fields[] = {{"source", check_source},
    {"target", check_abspath}, {"read_only", check_bool}, {NULL, NULL}};
FIELDS_FIT(bind_fields);

static int
check_bind(struct path *p, json_t *v, json_t **out)
{
	if (check_object(p, v, bind_fields, out) == -1)
		return -1;
	if (json_object_get(*out, "source") == NULL ||
	    json_object_get(*out, "target") == NULL) {
		json_decref(*out);
		return bad(p, "a bind needs a source and a target%s", "");
	}
	return 0;
}

static int
check_binds(struct path *p, json_t *v, json_t **out)
{
	return check_array_of(p, v, 1000, check_bind, out);
}

/* One of a fixed set of words. */
static int
check_one_of(struct path *p, json_t *v, const char *const *words,
    const char *list, json_t **out)
{
	if (want(p, v, json_is_string(v), "a string") == -1)
		return -1;
	for (int i = 0; words[i] != NULL; i++)
		if (strcmp(json_string_value(v), words[i]) == 0) {
			*out = json_incref(v);
			return 0;
		}
	return error_set(EX_DATAERR, "%s: '%.64s' is not one of %s", p->buf,
	    json_string_value(v), list);
}

static int
check_network(struct path *p, json_t *v, json_t **out)
{
	static const char *const words[] = {"none", "full", NULL};

	return check_one_of(p, v, words, "none, full", out);
}

static int
check_operator(struct path *p, json_t *v, json_t **out)
{
	static const char *const words[] = {
	    "=", "!=", "in", "notin", "exists", "!exists", "gt", "lt", NULL};

	return check_one_of(
	    p, v, words, "=, !=, in, notin, exists, !exists, gt, lt", out);
}

static int
check_texts(struct path *p, json_t *v, json_t **out)
{
	return check_array_of(p, v, 1000, check_text, out);
}

static const struct field requirement_fields[] = {{"key", check_text},
    {"operator", check_operator}, {"values", check_texts}, {NULL, NULL}};
FIELDS_FIT(requirement_fields);

/* A selector's requirement: gt and lt compare one number. */
static int
check_requirement(struct path *p, json_t *v, json_t **out)
{
	const char *op;
	size_t n;

	if (check_object(p, v, requirement_fields, out) == -1)
		return -1;
	op = json_string_value(json_object_get(*out, "operator"));
	n = json_array_size(json_object_get(*out, "values"));
	if (json_object_get(*out, "key") == NULL || op == NULL) {
		json_decref(*out);
		return bad(
		    p, "a requirement needs a key and an operator%s", "");
	}
	if ((strcmp(op, "exists") == 0 || strcmp(op, "!exists") == 0) !=
		(n == 0) ||
	    ((*op == '=' || *op == '!' || *op == 'g' || *op == 'l') &&
		strstr(op, "exists") == NULL && n != 1)) {
		json_decref(*out);
		return bad(p, "wrong number of values for '%s'", op);
	}
	return 0;
}

static int
check_selector(struct path *p, json_t *v, json_t **out)
{
	return check_array_of(p, v, 100, check_requirement, out);
}

static int
check_webhook(struct path *p, json_t *v, json_t **out)
{
	const char *s;

	if (check_text(p, v, out) == -1)
		return -1;
	s = json_string_value(v);
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
		json_decref(*out);
		return bad(p, "'%s' is not an http or https URL", s);
	}
	return 0;
}

static int
check_concurrency(struct path *p, json_t *v, json_t **out)
{
	return check_range(p, v, 1, SPEC_MAX_SHARDS, out);
}

static int
check_notes(struct path *p, json_t *v, json_t **out)
{
	return check_array_of(p, v, 100, check_text, out);
}

/* What a foreign document held that means nothing here, kept as it was. */
static int
check_foreign(struct path *p, json_t *v, json_t **out)
{
	size_t n;

	if (want(p, v, json_is_object(v), "an object") == -1)
		return -1;
	if (spec_json_len(v, &n) == -1)
		return -1;
	if (n > SPEC_MAX_FOREIGN)
		return bad(p, "is larger than 64KiB%s", "");
	*out = json_incref(v);
	return 0;
}

static int check_shards(struct path *p, json_t *v, json_t **out);

static const struct field spec_fields[] = {{"name", check_name},
    {"command", check_command}, {"shell", check_script}, {"env", check_env},
    {"export", check_env}, {"worker_env", check_env_names},
    {"workdir", check_text}, {"scratch", check_bool},
    {"timeout", check_duration}, {"grace", check_duration},
    {"retries", check_retries}, {"retry_on", check_exit_statuses},
    {"priority", check_priority}, {"queue", check_word},
    {"labels", check_labels}, {"resources", check_resources},
    {"output", check_output}, {"after", check_ids}, {"after_any", check_ids},
    {"hold", check_bool}, {"at", check_time}, {"key", check_name},
    {"inputs", check_artifacts}, {"outputs", check_artifacts},
    {"context", check_context}, {"container", check_container},
    {"binds", check_binds}, {"network", check_network}, {"sandbox", check_bool},
    {"selector", check_selector}, {"notify", check_webhook},
    {"save_every", check_duration}, {"parent", check_id},
    {"concurrency", check_concurrency}, {"shards", check_shards},
    {"notes", check_notes}, {"foreign", check_foreign}, {NULL, NULL}};
FIELDS_FIT(spec_fields);

json_t *
spec_artifact(json_t *a)
{
	struct path p = {"$", 1};
	json_t *out;

	return check_artifact(&p, a, &out) == -1 ? NULL : out;
}

static int
check_object(
    struct path *p, json_t *v, const struct field *fields, json_t **out)
{
	json_t *found[SPEC_MAX_FIELDS] = {NULL}, *obj, *e, *n;
	const char *k, *unknown = NULL;
	size_t i, old;

	if (want(p, v, json_is_object(v), "an object") == -1)
		return -1;
	/*
	 * Its members, found in the table: a spec has a few of its fields,
	 * and finding each field among them would hash every name.  An
	 * unknown member is said after the known ones are checked, as the
	 * first of them to fail would be said before it.
	 */
	json_object_foreach(v, k, e)
	{
		for (i = 0; fields[i].name != NULL; i++)
			if (strcmp(fields[i].name, k) == 0)
				break;
		if (fields[i].name != NULL)
			found[i] = e;
		else if (unknown == NULL)
			unknown = k;
	}
	if ((obj = json_object()) == NULL)
		return error_set(EX_OSERR, "out of memory");
	/* Normalized output keeps the order of the field table. */
	for (i = 0; fields[i].name != NULL; i++) {
		if (found[i] == NULL)
			continue;
		old = path_push(p, fields[i].name, 0);
		if (fields[i].check(p, found[i], &n) == -1)
			goto fail;
		path_pop(p, old);
		if (n == NULL ||
		    json_object_set_new(obj, fields[i].name, n) == -1) {
			error_set(EX_OSERR, "out of memory");
			goto fail;
		}
	}
	if (unknown != NULL) {
		path_push(p, unknown, 0);
		bad(p, "unknown field%s", "");
		goto fail;
	}
	*out = obj;
	return 0;
fail:
	json_decref(obj);
	return -1;
}

/* What the fields cannot say alone: exactly one of command and shell, but
 * neither for a parent of shards and either for a container. */
static int
check_rules(struct path *p, json_t *out)
{
	int cmd = json_object_get(out, "command") != NULL,
	    sh = json_object_get(out, "shell") != NULL,
	    parent = json_object_get(out, "shards") != NULL;

	if (cmd && sh)
		return bad(p, "give command or shell, not both%s", "");
	if (parent && (cmd || sh || json_object_get(out, "container")))
		return bad(p,
		    "a job of shards runs nothing itself: give its "
		    "command to the shards%s",
		    "");
	if (!parent && json_object_get(out, "concurrency") != NULL)
		return bad(p, "concurrency is for a job of shards%s", "");
	if (!cmd && !sh && !parent && json_object_get(out, "container") == NULL)
		return bad(p, "a job needs a command or a shell%s", "");
	if (json_object_get(out, "workdir") != NULL &&
	    json_is_true(json_object_get(out, "scratch")))
		return bad(p,
		    "give workdir or scratch, not both (scratch runs it "
		    "in a fresh folder)%s",
		    "");
	return 0;
}

static int
check_spec(struct path *p, json_t *v, json_t **out)
{
	if (check_object(p, v, spec_fields, out) == -1)
		return -1;
	if (check_rules(p, *out) == -1) {
		json_decref(*out);
		return -1;
	}
	return 0;
}

/* One shard: a whole spec, but not a parent of shards itself. */
static int
check_shard(struct path *p, json_t *v, json_t **out)
{
	if (json_is_object(v) && json_object_get(v, "shards") != NULL)
		return bad(p, "a shard cannot have shards%s", "");
	return check_spec(p, v, out);
}

static int
check_shards(struct path *p, json_t *v, json_t **out)
{
	if (check_array_of(p, v, SPEC_MAX_SHARDS, check_shard, out) == -1)
		return -1;
	if (json_array_size(*out) == 0) {
		json_decref(*out);
		return bad(p, "a job of shards needs one at least%s", "");
	}
	return 0;
}

json_t *
spec_normalize(json_t *spec, int64_t now_ms)
{
	struct path p = {"$", 1};
	json_t *out;

	(void)now_ms;
	return check_spec(&p, spec, &out) == -1 ? NULL : out;
}

/* The default name (jobname.h); a container job is known by its image. */
static const char *
spec_default_name(json_t *spec, char *buf, size_t len)
{
	json_t *cmd = json_object_get(spec, "command"), *img, *v;
	const char *argv[SPEC_NAME_WORDS + 1], *s, *slash;
	size_t i, n;

	if ((img = json_object_get(spec, "container")) != NULL) {
		s = json_string_value(json_object_get(img, "image"));
		slash = strrchr(s, '/');
		s = slash && slash[1] ? slash + 1 : s;
		n = strcspn(s, ":@");
		snprintf(buf, len, "%.*s", (int)(n ? n : 3), n ? s : "job");
		return buf;
	}
	if ((v = json_object_get(spec, "shell")) != NULL)
		return jobname_shell(json_string_value(v), buf, len);
	if (cmd == NULL)
		return snprintf(buf, len, "shards"), buf;
	json_array_foreach(cmd, i, v)
	{
		if (i == SPEC_NAME_WORDS)
			break;
		argv[i] = json_string_value(v);
	}
	argv[i < SPEC_NAME_WORDS ? i : SPEC_NAME_WORDS] = NULL;
	return jobname_argv(argv, buf, len);
}

int
spec_name(json_t *spec)
{
	char name[SPEC_MAX_NAME + 1];

	if (json_object_get(spec, "name") != NULL)
		return 0;
	return spec_set(spec, "name",
	    json_string(spec_default_name(spec, name, sizeof(name))));
}

char *
spec_stored(json_t *spec)
{
	json_t *own = json_incref(json_object_get(spec, "export"));
	char *text;

	if (own != NULL)
		json_object_del(spec, "export");
	text = json_dumps(spec, JSON_COMPACT);
	if (own != NULL && json_object_set_new(spec, "export", own) == -1) {
		free(text);
		text = NULL;
	}
	return text;
}

int
spec_to_job(json_t *spec, struct job_new *jn)
{
	json_t *v, *res = NULL;
	const char *k;
	int64_t ms;
	int shards = 0;

	memset(jn, 0, sizeof(*jn));
	jn->spec = spec;
	jn->queue = SPEC_DEFAULT_QUEUE;
	if (spec_name(spec) == -1)
		return -1;
	/* Its members, once each: a spec has a few of the fields read here,
	 * and looking each up would hash every one (the storing thread of
	 * an NDJSON stream spent a sixth of its time so). */
	json_object_foreach(spec, k, v)
	{
		if (strcmp(k, "name") == 0)
			jn->name = json_string_value(v);
		else if (strcmp(k, "queue") == 0)
			jn->queue = json_string_value(v);
		else if (strcmp(k, "priority") == 0)
			jn->priority = json_integer_value(v);
		else if (strcmp(k, "hold") == 0)
			jn->hold = json_is_true(v);
		else if (strcmp(k, "at") == 0 &&
		    parse_time(json_string_value(v), 0, 1, &ms) == 0)
			jn->not_before = ms;
		else if (strcmp(k, "key") == 0)
			jn->key = json_string_value(v);
		else if (strcmp(k, "labels") == 0)
			jn->labels = v;
		else if (strcmp(k, "after") == 0)
			jn->after = v;
		else if (strcmp(k, "after_any") == 0)
			jn->after_any = v;
		else if (strcmp(k, "retries") == 0)
			jn->max_attempts = json_integer_value(v);
		else if (strcmp(k, "resources") == 0)
			res = v;
		else if (strcmp(k, "concurrency") == 0)
			jn->concurrency = json_integer_value(v);
		else if (strcmp(k, "shards") == 0)
			shards = 1;
		else if (strcmp(k, "parent") == 0)
			jn->parent = json_string_value(v);
		else if (strcmp(k, "selector") == 0)
			jn->selector = v;
	}
	jn->max_attempts += 1;
	jn->cpu_milli = (int64_t)llround(
	    json_number_value(json_object_get(res, "cpu")) * 1000);
	jn->memory = json_integer_value(json_object_get(res, "memory"));
	jn->disk = json_integer_value(json_object_get(res, "disk"));
	jn->gpu = json_integer_value(json_object_get(res, "gpu"));
	/* Shards without a cap all run as workers take them. */
	if (shards && jn->concurrency == 0)
		jn->concurrency = SPEC_MAX_SHARDS;
	return 0;
}

/* The members of artifact a that say what data it is (its hash, else its
 * URL); NULL when out of memory. */
static json_t *
digest_input(json_t *a)
{
	const char *keys[] = {
	    json_object_get(a, "hash") != NULL ? "hash" : "url", "path",
	    "unpack"};
	json_t *o = json_object(), *v;
	size_t i;

	for (i = 0; o != NULL && i < sizeof(keys) / sizeof(*keys); i++)
		if ((v = json_object_get(a, keys[i])) != NULL &&
		    json_object_set(o, keys[i], v) == -1) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

/*
 * Callbacks of json_dump_callback() that cannot fail: a json_dumps() out
 * of memory may leave a key out of its text and still return it (jansson
 * 2.14 does not check what dumping a key returns).
 */
static int
dump_sha(const char *buf, size_t len, void *sha)
{
	sha256_update(sha, buf, len);
	return 0;
}

static int
dump_count(const char *buf, size_t len, void *n)
{
	*(size_t *)n += len;
	return 0;
}

int
spec_json_len(const json_t *v, size_t *n)
{
	*n = 0;
	if (json_dump_callback(
		v, dump_count, n, JSON_COMPACT | JSON_ENCODE_ANY) == -1)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

int
spec_digest(json_t *spec, char *out)
{
	static const char *const keys[] = {
	    "command", "shell", "workdir", "env", "context", "container", NULL};
	struct sha256 sha;
	json_t *o = json_object(), *in = json_array(), *v;
	size_t i;
	int r = -1;

	if (o == NULL || in == NULL)
		goto out;
	for (i = 0; keys[i] != NULL; i++)
		if ((v = json_object_get(spec, keys[i])) != NULL &&
		    json_object_set(o, keys[i], v) == -1)
			goto out;
	json_array_foreach(json_object_get(spec, "inputs"), i, v)
	{
		if (json_array_append_new(in, digest_input(v)) == -1)
			goto out;
	}
	if (json_array_size(in) > 0 && json_object_set(o, "inputs", in) == -1)
		goto out;
	/* Sorted keys: the same spec written in any order hashes alike.
	 * Hashed as it is written, into nothing that could run out. */
	sha256_init(&sha);
	if (json_dump_callback(
		o, dump_sha, &sha, JSON_COMPACT | JSON_SORT_KEYS) == -1)
		goto out;
	memcpy(out, "sha256:", 7);
	sha256_final_hex(&sha, out + 7);
	r = 0;
out:
	json_decref(o);
	json_decref(in);
	return r == 0 ? 0 : error_set(EX_OSERR, "out of memory");
}

int
spec_merge(json_t *spec, json_t *override)
{
	const char *k;
	json_t *v, *cur;

	json_object_foreach(override, k, v)
	{
		/* A work directory given replaces a fresh one, and back. */
		if (strcmp(k, "workdir") == 0)
			json_object_del(spec, "scratch");
		else if (strcmp(k, "scratch") == 0)
			json_object_del(spec, "workdir");
		cur = json_object_get(spec, k);
		if (json_is_object(v) && json_is_object(cur)) {
			if (json_object_update(cur, v) == -1)
				goto oom;
		} else if (json_is_array(v) && json_is_array(cur) &&
		    (strcmp(k, "after") == 0 || strcmp(k, "after_any") == 0)) {
			if (json_array_extend(cur, v) == -1)
				goto oom;
		} else if (json_object_set(spec, k, v) == -1)
			goto oom;
	}
	return 0;
oom:
	return error_set(EX_OSERR, "out of memory");
}

static int
secret_name(const char *k)
{
	static const char *words[] = {"SECRET", "TOKEN", "PASSWORD", "PASSWD",
	    "PASS", "KEY", "CREDENTIAL", "AUTH", NULL};
	char up[256];
	size_t i;

	for (i = 0; k[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)k[i]);
	up[i] = '\0';
	for (i = 0; words[i] != NULL; i++)
		if (strstr(up, words[i]) != NULL)
			return 1;
	return 0;
}

/* v's text made its first len bytes, then mask, then rest: 0, or -1 when
 * out of memory. */
static int
redact_at(json_t *v, int len, const char *mask, const char *rest)
{
	char *buf;
	int r;

	if (asprintf(&buf, "%.*s%s%s", len, json_string_value(v), mask, rest) ==
	    -1)
		return error_set(EX_OSERR, "out of memory");
	r = json_string_set(v, buf);
	free(buf);
	return r == 0 ? 0 : error_set(EX_OSERR, "out of memory");
}

/* "scheme://user:pass@host" -> "scheme://user:***@host" */
static int
redact_url(json_t *v)
{
	const char *s = json_string_value(v), *at, *colon, *start;

	if (s == NULL || (start = strstr(s, "://")) == NULL)
		return 0;
	start += 3;
	at = strchr(start, '@');
	if (at == NULL || strcspn(start, "/") < (size_t)(at - start))
		return 0;
	colon = memchr(start, ':', (size_t)(at - start));
	if (colon == NULL)
		return 0;
	return redact_at(v, (int)(colon + 1 - s), "***", at);
}

/* A webhook's path is often its secret (Slack's are): only its host. */
static int
redact_webhook(json_t *v)
{
	const char *s, *h;
	size_t n;

	if (redact_url(v) == -1)
		return -1;
	if ((s = json_string_value(v)) == NULL ||
	    (h = strstr(s, "://")) == NULL)
		return 0;
	h += 3;
	n = strcspn(h, "/?#");
	if (h[n] == '\0' || strcmp(h + n, "/") == 0)
		return 0;
	return redact_at(v, (int)(h + n - s), "/***", "");
}

static int
redact_artifacts(json_t *arr)
{
	static const char *inline_secrets[] = {
	    "password", "token", "secret_access_key", "session_token", NULL};
	json_t *a, *c;
	size_t i;

	json_array_foreach(arr, i, a)
	{
		if (redact_url(json_object_get(a, "url")) == -1)
			return -1;
		c = json_object_get(a, "credentials");
		for (int j = 0; c != NULL && inline_secrets[j] != NULL; j++)
			if (json_object_get(c, inline_secrets[j]) != NULL &&
			    spec_set(
				c, inline_secrets[j], json_string("***")) == -1)
				return -1;
	}
	return 0;
}

int
spec_redact(json_t *spec)
{
	static const char *const maps[] = {"env", "export", NULL};
	const char *k;
	json_t *v;
	size_t n;

	for (int i = 0; maps[i] != NULL; i++)
		json_object_foreach(json_object_get(spec, maps[i]), k, v)
		{
			if (secret_name(k) && json_string_set(v, "***") == -1)
				return error_set(EX_OSERR, "out of memory");
		}
	if (redact_artifacts(json_object_get(spec, "inputs")) == -1 ||
	    redact_artifacts(json_object_get(spec, "outputs")) == -1 ||
	    redact_webhook(json_object_get(spec, "notify")) == -1)
		return -1;
	json_array_foreach(json_object_get(spec, "shards"), n, v)
	{
		if (spec_redact(v) == -1)
			return -1;
	}
	return 0;
}

int
spec_set(json_t *o, const char *k, json_t *v)
{
	if (json_object_set_new(o, k, v) == -1)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

int
spec_append(json_t *a, json_t *v)
{
	if (json_array_append_new(a, v) == -1)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}
