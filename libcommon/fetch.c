#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "dirs.h"
#include "error.h"
#include "fetch.h"
#include "parse.h"

#define COPY_BUF (256 * 1024)

/* Who to be at the other end: filled from the artifact and references. */
struct creds {
	char *user, *pass, *token; /* http(s), ftp */
	char *akid, *secret, *session, *region; /* s3 */
	char *netrc; /* a netrc file to read, NULL for ~/.netrc */
	int no_netrc; /* "netrc": false */
	int given; /* the artifact named credentials */
};

/* Where a URL really points. */
struct target {
	char *url; /* what libcurl gets (an s3:// URL mapped to HTTP) */
	char shown[2048]; /* the artifact's URL without credentials */
	int s3, file;
	char *base; /* s3: scheme://host[:port]/bucket (path style) */
	char *key; /* s3: the object's key, or the prefix */
};

/* The hashes computed while the bytes go by: md5 only when asked for (it
 * costs twice sha256's time here), none for a zeroed struct. */
struct sums {
	EVP_MD_CTX *sha, *md5;
	int with_md5;
};

/* One download: a GET, its retries and what it learnt. */
struct xfer {
	CURL *c;
	const struct fetch_opts *o;
	const struct target *t;
	const struct creds *cr;
	int fd; /* the file written */
	struct sums sums;
	int64_t got; /* body bytes written, over all attempts */
	int64_t resume_at; /* where this attempt asked to start */
	int64_t total; /* the size announced, -1 unknown */
	int first; /* the next body byte is this attempt's first */
	int failed; /* a callback set the error */
	long retry_after; /* seconds, from the server */
	char etag[256], lastmod[64];
	int ranges;
	const char *inm; /* an ETag for If-None-Match, or NULL */
	int64_t drawn; /* ms of the last progress line */
	int64_t start;
};

static int curl_ready;

