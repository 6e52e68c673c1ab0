/* test_jwt.c - unit tests for lib/crypto/jwt.c: round trips and every forged-token class. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"

#define NOW 1700000000

/* Group fixture: an RSA and an EC key (private), a second RSA key, and a JWK set of the public
 * parts of the first two, kids "rsa1" / "ec1". Tests never modify it (the arena only grows). */
struct fx {
    struct pd_key *rsa, *ec, *rsa2;
    struct pd_jwks jwks;
    struct pd_arena a;
};

static struct pd_key *public_copy(const struct pd_key *k)
{
    json_t *j;
    struct pd_key *pub = NULL;
    assert_int_equal(pd_key_to_jwk(k, &j), PD_OK);
    assert_int_equal(pd_key_from_jwk(j, &pub), PD_OK);
    json_decref(j);
    return pub;
}

static int setup(void **state)
{
    struct fx *f = pd_xcalloc(1, sizeof *f);
    assert_int_equal(pd_key_generate(PD_KEY_RSA_2048, &f->rsa), PD_OK);
    assert_int_equal(pd_key_generate(PD_KEY_EC_P256, &f->ec), PD_OK);
    assert_int_equal(pd_key_generate(PD_KEY_RSA_2048, &f->rsa2), PD_OK);
    pd_key_set_kid(f->rsa, "rsa1");
    pd_key_set_kid(f->ec, "ec1");
    pd_key_set_kid(f->rsa2, "rsa1"); /* an attacker's key claiming a known kid */
    pd_jwks_init(&f->jwks);
    pd_jwks_add(&f->jwks, public_copy(f->rsa));
    pd_jwks_add(&f->jwks, public_copy(f->ec));
    pd_arena_init(&f->a);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pd_key_free(f->rsa);
    pd_key_free(f->ec);
    pd_key_free(f->rsa2);
    pd_jwks_cleanup(&f->jwks);
    pd_arena_cleanup(&f->a);
    free(f);
    return 0;
}

static const char claims_text[] =
    "{\"sub\":\"system:serviceaccount:default:app\",\"iss\":\"https://oidc.eks.us-east-1."
    "amazonaws.com/id/ABC\",\"aud\":[\"sts.amazonaws.com\"],\"iat\":1699999000,\"nbf\":1699999000,"
    "\"exp\":1700003600,\"kubernetes.io\":{\"namespace\":\"default\",\"serviceaccount\":{\"uid\":"
    "\"u\",\"name\":\"app\"}}}";

static json_t *claims(void)
{
    json_t *c = json_loads(claims_text, 0, NULL);
    assert_non_null(c);
    return c;
}

static char *b64u(struct pd_arena *a, const void *p, size_t n)
{
    return pd_base64_encode(a, p, n, 1);
}

static char *b64s(struct pd_arena *a, const char *s)
{
    return b64u(a, s, strlen(s));
}

/* Sign "h64.p64" with key under alg, independently of jwt.c; signature base64url. */
static char *raw_sig(struct pd_arena *a, const struct pd_key *key, enum pd_jwa alg,
                     const char *input)
{
    const char *md = (alg == PD_JWA_RS256 || alg == PD_JWA_ES256)   ? "SHA256"
                     : (alg == PD_JWA_RS384 || alg == PD_JWA_ES384) ? "SHA384"
                                                                    : "SHA512";
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, pd_key_evp(key), NULL), 1);
    size_t n = 0;
    assert_int_equal(EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)input, strlen(input)), 1);
    unsigned char *sig = pd_arena_alloc(a, n);
    assert_int_equal(EVP_DigestSign(ctx, sig, &n, (const unsigned char *)input, strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
    if (alg >= PD_JWA_ES256) {
        size_t c = alg == PD_JWA_ES256 ? 32 : alg == PD_JWA_ES384 ? 48 : 66;
        const unsigned char *q = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
        assert_non_null(es);
        unsigned char *rs = pd_arena_alloc(a, 2 * c);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, (int)c);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + c, (int)c);
        ECDSA_SIG_free(es);
        return b64u(a, rs, 2 * c);
    }
    return b64u(a, sig, n);
}

/* Token from literal header and payload JSON, signed by key under alg (key NULL: sig as given). */
static char *forge(struct pd_arena *a, const char *hdr, const char *payload,
                   const struct pd_key *key, enum pd_jwa alg, const char *sig)
{
    char *input = pd_arena_printf(a, "%s.%s", b64s(a, hdr), b64s(a, payload));
    if (key)
        sig = raw_sig(a, key, alg, input);
    return pd_arena_printf(a, "%s.%s", input, sig ? sig : "");
}

