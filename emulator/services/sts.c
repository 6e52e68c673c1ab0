/*
 * sts.c - the STS service (query protocol): who am I, and temporary credentials.
 *
 * Temporary credentials are minted by auth/creds.c as sealed session tokens; nothing is
 * written to the store. GetCallerIdentity needs no permission and cannot be denied.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/creds.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "services/oidc.h"
#include "auth/policy_cache.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "env.h"
#include "services/service.h"
#include "services/sts.h"
#include "services/sts_internal.h"
#include "services/oidc_remote.h"
#include "auth/decisions.h"
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

/* RFC 4648 base32, the alphabet of AWS access key ids. */
static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void pd_sts_key_id(struct pd_ids *ids, const char *prefix, const char *account, char OUT[21])
{
    /* AWS's layout, as public analyses of key ids read it (and GetAccessKeyInfo relies on):
     * ten bytes after the prefix, base32; bits 46..7 of the first six are the account. */
    uint64_t acct = 0;
    for (const char *p = account; p && *p >= '0' && *p <= '9'; p++)
        acct = acct * 10 + (uint64_t)(*p - '0');
    uint64_t rnd = pd_ids_next(ids);
    uint64_t hi = ((acct & 0xFFFFFFFFFFull) << 7) | (rnd & 0x7F); /* 48 bits, top one 0 */
    unsigned char b[10];
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(hi >> (40 - 8 * i));
    for (int i = 0; i < 4; i++)
        b[6 + i] = (unsigned char)(rnd >> (8 + 8 * i));
    snprintf(OUT, 5, "%s", prefix);
    for (int i = 0; i < 16; i++) {
        int bit = i * 5, v = 0;
        for (int k = 0; k < 5; k++, bit++)
            v = (v << 1) | ((b[bit / 8] >> (7 - bit % 8)) & 1);
        OUT[4 + i] = b32[v];
    }
    OUT[20] = '\0';
}

