#include <string.h>
#include <sys/random.h>

#include "error.h"
#include "id.h"

static const char id_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* Random part of the last ID, 80 bits in 10 bytes, big-endian. */
static unsigned char id_last_rand[10];
static int64_t id_last_ms = -1;

static int
id_fill_random(unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0)
			return error_set(EX_OSERR, "cannot read random bytes");
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
id_new(int64_t now_ms, char *buf)
{
	unsigned char *r = id_last_rand;
	uint64_t t;
	int i, bit;

	if (now_ms <= id_last_ms) {
		/* Same millisecond: count up so IDs keep their order. */
		now_ms = id_last_ms;
		for (i = 9; i >= 0 && ++r[i] == 0; i--)
			;
		if (i < 0)
			now_ms = ++id_last_ms;
	} else if (id_fill_random(r, sizeof(id_last_rand)) == -1)
		return -1;
	id_last_ms = now_ms;
	t = (uint64_t)now_ms;
	for (i = 9; i >= 0; i--, t >>= 5)
		buf[i] = id_alphabet[t & 31];
	for (i = 0; i < 16; i++) {
		unsigned v = 0;
		for (bit = 0; bit < 5; bit++) {
			int pos = i * 5 + bit;
			v = v << 1 | ((r[pos / 8] >> (7 - pos % 8)) & 1);
		}
		buf[10 + i] = id_alphabet[v];
	}
	buf[ID_LEN] = '\0';
	return 0;
}

static int
id_char(int c)
{
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	if (c == 'i' || c == 'l')
		c = '1';
	else if (c == 'o')
		c = '0';
	return c != '\0' && strchr(id_alphabet, c) != NULL ? c : -1;
}

int
id_prefix(const char *s, char *out)
{
	size_t i, n = strlen(s);
	int c;

	if (n < ID_MIN_PREFIX)
		return error_set(EX_USAGE,
		    "job ID '%s' is too short (give at least %d characters)",
		    s, ID_MIN_PREFIX);
	if (n > ID_LEN)
		return error_set(EX_NOINPUT, "no such job '%s'", s);
	for (i = 0; i < n; i++) {
		if ((c = id_char((unsigned char)s[i])) == -1)
			return error_set(EX_NOINPUT, "no such job '%s'", s);
		out[i] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

int64_t
id_time(const char *id)
{
	int64_t t = 0;
	int i, c;

	for (i = 0; i < 10; i++) {
		if ((c = id_char((unsigned char)id[i])) == -1)
			return -1;
		t = t << 5 | (strchr(id_alphabet, c) - id_alphabet);
	}
	return t;
}
