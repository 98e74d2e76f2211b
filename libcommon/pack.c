/*
 * pack: archives in and out, through libarchive.
 *
 * Extraction checks each entry itself before libarchive's write_disk sees
 * it (which refuses dot-dot names and writing through symlinks again, as a
 * second line), writes under a private folder inside the destination, and
 * moves the result in only at the end.  libarchive resolves the names it is
 * given against the working directory, which a library must not change, so
 * it is handed absolute names under the folder's canonical path; that is
 * why ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS, which would refuse them all,
 * is not among its flags: absolute names of the archive are refused here.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "pack.h"

#define PACK_TMP ".jobkit-unpack-"
#define PACK_BUF (64 * 1024)

/* What the checks remember of an entry extracted: its last type. */
struct pack_seen {
	const char *name;
	int type;
};

struct unpack {
	pack_read_fn *rd;
	void *arg;
	int done; /* rd returned 0 or -1 */
	int rd_failed; /* rd returned -1: its message stands */
	int64_t max_bytes, max_files;
	int64_t bytes, files;
	void *seen; /* tsearch(3) tree of struct pack_seen */
	char *dir; /* the destination, canonical */
	char *root; /* the private folder inside it */
	const char *base; /* the private folder's name */
};

struct pack_rule {
	char *glob;
	int anchored; /* matches the relative path, not the base name */
	int dironly;
};

struct packer {
	int fd;
	const char *dir;
	int64_t max, written;
	int failed; /* the write callback set the error */
	struct pack_rule *rules;
	size_t nrules;
	int out_reg; /* fd is a regular file: skip it if met */
	dev_t out_dev;
	ino_t out_ino;
	char buf[PACK_BUF];
};

struct fdsource {
	int fd;
	char buf[PACK_BUF];
};

static int
pack_oom(void)
{
	return error_set(EX_OSERR, "out of memory");
}

static int
pack_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
pack_list_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * The names in the folder dfd (without "." and ".."), in strcmp order, read
 * before anything in it changes.  what names the folder in errors.
 */
static int
pack_list(int dfd, const char *what, char ***names, size_t *n)
{
	struct dirent *de;
	char **v = NULL, **nv;
	size_t len = 0, cap = 0;
	int fd;
	DIR *d;

	/* A new open file, not a dup(): listing twice must start over. */
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return error_set(
		    EX_IOERR, "cannot list '%s': %s", what, strerror(errno));
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (len == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto oom;
			v = nv;
		}
		if ((v[len] = strdup(de->d_name)) == NULL)
			goto oom;
		len++;
	}
	if (errno != 0) {
		error_set(
		    EX_IOERR, "cannot list '%s': %s", what, strerror(errno));
		goto fail;
	}
	closedir(d);
	if (len > 0)
		qsort(v, len, sizeof(*v), pack_cmp);
	*names = v;
	*n = len;
	return 0;
oom:
	pack_oom();
fail:
	closedir(d);
	pack_list_free(v, len);
	return -1;
}

/* ---- extraction: reading and checking ---- */

static la_ssize_t
unpack_read(struct archive *a, void *arg, const void **buf)
{
	struct unpack *u = arg;
	ssize_t n;

	if (u->done)
		return 0;
	if ((n = u->rd(u->arg, buf)) <= 0)
		u->done = 1;
	if (n < 0) {
		u->rd_failed = 1;
		archive_set_error(a, EIO, "the source failed");
		return -1;
	}
	return n;
}

static int
unpack_refuse(const char *name, const char *why)
{
	return error_set(EX_DATAERR, "refused '%.1024s': %s", name, why);
}

/*
 * Normalize the entry name s into out (PATH_MAX bytes): no "." or empty
 * components, no trailing slash, "" for the destination itself.  Returns 0,
 * or -1 with *why set when it is absolute, climbs or is too long.
 */
static int
unpack_name(const char *s, char *out, const char **why)
{
	size_t len = 0, n;

	if (*s == '/')
		return *why = "is an absolute path", -1;
	while (*s != '\0') {
		n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return *why = "leads outside the destination", -1;
		if (n > 0 && !(n == 1 && s[0] == '.')) {
			if (len + n + 2 > PATH_MAX)
				return *why = "has too long a name", -1;
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, s, n);
			len += n;
		}
		s += n;
		s += *s == '/';
	}
	out[len] = '\0';
	return 0;
}

