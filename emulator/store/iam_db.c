/*
 * iam_db.c - the IAM tables (see iam_db.h).
 *
 * Owns every SQL statement over the iam_* tables of schema.sql. Statements are string
 * literals cached per connection by pd_db_stmt; rows are copied into the caller's arena
 * before the statement is reset. Knows nothing of IAM's rules: the service decides what
 * may be written, this file writes it.
 */
#include "store/iam_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "store/db.h"

static const char *const kind_names[] = {"user", "group", "role", "policy", "oidc"};

#define TXT(i) pd_db_col_text(a, st, (i))
#define I64(i) sqlite3_column_int64(st, (i))

/* The result of the last step of st (DONE -> PD_OK), and reset it. */
static int finish(struct pd_db *db, sqlite3_stmt *st, int src)
{
    int rc = (src == SQLITE_DONE || src == SQLITE_ROW) ? PD_OK : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

/* Step a statement expected to give at most one row: PD_OK with the row ready, or
 * PD_ENOTFOUND / an error (statement reset). */
static int step_one(struct pd_db *db, sqlite3_stmt *st)
{
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        return PD_OK;
    int rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

static int exec1(struct pd_db *db, sqlite3_stmt *st)
{
    return pd_db_exec_stmt(db, st);
}

/* Rows changed by the last statement of this connection. */
static int changes(struct pd_db *db)
{
    return sqlite3_changes(pd_db_handle(db));
}

static const char *make_arn(struct pd_arena *a, const char *account, const char *type,
                            const char *path, const char *name)
{
    return pd_arena_printf(a, "arn:aws:iam::%s:%s%s%s", account, type, path, name);
}

/* ------------------------------------------------------------------------------------ */
/* accounts */

int pd_iam_db_bootstrap(struct pd_db *db)
{
    int rc = pd_iam_db_account_put(db, PD_IAM_DEFAULT_ACCOUNT, 0);
    if (rc)
        return rc;
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT OR IGNORE INTO iam_access_keys(access_key_id, account_id, user_id, secret, "
            "status, created_ms) VALUES ('test', '000000000000', NULL, 'test', 'Active', 0)");
    return st ? exec1(db, st) : PD_EINTERNAL;
}

int pd_iam_db_account_put(struct pd_db *db, const char *account_id, int64_t created_ms)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT OR IGNORE INTO iam_accounts(account_id, created_ms) VALUES (?1, ?2)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account_id);
    sqlite3_bind_int64(st, 2, created_ms);
    return exec1(db, st);
}

int pd_iam_db_account_get(struct pd_db *db, const char *account_id, int64_t *OUT_created_ms)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT created_ms FROM iam_accounts WHERE account_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account_id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    if (OUT_created_ms)
        *OUT_created_ms = I64(0);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_iam_db_account_list(struct pd_db *db, struct pd_arena *a, const char ***OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT account_id FROM iam_accounts ORDER BY account_id");
    if (!st)
        return PD_EINTERNAL;
    const char **v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = TXT(0);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

/* ------------------------------------------------------------------------------------ */
/* users */

#define USER_COLS "u.id, u.account_id, u.name, u.path, u.unique_id, u.created_ms, u.boundary_arn"

static void row_user(struct pd_arena *a, sqlite3_stmt *st, int c, struct pd_iam_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, c);
    u->account_id = TXT(c + 1);
    u->name = TXT(c + 2);
    u->path = TXT(c + 3);
    u->unique_id = TXT(c + 4);
    u->created_ms = sqlite3_column_int64(st, c + 5);
    u->boundary_arn = TXT(c + 6);
    u->arn = make_arn(a, u->account_id, "user", u->path, u->name);
}

int pd_iam_db_user_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *name,
                       struct pd_iam_user *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " USER_COLS
                                      " FROM iam_users u WHERE u.account_id = ?1 AND u.name = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, name);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_user(a, st, 0, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_iam_db_user_put(struct pd_db *db, struct pd_iam_user *u)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO iam_users(account_id, name, path, unique_id, created_ms, boundary_arn) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, u->account_id);
    pd_db_bind_text(st, 2, u->name);
    pd_db_bind_text(st, 3, u->path);
    pd_db_bind_text(st, 4, u->unique_id);
    sqlite3_bind_int64(st, 5, u->created_ms);
    pd_db_bind_text(st, 6, u->boundary_arn);
    int rc = exec1(db, st);
    if (!rc)
        u->id = sqlite3_last_insert_rowid(pd_db_handle(db));
    return rc;
}

int pd_iam_db_user_update(struct pd_db *db, int64_t id, const char *new_name, const char *new_path)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE iam_users SET name = coalesce(?2, name), "
                                      "path = coalesce(?3, path) WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, new_name);
    pd_db_bind_text(st, 3, new_path);
    return exec1(db, st);
}

int pd_iam_db_user_set_boundary(struct pd_db *db, int64_t id, const char *arn)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE iam_users SET boundary_arn = ?2 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, arn);
    return exec1(db, st);
}

/* Remove the inline policies, attachments and tags of an entity. */
static int del_entity_rows(struct pd_db *db, enum pd_iam_kind kind, int64_t id)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM iam_inline_policies WHERE entity_kind = ?1 AND entity_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    int rc = exec1(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "DELETE FROM iam_attachments WHERE entity_kind = ?1 AND entity_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    rc = exec1(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "DELETE FROM iam_tags WHERE entity_kind = ?1 AND entity_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    return exec1(db, st);
}

int pd_iam_db_user_del(struct pd_db *db, int64_t id)
{
    int rc = del_entity_rows(db, PD_IAM_USER, id);
    if (rc)
        return rc;
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM iam_users WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    return exec1(db, st);
}

