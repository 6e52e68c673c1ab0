/*
 * k8s_db.h - the per-cluster Kubernetes objects (namespaces, service accounts, pods,
 * config maps) and each cluster's resourceVersion counter.
 *
 * Typed functions over the k8s_* tables of schema.sql (version 5); no SQL leaves store/.
 * An object is stored as its whole JSON body plus the columns lists filter and sort on.
 * Rules (validation, defaults, what an object looks like on the wire) are the Kubernetes
 * service's (k8s/api.c); this module only stores and finds. Writes run inside the
 * caller's write transaction. Strings returned are copied into the caller's arena.
 * Return codes: PD_OK, PD_ENOTFOUND, PD_ECONFLICT, PD_EIO / PD_EINTERNAL.
 */
#ifndef PD_STORE_K8S_DB_H
#define PD_STORE_K8S_DB_H

#include <stddef.h>
#include <stdint.h>

struct pd_db;
struct pd_arena;

struct pd_k8s_db_obj {
    const char *resource; /* "pods", "namespaces", ... */
    const char *ns;       /* namespace; "" for cluster-scoped resources */
    const char *name;
    const char *uid;
    int64_t rv; /* resourceVersion */
    int64_t created_ms;
    const char *body; /* the object's JSON */
};

/* Start a cluster's Kubernetes state: its counter at rv. PD_ECONFLICT when it exists. */
int pd_k8s_db_cluster_init(struct pd_db *db, const char *cluster, int64_t rv);
/* The cluster's current resourceVersion; PD_ENOTFOUND when its state was never started. */
int pd_k8s_db_rv(struct pd_db *db, const char *cluster, int64_t *OUT);
/* Increment the counter and return the new value. */
int pd_k8s_db_rv_next(struct pd_db *db, const char *cluster, int64_t *OUT);

int pd_k8s_db_get(struct pd_db *db, struct pd_arena *a, const char *cluster, const char *resource,
                  const char *ns, const char *name, struct pd_k8s_db_obj *OUT);
/* Insert (PD_ECONFLICT when the name is taken) or, with replace = 1, insert or replace. */
int pd_k8s_db_put(struct pd_db *db, const char *cluster, const struct pd_k8s_db_obj *o,
                  int replace);
int pd_k8s_db_del(struct pd_db *db, const char *cluster, const char *resource, const char *ns,
                  const char *name);
/* Every object of a namespace (all resources): deleting a namespace deletes its content. */
int pd_k8s_db_del_ns(struct pd_db *db, const char *cluster, const char *ns);
/* Objects of resource in ns (NULL: every namespace; resource NULL: every resource), ordered
 * by namespace then name; *OUT is an arena array of *OUT_n entries. */
int pd_k8s_db_list(struct pd_db *db, struct pd_arena *a, const char *cluster, const char *resource,
                   const char *ns, struct pd_k8s_db_obj **OUT, size_t *OUT_n);

#endif
