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
#include "parse.h"
#include "spec.h"

#define MAX_COUNT 1000 /* jobs from one Bacalhau job's Count */

int
import_format_parse(const char *name, enum import_format *f)
{
	if (strcmp(name, "bacalhau") == 0)
		*f = IMPORT_BACALHAU;
	else if (strcmp(name, "studioml") == 0)
		*f = IMPORT_STUDIOML;
	else
		return -1;
	return 0;
}

static int
bad(const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(EX_DATAERR, "%s: %s", path, msg);
}

/* A member by name; Bacalhau (Go) matches names regardless of case. */
static json_t *
member(json_t *o, const char *key, int anycase)
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

/*
 * Typed getters: 0 with *out NULL when absent (or null), 0 with *out set
 * when of the type, -1 naming "path.key" when of another.
 */
struct at {
	const char *path;
	int anycase;
};

static int
get(struct at a, json_t *o, const char *key, json_type type, const char *what,
    json_t **out)
{
	*out = member(o, key, a.anycase);
	if (*out != NULL && json_typeof(*out) != type)
		return bad(a.path, "'%s' must be %s", key, what);
	return 0;
}

static int
get_str(struct at a, json_t *o, const char *key, const char **out)
{
	json_t *v;

	if (get(a, o, key, JSON_STRING, "a string", &v) == -1)
		return -1;
	*out = v && *json_string_value(v) ? json_string_value(v) : NULL;
	return 0;
}

/* An array of strings (or absent: an empty one). */
static int
get_strings(struct at a, json_t *o, const char *key, json_t **out)
{
	json_t *v;
	size_t i;

	if (get(a, o, key, JSON_ARRAY, "an array of strings", out) == -1)
		return -1;
	json_array_foreach(*out, i, v)
	{
		if (!json_is_string(v))
			return bad(
			    a.path, "'%s[%zu]' must be a string", key, i);
	}
	return 0;
}

/* Sizes as go-humanize writes them: "1gb" is 10^9 bytes, "1gib" 2^30. */
static int
humanize_size(const char *path, const char *s, json_t **out)
{
	static const char units[] = "kmgtpe";
	char buf[64], *p, *e;
	double n, mult = 1;
	size_t j = 0;

	for (const char *q = s; *q != '\0'; q++)
		if (!isspace((unsigned char)*q)) {
			if (j == sizeof(buf) - 1)
				return bad(path, "invalid size '%.40s...'", s);
			buf[j++] = (char)tolower((unsigned char)*q);
		}
	buf[j] = '\0';
	n = strtod(buf, &e);
	if (e == buf || n < 0 || !isfinite(n))
		return bad(path, "invalid size '%s'", s);
	p = e;
	if (*p != '\0' && *p != 'b') {
		const char *u = strchr(units, *p);
		int base = 1000;
		if (u == NULL)
			return bad(path, "invalid size '%s'", s);
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
		return bad(path, "invalid size '%s'", s);
	n = ceil(n * mult);
	if (n > 9.2e18)
		return bad(path, "size '%s' is too large", s);
	*out = json_integer((json_int_t)n);
	return 0;
}

/* A size member that may be a string or a number of bytes. */
static int
size_member(
    struct at a, json_t *o, const char *key, json_t *res, const char *field)
{
	char path[512];
	json_t *v = member(o, key, a.anycase), *n = NULL;

	snprintf(path, sizeof(path), "%.400s.%s", a.path, key);
	if (v == NULL || (json_is_string(v) && *json_string_value(v) == '\0'))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		n = json_incref(v);
	else if (!json_is_string(v))
		return bad(path, "must be a size");
	else if (humanize_size(path, json_string_value(v), &n) == -1)
		return -1;
	if (json_integer_value(n) > 0)
		json_object_set(res, field, n);
	json_decref(n);
	return 0;
}

/* A word for sh(1): in single quotes, a quote as '\''. */
static void
sh_word(FILE *fp, const char *s)
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
static void
sh_opt(FILE *fp, const char *opt, const char *value)
{
	fprintf(fp, " %s", opt);
	sh_word(fp, value);
}

static void
sh_words(FILE *fp, json_t *arr)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		fputc(' ', fp);
		sh_word(fp, json_string_value(v));
	}
}

/* A path inside the task's work directory for an absolute target. */
static const char *
relative(const char *target)
{
	while (*target == '/')
		target++;
	return target;
}

/* An absolute path whose place in the work directory stays inside it. */
static int
target_ok(const char *target)
{
	const char *p;
	size_t n;

	if (target == NULL || *target != '/' || *relative(target) == '\0')
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
static void
sh_mount(FILE *fp, const char *target)
{
	fputs(" --volume=\"$PWD\"/", fp);
	sh_word(fp, relative(target));
	fputc(':', fp);
	sh_word(fp, target);
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}

static json_t *
object_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL) {
		v = json_object();
		json_object_set_new(o, k, v);
	}
	return v;
}

