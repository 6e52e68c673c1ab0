/*
 * oidc.c - the OIDC issuers podiam hosts (see oidc.h): keys, discovery and JWKS documents,
 * key rotation, stand-alone issuers and token minting for tests.
 *
 * A raw service. Each hosted issuer ISS (https://HOST/PATH) is served two ways:
 *   - by Host header: GET /PATH/.well-known/openid-configuration and GET /PATH/keys with
 *     Host: HOST (a client whose DNS points HOST at podiam);
 *   - under a loopback path: GET /_podiam/oidc/HOST/PATH/.well-known/openid-configuration
 *     and /_podiam/oidc/HOST/PATH/keys.
 * The discovery document's issuer is ISS byte for byte; its jwks_uri is the loopback-path
 * form on the listener the request came in on (the issuer's own /keys URL would need DNS),
 * except for a request by Host through podiam's proxy: ISS/keys, as AWS publishes it.
 * Admin endpoints (loopback clients only): POST /_podiam/oidc/issuers {"url"} (host a
 * stand-alone issuer), GET /_podiam/oidc/issuers, POST /_podiam/oidc/rotate {"issuer"},
 * POST /_podiam/oidc/token {"issuer", "claims", "ttl"}.
 * Keys are RSA-2048, kid = RFC 7638 JWK thumbprint. Never logs key material or tokens.
 */
#include "services/oidc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "env.h"
#include "services/eks.h"
#include "services/httpc.h"
#include "services/oidc_remote.h"
#include "services/service.h"
#include "services/sts.h"
#include "store/oidc_db.h"
#include "store/store.h"

#define DISCOVERY_SUFFIX "/.well-known/openid-configuration"
#define KEYS_SUFFIX "/keys"
#define JWKS_JSON_SUFFIX "/.well-known/jwks.json" /* outbound issuers' (AWS publishes it) */
#define LOOPBACK_PREFIX "/_podiam/oidc/"
#define MAX_TTL (7 * 24 * 3600)

/* ---- issuers and keys ---- */

const char *pd_oidc_url_problem(const char *url)
{
    if (!url || !pd_has_prefix(url, "https://"))
        return "the issuer URL must start with https://";
    size_t n = strlen(url);
    if (n > 255)
        return "the issuer URL is longer than 255 characters";
    const char *host = url + 8;
    if (!*host || *host == '/')
        return "the issuer URL has no host";
    if (url[n - 1] == '/')
        return "the issuer URL must not end with /";
    for (const char *p = host; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c >= 0x7f || c == '?' || c == '#' || c == '\\' || c == '@')
            return "the issuer URL may hold no query, fragment, user or odd characters";
    }
    const char *slash = strchr(host, '/');
    const char *colon = strchr(host, ':');
    if (colon && (!slash || colon < slash))
        return "the issuer URL must not name a port";
    if (strstr(host, "//") || strstr(host, "/./") || strstr(host, "/../"))
        return "the issuer URL path is not normalised";
    return NULL;
}

/* Store key k (private) as url's new signing key. */
static int add_key(struct pd_db *db, struct pd_arena *a, int64_t issuer, struct pd_key *k,
                   int64_t now_ms, const char **OUT_kid)
{
    char kid[PD_KID_LEN + 1];
    char *priv = NULL, *pub = NULL;
    if (pd_key_thumbprint(k, PD_KID_JWK_THUMBPRINT, kid) || pd_key_to_pem(k, 1, a, &priv) ||
        pd_key_to_pem(k, 0, a, &pub))
        return PD_EINTERNAL;
    if (OUT_kid)
        *OUT_kid = pd_arena_strdup(a, kid);
    return pd_oidc_db_key_add(db, issuer, kid, priv, pub, now_ms);
}

