/*
 * token.h - decoding a JWT for display (podiamctl handshake): header and claims without any
 * check beyond "base64url of JSON", so a broken token can still be shown and explained, and
 * time claims rendered for people. Pure. Never used to trust a token: the handshake verifies
 * with crypto/jwt.h.
 */
#ifndef PDC_TOKEN_H
#define PDC_TOKEN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pd_arena;

struct pdc_token {
    json_t *header;     /* new reference or NULL */
    json_t *claims;     /* new reference or NULL */
    size_t sig_len;     /* bytes of the decoded signature (0: unsigned) */
    const char *reason; /* why it could not be decoded, or NULL (arena) */
};

/* Split token (surrounding white space ignored) and decode its parts. Returns PD_OK or
 * PD_EINVAL with OUT->reason; header/claims are set for the parts that decoded. */
int pdc_token_decode(struct pd_arena *a, const char *token, struct pdc_token *OUT);
void pdc_token_free(struct pdc_token *t);

/* "2026-11-27T03:00:00Z (in 59m58s)" / "(3m ago)" relative to now (Unix seconds). */
const char *pdc_time_rel(struct pd_arena *a, int64_t t, int64_t now);

/* The token's aud as a list (string or array; other types ignored); new reference. */
json_t *pdc_token_aud(const json_t *claims);

#endif
