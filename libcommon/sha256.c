/*
 * sha256: SHA-256 as FIPS 180-4 section 6.2 gives it (sha256.h), with the
 * rounds done by the CPU's SHA extensions where it has them: a job's
 * signature hashes its environment too, a kilobyte, and in C that was a
 * quarter of an NDJSON stream's instructions.
 */
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_include)
#if __has_include(<sys/platform/x86.h>) /* glibc 2.33 */
#include <immintrin.h>
#include <sys/platform/x86.h>
#define SHA256_NI 1
#endif
#endif

#include "sha256.h"

static const uint32_t k[64] = {0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
    0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
    0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
    0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138,
    0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624,
    0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
    0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f,
    0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define S0(x) (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22))
#define S1(x) (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25))
#define s0(x) (ROR(x, 7) ^ ROR(x, 18) ^ ((x) >> 3))
#define s1(x) (ROR(x, 17) ^ ROR(x, 19) ^ ((x) >> 10))

static uint32_t
load32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
store32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Hash n whole blocks of p into h. */
static void
blocks_c(uint32_t *h, const unsigned char *p, size_t n)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;

	for (; n > 0; n--, p += SHA256_BLOCK) {
		for (int i = 0; i < 16; i++)
			w[i] = load32(p + 4 * i);
		for (int i = 16; i < 64; i++)
			w[i] =
			    s1(w[i - 2]) + w[i - 7] + s0(w[i - 15]) + w[i - 16];
		a = h[0], b = h[1], c = h[2], d = h[3];
		e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			t1 = hh + S1(e) + CH(e, f, g) + k[i] + w[i];
			t2 = S0(a) + MAJ(a, b, c);
			hh = g, g = f, f = e, e = d + t1;
			d = c, c = b, b = a, a = t1 + t2;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
		h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
	}
}

#ifdef SHA256_NI
/*
 * The same with SHA-NI, as Intel's white paper on the extensions lays it
 * out: the state as ABEF and CDGH, four rounds per pair of sha256rnds2,
 * and the message schedule four words at a time, X[j] of W[4j..4j+3]
 * made by sha256msg1 from X[j-4] and X[j-3], then sha256msg2 with
 * X[j-1] after adding W[4j-7..4j-4].
 */
__attribute__((target("sha,sse4.1"))) static void
blocks_ni(uint32_t *h, const unsigned char *p, size_t n)
{
	const __m128i swap =
	    _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i st0, st1, tmp, msg, x[4], abef, cdgh;

	tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0xb1);
	st1 =
	    _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)), 0x1b);
	st0 = _mm_alignr_epi8(tmp, st1, 8); /* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xf0); /* CDGH */
	for (; n > 0; n--, p += SHA256_BLOCK) {
		abef = st0;
		cdgh = st1;
#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			if (g < 4)
				x[g] = _mm_shuffle_epi8(
				    _mm_loadu_si128(
					(const __m128i *)(p + 16 * g)),
				    swap);
			msg = _mm_add_epi32(x[g % 4],
			    _mm_loadu_si128((const __m128i *)(k + 4 * g)));
			st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
			if (g >= 3 && g <= 14) {
				tmp = _mm_alignr_epi8(
				    x[g % 4], x[(g + 3) % 4], 4);
				x[(g + 1) % 4] =
				    _mm_add_epi32(x[(g + 1) % 4], tmp);
				x[(g + 1) % 4] = _mm_sha256msg2_epu32(
				    x[(g + 1) % 4], x[g % 4]);
			}
			msg = _mm_shuffle_epi32(msg, 0x0e);
			st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
			if (g >= 1 && g <= 12)
				x[(g + 3) % 4] = _mm_sha256msg1_epu32(
				    x[(g + 3) % 4], x[g % 4]);
		}
		st0 = _mm_add_epi32(st0, abef);
		st1 = _mm_add_epi32(st1, cdgh);
	}
	tmp = _mm_shuffle_epi32(st0, 0x1b); /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xb1); /* DCHG */
	_mm_storeu_si128((__m128i *)h, _mm_blend_epi16(tmp, st1, 0xf0));
	_mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(st1, tmp, 8));
}
#endif

/* Whether the CPU has the extensions, once asked, unless the tests said
 * to hash in C (sha256_portable()): -1 until then. */
static int ni = -1, portable;

void
sha256_portable(int on)
{
	portable = on;
	ni = -1;
}

static void
blocks(uint32_t *h, const unsigned char *p, size_t n)
{
#ifdef SHA256_NI
	/* What the dynamic loader found of the CPU, asked of no CPU again:
	 * cpuid traps to the hypervisor in a virtual machine. */
	if (ni == -1)
		ni = !portable && CPU_FEATURE_ACTIVE(SHA) &&
		    CPU_FEATURE_ACTIVE(SSE4_1) && CPU_FEATURE_ACTIVE(SSSE3);
	if (ni) {
		blocks_ni(h, p, n);
		return;
	}
#endif
	blocks_c(h, p, n);
}

void
sha256_init(struct sha256 *c)
{
	static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
	    0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, h0, sizeof(h0));
	c->len = 0;
	c->n = 0;
}

void
sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t take;

	c->len += len;
	if (c->n > 0) {
		take = SHA256_BLOCK - c->n < len ? SHA256_BLOCK - c->n : len;
		memcpy(c->buf + c->n, p, take);
		c->n += take, p += take, len -= take;
		if (c->n < SHA256_BLOCK)
			return;
		blocks(c->h, c->buf, 1);
		c->n = 0;
	}
	/* A field of a signature is a few bytes: no rounds for it yet. */
	if (len >= SHA256_BLOCK)
		blocks(c->h, p, len / SHA256_BLOCK);
	p += len - len % SHA256_BLOCK;
	if ((c->n = len % SHA256_BLOCK) > 0)
		memcpy(c->buf, p, c->n);
}

void
sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN])
{
	uint64_t bits = c->len * 8;

	/* A 1 bit, zeros to 56 bytes into a block, the length in bits. */
	c->buf[c->n++] = 0x80;
	if (c->n > SHA256_BLOCK - 8) {
		memset(c->buf + c->n, 0, SHA256_BLOCK - c->n);
		blocks(c->h, c->buf, 1);
		c->n = 0;
	}
	memset(c->buf + c->n, 0, SHA256_BLOCK - 8 - c->n);
	store32(c->buf + 56, (uint32_t)(bits >> 32));
	store32(c->buf + 60, (uint32_t)bits);
	blocks(c->h, c->buf, 1);
	for (int i = 0; i < 8; i++)
		store32(out + 4 * i, c->h[i]);
}

void
sha256_final_hex(struct sha256 *c, char out[2 * SHA256_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_LEN];

	sha256_final(c, d);
	for (int i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * SHA256_LEN] = '\0';
}

void
sha256_hex(const void *p, size_t len, char out[2 * SHA256_LEN + 1])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, p, len);
	sha256_final_hex(&c, out);
}
