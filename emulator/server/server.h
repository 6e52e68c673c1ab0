/*
 * server.h - the HTTP and HTTPS listeners (libmicrohttpd), nothing more.
 *
 * Turns each HTTP request into a struct pd_req (raw method, path, query, lower-cased
 * headers, body bounded by cfg max_body), hands it to dispatch, and writes back r->resp.
 * Knows nothing of AWS: the whole pipeline runs without sockets in tests.
 */
#ifndef PD_SERVER_SERVER_H
#define PD_SERVER_SERVER_H

#include <sys/socket.h>

struct pd_env;
struct pd_server;

/* Start listening on addr ("127.0.0.1:4566", "[::1]:0", ":4566"; NULL: no listening socket,
 * only connections handed over with pd_server_adopt). tls_cert_pem/key_pem: serve TLS, with
 * this certificate for clients that send no server name and, when env->name_hooks are set,
 * a leaf per served name (NULL for plain HTTP). OUT_port: the bound port (0 without addr).
 * Returns PD_OK, or PD_EINVAL (bad address) / PD_EIO (cannot bind, bad certificate) with a
 * message in *OUT_err (static). */
int pd_server_start(struct pd_env *env, const char *addr, const char *tls_cert_pem,
                    const char *tls_key_pem, struct pd_server **OUT, int *OUT_port,
                    const char **OUT_err);
void pd_server_stop(struct pd_server *s);

/* Hand an accepted socket (non-blocking) to s as if s had accepted it; s owns it afterwards
 * and closes it, on failure too. tls_host: for a TLS listener, the name whose certificate a
 * client that sends no server name gets (the CONNECT host), or NULL. Requests on it are marked
 * proxied. PD_OK or PD_EIO. Any thread. */
int pd_server_adopt(struct pd_server *s, int fd, const struct sockaddr *peer, socklen_t peer_len,
                    const char *tls_host);

/* addr ("127.0.0.1:4566", "[::1]:0", ":4566", "localhost:0") as a socket address. PD_OK or
 * PD_EINVAL with a message in *OUT_err (static). */
int pd_server_sockaddr(const char *addr, struct sockaddr_storage *OUT, socklen_t *OUT_len,
                       const char **OUT_err);

/* Split "host:port" / "[v6]:port" / ":port" into parts (host may become ""). Returns PD_OK
 * or PD_EINVAL. */
int pd_server_parse_addr(const char *addr, char *host, unsigned hostlen, int *OUT_port);

#endif
