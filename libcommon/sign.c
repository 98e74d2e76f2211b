/*
 * sign: per-user keys and job signatures (sign.h).  The HMAC is RFC 2104's
 * construction over SHA-256 (sha256.h), its key's inner and outer states
 * hashed once per key.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirs.h"
#include "error.h"
#include "sha256.h"
#include "sign.h"

#define KEY_BYTES 32
#define KEY_PATH "/.local/share/jobkit/key"

struct sign_key {
	struct sha256 inner, outer; /* after the key xor ipad, opad */
};

static struct sign_key *
key_new(const unsigned char *raw)
{
	struct sign_key *k = malloc(sizeof(*k));
	unsigned char pad[SHA256_BLOCK];

	if (k == NULL) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	memset(pad, 0x36, sizeof(pad));
	for (int i = 0; i < KEY_BYTES; i++)
		pad[i] ^= raw[i];
	sha256_init(&k->inner);
	sha256_update(&k->inner, pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (int i = 0; i < KEY_BYTES; i++)
		pad[i] ^= raw[i];
	sha256_init(&k->outer);
	sha256_update(&k->outer, pad, sizeof(pad));
	explicit_bzero(pad, sizeof(pad));
	return k;
}

void
sign_key_free(struct sign_key *k)
{
	if (k == NULL)
		return;
	explicit_bzero(k, sizeof(*k));
	free(k);
}

static int
unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0'
	    : c >= 'a' && c <= 'f'  ? c - 'a' + 10
				    : -1;
}

/*
 * Read the key in fd, which must be a regular file of uid's that no one
 * else may read or write, holding 64 hex digits and a newline.
 */
static struct sign_key *
key_read(int fd, uid_t uid, const char *path)
{
	char text[2 * KEY_BYTES + 2];
	unsigned char raw[KEY_BYTES];
	struct sign_key *k = NULL;
	struct stat sb;
	ssize_t n;

	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) || sb.st_uid != uid ||
	    (sb.st_mode & 077) != 0) {
		error_set(EX_DATAERR,
		    "key '%s' is not a private file of its user's", path);
		return NULL;
	}
	/* One byte more than a key, to see that there is no more. */
	n = read(fd, text, sizeof(text));
	if (n != 2 * KEY_BYTES + 1 || text[2 * KEY_BYTES] != '\n') {
		error_set(EX_DATAERR, "key '%s' is not a jobkit key", path);
		goto out;
	}
	for (int i = 0; i < KEY_BYTES; i++) {
		int hi = unhex(text[2 * i]), lo = unhex(text[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			error_set(
			    EX_DATAERR, "key '%s' is not a jobkit key", path);
			goto out;
		}
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	k = key_new(raw);
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(text, sizeof(text));
	return k;
}

struct sign_key *
sign_key_of(uid_t uid, const char *home)
{
	char path[4096];
	struct sign_key *k;
	int fd;

	snprintf(path, sizeof(path), "%s" KEY_PATH, home);
	/* Not blocking on a FIFO put in its place: a root worker would hang. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) ==
	    -1) {
		error_set(errno == ENOENT ? EX_NOINPUT : EX_NOPERM,
		    "cannot read key '%s': %s", path, strerror(errno));
		return NULL;
	}
	k = key_read(fd, uid, path);
	close(fd);
	return k;
}

/*
 * Make a key at path: written whole under another name, then linked into
 * place, so that of two made at once both use the one linked first.
 */
static int
key_make(char *path)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[KEY_BYTES];
	char text[2 * KEY_BYTES + 1], tmp[4200];
	int fd, r = -1;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	for (int i = 0; i < KEY_BYTES; i++) {
		text[2 * i] = hex[raw[i] >> 4];
		text[2 * i + 1] = hex[raw[i] & 15];
	}
	text[2 * KEY_BYTES] = '\n';
	snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
	if (dirs_make(path, 0700, DIRS_PARENTS, NULL, 0) == -1 ||
	    (fd = open(tmp,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) ==
		-1)
		goto out;
	if (write(fd, text, sizeof(text)) == (ssize_t)sizeof(text) &&
	    fsync(fd) == 0 && (link(tmp, path) == 0 || errno == EEXIST))
		r = 0;
	close(fd);
	unlink(tmp);
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(text, sizeof(text));
	return r;
}

struct sign_key *
sign_key_mine(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	char path[4096];
	struct stat sb;

	if ((home == NULL || *home != '/') &&
	    (pw = getpwuid(geteuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL || *home != '/') {
		error_set(EX_CANTCREAT, "no home folder for a key: set HOME");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s" KEY_PATH, home);
	/* Its folders are made in the home folder, never the home itself. */
	if (access(path, F_OK) == -1 && errno == ENOENT &&
	    (stat(home, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
		key_make(path) == -1)) {
		error_set(EX_CANTCREAT, "cannot make key '%s': %s", path,
		    strerror(errno));
		return NULL;
	}
	return sign_key_of(geteuid(), home);
}

static void
field(struct sha256 *c, const char *s)
{
	/* With its NUL: no field can run into the next. */
	sha256_update(c, s, strlen(s) + 1);
}

/* The MAC of what c, begun from k->inner, has hashed: into out. */
static void
mac_final(const struct sign_key *k, struct sha256 *c, unsigned char *out)
{
	unsigned char mac[SHA256_LEN];

	sha256_final(c, mac);
	*c = k->outer;
	sha256_update(c, mac, sizeof(mac));
	sha256_final(c, out);
}

static void
field_num(struct sha256 *c, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	field(c, num);
}

void
sign_job(const struct sign_key *k, int64_t rid, int64_t uid, const char *owner,
    const char *spec, const char *export, unsigned char *out)
{
	struct sha256 c = k->inner;

	field(&c, "jobkit job 1");
	field_num(&c, rid);
	field_num(&c, uid);
	field(&c, owner);
	field(&c, spec);
	field(&c, export ? export : "");
	mac_final(k, &c, out);
}

/*
 * Version 2 of a job's signature: the same fields, the environment first,
 * so that a writer of a stream of jobs with one environment may hash it
 * once.  Only checked, not yet written: a worker of a jobkit before this
 * one could not run a job that carried it (jobkit(7)).
 */
static void
sign_job_v2(const struct sign_key *k, int64_t rid, int64_t uid,
    const char *owner, const char *spec, const char *export, unsigned char *out)
{
	struct sha256 c = k->inner;

	field(&c, "jobkit job 2");
	field(&c, export ? export : "");
	field_num(&c, rid);
	field_num(&c, uid);
	field(&c, owner);
	field(&c, spec);
	mac_final(k, &c, out);
}

/* a[0..n) == b[0..n), in a time that says nothing of where they differ. */
static int
same(const unsigned char *a, const unsigned char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

int
sign_check(const struct sign_key *k, int64_t rid, int64_t uid,
    const char *owner, const char *spec, const char *export, const void *sig,
    size_t len)
{
	unsigned char want[SIGN_LEN];

	if (sig == NULL || len != SIGN_LEN)
		return 0;
	sign_job(k, rid, uid, owner, spec, export, want);
	if (same(want, sig, SIGN_LEN))
		return 1;
	sign_job_v2(k, rid, uid, owner, spec, export, want);
	return same(want, sig, SIGN_LEN);
}
