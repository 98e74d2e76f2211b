/*
 * StudioML experiment requests, as the go-runner reads them (its Request:
 * "config" and "experiment"), turned into one jobkit spec.  Each member of
 * the request has a small reader in a table, as spec.c checks a spec; the
 * tables' order is the order they are read in (config first: its env may
 * hold the keys the artifacts are fetched with).  A member no table knows
 * is kept in the spec's "foreign" object under its path; one a table marks
 * as meaning nothing here (the request's own bookkeeping) is not.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "import.h"
#include "importer.h"
#include "parse.h"
#include "spec.h"

/* What the readers gather as they walk the request. */
struct sml {
	json_t *spec, *foreign, *notes;
	json_t *hold; /* what the texts of numbers are kept in */
	json_t *env; /* config.env, its values as text */
	json_t *keys; /* the S3 keys config.env carries, as credentials */
	json_t *args, *pyenv, *pip; /* arrays of text, in hold */
	const char *key, *file;
	char ver[16]; /* pythonver, "" when none */
	const char *timeout; /* the shorter of the lifetimes */
	int64_t timeout_ms;
	int workspace; /* there is a workspace to run in */
	struct sml_art { /* the artifact being read */
		const char *name, *qualified, *url, *bucket, *key;
		json_t *obj; /* the jobkit artifact made of it */
	} art;
};

static int
oom(void)
{
	return error_set(EX_OSERR, "out of memory");
}

/* The members of o by table t; the unknown ones kept in foreign. */
static int
sml_object(
    struct sml *s, const char *path, json_t *o, const struct import_field *t)
{
	return import_table(s, path, o, t, s->foreign);
}

/* A string member's text (a number's too, as YAML gives one); *out NULL
 * for an empty one. */
static int
want_str(struct sml *s, const char *path, json_t *v, const char **out)
{
	*out = NULL;
	if ((*out = import_text(v, s->hold)) == NULL)
		return json_is_number(v) ? -1
					 : import_bad(path, "must be a string");
	if (**out == '\0')
		*out = NULL;
	return 0;
}

/* An array of strings (numbers as their text): *out a new one, in hold. */
static int
want_strings(struct sml *s, const char *path, json_t *v, json_t **out)
{
	char sub[600];
	const char *t;
	size_t i;
	json_t *e, *arr;

	if (!json_is_array(v))
		return import_bad(path, "must be an array of strings");
	if ((arr = json_array()) == NULL || json_array_append_new(s->hold, arr))
		return oom();
	json_array_foreach(v, i, e)
	{
		snprintf(sub, sizeof(sub), "%.500s[%zu]", path, i);
		if ((t = import_text(e, s->hold)) == NULL)
			return json_is_number(e)
			    ? -1
			    : import_bad(sub, "must be a string");
		if (spec_append(arr, json_string(t)) == -1)
			return -1;
	}
	*out = arr;
	return 0;
}

/* A Go duration ("20m", "1h30m"): *ms, or -1 naming path. */
static int
want_duration(
    struct sml *s, const char *path, json_t *v, const char **d, int64_t *ms)
{
	if (want_str(s, path, v, d) == -1)
		return -1;
	if (*d != NULL && parse_duration(*d, ms) == -1)
		return error_wrap("%s", path);
	return 0;
}

static int
note(struct sml *s, const char *fmt, const char *a, const char *b)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, a, b);
	return spec_append(s->notes, json_string(msg));
}

/* --- config --------------------------------------------------------- */

/* The S3 keys an older request carries in config.env (the go-runner's
 * names, both spellings), for the s3 artifacts that have none. */
static int
env_keys(struct sml *s, const char *path)
{
	static const char *const names[][2] = {
	    {"AWS_ACCESS_KEY_ID", "access_key_id"},
	    {"AWS_ACCESS_KEY", "access_key_id"},
	    {"AWS_SECRET_ACCESS_KEY", "secret_access_key"},
	    {"AWS_SECRET_KEY", "secret_access_key"},
	    {"AWS_SESSION_TOKEN", "session_token"},
	    {"AWS_DEFAULT_REGION", "region"}};
	const char *v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = json_string_value(json_object_get(s->env, names[i][0]));
		/* A %VAR% is the worker's: not known until the task runs. */
		if (v == NULL || *v == '\0' || strchr(v, '%') != NULL ||
		    json_object_get(s->keys, names[i][1]) != NULL)
			continue;
		if (import_set_str(s->keys, names[i][1], v) == -1)
			return -1;
	}
	if ((json_object_get(s->keys, "access_key_id") != NULL) !=
	    (json_object_get(s->keys, "secret_access_key") != NULL))
		return import_bad(path,
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together");
	return 0;
}

