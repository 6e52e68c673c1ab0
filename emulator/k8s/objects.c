/*
 * objects.c - the generic store and handler path every stored kind goes through (STYLE.md
 * §15): get, list (selectors, limit/continue, Tables), create, update, patch (merge,
 * strategic, JSON patch, apply) and delete, with the table row (kinds.c) saying the kind's
 * scope, name rule and status strategy and its hooks adding validation, defaults and side
 * effects. Also the answers every kind shares: Status failures, 422 field errors, bodies
 * (JSON or decoded protobuf) and the object helpers hooks call.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/str.h"
#include "env.h"
#include "k8s/internal.h"
#include "k8s/patch.h"
#include "k8s/watch.h"
#include "req.h"
#include "store/k8s_db.h"

/* ---- answers ---- */

int pd_k8s_fail(struct pd_req *r, int code, const char *reason, json_t *details, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = pd_arena_vprintf(&r->arena, fmt, ap);
    va_end(ap);
    json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s}", "kind", "Status", "apiVersion", "v1",
                           "metadata", "status", "Failure", "message", msg);
    if (reason)
        json_object_set_new(st, "reason", json_string(reason));
    if (details)
        json_object_set_new(st, "details", details);
    json_object_set_new(st, "code", json_integer(code));
    r->op_name = reason;
    return pd_req_reply_json(r, code, st);
}

json_t *pd_k8s_details(const char *name, const char *group, const char *kind)
{
    json_t *d = json_object();
    if (name && *name)
        json_object_set_new(d, "name", json_string(name));
    if (group && *group)
        json_object_set_new(d, "group", json_string(group));
    if (kind && *kind)
        json_object_set_new(d, "kind", json_string(kind));
    return d;
}

int pd_k8s_not_found(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *name)
{
    pd_k8s_fail(x->r, 404, "NotFound", pd_k8s_details(name, res->group, res->name),
                "%s %s not found", res->qualified, pd_k8s_goquote(&x->r->arena, name));
    return PD_EAWS;
}

int pd_k8s_bad_request(struct pd_k8s_ctx *x, const char *msg)
{
    pd_k8s_fail(x->r, 400, "BadRequest", NULL, "%s", msg);
    return PD_EAWS;
}

int pd_k8s_forbidden(struct pd_k8s_ctx *x, const struct pd_k8s_attrs *at, const char *reason)
{
    json_t *d;
    const char *msg = pd_k8s_forbidden_message(&x->r->arena, at, reason, &d);
    x->refusal = msg;
    pd_k8s_fail(x->r, 403, "Forbidden", d, "%s", msg);
    return PD_EAWS;
}

int pd_k8s_forbidden_obj(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *name,
                         const char *msg)
{
    struct pd_arena *a = &x->r->arena;
    const char *full = name && *name
                           ? pd_arena_printf(a, "%s %s is forbidden: %s", res->qualified,
                                             pd_k8s_goquote(a, name), msg)
                           : pd_arena_printf(a, "%s is forbidden: %s", res->qualified, msg);
    x->refusal = full;
    pd_k8s_fail(x->r, 403, "Forbidden", pd_k8s_details(name, res->group, res->name), "%s", full);
    return PD_EAWS;
}

static int method_not_allowed(struct pd_req *r)
{
    pd_k8s_fail(r, 405, "MethodNotAllowed", json_object(),
                "the server does not allow this method on the requested resource");
    return PD_EAWS;
}

/* ---- 422 field errors (apimachinery util/validation/field) ---- */

static void ferr_add(struct pd_arena *a, struct pd_k8s_field_errs *e, const char *type,
                     const char *field, const char *body)
{
    if (!e->causes)
        e->causes = json_array();
    json_array_append_new(
        e->causes, json_pack("{s:s, s:s, s:s}", "reason", type, "message", body, "field", field));
    if (e->n < sizeof e->msgs / sizeof *e->msgs)
        e->msgs[e->n++] = pd_arena_printf(a, "%s: %s", field, body);
}

void pd_k8s_ferr_required(struct pd_arena *a, struct pd_k8s_field_errs *e, const char *field,
                          const char *detail)
{
    ferr_add(a, e, "FieldValueRequired", field,
             detail && *detail ? pd_arena_printf(a, "Required value: %s", detail)
                               : "Required value");
}

void pd_k8s_ferr_invalid(struct pd_arena *a, struct pd_k8s_field_errs *e, const char *field,
                         const char *value, const char *detail)
{
    ferr_add(a, e, "FieldValueInvalid", field,
             pd_arena_printf(a, "Invalid value: %s: %s", value, detail));
}

void pd_k8s_ferr_unsupported(struct pd_arena *a, struct pd_k8s_field_errs *e, const char *field,
                             const char *value, const char *supported)
{
    ferr_add(a, e, "FieldValueNotSupported", field,
             pd_arena_printf(a, "Unsupported value: %s: supported values: %s", value, supported));
}

int pd_k8s_invalid(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *name,
                   struct pd_k8s_field_errs *e)
{
    if (!e->causes)
        return PD_OK;
    struct pd_arena *a = &x->r->arena;
    const char *kind = *res->group ? pd_arena_printf(a, "%s.%s", res->kind, res->group) : res->kind;
    const char *errs = pd_k8s_aggregate_errors(a, e->msgs, e->n);
    json_t *d = json_object();
    if (name && *name)
        json_object_set_new(d, "name", json_string(name));
    if (*res->group)
        json_object_set_new(d, "group", json_string(res->group));
    json_object_set_new(d, "kind", json_string(res->kind));
    json_object_set_new(d, "causes", e->causes);
    e->causes = NULL;
    pd_k8s_fail(x->r, 422, "Invalid", d, "%s %s is invalid: %s", kind,
                pd_k8s_goquote(a, name ? name : ""), errs);
    return PD_EAWS;
}

/* ---- small helpers ---- */

static const char *qget(struct pd_k8s_ctx *x, const char *name)
{
    return pd_kvs_get(&x->q, name, 0);
}

