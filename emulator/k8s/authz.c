/*
 * authz.c - the authorizer chain of the Kubernetes API (see authz.h): the identity helpers,
 * the privileged-group member (system:masters), the union of [system:masters, EKS access
 * policies, RBAC] for one decision and for RulesFor, the check each decision leaves in the
 * decision log, and kube-apiserver's Forbidden message.
 */
#include "k8s/authz.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "k8s/rbac.h"

/* ---- system:masters (apiserver authorizerfactory.NewPrivilegedGroups) ---- */

#define PRIVILEGED_GROUP "system:masters"

/* Allow anything for a member of system:masters, with no reason (as kube-apiserver's
 * privilegedGroupAuthorizer); no opinion otherwise. */
static void masters_authorize(struct pd_k8s_authz_env *e, const struct pd_k8s_attrs *at,
                              struct pd_k8s_decision *OUT)
{
    (void)e;
    memset(OUT, 0, sizeof *OUT);
    OUT->reason = "";
    OUT->verdict = at->user && pd_k8s_user_in_group(at->user, PRIVILEGED_GROUP) ? PD_K8S_ALLOW
                                                                                : PD_K8S_NO_OPINION;
    if (OUT->verdict == PD_K8S_ALLOW)
        OUT->trace = json_pack("{s:s}", "group", PRIVILEGED_GROUP);
}

/* kube-apiserver adds this authorizer to the chain but not to the rule resolvers: it lists
 * nothing and is never incomplete. */
static void masters_rules_for(struct pd_k8s_authz_env *e, const struct pd_k8s_user *u,
                              const char *ns, struct pd_k8s_rule_list *OUT, int *OUT_incomplete,
                              const char **OUT_error)
{
    (void)e;
    (void)u;
    (void)ns;
    (void)OUT;
    *OUT_incomplete = 0;
    *OUT_error = NULL;
}

const struct pd_k8s_authorizer pd_k8s_authz_masters = {PRIVILEGED_GROUP, masters_authorize,
                                                       masters_rules_for};

/* The chain, in order (STYLE.md §15): system:masters, EKS access policies, RBAC; then
 * refusal. */
static const struct pd_k8s_authorizer *const chain[] = {&pd_k8s_authz_masters, &pd_k8s_authz_eks,
                                                        &pd_k8s_authz_rbac, NULL};

/* ---- the identity ---- */

void pd_k8s_user_add_group(struct pd_arena *a, struct pd_k8s_user *u, const char *g)
{
    u->groups = pd_arena_grow(a, u->groups, u->ngroups, &u->gcap, sizeof *u->groups);
    u->groups[u->ngroups++] = g;
}

int pd_k8s_user_in_group(const struct pd_k8s_user *u, const char *g)
{
    for (size_t i = 0; i < u->ngroups; i++)
        if (strcmp(u->groups[i], g) == 0)
            return 1;
    return 0;
}

json_t *pd_k8s_user_info(const struct pd_k8s_user *u)
{
    json_t *ui = json_object();
    if (u->username && *u->username)
        json_object_set_new(ui, "username", json_string(u->username));
    if (u->uid && *u->uid)
        json_object_set_new(ui, "uid", json_string(u->uid));
    if (u->ngroups) {
        json_t *groups = json_array();
        for (size_t i = 0; i < u->ngroups; i++)
            json_array_append_new(groups, json_string(u->groups[i]));
        json_object_set_new(ui, "groups", groups);
    }
    if (u->extra && json_object_size(u->extra))
        json_object_set(ui, "extra", u->extra);
    return ui;
}

/* ---- decisions ---- */

static const char *verdict_name(enum pd_k8s_verdict v)
{
    return v == PD_K8S_ALLOW ? "allow" : v == PD_K8S_DENY ? "deny" : "noOpinion";
}

