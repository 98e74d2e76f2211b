#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "parse.h"
#include "spec.h"
#include "specopt.h"
#include "utf8.h"

extern char **environ;

/* Set over[obj][key] (or over[key] when obj is NULL) to v (stolen, and
 * may be NULL: out of memory). */
static int
over_set(json_t *over, const char *obj, const char *key, json_t *v)
{
	json_t *o = over;

	if (obj != NULL && (o = json_object_get(over, obj)) == NULL) {
		o = json_object();
		if (spec_set(over, obj, o) == -1) {
			json_decref(v);
			return -1;
		}
	}
	return spec_set(o, key, v) == -1 ? -1 : 1;
}

static int
over_append(json_t *over, const char *key, const char *v)
{
	json_t *a = json_object_get(over, key);

	if (a == NULL) {
		a = json_array();
		if (json_object_set_new(over, key, a) == -1)
			a = NULL;
	}
	if (a == NULL || json_array_append_new(a, json_string(v)) == -1)
		return error_set(EX_OSERR, "out of memory");
	return 1;
}

/* "K=V" into over[obj]; for env a bare "K" copies our environment. */
static int
over_pair(json_t *over, const char *obj, const char *opt, const char *arg)
{
	const char *eq = strchr(arg, '='), *val;
	char key[256];

	if (eq == NULL && strcmp(obj, "env") == 0) {
		if ((val = getenv(arg)) == NULL)
			return error_set(EX_USAGE,
			    "%s: '%s' is not set in the environment", opt, arg);
		eq = arg + strlen(arg);
	} else if (eq == NULL || eq == arg)
		return error_set(
		    EX_USAGE, "%s: expected KEY=VALUE, got '%s'", opt, arg);
	else
		val = eq + 1;
	if ((size_t)(eq - arg) >= sizeof(key))
		return error_set(
		    EX_USAGE, "%s: key too long in '%s'", opt, arg);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	return over_set(over, obj, key, json_string(val));
}

static int
read_env_file(json_t *over, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	int r = 1;

	if (fp == NULL)
		return error_set(errno == ENOENT ? EX_NOINPUT : EX_NOPERM,
		    "--env-file: %s: %s", path, strerror(errno));
	while (r == 1 && (n = getline(&line, &cap, fp)) != -1) {
		while (n > 0 && strchr("\r\n", line[n - 1]))
			line[--n] = '\0';
		p = line + strspn(line, " \t");
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		if (strchr(p, '=') == NULL)
			r = error_set(EX_DATAERR,
			    "--env-file: %s: expected KEY=VALUE, got '%s'",
			    path, p);
		else
			r = over_pair(over, "env", "--env-file", p);
	}
	if (r == 1 && ferror(fp))
		r = error_set(
		    EX_IOERR, "--env-file: %s: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	return r;
}

/* A value checked by a parser: -1 names the option. */
static int
checked(const char *opt, int r)
{
	char msg[1024];

	if (r == -1) {
		snprintf(msg, sizeof(msg), "%s", error_msg());
		return error_set(EX_USAGE, "%s: %s", opt, msg);
	}
	return 0;
}

static int
int_option(json_t *over, const char *obj, const char *key, const char *opt,
    const char *arg, int64_t min, int64_t max)
{
	int64_t v;

	if (checked(opt, parse_int(arg, min, max, &v)) == -1)
		return -1;
	return over_set(over, obj, key, json_integer(v));
}

static int
retry_on(json_t *over, const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	json_t *a = json_array();
	int64_t v;
	int r = 1;

	if (copy == NULL || a == NULL) {
		free(copy);
		json_decref(a);
		return error_set(EX_OSERR, "out of memory");
	}
	for (tok = strtok_r(copy, ",", &save); tok != NULL && r == 1;
	     tok = strtok_r(NULL, ",", &save))
		if (checked("--retry-on", parse_int(tok, 0, 255, &v)) == -1 ||
		    spec_append(a, json_integer(v)) == -1)
			r = -1;
	free(copy);
	if (r == -1) {
		json_decref(a);
		return -1;
	}
	return over_set(over, NULL, "retry_on", a);
}

/*
 * --workdir: a relative directory is the submitter's, so it is stored made
 * absolute; a worker elsewhere would otherwise read it against its own.
 */
/* The current directory, asked once: a stream of specs is submitted from
 * one, and getcwd(2) for each was a twentieth of its cost.  NULL (errno)
 * when there is none. */
static const char *
cwd_once(void)
{
	static char cwd[4096];

	if (cwd[0] == '\0' && getcwd(cwd, sizeof(cwd)) == NULL) {
		cwd[0] = '\0';
		return NULL;
	}
	return cwd;
}

static int
workdir(json_t *over, const char *arg)
{
	const char *cwd;
	char *abs;
	int r;

	if (*arg == '\0')
		return error_set(EX_USAGE, "--workdir: empty directory");
	if (*arg == '/')
		return over_set(over, NULL, "workdir", json_string(arg));
	if ((cwd = cwd_once()) == NULL)
		return error_set(EX_OSERR, "--workdir: current directory: %s",
		    strerror(errno));
	while (arg[0] == '.' && arg[1] == '/')
		for (arg += 2; *arg == '/'; arg++)
			;
	if (*arg == '\0' || strcmp(arg, ".") == 0)
		return over_set(over, NULL, "workdir", json_string(cwd));
	if (asprintf(&abs, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", arg) ==
	    -1)
		return error_set(EX_OSERR, "out of memory");
	r = over_set(over, NULL, "workdir", json_string(abs));
	free(abs);
	return r;
}

/* A variable of ours for export: one a job may hold (bash functions and
 * other names a shell cannot set are left out of ALL). */
static int
export_var(json_t *exp, const char *kv, size_t nlen)
{
	char name[256];

	if (nlen >= sizeof(name))
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)nlen, kv);
	if (!spec_env_name_ok(name) || strlen(kv + nlen + 1) > 65536)
		return 0;
	return json_object_set_new(exp, name, json_string(kv + nlen + 1));
}

