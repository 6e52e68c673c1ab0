/*
 * iam_outbound.c - IAM's switch for outbound identity federation (handlers; see
 * iam_internal.h): Enable/DisableOutboundWebIdentityFederation and
 * GetOutboundWebIdentityFederationInfo. The account's issuer and keys, and the tokens, are
 * STS's (services/sts_outbound.c); IAM only turns the account's feature on and off.
 */
#include "core/err.h"
#include "env.h"
#include "services/iam/iam_internal.h"
#include "services/sts.h"

int pd_iam_enable_outbound_web_identity_federation(struct pd_req *r)
{
    struct pd_sts_outbound o;
    int rc = pd_sts_outbound_get(r->db, &r->arena, pd_iam_account(r), &o);
    if (rc == PD_OK && o.enabled)
        return pd_fail(r, &IAM_FeatureEnabled,
                       "Outbound web identity federation is already enabled for this account.");
    if (rc && rc != PD_ENOTFOUND)
        return pd_iam_store_fail(r, rc);
    const char *issuer;
    rc = pd_sts_outbound_set(r->env, r->db, &r->arena, pd_iam_account(r), 1, &issuer);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_object_set_new(pd_iam_out(r), "IssuerIdentifier", json_string(issuer));
    return PD_OK;
}

int pd_iam_disable_outbound_web_identity_federation(struct pd_req *r)
{
    struct pd_sts_outbound o;
    int rc = pd_sts_outbound_get(r->db, &r->arena, pd_iam_account(r), &o);
    if (rc == PD_ENOTFOUND || (rc == PD_OK && !o.enabled))
        return pd_fail(r, &IAM_FeatureDisabled,
                       "Outbound web identity federation is not enabled for this account.");
    if (rc)
        return pd_iam_store_fail(r, rc);
    pd_iam_out(r);
    return pd_iam_store_fail(
        r, pd_sts_outbound_set(r->env, r->db, &r->arena, pd_iam_account(r), 0, NULL));
}

int pd_iam_get_outbound_web_identity_federation_info(struct pd_req *r)
{
    struct pd_sts_outbound o;
    int rc = pd_sts_outbound_get(r->db, &r->arena, pd_iam_account(r), &o);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_FeatureDisabled,
                       "Outbound web identity federation is not enabled for this account.");
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *out = pd_iam_out(r);
    json_object_set_new(out, "IssuerIdentifier", json_string(o.issuer));
    json_object_set_new(out, "JwtVendingEnabled", json_boolean(o.enabled));
    return PD_OK;
}
