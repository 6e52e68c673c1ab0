/*
 * s3_buckets.c - bucket operations: create, delete, head, list, location, policy, tagging,
 * versioning (never enabled) and the default ACL.
 *
 * Bucket names are one namespace across accounts (BucketAlreadyExists for another's,
 * BucketAlreadyOwnedByYou for one's own, except in us-east-1 where S3 answers 200). A bucket
 * policy is compiled with the policy engine as a resource policy before it is stored
 * (MalformedPolicy with the engine's message otherwise).
 */
#include <string.h>

#include "auth/policy_cache.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/hash.h"
#include "env.h"
#include "services/s3/s3_internal.h"

static json_t *owner(struct pd_req *r, const char *account)
{
    return json_pack("{s:s}", "ID", s3_canonical_id(r, account));
}

int pd_s3_list_buckets(struct pd_req *r)
{
    struct pd_s3_bucket *v;
    size_t n;
    int rc =
        pd_s3_db_bucket_list(r->db, &r->arena, r->who.account_id ? r->who.account_id : "", &v, &n);
    if (rc)
        return s3_internal(r, rc, "listing buckets");
    const char *prefix = s3_in_str(r, "Prefix");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        if (prefix && !pd_has_prefix(v[i].name, prefix))
            continue;
        json_array_append_new(list,
                              json_pack("{s:s, s:I, s:s}", "Name", v[i].name, "CreationDate",
                                        (json_int_t)v[i].created_ms, "BucketRegion", v[i].region));
    }
    r->out = json_pack("{s:o, s:o}", "Buckets", list, "Owner", owner(r, r->who.account_id));
    if (prefix)
        json_object_set_new(r->out, "Prefix", json_string(prefix));
    return PD_OK;
}

int pd_s3_create_bucket(struct pd_req *r)
{
    const char *name = s3_in_str(r, "Bucket");
    if (!name || !s3_bucket_name_valid(name))
        return s3_fail_bucket(r, &S3_InvalidBucketName, name ? name : "",
                              "The specified bucket is not valid.");
    if (r->who.kind == PD_CALLER_ANONYMOUS)
        return pd_fail(r, &S3_AccessDenied, "Access Denied");
    const char *region = s3_region(r);
    json_t *cfg = json_object_get(r->in, "CreateBucketConfiguration");
    const char *lc = json_string_value(json_object_get(cfg, "LocationConstraint"));
    if (lc && !strcmp(lc, "us-east-1"))
        return pd_fail(r, &S3_InvalidLocationConstraint,
                       "The specified location-constraint is not valid");
    const char *want = lc ? lc : "us-east-1";
    if (strcmp(want, region) != 0) {
        if (!lc)
            pd_fail(r, &S3_IllegalLocationConstraintException,
                    "The unspecified location constraint is incompatible for the region "
                    "specific endpoint this request was sent to.");
        else
            pd_fail(r, &S3_IllegalLocationConstraintException,
                    "The %s location constraint is incompatible for the region specific "
                    "endpoint this request was sent to.",
                    lc);
        return PD_EAWS;
    }
    struct pd_s3_bucket b;
    int rc = pd_s3_db_bucket_get(r->db, &r->arena, name, &b);
    if (rc == PD_OK) {
        if (strcmp(b.account_id, r->who.account_id) != 0)
            return s3_fail_bucket(r, &S3_BucketAlreadyExists, name,
                                  "The requested bucket name is not available. The bucket "
                                  "namespace is shared by all users of the system. Please select "
                                  "a different name and try again.");
        if (!strcmp(b.region, "us-east-1") && !strcmp(region, "us-east-1")) {
            r->out = json_pack("{s:s}", "Location", pd_arena_printf(&r->arena, "/%s", name));
            return PD_OK; /* us-east-1 answers 200 to its owner */
        }
        return s3_fail_bucket(r, &S3_BucketAlreadyOwnedByYou, name,
                              "Your previous request to create the named bucket succeeded and "
                              "you already own it.");
    }
    if (rc != PD_ENOTFOUND)
        return s3_internal(r, rc, "reading a bucket");
    /* Since April 2023 a new bucket has ACLs disabled (BucketOwnerEnforced, unless the
     * request asks otherwise) and all four public access blocks on. */
    const char *own = s3_in_str(r, "ObjectOwnership");
    if (own && !s3_ownership_valid(own))
        return pd_fail(r, &S3_InvalidArgument, "Invalid x-amz-object-ownership header: %s", own);
    if (!own)
        own = "BucketOwnerEnforced";
    json_t *acl = NULL;
    rc = s3_acl_from_request(r, r->who.account_id, r->who.account_id, 0, &acl);
    if (rc)
        return rc;
    int public_acl = acl && s3_acl_public(acl);
    int others = 0;
    {
        size_t k;
        json_t *g;
        const char *me = s3_canonical_id(r, r->who.account_id);
        json_array_foreach(json_object_get(acl, "Grants"), k, g)
        {
            const char *id =
                json_string_value(json_object_get(json_object_get(g, "Grantee"), "ID"));
            const char *perm = json_string_value(json_object_get(g, "Permission"));
            if (!id || strcmp(id, me) || !perm || strcmp(perm, "FULL_CONTROL"))
                others = 1;
        }
    }
    if (others && !strcmp(own, "BucketOwnerEnforced")) {
        json_decref(acl);
        return pd_fail(r, &S3_InvalidBucketAclWithObjectOwnership,
                       "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced "
                       "setting");
    }
    if (public_acl) {
        /* the new bucket's BlockPublicAcls refuses it */
        json_decref(acl);
        return pd_fail(r, &S3_AccessDenied, "Access Denied");
    }
    struct pd_s3_bucket nb = {
        .name = name,
        .account_id = r->who.account_id,
        .region = want,
        .created_ms = pd_clock_now_ms(&r->env->clock),
    };
    json_t *tags = json_object_get(cfg, "Tags");
    if (tags) {
        const char *stored = NULL;
        rc = s3_tags_from_tagset(r, tags, 0, &stored);
        if (rc)
            return rc;
        nb.tags = stored;
    }
    rc = pd_s3_db_bucket_put(r->db, &nb);
    if (rc) {
        json_decref(acl);
        return s3_internal(r, rc, "creating a bucket");
    }
    json_t *own_doc = json_pack("{s:s}", "ObjectOwnership", own);
    json_t *pab = json_pack("{s:b, s:b, s:b, s:b}", "BlockPublicAcls", 1, "IgnorePublicAcls", 1,
                            "BlockPublicPolicy", 1, "RestrictPublicBuckets", 1);
    rc = s3_cfg_put(r, &nb, "ownership", own_doc);
    if (!rc)
        rc = s3_cfg_put(r, &nb, "public_access_block", pab);
    if (!rc && others)
        rc = s3_cfg_put(r, &nb, "acl", acl);
    json_decref(own_doc);
    json_decref(pab);
    json_decref(acl);
    if (rc)
        return rc;
    r->out = json_pack("{s:s}", "Location", pd_arena_printf(&r->arena, "/%s", name));
    return PD_OK;
}

