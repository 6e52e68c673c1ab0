/*
 * rbac_objects.c - the RBAC kinds' own behaviour (hooks of the Role, ClusterRole, RoleBinding
 * and ClusterRoleBinding rows of kinds.c): defaults, validation, roleRef immutability,
 * escalation prevention, the ClusterRole aggregation controller, and the bootstrap
 * ClusterRoles and ClusterRoleBindings every cluster starts with (rbac_bootstrap.json).
 *
 * Semantics: kubernetes pkg/apis/rbac/validation, pkg/apis/rbac/v1/defaults.go,
 * pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased,
 * pkg/registry/rbac/escalation_check.go, pkg/registry/rbac/validation/rule.go,
 * pkg/controller/clusterroleaggregation; reference/kubernetes-access-facts.md §1.
 * Escalation checks are skipped for podiam's own writes (x->system: fixtures, bootstrap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "embedded.h"
#include "k8s/internal.h"
#include "k8s/rbac.h"
#include "req.h"
#include "store/k8s_db.h"

#define RBAC PD_K8S_RBAC_GROUP
#define BOOTSTRAP_KEY "podiam:bootstrap" /* a row no kind serves: the bootstrap's version */
#define MAX_AGGREGATION_PASSES 16

/* ---- texts ---- */

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Go's %#v of a []string: []string{"a", "b"}. */
static const char *go_slice(struct pd_arena *a, const json_t *arr)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_adds(&b, "[]string{");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (i)
            pd_buf_adds(&b, ", ");
        pd_buf_adds(&b, pd_k8s_goquote(a, json_string_value(v) ? json_string_value(v) : ""));
    }
    pd_buf_addc(&b, '}');
    const char *out = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return out;
}

static const char *role_ref_str(struct pd_arena *a, const json_t *ref)
{
    return pd_arena_printf(
        a, "rbac.RoleRef{APIGroup:%s, Kind:%s, Name:%s}", pd_k8s_goquote(a, jstr(ref, "apiGroup")),
        pd_k8s_goquote(a, jstr(ref, "kind")), pd_k8s_goquote(a, jstr(ref, "name")));
}

static const char *path_i(struct pd_arena *a, const char *base, size_t i, const char *field)
{
    return pd_arena_printf(a, "%s[%zu].%s", base, i, field);
}

/* ---- validation (pkg/apis/rbac/validation/validation.go) ---- */

static void validate_rules(struct pd_arena *a, const json_t *rules, int namespaced,
                           struct pd_k8s_field_errs *e)
{
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        if (!json_array_size(json_object_get(r, "verbs")))
            pd_k8s_ferr_required(a, e, path_i(a, "rules", i, "verbs"),
                                 "verbs must contain at least one value");
        json_t *urls = json_object_get(r, "nonResourceURLs");
        if (json_array_size(urls)) {
            if (namespaced)
                pd_k8s_ferr_invalid(a, e, path_i(a, "rules", i, "nonResourceURLs"),
                                    go_slice(a, urls),
                                    "namespaced rules cannot apply to non-resource URLs");
            if (json_array_size(json_object_get(r, "apiGroups")) ||
                json_array_size(json_object_get(r, "resources")) ||
                json_array_size(json_object_get(r, "resourceNames")))
                pd_k8s_ferr_invalid(a, e, path_i(a, "rules", i, "nonResourceURLs"),
                                    go_slice(a, urls),
                                    "rules cannot apply to both regular resources and "
                                    "non-resource URLs");
            continue;
        }
        if (!json_array_size(json_object_get(r, "apiGroups")))
            pd_k8s_ferr_required(a, e, path_i(a, "rules", i, "apiGroups"),
                                 "resource rules must supply at least one api group");
        if (!json_array_size(json_object_get(r, "resources")))
            pd_k8s_ferr_required(a, e, path_i(a, "rules", i, "resources"),
                                 "resource rules must supply at least one resource");
    }
}