static int
rd_env(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	const char *k, *t;
	json_t *e;

	if (!json_is_object(v))
		return import_bad(path, "must be an object");
	if ((s->env = json_object()) == NULL ||
	    json_array_append_new(s->hold, s->env) == -1)
		return oom();
	json_object_foreach(v, k, e)
	{
		if (!spec_env_name_ok(k) ||
		    (t = import_text(e, s->hold)) == NULL)
			return json_is_number(e)
			    ? -1
			    : import_bad(path,
				  "'%s' must be a string named like a "
				  "variable",
				  k);
		if (import_set_str(s->env, k, t) == -1)
			return -1;
	}
	return env_keys(s, path);
}

static int
rd_pip(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_strings(s, path, v, &s->pip);
}

static int
rd_save(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	const char *d = NULL;
	int64_t ms = 0;

	if (want_duration(s, path, v, &d, &ms) == -1)
		return -1;
	return ms > 0 ? import_set_str(s->spec, "save_every", d) : 0;
}

/* max_duration and experimentLifetime: the shorter is the timeout. */
static int
rd_lifetime(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	const char *d = NULL;
	int64_t ms = 0;

	if (want_duration(s, path, v, &d, &ms) == -1)
		return -1;
	if (ms > 0 && (s->timeout_ms == 0 || ms < s->timeout_ms)) {
		s->timeout = d;
		s->timeout_ms = ms;
	}
	return 0;
}

static int
rd_slack(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	const char *u = NULL;

	if (want_str(s, path, v, &u) == -1)
		return -1;
	if (u == NULL)
		return 0;
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return import_bad(path, "'%s' is not an http or https URL", u);
	return import_set_str(s->spec, "notify", u);
}

static const struct import_field runner_fields[] = {
    {"slack_destination", rd_slack}, {NULL, NULL}};

static int
rd_runner(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return sml_object(s, path, v, runner_fields);
}

/* cloud and database: the queue and the metadata store the request came
 * through (with their logins): nothing on this machine. */
static const struct import_field config_fields[] = {{"env", rd_env},
    {"pip", rd_pip}, {"saveWorkspaceFrequency", rd_save},
    {"experimentLifetime", rd_lifetime}, {"runner", rd_runner}, {"cloud", NULL},
    {"database", NULL}, {"verbose", NULL}, {NULL, NULL}};

/* --- credentials ---------------------------------------------------- */

/* Each kind of StudioML credential, its members and jobkit's names. */
static const struct {
	const char *kind, *from, *to;
} cred_map[] = {{"aws", "access_key", "access_key_id"},
    {"aws", "secret_access_key", "secret_access_key"},
    {"aws", "session_token", "session_token"}, {"aws", "region", "region"},
    {"aws", "profile", "aws_profile"}, {"plain", "user", "username"},
    {"plain", "password", "password"}, {"jwt", "token", "token"}};

static int
cred_member(const char *path, const char *kind, const char *k, json_t *v,
    struct sml *s, json_t *out)
{
	const char *t;

	for (size_t i = 0; i < sizeof(cred_map) / sizeof(cred_map[0]); i++) {
		if (strcmp(cred_map[i].kind, kind) != 0 ||
		    strcmp(cred_map[i].from, k) != 0)
			continue;
		if ((t = import_text(v, s->hold)) == NULL)
			return json_is_number(v)
			    ? -1
			    : import_bad(path, "'%s' must be a string", k);
		return *t != '\0' ? import_set_str(out, cred_map[i].to, t) : 0;
	}
	return import_bad(
	    path, "'%s' is not a member of %s credentials", k, kind);
}

/* credentials.KIND into out; a missing half of a pair is refused. */
static int
cred_kind(
    const char *path, const char *kind, json_t *c, struct sml *s, json_t *out)
{
	const char *k;
	json_t *v;
	int has;

	if (!json_is_object(c))
		return import_bad(path, "must be an object");
	json_object_foreach(c, k, v)
	{
		if (!json_is_null(v) &&
		    cred_member(path, kind, k, v, s, out) == -1)
			return -1;
	}
	has = json_object_get(out, "access_key_id") != NULL;
	if (strcmp(kind, "aws") == 0 &&
	    has != (json_object_get(out, "secret_access_key") != NULL))
		return import_bad(
		    path, "an access_key and a secret_access_key go together");
	has = json_object_get(out, "username") != NULL;
	if (strcmp(kind, "plain") == 0 &&
	    has != (json_object_get(out, "password") != NULL))
		return import_bad(path, "a user and a password go together");
	return 0;
}

