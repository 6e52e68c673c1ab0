/* test_server.c - the listeners (server/server.c) on ephemeral loopback ports with a whole
 * podiam behind them: the TLS certificate chosen per server name (a leaf minted for a served
 * name, verified by an OpenSSL client against podiam's CA; the listener's own certificate
 * without a name; a refused handshake for any other name; hosted issuer hosts asked of the
 * store; the bounded cache, with a leaf evicted while a connection still uses it), a socket
 * handed over with a CONNECT host standing in for a missing server name, and absolute-form
 * request targets and CONNECT on the plain listener. */
#include "pipeline_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "names.h"
#include "server/server.h"
#include "services/oidc.h"

struct fixture {
    struct pd_env *env;
    struct pd_server *tls, *http;
    int tls_port, http_port;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    const char *why = NULL;
    pd_log_level = PD_LOG_WARN;
    f->env = pt_env_new();
    assert_int_equal(pd_names_init(f->env, &why), PD_OK);
    assert_int_equal(pd_server_start(f->env, "127.0.0.1:0", f->env->secrets->tls_cert_pem,
                                     f->env->secrets->tls_key_pem, &f->tls, &f->tls_port, &why),
                     PD_OK);
    assert_int_equal(
        pd_server_start(f->env, "127.0.0.1:0", NULL, NULL, &f->http, &f->http_port, &why), PD_OK);
    f->env->https_port = f->tls_port;
    f->env->http_port = f->http_port;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pd_server_stop(f->tls);
    pd_server_stop(f->http);
    pd_names_cleanup(f->env);
    pt_env_free(f->env);
    free(f);
    return 0;
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

struct tls_conn {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
};

/* TLS on fd, sending sni (NULL: none), trusting only ca_pem, strict X.509 checks, and checking
 * the certificate names check_host (or check_ip). Returns 1 on a verified handshake, 0 when the
 * handshake failed; the connection stays open in *c either way (tls_close). */
static int tls_open(struct tls_conn *c, int fd, const char *ca_pem, const char *sni,
                    const char *check_host, const char *check_ip)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->ctx = SSL_CTX_new(TLS_client_method());
    BIO *bio = BIO_new_mem_buf(ca_pem, -1);
    X509 *ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(ca);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx), ca);
    X509_free(ca);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(c->ctx), X509_V_FLAG_X509_STRICT);
    c->ssl = SSL_new(c->ctx);
    if (sni)
        SSL_set_tlsext_host_name(c->ssl, sni);
    if (check_host)
        SSL_set1_host(c->ssl, check_host);
    if (check_ip)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), check_ip);
    SSL_set_fd(c->ssl, fd);
    int ok = SSL_connect(c->ssl) == 1 && SSL_get_verify_result(c->ssl) == X509_V_OK;
    ERR_clear_error();
    return ok;
}

static void tls_close(struct tls_conn *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    close(c->fd);
    ERR_clear_error();
}

/* The DNS names of the certificate the server presented. */
static int peer_sans(struct tls_conn *c, char out[][256], int max)
{
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    assert_non_null(x);
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int n = 0;
    for (int i = 0; g && i < sk_GENERAL_NAME_num(g) && n < max; i++) {
        GENERAL_NAME *e = sk_GENERAL_NAME_value(g, i);
        if (e->type == GEN_DNS)
            snprintf(out[n++], 256, "%.*s", ASN1_STRING_length(e->d.dNSName),
                     (const char *)ASN1_STRING_get0_data(e->d.dNSName));
    }
    GENERAL_NAMES_free(g);
    X509_free(x);
    return n;
}

/* One request over an open TLS connection; the status code. */
static int tls_request(struct tls_conn *c, const char *host, const char *path)
{
    char req[512], buf[8192];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
    assert_int_equal(SSL_write(c->ssl, req, (int)strlen(req)), (int)strlen(req));
    int n = SSL_read(c->ssl, buf, sizeof buf - 1);
    assert_true(n > 12);
    buf[n] = '\0';
    return atoi(buf + 9);
}

/* Served names get a leaf for exactly that name. */
static void sni_served_names(void **state)
{
    struct fixture *f = *state;
    const char *ca = f->env->secrets->ca_cert_pem;
    static const char *const names[] = {"sts.amazonaws.com",
                                        "sts.eu-west-1.amazonaws.com",
                                        "iam.amazonaws.com",
                                        "eks.us-east-1.amazonaws.com",
                                        "eks-auth.us-east-1.api.aws",
                                        "s3.amazonaws.com",
                                        "s3-echoer-demo.s3.amazonaws.com",
                                        "mybucket.s3-us-west-2.amazonaws.com",
                                        "mybucket.s3.dualstack.us-west-2.amazonaws.com",
                                        "oidc.eks.us-east-1.amazonaws.com",
                                        "bucket.s3.localhost"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct tls_conn c;
        if (!tls_open(&c, tcp_connect(f->tls_port), ca, names[i], names[i], NULL))
            fail_msg("%s: no verified handshake", names[i]);
        char sans[4][256];
        assert_int_equal(peer_sans(&c, sans, 4), 1);
        assert_string_equal(sans[0], names[i]);
        /* the request is answered (health: any host) */
        assert_int_equal(tls_request(&c, names[i], "/_podiam/health"), 200);
        tls_close(&c);
    }
    /* any case in the server name */
    struct tls_conn c;
    assert_true(
        tls_open(&c, tcp_connect(f->tls_port), ca, "STS.AmazonAWS.com", "sts.amazonaws.com", NULL));
    tls_close(&c);
}

