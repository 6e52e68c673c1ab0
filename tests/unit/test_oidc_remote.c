/* test_oidc_remote.c - external OIDC issuers (services/oidc_remote.c, services/httpc.c): the
 * discovery and JWKS parsers, which URLs podiam may fetch at all, and a fetch that fails
 * (nothing listens) being refused with a reason and remembered rather than retried at once. */
#include "pipeline_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "services/httpc.h"
#include "services/oidc.h"
#include "services/oidc_remote.h"

#define ISS "https://idp.example.com/realms/ci"
#define RSA_JWK                                                                                    \
    "{\"kty\":\"RSA\",\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":"                     \
    "\"rEePtWKXfhiZssXKn_-FnWph6nb5IUIDtYTyzDk-3gbp9NeREAAnf2LvzFooJ_endPfdS1mVg_LX1JcfT5mOB_"     \
    "FxG_dGWti1PRNG6HdApK26KR5rK0MPHnChFdsQBDobxYJqSYTf0oelp5eQ5U46x8RZbO2Ywm3Odj_Aa0qvBKSjAc4d-"  \
    "J9tQT_wQKZlC2RnpaIRiYq5sGWjHIu3LGBcwt4QO0_krS1-rGAmuiRgsfmaVxikjmpt8DA_-3LOWymx-"             \
    "txW9fPzjl4LJFed6OMbgZMVXAk8TJFJt1pqLWRw6CgCI9g3bmOBgcuuRd9UOdCNN7fA8QDR95hvUiYVLyYpEw\","     \
    "\"e\":\"AQAB\"}"

static int discovery(const char *text, const char *iss, int allow_http, char **uri,
                     const char **why)
{
    *uri = NULL;
    *why = NULL;
    return pd_oidc_remote_parse_discovery(text, strlen(text), iss, allow_http, uri, why);
}

static void test_discovery(void **state)
{
    (void)state;
    char *uri;
    const char *why;
    assert_int_equal(discovery("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://idp.example.com/"
                               "certs\"}",
                               ISS, 0, &uri, &why),
                     PD_OK);
    assert_string_equal(uri, "https://idp.example.com/certs");
    free(uri);

    /* the issuer must be the token's iss byte for byte (no trailing slash, no case folding) */
    assert_int_equal(
        discovery("{\"issuer\":\"" ISS "/\",\"jwks_uri\":\"https://x/k\"}", ISS, 0, &uri, &why),
        PD_EINVAL);
    assert_non_null(strstr(why, "issuer"));
    assert_int_equal(discovery("{\"issuer\":\"HTTPS://idp.example.com/realms/ci\",\"jwks_uri\":"
                               "\"https://x/k\"}",
                               ISS, 0, &uri, &why),
                     PD_EINVAL);
    /* an embedded NUL does not make a prefix match */
    assert_int_equal(discovery("{\"issuer\":\"" ISS "\\u0000evil\",\"jwks_uri\":\"https://x/k\"}",
                               ISS, 0, &uri, &why),
                     PD_EINVAL);
    /* no jwks_uri, a non-string one, a plain http one (not loopback, or not allowed) */
    assert_int_equal(discovery("{\"issuer\":\"" ISS "\"}", ISS, 0, &uri, &why), PD_EINVAL);
    assert_non_null(strstr(why, "jwks_uri"));
    assert_int_equal(discovery("{\"issuer\":\"" ISS "\",\"jwks_uri\":7}", ISS, 0, &uri, &why),
                     PD_EINVAL);
    assert_int_equal(discovery("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"http://idp.example.com/k\"}",
                               ISS, 1, &uri, &why),
                     PD_EINVAL);
    assert_int_equal(discovery("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"http://127.0.0.1:9/k\"}",
                               ISS, 0, &uri, &why),
                     PD_EINVAL);
    assert_int_equal(discovery("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"http://127.0.0.1:9/k\"}",
                               ISS, 1, &uri, &why),
                     PD_OK);
    free(uri);
    /* not JSON, not an object, duplicate members */
    assert_int_equal(discovery("<html>", ISS, 0, &uri, &why), PD_EINVAL);
    assert_non_null(strstr(why, "not a JSON object"));
    assert_int_equal(discovery("[]", ISS, 0, &uri, &why), PD_EINVAL);
    assert_int_equal(discovery("{\"issuer\":\"x\",\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://"
                               "x/k\"}",
                               ISS, 0, &uri, &why),
                     PD_EINVAL);
}

static int jwks(const char *text, struct pd_jwks *s, size_t *skipped, const char **why)
{
    *why = NULL;
    return pd_oidc_remote_parse_jwks(text, strlen(text), s, skipped, why);
}