int pd_k8s_dry_run(struct pd_k8s_ctx *x)
{
    const char *d = qget(x, "dryRun");
    return d && strcmp(d, "All") == 0;
}

const char *pd_k8s_iso(struct pd_k8s_ctx *x, int64_t ms)
{
    char *out = pd_arena_alloc(&x->r->arena, 32);
    pd_time_iso8601(ms, 0, out);
    return out;
}

const char *pd_k8s_uuid(struct pd_k8s_ctx *x)
{
    char *out = pd_arena_alloc(&x->r->arena, 37);
    pd_ids_uuid(&x->r->env->ids, out);
    return out;
}

const char *pd_k8s_suffix(struct pd_k8s_ctx *x, size_t n)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    char *out = pd_arena_alloc(&x->r->arena, n + 1);
    uint64_t v = pd_ids_next(&x->r->env->ids);
    for (size_t i = 0; i < n; i++) {
        out[i] = alphabet[v % (sizeof alphabet - 1)];
        v /= sizeof alphabet - 1;
    }
    out[n] = '\0';
    return out;
}

static const char *rv_str(struct pd_k8s_ctx *x, int64_t rv)
{
    return pd_arena_printf(&x->r->arena, "%lld", (long long)rv);
}

/* ---- names ---- */

#define LABEL_MSG                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define SUBDOMAIN_MSG                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

static int alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int label_ok(const char *s, size_t n)
{
    if (n == 0 || !alnum(s[0]) || !alnum(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!alnum(s[i]) && s[i] != '-')
            return 0;
    return 1;
}

const char *pd_k8s_name_problem(enum pd_k8s_name_rule rule, const char *name)
{
    size_t n = strlen(name);
    switch (rule) {
    case PD_K8S_NAME_LABEL:
        if (n > 63)
            return "must be no more than 63 characters";
        return label_ok(name, n) ? NULL : LABEL_MSG;
    case PD_K8S_NAME_PATHSEG: /* apimachinery api/validation/path.IsValidPathSegmentName */
        if (strcmp(name, ".") == 0)
            return "may not be '.'";
        if (strcmp(name, "..") == 0)
            return "may not be '..'";
        if (strchr(name, '/'))
            return "may not contain '/'";
        if (strchr(name, '%'))
            return "may not contain '%'";
        return NULL;
    case PD_K8S_NAME_SUBDOMAIN:
    default:
        break;
    }
    if (n > 253)
        return "must be no more than 253 characters";
    const char *p = name;
    for (;;) {
        size_t l = strcspn(p, ".");
        if (!label_ok(p, l))
            return SUBDOMAIN_MSG;
        if (!p[l])
            return NULL;
        p += l + 1;
    }
}

/* ---- storage of objects ---- */

static json_t *parse_obj(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    return v;
}

json_t *pd_k8s_load(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns,
                    const char *name)
{
    struct pd_k8s_db_obj o;
    if (pd_k8s_db_get(x->r->db, &x->r->arena, x->c.id, res->qualified,
                      PD_K8S_NAMESPACED_RES(res) ? ns : "", name, &o))
        return NULL;
    return parse_obj(o.body);
}

json_t *pd_k8s_load_all(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns)
{
    struct pd_k8s_db_obj *rows;
    size_t n;
    json_t *out = json_array();
    if (pd_k8s_db_list(x->r->db, &x->r->arena, x->c.id, res->qualified,
                       PD_K8S_NAMESPACED_RES(res) ? ns : "", &rows, &n) == PD_OK)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(out, parse_obj(rows[i].body));
    return out;
}

json_t *pd_k8s_meta(json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    return md;
}

const char *pd_k8s_mstr(const json_t *obj, const char *k)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), k));
}

json_t *pd_k8s_ordered(json_t *obj, const struct pd_k8s_res *res)
{
    json_t *o = json_pack("{s:s, s:s, s:O}", "kind", res->kind, "apiVersion", res->api_version,
                          "metadata", pd_k8s_meta(obj));
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcmp(k, "kind") && strcmp(k, "apiVersion") && strcmp(k, "metadata"))
            json_object_set(o, k, v);
    }
    json_decref(obj);
    return o;
}

int pd_k8s_save(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, json_t *obj, int replace)
{
    int64_t rv;
    const char *ns = PD_K8S_NAMESPACED_RES(res) ? pd_k8s_mstr(obj, "namespace") : "";
    const char *name = pd_k8s_mstr(obj, "name");
    json_t *old = replace ? pd_k8s_load(x, res, ns ? ns : "", name ? name : "") : NULL;
    int rc = pd_k8s_db_rv_next(x->r->db, x->c.id, &rv);
    if (rc) {
        json_decref(old);
        return rc;
    }
    json_t *md = pd_k8s_meta(obj);
    json_object_set_new(md, "resourceVersion", json_string(rv_str(x, rv)));
    int64_t created = x->now_ms;
    const char *ts = json_string_value(json_object_get(md, "creationTimestamp"));
    if (ts)
        pd_time_parse_iso8601(ts, &created);
    char *body = json_dumps(obj, JSON_COMPACT);
    struct pd_k8s_db_obj row = {
        .resource = res->qualified,
        .ns = ns,
        .name = name,
        .uid = pd_k8s_mstr(obj, "uid"),
        .rv = rv,
        .created_ms = created,
        .body = body,
    };
    rc = pd_k8s_db_put(x->r->db, x->c.id, &row, replace);
    free(body);
    if (rc == PD_OK)
        pd_k8s_pending_add(&x->ev, old ? PD_K8S_MODIFIED : PD_K8S_ADDED, res, rv, obj, old);
    json_decref(old);
    return rc;
}

