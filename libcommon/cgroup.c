#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP2_MAGIC 0x63677270 /* CGROUP2_SUPER_MAGIC */
#define CPU_PERIOD 100000 /* microseconds, cpu.max's default */

struct cgroup {
	char path[4096];
	int procs;
};

static struct {
	int probed, usable;
	char base[4096]; /* the group tasks' groups are made in */
	char leaf[4096]; /* ours, when we moved out of base to enable */
	int gave; /* we enabled the controllers in base from the leaf */
} cg_here;

/* Read a small cgroup file into buf; -1 when it cannot be read. */
static int
read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char path[4200];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int
write_file(const char *dir, const char *name, const char *text)
{
	char path[4200];
	ssize_t n;
	int fd, e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, text, strlen(text));
	e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Is word one of the space-separated words of list? */
static int
has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

static int
enabled(void)
{
	char buf[512];

	return read_file(cg_here.base, "cgroup.subtree_control", buf,
		   sizeof(buf)) == 0 &&
	    has_word(buf, "memory") && has_word(buf, "cpu");
}

/* Our leaf goes when we do: back to base, and the leaf removed. */
static void
leave_leaf(void)
{
	if (cg_here.leaf[0] == '\0')
		return;
	/* A group handing controllers down may hold no process: take back
	 * the ones we gave (only those), then step back, remove the leaf. */
	if (cg_here.gave)
		write_file(
		    cg_here.base, "cgroup.subtree_control", "-memory -cpu");
	write_file(cg_here.base, "cgroup.procs", "0");
	rmdir(cg_here.leaf);
	cg_here.leaf[0] = '\0';
}

void
cgroup_leave(void)
{
	leave_leaf();
}

/*
 * May we make groups with memory and cpu limits?  A group with processes
 * of its own cannot hand controllers down (the root excepted), so when we
 * are alone in ours we move into a leaf of it first, as systemd does in a
 * delegated group.
 */
static int
probe(void)
{
	char buf[4096], *p, *nl;
	struct statfs sf;

	if (statfs(CGROUP_ROOT, &sf) == -1 || sf.f_type != CGROUP2_MAGIC ||
	    read_file("/proc/self", "cgroup", buf, sizeof(buf)) == -1)
		return 0;
	/* The cgroup2 line: "0::/path". */
	for (p = buf; p != NULL && strncmp(p, "0::", 3) != 0;
	     p = (nl = strchr(p, '\n')) ? nl + 1 : NULL)
		;
	if (p == NULL)
		return 0;
	p += 3;
	if ((nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	snprintf(cg_here.base, sizeof(cg_here.base), "%s%s", CGROUP_ROOT,
	    strcmp(p, "/") == 0 ? "" : p);
	if (read_file(cg_here.base, "cgroup.controllers", buf, sizeof(buf)) ==
		-1 ||
	    !has_word(buf, "memory") || !has_word(buf, "cpu"))
		return 0;
	if (enabled() ||
	    write_file(
		cg_here.base, "cgroup.subtree_control", "+memory +cpu") == 0)
		return 1;
	if (errno != EBUSY)
		return 0;
	snprintf(cg_here.leaf, sizeof(cg_here.leaf), "%.3900s/jobkit-%ld",
	    cg_here.base, (long)getpid());
	if (mkdir(cg_here.leaf, 0755) == -1) {
		cg_here.leaf[0] = '\0';
		return 0;
	}
	if (write_file(cg_here.leaf, "cgroup.procs", "0") == 0 &&
	    write_file(
		cg_here.base, "cgroup.subtree_control", "+memory +cpu") == 0) {
		cg_here.gave = 1;
		atexit(leave_leaf);
		return 1;
	}
	leave_leaf();
	return 0;
}

struct cgroup *
cgroup_new(const char *task, int64_t memory, int64_t cpu_milli)
{
	struct cgroup *cg;
	char num[64];

	if (!cg_here.probed) {
		cg_here.probed = 1;
		cg_here.usable = probe();
	}
	if (!cg_here.usable || (cg = calloc(1, sizeof(*cg))) == NULL)
		return NULL;
	snprintf(cg->path, sizeof(cg->path), "%.3900s/jobkit-%ld-%.64s",
	    cg_here.base, (long)getpid(), task);
	rmdir(cg->path); /* one left by an earlier process of our pid */
	if (mkdir(cg->path, 0755) == -1) {
		free(cg);
		return NULL;
	}
	if (memory > 0) {
		snprintf(num, sizeof(num), "%lld", (long long)memory);
		/* Memory is memory: no swap to overflow into, where the
		 * kernel accounts it. */
		if (write_file(cg->path, "memory.max", num) == -1)
			goto fail;
		write_file(cg->path, "memory.swap.max", "0");
		/* One process over the limit ends the whole task, as a
		 * container's would, rather than leave it maimed. */
		write_file(cg->path, "memory.oom.group", "1");
	}
	if (cpu_milli > 0) {
		long long quota = (long long)cpu_milli * (CPU_PERIOD / 1000);
		snprintf(num, sizeof(num), "%lld %d",
		    quota < 1000 ? 1000 : quota, CPU_PERIOD);
		if (write_file(cg->path, "cpu.max", num) == -1)
			goto fail;
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->path);
	if ((cg->procs = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		goto fail;
	return cg;
fail:
	rmdir(cg->path);
	free(cg);
	return NULL;
}

int
cgroup_procs_fd(const struct cgroup *cg)
{
	return cg->procs;
}

int
cgroup_oom_kills(const struct cgroup *cg)
{
	char buf[1024], *p;

	if (read_file(cg->path, "memory.events", buf, sizeof(buf)) == -1 ||
	    (p = strstr(buf, "oom_kill ")) == NULL)
		return 0;
	return atoi(p + 9);
}

void
cgroup_kill(const struct cgroup *cg)
{
	char buf[4096], *p, *e;
	long pid;

	/* cgroup.kill (Linux 5.14) takes every process at once; else each
	 * listed one (the task's own group is gone by now, so a process
	 * that left it is still found here). */
	if (write_file(cg->path, "cgroup.kill", "1") == 0)
		return;
	if (read_file(cg->path, "cgroup.procs", buf, sizeof(buf)) == -1)
		return;
	for (p = buf; (pid = strtol(p, &e, 10)) > 0; p = e)
		kill((pid_t)pid, SIGKILL);
}

void
cgroup_free(struct cgroup *cg)
{
	struct timespec ms = {0, 1000000};

	if (cg == NULL)
		return;
	cgroup_kill(cg);
	close(cg->procs);
	/* A killed process leaves the group as it exits (reaped or not);
	 * one in uninterruptible sleep may take a moment.  A group that
	 * stays busy is left behind rather than stall the worker. */
	for (int i = 0; i < 100 && rmdir(cg->path) == -1 && errno == EBUSY; i++)
		nanosleep(&ms, NULL);
	free(cg);
}
