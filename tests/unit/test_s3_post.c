/* test_s3_post.c - POST Object's pure parts: the streaming multipart/form-data parser (one
 * form fed at every split point into two pieces and byte by byte, a delimiter look-alike
 * inside the file, the 20 KB bound before the file, no file, malformed bodies, boundaries
 * in Content-Type) and the policy document (parse errors, expiration, eq / starts-with /
 * simple conditions, case rules, extra fields, repeated fields, content-length-range). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "services/s3/s3_form.h"
#include "services/s3/s3_postpolicy.h"

/* ---- the form parser ---- */

struct got {
    char fields[1024];
    char file[256];
    size_t file_len;
    char filename[64], ctype[64];
    int begun, ended, refuse_begin;
};

static int on_field(void *ctx, const char *name, const char *value, size_t vlen)
{
    struct got *g = ctx;
    size_t n = strlen(g->fields);
    snprintf(g->fields + n, sizeof g->fields - n, "%s=%.*s;", name, (int)vlen, value);
    return 0;
}

static int on_begin(void *ctx, const char *filename, const char *ctype)
{
    struct got *g = ctx;
    g->begun++;
    snprintf(g->filename, sizeof g->filename, "%s", filename ? filename : "(none)");
    snprintf(g->ctype, sizeof g->ctype, "%s", ctype ? ctype : "(none)");
    return g->refuse_begin;
}

static int on_data(void *ctx, const char *p, size_t n)
{
    struct got *g = ctx;
    assert_true(g->file_len + n < sizeof g->file);
    memcpy(g->file + g->file_len, p, n);
    g->file_len += n;
    return 0;
}

static int on_end(void *ctx)
{
    ((struct got *)ctx)->ended++;
    return 0;
}

static const char form[] =
    "ignored preamble\r\n"
    "--XbOuNdArY\r\n"
    "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
    "photos/${filename}\r\n"
    "--XbOuNdArY\r\n"
    "content-disposition: form-data; name=\"X-Amz-Meta-Colour\"\r\n\r\n"
    "blue\r\n"
    "--XbOuNdArY  \r\n" /* transport padding */
    "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\dir\\a.txt\"\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "line one\r\n--XbOuNd not the end\r\r\n--XbOuNdArZ\r\n"
    "\r\n--XbOuNdArY\r\n"
    "Content-Disposition: form-data; name=\"after\"\r\n\r\nignored\r\n"
    "--XbOuNdArY--\r\n";

static const char file_want[] = "line one\r\n--XbOuNd not the end\r\r\n--XbOuNdArZ\r\n";

static enum pd_form_err parse(const char *body, size_t len, const size_t *cuts, size_t ncuts,
                              size_t max_fields, struct got *g)
{
    struct pd_form f;
    struct pd_form_cb cb = {on_field, on_begin, on_data, on_end};
    assert_int_equal(pd_form_init(&f, "XbOuNdArY", max_fields, &cb, g), PD_FORM_OK);
    size_t at = 0;
    enum pd_form_err e = PD_FORM_OK;
    for (size_t i = 0; i <= ncuts && !e; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        e = pd_form_feed(&f, body + at, end - at);
        at = end;
    }
    if (!e)
        e = pd_form_finish(&f);
    pd_form_cleanup(&f);
    return e;
}

static void check_parsed(struct got *g)
{
    assert_string_equal(g->fields, "key=photos/${filename};X-Amz-Meta-Colour=blue;");
    assert_int_equal(g->begun, 1);
    assert_int_equal(g->ended, 1);
    assert_string_equal(g->filename, "C:\\dir\\a.txt");
    assert_string_equal(g->ctype, "text/plain");
    assert_int_equal(g->file_len, strlen(file_want));
    assert_memory_equal(g->file, file_want, g->file_len);
}

static void test_form_every_split(void **st)
{
    (void)st;
    size_t len = strlen(form);
    struct got g;
    memset(&g, 0, sizeof g);
    assert_int_equal(parse(form, len, NULL, 0, 1024, &g), PD_FORM_OK);
    check_parsed(&g);
    for (size_t cut = 1; cut < len; cut++) {
        memset(&g, 0, sizeof g);
        assert_int_equal(parse(form, len, &cut, 1, 1024, &g), PD_FORM_OK);
        check_parsed(&g);
    }
    /* byte by byte */
    size_t *cuts = malloc(len * sizeof *cuts);
    for (size_t i = 0; i + 1 < len; i++)
        cuts[i] = i + 1;
    memset(&g, 0, sizeof g);
    assert_int_equal(parse(form, len, cuts, len - 1, 1024, &g), PD_FORM_OK);
    check_parsed(&g);
    free(cuts);
}