/* Verify and return the reason; checks the rc class matches the reason. */
static enum pd_jwt_reason verify_n(struct fx *f, const char *tok, size_t len, int64_t now)
{
    json_t *c = NULL, *h = NULL;
    enum pd_jwt_reason r = (enum pd_jwt_reason) - 1;
    int rc = pd_jwt_verify(tok, len, &f->jwks, now, &c, &h, &r);
    if (r == PD_JWT_OK) {
        assert_int_equal(rc, PD_OK);
        assert_non_null(c);
        assert_non_null(h);
    } else {
        assert_null(c);
        assert_null(h);
        switch (r) {
        case PD_JWT_TOO_BIG:
            assert_int_equal(rc, PD_ETOOBIG);
            break;
        case PD_JWT_MALFORMED:
        case PD_JWT_CRIT:
        case PD_JWT_BAD_TIME:
            assert_int_equal(rc, PD_EINVAL);
            break;
        case PD_JWT_UNKNOWN_KID:
            assert_int_equal(rc, PD_ENOTFOUND);
            break;
        default:
            assert_int_equal(rc, PD_ESIG);
        }
    }
    json_decref(c);
    json_decref(h);
    return r;
}

static enum pd_jwt_reason verify(struct fx *f, const char *tok)
{
    return verify_n(f, tok, strlen(tok), NOW);
}

static char *sign(struct fx *f, const struct pd_key *k)
{
    json_t *c = claims();
    char *tok = NULL;
    assert_int_equal(pd_jwt_sign(k, c, &f->a, &tok), PD_OK);
    json_decref(c);
    return tok;
}

static char *segment_text(struct pd_arena *a, const char *tok, int which)
{
    const char *s = tok;
    for (int i = 0; i < which; i++)
        s = strchr(s, '.') + 1;
    const char *e = strchr(s, '.');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    unsigned char *out;
    size_t len;
    assert_int_equal(pd_jose_b64_decode(a, s, n, &out, &len), PD_OK);
    return (char *)out;
}

/* ---- round trips ---- */

static void round_trip_rs256(void **state)
{
    struct fx *f = *state;
    char *tok = sign(f, f->rsa);
    /* exactly kube-apiserver's shape: {"alg","kid"}, sorted compact claims */
    assert_string_equal(segment_text(&f->a, tok, 0), "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}");
    char *payload = segment_text(&f->a, tok, 1);
    assert_true(pd_has_prefix(payload, "{\"aud\":[\"sts.amazonaws.com\"],\"exp\":1700003600,"
                                       "\"iat\":1699999000,\"iss\":"));
    assert_non_null(strstr(payload, "\"serviceaccount\":{\"name\":\"app\",\"uid\":\"u\"}"));
    json_t *c = NULL, *h = NULL;
    enum pd_jwt_reason r;
    assert_int_equal(pd_jwt_verify(tok, strlen(tok), &f->jwks, NOW, &c, &h, &r), PD_OK);
    assert_int_equal(r, PD_JWT_OK);
    json_t *want = claims();
    assert_true(json_equal(c, want));
    assert_string_equal(json_string_value(json_object_get(h, "kid")), "rsa1");
    json_decref(want);
    json_decref(c);
    json_decref(h);
    /* OUT_header may be NULL */
    assert_int_equal(pd_jwt_verify(tok, strlen(tok), &f->jwks, NOW, &c, NULL, &r), PD_OK);
    json_decref(c);
    /* the token need not be NUL-terminated: only len bytes are read */
    size_t len = strlen(tok);
    char *copy = pd_xmalloc(len);
    memcpy(copy, tok, len);
    assert_int_equal(verify_n(f, copy, len, NOW), PD_JWT_OK);
    free(copy);
}

static void round_trip_all_algs(void **state)
{
    struct fx *f = *state;
    static const struct {
        enum pd_key_kind kind;
        enum pd_jwa alg;
    } cases[] = {
        {PD_KEY_RSA_2048, PD_JWA_RS256}, {PD_KEY_RSA_2048, PD_JWA_RS384},
        {PD_KEY_RSA_3072, PD_JWA_RS512}, {PD_KEY_EC_P256, PD_JWA_ES256},
        {PD_KEY_EC_P384, PD_JWA_ES384},  {PD_KEY_EC_P521, PD_JWA_ES512},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pd_key *k;
        assert_int_equal(pd_key_generate(cases[i].kind, &k), PD_OK);
        assert_int_equal(pd_key_set_alg(k, cases[i].alg), PD_OK);
        char kid[PD_KID_LEN + 1];
        assert_int_equal(pd_key_thumbprint(k, PD_KID_SPKI_SHA256, kid), PD_OK);
        pd_key_set_kid(k, kid);
        struct pd_jwks s;
        pd_jwks_init(&s);
        pd_jwks_add(&s, public_copy(k));
        for (int rep = 0; rep < 8; rep++) { /* ECDSA: several signatures, padding of r and s */
            char *tok = sign(f, k);
            json_t *c = NULL;
            enum pd_jwt_reason r;
            int rc = pd_jwt_verify(tok, strlen(tok), &s, NOW, &c, NULL, &r);
            if (rc != PD_OK)
                fail_msg("%s: %s", pd_jwa_name(cases[i].alg), pd_jwt_reason_str(r));
            json_decref(c);
            /* the independent signer agrees */
            char *hdr = segment_text(&f->a, tok, 0);
            char *tok2 = forge(&f->a, hdr, claims_text, k, cases[i].alg, NULL);
            assert_int_equal(pd_jwt_verify(tok2, strlen(tok2), &s, NOW, &c, NULL, &r), PD_OK);
            json_decref(c);
        }
        pd_jwks_cleanup(&s);
        pd_key_free(k);
    }
}

