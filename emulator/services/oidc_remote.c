/*
 * oidc_remote.c - external issuers' keys: fetch, parse, cache (see oidc_remote.h).
 */
#include "services/oidc_remote.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "crypto/keys.h"
#include "env.h"
#include "services/httpc.h"

#define DISCOVERY_SUFFIX "/.well-known/openid-configuration"

struct entry {
    char *iss;           /* heap; NULL: free slot */
    struct pd_jwks keys; /* of the last good fetch */
    int have;            /* keys hold a good fetch */
    int64_t fetched_ms;  /* when that fetch was (podiam's clock) */
    int64_t tried_ms;    /* the last attempt, good or not */
    int failed;          /* the last attempt failed */
    char why[256];       /* its reason */
    int fetching;        /* a fetch is under way (its thread owns the slot's iss) */
    uint64_t used;       /* LRU tick */
};

struct pd_oidc_remote {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a fetch ended */
    struct entry v[PD_OIDC_REMOTE_MAX];
    uint64_t tick;
};

struct pd_oidc_remote *pd_oidc_remote_new(void)
{
    struct pd_oidc_remote *c = pd_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    for (size_t i = 0; i < PD_OIDC_REMOTE_MAX; i++)
        pd_jwks_init(&c->v[i].keys);
    return c;
}

void pd_oidc_remote_free(struct pd_oidc_remote *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < PD_OIDC_REMOTE_MAX; i++) {
        free(c->v[i].iss);
        pd_jwks_cleanup(&c->v[i].keys);
    }
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int pd_oidc_remote_allowed(const struct pd_env *env, const char *iss)
{
    if (!iss)
        return 0;
    if (pd_has_prefix(iss, "https://"))
        return iss[8] && iss[8] != '/';
    return env->cfg.oidc_http_loopback && pd_httpc_is_loopback_http(iss);
}

/* ---- parsers ---- */

static int url_ok(const char *u, int allow_http)
{
    if (!u || strlen(u) > 2048)
        return 0;
    if (pd_has_prefix(u, "https://"))
        return u[8] && u[8] != '/';
    return allow_http && pd_httpc_is_loopback_http(u);
}

int pd_oidc_remote_parse_discovery(const char *text, size_t n, const char *iss, int allow_http,
                                   char **OUT_jwks_uri, const char **OUT_why)
{
    json_error_t je;
    json_t *d = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    int rc = PD_EINVAL;
    if (!json_is_object(d)) {
        *OUT_why = "the discovery document is not a JSON object";
        goto out;
    }
    json_t *issuer = json_object_get(d, "issuer");
    const char *jwks = json_string_value(json_object_get(d, "jwks_uri"));
    if (!json_is_string(issuer) ||
        strlen(json_string_value(issuer)) != json_string_length(issuer) ||
        strcmp(json_string_value(issuer), iss) != 0) {
        *OUT_why = "the discovery document's issuer is not the token's iss";
        goto out;
    }
    if (!jwks || strlen(jwks) != json_string_length(json_object_get(d, "jwks_uri"))) {
        *OUT_why = "the discovery document has no jwks_uri";
        goto out;
    }
    if (!url_ok(jwks, allow_http)) {
        *OUT_why = "the discovery document's jwks_uri is not an https URL";
        goto out;
    }
    *OUT_jwks_uri = pd_xstrdup(jwks);
    rc = PD_OK;
out:
    json_decref(d);
    return rc;
}

int pd_oidc_remote_parse_jwks(const char *text, size_t n, struct pd_jwks *s, size_t *OUT_skipped,
                              const char **OUT_why)
{
    json_error_t je;
    json_t *d = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    size_t skipped = 0, before = s->n;
    int rc = PD_EINVAL;
    if (!json_is_object(d)) {
        *OUT_why = "the JWKS is not a JSON object";
    } else if (!json_is_array(json_object_get(d, "keys"))) {
        *OUT_why = "the JWKS has no \"keys\" array";
    } else if (json_array_size(json_object_get(d, "keys")) > PD_JWKS_MAX_KEYS) {
        *OUT_why = "the JWKS has more keys than podiam reads (100)";
    } else if (pd_jwks_from_json(d, s, &skipped) != PD_OK) {
        *OUT_why = "the JWKS does not read";
    } else if (s->n == before) {
        *OUT_why = "the JWKS has no key usable for RS256/384/512 or ES256/384/512 signatures";
    } else {
        rc = PD_OK;
    }
    if (OUT_skipped)
        *OUT_skipped = skipped;
    json_decref(d);
    return rc;
}

