/*
 * server.c - libmicrohttpd glue: the only file that includes <microhttpd.h>.
 *
 * Per request: the URI-log callback (first to see a request) makes the struct pd_req and
 * keeps the raw URI; the access handler collects headers, then body bytes (capped, or
 * handed to a body sink the dispatcher installed), then calls pd_dispatch and queues
 * r->resp; the completion callback frees the request. MHD answers `Expect: 100-continue`
 * and decodes chunked transfer encoding itself.
 *
 * Slow clients: libmicrohttpd's own timeout (--idle-timeout) closes a connection that sends
 * nothing for that long, but a client trickling a header byte a second never trips it. A
 * watchdog thread therefore tracks every connection (libmicrohttpd's connection
 * notifications) and shuts down the socket of one whose request headers are not complete
 * --header-timeout seconds after it opened or after its previous response.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
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
#include "dispatch.h"
#include "env.h"
#include "req.h"

/* One open connection, for the header deadline (all fields under pd_server.lock). */
struct track {
    struct track *prev, *next;
    int fd;
    struct sockaddr_storage peer; /* to check the fd still is this connection */
    socklen_t peer_len;
    int64_t deadline_ms; /* monotonic; 0 while a request is being read or answered */
};

struct pd_server {
    struct MHD_Daemon *d;
    struct pd_env *env;
    int tls;
    int64_t header_ms; /* header deadline, 0: none */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t watchdog;
    int watching, stopping;
    struct track conns; /* list head */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct track *track_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Headers of a request are in (deadline off), or a response is done (deadline on). */
static void track_set(struct pd_server *s, struct MHD_Connection *c, int waiting)
{
    if (!s->header_ms)
        return;
    struct track *t = track_of(c);
    if (!t)
        return;
    pthread_mutex_lock(&s->lock);
    t->deadline_ms = waiting ? mono_ms() + s->header_ms : 0;
    pthread_mutex_unlock(&s->lock);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct pd_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct track *t = pd_xcalloc(1, sizeof *t);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        t->fd = ci ? ci->connect_fd : -1;
        t->peer_len = sizeof t->peer;
        if (t->fd < 0 || getpeername(t->fd, (struct sockaddr *)&t->peer, &t->peer_len))
            t->fd = -1;
        pthread_mutex_lock(&s->lock);
        t->deadline_ms = t->fd >= 0 && s->header_ms ? mono_ms() + s->header_ms : 0;
        t->next = s->conns.next;
        t->prev = &s->conns;
        s->conns.next->prev = t;
        s->conns.next = t;
        pthread_mutex_unlock(&s->lock);
        *socket_context = t;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        /* libmicrohttpd closes the socket after this returns: the watchdog, holding the
         * lock, never shuts down a descriptor that was reused */
        struct track *t = *socket_context;
        pthread_mutex_lock(&s->lock);
        t->prev->next = t->next;
        t->next->prev = t->prev;
        pthread_mutex_unlock(&s->lock);
        free(t);
        *socket_context = NULL;
    }
}

/* Is fd still the connection to this peer? (belt and braces against a reused fd) */
static int same_peer(const struct track *t)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(t->fd, (struct sockaddr *)&ss, &len) || len != t->peer_len)
        return 0;
    return memcmp(&ss, &t->peer, len) == 0;
}

