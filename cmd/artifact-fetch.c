/*
 * artifact-fetch: stage data.  Fetch URLs given as arguments, or artifact
 * objects (jobkit-spec(5)) read as NDJSON from stdin, over http, https,
 * s3, ftp and file, through a content-addressed cache, checking hashes and
 * unpacking archives; or upload a file or a packed folder with --put.
 * Prints one result object per object fetched or uploaded.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "fetch.h"
#include "jsonin.h"
#include "pack.h"
#include "parse.h"
#include "spec.h"
#include "utf8.h"

enum {
	OPT_PASSWORD_ENV = 256,
	OPT_PASSWORD_FILE,
	OPT_TOKEN_ENV,
	OPT_TOKEN_FILE,
	OPT_NETRC_FILE,
	OPT_PROFILE,
	OPT_ENDPOINT,
	OPT_CACERT,
	OPT_CACHE,
	OPT_NO_CACHE,
	OPT_CACHE_MAX,
	OPT_MAX_BYTES,
	OPT_MAX_SIZE,
	OPT_MAX_FILES,
	OPT_CONNECT_TIMEOUT,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_PUT,
	OPT_PACK,
	OPT_STAGE,
	OPT_PACK_CONTEXT,
	OPT_NOTIFY,
	OPT_JOB,
};

static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"directory", required_argument, NULL, 'C'},
    {"unpack", no_argument, NULL, 'x'}, {"hash", required_argument, NULL, 'H'},
    {"user", required_argument, NULL, 'u'},
    {"password-env", required_argument, NULL, OPT_PASSWORD_ENV},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"token-env", required_argument, NULL, OPT_TOKEN_ENV},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"netrc-file", required_argument, NULL, OPT_NETRC_FILE},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"cache", required_argument, NULL, OPT_CACHE},
    {"no-cache", no_argument, NULL, OPT_NO_CACHE},
    {"cache-max", required_argument, NULL, OPT_CACHE_MAX},
    {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"max-files", required_argument, NULL, OPT_MAX_FILES},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"put", required_argument, NULL, OPT_PUT},
    {"pack", required_argument, NULL, OPT_PACK},
    {"stage", required_argument, NULL, OPT_STAGE},
    {"pack-context", required_argument, NULL, OPT_PACK_CONTEXT},
    {"notify", required_argument, NULL, OPT_NOTIFY},
    {"job", required_argument, NULL, OPT_JOB},
    {"quiet", no_argument, NULL, 'q'}, {"format", required_argument, NULL, 'f'},
    {"db", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};

struct fetcher {
	struct cli cli;
	struct fetch_opts o;
	const char *output, *dir, *hash, *put;
	int stage; /* --stage FD, else -1 */
	const char *context; /* --pack-context DIR */
	const char *notify, *job; /* --notify URL, --job ID */
	json_t *creds; /* from the options, for URL arguments */
	int pack, quiet, no_cache;
	char *cache;
	struct emit *out;
	int status;
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: artifact-fetch [-qx] [-o file | -C dir] [-H hash] "
	    "[options] "
	    "url ...\n"
	    "       artifact-fetch [-qx] [-C dir] [options] < artifacts\n"
	    "       artifact-fetch --put src [--pack fmt] [options] url\n"
	    "       artifact-fetch --notify url [--job id] [options] < "
	    "body.json\n"
	    "  -o, --output FILE        where the one URL's object goes\n"
	    "  -C, --directory DIR      where objects go (default .)\n"
	    "  -x, --unpack             unpack archives into the folder\n"
	    "  -H, --hash ALG:HEX       sha256:<hex> or md5:<hex> the object "
	    "must have\n"
	    "  -u, --user NAME          log in as NAME; the password from:\n"
	    "      --password-env VAR   the variable VAR, or\n"
	    "      --password-file F    the first line of F\n"
	    "      --token-env VAR      a bearer token from VAR, or\n"
	    "      --token-file F       from the first line of F\n"
	    "      --netrc-file F       logins from F instead of ~/.netrc\n"
	    "      --profile NAME       the AWS profile of ~/.aws/credentials\n"
	    "      --endpoint URL       an S3-compatible server (path style)\n"
	    "      --cacert FILE        CA certificates for https\n"
	    "      --cache DIR          the cache (default "
	    "$XDG_CACHE_HOME/jobkit)\n"
	    "      --no-cache           fetch without the cache\n"
	    "      --cache-max SIZE     bound of the cache (default 10GiB)\n"
	    "      --max-bytes SIZE     refuse an object larger than SIZE\n"
	    "      --max-size SIZE      refuse an archive unpacking to more "
	    "(10GiB)\n"
	    "      --max-files N        refuse an archive of more entries "
	    "(100000)\n"
	    "      --connect-timeout D  give up connecting after D (30s)\n"
	    "      --timeout D          give up a transfer after D\n"
	    "      --retries N          retries on transient errors (4)\n"
	    "      --put SRC            upload the file or folder SRC to url\n"
	    "      --pack FMT           pack a folder as tar, tar.gz or zip\n"
	    "      --stage FD -- cmd    stage a task's data around cmd "
	    "(exec-run)\n"
	    "      --pack-context DIR   DIR packed to stdout as a job's "
	    "context\n"
	    "      --notify URL         POST the JSON on stdin to URL\n"
	    "      --job ID             and record how it went as an event of "
	    "job ID\n"
	    "  -d, --db PATH            the task database of --job\n"
	    "  -q, --quiet              no progress on a terminal\n"
	    "  -f, --format FMT         json, ndjson, table or text\n"
	    "  -h, --help               -V, --version\n");
}

