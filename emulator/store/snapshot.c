/* snapshot.c - whole-database copies and restores (see snapshot.h). */
#include "store/snapshot.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "store/db.h"

#define MAX_TABLES 128

static char *errf(const char *what, const char *detail)
{
    size_t n = strlen(what) + (detail ? strlen(detail) : 0) + 4;
    char *m = pd_xmalloc(n);
    snprintf(m, n, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return m;
}

int pd_store_copy_to(struct pd_db *db, const char *path, int sync_full, char **OUT_err)
{
    *OUT_err = NULL;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        *OUT_err = errf("cannot create the snapshot's database", path);
        return PD_EIO;
    }
    close(fd);
    sqlite3 *dst = NULL, *src_h = NULL;
    int rc = PD_EIO;
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        *OUT_err = errf("cannot open the snapshot's database", path);
        goto out;
    }
    /* The caller's connection holds the write lock, and SQLite will not back up from a
     * connection that is writing: a second connection reads the committed state, which no
     * one can change while the caller holds that lock. */
    const char *file = sqlite3_db_filename(pd_db_handle(db), "main");
    if (!file || !*file ||
        sqlite3_open_v2(file, &src_h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
        *OUT_err = errf("cannot open the state for copying", file);
        goto out;
    }
    sqlite3_busy_timeout(src_h, 10000);
    /* the copy is made whole before it is renamed into place; fsync is the caller's switch */
    sqlite3_exec(dst, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF", NULL, NULL,
                 NULL);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src_h, "main");
    if (!b) {
        *OUT_err = errf("cannot copy the state", sqlite3_errmsg(dst));
        goto out;
    }
    int src = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (src != SQLITE_DONE) {
        *OUT_err = errf("cannot copy the state", sqlite3_errstr(src));
        goto out;
    }
    /* one file, no -wal beside it: a snapshot is read back by ATTACH, possibly much later */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        *OUT_err = errf("cannot finish the snapshot's database", sqlite3_errmsg(dst));
        goto out;
    }
    rc = PD_OK;
out:
    sqlite3_close(src_h);
    sqlite3_close(dst);
    if (rc)
        unlink(path);
    return rc;
}

static int user_version(sqlite3 *h, const char *schema, int *OUT)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA %s.user_version", schema);
    sqlite3_stmt *st = NULL;
    int rc = PD_EIO;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        *OUT = sqlite3_column_int(st, 0);
        rc = PD_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Names of schema's tables that hold state (meta and SQLite's own excepted). */
static int tables(sqlite3 *h, const char *schema, char *names[MAX_TABLES], int *OUT_n)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT name FROM %s.sqlite_master WHERE type = 'table' AND name <> 'meta' AND "
             "name NOT LIKE 'sqlite_%%' ORDER BY name",
             schema);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        return PD_EIO;
    int n = 0, rc = PD_OK;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == MAX_TABLES) {
            rc = PD_ETOOBIG;
            break;
        }
        names[n++] = pd_xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    *OUT_n = n;
    return rc;
}

static int has_table(sqlite3 *h, const char *schema, const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s.sqlite_master WHERE type='table' AND name=?1",
             schema);
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

static int exec(sqlite3 *h, const char *fmt, const char *a, const char *b)
{
    char sql[400];
    snprintf(sql, sizeof sql, fmt, a, b);
    return sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK ? PD_OK : PD_EIO;
}

int pd_store_restore_begin(struct pd_db *db, const char *path, char **OUT_err)
{
    *OUT_err = NULL;
    sqlite3 *h = pd_db_handle(db);
    if (pd_db_in_txn(db)) {
        *OUT_err = errf("a restore cannot run inside a transaction", NULL);
        return PD_EINTERNAL;
    }
    /* ATTACH cannot happen inside a transaction; the file name is bound, never spliced */
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(h, "ATTACH DATABASE ?1 AS snap", -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (!ok) {
        *OUT_err = errf("cannot open the snapshot's database", sqlite3_errmsg(h));
        sqlite3_exec(h, "DETACH DATABASE snap", NULL, NULL, NULL);
        return PD_EIO;
    }
    int mine = 0, theirs = -1;
    char *names[MAX_TABLES];
    int n = 0, rc = PD_OK;
    if (user_version(h, "main", &mine) || user_version(h, "snap", &theirs) || mine != theirs) {
        char buf[160];
        snprintf(buf, sizeof buf,
                 "the snapshot has schema version %d and this podiam %d: take it again", theirs,
                 mine);
        *OUT_err = pd_xstrdup(buf);
        rc = PD_EINVAL;
        goto detach;
    }
    /* Foreign keys off for the copy (PRAGMA foreign_keys is a no-op inside a transaction,
     * so before BEGIN): SQLite copies a whole table with INSERT ... SELECT * without looking
     * at the rows (the transfer optimisation) when the table is only a parent, so a deferred
     * check would still count the child rows inserted before their parents as missing and
     * refuse the COMMIT. Every table is emptied and refilled anyway; foreign_key_check below
     * proves the result whole before it is committed. */
    sqlite3_exec(h, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
    rc = pd_db_begin(db, 1);
    if (rc) {
        *OUT_err = errf("the state is busy", NULL);
        goto detach;
    }
    rc = tables(h, "main", names, &n);
    for (int i = 0; !rc && i < n; i++)
        if (!has_table(h, "snap", names[i])) {
            *OUT_err = errf("the snapshot lacks a table", names[i]);
            rc = PD_EINVAL;
        }
    /* every row out first, then every row of the copy in */
    for (int i = 0; !rc && i < n; i++)
        rc = exec(h, "DELETE FROM main.\"%s\"", names[i], NULL);
    for (int i = 0; !rc && i < n; i++)
        rc = exec(h, "INSERT INTO main.\"%s\" SELECT * FROM snap.\"%s\"", names[i], names[i]);
    if (!rc && has_table(h, "main", "sqlite_sequence") && has_table(h, "snap", "sqlite_sequence")) {
        rc = exec(h, "DELETE FROM main.sqlite_sequence", NULL, NULL);
        if (!rc)
            rc = exec(h, "INSERT INTO main.sqlite_sequence SELECT * FROM snap.sqlite_sequence",
                      NULL, NULL);
    }
    if (rc && !*OUT_err)
        *OUT_err = errf("cannot copy the snapshot's rows", sqlite3_errmsg(h));
    if (!rc) {
        sqlite3_stmt *fk = NULL;
        int broken =
            sqlite3_prepare_v2(h, "PRAGMA main.foreign_key_check", -1, &fk, NULL) != SQLITE_OK ||
            sqlite3_step(fk) != SQLITE_DONE;
        if (broken) {
            char buf[200];
            snprintf(buf, sizeof buf, "the snapshot's rows are inconsistent (table %s)",
                     fk && sqlite3_column_text(fk, 0) ? (const char *)sqlite3_column_text(fk, 0)
                                                      : "?");
            *OUT_err = pd_xstrdup(buf);
            rc = PD_EINVAL;
        }
        sqlite3_finalize(fk);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    if (rc == PD_OK)
        return PD_OK;
    pd_db_rollback(db);
detach:
    sqlite3_exec(h, "DETACH DATABASE snap", NULL, NULL, NULL);
    sqlite3_exec(h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    return rc;
}

int pd_store_restore_end(struct pd_db *db, int commit)
{
    int rc = PD_OK;
    if (commit)
        rc = pd_db_commit(db);
    else
        pd_db_rollback(db);
    sqlite3_exec(pd_db_handle(db), "DETACH DATABASE snap", NULL, NULL, NULL);
    sqlite3_exec(pd_db_handle(db), "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    return rc;
}