int pd_sts_key_account(const char *akid, char OUT[13])
{
    if (!akid || strlen(akid) < 20)
        return PD_EINVAL;
    unsigned char b[10] = {0};
    for (int i = 0; i < 16; i++) {
        const char *c = strchr(b32, akid[4 + i]);
        if (!akid[4 + i] || !c)
            return PD_EINVAL;
        int v = (int)(c - b32);
        for (int k = 4; k >= 0; k--) {
            int bit = i * 5 + (4 - k);
            if ((v >> k) & 1)
                b[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
        }
    }
    uint64_t hi = 0;
    for (int i = 0; i < 6; i++)
        hi = (hi << 8) | b[i];
    uint64_t acct = (hi & 0x7FFFFFFFFF80ull) >> 7;
    if (acct > 999999999999ull)
        return PD_EINVAL;
    snprintf(OUT, 13, "%012llu", (unsigned long long)acct);
    return PD_OK;
}

int pd_sts_mint(struct pd_req *r, const struct pd_principal *session, const json_t *extra,
                int64_t duration_s, json_t **OUT_credentials)
{
    char akid[21];
    pd_sts_key_id(&r->env->ids, "ASIA", session->account_id, akid);
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

#define ROLE_LAST_USED_GRAIN_MS 60000

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

static int web_identity_authz(struct pd_req *r, struct pd_authz_need *need);

static int sts_authz(struct pd_req *r, struct pd_authz_need *need)
{
    if (strcmp(r->op->name, "AssumeRoleWithWebIdentity") == 0)
        return web_identity_authz(r, need);
    if (pd_sts_federation_authz(r, need) || pd_sts_outbound_authz(r, need))
        return PD_OK;
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
int pd_sts_packed_percent(const char *policy, json_t *arns, json_t *tags)
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

/* Session policies of the request (Policy, PolicyArns): the inline one compiled now, so a
 * bad one fails here and not at use. *OUT_arns is a new array of ARN strings. */
int pd_sts_session_policies(struct pd_req *r, const char **OUT_policy, json_t **OUT_arns)
{
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
    json_t *arns = json_array();
    size_t i;
    json_t *pa;
    json_array_foreach(json_object_get(r->in, "PolicyArns"), i, pa)
    {
        json_array_append_new(arns, json_string(json_string_value(json_object_get(pa, "arn"))));
    }
    *OUT_policy = policy;
    *OUT_arns = arns;
    return PD_OK;
}

/* DurationSeconds of the request against the role's limits. */
static int session_duration(struct pd_req *r, const struct pd_iam_role *role, int chained,
                            int64_t *OUT)
{
    json_t *d = json_object_get(r->in, "DurationSeconds");
    int64_t duration = d ? json_integer_value(d) : 3600;
    if (chained && duration > 3600)
        return pd_fail(r, &STS_ValidationError,
                       "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                       "assumed by role chaining.");
    if (duration > role->max_session)
        return pd_fail(r, &STS_ValidationError,
                       "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                       "role.");
    *OUT = duration;
    return PD_OK;
}

/* What a new role session carries (AssumeRole, AssumeRoleWithWebIdentity). */
struct role_session {
    const struct pd_iam_role *role;
    const char *session;
    int64_t duration;
    const char *policy; /* inline session policy, or NULL */
    json_t *arns;       /* session policy ARNs (array, borrowed) */
    json_t *tags;       /* session tags, key -> value (object, borrowed) */
    json_t *tags_list;  /* the tags as passed ([{Key, Value}]), for the packed size */
    json_t *transitive; /* transitive tag keys (array, borrowed) */
    const char *source; /* source identity, or NULL */
    int chained;
    const char *extra_key; /* one more session fact (web identity), or NULL */
    json_t *extra_value;   /* borrowed */
};

/* Mint the session and fill r->out with Credentials, AssumedRoleUser, PackedPolicySize and
 * SourceIdentity. *OUT_session (may be NULL) receives the session principal. */
static int mint_role_session(struct pd_req *r, const struct role_session *rs,
                             struct pd_principal *OUT_session)
{
    int packed = (rs->policy || json_array_size(rs->arns) || json_object_size(rs->tags))
                     ? pd_sts_packed_percent(rs->policy, rs->arns, rs->tags_list)
                     : -1;
    if (packed > 100)
        return pd_fail(r, &STS_PackedPolicyTooLarge,
                       "Packed policy consumes %d%% of allotted space, please use smaller policy.",
                       packed);
    const struct pd_iam_role *role = rs->role;
    struct pd_principal s = {
        .kind = PD_CALLER_ROLE_SESSION,
        .account_id = role->account_id,
        .arn = pd_arena_printf(&r->arena, "arn:aws:sts::%s:assumed-role/%s/%s", role->account_id,
                               role->name, rs->session),
        .user_id = pd_arena_printf(&r->arena, "%s:%s", role->unique_id, rs->session),
        .name = role->name,
        .path = role->path,
        .unique_id = role->unique_id,
        .role_arn = role->arn,
        .session_name = rs->session,
    };
    json_t *extra = json_object();
    if (rs->policy)
        json_object_set_new(extra, "policy", json_string(rs->policy));
    if (json_array_size(rs->arns))
        json_object_set(extra, "policy_arns", rs->arns);
    if (json_object_size(rs->tags))
        json_object_set(extra, "tags", rs->tags);
    if (json_array_size(rs->transitive))
        json_object_set(extra, "transitive", rs->transitive);
    if (rs->source)
        json_object_set_new(extra, "source_identity", json_string(rs->source));
    if (rs->chained)
        json_object_set_new(extra, "chained", json_true());
    if (rs->extra_key)
        json_object_set(extra, rs->extra_key, rs->extra_value);
    json_t *creds = NULL;
    int rc = pd_sts_mint(r, &s, extra, rs->duration, &creds);
    json_decref(extra);
    if (rc)
        return rc;
    /* RoleLastUsed, as AWS tracks it: not to the second. Written when it is a minute old
     * (or the region changed), so most assumptions stay read-only and run in parallel; the
     * write upgrades the read transaction and is dropped if another writer is busy. */
    int64_t now = pd_clock_now_ms(&r->env->clock);
    const char *region = r->region[0] ? r->region : r->env->cfg.region;
    if (now - role->last_used_ms >= ROLE_LAST_USED_GRAIN_MS || !role->last_used_region ||
        strcmp(role->last_used_region, region) != 0)
        pd_iam_db_role_touch(r->db, role->id, now, region);
    r->out = json_pack("{s:o, s:{s:s, s:s}}", "Credentials", creds, "AssumedRoleUser",
                       "AssumedRoleId", s.user_id, "Arn", s.arn);
    if (packed >= 0)
        json_object_set_new(r->out, "PackedPolicySize", json_integer(packed));
    if (rs->source)
        json_object_set_new(r->out, "SourceIdentity", json_string(rs->source));
    if (OUT_session)
        *OUT_session = s;
    return PD_OK;
}

int pd_sts_role_of_arn(struct pd_req *r, const char *arn, struct pd_iam_role *OUT)
{
    return role_of_arn(r, arn, OUT);
}

int pd_sts_service_session(struct pd_req *r, const struct pd_iam_role *role, const char *session,
                           int64_t duration_s, json_t *tags, int transitive, const char *policy,
                           int chained, json_t **OUT_credentials, struct pd_principal *OUT_session)
{
    json_t *list = json_array(), *keys = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        json_array_append_new(list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
        if (transitive)
            json_array_append_new(keys, json_string(k));
    }
    json_t *arns = json_array();
    json_t *saved = r->out;
    r->out = NULL;
    struct role_session rs = {.role = role,
                              .session = session,
                              .duration = duration_s,
                              .policy = policy,
                              .arns = arns,
                              .tags = tags,
                              .tags_list = list,
                              .transitive = keys,
                              .chained = chained};
    int rc = mint_role_session(r, &rs, OUT_session);
    if (rc == PD_OK)
        *OUT_credentials = json_incref(json_object_get(r->out, "Credentials"));
    json_decref(r->out);
    r->out = saved;
    json_decref(list);
    json_decref(keys);
    json_decref(arns);
    return rc;
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

    int chained = w->kind == PD_CALLER_ROLE_SESSION;
    struct role_session rs = {.role = &role, .session = session, .chained = chained};
    const char *policy = NULL;
    json_t *arns = NULL;
    if (session_duration(r, &role, chained, &rs.duration) ||
        pd_sts_session_policies(r, &policy, &arns))
        return PD_EAWS;

    /* Session tags: the request's, then transitive ones inherited along a role chain. */
    json_t *tags_in = json_object_get(r->in, "Tags");
    json_t *tags = json_object(), *transitive = json_array();
    json_t *prev = NULL;
    size_t i;
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
            rc = pd_fail(r, &STS_InvalidParameterValue,
                         "The specified transitive tag key must be included in the requested "
                         "tags.");
            goto out;
        }
        json_array_append(transitive, t);
    }
    prev = pd_creds_session_extra(w);
    json_t *inherited = json_object_get(prev, "transitive");
    json_array_foreach(inherited, i, t)
    {
        const char *k = json_string_value(t);
        json_t *v = json_object_get(json_object_get(prev, "tags"), k);
        if (json_object_get(tags, k)) {
            rc = pd_fail(r, &STS_InvalidParameterValue,
                         "The request includes a session tag (%s) that conflicts with a "
                         "transitive tag inherited from the role chain.",
                         k);
            goto out;
        }
        json_object_set(tags, k, v);
        json_array_append(transitive, t);
    }
    const char *source = in_str(r, "SourceIdentity");
    const char *prev_source = json_string_value(json_object_get(prev, "source_identity"));
    if (prev_source && source && strcmp(prev_source, source) != 0) {
        rc = pd_fail(r, &STS_AccessDenied,
                     "The source identity of a role chain cannot be changed (it is %s).",
                     prev_source);
        goto out;
    }
    if (!source && prev_source)
        source = pd_arena_strdup(&r->arena, prev_source);

    rs.policy = policy;
    rs.arns = arns;
    rs.tags = tags;
    rs.tags_list = tags_in;
    rs.transitive = transitive;
    rs.source = source;
    rc = mint_role_session(r, &rs, NULL);
out:
    json_decref(prev);
    json_decref(tags);
    json_decref(transitive);
    json_decref(arns);
    return rc;
}

/* ---- AssumeRoleWithWebIdentity ---- */

/* AWS's words for a token it could not validate (API reference, InvalidIdentityToken). */
#define TOKEN_NOT_VALIDATED                                                                        \
    "The web identity token that was passed could not be validated by AWS. Get a new identity "    \
    "token from the identity provider and then retry the request."
#define NO_VERIFICATION_KEY                                                                        \
    "Couldn't retrieve verification key from your identity provider,  please reference "           \
    "AssumeRoleWithWebIdentity documentation for requirements"
/* Leeway for nbf / iat a little ahead of our clock (issuers on other machines); exp has
 * none, as AWS's message shows. */
#define FUTURE_LEEWAY_S 60

/* A validated web identity token: what the trust policy and the session need of it. */
struct web_identity {
    const char *iss;
    const char *sub;
    const char *aud;          /* the client id it matched */
    const char *provider_arn; /* arn:aws:iam::ACCT:oidc-provider/HOST/PATH */
    const char *prefix;       /* HOST/PATH: the condition key prefix */
    const char *azp, *email;
    const char **amr;
    size_t namr;
    const char *tags;       /* session tags from the token: JSON object text, or NULL */
    const char *transitive; /* transitive tag keys: JSON array text, or NULL */
    const char *source;
};

/* The token's session tags (object) and transitive keys (array): new references. */
static json_t *web_tags(const struct web_identity *w)
{
    json_t *v = w->tags ? json_loads(w->tags, 0, NULL) : NULL;
    return v ? v : json_object();
}

static json_t *web_transitive(const struct web_identity *w)
{
    json_t *v = w->transitive ? json_loads(w->transitive, 0, NULL) : NULL;
    return v ? v : json_array();
}

static const char *arena_dump(struct pd_req *r, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    const char *out = pd_arena_strdup(&r->arena, s ? s : "null");
    free(s);
    return out;
}

/* Strings of a claim that may be a string or an array of strings, into the arena. */
static const char **claim_strings(struct pd_req *r, json_t *v, size_t *OUT_n)
{
    size_t n = json_is_array(v) ? json_array_size(v) : (json_is_string(v) ? 1 : 0);
    const char **out = pd_arena_zalloc(&r->arena, (n + 1) * sizeof *out);
    size_t k = 0;
    if (json_is_string(v)) {
        out[k++] = pd_arena_strdup(&r->arena, json_string_value(v));
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (json_is_string(e))
                out[k++] = pd_arena_strdup(&r->arena, json_string_value(e));
        }
    }
    *OUT_n = k;
    return out;
}

/* Session tags and source identity the token carries (IAM User Guide, "Passing session tags
 * using AssumeRoleWithWebIdentity"): https://aws.amazon.com/tags {principal_tags: {k: [v]},
 * transitive_tag_keys: [k]} and https://aws.amazon.com/source_identity. */
static int token_session_facts(struct pd_req *r, json_t *claims, struct web_identity *w)
{
    json_t *t = json_object_get(claims, "https://aws.amazon.com/tags");
    int rc = PD_OK;
    json_t *tags = json_object(), *transitive = json_array();
    if (t) {
        json_t *pt = json_object_get(t, "principal_tags");
        json_t *tk = json_object_get(t, "transitive_tag_keys");
        if (!json_is_object(t) || (pt && !json_is_object(pt)) || (tk && !json_is_array(tk))) {
            rc = pd_fail(r, &STS_InvalidIdentityToken, TOKEN_NOT_VALIDATED);
            goto out;
        }
        const char *k;
        json_t *v;
        json_object_foreach(pt, k, v)
        {
            json_t *one = json_is_array(v) ? json_array_get(v, 0) : v;
            if (!json_is_string(one) || (json_is_array(v) && json_array_size(v) != 1)) {
                rc = pd_fail(r, &STS_InvalidIdentityToken, TOKEN_NOT_VALIDATED);
                goto out;
            }
            json_object_set(tags, k, one);
        }
        if (json_object_size(tags) > 50) {
            rc = pd_fail(r, &STS_InvalidParameterValue,
                         "The number of session tags must not exceed 50.");
            goto out;
        }
        size_t i;
        json_array_foreach(tk, i, v)
        {
            if (!json_is_string(v) || !json_object_get(tags, json_string_value(v))) {
                rc = pd_fail(r, &STS_InvalidParameterValue,
                             "The specified transitive tag key must be included in the "
                             "requested tags.");
                goto out;
            }
            json_array_append(transitive, v);
        }
        if (json_object_size(tags))
            w->tags = arena_dump(r, tags);
        if (json_array_size(transitive))
            w->transitive = arena_dump(r, transitive);
    }
    json_t *si = json_object_get(claims, "https://aws.amazon.com/source_identity");
    if (si) {
        if (!json_is_string(si)) {
            rc = pd_fail(r, &STS_InvalidIdentityToken, TOKEN_NOT_VALIDATED);
            goto out;
        }
        w->source = pd_arena_strdup(&r->arena, json_string_value(si));
    }
out:
    json_decref(tags);
    json_decref(transitive);
    return rc;
}

/* What one AssumeRoleWithWebIdentity request learns about its token (r->svc_state): made by
 * the prepare hook (outside the transaction: the external issuer's fetch) and completed by
 * web_identity (the authz hook and the handler share its result). */
struct sts_state {
    struct web_identity *wi; /* the validated token, once it is */
    const char *iss, *kid;   /* as the token says (unverified), for the trace */
    const char *step;        /* the check that failed ("keys", "signature", ...) */
    const char *reason;      /* why, in podiam's words, for the log and the trace */
    int remote;              /* the issuer is external: keys from services/oidc_remote.c */
    char remote_why[256];    /* why its keys could not be fetched ("" when they could) */
};

static struct sts_state *sts_state(struct pd_req *r)
{
    if (!r->svc_state)
        r->svc_state = pd_arena_zalloc(&r->arena, sizeof(struct sts_state));
    return r->svc_state;
}

/* The IAM OIDC provider URL for iss (iss without its scheme): https://, or http:// to a
 * loopback address when podiam runs with --oidc-http-loopback on. NULL otherwise. */
static const char *provider_url(struct pd_req *r, const char *iss)
{
    if (pd_has_prefix(iss, "https://"))
        return iss + 8;
    if (pd_has_prefix(iss, "http://") && pd_oidc_remote_allowed(r->env, iss))
        return iss + 7;
    return NULL;
}

void pd_sts_token_decision(struct pd_req *r, const char *principal, json_t *detail)
{
    char iso[32], id[24];
    pd_time_iso8601(pd_clock_now_ms(&r->env->clock), 1, iso);
    const char *msg = r->err.def ? pd_arena_printf(&r->arena, "%s: %s", r->err.def->code,
                                                   r->err.message ? r->err.message : "")
                                 : "";
    json_t *e =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:o}", "time", iso, "request_id",
                  r->request_id, "service", r->svc ? r->svc->name : "", "operation",
                  r->op ? r->op->name : "", "principal", principal ? principal : "anonymous",
                  "mode", r->env->cfg.iam_mode == PD_IAM_AUDIT ? "audit" : "enforce", "decision",
                  "invalidToken", "allowed", 0, "message", msg, "token", detail);
    pd_decisions_add(r->env->decisions, e, id);
    r->decision_id = pd_arena_strdup(&r->arena, id);
}

