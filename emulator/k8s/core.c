/*
 * core.c - the core/v1 kinds' own behaviour (hooks of the rows in kinds.c): namespaces
 * (labels, finalizer and phase, a "default" service account and kube-root-ca.crt in each,
 * the three that may not be deleted, their content deleted with them), pods (ServiceAccount
 * admission, defaults, the EKS pod identity webhook, a Running status), the TokenRequest
 * subresource of service accounts; a cluster's start (built-in namespaces, RBAC bootstrap);
 * and a cluster's "kubernetes" fixtures (namespaces, service accounts, config maps, RBAC
 * objects other than the bootstrap ones).
 */
#include <stdlib.h>
#include <string.h>

#include "auth/secrets.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/str.h"
#include "env.h"
#include "k8s/internal.h"
#include "k8s/patch.h"
#include "k8s/webhook.h"
#include "req.h"
#include "services/oidc.h"
#include "store/k8s_db.h"
#include "store/store.h"

#define TOKEN_DEFAULT_TTL 3600
#define TOKEN_MIN_TTL 600
#define TOKEN_MAX_TTL 86400 /* podiam's --service-account-max-token-expiration */

static const char *const builtin_ns[] = {"default", "kube-system", "kube-public", "kube-node-lease",
                                         NULL};

/* ---- namespaces ---- */

/* What a new namespace gets: its "default" service account and kube-root-ca.crt. */
static int namespace_content(struct pd_k8s_ctx *x, const char *ns)
{
    int rc = pd_k8s_put_new(x, pd_k8s_res_find("serviceaccounts"), ns,
                            json_pack("{s:{s:s}}", "metadata", "name", "default"));
    if (rc == PD_OK) {
        const char *ca = x->r->env->secrets ? x->r->env->secrets->ca_cert_pem : "";
        rc =
            pd_k8s_put_new(x, pd_k8s_res_find("configmaps"), ns,
                           json_pack("{s:{s:s, s:{s:s}}, s:{s:s}}", "metadata", "name",
                                     "kube-root-ca.crt", "annotations", "kubernetes.io/description",
                                     "Contains a CA bundle that can be used to verify the "
                                     "kube-apiserver when using internal endpoints such as the "
                                     "internal service IP or kubernetes.default.svc. No other "
                                     "usage is guaranteed across distributions of Kubernetes "
                                     "clusters.",
                                     "data", "ca.crt", ca ? ca : ""));
    }
    return rc == PD_ECONFLICT ? PD_OK : rc;
}

static int namespace_create(struct pd_k8s_ctx *x, json_t *obj)
{
    (void)x;
    json_t *md = pd_k8s_meta(obj);
    json_t *labels = json_object_get(md, "labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(md, "labels", labels);
    }
    json_object_set(labels, "kubernetes.io/metadata.name", json_object_get(md, "name"));
    json_object_set_new(obj, "spec", json_pack("{s:[s]}", "finalizers", "kubernetes"));
    json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Active"));
    return PD_OK;
}

static int namespace_remove(struct pd_k8s_ctx *x, const json_t *old)
{
    (void)old;
    const char *n = x->p.name;
    if (strcmp(n, "default") && strcmp(n, "kube-system") && strcmp(n, "kube-public"))
        return PD_OK;
    pd_k8s_fail(x->r, 403, "Forbidden", pd_k8s_details(n, "", "namespaces"),
                "namespaces %s is forbidden: this namespace may not be deleted",
                pd_k8s_goquote(&x->r->arena, n));
    return PD_EAWS;
}

/* Delete every object of namespace ns. */
static int delete_content(struct pd_k8s_ctx *x, const char *ns)
{
    struct pd_k8s_db_obj *rows;
    size_t n;
    int rc = pd_k8s_db_list(x->r->db, &x->r->arena, x->c.id, NULL, ns, &rows, &n);
    for (size_t i = 0; rc == PD_OK && i < n; i++) {
        const struct pd_k8s_res *res = pd_k8s_res_by_key(rows[i].resource);
        if (!res) { /* podiam's own rows: no kind, no event */
            rc = pd_k8s_db_del(x->r->db, x->c.id, rows[i].resource, ns, rows[i].name);
            continue;
        }
        json_t *o = json_loads(rows[i].body, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            o = json_pack("{s:{s:s, s:s}}", "metadata", "name", rows[i].name, "namespace", ns);
        }
        rc = pd_k8s_remove(x, res, o);
        json_decref(o);
    }
    return rc;
}