int pd_s3_delete_bucket(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    int empty = 0;
    rc = pd_s3_db_bucket_empty(r->db, b.name, &empty);
    if (rc)
        return s3_internal(r, rc, "reading a bucket");
    if (!empty)
        return s3_fail_bucket(r, &S3_BucketNotEmpty, b.name,
                              "The bucket you tried to delete is not empty");
    /* uploads in progress go with the bucket */
    struct pd_s3_upload *ups;
    size_t nu;
    rc = pd_s3_db_upload_list(r->db, &r->arena, b.name, NULL, NULL, 100000, &ups, &nu);
    for (size_t i = 0; !rc && i < nu; i++) {
        const char **files;
        size_t nf;
        rc = pd_s3_db_upload_del(r->db, &r->arena, ups[i].upload_id, &files, &nf);
        for (size_t k = 0; !rc && k < nf; k++)
            s3_drop_after_commit(r, files[k]);
    }
    if (!rc)
        rc = pd_s3_db_bucket_del(r->db, b.name);
    if (rc)
        return s3_internal(r, rc, "deleting a bucket");
    return PD_OK;
}

int pd_s3_head_bucket(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    r->out = json_pack("{s:s, s:b}", "BucketRegion", b.region, "AccessPointAlias", 0);
    return PD_OK;
}

int pd_s3_get_bucket_location(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    r->out = json_object();
    if (strcmp(b.region, "us-east-1") != 0)
        json_object_set_new(r->out, "LocationConstraint", json_string(b.region));
    return PD_OK;
}

/* ---- policy ---- */

int pd_s3_get_bucket_policy(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    if (!b.policy)
        return s3_fail_bucket(r, &S3_NoSuchBucketPolicy, b.name,
                              "The bucket policy does not exist");
    r->out = json_pack("{s:s}", "Policy", b.policy);
    return PD_OK;
}

int pd_s3_put_bucket_policy(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    const char *text = s3_in_str(r, "Policy");
    if (!text || !*text)
        return pd_fail(r, &S3_MalformedPolicy,
                       "Policies must be valid JSON and the first byte "
                       "must be '{'");
    if (strlen(text) > 20 * 1024)
        return pd_fail(r, &S3_MalformedPolicy, "Policy exceeds the maximum allowed document size.");
    char err[256];
    const char *why = NULL;
    struct pd_cached_policy *held = NULL;
    rc = pd_policy_cache_get(r->env->policies, PD_POLICY_RESOURCE, text, strlen(text), err,
                             sizeof err, &held, &why);
    if (rc) {
        pd_fail(r, &S3_MalformedPolicy, "%s", why ? why : "Invalid policy document");
        return PD_EAWS;
    }
    pd_policy_cache_release(r->env->policies, held);
    struct s3_pab pab;
    s3_pab(&b, &pab);
    if (pab.block_policy && s3_policy_public(text))
        return pd_fail(r, &S3_AccessDenied, "Access Denied");
    rc = pd_s3_db_bucket_set_policy(r->db, b.name, text);
    return rc ? s3_internal(r, rc, "storing a bucket policy") : PD_OK;
}

int pd_s3_delete_bucket_policy(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    rc = pd_s3_db_bucket_set_policy(r->db, b.name, NULL);
    return rc ? s3_internal(r, rc, "removing a bucket policy") : PD_OK;
}

/* ---- tagging ---- */

int pd_s3_get_bucket_tagging(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    if (!b.tags)
        return s3_fail_bucket(r, &S3_NoSuchTagSet, b.name, "The TagSet does not exist");
    r->out = json_pack("{s:o}", "TagSet", s3_tags_to_tagset(b.tags));
    return PD_OK;
}

int pd_s3_put_bucket_tagging(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    const char *stored = NULL;
    json_t *ts = json_object_get(json_object_get(r->in, "Tagging"), "TagSet");
    rc = s3_tags_from_tagset(r, ts, 0, &stored);
    if (rc)
        return rc;
    rc = pd_s3_db_bucket_set_tags(r->db, b.name, stored ? stored : "[]");
    return rc ? s3_internal(r, rc, "storing bucket tags") : PD_OK;
}

int pd_s3_delete_bucket_tagging(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    rc = pd_s3_db_bucket_set_tags(r->db, b.name, NULL);
    return rc ? s3_internal(r, rc, "removing bucket tags") : PD_OK;
}
