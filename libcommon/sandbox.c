#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "sandbox.h"

/* An argv being built: every string its own; oom once any failed. */
struct args {
	char **v;
	size_t n, cap;
	int oom;
};

static void
add(struct args *a, const char *s)
{
	char *c;

	if (a->oom)
		return;
	if (a->n + 1 >= a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		char **v = reallocarray(a->v, cap, sizeof(*v));
		if (v == NULL) {
			a->oom = 1;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	if ((c = strdup(s)) == NULL) {
		a->oom = 1;
		return;
	}
	a->v[a->n++] = c;
	a->v[a->n] = NULL;
}

static void __attribute__((format(printf, 2, 3)))
addf(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1) {
		a->oom = 1;
		return;
	}
	add(a, s);
	free(s);
}

void
sandbox_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static const char *
str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int
sandbox_which(const char *name, const char *path, char *buf, size_t len)
{
	const char *p = path, *end;
	struct stat sb;
	size_t n;

	if (strchr(name, '/') != NULL) {
		if ((n = strlen(name)) >= len)
			return -1;
		memcpy(buf, name, n + 1);
		return stat(name, &sb) == 0 && S_ISREG(sb.st_mode) &&
			access(name, X_OK) == 0
		    ? 0
		    : -1;
	}
	for (;; p = end + 1) {
		end = strchr(p, ':');
		n = end ? (size_t)(end - p) : strlen(p);
		/* An empty entry is the current directory. */
		if ((int)snprintf(buf, len, "%.*s/%s", (int)(n ? n : 1),
			n ? p : ".", name) < (int)len &&
		    stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(buf, X_OK) == 0)
			return 0;
		if (end == NULL)
			return -1;
	}
}

enum sandbox_kind
sandbox_kind(json_t *spec, const char *engine, int sandbox)
{
	if (json_object_get(spec, "container") != NULL)
		return engine != NULL && strcmp(engine, "host") == 0
		    ? SANDBOX_HOST
		    : SANDBOX_ENGINE;
	return sandbox || json_is_true(json_object_get(spec, "sandbox"))
	    ? SANDBOX_HOST
	    : SANDBOX_NONE;
}

/* 1 when path is dir or inside it. */
static int
under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/' || n == 1);
}

/* Where a bind's source is on the host: a relative one in the work dir. */
static void
source_of(json_t *bind, const char *workdir, char *buf, size_t len)
{
	const char *s = str(bind, "source");

	if (*s == '/')
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%s/%s", workdir, s);
}

/* Whether an input of the spec is staged at rel, or rel is inside one. */
static int
input_at(json_t *spec, const char *rel)
{
	json_t *in;
	size_t i;

	json_array_foreach(json_object_get(spec, "inputs"), i, in)
	{
		const char *p = str(in, "path");
		if (p != NULL && under(rel, p))
			return 1;
	}
	return 0;
}

/*
 * Make folder rel in the work directory, a component at a time and never
 * through a link (its owner may change what is in it), each made given to
 * the owner.
 */
