/*
 * Unit tests of pack: extraction of each format, from memory and from a
 * pipe, merges, hostile entries, caps and bombs; packing with an ignore
 * list, reproducibly, with a cap.  The archives are made with libarchive's
 * writer so that hostile entries are exactly what a test says.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "pack.h"
#include "tap.h"

#define MTIME 1700000000
#define MIB (1024 * 1024)

static char top[PATH_MAX]; /* this run's temporary folder */
static int ncase;

/* A growing buffer libarchive writes an archive to. */
struct mem {
	char *p;
	size_t len, cap;
	size_t keep; /* 0, or how many bytes to keep of those written */
};

enum fmt { F_TAR, F_TGZ, F_TBZ, F_TXZ, F_TZST, F_ZIP, F_NFMT };
static const char *const fmt_name[] = {
    "tar", "tar.gz", "tar.bz2", "tar.xz", "tar.zst", "zip"};

/*
 * An entry to craft.  type: 'f' file (data: contents), 'd' folder, 'l'
 * symlink (data: target), 'h' hard link (data: target), 'c' character
 * device, 'b' block device, 'p' FIFO.  perm 0: 0644, or 0755 for folders.
 */
struct ent {
	char type;
	const char *name;
	const char *data;
	mode_t perm;
};

/* snprintf into a PATH_MAX buffer, which test paths never come near. */
static char *pathf(char *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
pathf(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return buf;
}

static la_ssize_t
mem_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	ssize_t n = len;
	struct mem *m = arg;
	size_t cap;
	char *p;

	if (m->keep > 0 && m->len + len > m->keep)
		len = m->len < m->keep ? m->keep - m->len : 0;
	if (m->len + len > m->cap) {
		for (cap = m->cap ? m->cap : 65536; cap < m->len + len;)
			cap *= 2;
		if ((p = realloc(m->p, cap)) == NULL)
			return -1;
		m->p = p;
		m->cap = cap;
	}
	if (len > 0)
		memcpy(m->p + m->len, buf, len);
	m->len += len;
	return n;
}

static struct archive *
writer(enum fmt f, struct mem *m)
{
	struct archive *a = archive_write_new();

	if (f == F_ZIP)
		archive_write_set_format_zip(a);
	else
		archive_write_set_format_pax_restricted(a);
	if (f == F_TGZ)
		archive_write_add_filter_gzip(a);
	else if (f == F_TBZ)
		archive_write_add_filter_bzip2(a);
	else if (f == F_TXZ)
		archive_write_add_filter_xz(a);
	else if (f == F_TZST)
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	memset(m, 0, sizeof(*m));
	archive_write_open2(a, m, NULL, mem_write, NULL, NULL);
	return a;
}

static void
add(struct archive *a, const struct ent *x)
{
	struct archive_entry *e = archive_entry_new();
	size_t len = x->data != NULL ? strlen(x->data) : 0;

	archive_entry_set_pathname(e, x->name);
	archive_entry_set_mtime(e, MTIME, 0);
	archive_entry_set_perm(e, x->perm ? x->perm : 0644);
	switch (x->type) {
	case 'f':
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, len);
		break;
	case 'd':
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, x->perm ? x->perm : 0755);
		break;
	case 'l':
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, x->data);
		break;
	case 'h':
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_hardlink(e, x->data);
		break;
	case 'c':
		archive_entry_set_filetype(e, AE_IFCHR);
		archive_entry_set_rdev(e, makedev(1, 3));
		break;
	case 'b':
		archive_entry_set_filetype(e, AE_IFBLK);
		archive_entry_set_rdev(e, makedev(7, 0));
		break;
	case 'p':
		archive_entry_set_filetype(e, AE_IFIFO);
		break;
	}
	if (archive_write_header(a, e) != ARCHIVE_OK)
		printf("# cannot add '%s': %s\n", x->name,
		    archive_error_string(a));
	if (x->type == 'f' && len > 0)
		archive_write_data(a, x->data, len);
	archive_entry_free(e);
}

/* An archive of the entries v (up to one with type 0). */
static struct mem
build(enum fmt f, const struct ent *v)
{
	struct mem m;
	struct archive *a = writer(f, &m);

	for (; v->type != 0; v++)
		add(a, v);
	archive_write_close(a);
	archive_write_free(a);
	return m;
}

/* A source handing out a buffer in small chunks; fails at fail_at. */
struct memsrc {
	const char *p;
	size_t len, off, chunk, fail_at;
};

static ssize_t
memsrc_read(void *arg, const void **buf)
{
	struct memsrc *s = arg;
	size_t n = s->len - s->off;

	if (s->fail_at > 0 && s->off >= s->fail_at)
		return error_set(EX_IOERR, "the network went away");
	if (n > s->chunk)
		n = s->chunk;
	*buf = s->p + s->off;
	s->off += n;
	return n;
}

static int
extract_mem(const struct mem *m, const char *dir, const struct pack_limits *l)
{
	struct memsrc s = {m->p, m->len, 0, 1000, 0};

	return pack_extract(memsrc_read, &s, dir, l);
}

/* ---- looking at folders ---- */

