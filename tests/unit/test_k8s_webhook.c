/* test_k8s_webhook.c - unit tests for emulator/k8s/webhook.c: one test per rule of
 * reference/aws-wire-facts.md §2 (IRSA mode of amazon-eks-pod-identity-webhook). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/webhook.h"

#define ROLE "arn:aws:iam::111122223333:role/s3-reader"
#define TOKEN_FILE "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
#define MOUNT                                                                                      \
    "{\"name\":\"aws-iam-token\",\"readOnly\":true,"                                               \
    "\"mountPath\":\"/var/run/secrets/eks.amazonaws.com/serviceaccount\"}"
#define ROLE_ENV                                                                                   \
    "{\"name\":\"AWS_ROLE_ARN\",\"value\":\"" ROLE "\"},"                                          \
    "{\"name\":\"AWS_WEB_IDENTITY_TOKEN_FILE\",\"value\":\"" TOKEN_FILE "\"}"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fail_msg("bad test JSON (%s) at %d: %s", e.text, e.position, text);
    return v;
}

static void assert_json(const json_t *got, const char *want_text)
{
    json_t *want = J(want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
        print_error("got:  %s\nwant: %s\n", g, w);
        free(g);
        free(w);
        json_decref(want);
        fail();
    }
    json_decref(want);
}

static json_t *sa_with(const char *annotations_json)
{
    json_t *sa = J("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
                   "\"metadata\":{\"name\":\"s3-reader\",\"namespace\":\"default\"}}");
    json_object_set_new(json_object_get(sa, "metadata"), "annotations", J(annotations_json));
    return sa;
}

static json_t *role_sa(void)
{
    return sa_with("{\"eks.amazonaws.com/role-arn\":\"" ROLE "\"}");
}

/* Mutates pod_text with sa and cfg, checks the return value, returns the pod. */
static json_t *run(const char *pod_text, const json_t *sa, const struct pd_k8s_webhook_cfg *cfg,
                   int want_rc)
{
    json_t *pod = J(pod_text);
    assert_int_equal(pd_k8s_webhook_mutate(pod, sa, cfg), want_rc);
    return pod;
}

/* The token volume of the first volume entry, for rule tests that only look at it. */
static json_t *token_source(json_t *pod)
{
    json_t *vol = json_array_get(json_object_get(json_object_get(pod, "spec"), "volumes"), 0);
    assert_string_equal(json_string_value(json_object_get(vol, "name")), "aws-iam-token");
    json_t *src = json_array_get(json_object_get(json_object_get(vol, "projected"), "sources"), 0);
    return json_object_get(src, "serviceAccountToken");
}

static json_t *container_env(json_t *pod, const char *list, size_t i)
{
    json_t *c = json_array_get(json_object_get(json_object_get(pod, "spec"), list), i);
    return json_object_get(c, "env");
}

static const char *POD_ONE =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
    "\"spec\":{\"serviceAccountName\":\"s3-reader\","
    "\"containers\":[{\"name\":\"app\",\"image\":\"amazonlinux\"}]}}";

/* ---- the main case, written out in full ---- */

static void test_main_case(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults("us-west-2");
    json_t *pod = run("{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                      "\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
                      "\"spec\":{\"serviceAccountName\":\"s3-reader\","
                      "\"containers\":[{\"name\":\"app\",\"image\":\"amazonlinux\","
                      "\"env\":[{\"name\":\"FOO\",\"value\":\"bar\"}],"
                      "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}]}],"
                      "\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}}]}}",
                      sa, &cfg, 1);
    assert_json(pod, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                     "\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
                     "\"spec\":{\"serviceAccountName\":\"s3-reader\","
                     "\"containers\":[{\"name\":\"app\",\"image\":\"amazonlinux\","
                     "\"env\":[{\"name\":\"FOO\",\"value\":\"bar\"},"
                     "{\"name\":\"AWS_DEFAULT_REGION\",\"value\":\"us-west-2\"},"
                     "{\"name\":\"AWS_REGION\",\"value\":\"us-west-2\"}," ROLE_ENV "],"
                     "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\"}," MOUNT "]}],"
                     "\"volumes\":[{\"name\":\"aws-iam-token\",\"projected\":{\"sources\":["
                     "{\"serviceAccountToken\":{\"audience\":\"sts.amazonaws.com\","
                     "\"expirationSeconds\":86400,\"path\":\"token\"}}]}},"
                     "{\"name\":\"data\",\"emptyDir\":{}}]}}");
    json_decref(pod);
    json_decref(sa);
}

