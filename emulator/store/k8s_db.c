/* k8s_db.c - Kubernetes objects and resourceVersion counters in SQLite (see k8s_db.h). */
#include "store/k8s_db.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/db.h"

int pd_k8s_db_cluster_init(struct pd_db *db, const char *cluster, int64_t rv)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "INSERT INTO k8s_clusters(cluster_id, resource_version) VALUES (?1, ?2)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster);
    sqlite3_bind_int64(st, 2, rv);
    return pd_db_exec_stmt(db, st);
}

int pd_k8s_db_rv(struct pd_db *db, const char *cluster, int64_t *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT resource_version FROM k8s_clusters WHERE cluster_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster);
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW)
        *OUT = sqlite3_column_int64(st, 0);
    else
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_k8s_db_rv_next(struct pd_db *db, const char *cluster, int64_t *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE k8s_clusters SET resource_version = "
                                      "resource_version + 1 WHERE cluster_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster);
    int rc = pd_db_exec_stmt(db, st);
    return rc ? rc : pd_k8s_db_rv(db, cluster, OUT);
}

#define OBJ_COLS "resource, namespace, name, uid, resource_version, created_ms, body"

static void row_obj(struct pd_arena *a, sqlite3_stmt *st, struct pd_k8s_db_obj *o)
{
    o->resource = pd_db_col_text(a, st, 0);
    o->ns = pd_db_col_text(a, st, 1);
    o->name = pd_db_col_text(a, st, 2);
    o->uid = pd_db_col_text(a, st, 3);
    o->rv = sqlite3_column_int64(st, 4);
    o->created_ms = sqlite3_column_int64(st, 5);
    o->body = pd_db_col_text(a, st, 6);
}

int pd_k8s_db_get(struct pd_db *db, struct pd_arena *a, const char *cluster, const char *resource,
                  const char *ns, const char *name, struct pd_k8s_db_obj *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " OBJ_COLS " FROM k8s_objects WHERE cluster_id = ?1 "
                                      "AND resource = ?2 AND namespace = ?3 AND name = ?4");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster);
    pd_db_bind_text(st, 2, resource);
    pd_db_bind_text(st, 3, ns ? ns : "");
    pd_db_bind_text(st, 4, name);
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW)
        row_obj(a, st, OUT);
    else
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_k8s_db_put(struct pd_db *db, const char *cluster, const struct pd_k8s_db_obj *o, int replace)
{
    sqlite3_stmt *st =
        replace ? pd_db_stmt(db, "INSERT OR REPLACE INTO k8s_objects(cluster_id, " OBJ_COLS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                : pd_db_stmt(db, "INSERT INTO k8s_objects(cluster_id, " OBJ_COLS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster);
    pd_db_bind_text(st, 2, o->resource);
    pd_db_bind_text(st, 3, o->ns ? o->ns : "");
    pd_db_bind_text(st, 4, o->name);
    pd_db_bind_text(st, 5, o->uid);
    sqlite3_bind_int64(st, 6, o->rv);
    sqlite3_bind_int64(st, 7, o->created_ms);
    pd_db_bind_text(st, 8, o->body);
    return pd_db_exec_stmt(db, st);
}

int pd_k8s_db_del(struct pd_db *db, const char *cluster, const char *resource, const char *ns,
                  const char *name)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM k8s_objects WHERE cluster_id = ?1 AND "
                                      "resource = ?2 AND namespace = ?3 AND name = ?4");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster);
    pd_db_bind_text(st, 2, resource);
    pd_db_bind_text(st, 3, ns ? ns : "");
    pd_db_bind_text(st, 4, name);
    int rc = pd_db_exec_stmt(db, st);
    if (rc == PD_OK && sqlite3_changes(pd_db_handle(db)) == 0)
        rc = PD_ENOTFOUND;
    return rc;
}

int pd_k8s_db_del_ns(struct pd_db *db, const char *cluster, const char *ns)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM k8s_objects WHERE cluster_id = ?1 AND namespace = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster);
    pd_db_bind_text(st, 2, ns);
    return pd_db_exec_stmt(db, st);
}

int pd_k8s_db_list(struct pd_db *db, struct pd_arena *a, const char *cluster, const char *resource,
                   const char *ns, struct pd_k8s_db_obj **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " OBJ_COLS " FROM k8s_objects WHERE cluster_id = ?1 AND "
                       "(?2 IS NULL OR resource = ?2) AND (?3 IS NULL OR namespace = ?3) "
                       "ORDER BY resource, namespace, name");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster);
    pd_db_bind_text(st, 2, resource);
    pd_db_bind_text(st, 3, ns);
    size_t n = 0, cap = 16;
    struct pd_k8s_db_obj *v = pd_arena_alloc(a, cap * sizeof *v);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            struct pd_k8s_db_obj *w = pd_arena_alloc(a, 2 * cap * sizeof *w);
            memcpy(w, v, n * sizeof *v);
            v = w;
            cap *= 2;
        }
        row_obj(a, st, &v[n++]);
    }
    int rc = src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
    sqlite3_reset(st);
    *OUT = v;
    *OUT_n = n;
    return rc;
}
