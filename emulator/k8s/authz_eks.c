/*
 * authz_eks.c - the EKS member of the authorizer chain (authz.h): the access policies
 * associated with the access entry that mapped the caller (k8s/access_policy.h decides).
 *
 * As on EKS (reference/kubernetes-access-facts.md §2) it allows or passes, never denies; it
 * grants only to a user mapped from an IAM principal by an access entry (u->eks with an
 * entry): service accounts, anonymous users, users mapped by aws-auth or as the creator,
 * impersonated users (`kubectl --as`) and the subjects of SubjectAccessReviews get nothing
 * from it. Its reason, seen by clients in Forbidden messages and access reviews, is empty as
 * EKS's authorization webhook leaves it; what it looked at goes to the decision trace.
 *
 * RulesFor answers as EKS's webhook does: it cannot enumerate, so every
 * SelfSubjectRulesReview (`kubectl auth can-i --list`) is incomplete, with the webhook's
 * error, and policy grants are not listed.
 */
#include "k8s/authz.h"

#include <string.h>

#include "core/arena.h"
#include "k8s/access_policy.h"

static void eks_authorize(struct pd_k8s_authz_env *e, const struct pd_k8s_attrs *at,
                          struct pd_k8s_decision *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->verdict = PD_K8S_NO_OPINION;
    OUT->reason = "";
    const struct pd_k8s_eks_mapping *m = at->user ? at->user->eks : NULL;
    if (!m || !m->entry_arn) {
        const char *why = !at->user || !at->user->arn
                              ? "not an IAM caller (service account, anonymous, impersonated or "
                                "a review's subject): no access entry, no EKS access policy"
                              : pd_arena_printf(e->a,
                                                "mapped by %s, not by an access entry: no EKS "
                                                "access policy applies",
                                                m && m->by ? m->by : "?");
        OUT->trace = json_pack("{s:s}", "reason", why);
        return;
    }
    struct pd_eks_policy_decision d;
    pd_eks_access_policy_authorize(e->a, m->policies, m->npolicies, at, &d);
    OUT->verdict = d.verdict;
    OUT->trace =
        json_pack("{s:s, s:s}", "access_entry", m->entry_arn, "reason", d.reason ? d.reason : "");
    if (d.verdict == PD_K8S_ALLOW)
        json_object_update_new(OUT->trace,
                               json_pack("{s:s, s:s, s:I, s:o}", "policy", d.policy_arn, "scope",
                                         d.scope, "rule", (json_int_t)d.rule_index + 1, "rule_text",
                                         json_string(pd_k8s_rule_str(e->a, d.rule))));
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