static int
rd_credentials(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	char sub[700];
	const char *k;
	json_t *c, *out;
	int r = 0;

	if (!json_is_object(v))
		return import_bad(path, "must be an object");
	if ((out = json_object()) == NULL)
		return oom();
	json_object_foreach(v, k, c)
	{
		snprintf(sub, sizeof(sub), "%.600s.%s", path, k);
		if (json_is_null(c))
			continue;
		if (strcmp(k, "aws") != 0 && strcmp(k, "plain") != 0 &&
		    strcmp(k, "jwt") != 0)
			r = import_bad(path,
			    "'%s' is not a kind of credentials (aws, plain, "
			    "jwt)",
			    k);
		else
			r = cred_kind(sub, k, c, s, out);
		if (r == -1)
			break;
	}
	if (r == 0 && json_object_size(out) > 0 &&
	    json_object_set(s->art.obj, "credentials", out) == -1)
		r = oom();
	json_decref(out);
	return r;
}

/* --- artifacts ------------------------------------------------------ */

/* s3.amazonaws.com, s3-REGION.amazonaws.com and s3.REGION.amazonaws.com
 * are AWS (as the go-runner tells them); *region the REGION, if any. */
static int
aws_host(const char *h, size_t n, char *region, size_t len)
{
	static const char sfx[] = ".amazonaws.com";
	size_t ns = sizeof(sfx) - 1;

	*region = '\0';
	if (n < 3 + ns || strncmp(h + n - ns, sfx, ns) != 0 ||
	    (strncmp(h, "s3.", 3) != 0 && strncmp(h, "s3-", 3) != 0))
		return 0;
	if (n > 3 + ns && n - 3 - ns < len) {
		memcpy(region, h + 3, n - 3 - ns);
		region[n - 3 - ns] = '\0';
	}
	for (char *p = region; *p != '\0'; p++)
		if (!islower((unsigned char)*p) &&
		    !isdigit((unsigned char)*p) && *p != '-')
			*region = '\0';
	return 1;
}

static int
host_ok(const char *h, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr(".-:[]_", h[i]))
			return 0;
	return 1;
}

/*
 * An s3 qualified URL, s3://AUTHORITY/BUCKET/KEY, as the go-runner reads
 * it: the authority is the server, plain http, path style (the runner
 * turns TLS on only for AWS, or when it is given a CA), unless it is AWS
 * or the artifact's own bucket.  Empty segments before the bucket and
 * the key (the runner's templates write "HOST//BUCKET/KEY") are dropped;
 * the artifact's bucket and key members, when given, win, as there.
 */
static int
s3_artifact(struct sml *s, const char *path, const char *q)
{
	const char *auth = q + 5, *rest, *bucket = s->art.bucket;
	const char *key = s->art.key;
	size_t an = strcspn(auth, "/"), bn;
	char region[64], *url, *ep = NULL;
	int r;

	if (an > 0 && !host_ok(auth, an))
		return import_bad(path, "'%.*s' is not a host", (int)an, auth);
	rest = auth + an;
	if (an > 0 && aws_host(auth, an, region, sizeof(region))) {
		json_t *c = json_object_get(s->art.obj, "credentials");
		if (*region != '\0' && json_object_get(c, "region") == NULL &&
		    import_set_str(import_object_at(s->art.obj, "credentials"),
			"region", region) == -1)
			return -1;
	} else if (bucket != NULL
		? strlen(bucket) == an && strncmp(auth, bucket, an) == 0
		: memchr(auth, ':', an) == NULL) {
		/* s3://BUCKET/KEY: the authority is the bucket (no port,
		 * and no bucket member saying otherwise) */
		rest = auth;
	} else if (asprintf(&ep, "http://%.*s", (int)an, auth) == -1)
		return oom();
	rest += strspn(rest, "/");
	bn = strcspn(rest, "/");
	if (key == NULL)
		key = rest + bn + strspn(rest + bn, "/");
	if (bucket != NULL)
		r = asprintf(&url, "s3://%s/%s", bucket, key);
	else
		r = asprintf(&url, "s3://%.*s/%s", (int)bn, rest, key);
	if (r == -1) {
		free(ep);
		return oom();
	}
	if ((bucket == NULL && bn == 0) || *key == '\0')
		r = import_bad(path,
		    "an s3 URL names a bucket and a key "
		    "(s3://HOST:PORT/BUCKET/KEY)");
	else if ((r = import_set_str(s->art.obj, "url", url)) == 0 &&
	    ep != NULL)
		r = import_set_str(s->art.obj, "endpoint", ep);
	free(url);
	free(ep);
	return r;
}

