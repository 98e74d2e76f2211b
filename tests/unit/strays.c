/*
 * Not TAP: tests/4004-exec-signals.t runs it.  A process that links
 * exec.c (as exec-run and task-keepalive do) with children of its own
 * that are no task's: one in its own session, one that made a session
 * of its own, and one that has exited, its own to reap.  It runs a task
 * that leaves strays behind (setsid, one with its environment cleared)
 * as exec-run runs one: steps it, reaps orphans as its loop wakes, looks
 * for strays with nothing running, and again as it exits.  Its own
 * children must come through all that alive, or be reaped by it alone;
 * the strays must be left to go while the loop goes on, not waited for.
 * Exits 0, or 1 saying what went wrong.
 *
 *	strays RESULTS
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "parse.h"

/* The task: strays that stay till killed, and its leader gone. */
#define TASK \
	"setsid sleep 39.5 >/dev/null 2>&1 & " \
	"setsid sh -c 'env -i setsid sleep 38.5 >/dev/null 2>&1 & " \
	"sleep 37.5' >/dev/null 2>&1 & sleep 0.5"

static int failed;

static pid_t
child(int how)
{
	pid_t pid = fork();

	if (pid == -1) {
		perror("fork");
		exit(1);
	}
	if (pid > 0)
		return pid;
	if (how == 1)
		setsid();
	if (how == 2)
		_exit(7);
	for (;;)
		pause();
}

/* Wait for what the loop waits for, then reap as it does. */
static void
wake(const int *fds, int nfds, int64_t until)
{
	struct pollfd pfd[2];
	int64_t due = exec_strays_due(), now = parse_now_ms();

	for (int i = 0; i < nfds; i++)
		pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	if (due > 0 && due < until)
		until = due;
	poll(pfd, (nfds_t)nfds, until > now ? (int)(until - now) : 0);
	exec_reap_orphans();
}

static void
alive(pid_t pid, const char *what)
{
	if (kill(pid, 0) == -1 || waitpid(pid, NULL, WNOHANG) != 0) {
		fprintf(stderr, "strays: %s (%d) is gone\n", what, (int)pid);
		failed = 1;
	}
}

int
main(int argc, char **argv)
{
	struct exec_opts o = {
	    .job = "strays", .task = "strays.1", .attempt = 1};
	char dir[4096];
	int fds[2], n, st, pending = 0;
	pid_t own, apart, done;
	struct exec *x;
	json_t *spec;

	if (argc != 2 || exec_results_ready(argv[1]) == -1 ||
	    exec_signals() == -1) {
		fprintf(stderr, "usage: strays RESULTS\n");
		return 1;
	}
	own = child(0);
	apart = child(1);
	done = child(2);
	snprintf(dir, sizeof(dir), "%s/%s", argv[1], o.task);
	o.results = dir;
	spec = json_pack("{s:[s,s,s]}", "command", "sh", "-c", TASK);
	if (spec == NULL || (x = exec_start(spec, &o)) == NULL) {
		fprintf(stderr, "strays: cannot start the task\n");
		return 1;
	}
	for (;;) {
		int ended = exec_step(x, parse_now_ms());
		/* Killed as its leader was reaped, not gone yet. */
		pending |= exec_strays_due() > 0;
		if (ended)
			break;
		n = exec_fds(x, fds, 2);
		wake(fds, n, parse_now_ms() + 100);
	}
	if (!pending) {
		fprintf(stderr, "strays: the task's strays were waited for\n");
		failed = 1;
	}
	exec_result(x);
	exec_free(x);
	/* With nothing running, as exec-run looks; its loop goes on. */
	exec_kill_strays(0);
	for (int64_t end = parse_now_ms() + 500; parse_now_ms() < end;)
		wake(NULL, 0, end);
	exec_kill_strays(EXEC_STRAYS_WAIT_MS);
	alive(own, "a child in our session");
	alive(apart, "a child in a session of its own");
	while ((n = waitpid(done, &st, WNOHANG)) == -1 && errno == EINTR)
		;
	if (n != done || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
		fprintf(stderr,
		    "strays: a child that exited was reaped by "
		    "another\n");
		failed = 1;
	}
	kill(own, SIGKILL);
	kill(apart, SIGKILL);
	waitpid(own, NULL, 0);
	waitpid(apart, NULL, 0);
	json_decref(spec);
	return failed;
}
