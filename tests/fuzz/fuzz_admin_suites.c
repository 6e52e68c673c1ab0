/*
 * fuzz_admin_suites.c - libFuzzer target: the admin API routes made for test suites, through
 * the whole request pipeline (pd_dispatch) of one podiam with a :memory: state: snapshots
 * (names in paths and JSON bodies), accounts (JSON bodies, ids in paths), decision marks and
 * reports (since=, principal=, allow_partial= in queries).
 *
 * Input: byte 0 picks the method (GET, POST, DELETE) and the route (decisions,
 * snapshots, accounts); the rest up to the first newline follows /_podiam/ROUTE (a '?'
 * starts the query); what follows the newline is the body. Checked beyond "no crash": bad
 * input is a 4xx, never a 5xx or no answer. What a valid input creates (a snapshot, an
 * account) is deleted again, so the state stays small.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/secrets.h"
#include "authorize.h"
#include "core/kv.h"
#include "core/log.h"
#include "dispatch.h"
#include "env.h"
#include "req.h"
#include "services/fixtures.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pd_env *env_get(void)
{
    static struct pd_env *env;
    if (env)
        return env;
    pd_log_level = -1;
    env = calloc(1, sizeof *env);
    if (!env)
        abort();
    pd_config_defaults(&env->cfg);
    pd_clock_init(&env->clock);
    pd_ids_init(&env->ids, 1, 42);
    char *err = NULL;
    const char *why = NULL;
    if (pd_store_open(":memory:", 0, &env->store, &err) != 0)
        abort();
    pd_authorize_init(env);
    if (pd_dispatch_init(env, &why) != 0 ||
        pd_secrets_load(pd_store_db(env->store), time(NULL), NULL, 0, &env->secrets, &why) != 0 ||
        pd_fixtures_start(env, pd_store_db(env->store), &err) != 0)
        abort();
    env->http_port = 4566;
    return env;
}

/* One admin request; returns its status (0: no answer). *OUT_body: the answer's JSON, when
 * wanted (a new reference or NULL). */
static int call(const char *method, const char *path, const char *query, const char *body,
                size_t body_len, json_t **OUT_body)
{
    struct pd_req *r = pd_req_new(env_get());
    r->method = method;
    r->path = path;
    r->query = query;
    snprintf(r->peer_ip, sizeof r->peer_ip, "127.0.0.1");
    pd_kvs_add(&r->arena, &r->hdrs, "host", "localhost", 9, 0);
    pd_kvs_add(&r->arena, &r->hdrs, "x-podiam-admin", "1", 1, 0);
    pd_kvs_add(&r->arena, &r->hdrs, "content-type", "application/json", 16, 0);
    if (pd_dispatch_headers(r) == 0 && (!body_len || pd_dispatch_body(r, body, body_len) == 0))
        pd_dispatch(r);
    int status = r->resp.status;
    if (OUT_body)
        *OUT_body = json_loadb(r->resp.body.p ? r->resp.body.p : "", r->resp.body.len, 0, NULL);
    pd_req_free(r);
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "DELETE"};
    static const char *const routes[] = {"decisions", "snapshots", "accounts"};
    if (size < 1 || size > 4096)
        return 0;
    const char *method = methods[data[0] % 3];
    const char *route = routes[(data[0] / 3) % 3];
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    const char *nl = memchr(rest, '\n', n);
    size_t tlen = nl ? (size_t)(nl - rest) : n;
    if (memchr(rest, '\0', tlen))
        return 0; /* the server never hands NUL in a path or query */
    size_t cap = strlen(route) + tlen + 16;
    char *target = malloc(cap);
    if (!target)
        abort();
    int off = snprintf(target, cap, "/_podiam/%s", route);
    memcpy(target + off, rest, tlen);
    target[off + (int)tlen] = '\0';
    char *q = strchr(target, '?');
    const char *query = "";
    if (q) {
        *q = '\0';
        query = q + 1;
    }
    const char *body = nl ? nl + 1 : NULL;
    size_t body_len = nl ? n - tlen - 1 : 0;
    json_t *answer = NULL;
    int status = call(method, target, query, body, body_len, &answer);
#ifdef FUZZ_SHOW /* -DFUZZ_SHOW: print each request and its status (checking seeds) */
    fprintf(stderr, "%s %s?%s -> %d\n", method, target, query, status);
#endif
    if (status < 200 || status >= 500)
        abort(); /* bad input is the client's error, and is answered */
    /* undo what a valid input made */
    if (status == 201 && strcmp(route, "snapshots") == 0) {
        const char *name = json_string_value(json_object_get(answer, "name"));
        char path[160];
        if (!name || snprintf(path, sizeof path, "/_podiam/snapshots/%s", name) >= (int)sizeof path)
            abort();
        if (call("DELETE", path, "", NULL, 0, NULL) >= 300)
            abort();
    }
    if (status < 300 && strcmp(route, "accounts") == 0 && strcmp(method, "POST") == 0) {
        const char *id = json_string_value(json_object_get(answer, "account_id"));
        char path[64];
        if (!id || snprintf(path, sizeof path, "/_podiam/accounts/%s", id) >= (int)sizeof path)
            abort();
        if (call("DELETE", path, "", NULL, 0, NULL) >= 300)
            abort();
    }
    json_decref(answer);
    free(target);
    return 0;
}
