/*
 * eks.h - what other services use of EKS clusters (the Kubernetes API, podiamctl's
 * handshake via the admin API): finding a cluster and its identity.
 *
 * A cluster lives in one account and region. Its id is 32 upper-case hex characters, used
 * both in its OIDC issuer URL (https://oidc.eks.REGION.amazonaws.com/id/ID) and in its
 * Kubernetes endpoint, which podiam serves on its TLS listener at
 * https://HOST:TLSPORT/_podiam/k8s/ID (certificateAuthority.data is podiam's CA).
 */
#ifndef PD_SERVICES_EKS_H
#define PD_SERVICES_EKS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s/access_policy.h"
#include "k8s/identity.h"

struct pd_db;
struct pd_arena;
struct pd_env;

struct pd_eks_cluster {
    const char *account_id;
    const char *region;
    const char *name;
    const char *arn;         /* arn:aws:eks:REGION:ACCT:cluster/NAME */
    const char *id;          /* 32 upper-case hex characters */
    const char *issuer;      /* https://oidc.eks.REGION.amazonaws.com/id/ID (or configured) */
    const char *status;      /* ACTIVE, ... */
    const char *version;     /* Kubernetes version, "1.32" */
    const char *creator_arn; /* who called CreateCluster: a cluster admin in Kubernetes */
    const char *role_arn;
    int64_t created_ms;
    const char
        *auth_mode; /* accessConfig.authenticationMode: CONFIG_MAP, API_AND_CONFIG_MAP, API */
};

/* An access entry of a cluster with the access policies associated to it, as the Kubernetes
 * API's authentication (k8s/identity.h) and the EKS authorizer (k8s/access_policy.h) read
 * them. Arena strings. */
struct pd_eks_access_entry {
    struct pd_eks_entry_ref ref;
    struct pd_eks_policy_assoc *policies;
    size_t npolicies;
};

/* Every access entry of the cluster with this id (none while its mode is CONFIG_MAP, as EKS
 * reads none then), by principal ARN. PD_OK, PD_ENOTFOUND (no such cluster), PD_EIO. */
int pd_eks_access_entries(struct pd_db *db, struct pd_arena *a, const char *cluster_id,
                          struct pd_eks_access_entry **OUT, size_t *OUT_n);

/* The cluster with this id (any account or region), PD_ENOTFOUND when none. */
int pd_eks_cluster_by_id(struct pd_db *db, struct pd_arena *a, const char *id,
                         struct pd_eks_cluster *OUT);
/* The cluster named name in account/region, PD_ENOTFOUND when none. */
int pd_eks_cluster_by_name(struct pd_db *db, struct pd_arena *a, const char *account,
                           const char *region, const char *name, struct pd_eks_cluster *OUT);

/* The cluster whose OIDC issuer is url, PD_ENOTFOUND when none. */
int pd_eks_cluster_by_issuer(struct pd_db *db, struct pd_arena *a, const char *url,
                             struct pd_eks_cluster *OUT);

/* Load a fixtures "eks" section ({"clusters": [...]}, docs/fixtures.md) through CreateCluster's
 * own code, in the caller's write transaction. PD_OK or PD_EINVAL with *OUT_err (malloc'd)
 * naming the entry. */
int pd_eks_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *section, const char *origin,
                         char **OUT_err);
/* Every cluster as an "eks" section, issuer keys pinned (new reference). */
int pd_eks_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT);

/* Does the cluster with this id have a Pod Identity association for namespace ns and service
 * account sa (the webhook's question)? 1 / 0. */
int pd_eks_podid_exists(struct pd_db *db, struct pd_arena *a, const char *cluster_id,
                        const char *ns, const char *sa);

#endif