int pd_oidc_issuer_create(struct pd_env *env, struct pd_db *db, const char *url,
                          const char *key_pem, const char **OUT_why)
{
    const char *why = pd_oidc_url_problem(url);
    if (why) {
        if (OUT_why)
            *OUT_why = why;
        return PD_EINVAL;
    }
    int64_t id;
    int rc = pd_oidc_db_issuer_get(db, url, &id, NULL);
    if (rc == PD_OK) {
        if (key_pem) {
            if (OUT_why)
                *OUT_why = "the issuer is hosted already";
            return PD_ECONFLICT;
        }
        return PD_OK;
    }
    if (rc != PD_ENOTFOUND)
        return rc;
    struct pd_key *k = NULL;
    if (key_pem) {
        if (pd_key_from_pem(key_pem, strlen(key_pem), PD_JWA_RS256, &k) || !pd_key_has_private(k)) {
            pd_key_free(k);
            if (OUT_why)
                *OUT_why = "the issuer key must be an RSA private key (2048 to 8192 bits) in PEM";
            return PD_EINVAL;
        }
    } else if (pd_key_generate(PD_KEY_RSA_2048, &k)) {
        return PD_EINTERNAL;
    }
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = pd_clock_now_ms(&env->clock);
    rc = pd_oidc_db_issuer_put(db, url, now, &id);
    if (rc == PD_OK)
        rc = add_key(db, &a, id, k, now, NULL);
    pd_arena_cleanup(&a);
    pd_key_free(k);
    return rc;
}

int pd_oidc_issuer_ensure(struct pd_env *env, struct pd_db *db, const char *url)
{
    return pd_oidc_issuer_create(env, db, url, NULL, NULL);
}

int pd_oidc_issuer_delete(struct pd_db *db, const char *url)
{
    return pd_oidc_db_issuer_del(db, url);
}

int pd_oidc_issuer_rotate(struct pd_env *env, struct pd_db *db, struct pd_arena *a, const char *url,
                          const char **OUT_kid)
{
    int64_t id;
    int rc = pd_oidc_db_issuer_get(db, url, &id, NULL);
    if (rc)
        return rc;
    struct pd_key *k = NULL;
    if (pd_key_generate(PD_KEY_RSA_2048, &k))
        return PD_EINTERNAL;
    rc = add_key(db, a, id, k, pd_clock_now_ms(&env->clock), OUT_kid);
    pd_key_free(k);
    return rc;
}

int pd_oidc_is_hosted(struct pd_db *db, const char *url)
{
    return pd_oidc_db_issuer_get(db, url, NULL, NULL) == PD_OK;
}

int pd_oidc_host_is_hosted(struct pd_db *db, const char *host)
{
    if (pd_oidc_db_host_hosted(db, host))
        return 1;
    /* an account's outbound issuer is https://HOST, no path */
    char url[300];
    if (snprintf(url, sizeof url, "https://%s", host) >= (int)sizeof url)
        return 0;
    pd_lower(url);
    return pd_sts_outbound_is_issuer(db, url);
}

/* ---- the key cache ---- */

#define KEY_CACHE_MAX 512

struct cached_key {
    char *pem; /* the PEM text it was imported from (heap) */
    struct pd_key *key;
};

struct pd_oidc_keys {
    pthread_mutex_t mu;
    struct cached_key v[KEY_CACHE_MAX];
    size_t n;
};

int pd_oidc_init(struct pd_env *env)
{
    struct pd_oidc_keys *c = pd_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    env->oidc_keys = c;
    pd_httpc_global_init();
    env->oidc_remote = pd_oidc_remote_new();
    return PD_OK;
}

static void cache_clear(struct pd_oidc_keys *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].pem);
        pd_key_free(c->v[i].key);
    }
    c->n = 0;
}

void pd_oidc_cleanup(struct pd_env *env)
{
    struct pd_oidc_keys *c = env->oidc_keys;
    if (env->oidc_remote) {
        pd_oidc_remote_free(env->oidc_remote);
        env->oidc_remote = NULL;
        pd_httpc_global_cleanup();
    }
    if (!c)
        return;
    cache_clear(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
    env->oidc_keys = NULL;
}

int pd_oidc_load_key(struct pd_env *env, const char *pem, const char *kid, struct pd_key **OUT)
{
    struct pd_oidc_keys *c = env ? env->oidc_keys : NULL;
    if (c) {
        int rc = PD_ENOTFOUND;
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->n && rc; i++)
            if (strcmp(c->v[i].pem, pem) == 0 && strcmp(pd_key_kid(c->v[i].key), kid) == 0)
                rc = pd_key_share(c->v[i].key, OUT);
        pthread_mutex_unlock(&c->mu);
        if (rc == PD_OK)
            return PD_OK;
    }
    struct pd_key *k = NULL;
    if (pd_key_from_pem(pem, strlen(pem), PD_JWA_INVALID, &k) || pd_key_set_kid(k, kid)) {
        pd_key_free(k);
        return PD_EINVAL;
    }
    if (c) {
        pthread_mutex_lock(&c->mu);
        if (c->n == KEY_CACHE_MAX)
            cache_clear(c);
        c->v[c->n].pem = pd_xstrdup(pem);
        pd_key_share(k, &c->v[c->n].key);
        c->n++;
        pthread_mutex_unlock(&c->mu);
    }
    *OUT = k;
    return PD_OK;
}

