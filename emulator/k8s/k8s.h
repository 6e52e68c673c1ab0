/*
 * k8s.h - the per-cluster Kubernetes API (served under /_podiam/k8s/<CLUSTER ID>/, the
 * endpoint DescribeCluster gives): what other modules use of it. EKS fixtures load and
 * export a cluster's Kubernetes objects through these; tests and fuzzing use the path
 * parser. docs/kubernetes.md describes the served subset.
 */
#ifndef PD_K8S_K8S_H
#define PD_K8S_K8S_H

#include <jansson.h>
#include <stddef.h>

struct pd_env;
struct pd_db;

/* Where a request path (after /_podiam/k8s/) points. */
enum pd_k8s_target {
    PD_K8S_T_NONE = 0,     /* no such path: 404 */
    PD_K8S_T_VERSION,      /* /version */
    PD_K8S_T_HEALTH,       /* /healthz, /livez, /readyz */
    PD_K8S_T_API,          /* /api */
    PD_K8S_T_APIS,         /* /apis */
    PD_K8S_T_GROUPVERSION, /* /api/v1, /apis/G/v1 (group_version) */
    PD_K8S_T_GROUP,        /* /apis/G (group_version = G) */
    PD_K8S_T_OPENAPI_V2,   /* /openapi/v2 */
    PD_K8S_T_OPENAPI_V3,   /* /openapi/v3[/…] */
    PD_K8S_T_COLLECTION,   /* /api/v1[/namespaces/NS]/RES, /apis/G/V[/namespaces/NS]/RES */
    PD_K8S_T_OBJECT,       /* … /RES/NAME */
    PD_K8S_T_SUBRESOURCE,  /* … /RES/NAME/SUB for a subresource podiam serves (sub) */
};

struct pd_k8s_res; /* a kind of the table (k8s/internal.h) */
struct pd_k8s_sub; /* one of its subresources */

struct pd_k8s_path {
    char cluster[33]; /* the cluster id (32 hex characters) */
    enum pd_k8s_target target;
    const struct pd_k8s_res *res; /* COLLECTION / OBJECT / SUBRESOURCE: the kind */
    const struct pd_k8s_sub *sub; /* SUBRESOURCE */
    const char *resource;         /* static plural of res */
    char ns[254];                 /* namespace (percent-decoded), "" when none */
    char name[254];               /* object name (percent-decoded), "" when none */
    const char *group_version;    /* static, for GROUPVERSION / GROUP */
    const char *rest;             /* the path after the cluster id (points into the input) */
};

/* Make / free what the Kubernetes API's authentication keeps for the process: the cache of
 * parsed aws-auth ConfigMaps (env->awsauth). Without it (NULL) each request parses its own. */
void pd_k8s_auth_init(struct pd_env *env);
void pd_k8s_auth_cleanup(struct pd_env *env);

/* Parse path (the raw request path, beginning /_podiam/k8s/). PD_OK (target may be NONE),
 * or PD_EINVAL when the path is not under /_podiam/k8s/ or names no cluster. Pure. */
int pd_k8s_parse_path(const char *path, struct pd_k8s_path *OUT);

/* Start cluster's Kubernetes state unless started: the namespaces default, kube-system,
 * kube-public, kube-node-lease with their "default" service accounts and kube-root-ca.crt
 * config maps. In the caller's write transaction. */
int pd_k8s_cluster_start(struct pd_env *env, struct pd_db *db, const char *cluster_id);

/* Load a cluster's fixtures "kubernetes" object ({"namespaces": [...], "serviceaccounts":
 * [...], "configmaps": [...]}, docs/fixtures.md) in the caller's write transaction.
 * PD_OK or PD_EINVAL with *OUT_why (malloc'd). */
int pd_k8s_fixtures_load(struct pd_env *env, struct pd_db *db, const char *cluster_id,
                         const json_t *section, char **OUT_why);

/* A cluster's Kubernetes state changed outside its API (state reset, cluster deleted): its
 * watches end with 410 Expired so clients list again. cluster_id NULL: every cluster. */
void pd_k8s_state_changed(struct pd_env *env, const char *cluster_id);

/* The controllers (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs,
 * garbage collection): a thread that reconciles each cluster after its changes are
 * published, and every few seconds for what time changes. Start after the watch hub
 * (pd_k8s_hub_start), stop before it. PD_OK. */
int pd_k8s_controllers_start(struct pd_env *env);
void pd_k8s_controllers_stop(struct pd_env *env);
/* Reconcile cluster_id now, on the calling thread, to a fixed point, in one write
 * transaction of its own (tests, and the thread). PD_OK or a store error. */
int pd_k8s_controllers_run(struct pd_env *env, const char *cluster_id);

/* How many Kubernetes watches are open (all clusters), for /_podiam/health. */
size_t pd_k8s_watches(struct pd_env *env);

/* The cluster's objects as a "kubernetes" fixtures object (new reference), or NULL when it
 * holds nothing beyond what a new cluster has. */
json_t *pd_k8s_fixtures_export(struct pd_env *env, struct pd_db *db, const char *cluster_id);

#endif
