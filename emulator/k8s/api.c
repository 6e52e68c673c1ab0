/*
 * api.c - the per-cluster Kubernetes API: a raw service answering under
 * /_podiam/k8s/<CLUSTER ID>/ (the endpoint DescribeCluster gives) on both listeners.
 *
 * Serves what kubectl 1.20-1.32 and client libraries need for service accounts and pods
 * (docs/kubernetes.md): /version, legacy discovery, OpenAPI (v2 empty, v3 404: what kubectl
 * needs), namespaces, serviceaccounts, pods and configmaps (get, list, create, update, patch,
 * delete), TokenRequest, SelfSubjectAccessReview and SelfSubjectReview. Objects live in the store
 * (store/k8s_db.h) as JSON; pods run nowhere and report Running at once. Pod admission
 * applies the EKS pod identity webhook (k8s/webhook.h). Errors are Kubernetes Status
 * objects. Every request runs in one write transaction, committed when it succeeds.
 * Owns routing, request bodies, object lifecycle; request.c parses paths and selectors,
 * authn.c decides who and whether, render.c shapes documents, patch.c applies
 * patches.
 */
#include "k8s/k8s.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "auth/secrets.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"
#include "env.h"
#include "req.h"
#include "services/eks.h"
#include "k8s/internal.h"
#include "k8s/patch.h"
#include "k8s/webhook.h"
#include "services/oidc.h"
#include "services/service.h"
#include "store/k8s_db.h"
#include "store/store.h"

#define TOKEN_DEFAULT_TTL 3600
#define TOKEN_MIN_TTL 600
#define TOKEN_MAX_TTL 86400 /* podiam's --service-account-max-token-expiration */

static const char *const builtin_ns[] = {"default", "kube-system", "kube-public", "kube-node-lease",
                                         NULL};

/* ---- the request's context ---- */

struct ctx {
    struct pd_req *r;
    struct pd_k8s_path p;
    struct pd_eks_cluster c;
    struct pd_k8s_user u;
    const struct pd_k8s_res *res;
    struct pd_kvs q; /* query parameters */
    int64_t now_ms;
};

/* A failure Status. details: stolen, may be NULL. */
static int status_fail(struct pd_req *r, int code, const char *reason, json_t *details,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int status_fail(struct pd_req *r, int code, const char *reason, json_t *details,
                       const char *fmt, ...)
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

static json_t *details(const char *name, const char *kind)
{
    json_t *d = json_object();
    if (name && *name)
        json_object_set_new(d, "name", json_string(name));
    if (kind)
        json_object_set_new(d, "kind", json_string(kind));
    return d;
}

static int not_found(struct pd_req *r, const char *plural, const char *name)
{
    return status_fail(r, 404, "NotFound", details(name, plural), "%s \"%s\" not found", plural,
                       name);
}

static int no_route(struct pd_req *r)
{
    return status_fail(r, 404, "NotFound", json_object(),
                       "the server could not find the requested resource");
}

static int bad_request(struct pd_req *r, const char *msg)
{
    return status_fail(r, 400, "BadRequest", NULL, "%s", msg);
}

static const char *qget(struct ctx *x, const char *name)
{
    return pd_kvs_get(&x->q, name, 0);
}

static int dry_run(struct ctx *x)
{
    const char *d = qget(x, "dryRun");
    return d && strcmp(d, "All") == 0;
}

static const char *iso(struct ctx *x, int64_t ms)
{
    char *out = pd_arena_alloc(&x->r->arena, 32);
    pd_time_iso8601(ms, 0, out);
    return out;
}

static const char *uuid(struct ctx *x)
{
    char *out = pd_arena_alloc(&x->r->arena, 37);
    pd_ids_uuid(&x->r->env->ids, out);
    return out;
}

/* A random suffix from kube's alphabet (generateName, kube-api-access-xxxxx). */
static const char *suffix(struct ctx *x, size_t n)
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

static const char *rv_str(struct ctx *x, int64_t rv)
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

/* NULL when name is valid for res, else the problem. */
static const char *name_problem(const struct pd_k8s_res *res, const char *name)
{
    size_t n = strlen(name);
    if (!res->namespaced) {
        if (n > 63)
            return "must be no more than 63 characters";
        return label_ok(name, n) ? NULL : LABEL_MSG;
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

static int invalid(struct pd_req *r, const struct pd_k8s_res *res, const char *name,
                   const char *field, const char *value_msg)
{
    json_t *d = details(name, res->kind);
    if (!json_object_get(d, "name"))
        json_object_set_new(d, "name", json_string(name ? name : ""));
    json_object_set_new(d, "causes",
                        json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
                                  value_msg, "field", field));
    return status_fail(r, 422, "Invalid", d, "%s \"%s\" is invalid: %s: %s", res->kind,
                       name ? name : "", field, value_msg);
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

/* The stored object (new reference) or NULL when absent. */
static json_t *load(struct ctx *x, const char *resource, const char *ns, const char *name)
{
    struct pd_k8s_db_obj o;
    if (pd_k8s_db_get(x->r->db, &x->r->arena, x->c.id, resource, ns, name, &o))
        return NULL;
    return parse_obj(o.body);
}

static json_t *meta_of(json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    return md;
}

static const char *mstr(json_t *obj, const char *k)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), k));
}

