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

#define MAX_COUNT 1000 /* jobs from one Bacalhau job's Count */

static void
sh_mount(FILE *fp, const char *target)
{
	fputs(" --volume=\"$PWD\"/", fp);
	import_sh_word(fp, import_relative(target));
	fputc(':', fp);
	import_sh_word(fp, target);
}

/* One of a task's InputSources as an input artifact, and its mount. */
static int
bacalhau_input(const char *path, json_t *in, json_t *spec, FILE *mounts)
{
	struct import_at a = {path, 1}, as;
	char spath[600], *url;
	const char *type, *target, *alias, *s, *bucket, *key, *region;
	json_t *src, *params, *art, *v;

	if (!json_is_object(in))
		return import_bad(path, "must be an object");
	if (import_get(a, in, "Source", JSON_OBJECT, "an object", &src) == -1 ||
	    import_get_str(a, in, "Target", &target) == -1 ||
	    import_get_str(a, in, "Alias", &alias) == -1)
		return -1;
	if (src == NULL)
		return import_bad(path, "an input source needs a Source");
	if (!import_target_ok(target))
		return import_bad(path,
		    "an input source needs an absolute Target "
		    "without '..'");
	snprintf(spath, sizeof(spath), "%.400s.Source", path);
	as = (struct import_at){spath, 1};
	if (import_get_str(as, src, "Type", &type) == -1 ||
	    import_get(as, src, "Params", JSON_OBJECT, "an object", &params) ==
		-1)
		return -1;
	if (type == NULL)
		return import_bad(spath, "a source needs a Type");
	snprintf(spath, sizeof(spath), "%.400s.Source.Params", path);
	as = (struct import_at){spath, 1};
	art = json_object();
	if (alias != NULL)
		import_set_str(art, "name", alias);
	if (strcasecmp(type, "urlDownload") == 0) {
		if (import_get_str(as, params, "URL", &s) == -1)
			goto fail;
		if (s == NULL) {
			import_bad(spath, "a urlDownload source needs a URL");
			goto fail;
		}
		import_set_str(art, "url", s);
	} else if (strcasecmp(type, "s3") == 0) {
		static const char *const unsupported[] = {"Endpoint", "Filter",
		    "Partition", "VersionID", "ChecksumSHA256", NULL};
		if (import_get_str(as, params, "Bucket", &bucket) == -1 ||
		    import_get_str(as, params, "Key", &key) == -1 ||
		    import_get_str(as, params, "Region", &region) == -1)
			goto fail;
		for (int i = 0; unsupported[i] != NULL; i++)
			if ((v = import_member(params, unsupported[i], 1)) !=
				NULL &&
			    !(json_is_string(v) && !*json_string_value(v))) {
				import_bad(spath, "'%s' is not supported",
				    unsupported[i]);
				goto fail;
			}
		if (bucket == NULL) {
			import_bad(spath, "an s3 source needs a Bucket");
			goto fail;
		}
		if (key != NULL && strchr(key, '*') != NULL) {
			import_bad(spath,
			    "key patterns ('%s') are not supported", key);
			goto fail;
		}
		if (asprintf(&url, "s3://%s/%s", bucket, key ? key : "") ==
		    -1) {
			error_set(EX_OSERR, "out of memory");
			goto fail;
		}
		import_set_str(art, "url", url);
		free(url);
		if (region != NULL)
			import_set_str(import_object_at(art, "credentials"),
			    "region", region);
	} else if (strcasecmp(type, "local") == 0 ||
	    strcasecmp(type, "localDirectory") == 0) {
		if (import_get_str(as, params, "SourcePath", &s) == -1)
			goto fail;
		if (s == NULL || *s != '/') {
			import_bad(spath,
			    "a local source needs an absolute "
			    "SourcePath");
			goto fail;
		}
		if (asprintf(&url, "file://%s", s) == -1) {
			error_set(EX_OSERR, "out of memory");
			goto fail;
		}
		import_set_str(art, "url", url);
		free(url);
		v = import_member(params, "ReadWrite", 1);
		if (json_is_true(v) ||
		    (json_is_string(v) &&
			strcasecmp(json_string_value(v), "true") == 0))
			json_object_set_new(art, "mutable", json_true());
	} else {
		import_bad(spath,
		    "source type '%s' is not supported (urlDownload, "
		    "s3, local)",
		    type);
		goto fail;
	}
	import_set_str(art, "path", import_relative(target));
	json_array_append_new(import_array_at(spec, "inputs"), art);
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
	struct import_at a = {path, 1}, pa;
	char rpath[600], *url;
	const char *ptype = NULL, *bucket = NULL, *key = NULL, *region = NULL,
		   *name, *target;
	json_t *pub, *params = NULL, *results, *r, *art;
	size_t i;

	if (import_get(a, task, "Publisher", JSON_OBJECT, "an object", &pub) ==
		-1 ||
	    import_get(
		a, task, "ResultPaths", JSON_ARRAY, "an array", &results) == -1)
		return -1;
	snprintf(rpath, sizeof(rpath), "%.400s.Publisher", path);
	pa = (struct import_at){rpath, 1};
	if (pub != NULL &&
	    (import_get_str(pa, pub, "Type", &ptype) == -1 ||
		import_get(pa, pub, "Params", JSON_OBJECT, "an object",
		    &params) == -1))
		return -1;
	if (ptype != NULL && strcasecmp(ptype, "s3") == 0) {
		snprintf(rpath, sizeof(rpath), "%.400s.Publisher.Params", path);
		pa = (struct import_at){rpath, 1};
		if (import_get_str(pa, params, "Bucket", &bucket) == -1 ||
		    import_get_str(pa, params, "Key", &key) == -1 ||
		    import_get_str(pa, params, "Region", &region) == -1)
			return -1;
		if (bucket == NULL)
			return import_bad(
			    rpath, "an s3 publisher needs a Bucket");
		if (import_member(params, "Endpoint", 1) != NULL)
			return import_bad(rpath, "'Endpoint' is not supported");
	} else if (ptype != NULL && strcasecmp(ptype, "noop") != 0 &&
	    strcasecmp(ptype, "local") != 0)
		return import_bad(rpath,
		    "publisher type '%s' is not supported "
		    "(s3, local, noop)",
		    ptype);
	json_array_foreach(results, i, r)
	{
		snprintf(
		    rpath, sizeof(rpath), "%.400s.ResultPaths[%zu]", path, i);
		pa = (struct import_at){rpath, 1};
		if (!json_is_object(r))
			return import_bad(rpath, "must be an object");
		if (import_get_str(pa, r, "Name", &name) == -1 ||
		    import_get_str(pa, r, "Path", &target) == -1)
			return -1;
		if (name == NULL || !import_target_ok(target))
			return import_bad(rpath,
			    "a result path needs a Name and an "
			    "absolute Path without '..'");
		sh_mount(mounts, target);
		if (bucket == NULL)
			continue;
		art = json_object();
		import_set_str(art, "name", name);
		if (asprintf(&url, "s3://%s/%s%s%s", bucket, key ? key : "",
			key && key[strlen(key) - 1] != '/' ? "/" : "",
			name) == -1) {
			json_decref(art);
			return error_set(EX_OSERR, "out of memory");
		}
		import_set_str(art, "url", url);
		free(url);
		import_set_str(art, "path", import_relative(target));
		if (region != NULL)
			import_set_str(import_object_at(art, "credentials"),
			    "region", region);
		json_array_append_new(import_array_at(spec, "outputs"), art);
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
			return import_bad(epath,
			    "'EnvironmentVariables[%zu]' is not NAME=value", i);
		/* A line of the env-file each: a newline would start another. */
		if (strchr(eq + 1, '\n') != NULL ||
		    strchr(eq + 1, '\r') != NULL)
			return import_bad(epath,
			    "'EnvironmentVariables[%zu]': a value may not hold "
			    "a "
			    "line break",
			    i);
		snprintf(held, sizeof(held), "JOBKIT_ENV_%s", name);
		import_set_str(import_object_at(spec, "env"), held, eq + 1);
		fprintf(lines, "%s=$%s\n", name, held);
	}
	json_object_foreach(env, k, v)
	{
		val = json_string_value(v);
		if (!json_is_string(v) || !spec_env_name_ok(k) ||
		    strlen(k) > 200)
			return import_bad(path,
			    "'Env.%s' must be a string named like a "
			    "variable",
			    k);
		if (strchr(val, '\n') != NULL || strchr(val, '\r') != NULL)
			return import_bad(path,
			    "'Env.%s': a value may not hold a line "
			    "break",
			    k);
		if (strncmp(val, "env:", 4) == 0) {
			if (!spec_env_name_ok(val + 4))
				return import_bad(path,
				    "'Env.%s': '%s' names no variable", k, val);
			json_array_append_new(
			    import_array_at(spec, "worker_env"),
			    json_string(val + 4));
			fprintf(lines, "%s=$%s\n", k, val + 4);
		} else {
			snprintf(held, sizeof(held), "JOBKIT_ENV_%s", k);
			import_set_str(
			    import_object_at(spec, "env"), held, val);
			fprintf(lines, "%s=$%s\n", k, held);
		}
	}
	return 0;
}