static int
unpack_seen_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pack_seen *)a)->name,
	    ((const struct pack_seen *)b)->name);
}

/* The type of the entry extracted last as name, 0 when none. */
static int
unpack_seen_type(struct unpack *u, const char *name)
{
	struct pack_seen key = {name, 0}, **p;

	p = tfind(&key, &u->seen, unpack_seen_cmp);
	return p != NULL ? (*p)->type : 0;
}

static int
unpack_remember(struct unpack *u, const char *name, int type)
{
	struct pack_seen key = {name, 0}, *s, **p;
	size_t len = strlen(name) + 1;

	/* A folder replacing a symlink may have been followed instead. */
	if ((p = tfind(&key, &u->seen, unpack_seen_cmp)) != NULL) {
		if (!((*p)->type == AE_IFLNK && type == AE_IFDIR))
			(*p)->type = type;
		return 0;
	}
	if ((s = malloc(sizeof(*s) + len)) == NULL)
		return pack_oom();
	s->name = memcpy(s + 1, name, len);
	s->type = type;
	if ((p = tsearch(s, &u->seen, unpack_seen_cmp)) == NULL) {
		free(s);
		return pack_oom();
	}
	return 0;
}

/* Whether a folder on the way to rel is a symlink of the archive. */
static int
unpack_through_link(struct unpack *u, const char *name, const char *rel)
{
	char buf[PATH_MAX], why[PATH_MAX + 64];

	for (const char *p = rel; (p = strchr(p, '/')) != NULL; p++) {
		memcpy(buf, rel, p - rel);
		buf[p - rel] = '\0';
		if (unpack_seen_type(u, buf) == AE_IFLNK) {
			snprintf(why, sizeof(why),
			    "passes through the symlink '%.1024s'", buf);
			return unpack_refuse(name, why);
		}
	}
	return 0;
}

/*
 * A symlink at rel to target stays inside: relative, and its ".."s (only
 * leading ones: after a name, which may be a symlink to anywhere, ".." is
 * no longer judged by the text) do not climb above the destination.
 */
static int
unpack_symlink_ok(const char *name, const char *rel, const char *target)
{
	const char *why = NULL, *s = target;
	char msg[PATH_MAX + 64];
	long depth = 0;
	int named = 0;
	size_t n;

	for (const char *p = rel; (p = strchr(p, '/')) != NULL; p++)
		depth++;
	if (*s == '\0')
		why = "has no target";
	else if (*s == '/')
		why = "is absolute";
	while (why == NULL && *s != '\0') {
		n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (named)
				why = "has '..' after a name";
			else if (--depth < 0)
				why = "leads outside the destination";
		} else if (n > 0 && !(n == 1 && s[0] == '.')) {
			named = 1;
			depth++;
		}
		s += n;
		s += *s == '/';
	}
	if (why == NULL)
		return 0;
	snprintf(msg, sizeof(msg), "symlink to '%.1024s' %s", target, why);
	return unpack_refuse(name, msg);
}

/* A hard link to target: to a regular file extracted before. */
static int
unpack_hardlink_ok(
    struct unpack *u, const char *name, const char *target, char *trel)
{
	const char *why;
	char msg[PATH_MAX + 64];

	if (unpack_name(target, trel, &why) == -1) {
		snprintf(
		    msg, sizeof(msg), "hard link to '%.1024s' %s", target, why);
		return unpack_refuse(name, msg);
	}
	if (unpack_seen_type(u, trel) != AE_IFREG) {
		snprintf(msg, sizeof(msg),
		    "hard link to '%.1024s', which is no file extracted before",
		    target);
		return unpack_refuse(name, msg);
	}
	return 0;
}

/*
 * Check the entry e, named name, whose normalized name is rel; trel gets a
 * hard link's normalized target.
 */