static int
init_curl(void)
{
	if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return error_set(EX_SOFTWARE, "cannot initialize libcurl");
	curl_ready = 1;
	return 0;
}

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Forget a secret: its bytes first, then the memory. */
static void
burn(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
creds_free(struct creds *cr)
{
	burn(cr->pass);
	burn(cr->token);
	burn(cr->secret);
	burn(cr->session);
	free(cr->user);
	free(cr->akid);
	free(cr->region);
	free(cr->netrc);
	memset(cr, 0, sizeof(*cr));
}

const char *
fetch_redact_url(const char *u, char *buf, size_t len)
{
	CURLU *h = curl_url();
	char *s = NULL;

	snprintf(buf, len, "%s", u);
	if (h == NULL)
		return buf;
	/* s3:// and others libcurl does not know are still URLs. */
	if (curl_url_set(h, CURLUPART_URL, u, CURLU_NON_SUPPORT_SCHEME) ==
		CURLUE_OK &&
	    curl_url_set(h, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(h, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK)
		snprintf(buf, len, "%s", s);
	else if (strchr(u, '@') != NULL)
		snprintf(buf, len, "(a URL that is not valid)");
	curl_free(s);
	curl_url_cleanup(h);
	return buf;
}

/* The first line of a file, for a secret kept there. */
static char *
read_secret(const char *path)
{
	char buf[4096];
	FILE *fp = fopen(path, "re");
	size_t n;

	if (fp == NULL) {
		error_set(EX_NOPERM, "cannot read credentials from '%s': %s",
		    path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	char *s = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	if (s == NULL)
		error_set(EX_OSERR, "out of memory");
	return s;
}

/*
 * A value of an INI file (~/.aws/credentials, ~/.aws/config): key in
 * section sect.  Returns a new string or NULL.
 */
static char *
ini_get(const char *path, const char *sect, const char *key)
{
	char line[4096], *val = NULL;
	FILE *fp;
	int in = 0;

	if (path == NULL || (fp = fopen(path, "re")) == NULL)
		return NULL;
	while (val == NULL && fgets(line, sizeof(line), fp) != NULL) {
		char *s = line, *e, *eq;
		while (isspace((unsigned char)*s))
			s++;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		if (*s == '[') {
			e = strchr(s, ']');
			if (e != NULL) {
				*e = '\0';
				in = strcmp(s + 1, sect) == 0;
			}
			continue;
		}
		if (!in || *s == '#' || *s == ';' ||
		    (eq = strchr(s, '=')) == NULL)
			continue;
		for (e = eq; e > s && isspace((unsigned char)e[-1]);)
			e--;
		if ((size_t)(e - s) == strlen(key) &&
		    strncmp(s, key, (size_t)(e - s)) == 0) {
			for (eq++; isspace((unsigned char)*eq);)
				eq++;
			val = strdup(eq);
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	return val;
}

/* An AWS file: $ENV if set, else ~/.aws/NAME.  Returns a new path. */
static char *
aws_file(const char *env, const char *name)
{
	const char *v = getenv(env), *home = getenv("HOME");
	char *p = NULL;

	if (v != NULL && *v != '\0')
		return strdup(v);
	if (home != NULL && asprintf(&p, "%s/.aws/%s", home, name) == -1)
		p = NULL;
	return p;
}

static const char *
json_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* AWS keys and region: inline, else the profile, else the environment. */
static int
s3_creds(const json_t *c, struct creds *cr)
{
	const char *profile = json_str(c, "aws_profile");
	char *cf, *kf, sect[300];

	cr->akid = xstrdup(json_str(c, "access_key_id"));
	cr->secret = xstrdup(json_str(c, "secret_access_key"));
	cr->session = xstrdup(json_str(c, "session_token"));
	cr->region = xstrdup(json_str(c, "region"));
	if (cr->akid == NULL && profile == NULL &&
	    getenv("AWS_ACCESS_KEY_ID") != NULL) {
		cr->akid = xstrdup(getenv("AWS_ACCESS_KEY_ID"));
		cr->secret = xstrdup(getenv("AWS_SECRET_ACCESS_KEY"));
		cr->session = xstrdup(getenv("AWS_SESSION_TOKEN"));
	}
	if (profile == NULL)
		profile = getenv("AWS_PROFILE");
	if (profile == NULL || *profile == '\0')
		profile = "default";
	kf = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	if (cr->akid == NULL) {
		cr->akid = ini_get(kf, profile, "aws_access_key_id");
		cr->secret = ini_get(kf, profile, "aws_secret_access_key");
		cr->session = ini_get(kf, profile, "aws_session_token");
	}
	free(kf);
	if (cr->region == NULL)
		cr->region = xstrdup(getenv("AWS_REGION"));
	if (cr->region == NULL)
		cr->region = xstrdup(getenv("AWS_DEFAULT_REGION"));
	if (cr->region == NULL) {
		cf = aws_file("AWS_CONFIG_FILE", "config");
		snprintf(sect, sizeof(sect), "%s%s",
		    strcmp(profile, "default") == 0 ? "" : "profile ", profile);
		cr->region = ini_get(cf, sect, "region");
		free(cf);
	}
	if (cr->region == NULL)
		cr->region = strdup("us-east-1");
	if (cr->akid != NULL && cr->secret == NULL)
		return error_set(EX_NOPERM,
		    "credentials: an access key id without a secret key");
	return 0;
}

/*
 * The artifact's credentials for t, read from wherever they are kept.
 * A reference (env, file) holds the password when a username is given,
 * else a bearer token.
 */
static int
get_creds(const json_t *a, const struct target *t, struct creds *cr)
{
	const json_t *c = json_object_get(a, "credentials");
	const json_t *netrc = json_object_get(c, "netrc");
	const char *env = json_str(c, "env"), *file = json_str(c, "file");
	char *ref = NULL;

	memset(cr, 0, sizeof(*cr));
	cr->given = c != NULL;
	if (t->s3)
		return s3_creds(c, cr);
	cr->user = xstrdup(json_str(c, "username"));
	cr->pass = xstrdup(json_str(c, "password"));
	cr->token = xstrdup(json_str(c, "token"));
	if (json_is_string(netrc))
		cr->netrc = xstrdup(json_string_value(netrc));
	cr->no_netrc = json_is_false(netrc);
	if (env != NULL) {
		if (getenv(env) == NULL)
			return error_set(EX_NOPERM,
			    "credentials: no variable '%s' in the environment",
			    env);
		ref = xstrdup(getenv(env));
	} else if (file != NULL && (ref = read_secret(file)) == NULL)
		return -1;
	if (ref != NULL) {
		if (cr->user != NULL) {
			burn(cr->pass);
			cr->pass = ref;
		} else {
			burn(cr->token);
			cr->token = ref;
		}
	}
	return 0;
}

/* Percent-encode each segment of an S3 key, keeping its slashes. */
static char *
s3_escape(CURL *c, const char *key)
{
	size_t cap = strlen(key) * 3 + 1, n = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return NULL;
	out[0] = '\0';
	while (*key != '\0') {
		size_t len = strcspn(key, "/");
		char *e = curl_easy_escape(c, key, (int)len);
		if (e == NULL) {
			free(out);
			return NULL;
		}
		n += (size_t)snprintf(
		    out + n, cap - n, "%s%s", e, key[len] == '/' ? "/" : "");
		curl_free(e);
		key += len + (key[len] == '/');
	}
	return out;
}

/*
 * s3://bucket/key at the endpoint (path style), or at AWS (virtual-hosted
 * style); s3://HOST:PORT/bucket/key, StudioML's qualified form, names its
 * server (MinIO) itself.
 */
static int
s3_target(const char *u, const struct fetch_opts *o, const char *region,
    struct target *t)
{
	const char *rest = u + 5, *slash = strchr(rest, '/');
	const char *ep =
	    o->endpoint != NULL ? o->endpoint : getenv("AWS_ENDPOINT_URL");
	char *bucket, *host = NULL, *enc;
	CURL *c = curl_easy_init();
	int r = 0;

	if (slash == NULL || slash == rest || c == NULL) {
		curl_easy_cleanup(c);
		return error_set(EX_DATAERR,
		    "'%s': an s3 URL is "
		    "s3://BUCKET/KEY",
		    t->shown);
	}
	bucket = strndup(rest, (size_t)(slash - rest));
	if (strchr(bucket, ':') != NULL) {
		/* Qualified: the authority is the server, then the bucket. */
		host = bucket;
		rest = slash + 1;
		slash = strchr(rest, '/');
		if (slash == NULL || slash == rest) {
			free(host);
			curl_easy_cleanup(c);
			return error_set(EX_DATAERR,
			    "'%s': a qualified s3 URL is "
			    "s3://HOST:PORT/BUCKET/KEY",
			    t->shown);
		}
		bucket = strndup(rest, (size_t)(slash - rest));
	}
	t->key = strdup(slash + 1);
	if (host != NULL)
		r = asprintf(&t->base, "http://%s/%s", host, bucket);
	else if (ep != NULL && *ep != '\0')
		r = asprintf(
		    &t->base, "%.*s/%s", (int)strcspn(ep, "?#"), ep, bucket);
	else
		r = asprintf(
		    &t->base, "https://%s.s3.%s.amazonaws.com", bucket, region);
	/* A trailing slash of the endpoint is not a segment. */
	if (r != -1 && ep != NULL && host == NULL) {
		char *dbl = strstr(t->base + 8, "//");
		if (dbl != NULL)
			memmove(dbl, dbl + 1, strlen(dbl));
	}
	enc = t->key != NULL ? s3_escape(c, t->key) : NULL;
	if (r == -1 || enc == NULL ||
	    asprintf(&t->url, "%s/%s", t->base, enc) == -1) {
		t->url = NULL;
		r = error_set(EX_OSERR, "out of memory");
	} else
		r = 0;
	free(enc);
	free(bucket);
	free(host);
	curl_easy_cleanup(c);
	return r;
}

static void
target_free(struct target *t)
{
	free(t->url);
	free(t->base);
	free(t->key);
	memset(t, 0, sizeof(*t));
}

static int
get_target(const char *u, const struct fetch_opts *o, const char *region,
    struct target *t)
{
	memset(t, 0, sizeof(*t));
	fetch_redact_url(u, t->shown, sizeof(t->shown));
	if (strncmp(u, "s3://", 5) == 0) {
		t->s3 = 1;
		return s3_target(u, o, region, t);
	}
	t->file = strncmp(u, "file://", 7) == 0;
	if ((t->url = strdup(u)) == NULL)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

/* --- hashes --------------------------------------------------------- */

static int
sums_init(struct sums *s)
{
	s->sha = EVP_MD_CTX_new();
	s->md5 = s->with_md5 ? EVP_MD_CTX_new() : NULL;
	if (s->sha == NULL || (s->with_md5 && s->md5 == NULL) ||
	    !EVP_DigestInit_ex(s->sha, EVP_sha256(), NULL) ||
	    (s->md5 != NULL && !EVP_DigestInit_ex(s->md5, EVP_md5(), NULL)))
		return error_set(EX_SOFTWARE, "cannot start a hash");
	return 0;
}

static void
sums_free(struct sums *s)
{
	EVP_MD_CTX_free(s->sha);
	EVP_MD_CTX_free(s->md5);
	s->sha = s->md5 = NULL;
}

static void
sums_add(struct sums *s, const void *p, size_t n)
{
	if (s->sha != NULL)
		EVP_DigestUpdate(s->sha, p, n);
	if (s->md5 != NULL)
		EVP_DigestUpdate(s->md5, p, n);
}

/* Whether the hash an artifact gave is an md5 (worth computing). */
static int
wants_md5(const char *want)
{
	return want != NULL && strncmp(want, "md5:", 4) == 0;
}

static void
hexify(const unsigned char *d, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
	out[2 * n] = '\0';
}

/* The sums as "sha256" (65 bytes) and "md5" (33 bytes) hex strings. */
static void
sums_end(struct sums *s, char *sha, char *md5)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n;

	sha[0] = md5[0] = '\0';
	if (s->sha != NULL && EVP_DigestFinal_ex(s->sha, d, &n))
		hexify(d, n, sha);
	if (s->md5 != NULL && EVP_DigestFinal_ex(s->md5, d, &n))
		hexify(d, n, md5);
}

/*
 * Whether the sums match the hash an artifact gave ("sha256:<hex>",
 * "md5:<hex>", or none).  Returns 0, or -1 with an EX_DATAERR error.
 */
static int
hash_check(
    const char *want, const char *sha, const char *md5, const char *shown)
{
	const char *got = NULL;

	if (want == NULL)
		return 0;
	if (strncmp(want, "sha256:", 7) == 0)
		got = sha;
	else if (strncmp(want, "md5:", 4) == 0)
		got = md5;
	else
		return error_set(
		    EX_DATAERR, "'%s': unknown hash '%s'", shown, want);
	if (strcasecmp(strchr(want, ':') + 1, got) != 0)
		return error_set(EX_DATAERR,
		    "'%s': hash mismatch: expected %s, got %.*s%s", shown, want,
		    (int)(strchr(want, ':') - want + 1), want, got);
	return 0;
}

/* --- progress ------------------------------------------------------- */

static void
draw(struct xfer *x, int64_t now, int last)
{
	char a[32], b[32], r[32], eta[32] = "";
	double secs = (double)(now - x->start) / 1000.0;
	double rate = secs > 0 ? (double)x->got / secs : 0;

	parse_fmt_size((uint64_t)x->got, a);
	parse_fmt_size(x->total > 0 ? (uint64_t)x->total : 0, b);
	parse_fmt_size((uint64_t)rate, r);
	if (x->total > 0 && rate > 0 && !last) {
		int64_t left = (int64_t)((double)(x->total - x->got) / rate);
		snprintf(eta, sizeof(eta), "  ETA %d:%02d", (int)(left / 60),
		    (int)(left % 60));
	}
	fprintf(stderr, "\r\033[K%s / %s  %s/s%s  %.60s", a,
	    x->total > 0 ? b : "?", r, eta, x->t->shown);
	if (last)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct xfer *x = arg;
	int64_t now = parse_now_ms();

	if (x->o->progress && now - x->drawn >= 250) {
		x->drawn = now;
		draw(x, now, 0);
	}
	return 0;
}

/* --- one GET -------------------------------------------------------- */

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	char *v;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->etag[0] = x->lastmod[0] = '\0';
		x->ranges = 0;
		x->retry_after = 0;
		return len;
	}
	if ((v = memchr(p, ':', len)) == NULL)
		return len;
	int klen = (int)(v - p);
	for (v++; v < p + len && *v == ' ';)
		v++;
	int vlen = (int)(p + len - v);
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
		vlen--;
	if (klen == 4 && strncasecmp(p, "etag", 4) == 0)
		snprintf(x->etag, sizeof(x->etag), "%.*s", vlen, v);
	else if (klen == 13 && strncasecmp(p, "last-modified", 13) == 0)
		snprintf(x->lastmod, sizeof(x->lastmod), "%.*s", vlen, v);
	else if (klen == 13 && strncasecmp(p, "accept-ranges", 13) == 0)
		x->ranges = vlen == 5 && strncasecmp(v, "bytes", 5) == 0;
	else if (klen == 11 && strncasecmp(p, "retry-after", 11) == 0)
		x->retry_after = strtol(v, NULL, 10);
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, done = 0;
	long code = 0;

	if (x->first) {
		x->first = 0;
		curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
		/* A resume the server did not take starts from the top. */
		if (x->resume_at > 0 && code != 206) {
			if (ftruncate(x->fd, 0) == -1 ||
			    lseek(x->fd, 0, SEEK_SET) == -1) {
				error_set(EX_IOERR, "%s", strerror(errno));
				x->failed = 1;
				return 0;
			}
			sums_free(&x->sums);
			if (sums_init(&x->sums) == -1) {
				x->failed = 1;
				return 0;
			}
			x->got = 0;
		}
	}
	if (x->o->max_bytes > 0 && x->got + (int64_t)len > x->o->max_bytes) {
		error_set(EX_DATAERR,
		    "'%s': larger than %lld bytes (--max-bytes)", x->t->shown,
		    (long long)x->o->max_bytes);
		x->failed = 1;
		return 0;
	}
	sums_add(&x->sums, p, len);
	while (done < len) {
		ssize_t w = write(x->fd, p + done, len - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			error_set(errno == ENOSPC || errno == EDQUOT ? EX_IOERR
								     : EX_IOERR,
			    "cannot write '%s': %s", x->t->shown,
			    strerror(errno));
			x->failed = 1;
			return 0;
		}
		done += (size_t)w;
	}
	x->got += (int64_t)len;
	return len;
}

/* The options every request of x has. */
static struct curl_slist *
setup(struct xfer *x, CURL *c)
{
	const struct creds *cr = x->cr;
	const struct fetch_opts *o = x->o;
	struct curl_slist *h = NULL;
	char buf[2300];

	curl_easy_setopt(c, CURLOPT_URL, x->t->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,ftp,ftps,file");
	/* A redirect never leads to a local file or another protocol. */
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* S3 is not followed to another host: the session token is a header
	 * of ours, which libcurl would send there. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, x->t->s3 ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    o->connect_timeout > 0 ? (long)o->connect_timeout : 30000L);
	if (o->timeout > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout);
	/* A stalled transfer is a transient failure, not a hang. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)COPY_BUF);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "jobkit/" JOBKIT_VERSION);
	if (x->t->s3) {
		if (cr->akid != NULL) {
			snprintf(buf, sizeof(buf), "aws:amz:%s:s3", cr->region);
			curl_easy_setopt(c, CURLOPT_AWS_SIGV4, buf);
			curl_easy_setopt(c, CURLOPT_USERNAME, cr->akid);
			curl_easy_setopt(c, CURLOPT_PASSWORD, cr->secret);
		}
		/* libcurl 7.88 signs this header but does not send it. */
		h = curl_slist_append(
		    h, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
		if (cr->session != NULL) {
			snprintf(buf, sizeof(buf), "x-amz-security-token: %s",
			    cr->session);
			h = curl_slist_append(h, buf);
			explicit_bzero(buf, sizeof(buf));
		}
	} else if (cr->token != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, cr->token);
	} else if (cr->user != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cr->user);
		curl_easy_setopt(
		    c, CURLOPT_PASSWORD, cr->pass != NULL ? cr->pass : "");
	} else if (!cr->no_netrc) {
		curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
		if (cr->netrc != NULL)
			curl_easy_setopt(c, CURLOPT_NETRC_FILE, cr->netrc);
	}
	if (x->o->progress) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	}
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	return h;
}

/*
 * What a finished request means: 0 done, else a sysexits status with the
 * error set; *again says whether trying again may help.
 */
static int
verdict(struct xfer *x, CURLcode rc, int *again)
{
	const char *u = x->t->shown;
	long code = 0;

	*again = 0;
	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
	if (x->failed)
		return error_status();
	switch (rc) {
	case CURLE_OK:
		if (code >= 300 && code < 400 && code != 304)
			return error_set(EX_UNAVAILABLE,
			    "'%s': redirected (HTTP %ld): is the bucket in "
			    "another region (AWS_REGION) or the endpoint "
			    "wrong?",
			    u, code);
		return 0;
	case CURLE_HTTP_RETURNED_ERROR:
		if (code == 401 || code == 403)
			return error_set(EX_NOPERM,
			    "'%s': credentials %s (HTTP %ld)", u,
			    x->cr->given || x->cr->akid != NULL ||
				    x->cr->user != NULL || x->cr->token != NULL
				? "refused"
				: "missing or refused",
			    code);
		if (code == 404 || code == 410)
			return error_set(EX_NOINPUT,
			    "'%s': no such object (HTTP %ld)", u, code);
		if (code == 408 || code == 429 || code >= 500) {
			*again = 1;
			return error_set(
			    EX_TEMPFAIL, "'%s': HTTP %ld", u, code);
		}
		return error_set(EX_UNAVAILABLE, "'%s': HTTP %ld", u, code);
	case CURLE_LOGIN_DENIED:
		return error_set(EX_NOPERM, "'%s': credentials refused", u);
	case CURLE_REMOTE_ACCESS_DENIED:
		/* After a login: FTP's CWD to a folder that is not there. */
		return error_set(EX_NOINPUT,
		    "'%s': no such object (a folder of its path is missing or "
		    "not ours)",
		    u);
	case CURLE_REMOTE_FILE_NOT_FOUND:
	case CURLE_FILE_COULDNT_READ_FILE:
		return error_set(EX_NOINPUT, "'%s': no such object", u);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		*again = 1;
		return error_set(
		    EX_UNAVAILABLE, "'%s': %s", u, curl_easy_strerror(rc));
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_FTP_ACCEPT_TIMEOUT:
		*again = 1;
		return error_set(
		    EX_TEMPFAIL, "'%s': %s", u, curl_easy_strerror(rc));
	case CURLE_FILESIZE_EXCEEDED:
		return error_set(EX_DATAERR,
		    "'%s': larger than %lld bytes (--max-bytes)", u,
		    (long long)x->o->max_bytes);
	default:
		return error_set(
		    EX_UNAVAILABLE, "'%s': %s", u, curl_easy_strerror(rc));
	}
}

/* Sleep before attempt n (1, 2, ...): exponential, with full jitter. */
static void
backoff(int n, long retry_after)
{
	int64_t base = 500LL << (n - 1 < 6 ? n - 1 : 6), ms;
	struct timespec ts;

	if (base > 30000)
		base = 30000;
	ms = base / 2 + (int64_t)(random() % (base / 2 + 1));
	if (retry_after > 0)
		ms = (retry_after < 60 ? retry_after : 60) * 1000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * GET x->t into x->fd (empty), retrying and resuming; the sums cover the
 * whole body.  With x->inm set, *modified is 0 when the server said 304.
 */
static int
download(struct xfer *x, int *modified)
{
	char hdr[400];
	int again, r = -1;
	long code = 0;

	*modified = 1;
	if ((x->c = curl_easy_init()) == NULL)
		return error_set(EX_OSERR, "cannot make a transfer");
	x->start = parse_now_ms();
	for (int n = 0;; n++) {
		struct curl_slist *h = setup(x, x->c);
		CURLcode rc;

		curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(x->c, CURLOPT_WRITEDATA, x);
		x->resume_at = 0;
		/* Resume only what the same validator still names. */
		if (x->got > 0 && x->ranges && !x->t->file &&
		    (x->etag[0] != '\0' || x->lastmod[0] != '\0')) {
			x->resume_at = x->got;
			snprintf(hdr, sizeof(hdr), "If-Range: %s",
			    x->etag[0] != '\0' ? x->etag : x->lastmod);
			h = curl_slist_append(h, hdr);
		} else if (x->got > 0) {
			if (ftruncate(x->fd, 0) == -1 ||
			    lseek(x->fd, 0, SEEK_SET) == -1) {
				curl_slist_free_all(h);
				r = error_set(EX_IOERR, "%s", strerror(errno));
				break;
			}
			sums_free(&x->sums);
			if (sums_init(&x->sums) == -1) {
				curl_slist_free_all(h);
				break;
			}
			x->got = 0;
		}
		if (x->inm != NULL) {
			snprintf(hdr, sizeof(hdr), "If-None-Match: %s", x->inm);
			h = curl_slist_append(h, hdr);
		}
		curl_easy_setopt(
		    x->c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x->resume_at);
		curl_easy_setopt(x->c, CURLOPT_HTTPHEADER, h);
		x->first = 1;
		x->failed = 0;
		x->total = -1;
		rc = curl_easy_perform(x->c);
		curl_slist_free_all(h);
		curl_easy_setopt(x->c, CURLOPT_HTTPHEADER, NULL);
		curl_off_t cl = -1;
		curl_easy_getinfo(
		    x->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl >= 0)
			x->total = x->resume_at + cl;
		if ((r = verdict(x, rc, &again)) == 0) {
			curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &code);
			*modified = code != 304;
			break;
		}
		if (!again || n >= x->o->retries)
			break;
		backoff(n + 1, x->retry_after);
	}
	if (x->o->progress)
		draw(x, parse_now_ms(), 1);
	curl_easy_cleanup(x->c);
	x->c = NULL;
	return r == 0 ? 0 : -1;
}

/* --- files ---------------------------------------------------------- */

/* A new temporary file beside path; its name in tmp (PATH_MAX). */
static int
temp_beside(const char *path, char *tmp)
{
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash != NULL)
		snprintf(tmp, PATH_MAX, "%.*s/.%s.XXXXXX", (int)(slash - path),
		    path, slash + 1);
	else
		snprintf(tmp, PATH_MAX, ".%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return error_set(EX_CANTCREAT, "cannot create '%s': %s", path,
		    strerror(errno));
	/* As open(2) would have made it: 0666 less the umask. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	return fd;
}

/* Make the folders above path (not path itself). */
static int
make_parents(const char *path)
{
	char dir[PATH_MAX];

	if (dirs_make(path, 0777, DIRS_PARENTS, dir, sizeof(dir)) == -1)
		return error_set(EX_CANTCREAT, "cannot create '%s': %s", dir,
		    strerror(errno));
	return 0;
}

/* Copy fd from its start to out, hashing; *size is the byte count. */
static int
copy_hashing(int in, int out, struct sums *s, int64_t *size)
{
	char *buf = malloc(COPY_BUF);
	ssize_t n;
	int r = 0;

	*size = 0;
	if (buf == NULL)
		return error_set(EX_OSERR, "out of memory");
	while ((n = read(in, buf, COPY_BUF)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			r = error_set(EX_IOERR, "read: %s", strerror(errno));
			break;
		}
		sums_add(s, buf, (size_t)n);
		for (ssize_t d = 0, w; d < n; d += w)
			if ((w = write(out, buf + d, (size_t)(n - d))) == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				r = error_set(
				    EX_IOERR, "write: %s", strerror(errno));
				goto out;
			}
		*size += n;
	}
out:
	free(buf);
	return r;
}

/* --- the cache ------------------------------------------------------ */

char *
fetch_cache_default(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	char *p = NULL;

	if (x != NULL && x[0] == '/')
		return asprintf(&p, "%s/jobkit", x) == -1 ? NULL : p;
	if (h != NULL && h[0] == '/')
		return asprintf(&p, "%s/.cache/jobkit", h) == -1 ? NULL : p;
	return NULL;
}

/* The sha256 hex of a string (a cache key for a URL). */
static void
sha_of(const char *s, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n;

	EVP_Digest(s, strlen(s), d, &n, EVP_sha256(), NULL);
	hexify(d, n, hex);
}

/* Make the cache's folders, private to its user. */
static int
cache_dirs(const char *c)
{
	static const char *sub[] = {
	    "", "/objects", "/urls", "/locks", "/tmp", NULL};
	char p[PATH_MAX];

	for (int i = 0; sub[i] != NULL; i++) {
		snprintf(p, sizeof(p), "%s%s", c, sub[i]);
		if (i == 0 && make_parents(p) == -1)
			return -1;
		if (mkdir(p, 0700) == -1 && errno != EEXIST)
			return error_set(EX_CANTCREAT,
			    "cannot create the cache '%s': %s", p,
			    strerror(errno));
	}
	return 0;
}

/* Take the lock of key: one fetcher of an object at a time. */
static int
cache_lock(const char *c, const char *key)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/locks/%s", c, key);
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return error_set(
		    EX_CANTCREAT, "cannot lock '%s': %s", p, strerror(errno));
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			close(fd);
			return error_set(EX_IOERR, "cannot lock '%s': %s", p,
			    strerror(errno));
		}
	return fd;
}