int pd_k8s_remove(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const json_t *old)
{
    const char *ns = PD_K8S_NAMESPACED_RES(res) ? pd_k8s_mstr(old, "namespace") : "";
    const char *name = pd_k8s_mstr(old, "name");
    int rc = pd_k8s_db_del(x->r->db, x->c.id, res->qualified, ns ? ns : "", name ? name : "");
    int64_t rv;
    if (rc == PD_OK)
        rc = pd_k8s_db_rv_next(x->r->db, x->c.id, &rv);
    if (rc == PD_OK) {
        /* the DELETED event carries the last state with the deletion's resourceVersion */
        json_t *last = json_deep_copy(old);
        json_object_set_new(pd_k8s_meta(last), "resourceVersion", json_string(rv_str(x, rv)));
        pd_k8s_pending_add(&x->ev, PD_K8S_DELETED, res, rv, last, NULL);
        json_decref(last);
    }
    return rc;
}

/* Fresh metadata for a new object: uid, creationTimestamp, namespace. */
static void stamp_new(struct pd_k8s_ctx *x, json_t *obj, const struct pd_k8s_res *res,
                      const char *ns)
{
    json_t *md = pd_k8s_meta(obj);
    if (PD_K8S_NAMESPACED_RES(res))
        json_object_set_new(md, "namespace", json_string(ns));
    else
        json_object_del(md, "namespace");
    json_object_set_new(md, "uid", json_string(pd_k8s_uuid(x)));
    json_object_del(md, "resourceVersion");
    json_object_set_new(md, "creationTimestamp", json_string(pd_k8s_iso(x, x->now_ms)));
    json_object_del(md, "deletionTimestamp");
    json_object_del(md, "selfLink");
    json_object_del(md, "generation");
    json_object_del(md, "managedFields");
}

int pd_k8s_put_new(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns, json_t *obj)
{
    stamp_new(x, obj, res, ns);
    obj = pd_k8s_ordered(obj, res);
    int rc = pd_k8s_save(x, res, obj, 0);
    json_decref(obj);
    return rc;
}

/* ---- bodies ---- */

json_t *pd_k8s_body(struct pd_k8s_ctx *x, int patch)
{
    struct pd_req *r = x->r;
    if (r->body.len > PD_K8S_MAX_BODY) {
        pd_k8s_fail(r, 413, "RequestEntityTooLarge", NULL, "Request entity too large: limit is %d",
                    PD_K8S_MAX_BODY);
        return NULL;
    }
    const char *ct = pd_req_header(r, "content-type");
    if (ct && pd_strncaseeq(ct, "application/vnd.kubernetes.protobuf", 35) && !patch) {
        if (r->in)
            return json_incref(r->in);
        pd_k8s_bad_request(x, r->decode_error ? r->decode_error
                                              : "the protobuf body could not be decoded");
        return NULL;
    }
    if (!patch && ct && !pd_strncaseeq(ct, "application/json", 16) &&
        !pd_strncaseeq(ct, "*/*", 3)) {
        pd_k8s_fail(r, 415, "UnsupportedMediaType", NULL,
                    "the body of the request was in an unknown format - accepted media types "
                    "include: application/json, application/yaml, "
                    "application/vnd.kubernetes.protobuf");
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, &je);
    if (!v) {
        pd_k8s_bad_request(
            x, pd_arena_printf(&r->arena, "error decoding the request body: %s", je.text));
        return NULL;
    }
    return v;
}

int pd_k8s_check_kind(struct pd_k8s_ctx *x, json_t *obj, const char *want_kind,
                      const char *want_api)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *api = json_string_value(json_object_get(obj, "apiVersion"));
    if ((kind && *kind && strcmp(kind, want_kind) != 0) ||
        (api && *api && strcmp(api, want_api) != 0))
        return pd_k8s_bad_request(x, pd_arena_printf(&x->r->arena,
                                                     "the object provided is unrecognized (must "
                                                     "be of type %s): %s/%s",
                                                     want_kind, api ? api : "", kind ? kind : ""));
    return PD_OK;
}

/* ---- the generic handlers ---- */

int pd_k8s_wants_table(struct pd_k8s_ctx *x)
{
    const char *acc = pd_req_header(x->r, "accept");
    return acc && strstr(acc, "as=Table") != NULL;
}

/* Run a hook that may refuse: PD_EAWS means answered, which the handlers treat as done. */
static int hook_rc(int rc)
{
    return rc == PD_EAWS ? PD_OK : rc;
}

int pd_k8s_create(struct pd_k8s_ctx *x, json_t *obj, const char *ns)
{
    struct pd_req *r = x->r;
    const struct pd_k8s_res *res = x->res;
    const struct pd_k8s_hooks *h = res->hooks;
    int rc = PD_OK;
    if (!json_is_object(obj) || !json_is_object(json_object_get(obj, "metadata"))) {
        rc = hook_rc(pd_k8s_bad_request(x, "the body must be an object with metadata"));
        goto out;
    }
    if (pd_k8s_check_kind(x, obj, res->kind, res->api_version))
        goto out;
    json_t *md = pd_k8s_meta(obj);
    const char *bns = json_string_value(json_object_get(md, "namespace"));
    if (PD_K8S_NAMESPACED_RES(res) && bns && *bns && strcmp(bns, ns) != 0) {
        rc = hook_rc(pd_k8s_bad_request(x, "the namespace of the provided object does not match "
                                           "the namespace sent on the request"));
        goto out;
    }
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *gen = json_string_value(json_object_get(md, "generateName"));
    if ((!name || !*name) && gen && *gen) {
        name = pd_arena_printf(&r->arena, "%s%s", gen, pd_k8s_suffix(x, 5));
        json_object_set_new(md, "name", json_string(name));
    }
    struct pd_k8s_field_errs fe = {0};
    if (!name || !*name) {
        pd_k8s_ferr_required(&r->arena, &fe, "metadata.name", "name or generateName is required");
        rc = hook_rc(pd_k8s_invalid(x, res, "", &fe));
        goto out;
    }
    name = pd_arena_strdup(&r->arena, name);
    const char *why = pd_k8s_name_problem(res->name_rule, name);
    if (why) {
        pd_k8s_ferr_invalid(&r->arena, &fe, "metadata.name", pd_k8s_goquote(&r->arena, name), why);
        rc = hook_rc(pd_k8s_invalid(x, res, name, &fe));
        goto out;
    }
    if (PD_K8S_NAMESPACED_RES(res)) {
        json_t *nso = pd_k8s_load(x, pd_k8s_res_find("namespaces"), "", ns);
        if (!nso) {
            rc = hook_rc(pd_k8s_not_found(x, pd_k8s_res_find("namespaces"), ns));
            goto out;
        }
        json_decref(nso);
    }
    json_t *old = pd_k8s_load(x, res, ns, name);
    if (old) {
        json_decref(old);
        pd_k8s_fail(r, 409, "AlreadyExists", pd_k8s_details(name, res->group, res->name),
                    "%s %s already exists", res->qualified, pd_k8s_goquote(&r->arena, name));
        goto out;
    }
    stamp_new(x, obj, res, ns);
    if (res->flags & PD_K8S_NO_STATUS)
        json_object_del(obj, "status");
    if (h && h->create && (rc = hook_rc(h->create(x, obj))) == PD_OK && r->resp.status)
        goto out; /* refused */
    if (rc)
        goto out;
    obj = pd_k8s_ordered(obj, res);
    if (pd_k8s_dry_run(x)) {
        rc = pd_req_reply_json(r, 201, json_incref(obj));
        goto out;
    }
    rc = pd_k8s_save(x, res, obj, 0);
    if (rc == PD_OK && h && h->written)
        rc = hook_rc(h->written(x, obj, NULL));
    if (rc || r->resp.status)
        goto out;
    rc = pd_req_reply_json(r, 201, json_incref(obj));
out:
    json_decref(obj);
    return rc;
}