static int
unpack_check(struct unpack *u, struct archive_entry *e, const char *name,
    const char *rel, char *trel)
{
	mode_t mode = archive_entry_mode(e);
	const char *link;

	if (unpack_through_link(u, name, rel) == -1)
		return -1;
	if ((link = archive_entry_hardlink(e)) != NULL &&
	    unpack_hardlink_ok(u, name, link, trel) == -1)
		return -1;
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
	case 0: /* a hard link of some tar variants */
		if (link == NULL && archive_entry_filetype(e) == 0)
			return unpack_refuse(name, "is of no known type");
		if (mode & S_ISUID)
			return unpack_refuse(name, "has the setuid bit");
		if (mode & S_ISGID)
			return unpack_refuse(name, "has the setgid bit");
		return 0;
	case AE_IFDIR:
		return 0;
	case AE_IFLNK:
		if ((link = archive_entry_symlink(e)) == NULL)
			link = "";
		return unpack_symlink_ok(name, rel, link);
	case AE_IFCHR:
	case AE_IFBLK:
		return unpack_refuse(name, "is a device node");
	case AE_IFIFO:
		return unpack_refuse(name, "is a FIFO");
	case AE_IFSOCK:
		return unpack_refuse(name, "is a socket");
	default:
		return unpack_refuse(name, "is of no known type");
	}
}

/* ---- extraction: writing ---- */

static int
unpack_too_big(struct unpack *u)
{
	return error_set(EX_DATAERR,
	    "the archive unpacks to more than %lld bytes (--max-size)",
	    (long long)u->max_bytes);
}

/* A failure of the reader: the source's error, or the archive's. */
static int
unpack_bad(struct unpack *u, struct archive *in)
{
	const char *s = archive_error_string(in);

	if (u->rd_failed)
		return -1;
	return error_set(EX_DATAERR, "%s: %s",
	    u->files == 0 ? "not an archive" : "corrupt archive",
	    s != NULL ? s : "unknown error");
}

static int
unpack_write_failed(struct archive *out, const char *name)
{
	const char *s = archive_error_string(out);
	int e = archive_errno(out);

	return error_set(EX_IOERR, "cannot write '%.1024s': %s", name,
	    e > 0	    ? strerror(e)
		: s != NULL ? s
			    : "unknown error");
}

static int
unpack_data(
    struct unpack *u, struct archive *in, struct archive *out, const char *name)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	for (;;) {
		r = archive_read_data_block(in, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return unpack_bad(u, in);
		if ((int64_t)len > u->max_bytes - u->bytes)
			return unpack_too_big(u);
		u->bytes += len;
		if (archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
			return unpack_write_failed(out, name);
	}
}

/* Check the entry e and write it under u->root. */
static int
unpack_entry(struct unpack *u, struct archive *in, struct archive *out,
    struct archive_entry *e)
{
	char rel[PATH_MAX], trel[PATH_MAX], path[PATH_MAX], name[PATH_MAX];
	const char *s = archive_entry_pathname(e), *why;
	int type = archive_entry_filetype(e);
	mode_t perm;

	if (++u->files > u->max_files)
		return error_set(EX_DATAERR,
		    "the archive has more than %lld entries (--max-files)",
		    (long long)u->max_files);
	if (s == NULL || *s == '\0')
		return unpack_refuse("", "has no name");
	if (strlen(s) >= sizeof(name))
		return unpack_refuse(s, "has too long a name");
	memcpy(name, s, strlen(s) + 1);
	if (unpack_name(name, rel, &why) == -1)
		return unpack_refuse(name, why);
	if (rel[0] == '\0' && type == AE_IFDIR)
		return 0; /* "./": the destination itself */
	if (rel[0] == '\0')
		return unpack_refuse(name, "is not a folder");
	if (unpack_check(u, e, name, rel, trel) == -1)
		return -1;
	if (archive_entry_size_is_set(e) &&
	    archive_entry_size(e) > u->max_bytes - u->bytes)
		return unpack_too_big(u);
	if (snprintf(path, sizeof(path), "%s/%s", u->root, rel) >=
	    (int)sizeof(path))
		return unpack_refuse(name, "has too long a name");
	archive_entry_copy_pathname(e, path);
	if (archive_entry_hardlink(e) != NULL) {
		if (snprintf(path, sizeof(path), "%s/%s", u->root, trel) >=
		    (int)sizeof(path))
			return unpack_refuse(name, "has too long a name");
		archive_entry_copy_hardlink(e, path);
		type = AE_IFREG;
	}
	perm = archive_entry_perm(e) & 0777;
	archive_entry_set_perm(e, type == AE_IFDIR ? perm | 0700 : perm);
	if (archive_write_header(out, e) < ARCHIVE_WARN)
		return unpack_write_failed(out, name);
	if (unpack_data(u, in, out, name) == -1)
		return -1;
	if (archive_write_finish_entry(out) < ARCHIVE_WARN)
		return unpack_write_failed(out, name);
	return unpack_remember(u, rel, type);
}

static int
unpack_all(struct unpack *u, struct archive *in, struct archive *out)
{
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			return unpack_bad(u, in);
		if (unpack_entry(u, in, out, e) == -1)
			return -1;
	}
	if (archive_write_close(out) < ARCHIVE_WARN)
		return unpack_write_failed(out, "the destination");
	return 0;
}

