/*
 * sandbox: the argv that runs a task isolated, from its normalized spec
 * (jobkit-spec(5): container, binds, network, sandbox, command, shell).
 *
 * A container job runs in a container engine:
 *   docker run --rm --init --network=none|host [--workdir=W]
 *       [-v SRC:TARGET[:ro] ...] [--cpus=N] [--memory=BYTES] [--gpus ...]
 *       [-e NAME ...] [--entrypoint E0] IMAGE [E1 ...] [command ...]
 * (podman alike).  The environment reaches the container by name only
 * (-e NAME): values are the engine client's own environment, never on its
 * command line, which ps(1) shows.  --init, so that the signals of a
 * timeout or cancel reach the job; its memory is the container's limit,
 * not one on the engine's client.
 *
 * A container job on the engine "host", and any job asking for the
 * sandbox, runs in bubblewrap:
 *   bwrap --die-with-parent --unshare-pid --unshare-ipc --unshare-uts
 *       [--unshare-net] --cap-drop ALL (the host's / read-only)
 *       --dev /dev --proc /proc --tmpfs /tmp --bind WORK WORK
 *       [--bind|--ro-bind SRC TARGET ...] --remount-ro /
 *       --chdir CWD -- argv
 * The host's root is shown entry by entry on a tmpfs of bwrap's, so that
 * a target whose top folder the host has not (/inputs, /outputs) can be
 * made; bwrap 0.8 cannot make one in a read-only bind of the host's /.
 * No --new-session: the task must stay in its process group, which
 * timeouts signal, and it has no terminal to push input into anyway.
 *
 * A relative bind source is inside the work directory; the folders of
 * those no input fills are made before the task starts (its owner's), so
 * that what the job writes there is found by the stager after it.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/types.h>
#include <jansson.h>

enum sandbox_kind {
	SANDBOX_NONE, /* runs as it is */
	SANDBOX_ENGINE, /* docker or podman run */
	SANDBOX_HOST /* bubblewrap */
};

struct sandbox_opts {
	const char *engine; /* "auto" or NULL, "docker", "podman", "host" */
	int sandbox; /* every task in bubblewrap */
	const char *gpus; /* devices for the task ("0,2"), or NULL */
	const char *workdir; /* the task's work directory, absolute */
	const char *path; /* PATH to find docker, podman and bwrap in */
	int as_owner; /* folders made for binds are uid's and gid's */
	uid_t uid;
	gid_t gid;
};

/*
 * How the spec runs: a container job in its engine (on the host in
 * bubblewrap with engine "host"), any other job in bubblewrap when the
 * spec's "sandbox" or sandbox says so, else as it is.
 */
enum sandbox_kind sandbox_kind(json_t *spec, const char *engine, int sandbox);

/*
 * The argv that runs spec isolated as sandbox_kind() says (not
 * SANDBOX_NONE), its program an absolute path; *inner is the index of the
 * program run inside (for messages).  Every string is owned by the array:
 * free it with sandbox_free().  Makes the folders of relative bind
 * sources.  NULL with an error: EX_UNAVAILABLE when the engine or bwrap
 * is not on o->path ("no container engine: ...", "sandbox: bwrap not
 * found ..."), EX_DATAERR when the job cannot run so (a container with
 * nothing to run on the host, a bind target that cannot be made),
 * EX_CANTCREAT when a bind's folder cannot be made, EX_OSERR out of
 * memory.
 */
char **sandbox_argv(json_t *spec, const struct sandbox_opts *o, size_t *inner);

/* Free what sandbox_argv() returned (NULL is nothing). */
void sandbox_free(char **argv);

/*
 * Look name up in path as execvp(3) does: 0 with its path in buf (len
 * bytes), or -1 when no executable file of that name is there.
 */
int sandbox_which(const char *name, const char *path, char *buf, size_t len);

#endif
