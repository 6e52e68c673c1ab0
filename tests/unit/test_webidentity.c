/* test_webidentity.c - STS AssumeRoleWithWebIdentity through the real pipeline (unsigned form
 * POSTs into pd_dispatch): a token of a cluster's issuer is accepted, the trust policy and
 * its OIDC condition keys decide, and every forged or unfit token is refused with AWS's code
 * and message. Setup (cluster, IAM OIDC provider, roles) runs the services' own handlers. */
#include "pipeline_env.h"

#include "auth/decisions.h"
#include "core/arena.h"
#include "crypto/hash.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "services/oidc.h"

#define NOW (PT_NOW_MS / 1000)
#define SUB "system:serviceaccount:default:app"
#define NOT_VALIDATED                                                                              \
    "The web identity token that was passed could not be validated by AWS. Get a new identity "    \
    "token from the identity provider and then retry the request."
#define NO_KEY                                                                                     \
    "Couldn't retrieve verification key from your identity provider,  please reference "           \
    "AssumeRoleWithWebIdentity documentation for requirements"

struct ctx {
    struct pd_env *env;
    struct pd_arena a;
    const char *issuer;   /* https://oidc.eks.us-east-1.amazonaws.com/id/ID */
    const char *host;     /* issuer without https:// */
    const char *provider; /* provider ARN */
    struct pd_key *key;   /* the issuer's signing key (private) */
    const char *kid;
    char *signed_token; /* the last token sign() made (arena) */
};

static const char *role_arn(const char *name)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "arn:aws:iam::%s:role/%s", PT_ACCT, name);
    return buf;
}

static void make_role(struct ctx *c, const char *name, const char *statement_extra,
                      const char *actions)
{
    char *trust = pd_arena_printf(
        &c->a,
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
        "{\"Federated\":\"%s\"},\"Action\":%s%s}]}",
        c->provider, actions ? actions : "\"sts:AssumeRoleWithWebIdentity\"",
        statement_extra ? statement_extra : "");
    json_decref(
        pt_ok(c->env, "iam", "CreateRole",
              json_pack("{s:s, s:s}", "RoleName", name, "AssumeRolePolicyDocument", trust)));
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    pd_arena_init(&c->a);
    c->env = pt_env_new();
    json_decref(pt_ok(c->env, "iam", "CreateRole",
                      json_pack("{s:s, s:s}", "RoleName", "eks-cluster", "AssumeRolePolicyDocument",
                                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                "\"Principal\":{\"Service\":\"eks.amazonaws.com\"},\"Action\":"
                                "\"sts:AssumeRole\"}]}")));
    json_t *out = pt_ok(c->env, "eks", "CreateCluster",
                        json_pack("{s:s, s:s, s:{}}", "name", "demo", "roleArn",
                                  role_arn("eks-cluster"), "resourcesVpcConfig"));
    c->issuer = pd_arena_strdup(
        &c->a,
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(out, "cluster"), "identity"), "oidc"),
            "issuer")));
    json_decref(out);
    c->host = c->issuer + 8;
    out = pt_ok(c->env, "iam", "CreateOpenIDConnectProvider",
                json_pack("{s:s, s:[s]}", "Url", c->issuer, "ClientIDList", "sts.amazonaws.com"));
    c->provider =
        pd_arena_strdup(&c->a, json_string_value(json_object_get(out, "OpenIDConnectProviderArn")));
    json_decref(out);
    const char *pem;
    assert_int_equal(pd_oidc_signing_key_pem(pd_store_db(c->env->store), &c->a, c->issuer, &pem),
                     PD_OK);
    assert_int_equal(pd_key_from_pem(pem, strlen(pem), PD_JWA_INVALID, &c->key), PD_OK);
    char kid[PD_KID_LEN + 1];
    assert_int_equal(pd_key_thumbprint(c->key, PD_KID_JWK_THUMBPRINT, kid), PD_OK);
    pd_key_set_kid(c->key, kid);
    c->kid = pd_arena_strdup(&c->a, kid);

    make_role(c, "app",
              pd_arena_printf(&c->a,
                              ",\"Condition\":{\"StringEquals\":{\"%s:sub\":\"" SUB
                              "\",\"%s:aud\":\"sts.amazonaws.com\"}}",
                              c->host, c->host),
              NULL);
    make_role(c, "tagger", NULL,
              "[\"sts:AssumeRoleWithWebIdentity\",\"sts:TagSession\",\"sts:SetSourceIdentity\"]");
    make_role(c, "amr",
              pd_arena_printf(&c->a,
                              ",\"Condition\":{\"ForAnyValue:StringEquals\":{\"%s:amr\":"
                              "\"authenticated\"},\"StringEquals\":{\"%s:email\":\"a@b.c\","
                              "\"sts:RoleSessionName\":\"named\"}}",
                              c->host, c->host),
              NULL);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    pd_key_free(c->key);
    pt_env_free(c->env);
    pd_arena_cleanup(&c->a);
    free(c);
    return 0;
}

