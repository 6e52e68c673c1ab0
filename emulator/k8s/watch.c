/*
 * watch.c - the per-cluster event log and the watches that read it (see watch.h). Owns the
 * hub (env->k8s): its lock orders publishing, registration and reading; each cluster's ring
 * of events; each open watch (a cursor, filters and the bytes not yet taken by the server);
 * the timer thread. Must not: touch the store outside pd_k8s_commit's commit and the
 * starting list a watch reads in its request's transaction; hold the hub's lock while
 * resuming a connection (stream.h).
 */
#include "k8s/watch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "k8s/internal.h"
#include "req.h"
#include "store/k8s_db.h"
#include "store/store.h"
#include "stream.h"

/* One recorded change. Immutable once published; freed when it leaves the ring. */
struct pd_k8s_ev {
    int64_t rv;
    enum pd_k8s_evtype type;
    const struct pd_k8s_res *res;
    char *ns, *name;
    char *text; /* the object, compact JSON */
    size_t len;
    char *old; /* MODIFIED: the previous state, compact JSON; else NULL */
    size_t bytes;
};

struct watch;

/* One cluster's log: events with floor < rv <= head are all in the ring. */
struct clog {
    struct clog *next;
    char id[33];
    int64_t floor, head;
    struct pd_k8s_ev **ring; /* PD_K8S_LOG_EVENTS slots, oldest at start */
    size_t start, n, bytes;
    struct watch *watches; /* doubly linked through watch.prev/next */
};

struct pd_k8s_hub {
    pthread_mutex_t mu;
    struct clog *logs;
    size_t nwatches;
    struct pd_env *env;
    void (*listener)(void *arg, const char *cluster);
    void *listener_arg;
    /* timer */
    pthread_mutex_t tmu;
    pthread_cond_t tcv;
    pthread_t timer;
    int running, stopping;
};