static void
bad_usage(const char *fmt, const char *arg)
{
	warnx(fmt, arg);
	usage(stderr);
	exit(EX_USAGE);
}

static int64_t
size_arg(const char *s, const char *opt)
{
	uint64_t v = 0;

	if (parse_size(s, &v) == -1 || v > INT64_MAX) {
		warnx("%s: %s", opt, v > INT64_MAX ? "too large" : error_msg());
		usage(stderr);
		exit(EX_USAGE);
	}
	return (int64_t)v;
}

/* An option's value as a JSON string, which is UTF-8 text. */
static json_t *
opt_text(const char *opt, const char *val)
{
	json_t *s;

	if (!utf8_valid(val, strlen(val)))
		errx(EX_USAGE, "%s: '%s' is not UTF-8 text", opt, val);
	if ((s = json_string_nocheck(val)) == NULL)
		errx(EX_OSERR, "out of memory");
	return s;
}

/* A credential option: a member of the creds object for URL arguments. */
static void
cred(struct fetcher *f, const char *key, const char *val)
{
	json_t *v = opt_text(key, val);

	if ((f->creds == NULL && (f->creds = json_object()) == NULL) ||
	    json_object_set_new(f->creds, key, v) == -1)
		errx(EX_OSERR, "out of memory");
}

