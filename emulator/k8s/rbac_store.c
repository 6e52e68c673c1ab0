/*
 * rbac_store.c - the cluster's RBAC objects as the RBAC engine (rbac.h) reads them, and the
 * RBAC member of the authorizer chain (pd_k8s_authz_rbac).
 *
 * Owns a per-request cache: every ClusterRoleBinding, the RoleBindings of each namespace
 * asked about and each role looked up are read from the store and parsed once per request
 * (a request may be authorized several times: impersonation, escalate/bind checks, reviews).
 * A request that writes RBAC objects calls pd_k8s_rbac_store_forget afterwards.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "k8s/internal.h"
#include "k8s/rbac.h"
#include "store/k8s_db.h"

struct ns_bindings {
    const char *ns;
    const struct pd_k8s_binding *v;
    size_t n;
    int rc;
    struct ns_bindings *next;
};

struct role_entry {
    const char *ns; /* NULL: ClusterRole */
    const char *name;
    const struct pd_k8s_role *role; /* NULL: not found */
    int rc;
    struct role_entry *next;
};

struct pd_k8s_rbac_store {
    struct pd_db *db;
    struct pd_arena *a;
    const char *cluster;
    struct ns_bindings *bindings; /* ns "" = ClusterRoleBindings */
    struct role_entry *roles;
    struct pd_k8s_rbac_source src;
};

static int load_bindings(struct pd_k8s_rbac_store *s, const char *ns, struct ns_bindings *out)
{
    struct pd_k8s_db_obj *rows;
    size_t n;
    int rc = pd_k8s_db_list(s->db, s->a, s->cluster,
                            *ns ? PD_K8S_STORE_ROLEBINDINGS : PD_K8S_STORE_CLUSTERROLEBINDINGS, ns,
                            &rows, &n);
    if (rc)
        return rc;
    struct pd_k8s_binding *v = n ? pd_arena_alloc(s->a, n * sizeof *v) : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_loads(rows[i].body, 0, NULL);
        if (json_is_object(o))
            pd_k8s_binding_from_json(s->a, o, &v[k++]);
        json_decref(o);
    }
    out->v = v;
    out->n = k;
    return PD_OK;
}

static int src_bindings(void *state, const char *ns, const struct pd_k8s_binding **OUT,
                        size_t *OUT_n)
{
    struct pd_k8s_rbac_store *s = state;
    const char *key = ns ? ns : "";
    struct ns_bindings *e;
    for (e = s->bindings; e; e = e->next)
        if (strcmp(e->ns, key) == 0)
            break;
    if (!e) {
        e = pd_arena_zalloc(s->a, sizeof *e);
        e->ns = pd_arena_strdup(s->a, key);
        e->rc = load_bindings(s, key, e);
        e->next = s->bindings;
        s->bindings = e;
    }
    *OUT = e->v;
    *OUT_n = e->n;
    return e->rc;
}

static int src_role(void *state, const char *ns, const char *name, const struct pd_k8s_role **OUT)
{
    struct pd_k8s_rbac_store *s = state;
    struct role_entry *e;
    for (e = s->roles; e; e = e->next)
        if (strcmp(e->name, name) == 0 && (ns ? e->ns && strcmp(e->ns, ns) == 0 : !e->ns))
            break;
    if (!e) {
        e = pd_arena_zalloc(s->a, sizeof *e);
        e->ns = ns ? pd_arena_strdup(s->a, ns) : NULL;
        e->name = pd_arena_strdup(s->a, name);
        struct pd_k8s_db_obj o;
        e->rc = pd_k8s_db_get(s->db, s->a, s->cluster,
                              ns ? PD_K8S_STORE_ROLES : PD_K8S_STORE_CLUSTERROLES, ns ? ns : "",
                              name, &o);
        if (e->rc == PD_OK) {
            json_t *j = json_loads(o.body, 0, NULL);
            struct pd_k8s_role *r = pd_arena_zalloc(s->a, sizeof *r);
            pd_k8s_role_from_json(s->a, j, ns ? "Role" : "ClusterRole", r);
            json_decref(j);
            e->role = r;
        }
        e->next = s->roles;
        s->roles = e;
    }
    *OUT = e->role;
    return e->rc;
}

struct pd_k8s_rbac_store *pd_k8s_rbac_store_new(struct pd_arena *a, struct pd_db *db,
                                                const char *cluster)
{
    struct pd_k8s_rbac_store *s = pd_arena_zalloc(a, sizeof *s);
    s->db = db;
    s->a = a;
    s->cluster = cluster;
    s->src = (struct pd_k8s_rbac_source){s, src_bindings, src_role};
    return s;
}

const struct pd_k8s_rbac_source *pd_k8s_rbac_store_source(struct pd_k8s_rbac_store *s)
{
    return &s->src;
}

void pd_k8s_rbac_store_forget(struct pd_k8s_rbac_store *s)
{
    if (s) {
        s->bindings = NULL;
        s->roles = NULL;
    }
}

/* ---- the chain's RBAC member ---- */

static void rbac_authorize(struct pd_k8s_authz_env *e, const struct pd_k8s_attrs *at,
                           struct pd_k8s_decision *OUT)
{
    pd_k8s_rbac_authorize(pd_k8s_rbac_store_source(e->rbac), e->a, at, OUT);
}

static void rbac_rules_for(struct pd_k8s_authz_env *e, const struct pd_k8s_user *u, const char *ns,
                           struct pd_k8s_rule_list *OUT, int *OUT_incomplete,
                           const char **OUT_error)
{
    *OUT_incomplete = 0;
    pd_k8s_rbac_rules_for(pd_k8s_rbac_store_source(e->rbac), e->a, u, ns, OUT, OUT_error);
}

const struct pd_k8s_authorizer pd_k8s_authz_rbac = {"rbac", rbac_authorize, rbac_rules_for};
