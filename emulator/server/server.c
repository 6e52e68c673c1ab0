/*
 * server.c - libmicrohttpd glue: the only file that includes <microhttpd.h>.
 *
 * Per request: the URI-log callback (first to see a request) makes the struct pd_req and
 * keeps the raw URI; the access handler collects headers, then body bytes (capped, or
 * handed to a body sink the dispatcher installed), then calls pd_dispatch and queues
 * r->resp; the completion callback frees the request. MHD answers `Expect: 100-continue`
 * and decodes chunked transfer encoding itself.
 *
 * Streamed responses (r->resp.stream, stream.h: Kubernetes watches, followed logs) go out
 * chunked from a content-reader callback. When the service has nothing to send the
 * connection is suspended, holding no thread, until the service wakes it; a client that
 * stops reading leaves the connection unwritable, and --idle-timeout closes it. At stop,
 * every stream is told to end and parked connections are resumed first.
 *
 * Slow clients: libmicrohttpd's own timeout (--idle-timeout) closes a connection that sends
 * nothing for that long, but a client trickling a header byte a second never trips it. A
 * watchdog thread therefore tracks every connection (libmicrohttpd's connection
 * notifications) and shuts down the socket of one whose request headers are not complete
 * --header-timeout seconds after it opened or after its previous response.
 *
 * Idle connections cannot lock others out: a connection is idle while it waits for a
 * request's headers (just opened, or parked between keep-alive requests). When the listener
 * nears --max-connections, or one peer address holds half of it, the connection that just
 * started makes room by closing the longest-idle ones (of that address for the per-address
 * cap); a connection in the middle of a request is never closed for room. A peer address
 * over its cap with nothing idle to close has its new connection refused.
 *
 * TLS certificates by name: the TLS daemon picks a certificate per connection in a GnuTLS
 * retrieve callback (libmicrohttpd puts the connection in the session's pointer). No server
 * name (a client dialling an IP literal): the listener's own certificate. A name podiam
 * serves (env->name_hooks): a leaf minted for exactly that name on first use, kept in a
 * bounded cache (a leaf evicted while a handshake still holds it is freed after that
 * connection closes). Any other name: the handshake fails. GnuTLS stays in this file.
 *
 * Connections from the proxy (server/proxy.c) arrive through pd_server_adopt; for a CONNECT
 * tunnel the CONNECT host stands in for a missing server name. Absolute-form request targets
 * (GET http://host/path, what proxies receive) are taken on every listener: the path comes
 * from the URI, the authority replaces the Host header, and an authority podiam does not
 * serve is refused with 403. CONNECT itself is answered only by the proxy listener.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "dispatch.h"
#include "env.h"
#include "req.h"
#include "server/proxy.h"
#include "stream.h"

#define LEAF_CACHE_MAX 256    /* minted leaf certificates kept per TLS listener */
#define ADOPT_EXPIRY_MS 10000 /* an adopted socket's note unclaimed this long is stale */

/* A minted leaf certificate (under pd_server.tls_lock). */
struct leaf {
    char name[PD_PROXY_HOST_MAX + 1];
    gnutls_pcert_st pcert;
    unsigned refs; /* 1 while cached, + 1 per connection whose handshake chose it */
    uint64_t used; /* cache clock at the last use (the least recent goes first) */
};

/* A streamed response (stream.h) being sent: the reader's state (under pd_server.lock for the
 * list links). */
struct strm {
    struct strm *prev, *next;
    struct pd_server *s;
    struct MHD_Connection *c;
    struct pd_stream *st;
};

/* A socket handed over by the proxy, until its connection starts (under pd_server.lock). */
struct adopted {
    struct adopted *next;
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char *tls_host; /* the CONNECT host, or NULL */
    int64_t expires_ms;
};

/* One open connection: the header deadline (prev, next, deadline_ms under pd_server.lock),
 * what the TLS handshake chose, and whether it came through the proxy (those only touched on
 * the connection's own thread). */
