/*
 * api.c - the per-cluster Kubernetes API: a raw service answering under
 * /_podiam/k8s/<CLUSTER ID>/ (the endpoint DescribeCluster gives) on both listeners.
 *
 * Every request goes the way kube-apiserver's filters take it: authentication (authn.c,
 * iam_user.c), impersonation (impersonate.c), the request's attributes (RequestInfo,
 * request.c), authorization by the chain [system:masters, EKS access policies, RBAC]
 * (authz.h), then the handler: discovery and OpenAPI here, objects through the generic path
 * (objects.c) of the kind's row (kinds.c), reviews (reviews.c). Each request runs in one
 * write transaction, committed when it succeeds, and leaves one entry in the decision log
 * (the x-podiam-decision-id header) with how the caller was mapped and every authorization
 * it needed; a request refused at authentication leaves one too ("unauthenticated", with
 * the reason and the mapping's steps). Errors are Kubernetes Status objects.
 * docs/kubernetes.md describes the served subset.
 */
#include "k8s/k8s.h"

#include <string.h>

#include "auth/decisions.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "env.h"
#include "k8s/access_policy.h"
#include "k8s/internal.h"
#include "req.h"
#include "services/eks.h"
#include "services/service.h"
#include "store/store.h"

static int no_route(struct pd_req *r)
{
    return pd_k8s_fail(r, 404, "NotFound", json_object(),
                       "the server could not find the requested resource");
}

static int method_not_allowed(struct pd_req *r)
{
    return pd_k8s_fail(r, 405, "MethodNotAllowed", json_object(),
                       "the server does not allow this method on the requested resource");
}

int pd_k8s_allowed(struct pd_k8s_ctx *x, const struct pd_k8s_attrs *at)
{
    struct pd_k8s_decision d;
    pd_k8s_authorize(&x->az, at, x->checks, &d);
    return d.verdict == PD_K8S_ALLOW;
}

/* ---- discovery and the other non-object paths ---- */

static int serve_target(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    switch (x->p.target) {
    case PD_K8S_T_VERSION:
        return get ? pd_req_reply_json(r, 200, pd_k8s_version_doc(&x->c)) : method_not_allowed(r);
    case PD_K8S_T_HEALTH:
        r->resp.status = 200;
        r->resp.content_type = "text/plain; charset=utf-8";
        pd_buf_adds(&r->resp.body, "ok");
        return PD_OK;
    case PD_K8S_T_API:
        return get ? pd_req_reply_json(r, 200, pd_k8s_api_versions()) : method_not_allowed(r);
    case PD_K8S_T_APIS:
        return get ? pd_req_reply_json(r, 200, pd_k8s_api_groups()) : method_not_allowed(r);
    case PD_K8S_T_GROUPVERSION:
        return get ? pd_req_reply_json(r, 200, pd_k8s_resource_list(x->p.group_version))
                   : method_not_allowed(r);
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
    case PD_K8S_T_COLLECTION:
    case PD_K8S_T_OBJECT:
        return pd_k8s_serve_object(x);
    case PD_K8S_T_SUBRESOURCE:
        return pd_k8s_serve_subresource(x);
    case PD_K8S_T_OPENAPI_V3:
    default:
        return no_route(r);
    }
}

/* ---- the decision log ---- */

/* How EKS mapped a get-token caller: what mapped it (the creator, which access entry and
 * its policies, which aws-auth line) and every step looked at (aws-auth lines EKS ignores
 * among them). */
static json_t *mapping_json(const struct pd_k8s_eks_mapping *m)
{
    json_t *o = json_pack("{s:s, s:s}", "by", m->by ? m->by : "", "mode", m->mode ? m->mode : "");
    if (m->entry_arn) {
        json_object_set_new(o, "access_entry", json_string(m->entry_arn));
        if (m->principal)
            json_object_set_new(o, "principal_arn", json_string(m->principal));
        json_t *pols = json_array();
        for (size_t i = 0; i < m->npolicies; i++) {
            const struct pd_eks_policy_assoc *pa = &m->policies[i];
            json_t *ns = json_array();
            for (size_t k = 0; k < pa->nnamespaces; k++)
                json_array_append_new(ns, json_string(pa->namespaces[k]));
            json_array_append_new(
                pols, json_pack("{s:s, s:s, s:o}", "policy", pa->policy_arn, "scope",
                                pa->cluster_scope ? "cluster" : "namespace", "namespaces", ns));
        }
        json_object_set_new(o, "access_policies", pols);
    }
    if (m->line) {
        json_object_set_new(o, "entry", json_integer((json_int_t)m->index));
        json_object_set_new(o, "line", json_integer((json_int_t)m->line));
    }
    json_t *tr = json_array();
    for (size_t i = 0; i < m->ntrace; i++)
        json_array_append_new(tr, json_string(m->trace[i]));
    json_object_set_new(o, "trace", tr);
    return o;
}