static void
parse_options(struct fetcher *f, int argc, char **argv)
{
	int64_t v;
	int c;

	while ((c = getopt_long(
		    argc, argv, "o:C:xH:u:qf:d:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			f->output = optarg;
			break;
		case 'C':
			f->dir = optarg;
			break;
		case 'x':
			f->o.unpack = 1;
			break;
		case 'H':
			f->hash = optarg;
			break;
		case 'u':
			cred(f, "username", optarg);
			break;
		case OPT_PASSWORD_ENV:
		case OPT_TOKEN_ENV:
			cred(f, "env", optarg);
			break;
		case OPT_PASSWORD_FILE:
		case OPT_TOKEN_FILE:
			cred(f, "file", optarg);
			break;
		case OPT_NETRC_FILE:
			cred(f, "netrc", optarg);
			break;
		case OPT_PROFILE:
			cred(f, "aws_profile", optarg);
			break;
		case OPT_ENDPOINT:
			f->o.endpoint = optarg;
			break;
		case OPT_CACERT:
			f->o.cacert = optarg;
			break;
		case OPT_CACHE:
			f->cache = strdup(optarg);
			break;
		case OPT_NO_CACHE:
			f->no_cache = 1;
			break;
		case OPT_CACHE_MAX:
			f->o.cache_max = size_arg(optarg, "--cache-max");
			break;
		case OPT_MAX_BYTES:
			f->o.max_bytes = size_arg(optarg, "--max-bytes");
			break;
		case OPT_MAX_SIZE:
			f->o.limits.max_bytes = size_arg(optarg, "--max-size");
			break;
		case OPT_MAX_FILES:
			if (parse_int(optarg, 1, INT64_MAX, &v) == -1)
				bad_usage("--max-files: %s", error_msg());
			f->o.limits.max_files = v;
			break;
		case OPT_CONNECT_TIMEOUT:
		case OPT_TIMEOUT:
			if (parse_duration(optarg, &v) == -1)
				bad_usage("%s", error_msg());
			*(c == OPT_TIMEOUT ? &f->o.timeout
					   : &f->o.connect_timeout) = v;
			break;
		case OPT_RETRIES:
			if (parse_int(optarg, 0, 100, &v) == -1)
				bad_usage("--retries: %s", error_msg());
			f->o.retries = (int)v;
			break;
		case OPT_PUT:
			f->put = optarg;
			break;
		case OPT_PACK:
			if ((f->pack = pack_format_of(optarg)) == -1 &&
			    (f->pack = pack_format_of(strcmp(optarg, "tar") == 0
				     ? "x.tar"
				     : strcmp(optarg, "zip") == 0 ? "x.zip"
				     : strcmp(optarg, "tar.gz") == 0 ||
					 strcmp(optarg, "tgz") == 0
				     ? "x.tar.gz"
				     : "")) == -1)
				bad_usage("--pack: '%s' is not tar, tar.gz or "
					  "zip",
				    optarg);
			break;
		case OPT_PACK_CONTEXT:
			f->context = optarg;
			break;
		case OPT_NOTIFY:
			f->notify = optarg;
			break;
		case OPT_JOB:
			f->job = optarg;
			break;
		case OPT_STAGE:
			if (parse_int(optarg, 0, INT_MAX, &v) == -1)
				bad_usage("--stage: %s", error_msg());
			f->stage = (int)v;
			break;
		case 'q':
			f->quiet = 1;
			break;
		default:
			if (c == '?' || cli_option(&f->cli, c, optarg) != 1) {
				if (c != '?')
					warnx("%s", error_msg());
				usage(stderr);
				exit(EX_USAGE);
			}
		}
	}
}

/* Where an artifact's object goes: -o, else its path or name in -C. */
static char *
dest_of(const struct fetcher *f, const json_t *a, int unpack)
{
	const char *path = json_string_value(json_object_get(a, "path"));
	const char *url = json_string_value(json_object_get(a, "url"));
	const char *dir = f->dir != NULL ? f->dir : ".";
	char name[PATH_MAX], *d = NULL;
	size_t len;

	if (f->output != NULL)
		return strdup(f->output);
	if (path == NULL) {
		/* The last segment of the URL's path, without a query. */
		len = strcspn(url, "?#");
		snprintf(name, sizeof(name), "%.*s", (int)len, url);
		while (len > 0 && name[len - 1] == '/')
			name[--len] = '\0';
		char *slash = strrchr(name, '/');
		path =
		    unpack || slash == NULL || strstr(name, "://") + 2 == slash
		    ? "."
		    : slash + 1;
		if (strncmp(url, "s3://", 5) == 0 &&
		    url[strlen(url) - 1] == '/')
			path = ".";
	}
	if (strcmp(path, ".") == 0)
		d = strdup(dir);
	else if (asprintf(&d, "%s/%s", dir, path) == -1)
		d = NULL;
	return d;
}

static int
report(struct fetcher *f, json_t *results)
{
	json_t *r;
	size_t i;

	json_array_foreach(results, i, r) if (emit_row(f->out, r) == -1)
	{
		warnx("cannot write the results: %s", error_msg());
		return -1;
	}
	fflush(stdout);
	return 0;
}

/* The options for artifact a: its own S3 endpoint over --endpoint. */
static struct fetch_opts
opts_for(const struct fetcher *f, const json_t *a)
{
	struct fetch_opts o = f->o;
	const char *ep = json_string_value(json_object_get(a, "endpoint"));

	if (ep != NULL)
		o.endpoint = ep;
	return o;
}

/* Fetch one artifact (already checked) and print its results. */
static void
get(struct fetcher *f, json_t *a)
{
	int unpack = f->o.unpack || json_is_true(json_object_get(a, "unpack"));
	char *dest = dest_of(f, a, unpack);
	json_t *results = json_array();
	struct fetch_opts o = opts_for(f, a);

	if (dest == NULL || results == NULL)
		errx(EX_OSERR, "out of memory");
	if (fetch_get(a, dest, &o, results) == -1) {
		warnx("%s", error_msg());
		if (f->status == 0)
			f->status = error_status();
	} else if (report(f, results) == -1 && f->status == 0)
		f->status = EX_IOERR;
	json_decref(results);
	free(dest);
}

/* An artifact object for a URL argument and the options. */
static json_t *
from_arg(struct fetcher *f, const char *url)
{
	json_t *a = json_pack("{s:s}", "url", url), *ok;

	if (a == NULL ||
	    (f->hash != NULL &&
		json_object_set_new(a, "hash", opt_text("--hash", f->hash)) ==
		    -1) ||
	    (f->creds != NULL &&
		json_object_set(a, "credentials", f->creds) == -1))
		errx(EX_OSERR, "out of memory");
	/* What is wrong came from the command line: a usage error. */
	if ((ok = spec_artifact(a)) == NULL) {
		const char *m = error_msg();
		if (strncmp(m, "$.hash: ", 8) == 0)
			errx(EX_USAGE, "--hash: %s", m + 8);
		errx(EX_USAGE, "%s", strncmp(m, "$.", 2) == 0 ? m + 2 : m);
	}
	json_decref(a);
	return ok;
}

/* Artifact objects, one after another, from stdin. */
static void
from_stdin(struct fetcher *f)
{
	struct jsonin *in = jsonin_open(stdin, "stdin");
	json_t *v, *a;
	size_t line;
	int r;

	if (in == NULL)
		errx(error_status(), "%s", error_msg());
	while ((r = jsonin_next(in, &v, &line)) == 1) {
		a = spec_artifact(v);
		json_decref(v);
		if (a == NULL) {
			warnx("stdin line %zu: %s", line, error_msg());
			f->status = EX_DATAERR;
			continue;
		}
		get(f, a);
		json_decref(a);
	}
	if (r == -1) {
		warnx("%s", error_msg());
		f->status = error_status();
	}
	jsonin_close(in);
}

static void
put(struct fetcher *f, const char *url)
{
	json_t *a = from_arg(f, url), *res = NULL;

	if (fetch_put(f->put, a, f->pack, &f->o, &res) == -1) {
		warnx("%s", error_msg());
		f->status = error_status();
	} else {
		json_t *arr = json_pack("[o]", res);
		if (arr == NULL)
			errx(EX_OSERR, "out of memory");
		if (report(f, arr) == -1)
			f->status = EX_IOERR;
		json_decref(arr);
	}
	json_decref(a);
}

/* --- staging a task: exec-run runs us as artifact-fetch --stage FD -- cmd */

struct staged {
	json_t *inputs, *uploads;
	const char *results; /* the task's results folder */
	int64_t save_ms; /* save_every: mutable inputs uploaded while the
			    command runs, every this many ms; 0 for never */
	char error[4096 + 2400];
};

/* Where an input goes in the work directory (the current one). */
static char *
input_dest(const json_t *a)
{
	const char *path = json_string_value(json_object_get(a, "path"));
	struct fetcher none = {.dir = "."};

	if (path != NULL)
		return strdup(path);
	return dest_of(&none, a, json_is_true(json_object_get(a, "unpack")));
}

/* What was staged, for exec-run: 0, or -1 when there was no memory to
 * say it (a write that fails leaves none, as a task killed first). */
static int
staged_write(const struct staged *sg)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	json_t *o = json_pack(
	    "{s:O, s:O}", "inputs", sg->inputs, "uploads", sg->uploads);

	if (sg->results == NULL) {
		json_decref(o);
		return 0;
	}
	if (o == NULL ||
	    (sg->error[0] != '\0' &&
		spec_set(o, "error", json_string(sg->error)) == -1)) {
		json_decref(o);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/staged.json", sg->results);
	snprintf(tmp, sizeof(tmp), "%s/.staged.json.tmp", sg->results);
	if (json_dump_file(o, tmp, JSON_COMPACT) == 0)
		rename(tmp, path);
	json_decref(o);
	return 0;
}

/*
 * The job's context folder, packed, on a descriptor exec-run handed us:
 * checked against the name the job's spec gave it, then unpacked into the
 * work directory before any input is fetched.
 */
static int
stage_context(struct fetcher *f, json_t *ctx, struct staged *sg)
{
	char hex[65];
	const char *want = json_string_value(json_object_get(ctx, "sha256"));
	int fd = (int)json_integer_value(json_object_get(ctx, "fd")), r;

	if (ctx == NULL)
		return 0;
	r = fetch_digest_fd(fd, hex);
	if (r == 0 && (want == NULL || strcmp(want + 7, hex) != 0))
		r = error_set(EX_DATAERR, "is not the one its job names");
	if (r == 0 &&
	    (lseek(fd, 0, SEEK_SET) == -1 ||
		pack_extract_fd(fd, ".", &f->o.limits) == -1))
		r = -1;
	close(fd);
	if (r == -1)
		snprintf(
		    sg->error, sizeof(sg->error), "context: %s", error_msg());
	return r;
}

/* --pack-context DIR: job-submit --context packs through us. */
static int
pack_context(const char *dir)
{
	char ign[PATH_MAX];
	char **lines = NULL;
	int r;

	snprintf(ign, sizeof(ign), "%s/.jobkitignore", dir);
	r = pack_ignore_file(ign, &lines);
	if (r == 0)
		r = pack_dir(dir, STDOUT_FILENO, PACK_TGZ,
		    (const char *const *)lines, FETCH_CONTEXT_MAX);
	pack_ignore_free(lines);
	if (r == -1)
		errx(error_status(), "--context '%s': %s", dir, error_msg());
	return 0;
}

/* Fetch the inputs into the work directory; -1 at the first failure. */
static int
stage_in(
    struct fetcher *f, json_t *inputs, struct staged *sg, char (*digests)[65])
{
	json_t *a;
	size_t i;

	json_array_foreach(inputs, i, a)
	{
		const char *name =
		    json_string_value(json_object_get(a, "name"));
		char *dest = input_dest(a);
		char shown[2048];
		int r;

		fetch_redact_url(json_string_value(json_object_get(a, "url")),
		    shown, sizeof(shown));
		struct fetch_opts o = opts_for(f, a);
		r = dest == NULL ? error_set(EX_OSERR, "out of memory")
				 : fetch_get(a, dest, &o, sg->inputs);
		if (r == 0 && json_is_true(json_object_get(a, "mutable")))
			r = fetch_digest(dest, digests[i]);
		free(dest);
		if (r == -1) {
			snprintf(sg->error, sizeof(sg->error), "input '%s': %s",
			    name != NULL ? name : shown, error_msg());
			return -1;
		}
	}
	return 0;
}

/*
 * Upload the mutable input a back when it changed since digest, its
 * sha256 when it was fetched or last uploaded, which then becomes the
 * new one's.  0 when not mutable, unchanged or uploaded; -1 with an error
 * naming it.
 */
static int
save_mutable(struct fetcher *f, json_t *a, struct staged *sg, char *digest)
{
	struct fetch_opts o = opts_for(f, a);
	char hex[65], *dest;
	json_t *res = NULL;
	int r = 0;

	if (!json_is_true(json_object_get(a, "mutable")))
		return 0;
	if ((dest = input_dest(a)) == NULL)
		return error_set(EX_OSERR, "out of memory");
	if (fetch_digest(dest, hex) == 0 && strcmp(hex, digest) != 0) {
		if (fetch_put(dest, a, -1, &o, &res) == 0) {
			if (spec_set(res, "mutable", json_true()) == -1) {
				json_decref(res);
				r = -1;
			} else if ((r = spec_append(sg->uploads, res)) == 0)
				memcpy(digest, hex, sizeof(hex));
		} else
			r = error_wrap("mutable input '%s'", dest);
	}
	free(dest);
	return r;
}

/* Upload the outputs, and the mutable inputs that changed. */
static int
stage_out(struct fetcher *f, json_t *inputs, json_t *outputs, struct staged *sg,
    char (*digests)[65])
{
	json_t *a, *res;
	size_t i;
	int status = 0;

	json_array_foreach(outputs, i, a)
	{
		const char *name =
		    json_string_value(json_object_get(a, "name"));
		const char *path =
		    json_string_value(json_object_get(a, "path"));
		char *src = path != NULL ? strdup(path) : input_dest(a);
		struct fetch_opts o = opts_for(f, a);

		res = NULL;
		if (src == NULL || fetch_put(src, a, -1, &o, &res) == -1 ||
		    spec_append(sg->uploads, res) == -1) {
			if (status == 0) {
				status = error_status();
				snprintf(sg->error, sizeof(sg->error),
				    "output '%s': %s",
				    name != NULL ? name : src, error_msg());
			}
		}
		free(src);
	}
	json_array_foreach(inputs, i, a)
	{
		if (save_mutable(f, a, sg, digests[i]) == -1 && status == 0) {
			status = error_status();
			snprintf(
			    sg->error, sizeof(sg->error), "%s", error_msg());
		}
	}
	return status;
}

/*
 * save_every: while the command runs, every sg->save_ms, upload the
 * mutable inputs that changed since their last upload.  One timer: we
 * sleep in sigtimedwait() until the next save or the child's SIGCHLD
 * (blocked since before the fork), uploading here while the command runs
 * on.  A failed save is said and tried again at the next one, and at the
 * end.  The child's wait status.
 */
static int
wait_saving(struct fetcher *f, pid_t pid, json_t *inputs, struct staged *sg,
    char (*digests)[65])
{
	int64_t next = parse_mono_ms() + sg->save_ms, left;
	sigset_t chld;
	struct timespec ts;
	json_t *a;
	size_t i;
	int ws = 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (waitpid(pid, &ws, WNOHANG) == 0) {
		if ((left = next - parse_mono_ms()) > 0) {
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			sigtimedwait(&chld, NULL, &ts);
			continue;
		}
		json_array_foreach(inputs, i, a)
		{
			if (save_mutable(f, a, sg, digests[i]) == -1)
				warnx("save_every: %s", error_msg());
		}
		next = parse_mono_ms() + sg->save_ms;
	}
	return ws;
}

/*
 * Run cmd as our child and wait for it (saving its mutable inputs every
 * sg->save_ms meanwhile); its wait status.  A command that cannot be run
 * is said in sg's error, as exec-run says it of a command it runs itself.
 */
static int
run_command(struct fetcher *f, char **argv, json_t *inputs, struct staged *sg,
    char (*digests)[65])
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_term;
	sigset_t chld, old_mask;
	int ws = 0, e = 0, p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		err(125, "pipe");
	/* A cancel signals the whole group: the command ends, we record. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGTERM, &ign, &old_term);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old_mask);
	if ((pid = fork()) == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		execvp(argv[0], argv);
		e = errno;
		warn("%s", argv[0]);
		(void)!write(p[1], &e, sizeof(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	if (pid == -1)
		err(125, "fork");
	close(p[1]);
	/* The pipe closes at exec; a write means it failed. */
	if (read(p[0], &e, sizeof(e)) == (ssize_t)sizeof(e))
		snprintf(sg->error, sizeof(sg->error), "cannot run '%s': %s",
		    argv[0], e == ENOENT ? "command not found" : strerror(e));
	close(p[0]);
	if (sg->save_ms > 0 && e == 0)
		ws = wait_saving(f, pid, inputs, sg, digests);
	else
		while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
			;
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return ws;
}

