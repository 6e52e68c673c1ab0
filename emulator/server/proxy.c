/*
 * proxy.c - the forward proxy listener (see proxy.h): the request-head parser, then one
 * thread that reads heads without consuming them and hands sockets to the listeners.
 *
 * Reading a head with MSG_PEEK leaves the bytes in the socket for libmicrohttpd (an
 * absolute-form request is then read again by the HTTP daemon, as if it had arrived there).
 * So that poll() does not report the same unread bytes forever, a connection whose head is
 * incomplete gets SO_RCVLOWAT one past what is buffered (Linux honours it in poll for TCP)
 * and is woken only by more bytes, its end, or its deadline; the mark is back at 1 before
 * the socket is handed over.
 */
#include "server/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "env.h"
#include "server/server.h"

/* ---- the request head ---- */

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

int pd_proxy_host_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}

int pd_proxy_host_served(struct pd_env *env, const char *host)
{
    if (pd_proxy_host_loopback(host))
        return 1;
    return env->name_hooks.served && env->name_hooks.served(env, host);
}

int pd_proxy_parse_authority(const char *s, size_t n, int default_port, int need_port,
                             char *host_out, int *OUT_port)
{
    const char *h = s, *rest;
    size_t hl;
    if (n == 0)
        return PD_EINVAL;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return PD_EINVAL;
        h = s + 1;
        hl = (size_t)(close - h);
        rest = close + 1;
        if (hl == 0 || hl > 45)
            return PD_EINVAL;
        char v6[46];
        unsigned char bin[16];
        memcpy(v6, h, hl);
        v6[hl] = '\0';
        if (inet_pton(AF_INET6, v6, bin) != 1)
            return PD_EINVAL;
    } else {
        const char *colon = memchr(s, ':', n);
        hl = colon ? (size_t)(colon - s) : n;
        rest = s + hl;
        if (hl && h[hl - 1] == '.')
            hl--; /* an absolute name (sts.amazonaws.com.) */
        if (hl == 0 || hl > PD_PROXY_HOST_MAX)
            return PD_EINVAL;
        char prev = '.';
        for (size_t i = 0; i < hl; i++) {
            char c = h[i];
            int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.';
            if (!ok || (c == '.' && prev == '.'))
                return PD_EINVAL; /* odd bytes (user info '@' among them), an empty label */
            prev = c;
        }
    }
    size_t left = n - (size_t)(rest - s);
    int port = default_port;
    if (left) {
        if (*rest != ':' || left < 2 || left > 6)
            return PD_EINVAL;
        port = 0;
        for (size_t i = 1; i < left; i++) {
            if (rest[i] < '0' || rest[i] > '9')
                return PD_EINVAL;
            port = port * 10 + (rest[i] - '0');
        }
        if (port < 1 || port > 65535)
            return PD_EINVAL;
    } else if (need_port) {
        return PD_EINVAL;
    }
    for (size_t i = 0; i < hl; i++)
        host_out[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
    host_out[hl] = '\0';
    *OUT_port = port;
    return PD_OK;
}

/* The request target: its form, and the host and port for CONNECT and absolute-form. */
static int parse_target(const char *t, size_t n, const char *method, struct pd_proxy_head *o)
{
    if (strcmp(method, "CONNECT") == 0) {
        o->form = PD_PROXY_CONNECT;
        return pd_proxy_parse_authority(t, n, 0, 1, o->host, &o->port);
    }
    if (t[0] == '/' || (n == 1 && t[0] == '*')) {
        o->form = PD_PROXY_ORIGIN;
        return PD_OK;
    }
    size_t skip;
    if (n >= 7 && strncasecmp(t, "http://", 7) == 0) {
        skip = 7;
    } else if (n >= 8 && strncasecmp(t, "https://", 8) == 0) {
        skip = 8;
        o->https = 1;
    } else {
        return PD_EINVAL;
    }
    size_t end = skip;
    while (end < n && t[end] != '/' && t[end] != '?' && t[end] != '#')
        end++;
    o->form = PD_PROXY_ABSOLUTE;
    return pd_proxy_parse_authority(t + skip, end - skip, o->https ? 443 : 80, 0, o->host,
                                    &o->port);
}

/* The next line of buf[off, n): its length without the line end, and where the next line
 * starts. 0 when no line end is there yet; -1 for a CR not before LF or a NUL. */