static int keys_of(struct pd_db *db, struct pd_arena *a, const char *url,
                   struct pd_oidc_db_key **OUT, size_t *OUT_n)
{
    int64_t id;
    int rc = pd_oidc_db_issuer_get(db, url, &id, NULL);
    if (rc)
        return rc;
    rc = pd_oidc_db_keys(db, a, id, OUT, OUT_n);
    if (rc == PD_OK && *OUT_n == 0)
        rc = PD_ENOTFOUND;
    return rc;
}

int pd_oidc_issuer_jwks(struct pd_env *env, struct pd_db *db, struct pd_arena *a, const char *url,
                        struct pd_jwks *s)
{
    struct pd_oidc_db_key *keys;
    size_t n;
    int rc = keys_of(db, a, url, &keys, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct pd_key *k = NULL;
        if (pd_oidc_load_key(env, keys[i].public_pem, keys[i].kid, &k)) {
            pd_log(PD_LOG_ERROR, "oidc: a stored key of %s does not load", url);
            continue;
        }
        pd_jwks_add(s, k);
    }
    return PD_OK;
}

int pd_oidc_signing_key_pem(struct pd_db *db, struct pd_arena *a, const char *url,
                            const char **OUT_pem)
{
    struct pd_oidc_db_key *keys;
    size_t n;
    int rc = keys_of(db, a, url, &keys, &n);
    if (rc)
        return rc;
    *OUT_pem = keys[0].private_pem;
    return PD_OK;
}

int pd_oidc_sign(struct pd_env *env, struct pd_db *db, struct pd_arena *a, const char *url,
                 const json_t *claims, char **OUT_token)
{
    struct pd_oidc_db_key *keys;
    size_t n;
    int rc = keys_of(db, a, url, &keys, &n);
    if (rc)
        return rc;
    struct pd_key *k = NULL;
    rc = pd_oidc_load_key(env, keys[0].private_pem, keys[0].kid, &k);
    if (rc == PD_OK)
        rc = pd_jwt_sign(k, claims, a, OUT_token);
    pd_key_free(k);
    return rc;
}

/* ---- fixtures ---- */

int pd_oidc_export(struct pd_db *db, json_t **OUT)
{
    struct pd_arena a;
    pd_arena_init(&a);
    const char **urls;
    size_t n;
    int rc = pd_oidc_db_issuer_list(db, &a, &urls, &n);
    json_t *list = json_array();
    for (size_t i = 0; rc == PD_OK && i < n; i++) {
        struct pd_eks_cluster c;
        if (pd_eks_cluster_by_issuer(db, &a, urls[i], &c) == PD_OK)
            continue; /* the eks section carries it */
        const char *pem;
        rc = pd_oidc_signing_key_pem(db, &a, urls[i], &pem);
        if (rc == PD_OK)
            json_array_append_new(list, json_pack("{s:s, s:s}", "url", urls[i], "key_pem", pem));
    }
    pd_arena_cleanup(&a);
    if (rc) {
        json_decref(list);
        return rc;
    }
    *OUT = json_pack("{s:o}", "issuers", list);
    return PD_OK;
}

static int fx_fail(char **OUT_err, const char *origin, size_t i, const char *what)
{
    size_t n = strlen(origin) + strlen(what) + 64;
    *OUT_err = pd_xmalloc(n);
    snprintf(*OUT_err, n, "fixtures %s: oidc.issuers[%zu]: %s", origin, i, what);
    return PD_EINVAL;
}

