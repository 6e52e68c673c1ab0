/*
 * s3.c - the S3 service: its operation table, object files, start-up sweep, and helpers
 * the other s3_*.c files share (see s3_internal.h).
 *
 * Object bytes are files under the store's objects directory: a body streams into a temp
 * file in tmp/, is renamed to "XX/<32 hex>" inside the handler's write transaction, and the
 * row naming it is committed; a replaced or deleted object's file is unlinked only after
 * the commit, and a new file is unlinked if the transaction rolls back. So a reader never
 * sees a partial object, and after a crash the only debris is tmp/ and files no row names,
 * which pd_s3_sweep removes at start. Objects up to the inline threshold (--s3-inline-max,
 * 64 KiB by default) have no file: their bytes are a row of s3_object_bodies written in the
 * same transaction as the object's row, so SQLite's commit is their crash safety too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "services/s3/s3_internal.h"
#include "store/store.h"

#define SENDER 0
#define RECEIVER 1
#define PD_AWSERR(name, code, status, fault)                                                       \
    const struct pd_awserr S3_##name = {code, status, fault};
#include "services/s3/s3_errors.def"
#undef PD_AWSERR

/* ---- the table ---- */

static const struct pd_op ops[] = {
    {"ListBuckets", pd_s3_list_buckets, 0},
    {"CreateBucket", pd_s3_create_bucket, PD_OP_WRITE},
    {"DeleteBucket", pd_s3_delete_bucket, PD_OP_WRITE},
    {"HeadBucket", pd_s3_head_bucket, 0},
    {"GetBucketLocation", pd_s3_get_bucket_location, 0},
    {"GetBucketPolicy", pd_s3_get_bucket_policy, 0},
    {"PutBucketPolicy", pd_s3_put_bucket_policy, PD_OP_WRITE},
    {"DeleteBucketPolicy", pd_s3_delete_bucket_policy, PD_OP_WRITE},
    {"GetBucketTagging", pd_s3_get_bucket_tagging, 0},
    {"PutBucketTagging", pd_s3_put_bucket_tagging, PD_OP_WRITE},
    {"DeleteBucketTagging", pd_s3_delete_bucket_tagging, PD_OP_WRITE},
    {"GetBucketVersioning", pd_s3_get_bucket_versioning, 0},
    {"PutBucketVersioning", pd_s3_put_bucket_versioning, PD_OP_WRITE},
    {"GetBucketAcl", pd_s3_get_bucket_acl, 0},
    {"PutBucketAcl", pd_s3_put_bucket_acl, PD_OP_WRITE},
    {"PutObjectAcl", pd_s3_put_object_acl, PD_OP_WRITE},
    {"GetBucketOwnershipControls", pd_s3_get_bucket_ownership_controls, 0},
    {"PutBucketOwnershipControls", pd_s3_put_bucket_ownership_controls, PD_OP_WRITE},
    {"DeleteBucketOwnershipControls", pd_s3_delete_bucket_ownership_controls, PD_OP_WRITE},
    {"GetPublicAccessBlock", pd_s3_get_public_access_block, 0},
    {"PutPublicAccessBlock", pd_s3_put_public_access_block, PD_OP_WRITE},
    {"DeletePublicAccessBlock", pd_s3_delete_public_access_block, PD_OP_WRITE},
    {"GetBucketPolicyStatus", pd_s3_get_bucket_policy_status, 0},
    {"GetBucketCors", pd_s3_config_get, 0},
    {"PutBucketCors", pd_s3_config_put, PD_OP_WRITE},
    {"DeleteBucketCors", pd_s3_config_delete, PD_OP_WRITE},
    {"GetBucketLifecycleConfiguration", pd_s3_config_get, 0},
    {"PutBucketLifecycleConfiguration", pd_s3_config_put, PD_OP_WRITE},
    {"DeleteBucketLifecycle", pd_s3_config_delete, PD_OP_WRITE},
    {"GetBucketEncryption", pd_s3_config_get, 0},
    {"PutBucketEncryption", pd_s3_config_put, PD_OP_WRITE},
    {"DeleteBucketEncryption", pd_s3_config_delete, PD_OP_WRITE},
    {"GetBucketRequestPayment", pd_s3_config_get, 0},
    {"PutBucketRequestPayment", pd_s3_config_put, PD_OP_WRITE},
    {"GetBucketWebsite", pd_s3_config_get, 0},
    {"PutBucketWebsite", pd_s3_config_put, PD_OP_WRITE},
    {"DeleteBucketWebsite", pd_s3_config_delete, PD_OP_WRITE},
    {"GetBucketAccelerateConfiguration", pd_s3_config_get, 0},
    {"PutBucketAccelerateConfiguration", pd_s3_config_put, PD_OP_WRITE},
    {"GetBucketLogging", pd_s3_config_get, 0},
    {"PutBucketLogging", pd_s3_config_put, PD_OP_WRITE},
    {"GetBucketNotificationConfiguration", pd_s3_config_get, 0},
    {"PutBucketNotificationConfiguration", pd_s3_config_put, PD_OP_WRITE},
    {"GetBucketReplication", pd_s3_config_get, 0},
    {"PutBucketReplication", pd_s3_config_put, PD_OP_WRITE},
    {"DeleteBucketReplication", pd_s3_config_delete, PD_OP_WRITE},
    {"GetObjectLockConfiguration", pd_s3_config_get, 0},
    {"GetBucketAnalyticsConfiguration", pd_s3_config_get, 0},
    {"GetBucketMetricsConfiguration", pd_s3_config_get, 0},
    {"GetBucketInventoryConfiguration", pd_s3_config_get, 0},
    {"GetBucketIntelligentTieringConfiguration", pd_s3_config_get, 0},
    {"ListBucketAnalyticsConfigurations", pd_s3_config_get, 0},
    {"ListBucketMetricsConfigurations", pd_s3_config_get, 0},
    {"ListBucketInventoryConfigurations", pd_s3_config_get, 0},
    {"ListBucketIntelligentTieringConfigurations", pd_s3_config_get, 0},
    {"PutObject", pd_s3_put_object, PD_OP_WRITE},
    {"GetObject", pd_s3_get_object, 0},
    {"HeadObject", pd_s3_head_object, 0},
    {"DeleteObject", pd_s3_delete_object, PD_OP_WRITE},
    {"DeleteObjects", pd_s3_delete_objects, PD_OP_WRITE},
    {"CopyObject", pd_s3_copy_object, PD_OP_WRITE},
    {"GetObjectTagging", pd_s3_get_object_tagging, 0},
    {"PutObjectTagging", pd_s3_put_object_tagging, PD_OP_WRITE},
    {"DeleteObjectTagging", pd_s3_delete_object_tagging, PD_OP_WRITE},
    {"GetObjectAttributes", pd_s3_get_object_attributes, 0},
    {"GetObjectAcl", pd_s3_get_object_acl, 0},
    {"ListObjects", pd_s3_list_objects, 0},
    {"ListObjectsV2", pd_s3_list_objects_v2, 0},
    {"ListObjectVersions", pd_s3_list_object_versions, 0},
    {"CreateMultipartUpload", pd_s3_create_multipart_upload, PD_OP_WRITE},
    {"UploadPart", pd_s3_upload_part, PD_OP_WRITE},
    {"UploadPartCopy", pd_s3_upload_part_copy, PD_OP_WRITE},
    {"CompleteMultipartUpload", pd_s3_complete_multipart_upload, PD_OP_WRITE},
    {"AbortMultipartUpload", pd_s3_abort_multipart_upload, PD_OP_WRITE},
    {"ListParts", pd_s3_list_parts, 0},
    {"ListMultipartUploads", pd_s3_list_multipart_uploads, 0},
    /* not in the model: claimed by s3_route */
    {"PostObject", pd_s3_post_object, PD_OP_WRITE | PD_OP_NOMODEL},
    {"OptionsObject", pd_s3_options_object, PD_OP_NOAUTHZ | PD_OP_NOMODEL},
    {NULL, NULL, 0},
};

