/*
 * s3_authz.c - what each S3 operation needs to be allowed: S3's action names (Service
 * Authorization Reference, "Actions defined by Amazon S3"), the bucket or object ARN,
 * S3's condition keys, and the bucket policy as the resource policy, owned by the bucket
 * owner's account (so cross-account and anonymous callers are decided by the engine:
 * both sides must allow, and an anonymous caller only by a policy naming "*").
 *
 * A request naming a bucket that does not exist is answered NoSuchBucket here, before any
 * decision, as S3 does for every caller.
 */
#include <string.h>

#include "authorize.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "services/s3/s3_internal.h"

const char *s3_bucket_arn(struct pd_req *r, const char *bucket)
{
    return pd_arena_printf(&r->arena, "arn:aws:s3:::%s", bucket);
}

const char *s3_object_arn(struct pd_req *r, const char *bucket, const char *key)
{
    return pd_arena_printf(&r->arena, "arn:aws:s3:::%s/%s", bucket, key);
}

static const struct {
    const char *op;
    const char *action;
    int object; /* 1: the resource is the object, 0: the bucket, -1: none ("*") */
} table[] = {
    {"ListBuckets", "s3:ListAllMyBuckets", -1},
    {"CreateBucket", "s3:CreateBucket", 0},
    {"DeleteBucket", "s3:DeleteBucket", 0},
    {"HeadBucket", "s3:ListBucket", 0},
    {"GetBucketLocation", "s3:GetBucketLocation", 0},
    {"GetBucketPolicy", "s3:GetBucketPolicy", 0},
    {"PutBucketPolicy", "s3:PutBucketPolicy", 0},
    {"DeleteBucketPolicy", "s3:DeleteBucketPolicy", 0},
    {"GetBucketTagging", "s3:GetBucketTagging", 0},
    {"PutBucketTagging", "s3:PutBucketTagging", 0},
    {"DeleteBucketTagging", "s3:PutBucketTagging", 0},
    {"GetBucketVersioning", "s3:GetBucketVersioning", 0},
    {"PutBucketVersioning", "s3:PutBucketVersioning", 0},
    {"GetBucketAcl", "s3:GetBucketAcl", 0},
    {"ListObjects", "s3:ListBucket", 0},
    {"ListObjectsV2", "s3:ListBucket", 0},
    {"ListObjectVersions", "s3:ListBucketVersions", 0},
    {"ListMultipartUploads", "s3:ListBucketMultipartUploads", 0},
    {"PutObject", "s3:PutObject", 1},
    {"PostObject", "s3:PutObject", 1},
    {"GetObject", "s3:GetObject", 1},
    {"HeadObject", "s3:GetObject", 1},
    {"DeleteObject", "s3:DeleteObject", 1},
    {"DeleteObjects", NULL, 0}, /* one s3:DeleteObject decision per key, in the handler */
    {"CopyObject", "s3:PutObject", 1},
    {"GetObjectTagging", "s3:GetObjectTagging", 1},
    {"PutObjectTagging", "s3:PutObjectTagging", 1},
    {"DeleteObjectTagging", "s3:DeleteObjectTagging", 1},
    {"GetObjectAttributes", "s3:GetObjectAttributes", 1},
    {"GetObjectAcl", "s3:GetObjectAcl", 1},
    {"CreateMultipartUpload", "s3:PutObject", 1},
    {"UploadPart", "s3:PutObject", 1},
    {"UploadPartCopy", "s3:PutObject", 1},
    {"CompleteMultipartUpload", "s3:PutObject", 1},
    {"AbortMultipartUpload", "s3:AbortMultipartUpload", 1},
    {"ListParts", "s3:ListMultipartUploadParts", 1},
    {"PutBucketAcl", "s3:PutBucketAcl", 0},
    {"PutObjectAcl", "s3:PutObjectAcl", 1},
    {"GetBucketOwnershipControls", "s3:GetBucketOwnershipControls", 0},
    {"PutBucketOwnershipControls", "s3:PutBucketOwnershipControls", 0},
    {"DeleteBucketOwnershipControls", "s3:PutBucketOwnershipControls", 0},
    {"GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", 0},
    {"PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock", 0},
    {"DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock", 0},
    {"GetBucketPolicyStatus", "s3:GetBucketPolicyStatus", 0},
    {"GetBucketCors", "s3:GetBucketCORS", 0},
    {"PutBucketCors", "s3:PutBucketCORS", 0},
    {"DeleteBucketCors", "s3:PutBucketCORS", 0},
    {"GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration", 0},
    {"PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration", 0},
    {"DeleteBucketLifecycle", "s3:PutLifecycleConfiguration", 0},
    {"GetBucketEncryption", "s3:GetEncryptionConfiguration", 0},
    {"PutBucketEncryption", "s3:PutEncryptionConfiguration", 0},
    {"DeleteBucketEncryption", "s3:PutEncryptionConfiguration", 0},
    {"GetBucketRequestPayment", "s3:GetBucketRequestPayment", 0},
    {"PutBucketRequestPayment", "s3:PutBucketRequestPayment", 0},
    {"GetBucketWebsite", "s3:GetBucketWebsite", 0},
    {"PutBucketWebsite", "s3:PutBucketWebsite", 0},
    {"DeleteBucketWebsite", "s3:DeleteBucketWebsite", 0},
    {"GetBucketAccelerateConfiguration", "s3:GetAccelerateConfiguration", 0},
    {"PutBucketAccelerateConfiguration", "s3:PutAccelerateConfiguration", 0},
    {"GetBucketLogging", "s3:GetBucketLogging", 0},
    {"PutBucketLogging", "s3:PutBucketLogging", 0},
    {"GetBucketNotificationConfiguration", "s3:GetBucketNotification", 0},
    {"PutBucketNotificationConfiguration", "s3:PutBucketNotification", 0},
    {"GetBucketReplication", "s3:GetReplicationConfiguration", 0},
    {"PutBucketReplication", "s3:PutReplicationConfiguration", 0},
    {"DeleteBucketReplication", "s3:PutReplicationConfiguration", 0},
    {"GetObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration", 0},
    {"GetBucketAnalyticsConfiguration", "s3:GetAnalyticsConfiguration", 0},
    {"ListBucketAnalyticsConfigurations", "s3:GetAnalyticsConfiguration", 0},
    {"GetBucketMetricsConfiguration", "s3:GetMetricsConfiguration", 0},
    {"ListBucketMetricsConfigurations", "s3:GetMetricsConfiguration", 0},
    {"GetBucketInventoryConfiguration", "s3:GetInventoryConfiguration", 0},
    {"ListBucketInventoryConfigurations", "s3:GetInventoryConfiguration", 0},
    {"GetBucketIntelligentTieringConfiguration", "s3:GetIntelligentTieringConfiguration", 0},
    {"ListBucketIntelligentTieringConfigurations", "s3:GetIntelligentTieringConfiguration", 0},
};

