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
    OUT->cfg = NULL;
    OUT->ncfg = 0;
    st = pd_db_stmt(db, "SELECT kind, doc FROM s3_bucket_configs WHERE bucket = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, name);
    size_t cap = 0;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        OUT->cfg = pd_arena_grow(a, OUT->cfg, OUT->ncfg, &cap, sizeof *OUT->cfg);
        OUT->cfg[OUT->ncfg].kind = TXT(0);
        OUT->cfg[OUT->ncfg].doc = TXT(1);
        OUT->ncfg++;
    }
    sqlite3_reset(st);
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}

int pd_s3_db_bucket_cfg_set(struct pd_db *db, const char *bucket, const char *kind, const char *doc)
{
    sqlite3_stmt *st =
        doc ? pd_db_stmt(db, "INSERT OR REPLACE INTO s3_bucket_configs(bucket, kind, doc) "
                             "VALUES (?1, ?2, ?3)")
            : pd_db_stmt(db, "DELETE FROM s3_bucket_configs WHERE bucket = ?1 AND kind = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, kind);
    if (doc)
        pd_db_bind_text(st, 3, doc);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_buckets_with_cfg(struct pd_db *db, struct pd_arena *a, const char *kind,
                              const char ***OUT, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT bucket FROM s3_bucket_configs WHERE kind = ?1 ORDER BY bucket");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, kind);
    return pd_db_col_texts(db, a, st, OUT, OUT_n);
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
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT 1 FROM s3_objects WHERE bucket = ?1 UNION ALL "
                                      "SELECT 1 FROM s3_versions WHERE bucket = ?1 LIMIT 1");
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

#define OBJECT_COLS                                                                                \
    "bucket, key, file, size, etag, modified_ms, meta, tags, version_id, marker, owner, acl"
/* the same columns of s3_versions, then seq and noncurrent_ms */
#define VERSION_COLS OBJECT_COLS ", seq, noncurrent_ms"

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
    o->version_id = TXT(8);
    o->marker = sqlite3_column_int(st, 9);
    o->owner = TXT(10);
    o->acl = TXT(11);
    o->seq = 0;
    o->noncurrent_ms = 0;
}

static void version_row(struct pd_arena *a, sqlite3_stmt *st, struct pd_s3_object *o)
{
    object_row(a, st, o);
    o->seq = I64(12);
    o->noncurrent_ms = I64(13);
}

static int object_current(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                          int markers, struct pd_s3_object *OUT)
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
    return OUT->marker && !markers ? PD_ENOTFOUND : PD_OK;
}

int pd_s3_db_object_get(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                        struct pd_s3_object *OUT)
{
    return object_current(db, a, bucket, key, 0, OUT);
}

int pd_s3_db_object_current(struct pd_db *db, struct pd_arena *a, const char *bucket,
                            const char *key, struct pd_s3_object *OUT)
{
    return object_current(db, a, bucket, key, 1, OUT);
}

/* The file of the row sql selects (NULL when none or inline); *OUT_found whether a row
 * exists (may be NULL). */
