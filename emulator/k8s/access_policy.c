/*
 * access_policy.c - the EKS access policy catalog, its rules and the EKS authorizer (see
 * access_policy.h).
 *
 * The rule tables copy AWS's "Review access policy permissions" page row by row (each row is
 * one rule, in the page's order, so a trace's "rule N" can be found there). Matching is
 * Kubernetes' (k8s.io/kubernetes pkg/apis/rbac/v1/evaluation_helpers.go): verbs and API
 * groups exact or "*"; resources "*", exact "res" / "res/sub", or "*" + "/sub"; resource names
 * empty or exact; non-resource URLs "*", exact, or a prefix ending in "*".
 */
#include "k8s/access_policy.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/str.h"

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define READ L("get", "list", "watch")
#define WRITE L("create", "delete", "deletecollection", "patch", "update")
#define CORE L("")

/* Rows shared by AmazonEKSAdminPolicy and AmazonEKSEditPolicy (the `edit` role's content). */
#define APPS_WRITE                                                                                 \
    {                                                                                              \
        WRITE, L("apps"),                                                                          \
            L("daemonsets", "deployments", "deployments/rollback", "deployments/scale",            \
              "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"),           \
            NULL, NULL                                                                             \
    }
#define APPS_READ                                                                                  \
    {                                                                                              \
        READ, L("apps"),                                                                           \
            L("controllerrevisions", "daemonsets", "daemonsets/status", "deployments",             \
              "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",       \
              "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"),  \
            NULL, NULL                                                                             \
    }
#define HPA_WRITE                                                                                  \
    {                                                                                              \
        WRITE, L("autoscaling"), L("horizontalpodautoscalers"), NULL, NULL                         \
    }
#define HPA_READ                                                                                   \
    {                                                                                              \
        READ, L("autoscaling"), L("horizontalpodautoscalers", "horizontalpodautoscalers/status"),  \
            NULL, NULL                                                                             \
    }
#define BATCH_WRITE                                                                                \
    {                                                                                              \
        WRITE, L("batch"), L("cronjobs", "jobs"), NULL, NULL                                       \
    }
#define BATCH_READ                                                                                 \
    {                                                                                              \
        READ, L("batch"), L("cronjobs", "cronjobs/status", "jobs", "jobs/status"), NULL, NULL      \
    }
#define SLICES_READ                                                                                \
    {                                                                                              \
        READ, L("discovery.k8s.io"), L("endpointslices"), NULL, NULL                               \
    }
#define EXT_WRITE                                                                                  \
    {                                                                                              \
        WRITE, L("extensions"),                                                                    \
            L("daemonsets", "deployments", "deployments/rollback", "deployments/scale",            \
              "ingresses", "networkpolicies", "replicasets", "replicasets/scale",                  \
              "replicationcontrollers/scale"),                                                     \
            NULL, NULL                                                                             \
    }
#define EXT_READ                                                                                   \
    {                                                                                              \
        READ, L("extensions"),                                                                     \
            L("daemonsets", "daemonsets/status", "deployments", "deployments/scale",               \
              "deployments/status", "ingresses", "ingresses/status", "networkpolicies",            \
              "replicasets", "replicasets/scale", "replicasets/status",                            \
              "replicationcontrollers/scale"),                                                     \
            NULL, NULL                                                                             \
    }
#define NET_READ                                                                                   \
    {                                                                                              \
        READ, L("networking.k8s.io"), L("ingresses", "ingresses/status", "networkpolicies"), NULL, \
            NULL                                                                                   \
    }
#define NET_WRITE                                                                                  \
    {                                                                                              \
        WRITE, L("networking.k8s.io"), L("ingresses", "networkpolicies"), NULL, NULL               \
    }
#define PDB_WRITE                                                                                  \
    {                                                                                              \
        WRITE, L("policy"), L("poddisruptionbudgets"), NULL, NULL                                  \
    }
#define PDB_READ                                                                                   \
    {                                                                                              \
        READ, L("policy"), L("poddisruptionbudgets", "poddisruptionbudgets/status"), NULL, NULL    \
    }