/* The action of an object operation naming a version (Service Authorization Reference:
 * s3:GetObjectVersion, s3:DeleteObjectVersion, ...). */
static const char *version_action(const char *action)
{
    static const char *const map[][2] = {
        {"s3:GetObject", "s3:GetObjectVersion"},
        {"s3:DeleteObject", "s3:DeleteObjectVersion"},
        {"s3:GetObjectTagging", "s3:GetObjectVersionTagging"},
        {"s3:PutObjectTagging", "s3:PutObjectVersionTagging"},
        {"s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"},
        {"s3:GetObjectAcl", "s3:GetObjectVersionAcl"},
        {"s3:PutObjectAcl", "s3:PutObjectVersionAcl"},
        {"s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(action, map[i][0]))
            return map[i][1];
    return action;
}

static void add(struct pd_authz_need *need, const char *key, const char *v)
{
    if (v)
        pd_ctx_add(&need->ctx, key, PD_CTX_STRING, v, (size_t)-1);
}

/* Does the request set an ACL (x-amz-acl or x-amz-grant-*, or a form's acl field)? */
static int sets_acl(struct pd_req *r)
{
    if (s3_in_str(r, "ACL"))
        return 1;
    static const char *const h[] = {"x-amz-acl",
                                    "x-amz-grant-read",
                                    "x-amz-grant-write",
                                    "x-amz-grant-read-acp",
                                    "x-amz-grant-write-acp",
                                    "x-amz-grant-full-control"};
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
        if (pd_req_header(r, h[i]))
            return 1;
    return 0;
}

/* s3:ExistingObjectTag/<key> of the object the request names. */
static void existing_tags(struct pd_req *r, struct pd_authz_need *need,
                          const struct pd_s3_object *o)
{
    if (!o->tags)
        return;
    json_t *tags = json_loads(o->tags, 0, NULL);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (k && v)
            add(need, pd_arena_printf(&r->arena, "s3:ExistingObjectTag/%s", k),
                pd_arena_strdup(&r->arena, v));
    }
    json_decref(tags);
}

/* s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys from stored-form tag JSON. */
static void request_tags(struct pd_req *r, struct pd_authz_need *need, const char *tags_json)
{
    json_t *tags = json_loads(tags_json, 0, NULL);
    size_t i;
    json_t *t;
    pd_ctx_add_empty(&need->ctx, "s3:RequestObjectTagKeys");
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k || !v)
            continue;
        add(need, "s3:RequestObjectTagKeys", pd_arena_strdup(&r->arena, k));
        add(need, pd_arena_printf(&r->arena, "s3:RequestObjectTag/%s", k),
            pd_arena_strdup(&r->arena, v));
    }
    json_decref(tags);
}