struct watch {
    struct pd_stream s; /* first: the server's handle */
    struct pd_k8s_hub *hub;
    struct clog *log;
    struct watch *prev, *next;
    struct pd_arena arena; /* selectors, strings */
    const struct pd_k8s_res *res;
    const char *ns; /* NULL: every namespace */
    struct pd_k8s_sel *ls, *fs;
    size_t nls, nfs;
    int64_t cursor;             /* every event up to here was looked at */
    json_t *initial;            /* synthetic ADDED events still to send (array), or NULL */
    size_t initial_i;           /* next of initial */
    int end_bookmark;           /* sendInitialEvents: the initial-events-end bookmark is due */
    int bookmarks;              /* allowWatchBookmarks */
    int table, table_cols_sent; /* events carry Tables (kubectl get -w) */
    int expired;                /* the log lost events this watch needs: 410, then end */
    int ended;                  /* nothing more after out */
    int64_t deadline_ms;        /* monotonic */
    int64_t bookmark_ms;        /* monotonic: next bookmark */
    struct pd_buf out;          /* rendered, not yet taken */
    size_t out_off;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- events ---- */

static void ev_free(struct pd_k8s_ev *e)
{
    if (!e)
        return;
    free(e->ns);
    free(e->name);
    free(e->text);
    free(e->old);
    free(e);
}

void pd_k8s_pending_add(struct pd_k8s_pending *p, enum pd_k8s_evtype type,
                        const struct pd_k8s_res *res, int64_t rv, const json_t *obj,
                        const json_t *old)
{
    struct pd_k8s_ev *e = pd_xcalloc(1, sizeof *e);
    e->rv = rv;
    e->type = type;
    e->res = res;
    const char *ns = pd_k8s_mstr(obj, "namespace");
    const char *name = pd_k8s_mstr(obj, "name");
    e->ns = pd_xstrdup(ns && PD_K8S_NAMESPACED_RES(res) ? ns : "");
    e->name = pd_xstrdup(name ? name : "");
    e->text = json_dumps(obj, JSON_COMPACT);
    if (!e->text)
        e->text = pd_xstrdup("{}");
    e->len = strlen(e->text);
    if (old && type == PD_K8S_MODIFIED) {
        e->old = json_dumps(old, JSON_COMPACT);
        if (!e->old)
            e->old = pd_xstrdup("{}");
    }
    e->bytes = sizeof *e + e->len + (e->old ? strlen(e->old) : 0) + 64;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = pd_xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = e;
}

void pd_k8s_pending_clear(struct pd_k8s_pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        ev_free(p->v[i]);
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

/* ---- logs (under hub->mu) ---- */

static struct clog *log_find(struct pd_k8s_hub *h, const char *id, int create)
{
    for (struct clog *l = h->logs; l; l = l->next)
        if (strcmp(l->id, id) == 0)
            return l;
    if (!create)
        return NULL;
    struct clog *l = pd_xcalloc(1, sizeof *l);
    snprintf(l->id, sizeof l->id, "%s", id);
    l->ring = pd_xcalloc(PD_K8S_LOG_EVENTS, sizeof *l->ring);
    l->floor = l->head = -1; /* set by the first registration or publication */
    l->next = h->logs;
    h->logs = l;
    return l;
}

static void log_drop_oldest(struct clog *l)
{
    struct pd_k8s_ev *e = l->ring[l->start];
    l->ring[l->start] = NULL;
    l->start = (l->start + 1) % PD_K8S_LOG_EVENTS;
    l->n--;
    l->bytes -= e->bytes;
    l->floor = e->rv;
    ev_free(e);
}

static void log_clear(struct clog *l)
{
    while (l->n)
        log_drop_oldest(l);
    l->start = 0;
}

/* Wake w; collect it in *wake when its connection must be resumed after the lock. */
static void wake_one(struct watch *w, struct pd_stream ***wake, size_t *n, size_t *cap)
{
    if (!pd_stream_wake(&w->s))
        return;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *wake = pd_xrealloc(*wake, *cap * sizeof **wake);
    }
    (*wake)[(*n)++] = &w->s;
}

static void resume_all(struct pd_stream **wake, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pd_stream_resume(wake[i]);
    free(wake);
}

/* The log lost track (events it never saw): every watch of it expires; restart at head. */
static void log_reset(struct clog *l, int64_t head, struct pd_stream ***wake, size_t *n,
                      size_t *cap)
{
    log_clear(l);
    for (struct watch *w = l->watches; w; w = w->next) {
        w->expired = 1;
        wake_one(w, wake, n, cap);
    }
    l->floor = l->head = head;
}

static void log_append(struct clog *l, struct pd_k8s_ev *e)
{
    while (l->n && (l->n == PD_K8S_LOG_EVENTS || l->bytes + e->bytes > PD_K8S_LOG_BYTES))
        log_drop_oldest(l);
    l->ring[(l->start + l->n) % PD_K8S_LOG_EVENTS] = e;
    l->n++;
    l->bytes += e->bytes;
    l->head = e->rv;
}

/* ---- the hub ---- */

int pd_k8s_hub_init(struct pd_env *env)
{
    struct pd_k8s_hub *h = pd_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->tmu, NULL);
    pthread_cond_init(&h->tcv, NULL);
    h->env = env;
    env->k8s = h;
    return PD_OK;
}

void pd_k8s_hub_cleanup(struct pd_env *env)
{
    struct pd_k8s_hub *h = env->k8s;
    if (!h)
        return;
    pd_k8s_hub_stop(env);
    while (h->logs) {
        struct clog *l = h->logs;
        h->logs = l->next;
        log_clear(l);
        /* watches still open belong to a server that outlived the hub: cannot happen, the
         * servers stop first (app.c) */
        free(l->ring);
        free(l);
    }
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->tmu);
    pthread_cond_destroy(&h->tcv);
    free(h);
    env->k8s = NULL;
}

void pd_k8s_hub_listen(struct pd_env *env, void (*fn)(void *arg, const char *cluster), void *arg)
{
    struct pd_k8s_hub *h = env->k8s;
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->listener = fn;
    h->listener_arg = arg;
    pthread_mutex_unlock(&h->mu);
}

size_t pd_k8s_hub_watches(struct pd_env *env)
{
    struct pd_k8s_hub *h = env->k8s;
    if (!h)
        return 0;
    pthread_mutex_lock(&h->mu);
    size_t n = h->nwatches;
    pthread_mutex_unlock(&h->mu);
    return n;
}

