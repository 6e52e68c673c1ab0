/* eks_db.c - EKS clusters, updates, access entries and their access policies in SQLite (see
 * eks_db.h). */
#include "store/eks_db.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/db.h"

#define CLUSTER_COLS                                                                               \
    "id, account_id, region, name, cluster_id, issuer, status, version, platform_version, "        \
    "role_arn, creator_arn, created_ms, config, tags"

static void row_cluster(struct pd_arena *a, sqlite3_stmt *st, struct pd_eks_db_cluster *c)
{
    c->id = sqlite3_column_int64(st, 0);
    c->account_id = pd_db_col_text(a, st, 1);
    c->region = pd_db_col_text(a, st, 2);
    c->name = pd_db_col_text(a, st, 3);
    c->cluster_id = pd_db_col_text(a, st, 4);
    c->issuer = pd_db_col_text(a, st, 5);
    c->status = pd_db_col_text(a, st, 6);
    c->version = pd_db_col_text(a, st, 7);
    c->platform_version = pd_db_col_text(a, st, 8);
    c->role_arn = pd_db_col_text(a, st, 9);
    c->creator_arn = pd_db_col_text(a, st, 10);
    c->created_ms = sqlite3_column_int64(st, 11);
    c->config = pd_db_col_text(a, st, 12);
    c->tags = pd_db_col_text(a, st, 13);
}

/* Step a statement expected to return at most one row into *OUT. */
static int one_cluster(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st,
                       struct pd_eks_db_cluster *OUT)
{
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW)
        row_cluster(a, st, OUT);
    else
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_eks_db_cluster_put(struct pd_db *db, struct pd_eks_db_cluster *c)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO eks_clusters(account_id, region, name, cluster_id, issuer, status, "
            "version, platform_version, role_arn, creator_arn, created_ms, config, tags) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, c->account_id);
    pd_db_bind_text(st, 2, c->region);
    pd_db_bind_text(st, 3, c->name);
    pd_db_bind_text(st, 4, c->cluster_id);
    pd_db_bind_text(st, 5, c->issuer);
    pd_db_bind_text(st, 6, c->status);
    pd_db_bind_text(st, 7, c->version);
    pd_db_bind_text(st, 8, c->platform_version);
    pd_db_bind_text(st, 9, c->role_arn);
    pd_db_bind_text(st, 10, c->creator_arn);
    sqlite3_bind_int64(st, 11, c->created_ms);
    pd_db_bind_text(st, 12, c->config);
    pd_db_bind_text(st, 13, c->tags);
    int rc = pd_db_exec_stmt(db, st);
    if (rc == PD_OK)
        c->id = sqlite3_last_insert_rowid(pd_db_handle(db));
    return rc;
}

int pd_eks_db_cluster_get(struct pd_db *db, struct pd_arena *a, const char *account,
                          const char *region, const char *name, struct pd_eks_db_cluster *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " CLUSTER_COLS " FROM eks_clusters WHERE "
                                      "account_id = ?1 AND region = ?2 AND name = ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, region);
    pd_db_bind_text(st, 3, name);
    return one_cluster(db, a, st, OUT);
}

int pd_eks_db_cluster_by_id(struct pd_db *db, struct pd_arena *a, const char *cluster_id,
                            struct pd_eks_db_cluster *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " CLUSTER_COLS " FROM eks_clusters WHERE cluster_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, cluster_id);
    return one_cluster(db, a, st, OUT);
}

int pd_eks_db_cluster_by_issuer(struct pd_db *db, struct pd_arena *a, const char *issuer,
                                struct pd_eks_db_cluster *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " CLUSTER_COLS " FROM eks_clusters WHERE issuer = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, issuer);
    return one_cluster(db, a, st, OUT);
}

int pd_eks_db_cluster_names(struct pd_db *db, struct pd_arena *a, const char *account,
                            const char *region, const char *after, size_t limit,
                            const char ***OUT_names, size_t *OUT_n, int *OUT_more)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT name FROM eks_clusters WHERE account_id = ?1 AND "
                                      "region = ?2 AND name > ?3 ORDER BY name LIMIT ?4");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, region);
    pd_db_bind_text(st, 3, after ? after : "");
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit + 1);
    const char **v = pd_arena_zalloc(a, (limit + 2) * sizeof *v);
    size_t n = 0;
    int src, more = 0;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            more = 1;
            continue;
        }
        v[n++] = pd_db_col_text(a, st, 0);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    *OUT_names = v;
    *OUT_n = n;
    *OUT_more = more;
    return PD_OK;
}