static void sign_refusals(void **state)
{
    struct fx *f = *state;
    char *tok;
    json_t *arr = json_array();
    assert_int_equal(pd_jwt_sign(f->rsa, arr, &f->a, &tok), PD_EINVAL);
    json_decref(arr);
    json_t *c = claims();
    assert_int_equal(pd_jwt_sign(f->jwks.keys[0], c, &f->a, &tok), PD_EINVAL); /* public only */
    json_decref(c);
    /* no kid: header is just {"alg"} */
    struct pd_key *k;
    assert_int_equal(pd_key_generate(PD_KEY_EC_P256, &k), PD_OK);
    tok = sign(f, k);
    assert_string_equal(segment_text(&f->a, tok, 0), "{\"alg\":\"ES256\"}");
    pd_key_free(k);
}

/* ---- forgeries ---- */

static void alg_none(void **state)
{
    struct fx *f = *state;
    const char *h = "{\"alg\":\"none\",\"kid\":\"rsa1\"}";
    assert_int_equal(verify(f, forge(&f->a, h, claims_text, NULL, 0, "")), PD_JWT_ALG_NONE);
    /* with a real RS256 signature attached it is still "none" */
    char *tok = forge(&f->a, h, claims_text, f->rsa, PD_JWA_RS256, NULL);
    assert_int_equal(verify(f, tok), PD_JWT_ALG_NONE);
    assert_int_equal(
        verify(f, forge(&f->a, "{\"alg\":\"None\",\"kid\":\"rsa1\"}", claims_text, NULL, 0, "")),
        PD_JWT_ALG_UNSUPPORTED);
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"NONE\"}", claims_text, NULL, 0, "")),
                     PD_JWT_ALG_UNSUPPORTED);
    assert_int_equal(
        verify(f, forge(&f->a, "{\"kid\":\"rsa1\"}", claims_text, f->rsa, PD_JWA_RS256, NULL)),
        PD_JWT_ALG_UNSUPPORTED);
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":null,\"kid\":\"rsa1\"}", claims_text, f->rsa,
                                     PD_JWA_RS256, NULL)),
                     PD_JWT_MALFORMED);
    /* "RS256\0" must not pass as RS256 */
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS256\\u0000\",\"kid\":\"rsa1\"}",
                                     claims_text, f->rsa, PD_JWA_RS256, NULL)),
                     PD_JWT_MALFORMED); /* jansson refuses \u0000 without JSON_ALLOW_NUL */
    /* unverified decoding refuses none too */
    json_t *c = NULL;
    enum pd_jwt_reason r;
    char *none = forge(&f->a, h, claims_text, NULL, 0, "");
    assert_int_equal(pd_jwt_decode_unverified(none, strlen(none), &c, NULL, &r), PD_ESIG);
    assert_int_equal(r, PD_JWT_ALG_NONE);
    assert_null(c);
}

/* HMAC-SHA-x of input keyed with secret, base64url. */
static char *hmac_sig(struct pd_arena *a, const char *md, const void *secret, size_t slen,
                      const char *input)
{
    unsigned char mac[64];
    size_t n = 0;
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, secret, slen,
                              (const unsigned char *)input, strlen(input), mac, sizeof mac, &n));
    return b64u(a, mac, n);
}

static void hs256_with_public_key(void **state)
{
    struct fx *f = *state;
    char *pem;
    assert_int_equal(pd_key_to_pem(f->rsa, 0, &f->a, &pem), PD_OK);
    static const char *const hs[] = {"HS256", "HS384", "HS512"};
    static const char *const md[] = {"SHA256", "SHA384", "SHA512"};
    for (int i = 0; i < 3; i++) {
        char *h =
            pd_arena_printf(&f->a, "{\"alg\":\"%s\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}", hs[i]);
        char *input = pd_arena_printf(&f->a, "%s.%s", b64s(&f->a, h), b64s(&f->a, claims_text));
        /* the PEM, with and without its final newline, and the raw modulus text */
        char *t1 =
            pd_arena_printf(&f->a, "%s.%s", input, hmac_sig(&f->a, md[i], pem, strlen(pem), input));
        char *t2 = pd_arena_printf(&f->a, "%s.%s", input,
                                   hmac_sig(&f->a, md[i], pem, strlen(pem) - 1, input));
        assert_int_equal(verify(f, t1), PD_JWT_ALG_UNSUPPORTED);
        assert_int_equal(verify(f, t2), PD_JWT_ALG_UNSUPPORTED);
    }
    /* HS256 against the EC key's kid as well */
    char *ecpem;
    assert_int_equal(pd_key_to_pem(f->ec, 0, &f->a, &ecpem), PD_OK);
    const char *h = "{\"alg\":\"HS256\",\"kid\":\"ec1\"}";
    char *input = pd_arena_printf(&f->a, "%s.%s", b64s(&f->a, h), b64s(&f->a, claims_text));
    char *t = pd_arena_printf(&f->a, "%s.%s", input,
                              hmac_sig(&f->a, "SHA256", ecpem, strlen(ecpem), input));
    assert_int_equal(verify(f, t), PD_JWT_ALG_UNSUPPORTED);
    /* PS256 (RSA-PSS) is not RS256 either */
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", claims_text,
                                     f->rsa, PD_JWA_RS256, NULL)),
                     PD_JWT_ALG_UNSUPPORTED);
}

