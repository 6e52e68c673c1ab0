/*
 * test_proto_route.c - which operation a rest request names (proto/rest.c): S3's look-alike
 * operations told apart by subresources, required query keys and headers; EKS paths with
 * encoded labels; and the location-bound members (labels, headers, x-amz-meta-*, query).
 * Also awsJson (proto/awsjson.c): the operation named by X-Amz-Target, and its errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "core/err.h"
#include "proto_helpers.h"

struct s3case {
    const char *method, *bucket, *key, *query, *header, *op;
};

static void s3_routes(void **state)
{
    (void)state;
    static const struct s3case cases[] = {
        {"GET", NULL, NULL, NULL, NULL, "ListBuckets"},
        {"PUT", "b", NULL, NULL, NULL, "CreateBucket"},
        {"HEAD", "b", NULL, NULL, NULL, "HeadBucket"},
        {"DELETE", "b", NULL, NULL, NULL, "DeleteBucket"},
        {"GET", "b", NULL, NULL, NULL, "ListObjects"},
        {"GET", "b", NULL, "prefix=a&marker=m", NULL, "ListObjects"},
        {"GET", "b", NULL, "list-type=2&prefix=a", NULL, "ListObjectsV2"},
        {"GET", "b", NULL, "list-type=3", NULL, "ListObjects"},
        {"GET", "b", NULL, "location", NULL, "GetBucketLocation"},
        {"GET", "b", NULL, "versions", NULL, "ListObjectVersions"},
        {"GET", "b", NULL, "uploads", NULL, "ListMultipartUploads"},
        {"GET", "b", NULL, "acl", NULL, "GetBucketAcl"},
        {"GET", "b", NULL, "policy", NULL, "GetBucketPolicy"},
        {"PUT", "b", NULL, "policy", NULL, "PutBucketPolicy"},
        {"DELETE", "b", NULL, "policy", NULL, "DeleteBucketPolicy"},
        {"GET", "b", NULL, "tagging", NULL, "GetBucketTagging"},
        {"GET", "b", NULL, "lifecycle", NULL, "GetBucketLifecycleConfiguration"},
        {"PUT", "b", NULL, "versioning", NULL, "PutBucketVersioning"},
        {"POST", "b", NULL, "delete", NULL, "DeleteObjects"},
        {"PUT", "b", "k", NULL, NULL, "PutObject"},
        {"PUT", "b", "a/b/c", NULL, "x-amz-copy-source", "CopyObject"},
        {"PUT", "b", "k", "partNumber=1&uploadId=u", NULL, "UploadPart"},
        {"PUT", "b", "k", "partNumber=1&uploadId=u", "x-amz-copy-source", "UploadPartCopy"},
        {"PUT", "b", "k", "uploadId=u", NULL, "PutObject"},
        {"POST", "b", "k", "uploads", NULL, "CreateMultipartUpload"},
        {"POST", "b", "k", "uploadId=u", NULL, "CompleteMultipartUpload"},
        {"GET", "b", "k", "uploadId=u", NULL, "ListParts"},
        {"DELETE", "b", "k", "uploadId=u", NULL, "AbortMultipartUpload"},
        {"DELETE", "b", "k", NULL, NULL, "DeleteObject"},
        {"DELETE", "b", "k", "versionId=v", NULL, "DeleteObject"},
        {"GET", "b", "k", NULL, NULL, "GetObject"},
        {"GET", "b", "k", "versionId=v&response-content-type=x", NULL, "GetObject"},
        {"HEAD", "b", "k", NULL, NULL, "HeadObject"},
        {"GET", "b", "k", "tagging", NULL, "GetObjectTagging"},
        {"PUT", "b", "k", "tagging", NULL, "PutObjectTagging"},
        {"DELETE", "b", "k", "tagging", NULL, "DeleteObjectTagging"},
        {"GET", "b", "k", "acl", NULL, "GetObjectAcl"},
        {"GET", "b", "k", "attributes", NULL, "GetObjectAttributes"},
        {"POST", "b", "k", "restore", NULL, "RestoreObject"},
        {"POST", "b", "k", "select&select-type=2", NULL, "SelectObjectContent"},
    };
    struct pd_spec *s3 = spec_of("s3");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct s3case *c = &cases[i];
        struct pd_arena a;
        pd_arena_init(&a);
        struct pd_kvs h = {0};
        if (c->header)
            pd_kvs_add(&a, &h, c->header, "src/k", 5, 1);
        struct pd_http_request rq = {c->method, "/", c->query, &h, NULL, 0, c->bucket, c->key};
        const struct pd_spec_op *op;
        struct pd_codec_error err;
        int rc = pd_rest_route(s3, &a, &rq, &op, &err);
        if (rc || strcmp(op->name, c->op))
            print_error("case %zu: %s %s/%s?%s -> %s (want %s)\n", i, c->method,
                        c->bucket ? c->bucket : "", c->key ? c->key : "", c->query ? c->query : "",
                        rc ? err.code : op->name, c->op);
        assert_int_equal(rc, PD_OK);
        assert_string_equal(op->name, c->op);
        pd_arena_cleanup(&a);
    }
    /* nothing answers POST on a bucket without a subresource */
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_http_request rq = {"POST", "/", NULL, NULL, NULL, 0, "b", NULL};
    const struct pd_spec_op *op;
    struct pd_codec_error err;
    assert_int_equal(pd_rest_route(s3, &a, &rq, &op, &err), PD_ENOTFOUND);
    assert_string_equal(err.code, "MethodNotAllowed");
    assert_int_equal(err.status, 405);
    pd_arena_cleanup(&a);
}