/* Claims of a good token (new reference). */
static json_t *good_claims(struct ctx *c)
{
    return json_pack("{s:s, s:s, s:[s], s:I, s:I, s:I}", "iss", c->issuer, "sub", SUB, "aud",
                     "sts.amazonaws.com", "iat", (json_int_t)NOW, "nbf", (json_int_t)NOW, "exp",
                     (json_int_t)(NOW + 3600));
}

static const char *sign(struct ctx *c, const struct pd_key *k, json_t *claims)
{
    /* The token goes through c, not a local: with a local's address handed to pd_jwt_sign,
     * gcc 12 at -O3 takes every pointer into the token for one into that local once sign()
     * is inlined (a false -Wdangling-pointer). */
    c->signed_token = NULL;
    assert_int_equal(pd_jwt_sign(k, claims, &c->a, &c->signed_token), PD_OK);
    json_decref(claims);
    return c->signed_token;
}

static const char *b64(struct ctx *c, const char *s)
{
    return pd_base64_encode(&c->a, s, strlen(s), 1);
}

/* POST AssumeRoleWithWebIdentity, unsigned, as SDKs send it. */
static struct pd_req *assume(struct ctx *c, const char *role, const char *session,
                             const char *token, const char *extra)
{
    const char *body = pd_arena_printf(
        &c->a,
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s&RoleSessionName=%s&"
        "WebIdentityToken=%s%s",
        pd_url_encode(&c->a, role_arn(role), strlen(role_arn(role)), 0), session,
        pd_url_encode(&c->a, token, strlen(token), 0), extra ? extra : "");
    return pt_http(c->env, "POST", "/", "",
                   "host: sts.amazonaws.com\ncontent-type: application/x-www-form-urlencoded",
                   body);
}

static void refused(struct ctx *c, const char *role, const char *token, int status,
                    const char *code, const char *msg)
{
    struct pd_req *r = assume(c, role, "s1", token, NULL);
    if (r->resp.status != status || !pt_xml(r, "Code") || strcmp(pt_xml(r, "Code"), code) != 0)
        fail_msg("expected %d %s, got %d: %s", status, code, r->resp.status, pt_body(r));
    if (msg)
        assert_string_equal(pt_xml(r, "Message"), msg);
    assert_null(pt_xml(r, "AccessKeyId"));
    pd_req_free(r);
}

/* ---- accepted ---- */

static void good_token(void **state)
{
    struct ctx *c = *state;
    struct pd_req *r = assume(c, "app", "s1", sign(c, c->key, good_claims(c)), NULL);
    if (r->resp.status != 200)
        fail_msg("%d %s", r->resp.status, pt_body(r));
    assert_string_equal(pt_xml(r, "SubjectFromWebIdentityToken"), SUB);
    assert_string_equal(pt_xml(r, "Provider"), c->provider);
    assert_string_equal(pt_xml(r, "Audience"), "sts.amazonaws.com");
    assert_string_equal(pt_xml(r, "Arn"), "arn:aws:sts::000000000000:assumed-role/app/s1");
    assert_true(pd_has_prefix(pt_xml(r, "AccessKeyId"), "ASIA"));
    assert_null(pt_xml(r, "PackedPolicySize"));
    assert_non_null(strstr(pt_xml(r, "AssumedRoleId"), ":s1"));
    pd_req_free(r);
}

