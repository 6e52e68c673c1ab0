/*
 * test_proto_encode.c - encoder behaviour the goldens do not pin: handler values that do not
 * fit the output shape, header injection, timestamp forms, and a decode error rendered end
 * to end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/log.h"
#include "proto_helpers.h"

static int encode(const char *stem, const char *opname, json_t *out, struct pd_http_response *resp,
                  struct pd_arena *a)
{
    struct pd_spec *s = spec_of(stem);
    const struct pd_spec_op *op = pd_spec_op(s, opname);
    assert_non_null(op);
    pd_http_response_init(resp);
    int rc = pd_codec_encode(s, a, op, out, "rid", resp);
    json_decref(out);
    return rc;
}

static void bad_handler_values(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_http_response r;
    int lvl = pd_log_level;
    pd_log_level = -1; /* the encoder logs these as errors: expected here */
    assert_int_equal(
        encode("iam", "GetRole", json_pack("{s:{s:i}}", "Role", "RoleName", 5), &r, &a),
        PD_EINTERNAL);
    pd_http_response_cleanup(&r);
    assert_int_equal(encode("iam", "GetRole", json_pack("[]"), &r, &a), PD_EINTERNAL);
    pd_http_response_cleanup(&r);
    assert_int_equal(encode("sts", "AssumeRole",
                            json_pack("{s:{s:s}}", "Credentials", "Expiration", "soon"), &r, &a),
                     PD_EINTERNAL);
    pd_http_response_cleanup(&r);
    assert_int_equal(encode("eks", "ListClusters", json_pack("{s:[i]}", "clusters", 1), &r, &a),
                     PD_EINTERNAL);
    pd_http_response_cleanup(&r);
    /* values that would split a header */
    assert_int_equal(encode("s3", "HeadObject",
                            json_pack("{s:{s:s}}", "Metadata", "k", "v\r\nSet-Cookie: x"), &r, &a),
                     PD_EINTERNAL);
    pd_http_response_cleanup(&r);
    assert_int_equal(encode("s3", "HeadObject", json_pack("{s:s}", "ContentType", "a\nb"), &r, &a),
                     PD_EINTERNAL);
    pd_http_response_cleanup(&r);
    pd_log_level = lvl;
    pd_arena_cleanup(&a);
}

static void timestamps(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_http_response r;
    /* ISO 8601 strings are taken too; query drops milliseconds, S3 XML keeps them */
    assert_int_equal(
        encode("sts", "AssumeRole",
               json_pack("{s:{s:s}}", "Credentials", "Expiration", "2026-01-01T01:00:00.250Z"), &r,
               &a),
        PD_OK);
    assert_non_null(strstr(pd_buf_str(&r.body), "<Expiration>2026-01-01T01:00:00Z</Expiration>"));
    pd_http_response_cleanup(&r);
    assert_int_equal(encode("s3", "CopyObject",
                            json_pack("{s:{s:I}}", "CopyObjectResult", "LastModified",
                                      (json_int_t)1767225600250LL),
                            &r, &a),
                     PD_OK);
    assert_non_null(
        strstr(pd_buf_str(&r.body), "<LastModified>2026-01-01T00:00:00.250Z</LastModified>"));
    pd_http_response_cleanup(&r);
    /* EKS: epoch seconds, fractional when there are milliseconds */
    assert_int_equal(
        encode("eks", "DescribeCluster",
               json_pack("{s:{s:I}}", "cluster", "createdAt", (json_int_t)1767225600000LL), &r, &a),
        PD_OK);
    assert_string_equal(pd_buf_str(&r.body), "{\"cluster\":{\"createdAt\":1767225600}}");
    pd_http_response_cleanup(&r);
    assert_int_equal(
        encode("eks", "DescribeCluster",
               json_pack("{s:{s:I}}", "cluster", "createdAt", (json_int_t)1767225600123LL), &r, &a),
        PD_OK);
    assert_string_equal(pd_buf_str(&r.body), "{\"cluster\":{\"createdAt\":1767225600.123}}");
    pd_http_response_cleanup(&r);
    pd_arena_cleanup(&a);
}

/* A small rest-json model with the traits the shipped models lack. */
static const char *toy =
    "{\"metadata\":{\"protocol\":\"rest-json\",\"apiVersion\":\"1\"},"
    "\"operations\":{\"Put\":{\"name\":\"Put\",\"http\":{\"method\":\"PUT\","
    "\"requestUri\":\"/things/{Id}?mode=x\",\"responseCode\":201},\"input\":{\"shape\":\"PutIn\"},"
    "\"output\":{\"shape\":\"PutOut\"}}},"
    "\"shapes\":{"
    "\"PutIn\":{\"type\":\"structure\",\"required\":[\"Id\"],\"members\":{"
    "\"Id\":{\"shape\":\"Str\",\"location\":\"uri\",\"locationName\":\"Id\"},"
    "\"When\":{\"shape\":\"Time\"},\"Data\":{\"shape\":\"Blob\"},"
    "\"Nums\":{\"shape\":\"Ints\",\"location\":\"header\",\"locationName\":\"x-nums\"},"
    "\"Since\":{\"shape\":\"Time\",\"location\":\"header\",\"locationName\":\"x-since\"},"
    "\"Rest\":{\"shape\":\"Params\",\"location\":\"querystring\"}}},"
    "\"PutOut\":{\"type\":\"structure\",\"payload\":\"Doc\",\"members\":{"
    "\"Code\":{\"shape\":\"Int\",\"location\":\"statusCode\"},"
    "\"Doc\":{\"shape\":\"Doc\"}}},"
    "\"Doc\":{\"type\":\"structure\",\"members\":{\"At\":{\"shape\":\"Iso\"}}},"
    "\"Params\":{\"type\":\"map\",\"key\":{\"shape\":\"Str\"},\"value\":{\"shape\":\"Str\"}},"
    "\"Ints\":{\"type\":\"list\",\"member\":{\"shape\":\"Int\"}},"
    "\"Int\":{\"type\":\"integer\"},\"Str\":{\"type\":\"string\"},"
    "\"Blob\":{\"type\":\"blob\"},\"Time\":{\"type\":\"timestamp\"},"
    "\"Iso\":{\"type\":\"timestamp\",\"timestampFormat\":\"iso8601\"}}}";

