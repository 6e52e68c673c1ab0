/*
 * s3_db.c - the S3 tables (see s3_db.h).
 *
 * Owns every SQL statement over the s3_* tables. Statements are string literals cached per
 * connection by pd_db_stmt; rows are copied into the caller's arena before the statement
 * is reset. Knows nothing of S3's rules or of files: the service decides, this file stores.
 */
#include "store/s3_db.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "store/db.h"

#define TXT(i) pd_db_col_text(a, st, (i))
#define I64(i) sqlite3_column_int64(st, (i))

static int step_one(struct pd_db *db, sqlite3_stmt *st)
{
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        return PD_OK;
    int rc = src == SQLITE_DONE ? PD_ENOTFOUND : pd_db_rc(db, src);
    sqlite3_reset(st);
    return rc;
}

static int changes(struct pd_db *db)
{
    return sqlite3_changes(pd_db_handle(db));
}

/* ---- buckets ---- */

#define BUCKET_COLS "name, account_id, region, created_ms, policy, tags"

static void bucket_row(struct pd_arena *a, sqlite3_stmt *st, struct pd_s3_bucket *b)
{
    b->name = TXT(0);
    b->account_id = TXT(1);
    b->region = TXT(2);
    b->created_ms = I64(3);
    b->policy = TXT(4);
    b->tags = TXT(5);
}

int pd_s3_db_bucket_get(struct pd_db *db, struct pd_arena *a, const char *name,
                        struct pd_s3_bucket *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " BUCKET_COLS " FROM s3_buckets WHERE name = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, name);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    bucket_row(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_s3_db_bucket_put(struct pd_db *db, const struct pd_s3_bucket *b)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "INSERT INTO s3_buckets(" BUCKET_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, b->name);
    pd_db_bind_text(st, 2, b->account_id);
    pd_db_bind_text(st, 3, b->region);
    sqlite3_bind_int64(st, 4, b->created_ms);
    pd_db_bind_text(st, 5, b->policy);
    pd_db_bind_text(st, 6, b->tags);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_bucket_del(struct pd_db *db, const char *name)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM s3_buckets WHERE name = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, name);
    int rc = pd_db_exec_stmt(db, st);
    return rc ? rc : changes(db) ? PD_OK : PD_ENOTFOUND;
}

int pd_s3_db_bucket_list(struct pd_db *db, struct pd_arena *a, const char *account,
                         struct pd_s3_bucket **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " BUCKET_COLS " FROM s3_buckets WHERE ?1 IS NULL "
                                      "OR account_id = ?1 ORDER BY name");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, account);
    size_t n = 0, cap = 0;
    struct pd_s3_bucket *v = NULL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        bucket_row(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    *OUT = v;
    *OUT_n = n;
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}

static int bucket_set(struct pd_db *db, const char *sql, const char *name, const char *value)
{
    sqlite3_stmt *st = pd_db_stmt(db, sql);
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, name);
    pd_db_bind_text(st, 2, value);
    int rc = pd_db_exec_stmt(db, st);
    return rc ? rc : changes(db) ? PD_OK : PD_ENOTFOUND;
}

int pd_s3_db_bucket_set_policy(struct pd_db *db, const char *name, const char *policy)
{
    return bucket_set(db, "UPDATE s3_buckets SET policy = ?2 WHERE name = ?1", name, policy);
}

int pd_s3_db_bucket_set_tags(struct pd_db *db, const char *name, const char *tags)
{
    return bucket_set(db, "UPDATE s3_buckets SET tags = ?2 WHERE name = ?1", name, tags);
}

int pd_s3_db_bucket_empty(struct pd_db *db, const char *name, int *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT 1 FROM s3_objects WHERE bucket = ?1 LIMIT 1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, name);
    int rc = step_one(db, st);
    if (rc == PD_OK) {
        sqlite3_reset(st);
        *OUT = 0;
        return PD_OK;
    }
    if (rc == PD_ENOTFOUND) {
        *OUT = 1;
        return PD_OK;
    }
    return rc;
}

/* ---- objects ---- */

#define OBJECT_COLS "bucket, key, file, size, etag, modified_ms, meta, tags"

/* An inline object's row has file '' (the column is NOT NULL); callers see NULL. */
static const char *file_col(struct pd_arena *a, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t && *t ? pd_db_col_text(a, st, col) : NULL;
}

static void object_row(struct pd_arena *a, sqlite3_stmt *st, struct pd_s3_object *o)
{
    o->bucket = TXT(0);
    o->key = TXT(1);
    o->file = file_col(a, st, 2);
    o->body = NULL;
    o->size = I64(3);
    o->etag = TXT(4);
    o->modified_ms = I64(5);
    o->meta = TXT(6);
    o->tags = TXT(7);
}

