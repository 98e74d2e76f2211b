/*
 * dirs: making folders as mkdir -p does, for the database's folder, the
 * results, the cache and the keys.
 */
#ifndef DIRS_H
#define DIRS_H

#include <stddef.h>
#include <sys/types.h>

/* dirs_make() flags: make only the folders above path's last '/'. */
#define DIRS_PARENTS 1

/*
 * Make the folders of path that are missing, each with mode (less the
 * umask), path itself too unless flags has DIRS_PARENTS.  A folder that
 * exists is left as it is, and so is anything else by that name (what
 * the caller does next finds it).  Returns 0; or -1 with errno set and,
 * when failed is not NULL, the folder that could not be made in failed
 * (size bytes).  It reports nothing itself: each caller names its own
 * subject.
 */
int dirs_make(
    const char *path, mode_t mode, int flags, char *failed, size_t size);

#endif