struct track {
    struct track *prev, *next;
    struct pd_server *s;
    int fd;
    struct sockaddr_storage peer; /* to check the fd still is this connection */
    socklen_t peer_len;
    int64_t deadline_ms; /* monotonic; 0 while a request is being read or answered */
    int64_t idle_ms;     /* monotonic time it began waiting for headers; 0: in a request */
    int evicted;         /* shut down to make room: no longer counted */
    int proxied;         /* handed over by the proxy */
    char *tls_host;      /* CONNECT host: the certificate when the client sends no name */
    struct leaf *leaf;   /* the certificate its handshake chose (a reference), or NULL */
    int refused;         /* the handshake was refused (logged once) */
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
    struct track conns;      /* list head */
    unsigned nconns;         /* tracked connections not evicted (under lock) */
    unsigned max_conns;      /* libmicrohttpd's limit (--max-connections) */
    unsigned room_at;        /* from this many connections on, idle ones make room */
    unsigned per_peer_max;   /* connections one peer address may hold */
    struct adopted *adopted; /* sockets from the proxy not started yet (under lock) */
    struct strm *streams;    /* streamed responses being sent (under lock) */

    /* TLS by server name */
    pthread_mutex_t tls_lock;
    int by_name;               /* the certificate callback is in use */
    gnutls_pcert_st own_pcert; /* the listener's certificate (no server name, localhost) */
    gnutls_privkey_t own_key;
    gnutls_privkey_t leaf_key; /* the key of every minted leaf (env->name_hooks) */
    struct leaf *leaves[LEAF_CACHE_MAX];
    size_t nleaves;
    uint64_t clock;
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

/* Headers of a request are in (busy: deadline off), or a response is done (idle: waiting for
 * the next request's headers, deadline on). */
static void track_set(struct pd_server *s, struct MHD_Connection *c, int waiting)
{
    struct track *t = track_of(c);
    if (!t)
        return;
    int64_t now = mono_ms();
    pthread_mutex_lock(&s->lock);
    t->idle_ms = waiting ? now : 0;
    t->deadline_ms = waiting && s->header_ms ? now + s->header_ms : 0;
    pthread_mutex_unlock(&s->lock);
}

/* Same peer address (not port)? */
static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return 0;
}

static int same_peer(const struct track *t);

/* Close the longest-idle connection other than t (of t's address when of_peer); 0 if none is
 * idle. Under s->lock. */
static int evict_one(struct pd_server *s, const struct track *t, int of_peer)
{
    struct track *oldest = NULL;
    for (struct track *u = s->conns.next; u != &s->conns; u = u->next) {
        if (u == t || u->evicted || !u->idle_ms || u->fd < 0)
            continue;
        if (of_peer && !same_address(&u->peer, &t->peer))
            continue;
        if (!oldest || u->idle_ms < oldest->idle_ms)
            oldest = u;
    }
    if (!oldest)
        return 0;
    oldest->evicted = 1;
    s->nconns--;
    if (same_peer(oldest))
        shutdown(oldest->fd, SHUT_RDWR); /* libmicrohttpd sees EOF and closes */
    return 1;
}

/* A connection just started (t, counted): keep the listener and t's address under their
 * bounds by closing idle connections; refuse t itself when its address is over its cap and
 * has nothing idle to give. Under s->lock. */
static void make_room(struct pd_server *s, struct track *t)
{
    unsigned evicted = 0;
    while (s->nconns > s->room_at && evict_one(s, t, 0))
        evicted++;
    unsigned mine = 0;
    for (struct track *u = s->conns.next; u != &s->conns; u = u->next)
        mine += !u->evicted && same_address(&u->peer, &t->peer);
    while (mine > s->per_peer_max && evict_one(s, t, 1)) {
        mine--;
        evicted++;
    }
    if (evicted)
        pd_log(PD_LOG_INFO, "http: %u idle connection(s) closed to admit a new one (%u open)",
               evicted, s->nconns);
    if (mine > s->per_peer_max && t->fd >= 0) {
        pd_log(PD_LOG_WARN,
               "http: a peer address holds %u connections, over its cap of %u: "
               "refusing one more",
               mine - 1, s->per_peer_max);
        t->evicted = 1;
        s->nconns--;
        shutdown(t->fd, SHUT_RDWR);
    }
}

