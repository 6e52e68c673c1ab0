/*
 * eks_db.h - the EKS state: clusters (per account and region) and their config updates.
 *
 * Typed functions over the eks_* tables of schema.sql (version 4); no SQL leaves store/.
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

#endif
