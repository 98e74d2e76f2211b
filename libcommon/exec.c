#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "dirs.h"
#include "error.h"
#include "exec.h"
#include "parse.h"
#include "sandbox.h"
#include "spec.h"
#include "utf8.h"

extern char **environ;

/*
 * One output stream: pipe in, file out, summary kept.  The summary of an
 * output longer than the return limit is its head and its tail (where a
 * traceback is), the tail kept in a ring, so memory stays flat.
 */
struct stream {
	int fd; /* our end of the pipe, -1 at EOF */
	int file; /* results/<task>/stdout or stderr */
	int echo; /* our own stdout/stderr for passthrough, or -1 */
	char tag; /* 'o' or 'e', in the order file */
	uint64_t written, max_file;
	uint64_t total; /* bytes read from the pipe */
	char *sum; /* the head: first head_max bytes; then the summary */
	size_t sum_len, max_return, head_max;
	char *ring; /* the last ring_max bytes read after the head */
	size_t ring_max, ring_len, ring_at;
	int truncated; /* the file or the summary was cut */
	int broken; /* errno: ours could not be written, echo and capture
		       stopped */
	int file_errno; /* the file could not be written: no more is */
	int sum_cut; /* the summary holds less than was printed */
	uint64_t unordered; /* bytes in the file before the order file */
};

/* What /proc/PID/stat says of a process. */
struct pstat {
	char state; /* 'Z' for a zombie */
	long pgrp, sid, rss;
};

static int proc_stat(const char *name, struct pstat *ps);

struct kin;
static int kin_new(struct exec *x, const int *fds);
static void kin_started(struct exec *x);

/* Resident memory is sampled this often where no cgroup holds it. */
#define RSS_EVERY_MS 200

struct exec {
	pid_t pid;
	int reaped;
	int wstatus;
	struct rusage ru;
	struct stream out, err;
	int64_t deadline; /* timeout; 0 for none */
	int64_t kill_at; /* SIGKILL after SIGTERM; 0 when not sent */
	int64_t grace;
	const char *why; /* "timed_out" or "cancelled" once stopped */
	char *results;
	struct exec_result res;
	int exec_errno; /* the child could not set up or exec: its errno */
	int stage; /* what failed: SETUP_EXEC, SETUP_WORKDIR, SETUP_CGROUP */
	char task[64]; /* JOBKIT_TASK_ID, to know its strays by */
	int told_pipe; /* SIGPIPE sent for a reader gone */
	char *workdir; /* the spec's, for messages; NULL for a fresh one */
	char program[256]; /* argv[0], for messages */
	int done;
	int written; /* exitCode and result.json, once */
	struct cgroup *cg; /* the task's cgroup v2 group, or NULL */
	struct exec *next_live; /* in live, while its leader is not reaped */
	struct kin *kin; /* what is known of its processes, till it ends */
	int64_t rss_limit; /* bytes, watched from /proc; 0 for none */
	int64_t rss_next; /* when to sample it next */
	int64_t rss, rss_over; /* the last sample; the one over the limit */
	int results_errno; /* what writing the results failed with */
	int as_owner; /* running as another user: */
	uid_t uid;
	gid_t gid;
	char owner[64];
	int dirfd; /* the task's results folder */
	int staging; /* run under the stager: read staged.json */
	char stage_arg[16]; /* its descriptor, as an argument */
	char refused[400]; /* why it may not run so (SETUP_SANDBOX) */
	int order; /* results/<task>/order; ORDER_NONE until both streams
		      wrote, ORDER_FAILED once it could not be written */
};

#define ORDER_NONE (-1)
#define ORDER_FAILED (-2)

/*
 * Below this return limit a summary is only the head: a marker and a tail
 * would leave too little of either.
 */
#define SUM_SPLIT_MIN 64

/* The tasks whose leader runs: our children that are no strays. */
static struct exec *live;
/* /dev/null, opened once: every task's standard input. */
static int devnull = -1;

static void
live_remove(struct exec *x)
{
	for (struct exec **p = &live; *p != NULL; p = &(*p)->next_live)
		if (*p == x) {
			*p = x->next_live;
			return;
		}
}

/* Children that are no task's: spared by the stray hunt. */
static pid_t spared[16];
static unsigned nspared;

void
exec_spare(pid_t pid)
{
	spared[nspared++ % (sizeof(spared) / sizeof(spared[0]))] = pid;
}

static int
is_leader(pid_t pid)
{
	for (struct exec *x = live; x != NULL; x = x->next_live)
		if (x->pid == pid)
			return 1;
	for (size_t i = 0; i < sizeof(spared) / sizeof(spared[0]); i++)
		if (spared[i] == pid)
			return 1;
	return 0;
}

/*
 * fstat(2) of a folder or file of the results, without its times: asking
 * for them makes the kernel (multigrain timestamps, Linux 6.13 on) stamp
 * its next change from the fine clock, which moves every file's clock on,
 * so that the WAL's next write dirties its inode and the commit's sync
 * writes the inode too: 3.7 block writes a worker's task instead of 2.7.
 * Type, mode, owner, links and inode are all anything here looks at; a
 * kernel or a sandbox without statx(2) gets fstat(2).
 */
static int
stat_fd(int fd, struct stat *sb)
{
	struct statx x;

	if (statx(fd, "", AT_EMPTY_PATH,
		STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID |
		    STATX_INO,
		&x) == -1)
		return fstat(fd, sb);
	memset(sb, 0, sizeof(*sb));
	sb->st_mode = x.stx_mode;
	sb->st_nlink = x.stx_nlink;
	sb->st_uid = x.stx_uid;
	sb->st_gid = x.stx_gid;
	sb->st_ino = x.stx_ino;
	return 0;
}

/*
 * The results root, opened: a real folder (not a link), which a worker
 * run by root uses only if it is root's and no one else may replace what
 * is in it (sticky if others may write it) -- it makes and hands over
 * folders there as root.  -1 with an error (EX_CANTCREAT) otherwise.
 */
static int
results_root(const char *dir)
{
	struct stat sb;
	int fd;

	/* A user's own link to a bigger disk is theirs to follow. */
	if ((fd = open(dir,
		 O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		     (geteuid() == 0 ? O_NOFOLLOW : 0))) == -1) {
		int e = errno;

		error_set(EX_CANTCREAT, "cannot use results folder '%s': %s",
		    dir, e == ELOOP ? "it is a link" : strerror(e));
		errno = e;
		return -1;
	}
	if (stat_fd(fd, &sb) == -1 ||
	    (geteuid() == 0 &&
		(sb.st_uid != 0 ||
		    ((sb.st_mode & 022) && !(sb.st_mode & S_ISVTX))))) {
		close(fd);
		return error_set(EX_CANTCREAT,
		    "cannot use results folder '%s': a worker run by root "
		    "writes only in a folder of root's that no one else may "
		    "change",
		    dir);
	}
	return fd;
}

/*
 * The results root a root worker makes lets each owner through to the
 * task folders it gives them; in a folder every user may write (sticky,
 * as a shared database's), every user may make task folders in it too, but
 * remove none but their own.
 */
static void
results_root_mode(int fd, const char *dir, int made)
{
	char parent[4096], *slash;
	struct stat sb;

	if (!made) {
		/* One made 0700 before root ran others' jobs here. */
		if (stat_fd(fd, &sb) == 0 && (sb.st_mode & 0011) != 0011)
			fchmod(fd, (sb.st_mode & 07777) | 0011);
		return;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) == NULL)
		snprintf(parent, sizeof(parent), ".");
	else
		slash[slash == parent] = '\0';
	fchmod(fd,
	    stat(parent, &sb) == 0 && (sb.st_mode & 01002) == 01002 ? 01777
								    : 0711);
}

int
exec_results_ready(const char *dir)
{
	struct stat sb;
	int made = lstat(dir, &sb) == -1 && errno == ENOENT, fd;

	if (dirs_make(dir, 0700, 0, NULL, 0) == -1)
		return error_set(EX_CANTCREAT,
		    "cannot create results folder '%s': %s", dir,
		    strerror(errno));
	if (lstat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode) &&
	    !S_ISLNK(sb.st_mode))
		return error_set(EX_CANTCREAT,
		    "cannot create results folder '%s': %s", dir,
		    strerror(ENOTDIR));
	if ((fd = results_root(dir)) == -1)
		return -1;
	if (geteuid() == 0)
		results_root_mode(fd, dir, made);
	close(fd);
	if (access(dir, W_OK | X_OK) == -1)
		return error_set(EX_CANTCREAT,
		    "cannot create results folder '%s': %s", dir,
		    strerror(errno));
	return 0;
}

/*
 * A file of the task's results, its owner's, opened in the task's folder
 * as root, in a folder its owner may change: never through a link, never
 * blocking on a FIFO, and emptied only once it is known to be a file of
 * this task's own -- not a hard link to another.
 */