/* ---- fetching ---- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Discovery, then keys, within the configured time. */
static int fetch(struct pd_env *env, const char *iss, struct pd_jwks *OUT, char *why,
                 size_t why_len)
{
    int allow_http = env->cfg.oidc_http_loopback;
    int budget = env->cfg.oidc_fetch_timeout_ms > 0 ? env->cfg.oidc_fetch_timeout_ms : 5000;
    int64_t start = mono_ms();
    struct pd_httpc_opts o = {.ca_file = env->cfg.oidc_ca_file,
                              .allow_http_loopback = allow_http,
                              .timeout_ms = budget,
                              .max_bytes = PD_OIDC_REMOTE_MAX_DOC};
    struct pd_buf b;
    pd_buf_init(&b, PD_OIDC_REMOTE_MAX_DOC);
    enum pd_httpc_fail f;
    char err[200];
    size_t ulen = strlen(iss) + sizeof DISCOVERY_SUFFIX;
    char *url = pd_xmalloc(ulen);
    snprintf(url, ulen, "%s%s", iss, DISCOVERY_SUFFIX);
    char *jwks_uri = NULL;
    const char *w = NULL;
    int rc = pd_httpc_get(&o, url, &b, &f, err, sizeof err);
    if (rc) {
        snprintf(why, why_len, "discovery %s: %s", url, err);
        goto out;
    }
    rc = pd_oidc_remote_parse_discovery(pd_buf_str(&b), b.len, iss, allow_http, &jwks_uri, &w);
    if (rc) {
        snprintf(why, why_len, "discovery %s: %s", url, w);
        goto out;
    }
    int64_t left = budget - (mono_ms() - start);
    o.timeout_ms = left > 100 ? (int)left : 100;
    pd_buf_free(&b);
    pd_buf_init(&b, PD_OIDC_REMOTE_MAX_DOC);
    rc = pd_httpc_get(&o, jwks_uri, &b, &f, err, sizeof err);
    if (rc) {
        snprintf(why, why_len, "jwks_uri %s: %s", jwks_uri, err);
        goto out;
    }
    size_t skipped = 0;
    rc = pd_oidc_remote_parse_jwks(pd_buf_str(&b), b.len, OUT, &skipped, &w);
    if (rc)
        snprintf(why, why_len, "jwks_uri %s: %s", jwks_uri, w);
    else if (skipped)
        pd_log(PD_LOG_INFO, "oidc: %s publishes %zu key(s) podiam cannot use (skipped)", iss,
               skipped);
out:
    pd_buf_free(&b);
    free(url);
    free(jwks_uri);
    return rc ? PD_EIO : PD_OK;
}

static struct entry *find(struct pd_oidc_remote *c, const char *iss)
{
    for (size_t i = 0; i < PD_OIDC_REMOTE_MAX; i++)
        if (c->v[i].iss && strcmp(c->v[i].iss, iss) == 0)
            return &c->v[i];
    return NULL;
}

/* A slot for iss: a free one, else the least recently used one not being fetched. */
static struct entry *slot(struct pd_oidc_remote *c, const char *iss)
{
    struct entry *best = NULL;
    for (size_t i = 0; i < PD_OIDC_REMOTE_MAX; i++) {
        struct entry *e = &c->v[i];
        if (!e->iss) {
            best = e;
            break;
        }
        if (!e->fetching && (!best || e->used < best->used))
            best = e;
    }
    if (!best)
        return NULL;
    free(best->iss);
    pd_jwks_cleanup(&best->keys);
    memset(best, 0, sizeof *best);
    pd_jwks_init(&best->keys);
    best->iss = pd_xstrdup(iss);
    return best;
}

static int has_kid(const struct entry *e, const char *kid)
{
    for (size_t i = 0; i < e->keys.n; i++) {
        const char *k = pd_key_kid(e->keys.keys[i]);
        if (kid ? (k && strcmp(k, kid) == 0) : e->keys.n == 1)
            return 1;
    }
    return 0;
}

