/*
 * orgs.h - what AWS Organizations adds to one request's authorization: the organization
 * condition keys, the SCPs of the caller's account and the RCPs of the resource's account,
 * level by level, compiled.
 *
 * Rules (Organizations User Guide, "SCP evaluation", "RCP evaluation", "Resource control
 * policies"): SCPs apply to the IAM users, roles and root user of member accounts while the
 * SERVICE_CONTROL_POLICY type is enabled, never to the management account nor to
 * service-linked roles; RCPs apply, for the services that support them, to every request on a
 * resource of a member account (whoever calls, anonymous callers too) while the
 * RESOURCE_CONTROL_POLICY type is enabled, never to the management account's resources nor
 * to requests by service-linked roles. The decision is the policy engine's; this module only
 * gathers. Reads the store; holds policies from the cache until pd_authz_org_release.
 */
#ifndef PD_AUTH_ORGS_H
#define PD_AUTH_ORGS_H

#include <stddef.h>

#include "auth/policy.h"
#include "auth/policy_cache.h"

struct pd_db;
struct pd_arena;

struct pd_authz_org {
    struct pd_org_level *scp; /* the caller's account: root first, the account last */
    size_t nscp;
    struct pd_org_level *rcp; /* the resource's account, likewise */
    size_t nrcp;
    struct pd_cached_policy **held; /* references to release */
    size_t nheld, capheld;
};

/* Gather for a caller (who; role_arn of a role session, to tell service-linked roles) and the
 * account that owns the resource (NULL: no resource account is known, and no RCP applies).
 * Adds aws:PrincipalOrgID and aws:PrincipalOrgPaths (the caller's account in an
 * organization), aws:ResourceAccount, aws:ResourceOrgID and aws:ResourceOrgPaths (the
 * resource's account, or the caller's when resource_account is NULL), and aws:SourceOrgID /
 * aws:SourceOrgPaths when ctx holds aws:SourceAccount. rcp_action: an action of the request,
 * whose service decides whether RCPs are gathered (pd_authz_org_rcp_covers). A stored policy
 * that no longer compiles stands for one that allows nothing. Returns PD_OK or PD_EIO. */
int pd_authz_org_load(struct pd_db *db, struct pd_arena *a, struct pd_policy_cache *cache,
                      const struct pd_principal_id *who, const char *resource_account,
                      const char *rcp_action, struct pd_ctx *ctx, struct pd_authz_org *OUT);
void pd_authz_org_release(struct pd_policy_cache *cache, struct pd_authz_org *o);

/* Do RCPs restrict this action's service (s3, sts, kms, sqs, secretsmanager, ...)? 1 / 0. */
int pd_authz_org_rcp_covers(const char *action);

/* Is this role ARN a service-linked role's (path /aws-service-role/)? 1 / 0. */
int pd_authz_org_service_linked(const char *role_arn);

#endif
