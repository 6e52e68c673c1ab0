/*
 * jwt.c - JWS compact tokens: sign and verify with keys pinned to one algorithm (see jwt.h).
 *
 * Why libjwt is not used here, although this is the one file allowed to include <jwt.h>:
 *  - Verification: libjwt 1.10's jwt_decode(&jwt, token, key, len) verifies with whatever
 *    algorithm the token header names. Given an RSA public key PEM and a token with
 *    "alg":"HS256" MACed with that PEM as the secret, it returns success (checked against
 *    Debian 12's libjwt 1.10.2: rc 0, alg HS256). That is the classic algorithm-confusion
 *    forgery. 1.10 has no key-provider callback (jwt_decode_2 arrived in 1.12) through which
 *    the key could dictate the algorithm, so the only safe use would be to parse the header
 *    ourselves first, at which point libjwt adds nothing but a second, more lenient parser
 *    (it accepts duplicate member names, the last one winning: {"sub":"a","sub":"b"}).
 *  - Signing: libjwt 1.10 always adds "typ":"JWT" to the header, while kube-apiserver's
 *    projected tokens carry exactly {"alg":"RS256","kid":"..."}; and it re-reads the private
 *    key from PEM on every call.
 * So both directions use OpenSSL EVP directly: EVP_DigestSign/EVP_DigestVerify with
 * RSASSA-PKCS1-v1_5 (SHA-256/384/512) and ECDSA, converting JOSE's fixed-width r||s signature
 * to and from DER. Keeping <jwt.h> out of the tree also means the libjwt 3.x API change cannot
 * reach podiam.
 */
#include "crypto/jwt.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"

static const char *const reason_text[] = {
    [PD_JWT_OK] = "ok",
    [PD_JWT_TOO_BIG] = "token too long",
    [PD_JWT_MALFORMED] = "malformed token",
    [PD_JWT_ALG_NONE] = "unsigned token (alg none)",
    [PD_JWT_ALG_UNSUPPORTED] = "unsupported or missing alg",
    [PD_JWT_CRIT] = "unsupported crit header",
    [PD_JWT_UNKNOWN_KID] = "no key with the token's kid",
    [PD_JWT_ALG_MISMATCH] = "token alg differs from the key's alg",
    [PD_JWT_BAD_SIGNATURE] = "invalid signature",
    [PD_JWT_BAD_TIME] = "exp, nbf or iat is not an integer NumericDate",
    [PD_JWT_MISSING_EXP] = "no exp claim",
    [PD_JWT_EXPIRED] = "token expired",
    [PD_JWT_NOT_YET_VALID] = "token not yet valid (nbf)",
};

const char *pd_jwt_reason_str(enum pd_jwt_reason r)
{
    if ((int)r < 0 || (size_t)r >= sizeof reason_text / sizeof reason_text[0])
        return "unknown";
    return reason_text[r];
}

static int reason_rc(enum pd_jwt_reason r)
{
    switch (r) {
    case PD_JWT_OK:
        return PD_OK;
    case PD_JWT_TOO_BIG:
        return PD_ETOOBIG;
    case PD_JWT_MALFORMED:
    case PD_JWT_CRIT:
    case PD_JWT_BAD_TIME:
        return PD_EINVAL;
    case PD_JWT_UNKNOWN_KID:
        return PD_ENOTFOUND;
    default:
        return PD_ESIG;
    }
}

static const char *md_name(enum pd_jwa alg)
{
    switch (alg) {
    case PD_JWA_RS256:
    case PD_JWA_ES256:
        return "SHA256";
    case PD_JWA_RS384:
    case PD_JWA_ES384:
        return "SHA384";
    case PD_JWA_RS512:
    case PD_JWA_ES512:
        return "SHA512";
    default:
        return NULL;
    }
}

static int is_ec_alg(enum pd_jwa alg)
{
    return alg == PD_JWA_ES256 || alg == PD_JWA_ES384 || alg == PD_JWA_ES512;
}

/* Bytes of r and of s in a JOSE ECDSA signature (RFC 7518 §3.4). */
static size_t ec_coord(enum pd_jwa alg)
{
    return alg == PD_JWA_ES256 ? 32 : alg == PD_JWA_ES384 ? 48 : 66;
}