/* What the cache knows of a URL: its ETag and object, from urls/KEY. */
static json_t *
cache_url(const char *c, const char *ukey)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/urls/%s", c, ukey);
	return json_load_file(p, 0, NULL);
}

static void
cache_remember(const char *c, const char *ukey, const char *shown,
    const char *etag, const char *sha)
{
	char p[PATH_MAX], t[PATH_MAX];
	json_t *o = json_pack(
	    "{s:s, s:s, s:s}", "url", shown, "etag", etag, "sha256", sha);

	snprintf(p, sizeof(p), "%s/urls/%s", c, ukey);
	snprintf(t, sizeof(t), "%s/urls/.%s.%d", c, ukey, (int)getpid());
	if (o != NULL && json_dump_file(o, t, JSON_COMPACT) == 0)
		rename(t, p);
	json_decref(o);
}

/* Evict the least recently used objects until the cache fits its bound. */
static void
cache_evict(const char *c, int64_t max, const char *keep)
{
	char p[PATH_MAX];
	struct obj {
		char name[80];
		int64_t used, size;
	} *v = NULL, *nv;
	size_t n = 0, cap = 0;
	int64_t total = 0;
	DIR *d;
	struct dirent *e;
	struct stat st;

	snprintf(p, sizeof(p), "%s/objects", c);
	if ((d = opendir(p)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strlen(e->d_name) != 64 ||
		    fstatat(dirfd(d), e->d_name, &st, 0) == -1)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", e->d_name);
		v[n].size = (int64_t)st.st_size;
		/* Last used: its stamp's time, else its own. */
		char ok[80];
		snprintf(ok, sizeof(ok), "%.64s.ok", e->d_name);
		fstatat(dirfd(d), ok, &st, 0);
		v[n].used = (int64_t)st.st_mtim.tv_sec * 1000 +
		    st.st_mtim.tv_nsec / 1000000;
		total += v[n++].size;
	}
	while (total > max) {
		size_t old = n;
		for (size_t i = 0; i < n; i++)
			if (v[i].size >= 0 && strcmp(v[i].name, keep) != 0 &&
			    (old == n || v[i].used < v[old].used))
				old = i;
		if (old == n)
			break;
		unlinkat(dirfd(d), v[old].name, 0);
		char ok[80];
		snprintf(ok, sizeof(ok), "%.64s.ok", v[old].name);
		unlinkat(dirfd(d), ok, 0);
		total -= v[old].size;
		v[old].size = -1;
	}
	closedir(d);
	free(v);
}

