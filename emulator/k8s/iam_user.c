/*
 * iam_user.c - which Kubernetes user a verified `aws eks get-token` caller is on a cluster
 * (internal.h, pd_k8s_identity_from_iam): the one way from an IAM principal to a user.
 *
 * It asks k8s/access.c, which gathers the cluster's authentication mode, access entries and
 * aws-auth ConfigMap (parsed through the process's cache, env->awsauth) and lets
 * k8s/identity.c map the caller as EKS does; then it copies the answer into the request's
 * user: username, uid, groups (plus system:authenticated, as kube-apiserver adds it), EKS's
 * extras, and the mapping (struct pd_k8s_eks_mapping) the decision log explains and the EKS
 * authorizer grants through. An unmapped caller is PD_ESIG: 401 Unauthorized, as on EKS.
 *
 * Owns the process's aws-auth cache (env->awsauth: pd_k8s_auth_init / _cleanup) and nothing
 * past the request: everything is copied into the request's arena before the cached aws-auth
 * is released. Verifying the token is authn.c's; what the user may do is the authorizer
 * chain's.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "env.h"
#include "k8s/access.h"
#include "k8s/internal.h"
#include "req.h"

/* Clusters whose parsed aws-auth is kept (one entry each; the least recently used goes). */
#define AWSAUTH_CACHED_CLUSTERS 64

void pd_k8s_auth_init(struct pd_env *env)
{
    env->awsauth = pd_awsauth_cache_new(AWSAUTH_CACHED_CLUSTERS);
}

void pd_k8s_auth_cleanup(struct pd_env *env)
{
    pd_awsauth_cache_free(env->awsauth);
    env->awsauth = NULL;
}

static const char *by_name(const struct pd_eks_identity *id)
{
    switch (id->by) {
    case PD_EKS_BY_CREATOR:
        return "creator";
    case PD_EKS_BY_ACCESS_ENTRY:
        return "access entry";
    case PD_EKS_BY_AWS_AUTH:
        return id->line && id->line->kind == PD_AWSAUTH_USER ? "aws-auth mapUsers"
                                                             : "aws-auth mapRoles";
    case PD_EKS_BY_MAP_ACCOUNTS:
        return "aws-auth mapAccounts";
    case PD_EKS_NOT_MAPPED:
    default:
        return "not mapped";
    }
}

/* The mapping for the decision log and the EKS authorizer (arena copies). */
static struct pd_k8s_eks_mapping *mapping(struct pd_arena *a, const struct pd_k8s_eks_identity *x,
                                          const char *mode)
{
    const struct pd_eks_identity *id = &x->id;
    struct pd_k8s_eks_mapping *m = pd_arena_zalloc(a, sizeof *m);
    m->by = by_name(id);
    m->mode = mode;
    if (id->by == PD_EKS_BY_ACCESS_ENTRY && x->entry) {
        m->entry_arn = x->entry->ref.entry_arn ? x->entry->ref.entry_arn : "";
        m->principal = x->entry->ref.principal_arn;
        m->policies = x->entry->policies; /* the request's arena (pd_eks_access_entries) */
        m->npolicies = x->entry->npolicies;
    }
    if (id->by == PD_EKS_BY_AWS_AUTH && id->line) {
        m->line = id->line->line;
        m->index = id->line->index + 1;
    }
    const char **trace = pd_arena_zalloc(a, (id->ntrace + 1) * sizeof *trace);
    for (size_t i = 0; i < id->ntrace; i++)
        trace[i] = pd_arena_strdup(a, id->trace[i]);
    m->trace = trace;
    m->ntrace = id->ntrace;
    return m;
}

int pd_k8s_identity_from_iam(struct pd_req *r, const struct pd_eks_cluster *c,
                             const struct pd_principal *p, struct pd_k8s_user *OUT,
                             const char **OUT_why)
{
    struct pd_arena *a = &r->arena;
    struct pd_k8s_eks_identity x;
    int rc = pd_k8s_eks_identity(r->db, a, r->env->awsauth, c, p, &x);
    if (rc) {
        pd_k8s_eks_identity_release(&x);
        *OUT_why = pd_arena_printf(a, "cannot read the cluster's access configuration: %s",
                                   pd_strerror(rc));
        return rc == PD_EINVAL ? PD_ESIG : rc;
    }
    const struct pd_eks_identity *id = &x.id;
    OUT->arn = p->arn;
    OUT->eks = mapping(a, &x, c->auth_mode ? c->auth_mode : "CONFIG_MAP");
    OUT->mapped_by = pd_arena_strdup(a, id->mapped_by ? id->mapped_by : "");
    if (id->by == PD_EKS_NOT_MAPPED) {
        pd_k8s_eks_identity_release(&x);
        *OUT_why = OUT->mapped_by;
        return PD_ESIG;
    }
    /* the username and groups may point into the cached aws-auth: copy them */
    OUT->username = pd_arena_strdup(a, id->username);
    OUT->uid = pd_arena_strdup(a, id->uid);
    for (size_t i = 0; i < id->ngroups; i++)
        pd_k8s_user_add_group(a, OUT, pd_arena_strdup(a, id->groups[i]));
    if (!pd_k8s_user_in_group(OUT, "system:authenticated"))
        pd_k8s_user_add_group(a, OUT, "system:authenticated");
    OUT->extra = json_object();
    for (size_t i = 0; i < id->nextra; i++)
        json_object_set_new(OUT->extra, id->extra[i].key, json_pack("[s]", id->extra[i].value));
    pd_k8s_eks_identity_release(&x);
    return PD_OK;
}
