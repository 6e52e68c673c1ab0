/*
 * access_policy.h - the EKS access policies (arn:aws:eks::aws:cluster-access-policy/NAME):
 * their catalog as ListAccessPolicies answers it, the Kubernetes RBAC rules of each, and the
 * EKS authorizer over the policies associated to a caller's access entry.
 *
 * Owns the built-in catalog (constant data) and pure functions over it: no I/O, no state.
 * The rules are those AWS publishes for each policy (EKS User Guide, "Review access policy
 * permissions"); policies AWS describes only in prose (Auto Mode, EMR, HyperPod, …) are
 * listed and may be associated, but podiam grants nothing through them and says so.
 *
 * The EKS authorizer only allows or passes ("no opinion"), never denies: a request no
 * associated policy allows goes on to RBAC (STYLE.md §15, the facts file §2). Rules,
 * request attributes and their matching are RBAC's (k8s/authz.h).
 */
#ifndef PD_K8S_ACCESS_POLICY_H
#define PD_K8S_ACCESS_POLICY_H

#include <stddef.h>

#include "k8s/authz.h"

struct pd_arena;

/* An EKS access policy of the catalog. */
struct pd_eks_access_policy {
    const char *name; /* "AmazonEKSEditPolicy" */
    const char *arn;  /* "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy" */
    const struct pd_k8s_rule *rules;
    size_t nrules;
    int modelled; /* 1: rules as AWS publishes them; 0: rules unknown, grants nothing here */
};

#define PD_EKS_ACCESS_POLICY_PREFIX "arn:aws:eks::aws:cluster-access-policy/"

/* The catalog, sorted by name as ListAccessPolicies answers; *OUT_n entries. */
const struct pd_eks_access_policy *pd_eks_access_policies(size_t *OUT_n);
/* The policy with this ARN (exact, case-sensitive), or NULL. */
const struct pd_eks_access_policy *pd_eks_access_policy_find(const char *arn);

/* An access policy associated to an access entry. */
struct pd_eks_policy_assoc {
    const char *policy_arn;
    int cluster_scope;             /* 1: accessScope cluster; 0: namespace */
    const char *const *namespaces; /* namespace scope: names, `*` matches any run of chars */
    size_t nnamespaces;
};

struct pd_eks_policy_decision {
    enum pd_k8s_verdict verdict;
    /* For the decision trace (arena strings): on allow, which policy at which scope and which
     * rule; on no opinion, what each association was and why it did not apply. */
    const char *reason;
    const char *policy_arn;         /* allow: the policy that allowed */
    const char *scope;              /* allow: "cluster" or "namespace apps" */
    size_t rule_index;              /* allow: 0-based index in the policy's rules */
    const struct pd_k8s_rule *rule; /* allow: the rule */
};

/* The EKS authorizer: may the access entry whose associations are assoc[0..n) do at? Allow
 * when one association in scope has a rule that allows; otherwise no opinion (never deny),
 * with the reason naming every association looked at. Unknown policy ARNs and policies whose
 * rules podiam does not model grant nothing and are named in the reason. Pure. */
void pd_eks_access_policy_authorize(struct pd_arena *a, const struct pd_eks_policy_assoc *assoc,
                                    size_t n, const struct pd_k8s_attrs *at,
                                    struct pd_eks_policy_decision *OUT);

/* Does namespace ns match an access-scope pattern (`dev-*`)? 1 / 0. */
int pd_eks_namespace_match(const char *pattern, const char *ns);

#endif
