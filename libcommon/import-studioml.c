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
			return import_bad(path,
			    "'credentials.%s.%s' must be a string", map[i][0],
			    map[i][1]);
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
			return import_bad(path,
			    "the s3 endpoint '%.*s' is not supported "
			    "(AWS only)",
			    (int)n, host);
		return asprintf(url, "s3://%s/%s", bucket, key) == -1
		    ? error_set(EX_OSERR, "out of memory")
		    : 0;
	}
	if (memchr(host, ':', n) != NULL)
		return import_bad(path,
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
	struct import_at at;

	json_object_foreach(arts, name, a)
	{
		snprintf(path, sizeof(path), "$.experiment.artifacts.%s", name);
		at = (struct import_at){path, 0};
		if (!json_is_object(a))
			return import_bad(path, "must be an object");
		if (import_get_str(at, a, "qualified", &q) == -1 ||
		    import_get_str(at, a, "url", &u) == -1 ||
		    import_get_str(at, a, "bucket", &bucket) == -1 ||
		    import_get_str(at, a, "key", &key) == -1 ||
		    import_get(at, a, "credentials", JSON_OBJECT, "an object",
			&c) == -1)
			return -1;
		/* The runner skips an artifact with nowhere to come from. */
		if (q == NULL && u == NULL)
			continue;
		if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			return import_bad(
			    path, "an artifact name must be a file name");
		if (s3_url(path, q ? q : u, bucket, key, &url) == -1)
			return -1;
		art = json_object();
		import_set_str(art, "name", name);
		import_set_str(art, "url", url);
		free(url);
		import_set_str(art, "path", name);
		for (int i = 0; i < 2; i++) {
			const char *f = i ? "mutable" : "unpack";
			if ((v = json_object_get(a, f)) == NULL ||
			    json_is_null(v))
				continue;
			if (!json_is_boolean(v)) {
				json_decref(art);
				return import_bad(
				    path, "'%s' must be true or false", f);
			}
			json_object_set(art, f, v);
		}
		if (c != NULL && studioml_credentials(path, c, art) == -1) {
			json_decref(art);
			return -1;
		}
		json_array_append_new(import_array_at(spec, "inputs"), art);
		if (strcmp(name, "workspace") == 0)
			*workspace = 1;
	}
	return 0;
}