/* A refused token: logged, and explained in the decision log. */
static void token_refused(struct pd_req *r, struct sts_state *st)
{
    if (r->decision_id || !r->err.def)
        return;
    json_t *d = json_object();
    if (st->step)
        json_object_set_new(d, "step", json_string(st->step));
    if (st->iss)
        json_object_set_new(d, "issuer", json_string(st->iss));
    if (st->kid)
        json_object_set_new(d, "kid", json_string(st->kid));
    if (st->reason)
        json_object_set_new(d, "reason", json_string(st->reason));
    if (st->remote)
        json_object_set_new(
            d, "keys", json_string(st->remote_why[0] ? st->remote_why : "fetched from the issuer"));
    pd_log_req(PD_LOG_INFO, r->request_id, "web identity token refused at %s: %s",
               st->step ? st->step : "?", st->reason ? st->reason : r->err.message);
    pd_sts_token_decision(r, st->iss, d);
}

/* Before the transaction: an issuer podiam does not host gets its keys fetched now (never
 * inside the transaction, never without an IAM OIDC provider naming it). */
static int sts_prepare(struct pd_req *r)
{
    if (!r->op || strcmp(r->op->name, "AssumeRoleWithWebIdentity") != 0)
        return PD_OK;
    const char *token = in_str(r, "WebIdentityToken");
    const char *role_arn = in_str(r, "RoleArn");
    struct pd_arn ra;
    json_t *claims = NULL, *header = NULL;
    enum pd_jwt_reason why;
    if (!token || !role_arn || pd_arn_parse(&r->arena, role_arn, &ra) ||
        pd_jwt_decode_unverified(token, strlen(token), &claims, &header, &why) != PD_OK)
        return PD_OK; /* web_identity answers */
    struct sts_state *st = sts_state(r);
    const char *iss = json_string_value(json_object_get(claims, "iss"));
    const char *kid = json_string_value(json_object_get(header, "kid"));
    st->iss = iss ? pd_arena_strdup(&r->arena, iss) : NULL;
    st->kid = kid ? pd_arena_strdup(&r->arena, kid) : NULL;
    json_decref(claims);
    json_decref(header);
    const char *url = st->iss ? provider_url(r, st->iss) : NULL;
    struct pd_iam_oidc prov;
    if (!url || pd_oidc_is_hosted(r->db, st->iss) || pd_sts_outbound_is_issuer(r->db, st->iss) ||
        pd_iam_db_oidc_get(r->db, &r->arena, ra.account, url, &prov) != PD_OK)
        return PD_OK;
    st->remote = 1;
    if (pd_oidc_remote_refresh(r->env, st->iss, st->kid, st->remote_why, sizeof st->remote_why) ==
        PD_OK)
        st->remote_why[0] = '\0';
    return PD_OK;
}

