/*
 * fuzz_jwt.c - libFuzzer target: pd_jwt_verify and pd_jwt_decode_unverified on arbitrary bytes
 * against a fixed JWK set (the public halves of tests/data/crypto/rsa2048-pkcs1.pem, kid "rsa1",
 * and ec-p256.pem, kid "ec1"; the corpus holds tokens they signed).
 *
 * Invariants checked beyond "no crash": a verified token has object claims and header; the
 * reason and return code agree; verification never succeeds for a token whose header alg is
 * not the alg of the key it names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"

static const char jwks_text[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":"
    "\"rEePtWKXfhiZss"
    "XKn_-FnWph6nb5IUIDtYTyzDk-3gbp9NeREAAnf2LvzFooJ_endPfdS1mVg_LX1JcfT5mOB_FxG_dGWt"
    "i1PRNG6HdApK26KR5rK0MPHnChFdsQBDobxYJqSYTf0oelp5eQ5U46x8RZbO2Ywm3Odj_Aa0qvBKSjAc"
    "4d-J9tQT_wQKZlC2RnpaIRiYq5sGWjHIu3LGBcwt4QO0_krS1-rGAmuiRgsfmaVxikjmpt8DA_-3LOWy"
    "mx-txW9fPzjl4LJFed6OMbgZMVXAk8TJFJt1pqLWRw6CgCI9g3bmOBgcuuRd9UOdCNN7fA8QDR95hvUi"
    "YVLyYpEw\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"ec1\",\"use\":\"sig\",\"alg\":\"ES256\","
    "\"crv\":\"P"
    "-256\",\"x\":\"LKPxx2W-kYfXg-XZSQCz2X3iH5ZVerbwXUHmmMgFYOo\",\"y\":\"UKUwdj-wdz33Fufeof9"
    "Bbv2LAvSKIkMuWynNy3OmaCY\"}]}";

static struct pd_jwks jwks;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    json_t *doc = json_loads(jwks_text, 0, NULL);
    size_t skipped = 0;
    pd_jwks_init(&jwks);
    if (!doc || pd_jwks_from_json(doc, &jwks, &skipped) != PD_OK || jwks.n != 2 || skipped)
        abort();
    json_decref(doc);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *claims = NULL, *header = NULL;
    enum pd_jwt_reason r;
    int rc = pd_jwt_verify((const char *)data, size, &jwks, -1, &claims, &header, &r);
    if ((rc == PD_OK) != (r == PD_JWT_OK))
        abort();
    if (rc == PD_OK) {
        if (!json_is_object(claims) || !json_is_object(header))
            abort();
        const char *alg = json_string_value(json_object_get(header, "alg"));
        const char *kid = json_string_value(json_object_get(header, "kid"));
        int pinned = 0;
        for (size_t i = 0; i < jwks.n; i++)
            if (kid && pd_key_kid(jwks.keys[i]) && strcmp(kid, pd_key_kid(jwks.keys[i])) == 0 &&
                alg && strcmp(alg, pd_jwa_name(pd_key_alg(jwks.keys[i]))) == 0)
                pinned = 1;
        if (!pinned)
            abort();
        struct pd_jwt_times t;
        if (pd_jwt_times(claims, &t) != PD_OK)
            abort(); /* verify already checked the time claim types */
    }
    json_decref(claims);
    json_decref(header);
    claims = header = NULL;
    rc = pd_jwt_decode_unverified((const char *)data, size, &claims, &header, &r);
    if (rc == PD_OK && (!json_is_object(claims) || !json_is_object(header)))
        abort();
    json_decref(claims);
    json_decref(header);
    return 0;
}
