/*
 * sts.c - the STS service (query protocol): who am I, and temporary credentials.
 *
 * Temporary credentials are minted by auth/creds.c as sealed session tokens; nothing is
 * written to the store. GetCallerIdentity needs no permission and cannot be denied.
 */
#include <string.h>

#include "auth/creds.h"
#include "auth/policy_cache.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "env.h"
#include "services/service.h"
#include "services/sts.h"
#include "store/iam_db.h"

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

/* ---- AssumeRole ---- */

/* The role an ARN names (arn:aws:iam::ACCT:role/PATH/NAME), if podiam holds it. */
static int role_of_arn(struct pd_req *r, const char *arn, struct pd_iam_role *OUT)
{
    struct pd_arn a;
    const char *type, *name;
    if (pd_arn_parse(&r->arena, arn, &a) || strcmp(a.service, "iam") != 0 ||
        pd_arn_resource_split(&r->arena, a.resource, &type, NULL, &name) ||
        strcmp(type, "role") != 0)
        return PD_EINVAL;
    int rc = pd_iam_db_role_get(r->db, &r->arena, a.account, name, OUT);
    if (rc == PD_OK && strcmp(OUT->arn, arn) != 0)
        return PD_ENOTFOUND; /* same name, other path: not the role named */
    return rc;
}

static const char *in_str(struct pd_req *r, const char *member)
{
    return json_string_value(json_object_get(r->in, member));
}

/* Keys an AssumeRole request adds (IAM User Guide, "AWS STS condition context keys"). */
static void assume_role_keys(struct pd_req *r, struct pd_authz_need *need)
{
    static const char *const keys[][2] = {{"ExternalId", "sts:ExternalId"},
                                          {"RoleSessionName", "sts:RoleSessionName"},
                                          {"SourceIdentity", "sts:SourceIdentity"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = in_str(r, keys[i][0]);
        if (v)
            pd_ctx_add(&need->ctx, keys[i][1], PD_CTX_STRING, v, (size_t)-1);
    }
    json_t *ttk = json_object_get(r->in, "TransitiveTagKeys");
    size_t i;
    json_t *k;
    json_array_foreach(ttk, i, k)
    {
        pd_ctx_add(&need->ctx, "sts:TransitiveTagKeys", PD_CTX_STRING, json_string_value(k),
                   (size_t)-1);
    }
}

static int sts_authz(struct pd_req *r, struct pd_authz_need *need)
{
    if (strcmp(r->op->name, "AssumeRole") != 0) {
        pd_authz_add(need, pd_arena_printf(&r->arena, "sts:%s", r->op->name), "*", NULL);
        return PD_OK;
    }
    /* The account root can never assume a role, whatever the trust policy says: AWS answers
     * this before evaluating any policy. */
    if (r->who.kind == PD_CALLER_ROOT)
        return pd_fail(r, &STS_AccessDenied, "Roles may not be assumed by root accounts.");
    const char *arn = in_str(r, "RoleArn");
    struct pd_iam_role role;
    pd_authz_add(need, "sts:AssumeRole", arn, NULL);
    if (json_array_size(json_object_get(r->in, "Tags")))
        pd_authz_add(need, "sts:TagSession", arn, NULL);
    if (in_str(r, "SourceIdentity"))
        pd_authz_add(need, "sts:SetSourceIdentity", arn, NULL);
    assume_role_keys(r, need);
    struct pd_arn a;
    if (pd_arn_parse(&r->arena, arn, &a) == PD_OK)
        need->resource_account = a.account;
    /* A role podiam does not hold has no trust policy: the trust check then fails, as on
     * AWS, with AccessDenied rather than a hint that the role does not exist. */
    need->trust = 1;
    need->policy_id = arn;
    if (role_of_arn(r, arn, &role) == PD_OK) {
        need->resource_policy = role.trust_policy;
        need->resource_account = role.account_id;
    }
    return PD_OK;
}

/* Rough packed size of session policies and tags, as a percentage of what STS allows.
 * AWS compresses them into a binary format of its own; this counts what dominates it. */
static int packed_percent(const char *policy, json_t *arns, json_t *tags)
{
    size_t n = policy ? pd_policy_size_nonws(policy, strlen(policy)) : 0;
    n += 32 * json_array_size(arns);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        n += (k ? strlen(k) : 0) + (v ? strlen(v) : 0) + 8;
    }
    return (int)((n * 100 + 2047) / 2048);
}

