/*
 * Unit test of syncer (syncer.h): tickets are counted durable only after
 * a sync that began after them, syncer_now() counts for every ticket
 * before it, a failed sync is never followed by a ticket believed durable,
 * and the thread takes no signal of the process's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "syncer.h"
#include "tap.h"

/* Wait (10 s at most) until the syncer says ticket is durable or fails:
 * syncer_done()'s result. */
static int
wait_done(struct syncer *s, uint64_t ticket, uint64_t *done)
{
	struct pollfd p = {.fd = syncer_fd(s), .events = POLLIN};
	int r;

	for (int i = 0; i < 100; i++) {
		if ((r = syncer_done(s, done)) == -1 || *done >= ticket)
			return r;
		poll(&p, 1, 100);
	}
	return 0;
}

/* The signals blocked by the process's thread that is not this one, as
 * /proc says (its SigBlk), or 0 if there is none. */
static unsigned long long
other_thread_blocked(void)
{
	char path[300], line[256];
	unsigned long long mask = 0;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	FILE *fp;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == getpid())
			continue;
		snprintf(
		    path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strncmp(line, "SigBlk:", 7) == 0)
				mask = strtoull(line + 7, NULL, 16);
		fclose(fp);
	}
	if (d != NULL)
		closedir(d);
	return mask;
}

static void
test_file(const char *dir)
{
	char path[4200];
	struct syncer *s;
	uint64_t t1, t2, t3, done = 0;
	unsigned long long blk;
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ok(fd != -1, "a file to sync");
	s = syncer_new(fd);
	ok(s != NULL, "syncer_new starts its thread");
	if (s == NULL)
		return;
	ok(syncer_done(s, &done) == 0 && done == 0,
	    "nothing is durable before anything was asked");
	blk = other_thread_blocked();
	ok((blk & (1ULL << (SIGTERM - 1))) && (blk & (1ULL << (SIGINT - 1))) &&
		(blk & (1ULL << (SIGCHLD - 1))) &&
		(blk & (1ULL << (SIGHUP - 1))),
	    "its thread blocks the process's signals (SigBlk %llx)", blk);
	(void)!write(fd, "a", 1);
	t1 = syncer_ask(s);
	(void)!write(fd, "b", 1);
	t2 = syncer_ask(s);
	ok(t1 == 1 && t2 == 2, "tickets count from 1");
	ok(wait_done(s, t2, &done) == 0 && done >= t2,
	    "both are durable once a sync after them ended (done %llu)",
	    (unsigned long long)done);
	(void)!write(fd, "c", 1);
	t3 = syncer_ask(s);
	ok(syncer_now(s) == 0, "syncer_now syncs");
	ok(syncer_done(s, &done) == 0 && done >= t3,
	    "and counts for the tickets handed out before it");
	syncer_free(s);
	ok(1, "syncer_free stops the thread");
	close(fd);
}

static void
test_failure(void)
{
	struct syncer *s;
	uint64_t t, done = 0;
	int p[2];

	/* fdatasync(2) of a pipe fails (EINVAL): a disk that refuses. */
	if (pipe(p) == -1) {
		ok(0, "a pipe");
		return;
	}
	if ((s = syncer_new(p[1])) == NULL) {
		ok(0, "syncer_new");
		return;
	}
	t = syncer_ask(s);
	ok(wait_done(s, t, &done) == -1, "a failed sync fails syncer_done");
	ok(done < t, "and its ticket is not durable (done %llu)",
	    (unsigned long long)done);
	ok(error_status() == EX_IOERR, "with status 74 (EX_IOERR)");
	is_str(error_msg(), "cannot sync the database: Invalid argument",
	    "saying why");
	ok(syncer_now(s) == -1, "syncer_now fails from then on");
	t = syncer_ask(s);
	ok(wait_done(s, t, &done) == -1 && done < t,
	    "and no later ticket is believed durable");
	syncer_free(s);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	char dir[4096];

	if (tap_tmpdir(dir, sizeof(dir), "syncer") == NULL)
		return 1;
	test_file(dir);
	test_failure();
	{
		char f[4200];
		snprintf(f, sizeof(f), "%s/f", dir);
		unlink(f);
		rmdir(dir);
	}
	return done_testing();
}