static int namespace_written(struct pd_k8s_ctx *x, const json_t *obj, const json_t *old)
{
    if (obj && !old)
        return namespace_content(x, pd_k8s_mstr(obj, "name"));
    if (!obj) /* deleted: its content goes with it, each a change watchers see */
        return delete_content(x, pd_k8s_mstr(old, "name"));
    return PD_OK;
}

const struct pd_k8s_hooks pd_k8s_namespace_hooks = {
    .create = namespace_create,
    .remove = namespace_remove,
    .written = namespace_written,
};

const struct pd_k8s_hooks pd_k8s_plain_hooks = {0};

static json_t *new_namespace(const char *name)
{
    return json_pack("{s:{s:s, s:{s:s}}, s:{s:[s]}, s:{s:s}}", "metadata", "name", name, "labels",
                     "kubernetes.io/metadata.name", name, "spec", "finalizers", "kubernetes",
                     "status", "phase", "Active");
}

int pd_k8s_start(struct pd_k8s_ctx *x)
{
    int64_t rv;
    int rc = pd_k8s_db_rv(x->r->db, x->c.id, &rv);
    if (rc == PD_ENOTFOUND) {
        rc = pd_k8s_db_cluster_init(x->r->db, x->c.id, 1);
        for (const char *const *n = builtin_ns; rc == PD_OK && *n; n++) {
            rc = pd_k8s_put_new(x, pd_k8s_res_find("namespaces"), "", new_namespace(*n));
            if (rc == PD_OK)
                rc = namespace_content(x, *n);
        }
        if (rc == PD_OK) /* the built-in virtual node */
            rc = pd_k8s_put_new(x, pd_k8s_res_find("nodes"), "", pd_k8s_virtual_node());
    }
    return rc ? rc : pd_k8s_rbac_bootstrap(x);
}

/* ---- pods ---- */

/* kube-api-access-xxxxx: what the ServiceAccount admission plugin mounts in every pod. */
static void mount_api_access(struct pd_k8s_ctx *x, json_t *pod, json_t *sa)
{
    json_t *spec = json_object_get(pod, "spec");
    json_t *am = json_object_get(spec, "automountServiceAccountToken");
    if (!am)
        am = json_object_get(sa, "automountServiceAccountToken");
    if (json_is_false(am))
        return;
    const char *vname = pd_arena_printf(&x->r->arena, "kube-api-access-%s", pd_k8s_suffix(x, 5));
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
static int admit_pod(struct pd_k8s_ctx *x, json_t *pod, const char *ns, const char *name)
{
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec) || !json_array_size(json_object_get(spec, "containers"))) {
        json_t *d = pd_k8s_details(name, "", "Pod");
        json_object_set_new(d, "causes",
                            json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueRequired",
                                      "message", "Required value", "field", "spec.containers"));
        pd_k8s_fail(x->r, 422, "Invalid", d,
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
    json_t *sa = pd_k8s_load(x, pd_k8s_res_find("serviceaccounts"), ns, san);
    if (!sa) {
        pd_k8s_fail(x->r, 403, "Forbidden", pd_k8s_details(name, "", "pods"),
                    "pods \"%s\" is forbidden: error looking up service account %s/%s: "
                    "serviceaccount \"%s\" not found",
                    name, ns, san, san);
        return PD_EAWS;
    }
    mount_api_access(x, pod, sa);
    pd_k8s_pod_defaults(pod, x->now_ms, pd_ids_next(&x->r->env->ids));
    struct pd_k8s_webhook_cfg cfg = pd_k8s_webhook_defaults(x->c.region);
    /* Pod Identity takes precedence over IRSA (the webhook's order) */
    if (pd_eks_podid_exists(x->r->db, &x->r->arena, x->c.id, ns, san))
        pd_k8s_webhook_mutate_pod_identity(pod);
    else
        pd_k8s_webhook_mutate(pod, sa, &cfg);
    const char *node = json_string_value(json_object_get(spec, "nodeName"));
    if (node && strcmp(node, PD_K8S_VIRTUAL_NODE) == 0) {
        pd_k8s_pod_status(pod, x->now_ms); /* the virtual node "runs" it at once */
    } else {
        /* bound to another node: Pending until that node's kubelet reports (none runs here
         * unless one was started against this cluster) */
        char iso[32];
        pd_time_iso8601(x->now_ms, 0, iso);
        json_object_set_new(pod, "status",
                            json_pack("{s:s, s:s, s:[{s:s, s:s, s:n, s:s}]}", "phase", "Pending",
                                      "qosClass", "BestEffort", "conditions", "type",
                                      "PodScheduled", "status", "True", "lastProbeTime",
                                      "lastTransitionTime", iso));
    }
    json_decref(sa);
    return PD_OK;
}

