/*
 * s3_config.c - bucket configurations kept as documents: CORS, lifecycle, default
 * encryption, request payment, website, transfer acceleration, logging, notifications,
 * replication; and the reads clients make of configurations podiam does not keep (object
 * lock, analytics, metrics, inventory, intelligent tiering), answered as S3 answers a bucket
 * that has none.
 *
 * One table says, per configuration, its operations, the input member holding the
 * document, how the output carries it and what a bucket that never had one answers (an
 * error such as NoSuchCORSConfiguration, or a default such as Payer BucketOwner and SSE-S3
 * encryption). The documents are stored as decoded (s3_bucket_configs) and rendered back by
 * the codec, so what a client wrote is what it reads. CORS and lifecycle documents are
 * validated as S3 does; what they do is s3_cors.c's and s3_lifecycle.c's.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "services/s3/s3_internal.h"

#define MALFORMED                                                                                  \
    "The XML you provided was not well-formed or did not validate against our published schema"

typedef int validate_fn(struct pd_req *r, const struct pd_s3_bucket *b, json_t *doc);

static validate_fn validate_cors, validate_lifecycle, validate_replication, validate_encryption,
    validate_payer, validate_accelerate;

struct cfg {
    const char *get, *put, *del; /* operation names (NULL: none) */
    const char *kind;            /* s3_bucket_configs kind */
    const char *member;          /* input member holding the document */
    const char *wrap;            /* output member the document goes in; NULL: its members */
    const struct pd_awserr *missing;
    const char *missing_msg;
    const char *dflt; /* JSON answered when unset (when no missing error) */
    validate_fn *validate;
};

static const struct cfg cfgs[] = {
    {"GetBucketCors", "PutBucketCors", "DeleteBucketCors", "cors", "CORSConfiguration", NULL,
     &S3_NoSuchCORSConfiguration, "The CORS configuration does not exist", NULL, validate_cors},
    {"GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle",
     "lifecycle", "LifecycleConfiguration", NULL, &S3_NoSuchLifecycleConfiguration,
     "The lifecycle configuration does not exist", NULL, validate_lifecycle},
    {"GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption", "encryption",
     "ServerSideEncryptionConfiguration", "ServerSideEncryptionConfiguration", NULL, NULL,
     "{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"AES256\"},"
     "\"BucketKeyEnabled\":false}]}",
     validate_encryption},
    {"GetBucketRequestPayment", "PutBucketRequestPayment", NULL, "request_payment",
     "RequestPaymentConfiguration", NULL, NULL, NULL, "{\"Payer\":\"BucketOwner\"}",
     validate_payer},
    {"GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite", "website",
     "WebsiteConfiguration", NULL, &S3_NoSuchWebsiteConfiguration,
     "The specified bucket does not have a website configuration", NULL, NULL},
    {"GetBucketAccelerateConfiguration", "PutBucketAccelerateConfiguration", NULL, "accelerate",
     "AccelerateConfiguration", NULL, NULL, NULL, "{}", validate_accelerate},
    {"GetBucketLogging", "PutBucketLogging", NULL, "logging", "BucketLoggingStatus", NULL, NULL,
     NULL, "{}", NULL},
    {"GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", NULL,
     "notification", "NotificationConfiguration", NULL, NULL, NULL, "{}", NULL},
    {"GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication", "replication",
     "ReplicationConfiguration", "ReplicationConfiguration",
     &S3_ReplicationConfigurationNotFoundError, "The replication configuration was not found", NULL,
     validate_replication},
    {"GetObjectLockConfiguration", NULL, NULL, "object_lock", NULL, "ObjectLockConfiguration",
     &S3_ObjectLockConfigurationNotFoundError,
     "Object Lock configuration does not exist for this bucket", NULL, NULL},
    {"GetBucketAnalyticsConfiguration", NULL, NULL, "analytics", NULL, NULL,
     &S3_NoSuchConfiguration, "The specified configuration does not exist.", NULL, NULL},
    {"GetBucketMetricsConfiguration", NULL, NULL, "metrics", NULL, NULL, &S3_NoSuchConfiguration,
     "The specified configuration does not exist.", NULL, NULL},
    {"GetBucketInventoryConfiguration", NULL, NULL, "inventory", NULL, NULL,
     &S3_NoSuchConfiguration, "The specified configuration does not exist.", NULL, NULL},
    {"GetBucketIntelligentTieringConfiguration", NULL, NULL, "intelligent_tiering", NULL, NULL,
     &S3_NoSuchConfiguration, "The specified configuration does not exist.", NULL, NULL},
    {"ListBucketAnalyticsConfigurations", NULL, NULL, "analytics_list", NULL, NULL, NULL, NULL,
     "{\"IsTruncated\":false}", NULL},
    {"ListBucketMetricsConfigurations", NULL, NULL, "metrics_list", NULL, NULL, NULL, NULL,
     "{\"IsTruncated\":false}", NULL},
    {"ListBucketInventoryConfigurations", NULL, NULL, "inventory_list", NULL, NULL, NULL, NULL,
     "{\"IsTruncated\":false}", NULL},
    {"ListBucketIntelligentTieringConfigurations", NULL, NULL, "intelligent_tiering_list", NULL,
     NULL, NULL, NULL, "{\"IsTruncated\":false}", NULL},
};

