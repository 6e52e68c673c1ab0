/*
 * console.c - the workshop console under /_podiam/console: its page and assets (compiled into
 * the binary, emulator/console/), and the read-only views and the playground it needs beside
 * the admin API's own endpoints (docs/console.md).
 *
 *   GET  /_podiam/console              the single-page app (console.html)
 *   GET  /_podiam/console/NAME         its assets (console.js, console.css)
 *   GET  /_podiam/console/api/state    the state, secrets left out (below)
 *   POST /_podiam/console/api/simulate the policy simulator (SimulateCustomPolicy) with traces
 *   .../api/player[/...]               the scenario player (console_player.c)
 *
 * Guarded exactly as the admin API (pd_req_admin_refusal): every GET needs the READ level
 * (loopback peer, loopback Host, podiam's own Origin), the POST the SENSITIVE level (a JSON
 * body), so no other page can read or drive it. Everything else the console does (decisions,
 * clock, reset, issuers) goes to the admin API itself with the same checks. The page may not
 * be framed (clickjacking of its reset button) and loads nothing from elsewhere (CSP).
 *
 * Owns nothing beyond the request. Must not: change state, or answer any secret (secret
 * access keys, session or service-account tokens, private keys, Kubernetes Secrets, object
 * bytes).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"
#include "embedded.h"
#include "env.h"
#include "services/fixtures.h"
#include "services/iam/iam_simulate.h"
#include "services/console.h"
#include "services/service.h"
#include "store/k8s_db.h"

static int reply_error(struct pd_req *r, int status, const char *code, const char *msg)
{
    return pd_req_reply_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

/* ---- the page and its assets ---------------------------------------------------------- */

static const struct {
    const char *path; /* under /_podiam/console */
    const char *file; /* embedded file name */
    const char *type;
} assets[] = {
    {"", "console.html", "text/html; charset=utf-8"},
    {"/", "console.html", "text/html; charset=utf-8"},
    {"/console.js", "console.js", "text/javascript; charset=utf-8"},
    {"/console.css", "console.css", "text/css; charset=utf-8"},
};

static int asset(struct pd_req *r)
{
    const char *rest = r->path + strlen("/_podiam/console");
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
        if (strcmp(rest, assets[i].path) != 0)
            continue;
        const struct pd_embedded *e = pd_embedded_find(assets[i].file);
        if (!e)
            break;
        r->resp.status = 200;
        r->resp.content_type = assets[i].type;
        pd_buf_add(&r->resp.body, e->data, e->len);
        return PD_OK;
    }
    return reply_error(r, 404, "NotFound", "no such console file");
}

/* ---- the state, without secrets ------------------------------------------------------- */

/* Members never shown, whatever object they are in (compared case-insensitively): tokens,
 * seeds and object bytes by name, and every member whose name contains "secret", "private"
 * or "password" or ends in "pem" (every PEM podiam stores is a private key; the CA
 * certificate has its own endpoint). A pod's projected serviceAccountToken volume is the
 * volume's description, not a token, and stays. */
static int hidden_member(const char *k)
{
    static const char *const exact[] = {"token",        "session_token", "sessiontoken", "id_token",
                                        "access_token", "refresh_token", "text",         "base64",
                                        "body",         "bytes",         "content",      "seed"};
    char low[64];
    size_t n = strlen(k);
    if (n >= sizeof low)
        return 0;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)k[i]);
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(low, exact[i]) == 0)
            return 1;
    if (strstr(low, "secret") || strstr(low, "private") || strstr(low, "password"))
        return 1;
    return n >= 3 && strcmp(low + n - 3, "pem") == 0;
}

/* A copy of v without hidden members (new reference). An S3 object's bytes are replaced
 * by their size. */
static json_t *without_secrets(const json_t *v, int depth)
{
    if (depth > 48)
        return json_null();
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (hidden_member(k)) {
                if (strcmp(k, "text") == 0 && json_is_string(x))
                    json_object_set_new(o, "size", json_integer((json_int_t)json_string_length(x)));
                continue;
            }
            json_object_set_new(o, k, without_secrets(x, depth + 1));
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            json_array_append_new(a, without_secrets(x, depth + 1));
        }
        return a;
    }
    return json_deep_copy(v);
}

/* Kubernetes objects of one cluster by resource ({"pods": [...], ...}), the stored bodies
 * (pods as the webhook mutated them). Secrets and token requests are left out. */