static int next_line(const char *buf, size_t n, size_t off, size_t *OUT_len, size_t *OUT_next)
{
    for (size_t i = off; i < n; i++) {
        if (buf[i] == '\n') {
            size_t len = i - off;
            if (len && buf[i - 1] == '\r')
                len--;
            *OUT_len = len;
            *OUT_next = i + 1;
            return 1;
        }
        if (buf[i] == '\0' || (buf[i] == '\r' && i + 1 < n && buf[i + 1] != '\n'))
            return -1;
    }
    return 0;
}

static int parse_request_line(const char *l, size_t n, struct pd_proxy_head *o)
{
    const char *sp1 = memchr(l, ' ', n);
    if (!sp1 || sp1 == l || (size_t)(sp1 - l) >= sizeof o->method)
        return PD_EINVAL;
    size_t ml = (size_t)(sp1 - l);
    for (size_t i = 0; i < ml; i++)
        if (!is_tchar((unsigned char)l[i]))
            return PD_EINVAL;
    memcpy(o->method, l, ml);
    o->method[ml] = '\0';
    const char *t = sp1 + 1, *end = l + n;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (!sp2 || sp2 == t)
        return PD_EINVAL;
    size_t vl = (size_t)(end - sp2 - 1);
    if (vl != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
        return PD_EINVAL;
    for (const char *p = t; p < sp2; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return PD_EINVAL;
    return parse_target(t, (size_t)(sp2 - t), o->method, o);
}

static int valid_header(const char *l, size_t n)
{
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l)
        return 0; /* no name; this also refuses obsolete line folding (a leading space) */
    for (const char *p = l; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return 0;
    for (const char *p = colon + 1; p < l + n; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

int pd_proxy_parse_head(const char *buf, size_t n, struct pd_proxy_head *OUT)
{
    struct pd_proxy_head o;
    memset(&o, 0, sizeof o);
    size_t len, next, off = 0;
    int k = next_line(buf, n, 0, &len, &next);
    if (k < 0)
        return PD_EINVAL;
    if (k == 0) {
        /* what is there must still be able to become a request line */
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)buf[i] < 0x20 && buf[i] != '\r')
                return PD_EINVAL;
        return PD_PROXY_MORE;
    }
    if (parse_request_line(buf, len, &o))
        return PD_EINVAL;
    for (off = next;;) {
        k = next_line(buf, n, off, &len, &next);
        if (k < 0)
            return PD_EINVAL;
        if (k == 0)
            return PD_PROXY_MORE;
        if (len == 0)
            break;
        if (!valid_header(buf + off, len))
            return PD_EINVAL;
        off = next;
    }
    o.head_len = next;
    *OUT = o;
    return PD_OK;
}

/* ---- the listener ---- */

struct pending {
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    int64_t deadline_ms;
};

struct pd_proxy {
    struct pd_env *env;
    struct pd_server *http, *tls;
    int lfd;     /* listening socket */
    int wake[2]; /* pipe: stop */
    pthread_t thread;
    int running;
    int64_t head_ms; /* deadline for a head */
    struct pending p[PD_PROXY_PENDING_MAX];
    size_t n;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_lowat(int fd, int v)
{
    setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
}

/* Take n bytes that are known to be buffered (what was peeked). */
static void consume(int fd, size_t n)
{
    char buf[1024];
    while (n) {
        ssize_t k = recv(fd, buf, n < sizeof buf ? n : sizeof buf, MSG_DONTWAIT);
        if (k <= 0)
            return;
        n -= (size_t)k;
    }
}

/* Answer with a short text response and close. */
static void reply_close(int fd, int status, const char *reason, const char *msg)
{
    char out[1024];
    int blen = (int)strlen(msg);
    int len = snprintf(out, sizeof out,
                       "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                       "Connection: close\r\n\r\n%s",
                       status, reason, blen, msg);
    if (len > 0 && (size_t)len < sizeof out)
        (void)send(fd, out, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_WR);
    /* closing with unread bytes sends a reset, which can destroy the answer before the client
     * reads it: take what has arrived (bounded) */
    consume(fd, 64 * 1024);
    close(fd);
}

static void drop(struct pd_proxy *px, size_t i)
{
    px->p[i] = px->p[--px->n];
}

/* Send a complete head where it goes: a listener, or a refusal. The socket is handed over or
 * closed afterwards. */
static void route(struct pd_proxy *px, struct pending *pc, const struct pd_proxy_head *h)
{
    char msg[512];
    int fd = pc->fd;
    struct pd_server *to = NULL;
    const char *sni = NULL;
    if (h->form == PD_PROXY_ORIGIN) {
        consume(fd, h->head_len);
        reply_close(fd, 400, "Bad Request",
                    "podiam: this is podiam's proxy listener; it takes CONNECT host:443 or "
                    "absolute-form (GET http://host/...) requests. Send other requests to the "
                    "endpoint.\n");
        return;
    }
    if (h->form == PD_PROXY_ABSOLUTE && h->https) {
        consume(fd, h->head_len);
        reply_close(fd, 400, "Bad Request",
                    "podiam: an https:// target goes through CONNECT, not as a proxy request\n");
        return;
    }
    int served = pd_proxy_host_served(px->env, h->host);
    if (served && pd_proxy_host_loopback(h->host)) {
        /* podiam's own listeners, by their ports */
        if (h->form == PD_PROXY_CONNECT && h->port == px->env->https_port && px->env->https_port)
            to = px->tls;
        else if (h->port == px->env->http_port)
            to = px->http;
    } else if (served) {
        if (h->form == PD_PROXY_CONNECT && h->port == 443) {
            to = px->tls;
            sni = h->host;
        } else if (h->port == 80) {
            to = px->http;
        }
    }
    if (!to) {
        int v6 = strchr(h->host, ':') != NULL;
        pd_log(PD_LOG_INFO, "proxy: %s %s%s%s:%d refused: %s (podiam never tunnels)", h->method,
               v6 ? "[" : "", h->host, v6 ? "]" : "", h->port,
               served ? "not a port podiam serves it on" : "not a host podiam serves");
        snprintf(msg, sizeof msg,
                 "podiam: %s%s%s:%d is not %s; podiam answers only for AWS endpoints, its hosted "
                 "issuers and itself, and never tunnels anywhere\n",
                 v6 ? "[" : "", h->host, v6 ? "]" : "", h->port,
                 served ? "a port podiam serves that name on" : "a host podiam serves");
        consume(fd, h->head_len);
        reply_close(fd, 403, "Forbidden", msg);
        return;
    }
    if (h->form == PD_PROXY_CONNECT) {
        static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        consume(fd, h->head_len);
        if (send(fd, ok, sizeof ok - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(sizeof ok - 1)) {
            close(fd);
            return;
        }
    }
    set_lowat(fd, 1);
    /* as on the listeners' own sockets: without it the TLS handshake's several writes wait
     * on the client's delayed acknowledgements (about 50 ms per tunnel, measured) */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pd_log(PD_LOG_DEBUG, "proxy: %s %s:%d -> %s listener", h->method, h->host, h->port,
           to == px->tls ? "TLS" : "HTTP");
    /* the socket is the daemon's from here, closed by it on failure too */
    pd_server_adopt(to, fd, (struct sockaddr *)&pc->peer, pc->peer_len, sni);
}

/* Look at what pc has sent (revents: what poll saw). Returns 1 when pc is done (handed over
 * or closed). */
static int look(struct pd_proxy *px, struct pending *pc, short revents)
{
    char buf[PD_PROXY_HEAD_MAX];
    ssize_t k = recv(pc->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (k <= 0) { /* gone before a whole head */
        close(pc->fd);
        return 1;
    }
    struct pd_proxy_head h;
    int rc = pd_proxy_parse_head(buf, (size_t)k, &h);
    if (rc == PD_OK) {
        route(px, pc, &h);
        return 1;
    }
    if (rc == PD_PROXY_MORE && (size_t)k < sizeof buf) {
        if (revents & (POLLRDHUP | POLLHUP | POLLERR)) {
            close(pc->fd); /* the peer stopped sending halfway through a head */
            return 1;
        }
        set_lowat(pc->fd, (int)k + 1); /* wake on more bytes only */
        return 0;
    }
    consume(pc->fd, (size_t)k);
    if (rc == PD_PROXY_MORE)
        reply_close(pc->fd, 400, "Bad Request",
                    "podiam: request head larger than the proxy's 8192 bytes\n");
    else
        reply_close(pc->fd, 400, "Bad Request", "podiam: malformed proxy request\n");
    pd_log(PD_LOG_DEBUG, "proxy: %s request head refused",
           rc == PD_PROXY_MORE ? "an oversized" : "a malformed");
    return 1;
}

static void accept_all(struct pd_proxy *px)
{
    for (;;) {
        struct pending pc;
        memset(&pc, 0, sizeof pc);
        pc.peer_len = sizeof pc.peer;
        pc.fd = accept4(px->lfd, (struct sockaddr *)&pc.peer, &pc.peer_len,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (pc.fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* the listening socket stays readable: do not spin on it */
                pd_log(PD_LOG_WARN, "proxy: cannot accept: %s", strerror(errno));
                usleep(100 * 1000);
            }
            return;
        }
        if (px->n == PD_PROXY_PENDING_MAX) {
            reply_close(pc.fd, 503, "Service Unavailable",
                        "podiam: too many proxy connections are waiting to send a request\n");
            continue;
        }
        pc.deadline_ms = mono_ms() + px->head_ms;
        px->p[px->n++] = pc;
    }
}

static void *run(void *arg)
{
    struct pd_proxy *px = arg;
    struct pollfd fds[PD_PROXY_PENDING_MAX + 2];
    for (;;) {
        int64_t now = mono_ms(), next = now + 60000;
        for (size_t i = 0; i < px->n;) {
            if (now >= px->p[i].deadline_ms) {
                pd_log(PD_LOG_DEBUG, "proxy: no request head after %lld ms: closing",
                       (long long)px->head_ms);
                close(px->p[i].fd);
                drop(px, i);
                continue;
            }
            if (px->p[i].deadline_ms < next)
                next = px->p[i].deadline_ms;
            i++;
        }
        fds[0] = (struct pollfd){.fd = px->wake[0], .events = POLLIN};
        fds[1] = (struct pollfd){.fd = px->lfd, .events = POLLIN};
        for (size_t i = 0; i < px->n; i++)
            fds[i + 2] = (struct pollfd){.fd = px->p[i].fd, .events = POLLIN | POLLRDHUP};
        int k = poll(fds, px->n + 2, (int)(next - now));
        if (k < 0 && errno != EINTR)
            break;
        if (k <= 0)
            continue;
        if (fds[0].revents)
            break;
        /* back to front: drop() moves the last entry into the dropped one's place */
        for (size_t i = px->n; i-- > 0;) {
            if (fds[i + 2].revents && look(px, &px->p[i], fds[i + 2].revents))
                drop(px, i);
        }
        if (fds[1].revents & POLLIN)
            accept_all(px);
    }
    return NULL;
}

int pd_proxy_start(struct pd_env *env, const char *addr, struct pd_server *http,
                   struct pd_server *tls, struct pd_proxy **OUT, int *OUT_port,
                   const char **OUT_err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (pd_server_sockaddr(addr, &ss, &sl, OUT_err))
        return PD_EINVAL;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0) {
        *OUT_err = "cannot make a socket";
        return PD_EIO;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 128)) {
        close(fd);
        *OUT_err = "cannot listen (address in use, or not permitted)";
        return PD_EIO;
    }
    struct pd_proxy *px = pd_xcalloc(1, sizeof *px);
    px->env = env;
    px->http = http;
    px->tls = tls;
    px->lfd = fd;
    px->head_ms = (int64_t)(env->cfg.header_timeout > 0 ? env->cfg.header_timeout : 30) * 1000;
    if (pipe2(px->wake, O_CLOEXEC)) {
        close(fd);
        free(px);
        *OUT_err = "cannot make a pipe";
        return PD_EIO;
    }
    if (pthread_create(&px->thread, NULL, run, px)) {
        close(px->wake[0]);
        close(px->wake[1]);
        close(fd);
        free(px);
        *OUT_err = "cannot start the proxy thread";
        return PD_EIO;
    }
    px->running = 1;
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &bl);
    *OUT_port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
    *OUT = px;
    return PD_OK;
}

void pd_proxy_stop(struct pd_proxy *px)
{
    if (!px)
        return;
    if (px->running) {
        char c = 1;
        if (write(px->wake[1], &c, 1) != 1)
            pd_log(PD_LOG_WARN, "proxy: cannot wake the proxy thread");
        pthread_join(px->thread, NULL);
    }
    for (size_t i = 0; i < px->n; i++)
        close(px->p[i].fd);
    close(px->lfd);
    close(px->wake[0]);
    close(px->wake[1]);
    free(px);
}
