/*
 * fuzz_oidc_remote.c - libFuzzer target: an external issuer's discovery document and JWK set
 * as podiam reads them (services/oidc_remote.c), from arbitrary bytes.
 *
 * Invariants beyond "no crash": an accepted discovery document names exactly the issuer and an
 * https (or, when allowed, loopback http) jwks_uri; an accepted JWK set holds 1..100 public keys.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"
#include "crypto/keys.h"
#include "services/httpc.h"
#include "services/oidc_remote.h"

#define ISS "https://idp.example.com/realms/ci"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    for (int allow = 0; allow < 2; allow++) {
        char *uri = NULL;
        const char *why = NULL;
        int rc = pd_oidc_remote_parse_discovery(text, size, ISS, allow, &uri, &why);
        if (rc == PD_OK) {
            if (!uri || strlen(uri) > 2048 ||
                !(pd_has_prefix(uri, "https://") || (allow && pd_httpc_is_loopback_http(uri))))
                abort();
            free(uri);
        } else if (!why || uri) {
            abort();
        }
    }
    struct pd_jwks s;
    pd_jwks_init(&s);
    size_t skipped = 0;
    const char *why = NULL;
    if (pd_oidc_remote_parse_jwks(text, size, &s, &skipped, &why) == PD_OK) {
        if (s.n < 1 || s.n > PD_JWKS_MAX_KEYS)
            abort();
        for (size_t i = 0; i < s.n; i++)
            if (pd_key_has_private(s.keys[i]))
                abort();
    } else if (!why) {
        abort();
    }
    pd_jwks_cleanup(&s);
    return 0;
}
