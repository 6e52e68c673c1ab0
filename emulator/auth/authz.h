/*
 * authz.h - what authorization needs from the state: the caller's policies, compiled.
 *
 * Gathers, for a principal, the identity policies (a user's inline and attached policies and
 * those of its groups; a role's), its permissions boundary, the session policies a
 * temporary session carries, and the principal tags; every document comes compiled from
 * the shared policy cache. The decision itself is the policy engine's (auth/policy.h); the
 * request glue (which action, which resource, which context) is emulator/authorize.c.
 */
#ifndef PD_AUTH_AUTHZ_H
#define PD_AUTH_AUTHZ_H

#include <stddef.h>

#include "auth/policy.h"
#include "auth/policy_cache.h"
#include "auth/principal.h"

struct pd_db;
struct pd_arena;

/* The caller's policies, held from the cache until pd_authz_caller_release. */
struct pd_authz_caller {
    struct pd_principal_id id;      /* the engine's view of the caller */
    struct pd_policy_ref *identity; /* arena array */
    size_t nidentity;
    struct pd_policy_ref boundary; /* .policy NULL: no boundary */
    struct pd_policy_ref *session; /* session policies (inline first, then PolicyArns) */
    size_t nsession;
    struct pd_cached_policy **held; /* references to release */
    size_t nheld;
};

/* Load and compile everything that applies to who (arena-owned arrays), and add the
 * principal's condition keys (aws:PrincipalArn…, aws:PrincipalTag/…) to ctx. A stored
 * document that no longer compiles is skipped and logged (it was valid when written).
 * Returns PD_OK or PD_EIO. */
int pd_authz_caller_load(struct pd_db *db, struct pd_arena *a, struct pd_policy_cache *cache,
                         const struct pd_principal *who, struct pd_ctx *ctx,
                         struct pd_authz_caller *OUT);
void pd_authz_caller_release(struct pd_policy_cache *cache, struct pd_authz_caller *c);

/* The engine's view of a principal (no store access). */
void pd_authz_principal_id(struct pd_arena *a, const struct pd_principal *who,
                           struct pd_principal_id *OUT);

/* A managed policy's default document by ARN (customer or AWS managed), or PD_ENOTFOUND. */
int pd_authz_managed_document(struct pd_db *db, struct pd_arena *a, const char *account,
                              const char *arn, const char **OUT_text);

#endif