static int
rd_qualified(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_str(s, path, v, &s->art.qualified);
}

static int
rd_url(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_str(s, path, v, &s->art.url);
}

static int
rd_bucket(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_str(s, path, v, &s->art.bucket);
}

static int
rd_key_member(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_str(s, path, v, &s->art.key);
}

static int
rd_flag(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	int b = import_bool(v);

	if (b == -1)
		return import_bad(path, "must be true or false");
	return spec_set(s->art.obj, name, json_boolean(b));
}

/* The members of an artifact, read into s->art; local is where the
 * submitter's copy was.  The URL is made once all are read. */
static const struct import_field artifact_fields[] = {{"bucket", rd_bucket},
    {"key", rd_key_member}, {"qualified", rd_qualified}, {"url", rd_url},
    {"unpack", rd_flag}, {"mutable", rd_flag}, {"credentials", rd_credentials},
    {"local", NULL}, {NULL, NULL}};

/* The storage a URL names: s3 as the runner reads it, and what
 * artifact-fetch reads as it is; anything else is refused. */
static int
art_url(struct sml *s, const char *path, const char *u)
{
	static const char *const as_is[] = {
	    "http://", "https://", "ftp://", "ftps://", "file://", NULL};
	size_t n = strcspn(u, ":");

	if (strncmp(u, "s3://", 5) == 0)
		return s3_artifact(s, path, u);
	for (int i = 0; as_is[i] != NULL; i++)
		if (strncmp(u, as_is[i], strlen(as_is[i])) == 0)
			return import_set_str(s->art.obj, "url", u);
	if (u[n] == ':' && n > 0 && n < 16)
		return import_bad(path,
		    "storage '%.*s' is not supported (s3, http, https, ftp, "
		    "ftps, file)",
		    (int)n, u);
	return import_bad(path, "'%s' is not a URL", u);
}

/* Where it goes: a folder of its name, the object itself in it under its
 * own name unless unpacked, as the go-runner lays artifacts out. */
static int
art_path(struct sml *s)
{
	const char *u = json_string_value(json_object_get(s->art.obj, "url"));
	size_t n = strcspn(u, "?#");
	const char *base;
	char *p;
	int r;

	while (n > 0 && u[n - 1] != '/')
		n--;
	base = u + n;
	if (json_is_true(json_object_get(s->art.obj, "unpack")) ||
	    strcspn(base, "?#") == 0 || strstr(u, "://") + 3 > base)
		return import_set_str(s->art.obj, "path", s->art.name);
	if (asprintf(&p, "%s/%.*s", s->art.name, (int)strcspn(base, "?#"),
		base) == -1)
		return oom();
	r = import_set_str(s->art.obj, "path", p);
	free(p);
	return r;
}

/* The keys config.env carried sign an s3 artifact that has none. */
static int
art_keys(struct sml *s)
{
	const char *u = json_string_value(json_object_get(s->art.obj, "url"));
	json_t *c;
	const char *k;
	json_t *v;

	if (strncmp(u, "s3://", 5) != 0 || json_object_size(s->keys) == 0)
		return 0;
	if ((c = import_object_at(s->art.obj, "credentials")) == NULL)
		return -1;
	if (json_object_get(c, "access_key_id") != NULL ||
	    json_object_get(c, "aws_profile") != NULL) {
		if (json_object_get(c, "region") == NULL &&
		    (v = json_object_get(s->keys, "region")) != NULL &&
		    json_object_set(c, "region", v) == -1)
			return oom();
		return 0;
	}
	json_object_foreach(s->keys, k, v)
	{
		if (json_object_get(c, k) == NULL &&
		    json_object_set(c, k, v) == -1)
			return oom();
	}
	return 0;
}

