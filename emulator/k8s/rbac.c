/*
 * rbac.c - Kubernetes RBAC evaluation (see rbac.h): rule matching, which bindings and rules
 * apply to a user, the RBAC authorizer, RulesFor, and the rule arithmetic of escalation
 * prevention. Pure: objects come from a struct pd_k8s_rbac_source; results and their texts
 * live in the caller's arena.
 */
#include "k8s/rbac.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"

/* ---- string lists ---- */

static size_t list_len(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

static int list_has(const char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/* Does set hold every element of sub? (Kubernetes' hasAll.) */
static int list_has_all(const char *const *set, const char *const *sub)
{
    for (size_t i = 0; sub && sub[i]; i++)
        if (!list_has(set, sub[i]))
            return 0;
    return 1;
}

static const char *const *one(struct pd_arena *a, const char *s)
{
    const char **v = pd_arena_alloc(a, 2 * sizeof *v);
    v[0] = s;
    v[1] = NULL;
    return v;
}

/* ---- matching (k8s pkg/apis/rbac/v1/evaluation_helpers.go) ---- */

static int verb_matches(const struct pd_k8s_rule *r, const char *verb)
{
    return list_has(r->verbs, "*") || list_has(r->verbs, verb);
}

static int group_matches(const struct pd_k8s_rule *r, const char *group)
{
    return list_has(r->api_groups, "*") || list_has(r->api_groups, group);
}

static int resource_matches(const struct pd_k8s_rule *r, const char *combined, const char *sub)
{
    for (size_t i = 0; r->resources && r->resources[i]; i++) {
        const char *rr = r->resources[i];
        if (strcmp(rr, "*") == 0 || strcmp(rr, combined) == 0)
            return 1;
        if (!*sub)
            continue;
        /* "*" + "/" + subresource */
        if (strlen(rr) == strlen(sub) + 2 && rr[0] == '*' && rr[1] == '/' &&
            strcmp(rr + 2, sub) == 0)
            return 1;
    }
    return 0;
}

static int name_matches(const struct pd_k8s_rule *r, const char *name)
{
    if (!r->resource_names || !r->resource_names[0])
        return 1;
    return list_has(r->resource_names, name);
}

/* ruleURL ending in '*': a prefix (every trailing '*' trimmed, as strings.TrimRight does). */
static int url_covers(const char *rule_url, const char *path)
{
    if (strcmp(rule_url, "*") == 0 || strcmp(rule_url, path) == 0)
        return 1;
    size_t n = strlen(rule_url);
    if (!n || rule_url[n - 1] != '*')
        return 0;
    while (n && rule_url[n - 1] == '*')
        n--;
    return strncmp(path, rule_url, n) == 0;
}

static int url_matches(const struct pd_k8s_rule *r, const char *path)
{
    for (size_t i = 0; r->non_resource_urls && r->non_resource_urls[i]; i++)
        if (url_covers(r->non_resource_urls[i], path))
            return 1;
    return 0;
}

int pd_k8s_rule_allows(const struct pd_k8s_rule *rule, const struct pd_k8s_attrs *at)
{
    const char *verb = at->verb ? at->verb : "";
    if (!at->resource_request)
        return verb_matches(rule, verb) && url_matches(rule, at->path ? at->path : "");
    const char *res = at->resource ? at->resource : "";
    const char *sub = at->subresource ? at->subresource : "";
    char buf[512];
    const char *combined = res;
    if (*sub) {
        if ((size_t)snprintf(buf, sizeof buf, "%s/%s", res, sub) >= sizeof buf)
            return 0; /* longer than any resource a rule can name that matters here */
        combined = buf;
    }
    return verb_matches(rule, verb) && group_matches(rule, at->api_group ? at->api_group : "") &&
           resource_matches(rule, combined, sub) && name_matches(rule, at->name ? at->name : "");
}

/* ---- texts ---- */

const char *pd_k8s_goquote(struct pd_arena *a, const char *s)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_addc(&b, '"');
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char c = *p;
        static const char esc[] = "\a\b\f\n\r\t\v";
        static const char letter[] = "abfnrtv";
        const char *e = c ? strchr(esc, c) : NULL;
        if (c == '"' || c == '\\') {
            pd_buf_addc(&b, '\\');
            pd_buf_addc(&b, (char)c);
            p++;
        } else if (e) {
            pd_buf_addc(&b, '\\');
            pd_buf_addc(&b, letter[e - esc]);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            pd_buf_printf(&b, "\\x%02x", c);
            p++;
        } else if (c < 0x80) {
            pd_buf_addc(&b, (char)c);
            p++;
        } else {
            /* UTF-8: keep a valid printable sequence, escape anything else byte by byte */
            size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
            size_t k = 1;
            while (n && k < n && (p[k] & 0xc0) == 0x80)
                k++;
            unsigned cp = n == 2 ? ((c & 0x1fu) << 6) | (p[1] & 0x3fu) : 0xa0;
            if (n && k == n && (n != 2 || cp >= 0xa0) && c < 0xf5) {
                pd_buf_add(&b, (const char *)p, n);
                p += n;
            } else if (n == 2 && k == 2) {
                pd_buf_printf(&b, "\\u%04x", cp); /* C1 control */
                p += 2;
            } else {
                pd_buf_printf(&b, "\\x%02x", c);
                p++;
            }
        }
    }
    pd_buf_addc(&b, '"');
    const char *out = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return out;
}

