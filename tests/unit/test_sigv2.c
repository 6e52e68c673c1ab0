/* test_sigv2.c - S3 Signature Version 2 (lib/sigv4/sigv2.c): the published vectors of the
 * S3 developer guide (RESTAuthentication: GET object, GET ?acl, ListBuckets, the DELETE
 * with x-amz-date, query authentication), the string to sign (sub-resources, amz headers,
 * x-amz-* query parameters, the x-amz-date placements), dates, and S3's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "sigv4/sigv2.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static struct pd_arena A;

static int setup(void **st)
{
    (void)st;
    pd_arena_init(&A);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    pd_arena_cleanup(&A);
    return 0;
}

static struct pd_kvs hdrs(const char *const *nv)
{
    struct pd_kvs h = {0};
    for (size_t i = 0; nv && nv[i]; i += 2)
        pd_kvs_add(&A, &h, nv[i], nv[i + 1], strlen(nv[i + 1]), 0);
    return h;
}

static void sig_is(const char *sts, const char *want)
{
    char sig[PD_SIGV2_SIG_B64_LEN + 1];
    pd_sigv2_signature(SECRET, sts, sig);
    assert_string_equal(sig, want);
}

static void test_vectors(void **st)
{
    (void)st;
    sig_is("GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
           "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    sig_is("GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl",
           "82ZHiFIjc+WbcwFKGUVEQspPn+0=");
    sig_is("GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/", "qGdzdERIC03wnaRNKh6OqZehG9s=");
}

static char *sts_of(const char *method, const char *path, const char *query, const char *bucket,
                    const char *const *nv, const char *expires, enum pd_sigv2_date d)
{
    struct pd_kvs h = hdrs(nv);
    struct pd_sigv2_request rq = {method, path, query, &h, bucket};
    char *out = NULL;
    assert_int_equal(pd_sigv2_string_to_sign(&A, &rq, expires, d, &out), PD_OK);
    return out;
}

static void test_string_to_sign(void **st)
{
    (void)st;
    const char *get[] = {"Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com", "Date",
                         "Tue, 27 Mar 2007 19:36:42 +0000", NULL};
    assert_string_equal(
        sts_of("GET", "/photos/puppy.jpg", "", "awsexamplebucket1", get, NULL, 0),
        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg");
    const char *acl[] = {"Date", "Tue, 27 Mar 2007 19:44:46 +0000", NULL};
    assert_string_equal(sts_of("GET", "/", "acl", "awsexamplebucket1", acl, NULL, 0),
                        "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl");
    /* path style: the path as sent names the bucket */
    assert_string_equal(sts_of("GET", "/awsexamplebucket1/", "acl", NULL, acl, NULL, 0),
                        "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl");
    const char *list[] = {"Date", "Wed, 28 Mar 2007 01:29:59 +0000", NULL};
    assert_string_equal(sts_of("GET", "/", "", NULL, list, NULL, 0),
                        "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/");
    /* sub-resources sorted, other parameters left out, values decoded, keys still encoded */
    const char *none[] = {NULL};
    assert_string_equal(sts_of("GET", "/b/a%20key", "versionId=v%2B1&prefix=x&uploads&max-keys=2",
                               NULL, none, NULL, 0),
                        "GET\n\n\n\n/b/a%20key?uploads&versionId=v+1");
    assert_string_equal(sts_of("GET", "/b/k", "response-content-disposition=attachment%3B%20f&acl",
                               NULL, none, NULL, 0),
                        "GET\n\n\n\n/b/k?acl&response-content-disposition=attachment; f");
    /* amz headers: lower-cased, sorted, a repeated one joined with ',', values trimmed;
     * Content-MD5 and Content-Type in their slots */
    const char *put[] = {"Content-Type",
                         "text/plain",
                         "content-md5",
                         "4gJE4saaMU4BqNR0kLY+lw==",
                         "X-Amz-Meta-B",
                         " two ",
                         "x-amz-acl",
                         "public-read",
                         "x-amz-meta-b",
                         "three",
                         "Date",
                         "Tue, 27 Mar 2007 21:06:08 +0000",
                         NULL};
    assert_string_equal(sts_of("PUT", "/b/k", "", NULL, put, NULL, 0),
                        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\ntext/plain\nTue, 27 Mar 2007 21:06:08 "
                        "+0000\nx-amz-acl:public-read\nx-amz-meta-b:two,three\n/b/k");
    /* query authentication: Expires in the Date slot, x-amz-* parameters as amz headers */
    assert_string_equal(sts_of("GET", "/b/k",
                               "AWSAccessKeyId=AKID&Expires=1175139620&x-amz-security-token=T%2Fok"
                               "&Signature=x",
                               NULL, none, "1175139620", 0),
                        "GET\n\n\n1175139620\nx-amz-security-token:T/ok\n/b/k");
}

