/*
 * eks_db.h - the EKS state: clusters (per account and region), their config updates, and
 * their access entries with the access policies associated to them.
 *
 * Typed functions over the eks_* tables of schema.sql (versions 4 and 7); no SQL leaves
 * store/.
 * Strings returned are copied into the caller's arena. Rules (validation, messages, what a
 * cluster looks like on the wire) are the EKS service's (services/eks.c); this module only
 * stores and finds. Writes must run inside a write transaction. Return codes: PD_OK,
 * PD_ENOTFOUND, PD_ECONFLICT (name or cluster id taken), PD_EIO / PD_EINTERNAL.
 */
#ifndef PD_STORE_EKS_DB_H
#define PD_STORE_EKS_DB_H

#include <stddef.h>
#include <stdint.h>

struct pd_db;
struct pd_arena;

struct pd_eks_db_cluster {
    int64_t id; /* row id */
    const char *account_id;
    const char *region;
    const char *name;
    const char *cluster_id; /* 32 upper-case hex characters */
    const char *issuer;
    const char *status;
    const char *version;
    const char *platform_version;
    const char *role_arn;
    const char *creator_arn;
    int64_t created_ms;
    const char *config; /* JSON object text: the blocks the API echoes */
    const char *tags;   /* JSON object text */
};

/* Insert c (sets c->id). PD_ECONFLICT when the name (account, region) or cluster id is
 * taken. */
int pd_eks_db_cluster_put(struct pd_db *db, struct pd_eks_db_cluster *c);
int pd_eks_db_cluster_get(struct pd_db *db, struct pd_arena *a, const char *account,
                          const char *region, const char *name, struct pd_eks_db_cluster *OUT);
int pd_eks_db_cluster_by_id(struct pd_db *db, struct pd_arena *a, const char *cluster_id,
                            struct pd_eks_db_cluster *OUT);
int pd_eks_db_cluster_by_issuer(struct pd_db *db, struct pd_arena *a, const char *issuer,
                                struct pd_eks_db_cluster *OUT);
/* Names in account/region sorted, those after `after` (NULL: from the start), at most limit
 * of them; *OUT_more says whether more follow. */
int pd_eks_db_cluster_names(struct pd_db *db, struct pd_arena *a, const char *account,
                            const char *region, const char *after, size_t limit,
                            const char ***OUT_names, size_t *OUT_n, int *OUT_more);
/* Every cluster (all accounts and regions), by account, region, name (for export). */
int pd_eks_db_cluster_all(struct pd_db *db, struct pd_arena *a, struct pd_eks_db_cluster **OUT,
                          size_t *OUT_n);
/* Replace the config and tags texts of row id. */
int pd_eks_db_cluster_set(struct pd_db *db, int64_t id, const char *config, const char *tags);
int pd_eks_db_cluster_del(struct pd_db *db, int64_t id);

/* Updates of a cluster (row id): their JSON documents. */
int pd_eks_db_update_put(struct pd_db *db, int64_t cluster, const char *update_id,
                         int64_t created_ms, const char *doc);
int pd_eks_db_update_get(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                         const char *update_id, const char **OUT_doc);
/* Update ids of a cluster, oldest first. */
int pd_eks_db_update_ids(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                         const char ***OUT_ids, size_t *OUT_n);

/* An access entry of a cluster (row cluster). Texts as stored: groups a JSON array, tags a
 * JSON object. */
struct pd_eks_db_entry {
    int64_t id;      /* row id */
    int64_t cluster; /* eks_clusters row id */
    const char *principal_arn;
    const char *principal_id; /* IAM unique id when made: AROA…, AIDA…, account for root */
    const char *type;         /* STANDARD, EC2_LINUX, … */
    const char *username;     /* the template as stored */
    const char *groups;       /* JSON array text */
    const char *tags;         /* JSON object text */
    const char *uuid;         /* last segment of the entry's ARN */
    int64_t created_ms;
    int64_t modified_ms;
};