int pd_oidc_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *section, const char *origin,
                          char **OUT_err)
{
    if (!json_is_object(section)) {
        *OUT_err = pd_xstrdup("fixtures: the \"oidc\" section must be an object");
        return PD_EINVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(section, key, v)
    {
        if (strcmp(key, "issuers") != 0) {
            size_t n = strlen(origin) + strlen(key) + 80;
            *OUT_err = pd_xmalloc(n);
            snprintf(*OUT_err, n, "fixtures %s: oidc: unknown field \"%s\" (known fields: issuers)",
                     origin, key);
            return PD_EINVAL;
        }
    }
    json_t *list = json_object_get(section, "issuers");
    if (list && !json_is_array(list))
        return fx_fail(OUT_err, origin, 0, "\"issuers\" must be a list");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (!json_is_object(e))
            return fx_fail(OUT_err, origin, i, "expected an object");
        json_object_foreach(e, key, v)
        {
            if (strcmp(key, "url") != 0 && strcmp(key, "key_pem") != 0)
                return fx_fail(OUT_err, origin, i, "unknown field (known fields: url, key_pem)");
        }
        const char *url = json_string_value(json_object_get(e, "url"));
        json_t *kp = json_object_get(e, "key_pem");
        if (!url)
            return fx_fail(OUT_err, origin, i, "missing field \"url\" (a string)");
        if (kp && !json_is_string(kp))
            return fx_fail(OUT_err, origin, i, "field \"key_pem\" must be a string");
        const char *why = NULL;
        int rc = pd_oidc_issuer_create(env, db, url, json_string_value(kp), &why);
        if (rc == PD_EINVAL || rc == PD_ECONFLICT)
            return fx_fail(OUT_err, origin, i, why);
        if (rc)
            return fx_fail(OUT_err, origin, i, pd_strerror(rc));
    }
    return PD_OK;
}

/* ---- HTTP ---- */

static int oidc_error(struct pd_req *r, int status, const char *code, const char *msg)
{
    return pd_req_reply_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

/* The issuer a document request names, kept for the handler. */
struct doc_req {
    const char *issuer;
    int keys; /* 1: JWKS, 0: discovery */
    int loopback_form;
};

/* Base URL (scheme://host:port) of the loopback-path form for this request. */
static const char *loopback_base(struct pd_req *r, const struct doc_req *d)
{
    const char *scheme = r->tls ? "https" : "http";
    const char *host = pd_req_header(r, "host");
    if (d->loopback_form && host && *host)
        return pd_arena_printf(&r->arena, "%s://%s", scheme, host);
    return pd_arena_printf(&r->arena, "%s://127.0.0.1:%d", scheme,
                           r->tls ? r->env->https_port : r->env->http_port);
}

/* The discovery document and keys of an account's outbound issuer (sts_outbound.c): the
 * members AWS publishes, jwks_uri ISSUER/.well-known/jwks.json in the loopback form. */
static int serve_outbound(struct pd_req *r, const struct doc_req *d)
{
    if (d->keys) {
        struct pd_jwks s;
        pd_jwks_init(&s);
        json_t *doc = NULL;
        int rc = pd_sts_outbound_jwks(r->env, r->db, &r->arena, d->issuer, &s);
        if (rc == PD_OK)
            rc = pd_jwks_to_json(&s, &doc);
        pd_jwks_cleanup(&s);
        if (rc == PD_ENOTFOUND)
            return oidc_error(r, 404, "NotFound", "no such issuer");
        if (rc)
            return rc;
        pd_req_set_header(r, "Cache-Control", "public, max-age=3600");
        return pd_req_reply_json(r, 200, doc);
    }
    const char *jwks_uri =
        r->proxied && !d->loopback_form
            ? pd_arena_printf(&r->arena, "%s" JWKS_JSON_SUFFIX, d->issuer)
            : pd_arena_printf(&r->arena, "%s" LOOPBACK_PREFIX "%s" JWKS_JSON_SUFFIX,
                              loopback_base(r, d), d->issuer + 8);
    json_t *doc =
        json_pack("{s:s, s:s, s:[s], s:[s, s], s:[s, s, s, s, s, s, s]}", "issuer", d->issuer,
                  "jwks_uri", jwks_uri, "subject_types_supported", "public",
                  "id_token_signing_alg_values_supported", "RS256", "ES384", "claims_supported",
                  "sub", "iss", "aud", "exp", "iat", "jti", "https://sts.amazonaws.com/");
    pd_req_set_header(r, "Cache-Control", "public, max-age=3600");
    return pd_req_reply_json(r, 200, doc);
}

static int serve_document(struct pd_req *r)
{
    const struct doc_req *d = r->svc_state;
    if (pd_sts_outbound_is_issuer(r->db, d->issuer))
        return serve_outbound(r, d);
    if (d->keys) {
        struct pd_jwks s;
        pd_jwks_init(&s);
        json_t *doc = NULL;
        int rc = pd_oidc_issuer_jwks(r->env, r->db, &r->arena, d->issuer, &s);
        if (rc == PD_OK)
            rc = pd_jwks_to_json(&s, &doc);
        pd_jwks_cleanup(&s);
        if (rc == PD_ENOTFOUND)
            return oidc_error(r, 404, "NotFound", "no such issuer");
        if (rc)
            return rc;
        pd_req_set_header(r, "Cache-Control", "public, max-age=3600");
        return pd_req_reply_json(r, 200, doc);
    }
    if (!pd_oidc_is_hosted(r->db, d->issuer))
        return oidc_error(r, 404, "NotFound", "no such issuer");
    /* A client that came through podiam's proxy reaches the issuer's own /keys URL the same
     * way (as on AWS); any other gets the loopback-path form, which needs no DNS. */
    const char *jwks_uri = r->proxied && !d->loopback_form
                               ? pd_arena_printf(&r->arena, "%s" KEYS_SUFFIX, d->issuer)
                               : pd_arena_printf(&r->arena, "%s" LOOPBACK_PREFIX "%s" KEYS_SUFFIX,
                                                 loopback_base(r, d), d->issuer + 8);
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:[s], s:[s], s:[s], s:[s, s]}", "issuer", d->issuer, "jwks_uri", jwks_uri,
        "authorization_endpoint", "urn:kubernetes:programmatic_authorization",
        "response_types_supported", "id_token", "subject_types_supported", "public",
        "id_token_signing_alg_values_supported", "RS256", "claims_supported", "sub", "iss");
    pd_req_set_header(r, "Cache-Control", "public, max-age=3600");
    return pd_req_reply_json(r, 200, doc);
}

