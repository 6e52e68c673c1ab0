/* test_crypto.c - unit tests for lib/crypto keys.c, x509.c and seal.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "crypto/keys.h"
#include "crypto/seal.h"
#include "crypto/x509.h"

/* ---- helpers ---- */

static char *slurp(const char *name, size_t *OUT_len)
{
    const char *dir = getenv("PODIAM_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/crypto/%s", dir ? dir : "tests/data", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *buf = pd_xmalloc(65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    if (OUT_len)
        *OUT_len = n;
    return buf;
}

static struct pd_key *load_key(const char *name)
{
    size_t len;
    char *pem = slurp(name, &len);
    struct pd_key *k = NULL;
    assert_int_equal(pd_key_from_pem(pem, len, PD_JWA_INVALID, &k), PD_OK);
    free(pem);
    return k;
}

static int jwk_text_rc(const char *text)
{
    struct pd_key *k = NULL;
    int rc = pd_key_from_jwk_text(text, strlen(text), &k);
    pd_key_free(k);
    return rc;
}

/* Public JWK of k with one member replaced (value NULL removes it). */
static json_t *jwk_with(const struct pd_key *k, const char *member, json_t *value)
{
    json_t *j;
    assert_int_equal(pd_key_to_jwk(k, &j), PD_OK);
    if (value)
        json_object_set_new(j, member, value);
    else
        json_object_del(j, member);
    return j;
}

static int jwk_rc(json_t *j)
{
    struct pd_key *k = NULL;
    int rc = pd_key_from_jwk(j, &k);
    pd_key_free(k);
    json_decref(j);
    return rc;
}

/* ---- keys ---- */

/* RFC 7638 §3.1 example key and its thumbprint. */
static const char rfc7638_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1"
    "RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h"
    "4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLy"
    "rdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}";

static void jwk_thumbprint_rfc7638(void **state)
{
    struct pd_key *k = NULL;
    assert_int_equal(pd_key_from_jwk_text(rfc7638_jwk, strlen(rfc7638_jwk), &k), PD_OK);
    char kid[PD_KID_LEN + 1];
    assert_int_equal(pd_key_thumbprint(k, PD_KID_JWK_THUMBPRINT, kid), PD_OK);
    assert_string_equal(kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_string_equal(pd_key_kid(k), "2011-04-29");
    assert_int_equal(pd_key_alg(k), PD_JWA_RS256);
    assert_int_equal(pd_key_bits(k), 2048);
    assert_false(pd_key_has_private(k));
    pd_key_free(k);
}

/* Fixed keys: both kid rules against values computed with the openssl CLI and Python. */
static void kid_rules_fixed_keys(void **state)
{
    char kid[PD_KID_LEN + 1];
    struct pd_key *rsa = load_key("rsa2048-pkcs1.pem");
    assert_true(pd_key_has_private(rsa));
    assert_int_equal(pd_key_alg(rsa), PD_JWA_RS256);
    assert_int_equal(pd_key_thumbprint(rsa, PD_KID_SPKI_SHA256, kid), PD_OK);
    assert_string_equal(kid, "bmt326Jld1FSg5sta4a7GVLUilpo0Lm2TWvnrv8joM0");
    assert_int_equal(pd_key_thumbprint(rsa, PD_KID_JWK_THUMBPRINT, kid), PD_OK);
    assert_string_equal(kid, "l7TdKQcEly7bcj63VMXUOsIhSL3l6_HytW0em8WeoDA");
    assert_int_equal(pd_key_thumbprint(rsa, 99, kid), PD_EINVAL);

    struct pd_key *ec = load_key("ec-p256.pem");
    assert_int_equal(pd_key_alg(ec), PD_JWA_ES256);
    assert_int_equal(pd_key_thumbprint(ec, PD_KID_SPKI_SHA256, kid), PD_OK);
    assert_string_equal(kid, "FFvCsDcZYm1FKwOKprvg5m8_lXANyxWIhbVwp1F2Etg");
    assert_int_equal(pd_key_thumbprint(ec, PD_KID_JWK_THUMBPRINT, kid), PD_OK);
    assert_string_equal(kid, "pgUbF9yGa_0G_rFjJ9Xvvdo_dIgOJsFSqRJevp-xHVk");

    /* JWK export of the EC key: exact member order and coordinates. */
    pd_key_set_kid(ec, "k1");
    json_t *j;
    assert_int_equal(pd_key_to_jwk(ec, &j), PD_OK);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s,
                        "{\"kty\":\"EC\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"ES256\","
                        "\"crv\":\"P-256\",\"x\":\"LKPxx2W-kYfXg-XZSQCz2X3iH5ZVerbwXUHmmMgFYOo\","
                        "\"y\":\"UKUwdj-wdz33Fufeof9Bbv2LAvSKIkMuWynNy3OmaCY\"}");
    free(s);
    json_decref(j);
    pd_key_free(rsa);
    pd_key_free(ec);
}

static void refused_pem(void **state)
{
    static const char *const files[] = {"rsa1024.pem", "ed25519.pem", "ec-p256-encrypted.pem",
                                        "ec-explicit.pem"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *pem = slurp(files[i], &len);
        struct pd_key *k = NULL;
        int rc = pd_key_from_pem(pem, len, PD_JWA_INVALID, &k);
        if (rc != PD_EINVAL)
            fail_msg("%s accepted (rc %d)", files[i], rc);
        assert_null(k);
        free(pem);
    }
    struct pd_key *k = NULL;
    assert_int_equal(pd_key_from_pem("garbage", 7, PD_JWA_INVALID, &k), PD_EINVAL);
    assert_int_equal(pd_key_from_pem("", 0, PD_JWA_INVALID, &k), PD_EINVAL);
    /* alg that does not fit the key */
    size_t len;
    char *pem = slurp("ec-p256.pem", &len);
    assert_int_equal(pd_key_from_pem(pem, len, PD_JWA_RS256, &k), PD_EINVAL);
    assert_int_equal(pd_key_from_pem(pem, len, PD_JWA_ES384, &k), PD_EINVAL);
    free(pem);
    pem = slurp("rsa2048-pkcs1.pem", &len);
    assert_int_equal(pd_key_from_pem(pem, len, PD_JWA_ES256, &k), PD_EINVAL);
    assert_int_equal(pd_key_from_pem(pem, len, PD_JWA_RS512, &k), PD_OK);
    assert_int_equal(pd_key_alg(k), PD_JWA_RS512);
    assert_int_equal(pd_key_set_alg(k, PD_JWA_ES256), PD_EINVAL);
    assert_int_equal(pd_key_set_alg(k, PD_JWA_RS384), PD_OK);
    assert_int_equal(pd_key_alg(k), PD_JWA_RS384);
    pd_key_free(k);
    free(pem);
}

static void pem_round_trip_kind(enum pd_key_kind kind, enum pd_jwa alg, int bits)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_key *k = NULL, *priv = NULL, *pub = NULL;
    assert_int_equal(pd_key_generate(kind, &k), PD_OK);
    assert_int_equal(pd_key_alg(k), alg);
    assert_int_equal(pd_key_bits(k), bits);
    assert_true(pd_key_has_private(k));
    assert_null(pd_key_kid(k));

    char *ppem, *upem;
    assert_int_equal(pd_key_to_pem(k, 1, &a, &ppem), PD_OK);
    assert_true(pd_has_prefix(ppem, "-----BEGIN PRIVATE KEY-----\n")); /* PKCS#8 */
    assert_int_equal(pd_key_to_pem(k, 0, &a, &upem), PD_OK);
    assert_true(pd_has_prefix(upem, "-----BEGIN PUBLIC KEY-----\n"));

    assert_int_equal(pd_key_from_pem(ppem, strlen(ppem), PD_JWA_INVALID, &priv), PD_OK);
    assert_true(pd_key_has_private(priv));
    assert_int_equal(pd_key_from_pem(upem, strlen(upem), PD_JWA_INVALID, &pub), PD_OK);
    assert_false(pd_key_has_private(pub));
    char *p2;
    assert_int_equal(pd_key_to_pem(pub, 1, &a, &p2), PD_EINVAL);
    assert_int_equal(pd_key_to_pem(priv, 1, &a, &p2), PD_OK);
    assert_string_equal(p2, ppem);
    assert_int_equal(EVP_PKEY_eq(pd_key_evp(k), pd_key_evp(pub)), 1);

    char t1[PD_KID_LEN + 1], t2[PD_KID_LEN + 1], t3[PD_KID_LEN + 1];
    assert_int_equal(pd_key_thumbprint(k, PD_KID_JWK_THUMBPRINT, t1), PD_OK);
    assert_int_equal(pd_key_thumbprint(pub, PD_KID_JWK_THUMBPRINT, t2), PD_OK);
    assert_string_equal(t1, t2);
    assert_int_equal(strlen(t1), PD_KID_LEN);
    assert_int_equal(pd_key_thumbprint(pub, PD_KID_SPKI_SHA256, t3), PD_OK);
    assert_string_not_equal(t1, t3);

    /* JWK round trip keeps the key, kid and alg. */
    assert_int_equal(pd_key_set_kid(pub, t3), PD_OK);
    json_t *j;
    assert_int_equal(pd_key_to_jwk(pub, &j), PD_OK);
    struct pd_key *back = NULL;
    assert_int_equal(pd_key_from_jwk(j, &back), PD_OK);
    assert_string_equal(pd_key_kid(back), t3);
    assert_int_equal(pd_key_alg(back), alg);
    assert_int_equal(EVP_PKEY_eq(pd_key_evp(back), pd_key_evp(k)), 1);
    json_decref(j);

    pd_key_free(back);
    pd_key_free(k);
    pd_key_free(priv);
    pd_key_free(pub);
    pd_arena_cleanup(&a);
}

static void pem_round_trips(void **state)
{
    pem_round_trip_kind(PD_KEY_RSA_2048, PD_JWA_RS256, 2048);
    pem_round_trip_kind(PD_KEY_EC_P256, PD_JWA_ES256, 256);
    pem_round_trip_kind(PD_KEY_EC_P384, PD_JWA_ES384, 384);
    pem_round_trip_kind(PD_KEY_EC_P521, PD_JWA_ES512, 521);
    struct pd_key *k = NULL;
    assert_int_equal(pd_key_generate(0, &k), PD_EINVAL);
    assert_int_equal(pd_key_generate(77, &k), PD_EINVAL);
}

static void jwk_export_rsa_shape(void **state)
{
    struct pd_key *k = load_key("rsa2048-pkcs1.pem");
    pd_key_set_kid(k, "abc");
    json_t *j;
    assert_int_equal(pd_key_to_jwk(k, &j), PD_OK);
    const char *keys[] = {"kty", "kid", "use", "alg", "n", "e"};
    size_t i = 0;
    const char *name;
    json_t *v;
    json_object_foreach(j, name, v)
    {
        assert_true(i < 6);
        assert_string_equal(name, keys[i++]);
    }
    assert_int_equal(i, 6);
    assert_string_equal(json_string_value(json_object_get(j, "e")), "AQAB");
    assert_string_equal(json_string_value(json_object_get(j, "use")), "sig");
    assert_string_equal(json_string_value(json_object_get(j, "alg")), "RS256");
    assert_int_equal(json_string_length(json_object_get(j, "n")), 342); /* 256 bytes */
    json_decref(j);
    /* No kid: member left out. */
    pd_key_set_kid(k, NULL);
    assert_int_equal(pd_key_to_jwk(k, &j), PD_OK);
    assert_null(json_object_get(j, "kid"));
    json_decref(j);
    assert_int_equal(pd_key_set_kid(k, ""), PD_EINVAL);
    pd_key_free(k);
}

/* 1024-bit RSA public JWK made from the fixture file. */
static json_t *rsa1024_jwk(void)
{
    size_t len;
    char *pem = slurp("rsa1024.pem", &len);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *p = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    assert_non_null(p);
    BIGNUM *n = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(p, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    unsigned char buf[128];
    assert_int_equal(BN_bn2bin(n, buf), 128);
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *j = json_pack("{s:s,s:s,s:s}", "kty", "RSA", "e", "AQAB", "n",
                          pd_base64_encode(&a, buf, sizeof buf, 1));
    pd_arena_cleanup(&a);
    BN_free(n);
    EVP_PKEY_free(p);
    BIO_free(bio);
    free(pem);
    return j;
}

static void jwk_import_strict(void **state)
{
    struct pd_key *rsa = load_key("rsa2048-pkcs1.pem");
    struct pd_key *ec = load_key("ec-p256.pem");
    /* baseline: both import */
    assert_int_equal(jwk_rc(jwk_with(rsa, "kid", json_string("x"))), PD_OK);
    assert_int_equal(jwk_rc(jwk_with(ec, "kid", json_string("x"))), PD_OK);
    /* alg optional for RSA (RS256) and EC (from crv) */
    assert_int_equal(jwk_rc(jwk_with(rsa, "alg", NULL)), PD_OK);
    assert_int_equal(jwk_rc(jwk_with(ec, "alg", NULL)), PD_OK);
    assert_int_equal(jwk_rc(jwk_with(rsa, "use", NULL)), PD_OK);
    assert_int_equal(jwk_rc(jwk_with(rsa, "alg", json_string("RS512"))), PD_OK);

    /* kty / alg / crv consistency */
    assert_int_equal(jwk_rc(jwk_with(rsa, "kty", NULL)), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "kty", json_string("rsa"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "kty", json_string("EC"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "kty", json_string("oct"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "kty", json_integer(1))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "alg", json_string("ES256"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "alg", json_string("HS256"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "alg", json_string("PS256"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "alg", json_string("none"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "alg", json_string("rs256"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "crv", json_string("P-256"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(ec, "alg", json_string("ES384"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(ec, "alg", json_string("RS256"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(ec, "crv", json_string("P-384"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(ec, "crv", json_string("secp256k1"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(ec, "crv", NULL)), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(ec, "kty", json_string("RSA"))), PD_EINVAL);

    /* use, key_ops, kid */
    assert_int_equal(jwk_rc(jwk_with(rsa, "use", json_string("enc"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "key_ops", json_pack("[s]", "verify"))), PD_OK);
    assert_int_equal(jwk_rc(jwk_with(rsa, "key_ops", json_pack("[s]", "encrypt"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "key_ops", json_string("verify"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "kid", json_string(""))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "kid", json_integer(5))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "kid", json_stringn("a\0b", 3))), PD_EINVAL);

    /* private members are refused */
    assert_int_equal(jwk_rc(jwk_with(rsa, "d", json_string("AQAB"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(ec, "d", json_string("AQAB"))), PD_EINVAL);

    /* RSA numbers */
    assert_int_equal(jwk_rc(rsa1024_jwk()), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "e", json_string("AQAA"))), PD_EINVAL);   /* even */
    assert_int_equal(jwk_rc(jwk_with(rsa, "e", json_string("AQ"))), PD_EINVAL);     /* 1 */
    assert_int_equal(jwk_rc(jwk_with(rsa, "e", json_string("AAEAAQ"))), PD_EINVAL); /* 0-lead */
    assert_int_equal(jwk_rc(jwk_with(rsa, "e", json_string("AQAB="))), PD_EINVAL);  /* padding */
    assert_int_equal(jwk_rc(jwk_with(rsa, "e", json_string("AQAC"))), PD_EINVAL);   /* even */
    assert_int_equal(jwk_rc(jwk_with(rsa, "e", json_string("Aw"))), PD_OK);         /* 3 */
    assert_int_equal(jwk_rc(jwk_with(rsa, "e", json_string(""))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "n", json_string("AQAB"))), PD_EINVAL);
    assert_int_equal(jwk_rc(jwk_with(rsa, "n", NULL)), PD_EINVAL);
    {
        struct pd_arena a;
        pd_arena_init(&a);
        json_t *j = jwk_with(rsa, "kid", NULL);
        const char *n = json_string_value(json_object_get(j, "n"));
        unsigned char *raw;
        size_t len;
        assert_int_equal(pd_jose_b64_decode(&a, n, strlen(n), &raw, &len), PD_OK);
        unsigned char *z = pd_arena_alloc(&a, len + 1);
        z[0] = 0;
        memcpy(z + 1, raw, len); /* a leading zero byte: not minimal (RFC 7518 6.3.1.1) */
        char *zn = pd_base64_encode(&a, z, len + 1, 1);
        assert_int_equal(jwk_rc(jwk_with(rsa, "n", json_string(zn))), PD_EINVAL);
        char *std = pd_arena_printf(&a, "%s", n);
        for (char *c = std; *c; c++)
            *c = *c == '-' ? '+' : *c == '_' ? '/' : *c;
        if (strcmp(std, n) != 0) /* standard alphabet */
            assert_int_equal(jwk_rc(jwk_with(rsa, "n", json_string(std))), PD_EINVAL);
        char *even = pd_arena_printf(&a, "%s", n);
        even[strlen(even) - 1] = 'A'; /* modulus is even or bits stray */
        assert_int_equal(jwk_rc(jwk_with(rsa, "n", json_string(even))), PD_EINVAL);
        json_decref(j);
        pd_arena_cleanup(&a);
    }

    /* EC coordinates */
    {
        json_t *j = jwk_with(ec, "kid", NULL);
        char y[64];
        snprintf(y, sizeof y, "%s", json_string_value(json_object_get(j, "y")));
        y[10] = y[10] == 'A' ? 'B' : 'A'; /* off the curve */
        assert_int_equal(jwk_rc(jwk_with(ec, "y", json_string(y))), PD_EINVAL);
        assert_int_equal(jwk_rc(jwk_with(ec, "x", json_string("AQAB"))), PD_EINVAL); /* short */
        assert_int_equal(jwk_rc(jwk_with(ec, "y", NULL)), PD_EINVAL);
        json_decref(j);
    }

    /* text form: duplicates and non-objects */
    assert_int_equal(jwk_text_rc("{\"kty\":\"RSA\",\"kty\":\"EC\"}"), PD_EINVAL);
    assert_int_equal(jwk_text_rc("[]"), PD_EINVAL);
    assert_int_equal(jwk_text_rc("{"), PD_EINVAL);
    assert_int_equal(jwk_text_rc(""), PD_EINVAL);
    pd_key_free(rsa);
    pd_key_free(ec);
}

static void jwks_set(void **state)
{
    struct pd_key *rsa = load_key("rsa2048-pkcs1.pem");
    struct pd_key *ec = load_key("ec-p256.pem");
    pd_key_set_kid(rsa, "r");
    pd_key_set_kid(ec, "e");
    json_t *jr, *je;
    pd_key_to_jwk(rsa, &jr);
    pd_key_to_jwk(ec, &je);
    json_t *doc = json_pack("{s:[o,o,{s:s,s:s},{s:s,s:s},o]}", "keys", jr, je, "kty", "oct", "k",
                            "AAAA", "kty", "OKP", "crv", "Ed25519", rsa1024_jwk());
    struct pd_jwks s;
    pd_jwks_init(&s);
    size_t skipped = 9;
    assert_int_equal(pd_jwks_from_json(doc, &s, &skipped), PD_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(skipped, 3);
    assert_string_equal(pd_key_kid(s.keys[0]), "r");
    assert_string_equal(pd_key_kid(s.keys[1]), "e");
    json_t *out;
    assert_int_equal(pd_jwks_to_json(&s, &out), PD_OK);
    assert_int_equal(json_array_size(json_object_get(out, "keys")), 2);
    assert_true(json_equal(json_array_get(json_object_get(out, "keys"), 0),
                           json_array_get(json_object_get(doc, "keys"), 0)));
    json_decref(out);
    pd_jwks_cleanup(&s);
    json_decref(doc);

    pd_jwks_init(&s);
    doc = json_pack("{s:{}}", "keys");
    assert_int_equal(pd_jwks_from_json(doc, &s, NULL), PD_EINVAL);
    json_decref(doc);
    doc = json_array();
    assert_int_equal(pd_jwks_from_json(doc, &s, NULL), PD_EINVAL);
    json_decref(doc);
    doc = json_pack("{s:[]}", "keys");
    for (int i = 0; i <= PD_JWKS_MAX_KEYS; i++)
        json_array_append_new(json_object_get(doc, "keys"), json_object());
    assert_int_equal(pd_jwks_from_json(doc, &s, NULL), PD_EINVAL);
    json_decref(doc);
    pd_jwks_cleanup(&s);
    pd_key_free(rsa);
    pd_key_free(ec);
}

static void jose_b64_strict(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    unsigned char *out;
    size_t n;
    assert_int_equal(pd_jose_b64_decode(&a, "AQAB", 4, &out, &n), PD_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\x01\x00\x01", 3);
    assert_int_equal(pd_jose_b64_decode(&a, "-_8", 3, &out, &n), PD_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "\xfb\xff", 2);
    assert_int_equal(pd_jose_b64_decode(&a, "", 0, &out, &n), PD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pd_jose_b64_decode(&a, "AQ==", 4, &out, &n), PD_EINVAL); /* padding */
    assert_int_equal(pd_jose_b64_decode(&a, "AQ", 2, &out, &n), PD_OK);
    assert_int_equal(pd_jose_b64_decode(&a, "AR", 2, &out, &n), PD_EINVAL);    /* stray bits */
    assert_int_equal(pd_jose_b64_decode(&a, "+/8", 3, &out, &n), PD_EINVAL);   /* std alphabet */
    assert_int_equal(pd_jose_b64_decode(&a, "AQABA", 5, &out, &n), PD_EINVAL); /* 4k+1 */
    assert_int_equal(pd_jose_b64_decode(&a, "AQ B", 4, &out, &n), PD_EINVAL);
    assert_int_equal(pd_jose_b64_decode(&a, "AQ\0B", 4, &out, &n), PD_EINVAL);
    pd_arena_cleanup(&a);
}

/* ---- x509 ---- */

static X509 *parse_cert(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(x);
    return x;
}

static int ext_critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);
    assert_true(i >= 0);
    return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void check_serial(X509 *x)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
    assert_false(BN_is_negative(bn));
    assert_false(BN_is_zero(bn));
    assert_int_equal(BN_num_bytes(bn), 16);
    BN_free(bn);
}

static void days_between(X509 *x, int64_t now, int lo, int hi)
{
    int days, secs;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)),
                     1);
    assert_true(days >= lo && days <= hi);
    /* notBefore is in the past relative to now */
    assert_true(X509_cmp_time(X509_get0_notBefore(x), (time_t[]){(time_t)now}) < 0);
}

static void ca_fields(enum pd_key_kind kind, const char *key_type)
{
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = time(NULL);
    char *cert, *key;
    assert_int_equal(pd_x509_ca_new(kind, now, &a, &cert, &key), PD_OK);
    assert_true(pd_has_prefix(cert, "-----BEGIN CERTIFICATE-----\n"));
    assert_true(pd_has_prefix(key, "-----BEGIN PRIVATE KEY-----\n"));
    X509 *x = parse_cert(cert);
    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    check_serial(x);
    days_between(x, now, PD_X509_CA_DAYS, PD_X509_CA_DAYS + 1);
    assert_true(X509_get_extension_flags(x) & EXFLAG_CA);
    assert_true(X509_get_extension_flags(x) & EXFLAG_SS); /* self-signed */
    assert_int_equal(X509_check_ca(x), 1);
    assert_int_equal(ext_critical(x, NID_basic_constraints), 1);
    assert_int_equal(ext_critical(x, NID_key_usage), 1);
    assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_non_null(X509_get0_subject_key_id(x));
    assert_int_equal(
        ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x), X509_get0_authority_key_id(x)), 0);
    assert_true(EVP_PKEY_is_a(X509_get0_pubkey(x), key_type));
    assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
    assert_int_equal(X509_get_signature_nid(x), strcmp(key_type, "RSA") == 0
                                                    ? NID_sha256WithRSAEncryption
                                                    : NID_ecdsa_with_SHA256);
    char cn[128];
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    assert_true(pd_has_prefix(cn, "podiam local CA "));
    assert_int_equal(strlen(cn), strlen("podiam local CA ") + 8);
    /* the key matches */
    struct pd_key *k = NULL;
    assert_int_equal(pd_key_from_pem(key, strlen(key), PD_JWA_INVALID, &k), PD_OK);
    assert_int_equal(X509_check_private_key(x, pd_key_evp(k)), 1);
    pd_key_free(k);
    X509_free(x);
    pd_arena_cleanup(&a);
}

static void x509_ca(void **state)
{
    ca_fields(PD_KEY_EC_P256, "EC");
    ca_fields(PD_KEY_RSA_2048, "RSA");
}

/* Verify leaf against ca with OpenSSL's strict checks, as a TLS client would for host. */
static int verify_chain(const char *ca_pem, const char *leaf_pem, const char *host, const char *ip)
{
    X509 *ca = parse_cert(ca_pem), *leaf = parse_cert(leaf_pem);
    X509_STORE *st = X509_STORE_new();
    X509_STORE_add_cert(st, ca);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set_purpose(vp, X509_PURPOSE_SSL_SERVER);
    if (host)
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
    if (ip)
        X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
    int ok = X509_verify_cert(ctx);
    int err = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    X509_free(ca);
    X509_free(leaf);
    return ok == 1 ? 0 : err ? err : -1;
}

static void server_fields(enum pd_key_kind ca_kind, enum pd_key_kind kind)
{
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = time(NULL);
    char *ca, *cakey, *cert, *key;
    assert_int_equal(pd_x509_ca_new(ca_kind, now, &a, &ca, &cakey), PD_OK);
    const char *extra[] = {"s3.localhost",
                           "*.s3.localhost",
                           "10.1.2.3",
                           "localhost",
                           "ABCDEF.gr7.us-east-1.eks.amazonaws.com",
                           "fe80::1",
                           "*.S3.LOCALHOST"};
    assert_int_equal(pd_x509_server_new(ca, cakey, kind, extra, 7, now, &a, &cert, &key), PD_OK);
    assert_true(pd_has_prefix(key, "-----BEGIN PRIVATE KEY-----\n"));
    X509 *x = parse_cert(cert), *cx = parse_cert(ca);
    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    check_serial(x);
    days_between(x, now, PD_X509_SERVER_DAYS, PD_X509_SERVER_DAYS + 1);
    assert_true(PD_X509_SERVER_DAYS <= 398);
    assert_false(X509_get_extension_flags(x) & EXFLAG_CA);
    assert_int_equal(X509_check_ca(x), 0);
    assert_int_equal(ext_critical(x, NID_basic_constraints), 1);
    assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
    assert_true(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
    assert_int_equal(ext_critical(x, NID_subject_alt_name), 0);
    assert_int_equal(
        ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x), X509_get0_subject_key_id(cx)), 0);
    assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(cx)), 0);

    /* SAN list: defaults first, duplicates dropped (s3.localhost, *.s3.localhost, localhost
     * are defaults; *.S3.LOCALHOST repeats one ignoring case). */
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(g);
    assert_int_equal(sk_GENERAL_NAME_num(g), 6 + 3);
    GENERAL_NAME *g0 = sk_GENERAL_NAME_value(g, 0);
    assert_int_equal(g0->type, GEN_DNS);
    assert_memory_equal(ASN1_STRING_get0_data(g0->d.dNSName), "localhost", 9);
    GENERAL_NAMES_free(g);

    assert_int_equal(verify_chain(ca, cert, "localhost", NULL), 0);
    /* OpenSSL (like Node) refuses a wildcard over a single remaining label, so "*.localhost"
     * only serves Go clients; "*.s3.localhost" (3 labels) is what serves virtual-host S3. */
    assert_int_equal(verify_chain(ca, cert, "bucket.localhost", NULL),
                     X509_V_ERR_HOSTNAME_MISMATCH);
    assert_int_equal(verify_chain(ca, cert, "mybucket.s3.localhost", NULL), 0);
    assert_int_equal(verify_chain(ca, cert, "abcdef.gr7.us-east-1.eks.amazonaws.com", NULL), 0);
    assert_int_equal(verify_chain(ca, cert, NULL, "127.0.0.1"), 0);
    assert_int_equal(verify_chain(ca, cert, NULL, "::1"), 0);
    assert_int_equal(verify_chain(ca, cert, NULL, "10.1.2.3"), 0);
    assert_int_equal(verify_chain(ca, cert, "example.com", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
    assert_int_equal(verify_chain(ca, cert, "a.b.localhost", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
    assert_int_equal(verify_chain(ca, cert, NULL, "127.0.0.2"), X509_V_ERR_IP_ADDRESS_MISMATCH);

    /* another CA does not vouch for it */
    char *ca2, *ca2key;
    assert_int_equal(pd_x509_ca_new(ca_kind, now, &a, &ca2, &ca2key), PD_OK);
    assert_int_not_equal(verify_chain(ca2, cert, "localhost", NULL), 0);

    /* the key is the certificate's */
    struct pd_key *k = NULL;
    assert_int_equal(pd_key_from_pem(key, strlen(key), PD_JWA_INVALID, &k), PD_OK);
    assert_int_equal(X509_check_private_key(x, pd_key_evp(k)), 1);
    pd_key_free(k);
    X509_free(x);
    X509_free(cx);
    pd_arena_cleanup(&a);
}

static void x509_server(void **state)
{
    server_fields(PD_KEY_EC_P256, PD_KEY_EC_P256);
    server_fields(PD_KEY_RSA_2048, PD_KEY_RSA_2048);
    server_fields(PD_KEY_RSA_2048, PD_KEY_EC_P256);
}

/* The minter: one leaf per name, exact SAN, the shared key, verified by the CA and by no
 * other, refusing what is no DNS name; and fast (printed: leaf mint time). */
static void x509_minter_leaves(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = time(NULL);
    char *ca, *cakey, *ca2, *ca2key;
    assert_int_equal(pd_x509_ca_new(PD_KEY_EC_P256, now, &a, &ca, &cakey), PD_OK);
    assert_int_equal(pd_x509_ca_new(PD_KEY_EC_P256, now, &a, &ca2, &ca2key), PD_OK);
    struct pd_x509_minter *m = NULL;
    assert_int_equal(pd_x509_minter_new(ca, cakey, PD_KEY_EC_P256, &m), PD_OK);
    const char *kpem = pd_x509_minter_key_pem(m);
    assert_true(pd_has_prefix(kpem, "-----BEGIN PRIVATE KEY-----\n"));
    struct pd_key *k = NULL;
    assert_int_equal(pd_key_from_pem(kpem, strlen(kpem), PD_JWA_INVALID, &k), PD_OK);

    static const char *const names[] = {"sts.amazonaws.com", "s3-echoer-demo.s3.amazonaws.com",
                                        "oidc.eks.us-east-1.amazonaws.com",
                                        "my.dotted.bucket.s3.us-west-2.amazonaws.com"};
    char *first = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *cert = NULL;
        assert_int_equal(pd_x509_minter_leaf(m, names[i], now, &a, &cert), PD_OK);
        X509 *x = parse_cert(cert), *cx = parse_cert(ca);
        /* exactly one SAN, the name itself */
        GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
        assert_non_null(g);
        assert_int_equal(sk_GENERAL_NAME_num(g), 1);
        GENERAL_NAME *g0 = sk_GENERAL_NAME_value(g, 0);
        assert_int_equal(g0->type, GEN_DNS);
        assert_int_equal(ASN1_STRING_length(g0->d.dNSName), (int)strlen(names[i]));
        assert_memory_equal(ASN1_STRING_get0_data(g0->d.dNSName), names[i], strlen(names[i]));
        GENERAL_NAMES_free(g);
        char cn[128];
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
        assert_string_equal(cn, names[i]);
        check_serial(x);
        days_between(x, now, PD_X509_SERVER_DAYS, PD_X509_SERVER_DAYS + 1);
        assert_int_equal(X509_check_ca(x), 0);
        assert_int_equal(ext_critical(x, NID_basic_constraints), 1);
        assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
        assert_int_equal(
            ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x), X509_get0_subject_key_id(cx)), 0);
        /* the shared key is this leaf's key */
        assert_int_equal(X509_check_private_key(x, pd_key_evp(k)), 1);
        /* verifies for its name against the CA, strictly; for no other name; not by ca2 */
        assert_int_equal(verify_chain(ca, cert, names[i], NULL), 0);
        assert_int_equal(verify_chain(ca, cert, "localhost", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
        assert_int_equal(verify_chain(ca, cert, "x.sts.amazonaws.com", NULL),
                         X509_V_ERR_HOSTNAME_MISMATCH);
        assert_int_equal(verify_chain(ca, cert, NULL, "127.0.0.1"), X509_V_ERR_IP_ADDRESS_MISMATCH);
        assert_int_not_equal(verify_chain(ca2, cert, names[i], NULL), 0);
        if (!first)
            first = cert;
        else
            assert_string_not_equal(cert, first);
        X509_free(x);
        X509_free(cx);
    }
    /* a name longer than a CN may be: CN "podiam", the SAN still exact */
    char longname[200];
    snprintf(longname, sizeof longname, "%s.s3.amazonaws.com",
             "a-bucket-name-that-is-exactly-sixty-three-characters-long-xyzzy");
    char *cert = NULL;
    assert_int_equal(pd_x509_minter_leaf(m, longname, now, &a, &cert), PD_OK);
    assert_int_equal(verify_chain(ca, cert, longname, NULL), 0);
    /* refusals: no wildcard, no IP literal, no bad name */
    static const char *const bad[] = {
        "*.s3.amazonaws.com", "127.0.0.1", "::1", "", "a b", "a..b", "-a.com", "a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pd_x509_minter_leaf(m, bad[i], now, &a, &cert), PD_EINVAL);
    /* a key not of the CA */
    struct pd_x509_minter *m2 = NULL;
    assert_int_equal(pd_x509_minter_new(ca, ca2key, PD_KEY_EC_P256, &m2), PD_EINVAL);
    assert_int_equal(pd_x509_minter_new("junk", cakey, PD_KEY_EC_P256, &m2), PD_EINVAL);

    /* speed: the point of the shared key */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum { N = 200 };
    for (int i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "b%d.s3.amazonaws.com", i);
        assert_int_equal(pd_x509_minter_leaf(m, name, now, &a, &cert), PD_OK);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us =
        ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / N;
    print_message("leaf mint: %.0f us per certificate (EC P-256 CA, shared EC P-256 key)\n", us);
    assert_true(us < 20000); /* a key generation each (RSA) would be 50-500 ms */

    pd_key_free(k);
    pd_x509_minter_free(m);
    pd_arena_cleanup(&a);
}

static void x509_refusals(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = time(NULL);
    char *ca, *cakey, *ca2, *ca2key, *cert, *key;
    assert_int_equal(pd_x509_ca_new(PD_KEY_EC_P256, now, &a, &ca, &cakey), PD_OK);
    assert_int_equal(pd_x509_ca_new(PD_KEY_EC_P256, now, &a, &ca2, &ca2key), PD_OK);
    static const char *const bad[] = {
        "",  "a b",     "a,DNS:evil", "-a.com", "a-.com",  "a..com",       "*.",
        "*", "a.*.com", "*a.com",     "a.com.", "x_y.com", "\xc3\xa9.com", "1.2.3.4/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *n[] = {bad[i]};
        if (pd_x509_server_new(ca, cakey, PD_KEY_EC_P256, n, 1, now, &a, &cert, &key) != PD_EINVAL)
            fail_msg("name '%s' accepted", bad[i]);
    }
    assert_int_equal(pd_x509_name_kind("*.localhost"), 2);
    assert_int_equal(pd_x509_name_kind("::1"), 1);
    /* key of another CA, a leaf as CA, garbage */
    assert_int_equal(pd_x509_server_new(ca, ca2key, PD_KEY_EC_P256, NULL, 0, now, &a, &cert, &key),
                     PD_EINVAL);
    assert_int_equal(pd_x509_server_new(ca, cakey, PD_KEY_EC_P256, NULL, 0, now, &a, &cert, &key),
                     PD_OK);
    assert_int_equal(pd_x509_server_new(cert, key, PD_KEY_EC_P256, NULL, 0, now, &a, &ca2, &key),
                     PD_EINVAL);
    assert_int_equal(
        pd_x509_server_new("junk", cakey, PD_KEY_EC_P256, NULL, 0, now, &a, &cert, &key),
        PD_EINVAL);
    /* too many names */
    const char *many[PD_X509_MAX_NAMES + 1];
    for (size_t i = 0; i <= PD_X509_MAX_NAMES; i++)
        many[i] = "x.localhost";
    assert_int_equal(pd_x509_server_new(ca, cakey, PD_KEY_EC_P256, many, PD_X509_MAX_NAMES + 1, now,
                                        &a, &cert, &key),
                     PD_EINVAL);
    pd_arena_cleanup(&a);
}

static void x509_thumbprint(void **state)
{
    size_t len;
    char *pem = slurp("cert-ec.pem", &len);
    char hex[41];
    assert_int_equal(pd_x509_sha1_thumbprint(pem, len, hex), PD_OK);
    assert_string_equal(hex, "536b5afc95b47ddfb415361a4abe646c1b4fd97a");
    assert_int_equal(pd_x509_sha1_thumbprint("nope", 4, hex), PD_EINVAL);
    free(pem);
}

/* ---- seal ---- */

static const unsigned char key0[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                       11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                       22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static void seal_round_trip(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    const char *msg = "{\"akid\":\"ASIAEXAMPLE\",\"arn\":\"arn:aws:sts::000000000000:assumed-"
                      "role/r/s\",\"exp\":1700000000}";
    unsigned char *s1, *s2, *pt;
    size_t n1, n2, ptn;
    assert_int_equal(pd_seal(key0, "sts", 3, msg, strlen(msg), &a, &s1, &n1), PD_OK);
    assert_int_equal(n1, strlen(msg) + PD_SEAL_OVERHEAD);
    assert_int_equal(s1[0], PD_SEAL_VERSION);
    assert_int_equal(pd_seal(key0, "sts", 3, msg, strlen(msg), &a, &s2, &n2), PD_OK);
    assert_memory_not_equal(s1, s2, n1); /* fresh nonce each time */
    assert_int_equal(pd_unseal(key0, "sts", 3, s1, n1, &a, &pt, &ptn), PD_OK);
    assert_int_equal(ptn, strlen(msg));
    assert_string_equal((char *)pt, msg);
    assert_null(memmem(s1, n1, "ASIAEXAMPLE", 11)); /* it is encrypted */
    /* empty plaintext and no aad */
    assert_int_equal(pd_seal(key0, NULL, 0, "", 0, &a, &s2, &n2), PD_OK);
    assert_int_equal(n2, PD_SEAL_OVERHEAD);
    assert_int_equal(pd_unseal(key0, NULL, 0, s2, n2, &a, &pt, &ptn), PD_OK);
    assert_int_equal(ptn, 0);
    /* size bound */
    char *big = pd_xcalloc(1, PD_SEAL_MAX_PLAINTEXT + 1);
    assert_int_equal(pd_seal(key0, NULL, 0, big, PD_SEAL_MAX_PLAINTEXT + 1, &a, &s2, &n2),
                     PD_ETOOBIG);
    free(big);
    pd_arena_cleanup(&a);
}

static void seal_tamper(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    const char *msg = "session record";
    unsigned char *s, *pt = NULL, *copy;
    size_t n, ptn = 0;
    assert_int_equal(pd_seal(key0, "ctx", 3, msg, strlen(msg), &a, &s, &n), PD_OK);
    copy = pd_arena_alloc(&a, n + 1);
    /* every bit of every byte */
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, s, n);
            copy[i] ^= (unsigned char)(1u << bit);
            int rc = pd_unseal(key0, "ctx", 3, copy, n, &a, &pt, &ptn);
            if (rc == PD_OK)
                fail_msg("flip of byte %zu bit %d accepted", i, bit);
            assert_int_equal(rc, i == 0 ? PD_EINVAL : PD_ESIG);
        }
    }
    /* every truncation, and one byte more */
    for (size_t len = 0; len < n; len++)
        assert_int_not_equal(pd_unseal(key0, "ctx", 3, s, len, &a, &pt, &ptn), PD_OK);
    memcpy(copy, s, n);
    copy[n] = 0;
    assert_int_equal(pd_unseal(key0, "ctx", 3, copy, n + 1, &a, &pt, &ptn), PD_ESIG);
    /* wrong key, wrong or missing aad */
    unsigned char key1[32];
    memcpy(key1, key0, 32);
    key1[31] ^= 1;
    assert_int_equal(pd_unseal(key1, "ctx", 3, s, n, &a, &pt, &ptn), PD_ESIG);
    assert_int_equal(pd_unseal(key0, "cty", 3, s, n, &a, &pt, &ptn), PD_ESIG);
    assert_int_equal(pd_unseal(key0, NULL, 0, s, n, &a, &pt, &ptn), PD_ESIG);
    assert_null(pt); /* never written on failure */
    assert_int_equal(pd_unseal(key0, "ctx", 3, s, n, &a, &pt, &ptn), PD_OK);
    pd_arena_cleanup(&a);
}

static void derive_secret(void **state)
{
    char s1[41], s2[41];
    /* pinned: HMAC-SHA256(key0, "podiam/secret/v1:ASIAEXAMPLE123456789")[0:30], base64 */
    assert_int_equal(pd_derive_secret(key0, "ASIAEXAMPLE123456789", s1), PD_OK);
    assert_string_equal(s1, "2gMauDhJy1gc2LT97adPMpDtP0Cw7addeTvBFrLB");
    assert_int_equal(strlen(s1), 40);
    assert_int_equal(pd_derive_secret(key0, "ASIAEXAMPLE123456780", s2), PD_OK);
    assert_string_not_equal(s1, s2);
    for (int i = 0; i < 40; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s2[i]));
    unsigned char sub[32];
    assert_int_equal(pd_derive_key(key0, "sts-seal", sub), PD_OK);
    assert_memory_equal(sub,
                        "\x6e\x8f\xd0\xfb\x0c\xe8\x24\xf1\x6c\x37\x40\x00\x30\x4e\xeb\x2d"
                        "\x01\x8e\x8a\x94\x5f\x7c\xd0\x7c\xac\x16\x4d\x24\x6f\x30\x86\x4d",
                        32);
    unsigned char r1[32] = {0}, r2[32] = {0};
    assert_int_equal(pd_random_bytes(r1, sizeof r1), PD_OK);
    assert_int_equal(pd_random_bytes(r2, sizeof r2), PD_OK);
    assert_memory_not_equal(r1, r2, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jwk_thumbprint_rfc7638),
        cmocka_unit_test(kid_rules_fixed_keys),
        cmocka_unit_test(refused_pem),
        cmocka_unit_test(pem_round_trips),
        cmocka_unit_test(jwk_export_rsa_shape),
        cmocka_unit_test(jwk_import_strict),
        cmocka_unit_test(jwks_set),
        cmocka_unit_test(jose_b64_strict),
        cmocka_unit_test(x509_ca),
        cmocka_unit_test(x509_server),
        cmocka_unit_test(x509_refusals),
        cmocka_unit_test(x509_minter_leaves),
        cmocka_unit_test(x509_thumbprint),
        cmocka_unit_test(seal_round_trip),
        cmocka_unit_test(seal_tamper),
        cmocka_unit_test(derive_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