/* ---- parsing ---- */

struct parsed {
    json_t *header, *claims; /* owned */
    const char *input;       /* signing input: "header.payload" as received */
    size_t input_len;
    unsigned char *sig; /* arena */
    size_t sig_len;
    enum pd_jwa alg;
    const char *kid; /* borrowed from header; NULL when absent */
};

static void parsed_free(struct parsed *p)
{
    json_decref(p->header);
    json_decref(p->claims);
    p->header = p->claims = NULL;
}

/* Decode one segment into a JSON object. */
static json_t *segment_object(struct pd_arena *a, const char *s, size_t n)
{
    unsigned char *raw;
    size_t len;
    if (n == 0 || pd_jose_b64_decode(a, s, n, &raw, &len))
        return NULL;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static enum pd_jwt_reason parse(struct pd_arena *a, const char *tok, size_t len, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    if (len > PD_JWT_MAX_LEN)
        return PD_JWT_TOO_BIG;
    if (!tok || len == 0)
        return PD_JWT_MALFORMED;
    const char *d1 = memchr(tok, '.', len);
    if (!d1)
        return PD_JWT_MALFORMED;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok));
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)))
        return PD_JWT_MALFORMED; /* fewer or more than three segments (JWE has five) */
    size_t hlen = (size_t)(d1 - tok), plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - tok);

    p->header = segment_object(a, tok, hlen);
    if (!p->header)
        return PD_JWT_MALFORMED;
    const json_t *alg = json_object_get(p->header, "alg");
    if (!json_is_string(alg))
        return alg ? PD_JWT_MALFORMED : PD_JWT_ALG_UNSUPPORTED;
    if (strcmp(json_string_value(alg), "none") == 0)
        return PD_JWT_ALG_NONE;
    p->alg = pd_jwa_from_name(json_string_value(alg));
    if (p->alg == PD_JWA_INVALID ||
        strlen(json_string_value(alg)) != json_string_length(alg)) /* "RS256\u0000x" */
        return PD_JWT_ALG_UNSUPPORTED;
    if (json_object_get(p->header, "crit"))
        return PD_JWT_CRIT;
    const json_t *kid = json_object_get(p->header, "kid");
    if (kid) {
        if (!json_is_string(kid) || strlen(json_string_value(kid)) != json_string_length(kid))
            return PD_JWT_MALFORMED;
        p->kid = json_string_value(kid);
    }

    p->claims = segment_object(a, d1 + 1, plen);
    if (!p->claims)
        return PD_JWT_MALFORMED;
    if (pd_jose_b64_decode(a, d2 + 1, slen, &p->sig, &p->sig_len))
        return PD_JWT_MALFORMED;
    p->input = tok;
    p->input_len = (size_t)(d2 - tok);
    return PD_JWT_OK;
}

/* ---- signatures ---- */

/* JOSE r||s to DER ECDSA-Sig-Value. Arena-owned. */
static int ec_jose_to_der(struct pd_arena *a, const unsigned char *sig, size_t coord,
                          unsigned char **OUT, size_t *OUT_len)
{
    int rc = PD_ESIG;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)coord, NULL);
    BIGNUM *s = BN_bin2bn(sig + coord, (int)coord, NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by es now */
    int n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0)
        goto out;
    unsigned char *der = pd_arena_alloc(a, (size_t)n), *q = der;
    if (i2d_ECDSA_SIG(es, &q) != n)
        goto out;
    *OUT = der;
    *OUT_len = (size_t)n;
    rc = PD_OK;
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return rc;
}

/* DER ECDSA-Sig-Value to JOSE r||s (each left-padded to coord bytes). Arena-owned. */
static int ec_der_to_jose(struct pd_arena *a, const unsigned char *der, size_t len, size_t coord,
                          unsigned char **OUT)
{
    const unsigned char *q = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)len);
    if (!es)
        return PD_EINTERNAL;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    unsigned char *out = pd_arena_alloc(a, 2 * coord);
    int ok = BN_bn2binpad(r, out, (int)coord) == (int)coord &&
             BN_bn2binpad(s, out + coord, (int)coord) == (int)coord;
    ECDSA_SIG_free(es);
    if (!ok)
        return PD_EINTERNAL;
    *OUT = out;
    return PD_OK;
}