static json_t *
array_at(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	if (v == NULL) {
		v = json_array();
		json_object_set_new(o, k, v);
	}
	return v;
}

/* Bacalhau ----------------------------------------------------------- */

/* One of a task's InputSources as an input artifact, and its mount. */
static int
bacalhau_input(const char *path, json_t *in, json_t *spec, FILE *mounts)
{
	struct at a = {path, 1}, as;
	char spath[600], *url;
	const char *type, *target, *alias, *s, *bucket, *key, *region;
	json_t *src, *params, *art, *v;

	if (!json_is_object(in))
		return bad(path, "must be an object");
	if (get(a, in, "Source", JSON_OBJECT, "an object", &src) == -1 ||
	    get_str(a, in, "Target", &target) == -1 ||
	    get_str(a, in, "Alias", &alias) == -1)
		return -1;
	if (src == NULL)
		return bad(path, "an input source needs a Source");
	if (!target_ok(target))
		return bad(path,
		    "an input source needs an absolute Target "
		    "without '..'");
	snprintf(spath, sizeof(spath), "%.400s.Source", path);
	as = (struct at){spath, 1};
	if (get_str(as, src, "Type", &type) == -1 ||
	    get(as, src, "Params", JSON_OBJECT, "an object", &params) == -1)
		return -1;
	if (type == NULL)
		return bad(spath, "a source needs a Type");
	snprintf(spath, sizeof(spath), "%.400s.Source.Params", path);
	as = (struct at){spath, 1};
	art = json_object();
	if (alias != NULL)
		set_str(art, "name", alias);
	if (strcasecmp(type, "urlDownload") == 0) {
		if (get_str(as, params, "URL", &s) == -1)
			goto fail;
		if (s == NULL) {
			bad(spath, "a urlDownload source needs a URL");
			goto fail;
		}
		set_str(art, "url", s);
	} else if (strcasecmp(type, "s3") == 0) {
		static const char *const unsupported[] = {"Endpoint", "Filter",
		    "Partition", "VersionID", "ChecksumSHA256", NULL};
		if (get_str(as, params, "Bucket", &bucket) == -1 ||
		    get_str(as, params, "Key", &key) == -1 ||
		    get_str(as, params, "Region", &region) == -1)
			goto fail;
		for (int i = 0; unsupported[i] != NULL; i++)
			if ((v = member(params, unsupported[i], 1)) != NULL &&
			    !(json_is_string(v) && !*json_string_value(v))) {
				bad(spath, "'%s' is not supported",
				    unsupported[i]);
				goto fail;
			}
		if (bucket == NULL) {
			bad(spath, "an s3 source needs a Bucket");
			goto fail;
		}
		if (key != NULL && strchr(key, '*') != NULL) {
			bad(spath, "key patterns ('%s') are not supported",
			    key);
			goto fail;
		}
		if (asprintf(&url, "s3://%s/%s", bucket, key ? key : "") ==
		    -1) {
			error_set(EX_OSERR, "out of memory");
			goto fail;
		}
		set_str(art, "url", url);
		free(url);
		if (region != NULL)
			set_str(
			    object_at(art, "credentials"), "region", region);
	} else if (strcasecmp(type, "local") == 0 ||
	    strcasecmp(type, "localDirectory") == 0) {
		if (get_str(as, params, "SourcePath", &s) == -1)
			goto fail;
		if (s == NULL || *s != '/') {
			bad(spath,
			    "a local source needs an absolute "
			    "SourcePath");
			goto fail;
		}
		if (asprintf(&url, "file://%s", s) == -1) {
			error_set(EX_OSERR, "out of memory");
			goto fail;
		}
		set_str(art, "url", url);
		free(url);
		v = member(params, "ReadWrite", 1);
		if (json_is_true(v) ||
		    (json_is_string(v) &&
			strcasecmp(json_string_value(v), "true") == 0))
			json_object_set_new(art, "mutable", json_true());
	} else {
		bad(spath,
		    "source type '%s' is not supported (urlDownload, "
		    "s3, local)",
		    type);
		goto fail;
	}
	set_str(art, "path", relative(target));
	json_array_append_new(array_at(spec, "inputs"), art);
	sh_mount(mounts, target);
	return 0;
fail:
	json_decref(art);
	return -1;
}

/* ResultPaths: mounted from the work directory, uploaded by an s3
 * Publisher. */
