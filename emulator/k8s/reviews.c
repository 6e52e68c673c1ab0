/*
 * reviews.c - the review kinds (virtual rows of kinds.c: created, answered, never stored):
 * SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview (`can-i --list`),
 * SubjectAccessReview and LocalSubjectAccessReview (about another user; creating them needs
 * permission, which the request's own authorization checked), SelfSubjectReview (`kubectl
 * auth whoami`). Each evaluation goes through the same authorizer chain as requests and is
 * recorded in the request's decision-log entry, marked as a review. Validation messages and
 * answers follow kubernetes pkg/registry/authorization and pkg/apis/authorization/validation.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "k8s/internal.h"
#include "req.h"

#define AUTHZ_V1 "authorization.k8s.io/v1"

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Go's %#v of a NonResourceAttributes. */
static const char *nra_str(struct pd_arena *a, const json_t *nra)
{
    return pd_arena_printf(a, "authorization.NonResourceAttributes{Path:%s, Verb:%s}",
                           pd_k8s_goquote(a, jstr(nra, "path")),
                           pd_k8s_goquote(a, jstr(nra, "verb")));
}

/* ValidateSubjectAccessReviewSpec (self: no user check). */
static void validate_spec(struct pd_arena *a, const json_t *spec, int self,
                          struct pd_k8s_field_errs *e)
{
    const json_t *ra = json_object_get(spec, "resourceAttributes");
    const json_t *nra = json_object_get(spec, "nonResourceAttributes");
    int has_ra = json_is_object(ra), has_nra = json_is_object(nra);
    if (has_ra && has_nra)
        pd_k8s_ferr_invalid(a, e, "spec.nonResourceAttributes", nra_str(a, nra),
                            "cannot be specified in combination with resourceAttributes");
    if (!has_ra && !has_nra)
        pd_k8s_ferr_invalid(a, e, "spec.resourceAttributes", "\"null\"",
                            "exactly one of nonResourceAttributes or resourceAttributes must be "
                            "specified");
    if (!self && !*jstr(spec, "user") && !json_array_size(json_object_get(spec, "groups")))
        pd_k8s_ferr_invalid(a, e, "spec.user", pd_k8s_goquote(a, jstr(spec, "user")),
                            "at least one of user or group must be specified");
}

/* ResourceAttributesFrom / NonResourceAttributesFrom. */
static void attrs_from(struct pd_arena *a, const json_t *spec, const struct pd_k8s_user *u,
                       struct pd_k8s_attrs *at)
{
    const json_t *ra = json_object_get(spec, "resourceAttributes");
    memset(at, 0, sizeof *at);
    at->user = u;
    if (json_is_object(ra)) {
        at->resource_request = 1;
        at->verb = pd_arena_strdup(a, jstr(ra, "verb"));
        at->ns = pd_arena_strdup(a, jstr(ra, "namespace"));
        at->api_group = pd_arena_strdup(a, jstr(ra, "group"));
        at->api_version = *jstr(ra, "version") ? pd_arena_strdup(a, jstr(ra, "version")) : "*";
        at->resource = pd_arena_strdup(a, jstr(ra, "resource"));
        at->subresource = pd_arena_strdup(a, jstr(ra, "subresource"));
        at->name = pd_arena_strdup(a, jstr(ra, "name"));
        at->path = "";
    } else {
        const json_t *nra = json_object_get(spec, "nonResourceAttributes");
        at->verb = pd_arena_strdup(a, jstr(nra, "verb"));
        at->path = pd_arena_strdup(a, jstr(nra, "path"));
        at->api_group = at->api_version = at->resource = at->subresource = at->ns = at->name = "";
    }
}

/* Evaluate at, record it as a review in the decision log, and answer 201 with the review
 * (kind, spec echoed, status). */