int pd_eks_db_cluster_all(struct pd_db *db, struct pd_arena *a, struct pd_eks_db_cluster **OUT,
                          size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " CLUSTER_COLS
                                      " FROM eks_clusters ORDER BY account_id, region, name");
    if (!st)
        return PD_EINTERNAL;
    struct pd_eks_db_cluster *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct pd_eks_db_cluster *nv = pd_arena_zalloc(a, ncap * sizeof *nv);
            if (n)
                memcpy(nv, v, n * sizeof *nv);
            v = nv;
            cap = ncap;
        }
        row_cluster(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}

int pd_eks_db_cluster_set(struct pd_db *db, int64_t id, const char *config, const char *tags)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "UPDATE eks_clusters SET config = ?2, tags = ?3 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, config);
    pd_db_bind_text(st, 3, tags);
    return pd_db_exec_stmt(db, st);
}

int pd_eks_db_cluster_del(struct pd_db *db, int64_t id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM eks_clusters WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    return pd_db_exec_stmt(db, st);
}

int pd_eks_db_update_put(struct pd_db *db, int64_t cluster, const char *update_id,
                         int64_t created_ms, const char *doc)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO eks_updates(id, cluster, created_ms, doc) VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, update_id);
    sqlite3_bind_int64(st, 2, cluster);
    sqlite3_bind_int64(st, 3, created_ms);
    pd_db_bind_text(st, 4, doc);
    return pd_db_exec_stmt(db, st);
}

int pd_eks_db_update_get(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                         const char *update_id, const char **OUT_doc)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT doc FROM eks_updates WHERE id = ?1 AND cluster = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, update_id);
    sqlite3_bind_int64(st, 2, cluster);
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW)
        *OUT_doc = pd_db_col_text(a, st, 0);
    else
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_eks_db_update_ids(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                         const char ***OUT_ids, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT id FROM eks_updates WHERE cluster = ?1 ORDER BY created_ms, id");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, cluster);
    return pd_db_col_texts(db, a, st, OUT_ids, OUT_n);
}

/* ---- access entries (schema version 7) ---- */

#define ENTRY_COLS                                                                                 \
    "id, cluster, principal_arn, principal_id, type, username, kube_groups, tags, uuid, "          \
    "created_ms, modified_ms"

static void row_entry(struct pd_arena *a, sqlite3_stmt *st, struct pd_eks_db_entry *e)
{
    e->id = sqlite3_column_int64(st, 0);
    e->cluster = sqlite3_column_int64(st, 1);
    e->principal_arn = pd_db_col_text(a, st, 2);
    e->principal_id = pd_db_col_text(a, st, 3);
    e->type = pd_db_col_text(a, st, 4);
    e->username = pd_db_col_text(a, st, 5);
    e->groups = pd_db_col_text(a, st, 6);
    e->tags = pd_db_col_text(a, st, 7);
    e->uuid = pd_db_col_text(a, st, 8);
    e->created_ms = sqlite3_column_int64(st, 9);
    e->modified_ms = sqlite3_column_int64(st, 10);
}

static int one_entry(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st,
                     struct pd_eks_db_entry *OUT)
{
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW)
        row_entry(a, st, OUT);
    else
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_eks_db_entry_put(struct pd_db *db, struct pd_eks_db_entry *e)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO eks_access_entries(cluster, principal_arn, principal_id, type, username, "
            "kube_groups, tags, uuid, created_ms, modified_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, e->cluster);
    pd_db_bind_text(st, 2, e->principal_arn);
    pd_db_bind_text(st, 3, e->principal_id);
    pd_db_bind_text(st, 4, e->type);
    pd_db_bind_text(st, 5, e->username);
    pd_db_bind_text(st, 6, e->groups);
    pd_db_bind_text(st, 7, e->tags);
    pd_db_bind_text(st, 8, e->uuid);
    sqlite3_bind_int64(st, 9, e->created_ms);
    sqlite3_bind_int64(st, 10, e->modified_ms);
    int rc = pd_db_exec_stmt(db, st);
    if (rc == PD_OK)
        e->id = sqlite3_last_insert_rowid(pd_db_handle(db));
    return rc;
}