static int
bacalhau_results(const char *path, json_t *task, json_t *spec, FILE *mounts)
{
	struct at a = {path, 1}, pa;
	char rpath[600], *url;
	const char *ptype = NULL, *bucket = NULL, *key = NULL, *region = NULL,
		   *name, *target;
	json_t *pub, *params = NULL, *results, *r, *art;
	size_t i;

	if (get(a, task, "Publisher", JSON_OBJECT, "an object", &pub) == -1 ||
	    get(a, task, "ResultPaths", JSON_ARRAY, "an array", &results) == -1)
		return -1;
	snprintf(rpath, sizeof(rpath), "%.400s.Publisher", path);
	pa = (struct at){rpath, 1};
	if (pub != NULL &&
	    (get_str(pa, pub, "Type", &ptype) == -1 ||
		get(pa, pub, "Params", JSON_OBJECT, "an object", &params) ==
		    -1))
		return -1;
	if (ptype != NULL && strcasecmp(ptype, "s3") == 0) {
		snprintf(rpath, sizeof(rpath), "%.400s.Publisher.Params", path);
		pa = (struct at){rpath, 1};
		if (get_str(pa, params, "Bucket", &bucket) == -1 ||
		    get_str(pa, params, "Key", &key) == -1 ||
		    get_str(pa, params, "Region", &region) == -1)
			return -1;
		if (bucket == NULL)
			return bad(rpath, "an s3 publisher needs a Bucket");
		if (member(params, "Endpoint", 1) != NULL)
			return bad(rpath, "'Endpoint' is not supported");
	} else if (ptype != NULL && strcasecmp(ptype, "noop") != 0 &&
	    strcasecmp(ptype, "local") != 0)
		return bad(rpath,
		    "publisher type '%s' is not supported "
		    "(s3, local, noop)",
		    ptype);
	json_array_foreach(results, i, r)
	{
		snprintf(
		    rpath, sizeof(rpath), "%.400s.ResultPaths[%zu]", path, i);
		pa = (struct at){rpath, 1};
		if (!json_is_object(r))
			return bad(rpath, "must be an object");
		if (get_str(pa, r, "Name", &name) == -1 ||
		    get_str(pa, r, "Path", &target) == -1)
			return -1;
		if (name == NULL || !target_ok(target))
			return bad(rpath,
			    "a result path needs a Name and an "
			    "absolute Path without '..'");
		sh_mount(mounts, target);
		if (bucket == NULL)
			continue;
		art = json_object();
		set_str(art, "name", name);
		if (asprintf(&url, "s3://%s/%s%s%s", bucket, key ? key : "",
			key && key[strlen(key) - 1] != '/' ? "/" : "",
			name) == -1) {
			json_decref(art);
			return error_set(EX_OSERR, "out of memory");
		}
		set_str(art, "url", url);
		free(url);
		set_str(art, "path", relative(target));
		if (region != NULL)
			set_str(
			    object_at(art, "credentials"), "region", region);
		json_array_append_new(array_at(spec, "outputs"), art);
	}
	return 0;
}

/*
 * The container's limits: --memory, --cpus and --gpus.  Memory is the
 * container's alone, not the spec's: an address-space rlimit on the docker
 * client (a Go program that maps far more than it uses) would stop it.
 * CPU and GPUs stay in the spec too, for the worker's capacity.
 */
static int
docker_resources(json_t *spec, FILE *fp)
{
	json_t *res = json_object_get(spec, "resources"), *v;
	int64_t mc;

	if ((v = json_object_get(res, "memory")) != NULL) {
		fprintf(fp, " --memory=%lld", (long long)json_integer_value(v));
		json_object_del(res, "memory");
	}
	if ((v = json_object_get(res, "cpu")) != NULL) {
		if (parse_cpu(json_string_value(v), &mc) == -1)
			return -1;
		fprintf(fp, " --cpus=%.3f", mc / 1000.0);
	}
	if ((v = json_object_get(res, "gpu")) != NULL)
		fprintf(fp, " --gpus=%lld", (long long)json_integer_value(v));
	if (res != NULL && json_object_size(res) == 0)
		json_object_del(spec, "resources");
	return 0;
}

/*
 * The container's environment as the lines of a docker --env-file, each
 * naming a variable the shell expands as it writes the file, so that no
 * value is on a command line (ps(1) shows those) or in the docker client's
 * own environment: the engine's EnvironmentVariables ("NAME=value") and
 * Task.Env values become the job's variables JOBKIT_ENV_<name> (stored,
 * and redacted, like any); a Task.Env "env:VAR" is the worker's variable
 * VAR (the spec's worker_env).
 */