static void validate_aggregation(struct pd_arena *a, const json_t *agg, struct pd_k8s_field_errs *e)
{
    if (!agg || json_is_null(agg))
        return;
    json_t *sels = json_object_get(agg, "clusterRoleSelectors");
    if (!json_array_size(sels)) {
        pd_k8s_ferr_required(a, e, "aggregationRule.clusterRoleSelectors",
                             "at least one clusterRoleSelector required if aggregationRule is "
                             "non-nil");
        return;
    }
    size_t i;
    json_t *s;
    json_array_foreach(sels, i, s)
    {
        json_t *empty = json_object();
        if (json_is_object(s) && pd_k8s_label_selector_match(s, empty) < 0)
            pd_k8s_ferr_invalid(a, e,
                                pd_arena_printf(a, "aggregationRule.clusterRoleSelectors[%zu]", i),
                                "metav1.LabelSelector{…}", "invalid label selector.");
        json_decref(empty);
    }
}

static void validate_subjects(struct pd_arena *a, const json_t *subs, int namespaced,
                              struct pd_k8s_field_errs *e)
{
    size_t i;
    json_t *s;
    json_array_foreach(subs, i, s)
    {
        const char *name = jstr(s, "name"), *kind = jstr(s, "kind");
        const char *group = jstr(s, "apiGroup");
        if (!*name)
            pd_k8s_ferr_required(a, e, path_i(a, "subjects", i, "name"), "");
        if (strcmp(kind, "ServiceAccount") == 0) {
            const char *why = *name ? pd_k8s_name_problem(PD_K8S_NAME_SUBDOMAIN, name) : NULL;
            if (why)
                pd_k8s_ferr_invalid(a, e, path_i(a, "subjects", i, "name"), pd_k8s_goquote(a, name),
                                    why);
            if (*group)
                pd_k8s_ferr_unsupported(a, e, path_i(a, "subjects", i, "apiGroup"),
                                        pd_k8s_goquote(a, group), "\"\"");
            if (!namespaced && !*jstr(s, "namespace"))
                pd_k8s_ferr_required(a, e, path_i(a, "subjects", i, "namespace"), "");
        } else if (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0) {
            if (strcmp(group, RBAC) != 0)
                pd_k8s_ferr_unsupported(a, e, path_i(a, "subjects", i, "apiGroup"),
                                        pd_k8s_goquote(a, group), "\"" RBAC "\"");
        } else {
            pd_k8s_ferr_unsupported(a, e, path_i(a, "subjects", i, "kind"), pd_k8s_goquote(a, kind),
                                    "\"ServiceAccount\", \"User\", \"Group\"");
        }
    }
}

static void validate_binding(struct pd_arena *a, const json_t *obj, int cluster,
                             struct pd_k8s_field_errs *e)
{
    const json_t *ref = json_object_get(obj, "roleRef");
    if (strcmp(jstr(ref, "apiGroup"), RBAC) != 0)
        pd_k8s_ferr_unsupported(a, e, "roleRef.apiGroup", pd_k8s_goquote(a, jstr(ref, "apiGroup")),
                                "\"" RBAC "\"");
    const char *kind = jstr(ref, "kind");
    if (cluster ? strcmp(kind, "ClusterRole") != 0
                : strcmp(kind, "Role") != 0 && strcmp(kind, "ClusterRole") != 0)
        pd_k8s_ferr_unsupported(a, e, "roleRef.kind", pd_k8s_goquote(a, kind),
                                cluster ? "\"ClusterRole\"" : "\"Role\", \"ClusterRole\"");
    const char *name = jstr(ref, "name");
    if (!*name) {
        pd_k8s_ferr_required(a, e, "roleRef.name", "");
    } else {
        const char *why = pd_k8s_name_problem(PD_K8S_NAME_PATHSEG, name);
        if (why)
            pd_k8s_ferr_invalid(a, e, "roleRef.name", pd_k8s_goquote(a, name), why);
    }
    validate_subjects(a, json_object_get(obj, "subjects"), !cluster, e);
}

/* ---- escalation prevention ---- */

/* Authorize at for escalation prevention; the decision log says what the check was for. */
static int allowed_for(struct pd_k8s_ctx *x, const struct pd_k8s_attrs *at, const char *purpose)
{
    int ok = pd_k8s_allowed(x, at);
    json_t *last = json_array_get(x->checks, json_array_size(x->checks) - 1);
    json_object_set_new(last, "purpose", json_string(purpose));
    return ok;
}

/* EscalationAllowed: system:masters may write any role or binding. */
static int escalation_allowed(const struct pd_k8s_ctx *x)
{
    return x->system || pd_k8s_user_in_group(&x->u, "system:masters");
}