static void s3_split_and_members(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    const char *b, *k;
    assert_int_equal(pd_restxml_split_path(&a, "/bkt/a%20b/c%2Bd", &b, &k), PD_OK);
    assert_string_equal(b, "bkt");
    assert_string_equal(k, "a b/c+d");
    assert_int_equal(pd_restxml_split_path(&a, "/", &b, &k), PD_OK);
    assert_null(b);
    assert_null(k);
    assert_int_equal(pd_restxml_split_path(&a, "/bkt/", &b, &k), PD_OK);
    assert_string_equal(b, "bkt");
    assert_null(k);
    assert_int_equal(pd_restxml_split_path(&a, "/bkt/%zz", &b, &k), PD_EINVAL);
    assert_int_equal(pd_restxml_split_path(&a, "/bkt/a%00b", &b, &k), PD_EINVAL);

    /* virtual-host style: the caller passes bucket and key; metadata, headers, query */
    struct pd_kvs h = {0};
    pd_kvs_add(&a, &h, "X-Amz-Meta-Owner", "alice", 5, 1);
    pd_kvs_add(&a, &h, "x-amz-meta-empty", "", 0, 1);
    pd_kvs_add(&a, &h, "x-amz-copy-source", "/src/k%20ey", 11, 1);
    pd_kvs_add(&a, &h, "x-amz-copy-source-if-modified-since", "Thu, 01 Jan 2026 00:00:00 GMT", 29,
               1);
    pd_kvs_add(&a, &h, "x-amz-object-attributes", "ETag, \"Object,Size\" ,Checksum", 30, 1);
    struct pd_http_request rq = {"PUT", "/dir/k", "x-id=CopyObject", &h, NULL, 0, "bkt", "dir/k"};
    const struct pd_spec_op *op;
    json_t *in;
    struct pd_codec_error err;
    int rc = pd_codec_decode(spec_of("s3"), &a, &rq, &op, &in, &err);
    if (rc)
        print_error("%s: %s\n", err.code, err.message);
    assert_int_equal(rc, PD_OK);
    assert_string_equal(op->name, "CopyObject");
    json_t *want =
        json_pack("{s:s,s:s,s:s,s:I,s:{s:s,s:s}}", "Bucket", "bkt", "Key", "dir/k", "CopySource",
                  "/src/k%20ey", "CopySourceIfModifiedSince", (json_int_t)1767225600000LL,
                  "Metadata", "owner", "alice", "empty", "");
    if (!json_equal(in, want)) {
        char *g = json_dumps(in, JSON_SORT_KEYS);
        print_error("got %s\n", g);
        free(g);
    }
    assert_true(json_equal(in, want));
    json_decref(want);
    json_decref(in);
    /* a header list (GetObjectAttributes), with a quoted item */
    struct pd_http_request ga = {"GET", "/", "attributes", &h, NULL, 0, "bkt", "k"};
    /* (ObjectAttributes are an enum: the split list shows in the violation) */
    assert_int_equal(pd_codec_decode(spec_of("s3"), &a, &ga, &op, &in, &err), PD_EINVAL);
    assert_string_equal(op->name, "GetObjectAttributes");
    assert_string_equal(err.code, "InvalidArgument");
    assert_non_null(strstr(err.message, "Value '[ETag, Object,Size, Checksum]' at "
                                        "'objectAttributes'"));
    pd_arena_cleanup(&a);
}

