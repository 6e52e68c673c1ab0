/*
 * access.h - EKS's side of Kubernetes access for one request: who a verified IAM caller is
 * in a cluster (mode, access entries, aws-auth; k8s/identity.h) and which access entry, with
 * its associated access policies (k8s/access_policy.h), mapped it.
 *
 * For the API server's authentication (k8s/iam_user.c), which hands the mapped entry's
 * policies to the EKS member of the authorizer chain (k8s/authz_eks.c). Reads the store; the
 * decisions are the pure modules'.
 */
#ifndef PD_K8S_ACCESS_H
#define PD_K8S_ACCESS_H

#include <stddef.h>

#include "auth/principal.h"
#include "k8s/access_policy.h"
#include "k8s/awsauth.h"
#include "k8s/identity.h"
#include "services/eks.h"

struct pd_db;
struct pd_arena;

struct pd_k8s_eks_identity {
    struct pd_eks_identity id;           /* the mapping and its trace */
    struct pd_eks_access_entry *entries; /* the cluster's (arena) */
    size_t nentries;
    const struct pd_eks_access_entry *entry; /* the one that mapped the caller, or NULL */
    const struct pd_awsauth *aws_auth;       /* the parsed ConfigMap (present 0: none) */
    struct pd_awsauth_cache *cache;          /* where aws_auth is held, or NULL */
    struct pd_awsauth_ref *ref;              /* its hold; pd_k8s_eks_identity_release */
};

/* Map the IAM caller p of cluster c. cache: the process's aws-auth cache, or NULL to parse
 * into a (slower, for tests). PD_OK with OUT->id.by (PD_EKS_NOT_MAPPED: Unauthorized), or
 * a store error. Release with pd_k8s_eks_identity_release in every case. */
int pd_k8s_eks_identity(struct pd_db *db, struct pd_arena *a, struct pd_awsauth_cache *cache,
                        const struct pd_eks_cluster *c, const struct pd_principal *p,
                        struct pd_k8s_eks_identity *OUT);
void pd_k8s_eks_identity_release(struct pd_k8s_eks_identity *x);

#endif