/* The placeholders of upload URLs, where their values come from: the
 * environment exec-run gives us, else what to stage. */
static const char *const placeholders[][3] = {{"{job}", "JOBKIT_JOB_ID", "job"},
    {"{task}", "JOBKIT_TASK_ID", "task"},
    {"{attempt}", "JOBKIT_ATTEMPT", "attempt"}};

/* The value of placeholder w: in the environment, else in job. */
static const char *
placeholder(json_t *job, size_t w, char *num, size_t len)
{
	const char *id = getenv(placeholders[w][1]);
	json_t *v = json_object_get(job, placeholders[w][2]);

	if (id != NULL || v == NULL)
		return id;
	if (!json_is_integer(v))
		return json_string_value(v);
	snprintf(num, len, "%lld", (long long)json_integer_value(v));
	return num;
}

/*
 * {job}, {task} and {attempt} in the artifacts' URLs are the task's IDs
 * (the same object is fetched and uploaded back); one whose value is not
 * known, and a URL too long to hold the values, is left as it is.
 */
static void
expand_ids(json_t *job, json_t *arts)
{
	char buf[8192], num[24];
	const char *u, *p, *id;
	size_t i, n, w, k;
	json_t *a;

	json_array_foreach(arts, i, a)
	{
		u = json_string_value(json_object_get(a, "url"));
		for (n = 0, p = u;
		     p != NULL && *p != '\0' && n < sizeof(buf) - 1;) {
			for (w = 0; w < 3; w++)
				if (strncmp(p, placeholders[w][0],
					strlen(placeholders[w][0])) == 0)
					break;
			id = w < 3 ? placeholder(job, w, num, sizeof(num))
				   : NULL;
			if (id == NULL) {
				buf[n++] = *p++;
				continue;
			}
			if (n + (k = strlen(id)) >= sizeof(buf) - 1)
				break;
			memcpy(buf + n, id, k);
			n += k;
			p += strlen(placeholders[w][0]);
		}
		buf[n] = '\0';
		if (p != NULL && *p == '\0' && strcmp(buf, u) != 0 &&
		    spec_set(a, "url", json_string(buf)) == -1)
			errx(125, "%s", error_msg());
	}
}

