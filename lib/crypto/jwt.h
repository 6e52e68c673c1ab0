/*
 * jwt.h - JSON Web Tokens (JWS compact form) signed and verified with podiam's keys.
 *
 * Signs the projected service-account tokens a cluster's OIDC issuer hands out, and verifies
 * web identity tokens for sts:AssumeRoleWithWebIdentity against an issuer's JWK set.
 *
 * The rule that matters: the verification algorithm comes from the key (struct pd_key's pinned
 * alg), never from the token. A token whose header alg differs from its key's alg is refused;
 * "none", HMAC (HS*) and anything else not in enum pd_jwa are refused before any key is looked
 * at. Tokens are parsed strictly: three segments, JOSE base64url (no padding, no stray bits),
 * header and payload JSON objects with no duplicate member names, no "crit" header, at most
 * PD_JWT_MAX_LEN bytes.
 *
 * crypto/jwt.c is the only file in podiam allowed to include <jwt.h> (libjwt); see its header
 * comment for why it does not.
 */
#ifndef PD_CRYPTO_JWT_H
#define PD_CRYPTO_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"

struct pd_arena;

#define PD_JWT_MAX_LEN                                                                             \
    20000 /* bytes; the STS model bounds WebIdentityToken (clientTokenType) so                     \
           */

/* Why a token was refused. pd_jwt_reason_str gives a short English phrase for logs. */
enum pd_jwt_reason {
    PD_JWT_OK = 0,
    PD_JWT_TOO_BIG,         /* longer than PD_JWT_MAX_LEN */
    PD_JWT_MALFORMED,       /* not header.payload.signature of base64url JSON objects */
    PD_JWT_ALG_NONE,        /* alg "none": unsigned token */
    PD_JWT_ALG_UNSUPPORTED, /* alg missing, HS*, PS*, or unknown */
    PD_JWT_CRIT,            /* a "crit" header: extensions we do not implement */
    PD_JWT_UNKNOWN_KID,     /* no key in the set has the token's kid */
    PD_JWT_ALG_MISMATCH,    /* the key with that kid is pinned to another algorithm */
    PD_JWT_BAD_SIGNATURE,   /* missing, malformed or wrong signature */
    PD_JWT_BAD_TIME,        /* exp, nbf or iat present but not an integer NumericDate >= 0 */
    PD_JWT_MISSING_EXP,     /* time check asked for and no exp claim */
    PD_JWT_EXPIRED,         /* now >= exp */
    PD_JWT_NOT_YET_VALID,   /* now < nbf */
};

const char *pd_jwt_reason_str(enum pd_jwt_reason r); /* never NULL */

/* Sign claims (a JSON object) with key, which must hold a private part. Header
 * {"alg":<key's alg>,"kid":<key's kid>} (kid omitted when the key has none); header and claims
 * are serialised compactly with members sorted, as kube-apiserver (go-jose) does, so a token
 * looks like a real projected service-account token. The token is arena-owned.
 * Returns PD_OK, PD_EINVAL (claims not an object, public-only key) or PD_EINTERNAL. */
int pd_jwt_sign(const struct pd_key *key, const json_t *claims, struct pd_arena *a,
                char **OUT_token);

/* Verify token (len bytes, need not be NUL-terminated) against jwks.
 * Key choice: the keys whose kid equals the header's kid; a token without kid matches only a
 * set holding exactly one key. Among them, only keys pinned to the header's alg are tried.
 * Time claims: exp/nbf/iat must be integer NumericDates when present (always checked). When
 * now >= 0 (Unix seconds) exp is also required and must be > now, and nbf, when present, <= now,
 * with no leeway; pass now = -1 to check times yourself (pd_jwt_times).
 * On PD_OK *OUT_claims and (when OUT_header is not NULL) *OUT_header are new references the
 * caller json_decref()s. On failure they are untouched and *OUT_reason says why.
 * Returns PD_OK; PD_ETOOBIG (TOO_BIG); PD_EINVAL (MALFORMED, CRIT, BAD_TIME); PD_ENOTFOUND
 * (UNKNOWN_KID, so the caller can answer with AWS's "Couldn't retrieve verification key from
 * your identity provider" message); PD_ESIG (every other reason). */
int pd_jwt_verify(const char *token, size_t len, const struct pd_jwks *jwks, int64_t now,
                  json_t **OUT_claims, json_t **OUT_header, enum pd_jwt_reason *OUT_reason);

/* Parse header and claims WITHOUT checking the signature, with the same structural rules and
 * the same alg screening as pd_jwt_verify. Only for choosing what to verify with (the "iss"
 * names the OIDC provider and so the JWK set); never trust the claims it returns. Same
 * ownership and return codes as pd_jwt_verify, minus the key and time reasons. */
int pd_jwt_decode_unverified(const char *token, size_t len, json_t **OUT_claims,
                             json_t **OUT_header, enum pd_jwt_reason *OUT_reason);

/* The same two steps with the token parsed once, for a caller that reads the unverified
 * claims to choose the key set (the "iss" names the provider) and then verifies:
 * pd_jwt_parse (the structural rules and alg screening; PD_OK or the codes above, *OUT NULL
 * on failure), pd_jwt_unverified_claims (borrowed; never trust them), pd_jwt_check (exactly
 * pd_jwt_verify's key choice, signature and time checks, returns and ownership), pd_jwt_free.
 * token must stay unchanged until pd_jwt_check returns. */
struct pd_jwt;
int pd_jwt_parse(const char *token, size_t len, struct pd_jwt **OUT,
                 enum pd_jwt_reason *OUT_reason);
const json_t *pd_jwt_unverified_claims(const struct pd_jwt *t);
int pd_jwt_check(struct pd_jwt *t, const struct pd_jwks *jwks, int64_t now, json_t **OUT_claims,
                 json_t **OUT_header, enum pd_jwt_reason *OUT_reason);
void pd_jwt_free(struct pd_jwt *t);

/* Time claims of a claims object. */
struct pd_jwt_times {
    int has_exp, has_nbf, has_iat;
    int64_t exp, nbf, iat; /* Unix seconds; 0 when absent */
};

/* Extract exp, nbf and iat. Each must be absent or a JSON integer >= 0 (1.7e9, "1700000000"
 * and 1700000000.5 are refused, as AWS requires integer NumericDates). Returns PD_OK or
 * PD_EINVAL. */
int pd_jwt_times(const json_t *claims, struct pd_jwt_times *OUT);

#endif