/* Does sig verify over input with key, using the key's own algorithm? */
static int verify_with(struct pd_arena *a, const struct pd_key *key, const struct parsed *p)
{
    enum pd_jwa alg = pd_key_alg(key); /* the key decides; p->alg already equals it */
    EVP_PKEY *pkey = pd_key_evp(key);
    const unsigned char *sig = p->sig;
    size_t sig_len = p->sig_len;
    if (is_ec_alg(alg)) {
        unsigned char *der;
        size_t coord = ec_coord(alg);
        if (sig_len != 2 * coord || ec_jose_to_der(a, sig, coord, &der, &sig_len))
            return 0;
        sig = der;
    } else if (sig_len != (size_t)EVP_PKEY_get_size(pkey)) {
        return 0; /* RFC 8017 §8.2.2: a signature is exactly k bytes */
    }
    int ok = 0;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestVerifyInit_ex(md, &pctx, md_name(alg), NULL, NULL, pkey, NULL) != 1)
        goto out;
    if (!is_ec_alg(alg) && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)p->input, p->input_len) == 1;
out:
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

/* ---- public ---- */

static int numeric_date(const json_t *claims, const char *name, int *OUT_has, int64_t *OUT_v)
{
    const json_t *v = json_object_get(claims, name);
    *OUT_has = 0;
    *OUT_v = 0;
    if (!v)
        return PD_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return PD_EINVAL;
    *OUT_has = 1;
    *OUT_v = (int64_t)json_integer_value(v);
    return PD_OK;
}

int pd_jwt_times(const json_t *claims, struct pd_jwt_times *OUT)
{
    struct pd_jwt_times t;
    if (!json_is_object(claims) || numeric_date(claims, "exp", &t.has_exp, &t.exp) ||
        numeric_date(claims, "nbf", &t.has_nbf, &t.nbf) ||
        numeric_date(claims, "iat", &t.has_iat, &t.iat))
        return PD_EINVAL;
    *OUT = t;
    return PD_OK;
}

struct pd_jwt {
    struct pd_arena a;
    struct parsed p;
};

int pd_jwt_parse(const char *token, size_t len, struct pd_jwt **OUT, enum pd_jwt_reason *OUT_reason)
{
    struct pd_jwt *t = pd_xcalloc(1, sizeof *t);
    pd_arena_init(&t->a);
    enum pd_jwt_reason r = parse(&t->a, token, len, &t->p);
    if (r != PD_JWT_OK) {
        pd_jwt_free(t);
        t = NULL;
    }
    *OUT = t;
    *OUT_reason = r;
    return reason_rc(r);
}

const json_t *pd_jwt_unverified_claims(const struct pd_jwt *t)
{
    return t->p.claims;
}

void pd_jwt_free(struct pd_jwt *t)
{
    if (!t)
        return;
    parsed_free(&t->p);
    pd_arena_cleanup(&t->a);
    free(t);
}

int pd_jwt_check(struct pd_jwt *t, const struct pd_jwks *jwks, int64_t now, json_t **OUT_claims,
                 json_t **OUT_header, enum pd_jwt_reason *OUT_reason)
{
    const struct parsed *p = &t->p;
    enum pd_jwt_reason r = PD_JWT_OK;

    /* Keys named by the kid; the algorithm must be the one each key is pinned to. */
    size_t named = 0;
    int verified = 0;
    for (size_t i = 0; i < jwks->n && !verified; i++) {
        const struct pd_key *k = jwks->keys[i];
        const char *kid = pd_key_kid(k);
        if (p->kid ? !(kid && strcmp(kid, p->kid) == 0) : jwks->n != 1)
            continue;
        named++;
        if (pd_key_alg(k) != p->alg)
            continue;
        if (r == PD_JWT_OK)
            r = PD_JWT_BAD_SIGNATURE; /* until a key verifies it */
        verified = verify_with(&t->a, k, p);
    }
    if (named == 0) {
        r = PD_JWT_UNKNOWN_KID;
        goto out;
    }
    if (!verified) {
        r = r == PD_JWT_OK ? PD_JWT_ALG_MISMATCH : PD_JWT_BAD_SIGNATURE;
        goto out;
    }
    r = PD_JWT_OK;

    struct pd_jwt_times times;
    if (pd_jwt_times(p->claims, &times)) {
        r = PD_JWT_BAD_TIME;
        goto out;
    }
    if (now >= 0) {
        if (!times.has_exp)
            r = PD_JWT_MISSING_EXP;
        else if (now >= times.exp)
            r = PD_JWT_EXPIRED;
        else if (times.has_nbf && now < times.nbf)
            r = PD_JWT_NOT_YET_VALID;
        if (r != PD_JWT_OK)
            goto out;
    }
    *OUT_claims = json_incref(p->claims);
    if (OUT_header)
        *OUT_header = json_incref(p->header);
out:
    *OUT_reason = r;
    return reason_rc(r);
}

