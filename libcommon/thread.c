/*
 * thread: threads that take none of the process's signals (thread.h).
 */
#include <signal.h>
#include <string.h>

#include "error.h"
#include "thread.h"

int
thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	/* The new thread inherits the mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return error_set(
		    EX_OSERR, "cannot start a thread: %s", strerror(rc));
	return 0;
}