int pd_k8s_commit(struct pd_env *env, struct pd_db *db, const char *cluster,
                  struct pd_k8s_pending *p)
{
    struct pd_k8s_hub *h = env->k8s;
    if (!h) {
        pd_k8s_pending_clear(p);
        return pd_db_commit(db);
    }
    struct pd_stream **wake = NULL;
    size_t nw = 0, cap = 0;
    void (*listener)(void *, const char *) = NULL;
    void *larg = NULL;
    pthread_mutex_lock(&h->mu);
    int rc = pd_db_commit(db);
    if (rc == PD_OK && p->n) {
        /* the controllers care about workloads, pods, nodes, and any deletion (GC) */
        for (size_t k = 0; k < p->n && !listener; k++) {
            const struct pd_k8s_ev *e = p->v[k];
            const char *g = e->res->group;
            if (e->type == PD_K8S_DELETED || strcmp(g, "apps") == 0 || strcmp(g, "batch") == 0 ||
                strcmp(e->res->qualified, "pods") == 0 || strcmp(e->res->qualified, "nodes") == 0)
                listener = h->listener;
        }
        struct clog *l = log_find(h, cluster, 1);
        size_t i = 0;
        while (i < p->n && l->head >= 0 && p->v[i]->rv <= l->head)
            ev_free(p->v[i++]); /* already in the state a registration read */
        if (i < p->n) {
            if (l->head < 0)
                l->floor = l->head = p->v[i]->rv - 1;
            else if (p->v[i]->rv != l->head + 1)
                log_reset(l, p->v[i]->rv - 1, &wake, &nw, &cap); /* writes it never saw */
        }
        for (; i < p->n; i++)
            log_append(l, p->v[i]);
        free(p->v);
        p->v = NULL;
        p->n = p->cap = 0;
        for (struct watch *w = l->watches; w; w = w->next)
            wake_one(w, &wake, &nw, &cap);
        larg = h->listener_arg;
    }
    pthread_mutex_unlock(&h->mu);
    pd_k8s_pending_clear(p);
    resume_all(wake, nw);
    if (listener)
        listener(larg, cluster);
    return rc;
}

void pd_k8s_hub_invalidate(struct pd_env *env, const char *cluster)
{
    struct pd_k8s_hub *h = env->k8s;
    if (!h)
        return;
    struct pd_stream **wake = NULL;
    size_t nw = 0, cap = 0;
    pthread_mutex_lock(&h->mu);
    for (struct clog *l = h->logs; l; l = l->next)
        if (!cluster || strcmp(l->id, cluster) == 0)
            log_reset(l, -1, &wake, &nw, &cap);
    pthread_mutex_unlock(&h->mu);
    resume_all(wake, nw);
}

size_t pd_k8s_watches(struct pd_env *env)
{
    return pd_k8s_hub_watches(env);
}

void pd_k8s_state_changed(struct pd_env *env, const char *cluster_id)
{
    pd_k8s_hub_invalidate(env, cluster_id);
}

/* ---- the timer: bookmarks and deadlines ---- */

static void *timer_main(void *arg)
{
    struct pd_k8s_hub *h = arg;
    pthread_mutex_lock(&h->tmu);
    while (!h->stopping) {
        struct timespec until = pd_timespec_after_ms(CLOCK_REALTIME, 500);
        pthread_cond_timedwait(&h->tcv, &h->tmu, &until);
        if (h->stopping)
            break;
        pthread_mutex_unlock(&h->tmu);
        struct pd_stream **wake = NULL;
        size_t nw = 0, cap = 0;
        int64_t now = mono_ms();
        pthread_mutex_lock(&h->mu);
        for (struct clog *l = h->logs; l; l = l->next)
            for (struct watch *w = l->watches; w; w = w->next)
                if (now >= w->deadline_ms || (w->bookmarks && now >= w->bookmark_ms))
                    wake_one(w, &wake, &nw, &cap);
        pthread_mutex_unlock(&h->mu);
        resume_all(wake, nw);
        pthread_mutex_lock(&h->tmu);
    }
    pthread_mutex_unlock(&h->tmu);
    return NULL;
}

int pd_k8s_hub_start(struct pd_env *env)
{
    struct pd_k8s_hub *h = env->k8s;
    if (!h || h->running)
        return PD_OK;
    h->stopping = 0;
    if (pthread_create(&h->timer, NULL, timer_main, h) != 0)
        return PD_EINTERNAL;
    h->running = 1;
    return PD_OK;
}

