/*
 * k8s.h - podiamctl's view of a cluster: EKS DescribeCluster, an `aws eks get-token`-style
 * bearer token, and the few Kubernetes API calls that play a pod (service account, pod
 * dry-run through the pod identity webhook, TokenRequest).
 *
 * Everything is allocated in the context's arena; JSON results are new references.
 */
#ifndef PDC_K8S_H
#define PDC_K8S_H

#include <jansson.h>

#include "http.h"

struct pdc_cluster {
    const char *name;
    const char *endpoint; /* https://127.0.0.1:TLSPORT/_podiam/k8s/ID */
    const char *ca_pem;   /* certificateAuthority.data, decoded */
    const char *issuer;   /* identity.oidc.issuer */
    const char *arn;
    const char *token; /* bearer token "k8s-aws-v1...." */
};

/* DescribeCluster name. On failure *OUT_err says why (AWS code and message). Returns PD_OK,
 * PD_ENOTFOUND (no such cluster) or PD_EINVAL / PD_EIO. */
int pdc_eks_cluster(struct pdc_ctx *c, const char *name, struct pdc_cluster *OUT,
                    const char **OUT_err);

/* "k8s-aws-v1." + base64url(presigned GetCallerIdentity URL to podiam's endpoint, with the
 * signed header x-k8s-aws-id: cluster), as `aws eks get-token` makes it. */
int pdc_eks_token(struct pdc_ctx *c, const char *cluster, const char **OUT_token);

/* A Kubernetes API call on the cluster: path under the cluster endpoint ("/api/v1/..."),
 * body JSON text or NULL. *OUT_json is the parsed answer (new reference, NULL if not JSON).
 * Returns PD_OK (2xx), PD_ENOTFOUND (404), PD_EINVAL (other status; *OUT_err has the
 * Status message), PD_EIO. */
int pdc_k8s(struct pdc_ctx *c, const struct pdc_cluster *k, const char *method, const char *path,
            const char *body, json_t **OUT_json, const char **OUT_err);

/* What the pod identity webhook gives a pod of service account ns/sa. */
struct pdc_pod_identity {
    json_t *sa;             /* the ServiceAccount (new reference) */
    json_t *pod;            /* the mutated pod (new reference) or NULL */
    const char *role_arn;   /* AWS_ROLE_ARN, NULL when the webhook did not mutate */
    const char *token_path; /* AWS_WEB_IDENTITY_TOKEN_FILE in the pod */
    const char *audience;   /* projected token audience */
    long long expiration;   /* projected token expirationSeconds */
    json_t *env;            /* the container's env list (borrowed from pod), or NULL */
};

/* Read ns/sa, then POST a minimal pod naming it with dryRun=All and read back what the
 * webhook injected. Returns PD_OK (role_arn may still be NULL: no annotation), PD_ENOTFOUND
 * (no such service account; *OUT_err), PD_EINVAL / PD_EIO. */
int pdc_pod_identity(struct pdc_ctx *c, const struct pdc_cluster *k, const char *ns, const char *sa,
                     struct pdc_pod_identity *OUT, const char **OUT_err);
void pdc_pod_identity_free(struct pdc_pod_identity *p);

/* The value of variable name in a container's env list (pdc_pod_identity's env), or NULL.
 * Borrowed from env. */
const char *pdc_pod_env(const json_t *env, const char *name);

/* TokenRequest for ns/sa with audience and expirationSeconds (0: server default). */
int pdc_k8s_token(struct pdc_ctx *c, const struct pdc_cluster *k, const char *ns, const char *sa,
                  const char *audience, long long expiration, const char **OUT_token,
                  const char **OUT_err);

/* The same, bound to the pod name (uid) when pod is not NULL: the token a kubelet projects
 * into that pod. */
int pdc_k8s_token_bound(struct pdc_ctx *c, const struct pdc_cluster *k, const char *ns,
                        const char *sa, const char *audience, long long expiration, const char *pod,
                        const char *pod_uid, const char **OUT_token, const char **OUT_err);

/* The pod podiamctl-SA in ns that stands for the local process (a Pod Identity token is
 * bound to a pod): read, or created when missing. Its name and uid (arena). */
int pdc_k8s_standin_pod(struct pdc_ctx *c, const struct pdc_cluster *k, const char *ns,
                        const char *sa, const char **OUT_name, const char **OUT_uid,
                        const char **OUT_err);

#endif
