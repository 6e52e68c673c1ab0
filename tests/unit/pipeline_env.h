/*
 * pipeline_env.h - a whole podiam (store, models, secrets, authorization) without sockets,
 * for tests that drive requests through pd_dispatch as the server does, and helpers to run
 * one operation of a service directly as an account's root. Header-only (static functions).
 */
#ifndef PD_TESTS_PIPELINE_ENV_H
#define PD_TESTS_PIPELINE_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/secrets.h"
#include "sigv4/sigv4.h"
#include "crypto/hash.h"
#include "authorize.h"
#include "core/err.h"
#include "core/str.h"
#include "dispatch.h"
#include "env.h"
#include "req.h"
#include "services/fixtures.h"
#include "services/service.h"
#include "store/store.h"

#define PT_ACCT "000000000000"
#define PT_NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static inline struct pd_env *pt_env_new(void)
{
    struct pd_env *env = calloc(1, sizeof *env);
    pd_config_defaults(&env->cfg);
    pd_clock_init(&env->clock);
    env->clock.fixed_ms = PT_NOW_MS;
    pd_ids_init(&env->ids, 1, 42);
    char *err = NULL;
    const char *why = NULL;
    assert_int_equal(pd_store_open(":memory:", 0, &env->store, &err), PD_OK);
    pd_authorize_init(env);
    assert_int_equal(pd_dispatch_init(env, &why), PD_OK);
    assert_int_equal(
        pd_secrets_load(pd_store_db(env->store), time(NULL), NULL, 0, &env->secrets, &why), PD_OK);
    assert_int_equal(pd_fixtures_start(env, pd_store_db(env->store), &err), PD_OK);
    env->http_port = 4566;
    env->https_port = 4567;
    return env;
}

static inline void pt_env_free(struct pd_env *env)
{
    pd_dispatch_cleanup(env);
    pd_authorize_cleanup(env);
    pd_secrets_free(env->secrets);
    pd_store_close(env->store);
    pd_ids_cleanup(&env->ids);
    free(env);
}

/* Run svc's operation op as the root of acct in region, in a write transaction as dispatch
 * runs it (no authorization). Takes in. The caller frees the request. */
static inline struct pd_req *pt_op(struct pd_env *env, const char *svc, const char *op, json_t *in)
{
    const struct pd_service *s = pd_service_find(svc);
    assert_non_null(s);
    const struct pd_op *o = pd_service_op(s, op);
    assert_non_null(o);
    struct pd_req *r = pd_req_new(env);
    r->db = pd_store_db(env->store);
    r->svc = s;
    r->op = o;
    r->who.kind = PD_CALLER_ROOT;
    r->who.account_id = PT_ACCT;
    r->who.arn = "arn:aws:iam::" PT_ACCT ":root";
    snprintf(r->region, sizeof r->region, "us-east-1");
    r->in = in ? in : json_object();
    assert_int_equal(pd_db_begin(r->db, 1), PD_OK);
    int rc = o->fn(r);
    if (rc == PD_OK)
        assert_int_equal(pd_db_commit(r->db), PD_OK);
    else
        pd_db_rollback(r->db);
    return r;
}

/* Run and expect success; returns the output (new reference). */
static inline json_t *pt_ok(struct pd_env *env, const char *svc, const char *op, json_t *in)
{
    struct pd_req *r = pt_op(env, svc, op, in);
    if (r->err.def)
        fail_msg("%s failed: %s: %s", op, r->err.def->code, r->err.message);
    json_t *out = r->out ? json_incref(r->out) : json_object();
    pd_req_free(r);
    return out;
}

/* Run and expect the error code (and message unless NULL). */
static inline void pt_fails(struct pd_env *env, const char *svc, const char *op, json_t *in,
                            const char *code, const char *msg)
{
    struct pd_req *r = pt_op(env, svc, op, in);
    if (!r->err.def)
        fail_msg("%s succeeded, expected %s", op, code);
    if (strcmp(r->err.def->code, code) != 0)
        fail_msg("%s: expected %s, got %s: %s", op, code, r->err.def->code, r->err.message);
    if (msg)
        assert_string_equal(r->err.message, msg);
    pd_req_free(r);
}

