/*
 * eks_auth.c - two doors to the Pod Identity exchange (services/podid.h):
 *
 *  - the eks-auth service: AssumeRoleForPodIdentity, rest-json, signed with the node's
 *    credentials (eks-auth:AssumeRoleForPodIdentity on the cluster), as the EKS Pod Identity
 *    Agent calls it;
 *  - the agent itself: GET /_podiam/pod-identity/v1/credentials on podiam's listeners,
 *    loopback clients only, in the container credentials format the SDKs read through
 *    AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: the
 *    Authorization header is the pod's token as is; the cluster is the one whose issuer
 *    signed it. Errors as the agent sends them: text, eks-auth's status, and
 *    "[REQUEST-ID]: (CODE): MESSAGE, fault: client".
 */
#include <jansson.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "crypto/jwt.h"
#include "env.h"
#include "services/eks_internal.h"
#include "services/podid.h"
#include "services/service.h"
#include "store/eks_db.h"
#include "store/store.h"

#define AGENT_PATH "/_podiam/pod-identity/v1/credentials"

/* ---- eks-auth ---- */

static int assume_role_for_pod_identity(struct pd_req *r)
{
    const char *name = json_string_value(json_object_get(r->in, "clusterName"));
    const char *token = json_string_value(json_object_get(r->in, "token"));
    struct pd_eks_db_cluster c;
    int rc = pd_eks_db_cluster_get(r->db, &r->arena, r->who.account_id ? r->who.account_id : "",
                                   pd_eks_region(r), name ? name : "", &c);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &pd_podid_ResourceNotFound, "No cluster found for name: %s.",
                       name ? name : "");
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the cluster");
    struct pd_podid_result res;
    if (pd_podid_assume(r, &c, token, &res))
        return PD_EAWS;
    r->out = res.out;
    return PD_OK;
}

static int eks_auth_authz(struct pd_req *r, struct pd_authz_need *need)
{
    if (pd_podid_trust_authz(r, need))
        return PD_OK;
    const char *name = json_string_value(json_object_get(r->in, "clusterName"));
    need->deny = &pd_podid_AccessDenied;
    pd_authz_add(need, "eks-auth:AssumeRoleForPodIdentity",
                 pd_eks_cluster_arn(&r->arena, pd_eks_region(r),
                                    r->who.account_id ? r->who.account_id : "", name ? name : ""),
                 NULL);
    return PD_OK;
}

static const struct pd_op auth_ops[] = {
    {"AssumeRoleForPodIdentity", assume_role_for_pod_identity, 0},
    {NULL, NULL, 0},
};

const struct pd_service pd_svc_eks_auth = {
    .name = "eks-auth",
    .signing_name = "eks-auth",
    .proto = PD_PROTO_REST_JSON,
    .spec = "eks-auth.json",
    .ops = auth_ops,
    .authz = eks_auth_authz,
};

/* ---- the agent ---- */

static int agent_text(struct pd_req *r, int status, const char *text)
{
    r->resp.status = status;
    r->resp.content_type = "text/plain; charset=utf-8";
    pd_buf_adds(&r->resp.body, text);
    return PD_OK;
}

static int agent_credentials(struct pd_req *r)
{
    const char *token = pd_req_header(r, "authorization");
    if (!token || !*token)
        return agent_text(r, 400, "Service account token cannot be empty");
    json_t *claims = NULL, *header = NULL;
    enum pd_jwt_reason why;
    if (pd_jwt_decode_unverified(token, strlen(token), &claims, &header, &why) != PD_OK)
        return agent_text(r, 400,
                          pd_arena_printf(&r->arena, "Service account token cannot be parsed: %s",
                                          pd_jwt_reason_str(why)));
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    iss = iss ? pd_arena_strdup(&r->arena, iss) : "";
    json_decref(claims);
    json_decref(header);

    if (pd_db_begin(r->db, 0))
        return agent_text(r, 503, "podiam is busy, try again");
    struct pd_eks_db_cluster c;
    struct pd_podid_result res;
    int rc = pd_eks_db_cluster_by_issuer(r->db, &r->arena, iss, &c);
    if (rc == PD_ENOTFOUND)
        pd_fail(r, &pd_podid_InvalidToken,
                "The token was not issued by any cluster podiam holds (iss %s)", iss);
    else if (rc)
        pd_fail(r, &PD_ERR_InternalFailure, "cannot read the cluster");
    else
        rc = pd_podid_assume(r, &c, token, &res);
    pd_db_commit(r->db);
    if (rc) {
        const struct pd_awserr *e = r->err.def ? r->err.def : &PD_ERR_InternalFailure;
        return agent_text(r, e->status,
                          pd_arena_printf(&r->arena, "[%s]: (%s): %s, fault: %s", r->request_id,
                                          e->code, r->err.message ? r->err.message : "",
                                          e->status >= 500 ? "server" : "client"));
    }
    json_t *cr = json_object_get(res.out, "credentials");
    char iso[32];
    pd_time_iso8601(json_integer_value(json_object_get(cr, "expiration")), 0, iso);
    json_t *body =
        json_pack("{s:O, s:O, s:O, s:s, s:s}", "AccessKeyId", json_object_get(cr, "accessKeyId"),
                  "SecretAccessKey", json_object_get(cr, "secretAccessKey"), "Token",
                  json_object_get(cr, "sessionToken"), "AccountId", res.account, "Expiration", iso);
    json_decref(res.out);
    return pd_req_reply_json(r, 200, body);
}

static int agent_authz(struct pd_req *r, struct pd_authz_need *need)
{
    pd_podid_trust_authz(r, need); /* nothing else: the agent needs no permission */
    return PD_OK;
}

static const struct pd_op agent_ops[] = {
    {"PodIdentityAgentCredentials", agent_credentials, PD_OP_NOTXN},
    {NULL, NULL, 0},
};

static int agent_route(struct pd_req *r)
{
    if (strcmp(r->path, AGENT_PATH) != 0)
        return 0;
    r->op_name = "PodIdentityAgentCredentials";
    if (strcmp(r->method, "GET") != 0) {
        agent_text(r, 405, "Method not allowed: use GET");
        return 1;
    }
    /* loopback peer, loopback Host, no foreign Origin: what the SDKs send (a page reaching
     * podiam through DNS rebinding carries another Host) */
    const char *why = pd_req_admin_refusal(r, PD_ADMIN_READ);
    if (why) {
        agent_text(r, 403, pd_arena_printf(&r->arena, "Access Denied: %s", why));
        return 1;
    }
    r->op = &agent_ops[0];
    return 1;
}

const struct pd_service pd_svc_podid_agent = {
    .name = "pod-identity-agent",
    .proto = PD_PROTO_RAW,
    .ops = agent_ops,
    .route = agent_route,
    .authz = agent_authz,
};