/* The requests S3 serves that its model has no operation for: the CORS preflight (OPTIONS
 * on a bucket or object) and POST Object (POST to a bucket with no sub-resource). */
static int s3_route(struct pd_req *r)
{
    const char *name = NULL;
    if (!strcmp(r->method, "OPTIONS"))
        name = "OptionsObject";
    else if (!strcmp(r->method, "POST") && r->bucket && !r->key && !*r->query)
        name = "PostObject";
    if (!name)
        return 0;
    for (const struct pd_op *op = ops; op->name; op++)
        if (!strcmp(op->name, name))
            r->op = op;
    return 1;
}

static int s3_init(struct pd_env *env)
{
    return pd_s3_sweep(env);
}

const struct pd_service pd_svc_s3 = {
    .name = "s3",
    .signing_name = "s3",
    .proto = PD_PROTO_REST_XML,
    .spec = "s3.json",
    .ops = ops,
    .route = s3_route,
    .authz = pd_s3_authz,
    .stream = pd_s3_stream,
    .init = s3_init,
};

/* ---- helpers ---- */

const char *s3_in_str(struct pd_req *r, const char *member)
{
    return json_string_value(json_object_get(r->in, member));
}

int64_t s3_in_int(struct pd_req *r, const char *member, int64_t dflt)
{
    json_t *v = json_object_get(r->in, member);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

const char *s3_region(struct pd_req *r)
{
    return r->region[0] ? r->region : r->env->cfg.region;
}

int s3_fail_bucket(struct pd_req *r, const struct pd_awserr *e, const char *bucket, const char *fmt,
                   ...)
{
    if (r->err.def)
        return PD_EAWS;
    va_list ap;
    va_start(ap, fmt);
    char *msg = pd_arena_vprintf(&r->arena, fmt, ap);
    va_end(ap);
    pd_fail(r, e, "%s", msg);
    if (bucket) {
        json_decref(r->err.extra);
        r->err.extra = json_pack("{s:s}", "BucketName", bucket);
    }
    return PD_EAWS;
}

int s3_bucket(struct pd_req *r, struct pd_s3_bucket *OUT)
{
    const char *name = s3_in_str(r, "Bucket");
    if (!name)
        name = r->bucket;
    int rc = name ? pd_s3_db_bucket_get(r->db, &r->arena, name, OUT) : PD_ENOTFOUND;
    if (rc == PD_ENOTFOUND)
        return s3_fail_bucket(r, &S3_NoSuchBucket, name ? name : "",
                              "The specified bucket does not exist");
    if (rc)
        return s3_internal(r, rc, "reading the bucket");
    s3_cors_headers(r, OUT);
    return PD_OK;
}

int s3_no_such_key(struct pd_req *r, const char *bucket, const char *key)
{
    (void)bucket;
    pd_fail(r, &S3_NoSuchKey, "The specified key does not exist.");
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:s}", "Key", key ? key : "");
    return PD_EAWS;
}

