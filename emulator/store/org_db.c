/*
 * org_db.c - the Organizations tables (see org_db.h).
 *
 * Owns every SQL statement over the org_* tables of schema.sql and the two AWS managed
 * policies. Rows are copied into the caller's arena before the statement is reset. Knows
 * nothing of Organizations' rules: the service decides what may be written.
 */
#include "store/org_db.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/db.h"

#define TXT(i) pd_db_col_text(a, st, (i))
#define I64(i) sqlite3_column_int64(st, (i))

/* The AWS managed policies, as Organizations shows them (DescribePolicy). */
static const struct pd_org_policy builtin[] = {
    {PD_ORG_FULL_SCP, NULL, PD_ORG_SCP, "FullAWSAccess", "Allows access to every operation",
     "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n"
     "      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
     1},
    {PD_ORG_FULL_RCP, NULL, PD_ORG_RCP, "RCPFullAWSAccess", "Allows access to every resource",
     "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n"
     "      \"Principal\": \"*\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n"
     "  ]\n}",
     1},
};

const struct pd_org_policy *pd_org_db_builtin(const char *type)
{
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (type && strcmp(builtin[i].type, type) == 0)
            return &builtin[i];
    return NULL;
}

static const struct pd_org_policy *builtin_by_id(const char *id)
{
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (id && strcmp(builtin[i].id, id) == 0)
            return &builtin[i];
    return NULL;
}

