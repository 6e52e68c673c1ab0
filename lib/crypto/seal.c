/*
 * seal.c - AES-256-GCM sealing, HMAC derivations and random bytes (see seal.h).
 */
#include "crypto/seal.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"

/* AES-256-GCM and HMAC, fetched once (as in hash.c): EVP_aes_256_gcm() and EVP_MAC_fetch
 * resolve the implementation through the provider store on every call, which cost about as
 * much as sealing a session token. */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *gcm;
static EVP_MAC *hmac;

static void fetch_all(void)
{
    gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!gcm || !hmac) {
        fprintf(stderr, "podiam: OpenSSL has no AES-256-GCM or HMAC\n");
        abort();
    }
}

static const EVP_CIPHER *aes_gcm(void)
{
    pthread_once(&fetch_once, fetch_all);
    return gcm;
}

int pd_random_bytes(void *p, size_t n)
{
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1) {
            ERR_clear_error();
            return PD_EINTERNAL;
        }
        p = (unsigned char *)p + chunk;
        n -= (size_t)chunk;
    }
    return PD_OK;
}

/* Feed version byte + aad as GCM associated data. */
static int gcm_aad(EVP_CIPHER_CTX *c, int enc, const void *aad, size_t aad_len)
{
    static const unsigned char ver = PD_SEAL_VERSION;
    int outl;
    if ((enc ? EVP_EncryptUpdate(c, NULL, &outl, &ver, 1)
             : EVP_DecryptUpdate(c, NULL, &outl, &ver, 1)) != 1)
        return PD_EINTERNAL;
    if (aad_len == 0)
        return PD_OK;
    if (aad_len > INT_MAX)
        return PD_ETOOBIG;
    return (enc ? EVP_EncryptUpdate(c, NULL, &outl, aad, (int)aad_len)
                : EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aad_len)) == 1
               ? PD_OK
               : PD_EINTERNAL;
}

int pd_seal(const unsigned char key[PD_SEAL_KEY_LEN], const void *aad, size_t aad_len,
            const void *pt, size_t pt_len, struct pd_arena *a, unsigned char **OUT, size_t *OUT_len)
{
    if (pt_len > PD_SEAL_MAX_PLAINTEXT)
        return PD_ETOOBIG;
    size_t total = pt_len + PD_SEAL_OVERHEAD;
    unsigned char *out = pd_arena_alloc(a, total);
    unsigned char *nonce = out + 1, *ct = out + 1 + PD_SEAL_NONCE_LEN, *tag = ct + pt_len;
    out[0] = PD_SEAL_VERSION;
    int rc = pd_random_bytes(nonce, PD_SEAL_NONCE_LEN);
    if (rc)
        return rc;
    rc = PD_EINTERNAL;
    int outl = 0, fin = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c || EVP_EncryptInit_ex2(c, aes_gcm(), key, nonce, NULL) != 1)
        goto out;
    if ((rc = gcm_aad(c, 1, aad, aad_len)) != PD_OK)
        goto out;
    rc = PD_EINTERNAL;
    if (pt_len > 0 && EVP_EncryptUpdate(c, ct, &outl, pt, (int)pt_len) != 1)
        goto out;
    if (EVP_EncryptFinal_ex(c, ct + outl, &fin) != 1 || (size_t)(outl + fin) != pt_len)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, PD_SEAL_TAG_LEN, tag) != 1)
        goto out;
    *OUT = out;
    *OUT_len = total;
    rc = PD_OK;
out:
    EVP_CIPHER_CTX_free(c);
    if (rc)
        ERR_clear_error();
    return rc;
}

int pd_unseal(const unsigned char key[PD_SEAL_KEY_LEN], const void *aad, size_t aad_len,
              const void *sealed, size_t len, struct pd_arena *a, unsigned char **OUT_pt,
              size_t *OUT_len)
{
    const unsigned char *in = sealed;
    if (len < PD_SEAL_OVERHEAD || len - PD_SEAL_OVERHEAD > PD_SEAL_MAX_PLAINTEXT)
        return PD_EINVAL;
    if (in[0] != PD_SEAL_VERSION)
        return PD_EINVAL;
    size_t ct_len = len - PD_SEAL_OVERHEAD;
    const unsigned char *nonce = in + 1, *ct = in + 1 + PD_SEAL_NONCE_LEN, *tag = ct + ct_len;
    unsigned char *pt = pd_arena_alloc(a, ct_len + 1);
    unsigned char tagbuf[PD_SEAL_TAG_LEN];
    memcpy(tagbuf, tag, sizeof tagbuf); /* SET_TAG takes a non-const pointer */
    int rc = PD_EINTERNAL, outl = 0, fin = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c || EVP_DecryptInit_ex2(c, aes_gcm(), key, nonce, NULL) != 1)
        goto out;
    if ((rc = gcm_aad(c, 0, aad, aad_len)) != PD_OK)
        goto out;
    rc = PD_EINTERNAL;
    if (ct_len > 0 && EVP_DecryptUpdate(c, pt, &outl, ct, (int)ct_len) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, PD_SEAL_TAG_LEN, tagbuf) != 1)
        goto out;
    if (EVP_DecryptFinal_ex(c, pt + outl, &fin) != 1 || (size_t)(outl + fin) != ct_len) {
        rc = PD_ESIG;
        goto out;
    }
    pt[ct_len] = '\0';
    *OUT_pt = pt;
    *OUT_len = ct_len;
    rc = PD_OK;
out:
    EVP_CIPHER_CTX_free(c);
    if (rc) {
        OPENSSL_cleanse(pt, ct_len + 1); /* unauthenticated plaintext never escapes */
        ERR_clear_error();
    }
    return rc;
}

static int hmac_label(const unsigned char key[PD_SEAL_KEY_LEN], const char *prefix, const char *s,
                      unsigned char out[32])
{
    size_t pl = strlen(prefix), sl = strlen(s);
    size_t outlen = 0;
    int rc = PD_EINTERNAL;
    pthread_once(&fetch_once, fetch_all);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!ctx || EVP_MAC_init(ctx, key, PD_SEAL_KEY_LEN, params) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)prefix, pl) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)s, sl) != 1 ||
        EVP_MAC_final(ctx, out, &outlen, 32) != 1 || outlen != 32)
        goto out;
    rc = PD_OK;
out:
    EVP_MAC_CTX_free(ctx);
    if (rc)
        ERR_clear_error();
    return rc;
}

int pd_derive_secret(const unsigned char key[PD_SEAL_KEY_LEN], const char *akid, char OUT[41])
{
    unsigned char md[32];
    int rc = hmac_label(key, "podiam/secret/v1:", akid, md);
    if (rc)
        return rc;
    struct pd_arena a;
    pd_arena_init(&a);
    char *s = pd_base64_encode(&a, md, 30, 0); /* 30 bytes = 40 characters, no padding */
    memcpy(OUT, s, 41);
    OPENSSL_cleanse(s, 41);
    pd_arena_cleanup(&a);
    OPENSSL_cleanse(md, sizeof md);
    return PD_OK;
}

int pd_derive_key(const unsigned char master[PD_SEAL_KEY_LEN], const char *label,
                  unsigned char OUT[PD_SEAL_KEY_LEN])
{
    return hmac_label(master, "podiam/key/v1:", label, OUT);
}

int pd_random_secret_key(char out[41])
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char b[40];
    if (pd_random_bytes(b, sizeof b))
        return PD_EINTERNAL;
    for (size_t i = 0; i < sizeof b; i++)
        out[i] = a[b[i] & 63]; /* 64 characters: six bits each, no bias */
    out[40] = '\0';
    return PD_OK;
}