static void test_no_volumes_creates_list(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    json_t *pod = run(POD_ONE, sa, &cfg, 1);
    assert_json(pod, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                     "\"spec\":{\"serviceAccountName\":\"s3-reader\","
                     "\"containers\":[{\"name\":\"app\",\"image\":\"amazonlinux\","
                     "\"env\":[" ROLE_ENV "],\"volumeMounts\":[" MOUNT "]}],"
                     "\"volumes\":[{\"name\":\"aws-iam-token\",\"projected\":{\"sources\":["
                     "{\"serviceAccountToken\":{\"audience\":\"sts.amazonaws.com\","
                     "\"expirationSeconds\":86400,\"path\":\"token\"}}]}}]}}");
    json_decref(pod);
    json_decref(sa);
}

/* ---- nothing happens ---- */

static void test_no_role_untouched(void **state)
{
    (void)state;
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults("us-west-2");
    json_t *plain = sa_with("{\"eks.amazonaws.com/audience\":\"x\"}");
    json_t *empty = sa_with("{\"eks.amazonaws.com/role-arn\":\"\"}");
    json_t *wrong = sa_with("{\"eks.amazonaws.com/role-arn\":5}");
    const json_t *sas[] = {NULL, plain, empty, wrong};
    for (size_t i = 0; i < 4; i++) {
        json_t *pod = run(POD_ONE, sas[i], &cfg, 0);
        assert_json(pod, POD_ONE);
        json_decref(pod);
    }
    /* The role on the pod instead of the service account does nothing either. */
    json_t *pod = run("{\"metadata\":{\"annotations\":{\"eks.amazonaws.com/role-arn\":\"" ROLE
                      "\"}},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
                      plain, &cfg, 0);
    assert_null(json_object_get(json_object_get(pod, "spec"), "volumes"));
    json_decref(pod);
    json_decref(plain);
    json_decref(empty);
    json_decref(wrong);
}

static void test_second_run_is_a_no_op(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults("eu-west-1");
    cfg.sts_regional_endpoints = 1;
    json_t *pod = run(POD_ONE, sa, &cfg, 1);
    json_t *once = json_deep_copy(pod);
    assert_int_equal(pd_k8s_webhook_mutate(pod, sa, &cfg), 0);
    assert_true(json_equal(pod, once));
    assert_int_equal(json_array_size(json_object_get(json_object_get(pod, "spec"), "volumes")), 1);
    json_decref(once);
    json_decref(pod);
    json_decref(sa);
}

static void test_existing_volume_not_added_again(void **state)
{
    (void)state;
    /* Reinvocation: the volume is there, one container done, a second one not yet: the
     * volume is left alone and the second container still gets env and mount. */
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    json_t *pod = run("{\"spec\":{\"containers\":["
                      "{\"name\":\"a\",\"env\":[" ROLE_ENV "],\"volumeMounts\":[" MOUNT "]},"
                      "{\"name\":\"sidecar\"}],"
                      "\"volumes\":[{\"name\":\"aws-iam-token\",\"hostPath\":{\"path\":\"/x\"}}]}}",
                      sa, &cfg, 1);
    assert_json(pod, "{\"spec\":{\"containers\":["
                     "{\"name\":\"a\",\"env\":[" ROLE_ENV "],\"volumeMounts\":[" MOUNT "]},"
                     "{\"name\":\"sidecar\",\"env\":[" ROLE_ENV "],\"volumeMounts\":[" MOUNT "]}],"
                     "\"volumes\":[{\"name\":\"aws-iam-token\",\"hostPath\":{\"path\":\"/x\"}}]}}");
    json_decref(pod);
    json_decref(sa);
}

