/* test_tls.c - podiam's CA and server certificates served by libmicrohttpd (GnuTLS) on an
 * ephemeral loopback port, checked by an OpenSSL client that verifies against the CA with
 * X509_V_FLAG_X509_STRICT (what Python 3.13+ enables), by DNS name and by IP address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/arena.h"
#include "core/err.h"
#include "crypto/x509.h"

static const char body_ok[] = "podiam-tls-ok";

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body_ok), (void *)body_ok, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Start a TLS daemon on 127.0.0.1 (or ::1) port 0; NULL when it cannot start. */
static struct MHD_Daemon *start(const char *cert, const char *key, int v6, uint16_t *OUT_port)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr *sa;
    memset(&sin, 0, sizeof sin);
    memset(&sin6, 0, sizeof sin6);
    if (v6) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_addr = in6addr_loopback;
        sa = (struct sockaddr *)&sin6;
    } else {
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa = (struct sockaddr *)&sin;
    }
    unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *d =
        MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_HTTPS_MEM_KEY, key,
                         MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_END);
    if (!d)
        return NULL;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *OUT_port = info ? info->port : 0;
    return d;
}

/* GET / over TLS, verifying the server against ca_pem for host (DNS, also sent as SNI) or ip.
 * Returns 0 and the body in out when the handshake verified and the body is right, else the
 * X509 verification error (or -1 for other failures). */
static long tls_get(uint16_t port, int v6, const char *ca_pem, const char *host, const char *ip)
{
    long result = -1;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    int fd = -1;
    BIO *bio = BIO_new_mem_buf(ca_pem, -1);
    X509 *ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(ca);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
    X509_free(ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);
    ssl = SSL_new(ctx);
    if (host) {
        SSL_set_tlsext_host_name(ssl, host);
        SSL_set1_host(ssl, host);
    }
    if (ip)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip);

    fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc;
    if (v6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        a.sin6_addr = in6addr_loopback;
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    assert_int_equal(rc, 0);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        long v = SSL_get_verify_result(ssl);
        result = v != X509_V_OK ? v : -1;
        goto out;
    }
    if (SSL_get_verify_result(ssl) != X509_V_OK) {
        result = SSL_get_verify_result(ssl);
        goto out;
    }
    const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    assert_int_equal(SSL_write(ssl, req, (int)strlen(req)), (int)strlen(req));
    char buf[4096];
    size_t n = 0;
    for (;;) {
        int r = SSL_read(ssl, buf + n, (int)(sizeof buf - 1 - n));
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, body_ok))
        result = 0;
out:
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return result;
}

static void serve_and_verify(enum pd_key_kind ca_kind, enum pd_key_kind kind)
{
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = time(NULL);
    char *ca, *cakey, *cert, *key, *ca2, *ca2key;
    assert_int_equal(pd_x509_ca_new(ca_kind, now, &a, &ca, &cakey), PD_OK);
    const char *extra[] = {"abc.gr7.us-east-1.eks.amazonaws.com"};
    assert_int_equal(pd_x509_server_new(ca, cakey, kind, extra, 1, now, &a, &cert, &key), PD_OK);
    uint16_t port = 0;
    struct MHD_Daemon *d = start(cert, key, 0, &port);
    assert_non_null(d); /* GnuTLS read our PKCS#8 key and certificate */
    assert_int_not_equal(port, 0);

    assert_int_equal(tls_get(port, 0, ca, "localhost", NULL), 0);
    assert_int_equal(tls_get(port, 0, ca, NULL, "127.0.0.1"), 0);
    assert_int_equal(tls_get(port, 0, ca, "bucket.s3.localhost", NULL), 0);
    assert_int_equal(tls_get(port, 0, ca, "abc.gr7.us-east-1.eks.amazonaws.com", NULL), 0);
    assert_int_equal(tls_get(port, 0, ca, "example.com", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
    assert_int_equal(tls_get(port, 0, ca, NULL, "127.0.0.2"), X509_V_ERR_IP_ADDRESS_MISMATCH);
    assert_int_equal(pd_x509_ca_new(ca_kind, now, &a, &ca2, &ca2key), PD_OK);
    assert_int_equal(tls_get(port, 0, ca2, "localhost", NULL),
                     X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    MHD_stop_daemon(d);
    pd_arena_cleanup(&a);
}

static void tls_ec(void **state)
{
    serve_and_verify(PD_KEY_EC_P256, PD_KEY_EC_P256);
}

static void tls_rsa(void **state)
{
    serve_and_verify(PD_KEY_RSA_2048, PD_KEY_RSA_2048);
}

static void tls_mixed(void **state)
{
    serve_and_verify(PD_KEY_RSA_2048, PD_KEY_EC_P256);
}

static void tls_ipv6(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = time(NULL);
    char *ca, *cakey, *cert, *key;
    assert_int_equal(pd_x509_ca_new(PD_KEY_EC_P256, now, &a, &ca, &cakey), PD_OK);
    assert_int_equal(pd_x509_server_new(ca, cakey, PD_KEY_EC_P256, NULL, 0, now, &a, &cert, &key),
                     PD_OK);
    uint16_t port = 0;
    struct MHD_Daemon *d = start(cert, key, 1, &port);
    if (!d) {
        pd_arena_cleanup(&a);
        skip(); /* no IPv6 loopback on this machine */
    }
    assert_int_equal(tls_get(port, 1, ca, NULL, "::1"), 0);
    assert_int_equal(tls_get(port, 1, ca, "localhost", NULL), 0);
    MHD_stop_daemon(d);
    pd_arena_cleanup(&a);
}

int main(void)
{
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        fprintf(stderr, "libmicrohttpd built without TLS; skipping\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls_ec),
        cmocka_unit_test(tls_rsa),
        cmocka_unit_test(tls_mixed),
        cmocka_unit_test(tls_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