/* ConfirmNoEscalation: does the user hold every rule of rules in ns (by RBAC)? PD_OK, or
 * PD_EAWS with the 403 answered for res/name. */
static int confirm_no_escalation(struct pd_k8s_ctx *x, const struct pd_k8s_res *res,
                                 const char *name, const char *ns, const struct pd_k8s_rule *rules,
                                 size_t nrules, const char *fixed_message)
{
    struct pd_arena *a = &x->r->arena;
    struct pd_k8s_rule_list owner = {0}, missing = {0};
    const char *err = NULL;
    pd_k8s_rbac_rules_for(pd_k8s_rbac_store_source(x->az.rbac), a, &x->u, ns, &owner, &err);
    int rc = pd_k8s_rbac_covers(a, owner.v, owner.n, rules, nrules, &missing);
    json_t *check = json_pack(
        "{s:s, s:s, s:s, s:s}", "action", "k8s:escalation-check", "resource",
        pd_arena_printf(a, "%s %s%s%s", res->qualified, name, *ns ? " in namespace " : "", ns),
        "user", x->u.username ? x->u.username : "", "purpose",
        "the user must hold every permission the object grants");
    if (rc == PD_ETOOBIG) {
        json_object_set_new(check, "decision", json_string("implicitDeny"));
        json_array_append_new(x->checks, check);
        return pd_k8s_forbidden_obj(
            x, res, name,
            pd_arena_printf(a,
                            "podiam: the rules expand to more than %d single permissions; "
                            "the escalation check was not made",
                            PD_K8S_MAX_BREAKDOWN));
    }
    json_object_set_new(check, "decision", json_string(missing.n ? "implicitDeny" : "allowed"));
    if (missing.n)
        json_object_set_new(check, "missing", json_string(pd_k8s_rbac_missing_str(a, &missing)));
    json_array_append_new(x->checks, check);
    if (!missing.n)
        return PD_OK;
    if (fixed_message)
        return pd_k8s_forbidden_obj(x, res, name, fixed_message);
    const char *msg = pd_arena_printf(
        a, "user %s (groups=%s) is attempting to grant RBAC permissions not currently held:\n%s",
        pd_k8s_goquote(a, x->u.username ? x->u.username : ""),
        pd_k8s_goquote_list(a, x->u.groups, x->u.ngroups), pd_k8s_rbac_missing_str(a, &missing));
    if (err)
        msg = pd_arena_printf(a, "%s; resolution errors: [%s]", msg, err);
    return pd_k8s_forbidden_obj(x, res, name, msg);
}

/* RoleEscalationAuthorized: escalate on roles / clusterroles (the request's name). */
static int escalate_authorized(struct pd_k8s_ctx *x)
{
    struct pd_k8s_attrs at = {.user = &x->u,
                              .verb = "escalate",
                              .resource_request = 1,
                              .api_group = RBAC,
                              .api_version = "*",
                              .resource = x->res->name,
                              .subresource = "",
                              .ns = x->p.ns,
                              .name = x->p.name,
                              .path = x->p.rest};
    return allowed_for(x, &at,
                       "escalation prevention: escalate lets a user grant what it does "
                       "not hold");
}

/* IsOnlyMutatingGCFields: only ownerReferences / finalizers changed. */
static int only_gc_fields(const json_t *obj, const json_t *old)
{
    json_t *a = json_deep_copy(obj), *b = json_deep_copy(old);
    static const char *const gc[] = {"ownerReferences", "finalizers", "resourceVersion",
                                     "managedFields", NULL};
    for (const char *const *k = gc; *k; k++) {
        json_object_del(json_object_get(a, "metadata"), *k);
        json_object_del(json_object_get(b, "metadata"), *k);
    }
    int same = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    return same;
}