/*
 * Read the source to its end: what it says there (a transfer's result, a
 * hash) is part of the verdict, and must come before anything is moved in,
 * while libarchive stops at the archive's own end.  What follows that end is
 * not kept but counted against the byte cap.
 */
static int
unpack_drain(struct unpack *u)
{
	const void *buf;
	int64_t extra = 0;
	ssize_t n;

	/* libarchive may take a failure past its end for the end. */
	if (u->rd_failed)
		return -1;
	while (!u->done) {
		if ((n = u->rd(u->arg, &buf)) <= 0) {
			u->done = 1;
			return n < 0 ? -1 : 0;
		}
		if (n > u->max_bytes - extra)
			return error_set(EX_DATAERR,
			    "more than %lld bytes follow the archive's end "
			    "(--max-size)",
			    (long long)u->max_bytes);
		extra += n;
	}
	return 0;
}

static struct archive *
unpack_reader(struct unpack *u)
{
	struct archive *in;

	if ((in = archive_read_new()) == NULL)
		return pack_oom(), NULL;
	/*
	 * The compressions named, not archive_read_support_filter_all(),
	 * which would also run lrzip, lzop or grzip programs.
	 */
	archive_read_support_filter_gzip(in);
	archive_read_support_filter_bzip2(in);
	archive_read_support_filter_xz(in);
	archive_read_support_filter_lzma(in);
	archive_read_support_filter_zstd(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_zip_streamable(in);
	if (archive_read_open2(in, u, NULL, unpack_read, NULL, NULL) !=
	    ARCHIVE_OK) {
		unpack_bad(u, in);
		archive_read_free(in);
		return NULL;
	}
	return in;
}

static struct archive *
unpack_writer(void)
{
	struct archive *out;

	if ((out = archive_write_disk_new()) == NULL)
		return pack_oom(), NULL;
	archive_write_disk_set_options(out,
	    ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	return out;
}

/* ---- extraction: the private folder and the move ---- */

static int
unpack_rm1(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path) == -1 ? -1 : 0;
}

/* Remove the tree at path, without following symlinks. */
static void
unpack_rmtree(const char *path)
{
	nftw(path, unpack_rm1, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make dir if missing (*made), and the private folder inside it. */
static int
unpack_root(struct unpack *u, const char *dir, int *made)
{
	struct stat st;
	size_t len;

	*made = 0;
	if (mkdir(dir, 0777) == 0)
		*made = 1;
	else if (errno != EEXIST)
		return error_set(
		    EX_CANTCREAT, "cannot make '%s': %s", dir, strerror(errno));
	else if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return error_set(EX_CANTCREAT, "'%s' is not a folder", dir);
	if ((u->dir = realpath(dir, NULL)) == NULL) {
		error_set(
		    EX_CANTCREAT, "cannot find '%s': %s", dir, strerror(errno));
		goto fail;
	}
	len = strlen(u->dir);
	if ((u->root = malloc(len + sizeof("/" PACK_TMP "XXXXXX"))) == NULL) {
		pack_oom();
		goto fail;
	}
	snprintf(u->root, len + sizeof("/" PACK_TMP "XXXXXX"), "%s/%s",
	    strcmp(u->dir, "/") == 0 ? "" : u->dir, PACK_TMP "XXXXXX");
	if (mkdtemp(u->root) == NULL) {
		error_set(EX_CANTCREAT, "cannot make a folder in '%s': %s", dir,
		    strerror(errno));
		free(u->root);
		u->root = NULL;
		goto fail;
	}
	u->base = strrchr(u->root, '/') + 1;
	return 0;
fail:
	if (*made)
		rmdir(dir);
	*made = 0;
	return -1;
}

static int unpack_move(
    struct unpack *u, int from, int to, const char *at, int dry);

/*
 * Move from/name to to/name: into its place when free or a non-folder,
 * merged into it when both are folders.  at names the folder in errors.
 * dry: only check that nothing is in the way.
 */
static int
unpack_move1(struct unpack *u, int from, int to, const char *at,
    const char *name, int dry)
{
	char path[PATH_MAX];
	struct stat s, t;
	int f = -1, d = -1, r = -1, there = 1;

	snprintf(path, sizeof(path), "%s%s%s", at, *at ? "/" : "", name);
	if (*at == '\0' && strcmp(name, u->base) == 0)
		return unpack_refuse(
		    name, "has the name of the unpacking folder");
	if (fstatat(from, name, &s, AT_SYMLINK_NOFOLLOW) == -1)
		return error_set(
		    EX_IOERR, "cannot move '%s': %s", path, strerror(errno));
	if (fstatat(to, name, &t, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			return error_set(EX_IOERR, "cannot move '%s': %s", path,
			    strerror(errno));
		there = 0;
	} else if (S_ISDIR(t.st_mode) && S_ISDIR(s.st_mode)) {
		f = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		d = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (f == -1 || d == -1)
			error_set(EX_IOERR, "cannot merge '%s': %s", path,
			    strerror(errno));
		else
			r = unpack_move(u, f, d, path, dry);
		if (f != -1)
			close(f);
		if (d != -1)
			close(d);
		return r;
	} else if (S_ISDIR(t.st_mode))
		return error_set(EX_CANTCREAT,
		    "cannot replace the folder '%s' with a file", path);
	if (dry)
		return 0;
	/* rename(2) replaces a file by a file, not by a folder. */
	if (there && S_ISDIR(s.st_mode) && unlinkat(to, name, 0) == -1)
		return error_set(
		    EX_IOERR, "cannot replace '%s': %s", path, strerror(errno));
	if (renameat(from, name, to, name) == -1)
		return error_set(
		    EX_IOERR, "cannot move '%s': %s", path, strerror(errno));
	return 0;
}

static int
unpack_move(struct unpack *u, int from, int to, const char *at, int dry)
{
	char **names;
	size_t n, i;
	int r = 0;

	if (pack_list(from, *at ? at : "the archive", &names, &n) == -1)
		return -1;
	for (i = 0; i < n && r == 0; i++)
		r = unpack_move1(u, from, to, at, names[i], dry);
	pack_list_free(names, n);
	return r;
}

/* Move the private folder's entries into the destination. */
static int
unpack_finish(struct unpack *u)
{
	int from, to, r = -1;

	from = open(u->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	to = open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (from == -1 || to == -1)
		error_set(
		    EX_IOERR, "cannot open '%s': %s", u->dir, strerror(errno));
	else if (unpack_move(u, from, to, "", 1) == 0)
		r = unpack_move(u, from, to, "", 0);
	if (from != -1)
		close(from);
	if (to != -1)
		close(to);
	return r;
}

int
pack_extract(
    pack_read_fn *rd, void *arg, const char *dir, const struct pack_limits *lim)
{
	struct unpack u = {.rd = rd, .arg = arg};
	struct archive *in = NULL, *out = NULL;
	int made, r = -1;

	u.max_bytes =
	    lim != NULL && lim->max_bytes > 0 ? lim->max_bytes : PACK_MAX_BYTES;
	u.max_files =
	    lim != NULL && lim->max_files > 0 ? lim->max_files : PACK_MAX_FILES;
	if (unpack_root(&u, dir, &made) == -1) {
		free(u.dir);
		return -1;
	}
	if ((in = unpack_reader(&u)) != NULL &&
	    (out = unpack_writer()) != NULL && unpack_all(&u, in, out) == 0 &&
	    unpack_drain(&u) == 0)
		r = unpack_finish(&u);
	archive_read_free(in);
	archive_write_free(out); /* sets the folders' modes and times */
	unpack_rmtree(u.root);
	if (r == -1 && made)
		rmdir(dir);
	tdestroy(u.seen, free);
	free(u.root);
	free(u.dir);
	return r;
}

static ssize_t
fdsource_read(void *arg, const void **buf)
{
	struct fdsource *s = arg;
	ssize_t n;

	while (
	    (n = read(s->fd, s->buf, sizeof(s->buf))) == -1 && errno == EINTR)
		;
	if (n == -1)
		return error_set(
		    EX_IOERR, "cannot read the archive: %s", strerror(errno));
	*buf = s->buf;
	return n;
}

int
pack_extract_fd(int fd, const char *dir, const struct pack_limits *lim)
{
	struct fdsource *s;
	int r;

	if ((s = malloc(sizeof(*s))) == NULL)
		return pack_oom();
	s->fd = fd;
	r = pack_extract(fdsource_read, s, dir, lim);
	free(s);
	return r;
}

/* ---- packing ---- */

static int
pack_suffix(const char *name, size_t len, const char *suf)
{
	size_t n = strlen(suf);

	return len >= n && strcasecmp(name + len - n, suf) == 0;
}

int
pack_format_of(const char *name)
{
	size_t len = strlen(name);

	if (pack_suffix(name, len, ".tar.gz") || pack_suffix(name, len, ".tgz"))
		return PACK_TGZ;
	if (pack_suffix(name, len, ".tar"))
		return PACK_TAR;
	if (pack_suffix(name, len, ".zip"))
		return PACK_ZIP;
	return error_set(EX_USAGE,
	    "'%s' has no archive suffix (.tar, .tar.gz, .tgz, .zip)", name);
}

/*
 * The write callback.  After a failure, what follows is dropped rather than
 * failed: libarchive 3.6 leaks its output buffer when freed in its fatal
 * state (libarchive#1568), so it is never let into it; the walk stops at
 * its next look at k->failed instead.
 */
static la_ssize_t
pack_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct packer *k = arg;
	ssize_t n;

	if (k->failed)
		return len;
	if (k->max > 0 && (int64_t)len > k->max - k->written) {
		k->failed = 1;
		error_set(EX_DATAERR, "the archive of '%s' is over %lld bytes",
		    k->dir, (long long)k->max);
		return len;
	}
	for (size_t off = 0; off < len; off += n) {
		n = write(k->fd, (const char *)buf + off, len - off);
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n == -1) {
			k->failed = 1;
			error_set(EX_IOERR,
			    "cannot write the archive of '%s': %s", k->dir,
			    strerror(errno));
			return len;
		}
	}
	k->written += len;
	return len;
}

/* A failure of the writer: the write callback's error, or the archive's. */
static int
pack_failed(struct packer *k, struct archive *a, const char *rel)
{
	const char *s = archive_error_string(a);

	if (k->failed)
		return -1;
	return error_set(EX_IOERR, "cannot pack '%s': %s", rel,
	    s != NULL ? s : "unknown error");
}

static int
pack_rules(struct packer *k, const char *const *ignore)
{
	size_t n = 0, len;
	struct pack_rule *r;
	const char *s;

	while (ignore != NULL && ignore[n] != NULL)
		n++;
	if (n == 0)
		return 0;
	if ((k->rules = calloc(n, sizeof(*k->rules))) == NULL)
		return pack_oom();
	for (size_t i = 0; i < n; i++) {
		s = ignore[i];
		r = &k->rules[k->nrules];
		len = strlen(s);
		if ((r->dironly = len > 0 && s[len - 1] == '/'))
			len--;
		r->anchored = memchr(s, '/', len) != NULL;
		if (*s == '/')
			s++, len--;
		if (len == 0)
			continue;
		if ((r->glob = strndup(s, len)) == NULL)
			return pack_oom();
		k->nrules++;
	}
	return 0;
}

static int
pack_ignored(struct packer *k, const char *rel, const char *base, int isdir)
{
	for (size_t i = 0; i < k->nrules; i++) {
		struct pack_rule *r = &k->rules[i];

		if (r->dironly && !isdir)
			continue;
		if (fnmatch(r->glob, r->anchored ? rel : base,
			r->anchored ? FNM_PATHNAME : 0) == 0)
			return 1;
	}
	return 0;
}

static int
pack_data(struct packer *k, struct archive *a, int dfd, const char *name,
    const char *rel, int64_t size)
{
	ssize_t n;
	int fd, r = -1;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return error_set(
		    EX_IOERR, "cannot read '%s': %s", rel, strerror(errno));
	while (size > 0) {
		n = read(fd, k->buf,
		    size < (int64_t)sizeof(k->buf) ? (size_t)size
						   : sizeof(k->buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			error_set(EX_IOERR, "cannot read '%s': %s", rel,
			    strerror(errno));
			goto out;
		}
		if (n == 0) {
			error_set(
			    EX_IOERR, "'%s' shrank while being packed", rel);
			goto out;
		}
		if (archive_write_data(a, k->buf, n) < 0 || k->failed) {
			pack_failed(k, a, rel);
			goto out;
		}
		size -= n;
	}
	r = 0;
out:
	close(fd);
	return r;
}

static int pack_walk(
    struct packer *k, struct archive *a, int dfd, char *rel, size_t rlen);

/* Pack dfd/name, known as rel, whose lstat is st. */
static int
pack_one(struct packer *k, struct archive *a, int dfd, const char *name,
    char *rel, const struct stat *st)
{
	struct archive_entry *e;
	ssize_t n;
	int r = -1, sub;

	if ((e = archive_entry_new()) == NULL)
		return pack_oom();
	archive_entry_copy_pathname(e, rel);
	archive_entry_set_perm(e, st->st_mode & 0777);
	archive_entry_set_mtime(e, st->st_mtime, 0);
	if (S_ISDIR(st->st_mode))
		archive_entry_set_filetype(e, AE_IFDIR);
	else if (S_ISREG(st->st_mode)) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, st->st_size);
	} else {
		n = readlinkat(dfd, name, k->buf, sizeof(k->buf) - 1);
		if (n == -1) {
			error_set(EX_IOERR, "cannot read the symlink '%s': %s",
			    rel, strerror(errno));
			goto out;
		}
		k->buf[n] = '\0';
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_copy_symlink(e, k->buf);
	}
	if (archive_write_header(a, e) < ARCHIVE_WARN || k->failed) {
		pack_failed(k, a, rel);
		goto out;
	}
	if (S_ISREG(st->st_mode))
		r = pack_data(k, a, dfd, name, rel, st->st_size);
	else if (S_ISDIR(st->st_mode)) {
		sub = openat(
		    dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub == -1) {
			error_set(EX_IOERR, "cannot open '%s': %s", rel,
			    strerror(errno));
			goto out;
		}
		r = pack_walk(k, a, sub, rel, strlen(rel));
		close(sub);
	} else
		r = 0;
out:
	archive_entry_free(e);
	return r;
}

/* Pack the folder dfd, known as rel (rlen bytes, "" for the top). */
static int
pack_walk(struct packer *k, struct archive *a, int dfd, char *rel, size_t rlen)
{
	char **names;
	size_t n, i;
	struct stat st;
	int r = 0;

	if (pack_list(dfd, rlen ? rel : k->dir, &names, &n) == -1)
		return -1;
	for (i = 0; i < n && r == 0; i++) {
		if (rlen + 1 + strlen(names[i]) >= PATH_MAX) {
			r = error_set(EX_IOERR, "cannot pack '%s/%s': too long",
			    rel, names[i]);
			break;
		}
		snprintf(rel + rlen, PATH_MAX - rlen, "%s%s", rlen ? "/" : "",
		    names[i]);
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1)
			r = error_set(EX_IOERR, "cannot read '%s': %s", rel,
			    strerror(errno));
		else if ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ||
			     S_ISLNK(st.st_mode)) &&
		    !(k->out_reg && st.st_dev == k->out_dev &&
			st.st_ino == k->out_ino) &&
		    !pack_ignored(k, rel, names[i], S_ISDIR(st.st_mode)))
			r = pack_one(k, a, dfd, names[i], rel, &st);
		rel[rlen] = '\0';
	}
	pack_list_free(names, n);
	return r;
}

