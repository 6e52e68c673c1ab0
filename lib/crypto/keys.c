/*
 * keys.c - RSA/EC keys, PEM, JWK, JWK sets and kid derivation (see keys.h).
 *
 * Every key that enters podiam (generated, PEM, JWK) passes through one gate, check_pkey(),
 * which decides whether its type, size, curve and encoding are acceptable and which algorithms
 * it may carry. OpenSSL's error queue is cleared on every failure path so a stale error never
 * leaks into a later, unrelated call on the same thread.
 */
#include "crypto/keys.h"

#include <limits.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"

#define PEM_MAX (64 * 1024) /* no key PEM we accept is anywhere near this */
#define EC_COORD_MAX 66     /* P-521 */

struct pd_key {
    EVP_PKEY *pkey;  /* owned */
    enum pd_jwa alg; /* pinned algorithm */
    int is_ec;       /* else RSA */
    int has_private; /* private part present */
    char *kid;       /* NULL or owned copy */
};

/* Facts about one accepted curve. */
struct curve {
    const char *jwk_name; /* "P-256" */
    const char *ossl;     /* OpenSSL group name */
    int nid;
    size_t coord; /* bytes per coordinate */
    enum pd_jwa alg;
};

static const struct curve curves[] = {
    {"P-256", "prime256v1", NID_X9_62_prime256v1, 32, PD_JWA_ES256},
    {"P-384", "secp384r1", NID_secp384r1, 48, PD_JWA_ES384},
    {"P-521", "secp521r1", NID_secp521r1, 66, PD_JWA_ES512},
};

static const char *const jwa_names[] = {
    [PD_JWA_RS256] = "RS256", [PD_JWA_RS384] = "RS384", [PD_JWA_RS512] = "RS512",
    [PD_JWA_ES256] = "ES256", [PD_JWA_ES384] = "ES384", [PD_JWA_ES512] = "ES512",
};

const char *pd_jwa_name(enum pd_jwa alg)
{
    if (alg <= PD_JWA_INVALID || alg > PD_JWA_ES512)
        return NULL;
    return jwa_names[alg];
}

enum pd_jwa pd_jwa_from_name(const char *name)
{
    if (!name)
        return PD_JWA_INVALID;
    for (int i = PD_JWA_RS256; i <= PD_JWA_ES512; i++)
        if (strcmp(name, jwa_names[i]) == 0)
            return (enum pd_jwa)i;
    return PD_JWA_INVALID;
}

static int is_rsa_alg(enum pd_jwa alg)
{
    return alg == PD_JWA_RS256 || alg == PD_JWA_RS384 || alg == PD_JWA_RS512;
}

static const struct curve *curve_by_nid(int nid)
{
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
        if (curves[i].nid == nid)
            return &curves[i];
    return NULL;
}

static const struct curve *curve_by_jwk_name(const char *name)
{
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
        if (strcmp(curves[i].jwk_name, name) == 0)
            return &curves[i];
    return NULL;
}

/* The curve of an EC key, or NULL when it is not one we accept (including keys carried with
 * explicit curve parameters, which Go's crypto/x509 refuses). */
static const struct curve *key_curve(EVP_PKEY *p)
{
    char name[80], enc[32];
    size_t len = 0;
    if (EVP_PKEY_get_group_name(p, name, sizeof name, &len) != 1)
        return NULL;
    if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof enc, &len) ==
            1 &&
        strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0)
        return NULL;
    int nid = OBJ_sn2nid(name);
    if (nid == NID_undef)
        nid = OBJ_txt2nid(name);
    return curve_by_nid(nid);
}

/* The gate: is p an acceptable key, and may it carry alg? *OUT_alg gets alg or the key's
 * default when alg is PD_JWA_INVALID. */
