/*
 * authn.c - who calls a cluster's Kubernetes API, and what they may do.
 *
 * Authentication (bearer tokens only; kubectl sends none over plain http):
 *  - `k8s-aws-v1.<base64url presigned URL>` from `aws eks get-token`: checked as
 *    aws-iam-authenticator checks it (size, host, path, query keys, action, signed
 *    x-k8s-aws-id = this cluster's name, 15 minutes from X-Amz-Date), then the SigV4
 *    signature is verified locally with podiam's credentials (auth/authn.h), as if STS had
 *    answered the GetCallerIdentity. Besides the real STS hosts, podiam's own endpoint
 *    (loopback, its ports, any path) is accepted: clients with AWS_ENDPOINT_URL presign to it.
 *  - a service-account JWT signed by this cluster's issuer (TokenRequest), whose audience
 *    includes the API audience or the issuer, whose service account (and bound pod) exist.
 * Who an IAM identity is on the cluster is iam_user.c's (EKS's mapping: access entries,
 * aws-auth, the creator); what anyone may do is the authorizer chain's (authz.h). Never logs
 * tokens.
 */
#include <string.h>

#include "auth/authn.h"
#include "auth/secrets.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/jwt.h"
#include "env.h"
#include "req.h"
#include "k8s/internal.h"
#include "services/oidc.h"
#include "store/k8s_db.h"

#define AWS_TOKEN_PREFIX "k8s-aws-v1."
#define AWS_TOKEN_MAX 4096

static int bad(const char **why, const char *what)
{
    *why = what;
    return PD_ESIG;
}