int pd_k8s_write_changed(struct pd_k8s_ctx *x, json_t *old, json_t *obj, int status)
{
    const struct pd_k8s_res *res = x->res;
    const struct pd_k8s_hooks *h = res->hooks;
    json_t *md = pd_k8s_meta(obj);
    json_t *omd = json_object_get(old, "metadata");
    static const char *const keep[] = {"name", "namespace", "uid", "creationTimestamp", NULL};
    for (const char *const *k = keep; *k; k++) {
        json_t *v = json_object_get(omd, *k);
        if (v)
            json_object_set(md, *k, v);
        else
            json_object_del(md, *k);
    }
    json_object_set(md, "resourceVersion", json_object_get(omd, "resourceVersion"));
    json_object_set_new(obj, "kind", json_string(res->kind));
    json_object_set_new(obj, "apiVersion", json_string(res->api_version));
    if (x->status_write) {
        /* the status subresource: the stored object with the new status, nothing else */
        json_t *st = json_object_get(obj, "status");
        json_t *n = json_deep_copy(old);
        json_object_set_new(n, "status", st ? json_incref(st) : json_object());
        obj = n;
    } else {
        json_incref(obj);
        if (res->flags & PD_K8S_KEEP_STATUS)
            json_object_set(obj, "status", json_object_get(old, "status"));
        else if (res->flags & PD_K8S_NO_STATUS)
            json_object_del(obj, "status");
        if (h && h->read)
            h->read(obj, x->now_ms);
        if (h && h->update) {
            int rc = h->update(x, obj, old);
            if (rc || x->r->resp.status) {
                json_decref(obj);
                return hook_rc(rc);
            }
        }
    }
    obj = pd_k8s_ordered(obj, res);
    int rc = PD_OK;
    if (!json_equal(obj, old) && !pd_k8s_dry_run(x)) {
        rc = pd_k8s_save(x, res, obj, 1);
        if (rc == PD_OK && h && h->written)
            rc = hook_rc(h->written(x, obj, old));
    }
    if (rc == PD_OK && !x->r->resp.status)
        rc = pd_req_reply_json(x->r, status, json_incref(obj));
    json_decref(obj);
    return rc;
}

static int update_obj(struct pd_k8s_ctx *x)
{
    const char *ns = x->p.ns;
    json_t *old = pd_k8s_load(x, x->res, ns, x->p.name);
    if (!old)
        return hook_rc(pd_k8s_not_found(x, x->res, x->p.name));
    json_t *obj = pd_k8s_body(x, 0);
    int rc = PD_OK;
    if (!obj)
        goto out;
    if (!json_is_object(obj)) {
        rc = hook_rc(pd_k8s_bad_request(x, "the body must be an object"));
        goto out;
    }
    if (pd_k8s_check_kind(x, obj, x->res->kind, x->res->api_version))
        goto out;
    const char *bname = pd_k8s_mstr(obj, "name");
    if (!bname || strcmp(bname, x->p.name) != 0) {
        rc = hook_rc(pd_k8s_bad_request(
            x, pd_arena_printf(&x->r->arena,
                               "the name of the object (%s) does not match the name on the URL "
                               "(%s)",
                               bname ? bname : "", x->p.name)));
        goto out;
    }
    const char *want_rv = pd_k8s_mstr(obj, "resourceVersion");
    if (want_rv && *want_rv && strcmp(want_rv, pd_k8s_mstr(old, "resourceVersion")) != 0) {
        pd_k8s_fail(x->r, 409, "Conflict", pd_k8s_details(x->p.name, x->res->group, x->res->name),
                    "Operation cannot be fulfilled on %s %s: the object has been modified; "
                    "please apply your changes to the latest version and try again",
                    x->res->qualified, pd_k8s_goquote(&x->r->arena, x->p.name));
        goto out;
    }
    rc = pd_k8s_write_changed(x, old, obj, 200);
out:
    json_decref(obj);
    json_decref(old);
    return rc;
}