static void audience_as_string_and_session_policy(void **state)
{
    struct ctx *c = *state;
    json_t *cl = good_claims(c);
    json_object_set_new(cl, "aud", json_string("sts.amazonaws.com"));
    const char *pol = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                      "\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}";
    struct pd_req *r = assume(c, "app", "s2", sign(c, c->key, cl),
                              pd_arena_printf(&c->a, "&Policy=%s&DurationSeconds=900",
                                              pd_url_encode(&c->a, pol, strlen(pol), 0)));
    if (r->resp.status != 200)
        fail_msg("%d %s", r->resp.status, pt_body(r));
    assert_non_null(pt_xml(r, "PackedPolicySize"));
    pd_req_free(r);
    /* bad session policy and too long a session */
    r = assume(c, "app", "s2", sign(c, c->key, good_claims(c)), "&Policy=%7Bnope");
    assert_string_equal(pt_xml(r, "Code"), "MalformedPolicyDocument");
    pd_req_free(r);
    r = assume(c, "app", "s2", sign(c, c->key, good_claims(c)), "&DurationSeconds=7200");
    assert_string_equal(pt_xml(r, "Code"), "ValidationError");
    assert_string_equal(pt_xml(r, "Message"),
                        "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                        "role.");
    pd_req_free(r);
}

static void session_tags_need_tag_session(void **state)
{
    struct ctx *c = *state;
    json_t *cl = good_claims(c);
    json_object_set_new(cl, "https://aws.amazon.com/tags",
                        json_pack("{s:{s:[s]}, s:[s]}", "principal_tags", "team", "blue",
                                  "transitive_tag_keys", "team"));
    json_object_set_new(cl, "https://aws.amazon.com/source_identity", json_string("alice"));
    const char *tok = sign(c, c->key, cl);
    /* "app" allows only sts:AssumeRoleWithWebIdentity */
    refused(c, "app", tok, 403, "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    struct pd_req *r = assume(c, "tagger", "s1", tok, NULL);
    if (r->resp.status != 200)
        fail_msg("%d %s", r->resp.status, pt_body(r));
    assert_string_equal(pt_xml(r, "SourceIdentity"), "alice");
    assert_non_null(pt_xml(r, "PackedPolicySize"));
    pd_req_free(r);
}

static void condition_keys(void **state)
{
    struct ctx *c = *state;
    json_t *cl = good_claims(c);
    json_object_set_new(cl, "amr", json_pack("[s, s]", "unauthenticated", "authenticated"));
    json_object_set_new(cl, "email", json_string("a@b.c"));
    const char *tok = sign(c, c->key, cl);
    struct pd_req *r = assume(c, "amr", "named", tok, NULL);
    if (r->resp.status != 200)
        fail_msg("%d %s", r->resp.status, pt_body(r));
    pd_req_free(r);
    r = assume(c, "amr", "other", tok, NULL); /* sts:RoleSessionName differs */
    assert_int_equal(r->resp.status, 403);
    pd_req_free(r);
    /* the condition on :sub refuses another service account */
    cl = good_claims(c);
    json_object_set_new(cl, "sub", json_string("system:serviceaccount:default:other"));
    refused(c, "app", sign(c, c->key, cl), 403, "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity");
    /* a role that does not exist */
    refused(c, "ghost", sign(c, c->key, good_claims(c)), 403, "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity");
}

/* ---- refused: forged tokens ---- */

static void alg_none(void **state)
{
    struct ctx *c = *state;
    json_t *cl = good_claims(c);
    char *p = json_dumps(cl, JSON_COMPACT);
    json_decref(cl);
    const char *tok = pd_arena_printf(&c->a, "%s.%s.", b64(c, "{\"alg\":\"none\"}"), b64(c, p));
    free(p);
    refused(c, "app", tok, 400, "InvalidIdentityToken", NOT_VALIDATED);
}

static void hs256_with_public_key(void **state)
{
    struct ctx *c = *state;
    char *pub = NULL;
    assert_int_equal(pd_key_to_pem(c->key, 0, &c->a, &pub), PD_OK);
    json_t *cl = good_claims(c);
    char *p = json_dumps(cl, JSON_COMPACT);
    json_decref(cl);
    const char *signing = pd_arena_printf(
        &c->a, "%s.%s",
        b64(c, pd_arena_printf(&c->a, "{\"alg\":\"HS256\",\"kid\":\"%s\"}", c->kid)), b64(c, p));
    free(p);
    unsigned char mac[32];
    pd_hmac_sha256(pub, strlen(pub), signing, strlen(signing), mac);
    const char *tok =
        pd_arena_printf(&c->a, "%s.%s", signing, pd_base64_encode(&c->a, mac, sizeof mac, 1));
    refused(c, "app", tok, 400, "InvalidIdentityToken", NOT_VALIDATED);
}

static void unknown_kid_and_other_key(void **state)
{
    struct ctx *c = *state;
    struct pd_key *other = NULL;
    assert_int_equal(pd_key_generate(PD_KEY_RSA_2048, &other), PD_OK);
    pd_key_set_kid(other, "not-a-kid-of-this-issuer");
    refused(c, "app", sign(c, other, good_claims(c)), 400, "InvalidIdentityToken", NO_KEY);
    /* a different key under the issuer's own kid: the signature does not verify */
    pd_key_set_kid(other, c->kid);
    refused(c, "app", sign(c, other, good_claims(c)), 400, "InvalidIdentityToken", NOT_VALIDATED);
    /* an EC key under the kid: the JWK pins RS256 */
    struct pd_key *ec = NULL;
    assert_int_equal(pd_key_generate(PD_KEY_EC_P256, &ec), PD_OK);
    pd_key_set_kid(ec, c->kid);
    refused(c, "app", sign(c, ec, good_claims(c)), 400, "InvalidIdentityToken", NOT_VALIDATED);
    pd_key_free(ec);
    pd_key_free(other);
}

static void stripped_altered_signature_and_claims(void **state)
{
    struct ctx *c = *state;
    const char *tok = sign(c, c->key, good_claims(c));
    const char *last = strrchr(tok, '.');
    const char *stripped = pd_arena_strndup(&c->a, tok, (size_t)(last - tok) + 1);
    refused(c, "app", stripped, 400, "InvalidIdentityToken", NOT_VALIDATED);
    char *altered = pd_arena_strdup(&c->a, tok);
    size_t n = strlen(altered);
    altered[n - 5] = altered[n - 5] == 'A' ? 'B' : 'A';
    refused(c, "app", altered, 400, "InvalidIdentityToken", NOT_VALIDATED);
    /* claims swapped for others (another subject), signature kept */
    json_t *cl = good_claims(c);
    json_object_set_new(cl, "sub", json_string("system:serviceaccount:kube-system:admin"));
    char *p = json_dumps(cl, JSON_COMPACT);
    json_decref(cl);
    const char *dot1 = strchr(tok, '.');
    const char *swapped =
        pd_arena_printf(&c->a, "%.*s.%s%s", (int)(dot1 - tok), tok, b64(c, p), last);
    free(p);
    refused(c, "app", swapped, 400, "InvalidIdentityToken", NOT_VALIDATED);
}

static void wrong_issuer_or_audience(void **state)
{
    struct ctx *c = *state;
    json_t *cl = good_claims(c);
    json_object_set_new(cl, "iss", json_string("https://token.actions.githubusercontent.com"));
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for "
            "https://token.actions.githubusercontent.com");
    /* a provider exists for an issuer podiam does not host: no keys to verify with */
    json_decref(pt_ok(c->env, "iam", "CreateOpenIDConnectProvider",
                      json_pack("{s:s, s:[s]}", "Url", "https://issuer.example.com", "ClientIDList",
                                "sts.amazonaws.com")));
    cl = good_claims(c);
    json_object_set_new(cl, "iss", json_string("https://issuer.example.com"));
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken", NO_KEY);
    cl = good_claims(c);
    json_object_set_new(cl, "aud", json_pack("[s, s]", "other", "another"));
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken", "Incorrect token audience");
    cl = good_claims(c);
    json_object_del(cl, "aud");
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken",
            "Missing a required claim: aud");
}