static const struct cfg *cfg_of(const char *op, int which)
{
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        const char *n = which == 0 ? cfgs[i].get : which == 1 ? cfgs[i].put : cfgs[i].del;
        if (n && !strcmp(n, op))
            return &cfgs[i];
    }
    return NULL;
}

int pd_s3_config_get(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    const struct cfg *c = cfg_of(r->op->name, 0);
    json_t *doc = s3_cfg_json(&b, c->kind);
    if (!doc && c->missing)
        return s3_fail_bucket(r, c->missing, b.name, "%s", c->missing_msg);
    if (!doc)
        doc = json_loads(c->dflt, 0, NULL);
    r->out = c->wrap ? json_pack("{s:o}", c->wrap, doc) : doc;
    if (!strcmp(c->kind, "lifecycle")) {
        /* the transition floor, as set with the configuration (S3's default since 2024) */
        json_t *floor = json_object_get(r->out, "TransitionDefaultMinimumObjectSize");
        if (!floor)
            json_object_set_new(r->out, "TransitionDefaultMinimumObjectSize",
                                json_string("all_storage_classes_128K"));
    }
    return PD_OK;
}

int pd_s3_config_put(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    const struct cfg *c = cfg_of(r->op->name, 1);
    json_t *doc = json_object_get(r->in, c->member);
    if (!json_is_object(doc))
        return pd_fail(r, &S3_MalformedXML, MALFORMED);
    if (c->validate && (rc = c->validate(r, &b, doc)) != PD_OK)
        return rc;
    json_t *stored = json_deep_copy(doc);
    if (!strcmp(c->kind, "lifecycle")) {
        const char *floor = s3_in_str(r, "TransitionDefaultMinimumObjectSize");
        json_object_set_new(stored, "TransitionDefaultMinimumObjectSize",
                            json_string(floor ? floor : "all_storage_classes_128K"));
        r->out = json_pack("{s:s}", "TransitionDefaultMinimumObjectSize",
                           floor ? floor : "all_storage_classes_128K");
    }
    rc = s3_cfg_put(r, &b, c->kind, stored);
    json_decref(stored);
    return rc;
}

int pd_s3_config_delete(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    const struct cfg *c = cfg_of(r->op->name, 2);
    return s3_cfg_put(r, &b, c->kind, NULL);
}

/* ---- validation ---- */

