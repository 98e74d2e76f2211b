/* hog: touch N MiB of memory, a MiB at a time, then exit 0. */
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100;

	for (long i = 0; i < n; i++) {
		char *p = malloc(1 << 20);
		if (p == NULL)
			return 1;
		memset(p, 1, 1 << 20);
	}
	return 0;
}
