/*
 * fuzz_k8s_rbac.c - libFuzzer target: RBAC object inputs and the RBAC engine
 * (emulator/k8s/rbac.c, request.c, authz.c).
 *
 * Input: "METHOD PATH[?QUERY]\nUSER\nGROUP,GROUP,…\n" then a JSON array of Role,
 * ClusterRole, RoleBinding and ClusterRoleBinding objects (any shape: members of the wrong
 * type are read as empty). The request's attributes are derived as kube-apiserver does, the
 * aggregation controller's union is computed for every ClusterRole with an aggregationRule,
 * then the request is authorized for the user.
 *
 * Invariants beyond "no crash, no leak": the authorizer allows exactly when one of the
 * rules RulesFor lists for the user in the request's namespace allows the request (the two
 * walk the same bindings); Covers of a user's own rules misses nothing; texts are strings.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/log.h"
#include "k8s/authz.h"
#include "k8s/internal.h"
#include "k8s/rbac.h"

struct mem {
    struct pd_k8s_binding *b;
    size_t nb;
    struct pd_k8s_role *r;
    size_t nr;
    struct pd_arena *a;
};

static int mem_bindings(void *state, const char *ns, const struct pd_k8s_binding **OUT,
                        size_t *OUT_n)
{
    struct mem *m = state;
    struct pd_k8s_binding *out = pd_arena_alloc(m->a, (m->nb + 1) * sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < m->nb; i++)
        if (strcmp(m->b[i].ns, ns ? ns : "") == 0)
            out[n++] = m->b[i];
    *OUT = out;
    *OUT_n = n;
    return PD_OK;
}

static int mem_role(void *state, const char *ns, const char *name, const struct pd_k8s_role **OUT)
{
    struct mem *m = state;
    for (size_t i = 0; i < m->nr; i++)
        if (strcmp(m->r[i].name, name) == 0 && strcmp(m->r[i].ns, ns ? ns : "") == 0 &&
            strcmp(m->r[i].kind, ns ? "Role" : "ClusterRole") == 0) {
            *OUT = &m->r[i];
            return PD_OK;
        }
    return PD_ENOTFOUND;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pd_log_level = -1;
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *lines[3] = {text, NULL, NULL};
    char *rest = NULL;
    for (int i = 0; i < 3; i++) {
        char *nl = strchr(lines[i], '\n');
        if (!nl) {
            free(text);
            return 0;
        }
        *nl = '\0';
        if (i < 2)
            lines[i + 1] = nl + 1;
        else
            rest = nl + 1;
    }
    struct pd_arena a;
    pd_arena_init(&a);
    /* the request */
    char *sp = strchr(lines[0], ' ');
    const char *method = "GET", *path = lines[0], *query = "";
    if (sp) {
        *sp = '\0';
        method = lines[0];
        path = sp + 1;
    }
    char *qm = strchr(path, '?');
    if (qm) {
        *qm = '\0';
        query = qm + 1;
    }
    struct pd_kvs q = {0};
    if (pd_kvs_parse_form(&a, &q, query, strlen(query), 1))
        q.n = 0;
    struct pd_k8s_attrs at;
    pd_k8s_request_info(&a, method, path, &q, &at);
    if (!at.verb || !at.path || !at.resource || !at.ns || !at.name || !at.api_group)
        abort();
    struct pd_k8s_user u = {.username = lines[1]};
    for (char *g = lines[2]; g && *g;) {
        char *comma = strchr(g, ',');
        if (comma)
            *comma = '\0';
        pd_k8s_user_add_group(&a, &u, g);
        g = comma ? comma + 1 : NULL;
    }
    at.user = &u;
    /* the objects */
    json_t *objs = json_loads(rest, 0, NULL);
    size_t n = json_array_size(objs);
    struct mem m = {pd_arena_zalloc(&a, (n + 1) * sizeof *m.b), 0,
                    pd_arena_zalloc(&a, (n + 1) * sizeof *m.r), 0, &a};
    json_t *crs = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (kind && strcmp(kind, "ClusterRole") == 0)
            json_array_append(crs, o);
    }
    json_array_foreach(objs, i, o)
    {
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (!kind || !json_is_object(o))
            continue;
        if (strcmp(kind, "RoleBinding") == 0 || strcmp(kind, "ClusterRoleBinding") == 0) {
            pd_k8s_binding_from_json(&a, o, &m.b[m.nb++]);
        } else if (strcmp(kind, "Role") == 0 || strcmp(kind, "ClusterRole") == 0) {
            json_t *obj = json_deep_copy(o);
            if (json_object_get(o, "aggregationRule"))
                json_object_set_new(obj, "rules", pd_k8s_rbac_aggregated_rules(&a, o, crs));
            json_t *sels =
                json_object_get(json_object_get(o, "aggregationRule"), "clusterRoleSelectors");
            size_t k;
            json_t *sel;
            json_array_foreach(sels, k, sel)
            {
                pd_k8s_label_selector_match(sel, o);
            }
            pd_k8s_role_from_json(&a, obj, kind, &m.r[m.nr++]);
            json_decref(obj);
        }
    }
    struct pd_k8s_rbac_source src = {&m, mem_bindings, mem_role};
    struct pd_k8s_decision d;
    pd_k8s_rbac_authorize(&src, &a, &at, &d);
    if (!d.reason || !d.trace)
        abort();
    json_decref(d.trace);
    /* RulesFor agrees with the authorizer */
    struct pd_k8s_rule_list rules = {0};
    const char *err = NULL;
    pd_k8s_rbac_rules_for(&src, &a, &u, at.resource_request ? at.ns : "", &rules, &err);
    int any = 0;
    for (size_t k = 0; k < rules.n && !any; k++)
        any = pd_k8s_rule_allows(&rules.v[k], &at);
    if (any != (d.verdict == PD_K8S_ALLOW))
        abort();
    /* a user holds its own rules */
    struct pd_k8s_rule_list missing = {0};
    if (pd_k8s_rbac_covers(&a, rules.v, rules.n, rules.v, rules.n, &missing) == PD_OK && missing.n)
        abort();
    pd_k8s_rbac_missing_str(&a, &missing);
    for (size_t k = 0; k < rules.n && k < 8; k++)
        pd_k8s_rule_str(&a, &rules.v[k]);
    json_t *fd;
    pd_k8s_forbidden_message(&a, &at, d.reason, &fd);
    json_decref(fd);
    json_decref(crs);
    json_decref(objs);
    pd_arena_cleanup(&a);
    free(text);
    return 0;
}