/* The result of the last step of st (DONE -> PD_OK), and reset it. */
static int finish(struct pd_db *db, sqlite3_stmt *st, int src)
{
    int rc = (src == SQLITE_DONE || src == SQLITE_ROW) ? PD_OK : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

/* At most one row: PD_OK with the row ready, or PD_ENOTFOUND / an error (reset). */
static int step_one(struct pd_db *db, sqlite3_stmt *st)
{
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        return PD_OK;
    int rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

/* A statement that must change one row: PD_ENOTFOUND when it changed none. */
static int exec_one(struct pd_db *db, sqlite3_stmt *st)
{
    int rc = pd_db_exec_stmt(db, st);
    if (rc == PD_OK && sqlite3_changes(pd_db_handle(db)) == 0)
        return PD_ENOTFOUND;
    return rc;
}

static int count(struct pd_db *db, sqlite3_stmt *st, int64_t *OUT)
{
    *OUT = 0;
    int rc = step_one(db, st);
    if (rc == PD_OK) {
        *OUT = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
    }
    return rc == PD_ENOTFOUND ? PD_OK : rc;
}

/* ---- organizations ---------------------------------------------------------------------- */

#define ORG_COLS "o.id, o.management_account, o.feature_set, o.root_id, o.created_ms"

static void row_org(struct pd_arena *a, sqlite3_stmt *st, struct pd_org *o)
{
    o->id = TXT(0);
    o->management_account = TXT(1);
    o->feature_set = TXT(2);
    o->root_id = TXT(3);
    o->created_ms = I64(4);
}

int pd_org_db_create(struct pd_db *db, const struct pd_org *o)
{
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT INTO org_organizations(id, management_account, "
                                      "feature_set, root_id, created_ms) VALUES (?1,?2,?3,?4,?5)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, o->id);
    pd_db_bind_text(st, 2, o->management_account);
    pd_db_bind_text(st, 3, o->feature_set);
    pd_db_bind_text(st, 4, o->root_id);
    sqlite3_bind_int64(st, 5, o->created_ms);
    return pd_db_exec_stmt(db, st);
}

static int org_one(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st, struct pd_org *OUT)
{
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_org(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_org_db_get(struct pd_db *db, struct pd_arena *a, const char *org_id, struct pd_org *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " ORG_COLS " FROM org_organizations o WHERE o.id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    return org_one(db, a, st, OUT);
}

int pd_org_db_of_account(struct pd_db *db, struct pd_arena *a, const char *account,
                         struct pd_org *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ORG_COLS " FROM org_accounts m JOIN "
                                      "org_organizations o ON o.id = m.org_id WHERE "
                                      "m.account_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    return org_one(db, a, st, OUT);
}

int pd_org_db_list(struct pd_db *db, struct pd_arena *a, struct pd_org **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ORG_COLS " FROM org_organizations o ORDER BY o.id");
    if (!st)
        return PD_EINTERNAL;
    struct pd_org *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_org(a, st, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_org_db_delete(struct pd_db *db, const char *org_id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM org_organizations WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    return exec_one(db, st);
}

/* ---- policy types ----------------------------------------------------------------------- */

int pd_org_db_type_enabled(struct pd_db *db, const char *org_id, const char *type)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT 1 FROM org_policy_types WHERE org_id = ?1 AND type = ?2");
    if (!st)
        return 0;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, type);
    int rc = step_one(db, st);
    if (rc == PD_OK)
        sqlite3_reset(st);
    return rc == PD_OK;
}

int pd_org_db_type_set(struct pd_db *db, const char *org_id, const char *type, int enabled)
{
    sqlite3_stmt *st =
        enabled ? pd_db_stmt(db, "INSERT OR IGNORE INTO org_policy_types(org_id, type) VALUES "
                                 "(?1, ?2)")
                : pd_db_stmt(db, "DELETE FROM org_policy_types WHERE org_id = ?1 AND type = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, type);
    return pd_db_exec_stmt(db, st);
}

int pd_org_db_type_list(struct pd_db *db, struct pd_arena *a, const char *org_id, const char ***OUT,
                        size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT type FROM org_policy_types WHERE org_id = ?1 ORDER BY type");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    return pd_db_col_texts(db, a, st, OUT, OUT_n);
}

/* ---- OUs -------------------------------------------------------------------------------- */

#define OU_COLS "id, org_id, parent_id, name, created_ms"

static void row_ou(struct pd_arena *a, sqlite3_stmt *st, struct pd_org_ou *o)
{
    o->id = TXT(0);
    o->org_id = TXT(1);
    o->parent_id = TXT(2);
    o->name = TXT(3);
    o->created_ms = I64(4);
}

static int ou_rows(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st, struct pd_org_ou **OUT,
                   size_t *OUT_n)
{
    struct pd_org_ou *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_ou(a, st, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_org_db_ou_put(struct pd_db *db, const struct pd_org_ou *ou)
{
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT INTO org_ous(" OU_COLS ") VALUES (?1,?2,?3,?4,?5)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, ou->id);
    pd_db_bind_text(st, 2, ou->org_id);
    pd_db_bind_text(st, 3, ou->parent_id);
    pd_db_bind_text(st, 4, ou->name);
    sqlite3_bind_int64(st, 5, ou->created_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_org_db_ou_get(struct pd_db *db, struct pd_arena *a, const char *ou_id, struct pd_org_ou *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " OU_COLS " FROM org_ous WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, ou_id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_ou(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_org_db_ou_rename(struct pd_db *db, const char *ou_id, const char *name)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE org_ous SET name = ?2 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, ou_id);
    pd_db_bind_text(st, 2, name);
    return exec_one(db, st);
}

int pd_org_db_ou_del(struct pd_db *db, const char *ou_id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM org_ous WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, ou_id);
    return exec_one(db, st);
}

int pd_org_db_ou_children(struct pd_db *db, struct pd_arena *a, const char *parent_id,
                          struct pd_org_ou **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " OU_COLS " FROM org_ous WHERE parent_id = ?1 ORDER BY name, id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, parent_id);
    return ou_rows(db, a, st, OUT, OUT_n);
}

int pd_org_db_ou_list(struct pd_db *db, struct pd_arena *a, const char *org_id,
                      struct pd_org_ou **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " OU_COLS " FROM org_ous WHERE org_id = ?1 ORDER BY created_ms, id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    return ou_rows(db, a, st, OUT, OUT_n);
}

int pd_org_db_ou_count(struct pd_db *db, const char *org_id, int64_t *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT count(*) FROM org_ous WHERE org_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    return count(db, st, OUT);
}

/* ---- accounts --------------------------------------------------------------------------- */

#define ACCT_COLS "account_id, org_id, parent_id, name, email, status, joined, joined_ms"

static void row_account(struct pd_arena *a, sqlite3_stmt *st, struct pd_org_account *o)
{
    o->account_id = TXT(0);
    o->org_id = TXT(1);
    o->parent_id = TXT(2);
    o->name = TXT(3);
    o->email = TXT(4);
    o->status = TXT(5);
    o->joined = TXT(6);
    o->joined_ms = I64(7);
}

int pd_org_db_account_put(struct pd_db *db, const struct pd_org_account *acct)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "INSERT INTO org_accounts(" ACCT_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, acct->account_id);
    pd_db_bind_text(st, 2, acct->org_id);
    pd_db_bind_text(st, 3, acct->parent_id);
    pd_db_bind_text(st, 4, acct->name);
    pd_db_bind_text(st, 5, acct->email);
    pd_db_bind_text(st, 6, acct->status);
    pd_db_bind_text(st, 7, acct->joined);
    sqlite3_bind_int64(st, 8, acct->joined_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_org_db_account_get(struct pd_db *db, struct pd_arena *a, const char *account_id,
                          struct pd_org_account *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " ACCT_COLS " FROM org_accounts WHERE account_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account_id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_account(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_org_db_account_move(struct pd_db *db, const char *account_id, const char *parent_id)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "UPDATE org_accounts SET parent_id = ?2 WHERE account_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account_id);
    pd_db_bind_text(st, 2, parent_id);
    return exec_one(db, st);
}

int pd_org_db_account_set(struct pd_db *db, const char *account_id, const char *name,
                          const char *email, int64_t joined_ms)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE org_accounts SET name = ?2, email = ?3, joined_ms "
                                      "= ?4 WHERE account_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account_id);
    pd_db_bind_text(st, 2, name);
    pd_db_bind_text(st, 3, email);
    sqlite3_bind_int64(st, 4, joined_ms);
    return exec_one(db, st);
}

int pd_org_db_account_del(struct pd_db *db, const char *account_id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM org_accounts WHERE account_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account_id);
    return exec_one(db, st);
}

int pd_org_db_account_list(struct pd_db *db, struct pd_arena *a, const char *org_id,
                           const char *parent_id, struct pd_org_account **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " ACCT_COLS " FROM org_accounts WHERE org_id = ?1 "
                                      "AND (?2 IS NULL OR parent_id = ?2) ORDER BY joined_ms, "
                                      "account_id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, parent_id);
    struct pd_org_account *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_account(a, st, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_org_db_email_used(struct pd_db *db, const char *email)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT 1 FROM org_accounts WHERE email = ?1 COLLATE "
                                      "NOCASE LIMIT 1");
    if (!st)
        return 0;
    pd_db_bind_text(st, 1, email);
    int rc = step_one(db, st);
    if (rc == PD_OK)
        sqlite3_reset(st);
    return rc == PD_OK;
}

/* ---- policies --------------------------------------------------------------------------- */

#define POL_COLS "id, org_id, type, name, description, content"

static void row_policy(struct pd_arena *a, sqlite3_stmt *st, int col, struct pd_org_policy *p)
{
    p->id = TXT(col);
    p->org_id = TXT(col + 1);
    p->type = TXT(col + 2);
    p->name = TXT(col + 3);
    p->description = TXT(col + 4);
    p->content = TXT(col + 5);
    p->aws_managed = 0;
}

int pd_org_db_policy_put(struct pd_db *db, const struct pd_org_policy *p)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "INSERT INTO org_policies(" POL_COLS ") VALUES (?1,?2,?3,?4,?5,?6)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, p->id);
    pd_db_bind_text(st, 2, p->org_id);
    pd_db_bind_text(st, 3, p->type);
    pd_db_bind_text(st, 4, p->name);
    pd_db_bind_text(st, 5, p->description);
    pd_db_bind_text(st, 6, p->content);
    return pd_db_exec_stmt(db, st);
}

int pd_org_db_policy_get(struct pd_db *db, struct pd_arena *a, const char *org_id,
                         const char *policy_id, struct pd_org_policy *OUT)
{
    const struct pd_org_policy *b = builtin_by_id(policy_id);
    if (b) {
        *OUT = *b;
        return PD_OK;
    }
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " POL_COLS " FROM org_policies WHERE id = ?1 AND org_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, policy_id);
    pd_db_bind_text(st, 2, org_id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_policy(a, st, 0, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_org_db_policy_update(struct pd_db *db, const struct pd_org_policy *p)
{
    sqlite3_stmt *st = pd_db_stmt(db, "UPDATE org_policies SET name = ?2, description = ?3, "
                                      "content = ?4 WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, p->id);
    pd_db_bind_text(st, 2, p->name);
    pd_db_bind_text(st, 3, p->description);
    pd_db_bind_text(st, 4, p->content);
    return exec_one(db, st);
}

int pd_org_db_policy_del(struct pd_db *db, const char *policy_id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM org_policies WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, policy_id);
    return exec_one(db, st);
}

int pd_org_db_policy_list(struct pd_db *db, struct pd_arena *a, const char *org_id,
                          const char *type, struct pd_org_policy **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " POL_COLS " FROM org_policies WHERE org_id = ?1 "
                                      "AND type = ?2 ORDER BY name, id");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, type);
    struct pd_org_policy *v = NULL;
    size_t n = 0, cap = 0;
    const struct pd_org_policy *b = pd_org_db_builtin(type);
    if (b) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = *b;
    }
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_policy(a, st, 0, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_org_db_policy_count(struct pd_db *db, const char *org_id, const char *type, int64_t *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT count(*) FROM org_policies WHERE org_id = ?1 AND type = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, type);
    return count(db, st, OUT);
}

/* ---- attachments ------------------------------------------------------------------------ */

int pd_org_db_attach(struct pd_db *db, const char *org_id, const char *policy_id,
                     const char *target_id)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO org_attachments(org_id, policy_id, target_id, seq) VALUES (?1, ?2, ?3, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM org_attachments WHERE org_id = ?1))");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, policy_id);
    pd_db_bind_text(st, 3, target_id);
    return pd_db_exec_stmt(db, st);
}

int pd_org_db_detach(struct pd_db *db, const char *org_id, const char *policy_id,
                     const char *target_id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM org_attachments WHERE org_id = ?1 AND "
                                      "policy_id = ?2 AND target_id = ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, policy_id);
    pd_db_bind_text(st, 3, target_id);
    return exec_one(db, st);
}

int pd_org_db_attached(struct pd_db *db, const char *org_id, const char *policy_id,
                       const char *target_id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT 1 FROM org_attachments WHERE org_id = ?1 AND "
                                      "policy_id = ?2 AND target_id = ?3");
    if (!st)
        return 0;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, policy_id);
    pd_db_bind_text(st, 3, target_id);
    int rc = step_one(db, st);
    if (rc == PD_OK)
        sqlite3_reset(st);
    return rc == PD_OK;
}