const char *pd_k8s_goquote_list(struct pd_arena *a, const char *const *v, size_t n)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_addc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            pd_buf_addc(&b, ' ');
        pd_buf_adds(&b, pd_k8s_goquote(a, v[i]));
    }
    pd_buf_addc(&b, ']');
    const char *out = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return out;
}

const char *pd_k8s_rule_str(struct pd_arena *a, const struct pd_k8s_rule *r)
{
    struct {
        const char *label;
        const char *const *v;
    } parts[] = {
        {"APIGroups", r->api_groups},
        {"Resources", r->resources},
        {"NonResourceURLs", r->non_resource_urls},
        {"ResourceNames", r->resource_names},
        {"Verbs", r->verbs},
    };
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_addc(&b, '{');
    int first = 1;
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        size_t n = list_len(parts[i].v);
        if (!n)
            continue;
        pd_buf_printf(&b, "%s%s:%s", first ? "" : ", ", parts[i].label,
                      pd_k8s_goquote_list(a, parts[i].v, n));
        first = 0;
    }
    pd_buf_addc(&b, '}');
    const char *out = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return out;
}

static json_t *strs_json(const char *const *v)
{
    json_t *arr = json_array();
    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(arr, json_string(v[i]));
    return arr;
}

json_t *pd_k8s_rule_json(const struct pd_k8s_rule *r)
{
    json_t *o = json_pack("{s:o}", "verbs", strs_json(r->verbs));
    if (list_len(r->api_groups))
        json_object_set_new(o, "apiGroups", strs_json(r->api_groups));
    if (list_len(r->resources))
        json_object_set_new(o, "resources", strs_json(r->resources));
    if (list_len(r->resource_names))
        json_object_set_new(o, "resourceNames", strs_json(r->resource_names));
    if (list_len(r->non_resource_urls))
        json_object_set_new(o, "nonResourceURLs", strs_json(r->non_resource_urls));
    return o;
}

const char *pd_k8s_aggregate_errors(struct pd_arena *a, const char *const *msgs, size_t n)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t k = 0; k < i && !dup; k++)
            dup = strcmp(msgs[k], msgs[i]) == 0;
        if (dup)
            continue;
        if (seen++)
            pd_buf_adds(&b, ", ");
        pd_buf_adds(&b, msgs[i]);
    }
    const char *out = seen > 1 ? pd_arena_printf(a, "[%s]", pd_buf_str(&b))
                               : pd_arena_strndup(a, seen ? pd_buf_str(&b) : "", b.len);
    pd_buf_free(&b);
    return out;
}

void pd_k8s_rule_list_add(struct pd_arena *a, struct pd_k8s_rule_list *l,
                          const struct pd_k8s_rule *r)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct pd_k8s_rule *v = pd_arena_alloc(a, cap * sizeof *v);
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
}