static int pod_create(struct pd_k8s_ctx *x, json_t *obj)
{
    return admit_pod(x, obj, pd_k8s_mstr(obj, "namespace"),
                     pd_arena_strdup(&x->r->arena, pd_k8s_mstr(obj, "name")));
}

/* A pod on the virtual node reports its (possibly changed) containers as running at once. */
static int pod_update(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)
{
    (void)old;
    const char *node = json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
    if (node && strcmp(node, PD_K8S_VIRTUAL_NODE) == 0)
        pd_k8s_pod_status(obj, x->now_ms);
    return PD_OK;
}

const struct pd_k8s_hooks pd_k8s_pod_hooks = {
    .create = pod_create,
    .update = pod_update,
};

/* ---- TokenRequest ---- */

static int token_request(struct pd_k8s_ctx *x, json_t *in)
{
    struct pd_req *r = x->r;
    json_t *claims = NULL;
    int rc = PD_OK;
    json_t *sa = pd_k8s_load(x, pd_k8s_res_find("serviceaccounts"), x->p.ns, x->p.name);
    if (!sa) {
        rc = pd_k8s_not_found(x, pd_k8s_res_find("serviceaccounts"), x->p.name);
        goto out;
    }
    if (!json_is_object(in)) {
        rc = pd_k8s_bad_request(x, "the body must be a TokenRequest object");
        goto out;
    }
    if ((rc = pd_k8s_check_kind(x, in, "TokenRequest", "authentication.k8s.io/v1")))
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
        json_t *d = pd_k8s_details(x->p.name, "authentication.k8s.io", "TokenRequest");
        const char *m = pd_arena_printf(&r->arena,
                                        "Invalid value: %lld: may not specify a duration less "
                                        "than 10 minutes",
                                        (long long)ttl);
        json_object_set_new(d, "causes",
                            json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
                                      m, "field", "spec.expirationSeconds"));
        rc = pd_k8s_fail(r, 422, "Invalid", d,
                         "TokenRequest.authentication.k8s.io \"%s\" is invalid: "
                         "spec.expirationSeconds: %s",
                         x->p.name, m);
        goto out;
    }
    if (ttl > TOKEN_MAX_TTL)
        ttl = TOKEN_MAX_TTL;
    int64_t now = x->now_ms / 1000;
    json_t *kio = json_pack("{s:s, s:{s:s, s:s}}", "namespace", x->p.ns, "serviceaccount", "name",
                            x->p.name, "uid", pd_k8s_mstr(sa, "uid"));
    json_t *bound = json_object_get(spec, "boundObjectRef");
    json_t *bound_out = json_null();
    if (json_is_object(bound)) {
        const char *kind = json_string_value(json_object_get(bound, "kind"));
        const char *bname = json_string_value(json_object_get(bound, "name"));
        const char *buid = json_string_value(json_object_get(bound, "uid"));
        if (!kind || strcmp(kind, "Pod") != 0 || !bname) {
            json_decref(kio);
            json_decref(aud);
            rc = pd_k8s_bad_request(x,
                                    pd_arena_printf(&r->arena,
                                                    "cannot bind token object to an object of kind "
                                                    "\"%s\" (podiam binds to pods only)",
                                                    kind ? kind : ""));
            goto out;
        }
        json_t *pod = pd_k8s_load(x, pd_k8s_res_find("pods"), x->p.ns, bname);
        if (!pod) {
            json_decref(kio);
            json_decref(aud);
            rc = pd_k8s_not_found(x, pd_k8s_res_find("pods"), bname);
            goto out;
        }
        const char *puid = pd_k8s_mstr(pod, "uid");
        if (buid && *buid && strcmp(buid, puid) != 0) {
            json_decref(pod);
            json_decref(kio);
            json_decref(aud);
            rc = pd_k8s_fail(r, 409, "Conflict", pd_k8s_details(bname, "", "pods"),
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
                  pd_k8s_uuid(x), "kubernetes.io", kio, "nbf", (json_int_t)now, "sub",
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
                  "token", token, "expirationTimestamp", pd_k8s_iso(x, (now + ttl) * 1000)));
out:
    json_decref(claims);
    json_decref(in);
    json_decref(sa);
    return rc;
}