static int validate_cors(struct pd_req *r, const struct pd_s3_bucket *b, json_t *doc)
{
    (void)b;
    json_t *rules = json_object_get(doc, "CORSRules");
    size_t n = json_array_size(rules);
    if (!n)
        return pd_fail(r, &S3_MalformedXML, MALFORMED);
    if (n > 100)
        return pd_fail(r, &S3_InvalidRequest,
                       "The number of CORS rules should not exceed allowed limit of 100 rules.");
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule)
    {
        json_t *methods = json_object_get(rule, "AllowedMethods");
        json_t *origins = json_object_get(rule, "AllowedOrigins");
        if (!json_array_size(methods) || !json_array_size(origins))
            return pd_fail(r, &S3_MalformedXML, MALFORMED);
        size_t k;
        json_t *m;
        json_array_foreach(methods, k, m)
        {
            const char *s = json_string_value(m);
            static const char *const ok[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
            int found = 0;
            for (size_t j = 0; s && j < 5; j++)
                found |= !strcmp(s, ok[j]);
            if (!found)
                return pd_fail(r, &S3_InvalidRequest,
                               "Found unsupported HTTP method in CORS config. Unsupported "
                               "method is %s",
                               s ? s : "");
        }
        static const char *const lists[] = {"AllowedOrigins", "AllowedHeaders"};
        for (size_t l = 0; l < 2; l++) {
            json_array_foreach(json_object_get(rule, lists[l]), k, m)
            {
                const char *s = json_string_value(m);
                const char *star = s ? strchr(s, '*') : NULL;
                if (star && strchr(star + 1, '*'))
                    return pd_fail(r, &S3_InvalidRequest,
                                   "%s \"%s\" can not have more than one wildcard.",
                                   l ? "AllowedHeader" : "AllowedOrigin", s);
            }
        }
    }
    return PD_OK;
}

static int bad_lifecycle(struct pd_req *r, const char *msg)
{
    return pd_fail(r, &S3_InvalidArgument, "%s", msg);
}

static int validate_lifecycle(struct pd_req *r, const struct pd_s3_bucket *b, json_t *doc)
{
    (void)b;
    json_t *rules = json_object_get(doc, "Rules");
    size_t n = json_array_size(rules);
    if (!n)
        return pd_fail(r, &S3_MalformedXML, MALFORMED);
    if (n > 1000)
        return bad_lifecycle(r, "The number of lifecycle rules should not exceed allowed limit "
                                "of 1000 rules");
    size_t i;
    json_t *rule;
    json_array_foreach(rules, i, rule)
    {
        const char *st = json_string_value(json_object_get(rule, "Status"));
        if (!st || (strcmp(st, "Enabled") && strcmp(st, "Disabled")))
            return pd_fail(r, &S3_MalformedXML, MALFORMED);
        const char *id = json_string_value(json_object_get(rule, "ID"));
        if (id && strlen(id) > 255)
            return bad_lifecycle(r, "ID length should not exceed allowed limit of 255");
        for (size_t k = 0; id && k < i; k++) {
            const char *o = json_string_value(json_object_get(json_array_get(rules, k), "ID"));
            if (o && !strcmp(o, id))
                return bad_lifecycle(r, "Rule ID must be unique. Found same ID for more than one "
                                        "rule");
        }
        json_t *filter = json_object_get(rule, "Filter");
        if (json_object_get(rule, "Prefix") && filter)
            return pd_fail(r, &S3_MalformedXML, MALFORMED);
        size_t parts = 0;
        static const char *const fparts[] = {"Prefix", "Tag", "And", "ObjectSizeGreaterThan",
                                             "ObjectSizeLessThan"};
        for (size_t k = 0; k < 5; k++)
            parts += json_object_get(filter, fparts[k]) != NULL;
        if (parts > 1)
            return pd_fail(r, &S3_MalformedXML, MALFORMED);
        json_t *exp = json_object_get(rule, "Expiration");
        json_t *days = json_object_get(exp, "Days"), *date = json_object_get(exp, "Date");
        json_t *edm = json_object_get(exp, "ExpiredObjectDeleteMarker");
        if ((days != NULL) + (date != NULL) + (edm != NULL) > 1)
            return pd_fail(r, &S3_MalformedXML, MALFORMED);
        if (days && json_integer_value(days) <= 0)
            return bad_lifecycle(r, "'Days' for Expiration action must be a positive integer");
        if (date && json_integer_value(date) % 86400000 != 0)
            return bad_lifecycle(r, "'Date' must be at midnight GMT");
        json_t *nve = json_object_get(rule, "NoncurrentVersionExpiration");
        json_t *nd = json_object_get(nve, "NoncurrentDays");
        if (nve && (!nd || json_integer_value(nd) <= 0))
            return bad_lifecycle(r, "'NoncurrentDays' for NoncurrentVersionExpiration action "
                                    "must be a positive integer");
        json_t *abort = json_object_get(rule, "AbortIncompleteMultipartUpload");
        json_t *ad = json_object_get(abort, "DaysAfterInitiation");
        if (abort && (!ad || json_integer_value(ad) <= 0))
            return bad_lifecycle(r, "'DaysAfterInitiation' for AbortIncompleteMultipartUpload "
                                    "action must be a positive integer");
        if (abort && (json_object_get(filter, "Tag") || json_object_get(filter, "And")))
            return bad_lifecycle(r, "AbortIncompleteMultipartUpload cannot be specified with "
                                    "Tags.");
        if (edm && (json_object_get(filter, "Tag") || json_object_get(filter, "And")))
            return bad_lifecycle(r, "ExpiredObjectDeleteMarker cannot be specified with "
                                    "Tags.");
        if (!exp && !nve && !abort && !json_array_size(json_object_get(rule, "Transitions")) &&
            !json_array_size(json_object_get(rule, "NoncurrentVersionTransitions")))
            return bad_lifecycle(r, "At least one action needs to be specified in a rule");
    }
    return PD_OK;
}