int pd_eks_db_entry_get(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                        const char *principal_arn, struct pd_eks_db_entry *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ENTRY_COLS " FROM eks_access_entries WHERE "
                                      "cluster = ?1 AND principal_arn = ?2");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, cluster);
    pd_db_bind_text(st, 2, principal_arn);
    return one_entry(db, a, st, OUT);
}

int pd_eks_db_entry_by_principal_id(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                                    const char *principal_id, struct pd_eks_db_entry *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ENTRY_COLS " FROM eks_access_entries WHERE "
                                      "cluster = ?1 AND principal_id = ?2 ORDER BY id LIMIT 1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, cluster);
    pd_db_bind_text(st, 2, principal_id);
    return one_entry(db, a, st, OUT);
}

int pd_eks_db_entry_all(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                        struct pd_eks_db_entry **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ENTRY_COLS " FROM eks_access_entries WHERE "
                                      "cluster = ?1 ORDER BY principal_arn");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, cluster);
    struct pd_eks_db_entry *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_entry(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}

int pd_eks_db_entry_set(struct pd_db *db, int64_t id, const char *username, const char *groups,
                        const char *tags, int64_t modified_ms)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "UPDATE eks_access_entries SET username = ?2, "
                       "kube_groups = ?3, tags = ?4, modified_ms = ?5 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, username);
    pd_db_bind_text(st, 3, groups);
    pd_db_bind_text(st, 4, tags);
    sqlite3_bind_int64(st, 5, modified_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_eks_db_entry_del(struct pd_db *db, int64_t id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM eks_access_entries WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    return pd_db_exec_stmt(db, st);
}

#define ASSOC_COLS "entry, policy_arn, scope, namespaces, associated_ms, modified_ms"

static void row_assoc(struct pd_arena *a, sqlite3_stmt *st, struct pd_eks_db_assoc *s)
{
    s->entry = sqlite3_column_int64(st, 0);
    s->policy_arn = pd_db_col_text(a, st, 1);
    s->scope = pd_db_col_text(a, st, 2);
    s->namespaces = pd_db_col_text(a, st, 3);
    s->associated_ms = sqlite3_column_int64(st, 4);
    s->modified_ms = sqlite3_column_int64(st, 5);
}

int pd_eks_db_assoc_put(struct pd_db *db, const struct pd_eks_db_assoc *s)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO eks_access_policies(" ASSOC_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
            "ON CONFLICT (entry, policy_arn) DO UPDATE SET scope = excluded.scope, "
            "namespaces = excluded.namespaces, modified_ms = excluded.modified_ms");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, s->entry);
    pd_db_bind_text(st, 2, s->policy_arn);
    pd_db_bind_text(st, 3, s->scope);
    pd_db_bind_text(st, 4, s->namespaces);
    sqlite3_bind_int64(st, 5, s->associated_ms);
    sqlite3_bind_int64(st, 6, s->modified_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_eks_db_assoc_get(struct pd_db *db, struct pd_arena *a, int64_t entry, const char *policy_arn,
                        struct pd_eks_db_assoc *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ASSOC_COLS " FROM eks_access_policies WHERE "
                                      "entry = ?1 AND policy_arn = ?2");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, entry);
    pd_db_bind_text(st, 2, policy_arn);
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW)
        row_assoc(a, st, OUT);
    else
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_eks_db_assoc_list(struct pd_db *db, struct pd_arena *a, int64_t entry,
                         struct pd_eks_db_assoc **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ASSOC_COLS " FROM eks_access_policies WHERE "
                                      "entry = ?1 ORDER BY policy_arn");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, entry);
    struct pd_eks_db_assoc *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_assoc(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}

int pd_eks_db_assoc_del(struct pd_db *db, int64_t entry, const char *policy_arn)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM eks_access_policies WHERE entry = ?1 AND policy_arn = ?2");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, entry);
    pd_db_bind_text(st, 2, policy_arn);
    return pd_db_exec_stmt(db, st);
}

/* ---- Pod Identity associations (schema version 10) ---- */

#define PODID_COLS                                                                                 \
    "id, cluster, assoc_id, namespace, service_account, role_arn, target_role_arn, external_id, "  \
    "disable_session_tags, policy, tags, created_ms, modified_ms"