static void test_form_errors(void **st)
{
    (void)st;
    struct got g;
    size_t len = strlen(form);
    /* the fields before the file over the bound */
    memset(&g, 0, sizeof g);
    assert_int_equal(parse(form, len, NULL, 0, 20, &g), PD_FORM_ETOOBIG);
    assert_int_equal(g.begun, 0);
    /* no file */
    static const char nofile[] = "--XbOuNdArY\r\nContent-Disposition: form-data; name=\"key\"\r\n"
                                 "\r\nk\r\n--XbOuNdArY--\r\n";
    memset(&g, 0, sizeof g);
    assert_int_equal(parse(nofile, strlen(nofile), NULL, 0, 1024, &g), PD_FORM_ENOFILE);
    /* a part without Content-Disposition */
    static const char nodisp[] = "--XbOuNdArY\r\nContent-Type: text/plain\r\n\r\nk\r\n"
                                 "--XbOuNdArY--\r\n";
    memset(&g, 0, sizeof g);
    assert_int_equal(parse(nodisp, strlen(nodisp), NULL, 0, 1024, &g), PD_FORM_EMALFORMED);
    /* the body stops inside the file */
    static const char cut[] = "--XbOuNdArY\r\nContent-Disposition: form-data; name=\"file\"\r\n"
                              "\r\nhalf a fi";
    memset(&g, 0, sizeof g);
    assert_int_equal(parse(cut, strlen(cut), NULL, 0, 1024, &g), PD_FORM_EMALFORMED);
    /* garbage after a delimiter */
    static const char junk[] = "--XbOuNdArYjunk\r\n";
    memset(&g, 0, sizeof g);
    assert_int_equal(parse(junk, strlen(junk), NULL, 0, 1024, &g), PD_FORM_EMALFORMED);
    /* a callback's refusal stops the parse */
    memset(&g, 0, sizeof g);
    g.refuse_begin = 1;
    assert_int_equal(parse(form, len, NULL, 0, 1024, &g), PD_FORM_ECALLBACK);
    assert_int_equal(g.file_len, 0);
    /* boundaries */
    struct pd_form f;
    struct pd_form_cb cb = {on_field, on_begin, on_data, on_end};
    assert_int_equal(pd_form_init(&f, "", 10, &cb, &g), PD_FORM_EMALFORMED);
    assert_int_equal(pd_form_init(&f, "a\r\nb", 10, &cb, &g), PD_FORM_EMALFORMED);
    char b[PD_FORM_MAX_BOUNDARY + 1];
    assert_true(pd_form_boundary("multipart/form-data; boundary=abc", b, sizeof b));
    assert_string_equal(b, "abc");
    assert_true(
        pd_form_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"", b, sizeof b));
    assert_string_equal(b, "a b");
    assert_false(pd_form_boundary("multipart/form-data", b, sizeof b));
    assert_false(pd_form_boundary("application/x-www-form-urlencoded; boundary=x", b, sizeof b));
    assert_false(pd_form_boundary(NULL, b, sizeof b));
}

/* ---- the policy ---- */

#define NOW 1767225600000LL /* 2026-01-01 */

static int parse_policy(const char *text, struct pd_s3_postpolicy *p, char *msg)
{
    return pd_s3_postpolicy_parse(text, strlen(text), p, msg, 256);
}

static void test_policy_parse_errors(void **st)
{
    (void)st;
    struct pd_s3_postpolicy p;
    char msg[256];
    assert_int_equal(parse_policy("not json", &p, msg), PD_EINVAL);
    assert_string_equal(msg, "Invalid Policy: Invalid JSON.");
    assert_int_equal(parse_policy("{\"conditions\":[]}", &p, msg), PD_EINVAL);
    assert_string_equal(msg, "Invalid Policy: Policy missing expiration.");
    assert_int_equal(parse_policy("{\"expiration\":\"2030-01-01T00:00:00Z\"}", &p, msg), PD_EINVAL);
    assert_string_equal(msg, "Invalid Policy: Policy missing conditions.");
    assert_int_equal(
        parse_policy("{\"Expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[]}", &p, msg),
        PD_EINVAL); /* names are case sensitive */
    assert_int_equal(parse_policy("{\"expiration\":\"soon\",\"conditions\":[]}", &p, msg),
                     PD_EINVAL);
    assert_int_equal(parse_policy("{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":"
                                  "[[\"ends-with\",\"$key\",\"x\"]]}",
                                  &p, msg),
                     PD_EINVAL);
    assert_string_equal(msg, "Invalid Policy: Invalid Condition Operator: ends-with");
    assert_int_equal(parse_policy("{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":"
                                  "[[\"content-length-range\",10,1]]}",
                                  &p, msg),
                     PD_EINVAL);
    assert_int_equal(parse_policy("{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":"
                                  "[{\"a\":\"1\",\"b\":\"2\"}]}",
                                  &p, msg),
                     PD_EINVAL);
}