/* Insert e (sets e->id). PD_ECONFLICT when the cluster has an entry for that principal ARN. */
int pd_eks_db_entry_put(struct pd_db *db, struct pd_eks_db_entry *e);
int pd_eks_db_entry_get(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                        const char *principal_arn, struct pd_eks_db_entry *OUT);
/* The entry of cluster made for principal id, PD_ENOTFOUND when none. */
int pd_eks_db_entry_by_principal_id(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                                    const char *principal_id, struct pd_eks_db_entry *OUT);
/* Every entry of cluster, by principal ARN (byte order): an arena array. */
int pd_eks_db_entry_all(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                        struct pd_eks_db_entry **OUT, size_t *OUT_n);
/* Replace username, groups and tags of row id and set its modified time. */
int pd_eks_db_entry_set(struct pd_db *db, int64_t id, const char *username, const char *groups,
                        const char *tags, int64_t modified_ms);
/* Delete row id (its policy associations go with it). */
int pd_eks_db_entry_del(struct pd_db *db, int64_t id);

/* An access policy associated to an entry. namespaces: JSON array text. */
struct pd_eks_db_assoc {
    int64_t entry; /* eks_access_entries row id */
    const char *policy_arn;
    const char *scope; /* "cluster" or "namespace" */
    const char *namespaces;
    int64_t associated_ms;
    int64_t modified_ms;
};

/* Insert or replace the association of (entry, policy_arn); associated_ms is kept when it
 * exists already. */
int pd_eks_db_assoc_put(struct pd_db *db, const struct pd_eks_db_assoc *s);
int pd_eks_db_assoc_get(struct pd_db *db, struct pd_arena *a, int64_t entry, const char *policy_arn,
                        struct pd_eks_db_assoc *OUT);
/* Associations of entry by policy ARN: an arena array. */
int pd_eks_db_assoc_list(struct pd_db *db, struct pd_arena *a, int64_t entry,
                         struct pd_eks_db_assoc **OUT, size_t *OUT_n);
int pd_eks_db_assoc_del(struct pd_db *db, int64_t entry, const char *policy_arn);

/* A Pod Identity association (schema version 10): one per cluster, namespace and service
 * account. Optional texts are NULL when unset. */
struct pd_eks_db_podid {
    int64_t id;           /* row id */
    int64_t cluster;      /* eks_clusters row id */
    const char *assoc_id; /* a-… (17 lower-case alphanumerics after "a-") */
    const char *namespace_;
    const char *service_account;
    const char *role_arn;
    const char *target_role_arn; /* or NULL */
    const char *external_id;     /* or NULL (set with target_role_arn) */
    int disable_session_tags;
    const char *policy; /* session policy text, or NULL */
    const char *tags;   /* JSON object text */
    int64_t created_ms;
    int64_t modified_ms;
};

/* Insert p (sets p->id). PD_ECONFLICT when the cluster has one for that namespace and service
 * account (or the id is taken). */
int pd_eks_db_podid_put(struct pd_db *db, struct pd_eks_db_podid *p);
/* By association id within cluster; PD_ENOTFOUND when none. */
int pd_eks_db_podid_get(struct pd_db *db, struct pd_arena *a, int64_t cluster, const char *assoc_id,
                        struct pd_eks_db_podid *OUT);
/* By association id in any cluster (TagResource on its ARN). */
int pd_eks_db_podid_by_id(struct pd_db *db, struct pd_arena *a, const char *assoc_id,
                          struct pd_eks_db_podid *OUT);
/* The one of (cluster, namespace, service account), PD_ENOTFOUND when none. */
int pd_eks_db_podid_find(struct pd_db *db, struct pd_arena *a, int64_t cluster, const char *ns,
                         const char *sa, struct pd_eks_db_podid *OUT);
/* Every association of cluster, by namespace, service account: an arena array. */
int pd_eks_db_podid_all(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                        struct pd_eks_db_podid **OUT, size_t *OUT_n);
/* Replace the mutable fields (role, target, external id, session tags switch, policy, tags,
 * modified time) of row p->id. */
int pd_eks_db_podid_set(struct pd_db *db, const struct pd_eks_db_podid *p);
int pd_eks_db_podid_del(struct pd_db *db, int64_t id);

#endif