/* No server name, or localhost: the listener's own certificate (localhost, 127.0.0.1, ::1). */
static void sni_none_is_own_certificate(void **state)
{
    struct fixture *f = *state;
    const char *ca = f->env->secrets->ca_cert_pem;
    struct tls_conn c;
    assert_true(tls_open(&c, tcp_connect(f->tls_port), ca, NULL, NULL, "127.0.0.1"));
    char sans[8][256];
    int n = peer_sans(&c, sans, 8);
    assert_true(n >= 2);
    assert_string_equal(sans[0], "localhost");
    tls_close(&c);
    assert_true(tls_open(&c, tcp_connect(f->tls_port), ca, "localhost", "localhost", NULL));
    assert_string_equal((peer_sans(&c, sans, 8), sans[0]), "localhost");
    tls_close(&c);
}

/* A name podiam does not serve: the handshake fails, and the server goes on. */
static void sni_refused(void **state)
{
    struct fixture *f = *state;
    const char *ca = f->env->secrets->ca_cert_pem;
    static const char *const names[] = {"example.com", "s3-echoer-demo.amazonaws.com",
                                        "sts.amazonaws.com.evil.example", "ab.s3.amazonaws.com",
                                        "sts.nowhere.amazonaws.com"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct tls_conn c;
        if (tls_open(&c, tcp_connect(f->tls_port), ca, names[i], NULL, NULL))
            fail_msg("%s: handshake succeeded", names[i]);
        tls_close(&c);
    }
    struct tls_conn c;
    assert_true(
        tls_open(&c, tcp_connect(f->tls_port), ca, "sts.amazonaws.com", "sts.amazonaws.com", NULL));
    tls_close(&c);
}

/* A stand-alone issuer's host is served once the issuer is hosted (asked of the store). */
static void sni_hosted_issuer(void **state)
{
    struct fixture *f = *state;
    const char *ca = f->env->secrets->ca_cert_pem;
    const char *host = "token.actions.example.org";
    struct tls_conn c;
    assert_false(tls_open(&c, tcp_connect(f->tls_port), ca, host, NULL, NULL));
    tls_close(&c);
    struct pd_db *db = pd_store_db(f->env->store);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    assert_int_equal(
        pd_oidc_issuer_create(f->env, db, "https://Token.Actions.Example.org/ci", NULL, NULL),
        PD_OK);
    assert_int_equal(pd_db_commit(db), PD_OK);
    assert_true(pd_names_served(f->env, host));
    assert_false(pd_names_served(f->env, "actions.example.org"));
    assert_false(pd_names_served(f->env, "xtoken.actions.example.org"));
    assert_true(tls_open(&c, tcp_connect(f->tls_port), ca, host, host, NULL));
    tls_close(&c);
    assert_false(tls_open(&c, tcp_connect(f->tls_port), ca, "other.example.org", NULL, NULL));
    tls_close(&c);
}

/* More names than the cache holds; a leaf evicted while its connection is open keeps working
 * (ASan would see a use after free), and an evicted name is minted again. */
static void sni_cache_bound(void **state)
{
    struct fixture *f = *state;
    const char *ca = f->env->secrets->ca_cert_pem;
    struct tls_conn first;
    assert_true(tls_open(&first, tcp_connect(f->tls_port), ca, "keep-0.s3.amazonaws.com",
                         "keep-0.s3.amazonaws.com", NULL));
    for (int i = 1; i <= 300; i++) {
        char name[64];
        snprintf(name, sizeof name, "keep-%d.s3.amazonaws.com", i);
        struct tls_conn c;
        if (!tls_open(&c, tcp_connect(f->tls_port), ca, name, name, NULL))
            fail_msg("%s: no verified handshake", name);
        tls_close(&c);
    }
    assert_int_equal(tls_request(&first, "keep-0.s3.amazonaws.com", "/_podiam/health"), 200);
    tls_close(&first);
    assert_true(tls_open(&first, tcp_connect(f->tls_port), ca, "keep-0.s3.amazonaws.com",
                         "keep-0.s3.amazonaws.com", NULL));
    tls_close(&first);
}

/* A socket handed over as the proxy does after CONNECT: without a server name the client gets
 * the CONNECT host's certificate; with one, that name's. */