static void test_existing_mount_kept(void **state)
{
    (void)state;
    /* A container that already mounts aws-iam-token (any path) gets env but no second mount
     * (testdata/rawPodHasVolumeMount.pod.yaml). */
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    json_t *pod = run("{\"spec\":{\"containers\":[{\"name\":\"a\",\"volumeMounts\":["
                      "{\"name\":\"aws-iam-token\",\"mountPath\":\"/elsewhere\"}]}]}}",
                      sa, &cfg, 1);
    json_t *c = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
    assert_json(json_object_get(c, "volumeMounts"),
                "[{\"name\":\"aws-iam-token\",\"mountPath\":\"/elsewhere\"}]");
    assert_json(json_object_get(c, "env"), "[" ROLE_ENV "]");
    json_decref(pod);
    json_decref(sa);
}

/* ---- annotations and precedence ---- */

static void test_audience_sa_over_flag(void **state)
{
    (void)state;
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    cfg.audience = "flag-audience";
    json_t *pod = run(POD_ONE, NULL, &cfg, 0);
    json_decref(pod);
    json_t *sa = role_sa();
    pod = run(POD_ONE, sa, &cfg, 1);
    assert_string_equal(json_string_value(json_object_get(token_source(pod), "audience")),
                        "flag-audience");
    json_decref(pod);
    json_decref(sa);
    sa = sa_with("{\"eks.amazonaws.com/role-arn\":\"" ROLE "\","
                 "\"eks.amazonaws.com/audience\":\"my-aud\"}");
    pod = run(POD_ONE, sa, &cfg, 1);
    assert_string_equal(json_string_value(json_object_get(token_source(pod), "audience")),
                        "my-aud");
    json_decref(pod);
    json_decref(sa);
}