static int assume_role(struct pd_req *r)
{
    const struct pd_principal *w = &r->who;
    const char *arn = in_str(r, "RoleArn");
    const char *session = in_str(r, "RoleSessionName");
    if (w->kind == PD_CALLER_ROOT)
        return pd_fail(r, &STS_AccessDenied, "Roles may not be assumed by root accounts.");
    struct pd_iam_role role;
    int rc = role_of_arn(r, arn, &role);
    if (rc == PD_EINVAL)
        return pd_fail(r, &STS_ValidationError, "%s is invalid", arn);
    if (rc)
        return pd_fail(r, &STS_AccessDenied,
                       "User: %s is not authorized to perform: sts:AssumeRole on resource: %s",
                       w->arn, arn);

    json_t *d = json_object_get(r->in, "DurationSeconds");
    int64_t duration = d ? json_integer_value(d) : 3600;
    int chained = w->kind == PD_CALLER_ROLE_SESSION;
    if (chained && duration > 3600)
        return pd_fail(r, &STS_ValidationError,
                       "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                       "assumed by role chaining.");
    if (duration > role.max_session)
        return pd_fail(r, &STS_ValidationError,
                       "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                       "role.");

    /* Session policies: compiled now, so a bad one fails here and not at use. */
    const char *policy = in_str(r, "Policy");
    if (policy) {
        char err[256];
        const char *why = NULL;
        struct pd_cached_policy *h = NULL;
        if (pd_policy_cache_get(r->env->policies, PD_POLICY_SESSION, policy, strlen(policy), err,
                                sizeof err, &h, &why))
            return pd_fail(r, &STS_MalformedPolicyDocument, "%s",
                           why ? why : "Syntax errors in policy.");
        pd_policy_cache_release(r->env->policies, h);
    }
    json_t *arns_in = json_object_get(r->in, "PolicyArns");
    json_t *arns = json_array();
    size_t i;
    json_t *pa;
    json_array_foreach(arns_in, i, pa)
    {
        json_array_append_new(arns, json_string(json_string_value(json_object_get(pa, "arn"))));
    }

    /* Session tags: the request's, then transitive ones inherited along a role chain. */
    json_t *tags_in = json_object_get(r->in, "Tags");
    json_t *tags = json_object(), *transitive = json_array();
    json_t *t;
    json_array_foreach(tags_in, i, t)
    {
        json_object_set(tags, json_string_value(json_object_get(t, "Key")),
                        json_object_get(t, "Value"));
    }
    json_t *ttk = json_object_get(r->in, "TransitiveTagKeys");
    json_array_foreach(ttk, i, t)
    {
        if (!json_object_get(tags, json_string_value(t))) {
            json_decref(tags);
            json_decref(transitive);
            json_decref(arns);
            return pd_fail(r, &STS_InvalidParameterValue,
                           "The specified transitive tag key must be included in the requested "
                           "tags.");
        }
        json_array_append(transitive, t);
    }
    json_t *prev = pd_creds_session_extra(w);
    json_t *inherited = json_object_get(prev, "transitive");
    json_array_foreach(inherited, i, t)
    {
        const char *k = json_string_value(t);
        json_t *v = json_object_get(json_object_get(prev, "tags"), k);
        if (json_object_get(tags, k)) {
            json_decref(prev);
            json_decref(tags);
            json_decref(transitive);
            json_decref(arns);
            return pd_fail(r, &STS_InvalidParameterValue,
                           "The request includes a session tag (%s) that conflicts with a "
                           "transitive tag inherited from the role chain.",
                           k);
        }
        json_object_set(tags, k, v);
        json_array_append(transitive, t);
    }
    const char *source = in_str(r, "SourceIdentity");
    const char *prev_source = json_string_value(json_object_get(prev, "source_identity"));
    if (prev_source && source && strcmp(prev_source, source) != 0) {
        json_decref(prev);
        json_decref(tags);
        json_decref(transitive);
        json_decref(arns);
        return pd_fail(r, &STS_AccessDenied,
                       "The source identity of a role chain cannot be changed (it is %s).",
                       prev_source);
    }
    if (!source && prev_source)
        source = pd_arena_strdup(&r->arena, prev_source);
    json_decref(prev);

    int packed = (policy || json_array_size(arns) || json_object_size(tags))
                     ? packed_percent(policy, arns, tags_in)
                     : -1;
    if (packed > 100) {
        json_decref(tags);
        json_decref(transitive);
        json_decref(arns);
        return pd_fail(r, &STS_PackedPolicyTooLarge,
                       "Packed policy consumes %d%% of allotted space, please use smaller policy.",
                       packed);
    }

    struct pd_principal s = {
        .kind = PD_CALLER_ROLE_SESSION,
        .account_id = role.account_id,
        .arn = pd_arena_printf(&r->arena, "arn:aws:sts::%s:assumed-role/%s/%s", role.account_id,
                               role.name, session),
        .user_id = pd_arena_printf(&r->arena, "%s:%s", role.unique_id, session),
        .name = role.name,
        .path = role.path,
        .unique_id = role.unique_id,
        .role_arn = role.arn,
        .session_name = session,
    };
    json_t *extra = json_object();
    if (policy)
        json_object_set_new(extra, "policy", json_string(policy));
    if (json_array_size(arns))
        json_object_set(extra, "policy_arns", arns);
    if (json_object_size(tags))
        json_object_set(extra, "tags", tags);
    if (json_array_size(transitive))
        json_object_set(extra, "transitive", transitive);
    if (source)
        json_object_set_new(extra, "source_identity", json_string(source));
    if (chained)
        json_object_set_new(extra, "chained", json_true());
    json_decref(tags);
    json_decref(transitive);
    json_decref(arns);

    json_t *creds = NULL;
    rc = pd_sts_mint(r, &s, extra, duration, &creds);
    json_decref(extra);
    if (rc)
        return rc;
    pd_iam_db_role_touch(r->db, role.id, pd_clock_now_ms(&r->env->clock),
                         r->region[0] ? r->region : r->env->cfg.region);
    r->out = json_pack("{s:o, s:{s:s, s:s}}", "Credentials", creds, "AssumedRoleUser",
                       "AssumedRoleId", s.user_id, "Arn", s.arn);
    if (packed >= 0)
        json_object_set_new(r->out, "PackedPolicySize", json_integer(packed));
    if (source)
        json_object_set_new(r->out, "SourceIdentity", json_string(source));
    return PD_OK;
}

static const struct pd_op ops[] = {
    {"AssumeRole", assume_role, PD_OP_WRITE},
    {"GetCallerIdentity", get_caller_identity, PD_OP_NOAUTHZ},
    {"GetSessionToken", get_session_token, PD_OP_NOAUTHZ},
    {NULL, NULL, 0},
};

const struct pd_service pd_svc_sts = {
    .name = "sts",
    .signing_name = "sts",
    .proto = PD_PROTO_QUERY,
    .spec = "sts.json",
    .ops = ops,
    .authz = sts_authz,
};