static int old_file(struct pd_db *db, struct pd_arena *a, const char *sql, const char *k1,
                    const char *k2, int64_t num, const char **OUT, int *OUT_found)
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
        sqlite3_bind_int64(st, 2, num);
    if (k2 && num)
        sqlite3_bind_int64(st, 3, num);
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
    sqlite3_stmt *st =
        pd_db_stmt(db, "INSERT OR REPLACE INTO s3_objects(" OBJECT_COLS
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, o->bucket);
    pd_db_bind_text(st, 2, o->key);
    pd_db_bind_text(st, 3, o->file ? o->file : "");
    sqlite3_bind_int64(st, 4, o->size);
    pd_db_bind_text(st, 5, o->etag ? o->etag : "");
    sqlite3_bind_int64(st, 6, o->modified_ms);
    pd_db_bind_text(st, 7, o->meta ? o->meta : "{}");
    pd_db_bind_text(st, 8, o->tags);
    pd_db_bind_text(st, 9, o->version_id);
    sqlite3_bind_int(st, 10, o->marker);
    pd_db_bind_text(st, 11, o->owner);
    pd_db_bind_text(st, 12, o->acl);
    rc = pd_db_exec_stmt(db, st);
    if (rc)
        return rc;
    /* the replaced row's body may or may not have gone with it (a REPLACE's delete): say
     * what the new row's body is either way */
    if (o->file || o->marker) {
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

int pd_s3_db_object_body(struct pd_db *db, const char *bucket, const char *key, int64_t seq,
                         int64_t off, int64_t len, void *OUT)
{
    sqlite3_stmt *st =
        seq ? pd_db_stmt(db, "SELECT body FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND "
                             "seq = ?3 AND body IS NOT NULL")
            : pd_db_stmt(db, "SELECT body FROM s3_object_bodies WHERE bucket = ?1 AND key = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    if (seq)
        sqlite3_bind_int64(st, 3, seq);
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

/* UPDATE one text column of the current version (seq 0) or of a noncurrent one. */
static int set_col(struct pd_db *db, const char *cur_sql, const char *ver_sql, const char *bucket,
                   const char *key, int64_t seq, const char *value)
{
    sqlite3_stmt *st = pd_db_stmt(db, seq ? ver_sql : cur_sql);
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    pd_db_bind_text(st, 3, value);
    if (seq)
        sqlite3_bind_int64(st, 4, seq);
    int rc = pd_db_exec_stmt(db, st);
    return rc ? rc : changes(db) ? PD_OK : PD_ENOTFOUND;
}

int pd_s3_db_object_set_tags(struct pd_db *db, const char *bucket, const char *key, int64_t seq,
                             const char *tags)
{
    return set_col(db, "UPDATE s3_objects SET tags = ?3 WHERE bucket = ?1 AND key = ?2",
                   "UPDATE s3_versions SET tags = ?3 WHERE bucket = ?1 AND key = ?2 AND seq = ?4",
                   bucket, key, seq, tags);
}

int pd_s3_db_object_set_acl(struct pd_db *db, const char *bucket, const char *key, int64_t seq,
                            const char *acl)
{
    return set_col(db, "UPDATE s3_objects SET acl = ?3 WHERE bucket = ?1 AND key = ?2",
                   "UPDATE s3_versions SET acl = ?3 WHERE bucket = ?1 AND key = ?2 AND seq = ?4",
                   bucket, key, seq, acl);
}

int pd_s3_db_object_next(struct pd_db *db, struct pd_arena *a, const char *bucket,
                         const char *after, int inclusive, struct pd_s3_object *OUT)
{
    sqlite3_stmt *st;
    if (!after)
        st = pd_db_stmt(db, "SELECT " OBJECT_COLS " FROM s3_objects WHERE bucket = ?1 "
                            "AND marker = 0 ORDER BY key LIMIT 1");
    else if (inclusive)
        st = pd_db_stmt(db, "SELECT " OBJECT_COLS " FROM s3_objects WHERE bucket = ?1 "
                            "AND key >= ?2 AND marker = 0 ORDER BY key LIMIT 1");
    else
        st = pd_db_stmt(db, "SELECT " OBJECT_COLS " FROM s3_objects WHERE bucket = ?1 "
                            "AND key > ?2 AND marker = 0 ORDER BY key LIMIT 1");
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

/* ---- versions ---- */

int pd_s3_db_version_get(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                         const char *version_id, struct pd_s3_object *OUT)
{
    int rc = object_current(db, a, bucket, key, 1, OUT);
    if (rc && rc != PD_ENOTFOUND)
        return rc;
    if (rc == PD_OK &&
        (version_id ? OUT->version_id && !strcmp(OUT->version_id, version_id) : !OUT->version_id))
        return PD_OK;
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " VERSION_COLS " FROM s3_versions WHERE bucket = ?1 "
                                      "AND key = ?2 AND version_id IS ?3 ORDER BY seq DESC "
                                      "LIMIT 1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    pd_db_bind_text(st, 3, version_id);
    rc = step_one(db, st);
    if (rc)
        return rc;
    version_row(a, st, OUT);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_s3_db_object_demote(struct pd_db *db, const char *bucket, const char *key, int64_t now_ms)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "INSERT INTO s3_versions(" VERSION_COLS ", body) SELECT " OBJECT_COLS ", "
            "(SELECT COALESCE(MAX(seq), 0) + 1 FROM s3_versions v WHERE v.bucket = ?1 AND "
            "v.key = ?2), ?3, (SELECT body FROM s3_object_bodies b WHERE b.bucket = ?1 AND "
            "b.key = ?2) FROM s3_objects WHERE bucket = ?1 AND key = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    sqlite3_bind_int64(st, 3, now_ms);
    int rc = pd_db_exec_stmt(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "DELETE FROM s3_objects WHERE bucket = ?1 AND key = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_object_promote(struct pd_db *db, const char *bucket, const char *key)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT MAX(seq) FROM s3_versions WHERE bucket = ?1 AND "
                                      "key = ?2");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    int null = sqlite3_column_type(st, 0) == SQLITE_NULL;
    int64_t seq = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (null)
        return PD_ENOTFOUND;
    static const char *const steps[] = {
        ("INSERT INTO s3_objects(" OBJECT_COLS ") SELECT " OBJECT_COLS
         " FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3"),
        ("INSERT INTO s3_object_bodies(bucket, key, body) SELECT bucket, key, body FROM "
         "s3_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3 AND body IS NOT NULL"),
        "DELETE FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3",
    };
    for (size_t i = 0; i < 3; i++) {
        st = pd_db_stmt(db, steps[i]);
        if (!st)
            return PD_EINTERNAL;
        pd_db_bind_text(st, 1, bucket);
        pd_db_bind_text(st, 2, key);
        sqlite3_bind_int64(st, 3, seq);
        rc = pd_db_exec_stmt(db, st);
        if (rc)
            return rc;
    }
    return PD_OK;
}

int pd_s3_db_version_del(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                         int64_t seq, const char **OUT_old_file)
{
    int found;
    int rc =
        old_file(db, a, "SELECT file FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3",
                 bucket, key, seq, OUT_old_file, &found);
    if (rc)
        return rc;
    if (!found)
        return PD_ENOTFOUND;
    sqlite3_stmt *st =
        pd_db_stmt(db, "DELETE FROM s3_versions WHERE bucket = ?1 AND key = ?2 AND seq = ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    sqlite3_bind_int64(st, 3, seq);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_versions_of(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                         struct pd_s3_object **OUT, size_t *OUT_n)
{
    size_t n = 0, cap = 0;
    struct pd_s3_object *v = NULL;
    struct pd_s3_object cur;
    int rc = object_current(db, a, bucket, key, 1, &cur);
    if (rc && rc != PD_ENOTFOUND)
        return rc;
    if (rc == PD_OK) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        v[n++] = cur;
    }
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " VERSION_COLS " FROM s3_versions WHERE bucket = ?1 "
                                      "AND key = ?2 ORDER BY seq DESC");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, key);
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        version_row(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    *OUT = v;
    *OUT_n = n;
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}

int pd_s3_db_version_next_key(struct pd_db *db, struct pd_arena *a, const char *bucket,
                              const char *after, int inclusive, const char **OUT_key)
{
    sqlite3_stmt *st;
    if (!after)
        st = pd_db_stmt(db, "SELECT MIN(k) FROM (SELECT MIN(key) AS k FROM s3_objects WHERE "
                            "bucket = ?1 UNION ALL SELECT MIN(key) FROM s3_versions WHERE "
                            "bucket = ?1)");
    else if (inclusive)
        st = pd_db_stmt(db, "SELECT MIN(k) FROM (SELECT MIN(key) AS k FROM s3_objects WHERE "
                            "bucket = ?1 AND key >= ?2 UNION ALL SELECT MIN(key) FROM "
                            "s3_versions WHERE bucket = ?1 AND key >= ?2)");
    else
        st = pd_db_stmt(db, "SELECT MIN(k) FROM (SELECT MIN(key) AS k FROM s3_objects WHERE "
                            "bucket = ?1 AND key > ?2 UNION ALL SELECT MIN(key) FROM "
                            "s3_versions WHERE bucket = ?1 AND key > ?2)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    if (after)
        pd_db_bind_text(st, 2, after);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    *OUT_key = TXT(0);
    sqlite3_reset(st);
    return *OUT_key ? PD_OK : PD_ENOTFOUND;
}

/* ---- lifecycle ---- */

/* Rows of st (bound, selecting OBJECT_COLS or VERSION_COLS) into an arena array. */
static int collect(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st, int versions,
                   struct pd_s3_object **OUT, size_t *OUT_n)
{
    size_t n = 0, cap = 0;
    struct pd_s3_object *v = NULL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        v = pd_arena_grow(a, v, n, &cap, sizeof *v);
        if (versions)
            version_row(a, st, &v[n++]);
        else
            object_row(a, st, &v[n++]);
    }
    sqlite3_reset(st);
    *OUT = v;
    *OUT_n = n;
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}

/* Keys starting with prefix: key >= prefix AND substr(key, 1, length(prefix)) = prefix. */
#define PREFIX_WHERE "key >= ?2 AND substr(key, 1, length(?2)) = ?2"

int pd_s3_db_objects_older(struct pd_db *db, struct pd_arena *a, const char *bucket,
                           const char *prefix, int64_t before_ms, size_t limit,
                           struct pd_s3_object **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " OBJECT_COLS " FROM s3_objects WHERE bucket = ?1 "
                                      "AND " PREFIX_WHERE " AND marker = 0 AND modified_ms < ?3 "
                                      "ORDER BY key LIMIT ?4");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, prefix ? prefix : "");
    sqlite3_bind_int64(st, 3, before_ms);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    return collect(db, a, st, 0, OUT, OUT_n);
}

int pd_s3_db_versions_older(struct pd_db *db, struct pd_arena *a, const char *bucket,
                            const char *prefix, int64_t before_ms, size_t limit,
                            struct pd_s3_object **OUT, size_t *OUT_n)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT " VERSION_COLS " FROM s3_versions WHERE bucket = ?1 "
                                      "AND " PREFIX_WHERE " AND noncurrent_ms < ?3 "
                                      "ORDER BY key, seq LIMIT ?4");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, prefix ? prefix : "");
    sqlite3_bind_int64(st, 3, before_ms);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    return collect(db, a, st, 1, OUT, OUT_n);
}

