/*
 * test_proto_spec.c - model loading and lookups (proto/spec.c), the coverage listing, and
 * the pattern matcher the validator uses (proto/regex.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "dispatch.h"
#include "proto/regex.h"
#include "proto_helpers.h"

static void load_all(void **state)
{
    (void)state;
    const char *stems[] = {"iam", "sts", "s3", "eks", "eks-auth"};
    const enum pd_spec_proto protos[] = {PD_SPEC_QUERY, PD_SPEC_QUERY, PD_SPEC_REST_XML,
                                         PD_SPEC_REST_JSON, PD_SPEC_REST_JSON};
    for (size_t i = 0; i < 5; i++) {
        struct pd_spec *s = spec_of(stems[i]);
        assert_non_null(s);
        assert_int_equal(s->proto, protos[i]);
        assert_true(s->n_ops > 0);
        for (size_t k = 1; k < s->n_ops; k++) /* sorted for binary search */
            assert_true(strcmp(s->ops[k - 1].name, s->ops[k].name) < 0);
    }
    struct pd_spec *bad;
    assert_int_equal(pd_spec_load_embedded("nope", &bad), PD_ENOTFOUND);
    assert_int_equal(pd_spec_load("{", 1, &bad), PD_EINVAL);
    const char *dangling =
        "{\"metadata\":{\"protocol\":\"query\"},\"operations\":{},\"shapes\":"
        "{\"A\":{\"type\":\"structure\",\"members\":{\"x\":{\"shape\":\"B\"}}}}}";
    assert_int_equal(pd_spec_load(dangling, strlen(dangling), &bad), PD_EINVAL);
    assert_null(bad);
}

/* The pipeline loads each model on its service's first request; this is the check that
 * used to run at start: every model loads and names every operation its service implements. */
static void service_tables(void **state)
{
    (void)state;
    assert_int_equal(pd_dispatch_check_models(), PD_OK);
}

