/*
 * threads: start N threads (64 unless told) that each wait for the rest,
 * then exit 0; 1 when one cannot be started.  Each thread reserves its
 * default stack (8 MiB on Linux) and touches next to nothing of it, as a
 * JVM or a thread pool does: an address-space limit stops it, a limit on
 * resident memory does not.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t all;

static void *
wait_all(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&all);
	return NULL;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 64, e;
	pthread_t *t = calloc((size_t)n, sizeof(*t));

	if (n < 1 || t == NULL)
		return 2;
	pthread_barrier_init(&all, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++)
		if ((e = pthread_create(&t[i], NULL, wait_all, NULL)) != 0) {
			fprintf(stderr, "threads: thread %d: %s\n", i + 1,
			    strerror(e));
			return 1;
		}
	pthread_barrier_wait(&all);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("%d threads\n", n);
	return 0;
}
