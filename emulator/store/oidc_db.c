/* oidc_db.c - hosted OIDC issuers and their keys in SQLite (see oidc_db.h). */
#include "store/oidc_db.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/db.h"

int pd_oidc_db_issuer_put(struct pd_db *db, const char *url, int64_t created_ms, int64_t *OUT_id)
{
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT INTO oidc_issuers(url, created_ms) VALUES (?1, ?2)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, url);
    sqlite3_bind_int64(st, 2, created_ms);
    int rc = pd_db_exec_stmt(db, st);
    if (rc == PD_OK)
        *OUT_id = sqlite3_last_insert_rowid(pd_db_handle(db));
    return rc;
}

int pd_oidc_db_issuer_get(struct pd_db *db, const char *url, int64_t *OUT_id,
                          int64_t *OUT_created_ms)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT id, created_ms FROM oidc_issuers WHERE url = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, url);
    int src = sqlite3_step(st);
    int rc = PD_OK;
    if (src == SQLITE_ROW) {
        if (OUT_id)
            *OUT_id = sqlite3_column_int64(st, 0);
        if (OUT_created_ms)
            *OUT_created_ms = sqlite3_column_int64(st, 1);
    } else {
        rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    }
    sqlite3_reset(st);
    return rc;
}

int pd_oidc_db_issuer_list(struct pd_db *db, struct pd_arena *a, const char ***OUT_urls,
                           size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT url FROM oidc_issuers ORDER BY url");
    if (!st)
        return PD_EINTERNAL;
    return pd_db_col_texts(db, a, st, OUT_urls, OUT_n);
}

int pd_oidc_db_host_hosted(struct pd_db *db, const char *host)
{
    /* LIKE is ASCII case-insensitive; host holds no LIKE wildcard (letters, digits, - and .) */
    for (const char *p = host; *p; p++)
        if (*p == '%' || *p == '_' || *p == '\\')
            return 0;
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT 1 FROM oidc_issuers WHERE url LIKE 'https://' || ?1 OR url LIKE 'https://' || "
            "?1 || '/%' LIMIT 1");
    if (!st)
        return 0;
    pd_db_bind_text(st, 1, host);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

int pd_oidc_db_issuer_del(struct pd_db *db, const char *url)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM oidc_issuers WHERE url = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, url);
    return pd_db_exec_stmt(db, st);
}

int pd_oidc_db_key_add(struct pd_db *db, int64_t issuer, const char *kid, const char *private_pem,
                       const char *public_pem, int64_t now_ms)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM oidc_keys WHERE issuer_id = ?1 AND retired_ms IS NOT NULL");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, issuer);
    int rc = pd_db_exec_stmt(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "UPDATE oidc_keys SET retired_ms = ?2 WHERE issuer_id = ?1 AND "
                        "retired_ms IS NULL");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, issuer);
    sqlite3_bind_int64(st, 2, now_ms);
    rc = pd_db_exec_stmt(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "INSERT INTO oidc_keys(issuer_id, kid, private_pem, public_pem, "
                        "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, issuer);
    pd_db_bind_text(st, 2, kid);
    pd_db_bind_text(st, 3, private_pem);
    pd_db_bind_text(st, 4, public_pem);
    sqlite3_bind_int64(st, 5, now_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_oidc_db_keys(struct pd_db *db, struct pd_arena *a, int64_t issuer,
                    struct pd_oidc_db_key **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT id, kid, private_pem, public_pem, created_ms, retired_ms FROM oidc_keys "
            "WHERE issuer_id = ?1 ORDER BY retired_ms IS NOT NULL, id DESC");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, issuer);
    struct pd_oidc_db_key *v = NULL;
    size_t n = 0, cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct pd_oidc_db_key *nv = pd_arena_zalloc(a, ncap * sizeof *nv);
            if (n)
                memcpy(nv, v, n * sizeof *nv);
            v = nv;
            cap = ncap;
        }
        struct pd_oidc_db_key *k = &v[n++];
        k->id = sqlite3_column_int64(st, 0);
        k->kid = pd_db_col_text(a, st, 1);
        k->private_pem = pd_db_col_text(a, st, 2);
        k->public_pem = pd_db_col_text(a, st, 3);
        k->created_ms = sqlite3_column_int64(st, 4);
        k->retired_ms = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}
