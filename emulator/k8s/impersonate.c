/*
 * impersonate.c - the Impersonate-User, Impersonate-Group, Impersonate-Uid and
 * Impersonate-Extra-<key> headers, as kube-apiserver's impersonation filter handles them
 * (apiserver pkg/endpoints/filters/impersonation.go; reference/kubernetes-access-facts.md
 * §3): each thing asked for is authorized for the authenticated user with the verb
 * impersonate on users / serviceaccounts / groups (core) or userextras/<key> / uids
 * (authentication.k8s.io); any refusal is kube's 403; otherwise the request continues as the
 * impersonated user, who carries no IAM ARN (so EKS access policies do not apply, as on EKS).
 *
 * It runs once per request, before authorization, and the impersonated user cannot
 * impersonate further: there is no chain to follow, and a user allowed to impersonate B
 * cannot reach C through B.
 */
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "k8s/internal.h"
#include "req.h"

#define EXTRA_PREFIX "impersonate-extra-"
#define SA_PREFIX "system:serviceaccount:"

/* One thing to impersonate (kube's ObjectReference). */
struct want {
    const char *kind; /* ServiceAccount, User, Group, UserExtra, UID */
    const char *ns, *name, *api_version, *field_path;
};

/* serviceaccount.SplitUsername: system:serviceaccount:<ns>:<name> with a valid namespace
 * (DNS label) and name (DNS subdomain). 1 with *ns, *name set; 0 otherwise. */
static int split_sa(struct pd_arena *a, const char *user, const char **ns, const char **name)
{
    if (!pd_has_prefix(user, SA_PREFIX))
        return 0;
    const char *rest = user + strlen(SA_PREFIX);
    const char *colon = strchr(rest, ':');
    if (!colon || strchr(colon + 1, ':'))
        return 0;
    char *n = pd_arena_strndup(a, rest, (size_t)(colon - rest));
    if (pd_k8s_name_problem(PD_K8S_NAME_LABEL, n) ||
        pd_k8s_name_problem(PD_K8S_NAME_SUBDOMAIN, colon + 1))
        return 0;
    *ns = n;
    *name = colon + 1;
    return 1;
}

/* %v of an ObjectReference: {Kind Namespace Name UID APIVersion ResourceVersion FieldPath}. */
static const char *ref_str(struct pd_arena *a, const struct want *w)
{
    return pd_arena_printf(a, "{%s %s %s  %s  %s}", w->kind, w->ns ? w->ns : "", w->name,
                           w->api_version ? w->api_version : "",
                           w->field_path ? w->field_path : "");
}

/* url.PathUnescape, or key as is when it is not a valid escape. */
static const char *unescape_key(struct pd_arena *a, const char *key)
{
    char *out;
    size_t n;
    if (pd_url_decode(a, key, strlen(key), 0, &out, &n) || strlen(out) != n)
        return key;
    return out;
}