int pd_s3_db_object_get(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                        struct pd_s3_object *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " OBJECT_COLS " FROM s3_objects WHERE bucket = ?1 AND key = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    object_row(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

/* The file of the row sql selects (NULL when none or inline); *OUT_found whether a row
 * exists (may be NULL). */
static int old_file(struct pd_db *db, struct pd_arena *a, const char *sql, const char *k1,
                    const char *k2, int num, const char **OUT, int *OUT_found)
{
    *OUT = NULL;
    if (OUT_found)
        *OUT_found = 0;
    sqlite3_stmt *st = pd_db_stmt(db, sql);
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, k1);
    if (k2)
        pd_db_bind_text(st, 2, k2);
    else
        sqlite3_bind_int(st, 2, num);
    int rc = step_one(db, st);
    if (rc == PD_ENOTFOUND)
        return PD_OK;
    if (rc)
        return rc;
    *OUT = file_col(a, st, 0);
    if (OUT_found)
        *OUT_found = 1;
    sqlite3_reset(st);
    return PD_OK;
}

int pd_s3_db_object_put(struct pd_db *db, struct pd_arena *a, const struct pd_s3_object *o,
                        const char **OUT_old_file)
{
    int rc = old_file(db, a, "SELECT file FROM s3_objects WHERE bucket = ?1 AND key = ?2",
                      o->bucket, o->key, 0, OUT_old_file, NULL);
    if (rc)
        return rc;
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT OR REPLACE INTO s3_objects(" OBJECT_COLS
                                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, o->bucket);
    pd_db_bind_text(st, 2, o->key);
    pd_db_bind_text(st, 3, o->file ? o->file : "");
    sqlite3_bind_int64(st, 4, o->size);
    pd_db_bind_text(st, 5, o->etag);
    sqlite3_bind_int64(st, 6, o->modified_ms);
    pd_db_bind_text(st, 7, o->meta);
    pd_db_bind_text(st, 8, o->tags);
    rc = pd_db_exec_stmt(db, st);
    if (rc)
        return rc;
    /* the replaced row's body may or may not have gone with it (a REPLACE's delete): say
     * what the new row's body is either way */
    if (o->file) {
        st = pd_db_stmt(db, "DELETE FROM s3_object_bodies WHERE bucket = ?1 AND key = ?2");
        if (!st)
            return PD_EINTERNAL;
    } else {
        st = pd_db_stmt(db, "INSERT OR REPLACE INTO s3_object_bodies(bucket, key, body) "
                            "VALUES (?1, ?2, ?3)");
        if (!st)
            return PD_EINTERNAL;
        sqlite3_bind_blob64(st, 3, o->body ? o->body : "", (sqlite3_uint64)o->size, SQLITE_STATIC);
    }
    pd_db_bind_text(st, 1, o->bucket);
    pd_db_bind_text(st, 2, o->key);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_object_del(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                        const char **OUT_old_file)
{
    int found;
    int rc = old_file(db, a, "SELECT file FROM s3_objects WHERE bucket = ?1 AND key = ?2", bucket,
                      key, 0, OUT_old_file, &found);
    if (rc || !found)
        return rc;
    /* an inline body goes with the row (ON DELETE CASCADE) */
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM s3_objects WHERE bucket = ?1 AND key = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_object_body(struct pd_db *db, const char *bucket, const char *key, int64_t off,
                         int64_t len, void *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT body FROM s3_object_bodies WHERE bucket = ?1 AND key = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    const void *p = sqlite3_column_blob(st, 0);
    int64_t n = sqlite3_column_bytes(st, 0);
    if (off < 0 || len < 0 || off + len > n) {
        rc = PD_EIO;
    } else if (len) {
        memcpy(OUT, (const char *)p + off, (size_t)len);
    }
    sqlite3_reset(st);
    return rc;
}

int pd_s3_db_object_set_tags(struct pd_db *db, const char *bucket, const char *key,
                             const char *tags)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "UPDATE s3_objects SET tags = ?3 WHERE bucket = ?1 AND key = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    pd_db_bind_text(st, 3, tags);
    int rc = pd_db_exec_stmt(db, st);
    return rc ? rc : changes(db) ? PD_OK : PD_ENOTFOUND;
}

int pd_s3_db_object_next(struct pd_db *db, struct pd_arena *a, const char *bucket,
                         const char *after, int inclusive, struct pd_s3_object *OUT)
{
    sqlite3_stmt *st;
    if (!after)
        st = pd_db_stmt(db, "SELECT " OBJECT_COLS
                            " FROM s3_objects WHERE bucket = ?1 ORDER BY key LIMIT 1");
    else if (inclusive)
        st = pd_db_stmt(db, "SELECT " OBJECT_COLS " FROM s3_objects WHERE bucket = ?1 "
                            "AND key >= ?2 ORDER BY key LIMIT 1");
    else
        st = pd_db_stmt(db, "SELECT " OBJECT_COLS " FROM s3_objects WHERE bucket = ?1 "
                            "AND key > ?2 ORDER BY key LIMIT 1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    if (after)
        pd_db_bind_text(st, 2, after);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    object_row(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

/* ---- uploads ---- */

#define UPLOAD_COLS "upload_id, bucket, key, initiated_ms, initiator, meta, tags"

static void upload_row(struct pd_arena *a, sqlite3_stmt *st, struct pd_s3_upload *u)
{
    u->upload_id = TXT(0);
    u->bucket = TXT(1);
    u->key = TXT(2);
    u->initiated_ms = I64(3);
    u->initiator = TXT(4);
    u->meta = TXT(5);
    u->tags = TXT(6);
}

int pd_s3_db_upload_put(struct pd_db *db, const struct pd_s3_upload *u)
{
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT INTO s3_uploads(" UPLOAD_COLS
                                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, u->upload_id);
    pd_db_bind_text(st, 2, u->bucket);
    pd_db_bind_text(st, 3, u->key);
    sqlite3_bind_int64(st, 4, u->initiated_ms);
    pd_db_bind_text(st, 5, u->initiator);
    pd_db_bind_text(st, 6, u->meta);
    pd_db_bind_text(st, 7, u->tags);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_upload_get(struct pd_db *db, struct pd_arena *a, const char *upload_id,
                        struct pd_s3_upload *OUT)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT " UPLOAD_COLS " FROM s3_uploads WHERE upload_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, upload_id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    upload_row(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_s3_db_upload_del(struct pd_db *db, struct pd_arena *a, const char *upload_id,
                        const char ***OUT_files, size_t *OUT_n)
{
    *OUT_files = NULL;
    *OUT_n = 0;
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT file FROM s3_parts WHERE upload_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, upload_id);
    size_t n = 0, cap = 0;
    const char **v = NULL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = TXT(0);
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE)
        return pd_db_rc(db, src);
    st = pd_db_stmt(db, "DELETE FROM s3_parts WHERE upload_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, upload_id);
    int rc = pd_db_exec_stmt(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "DELETE FROM s3_uploads WHERE upload_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, upload_id);
    rc = pd_db_exec_stmt(db, st);
    if (rc)
        return rc;
    if (!changes(db))
        return PD_ENOTFOUND;
    *OUT_files = v;
    *OUT_n = n;
    return PD_OK;
}

int pd_s3_db_upload_list(struct pd_db *db, struct pd_arena *a, const char *bucket,
                         const char *key_marker, const char *id_marker, size_t limit,
                         struct pd_s3_upload **OUT, size_t *OUT_n)
{
    /* After (key_marker, id_marker): keys greater than the marker, or, with an upload-id
     * marker, the same key's uploads after that one (by initiation, then id). */
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT " UPLOAD_COLS " FROM s3_uploads u WHERE bucket = ?1 AND (?2 IS NULL OR key > ?2"
            " OR (key = ?2 AND ?3 IS NOT NULL AND (initiated_ms, upload_id) > (SELECT "
            "initiated_ms, upload_id FROM s3_uploads WHERE upload_id = ?3))) "
            "ORDER BY key, initiated_ms, upload_id LIMIT ?4");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key_marker);
    pd_db_bind_text(st, 3, id_marker);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    size_t n = 0, cap = 0;
    struct pd_s3_upload *v = NULL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        upload_row(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    *OUT = v;
    *OUT_n = n;
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}

int pd_s3_db_part_put(struct pd_db *db, struct pd_arena *a, const char *upload_id,
                      const struct pd_s3_part *p, const char **OUT_old_file)
{
    int rc = old_file(db, a, "SELECT file FROM s3_parts WHERE upload_id = ?1 AND num = ?2",
                      upload_id, NULL, p->num, OUT_old_file, NULL);
    if (rc)
        return rc;
    sqlite3_stmt *st = pd_db_stmt(db, "INSERT OR REPLACE INTO s3_parts(upload_id, num, file, "
                                      "size, etag, checksum, modified_ms) VALUES (?1, ?2, ?3, "
                                      "?4, ?5, ?6, ?7)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, upload_id);
    sqlite3_bind_int(st, 2, p->num);
    pd_db_bind_text(st, 3, p->file);
    sqlite3_bind_int64(st, 4, p->size);
    pd_db_bind_text(st, 5, p->etag);
    pd_db_bind_text(st, 6, p->checksum);
    sqlite3_bind_int64(st, 7, p->modified_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_part_list(struct pd_db *db, struct pd_arena *a, const char *upload_id, int after,
                       size_t limit, struct pd_s3_part **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT num, file, size, etag, checksum, modified_ms FROM "
                                      "s3_parts WHERE upload_id = ?1 AND num > ?2 ORDER BY num "
                                      "LIMIT ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, upload_id);
    sqlite3_bind_int(st, 2, after);
    sqlite3_bind_int64(st, 3, limit ? (sqlite3_int64)limit : -1);
    size_t n = 0, cap = 0;
    struct pd_s3_part *v = NULL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        struct pd_s3_part *p = &v[n++];
        p->num = sqlite3_column_int(st, 0);
        p->file = TXT(1);
        p->size = I64(2);
        p->etag = TXT(3);
        p->checksum = TXT(4);
        p->modified_ms = I64(5);
    }
    sqlite3_reset(st);
    *OUT = v;
    *OUT_n = n;
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}

int pd_s3_db_files(struct pd_db *db, void (*fn)(void *arg, const char *file), void *arg)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT file FROM s3_objects WHERE file <> '' UNION ALL SELECT file FROM s3_parts");
    if (!st)
        return PD_EINTERNAL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}
