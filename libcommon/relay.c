/*
 * relay: a job handed to a worker that has the database open (relay.h).
 * One request a connection, one message each way (SOCK_SEQPACKET): the
 * request is {"token", "spec", "export", "brief"}, the answer {"id",
 * "job", "served"} or {"error", "status"}.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "error.h"
#include "parse.h"
#include "relay.h"
#include "spec.h"

/* The largest request (a spec and its environment) and answer; a bigger
 * request is stored by its submitter.  A message must fit in the
 * socket's buffer (208 KiB by default). */
#define RELAY_MAX (160 * 1024)
#define RELAY_ANSWER_MAX (64 * 1024)
/* Submitters taken at once: the rest wait in the backlog. */
#define RELAY_CONNS (RELAY_FDS - 1)

struct relay {
	int fd; /* listening */
	int conns[RELAY_CONNS]; /* taken, their request not read yet */
	int nconns;
	char *buf; /* a request */
	const char *const *queues; /* the worker's, or NULL for all */
};

/* The socket's name: the database file's, whatever path reached it. */
static int
relay_address(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
	struct stat sb;
	int n;

	if (stat(path, &sb) == -1)
		return error_set(EX_NOINPUT, "cannot relay for '%s': %s", path,
		    strerror(errno));
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Abstract (a leading NUL): nothing to remove, gone with its
	 * worker.  The 1 is the protocol's version. */
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
	    "jobkit-relay-1/%jx:%jx", (uintmax_t)sb.st_dev,
	    (uintmax_t)sb.st_ino);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	return 0;
}

/* The peer's process, if it is of our user: else 0. */
static pid_t
relay_peer(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    uc.uid != geteuid())
		return 0;
	return uc.pid;
}

struct relay *
relay_listen(const char *path, const char *const *queues)
{
	struct sockaddr_un sa;
	struct relay *rl;
	socklen_t len;
	int fd;

	if (relay_address(path, &sa, &len) == -1)
		return NULL;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, len) == -1 ||
	    listen(fd, 64) == -1) {
		error_set(errno == EADDRINUSE ? EX_TEMPFAIL : EX_OSERR,
		    "cannot relay for '%s': %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if ((rl = calloc(1, sizeof(*rl))) == NULL ||
	    (rl->buf = malloc(RELAY_MAX + 1)) == NULL) {
		free(rl);
		close(fd);
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	rl->fd = fd;
	rl->queues = queues;
	return rl;
}

void
relay_close(struct relay *rl)
{
	if (rl == NULL)
		return;
	for (int i = 0; i < rl->nconns; i++)
		close(rl->conns[i]);
	close(rl->fd);
	free(rl->buf);
	free(rl);
}

int
relay_fds(const struct relay *rl, int *fds)
{
	int n = 0;

	if (rl->nconns < RELAY_CONNS)
		fds[n++] = rl->fd;
	for (int i = 0; i < rl->nconns; i++)
		fds[n++] = rl->conns[i];
	return n;
}

/* A hex digit's value, or -1. */
static int
hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	    : c >= 'a' && c <= 'f'  ? c - 'a' + 10
				    : -1;
}