/* One HTTP request through the pipeline, as server/ drives it. headers: "name: value" lines
 * separated by '\n' (lower-case names), may be NULL. The request comes from 127.0.0.1 with
 * "host: localhost" unless headers name a host, and an admin call (/_podiam/) with a body is
 * sent as JSON unless headers name a content type, as podiamctl sends them. The caller frees
 * the request. */
static inline struct pd_req *pt_http(struct pd_env *env, const char *method, const char *path,
                                     const char *query, const char *headers, const char *body)
{
    struct pd_req *r = pd_req_new(env);
    r->method = method;
    r->path = path;
    r->query = query ? query : "";
    snprintf(r->peer_ip, sizeof r->peer_ip, "127.0.0.1");
    if (headers) {
        char *copy = pd_arena_strdup(&r->arena, headers);
        for (char *line = copy; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            char *colon = strchr(line, ':');
            if (colon) {
                *colon = '\0';
                const char *v = colon + 1;
                while (*v == ' ')
                    v++;
                pd_kvs_add(&r->arena, &r->hdrs, line, v, strlen(v), 0);
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    if (!pd_kvs_get(&r->hdrs, "host", 0))
        pd_kvs_add(&r->arena, &r->hdrs, "host", "localhost", 9, 0);
    if (body && strncmp(path, "/_podiam/", 9) == 0 && !pd_kvs_get(&r->hdrs, "content-type", 0))
        pd_kvs_add(&r->arena, &r->hdrs, "content-type", "application/json", 16, 0);
    if (pd_dispatch_headers(r) != PD_OK)
        return r;
    if (body && pd_dispatch_body(r, body, strlen(body)) != PD_OK)
        return r;
    pd_dispatch(r);
    return r;
}

/* Same, signed with SigV4 by the root key test/test for service in us-east-1 at the fixed
 * clock (host, x-amz-date and, for a body, content-type application/x-amz-json-1.1). */
static inline struct pd_req *pt_http_signed(struct pd_env *env, const char *service,
                                            const char *method, const char *path, const char *query,
                                            const char *body)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_kvs h = {0};
    const char *host = pd_arena_printf(&a, "%s.us-east-1.amazonaws.com", service);
    pd_kvs_add(&a, &h, "host", host, strlen(host), 0);
    pd_kvs_add(&a, &h, "x-amz-date", "20260101T000000Z", 16, 0);
    if (body)
        pd_kvs_add(&a, &h, "content-type", "application/json", 16, 0);
    char hash[65];
    pd_sha256_hex(body ? body : "", body ? strlen(body) : 0, hash);
    struct pd_sigv4_request req = {.method = method,
                                   .path = path,
                                   .query = query ? query : "",
                                   .headers = &h,
                                   .payload_hash = hash,
                                   .normalize_path = 1};
    struct pd_sigv4_signer sg = {.akid = "test",
                                 .secret = "test",
                                 .region = "us-east-1",
                                 .service = service,
                                 .amz_date = "20260101T000000Z"};
    char *auth = NULL;
    assert_int_equal(pd_sigv4_sign_headers(&a, &sg, &req, NULL, 0, &auth, NULL), PD_OK);
    const char *hdrs = pd_arena_printf(&a,
                                       "host: %s\nx-amz-date: 20260101T000000Z\n%s"
                                       "authorization: %s",
                                       host, body ? "content-type: application/json\n" : "", auth);
    struct pd_req *r = pt_http(env, method, path, query, hdrs, body);
    pd_arena_cleanup(&a);
    return r;
}

static inline const char *pt_body(struct pd_req *r)
{
    return r->resp.body.len ? pd_buf_str(&r->resp.body) : "";
}

/* The text between <tag> and </tag> in the response body (arena), or NULL. */
static inline const char *pt_xml(struct pd_req *r, const char *tag)
{
    const char *b = pt_body(r);
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *s = strstr(b, open);
    if (!s)
        return NULL;
    s += strlen(open);
    const char *e = strstr(s, close);
    if (!e)
        return NULL;
    /* XML entities back to characters */
    char *out = pd_arena_strndup(&r->arena, s, (size_t)(e - s)), *w = out;
    static const char *const ents[][2] = {
        {"&apos;", "'"}, {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
    for (const char *p = out; *p;) {
        size_t k = 0;
        while (k < 5 && strncmp(p, ents[k][0], strlen(ents[k][0])) != 0)
            k++;
        if (k < 5) {
            *w++ = ents[k][1][0];
            p += strlen(ents[k][0]);
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return out;
}

#endif