int pd_jwt_decode_unverified(const char *token, size_t len, json_t **OUT_claims,
                             json_t **OUT_header, enum pd_jwt_reason *OUT_reason)
{
    struct pd_jwt *t;
    int rc = pd_jwt_parse(token, len, &t, OUT_reason);
    if (rc == PD_OK) {
        *OUT_claims = json_incref(t->p.claims);
        if (OUT_header)
            *OUT_header = json_incref(t->p.header);
    }
    pd_jwt_free(t);
    return rc;
}

int pd_jwt_verify(const char *token, size_t len, const struct pd_jwks *jwks, int64_t now,
                  json_t **OUT_claims, json_t **OUT_header, enum pd_jwt_reason *OUT_reason)
{
    struct pd_jwt *t;
    int rc = pd_jwt_parse(token, len, &t, OUT_reason);
    if (rc == PD_OK)
        rc = pd_jwt_check(t, jwks, now, OUT_claims, OUT_header, OUT_reason);
    pd_jwt_free(t);
    return rc;
}

int pd_jwt_sign(const struct pd_key *key, const json_t *claims, struct pd_arena *a,
                char **OUT_token)
{
    if (!json_is_object(claims) || !pd_key_has_private(key))
        return PD_EINVAL;
    enum pd_jwa alg = pd_key_alg(key);
    int rc = PD_EINTERNAL;
    char *hjson = NULL, *cjson = NULL;
    EVP_MD_CTX *md = NULL;
    json_t *hdr = json_object();
    json_object_set_new(hdr, "alg", json_string(pd_jwa_name(alg)));
    if (pd_key_kid(key))
        json_object_set_new(hdr, "kid", json_string(pd_key_kid(key)));
    hjson = json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS);
    cjson = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    if (!hjson || !cjson)
        goto out;
    char *h64 = pd_base64_encode(a, hjson, strlen(hjson), 1);
    char *c64 = pd_base64_encode(a, cjson, strlen(cjson), 1);
    char *input = pd_arena_printf(a, "%s.%s", h64, c64);
    size_t input_len = strlen(input);

    EVP_PKEY_CTX *pctx = NULL;
    md = EVP_MD_CTX_new();
    if (!md ||
        EVP_DigestSignInit_ex(md, &pctx, md_name(alg), NULL, NULL, pd_key_evp(key), NULL) != 1)
        goto out;
    if (!is_ec_alg(alg) && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    size_t sig_len = 0;
    if (EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)input, input_len) != 1)
        goto out;
    unsigned char *sig = pd_arena_alloc(a, sig_len);
    if (EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, input_len) != 1)
        goto out;
    if (is_ec_alg(alg)) {
        unsigned char *jose;
        if (ec_der_to_jose(a, sig, sig_len, ec_coord(alg), &jose))
            goto out;
        sig = jose;
        sig_len = 2 * ec_coord(alg);
    }
    *OUT_token = pd_arena_printf(a, "%s.%s", input, pd_base64_encode(a, sig, sig_len, 1));
    rc = PD_OK;
out:
    EVP_MD_CTX_free(md);
    free(hjson);
    free(cjson);
    json_decref(hdr);
    if (rc)
        ERR_clear_error();
    return rc;
}