int pd_org_db_target_policies(struct pd_db *db, struct pd_arena *a, const char *org_id,
                              const char *target_id, const char *type, struct pd_org_policy **OUT,
                              size_t *OUT_n)
{
    /* the built-in policies have no row: their attachments come back with NULL columns and
     * are filled in below */
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT t.policy_id, p.id, p.org_id, p.type, p.name, p.description, p.content FROM "
            "org_attachments t LEFT JOIN org_policies p ON p.id = t.policy_id WHERE t.org_id = "
            "?1 AND t.target_id = ?2 ORDER BY t.seq");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, target_id);
    struct pd_org_policy *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct pd_org_policy p;
        const struct pd_org_policy *b = builtin_by_id((const char *)sqlite3_column_text(st, 0));
        if (b)
            p = *b;
        else if (sqlite3_column_type(st, 1) != SQLITE_NULL)
            row_policy(a, st, 1, &p);
        else
            continue;
        if (type && strcmp(p.type, type) != 0)
            continue;
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = p;
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_org_db_policy_targets(struct pd_db *db, struct pd_arena *a, const char *org_id,
                             const char *policy_id, const char ***OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT target_id FROM org_attachments WHERE org_id = ?1 "
                                      "AND policy_id = ?2 ORDER BY seq");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, policy_id);
    return pd_db_col_texts(db, a, st, OUT, OUT_n);
}