static void
sig_walk(FILE *out, const char *path, const char *rel)
{
	char p[PATH_MAX], r[PATH_MAX], buf[256];
	struct dirent **v;
	struct stat st;
	ssize_t n;
	int fd, k = scandir(path, &v, NULL, alphasort);

	for (int i = 0; i < k; i++) {
		const char *name = v[i]->d_name;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			goto next;
		pathf(p, "%s/%s", path, name);
		pathf(r, "%s%s%s", rel, *rel ? "/" : "", name);
		if (lstat(p, &st) == -1)
			goto next;
		fprintf(out, "%s %o %lld", r, (unsigned)st.st_mode,
		    (long long)st.st_size);
		if (S_ISLNK(st.st_mode) &&
		    (n = readlink(p, buf, sizeof(buf) - 1)) >= 0)
			fprintf(out, " -> %.*s", (int)n, buf);
		if (S_ISREG(st.st_mode) && st.st_size <= 64 &&
		    (fd = open(p, O_RDONLY)) != -1) {
			n = read(fd, buf, sizeof(buf));
			fprintf(out, " '%.*s'", (int)(n > 0 ? n : 0), buf);
			close(fd);
		}
		fputc('\n', out);
		if (S_ISDIR(st.st_mode))
			sig_walk(out, p, r);
next:
		free(v[i]);
	}
	if (k >= 0)
		free(v);
}

/* Everything under path: names, modes, sizes, link targets, small data. */
static char *
sig(const char *path)
{
	char *s = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&s, &len);
	struct stat st;

	if (lstat(path, &st) == -1)
		fprintf(out, "(none)\n");
	else
		sig_walk(out, path, "");
	fclose(out);
	return s;
}

