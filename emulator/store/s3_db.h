/*
 * s3_db.h - the S3 tables: buckets, objects, multipart uploads and their parts.
 *
 * Typed access to the s3_* tables of schema.sql; the only place with SQL about S3. Rows
 * name object files by their path relative to the store's objects directory, or keep a
 * small object's bytes inline (s3_object_bodies, written with the row); this module never
 * touches files (the service renames and unlinks them around its transactions).
 * Strings returned are copied into the caller's arena. Functions return PD_OK,
 * PD_ENOTFOUND, PD_ECONFLICT (a row that must not exist does) or PD_EIO / PD_EBUSY.
 */
#ifndef PD_STORE_S3_DB_H
#define PD_STORE_S3_DB_H

#include <stddef.h>
#include <stdint.h>

struct pd_db;
struct pd_arena;

struct pd_s3_bucket {
    const char *name;
    const char *account_id; /* owner */
    const char *region;
    int64_t created_ms;
    const char *policy; /* bucket policy text, or NULL */
    const char *tags;   /* JSON array of {"Key","Value"}, or NULL (no tag set) */
};

struct pd_s3_object {
    const char *bucket, *key;
    const char *file; /* relative to the objects directory; NULL: the bytes are inline */
    const void *body; /* put only: the inline bytes (size of them) when file is NULL */
    int64_t size;
    const char *etag; /* with its quotes */
    int64_t modified_ms;
    const char *meta; /* JSON object text */
    const char *tags; /* JSON array text, or NULL */
};

struct pd_s3_upload {
    const char *upload_id, *bucket, *key;
    int64_t initiated_ms;
    const char *initiator; /* caller ARN */
    const char *meta;      /* JSON object text (content headers, metadata, checksum algorithm) */
    const char *tags;      /* JSON array text, or NULL */
};

struct pd_s3_part {
    int num;
    const char *file;
    int64_t size;
    const char *etag;     /* with its quotes */
    const char *checksum; /* base64 of the part checksum in the upload's algorithm, or NULL */
    int64_t modified_ms;
};

/* ---- buckets ---- */
int pd_s3_db_bucket_get(struct pd_db *db, struct pd_arena *a, const char *name,
                        struct pd_s3_bucket *OUT);
/* Insert; PD_ECONFLICT when the name is taken. */
int pd_s3_db_bucket_put(struct pd_db *db, const struct pd_s3_bucket *b);
int pd_s3_db_bucket_del(struct pd_db *db, const char *name);
/* An account's buckets by name (or every bucket when account is NULL), arena array. */
int pd_s3_db_bucket_list(struct pd_db *db, struct pd_arena *a, const char *account,
                         struct pd_s3_bucket **OUT, size_t *OUT_n);
/* policy / tags NULL removes them. PD_ENOTFOUND when the bucket does not exist. */
int pd_s3_db_bucket_set_policy(struct pd_db *db, const char *name, const char *policy);
int pd_s3_db_bucket_set_tags(struct pd_db *db, const char *name, const char *tags);
/* Does the bucket hold any object? *OUT 1 when empty. */
int pd_s3_db_bucket_empty(struct pd_db *db, const char *name, int *OUT);

/* ---- objects ---- */
int pd_s3_db_object_get(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                        struct pd_s3_object *OUT);
/* Insert or replace (with its inline body when o->file is NULL). *OUT_old_file: the replaced
 * object's file (arena), or NULL (no object, or an inline one). */
int pd_s3_db_object_put(struct pd_db *db, struct pd_arena *a, const struct pd_s3_object *o,
                        const char **OUT_old_file);
/* Delete; *OUT_old_file as above (NULL and PD_OK when there was none). */
int pd_s3_db_object_del(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                        const char **OUT_old_file);
/* Copy bytes [off, off + len) of an inline object's body into OUT (len bytes). PD_ENOTFOUND
 * when the object has no inline body, PD_EIO when the body is shorter. */
int pd_s3_db_object_body(struct pd_db *db, const char *bucket, const char *key, int64_t off,
                         int64_t len, void *OUT);
int pd_s3_db_object_set_tags(struct pd_db *db, const char *bucket, const char *key,
                             const char *tags);
/* The first object of bucket whose key is > after (>= when inclusive; after NULL: from
 * the start). PD_ENOTFOUND at the end. */
int pd_s3_db_object_next(struct pd_db *db, struct pd_arena *a, const char *bucket,
                         const char *after, int inclusive, struct pd_s3_object *OUT);

/* ---- multipart uploads ---- */
int pd_s3_db_upload_put(struct pd_db *db, const struct pd_s3_upload *u);
int pd_s3_db_upload_get(struct pd_db *db, struct pd_arena *a, const char *upload_id,
                        struct pd_s3_upload *OUT);
/* Delete an upload and its parts; *OUT_files gets the part files (arena array). */
int pd_s3_db_upload_del(struct pd_db *db, struct pd_arena *a, const char *upload_id,
                        const char ***OUT_files, size_t *OUT_n);
/* Uploads of bucket ordered by (key, initiated, id) after (key_marker, id_marker). */
int pd_s3_db_upload_list(struct pd_db *db, struct pd_arena *a, const char *bucket,
                         const char *key_marker, const char *id_marker, size_t limit,
                         struct pd_s3_upload **OUT, size_t *OUT_n);
/* Insert or replace a part; *OUT_old_file the replaced part's file or NULL. */
int pd_s3_db_part_put(struct pd_db *db, struct pd_arena *a, const char *upload_id,
                      const struct pd_s3_part *p, const char **OUT_old_file);
/* Parts with num > after, ascending, at most limit (0: all). */
int pd_s3_db_part_list(struct pd_db *db, struct pd_arena *a, const char *upload_id, int after,
                       size_t limit, struct pd_s3_part **OUT, size_t *OUT_n);

/* ---- files ---- */
/* Every file a row references (objects and parts; not inline objects): fn is called once
 * per file. */
int pd_s3_db_files(struct pd_db *db, void (*fn)(void *arg, const char *file), void *arg);

#endif