static int
make_folder(int dirfd, const char *rel, const struct sandbox_opts *o)
{
	char comp[4096], *c, *next;
	int fd = dup(dirfd), sub;

	snprintf(comp, sizeof(comp), "%s", rel);
	for (c = comp; fd != -1 && c != NULL; c = next) {
		if ((next = strchr(c, '/')) != NULL)
			*next++ = '\0';
		if (*c == '\0' || strcmp(c, ".") == 0)
			continue;
		if (mkdirat(fd, c, 0755) == 0 && o->as_owner &&
		    fchownat(fd, c, o->uid, o->gid, AT_SYMLINK_NOFOLLOW) == -1)
			break;
		/* What the last one is -- a file bound as a file -- is the
		 * job's. */
		if (next != NULL) {
			sub = openat(fd, c,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(fd);
			fd = sub;
		}
	}
	if (fd == -1 || c != NULL) {
		int e = errno;
		if (fd != -1)
			close(fd);
		return error_set(EX_CANTCREAT,
		    "cannot make bind source '%s' in the work directory: %s",
		    rel, strerror(e));
	}
	close(fd);
	return 0;
}

/* The folders of relative bind sources no input fills. */
static int
make_sources(json_t *spec, const struct sandbox_opts *o)
{
	json_t *b;
	size_t i;
	int dirfd, r = 0;

	if ((dirfd = open(o->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return error_set(EX_CANTCREAT,
		    "cannot open work directory '%s': %s", o->workdir,
		    strerror(errno));
	json_array_foreach(json_object_get(spec, "binds"), i, b)
	{
		const char *s = str(b, "source");
		if (*s != '/' && !input_at(spec, s) &&
		    (r = make_folder(dirfd, s, o)) == -1)
			break;
	}
	close(dirfd);
	return r;
}

/* The engine's program: docker, else podman, or the one named. */
static int
engine_find(const struct sandbox_opts *o, char *buf, size_t len)
{
	const char *e = o->engine != NULL ? o->engine : "auto";

	if (strcmp(e, "auto") == 0) {
		if (sandbox_which("docker", o->path, buf, len) == 0 ||
		    sandbox_which("podman", o->path, buf, len) == 0)
			return 0;
		return error_set(EX_UNAVAILABLE,
		    "no container engine: docker or podman not found "
		    "(exec-run --engine host runs it on the host)");
	}
	if (strcmp(e, "docker") != 0 && strcmp(e, "podman") != 0)
		return error_set(EX_UNAVAILABLE,
		    "no container engine: '%s' is not docker, podman or host",
		    e);
	if (sandbox_which(e, o->path, buf, len) == -1)
		return error_set(
		    EX_UNAVAILABLE, "no container engine: '%s' not found", e);
	return 0;
}

/* docker --gpus takes a CSV field: a list is one quoted value. */
static void
gpu_args(const char *gpus, int podman, struct args *a)
{
	const char *p;
	size_t n;

	if (!podman) {
		add(a, "--gpus");
		addf(a, "\"device=%s\"", gpus);
		return;
	}
	for (p = gpus; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		if (n == 0)
			continue;
		add(a, "--device");
		addf(a, "nvidia.com/gpu=%.*s", (int)n, p);
	}
}

/* Its limits and environment: each variable by name, no value. */
static void
engine_limits(
    json_t *spec, const struct sandbox_opts *o, int podman, struct args *a)
{
	json_t *res = json_object_get(spec, "resources"), *v;
	const char *k;
	size_t i;

	if ((v = json_object_get(res, "cpu")) != NULL &&
	    json_number_value(v) > 0)
		addf(a, "--cpus=%.3f", json_number_value(v));
	if ((v = json_object_get(res, "memory")) != NULL &&
	    json_integer_value(v) > 0)
		addf(a, "--memory=%lld", (long long)json_integer_value(v));
	if (o->gpus != NULL && *o->gpus != '\0')
		gpu_args(o->gpus, podman, a);
	json_object_foreach(json_object_get(spec, "env"), k, v)
	{
		add(a, "-e");
		add(a, k);
	}
	json_array_foreach(json_object_get(spec, "worker_env"), i, v)
	{
		/* NAME=VAR is in the task's environment as NAME. */
		const char *s = json_string_value(v), *eq = strchr(s, '=');
		add(a, "-e");
		if (eq != NULL)
			addf(a, "%.*s", (int)(eq - s), s);
		else
			add(a, s);
	}
}

static int
engine_args(json_t *spec, const struct sandbox_opts *o, struct args *a)
{
	json_t *c = json_object_get(spec, "container"), *b, *v;
	json_t *entry = json_object_get(c, "entrypoint");
	const char *net = str(spec, "network"), *image = str(c, "image");
	const char *shell = str(spec, "shell"), *slash;
	char exe[4096], src[4096];
	size_t i;
	int podman;

	if (engine_find(o, exe, sizeof(exe)) == -1)
		return -1;
	slash = strrchr(exe, '/');
	podman = strcmp(slash ? slash + 1 : exe, "podman") == 0;
	if (*image == '-')
		return error_set(EX_DATAERR,
		    "container image '%s' is not an image name", image);
	add(a, exe);
	add(a, "run");
	add(a, "--rm");
	add(a, "--init");
	add(a,
	    net != NULL && strcmp(net, "full") == 0 ? "--network=host"
						    : "--network=none");
	if (str(c, "workdir") != NULL)
		addf(a, "--workdir=%s", str(c, "workdir"));
	json_array_foreach(json_object_get(spec, "binds"), i, b)
	{
		source_of(b, o->workdir, src, sizeof(src));
		if (strchr(src, ':') != NULL || strchr(str(b, "target"), ':'))
			return error_set(EX_DATAERR,
			    "bind '%s': %s -v takes no path holding ':'", src,
			    podman ? "podman" : "docker");
		add(a, "-v");
		addf(a, "%s:%s%s", src, str(b, "target"),
		    json_is_true(json_object_get(b, "read_only")) ? ":ro" : "");
	}
	engine_limits(spec, o, podman, a);
	/* A shell string runs as the entrypoint sh -c S. */
	if (shell != NULL || json_array_size(entry) > 0) {
		add(a, "--entrypoint");
		add(a,
		    shell ? "sh" : json_string_value(json_array_get(entry, 0)));
	}
	add(a, image);
	if (shell != NULL) {
		add(a, "-c");
		add(a, shell);
		return 0;
	}
	for (i = 1; i < json_array_size(entry); i++)
		add(a, json_string_value(json_array_get(entry, i)));
	json_array_foreach(json_object_get(spec, "command"), i, v)
	    add(a, json_string_value(v));
	return 0;
}

static int
not_made_by_bwrap(const struct dirent *e)
{
	static const char *skip[] = {".", "..", "proc", "dev", "tmp", NULL};

	for (int i = 0; skip[i] != NULL; i++)
		if (strcmp(e->d_name, skip[i]) == 0)
			return 0;
	return 1;
}

/* The host's root, entry by entry, read-only, on bwrap's own root. */
static int
root_args(struct args *a)
{
	struct dirent **names;
	char path[512], link[4096];
	ssize_t len;
	int n;

	if ((n = scandir("/", &names, not_made_by_bwrap, alphasort)) == -1)
		return error_set(
		    EX_OSERR, "sandbox: cannot read '/': %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/%.500s", names[i]->d_name);
		free(names[i]);
		if ((len = readlink(path, link, sizeof(link) - 1)) >= 0) {
			link[len] = '\0';
			add(a, "--symlink");
		} else
			add(a, "--ro-bind-try");
		add(a, len >= 0 ? link : path);
		add(a, path);
	}
	free(names);
	return 0;
}

/*
 * Whether path is there in the sandbox without a mount made for it:
 * inside a bind's target (but self's), the host's outside the private
 * /tmp, or the work directory's.
 */
static int
shown(
    const char *path, json_t *spec, const struct sandbox_opts *o, json_t *self)
{
	struct stat sb;
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(spec, "binds"), i, b)
	{
		if (b != self && under(path, str(b, "target")))
			return 1;
	}
	if (under(path, "/tmp") && !under(path, o->workdir))
		return strspn(path + 4, "/") == strlen(path + 4);
	return stat(path, &sb) == 0;
}

/*
 * Whether bwrap can have a mount at target: it is there, or bwrap may make
 * it -- in the private /tmp, the work directory, or a top folder the host
 * has not (on bwrap's root).  In a folder of the host's, read-only, not.
 */
static int
makeable(const char *target, json_t *spec, const struct sandbox_opts *o,
    json_t *self)
{
	char top[4096];
	struct stat sb;

	if (shown(target, spec, o, self) || under(target, "/tmp") ||
	    under(target, o->workdir))
		return 1;
	snprintf(top, sizeof(top), "/%.*s", (int)strcspn(target + 1, "/"),
	    target + 1);
	if (lstat(top, &sb) == -1 && errno == ENOENT)
		return 1;
	return error_set(EX_DATAERR,
	    "sandbox: cannot bind at '%s': the host has no such folder, and "
	    "its '%s' is read-only in the sandbox (only a top folder such as "
	    "'/inputs' is made)",
	    target, top);
}

/* The spec's binds, and the work directory at a container's workdir. */
static int
bind_args(json_t *spec, const struct sandbox_opts *o, struct args *a)
{
	const char *wd = str(json_object_get(spec, "container"), "workdir");
	char src[4096];
	struct stat sb;
	json_t *b;
	size_t i;

	if (wd != NULL && !shown(wd, spec, o, NULL)) {
		if (makeable(wd, spec, o, NULL) != 1)
			return -1;
		add(a, "--bind");
		add(a, o->workdir);
		add(a, wd);
	}
	json_array_foreach(json_object_get(spec, "binds"), i, b)
	{
		const char *t = str(b, "target"), *s = str(b, "source");
		if (strspn(t, "/") == strlen(t))
			return error_set(EX_DATAERR,
			    "sandbox: cannot bind at '/': the root is the "
			    "host's");
		if (makeable(t, spec, o, b) != 1)
			return -1;
		source_of(b, o->workdir, src, sizeof(src));
		/* A relative one is made, or staged, before it runs. */
		if (*s == '/' && stat(src, &sb) == -1)
			return error_set(EX_DATAERR, "bind source '%s': %s",
			    src, strerror(errno));
		add(a,
		    json_is_true(json_object_get(b, "read_only")) ? "--ro-bind"
								  : "--bind");
		add(a, src);
		add(a, t);
	}
	return 0;
}

/*
 * What runs inside: the command, or sh -c for a shell string; for a
 * container on the host its entrypoint and command.
 */
static int
inner_args(json_t *spec, struct args *a)
{
	json_t *c = json_object_get(spec, "container"), *v;
	json_t *entry = json_object_get(c, "entrypoint");
	json_t *cmd = json_object_get(spec, "command");
	const char *shell = str(spec, "shell");
	size_t i;

	if (shell != NULL) {
		add(a, "/bin/sh");
		add(a, "-c");
		add(a, shell);
		return 0;
	}
	if (json_array_size(entry) == 0 && json_array_size(cmd) == 0)
		return error_set(EX_DATAERR,
		    "container image '%s' has no entrypoint to run on the host",
		    str(c, "image"));
	json_array_foreach(entry, i, v) add(a, json_string_value(v));
	json_array_foreach(cmd, i, v) add(a, json_string_value(v));
	return 0;
}

static int
bwrap_args(
    json_t *spec, const struct sandbox_opts *o, struct args *a, size_t *inner)
{
	const char *net = str(spec, "network");
	const char *wd = str(json_object_get(spec, "container"), "workdir");
	char exe[4096];

	if (sandbox_which("bwrap", o->path, exe, sizeof(exe)) == -1)
		return error_set(EX_UNAVAILABLE,
		    "sandbox: bwrap not found (Debian package bubblewrap)");
	add(a, exe);
	add(a, "--die-with-parent");
	add(a, "--unshare-pid");
	add(a, "--unshare-ipc");
	add(a, "--unshare-uts");
	if (net == NULL || strcmp(net, "full") != 0)
		add(a, "--unshare-net");
	/* Root in it may not remount what it was given read-only. */
	add(a, "--cap-drop");
	add(a, "ALL");
	if (root_args(a) == -1)
		return -1;
	add(a, "--dev");
	add(a, "/dev");
	add(a, "--proc");
	add(a, "/proc");
	add(a, "--tmpfs");
	add(a, "/tmp");
	add(a, "--bind");
	add(a, o->workdir);
	add(a, o->workdir);
	if (bind_args(spec, o, a) == -1)
		return -1;
	add(a, "--remount-ro");
	add(a, "/");
	add(a, "--chdir");
	add(a, wd != NULL ? wd : o->workdir);
	add(a, "--");
	*inner = a->n;
	return inner_args(spec, a);
}

char **
sandbox_argv(json_t *spec, const struct sandbox_opts *o, size_t *inner)
{
	struct args a = {0};
	int r;

	*inner = 0;
	r = sandbox_kind(spec, o->engine, o->sandbox) == SANDBOX_ENGINE
	    ? engine_args(spec, o, &a)
	    : bwrap_args(spec, o, &a, inner);
	if (r == 0 && a.oom)
		r = error_set(EX_OSERR, "out of memory");
	/* Its folders, once it is known to run. */
	if (r == 0)
		r = make_sources(spec, o);
	if (r == -1) {
		sandbox_free(a.v);
		return NULL;
	}
	return a.v;
}
