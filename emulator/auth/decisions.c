/*
 * decisions.c - bounded ring of decision records (see decisions.h).
 *
 * Each entry is kept as its compact JSON text, written once by the thread that decided
 * (whose tree is then freed while still in its cache). Keeping the trees themselves cost
 * more than the decision: every request freed a tree of a hundred or so nodes built a
 * thousand requests earlier, cold and often in another thread's malloc arena. Reading the
 * log (the admin API) parses the texts back.
 */
#include "auth/decisions.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/json_text.h"
#include "core/clock.h"
#include "core/mem.h"
#include "core/str.h"

#define MAX_TRACE_BYTES (64 * 1024)

struct slot {
    long long id; /* 0: empty */
    char *text;   /* the entry as compact JSON */
};

struct pd_decisions {
    pthread_mutex_t mu;
    pthread_cond_t added; /* broadcast on every add and on pd_decisions_wake (long polls) */
    int closing;          /* pd_decisions_wake called: waits end at once */
    int waiters;          /* threads in pd_decisions_wait now */
    struct slot *ring;
    size_t cap, head, count; /* head: next slot to write */
    long long next_id;
    long long dropped_max; /* newest id overwritten or cleared (marks before it are partial) */
};

struct pd_decisions *pd_decisions_new(size_t capacity)
{
    struct pd_decisions *d = pd_xcalloc(1, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->added, &ca);
    pthread_condattr_destroy(&ca);
    d->cap = capacity ? capacity : 1000;
    d->ring = pd_xcalloc(d->cap, sizeof *d->ring);
    d->next_id = 1;
    return d;
}

void pd_decisions_clear(struct pd_decisions *d)
{
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->cap; i++) {
        if (d->ring[i].id > d->dropped_max)
            d->dropped_max = d->ring[i].id;
        free(d->ring[i].text);
        d->ring[i] = (struct slot){0};
    }
    d->head = d->count = 0;
    pthread_mutex_unlock(&d->mu);
}

void pd_decisions_free(struct pd_decisions *d)
{
    if (!d)
        return;
    pd_decisions_clear(d);
    free(d->ring);
    pthread_cond_destroy(&d->added);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

/* Rough size of v as compact JSON text, counted until it passes limit (then any value above
 * limit): enough to bound an entry without writing it out on every request. */
static size_t approx_size(const json_t *v, size_t limit, int depth)
{
    size_t n = 0, i;
    const char *k;
    json_t *x;
    if (depth > 64)
        return limit + 1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, k, x)
        {
            n += strlen(k) + 4 + approx_size(x, limit, depth + 1);
            if (n > limit)
                return n;
        }
        return n + 2;
    case JSON_ARRAY:
        json_array_foreach(v, i, x)
        {
            n += 1 + approx_size(x, limit, depth + 1);
            if (n > limit)
                return n;
        }
        return n + 2;
    case JSON_STRING:
        return json_string_length(v) + 2;
    default:
        return 8;
    }
}

/* Keep one entry's memory bounded: a runaway trace is replaced by a note. */
static void bound(json_t *entry)
{
    json_t *checks = json_object_get(entry, "checks");
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c)
    {
        json_t *t = json_object_get(c, "trace");
        if (!t)
            continue;
        if (approx_size(t, MAX_TRACE_BYTES, 0) > MAX_TRACE_BYTES)
            json_object_set_new(c, "trace",
                                json_pack("{s:s, s:I}", "truncated",
                                          "trace larger than 64 KiB left out", "limit",
                                          (json_int_t)MAX_TRACE_BYTES));
    }
}

void pd_decisions_add(struct pd_decisions *d, json_t *entry, char OUT_id[24])
{
    bound(entry);
    pthread_mutex_lock(&d->mu);
    long long id = d->next_id++;
    pthread_mutex_unlock(&d->mu);
    snprintf(OUT_id, 24, "d-%lld", id);
    json_object_set_new(entry, "id", json_string(OUT_id));
    char *text = pd_json_dumps(entry);
    json_decref(entry);
    if (!text) { /* nested past the writer's bound */
        char note[80];
        snprintf(note, sizeof note, "{\"id\":\"%s\",\"error\":\"not recorded\"}", OUT_id);
        text = pd_xstrdup(note);
    }
    /* Concurrent deciders may land a few slots out of id order; readers sort by id. */
    pthread_mutex_lock(&d->mu);
    char *old = d->ring[d->head].text;
    if (old && d->ring[d->head].id > d->dropped_max)
        d->dropped_max = d->ring[d->head].id;
    d->ring[d->head] = (struct slot){id, text};
    d->head = (d->head + 1) % d->cap;
    if (d->count < d->cap)
        d->count++;
    pthread_cond_broadcast(&d->added);
    pthread_mutex_unlock(&d->mu);
    free(old);
}

long long pd_decisions_last_id(struct pd_decisions *d)
{
    pthread_mutex_lock(&d->mu);
    long long last = d->next_id - 1;
    pthread_mutex_unlock(&d->mu);
    return last;
}

int pd_decisions_wait(struct pd_decisions *d, long long after, int timeout_ms, int max_waiters)
{
    struct timespec until = pd_timespec_after_ms(CLOCK_MONOTONIC, timeout_ms);
    pthread_mutex_lock(&d->mu);
    if (d->next_id - 1 <= after && d->waiters >= max_waiters) {
        pthread_mutex_unlock(&d->mu);
        return -1; /* enough threads wait already: the caller answers now */
    }
    d->waiters++;
    /* next_id - 1 is the newest id handed out (its entry may land a moment later: the
     * reader then sees it on its next call, as "after" is that reader's own last id) */
    while (!d->closing && d->next_id - 1 <= after &&
           pthread_cond_timedwait(&d->added, &d->mu, &until) == 0) {
    }
    d->waiters--;
    int more = d->next_id - 1 > after;
    pthread_mutex_unlock(&d->mu);
    return more;
}