static int
docker_env(const char *path, const char *epath, json_t *vars, json_t *env,
    json_t *spec, FILE *lines)
{
	const char *k, *val;
	char name[256], held[300];
	json_t *v;
	size_t i;

	json_array_foreach(vars, i, v)
	{
		const char *kv = json_string_value(v), *eq = strchr(kv, '=');
		if (eq == NULL || (size_t)(eq - kv) >= sizeof(name) - 40 ||
		    (memcpy(name, kv, (size_t)(eq - kv)), name[eq - kv] = '\0',
			!spec_env_name_ok(name)))
			return bad(epath,
			    "'EnvironmentVariables[%zu]' is not NAME=value", i);
		/* A line of the env-file each: a newline would start another. */
		if (strchr(eq + 1, '\n') != NULL ||
		    strchr(eq + 1, '\r') != NULL)
			return bad(epath,
			    "'EnvironmentVariables[%zu]': a value may not hold "
			    "a "
			    "line break",
			    i);
		snprintf(held, sizeof(held), "JOBKIT_ENV_%s", name);
		set_str(object_at(spec, "env"), held, eq + 1);
		fprintf(lines, "%s=$%s\n", name, held);
	}
	json_object_foreach(env, k, v)
	{
		val = json_string_value(v);
		if (!json_is_string(v) || !spec_env_name_ok(k) ||
		    strlen(k) > 200)
			return bad(path,
			    "'Env.%s' must be a string named like a "
			    "variable",
			    k);
		if (strchr(val, '\n') != NULL || strchr(val, '\r') != NULL)
			return bad(path,
			    "'Env.%s': a value may not hold a line "
			    "break",
			    k);
		if (strncmp(val, "env:", 4) == 0) {
			if (!spec_env_name_ok(val + 4))
				return bad(path,
				    "'Env.%s': '%s' names no variable", k, val);
			json_array_append_new(
			    array_at(spec, "worker_env"), json_string(val + 4));
			fprintf(lines, "%s=$%s\n", k, val + 4);
		} else {
			snprintf(held, sizeof(held), "JOBKIT_ENV_%s", k);
			set_str(object_at(spec, "env"), held, val);
			fprintf(lines, "%s=$%s\n", k, held);
		}
	}
	return 0;
}

/* The docker engine's task as a docker run command line. */
static int
bacalhau_docker(const char *path, json_t *task, json_t *spec)
{
	struct at a = {path, 1}, ea;
	char epath[600], npath[600];
	const char *image, *wd, *net = NULL;
	json_t *engine = member(task, "Engine", 1), *params, *entry, *parms,
	       *vars, *env, *v, *network;
	char *mem = NULL, *mnt = NULL, *elines = NULL;
	size_t len = 0, mlen = 0, elen = 0, i;
	FILE *fp, *mounts, *envs = NULL;
	int r = -1;

	snprintf(epath, sizeof(epath), "%.400s.Engine.Params", path);
	ea = (struct at){epath, 1};
	if (get(ea, engine, "Params", JSON_OBJECT, "an object", &params) ==
		-1 ||
	    get(a, task, "InputSources", JSON_ARRAY, "an array", &v) == -1)
		return -1;
	if (get_str(ea, params, "Image", &image) == -1 ||
	    get_strings(ea, params, "Entrypoint", &entry) == -1 ||
	    get_strings(ea, params, "Parameters", &parms) == -1 ||
	    get_strings(ea, params, "EnvironmentVariables", &vars) == -1 ||
	    get_str(ea, params, "WorkingDirectory", &wd) == -1 ||
	    get(a, task, "Env", JSON_OBJECT, "an object", &env) == -1 ||
	    get(a, task, "Network", JSON_OBJECT, "an object", &network) == -1)
		return -1;
	if (image == NULL)
		return bad(epath, "a docker engine needs an Image");
	if (*image == '-')
		return bad(epath, "Image '%s' is not an image name", image);
	snprintf(npath, sizeof(npath), "%.400s.Network", path);
	if (network != NULL &&
	    get_str((struct at){npath, 1}, network, "Type", &net) == -1)
		return -1;
	if (net != NULL && strcasecmp(net, "none") != 0 &&
	    strcasecmp(net, "host") != 0 && strcasecmp(net, "full") != 0 &&
	    strcasecmp(net, "default") != 0 && strcasecmp(net, "bridge") != 0)
		return bad(npath,
		    "network type '%s' is not supported (None, Host, "
		    "Bridge, Default)",
		    net);
	if ((fp = open_memstream(&mem, &len)) == NULL ||
	    (mounts = open_memstream(&mnt, &mlen)) == NULL) {
		if (fp != NULL)
			fclose(fp);
		free(mem);
		return error_set(EX_OSERR, "out of memory");
	}
	/* --init: the signals of a timeout or cancel reach the job. */
	fputs("exec docker run --rm --init", fp);
	if (net != NULL && strcasecmp(net, "none") == 0)
		fputs(" --network=none", fp);
	else if (net != NULL &&
	    (strcasecmp(net, "host") == 0 || strcasecmp(net, "full") == 0))
		fputs(" --network=host", fp);
	if (wd != NULL)
		sh_opt(fp, "--workdir=", wd);
	if (docker_resources(spec, fp) == -1)
		goto out;
	if ((envs = open_memstream(&elines, &elen)) == NULL ||
	    docker_env(path, epath, vars, env, spec, envs) == -1)
		goto out;
	fflush(envs);
	if (elen > 0)
		fputs(" --env-file=/dev/fd/3", fp);
	json_array_foreach(member(task, "InputSources", 1), i, v)
	{
		/* (an array: checked above) */
		snprintf(
		    npath, sizeof(npath), "%.400s.InputSources[%zu]", path, i);
		if (bacalhau_input(npath, v, spec, mounts) == -1)
			goto out;
	}
	if (bacalhau_results(path, task, spec, mounts) == -1)
		goto out;
	fflush(mounts);
	fputs(mnt, fp);
	if (json_array_size(entry) > 0)
		sh_opt(fp, "--entrypoint=",
		    json_string_value(json_array_get(entry, 0)));
	fputc(' ', fp);
	sh_word(fp, image);
	for (i = 1; i < json_array_size(entry); i++) {
		fputc(' ', fp);
		sh_word(fp, json_string_value(json_array_get(entry, i)));
	}
	sh_words(fp, parms);
	/* The values come to docker in a file, not on its command line. */
	if (elen > 0)
		fprintf(fp, " 3<<JOBKIT_ENV\n%sJOBKIT_ENV", elines);
	r = 0;
out:
	if (envs != NULL)
		fclose(envs);
	free(elines);
	fclose(mounts);
	free(mnt);
	fclose(fp);
	if (r == 0)
		set_str(spec, "shell", mem);
	free(mem);
	return r;
}