int pd_s3_db_lone_markers(struct pd_db *db, struct pd_arena *a, const char *bucket,
                          const char *prefix, size_t limit, const char ***OUT, size_t *OUT_n)
{
    sqlite3_stmt *st =
        pd_db_stmt(db, "SELECT key FROM s3_objects o WHERE bucket = ?1 AND " PREFIX_WHERE
                       " AND marker = 1 AND NOT EXISTS (SELECT 1 "
                       "FROM s3_versions v WHERE v.bucket = o.bucket AND "
                       "v.key = o.key) ORDER BY key LIMIT ?3");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, bucket);
    pd_db_bind_text(st, 2, prefix ? prefix : "");
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    return pd_db_col_texts(db, a, st, OUT, OUT_n);
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

int pd_s3_db_completed_put(struct pd_db *db, const struct pd_s3_completed *c,
                           int64_t forget_before_ms)
{
    sqlite3_stmt *st = pd_db_stmt(db, "DELETE FROM s3_completed_uploads WHERE completed_ms < ?1");
    if (!st)
        return PD_EINTERNAL;
    sqlite3_bind_int64(st, 1, forget_before_ms);
    int rc = pd_db_exec_stmt(db, st);
    if (rc)
        return rc;
    st = pd_db_stmt(db, "INSERT OR REPLACE INTO s3_completed_uploads(upload_id, bucket, key, "
                        "etag, result, completed_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, c->upload_id);
    pd_db_bind_text(st, 2, c->bucket);
    pd_db_bind_text(st, 3, c->key);
    pd_db_bind_text(st, 4, c->etag);
    pd_db_bind_text(st, 5, c->result);
    sqlite3_bind_int64(st, 6, c->completed_ms);
    return pd_db_exec_stmt(db, st);
}

int pd_s3_db_completed_get(struct pd_db *db, struct pd_arena *a, const char *upload_id,
                           struct pd_s3_completed *OUT)
{
    sqlite3_stmt *st = pd_db_stmt(db, "SELECT upload_id, bucket, key, etag, result, completed_ms "
                                      "FROM s3_completed_uploads WHERE upload_id = ?1");
    if (!st)
        return PD_EINTERNAL;
    pd_db_bind_text(st, 1, upload_id);
    int rc = step_one(db, st);
    if (rc)
        return rc;
    OUT->upload_id = TXT(0);
    OUT->bucket = TXT(1);
    OUT->key = TXT(2);
    OUT->etag = TXT(3);
    OUT->result = TXT(4);
    OUT->completed_ms = I64(5);
    sqlite3_reset(st);
    return PD_OK;
}

int pd_s3_db_files(struct pd_db *db, void (*fn)(void *arg, const char *file), void *arg)
{
    sqlite3_stmt *st = pd_db_stmt(
        db, "SELECT file FROM s3_objects WHERE file <> '' UNION ALL SELECT file FROM s3_versions "
            "WHERE file <> '' UNION ALL SELECT file FROM s3_parts");
    if (!st)
        return PD_EINTERNAL;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW)
        fn(arg, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return src == SQLITE_DONE ? PD_OK : pd_db_rc(db, src);
}