const struct pd_k8s_sub pd_k8s_serviceaccount_subs[] = {
    {"token", "serviceaccounts/token", "authentication.k8s.io", "v1", "TokenRequest",
     token_request},
    {NULL, NULL, NULL, NULL, NULL, NULL},
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
                  struct pd_k8s_ctx *x)
{
    *r = pd_req_new(env);
    (*r)->db = db;
    memset(x, 0, sizeof *x);
    x->r = *r;
    x->now_ms = pd_clock_now_ms(&env->clock);
    x->system = 1;
    int rc = pd_eks_cluster_by_id(db, &(*r)->arena, cluster_id, &x->c);
    return rc ? rc : pd_k8s_start(x);
}

/* Done with a fixtures context: its changes are committed by the caller, outside the API,
 * so watchers learn of them as a gap in the log (410, then a relist). */
static void fx_done(struct pd_req *r, struct pd_k8s_ctx *x)
{
    pd_k8s_pending_clear(&x->ev);
    pd_req_free(r);
}

int pd_k8s_cluster_start(struct pd_env *env, struct pd_db *db, const char *cluster_id)
{
    struct pd_req *r;
    struct pd_k8s_ctx x;
    int rc = fx_ctx(env, db, cluster_id, &r, &x);
    fx_done(r, &x);
    return rc;
}

/* Load one list of the section through the create path (validation, defaults, content). */
/* The members of an RBAC object a fixture entry carries beside its metadata. */
static const char *const rbac_keys[] = {"rules", "aggregationRule", "subjects", "roleRef", NULL};

/* The kinds a "kubernetes" section may hold, in load order. */
static const char *const fx_order[] = {
    "namespaces", "serviceaccounts",     "configmaps",   "clusterroles",
    "roles",      "clusterrolebindings", "rolebindings", NULL};

static const struct pd_k8s_res *fx_res(const char *key)
{
    const struct pd_k8s_res *r = pd_k8s_res_find(key);
    return r ? r : pd_k8s_res_lookup("rbac.authorization.k8s.io", "v1", key);
}