static json_t *cluster_objects(struct pd_req *r, const char *cluster_id)
{
    json_t *by = json_object();
    struct pd_k8s_db_obj *rows = NULL;
    size_t n = 0;
    if (pd_k8s_db_list(r->db, &r->arena, cluster_id, NULL, NULL, &rows, &n) != PD_OK)
        return by;
    for (size_t i = 0; i < n; i++) {
        const char *res = rows[i].resource;
        if (!res || strstr(res, "secret") || strstr(res, "token"))
            continue;
        json_t *body = json_loads(rows[i].body ? rows[i].body : "", 0, NULL);
        if (!body)
            continue;
        json_t *list = json_object_get(by, res);
        if (!list) {
            list = json_array();
            json_object_set_new(by, res, list);
        }
        json_array_append_new(list, without_secrets(body, 0));
        json_decref(body);
    }
    return by;
}

static int state_view(struct pd_req *r)
{
    json_t *doc = NULL;
    char *err = NULL;
    int rc = pd_fixtures_export(r->env, r->db, &doc, &err);
    if (rc) {
        reply_error(r, 500, "ExportFailed", err ? err : pd_strerror(rc));
        free(err);
        return PD_OK;
    }
    json_t *view = without_secrets(doc, 0);
    json_decref(doc);
    /* the Kubernetes objects of every cluster (the export keeps only what fixtures load) */
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(view, "eks"), "clusters"), i, c)
    {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (id)
            json_object_set_new(c, "objects", cluster_objects(r, id));
    }
    return pd_req_reply_json(r, 200, view);
}

/* ---- the playground --------------------------------------------------------------------- */

/* Bounds of the playground's input (SimulateCustomPolicy's own, where AWS states one). */
#define MAX_POLICIES 10
#define MAX_POLICY_CHARS 131072
#define MAX_NAMES 20 /* actions, resources */
#define MAX_NAME_CHARS 2048
#define MAX_CONTEXT 50
#define MAX_CONTEXT_VALUES 50

static int too_long(const json_t *v, size_t max)
{
    return json_is_string(v) && json_string_length(v) > max;
}

json_t *pd_console_simulate_input(const json_t *b, const char **why)
{
    *why = "expected a JSON object";
    if (!json_is_object(b))
        return NULL;
    json_t *in = json_object();
    json_t *list = json_array();
    size_t i;
    json_t *x;
    json_object_set_new(in, "PolicyInputList", list);
    json_array_foreach(json_object_get(b, "policies"), i, x)
    {
        if (!json_is_string(x) || too_long(x, MAX_POLICY_CHARS) || i >= MAX_POLICIES) {
            *why = "policies: at most 10 policy documents, each a string of at most 131072 "
                   "characters";
            goto fail;
        }
        json_array_append(list, x);
    }
    static const char *const many[][3] = {{"actions", "action", "ActionNames"},
                                          {"resources", "resource", "ResourceArns"}};
    for (int k = 0; k < 2; k++) {
        json_t *arr = json_array();
        json_t *v = json_object_get(b, many[k][0]);
        json_array_foreach(v, i, x)
        {
            if (json_is_string(x) && json_string_length(x))
                json_array_append(arr, x);
        }
        v = json_object_get(b, many[k][1]);
        if (json_is_string(v) && json_string_length(v))
            json_array_append(arr, v);
        int bad = json_array_size(arr) > MAX_NAMES;
        json_array_foreach(arr, i, x) bad |= too_long(x, MAX_NAME_CHARS);
        if (bad) {
            json_decref(arr);
            *why = "actions and resources: at most 20 each, of at most 2048 characters";
            goto fail;
        }
        if (json_array_size(arr))
            json_object_set_new(in, many[k][2], arr);
        else
            json_decref(arr);
    }
    static const char *const str[][2] = {{"caller", "CallerArn"},
                                         {"resource_policy", "ResourcePolicy"},
                                         {"resource_owner", "ResourceOwner"}};
    for (int k = 0; k < 3; k++) {
        json_t *v = json_object_get(b, str[k][0]);
        if (too_long(v, MAX_POLICY_CHARS)) {
            *why = "caller, resource_policy, resource_owner: at most 131072 characters";
            goto fail;
        }
        if (json_is_string(v) && json_string_length(v))
            json_object_set(in, str[k][1], v);
    }
    json_t *ctx = json_array();
    json_object_set_new(in, "ContextEntries", ctx);
    json_array_foreach(json_object_get(b, "context"), i, x)
    {
        json_t *key = json_object_get(x, "key"), *type = json_object_get(x, "type");
        json_t *vals = json_object_get(x, "values");
        int ok = i < MAX_CONTEXT && json_is_string(key) && json_string_length(key) &&
                 !too_long(key, MAX_NAME_CHARS) && (!type || json_is_string(type)) &&
                 json_is_array(vals) && json_array_size(vals) <= MAX_CONTEXT_VALUES;
        size_t j;
        json_t *v;
        json_array_foreach(vals, j, v) ok &= json_is_string(v) && !too_long(v, MAX_NAME_CHARS);
        if (!ok) {
            *why = "context: at most 50 entries {\"key\", \"type\", \"values\": [strings]}";
            goto fail;
        }
        const char *t = json_string_value(type);
        json_array_append_new(ctx, json_pack("{s:O, s:O, s:s}", "ContextKeyName", key,
                                             "ContextKeyValues", vals, "ContextKeyType",
                                             t && *t ? t : "string"));
    }
    if (!json_array_size(ctx))
        json_object_del(in, "ContextEntries");
    *why = NULL;
    return in;
fail:
    json_decref(in);
    return NULL;
}