static int read_deps(struct pd_db *db, sqlite3_stmt *st, int64_t id, struct pd_iam_deps *OUT)
{
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    OUT->inline_policies = I64(0);
    OUT->attached_policies = I64(1);
    OUT->access_keys = I64(2);
    OUT->groups = I64(3);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_iam_db_user_deps(struct pd_db *db, int64_t id, struct pd_iam_deps *OUT)
{
    return read_deps(
        db,
        pd_db_stmt(db, "SELECT (SELECT count(*) FROM iam_inline_policies WHERE entity_kind = "
                       "'user' AND entity_id = ?1), (SELECT count(*) FROM iam_attachments "
                       "WHERE entity_kind = 'user' AND entity_id = ?1), (SELECT count(*) FROM "
                       "iam_access_keys WHERE user_id = ?1), (SELECT count(*) FROM "
                       "iam_group_members WHERE user_id = ?1)"),
        id, OUT);
}

int pd_iam_db_user_list(struct pd_db *db, struct pd_arena *a, const char *account,
                        const char *path_prefix, struct pd_iam_user **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT " USER_COLS " FROM iam_users u WHERE u.account_id = ?1 AND (?2 IS NULL OR "
            "substr(u.path, 1, length(?2)) = ?2) ORDER BY u.name, u.id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, path_prefix);
    struct pd_iam_user *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_user(a, st, 0, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

/* ------------------------------------------------------------------------------------ */
/* groups */

#define GROUP_COLS "g.id, g.account_id, g.name, g.path, g.unique_id, g.created_ms"

static void row_group(struct pd_arena *a, sqlite3_stmt *st, struct pd_iam_group *g)
{
    memset(g, 0, sizeof *g);
    g->id = I64(0);
    g->account_id = TXT(1);
    g->name = TXT(2);
    g->path = TXT(3);
    g->unique_id = TXT(4);
    g->created_ms = I64(5);
    g->arn = make_arn(a, g->account_id, "group", g->path, g->name);
}

static int group_rows(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st,
                      struct pd_iam_group **OUT, size_t *OUT_n)
{
    struct pd_iam_group *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_group(a, st, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_user_groups(struct pd_db *db, struct pd_arena *a, int64_t user_id,
                          struct pd_iam_group **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " GROUP_COLS " FROM iam_group_members m JOIN iam_groups g ON g.id = "
                       "m.group_id WHERE m.user_id = ?1 ORDER BY g.name, g.id");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, user_id);
    return group_rows(db, a, st, OUT, OUT_n);
}

int pd_iam_db_group_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *name,
                        struct pd_iam_group *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " GROUP_COLS
                                      " FROM iam_groups g WHERE g.account_id = ?1 AND g.name = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, name);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_group(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_iam_db_group_put(struct pd_db *db, struct pd_iam_group *g)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "INSERT INTO iam_groups(account_id, name, path, unique_id, created_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, g->account_id);
    pd_db_bind_text(st, 2, g->name);
    pd_db_bind_text(st, 3, g->path);
    pd_db_bind_text(st, 4, g->unique_id);
    sqlite3_bind_int64(st, 5, g->created_ms);
    int rc = exec1(db, st);
    if (!rc)
        g->id = sqlite3_last_insert_rowid(pd_db_handle(db));
    return rc;
}

int pd_iam_db_group_update(struct pd_db *db, int64_t id, const char *new_name, const char *new_path)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE iam_groups SET name = coalesce(?2, name), "
                                      "path = coalesce(?3, path) WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, new_name);
    pd_db_bind_text(st, 3, new_path);
    return exec1(db, st);
}

int pd_iam_db_group_del(struct pd_db *db, int64_t id)
{
    int rc = del_entity_rows(db, PD_IAM_GROUP, id);
    if (rc)
        return rc;
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM iam_groups WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    return exec1(db, st);
}

int pd_iam_db_group_deps(struct pd_db *db, int64_t id, struct pd_iam_deps *OUT)
{
    return read_deps(
        db,
        pd_db_stmt(db, "SELECT (SELECT count(*) FROM iam_inline_policies WHERE entity_kind = "
                       "'group' AND entity_id = ?1), (SELECT count(*) FROM iam_attachments "
                       "WHERE entity_kind = 'group' AND entity_id = ?1), 0, (SELECT count(*) "
                       "FROM iam_group_members WHERE group_id = ?1)"),
        id, OUT);
}

int pd_iam_db_group_list(struct pd_db *db, struct pd_arena *a, const char *account,
                         const char *path_prefix, struct pd_iam_group **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT " GROUP_COLS " FROM iam_groups g WHERE g.account_id = ?1 AND (?2 IS NULL "
            "OR substr(g.path, 1, length(?2)) = ?2) ORDER BY g.name, g.id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, path_prefix);
    return group_rows(db, a, st, OUT, OUT_n);
}

int pd_iam_db_group_members(struct pd_db *db, struct pd_arena *a, int64_t group_id,
                            struct pd_iam_user **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " USER_COLS " FROM iam_group_members m JOIN iam_users u ON u.id = "
                       "m.user_id WHERE m.group_id = ?1 ORDER BY u.name, u.id");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, group_id);
    struct pd_iam_user *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_user(a, st, 0, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_member_add(struct pd_db *db, int64_t group_id, int64_t user_id)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT OR IGNORE INTO iam_group_members(group_id, user_id) VALUES (?1, ?2)");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_int64(st, 2, user_id);
    return exec1(db, st);
}

int pd_iam_db_member_del(struct pd_db *db, int64_t group_id, int64_t user_id)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM iam_group_members WHERE group_id = ?1 AND user_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, group_id);
    sqlite3_bind_int64(st, 2, user_id);
    int rc = exec1(db, st);
    if (!rc && changes(db) == 0)
        rc = PD_ENOTFOUND;
    return rc;
}

/* ------------------------------------------------------------------------------------ */
/* roles */

#define ROLE_COLS                                                                                  \
    "r.id, r.account_id, r.name, r.path, r.unique_id, r.created_ms, r.trust_policy, "              \
    "r.description, r.max_session, r.boundary_arn, r.last_used_ms, r.last_used_region"