/* Validate the request's token as STS does (docs/eks-oidc.md lists the steps), once per
 * request: the authz hook and the handler share the result through r->svc_state. */
static int web_identity_check(struct pd_req *r, struct sts_state *st);

static int web_identity(struct pd_req *r, struct web_identity **OUT)
{
    struct sts_state *st = sts_state(r);
    if (st->wi) {
        *OUT = st->wi;
        return PD_OK;
    }
    if (web_identity_check(r, st)) {
        token_refused(r, st);
        return PD_EAWS;
    }
    *OUT = st->wi;
    return PD_OK;
}

#define REFUSE(st_, step_, reason_) ((st_)->step = (step_), (st_)->reason = (reason_))

static int web_identity_check(struct pd_req *r, struct sts_state *st)
{
    const char *token = in_str(r, "WebIdentityToken");
    const char *role_arn = in_str(r, "RoleArn");
    struct pd_arn ra;
    if (pd_arn_parse(&r->arena, role_arn, &ra) || strcmp(ra.service, "iam") != 0) {
        REFUSE(st, "role", "RoleArn is not an IAM ARN");
        return pd_fail(r, &STS_ValidationError, "%s is invalid", role_arn);
    }
    size_t len = strlen(token);
    if (len < 4 || len > PD_JWT_MAX_LEN) {
        REFUSE(st, "structure", "token length out of 4..20000");
        return pd_fail(r, &STS_ValidationError,
                       "1 validation error detected: Value at 'webIdentityToken' failed to "
                       "satisfy constraint: Member must have length less than or equal to 20000");
    }

    /* Parsed once; the unverified claims only say which provider and which keys. */
    struct pd_jwt *jwt = NULL;
    json_t *claims = NULL;
    enum pd_jwt_reason why;
    if (pd_jwt_parse(token, len, &jwt, &why)) {
        REFUSE(st, "structure", pd_jwt_reason_str(why));
        return pd_fail(r, &STS_InvalidIdentityToken, TOKEN_NOT_VALIDATED);
    }
    const char *iss = json_string_value(json_object_get(pd_jwt_unverified_claims(jwt), "iss"));
    if (!iss) {
        pd_jwt_free(jwt);
        REFUSE(st, "issuer", "no iss claim");
        return pd_fail(r, &STS_InvalidIdentityToken, "Missing a required claim: iss");
    }
    iss = pd_arena_strdup(&r->arena, iss);
    st->iss = iss;

    struct pd_iam_oidc prov;
    const char *url = provider_url(r, iss);
    if (!url || pd_iam_db_oidc_get(r->db, &r->arena, ra.account, url, &prov) != PD_OK) {
        pd_jwt_free(jwt);
        REFUSE(st, "provider",
               url ? "no IAM OIDC provider in the role's account has this URL"
                   : "the issuer is not an https URL (nor a loopback http one allowed by "
                     "--oidc-http-loopback)");
        return pd_fail(r, &STS_InvalidIdentityToken,
                       "No OpenIDConnect provider found in your account for %s", iss);
    }

    /* Tokens of GetWebIdentityToken are for services outside AWS, never for AWS itself. */
    if (pd_sts_outbound_is_issuer(r->db, iss)) {
        pd_jwt_free(jwt);
        REFUSE(st, "issuer",
               "an outbound (GetWebIdentityToken) issuer: its tokens are for "
               "services outside AWS");
        return pd_fail(r, &STS_InvalidIdentityToken, TOKEN_NOT_VALIDATED);
    }

    /* The keys of the issuer podiam hosts, else those the prepare hook fetched from it (the
     * cache; no network here). The algorithm is the key's. */
    struct pd_jwks keys;
    pd_jwks_init(&keys);
    char fetch_why[256] = "";
    int rc = pd_oidc_issuer_jwks(r->env, r->db, &r->arena, iss, &keys);
    if (rc == PD_ENOTFOUND) {
        st->remote = 1;
        rc = pd_oidc_remote_jwks(r->env, iss, &keys, fetch_why, sizeof fetch_why);
        if (rc && !st->remote_why[0])
            snprintf(st->remote_why, sizeof st->remote_why, "%s", fetch_why);
    }
    if (rc == PD_OK)
        rc = pd_jwt_check(jwt, &keys, -1, &claims, NULL, &why);
    pd_jwks_cleanup(&keys);
    pd_jwt_free(jwt);
    if (rc == PD_ENOTFOUND) {
        REFUSE(st, "keys",
               st->remote && st->remote_why[0]
                   ? pd_arena_strdup(&r->arena, st->remote_why)
                   : "no published key of the issuer has the token's kid (rotated away, or "
                     "signed by another key)");
        return pd_fail(r, &STS_InvalidIdentityToken, NO_VERIFICATION_KEY);
    }
    if (rc) {
        REFUSE(st, "signature", pd_jwt_reason_str(why));
        return pd_fail(r, &STS_InvalidIdentityToken, TOKEN_NOT_VALIDATED);
    }

    struct web_identity *w = pd_arena_zalloc(&r->arena, sizeof *w);
    w->iss = iss;
    w->prefix = prov.url;
    w->provider_arn = prov.arn;
    rc = PD_OK;
    json_t *aud = json_object_get(claims, "aud");
    size_t naud;
    const char **auds = claim_strings(r, aud, &naud);
    if (!naud) {
        REFUSE(st, "audience", "no aud claim");
        rc = pd_fail(r, &STS_InvalidIdentityToken, "Missing a required claim: aud");
        goto out;
    }
    for (size_t i = 0; i < naud && !w->aud; i++)
        for (size_t k = 0; k < prov.nclient_ids && !w->aud; k++)
            if (strcmp(auds[i], prov.client_ids[k]) == 0)
                w->aud = auds[i];
    if (!w->aud) {
        REFUSE(st, "audience", "no aud value is a client id of the provider");
        rc = pd_fail(r, &STS_InvalidIdentityToken, "Incorrect token audience");
        goto out;
    }

    struct pd_jwt_times t;
    if (pd_jwt_times(claims, &t)) {
        REFUSE(st, "times", "exp, nbf or iat is not an integer NumericDate");
        rc = pd_fail(r, &STS_InvalidIdentityToken, TOKEN_NOT_VALIDATED);
        goto out;
    }
    int64_t now = pd_clock_now_ms(&r->env->clock) / 1000;
    if (!t.has_exp) {
        REFUSE(st, "times", "no exp claim");
        rc = pd_fail(r, &STS_InvalidIdentityToken, "Missing a required claim: exp");
        goto out;
    }
    if (now >= t.exp) {
        REFUSE(st, "times", "expired");
        rc = pd_fail(r, &STS_ExpiredTokenException,
                     "Token expired: current date/time %lld must be before the expiration "
                     "date/time %lld",
                     (long long)now, (long long)t.exp);
        goto out;
    }
    if (t.has_nbf && t.nbf > now + FUTURE_LEEWAY_S) {
        REFUSE(st, "times", "nbf is in the future");
        rc = pd_fail(r, &STS_InvalidIdentityToken,
                     "Token not yet valid: current date/time %lld must not be before the "
                     "not-before date/time %lld",
                     (long long)now, (long long)t.nbf);
        goto out;
    }
    if (t.has_iat && t.iat > now + FUTURE_LEEWAY_S) {
        REFUSE(st, "times", "iat is in the future");
        rc = pd_fail(r, &STS_InvalidIdentityToken,
                     "Token issued in the future: current date/time %lld must not be before the "
                     "issue date/time %lld",
                     (long long)now, (long long)t.iat);
        goto out;
    }
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    if (!sub) {
        REFUSE(st, "subject", "no sub claim");
        rc = pd_fail(r, &STS_InvalidIdentityToken, "Missing a required claim: sub");
        goto out;
    }
    w->sub = pd_arena_strdup(&r->arena, sub);
    w->amr = claim_strings(r, json_object_get(claims, "amr"), &w->namr);
    const char *azp = json_string_value(json_object_get(claims, "azp"));
    const char *email = json_string_value(json_object_get(claims, "email"));
    w->azp = azp ? pd_arena_strdup(&r->arena, azp) : NULL;
    w->email = email ? pd_arena_strdup(&r->arena, email) : NULL;
    rc = token_session_facts(r, claims, w);
    if (rc)
        REFUSE(st, "session tags", "the token's session tags or source identity are malformed");
out:
    json_decref(claims);
    if (rc)
        return rc;
    st->wi = w;
    return PD_OK;
}

