/*
 * hog: touch N MiB of memory (100 unless told), a MiB at a time, then hold
 * it for S seconds (0 unless told) and exit 0.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100;
	int hold = argc > 2 ? atoi(argv[2]) : 0;

	for (long i = 0; i < n; i++) {
		char *p = malloc(1 << 20);
		if (p == NULL)
			return 1;
		memset(p, 1, 1 << 20);
	}
	sleep((unsigned)hold);
	return 0;
}