static void unknown_kid(void **state)
{
    struct fx *f = *state;
    struct pd_key *k;
    assert_int_equal(pd_key_generate(PD_KEY_RSA_2048, &k), PD_OK);
    pd_key_set_kid(k, "other");
    assert_int_equal(verify(f, sign(f, k)), PD_JWT_UNKNOWN_KID);
    /* kid compared exactly */
    pd_key_set_kid(k, "RSA1");
    assert_int_equal(verify(f, sign(f, k)), PD_JWT_UNKNOWN_KID);
    pd_key_set_kid(k, "rsa1 ");
    assert_int_equal(verify(f, sign(f, k)), PD_JWT_UNKNOWN_KID);
    /* no kid and two keys in the set */
    pd_key_set_kid(k, NULL);
    assert_int_equal(verify(f, sign(f, k)), PD_JWT_UNKNOWN_KID);
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS256\",\"kid\":7}", claims_text, f->rsa,
                                     PD_JWA_RS256, NULL)),
                     PD_JWT_MALFORMED);
    /* empty set */
    struct pd_jwks empty;
    pd_jwks_init(&empty);
    char *tok = sign(f, f->rsa);
    json_t *c = NULL;
    enum pd_jwt_reason r;
    assert_int_equal(pd_jwt_verify(tok, strlen(tok), &empty, NOW, &c, NULL, &r), PD_ENOTFOUND);
    assert_int_equal(r, PD_JWT_UNKNOWN_KID);
    pd_key_free(k);
}

static void no_kid_single_key(void **state)
{
    struct fx *f = *state;
    struct pd_key *k;
    assert_int_equal(pd_key_generate(PD_KEY_EC_P256, &k), PD_OK);
    struct pd_jwks s;
    pd_jwks_init(&s);
    pd_jwks_add(&s, public_copy(k));
    char *tok = sign(f, k);
    json_t *c = NULL;
    enum pd_jwt_reason r;
    assert_int_equal(pd_jwt_verify(tok, strlen(tok), &s, NOW, &c, NULL, &r), PD_OK);
    json_decref(c);
    /* a kid in the token that the (kid-less) key does not have */
    pd_key_set_kid(k, "x");
    tok = sign(f, k);
    assert_int_equal(pd_jwt_verify(tok, strlen(tok), &s, NOW, &c, NULL, &r), PD_ENOTFOUND);
    pd_jwks_cleanup(&s);
    pd_key_free(k);
}

static void duplicate_kid_in_set(void **state)
{
    struct fx *f = *state;
    /* rsa2 also says kid "rsa1": with it in the set too, both keys are tried */
    struct pd_jwks s;
    pd_jwks_init(&s);
    pd_jwks_add(&s, public_copy(f->rsa));
    pd_jwks_add(&s, public_copy(f->rsa2));
    char *tok = sign(f, f->rsa2);
    json_t *c = NULL;
    enum pd_jwt_reason r;
    assert_int_equal(pd_jwt_verify(tok, strlen(tok), &s, NOW, &c, NULL, &r), PD_OK);
    json_decref(c);
    pd_jwks_cleanup(&s);
}

static void different_key_known_kid(void **state)
{
    struct fx *f = *state;
    assert_int_equal(verify(f, sign(f, f->rsa2)), PD_JWT_BAD_SIGNATURE);
    struct pd_key *k;
    assert_int_equal(pd_key_generate(PD_KEY_EC_P256, &k), PD_OK);
    pd_key_set_kid(k, "ec1");
    assert_int_equal(verify(f, sign(f, k)), PD_JWT_BAD_SIGNATURE);
    pd_key_free(k);
}

static void stripped_signature(void **state)
{
    struct fx *f = *state;
    char *tok = sign(f, f->rsa);
    char *dot = strrchr(tok, '.');
    dot[1] = '\0';
    assert_int_equal(verify(f, tok), PD_JWT_BAD_SIGNATURE); /* "h.p." */
    dot[0] = '\0';
    assert_int_equal(verify(f, tok), PD_JWT_MALFORMED); /* "h.p" */
    tok = sign(f, f->ec);
    *strrchr(tok, '.') = '\0';
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s.", tok)), PD_JWT_BAD_SIGNATURE);
}

