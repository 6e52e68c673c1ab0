/*
 * s3_db.h - the S3 tables: buckets and their configurations, objects (current versions),
 * noncurrent versions, multipart uploads and their parts.
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

/* One configuration document of a bucket (s3_bucket_configs). */
struct pd_s3_cfg {
    const char *kind; /* "versioning", "acl", "ownership", "cors", ... (the service's names) */
    const char *doc;  /* JSON text */
};

struct pd_s3_bucket {
    const char *name;
    const char *account_id; /* owner */
    const char *region;
    int64_t created_ms;
    const char *policy;    /* bucket policy text, or NULL */
    const char *tags;      /* JSON array of {"Key","Value"}, or NULL (no tag set) */
    struct pd_s3_cfg *cfg; /* its configurations (read with the bucket; arena array) */
    size_t ncfg;
};

struct pd_s3_object {
    const char *bucket, *key;
    const char *file; /* relative to the objects directory; NULL: the bytes are inline */
    const void *body; /* put only: the inline bytes (size of them) when file is NULL */
    int64_t size;
    const char *etag; /* with its quotes ("" for a delete marker) */
    int64_t modified_ms;
    const char *meta;       /* JSON object text */
    const char *tags;       /* JSON array text, or NULL */
    const char *version_id; /* NULL: the null version */
    int marker;             /* a delete marker */
    const char *owner;      /* owning account, NULL: the bucket's owner */
    const char *acl;        /* grants as JSON, NULL: the owner's FULL_CONTROL */
    int64_t seq;            /* 0: the current version; > 0: a noncurrent one (s3_versions) */
    int64_t noncurrent_ms;  /* noncurrent versions: when a newer one replaced it */
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
/* Does the bucket hold any object, version or delete marker? *OUT 1 when empty. */
int pd_s3_db_bucket_empty(struct pd_db *db, const char *name, int *OUT);
/* Set (doc) or remove (doc NULL) one configuration of a bucket. */
int pd_s3_db_bucket_cfg_set(struct pd_db *db, const char *bucket, const char *kind,
                            const char *doc);
/* Buckets that have a configuration of kind (arena array of names). */
int pd_s3_db_buckets_with_cfg(struct pd_db *db, struct pd_arena *a, const char *kind,
                              const char ***OUT, size_t *OUT_n);

/* ---- objects (current versions) ---- */
/* The current version of a key, unless it is a delete marker (PD_ENOTFOUND then). */
int pd_s3_db_object_get(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                        struct pd_s3_object *OUT);
/* The current version of a key, a delete marker included. */
int pd_s3_db_object_current(struct pd_db *db, struct pd_arena *a, const char *bucket,
                            const char *key, struct pd_s3_object *OUT);
/* Insert or replace the current version (with its inline body when o->file is NULL and it
 * is not a marker). *OUT_old_file: the replaced row's file (arena), or NULL (no row, or an
 * inline one, or a marker). */
int pd_s3_db_object_put(struct pd_db *db, struct pd_arena *a, const struct pd_s3_object *o,
                        const char **OUT_old_file);
/* Delete the current version; *OUT_old_file as above (NULL and PD_OK when there was none). */
int pd_s3_db_object_del(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                        const char **OUT_old_file);
/* Copy bytes [off, off + len) of an object's inline body into OUT (len bytes): the current
 * version's when seq is 0, else the noncurrent version seq's. PD_ENOTFOUND when it has no
 * inline body, PD_EIO when the body is shorter. */
int pd_s3_db_object_body(struct pd_db *db, const char *bucket, const char *key, int64_t seq,
                         int64_t off, int64_t len, void *OUT);
/* Tags / ACL and owner of the current version (seq 0) or of noncurrent version seq. */
int pd_s3_db_object_set_tags(struct pd_db *db, const char *bucket, const char *key, int64_t seq,
                             const char *tags);
int pd_s3_db_object_set_acl(struct pd_db *db, const char *bucket, const char *key, int64_t seq,
                            const char *acl);
/* The first current object (not a marker) of bucket whose key is > after (>= when
 * inclusive; after NULL: from the start). PD_ENOTFOUND at the end. */
int pd_s3_db_object_next(struct pd_db *db, struct pd_arena *a, const char *bucket,
                         const char *after, int inclusive, struct pd_s3_object *OUT);

/* ---- versions ---- */
/* The version of key with version_id (NULL: the null version), current or not; PD_ENOTFOUND
 * when there is none. OUT->seq says which (0: current). */
int pd_s3_db_version_get(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                         const char *version_id, struct pd_s3_object *OUT);
/* Make the current version of key noncurrent (it keeps its bytes, id and ACL; a newer seq
 * than every noncurrent one), at now_ms. PD_OK also when the key has no current version. */
int pd_s3_db_object_demote(struct pd_db *db, const char *bucket, const char *key, int64_t now_ms);
/* Make the newest noncurrent version of key current again (after its current version was
 * deleted). PD_ENOTFOUND when there is none. */
int pd_s3_db_object_promote(struct pd_db *db, const char *bucket, const char *key);
/* Delete noncurrent version seq; *OUT_old_file its file or NULL. */
int pd_s3_db_version_del(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                         int64_t seq, const char **OUT_old_file);
/* Every version of key, newest first (the current one, then the noncurrent by seq), arena
 * array. */
int pd_s3_db_versions_of(struct pd_db *db, struct pd_arena *a, const char *bucket, const char *key,
                         struct pd_s3_object **OUT, size_t *OUT_n);
/* The first key of bucket (current or noncurrent, markers included) > after (>= when
 * inclusive). PD_ENOTFOUND at the end. */
int pd_s3_db_version_next_key(struct pd_db *db, struct pd_arena *a, const char *bucket,
                              const char *after, int inclusive, const char **OUT_key);

/* ---- lifecycle ---- */
/* Current objects (markers excluded) of bucket modified before before_ms whose key starts
 * with prefix, at most limit, by key (arena array). */
int pd_s3_db_objects_older(struct pd_db *db, struct pd_arena *a, const char *bucket,
                           const char *prefix, int64_t before_ms, size_t limit,
                           struct pd_s3_object **OUT, size_t *OUT_n);
/* Noncurrent versions of bucket that became noncurrent before before_ms, key starting with
 * prefix, at most limit (arena array). */
int pd_s3_db_versions_older(struct pd_db *db, struct pd_arena *a, const char *bucket,
                            const char *prefix, int64_t before_ms, size_t limit,
                            struct pd_s3_object **OUT, size_t *OUT_n);
/* Current delete markers of bucket with no noncurrent version left (expired object delete
 * markers), key starting with prefix, at most limit (arena array of keys). */
int pd_s3_db_lone_markers(struct pd_db *db, struct pd_arena *a, const char *bucket,
                          const char *prefix, size_t limit, const char ***OUT, size_t *OUT_n);

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

/* A completed multipart upload, remembered for a repeated CompleteMultipartUpload. */
struct pd_s3_completed {
    const char *upload_id, *bucket, *key;
    const char *etag;   /* the object's multipart ETag */
    const char *result; /* the answer given (JSON) */
    int64_t completed_ms;
};
/* Remember c, and forget completions older than forget_before_ms. */
int pd_s3_db_completed_put(struct pd_db *db, const struct pd_s3_completed *c,
                           int64_t forget_before_ms);
int pd_s3_db_completed_get(struct pd_db *db, struct pd_arena *a, const char *upload_id,
                           struct pd_s3_completed *OUT);

/* ---- files ---- */
/* Every file a row references (objects and parts; not inline objects): fn is called once
 * per file. */
int pd_s3_db_files(struct pd_db *db, void (*fn)(void *arg, const char *file), void *arg);

#endif
