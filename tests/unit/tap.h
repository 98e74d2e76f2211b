/* A TAP producer for the unit tests: ok(), is(), done(). */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) \
	do { \
		int ok_ = (cond); \
		printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		if (!ok_) { \
			tap_failed++; \
			printf("#   failed at %s:%d\n", __FILE__, __LINE__); \
		} \
	} while (0)

#define is_str(got, want, ...) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		ok(g_ != NULL && strcmp(g_, w_) == 0, __VA_ARGS__); \
		if (g_ == NULL || strcmp(g_, w_) != 0) \
			printf("#   got '%s', want '%s'\n", \
			    g_ ? g_ : "(null)", w_); \
	} while (0)

/* A fresh folder for a test's files, in the test's own ($T, lib.sh), else
 * TMPDIR, else /tmp: dir, or NULL (said on stderr). */
static inline char *
tap_tmpdir(char *dir, size_t size, const char *name)
{
	const char *tmp = getenv("T");

	if (tmp == NULL || *tmp == '\0')
		tmp = getenv("TMPDIR");
	snprintf(dir, size, "%s/jobkit-%s.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp", name);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return NULL;
	}
	return dir;
}

static inline int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