static int answer(struct pd_k8s_ctx *x, const char *review, json_t *metadata, const json_t *spec,
                  const struct pd_k8s_attrs *at)
{
    struct pd_k8s_decision d;
    pd_k8s_authorize(&x->az, at, x->checks, &d);
    json_t *last = json_array_get(x->checks, json_array_size(x->checks) - 1);
    json_object_set_new(last, "review", json_string(review));
    json_t *status = json_pack("{s:b}", "allowed", d.verdict == PD_K8S_ALLOW);
    if (d.verdict == PD_K8S_DENY)
        json_object_set_new(status, "denied", json_true());
    if (d.reason && *d.reason)
        json_object_set_new(status, "reason", json_string(d.reason));
    json_object_set_new(metadata, "creationTimestamp", json_null());
    return pd_req_reply_json(x->r, 201,
                             json_pack("{s:s, s:s, s:o, s:O, s:o}", "kind", review, "apiVersion",
                                       AUTHZ_V1, "metadata", metadata, "spec", spec, "status",
                                       status));
}

/* The review body's metadata, copied (an object). */
static json_t *meta_copy(const json_t *body)
{
    json_t *md = json_object_get(body, "metadata");
    return json_is_object(md) ? json_deep_copy(md) : json_object();
}

static int ssar_post(struct pd_k8s_ctx *x, json_t *body)
{
    struct pd_arena *a = &x->r->arena;
    int rc = pd_k8s_check_kind(x, body, "SelfSubjectAccessReview", AUTHZ_V1);
    json_t *spec = json_object_get(body, "spec");
    struct pd_k8s_field_errs e = {0};
    if (rc == PD_OK) {
        validate_spec(a, spec, 1, &e);
        rc = pd_k8s_invalid(x, x->res, "", &e);
    }
    if (rc == PD_OK) {
        struct pd_k8s_attrs at;
        attrs_from(a, spec, &x->u, &at);
        json_t *sp = json_is_object(spec) ? json_incref(spec) : json_object();
        rc = answer(x, "SelfSubjectAccessReview", meta_copy(body), sp, &at);
        json_decref(sp);
    }
    json_decref(body);
    return rc;
}

/* The user a SubjectAccessReview asks about: spec.user, groups, extra, uid as given. */
static void spec_user(struct pd_arena *a, const json_t *spec, struct pd_k8s_user *u)
{
    memset(u, 0, sizeof *u);
    u->username = pd_arena_strdup(a, jstr(spec, "user"));
    u->uid = pd_arena_strdup(a, jstr(spec, "uid"));
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(spec, "groups"), i, g)
    {
        if (json_is_string(g))
            pd_k8s_user_add_group(a, u, pd_arena_strdup(a, json_string_value(g)));
    }
    json_t *extra = json_object_get(spec, "extra");
    u->extra = json_is_object(extra) ? extra : NULL; /* borrowed from the body */
    u->mapped_by = "SubjectAccessReview spec";
}

static int sar_common(struct pd_k8s_ctx *x, json_t *body, const char *kind, int local)
{
    struct pd_arena *a = &x->r->arena;
    int rc = pd_k8s_check_kind(x, body, kind, AUTHZ_V1);
    json_t *spec = json_object_get(body, "spec");
    json_t *md = meta_copy(body);
    if (rc == PD_OK && local) {
        /* the object's namespace is the request's (EnsureObjectNamespaceMatchesRequestNamespace) */
        const char *mns = jstr(md, "namespace");
        if (*mns && strcmp(mns, x->p.ns) != 0)
            rc = pd_k8s_bad_request(x, "the namespace of the provided object does not match the "
                                       "namespace sent on the request");
        else
            json_object_set_new(md, "namespace", json_string(x->p.ns));
    }
    struct pd_k8s_field_errs e = {0};
    if (rc == PD_OK) {
        validate_spec(a, spec, 0, &e);
        if (local) {
            const json_t *ra = json_object_get(spec, "resourceAttributes");
            const json_t *nra = json_object_get(spec, "nonResourceAttributes");
            if (json_is_object(ra) && strcmp(jstr(ra, "namespace"), x->p.ns) != 0)
                pd_k8s_ferr_invalid(a, &e, "spec.resourceAttributes.namespace",
                                    pd_k8s_goquote(a, jstr(ra, "namespace")),
                                    "must match metadata.namespace");
            if (json_is_object(nra))
                pd_k8s_ferr_invalid(a, &e, "spec.nonResourceAttributes", nra_str(a, nra),
                                    "disallowed on this kind of request");
        }
        rc = pd_k8s_invalid(x, x->res, "", &e);
    }
    if (rc == PD_OK) {
        struct pd_k8s_user u;
        spec_user(a, spec, &u);
        struct pd_k8s_attrs at;
        attrs_from(a, spec, &u, &at);
        json_t *sp = json_incref(spec);
        rc = answer(x, kind, md, sp, &at);
        md = NULL;
        json_decref(sp);
    }
    json_decref(md);
    json_decref(body);
    return rc;
}