static json_t *user_json(const struct pd_k8s_user *u)
{
    json_t *o = pd_k8s_user_info(u);
    if (!json_object_get(o, "username"))
        json_object_set_new(o, "username", json_string(""));
    if (u->arn)
        json_object_set_new(o, "arn", json_string(u->arn));
    if (u->mapped_by)
        json_object_set_new(o, "mapped_by", json_string(u->mapped_by));
    if (u->eks)
        json_object_set_new(o, "mapping", mapping_json(u->eks));
    json_object_del(o, "extra"); /* compact: the extras are in SelfSubjectReview */
    return o;
}

/* The decision log's entry for a request refused at authentication (401): the reason, and
 * for a verified IAM caller that maps to nobody, the mapping's steps. */
static void record_unauthenticated(struct pd_req *r, const struct pd_eks_cluster *c,
                                   const struct pd_k8s_user *u, const char *why)
{
    if (!r->env->decisions)
        return;
    char iso[32];
    pd_time_iso8601(pd_clock_now_ms(&r->env->clock), 1, iso);
    json_t *e = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[], s:s, s:b, s:s, s:{s:b, s:s}}", "time", iso,
        "request_id", r->request_id, "service", "k8s", "operation", r->op ? r->op->name : "",
        "cluster", c->name ? c->name : "", "principal", u->arn ? u->arn : "unknown", "mode",
        "enforce", "user", user_json(u), "checks", "decision", "unauthenticated", "allowed", 0,
        "message", "Unauthorized", "authentication", "authenticated", 0, "reason", why ? why : "");
    char id[24];
    pd_decisions_add(r->env->decisions, e, id);
    r->decision_id = pd_arena_strdup(&r->arena, id);
}

static void record(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    if (!json_array_size(x->checks) || !r->env->decisions)
        return;
    const struct pd_k8s_user *who = x->impersonating ? &x->real : &x->u;
    char iso[32];
    pd_time_iso8601(pd_clock_now_ms(&r->env->clock), 1, iso);
    const char *decision = "allowed";
    if (x->refusal) {
        decision = "implicitDeny";
        size_t i;
        json_t *c;
        json_array_foreach(x->checks, i, c)
        {
            const char *cd = json_string_value(json_object_get(c, "decision"));
            if (cd && strcmp(cd, "explicitDeny") == 0)
                decision = "explicitDeny";
        }
    }
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "time", iso, "request_id",
                          r->request_id, "service", "k8s", "operation", r->op ? r->op->name : "",
                          "cluster", x->c.name ? x->c.name : "", "principal",
                          who->arn        ? who->arn
                          : who->username ? who->username
                                          : "anonymous",
                          "mode", "enforce", "user", user_json(&x->u));
    if (x->impersonating)
        json_object_set_new(e, "impersonated_by", user_json(&x->real));
    json_object_set(e, "checks", x->checks);
    json_object_set_new(e, "decision", json_string(decision));
    json_object_set_new(e, "allowed", json_boolean(!x->refusal));
    if (x->refusal)
        json_object_set_new(e, "message", json_string(x->refusal));
    char id[24];
    pd_decisions_add(r->env->decisions, e, id);
    r->decision_id = pd_arena_strdup(&r->arena, id);
}

/* ---- the request ---- */