static void test_regional_sts(void **state)
{
    (void)state;
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults("us-east-2");
    /* SA annotation "true": AWS_STS_REGIONAL_ENDPOINTS comes first, then region, then role. */
    json_t *sa = sa_with("{\"eks.amazonaws.com/role-arn\":\"" ROLE "\","
                         "\"eks.amazonaws.com/sts-regional-endpoints\":\"true\"}");
    json_t *pod = run(POD_ONE, sa, &cfg, 1);
    assert_json(container_env(pod, "containers", 0),
                "[{\"name\":\"AWS_STS_REGIONAL_ENDPOINTS\",\"value\":\"regional\"},"
                "{\"name\":\"AWS_DEFAULT_REGION\",\"value\":\"us-east-2\"},"
                "{\"name\":\"AWS_REGION\",\"value\":\"us-east-2\"}," ROLE_ENV "]");
    json_decref(pod);
    json_decref(sa);
    /* Flag on, SA says "false": off. */
    cfg.sts_regional_endpoints = 1;
    cfg.region = NULL;
    sa = sa_with("{\"eks.amazonaws.com/role-arn\":\"" ROLE "\","
                 "\"eks.amazonaws.com/sts-regional-endpoints\":\"false\"}");
    pod = run(POD_ONE, sa, &cfg, 1);
    assert_json(container_env(pod, "containers", 0), "[" ROLE_ENV "]");
    json_decref(pod);
    json_decref(sa);
    /* Not a Go boolean: the flag stays. */
    sa = sa_with("{\"eks.amazonaws.com/role-arn\":\"" ROLE "\","
                 "\"eks.amazonaws.com/sts-regional-endpoints\":\"yes\"}");
    pod = run(POD_ONE, sa, &cfg, 1);
    assert_json(container_env(pod, "containers", 0),
                "[{\"name\":\"AWS_STS_REGIONAL_ENDPOINTS\",\"value\":\"regional\"}," ROLE_ENV "]");
    json_decref(pod);
    json_decref(sa);
    /* Already set by the user: not added again. */
    sa = role_sa();
    pod = run("{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":["
              "{\"name\":\"AWS_STS_REGIONAL_ENDPOINTS\",\"value\":\"legacy\"}]}]}}",
              sa, &cfg, 1);
    assert_json(container_env(pod, "containers", 0),
                "[{\"name\":\"AWS_STS_REGIONAL_ENDPOINTS\",\"value\":\"legacy\"}," ROLE_ENV "]");
    json_decref(pod);
    json_decref(sa);
}

static long long expiration_for(const char *sa_exp, const char *pod_exp)
{
    char sa_ann[256], pod_text[512];
    snprintf(sa_ann, sizeof sa_ann, "{\"eks.amazonaws.com/role-arn\":\"" ROLE "\"%s%s%s}",
             sa_exp ? ",\"eks.amazonaws.com/token-expiration\":\"" : "", sa_exp ? sa_exp : "",
             sa_exp ? "\"" : "");
    snprintf(pod_text, sizeof pod_text,
             "{\"metadata\":{\"annotations\":{%s%s%s}},\"spec\":{\"containers\":[{}]}}",
             pod_exp ? "\"eks.amazonaws.com/token-expiration\":\"" : "", pod_exp ? pod_exp : "",
             pod_exp ? "\"" : "");
    json_t *sa = sa_with(sa_ann);
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    json_t *pod = run(pod_text, sa, &cfg, 1);
    long long v = json_integer_value(json_object_get(token_source(pod), "expirationSeconds"));
    json_decref(pod);
    json_decref(sa);
    return v;
}

static void test_expiration_precedence(void **state)
{
    (void)state;
    assert_int_equal(expiration_for(NULL, NULL), 86400);
    assert_int_equal(expiration_for("3600", NULL), 3600);
    assert_int_equal(expiration_for("3600", "7200"), 7200);
    assert_int_equal(expiration_for(NULL, "1800"), 1800);
    /* Not clamped above: 86400 is only documented as the EKS maximum. */
    assert_int_equal(expiration_for("172800", NULL), 172800);
    /* The flag value when no annotation. */
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    cfg.token_expiration = 43200;
    json_t *pod = run(POD_ONE, sa, &cfg, 1);
    assert_int_equal(json_integer_value(json_object_get(token_source(pod), "expirationSeconds")),
                     43200);
    json_decref(pod);
    json_decref(sa);
}

static void test_expiration_floor(void **state)
{
    (void)state;
    assert_int_equal(expiration_for("100", NULL), 600);
    assert_int_equal(expiration_for(NULL, "599"), 600);
    assert_int_equal(expiration_for("3600", "-5"), 600);
    assert_int_equal(expiration_for("600", NULL), 600);
    assert_int_equal(expiration_for("601", NULL), 601);
}

static void test_expiration_non_numeric_ignored(void **state)
{
    (void)state;
    assert_int_equal(expiration_for("abc", NULL), 86400);
    assert_int_equal(expiration_for("3600", "1h"), 3600);
    assert_int_equal(expiration_for("3600", ""), 3600);
    assert_int_equal(expiration_for(" 900", "99999999999999999999"), 86400);
}

/* ---- env rules ---- */

static void test_region_only_when_configured(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    json_t *pod = run(POD_ONE, sa, &cfg, 1);
    assert_json(container_env(pod, "containers", 0), "[" ROLE_ENV "]");
    json_decref(pod);
    cfg.region = "";
    pod = run(POD_ONE, sa, &cfg, 1);
    assert_json(container_env(pod, "containers", 0), "[" ROLE_ENV "]");
    json_decref(pod);
    json_decref(sa);
}

static void test_region_pair_all_or_nothing(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults("us-west-2");
    const char *names[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
    for (size_t i = 0; i < 2; i++) {
        char text[512], want[1024];
        snprintf(text, sizeof text,
                 "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":["
                 "{\"name\":\"%s\",\"value\":\"eu-central-1\"}]}]}}",
                 names[i]);
        json_t *pod = run(text, sa, &cfg, 1);
        snprintf(text, sizeof text, "[{\"name\":\"%s\",\"value\":\"eu-central-1\"},", names[i]);
        snprintf(want, sizeof want, "%s%s]", text, ROLE_ENV);
        assert_json(container_env(pod, "containers", 0), want);
        json_decref(pod);
    }
    json_decref(sa);
}

static void test_role_pair_all_or_nothing(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    /* Either reserved name suppresses both; the mount and volume are still added. */
    json_t *pod = run("{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":["
                      "{\"name\":\"AWS_WEB_IDENTITY_TOKEN_FILE\",\"value\":\"/mine\"}]}]}}",
                      sa, &cfg, 1);
    assert_json(json_object_get(json_object_get(pod, "spec"), "containers"),
                "[{\"name\":\"a\",\"env\":["
                "{\"name\":\"AWS_WEB_IDENTITY_TOKEN_FILE\",\"value\":\"/mine\"}],"
                "\"volumeMounts\":[" MOUNT "]}]");
    assert_non_null(token_source(pod));
    json_decref(pod);
    pod = run("{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":["
              "{\"name\":\"AWS_ROLE_ARN\",\"value\":\"arn:aws:iam::1:role/other\"}]}]}}",
              sa, &cfg, 1);
    assert_json(container_env(pod, "containers", 0),
                "[{\"name\":\"AWS_ROLE_ARN\",\"value\":\"arn:aws:iam::1:role/other\"}]");
    json_decref(pod);
    json_decref(sa);
}

static void test_all_env_present_skips_mount(void **state)
{
    (void)state;
    /* The webhook returns before its volumeMount check when the role pair, a region variable
     * and AWS_STS_REGIONAL_ENDPOINTS are all set: no mount (quirk of addEnvToContainer). */
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults("us-west-2");
    const char *pod_text = "{\"spec\":{\"containers\":[{\"name\":\"a\",\"env\":[" ROLE_ENV ","
                           "{\"name\":\"AWS_REGION\",\"value\":\"x\"},"
                           "{\"name\":\"AWS_STS_REGIONAL_ENDPOINTS\",\"value\":\"regional\"}]}],"
                           "\"volumes\":[{\"name\":\"aws-iam-token\",\"emptyDir\":{}}]}}";
    json_t *pod = run(pod_text, sa, &cfg, 0);
    assert_json(pod, pod_text);
    json_decref(pod);
    json_decref(sa);
}

/* ---- containers ---- */

static void test_init_containers(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    json_t *pod = run("{\"spec\":{\"initContainers\":[{\"name\":\"init\"}],"
                      "\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
                      sa, &cfg, 1);
    assert_json(json_object_get(pod, "spec"),
                "{\"initContainers\":[{\"name\":\"init\",\"env\":[" ROLE_ENV "],"
                "\"volumeMounts\":[" MOUNT "]}],"
                "\"containers\":[{\"name\":\"a\",\"env\":[" ROLE_ENV "],"
                "\"volumeMounts\":[" MOUNT "]},"
                "{\"name\":\"b\",\"env\":[" ROLE_ENV "],\"volumeMounts\":[" MOUNT "]}],"
                "\"volumes\":[{\"name\":\"aws-iam-token\",\"projected\":{\"sources\":["
                "{\"serviceAccountToken\":{\"audience\":\"sts.amazonaws.com\","
                "\"expirationSeconds\":86400,\"path\":\"token\"}}]}}]}");
    json_decref(pod);
    json_decref(sa);
}

static int mutated(json_t *pod, const char *list, size_t i)
{
    return container_env(pod, list, i) != NULL;
}

static void test_skip_containers(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    const char *tpl =
        "{\"metadata\":{\"annotations\":{\"eks.amazonaws.com/skip-containers\":"
        "%s}},\"spec\":{\"initContainers\":[{\"name\":\"init\"}],"
        "\"containers\":[{\"name\":\"a\"},{\"name\":\"sidecar\"},{\"name\":\"b,c\"}]}}";
    struct {
        const char *ann;
        int init, a, sidecar, bc;
    } cases[] = {
        {"\"init,sidecar\"", 0, 1, 0, 1},
        {"\"sidecar\"", 1, 1, 0, 1},
        {"\"a, sidecar\"", 1, 0, 1, 1},       /* no space trimming: " sidecar" */
        {"\"\\\"b,c\\\",init\"", 0, 1, 1, 0}, /* quoted field with a comma */
        {"\"a\\nsidecar\"", 1, 0, 1, 1},      /* only the first record */
        {"\"a,si\\\"decar\"", 1, 1, 1, 1},    /* bare quote: CSV error, skip none */
        {"\"\\\"a\"", 1, 1, 1, 1},            /* unterminated quote */
        {"\"\"", 1, 1, 1, 1},                 /* empty */
        {"7", 1, 1, 1, 1},                    /* not a string */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[512];
        snprintf(text, sizeof text, tpl, cases[i].ann);
        json_t *pod = run(text, sa, &cfg, 1);
        assert_int_equal(mutated(pod, "initContainers", 0), cases[i].init);
        assert_int_equal(mutated(pod, "containers", 0), cases[i].a);
        assert_int_equal(mutated(pod, "containers", 1), cases[i].sidecar);
        assert_int_equal(mutated(pod, "containers", 2), cases[i].bc);
        json_decref(pod);
    }
    /* Every container skipped: the volume is still added (the webhook reports a change). */
    json_t *pod = run("{\"metadata\":{\"annotations\":{\"eks.amazonaws.com/skip-containers\":"
                      "\"a\"}},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
                      sa, &cfg, 1);
    assert_json(json_object_get(json_object_get(pod, "spec"), "containers"), "[{\"name\":\"a\"}]");
    assert_non_null(token_source(pod));
    json_decref(pod);
    json_decref(sa);
}

static void test_windows_token_path(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(NULL);
    const char *keys[] = {"kubernetes.io/os", "beta.kubernetes.io/os"};
    for (size_t i = 0; i < 2; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"spec\":{\"nodeSelector\":{\"%s\":\"windows\"},"
                 "\"containers\":[{\"name\":\"a\"}]}}",
                 keys[i]);
        json_t *pod = run(text, sa, &cfg, 1);
        json_t *c = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
        assert_json(c, "{\"name\":\"a\",\"env\":["
                       "{\"name\":\"AWS_ROLE_ARN\",\"value\":\"" ROLE "\"},"
                       "{\"name\":\"AWS_WEB_IDENTITY_TOKEN_FILE\",\"value\":"
                       "\"C:\\\\var\\\\run\\\\secrets\\\\eks.amazonaws.com\\\\serviceaccount"
                       "\\\\token\"}],\"volumeMounts\":[" MOUNT "]}");
        json_decref(pod);
    }
    /* linux, or Windows spelled differently: the unix path. */
    json_t *pod = run("{\"spec\":{\"nodeSelector\":{\"kubernetes.io/os\":\"Windows\"},"
                      "\"containers\":[{\"name\":\"a\"}]}}",
                      sa, &cfg, 1);
    assert_json(container_env(pod, "containers", 0), "[" ROLE_ENV "]");
    json_decref(pod);
    json_decref(sa);
}

static void test_odd_types(void **state)
{
    (void)state;
    json_t *sa = role_sa();
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults("us-west-2");
    /* env and volumeMounts of the wrong type are replaced; non-object containers skipped. */
    json_t *pod = run("{\"spec\":{\"containers\":[7,{\"name\":\"a\",\"env\":{},"
                      "\"volumeMounts\":\"x\"}],\"volumes\":{}}}",
                      sa, &cfg, 1);
    assert_json(json_object_get(json_object_get(pod, "spec"), "containers"),
                "[7,{\"name\":\"a\",\"env\":["
                "{\"name\":\"AWS_DEFAULT_REGION\",\"value\":\"us-west-2\"},"
                "{\"name\":\"AWS_REGION\",\"value\":\"us-west-2\"}," ROLE_ENV "],"
                "\"volumeMounts\":[" MOUNT "]}]");
    assert_non_null(token_source(pod));
    json_decref(pod);
    json_t *arr = J("[1,2]");
    assert_int_equal(pd_k8s_webhook_mutate(arr, sa, &cfg), 0);
    json_decref(arr);
    pod = run("{\"spec\":\"x\"}", sa, NULL, 1);
    assert_non_null(token_source(pod));
    json_decref(pod);
    json_decref(sa);
}

/* ---- Pod Identity (reference/identity-and-s3-facts.md A.4) ---- */

#define PODID_ENV                                                                                  \
    "{\"name\":\"AWS_CONTAINER_CREDENTIALS_FULL_URI\",\"value\":"                                  \
    "\"http://169.254.170.23/v1/credentials\"},"                                                   \
    "{\"name\":\"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\",\"value\":"                              \
    "\"/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token\"}"
#define PODID_MOUNT                                                                                \
    "{\"name\":\"eks-pod-identity-token\",\"readOnly\":true,"                                      \
    "\"mountPath\":\"/var/run/secrets/pods.eks.amazonaws.com/serviceaccount\"}"

static void test_pod_identity(void **state)
{
    (void)state;
    json_t *pod = J("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
                    "{\"name\":\"app\",\"image\":\"x\"},{\"name\":\"side\"}]}}");
    assert_int_equal(pd_k8s_webhook_mutate_pod_identity(pod), 1);
    assert_json(pod,
                "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
                "{\"name\":\"app\",\"image\":\"x\",\"env\":[" PODID_ENV "],"
                "\"volumeMounts\":[" PODID_MOUNT "]},"
                "{\"name\":\"side\",\"env\":[" PODID_ENV "],\"volumeMounts\":[" PODID_MOUNT "]}],"
                "\"volumes\":[{\"name\":\"eks-pod-identity-token\",\"projected\":{"
                "\"defaultMode\":420,\"sources\":[{\"serviceAccountToken\":{"
                "\"audience\":\"pods.eks.amazonaws.com\",\"expirationSeconds\":86400,"
                "\"path\":\"eks-pod-identity-token\"}}]}}]}}");
    /* a second run changes nothing */
    json_t *once = json_deep_copy(pod);
    assert_int_equal(pd_k8s_webhook_mutate_pod_identity(pod), 0);
    assert_true(json_equal(once, pod));
    json_decref(once);
    json_decref(pod);

    /* a container setting either variable keeps its env (the mount is still added); skipped
     * containers are left alone; the expiration annotation applies with its floor */
    pod = J("{\"metadata\":{\"annotations\":{\"eks.amazonaws.com/skip-containers\":\"side\","
            "\"eks.amazonaws.com/token-expiration\":\"100\"}},\"spec\":{\"containers\":["
            "{\"name\":\"app\",\"env\":[{\"name\":\"AWS_CONTAINER_CREDENTIALS_FULL_URI\","
            "\"value\":\"http://127.0.0.1/x\"}]},{\"name\":\"side\"}]}}");
    assert_int_equal(pd_k8s_webhook_mutate_pod_identity(pod), 1);
    json_t *cs = json_object_get(json_object_get(pod, "spec"), "containers");
    assert_int_equal(json_array_size(json_object_get(json_array_get(cs, 0), "env")), 1);
    assert_non_null(json_object_get(json_array_get(cs, 0), "volumeMounts"));
    assert_null(json_object_get(json_array_get(cs, 1), "env"));
    json_t *vol = json_array_get(json_object_get(json_object_get(pod, "spec"), "volumes"), 0);
    json_t *src = json_array_get(json_object_get(json_object_get(vol, "projected"), "sources"), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(src, "serviceAccountToken"),
                                                        "expirationSeconds")),
                     600);
    json_decref(pod);

    /* every container skipped: untouched */
    pod = J("{\"metadata\":{\"annotations\":{\"eks.amazonaws.com/skip-containers\":\"app\"}},"
            "\"spec\":{\"containers\":[{\"name\":\"app\"}]}}");
    assert_int_equal(pd_k8s_webhook_mutate_pod_identity(pod), 0);
    assert_null(json_object_get(json_object_get(pod, "spec"), "volumes"));
    json_decref(pod);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_case),
        cmocka_unit_test(test_no_volumes_creates_list),
        cmocka_unit_test(test_no_role_untouched),
        cmocka_unit_test(test_second_run_is_a_no_op),
        cmocka_unit_test(test_existing_volume_not_added_again),
        cmocka_unit_test(test_existing_mount_kept),
        cmocka_unit_test(test_audience_sa_over_flag),
        cmocka_unit_test(test_regional_sts),
        cmocka_unit_test(test_expiration_precedence),
        cmocka_unit_test(test_expiration_floor),
        cmocka_unit_test(test_expiration_non_numeric_ignored),
        cmocka_unit_test(test_region_only_when_configured),
        cmocka_unit_test(test_region_pair_all_or_nothing),
        cmocka_unit_test(test_role_pair_all_or_nothing),
        cmocka_unit_test(test_all_env_present_skips_mount),
        cmocka_unit_test(test_init_containers),
        cmocka_unit_test(test_skip_containers),
        cmocka_unit_test(test_windows_token_path),
        cmocka_unit_test(test_odd_types),
        cmocka_unit_test(test_pod_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