static void row_role(struct pd_arena *a, sqlite3_stmt *st, struct pd_iam_role *r)
{
    memset(r, 0, sizeof *r);
    r->id = I64(0);
    r->account_id = TXT(1);
    r->name = TXT(2);
    r->path = TXT(3);
    r->unique_id = TXT(4);
    r->created_ms = I64(5);
    r->trust_policy = TXT(6);
    r->description = TXT(7);
    r->max_session = sqlite3_column_int(st, 8);
    r->boundary_arn = TXT(9);
    r->last_used_ms = I64(10);
    r->last_used_region = TXT(11);
    r->arn = make_arn(a, r->account_id, "role", r->path, r->name);
}

int pd_iam_db_role_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *name,
                       struct pd_iam_role *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ROLE_COLS
                                      " FROM iam_roles r WHERE r.account_id = ?1 AND r.name = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, name);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_role(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_iam_db_role_put(struct pd_db *db, struct pd_iam_role *r)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO iam_roles(account_id, name, path, unique_id, created_ms, trust_policy, "
            "description, max_session, boundary_arn) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, r->account_id);
    pd_db_bind_text(st, 2, r->name);
    pd_db_bind_text(st, 3, r->path);
    pd_db_bind_text(st, 4, r->unique_id);
    sqlite3_bind_int64(st, 5, r->created_ms);
    pd_db_bind_text(st, 6, r->trust_policy);
    pd_db_bind_text(st, 7, r->description);
    sqlite3_bind_int(st, 8, r->max_session);
    pd_db_bind_text(st, 9, r->boundary_arn);
    int rc = exec1(db, st);
    if (!rc)
        r->id = sqlite3_last_insert_rowid(pd_db_handle(db));
    return rc;
}

int pd_iam_db_role_update(struct pd_db *db, int64_t id, const char *description, int max_session)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "UPDATE iam_roles SET description = CASE WHEN ?2 IS NULL THEN description ELSE ?2 "
            "END, max_session = CASE WHEN ?3 = 0 THEN max_session ELSE ?3 END WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, description);
    sqlite3_bind_int(st, 3, max_session);
    return exec1(db, st);
}

int pd_iam_db_role_set_trust(struct pd_db *db, int64_t id, const char *document)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE iam_roles SET trust_policy = ?2 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, document);
    return exec1(db, st);
}

int pd_iam_db_role_set_boundary(struct pd_db *db, int64_t id, const char *arn)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE iam_roles SET boundary_arn = ?2 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, arn);
    return exec1(db, st);
}

int pd_iam_db_role_touch(struct pd_db *db, int64_t id, int64_t ms, const char *region)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "UPDATE iam_roles SET last_used_ms = ?2, last_used_region = ?3 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ms);
    pd_db_bind_text(st, 3, region);
    return exec1(db, st);
}

int pd_iam_db_role_del(struct pd_db *db, int64_t id)
{
    int rc = del_entity_rows(db, PD_IAM_ROLE, id);
    if (rc)
        return rc;
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM iam_roles WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    return exec1(db, st);
}

int pd_iam_db_role_deps(struct pd_db *db, int64_t id, struct pd_iam_deps *OUT)
{
    return read_deps(
        db,
        pd_db_stmt(db, "SELECT (SELECT count(*) FROM iam_inline_policies WHERE entity_kind = "
                       "'role' AND entity_id = ?1), (SELECT count(*) FROM iam_attachments "
                       "WHERE entity_kind = 'role' AND entity_id = ?1), 0, 0"),
        id, OUT);
}

int pd_iam_db_role_list(struct pd_db *db, struct pd_arena *a, const char *account,
                        const char *path_prefix, struct pd_iam_role **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT " ROLE_COLS " FROM iam_roles r WHERE r.account_id = ?1 AND (?2 IS NULL OR "
            "substr(r.path, 1, length(?2)) = ?2) ORDER BY r.name, r.id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, path_prefix);
    struct pd_iam_role *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_role(a, st, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

/* ------------------------------------------------------------------------------------ */
/* tags */

int pd_iam_db_tags_get(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                       struct pd_iam_tag **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT key, value FROM iam_tags WHERE entity_kind = ?1 "
                                      "AND entity_id = ?2 ORDER BY id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    struct pd_iam_tag *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n].key = TXT(0);
        v[n++].value = TXT(1);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_tag_put(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *key,
                      const char *value)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO iam_tags(entity_kind, entity_id, key, value) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT(entity_kind, entity_id, key) DO UPDATE SET key = excluded.key, "
            "value = excluded.value");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    pd_db_bind_text(st, 3, key);
    pd_db_bind_text(st, 4, value);
    return exec1(db, st);
}

int pd_iam_db_tag_del(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *key)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "DELETE FROM iam_tags WHERE entity_kind = ?1 AND entity_id = ?2 AND key = ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    pd_db_bind_text(st, 3, key);
    return exec1(db, st);
}

int pd_iam_db_tag_exists(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *key)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT 1 FROM iam_tags WHERE entity_kind = ?1 AND entity_id = ?2 AND key = ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    pd_db_bind_text(st, 3, key);
    int rc = step_one(db, st);
    if (rc == PD_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    sqlite3_reset(st);
    return 1;
}

int pd_iam_db_tag_count(struct pd_db *db, enum pd_iam_kind kind, int64_t id, int64_t *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT count(*) FROM iam_tags WHERE entity_kind = ?1 AND entity_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    *OUT = I64(0);
    sqlite3_reset(st);
    return PD_OK;
}

/* ------------------------------------------------------------------------------------ */
/* inline policies */

int pd_iam_db_inline_get(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                         const char *name, struct pd_iam_inline *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT name, document FROM iam_inline_policies WHERE "
                                      "entity_kind = ?1 AND entity_id = ?2 AND name = ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    pd_db_bind_text(st, 3, name);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    OUT->name = TXT(0);
    OUT->document = TXT(1);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_iam_db_inline_put(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *name,
                         const char *document)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO iam_inline_policies(entity_kind, entity_id, name, document) VALUES "
            "(?1, ?2, ?3, ?4) ON CONFLICT(entity_kind, entity_id, name) DO UPDATE SET "
            "document = excluded.document");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    pd_db_bind_text(st, 3, name);
    pd_db_bind_text(st, 4, document);
    return exec1(db, st);
}

