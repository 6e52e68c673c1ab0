/* test_proxy.c - the proxy's request-head parser and authority parser (server/proxy.c):
 * CONNECT, absolute-form and origin-form heads, incomplete heads at every split point, and the
 * malformed request lines, authorities, versions and header lines it must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "server/proxy.h"

static int parse(const char *s, struct pd_proxy_head *h)
{
    return pd_proxy_parse_head(s, strlen(s), h);
}

static void head_connect(void **state)
{
    struct pd_proxy_head h;
    const char *s = "CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nHost: sts.amazonaws.com:443\r\n"
                    "User-Agent: Go-http-client/1.1\r\n\r\n";
    assert_int_equal(parse(s, &h), PD_OK);
    assert_int_equal(h.form, PD_PROXY_CONNECT);
    assert_string_equal(h.method, "CONNECT");
    assert_string_equal(h.host, "sts.amazonaws.com");
    assert_int_equal(h.port, 443);
    assert_int_equal(h.head_len, strlen(s));
    /* bytes after the head (an early TLS hello) are not part of it */
    char buf[256];
    memcpy(buf, s, strlen(s));
    memcpy(buf + strlen(s), "\x16\x03\x01\x02\x00", 5);
    assert_int_equal(pd_proxy_parse_head(buf, strlen(s) + 5, &h), PD_OK);
    assert_int_equal(h.head_len, strlen(s));
    /* case folded, trailing dot dropped, bare LF line ends, HTTP/1.0, no headers */
    assert_int_equal(parse("CONNECT S3-Echoer-Demo.S3.AmazonAWS.com.:443 HTTP/1.0\n\n", &h), PD_OK);
    assert_string_equal(h.host, "s3-echoer-demo.s3.amazonaws.com");
    assert_int_equal(h.head_len,
                     strlen("CONNECT S3-Echoer-Demo.S3.AmazonAWS.com.:443 HTTP/1.0\n\n"));
    /* IP literals */
    assert_int_equal(parse("CONNECT [::1]:4567 HTTP/1.1\r\n\r\n", &h), PD_OK);
    assert_string_equal(h.host, "::1");
    assert_int_equal(h.port, 4567);
    assert_int_equal(parse("CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n", &h), PD_OK);
    assert_string_equal(h.host, "127.0.0.1");
    assert_int_equal(h.port, 1);
    assert_int_equal(parse("CONNECT example.com:65535 HTTP/1.1\r\n\r\n", &h), PD_OK);
    assert_int_equal(h.port, 65535);
}

static void head_absolute_and_origin(void **state)
{
    struct pd_proxy_head h;
    assert_int_equal(parse("GET http://s3.amazonaws.com/bucket/key?x=1 HTTP/1.1\r\nHost: "
                           "s3.amazonaws.com\r\n\r\n",
                           &h),
                     PD_OK);
    assert_int_equal(h.form, PD_PROXY_ABSOLUTE);
    assert_string_equal(h.method, "GET");
    assert_string_equal(h.host, "s3.amazonaws.com");
    assert_int_equal(h.port, 80);
    assert_int_equal(h.https, 0);
    assert_int_equal(parse("PUT HTTP://Sts.AmazonAWS.com:8080 HTTP/1.1\r\n\r\n", &h), PD_OK);
    assert_string_equal(h.host, "sts.amazonaws.com");
    assert_int_equal(h.port, 8080);
    assert_int_equal(parse("GET http://iam.amazonaws.com?Action=ListUsers HTTP/1.1\r\n\r\n", &h),
                     PD_OK);
    assert_string_equal(h.host, "iam.amazonaws.com");
    assert_int_equal(parse("GET https://sts.amazonaws.com/ HTTP/1.1\r\n\r\n", &h), PD_OK);
    assert_int_equal(h.https, 1);
    assert_int_equal(h.port, 443);
    assert_int_equal(parse("GET http://[::1]:4566/_podiam/health HTTP/1.1\r\n\r\n", &h), PD_OK);
    assert_string_equal(h.host, "::1");
    assert_int_equal(h.port, 4566);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &h), PD_OK);
    assert_int_equal(h.form, PD_PROXY_ORIGIN);
    assert_int_equal(parse("OPTIONS * HTTP/1.1\r\n\r\n", &h), PD_OK);
    assert_int_equal(h.form, PD_PROXY_ORIGIN);
}

/* Every proper prefix of a good head is "more", never an error or a success. */
static void head_incomplete(void **state)
{
    static const char *const heads[] = {
        ("CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nHost: sts.amazonaws.com:443\r\n"
         "Proxy-Connection: Keep-Alive\r\n\r\n"),
        "GET http://s3.amazonaws.com/b/k HTTP/1.1\r\nHost: s3.amazonaws.com\r\n\r\n",
        "CONNECT a.b:1 HTTP/1.0\n\n",
    };
    struct pd_proxy_head h;
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        size_t n = strlen(heads[i]);
        for (size_t k = 0; k < n; k++) {
            int rc = pd_proxy_parse_head(heads[i], k, &h);
            if (rc != PD_PROXY_MORE)
                fail_msg("head %zu cut at %zu: %d, want more", i, k, rc);
        }
        assert_int_equal(pd_proxy_parse_head(heads[i], n, &h), PD_OK);
    }
}

