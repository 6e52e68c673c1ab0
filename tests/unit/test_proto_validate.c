/*
 * test_proto_validate.c - input validation as AWS words it, malformed values, and hostile
 * input (huge indexes, deep nesting, bad numbers, invalid UTF-8, oversized bodies).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "core/err.h"
#include "core/str.h"
#include "proto_helpers.h"

/* Decode a query-protocol form body against service stem. */
static int qdecode(struct pd_arena *a, const char *stem, const char *form, json_t **in,
                   struct pd_codec_error *err, const struct pd_spec_op **op)
{
    struct pd_kvs params = {0};
    assert_int_equal(pd_kvs_parse_form(a, &params, form, strlen(form), 1), PD_OK);
    return pd_query_decode(spec_of(stem), a, &params, op, in, err);
}

static void sts_short_session_name(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    int rc = qdecode(&a, "sts",
                     "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:"
                     "role/r&RoleSessionName=x",
                     &in, &err, &op);
    assert_int_equal(rc, PD_EINVAL);
    assert_string_equal(op->name, "AssumeRole");
    assert_string_equal(err.code, "ValidationError");
    assert_int_equal(err.status, 400);
    assert_int_equal(err.sender, 1);
    assert_string_equal(err.message,
                        "1 validation error detected: Value 'x' at 'roleSessionName' failed to "
                        "satisfy constraint: Member must have length greater than or equal to 2");
    assert_int_equal(err.n_violations, 1);
    assert_string_equal(err.violations[0].path, "roleSessionName");
    assert_null(in);
    pd_arena_cleanup(&a);
}

static void sts_several_errors(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    /* empty RoleArn breaks its pattern and its minimum length (as AWS reports both); the
     * session name breaks its pattern; DurationSeconds is below 900; RoleSessionName's
     * missing...no: present. Tags.member.1.Value is missing. */
    int rc = qdecode(&a, "sts",
                     "Action=AssumeRole&RoleArn=&RoleSessionName=bad%20name&DurationSeconds=600"
                     "&Tags.member.1.Key=k",
                     &in, &err, &op);
    assert_int_equal(rc, PD_EINVAL);
    assert_string_equal(
        err.message,
        "5 validation errors detected: "
        "Value '' at 'roleArn' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-"
        "\\uFFFD\\u10000-\\u10FFFF]+; "
        "Value '' at 'roleArn' failed to satisfy constraint: Member must have length greater "
        "than or equal to 20; "
        "Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [\\w+=,.@-]*; "
        "Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value "
        "greater than or equal to 900; "
        "Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be "
        "null");
    assert_int_equal(err.n_violations, 5);
    assert_string_equal(err.violations[4].path, "tags.1.member.value");
    pd_arena_cleanup(&a);
}

static void iam_missing_and_enum(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    int rc = qdecode(&a, "iam", "Action=CreateRole&Version=2010-05-08&Path=nopath", &in, &err, &op);
    assert_int_equal(rc, PD_EINVAL);
    assert_string_equal(err.message,
                        "3 validation errors detected: "
                        "Value 'nopath' at 'path' failed to satisfy constraint: Member must "
                        "satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-"
                        "\\u007E]+\\u002F); "
                        "Value null at 'roleName' failed to satisfy constraint: Member must not "
                        "be null; "
                        "Value null at 'assumeRolePolicyDocument' failed to satisfy "
                        "constraint: Member must not be null");
    /* enum, on a list of strings: AWS names every constraint of the member shape */
    rc = qdecode(&a, "iam",
                 "Action=SimulateCustomPolicy&PolicyInputList.member.1=x&ActionNames.member.1="
                 "s3:GetObject&ContextEntries.member.1.ContextKeyType=strang",
                 &in, &err, &op);
    assert_int_equal(rc, PD_EINVAL);
    assert_string_equal(err.message,
                        "1 validation error detected: Value 'strang' at "
                        "'contextEntries.1.member.contextKeyType' failed to satisfy constraint: "
                        "Member must satisfy enum value set: [string, stringList, numeric, "
                        "numericList, boolean, booleanList, ip, ipList, binary, binaryList, "
                        "date, dateList]");
    pd_arena_cleanup(&a);
}

static void list_member_constraints(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    /* a client id longer than 255 characters inside ClientIDList */
    char form[1024];
    char big[300];
    memset(big, 'a', 299);
    big[299] = '\0';
    snprintf(form, sizeof form,
             "Action=CreateOpenIDConnectProvider&Url=https://x.example&ClientIDList.member.1=ok"
             "&ClientIDList.member.2=%s",
             big);
    int rc = qdecode(&a, "iam", form, &in, &err, &op);
    assert_int_equal(rc, PD_EINVAL);
    char want[2048];
    snprintf(want, sizeof want,
             "1 validation error detected: Value '[ok, %s]' at 'clientIDList' failed to "
             "satisfy constraint: Member must satisfy constraint: [Member must have length "
             "less than or equal to 255, Member must have length greater than or equal to 1]",
             big);
    assert_string_equal(err.message, want);
    pd_arena_cleanup(&a);
}