static json_t *body_json(struct pd_req *r)
{
    json_error_t je;
    json_t *v = r->body.len ? json_loadb(r->body.p, r->body.len, JSON_REJECT_DUPLICATES, &je)
                            : json_object();
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* Run fn inside a write transaction; commit on PD_OK. */
static int in_write(struct pd_req *r, int (*fn)(struct pd_req *, json_t *), json_t *in)
{
    if (pd_db_begin(r->db, 1))
        return oidc_error(r, 503, "Busy", "the state is busy; retry");
    int rc = fn(r, in);
    if (rc == PD_OK && r->resp.status < 300)
        rc = pd_db_commit(r->db);
    else
        pd_db_rollback(r->db);
    return rc;
}

static int do_create_issuer(struct pd_req *r, json_t *in)
{
    const char *url = json_string_value(json_object_get(in, "url"));
    json_t *kp = json_object_get(in, "key_pem");
    if (!url || (kp && !json_is_string(kp)))
        return oidc_error(r, 400, "InvalidRequest",
                          "expected {\"url\": \"https://…\"} (and optionally \"key_pem\")");
    const char *why = NULL;
    int existed = pd_oidc_is_hosted(r->db, url);
    int rc = pd_oidc_issuer_create(r->env, r->db, url, json_string_value(kp), &why);
    if (rc == PD_EINVAL)
        return oidc_error(r, 400, "InvalidRequest", why);
    if (rc == PD_ECONFLICT)
        return oidc_error(r, 409, "Conflict", why);
    if (rc)
        return rc;
    struct pd_oidc_db_key *keys;
    size_t n;
    rc = keys_of(r->db, &r->arena, url, &keys, &n);
    if (rc)
        return rc;
    struct doc_req d = {.issuer = url, .loopback_form = 1};
    const char *base =
        pd_arena_printf(&r->arena, "%s" LOOPBACK_PREFIX "%s", loopback_base(r, &d), url + 8);
    return pd_req_reply_json(
        r, existed ? 200 : 201,
        json_pack("{s:s, s:s, s:s, s:s}", "issuer", url, "kid", keys[0].kid, "discovery",
                  pd_arena_printf(&r->arena, "%s" DISCOVERY_SUFFIX, base), "jwks_uri",
                  pd_arena_printf(&r->arena, "%s" KEYS_SUFFIX, base)));
}

static int create_issuer(struct pd_req *r)
{
    json_t *in = body_json(r);
    if (!in)
        return oidc_error(r, 400, "InvalidRequest", "the body must be a JSON object");
    int rc = in_write(r, do_create_issuer, in);
    json_decref(in);
    return rc;
}

static int list_issuers(struct pd_req *r)
{
    const char **urls;
    size_t n;
    int rc = pd_oidc_db_issuer_list(r->db, &r->arena, &urls, &n);
    if (rc)
        return rc;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        struct pd_eks_cluster c;
        json_t *e = json_pack("{s:s}", "issuer", urls[i]);
        if (pd_eks_cluster_by_issuer(r->db, &r->arena, urls[i], &c) == PD_OK)
            json_object_set_new(e, "cluster", json_string(c.arn));
        json_array_append_new(list, e);
    }
    return pd_req_reply_json(r, 200, json_pack("{s:o}", "issuers", list));
}