static void times(void **state)
{
    struct ctx *c = *state;
    json_t *cl = good_claims(c);
    json_object_set_new(cl, "exp", json_integer(NOW - 10));
    refused(c, "app", sign(c, c->key, cl), 400, "ExpiredTokenException",
            pd_arena_printf(&c->a,
                            "Token expired: current date/time %lld must be before the expiration "
                            "date/time %lld",
                            (long long)NOW, (long long)(NOW - 10)));
    cl = good_claims(c);
    json_object_set_new(cl, "exp", json_integer(NOW)); /* exp == now is expired */
    refused(c, "app", sign(c, c->key, cl), 400, "ExpiredTokenException", NULL);
    cl = good_claims(c);
    json_object_set_new(cl, "exp", json_real((double)NOW + 3600.5));
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken", NOT_VALIDATED);
    cl = good_claims(c);
    json_object_set_new(cl, "exp", json_string("2030-01-01"));
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken", NOT_VALIDATED);
    cl = good_claims(c);
    json_object_del(cl, "exp");
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken",
            "Missing a required claim: exp");
    cl = good_claims(c);
    json_object_set_new(cl, "nbf", json_integer(NOW + 600));
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken", NULL);
    cl = good_claims(c);
    json_object_set_new(cl, "iat", json_integer(NOW + 600));
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken", NULL);
    cl = good_claims(c); /* within the leeway */
    json_object_set_new(cl, "nbf", json_integer(NOW + 30));
    struct pd_req *r = assume(c, "app", "s1", sign(c, c->key, cl), NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
}