int pd_iam_db_inline_del(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *name)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM iam_inline_policies WHERE entity_kind = ?1 "
                                      "AND entity_id = ?2 AND name = ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    pd_db_bind_text(st, 3, name);
    int rc = exec1(db, st);
    if (!rc && changes(db) == 0)
        rc = PD_ENOTFOUND;
    return rc;
}

int pd_iam_db_inline_list(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                          struct pd_iam_inline **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT name, document FROM iam_inline_policies WHERE "
                                      "entity_kind = ?1 AND entity_id = ?2 ORDER BY name, id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    struct pd_iam_inline *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n].name = TXT(0);
        v[n++].document = TXT(1);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

/* ------------------------------------------------------------------------------------ */
/* attachments */

int pd_iam_db_attach(struct pd_db *db, const char *account, enum pd_iam_kind kind, int64_t id,
                     const char *policy_arn)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "INSERT OR IGNORE INTO iam_attachments(account_id, entity_kind, entity_id, "
                       "policy_arn) VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, kind_names[kind]);
    sqlite3_bind_int64(st, 3, id);
    pd_db_bind_text(st, 4, policy_arn);
    return exec1(db, st);
}

int pd_iam_db_detach(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *policy_arn)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM iam_attachments WHERE entity_kind = ?1 AND "
                                      "entity_id = ?2 AND policy_arn = ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    pd_db_bind_text(st, 3, policy_arn);
    int rc = exec1(db, st);
    if (!rc && changes(db) == 0)
        rc = PD_ENOTFOUND;
    return rc;
}