void pd_k8s_hub_stop(struct pd_env *env)
{
    struct pd_k8s_hub *h = env->k8s;
    if (!h || !h->running)
        return;
    pthread_mutex_lock(&h->tmu);
    h->stopping = 1;
    pthread_cond_signal(&h->tcv);
    pthread_mutex_unlock(&h->tmu);
    pthread_join(h->timer, NULL);
    h->running = 0;
}

/* ---- rendering (under hub->mu) ---- */

static const char *type_name(enum pd_k8s_evtype t)
{
    return t == PD_K8S_ADDED ? "ADDED" : t == PD_K8S_MODIFIED ? "MODIFIED" : "DELETED";
}

/* One event line: {"type":T,"object":OBJ}\n, obj as JSON text or a Table of it. */
static void emit(struct watch *w, const char *type, const char *text, size_t len,
                 const json_t *parsed)
{
    pd_buf_adds(&w->out, "{\"type\":\"");
    pd_buf_adds(&w->out, type);
    pd_buf_adds(&w->out, "\",\"object\":");
    if (w->table && parsed) {
        json_t *items = json_pack("[O]", parsed);
        const char *rv = pd_k8s_mstr(parsed, "resourceVersion");
        json_t *t =
            pd_k8s_table(w->res, items, rv ? rv : "", NULL, pd_clock_now_ms(&w->hub->env->clock));
        json_decref(items);
        if (w->table_cols_sent)
            json_object_set_new(t, "columnDefinitions", json_array());
        w->table_cols_sent = 1;
        char *s = json_dumps(t, JSON_COMPACT);
        json_decref(t);
        pd_buf_adds(&w->out, s ? s : "{}");
        free(s);
    } else {
        pd_buf_add(&w->out, text, len);
    }
    pd_buf_adds(&w->out, "}\n");
}

static void emit_json(struct watch *w, const char *type, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    emit(w, type, s ? s : "{}", s ? strlen(s) : 2, obj);
    free(s);
}

static void emit_bookmark(struct watch *w, int64_t rv, int initial_end)
{
    char rvs[24];
    snprintf(rvs, sizeof rvs, "%lld", (long long)rv);
    json_t *md = json_pack("{s:s, s:n}", "resourceVersion", rvs, "creationTimestamp");
    if (initial_end)
        json_object_set_new(md, "annotations",
                            json_pack("{s:s}", "k8s.io/initial-events-end", "true"));
    json_t *o = json_pack("{s:s, s:s, s:o}", "kind", w->res->kind, "apiVersion",
                          w->res->api_version, "metadata", md);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    /* a bookmark is never a Table row */
    int table = w->table;
    w->table = 0;
    emit(w, "BOOKMARK", s, strlen(s), NULL);
    w->table = table;
    free(s);
}

static void emit_expired(struct watch *w, int64_t floor)
{
    char *msg = pd_arena_printf(&w->arena, "too old resource version: %lld (%lld)",
                                (long long)w->cursor, (long long)(floor + 1));
    json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
                           "v1", "metadata", "status", "Failure", "message", msg, "reason",
                           "Expired", "code", 410);
    char *s = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    pd_buf_printf(&w->out, "{\"type\":\"ERROR\",\"object\":%s}\n", s);
    free(s);
    w->ended = 1;
}

/* Does the object (JSON text, parsed into *parsed when needed) pass w's selectors? */
static int passes(struct watch *w, const char *text, json_t **parsed)
{
    if (!w->nls && !w->nfs && !w->table)
        return 1;
    if (!*parsed)
        *parsed = json_loads(text, 0, NULL);
    if (!json_is_object(*parsed))
        return 0;
    return pd_k8s_match(w->res, *parsed, w->ls, w->nls, w->fs, w->nfs);
}

/* The event as w sees it (kube's cacher: a modification into or out of the selection is an
 * ADDED or a DELETED carrying the previous state with the event's resourceVersion). */
