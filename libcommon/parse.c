#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "parse.h"

#define DURATION_MAX_MS (100LL * 366 * 24 * 3600 * 1000)

/*
 * Read an unsigned decimal number with an optional fraction, as strtod
 * would but refusing signs, exponents, hex, inf and nan.
 */
static int
parse_number(const char **sp, double *out)
{
	const char *s = *sp, *start = s;
	char *end;

	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1; /* "5." is a typo, not five */
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (s == start || (s == start + 1 && *start == '.'))
		return -1;
	errno = 0;
	*out = strtod(start, &end);
	if (end != s || errno != 0)
		return -1;
	*sp = s;
	return 0;
}

int
parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *name;
		double ms;
	} units[] = {{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3},
	    {"d", 86400e3}, {"w", 604800e3}};
	const char *p = s;
	double total = 0, n;
	size_t i, len;

	if (*p == '\0')
		goto bad;
	if (parse_number(&p, &n) == 0 && *p == '\0') {
		total = n * 1e3;
		goto done;
	}
	p = s;
	while (*p != '\0') {
		if (parse_number(&p, &n) == -1)
			goto bad;
		len = 0;
		while (isalpha((unsigned char)p[len]))
			len++;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].name) == len &&
			    strncmp(p, units[i].name, len) == 0)
				break;
		if (len == 0 || i == sizeof(units) / sizeof(units[0]))
			goto bad;
		total += n * units[i].ms;
		p += len;
	}
done:
	if (total > (double)DURATION_MAX_MS)
		return error_set(EX_DATAERR, "duration '%s' is too long", s);
	*ms = (int64_t)llround(total);
	return 0;
bad:
	return error_set(EX_DATAERR,
	    "invalid duration '%s' (use e.g. 90s, 1h30m, 250ms)", s);
}

int
parse_size(const char *s, uint64_t *bytes)
{
	static const char prefixes[] = "KMGTPE";
	const char *p = s, *u;
	double n, mult = 1;
	int base = 1024;

	if (parse_number(&p, &n) == -1)
		goto bad;
	if (*p != '\0') {
		u = strchr(prefixes, toupper((unsigned char)*p));
		if (*p == 'B' && p[1] == '\0')
			p++;
		else if (u == NULL)
			goto bad;
		else {
			p++;
			if (strcmp(p, "B") == 0)
				base = 1000;
			else if (*p != '\0' && strcmp(p, "iB") != 0)
				goto bad;
			for (int i = 0; i <= u - prefixes; i++)
				mult *= base;
		}
	}
	n *= mult;
	if (n >= 18446744073709551615.0)
		return error_set(EX_DATAERR, "size '%s' is too large", s);
	if (n != floor(n))
		return error_set(
		    EX_DATAERR, "size '%s' is not a whole number of bytes", s);
	*bytes = (uint64_t)n;
	return 0;
bad:
	return error_set(EX_DATAERR,
	    "invalid size '%s' (use e.g. 4096, 512MiB, 2G, 2GB)", s);
}

int
parse_cpu(const char *s, int64_t *millicores)
{
	const char *p = s;
	double n;

	if (parse_number(&p, &n) == -1)
		goto bad;
	if (strcmp(p, "m") == 0)
		;
	else if (*p == '\0')
		n *= 1000;
	else
		goto bad;
	if (n != floor(n))
		return error_set(
		    EX_DATAERR, "cpu '%s' is finer than a millicore", s);
	if (n > 1e9)
		return error_set(EX_DATAERR, "cpu '%s' is too large", s);
	*millicores = (int64_t)n;
	return 0;
bad:
	return error_set(
	    EX_DATAERR, "invalid cpu '%s' (use e.g. 2, 0.5, 500m)", s);
}

/* "+01:00", "-0530", "Z" after an RFC 3339 time: offset in seconds. */
static int
parse_offset(const char *p, long *off)
{
	int h, m, sign;

	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		*off = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -1;
	h = (p[0] - '0') * 10 + (p[1] - '0');
	p += 2;
	if (*p == ':')
		p++;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
	    p[2] != '\0')
		return -1;
	m = (p[0] - '0') * 10 + (p[1] - '0');
	if (h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600L + m * 60L);
	return 0;
}

static int
parse_absolute(const char *s, int64_t *ms)
{
	struct tm tm;
	const char *p;
	long off = 0;
	double frac = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%d", &tm);
	if (p == NULL || p - s != 10)
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (p == NULL)
			return -1;
		if (*p == '.') {
			char *end;
			if (!isdigit((unsigned char)p[1]))
				return -1;
			frac = strtod(p, &end);
			p = end;
		}
		if (parse_offset(p, &off) == -1)
			return -1;
	} else if (*p != '\0')
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = ((int64_t)t - off) * 1000 + (int64_t)llround(frac * 1000);
	return 0;
}

int
parse_time(const char *s, int64_t now_ms, int dir, int64_t *ms)
{
	int64_t d;

	if (strcmp(s, "now") == 0) {
		*ms = now_ms;
		return 0;
	}
	if (parse_absolute(s, ms) == 0)
		return 0;
	if (*s == '-' || *s == '+') {
		dir = *s == '-' ? -1 : 1;
		s++;
	}
	if (*s != '\0' && parse_duration(s, &d) == 0) {
		*ms = now_ms + dir * d;
		return 0;
	}
	return error_set(EX_DATAERR,
	    "invalid time '%s' (use RFC 3339, "
	    "a date, now, or a duration such as -2h)",
	    s);
}

/* Write v as exactly n decimal digits at p. */
static char *
put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

char *
parse_fmt_size(uint64_t bytes, char *buf)
{
	static const char *const units[] = {
	    "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	uint64_t unit = 1;
	int i = 0;

	while (i < 6 && bytes / unit >= 1024) {
		unit *= 1024;
		i++;
	}
	if (bytes % unit == 0)
		snprintf(buf, 32, "%llu%s", (unsigned long long)(bytes / unit),
		    units[i]);
	else
		snprintf(
		    buf, 32, "%.1f%s", (double)bytes / (double)unit, units[i]);
	return buf;
}

char *
parse_fmt_time(int64_t ms, char *buf)
{
	struct tm tm;
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	char *p = buf;

	gmtime_r(&t, &tm);
	p = put_digits(p, (unsigned)(tm.tm_year + 1900) % 10000, 4);
	*p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)(ms - (int64_t)t * 1000), 3);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

int
parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || isspace((unsigned char)*s))
		return error_set(EX_DATAERR, "invalid number '%s'", s);
	if (errno == ERANGE || v < min || v > max)
		return error_set(EX_DATAERR,
		    "number '%s' is out of range %lld..%lld", s, (long long)min,
		    (long long)max);
	*out = v;
	return 0;
}

int64_t
parse_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
parse_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
