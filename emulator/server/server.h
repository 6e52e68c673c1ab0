/*
 * server.h - the HTTP and HTTPS listeners (libmicrohttpd), nothing more.
 *
 * Turns each HTTP request into a struct pd_req (raw method, path, query, lower-cased
 * headers, body bounded by cfg max_body), hands it to dispatch, and writes back r->resp.
 * Knows nothing of AWS: the whole pipeline runs without sockets in tests.
 */
#ifndef PD_SERVER_SERVER_H
#define PD_SERVER_SERVER_H

struct pd_env;
struct pd_server;

/* Start listening on addr ("127.0.0.1:4566", "[::1]:0", ":4566"). tls_cert_pem/key_pem:
 * serve TLS with these (NULL for plain HTTP). OUT_port: the bound port. Returns PD_OK, or
 * PD_EINVAL (bad address) / PD_EIO (cannot bind) with a message in *OUT_err (static). */
int pd_server_start(struct pd_env *env, const char *addr, const char *tls_cert_pem,
                    const char *tls_key_pem, struct pd_server **OUT, int *OUT_port,
                    const char **OUT_err);
void pd_server_stop(struct pd_server *s);

/* Split "host:port" / "[v6]:port" / ":port" into parts (host may become ""). Returns PD_OK
 * or PD_EINVAL. */
int pd_server_parse_addr(const char *addr, char *host, unsigned hostlen, int *OUT_port);

#endif