int s3_internal(struct pd_req *r, int rc, const char *what)
{
    if (rc == PD_EAWS)
        return rc;
    if (rc == PD_EBUSY)
        return pd_fail(r, &PD_ERR_ServiceUnavailable, "The state is busy; retry the request.");
    pd_log_req(PD_LOG_ERROR, r->request_id, "s3: %s: %s", what, pd_strerror(rc));
    return pd_fail(r, &S3_InternalError, "We encountered an internal error. Please try again.");
}

int s3_bucket_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return 0;
        if (c == '.' && (s[i + 1] == '.' || (i && s[i - 1] == '-') || s[i + 1] == '-'))
            return 0;
    }
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return 0;
    if (!((s[n - 1] >= 'a' && s[n - 1] <= 'z') || (s[n - 1] >= '0' && s[n - 1] <= '9')))
        return 0;
    /* not formatted as an IP address */
    int dots = 0, digits_only = 1;
    for (size_t i = 0; i < n; i++) {
        dots += s[i] == '.';
        if (s[i] != '.' && (s[i] < '0' || s[i] > '9'))
            digits_only = 0;
    }
    if (dots == 3 && digits_only)
        return 0;
    static const char *const bad_prefix[] = {"xn--", "sthree-", "amzn-s3-demo-", NULL};
    static const char *const bad_suffix[] = {"-s3alias", "--ol-s3",    ".mrap",
                                             "--x-s3",   "--table-s3", NULL};
    for (const char *const *p = bad_prefix; *p; p++)
        if (pd_has_prefix(s, *p))
            return 0;
    for (const char *const *p = bad_suffix; *p; p++) {
        size_t l = strlen(*p);
        if (n >= l && strcmp(s + n - l, *p) == 0)
            return 0;
    }
    return 1;
}