static int do_rotate(struct pd_req *r, json_t *in)
{
    const char *url = json_string_value(json_object_get(in, "issuer"));
    if (!url)
        return oidc_error(r, 400, "InvalidRequest", "expected {\"issuer\": \"https://…\"}");
    struct pd_oidc_db_key *keys;
    size_t n;
    int rc = keys_of(r->db, &r->arena, url, &keys, &n);
    if (rc == PD_ENOTFOUND)
        return oidc_error(r, 404, "NotFound", "podiam does not host this issuer");
    if (rc)
        return rc;
    const char *kid;
    rc = pd_oidc_issuer_rotate(r->env, r->db, &r->arena, url, &kid);
    if (rc)
        return rc;
    pd_log_req(PD_LOG_INFO, r->request_id, "oidc: rotated the key of %s (kid %s)", url, kid);
    return pd_req_reply_json(
        r, 200,
        json_pack("{s:s, s:s, s:s}", "issuer", url, "kid", kid, "retired_kid", keys[0].kid));
}

static int rotate(struct pd_req *r)
{
    json_t *in = body_json(r);
    if (!in)
        return oidc_error(r, 400, "InvalidRequest", "the body must be a JSON object");
    int rc = in_write(r, do_rotate, in);
    json_decref(in);
    return rc;
}

/* Fill a time claim unless the caller gave it. */
static void default_time(json_t *claims, const char *name, int64_t v)
{
    if (!json_object_get(claims, name))
        json_object_set_new(claims, name, json_integer((json_int_t)v));
}

static int mint_token(struct pd_req *r)
{
    json_t *in = body_json(r);
    if (!in)
        return oidc_error(r, 400, "InvalidRequest", "the body must be a JSON object");
    int rc = PD_OK;
    const char *url = json_string_value(json_object_get(in, "issuer"));
    json_t *given = json_object_get(in, "claims");
    json_t *ttl_v = json_object_get(in, "ttl");
    if (!url || (given && !json_is_object(given)) || (ttl_v && !json_is_integer(ttl_v))) {
        rc = oidc_error(r, 400, "InvalidRequest",
                        "expected {\"issuer\": URL, \"claims\": {…}, \"ttl\": seconds}");
        goto out;
    }
    int64_t ttl = ttl_v ? json_integer_value(ttl_v) : 3600;
    if (ttl < 1 || ttl > MAX_TTL) {
        rc = oidc_error(r, 400, "InvalidRequest", "ttl must be 1 to 604800 seconds");
        goto out;
    }
    json_t *claims = given ? json_deep_copy(given) : json_object();
    int64_t now = pd_clock_now_ms(&r->env->clock) / 1000;
    if (!json_object_get(claims, "iss"))
        json_object_set_new(claims, "iss", json_string(url));
    json_t *iat = json_object_get(claims, "iat");
    int64_t base = json_is_integer(iat) ? json_integer_value(iat) : now;
    default_time(claims, "iat", now);
    default_time(claims, "nbf", base);
    default_time(claims, "exp", base + ttl);
    char *token = NULL;
    rc = pd_oidc_sign(r->env, r->db, &r->arena, url, claims, &token);
    if (rc == PD_ENOTFOUND) {
        rc = oidc_error(r, 404, "NotFound", "podiam does not host this issuer");
    } else if (rc == PD_OK) {
        rc = pd_req_reply_json(r, 200, json_pack("{s:s, s:O}", "token", token, "claims", claims));
    }
    json_decref(claims);
out:
    json_decref(in);
    return rc;
}