/* ---- reading objects ---- */

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static const char *const *strs_from(struct pd_arena *a, const json_t *arr)
{
    size_t n = json_array_size(arr);
    if (!n)
        return NULL;
    const char **v = pd_arena_alloc(a, (n + 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (s)
            v[k++] = pd_arena_strdup(a, s);
    }
    v[k] = NULL;
    return v;
}

void pd_k8s_rule_from_json(struct pd_arena *a, const json_t *j, struct pd_k8s_rule *OUT)
{
    OUT->verbs = strs_from(a, json_object_get(j, "verbs"));
    OUT->api_groups = strs_from(a, json_object_get(j, "apiGroups"));
    OUT->resources = strs_from(a, json_object_get(j, "resources"));
    OUT->resource_names = strs_from(a, json_object_get(j, "resourceNames"));
    OUT->non_resource_urls = strs_from(a, json_object_get(j, "nonResourceURLs"));
}

void pd_k8s_role_from_json(struct pd_arena *a, const json_t *obj, const char *kind,
                           struct pd_k8s_role *OUT)
{
    const json_t *md = json_object_get(obj, "metadata");
    OUT->kind = kind;
    OUT->name = pd_arena_strdup(a, jstr(md, "name"));
    OUT->ns = pd_arena_strdup(a, jstr(md, "namespace"));
    const json_t *rules = json_object_get(obj, "rules");
    size_t n = json_array_size(rules);
    struct pd_k8s_rule *v = n ? pd_arena_alloc(a, n * sizeof *v) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(rules, i);
        if (json_is_object(r))
            pd_k8s_rule_from_json(a, r, &v[k++]);
    }
    OUT->rules = v;
    OUT->nrules = k;
}

void pd_k8s_binding_from_json(struct pd_arena *a, const json_t *obj, struct pd_k8s_binding *OUT)
{
    const json_t *md = json_object_get(obj, "metadata");
    const json_t *ref = json_object_get(obj, "roleRef");
    OUT->name = pd_arena_strdup(a, jstr(md, "name"));
    OUT->ns = pd_arena_strdup(a, jstr(md, "namespace"));
    OUT->role_kind = pd_arena_strdup(a, jstr(ref, "kind"));
    OUT->role_name = pd_arena_strdup(a, jstr(ref, "name"));
    OUT->role_api_group = pd_arena_strdup(a, jstr(ref, "apiGroup"));
    const json_t *subs = json_object_get(obj, "subjects");
    size_t n = json_array_size(subs);
    struct pd_k8s_subject *v = n ? pd_arena_alloc(a, n * sizeof *v) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(subs, i);
        if (!json_is_object(s))
            continue;
        v[k].kind = pd_arena_strdup(a, jstr(s, "kind"));
        v[k].api_group = pd_arena_strdup(a, jstr(s, "apiGroup"));
        v[k].name = pd_arena_strdup(a, jstr(s, "name"));
        v[k].ns = pd_arena_strdup(a, jstr(s, "namespace"));
        k++;
    }
    OUT->subjects = v;
    OUT->nsubjects = k;
}

/* ---- which rules apply (k8s pkg/registry/rbac/validation/rule.go) ---- */

int pd_k8s_subject_applies(const struct pd_k8s_subject *s, const struct pd_k8s_user *u,
                           const char *ns)
{
    if (strcmp(s->kind, "User") == 0)
        return strcmp(u->username ? u->username : "", s->name) == 0;
    if (strcmp(s->kind, "Group") == 0)
        return pd_k8s_user_in_group(u, s->name);
    if (strcmp(s->kind, "ServiceAccount") == 0) {
        const char *sa_ns = s->ns && *s->ns ? s->ns : ns;
        if (!sa_ns || !*sa_ns)
            return 0;
        /* system:serviceaccount:<ns>:<name> */
        const char *n = u->username ? u->username : "";
        static const char prefix[] = "system:serviceaccount:";
        size_t pl = sizeof prefix - 1, nl = strlen(sa_ns);
        return strncmp(n, prefix, pl) == 0 && strncmp(n + pl, sa_ns, nl) == 0 &&
               n[pl + nl] == ':' && strcmp(n + pl + nl + 1, s->name) == 0;
    }
    return 0;
}