static void altered_claims(void **state)
{
    struct fx *f = *state;
    for (int ec = 0; ec < 2; ec++) {
        char *tok = sign(f, ec ? f->ec : f->rsa);
        char *hdr = segment_text(&f->a, tok, 0);
        const char *sig = strrchr(tok, '.') + 1;
        /* a different subject, same signature */
        char *evil = pd_arena_strdup(&f->a, segment_text(&f->a, tok, 1));
        char *p = strstr(evil, ":app\"");
        p[1] = 'b';
        assert_int_equal(verify(f, forge(&f->a, hdr, evil, NULL, 0, sig)), PD_JWT_BAD_SIGNATURE);
        /* one character of the payload segment */
        char *t2 = pd_arena_strdup(&f->a, tok);
        char *seg = strchr(t2, '.') + 5;
        *seg = *seg == 'A' ? 'B' : 'A';
        enum pd_jwt_reason r = verify(f, t2);
        assert_true(r == PD_JWT_BAD_SIGNATURE || r == PD_JWT_MALFORMED);
        /* one character of the signature */
        char *t3 = pd_arena_strdup(&f->a, tok);
        char *s3 = strrchr(t3, '.') + 3;
        *s3 = *s3 == 'A' ? 'B' : 'A';
        assert_int_equal(verify(f, t3), PD_JWT_BAD_SIGNATURE);
    }
}

static void altered_header(void **state)
{
    struct fx *f = *state;
    char *tok = sign(f, f->rsa);
    const char *payload = strchr(tok, '.');
    /* same signature, extra header member */
    char *t = pd_arena_printf(&f->a, "%s%s",
                              b64s(&f->a, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}"),
                              payload);
    assert_int_equal(verify(f, t), PD_JWT_BAD_SIGNATURE);
    /* member order changed: different bytes, different signing input */
    t = pd_arena_printf(&f->a, "%s%s", b64s(&f->a, "{\"kid\":\"rsa1\",\"alg\":\"RS256\"}"),
                        payload);
    assert_int_equal(verify(f, t), PD_JWT_BAD_SIGNATURE);
    /* whitespace in the header JSON, same signature */
    t = pd_arena_printf(&f->a, "%s%s", b64s(&f->a, "{\"alg\":\"RS256\", \"kid\":\"rsa1\"}"),
                        payload);
    assert_int_equal(verify(f, t), PD_JWT_BAD_SIGNATURE);
    /* kid switched to the EC key: alg no longer fits */
    t = pd_arena_printf(&f->a, "%s%s", b64s(&f->a, "{\"alg\":\"RS256\",\"kid\":\"ec1\"}"), payload);
    assert_int_equal(verify(f, t), PD_JWT_ALG_MISMATCH);
}

static void wrong_alg_for_key(void **state)
{
    struct fx *f = *state;
    /* properly signed by the right key, but with RS384/RS512 while the JWK says RS256 */
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS384\",\"kid\":\"rsa1\"}", claims_text,
                                     f->rsa, PD_JWA_RS384, NULL)),
                     PD_JWT_ALG_MISMATCH);
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS512\",\"kid\":\"rsa1\"}", claims_text,
                                     f->rsa, PD_JWA_RS512, NULL)),
                     PD_JWT_ALG_MISMATCH);
    /* an RS256 header with an RS384 signature */
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", claims_text,
                                     f->rsa, PD_JWA_RS384, NULL)),
                     PD_JWT_BAD_SIGNATURE);
    /* a key pinned to RS384 refuses RS256 */
    struct pd_jwks s;
    pd_jwks_init(&s);
    struct pd_key *pub = public_copy(f->rsa);
    assert_int_equal(pd_key_set_alg(pub, PD_JWA_RS384), PD_OK);
    pd_jwks_add(&s, pub);
    char *tok = sign(f, f->rsa);
    json_t *c = NULL;
    enum pd_jwt_reason r;
    assert_int_equal(pd_jwt_verify(tok, strlen(tok), &s, NOW, &c, NULL, &r), PD_ESIG);
    assert_int_equal(r, PD_JWT_ALG_MISMATCH);
    pd_jwks_cleanup(&s);
}

static void ec_rsa_confusion(void **state)
{
    struct fx *f = *state;
    /* ES256 header naming the RSA key, signed with the EC key */
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", claims_text,
                                     f->ec, PD_JWA_ES256, NULL)),
                     PD_JWT_ALG_MISMATCH);
    /* RS256 header naming the EC key, signed with an RSA key */
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS256\",\"kid\":\"ec1\"}", claims_text,
                                     f->rsa, PD_JWA_RS256, NULL)),
                     PD_JWT_ALG_MISMATCH);
    /* ES384 on a P-256 key */
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"ES384\",\"kid\":\"ec1\"}", claims_text,
                                     f->ec, PD_JWA_ES256, NULL)),
                     PD_JWT_ALG_MISMATCH);
    /* ECDSA signature in DER instead of r||s */
    char *input =
        pd_arena_printf(&f->a, "%s.%s", b64s(&f->a, "{\"alg\":\"ES256\",\"kid\":\"ec1\"}"),
                        b64s(&f->a, claims_text));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL, NULL, pd_key_evp(f->ec), NULL);
    unsigned char der[80];
    size_t n = sizeof der;
    assert_int_equal(EVP_DigestSign(ctx, der, &n, (unsigned char *)input, strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s.%s", input, b64u(&f->a, der, n))),
                     PD_JWT_BAD_SIGNATURE);
    /* r||s of zeros */
    unsigned char zero[64] = {0};
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s.%s", input, b64u(&f->a, zero, 64))),
                     PD_JWT_BAD_SIGNATURE);
}

