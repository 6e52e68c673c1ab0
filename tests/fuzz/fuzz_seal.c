/*
 * fuzz_seal.c - libFuzzer target: the session-token layer a client controls, the
 * X-Amz-Security-Token value: base64 decoding (core/str) and pd_unseal (crypto/seal) under a
 * fixed key, as auth/creds.c does before trusting anything in a token. Properties checked
 * (abort when broken): arbitrary bytes never open (they would need the key); what pd_seal
 * makes of the input opens to exactly the input, and with any one byte flipped it does not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[PD_SEAL_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const char aad[] = "sts-session";
    struct pd_arena a;
    pd_arena_init(&a);
    unsigned char *raw, *pt, *sealed;
    size_t n, ptn, sn;
    /* a token as the client sends it */
    if (pd_base64_decode(&a, (const char *)data, size, &raw, &n) == PD_OK &&
        pd_unseal(key, aad, sizeof aad - 1, raw, n, &a, &pt, &ptn) == PD_OK)
        abort(); /* forged without the key */
    if (pd_unseal(key, aad, sizeof aad - 1, data, size, &a, &pt, &ptn) == PD_OK)
        abort();
    /* round trip and tamper */
    if (size <= PD_SEAL_MAX_PLAINTEXT &&
        pd_seal(key, aad, sizeof aad - 1, data, size, &a, &sealed, &sn) == PD_OK) {
        if (pd_unseal(key, aad, sizeof aad - 1, sealed, sn, &a, &pt, &ptn) != PD_OK ||
            ptn != size || (size && memcmp(pt, data, size)) || pt[ptn] != '\0')
            abort();
        size_t at = size ? data[0] % sn : 0;
        sealed[at] ^= 0x40;
        if (pd_unseal(key, aad, sizeof aad - 1, sealed, sn, &a, &pt, &ptn) == PD_OK)
            abort();
    }
    pd_arena_cleanup(&a);
    return 0;
}
