/* accounts_db.c - delete every row of one account (see accounts_db.h). */
#include "store/accounts_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "store/db.h"

#define MAX_TABLES 128

static int run(struct pd_db *db, const char *sql, const char *account)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(pd_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
        return PD_EIO;
    sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}

/* Tables with an account_id column (names from the schema, never from clients). */
static int account_tables(struct pd_db *db, char *names[MAX_TABLES], int *OUT_n)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c "
                      "WHERE m.type = 'table' AND c.name = 'account_id' AND m.name <> "
                      "'iam_accounts' ORDER BY m.name";
    if (sqlite3_prepare_v2(pd_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
        return PD_EIO;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW && n < MAX_TABLES)
        names[n++] = pd_xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    *OUT_n = n;
    return PD_OK;
}

int pd_accounts_db_delete(struct pd_db *db, const char *account)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT 1 FROM iam_accounts WHERE account_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (!found)
        return PD_ENOTFOUND;
    static const char *const first[] = {
        /* rows keyed by entity, not account */
        "DELETE FROM iam_inline_policies WHERE (entity_kind = 'user' AND entity_id IN (SELECT "
        "id FROM iam_users WHERE account_id = ?1)) OR (entity_kind = 'group' AND entity_id IN "
        "(SELECT id FROM iam_groups WHERE account_id = ?1)) OR (entity_kind = 'role' AND "
        "entity_id IN (SELECT id FROM iam_roles WHERE account_id = ?1))",
        "DELETE FROM iam_tags WHERE (entity_kind = 'user' AND entity_id IN (SELECT id FROM "
        "iam_users WHERE account_id = ?1)) OR (entity_kind = 'role' AND entity_id IN (SELECT "
        "id FROM iam_roles WHERE account_id = ?1)) OR (entity_kind = 'policy' AND entity_id IN "
        "(SELECT id FROM iam_policies WHERE account_id = ?1)) OR (entity_kind = 'oidc' AND "
        "entity_id IN (SELECT id FROM iam_oidc_providers WHERE account_id = ?1))",
        /* the issuers podiam hosts for the account's clusters */
        "DELETE FROM oidc_issuers WHERE url IN (SELECT issuer FROM eks_clusters WHERE "
        "account_id = ?1) OR 'https://' || url IN (SELECT issuer FROM eks_clusters WHERE "
        "account_id = ?1)",
        NULL,
    };
    int rc = PD_OK;
    for (int i = 0; !rc && first[i]; i++)
        rc = run(db, first[i], account);
    char *names[MAX_TABLES];
    int n = 0;
    if (!rc)
        rc = account_tables(db, names, &n);
    for (int i = 0; i < n; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "DELETE FROM \"%s\" WHERE account_id = ?1", names[i]);
        if (!rc)
            rc = run(db, sql, account);
        free(names[i]);
    }
    if (!rc)
        rc = run(db, "DELETE FROM iam_accounts WHERE account_id = ?1", account);
    return rc;
}