static struct archive *
pack_writer(struct packer *k, enum pack_format fmt)
{
	struct archive *a;
	int r;

	if ((a = archive_write_new()) == NULL)
		return pack_oom(), NULL;
	if (fmt == PACK_ZIP)
		r = archive_write_set_format_zip(a);
	else
		r = archive_write_set_format_pax_restricted(a);
	if (r == ARCHIVE_OK && fmt == PACK_TGZ &&
	    (r = archive_write_add_filter_gzip(a)) == ARCHIVE_OK)
		r = archive_write_set_options(a, "gzip:!timestamp");
	/* Only tar pads its last block: gzip and zip want no tail. */
	if (r == ARCHIVE_OK && fmt != PACK_TAR)
		r = archive_write_set_bytes_in_last_block(a, 1);
	if (r == ARCHIVE_OK)
		r = archive_write_open2(a, k, NULL, pack_write, NULL, NULL);
	if (r != ARCHIVE_OK) {
		pack_failed(k, a, k->dir);
		archive_write_free(a);
		return NULL;
	}
	return a;
}

int
pack_dir(const char *dir, int fd, enum pack_format fmt,
    const char *const *ignore, int64_t max_bytes)
{
	char rel[PATH_MAX] = "";
	struct archive *a = NULL;
	struct packer *k;
	struct stat st;
	int dfd = -1, r = -1;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return pack_oom();
	k->fd = fd;
	k->dir = dir;
	k->max = max_bytes;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		k->out_reg = 1;
		k->out_dev = st.st_dev;
		k->out_ino = st.st_ino;
	}
	if (pack_rules(k, ignore) == -1)
		goto out;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		error_set(
		    EX_NOINPUT, "cannot open '%s': %s", dir, strerror(errno));
		goto out;
	}
	if ((a = pack_writer(k, fmt)) == NULL ||
	    pack_walk(k, a, dfd, rel, 0) == -1)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK || k->failed)
		pack_failed(k, a, dir);
	else
		r = 0;