static int check_pkey(EVP_PKEY *p, enum pd_jwa alg, int *OUT_is_ec, enum pd_jwa *OUT_alg)
{
    if (EVP_PKEY_is_a(p, "RSA")) { /* "RSA-PSS" keys are a different type: refused */
        int bits = EVP_PKEY_get_bits(p);
        if (bits < PD_RSA_MIN_BITS || bits > PD_RSA_MAX_BITS)
            return PD_EINVAL;
        BIGNUM *e = NULL;
        int e_ok = EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_odd(e) &&
                   !BN_is_one(e);
        BN_free(e);
        if (!e_ok)
            return PD_EINVAL;
        if (alg == PD_JWA_INVALID)
            alg = PD_JWA_RS256;
        if (!is_rsa_alg(alg))
            return PD_EINVAL;
        *OUT_is_ec = 0;
        *OUT_alg = alg;
        return PD_OK;
    }
    if (EVP_PKEY_is_a(p, "EC")) {
        const struct curve *c = key_curve(p);
        if (!c)
            return PD_EINVAL;
        if (alg == PD_JWA_INVALID)
            alg = c->alg;
        if (alg != c->alg)
            return PD_EINVAL;
        *OUT_is_ec = 1;
        *OUT_alg = alg;
        return PD_OK;
    }
    return PD_EINVAL;
}

static int probe_private(EVP_PKEY *p, int is_ec)
{
    BIGNUM *bn = NULL;
    int ok = EVP_PKEY_get_bn_param(p, is_ec ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_RSA_D,
                                   &bn) == 1;
    BN_clear_free(bn);
    ERR_clear_error();
    return ok;
}

int pd_key_from_evp(struct evp_pkey_st *pkey, enum pd_jwa alg, struct pd_key **OUT_key)
{
    int is_ec = 0;
    enum pd_jwa a = PD_JWA_INVALID;
    int rc = check_pkey(pkey, alg, &is_ec, &a);
    if (rc) {
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        return rc;
    }
    struct pd_key *k = pd_xcalloc(1, sizeof *k);
    k->pkey = pkey;
    k->alg = a;
    k->is_ec = is_ec;
    k->has_private = probe_private(pkey, is_ec);
    *OUT_key = k;
    return PD_OK;
}

int pd_key_generate(enum pd_key_kind kind, struct pd_key **OUT_key)
{
    unsigned bits = 0;
    const char *group = NULL;
    switch (kind) {
    case PD_KEY_RSA_2048:
        bits = 2048;
        break;
    case PD_KEY_RSA_3072:
        bits = 3072;
        break;
    case PD_KEY_RSA_4096:
        bits = 4096;
        break;
    case PD_KEY_EC_P256:
        group = "prime256v1";
        break;
    case PD_KEY_EC_P384:
        group = "secp384r1";
        break;
    case PD_KEY_EC_P521:
        group = "secp521r1";
        break;
    default:
        return PD_EINVAL;
    }
    int rc = PD_EINTERNAL;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, group ? "EC" : "RSA", NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1)
        goto out;
    if (group ? EVP_PKEY_CTX_set_group_name(ctx, group) != 1
              : EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1)
        goto out;
    if (EVP_PKEY_generate(ctx, &pkey) != 1)
        goto out;
    rc = pd_key_from_evp(pkey, PD_JWA_INVALID, OUT_key);
    pkey = NULL;
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    if (rc)
        ERR_clear_error();
    return rc;
}

void pd_key_free(struct pd_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->kid);
    free(k);
}

int pd_key_share(const struct pd_key *k, struct pd_key **OUT_key)
{
    struct pd_key *c = pd_xcalloc(1, sizeof *c);
    EVP_PKEY_up_ref(k->pkey);
    c->pkey = k->pkey;
    c->alg = k->alg;
    c->is_ec = k->is_ec;
    c->has_private = k->has_private;
    c->kid = k->kid ? pd_xstrdup(k->kid) : NULL;
    *OUT_key = c;
    return PD_OK;
}

