/*
 * authz.h - who the caller of a cluster's Kubernetes API is, what a request asks, and the
 * chain of authorizers that decides it (STYLE.md §15).
 *
 * The identity (struct pd_k8s_user) is produced by authentication (authn.c, iam_user.c) or
 * impersonation (impersonate.c) and read by the authorizers, the reviews and the decision
 * log. The attributes (struct pd_k8s_attrs) are what kube-apiserver's RequestInfo resolver
 * derives from a request (request.c) or a review's spec (reviews.c).
 *
 * The chain is [system:masters, EKS access policies, RBAC]; each member answers allow, deny
 * or no opinion with a reason, the first allow or deny ends it, and no opinion from every
 * member is a refusal (Kubernetes' union authorizer). The first member is kube-apiserver's
 * privileged-group authorizer: the group system:masters is allowed everything before any
 * other member is asked, so deleting the cluster-admin binding does not lock it out. The
 * EKS member (authz_eks.c) allows through the access policies of the access entry that
 * mapped a get-token caller. Each decision leaves a check in the request's decision record
 * (pd_k8s_authorize), which api.c writes to the decision log.
 */
#ifndef PD_K8S_AUTHZ_H
#define PD_K8S_AUTHZ_H

#include <jansson.h>
#include <stddef.h>

struct pd_arena;
struct pd_db;
struct pd_eks_cluster;
struct pd_k8s_rbac_store;

struct pd_eks_policy_assoc;

/* How EKS mapped a get-token caller to its user (k8s/iam_user.c): what the decision log
 * explains and what the EKS authorizer grants through. Arena-owned. */
struct pd_k8s_eks_mapping {
    const char *by;        /* "creator", "access entry", "aws-auth mapRoles", "aws-auth
                              mapUsers", "aws-auth mapAccounts" */
    const char *mode;      /* the cluster's authentication mode */
    const char *entry_arn; /* by access entry: the entry's ARN, else NULL */
    const char *principal; /* by access entry: its principalArn */
    unsigned line;         /* by aws-auth mapRoles/mapUsers: the line in its data key */
    size_t index;          /* … and the entry's 1-based position in its list */
    const struct pd_eks_policy_assoc *policies; /* by access entry: associated policies */
    size_t npolicies;
    const char *const *trace; /* every step of the mapping, aws-auth issues included */
    size_t ntrace;
};

/* Who a request acts as. Strings and the groups array live in the request's arena. */
struct pd_k8s_user {
    const char *username; /* "arn:aws:iam::…:user/x", "system:serviceaccount:ns:sa", … */
    const char *uid;      /* NULL or "": none */
    const char **groups;  /* ngroups entries (pd_k8s_user_add_group) */
    size_t ngroups, gcap;
    json_t *extra;         /* object of string lists, or NULL; a reference the request owns */
    const char *arn;       /* the IAM identity the user was mapped from (get-token callers);
                              NULL for service accounts, anonymous and impersonated users */
    const char *mapped_by; /* why these names, for explanations: "cluster creator
                              (CreateCluster caller)", "service-account token", … */
    const struct pd_k8s_eks_mapping *eks; /* get-token callers: how EKS mapped them; NULL
                                             otherwise, so impersonated users and review
                                             subjects get no access-policy grants */
    int anonymous;                        /* no credentials: system:anonymous */
};

/* Append group g (borrowed; must outlive the request) to u. */
void pd_k8s_user_add_group(struct pd_arena *a, struct pd_k8s_user *u, const char *g);
/* Is g one of u's groups? 1 / 0. */
int pd_k8s_user_in_group(const struct pd_k8s_user *u, const char *g);
/* u as a userInfo object ({username, uid, groups, extra}, empty members left out; new). */
json_t *pd_k8s_user_info(const struct pd_k8s_user *u);

/* One PolicyRule as Kubernetes writes it. Each list is NULL-terminated; a NULL list is
 * empty. */
struct pd_k8s_rule {
    const char *const *verbs;
    const char *const *api_groups;        /* "" is the core group */
    const char *const *resources;         /* "pods", "pods/log", "*", "*" then "/scale" */
    const char *const *resource_names;    /* empty: any name */
    const char *const *non_resource_urls; /* "/healthz", "/api/" and a star, "*" */
};

/* What a request asks, as Kubernetes' RequestInfo resolver fills authorizer attributes. */
struct pd_k8s_attrs {
    const struct pd_k8s_user *user; /* who asks (may be NULL while deriving) */
    const char *verb;               /* get, list, watch, create, update, patch, delete, … */
    int resource_request;           /* 1: resource (below), 0: non-resource path */
    const char *api_group;          /* "" for core */
    const char *api_version;        /* "v1", "*" for reviews without a version */
    const char *resource;           /* plural, "pods" */
    const char *subresource;        /* "log", or "" */
    const char *ns;                 /* "": cluster scope */
    const char *name;               /* "": none */
    const char *path;               /* the URL path after the cluster prefix ("/api") */
};