/* Is host (no port) an STS endpoint: sts.amazonaws.com or sts.REGION.amazonaws.com(.cn)? */
static int sts_host(const char *host)
{
    if (strcmp(host, "sts.amazonaws.com") == 0)
        return 1;
    if (!pd_has_prefix(host, "sts."))
        return 0;
    const char *region = host + 4;
    const char *dot = strchr(region, '.');
    if (!dot || dot == region)
        return 0;
    for (const char *p = region; p < dot; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return 0;
    return strcmp(dot, ".amazonaws.com") == 0 || strcmp(dot, ".amazonaws.com.cn") == 0;
}

static const char *const allowed_keys[] = {
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
    NULL,
};

int pd_k8s_verify_aws_token(struct pd_env *env, struct pd_db *db, struct pd_arena *a,
                            const char *token, const char *cluster_name, int64_t now_ms,
                            struct pd_principal *OUT, const char **OUT_why)
{
    size_t tlen = strlen(token);
    if (tlen > AWS_TOKEN_MAX)
        return bad(OUT_why, "token is too large");
    if (!pd_has_prefix(token, AWS_TOKEN_PREFIX))
        return bad(OUT_why, "token is missing expected \"k8s-aws-v1.\" prefix");
    const char *b64 = token + strlen(AWS_TOKEN_PREFIX);
    unsigned char *raw;
    size_t rlen;
    if (strchr(b64, '=') || strchr(b64, '+') || strchr(b64, '/') ||
        pd_base64_decode(a, b64, strlen(b64), &raw, &rlen) || memchr(raw, 0, rlen))
        return bad(OUT_why, "input token was not properly formatted: illegal base64 data");
    const char *url = pd_arena_strndup(a, (const char *)raw, rlen);
    /* scheme://netloc/path?query */
    int https = pd_has_prefix(url, "https://");
    if (!https && !pd_has_prefix(url, "http://"))
        return bad(OUT_why, "unexpected scheme in pre-signed URL");
    const char *netloc = url + (https ? 8 : 7);
    size_t nl = strcspn(netloc, "/?#");
    if (netloc[nl] == '#')
        return bad(OUT_why, "pre-signed URL has a fragment");
    char *host_port = pd_arena_strndup(a, netloc, nl);
    const char *rest = netloc + nl;
    size_t pl = strcspn(rest, "?");
    char *path = pd_arena_strndup(a, rest, pl);
    const char *query = rest[pl] == '?' ? rest + pl + 1 : "";
    if (!*path)
        path = "/";
    /* host and port */
    char *host = pd_arena_strdup(a, host_port);
    int port = -1;
    char *colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
    if (colon) {
        if (host[0] == '[')
            colon++;
        int64_t p;
        if (pd_parse_i64(colon + 1, 1, 65535, &p))
            return bad(OUT_why, "unexpected port in pre-signed URL");
        port = (int)p;
        *colon = '\0';
    }
    pd_lower(host);
    int ours = 0;
    if (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0 ||
        strcmp(host, "[::1]") == 0) {
        int want = https ? env->https_port : env->http_port;
        ours = port == want && want > 0;
    }
    if (!ours) {
        if (!https)
            return bad(OUT_why, "unexpected scheme in pre-signed URL");
        if (!sts_host(host) || (port != -1 && port != 443))
            return bad(OUT_why, "unexpected hostname in pre-signed URL");
        if (strcmp(path, "/") != 0)
            return bad(OUT_why, "unexpected path in pre-signed URL");
    }
    /* query keys: whitelisted, no duplicates */
    struct pd_kvs q = {0};
    if (pd_kvs_parse_form(a, &q, query, strlen(query), 0))
        return bad(OUT_why, "input token was not properly formatted: bad query escape");
    for (size_t i = 0; i < q.n; i++) {
        int ok = 0;
        for (const char *const *k = allowed_keys; *k && !ok; k++)
            ok = pd_strcaseeq(*k, q.v[i].name);
        if (!ok)
            return bad(OUT_why,
                       pd_arena_printf(a, "non-whitelisted query parameter \"%s\"", q.v[i].name));
        if (pd_kvs_count(&q, q.v[i].name, 1) > 1)
            return bad(OUT_why, "query parameter with multiple values not supported");
    }
    const char *action = pd_kvs_get(&q, "Action", 1);
    if (!action || strcmp(action, "GetCallerIdentity") != 0)
        return bad(OUT_why, "unexpected action parameter in pre-signed URL");
    const char *signed_headers = pd_kvs_get(&q, "X-Amz-SignedHeaders", 1);
    int has_id = 0;
    if (signed_headers) {
        char *sh = pd_arena_strdup(a, signed_headers);
        for (char *p = sh; p && *p;) {
            char *semi = strchr(p, ';');
            if (semi)
                *semi = '\0';
            if (pd_strcaseeq(p, "x-k8s-aws-id"))
                has_id = 1;
            p = semi ? semi + 1 : NULL;
        }
    }
    if (!has_id)
        return bad(OUT_why, "client did not sign the x-k8s-aws-id header in the pre-signed URL");
    const char *date = pd_kvs_get(&q, "X-Amz-Date", 1);
    int64_t date_ms;
    if (!date || pd_time_parse_amz(date, &date_ms))
        return bad(OUT_why, "error parsing X-Amz-Date in pre-signed URL");
    if (now_ms > date_ms + 15 * 60 * 1000)
        return bad(OUT_why, "X-Amz-Date parameter is expired (15 minute expiration)");

    /* replay the GET as STS would receive it */
    struct pd_kvs hdrs = {0};
    pd_kvs_add(a, &hdrs, "host", host_port, strlen(host_port), 0);
    pd_kvs_add(a, &hdrs, "x-k8s-aws-id", cluster_name, strlen(cluster_name), 0);
    struct pd_sigv4_auth auth;
    struct pd_sigv4_result res;
    memset(&res, 0, sizeof res);
    if (pd_sigv4_parse(a, PD_SIGV4_AWS, &hdrs, query, &auth, &res) || !auth.presigned)
        return bad(OUT_why, res.message ? pd_arena_printf(a, "sts: %s", res.message)
                                        : "the pre-signed URL carries no signature");
    struct pd_sigv4_request sreq = {
        .method = "GET",
        .path = path,
        .query = query,
        .headers = &hdrs,
        .payload_hash = PD_SIGV4_EMPTY_SHA256,
        .normalize_path = 1,
    };
    struct pd_sigv4_verify_opts o = {
        .dialect = PD_SIGV4_AWS, .service = "sts", .now_ms = now_ms, .cache = NULL};
    enum pd_creds_fail cwhy;
    /* now_ms is the client's clock; sessions expire by podiam's (moved by the admin API) */
    int64_t creds_now = now_ms + atomic_load(&env->clock.offset_ms);
    int rc =
        pd_authn_sigv4(db, env->secrets, a, &auth, &sreq, &o, creds_now, OUT, NULL, &cwhy, &res);
    if (rc == PD_OK)
        return PD_OK;
    if (rc == PD_EIO)
        return bad(OUT_why, "sts: credential lookup failed");
    if (cwhy == PD_CREDS_TOKEN_EXPIRED)
        return bad(OUT_why, "sts: ExpiredToken: the security token included in the request is "
                            "expired");
    if (cwhy != PD_CREDS_OK)
        return bad(OUT_why, "sts: InvalidClientTokenId: the security token included in the "
                            "request is invalid");
    return bad(OUT_why, pd_arena_printf(a, "sts: %s: %s", res.code ? res.code : "error",
                                        res.message ? res.message : ""));
}

static int aws_user(struct pd_req *r, const struct pd_eks_cluster *c, const char *token,
                    struct pd_k8s_user *u, const char **why)
{
    struct pd_principal p;
    int rc = pd_k8s_verify_aws_token(r->env, r->db, &r->arena, token, c->name,
                                     pd_clock_wall_ms(&r->env->clock), &p, why);
    if (rc)
        return rc;
    r->who = p;
    return pd_k8s_identity_from_iam(r, c, &p, u, why);
}

static int has_aud(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    size_t i;
    json_t *x;
    json_array_foreach(aud, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), want) == 0)
            return 1;
    }
    return 0;
}