static int patch_obj(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    const char *ns = x->p.ns;
    const char *ct = pd_req_header(r, "content-type");
    char type[64] = "";
    if (ct)
        snprintf(type, sizeof type, "%.*s", (int)strcspn(ct, "; "), ct);
    pd_lower(type);
    int merge = strcmp(type, "application/merge-patch+json") == 0;
    int smp = strcmp(type, "application/strategic-merge-patch+json") == 0;
    int jsonp = strcmp(type, "application/json-patch+json") == 0;
    int apply = strcmp(type, "application/apply-patch+yaml") == 0 ||
                strcmp(type, "application/apply-patch+json") == 0;
    if (!merge && !smp && !jsonp && !apply)
        return pd_k8s_fail(r, 415, "UnsupportedMediaType", NULL,
                           "the body of the request was in an unknown format - accepted media "
                           "types include: application/json-patch+json, "
                           "application/merge-patch+json, application/apply-patch+yaml, "
                           "application/strategic-merge-patch+json");
    json_t *patch = pd_k8s_body(x, 1);
    if (!patch)
        return PD_OK;
    json_t *old = pd_k8s_load(x, x->res, ns, x->p.name);
    int rc = PD_OK;
    if (!old) {
        if (apply) {
            if (!json_is_object(patch)) {
                rc = hook_rc(pd_k8s_bad_request(x, "an apply patch must be an object"));
            } else {
                json_t *md = pd_k8s_meta(patch);
                if (!json_object_get(md, "name"))
                    json_object_set_new(md, "name", json_string(x->p.name));
                rc = pd_k8s_create(x, json_incref(patch), ns);
            }
        } else {
            rc = hook_rc(pd_k8s_not_found(x, x->res, x->p.name));
        }
        goto out;
    }
    json_t *doc = json_deep_copy(old);
    const char *why = NULL;
    if (merge) {
        doc = json_is_object(patch) ? pd_k8s_merge_patch(doc, patch) : NULL;
        if (!doc)
            why = "a merge patch must be a JSON object";
    } else if (jsonp) {
        if (pd_k8s_json_patch(&doc, patch, &why))
            why = why ? why : "the JSON patch cannot be applied";
    } else {
        if (apply && json_is_object(patch)) {
            const char *pn = pd_k8s_mstr(patch, "name");
            if (pn && strcmp(pn, x->p.name) != 0)
                why = "the name of the object does not match the name on the URL";
        }
        if (!why && pd_k8s_strategic_patch(&doc, patch, &why))
            why = why ? why : "the strategic merge patch cannot be applied";
    }
    if (why || !json_is_object(doc)) {
        pd_k8s_fail(r, jsonp || apply ? 422 : 400, jsonp || apply ? "Invalid" : "BadRequest", NULL,
                    "%s", why ? why : "the patched object is not an object");
        json_decref(doc);
        goto out;
    }
    rc = pd_k8s_write_changed(x, old, doc, 200);
    json_decref(doc);
out:
    json_decref(old);
    json_decref(patch);
    return rc;
}

/* The DELETE's propagation policy: the query's, else the DeleteOptions body's
 * (propagationPolicy, or the old orphanDependents); NULL when none is given. */
static const char *propagation(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    const char *q = qget(x, "propagationPolicy");
    if (q && *q)
        return q;
    const char *od = qget(x, "orphanDependents");
    if (od && strcmp(od, "true") == 0)
        return "Orphan";
    if (!r->body.len || r->body.len > 64 * 1024)
        return NULL;
    json_t *o = json_loadb(r->body.p, r->body.len, 0, NULL);
    const char *v = json_string_value(json_object_get(o, "propagationPolicy"));
    const char *out = v ? pd_arena_strdup(&r->arena, v)
                      : json_is_true(json_object_get(o, "orphanDependents")) ? "Orphan"
                                                                             : NULL;
    json_decref(o);
    return out;
}

/* Orphan: the dependents of old in its namespace lose their ownerReferences to it, so the
 * garbage collector leaves them. */
static int orphan_dependents(struct pd_k8s_ctx *x, const json_t *old)
{
    static const char *const kinds[][2] = {{"", "pods"},      {"apps", "replicasets"},
                                           {"batch", "jobs"}, {"", "configmaps"},
                                           {"", "secrets"},   {"", "services"}};
    const char *uid = pd_k8s_mstr(old, "uid");
    const char *ns = pd_k8s_mstr(old, "namespace");
    int rc = PD_OK;
    for (size_t k = 0; rc == PD_OK && uid && k < sizeof kinds / sizeof *kinds; k++) {
        const struct pd_k8s_res *res = pd_k8s_res_lookup(kinds[k][0], "v1", kinds[k][1]);
        json_t *all = pd_k8s_load_all(x, res, ns && *ns ? ns : NULL);
        size_t i;
        json_t *o;
        json_array_foreach(all, i, o)
        {
            json_t *refs = json_object_get(json_object_get(o, "metadata"), "ownerReferences");
            json_t *keep = json_array();
            size_t j;
            json_t *ref;
            json_array_foreach(refs, j, ref)
            {
                const char *u = json_string_value(json_object_get(ref, "uid"));
                if (!u || strcmp(u, uid) != 0)
                    json_array_append(keep, ref);
            }
            if (json_array_size(keep) != json_array_size(refs)) {
                json_t *upd = json_deep_copy(o);
                if (json_array_size(keep))
                    json_object_set(pd_k8s_meta(upd), "ownerReferences", keep);
                else
                    json_object_del(pd_k8s_meta(upd), "ownerReferences");
                rc = pd_k8s_save(x, res, upd, 1);
                json_decref(upd);
            }
            json_decref(keep);
            if (rc)
                break;
        }
        json_decref(all);
    }
    return rc;
}