/* Rebuild obj with kind, apiVersion and metadata first, as the API server writes them. */
static json_t *ordered(json_t *obj, const struct pd_k8s_res *res)
{
    json_t *o = json_pack("{s:s, s:s, s:O}", "kind", res->kind, "apiVersion", "v1", "metadata",
                          meta_of(obj));
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

/* Store obj (already carrying its metadata) with a fresh resourceVersion. */
static int save(struct ctx *x, const struct pd_k8s_res *res, json_t *obj, int replace)
{
    int64_t rv;
    int rc = pd_k8s_db_rv_next(x->r->db, x->c.id, &rv);
    if (rc)
        return rc;
    json_t *md = meta_of(obj);
    json_object_set_new(md, "resourceVersion", json_string(rv_str(x, rv)));
    int64_t created = x->now_ms;
    const char *ts = json_string_value(json_object_get(md, "creationTimestamp"));
    if (ts)
        pd_time_parse_iso8601(ts, &created);
    char *body = json_dumps(obj, JSON_COMPACT);
    struct pd_k8s_db_obj row = {
        .resource = res->name,
        .ns = res->namespaced ? mstr(obj, "namespace") : "",
        .name = mstr(obj, "name"),
        .uid = mstr(obj, "uid"),
        .rv = rv,
        .created_ms = created,
        .body = body,
    };
    rc = pd_k8s_db_put(x->r->db, x->c.id, &row, replace);
    free(body);
    return rc;
}

/* Fresh metadata for a new object: uid, creationTimestamp, namespace. */
static void stamp_new(struct ctx *x, json_t *obj, const struct pd_k8s_res *res, const char *ns)
{
    json_t *md = meta_of(obj);
    if (res->namespaced)
        json_object_set_new(md, "namespace", json_string(ns));
    else
        json_object_del(md, "namespace");
    json_object_set_new(md, "uid", json_string(uuid(x)));
    json_object_del(md, "resourceVersion");
    json_object_set_new(md, "creationTimestamp", json_string(iso(x, x->now_ms)));
    json_object_del(md, "deletionTimestamp");
    json_object_del(md, "selfLink");
    json_object_del(md, "generation");
    json_object_del(md, "managedFields");
}

static int put_simple(struct ctx *x, const char *resource, const char *ns, json_t *obj)
{
    const struct pd_k8s_res *res = pd_k8s_res_find(resource);
    stamp_new(x, obj, res, ns);
    obj = ordered(obj, res);
    int rc = save(x, res, obj, 0);
    json_decref(obj);
    return rc;
}

/* What a new namespace gets: its "default" service account and kube-root-ca.crt. */
static int namespace_content(struct ctx *x, const char *ns)
{
    int rc =
        put_simple(x, "serviceaccounts", ns, json_pack("{s:{s:s}}", "metadata", "name", "default"));
    if (rc == PD_OK) {
        const char *ca = x->r->env->secrets ? x->r->env->secrets->ca_cert_pem : "";
        rc = put_simple(x, "configmaps", ns,
                        json_pack("{s:{s:s, s:{s:s}}, s:{s:s}}", "metadata", "name",
                                  "kube-root-ca.crt", "annotations", "kubernetes.io/description",
                                  "Contains a CA bundle that can be used to verify the "
                                  "kube-apiserver when using internal endpoints such as the "
                                  "internal service IP or kubernetes.default.svc. No other usage "
                                  "is guaranteed across distributions of Kubernetes clusters.",
                                  "data", "ca.crt", ca ? ca : ""));
    }
    return rc == PD_ECONFLICT ? PD_OK : rc;
}

static json_t *new_namespace(const char *name)
{
    return json_pack("{s:{s:s, s:{s:s}}, s:{s:[s]}, s:{s:s}}", "metadata", "name", name, "labels",
                     "kubernetes.io/metadata.name", name, "spec", "finalizers", "kubernetes",
                     "status", "phase", "Active");
}

static int start_cluster(struct ctx *x)
{
    int64_t rv;
    int rc = pd_k8s_db_rv(x->r->db, x->c.id, &rv);
    if (rc != PD_ENOTFOUND)
        return rc;
    rc = pd_k8s_db_cluster_init(x->r->db, x->c.id, 1);
    for (const char *const *n = builtin_ns; rc == PD_OK && *n; n++) {
        rc = put_simple(x, "namespaces", "", new_namespace(*n));
        if (rc == PD_OK)
            rc = namespace_content(x, *n);
    }
    return rc;
}

/* ---- handlers ---- */

static int want_table(struct ctx *x)
{
    const char *acc = pd_req_header(x->r, "accept");
    return acc && strstr(acc, "as=Table") != NULL;
}

static int forbidden(struct ctx *x, const char *verb, const char *resource, const char *ns,
                     const char *name)
{
    const char *scope = ns && *ns ? pd_arena_printf(&x->r->arena, " in the namespace \"%s\"", ns)
                                  : " at the cluster scope";
    const char *plural = resource;
    const char *slash = strchr(resource, '/');
    if (slash)
        plural = pd_arena_strndup(&x->r->arena, resource, (size_t)(slash - resource));
    const char *who =
        name && *name ? pd_arena_printf(&x->r->arena, "%s \"%s\"", plural, name) : plural;
    const char *group =
        strncmp(resource, "selfsubject", 11) == 0
            ? (strstr(resource, "access") ? "authorization.k8s.io" : "authentication.k8s.io")
            : "";
    return status_fail(x->r, 403, "Forbidden", details(name, plural),
                       "%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group "
                       "\"%s\"%s",
                       who, x->u.username, verb, resource, group, scope);
}

/* The request body as JSON (new reference) or NULL with the error answered. */
static json_t *body_of(struct ctx *x, int patch)
{
    struct pd_req *r = x->r;
    if (r->body.len > PD_K8S_MAX_BODY) {
        status_fail(r, 413, "RequestEntityTooLarge", NULL, "Request entity too large: limit is %d",
                    PD_K8S_MAX_BODY);
        return NULL;
    }
    const char *ct = pd_req_header(r, "content-type");
    if (ct && pd_strncaseeq(ct, "application/vnd.kubernetes.protobuf", 35) && !patch) {
        if (r->in)
            return json_incref(r->in);
        bad_request(r,
                    r->decode_error ? r->decode_error : "the protobuf body could not be decoded");
        return NULL;
    }
    if (!patch && ct && !pd_strncaseeq(ct, "application/json", 16) &&
        !pd_strncaseeq(ct, "*/*", 3)) {
        status_fail(r, 415, "UnsupportedMediaType", NULL,
                    "the body of the request was in an unknown format - accepted media types "
                    "include: application/json, application/yaml, "
                    "application/vnd.kubernetes.protobuf");
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, &je);
    if (!v) {
        bad_request(r, pd_arena_printf(&r->arena, "error decoding the request body: %s", je.text));
        return NULL;
    }
    return v;
}

/* kube-api-access-xxxxx: what the ServiceAccount admission plugin mounts in every pod. */
static void mount_api_access(struct ctx *x, json_t *pod, json_t *sa)
{
    json_t *spec = json_object_get(pod, "spec");
    json_t *am = json_object_get(spec, "automountServiceAccountToken");
    if (!am)
        am = json_object_get(sa, "automountServiceAccountToken");
    if (json_is_false(am))
        return;
    const char *vname = pd_arena_printf(&x->r->arena, "kube-api-access-%s", suffix(x, 5));
    json_t *vol = json_pack(
        "{s:s, s:{s:[{s:{s:i, s:s}}, {s:{s:s, s:[{s:s, s:s}]}}, {s:{s:[{s:s, s:{s:s, s:s}}]}}], "
        "s:i}}",
        "name", vname, "projected", "sources", "serviceAccountToken", "expirationSeconds", 3607,
        "path", "token", "configMap", "name", "kube-root-ca.crt", "items", "key", "ca.crt", "path",
        "ca.crt", "downwardAPI", "items", "path", "namespace", "fieldRef", "apiVersion", "v1",
        "fieldPath", "metadata.namespace", "defaultMode", 420);
    json_t *vols = json_object_get(spec, "volumes");
    if (!json_is_array(vols)) {
        vols = json_array();
        json_object_set_new(spec, "volumes", vols);
    }
    json_array_append_new(vols, vol);
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            if (!json_is_object(c))
                continue;
            json_t *mounts = json_object_get(c, "volumeMounts");
            if (!json_is_array(mounts)) {
                mounts = json_array();
                json_object_set_new(c, "volumeMounts", mounts);
            }
            json_array_append_new(
                mounts, json_pack("{s:s, s:b, s:s}", "name", vname, "readOnly", 1, "mountPath",
                                  "/var/run/secrets/kubernetes.io/serviceaccount"));
        }
    }
}