static const char *describe_subject(struct pd_arena *a, const struct pd_k8s_subject *s,
                                    const char *binding_ns)
{
    if (strcmp(s->kind, "ServiceAccount") == 0) {
        const char *n = pd_arena_printf(a, "%s/%s", s->name, *s->ns ? s->ns : binding_ns);
        return pd_arena_printf(a, "%s %s", s->kind, pd_k8s_goquote(a, n));
    }
    return pd_arena_printf(a, "%s %s", s->kind, pd_k8s_goquote(a, s->name));
}

const char *pd_k8s_grant_str(struct pd_arena *a, const struct pd_k8s_grant *g)
{
    const struct pd_k8s_binding *b = g->binding;
    if (!*b->ns)
        return pd_arena_printf(
            a, "ClusterRoleBinding %s of %s %s to %s", pd_k8s_goquote(a, b->name), b->role_kind,
            pd_k8s_goquote(a, b->role_name), describe_subject(a, g->subject, ""));
    return pd_arena_printf(a, "RoleBinding %s of %s %s to %s",
                           pd_k8s_goquote(a, pd_arena_printf(a, "%s/%s", b->name, b->ns)),
                           b->role_kind, pd_k8s_goquote(a, b->role_name),
                           describe_subject(a, g->subject, b->ns));
}

/* GetRoleReferenceRules: the role b refers to, or an error text. */
static const struct pd_k8s_role *role_of(const struct pd_k8s_rbac_source *src, struct pd_arena *a,
                                         const struct pd_k8s_binding *b, const char *ns,
                                         const char **err)
{
    const struct pd_k8s_role *role = NULL;
    int rc;
    if (strcmp(b->role_kind, "Role") == 0) {
        rc = src->role(src->state, ns, b->role_name, &role);
        if (rc == PD_ENOTFOUND)
            *err = pd_arena_printf(a, "role.%s %s not found", PD_K8S_RBAC_GROUP,
                                   pd_k8s_goquote(a, b->role_name));
    } else if (strcmp(b->role_kind, "ClusterRole") == 0) {
        rc = src->role(src->state, NULL, b->role_name, &role);
        if (rc == PD_ENOTFOUND)
            *err = pd_arena_printf(a, "clusterrole.%s %s not found", PD_K8S_RBAC_GROUP,
                                   pd_k8s_goquote(a, b->role_name));
    } else {
        *err = pd_arena_printf(a, "unsupported role reference kind: %s",
                               pd_k8s_goquote(a, b->role_kind));
        return NULL;
    }
    if (rc && rc != PD_ENOTFOUND)
        *err = pd_arena_printf(a, "cannot read %s %s: %s", b->role_kind, b->role_name,
                               pd_strerror(rc));
    return rc ? NULL : role;
}

/* One pass over the bindings of ns (NULL: cluster); returns 0 when the visitor stopped. */
static int visit_bindings(const struct pd_k8s_rbac_source *src, struct pd_arena *a,
                          const struct pd_k8s_user *u, const char *ns, pd_k8s_rule_visit_fn *fn,
                          void *st)
{
    const struct pd_k8s_binding *bs;
    size_t n;
    int rc = src->bindings(src->state, ns, &bs, &n);
    if (rc) {
        struct pd_k8s_grant none = {0};
        return fn(st, &none, NULL,
                  pd_arena_printf(a, "cannot list %s: %s",
                                  ns ? "rolebindings" : "clusterrolebindings", pd_strerror(rc)));
    }
    for (size_t i = 0; i < n; i++) {
        const struct pd_k8s_binding *b = &bs[i];
        const struct pd_k8s_subject *applies = NULL;
        for (size_t k = 0; k < b->nsubjects && !applies; k++)
            if (pd_k8s_subject_applies(&b->subjects[k], u, ns ? ns : ""))
                applies = &b->subjects[k];
        if (!applies)
            continue;
        const char *err = NULL;
        struct pd_k8s_grant g = {b, applies, NULL, 0};
        g.role = role_of(src, a, b, ns, &err);
        if (!g.role) {
            if (!fn(st, &g, NULL, err))
                return 0;
            continue;
        }
        for (size_t r = 0; r < g.role->nrules; r++) {
            g.rule_index = r;
            if (!fn(st, &g, &g.role->rules[r], NULL))
                return 0;
        }
    }
    return 1;
}

