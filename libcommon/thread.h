/*
 * thread: the threads of libcommon and its tools, which take none of the
 * process's signals: a tool that reads them from a signalfd, or stops on
 * them in its main loop, gets every one on its first thread.
 */
#ifndef THREAD_H
#define THREAD_H

#include <pthread.h>

/* Run fn(arg) on a new thread that blocks every signal.  Returns 0, or -1
 * (EX_OSERR, error set). */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