static void lookups(void **state)
{
    (void)state;
    struct pd_spec *iam = spec_of("iam");
    assert_int_equal(iam->n_ops, 176);
    assert_string_equal(iam->xml_namespace, "https://iam.amazonaws.com/doc/2010-05-08/");
    assert_string_equal(iam->api_version, "2010-05-08");
    const struct pd_spec_op *op = pd_spec_op(iam, "CreateRole");
    assert_non_null(op);
    assert_string_equal(op->result_wrapper, "CreateRoleResult");
    assert_string_equal(op->input->name, "CreateRoleRequest");
    assert_null(pd_spec_op(iam, "createrole"));
    assert_null(pd_spec_op(iam, NULL));
    const struct pd_spec_member *rn = pd_spec_member(op->input, "RoleName");
    assert_non_null(rn);
    assert_true(rn->flags & PD_MF_REQUIRED);
    assert_string_equal(rn->path_name, "roleName");
    assert_int_equal(rn->shape->min, 1);
    assert_int_equal(rn->shape->max, 64);
    assert_non_null(rn->shape->re);
    assert_true(op->n_errors > 0);
    /* members keep the model's order */
    assert_string_equal(op->input->members[0].name, "Path");
    assert_string_equal(op->input->members[1].name, "RoleName");

    struct pd_spec *sts = spec_of("sts");
    const struct pd_spec_op *wi = pd_spec_op(sts, "AssumeRoleWithWebIdentity");
    assert_string_equal(wi->authtype, "none");
    assert_null(pd_spec_op(sts, "AssumeRole")->authtype);
    const struct pd_spec_shape *tok = pd_spec_shape(sts, "clientTokenType");
    assert_non_null(tok);
    assert_true(tok->flags & PD_SF_SENSITIVE);
    const struct pd_spec_shape *exp = pd_spec_shape(sts, "ExpiredTokenException");
    assert_string_equal(exp->error_code, "ExpiredTokenException");
    assert_int_equal(exp->error_status, 400);

    struct pd_spec *s3 = spec_of("s3");
    assert_string_equal(s3->xml_namespace, "http://s3.amazonaws.com/doc/2006-03-01/");
    const struct pd_spec_op *put = pd_spec_op(s3, "PutObject");
    assert_string_equal(put->method, "PUT");
    assert_int_equal(put->route.n_segs, 2);
    assert_true(put->route.segs[1].greedy);
    assert_string_equal(put->route.segs[1].label->name, "Key");
    const struct pd_spec_member *meta = pd_spec_member(put->input, "Metadata");
    assert_int_equal(meta->loc, PD_LOC_HEADERS);
    assert_string_equal(meta->wire_name, "x-amz-meta-");
    assert_string_equal(put->input->payload->name, "Body");
    assert_true(put->input->payload->flags & PD_MF_STREAMING);
    const struct pd_spec_op *lv2 = pd_spec_op(s3, "ListObjectsV2");
    assert_int_equal(lv2->route.n_qlits, 1);
    assert_string_equal(lv2->route.qlits[0].key, "list-type");
    assert_string_equal(lv2->route.qlits[0].value, "2");
    const struct pd_spec_op *up = pd_spec_op(s3, "UploadPart");
    assert_int_equal(up->route.n_req_query, 2);
    const struct pd_spec_op *cp = pd_spec_op(s3, "CopyObject");
    assert_int_equal(cp->route.n_req_headers, 1);
    assert_string_equal(cp->route.req_headers[0], "x-amz-copy-source");
    assert_int_equal(pd_spec_op(s3, "DeleteObject")->response_code, 204);
    const struct pd_spec_shape *grantee = pd_spec_shape(s3, "Grantee");
    const struct pd_spec_member *type = pd_spec_member(grantee, "Type");
    assert_true(type->flags & PD_MF_XMLATTR);
    assert_string_equal(type->wire_name, "xsi:type");
    assert_string_equal(grantee->xmlns.prefix, "xsi");
    assert_true(pd_spec_shape(s3, "ObjectList")->flags & PD_SF_FLATTENED);
    const struct pd_spec_op *cb = pd_spec_op(s3, "CreateBucket");
    const struct pd_spec_member *cfg = pd_spec_member(cb->input, "CreateBucketConfiguration");
    assert_string_equal(cfg->xmlns.uri, "http://s3.amazonaws.com/doc/2006-03-01/");

    struct pd_spec *eks = spec_of("eks");
    const struct pd_spec_op *tag = pd_spec_op(eks, "TagResource");
    assert_string_equal(tag->request_uri, "/tags/{resourceArn}");
    assert_false(tag->route.segs[1].greedy);
    assert_int_equal(pd_spec_op(spec_of("eks-auth"), "AssumeRoleForPodIdentity")->response_code,
                     200);
}

static void coverage(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_spec *sts = spec_of("sts");
    const char *impl[] = {"GetCallerIdentity", "AssumeRoleWithWebIdentity", "AssumeRole",
                          "NotInModel"};
    const char **missing;
    size_t n = pd_spec_unimplemented(sts, impl, 4, &a, &missing);
    assert_int_equal(n, sts->n_ops - 3);
    assert_null(missing[n]);
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(missing[i], "AssumeRole");
        assert_string_not_equal(missing[i], "GetCallerIdentity");
        if (i)
            assert_true(strcmp(missing[i - 1], missing[i]) < 0);
    }
    assert_int_equal(pd_spec_unimplemented(sts, NULL, 0, &a, &missing), sts->n_ops);
    pd_arena_cleanup(&a);
}

static int rx(const char *pattern, const char *s)
{
    struct pd_arena a;
    struct pd_regex *re;
    pd_arena_init(&a);
    int rc = pd_regex_compile(&a, pattern, &re);
    int m = rc ? -2 : pd_regex_match(re, s, strlen(s));
    pd_arena_cleanup(&a);
    return m;
}