void pd_k8s_rbac_visit(const struct pd_k8s_rbac_source *src, struct pd_arena *a,
                       const struct pd_k8s_user *u, const char *ns, pd_k8s_rule_visit_fn *fn,
                       void *st)
{
    if (!visit_bindings(src, a, u, NULL, fn, st))
        return;
    if (ns && *ns)
        visit_bindings(src, a, u, ns, fn, st);
}

/* ---- the authorizer ---- */

struct authz_visit {
    struct pd_arena *a;
    const struct pd_k8s_attrs *at;
    int allowed;
    struct pd_k8s_grant grant;
    const char *errs[16];
    size_t nerrs;
    json_t *looked; /* the bindings that applied and what became of them */
    const struct pd_k8s_binding *last;
};

static int authz_visit(void *st, const struct pd_k8s_grant *g, const struct pd_k8s_rule *rule,
                       const char *err)
{
    struct authz_visit *v = st;
    if (rule && pd_k8s_rule_allows(rule, v->at)) {
        v->allowed = 1;
        v->grant = *g;
        return 0;
    }
    if (err && v->nerrs < sizeof v->errs / sizeof *v->errs)
        v->errs[v->nerrs++] = err;
    if (g->binding && g->binding != v->last && json_array_size(v->looked) < 32) {
        v->last = g->binding;
        json_t *e = json_pack(
            "{s:s}", "binding",
            *g->binding->ns
                ? pd_arena_printf(v->a, "RoleBinding %s/%s", g->binding->ns, g->binding->name)
                : pd_arena_printf(v->a, "ClusterRoleBinding %s", g->binding->name));
        json_object_set_new(e, "role",
                            json_string(pd_arena_printf(v->a, "%s %s", g->binding->role_kind,
                                                        g->binding->role_name)));
        if (err)
            json_object_set_new(e, "error", json_string(err));
        else
            json_object_set_new(e, "rules", json_integer((json_int_t)g->role->nrules));
        json_array_append_new(v->looked, e);
    }
    return 1;
}

static size_t count_bindings(const struct pd_k8s_rbac_source *src, const char *ns)
{
    const struct pd_k8s_binding *bs;
    size_t n = 0;
    if (src->bindings(src->state, ns, &bs, &n))
        return 0;
    return n;
}

void pd_k8s_rbac_authorize(const struct pd_k8s_rbac_source *src, struct pd_arena *a,
                           const struct pd_k8s_attrs *at, struct pd_k8s_decision *OUT)
{
    struct authz_visit v = {.a = a, .at = at, .looked = json_array()};
    pd_k8s_rbac_visit(src, a, at->user, at->resource_request ? at->ns : "", authz_visit, &v);
    memset(OUT, 0, sizeof *OUT);
    if (v.allowed) {
        const struct pd_k8s_grant *g = &v.grant;
        OUT->verdict = PD_K8S_ALLOW;
        OUT->reason = pd_arena_printf(a, "RBAC: allowed by %s", pd_k8s_grant_str(a, g));
        OUT->trace = json_pack(
            "{s:s, s:s, s:I, s:o}", "binding",
            *g->binding->ns
                ? pd_arena_printf(a, "RoleBinding %s/%s", g->binding->ns, g->binding->name)
                : pd_arena_printf(a, "ClusterRoleBinding %s", g->binding->name),
            "role",
            *g->role->ns ? pd_arena_printf(a, "Role %s/%s", g->role->ns, g->role->name)
                         : pd_arena_printf(a, "ClusterRole %s", g->role->name),
            "rule_index", (json_int_t)g->rule_index, "rule",
            pd_k8s_rule_json(&g->role->rules[g->rule_index]));
        json_object_set_new(
            OUT->trace, "subject",
            json_string(pd_arena_printf(a, "%s %s", g->subject->kind, g->subject->name)));
        json_decref(v.looked);
        return;
    }
    OUT->verdict = PD_K8S_NO_OPINION;
    OUT->reason =
        v.nerrs ? pd_arena_printf(a, "RBAC: %s", pd_k8s_aggregate_errors(a, v.errs, v.nerrs)) : "";
    size_t ncrb = count_bindings(src, NULL);
    size_t nrb = at->resource_request && at->ns && *at->ns ? count_bindings(src, at->ns) : 0;
    OUT->trace = json_pack("{s:o, s:I, s:I, s:s}", "applied", v.looked, "clusterrolebindings",
                           (json_int_t)ncrb, "rolebindings", (json_int_t)nrb, "why",
                           json_array_size(v.looked)
                               ? "no rule of the bindings that name this user allows the request"
                               : "no binding names this user or any of its groups");
}