/* Never prompt for a passphrase: an encrypted key is simply refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

int pd_key_from_pem(const char *pem, size_t len, enum pd_jwa alg, struct pd_key **OUT_key)
{
    if (!pem || len == 0 || len > PEM_MAX)
        return PD_EINVAL;
    EVP_PKEY *pkey = NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio)
        pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (!pkey) {
        bio = BIO_new_mem_buf(pem, (int)len);
        if (bio)
            pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
    }
    ERR_clear_error();
    if (!pkey)
        return PD_EINVAL;
    return pd_key_from_evp(pkey, alg, OUT_key);
}

/* Copy a memory BIO's contents into the arena as a C string. */
static char *bio_to_arena(BIO *bio, struct pd_arena *a, size_t *OUT_len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || !data)
        return NULL;
    char *s = pd_arena_strndup(a, data, (size_t)n);
    if (OUT_len)
        *OUT_len = (size_t)n;
    return s;
}

int pd_key_to_pem(const struct pd_key *k, int private_part, struct pd_arena *a, char **OUT_pem)
{
    if (private_part && !k->has_private)
        return PD_EINVAL;
    int rc = PD_EINTERNAL;
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        goto out;
    /* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") for every key type. */
    int ok = private_part ? PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_PUBKEY(bio, k->pkey);
    if (ok != 1)
        goto out;
    char *s = bio_to_arena(bio, a, NULL);
    if (!s)
        goto out;
    *OUT_pem = s;
    rc = PD_OK;
out:
    BIO_free(bio);
    if (rc)
        ERR_clear_error();
    return rc;
}

int pd_key_spki_der(const struct pd_key *k, struct pd_arena *a, unsigned char **OUT_der,
                    size_t *OUT_len)
{
    int n = i2d_PUBKEY(k->pkey, NULL);
    if (n <= 0) {
        ERR_clear_error();
        return PD_EINTERNAL;
    }
    unsigned char *der = pd_arena_alloc(a, (size_t)n);
    unsigned char *p = der;
    if (i2d_PUBKEY(k->pkey, &p) != n) {
        ERR_clear_error();
        return PD_EINTERNAL;
    }
    *OUT_der = der;
    *OUT_len = (size_t)n;
    return PD_OK;
}

enum pd_jwa pd_key_alg(const struct pd_key *k)
{
    return k->alg;
}

int pd_key_set_alg(struct pd_key *k, enum pd_jwa alg)
{
    int is_ec;
    enum pd_jwa a;
    if (alg == PD_JWA_INVALID || check_pkey(k->pkey, alg, &is_ec, &a))
        return PD_EINVAL;
    k->alg = a;
    return PD_OK;
}

const char *pd_key_kid(const struct pd_key *k)
{
    return k->kid;
}

int pd_key_set_kid(struct pd_key *k, const char *kid)
{
    if (kid && (kid[0] == '\0' || strlen(kid) > PD_KID_MAX))
        return PD_EINVAL;
    free(k->kid);
    k->kid = kid ? pd_xstrdup(kid) : NULL;
    return PD_OK;
}

int pd_key_has_private(const struct pd_key *k)
{
    return k->has_private;
}

int pd_key_bits(const struct pd_key *k)
{
    return EVP_PKEY_get_bits(k->pkey);
}

struct evp_pkey_st *pd_key_evp(const struct pd_key *k)
{
    return k->pkey;
}

/* Base64url of a BIGNUM: minimal big-endian bytes, or padded to pad bytes when pad > 0. */
static char *bn_b64(struct pd_arena *a, const BIGNUM *bn, size_t pad)
{
    size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
    unsigned char *tmp = pd_arena_alloc(a, n ? n : 1);
    if (pad ? BN_bn2binpad(bn, tmp, (int)pad) < 0 : BN_bn2bin(bn, tmp) < 0)
        return NULL;
    return pd_base64_encode(a, tmp, n, 1);
}

/* The public members of a key as base64url strings. RSA: m1 = n, m2 = e. EC: m1 = x, m2 = y,
 * *OUT_crv = "P-256"... */
