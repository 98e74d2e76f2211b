#include <string.h>

#include "utf8.h"

/*
 * The length of the valid sequence at p (n bytes left), or 0 with *bad set
 * to the length of its longest start that could have been valid (Unicode's
 * "maximal subpart"), which becomes one U+FFFD; *at_end is then set when
 * that start runs to the end of p.
 */
static size_t
seq_len(const unsigned char *p, size_t n, size_t *bad, int *at_end)
{
	unsigned char c = p[0];
	unsigned lo = 0x80, hi = 0xbf;
	size_t k, i;

	*bad = 1;
	*at_end = 0;
	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		if (c == 0xe0)
			lo = 0xa0; /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* nothing past U+10FFFF */
	} else
		return 0;
	for (i = 1; i < k && i < n; i++) {
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
			break;
	}
	if (i == k)
		return k;
	*bad = i;
	*at_end = i == n;
	return 0;
}

size_t
utf8_clean(
    const char *in, size_t len, int whole, char *out, size_t max, int *cut)
{
	const unsigned char *p = (const unsigned char *)in;
	static const char fffd[] = "\xef\xbf\xbd";
	size_t i = 0, o = 0, k, bad;
	int at_end;

	while (i < len) {
		k = seq_len(p + i, len - i, &bad, &at_end);
		/* A character the cut ended in the middle of is left out. */
		if (k == 0 && at_end && !whole)
			break;
		const char *src = k ? in + i : fffd;
		size_t w = k ? k : 3;
		if (o + w > max) {
			if (cut != NULL)
				*cut = 1;
			break;
		}
		memcpy(out + o, src, w);
		o += w;
		i += k ? k : bad;
	}
	out[o] = '\0';
	return o;
}

int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, k, bad;
	int at_end;

	for (i = 0; i < len; i += k)
		if ((k = seq_len(p + i, len - i, &bad, &at_end)) == 0)
			return 0;
	return 1;
}
