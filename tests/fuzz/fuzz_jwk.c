/*
 * fuzz_jwk.c - libFuzzer target: JWK and JWK set import from arbitrary JSON text.
 *
 * Invariants beyond "no crash": an imported key is public only, carries an algorithm that fits
 * it, and survives export -> import unchanged (same RFC 7638 thumbprint, same SPKI kid, same
 * alg and kid).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "crypto/keys.h"

static void round_trip(const struct pd_key *k)
{
    if (pd_key_has_private(k) || pd_jwa_name(pd_key_alg(k)) == NULL)
        abort();
    json_t *j = NULL;
    struct pd_key *back = NULL;
    if (pd_key_to_jwk(k, &j) != PD_OK || pd_key_from_jwk(j, &back) != PD_OK)
        abort();
    char t1[PD_KID_LEN + 1], t2[PD_KID_LEN + 1], s1[PD_KID_LEN + 1], s2[PD_KID_LEN + 1];
    if (pd_key_thumbprint(k, PD_KID_JWK_THUMBPRINT, t1) ||
        pd_key_thumbprint(back, PD_KID_JWK_THUMBPRINT, t2) ||
        pd_key_thumbprint(k, PD_KID_SPKI_SHA256, s1) ||
        pd_key_thumbprint(back, PD_KID_SPKI_SHA256, s2))
        abort();
    if (strcmp(t1, t2) != 0 || strcmp(s1, s2) != 0 || pd_key_alg(k) != pd_key_alg(back))
        abort();
    const char *k1 = pd_key_kid(k), *k2 = pd_key_kid(back);
    if ((k1 == NULL) != (k2 == NULL) || (k1 && strcmp(k1, k2) != 0))
        abort();
    pd_key_free(back);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_key *k = NULL;
    if (pd_key_from_jwk_text((const char *)data, size, &k) == PD_OK) {
        round_trip(k);
        pd_key_free(k);
    }
    /* the same bytes as a JWK set document */
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (doc) {
        struct pd_jwks s;
        size_t skipped = 0;
        pd_jwks_init(&s);
        if (pd_jwks_from_json(doc, &s, &skipped) == PD_OK) {
            for (size_t i = 0; i < s.n; i++)
                round_trip(s.keys[i]);
            json_t *out = NULL;
            if (pd_jwks_to_json(&s, &out) != PD_OK)
                abort();
            json_decref(out);
        }
        pd_jwks_cleanup(&s);
        json_decref(doc);
    }
    return 0;
}