static int public_members(const struct pd_key *k, struct pd_arena *a, char **OUT_m1, char **OUT_m2,
                          const char **OUT_crv)
{
    int rc = PD_EINTERNAL;
    BIGNUM *b1 = NULL, *b2 = NULL;
    const struct curve *c = NULL;
    if (k->is_ec) {
        c = key_curve(k->pkey);
        if (!c || EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &b1) != 1 ||
            EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b2) != 1)
            goto out;
    } else {
        if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &b1) != 1 ||
            EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &b2) != 1)
            goto out;
    }
    *OUT_m1 = bn_b64(a, b1, c ? c->coord : 0);
    *OUT_m2 = bn_b64(a, b2, c ? c->coord : 0);
    *OUT_crv = c ? c->jwk_name : NULL;
    if (*OUT_m1 && *OUT_m2)
        rc = PD_OK;
out:
    BN_free(b1);
    BN_free(b2);
    if (rc)
        ERR_clear_error();
    return rc;
}

static void sha256_b64url(const void *p, size_t n, char out[PD_KID_LEN + 1])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    struct pd_arena a;
    pd_arena_init(&a);
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    char *s = pd_base64_encode(&a, md, sizeof md, 1);
    memcpy(out, s, PD_KID_LEN + 1);
    pd_arena_cleanup(&a);
}

