/*
 * proxy.h - podiam's forward proxy listener (--listen-proxy), for clients that dial the real
 * AWS host names and honour only HTTPS_PROXY / HTTP_PROXY.
 *
 * One thread polls the listening socket and a bounded set of connections whose request head
 * has not arrived (each with a deadline and a byte cap), reading the head with MSG_PEEK. A
 * `CONNECT host:443` to a name podiam serves is answered `200 Connection established`, then
 * the socket goes to the TLS listener's libmicrohttpd daemon, which does the handshake with
 * that name's certificate (SNI, or the CONNECT host when the client sends none) and routes
 * the requests as requests to that host. An absolute-form `GET http://host/…` to a served
 * name goes, unread, to the HTTP daemon. Anything else is refused: 403 and one log line for
 * a host podiam does not serve (podiam never opens a connection anywhere), 400 for a
 * malformed or oversized head, a closed socket for one that never completes.
 *
 * The request-head parser is a pure function (fuzzed: tests/fuzz/fuzz_proxyhead.c).
 * Must not: include libmicrohttpd (server.c hands sockets over), open outbound connections.
 */
#ifndef PD_SERVER_PROXY_H
#define PD_SERVER_PROXY_H

#include <stddef.h>

struct pd_env;
struct pd_server;
struct pd_proxy;

#define PD_PROXY_HEAD_MAX 8192  /* bytes of request line and headers the proxy reads */
#define PD_PROXY_PENDING_MAX 64 /* connections whose head is awaited at once */
#define PD_PROXY_HOST_MAX 253

enum pd_proxy_form {
    PD_PROXY_CONNECT = 1, /* CONNECT host:port (authority-form) */
    PD_PROXY_ABSOLUTE,    /* METHOD http://host[:port]/path (absolute-form) */
    PD_PROXY_ORIGIN,      /* METHOD /path (origin-form; not a proxy request) */
};

struct pd_proxy_head {
    enum pd_proxy_form form;
    size_t head_len; /* request line and headers, through the empty line */
    char method[16];
    char host[PD_PROXY_HOST_MAX + 1]; /* lower case; an IPv6 literal without brackets */
    int port;                         /* given, or the scheme's (80, 443) */
    int https;                        /* absolute-form with https:// */
};

#define PD_PROXY_MORE 1 /* pd_proxy_parse_head: no end of head yet, nothing wrong so far */

/* Parse the request head at buf[0, n): request line (METHOD SP TARGET SP HTTP/1.0|1.1), then
 * header lines up to the empty one; lines end in CRLF (a bare LF is taken too). Returns PD_OK
 * with *OUT filled, PD_PROXY_MORE when the head is not complete (the caller bounds how long
 * and how much), or PD_EINVAL: a malformed request line, method, target, authority (empty or
 * bad host, missing or bad port, user info), version, header line, or a control byte. */
int pd_proxy_parse_head(const char *buf, size_t n, struct pd_proxy_head *OUT);

/* Parse an authority "host[:port]" / "[v6][:port]" of n bytes: host lower-cased into host_out
 * (PD_PROXY_HOST_MAX + 1 bytes), the port or default_port when there is none (need_port:
 * refuse that). Host: DNS characters (one trailing dot dropped) or an IP literal; no user
 * info. PD_OK or PD_EINVAL. */
int pd_proxy_parse_authority(const char *s, size_t n, int default_port, int need_port,
                             char *host_out, int *OUT_port);

/* Is host (from pd_proxy_parse_authority) podiam's own: a loopback address or localhost? */
int pd_proxy_host_loopback(const char *host);
/* Does podiam answer for host: loopback, or a name env->name_hooks serves? 1 / 0. */
int pd_proxy_host_served(struct pd_env *env, const char *host);

/* Start the proxy on addr ("127.0.0.1:4568", port 0 picks one), handing CONNECT tunnels to
 * tls (a TLS pd_server) and absolute-form requests to http. OUT_port: the bound port. PD_OK,
 * or PD_EINVAL / PD_EIO with a static message in *OUT_err. */
int pd_proxy_start(struct pd_env *env, const char *addr, struct pd_server *http,
                   struct pd_server *tls, struct pd_proxy **OUT, int *OUT_port,
                   const char **OUT_err);
/* Stop the thread, close every pending connection and the listening socket (NULL-safe). */
void pd_proxy_stop(struct pd_proxy *p);

#endif