static void test_jwks(void **state)
{
    (void)state;
    struct pd_jwks s;
    pd_jwks_init(&s);
    size_t skipped = 9;
    const char *why;
    assert_int_equal(jwks("{\"keys\":[" RSA_JWK "]}", &s, &skipped, &why), PD_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(skipped, 0);
    assert_string_equal(pd_key_kid(s.keys[0]), "k1");
    pd_jwks_cleanup(&s);

    /* an unusable key beside a usable one is skipped and counted */
    pd_jwks_init(&s);
    assert_int_equal(
        jwks("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}," RSA_JWK "]}", &s, &skipped, &why),
        PD_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(skipped, 1);
    pd_jwks_cleanup(&s);

    /* no usable key at all; not JSON; no keys array */
    pd_jwks_init(&s);
    assert_int_equal(jwks("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", &s, &skipped, &why),
                     PD_EINVAL);
    assert_non_null(strstr(why, "no key usable"));
    assert_int_equal(jwks("not json", &s, &skipped, &why), PD_EINVAL);
    assert_non_null(strstr(why, "not a JSON object"));
    assert_int_equal(jwks("{\"keys\":{}}", &s, &skipped, &why), PD_EINVAL);
    assert_non_null(strstr(why, "\"keys\""));
    assert_int_equal(s.n, 0);

    /* more keys than podiam reads */
    struct pd_buf b;
    pd_buf_init(&b, 1 << 20);
    pd_buf_adds(&b, "{\"keys\":[");
    for (int i = 0; i <= PD_JWKS_MAX_KEYS; i++) {
        if (i)
            pd_buf_addc(&b, ',');
        pd_buf_adds(&b, RSA_JWK);
    }
    pd_buf_adds(&b, "]}");
    assert_int_equal(jwks(pd_buf_str(&b), &s, &skipped, &why), PD_EINVAL);
    assert_non_null(strstr(why, "more keys"));
    assert_int_equal(s.n, 0);
    pd_buf_free(&b);
    pd_jwks_cleanup(&s);
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(pd_httpc_is_loopback_http("http://127.0.0.1:8080/x"));
    assert_true(pd_httpc_is_loopback_http("http://127.1.2.3/"));
    assert_true(pd_httpc_is_loopback_http("http://localhost:1"));
    assert_true(pd_httpc_is_loopback_http("http://LOCALHOST/"));
    assert_true(pd_httpc_is_loopback_http("http://[::1]:9/"));
    assert_false(pd_httpc_is_loopback_http("https://127.0.0.1/"));
    assert_false(pd_httpc_is_loopback_http("http://128.0.0.1/"));
    assert_false(pd_httpc_is_loopback_http("http://127.0.0.1.evil.example/"));
    assert_false(pd_httpc_is_loopback_http("http://localhost.evil.example/"));
    assert_false(pd_httpc_is_loopback_http("http://127.0.0.1@evil.example/"));
    assert_false(pd_httpc_is_loopback_http("http://evil.example@127.0.0.1/"));
    assert_false(pd_httpc_is_loopback_http("http://127.0.0.256/"));
    assert_false(pd_httpc_is_loopback_http(NULL));

    struct pd_env env = {0};
    pd_config_defaults(&env.cfg);
    assert_true(pd_oidc_remote_allowed(&env, ISS));
    assert_false(pd_oidc_remote_allowed(&env, "https://"));
    assert_false(pd_oidc_remote_allowed(&env, "https:///x"));
    assert_false(pd_oidc_remote_allowed(&env, "http://127.0.0.1:9"));
    env.cfg.oidc_http_loopback = 1;
    assert_true(pd_oidc_remote_allowed(&env, "http://127.0.0.1:9"));
    assert_false(pd_oidc_remote_allowed(&env, "http://10.0.0.1:9"));
}

/* A loopback port nothing listens on. */
static int dead_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static void test_fetch_fails(void **state)
{
    (void)state;
    struct pd_env env = {0};
    pd_config_defaults(&env.cfg);
    pd_clock_init(&env.clock);
    env.clock.fixed_ms = PT_NOW_MS;
    env.cfg.oidc_fetch_timeout_ms = 2000;
    pd_httpc_global_init();
    env.oidc_remote = pd_oidc_remote_new();
    char why[256], iss[64];
    snprintf(iss, sizeof iss, "http://127.0.0.1:%d", dead_port());

    /* plain http is refused without the flag, before any network */
    assert_int_equal(pd_oidc_remote_refresh(&env, iss, "k", why, sizeof why), PD_EINVAL);
    assert_non_null(strstr(why, "--oidc-http-loopback"));

    env.cfg.oidc_http_loopback = 1;
    assert_int_equal(pd_oidc_remote_refresh(&env, iss, "k", why, sizeof why), PD_EIO);
    assert_non_null(strstr(why, "discovery"));
    /* the failure is remembered a few seconds: the same answer, no new attempt */
    assert_int_equal(pd_oidc_remote_refresh(&env, iss, "k", why, sizeof why), PD_EIO);
    assert_non_null(strstr(why, "remembered"));
    struct pd_jwks s;
    pd_jwks_init(&s);
    assert_int_equal(pd_oidc_remote_jwks(&env, iss, &s, why, sizeof why), PD_ENOTFOUND);
    assert_non_null(strstr(why, "discovery"));
    assert_int_equal(s.n, 0);
    /* never asked: nothing cached */
    assert_int_equal(pd_oidc_remote_jwks(&env, ISS, &s, why, sizeof why), PD_ENOTFOUND);
    pd_jwks_cleanup(&s);

    /* a GET of a refused URL never reaches the network */
    struct pd_httpc_opts o = {.timeout_ms = 1000, .max_bytes = 10};
    struct pd_buf b;
    pd_buf_init(&b, 10);
    enum pd_httpc_fail f;
    assert_int_equal(pd_httpc_get(&o, "ftp://x/", &b, &f, why, sizeof why), PD_EINVAL);
    assert_int_equal(f, PD_HTTPC_URL);
    assert_int_equal(pd_httpc_get(&o, "http://127.0.0.1:1/", &b, &f, why, sizeof why), PD_EINVAL);
    assert_int_equal(f, PD_HTTPC_URL);
    pd_buf_free(&b);

    pd_oidc_remote_free(env.oidc_remote);
    pd_httpc_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_jwks),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_fetch_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