int pd_oidc_remote_refresh(struct pd_env *env, const char *iss, const char *kid, char *why,
                           size_t why_len)
{
    struct pd_oidc_remote *c = env->oidc_remote;
    if (!c) {
        snprintf(why, why_len, "podiam fetches no external keys here");
        return PD_EIO;
    }
    if (!pd_oidc_remote_allowed(env, iss)) {
        snprintf(why, why_len, "%s",
                 pd_has_prefix(iss, "http://")
                     ? "plain http issuers are fetched only on loopback, with "
                       "--oidc-http-loopback on"
                     : "not an https issuer URL");
        return PD_EINVAL;
    }
    int timeout = env->cfg.oidc_fetch_timeout_ms > 0 ? env->cfg.oidc_fetch_timeout_ms : 5000;
    int64_t give_up = mono_ms() + 2 * (int64_t)timeout + 1000;
    pthread_mutex_lock(&c->mu);
    struct entry *e;
    for (;;) {
        int64_t now = pd_clock_now_ms(&env->clock);
        e = find(c, iss);
        if (!e && !(e = slot(c, iss))) {
            pthread_mutex_unlock(&c->mu);
            snprintf(why, why_len, "too many issuers being fetched at once");
            return PD_EIO;
        }
        e->used = ++c->tick;
        if (e->fetching) {
            /* someone fetches it now: wait for that answer rather than ask twice */
            int64_t left = give_up - mono_ms();
            if (left <= 0) {
                pthread_mutex_unlock(&c->mu);
                snprintf(why, why_len, "another fetch of this issuer takes too long");
                return PD_EIO;
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (left % 1000) * 1000000;
            ts.tv_sec += left / 1000 + ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&c->cv, &c->mu, &ts);
            continue;
        }
        int fresh = e->have && now - e->fetched_ms < PD_OIDC_REMOTE_TTL_MS;
        if (fresh && has_kid(e, kid)) {
            pthread_mutex_unlock(&c->mu);
            return PD_OK;
        }
        if (now - e->tried_ms < (e->failed ? PD_OIDC_REMOTE_FAIL_MS : PD_OIDC_REMOTE_REFETCH_MS) &&
            e->tried_ms) {
            /* asked very recently: its answer stands */
            int rc = fresh ? PD_OK : PD_EIO;
            if (rc)
                snprintf(why, why_len, "%s (remembered for a few seconds)",
                         e->failed ? e->why : "no such key");
            pthread_mutex_unlock(&c->mu);
            return rc;
        }
        break;
    }
    e->fetching = 1;
    pthread_mutex_unlock(&c->mu);

    struct pd_jwks keys;
    pd_jwks_init(&keys);
    char err[256] = "";
    int rc = fetch(env, iss, &keys, err, sizeof err);

    pthread_mutex_lock(&c->mu);
    e->fetching = 0;
    e->tried_ms = pd_clock_now_ms(&env->clock);
    e->failed = rc != PD_OK;
    if (rc == PD_OK) {
        pd_jwks_cleanup(&e->keys);
        e->keys = keys; /* moved */
        e->have = 1;
        e->fetched_ms = e->tried_ms;
        e->why[0] = '\0';
    } else {
        pd_jwks_cleanup(&keys);
        snprintf(e->why, sizeof e->why, "%s", err);
        snprintf(why, why_len, "%s", err);
    }
    int usable = e->have && e->tried_ms - e->fetched_ms < PD_OIDC_REMOTE_TTL_MS;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (rc)
        pd_log(PD_LOG_WARN, "oidc: cannot fetch the keys of %s: %s", iss, err);
    else
        pd_log(PD_LOG_INFO, "oidc: fetched the keys of %s", iss);
    return rc == PD_OK || usable ? PD_OK : PD_EIO;
}

int pd_oidc_remote_jwks(struct pd_env *env, const char *iss, struct pd_jwks *s, char *why,
                        size_t why_len)
{
    struct pd_oidc_remote *c = env->oidc_remote;
    int rc = PD_ENOTFOUND;
    snprintf(why, why_len, "podiam has not fetched this issuer's keys");
    if (!c)
        return rc;
    pthread_mutex_lock(&c->mu);
    struct entry *e = find(c, iss);
    int64_t now = pd_clock_now_ms(&env->clock);
    if (e && e->have && now - e->fetched_ms < PD_OIDC_REMOTE_TTL_MS) {
        for (size_t i = 0; i < e->keys.n; i++) {
            struct pd_key *k = NULL;
            if (pd_key_share(e->keys.keys[i], &k) == PD_OK)
                pd_jwks_add(s, k);
        }
        rc = PD_OK;
    } else if (e && e->failed) {
        snprintf(why, why_len, "%s", e->why);
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}