/* save_every of what to stage: seconds (as a spec stores it) or a
 * duration; ms, 0 for none. */
static int64_t
save_every(json_t *job)
{
	json_t *v = json_object_get(job, "save_every");
	int64_t ms = 0;

	if (json_is_number(v) && json_number_value(v) > 0)
		ms = (int64_t)(json_number_value(v) * 1000);
	else if (json_is_string(v) &&
	    parse_duration(json_string_value(v), &ms) == -1)
		ms = 0;
	return ms;
}

static int
stage(struct fetcher *f, char **argv)
{
	struct staged sg = {.inputs = json_array(), .uploads = json_array()};
	json_t *job = json_loadfd(f->stage, 0, NULL), *in, *out;
	char(*digests)[65];
	int ws, status;

	close(f->stage);
	if (job == NULL || sg.inputs == NULL || sg.uploads == NULL)
		errx(125, "--stage: cannot read what to stage");
	sg.results = json_string_value(json_object_get(job, "results"));
	sg.save_ms = save_every(job);
	in = json_object_get(job, "inputs");
	out = json_object_get(job, "outputs");
	expand_ids(job, in);
	expand_ids(job, out);
	digests = calloc(json_array_size(in) + 1, sizeof(*digests));
	if (digests == NULL)
		errx(125, "out of memory");
	if (stage_context(f, json_object_get(job, "context"), &sg) == -1 ||
	    stage_in(f, in, &sg, digests) == -1) {
		status = error_status();
		(void)staged_write(&sg); /* it fails as it is */
		errx(status, "%s", sg.error);
	}
	ws = run_command(f, argv, in, &sg, digests);
	status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	/* What a command that was killed left is not a result to publish. */
	if (WIFEXITED(ws)) {
		int st = stage_out(f, in, out, &sg, digests);
		if (st != 0) {
			warnx("%s", sg.error);
			if (status == 0)
				status = st;
		}
	}
	if (staged_write(&sg) == -1 && status == 0) {
		warnx("out of memory");
		status = 125;
	}
	free(digests);
	json_decref(sg.inputs);
	json_decref(sg.uploads);
	json_decref(job);
	if (WIFSIGNALED(ws)) {
		signal(WTERMSIG(ws), SIG_DFL);
		raise(WTERMSIG(ws));
	}
	return status;
}