/* Does rule allow at (Kubernetes' RuleAllows)? 1 / 0. */
int pd_k8s_rule_allows(const struct pd_k8s_rule *rule, const struct pd_k8s_attrs *at);
/* The rule as kube-apiserver prints it in escalation errors (rbacv1helpers.CompactString:
 * {APIGroups:[""], Resources:["pods"], Verbs:["get"]}); arena. */
const char *pd_k8s_rule_str(struct pd_arena *a, const struct pd_k8s_rule *rule);
/* The rule as JSON ({verbs, apiGroups, resources, resourceNames, nonResourceURLs}, empty
 * lists left out but verbs; new reference). */
json_t *pd_k8s_rule_json(const struct pd_k8s_rule *rule);

enum pd_k8s_verdict {
    PD_K8S_NO_OPINION = 0, /* pass to the next authorizer */
    PD_K8S_ALLOW,
    PD_K8S_DENY, /* never from RBAC or the EKS authorizer; for future members */
};

/* What an authorizer may read while deciding: the store, the request's arena, the cluster,
 * and the request's cache of RBAC objects (rbac_store.c). */
struct pd_k8s_authz_env {
    struct pd_db *db;
    struct pd_arena *a;
    const struct pd_eks_cluster *c;
    struct pd_k8s_rbac_store *rbac;
};

/* One authorizer's answer. */
struct pd_k8s_decision {
    enum pd_k8s_verdict verdict;
    const char *reason; /* what kube-apiserver would report ("RBAC: allowed by …"), or "" */
    json_t *trace;      /* the decision log's view of what was looked at (new), or NULL */
};

/* Rules a user holds, as SelfSubjectRulesReview reports them. */
struct pd_k8s_rule_list {
    struct pd_k8s_rule *v;
    size_t n, cap;
};
void pd_k8s_rule_list_add(struct pd_arena *a, struct pd_k8s_rule_list *l,
                          const struct pd_k8s_rule *r);

struct pd_k8s_authorizer {
    const char *name; /* "eks", "rbac": the decision log names the member that decided */
    void (*authorize)(struct pd_k8s_authz_env *e, const struct pd_k8s_attrs *at,
                      struct pd_k8s_decision *OUT);
    /* RulesFor: append u's rules in ns to *OUT; set *OUT_incomplete when the member cannot
     * enumerate them, and *OUT_error (arena text) when something went wrong. */
    void (*rules_for)(struct pd_k8s_authz_env *e, const struct pd_k8s_user *u, const char *ns,
                      struct pd_k8s_rule_list *OUT, int *OUT_incomplete, const char **OUT_error);
};

extern const struct pd_k8s_authorizer pd_k8s_authz_masters; /* authz.c */
extern const struct pd_k8s_authorizer pd_k8s_authz_eks;     /* authz_eks.c */
extern const struct pd_k8s_authorizer pd_k8s_authz_rbac;    /* rbac_store.c */

/* The chain's answer for at, with the reason of the member that decided (or every member's
 * reasons joined by "\n" when none did, as the union authorizer joins them). When checks is
 * not NULL, one check object describing the decision is appended to it (the decision log's
 * "checks"). The verdict is never NO_OPINION for an allow: NO_OPINION means refused. */
void pd_k8s_authorize(struct pd_k8s_authz_env *e, const struct pd_k8s_attrs *at, json_t *checks,
                      struct pd_k8s_decision *OUT);

/* RulesFor over the chain (union: rules appended in chain order; incomplete if any member
 * is; errors aggregated as Kubernetes aggregates them). */
void pd_k8s_rules_for(struct pd_k8s_authz_env *e, const struct pd_k8s_user *u, const char *ns,
                      struct pd_k8s_rule_list *OUT, int *OUT_incomplete, const char **OUT_error);

/* kube-apiserver's 403 for at refused with reason ("" for none): the Status message
 * ("pods is forbidden: User \"x\" cannot list resource \"pods\" in API group \"\" in the
 * namespace \"apps\"[: reason]") and its details ({name, group, kind}: new reference). */
const char *pd_k8s_forbidden_message(struct pd_arena *a, const struct pd_k8s_attrs *at,
                                     const char *reason, json_t **OUT_details);

/* Go's %q of s (a double-quoted string with Go escapes): the quoting every Kubernetes
 * message uses. Arena. */
const char *pd_k8s_goquote(struct pd_arena *a, const char *s);
/* Kubernetes' aggregate error text of msgs: "" / the one / "[a, b]" (duplicates dropped). */
const char *pd_k8s_aggregate_errors(struct pd_arena *a, const char *const *msgs, size_t n);
/* Go's %q of a string list: ["a" "b"]. Arena. */
const char *pd_k8s_goquote_list(struct pd_arena *a, const char *const *v, size_t n);

#endif