static void render_event(struct watch *w, const struct pd_k8s_ev *e)
{
    if (e->res != w->res || (w->ns && strcmp(e->ns, w->ns) != 0))
        return;
    json_t *cur = NULL, *old = NULL;
    int now = passes(w, e->text, &cur);
    if (e->type != PD_K8S_MODIFIED) {
        if (now)
            emit(w, type_name(e->type), e->text, e->len, cur);
    } else {
        int before = e->old ? passes(w, e->old, &old) : 0;
        if (now && before)
            emit(w, "MODIFIED", e->text, e->len, cur);
        else if (now)
            emit(w, "ADDED", e->text, e->len, cur);
        else if (before) {
            if (!old)
                old = json_loads(e->old, 0, NULL);
            if (json_is_object(old)) {
                char rv[24];
                snprintf(rv, sizeof rv, "%lld", (long long)e->rv);
                json_object_set_new(pd_k8s_meta(old), "resourceVersion", json_string(rv));
                emit_json(w, "DELETED", old);
            }
        }
    }
    json_decref(cur);
    json_decref(old);
}

/* Render what is due into w->out (at least max bytes when that much is ready). */
static void fill(struct watch *w, size_t max)
{
    struct clog *l = w->log;
    while (w->initial && w->initial_i < json_array_size(w->initial) && w->out.len < max) {
        json_t *o = json_array_get(w->initial, w->initial_i++);
        emit_json(w, "ADDED", o);
    }
    if (w->initial && w->initial_i >= json_array_size(w->initial)) {
        json_decref(w->initial);
        w->initial = NULL;
    }
    if (w->initial)
        return;
    if (w->end_bookmark) {
        emit_bookmark(w, w->cursor, 1);
        w->end_bookmark = 0;
    }
    if (w->expired || w->cursor < l->floor) {
        emit_expired(w, l->floor);
        return;
    }
    size_t skip = 0;
    if (l->n) {
        /* the ring is ordered by rv: find the first event after the cursor */
        size_t lo = 0, hi = l->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (l->ring[(l->start + mid) % PD_K8S_LOG_EVENTS]->rv <= w->cursor)
                lo = mid + 1;
            else
                hi = mid;
        }
        skip = lo;
    }
    for (size_t i = skip; i < l->n && w->out.len < max; i++) {
        const struct pd_k8s_ev *e = l->ring[(l->start + i) % PD_K8S_LOG_EVENTS];
        render_event(w, e);
        w->cursor = e->rv;
    }
    if (w->cursor < l->head && w->out.len >= max)
        return; /* more to come: the next read continues */
    if (w->cursor < l->head)
        w->cursor = l->head;
    int64_t now = mono_ms();
    if (w->out.len == 0 && w->bookmarks && now >= w->bookmark_ms) {
        emit_bookmark(w, l->head, 0);
        w->bookmark_ms = now + PD_K8S_BOOKMARK_MS;
    }
    if (now >= w->deadline_ms)
        w->ended = 1;
}

static long watch_read(struct pd_stream *s, char *buf, size_t max)
{
    struct watch *w = (struct watch *)s;
    struct pd_k8s_hub *h = w->hub;
    pthread_mutex_lock(&h->mu);
    if (w->out_off >= w->out.len) {
        pd_buf_reset(&w->out);
        w->out_off = 0;
        if (!w->ended)
            fill(w, max);
    }
    size_t n = w->out.len - w->out_off;
    if (n > max)
        n = max;
    if (n)
        memcpy(buf, w->out.p + w->out_off, n);
    w->out_off += n;
    int end = !n && w->ended;
    if (n && w->bookmarks)
        w->bookmark_ms = mono_ms() + PD_K8S_BOOKMARK_MS;
    pthread_mutex_unlock(&h->mu);
    return end ? PD_STREAM_END : (long)n;
}

static void watch_free(struct watch *w)
{
    json_decref(w->initial);
    pd_buf_free(&w->out);
    pd_arena_cleanup(&w->arena);
    pd_stream_cleanup(&w->s);
    free(w);
}

static void watch_done(struct pd_stream *s)
{
    struct watch *w = (struct watch *)s;
    struct pd_k8s_hub *h = w->hub;
    pthread_mutex_lock(&h->mu);
    if (w->prev)
        w->prev->next = w->next;
    else
        w->log->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    h->nwatches--;
    pthread_mutex_unlock(&h->mu);
    watch_free(w);
}

