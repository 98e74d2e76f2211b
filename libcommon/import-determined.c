/*
 * Determined command configs, as `det cmd run --config-file FILE [--config
 * KEY=VALUE ...] [cmd args]` reads them, turned into one jobkit spec.  The
 * --config overrides are applied to the document first (they beat the
 * file, as Determined's do); then each member has a small reader in a
 * table, resources first (the slots choose the image and variables of a
 * per-device environment).  A member no table knows is refused: it might
 * change what runs.  Those that only notebooks, shells, TensorBoards or
 * other schedulers use are kept in "foreign", and a note says so.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "import.h"
#include "importer.h"
#include "spec.h"
#include "yamljson.h"

#define DET_PRIORITY_DEFAULT 42 /* Determined's, 1 (first) to 99 */

struct det {
	json_t *spec, *foreign, *notes;
	json_t *kept; /* names of what is kept but not applied */
	json_t *hold; /* the texts of numbers given for strings */
	json_int_t slots;
	json_t *image, *envvars, *entrypoint; /* borrowed, read later */
	const char *work_dir;
	json_t *bind; /* the bind being read */
};

static int
oom(void)
{
	return error_set(EX_OSERR, "out of memory");
}

/* What is kept but means nothing to a command on one machine. */
static int
rd_kept(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;

	if (json_object_set(d->foreign, path, v) == -1 ||
	    json_array_append_new(d->kept, json_string(path + 2)) == -1)
		return oom();
	return 0;
}

static int
rd_refused(void *ctx, const char *path, const char *name, json_t *v)
{
	return import_bad(path,
	    "is not supported: it changes what the "
	    "container may do, and jobkit cannot honour it");
}

/* --- resources ------------------------------------------------------ */

static int
rd_slots(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 1024)
		return import_bad(path, "must be a number of GPUs, 0 to 1024");
	d->slots = json_integer_value(v);
	if (d->slots > 0 &&
	    json_object_set(import_object_at(d->spec, "resources"), "gpu", v) ==
		-1)
		return oom();
	return 0;
}

/* Smaller runs first in Determined, larger in jobkit: 42 - p, so that
 * Determined's default is jobkit's (0). */
static int
rd_priority(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;
	json_int_t p;

	if (!json_is_integer(v) || (p = json_integer_value(v)) < 1 || p > 99)
		return import_bad(path, "must be from 1 to 99");
	return spec_set(
	    d->spec, "priority", json_integer(DET_PRIORITY_DEFAULT - p));
}

static int
rd_pool(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;
	const char *t = import_text(v, d->hold);

	if (t == NULL)
		return json_is_number(v) ? -1
					 : import_bad(path, "must be a string");
	if (*t == '\0')
		return 0;
	if (!spec_word_ok(t))
		return import_bad(
		    path, "'%s' may hold only letters, digits and . _ - /", t);
	return import_set_str(d->spec, "queue", t);
}

static const struct import_field resource_fields[] = {{"slots", rd_slots},
    {"priority", rd_priority}, {"resource_pool", rd_pool}, {"weight", rd_kept},
    {"max_slots", rd_kept}, {"agent_label", rd_kept},
    {"native_parallel", rd_kept}, {"is_single_node", rd_kept},
    {"shm_size", rd_kept}, {"devices", rd_refused}, {NULL, NULL}};

static int
rd_resources(void *ctx, const char *path, const char *name, json_t *v)
{
	return import_table(ctx, path, v, resource_fields, NULL);
}

/* --- environment ---------------------------------------------------- */

