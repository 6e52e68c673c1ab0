/*
 * creds.h - access keys to principals, and the STS session tokens that carry sessions.
 *
 * Long-term keys (the account roots' and IAM users' AKIA keys) live in the store. Temporary
 * keys (ASIA…) live nowhere: the session token is the session record sealed under the
 * server's key (auth/secrets.h), and the secret access key is an HMAC of the access key id,
 * so resolving one needs no database and minting one writes nothing. Both directions of that
 * format live here and only here.
 */
#ifndef PD_AUTH_CREDS_H
#define PD_AUTH_CREDS_H

#include <jansson.h>
#include <stdint.h>

#include "auth/principal.h"

struct pd_db;
struct pd_arena;
struct pd_secrets;

enum pd_creds_fail {
    PD_CREDS_OK = 0,
    PD_CREDS_UNKNOWN_KEY,   /* no such access key (or an inactive one) */
    PD_CREDS_TOKEN_MISSING, /* an ASIA key without a session token */
    PD_CREDS_TOKEN_INVALID, /* token does not open, or belongs to another key */
    PD_CREDS_TOKEN_EXPIRED, /* the session has expired */
};

/* Resolve akid (+ the request's session token, or NULL) at now_ms. On success fills *OUT
 * (arena strings) and *OUT_secret (the secret access key, arena-owned) and returns PD_OK;
 * otherwise returns PD_ESIG with *OUT_why saying which case it was (PD_EIO on database
 * trouble). */
int pd_creds_resolve(struct pd_db *db, const struct pd_secrets *sec, struct pd_arena *a,
                     const char *akid, const char *session_token, int64_t now_ms,
                     struct pd_principal *OUT, const char **OUT_secret,
                     enum pd_creds_fail *OUT_why);

/* Freshly minted temporary credentials (arena strings). */
struct pd_creds_minted {
    const char *access_key_id; /* ASIA… */
    const char *secret_access_key;
    const char *session_token;
    int64_t expires_ms;
};

/*
 * Mint temporary credentials for a session. who describes the session's principal (kind,
 * account, arn, user_id, name, path, unique_id, role_arn, session_name); extra is an object
 * of further session facts carried verbatim in the token (session policies, tags, source
 * identity, web-identity claims; may be NULL). akid_random: 16 characters for the key id
 * after "ASIA" (from the seeded id generator). The record gets the issue and expiry times.
 * Returns PD_OK, or PD_ETOOBIG when the record is too large to seal.
 */
int pd_creds_mint(const struct pd_secrets *sec, struct pd_arena *a, const struct pd_principal *who,
                  const json_t *extra, const char *akid, int64_t now_ms, int64_t duration_s,
                  struct pd_creds_minted *OUT);

/* Record that who's long-term access key (AKIA..., or the root key) was used for service in
 * region, as GetAccessKeyLastUsed reports it: not to the second, but written when the last
 * record is a minute old or names another service or region, so most requests only read.
 * Runs inside the request's transaction; a write that cannot get the lock is dropped.
 * Temporary credentials (ASIA...) have no record. */
void pd_creds_note_use(struct pd_db *db, struct pd_arena *a, const struct pd_principal *who,
                       int64_t now_ms, const char *region, const char *service);

/* The extra session facts of a temporary principal (what pd_creds_mint stored): a new
 * reference the caller releases with json_decref, or NULL (not temporary, or none). */
json_t *pd_creds_session_extra(const struct pd_principal *who);

#endif