static int validate_replication(struct pd_req *r, const struct pd_s3_bucket *b, json_t *doc)
{
    if (s3_vstate(b) != S3_VENABLED)
        return pd_fail(r, &S3_InvalidRequest,
                       "Versioning must be 'Enabled' on the bucket to apply a replication "
                       "configuration");
    if (!json_object_get(doc, "Role") || !json_array_size(json_object_get(doc, "Rules")))
        return pd_fail(r, &S3_MalformedXML, MALFORMED);
    return PD_OK;
}

static int validate_encryption(struct pd_req *r, const struct pd_s3_bucket *b, json_t *doc)
{
    (void)b;
    json_t *rules = json_object_get(doc, "Rules");
    if (json_array_size(rules) != 1)
        return pd_fail(r, &S3_MalformedXML, MALFORMED);
    const char *alg = json_string_value(json_object_get(
        json_object_get(json_array_get(rules, 0), "ApplyServerSideEncryptionByDefault"),
        "SSEAlgorithm"));
    if (!alg || (strcmp(alg, "AES256") && strcmp(alg, "aws:kms") && strcmp(alg, "aws:kms:dsse")))
        return pd_fail(r, &S3_MalformedXML, MALFORMED);
    return PD_OK;
}

static int validate_payer(struct pd_req *r, const struct pd_s3_bucket *b, json_t *doc)
{
    (void)b;
    const char *p = json_string_value(json_object_get(doc, "Payer"));
    if (!p || (strcmp(p, "Requester") && strcmp(p, "BucketOwner")))
        return pd_fail(r, &S3_MalformedXML, MALFORMED);
    return PD_OK;
}

static int validate_accelerate(struct pd_req *r, const struct pd_s3_bucket *b, json_t *doc)
{
    const char *s = json_string_value(json_object_get(doc, "Status"));
    if (!s || (strcmp(s, "Enabled") && strcmp(s, "Suspended")))
        return pd_fail(r, &S3_MalformedXML, MALFORMED);
    if (strchr(b->name, '.'))
        return pd_fail(r, &S3_InvalidRequest,
                       "S3 Transfer Acceleration is not supported for buckets with periods (.) "
                       "in their names");
    return PD_OK;
}

/* ---- default encryption of new objects ---- */

void s3_default_encryption(const struct pd_s3_bucket *b, json_t *meta)
{
    if (json_object_get(meta, "ServerSideEncryption"))
        return;
    json_t *doc = s3_cfg_json(b, "encryption");
    json_t *d = json_object_get(json_array_get(json_object_get(doc, "Rules"), 0),
                                "ApplyServerSideEncryptionByDefault");
    const char *alg = json_string_value(json_object_get(d, "SSEAlgorithm"));
    const char *key = json_string_value(json_object_get(d, "KMSMasterKeyID"));
    /* every bucket encrypts with SSE-S3 unless told otherwise (since January 2023) */
    json_object_set_new(meta, "ServerSideEncryption", json_string(alg ? alg : "AES256"));
    if (key && alg && strcmp(alg, "AES256"))
        json_object_set_new(meta, "SSEKMSKeyId", json_string(key));
    json_decref(doc);
}
