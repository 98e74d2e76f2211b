#include <string.h>

#include "utf8.h"

/* The length of the valid sequence at p (n bytes left), or 0. */
static size_t
seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t k, i;
	unsigned lo = 0x80, hi = 0xbf;

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
	if (n < k)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < k; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return k;
}

/* Whether p (n bytes left) is the start of a sequence the end cut off. */
static int
cut_short(const unsigned char *p, size_t n)
{
	size_t want = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;

	if (p[0] < 0xc2 || p[0] > 0xf4 || n >= want)
		return 0;
	for (size_t i = 1; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return 1;
}

size_t
utf8_clean(
    const char *in, size_t len, int whole, char *out, size_t max, int *cut)
{
	const unsigned char *p = (const unsigned char *)in;
	static const char fffd[] = "\xef\xbf\xbd";
	size_t i = 0, o = 0, k;

	while (i < len) {
		if ((k = seq_len(p + i, len - i)) == 0 && !whole &&
		    cut_short(p + i, len - i))
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
		i += k ? k : 1;
	}
	out[o] = '\0';
	return o;
}