struct jcase {
    const char *method, *target, *op, *label, *value;
};

static void eks_routes(void **state)
{
    (void)state;
    static const struct jcase cases[] = {
        {"GET", "/clusters", "ListClusters", NULL, NULL},
        {"GET", "/clusters/", "ListClusters", NULL, NULL},
        {"POST", "/clusters", "CreateCluster", NULL, NULL},
        {"GET", "/clusters/demo", "DescribeCluster", "name", "demo"},
        {"DELETE", "/clusters/de%20mo", "DeleteCluster", "name", "de mo"},
        {"GET", "/clusters/demo/node-groups/ng-1", "DescribeNodegroup", "nodegroupName", "ng-1"},
        {"POST", "/clusters/demo/node-groups/ng/update-config", "UpdateNodegroupConfig",
         "nodegroupName", "ng"},
        {"GET", "/clusters/demo/updates/u-1", "DescribeUpdate", "updateId", "u-1"},
        {"GET", "/clusters/demo/insights-refresh", "DescribeInsightsRefresh", "clusterName",
         "demo"},
        {"GET", "/clusters/demo/insights/i-1", "DescribeInsight", "id", "i-1"},
        {"POST", "/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A000000000000%3Acluster%2Fdemo", "TagResource",
         "resourceArn", "arn:aws:eks:us-east-1:000000000000:cluster/demo"},
        {"DELETE", "/clusters/demo/access-entries/arn%3Aaws%3Aiam%3A%3A0%3Arole%2Fr",
         "DeleteAccessEntry", "principalArn", "arn:aws:iam::0:role/r"},
    };
    struct pd_spec *eks = spec_of("eks");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct jcase *c = &cases[i];
        struct pd_arena a;
        pd_arena_init(&a);
        struct pd_http_request rq;
        struct pd_kvs h;
        make_request(&a, &rq, &h, c->method, c->target, "{\"tags\":{\"a\":\"1\"}}");
        const struct pd_spec_op *op;
        json_t *in = NULL;
        struct pd_codec_error err;
        int rc = pd_rest_route(eks, &a, &rq, &op, &err);
        if (!rc && c->label)
            rc = pd_rest_decode(eks, &a, op, &rq, &in, &err);
        if (rc || strcmp(op->name, c->op))
            print_error("case %zu: %s %s -> rc %d %s %s\n", i, c->method, c->target, rc,
                        op ? op->name : "-", err.message ? err.message : "");
        assert_int_equal(rc, PD_OK);
        assert_string_equal(op->name, c->op);
        if (c->label)
            assert_string_equal(json_string_value(json_object_get(in, c->label)), c->value);
        json_decref(in);
        pd_arena_cleanup(&a);
    }
    /* an encoded slash in a label where the route has no more segments; empty labels */
    const char *bad[] = {"/clusters//node-groups", "/clusters/a/b/c/d/e", "/clusters/%zz"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct pd_arena a;
        pd_arena_init(&a);
        struct pd_http_request rq;
        struct pd_kvs h;
        make_request(&a, &rq, &h, "GET", bad[i], NULL);
        const struct pd_spec_op *op;
        struct pd_codec_error err;
        assert_int_equal(pd_rest_route(eks, &a, &rq, &op, &err), PD_ENOTFOUND);
        pd_arena_cleanup(&a);
    }
    /* eks-auth */
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_http_request rq;
    struct pd_kvs h;
    make_request(&a, &rq, &h, "POST", "/clusters/demo/assume-role-for-pod-identity",
                 "{\"token\":\"a.b.c\"}");
    const struct pd_spec_op *op;
    json_t *in;
    struct pd_codec_error err;
    assert_int_equal(pd_codec_decode(spec_of("eks-auth"), &a, &rq, &op, &in, &err), PD_OK);
    assert_string_equal(op->name, "AssumeRoleForPodIdentity");
    assert_string_equal(json_string_value(json_object_get(in, "clusterName")), "demo");
    assert_string_equal(json_string_value(json_object_get(in, "token")), "a.b.c");
    json_decref(in);
    make_request(&a, &rq, &h, "POST", "/clusters/demo/assume-role-for-pod-identity",
                 "{\"token\":\"not a jwt\"}");
    assert_int_equal(pd_codec_decode(spec_of("eks-auth"), &a, &rq, &op, &in, &err), PD_EINVAL);
    assert_string_equal(err.code, "ValidationException");
    assert_non_null(strstr(err.message, "Value at 'token' failed to satisfy constraint: Member "
                                        "must satisfy regular expression pattern"));
    pd_arena_cleanup(&a);
}

