/*
 * sts_outbound.c - outbound identity federation: each account's token issuer (made by IAM's
 * EnableOutboundWebIdentityFederation) and STS GetWebIdentityToken, which hands an AWS
 * principal a signed JWT for an external service.
 *
 * An account's issuer is https://UUID.tokens.sts.global.api.aws with two keys, RSA-2048
 * (kid "RSA_0", RS256) and P-384 (kid "EC384_0", ES384), as AWS publishes them; services/
 * oidc.c serves its discovery document and JWKS like every hosted issuer's. Tokens follow
 * the IAM User Guide ("Understanding token claims"): iss, aud, sub (the caller's principal:
 * a role session's role ARN with its path), iat, exp, jti and the object
 * "https://sts.amazonaws.com/" with aws_account, source_region, principal_tags, request_tags
 * and, when they apply, original_session_exp, source_identity and federated_provider. They
 * are not accepted by AssumeRoleWithWebIdentity (no IAM OIDC provider can name the issuer:
 * STS refuses a token of an outbound issuer outright). Keys are never logged.
 */
#include <string.h>

#include "auth/creds.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "env.h"
#include "services/oidc.h"
#include "services/service.h"
#include "services/sts.h"
#include "services/sts_internal.h"
#include "store/iam_db.h"
#include "store/sts_db.h"

#define ISSUER_SUFFIX ".tokens.sts.global.api.aws"
#define KID_RSA "RSA_0"
#define KID_EC "EC384_0"
#define CLAIMS_NS "https://sts.amazonaws.com/"
/* The payload bound (AWS documents none; tags are the only part a caller grows). */
#define MAX_PAYLOAD 16384

/* ---- the account's issuer ---- */

int pd_sts_outbound_get(struct pd_db *db, struct pd_arena *a, const char *account,
                        struct pd_sts_outbound *OUT)
{
    struct pd_sts_db_outbound o;
    int rc = pd_sts_db_outbound_get(db, a, account, &o);
    if (rc)
        return rc;
    OUT->issuer = o.issuer;
    OUT->enabled = o.enabled;
    return PD_OK;
}

static int new_key_pem(enum pd_key_kind kind, struct pd_arena *a, char **OUT)
{
    struct pd_key *k = NULL;
    int rc = pd_key_generate(kind, &k);
    if (rc == PD_OK)
        rc = pd_key_to_pem(k, 1, a, OUT);
    pd_key_free(k);
    return rc;
}

int pd_sts_outbound_set(struct pd_env *env, struct pd_db *db, struct pd_arena *a,
                        const char *account, int enable, const char **OUT_issuer)
{
    struct pd_sts_db_outbound o;
    int rc = pd_sts_db_outbound_get(db, a, account, &o);
    if (rc == PD_ENOTFOUND) {
        if (!enable)
            return PD_OK;
        char uuid[37];
        char *rsa = NULL, *ec = NULL;
        pd_ids_uuid(&env->ids, uuid);
        if (new_key_pem(PD_KEY_RSA_2048, a, &rsa) || new_key_pem(PD_KEY_EC_P384, a, &ec))
            return PD_EINTERNAL;
        o.account_id = account;
        o.issuer = pd_arena_printf(a, "https://%s" ISSUER_SUFFIX, uuid);
        o.rsa_pem = rsa;
        o.ec_pem = ec;
        o.created_ms = pd_clock_now_ms(&env->clock);
    } else if (rc) {
        return rc;
    }
    o.enabled = enable;
    rc = pd_sts_db_outbound_put(db, &o);
    if (rc == PD_OK && OUT_issuer)
        *OUT_issuer = o.issuer;
    return rc;
}

/* The issuer's keys, kids set, from the key cache. */
static int issuer_key(struct pd_env *env, const struct pd_sts_db_outbound *o, enum pd_jwa alg,
                      struct pd_key **OUT)
{
    int ec = alg == PD_JWA_ES384;
    return pd_oidc_load_key(env, ec ? o->ec_pem : o->rsa_pem, ec ? KID_EC : KID_RSA, OUT);
}