static json_t *attrs_json(const struct pd_k8s_attrs *at)
{
    if (!at->resource_request)
        return json_pack("{s:s, s:s}", "verb", at->verb ? at->verb : "", "path",
                         at->path ? at->path : "");
    json_t *o =
        json_pack("{s:s, s:s, s:s}", "verb", at->verb ? at->verb : "", "apiGroup",
                  at->api_group ? at->api_group : "", "resource", at->resource ? at->resource : "");
    if (at->subresource && *at->subresource)
        json_object_set_new(o, "subresource", json_string(at->subresource));
    if (at->ns && *at->ns)
        json_object_set_new(o, "namespace", json_string(at->ns));
    if (at->name && *at->name)
        json_object_set_new(o, "name", json_string(at->name));
    return o;
}

/* "pods/log in namespace apps", "roles.rbac.authorization.k8s.io", "path /api". */
static const char *resource_text(struct pd_arena *a, const struct pd_k8s_attrs *at)
{
    if (!at->resource_request)
        return pd_arena_printf(a, "path %s", at->path ? at->path : "");
    const char *res = at->resource ? at->resource : "";
    if (at->api_group && *at->api_group)
        res = pd_arena_printf(a, "%s.%s", res, at->api_group);
    if (at->subresource && *at->subresource)
        res = pd_arena_printf(a, "%s/%s", res, at->subresource);
    if (at->name && *at->name)
        res = pd_arena_printf(a, "%s %s", res, at->name);
    if (at->ns && *at->ns)
        res = pd_arena_printf(a, "%s in namespace %s", res, at->ns);
    return res;
}

void pd_k8s_authorize(struct pd_k8s_authz_env *e, const struct pd_k8s_attrs *at, json_t *checks,
                      struct pd_k8s_decision *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->verdict = PD_K8S_NO_OPINION;
    OUT->reason = "";
    json_t *members = checks ? json_array() : NULL;
    const char *reasons[8];
    size_t nreasons = 0;
    const char *decided_by = "none";
    for (size_t i = 0; chain[i]; i++) {
        struct pd_k8s_decision d;
        chain[i]->authorize(e, at, &d);
        if (members) {
            json_t *m = json_pack("{s:s, s:s}", "authorizer", chain[i]->name, "decision",
                                  verdict_name(d.verdict));
            if (d.reason && *d.reason)
                json_object_set_new(m, "reason", json_string(d.reason));
            if (d.trace)
                json_object_set(m, "trace", d.trace);
            json_array_append_new(members, m);
        }
        json_decref(d.trace);
        if (d.reason && *d.reason && nreasons < sizeof reasons / sizeof *reasons)
            reasons[nreasons++] = d.reason;
        if (d.verdict != PD_K8S_NO_OPINION) {
            OUT->verdict = d.verdict;
            OUT->reason = d.reason ? d.reason : "";
            decided_by = chain[i]->name;
            break;
        }
    }
    if (OUT->verdict == PD_K8S_NO_OPINION && nreasons) {
        struct pd_buf b;
        pd_buf_init(&b, 0);
        for (size_t i = 0; i < nreasons; i++) {
            if (i)
                pd_buf_addc(&b, '\n');
            pd_buf_adds(&b, reasons[i]);
        }
        OUT->reason = pd_arena_strndup(e->a, pd_buf_str(&b), b.len);
        pd_buf_free(&b);
    }
    if (!checks)
        return;
    const char *dec = OUT->verdict == PD_K8S_ALLOW  ? "allowed"
                      : OUT->verdict == PD_K8S_DENY ? "explicitDeny"
                                                    : "implicitDeny";
    json_t *c = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o}", "action",
                          pd_arena_printf(e->a, "k8s:%s", at->verb ? at->verb : ""), "resource",
                          resource_text(e->a, at), "user",
                          at->user && at->user->username ? at->user->username : "", "attributes",
                          attrs_json(at), "decision", dec, "decided_by", decided_by, "authorizers",
                          members);
    if (*OUT->reason)
        json_object_set_new(c, "reason", json_string(OUT->reason));
    json_array_append_new(checks, c);
}

