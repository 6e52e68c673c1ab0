/* test_console.c - the workshop console's server side (services/console.c) through the
 * pipeline: the embedded page and assets, the admin API's guards, the secret-free state view,
 * the simulator endpoint and its refusals; and the decision log's long poll
 * (auth/decisions.c, GET /_podiam/decisions?wait=). */
#include "pipeline_env.h"

#include <pthread.h>
#include <unistd.h>

#include "auth/decisions.h"

static int setup(void **state)
{
    *state = pt_env_new();
    return 0;
}

static int teardown(void **state)
{
    pt_env_free(*state);
    return 0;
}

static const char *header(struct pd_req *r, const char *name)
{
    return pd_kvs_get(&r->resp.hdrs, name, 0);
}

static void page_and_assets_from_the_binary(void **state)
{
    struct pd_env *env = *state;
    static const char *const ok[][2] = {
        {"/_podiam/console", "text/html"},
        {"/_podiam/console/", "text/html"},
        {"/_podiam/console/console.js", "text/javascript"},
        {"/_podiam/console/console.css", "text/css"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct pd_req *r = pt_http(env, "GET", ok[i][0], NULL, NULL, NULL);
        assert_int_equal(r->resp.status, 200);
        assert_true(pd_has_prefix(r->resp.content_type, ok[i][1]));
        assert_true(r->resp.body.len > 1000);
        assert_non_null(strstr(header(r, "Content-Security-Policy"), "default-src 'self'"));
        assert_string_equal(header(r, "X-Frame-Options"), "DENY");
        pd_req_free(r);
    }
    static const char *const missing[] = {"/_podiam/console/nope.js", "/_podiam/console/api/nope",
                                          "/_podiam/console/../admin", "/_podiam/consolex"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        struct pd_req *r = pt_http(env, "GET", missing[i], NULL, NULL, NULL);
        assert_int_equal(r->resp.status, 404);
        pd_req_free(r);
    }
    /* GET only for the page; POST only for the simulator */
    struct pd_req *r = pt_http(env, "POST", "/_podiam/console/api/state", NULL, NULL, "{}");
    assert_int_equal(r->resp.status, 404);
    pd_req_free(r);
}

static void guarded_as_the_admin_api(void **state)
{
    struct pd_env *env = *state;
    struct pd_req *r = pt_http(env, "GET", "/_podiam/console", NULL, "host: evil.example", NULL);
    assert_int_equal(r->resp.status, 403);
    pd_req_free(r);
    r = pt_http(env, "GET", "/_podiam/console/api/state", NULL,
                "origin: http://evil.example\nhost: localhost", NULL);
    assert_int_equal(r->resp.status, 403);
    pd_req_free(r);
    /* a form post (no preflight) cannot drive the simulator */
    r = pt_http(env, "POST", "/_podiam/console/api/simulate", NULL, "content-type: text/plain",
                "{}");
    assert_int_equal(r->resp.status, 403);
    pd_req_free(r);
    /* podiam's own origin may */
    r = pt_http(env, "GET", "/_podiam/console/api/state", NULL,
                "origin: http://localhost:4566\nhost: localhost:4566", NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
}

static void state_without_secrets(void **state)
{
    struct pd_env *env = *state;
    json_decref(pt_ok(env, "iam", "CreateUser", json_pack("{s:s}", "UserName", "alice")));
    json_t *key = pt_ok(env, "iam", "CreateAccessKey", json_pack("{s:s}", "UserName", "alice"));
    const char *secret =
        json_string_value(json_object_get(json_object_get(key, "AccessKey"), "SecretAccessKey"));
    assert_non_null(secret);
    struct pd_req *r = pt_http(env, "GET", "/_podiam/console/api/state", NULL, NULL, NULL);
    assert_int_equal(r->resp.status, 200);
    const char *body = pt_body(r);
    assert_non_null(strstr(body, "\"alice\""));
    assert_null(strstr(body, secret));
    assert_null(strstr(body, "PRIVATE KEY"));
    assert_null(strstr(body, "secret_access_key"));
    json_decref(key);
    pd_req_free(r);
}

#define POLICY                                                                                     \
    "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\","        \
    "\\\"Action\\\":\\\"s3:GetObject\\\",\\\"Resource\\\":\\\"arn:aws:s3:::b/*\\\","               \
    "\\\"Condition\\\":{\\\"StringEquals\\\":{\\\"aws:PrincipalTag/team\\\":\\\"a\\\"}}}]}"

static json_t *simulate(struct pd_env *env, const char *body, int status)
{
    struct pd_req *r = pt_http(env, "POST", "/_podiam/console/api/simulate", NULL, NULL, body);
    if (r->resp.status != status)
        fail_msg("expected %d, got %d: %s", status, r->resp.status, pt_body(r));
    json_t *out = json_loads(pt_body(r), 0, NULL);
    assert_non_null(out);
    pd_req_free(r);
    return out;
}

static const char *decision_of(json_t *out)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(out, "EvaluationResults"), 0), "EvalDecision"));
}