/* A token as the request spells it: 32 lowercase hex digits. */
static int
token_read(json_t *v, unsigned char *token)
{
	const char *s = json_string_value(v);
	int hi, lo;

	if (s == NULL || strlen(s) != 2 * STORE_TOKEN_LEN)
		return -1;
	for (int i = 0; i < STORE_TOKEN_LEN; i++) {
		if ((hi = hex_digit(s[2 * i])) == -1 ||
		    (lo = hex_digit(s[2 * i + 1])) == -1)
			return -1;
		token[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Store the job a request asks for; 0 (*existed set), or -1 with the
 * error. */
static int
relay_store(struct relay *rl, struct store *st, json_t *req, char *id,
    json_t **job, int *existed, int *served)
{
	unsigned char token[STORE_TOKEN_LEN];
	json_t *raw = json_object_get(req, "spec"), *spec = NULL;
	json_t *export = json_object_get(req, "export");
	struct job_new jn;
	int r = -1;

	if (token_read(json_object_get(req, "token"), token) == -1 ||
	    !json_is_object(raw) || (export != NULL && !json_is_object(export)))
		return error_set(EX_DATAERR,
		    "relayed request: wants a token of "
		    "32 hex digits and a spec object");
	/*
	 * The environment goes into the spec, as a spec's own: jn.export is
	 * for one object shared by a stream's jobs, which the store knows
	 * again by its address -- another request's, freed, may have had it.
	 */
	if (export != NULL && json_object_get(raw, "export") == NULL &&
	    json_object_set(raw, "export", export) == -1)
		return error_set(EX_OSERR, "out of memory");
	/* Checked again, as a row written around the tools would be. */
	if ((spec = spec_normalize(raw, parse_now_ms())) == NULL ||
	    spec_to_job(spec, &jn) == -1)
		goto out;
	jn.token = token;
	*served = rl->queues == NULL;
	for (int i = 0; !*served && rl->queues[i] != NULL; i++)
		*served = strcmp(rl->queues[i], jn.queue) == 0;
	r = store_job_add(st, &jn, id,
	    json_is_true(json_object_get(req, "brief")) ? job : NULL, existed);
out:
	json_decref(spec);
	return r;
}

/*
 * Read the request on fd, store its job in a commit of its own not yet
 * synced, and make its answer (*text).  1 when a job was stored, 0 when
 * none was (a refusal is answered too), 2 when nothing has come yet, -1
 * when out of memory.
 */
static int
relay_serve(struct relay *rl, int fd, struct store *st, char **text)
{
	ssize_t n = recv(fd, rl->buf, RELAY_MAX + 1, MSG_DONTWAIT | MSG_TRUNC);
	json_t *req, *job = NULL, *ans;
	char id[ID_LEN + 1];
	int existed = 0, served = 0, r = -1;

	*text = NULL;
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 2 : 0;
	/* Gone, or more than it may send: its submitter stores it. */
	if (n == 0 || n > RELAY_MAX)
		return 0;
	if ((req = json_loadb(rl->buf, (size_t)n, 0, NULL)) == NULL)
		error_set(EX_DATAERR, "relayed request: not JSON");
	else if (store_begin(st) == 0 &&
	    (r = relay_store(rl, st, req, id, &job, &existed, &served)) == 0)
		r = store_commit_unsynced(st);
	else
		store_rollback(st);
	json_decref(req);
	ans = r == 0 ? json_pack("{s:s, s:o*, s:b}", "id", id, "job", job,
			   "served", served)
		     : json_pack("{s:s, s:i}", "error", error_msg(), "status",
			   error_status());
	if (ans == NULL || (*text = json_dumps(ans, JSON_COMPACT)) == NULL) {
		json_decref(ans);
		return -1;
	}
	json_decref(ans);
	return r == 0 && !existed;
}

int
relay_step(struct relay *rl, struct store *st)
{
	char *text[RELAY_CONNS];
	int fd[RELAY_CONNS], c, n = 0, r, stored = 0, oom = 0, ok;

	while (rl->nconns < RELAY_CONNS &&
	    (c = accept4(rl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
		-1) {
		if (relay_peer(c) == 0)
			close(c);
		else
			rl->conns[rl->nconns++] = c;
	}
	/* Each request is a commit of its own, and those that came together
	 * wait for the disk together (group commit). */
	for (int i = 0; i < rl->nconns;) {
		if ((r = relay_serve(rl, rl->conns[i], st, &text[n])) == 2) {
			i++;
			continue;
		}
		fd[n++] = rl->conns[i];
		rl->conns[i] = rl->conns[--rl->nconns];
		oom |= r == -1;
		stored += r == 1;
	}
	/* Answered once on the disk.  Unanswered (the sync failed, which
	 * the worker's own next commit reports), the submitters store the
	 * jobs themselves and find them by their tokens. */
	ok = stored == 0 || store_sync(st) == 0;
	for (int i = 0; i < n; i++) {
		if (ok && text[i] != NULL)
			(void)!send(fd[i], text[i], strlen(text[i]),
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		free(text[i]);
		close(fd[i]);
	}
	if (oom)
		return error_set(EX_OSERR, "out of memory");
	return ok ? stored : 0;
}

/* Wait until fd is ready for events, or the deadline: 1, or 0. */
static int
relay_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t left;
	int n;

	while ((left = deadline - parse_mono_ms()) > 0)
		if ((n = poll(&p, 1, (int)left)) > 0)
			return 1;
		else if (n == -1 && errno != EINTR)
			return 0;
	return 0;
}

/* 1 when process pid is stopped (^Z, a debugger): it would not answer. */
static int
relay_stopped(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold anything, ')' too. */
	return (p = strrchr(buf, ')')) != NULL && (p[2] == 'T' || p[2] == 't');
}

/* A request for job, as text. */
static char *
relay_request(const struct relay_job *job)
{
	char hex[2 * STORE_TOKEN_LEN + 1], *text;
	json_t *req;

	for (int i = 0; i < STORE_TOKEN_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", job->token[i]);
	req = json_pack("{s:s, s:O, s:O*, s:b}", "token", hex, "spec",
	    job->spec, "export", job->export, "brief", job->brief);
	text = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	return text;
}

/* The answer on fd: as relay_submit() returns. */
static int
relay_answer(
    int fd, int64_t deadline, struct relay_job *job, char *id, json_t **brief)
{
	char *buf;
	ssize_t n;
	json_t *ans = NULL, *v;
	const char *s;
	int r = 0;

	if (!relay_wait(fd, POLLIN, deadline) ||
	    (buf = malloc(RELAY_ANSWER_MAX)) == NULL)
		return 0;
	n = recv(fd, buf, RELAY_ANSWER_MAX, MSG_DONTWAIT | MSG_TRUNC);
	if (n > 0 && n <= RELAY_ANSWER_MAX)
		ans = json_loadb(buf, (size_t)n, 0, NULL);
	free(buf);
	if ((s = json_string_value(json_object_get(ans, "error"))) != NULL) {
		v = json_object_get(ans, "status");
		r = error_set(json_is_integer(v) ? (int)json_integer_value(v)
						 : EX_SOFTWARE,
		    "%s", s);
	} else if ((s = json_string_value(json_object_get(ans, "id"))) !=
		NULL &&
	    strlen(s) <= ID_LEN) {
		memcpy(id, s, strlen(s) + 1);
		job->served = json_is_true(json_object_get(ans, "served"));
		if (brief != NULL &&
		    (*brief = json_incref(json_object_get(ans, "job"))) == NULL)
			r = 0; /* asked, not given: ask the database */
		else
			r = 1;
	}
	json_decref(ans);
	return r;
}

int
relay_submit(const char *path, struct relay_job *job, char *id, json_t **brief)
{
	struct sockaddr_un sa;
	socklen_t len;
	int64_t deadline = parse_mono_ms() + RELAY_WAIT_MS;
	char *text = NULL;
	pid_t pid;
	int fd = -1, r = 0;

	job->sent = 0;
	if (relay_address(path, &sa, &len) == -1)
		return 0;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* None listens, its backlog is full, or it is another user's: the
	 * submitter stores the job, as without a worker (which costs it a
	 * stat, a socket and a refused connect). */
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, len) == -1 ||
	    (pid = relay_peer(fd)) == 0 ||
	    getrandom(job->token, sizeof(job->token), 0) !=
		sizeof(job->token) ||
	    (text = relay_request(job)) == NULL || strlen(text) > RELAY_MAX)
		goto out;
	while (send(fd, text, strlen(text), MSG_NOSIGNAL) == -1)
		if ((errno != EAGAIN && errno != EINTR) ||
		    !relay_wait(fd, POLLOUT, deadline))
			goto out;
	job->sent = 1;
	/* One that is stopped would not answer: its request is dropped, or
	 * finds the job stored when it goes on. */
	if (!relay_stopped(pid))
		r = relay_answer(fd, deadline, job, id, brief);
out:
	free(text);
	if (fd != -1)
		close(fd);
	return r;
}
