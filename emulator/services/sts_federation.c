/*
 * sts_federation.c - the rest of STS a test suite meets: GetFederationToken (federated-user
 * sessions with session policies and tags), GetAccessKeyInfo (the account behind a key id)
 * and DecodeAuthorizationMessage (the encoded message of a denial, auth/authz_message.h).
 *
 * A federated user's session is sealed like any other (auth/creds.c): kind "federated", ARN
 * arn:aws:sts::ACCT:federated-user/NAME, user id ACCT:NAME, and the IAM user (or root) who
 * asked for it as the session's "federated_by", whose policies intersect the session
 * policies when it signs (auth/authz.c). Writes nothing to the store.
 */
#include <string.h>

#include "auth/authz_message.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "env.h"
#include "services/service.h"
#include "services/sts.h"
#include "services/sts_internal.h"
#include "store/iam_db.h"

static const char *in_str(struct pd_req *r, const char *member)
{
    return json_string_value(json_object_get(r->in, member));
}

static const char *federated_arn(struct pd_req *r, const char *account, const char *name)
{
    return pd_arena_printf(&r->arena, "arn:aws:sts::%s:federated-user/%s", account, name);
}

/* ---- GetFederationToken ---- */

int pd_sts_federation_authz(struct pd_req *r, struct pd_authz_need *need)
{
    if (strcmp(r->op->name, "GetFederationToken") != 0)
        return 0;
    const char *name = in_str(r, "Name");
    const char *arn =
        federated_arn(r, r->who.account_id ? r->who.account_id : "", name ? name : "");
    pd_authz_add(need, "sts:GetFederationToken", arn, NULL);
    if (json_array_size(json_object_get(r->in, "Tags")))
        pd_authz_add(need, "sts:TagSession", arn, NULL);
    return 1;
}

int pd_sts_get_federation_token(struct pd_req *r)
{
    const struct pd_principal *w = &r->who;
    if (w->temporary)
        return pd_fail(r, &STS_AccessDenied,
                       "Cannot call GetFederationToken with session credentials");
    if (w->kind != PD_CALLER_USER && w->kind != PD_CALLER_ROOT)
        return pd_fail(r, &STS_AccessDenied,
                       "Only IAM users and the account root may call GetFederationToken");
    const char *name = in_str(r, "Name");
    json_t *d = json_object_get(r->in, "DurationSeconds");
    int root = w->kind == PD_CALLER_ROOT;
    int64_t duration = d ? json_integer_value(d) : 43200;
    /* The model bounds it to 900..129600; the root's sessions last at most an hour. */
    if (root && duration > 3600)
        duration = 3600;

    const char *policy = NULL;
    json_t *arns = NULL;
    if (pd_sts_session_policies(r, &policy, &arns))
        return PD_EAWS;
    json_t *tags_in = json_object_get(r->in, "Tags");
    json_t *tags = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(tags_in, i, t)
    {
        json_object_set(tags, json_string_value(json_object_get(t, "Key")),
                        json_object_get(t, "Value"));
    }
    int packed = (policy || json_array_size(arns) || json_object_size(tags))
                     ? pd_sts_packed_percent(policy, arns, tags_in)
                     : -1;
    int rc = PD_OK;
    if (packed > 100) {
        rc = pd_fail(r, &STS_PackedPolicyTooLarge,
                     "Packed policy consumes %d%% of allotted space, please use smaller policy.",
                     packed);
        goto out;
    }
    struct pd_principal s = {
        .kind = PD_CALLER_FEDERATED,
        .account_id = w->account_id,
        .arn = federated_arn(r, w->account_id, name),
        .user_id = pd_arena_printf(&r->arena, "%s:%s", w->account_id, name),
        .name = name,
        .role_arn = w->arn, /* who federated: its policies bound the session */
        .session_name = name,
    };
    json_t *extra = json_object();
    if (policy)
        json_object_set_new(extra, "policy", json_string(policy));
    if (json_array_size(arns))
        json_object_set(extra, "policy_arns", arns);
    if (json_object_size(tags))
        json_object_set(extra, "tags", tags);
    json_object_set_new(extra, "federated_by",
                        root ? json_pack("{s:s}", "kind", "root")
                             : json_pack("{s:s, s:s}", "kind", "user", "name", w->name));
    json_t *creds = NULL;
    rc = pd_sts_mint(r, &s, extra, duration, &creds);
    json_decref(extra);
    if (rc)
        goto out;
    r->out = json_pack("{s:o, s:{s:s, s:s}}", "Credentials", creds, "FederatedUser",
                       "FederatedUserId", s.user_id, "Arn", s.arn);
    if (packed >= 0)
        json_object_set_new(r->out, "PackedPolicySize", json_integer(packed));
    pd_log_req(PD_LOG_INFO, r->request_id, "sts: federated user %s for %s", s.arn, w->arn);
out:
    json_decref(tags);
    json_decref(arns);
    return rc;
}

/* ---- GetAccessKeyInfo ---- */

int pd_sts_get_access_key_info(struct pd_req *r)
{
    const char *akid = in_str(r, "AccessKeyId");
    const char *account = NULL, *secret, *status;
    struct pd_iam_user *user = NULL;
    char decoded[13];
    /* A long-term key podiam holds names its account; any other key id is read as AWS's
     * layout (the STS keys podiam mints follow it): what the key says, whatever its state. */
    if (pd_iam_db_access_key_find(r->db, &r->arena, akid, &account, &user, &secret, &status) !=
        PD_OK) {
        if (pd_sts_key_account(akid, decoded) != PD_OK)
            return pd_fail(r, &STS_InvalidParameterValue,
                           "The access key ID %s does not encode an account.", akid);
        account = decoded;
    }
    r->out = json_pack("{s:s}", "Account", account);
    return PD_OK;
}

/* ---- DecodeAuthorizationMessage ---- */

int pd_sts_decode_authorization_message(struct pd_req *r)
{
    const char *text = in_str(r, "EncodedMessage");
    const char *account, *doc;
    if (pd_authz_message_decode(r->env->secrets, &r->arena, text, strlen(text), &account, &doc) !=
            PD_OK ||
        strcmp(account, r->who.account_id ? r->who.account_id : "") != 0)
        return pd_fail(r, &STS_InvalidAuthorizationMessageException,
                       "The encoded message is not one this account can decode.");
    r->out = json_pack("{s:s}", "DecodedMessage", doc);
    return PD_OK;
}