#define CORE_READ                                                                                  \
    {                                                                                              \
        READ, CORE,                                                                                \
            L("configmaps", "endpoints", "persistentvolumeclaims",                                 \
              "persistentvolumeclaims/status", "pods", "replicationcontrollers",                   \
              "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),   \
            NULL, NULL                                                                             \
    }
#define CORE_SENSITIVE_READ                                                                        \
    {                                                                                              \
        READ, CORE,                                                                                \
            L("pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",             \
              "services/proxy"),                                                                   \
            NULL, NULL                                                                             \
    }
#define CORE_WRITE                                                                                 \
    {                                                                                              \
        WRITE, CORE,                                                                               \
            L("configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",          \
              "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",            \
              "services/proxy"),                                                                   \
            NULL, NULL                                                                             \
    }
#define PODS_WRITE                                                                                 \
    {                                                                                              \
        WRITE, CORE, L("pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"),      \
            NULL, NULL                                                                             \
    }
#define SA_IMPERSONATE                                                                             \
    {                                                                                              \
        L("impersonate"), CORE, L("serviceaccounts"), NULL, NULL                                   \
    }
#define CORE_STATUS_READ                                                                           \
    {                                                                                              \
        READ, CORE,                                                                                \
            L("bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", \
              "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"),         \
            NULL, NULL                                                                             \
    }
#define NAMESPACES_READ                                                                            \
    {                                                                                              \
        READ, CORE, L("namespaces"), NULL, NULL                                                    \
    }

static const struct pd_k8s_rule admin_rules[] = {
    APPS_WRITE,
    APPS_READ,
    {L("create"), L("authorization.k8s.io"), L("localsubjectaccessreviews"), NULL, NULL},
    HPA_WRITE,
    HPA_READ,
    BATCH_WRITE,
    BATCH_READ,
    SLICES_READ,
    EXT_WRITE,
    EXT_READ,
    NET_READ,
    NET_WRITE,
    PDB_WRITE,
    PDB_READ,
    {L("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
     L("rbac.authorization.k8s.io"), L("rolebindings", "roles"), NULL, NULL},
    CORE_READ,
    CORE_SENSITIVE_READ,
    CORE_WRITE,
    PODS_WRITE,
    SA_IMPERSONATE,
    CORE_STATUS_READ,
    NAMESPACES_READ,
};

static const struct pd_k8s_rule cluster_admin_rules[] = {
    {L("*"), L("*"), L("*"), NULL, NULL},
    {L("*"), NULL, NULL, NULL, L("*")},
};

static const struct pd_k8s_rule admin_view_rules[] = {
    {READ, L("*"), L("*"), NULL, NULL},
};

static const struct pd_k8s_rule edit_rules[] = {
    APPS_WRITE,     APPS_READ,   HPA_READ,   HPA_WRITE,       BATCH_WRITE,
    BATCH_READ,     SLICES_READ, EXT_WRITE,  EXT_READ,        NET_WRITE,
    NET_READ,       PDB_WRITE,   PDB_READ,   NAMESPACES_READ, CORE_SENSITIVE_READ,
    SA_IMPERSONATE, PODS_WRITE,  CORE_WRITE, CORE_READ,       CORE_STATUS_READ,
};

static const struct pd_k8s_rule view_rules[] = {
    APPS_READ, HPA_READ, BATCH_READ, SLICES_READ,      EXT_READ,
    NET_READ,  PDB_READ, CORE_READ,  CORE_STATUS_READ, NAMESPACES_READ,
};

static const struct pd_k8s_rule secret_reader_rules[] = {
    {READ, CORE, L("secrets"), NULL, NULL},
};

static const struct pd_k8s_rule hybrid_rules[] = {
    {L("list"), L("*"), L("nodes"), NULL, NULL},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define POLICY(name, rules)                                                                        \
    {                                                                                              \
        name, PD_EKS_ACCESS_POLICY_PREFIX name, rules, N(rules), 1                                 \
    }
#define OPAQUE(name)                                                                               \
    {                                                                                              \
        name, PD_EKS_ACCESS_POLICY_PREFIX name, NULL, 0, 0                                         \
    }

/* ListAccessPolicies' answer (2026), sorted by name (byte order, as EKS lists them). */
static const struct pd_eks_access_policy catalog[] = {
    OPAQUE("AIDevOpsAgentAccessPolicy"),
    OPAQUE("AmazonAIOpsAssistantPolicy"),
    OPAQUE("AmazonARCRegionSwitchScalingPolicy"),
    OPAQUE("AmazonEKSACKPolicy"),
    POLICY("AmazonEKSAdminPolicy", admin_rules),
    POLICY("AmazonEKSAdminViewPolicy", admin_view_rules),
    OPAQUE("AmazonEKSArgoCDClusterPolicy"),
    OPAQUE("AmazonEKSArgoCDPolicy"),
    OPAQUE("AmazonEKSAutoNodePolicy"),
    OPAQUE("AmazonEKSBlockStorageClusterPolicy"),
    OPAQUE("AmazonEKSBlockStoragePolicy"),
    POLICY("AmazonEKSClusterAdminPolicy", cluster_admin_rules),
    OPAQUE("AmazonEKSComputeClusterPolicy"),
    OPAQUE("AmazonEKSComputePolicy"),
    POLICY("AmazonEKSEditPolicy", edit_rules),
    OPAQUE("AmazonEKSEventPolicy"),
    POLICY("AmazonEKSHybridPolicy", hybrid_rules),
    OPAQUE("AmazonEKSKROPolicy"),
    OPAQUE("AmazonEKSLoadBalancingClusterPolicy"),
    OPAQUE("AmazonEKSLoadBalancingPolicy"),
    OPAQUE("AmazonEKSNetworkingClusterPolicy"),
    OPAQUE("AmazonEKSNetworkingPolicy"),
    OPAQUE("AmazonEKSPodIdentityPolicy"),
    OPAQUE("AmazonEKSSecretAdminPolicy"),
    POLICY("AmazonEKSSecretReaderPolicy", secret_reader_rules),
    POLICY("AmazonEKSViewPolicy", view_rules),
    OPAQUE("AmazonEMRJobPolicy"),
    OPAQUE("AmazonSagemakerHyperpodClusterPolicy"),
    OPAQUE("AmazonSagemakerHyperpodControllerPolicy"),
    OPAQUE("AmazonSagemakerHyperpodSpacePolicy"),
    OPAQUE("AmazonSagemakerHyperpodSpaceTemplatePolicy"),
    OPAQUE("AmazonSagemakerHyperpodSystemNamespacePolicy"),
    OPAQUE("AmazonSagemakerHyperpodUserClusterPolicy"),
};

const struct pd_eks_access_policy *pd_eks_access_policies(size_t *OUT_n)
{
    *OUT_n = N(catalog);
    return catalog;
}

const struct pd_eks_access_policy *pd_eks_access_policy_find(const char *arn)
{
    if (!arn)
        return NULL;
    for (size_t i = 0; i < N(catalog); i++)
        if (strcmp(catalog[i].arn, arn) == 0)
            return &catalog[i];
    return NULL;
}

/* ---- the EKS authorizer ---- */

int pd_eks_namespace_match(const char *pattern, const char *ns)
{
    /* Glob with '*' only (any run, possibly empty), iterative with one backtrack point. */
    const char *p = pattern, *s = ns, *star = NULL, *mark = NULL;
    if (!p || !s)
        return 0;
    while (*s) {
        if (*p == '*') {
            star = p++;
            mark = s;
        } else if (*p == *s) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++mark;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static const char *scope_str(struct pd_arena *a, const struct pd_eks_policy_assoc *s)
{
    if (s->cluster_scope)
        return "cluster scope";
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_adds(&b, "namespace scope: ");
    for (size_t i = 0; i < s->nnamespaces; i++)
        pd_buf_printf(&b, "%s%s", i ? "," : "", s->namespaces[i]);
    const char *out = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return out;
}

static const char *policy_name(const char *arn)
{
    if (arn && pd_has_prefix(arn, PD_EKS_ACCESS_POLICY_PREFIX))
        return arn + strlen(PD_EKS_ACCESS_POLICY_PREFIX);
    return arn ? arn : "?";
}

void pd_eks_access_policy_authorize(struct pd_arena *a, const struct pd_eks_policy_assoc *assoc,
                                    size_t n, const struct pd_k8s_attrs *at,
                                    struct pd_eks_policy_decision *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->verdict = PD_K8S_NO_OPINION;
    const char *ns = at->resource_request && at->ns && *at->ns ? at->ns : NULL;
    struct pd_buf why;
    pd_buf_init(&why, 0);
    if (n == 0)
        pd_buf_adds(&why, "no access policy is associated with the access entry");
    for (size_t i = 0; i < n; i++) {
        const struct pd_eks_policy_assoc *s = &assoc[i];
        const struct pd_eks_access_policy *p = pd_eks_access_policy_find(s->policy_arn);
        const char *scope = scope_str(a, s);
        pd_buf_printf(&why, "%s%s (%s): ", i ? "; " : "", policy_name(s->policy_arn), scope);
        if (!p) {
            pd_buf_adds(&why, "not an EKS access policy, grants nothing");
            continue;
        }
        if (!p->modelled) {
            pd_buf_adds(&why, "podiam does not model this policy's rules, grants nothing");
            continue;
        }
        if (!s->cluster_scope) {
            int in = 0;
            for (size_t k = 0; ns && k < s->nnamespaces && !in; k++)
                in = pd_eks_namespace_match(s->namespaces[k], ns);
            if (!in) {
                if (!at->resource_request)
                    pd_buf_adds(&why, "a namespace scope does not cover non-resource URLs");
                else if (!ns)
                    pd_buf_adds(&why, "a namespace scope does not cover cluster-scoped requests");
                else
                    pd_buf_printf(&why, "does not cover namespace \"%s\"", ns);
                continue;
            }
        }
        for (size_t k = 0; k < p->nrules; k++) {
            if (!pd_k8s_rule_allows(&p->rules[k], at))
                continue;
            OUT->verdict = PD_K8S_ALLOW;
            OUT->policy_arn = p->arn;
            OUT->scope = scope;
            OUT->rule_index = k;
            OUT->rule = &p->rules[k];
            OUT->reason = pd_arena_printf(a, "EKS access policy %s (%s) allows it: rule %zu %s",
                                          p->name, scope, k + 1, pd_k8s_rule_str(a, &p->rules[k]));
            pd_buf_free(&why);
            return;
        }
        pd_buf_adds(&why, "no rule allows it");
    }
    OUT->reason = pd_arena_printf(a, "no EKS access policy allows it: %s", pd_buf_str(&why));
    pd_buf_free(&why);
}