int pd_iam_db_attached_list(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                            const char ***OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT policy_arn FROM iam_attachments WHERE "
                                      "entity_kind = ?1 AND entity_id = ?2 ORDER BY id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind_names[kind]);
    sqlite3_bind_int64(st, 2, id);
    const char **v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = TXT(0);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_policy_entities(struct pd_db *db, struct pd_arena *a, const char *account,
                              const char *policy_arn, int boundary, struct pd_iam_entity_ref **OUT,
                              size_t *OUT_n)
{
    sqlite3_stmt *st;
    if (boundary)
        st = pd_db_stmt(db, "SELECT 0, name, unique_id, path FROM iam_users WHERE account_id = "
                            "?1 AND boundary_arn = ?2 UNION ALL SELECT 2, name, unique_id, path "
                            "FROM iam_roles WHERE account_id = ?1 AND boundary_arn = ?2 "
                            "ORDER BY 1, 2");
    else
        st = pd_db_stmt(
            db, "SELECT 0, u.name, u.unique_id, u.path FROM iam_attachments t JOIN iam_users u "
                "ON t.entity_kind = 'user' AND u.id = t.entity_id WHERE t.account_id = ?1 AND "
                "t.policy_arn = ?2 UNION ALL SELECT 1, g.name, g.unique_id, g.path FROM "
                "iam_attachments t JOIN iam_groups g ON t.entity_kind = 'group' AND g.id = "
                "t.entity_id WHERE t.account_id = ?1 AND t.policy_arn = ?2 UNION ALL SELECT 2, "
                "r.name, r.unique_id, r.path FROM iam_attachments t JOIN iam_roles r ON "
                "t.entity_kind = 'role' AND r.id = t.entity_id WHERE t.account_id = ?1 AND "
                "t.policy_arn = ?2 ORDER BY 1, 2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, policy_arn);
    struct pd_iam_entity_ref *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n].kind = (enum pd_iam_kind)sqlite3_column_int(st, 0);
        v[n].name = TXT(1);
        v[n].unique_id = TXT(2);
        v[n++].path = TXT(3);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

/* ------------------------------------------------------------------------------------ */
/* managed policies */

#define AWS_POLICY_PREFIX "arn:aws:iam::aws:policy"

const struct pd_iam_aws_policy *pd_iam_aws_policy_find(const char *arn)
{
    if (!arn || !pd_has_prefix(arn, AWS_POLICY_PREFIX))
        return NULL;
    const char *rest = arn + strlen(AWS_POLICY_PREFIX);
    for (const struct pd_iam_aws_policy *p = pd_iam_aws_policies; p->name; p++) {
        size_t lp = strlen(p->path);
        if (strncmp(rest, p->path, lp) == 0 && strcmp(rest + lp, p->name) == 0)
            return p;
    }
    return NULL;
}

/* Attachment and boundary counts of an ARN in an account. */
static int usage_counts(struct pd_db *db, const char *account, const char *arn, int64_t *OUT_attach,
                        int64_t *OUT_boundary)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT (SELECT count(*) FROM iam_attachments WHERE account_id = ?1 AND policy_arn "
            "= ?2), (SELECT count(*) FROM iam_users WHERE account_id = ?1 AND boundary_arn = ?2) "
            "+ (SELECT count(*) FROM iam_roles WHERE account_id = ?1 AND boundary_arn = ?2)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, arn);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    *OUT_attach = I64(0);
    *OUT_boundary = I64(1);
    sqlite3_reset(st);
    return PD_OK;
}

static void aws_policy_fill(struct pd_arena *a, const struct pd_iam_aws_policy *ap,
                            struct pd_iam_policy *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->aws_managed = 1;
    OUT->account_id = "aws";
    OUT->name = ap->name;
    OUT->path = ap->path;
    OUT->arn = pd_arena_printf(a, AWS_POLICY_PREFIX "%s%s", ap->path, ap->name);
    OUT->unique_id = ap->policy_id;
    OUT->description = ap->description;
    OUT->created_ms = ap->created_ms;
    OUT->updated_ms = ap->updated_ms;
    OUT->default_version = ap->version_id;
}

#define POLICY_COLS                                                                                \
    "p.id, p.account_id, p.name, p.path, p.arn, p.unique_id, p.description, p.created_ms, "        \
    "p.updated_ms, p.default_version, p.next_version"

static void row_policy(struct pd_arena *a, sqlite3_stmt *st, struct pd_iam_policy *p)
{
    memset(p, 0, sizeof *p);
    p->id = I64(0);
    p->account_id = TXT(1);
    p->name = TXT(2);
    p->path = TXT(3);
    p->arn = TXT(4);
    p->unique_id = TXT(5);
    p->description = TXT(6);
    p->created_ms = I64(7);
    p->updated_ms = I64(8);
    p->default_version = TXT(9);
    p->next_version = I64(10);
}

int pd_iam_db_policy_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *arn,
                         struct pd_iam_policy *OUT)
{
    int rc;
    const struct pd_iam_aws_policy *ap = pd_iam_aws_policy_find(arn);
    if (ap) {
        aws_policy_fill(a, ap, OUT);
    } else {
        sqlite3_stmt *st =
            pd_db_stmt(db, "SELECT " POLICY_COLS " FROM iam_policies p WHERE p.arn = ?1");
        if (!st)
            return PD_EINTERNAL;
        pd_db_bind_text(st, 1, arn);
        rc = step_one(db, st);
        if (rc)
            return rc;
        row_policy(a, st, OUT);
        sqlite3_reset(st);
    }
    return usage_counts(db, account, OUT->arn, &OUT->attachment_count, &OUT->boundary_count);
}

int pd_iam_db_policy_put(struct pd_db *db, struct pd_iam_policy *p, const char *document)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO iam_policies(account_id, name, path, arn, unique_id, description, "
            "created_ms, updated_ms, default_version, next_version) VALUES (?1, ?2, ?3, ?4, ?5, "
            "?6, ?7, ?8, ?9, ?10)");
    if (!st)
        return PD_EINTERNAL;
    int64_t num = strtoll(p->default_version + 1, NULL, 10);
    pd_db_bind_text(st, 1, p->account_id);
    pd_db_bind_text(st, 2, p->name);
    pd_db_bind_text(st, 3, p->path);
    pd_db_bind_text(st, 4, p->arn);
    pd_db_bind_text(st, 5, p->unique_id);
    pd_db_bind_text(st, 6, p->description);
    sqlite3_bind_int64(st, 7, p->created_ms);
    sqlite3_bind_int64(st, 8, p->updated_ms);
    pd_db_bind_text(st, 9, p->default_version);
    sqlite3_bind_int64(st, 10, p->next_version > num ? p->next_version : num + 1);
    int rc = exec1(db, st);
    if (rc)
        return rc;
    p->id = sqlite3_last_insert_rowid(pd_db_handle(db));
    st = pd_db_stmt(db, "INSERT INTO iam_policy_versions(policy_id, version_id, num, document, "
                        "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, p->id);
    pd_db_bind_text(st, 2, p->default_version);
    sqlite3_bind_int64(st, 3, num);
    pd_db_bind_text(st, 4, document);
    sqlite3_bind_int64(st, 5, p->created_ms);
    return exec1(db, st);
}

int pd_iam_db_policy_del(struct pd_db *db, int64_t id)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM iam_tags WHERE entity_kind = 'policy' AND entity_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    int rc = exec1(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "DELETE FROM iam_policies WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    return exec1(db, st);
}

int pd_iam_db_policy_list(struct pd_db *db, struct pd_arena *a, const char *account,
                          enum pd_iam_scope scope, const char *path_prefix,
                          struct pd_iam_policy **OUT, size_t *OUT_n)
{
    struct pd_iam_policy *v = NULL;
    size_t n = 0, cap = 0;
    int rc = PD_OK;
    if (scope != PD_IAM_SCOPE_LOCAL) {
        for (const struct pd_iam_aws_policy *ap = pd_iam_aws_policies; ap->name; ap++) {
            if (path_prefix && !pd_has_prefix(ap->path, path_prefix))
                continue;
            v = pd_arena_grow(a, v, n, &cap, sizeof *v);
            aws_policy_fill(a, ap, &v[n]);
            rc = usage_counts(db, account, v[n].arn, &v[n].attachment_count, &v[n].boundary_count);
            if (rc)
                return rc;
            n++;
        }
    }
    if (scope != PD_IAM_SCOPE_AWS) {
        sqlite3_stmt *st = pd_db_stmt(
            db, "SELECT " POLICY_COLS ", (SELECT count(*) FROM iam_attachments t WHERE "
                "t.account_id = p.account_id AND t.policy_arn = p.arn), (SELECT count(*) FROM "
                "iam_users u WHERE u.account_id = p.account_id AND u.boundary_arn = p.arn) + "
                "(SELECT count(*) FROM iam_roles r WHERE r.account_id = p.account_id AND "
                "r.boundary_arn = p.arn) FROM iam_policies p WHERE p.account_id = ?1 AND (?2 IS "
                "NULL OR substr(p.path, 1, length(?2)) = ?2) ORDER BY p.name, p.id");
        if (!st)
            return PD_EINTERNAL;
        pd_db_bind_text(st, 1, account);
        pd_db_bind_text(st, 2, path_prefix);
        int src;
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            v = pd_arena_grow(a, v, n, &cap, sizeof *v);
            row_policy(a, st, &v[n]);
            v[n].attachment_count = I64(11);
            v[n].boundary_count = I64(12);
            n++;
        }
        rc = finish(db, st, src);
    }
    *OUT = v;
    *OUT_n = n;
    return rc;
}