static int
bacalhau_resources(const char *path, json_t *task, json_t *spec)
{
	char rpath[600];
	struct at a = {path, 1}, ra;
	json_t *res, *out = json_object();
	const char *cpu, *gpu;
	int64_t mc;
	char *e;

	snprintf(rpath, sizeof(rpath), "%.400s.Resources", path);
	ra = (struct at){rpath, 1};
	if (get(a, task, "Resources", JSON_OBJECT, "an object", &res) == -1 ||
	    get_str(ra, res, "CPU", &cpu) == -1 ||
	    get_str(ra, res, "GPU", &gpu) == -1)
		goto fail;
	if (cpu != NULL) {
		if (parse_cpu(cpu, &mc) == -1) {
			error_wrap("%s.CPU", rpath);
			goto fail;
		}
		json_object_set_new(out, "cpu", json_string(cpu));
	}
	if (size_member(ra, res, "Memory", out, "memory") == -1 ||
	    size_member(ra, res, "Disk", out, "disk") == -1)
		goto fail;
	if (gpu != NULL) {
		long n = strtol(gpu, &e, 10);
		if (*e != '\0' || n < 0 || n > 1024) {
			bad(rpath, "GPU '%s' is not a number of GPUs", gpu);
			goto fail;
		}
		if (n > 0)
			json_object_set_new(out, "gpu", json_integer(n));
	}
	if (json_object_size(out) > 0)
		json_object_set_new(spec, "resources", out);
	else
		json_decref(out);
	return 0;
fail:
	json_decref(out);
	return -1;
}

