/*
 * sts.c - the STS service (query protocol): who am I, and temporary credentials.
 *
 * Temporary credentials are minted by auth/creds.c as sealed session tokens; nothing is
 * written to the store. GetCallerIdentity needs no permission and cannot be denied.
 */
#include <string.h>

#include "auth/creds.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "env.h"
#include "services/service.h"
#include "services/sts.h"

#define SENDER 0
#define RECEIVER 1
#define PD_AWSERR(name, code, status, fault)                                                       \
    const struct pd_awserr STS_##name = {code, status, fault};
#include "services/sts_errors.def"
#undef PD_AWSERR

static int get_caller_identity(struct pd_req *r)
{
    const struct pd_principal *w = &r->who;
    r->out = json_pack("{s:s, s:s, s:s}", "UserId", w->user_id ? w->user_id : "", "Account",
                       w->account_id ? w->account_id : "", "Arn", w->arn ? w->arn : "");
    return PD_OK;
}

int pd_sts_mint(struct pd_req *r, const struct pd_principal *session, const json_t *extra,
                int64_t duration_s, json_t **OUT_credentials)
{
    char akid[21];
    pd_ids_unique(&r->env->ids, "ASIA", 20, akid);
    struct pd_creds_minted m;
    int rc = pd_creds_mint(r->env->secrets, &r->arena, session, extra, akid,
                           pd_clock_now_ms(&r->env->clock), duration_s, &m);
    if (rc == PD_ETOOBIG)
        return pd_fail(r, &STS_PackedPolicyTooLarge,
                       "Packed policy consumes more than 100 percent of the allotted space.");
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "could not mint credentials");
    *OUT_credentials = json_pack("{s:s, s:s, s:s, s:I}", "AccessKeyId", m.access_key_id,
                                 "SecretAccessKey", m.secret_access_key, "SessionToken",
                                 m.session_token, "Expiration", (json_int_t)m.expires_ms);
    return PD_OK;
}

static int get_session_token(struct pd_req *r)
{
    const struct pd_principal *w = &r->who;
    if (w->temporary)
        return pd_fail(r, &STS_AccessDenied,
                       "Cannot call GetSessionToken with session credentials");
    int root = w->kind == PD_CALLER_ROOT;
    json_t *d = json_object_get(r->in, "DurationSeconds");
    int64_t duration = d ? json_integer_value(d) : (root ? 3600 : 43200);
    /* The model bounds it to 900..129600; the account root is capped at one hour. */
    if (root && duration > 3600)
        duration = 3600;
    json_t *creds = NULL;
    int rc = pd_sts_mint(r, w, NULL, duration, &creds);
    if (rc)
        return rc;
    r->out = json_pack("{s:o}", "Credentials", creds);
    return PD_OK;
}

static const struct pd_op ops[] = {
    {"GetCallerIdentity", get_caller_identity, PD_OP_NOAUTHZ},
    {"GetSessionToken", get_session_token, 0},
    {NULL, NULL, 0},
};

const struct pd_service pd_svc_sts = {
    .name = "sts",
    .signing_name = "sts",
    .proto = PD_PROTO_QUERY,
    .spec = "sts.json",
    .ops = ops,
};