static int sar_post(struct pd_k8s_ctx *x, json_t *body)
{
    return sar_common(x, body, "SubjectAccessReview", 0);
}

static int lsar_post(struct pd_k8s_ctx *x, json_t *body)
{
    return sar_common(x, body, "LocalSubjectAccessReview", 1);
}

static json_t *strs(const char *const *v)
{
    json_t *arr = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(arr, json_string(v[i]));
    return arr;
}

static int ssrr_post(struct pd_k8s_ctx *x, json_t *body)
{
    int rc = pd_k8s_check_kind(x, body, "SelfSubjectRulesReview", AUTHZ_V1);
    const char *ns = jstr(json_object_get(body, "spec"), "namespace");
    if (rc == PD_OK && !*ns)
        rc = pd_k8s_bad_request(x, "no namespace on request");
    if (rc == PD_OK) {
        struct pd_k8s_rule_list rules = {0};
        int incomplete = 0;
        const char *err = NULL;
        pd_k8s_rules_for(&x->az, &x->u, ns, &rules, &incomplete, &err);
        json_t *rr = json_array(), *nrr = json_array();
        for (size_t i = 0; i < rules.n; i++) {
            const struct pd_k8s_rule *r = &rules.v[i];
            if (r->resources && r->resources[0]) {
                json_t *o = json_pack("{s:o}", "verbs", strs(r->verbs));
                if (r->api_groups && r->api_groups[0])
                    json_object_set_new(o, "apiGroups", strs(r->api_groups));
                json_object_set_new(o, "resources", strs(r->resources));
                if (r->resource_names && r->resource_names[0])
                    json_object_set_new(o, "resourceNames", strs(r->resource_names));
                json_array_append_new(rr, o);
            }
            if (r->non_resource_urls && r->non_resource_urls[0])
                json_array_append_new(nrr,
                                      json_pack("{s:o, s:o}", "verbs", strs(r->verbs),
                                                "nonResourceURLs", strs(r->non_resource_urls)));
        }
        json_t *status = json_pack("{s:o, s:o, s:b}", "resourceRules", rr, "nonResourceRules", nrr,
                                   "incomplete", incomplete);
        if (err)
            json_object_set_new(status, "evaluationError", json_string(err));
        json_array_append_new(x->checks,
                              json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "action", "k8s:rules",
                                        "resource", ns, "user", x->u.username ? x->u.username : "",
                                        "review", "SelfSubjectRulesReview", "rules",
                                        (json_int_t)rules.n, "incomplete", incomplete));
        rc =
            pd_req_reply_json(x->r, 201,
                              json_pack("{s:s, s:s, s:{s:n}, s:{}, s:o}", "kind",
                                        "SelfSubjectRulesReview", "apiVersion", AUTHZ_V1,
                                        "metadata", "creationTimestamp", "spec", "status", status));
    }
    json_decref(body);
    return rc;
}

static int ssr_post(struct pd_k8s_ctx *x, json_t *body)
{
    int rc = pd_k8s_check_kind(x, body, "SelfSubjectReview", "authentication.k8s.io/v1");
    if (rc == PD_OK)
        rc = pd_req_reply_json(
            x->r, 201,
            json_pack("{s:s, s:s, s:{s:n}, s:{s:o}}", "kind", "SelfSubjectReview", "apiVersion",
                      "authentication.k8s.io/v1", "metadata", "creationTimestamp", "status",
                      "userInfo", pd_k8s_user_info(&x->u)));
    json_decref(body);
    return rc;
}

const struct pd_k8s_hooks pd_k8s_ssar_hooks = {.post = ssar_post};
const struct pd_k8s_hooks pd_k8s_sar_hooks = {.post = sar_post};
const struct pd_k8s_hooks pd_k8s_lsar_hooks = {.post = lsar_post};
const struct pd_k8s_hooks pd_k8s_ssrr_hooks = {.post = ssrr_post};
const struct pd_k8s_hooks pd_k8s_ssr_hooks = {.post = ssr_post};