out:
	if (a != NULL)
		archive_write_free(a);
	if (dfd != -1)
		close(dfd);
	for (size_t i = 0; i < k->nrules; i++)
		free(k->rules[i].glob);
	free(k->rules);
	free(k);
	return r;
}

/* ---- ignore files ---- */

void
pack_ignore_free(char **lines)
{
	for (size_t i = 0; lines != NULL && lines[i] != NULL; i++)
		free(lines[i]);
	free(lines);
}

int
pack_ignore_file(const char *path, char ***lines)
{
	char **v, **nv, *line = NULL;
	size_t cap = 0, n = 0, vcap = 8, len;
	ssize_t got;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT) {
			*lines = NULL;
			return 0;
		}
		return error_set(
		    EX_NOINPUT, "cannot read '%s': %s", path, strerror(errno));
	}
	if ((v = calloc(vcap, sizeof(*v))) == NULL)
		goto oom;
	while ((got = getline(&line, &cap, fp)) != -1) {
		len = got;
		while (len > 0 && strchr("\n\r \t", line[len - 1]) != NULL)
			len--;
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (n + 1 == vcap) {
			if ((nv = realloc(v, 2 * vcap * sizeof(*v))) == NULL)
				goto oom;
			v = nv;
			vcap *= 2;
		}
		if ((v[n] = strdup(line)) == NULL)
			goto oom;
		v[++n] = NULL;
	}
	if (ferror(fp)) {
		error_set(
		    EX_NOINPUT, "cannot read '%s': %s", path, strerror(errno));
		goto fail;
	}
	free(line);
	fclose(fp);
	*lines = v;
	return 0;
oom:
	pack_oom();
fail:
	free(line);
	fclose(fp);
	pack_ignore_free(v);
	return -1;
}