static void *watchdog(void *arg)
{
    struct pd_server *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int64_t now = mono_ms();
        for (struct track *t = s->conns.next; t != &s->conns; t = t->next) {
            if (t->deadline_ms && now >= t->deadline_ms) {
                t->deadline_ms = 0;
                if (same_peer(t)) {
                    pd_log(PD_LOG_DEBUG, "http: request headers not in after %lld ms: closing",
                           (long long)s->header_ms);
                    shutdown(t->fd, SHUT_RDWR); /* libmicrohttpd sees EOF and closes */
                }
            }
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Per-request connection state kept in *con_cls. */
struct conn {
    struct pd_req *r;
    int started;  /* headers collected and dispatch told */
    int rejected; /* an early response is queued; discard the rest of the body */
    int pending;  /* the body was refused midway: queue the response once it is read */
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct pd_server *s = cls;
    struct conn *cn = pd_xcalloc(1, sizeof *cn);
    cn->r = pd_req_new(s->env);
    struct pd_req *r = cn->r;
    const char *q = strchr(uri, '?');
    r->path =
        q ? pd_arena_strndup(&r->arena, uri, (size_t)(q - uri)) : pd_arena_strdup(&r->arena, uri);
    r->query = q ? pd_arena_strdup(&r->arena, q + 1) : "";
    r->tls = s->tls;
    return cn;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct pd_req *r = cls;
    pd_kvs_add(&r->arena, &r->hdrs, key, value ? value : "", value ? strlen(value) : 0, 1);
    return MHD_YES;
}

static void peer(struct MHD_Connection *c, struct pd_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->peer_ip,
                  sizeof r->peer_ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->peer_ip,
                  sizeof r->peer_ip);
}

static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    (void)pos;
    (void)buf;
    (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

#define SMALL_FILE_BODY (64 * 1024)

/* The whole [fd_off, fd_off + fd_len) of a small file-backed body, malloc'd; the fd is
 * closed. NULL (fd kept) when it cannot be read at once. */
static char *read_small(struct pd_resp *o)
{
    char *p = pd_xmalloc(o->fd_len ? (size_t)o->fd_len : 1);
    size_t got = 0;
    while (got < (size_t)o->fd_len) {
        ssize_t k =
            pread(o->fd, p + got, (size_t)o->fd_len - got, (off_t)(o->fd_off + (int64_t)got));
        if (k <= 0) {
            free(p);
            return NULL;
        }
        got += (size_t)k;
    }
    close(o->fd);
    o->fd = -1;
    return p;
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct pd_req *r)
{
    struct pd_resp *o = &r->resp;
    struct MHD_Response *resp;
    int head = r->method && strcmp(r->method, "HEAD") == 0;
    const char *head_len = head && !o->body.len ? pd_kvs_get(&o->hdrs, "Content-Length", 1) : NULL;
    char *small = NULL;
    if (o->fd >= 0 && o->fd_len <= SMALL_FILE_BODY && (small = read_small(o)) != NULL) {
        /* a small file goes out with the headers in one write, not send + sendfile */
        resp = MHD_create_response_from_buffer((size_t)o->fd_len, small, MHD_RESPMEM_MUST_FREE);
    } else if (o->fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64((uint64_t)o->fd_len, o->fd,
                                                       (uint64_t)o->fd_off);
        o->fd = -1; /* MHD closes it */
    } else if (head_len && strtoull(head_len, NULL, 10) > 0) {
        /* A HEAD answer states the length of a body it does not send: a response of that
         * size whose reader MHD never calls for HEAD. */
        resp = MHD_create_response_from_callback(strtoull(head_len, NULL, 10), 4096, no_body, NULL,
                                                 NULL);
    } else {
        size_t len;
        char *body = pd_buf_steal(&o->body, &len);
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    }
    if (!resp)
        return MHD_NO;
    for (size_t i = 0; i < o->hdrs.n; i++) {
        /* MHD writes Content-Length from the response's size */
        if (strcasecmp(o->hdrs.v[i].name, "Content-Length") == 0)
            continue;
        MHD_add_response_header(resp, o->hdrs.v[i].name, o->hdrs.v[i].value);
    }
    if (o->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, o->content_type);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)(o->status ? o->status : 500), resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct conn *cn = *con_cls;
    if (!cn)
        return MHD_NO; /* cannot happen: on_uri runs first */
    struct pd_req *r = cn->r;

    if (!cn->started) {
        cn->started = 1;
        track_set(cls, c, 0);
        r->method = pd_arena_strdup(&r->arena, method);
        MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, r);
        peer(c, r);
        if (pd_dispatch_headers(r) != PD_OK) {
            cn->rejected = 1;
            return send_resp(c, r);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (cn->rejected)
            return MHD_YES;
        if (pd_dispatch_body(r, upload_data, n) != PD_OK) {
            /* MHD takes no response while a body is being received: discard the rest of
             * the body and answer once it is in */
            cn->rejected = 1;
            cn->pending = 1;
        }
        return MHD_YES;
    }
    if (cn->rejected) {
        if (!cn->pending)
            return MHD_YES;
        cn->pending = 0;
        return send_resp(c, r);
    }
    pd_dispatch(r);
    return send_resp(c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    track_set(cls, c, 1); /* the next request's headers are due */
    struct conn *cn = *con_cls;
    if (!cn)
        return;
    if (cn->r)
        pd_req_free(cn->r);
    free(cn);
    *con_cls = NULL;
}

static void on_error(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    pd_log(PD_LOG_DEBUG, "http: %s", msg);
}

int pd_server_parse_addr(const char *addr, char *host, unsigned hostlen, int *OUT_port)
{
    const char *colon;
    const char *h = addr;
    size_t hl;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return PD_EINVAL;
        h = addr + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return PD_EINVAL;
        hl = (size_t)(colon - addr);
    }
    if (hl >= hostlen)
        return PD_EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return PD_EINVAL;
    *OUT_port = (int)port;
    return PD_OK;
}

int pd_server_start(struct pd_env *env, const char *addr, const char *cert, const char *key,
                    struct pd_server **OUT, int *OUT_port, const char **OUT_err)
{
    char host[128];
    int port;
    if (pd_server_parse_addr(addr, host, sizeof host, &port)) {
        *OUT_err = "listen address must be HOST:PORT, [V6]:PORT or :PORT";
        return PD_EINVAL;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (strchr(host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
            *OUT_err = "listen address is not a valid IPv6 address";
            return PD_EINVAL;
        }
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (!*host || strcmp(host, "0.0.0.0") == 0)
            s4->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (strcmp(host, "localhost") == 0)
            s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
            *OUT_err = "listen address is not a valid IPv4 address";
            return PD_EINVAL;
        }
    }
    struct pd_server *s = pd_xcalloc(1, sizeof *s);
    s->env = env;
    s->tls = cert != NULL;
    s->header_ms = (int64_t)env->cfg.header_timeout * 1000;
    s->conns.next = s->conns.prev = &s->conns;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (s->tls)
        flags |= MHD_USE_TLS;
    unsigned threads = (unsigned)(env->cfg.threads > 0 ? env->cfg.threads : 4);
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key},
        {MHD_OPTION_END, 0, NULL},
    };
    /* Per-connection memory (headers, read buffer). libmicrohttpd 0.9.75 zeroes the whole
     * pool between requests on a keep-alive connection, so its size is paid on every
     * request: 512 KiB cost small requests 15-40% (memset was 16% of the CPU of 4 KiB
     * GETs); 64 KiB keeps reads of uploads large enough. */
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_error, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)env->cfg.idle_timeout,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_ARRAY,
        s->tls ? tls_opts : tls_opts + 2, MHD_OPTION_END);
    if (!s->d) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->wake);
        free(s);
        *OUT_err = "cannot listen (address in use, or not permitted)";
        return PD_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    *OUT_port = info ? info->port : port;
    if (s->header_ms && pthread_create(&s->watchdog, NULL, watchdog, s) == 0)
        s->watching = 1;
    *OUT = s;
    return PD_OK;
}

void pd_server_stop(struct pd_server *s)
{
    if (!s)
        return;
    if (s->watching) {
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->watchdog, NULL);
    }
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}