/* --- streaming into an unpacker ------------------------------------- */

/*
 * The bytes of an archive, pulled by pack_extract() from a pipe that a
 * download thread (or a copy from the cache) fills.  At the end the
 * producer's result and the hash decide: a mismatch fails the extract
 * before anything is moved into place.
 */
struct stream {
	int rfd;
	pthread_t th;
	int joined;
	char buf[COPY_BUF];
	/* Filled by the producer. */
	struct xfer *x; /* a download, or NULL for a copy from in */
	int in, out;
	int status;
	char msg[1024];
	char sha[65], md5[33];
	int64_t size;
	const char *want; /* the hash the bytes must have, or NULL */
	const char *shown;
	int with_md5; /* a copy computes md5 too */
};

static void *
produce(void *arg)
{
	struct stream *s = arg;
	int modified = 1, r;
	sigset_t pipe;

	/* An unpacker that stopped reading is an EPIPE here, not a death. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	if (s->x != NULL) {
		s->x->fd = s->out;
		r = download(s->x, &modified);
		s->size = s->x->got;
		sums_end(&s->x->sums, s->sha, s->md5);
	} else {
		struct sums sums = {.with_md5 = s->with_md5};
		r = sums_init(&sums);
		if (r == 0)
			r = copy_hashing(s->in, s->out, &sums, &s->size);
		sums_end(&sums, s->sha, s->md5);
		sums_free(&sums);
	}
	close(s->out);
	if (r == 0)
		r = hash_check(s->want, s->sha, s->md5, s->shown);
	s->status = r == 0 ? 0 : error_status();
	snprintf(s->msg, sizeof(s->msg), "%s", r == 0 ? "" : error_msg());
	return NULL;
}

static int
stream_join(struct stream *s)
{
	if (!s->joined) {
		pthread_join(s->th, NULL);
		s->joined = 1;
	}
	if (s->status != 0)
		return error_set(s->status, "%s", s->msg);
	return 0;
}

static ssize_t
stream_read(void *arg, const void **buf)
{
	struct stream *s = arg;
	ssize_t n;

	while (
	    (n = read(s->rfd, s->buf, sizeof(s->buf))) == -1 && errno == EINTR)
		;
	if (n == -1)
		return error_set(EX_IOERR, "read: %s", strerror(errno));
	if (n == 0 && stream_join(s) == -1)
		return -1;
	*buf = s->buf;
	return n;
}

/* Unpack what x downloads (or the file in holds) into dir. */
static int
unpack_stream(struct xfer *x, int in, const char *dir, const char *want,
    const char *shown, const struct fetch_opts *o, struct stream *s, int md5)
{
	char msg[1024];
	int p[2], r, status = 0;

	memset(s, 0, sizeof(*s));
	if (pipe2(p, O_CLOEXEC) == -1)
		return error_set(EX_OSERR, "pipe: %s", strerror(errno));
	s->rfd = p[0];
	s->out = p[1];
	s->x = x;
	s->in = in;
	s->want = want;
	s->shown = shown;
	s->with_md5 = md5;
	if (pthread_create(&s->th, NULL, produce, s) != 0) {
		close(p[0]);
		close(p[1]);
		return error_set(EX_OSERR, "cannot start a thread");
	}
	r = pack_extract(stream_read, s, dir, &o->limits);
	if (r == -1) {
		status = error_status();
		snprintf(msg, sizeof(msg), "%s", error_msg());
	}
	/* The producer ends at the closed pipe if the unpacker stopped. */
	close(s->rfd);
	if (stream_join(s) == -1 && r == 0)
		return -1;
	/* A transfer that failed is the cause of a short archive; one that
	 * met the closed pipe is not. */
	if (r == -1 &&
	    (s->status == 0 || strstr(s->msg, strerror(EPIPE)) != NULL))
		error_set(status, "%s", msg);
	return r;
}

/* --- delivering ----------------------------------------------------- */

struct got {
	int64_t size;
	char sha[65], md5[33];
};

/*
 * A stamp of an object of the cache that was checked against its name:
 * its inode, size, mtime and ctime, in objects/SHA.ok.  An object whose
 * stamp still matches has not been written since (a write changes its
 * ctime), so a hit need not hash it again; the stamp's own mtime says
 * when the object was last used (eviction).
 */
static void
stamp_of(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "%llu %lld %lld.%09ld %lld.%09ld\n",
	    (unsigned long long)st->st_ino, (long long)st->st_size,
	    (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
	    (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

static void
stamp_write(const char *c, const char *sha, int fd)
{
	char path[PATH_MAX], tmp[PATH_MAX], text[160];
	struct stat st;
	FILE *fp;

	if (fstat(fd, &st) == -1)
		return;
	stamp_of(&st, text, sizeof(text));
	snprintf(path, sizeof(path), "%s/objects/%s.ok", c, sha);
	snprintf(
	    tmp, sizeof(tmp), "%s/objects/.%s.ok.%d", c, sha, (int)getpid());
	if ((fp = fopen(tmp, "we")) == NULL)
		return;
	if ((fputs(text, fp) == EOF) | (fclose(fp) == EOF) ||
	    rename(tmp, path) == -1)
		unlink(tmp);
}

/* Whether the object open on fd is as its stamp says; marks it used. */
static int
stamp_ok(const char *c, const char *sha, int fd)
{
	char path[PATH_MAX], text[160], want[160] = "";
	struct stat st;
	FILE *fp;
	int ok;

	snprintf(path, sizeof(path), "%s/objects/%s.ok", c, sha);
	if (fstat(fd, &st) == -1 || (fp = fopen(path, "re")) == NULL)
		return 0;
	ok = fgets(want, sizeof(want), fp) != NULL;
	fclose(fp);
	stamp_of(&st, text, sizeof(text));
	utimensat(AT_FDCWD, path, NULL, 0);
	return ok && strcmp(text, want) == 0;
}

/* Copy size bytes of in to out in the kernel: a clone, else a copy. */
static int
kernel_copy(int in, int out, int64_t size)
{
	struct sums none = {0};
	int64_t done = 0, rest;
	ssize_t n;

	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	while (done < size) {
		n = copy_file_range(
		    in, NULL, out, NULL, (size_t)(size - done), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += n;
	}
	if (done == size)
		return 0;
	/* Where the kernel cannot (old kernels across filesystems). */
	if (lseek(in, done, SEEK_SET) == -1 || lseek(out, done, SEEK_SET) == -1)
		return error_set(EX_IOERR, "copy: %s", strerror(errno));
	return copy_hashing(in, out, &none, &rest);
}

/*
 * The object of the cache named sha, to dest: copied (a job may change
 * what it was given, never the cache), or unpacked.  Its name is its hash,
 * checked unless its stamp says it was, and it was not written since: a
 * corrupt object fails with EX_DATAERR and is removed.  md5: compute g->md5
 * too.
 */
static int
deliver(const char *c, const char *sha, const char *dest, int unpack,
    const struct fetch_opts *o, struct got *g, int md5)
{
	char obj[PATH_MAX], tmp[PATH_MAX], want[80];
	struct stream s;
	struct sums sums = {.with_md5 = md5};
	struct stat st;
	int in, out, r, trusted;

	snprintf(obj, sizeof(obj), "%s/objects/%s", c, sha);
	snprintf(want, sizeof(want), "sha256:%s", sha);
	if ((in = open(obj, O_RDONLY | O_CLOEXEC)) == -1)
		return error_set(EX_NOINPUT, "'%s': %s", obj, strerror(errno));
	if (fstat(in, &st) == -1 ||
	    (o->max_bytes > 0 && st.st_size > o->max_bytes)) {
		close(in);
		return error_set(EX_DATAERR,
		    "larger than %lld bytes (--max-bytes)",
		    (long long)o->max_bytes);
	}
	trusted = stamp_ok(c, sha, in) && !md5;
	if (unpack) {
		r = unpack_stream(NULL, in, dest, want, obj, o, &s, md5);
		g->size = s.size;
		memcpy(g->sha, s.sha, sizeof(g->sha));
		memcpy(g->md5, s.md5, sizeof(g->md5));
	} else if ((out = temp_beside(dest, tmp)) == -1)
		r = -1;
	else {
		if (trusted) {
			r = kernel_copy(in, out, (int64_t)st.st_size);
			g->size = (int64_t)st.st_size;
			snprintf(g->sha, sizeof(g->sha), "%s", sha);
			g->md5[0] = '\0';
		} else {
			r = sums_init(&sums);
			if (r == 0)
				r = copy_hashing(in, out, &sums, &g->size);
			sums_end(&sums, g->sha, g->md5);
			sums_free(&sums);
		}
		if (close(out) == -1 && r == 0)
			r = error_set(
			    EX_IOERR, "'%s': %s", dest, strerror(errno));
		if (r == 0)
			r = hash_check(want, g->sha, g->md5, obj);
		if (r == 0 && rename(tmp, dest) == -1)
			r = error_set(EX_CANTCREAT, "cannot create '%s': %s",
			    dest, strerror(errno));
		if (r == -1)
			unlink(tmp);
	}
	if (r == 0 && !trusted)
		stamp_write(c, sha, in);
	close(in);
	if (r == -1 && error_status() == EX_DATAERR &&
	    strstr(error_msg(), "hash mismatch") != NULL) {
		unlink(obj);
		snprintf(tmp, sizeof(tmp), "%.4000s.ok", obj);
		unlink(tmp);
	}
	return r;
}

/* Download x into a file of the cache; its sha names it there. */
static int
cache_fill(const char *c, struct xfer *x, const char *want, int *modified,
    struct got *g)
{
	char tmp[PATH_MAX], obj[PATH_MAX];
	int r;

	snprintf(tmp, sizeof(tmp), "%s/tmp/XXXXXX", c);
	if ((x->fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return error_set(EX_CANTCREAT, "cannot create '%s': %s", tmp,
		    strerror(errno));
	r = download(x, modified);
	sums_end(&x->sums, g->sha, g->md5);
	g->size = x->got;
	if (close(x->fd) == -1 && r == 0)
		r = error_set(EX_IOERR, "cache: %s", strerror(errno));
	if (r == 0 && *modified)
		r = hash_check(want, g->sha, g->md5, x->t->shown);
	snprintf(obj, sizeof(obj), "%s/objects/%s", c, g->sha);
	if (r == 0 && *modified &&
	    (fchmodat(AT_FDCWD, tmp, 0400, 0) == -1 || rename(tmp, obj) == -1))
		r = error_set(EX_IOERR, "cache: %s", strerror(errno));
	/* Checked as it came in: stamped so that hits need not hash it. */
	if (r == 0 && *modified) {
		int fd = open(obj, O_RDONLY | O_CLOEXEC);
		if (fd != -1) {
			stamp_write(c, g->sha, fd);
			close(fd);
		}
	}
	if (r == -1 || !*modified)
		unlink(tmp);
	return r;
}

/* Fetch one object through the cache c. */
static int
get_cached(const char *c, struct xfer *x, const char *want, const char *dest,
    int unpack, int *cached, struct got *g)
{
	char ukey[65], key[65], sha[PATH_MAX] = "";
	json_t *known = NULL;
	int lock, modified = 1, r = -1;

	sha_of(x->t->shown, ukey);
	if (want != NULL && strncmp(want, "sha256:", 7) == 0)
		snprintf(key, sizeof(key), "%s", want + 7);
	else
		snprintf(key, sizeof(key), "%s", ukey);
	if ((lock = cache_lock(c, key)) == -1)
		return -1;
	*cached = 1;
	/* A known hash in the cache: no request at all. */
	if (strcmp(key, ukey) != 0 &&
	    (r = deliver(c, key, dest, unpack, x->o, g, wants_md5(want))) == 0)
		goto out;
	if (strcmp(key, ukey) != 0 && error_status() != EX_NOINPUT &&
	    strstr(error_msg(), "hash mismatch") == NULL)
		goto out;
	/* Else ask whether what we have is still what the URL names. */
	known = cache_url(c, ukey);
	const char *ksha = json_str(known, "sha256");
	snprintf(
	    sha, sizeof(sha), "%s/objects/%s", c, ksha != NULL ? ksha : "-");
	if (ksha != NULL && strlen(ksha) == 64 && json_str(known, "etag") &&
	    *json_str(known, "etag") != '\0' && access(sha, R_OK) == 0) {
		snprintf(sha, sizeof(sha), "%s", ksha);
		x->inm = json_str(known, "etag");
	}
	if (cache_fill(c, x, want, &modified, g) == -1)
		goto out;
	if (modified) {
		*cached = 0;
		snprintf(sha, sizeof(sha), "%s", g->sha);
		if (x->etag[0] != '\0')
			cache_remember(c, ukey, x->t->shown, x->etag, sha);
		cache_evict(c,
		    x->o->cache_max > 0 ? x->o->cache_max : FETCH_CACHE_MAX,
		    sha);
	}
	r = deliver(c, sha, dest, unpack, x->o, g, wants_md5(want));
	/* What the server said we have was corrupt here: fetch it whole. */
	if (r == -1 && !modified && strstr(error_msg(), "hash mismatch")) {
		x->inm = NULL;
		*cached = 0;
		if (cache_fill(c, x, want, &modified, g) == -1)
			goto out;
		snprintf(sha, sizeof(sha), "%s", g->sha);
		if (x->etag[0] != '\0')
			cache_remember(c, ukey, x->t->shown, x->etag, sha);
		r = deliver(c, sha, dest, unpack, x->o, g, wants_md5(want));
	}
out:
	/* Whichever way it came, what was delivered has the hash asked. */
	if (r == 0)
		r = hash_check(want, g->sha, g->md5, x->t->shown);
	x->inm = NULL;
	json_decref(known);
	close(lock);
	return r;
}

/* Fetch one object straight to dest. */
static int
get_direct(struct xfer *x, const char *want, const char *dest, int unpack,
    struct got *g)
{
	char tmp[PATH_MAX];
	struct stream s;
	int modified, r;

	if (unpack) {
		r = unpack_stream(
		    x, -1, dest, want, x->t->shown, x->o, &s, wants_md5(want));
		g->size = s.size;
		memcpy(g->sha, s.sha, sizeof(g->sha));
		memcpy(g->md5, s.md5, sizeof(g->md5));
		return r;
	}
	if ((x->fd = temp_beside(dest, tmp)) == -1)
		return -1;
	r = download(x, &modified);
	sums_end(&x->sums, g->sha, g->md5);
	g->size = x->got;
	if (close(x->fd) == -1 && r == 0)
		r = error_set(EX_IOERR, "'%s': %s", dest, strerror(errno));
	if (r == 0)
		r = hash_check(want, g->sha, g->md5, x->t->shown);
	if (r == 0 && rename(tmp, dest) == -1)
		r = error_set(EX_CANTCREAT, "cannot create '%s': %s", dest,
		    strerror(errno));
	if (r == -1)
		unlink(tmp);
	return r;
}

static int
get_one(const struct target *t, const struct creds *cr, const char *want,
    const char *dest, int unpack, const struct fetch_opts *o, json_t *results)
{
	struct xfer x = {.o = o,
	    .t = t,
	    .cr = cr,
	    .fd = -1,
	    .sums = {.with_md5 = wants_md5(want)}};
	struct got g = {0};
	int64_t t0 = parse_now_ms();
	int cached = 0, r;

	if (make_parents(dest) == -1 || sums_init(&x.sums) == -1) {
		sums_free(&x.sums);
		return -1;
	}
	/* A cache that cannot be made (a HOME not ours) is done without. */
	if (o->cache != NULL && !t->file && cache_dirs(o->cache) == 0)
		r = get_cached(o->cache, &x, want, dest, unpack, &cached, &g);
	else
		r = get_direct(&x, want, dest, unpack, &g);
	sums_free(&x.sums);
	if (r == -1)
		return -1;
	if (json_array_append_new(results,
		json_pack("{s:s, s:s, s:I, s:s, s:b, s:f}", "url", t->shown,
		    "path", dest, "size", (json_int_t)g.size, "sha256", g.sha,
		    "cached", cached, "seconds",
		    (double)(parse_now_ms() - t0) / 1000.0)) == -1)
		return error_set(EX_OSERR, "out of memory");
	return 0;
}

/* --- S3 listings ---------------------------------------------------- */

struct upload;

struct mem {
	char *p;
	size_t len;
};

static size_t
on_mem(char *p, size_t size, size_t n, void *arg)
{
	struct mem *m = arg;
	size_t len = size * n;
	char *np;

	if (m->len + len > (16u << 20) ||
	    (np = realloc(m->p, m->len + len + 1)) == NULL)
		return 0;
	m->p = np;
	memcpy(m->p + m->len, p, len);
	m->len += len;
	m->p[m->len] = '\0';
	return len;
}

/* The text of the next <tag>...</tag> from *at, XML entities decoded. */
static char *
xml_next(const char **at, const char *tag)
{
	char open[64], close[64], *v, *w;
	const char *b, *e;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((b = strstr(*at, open)) == NULL ||
	    (e = strstr(b += strlen(open), close)) == NULL)
		return NULL;
	*at = e + strlen(close);
	if ((v = strndup(b, (size_t)(e - b))) == NULL)
		return NULL;
	static const char *ents[][2] = {{"&amp;", "&"}, {"&lt;", "<"},
	    {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
	for (w = v, b = v; *b != '\0';) {
		size_t k;
		for (k = 0; k < 5; k++)
			if (strncmp(b, ents[k][0], strlen(ents[k][0])) == 0)
				break;
		if (k < 5) {
			*w++ = ents[k][1][0];
			b += strlen(ents[k][0]);
		} else
			*w++ = *b++;
	}
	*w = '\0';
	return v;
}

static int request(const struct target *t, const struct creds *cr,
    const struct fetch_opts *o, const char *url, struct upload *u,
    int64_t start, int64_t end, const char *body, char *etag,
    struct mem *reply);

/* One page of ListObjectsV2 under t->key, after token (or NULL). */
static int
s3_page(const struct target *t, const struct creds *cr,
    const struct fetch_opts *o, const char *token, struct mem *m)
{
	CURL *c = curl_easy_init();
	char *pre = NULL, *tok = NULL, *url = NULL;
	int r = -1;

	/* libcurl 7.88 signs the query as written: sorted and encoded. */
	if (c != NULL && (pre = curl_easy_escape(c, t->key, 0)) != NULL &&
	    (token == NULL || (tok = curl_easy_escape(c, token, 0)) != NULL) &&
	    asprintf(&url, "%s?%s%s%slist-type=2&prefix=%s", t->base,
		tok != NULL ? "continuation-token=" : "",
		tok != NULL ? tok : "", tok != NULL ? "&" : "", pre) != -1)
		r = request(t, cr, o, url, NULL, 0, 0, NULL, NULL, m);
	else {
		url = NULL;
		error_set(EX_OSERR, "out of memory");
	}
	if (r == 0 && m->p == NULL)
		r = error_set(
		    EX_UNAVAILABLE, "'%s': an empty listing", t->shown);
	curl_free(pre);
	curl_free(tok);
	free(url);
	curl_easy_cleanup(c);
	return r;
}

/* Whether a key's part under the prefix is a safe relative path. */
static int
safe_rel(const char *rel)
{
	if (*rel == '\0' || *rel == '/')
		return 0;
	for (const char *s = rel; *s != '\0';) {
		size_t n = strcspn(s, "/");
		if ((n == 2 && strncmp(s, "..", 2) == 0) ||
		    (n == 1 && *s == '.') || n == 0)
			return 0;
		s += n + (s[n] == '/');
	}
	return 1;
}

/*
 * A prefix fetched half-way is taken back: the files it wrote (results
 * from first on) are removed, with the folders made for them that are
 * left empty, and so are their results.
 */
static void
undo_prefix(json_t *results, size_t first, const char *dest, int unpack)
{
	char dir[PATH_MAX], *slash;
	size_t dlen = strlen(dest);

	while (json_array_size(results) > first) {
		json_t *o = json_array_get(results, first);
		const char *path = json_str(o, "path");
		if (path != NULL && !unpack && unlink(path) == 0) {
			snprintf(dir, sizeof(dir), "%s", path);
			while ((slash = strrchr(dir, '/')) != NULL &&
			    (size_t)(slash - dir) > dlen) {
				*slash = '\0';
				if (rmdir(dir) == -1)
					break;
			}
		}
		json_array_remove(results, first);
	}
}

/* Every object under an s3:// prefix, to dest/<key under the prefix>. */
static int
get_prefix(const struct target *t, const struct creds *cr, int unpack,
    const char *dest, const struct fetch_opts *o, json_t *results)
{
	struct mem m = {0};
	char *token = NULL, *key, *trunc, path[PATH_MAX];
	size_t plen = strlen(t->key), first = json_array_size(results);
	int r = 0;

	do {
		const char *at;
		if (s3_page(t, cr, o, token, &m) == -1) {
			r = -1;
			break;
		}
		free(token);
		token = NULL;
		at = m.p;
		while (r == 0 && (key = xml_next(&at, "Key")) != NULL) {
			struct target one = *t;
			char *enc = NULL;
			one.url = NULL;
			const char *rel = key + plen;
			if (strncmp(key, t->key, plen) != 0 ||
			    key[strlen(key) - 1] == '/') {
				free(key);
				continue;
			}
			if (!safe_rel(rel))
				r = error_set(EX_DATAERR,
				    "'%s': refused key '%s': not a path "
				    "inside the destination",
				    t->shown, key);
			CURL *c = curl_easy_init();
			if (r == 0 &&
			    (c == NULL || (enc = s3_escape(c, key)) == NULL ||
				asprintf(&one.url, "%s/%s", t->base, enc) ==
				    -1))
				r = error_set(EX_OSERR, "out of memory");
			curl_easy_cleanup(c);
			free(enc);
			snprintf(one.shown, sizeof(one.shown), "%.*s%s",
			    (int)(strlen(t->shown) - plen), t->shown, key);
			snprintf(path, sizeof(path), "%s/%s", dest, rel);
			if (r == 0)
				r = get_one(
				    &one, cr, NULL, path, unpack, o, results);
			free(one.url);
			free(key);
		}
		at = m.p;
		trunc = xml_next(&at, "IsTruncated");
		if (r == 0 && trunc != NULL && strcmp(trunc, "true") == 0) {
			at = m.p;
			token = xml_next(&at, "NextContinuationToken");
		}
		free(trunc);
	} while (r == 0 && token != NULL);
	free(token);
	free(m.p);
	if (r == -1)
		undo_prefix(results, first, dest, unpack);
	return r;
}

int
fetch_get(const json_t *a, const char *dest, const struct fetch_opts *o,
    json_t *results)
{
	const char *url = json_str(a, "url"), *want = json_str(a, "hash");
	int unpack = o->unpack || json_is_true(json_object_get(a, "unpack"));
	struct target t = {0};
	struct creds cr = {0};
	int r = -1;

	if (url == NULL)
		return error_set(EX_DATAERR, "an artifact needs a url");
	if (init_curl() == -1)
		return -1;
	fetch_redact_url(url, t.shown, sizeof(t.shown));
	t.s3 = strncmp(url, "s3://", 5) == 0;
	if (get_creds(a, &t, &cr) == 0 &&
	    get_target(url, o, cr.region, &t) == 0) {
		if (!t.s3 ||
		    (*t.key != '\0' && t.key[strlen(t.key) - 1] != '/'))
			r = get_one(&t, &cr, want, dest, unpack, o, results);
		else if (want != NULL)
			r = error_set(EX_DATAERR,
			    "'%s': a hash names one object, not a prefix",
			    t.shown);
		else
			r = get_prefix(&t, &cr, unpack, dest, o, results);
	}
	if (r == -1 && strstr(error_msg(), t.shown) == NULL &&
	    error_status() != EX_DATAERR)
		error_wrap("'%s'", t.shown);
	target_free(&t);
	creds_free(&cr);
	return r;
}

/* --- uploads -------------------------------------------------------- */

/*
 * An upload reads the file in ranges (a whole PUT, or one part of a
 * multipart upload) and hashes each byte once, however often a range is
 * sent again.
 */
struct upload {
	int fd;
	struct sums sums;
	int64_t pos, end; /* the range being sent */
	int64_t hashed; /* the bytes hashed so far, from 0 */
	int failed;
};

static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t want = size * n;
	ssize_t got;

	if ((int64_t)want > u->end - u->pos)
		want = (size_t)(u->end - u->pos);
	while ((got = pread(u->fd, p, want, u->pos)) == -1 && errno == EINTR)
		;
	if (got == -1) {
		error_set(EX_IOERR, "read: %s", strerror(errno));
		u->failed = 1;
		return CURL_READFUNC_ABORT;
	}
	if (u->pos + got > u->hashed && u->pos <= u->hashed) {
		sums_add(&u->sums, p + (u->hashed - u->pos),
		    (size_t)(u->pos + got - u->hashed));
		u->hashed = u->pos + got;
	}
	u->pos += got;
	return (size_t)got;
}

/*
 * One request to url (t's own when NULL): a PUT of the file's range
 * [start, end) when u is given, a POST of body (may be "") when that is
 * given, else a GET.  Retried on transient failures.  *etag gets the
 * answer's ETag; *reply (when not NULL) its body, to free.
 */
static int
request(const struct target *t, const struct creds *cr,
    const struct fetch_opts *o, const char *url, struct upload *u,
    int64_t start, int64_t end, const char *body, char *etag, struct mem *reply)
{
	struct target one = *t;
	struct xfer x = {.o = o, .t = &one, .cr = cr, .fd = -1};
	int again, r = -1;

	if (url != NULL)
		one.url = (char *)url;
	if ((x.c = curl_easy_init()) == NULL)
		return error_set(EX_OSERR, "cannot make a transfer");
	x.start = parse_now_ms();
	for (int n = 0;; n++) {
		struct curl_slist *h = setup(&x, x.c);
		if (u != NULL) {
			u->pos = start;
			u->end = end;
			u->failed = 0;
			curl_easy_setopt(x.c, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(x.c, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(x.c, CURLOPT_READDATA, u);
			curl_easy_setopt(x.c, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)(end - start));
			curl_easy_setopt(x.c, CURLOPT_FTP_CREATE_MISSING_DIRS,
			    (long)CURLFTP_CREATE_DIR);
		} else if (body != NULL) {
			curl_easy_setopt(x.c, CURLOPT_POST, 1L);
			curl_easy_setopt(x.c, CURLOPT_POSTFIELDS, body);
			/* What we post to a web server is a JSON summary. */
			if (!t->s3)
				h = curl_slist_append(
				    h, "Content-Type: application/json");
		}
		if (reply != NULL) {
			free(reply->p);
			*reply = (struct mem){0};
			curl_easy_setopt(x.c, CURLOPT_WRITEFUNCTION, on_mem);
			curl_easy_setopt(x.c, CURLOPT_WRITEDATA, reply);
		}
		curl_easy_setopt(x.c, CURLOPT_HTTPHEADER, h);
		CURLcode rc = curl_easy_perform(x.c);
		curl_slist_free_all(h);
		curl_easy_setopt(x.c, CURLOPT_HTTPHEADER, NULL);
		x.failed = u != NULL && u->failed;
		if ((r = verdict(&x, rc, &again)) == 0)
			break;
		if (!again || n >= o->retries)
			break;
		backoff(n + 1, x.retry_after);
	}
	if (etag != NULL)
		snprintf(etag, 256, "%s", x.etag);
	curl_easy_cleanup(x.c);
	return r == 0 ? 0 : -1;
}

/* t's URL with a query (already in canonical order and encoding), to
 * free; NULL without memory. */
static char *
with_query(const struct target *t, const char *fmt, const char *arg)
{
	char *q = NULL, *u = NULL;

	if (asprintf(&q, fmt, arg) == -1) {
		error_set(EX_OSERR, "out of memory");
		return NULL;
	}
	if (asprintf(&u, "%s?%s", t->url, q) == -1) {
		error_set(EX_OSERR, "out of memory");
		u = NULL;
	}
	free(q);
	return u;
}

/*
 * PUT each part of the file (size bytes) to the multipart upload enc of
 * t, in parts of FETCH_PART_SIZE, each retried alone; *body gets the
 * completion that names the parts' ETags, to free (also on failure).
 */
static int
multipart_parts(const struct target *t, const struct creds *cr,
    struct upload *u, int64_t size, const struct fetch_opts *o, const char *enc,
    char **body)
{
	char etag[256], *purl;
	size_t len;
	FILE *f;
	int r = 0;

	if ((f = open_memstream(body, &len)) == NULL)
		return error_set(EX_OSERR, "out of memory");
	fputs("<CompleteMultipartUpload>", f);
	for (int64_t off = 0, part = 1; part == 1 || off < size; part++) {
		int64_t end =
		    off + FETCH_PART_SIZE < size ? off + FETCH_PART_SIZE : size;

		/* Parameters sorted: partNumber, then uploadId. */
		if (asprintf(&purl, "%s?partNumber=%" PRId64 "&uploadId=%s",
			t->url, part, enc) == -1) {
			r = error_set(EX_OSERR, "out of memory");
			break;
		}
		r = request(t, cr, o, purl, u, off, end, NULL, etag, NULL);
		free(purl);
		if (r == -1)
			break;
		fprintf(f,
		    "<Part><PartNumber>%" PRId64 "</PartNumber><ETag>%s</ETag>"
		    "</Part>",
		    part, etag);
		off = end;
	}
	fputs("</CompleteMultipartUpload>", f);
	if ((ferror(f) | fclose(f)) != 0 && r == 0)
		r = error_set(EX_OSERR, "out of memory");
	return r;
}

/* Abort the multipart upload enc of t, so that no parts are left behind;
 * best effort, and it says nothing: the error is the upload's own. */
static void
multipart_abort(const struct target *t, const struct creds *cr,
    const struct fetch_opts *o, const char *enc)
{
	struct target one = *t;
	struct xfer x = {.o = o, .t = &one, .cr = cr, .fd = -1};
	CURL *d;

	if (asprintf(&one.url, "%s?uploadId=%s", t->url, enc) == -1)
		return;
	if ((d = curl_easy_init()) != NULL) {
		struct curl_slist *h = setup(&x, d);

		curl_easy_setopt(d, CURLOPT_CUSTOMREQUEST, "DELETE");
		curl_easy_setopt(d, CURLOPT_HTTPHEADER, h);
		curl_easy_perform(d);
		curl_slist_free_all(h);
		curl_easy_cleanup(d);
	}
	free(one.url);
}

/*
 * An S3 multipart upload of the file (size bytes): initiated, its parts
 * PUT (multipart_parts()), completed with their ETags; aborted on
 * failure.
 */
static int
multipart(const struct target *t, const struct creds *cr, struct upload *u,
    int64_t size, const struct fetch_opts *o)
{
	struct mem reply = {0};
	char *id = NULL, *enc = NULL, *url = NULL, *body = NULL;
	const char *at;
	int r = -1;
	CURL *c = curl_easy_init();

	if (c == NULL)
		return error_set(EX_OSERR, "cannot make a transfer");
	/* libcurl signs "?uploads" as "uploads=" is written: so write that. */
	if ((url = with_query(t, "uploads=%s", "")) == NULL ||
	    request(t, cr, o, url, NULL, 0, 0, "", NULL, &reply) == -1)
		goto out;
	at = reply.p != NULL ? reply.p : "";
	if ((id = xml_next(&at, "UploadId")) == NULL ||
	    (enc = curl_easy_escape(c, id, 0)) == NULL) {
		error_set(EX_UNAVAILABLE, "'%s': no upload id in the answer",
		    t->shown);
		goto out;
	}
	free(url);
	url = NULL;
	if (multipart_parts(t, cr, u, size, o, enc, &body) == -1 ||
	    (url = with_query(t, "uploadId=%s", enc)) == NULL ||
	    request(t, cr, o, url, NULL, 0, 0, body, NULL, &reply) == -1)
		r = -1;
	/* S3 may answer 200 with an error in the body. */
	else if (reply.p != NULL && strstr(reply.p, "<Error>") != NULL)
		r = error_set(EX_UNAVAILABLE,
		    "'%s': the upload was not completed", t->shown);
	else
		r = 0;
	if (r == -1)
		multipart_abort(t, cr, o, enc);
out:
	curl_free(enc);
	curl_easy_cleanup(c);
	free(id);
	free(url);
	free(body);
	free(reply.p);
	return r;
}

/* Upload the file fd (size bytes) to t: one PUT, or an S3 multipart
 * upload for large objects; sha gets its sha256. */
static int
upload(const struct target *t, const struct creds *cr, int fd, int64_t size,
    const struct fetch_opts *o, char *sha)
{
	struct upload u = {.fd = fd};
	char md5[33];
	int r;

	if (sums_init(&u.sums) == -1)
		return -1;
	if (t->s3 && size > FETCH_PART_SIZE)
		r = multipart(t, cr, &u, size, o);
	else
		r = request(t, cr, o, NULL, &u, 0, size, NULL, NULL, NULL);
	sums_end(&u.sums, sha, md5);
	sums_free(&u.sums);
	return r;
}

/* Pack the folder dir into a new unlinked temporary file. */
static int
pack_temp(const char *dir, int fmt)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/jobkit-pack.XXXXXX",
	    tmp != NULL && *tmp == '/' ? tmp : "/tmp");
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1)
		return error_set(EX_CANTCREAT, "cannot create '%s': %s", path,
		    strerror(errno));
	unlink(path);
	if (pack_dir(dir, fd, (enum pack_format)fmt, NULL, 0) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
fetch_put(const char *src, const json_t *a, int fmt, const struct fetch_opts *o,
    json_t **result)
{
	const char *url = json_str(a, "url");
	struct target t = {0};
	struct creds cr = {0};
	struct stat st;
	char sha[65] = "";
	int fd = -1, r = -1;

	if (init_curl() == -1)
		return -1;
	fetch_redact_url(url, t.shown, sizeof(t.shown));
	t.s3 = strncmp(url, "s3://", 5) == 0;
	if (stat(src, &st) == -1)
		return error_set(errno == ENOENT ? EX_NOINPUT : EX_IOERR,
		    "'%s': %s", src, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (fmt == -1)
			fmt = pack_format_of(t.shown);
		fd = pack_temp(src, fmt == -1 ? PACK_TGZ : fmt);
	} else if ((fd = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		error_set(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "'%s': %s",
		    src, strerror(errno));
	if (fd != -1 && fstat(fd, &st) == 0 && get_creds(a, &t, &cr) == 0 &&
	    get_target(url, o, cr.region, &t) == 0 &&
	    upload(&t, &cr, fd, (int64_t)st.st_size, o, sha) == 0) {
		*result = json_pack("{s:s, s:I, s:s}", "url", t.shown, "size",
		    (json_int_t)st.st_size, "sha256", sha);
		r = *result != NULL ? 0 : error_set(EX_OSERR, "out of memory");
	}
	if (fd != -1)
		close(fd);
	target_free(&t);
	creds_free(&cr);
	return r;
}

/* --- digests of what a task changed --------------------------------- */

int
fetch_digest_fd(int fd, char *hex)
{
	struct sums sums = {0};
	char md5[33];
	int64_t n;
	int out, r;

	if ((out = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return error_set(EX_OSERR, "/dev/null: %s", strerror(errno));
	r = sums_init(&sums);
	if (r == 0)
		r = copy_hashing(fd, out, &sums, &n);
	sums_end(&sums, hex, md5);
	sums_free(&sums);
	close(out);
	return r;
}

static int
file_sha(int dirfd, const char *name, char *hex)
{
	int fd, r;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return error_set(EX_IOERR, "'%s': %s", name, strerror(errno));
	r = fetch_digest_fd(fd, hex);
	close(fd);
	return r;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add rel (under root) and what is below it to the digest. */
static int
digest_tree(int root, const char *rel, EVP_MD_CTX *ctx)
{
	char **names = NULL, **nn, hex[65], line[PATH_MAX + 100];
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd, r = 0;

	fd = openat(root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return error_set(EX_IOERR, "'%s': %s", rel, strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nn = realloc(names, cap * sizeof(*names))) ==
			    NULL) {
				r = error_set(EX_OSERR, "out of memory");
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			r = error_set(EX_OSERR, "out of memory");
			break;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char sub[PATH_MAX];
		snprintf(sub, sizeof(sub), "%s/%s", rel, names[i]);
		if (fstatat(root, sub, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			r = error_set(
			    EX_IOERR, "'%s': %s", sub, strerror(errno));
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			snprintf(line, sizeof(line), "%s/ %o\n", sub,
			    (unsigned)st.st_mode);
			EVP_DigestUpdate(ctx, line, strlen(line));
			r = digest_tree(root, sub, ctx);
			continue;
		}
		if (S_ISREG(st.st_mode))
			r = file_sha(root, sub, hex);
		else if (S_ISLNK(st.st_mode)) {
			ssize_t k = readlinkat(root, sub, hex, sizeof(hex) - 1);
			hex[k > 0 ? k : 0] = '\0';
		} else
			snprintf(hex, sizeof(hex), "-");
		snprintf(line, sizeof(line), "%s %o %s\n", sub,
		    (unsigned)st.st_mode, hex);
		EVP_DigestUpdate(ctx, line, strlen(line));
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

int
fetch_digest(const char *path, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx;
	struct stat st;
	unsigned len;
	int r;

	if (stat(path, &st) == -1)
		return error_set(EX_NOINPUT, "'%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return file_sha(AT_FDCWD, path, hex);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		return error_set(EX_SOFTWARE, "cannot start a hash");
	}
	r = digest_tree(AT_FDCWD, path, ctx);
	EVP_DigestFinal_ex(ctx, d, &len);
	hexify(d, len, hex);
	EVP_MD_CTX_free(ctx);
	return r;
}

int
fetch_post(const char *url, const char *body, const struct fetch_opts *o)
{
	struct target t = {0};
	struct creds cr = {0};
	struct mem reply = {0};
	json_t *a;
	int r = -1;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return error_set(
		    EX_DATAERR, "'%s' is not an http or https URL", url);
	if (init_curl() == -1)
		return -1;
	if ((a = json_pack("{s:s}", "url", url)) == NULL)
		return error_set(EX_OSERR, "out of memory");
	fetch_redact_url(url, t.shown, sizeof(t.shown));
	/* The reply is read and dropped: it is no one's output. */
	if (get_creds(a, &t, &cr) == 0 && get_target(url, o, NULL, &t) == 0)
		r = request(&t, &cr, o, NULL, NULL, 0, 0, body, NULL, &reply);
	free(reply.p);
	target_free(&t);
	creds_free(&cr);
	json_decref(a);
	return r;
}