/* Pod admission on create: service account, defaults, the identity webhook. The
 * pod is changed in place; returns PD_OK or PD_EAWS with the refusal answered. */
static int admit_pod(struct ctx *x, json_t *pod, const char *ns, const char *name)
{
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec) || !json_array_size(json_object_get(spec, "containers"))) {
        json_t *d = details(name, "Pod");
        json_object_set_new(d, "causes",
                            json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueRequired",
                                      "message", "Required value", "field", "spec.containers"));
        status_fail(x->r, 422, "Invalid", d,
                    "Pod \"%s\" is invalid: spec.containers: Required value", name);
        return PD_EAWS;
    }
    const char *san = json_string_value(json_object_get(spec, "serviceAccountName"));
    if (!san || !*san)
        san = json_string_value(json_object_get(spec, "serviceAccount"));
    if (!san || !*san)
        san = "default";
    san = pd_arena_strdup(&x->r->arena, san);
    json_object_set_new(spec, "serviceAccountName", json_string(san));
    json_object_set_new(spec, "serviceAccount", json_string(san));
    json_t *sa = load(x, "serviceaccounts", ns, san);
    if (!sa) {
        status_fail(x->r, 403, "Forbidden", details(name, "pods"),
                    "pods \"%s\" is forbidden: error looking up service account %s/%s: "
                    "serviceaccount \"%s\" not found",
                    name, ns, san, san);
        return PD_EAWS;
    }
    mount_api_access(x, pod, sa);
    pd_k8s_pod_defaults(pod, x->now_ms, pd_ids_next(&x->r->env->ids));
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(x->c.region);
    pd_k8s_webhook_mutate(pod, sa, &cfg);
    pd_k8s_pod_status(pod, x->now_ms);
    json_decref(sa);
    return PD_OK;
}

static int check_kind(struct ctx *x, json_t *obj, const char *want_kind, const char *want_api)
{
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *api = json_string_value(json_object_get(obj, "apiVersion"));
    if ((kind && *kind && strcmp(kind, want_kind) != 0) ||
        (api && *api && strcmp(api, want_api) != 0)) {
        bad_request(x->r, pd_arena_printf(&x->r->arena,
                                          "the object provided is unrecognized (must be of type "
                                          "%s): %s/%s",
                                          want_kind, api ? api : "", kind ? kind : ""));
        return PD_EAWS;
    }
    return PD_OK;
}

/* Create obj (stolen) in x->res under ns. status: 201. */
static int create_obj(struct ctx *x, json_t *obj, const char *ns)
{
    struct pd_req *r = x->r;
    const struct pd_k8s_res *res = x->res;
    int rc = PD_OK;
    if (!json_is_object(obj) || !json_is_object(json_object_get(obj, "metadata"))) {
        rc = bad_request(r, "the body must be an object with metadata");
        goto out;
    }
    if (check_kind(x, obj, res->kind, "v1")) {
        rc = PD_OK;
        goto out;
    }
    json_t *md = meta_of(obj);
    const char *bns = json_string_value(json_object_get(md, "namespace"));
    if (res->namespaced && bns && *bns && strcmp(bns, ns) != 0) {
        rc = bad_request(r, "the namespace of the provided object does not match the namespace "
                            "sent on the request");
        goto out;
    }
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *gen = json_string_value(json_object_get(md, "generateName"));
    if ((!name || !*name) && gen && *gen) {
        name = pd_arena_printf(&r->arena, "%s%s", gen, suffix(x, 5));
        json_object_set_new(md, "name", json_string(name));
    }
    if (!name || !*name) {
        json_t *d = details("", res->kind);
        json_object_set_new(d, "causes",
                            json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueRequired",
                                      "message", "Required value: name or generateName is required",
                                      "field", "metadata.name"));
        rc = status_fail(r, 422, "Invalid", d,
                         "%s \"\" is invalid: metadata.name: Required value: name or "
                         "generateName is required",
                         res->kind);
        goto out;
    }
    name = pd_arena_strdup(&r->arena, name);
    const char *why = name_problem(res, name);
    if (why) {
        rc = invalid(r, res, name, "metadata.name",
                     pd_arena_printf(&r->arena, "Invalid value: \"%s\": %s", name, why));
        goto out;
    }
    if (res->namespaced) {
        json_t *nso = load(x, "namespaces", "", ns);
        if (!nso) {
            rc = not_found(r, "namespaces", ns);
            goto out;
        }
        json_decref(nso);
    }
    json_t *old = load(x, res->name, res->namespaced ? ns : "", name);
    if (old) {
        json_decref(old);
        rc = status_fail(r, 409, "AlreadyExists", details(name, res->name),
                         "%s \"%s\" already exists", res->name, name);
        goto out;
    }
    stamp_new(x, obj, res, ns);
    if (strcmp(res->name, "namespaces") == 0) {
        json_t *labels = json_object_get(md, "labels");
        if (!json_is_object(labels)) {
            labels = json_object();
            json_object_set_new(md, "labels", labels);
        }
        json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
        json_object_set_new(obj, "spec", json_pack("{s:[s]}", "finalizers", "kubernetes"));
        json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
    } else if (strcmp(res->name, "pods") == 0) {
        if (admit_pod(x, obj, ns, name))
            goto out;
    } else {
        json_object_del(obj, "status");
    }
    obj = ordered(obj, res);
    if (dry_run(x)) {
        rc = pd_req_reply_json(r, 201, json_incref(obj));
        goto out;
    }
    rc = save(x, res, obj, 0);
    if (rc == PD_OK && strcmp(res->name, "namespaces") == 0)
        rc = namespace_content(x, name);
    if (rc)
        goto out;
    rc = pd_req_reply_json(r, 201, json_incref(obj));
out:
    json_decref(obj);
    return rc;
}

/* Finish a changed object: keep identity fields of old, refresh a pod's status, store. */
static int write_changed(struct ctx *x, json_t *old, json_t *obj, int status)
{
    json_t *md = meta_of(obj);
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
    json_object_set_new(obj, "kind", json_string(x->res->kind));
    json_object_set_new(obj, "apiVersion", json_string("v1"));
    if (strcmp(x->res->name, "pods") == 0) {
        /* status is the kubelet's: a write to the pod cannot set it */
        json_object_set(obj, "status", json_object_get(old, "status"));
        pd_k8s_pod_status(obj, x->now_ms);
    } else if (strcmp(x->res->name, "namespaces") == 0) {
        json_object_set(obj, "status", json_object_get(old, "status"));
    }
    obj = ordered(json_incref(obj), x->res);
    int rc = PD_OK;
    if (!json_equal(obj, old) && !dry_run(x))
        rc = save(x, x->res, obj, 1);
    if (rc == PD_OK)
        rc = pd_req_reply_json(x->r, status, json_incref(obj));
    json_decref(obj);
    return rc;
}