/* ---- serving a watch ---- */

static int invalid_options(struct pd_k8s_ctx *x, const char *field, const char *msg)
{
    json_t *d = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "group", "meta.k8s.io", "kind",
                          "ListOptions", "causes", "reason", "FieldValueForbidden", "message",
                          pd_arena_printf(&x->r->arena, "Forbidden: %s", msg), "field", field);
    pd_k8s_fail(x->r, 422, "Invalid", d,
                "ListOptions.meta.k8s.io \"\" is invalid: %s: Forbidden: %s", field, msg);
    return PD_EAWS;
}

/* Go's strconv.ParseBool, with kube's "absent = false". -1: not a boolean. */
static int qbool(const char *v)
{
    if (!v)
        return 0;
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False", "", NULL};
    for (size_t i = 0; t[i]; i++)
        if (strcmp(v, t[i]) == 0)
            return 1;
    for (size_t i = 0; f[i]; i++)
        if (strcmp(v, f[i]) == 0)
            return 0;
    return -1;
}

int pd_k8s_serve_watch(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    struct pd_k8s_hub *h = r->env->k8s;
    const struct pd_k8s_res *res = x->res;
    if (!h)
        return pd_k8s_fail(r, 405, "MethodNotAllowed", NULL,
                           "watch is not available in this podiam (no event hub)");
    const char *rvs = pd_kvs_get(&x->q, "resourceVersion", 0);
    const char *rvm = pd_kvs_get(&x->q, "resourceVersionMatch", 0);
    const char *sie_s = pd_kvs_get(&x->q, "sendInitialEvents", 0);
    const char *cont = pd_kvs_get(&x->q, "continue", 0);
    int sie = qbool(sie_s), awb = qbool(pd_kvs_get(&x->q, "allowWatchBookmarks", 0));
    if (sie < 0 || awb < 0)
        return pd_k8s_bad_request(x, "invalid boolean value in the watch options");
    if (sie_s && (!rvm || strcmp(rvm, "NotOlderThan") != 0))
        return invalid_options(x, "resourceVersionMatch",
                               "sendInitialEvents requires setting resourceVersionMatch to "
                               "NotOlderThan");
    if (rvm && *rvm && !sie_s)
        return invalid_options(x, "resourceVersionMatch",
                               "resourceVersionMatch is forbidden for watch unless "
                               "sendInitialEvents is provided");
    if (rvm && *rvm && cont && *cont)
        return invalid_options(x, "resourceVersionMatch",
                               "resourceVersionMatch is forbidden when continue is provided");
    int64_t timeout_s = PD_K8S_WATCH_DEFAULT_S;
    const char *ts = pd_kvs_get(&x->q, "timeoutSeconds", 0);
    if (ts && *ts && pd_parse_i64(ts, 0, INT64_MAX, &timeout_s))
        return pd_k8s_bad_request(
            x, pd_arena_printf(&r->arena, "invalid value for timeoutSeconds: %s", ts));
    if (timeout_s == 0) /* unset, as kube-apiserver reads it */
        timeout_s = PD_K8S_WATCH_DEFAULT_S;
    if (timeout_s > PD_K8S_WATCH_MAX_S)
        timeout_s = PD_K8S_WATCH_MAX_S;
    const char *accept = pd_req_header(r, "accept");
    if (accept && strstr(accept, "application/vnd.kubernetes.protobuf") &&
        !strstr(accept, "application/json") && !strstr(accept, "*/*"))
        return pd_k8s_fail(r, 406, "NotAcceptable", NULL,
                           "only the following media types are accepted: "
                           "application/json;stream=watch (podiam encodes no protobuf)");

    /* selectors: the query's, and a GET of one object watches that name */
    const char *lsel = pd_kvs_get(&x->q, "labelSelector", 0);
    const char *fsel = pd_kvs_get(&x->q, "fieldSelector", 0);
    if (x->p.target == PD_K8S_T_OBJECT)
        fsel = fsel && *fsel ? pd_arena_printf(&r->arena, "%s,metadata.name=%s", fsel, x->p.name)
                             : pd_arena_printf(&r->arena, "metadata.name=%s", x->p.name);
    struct pd_k8s_sel *ls = NULL, *fs = NULL;
    size_t nls = 0, nfs = 0;
    if (pd_k8s_parse_selectors(x, lsel, fsel, &ls, &nls, &fs, &nfs))
        return PD_EAWS;
    const char *ns = PD_K8S_NAMESPACED_RES(res) && x->p.ns[0] ? x->p.ns : NULL;

    int64_t db_rv = 0;
    int rc = pd_k8s_db_rv(r->db, x->c.id, &db_rv);
    if (rc)
        return rc;
    int initial = 0;
    int64_t from = db_rv;
    if (sie_s) {
        initial = sie == 1;
        if (!initial && rvs && *rvs && strcmp(rvs, "0") != 0 &&
            pd_parse_i64(rvs, 0, INT64_MAX, &from))
            return pd_k8s_bad_request(
                x, pd_arena_printf(&r->arena, "invalid resource version: %s", rvs));
    } else if (!rvs || !*rvs || strcmp(rvs, "0") == 0) {
        initial = 1;
    } else if (pd_parse_i64(rvs, 0, INT64_MAX, &from)) {
        return pd_k8s_fail(r, 400, "BadRequest", NULL, "invalid resource version: %s", rvs);
    }
    if (from > db_rv) {
        json_t *d =
            json_pack("{s:[{s:s, s:s}], s:i}", "causes", "reason", "ResourceVersionTooLarge",
                      "message", "Too large resource version", "retryAfterSeconds", 1);
        return pd_k8s_fail(r, 504, "Timeout", d, "Too large resource version: %lld, current: %lld",
                           (long long)from, (long long)db_rv);
    }
    json_t *items = NULL;
    if (initial) {
        if (pd_k8s_collect(x, res, ns, ls, nls, fs, nfs, &items))
            return PD_EAWS;
        from = db_rv;
    }

    struct watch *w = pd_xcalloc(1, sizeof *w);
    pd_stream_init(&w->s);
    w->s.read = watch_read;
    w->s.done = watch_done;
    w->s.content_type = "application/json";
    w->hub = h;
    pd_arena_init(&w->arena);
    pd_buf_init(&w->out, 0);
    w->res = res;
    w->ns = ns ? pd_arena_strdup(&w->arena, ns) : NULL;
    /* the watch keeps its own copy of the selectors (they outlive the request) */
    if ((lsel && *lsel && pd_k8s_sel_parse(&w->arena, lsel, &w->ls, &w->nls)) ||
        (fsel && *fsel && pd_k8s_sel_parse(&w->arena, fsel, &w->fs, &w->nfs))) {
        w->initial = items;
        watch_free(w);
        return pd_k8s_bad_request(x, "invalid selector");
    }
    w->initial = items;
    w->cursor = from;
    w->bookmarks = awb == 1;
    w->end_bookmark = initial && sie == 1 && awb == 1;
    w->table = pd_k8s_wants_table(x);
    int64_t now = mono_ms();
    w->deadline_ms = now + timeout_s * 1000;
    w->bookmark_ms = now + PD_K8S_BOOKMARK_MS;

    pthread_mutex_lock(&h->mu);
    if (h->nwatches >= PD_K8S_WATCHES_MAX) {
        pthread_mutex_unlock(&h->mu);
        watch_free(w);
        return pd_k8s_fail(r, 429, "TooManyRequests", json_pack("{s:i}", "retryAfterSeconds", 1),
                           "too many watches are open (podiam's limit is %d)", PD_K8S_WATCHES_MAX);
    }
    struct clog *l = log_find(h, x->c.id, 1);
    struct pd_stream **wake = NULL;
    size_t nw = 0, cap = 0;
    if (l->head < 0)
        l->floor = l->head = db_rv;
    else if (l->head < db_rv)
        log_reset(l, db_rv, &wake, &nw, &cap); /* writes it never saw (fixtures, reset) */
    w->log = l;
    w->next = l->watches;
    if (w->next)
        w->next->prev = w;
    l->watches = w;
    h->nwatches++;
    pthread_mutex_unlock(&h->mu);
    resume_all(wake, nw);

    r->resp.status = 200;
    r->resp.content_type = "application/json";
    r->resp.stream = &w->s;
    r->op_name = "K8sWatch";
    return PD_OK;
}