int pd_iam_db_version_get(struct pd_db *db, struct pd_arena *a, const struct pd_iam_policy *p,
                          const char *version_id, struct pd_iam_policy_version *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    if (p->aws_managed) {
        const struct pd_iam_aws_policy *ap = pd_iam_aws_policy_find(p->arn);
        if (!ap || strcmp(version_id, ap->version_id) != 0)
            return PD_ENOTFOUND;
        OUT->version_id = ap->version_id;
        OUT->document = ap->document;
        OUT->created_ms = ap->updated_ms;
        OUT->is_default = 1;
        return PD_OK;
    }
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT version_id, document, created_ms FROM "
                                      "iam_policy_versions WHERE policy_id = ?1 AND "
                                      "version_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, p->id);
    pd_db_bind_text(st, 2, version_id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    OUT->version_id = TXT(0);
    OUT->document = TXT(1);
    OUT->created_ms = I64(2);
    OUT->is_default = strcmp(OUT->version_id, p->default_version) == 0;
    sqlite3_reset(st);
    return PD_OK;
}

int pd_iam_db_version_list(struct pd_db *db, struct pd_arena *a, const struct pd_iam_policy *p,
                           struct pd_iam_policy_version **OUT, size_t *OUT_n)
{
    if (p->aws_managed) {
        struct pd_iam_policy_version *v = pd_arena_zalloc(a, sizeof *v);
        int rc = pd_iam_db_version_get(db, a, p, p->default_version, v);
        *OUT = v;
        *OUT_n = rc ? 0 : 1;
        return rc;
    }
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT version_id, document, created_ms FROM "
                                      "iam_policy_versions WHERE policy_id = ?1 ORDER BY num "
                                      "DESC");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, p->id);
    struct pd_iam_policy_version *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n].version_id = TXT(0);
        v[n].document = TXT(1);
        v[n].created_ms = I64(2);
        v[n].is_default = strcmp(v[n].version_id, p->default_version) == 0;
        n++;
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_version_put(struct pd_db *db, struct pd_arena *a, const struct pd_iam_policy *p,
                          const char *version_id, const char *document, int64_t created_ms,
                          int set_default, const char **OUT_version_id)
{
    const char *vid = version_id ? pd_arena_strdup(a, version_id)
                                 : pd_arena_printf(a, "v%lld", (long long)p->next_version);
    int64_t num = strtoll(vid + 1, NULL, 10);
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT INTO iam_policy_versions(policy_id, version_id, "
                                      "num, document, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, p->id);
    pd_db_bind_text(st, 2, vid);
    sqlite3_bind_int64(st, 3, num);
    pd_db_bind_text(st, 4, document);
    sqlite3_bind_int64(st, 5, created_ms);
    int rc = exec1(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "UPDATE iam_policies SET next_version = max(next_version, ?2 + 1), "
                        "default_version = CASE WHEN ?3 THEN ?4 ELSE default_version END, "
                        "updated_ms = CASE WHEN ?3 THEN ?5 ELSE updated_ms END WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, p->id);
    sqlite3_bind_int64(st, 2, num);
    sqlite3_bind_int(st, 3, set_default);
    pd_db_bind_text(st, 4, vid);
    sqlite3_bind_int64(st, 5, created_ms);
    rc = exec1(db, st);
    if (!rc && OUT_version_id)
        *OUT_version_id = vid;
    return rc;
}

int pd_iam_db_version_del(struct pd_db *db, int64_t policy_id, const char *version_id)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM iam_policy_versions WHERE policy_id = ?1 AND version_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, policy_id);
    pd_db_bind_text(st, 2, version_id);
    int rc = exec1(db, st);
    if (!rc && changes(db) == 0)
        rc = PD_ENOTFOUND;
    return rc;
}

int pd_iam_db_version_set_default(struct pd_db *db, int64_t policy_id, const char *version_id,
                                  int64_t updated_ms)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "UPDATE iam_policies SET default_version = ?2, updated_ms = ?3 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, policy_id);
    pd_db_bind_text(st, 2, version_id);
    sqlite3_bind_int64(st, 3, updated_ms);
    return exec1(db, st);
}

/* ------------------------------------------------------------------------------------ */
/* access keys */

#define KEY_COLS                                                                                   \
    "k.access_key_id, k.account_id, k.user_id, u.name, k.secret, k.status, k.created_ms, "         \
    "k.last_used_ms, k.last_used_region, k.last_used_service"

static void row_key(struct pd_arena *a, sqlite3_stmt *st, struct pd_iam_access_key *k)
{
    memset(k, 0, sizeof *k);
    k->access_key_id = TXT(0);
    k->account_id = TXT(1);
    k->user_id = I64(2);
    k->user_name = TXT(3);
    k->secret = TXT(4);
    k->status = TXT(5);
    k->created_ms = I64(6);
    k->last_used_ms = I64(7);
    k->last_used_region = TXT(8);
    k->last_used_service = TXT(9);
}

int pd_iam_db_key_put(struct pd_db *db, const struct pd_iam_access_key *k)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO iam_access_keys(access_key_id, account_id, user_id, secret, status, "
            "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, k->access_key_id);
    pd_db_bind_text(st, 2, k->account_id);
    if (k->user_id)
        sqlite3_bind_int64(st, 3, k->user_id);
    else
        sqlite3_bind_null(st, 3);
    pd_db_bind_text(st, 4, k->secret);
    pd_db_bind_text(st, 5, k->status);
    sqlite3_bind_int64(st, 6, k->created_ms);
    return exec1(db, st);
}