static void simulator_with_traces(void **state)
{
    struct pd_env *env = *state;
    json_t *out =
        simulate(env,
                 "{\"policies\": [\"" POLICY "\"], \"action\": \"s3:GetObject\", "
                 "\"resource\": \"arn:aws:s3:::b/k\", \"context\": [{\"key\": "
                 "\"aws:PrincipalTag/team\", \"type\": \"string\", \"values\": [\"a\"]}]}",
                 200);
    assert_string_equal(decision_of(out), "allowed");
    json_t *traces = json_object_get(out, "traces");
    assert_int_equal(json_array_size(traces), 1);
    json_t *t = json_array_get(traces, 0);
    assert_string_equal(json_string_value(json_object_get(t, "action")), "s3:GetObject");
    assert_non_null(json_object_get(json_object_get(t, "trace"), "evaluations"));
    json_decref(out);

    /* the condition fails: implicit deny, and the trace says with which values */
    out = simulate(env,
                   "{\"policies\": [\"" POLICY "\"], \"action\": \"s3:GetObject\", "
                   "\"resource\": \"arn:aws:s3:::b/k\", \"context\": [{\"key\": "
                   "\"aws:PrincipalTag/team\", \"type\": \"string\", \"values\": [\"z\"]}]}",
                   200);
    assert_string_equal(decision_of(out), "implicitDeny");
    char *text = json_dumps(out, 0);
    assert_non_null(strstr(text, "\"condition\""));
    assert_non_null(strstr(text, "\"z\""));
    free(text);
    json_decref(out);
}

static void simulator_refusals(void **state)
{
    struct pd_env *env = *state;
    static const char *const bad[][2] = {
        {"not json", "BadRequest"},
        {"[1, 2]", "BadRequest"},
        {"{\"policies\": [\"" POLICY "\"], \"action\": \"s3:GetObject\", \"context\": [{\"type\": "
         "\"string\"}]}",
         "BadRequest"},
        {"{\"action\": \"s3:GetObject\"}", "ValidationError"},
        {"{\"policies\": [\"{\\\"Version\\\": 1\"], \"action\": \"s3:GetObject\"}", "InvalidInput"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *out = simulate(env, bad[i][0], 400);
        const char *code = json_string_value(json_object_get(out, "error"));
        if (!code || strcmp(code, bad[i][1]) != 0)
            fail_msg("%s: expected %s, got %s", bad[i][0], bad[i][1], code ? code : "(none)");
        assert_non_null(json_string_value(json_object_get(out, "message")));
        json_decref(out);
    }
}

/* ---- the decision log's long poll ---- */

struct adder {
    struct pd_decisions *d;
    int delay_ms;
};

static void *add_later(void *arg)
{
    struct adder *a = arg;
    usleep((useconds_t)a->delay_ms * 1000);
    char id[24];
    pd_decisions_add(a->d, json_pack("{s:s}", "decision", "allowed"), id);
    return NULL;
}

static long long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void long_poll(void **state)
{
    (void)state;
    struct pd_decisions *d = pd_decisions_new(10);
    struct timespec t0;
    assert_int_equal(pd_decisions_last_id(d), 0);
    /* nothing new: the wait times out */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pd_decisions_wait(d, 0, 100, 4), 0);
    assert_true(ms_since(&t0) >= 90);
    /* a decision logged while waiting ends the wait at once */
    struct adder a = {d, 50};
    pthread_t th;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&th, NULL, add_later, &a);
    assert_int_equal(pd_decisions_wait(d, 0, 5000, 4), 1);
    assert_true(ms_since(&t0) < 4000);
    pthread_join(th, NULL);
    assert_int_equal(pd_decisions_last_id(d), 1);
    /* newer than after already: no wait */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pd_decisions_wait(d, 0, 5000, 4), 1);
    assert_true(ms_since(&t0) < 1000);
    /* too many waiting already: no wait at all */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pd_decisions_wait(d, 1, 5000, 0), -1);
    assert_true(ms_since(&t0) < 1000);
    /* shutdown: every wait ends now */
    pd_decisions_wake(d);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pd_decisions_wait(d, 1, 5000, 4), 0);
    assert_true(ms_since(&t0) < 1000);
    pd_decisions_free(d);
}

static void long_poll_over_http(void **state)
{
    struct pd_env *env = *state;
    struct pd_req *r = pt_http(env, "GET", "/_podiam/decisions", "wait=21&after=0", NULL, NULL);
    assert_int_equal(r->resp.status, 400);
    pd_req_free(r);
    r = pt_http(env, "GET", "/_podiam/decisions", "wait=x", NULL, NULL);
    assert_int_equal(r->resp.status, 400);
    pd_req_free(r);
    long long last = pd_decisions_last_id(env->decisions);
    struct adder a = {env->decisions, 50};
    pthread_t th;
    pthread_create(&th, NULL, add_later, &a);
    char q[64];
    snprintf(q, sizeof q, "wait=5&after=%lld", last);
    r = pt_http(env, "GET", "/_podiam/decisions", q, NULL, NULL);
    pthread_join(th, NULL);
    assert_int_equal(r->resp.status, 200);
    json_t *out = json_loads(pt_body(r), 0, NULL);
    assert_int_equal(json_array_size(json_object_get(out, "decisions")), 1);
    assert_int_equal(json_integer_value(json_object_get(out, "last")), last + 1);
    json_decref(out);
    pd_req_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_and_assets_from_the_binary),
        cmocka_unit_test(guarded_as_the_admin_api),
        cmocka_unit_test(state_without_secrets),
        cmocka_unit_test(simulator_with_traces),
        cmocka_unit_test(simulator_refusals),
        cmocka_unit_test(long_poll),
        cmocka_unit_test(long_poll_over_http),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