static void test_amz_date_placements(void **st)
{
    (void)st;
    const char *del[] = {"Host",       "awsexamplebucket1.s3.us-west-1.amazonaws.com",
                         "x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000",
                         "User-Agent", "dotnet",
                         NULL};
    char *doc = sts_of("DELETE", "/photos/puppy.jpg", "", "awsexamplebucket1", del, NULL,
                       PD_SIGV2_DATE_SLOT);
    assert_string_equal(
        doc, "DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg");
    sig_is(doc, "XbyTlbQdu9Xw5o8P4iMwPktxQd8=");
    assert_string_equal(sts_of("DELETE", "/photos/puppy.jpg", "", "awsexamplebucket1", del, NULL,
                               PD_SIGV2_DATE_HEADER),
                        "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 "
                        "+0000\n/awsexamplebucket1/photos/puppy.jpg");

    /* verification accepts the example as signed, at its own time */
    struct pd_kvs h = hdrs(del);
    struct pd_sigv2_request rq = {"DELETE", "/photos/puppy.jpg", "", &h, "awsexamplebucket1"};
    struct pd_sigv2_auth au = {0};
    struct pd_sigv4_result res;
    const char *hv[] = {"Authorization",
                        "AWS AKIAIOSFODNN7EXAMPLE:XbyTlbQdu9Xw5o8P4iMwPktxQd8=", "x-amz-date",
                        "Tue, 27 Mar 2007 21:20:26 +0000", NULL};
    struct pd_kvs ah = hdrs(hv);
    assert_int_equal(pd_sigv2_parse(&A, &ah, "", &au, &res), PD_OK);
    assert_string_equal(au.akid, "AKIAIOSFODNN7EXAMPLE");
    assert_false(au.presigned);
    int64_t t;
    assert_int_equal(pd_sigv2_parse_date("Tue, 27 Mar 2007 21:20:26 +0000", &t), PD_OK);
    struct pd_sigv2_verify_opts o = {t + 1000, t + 1000};
    assert_int_equal(pd_sigv2_verify(&A, &au, &rq, SECRET, &o, &res), PD_OK);
    /* the other placement too (what botocore signs) */
    char sig[PD_SIGV2_SIG_B64_LEN + 1];
    pd_sigv2_signature(SECRET,
                       sts_of("DELETE", "/photos/puppy.jpg", "", "awsexamplebucket1", del, NULL,
                              PD_SIGV2_DATE_HEADER),
                       sig);
    au.signature = sig;
    assert_int_equal(pd_sigv2_verify(&A, &au, &rq, SECRET, &o, &res), PD_OK);
    /* a wrong one: S3's elements, the documented string */
    au.signature = "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=";
    assert_int_equal(pd_sigv2_verify(&A, &au, &rq, SECRET, &o, &res), PD_ESIG);
    assert_string_equal(res.code, "SignatureDoesNotMatch");
    assert_int_equal(res.status, 403);
    assert_string_equal(pd_kvs_get(&res.extra, "AWSAccessKeyId", 0), "AKIAIOSFODNN7EXAMPLE");
    assert_string_equal(pd_kvs_get(&res.extra, "SignatureProvided", 0),
                        "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    assert_string_equal(pd_kvs_get(&res.extra, "StringToSign", 0),
                        "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 "
                        "+0000\n/awsexamplebucket1/photos/puppy.jpg");
    assert_true(
        strncmp(pd_kvs_get(&res.extra, "StringToSignBytes", 0), "44 45 4c 45 54 45 0a", 20) == 0);
    /* too far from the client's clock */
    o.now_ms = t + 16 * 60 * 1000;
    au.signature = "XbyTlbQdu9Xw5o8P4iMwPktxQd8=";
    assert_int_equal(pd_sigv2_verify(&A, &au, &rq, SECRET, &o, &res), PD_ESIG);
    assert_string_equal(res.code, "RequestTimeTooSkewed");
    assert_string_equal(pd_kvs_get(&res.extra, "MaxAllowedSkewMilliseconds", 0), "900000");
}