static int
art_name_ok(const char *name)
{
	return *name != '\0' && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int
one_artifact(struct sml *s, const char *path, const char *name, json_t *a)
{
	const char *u;

	memset(&s->art, 0, sizeof(s->art));
	s->art.name = name;
	if ((s->art.obj = json_object()) == NULL)
		return oom();
	if (import_set_str(s->art.obj, "name", name) == -1 ||
	    sml_object(s, path, a, artifact_fields) == -1)
		return -1;
	u = s->art.qualified != NULL ? s->art.qualified : s->art.url;
	/* The runner skips an artifact with nowhere to come from; it
	 * cannot run without its workspace. */
	if (u == NULL && strcmp(name, "workspace") == 0)
		return import_bad(path, "the workspace has no 'qualified' URL");
	if (u == NULL)
		return note(s,
		    "artifact '%s' has no URL: not staged, as the "
		    "go-runner skips it%s",
		    name, "");
	if (!art_name_ok(name))
		return import_bad(path, "an artifact name must be a file name");
	if (art_url(s, path, u) == -1 || art_path(s) == -1 || art_keys(s) == -1)
		return -1;
	if (json_array_append(import_array_at(s->spec, "inputs"), s->art.obj) ==
	    -1)
		return oom();
	if (strcmp(name, "workspace") == 0)
		s->workspace = 1;
	return 0;
}

static int
rd_artifacts(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	char sub[640];
	const char *k;
	json_t *a;
	int r = 0;

	if (!json_is_object(v))
		return import_bad(path, "must be an object");
	json_object_foreach(v, k, a)
	{
		snprintf(sub, sizeof(sub), "%.500s.%s", path, k);
		r = one_artifact(s, sub, k, a);
		json_decref(s->art.obj);
		s->art.obj = NULL;
		if (r == -1)
			break;
	}
	return r;
}

/* --- resources ------------------------------------------------------ */

static int
rd_count(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return import_bad(path, "must be a whole number");
	if (json_integer_value(v) > 0 &&
	    json_object_set(import_object_at(s->spec, "resources"),
		strcmp(name, "gpus") == 0 ? "gpu" : "cpu", v) == -1)
		return oom();
	return 0;
}

/* ram "2gb", hdd "10gb": go-humanize sizes (the runner parses them so). */
static int
humanize(const char *path, json_t *v, json_t **n)
{
	*n = NULL;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*n = json_incref(v);
		return 0;
	}
	if (!json_is_string(v))
		return import_bad(path, "must be a size");
	if (*json_string_value(v) == '\0')
		return 0;
	return import_humanize_size(path, json_string_value(v), n);
}

static int
rd_size(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	json_t *n;
	int r = 0;

	if (humanize(path, v, &n) == -1)
		return -1;
	if (n != NULL && json_integer_value(n) > 0 &&
	    json_object_set(import_object_at(s->spec, "resources"),
		strcmp(name, "ram") == 0 ? "memory" : "disk", n) == -1)
		r = oom();
	json_decref(n);
	return r;
}

/* GPU memory: there is no per-GPU fit to give it to; kept and said. */
static int
rd_gpumem(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	json_t *n;
	int r = 0;

	if (humanize(path, v, &n) == -1)
		return -1;
	if (n != NULL && json_integer_value(n) > 0) {
		if (json_object_set(s->foreign, path, v) == -1)
			r = oom();
		else
			r = note(s,
			    "%s '%s' is recorded, not enforced: jobkit fits "
			    "jobs to whole GPUs, not to GPU memory",
			    path + 2,
			    json_is_string(v) ? json_string_value(v) : "");
	}
	json_decref(n);
	return r;
}

static const struct import_field resource_fields[] = {{"cpus", rd_count},
    {"gpus", rd_count}, {"ram", rd_size}, {"hdd", rd_size},
    {"gpuMem", rd_gpumem}, {NULL, NULL}};

static int
rd_resources(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return sml_object(s, path, v, resource_fields);
}

/* --- experiment ----------------------------------------------------- */

static int
rd_key(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_str(s, path, v, &s->key);
}

static int
rd_filename(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_str(s, path, v, &s->file);
}

static int
rd_args(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_strings(s, path, v, &s->args);
}

static int
rd_pyenv(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return want_strings(s, path, v, &s->pyenv);
}