static int
open_result(const struct exec *x, const char *name)
{
	struct stat sb;
	int fd;

	/* A file made here anew is ours, alone and empty: nothing to check
	 * (O_EXCL follows no link and opens no FIFO). */
	fd = openat(
	    x->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd != -1) {
		if (x->as_owner && fchown(fd, x->uid, x->gid) == -1) {
			close(fd);
			errno = EPERM;
			return -1;
		}
		return fd;
	}
	if (errno != EEXIST)
		return -1;
	fd = openat(x->dirfd, name,
	    O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == ENXIO || errno == ELOOP)
			errno = EPERM; /* a FIFO, a link */
		return -1;
	}
	if (stat_fd(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_nlink != 1 ||
	    (sb.st_uid != geteuid() && !(x->as_owner && sb.st_uid == x->uid)) ||
	    (x->as_owner && fchown(fd, x->uid, x->gid) == -1) ||
	    ftruncate(fd, 0) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static int64_t
spec_ms(json_t *spec, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(spec, key);

	return v ? (int64_t)(json_number_value(v) * 1000) : dflt;
}

static uint64_t
spec_bytes(json_t *obj, const char *key, uint64_t dflt)
{
	json_t *v = json_object_get(obj, key);

	return v ? (uint64_t)json_integer_value(v) : dflt;
}

/* argv for the spec: its command, or sh -c for a shell string. */
static char **
build_argv(json_t *spec)
{
	json_t *cmd = json_object_get(spec, "command"), *a;
	char **argv;
	size_t i, n = cmd ? json_array_size(cmd) : 3;

	if ((argv = calloc(n + 1, sizeof(*argv))) == NULL)
		return NULL;
	if (cmd == NULL) {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] =
		    (char *)json_string_value(json_object_get(spec, "shell"));
		return argv;
	}
	json_array_foreach(cmd, i, a) argv[i] = (char *)json_string_value(a);
	return argv;
}

/*
 * What the child needs, all made by the parent: the child is a vfork(2)
 * child sharing our memory until it execs, so it may not allocate, and
 * touches nothing of ours (a fork would copy the page tables and make
 * every page we write afterwards fault: the costliest part of a short task).
 */
struct spawn {
	char **argv;
	char **envp;
	const char *path; /* PATH to search, from the task's environment */
	const char *workdir;
	int in; /* /dev/null, ours and kept open, or -1 */
	int out, err;
	/* What the child could not do and its errno, written in our memory
	 * (the child shares it until it execs), read once vfork returns. */
	volatile int *report;
	rlim_t cpu_seconds; /* cpu cores x timeout, or RLIM_INFINITY */
	int cgroup; /* cgroup.procs of the task's group to join, or -1 */
	pid_t parent; /* us: if we died before the child could know, it goes */
	int as_owner; /* become uid, gid and groups before exec */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	int stage; /* what to stage, for the stager (kept open), or -1 */
	int context; /* the packed context, for it, or -1 */
};

/* An environment being built: a later value of a name replaces it. */
struct envb {
	char **v;
	size_t n, cap;
};

static int
env_put(struct envb *e, const char *name, size_t nlen, const char *val)
{
	char *kv;
	size_t i;

	if (asprintf(&kv, "%.*s=%s", (int)nlen, name, val) == -1)
		return -1;
	for (i = 0; i < e->n; i++)
		if (strncmp(e->v[i], kv, nlen + 1) == 0) {
			free(e->v[i]);
			e->v[i] = kv;
			return 0;
		}
	if (e->n + 1 >= e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		char **v = reallocarray(e->v, cap, sizeof(*v));
		if (v == NULL) {
			free(kv);
			return -1;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = kv;
	e->v[e->n] = NULL;
	return 0;
}

static int
env_put_object(struct envb *e, json_t *obj)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
	{
		if (env_put(e, k, strlen(k), json_string_value(v)) == -1)
			return -1;
	}
	return 0;
}

/* The user's own variables, as su(1) and runuser(1) set them. */
static int
env_put_user(struct envb *e, const struct passwd *pw)
{
	return env_put(e, "HOME", 4, pw->pw_dir) == -1 ||
		env_put(e, "USER", 4, pw->pw_name) == -1 ||
		env_put(e, "LOGNAME", 7, pw->pw_name) == -1 ||
		env_put(e, "SHELL", 5,
		    *pw->pw_shell ? pw->pw_shell : "/bin/sh") == -1
	    ? -1
	    : 0;
}

/*
 * envp for the task: what the spec recorded of its submitter's ("export"),
 * or ours for a spec without one; those of ours it names (worker_env);
 * the owner's own variables when it runs as its owner; the spec's env over
 * those; then PWD and JOBKIT_*.
 */
static char **
build_envp(json_t *spec, const struct exec_opts *o, const struct passwd *pw,
    const char *workdir)
{
	json_t *exp = json_object_get(spec, "export"), *v;
	struct envb e = {0};
	char num[24], cwd[4096];
	size_t i;

	/* Never the worker's own environment for another user's job. */
	if (exp == NULL && pw == NULL) {
		for (char **p = environ; *p != NULL; p++) {
			const char *eq = strchr(*p, '=');
			if (eq != NULL &&
			    env_put(&e, *p, (size_t)(eq - *p), eq + 1) == -1)
				goto fail;
		}
	} else if (exp != NULL && env_put_object(&e, exp) == -1)
		goto fail;
	/* The worker's own variables the spec names (a node's secrets): of
	 * the worker's own user's jobs only. */
	json_array_foreach(
	    pw == NULL ? json_object_get(spec, "worker_env") : NULL, i, v)
	{
		/* NAME, or NAME=VAR: the worker's VAR as NAME. */
		const char *name = json_string_value(v), *val, *eq;
		if (name == NULL)
			continue;
		eq = strchr(name, '=');
		if ((val = getenv(eq ? eq + 1 : name)) != NULL &&
		    env_put(&e, name, eq ? (size_t)(eq - name) : strlen(name),
			val) == -1)
			goto fail;
	}
	/* Jobs it submits go where it came from, unless its env says. */
	if ((o->db != NULL && env_put(&e, "JOBKIT_DB", 9, o->db) == -1) ||
	    (pw != NULL && env_put_user(&e, pw) == -1) ||
	    env_put_object(&e, json_object_get(spec, "env")) == -1)
		goto fail;
	if (o->pip && env_put(&e, "JOBKIT_PIP", 10, "1") == -1)
		goto fail;
	/* The devices it was given, whatever its env says. */
	if (o->gpus != NULL &&
	    (env_put(&e, "CUDA_VISIBLE_DEVICES", 20, o->gpus) == -1 ||
		env_put(&e, "NVIDIA_VISIBLE_DEVICES", 22, o->gpus) == -1))
		goto fail;
	/* PWD is where it runs, as a shell that cd'd there would say. */
	if (*workdir != '/' && getcwd(cwd, sizeof(cwd)) != NULL) {
		char *abs;
		if (asprintf(&abs, "%s/%s", cwd, workdir) == -1)
			goto fail;
		int r = env_put(&e, "PWD", 3, abs);
		free(abs);
		if (r == -1)
			goto fail;
	} else if (env_put(&e, "PWD", 3, workdir) == -1)
		goto fail;
	snprintf(num, sizeof(num), "%lld", (long long)o->attempt);
	if (env_put(&e, "JOBKIT_JOB_ID", 13, o->job) == -1 ||
	    env_put(&e, "JOBKIT_TASK_ID", 14, o->task) == -1 ||
	    env_put(&e, "JOBKIT_ATTEMPT", 14, num) == -1)
		goto fail;
	return e.v;
fail:
	for (i = 0; i < e.n; i++)
		free(e.v[i]);
	free(e.v);
	return NULL;
}

static void
free_envp(char **envp)
{
	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

/* The value of name in envp, or NULL. */
static const char *
envp_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* execve(2), and a file without #! run by sh as execvp(3) does. */
static void
try_exec(const char *file, const struct spawn *c)
{
	size_t n = 0;

	execve(file, c->argv, c->envp);
	if (errno != ENOEXEC)
		return;
	while (c->argv[n] != NULL)
		n++;
	char *sh[n + 2];
	sh[0] = "sh";
	sh[1] = (char *)file;
	memcpy(sh + 2, c->argv + 1, n * sizeof(*sh)); /* with its NULL */
	execve("/bin/sh", sh, c->envp);
	errno = ENOEXEC;
}

/*
 * execvp(3) with an envp, as execvpe(3) does, but looking before it leaps:
 * a failed execve(2) costs far more than a stat(2) on each PATH entry.
 * Returns the errno to report.
 */
static int
spawn_exec(const struct spawn *c)
{
	const char *file = c->argv[0], *p = c->path, *end;
	char buf[4096];
	struct stat sb;
	int e = ENOENT;
	size_t len;

	if (strchr(file, '/') != NULL) {
		try_exec(file, c);
		return errno;
	}
	for (;; p = end + 1) {
		end = strchr(p, ':');
		len = end ? (size_t)(end - p) : strlen(p);
		/* An empty entry is the current directory. */
		if (len == 0)
			p = ".", len = 1;
		if (len + strlen(file) + 2 <= sizeof(buf)) {
			memcpy(buf, p, len);
			buf[len] = '/';
			strcpy(buf + len + 1, file);
			if (stat(buf, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
				try_exec(buf, c);
				if (errno != ENOENT)
					e = errno;
			}
		}
		if (end == NULL)
			return e;
	}
}

/* What the child could not do, reported to the parent with its errno. */
enum { SETUP_EXEC, SETUP_WORKDIR, SETUP_CGROUP, SETUP_OWNER, SETUP_SANDBOX };

static void
report_failure(const struct spawn *c, int stage, int e)
{
	c->report[0] = stage;
	c->report[1] = e;
}

/*
 * Become the task's owner: groups first, then gid, then uid, which drops
 * the right to change the others.  Raw system calls: glibc's wrappers may
 * signal threads of the parent we share memory with.
 */
static int
become_owner(const struct spawn *c)
{
	if (syscall(SYS_setgroups, (size_t)c->ngroups, c->groups) == -1 ||
	    syscall(SYS_setresgid, c->gid, c->gid, c->gid) == -1 ||
	    syscall(SYS_setresuid, c->uid, c->uid, c->uid) == -1)
		return -1;
	return 0;
}

/* In the vfork child: never returns. */
static void
child(const struct spawn *c)
{
	struct rlimit rl;
	sigset_t none;
	int e;

	setsid();
	/* Into the task's group before anything else is done. */
	if (c->cgroup != -1 && write(c->cgroup, "0", 1) != 1) {
		report_failure(c, SETUP_CGROUP, errno);
		_exit(125);
	}
	/* Ours is close-on-exec: at 0 already (we started without a
	 * stdin), it is made to stay. */
	if (c->in == 0)
		fcntl(0, F_SETFD, 0);
	else if (c->in != -1)
		dup2(c->in, 0);
	dup2(c->out, 1);
	dup2(c->err, 2);
	if (c->cpu_seconds != RLIM_INFINITY) {
		/* SIGXCPU at the budget, SIGKILL a second later. */
		rl.rlim_cur = c->cpu_seconds;
		rl.rlim_max = c->cpu_seconds + 1;
		setrlimit(RLIMIT_CPU, &rl);
	}
	if (c->as_owner && become_owner(c) == -1) {
		report_failure(c, SETUP_OWNER, errno);
		_exit(125);
	}
	/*
	 * If we die, even by SIGKILL, the task goes too: it will be found
	 * lost and may run again, and must not run twice at once.  Set after
	 * the change of user, which clears it; and if we died before it was
	 * set, our pid is no longer its parent's.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != c->parent)
		_exit(125);
	/* Our own handlers table (no CLONE_SIGHAND): the parent's stays. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(c->workdir) == -1) {
		report_failure(c, SETUP_WORKDIR, errno);
		_exit(125);
	}
	/* Our copy of the descriptor table: the parent's keeps its flag. */
	if (c->stage != -1)
		fcntl(c->stage, F_SETFD, 0);
	if (c->context != -1)
		fcntl(c->context, F_SETFD, 0);
	e = spawn_exec(c);
	report_failure(c, SETUP_EXEC, e);
	_exit(e == ENOENT ? 127 : 126);
}

/* Kept apart so that nothing of exec_start() lives across vfork(). */
static pid_t __attribute__((noinline)) spawn(const struct spawn *c)
{
	pid_t pid = vfork();

	if (pid == 0)
		child(c);
	return pid;
}

static void
stream_init(struct stream *s, int fd, int file, int echo, uint64_t max_file,
    size_t max_return)
{
	s->fd = fd;
	s->file = file;
	s->echo = echo;
	s->max_file = max_file;
	/* A spec stored before the bound was checked is held to it too. */
	s->max_return =
	    max_return < SPEC_MAX_RETURN ? max_return : SPEC_MAX_RETURN;
	s->head_max =
	    s->max_return < SUM_SPLIT_MIN ? s->max_return : s->max_return / 2;
	s->ring_max = s->max_return - s->head_max;
	s->sum = malloc(s->max_return + 1);
	s->ring = malloc(s->ring_max + 1);
	if (s->sum != NULL)
		s->sum[0] = '\0';
	if (s->ring == NULL) {
		free(s->sum);
		s->sum = NULL;
	}
	if (fd != -1)
		fcntl(fd, F_SETFL, O_NONBLOCK);
}

/* The user a root caller runs the task as. */
struct owner {
	struct passwd pw, *found;
	char buf[4096];
	gid_t *groups;
	int ngroups;
};

static int
owner_find(struct owner *ow, uid_t uid)
{
	int n = 32;
	gid_t *g;

	memset(ow, 0, sizeof(*ow));
	if (getpwuid_r(uid, &ow->pw, ow->buf, sizeof(ow->buf), &ow->found) !=
		0 ||
	    ow->found == NULL) {
		ow->found = NULL;
		return 0; /* gone: the task fails, saying so */
	}
	for (;;) {
		if ((g = reallocarray(ow->groups, (size_t)n, sizeof(*g))) ==
		    NULL)
			return error_set(EX_OSERR, "out of memory");
		ow->groups = g;
		if (getgrouplist(ow->pw.pw_name, ow->pw.pw_gid, g, &n) != -1)
			break;
	}
	ow->ngroups = n;
	return 0;
}

/*
 * The task's folder name in the results root: made anew, so that nothing
 * of anyone else's is taken for it.  What is found in its place (another
 * database's results, a user squatting on the name) is moved aside, never
 * followed or removed; where it may not be moved (another user's, in a
 * sticky folder) the task cannot have it.  Opened, or -1.
 */
static int
task_folder(int rootfd, const char *name)
{
	char aside[128];
	struct stat sb;
	int fd;

	if (mkdirat(rootfd, name, 0700) == -1) {
		if (errno != EEXIST)
			return -1;
		snprintf(aside, sizeof(aside), "%.64s.taken-%lld-%ld", name,
		    (long long)parse_now_ms(), (long)getpid());
		if (renameat(rootfd, name, rootfd, aside) == -1) {
			errno = EPERM;
			return -1;
		}
		if (mkdirat(rootfd, name, 0700) == -1)
			return -1;
	}
	if ((fd = openat(rootfd, name,
		 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (stat_fd(fd, &sb) == -1 || sb.st_uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/*
 * The task's results folder and its output files, its owner's; and the
 * work directory, the spec's or else a fresh one inside the results.
 * Each is made relative to the folder above it, never through a link, and
 * all before the task's folder is handed to its owner, whose processes
 * could otherwise put something in their place.
 */
static int
results_open(struct exec *x, json_t *spec, char *work, size_t len)
{
	const char *w = json_string_value(json_object_get(spec, "workdir"));
	char root[4096], *slash;
	int rootfd;

	snprintf(root, sizeof(root), "%s", x->results);
	if ((slash = strrchr(root, '/')) == NULL || slash[1] == '\0')
		return error_set(EX_CANTCREAT,
		    "cannot create results folder '%s': not a task's",
		    x->results);
	slash[slash == root] = '\0';
	/* Made when the worker started; made again if it has gone since. */
	if ((rootfd = results_root(root)) == -1 && errno == ENOENT) {
		if (dirs_make(root, 0700, 0, NULL, 0) == -1)
			return error_set(EX_CANTCREAT,
			    "cannot create results folder '%s': %s", root,
			    strerror(errno));
		rootfd = results_root(root);
	}
	if (rootfd == -1)
		return -1;
	x->dirfd = task_folder(rootfd, strrchr(x->results, '/') + 1);
	close(rootfd);
	/* One someone else put in its place is the job's end, not ours. */
	if (x->dirfd == -1)
		return error_set(errno == EPERM ? EX_NOPERM : EX_CANTCREAT,
		    "cannot create results folder '%s': %s", x->results,
		    errno == EPERM ? "it is someone else's, or there already"
				   : strerror(errno));
	x->out.file = open_result(x, "stdout");
	x->err.file = open_result(x, "stderr");
	if (x->out.file == -1 || x->err.file == -1)
		return error_set(EX_CANTCREAT,
		    "cannot write results in '%s': %s", x->results,
		    strerror(errno));
	if (w != NULL) {
		snprintf(work, len, "%s", w);
		if ((x->workdir = strdup(w)) == NULL)
			return error_set(EX_OSERR, "out of memory");
	} else {
		snprintf(work, len, "%s/work", x->results);
		if (mkdirat(x->dirfd, "work", 0700) == -1 ||
		    (x->as_owner &&
			fchownat(x->dirfd, "work", x->uid, x->gid,
			    AT_SYMLINK_NOFOLLOW) == -1))
			return error_set(EX_CANTCREAT,
			    "cannot create work folder '%s': %s", work,
			    strerror(errno));
	}
	if (x->as_owner && fchown(x->dirfd, x->uid, x->gid) == -1)
		return error_set(EX_CANTCREAT,
		    "cannot give results folder '%s' to '%s': %s", x->results,
		    x->owner, strerror(errno));
	return 0;
}

/*
 * A task that cannot start -- its owner is gone, its sandbox or engine is
 * missing, its program is not found -- ends at once, failed, as finish()
 * says by stage and e.
 */
static struct exec *
exec_not_started(struct exec *x, int stage, int e)
{
	stream_init(&x->out, -1, x->out.file, -1, 0, 0);
	stream_init(&x->err, -1, x->err.file, -1, 0, 0);
	if (x->out.sum == NULL || x->err.sum == NULL) {
		error_set(EX_OSERR, "out of memory");
		exec_free(x);
		return NULL;
	}
	x->reaped = 1;
	x->stage = stage;
	x->exec_errno = e;
	x->wstatus = 127 << 8; /* a program not found, as a shell says */
	return x;
}

static struct exec *
exec_new(const struct exec_opts *o)
{
	struct exec *x = calloc(1, sizeof(*x));

	if (x == NULL || (x->results = strdup(o->results)) == NULL) {
		free(x);
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	x->out.fd = x->err.fd = x->out.file = x->err.file = x->dirfd = -1;
	x->order = ORDER_NONE;
	x->out.tag = 'o';
	x->err.tag = 'e';
	snprintf(x->task, sizeof(x->task), "%s", o->task);
	x->as_owner = o->as_owner;
	x->uid = o->uid;
	snprintf(x->owner, sizeof(x->owner), "%s", o->owner ? o->owner : "?");
	return x;
}

static int write_all(int fd, const char *p, size_t n);

/*
 * Put argv (the command) in the sandbox or the container its spec asks
 * for: *own gets the strings, *argv a copy of the array.  0; 1 when the
 * task may not run so (x says why); -1 with an error.
 */
static int
isolate(struct exec *x, json_t *spec, const struct exec_opts *o,
    const char *workdir, char **envp, char ***argv, char ***own)
{
	const char *path = getenv("PATH"), *tpath = envp_get(envp, "PATH");
	char abs[8192], cwd[4096], found[4096], **nv;
	struct sandbox_opts so = {o->engine, o->sandbox, o->gpus, abs,
	    path ? path : "/usr/local/bin:/usr/bin:/bin", x->as_owner, x->uid,
	    x->gid};
	size_t inner, n = 0;

	if (*workdir != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		snprintf(abs, sizeof(abs), "%s/%s", cwd, workdir);
	else
		snprintf(abs, sizeof(abs), "%s", workdir);
	if ((*own = sandbox_argv(spec, &so, &inner)) == NULL) {
		if (error_status() == EX_OSERR)
			return -1;
		snprintf(x->refused, sizeof(x->refused), "%s", error_msg());
		x->stage = SETUP_SANDBOX;
		return 1;
	}
	snprintf(x->program, sizeof(x->program), "%s", (*own)[inner]);
	/* Not found is 127 here too, not bwrap's exit 1. */
	if (sandbox_kind(spec, o->engine, o->sandbox) == SANDBOX_HOST &&
	    strchr(x->program, '/') == NULL &&
	    sandbox_which(x->program,
		tpath ? tpath : "/usr/local/bin:/usr/bin:/bin", found,
		sizeof(found)) == -1) {
		x->stage = SETUP_EXEC;
		return 1;
	}
	while ((*own)[n] != NULL)
		n++;
	if ((nv = calloc(n + 1, sizeof(*nv))) == NULL)
		return error_set(EX_OSERR, "out of memory");
	memcpy(nv, *own, n * sizeof(*nv));
	free(*argv);
	*argv = nv;
	return 0;
}

/*
 * For a spec with inputs or outputs: argv becomes the stager's, around
 * the command, and what to stage is in a new memfd (*fd, else -1).
 */
static int
staging_of(struct exec *x, json_t *spec, const struct exec_opts *o,
    char ***argv, int *fd)
{
	json_t *in = json_object_get(spec, "inputs");
	json_t *out = json_object_get(spec, "outputs"), *what;
	char **nv, *text;
	size_t n = 0;

	*fd = -1;
	if (json_array_size(in) == 0 && json_array_size(out) == 0 &&
	    o->context <= 0)
		return 0;
	if (o->stager == NULL)
		return error_set(EX_UNAVAILABLE,
		    "cannot stage the job's data: no artifact-fetch beside "
		    "exec-run");
	what = json_pack("{s:O?, s:O?, s:s, s:O?}", "inputs", in, "outputs",
	    out, "results", x->results, "save_every",
	    json_object_get(spec, "save_every"));
	if (what != NULL && o->context > 0 &&
	    spec_set(what, "context",
		json_pack("{s:i, s:O}", "fd", o->context, "sha256",
		    json_object_get(spec, "context"))) == -1) {
		json_decref(what);
		what = NULL;
	}
	text = what != NULL ? json_dumps(what, JSON_COMPACT) : NULL;
	json_decref(what);
	while ((*argv)[n] != NULL)
		n++;
	if (text == NULL || (nv = calloc(n + 5, sizeof(*nv))) == NULL) {
		free(text);
		return error_set(EX_OSERR, "out of memory");
	}
	if ((*fd = memfd_create("jobkit-stage", MFD_CLOEXEC)) == -1 ||
	    write_all(*fd, text, strlen(text)) == -1 ||
	    lseek(*fd, 0, SEEK_SET) == -1) {
		error_set(EX_OSERR, "cannot start task: %s", strerror(errno));
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		free(text);
		free(nv);
		return -1;
	}
	free(text);
	snprintf(x->stage_arg, sizeof(x->stage_arg), "%d", *fd);
	nv[0] = (char *)o->stager;
	nv[1] = "--stage";
	nv[2] = x->stage_arg;
	nv[3] = "--";
	memcpy(nv + 4, *argv, (n + 1) * sizeof(*nv));
	free(*argv);
	*argv = nv;
	x->staging = 1;
	return 0;
}

/*
 * Hold the task c will start to the memory and cores its spec asks for
 * (none in a container: its limits are its engine's, not its client's).
 * A cgroup v2 group, where we may make one, holds it at every moment.
 * Else rlimits, which cannot hold a process to N cores but can hold it
 * to N cores on average over its timeout: that many CPU seconds; and
 * resident memory, watched (exec_step()): an address-space limit would
 * keep programs that reserve much and use little (Java, threads' stacks)
 * from starting at all.
 */
static void
confine(struct exec *x, json_t *spec, const struct exec_opts *o, int in_engine,
    int64_t timeout, struct spawn *c)
{
	json_t *res = json_object_get(spec, "resources");
	int64_t mem = json_integer_value(json_object_get(res, "memory"));
	double cpu = json_number_value(json_object_get(res, "cpu"));

	if (in_engine || (mem <= 0 && cpu <= 0))
		return;
	x->cg = cgroup_new(o->task, mem, (int64_t)llround(cpu * 1000));
	if (x->cg != NULL) {
		c->cgroup = cgroup_procs_fd(x->cg);
		return;
	}
	if (cpu > 0 && timeout > 0)
		c->cpu_seconds = (rlim_t)ceil(cpu * (double)timeout / 1000);
	x->rss_limit = mem > 0 ? mem : 0;
}

/* Read the task's stdout and stderr from out and err, as its spec and o
 * bound them.  Returns 0, or -1 without memory. */
static int
streams_open(
    struct exec *x, json_t *spec, const struct exec_opts *o, int out, int err)
{
	json_t *lim = json_object_get(spec, "output");

	stream_init(&x->out, out, x->out.file, o->passthrough ? 1 : -1,
	    o->max_file ? o->max_file
			: spec_bytes(lim, "max_file", EXEC_DEFAULT_MAX_FILE),
	    o->max_return
		? o->max_return
		: spec_bytes(lim, "max_return", EXEC_DEFAULT_MAX_RETURN));
	stream_init(&x->err, err, x->err.file, o->passthrough ? 2 : -1,
	    x->out.max_file, x->out.max_return);
	if (x->out.sum == NULL || x->err.sum == NULL)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

struct exec *
exec_start(json_t *spec, const struct exec_opts *o)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	char **argv = NULL, **envp = NULL, **own = NULL, workdir[4096];
	struct owner ow = {.found = NULL};
	struct exec *x;
	int stage = -1;
	/* The child's report of what it could not do: none unless it says. */
	volatile int report[2] = {-1, 0};

	if ((x = exec_new(o)) == NULL)
		return NULL;
	if (o->as_owner) {
		if (owner_find(&ow, o->uid) == -1)
			goto fail;
		if (ow.found == NULL)
			return exec_not_started(x, SETUP_OWNER, ENOENT);
		x->gid = ow.pw.pw_gid;
	}
	if (results_open(x, spec, workdir, sizeof(workdir)) == -1)
		goto fail;
	if ((envp = build_envp(spec, o, ow.found, workdir)) == NULL ||
	    (argv = build_argv(spec)) == NULL) {
		error_set(EX_OSERR, "out of memory");
		goto fail;
	}
	snprintf(x->program, sizeof(x->program), "%s", argv[0]);
	enum sandbox_kind kind = sandbox_kind(spec, o->engine, o->sandbox);
	int k = kind == SANDBOX_NONE
	    ? 0
	    : isolate(x, spec, o, workdir, envp, &argv, &own);
	if (k == -1)
		goto fail;
	if (k == 1) {
		free(argv);
		free_envp(envp);
		free(ow.groups);
		sandbox_free(own);
		return exec_not_started(
		    x, x->stage, x->stage == SETUP_EXEC ? ENOENT : EPERM);
	}
	if (devnull == -1)
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1) {
		error_set(EX_OSERR, "cannot start task: %s", strerror(errno));
		goto fail;
	}
	if (kin_new(x, (int[]){po[0], pe[0]}) == -1)
		goto fail;
	x->grace = o->grace_ms > 0
	    ? o->grace_ms
	    : spec_ms(spec, "grace", EXEC_DEFAULT_GRACE_MS);
	int64_t timeout =
	    o->timeout_ms > 0 ? o->timeout_ms : spec_ms(spec, "timeout", 0);
	if (staging_of(x, spec, o, &argv, &stage) == -1)
		goto fail;
	struct spawn c = {argv, envp, envp_get(envp, "PATH"), workdir, devnull,
	    po[1], pe[1], report, RLIM_INFINITY, -1, getpid(), o->as_owner,
	    o->uid, x->gid, ow.groups, ow.ngroups, stage,
	    x->staging && o->context > 0 ? o->context : -1};
	confine(x, spec, o, kind == SANDBOX_ENGINE, timeout, &c);
	if (c.path == NULL)
		c.path = "/usr/local/bin:/usr/bin:/bin";
	fflush(NULL);
	if ((x->pid = spawn(&c)) == -1) {
		error_set(EX_OSERR, "cannot start task: %s", strerror(errno));
		goto fail;
	}
	x->next_live = live;
	live = x;
	kin_started(x);
	if (stage != -1)
		close(stage);
	stage = -1;
	free_envp(envp);
	envp = NULL;
	free(ow.groups);
	ow.groups = NULL;
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	/* vfork returned: the child has exec'd, or said why it could not. */
	if (report[0] != -1) {
		x->stage = report[0];
		x->exec_errno = report[1];
	}
	if (streams_open(x, spec, o, po[0], pe[0]) == -1) {
		exec_free(x);
		free(argv);
		sandbox_free(own);
		return NULL;
	}
	int64_t now = parse_now_ms();
	if (timeout > 0)
		x->deadline = now + timeout;
	x->rss_next = now + RSS_EVERY_MS;
	free(argv);
	sandbox_free(own);
	return x;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] != -1)
			close(po[i]);
		if (pe[i] != -1)
			close(pe[i]);
	}
	free(argv);
	sandbox_free(own);
	free_envp(envp);
	free(ow.groups);
	if (stage != -1)
		close(stage);
	exec_free(x);
	return NULL;
}

pid_t
exec_pid(const struct exec *x)
{
	return x->pid;
}

int
exec_fds(const struct exec *x, int *fds, int max)
{
	int n = 0;

	if (x->out.fd != -1 && n < max)
		fds[n++] = x->out.fd;
	if (x->err.fd != -1 && n < max)
		fds[n++] = x->err.fd;
	return n;
}

int64_t
exec_deadline(const struct exec *x)
{
	int64_t d = -1;

	if (x->kill_at > 0)
		return x->kill_at;
	if (x->deadline > 0 && x->why == NULL)
		d = x->deadline;
	if (x->rss_limit > 0 && !x->reaped && x->rss_over == 0 &&
	    (d < 0 || x->rss_next < d))
		d = x->rss_next;
	return d;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			if (errno == EINTR)
				continue;
			/* Ours may be non-blocking (a parent's choice): wait. */
			if (errno == EAGAIN && poll(&pfd, 1, -1) >= 0)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Keep n bytes read in the summary: the head, then the ring. */
static void
stream_keep(struct stream *s, const char *buf, size_t n)
{
	size_t k = n < s->head_max - s->sum_len ? n : s->head_max - s->sum_len;

	memcpy(s->sum + s->sum_len, buf, k);
	s->sum_len += k;
	s->sum[s->sum_len] = '\0';
	buf += k;
	n -= k;
	if (n > 0 && s->ring_max == 0)
		s->truncated = s->sum_cut = 1;
	if (n > s->ring_max) {
		buf += n - s->ring_max;
		n = s->ring_max;
	}
	while (n > 0) {
		k = s->ring_max - s->ring_at < n ? s->ring_max - s->ring_at : n;
		memcpy(s->ring + s->ring_at, buf, k);
		s->ring_at = (s->ring_at + k) % s->ring_max;
		s->ring_len = s->ring_len + k > s->ring_max ? s->ring_max
							    : s->ring_len + k;
		buf += k;
		n -= k;
	}
}

/*
 * Note in the order file that n bytes of s went to its file, so that the
 * two streams can be shown interleaved as written (exec-run --logs
 * --both).  One append per read, not synced; it stops where it fails.
 * The file is made only once both streams have written: until then all
 * there is came from one, which its absence says (one record of it, the
 * first, covers what it wrote before).  Without it the output is still
 * whole, only not interleaved.
 */
static void
order_note(struct exec *x, struct stream *s, size_t n)
{
	struct stream *other = s == &x->out ? &x->err : &x->out;
	char rec[64];
	int len = 0;

	if (x->order == ORDER_FAILED || n == 0)
		return;
	if (x->order == ORDER_NONE && other->unordered == 0) {
		s->unordered += n;
		return;
	}
	if (x->order == ORDER_NONE) {
		if ((x->order = open_result(x, "order")) == -1) {
			x->order = ORDER_FAILED;
			return;
		}
		len = snprintf(rec, sizeof(rec), "%c %llu\n", other->tag,
		    (unsigned long long)other->unordered);
	}
	len += snprintf(
	    rec + len, sizeof(rec) - (size_t)len, "%c %zu\n", s->tag, n);
	if (write_all(x->order, rec, (size_t)len) == -1) {
		close(x->order);
		x->order = ORDER_FAILED;
	}
}

/*
 * Move what a stream has now.  Output its file cannot take (a full disk)
 * is still read, and the summary still kept, so that the task is not
 * stopped by a pipe it cannot write; the task ends failed (finish()).
 */
static void
stream_pump(struct exec *x, struct stream *s)
{
	char buf[65536];
	ssize_t n;
	size_t keep;

	while (s->fd != -1) {
		n = read(s->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(s->fd);
			s->fd = -1;
			return;
		}
		/*
		 * Where ours cannot be written (its reader went away, the disk
		 * is full), the job's next write fails as it would have on
		 * ours: we close our end of its pipe, and stop capturing it.
		 * (exec_step() sends the SIGPIPE its last write would have got.)
		 */
		if (s->echo != -1 && write_all(s->echo, buf, (size_t)n) == -1) {
			s->broken = errno;
			close(s->fd);
			s->fd = -1;
			s->echo = -1;
		}
		keep = (size_t)n;
		if (s->written + keep > s->max_file) {
			keep = (size_t)(s->max_file - s->written);
			s->truncated = 1;
		}
		if (keep > 0 && s->file_errno == 0 &&
		    write_all(s->file, buf, keep) == -1)
			s->file_errno = errno;
		if (s->file_errno == 0)
			order_note(x, s, keep);
		s->written += keep;
		s->total += (uint64_t)n;
		stream_keep(s, buf, (size_t)n);
	}
}

/*
 * Our children, from the kernel's list (CONFIG_PROC_CHILDREN, which
 * Debian's kernels have; without it no stray is found).
 */
static int
child_pids(pid_t *pids, int max)
{
	char path[64];
	int n = 0;
	long v;
	FILE *fp;

	snprintf(
	    path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (n < max && fscanf(fp, "%ld", &v) == 1)
		pids[n++] = (pid_t)v;
	fclose(fp);
	return n;
}

/*
 * What is known of a task's processes, kept past exec_free() for as long
 * as any of them may come to us: its ID and its output pipes (as /proc
 * names them), the sessions and groups its processes made (its leader's
 * first), and the pids of the children of its strays, which come to us as
 * each dies.  Only processes known so are ever signalled or reaped here.
 */
struct kin {
	char task[64];
	char pipes[2][32];
	int npipes;
	pid_t sids[16]; /* sessions and groups, all of them the task's */
	int nsids;
	pid_t pids[32];
	int npids;
	int ended; /* its leader is gone: the rest of it are strays */
	int pending; /* of the strays killed, how many are not gone yet */
	int found; /* the last hunt found some of it */
	struct kin *next;
};

static struct kin *kins;

/* A stray killed (pid), or a group (-pgid), not gone yet. */
struct stray {
	pid_t id;
	int64_t since;
	struct kin *k;
};

/* Past this a stray not gone (stuck in the kernel) is not waited for. */
#define STRAY_GIVE_UP_MS 5000
/* How often the caller looks again while strays are pending. */
#define STRAY_POLL_MS 10

static struct stray strays[64];
static int nstrays, hunt_due, nkilled;
static int64_t strays_looked;

static void
kin_add(pid_t *v, int *n, int max, pid_t pid)
{
	for (int i = 0; i < *n; i++)
		if (v[i] == pid)
			return;
	if (*n < max)
		v[(*n)++] = pid;
}

/* pid was reaped: its number may be another's next. */
static void
kin_forget(pid_t pid)
{
	for (struct kin *k = kins; k != NULL; k = k->next)
		for (int i = 0; i < k->npids; i++)
			if (k->pids[i] == pid)
				k->pids[i] = k->pids[--k->npids];
}

/* x's record, made before its leader starts: 0, or -1 with an error. */
static int
kin_new(struct exec *x, const int *fds)
{
	struct kin *k = calloc(1, sizeof(*k));
	struct stat sb;

	if (k == NULL)
		return error_set(EX_OSERR, "out of memory");
	snprintf(k->task, sizeof(k->task), "%s", x->task);
	for (int i = 0; i < 2; i++)
		if (fstat(fds[i], &sb) == 0)
			snprintf(k->pipes[k->npipes++], sizeof(k->pipes[0]),
			    "pipe:[%lu]", (unsigned long)sb.st_ino);
	k->next = kins;
	kins = k;
	x->kin = k;
	return 0;
}

/* Its leader's session (and group) is the task's. */
static void
kin_started(struct exec *x)
{
	kin_add(x->kin->sids, &x->kin->nsids, 16, x->pid);
}

static void
kin_free_settled(void)
{
	for (struct kin **p = &kins; *p != NULL;) {
		struct kin *k = *p;
		if (k->ended && k->pending == 0 && !k->found) {
			*p = k->next;
			free(k);
		} else
			p = &k->next;
	}
}

/* The value of JOBKIT_TASK_ID in the environment pid started with. */
static int
env_task(pid_t pid, char *task, size_t len)
{
	char path[64], *var = NULL;
	size_t cap = 0;
	int yes = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (!yes && getdelim(&var, &cap, '\0', fp) > 0)
		if ((yes = strncmp(var, "JOBKIT_TASK_ID=", 15) == 0))
			snprintf(task, len, "%s", var + 15);
	free(var);
	fclose(fp);
	return yes;
}

/* The task whose output pipe pid holds, or NULL. */
static struct kin *
pipe_holder(pid_t pid)
{
	char path[64], link[64];
	struct kin *k, *yes = NULL;
	struct dirent *e;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return NULL;
	while (yes == NULL && (e = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%.16s", (int)pid,
		    e->d_name);
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		for (k = kins; k != NULL && yes == NULL; k = k->next)
			for (int i = 0; i < k->npipes; i++)
				if (strcmp(link, k->pipes[i]) == 0)
					yes = k;
	}
	closedir(d);
	return yes;
}

/*
 * The task a child of ours is of, or NULL: one in our own session never
 * is (a task starts its own; its processes cannot join ours); else by its
 * pid, its session or group, or -- alive -- the JOBKIT_TASK_ID it started
 * with or an output pipe it holds (its environment cleared).  *ps gets
 * what /proc says of it.
 */
static struct kin *
kin_of(pid_t pid, struct pstat *ps)
{
	static pid_t ours;
	char name[16], task[64];
	struct kin *k;

	if (ours == 0)
		ours = getsid(0);
	snprintf(name, sizeof(name), "%d", (int)pid);
	if (kins == NULL || proc_stat(name, ps) == -1 || ps->sid == ours)
		return NULL;
	for (k = kins; k != NULL; k = k->next) {
		for (int i = 0; i < k->npids; i++)
			if (k->pids[i] == pid)
				return k;
		for (int i = 0; i < k->nsids; i++)
			if (k->sids[i] == ps->sid || k->sids[i] == ps->pgrp)
				return k;
	}
	if (ps->state == 'Z')
		return NULL;
	if (env_task(pid, task, sizeof(task)))
		for (k = kins; k != NULL; k = k->next)
			if (strcmp(k->task, task) == 0)
				return k;
	return pipe_holder(pid);
}

static int stray_pending(pid_t pid);

static void
stray_add(pid_t id, struct kin *k)
{
	if (stray_pending(id) ||
	    nstrays == (int)(sizeof(strays) / sizeof(strays[0])))
		return; /* killed all the same, only not waited for */
	strays[nstrays++] = (struct stray){id, parse_now_ms(), k};
	k->pending++;
}

static int
stray_pending(pid_t pid)
{
	for (int i = 0; i < nstrays; i++)
		if (strays[i].id == pid)
			return 1;
	return 0;
}

/* The children of pid, recorded as k's: they come to us once it dies. */
static void
kin_add_children(struct kin *k, pid_t pid)
{
	char path[64];
	struct dirent *e;
	long v;
	FILE *fp;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children",
		    (int)pid, e->d_name);
		if ((fp = fopen(path, "re")) == NULL)
			continue;
		while (fscanf(fp, "%ld", &v) == 1)
			kin_add(k->pids, &k->npids, 32, (pid_t)v);
		fclose(fp);
	}
	closedir(d);
}

/*
 * SIGKILL a stray of k and its group, and note what else of k it tells
 * of: its session and group (made by a process of k, so all in them are
 * k's) and its children, read while it is stopped -- it can neither make
 * more nor die and hand them to us unknown first.  Never waits.
 */
static void
stray_kill(pid_t pid, const struct pstat *ps, struct kin *k)
{
	kill(pid, SIGSTOP);
	kin_add_children(k, pid);
	kill(pid, SIGKILL);
	stray_add(pid, k);
	if (kill(-(pid_t)ps->pgrp, SIGKILL) == 0)
		stray_add(-(pid_t)ps->pgrp, k);
	kin_add(k->sids, &k->nsids, 16, (pid_t)ps->sid);
	kin_add(k->sids, &k->nsids, 16, (pid_t)ps->pgrp);
	nkilled++;
}

/*
 * Look through our children for the processes of ended tasks: kill those
 * alive, reap those dead.  A running task's are left to it, and every
 * child that is no task's is left alone.
 */
static void
strays_hunt(void)
{
	pid_t pids[256];
	struct pstat ps;
	struct kin *k;
	int n;

	hunt_due = 0;
	if (kins == NULL)
		return;
	for (k = kins; k != NULL; k = k->next)
		k->found = 0;
	n = child_pids(pids, 256);
	for (int i = 0; i < n; i++) {
		if (is_leader(pids[i]) || stray_pending(pids[i]) ||
		    (k = kin_of(pids[i], &ps)) == NULL)
			continue;
		if (ps.state == 'Z') {
			if (waitpid(pids[i], NULL, WNOHANG) == pids[i])
				kin_forget(pids[i]);
		} else if (k->ended) {
			k->found = 1;
			stray_kill(pids[i], &ps, k);
		}
	}
	kin_free_settled();
}

/* Stray i is gone (or given up): the children it left are to be seen. */
static void
stray_gone(int i, int look)
{
	strays[i].k->pending--;
	strays[i] = strays[--nstrays];
	hunt_due |= look;
}

/*
 * The strays killed that are gone by now: reaped (their children are
 * ours now: look again), or groups left empty.  One that does not go is
 * given up after STRAY_GIVE_UP_MS.
 */
static void
strays_advance(int64_t now)
{
	strays_looked = now;
	for (int i = nstrays - 1; i >= 0; i--) {
		pid_t id = strays[i].id;
		int gone = id > 0 ? waitpid(id, NULL, WNOHANG) != 0
				  : kill(id, SIGKILL) == -1 && errno == ESRCH;
		if (id > 0 && gone)
			kin_forget(id);
		if (gone || now - strays[i].since > STRAY_GIVE_UP_MS)
			stray_gone(i, gone);
	}
}

/* A task's leader reaped: what is left of it is killed. */
static void
kin_ended(struct exec *x)
{
	if (x->kin == NULL)
		return;
	x->kin->ended = 1;
	/* Its group: SIGKILL until it is empty (its members are no
	 * children of ours to wait for). */
	if (kill(-x->pid, SIGKILL) == 0)
		stray_add(-x->pid, x->kin);
	x->kin = NULL;
	strays_hunt();
}

int
exec_kill_strays(int wait_ms)
{
	int64_t end = parse_now_ms() + wait_ms;
	int before = nkilled;

	strays_hunt();
	while (nstrays > 0 && parse_now_ms() < end) {
		usleep(1000);
		exec_reap_orphans();
	}
	return nkilled - before;
}

int64_t
exec_strays_due(void)
{
	return nstrays > 0 ? strays_looked + STRAY_POLL_MS : -1;
}

int
exec_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		return error_set(EX_OSERR, "signalfd: %s", strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return fd;
}

void
exec_reap_orphans(void)
{
	struct pstat ps;
	siginfo_t si;

	if (nstrays > 0)
		strays_advance(parse_now_ms());
	if (hunt_due)
		strays_hunt();
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 ||
		    si.si_pid == 0 || is_leader(si.si_pid))
			return; /* exec_step() reaps a leader */
		/* One that is no task's is its parent's to reap. */
		if (!stray_pending(si.si_pid) && kin_of(si.si_pid, &ps) == NULL)
			return;
		waitpid(si.si_pid, NULL, WNOHANG);
		kin_forget(si.si_pid);
		for (int i = nstrays - 1; i >= 0; i--)
			if (strays[i].id == si.si_pid)
				stray_gone(i, 1);
	}
}

/*
 * Whether the environment pid started with names task as its
 * JOBKIT_TASK_ID and, as its JOBKIT_DB, the database db is (the same
 * file, however named): task IDs repeat from one database to another.
 */
static int
names_task_of(
    pid_t pid, const char *task, const char *db, const struct stat *dbst)
{
	char path[64], *var = NULL;
	size_t cap = 0, tlen = strlen(task);
	int is_task = 0, is_db = 0;
	struct stat sb;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	while (getdelim(&var, &cap, '\0', fp) > 0) {
		if (strncmp(var, "JOBKIT_TASK_ID=", 15) == 0)
			is_task = strncmp(var + 15, task, tlen) == 0 &&
			    var[15 + tlen] == '\0';
		else if (strncmp(var, "JOBKIT_DB=", 10) == 0)
			is_db = strcmp(var + 10, db) == 0 ||
			    (dbst != NULL && stat(var + 10, &sb) == 0 &&
				sb.st_dev == dbst->st_dev &&
				sb.st_ino == dbst->st_ino);
	}
	free(var);
	fclose(fp);
	return is_task && is_db;
}

int
exec_kill_task(const char *task, const char *db)
{
	struct stat dbst;
	struct dirent *e;
	pid_t pid;
	int killed = 0, known = stat(db, &dbst) == 0;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    (pid = (pid_t)atol(e->d_name)) == getpid() ||
		    !names_task_of(pid, task, db, known ? &dbst : NULL))
			continue;
		if (getpgid(pid) == pid)
			kill(-pid, SIGKILL);
		if (kill(pid, SIGKILL) == 0)
			killed++;
	}
	closedir(d);
	return killed;
}

/* The state, group, session and resident pages of process name (a /proc
 * entry). */
static int
proc_stat(const char *name, struct pstat *ps)
{
	char path[64], buf[1024], *p, *e;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%.20s/stat", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp session ... rss": comm may hold
	 * anything, so fields are counted from its last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 3, p++; field <= 24; field++) {
		long v = strtol(p, &e, 10);
		if (field == 3) {
			while (*p == ' ')
				p++;
			ps->state = *p;
			e = p + 1; /* the state letter */
		} else if (e == p)
			return -1;
		if (field == 5)
			ps->pgrp = v;
		else if (field == 6)
			ps->sid = v;
		else if (field == 24)
			ps->rss = v;
		p = e;
	}
	return 0;
}

/* SIGKILL every process of session sid, and the group of its leader. */
static void
kill_session(pid_t sid)
{
	struct dirent *e;
	struct pstat ps;
	DIR *d;

	kill(-sid, SIGKILL);
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    proc_stat(e->d_name, &ps) == 0 && ps.sid == sid)
			kill((pid_t)atol(e->d_name), SIGKILL);
	closedir(d);
}

/*
 * The resident memory of every task watched, in one pass over /proc: a
 * process counts for the task whose session it is in (each task's leader
 * starts one), as Slurm's accounting gatherer sums it.  A task over its
 * limit is killed, all of it.
 */
static void
rss_sample(int64_t now)
{
	long page = sysconf(_SC_PAGESIZE);
	struct pstat ps;
	struct exec *w;
	struct dirent *e;
	DIR *d;

	for (w = live; w != NULL; w = w->next_live)
		w->rss = 0;
	if ((d = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    proc_stat(e->d_name, &ps) == -1)
			continue;
		for (w = live; w != NULL; w = w->next_live)
			if (w->rss_limit > 0 && w->pid == (pid_t)ps.sid) {
				w->rss += (int64_t)ps.rss * page;
				break;
			}
	}
	closedir(d);
	for (w = live; w != NULL; w = w->next_live) {
		if (w->rss_limit <= 0 || w->rss_over > 0)
			continue;
		w->rss_next = now + RSS_EVERY_MS;
		if (w->rss > w->rss_limit) {
			w->rss_over = w->rss;
			kill_session(w->pid);
		}
	}
}

void
exec_cancel(struct exec *x, const char *why)
{
	if (x->why != NULL || x->reaped || x->pid <= 0)
		return;
	x->why = why;
	kill(-x->pid, SIGTERM);
	x->kill_at = parse_now_ms() + x->grace;
}

/* The ring's bytes in the order read, into out (ring_len bytes). */
static void
ring_unroll(const struct stream *s, char *out)
{
	size_t first = s->ring_len < s->ring_max ? 0 : s->ring_at;

	memcpy(out, s->ring + first, s->ring_len - first);
	memcpy(out + s->ring_len - first, s->ring, first);
}

/*
 * The tail's last n bytes (at most) as valid UTF-8, starting on a
 * character, into out (room for n + 1); returns its length.
 */
static size_t
tail_clean(const char *in, size_t len, char *out, size_t n, int *cut)
{
	char *c = malloc(3 * len + 1);
	size_t clen, from = 0;

	if (c == NULL)
		return 0;
	/* Bytes of a character the ring began inside are left out. */
	while (
	    from < len && from < 3 && ((unsigned char)in[from] & 0xc0) == 0x80)
		from++;
	clen = utf8_clean(in + from, len - from, 1, c, 3 * len, cut);
	from = clen > n ? clen - n : 0;
	while (from < clen && ((unsigned char)c[from] & 0xc0) == 0x80)
		from++;
	if (from > 0)
		*cut = 1;
	memcpy(out, c + from, clen - from);
	out[clen - from] = '\0';
	free(c);
	return clen - from;
}

/*
 * The summary of an output longer than head and ring hold: the head, a
 * marker saying how many bytes are left out, and the tail, within the
 * return limit, into out (room for max_return + 1).
 */
static void
summary_split(struct stream *s, char *out)
{
	char mark[64], *tail = malloc(s->ring_len + 1);
	int mlen = snprintf(
	    NULL, 0, "\n[... %llu bytes ...]\n", (unsigned long long)s->total);
	size_t hb = (s->max_return - (size_t)mlen) / 2, tb, hl, tl;
	size_t hraw = s->sum_len < hb ? s->sum_len : hb, traw;

	tb = s->max_return - (size_t)mlen - hb;
	traw = s->ring_len < tb ? s->ring_len : tb;
	hl = utf8_clean(s->sum, hraw, 0, out, hb, &s->truncated);
	if (tail == NULL) {
		out[hl] = '\0';
		return;
	}
	ring_unroll(s, tail);
	tl = tail_clean(
	    tail + s->ring_len - traw, traw, tail, tb, &s->truncated);
	snprintf(mark, sizeof(mark), "\n[... %llu bytes ...]\n",
	    (unsigned long long)(s->total - hraw - traw));
	memcpy(out + hl, mark, strlen(mark));
	memcpy(out + hl + strlen(mark), tail, tl);
	out[hl + strlen(mark) + tl] = '\0';
	free(tail);
}

/* A summary is JSON text: valid UTF-8 with no NUL, still within limit. */
static void
clean_summary(struct stream *s)
{
	char *c = malloc(s->max_return + 1);
	char *all = malloc(s->max_return + 1);

	if (c == NULL || all == NULL) {
		free(c);
		free(all);
		s->sum[0] = '\0'; /* an empty summary, not an unstorable one */
		s->truncated = 1;
		return;
	}
	if (s->total > s->sum_len + s->ring_len && s->ring_max > 0) {
		s->truncated = s->sum_cut = 1;
		summary_split(s, c);
	} else {
		/* All that was read is in the head and the ring. */
		memcpy(all, s->sum, s->sum_len);
		ring_unroll(s, all + s->sum_len);
		utf8_clean(all, s->sum_len + s->ring_len, !s->sum_cut, c,
		    s->max_return, &s->truncated);
	}
	free(all);
	free(s->sum);
	s->sum = c;
}

/*
 * The results could not be written whole: the task fails, and is not run
 * again -- its command ran, and may have done its work.  One that timed
 * out or was cancelled keeps saying so.
 */
static void
results_failed(struct exec *x)
{
	struct exec_result *r = &x->res;
	size_t n = strlen(r->error);

	/* A task that timed out or was cancelled still says so, and may be
	 * retried: its command did not finish. */
	if (strcmp(r->state, "succeeded") != 0 &&
	    strcmp(r->state, "failed") != 0) {
		if (strstr(r->error, "; results: ") == NULL)
			snprintf(r->error + n, sizeof(r->error) - n,
			    "; results: %s", strerror(x->results_errno));
		return;
	}
	r->no_retry = 1;
	r->state = "failed";
	r->status = EX_IOERR;
	snprintf(r->error, sizeof(r->error), "results: %s",
	    strerror(x->results_errno));
}

/*
 * What the stager wrote of the inputs it fetched and the objects it
 * uploaded (staged.json, the task's own file: opened as such, bounded);
 * a staging failure is why the task failed.
 */
static void
read_staged(struct exec *x)
{
	struct exec_result *r = &x->res;
	size_t max = 1 << 20;
	char *buf;
	struct stat st;
	ssize_t n = 0, k;
	json_error_t e;
	int fd;

	fd = openat(x->dirfd, "staged.json",
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return;
	/* What it staged cannot go unsaid for want of memory: the results
	 * are not whole then (results_failed()). */
	if ((buf = malloc(max)) == NULL) {
		close(fd);
		if (x->results_errno == 0)
			x->results_errno = ENOMEM;
		return;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		while (n < (ssize_t)max - 1 &&
		    (k = read(fd, buf + n, max - 1 - (size_t)n)) > 0)
			n += k;
	close(fd);
	buf[n] = '\0';
	r->staged = json_loads(buf, 0, &e);
	free(buf);
	if (r->staged == NULL &&
	    json_error_code(&e) == json_error_out_of_memory &&
	    x->results_errno == 0)
		x->results_errno = ENOMEM;
	if (r->staged == NULL || !json_is_object(r->staged)) {
		json_decref(r->staged);
		r->staged = NULL;
		return;
	}
	const char *why =
	    json_string_value(json_object_get(r->staged, "error"));
	if (why != NULL && strcmp(r->state, "failed") == 0)
		snprintf(r->error, sizeof(r->error), "%s", why);
}

/* What a task that did not get to run its command (x->exec_errno says
 * why, x->stage where) ends as. */
static void
end_unstarted(struct exec *x, struct exec_result *r)
{
	int st = x->wstatus;

	if (x->stage == SETUP_OWNER) {
		/* Its command never ran; it never will, as another user. */
		r->state = "failed";
		r->status = 125;
		r->no_retry = 1;
		if (x->pid == 0)
			snprintf(r->error, sizeof(r->error),
			    "its owner '%s' (uid %u) no longer exists",
			    x->owner, (unsigned)x->uid);
		else
			snprintf(r->error, sizeof(r->error),
			    "cannot run as its owner '%s': %s", x->owner,
			    strerror(x->exec_errno));
	} else if (x->stage == SETUP_SANDBOX) {
		/* Never run without the isolation it asked for. */
		r->state = "failed";
		r->status = 125;
		snprintf(r->error, sizeof(r->error), "%s", x->refused);
	} else if (x->stage == SETUP_CGROUP) {
		r->state = "failed";
		r->status = 125;
		snprintf(r->error, sizeof(r->error),
		    "cannot join the task's cgroup: %s",
		    strerror(x->exec_errno));
	} else if (x->stage == SETUP_WORKDIR) {
		/* As env -C does: the job never started. */
		r->state = "failed";
		r->status = r->exit_code = 125;
		snprintf(r->error, sizeof(r->error),
		    "cannot enter work directory '%s': %s",
		    x->workdir ? x->workdir : "work", strerror(x->exec_errno));
	} else {
		r->state = "failed";
		r->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 127;
		snprintf(r->error, sizeof(r->error), "cannot run '%s': %s",
		    x->program,
		    x->exec_errno == ENOENT ? "command not found"
					    : strerror(x->exec_errno));
		r->status = r->exit_code;
	}
}

/* What a command that ran ends as, from its wait status. */
static void
end_status(struct exec_result *r, int st)
{
	if (WIFSIGNALED(st)) {
		r->signal = WTERMSIG(st);
		r->status = 128 + r->signal;
		r->state = "failed";
		if (r->signal == SIGXCPU)
			snprintf(r->error, sizeof(r->error),
			    "CPU limit exceeded (cpu x timeout seconds of "
			    "CPU time)");
		else
			snprintf(r->error, sizeof(r->error),
			    "killed by signal %d", r->signal);
	} else {
		r->exit_code = WEXITSTATUS(st);
		r->status = r->exit_code;
		r->state = r->exit_code == 0 ? "succeeded" : "failed";
		if (r->exit_code != 0)
			snprintf(r->error, sizeof(r->error), "exit status %d",
			    r->exit_code);
	}
}

/* What overrides the end: the memory it was killed at, a timeout, a cancel. */
static void
end_overrides(struct exec *x, struct exec_result *r)
{
	/* Whichever process of the task the kernel killed for memory (all
	 * of them, with memory.oom.group), that is why it failed. */
	if (x->cg != NULL && strcmp(r->state, "failed") == 0 &&
	    x->exec_errno == 0 && (r->oom = cgroup_oom_kills(x->cg) > 0))
		snprintf(r->error, sizeof(r->error),
		    "out of memory: killed at its memory limit (cgroup "
		    "memory.max)");
	if (x->rss_over > 0 && strcmp(r->state, "failed") == 0) {
		r->oom = 1;
		char used[32], limit[32];
		snprintf(r->error, sizeof(r->error),
		    "out of memory: RSS %s > limit %s",
		    parse_fmt_size((uint64_t)x->rss_over, used),
		    parse_fmt_size((uint64_t)x->rss_limit, limit));
	}
	if (x->why != NULL && strcmp(x->why, "timed_out") == 0) {
		r->state = "timed_out";
		r->status = 124;
		snprintf(r->error, sizeof(r->error), "timed out");
	} else if (x->why != NULL) {
		r->state = "cancelled";
		snprintf(r->error, sizeof(r->error), "cancelled");
	}
}

/* The task's result, from what it did and how it ended. */
static void
finish(struct exec *x)
{
	struct exec_result *r = &x->res;

	r->exit_code = -1;
	clean_summary(&x->out);
	clean_summary(&x->err);
	r->echo_errno = x->out.broken ? x->out.broken : x->err.broken;
	r->out = x->out.sum;
	r->err = x->err.sum;
	r->out_truncated = x->out.truncated;
	r->err_truncated = x->err.truncated;
	r->user_cpu = x->ru.ru_utime.tv_sec + x->ru.ru_utime.tv_usec / 1e6;
	r->system_cpu = x->ru.ru_stime.tv_sec + x->ru.ru_stime.tv_usec / 1e6;
	r->max_rss = (int64_t)x->ru.ru_maxrss * 1024;
	r->enforcement = x->cg != NULL ? "cgroup"
	    : x->rss_limit > 0	       ? "watch"
				       : "rlimit";
	if (x->exec_errno != 0)
		end_unstarted(x, r);
	else
		end_status(r, x->wstatus);
	end_overrides(x, r);
	if (x->staging)
		read_staged(x);
	if (x->results_errno == 0)
		x->results_errno =
		    x->out.file_errno ? x->out.file_errno : x->err.file_errno;
	if (x->results_errno != 0)
		results_failed(x);
}

int
exec_step(struct exec *x, int64_t now)
{
	pid_t p;

	if (x->done)
		return 1;
	stream_pump(x, &x->out);
	stream_pump(x, &x->err);
	/* The write we took from the job would have failed on our reader's
	 * pipe: SIGPIPE now (a job that ignores it gets EPIPE next). */
	if ((x->out.broken == EPIPE || x->err.broken == EPIPE) &&
	    !x->told_pipe && !x->reaped) {
		x->told_pipe = 1;
		kill(-x->pid, SIGPIPE);
	}
	if (!x->reaped && x->deadline > 0 && now >= x->deadline &&
	    x->why == NULL)
		exec_cancel(x, "timed_out");
	if (x->kill_at > 0 && now >= x->kill_at) {
		kill(-x->pid, SIGKILL);
		x->kill_at = 0;
	}
	if (x->rss_limit > 0 && !x->reaped && x->rss_over == 0 &&
	    now >= x->rss_next)
		rss_sample(now);
	if (!x->reaped) {
		while (
		    (p = wait4(x->pid, &x->wstatus, WNOHANG, &x->ru)) == -1 &&
		    errno == EINTR)
			;
		if (p == x->pid) {
			x->reaped = 1;
			live_remove(x);
			/* Nothing of the task outlives its leader: the group
			 * is killed here, or by kin_ended() for a task whose
			 * strays it hunts (one kill(2), not two). */
			if (x->kin == NULL)
				kill(-x->pid, SIGKILL);
			if (x->cg != NULL)
				cgroup_kill(x->cg);
			kin_ended(x);
		}
	}
	if (!x->reaped || x->out.fd != -1 || x->err.fd != -1)
		return 0;
	finish(x);
	x->done = 1;
	return 1;
}

/* Write a results file whole, or remove it; errno says why not. */
static int
write_result(const struct exec *x, const char *name, const char *text)
{
	int fd, e, r;

	if ((fd = open_result(x, name)) == -1)
		return -1;
	r = write_all(fd, text, strlen(text));
	e = errno;
	if (close(fd) == -1 && r == 0) {
		r = -1;
		e = errno;
	}
	if (r == -1) {
		unlinkat(x->dirfd, name, 0);
		errno = e;
	}
	return r;
}

/* result.json: as in the task's row, exit_code, signal and error when
 * there are (an error that is not UTF-8, cut inside a character, is left
 * out as jansson would).  NULL with an EX_OSERR error: out of memory. */
static char *
result_json(const struct exec_result *r)
{
	json_t *o = json_pack("{s:s}", "state", r->state);
	char *text = NULL;

	if (o == NULL ||
	    (r->exit_code >= 0 &&
		spec_set(o, "exit_code", json_integer(r->exit_code)) == -1) ||
	    (r->signal > 0 &&
		spec_set(o, "signal", json_integer(r->signal)) == -1) ||
	    (r->error[0] != '\0' && utf8_valid(r->error, strlen(r->error)) &&
		spec_set(o, "error", json_string_nocheck(r->error)) == -1) ||
	    json_object_update_new(o,
		json_pack("{s:b, s:b, s:f, s:f, s:I}", "stdout_truncated",
		    r->out_truncated, "stderr_truncated", r->err_truncated,
		    "user_cpu", r->user_cpu, "system_cpu", r->system_cpu,
		    "max_rss", (json_int_t)r->max_rss)) == -1 ||
	    (r->staged != NULL &&
		json_object_set(o, "staged", r->staged) == -1) ||
	    (text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10))) ==
		NULL)
		error_set(EX_OSERR, "out of memory");
	json_decref(o);
	return text;
}

/*
 * exitCode and result.json beside stdout and stderr, private like them.
 * If either cannot be written, the result says so, and both are written
 * again to say it too (as far as they can be).
 */
static void
write_result_files(struct exec *x)
{
	char num[16], *text;
	int ok = 1;

	for (int pass = 0; pass < 2; pass++) {
		snprintf(num, sizeof(num), "%d", x->res.status);
		text = result_json(&x->res);
		if (write_result(x, "exitCode", num) == -1 ||
		    (text != NULL &&
			write_result(x, "result.json", text) == -1))
			ok = 0;
		else if (text == NULL) {
			/* No memory to say it: the results are not whole. */
			ok = 0;
			errno = ENOMEM;
		}
		free(text);
		if (ok || x->res.no_retry)
			return;
		x->results_errno = errno;
		results_failed(x);
	}
}

const struct exec_result *
exec_result(struct exec *x)
{
	if (!x->done)
		return NULL;
	/* A task that never started has its results too, once it has a
	 * folder (not one whose owner is gone). */
	if (x->dirfd != -1 && !x->written)
		write_result_files(x);
	x->written = 1;
	return &x->res;
}

void
exec_free(struct exec *x)
{
	if (x == NULL)
		return;
	live_remove(x);
	if (x->pid > 0 && !x->reaped) {
		kill(-x->pid, SIGKILL);
		while (waitpid(x->pid, NULL, 0) == -1 && errno == EINTR)
			;
		kin_ended(x);
	}
	if (x->kin != NULL)
		x->kin->ended = 1; /* it never started */
	if (x->out.fd != -1)
		close(x->out.fd);
	if (x->err.fd != -1)
		close(x->err.fd);
	if (x->out.file != -1)
		close(x->out.file);
	if (x->err.file != -1)
		close(x->err.file);
	if (x->dirfd != -1)
		close(x->dirfd);
	if (x->order >= 0)
		close(x->order);
	cgroup_free(x->cg);
	json_decref(x->res.staged);
	free(x->out.sum);
	free(x->err.sum);
	free(x->out.ring);
	free(x->err.ring);
	free(x->results);
	free(x->workdir);
	free(x);
}