static int delete_obj(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *res = x->res;
    const struct pd_k8s_hooks *h = res->hooks;
    const char *ns = PD_K8S_NAMESPACED_RES(res) ? x->p.ns : "";
    json_t *old = pd_k8s_load(x, res, ns, x->p.name);
    if (!old)
        return hook_rc(pd_k8s_not_found(x, res, x->p.name));
    int rc = PD_OK;
    if (h && h->remove) {
        rc = hook_rc(h->remove(x, old));
        if (rc || x->r->resp.status)
            goto out;
    }
    /* propagation: Background (and Foreground: podiam deletes at once, dependents follow by
     * garbage collection) or Orphan; batch/v1 Jobs orphan by default, with kube's warning */
    const char *prop = propagation(x);
    int job = strcmp(res->qualified, "jobs.batch") == 0;
    if (prop && strcmp(prop, "Orphan") != 0 && strcmp(prop, "Background") != 0 &&
        strcmp(prop, "Foreground") != 0) {
        rc = hook_rc(pd_k8s_bad_request(
            x, pd_arena_printf(&x->r->arena,
                               "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: "
                               "Unsupported value: \"%s\": supported values: \"Foreground\", "
                               "\"Background\", \"Orphan\"",
                               prop)));
        goto out;
    }
    int orphan = (prop && strcmp(prop, "Orphan") == 0) || (!prop && job);
    if (!prop && job)
        pd_req_set_header(x->r, "Warning",
                          "299 - \"child pods are preserved by default when jobs are deleted; "
                          "set propagationPolicy=Background to remove them or set "
                          "propagationPolicy=Orphan to suppress this warning\"");
    if (!pd_k8s_dry_run(x)) {
        if (orphan)
            rc = orphan_dependents(x, old);
        if (rc == PD_OK)
            rc = pd_k8s_remove(x, res, old);
        if (rc == PD_OK && h && h->written)
            rc = hook_rc(h->written(x, NULL, old));
    }
    if (rc == PD_OK && !x->r->resp.status)
        rc = pd_req_reply_json(x->r, 200, json_incref(old));
out:
    json_decref(old);
    return rc;
}

/* ?watch=: a boolean as Go parses it, or any other value but "false"/"0" (RequestInfo) */
static int watch_param(struct pd_k8s_ctx *x)
{
    const char *w = qget(x, "watch");
    if (!w)
        return 0;
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
    for (const char *const *n = no; *n; n++)
        if (strcmp(w, *n) == 0)
            return 0;
    return 1;
}

static int get_obj(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *res = x->res;
    if (watch_param(x))
        return hook_rc(pd_k8s_serve_watch(x));
    json_t *o = pd_k8s_load(x, res, x->p.ns, x->p.name);
    if (!o)
        return hook_rc(pd_k8s_not_found(x, res, x->p.name));
    if (res->hooks && res->hooks->read)
        res->hooks->read(o, x->now_ms);
    if (pd_k8s_wants_table(x)) {
        json_t *items = json_pack("[o]", o);
        json_t *t = pd_k8s_table(res, items, pd_k8s_mstr(o, "resourceVersion"), NULL, x->now_ms);
        json_decref(items);
        return pd_req_reply_json(x->r, 200, t);
    }
    return pd_req_reply_json(x->r, 200, o);
}

int pd_k8s_parse_selectors(struct pd_k8s_ctx *x, const char *lsel, const char *fsel,
                           struct pd_k8s_sel **OUT_ls, size_t *OUT_nls, struct pd_k8s_sel **OUT_fs,
                           size_t *OUT_nfs)
{
    struct pd_req *r = x->r;
    *OUT_ls = *OUT_fs = NULL;
    *OUT_nls = *OUT_nfs = 0;
    if (lsel && pd_k8s_sel_parse(&r->arena, lsel, OUT_ls, OUT_nls))
        return pd_k8s_bad_request(
            x, pd_arena_printf(&r->arena, "unable to parse requirement: invalid label selector: %s",
                               lsel));
    if (fsel && pd_k8s_sel_parse(&r->arena, fsel, OUT_fs, OUT_nfs))
        return pd_k8s_bad_request(x,
                                  pd_arena_printf(&r->arena, "invalid field selector: %s", fsel));
    json_t *empty = json_object();
    for (size_t i = 0; i < *OUT_nfs; i++) {
        const struct pd_k8s_sel *f = &(*OUT_fs)[i];
        int sup;
        if (f->op > 1) {
            json_decref(empty);
            return pd_k8s_bad_request(
                x, pd_arena_printf(&r->arena, "invalid selector: '%s'; can't understand '%s'", fsel,
                                   f->key));
        }
        pd_k8s_field_value(x->res, empty, f->key, &sup);
        if (!sup) {
            json_decref(empty);
            return pd_k8s_bad_request(
                x, pd_arena_printf(&r->arena, "field label not supported: %s", f->key));
        }
    }
    json_decref(empty);
    return PD_OK;
}

/* The stored objects of res in ns (NULL: all; "" for cluster-scoped) passing the selectors,
 * from the offset-th match on, at most limit (0: all), as served (read hook); *OUT_next is
 * the continue token when more remain. */
static int select_objs(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns,
                       const struct pd_k8s_sel *ls, size_t nls, const struct pd_k8s_sel *fs,
                       size_t nfs, int64_t offset, int64_t limit, json_t **OUT,
                       const char **OUT_next)
{
    struct pd_req *r = x->r;
    struct pd_k8s_db_obj *rows;
    size_t n;
    *OUT = NULL;
    if (OUT_next)
        *OUT_next = NULL;
    int rc = pd_k8s_db_list(r->db, &r->arena, x->c.id, res->qualified,
                            PD_K8S_NAMESPACED_RES(res) ? ns : "", &rows, &n);
    if (rc)
        return rc;
    json_t *items = json_array();
    int64_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = parse_obj(rows[i].body);
        if (!pd_k8s_match(res, o, ls, nls, fs, nfs) || seen++ < offset) {
            json_decref(o);
            continue;
        }
        if (limit > 0 && (int64_t)json_array_size(items) == limit) {
            if (OUT_next)
                *OUT_next = rv_str(x, offset + limit);
            json_decref(o);
            break;
        }
        if (res->hooks && res->hooks->read)
            res->hooks->read(o, x->now_ms);
        json_array_append_new(items, o);
    }
    *OUT = items;
    return PD_OK;
}

int pd_k8s_collect(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns,
                   const struct pd_k8s_sel *ls, size_t nls, const struct pd_k8s_sel *fs, size_t nfs,
                   json_t **OUT)
{
    return select_objs(x, res, ns, ls, nls, fs, nfs, 0, 0, OUT, NULL);
}