struct rules_visit {
    struct pd_arena *a;
    struct pd_k8s_rule_list *out;
    const char *errs[16];
    size_t nerrs;
};

static int rules_visit(void *st, const struct pd_k8s_grant *g, const struct pd_k8s_rule *rule,
                       const char *err)
{
    (void)g;
    struct rules_visit *v = st;
    if (rule)
        pd_k8s_rule_list_add(v->a, v->out, rule);
    if (err && v->nerrs < sizeof v->errs / sizeof *v->errs)
        v->errs[v->nerrs++] = err;
    return 1;
}

void pd_k8s_rbac_rules_for(const struct pd_k8s_rbac_source *src, struct pd_arena *a,
                           const struct pd_k8s_user *u, const char *ns,
                           struct pd_k8s_rule_list *OUT, const char **OUT_error)
{
    struct rules_visit v = {.a = a, .out = OUT};
    pd_k8s_rbac_visit(src, a, u, ns, rules_visit, &v);
    *OUT_error = v.nerrs ? pd_k8s_aggregate_errors(a, v.errs, v.nerrs) : NULL;
}

/* ---- escalation: Covers (k8s pkg/registry/rbac/validation/policy_comparator.go) ---- */

static int resource_covers_all(const char *const *set, const char *const *covers)
{
    if (list_has(set, "*") || list_has_all(set, covers))
        return 1;
    for (size_t i = 0; covers && covers[i]; i++) {
        const char *path = covers[i];
        if (list_has(set, path))
            continue;
        const char *slash = strchr(path, '/');
        if (!slash)
            return 0;
        char buf[512];
        if ((size_t)snprintf(buf, sizeof buf, "*%s", slash) >= sizeof buf || !list_has(set, buf))
            return 0;
    }
    return 1;
}

static int urls_cover_all(const char *const *set, const char *const *covers)
{
    for (size_t i = 0; covers && covers[i]; i++) {
        int ok = 0;
        for (size_t k = 0; set && set[k] && !ok; k++) {
            const char *owner = set[k];
            size_t n = strlen(owner);
            if (strcmp(owner, covers[i]) == 0) {
                ok = 1;
            } else if (n && owner[n - 1] == '*') {
                while (n && owner[n - 1] == '*')
                    n--;
                ok = strncmp(covers[i], owner, n) == 0;
            }
        }
        if (!ok)
            return 0;
    }
    return 1;
}

/* ruleCovers: owner covers sub (at most one verb, resource, name or URL). */
static int rule_covers(const struct pd_k8s_rule *owner, const struct pd_k8s_rule *sub)
{
    int verbs = list_has(owner->verbs, "*") || list_has_all(owner->verbs, sub->verbs);
    int groups =
        list_has(owner->api_groups, "*") || list_has_all(owner->api_groups, sub->api_groups);
    int res = resource_covers_all(owner->resources, sub->resources);
    int urls = urls_cover_all(owner->non_resource_urls, sub->non_resource_urls);
    int names = list_len(sub->resource_names)
                    ? !list_len(owner->resource_names) ||
                          list_has_all(owner->resource_names, sub->resource_names)
                    : !list_len(owner->resource_names);
    return verbs && groups && res && urls && names;
}

static void check_sub(struct pd_arena *a, const struct pd_k8s_rule *owner, size_t nowner,
                      const struct pd_k8s_rule *sub, struct pd_k8s_rule_list *missing)
{
    for (size_t i = 0; i < nowner; i++)
        if (rule_covers(&owner[i], sub))
            return;
    pd_k8s_rule_list_add(a, missing, sub);
}