static int update_obj(struct ctx *x)
{
    const char *ns = x->res->namespaced ? x->p.ns : "";
    json_t *old = load(x, x->res->name, ns, x->p.name);
    if (!old)
        return not_found(x->r, x->res->name, x->p.name);
    json_t *obj = body_of(x, 0);
    int rc = PD_OK;
    if (!obj)
        goto out;
    if (!json_is_object(obj)) {
        rc = bad_request(x->r, "the body must be an object");
        goto out;
    }
    if (check_kind(x, obj, x->res->kind, "v1"))
        goto out;
    const char *bname = mstr(obj, "name");
    if (!bname || strcmp(bname, x->p.name) != 0) {
        rc = bad_request(x->r, pd_arena_printf(&x->r->arena,
                                               "the name of the object (%s) does not match the "
                                               "name on the URL (%s)",
                                               bname ? bname : "", x->p.name));
        goto out;
    }
    const char *want_rv = mstr(obj, "resourceVersion");
    if (want_rv && *want_rv && strcmp(want_rv, mstr(old, "resourceVersion")) != 0) {
        rc = status_fail(x->r, 409, "Conflict", details(x->p.name, x->res->name),
                         "Operation cannot be fulfilled on %s \"%s\": the object has been "
                         "modified; please apply your changes to the latest version and try "
                         "again",
                         x->res->name, x->p.name);
        goto out;
    }
    rc = write_changed(x, old, obj, 200);
out:
    json_decref(obj);
    json_decref(old);
    return rc;
}

static int patch_obj(struct ctx *x)
{
    struct pd_req *r = x->r;
    const char *ns = x->res->namespaced ? x->p.ns : "";
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
        return status_fail(r, 415, "UnsupportedMediaType", NULL,
                           "the body of the request was in an unknown format - accepted media "
                           "types include: application/json-patch+json, "
                           "application/merge-patch+json, application/apply-patch+yaml, "
                           "application/strategic-merge-patch+json");
    json_t *patch = body_of(x, 1);
    if (!patch)
        return PD_OK;
    json_t *old = load(x, x->res->name, ns, x->p.name);
    int rc = PD_OK;
    if (!old) {
        if (apply) {
            if (!json_is_object(patch)) {
                rc = bad_request(r, "an apply patch must be an object");
            } else {
                json_t *md = meta_of(patch);
                if (!json_object_get(md, "name"))
                    json_object_set_new(md, "name", json_string(x->p.name));
                rc = create_obj(x, json_incref(patch), ns);
            }
        } else {
            rc = not_found(r, x->res->name, x->p.name);
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
            const char *pn = mstr(patch, "name");
            if (pn && strcmp(pn, x->p.name) != 0)
                why = "the name of the object does not match the name on the URL";
        }
        if (!why && pd_k8s_strategic_patch(&doc, patch, &why))
            why = why ? why : "the strategic merge patch cannot be applied";
    }
    if (why || !json_is_object(doc)) {
        rc = status_fail(r, jsonp || apply ? 422 : 400, jsonp || apply ? "Invalid" : "BadRequest",
                         NULL, "%s", why ? why : "the patched object is not an object");
        json_decref(doc);
        goto out;
    }
    rc = write_changed(x, old, doc, 200);
    json_decref(doc);
out:
    json_decref(old);
    json_decref(patch);
    return rc;
}

static int delete_obj(struct ctx *x)
{
    const char *ns = x->res->namespaced ? x->p.ns : "";
    json_t *old = load(x, x->res->name, ns, x->p.name);
    if (!old)
        return not_found(x->r, x->res->name, x->p.name);
    int is_ns = strcmp(x->res->name, "namespaces") == 0;
    if (is_ns && (strcmp(x->p.name, "default") == 0 || strcmp(x->p.name, "kube-system") == 0 ||
                  strcmp(x->p.name, "kube-public") == 0)) {
        json_decref(old);
        return status_fail(x->r, 403, "Forbidden", details(x->p.name, "namespaces"),
                           "namespaces \"%s\" is forbidden: this namespace may not be deleted",
                           x->p.name);
    }
    int rc = PD_OK;
    if (!dry_run(x)) {
        rc = pd_k8s_db_del(x->r->db, x->c.id, x->res->name, ns, x->p.name);
        if (rc == PD_OK && is_ns)
            rc = pd_k8s_db_del_ns(x->r->db, x->c.id, x->p.name);
        int64_t rv;
        if (rc == PD_OK)
            rc = pd_k8s_db_rv_next(x->r->db, x->c.id, &rv);
    }
    if (rc == PD_OK)
        rc = pd_req_reply_json(x->r, 200, json_incref(old));
    json_decref(old);
    return rc;
}

static int get_obj(struct ctx *x)
{
    const char *ns = x->res->namespaced ? x->p.ns : "";
    json_t *o = load(x, x->res->name, ns, x->p.name);
    if (!o)
        return not_found(x->r, x->res->name, x->p.name);
    if (strcmp(x->res->name, "pods") == 0)
        pd_k8s_pod_status(o, x->now_ms);
    if (want_table(x)) {
        json_t *items = json_pack("[o]", o);
        json_t *t = pd_k8s_table(x->res, items, mstr(o, "resourceVersion"), NULL, x->now_ms);
        json_decref(items);
        return pd_req_reply_json(x->r, 200, t);
    }
    return pd_req_reply_json(x->r, 200, o);
}