static int fx_list(struct pd_k8s_ctx *x, const json_t *section, const char *key, char **OUT_why)
{
    json_t *list = json_object_get(section, key);
    if (!list)
        return PD_OK;
    if (!json_is_array(list))
        return fx_fail(OUT_why, key, "must be a list");
    x->res = fx_res(key);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        json_t *obj;
        const char *ns = "default";
        if (json_is_string(e) && !PD_K8S_NAMESPACED_RES(x->res)) {
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
            for (const char *const *k = rbac_keys; *k; k++)
                if (json_object_get(e, *k))
                    json_object_set(obj, *k, json_object_get(e, *k));
        } else {
            return fx_fail(OUT_why, key, "entries must be objects (or names, for namespaces)");
        }
        const char *name = pd_k8s_mstr(obj, "name");
        json_t *existing = pd_k8s_load(x, x->res, ns, name);
        if (existing) {
            /* "default" service accounts exist already: the fixture's annotations win */
            json_decref(existing);
            json_t *p = json_pack("{s:O}", "metadata", json_object_get(obj, "metadata"));
            json_object_set(p, "data", json_object_get(obj, "data"));
            if (!json_object_get(p, "data") || json_is_null(json_object_get(p, "data")))
                json_object_del(p, "data");
            for (const char *const *k = rbac_keys; *k; k++)
                if (json_object_get(obj, *k))
                    json_object_set(p, *k, json_object_get(obj, *k));
            json_decref(obj);
            snprintf(x->p.ns, sizeof x->p.ns, "%s", PD_K8S_NAMESPACED_RES(x->res) ? ns : "");
            snprintf(x->p.name, sizeof x->p.name, "%s", name);
            json_t *old = pd_k8s_load(x, x->res, ns, x->p.name);
            json_t *doc = pd_k8s_merge_patch(json_deep_copy(old), p);
            json_decref(p);
            pd_buf_reset(&x->r->resp.body);
            x->r->resp.status = 0;
            int rc = pd_k8s_write_changed(x, old, doc, 200);
            json_decref(doc);
            json_decref(old);
            if (rc)
                return rc;
            continue;
        }
        pd_buf_reset(&x->r->resp.body);
        x->r->resp.status = 0;
        int rc = pd_k8s_create(x, obj, ns);
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
        int known = 0;
        for (const char *const *o = fx_order; *o && !known; o++)
            known = strcmp(k, *o) == 0;
        if (!known)
            return fx_fail(OUT_why, "kubernetes",
                           "unknown field (known fields: namespaces, serviceaccounts, "
                           "configmaps, clusterroles, roles, clusterrolebindings, rolebindings)");
    }
    struct pd_req *r;
    struct pd_k8s_ctx x;
    int rc = fx_ctx(env, db, cluster_id, &r, &x);
    if (rc)
        rc = fx_fail(OUT_why, "kubernetes", pd_strerror(rc));
    for (const char *const *o = fx_order; rc == PD_OK && *o; o++)
        rc = fx_list(&x, section, *o, OUT_why);
    if (rc && !*OUT_why)
        fx_fail(OUT_why, "kubernetes", pd_strerror(rc));
    fx_done(r, &x);
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
    json_t *rbac = json_object(); /* key -> list, for the RBAC kinds */
    if (pd_k8s_db_list(db, &a, cluster_id, NULL, NULL, &rows, &n) != PD_OK)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_loads(rows[i].body, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            continue;
        }
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
        const struct pd_k8s_res *res = pd_k8s_res_by_key(rows[i].resource);
        if (res && strcmp(res->group, "rbac.authorization.k8s.io") == 0) {
            /* the bootstrap objects come with every cluster */
            const char *boot = json_string_value(
                json_object_get(json_object_get(md, "labels"), "kubernetes.io/bootstrapping"));
            if (!boot || strcmp(boot, "rbac-defaults") != 0) {
                for (const char *const *k = rbac_keys; *k; k++)
                    if (json_object_get(o, *k) && !json_is_null(json_object_get(o, *k)))
                        json_object_set(e, *k, json_object_get(o, *k));
                json_t *list = json_object_get(rbac, res->name);
                if (!list) {
                    list = json_array();
                    json_object_set_new(rbac, res->name, list);
                }
                json_array_append(list, e);
            }
        } else if (strcmp(rows[i].resource, "namespaces") == 0) {
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
    json_object_update(out, rbac);
    json_decref(rbac);
    if (!json_object_size(out)) {
        json_decref(out);
        return NULL;
    }
    return out;
}
