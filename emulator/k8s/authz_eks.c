/*
 * authz_eks.c - the first member of the authorizer chain: EKS access policies associated to
 * the caller's access entry (the seam the access-entries work fills; authz.h).
 *
 * Until access entries exist it has no opinion on anything, so RBAC decides alone. What
 * it must do when filled (reference/kubernetes-access-facts.md §2): allow or pass, never
 * deny; grant only through the access entry of the IAM principal the user was mapped from
 * (u->arn: NULL for service accounts, anonymous and impersonated users, so `--as` drops
 * policy grants as on EKS).
 *
 * RulesFor answers as EKS's authorization webhook does: it cannot enumerate, so every
 * SelfSubjectRulesReview (`kubectl auth can-i --list`) is incomplete, with the webhook's
 * error, and policy grants are not listed.
 */
#include "k8s/authz.h"

#include <string.h>

static void eks_authorize(struct pd_k8s_authz_env *e, const struct pd_k8s_attrs *at,
                          struct pd_k8s_decision *OUT)
{
    (void)e;
    (void)at;
    memset(OUT, 0, sizeof *OUT);
    OUT->verdict = PD_K8S_NO_OPINION;
    OUT->reason = "";
}

static void eks_rules_for(struct pd_k8s_authz_env *e, const struct pd_k8s_user *u, const char *ns,
                          struct pd_k8s_rule_list *OUT, int *OUT_incomplete, const char **OUT_error)
{
    (void)e;
    (void)u;
    (void)ns;
    (void)OUT;
    *OUT_incomplete = 1;
    *OUT_error = "webhook authorizer does not support user rule resolution";
}

const struct pd_k8s_authorizer pd_k8s_authz_eks = {"eks", eks_authorize, eks_rules_for};