/* "3.9", 3 or 3.9: digits and dots, the pythonX.Y to run. */
static int
rd_pythonver(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	if (json_is_integer(v))
		snprintf(s->ver, sizeof(s->ver), "%lld",
		    (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(s->ver, sizeof(s->ver), "%g", json_real_value(v));
	else if (json_is_string(v) && json_string_length(v) < sizeof(s->ver))
		snprintf(s->ver, sizeof(s->ver), "%s", json_string_value(v));
	else
		return import_bad(path, "must be a version such as 3.9");
	for (const char *p = s->ver; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) &&
		    !(*p == '.' && p != s->ver && p[1] != '\0'))
			return import_bad(
			    path, "must be a version such as 3.9");
	return 0;
}

static int
rd_label(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	const char *l = NULL;

	if (want_str(s, path, v, &l) == -1)
		return -1;
	if (l != NULL)
		return import_set_str(
		    import_object_at(s->spec, "labels"), name, l);
	return 0;
}

/* status, times, git, info and metric are StudioML's bookkeeping. */
static const struct import_field experiment_fields[] = {{"key", rd_key},
    {"filename", rd_filename}, {"args", rd_args}, {"pythonver", rd_pythonver},
    {"pythonenv", rd_pyenv}, {"max_duration", rd_lifetime},
    {"resources_needed", rd_resources}, {"artifacts", rd_artifacts},
    {"project", rd_label}, {"owner", rd_label}, {"status", NULL},
    {"time_added", NULL}, {"time_started", NULL},
    {"time_last_checkpoint", NULL}, {"time_finished", NULL}, {"git", NULL},
    {"info", NULL}, {"metric", NULL}, {NULL, NULL}};

static int
rd_experiment(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	if (sml_object(s, path, v, experiment_fields) == -1)
		return -1;
	if (s->key == NULL || s->file == NULL)
		return import_bad(
		    path, "an experiment needs a 'key' and a 'filename'");
	return 0;
}

static int
rd_config(void *ctx, const char *path, const char *name, json_t *v)
{
	struct sml *s = ctx;
	return sml_object(s, path, v, config_fields);
}

static const struct import_field request_fields[] = {
    {"config", rd_config}, {"experiment", rd_experiment}, {NULL, NULL}};

/* --- the command ---------------------------------------------------- */

/* A StudioML value for sh(1): %VAR% is the worker's variable VAR. */
static void
sh_expand(FILE *fp, const char *s)
{
	const char *end;

	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '%' && (end = strchr(s + 1, '%')) != NULL &&
		    end > s + 1) {
			char name[128];
			size_t n = (size_t)(end - s - 1);
			if (n < sizeof(name)) {
				memcpy(name, s + 1, n);
				name[n] = '\0';
				if (spec_env_name_ok(name)) {
					fprintf(fp, "${%s}", name);
					s = end;
					continue;
				}
			}
		}
		if (strchr("$`\"\\", *s))
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

/* config.env: plain values in the spec's env, %VAR% ones exported by the
 * shell (the worker's variables are known only there). */
static int
sh_env(struct sml *s, FILE *fp)
{
	const char *k;
	json_t *v, *env = import_object_at(s->spec, "env");

	if (import_set_str(env, "STUDIOML_EXPERIMENT", s->key) == -1)
		return -1;
	json_object_foreach(s->env, k, v)
	{
		if (strchr(json_string_value(v), '%') == NULL) {
			if (json_object_set(env, k, v) == -1)
				return oom();
			continue;
		}
		fprintf(fp, "export %s=", k);
		sh_expand(fp, json_string_value(v));
		fputs("; ", fp);
	}
	return 0;
}

/* A line for stderr that is also an event of the job (job-submit --note),
 * where the job can reach job-submit. */
#define SH_SAY \
	"say() { echo \"studioml: $1\" >&2; job-submit --note \"$1\" " \
	"\"$JOBKIT_JOB_ID\" >/dev/null 2>&1 || :; }; "

/* pythonX.Y when the worker has it, else python3, said; the packages
 * into the task's own venv when the worker was started with --pip
 * (JOBKIT_PIP=1), else said that they were not. */
static void
sh_python(struct sml *s, FILE *fp)
{
	int pkgs = json_array_size(s->pyenv) + json_array_size(s->pip) > 0;

	if (*s->ver == '\0' && !pkgs)
		return;
	fputs(SH_SAY, fp);
	if (*s->ver != '\0')
		fprintf(fp,
		    "if python%s -c '' >/dev/null 2>&1; then "
		    "PY=python%s; else PY=python3; fi; "
		    "say \"pythonver %s: running $PY\"; ",
		    s->ver, s->ver, s->ver);
	else
		fputs("PY=python3; ", fp);
	if (!pkgs)
		return;
	fputs("if [ \"${JOBKIT_PIP:-}\" = 1 ]; then \"$PY\" -m venv .venv; "
	      ".venv/bin/python -m pip install --quiet",
	    fp);
	import_sh_words(fp, s->pyenv);
	import_sh_words(fp, s->pip);
	fputs("; PY=\"$PWD/.venv/bin/python\"; PATH=\"$PWD/.venv/bin:$PATH\"; "
	      "else say 'pythonenv and pip packages not installed "
	      "(exec-run --pip installs them)'; fi; ",
	    fp);
}

/*
 * Members no reader knows are kept, and said to be, in one note: a
 * misspelt max_duration would otherwise be a job without a timeout that
 * nothing mentions.
 */
static int
note_foreign(struct sml *s)
{
	char list[900];
	const char *k;
	size_t n = 0;
	json_t *v;

	list[0] = '\0';
	json_object_foreach(s->foreign, k, v)
	{
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n,
			    "%s%s", n ? ", " : "", k);
	}
	v = json_sprintf("not read, kept as they are: %s", list);
	if (v == NULL || json_array_append_new(s->notes, v) == -1)
		return oom();
	return 0;
}