int pd_org_db_detach_target(struct pd_db *db, const char *org_id, const char *target_id)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM org_attachments WHERE org_id = ?1 AND target_id = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, target_id);
    return pd_db_exec_stmt(db, st);
}

int pd_org_db_detach_type(struct pd_db *db, const char *org_id, const char *type)
{
    const struct pd_org_policy *b = pd_org_db_builtin(type);
    sqlite3_stmt *st = pd_db_stmt(
        db, "DELETE FROM org_attachments WHERE org_id = ?1 AND (policy_id = ?3 OR policy_id IN "
            "(SELECT id FROM org_policies WHERE org_id = ?1 AND type = ?2))");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    pd_db_bind_text(st, 2, type);
    pd_db_bind_text(st, 3, b ? b->id : NULL);
    return pd_db_exec_stmt(db, st);
}

/* ---- CreateAccount requests ------------------------------------------------------------- */

#define CAR_COLS "id, org_id, account_name, state, account_id, failure, requested_ms, completed_ms"

static void row_car(struct pd_arena *a, sqlite3_stmt *st, struct pd_org_car *c)
{
    c->id = TXT(0);
    c->org_id = TXT(1);
    c->account_name = TXT(2);
    c->state = TXT(3);
    c->account_id = TXT(4);
    c->failure = TXT(5);
    c->requested_ms = I64(6);
    c->completed_ms = I64(7);
}