/*
 * --notify URL: POST the JSON on stdin (1 MiB at most) to URL, retried as
 * any transfer; with --job, the outcome is an event of that job, naming
 * only the URL's host (a webhook's path is often its secret).
 */
static int
notify(struct fetcher *f)
{
	char body[1 << 20], host[512], msg[1024];
	size_t len = fread(body, 1, sizeof(body) - 1, stdin);
	const char *h, *e, *at;
	struct store *st;
	size_t scheme;
	int r, status;

	if (ferror(stdin) || !feof(stdin))
		errx(ferror(stdin) ? EX_IOERR : EX_DATAERR, "--notify: %s",
		    ferror(stdin) ? strerror(errno) : "stdin holds over 1MiB");
	body[len] = '\0';
	/* The scheme and host only: neither a user and password before it
	 * nor the path after it. */
	h = strstr(f->notify, "://");
	scheme = h ? (size_t)(h + 3 - f->notify) : 0;
	h = f->notify + scheme;
	e = h + strcspn(h, "/?#");
	if ((at = memrchr(h, '@', (size_t)(e - h))) != NULL)
		h = at + 1;
	snprintf(host, sizeof(host), "%.*s%.*s", (int)scheme, f->notify,
	    (int)(e - h), h);
	r = fetch_post(f->notify, body, &f->o);
	status = r == 0 ? 0 : error_status();
	if (r == 0)
		snprintf(msg, sizeof(msg), "notified %s", host);
	else {
		/* Not the URL it names, but why. */
		const char *why = error_msg(), *q = strstr(why, "': ");
		snprintf(msg, sizeof(msg), "notifying %s failed: %s", host,
		    *why == '\'' && q != NULL ? q + 3 : why);
	}
	if (r == -1)
		warnx("%s", msg);
	if (f->job != NULL &&
	    ((st = cli_store(&f->cli, 0)) == NULL ||
		store_job_note(st, f->job,
		    r == 0 ? "notified" : "notify-failed", msg) == -1))
		warnx("job '%s': %s", f->job, error_msg());
	else if (f->job != NULL)
		store_close(st);
	return status;
}

