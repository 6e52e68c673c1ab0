/* policy_cache.c - content-addressed cache of compiled policies (see policy_cache.h). */
#include "auth/policy_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

struct pd_cached_policy {
    struct pd_cached_policy *next; /* hash chain */
    uint64_t hash;
    enum pd_policy_kind kind;
    char *text;
    size_t len;
    struct pd_policy *policy;
    unsigned refs;  /* the cache's own reference counts as one while cached */
    int cached;     /* still in the table */
    uint64_t stamp; /* last use, for eviction */
};

struct pd_policy_cache {
    pthread_mutex_t mu;
    struct pd_cached_policy **buckets;
    size_t nbuckets, entries, max;
    uint64_t clock;
    size_t hits, misses;
};

/* Hash of a document and its kind. Every request hashes each of its caller's documents (a
 * few KB) to find them, so this reads 8 bytes a step (multiply and fold, a step of the
 * MurmurHash3 finaliser) rather than one. Not for adversaries: collisions only cost a
 * memcmp. */
static uint64_t doc_hash(const char *s, size_t n, unsigned kind)
{
    uint64_t h = 1469598103934665603ULL ^ ((uint64_t)kind << 56) ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h ^= w;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
    }
    for (; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 32;
    return h;
}

struct pd_policy_cache *pd_policy_cache_new(size_t max_entries)
{
    struct pd_policy_cache *c = pd_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->nbuckets = 1024;
    c->buckets = pd_xcalloc(c->nbuckets, sizeof *c->buckets);
    c->max = max_entries ? max_entries : 4096;
    return c;
}

static void entry_free(struct pd_cached_policy *e)
{
    pd_policy_free(e->policy);
    free(e->text);
    free(e);
}

void pd_policy_cache_free(struct pd_policy_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct pd_cached_policy *e = c->buckets[i];
        while (e) {
            struct pd_cached_policy *next = e->next;
            entry_free(e);
            e = next;
        }
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Drop every entry not used in the last 3/4 max lookups (called with the lock held): at
 * most that many entries can have been used since, so at least a quarter goes. */
static void evict(struct pd_policy_cache *c)
{
    uint64_t keep = c->max * 3 / 4;
    uint64_t cutoff = c->clock > keep ? c->clock - keep : 0;
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct pd_cached_policy **pp = &c->buckets[i];
        while (*pp) {
            struct pd_cached_policy *e = *pp;
            if (e->stamp <= cutoff) {
                *pp = e->next;
                e->cached = 0;
                c->entries--;
                if (--e->refs == 0)
                    entry_free(e);
            } else {
                pp = &e->next;
            }
        }
    }
}

int pd_policy_cache_get(struct pd_policy_cache *c, enum pd_policy_kind kind, const char *text,
                        size_t len, char *errbuf, size_t errlen, struct pd_cached_policy **OUT,
                        const char **OUT_err)
{
    uint64_t h = doc_hash(text, len, (unsigned)kind);
    size_t b = (size_t)(h % c->nbuckets);
    pthread_mutex_lock(&c->mu);
    for (struct pd_cached_policy *e = c->buckets[b]; e; e = e->next) {
        if (e->hash == h && e->kind == kind && e->len == len && memcmp(e->text, text, len) == 0) {
            e->refs++;
            e->stamp = ++c->clock;
            c->hits++;
            pthread_mutex_unlock(&c->mu);
            *OUT = e;
            return PD_OK;
        }
    }
    c->misses++;
    pthread_mutex_unlock(&c->mu);

    /* Compile outside the lock: it is the slow part, and pure. Two threads may compile the
     * same text at once; the second insert then finds the first and drops its own. */
    struct pd_policy *p = NULL;
    int rc = pd_policy_compile(text, len, kind, errbuf, errlen, &p, OUT_err);
    if (rc)
        return rc;
    struct pd_cached_policy *n = pd_xcalloc(1, sizeof *n);
    n->hash = h;
    n->kind = kind;
    n->text = pd_xstrndup(text, len);
    n->len = len;
    n->policy = p;
    n->refs = 2; /* the cache's and the caller's */
    n->cached = 1;

    pthread_mutex_lock(&c->mu);
    for (struct pd_cached_policy *e = c->buckets[b]; e; e = e->next) {
        if (e->hash == h && e->kind == kind && e->len == len && memcmp(e->text, text, len) == 0) {
            e->refs++;
            e->stamp = ++c->clock;
            pthread_mutex_unlock(&c->mu);
            entry_free(n);
            *OUT = e;
            return PD_OK;
        }
    }
    if (c->entries >= c->max)
        evict(c);
    n->stamp = ++c->clock;
    n->next = c->buckets[b];
    c->buckets[b] = n;
    c->entries++;
    pthread_mutex_unlock(&c->mu);
    *OUT = n;
    return PD_OK;
}

const struct pd_policy *pd_cached_policy_get(const struct pd_cached_policy *h)
{
    return h->policy;
}

void pd_policy_cache_release(struct pd_policy_cache *c, struct pd_cached_policy *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&c->mu);
    unsigned left = --h->refs;
    pthread_mutex_unlock(&c->mu);
    if (left == 0)
        entry_free(h);
}

void pd_policy_cache_stats(struct pd_policy_cache *c, size_t *OUT_entries, size_t *OUT_hits,
                           size_t *OUT_misses)
{
    pthread_mutex_lock(&c->mu);
    *OUT_entries = c->entries;
    *OUT_hits = c->hits;
    *OUT_misses = c->misses;
    pthread_mutex_unlock(&c->mu);
}