static void test_query_auth(void **st)
{
    (void)st;
    const char *q = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature="
                    "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D";
    struct pd_kvs h = {0};
    assert_true(pd_sigv2_detect(&h, q));
    struct pd_sigv2_auth au;
    struct pd_sigv4_result res;
    assert_int_equal(pd_sigv2_parse(&A, &h, q, &au, &res), PD_OK);
    assert_true(au.presigned);
    assert_string_equal(au.signature, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
    assert_string_equal(au.expires_raw, "1175139620");
    struct pd_sigv2_request rq = {"GET", "/photos/puppy.jpg", q, &h, "johnsmith"};
    /* Expires is checked against the server's clock, whatever the client's says */
    struct pd_sigv2_verify_opts o = {0, 1175139620000LL - 1000};
    assert_int_equal(pd_sigv2_verify(&A, &au, &rq, SECRET, &o, &res), PD_OK);
    o.expires_ms = 1175139621000LL;
    assert_int_equal(pd_sigv2_verify(&A, &au, &rq, SECRET, &o, &res), PD_ESIG);
    assert_string_equal(res.code, "AccessDenied");
    assert_string_equal(res.message, "Request has expired");
    assert_string_equal(pd_kvs_get(&res.extra, "Expires", 0), "2007-03-29T03:40:20Z");
    /* a literal '+' left in the signature is a '+' */
    const char *q2 = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature="
                     "NpgCjnDzrM+WFzoENXmpNDUsSn8%3D";
    assert_int_equal(pd_sigv2_parse(&A, &h, q2, &au, &res), PD_OK);
    assert_string_equal(au.signature, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
    /* missing parameters */
    assert_int_equal(pd_sigv2_parse(&A, &h, "AWSAccessKeyId=AKID&Signature=x", &au, &res), PD_ESIG);
    assert_string_equal(res.code, "AccessDenied");
    /* a query parameter name that does not decode (the amz headers built so far are freed:
     * an ASan build catches a leak here) */
    char *sts;
    struct pd_kvs amz = {0};
    pd_kvs_add(&A, &amz, "x-amz-meta-a", "1", 1, 0);
    struct pd_sigv2_request bad = {"GET", "/b/k", "x-amz-%zz=1&Expires=1", &amz, NULL};
    assert_int_equal(pd_sigv2_string_to_sign(&A, &bad, "1", PD_SIGV2_DATE_HEADER, &sts), PD_EINVAL);
    /* SigV4 presigned URLs are not SigV2 */
    assert_false(pd_sigv2_detect(&h, "X-Amz-Credential=a&X-Amz-Signature=b&Signature=c"));
    assert_false(pd_sigv2_detect(&h, "prefix=AWSAccessKeyId"));
}

static void test_header_errors(void **st)
{
    (void)st;
    struct pd_sigv2_auth au;
    struct pd_sigv4_result res;
    const char *bad[] = {"Authorization", "AWS HAHAHA", NULL};
    struct pd_kvs h = hdrs(bad);
    assert_true(pd_sigv2_detect(&h, ""));
    assert_int_equal(pd_sigv2_parse(&A, &h, "", &au, &res), PD_EINVAL);
    assert_string_equal(res.code, "InvalidArgument");
    assert_int_equal(res.status, 400);
    assert_string_equal(res.message,
                        "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature");
    assert_string_equal(pd_kvs_get(&res.extra, "ArgumentValue", 0), "AWS HAHAHA");
    const char *v4[] = {"Authorization", "AWS4-HMAC-SHA256 Credential=a", NULL};
    h = hdrs(v4);
    assert_false(pd_sigv2_detect(&h, ""));
    /* no date at all */
    const char *nodate[] = {"Authorization", "AWS AKID:c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmE=", NULL};
    h = hdrs(nodate);
    assert_int_equal(pd_sigv2_parse(&A, &h, "", &au, &res), PD_OK);
    struct pd_sigv2_request rq = {"GET", "/", "", &h, NULL};
    struct pd_sigv2_verify_opts o = {1175139620000LL, 1175139620000LL};
    assert_int_equal(pd_sigv2_precheck(&A, &au, &rq, &o, &res), PD_ESIG);
    assert_string_equal(res.code, "AccessDenied");
    assert_string_equal(res.message,
                        "AWS authentication requires a valid Date or x-amz-date header");
    /* both header and query authentication */
    const char *both[] = {"Authorization", "AWS AKID:sig", NULL};
    h = hdrs(both);
    assert_int_equal(pd_sigv2_parse(&A, &h, "AWSAccessKeyId=AKID&Signature=s&Expires=1", &au, &res),
                     PD_EINVAL);
    assert_string_equal(res.code, "InvalidArgument");
}

static void test_dates(void **st)
{
    (void)st;
    int64_t a, b;
    assert_int_equal(pd_sigv2_parse_date("Tue, 27 Mar 2007 19:36:42 +0000", &a), PD_OK);
    assert_int_equal(pd_sigv2_parse_date("Tue, 27 Mar 2007 19:36:42 GMT", &b), PD_OK);
    assert_true(a == b);
    assert_int_equal(pd_sigv2_parse_date("20070327T193642Z", &b), PD_OK);
    assert_true(a == b);
    assert_int_equal(pd_sigv2_parse_date("Tue, 27 Mar 2007 21:36:42 +0200", &b), PD_OK);
    assert_true(a == b);
    assert_int_equal(pd_sigv2_parse_date("Sun, 1 Apr 2007 00:00:00 GMT", &b), PD_OK);
    assert_int_equal(pd_sigv2_parse_date("Tue, 27 Mar 2007 19:36:42", &b), PD_EINVAL);
    assert_int_equal(pd_sigv2_parse_date("Tue, 30 Feb 2007 19:36:42 GMT", &b), PD_EINVAL);
    assert_int_equal(pd_sigv2_parse_date("", &b), PD_EINVAL);
    assert_int_equal(pd_sigv2_parse_date("yesterday", &b), PD_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_to_sign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_amz_date_placements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