int pd_key_thumbprint(const struct pd_key *k, enum pd_kid_rule rule, char OUT_kid[PD_KID_LEN + 1])
{
    struct pd_arena a;
    struct pd_buf b;
    int rc = PD_OK;
    pd_arena_init(&a);
    pd_buf_init(&b, 0);
    if (rule == PD_KID_SPKI_SHA256) {
        unsigned char *der;
        size_t len;
        rc = pd_key_spki_der(k, &a, &der, &len);
        if (rc == PD_OK)
            sha256_b64url(der, len, OUT_kid);
    } else if (rule == PD_KID_JWK_THUMBPRINT) {
        char *m1, *m2;
        const char *crv;
        rc = public_members(k, &a, &m1, &m2, &crv);
        if (rc)
            goto out;
        /* RFC 7638 §3.2: required members only, lexicographic order, no whitespace. Base64url
         * values and curve names need no JSON escaping. */
        if (k->is_ec)
            pd_buf_printf(&b, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, m1,
                          m2);
        else
            pd_buf_printf(&b, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", m2, m1);
        sha256_b64url(b.p, b.len, OUT_kid);
    } else {
        rc = PD_EINVAL;
    }
out:
    pd_buf_free(&b);
    pd_arena_cleanup(&a);
    return rc;
}

int pd_key_to_jwk(const struct pd_key *k, json_t **OUT_jwk)
{
    struct pd_arena a;
    pd_arena_init(&a);
    char *m1, *m2;
    const char *crv;
    int rc = public_members(k, &a, &m1, &m2, &crv);
    if (rc)
        goto out;
    json_t *j = json_object();
    json_object_set_new(j, "kty", json_string(k->is_ec ? "EC" : "RSA"));
    if (k->kid)
        json_object_set_new(j, "kid", json_string(k->kid));
    json_object_set_new(j, "use", json_string("sig"));
    json_object_set_new(j, "alg", json_string(pd_jwa_name(k->alg)));
    if (k->is_ec) {
        json_object_set_new(j, "crv", json_string(crv));
        json_object_set_new(j, "x", json_string(m1));
        json_object_set_new(j, "y", json_string(m2));
    } else {
        json_object_set_new(j, "n", json_string(m1));
        json_object_set_new(j, "e", json_string(m2));
    }
    *OUT_jwk = j;
out:
    pd_arena_cleanup(&a);
    return rc;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int pd_jose_b64_decode(struct pd_arena *a, const char *s, size_t n, unsigned char **OUT,
                       size_t *OUT_len)
{
    if (n % 4 == 1)
        return PD_EINVAL;
    unsigned char *out = pd_arena_alloc(a, n / 4 * 3 + 3);
    size_t j = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0)
            return PD_EINVAL;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[j++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* stray low bits: a second spelling of the same bytes */
        return PD_EINVAL;
    out[j] = '\0';
    *OUT = out;
    *OUT_len = j;
    return PD_OK;
}

/* Decode member name of jwk as a strict base64url string. */
static int member_bytes(struct pd_arena *a, const json_t *jwk, const char *name,
                        unsigned char **OUT, size_t *OUT_len)
{
    const json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return PD_EINVAL;
    return pd_jose_b64_decode(a, json_string_value(v), json_string_length(v), OUT, OUT_len);
}

static int rsa_from_jwk(struct pd_arena *a, const json_t *jwk, EVP_PKEY **OUT)
{
    unsigned char *nb, *eb;
    size_t nlen, elen;
    if (member_bytes(a, jwk, "n", &nb, &nlen) || member_bytes(a, jwk, "e", &eb, &elen))
        return PD_EINVAL;
    /* RFC 7518 §6.3.1: minimal octets, so no leading zero byte. */
    if (nb[0] == 0 || eb[0] == 0 || elen > 8 || nlen > PD_RSA_MAX_BITS / 8)
        return PD_EINVAL;
    int rc = PD_EINVAL;
    BIGNUM *n = BN_bin2bn(nb, (int)nlen, NULL);
    BIGNUM *e = BN_bin2bn(eb, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (!n || !e || !bld)
        goto out;
    if (BN_num_bits(n) < PD_RSA_MIN_BITS || BN_num_bits(n) > PD_RSA_MAX_BITS || !BN_is_odd(n) ||
        !BN_is_odd(e) || BN_is_one(e) || BN_cmp(e, n) >= 0)
        goto out;
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
        !(params = OSSL_PARAM_BLD_to_param(bld)))
        goto out;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, OUT, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    rc = PD_OK;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return rc;
}

static int ec_from_jwk(struct pd_arena *a, const json_t *jwk, const struct curve *c, EVP_PKEY **OUT)
{
    unsigned char *xb, *yb;
    size_t xlen, ylen;
    if (member_bytes(a, jwk, "x", &xb, &xlen) || member_bytes(a, jwk, "y", &yb, &ylen))
        return PD_EINVAL;
    /* RFC 7518 §6.2.1.2: full coordinate length, even with leading zeros. */
    if (xlen != c->coord || ylen != c->coord)
        return PD_EINVAL;
    unsigned char pt[1 + 2 * EC_COORD_MAX];
    pt[0] = 0x04; /* uncompressed point */
    memcpy(pt + 1, xb, xlen);
    memcpy(pt + 1 + xlen, yb, ylen);
    int rc = PD_EINVAL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
    EVP_PKEY *pkey = NULL;
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->ossl, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * c->coord) != 1 ||
        !(params = OSSL_PARAM_BLD_to_param(bld)))
        goto out;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    /* On the curve and not the point at infinity (these curves have cofactor 1). */
    chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!chk || EVP_PKEY_public_check(chk) != 1)
        goto out;
    *OUT = pkey;
    pkey = NULL;
    rc = PD_OK;
out:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

/* A JSON string member, or NULL when absent; *OUT_bad set when present but not a string or
 * holding a NUL byte. */
