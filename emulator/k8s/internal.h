/*
 * internal.h - what the files of the Kubernetes API (k8s/) share (api.c: routing and
 * object handlers; authn.c: who is calling and may they; render.c: discovery
 * documents, Tables, object defaults). Not for other services: they use k8s.h.
 */
#ifndef PD_K8S_INTERNAL_H
#define PD_K8S_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "services/eks.h"

struct pd_req;
struct pd_db;
struct pd_arena;
struct pd_env;

/* Largest request body the API server takes (kube-apiserver: 3 MiB). */
#define PD_K8S_MAX_BODY (3 * 1024 * 1024)
/* The audience of tokens meant for the API server (EKS's --api-audiences). */
#define PD_K8S_API_AUDIENCE "https://kubernetes.default.svc"

/* A resource kind podiam serves (all in the core group v1). */
struct pd_k8s_res {
    const char *name;     /* plural: "pods" */
    const char *singular; /* "pod" */
    const char *kind;     /* "Pod" */
    const char *shortname;
    int namespaced;
};

/* The caller as authentication established it. */
struct pd_k8s_user {
    int anonymous;        /* no credentials */
    const char *username; /* "arn:aws:iam::…:user/x", "system:serviceaccount:ns:sa" */
    const char *uid;
    const char *groups[4];
    size_t ngroups;
    json_t *extra; /* object of string lists (owned by the request's context) */
    int admin;     /* cluster admin (the cluster's creator) */
};

/* ---- authn.c ---- */

/* Authenticate the request's bearer token for cluster c. PD_OK with *OUT filled (anonymous
 * when there is no Authorization header), or PD_ESIG with *OUT_why (arena text for the log)
 * when credentials are present but not valid. extra in *OUT is a new reference. */
int pd_k8s_authenticate(struct pd_req *r, const struct pd_eks_cluster *c, struct pd_k8s_user *OUT,
                        const char **OUT_why);

/* Verify an `aws eks get-token` token (k8s-aws-v1.…) for cluster c without a request: the
 * checks aws-iam-authenticator makes, then SigV4 with podiam's credentials. http_port /
 * https_port are podiam's listening ports (its own endpoint is accepted as the STS host).
 * now_ms is the client's clock (pd_clock_wall_ms): the 15-minute window is checked against
 * it; session credentials expire by podiam's clock (with the admin offset).
 * PD_OK with *OUT (arena strings) or PD_ESIG with *OUT_why (static or arena text). */
int pd_k8s_verify_aws_token(struct pd_env *env, struct pd_db *db, struct pd_arena *a,
                            const char *token, const char *cluster_name, int64_t now_ms,
                            struct pd_principal *OUT, const char **OUT_why);

/* Is p the creator of cluster c, by identity rather than by session: the same ARN, or a
 * session of the role whose session (or IAM ARN) created the cluster? 1 / 0. */
int pd_k8s_is_creator(struct pd_arena *a, const struct pd_eks_cluster *c,
                      const struct pd_principal *p);

/* May user do verb on resource (plural, subresource after '/') in ns (NULL: cluster scope)?
 * 1 / 0. Non-resource paths pass resource NULL and the path in name. */
int pd_k8s_allowed(const struct pd_k8s_user *u, const char *verb, const char *resource,
                   const char *ns, const char *name);

/* ---- request.c ---- */

/* One requirement of a label or field selector. */
struct pd_k8s_sel {
    const char *key;
    int op; /* 0 =, 1 !=, 2 exists, 3 !exists, 4 in, 5 notin */
    const char *vals[16];
    size_t nvals;
};

/* Parse a selector ("a=b,c!=d,e in (f,g),!h") into an arena array. PD_OK or PD_EINVAL. */
int pd_k8s_sel_parse(struct pd_arena *a, const char *sel, struct pd_k8s_sel **OUT, size_t *OUT_n);
/* Does a value (NULL: the key is absent) satisfy requirement q? 1 / 0. */
int pd_k8s_sel_match(const struct pd_k8s_sel *q, const char *have);
/* The value of field selector key on obj of res; *OUT_supported = 0 when Kubernetes has no
 * such field label for res. */
const char *pd_k8s_field_value(const struct pd_k8s_res *res, json_t *obj, const char *key,
                               int *OUT_supported);

/* ---- render.c ---- */

extern const struct pd_k8s_res pd_k8s_resources[]; /* NULL-name terminated */
const struct pd_k8s_res *pd_k8s_res_find(const char *plural);

json_t *pd_k8s_version_doc(const struct pd_eks_cluster *c);
json_t *pd_k8s_api_versions(void);
json_t *pd_k8s_api_groups(void);
/* The APIResourceList of group/version ("v1", "authentication.k8s.io/v1", …), or NULL. */
json_t *pd_k8s_resource_list(const char *group_version);

/* "5s", "3m20s", "4h", "12d" — kubectl's age of a time, as the server's Table cell. */
void pd_k8s_age(int64_t now_ms, int64_t then_ms, char out[32]);
/* A Table of objects (array of objects of one resource), rows with PartialObjectMetadata. */
json_t *pd_k8s_table(const struct pd_k8s_res *res, const json_t *items, const char *rv,
                     const char *cont, int64_t now_ms);

/* Fill what kube-apiserver and the (absent) kubelet would: spec defaults and a Running
 * status, for a pod created at created_ms; ip_seed picks the pod IP. */
void pd_k8s_pod_defaults(json_t *pod, int64_t created_ms, uint64_t ip_seed);
/* The pod's status as a kubelet running it would report it (kept: startTime, podIP). */
void pd_k8s_pod_status(json_t *pod, int64_t now_ms);

#endif