/* A value, or one per device ("cpu", "cuda", "gpu", "rocm"). */
static int
per_device(const char *path, json_t *v, int (*each)(const char *, json_t *))
{
	static const char *const devices[] = {"cpu", "cuda", "gpu", "rocm"};
	char sub[640];
	const char *k;
	json_t *e;
	size_t i;

	if (!json_is_object(v))
		return each(path, v);
	json_object_foreach(v, k, e)
	{
		snprintf(sub, sizeof(sub), "%.500s.%s", path, k);
		for (i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
			if (strcmp(devices[i], k) == 0)
				break;
		if (i == sizeof(devices) / sizeof(devices[0]))
			return import_bad(
			    sub, "not a device (cpu, cuda, gpu, rocm)");
		if (!json_is_null(e) && each(sub, e) == -1)
			return -1;
	}
	return 0;
}

/* The value for this job's device: cuda (or gpu) with slots, else cpu. */
static json_t *
for_device(const struct det *d, json_t *v)
{
	json_t *c;

	if (!json_is_object(v))
		return v;
	if (d->slots == 0)
		return json_object_get(v, "cpu");
	c = json_object_get(v, "cuda");
	return c != NULL && !json_is_null(c) ? c : json_object_get(v, "gpu");
}

static int
image_ok(const char *path, json_t *v)
{
	if (!json_is_string(v))
		return import_bad(path, "must be an image name");
	if (*json_string_value(v) == '-')
		return import_bad(
		    path, "'%s' is not an image name", json_string_value(v));
	return 0;
}

static int
rd_image(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;

	d->image = v;
	return per_device(path, v, image_ok);
}

/* "NAME=VALUE", one line. */
static int
envvar_ok(const char *path, const char *s)
{
	const char *eq = strchr(s, '=');
	char k[256];

	if (eq == NULL || eq == s || (size_t)(eq - s) >= sizeof(k))
		return import_bad(path, "'%.64s' is not NAME=VALUE", s);
	memcpy(k, s, (size_t)(eq - s));
	k[eq - s] = '\0';
	if (!spec_env_name_ok(k))
		return import_bad(path, "'%s' is not a variable name", k);
	return 0;
}

static int
envvars_ok(const char *path, json_t *v)
{
	char sub[640];
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return import_bad(path, "must be a list of NAME=VALUE");
	json_array_foreach(v, i, e)
	{
		snprintf(sub, sizeof(sub), "%.500s[%zu]", path, i);
		if (!json_is_string(e))
			return import_bad(sub, "must be a string");
		if (envvar_ok(sub, json_string_value(e)) == -1)
			return -1;
	}
	return 0;
}

static int
rd_envvars(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;

	d->envvars = v;
	return per_device(path, v, envvars_ok);
}

/* registry_auth holds a login: neither applied nor kept. */
static int
rd_registry(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;

	return spec_append(d->notes,
	    json_string("environment.registry_auth is not kept: log the "
			"worker in to the registry (docker login)"));
}

static const struct import_field environment_fields[] = {{"image", rd_image},
    {"environment_variables", rd_envvars}, {"force_pull_image", rd_kept},
    {"ports", rd_kept}, {"proxy_ports", rd_kept}, {"pod_spec", rd_kept},
    {"registry_auth", rd_registry}, {"add_capabilities", rd_refused},
    {"drop_capabilities", rd_refused}, {NULL, NULL}};

static int
rd_environment(void *ctx, const char *path, const char *name, json_t *v)
{
	return import_table(ctx, path, v, environment_fields, NULL);
}

/* --- bind mounts ---------------------------------------------------- */

static int
rd_host_path(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;

	if (!json_is_string(v) || !import_target_ok(json_string_value(v)))
		return import_bad(
		    path, "must be an absolute path without '..'");
	return json_object_set(d->bind, "source", v) == -1 ? oom() : 0;
}

static int
rd_container_path(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;

	if (!json_is_string(v) || !import_target_ok(json_string_value(v)))
		return import_bad(
		    path, "must be an absolute path without '..'");
	return json_object_set(d->bind, "target", v) == -1 ? oom() : 0;
}

static int
rd_read_only(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;
	int b = import_bool(v);

	if (b == -1)
		return import_bad(path, "must be true or false");
	return spec_set(d->bind, "read_only", json_boolean(b));
}

static const struct import_field bind_fields[] = {{"host_path", rd_host_path},
    {"container_path", rd_container_path}, {"read_only", rd_read_only},
    {"propagation", rd_kept}, {NULL, NULL}};

static int
rd_bind_mounts(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;
	char sub[640];
	json_t *b;
	size_t i;
	int r = 0;

	if (!json_is_array(v))
		return import_bad(path, "must be a list of bind mounts");
	json_array_foreach(v, i, b)
	{
		snprintf(sub, sizeof(sub), "%.500s[%zu]", path, i);
		if ((d->bind = json_object()) == NULL)
			return oom();
		r = import_table(d, sub, b, bind_fields, NULL);
		if (r == 0 &&
		    (json_object_get(d->bind, "source") == NULL ||
			json_object_get(d->bind, "target") == NULL))
			r = import_bad(sub,
			    "a bind mount needs a host_path and a "
			    "container_path");
		if (r == 0 &&
		    json_array_append(
			import_array_at(d->spec, "binds"), d->bind) == -1)
			r = oom();
		json_decref(d->bind);
		d->bind = NULL;
		if (r == -1)
			break;
	}
	return r;
}

/* --- the rest ------------------------------------------------------- */

static int
rd_description(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;
	const char *t = import_text(v, d->hold);

	if (t == NULL)
		return json_is_number(v) ? -1
					 : import_bad(path, "must be a string");
	return *t != '\0' ? import_set_str(d->spec, "name", t) : 0;
}

/* A string, or a list of words (numbers as their text: "[sleep, 10]"). */
static int
rd_entrypoint(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;
	char sub[640];
	const char *t;
	json_t *e, *words;
	size_t i;

	if (json_is_string(v)) {
		d->entrypoint = v;
		return 0;
	}
	if (!json_is_array(v))
		return import_bad(path, "must be a string or a list of them");
	if ((words = json_array()) == NULL ||
	    json_array_append_new(d->hold, words) == -1)
		return oom();
	json_array_foreach(v, i, e)
	{
		snprintf(sub, sizeof(sub), "%.500s[%zu]", path, i);
		if ((t = import_text(e, d->hold)) == NULL)
			return json_is_number(e)
			    ? -1
			    : import_bad(sub, "must be a string");
		if (spec_append(words, json_string(t)) == -1)
			return -1;
	}
	d->entrypoint = words;
	return 0;
}

static int
rd_work_dir(void *ctx, const char *path, const char *name, json_t *v)
{
	struct det *d = ctx;
	const char *s = json_string_value(v);

	if (s == NULL || !import_target_ok(s))
		return import_bad(
		    path, "must be an absolute path without '..'");
	d->work_dir = s;
	return 0;
}

/* Read in this order: the slots first, the command config's own keys;
 * then those of notebooks, shells and TensorBoards, and of the Slurm and
 * PBS launchers. */
static const struct import_field config_fields[] = {{"resources", rd_resources},
    {"environment", rd_environment}, {"description", rd_description},
    {"entrypoint", rd_entrypoint}, {"bind_mounts", rd_bind_mounts},
    {"work_dir", rd_work_dir}, {"idle_timeout", rd_kept},
    {"notebook_idle_type", rd_kept}, {"tensorboard_args", rd_kept},
    {"debug", rd_kept}, {"pbs", rd_kept}, {"slurm", rd_kept}, {NULL, NULL}};

/* --- --config KEY=VALUE ----------------------------------------------- */

/* A --config value as YAML reads it (a scalar, or a flow list or map);
 * a new reference, or NULL with an error naming where. */
static json_t *
det_value(const char *where, const char *text)
{
	json_t *docs = yamljson_parse(text, strlen(text)), *v;

	if (docs == NULL) {
		error_wrap("%s", where);
		return NULL;
	}
	v = json_array_size(docs) > 0 ? json_incref(json_array_get(docs, 0))
				      : json_null();
	json_decref(docs);
	return v;
}

/* doc.a.b = VALUE, making the maps on the way. */
static int
det_override(json_t *doc, const char *kv)
{
	const char *eq = strchr(kv, '='), *k = kv, *dot;
	char where[300], seg[256];
	json_t *o = doc, *c, *val;

	snprintf(where, sizeof(where), "--config '%.200s'", kv);
	if (eq == NULL || eq == kv)
		return import_bad(where, "expected KEY=VALUE");
	for (; (dot = memchr(k, '.', (size_t)(eq - k))) != NULL; k = dot + 1) {
		if (dot == k || (size_t)(dot - k) >= sizeof(seg))
			return import_bad(where, "an empty or long key");
		snprintf(seg, sizeof(seg), "%.*s", (int)(dot - k), k);
		if ((c = json_object_get(o, seg)) == NULL || json_is_null(c)) {
			if (spec_set(o, seg, c = json_object()) == -1)
				return -1;
		} else if (!json_is_object(c))
			return import_bad(where, "'%s' is not a map", seg);
		o = c;
	}
	if (eq == k || (size_t)(eq - k) >= sizeof(seg))
		return import_bad(where, "an empty or long key");
	snprintf(seg, sizeof(seg), "%.*s", (int)(eq - k), k);
	if ((val = det_value(where, eq + 1)) == NULL)
		return -1;
	if (json_object_set_new(o, seg, val) == -1)
		return oom();
	return 0;
}

/* The document with the overrides applied: a new reference, or NULL. */
static json_t *
det_document(json_t *doc, const struct import_opts *o)
{
	json_t *copy = json_deep_copy(doc), *v;
	size_t i;

	if (copy == NULL) {
		oom();
		return NULL;
	}
	json_array_foreach(o->config, i, v)
	{
		if (!json_is_string(v) ||
		    det_override(copy, json_string_value(v)) == -1) {
			if (!json_is_string(v))
				import_bad("--config", "must be KEY=VALUE");
			json_decref(copy);
			return NULL;
		}
	}
	return copy;
}

/* A file of another kind of Determined's, named by a key of its own. */
static int
det_kind(json_t *doc)
{
	static const char *const other[][2] = {
	    {"constraints", "a config policy"},
	    {"invariant_config", "a config policy"},
	    {"searcher", "an experiment config (det experiment create)"},
	    {"hyperparameters",
		"an experiment config (det experiment create)"}};
	char path[300];
	const char *k;
	json_t *v;

	if (!json_is_object(doc))
		return import_bad(
		    "$", "a Determined command config must be a map");
	json_object_foreach(doc, k, v)
	{
		for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
			if (strcmp(k, other[i][0]) == 0) {
				snprintf(path, sizeof(path), "$.%s", k);
				return import_bad(path,
				    "this is %s, not a command config",
				    other[i][1]);
			}
	}
	return 0;
}

/* --- the spec ------------------------------------------------------- */

/* One word runs through sh -c, more are exec'd: Determined's
 * command-entrypoint.sh does the same. */
static int
det_command(struct det *d, json_t *argv)
{
	json_t *cmd =
	    argv != NULL && json_array_size(argv) > 0 ? argv : d->entrypoint;
	int r;

	if (cmd == NULL || (json_is_array(cmd) && json_array_size(cmd) == 0))
		return import_bad("$",
		    "a command config needs an entrypoint, or a command "
		    "after --");
	if (json_is_string(cmd))
		r = json_object_set(d->spec, "shell", cmd);
	else if (json_array_size(cmd) == 1)
		r = json_object_set(d->spec, "shell", json_array_get(cmd, 0));
	else
		r = json_object_set(d->spec, "command", cmd);
	return r == -1 ? oom() : 0;
}

static int
det_environment(struct det *d)
{
	json_t *img = for_device(d, d->image),
	       *vars = for_device(d, d->envvars);
	json_t *v, *c;
	size_t i;

	json_array_foreach(vars, i, v)
	{
		const char *s = json_string_value(v), *eq = strchr(s, '=');
		char k[256];
		snprintf(k, sizeof(k), "%.*s", (int)(eq - s), s);
		if (import_set_str(
			import_object_at(d->spec, "env"), k, eq + 1) == -1)
			return -1;
	}
	if (img == NULL || json_is_null(img)) {
		if (d->work_dir != NULL)
			return import_bad("$.work_dir",
			    "a work directory is a place in the container: "
			    "give environment.image too");
		return spec_append(d->notes,
		    json_string(
			"no environment.image: the command runs on "
			"the worker itself, not in Determined's default "
			"image"));
	}
	c = import_object_at(d->spec, "container");
	if (json_object_set(c, "image", img) == -1)
		return oom();
	if (d->work_dir != NULL)
		return import_set_str(c, "workdir", d->work_dir);
	return 0;
}

/* Determined refuses a work_dir with a context directory: the context is
 * where a command runs. */
static int
det_context(struct det *d, const struct import_opts *o)
{
	if (o->context && d->work_dir != NULL)
		return import_bad("$.work_dir",
		    "is refused with --context, as Determined refuses "
		    "work_dir with a context directory: the command runs in "
		    "the context");
	return 0;
}

static int
det_finish(struct det *d, const struct import_opts *o)
{
	char note[1024];
	size_t i, n = 0;
	json_t *v;

	if (det_command(d, o->argv) == -1 || det_environment(d) == -1)
		return -1;
	if (json_array_size(d->kept) > 0) {
		n = (size_t)snprintf(
		    note, sizeof(note), "kept, not applied to a command here:");
		json_array_foreach(d->kept, i, v)
		{
			if (n < sizeof(note))
				n += (size_t)snprintf(note + n,
				    sizeof(note) - n, "%s %s", i ? "," : "",
				    json_string_value(v));
		}
		if (json_array_insert_new(d->notes, 0, json_string(note)) == -1)
			return oom();
	}
	if ((json_object_size(d->foreign) > 0 &&
		json_object_set(d->spec, "foreign", d->foreign) == -1) ||
	    (json_array_size(d->notes) > 0 &&
		json_object_set(d->spec, "notes", d->notes) == -1))
		return oom();
	return 0;
}

json_t *
import_determined(json_t *doc, const struct import_opts *o)
{
	struct det d = {.spec = json_object(),
	    .foreign = json_object(),
	    .notes = json_array(),
	    .kept = json_array(),
	    .hold = json_array()};
	json_t *cfg = NULL, *out = NULL;

	if (d.spec == NULL || d.foreign == NULL || d.notes == NULL ||
	    d.kept == NULL || d.hold == NULL)
		oom();
	else if (det_kind(doc) == 0 && (cfg = det_document(doc, o)) != NULL &&
	    import_table(&d, "$", cfg, config_fields, NULL) == 0 &&
	    det_context(&d, o) == 0 && det_finish(&d, o) == 0 &&
	    (out = json_pack("[O]", d.spec)) == NULL)
		oom();
	json_decref(cfg);
	json_decref(d.spec);
	json_decref(d.foreign);
	json_decref(d.notes);
	json_decref(d.kept);
	json_decref(d.hold);
	return out;
}