/*
 * --export ALL | NONE | NAME[=VALUE],...: what of our environment the job
 * records and runs with, as sbatch's --export (ALL may be listed with
 * others: ALL,TMPDIR=/scratch).
 */
static int
export_option(json_t *over, const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL, *eq;
	json_t *exp = json_object();
	const char *val;
	int r = 1, n = 0, none = 0;

	if (copy == NULL || exp == NULL) {
		free(copy);
		json_decref(exp);
		return error_set(EX_OSERR, "out of memory");
	}
	none = strcmp(arg, "NONE") == 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL && r == 1;
	     tok = strtok_r(NULL, ",", &save), n++) {
		if (strcmp(tok, "NONE") == 0 && !none)
			r = error_set(EX_USAGE,
			    "--export: expected ALL, NONE or NAME[=VALUE],..., "
			    "got '%s'",
			    arg);
		else if (none)
			;
		else if (strcmp(tok, "ALL") == 0) {
			for (char **p = environ; *p != NULL; p++)
				if ((eq = strchr(*p, '=')) != NULL &&
				    export_var(exp, *p, (size_t)(eq - *p)) ==
					-1)
					r = error_set(
					    EX_OSERR, "out of memory");
		} else {
			if ((eq = strchr(tok, '=')) != NULL)
				*eq = '\0';
			val = eq ? eq + 1 : getenv(tok);
			if (!spec_env_name_ok(tok))
				r = error_set(EX_USAGE,
				    "--export: '%s' is not a variable name",
				    tok);
			else if (val == NULL)
				r = error_set(EX_USAGE,
				    "--export: '%s' is not set in the "
				    "environment",
				    tok);
			else if (spec_set(exp, tok, json_string(val)) == -1)
				r = -1;
		}
	}
	if (r == 1 && n == 0)
		r = error_set(EX_USAGE,
		    "--export: expected ALL, NONE or NAME[=VALUE],..., got "
		    "'%s'",
		    arg);
	free(copy);
	if (r != 1) {
		json_decref(exp);
		return r;
	}
	return over_set(over, NULL, "export", exp);
}