const char *s3_canonical_id(struct pd_req *r, const char *account)
{
    char in[64], hex[65];
    int n = snprintf(in, sizeof in, "podiam-canonical-user:%s", account ? account : "");
    pd_sha256_hex(in, (size_t)n, hex);
    return pd_arena_strdup(&r->arena, hex);
}

char *s3_etag(struct pd_arena *a, const unsigned char md5[PD_MD5_LEN])
{
    char hex[2 * PD_MD5_LEN + 1];
    pd_hex_encode(md5, PD_MD5_LEN, hex);
    return pd_arena_printf(a, "\"%s\"", hex);
}

const char *s3_http_date(struct pd_arena *a, int64_t ms)
{
    char d[30];
    pd_time_http(ms, d);
    return pd_arena_strdup(a, d);
}

/* ---- checksums ---- */

static const struct {
    enum s3_ck_alg alg;
    const char *name, *header, *member;
    size_t len;
} ck_algs[] = {
    {S3_CK_CRC32, "CRC32", "x-amz-checksum-crc32", "ChecksumCRC32", 4},
    {S3_CK_CRC32C, "CRC32C", "x-amz-checksum-crc32c", "ChecksumCRC32C", 4},
    {S3_CK_CRC64NVME, "CRC64NVME", "x-amz-checksum-crc64nvme", "ChecksumCRC64NVME", 8},
    {S3_CK_SHA1, "SHA1", "x-amz-checksum-sha1", "ChecksumSHA1", 20},
    {S3_CK_SHA256, "SHA256", "x-amz-checksum-sha256", "ChecksumSHA256", 32},
};
#define N_CK (sizeof ck_algs / sizeof ck_algs[0])

enum s3_ck_alg s3_ck_parse(const char *name)
{
    for (size_t i = 0; name && i < N_CK; i++)
        if (pd_strcaseeq(name, ck_algs[i].name))
            return ck_algs[i].alg;
    return S3_CK_NONE;
}

const char *s3_ck_name(enum s3_ck_alg a)
{
    return a ? ck_algs[a - 1].name : "";
}

const char *s3_ck_header(enum s3_ck_alg a)
{
    return a ? ck_algs[a - 1].header : "";
}

const char *s3_ck_member(enum s3_ck_alg a)
{
    return a ? ck_algs[a - 1].member : "";
}

size_t s3_ck_len(enum s3_ck_alg a)
{
    return a ? ck_algs[a - 1].len : 0;
}

void s3_ck_init(struct s3_cksum *c, enum s3_ck_alg a)
{
    memset(c, 0, sizeof *c);
    c->alg = a;
    if (a == S3_CK_SHA1 || a == S3_CK_SHA256) {
        pd_hash_init(&c->h, a == S3_CK_SHA1 ? PD_HASH_SHA1 : PD_HASH_SHA256);
        c->hashing = 1;
    }
}

void s3_ck_update(struct s3_cksum *c, const void *p, size_t n)
{
    switch (c->alg) {
    case S3_CK_CRC32:
        c->crc = pd_crc32_update((uint32_t)c->crc, p, n);
        break;
    case S3_CK_CRC32C:
        c->crc = pd_crc32c_update((uint32_t)c->crc, p, n);
        break;
    case S3_CK_CRC64NVME:
        c->crc = pd_crc64nvme_update(c->crc, p, n);
        break;
    case S3_CK_SHA1:
    case S3_CK_SHA256:
        pd_hash_update(&c->h, p, n);
        break;
    default:
        break;
    }
}