/* The trust policy's view of an AssumeRoleWithWebIdentity request. */
/* What the decision log shows of an accepted token's checks (the console draws one step
 * each): {"iss", "provider", "sub", "aud", "kid", "steps": [{"step", "ok", "detail"}]}.
 * Never the token itself. A refused token is logged by token_refused instead. */
static json_t *web_identity_log(struct pd_req *r, const struct web_identity *w)
{
    const struct sts_state *st = r->svc_state;
    const char *kid = st ? st->kid : NULL;
    int remote = st && st->remote;
    const char *const steps[][2] = {
        {"token", w->iss},
        {"provider", w->provider_arn},
        {"discovery", pd_arena_printf(&r->arena, "%s/.well-known/openid-configuration (%s)", w->iss,
                                      remote ? "fetched from the issuer" : "hosted by podiam")},
        {"jwks", kid ? pd_arena_printf(&r->arena, "key %s", kid) : "the issuer's key"},
        {"signature", "verified with the issuer's key (its algorithm, not the token's)"},
        {"audience", w->aud},
        {"times", "exp, nbf and iat within bounds"},
        {"subject", w->sub},
    };
    json_t *arr = json_array();
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        json_array_append_new(arr, json_pack("{s:s, s:b, s:s?}", "step", steps[i][0], "ok", 1,
                                             "detail", steps[i][1]));
    return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:o}", "iss", w->iss, "provider",
                     w->provider_arn, "sub", w->sub, "aud", w->aud, "kid", kid, "steps", arr);
}