static int simulate(struct pd_req *r)
{
    json_error_t jerr;
    json_t *b = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, &jerr);
    const char *why = NULL;
    json_t *in = pd_console_simulate_input(b, &why);
    json_decref(b);
    if (!in)
        return reply_error(r, 400, "BadRequest", why);
    json_decref(r->in);
    r->in = in;
    json_t *traces = NULL;
    int rc = pd_iam_simulate_traced(r, &traces);
    if (rc) {
        const char *code = r->err.def ? r->err.def->code : "InternalFailure";
        const char *msg = r->err.message ? r->err.message : pd_strerror(rc);
        return pd_req_reply_json(r, 400, json_pack("{s:s, s:s}", "error", code, "message", msg));
    }
    json_t *out = json_pack("{s:O*, s:o}", "EvaluationResults",
                            json_object_get(r->out, "EvaluationResults"), "traces", traces);
    return pd_req_reply_json(r, 200, out);
}

/* ---- routing -------------------------------------------------------------------------- */

enum { OP_ASSET, OP_STATE, OP_SIMULATE, OP_PLAYER };
static const struct pd_op ops[] = {
    [OP_ASSET] = {"ConsoleAsset", asset, 0},
    [OP_STATE] = {"ConsoleState", state_view, 0},
    [OP_SIMULATE] = {"ConsoleSimulate", simulate, 0},
    /* no transaction: the player's endpoints read no state and may wait (long polls) */
    [OP_PLAYER] = {"ConsolePlayer", pd_console_player, PD_OP_NOTXN},
    {NULL, NULL, 0},
};

static int route(struct pd_req *r)
{
    const char *p = r->path;
    if (strcmp(p, "/_podiam/console") != 0 && !pd_has_prefix(p, "/_podiam/console/"))
        return 0;
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0;
    if (strcmp(p, "/_podiam/console/api/state") == 0 && get)
        r->op = &ops[OP_STATE];
    else if (strcmp(p, "/_podiam/console/api/simulate") == 0 && post)
        r->op = &ops[OP_SIMULATE];
    else if ((strcmp(p, "/_podiam/console/api/player") == 0 && get) ||
             (pd_has_prefix(p, "/_podiam/console/api/player/") && post))
        r->op = &ops[OP_PLAYER];
    else if (!pd_has_prefix(p, "/_podiam/console/api/") && get)
        r->op = &ops[OP_ASSET];
    const char *why = pd_req_admin_refusal(r, post ? PD_ADMIN_SENSITIVE : PD_ADMIN_READ);
    if (why) {
        r->op = NULL;
        r->op_name = "Forbidden";
        reply_error(r, 403, "Forbidden", why);
    } else if (!r->op) {
        r->op_name = "NotFound";
        reply_error(r, 404, "NotFound", "no such console endpoint");
    } else {
        /* the page is podiam's own: nothing from elsewhere, never inside another page */
        pd_req_set_header(r, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'none'");
        pd_req_set_header(r, "X-Frame-Options", "DENY");
        pd_req_set_header(r, "X-Content-Type-Options", "nosniff");
        pd_req_set_header(r, "Referrer-Policy", "no-referrer");
        pd_req_set_header(r, "Cache-Control", "no-store");
    }
    return 1;
}

const struct pd_service pd_svc_console = {
    .name = "console",
    .proto = PD_PROTO_RAW,
    .ops = ops,
    .route = route,
};