void s3_ck_final(struct s3_cksum *c, unsigned char out[32])
{
    switch (c->alg) {
    case S3_CK_CRC32:
    case S3_CK_CRC32C:
        pd_be32((uint32_t)c->crc, out);
        break;
    case S3_CK_CRC64NVME:
        pd_be64(c->crc, out);
        break;
    case S3_CK_SHA1:
    case S3_CK_SHA256:
        pd_hash_final(&c->h, out);
        c->hashing = 0;
        break;
    default:
        break;
    }
}

void s3_ck_cleanup(struct s3_cksum *c)
{
    if (c->hashing)
        pd_hash_cleanup(&c->h);
    c->hashing = 0;
}

char *s3_ck_b64(struct pd_arena *a, enum s3_ck_alg alg, const void *p, size_t n)
{
    struct s3_cksum c;
    unsigned char d[32];
    s3_ck_init(&c, alg);
    s3_ck_update(&c, p, n);
    s3_ck_final(&c, d);
    return pd_base64_encode(a, d, s3_ck_len(alg), 0);
}

/* ---- where object bytes live ---- */

int pd_s3_inline_fits(int64_t max, int64_t size)
{
    return max > 0 && size >= 0 && size <= max;
}

int s3_inline(struct pd_req *r, int64_t size)
{
    return pd_s3_inline_fits(r->env->cfg.s3_inline_max, size);
}

int s3_object_read(struct pd_req *r, const struct pd_s3_object *o, int64_t off, int64_t len,
                   void *OUT)
{
    if (!o->file) {
        int rc = pd_s3_db_object_body(r->db, o->bucket, o->key, o->seq, off, len, OUT);
        if (rc)
            pd_log_req(PD_LOG_ERROR, r->request_id, "s3: inline body of %s/%s: %s", o->bucket,
                       o->key, pd_strerror(rc));
        return rc == PD_ENOTFOUND ? PD_EIO : rc;
    }
    int rc = PD_OK;
    int fd = open(s3_path(r, o->file), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pd_log_req(PD_LOG_ERROR, r->request_id, "s3: cannot open %s: %s", o->file, strerror(errno));
        return PD_EIO;
    }
    int64_t done = 0;
    while (done < len) {
        ssize_t k = pread(fd, (char *)OUT + done, (size_t)(len - done), off + done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            pd_log_req(PD_LOG_ERROR, r->request_id, "s3: reading %s: %s", o->file,
                       k ? strerror(errno) : "short file");
            rc = PD_EIO;
            break;
        }
        done += k;
    }
    close(fd);
    return rc;
}

/* ---- object files ---- */

static void after_txn(struct pd_req *r, int committed)
{
    struct s3_state *f = s3_state(r);
    const char **list = committed ? f->drop : f->undo;
    size_t n = committed ? f->ndrop : f->nundo;
    for (size_t i = 0; i < n; i++)
        if (unlink(s3_path(r, list[i])) != 0 && errno != ENOENT)
            pd_log_req(PD_LOG_WARN, r->request_id, "s3: cannot remove %s: %s", list[i],
                       strerror(errno));
    f->ndrop = f->nundo = 0;
}

struct s3_state *s3_state(struct pd_req *r)
{
    if (!r->txn_state) {
        r->txn_state = pd_arena_zalloc(&r->arena, sizeof(struct s3_state));
        r->after_txn = after_txn;
    }
    return r->txn_state;
}

/* Append to an arena array of strings, growing it. */
static void push(struct pd_req *r, const char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        const char **nv = pd_arena_alloc(&r->arena, nc * sizeof *nv);
        if (*n)
            memcpy(nv, *v, *n * sizeof *nv);
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = pd_arena_strdup(&r->arena, s);
}

void s3_drop_after_commit(struct pd_req *r, const char *rel)
{
    struct s3_state *f = s3_state(r);
    if (rel)
        push(r, &f->drop, &f->ndrop, &f->cdrop, rel);
}

void s3_undo_on_rollback(struct pd_req *r, const char *rel)
{
    struct s3_state *f = s3_state(r);
    push(r, &f->undo, &f->nundo, &f->cundo, rel);
}