static json_t *
bacalhau(json_t *doc)
{
	char base[16] = "$", path[64];
	const char *name, *type, *ns, *etype, *k;
	json_t *job = doc, *spec = json_object(), *out = NULL, *labels, *tasks,
	       *task, *to, *v;
	struct at a;
	json_int_t count = 1;

	if (!json_is_object(doc)) {
		bad("$", "a Bacalhau job must be an object");
		goto fail;
	}
	/* `bacalhau job describe --output json` wraps the job. */
	if ((v = member(doc, "Job", 1)) != NULL && json_is_object(v) &&
	    member(doc, "Tasks", 1) == NULL) {
		job = v;
		snprintf(base, sizeof(base), "$.Job");
	}
	a = (struct at){base, 1};
	if (get_str(a, job, "Name", &name) == -1 ||
	    get_str(a, job, "Type", &type) == -1 ||
	    get_str(a, job, "Namespace", &ns) == -1 ||
	    get(a, job, "Labels", JSON_OBJECT, "an object", &labels) == -1 ||
	    get(a, job, "Tasks", JSON_ARRAY, "an array", &tasks) == -1 ||
	    get(a, job, "Count", JSON_INTEGER, "an integer", &v) == -1)
		goto fail;
	if (type != NULL && strcasecmp(type, "batch") != 0 &&
	    strcasecmp(type, "ops") != 0) {
		bad(base,
		    "'%s' jobs run until stopped: jobkit runs batch "
		    "and ops jobs",
		    type);
		goto fail;
	}
	if (v != NULL &&
	    (json_integer_value(v) < 0 || json_integer_value(v) > MAX_COUNT)) {
		bad(base, "'Count' must be from 0 to %d", MAX_COUNT);
		goto fail;
	}
	if (v != NULL && json_integer_value(v) > 1)
		count = json_integer_value(v);
	if (name != NULL)
		set_str(spec, "name", name);
	if ((v = member(job, "Priority", 1)) != NULL) {
		if (!json_is_integer(v)) {
			bad(base, "'Priority' must be an integer");
			goto fail;
		}
		json_object_set(spec, "priority", v);
	}
	json_object_foreach(labels, k, v)
	{
		if (!json_is_string(v)) {
			bad(base, "'Labels.%s' must be a string", k);
			goto fail;
		}
		json_object_set(object_at(spec, "labels"), k, v);
	}
	if (ns != NULL &&
	    json_object_get(json_object_get(spec, "labels"), "namespace") ==
		NULL)
		set_str(object_at(spec, "labels"), "namespace", ns);
	if (json_array_size(tasks) != 1) {
		bad(base, "a job needs exactly one task in 'Tasks'");
		goto fail;
	}
	snprintf(path, sizeof(path), "%.8s.Tasks[0]", base);
	a = (struct at){path, 1};
	task = json_array_get(tasks, 0);
	if (!json_is_object(task)) {
		bad(path, "must be an object");
		goto fail;
	}
	if (get(a, task, "Engine", JSON_OBJECT, "an object", &v) == -1)
		goto fail;
	if (v == NULL) {
		bad(path, "a task needs an Engine");
		goto fail;
	}
	snprintf(path, sizeof(path), "%.8s.Tasks[0].Engine", base);
	if (get_str((struct at){path, 1}, v, "Type", &etype) == -1)
		goto fail;
	if (etype == NULL || strcasecmp(etype, "docker") != 0) {
		bad(path,
		    "engine '%s' is not supported: jobkit runs a docker "
		    "task with docker run",
		    etype ? etype : "");
		goto fail;
	}
	snprintf(path, sizeof(path), "%.8s.Tasks[0]", base);
	if (bacalhau_resources(path, task, spec) == -1 ||
	    bacalhau_docker(path, task, spec) == -1)
		goto fail;
	if (get(a, task, "Timeouts", JSON_OBJECT, "an object", &to) == -1)
		goto fail;
	snprintf(path, sizeof(path), "%.8s.Tasks[0].Timeouts", base);
	for (int i = 0; i < 2 && to != NULL; i++) {
		const char *key = i == 0 ? "ExecutionTimeout" : "TotalTimeout";
		if ((v = member(to, key, 1)) == NULL)
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			bad(path, "'%s' must be a number of seconds", key);
			goto fail;
		}
		if (json_integer_value(v) > 0 &&
		    json_object_get(spec, "timeout") == NULL)
			json_object_set(spec, "timeout", v);
	}
	out = json_array();
	for (json_int_t i = 0; i < count; i++)
		json_array_append_new(out, json_deep_copy(spec));
fail:
	json_decref(spec);
	return out;
}

/* StudioML ----------------------------------------------------------- */

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

static int
studioml_credentials(const char *path, json_t *c, json_t *art)
{
	static const char *const map[][3] = {
	    {"aws", "access_key", "access_key_id"},
	    {"aws", "secret_access_key", "secret_access_key"},
	    {"aws", "region", "region"},
	    {"aws", "session_token", "session_token"},
	    {"aws", "profile", "aws_profile"}, {"plain", "user", "username"},
	    {"plain", "password", "password"}, {"jwt", "token", "token"}};
	json_t *out = json_object(), *g, *v;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if ((g = json_object_get(c, map[i][0])) == NULL ||
		    (v = json_object_get(g, map[i][1])) == NULL ||
		    json_is_null(v) ||
		    (json_is_string(v) && !*json_string_value(v)))
			continue;
		if (!json_is_string(v)) {
			json_decref(out);
			return bad(path, "'credentials.%s.%s' must be a string",
			    map[i][0], map[i][1]);
		}
		json_object_set(out, map[i][2], v);
	}
	if (json_object_size(out) > 0)
		json_object_set_new(art, "credentials", out);
	else
		json_decref(out);
	return 0;
}

/*
 * An artifact's URL.  StudioML qualifies an s3 object as
 * s3://endpoint/bucket/key: AWS's endpoints are s3://bucket/key to jobkit,
 * and any other (a MinIO server, say) is refused rather than dropped.
 */