static void sensitive_value_hidden(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    int rc = qdecode(&a, "iam", "Action=CreateLoginProfile&UserName=u&Password=", &in, &err, &op);
    assert_int_equal(rc, PD_EINVAL);
    assert_non_null(strstr(err.message, "Value at 'password' failed to satisfy constraint"));
    assert_null(strstr(err.message, "Value '' at 'password'"));
    pd_arena_cleanup(&a);
}

static void query_shapes_decode(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    /* out-of-order and sparse list indexes, a huge index, unknown parameters ignored,
     * repeated parameter: the first wins */
    int rc = qdecode(&a, "sts",
                     "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName="
                     "s1&RoleSessionName=s2&PolicyArns.member.3.arn=arn:aws:iam::aws:policy/"
                     "Cccccccccccc&PolicyArns.member.1.arn=arn:aws:iam::aws:policy/Aaaaaaaaaaaa"
                     "&PolicyArns.member.999999999.arn=arn:aws:iam::aws:policy/Zzzzzzzzzzz"
                     "&PolicyArns.member.0.arn=ignored&PolicyArns.member.01.arn=ignored"
                     "&Bogus=1&Tags.member.x.Key=ignored",
                     &in, &err, &op);
    assert_int_equal(rc, PD_OK);
    json_t *want = json_pack(
        "{s:s,s:s,s:[{s:s},{s:s},{s:s}]}", "RoleArn", "arn:aws:iam::000000000000:role/r",
        "RoleSessionName", "s1", "PolicyArns", "arn", "arn:aws:iam::aws:policy/Aaaaaaaaaaaa", "arn",
        "arn:aws:iam::aws:policy/Cccccccccccc", "arn", "arn:aws:iam::aws:policy/Zzzzzzzzzzz");
    assert_true(json_equal(in, want));
    json_decref(want);
    json_decref(in);
    /* an empty list is sent as "Name=" */
    rc = qdecode(&a, "sts",
                 "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r"
                 "&RoleSessionName=s1&TransitiveTagKeys=",
                 &in, &err, &op);
    assert_int_equal(rc, PD_OK);
    assert_int_equal(json_array_size(json_object_get(in, "TransitiveTagKeys")), 0);
    assert_true(json_is_array(json_object_get(in, "TransitiveTagKeys")));
    json_decref(in);
    pd_arena_cleanup(&a);
}

static void query_bad_values(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    const char *bad[] = {
        "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=s1"
        "&DurationSeconds=12abc",
        "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=s1"
        "&DurationSeconds=99999999999999999999",
        "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=s1"
        "&DurationSeconds=4294967296",
        "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=%C3%28",
        "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r&RoleSessionName=a%00b",
        "Action=ListRoles&MaxItems=",
        "Action=UpdateAccountPasswordPolicy&RequireSymbols=yes",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        int rc = qdecode(&a, strstr(bad[i], "AssumeRole") ? "sts" : "iam", bad[i], &in, &err, &op);
        if (rc != PD_EINVAL)
            print_error("case %zu: rc %d\n", i, rc);
        assert_int_equal(rc, PD_EINVAL);
        assert_string_equal(err.code, "MalformedInput");
        assert_int_equal(err.status, 400);
        assert_null(in);
    }
    /* unknown action, missing action */
    assert_int_equal(qdecode(&a, "iam", "Action=CreateRol", &in, &err, &op), PD_ENOTFOUND);
    assert_string_equal(err.code, "InvalidAction");
    assert_string_equal(err.message, "Could not find operation CreateRol for version 2010-05-08");
    assert_int_equal(qdecode(&a, "iam", "Version=2010-05-08", &in, &err, &op), PD_ENOTFOUND);
    assert_string_equal(err.code, "MissingAction");
    pd_arena_cleanup(&a);
}