json_t *
specopt_export(json_t *over)
{
	static const char *const names[] = {
	    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", NULL};
	json_t *exp = json_object_get(over, "export");

	if (exp != NULL) {
		json_incref(exp);
		json_object_del(over, "export");
		return exp;
	}
	if ((exp = json_object()) == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	for (char **p = environ; *p != NULL; p++) {
		size_t n = strcspn(*p, "=");
		int want = strncmp(*p, "LC_", 3) == 0 && (*p)[n];
		for (int i = 0; !want && names[i] != NULL; i++)
			want = strlen(names[i]) == n &&
			    strncmp(*p, names[i], n) == 0 && (*p)[n];
		if (want && export_var(exp, *p, n) == -1) {
			json_decref(exp);
			error_set(EX_OSERR, "out of memory");
			return NULL;
		}
	}
	return exp;
}

int
specopt_workdir(json_t *spec)
{
	const char *w = json_string_value(json_object_get(spec, "workdir"));

	/* What is wrong with a workdir, spec_normalize() says; a current
	 * directory that is gone leaves a fresh one.  A job that names its
	 * data (inputs, outputs) gets a fresh folder to stage them in, not
	 * the submitter's. */
	if (json_object_get(spec, "workdir") == NULL &&
	    (json_array_size(json_object_get(spec, "inputs")) > 0 ||
		json_array_size(json_object_get(spec, "outputs")) > 0 ||
		json_object_get(spec, "context") != NULL))
		return spec_set(spec, "scratch", json_true());
	if (json_is_true(json_object_get(spec, "scratch")) ||
	    cwd_once() == NULL ||
	    (json_object_get(spec, "workdir") != NULL &&
		(w == NULL || *w == '\0' || *w == '/')))
		return 0;
	/* The submit directory, as tsp, nq, parallel and sbatch run in. */
	return workdir(spec, w ? w : ".") == -1 ? -1 : 0;
}

json_t *
specopt_argv(char *const *argv)
{
	json_t *a = json_array();

	if (a == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	for (; *argv != NULL; argv++) {
		if (!utf8_valid(*argv, strlen(*argv))) {
			error_set(EX_DATAERR, "the command is not UTF-8");
			goto fail;
		}
		if (spec_append(a, json_string_nocheck(*argv)) == -1)
			goto fail;
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

/* A string option whose value a parser checks first. */
static int
parsed_option(json_t *over, const char *obj, const char *key, const char *opt,
    const char *arg, int r)
{
	if (checked(opt, r) == -1)
		return -1;
	return over_set(over, obj, key, json_string(arg));
}

int
specopt_apply(json_t *over, int c, const char *arg)
{
	int64_t v;
	uint64_t size;

	switch (c) {
	case 'n':
		return over_set(over, NULL, "name", json_string(arg));
	case 'e':
		return over_pair(over, "env", "--env", arg);
	case SPECOPT_ENV_FILE:
		return read_env_file(over, arg);
	case 'w':
	case SPECOPT_SCRATCH:
		if (json_object_get(over, c == 'w' ? "scratch" : "workdir"))
			return error_set(EX_USAGE,
			    "--workdir and --scratch: give one (--scratch runs "
			    "the job in a fresh folder)");
		return c == 'w' ? workdir(over, arg)
				: over_set(over, NULL, "scratch", json_true());
	case SPECOPT_EXPORT:
		return export_option(over, arg);
	case 't':
		return parsed_option(over, NULL, "timeout", "--timeout", arg,
		    parse_duration(arg, &v));
	case SPECOPT_GRACE:
		return parsed_option(over, NULL, "grace", "--grace", arg,
		    parse_duration(arg, &v));
	case 'r':
		return int_option(
		    over, NULL, "retries", "--retries", arg, 0, 1000);
	case SPECOPT_RETRY_ON:
		return retry_on(over, arg);
	case 'p':
		return int_option(
		    over, NULL, "priority", "--priority", arg, -1000, 1000);
	case 'Q':
		return over_set(over, NULL, "queue", json_string(arg));
	case 'l':
		return over_pair(over, "labels", "--label", arg);
	case SPECOPT_CPU:
		return parsed_option(
		    over, "resources", "cpu", "--cpu", arg, parse_cpu(arg, &v));
	case SPECOPT_MEMORY:
		return parsed_option(over, "resources", "memory", "--memory",
		    arg, parse_size(arg, &size));
	case SPECOPT_DISK:
		return parsed_option(over, "resources", "disk", "--disk", arg,
		    parse_size(arg, &size));
	case SPECOPT_GPU:
		return int_option(
		    over, "resources", "gpu", "--gpu", arg, 0, 1024);
	case SPECOPT_MAX_FILE:
		return parsed_option(over, "output", "max_file", "--max-file",
		    arg, parse_size(arg, &size));
	case SPECOPT_MAX_RETURN:
		if (parse_size(arg, &size) == 0 && size > SPEC_MAX_RETURN)
			return error_set(EX_USAGE,
			    "--max-return: at most 1MiB, not '%s'", arg);
		return parsed_option(over, "output", "max_return",
		    "--max-return", arg, parse_size(arg, &size));
	case 'a':
		return over_append(over, "after", arg);
	case SPECOPT_AFTER_ANY:
		return over_append(over, "after_any", arg);
	case 'H':
		return over_set(over, NULL, "hold", json_true());
	case SPECOPT_AT:
		return parsed_option(over, NULL, "at", "--at", arg,
		    parse_time(arg, parse_now_ms(), 1, &v));
	case 'k':
		return over_set(over, NULL, "key", json_string(arg));
	case SPECOPT_NOTIFY:
		if (strncmp(arg, "http://", 7) != 0 &&
		    strncmp(arg, "https://", 8) != 0)
			return error_set(EX_USAGE,
			    "--notify: '%s' is not an http or https URL", arg);
		return over_set(over, NULL, "notify", json_string(arg));
	case SPECOPT_IMAGE:
		if (*arg == '-' || *arg == '\0')
			return error_set(EX_USAGE,
			    "--image: '%s' is not an image name", arg);
		return over_set(over, "container", "image", json_string(arg));
	}
	return 0;
}