static int web_identity_authz(struct pd_req *r, struct pd_authz_need *need)
{
    struct web_identity *w;
    if (web_identity(r, &w))
        return PD_EAWS;
    const char *arn = in_str(r, "RoleArn");
    pd_authz_add(need, "sts:AssumeRoleWithWebIdentity", arn, NULL);
    if (w->tags)
        pd_authz_add(need, "sts:TagSession", arn, NULL);
    if (w->source)
        pd_authz_add(need, "sts:SetSourceIdentity", arn, NULL);
    struct pd_ctx *c = &need->ctx;
    const char *p = w->prefix;
    pd_ctx_add(c, pd_arena_printf(&r->arena, "%s:sub", p), PD_CTX_STRING, w->sub, (size_t)-1);
    pd_ctx_add(c, pd_arena_printf(&r->arena, "%s:aud", p), PD_CTX_STRING, w->aud, (size_t)-1);
    if (w->namr) {
        const char *k = pd_arena_printf(&r->arena, "%s:amr", p);
        for (size_t i = 0; i < w->namr; i++)
            pd_ctx_add(c, k, PD_CTX_STRING, w->amr[i], (size_t)-1);
    }
    if (w->azp)
        pd_ctx_add(c, pd_arena_printf(&r->arena, "%s:azp", p), PD_CTX_STRING, w->azp, (size_t)-1);
    if (w->email)
        pd_ctx_add(c, pd_arena_printf(&r->arena, "%s:email", p), PD_CTX_STRING, w->email,
                   (size_t)-1);
    pd_ctx_add(c, "sts:RoleSessionName", PD_CTX_STRING, in_str(r, "RoleSessionName"), (size_t)-1);
    pd_ctx_add(c, "aws:FederatedProvider", PD_CTX_STRING, w->provider_arn, (size_t)-1);
    if (w->source)
        pd_ctx_add(c, "sts:SourceIdentity", PD_CTX_STRING, w->source, (size_t)-1);
    if (w->tags) {
        const char *k;
        json_t *v;
        json_t *tags = web_tags(w), *transitive = web_transitive(w);
        pd_ctx_add_empty(c, "aws:TagKeys");
        json_object_foreach(tags, k, v)
        {
            pd_ctx_add(c, "aws:TagKeys", PD_CTX_STRING, k, (size_t)-1);
            pd_ctx_add(c, pd_arena_printf(&r->arena, "aws:RequestTag/%s", k), PD_CTX_STRING,
                       json_string_value(v), (size_t)-1);
        }
        size_t i;
        json_array_foreach(transitive, i, v)
        {
            pd_ctx_add(c, "sts:TransitiveTagKeys", PD_CTX_STRING, json_string_value(v), (size_t)-1);
        }
        json_decref(tags);
        json_decref(transitive);
    }
    struct pd_principal_id *who = pd_arena_zalloc(&r->arena, sizeof *who);
    who->type = PD_PRINCIPAL_WEB_IDENTITY;
    who->federated = w->provider_arn;
    need->who = who;
    need->deny_message = "Not authorized to perform sts:AssumeRoleWithWebIdentity";
    need->log_extra = json_pack("{s:o}", "web_identity", web_identity_log(r, w));
    need->trust = 1;
    need->policy_id = arn;
    struct pd_arn a;
    if (pd_arn_parse(&r->arena, arn, &a) == PD_OK)
        need->resource_account = a.account;
    struct pd_iam_role role;
    if (role_of_arn(r, arn, &role) == PD_OK) {
        need->resource_policy = role.trust_policy;
        need->resource_account = role.account_id;
    }
    return PD_OK;
}