static void restjson_validation_and_types(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_http_request rq;
    struct pd_kvs h;
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    struct pd_spec *eks = spec_of("eks");
    make_request(&a, &rq, &h, "POST", "/clusters", "{\"name\":\"\",\"tags\":{\"k\":\"v\"}}");
    assert_int_equal(pd_codec_decode(eks, &a, &rq, &op, &in, &err), PD_EINVAL);
    assert_string_equal(op->name, "CreateCluster");
    assert_string_equal(err.code, "ValidationException");
    assert_int_equal(err.n_violations, 4);
    assert_string_equal(err.violations[0].path, "name");
    assert_int_equal(err.violations[0].in_body, 1);
    /* wrong JSON types and broken JSON */
    const char *bad[] = {
        "{\"name\":5,\"roleArn\":\"r\",\"resourcesVpcConfig\":{}}",
        "{\"name\":\"n\",\"roleArn\":\"r\",\"resourcesVpcConfig\":{\"subnetIds\":\"s\"}}",
        "{\"name\":\"n\",\"roleArn\":\"r\",\"resourcesVpcConfig\":[]}",
        "{\"name\":\"n\",",
        "[1,2]",
        "{\"name\":\"n\",\"roleArn\":\"r\",\"resourcesVpcConfig\":{},\"tags\":{\"a\":1}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        make_request(&a, &rq, &h, "POST", "/clusters", bad[i]);
        memset(&err, 0, sizeof err);
        int rc = pd_codec_decode(eks, &a, &rq, &op, &in, &err);
        if (rc != PD_EINVAL || !err.code || strcmp(err.code, "SerializationException"))
            print_error("case %zu: rc %d code %s\n", i, rc, err.code ? err.code : "-");
        assert_int_equal(rc, PD_EINVAL);
        assert_string_equal(err.code, "SerializationException");
    }
    /* maxResults above its maximum (100) in the query string */
    make_request(&a, &rq, &h, "GET", "/clusters?maxResults=101", NULL);
    assert_int_equal(pd_codec_decode(eks, &a, &rq, &op, &in, &err), PD_EINVAL);
    assert_string_equal(err.message,
                        "1 validation error detected: Value '101' at 'maxResults' failed to "
                        "satisfy constraint: Member must have value less than or equal to 100");
    assert_int_equal(err.violations[0].in_body, 0);
    make_request(&a, &rq, &h, "GET", "/clusters?maxResults=ten", NULL);
    assert_int_equal(pd_codec_decode(eks, &a, &rq, &op, &in, &err), PD_EINVAL);
    /* unknown routes */
    make_request(&a, &rq, &h, "GET", "/nothing/here", NULL);
    assert_int_equal(pd_codec_decode(eks, &a, &rq, &op, &in, &err), PD_ENOTFOUND);
    assert_string_equal(err.code, "UnknownOperationException");
    assert_int_equal(err.status, 404);
    make_request(&a, &rq, &h, "PATCH", "/clusters", NULL);
    assert_int_equal(pd_codec_decode(eks, &a, &rq, &op, &in, &err), PD_ENOTFOUND);
    pd_arena_cleanup(&a);
}

static void restjson_deep_nesting(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_http_request rq;
    struct pd_kvs h;
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    size_t depth = 100000;
    char *body = malloc(depth * 2 + 64);
    size_t n = 0;
    n += (size_t)snprintf(body, 64, "{\"name\":\"n\",\"tags\":");
    for (size_t i = 0; i < depth; i++)
        body[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        body[n++] = ']';
    body[n++] = '}';
    body[n] = '\0';
    make_request(&a, &rq, &h, "POST", "/clusters", body);
    assert_int_equal(pd_codec_decode(spec_of("eks"), &a, &rq, &op, &in, &err), PD_EINVAL);
    assert_string_equal(err.code, "SerializationException");
    free(body);
    pd_arena_cleanup(&a);
}

static void query_many_params(void **state)
{
    (void)state;
    /* 50,000 list members: decodes in linear time, the list-length bound then applies */
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_adds(&b, "Action=AssumeRole&RoleArn=arn:aws:iam::000000000000:role/r"
                    "&RoleSessionName=s1");
    for (int i = 50000; i >= 1; i--)
        pd_buf_printf(&b, "&TransitiveTagKeys.member.%d=k%d", i, i);
    json_t *in;
    struct pd_codec_error err;
    const struct pd_spec_op *op;
    int rc = qdecode(&a, "sts", pd_buf_str(&b), &in, &err, &op);
    assert_int_equal(rc, PD_EINVAL);
    assert_int_equal(err.n_violations, 1);
    assert_string_equal(err.violations[0].path, "transitiveTagKeys");
    assert_non_null(strstr(err.message, "Member must have length less than or equal to 50"));
    /* a parameter name nested 100,000 levels deep is just an unknown parameter */
    pd_buf_reset(&b);
    pd_buf_adds(&b, "Action=GetCallerIdentity&Tags");
    for (int i = 0; i < 100000; i++)
        pd_buf_adds(&b, ".member.1");
    pd_buf_adds(&b, "=x");
    rc = qdecode(&a, "sts", pd_buf_str(&b), &in, &err, &op);
    assert_int_equal(rc, PD_OK);
    assert_int_equal(json_object_size(in), 0);
    json_decref(in);
    pd_buf_free(&b);
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sts_short_session_name), cmocka_unit_test(sts_several_errors),
        cmocka_unit_test(iam_missing_and_enum),   cmocka_unit_test(list_member_constraints),
        cmocka_unit_test(sensitive_value_hidden), cmocka_unit_test(query_shapes_decode),
        cmocka_unit_test(query_bad_values),       cmocka_unit_test(restjson_validation_and_types),
        cmocka_unit_test(restjson_deep_nesting),  cmocka_unit_test(query_many_params),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    specs_free();
    return rc;
}
