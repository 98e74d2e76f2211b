/*
 * cgroup: a cgroup v2 group per task, holding its memory (memory.max) and
 * CPU (cpu.max) to what the spec asks, when this process may make one:
 * /sys/fs/cgroup is cgroup2, our own group offers the memory and cpu
 * controllers, and we may enable them for groups below it (root, or a
 * delegated group).  Where we may not, the caller falls back to rlimits.
 */
#ifndef CGROUP_H
#define CGROUP_H

#include <stdint.h>

struct cgroup;

/*
 * A group for task (an ID, for its name) limited to memory bytes and
 * cpu_milli thousandths of a core (0: no limit of that kind).  NULL, with
 * no error, when cgroup v2 cannot be used here; the answer is found once
 * per process.
 */
struct cgroup *cgroup_new(const char *task, int64_t memory, int64_t cpu_milli);

/* The group's cgroup.procs, open for writing: a process that writes "0"
 * to it joins the group (the task's child does, before it execs). */
int cgroup_procs_fd(const struct cgroup *cg);

/* How many times the kernel killed a process of the group for memory. */
int cgroup_oom_kills(const struct cgroup *cg);

/* Kill every process left in the group. */
void cgroup_kill(const struct cgroup *cg);

/* Kill what is left, remove the group, free cg. */
void cgroup_free(struct cgroup *cg);

/*
 * Undo what making groups here did to our own (the leaf we moved into),
 * as exit(3) would; for a process about to die by a signal.
 */
void cgroup_leave(void);

#endif