static int handle(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    int rc = pd_k8s_impersonate(x);
    if (rc)
        return rc == PD_EAWS ? PD_OK : rc;
    pd_k8s_request_info(&r->arena, r->method, x->p.rest, &x->q, &x->at);
    x->at.user = &x->u;
    struct pd_k8s_decision d;
    pd_k8s_authorize(&x->az, &x->at, x->checks, &d);
    if (d.verdict != PD_K8S_ALLOW) {
        if (x->u.anonymous && !x->impersonating) {
            /* podiam answers 401 where kube-apiserver (anonymous auth on) answers 403: kubectl
             * then says it is not logged in, which over plain http is the actual problem */
            x->refusal = "Unauthorized";
            return pd_k8s_fail(r, 401, "Unauthorized", NULL, "Unauthorized");
        }
        rc = pd_k8s_forbidden(x, &x->at, d.reason);
        return rc == PD_EAWS ? PD_OK : rc;
    }
    return serve_target(x);
}

static int serve(struct pd_req *r)
{
    struct pd_k8s_ctx x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.now_ms = pd_clock_now_ms(&r->env->clock);
    pd_k8s_parse_path(r->path, &x.p);
    x.res = x.p.res;
    if (pd_kvs_parse_form(&r->arena, &x.q, r->query, strlen(r->query), 1))
        return pd_k8s_fail(r, 400, "BadRequest", NULL, "malformed query string");
    if (pd_db_begin(r->db, 1))
        return pd_k8s_fail(r, 503, "ServiceUnavailable", NULL, "the state is busy; retry");
    int rc = pd_eks_cluster_by_id(r->db, &r->arena, x.p.cluster, &x.c);
    if (rc == PD_ENOTFOUND) {
        pd_db_rollback(r->db);
        return no_route(r);
    }
    if (rc == PD_OK) {
        x.system = 1;
        rc = pd_k8s_start(&x);
        x.system = 0;
    }
    const char *why = NULL;
    if (rc == PD_OK && (rc = pd_k8s_authenticate(r, &x.c, &x.u, &why)) != PD_OK) {
        if (rc != PD_ESIG) {
            pd_db_rollback(r->db);
            json_decref(x.u.extra);
            return pd_k8s_fail(r, 500, "InternalError", NULL, "Internal error occurred: %s",
                               pd_strerror(rc));
        }
        pd_log_req(PD_LOG_INFO, r->request_id, "k8s: authentication failed: %s", why ? why : "?");
        pd_k8s_fail(r, 401, "Unauthorized", NULL, "Unauthorized");
        pd_k8s_commit(r->env, r->db, x.c.id, &x.ev); /* the cluster's start, if it just happened */
        record_unauthenticated(r, &x.c, &x.u, why);
        json_decref(x.u.extra);
        return PD_OK;
    }
    x.checks = json_array();
    x.az = (struct pd_k8s_authz_env){r->db, &r->arena, &x.c,
                                     pd_k8s_rbac_store_new(&r->arena, r->db, x.c.id)};
    if (rc == PD_OK)
        rc = handle(&x);
    /* a refusal wrote nothing but maybe the cluster's start: commit whenever rc is PD_OK */
    if (rc == PD_OK) {
        rc = pd_k8s_commit(r->env, r->db, x.c.id, &x.ev); /* and publish to watchers */
    } else {
        pd_db_rollback(r->db);
        pd_k8s_pending_clear(&x.ev);
    }
    record(&x);
    json_decref(x.checks);
    json_decref(x.u.extra);
    if (x.impersonating)
        json_decref(x.real.extra);
    if (rc && !r->resp.status)
        pd_k8s_fail(r, 500, "InternalError", NULL, "Internal error occurred: %s", pd_strerror(rc));
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
        pd_k8s_fail(r, 413, "RequestEntityTooLarge", NULL, "Request entity too large: limit is %d",
                    PD_K8S_MAX_BODY);
        return 1;
    }
    int read = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    switch (p.target) {
    case PD_K8S_T_COLLECTION:
    case PD_K8S_T_OBJECT:
        r->op = p.res && (p.res->flags & PD_K8S_VIRTUAL) ? &ops[OP_REVIEW]
                                                         : &ops[read ? OP_READ : OP_WRITE];
        break;
    case PD_K8S_T_SUBRESOURCE:
        r->op = p.sub->post ? &ops[OP_TOKEN] : &ops[read ? OP_READ : OP_WRITE];
        break;
    default:
        /* unknown paths may still be resource requests (RequestInfo): authorized first */
        r->op = &ops[read ? OP_DISCOVERY : OP_WRITE];
    }
    return 1;
}

const struct pd_service pd_svc_k8s = {
    .name = "k8s",
    .proto = PD_PROTO_RAW,
    .ops = ops,
    .route = route,
};