static void request_keys(struct pd_req *r, struct pd_authz_need *need, const char *op)
{
    static const char *const headers[][2] = {
        {"x-amz-acl", "s3:x-amz-acl"},
        {"x-amz-content-sha256", "s3:x-amz-content-sha256"},
        {"x-amz-server-side-encryption", "s3:x-amz-server-side-encryption"},
        {"x-amz-server-side-encryption-aws-kms-key-id",
         "s3:x-amz-server-side-encryption-aws-kms-key-id"},
        {"x-amz-storage-class", "s3:x-amz-storage-class"},
        {"x-amz-copy-source", "s3:x-amz-copy-source"},
        {"x-amz-metadata-directive", "s3:x-amz-metadata-directive"},
        {"x-amz-grant-read", "s3:x-amz-grant-read"},
        {"x-amz-grant-full-control", "s3:x-amz-grant-full-control"},
        {"x-amz-website-redirect-location", "s3:x-amz-website-redirect-location"},
        {"x-amz-object-ownership", "s3:x-amz-object-ownership"},
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        add(need, headers[i][1], pd_req_header(r, headers[i][0]));
    if (!pd_req_header(r, "x-amz-acl")) /* a POST form's acl field */
        add(need, "s3:x-amz-acl", s3_in_str(r, "ACL"));
    if (r->sig.auth_type) {
        /* "AWS" for Signature Version 2, as the Service Authorization Reference says */
        add(need, "s3:signatureversion", r->sig.v2 ? "AWS" : "AWS4-HMAC-SHA256");
        add(need, "s3:authType",
            r->sig.auth_type == 2   ? "REST-QUERY-STRING"
            : r->sig.auth_type == 3 ? "POST"
                                    : "REST-HEADER");
    }
    if (r->tls)
        add(need, "s3:TlsVersion", "1.2");
    if (!strcmp(op, "ListObjects") || !strcmp(op, "ListObjectsV2") ||
        !strcmp(op, "ListObjectVersions")) {
        add(need, "s3:prefix", s3_in_str(r, "Prefix") ? s3_in_str(r, "Prefix") : "");
        add(need, "s3:delimiter", s3_in_str(r, "Delimiter"));
        json_t *mk = json_object_get(r->in, "MaxKeys");
        if (json_is_integer(mk))
            pd_ctx_add(&need->ctx, "s3:max-keys", PD_CTX_NUMERIC,
                       pd_arena_printf(&r->arena, "%lld", (long long)json_integer_value(mk)),
                       (size_t)-1);
    }
    if (!strcmp(op, "CreateBucket")) {
        const char *lc = json_string_value(json_object_get(
            json_object_get(r->in, "CreateBucketConfiguration"), "LocationConstraint"));
        add(need, "s3:LocationConstraint", lc ? lc : "us-east-1");
    }
    const char *version = s3_in_str(r, "VersionId");
    add(need, "s3:versionid", version);
}

int pd_s3_authz(struct pd_req *r, struct pd_authz_need *need)
{
    const char *op = r->op->name;
    size_t i = 0;
    while (i < sizeof table / sizeof table[0] && strcmp(table[i].op, op))
        i++;
    if (i == sizeof table / sizeof table[0])
        return pd_fail(r, &PD_ERR_AccessDenied, "Access Denied"); /* no mapping: never allow */
    need->quote_resource = 1;
    if (r->who.kind == PD_CALLER_ANONYMOUS)
        need->deny_message = "Access Denied";
    request_keys(r, need, op);
    if (table[i].object < 0) {
        pd_authz_add(need, table[i].action, "*", "");
        return PD_OK;
    }
    struct s3_state *st = s3_state(r);
    const char *bucket = st->authz_bucket ? st->authz_bucket : s3_in_str(r, "Bucket");
    if (!bucket)
        bucket = r->bucket ? r->bucket : "";
    struct pd_s3_bucket b;
    int rc = pd_s3_db_bucket_get(r->db, &r->arena, bucket, &b);
    if (rc == PD_ENOTFOUND && strcmp(op, "CreateBucket") != 0)
        return s3_bucket(r, &b); /* NoSuchBucket, for every caller */
    if (!strcmp(op, "CreateBucket")) {
        /* about a bucket to be: the caller's own account decides (a taken name is
         * answered BucketAlreadyExists by the handler) */
        need->resource_account = r->who.account_id;
    } else if (rc == PD_OK) {
        /* x-amz-expected-bucket-owner: a bucket of another account is refused outright */
        const char *expected = s3_in_str(r, "ExpectedBucketOwner");
        if (expected && strcmp(expected, b.account_id) != 0)
            return pd_fail(r, &S3_AccessDenied, "Access Denied");
        need->resource_policy = b.policy;
        need->resource_account = b.account_id;
        need->policy_id = pd_arena_printf(&r->arena, "bucket policy of %s", bucket);
        add(need, "s3:ResourceAccount", b.account_id);
        json_t *tags = b.tags ? json_loads(b.tags, 0, NULL) : NULL;
        size_t k;
        json_t *t;
        json_array_foreach(tags, k, t)
        {
            const char *tk = json_string_value(json_object_get(t, "Key"));
            const char *tv = json_string_value(json_object_get(t, "Value"));
            if (tk && tv)
                add(need, pd_arena_printf(&r->arena, "aws:ResourceTag/%s", tk),
                    pd_arena_strdup(&r->arena, tv));
        }
        json_decref(tags);
    } else if (rc != PD_ENOTFOUND) {
        return s3_internal(r, rc, "reading the bucket for authorization");
    } else {
        need->resource_account = r->who.account_id;
    }
    if (!table[i].action) {
        /* DeleteObjects: each key is an extra decision (s3_allowed), answered by the bucket */
        if (rc == PD_OK && st->check_action)
            s3_acl_authz(r, need, &b, st->check_action, NULL);
        return PD_OK;
    }
    const char *key = st->authz_bucket ? st->authz_key : s3_in_str(r, "Key");
    const char *action = table[i].action;
    if (table[i].object && key) {
        /* the object (version) named, when there is one: its tags and ACL decide too */
        const char *ver = st->authz_bucket ? st->authz_version : s3_in_str(r, "VersionId");
        struct pd_s3_object o;
        int have = 0;
        if (rc == PD_OK && ver && s3_version_id_valid(ver))
            have = pd_s3_db_version_get(r->db, &r->arena, bucket, key,
                                        strcmp(ver, "null") ? ver : NULL, &o) == PD_OK &&
                   !o.marker;
        else if (rc == PD_OK && !ver)
            have = pd_s3_db_object_get(r->db, &r->arena, bucket, key, &o) == PD_OK;
        if (have)
            existing_tags(r, need, &o);
        const char *th = pd_req_header(r, "x-amz-tagging");
        const char *stored = NULL;
        if (!strcmp(op, "PutObjectTagging")) {
            json_t *ts = json_object_get(json_object_get(r->in, "Tagging"), "TagSet");
            if (ts && s3_tags_from_tagset(r, ts, 1, &stored) == PD_OK && stored)
                request_tags(r, need, stored);
        } else if (th && s3_tags_from_header(r, th, &stored) == PD_OK && stored) {
            request_tags(r, need, stored);
        }
        if (s3_in_str(r, "VersionId") && !st->authz_bucket)
            action = version_action(action);
        pd_authz_add(need, action, s3_object_arn(r, bucket, key), NULL);
        int upload = !strcmp(op, "PutObject") || !strcmp(op, "CreateMultipartUpload") ||
                     !strcmp(op, "CopyObject") || !strcmp(op, "PostObject");
        /* tagging on upload needs the tagging permission too, an ACL the ACL one */
        if (th && *th && upload)
            pd_authz_add(need, "s3:PutObjectTagging", s3_object_arn(r, bucket, key), NULL);
        if (upload && sets_acl(r))
            pd_authz_add(need, "s3:PutObjectAcl", s3_object_arn(r, bucket, key), NULL);
        if (rc == PD_OK)
            s3_acl_authz(r, need, &b, st->check_action ? st->check_action : action,
                         have ? &o : NULL);
        return PD_OK;
    }
    pd_authz_add(need, action, s3_bucket_arn(r, bucket), NULL);
    if (!strcmp(op, "CreateBucket")) {
        /* an ACL or ownership controls on creation need their own permissions */
        if (sets_acl(r))
            pd_authz_add(need, "s3:PutBucketAcl", s3_bucket_arn(r, bucket), NULL);
        if (s3_in_str(r, "ObjectOwnership"))
            pd_authz_add(need, "s3:PutBucketOwnershipControls", s3_bucket_arn(r, bucket), NULL);
    }
    if (rc == PD_OK && strcmp(op, "CreateBucket") != 0)
        s3_acl_authz(r, need, &b, st->check_action ? st->check_action : action, NULL);
    return PD_OK;
}

int s3_allowed(struct pd_req *r, const char *action, const char *resource, const char **OUT_msg)
{
    struct s3_state *st = s3_state(r);
    st->check_action = action;
    int rc = pd_authorize_check(r, action, resource, OUT_msg);
    st->check_action = NULL;
    return rc;
}
