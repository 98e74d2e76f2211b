/*
 * syncer: fdatasync(2) on a thread of its own (see syncer.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "error.h"
#include "syncer.h"
#include "thread.h"

struct syncer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd; /* the file synced, the caller's */
	int efd; /* an eventfd, written as a sync ends */
	/* Under mu: tickets handed out, and the last one on the disk. */
	uint64_t asked, synced;
	int err; /* errno of the first failed sync, or 0 */
	int quit;
	int idle; /* the thread waits on cv */
};

/* One sync for what was asked before it; mu is held around, not in it. */
static void
sync_once(struct syncer *s)
{
	uint64_t upto = s->asked, one = 1;
	int rc, e;

	pthread_mutex_unlock(&s->mu);
	rc = fdatasync(s->fd);
	e = errno;
	pthread_mutex_lock(&s->mu);
	if (rc == -1 && s->err == 0)
		s->err = e;
	else if (rc == 0 && upto > s->synced)
		s->synced = upto;
	/* A full counter (2^64 - 2 unread) cannot happen: each read
	 * empties it. */
	(void)!write(s->efd, &one, sizeof(one));
}

static void *
syncer_main(void *arg)
{
	struct syncer *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		/* After a failure nothing later is believed: it waits for
		 * the end. */
		while (!s->quit && (s->err != 0 || s->synced >= s->asked)) {
			s->idle = 1;
			pthread_cond_wait(&s->cv, &s->mu);
			s->idle = 0;
		}
		if (s->quit)
			break;
		sync_once(s);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct syncer *
syncer_new(int fd)
{
	struct syncer *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	s->fd = fd;
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		error_set(
		    EX_OSERR, "cannot make an eventfd: %s", strerror(errno));
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (thread_start(&s->thread, syncer_main, s) == -1) {
		close(s->efd);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return NULL;
	}
	return s;
}

uint64_t
syncer_ask(struct syncer *s)
{
	uint64_t t;
	int wake;

	/* A thread in a sync finds the ticket when it is done; one that
	 * waits is woken, once the lock it wants is free. */
	pthread_mutex_lock(&s->mu);
	t = ++s->asked;
	wake = s->idle;
	s->idle = 0;
	pthread_mutex_unlock(&s->mu);
	if (wake)
		pthread_cond_signal(&s->cv);
	return t;
}

int
syncer_fd(const struct syncer *s)
{
	return s->efd;
}

static int
failed(int e)
{
	return error_set(EX_IOERR, "cannot sync the database: %s", strerror(e));
}

int
syncer_done(struct syncer *s, uint64_t *done)
{
	uint64_t n;
	int e;

	while (read(s->efd, &n, sizeof(n)) == sizeof(n))
		;
	pthread_mutex_lock(&s->mu);
	*done = s->synced;
	e = s->err;
	pthread_mutex_unlock(&s->mu);
	return e != 0 ? failed(e) : 0;
}

int
syncer_now(struct syncer *s)
{
	int e;

	pthread_mutex_lock(&s->mu);
	if (s->err == 0)
		sync_once(s);
	e = s->err;
	pthread_mutex_unlock(&s->mu);
	return e != 0 ? failed(e) : 0;
}

void
syncer_free(struct syncer *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	close(s->efd);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