static int list_objs(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    const struct pd_k8s_res *res = x->res;
    if (watch_param(x))
        return hook_rc(pd_k8s_serve_watch(x));
    const char *ns = PD_K8S_NAMESPACED_RES(res) && x->p.ns[0] ? x->p.ns : NULL;
    struct pd_k8s_sel *ls, *fs;
    size_t nls, nfs;
    if (pd_k8s_parse_selectors(x, qget(x, "labelSelector"), qget(x, "fieldSelector"), &ls, &nls,
                               &fs, &nfs))
        return PD_OK;
    int64_t limit = 0, offset = 0;
    const char *lim = qget(x, "limit"), *cont = qget(x, "continue");
    if (lim && pd_parse_i64(lim, 0, INT64_MAX, &limit))
        limit = 0;
    if (cont && *cont && pd_parse_i64(cont, 0, INT64_MAX, &offset))
        return pd_k8s_fail(r, 410, "Expired", NULL,
                           "The provided continue parameter is too old to display a consistent "
                           "list result. You can start a new list without the continue parameter.");
    json_t *items;
    const char *next;
    int rc = select_objs(x, res, ns, ls, nls, fs, nfs, offset, limit, &items, &next);
    if (rc)
        return rc;
    int64_t rv = 0;
    pd_k8s_db_rv(r->db, x->c.id, &rv);
    if (pd_k8s_wants_table(x)) {
        json_t *t = pd_k8s_table(res, items, rv_str(x, rv), next, x->now_ms);
        json_decref(items);
        return pd_req_reply_json(r, 200, t);
    }
    json_t *md = json_pack("{s:s}", "resourceVersion", rv_str(x, rv));
    if (next)
        json_object_set_new(md, "continue", json_string(next));
    return pd_req_reply_json(r, 200,
                             json_pack("{s:s+, s:s, s:o, s:o}", "kind", res->kind, "List",
                                       "apiVersion", res->api_version, "metadata", md, "items",
                                       items));
}

/* deletecollection: every object of the list (selectors apply) deleted as one DELETE would;
 * the answer is the list of what was deleted. */
static int delete_collection(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *res = x->res;
    const struct pd_k8s_hooks *h = res->hooks;
    const char *ns = PD_K8S_NAMESPACED_RES(res) && x->p.ns[0] ? x->p.ns : NULL;
    struct pd_k8s_sel *ls, *fs;
    size_t nls, nfs;
    if (pd_k8s_parse_selectors(x, qget(x, "labelSelector"), qget(x, "fieldSelector"), &ls, &nls,
                               &fs, &nfs))
        return PD_OK;
    json_t *items;
    int rc = pd_k8s_collect(x, res, ns, ls, nls, fs, nfs, &items);
    if (rc)
        return rc;
    size_t i;
    json_t *old;
    json_array_foreach(items, i, old)
    {
        if (h && h->remove) {
            rc = hook_rc(h->remove(x, old));
            if (rc || x->r->resp.status)
                goto out;
        }
        if (pd_k8s_dry_run(x))
            continue;
        rc = pd_k8s_remove(x, res, old);
        if (rc == PD_OK && h && h->written)
            rc = hook_rc(h->written(x, NULL, old));
        if (rc || x->r->resp.status)
            goto out;
    }
    int64_t rv = 0;
    pd_k8s_db_rv(x->r->db, x->c.id, &rv);
    rc = pd_req_reply_json(x->r, 200,
                           json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind",
                                     pd_arena_printf(&x->r->arena, "%sList", res->kind),
                                     "apiVersion", res->api_version, "metadata", "resourceVersion",
                                     rv_str(x, rv), "items", items));
out:
    json_decref(items);
    return rc;
}

int pd_k8s_serve_object(struct pd_k8s_ctx *x)
{
    const char *m = x->r->method;
    int coll = x->p.target == PD_K8S_T_COLLECTION;
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    int post = strcmp(m, "POST") == 0;
    if (x->res->flags & PD_K8S_VIRTUAL) {
        if (!coll || !post)
            return hook_rc(method_not_allowed(x->r));
        json_t *body = pd_k8s_body(x, 0);
        return body ? hook_rc(x->res->hooks->post(x, body)) : PD_OK;
    }
    if (coll) {
        if (post) {
            json_t *obj = pd_k8s_body(x, 0);
            return obj ? pd_k8s_create(x, obj, x->p.ns) : PD_OK;
        }
        if (get)
            return list_objs(x);
        if (strcmp(m, "DELETE") == 0 && !(x->res->flags & PD_K8S_NO_DELCOL))
            return delete_collection(x);
        return hook_rc(method_not_allowed(x->r));
    }
    if (get)
        return get_obj(x);
    if (strcmp(m, "PUT") == 0)
        return update_obj(x);
    if (strcmp(m, "PATCH") == 0)
        return patch_obj(x);
    if (strcmp(m, "DELETE") == 0)
        return delete_obj(x);
    return hook_rc(method_not_allowed(x->r));
}

/* The autoscaling/v1 Scale of obj (new reference). */
static json_t *scale_of(const json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    json_t *smd = json_object();
    static const char *const keep[] = {
        "name", "namespace", "uid", "resourceVersion", "creationTimestamp", NULL};
    for (const char *const *k = keep; *k; k++)
        if (json_object_get(md, *k))
            json_object_set(smd, *k, json_object_get(md, *k));
    json_t *spec = json_object_get(obj, "spec");
    json_t *st = json_object_get(obj, "status");
    json_int_t want = json_integer_value(json_object_get(spec, "replicas"));
    json_int_t have = json_integer_value(json_object_get(st, "replicas"));
    /* status.selector: the label selector's matchLabels as a selector string */
    struct pd_buf sel;
    pd_buf_init(&sel, 0);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(spec, "selector"), "matchLabels"), k, v)
    {
        pd_buf_printf(&sel, "%s%s=%s", sel.len ? "," : "", k,
                      json_is_string(v) ? json_string_value(v) : "");
    }
    json_t *out =
        json_pack("{s:s, s:s, s:o, s:{s:I}, s:{s:I, s:s#}}", "kind", "Scale", "apiVersion",
                  "autoscaling/v1", "metadata", smd, "spec", "replicas", want, "status", "replicas",
                  have, "selector", sel.len ? sel.p : "", sel.len);
    pd_buf_free(&sel);
    return out;
}

