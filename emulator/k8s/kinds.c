/*
 * kinds.c - the table of kinds the per-cluster Kubernetes API serves: one row per resource
 * (group, version, plural, kind, scope, short name, category, name rule, status strategy,
 * Table columns, hooks, subresources), as STYLE.md §15 wants: the generic handlers in
 * api.c, discovery and Tables in render.c and the path parser in request.c read these rows;
 * a kind adds only its hooks (core.c, rbac_objects.c, reviews.c).
 */
#include <string.h>

#include "k8s/internal.h"

#define RBAC "rbac.authorization.k8s.io"
#define AUTHZ "authorization.k8s.io"
#define AUTHN "authentication.k8s.io"
#define NS PD_K8S_NAMESPACED
#define KEEP PD_K8S_KEEP_STATUS
#define NOST PD_K8S_NO_STATUS
#define SUB PD_K8S_NAME_SUBDOMAIN

const struct pd_k8s_group pd_k8s_groups[] = {
    {"apps", "v1", "apps/v1"}, {AUTHN, "v1", AUTHN "/v1"},  {AUTHZ, "v1", AUTHZ "/v1"},
    {RBAC, "v1", RBAC "/v1"},  {"batch", "v1", "batch/v1"}, {NULL, NULL, NULL},
};

const struct pd_k8s_res pd_k8s_resources[] = {
    /* core/v1 */
    {"", "v1", "namespaces", "namespace", "Namespace", "v1", "namespaces", "ns", NULL,
     PD_K8S_NO_DELCOL | PD_K8S_KEEP_STATUS, PD_K8S_NAME_LABEL, pd_k8s_cols_namespaces,
     &pd_k8s_namespace_hooks, NULL},
    {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", "v1", "serviceaccounts", "sa",
     NULL, PD_K8S_NAMESPACED | PD_K8S_NO_STATUS, PD_K8S_NAME_SUBDOMAIN, pd_k8s_cols_serviceaccounts,
     &pd_k8s_plain_hooks, pd_k8s_serviceaccount_subs},
    {"", "v1", "pods", "pod", "Pod", "v1", "pods", "po", "all",
     PD_K8S_NAMESPACED | PD_K8S_KEEP_STATUS, PD_K8S_NAME_SUBDOMAIN, pd_k8s_cols_pods,
     &pd_k8s_pod_hooks, pd_k8s_pod_subs},
    {"", "v1", "configmaps", "configmap", "ConfigMap", "v1", "configmaps", "cm", NULL,
     PD_K8S_NAMESPACED | PD_K8S_NO_STATUS, PD_K8S_NAME_SUBDOMAIN, pd_k8s_cols_configmaps,
     &pd_k8s_plain_hooks, NULL},
    {"", "v1", "secrets", "secret", "Secret", "v1", "secrets", NULL, NULL, NS | NOST, SUB,
     pd_k8s_cols_secrets, &pd_k8s_secret_hooks, NULL},
    {"", "v1", "services", "service", "Service", "v1", "services", "svc", "all", NS | KEEP, SUB,
     pd_k8s_cols_services, &pd_k8s_service_hooks, pd_k8s_service_subs},
    {"", "v1", "endpoints", "endpoints", "Endpoints", "v1", "endpoints", "ep", NULL, NS | NOST, SUB,
     pd_k8s_cols_endpoints, &pd_k8s_plain_hooks, NULL},
    {"", "v1", "events", "event", "Event", "v1", "events", "ev", NULL, NS | NOST, SUB,
     pd_k8s_cols_events, &pd_k8s_event_hooks, NULL},
    {"", "v1", "nodes", "node", "Node", "v1", "nodes", "no", NULL, 0, SUB, pd_k8s_cols_nodes,
     &pd_k8s_node_hooks, pd_k8s_node_subs},
    /* apps/v1 */
    {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", "apps/v1", "daemonsets.apps", "ds",
     "all", NS | KEEP, SUB, pd_k8s_cols_daemonsets, &pd_k8s_daemonset_hooks, pd_k8s_daemonset_subs},
    {"apps", "v1", "deployments", "deployment", "Deployment", "apps/v1", "deployments.apps",
     "deploy", "all", NS | KEEP, SUB, pd_k8s_cols_deployments, &pd_k8s_deployment_hooks,
     pd_k8s_deployment_subs},
    {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", "apps/v1", "replicasets.apps", "rs",
     "all", NS | KEEP, SUB, pd_k8s_cols_replicasets, &pd_k8s_replicaset_hooks,
     pd_k8s_replicaset_subs},
    {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", "apps/v1", "statefulsets.apps",
     "sts", "all", NS | KEEP, SUB, pd_k8s_cols_statefulsets, &pd_k8s_statefulset_hooks,
     pd_k8s_statefulset_subs},
    /* batch/v1 */
    {"batch", "v1", "cronjobs", "cronjob", "CronJob", "batch/v1", "cronjobs.batch", "cj", "all",
     NS | KEEP, SUB, pd_k8s_cols_cronjobs, &pd_k8s_cronjob_hooks, pd_k8s_cronjob_subs},
    {"batch", "v1", "jobs", "job", "Job", "batch/v1", "jobs.batch", NULL, "all", NS | KEEP, SUB,
     pd_k8s_cols_jobs, &pd_k8s_job_hooks, pd_k8s_job_subs},
    /* authentication.k8s.io/v1 */
    {AUTHN, "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", AUTHN "/v1",
     "selfsubjectreviews." AUTHN, NULL, NULL, PD_K8S_VIRTUAL, PD_K8S_NAME_PATHSEG, NULL,
     &pd_k8s_ssr_hooks, NULL},
    /* authorization.k8s.io/v1 */
    {AUTHZ, "v1", "localsubjectaccessreviews", "localsubjectaccessreview",
     "LocalSubjectAccessReview", AUTHZ "/v1", "localsubjectaccessreviews." AUTHZ, NULL, NULL,
     PD_K8S_VIRTUAL | PD_K8S_NAMESPACED, PD_K8S_NAME_PATHSEG, NULL, &pd_k8s_lsar_hooks, NULL},
    {AUTHZ, "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview",
     AUTHZ "/v1", "selfsubjectaccessreviews." AUTHZ, NULL, NULL, PD_K8S_VIRTUAL,
     PD_K8S_NAME_PATHSEG, NULL, &pd_k8s_ssar_hooks, NULL},
    {AUTHZ, "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview",
     AUTHZ "/v1", "selfsubjectrulesreviews." AUTHZ, NULL, NULL, PD_K8S_VIRTUAL, PD_K8S_NAME_PATHSEG,
     NULL, &pd_k8s_ssrr_hooks, NULL},
    {AUTHZ, "v1", "subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview", AUTHZ "/v1",
     "subjectaccessreviews." AUTHZ, NULL, NULL, PD_K8S_VIRTUAL, PD_K8S_NAME_PATHSEG, NULL,
     &pd_k8s_sar_hooks, NULL},
    /* rbac.authorization.k8s.io/v1 */
    {RBAC, "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", RBAC "/v1",
     PD_K8S_STORE_CLUSTERROLEBINDINGS, NULL, NULL, PD_K8S_NO_STATUS, PD_K8S_NAME_PATHSEG,
     pd_k8s_cols_rolebindings, &pd_k8s_binding_hooks, NULL},
    {RBAC, "v1", "clusterroles", "clusterrole", "ClusterRole", RBAC "/v1",
     PD_K8S_STORE_CLUSTERROLES, NULL, NULL, PD_K8S_NO_STATUS, PD_K8S_NAME_PATHSEG, NULL,
     &pd_k8s_clusterrole_hooks, NULL},
    {RBAC, "v1", "rolebindings", "rolebinding", "RoleBinding", RBAC "/v1",
     PD_K8S_STORE_ROLEBINDINGS, NULL, NULL, PD_K8S_NAMESPACED | PD_K8S_NO_STATUS,
     PD_K8S_NAME_PATHSEG, pd_k8s_cols_rolebindings, &pd_k8s_binding_hooks, NULL},
    {RBAC, "v1", "roles", "role", "Role", RBAC "/v1", PD_K8S_STORE_ROLES, NULL, NULL,
     PD_K8S_NAMESPACED | PD_K8S_NO_STATUS, PD_K8S_NAME_PATHSEG, NULL, &pd_k8s_role_hooks, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL},
};

const struct pd_k8s_res *pd_k8s_res_lookup(const char *group, const char *version,
                                           const char *plural)
{
    for (const struct pd_k8s_res *r = pd_k8s_resources; r->name; r++)
        if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0 &&
            strcmp(r->name, plural) == 0)
            return r;
    return NULL;
}

const struct pd_k8s_res *pd_k8s_res_find(const char *plural)
{
    return pd_k8s_res_lookup("", "v1", plural);
}

const struct pd_k8s_res *pd_k8s_res_by_key(const char *key)
{
    for (const struct pd_k8s_res *r = pd_k8s_resources; r->name; r++)
        if (strcmp(r->qualified, key) == 0)
            return r;
    return NULL;
}