static void rsa_signature_length(void **state)
{
    struct fx *f = *state;
    char *tok = sign(f, f->rsa);
    char *sig64 = strrchr(tok, '.') + 1;
    unsigned char *sig;
    size_t n;
    assert_int_equal(pd_jose_b64_decode(&f->a, sig64, strlen(sig64), &sig, &n), PD_OK);
    assert_int_equal(n, 256);
    unsigned char *longer = pd_arena_alloc(&f->a, n + 1);
    longer[0] = 0;
    memcpy(longer + 1, sig, n);
    *strrchr(tok, '.') = '\0';
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s.%s", tok, b64u(&f->a, longer, n + 1))),
                     PD_JWT_BAD_SIGNATURE);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s.%s", tok, b64u(&f->a, sig, n - 1))),
                     PD_JWT_BAD_SIGNATURE);
}

static void not_a_jwt(void **state)
{
    struct fx *f = *state;
    static const char *const junk[] = {
        "",
        ".",
        "..",
        "...",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "a.b.c.d.e",
        " . . ",
        "eyJhbGciOiJSUzI1NiJ9",
        "eyJhbGciOiJSUzI1NiJ9..",
        "..sig",
        "Bearer eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        enum pd_jwt_reason r = verify(f, junk[i]);
        if (r != PD_JWT_MALFORMED)
            fail_msg("'%s' gave %s", junk[i], pd_jwt_reason_str(r));
    }
    /* JSON that is not an object, or not JSON */
    static const char *const bad_json[] = {"[]",  "\"x\"", "1", "null",       "{",
                                           "{}x", "{}{}",  "",  "{\"a\":1,}", "\xff\xfe{}"};
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        assert_int_equal(
            verify(f, forge(&f->a, bad_json[i], claims_text, f->rsa, PD_JWA_RS256, NULL)),
            PD_JWT_MALFORMED);
        assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", bad_json[i],
                                         f->rsa, PD_JWA_RS256, NULL)),
                         PD_JWT_MALFORMED);
    }
    /* duplicate members, properly signed */
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"kid\":\"ec1\"}",
                                     claims_text, f->rsa, PD_JWA_RS256, NULL)),
                     PD_JWT_MALFORMED);
    assert_int_equal(verify(f, forge(&f->a, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
                                     "{\"sub\":\"a\",\"sub\":\"b\",\"exp\":1800000000}", f->rsa,
                                     PD_JWA_RS256, NULL)),
                     PD_JWT_MALFORMED);
    /* embedded NUL inside the length */
    char *tok = sign(f, f->rsa);
    size_t len = strlen(tok);
    char *nul = pd_arena_alloc(&f->a, len + 2);
    memcpy(nul, tok, len);
    nul[len] = '\0';
    nul[len + 1] = 'A';
    assert_int_equal(verify_n(f, nul, len + 2, NOW), PD_JWT_MALFORMED);
    /* a crit header we do not understand, properly signed */
    assert_int_equal(verify(f, forge(&f->a,
                                     "{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"crit\":[\"exp\"],"
                                     "\"exp\":1}",
                                     claims_text, f->rsa, PD_JWA_RS256, NULL)),
                     PD_JWT_CRIT);
    assert_int_equal(verify_n(f, NULL, 0, NOW), PD_JWT_MALFORMED);
}

static void oversized(void **state)
{
    struct fx *f = *state;
    /* grow a claim until the signed token is just under and just over the limit */
    size_t pad = PD_JWT_MAX_LEN * 3 / 4 - 700; /* base64 grows 4/3; ~600 steps from the limit */
    char *tok = NULL;
    for (;;) {
        char *big = pd_xmalloc(pad + 1);
        memset(big, 'x', pad);
        big[pad] = '\0';
        json_t *c = claims();
        json_object_set_new(c, "pad", json_string(big));
        free(big);
        assert_int_equal(pd_jwt_sign(f->rsa, c, &f->a, &tok), PD_OK);
        json_decref(c);
        if (strlen(tok) > PD_JWT_MAX_LEN)
            break;
        if (strlen(tok) > PD_JWT_MAX_LEN - 4)
            assert_int_equal(verify(f, tok), PD_JWT_OK);
        pad++;
    }
    assert_int_equal(verify(f, tok), PD_JWT_TOO_BIG);
    assert_true(strlen(tok) <= PD_JWT_MAX_LEN + 4);
    char *huge = pd_arena_alloc(&f->a, 1 << 20);
    memset(huge, 'A', 1 << 20);
    assert_int_equal(verify_n(f, huge, 1 << 20, NOW), PD_JWT_TOO_BIG);
    json_t *c = NULL;
    enum pd_jwt_reason r;
    assert_int_equal(pd_jwt_decode_unverified(huge, 1 << 20, &c, NULL, &r), PD_ETOOBIG);
}