int pd_sts_outbound_jwks(struct pd_env *env, struct pd_db *db, struct pd_arena *a,
                         const char *issuer, struct pd_jwks *s)
{
    struct pd_sts_db_outbound o;
    int rc = pd_sts_db_outbound_by_issuer(db, a, issuer, &o);
    if (rc)
        return rc;
    static const enum pd_jwa algs[] = {PD_JWA_RS256, PD_JWA_ES384};
    for (size_t i = 0; i < 2; i++) {
        struct pd_key *k = NULL;
        if (issuer_key(env, &o, algs[i], &k) != PD_OK) {
            pd_log(PD_LOG_ERROR, "sts: a stored outbound key of %s does not load", issuer);
            continue;
        }
        pd_jwks_add(s, k);
    }
    return PD_OK;
}

int pd_sts_outbound_is_issuer(struct pd_db *db, const char *issuer)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_sts_db_outbound o;
    int found = pd_sts_db_outbound_by_issuer(db, &a, issuer, &o) == PD_OK;
    pd_arena_cleanup(&a);
    return found;
}

/* ---- GetWebIdentityToken ---- */

static const char *in_str(struct pd_req *r, const char *member)
{
    return json_string_value(json_object_get(r->in, member));
}

static int64_t duration_of(struct pd_req *r)
{
    json_t *d = json_object_get(r->in, "DurationSeconds");
    return d ? (int64_t)json_integer_value(d) : 300;
}

int pd_sts_outbound_authz(struct pd_req *r, struct pd_authz_need *need)
{
    if (strcmp(r->op->name, "GetWebIdentityToken") != 0)
        return 0;
    pd_authz_add(need, "sts:GetWebIdentityToken", "*", NULL);
    if (json_array_size(json_object_get(r->in, "Tags")))
        pd_authz_add(need, "sts:TagGetWebIdentityToken", "*", NULL);
    /* IAM's keys for the call (User Guide, "Controlling access with IAM policies"). */
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r->in, "Audience"), i, v)
    {
        pd_ctx_add(&need->ctx, "sts:IdentityTokenAudience", PD_CTX_STRING, json_string_value(v),
                   (size_t)-1);
    }
    const char *alg = in_str(r, "SigningAlgorithm");
    if (alg)
        pd_ctx_add(&need->ctx, "sts:SigningAlgorithm", PD_CTX_STRING, alg, (size_t)-1);
    pd_ctx_add(&need->ctx, "sts:DurationSeconds", PD_CTX_NUMERIC,
               pd_arena_printf(&r->arena, "%lld", (long long)duration_of(r)), (size_t)-1);
    return 1;
}

/* The caller as the token's sub: a role session is its role (ARN with path). */
static const char *subject_of(const struct pd_principal *w)
{
    if (w->kind == PD_CALLER_ROLE_SESSION && w->role_arn)
        return w->role_arn;
    return w->arn;
}

/* The caller's principal tags: its session's tags over its user's or role's tags. */
static json_t *principal_tags(struct pd_req *r, json_t *session)
{
    json_t *out = json_object();
    const struct pd_principal *w = &r->who;
    struct pd_iam_tag *tags = NULL;
    size_t n = 0;
    if (w->kind == PD_CALLER_USER) {
        struct pd_iam_user u;
        if (pd_iam_db_user_get(r->db, &r->arena, w->account_id, w->name, &u) == PD_OK)
            pd_iam_db_tags_get(r->db, &r->arena, PD_IAM_USER, u.id, &tags, &n);
    } else if (w->kind == PD_CALLER_ROLE_SESSION) {
        struct pd_iam_role role;
        if (pd_iam_db_role_get(r->db, &r->arena, w->account_id, w->name, &role) == PD_OK &&
            (!w->unique_id || strcmp(w->unique_id, role.unique_id) == 0))
            pd_iam_db_tags_get(r->db, &r->arena, PD_IAM_ROLE, role.id, &tags, &n);
    }
    for (size_t i = 0; i < n; i++)
        json_object_set_new(out, tags[i].key, json_string(tags[i].value));
    json_object_update(out, json_object_get(session, "tags"));
    return out;
}

