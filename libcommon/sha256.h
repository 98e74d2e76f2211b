/*
 * sha256: FIPS 180-4's SHA-256, for the store's tools.  libcrypto probes
 * the CPU before main in every process that links it, with cpuid, which
 * traps to the hypervisor in a virtual machine: 30 us of each job-submit,
 * to hash a few hundred bytes.  artifact-fetch, which hashes downloads and
 * links libcurl's TLS anyway, keeps using libcrypto.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32 /* bytes of a digest */
#define SHA256_BLOCK 64 /* bytes of a block */

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed */
	unsigned char buf[SHA256_BLOCK];
	size_t n; /* of them in buf */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *p, size_t len);
/* The digest into out; c is spent (init it again to reuse it). */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* The same as 64 lowercase hex digits and a NUL. */
void sha256_final_hex(struct sha256 *c, char out[2 * SHA256_LEN + 1]);
/* 1: hash in C even where the CPU has SHA extensions (for the tests). */
void sha256_portable(int on);
/* The digest of p[0..len) as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *p, size_t len, char out[2 * SHA256_LEN + 1]);

#endif