int
main(int argc, char **argv)
{
	struct fetcher f = {.pack = -1, .stage = -1, .o = {.retries = 4}};

	argv[0] = program_invocation_short_name;
	cli_guard_fds();
	parse_options(&f, argc, argv);
	if (f.cli.help || f.cli.version) {
		if (f.cli.help)
			usage(stdout);
		else
			printf("artifact-fetch (jobkit) %s\n", JOBKIT_VERSION);
		return 0;
	}
	argc -= optind;
	argv += optind;
	if (f.context != NULL)
		return pack_context(f.context);
	if (f.notify != NULL || f.job != NULL) {
		if (f.notify == NULL || argc != 0)
			bad_usage(
			    "--job goes with --notify URL, and no urls%s", "");
		return notify(&f);
	}
	if (f.stage != -1) {
		if (argc == 0)
			bad_usage("--stage needs a command%s", "");
		if (f.cache == NULL)
			f.cache = fetch_cache_default();
		f.o.cache = f.cache;
		int status = stage(&f, argv);
		free(f.cache);
		json_decref(f.creds);
		return status;
	}
	if (f.put != NULL && argc != 1)
		bad_usage("--put uploads to one url%s", "");
	if ((f.output != NULL || f.hash != NULL) && argc != 1 && f.put == NULL)
		bad_usage("-o and --hash are for one url%s", "");
	if (f.output != NULL && f.dir != NULL)
		bad_usage("give -o or -C, not both%s", "");
	if (!f.no_cache && f.cache == NULL)
		f.cache = fetch_cache_default();
	f.o.cache = f.no_cache ? NULL : f.cache;
	f.o.progress = !f.quiet && isatty(STDERR_FILENO);
	if ((f.out = emit_open(stdout, f.cli.format, EMIT_NDJSON, NULL)) ==
	    NULL)
		errx(EX_OSERR, "%s", error_msg());
	if (f.put != NULL)
		put(&f, argv[0]);
	else if (argc == 0) {
		if (isatty(STDIN_FILENO))
			bad_usage(
			    "no URL: give URLs, or artifacts on stdin%s", "");
		cli_await_input(stdin);
		from_stdin(&f);
	} else
		for (int i = 0; i < argc; i++) {
			json_t *a = from_arg(&f, argv[i]);
			get(&f, a);
			json_decref(a);
		}
	if (emit_close(f.out) == -1 && f.status == 0)
		f.status = EX_IOERR;
	json_decref(f.creds);
	free(f.cache);
	return f.status;
}
