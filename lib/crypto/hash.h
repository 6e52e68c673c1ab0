/*
 * hash.h - digests, HMAC, hex and the CRCs S3 uses for checksums.
 *
 * SHA-256, SHA-1 and MD5 (one-shot and incremental) and HMAC-SHA256/SHA1 go through OpenSSL 3's
 * EVP_MD / EVP_MAC APIs; the algorithm objects are fetched once per process and shared
 * read-only by every thread. CRC32 (IEEE), CRC32C (Castagnoli) and CRC64NVME are
 * table-driven code of our own. A failure inside OpenSSL can only mean a broken library or
 * no memory, so it aborts like pd_xmalloc does; none of these functions return errors.
 *
 * S3 sends checksums as base64 of the big-endian bytes of the CRC (x-amz-checksum-crc32:
 * sK4Y7A==): pd_be32/pd_be64 produce those bytes, core/str.h's pd_base64_encode the text.
 */
#ifndef PD_CRYPTO_HASH_H
#define PD_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define PD_SHA256_LEN 32
#define PD_SHA1_LEN 20
#define PD_MD5_LEN 16
#define PD_HASH_MAX_LEN 32

enum pd_hash_alg {
    PD_HASH_SHA256 = 0,
    PD_HASH_SHA1,
    PD_HASH_MD5, /* S3 ETags and Content-MD5 only */
};

/* Incremental digest. Embed it, pd_hash_init, any number of pd_hash_update, then exactly one
 * of pd_hash_final (returns the digest) or pd_hash_cleanup (abandons it). Not thread-safe:
 * one stream, one thread. */
struct pd_hash {
    void *ctx; /* EVP_MD_CTX *, owned */
    enum pd_hash_alg alg;
};

/* Digest length in bytes of alg. */
size_t pd_hash_len(enum pd_hash_alg alg);

void pd_hash_init(struct pd_hash *h, enum pd_hash_alg alg);
void pd_hash_update(struct pd_hash *h, const void *p, size_t n);
/* Write the digest (pd_hash_len(alg) bytes) to out, release the context, return the length. */
size_t pd_hash_final(struct pd_hash *h, unsigned char out[PD_HASH_MAX_LEN]);
/* Release the context without a result; safe to call after pd_hash_final. */
void pd_hash_cleanup(struct pd_hash *h);

/* One-shot SHA-256 of n bytes; the _hex form writes 64 lower-case digits and a NUL. */
void pd_sha256(const void *p, size_t n, unsigned char out[PD_SHA256_LEN]);
void pd_sha256_hex(const void *p, size_t n, char out[2 * PD_SHA256_LEN + 1]);

/* HMAC-SHA256(key, msg). */
void pd_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                    unsigned char out[PD_SHA256_LEN]);
/* HMAC-SHA1(key, msg): S3 Signature Version 2 (SigV2 headers, query strings, POST forms). */
void pd_hmac_sha1(const void *key, size_t klen, const void *msg, size_t n,
                  unsigned char out[PD_SHA1_LEN]);

/* Lower-case hex of n bytes; out must hold 2n + 1 bytes (NUL-terminated). */
void pd_hex_encode(const void *bytes, size_t n, char *out);

/* Compare n bytes in time independent of where they differ (signatures, MACs).
 * Returns 1 when equal. */
int pd_ct_equal(const void *a, const void *b, size_t n);

/*
 * CRCs, zlib-style: start from 0, feed chunks, and the value after each call is the CRC of
 * everything fed so far (the pre- and post-inversion happens inside each call), so
 * crc = pd_crc32_update(0, "123456789", 9) == 0xCBF43926, and splitting the input anywhere
 * gives the same result.
 */
uint32_t pd_crc32_update(uint32_t crc, const void *p, size_t n);     /* IEEE 802.3, reflected */
uint32_t pd_crc32c_update(uint32_t crc, const void *p, size_t n);    /* Castagnoli, reflected */
uint64_t pd_crc64nvme_update(uint64_t crc, const void *p, size_t n); /* CRC-64/NVME */

/* Big-endian bytes of a CRC, the form S3 base64-encodes. */
void pd_be32(uint32_t v, unsigned char out[4]);
void pd_be64(uint64_t v, unsigned char out[8]);

#endif