json_t *
import_studioml(json_t *doc, const struct import_opts *o)
{
	struct import_at a = {"$.experiment", 0}, c = {"$.config", 0};
	const char *key, *file, *ver = NULL, *dur, *k;
	json_t *exp, *cfg, *args, *pyenv, *pip, *res, *env, *arts, *v,
	    *spec = json_object(), *out = NULL;
	char *script = NULL, verbuf[32];
	size_t len = 0;
	int workspace = 0;
	int64_t ms;
	FILE *fp;

	if (!json_is_object(doc)) {
		import_bad("$", "a StudioML request must be an object");
		goto fail;
	}
	if (import_get((struct import_at){"$", 0}, doc, "experiment",
		JSON_OBJECT, "an object", &exp) == -1 ||
	    import_get((struct import_at){"$", 0}, doc, "config", JSON_OBJECT,
		"an object", &cfg) == -1)
		goto fail;
	if (exp == NULL) {
		import_bad("$", "a StudioML request needs an 'experiment'");
		goto fail;
	}
	if (import_get_str(a, exp, "key", &key) == -1 ||
	    import_get_str(a, exp, "filename", &file) == -1 ||
	    import_get_strings(a, exp, "args", &args) == -1 ||
	    import_get_strings(a, exp, "pythonenv", &pyenv) == -1 ||
	    import_get_str(a, exp, "max_duration", &dur) == -1 ||
	    import_get(a, exp, "resources_needed", JSON_OBJECT, "an object",
		&res) == -1 ||
	    import_get(a, exp, "artifacts", JSON_OBJECT, "an object", &arts) ==
		-1 ||
	    import_get_strings(c, cfg, "pip", &pip) == -1 ||
	    import_get(c, cfg, "env", JSON_OBJECT, "an object", &env) == -1)
		goto fail;
	if (key == NULL || file == NULL) {
		import_bad("$.experiment",
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
			import_bad(
			    "$.experiment", "'pythonver' must be a version");
			goto fail;
		}
		for (const char *p = verbuf; *p != '\0'; p++)
			if (!isdigit((unsigned char)*p) && *p != '.') {
				import_bad("$.experiment",
				    "'pythonver' must be a "
				    "version such as 3.9");
				goto fail;
			}
		ver = *verbuf ? verbuf : NULL;
	}
	import_set_str(spec, "name", key);
	/* A request delivered twice is one job. */
	{
		char *ik;
		if (asprintf(&ik, "studioml:%s", key) == -1) {
			error_set(EX_OSERR, "out of memory");
			goto fail;
		}
		import_set_str(spec, "key", ik);
		free(ik);
	}
	for (int i = 0; i < 2; i++) {
		const char *f = i ? "owner" : "project";
		if ((v = json_object_get(exp, f)) != NULL &&
		    json_is_string(v) && *json_string_value(v))
			json_object_set(import_object_at(spec, "labels"), f, v);
	}
	if (dur != NULL) {
		if (parse_duration(dur, &ms) == -1) {
			error_wrap("$.experiment.max_duration");
			goto fail;
		}
		import_set_str(spec, "timeout", dur);
	}
	if (res != NULL) {
		struct import_at ra = {"$.experiment.resources_needed", 0};
		json_t *r = json_object();
		for (int i = 0; i < 2; i++) {
			const char *f = i ? "gpus" : "cpus";
			if ((v = json_object_get(res, f)) == NULL ||
			    json_is_null(v))
				continue;
			if (!json_is_integer(v) || json_integer_value(v) < 0) {
				json_decref(r);
				import_bad(
				    ra.path, "'%s' must be a whole number", f);
				goto fail;
			}
			if (json_integer_value(v) > 0)
				json_object_set(r, i ? "gpu" : "cpu", v);
		}
		if (import_size_member(ra, res, "ram", r, "memory") == -1 ||
		    import_size_member(ra, res, "hdd", r, "disk") == -1) {
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
	import_set_str(
	    import_object_at(spec, "env"), "STUDIOML_EXPERIMENT", key);
	json_object_foreach(env, k, v)
	{
		if (!json_is_string(v) || !spec_env_name_ok(k)) {
			fclose(fp);
			free(script);
			import_bad("$.config.env",
			    "'%s' must be a string named like a variable", k);
			goto fail;
		}
		if (strchr(json_string_value(v), '%') == NULL) {
			json_object_set(import_object_at(spec, "env"), k, v);
			continue;
		}
		fprintf(fp, "export %s=", k);
		sh_expand(fp, json_string_value(v));
		fputs("; ", fp);
	}
	if (json_array_size(pyenv) + json_array_size(pip) > 0) {
		fprintf(fp, "python%s -m venv .venv; ", ver ? ver : "3");
		fputs(".venv/bin/python -m pip install --quiet", fp);
		import_sh_words(fp, pyenv);
		import_sh_words(fp, pip);
		fputs("; PATH=\"$PWD/.venv/bin:$PATH\"; ", fp);
	}
	if (workspace)
		fputs("cd workspace; ", fp);
	if (json_array_size(pyenv) + json_array_size(pip) > 0)
		fputs("exec python ", fp);
	else
		fprintf(fp, "exec python%s ", ver ? ver : "3");
	import_sh_word(fp, file);
	import_sh_words(fp, args);
	fclose(fp);
	import_set_str(spec, "shell", script);
	free(script);
	out = json_pack("[O]", spec);
fail:
	json_decref(spec);
	return out;
}