static void trailing_garbage(void **state)
{
    struct fx *f = *state;
    char *tok = sign(f, f->rsa);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s.", tok)), PD_JWT_MALFORMED);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s ", tok)), PD_JWT_MALFORMED);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s\n", tok)), PD_JWT_MALFORMED);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s=", tok)), PD_JWT_MALFORMED);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, " %s", tok)), PD_JWT_MALFORMED);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s.x", tok)), PD_JWT_MALFORMED);
    /* 256 bytes = 342 chars; 4 more characters decode to 3 more bytes */
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%sAAAA", tok)), PD_JWT_BAD_SIGNATURE);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%sA", tok)), PD_JWT_BAD_SIGNATURE);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%sAAA", tok)), PD_JWT_MALFORMED);
}

static void base64_tricks(void **state)
{
    struct fx *f = *state;
    const char *hdr = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}";   /* 30 bytes: 40 chars, no pad */
    const char *hdr2 = "{\"alg\":\"RS256\",\"kid\":\"rsa1\" }"; /* 31 bytes: needs "==" */
    /* padding on a segment, signed over the padded form */
    char *h64 = pd_arena_printf(&f->a, "%s==", b64s(&f->a, hdr2));
    char *input = pd_arena_printf(&f->a, "%s.%s", h64, b64s(&f->a, claims_text));
    char *tok = pd_arena_printf(&f->a, "%s.%s", input, raw_sig(&f->a, f->rsa, PD_JWA_RS256, input));
    assert_int_equal(verify(f, tok), PD_JWT_MALFORMED);
    /* padding on the payload */
    char *p64 = pd_arena_printf(&f->a, "%s=", b64s(&f->a, "{\"exp\":1800000000,\"a\":\"x\"}"));
    input = pd_arena_printf(&f->a, "%s.%s", b64s(&f->a, hdr), p64);
    tok = pd_arena_printf(&f->a, "%s.%s", input, raw_sig(&f->a, f->rsa, PD_JWA_RS256, input));
    assert_int_equal(verify(f, tok), PD_JWT_MALFORMED);
    /* padding on the signature ("==" after 342 characters) */
    tok = sign(f, f->rsa);
    assert_int_equal(verify(f, pd_arena_printf(&f->a, "%s==", tok)), PD_JWT_MALFORMED);
    /* a second spelling of the signature's last byte (stray low bits set) */
    char *t = pd_arena_strdup(&f->a, tok);
    char *last = t + strlen(t) - 1;
    const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = (int)(strchr(al, *last) - al);
    *last = al[v ^ 1]; /* 342 chars: the last carries 2 real bits and 4 zero bits */
    assert_int_equal(verify(f, t), PD_JWT_MALFORMED);
    /* standard alphabet in place of the URL one */
    t = pd_arena_strdup(&f->a, tok);
    int changed = 0;
    for (char *c = strrchr(t, '.'); *c; c++) {
        if (*c == '-' || *c == '_') {
            *c = *c == '-' ? '+' : '/';
            changed = 1;
        }
    }
    if (changed)
        assert_int_equal(verify(f, t), PD_JWT_MALFORMED);
    t = pd_arena_printf(&f->a, "%s.%s.%s", "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEifQ+",
                        b64s(&f->a, claims_text), "AAAA");
    assert_int_equal(verify(f, t), PD_JWT_MALFORMED);
}

static void time_claims(void **state)
{
    struct fx *f = *state;
    char *tok = sign(f, f->rsa); /* nbf 1699999000, exp 1700003600 */
    assert_int_equal(verify_n(f, tok, strlen(tok), 1700003599), PD_JWT_OK);
    assert_int_equal(verify_n(f, tok, strlen(tok), 1700003600), PD_JWT_EXPIRED);
    assert_int_equal(verify_n(f, tok, strlen(tok), 1699999000), PD_JWT_OK);
    assert_int_equal(verify_n(f, tok, strlen(tok), 1699998999), PD_JWT_NOT_YET_VALID);
    assert_int_equal(verify_n(f, tok, strlen(tok), -1), PD_JWT_OK);
    assert_int_equal(verify_n(f, tok, strlen(tok), 1800000000), PD_JWT_EXPIRED);

    const char *h = "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}";
    static const char *const bad[] = {
        "{\"exp\":1.7e9}", "{\"exp\":1700003600.0}",           "{\"exp\":\"1700003600\"}",
        "{\"exp\":-1}",    "{\"exp\":1800000000,\"nbf\":1.5}", "{\"exp\":1800000000,\"iat\":null}",
        "{\"exp\":true}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *t = forge(&f->a, h, bad[i], f->rsa, PD_JWA_RS256, NULL);
        assert_int_equal(verify_n(f, t, strlen(t), NOW), PD_JWT_BAD_TIME);
        assert_int_equal(verify_n(f, t, strlen(t), -1), PD_JWT_BAD_TIME);
    }
    char *t = forge(&f->a, h, "{\"sub\":\"x\"}", f->rsa, PD_JWA_RS256, NULL);
    assert_int_equal(verify_n(f, t, strlen(t), NOW), PD_JWT_MISSING_EXP);
    assert_int_equal(verify_n(f, t, strlen(t), -1), PD_JWT_OK);
    /* an integer too large for int64 is not JSON jansson reads */
    t = forge(&f->a, h, "{\"exp\":99999999999999999999}", f->rsa, PD_JWA_RS256, NULL);
    assert_int_equal(verify_n(f, t, strlen(t), NOW), PD_JWT_MALFORMED);

    struct pd_jwt_times tm;
    json_t *c = claims();
    assert_int_equal(pd_jwt_times(c, &tm), PD_OK);
    assert_true(tm.has_exp && tm.has_nbf && tm.has_iat);
    assert_true(tm.exp == 1700003600 && tm.nbf == 1699999000 && tm.iat == 1699999000);
    json_object_del(c, "nbf");
    assert_int_equal(pd_jwt_times(c, &tm), PD_OK);
    assert_false(tm.has_nbf);
    assert_true(tm.nbf == 0);
    json_object_set_new(c, "iat", json_real(1.0));
    assert_int_equal(pd_jwt_times(c, &tm), PD_EINVAL);
    json_decref(c);
    assert_int_equal(pd_jwt_times(NULL, &tm), PD_EINVAL);
}