/* GET, PUT or PATCH of <kind>/<name>/scale. */
static int serve_scale(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    const char *m = r->method;
    json_t *old = pd_k8s_load(x, x->res, x->p.ns, x->p.name);
    if (!old)
        return hook_rc(pd_k8s_not_found(x, x->res, x->p.name));
    int rc = PD_OK;
    json_t *cur = scale_of(old), *want = NULL, *patch = NULL;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        rc = pd_req_reply_json(r, 200, json_incref(cur));
        goto out;
    }
    int put = strcmp(m, "PUT") == 0;
    if (!put && strcmp(m, "PATCH") != 0) {
        rc = hook_rc(method_not_allowed(r));
        goto out;
    }
    patch = pd_k8s_body(x, !put);
    if (!patch)
        goto out;
    const char *why = NULL;
    if (put) {
        want = json_incref(patch);
    } else {
        const char *ct = pd_req_header(r, "content-type");
        want = json_deep_copy(cur);
        if (ct && pd_has_prefix(ct, "application/json-patch+json")) {
            if (pd_k8s_json_patch(&want, patch, &why))
                why = why ? why : "the JSON patch cannot be applied";
        } else if (json_is_object(patch)) {
            want = pd_k8s_merge_patch(want, patch);
        } else {
            why = "a patch of a Scale must be a JSON object";
        }
    }
    json_t *rep = json_object_get(json_object_get(want, "spec"), "replicas");
    if (!why &&
        (!json_is_integer(rep) || json_integer_value(rep) < 0 || json_integer_value(rep) > 100000))
        why = "spec.replicas: Invalid value: must be an integer between 0 and 100000";
    if (why) {
        json_t *d = pd_k8s_details(x->p.name, "autoscaling", "Scale");
        rc = hook_rc(pd_k8s_fail(r, 422, "Invalid", d, "Scale.autoscaling \"%s\" is invalid: %s",
                                 x->p.name, why));
        goto out;
    }
    json_t *obj = json_deep_copy(old);
    json_object_set(json_object_get(obj, "spec"), "replicas", rep);
    rc = pd_k8s_write_changed(x, old, obj, 200);
    json_decref(obj);
    if (rc == PD_OK && r->resp.status == 200) {
        /* answer the Scale of what was stored */
        json_t *now = pd_k8s_load(x, x->res, x->p.ns, x->p.name);
        pd_buf_reset(&r->resp.body);
        r->resp.status = 0;
        rc = pd_req_reply_json(r, 200, now ? scale_of(now) : json_incref(cur));
        json_decref(now);
    }
out:
    json_decref(cur);
    json_decref(want);
    json_decref(patch);
    json_decref(old);
    return rc;
}

/* GET pods/<name>/log: the container is checked as kube-apiserver checks it; a pod on the
 * virtual node ran nothing, so its log is empty. */
static int serve_log(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        return hook_rc(method_not_allowed(r));
    json_t *pod = pd_k8s_load(x, x->res, x->p.ns, x->p.name);
    if (!pod)
        return hook_rc(pd_k8s_not_found(x, x->res, x->p.name));
    const char *want = qget(x, "container");
    json_t *cs = json_object_get(json_object_get(pod, "spec"), "containers");
    int rc = PD_OK;
    const char *found = NULL;
    struct pd_buf names;
    pd_buf_init(&names, 0);
    size_t i;
    json_t *c;
    json_array_foreach(cs, i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        pd_buf_printf(&names, "%s%s", i ? " " : "", n ? n : "");
        if (n && want && strcmp(n, want) == 0)
            found = n;
    }
    if (!want && json_array_size(cs) == 1)
        found = json_string_value(json_object_get(json_array_get(cs, 0), "name"));
    if (!want && !found)
        rc = hook_rc(pd_k8s_bad_request(
            x, pd_arena_printf(&r->arena,
                               "a container name must be specified for pod %s, choose one of: "
                               "[%.*s]",
                               x->p.name, (int)names.len, names.p ? names.p : "")));
    else if (!found)
        rc = hook_rc(
            pd_k8s_bad_request(x, pd_arena_printf(&r->arena, "container %s is not valid for pod %s",
                                                  want, x->p.name)));
    pd_buf_free(&names);
    json_decref(pod);
    if (rc || r->resp.status)
        return rc;
    r->resp.status = 200;
    r->resp.content_type = "text/plain";
    return PD_OK;
}

int pd_k8s_serve_subresource(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_sub *sub = x->p.sub;
    const char *m = x->r->method;
    if (sub->post) {
        if (strcmp(m, "POST") != 0)
            return hook_rc(method_not_allowed(x->r));
        json_t *body = pd_k8s_body(x, 0);
        return body ? hook_rc(sub->post(x, body)) : PD_OK;
    }
    if (strcmp(sub->name, "scale") == 0)
        return serve_scale(x);
    if (strcmp(sub->name, "log") == 0)
        return serve_log(x);
    /* status */
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        json_t *o = pd_k8s_load(x, x->res, x->p.ns, x->p.name);
        if (!o)
            return hook_rc(pd_k8s_not_found(x, x->res, x->p.name));
        return pd_req_reply_json(x->r, 200, o);
    }
    x->status_write = 1;
    int rc;
    if (strcmp(m, "PUT") == 0)
        rc = update_obj(x);
    else if (strcmp(m, "PATCH") == 0)
        rc = patch_obj(x);
    else
        rc = hook_rc(method_not_allowed(x->r));
    x->status_write = 0;
    return rc;
}
