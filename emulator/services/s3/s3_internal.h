/*
 * s3_internal.h - what the S3 service's files share (never included outside services/s3*).
 *
 * The service is split by subject: s3.c (table, start-up sweep, object files, helpers),
 * s3_authz.c (actions, resources, condition keys, bucket policy), s3_buckets.c,
 * s3_objects.c, s3_upload.c (the body sink: aws-chunked, hashes, temp file), s3_multipart.c,
 * s3_list.c (ListObjects* and the pure listing walk), s3_fixtures.c, s3_chunked.c (the pure
 * aws-chunked decoder). Wire errors live in s3_errors.def.
 */
#ifndef PD_SERVICES_S3_INTERNAL_H
#define PD_SERVICES_S3_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"
#include "req.h"
#include "services/service.h"
#include "store/s3_db.h"

#define PD_AWSERR(name, code, status, fault) extern const struct pd_awserr S3_##name;
#include "services/s3/s3_errors.def"
#undef PD_AWSERR

#define S3_MIN_PART_SIZE (5 * 1024 * 1024)
#define S3_MAX_PARTS 10000

/* ---- checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) ---- */
enum s3_ck_alg {
    S3_CK_NONE = 0,
    S3_CK_CRC32,
    S3_CK_CRC32C,
    S3_CK_CRC64NVME,
    S3_CK_SHA1,
    S3_CK_SHA256
};

struct s3_cksum {
    enum s3_ck_alg alg;
    uint64_t crc;
    struct pd_hash h;
    int hashing;
};

/* "CRC32" -> S3_CK_CRC32 (case-insensitive); S3_CK_NONE when unknown. */
enum s3_ck_alg s3_ck_parse(const char *name);
const char *s3_ck_name(enum s3_ck_alg a);   /* "CRC32" */
const char *s3_ck_header(enum s3_ck_alg a); /* "x-amz-checksum-crc32" */
const char *s3_ck_member(enum s3_ck_alg a); /* "ChecksumCRC32" */
size_t s3_ck_len(enum s3_ck_alg a);         /* raw digest length: 4, 8, 20, 32 */
void s3_ck_init(struct s3_cksum *c, enum s3_ck_alg a);
void s3_ck_update(struct s3_cksum *c, const void *p, size_t n);
/* Raw digest (s3_ck_len bytes) into out; releases the state. */
void s3_ck_final(struct s3_cksum *c, unsigned char out[32]);
void s3_ck_cleanup(struct s3_cksum *c);
/* Base64 of the digest of p (one shot), arena-owned. */
char *s3_ck_b64(struct pd_arena *a, enum s3_ck_alg alg, const void *p, size_t n);