static enum pd_s3_pp check(const char *policy, const char *const *kv, char *msg)
{
    struct pd_s3_postpolicy p;
    struct pd_arena a;
    pd_arena_init(&a);
    assert_int_equal(parse_policy(policy, &p, msg), PD_OK);
    struct pd_kvs f = {0};
    for (size_t i = 0; kv[i]; i += 2)
        pd_kvs_add(&a, &f, kv[i], kv[i + 1], strlen(kv[i + 1]), 1);
    enum pd_s3_pp v = pd_s3_postpolicy_check(&p, &f, "the-bucket", NOW, msg, 256);
    pd_s3_postpolicy_free(&p);
    pd_arena_cleanup(&a);
    return v;
}

static void test_policy_check(void **st)
{
    (void)st;
    char msg[256];
    const char *pol =
        "{\"expiration\":\"2030-01-01T00:00:00.000Z\",\"conditions\":["
        "{\"bucket\":\"the-bucket\"},[\"Starts-With\",\"$Key\",\"user/\"],{\"acl\":\"private\"},"
        "[\"EQ\",\"$x-amz-meta-tag\",\"a,b\"],[\"starts-with\",\"$Content-Type\",\"\"],"
        "[\"content-length-range\",1,10]]}";
    const char *ok[] = {"key",
                        "user/pic.jpg",
                        "ACL",
                        "private",
                        "x-amz-meta-tag",
                        "a",
                        "x-amz-meta-tag",
                        "b",
                        "policy",
                        "eyJ9",
                        "x-ignore-this",
                        "1",
                        "AWSAccessKeyId",
                        "AKID",
                        "signature",
                        "s",
                        NULL};
    assert_int_equal(check(pol, ok, msg), PD_S3_PP_OK);
    /* starts-with "" also takes an absent field */
    const char *wrong_key[] = {"key", "other/pic.jpg", "acl", "private", "x-amz-meta-tag", "a,b",
                               NULL};
    assert_int_equal(check(pol, wrong_key, msg), PD_S3_PP_FAILED);
    assert_string_equal(msg, "Invalid according to Policy: Policy Condition failed: "
                             "[\"starts-with\", \"$Key\", \"user/\"]");
    const char *wrong_acl[] = {"key", "user/x", "acl", "public-read", "x-amz-meta-tag",
                               "a,b", NULL};
    assert_int_equal(check(pol, wrong_acl, msg), PD_S3_PP_FAILED);
    assert_string_equal(msg, "Invalid according to Policy: Policy Condition failed: "
                             "[\"eq\", \"$acl\", \"private\"]");
    const char *extra[] = {
        "key", "user/x", "acl", "private", "x-amz-meta-tag", "a,b", "success_action_status",
        "201", NULL};
    assert_int_equal(check(pol, extra, msg), PD_S3_PP_EXTRA);
    assert_string_equal(msg, "Invalid according to Policy: Extra input fields: "
                             "success_action_status");
    /* another bucket */
    const char *other_bucket =
        "{\"expiration\":\"2030-01-01T00:00:00Z\",\"conditions\":[{\"bucket\":\"b2\"}]}";
    const char *none[] = {NULL};
    assert_int_equal(check(other_bucket, none, msg), PD_S3_PP_FAILED);
    /* expired */
    const char *old =
        "{\"expiration\":\"2025-01-01T00:00:00Z\",\"conditions\":[{\"bucket\":\"the-bucket\"}]}";
    assert_int_equal(check(old, none, msg), PD_S3_PP_EXPIRED);
    assert_string_equal(msg, "Invalid according to Policy: Policy expired.");
    /* the content-length-range bounds are kept for the file */
    struct pd_s3_postpolicy p;
    assert_int_equal(parse_policy(pol, &p, msg), PD_OK);
    assert_true(p.has_range);
    assert_int_equal(p.min, 1);
    assert_int_equal(p.max, 10);
    pd_s3_postpolicy_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_every_split),
        cmocka_unit_test(test_form_errors),
        cmocka_unit_test(test_policy_parse_errors),
        cmocka_unit_test(test_policy_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