int pd_k8s_rbac_covers(struct pd_arena *a, const struct pd_k8s_rule *owner, size_t nowner,
                       const struct pd_k8s_rule *servant, size_t nservant,
                       struct pd_k8s_rule_list *OUT_missing)
{
    /* bound the work before doing it: the breakdown is a product of the lists */
    double total = 0;
    for (size_t s = 0; s < nservant; s++) {
        const struct pd_k8s_rule *r = &servant[s];
        size_t names = list_len(r->resource_names);
        total += (double)list_len(r->api_groups) * (double)list_len(r->resources) *
                     (double)list_len(r->verbs) * (double)(names ? names : 1) +
                 (double)list_len(r->non_resource_urls) * (double)list_len(r->verbs);
    }
    if (total > PD_K8S_MAX_BREAKDOWN)
        return PD_ETOOBIG;
    for (size_t s = 0; s < nservant; s++) {
        const struct pd_k8s_rule *r = &servant[s];
        for (size_t g = 0; r->api_groups && r->api_groups[g]; g++)
            for (size_t res = 0; r->resources && r->resources[res]; res++)
                for (size_t v = 0; r->verbs && r->verbs[v]; v++) {
                    struct pd_k8s_rule sub = {.verbs = one(a, r->verbs[v]),
                                              .api_groups = one(a, r->api_groups[g]),
                                              .resources = one(a, r->resources[res])};
                    if (!list_len(r->resource_names)) {
                        check_sub(a, owner, nowner, &sub, OUT_missing);
                        continue;
                    }
                    for (size_t n = 0; r->resource_names[n]; n++) {
                        sub.resource_names = one(a, r->resource_names[n]);
                        check_sub(a, owner, nowner, &sub, OUT_missing);
                    }
                }
        for (size_t u = 0; r->non_resource_urls && r->non_resource_urls[u]; u++)
            for (size_t v = 0; r->verbs && r->verbs[v]; v++) {
                struct pd_k8s_rule sub = {.verbs = one(a, r->verbs[v]),
                                          .non_resource_urls = one(a, r->non_resource_urls[u])};
                check_sub(a, owner, nowner, &sub, OUT_missing);
            }
    }
    return PD_OK;
}

/* ---- escalation: CompactRules + CompactString (policy_compact.go, helpers.go) ---- */

struct simple {
    const char *group, *resource, *name; /* name NULL: no resource name */
    const char **verbs;
    size_t nverbs, cap;
};

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

const char *pd_k8s_rbac_missing_str(struct pd_arena *a, const struct pd_k8s_rule_list *missing)
{
    struct simple *simples = pd_arena_alloc(a, (missing->n + 1) * sizeof *simples);
    size_t ns = 0;
    const char **lines = pd_arena_alloc(a, (missing->n + 1) * sizeof *lines);
    size_t nl = 0;
    for (size_t i = 0; i < missing->n; i++) {
        const struct pd_k8s_rule *r = &missing->v[i];
        int simple = list_len(r->resource_names) <= 1 && !list_len(r->non_resource_urls) &&
                     list_len(r->api_groups) == 1 && list_len(r->resources) == 1;
        if (!simple) {
            lines[nl++] = pd_k8s_rule_str(a, r);
            continue;
        }
        const char *name = list_len(r->resource_names) ? r->resource_names[0] : NULL;
        struct simple *s = NULL;
        for (size_t k = 0; k < ns && !s; k++)
            if (strcmp(simples[k].group, r->api_groups[0]) == 0 &&
                strcmp(simples[k].resource, r->resources[0]) == 0 &&
                (name ? simples[k].name && strcmp(simples[k].name, name) == 0 : !simples[k].name))
                s = &simples[k];
        if (!s) {
            s = &simples[ns++];
            *s = (struct simple){r->api_groups[0], r->resources[0], name, NULL, 0, 0};
        }
        for (size_t v = 0; r->verbs && r->verbs[v]; v++) {
            if (s->nverbs + 1 >= s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 8;
                const char **w = pd_arena_alloc(a, cap * sizeof *w);
                if (s->nverbs)
                    memcpy(w, s->verbs, s->nverbs * sizeof *w);
                s->verbs = w;
                s->cap = cap;
            }
            s->verbs[s->nverbs++] = r->verbs[v];
            s->verbs[s->nverbs] = NULL;
        }
    }
    for (size_t k = 0; k < ns; k++) {
        struct pd_k8s_rule r = {.verbs = simples[k].verbs,
                                .api_groups = one(a, simples[k].group),
                                .resources = one(a, simples[k].resource),
                                .resource_names = simples[k].name ? one(a, simples[k].name) : NULL};
        lines[nl++] = pd_k8s_rule_str(a, &r);
    }
    qsort(lines, nl, sizeof *lines, cmp_str);
    struct pd_buf b;
    pd_buf_init(&b, 0);
    for (size_t i = 0; i < nl; i++) {
        if (i && strcmp(lines[i], lines[i - 1]) == 0)
            continue;
        if (b.len)
            pd_buf_addc(&b, '\n');
        pd_buf_adds(&b, lines[i]);
    }
    const char *out = pd_arena_strndup(a, b.len ? pd_buf_str(&b) : "", b.len);
    pd_buf_free(&b);
    return out;
}

