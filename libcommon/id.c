#include <string.h>

#include "error.h"
#include "id.h"

static const char id_digits[] = "0123456789abcdefghjkmnpqrstvwxyz";
static const char id_classes[] = "abcdefghjk"; /* 3 .. 12 digits */

int
id_format(int64_t n, char *buf)
{
	int digits = 3, i;

	if (n < 1 || n >= (int64_t)1 << 60)
		return error_set(
		    EX_SOFTWARE, "ID number %lld out of range", (long long)n);
	while (digits < 12 && n >= (int64_t)1 << (5 * digits))
		digits++;
	buf[0] = id_classes[digits - 3];
	for (i = digits; i > 0; i--, n >>= 5)
		buf[i] = id_digits[n & 31];
	buf[digits + 1] = '\0';
	return 0;
}

/* A character's digit value, with Crockford's readings; -1 if none. */
static int
id_digit(int c)
{
	const char *p;

	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (c == 'i' || c == 'l')
		c = '1';
	else if (c == 'o')
		c = '0';
	if (c == '\0' || (p = strchr(id_digits, c)) == NULL)
		return -1;
	return (int)(p - id_digits);
}

int
id_range(const char *prefix, int64_t *lo, int64_t *hi)
{
	size_t n = strlen(prefix), i;
	const char *cls;
	int digits, d, c = (unsigned char)prefix[0];
	int64_t v = 0;

	if (n < ID_MIN_PREFIX)
		return error_set(EX_USAGE,
		    "ID '%s' is too short (give at "
		    "least %d characters)",
		    prefix, ID_MIN_PREFIX);
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if ((cls = strchr(id_classes, c)) == NULL)
		goto none;
	digits = (int)(cls - id_classes) + 3;
	if (n - 1 > (size_t)digits)
		goto none;
	for (i = 1; i < n; i++) {
		if ((d = id_digit((unsigned char)prefix[i])) == -1)
			goto none;
		v = v << 5 | d;
	}
	*lo = v << (5 * (digits - (int)(n - 1)));
	*hi = (v + 1) << (5 * (digits - (int)(n - 1)));
	/* IDs of this class hold numbers of exactly this many digits. */
	if (digits > 3 && *lo < (int64_t)1 << (5 * (digits - 1)))
		*lo = (int64_t)1 << (5 * (digits - 1));
	if (*lo < 1)
		*lo = 1;
	if (*lo >= *hi)
		goto none;
	return 0;
none:
	return error_set(EX_NOINPUT, "no such job '%s'", prefix);
}