/* ---- helpers ---- */
const char *s3_in_str(struct pd_req *r, const char *member);
int64_t s3_in_int(struct pd_req *r, const char *member, int64_t dflt);
/* The request's region (credential scope, else the configured default). */
const char *s3_region(struct pd_req *r);
/* Load the bucket named by the request (r->in "Bucket"); NoSuchBucket when absent. */
int s3_bucket(struct pd_req *r, struct pd_s3_bucket *OUT);
int s3_fail_bucket(struct pd_req *r, const struct pd_awserr *e, const char *bucket, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
int s3_no_such_key(struct pd_req *r, const char *bucket, const char *key);
int s3_internal(struct pd_req *r, int rc, const char *what);
/* Is name a valid bucket name for CreateBucket (S3's general purpose naming rules)? */
int s3_bucket_name_valid(const char *name);
/* "\"<hex md5>\"" arena-owned. */
char *s3_etag(struct pd_arena *a, const unsigned char md5[PD_MD5_LEN]);
/* HTTP date of ms. */
const char *s3_http_date(struct pd_arena *a, int64_t ms);

/* The canonical user id S3 shows for an account (Owner/ID, ACL grantees): 64 hex digits
 * derived from the account id, arena-owned. */
const char *s3_canonical_id(struct pd_req *r, const char *account);

/* ---- bucket configurations and versioning (s3_versions.c) ---- */
/* A configuration document of b ("versioning", "acl", "cors", ...), or NULL. */
const char *s3_cfg(const struct pd_s3_bucket *b, const char *kind);
/* The same parsed (new reference), or NULL. */
json_t *s3_cfg_json(const struct pd_s3_bucket *b, const char *kind);
/* Store (doc) or remove (NULL) a configuration of b. PD_OK or PD_EAWS. */
int s3_cfg_put(struct pd_req *r, const struct pd_s3_bucket *b, const char *kind, json_t *doc);

enum s3_vstate { S3_UNVERSIONED = 0, S3_VENABLED, S3_VSUSPENDED };
enum s3_vstate s3_vstate(const struct pd_s3_bucket *b);
/* "null", or a version id of podiam's format. */
int s3_version_id_valid(const char *v);
/* out.VersionId for a bucket that has a versioning state ("null" for the null version). */
void s3_out_version(json_t *out, const struct pd_s3_bucket *b, const char *version_id);
/* Store o as its key's new current version as b's versioning says (o->version_id is set;
 * the previous current version becomes noncurrent or is replaced). PD_OK or PD_EAWS. */
int s3_store_current(struct pd_req *r, const struct pd_s3_bucket *b, struct pd_s3_object *o);

struct s3_deleted {
    const char *version_id; /* the version removed or the marker made (NULL: null) */
    int versioned;          /* a version id was named */
    int marker;             /* a delete marker was made, or the version removed was one */
    int marker_created;     /* a delete marker was made */
};
/* DeleteObject's effect on key: without version, remove it (unversioned) or add a delete
 * marker; with version, remove that version (InvalidArgument when malformed; success when
 * absent). PD_OK or PD_EAWS. */
int s3_delete_key(struct pd_req *r, const struct pd_s3_bucket *b, const char *key,
                  const char *version, struct s3_deleted *OUT);
/* The object a request names: the version its VersionId names, or the current version.
 * Errors: InvalidArgument (malformed id), NoSuchKey / NoSuchVersion (AccessDenied for
 * callers who may not list the bucket), a delete marker as 404 (current) or 405 (by id)
 * with x-amz-delete-marker. */
int s3_object_of(struct pd_req *r, const struct pd_s3_bucket *b, const char *key,
                 struct pd_s3_object *OUT);

/* ---- ACLs, Object Ownership, Block Public Access (s3_acl.c) ---- */
enum s3_ownership {
    S3_OWN_NONE = 0,  /* no ownership controls (a bucket from before 2023): ACLs apply */
    S3_OWN_ENFORCED,  /* BucketOwnerEnforced: ACLs disabled, the bucket owner owns all */
    S3_OWN_PREFERRED, /* BucketOwnerPreferred */
    S3_OWN_WRITER,    /* ObjectWriter */
};
enum s3_ownership s3_ownership(const struct pd_s3_bucket *b);
int s3_ownership_valid(const char *v);
struct s3_pab {
    int block_acls, ignore_acls, block_policy, restrict_buckets;
};
/* The bucket's public access block (all off when it has none). */
void s3_pab(const struct pd_s3_bucket *b, struct s3_pab *OUT);
/* Does a stored-form ACL grant anything to AllUsers or AuthenticatedUsers? */
int s3_acl_public(json_t *acl);
/* The ACL a request sets (x-amz-acl, x-amz-grant-*, or an AccessControlPolicy body) in
 * stored form for a resource owned by owner (object: an object's ACL), or *OUT NULL when the
 * request sets none. Errors: InvalidRequest (canned and grants together), InvalidArgument
 * (unknown canned ACL, grantee id or group), UnresolvableGrantByEmailAddress, MalformedACL. */
int s3_acl_from_request(struct pd_req *r, const char *owner, const char *bucket_owner, int object,
                        json_t **OUT);
/* The owner (NULL: the bucket's) and stored ACL (NULL: the owner's FULL_CONTROL) of an
 * object r writes into b, from its x-amz-acl / x-amz-grant-* headers and b's ownership
 * controls; AccessControlListNotSupported when b's ACLs are disabled and the request sets
 * another ACL than the bucket owner's full control, AccessDenied when BlockPublicAcls
 * refuses a public one. Arena strings. */
int s3_write_acl(struct pd_req *r, const struct pd_s3_bucket *b, const char **OUT_owner,
                 const char **OUT_acl);
/* Is a bucket policy public (S3's definition: an Allow to everyone not pinned to fixed
 * values of source or principal condition keys)? */
int s3_policy_public(const char *text);
/* Fold b's ACLs and public access block into need's resource policy for action (obj: the
 * object the request names, or NULL). PD_OK. */
int s3_acl_authz(struct pd_req *r, struct pd_authz_need *need, const struct pd_s3_bucket *b,
                 const char *action, const struct pd_s3_object *obj);

/* ---- bucket configurations kept as documents (s3_config.c) ---- */
int pd_s3_config_get(struct pd_req *r);
int pd_s3_config_put(struct pd_req *r);
int pd_s3_config_delete(struct pd_req *r);
/* A new object's ServerSideEncryption (and SSEKMSKeyId) in meta from b's default
 * encryption (SSE-S3 unless configured), when the request named none. */
void s3_default_encryption(const struct pd_s3_bucket *b, json_t *meta);

/* ---- CORS (s3_cors.c) ---- */
/* The CORS headers of a request with an Origin that matches a rule of b (once a request). */
void s3_cors_headers(struct pd_req *r, const struct pd_s3_bucket *b);
/* OPTIONS: the preflight (an operation the model does not have). */
int pd_s3_options_object(struct pd_req *r);

/* ---- lifecycle (s3_lifecycle.c) ---- */
/* Apply b's lifecycle rules at podiam's clock, inside the handler's transaction (once a
 * request; nothing outside a transaction). */
void s3_lifecycle_apply(struct pd_req *r, const struct pd_s3_bucket *b);
/* The x-amz-expiration value for o (expiry-date="…", rule-id="…"), or NULL. */
const char *s3_lifecycle_expiration(struct pd_req *r, const struct pd_s3_bucket *b,
                                    const struct pd_s3_object *o);

/* ---- per-request state ---- */
struct s3_state {
    const char **drop; /* files to unlink after a commit (arena array) */
    size_t ndrop, cdrop;
    const char **undo; /* files to unlink after a rollback (arena array) */
    size_t nundo, cundo;
    const char *authz_bucket;  /* authorize against this bucket/key instead of the input's */
    const char *authz_key;     /* (the copy source of CopyObject / UploadPartCopy) */
    const char *authz_version; /* and its version (NULL: the current one) */
    const char *check_action;  /* the action of an extra decision (s3_allowed) */
    int cors_done;             /* the CORS headers of the answer are decided */
    int lifecycle_done;        /* the bucket's lifecycle rules were applied */
};
struct s3_state *s3_state(struct pd_req *r);

/* ---- where object bytes live ---- */
/* Is an object of size bytes kept inline (in the database with its row) rather than as a
 * file? Pure: max is the threshold (--s3-inline-max; 0 keeps none inline). */
int pd_s3_inline_fits(int64_t max, int64_t size);
/* The same with the request's configured threshold. */
int s3_inline(struct pd_req *r, int64_t size);
/* Read bytes [off, off + len) of a stored object (inline body or file) into OUT. PD_OK, or
 * an error (logged) for s3_internal. */
int s3_object_read(struct pd_req *r, const struct pd_s3_object *o, int64_t off, int64_t len,
                   void *OUT);

/* ---- object files ---- */
/* Absolute path of a file named relative to the objects directory (arena). */
char *s3_path(struct pd_req *r, const char *rel);
/* A fresh unique relative name for a final object/part file ("ab/abcdef...") and the
 * absolute path of a fresh temp file in tmp/. */
char *s3_new_name(struct pd_req *r);
char *s3_new_tmp(struct pd_req *r);
/* Move a finished temp file to its final relative name (fsync with --sync full).
 * PD_OK or PD_EIO. */
int s3_install(struct pd_req *r, const char *tmp_abs, const char *rel);
/* After the handler's transaction: unlink `drop` files when it committed, `undo` files when
 * it rolled back (arena lists). */
void s3_drop_after_commit(struct pd_req *r, const char *rel);
void s3_undo_on_rollback(struct pd_req *r, const char *rel);
/* Remove tmp/ and every object file no row references. Run with the write lock held (or
 * before serving). */
int pd_s3_sweep(struct pd_env *env);

/* ---- body of streamed uploads (s3_upload.c) ---- */
struct s3_body {
    const char *tmp; /* absolute temp path (complete file), or NULL when mem */
    const char *mem; /* the bytes (size of them, arena) of a body kept inline, or NULL */
    int64_t size;    /* payload bytes */
    unsigned char md5[PD_MD5_LEN];
    enum s3_ck_alg ck_alg; /* checksum computed (requested or sent), or NONE */
    const char *ck_b64;    /* its base64 value */
};
/* The stream hook: install the upload sink on r (POST Object: s3_post_stream). */
int pd_s3_stream(struct pd_req *r);
/* An upload body the service feeds itself (POST Object's file): hashed, checksummed and
 * written to a temp file as a streamed PutObject's (alg: the checksum to compute, ck_sent
 * its base64 value to compare at the end, or NULL). Arena-owned; finish or discard it. */
struct s3_feed;
int s3_feed_open(struct pd_req *r, enum s3_ck_alg alg, const char *ck_sent, struct s3_feed **OUT);
int s3_feed_write(struct pd_req *r, struct s3_feed *f, const char *p, size_t n);
int s3_feed_finish(struct pd_req *r, struct s3_feed *f);
void s3_feed_discard(struct pd_req *r, struct s3_feed *f);
const struct s3_body *s3_feed_body(const struct s3_feed *f);
int64_t s3_feed_size(const struct s3_feed *f);
/* POST Object (s3_post.c): the sink that parses the form, and the handler. */
int s3_post_stream(struct pd_req *r);
int pd_s3_post_object(struct pd_req *r);
/* The finished body of a streamed request (NULL when none). */
const struct s3_body *s3_body_of(struct pd_req *r);
/* Validate checksums sent with a buffered body (Content-MD5, x-amz-checksum-*). */
int s3_check_buffered_body(struct pd_req *r);

/* ---- object metadata ---- */
/* Content headers, user metadata, checksum of r->in (PutObject / CreateMultipartUpload /
 * CopyObject REPLACE) as the meta JSON stored with an object. New reference. */
json_t *s3_meta_from_input(struct pd_req *r);
/* Put the stored meta (and size, etag, modified) into out for Get/HeadObject. */
void s3_meta_to_output(struct pd_req *r, const struct pd_s3_object *o, json_t *meta, json_t *out,
                       int with_checksum);
/* Parse an x-amz-tagging header / a Tagging input into the stored JSON array text (NULL for
 * none). PD_OK or PD_EAWS (InvalidTag / InvalidArgument). */
int s3_tags_from_header(struct pd_req *r, const char *header, const char **OUT);
int s3_tags_from_tagset(struct pd_req *r, json_t *tagset, int object, const char **OUT);
/* Stored tag JSON -> TagSet array (new reference). */
json_t *s3_tags_to_tagset(const char *tags);

/* ---- conditional requests ---- */
/* If-Match / If-None-Match / If-(Un)Modified-Since of GetObject / HeadObject (prefix "")
 * or CopySource* (prefix "CopySource"). Returns PD_OK, PD_EAWS (412 set), or 304 as
 * S3_NOT_MODIFIED when not modified (GET/HEAD only). */
#define S3_NOT_MODIFIED 1
int s3_conditions(struct pd_req *r, const char *prefix, const char *etag, int64_t modified_ms);

/* ---- copies (s3_objects.c) ---- */
/* The copy source (x-amz-copy-source), authorized (s3:GetObject on it under its bucket's
 * policy) and checked against the x-amz-copy-source-if-* conditions. */
int s3_copy_source(struct pd_req *r, struct pd_s3_bucket *OUT_b, struct pd_s3_object *OUT_o);
/* Copy [off, off + len) of a stored object (file or inline) into a new temp file
 * (*OUT_tmp), or, when want_mem and len fits inline, into memory (*OUT_mem, arena; *OUT_tmp
 * NULL then), computing its MD5 and, when alg, its checksum (*OUT_ck, base64). OUT_mem may
 * be NULL when !want_mem. */
int s3_copy_bytes(struct pd_req *r, const struct pd_s3_object *src, int64_t off, int64_t len,
                  enum s3_ck_alg alg, int want_mem, const char **OUT_tmp, const char **OUT_mem,
                  unsigned char md5[PD_MD5_LEN], const char **OUT_ck);

/* ---- authorization (s3_authz.c) ---- */
int pd_s3_authz(struct pd_req *r, struct pd_authz_need *need);
/* ARN of a bucket / an object. */
const char *s3_bucket_arn(struct pd_req *r, const char *bucket);
const char *s3_object_arn(struct pd_req *r, const char *bucket, const char *key);
/* An extra decision (per-key DeleteObjects, s3:ListBucket before NoSuchKey): PD_OK when
 * allowed, PD_EDENIED with the denial message. */
int s3_allowed(struct pd_req *r, const char *action, const char *resource, const char **OUT_msg);

/* ---- handlers ---- */
int pd_s3_list_buckets(struct pd_req *r);
int pd_s3_create_bucket(struct pd_req *r);
int pd_s3_delete_bucket(struct pd_req *r);
int pd_s3_head_bucket(struct pd_req *r);
int pd_s3_get_bucket_location(struct pd_req *r);
int pd_s3_get_bucket_policy(struct pd_req *r);
int pd_s3_put_bucket_policy(struct pd_req *r);
int pd_s3_delete_bucket_policy(struct pd_req *r);
int pd_s3_get_bucket_tagging(struct pd_req *r);
int pd_s3_put_bucket_tagging(struct pd_req *r);
int pd_s3_delete_bucket_tagging(struct pd_req *r);
int pd_s3_get_bucket_versioning(struct pd_req *r);
int pd_s3_put_bucket_versioning(struct pd_req *r);
int pd_s3_get_bucket_acl(struct pd_req *r);
int pd_s3_put_object(struct pd_req *r);
int pd_s3_get_object(struct pd_req *r);
int pd_s3_head_object(struct pd_req *r);
int pd_s3_delete_object(struct pd_req *r);
int pd_s3_delete_objects(struct pd_req *r);
int pd_s3_copy_object(struct pd_req *r);
int pd_s3_get_object_tagging(struct pd_req *r);
int pd_s3_put_object_tagging(struct pd_req *r);
int pd_s3_delete_object_tagging(struct pd_req *r);
int pd_s3_get_object_attributes(struct pd_req *r);
int pd_s3_get_object_acl(struct pd_req *r);
int pd_s3_put_bucket_acl(struct pd_req *r);
int pd_s3_put_object_acl(struct pd_req *r);
int pd_s3_get_bucket_ownership_controls(struct pd_req *r);
int pd_s3_put_bucket_ownership_controls(struct pd_req *r);
int pd_s3_delete_bucket_ownership_controls(struct pd_req *r);
int pd_s3_get_public_access_block(struct pd_req *r);
int pd_s3_put_public_access_block(struct pd_req *r);
int pd_s3_delete_public_access_block(struct pd_req *r);
int pd_s3_get_bucket_policy_status(struct pd_req *r);
int pd_s3_list_objects(struct pd_req *r);
int pd_s3_list_objects_v2(struct pd_req *r);
int pd_s3_list_object_versions(struct pd_req *r);
int pd_s3_create_multipart_upload(struct pd_req *r);
int pd_s3_upload_part(struct pd_req *r);
int pd_s3_upload_part_copy(struct pd_req *r);
int pd_s3_complete_multipart_upload(struct pd_req *r);
int pd_s3_abort_multipart_upload(struct pd_req *r);
int pd_s3_list_parts(struct pd_req *r);
int pd_s3_list_multipart_uploads(struct pd_req *r);

/* ---- pure helpers, exported for unit tests ---- */

/* One entry the listing walk found: an object, or a common prefix. */
struct pd_s3_list_entry {
    const char *key; /* object key, or the common prefix */
    int prefix;      /* 1: common prefix */
    struct pd_s3_object obj;
};
/* Where the walk reads keys from: the first key > after (>= when inclusive), or
 * PD_ENOTFOUND at the end. */
typedef int pd_s3_next_fn(void *arg, const char *after, int inclusive, struct pd_s3_object *OUT);
struct pd_s3_list_query {
    const char *prefix;    /* "" for none */
    const char *delimiter; /* NULL or "" for none */
    const char *after;     /* exclusive start (marker / start-after / token), or NULL */
    int64_t max_keys;      /* entries per page */
};
struct pd_s3_list_page {
    struct pd_s3_list_entry *v; /* arena array */
    size_t n;
    int truncated;
    const char *next; /* the last entry's key or prefix (resume after it), when truncated */
};
int pd_s3_list_walk(struct pd_arena *a, pd_s3_next_fn *next, void *arg,
                    const struct pd_s3_list_query *q, struct pd_s3_list_page *OUT);
/* Multipart ETag: "\"hex(md5(concat(part md5s)))-N\"" from the parts' quoted ETags.
 * PD_OK or PD_EINVAL (an ETag that is not a quoted 32-digit hex). */
int pd_s3_multipart_etag(struct pd_arena *a, const char *const *etags, size_t n, char **OUT);
/* Composite checksum "BASE64-N" from the parts' base64 checksums. PD_OK or PD_EINVAL. */
int pd_s3_composite_checksum(struct pd_arena *a, enum s3_ck_alg alg, const char *const *parts,
                             size_t n, char **OUT);
/* x-amz-copy-source "[/]bucket/key[?versionId=v]" (percent-encoded) -> bucket, key (decoded)
 * and version (NULL when none), arena-owned. PD_OK or PD_EINVAL. */
int pd_s3_parse_copy_source(struct pd_arena *a, const char *src, const char **OUT_bucket,
                            const char **OUT_key, const char **OUT_version);
/* Parse an HTTP Range header against size: PD_OK with [first, last], PD_ENOTFOUND when
 * the header is not a single byte range S3 honours (serve the whole object), PD_EINVAL
 * when unsatisfiable (416). */
int pd_s3_parse_range(const char *h, int64_t size, int64_t *OUT_first, int64_t *OUT_last);

#endif