static int list_objs(struct ctx *x)
{
    struct pd_req *r = x->r;
    const char *w = qget(x, "watch");
    if (w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0))
        return status_fail(r, 405, "MethodNotAllowed", NULL,
                           "watch is not supported by podiam's Kubernetes API");
    const char *ns = x->res->namespaced && x->p.ns[0] ? x->p.ns : NULL;
    if (!x->res->namespaced)
        ns = "";
    struct pd_k8s_sel *ls = NULL, *fs = NULL;
    size_t nls = 0, nfs = 0;
    const char *lsel = qget(x, "labelSelector"), *fsel = qget(x, "fieldSelector");
    if (lsel && pd_k8s_sel_parse(&r->arena, lsel, &ls, &nls))
        return bad_request(r, pd_arena_printf(&r->arena,
                                              "unable to parse requirement: invalid label "
                                              "selector: %s",
                                              lsel));
    if (fsel && pd_k8s_sel_parse(&r->arena, fsel, &fs, &nfs))
        return bad_request(r, pd_arena_printf(&r->arena, "invalid field selector: %s", fsel));
    for (size_t i = 0; i < nfs; i++)
        if (fs[i].op > 1)
            return bad_request(r, pd_arena_printf(&r->arena,
                                                  "invalid selector: '%s'; can't "
                                                  "understand '%s'",
                                                  fsel, fs[i].key));
    int64_t limit = 0, offset = 0;
    const char *lim = qget(x, "limit"), *cont = qget(x, "continue");
    if (lim && pd_parse_i64(lim, 0, INT64_MAX, &limit))
        limit = 0;
    if (cont && *cont && pd_parse_i64(cont, 0, INT64_MAX, &offset))
        return status_fail(r, 410, "Expired", NULL,
                           "The provided continue parameter is too old to display a consistent "
                           "list result. You can start a new list without the continue parameter.");
    struct pd_k8s_db_obj *rows;
    size_t n;
    int rc = pd_k8s_db_list(r->db, &r->arena, x->c.id, x->res->name, ns, &rows, &n);
    if (rc)
        return rc;
    json_t *items = json_array();
    int64_t seen = 0;
    const char *next = NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *o = parse_obj(rows[i].body);
        int ok = 1;
        json_t *labels = json_object_get(json_object_get(o, "metadata"), "labels");
        for (size_t k = 0; ok && k < nls; k++)
            ok = pd_k8s_sel_match(&ls[k], json_string_value(json_object_get(labels, ls[k].key)));
        for (size_t k = 0; ok && k < nfs; k++) {
            int sup;
            const char *v = pd_k8s_field_value(x->res, o, fs[k].key, &sup);
            if (!sup) {
                json_decref(o);
                json_decref(items);
                return bad_request(
                    r, pd_arena_printf(&r->arena, "field label not supported: %s", fs[k].key));
            }
            ok = pd_k8s_sel_match(&fs[k], v ? v : "");
        }
        if (!ok) {
            json_decref(o);
            continue;
        }
        if (seen++ < offset) {
            json_decref(o);
            continue;
        }
        if (limit > 0 && (int64_t)json_array_size(items) == limit) {
            next = rv_str(x, offset + limit);
            json_decref(o);
            break;
        }
        if (strcmp(x->res->name, "pods") == 0)
            pd_k8s_pod_status(o, x->now_ms);
        json_array_append_new(items, o);
    }
    int64_t rv = 0;
    pd_k8s_db_rv(r->db, x->c.id, &rv);
    if (want_table(x)) {
        json_t *t = pd_k8s_table(x->res, items, rv_str(x, rv), next, x->now_ms);
        json_decref(items);
        return pd_req_reply_json(r, 200, t);
    }
    json_t *md = json_pack("{s:s}", "resourceVersion", rv_str(x, rv));
    if (next)
        json_object_set_new(md, "continue", json_string(next));
    return pd_req_reply_json(r, 200,
                             json_pack("{s:s+, s:s, s:o, s:o}", "kind", x->res->kind, "List",
                                       "apiVersion", "v1", "metadata", md, "items", items));
}

/* ---- TokenRequest ---- */

static int token_request(struct ctx *x)
{
    struct pd_req *r = x->r;
    json_t *sa = load(x, "serviceaccounts", x->p.ns, x->p.name);
    if (!sa)
        return not_found(r, "serviceaccounts", x->p.name);
    json_t *in = body_of(x, 0);
    json_t *claims = NULL;
    int rc = PD_OK;
    if (!in)
        goto out;
    if (!json_is_object(in)) {
        rc = bad_request(r, "the body must be a TokenRequest object");
        goto out;
    }
    if (check_kind(x, in, "TokenRequest", "authentication.k8s.io/v1"))
        goto out;
    json_t *spec = json_object_get(in, "spec");
    json_t *auds = json_object_get(spec, "audiences");
    json_t *aud = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(auds, i, a)
    {
        if (json_is_string(a) && *json_string_value(a))
            json_array_append(aud, a);
    }
    if (!json_array_size(aud))
        json_array_append_new(aud, json_string(PD_K8S_API_AUDIENCE));
    json_t *es = json_object_get(spec, "expirationSeconds");
    int64_t ttl = json_is_integer(es) ? json_integer_value(es) : TOKEN_DEFAULT_TTL;
    if (ttl < TOKEN_MIN_TTL) {
        json_decref(aud);
        json_t *d = details(x->p.name, "TokenRequest");
        json_object_set_new(d, "group", json_string("authentication.k8s.io"));
        const char *m = pd_arena_printf(&r->arena,
                                        "Invalid value: %lld: may not specify a duration less "
                                        "than 10 minutes",
                                        (long long)ttl);
        json_object_set_new(d, "causes",
                            json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
                                      m, "field", "spec.expirationSeconds"));
        rc = status_fail(r, 422, "Invalid", d,
                         "TokenRequest.authentication.k8s.io \"%s\" is invalid: "
                         "spec.expirationSeconds: %s",
                         x->p.name, m);
        goto out;
    }
    if (ttl > TOKEN_MAX_TTL)
        ttl = TOKEN_MAX_TTL;
    int64_t now = x->now_ms / 1000;
    json_t *kio = json_pack("{s:s, s:{s:s, s:s}}", "namespace", x->p.ns, "serviceaccount", "name",
                            x->p.name, "uid", mstr(sa, "uid"));
    json_t *bound = json_object_get(spec, "boundObjectRef");
    json_t *bound_out = json_null();
    if (json_is_object(bound)) {
        const char *kind = json_string_value(json_object_get(bound, "kind"));
        const char *bname = json_string_value(json_object_get(bound, "name"));
        const char *buid = json_string_value(json_object_get(bound, "uid"));
        if (!kind || strcmp(kind, "Pod") != 0 || !bname) {
            json_decref(kio);
            json_decref(aud);
            rc = bad_request(r, pd_arena_printf(&r->arena,
                                                "cannot bind token object to an object of kind "
                                                "\"%s\" (podiam binds to pods only)",
                                                kind ? kind : ""));
            goto out;
        }
        json_t *pod = load(x, "pods", x->p.ns, bname);
        if (!pod) {
            json_decref(kio);
            json_decref(aud);
            rc = not_found(r, "pods", bname);
            goto out;
        }
        const char *puid = mstr(pod, "uid");
        if (buid && *buid && strcmp(buid, puid) != 0) {
            json_decref(pod);
            json_decref(kio);
            json_decref(aud);
            rc = status_fail(r, 409, "Conflict", details(bname, "pods"),
                             "the UID in the bound object reference (%s) does not match the UID "
                             "in record. The object might have been deleted and then recreated",
                             buid);
            goto out;
        }
        json_object_set_new(kio, "pod", json_pack("{s:s, s:s}", "name", bname, "uid", puid));
        bound_out = json_pack("{s:s, s:s, s:s, s:s}", "kind", "Pod", "apiVersion", "v1", "name",
                              bname, "uid", puid);
        json_decref(pod);
    }
    claims =
        json_pack("{s:O, s:I, s:I, s:s, s:s, s:o, s:I, s:s}", "aud", aud, "exp",
                  (json_int_t)(now + ttl), "iat", (json_int_t)now, "iss", x->c.issuer, "jti",
                  uuid(x), "kubernetes.io", kio, "nbf", (json_int_t)now, "sub",
                  pd_arena_printf(&r->arena, "system:serviceaccount:%s:%s", x->p.ns, x->p.name));
    char *token = NULL;
    rc = pd_oidc_sign(r->env, r->db, &r->arena, x->c.issuer, claims, &token);
    if (rc) {
        json_decref(aud);
        json_decref(bound_out);
        goto out;
    }
    rc = pd_req_reply_json(
        r, 201,
        json_pack("{s:s, s:s, s:{s:s, s:s, s:n}, s:{s:o, s:I, s:o}, s:{s:s, s:s}}", "kind",
                  "TokenRequest", "apiVersion", "authentication.k8s.io/v1", "metadata", "name",
                  x->p.name, "namespace", x->p.ns, "creationTimestamp", "spec", "audiences", aud,
                  "expirationSeconds", (json_int_t)ttl, "boundObjectRef", bound_out, "status",
                  "token", token, "expirationTimestamp", iso(x, (now + ttl) * 1000)));