static void toy_model(void **state)
{
    (void)state;
    struct pd_spec *s;
    assert_int_equal(pd_spec_load(toy, strlen(toy), &s), PD_OK);
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_http_request rq;
    struct pd_kvs h;
    const struct pd_spec_op *op;
    json_t *in;
    struct pd_codec_error err;
    make_request(&a, &rq, &h, "PUT", "/things/t%2F1?mode=x&a=1&b=2&a=3",
                 "{\"When\":1767225600.25,\"Data\":\"aGk=\"}");
    pd_kvs_add(&a, &h, "X-Nums", "1, 2,3", 6, 1);
    pd_kvs_add(&a, &h, "x-since", "Thu, 01 Jan 2026 00:00:00 GMT", 29, 1);
    assert_int_equal(pd_codec_decode(s, &a, &rq, &op, &in, &err), PD_OK);
    json_t *want = json_pack("{s:s,s:I,s:s,s:[i,i,i],s:I,s:{s:s,s:s}}", "Id", "t/1", "When",
                             (json_int_t)1767225600250LL, "Data", "hi", "Nums", 1, 2, 3, "Since",
                             (json_int_t)1767225600000LL, "Rest", "a", "1", "b", "2");
    if (!json_equal(in, want)) {
        char *g = json_dumps(in, JSON_SORT_KEYS);
        print_error("got %s\n", g);
        free(g);
    }
    assert_true(json_equal(in, want));
    json_decref(want);
    json_decref(in);
    /* the query literal is part of the route */
    make_request(&a, &rq, &h, "PUT", "/things/t1", "{}");
    assert_int_equal(pd_codec_decode(s, &a, &rq, &op, &in, &err), PD_ENOTFOUND);
    /* ISO strings for timestamps in JSON are read too; a bad blob is not */
    make_request(&a, &rq, &h, "PUT", "/things/t1?mode=x", "{\"When\":\"2026-01-01T00:00:00Z\"}");
    assert_int_equal(pd_codec_decode(s, &a, &rq, &op, &in, &err), PD_OK);
    assert_int_equal(json_integer_value(json_object_get(in, "When")), 1767225600000LL);
    json_decref(in);
    make_request(&a, &rq, &h, "PUT", "/things/t1?mode=x", "{\"Data\":\"!!\"}");
    assert_int_equal(pd_codec_decode(s, &a, &rq, &op, &in, &err), PD_EINVAL);
    assert_string_equal(err.code, "SerializationException");
    /* output: status from the statusCode member, structure payload as the body */
    struct pd_http_response r;
    pd_http_response_init(&r);
    json_t *out = json_pack("{s:i,s:{s:I}}", "Code", 202, "Doc", "At", (json_int_t)1767225600000LL);
    assert_int_equal(pd_codec_encode(s, &a, op, out, "rid", &r), PD_OK);
    assert_int_equal(r.status, 202);
    assert_string_equal(pd_buf_str(&r.body), "{\"At\":\"2026-01-01T00:00:00Z\"}");
    json_decref(out);
    pd_http_response_cleanup(&r);
    pd_http_response_init(&r);
    assert_int_equal(pd_codec_encode(s, &a, op, NULL, "rid", &r), PD_OK);
    assert_int_equal(r.status, 201);
    assert_string_equal(pd_buf_str(&r.body), "{}");
    pd_http_response_cleanup(&r);
    pd_arena_cleanup(&a);
    pd_spec_free(s);
}

static void decode_error_rendered(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_kvs params = {0};
    const char *form = "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r"
                       "&RoleSessionName=<x>";
    assert_int_equal(pd_kvs_parse_form(&a, &params, form, strlen(form), 1), PD_OK);
    const struct pd_spec_op *op;
    json_t *in;
    struct pd_codec_error err;
    assert_int_equal(pd_query_decode(spec_of("sts"), &a, &params, &op, &in, &err), PD_EINVAL);
    struct pd_aws_fault f = pd_codec_fault(&err);
    struct pd_http_response r;
    pd_http_response_init(&r);
    assert_int_equal(pd_codec_encode_error(spec_of("sts"), &a, op, &f, "rid", &r), PD_OK);
    assert_int_equal(r.status, 400);
    assert_string_equal(
        pd_buf_str(&r.body),
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
        "</Type><Code>ValidationError</Code><Message>1 validation error detected: Value "
        "&apos;&lt;x&gt;&apos; at &apos;roleSessionName&apos; failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*</Message></Error>"
        "<RequestId>rid</RequestId></ErrorResponse>");
    assert_string_equal(pd_kvs_get(&r.headers, "content-type", 1), "text/xml");
    assert_string_equal(pd_kvs_get(&r.headers, "x-amzn-requestid", 1), "rid");
    pd_http_response_cleanup(&r);
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_handler_values),
        cmocka_unit_test(timestamps),
        cmocka_unit_test(toy_model),
        cmocka_unit_test(decode_error_rendered),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    specs_free();
    return rc;
}