int pd_k8s_impersonate(struct pd_k8s_ctx *x)
{
    struct pd_req *r = x->r;
    struct pd_arena *a = &r->arena;
    const struct pd_kvs *h = &r->hdrs;
    size_t nwant = 0, cap = 0;
    struct want *w = NULL;
    int has_user = 0, has_groups = 0, has_other = 0;
    const char *user = pd_kvs_get(h, "impersonate-user", 1);
    if (user && *user) {
        has_user = 1;
        w = pd_arena_grow(a, w, nwant, &cap, sizeof *w);
        struct want *u = &w[nwant++];
        memset(u, 0, sizeof *u);
        if (split_sa(a, user, &u->ns, &u->name)) {
            u->kind = "ServiceAccount";
        } else {
            u->kind = "User";
            u->name = user;
        }
    }
    for (size_t i = 0; i < h->n; i++)
        if (pd_strcaseeq(h->v[i].name, "impersonate-group")) {
            has_groups = 1;
            w = pd_arena_grow(a, w, nwant, &cap, sizeof *w);
            w[nwant++] = (struct want){"Group", NULL, h->v[i].value, NULL, NULL};
        }
    for (size_t i = 0; i < h->n; i++)
        if (strlen(h->v[i].name) >= strlen(EXTRA_PREFIX) &&
            pd_strncaseeq(h->v[i].name, EXTRA_PREFIX, strlen(EXTRA_PREFIX))) {
            has_other = 1;
            char *key = pd_arena_strdup(a, h->v[i].name + strlen(EXTRA_PREFIX));
            pd_lower(key);
            w = pd_arena_grow(a, w, nwant, &cap, sizeof *w);
            w[nwant++] = (struct want){"UserExtra", NULL, h->v[i].value, "authentication.k8s.io/v1",
                                       unescape_key(a, key)};
        }
    const char *uid = pd_kvs_get(h, "impersonate-uid", 1);
    if (uid && *uid) {
        has_other = 1;
        w = pd_arena_grow(a, w, nwant, &cap, sizeof *w);
        w[nwant++] = (struct want){"UID", NULL, uid, "authentication.k8s.io/v1", NULL};
    }
    if (!nwant)
        return PD_OK;
    if ((has_groups || has_other) && !has_user) {
        const char **refs = pd_arena_alloc(a, nwant * sizeof *refs);
        for (size_t i = 0; i < nwant; i++)
            refs[i] = ref_str(a, &w[i]);
        struct pd_buf b;
        pd_buf_init(&b, 0);
        for (size_t i = 0; i < nwant; i++) {
            if (i)
                pd_buf_addc(&b, ' ');
            pd_buf_adds(&b, refs[i]);
        }
        const char *msg =
            pd_arena_printf(a, "requested [%s] without impersonating a user", pd_buf_str(&b));
        pd_buf_free(&b);
        x->refusal = msg;
        pd_k8s_fail(r, 400, "BadRequest", NULL, "%s", msg);
        return PD_EAWS;
    }

    struct pd_k8s_user nu;
    memset(&nu, 0, sizeof nu);
    nu.extra = json_object();
    for (size_t i = 0; i < nwant; i++) {
        struct pd_k8s_attrs at = {.user = &x->u,
                                  .verb = "impersonate",
                                  .resource_request = 1,
                                  .api_group = "",
                                  .api_version = "v1",
                                  .resource = "",
                                  .subresource = "",
                                  .ns = w[i].ns ? w[i].ns : "",
                                  .name = w[i].name,
                                  .path = x->p.rest};
        if (strcmp(w[i].kind, "ServiceAccount") == 0) {
            at.resource = "serviceaccounts";
            nu.username = pd_arena_printf(a, SA_PREFIX "%s:%s", w[i].ns, w[i].name);
            if (!has_groups) {
                pd_k8s_user_add_group(a, &nu, "system:serviceaccounts");
                pd_k8s_user_add_group(a, &nu,
                                      pd_arena_printf(a, "system:serviceaccounts:%s", w[i].ns));
            }
        } else if (strcmp(w[i].kind, "User") == 0) {
            at.resource = "users";
            nu.username = w[i].name;
        } else if (strcmp(w[i].kind, "Group") == 0) {
            at.resource = "groups";
            pd_k8s_user_add_group(a, &nu, w[i].name);
        } else if (strcmp(w[i].kind, "UserExtra") == 0) {
            at.api_group = "authentication.k8s.io";
            at.resource = "userextras";
            at.subresource = w[i].field_path;
            json_t *list = json_object_get(nu.extra, w[i].field_path);
            if (!list) {
                list = json_array();
                json_object_set_new(nu.extra, w[i].field_path, list);
            }
            json_array_append_new(list, json_string(w[i].name));
        } else {
            at.api_group = "authentication.k8s.io";
            at.resource = "uids";
            nu.uid = w[i].name;
        }
        struct pd_k8s_decision d;
        pd_k8s_authorize(&x->az, &at, x->checks, &d);
        if (d.verdict != PD_K8S_ALLOW) {
            json_decref(nu.extra);
            pd_k8s_forbidden(x, &at, d.reason);
            return PD_EAWS;
        }
    }
    if (strcmp(nu.username, "system:anonymous") != 0) {
        if (!pd_k8s_user_in_group(&nu, "system:authenticated") &&
            !pd_k8s_user_in_group(&nu, "system:unauthenticated"))
            pd_k8s_user_add_group(a, &nu, "system:authenticated");
    } else if (!pd_k8s_user_in_group(&nu, "system:unauthenticated")) {
        pd_k8s_user_add_group(a, &nu, "system:unauthenticated");
    }
    if (!json_object_size(nu.extra)) {
        json_decref(nu.extra);
        nu.extra = NULL;
    }
    nu.mapped_by = pd_arena_printf(a, "impersonated by %s (Impersonate-* headers)",
                                   x->u.username ? x->u.username : "");
    x->real = x->u;
    x->u = nu;
    x->impersonating = 1;
    return PD_OK;
}
