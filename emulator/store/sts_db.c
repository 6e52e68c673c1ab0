/* sts_db.c - the accounts' outbound identity federation in SQLite (see sts_db.h). */
#include "store/sts_db.h"

#include "core/arena.h"
#include "core/err.h"
#include "store/db.h"

#define COLS "account_id, issuer, enabled, rsa_pem, ec_pem, created_ms"

static void row(struct pd_arena *a, sqlite3_stmt *st, struct pd_sts_db_outbound *o)
{
    o->account_id = pd_db_col_text(a, st, 0);
    o->issuer = pd_db_col_text(a, st, 1);
    o->enabled = sqlite3_column_int(st, 2) != 0;
    o->rsa_pem = pd_db_col_text(a, st, 3);
    o->ec_pem = pd_db_col_text(a, st, 4);
    o->created_ms = sqlite3_column_int64(st, 5);
}

static int one(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st,
               struct pd_sts_db_outbound *OUT)
{
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW)
        row(a, st, OUT);
    else
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

int pd_sts_db_outbound_put(struct pd_db *db, const struct pd_sts_db_outbound *o)
{
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT OR REPLACE INTO sts_outbound(" COLS
                                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, o->account_id);
    pd_db_bind_text(st, 2, o->issuer);
    sqlite3_bind_int(st, 3, o->enabled ? 1 : 0);
    pd_db_bind_text(st, 4, o->rsa_pem);
    pd_db_bind_text(st, 5, o->ec_pem);
    sqlite3_bind_int64(st, 6, o->created_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_sts_db_outbound_get(struct pd_db *db, struct pd_arena *a, const char *account,
                           struct pd_sts_db_outbound *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " COLS " FROM sts_outbound WHERE account_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    return one(db, a, st, OUT);
}

int pd_sts_db_outbound_by_issuer(struct pd_db *db, struct pd_arena *a, const char *issuer,
                                 struct pd_sts_db_outbound *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " COLS " FROM sts_outbound WHERE issuer = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, issuer);
    return one(db, a, st, OUT);
}

int pd_sts_db_outbound_all(struct pd_db *db, struct pd_arena *a, struct pd_sts_db_outbound **OUT,
                           size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " COLS " FROM sts_outbound ORDER BY account_id");
    if (!st)
        return PD_EINTERNAL;
    size_t n = 0, cap = 0;
    struct pd_sts_db_outbound *v = NULL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        row(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}