static int role_escalation(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)
{
    if (escalation_allowed(x) || escalate_authorized(x))
        return PD_OK;
    if (old && only_gc_fields(obj, old))
        return PD_OK;
    struct pd_arena *a = &x->r->arena;
    int cluster = !PD_K8S_NAMESPACED_RES(x->res);
    struct pd_k8s_role role;
    pd_k8s_role_from_json(a, obj, cluster ? "ClusterRole" : "Role", &role);
    const char *name = pd_k8s_mstr(obj, "name");
    const char *ns = cluster ? "" : x->p.ns;
    int rc = confirm_no_escalation(x, x->res, name, ns, role.rules, role.nrules, NULL);
    if (rc || !cluster)
        return rc;
    json_t *agg = json_object_get(obj, "aggregationRule");
    json_t *oagg = old ? json_object_get(old, "aggregationRule") : NULL;
    if ((agg && !json_is_null(agg)) || (oagg && !json_is_null(oagg))) {
        static const char *const star[] = {"*", NULL};
        const struct pd_k8s_rule all[] = {
            {.verbs = star, .api_groups = star, .resources = star},
            {.verbs = star, .non_resource_urls = star},
        };
        return confirm_no_escalation(x, x->res, name, "", all, 2,
                                     "must have cluster-admin privileges to use the "
                                     "aggregationRule");
    }
    return PD_OK;
}

/* ---- Role and ClusterRole ---- */

static int role_validate(struct pd_k8s_ctx *x, json_t *obj)
{
    struct pd_arena *a = &x->r->arena;
    int cluster = !PD_K8S_NAMESPACED_RES(x->res);
    struct pd_k8s_field_errs e = {0};
    json_t *rules = json_object_get(obj, "rules");
    if (rules && !json_is_array(rules) && !json_is_null(rules))
        pd_k8s_ferr_invalid(a, &e, "rules", "…", "must be a list of PolicyRule");
    validate_rules(a, rules, !cluster, &e);
    if (cluster)
        validate_aggregation(a, json_object_get(obj, "aggregationRule"), &e);
    else if (json_object_get(obj, "aggregationRule"))
        json_object_del(obj, "aggregationRule"); /* Role has no such field */
    if (!json_object_get(obj, "rules"))
        json_object_set_new(obj, "rules", json_null()); /* Go's nil slice, not omitempty */
    return pd_k8s_invalid(x, x->res, pd_k8s_mstr(obj, "name"), &e);
}

static int role_create(struct pd_k8s_ctx *x, json_t *obj)
{
    int rc = role_escalation(x, obj, NULL);
    return rc ? rc : role_validate(x, obj);
}

static int role_update(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)
{
    int rc = role_escalation(x, obj, old);
    return rc ? rc : role_validate(x, obj);
}

static int role_written(struct pd_k8s_ctx *x, const json_t *obj, const json_t *old)
{
    (void)obj;
    (void)old;
    pd_k8s_rbac_store_forget(x->az.rbac);
    return PD_OK;
}

static int clusterrole_written(struct pd_k8s_ctx *x, const json_t *obj, const json_t *old)
{
    (void)obj;
    (void)old;
    int rc = pd_k8s_rbac_aggregate(x);
    pd_k8s_rbac_store_forget(x->az.rbac);
    return rc;
}

const struct pd_k8s_hooks pd_k8s_role_hooks = {
    .create = role_create,
    .update = role_update,
    .written = role_written,
};

const struct pd_k8s_hooks pd_k8s_clusterrole_hooks = {
    .create = role_create,
    .update = role_update,
    .written = clusterrole_written,
};

/* ---- RoleBinding and ClusterRoleBinding ---- */

/* SetDefaults_RoleBinding / _ClusterRoleBinding / _Subject */
static void binding_defaults(json_t *obj)
{
    json_t *ref = json_object_get(obj, "roleRef");
    if (json_is_object(ref) && !*jstr(ref, "apiGroup"))
        json_object_set_new(ref, "apiGroup", json_string(RBAC));
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(obj, "subjects"), i, s)
    {
        const char *kind = jstr(s, "kind");
        if (!*jstr(s, "apiGroup") && (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0))
            json_object_set_new(s, "apiGroup", json_string(RBAC));
    }
    if (!json_object_get(obj, "roleRef"))
        json_object_set_new(obj, "roleRef",
                            json_pack("{s:s, s:s, s:s}", "apiGroup", RBAC, "kind", "", "name", ""));
}

/* The binding write's escalation check: system:masters, bind on the role, or holding its
 * rules. */
