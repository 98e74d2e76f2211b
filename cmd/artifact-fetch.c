/*
 * artifact-fetch: stage data.  Fetch URLs given as arguments, or artifact
 * objects (jobkit-spec(5)) read as NDJSON from stdin, over http, https,
 * s3, ftp and file, through a content-addressed cache, checking hashes and
 * unpacking archives; or upload a file or a packed folder with --put.
 * Prints one result object per object fetched or uploaded.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "fetch.h"
#include "jsonin.h"
#include "pack.h"
#include "parse.h"
#include "spec.h"

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
};

static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
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
    {"quiet", no_argument, NULL, 'q'},
    {"format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

struct fetcher {
	struct cli cli;
	struct fetch_opts o;
	const char *output, *dir, *hash, *put;
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
	    "usage: artifact-fetch [-qx] [-o file | -C dir] [-H hash] [options] "
	    "url ...\n"
	    "       artifact-fetch [-qx] [-C dir] [options] < artifacts\n"
	    "       artifact-fetch --put src [--pack fmt] [options] url\n"
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
	uint64_t v;

	if (parse_size(s, &v) == -1 || v > INT64_MAX)
		bad_usage("%s", error_msg());
	(void)opt;
	return (int64_t)v;
}

/* A credential option: a member of the creds object for URL arguments. */
static void
cred(struct fetcher *f, const char *key, const char *val)
{
	if (f->creds == NULL && (f->creds = json_object()) == NULL)
		errx(EX_OSERR, "out of memory");
	json_object_set_new(f->creds, key, json_string(val));
}

static void
parse_options(struct fetcher *f, int argc, char **argv)
{
	int64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "o:C:xH:u:qf:hV", longopts,
		    NULL)) != -1) {
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
			    (f->pack = pack_format_of(
				 strcmp(optarg, "tar") == 0	 ? "x.tar"
				     : strcmp(optarg, "zip") == 0 ? "x.zip"
				     : strcmp(optarg, "tar.gz") == 0 ||
					     strcmp(optarg, "tgz") == 0
					 ? "x.tar.gz"
					 : "")) == -1)
				bad_usage("--pack: '%s' is not tar, tar.gz or "
					  "zip",
				    optarg);
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
		path = unpack || slash == NULL || strstr(name, "://") + 2 ==
							  slash
		    ? "."
		    : slash + 1;
		if (strncmp(url, "s3://", 5) == 0 && url[strlen(url) - 1] ==
							   '/')
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

/* Fetch one artifact (already checked) and print its results. */
static void
get(struct fetcher *f, json_t *a)
{
	int unpack = f->o.unpack || json_is_true(json_object_get(a, "unpack"));
	char *dest = dest_of(f, a, unpack);
	json_t *results = json_array();

	if (dest == NULL || results == NULL)
		errx(EX_OSERR, "out of memory");
	if (fetch_get(a, dest, &f->o, results) == -1) {
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

	if (a == NULL)
		errx(EX_OSERR, "out of memory");
	if (f->hash != NULL)
		json_object_set_new(a, "hash", json_string(f->hash));
	if (f->creds != NULL)
		json_object_set(a, "credentials", f->creds);
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
		if (report(f, arr) == -1)
			f->status = EX_IOERR;
		json_decref(arr);
	}
	json_decref(a);
}

int
main(int argc, char **argv)
{
	struct fetcher f = {.pack = -1, .o = {.retries = 4}};

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
