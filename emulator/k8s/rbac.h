/*
 * rbac.h - Kubernetes RBAC as pure functions over parsed objects: reading Role, ClusterRole,
 * RoleBinding and ClusterRoleBinding JSON into structs, which rules apply to a user in a
 * namespace (VisitRulesFor), the RBAC authorizer's decision and reason, RulesFor, and what
 * escalation prevention needs (Covers, BreakdownRule, CompactRules).
 *
 * Semantics follow kubernetes/kubernetes pkg/registry/rbac/validation/rule.go and
 * plugin/pkg/auth/authorizer/rbac/rbac.go; the facts are in reference/kubernetes-access-
 * facts.md §1. No store and no request: objects come through struct pd_k8s_rbac_source,
 * which rbac_store.c backs with the cluster's objects and tests back with plain data.
 */
#ifndef PD_K8S_RBAC_H
#define PD_K8S_RBAC_H

#include <jansson.h>
#include <stddef.h>

#include "k8s/authz.h"

#define PD_K8S_RBAC_GROUP "rbac.authorization.k8s.io"

struct pd_k8s_subject {
    const char *kind; /* User, Group, ServiceAccount (others match nothing) */
    const char *api_group;
    const char *name;
    const char *ns; /* ServiceAccount: its namespace ("" = the binding's) */
};

struct pd_k8s_binding {
    const char *name;
    const char *ns; /* "" for a ClusterRoleBinding */
    const char *role_kind, *role_name, *role_api_group;
    const struct pd_k8s_subject *subjects;
    size_t nsubjects;
};

struct pd_k8s_role {
    const char *kind; /* "Role" or "ClusterRole" */
    const char *name;
    const char *ns; /* "" for a ClusterRole */
    const struct pd_k8s_rule *rules;
    size_t nrules;
};

/* Where the engine finds objects. Lists are in name order; returned data lives at least as
 * long as the arena the source was made with. */
struct pd_k8s_rbac_source {
    void *state;
    /* ns NULL: every ClusterRoleBinding; else the RoleBindings of ns. PD_OK or an error. */
    int (*bindings)(void *state, const char *ns, const struct pd_k8s_binding **OUT, size_t *OUT_n);
    /* ns NULL: the ClusterRole name; else the Role ns/name. PD_OK, PD_ENOTFOUND, or an
     * error. */
    int (*role)(void *state, const char *ns, const char *name, const struct pd_k8s_role **OUT);
};

/* ---- reading objects (arena strings; malformed members are read as empty) ---- */

void pd_k8s_rule_from_json(struct pd_arena *a, const json_t *j, struct pd_k8s_rule *OUT);
/* rules: the object's "rules" array. */
void pd_k8s_role_from_json(struct pd_arena *a, const json_t *obj, const char *kind,
                           struct pd_k8s_role *OUT);
void pd_k8s_binding_from_json(struct pd_arena *a, const json_t *obj, struct pd_k8s_binding *OUT);

/* ---- which rules apply ---- */

/* A rule reached through a binding: what kube-apiserver names in "allowed by". */
struct pd_k8s_grant {
    const struct pd_k8s_binding *binding;
    const struct pd_k8s_subject *subject; /* the first subject that applies */
    const struct pd_k8s_role *role;
    size_t rule_index;
};

/* Called per rule (err NULL) or per binding whose role cannot be resolved (rule and g->role
 * NULL, err the error text, e.g. `role.rbac.authorization.k8s.io "x" not found`). Return 0
 * to stop. */
typedef int pd_k8s_rule_visit_fn(void *st, const struct pd_k8s_grant *g,
                                 const struct pd_k8s_rule *rule, const char *err);

/* VisitRulesFor: every ClusterRoleBinding whose subjects apply to u, then (ns non-empty)
 * every RoleBinding of ns whose subjects apply; each binding's role's rules in order. */
void pd_k8s_rbac_visit(const struct pd_k8s_rbac_source *src, struct pd_arena *a,
                       const struct pd_k8s_user *u, const char *ns, pd_k8s_rule_visit_fn *fn,
                       void *st);

/* Does subject s of a binding in ns ("" for cluster bindings) name u? 1 / 0. */
int pd_k8s_subject_applies(const struct pd_k8s_subject *s, const struct pd_k8s_user *u,
                           const char *ns);

/* "ClusterRoleBinding \"b\" of ClusterRole \"r\" to Group \"g\"" or
 * "RoleBinding \"b/ns\" of Role \"r\" to User \"u\"", as kube-apiserver describes it. */
const char *pd_k8s_grant_str(struct pd_arena *a, const struct pd_k8s_grant *g);

/* The RBAC authorizer: allow with "RBAC: allowed by <grant>", or no opinion with the
 * resolution errors ("RBAC: <err>" / "RBAC: [e1, e2]") as reason. The trace names the
 * allowing binding, role and rule, or each binding that applied to the user and why none
 * of its rules matched, plus how many bindings were looked at. */
void pd_k8s_rbac_authorize(const struct pd_k8s_rbac_source *src, struct pd_arena *a,
                           const struct pd_k8s_attrs *at, struct pd_k8s_decision *OUT);

/* RulesFor: every rule that applies to u in ns, in visit order; *OUT_error: the aggregated
 * resolution errors, or NULL. */
void pd_k8s_rbac_rules_for(const struct pd_k8s_rbac_source *src, struct pd_arena *a,
                           const struct pd_k8s_user *u, const char *ns,
                           struct pd_k8s_rule_list *OUT, const char **OUT_error);

/* ---- escalation prevention ---- */

/* Covers: do owner rules cover every servant rule? Each servant rule is broken down into
 * single (group, resource, verb[, name]) and (url, verb) rules; the ones no owner rule
 * covers go to *OUT_missing. Work is bounded: more than PD_K8S_MAX_BREAKDOWN broken-down
 * rules gives PD_ETOOBIG. PD_OK otherwise (covered when *OUT_n == 0). */
#define PD_K8S_MAX_BREAKDOWN 100000
int pd_k8s_rbac_covers(struct pd_arena *a, const struct pd_k8s_rule *owner, size_t nowner,
                       const struct pd_k8s_rule *servant, size_t nservant,
                       struct pd_k8s_rule_list *OUT_missing);

/* CompactRules then CompactString of each, sorted and de-duplicated, joined by "\n": the
 * list kube-apiserver prints after "is attempting to grant RBAC permissions not currently
 * held:". Arena. */
const char *pd_k8s_rbac_missing_str(struct pd_arena *a, const struct pd_k8s_rule_list *missing);

/* ---- aggregation ---- */

/* Does obj's metadata.labels satisfy a LabelSelector object ({matchLabels, matchExpressions};
 * NULL or non-object: matches nothing, {} everything)? 1 / 0; -1 when sel is malformed.
 * (request.c) */
int pd_k8s_label_selector_match(const json_t *sel, const json_t *obj);

/* The rules the aggregation controller gives ClusterRole cr (a JSON object with an
 * aggregationRule): for each selector in order, the rules of every other ClusterRole of roles
 * (an array, name order) whose labels it selects, without duplicates. New reference. */
json_t *pd_k8s_rbac_aggregated_rules(struct pd_arena *a, const json_t *cr, const json_t *roles);
/* Are two rule lists the same to Kubernetes' semantic equality (nil and empty lists equal)? */
int pd_k8s_rbac_same_rules(const json_t *a, const json_t *b);

#endif