static const char *opt_string(const json_t *o, const char *name, int *OUT_bad)
{
    const json_t *v = json_object_get(o, name);
    if (!v)
        return NULL;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        *OUT_bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

int pd_key_from_jwk(const json_t *jwk, struct pd_key **OUT_key)
{
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    if (!json_is_object(jwk))
        return PD_EINVAL;
    for (size_t i = 0; i < sizeof private_members / sizeof private_members[0]; i++)
        if (json_object_get(jwk, private_members[i]))
            return PD_EINVAL;
    int bad = 0;
    const char *kty = opt_string(jwk, "kty", &bad);
    const char *alg_s = opt_string(jwk, "alg", &bad);
    const char *use = opt_string(jwk, "use", &bad);
    const char *kid = opt_string(jwk, "kid", &bad);
    const char *crv = opt_string(jwk, "crv", &bad);
    if (bad || !kty)
        return PD_EINVAL;
    if (use && strcmp(use, "sig") != 0)
        return PD_EINVAL;
    if (kid && (kid[0] == '\0' || strlen(kid) > PD_KID_MAX))
        return PD_EINVAL;
    const json_t *ops = json_object_get(jwk, "key_ops");
    if (ops) {
        int verify = 0;
        size_t i;
        const json_t *op;
        if (!json_is_array(ops))
            return PD_EINVAL;
        json_array_foreach(ops, i, op)
        {
            if (!json_is_string(op))
                return PD_EINVAL;
            if (strcmp(json_string_value(op), "verify") == 0)
                verify = 1;
        }
        if (!verify)
            return PD_EINVAL;
    }
    enum pd_jwa alg = PD_JWA_INVALID;
    if (alg_s && (alg = pd_jwa_from_name(alg_s)) == PD_JWA_INVALID)
        return PD_EINVAL;

    struct pd_arena a;
    pd_arena_init(&a);
    EVP_PKEY *pkey = NULL;
    int rc = PD_EINVAL;
    if (strcmp(kty, "RSA") == 0) {
        if (crv || (alg != PD_JWA_INVALID && !is_rsa_alg(alg)))
            goto out;
        rc = rsa_from_jwk(&a, jwk, &pkey);
    } else if (strcmp(kty, "EC") == 0) {
        const struct curve *c = crv ? curve_by_jwk_name(crv) : NULL;
        if (!c || (alg != PD_JWA_INVALID && alg != c->alg))
            goto out;
        rc = ec_from_jwk(&a, jwk, c, &pkey);
    }
    if (rc)
        goto out;
    struct pd_key *k = NULL;
    rc = pd_key_from_evp(pkey, alg, &k);
    pkey = NULL;
    if (rc)
        goto out;
    if (kid)
        pd_key_set_kid(k, kid);
    *OUT_key = k;
out:
    EVP_PKEY_free(pkey);
    pd_arena_cleanup(&a);
    if (rc) {
        ERR_clear_error();
        rc = PD_EINVAL;
    }
    return rc;
}

int pd_key_from_jwk_text(const char *text, size_t len, struct pd_key **OUT_key)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return PD_EINVAL;
    int rc = pd_key_from_jwk(j, OUT_key);
    json_decref(j);
    return rc;
}

void pd_jwks_init(struct pd_jwks *s)
{
    s->keys = NULL;
    s->n = 0;
    s->cap = 0;
}

void pd_jwks_cleanup(struct pd_jwks *s)
{
    for (size_t i = 0; i < s->n; i++)
        pd_key_free(s->keys[i]);
    free(s->keys);
    pd_jwks_init(s);
}

void pd_jwks_add(struct pd_jwks *s, struct pd_key *k)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->keys = pd_xrealloc(s->keys, s->cap * sizeof *s->keys);
    }
    s->keys[s->n++] = k;
}

int pd_jwks_from_json(const json_t *doc, struct pd_jwks *s, size_t *OUT_skipped)
{
    const json_t *keys = json_is_object(doc) ? json_object_get(doc, "keys") : NULL;
    if (!json_is_array(keys) || json_array_size(keys) > PD_JWKS_MAX_KEYS)
        return PD_EINVAL;
    size_t skipped = 0, i;
    const json_t *jwk;
    json_array_foreach(keys, i, jwk)
    {
        struct pd_key *k;
        if (pd_key_from_jwk(jwk, &k) == PD_OK)
            pd_jwks_add(s, k);
        else
            skipped++;
    }
    if (OUT_skipped)
        *OUT_skipped = skipped;
    return PD_OK;
}

int pd_jwks_to_json(const struct pd_jwks *s, json_t **OUT_doc)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n; i++) {
        json_t *jwk;
        if (pd_key_to_jwk(s->keys[i], &jwk)) {
            json_decref(arr);
            return PD_EINTERNAL;
        }
        json_array_append_new(arr, jwk);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "keys", arr);
    *OUT_doc = doc;
    return PD_OK;
}