static int
s3_url(const char *path, const char *q, const char *bucket, const char *key,
    char **url)
{
	const char *host = q + 5, *slash;
	size_t n;

	if (strncmp(q, "s3://", 5) != 0) {
		*url = strdup(q);
		return *url ? 0 : error_set(EX_OSERR, "out of memory");
	}
	slash = strchr(host, '/');
	n = slash ? (size_t)(slash - host) : strlen(host);
	if (bucket != NULL && key != NULL &&
	    !(strncmp(host, bucket, n) == 0 && bucket[n] == '\0')) {
		/* The first part is an endpoint. */
		if (!(n >= 14 &&
			strncmp(host + n - 14, ".amazonaws.com", 14) == 0))
			return bad(path,
			    "the s3 endpoint '%.*s' is not supported "
			    "(AWS only)",
			    (int)n, host);
		return asprintf(url, "s3://%s/%s", bucket, key) == -1
		    ? error_set(EX_OSERR, "out of memory")
		    : 0;
	}
	if (memchr(host, ':', n) != NULL)
		return bad(path,
		    "the s3 endpoint '%.*s' is not supported "
		    "(AWS only)",
		    (int)n, host);
	*url = strdup(q);
	return *url ? 0 : error_set(EX_OSERR, "out of memory");
}

/* The request's artifacts as inputs, each in a folder of its name;
 * sets *workspace when there is one to run in. */
static int
studioml_artifacts(json_t *arts, json_t *spec, int *workspace)
{
	char path[600], *url;
	const char *name, *q, *u, *bucket, *key;
	json_t *a, *art, *v, *c;
	struct at at;

	json_object_foreach(arts, name, a)
	{
		snprintf(path, sizeof(path), "$.experiment.artifacts.%s", name);
		at = (struct at){path, 0};
		if (!json_is_object(a))
			return bad(path, "must be an object");
		if (get_str(at, a, "qualified", &q) == -1 ||
		    get_str(at, a, "url", &u) == -1 ||
		    get_str(at, a, "bucket", &bucket) == -1 ||
		    get_str(at, a, "key", &key) == -1 ||
		    get(at, a, "credentials", JSON_OBJECT, "an object", &c) ==
			-1)
			return -1;
		/* The runner skips an artifact with nowhere to come from. */
		if (q == NULL && u == NULL)
			continue;
		if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			return bad(
			    path, "an artifact name must be a file name");
		if (s3_url(path, q ? q : u, bucket, key, &url) == -1)
			return -1;
		art = json_object();
		set_str(art, "name", name);
		set_str(art, "url", url);
		free(url);
		set_str(art, "path", name);
		for (int i = 0; i < 2; i++) {
			const char *f = i ? "mutable" : "unpack";
			if ((v = json_object_get(a, f)) == NULL ||
			    json_is_null(v))
				continue;
			if (!json_is_boolean(v)) {
				json_decref(art);
				return bad(
				    path, "'%s' must be true or false", f);
			}
			json_object_set(art, f, v);
		}
		if (c != NULL && studioml_credentials(path, c, art) == -1) {
			json_decref(art);
			return -1;
		}
		json_array_append_new(array_at(spec, "inputs"), art);
		if (strcmp(name, "workspace") == 0)
			*workspace = 1;
	}
	return 0;
}

