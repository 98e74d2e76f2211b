/*
 * pack: archives in and out, through libarchive.
 *
 * pack_extract() unpacks an archive that comes from anywhere (a download,
 * a pipe) into a folder: streamed, refusing whatever could reach outside the
 * folder, capped in size and entries, and all or nothing.  pack_dir() packs
 * a folder the other way, reproducibly, honouring an ignore list.
 *
 * Every function returns 0, or -1 after error_set() (see error.h).
 */
#ifndef PACK_H
#define PACK_H

#include <stdint.h>
#include <sys/types.h>

/* Default cap on the bytes an archive unpacks to: 10 GiB. */
#define PACK_MAX_BYTES (10LL << 30)
/* Default cap on the entries of an archive. */
#define PACK_MAX_FILES 100000

/* Caps of pack_extract(); a field that is 0 takes its default above. */
struct pack_limits {
	int64_t max_bytes; /* total bytes of file data written */
	int64_t max_files; /* entries, of any type */
};

/*
 * A source of archive bytes, pulled by pack_extract(): sets *buf to the next
 * bytes (owned by the source, valid until the next call) and returns their
 * count, 0 at the end, -1 on failure after error_set().  Once it returned 0
 * or -1 it is not called again.
 */
typedef ssize_t pack_read_fn(void *arg, const void **buf);

/*
 * Unpack the archive rd yields into the folder dir, which is made if missing
 * (its parent must exist).  The format is found from the content: tar (all
 * its variants) or zip, plain or compressed with gzip, bzip2, xz or zstd.
 * Zip is read as a stream (its local headers), as the source cannot seek:
 * the modes are in the central directory at its end, never read, so its
 * files get 0666 less the umask and a symlink comes out as a small file
 * holding its target; mtimes are kept.
 *
 * The archive is streamed, never copied aside, into a new private folder
 * dir/.jobkit-unpack-XXXXXX; only once the whole archive passed, and rd was
 * read to its end (so that a source failing there, on a transfer error or a
 * hash that does not match, fails the whole extract), are its top-level
 * entries moved into dir.  A file of dir that has the name of an entry is
 * replaced; a folder of dir that has the name of a folder of the archive is
 * merged into, the same way.  On failure the private folder is
 * removed, dir too if this call made it, and dir is as before: the only
 * exception is a failed rename (an I/O error) while moving, after which
 * the entries moved so far stay.
 *
 * Refused, failing the whole archive with EX_DATAERR "refused 'NAME': WHY":
 * absolute names and names with ".." components; symlinks whose target is
 * absolute, climbs out of dir (judged from the link's own folder) or has a
 * ".." after a name (through a symlink, that could climb anywhere); entries
 * whose name passes through a symlink of the archive; hard links to
 * anything but a regular file extracted before; device nodes, FIFOs and
 * sockets; files with the setuid or setgid bit.  A non-folder of the
 * archive where dir holds a folder fails with EX_CANTCREAT, before anything
 * is moved.  Owners are never restored; modes are kept within 0777 and the
 * umask, and folders stay readable, writable and searchable by their owner
 * (so that they can be moved and removed); mtimes are kept.
 *
 * Caps (lim may be NULL: both defaults): more than lim->max_bytes bytes of
 * file data, counted as written and refused early when a header announces
 * them, fails with EX_DATAERR "the archive unpacks to more than N bytes
 * (--max-size)"; more than lim->max_files entries with EX_DATAERR "the
 * archive has more than N entries (--max-files)"; more than max_bytes bytes
 * after the archive's end with EX_DATAERR "more than N bytes follow the
 * archive's end (--max-size)".
 *
 * Other errors: EX_DATAERR "not an archive: ..." when the content is no
 * format above, "corrupt archive: ..." when it breaks off or is damaged;
 * EX_CANTCREAT when a folder cannot be made; EX_IOERR when writing fails;
 * the source's own error when rd fails.  Memory grows with the number of
 * entries (their names are kept for the checks), not with their size.
 */
int pack_extract(pack_read_fn *rd, void *arg, const char *dir,
    const struct pack_limits *lim);

/*
 * pack_extract() of the bytes read from fd up to its end.  fd is never
 * sought, so a pipe or a socket is fine; it is left open, at the end of what
 * was read.  A read error fails with EX_IOERR.
 */
int pack_extract_fd(int fd, const char *dir, const struct pack_limits *lim);

/* The formats pack_dir() writes. */
enum pack_format {
	PACK_TAR, /* POSIX ustar, pax headers only where ustar cannot say */
	PACK_TGZ, /* the same, gzip-compressed, with no time in its header */
	PACK_ZIP /* zip, deflated */
};

/*
 * The format a file name asks for, by its suffix, in any case: ".tar",
 * ".tar.gz" or ".tgz", ".zip".  Returns the enum pack_format, or -1 with an
 * EX_USAGE error quoting name when it has none of them.
 */
int pack_format_of(const char *name);

/*
 * Pack the contents of the folder dir (names relative to it, without a
 * leading "./") as fmt, streamed to fd, which is left open.  Folders are
 * walked without following symlinks and in strcmp order, and entries carry
 * no owner (uid and gid 0, no names), modes within 0777 and mtimes to the
 * second, so the same tree packs to the same bytes.  Regular files, folders
 * and symlinks are packed; other objects (sockets, FIFOs, devices) are
 * skipped, as is the file fd writes to when it is inside dir.
 *
 * ignore is NULL or a NULL-terminated list of .gitignore-like lines, as
 * pack_ignore_file() returns them: fnmatch(3) globs; a line with a slash
 * (other than a trailing one) matches the path relative to dir, a leading
 * slash being dropped; any other line matches the base name at any depth; a
 * trailing slash matches folders only.  An ignored folder is not entered.
 *
 * max_bytes is 0 or a cap on the bytes written to fd: going over it fails
 * with EX_DATAERR "the archive of 'DIR' is over N bytes".  What was written
 * to fd before a failure stays there; the caller discards it.  Other errors:
 * EX_NOINPUT when dir cannot be opened, EX_IOERR when reading a file or
 * writing to fd fails.
 */
int pack_dir(const char *dir, int fd, enum pack_format fmt,
    const char *const *ignore, int64_t max_bytes);

/*
 * Read the ignore file path (a .jobkitignore) into *lines: a NULL-terminated
 * list of its lines, without blank lines, "#" comments and trailing blanks,
 * to free with pack_ignore_free().  When path does not exist, returns 0 with
 * *lines NULL.  Errors: EX_NOINPUT when it cannot be read, EX_OSERR when
 * memory runs out; *lines is untouched on failure.
 */
int pack_ignore_file(const char *path, char ***lines);

/* Free what pack_ignore_file() returned; lines may be NULL. */
void pack_ignore_free(char **lines);

#endif
