/* hash.c - digests, HMAC-SHA256, hex and CRCs (see hash.h). */
#include "hash.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* ---- algorithm objects, fetched once ----
 * EVP_sha256() and friends would re-resolve the implementation through the provider on every
 * EVP_DigestInit; an explicitly fetched object is resolved once and is safe to share between
 * threads (OpenSSL 3 "Performance" notes). They live for the whole process. */

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_sha1, *md_md5;
static EVP_MAC *mac_hmac;

static void die(const char *what)
{
    fprintf(stderr, "podiam: OpenSSL failure in %s\n", what);
    abort();
}

static void fetch_all(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!md_sha256 || !md_sha1 || !md_md5 || !mac_hmac)
        die("EVP_MD_fetch/EVP_MAC_fetch");
}

static const EVP_MD *md_for(enum pd_hash_alg alg)
{
    pthread_once(&fetch_once, fetch_all);
    switch (alg) {
    case PD_HASH_SHA256:
        return md_sha256;
    case PD_HASH_SHA1:
        return md_sha1;
    case PD_HASH_MD5:
        return md_md5;
    }
    assert(!"unknown hash algorithm");
    return md_sha256;
}

size_t pd_hash_len(enum pd_hash_alg alg)
{
    switch (alg) {
    case PD_HASH_SHA256:
        return PD_SHA256_LEN;
    case PD_HASH_SHA1:
        return PD_SHA1_LEN;
    case PD_HASH_MD5:
        return PD_MD5_LEN;
    }
    assert(!"unknown hash algorithm");
    return 0;
}

/* ---- incremental digests ---- */

void pd_hash_init(struct pd_hash *h, enum pd_hash_alg alg)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex2(ctx, md_for(alg), NULL))
        die("EVP_DigestInit_ex2");
    h->ctx = ctx;
    h->alg = alg;
}

void pd_hash_update(struct pd_hash *h, const void *p, size_t n)
{
    assert(h->ctx);
    if (n && !EVP_DigestUpdate(h->ctx, p, n))
        die("EVP_DigestUpdate");
}

size_t pd_hash_final(struct pd_hash *h, unsigned char out[PD_HASH_MAX_LEN])
{
    unsigned int len = 0;
    assert(h->ctx);
    if (!EVP_DigestFinal_ex(h->ctx, out, &len))
        die("EVP_DigestFinal_ex");
    pd_hash_cleanup(h);
    return len;
}

void pd_hash_cleanup(struct pd_hash *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void pd_sha256(const void *p, size_t n, unsigned char out[PD_SHA256_LEN])
{
    unsigned int len = 0;
    if (!EVP_Digest(p, n, out, &len, md_for(PD_HASH_SHA256), NULL) || len != PD_SHA256_LEN)
        die("EVP_Digest");
}

void pd_sha256_hex(const void *p, size_t n, char out[2 * PD_SHA256_LEN + 1])
{
    unsigned char d[PD_SHA256_LEN];
    pd_sha256(p, n, d);
    pd_hex_encode(d, sizeof d, out);
}

/* ---- HMAC ---- */

static void hmac(const char *digest, size_t want, const void *key, size_t klen, const void *msg,
                 size_t n, unsigned char *out)
{
    pthread_once(&fetch_once, fetch_all);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac_hmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_end(),
    };
    size_t len = 0;
    /* EVP_MAC_init rejects a NULL key even when klen is 0; an empty key is legal HMAC. */
    static const unsigned char empty[1];
    if (!ctx || !EVP_MAC_init(ctx, klen ? key : empty, klen, params) ||
        !EVP_MAC_update(ctx, msg, n) || !EVP_MAC_final(ctx, out, &len, want) || len != want)
        die("EVP_MAC (HMAC)");
    EVP_MAC_CTX_free(ctx);
}

void pd_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                    unsigned char out[PD_SHA256_LEN])
{
    hmac("SHA256", PD_SHA256_LEN, key, klen, msg, n, out);
}

void pd_hmac_sha1(const void *key, size_t klen, const void *msg, size_t n,
                  unsigned char out[PD_SHA1_LEN])
{
    hmac("SHA1", PD_SHA1_LEN, key, klen, msg, n, out);
}

/* ---- hex, constant-time compare ---- */

void pd_hex_encode(const void *bytes, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int pd_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

/* ---- CRCs ----
 * All three are "reflected" CRCs (bits processed least-significant first), so one byte-wise
 * table loop serves them all: crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8). The table entry
 * for byte b is b run through eight shift-and-conditionally-xor steps with the reflected
 * polynomial. Init and final xor are all ones for each of them. */

#define POLY_CRC32 0xEDB88320u               /* 0x04C11DB7 reflected */
#define POLY_CRC32C 0x82F63B78u              /* 0x1EDC6F41 reflected */
#define POLY_CRC64NVME 0x9A6C9329AC4BC9B5ull /* 0xAD93D23594C93659 reflected */

static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static uint32_t tab_crc32[256], tab_crc32c[256];
static uint64_t tab_crc64nvme[256];

static void crc_tables(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c32 = b, c32c = b;
        uint64_t c64 = b;
        for (int k = 0; k < 8; k++) {
            c32 = (c32 & 1) ? (c32 >> 1) ^ POLY_CRC32 : c32 >> 1;
            c32c = (c32c & 1) ? (c32c >> 1) ^ POLY_CRC32C : c32c >> 1;
            c64 = (c64 & 1) ? (c64 >> 1) ^ POLY_CRC64NVME : c64 >> 1;
        }
        tab_crc32[b] = c32;
        tab_crc32c[b] = c32c;
        tab_crc64nvme[b] = c64;
    }
}

static uint32_t crc32_run(const uint32_t *tab, uint32_t crc, const void *p, size_t n)
{
    const unsigned char *s = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = tab[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

uint32_t pd_crc32_update(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_tables);
    return crc32_run(tab_crc32, crc, p, n);
}

uint32_t pd_crc32c_update(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_tables);
    return crc32_run(tab_crc32c, crc, p, n);
}

uint64_t pd_crc64nvme_update(uint64_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_tables);
    const unsigned char *s = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = tab_crc64nvme[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

void pd_be32(uint32_t v, unsigned char out[4])
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        out[i] = (unsigned char)v;
}

void pd_be64(uint64_t v, unsigned char out[8])
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (unsigned char)v;
}