static json_t *
studioml(json_t *doc)
{
	struct at a = {"$.experiment", 0}, c = {"$.config", 0};
	const char *key, *file, *ver = NULL, *dur, *k;
	json_t *exp, *cfg, *args, *pyenv, *pip, *res, *env, *arts, *v,
	    *spec = json_object(), *out = NULL;
	char *script = NULL, verbuf[32];
	size_t len = 0;
	int workspace = 0;
	int64_t ms;
	FILE *fp;

	if (!json_is_object(doc)) {
		bad("$", "a StudioML request must be an object");
		goto fail;
	}
	if (get((struct at){"$", 0}, doc, "experiment", JSON_OBJECT,
		"an object", &exp) == -1 ||
	    get((struct at){"$", 0}, doc, "config", JSON_OBJECT, "an object",
		&cfg) == -1)
		goto fail;
	if (exp == NULL) {
		bad("$", "a StudioML request needs an 'experiment'");
		goto fail;
	}
	if (get_str(a, exp, "key", &key) == -1 ||
	    get_str(a, exp, "filename", &file) == -1 ||
	    get_strings(a, exp, "args", &args) == -1 ||
	    get_strings(a, exp, "pythonenv", &pyenv) == -1 ||
	    get_str(a, exp, "max_duration", &dur) == -1 ||
	    get(a, exp, "resources_needed", JSON_OBJECT, "an object", &res) ==
		-1 ||
	    get(a, exp, "artifacts", JSON_OBJECT, "an object", &arts) == -1 ||
	    get_strings(c, cfg, "pip", &pip) == -1 ||
	    get(c, cfg, "env", JSON_OBJECT, "an object", &env) == -1)
		goto fail;
	if (key == NULL || file == NULL) {
		bad("$.experiment",
		    "an experiment needs a 'key' and a "
		    "'filename'");
		goto fail;
	}
	if ((v = json_object_get(exp, "pythonver")) != NULL &&
	    !json_is_null(v)) {
		if (json_is_integer(v))
			snprintf(verbuf, sizeof(verbuf), "%lld",
			    (long long)json_integer_value(v));
		else if (json_is_string(v))
			snprintf(
			    verbuf, sizeof(verbuf), "%s", json_string_value(v));
		else {
			bad("$.experiment", "'pythonver' must be a version");
			goto fail;
		}
		for (const char *p = verbuf; *p != '\0'; p++)
			if (!isdigit((unsigned char)*p) && *p != '.') {
				bad("$.experiment",
				    "'pythonver' must be a "
				    "version such as 3.9");
				goto fail;
			}
		ver = *verbuf ? verbuf : NULL;
	}
	set_str(spec, "name", key);
	/* A request delivered twice is one job. */
	{
		char *ik;
		if (asprintf(&ik, "studioml:%s", key) == -1) {
			error_set(EX_OSERR, "out of memory");
			goto fail;
		}
		set_str(spec, "key", ik);
		free(ik);
	}
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "owner" : "project";
		if ((v = json_object_get(exp, f)) != NULL &&
		    json_is_string(v) && *json_string_value(v))
			json_object_set(object_at(spec, "labels"), f, v);
	}
	if (dur != NULL) {
		if (parse_duration(dur, &ms) == -1) {
			error_wrap("$.experiment.max_duration");
			goto fail;
		}
		set_str(spec, "timeout", dur);
	}
	if (res != NULL) {
		struct at ra = {"$.experiment.resources_needed", 0};
		json_t *r = json_object();
		for (int i = 0; i < 2; i++) {
			const char *f = i ? "gpus" : "cpus";
			if ((v = json_object_get(res, f)) == NULL ||
			    json_is_null(v))
				continue;
			if (!json_is_integer(v) || json_integer_value(v) < 0) {
				json_decref(r);
				bad(ra.path, "'%s' must be a whole number", f);
				goto fail;
			}
			if (json_integer_value(v) > 0)
				json_object_set(r, i ? "gpu" : "cpu", v);
		}
		if (size_member(ra, res, "ram", r, "memory") == -1 ||
		    size_member(ra, res, "hdd", r, "disk") == -1) {
			json_decref(r);
			goto fail;
		}
		if (json_object_size(r) > 0)
			json_object_set_new(spec, "resources", r);
		else
			json_decref(r);
	}
	if (studioml_artifacts(arts, spec, &workspace) == -1)
		goto fail;
	if ((fp = open_memstream(&script, &len)) == NULL) {
		error_set(EX_OSERR, "out of memory");
		goto fail;
	}
	fputs("set -e; ", fp);
	set_str(object_at(spec, "env"), "STUDIOML_EXPERIMENT", key);
	json_object_foreach(env, k, v)
	{
		if (!json_is_string(v) || !spec_env_name_ok(k)) {
			fclose(fp);
			free(script);
			bad("$.config.env",
			    "'%s' must be a string named like a variable", k);
			goto fail;
		}
		if (strchr(json_string_value(v), '%') == NULL) {
			json_object_set(object_at(spec, "env"), k, v);
			continue;
		}
		fprintf(fp, "export %s=", k);
		sh_expand(fp, json_string_value(v));
		fputs("; ", fp);
	}
	if (json_array_size(pyenv) + json_array_size(pip) > 0) {
		fprintf(fp, "python%s -m venv .venv; ", ver ? ver : "3");
		fputs(".venv/bin/python -m pip install --quiet", fp);
		sh_words(fp, pyenv);
		sh_words(fp, pip);
		fputs("; PATH=\"$PWD/.venv/bin:$PATH\"; ", fp);
	}
	if (workspace)
		fputs("cd workspace; ", fp);
	if (json_array_size(pyenv) + json_array_size(pip) > 0)
		fputs("exec python ", fp);
	else
		fprintf(fp, "exec python%s ", ver ? ver : "3");
	sh_word(fp, file);
	sh_words(fp, args);
	fclose(fp);
	set_str(spec, "shell", script);
	free(script);
	out = json_pack("[O]", spec);
fail:
	json_decref(spec);
	return out;
}

json_t *
import_specs(enum import_format f, json_t *doc)
{
	json_t *specs = f == IMPORT_BACALHAU ? bacalhau(doc) : studioml(doc);
	json_t *spec;
	size_t i;

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