static void leaf_unref(struct pd_server *s, struct leaf *l);

/* The note the proxy left for this socket, if any: moved into t. Under s->lock. */
static void claim_adopted(struct pd_server *s, struct track *t)
{
    int64_t now = mono_ms();
    for (struct adopted **pp = &s->adopted; *pp;) {
        struct adopted *a = *pp;
        int mine = t->fd >= 0 && a->fd == t->fd && a->peer_len == t->peer_len &&
                   memcmp(&a->peer, &t->peer, a->peer_len) == 0;
        if (mine || now >= a->expires_ms) {
            if (mine) {
                t->proxied = 1;
                t->tls_host = a->tls_host;
                a->tls_host = NULL;
            }
            *pp = a->next;
            free(a->tls_host);
            free(a);
            continue;
        }
        pp = &a->next;
    }
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct pd_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct track *t = pd_xcalloc(1, sizeof *t);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        t->s = s;
        t->fd = ci ? ci->connect_fd : -1;
        t->peer_len = sizeof t->peer;
        if (t->fd < 0 || getpeername(t->fd, (struct sockaddr *)&t->peer, &t->peer_len))
            t->fd = -1;
        pthread_mutex_lock(&s->lock);
        if (s->adopted)
            claim_adopted(s, t);
        int64_t now = mono_ms();
        t->idle_ms = now;
        t->deadline_ms = t->fd >= 0 && s->header_ms ? now + s->header_ms : 0;
        t->next = s->conns.next;
        t->prev = &s->conns;
        s->conns.next->prev = t;
        s->conns.next = t;
        s->nconns++;
        if (t->fd >= 0 && (s->nconns > s->room_at || s->nconns > s->per_peer_max))
            make_room(s, t);
        pthread_mutex_unlock(&s->lock);
        *socket_context = t;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        /* libmicrohttpd closes the socket after this returns: the watchdog, holding the
         * lock, never shuts down a descriptor that was reused */
        struct track *t = *socket_context;
        pthread_mutex_lock(&s->lock);
        t->prev->next = t->next;
        t->next->prev = t->prev;
        if (!t->evicted)
            s->nconns--;
        pthread_mutex_unlock(&s->lock);
        if (t->leaf) {
            pthread_mutex_lock(&s->tls_lock);
            leaf_unref(s, t->leaf);
            pthread_mutex_unlock(&s->tls_lock);
        }
        free(t->tls_host);
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
        struct timespec until = pd_timespec_after_ms(CLOCK_REALTIME, 250);
        pthread_cond_timedwait(&s->wake, &s->lock, &until);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- TLS certificates by server name ---- */

/* Drop one reference; the last frees the leaf. Under s->tls_lock. */
static void leaf_unref(struct pd_server *s, struct leaf *l)
{
    (void)s;
    if (--l->refs == 0) {
        gnutls_pcert_deinit(&l->pcert);
        free(l);
    }
}

/* The cached leaf for name (lower case), with a reference for the caller; NULL if not cached.
 * Under s->tls_lock. */
static struct leaf *leaf_find(struct pd_server *s, const char *name)
{
    for (size_t i = 0; i < s->nleaves; i++) {
        if (strcmp(s->leaves[i]->name, name) == 0) {
            s->leaves[i]->used = ++s->clock;
            s->leaves[i]->refs++;
            return s->leaves[i];
        }
    }
    return NULL;
}

/* The leaf for name (lower case), minted if need be, with a reference for the caller; NULL
 * when podiam does not serve name or minting fails. */
static struct leaf *leaf_get(struct pd_server *s, const char *name)
{
    pthread_mutex_lock(&s->tls_lock);
    struct leaf *l = leaf_find(s, name);
    pthread_mutex_unlock(&s->tls_lock);
    if (l)
        return l;
    struct pd_env *env = s->env;
    if (!env->name_hooks.served(env, name)) /* may ask the store: outside the lock */
        return NULL;
    pthread_mutex_lock(&s->tls_lock);
    l = leaf_find(s, name); /* another handshake may have minted it meanwhile */
    if (l)
        goto out;
    char *pem = NULL;
    if (env->name_hooks.leaf(env, name, &pem) != PD_OK)
        goto out;
    l = pd_xcalloc(1, sizeof *l);
    memcpy(l->name, name, strnlen(name, sizeof l->name - 1)); /* callers bound it */
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    int grc = gnutls_pcert_import_x509_raw(&l->pcert, &d, GNUTLS_X509_FMT_PEM, 0);
    free(pem);
    if (grc < 0) {
        pd_log(PD_LOG_ERROR, "tls: cannot load the certificate minted for %s: %s", name,
               gnutls_strerror(grc));
        free(l);
        l = NULL;
        goto out;
    }
    if (s->nleaves == LEAF_CACHE_MAX) {
        size_t old = 0;
        for (size_t i = 1; i < s->nleaves; i++)
            if (s->leaves[i]->used < s->leaves[old]->used)
                old = i;
        leaf_unref(s, s->leaves[old]);
        s->leaves[old] = s->leaves[--s->nleaves];
    }
    l->refs = 2; /* the cache's and the caller's */
    l->used = ++s->clock;
    s->leaves[s->nleaves++] = l;
    pd_log(PD_LOG_DEBUG, "tls: minted a certificate for %s", name);
out:
    pthread_mutex_unlock(&s->tls_lock);
    return l;
}

/* GnuTLS asks which certificate to present (possibly more than once per handshake). */
static int pick_certificate(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                            const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                            gnutls_pcert_st **OUT_pcert, unsigned int *OUT_n,
                            gnutls_privkey_t *OUT_key)
{
    (void)req_ca_dn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    struct MHD_Connection *c = gnutls_session_get_ptr(session);
    struct track *t = c ? track_of(c) : NULL;
    if (!t)
        return -1;
    struct pd_server *s = t->s;
    char name[PD_PROXY_HOST_MAX + 2];
    size_t len = sizeof name - 1;
    unsigned type = 0;
    const char *want = NULL;
    int grc = gnutls_server_name_get(session, name, &len, &type, 0);
    if (grc == 0 && type == GNUTLS_NAME_DNS && len > 0 && len <= PD_PROXY_HOST_MAX) {
        name[len] = '\0';
        for (size_t i = 0; i < len; i++)
            name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        want = name;
    } else if (grc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
        want = t->tls_host; /* no server name: the CONNECT host, else the listener's own */
    } else {
        want = ""; /* a name too long, or not a DNS name: served by nothing */
    }
    if (!want || strcmp(want, "localhost") == 0 || !s->leaf_key || !s->env->name_hooks.served) {
        *OUT_pcert = &s->own_pcert;
        *OUT_n = 1;
        *OUT_key = s->own_key;
        return 0;
    }
    if (!t->leaf || strcmp(t->leaf->name, want) != 0) {
        struct leaf *l = *want ? leaf_get(s, want) : NULL;
        if (!l) {
            if (!t->refused)
                pd_log(PD_LOG_INFO, "tls: handshake for %.*s refused: not a name podiam serves", 64,
                       want);
            t->refused = 1;
            return -1;
        }
        if (t->leaf) {
            pthread_mutex_lock(&s->tls_lock);
            leaf_unref(s, t->leaf);
            pthread_mutex_unlock(&s->tls_lock);
        }
        t->leaf = l;
    }
    *OUT_pcert = &t->leaf->pcert;
    *OUT_n = 1;
    *OUT_key = s->leaf_key;
    return 0;
}

/* Load the listener's own certificate and the leaf key for pick_certificate. */
static int tls_by_name_init(struct pd_server *s, const char *cert, const char *key)
{
    gnutls_datum_t cd = {(unsigned char *)cert, (unsigned)strlen(cert)};
    gnutls_datum_t kd = {(unsigned char *)key, (unsigned)strlen(key)};
    if (gnutls_pcert_import_x509_raw(&s->own_pcert, &cd, GNUTLS_X509_FMT_PEM, 0) < 0)
        return PD_EINVAL;
    if (gnutls_privkey_init(&s->own_key) < 0 ||
        gnutls_privkey_import_x509_raw(s->own_key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
        goto fail;
    const char *lk = s->env->name_hooks.leaf_key_pem;
    if (lk) {
        gnutls_datum_t ld = {(unsigned char *)lk, (unsigned)strlen(lk)};
        if (gnutls_privkey_init(&s->leaf_key) < 0 ||
            gnutls_privkey_import_x509_raw(s->leaf_key, &ld, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
            goto fail;
    }
    s->by_name = 1;
    return PD_OK;
fail:
    if (s->leaf_key)
        gnutls_privkey_deinit(s->leaf_key);
    if (s->own_key)
        gnutls_privkey_deinit(s->own_key);
    s->leaf_key = s->own_key = NULL;
    gnutls_pcert_deinit(&s->own_pcert);
    return PD_EINVAL;
}

static void tls_by_name_cleanup(struct pd_server *s)
{
    if (!s->by_name)
        return;
    for (size_t i = 0; i < s->nleaves; i++)
        leaf_unref(s, s->leaves[i]);
    s->nleaves = 0;
    gnutls_pcert_deinit(&s->own_pcert);
    gnutls_privkey_deinit(s->own_key);
    if (s->leaf_key)
        gnutls_privkey_deinit(s->leaf_key);
    s->by_name = 0;
}

/* Per-request connection state kept in *con_cls. */
struct conn {
    struct pd_req *r;
    int started;           /* headers collected and dispatch told */
    int rejected;          /* an early response is queued; discard the rest of the body */
    int pending;           /* the body was refused midway: queue the response once it is read */
    const char *authority; /* absolute-form target: its authority (arena), else NULL */
};

/* An absolute-form target (http://AUTHORITY/path?query): the authority, and the rest of the
 * URI from the path on ("" when it has none). NULL when uri is no absolute-form. */
static const char *absolute_form(struct pd_req *r, const char *uri, const char **OUT_rest)
{
    size_t skip;
    if (strncasecmp(uri, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(uri, "https://", 8) == 0)
        skip = 8;
    else
        return NULL;
    size_t n = strcspn(uri + skip, "/?#");
    *OUT_rest = uri + skip + n;
    return pd_arena_strndup(&r->arena, uri + skip, n);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct pd_server *s = cls;
    struct conn *cn = pd_xcalloc(1, sizeof *cn);
    cn->r = pd_req_new(s->env);
    struct pd_req *r = cn->r;
    const char *rest;
    cn->authority = absolute_form(r, uri, &rest);
    if (cn->authority) {
        /* the path (and query) of the target; "/" when it names none */
        uri = *rest == '/' ? rest : pd_arena_printf(&r->arena, "/%s", rest);
        r->proxied = 1;
    }
    const char *q = strchr(uri, '?');
    r->path =
        q ? pd_arena_strndup(&r->arena, uri, (size_t)(q - uri)) : pd_arena_strdup(&r->arena, uri);
    r->query = q ? pd_arena_strdup(&r->arena, q + 1) : "";
    r->tls = s->tls;
    struct track *t = track_of(c);
    if (t && t->proxied)
        r->proxied = 1;
    return cn;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct conn *cn = cls;
    struct pd_req *r = cn->r;
    if (cn->authority && strcasecmp(key, "host") == 0)
        return MHD_YES; /* the target's authority is the Host (RFC 9112 §3.2.2) */
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

/* ---- streamed responses (stream.h) ---- */

static void resume_conn(void *arg)
{
    MHD_resume_connection(arg);
}

/* libmicrohttpd sends the chunks of an unfinished body corked (MSG_MORE, TCP_CORK): before
 * the connection is parked, what was sent must leave the kernel, or the client sees each
 * event only when the next one comes. */
static void push_sent(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci || ci->connect_fd < 0)
        return;
    int off = 0, on = 1;
    setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
    setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

/* MHD asks for more of a streamed body: what the service has, or park the connection until
 * the service wakes it (nothing waits, nothing polls). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct strm *t = cls;
    for (;;) {
        if (atomic_load(&t->st->closing))
            return MHD_CONTENT_READER_END_OF_STREAM;
        long n = t->st->read(t->st, buf, max);
        if (n > 0)
            return (ssize_t)n;
        if (n == PD_STREAM_END)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (n < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (pd_stream_park(t->st))
            continue;
        push_sent(t->c);
        MHD_suspend_connection(t->c);
        if (pd_stream_parked(t->st))
            MHD_resume_connection(t->c);
        return 0;
    }
}

/* The response is destroyed (sent, client gone, or server stopping): the service lets go. */
static void stream_free(void *cls)
{
    struct strm *t = cls;
    struct pd_server *s = t->s;
    pthread_mutex_lock(&s->lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        s->streams = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&s->lock);
    if (t->st->done)
        t->st->done(t->st);
    free(t);
}

/* A chunked response fed by r->resp.stream (taken over from the request). */
static struct MHD_Response *stream_response(struct pd_server *s, struct MHD_Connection *c,
                                            struct pd_req *r)
{
    struct strm *t = pd_xcalloc(1, sizeof *t);
    t->s = s;
    t->c = c;
    t->st = r->resp.stream;
    r->resp.stream = NULL;
    t->st->resume = resume_conn;
    t->st->resume_arg = c;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, t, stream_free);
    if (!resp) {
        if (t->st->done)
            t->st->done(t->st);
        free(t);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    t->next = s->streams;
    if (t->next)
        t->next->prev = t;
    s->streams = t;
    pthread_mutex_unlock(&s->lock);
    return resp;
}

/* Stopping: every streamed body ends, and no connection stays suspended (libmicrohttpd must
 * not be stopped with suspended connections). Waits a little for parked ones to resume. */
static void end_streams(struct pd_server *s)
{
    for (int tries = 0; tries < 200; tries++) {
        struct pd_stream *wake[64];
        size_t n = 0;
        int parked = 0;
        pthread_mutex_lock(&s->lock);
        for (struct strm *t = s->streams; t; t = t->next) {
            atomic_store(&t->st->closing, 1);
            if (pd_stream_is_parked(t->st))
                parked = 1;
            if (n < sizeof wake / sizeof *wake && pd_stream_wake(t->st))
                wake[n++] = t->st;
        }
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; i < n; i++)
            pd_stream_resume(wake[i]); /* parked until resumed: still alive */
        if (!parked && !n)
            return;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    pd_log(PD_LOG_WARN, "http: streamed responses still parked at shutdown");
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

static enum MHD_Result send_resp(struct pd_server *s, struct MHD_Connection *c, struct pd_req *r)
{
    struct pd_resp *o = &r->resp;
    struct MHD_Response *resp;
    int head = r->method && strcmp(r->method, "HEAD") == 0;
    const char *head_len = head && !o->body.len ? pd_kvs_get(&o->hdrs, "Content-Length", 1) : NULL;
    char *small = NULL;
    int streamed = o->stream && !head;
    if (streamed) {
        resp = stream_response(s, c, r);
    } else if (o->fd >= 0 && o->fd_len <= SMALL_FILE_BODY && (small = read_small(o)) != NULL) {
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
        /* MHD refuses an empty value; one space is the same empty field on the wire (OWS),
         * and S3 sends empty ones (x-amz-meta-* set to "") */
        MHD_add_response_header(resp, o->hdrs.v[i].name,
                                *o->hdrs.v[i].value ? o->hdrs.v[i].value : " ");
    }
    if (o->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, o->content_type);
    if (streamed)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache, private");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)(o->status ? o->status : 500), resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A text answer set on the request (r->resp) for send_resp. */
static void text_answer(struct pd_req *r, int status, const char *msg)
{
    r->resp.status = status;
    r->resp.content_type = "text/plain";
    pd_buf_adds(&r->resp.body, msg);
}

/* A header value holding a control character other than HTAB (RFC 9110 section 5.5) is
 * refused with 400 before anything reads it, as AWS's front ends and kube-apiserver refuse
 * it (s3-tests' *_to_unreadable_* metadata cases). 1 with the answer set, else 0. */
static int refuse_header_values(struct pd_req *r)
{
    for (size_t i = 0; i < r->hdrs.n; i++) {
        for (const unsigned char *v = (const unsigned char *)r->hdrs.v[i].value; *v; v++) {
            if ((*v < 0x20 && *v != '\t') || *v == 0x7f) {
                text_answer(r, 400, "");
                pd_buf_printf(&r->resp.body,
                              "podiam: the value of header %s holds a control character\n",
                              r->hdrs.v[i].name);
                pd_req_set_header(r, "Connection", "close");
                return 1;
            }
        }
    }
    return 0;
}

/* Requests no listener here answers: CONNECT (the proxy listener's), and an absolute-form
 * target whose authority is malformed or names a host podiam does not serve. 1 with the
 * answer set on the request, else 0. */
static int refuse_target(struct pd_server *s, struct conn *cn)
{
    struct pd_req *r = cn->r;
    if (strcmp(r->method, "CONNECT") == 0) {
        text_answer(r, 405,
                    "podiam: CONNECT is answered on the proxy listener (--listen-proxy), not "
                    "here\n");
        pd_req_set_header(r, "Connection", "close");
        return 1;
    }
    if (!cn->authority)
        return 0;
    char host[PD_PROXY_HOST_MAX + 1];
    int port;
    if (pd_proxy_parse_authority(cn->authority, strlen(cn->authority), s->tls ? 443 : 80, 0, host,
                                 &port)) {
        text_answer(r, 400, "podiam: malformed authority in the request target\n");
        return 1;
    }
    if (pd_proxy_host_served(s->env, host))
        return 0;
    pd_log_req(PD_LOG_INFO, r->request_id,
               "proxy: %s http://%s%s refused: not a host podiam serves (podiam never "
               "forwards)",
               r->method, cn->authority, r->path);
    text_answer(r, 403, "");
    pd_buf_printf(&r->resp.body,
                  "podiam: %s is not a host podiam serves; podiam answers only for AWS "
                  "endpoints, its hosted issuers and itself, and never forwards anywhere\n",
                  host);
    return 1;
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
        MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, cn);
        if (cn->authority)
            pd_kvs_add(&r->arena, &r->hdrs, "host", cn->authority, strlen(cn->authority), 1);
        peer(c, r);
        if (refuse_header_values(r) || refuse_target(cls, cn) || pd_dispatch_headers(r) != PD_OK) {
            cn->rejected = 1;
            return send_resp(cls, c, r);
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
        return send_resp(cls, c, r);
    }
    pd_dispatch(r);
    return send_resp(cls, c, r);
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

int pd_server_sockaddr(const char *addr, struct sockaddr_storage *OUT, socklen_t *OUT_len,
                       const char **OUT_err)
{
    char host[128];
    int port;
    if (pd_server_parse_addr(addr, host, sizeof host, &port)) {
        *OUT_err = "listen address must be HOST:PORT, [V6]:PORT or :PORT";
        return PD_EINVAL;
    }
    memset(OUT, 0, sizeof *OUT);
    if (strchr(host, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)OUT;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
            *OUT_err = "listen address is not a valid IPv6 address";
            return PD_EINVAL;
        }
        *OUT_len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)OUT;
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
        *OUT_len = sizeof *s4;
    }
    return PD_OK;
}

int pd_server_start(struct pd_env *env, const char *addr, const char *cert, const char *key,
                    struct pd_server **OUT, int *OUT_port, const char **OUT_err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    /* MHD_USE_ITC: the proxy hands sockets over (MHD_add_connection) from its own thread;
     * suspend/resume: streamed responses park their connection while they wait */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (addr) {
        if (pd_server_sockaddr(addr, &ss, &sl, OUT_err))
            return PD_EINVAL;
        if (ss.ss_family == AF_INET6)
            flags |= MHD_USE_IPv6;
    } else {
        flags |= MHD_USE_NO_LISTEN_SOCKET;
    }
    struct pd_server *s = pd_xcalloc(1, sizeof *s);
    s->env = env;
    s->tls = cert != NULL;
    s->header_ms = (int64_t)env->cfg.header_timeout * 1000;
    s->conns.next = s->conns.prev = &s->conns;
    s->max_conns = env->cfg.max_connections > 8 ? (unsigned)env->cfg.max_connections : 8;
    s->room_at = s->max_conns - s->max_conns / 8; /* room before libmicrohttpd refuses */
    s->per_peer_max = s->max_conns / 2;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->tls_lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (s->tls) {
        flags |= MHD_USE_TLS;
        if (tls_by_name_init(s, cert, key)) {
            *OUT_err = "the TLS certificate or key does not load";
            goto fail;
        }
    }
    unsigned threads = (unsigned)(env->cfg.threads > 0 ? env->cfg.threads : 4);
    struct MHD_OptionItem opts[] = {
        {addr ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, 0, addr ? (void *)&ss : NULL},
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (s->tls) {
        /* certificates by server name (pick_certificate); GnuTLS 3 callback type */
        gnutls_certificate_retrieve_function2 *pick = pick_certificate;
        opts[addr ? 1 : 0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, pick};
    }
    /* Per-connection memory (headers, read buffer). libmicrohttpd 0.9.75 zeroes the whole
     * pool between requests on a keep-alive connection, so its size is paid on every
     * request: 512 KiB cost small requests 15-40% (memset was 16% of the CPU of 4 KiB
     * GETs); 64 KiB keeps reads of uploads large enough. */
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_error, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)env->cfg.idle_timeout, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_CONNECTION_LIMIT, s->max_conns, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!s->d) {
        *OUT_err = "cannot listen (address in use, or not permitted)";
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    *OUT_port = addr && info ? info->port : 0;
    if (s->header_ms && pthread_create(&s->watchdog, NULL, watchdog, s) == 0)
        s->watching = 1;
    *OUT = s;
    return PD_OK;
fail:
    tls_by_name_cleanup(s);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->tls_lock);
    pthread_cond_destroy(&s->wake);
    free(s);
    return PD_EIO;
}

int pd_server_adopt(struct pd_server *s, int fd, const struct sockaddr *peer, socklen_t peer_len,
                    const char *tls_host)
{
    struct adopted *a = pd_xcalloc(1, sizeof *a);
    a->fd = fd;
    a->peer_len = peer_len <= sizeof a->peer ? peer_len : (socklen_t)sizeof a->peer;
    memcpy(&a->peer, peer, a->peer_len);
    a->tls_host = tls_host ? pd_xstrdup(tls_host) : NULL;
    a->expires_ms = mono_ms() + ADOPT_EXPIRY_MS;
    pthread_mutex_lock(&s->lock);
    a->next = s->adopted;
    s->adopted = a;
    pthread_mutex_unlock(&s->lock);
    if (MHD_add_connection(s->d, fd, peer, peer_len) == MHD_YES)
        return PD_OK;
    /* the socket is closed; the note goes unless the connection started and took it */
    pthread_mutex_lock(&s->lock);
    for (struct adopted **pp = &s->adopted; *pp; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            free(a->tls_host);
            free(a);
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    pd_log(PD_LOG_WARN, "proxy: the listener did not take a connection (%s)", strerror(errno));
    return PD_EIO;
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
    end_streams(s);
    MHD_stop_daemon(s->d);
    tls_by_name_cleanup(s);
    while (s->adopted) {
        struct adopted *a = s->adopted;
        s->adopted = a->next;
        free(a->tls_host);
        free(a);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->tls_lock);
    pthread_cond_destroy(&s->wake);
    free(s);
}