int pd_iam_db_key_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *akid,
                      struct pd_iam_access_key *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " KEY_COLS " FROM iam_access_keys k LEFT JOIN iam_users u ON u.id = "
                       "k.user_id WHERE k.access_key_id = ?1 AND k.account_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, akid);
    pd_db_bind_text(st, 2, account);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_key(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_iam_db_key_list(struct pd_db *db, struct pd_arena *a, const char *account, int64_t user_id,
                       struct pd_iam_access_key **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT " KEY_COLS " FROM iam_access_keys k LEFT JOIN iam_users u ON u.id = "
            "k.user_id WHERE k.account_id = ?1 AND k.user_id IS ?2 ORDER BY k.created_ms, "
            "k.rowid");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    if (user_id)
        sqlite3_bind_int64(st, 2, user_id);
    else
        sqlite3_bind_null(st, 2);
    struct pd_iam_access_key *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_key(a, st, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_key_set_status(struct pd_db *db, const char *akid, const char *status)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "UPDATE iam_access_keys SET status = ?2 WHERE access_key_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, akid);
    pd_db_bind_text(st, 2, status);
    return exec1(db, st);
}

int pd_iam_db_key_del(struct pd_db *db, const char *akid)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM iam_access_keys WHERE access_key_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, akid);
    int rc = exec1(db, st);
    if (!rc && changes(db) == 0)
        rc = PD_ENOTFOUND;
    return rc;
}

int pd_iam_db_key_touch(struct pd_db *db, const char *akid, int64_t ms, const char *region,
                        const char *service)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE iam_access_keys SET last_used_ms = ?2, "
                                      "last_used_region = ?3, last_used_service = ?4 WHERE "
                                      "access_key_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, akid);
    sqlite3_bind_int64(st, 2, ms);
    pd_db_bind_text(st, 3, region);
    pd_db_bind_text(st, 4, service);
    return exec1(db, st);
}

int pd_iam_db_access_key_find(struct pd_db *db, struct pd_arena *a, const char *akid,
                              const char **OUT_account, struct pd_iam_user **OUT_user,
                              const char **OUT_secret, const char **OUT_status)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT k.account_id, k.secret, k.status, " USER_COLS " FROM iam_access_keys k "
            "LEFT JOIN iam_users u ON u.id = k.user_id WHERE k.access_key_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, akid);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    *OUT_account = TXT(0);
    *OUT_secret = TXT(1);
    *OUT_status = TXT(2);
    *OUT_user = NULL;
    if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
        struct pd_iam_user *u = pd_arena_zalloc(a, sizeof *u);
        row_user(a, st, 3, u);
        *OUT_user = u;
    }
    sqlite3_reset(st);
    return PD_OK;
}

/* ------------------------------------------------------------------------------------ */
/* OIDC providers */

static int text_column_list(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st, int64_t id,
                            const char ***OUT, size_t *OUT_n)
{
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    const char **v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = TXT(0);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_oidc_set_thumbprints(struct pd_db *db, int64_t id, const char *const *thumbprints,
                                   size_t n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM iam_oidc_thumbprints WHERE oidc_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    int rc = exec1(db, st);
    for (size_t i = 0; !rc && i < n; i++) {
        st =
            pd_db_stmt(db, "INSERT INTO iam_oidc_thumbprints(oidc_id, thumbprint) VALUES (?1, ?2)");
        if (!st)
            return PD_EINTERNAL;
        sqlite3_bind_int64(st, 1, id);
        pd_db_bind_text(st, 2, thumbprints[i]);
        rc = exec1(db, st);
    }
    return rc;
}

int pd_iam_db_oidc_client_add(struct pd_db *db, int64_t id, const char *client_id)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT OR IGNORE INTO iam_oidc_client_ids(oidc_id, client_id) VALUES (?1, ?2)");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, client_id);
    return exec1(db, st);
}

int pd_iam_db_oidc_client_del(struct pd_db *db, int64_t id, const char *client_id)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM iam_oidc_client_ids WHERE oidc_id = ?1 AND client_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    pd_db_bind_text(st, 2, client_id);
    return exec1(db, st);
}

int pd_iam_db_oidc_put(struct pd_db *db, struct pd_iam_oidc *o)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO iam_oidc_providers(account_id, url, created_ms) VALUES (?1, ?2, ?3)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, o->account_id);
    pd_db_bind_text(st, 2, o->url);
    sqlite3_bind_int64(st, 3, o->created_ms);
    int rc = exec1(db, st);
    if (rc)
        return rc;
    o->id = sqlite3_last_insert_rowid(pd_db_handle(db));
    for (size_t i = 0; !rc && i < o->nclient_ids; i++)
        rc = pd_iam_db_oidc_client_add(db, o->id, o->client_ids[i]);
    if (!rc)
        rc = pd_iam_db_oidc_set_thumbprints(db, o->id, o->thumbprints, o->nthumbprints);
    return rc;
}

static void row_oidc(struct pd_arena *a, sqlite3_stmt *st, struct pd_iam_oidc *o)
{
    memset(o, 0, sizeof *o);
    o->id = I64(0);
    o->account_id = TXT(1);
    o->url = TXT(2);
    o->created_ms = I64(3);
    o->arn = pd_arena_printf(a, "arn:aws:iam::%s:oidc-provider/%s", o->account_id, o->url);
}

int pd_iam_db_oidc_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *url,
                       struct pd_iam_oidc *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT id, account_id, url, created_ms FROM "
                                      "iam_oidc_providers WHERE account_id = ?1 AND url = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    pd_db_bind_text(st, 2, url);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_oidc(a, st, OUT);
    sqlite3_reset(st);
    rc = text_column_list(db, a,
                          pd_db_stmt(db, "SELECT client_id FROM iam_oidc_client_ids WHERE "
                                         "oidc_id = ?1 ORDER BY id"),
                          OUT->id, &OUT->client_ids, &OUT->nclient_ids);
    if (rc)
        return rc;
    return text_column_list(db, a,
                            pd_db_stmt(db, "SELECT thumbprint FROM iam_oidc_thumbprints WHERE "
                                           "oidc_id = ?1 ORDER BY id"),
                            OUT->id, &OUT->thumbprints, &OUT->nthumbprints);
}