static int
sml_shell(struct sml *s)
{
	char *script = NULL;
	size_t len = 0;
	FILE *fp;
	int r;

	if ((fp = open_memstream(&script, &len)) == NULL)
		return oom();
	fputs("set -e; ", fp);
	if (sh_env(s, fp) == -1) {
		fclose(fp);
		free(script);
		return -1;
	}
	sh_python(s, fp);
	if (s->workspace)
		fputs("cd workspace; ", fp);
	if (*s->ver != '\0' ||
	    json_array_size(s->pyenv) + json_array_size(s->pip) > 0)
		fputs("exec \"$PY\" ", fp);
	else
		fputs("exec python3 ", fp);
	import_sh_word(fp, s->file);
	import_sh_words(fp, s->args);
	if (fclose(fp) == EOF) {
		free(script);
		return oom();
	}
	r = import_set_str(s->spec, "shell", script);
	free(script);
	return r;
}

/* name, idempotency key, timeout, and what was kept aside. */
static int
sml_finish(struct sml *s)
{
	char *ik;
	int r;

	if (import_set_str(s->spec, "name", s->key) == -1)
		return -1;
	/* A request delivered twice is one job. */
	if (asprintf(&ik, "studioml:%s", s->key) == -1)
		return oom();
	r = import_set_str(s->spec, "key", ik);
	free(ik);
	if (r == -1 ||
	    (s->timeout != NULL &&
		import_set_str(s->spec, "timeout", s->timeout) == -1) ||
	    sml_shell(s) == -1)
		return -1;
	if (json_object_size(s->foreign) > 0) {
		if (json_object_set(s->spec, "foreign", s->foreign) == -1)
			return oom();
		if (note_foreign(s) == -1)
			return -1;
	}
	if (json_array_size(s->notes) > 0 &&
	    json_object_set(s->spec, "notes", s->notes) == -1)
		return oom();
	return 0;
}

json_t *
import_studioml(json_t *doc, const struct import_opts *o)
{
	struct sml s = {.spec = json_object(),
	    .foreign = json_object(),
	    .notes = json_array(),
	    .keys = json_object(),
	    .hold = json_array()};
	json_t *out = NULL;

	(void)o;
	if (s.spec == NULL || s.foreign == NULL || s.notes == NULL ||
	    s.keys == NULL || s.hold == NULL)
		oom();
	else if (!json_is_object(doc))
		import_bad("$", "a StudioML request must be an object");
	else if (json_object_get(doc, "experiment") == NULL)
		import_bad(
		    "$", "not a StudioML request: it has no 'experiment'");
	else if (sml_object(&s, "$", doc, request_fields) == 0 &&
	    sml_finish(&s) == 0 && (out = json_pack("[O]", s.spec)) == NULL)
		oom();
	json_decref(s.spec);
	json_decref(s.foreign);
	json_decref(s.notes);
	json_decref(s.keys);
	json_decref(s.hold);
	return out;
}
