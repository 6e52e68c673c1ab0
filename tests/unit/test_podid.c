/* test_podid.c - EKS Pod Identity's pure rules (services/podid.h): which pod tokens pass
 * (audience, subject, pod binding, times), the session tags EKS attaches and the session
 * name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "services/podid.h"

#define NOW 1767225600

static json_t *claims(const char *ns, const char *sa, const char *pod)
{
    json_t *k = json_pack("{s:s, s:{s:s, s:s}}", "namespace", ns, "serviceaccount", "name", sa,
                          "uid", "u-sa");
    if (pod)
        json_object_set_new(k, "pod", json_pack("{s:s, s:s}", "name", pod, "uid", "u-pod"));
    char sub[256];
    snprintf(sub, sizeof sub, "system:serviceaccount:%s:%s", ns, sa);
    return json_pack("{s:[s], s:s, s:I, s:I, s:I, s:o, s:s}", "aud", PD_PODID_AUDIENCE, "sub", sub,
                     "iat", (json_int_t)NOW - 10, "nbf", (json_int_t)NOW - 10, "exp",
                     (json_int_t)NOW + 3600, "kubernetes.io", k, "iss",
                     "https://oidc.eks.us-east-1.amazonaws.com/id/X");
}

static enum pd_podid_verdict check(json_t *c, const char **why)
{
    struct pd_podid_subject s;
    enum pd_podid_verdict v = pd_podid_check_claims(c, NOW, &s, why);
    json_decref(c);
    return v;
}

static void test_good_token(void **state)
{
    (void)state;
    json_t *c = claims("team-a", "app", "web-0");
    struct pd_podid_subject s;
    const char *why = "x";
    assert_int_equal(pd_podid_check_claims(c, NOW, &s, &why), PD_PODID_OK);
    assert_null(why);
    assert_string_equal(s.ns, "team-a");
    assert_string_equal(s.sa, "app");
    assert_string_equal(s.pod, "web-0");
    assert_string_equal(s.pod_uid, "u-pod");
    json_decref(c);

    /* aud as a string; several audiences */
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "aud", json_string(PD_PODID_AUDIENCE));
    assert_int_equal(check(c, &why), PD_PODID_OK);
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "aud", json_pack("[s, s]", "sts.amazonaws.com", PD_PODID_AUDIENCE));
    assert_int_equal(check(c, &why), PD_PODID_OK);
}

static void test_refused(void **state)
{
    (void)state;
    const char *why;
    /* wrong or missing audience */
    json_t *c = claims("ns", "sa", "p");
    json_object_set_new(c, "aud", json_pack("[s]", "sts.amazonaws.com"));
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    assert_non_null(strstr(why, "audience"));
    c = claims("ns", "sa", "p");
    json_object_del(c, "aud");
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    /* expired (exp == now too), no exp, exp not an integer, nbf / iat too far ahead */
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "exp", json_integer(NOW));
    assert_int_equal(check(c, &why), PD_PODID_EXPIRED);
    c = claims("ns", "sa", "p");
    json_object_del(c, "exp");
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "exp", json_real(NOW + 100.0));
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "nbf", json_integer(NOW + 61));
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "iat", json_integer(NOW + 60)); /* within the leeway */
    assert_int_equal(check(c, &why), PD_PODID_OK);
    /* not bound to a pod */
    c = claims("ns", "sa", NULL);
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    assert_non_null(strstr(why, "not bound to a pod"));
    /* sub and kubernetes.io disagree */
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "sub", json_string("system:serviceaccount:other:sa"));
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "sub", json_string("system:serviceaccount:ns:sa2"));
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    c = claims("ns", "sa", "p");
    json_object_set_new(c, "sub", json_string("alice"));
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    /* a namespace with a NUL does not match a prefix */
    c = claims("ns", "sa", "p");
    json_object_set_new(json_object_get(c, "kubernetes.io"), "namespace", json_stringn("ns\0x", 4));
    assert_int_equal(check(c, &why), PD_PODID_BAD);
    /* not an object */
    json_t *arr = json_array();
    assert_int_equal(check(arr, &why), PD_PODID_BAD);
}

static void test_tags_and_session_name(void **state)
{
    (void)state;
    struct pd_podid_subject s = {.ns = "team-a", .sa = "app", .pod = "web-0", .pod_uid = "u1"};
    json_t *t =
        pd_podid_session_tags("arn:aws:eks:us-east-1:000000000000:cluster/demo", "demo", &s);
    assert_int_equal(json_object_size(t), 6);
    assert_string_equal(json_string_value(json_object_get(t, "eks-cluster-arn")),
                        "arn:aws:eks:us-east-1:000000000000:cluster/demo");
    assert_string_equal(json_string_value(json_object_get(t, "eks-cluster-name")), "demo");
    assert_string_equal(json_string_value(json_object_get(t, "kubernetes-namespace")), "team-a");
    assert_string_equal(json_string_value(json_object_get(t, "kubernetes-service-account")), "app");
    assert_string_equal(json_string_value(json_object_get(t, "kubernetes-pod-name")), "web-0");
    assert_string_equal(json_string_value(json_object_get(t, "kubernetes-pod-uid")), "u1");
    json_decref(t);

    struct pd_arena a;
    pd_arena_init(&a);
    assert_string_equal(pd_podid_session_name(&a, "demo", "web-0", "0123"), "eks-demo-web-0-0123");
    const char *long_name = pd_podid_session_name(&a, "a-very-long-cluster-name-for-testing",
                                                  "a-very-long-pod-name-0123456789",
                                                  "4f1c2a8e-1111-2222-3333-444455556666");
    assert_int_equal(strlen(long_name), 64);
    assert_true(strncmp(long_name, "eks-a-very-long-cluster-name-for-testing-", 41) == 0);
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_token),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_tags_and_session_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