int pd_sts_get_web_identity_token(struct pd_req *r)
{
    const struct pd_principal *w = &r->who;
    struct pd_sts_db_outbound o;
    int rc = pd_sts_db_outbound_get(r->db, &r->arena, w->account_id, &o);
    if (rc == PD_ENOTFOUND || (rc == PD_OK && !o.enabled))
        return pd_fail(r, &STS_OutboundWebIdentityFederationDisabledException,
                       "Outbound web identity federation is disabled for this account. Enable "
                       "it with iam:EnableOutboundWebIdentityFederation.");
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the account's issuer");
    const char *alg_name = in_str(r, "SigningAlgorithm");
    enum pd_jwa alg = pd_jwa_from_name(alg_name);
    if (alg != PD_JWA_RS256 && alg != PD_JWA_ES384)
        return pd_fail(r, &STS_ValidationError,
                       "1 validation error detected: Value '%s' at 'signingAlgorithm' failed to "
                       "satisfy constraint: Member must satisfy enum value set: [RS256, ES384]",
                       alg_name);
    int64_t duration = duration_of(r);
    int64_t now_ms = pd_clock_now_ms(&r->env->clock);
    int64_t now = now_ms / 1000;
    if (w->temporary && (now + duration) * 1000 > w->expires_ms)
        return pd_fail(r, &STS_SessionDurationEscalationException,
                       "The requested DurationSeconds (%lld) would let the token outlive the "
                       "caller's session, which expires in %lld seconds.",
                       (long long)duration, (long long)((w->expires_ms - now_ms) / 1000));

    json_t *session = pd_creds_session_extra(w);
    json_t *aws = json_pack("{s:s, s:s}", "aws_account", w->account_id, "source_region",
                            r->region[0] ? r->region : r->env->cfg.region);
    json_t *ptags = principal_tags(r, session);
    if (json_object_size(ptags))
        json_object_set(aws, "principal_tags", ptags);
    json_decref(ptags);
    json_t *rtags = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(r->in, "Tags"), i, t)
    {
        json_object_set(rtags, json_string_value(json_object_get(t, "Key")),
                        json_object_get(t, "Value"));
    }
    if (json_object_size(rtags))
        json_object_set(aws, "request_tags", rtags);
    json_decref(rtags);
    if (w->temporary) {
        char iso[32];
        pd_time_iso8601(w->expires_ms, 0, iso);
        json_object_set_new(aws, "original_session_exp", json_string(iso));
    }
    const char *si = json_string_value(json_object_get(session, "source_identity"));
    if (si)
        json_object_set_new(aws, "source_identity", json_string(si));
    const char *fp =
        json_string_value(json_object_get(json_object_get(session, "web_identity"), "provider"));
    if (fp)
        json_object_set_new(aws, "federated_provider", json_string(fp));
    json_decref(session);

    json_t *auds = json_object_get(r->in, "Audience");
    char jti[37];
    pd_ids_uuid(&r->env->ids, jti);
    json_t *claims = json_pack("{s:s, s:O, s:s, s:I, s:I, s:s, s:o}", "iss", o.issuer, "aud",
                               json_array_size(auds) == 1 ? json_array_get(auds, 0) : auds, "sub",
                               subject_of(w), "iat", (json_int_t)now, "exp",
                               (json_int_t)(now + duration), "jti", jti, CLAIMS_NS, aws);
    char *payload = json_dumps(claims, JSON_COMPACT);
    size_t plen = payload ? strlen(payload) : 0;
    free(payload);
    if (plen > MAX_PAYLOAD) {
        json_decref(claims);
        return pd_fail(r, &STS_JWTPayloadSizeExceededException,
                       "The token's payload (%zu bytes) is larger than %d bytes; pass fewer or "
                       "smaller tags.",
                       plen, MAX_PAYLOAD);
    }
    struct pd_key *k = NULL;
    char *token = NULL;
    rc = issuer_key(r->env, &o, alg, &k);
    if (rc == PD_OK)
        rc = pd_jwt_sign(k, claims, &r->arena, &token);
    pd_key_free(k);
    json_decref(claims);
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot sign the token");
    r->out = json_pack("{s:s, s:I}", "WebIdentityToken", token, "Expiration",
                       (json_int_t)((now + duration) * 1000));
    pd_log_req(PD_LOG_INFO, r->request_id, "sts: web identity token for %s (%s, %llds, %s)",
               subject_of(w), alg_name, (long long)duration, o.issuer);
    return PD_OK;
}