void pd_k8s_rules_for(struct pd_k8s_authz_env *e, const struct pd_k8s_user *u, const char *ns,
                      struct pd_k8s_rule_list *OUT, int *OUT_incomplete, const char **OUT_error)
{
    const char *errs[8];
    size_t nerrs = 0;
    *OUT_incomplete = 0;
    for (size_t i = 0; chain[i]; i++) {
        int incomplete = 0;
        const char *err = NULL;
        chain[i]->rules_for(e, u, ns, OUT, &incomplete, &err);
        *OUT_incomplete |= incomplete;
        if (err && *err && nerrs < sizeof errs / sizeof *errs)
            errs[nerrs++] = err;
    }
    *OUT_error = nerrs ? pd_k8s_aggregate_errors(e->a, errs, nerrs) : NULL;
}

/* ---- Forbidden (apiserver responsewriters/errors.go, apimachinery api/errors) ---- */

/* HTML-looking text is escaped, quotes are not. */
static const char *sanitize(struct pd_arena *a, const char *s)
{
    if (!strpbrk(s, "&<>"))
        return s;
    struct pd_buf b;
    pd_buf_init(&b, 0);
    for (const char *p = s; *p; p++) {
        if (*p == '&')
            pd_buf_adds(&b, "&amp;");
        else if (*p == '<')
            pd_buf_adds(&b, "&lt;");
        else if (*p == '>')
            pd_buf_adds(&b, "&gt;");
        else
            pd_buf_addc(&b, *p);
    }
    const char *out = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return out;
}

const char *pd_k8s_forbidden_message(struct pd_arena *a, const struct pd_k8s_attrs *at,
                                     const char *reason, json_t **OUT_details)
{
    const char *user = pd_k8s_goquote(a, at->user && at->user->username ? at->user->username : "");
    const char *verb = at->verb ? at->verb : "";
    const char *msg;
    if (!at->resource_request) {
        msg = pd_arena_printf(a, "User %s cannot %s path %s", user, verb,
                              pd_k8s_goquote(a, at->path ? at->path : ""));
    } else {
        const char *res = at->resource ? at->resource : "";
        if (at->subresource && *at->subresource)
            res = pd_arena_printf(a, "%s/%s", res, at->subresource);
        const char *group = pd_k8s_goquote(a, at->api_group ? at->api_group : "");
        if (at->ns && *at->ns)
            msg = pd_arena_printf(a,
                                  "User %s cannot %s resource %s in API group %s in the "
                                  "namespace %s",
                                  user, verb, pd_k8s_goquote(a, res), group,
                                  pd_k8s_goquote(a, at->ns));
        else
            msg = pd_arena_printf(a,
                                  "User %s cannot %s resource %s in API group %s at the "
                                  "cluster scope",
                                  user, verb, pd_k8s_goquote(a, res), group);
    }
    msg = sanitize(a, msg);
    if (reason && *reason)
        msg = pd_arena_printf(a, "%s: %s", msg, reason);
    json_t *d = json_object();
    const char *res = at->resource_request && at->resource ? at->resource : "";
    const char *group = at->resource_request && at->api_group ? at->api_group : "";
    const char *name = at->resource_request && at->name ? at->name : "";
    if (*name)
        json_object_set_new(d, "name", json_string(name));
    if (*group)
        json_object_set_new(d, "group", json_string(group));
    if (*res)
        json_object_set_new(d, "kind", json_string(res));
    *OUT_details = d;
    if (!*res && !*group)
        return pd_arena_printf(a, "forbidden: %s", msg);
    const char *qualified = *group ? pd_arena_printf(a, "%s.%s", res, group) : res;
    if (!*name)
        return pd_arena_printf(a, "%s is forbidden: %s", qualified, msg);
    return pd_arena_printf(a, "%s %s is forbidden: %s", qualified, pd_k8s_goquote(a, name), msg);
}