static void not_a_jwt_and_oversized(void **state)
{
    struct ctx *c = *state;
    refused(c, "app", "not-a-jwt-at-all", 400, "InvalidIdentityToken", NOT_VALIDATED);
    refused(c, "app", "a.b.c", 400, "InvalidIdentityToken", NOT_VALIDATED);
    refused(c, "app", "eyJhbGciOiJSUzI1NiJ9.e30=.AAAA", 400, "InvalidIdentityToken", NOT_VALIDATED);
    size_t n = 20001;
    char *big = pd_arena_alloc(&c->a, n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    refused(c, "app", big, 400, "ValidationError", NULL);
    refused(c, "app", "abc", 400, "ValidationError", NULL);
    /* a missing sub */
    json_t *cl = good_claims(c);
    json_object_del(cl, "sub");
    refused(c, "app", sign(c, c->key, cl), 400, "InvalidIdentityToken",
            "Missing a required claim: sub");
}

static void rotation_keeps_one_overlap(void **state)
{
    struct ctx *c = *state;
    const char *old = sign(c, c->key, good_claims(c));
    struct pd_req *r = pt_http(c->env, "POST", "/_podiam/oidc/rotate", "", NULL,
                               pd_arena_printf(&c->a, "{\"issuer\":\"%s\"}", c->issuer));
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    r = assume(c, "app", "s1", old, NULL); /* the retired key is still published */
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    r = pt_http(c->env, "POST", "/_podiam/oidc/rotate", "", NULL,
                pd_arena_printf(&c->a, "{\"issuer\":\"%s\"}", c->issuer));
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    refused(c, "app", old, 400, "InvalidIdentityToken", NO_KEY);
    /* a token minted through the admin API verifies with the new key */
    r = pt_http(c->env, "POST", "/_podiam/oidc/token", "", NULL,
                pd_arena_printf(&c->a,
                                "{\"issuer\":\"%s\",\"claims\":{\"sub\":\"" SUB
                                "\",\"aud\":[\"sts.amazonaws.com\"]},\"ttl\":600}",
                                c->issuer));
    assert_int_equal(r->resp.status, 200);
    json_t *resp = json_loads(pt_body(r), 0, NULL);
    const char *tok = pd_arena_strdup(&c->a, json_string_value(json_object_get(resp, "token")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(resp, "claims"), "exp")),
                     NOW + 600);
    json_decref(resp);
    pd_req_free(r);
    r = assume(c, "app", "s1", tok, NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
}

static void audit_and_off_modes_still_validate_tokens(void **state)
{
    struct ctx *c = *state;
    c->env->cfg.iam_mode = PD_IAM_OFF;
    refused(c, "app", "a.b.c", 400, "InvalidIdentityToken", NOT_VALIDATED);
    json_t *cl = good_claims(c);
    json_object_set_new(cl, "sub", json_string("system:serviceaccount:default:other"));
    const char *other = sign(c, c->key, cl);
    struct pd_req *r = assume(c, "app", "s1", other, NULL); /* no trust check when off */
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    c->env->cfg.iam_mode = PD_IAM_AUDIT;
    r = assume(c, "app", "s1", other, NULL); /* logged, allowed */
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    c->env->cfg.iam_mode = PD_IAM_ENFORCE;
}

/* ---- the decision log (the console draws these) ---- */

static json_t *logged(struct ctx *c, struct pd_req *r)
{
    const char *id = pd_kvs_get(&r->resp.hdrs, "x-podiam-decision-id", 0);
    if (!id)
        fail_msg("no x-podiam-decision-id: %d %s", r->resp.status, pt_body(r));
    json_t *e = pd_decisions_get(c->env->decisions, id);
    assert_non_null(e);
    return e;
}

static void refused_tokens_are_logged_decisions(void **state)
{
    struct ctx *c = *state;
    /* accepted: every token step passed, then the trust policy decided */
    const char *token = sign(c, c->key, good_claims(c));
    struct pd_req *r = assume(c, "app", "s1", token, NULL);
    assert_int_equal(r->resp.status, 200);
    json_t *e = logged(c, r);
    json_t *w = json_object_get(e, "web_identity");
    assert_int_equal(json_array_size(json_object_get(w, "steps")), 8);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(w, "steps"), i, s)
    {
        assert_true(json_is_true(json_object_get(s, "ok")));
    }
    assert_string_equal(json_string_value(json_object_get(w, "sub")), SUB);
    assert_string_equal(json_string_value(json_object_get(e, "decision")), "allowed");
    char *text = json_dumps(e, 0);
    const char *sig = strrchr(token, '.');
    assert_null(strstr(text, sig + 1)); /* never the token */
    free(text);
    json_decref(e);
    pd_req_free(r);

    /* the wrong audience: logged as invalidToken, the step that refused it named
     * (token_refused's format) */
    json_t *cl = good_claims(c);
    json_object_set_new(cl, "aud", json_string("other"));
    r = assume(c, "app", "s1", sign(c, c->key, cl), NULL);
    assert_int_equal(r->resp.status, 400);
    e = logged(c, r);
    assert_string_equal(json_string_value(json_object_get(e, "decision")), "invalidToken");
    assert_false(json_is_true(json_object_get(e, "allowed")));
    json_t *t = json_object_get(e, "token");
    assert_string_equal(json_string_value(json_object_get(t, "step")), "audience");
    assert_non_null(
        strstr(json_string_value(json_object_get(e, "message")), "Incorrect token audience"));
    json_decref(e);
    pd_req_free(r);

    /* not a JWT: refused at its structure */
    r = assume(c, "app", "s1", "not-a-jwt", NULL);
    e = logged(c, r);
    t = json_object_get(e, "token");
    assert_string_equal(json_string_value(json_object_get(t, "step")), "structure");
    json_decref(e);
    pd_req_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_token),
        cmocka_unit_test(refused_tokens_are_logged_decisions),
        cmocka_unit_test(audience_as_string_and_session_policy),
        cmocka_unit_test(session_tags_need_tag_session),
        cmocka_unit_test(condition_keys),
        cmocka_unit_test(alg_none),
        cmocka_unit_test(hs256_with_public_key),
        cmocka_unit_test(unknown_kid_and_other_key),
        cmocka_unit_test(stripped_altered_signature_and_claims),
        cmocka_unit_test(wrong_issuer_or_audience),
        cmocka_unit_test(times),
        cmocka_unit_test(not_a_jwt_and_oversized),
        cmocka_unit_test(audit_and_off_modes_still_validate_tokens),
        cmocka_unit_test(rotation_keeps_one_overlap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