enum { OP_DOCUMENT, OP_ISSUERS_CREATE, OP_ISSUERS_LIST, OP_ROTATE, OP_TOKEN };
static const struct pd_op ops[] = {
    [OP_DOCUMENT] = {"OidcDocument", serve_document, 0},
    [OP_ISSUERS_CREATE] = {"OidcCreateIssuer", create_issuer, PD_OP_WRITE},
    [OP_ISSUERS_LIST] = {"OidcListIssuers", list_issuers, 0},
    [OP_ROTATE] = {"OidcRotate", rotate, PD_OP_WRITE},
    [OP_TOKEN] = {"OidcToken", mint_token, 0},
    {NULL, NULL, 0},
};

/* path ends with a document suffix: set d->keys and return the prefix length, else -1. */
static long doc_prefix(const char *path, struct doc_req *d)
{
    size_t n = strlen(path), ds = strlen(DISCOVERY_SUFFIX), ks = strlen(KEYS_SUFFIX);
    size_t js = strlen(JWKS_JSON_SUFFIX);
    if (n >= js && strcmp(path + n - js, JWKS_JSON_SUFFIX) == 0) {
        d->keys = 1;
        return (long)(n - js);
    }
    if (n >= ds && strcmp(path + n - ds, DISCOVERY_SUFFIX) == 0) {
        d->keys = 0;
        return (long)(n - ds);
    }
    if (n >= ks && strcmp(path + n - ks, KEYS_SUFFIX) == 0) {
        d->keys = 1;
        return (long)(n - ks);
    }
    return -1;
}

static int route(struct pd_req *r)
{
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0;
    struct doc_req d;
    memset(&d, 0, sizeof d);
    if (pd_has_prefix(r->path, LOOPBACK_PREFIX)) {
        const char *p = r->path + strlen(LOOPBACK_PREFIX);
        long plen = doc_prefix(p, &d);
        if (get && plen > 0) {
            d.issuer = pd_arena_printf(&r->arena, "https://%.*s", (int)plen, p);
            d.loopback_form = 1;
            struct doc_req *keep = pd_arena_alloc(&r->arena, sizeof *keep);
            *keep = d;
            r->svc_state = keep;
            r->op = &ops[OP_DOCUMENT];
            return 1;
        }
        /* Issuers, key rotation and token minting are the admin API's (req.h); every POST
         * changes state or mints a credential. */
        const char *why = pd_req_admin_refusal(r, post ? PD_ADMIN_SENSITIVE : PD_ADMIN_READ);
        if (why) {
            r->op_name = "Forbidden";
            oidc_error(r, 403, "Forbidden", why);
            return 1;
        }
        if (strcmp(p, "issuers") == 0 && post)
            r->op = &ops[OP_ISSUERS_CREATE];
        else if (strcmp(p, "issuers") == 0 && get)
            r->op = &ops[OP_ISSUERS_LIST];
        else if (strcmp(p, "rotate") == 0 && post)
            r->op = &ops[OP_ROTATE];
        else if (strcmp(p, "token") == 0 && post)
            r->op = &ops[OP_TOKEN];
        else {
            r->op_name = "NotFound";
            oidc_error(r, 404, "NotFound", "no such OIDC endpoint");
        }
        return 1;
    }
    /* By Host header: https://HOST + the path before the suffix must be a hosted issuer. */
    if (!get || pd_has_prefix(r->path, "/_podiam/"))
        return 0;
    long plen = doc_prefix(r->path, &d);
    const char *host = pd_req_header(r, "host");
    if (plen < 0 || !host || !*host || *host == '[')
        return 0;
    size_t hl = strcspn(host, ":");
    char *issuer =
        pd_arena_printf(&r->arena, "https://%.*s%.*s", (int)hl, host, (int)plen, r->path);
    /* host names are case-insensitive; issuers are stored with a lower-case host */
    for (size_t i = 8; i < 8 + hl; i++)
        if (issuer[i] >= 'A' && issuer[i] <= 'Z')
            issuer[i] = (char)(issuer[i] + 32);
    struct pd_db *db = pd_store_db(r->env->store);
    if (!pd_oidc_is_hosted(db, issuer) && !pd_sts_outbound_is_issuer(db, issuer))
        return 0;
    d.issuer = issuer;
    struct doc_req *keep = pd_arena_alloc(&r->arena, sizeof *keep);
    *keep = d;
    r->svc_state = keep;
    r->op = &ops[OP_DOCUMENT];
    return 1;
}

const struct pd_service pd_svc_oidc = {
    .name = "oidc",
    .proto = PD_PROTO_RAW,
    .ops = ops,
    .route = route,
};