char *s3_path(struct pd_req *r, const char *rel)
{
    return pd_arena_printf(&r->arena, "%s/%s", pd_store_objects_dir(r->env->store), rel);
}

static void random_hex(char out[33])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t k = getrandom(b + got, sizeof b - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            pd_log(PD_LOG_ERROR, "s3: getrandom failed: %s", strerror(errno));
            abort();
        }
        got += (size_t)k;
    }
    pd_hex_encode(b, sizeof b, out);
}

char *s3_new_name(struct pd_req *r)
{
    char hex[33];
    random_hex(hex);
    return pd_arena_printf(&r->arena, "%.2s/%s", hex, hex);
}

char *s3_new_tmp(struct pd_req *r)
{
    char hex[33];
    random_hex(hex);
    return pd_arena_printf(&r->arena, "%s/tmp/%s", pd_store_objects_dir(r->env->store), hex);
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int s3_install(struct pd_req *r, const char *tmp_abs, const char *rel)
{
    char *dst = s3_path(r, rel);
    if (rename(tmp_abs, dst) != 0) {
        if (errno != ENOENT)
            goto fail;
        char *dir = pd_arena_strdup(&r->arena, dst);
        *strrchr(dir, '/') = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            goto fail;
        if (rename(tmp_abs, dst) != 0)
            goto fail;
    }
    s3_undo_on_rollback(r, rel);
    if (r->env->cfg.sync_full) {
        *strrchr(dst, '/') = '\0';
        fsync_dir(dst);
    }
    return PD_OK;
fail:
    pd_log_req(PD_LOG_ERROR, r->request_id, "s3: cannot move %s to %s: %s", tmp_abs, dst,
               strerror(errno));
    return PD_EIO;
}

/* ---- the sweep ---- */

struct file_set {
    char **v;
    size_t n, cap;
};

static void add_file(void *arg, const char *file)
{
    struct file_set *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = pd_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = pd_xstrdup(file);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void remove_tree(const char *dir, int keep_dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    if (!keep_dir)
        rmdir(dir);
}

static int sweep(struct pd_env *env, struct pd_db *db, int startup)
{
    const char *root = pd_store_objects_dir(env->store);
    char p[4096];
    snprintf(p, sizeof p, "%s/tmp", root);
    if (startup)
        remove_tree(p, 1);
    mkdir(p, 0700);
    struct file_set set = {0};
    int rc = pd_s3_db_files(db, add_file, &set);
    if (rc)
        goto out;
    if (set.n)
        qsort(set.v, set.n, sizeof *set.v, cmp_str);
    DIR *d = opendir(root);
    if (!d) {
        rc = PD_EIO;
        goto out;
    }
    struct dirent *e;
    size_t removed = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "tmp"))
            continue;
        int sfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY);
        DIR *sd = sfd >= 0 ? fdopendir(sfd) : NULL;
        if (!sd)
            continue;
        struct dirent *f;
        while ((f = readdir(sd))) {
            if (f->d_name[0] == '.')
                continue;
            char rel[512];
            snprintf(rel, sizeof rel, "%s/%s", e->d_name, f->d_name);
            char *key = rel;
            if ((!set.n || !bsearch(&key, set.v, set.n, sizeof *set.v, cmp_str)) &&
                unlinkat(dirfd(sd), f->d_name, 0) == 0)
                removed++;
        }
        closedir(sd);
    }
    closedir(d);
    if (removed)
        pd_log(PD_LOG_INFO, "s3: removed %zu object file(s) no object refers to", removed);
out:
    for (size_t i = 0; i < set.n; i++)
        free(set.v[i]);
    free(set.v);
    return rc;
}

int pd_s3_sweep(struct pd_env *env)
{
    struct pd_db *db = pd_store_db(env->store);
    int rc = pd_db_begin(db, 1);
    if (rc)
        return rc;
    rc = sweep(env, db, 1);
    pd_db_rollback(db);
    return rc;
}

int pd_s3_sweep_unreferenced(struct pd_env *env, struct pd_db *db)
{
    return sweep(env, db, 0);
}
