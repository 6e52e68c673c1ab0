/*
 * access.c - the glue between a verified IAM caller of a cluster and the pure access
 * modules: gathers the cluster's authentication mode and access entries (services/eks.h)
 * and its kube-system/aws-auth ConfigMap (store, parsed through the aws-auth cache), then
 * asks k8s/identity.c who the caller is. Reads only; no decisions of its own.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "k8s/access.h"
#include "store/k8s_db.h"

int pd_k8s_eks_identity(struct pd_db *db, struct pd_arena *a, struct pd_awsauth_cache *cache,
                        const struct pd_eks_cluster *c, const struct pd_principal *p,
                        struct pd_k8s_eks_identity *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->cache = cache;
    enum pd_eks_auth_mode mode = PD_EKS_MODE_CONFIG_MAP;
    if (c->auth_mode && pd_eks_auth_mode_parse(c->auth_mode, &mode))
        return PD_EINVAL;
    int rc = pd_eks_access_entries(db, a, c->id, &OUT->entries, &OUT->nentries);
    if (rc)
        return rc;
    /* the ConfigMap, by its resourceVersion (0 and no data when there is none) */
    struct pd_k8s_db_obj o;
    json_t *cm = NULL;
    int64_t rv = 0;
    rc = pd_k8s_db_get(db, a, c->id, "configmaps", "kube-system", "aws-auth", &o);
    if (rc == PD_OK) {
        cm = json_loads(o.body, 0, NULL);
        rv = o.rv;
    } else if (rc != PD_ENOTFOUND) {
        return rc;
    }
    json_t *data = cm ? json_object_get(cm, "data") : NULL;
    if (cm && !data)
        data = json_object(); /* a ConfigMap without data: present, nothing in it */
    else if (data)
        json_incref(data);
    if (cache) {
        OUT->aws_auth = pd_awsauth_cache_get(cache, c->id, rv, data, &OUT->ref);
    } else {
        struct pd_awsauth *m = pd_arena_zalloc(a, sizeof *m);
        pd_awsauth_parse_data(a, data, m);
        OUT->aws_auth = m;
    }
    json_decref(data);
    json_decref(cm);

    struct pd_eks_entry_ref *refs = pd_arena_zalloc(a, (OUT->nentries + 1) * sizeof *refs);
    for (size_t i = 0; i < OUT->nentries; i++)
        refs[i] = OUT->entries[i].ref;
    struct pd_eks_caller caller = {p->arn, p->account_id, p->user_id, p->access_key_id};
    struct pd_eks_identity_in in = {.mode = mode,
                                    .caller = &caller,
                                    .creator_arn = c->creator_arn,
                                    .entries = refs,
                                    .nentries = OUT->nentries,
                                    .aws_auth = OUT->aws_auth};
    rc = pd_eks_identity_map(a, &in, &OUT->id);
    if (rc == PD_OK && OUT->id.by == PD_EKS_BY_ACCESS_ENTRY)
        OUT->entry = &OUT->entries[OUT->id.entry];
    return rc;
}

void pd_k8s_eks_identity_release(struct pd_k8s_eks_identity *x)
{
    if (x->cache && x->ref)
        pd_awsauth_cache_release(x->cache, x->ref);
    x->ref = NULL;
    x->aws_auth = NULL;
}