static void regex(void **state)
{
    (void)state;
    assert_int_equal(rx("[\\w+=,.@-]+", "my-role.name@x"), 1);
    assert_int_equal(rx("[\\w+=,.@-]+", "bad name"), 0);
    assert_int_equal(rx("[\\w+=,.@-]+", ""), 0);
    assert_int_equal(rx("[\\w+=,.@-]*", ""), 1);
    assert_int_equal(rx("(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", "/"), 1);
    assert_int_equal(rx("(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", "/a/b/"), 1);
    assert_int_equal(rx("(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", "/a/b"), 0);
    /* Java reads \u10000 as \u1000 then '0': the class still takes common text */
    const char *arn = "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-"
                      "\\uFFFD\\u10000-\\u10FFFF]+";
    assert_int_equal(rx(arn, "arn:aws:iam::000000000000:role/r"), 1);
    assert_int_equal(rx(arn, "a\x01"), 0);
    assert_int_equal(rx("^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", "my-alias"), 1);
    assert_int_equal(rx("^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", "my--alias"), 0);
    assert_int_equal(rx("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "Kostenstelle ü 42"), 1);
    assert_int_equal(rx("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "\xe6\x97\xa5\xe6\x9c\xac"), 1);
    assert_int_equal(rx("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", "a*b"), 0);
    assert_int_equal(rx("v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?", "v12"), 1);
    assert_int_equal(rx("v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?", "v0"), 0);
    assert_int_equal(rx("((/[A-Za-z0-9\\.,\\+@=_-]+)*)/", "/a/b.c/"), 1);
    assert_int_equal(rx("((/[A-Za-z0-9\\.,\\+@=_-]+)*)/", "/a//"), 0);
    assert_int_equal(rx("arn:[^:]+:(s3|s3express):.*", "arn:aws:s3express:x"), 1);
    assert_int_equal(rx("arn:[^:]+:(s3|s3express):.*", "arn:aws:s4:x"), 0);
    assert_int_equal(rx("\\d{12}", "000000000000"), 1);
    assert_int_equal(rx("\\d{12}", "00000000000"), 0);
    assert_int_equal(rx("^o-[a-z0-9]{10,32}$", "o-abcdefghij"), 1);
    assert_int_equal(rx("[A-Za-z0-9-_=]+\\.[A-Za-z0-9-_=]+\\.[A-Za-z0-9-_=]+", "a.b.c"), 1);
    /* outside the subset: refused, not guessed */
    assert_int_equal(rx("a(?<n>b)", "ab"), -2);
    assert_int_equal(rx("a\\1", "a"), -2);
    assert_int_equal(rx("[a", "a"), -2);
    assert_int_equal(rx("a)", "a"), -2);
    assert_int_equal(rx("*a", "a"), -2);
    /* every pattern in the shipped models compiles */
    const char *stems[] = {"iam", "sts", "s3", "eks", "eks-auth"};
    for (size_t i = 0; i < 5; i++) {
        struct pd_spec *s = spec_of(stems[i]);
        for (size_t k = 0; k < s->n_shapes; k++)
            if (s->shapes[k].pattern && !s->shapes[k].re)
                fail_msg("%s: %s does not compile", stems[i], s->shapes[k].pattern);
    }
}

static void regex_budget(void **state)
{
    (void)state;
    /* a 2 MiB certificate body against [\u0009...]+ is linear, no recursion per char */
    size_t n = 2u << 20;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    assert_int_equal(rx("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", big), 1);
    /* catastrophic backtracking hits the budget instead of hanging */
    memset(big, 'a', 64);
    big[64] = '!';
    big[65] = '\0';
    assert_int_equal(rx("(a|a)*b", big), -1);
    /* policyPathType over a very long path: depth-capped, no stack overflow */
    for (size_t i = 0; i < n; i += 2) {
        big[i] = '/';
        big[i + 1] = 'a';
    }
    big[n] = '\0';
    int r = rx("((/[A-Za-z0-9\\.,\\+@=_-]+)*)/", big);
    assert_true(r == 0 || r == -1);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_all), cmocka_unit_test(service_tables),
        cmocka_unit_test(lookups),  cmocka_unit_test(coverage),
        cmocka_unit_test(regex),    cmocka_unit_test(regex_budget),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    specs_free();
    return rc;
}