out:
    json_decref(claims);
    json_decref(in);
    json_decref(sa);
    return rc;
}

/* ---- reviews ---- */

static json_t *user_info(struct ctx *x)
{
    json_t *groups = json_array();
    for (size_t i = 0; i < x->u.ngroups; i++)
        json_array_append_new(groups, json_string(x->u.groups[i]));
    json_t *ui = json_pack("{s:s, s:s, s:o}", "username", x->u.username, "uid",
                           x->u.uid ? x->u.uid : "", "groups", groups);
    if (x->u.extra && json_object_size(x->u.extra))
        json_object_set(ui, "extra", x->u.extra);
    return ui;
}

static int self_subject_review(struct ctx *x)
{
    json_t *in = body_of(x, 0);
    if (!in)
        return PD_OK;
    json_decref(in);
    return pd_req_reply_json(x->r, 201,
                             json_pack("{s:s, s:s, s:{s:n}, s:{s:o}}", "kind", "SelfSubjectReview",
                                       "apiVersion", "authentication.k8s.io/v1", "metadata",
                                       "creationTimestamp", "status", "userInfo", user_info(x)));
}

static int self_subject_access_review(struct ctx *x)
{
    json_t *in = body_of(x, 0);
    if (!in)
        return PD_OK;
    json_t *spec = json_object_get(in, "spec");
    json_t *ra = json_object_get(spec, "resourceAttributes");
    json_t *nra = json_object_get(spec, "nonResourceAttributes");
    int allowed = 0;
    if (json_is_object(ra)) {
        const char *res = json_string_value(json_object_get(ra, "resource"));
        const char *sub = json_string_value(json_object_get(ra, "subresource"));
        const char *verb = json_string_value(json_object_get(ra, "verb"));
        const char *full =
            res && sub && *sub ? pd_arena_printf(&x->r->arena, "%s/%s", res, sub) : res;
        allowed = pd_k8s_allowed(&x->u, verb ? verb : "", full ? full : "",
                                 json_string_value(json_object_get(ra, "namespace")),
                                 json_string_value(json_object_get(ra, "name")));
    } else if (json_is_object(nra)) {
        const char *verb = json_string_value(json_object_get(nra, "verb"));
        allowed = pd_k8s_allowed(&x->u, verb ? verb : "", NULL, NULL,
                                 json_string_value(json_object_get(nra, "path")));
    } else {
        json_decref(in);
        return status_fail(x->r, 422, "Invalid", NULL,
                           "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: "
                           "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                           "nonResourceAttributes or resourceAttributes must be specified");
    }
    json_t *status = json_pack("{s:b}", "allowed", allowed);
    if (allowed && x->u.admin)
        json_object_set_new(status, "reason",
                            json_string("RBAC: allowed by ClusterRoleBinding \"cluster-admin\" "
                                        "of ClusterRole \"cluster-admin\" to Group "
                                        "\"system:masters\""));
    json_t *out = json_pack("{s:s, s:s, s:{s:n}, s:O, s:o}", "kind", "SelfSubjectAccessReview",
                            "apiVersion", "authorization.k8s.io/v1", "metadata",
                            "creationTimestamp", "spec", spec, "status", status);
    json_decref(in);
    return pd_req_reply_json(x->r, 201, out);
}

/* ---- the request ---- */

static const char *verb_of(struct ctx *x)
{
    const char *m = x->r->method;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return x->p.target == PD_K8S_T_COLLECTION ? "list" : "get";
    if (strcmp(m, "POST") == 0)
        return "create";
    if (strcmp(m, "PUT") == 0)
        return "update";
    if (strcmp(m, "PATCH") == 0)
        return "patch";
    if (strcmp(m, "DELETE") == 0)
        return x->p.target == PD_K8S_T_COLLECTION ? "deletecollection" : "delete";
    return NULL;
}

static int method_not_allowed(struct pd_req *r)
{
    return status_fail(r, 405, "MethodNotAllowed", json_object(),
                       "the server does not allow this method on the requested resource");
}

static int serve_resource(struct ctx *x)
{
    const char *verb = verb_of(x);
    const char *m = x->r->method;
    int coll = x->p.target == PD_K8S_T_COLLECTION;
    if (!verb ||
        (coll && (strcmp(verb, "update") == 0 || strcmp(verb, "patch") == 0 ||
                  strcmp(verb, "deletecollection") == 0)) ||
        (!coll && strcmp(verb, "create") == 0))
        return method_not_allowed(x->r);
    const char *ns = x->res->namespaced ? x->p.ns : NULL;
    if (!pd_k8s_allowed(&x->u, verb, x->res->name, ns, x->p.name))
        return forbidden(x, verb, x->res->name, ns, x->p.name);
    if (coll && strcmp(m, "POST") == 0) {
        json_t *obj = body_of(x, 0);
        return obj ? create_obj(x, obj, x->p.ns) : PD_OK;
    }
    if (coll)
        return list_objs(x);
    if (strcmp(verb, "get") == 0)
        return get_obj(x);
    if (strcmp(verb, "update") == 0)
        return update_obj(x);
    if (strcmp(verb, "patch") == 0)
        return patch_obj(x);
    return delete_obj(x);
}

static int serve_target(struct ctx *x)
{
    struct pd_req *r = x->r;
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0;
    switch (x->p.target) {
    case PD_K8S_T_VERSION:
        return get ? pd_req_reply_json(r, 200, pd_k8s_version_doc(&x->c)) : method_not_allowed(r);
    case PD_K8S_T_HEALTH:
        r->resp.status = 200;
        r->resp.content_type = "text/plain; charset=utf-8";
        pd_buf_adds(&r->resp.body, "ok");
        return PD_OK;
    default:
        break;
    }
    if (x->u.anonymous)
        return status_fail(r, 401, "Unauthorized", NULL, "Unauthorized");
    if (get && !x->res && !pd_k8s_allowed(&x->u, "get", NULL, NULL, x->p.rest))
        return status_fail(r, 403, "Forbidden", json_object(),
                           "forbidden: User \"%s\" cannot get path \"%s\"", x->u.username,
                           x->p.rest);
    switch (x->p.target) {
    case PD_K8S_T_API:
        return get ? pd_req_reply_json(r, 200, pd_k8s_api_versions()) : method_not_allowed(r);
    case PD_K8S_T_APIS:
        return get ? pd_req_reply_json(r, 200, pd_k8s_api_groups()) : method_not_allowed(r);
    case PD_K8S_T_GROUPVERSION: {
        json_t *doc = pd_k8s_resource_list(x->p.group_version);
        return get ? pd_req_reply_json(r, 200, doc) : (json_decref(doc), method_not_allowed(r));
    }
    case PD_K8S_T_GROUP: {
        if (!get)
            return method_not_allowed(r);
        json_t *groups = pd_k8s_api_groups();
        json_t *g = NULL;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(groups, "groups"), i, e)
        {
            if (strcmp(json_string_value(json_object_get(e, "name")), x->p.group_version) == 0)
                g = json_incref(e);
        }
        json_decref(groups);
        json_object_set_new(g, "kind", json_string("APIGroup"));
        json_object_set_new(g, "apiVersion", json_string("v1"));
        return pd_req_reply_json(r, 200, g);
    }
    case PD_K8S_T_OPENAPI_V2:
        /* empty protobuf document: both kubectl 1.20 and 1.32 accept it and skip client-side
         * validation (reference/kubectl-facts.md §5) */
        r->resp.status = 200;
        r->resp.content_type = "application/octet-stream";
        return PD_OK;
    case PD_K8S_T_OPENAPI_V3:
        return no_route(r);
    case PD_K8S_T_COLLECTION:
    case PD_K8S_T_OBJECT:
        return serve_resource(x);
    case PD_K8S_T_TOKEN:
        if (!post)
            return method_not_allowed(r);
        if (!pd_k8s_allowed(&x->u, "create", "serviceaccounts/token", x->p.ns, x->p.name))
            return forbidden(x, "create", "serviceaccounts/token", x->p.ns, x->p.name);
        return token_request(x);
    case PD_K8S_T_SSAR:
        return post ? self_subject_access_review(x) : method_not_allowed(r);
    case PD_K8S_T_SSR:
        return post ? self_subject_review(x) : method_not_allowed(r);
    default:
        return no_route(r);
    }
}

