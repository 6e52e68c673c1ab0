/*
 * sts.h - what other services use of STS: minting temporary credentials for a session
 * (AssumeRole* here, eks-auth for pod identity) and its error codes.
 */
#ifndef PD_SERVICES_STS_H
#define PD_SERVICES_STS_H

#include <jansson.h>
#include <stdint.h>

#include "req.h"

#define PD_AWSERR(name, code, status, fault) extern const struct pd_awserr STS_##name;
#include "services/sts_errors.def"
#undef PD_AWSERR

/* Mint credentials for session (its principal fields), carrying extra facts, valid for
 * duration_s. On success *OUT_credentials is the model's Credentials structure (new
 * reference). Returns PD_OK or PD_EAWS (error set on r). */
int pd_sts_mint(struct pd_req *r, const struct pd_principal *session, const json_t *extra,
                int64_t duration_s, json_t **OUT_credentials);

struct pd_iam_role;

/* A session of role for an AWS service that already checked the role's trust policy (EKS
 * Pod Identity): role_arn resolved to role (pd_sts_role_of_arn), session name, duration,
 * session tags (object key -> value, borrowed; every key transitive when transitive is 1),
 * an inline session policy or NULL, chained when the session is a second hop. Fills
 * *OUT_credentials (the model's Credentials, new reference) and *OUT_session (arena
 * strings). PD_OK or PD_EAWS (error set, STS's codes). r->out is left untouched. */
int pd_sts_service_session(struct pd_req *r, const struct pd_iam_role *role, const char *session,
                           int64_t duration_s, json_t *tags, int transitive, const char *policy,
                           int chained, json_t **OUT_credentials, struct pd_principal *OUT_session);

/* The IAM role an ARN names (path included): PD_OK, PD_ENOTFOUND, PD_EINVAL (not a role
 * ARN). */
int pd_sts_role_of_arn(struct pd_req *r, const char *arn, struct pd_iam_role *OUT);

/* Record a refused web identity or pod identity token in the decision log (decision
 * "invalidToken", the request's error as its message, detail: what was checked, stolen) and
 * set r->decision_id. principal: the token's issuer, or NULL. */
void pd_sts_token_decision(struct pd_req *r, const char *principal, json_t *detail);

/* ---- outbound identity federation (sts_outbound.c) ---- */

struct pd_db;
struct pd_arena;
struct pd_env;
struct pd_jwks;

/* An account's outbound federation, once enabled (arena strings). */
struct pd_sts_outbound {
    const char *issuer; /* https://UUID.tokens.sts.global.api.aws */
    int enabled;
};

/* PD_OK, or PD_ENOTFOUND when the account never enabled it. */
int pd_sts_outbound_get(struct pd_db *db, struct pd_arena *a, const char *account,
                        struct pd_sts_outbound *OUT);
/* Enable (making the issuer and its keys the first time) or disable the account's outbound
 * federation; *OUT_issuer (may be NULL) is the issuer. In the caller's write transaction.
 * PD_OK or a store error. */
int pd_sts_outbound_set(struct pd_env *env, struct pd_db *db, struct pd_arena *a,
                        const char *account, int enable, const char **OUT_issuer);
/* The published keys of an outbound issuer (kids RSA_0 and EC384_0), appended to s.
 * PD_ENOTFOUND when issuer is no account's. */
int pd_sts_outbound_jwks(struct pd_env *env, struct pd_db *db, struct pd_arena *a,
                         const char *issuer, struct pd_jwks *s);
/* Is issuer an account's outbound issuer? 1 / 0. */
int pd_sts_outbound_is_issuer(struct pd_db *db, const char *issuer);

/* An access key id (prefix "ASIA" or "AKIA" + 16 base32 characters) that encodes account
 * as AWS's do, so GetAccessKeyInfo can read it back; the rest is random. */
struct pd_ids;
void pd_sts_key_id(struct pd_ids *ids, const char *prefix, const char *account, char OUT[21]);
/* The account an access key id of that layout encodes (12 digits). PD_OK or PD_EINVAL (not
 * 20+ characters of prefix and base32). */
int pd_sts_key_account(const char *akid, char OUT[13]);

#endif