void pd_decisions_wake(struct pd_decisions *d)
{
    pthread_mutex_lock(&d->mu);
    d->closing = 1;
    pthread_cond_broadcast(&d->added);
    pthread_mutex_unlock(&d->mu);
}

static int matches(const json_t *e, const struct pd_decisions_filter *f)
{
    const char *dec = json_string_value(json_object_get(e, "decision"));
    if (f->decision && *f->decision) {
        if (strcmp(f->decision, "denied") == 0) {
            if (!dec || strcmp(dec, "allowed") == 0)
                return 0;
        } else if (!dec || strcmp(dec, f->decision) != 0) {
            return 0;
        }
    }
    if (f->principal && *f->principal) {
        const char *p = json_string_value(json_object_get(e, "principal"));
        if (!p || strcmp(p, f->principal) != 0)
            return 0;
    }
    if (f->request_id && *f->request_id) {
        const char *p = json_string_value(json_object_get(e, "request_id"));
        if (!p || strcmp(p, f->request_id) != 0)
            return 0;
    }
    if (f->action && *f->action) {
        int any = 0;
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(e, "checks"), i, c)
        {
            const char *a = json_string_value(json_object_get(c, "action"));
            any |= a && pd_strcaseeq(a, f->action);
        }
        if (!any)
            return 0;
    }
    return 1;
}

static int newest_first(const void *a, const void *b)
{
    long long x = ((const struct slot *)a)->id, y = ((const struct slot *)b)->id;
    return x < y ? 1 : x > y ? -1 : 0;
}

json_t *pd_decisions_list(struct pd_decisions *d, const struct pd_decisions_filter *f)
{
    json_t *out = json_array();
    size_t limit = f && f->limit ? f->limit : 100;
    pthread_mutex_lock(&d->mu);
    struct slot *all = pd_xmalloc((d->count ? d->count : 1) * sizeof *all);
    size_t n = 0;
    for (size_t k = 0; k < d->count; k++) {
        struct slot *s = &d->ring[(d->head + d->cap - 1 - k) % d->cap];
        if (s->text && (!f || !f->after || s->id > f->after))
            all[n++] = *s;
    }
    qsort(all, n, sizeof *all, newest_first);
    for (size_t k = 0; k < n && json_array_size(out) < limit; k++) {
        json_t *e = json_loads(all[k].text, 0, NULL);
        if (e && (!f || matches(e, f)))
            json_array_append(out, e);
        json_decref(e);
    }
    free(all);
    pthread_mutex_unlock(&d->mu);
    return out;
}

json_t *pd_decisions_get(struct pd_decisions *d, const char *id)
{
    if (id[0] != 'd' || id[1] != '-')
        return NULL;
    char *end;
    long long want = strtoll(id + 2, &end, 10);
    if (*end || end == id + 2 || want <= 0)
        return NULL;
    json_t *found = NULL;
    pthread_mutex_lock(&d->mu);
    for (size_t k = 0; k < d->count && !found; k++) {
        const struct slot *s = &d->ring[(d->head + d->cap - 1 - k) % d->cap];
        if (s->text && s->id == want)
            found = json_loads(s->text, 0, NULL);
    }
    pthread_mutex_unlock(&d->mu);
    return found;
}

long long pd_decisions_mark(struct pd_decisions *d)
{
    pthread_mutex_lock(&d->mu);
    long long m = d->next_id - 1;
    pthread_mutex_unlock(&d->mu);
    return m;
}

size_t pd_decisions_capacity(const struct pd_decisions *d)
{
    return d->cap;
}

static int oldest_first(const void *a, const void *b)
{
    return -newest_first(a, b);
}

json_t *pd_decisions_since(struct pd_decisions *d, long long mark, struct pd_decisions_since *OUT)
{
    json_t *out = json_array();
    memset(OUT, 0, sizeof *OUT);
    pthread_mutex_lock(&d->mu);
    struct slot *all = pd_xmalloc((d->count ? d->count : 1) * sizeof *all);
    size_t n = 0;
    for (size_t k = 0; k < d->count; k++) {
        const struct slot *s = &d->ring[k];
        if (s->text && (OUT->oldest_kept == 0 || s->id < OUT->oldest_kept))
            OUT->oldest_kept = s->id;
        if (s->text && s->id > mark)
            all[n++] = *s;
    }
    qsort(all, n, sizeof *all, oldest_first);
    OUT->dropped_max = d->dropped_max;
    OUT->lost = d->dropped_max > mark ? d->dropped_max - mark : 0;
    /* Ids after the mark are either dropped (counted in lost) or held; walk them in order
     * and stop at the first one neither dropped nor held yet (being written). */
    long long expect = (d->dropped_max > mark ? d->dropped_max : mark) + 1;
    OUT->through = expect - 1;
    size_t take = 0;
    for (size_t k = 0; k < n; k++) {
        if (all[k].id <= d->dropped_max)
            continue;
        if (all[k].id != expect)
            break;
        all[take++].text = pd_xstrdup(all[k].text); /* parsed below, outside the lock */
        OUT->through = expect++;
    }
    pthread_mutex_unlock(&d->mu);
    for (size_t k = 0; k < take; k++) {
        json_t *e = json_loads(all[k].text, 0, NULL);
        if (e)
            json_array_append_new(out, e);
        free(all[k].text);
    }
    free(all);
    return out;
}