/* The docker engine's task as a docker run command line. */
static int
bacalhau_docker(const char *path, json_t *task, json_t *spec)
{
	struct import_at a = {path, 1}, ea;
	char epath[600], npath[600];
	const char *image, *wd, *net = NULL;
	json_t *engine = import_member(task, "Engine", 1), *params, *entry,
	       *parms, *vars, *env, *v, *network;
	char *mem = NULL, *mnt = NULL, *elines = NULL;
	size_t len = 0, mlen = 0, elen = 0, i;
	FILE *fp, *mounts, *envs = NULL;
	int r = -1;

	snprintf(epath, sizeof(epath), "%.400s.Engine.Params", path);
	ea = (struct import_at){epath, 1};
	if (import_get(ea, engine, "Params", JSON_OBJECT, "an object",
		&params) == -1 ||
	    import_get(a, task, "InputSources", JSON_ARRAY, "an array", &v) ==
		-1)
		return -1;
	if (import_get_str(ea, params, "Image", &image) == -1 ||
	    import_get_strings(ea, params, "Entrypoint", &entry) == -1 ||
	    import_get_strings(ea, params, "Parameters", &parms) == -1 ||
	    import_get_strings(ea, params, "EnvironmentVariables", &vars) ==
		-1 ||
	    import_get_str(ea, params, "WorkingDirectory", &wd) == -1 ||
	    import_get(a, task, "Env", JSON_OBJECT, "an object", &env) == -1 ||
	    import_get(
		a, task, "Network", JSON_OBJECT, "an object", &network) == -1)
		return -1;
	if (image == NULL)
		return import_bad(epath, "a docker engine needs an Image");
	if (*image == '-')
		return import_bad(
		    epath, "Image '%s' is not an image name", image);
	snprintf(npath, sizeof(npath), "%.400s.Network", path);
	if (network != NULL &&
	    import_get_str(
		(struct import_at){npath, 1}, network, "Type", &net) == -1)
		return -1;
	if (net != NULL && strcasecmp(net, "none") != 0 &&
	    strcasecmp(net, "host") != 0 && strcasecmp(net, "full") != 0 &&
	    strcasecmp(net, "default") != 0 && strcasecmp(net, "bridge") != 0)
		return import_bad(npath,
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
		import_sh_opt(fp, "--workdir=", wd);
	if (docker_resources(spec, fp) == -1)
		goto out;
	if ((envs = open_memstream(&elines, &elen)) == NULL ||
	    docker_env(path, epath, vars, env, spec, envs) == -1)
		goto out;
	fflush(envs);
	if (elen > 0)
		fputs(" --env-file=/dev/fd/3", fp);
	json_array_foreach(import_member(task, "InputSources", 1), i, v)
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
		import_sh_opt(fp, "--entrypoint=",
		    json_string_value(json_array_get(entry, 0)));
	fputc(' ', fp);
	import_sh_word(fp, image);
	for (i = 1; i < json_array_size(entry); i++) {
		fputc(' ', fp);
		import_sh_word(fp, json_string_value(json_array_get(entry, i)));
	}
	import_sh_words(fp, parms);
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
		import_set_str(spec, "shell", mem);
	free(mem);
	return r;
}

static int
bacalhau_resources(const char *path, json_t *task, json_t *spec)
{
	char rpath[600];
	struct import_at a = {path, 1}, ra;
	json_t *res, *out = json_object();
	const char *cpu, *gpu;
	int64_t mc;
	char *e;

	snprintf(rpath, sizeof(rpath), "%.400s.Resources", path);
	ra = (struct import_at){rpath, 1};
	if (import_get(a, task, "Resources", JSON_OBJECT, "an object", &res) ==
		-1 ||
	    import_get_str(ra, res, "CPU", &cpu) == -1 ||
	    import_get_str(ra, res, "GPU", &gpu) == -1)
		goto fail;
	if (cpu != NULL) {
		if (parse_cpu(cpu, &mc) == -1) {
			error_wrap("%s.CPU", rpath);
			goto fail;
		}
		json_object_set_new(out, "cpu", json_string(cpu));
	}
	if (import_size_member(ra, res, "Memory", out, "memory") == -1 ||
	    import_size_member(ra, res, "Disk", out, "disk") == -1)
		goto fail;
	if (gpu != NULL) {
		long n = strtol(gpu, &e, 10);
		if (*e != '\0' || n < 0 || n > 1024) {
			import_bad(
			    rpath, "GPU '%s' is not a number of GPUs", gpu);
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

json_t *
import_bacalhau(json_t *doc, const struct import_opts *o)
{
	char base[16] = "$", path[64];
	const char *name, *type, *ns, *etype, *k;
	json_t *job = doc, *spec = json_object(), *out = NULL, *labels, *tasks,
	       *task, *to, *v;
	struct import_at a;
	json_int_t count = 1;

	if (!json_is_object(doc)) {
		import_bad("$", "a Bacalhau job must be an object");
		goto fail;
	}
	/* `bacalhau job describe --output json` wraps the job. */
	if ((v = import_member(doc, "Job", 1)) != NULL && json_is_object(v) &&
	    import_member(doc, "Tasks", 1) == NULL) {
		job = v;
		snprintf(base, sizeof(base), "$.Job");
	}
	a = (struct import_at){base, 1};
	if (import_get_str(a, job, "Name", &name) == -1 ||
	    import_get_str(a, job, "Type", &type) == -1 ||
	    import_get_str(a, job, "Namespace", &ns) == -1 ||
	    import_get(a, job, "Labels", JSON_OBJECT, "an object", &labels) ==
		-1 ||
	    import_get(a, job, "Tasks", JSON_ARRAY, "an array", &tasks) == -1 ||
	    import_get(a, job, "Count", JSON_INTEGER, "an integer", &v) == -1)
		goto fail;
	if (type != NULL && strcasecmp(type, "batch") != 0 &&
	    strcasecmp(type, "ops") != 0) {
		import_bad(base,
		    "'%s' jobs run until stopped: jobkit runs batch "
		    "and ops jobs",
		    type);
		goto fail;
	}
	if (v != NULL &&
	    (json_integer_value(v) < 0 || json_integer_value(v) > MAX_COUNT)) {
		import_bad(base, "'Count' must be from 0 to %d", MAX_COUNT);
		goto fail;
	}
	if (v != NULL && json_integer_value(v) > 1)
		count = json_integer_value(v);
	if (name != NULL)
		import_set_str(spec, "name", name);
	if ((v = import_member(job, "Priority", 1)) != NULL) {
		if (!json_is_integer(v)) {
			import_bad(base, "'Priority' must be an integer");
			goto fail;
		}
		json_object_set(spec, "priority", v);
	}
	json_object_foreach(labels, k, v)
	{
		if (!json_is_string(v)) {
			import_bad(base, "'Labels.%s' must be a string", k);
			goto fail;
		}
		json_object_set(import_object_at(spec, "labels"), k, v);
	}
	if (ns != NULL &&
	    json_object_get(json_object_get(spec, "labels"), "namespace") ==
		NULL)
		import_set_str(
		    import_object_at(spec, "labels"), "namespace", ns);
	if (json_array_size(tasks) != 1) {
		import_bad(base, "a job needs exactly one task in 'Tasks'");
		goto fail;
	}
	snprintf(path, sizeof(path), "%.8s.Tasks[0]", base);
	a = (struct import_at){path, 1};
	task = json_array_get(tasks, 0);
	if (!json_is_object(task)) {
		import_bad(path, "must be an object");
		goto fail;
	}
	if (import_get(a, task, "Engine", JSON_OBJECT, "an object", &v) == -1)
		goto fail;
	if (v == NULL) {
		import_bad(path, "a task needs an Engine");
		goto fail;
	}
	snprintf(path, sizeof(path), "%.8s.Tasks[0].Engine", base);
	if (import_get_str((struct import_at){path, 1}, v, "Type", &etype) ==
	    -1)
		goto fail;
	if (etype == NULL || strcasecmp(etype, "docker") != 0) {
		import_bad(path,
		    "engine '%s' is not supported: jobkit runs a docker "
		    "task with docker run",
		    etype ? etype : "");
		goto fail;
	}
	snprintf(path, sizeof(path), "%.8s.Tasks[0]", base);
	if (bacalhau_resources(path, task, spec) == -1 ||
	    bacalhau_docker(path, task, spec) == -1)
		goto fail;
	if (import_get(a, task, "Timeouts", JSON_OBJECT, "an object", &to) ==
	    -1)
		goto fail;
	snprintf(path, sizeof(path), "%.8s.Tasks[0].Timeouts", base);
	for (int i = 0; i < 2 && to != NULL; i++) {
		const char *key = i == 0 ? "ExecutionTimeout" : "TotalTimeout";
		if ((v = import_member(to, key, 1)) == NULL)
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			import_bad(
			    path, "'%s' must be a number of seconds", key);
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