/* awsJson: X-Amz-Target names the operation; anything else is UnknownOperationException;
 * a body that is not a JSON object is a SerializationException; a constraint a
 * ValidationException naming the member. */
static int json_decode(struct pd_arena *a, const char *method, const char *target, const char *body,
                       const struct pd_spec_op **op, json_t **in, struct pd_codec_error *err)
{
    struct pd_http_request rq;
    struct pd_kvs h;
    make_request(a, &rq, &h, method, "/", body);
    if (target)
        pd_kvs_add(a, &h, "x-amz-target", target, strlen(target), 1);
    *in = NULL;
    return pd_codec_decode(spec_of("organizations"), a, &rq, op, in, err);
}

static void awsjson_routes(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    const struct pd_spec_op *op;
    json_t *in;
    struct pd_codec_error err;
    assert_int_equal(
        json_decode(&a, "POST", "AWSOrganizationsV20161128.ListRoots", "", &op, &in, &err), PD_OK);
    assert_string_equal(op->name, "ListRoots");
    assert_int_equal(json_object_size(in), 0);
    json_decref(in);
    assert_int_equal(json_decode(&a, "POST", "AWSOrganizationsV20161128.DescribePolicy",
                                 "{\"PolicyId\":\"p-FullAWSAccess\"}", &op, &in, &err),
                     PD_OK);
    assert_string_equal(json_string_value(json_object_get(in, "PolicyId")), "p-FullAWSAccess");
    json_decref(in);
    /* unknown operation, another prefix, no target, another method */
    const char *bad[][2] = {{"POST", "AWSOrganizationsV20161128.NoSuchThing"},
                            {"POST", "AmazonSSM.ListRoots"},
                            {"POST", NULL},
                            {"GET", "AWSOrganizationsV20161128.ListRoots"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(json_decode(&a, bad[i][0], bad[i][1], "{}", &op, &in, &err), PD_ENOTFOUND);
        assert_string_equal(err.code, "UnknownOperationException");
        assert_int_equal(err.status, 400);
    }
    assert_int_equal(
        json_decode(&a, "POST", "AWSOrganizationsV20161128.ListRoots", "[1]", &op, &in, &err),
        PD_EINVAL);
    assert_string_equal(err.code, "SerializationException");
    assert_int_equal(json_decode(&a, "POST", "AWSOrganizationsV20161128.DescribePolicy",
                                 "{\"PolicyId\":5}", &op, &in, &err),
                     PD_EINVAL);
    assert_string_equal(err.code, "SerializationException");
    assert_int_equal(json_decode(&a, "POST", "AWSOrganizationsV20161128.DescribePolicy",
                                 "{\"PolicyId\":\"nope\"}", &op, &in, &err),
                     PD_EINVAL);
    assert_string_equal(err.code, "ValidationException");
    assert_int_equal(err.n_violations, 1);
    assert_string_equal(err.violations[0].path, "policyId");
    assert_int_equal(
        json_decode(&a, "POST", "AWSOrganizationsV20161128.DescribePolicy", "{}", &op, &in, &err),
        PD_EINVAL);
    assert_string_equal(err.code, "ValidationException");
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(s3_routes),
        cmocka_unit_test(s3_split_and_members),
        cmocka_unit_test(eks_routes),
        cmocka_unit_test(awsjson_routes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    specs_free();
    return rc;
}