static int sa_user(struct pd_req *r, const struct pd_eks_cluster *c, const char *token,
                   struct pd_k8s_user *u, const char **why)
{
    json_t *claims = NULL;
    enum pd_jwt_reason reason;
    struct pd_jwks s;
    pd_jwks_init(&s);
    struct pd_jwt *jwt = NULL;
    int rc = pd_jwt_parse(token, strlen(token), &jwt, &reason);
    if (rc) {
        *why = "not a valid bearer token";
        rc = PD_ESIG;
        goto out;
    }
    const char *iss = json_string_value(json_object_get(pd_jwt_unverified_claims(jwt), "iss"));
    if (!iss || strcmp(iss, c->issuer) != 0) {
        *why = "the token's issuer is not this cluster's";
        rc = PD_ESIG;
        goto out;
    }
    if (pd_oidc_issuer_jwks(r->env, r->db, &r->arena, c->issuer, &s)) {
        *why = "the cluster's issuer has no keys";
        rc = PD_ESIG;
        goto out;
    }
    rc = pd_jwt_check(jwt, &s, pd_clock_now(&r->env->clock), &claims, NULL, &reason);
    if (rc) {
        *why = pd_jwt_reason_str(reason);
        rc = PD_ESIG;
        goto out;
    }
    rc = PD_ESIG;
    json_t *aud = json_object_get(claims, "aud");
    if (!has_aud(aud, PD_K8S_API_AUDIENCE) && !has_aud(aud, c->issuer)) {
        *why = "token audiences do not include the API server's";
        goto out;
    }
    json_t *k = json_object_get(claims, "kubernetes.io");
    const char *ns = json_string_value(json_object_get(k, "namespace"));
    json_t *sa = json_object_get(k, "serviceaccount");
    const char *sa_name = json_string_value(json_object_get(sa, "name"));
    const char *sa_uid = json_string_value(json_object_get(sa, "uid"));
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    if (!ns || !sa_name || !sa_uid || !sub ||
        strcmp(sub, pd_arena_printf(&r->arena, "system:serviceaccount:%s:%s", ns, sa_name))) {
        *why = "the token is not a service-account token";
        goto out;
    }
    struct pd_k8s_db_obj o;
    if (pd_k8s_db_get(r->db, &r->arena, c->id, "serviceaccounts", ns, sa_name, &o) ||
        strcmp(o.uid, sa_uid) != 0) {
        *why = pd_arena_printf(&r->arena, "service account %s/%s has been deleted", ns, sa_name);
        goto out;
    }
    json_t *pod = json_object_get(k, "pod");
    const char *pod_name = json_string_value(json_object_get(pod, "name"));
    const char *pod_uid = json_string_value(json_object_get(pod, "uid"));
    if (pod && (!pod_name || !pod_uid ||
                pd_k8s_db_get(r->db, &r->arena, c->id, "pods", ns, pod_name, &o) ||
                strcmp(o.uid, pod_uid) != 0)) {
        *why = "the pod the token is bound to does not exist";
        goto out;
    }
    u->username = pd_arena_strdup(&r->arena, sub);
    u->uid = pd_arena_strdup(&r->arena, sa_uid);
    u->mapped_by = "service-account token signed by the cluster's issuer";
    pd_k8s_user_add_group(&r->arena, u, "system:serviceaccounts");
    pd_k8s_user_add_group(&r->arena, u,
                          pd_arena_printf(&r->arena, "system:serviceaccounts:%s", ns));
    pd_k8s_user_add_group(&r->arena, u, "system:authenticated");
    u->extra = json_object();
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    if (jti)
        json_object_set_new(u->extra, "authentication.kubernetes.io/credential-id",
                            json_pack("[s+]", "JTI=", jti));
    if (pod) {
        json_object_set_new(u->extra, "authentication.kubernetes.io/pod-name",
                            json_pack("[s]", pod_name));
        json_object_set_new(u->extra, "authentication.kubernetes.io/pod-uid",
                            json_pack("[s]", pod_uid));
    }
    r->who.arn = u->username; /* for the access log */
    rc = PD_OK;
out:
    json_decref(claims);
    pd_jwks_cleanup(&s);
    pd_jwt_free(jwt);
    return rc;
}

int pd_k8s_authenticate(struct pd_req *r, const struct pd_eks_cluster *c, struct pd_k8s_user *OUT,
                        const char **OUT_why)
{
    memset(OUT, 0, sizeof *OUT);
    const char *h = pd_req_header(r, "authorization");
    if (!h) {
        OUT->anonymous = 1;
        OUT->username = "system:anonymous";
        OUT->mapped_by = "no credentials (anonymous)";
        pd_k8s_user_add_group(&r->arena, OUT, "system:unauthenticated");
        return PD_OK;
    }
    if (!pd_strncaseeq(h, "Bearer ", 7))
        return bad(OUT_why, "only bearer tokens are accepted");
    const char *token = h + 7;
    while (*token == ' ')
        token++;
    if (!*token)
        return bad(OUT_why, "empty bearer token");
    if (pd_has_prefix(token, AWS_TOKEN_PREFIX))
        return aws_user(r, c, token, OUT, OUT_why);
    return sa_user(r, c, token, OUT, OUT_why);
}