static void adopted_connect_host(void **state)
{
    struct fixture *f = *state;
    const char *ca = f->env->secrets->ca_cert_pem;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    static const struct {
        const char *sni, *want;
    } cases[] = {{NULL, "oidc.eks.us-east-1.amazonaws.com"},
                 {"sts.amazonaws.com", "sts.amazonaws.com"}};
    for (size_t i = 0; i < 2; i++) {
        int cfd = tcp_connect(ntohs(a.sin_port));
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int sfd = accept(lfd, (struct sockaddr *)&peer, &pl);
        assert_true(sfd >= 0);
        assert_int_equal(pd_server_adopt(f->tls, sfd, (struct sockaddr *)&peer, pl,
                                         "oidc.eks.us-east-1.amazonaws.com"),
                         PD_OK);
        struct tls_conn c;
        if (!tls_open(&c, cfd, ca, cases[i].sni, cases[i].want, NULL))
            fail_msg("case %zu: no verified handshake for %s", i, cases[i].want);
        char sans[4][256];
        assert_int_equal(peer_sans(&c, sans, 4), 1);
        assert_string_equal(sans[0], cases[i].want);
        assert_int_equal(tls_request(&c, cases[i].want, "/_podiam/health"), 200);
        tls_close(&c);
    }
    close(lfd);
}

/* A plain request over TCP; the whole response (up to the connection's close). */
static void http_exchange(int port, const char *req, char *out, size_t max)
{
    int fd = tcp_connect(port);
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    size_t n = 0;
    for (;;) {
        ssize_t k = recv(fd, out + n, max - 1 - n, 0);
        if (k <= 0 || (n += (size_t)k) == max - 1)
            break;
    }
    out[n] = '\0';
    close(fd);
}

static void absolute_form_targets(void **state)
{
    struct fixture *f = *state;
    char buf[8192];
    /* a served authority: routed by the path, the authority as Host */
    http_exchange(f->http_port,
                  "GET http://sts.amazonaws.com/_podiam/health HTTP/1.1\r\nHost: wrong.example\r\n"
                  "Connection: close\r\n\r\n",
                  buf, sizeof buf);
    assert_true(pd_has_prefix(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "\"status\":\"ok\""));
    /* an unsigned STS call through it: STS answers (the host is STS's) */
    http_exchange(f->http_port,
                  "GET http://sts.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15 "
                  "HTTP/1.1\r\nHost: sts.amazonaws.com\r\nConnection: close\r\n\r\n",
                  buf, sizeof buf);
    assert_non_null(strstr(buf, "MissingAuthenticationToken"));
    /* HTTP/1.0 without a Host header: the authority stands in */
    http_exchange(f->http_port, "GET http://localhost/_podiam/health HTTP/1.0\r\n\r\n", buf,
                  sizeof buf);
    assert_true(pd_has_prefix(buf, "HTTP/1.0 200") || pd_has_prefix(buf, "HTTP/1.1 200"));
    /* a host podiam does not serve: 403, never forwarded */
    http_exchange(f->http_port,
                  "GET http://example.com/_podiam/health HTTP/1.1\r\nHost: example.com\r\n"
                  "Connection: close\r\n\r\n",
                  buf, sizeof buf);
    assert_true(pd_has_prefix(buf, "HTTP/1.1 403"));
    assert_non_null(strstr(buf, "example.com is not a host podiam serves"));
    assert_null(strstr(buf, "\"status\":\"ok\""));
    /* a malformed authority: 400 */
    http_exchange(f->http_port, "GET http://a..b/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                  buf, sizeof buf);
    assert_true(pd_has_prefix(buf, "HTTP/1.1 400"));
    /* CONNECT belongs to the proxy listener */
    http_exchange(f->http_port, "CONNECT sts.amazonaws.com:443 HTTP/1.1\r\nHost: x\r\n\r\n", buf,
                  sizeof buf);
    assert_true(pd_has_prefix(buf, "HTTP/1.1 405"));
    /* a header value with a control character: 400 before any service sees it; a tab is
     * fine */
    http_exchange(f->http_port,
                  "GET /_podiam/health HTTP/1.1\r\nHost: localhost\r\nx-amz-meta-a: h\x04w\r\n"
                  "Connection: close\r\n\r\n",
                  buf, sizeof buf);
    assert_true(pd_has_prefix(buf, "HTTP/1.1 400"));
    assert_non_null(strstr(buf, "header x-amz-meta-a holds a control character"));
    http_exchange(f->http_port,
                  "GET /_podiam/health HTTP/1.1\r\nHost: localhost\r\nx-a: a\tb\r\n"
                  "Connection: close\r\n\r\n",
                  buf, sizeof buf);
    assert_true(pd_has_prefix(buf, "HTTP/1.1 200"));
    /* origin-form requests are unchanged */
    http_exchange(f->http_port,
                  "GET /_podiam/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                  buf, sizeof buf);
    assert_true(pd_has_prefix(buf, "HTTP/1.1 200"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sni_served_names),      cmocka_unit_test(sni_none_is_own_certificate),
        cmocka_unit_test(sni_refused),           cmocka_unit_test(sni_hosted_issuer),
        cmocka_unit_test(sni_cache_bound),       cmocka_unit_test(adopted_connect_host),
        cmocka_unit_test(absolute_form_targets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