static int serve(struct pd_req *r)
{
    struct ctx x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.now_ms = pd_clock_now_ms(&r->env->clock);
    pd_k8s_parse_path(r->path, &x.p);
    x.res = x.p.resource ? pd_k8s_res_find(x.p.resource) : NULL;
    if (pd_kvs_parse_form(&r->arena, &x.q, r->query, strlen(r->query), 1))
        return bad_request(r, "malformed query string");
    if (pd_db_begin(r->db, 1))
        return status_fail(r, 503, "ServiceUnavailable", NULL, "the state is busy; retry");
    int rc = pd_eks_cluster_by_id(r->db, &r->arena, x.p.cluster, &x.c);
    if (rc == PD_ENOTFOUND) {
        pd_db_rollback(r->db);
        return no_route(r);
    }
    if (rc == PD_OK)
        rc = start_cluster(&x);
    const char *why = NULL;
    if (rc == PD_OK && pd_k8s_authenticate(r, &x.c, &x.u, &why) != PD_OK) {
        pd_log_req(PD_LOG_INFO, r->request_id, "k8s: authentication failed: %s", why ? why : "?");
        status_fail(r, 401, "Unauthorized", NULL, "Unauthorized");
        pd_db_commit(r->db); /* the cluster's start, if it just happened */
        json_decref(x.u.extra);
        return PD_OK;
    }
    if (rc == PD_OK)
        rc = serve_target(&x);
    /* a refusal wrote nothing but maybe the cluster's start: commit whenever rc is PD_OK */
    if (rc == PD_OK)
        rc = pd_db_commit(r->db);
    else
        pd_db_rollback(r->db);
    json_decref(x.u.extra);
    if (rc && !r->resp.status)
        status_fail(r, 500, "InternalError", NULL, "Internal error occurred: %s", pd_strerror(rc));
    return PD_OK;
}

enum { OP_DISCOVERY, OP_READ, OP_WRITE, OP_TOKEN, OP_REVIEW };
static const struct pd_op ops[] = {
    [OP_DISCOVERY] = {"K8sDiscovery", serve, 0},
    [OP_READ] = {"K8sRead", serve, 0},
    [OP_WRITE] = {"K8sWrite", serve, PD_OP_WRITE},
    [OP_TOKEN] = {"K8sTokenRequest", serve, PD_OP_WRITE},
    [OP_REVIEW] = {"K8sReview", serve, 0},
    {NULL, NULL, 0},
};

static int route(struct pd_req *r)
{
    if (!pd_has_prefix(r->path, "/_podiam/k8s/"))
        return 0;
    struct pd_k8s_path p;
    if (pd_k8s_parse_path(r->path, &p)) {
        no_route(r);
        return 1;
    }
    const char *cl = pd_req_header(r, "content-length");
    int64_t n;
    if (cl && (pd_parse_i64(cl, 0, INT64_MAX, &n) || n > PD_K8S_MAX_BODY)) {
        status_fail(r, 413, "RequestEntityTooLarge", NULL, "Request entity too large: limit is %d",
                    PD_K8S_MAX_BODY);
        return 1;
    }
    int read = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    switch (p.target) {
    case PD_K8S_T_COLLECTION:
    case PD_K8S_T_OBJECT:
        r->op = &ops[read ? OP_READ : OP_WRITE];
        break;
    case PD_K8S_T_TOKEN:
        r->op = &ops[OP_TOKEN];
        break;
    case PD_K8S_T_SSAR:
    case PD_K8S_T_SSR:
        r->op = &ops[OP_REVIEW];
        break;
    default:
        r->op = &ops[OP_DISCOVERY];
    }
    return 1;
}

const struct pd_service pd_svc_k8s = {
    .name = "k8s",
    .proto = PD_PROTO_RAW,
    .ops = ops,
    .route = route,
};

/* ---- fixtures ---- */

static int fx_fail(char **OUT, const char *what, const char *detail)
{
    size_t n = strlen(what) + strlen(detail) + 8;
    *OUT = malloc(n);
    if (!*OUT)
        abort();
    snprintf(*OUT, n, "%s: %s", what, detail);
    return PD_EINVAL;
}

/* A request-shaped context for fixture work on cluster_id. */
static int fx_ctx(struct pd_env *env, struct pd_db *db, const char *cluster_id, struct pd_req **r,
                  struct ctx *x)
{
    *r = pd_req_new(env);
    (*r)->db = db;
    memset(x, 0, sizeof *x);
    x->r = *r;
    x->now_ms = pd_clock_now_ms(&env->clock);
    int rc = pd_eks_cluster_by_id(db, &(*r)->arena, cluster_id, &x->c);
    return rc ? rc : start_cluster(x);
}

int pd_k8s_cluster_start(struct pd_env *env, struct pd_db *db, const char *cluster_id)
{
    struct pd_req *r;
    struct ctx x;
    int rc = fx_ctx(env, db, cluster_id, &r, &x);
    pd_req_free(r);
    return rc;
}

