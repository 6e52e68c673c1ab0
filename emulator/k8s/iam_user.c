/*
 * iam_user.c - THE IDENTITY SEAM: which Kubernetes user an authenticated IAM principal is on
 * a cluster (internal.h, pd_k8s_identity_from_iam). Owns that mapping and nothing else:
 * verifying the get-token token is authn.c's, deciding what the user may do is the
 * authorizer chain's.
 *
 * Today every IAM identity is itself: username = the caller ARN (as EKS names access-entry
 * users by default), groups [system:authenticated], plus system:masters for the cluster's
 * creator (EKS's hidden bootstrap admin in CONFIG_MAP mode); uid and extras as
 * aws-iam-authenticator sets them. The access-entries / aws-auth work replaces the body
 * (authentication modes, mapRoles/mapUsers/mapAccounts, templates, access entries) and
 * may answer PD_ESIG for an unmapped principal (401, as EKS does).
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "k8s/internal.h"
#include "req.h"

/* The role's IAM ARN without path, as aws-iam-authenticator canonicalises it. */
static const char *canonical_arn(struct pd_arena *a, const struct pd_principal *p)
{
    if (p->kind == PD_CALLER_ROLE_SESSION && p->name)
        return pd_arena_printf(a, "arn:aws:iam::%s:role/%s", p->account_id, p->name);
    return p->arn;
}

int pd_k8s_identity_from_iam(struct pd_req *r, const struct pd_eks_cluster *c,
                             const struct pd_principal *p, struct pd_k8s_user *OUT,
                             const char **OUT_why)
{
    (void)OUT_why;
    struct pd_arena *a = &r->arena;
    OUT->username = p->arn;
    OUT->arn = p->arn;
    const char *principal_id = p->user_id ? p->user_id : p->account_id;
    OUT->uid = pd_arena_printf(a, "aws-iam-authenticator:%s:%s", p->account_id,
                               p->unique_id ? p->unique_id : principal_id);
    if (pd_k8s_is_creator(a, c, p)) {
        pd_k8s_user_add_group(a, OUT, "system:masters");
        OUT->mapped_by = pd_arena_printf(a,
                                         "cluster creator (CreateCluster caller %s): "
                                         "system:masters",
                                         c->creator_arn);
    } else {
        OUT->mapped_by = "IAM identity as itself (no access entry or aws-auth mapping yet)";
    }
    pd_k8s_user_add_group(a, OUT, "system:authenticated");
    OUT->extra =
        json_pack("{s:[s], s:[s], s:[s], s:[s], s:[s]}", "accessKeyId",
                  p->access_key_id ? p->access_key_id : "", "arn", p->arn, "canonicalArn",
                  canonical_arn(a, p), "principalId", p->unique_id ? p->unique_id : principal_id,
                  "sessionName", p->session_name ? p->session_name : "");
    return PD_OK;
}