int pd_org_db_car_put(struct pd_db *db, const struct pd_org_car *c)
{
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT INTO org_create_account(" CAR_COLS
                                      ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, c->id);
    pd_db_bind_text(st, 2, c->org_id);
    pd_db_bind_text(st, 3, c->account_name);
    pd_db_bind_text(st, 4, c->state);
    pd_db_bind_text(st, 5, c->account_id);
    pd_db_bind_text(st, 6, c->failure);
    sqlite3_bind_int64(st, 7, c->requested_ms);
    if (c->completed_ms)
        sqlite3_bind_int64(st, 8, c->completed_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_org_db_car_get(struct pd_db *db, struct pd_arena *a, const char *id, struct pd_org_car *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " CAR_COLS " FROM org_create_account WHERE id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    row_car(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_org_db_car_list(struct pd_db *db, struct pd_arena *a, const char *org_id,
                       struct pd_org_car **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " CAR_COLS " FROM org_create_account WHERE org_id "
                                      "= ?1 ORDER BY requested_ms DESC, id DESC");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, org_id);
    struct pd_org_car *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row_car(a, st, &v[n++]);
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

/* ---- tags ------------------------------------------------------------------------------- */

int pd_org_db_tags_put(struct pd_db *db, const char *org_id, const char *resource_id,
                       const struct pd_org_tag *tags, size_t n)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO org_tags(org_id, resource_id, key, value, seq) VALUES (?1, ?2, ?3, ?4, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM org_tags WHERE resource_id = ?2)) ON "
            "CONFLICT(resource_id, key) DO UPDATE SET value = excluded.value");
    if (!st)
        return PD_EINTERNAL;
    for (size_t i = 0; i < n; i++) {
        pd_db_bind_text(st, 1, org_id);
        pd_db_bind_text(st, 2, resource_id);
        pd_db_bind_text(st, 3, tags[i].key);
        pd_db_bind_text(st, 4, tags[i].value);
        int rc = pd_db_exec_stmt(db, st);
        if (rc)
            return rc;
    }
    return PD_OK;
}

int pd_org_db_tags_get(struct pd_db *db, struct pd_arena *a, const char *resource_id,
                       struct pd_org_tag **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT key, value FROM org_tags WHERE resource_id = ?1 ORDER BY seq");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, resource_id);
    struct pd_org_tag *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n].key = TXT(0);
        v[n].value = TXT(1);
        n++;
    }
    *OUT = v;
    *OUT_n = n;
    return finish(db, st, src);
}

int pd_org_db_tags_del(struct pd_db *db, const char *resource_id, const char *const *keys, size_t n)
{
    if (!keys) {
        sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM org_tags WHERE resource_id = ?1");
        if (!st)
            return PD_EINTERNAL;
        pd_db_bind_text(st, 1, resource_id);
        return pd_db_exec_stmt(db, st);
    }
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM org_tags WHERE resource_id = ?1 AND key = ?2");
    if (!st)
        return PD_EINTERNAL;
    for (size_t i = 0; i < n; i++) {
        pd_db_bind_text(st, 1, resource_id);
        pd_db_bind_text(st, 2, keys[i]);
        int rc = pd_db_exec_stmt(db, st);
        if (rc)
            return rc;
    }
    return PD_OK;
}