static int
rm1(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
rmtree(const char *path)
{
	nftw(path, rm1, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new folder for one case: top/NAME-N, with its path in buf. */
static char *
newcase(char *buf, const char *name)
{
	pathf(buf, "%s/%s-%d", top, name, ++ncase);
	mkdir(buf, 0755);
	return buf;
}

static void
put(const char *dir, const char *name, const char *data)
{
	char p[PATH_MAX];
	FILE *f;

	pathf(p, "%s/%s", dir, name);
	if ((f = fopen(p, "w")) != NULL) {
		fputs(data, f);
		fclose(f);
	}
}

/* The contents of dir/name ("" when it cannot be read). */
static const char *
get(const char *dir, const char *name)
{
	static char buf[4096];
	char p[PATH_MAX];
	ssize_t n = -1;
	int fd;

	pathf(p, "%s/%s", dir, name);
	if ((fd = open(p, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static const char *
linkof(const char *dir, const char *name)
{
	static char buf[PATH_MAX];
	char p[PATH_MAX];
	ssize_t n;

	pathf(p, "%s/%s", dir, name);
	n = readlink(p, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Whether a private folder was left in dir. */
static int
leftover(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int found = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		found |= strncmp(de->d_name, ".jobkit-unpack-", 15) == 0;
	if (d != NULL)
		closedir(d);
	return found;
}

static int
count(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

static int
has_msg(const char *want)
{
	if (strstr(error_msg(), want) != NULL)
		return 1;
	printf("#   message '%s', want '%s'\n", error_msg(), want);
	return 0;
}

/* ---- extraction ---- */

static const struct ent small_tree[] = {{'d', "top", NULL, 0750},
    {'f', "top/a.txt", "hello\n", 0640}, {'d', "top/sub", NULL, 0},
    {'f', "top/sub/b.sh", "#!/bin/sh\n", 0755},
    {'l', "top/link", "sub/b.sh", 0777}, {0}};

static void
test_formats(void)
{
	char c[PATH_MAX], dest[PATH_MAX];
	struct stat st;

	for (int f = 0; f < F_NFMT; f++) {
		struct mem m = build(f, small_tree);
		int r;

		newcase(c, fmt_name[f]);
		pathf(dest, "%s/dest", c);
		r = extract_mem(&m, dest, NULL);
		ok(r == 0, "%s: extracted into a new folder", fmt_name[f]);
		if (r != 0)
			printf("#   %s\n", error_msg());
		ok(strcmp(get(dest, "top/a.txt"), "hello\n") == 0 &&
			strcmp(get(dest, "top/sub/b.sh"), "#!/bin/sh\n") == 0,
		    "%s: contents", fmt_name[f]);
		ok(!leftover(dest) && count(dest) == 1,
		    "%s: only the archive's entries are left", fmt_name[f]);
		pathf(c, "%s/top/a.txt", dest);
		ok(stat(c, &st) == 0 && st.st_mtime == MTIME, "%s: mtime kept",
		    fmt_name[f]);
		if (f == F_ZIP) {
			/* A zip stream has no modes: see pack.h. */
			ok(strcmp(get(dest, "top/link"), "sub/b.sh") == 0,
			    "zip: a symlink comes out as a file of its target");
			free(m.p);
			continue;
		}
		ok((st.st_mode & 07777) == 0640, "%s: mode kept", fmt_name[f]);
		ok(strcmp(linkof(dest, "top/link"), "sub/b.sh") == 0,
		    "%s: symlink kept", fmt_name[f]);
		free(m.p);
	}
}

/* Bytes that do not repeat, so that no compressor shrinks them. */
static char *
noise(size_t len)
{
	char *p = malloc(len + 1);
	uint32_t x = 12345;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		p[i] = 'a' + (x >> 16) % 26;
	}
	p[len] = '\0';
	return p;
}

static void
test_pipe(void)
{
	char c[PATH_MAX], dest[PATH_MAX], *big = noise(3 * MIB);
	struct ent v[] = {{'f', "big", big, 0}, {'f', "small", "s\n", 0}, {0}};
	int fds[2], r, status;
	pid_t pid;

	for (int f = F_TGZ; f < F_NFMT; f += F_ZIP - F_TGZ) {
		struct mem m = build(f, v);

		newcase(c, "pipe");
		pathf(dest, "%s/dest", c);
		if (pipe(fds) == -1 || (pid = fork()) == -1) {
			ok(0, "pipe and fork");
			return;
		}
		if (pid == 0) {
			close(fds[0]);
			for (size_t off = 0; off < m.len;) {
				ssize_t n =
				    write(fds[1], m.p + off, m.len - off);
				if (n <= 0)
					_exit(1);
				off += n;
			}
			_exit(0);
		}
		close(fds[1]);
		r = pack_extract_fd(fds[0], dest, NULL);
		close(fds[0]);
		waitpid(pid, &status, 0);
		pathf(c, "%s/big", dest);
		ok(r == 0 && strcmp(get(dest, "small"), "s\n") == 0,
		    "%s from a pipe", fmt_name[f]);
		{
			FILE *fp = fopen(c, "r");
			char *back = malloc(3 * MIB + 1);
			size_t n = fp ? fread(back, 1, 3 * MIB + 1, fp) : 0;

			ok(n == 3 * MIB && memcmp(back, big, n) == 0,
			    "%s from a pipe: 3 MiB file intact", fmt_name[f]);
			if (fp)
				fclose(fp);
			free(back);
		}
		free(m.p);
	}
	free(big);
}

static void
test_merge(void)
{
	char c[PATH_MAX], dest[PATH_MAX], p[PATH_MAX], *before;
	const struct ent v[] = {{'d', "top", NULL, 0},
	    {'f', "top/a.txt", "new\n", 0}, {'f', "top/sub/c", "c\n", 0},
	    {'f', "file", "was a folder? no: a file\n", 0},
	    {'d', "wasfile", NULL, 0}, {'f', "wasfile/x", "x\n", 0}, {0}};
	const struct ent clash[] = {{'f', "a.txt", "a\n", 0},
	    {'f', "top", "a file where a folder is\n", 0}, {0}};
	struct mem m = build(F_TAR, v);

	newcase(c, "merge");
	pathf(dest, "%s/dest", c);
	mkdir(dest, 0755);
	pathf(p, "%s/top", dest);
	mkdir(p, 0755);
	pathf(p, "%s/top/sub", dest);
	mkdir(p, 0755);
	put(dest, "top/a.txt", "old\n");
	put(dest, "top/old.txt", "kept\n");
	put(dest, "top/sub/d", "kept too\n");
	put(dest, "keep.txt", "kept\n");
	put(dest, "file", "replaced\n");
	put(dest, "wasfile", "replaced by a folder\n");
	ok(extract_mem(&m, dest, NULL) == 0, "merge into an existing folder");
	ok(strcmp(get(dest, "top/a.txt"), "new\n") == 0,
	    "merge: a file of the same name is replaced");
	ok(strcmp(get(dest, "top/old.txt"), "kept\n") == 0 &&
		strcmp(get(dest, "top/sub/d"), "kept too\n") == 0 &&
		strcmp(get(dest, "keep.txt"), "kept\n") == 0,
	    "merge: other files stay, at every depth");
	ok(strcmp(get(dest, "top/sub/c"), "c\n") == 0 &&
		strcmp(get(dest, "wasfile/x"), "x\n") == 0 &&
		strcmp(get(dest, "file"), "was a folder? no: a file\n") == 0,
	    "merge: new entries in, a file replaced by a folder");
	ok(!leftover(dest), "merge: no private folder left");
	free(m.p);

	m = build(F_TAR, clash);
	before = sig(c);
	ok(extract_mem(&m, dest, NULL) == -1 &&
		error_status() == EX_CANTCREAT &&
		has_msg("cannot replace the folder 'top' with a file"),
	    "a file where the destination has a folder: EX_CANTCREAT");
	{
		char *after = sig(c);

		ok(strcmp(before, after) == 0,
		    "... and nothing moved, not even the entries before it");
		free(after);
	}
	free(before);
	free(m.p);
}

/*
 * Extract v into a new case's dest (which holds a file), beside outside/
 * (which holds secret); it must fail with EX_DATAERR and want, and leave
 * the case folder exactly as it was.
 */
static void
refused(const char *what, enum fmt f, const struct ent *v, const char *want,
    const char *c)
{
	char dest[PATH_MAX], *before, *after;
	struct mem m = build(f, v);
	int r;

	pathf(dest, "%s/dest", c);
	before = sig(c);
	r = extract_mem(&m, dest, NULL);
	after = sig(c);
	ok(r == -1 && error_status() == EX_DATAERR && has_msg(want),
	    "%s: refused with EX_DATAERR", what);
	ok(strcmp(before, after) == 0, "%s: nothing written anywhere", what);
	if (strcmp(before, after) != 0)
		printf("#   before:\n%s#   after:\n%s", before, after);
	free(before);
	free(after);
	free(m.p);
}

/* A case folder with dest/existing and outside/secret. */
static char *
hostile_case(char *c)
{
	char p[PATH_MAX];

	newcase(c, "hostile");
	pathf(p, "%s/dest", c);
	mkdir(p, 0755);
	put(p, "existing", "old\n");
	pathf(p, "%s/outside", c);
	mkdir(p, 0755);
	put(p, "secret", "secret\n");
	return c;
}

static void
test_hostile(void)
{
	char c[PATH_MAX], abs[PATH_MAX], want[PATH_MAX + 100];
	const struct ent ok1 = {'f', "fine.txt", "fine\n", 0}, end = {0};

	{
		const struct ent v[] = {
		    ok1, {'f', "x/../../outside/planted", "p\n", 0}, end};
		refused("../ in a file name", F_TAR, v,
		    "refused 'x/../../outside/planted': leads outside the "
		    "destination",
		    hostile_case(c));
		refused("../ in a zip", F_ZIP, v,
		    "leads outside the destination", hostile_case(c));
	}
	{
		hostile_case(c);
		pathf(abs, "%s/outside/planted", c);
		const struct ent v[] = {ok1, {'f', abs, "p\n", 0}, end};
		pathf(want, "refused '%s': is an absolute path", abs);
		refused("absolute path", F_TGZ, v, want, c);
	}
	{
		const struct ent v[] = {ok1, {'l', "out", "../outside", 0777},
		    {'f', "out/planted", "p\n", 0}, end};
		refused("symlink to an outside folder, then a file through it",
		    F_TAR, v,
		    "refused 'out': symlink to '../outside' leads outside the "
		    "destination",
		    hostile_case(c));
	}
	{
		hostile_case(c);
		pathf(abs, "%s/outside", c);
		const struct ent v[] = {ok1, {'l', "out", abs, 0777}, end};
		refused("symlink to an absolute path", F_TAR, v,
		    "symlink to '/", c);
	}
	{
		const struct ent v[] = {ok1, {'d', "sub", NULL, 0},
		    {'l', "in", "sub", 0777}, {'f', "in/planted", "p\n", 0},
		    end};
		refused("a file through a symlink, even one inside", F_TAR, v,
		    "refused 'in/planted': passes through the symlink 'in'",
		    hostile_case(c));
	}
	{
		const struct ent v[] = {ok1, {'l', "d/up", "..", 0777},
		    {'l', "d/q", "up/../outside", 0777}, end};
		refused("'..' after a name in a symlink target", F_TAR, v,
		    "refused 'd/q': symlink to 'up/../outside' has '..' after "
		    "a name",
		    hostile_case(c));
	}
	{
		const struct ent v[] = {
		    ok1, {'l', "d/e/l", "../../..", 0777}, end};
		refused("symlink climbing out from deep down", F_TAR, v,
		    "leads outside the destination", hostile_case(c));
	}
	{
		const struct ent v[] = {
		    ok1, {'h', "h", "../outside/secret", 0}, end};
		refused("hard link to ../", F_TAR, v,
		    "refused 'h': hard link to '../outside/secret' leads "
		    "outside the destination",
		    hostile_case(c));
	}
	{
		hostile_case(c);
		pathf(abs, "%s/outside/secret", c);
		const struct ent v[] = {ok1, {'h', "h", abs, 0}, end};
		refused("hard link to an absolute path", F_TAR, v,
		    "is an absolute path", c);
	}
	{
		const struct ent v[] = {ok1, {'h', "h", "existing", 0}, end};
		refused("hard link to a file not in the archive", F_TAR, v,
		    "refused 'h': hard link to 'existing', which is no file "
		    "extracted before",
		    hostile_case(c));
	}
	{
		const struct ent v[] = {
		    ok1, {'d', "d", NULL, 0}, {'h', "h", "d", 0}, end};
		refused("hard link to a folder", F_TAR, v,
		    "which is no file extracted before", hostile_case(c));
	}
	{
		const struct ent v[] = {ok1, {'c', "null", NULL, 0666}, end};
		refused("character device", F_TAR, v,
		    "refused 'null': is a device node", hostile_case(c));
	}
	{
		const struct ent v[] = {ok1, {'b', "loop", NULL, 0600}, end};
		refused("block device", F_TAR, v,
		    "refused 'loop': is a device node", hostile_case(c));
	}
	{
		const struct ent v[] = {ok1, {'p', "fifo", NULL, 0600}, end};
		refused("FIFO", F_TAR, v, "refused 'fifo': is a FIFO",
		    hostile_case(c));
	}
	{
		const struct ent v[] = {
		    ok1, {'f', "su", "#!/bin/sh\n", 04755}, end};
		refused("setuid file", F_TAR, v,
		    "refused 'su': has the setuid bit", hostile_case(c));
	}
	{
		const struct ent v[] = {
		    ok1, {'f', "sg", "#!/bin/sh\n", 02755}, end};
		refused("setgid file", F_TAR, v,
		    "refused 'sg': has the setgid bit", hostile_case(c));
	}
}

/* What must not be refused: links that stay inside, "./" names. */
static void
test_benign(void)
{
	char c[PATH_MAX], dest[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
	const struct ent v[] = {{'d', "./", NULL, 0}, {'f', "./a", "a\n", 0},
	    {'l', "d/up", "..", 0777}, {'l', "d/e/l", "../../a", 0777},
	    {'l', "d/dot", "./x/./y", 0777}, {'h', "d/h", "./a", 0}, {0}};
	struct mem m = build(F_TAR, v);
	struct stat s1, s2;

	newcase(c, "benign");
	pathf(dest, "%s/dest", c);
	ok(extract_mem(&m, dest, NULL) == 0,
	    "links inside, a hard link to an earlier file and ./ are fine");
	ok(strcmp(linkof(dest, "d/up"), "..") == 0 &&
		strcmp(get(dest, "d/e/l"), "a\n") == 0,
	    "... and the links lead where they say");
	pathf(p, "%s/a", dest);
	pathf(q, "%s/d/h", dest);
	ok(stat(p, &s1) == 0 && stat(q, &s2) == 0 && s1.st_ino == s2.st_ino,
	    "... the hard link is one");
	free(m.p);
}

/* n empty files in a tar. */
static struct mem
many(int n)
{
	struct mem m;
	struct archive *a = writer(F_TAR, &m);
	char name[32];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		struct ent e = {'f', name, "", 0};
		add(a, &e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return m;
}

static void
test_file_cap(void)
{
	char c[PATH_MAX], dest[PATH_MAX], *before, *after;
	struct mem m = many(1001);
	struct pack_limits l = {0, 1000};
	int r;

	newcase(c, "files");
	pathf(dest, "%s/dest", c);
	before = sig(c);
	r = extract_mem(&m, dest, &l);
	after = sig(c);
	ok(r == -1 && error_status() == EX_DATAERR &&
		has_msg("the archive has more than 1000 entries (--max-files)"),
	    "1001 entries over a cap of 1000: refused");
	ok(strcmp(before, after) == 0, "... and nothing left, not even dest");
	l.max_files = 1001;
	ok(extract_mem(&m, dest, &l) == 0 && count(dest) == 1001,
	    "1001 entries under a cap of 1001: all there");
	free(before);
	free(after);
	free(m.p);
}

/* A source of one tar header then zeros without end, counting. */
struct zerosrc {
	struct mem hdr;
	int64_t pulled;
	char zeros[65536];
};

static ssize_t
zerosrc_read(void *arg, const void **buf)
{
	struct zerosrc *s = arg;

	if (s->pulled == 0) {
		*buf = s->hdr.p;
		s->pulled = s->hdr.len;
		return s->hdr.len;
	}
	if (s->pulled > (int64_t)2 << 30)
		return 0;
	*buf = s->zeros;
	s->pulled += sizeof(s->zeros);
	return sizeof(s->zeros);
}

static void
test_size_cap_header(void)
{
	char c[PATH_MAX], dest[PATH_MAX];
	struct zerosrc *s = calloc(1, sizeof(*s));
	struct pack_limits l = {64 * MIB, 0};
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int r;

	/* Only the header is kept of what is written, not the 1 GiB. */
	archive_write_set_format_pax_restricted(a);
	s->hdr.keep = 512;
	archive_write_open2(a, &s->hdr, NULL, mem_write, NULL, NULL);
	archive_entry_set_pathname(e, "huge");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (int64_t)1 << 30);
	archive_write_header(a, e);
	archive_write_free(a);
	archive_entry_free(e);
	newcase(c, "header");
	pathf(dest, "%s/dest", c);
	r = pack_extract(zerosrc_read, s, dest, &l);
	ok(r == -1 && error_status() == EX_DATAERR &&
		has_msg("the archive unpacks to more than 67108864 bytes "
			"(--max-size)"),
	    "a header announcing 1 GiB over a cap of 64 MiB: refused");
	ok(s->pulled < MIB, "... from the header, before its data (%lld read)",
	    (long long)s->pulled);
	ok(access(dest, F_OK) == -1, "... and nothing left");
	free(s->hdr.p);

	/* A whole archive, then zeros without end. */
	s->hdr = build(F_TAR, small_tree);
	s->pulled = 0;
	l.max_bytes = MIB;
	r = pack_extract(zerosrc_read, s, dest, &l);
	ok(r == -1 && error_status() == EX_DATAERR &&
		has_msg("more than 1048576 bytes follow the archive's end"),
	    "endless bytes after the archive's end: refused at the cap");
	ok(access(dest, F_OK) == -1, "... and nothing left");
	free(s->hdr.p);
	free(s);
}

/* Write a tar.gz or zip of one entry of size zeros to path. */
static void
zeros_archive(const char *path, enum fmt f, int64_t size, int announce)
{
	static char zeros[MIB];
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	if (f == F_ZIP) {
		archive_write_set_format_zip(a);
		archive_write_set_format_option(
		    a, "zip", "compression-level", "1");
	} else {
		archive_write_set_format_pax_restricted(a);
		archive_write_add_filter_gzip(a);
		archive_write_set_filter_option(
		    a, "gzip", "compression-level", "1");
	}
	archive_write_open_filename(a, path);
	archive_entry_set_pathname(e, "zeros");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (announce)
		archive_entry_set_size(e, size);
	archive_write_header(a, e);
	for (int64_t left = size; left > 0; left -= sizeof(zeros))
		archive_write_data(a, zeros, sizeof(zeros));
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
}

static void
test_bombs(void)
{
	char c[PATH_MAX], dest[PATH_MAX], bomb[PATH_MAX];
	struct pack_limits l = {64 * MIB, 0};
	struct stat st;
	int fd, r;

	newcase(c, "bomb");
	pathf(dest, "%s/dest", c);
	pathf(bomb, "%s/bomb.tar.gz", c);
	zeros_archive(bomb, F_TGZ, (int64_t)1 << 30, 1);
	stat(bomb, &st);
	fd = open(bomb, O_RDONLY);
	r = pack_extract_fd(fd, dest, &l);
	close(fd);
	ok(r == -1 && error_status() == EX_DATAERR &&
		has_msg("unpacks to more than 67108864 bytes (--max-size)"),
	    "gzip bomb (1 GiB of zeros in %lld bytes) over 64 MiB: refused",
	    (long long)st.st_size);
	ok(access(dest, F_OK) == -1, "... and nothing left");
	unlink(bomb);

	/* A zip stream does not say the size: the bytes must be counted. */
	pathf(bomb, "%s/bomb.zip", c);
	zeros_archive(bomb, F_ZIP, 256 * MIB, 0);
	fd = open(bomb, O_RDONLY);
	r = pack_extract_fd(fd, dest, &l);
	close(fd);
	ok(r == -1 && error_status() == EX_DATAERR &&
		has_msg("unpacks to more than 67108864 bytes (--max-size)"),
	    "zip bomb of unannounced size (256 MiB) over 64 MiB: refused");
	ok(access(dest, F_OK) == -1, "... and nothing left");
	unlink(bomb);
}

static void
test_size_cap_sum(void)
{
	char c[PATH_MAX], dest[PATH_MAX], *mb = noise(MIB);
	struct pack_limits l = {5 * MIB, 0};
	struct mem m;
	struct archive *a = writer(F_TGZ, &m);
	char name[16];

	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		struct ent e = {'f', name, mb, 0};
		add(a, &e);
	}
	archive_write_close(a);
	archive_write_free(a);
	newcase(c, "sum");
	pathf(dest, "%s/dest", c);
	ok(extract_mem(&m, dest, &l) == -1 && error_status() == EX_DATAERR &&
		has_msg("unpacks to more than 5242880 bytes (--max-size)"),
	    "ten files of 1 MiB over a cap of 5 MiB: refused");
	ok(access(dest, F_OK) == -1, "... and nothing left");
	l.max_bytes = 10 * MIB;
	ok(extract_mem(&m, dest, &l) == 0 && count(dest) == 10,
	    "ten files of 1 MiB under a cap of 10 MiB: all there");
	free(m.p);
	free(mb);
}

static void
test_bad_input(void)
{
	char c[PATH_MAX], dest[PATH_MAX], p[PATH_MAX], *before, *after;
	struct mem text = {
	    (char *)"this is not an archive, only text\n", 34, 0, 0};
	char *big = noise(MIB);
	const struct ent v[] = {
	    {'f', "a", "a\n", 0}, {'f', "big", big, 0}, {0}};
	struct mem m = build(F_TGZ, v);
	struct memsrc s = {m.p, m.len, 0, 1000, m.len / 2};

	newcase(c, "bad");
	pathf(dest, "%s/dest", c);
	ok(extract_mem(&text, dest, NULL) == -1 &&
		error_status() == EX_DATAERR && has_msg("not an archive: "),
	    "text is not an archive: EX_DATAERR");
	ok(access(dest, F_OK) == -1, "... and dest was not left made");

	mkdir(dest, 0755);
	put(dest, "existing", "old\n");
	before = sig(c);
	m.len /= 2;
	ok(extract_mem(&m, dest, NULL) == -1 && error_status() == EX_DATAERR &&
		has_msg("corrupt archive: "),
	    "a truncated tar.gz: EX_DATAERR corrupt archive");
	m.len *= 2;
	ok(pack_extract(memsrc_read, &s, dest, NULL) == -1 &&
		error_status() == EX_IOERR &&
		strcmp(error_msg(), "the network went away") == 0,
	    "a failing source: its own status and message");
	s.off = 0;
	s.fail_at = m.len;
	ok(pack_extract(memsrc_read, &s, dest, NULL) == -1 &&
		error_status() == EX_IOERR &&
		strcmp(error_msg(), "the network went away") == 0,
	    "a source failing at its very end (past the archive's end): "
	    "its error");
	after = sig(c);
	ok(strcmp(before, after) == 0,
	    "... and nothing written by any of them");

	pathf(p, "%s/no/such/dest", c);
	ok(extract_mem(&m, p, NULL) == -1 && error_status() == EX_CANTCREAT &&
		has_msg("cannot make"),
	    "a destination whose parent is missing: EX_CANTCREAT");
	pathf(p, "%s/existing", dest);
	ok(extract_mem(&m, p, NULL) == -1 && error_status() == EX_CANTCREAT &&
		has_msg("is not a folder"),
	    "a destination that is a file: EX_CANTCREAT");
	free(before);
	free(after);
	free(m.p);
	free(big);
}

/* ---- packing ---- */

static void
test_format_of(void)
{
	static const struct {
		const char *name;
		int fmt;
	} v[] = {{"a.tar", PACK_TAR}, {"a.tar.gz", PACK_TGZ},
	    {"a.tgz", PACK_TGZ}, {"A.ZIP", PACK_ZIP}, {"x/y.Tar.Gz", PACK_TGZ},
	    {"a.gz", -1}, {"a.tar.xz", -1}, {"tar", -1}, {"", -1},
	    {"a.zip.txt", -1}};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ok(pack_format_of(v[i].name) == v[i].fmt &&
			(v[i].fmt != -1 || error_status() == EX_USAGE),
		    "format of '%s' is %d", v[i].name, v[i].fmt);
}

static void
test_ignore_file(void)
{
	char c[PATH_MAX], p[PATH_MAX], **lines = (char **)1;
	int n;

	newcase(c, "ignore");
	pathf(p, "%s/none", c);
	ok(pack_ignore_file(p, &lines) == 0 && lines == NULL,
	    "a missing ignore file: no lines");
	put(c, ".jobkitignore",
	    "# build output\n*.o\n\n  \nbuild/  \r\n"
	    "/docs/*.md\n#*.c\n");
	pathf(p, "%s/.jobkitignore", c);
	ok(pack_ignore_file(p, &lines) == 0 && lines != NULL,
	    "an ignore file is read");
	for (n = 0; lines != NULL && lines[n] != NULL; n++)
		;
	ok(n == 3 && strcmp(lines[0], "*.o") == 0 &&
		strcmp(lines[1], "build/") == 0 &&
		strcmp(lines[2], "/docs/*.md") == 0,
	    "... without comments, blank lines and trailing blanks");
	pack_ignore_free(lines);
}

/* The names of the archive at path, one a line; *owners: all 0 and no names. */
static char *
listing(const char *path, int *owners, int *sorted, int *mtimes)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *s = NULL, prev[PATH_MAX] = "";
	size_t len = 0;
	FILE *out = open_memstream(&s, &len);

	*owners = *sorted = *mtimes = 1;
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (archive_read_open_filename(a, path, 10240) != ARCHIVE_OK)
		*owners = *sorted = 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		fprintf(out, "%s\n", name);
		if (archive_entry_uid(e) != 0 || archive_entry_gid(e) != 0 ||
		    *(archive_entry_uname(e) ? archive_entry_uname(e) : "") ||
		    *(archive_entry_gname(e) ? archive_entry_gname(e) : ""))
			*owners = 0;
		if (strcmp(prev, name) >= 0)
			*sorted = 0;
		if (archive_entry_mtime(e) != MTIME)
			*mtimes = 0;
		pathf(prev, "%s", name);
	}
	archive_read_free(a);
	fclose(out);
	return s;
}

static void
mkfile(const char *dir, const char *name, const char *data)
{
	char p[PATH_MAX];
	struct timespec t[2] = {{MTIME, 0}, {MTIME, 0}};

	put(dir, name, data);
	pathf(p, "%s/%s", dir, name);
	if (geteuid() == 0 && chown(p, 1234, 1234) == -1)
		printf("# cannot chown '%s'\n", p);
	utimensat(AT_FDCWD, p, t, 0);
}

static void
mkfolder(const char *dir, const char *name)
{
	char p[PATH_MAX];

	pathf(p, "%s/%s", dir, name);
	mkdir(p, 0755);
}

/* Folders get their mtimes last, as files made in them change them. */
static void
stamp(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct timespec t[2] = {{MTIME, 0}, {MTIME, 0}};

	pathf(p, "%s/%s", dir, name);
	utimensat(AT_FDCWD, p, t, AT_SYMLINK_NOFOLLOW);
}

static void
make_src(const char *src)
{
	static const char *const dirs[] = {
	    "sub", "sub/build", "build", "docs", "sub/docs", "zz"};
	static const char *const files[] = {"a.c", "a.o", "sub/b.o", "sub/b.c",
	    "build/x", "docs/readme.md", "docs/keep.txt", "sub/docs/readme.md",
	    "zz/z", "zz/build", "m", "B", "_u", "build.txt"};
	struct sockaddr_un sun = {0};
	char p[PATH_MAX];
	int sock;

	mkdir(src, 0755);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkfolder(src, dirs[i]);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		mkfile(src, files[i], files[i]);
	mkfile(src, ".jobkitignore", "*.o\nbuild/\n/docs/*.md\n");
	pathf(p, "%s/ln", src);
	symlink("sub/b.c", p);
	stamp(src, "ln");
	pathf(p, "%s/fifo", src);
	mkfifo(p, 0600);
	sun.sun_family = AF_UNIX;
	pathf(p, "%s/sock", src);
	memcpy(sun.sun_path, p,
	    strlen(p) < sizeof(sun.sun_path) ? strlen(p) + 1 : 0);
	if ((sock = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(sock, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		printf("# cannot make a socket in '%s'\n", src);
	if (sock != -1)
		close(sock);
	for (size_t i = sizeof(dirs) / sizeof(dirs[0]); i-- > 0;)
		stamp(src, dirs[i]);
}

static const char want_listing[] = ".jobkitignore\nB\n_u\na.c\nbuild.txt\n"
				   "docs/\ndocs/keep.txt\nln\nm\nsub/\n"
				   "sub/b.c\nsub/docs/\nsub/docs/readme.md\n"
				   "zz/\nzz/build\nzz/z\n";

static void
test_pack_dir(void)
{
	char c[PATH_MAX], src[PATH_MAX], out[PATH_MAX], dest[PATH_MAX],
	    ign[PATH_MAX], **lines = NULL, *s, *b;
	int owners, sorted, mtimes, fd, r;
	unsigned char gz[10];

	newcase(c, "packdir");
	pathf(src, "%s/src", c);
	make_src(src);
	pathf(ign, "%s/.jobkitignore", src);
	ok(pack_ignore_file(ign, &lines) == 0 && lines != NULL,
	    "pack_dir: the tree's .jobkitignore is read");
	for (int f = PACK_TAR; f <= PACK_ZIP; f++) {
		const char *fn = f == PACK_TAR ? "tar"
		    : f == PACK_TGZ	       ? "tgz"
					       : "zip";

		pathf(out, "%s/out.%s", c, fn);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		r = pack_dir(src, fd, f, (const char *const *)lines, 0);
		close(fd);
		ok(r == 0, "pack_dir %s", fn);
		if (r != 0)
			printf("#   %s\n", error_msg());
		s = listing(out, &owners, &sorted, &mtimes);
		is_str(s, want_listing,
		    "pack_dir %s: ignored names absent, "
		    "sockets and FIFOs skipped",
		    fn);
		ok(sorted, "pack_dir %s: names in strcmp order", fn);
		ok(owners, "pack_dir %s: owners 0/0 without names", fn);
		ok(mtimes, "pack_dir %s: mtimes kept", fn);
		free(s);
		pathf(dest, "%s/back.%s", c, fn);
		fd = open(out, O_RDONLY);
		r = pack_extract_fd(fd, dest, NULL);
		close(fd);
		ok(r == 0 && strcmp(get(dest, "sub/b.c"), "sub/b.c") == 0 &&
			strcmp(get(dest, "ln"), "sub/b.c") == 0 &&
			access(dest, F_OK) == 0,
		    "pack_dir %s: extracted back", fn);
		if (f != PACK_ZIP)
			ok(strcmp(linkof(dest, "ln"), "sub/b.c") == 0,
			    "pack_dir %s: the symlink came back", fn);
		if (f == PACK_TGZ) {
			fd = open(out, O_RDONLY);
			ok(read(fd, gz, sizeof(gz)) == sizeof(gz) &&
				gz[0] == 0x1f && gz[1] == 0x8b && gz[4] == 0 &&
				gz[5] == 0 && gz[6] == 0 && gz[7] == 0,
			    "pack_dir tgz: no time in the gzip header");
			close(fd);
		}
	}
	/* The same tree packs to the same bytes. */
	pathf(out, "%s/again.tgz", c);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pack_dir(src, fd, PACK_TGZ, (const char *const *)lines, 0);
	close(fd);
	{
		char p1[PATH_MAX];
		FILE *f1, *f2;
		char b1[8192], b2[8192];
		size_t n1, n2;
		int same = 1;

		pathf(p1, "%s/out.tgz", c);
		f1 = fopen(p1, "r");
		f2 = fopen(out, "r");
		do {
			n1 = fread(b1, 1, sizeof(b1), f1);
			n2 = fread(b2, 1, sizeof(b2), f2);
			same &= n1 == n2 && memcmp(b1, b2, n1) == 0;
		} while (same && n1 > 0);
		fclose(f1);
		fclose(f2);
		ok(same, "pack_dir: the same tree packs to the same bytes");
	}

	/* The cap on the archive's bytes. */
	pathf(out, "%s/capped.tar", c);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = pack_dir(src, fd, PACK_TAR, NULL, 1000);
	close(fd);
	pathf(out, "the archive of '%s' is over 1000 bytes", src);
	ok(r == -1 && error_status() == EX_DATAERR && has_msg(out),
	    "pack_dir over its cap: EX_DATAERR");
	pathf(out, "%s/capped.tar", c);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = pack_dir(src, fd, PACK_TAR, NULL, 1 << 20);
	close(fd);
	ok(r == 0, "pack_dir under its cap");

	/* An archive made inside the tree leaves itself out. */
	pathf(out, "%s/self.tar", src);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	r = pack_dir(src, fd, PACK_TAR, (const char *const *)lines, 0);
	close(fd);
	b = listing(out, &owners, &sorted, &mtimes);
	ok(r == 0 && strstr(b, "self.tar") == NULL && strstr(b, "zz/z") != NULL,
	    "pack_dir into the tree itself leaves the archive out");
	free(b);
	unlink(out);

	pathf(out, "%s/none", c);
	ok(pack_dir(out, 1, PACK_TAR, NULL, 0) == -1 &&
		error_status() == EX_NOINPUT,
	    "pack_dir of a missing folder: EX_NOINPUT");
	pack_ignore_free(lines);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	umask(022);
	pathf(top, "%s/jobkit-pack.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_formats();
	test_pipe();
	test_merge();
	test_hostile();
	test_benign();
	test_file_cap();
	test_size_cap_header();
	test_bombs();
	test_size_cap_sum();
	test_bad_input();
	test_format_of();
	test_ignore_file();
	test_pack_dir();
	rmtree(top);
	return done_testing();
}