/* Load one list of the section through the create path (validation, defaults, content). */
static int fx_list(struct ctx *x, const json_t *section, const char *key, char **OUT_why)
{
    json_t *list = json_object_get(section, key);
    if (!list)
        return PD_OK;
    if (!json_is_array(list))
        return fx_fail(OUT_why, key, "must be a list");
    x->res = pd_k8s_res_find(key);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        json_t *obj;
        const char *ns = "default";
        if (json_is_string(e) && !x->res->namespaced) {
            obj = json_pack("{s:{s:s}}", "metadata", "name", json_string_value(e));
        } else if (json_is_object(e)) {
            const char *name = json_string_value(json_object_get(e, "name"));
            const char *n = json_string_value(json_object_get(e, "namespace"));
            if (n)
                ns = n;
            if (!name)
                return fx_fail(OUT_why, key, "each entry needs a \"name\"");
            obj = json_pack("{s:{s:s}}", "metadata", "name", name);
            json_t *md = json_object_get(obj, "metadata");
            static const char *const mkeys[] = {"labels", "annotations", NULL};
            for (const char *const *k = mkeys; *k; k++)
                if (json_is_object(json_object_get(e, *k)))
                    json_object_set(md, *k, json_object_get(e, *k));
            if (json_is_object(json_object_get(e, "data")))
                json_object_set(obj, "data", json_object_get(e, "data"));
            if (json_is_boolean(json_object_get(e, "automountServiceAccountToken")))
                json_object_set(obj, "automountServiceAccountToken",
                                json_object_get(e, "automountServiceAccountToken"));
        } else {
            return fx_fail(OUT_why, key, "entries must be objects (or names, for namespaces)");
        }
        const char *name = mstr(obj, "name");
        json_t *existing = load(x, x->res->name, x->res->namespaced ? ns : "", name);
        if (existing) {
            /* "default" service accounts exist already: the fixture's annotations win */
            json_decref(existing);
            json_t *p = json_pack("{s:O}", "metadata", json_object_get(obj, "metadata"));
            json_object_set(p, "data", json_object_get(obj, "data"));
            if (!json_object_get(p, "data") || json_is_null(json_object_get(p, "data")))
                json_object_del(p, "data");
            json_decref(obj);
            snprintf(x->p.ns, sizeof x->p.ns, "%s", x->res->namespaced ? ns : "");
            snprintf(x->p.name, sizeof x->p.name, "%s", name);
            json_t *old = load(x, x->res->name, x->res->namespaced ? ns : "", x->p.name);
            json_t *doc = pd_k8s_merge_patch(json_deep_copy(old), p);
            json_decref(p);
            pd_buf_reset(&x->r->resp.body);
            x->r->resp.status = 0;
            int rc = write_changed(x, old, doc, 200);
            json_decref(doc);
            json_decref(old);
            if (rc)
                return rc;
            continue;
        }
        pd_buf_reset(&x->r->resp.body);
        x->r->resp.status = 0;
        int rc = create_obj(x, obj, ns);
        if (rc)
            return rc;
        if (x->r->resp.status >= 300) {
            char *detail =
                pd_arena_strndup(&x->r->arena, pd_buf_str(&x->r->resp.body), x->r->resp.body.len);
            json_t *st = json_loads(detail, 0, NULL);
            const char *msg = json_string_value(json_object_get(st, "message"));
            rc = fx_fail(OUT_why, key, msg ? msg : detail);
            json_decref(st);
            return rc;
        }
    }
    return PD_OK;
}

int pd_k8s_fixtures_load(struct pd_env *env, struct pd_db *db, const char *cluster_id,
                         const json_t *section, char **OUT_why)
{
    if (!json_is_object(section))
        return fx_fail(OUT_why, "kubernetes", "must be an object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)section, k, v)
    {
        if (strcmp(k, "namespaces") && strcmp(k, "serviceaccounts") && strcmp(k, "configmaps"))
            return fx_fail(OUT_why, "kubernetes",
                           "unknown field (known fields: namespaces, serviceaccounts, "
                           "configmaps)");
    }
    struct pd_req *r;
    struct ctx x;
    int rc = fx_ctx(env, db, cluster_id, &r, &x);
    if (rc)
        rc = fx_fail(OUT_why, "kubernetes", pd_strerror(rc));
    static const char *const order[] = {"namespaces", "serviceaccounts", "configmaps", NULL};
    for (const char *const *o = order; rc == PD_OK && *o; o++)
        rc = fx_list(&x, section, *o, OUT_why);
    if (rc && !*OUT_why)
        fx_fail(OUT_why, "kubernetes", pd_strerror(rc));
    pd_req_free(r);
    return rc ? PD_EINVAL : PD_OK;
}

static int builtin(const char *ns)
{
    for (const char *const *n = builtin_ns; *n; n++)
        if (strcmp(*n, ns) == 0)
            return 1;
    return 0;
}

json_t *pd_k8s_fixtures_export(struct pd_env *env, struct pd_db *db, const char *cluster_id)
{
    (void)env;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_k8s_db_obj *rows;
    size_t n;
    json_t *nss = json_array(), *sas = json_array(), *cms = json_array();
    if (pd_k8s_db_list(db, &a, cluster_id, NULL, NULL, &rows, &n) != PD_OK)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = parse_obj(rows[i].body);
        json_t *md = json_object_get(o, "metadata");
        json_t *labels = json_deep_copy(json_object_get(md, "labels"));
        json_t *ann = json_object_get(md, "annotations");
        if (json_is_object(labels))
            json_object_del(labels, "kubernetes.io/metadata.name");
        json_t *e = json_pack("{s:s}", "name", rows[i].name);
        if (*rows[i].ns)
            json_object_set_new(e, "namespace", json_string(rows[i].ns));
        if (json_object_size(labels))
            json_object_set(e, "labels", labels);
        if (json_object_size(ann))
            json_object_set(e, "annotations", ann);
        json_decref(labels);
        int plain = json_object_size(e) == (size_t)(*rows[i].ns ? 2 : 1);
        if (strcmp(rows[i].resource, "namespaces") == 0) {
            if (!(builtin(rows[i].name) && plain))
                json_array_append(nss, plain ? json_object_get(e, "name") : e);
        } else if (strcmp(rows[i].resource, "serviceaccounts") == 0) {
            json_t *am = json_object_get(o, "automountServiceAccountToken");
            if (am)
                json_object_set(e, "automountServiceAccountToken", am);
            if (!(strcmp(rows[i].name, "default") == 0 && plain && !am))
                json_array_append(sas, e);
        } else if (strcmp(rows[i].resource, "configmaps") == 0 &&
                   strcmp(rows[i].name, "kube-root-ca.crt") != 0) {
            json_t *data = json_object_get(o, "data");
            if (data)
                json_object_set(e, "data", data);
            json_array_append(cms, e);
        }
        json_decref(e);
        json_decref(o);
    }
    pd_arena_cleanup(&a);
    json_t *out = json_object();
    if (json_array_size(nss))
        json_object_set(out, "namespaces", nss);
    if (json_array_size(sas))
        json_object_set(out, "serviceaccounts", sas);
    if (json_array_size(cms))
        json_object_set(out, "configmaps", cms);
    json_decref(nss);
    json_decref(sas);
    json_decref(cms);
    if (!json_object_size(out)) {
        json_decref(out);
        return NULL;
    }
    return out;
}