static void unverified_decode(void **state)
{
    struct fx *f = *state;
    /* a forged signature still decodes: the caller only learns where to look for keys */
    char *tok = sign(f, f->rsa2);
    json_t *c = NULL, *h = NULL;
    enum pd_jwt_reason r;
    assert_int_equal(pd_jwt_decode_unverified(tok, strlen(tok), &c, &h, &r), PD_OK);
    assert_string_equal(json_string_value(json_object_get(c, "iss")),
                        "https://oidc.eks.us-east-1.amazonaws.com/id/ABC");
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
    json_decref(c);
    json_decref(h);
    c = NULL;
    assert_int_equal(pd_jwt_decode_unverified("a.b.c", 5, &c, NULL, &r), PD_EINVAL);
    assert_int_equal(r, PD_JWT_MALFORMED);
    assert_null(c);
    assert_string_equal(pd_jwt_reason_str(PD_JWT_EXPIRED), "token expired");
    assert_string_equal(pd_jwt_reason_str((enum pd_jwt_reason)99), "unknown");
}

/* Parse once, read the unverified claims, then check: the same answers as pd_jwt_verify. */
static void parse_then_check(void **state)
{
    struct fx *f = *state;
    enum pd_jwt_reason r;
    json_t *c = NULL;
    struct pd_jwt *t = NULL;
    char *forged = sign(f, f->rsa2); /* says kid rsa1, signed by another key */
    assert_int_equal(pd_jwt_parse(forged, strlen(forged), &t, &r), PD_OK);
    assert_string_equal(json_string_value(json_object_get(pd_jwt_unverified_claims(t), "iss")),
                        "https://oidc.eks.us-east-1.amazonaws.com/id/ABC");
    assert_int_equal(pd_jwt_check(t, &f->jwks, NOW, &c, NULL, &r), PD_ESIG);
    assert_int_equal(r, PD_JWT_BAD_SIGNATURE);
    assert_null(c);
    pd_jwt_free(t);

    char *tok = sign(f, f->rsa);
    assert_int_equal(pd_jwt_parse(tok, strlen(tok), &t, &r), PD_OK);
    for (int i = 0; i < 2; i++) { /* checking does not consume the parsed token */
        assert_int_equal(pd_jwt_check(t, &f->jwks, NOW, &c, NULL, &r), PD_OK);
        assert_string_equal(json_string_value(json_object_get(c, "sub")),
                            json_string_value(json_object_get(pd_jwt_unverified_claims(t), "sub")));
        json_decref(c);
        c = NULL;
    }
    struct pd_jwks empty;
    pd_jwks_init(&empty);
    assert_int_equal(pd_jwt_check(t, &empty, NOW, &c, NULL, &r), PD_ENOTFOUND);
    assert_int_equal(pd_jwt_check(t, &f->jwks, (int64_t)1 << 40, &c, NULL, &r), PD_ESIG);
    assert_int_equal(r, PD_JWT_EXPIRED);
    pd_jwt_free(t);

    t = (struct pd_jwt *)1;
    assert_int_equal(pd_jwt_parse("a.b.c", 5, &t, &r), PD_EINVAL);
    assert_null(t);
    pd_jwt_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_rs256),
        cmocka_unit_test(round_trip_all_algs),
        cmocka_unit_test(sign_refusals),
        cmocka_unit_test(alg_none),
        cmocka_unit_test(hs256_with_public_key),
        cmocka_unit_test(unknown_kid),
        cmocka_unit_test(no_kid_single_key),
        cmocka_unit_test(duplicate_kid_in_set),
        cmocka_unit_test(different_key_known_kid),
        cmocka_unit_test(stripped_signature),
        cmocka_unit_test(altered_claims),
        cmocka_unit_test(altered_header),
        cmocka_unit_test(wrong_alg_for_key),
        cmocka_unit_test(ec_rsa_confusion),
        cmocka_unit_test(rsa_signature_length),
        cmocka_unit_test(not_a_jwt),
        cmocka_unit_test(oversized),
        cmocka_unit_test(trailing_garbage),
        cmocka_unit_test(base64_tricks),
        cmocka_unit_test(time_claims),
        cmocka_unit_test(unverified_decode),
        cmocka_unit_test(parse_then_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