static int binding_escalation(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)
{
    if (escalation_allowed(x))
        return PD_OK;
    if (old && only_gc_fields(obj, old))
        return PD_OK;
    struct pd_arena *a = &x->r->arena;
    const char *ns = PD_K8S_NAMESPACED_RES(x->res) ? x->p.ns : "";
    const char *name = pd_k8s_mstr(obj, "name");
    const json_t *ref = json_object_get(obj, "roleRef");
    const char *kind = jstr(ref, "kind");
    int known = strcmp(kind, "ClusterRole") == 0 || strcmp(kind, "Role") == 0;
    if (known) {
        struct pd_k8s_attrs at = {.user = &x->u,
                                  .verb = "bind",
                                  .resource_request = 1,
                                  .api_group = pd_arena_strdup(a, jstr(ref, "apiGroup")),
                                  .api_version = "",
                                  .resource = strcmp(kind, "Role") == 0 ? "roles" : "clusterroles",
                                  .subresource = "",
                                  .ns = ns,
                                  .name = pd_arena_strdup(a, jstr(ref, "name")),
                                  .path = x->p.rest};
        if (allowed_for(x, &at,
                        "escalation prevention: bind lets a user bind a role whose "
                        "permissions it does not hold"))
            return PD_OK;
    }
    struct pd_k8s_binding b;
    pd_k8s_binding_from_json(a, obj, &b);
    const struct pd_k8s_rbac_source *src = pd_k8s_rbac_store_source(x->az.rbac);
    const struct pd_k8s_role *role = NULL;
    int rc = known
                 ? src->role(src->state, strcmp(kind, "Role") == 0 ? ns : NULL, b.role_name, &role)
                 : PD_EINVAL;
    if (rc == PD_ENOTFOUND || rc == PD_EINVAL) {
        const char *err =
            rc == PD_EINVAL
                ? pd_arena_printf(a, "unsupported role reference kind: %s", pd_k8s_goquote(a, kind))
                : pd_arena_printf(a, "%s.%s %s not found",
                                  strcmp(kind, "Role") == 0 ? "role" : "clusterrole", RBAC,
                                  pd_k8s_goquote(a, b.role_name));
        return pd_k8s_forbidden_obj(x, x->res, name, err);
    }
    if (rc)
        return rc;
    return confirm_no_escalation(x, x->res, name, ns, role->rules, role->nrules, NULL);
}

static int binding_create(struct pd_k8s_ctx *x, json_t *obj)
{
    binding_defaults(obj);
    int rc = binding_escalation(x, obj, NULL);
    if (rc)
        return rc;
    struct pd_k8s_field_errs e = {0};
    validate_binding(&x->r->arena, obj, !PD_K8S_NAMESPACED_RES(x->res), &e);
    return pd_k8s_invalid(x, x->res, pd_k8s_mstr(obj, "name"), &e);
}

static int binding_update(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)
{
    binding_defaults(obj);
    int rc = binding_escalation(x, obj, old);
    if (rc)
        return rc;
    struct pd_arena *a = &x->r->arena;
    struct pd_k8s_field_errs e = {0};
    validate_binding(a, obj, !PD_K8S_NAMESPACED_RES(x->res), &e);
    const json_t *ref = json_object_get(obj, "roleRef");
    if (!json_equal(ref, json_object_get(old, "roleRef")))
        pd_k8s_ferr_invalid(a, &e, "roleRef", role_ref_str(a, ref), "cannot change roleRef");
    return pd_k8s_invalid(x, x->res, pd_k8s_mstr(obj, "name"), &e);
}

const struct pd_k8s_hooks pd_k8s_binding_hooks = {
    .create = binding_create,
    .update = binding_update,
    .written = role_written,
};

/* ---- the aggregation controller (pkg/controller/clusterroleaggregation) ---- */