static void row_podid(struct pd_arena *a, sqlite3_stmt *st, struct pd_eks_db_podid *p)
{
    p->id = sqlite3_column_int64(st, 0);
    p->cluster = sqlite3_column_int64(st, 1);
    p->assoc_id = pd_db_col_text(a, st, 2);
    p->namespace_ = pd_db_col_text(a, st, 3);
    p->service_account = pd_db_col_text(a, st, 4);
    p->role_arn = pd_db_col_text(a, st, 5);
    p->target_role_arn = pd_db_col_text(a, st, 6);
    p->external_id = pd_db_col_text(a, st, 7);
    p->disable_session_tags = sqlite3_column_int(st, 8) != 0;
    p->policy = pd_db_col_text(a, st, 9);
    p->tags = pd_db_col_text(a, st, 10);
    p->created_ms = sqlite3_column_int64(st, 11);
    p->modified_ms = sqlite3_column_int64(st, 12);
}

static int one_podid(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st,
                     struct pd_eks_db_podid *OUT)
{
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW)
        row_podid(a, st, OUT);
    else
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_eks_db_podid_put(struct pd_db *db, struct pd_eks_db_podid *p)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO eks_pod_identity(cluster, assoc_id, namespace, service_account, "
            "role_arn, target_role_arn, external_id, disable_session_tags, policy, tags, "
            "created_ms, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, p->cluster);
    pd_db_bind_text(st, 2, p->assoc_id);
    pd_db_bind_text(st, 3, p->namespace_);
    pd_db_bind_text(st, 4, p->service_account);
    pd_db_bind_text(st, 5, p->role_arn);
    pd_db_bind_text(st, 6, p->target_role_arn);
    pd_db_bind_text(st, 7, p->external_id);
    sqlite3_bind_int(st, 8, p->disable_session_tags ? 1 : 0);
    pd_db_bind_text(st, 9, p->policy);
    pd_db_bind_text(st, 10, p->tags);
    sqlite3_bind_int64(st, 11, p->created_ms);
    sqlite3_bind_int64(st, 12, p->modified_ms);
    int rc = pd_db_exec_stmt(db, st);
    if (rc == PD_OK)
        p->id = sqlite3_last_insert_rowid(pd_db_handle(db));
    return rc;
}

int pd_eks_db_podid_get(struct pd_db *db, struct pd_arena *a, int64_t cluster, const char *assoc_id,
                        struct pd_eks_db_podid *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " PODID_COLS " FROM eks_pod_identity WHERE "
                                      "cluster = ?1 AND assoc_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, cluster);
    pd_db_bind_text(st, 2, assoc_id);
    return one_podid(db, a, st, OUT);
}

int pd_eks_db_podid_by_id(struct pd_db *db, struct pd_arena *a, const char *assoc_id,
                          struct pd_eks_db_podid *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " PODID_COLS " FROM eks_pod_identity WHERE assoc_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, assoc_id);
    return one_podid(db, a, st, OUT);
}

int pd_eks_db_podid_find(struct pd_db *db, struct pd_arena *a, int64_t cluster, const char *ns,
                         const char *sa, struct pd_eks_db_podid *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " PODID_COLS " FROM eks_pod_identity WHERE "
                                      "cluster = ?1 AND namespace = ?2 AND service_account = ?3");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, cluster);
    pd_db_bind_text(st, 2, ns);
    pd_db_bind_text(st, 3, sa);
    return one_podid(db, a, st, OUT);
}

int pd_eks_db_podid_all(struct pd_db *db, struct pd_arena *a, int64_t cluster,
                        struct pd_eks_db_podid **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " PODID_COLS " FROM eks_pod_identity WHERE "
                                      "cluster = ?1 ORDER BY namespace, service_account");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, cluster);
    struct pd_eks_db_podid *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_podid(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}

int pd_eks_db_podid_set(struct pd_db *db, const struct pd_eks_db_podid *p)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "UPDATE eks_pod_identity SET role_arn = ?2, target_role_arn = ?3, external_id = ?4, "
            "disable_session_tags = ?5, policy = ?6, tags = ?7, modified_ms = ?8 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, p->id);
    pd_db_bind_text(st, 2, p->role_arn);
    pd_db_bind_text(st, 3, p->target_role_arn);
    pd_db_bind_text(st, 4, p->external_id);
    sqlite3_bind_int(st, 5, p->disable_session_tags ? 1 : 0);
    pd_db_bind_text(st, 6, p->policy);
    pd_db_bind_text(st, 7, p->tags);
    sqlite3_bind_int64(st, 8, p->modified_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_eks_db_podid_del(struct pd_db *db, int64_t id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM eks_pod_identity WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    return pd_db_exec_stmt(db, st);
}