static int assume_role_with_web_identity(struct pd_req *r)
{
    struct web_identity *w;
    if (web_identity(r, &w))
        return PD_EAWS;
    const char *arn = in_str(r, "RoleArn");
    struct pd_iam_role role;
    int rc = role_of_arn(r, arn, &role);
    if (rc == PD_EINVAL) {
        rc = pd_fail(r, &STS_ValidationError, "%s is invalid", arn);
        goto out;
    }
    if (rc) {
        rc = pd_fail(r, &STS_AccessDenied,
                     "Not authorized to perform sts:AssumeRoleWithWebIdentity");
        goto out;
    }
    struct role_session rs = {.role = &role, .session = in_str(r, "RoleSessionName")};
    json_t *arns = NULL;
    if (session_duration(r, &role, 0, &rs.duration) ||
        pd_sts_session_policies(r, &rs.policy, &arns)) {
        rc = PD_EAWS;
        goto out;
    }
    json_t *tags_list = json_array();
    json_t *tags = web_tags(w), *transitive = web_transitive(w);
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        json_array_append_new(tags_list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
    }
    json_t *facts = json_pack("{s:s, s:s, s:s, s:s}", "provider", w->provider_arn, "iss", w->iss,
                              "sub", w->sub, "aud", w->aud);
    rs.arns = arns;
    rs.tags = tags;
    rs.tags_list = tags_list;
    rs.transitive = transitive;
    rs.source = w->source;
    rs.extra_key = "web_identity";
    rs.extra_value = facts;
    rc = mint_role_session(r, &rs, NULL);
    json_decref(facts);
    json_decref(tags_list);
    json_decref(tags);
    json_decref(transitive);
    json_decref(arns);
    if (rc == PD_OK) {
        json_object_set_new(r->out, "SubjectFromWebIdentityToken", json_string(w->sub));
        json_object_set_new(r->out, "Provider", json_string(w->provider_arn));
        json_object_set_new(r->out, "Audience", json_string(w->aud));
    }
out:
    return rc;
}

static const struct pd_op ops[] = {
    /* Not PD_OP_WRITE: they write only RoleLastUsed, now and then (mint_role_session). */
    {"AssumeRole", assume_role, 0},
    {"AssumeRoleWithWebIdentity", assume_role_with_web_identity, PD_OP_UNSIGNED},
    {"GetCallerIdentity", get_caller_identity, PD_OP_NOAUTHZ},
    {"GetSessionToken", get_session_token, PD_OP_NOAUTHZ},
    {"GetFederationToken", pd_sts_get_federation_token, 0},
    {"GetAccessKeyInfo", pd_sts_get_access_key_info, 0},
    {"DecodeAuthorizationMessage", pd_sts_decode_authorization_message, 0},
    {"GetWebIdentityToken", pd_sts_get_web_identity_token, 0},
    {NULL, NULL, 0},
};

const struct pd_service pd_svc_sts = {
    .name = "sts",
    .signing_name = "sts",
    .proto = PD_PROTO_QUERY,
    .spec = "sts.json",
    .ops = ops,
    .authz = sts_authz,
    .prepare = sts_prepare,
};
