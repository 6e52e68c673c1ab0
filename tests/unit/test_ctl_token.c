/* test_ctl_token.c - unit tests for client/token.c (decoding a JWT for display, relative
 * times) and client/k8s.c's EKS bearer token, checked with the server's SigV4 verifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "sigv4/sigv4.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/str.h"
#include "http.h"
#include "k8s.h"
#include "token.h"

/* {"alg":"RS256","kid":"k1"} . {"iss":"https://i","sub":"s","aud":["a","b"],"exp":100} . "sig" */
#define HDR "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0"
#define CLM "eyJpc3MiOiJodHRwczovL2kiLCJzdWIiOiJzIiwiYXVkIjpbImEiLCJiIl0sImV4cCI6MTAwfQ"

static void decode(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pdc_token t;
    assert_int_equal(pdc_token_decode(&a, "  " HDR "." CLM ".c2ln\n", &t), PD_OK);
    assert_string_equal(json_string_value(json_object_get(t.header, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(t.header, "kid")), "k1");
    assert_string_equal(json_string_value(json_object_get(t.claims, "iss")), "https://i");
    assert_int_equal(json_integer_value(json_object_get(t.claims, "exp")), 100);
    assert_int_equal(t.sig_len, 3);
    json_t *aud = pdc_token_aud(t.claims);
    assert_int_equal(json_array_size(aud), 2);
    assert_string_equal(json_string_value(json_array_get(aud, 1)), "b");
    json_decref(aud);
    pdc_token_free(&t);

    /* unsigned tokens still decode (so they can be shown and refused with a reason) */
    assert_int_equal(pdc_token_decode(&a, "eyJhbGciOiJub25lIn0." CLM ".", &t), PD_OK);
    assert_string_equal(json_string_value(json_object_get(t.header, "alg")), "none");
    assert_int_equal(t.sig_len, 0);
    pdc_token_free(&t);

    static const struct {
        const char *tok, *reason;
    } bad[] = {
        {"abc", "a JWT has three parts separated by '.' (header.claims.signature)"},
        {HDR "." CLM, "a JWT has three parts separated by '.' (header.claims.signature)"},
        {HDR "." CLM ".x.y", "a JWT has three parts separated by '.' (header.claims.signature)"},
        {"!!!." CLM ".c2ln", "the header is not base64url"},
        {"WzFd." CLM ".c2ln", "the header is not a JSON object"}, /* [1] */
        {HDR ".bm90IGpzb24.c2ln", "the claims part is not a JSON object"},
        {HDR "." CLM ".!!", "the signature is not base64url"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pdc_token_decode(&a, bad[i].tok, &t), PD_EINVAL);
        assert_string_equal(t.reason, bad[i].reason);
        pdc_token_free(&t);
    }
    pd_arena_cleanup(&a);
}

static void aud_forms(void **state)
{
    json_t *c = json_pack("{s:s}", "aud", "one");
    json_t *aud = pdc_token_aud(c);
    assert_int_equal(json_array_size(aud), 1);
    assert_string_equal(json_string_value(json_array_get(aud, 0)), "one");
    json_decref(aud);
    json_decref(c);
    c = json_pack("{s:[s,i,s]}", "aud", "x", 5, "y"); /* non-strings ignored */
    aud = pdc_token_aud(c);
    assert_int_equal(json_array_size(aud), 2);
    json_decref(aud);
    json_decref(c);
    c = json_pack("{s:i}", "aud", 3);
    aud = pdc_token_aud(c);
    assert_int_equal(json_array_size(aud), 0);
    json_decref(aud);
    json_decref(c);
}

static void times(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = 1795751525; /* 2026-11-27T03:52:05Z */
    assert_string_equal(pdc_time_rel(&a, now, now), "2026-11-27T03:52:05Z (now)");
    assert_string_equal(pdc_time_rel(&a, now + 3600, now), "2026-11-27T04:52:05Z (in 1h00m)");
    assert_string_equal(pdc_time_rel(&a, now - 42, now), "2026-11-27T03:51:23Z (42s ago)");
    assert_string_equal(pdc_time_rel(&a, now - 125, now), "2026-11-27T03:50:00Z (2m05s ago)");
    assert_string_equal(pdc_time_rel(&a, now + 86400 + 7200, now),
                        "2026-11-28T05:52:05Z (in 1d2h)");
    pd_arena_cleanup(&a);
}

/* The bearer token podiamctl sends to a cluster: k8s-aws-v1. + base64url (no padding) of a
 * presigned GetCallerIdentity URL with x-k8s-aws-id signed; the server's verifier accepts
 * it with the cluster name re-added and refuses it for another cluster. */
static void eks_token(void **state)
{
    struct pdc_ctx c;
    pdc_ctx_init(&c, "http://127.0.0.1:4566/", "eu-west-1", NULL);
    c.akid = "AKIDEXAMPLE";
    c.secret = "secret";
    c.token = NULL;
    assert_string_equal(c.endpoint, "http://127.0.0.1:4566");
    const char *tok;
    assert_int_equal(pdc_eks_token(&c, "demo", &tok), PD_OK);
    assert_true(pd_has_prefix(tok, "k8s-aws-v1."));
    const char *b64 = tok + 11;
    assert_null(strchr(b64, '='));
    assert_null(strchr(b64, '+'));
    assert_null(strchr(b64, '/'));
    unsigned char *raw;
    size_t n;
    assert_int_equal(pd_base64_decode(&c.arena, b64, strlen(b64), &raw, &n), PD_OK);
    char *url = pd_arena_strndup(&c.arena, (const char *)raw, n);
    assert_true(pd_has_prefix(url, "http://127.0.0.1:4566/?Action=GetCallerIdentity&"
                                   "Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
    assert_non_null(strstr(url, "X-Amz-Credential=AKIDEXAMPLE%2F"));
    assert_non_null(strstr(url, "%2Feu-west-1%2Fsts%2Faws4_request"));
    assert_non_null(strstr(url, "X-Amz-Expires=60"));
    assert_non_null(strstr(url, "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"));

    const char *query = strchr(url, '?') + 1;
    for (int k = 0; k < 2; k++) {
        struct pd_kvs hdrs = {0};
        const char *cluster = k == 0 ? "demo" : "other";
        pd_kvs_add(&c.arena, &hdrs, "host", "127.0.0.1:4566", 14, 0);
        pd_kvs_add(&c.arena, &hdrs, "x-k8s-aws-id", cluster, strlen(cluster), 0);
        struct pd_sigv4_auth auth;
        struct pd_sigv4_result res;
        assert_int_equal(pd_sigv4_parse(&c.arena, PD_SIGV4_AWS, &hdrs, query, &auth, &res), PD_OK);
        assert_int_equal(auth.presigned, 1);
        struct pd_sigv4_request rq = {"GET", "/", query, &hdrs, PD_SIGV4_EMPTY_SHA256, 1};
        struct pd_sigv4_verify_opts o = {PD_SIGV4_AWS, "eu-west-1", "sts",
                                         (int64_t)time(NULL) * 1000, NULL};
        int rc = pd_sigv4_verify(&c.arena, &auth, &rq, "secret", &o, &res);
        if (k == 0)
            assert_int_equal(rc, PD_OK);
        else
            assert_int_not_equal(rc, PD_OK);
    }
    pdc_ctx_cleanup(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode),
        cmocka_unit_test(aud_forms),
        cmocka_unit_test(times),
        cmocka_unit_test(eks_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