int pd_iam_db_oidc_list(struct pd_db *db, struct pd_arena *a, const char *account,
                        struct pd_iam_oidc **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT id, account_id, url, created_ms FROM "
                                      "iam_oidc_providers WHERE account_id = ?1 ORDER BY url");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    struct pd_iam_oidc *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_oidc(a, st, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_oidc_del(struct pd_db *db, int64_t id)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM iam_tags WHERE entity_kind = 'oidc' AND entity_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    int rc = exec1(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "DELETE FROM iam_oidc_providers WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    return exec1(db, st);
}

/* ------------------------------------------------------------------------------------ */
/* what the policy engine evaluates */

/* Rows: type, id, via_kind, via_name, version_id, document. Type 5 is the boundary. */
static int source_rows(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st, int64_t id,
                       struct pd_iam_source_policy **OUT, size_t *OUT_n,
                       struct pd_iam_source_policy *OUT_boundary)
{
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, id);
    memset(OUT_boundary, 0, sizeof *OUT_boundary);
    struct pd_iam_source_policy *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct pd_iam_source_policy sp = {0};
        int type = sqlite3_column_int(st, 0);
        sp.id = TXT(1);
        sp.via_kind = TXT(2);
        sp.via_name = TXT(3);
        sp.version_id = TXT(4);
        sp.document = TXT(5);
        if (type == PD_IAM_SRC_MANAGED || type == 5) {
            const struct pd_iam_aws_policy *ap = pd_iam_aws_policy_find(sp.id);
            if (ap) {
                sp.version_id = ap->version_id;
                sp.document = ap->document;
            }
            sp.type = ap ? PD_IAM_SRC_AWS_MANAGED : PD_IAM_SRC_MANAGED;
        } else {
            sp.type = (enum pd_iam_source)type;
        }
        if (type == 5) {
            *OUT_boundary = sp;
            continue;
        }
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = sp;
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_iam_db_user_policies(struct pd_db *db, struct pd_arena *a, const char *account,
                            const char *user_name, struct pd_iam_source_policy **OUT, size_t *OUT_n,
                            struct pd_iam_source_policy *OUT_boundary)
{
    struct pd_iam_user u;
    int rc = pd_iam_db_user_get(db, a, account, user_name, &u);
    if (rc)
        return rc;
    return source_rows(
        db, a,
        pd_db_stmt(
            db,
            "SELECT 0, p.name, 'user', u.name, NULL, p.document FROM iam_users u JOIN "
            "iam_inline_policies p ON p.entity_kind = 'user' AND p.entity_id = u.id WHERE u.id = "
            "?1 "
            "UNION ALL SELECT 1, p.name, 'group', g.name, NULL, p.document FROM "
            "iam_group_members m JOIN iam_groups g ON g.id = m.group_id JOIN iam_inline_policies "
            "p ON p.entity_kind = 'group' AND p.entity_id = g.id WHERE m.user_id = ?1 "
            "UNION ALL SELECT 3, t.policy_arn, 'user', u.name, mp.default_version, v.document "
            "FROM iam_users u JOIN iam_attachments t ON t.entity_kind = 'user' AND t.entity_id "
            "= u.id LEFT JOIN iam_policies mp ON mp.arn = t.policy_arn LEFT JOIN "
            "iam_policy_versions v ON v.policy_id = mp.id AND v.version_id = mp.default_version "
            "WHERE u.id = ?1 "
            "UNION ALL SELECT 3, t.policy_arn, 'group', g.name, mp.default_version, v.document "
            "FROM iam_group_members m JOIN iam_groups g ON g.id = m.group_id JOIN "
            "iam_attachments t ON t.entity_kind = 'group' AND t.entity_id = g.id LEFT JOIN "
            "iam_policies mp ON mp.arn = t.policy_arn LEFT JOIN iam_policy_versions v ON "
            "v.policy_id = mp.id AND v.version_id = mp.default_version WHERE m.user_id = ?1 "
            "UNION ALL SELECT 5, u.boundary_arn, 'user', u.name, mp.default_version, v.document "
            "FROM iam_users u LEFT JOIN iam_policies mp ON mp.arn = u.boundary_arn LEFT JOIN "
            "iam_policy_versions v ON v.policy_id = mp.id AND v.version_id = mp.default_version "
            "WHERE u.id = ?1 AND u.boundary_arn IS NOT NULL"),
        u.id, OUT, OUT_n, OUT_boundary);
}

int pd_iam_db_role_policies(struct pd_db *db, struct pd_arena *a, const char *account,
                            const char *role_name, struct pd_iam_source_policy **OUT, size_t *OUT_n,
                            struct pd_iam_source_policy *OUT_boundary)
{
    struct pd_iam_role r;
    int rc = pd_iam_db_role_get(db, a, account, role_name, &r);
    if (rc)
        return rc;
    return source_rows(
        db, a,
        pd_db_stmt(
            db,
            "SELECT 2, p.name, 'role', r.name, NULL, p.document FROM iam_roles r JOIN "
            "iam_inline_policies p ON p.entity_kind = 'role' AND p.entity_id = r.id WHERE r.id = "
            "?1 "
            "UNION ALL SELECT 3, t.policy_arn, 'role', r.name, mp.default_version, v.document "
            "FROM iam_roles r JOIN iam_attachments t ON t.entity_kind = 'role' AND t.entity_id "
            "= r.id LEFT JOIN iam_policies mp ON mp.arn = t.policy_arn LEFT JOIN "
            "iam_policy_versions v ON v.policy_id = mp.id AND v.version_id = mp.default_version "
            "WHERE r.id = ?1 "
            "UNION ALL SELECT 5, r.boundary_arn, 'role', r.name, mp.default_version, v.document "
            "FROM iam_roles r LEFT JOIN iam_policies mp ON mp.arn = r.boundary_arn LEFT JOIN "
            "iam_policy_versions v ON v.policy_id = mp.id AND v.version_id = mp.default_version "
            "WHERE r.id = ?1 AND r.boundary_arn IS NOT NULL"),
        r.id, OUT, OUT_n, OUT_boundary);
}