int pd_k8s_rbac_aggregate(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *res = pd_k8s_res_lookup(RBAC, "v1", "clusterroles");
    json_t *roles = pd_k8s_load_all(x, res, "");
    int rc = PD_OK, changed = 1;
    for (int pass = 0; rc == PD_OK && changed && pass < MAX_AGGREGATION_PASSES; pass++) {
        changed = 0;
        size_t i;
        json_t *cr;
        json_array_foreach(roles, i, cr)
        {
            json_t *agg = json_object_get(cr, "aggregationRule");
            if (!json_is_object(agg))
                continue;
            json_t *rules = pd_k8s_rbac_aggregated_rules(&x->r->arena, cr, roles);
            if (pd_k8s_rbac_same_rules(rules, json_object_get(cr, "rules"))) {
                json_decref(rules);
                continue;
            }
            json_object_set_new(cr, "rules", rules);
            rc = pd_k8s_save(x, res, cr, 1);
            if (rc)
                break;
            changed = 1;
        }
    }
    if (changed && rc == PD_OK)
        pd_log(PD_LOG_WARN,
               "k8s: cluster %s: ClusterRole aggregation did not settle after %d "
               "passes",
               x->c.name, MAX_AGGREGATION_PASSES);
    json_decref(roles);
    return rc;
}

/* ---- bootstrap ---- */

static json_t *bootstrap_meta(const char *name, const json_t *labels)
{
    json_t *md = json_pack("{s:s, s:{s:s}, s:{s:s}}", "name", name, "labels",
                           "kubernetes.io/bootstrapping", "rbac-defaults", "annotations",
                           "rbac.authorization.kubernetes.io/autoupdate", "true");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v)
    {
        json_object_set(json_object_get(md, "labels"), k, v);
    }
    return md;
}

int pd_k8s_rbac_bootstrap(struct pd_k8s_ctx *x)
{
    struct pd_k8s_db_obj mark;
    int rc = pd_k8s_db_get(x->r->db, &x->r->arena, x->c.id, BOOTSTRAP_KEY, "", "rbac", &mark);
    if (rc != PD_ENOTFOUND)
        return rc;
    const struct pd_embedded *f = pd_embedded_find("rbac_bootstrap.json");
    json_t *doc = f ? json_loadb(f->data, f->len, 0, NULL) : NULL;
    if (!doc) {
        pd_log(PD_LOG_ERROR, "k8s: the embedded RBAC bootstrap does not parse");
        return PD_EINTERNAL;
    }
    const struct pd_k8s_res *crs = pd_k8s_res_lookup(RBAC, "v1", "clusterroles");
    const struct pd_k8s_res *crbs = pd_k8s_res_lookup(RBAC, "v1", "clusterrolebindings");
    size_t i;
    json_t *e;
    rc = PD_OK;
    json_array_foreach(json_object_get(doc, "clusterroles"), i, e)
    {
        const char *name = jstr(e, "name");
        json_t *obj =
            json_pack("{s:o}", "metadata", bootstrap_meta(name, json_object_get(e, "labels")));
        json_t *agg = json_object_get(e, "aggregationRule");
        if (agg)
            json_object_set(obj, "aggregationRule", agg);
        json_t *rules = json_object_get(e, "rules");
        json_object_set(obj, "rules", rules ? rules : json_null());
        rc = pd_k8s_put_new(x, crs, "", obj);
        if (rc == PD_ECONFLICT)
            rc = PD_OK; /* a user's object of that name stays */
        if (rc)
            break;
    }
    json_array_foreach(json_object_get(doc, "clusterrolebindings"), i, e)
    {
        if (rc)
            break;
        const char *name = jstr(e, "name");
        json_t *obj = json_pack("{s:o, s:{s:s, s:s, s:s}}", "metadata", bootstrap_meta(name, NULL),
                                "roleRef", "apiGroup", RBAC, "kind", "ClusterRole", "name", name);
        json_t *subs = json_object_get(e, "subjects");
        if (subs)
            json_object_set(obj, "subjects", subs);
        rc = pd_k8s_put_new(x, crbs, "", obj);
        if (rc == PD_ECONFLICT)
            rc = PD_OK;
    }
    int version = (int)json_integer_value(json_object_get(doc, "version"));
    json_decref(doc);
    if (rc == PD_OK)
        rc = pd_k8s_rbac_aggregate(x);
    if (rc == PD_OK) {
        char body[64];
        snprintf(body, sizeof body, "{\"version\":%d}", version);
        struct pd_k8s_db_obj row = {.resource = BOOTSTRAP_KEY,
                                    .ns = "",
                                    .name = "rbac",
                                    .uid = "",
                                    .rv = 0,
                                    .created_ms = x->now_ms,
                                    .body = body};
        rc = pd_k8s_db_put(x->r->db, x->c.id, &row, 1);
    }
    return rc;
}