static void head_malformed(void **state)
{
#define B(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof lit - 1                                                                        \
    }
    static const struct {
        const char *s;
        size_t n;
    } bad[] = {
        /* request line */
        B("\r\n\r\n"),
        B(" CONNECT a.com:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT  a.com:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com:443  HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com:443 HTTP/2.0\r\n\r\n"),
        B("CONNECT a.com:443 http/1.1\r\n\r\n"),
        B("CONNECT a.com:443\r\n\r\n"),
        B("CONNECT a.com:443 HTTP/1.1 x\r\n\r\n"),
        B("CON(NECT a.com:443 HTTP/1.1\r\n\r\n"),
        B("VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n"),
        B("GET /a\x01 HTTP/1.1\r\n\r\n"),
        B("GET /\xff HTTP/1.1\r\n\r\n"),
        B("GET a.com/ HTTP/1.1\r\n\r\n"),
        B("GET ftp://a.com/ HTTP/1.1\r\n\r\n"),
        /* CONNECT authority */
        B("CONNECT a.com HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com: HTTP/1.1\r\n\r\n"),
        B("CONNECT :443 HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com:0 HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com:65536 HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com:4a3 HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com:+443 HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com:0000443 HTTP/1.1\r\n\r\n"),
        B("CONNECT user@a.com:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT a..com:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT .a.com:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT a_b.com:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com:443:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT [::1:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT [nope]:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT []:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT [::1]x:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT http://a.com:443 HTTP/1.1\r\n\r\n"),
        B("CONNECT a.com/x:443 HTTP/1.1\r\n\r\n"),
        /* absolute-form authority */
        B("GET http:///path HTTP/1.1\r\n\r\n"),
        B("GET http://u:p@a.com/ HTTP/1.1\r\n\r\n"),
        B("GET http://a.com:/ HTTP/1.1\r\n\r\n"),
        B("GET http://a.com:99999/ HTTP/1.1\r\n\r\n"),
        B("GET http://a%2ecom/ HTTP/1.1\r\n\r\n"),
        /* header lines */
        B("CONNECT a.com:443 HTTP/1.1\r\nno colon\r\n\r\n"),
        B("CONNECT a.com:443 HTTP/1.1\r\n: empty name\r\n\r\n"),
        B("CONNECT a.com:443 HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"),
        B("CONNECT a.com:443 HTTP/1.1\r\nBad Name: x\r\n\r\n"),
        B("CONNECT a.com:443 HTTP/1.1\r\nX: a\x01b\r\n\r\n"),
        B("CONNECT a.com:443 HTTP/1.1\r\nX: a\rb\r\n\r\n"),
        B("CONNECT a.com:443 HTTP/1.1\r\nX: a\0b\r\n\r\n"),
        /* bare CR, NUL before the end, control bytes in an unfinished line */
        B("CONNECT a.com:443 HTTP/1.1\rX\r\n\r\n"),
        B("CONNECT a.com\0:443 HTTP/1.1\r\n\r\n"),
        B("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    };
    struct pd_proxy_head h;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = pd_proxy_parse_head(bad[i].s, bad[i].n, &h);
        if (rc != PD_EINVAL)
            fail_msg("bad head %zu (%.40s) parsed: %d", i, bad[i].s, rc);
    }
#undef B
}

static void authority(void **state)
{
    char host[PD_PROXY_HOST_MAX + 1];
    int port = -1;
    assert_int_equal(pd_proxy_parse_authority("A.B", 3, 80, 0, host, &port), PD_OK);
    assert_string_equal(host, "a.b");
    assert_int_equal(port, 80);
    assert_int_equal(pd_proxy_parse_authority("a.b", 3, 80, 1, host, &port), PD_EINVAL);
    assert_int_equal(pd_proxy_parse_authority("", 0, 80, 0, host, &port), PD_EINVAL);
    assert_int_equal(pd_proxy_parse_authority("[::ffff:127.0.0.1]:5", 20, 80, 1, host, &port),
                     PD_OK);
    assert_string_equal(host, "::ffff:127.0.0.1");
    assert_int_equal(port, 5);
    /* only n bytes count */
    assert_int_equal(pd_proxy_parse_authority("a.b:12345", 3, 7, 0, host, &port), PD_OK);
    assert_int_equal(port, 7);
    /* a name of 253 characters, not 254 */
    char big[300];
    memset(big, 'a', sizeof big);
    for (size_t i = 50; i < 260; i += 50)
        big[i] = '.';
    assert_int_equal(pd_proxy_parse_authority(big, 253, 80, 0, host, &port), PD_OK);
    assert_int_equal(strlen(host), 253);
    assert_int_equal(pd_proxy_parse_authority(big, 254, 80, 0, host, &port), PD_EINVAL);
}

static void loopback(void **state)
{
    static const char *const yes[] = {"localhost", "127.0.0.1", "127.1.2.3", "::1",
                                      "::ffff:127.0.0.1"};
    static const char *const no[] = {
        "localhost.example.com", "128.0.0.1", "::2", "10.0.0.1", "0.0.0.0",
        "sts.amazonaws.com",     ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!pd_proxy_host_loopback(yes[i]))
            fail_msg("%s is loopback", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (pd_proxy_host_loopback(no[i]))
            fail_msg("%s is no loopback", no[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(head_connect),    cmocka_unit_test(head_absolute_and_origin),
        cmocka_unit_test(head_incomplete), cmocka_unit_test(head_malformed),
        cmocka_unit_test(authority),       cmocka_unit_test(loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