/* ---- aggregation (pkg/controller/clusterroleaggregation) ---- */

static const char *mname(const json_t *o)
{
    const char *n = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
    return n ? n : "";
}

/* A rule in canonical form for comparison (empty lists dropped, keys sorted): nil and empty
 * slices are equal to Kubernetes' semantic equality. */
static char *rule_key(const json_t *rule)
{
    json_t *c = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)rule, k, v)
    {
        if (!(json_is_array(v) && !json_array_size(v)) && !json_is_null(v))
            json_object_set(c, k, v);
    }
    char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(c);
    return s;
}

/* A set of rule keys (open addressing over an arena table). */
struct keyset {
    char **slot;
    size_t cap, n;
    struct pd_arena *a;
};

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Add key (freed here); 1 when it was new. */
static int keyset_add(struct keyset *ks, char *key)
{
    if (2 * (ks->n + 1) > ks->cap) {
        size_t cap = ks->cap ? 2 * ks->cap : 64;
        char **slot = pd_arena_zalloc(ks->a, cap * sizeof *slot);
        for (size_t i = 0; i < ks->cap; i++)
            if (ks->slot[i]) {
                size_t j = hash(ks->slot[i]) & (cap - 1);
                while (slot[j])
                    j = (j + 1) & (cap - 1);
                slot[j] = ks->slot[i];
            }
        ks->slot = slot;
        ks->cap = cap;
    }
    size_t j = hash(key) & (ks->cap - 1);
    while (ks->slot[j]) {
        if (strcmp(ks->slot[j], key) == 0) {
            free(key);
            return 0;
        }
        j = (j + 1) & (ks->cap - 1);
    }
    ks->slot[j] = pd_arena_strdup(ks->a, key);
    ks->n++;
    free(key);
    return 1;
}

/* The rules cr's aggregationRule gathers from roles (all ClusterRoles, name order). */
json_t *pd_k8s_rbac_aggregated_rules(struct pd_arena *a, const json_t *cr, const json_t *roles)
{
    json_t *out = json_array();
    struct keyset ks = {.a = a};
    const char *self = json_string_value(json_object_get(json_object_get(cr, "metadata"), "name"));
    size_t i;
    json_t *sel;
    json_array_foreach(
        json_object_get(json_object_get(cr, "aggregationRule"), "clusterRoleSelectors"), i, sel)
    {
        size_t k;
        json_t *other;
        json_array_foreach(roles, k, other)
        {
            if (strcmp(mname(other), self ? self : "") == 0 ||
                pd_k8s_label_selector_match(sel, other) != 1)
                continue;
            size_t j;
            json_t *rule;
            json_array_foreach(json_object_get(other, "rules"), j, rule)
            {
                if (json_is_object(rule) && keyset_add(&ks, rule_key(rule)))
                    json_array_append(out, rule);
            }
        }
    }
    return out;
}

int pd_k8s_rbac_same_rules(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b))
        return 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        char *ka = rule_key(json_array_get(a, i)), *kb = rule_key(json_array_get(b, i));
        int same = strcmp(ka, kb) == 0;
        free(ka);
        free(kb);
        if (!same)
            return 0;
    }
    return 1;
}
