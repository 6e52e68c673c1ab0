/*
 * dispatch.c - the request pipeline (see dispatch.h): route -> decode -> authenticate ->
 * authorize -> handler in a transaction -> encode, then one access-log line.
 *
 * The only file that knows every layer. Routing order (DESIGN.md): raw services (admin
 * /_podiam/, OIDC issuers, Kubernetes) claim their paths; then the service named by the
 * SigV4 credential scope; then the query Action (unsigned STS calls); S3 last.
 */
#include "dispatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/authn.h"
#include "auth/creds.h"
#include "authorize.h"
#include "core/awshost.h"
#include "sigv4/sigv2.h"
#include "sigv4/sigv4.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/region.h"
#include "core/str.h"
#include "crypto/hash.h"
#include "env.h"
#include "proto/codec.h"
#include "k8s/k8s.h"
#include "k8s/pb.h"
#include "k8s/watch.h"
#include "req.h"
#include "services/oidc.h"
#include "services/player.h"
#include "services/service.h"
#include "store/store.h"

/* The service models, parallel to pd_services[], each loaded on its first request (parsing
 * all of them took most of the cold start and a megabyte that a process using only STS
 * never needs). A loaded model is published with release order and never changes. */
struct pd_specs {
    struct pd_spec *_Atomic spec[32];
    pthread_mutex_t load_lock;
    struct pd_sigv4_cache keys; /* signing-key cache shared by all requests */
};

static const struct pd_awserr ERR_MissingAuthenticationToken = {"MissingAuthenticationToken", 403,
                                                                0};
static const struct pd_awserr ERR_InvalidClientTokenId = {"InvalidClientTokenId", 403, 0};
static const struct pd_awserr ERR_ExpiredToken = {"ExpiredToken", 403, 0};
static const struct pd_awserr ERR_SignatureDoesNotMatch = {"SignatureDoesNotMatch", 403, 0};
static const struct pd_awserr ERR_S3_InvalidAccessKeyId = {"InvalidAccessKeyId", 403, 0};
static const struct pd_awserr ERR_S3_InvalidToken = {"InvalidToken", 400, 0};
static const struct pd_awserr ERR_S3_ExpiredToken = {"ExpiredToken", 400, 0};

static size_t service_index(const struct pd_service *svc)
{
    size_t i = 0;
    while (pd_services[i] && pd_services[i] != svc)
        i++;
    return i;
}

/* Load service i's embedded model and check that its operation table names only operations
 * of the model (a typo would otherwise make an implemented operation answer 501). */
static int load_spec(size_t i, struct pd_spec **OUT, const char **OUT_err)
{
    const struct pd_service *svc = pd_services[i];
    char stem[64];
    snprintf(stem, sizeof stem, "%s", svc->spec);
    char *dot = strrchr(stem, '.');
    if (dot)
        *dot = '\0';
    if (pd_spec_load_embedded(stem, OUT) != PD_OK) {
        *OUT_err = "an embedded service model does not load";
        return PD_EINTERNAL;
    }
    for (const struct pd_op *op = svc->ops; op && op->name; op++) {
        if (!(op->flags & PD_OP_NOMODEL) && !pd_spec_op(*OUT, op->name)) {
            pd_log(PD_LOG_ERROR, "%s: operation %s is not in the model %s", svc->name, op->name,
                   svc->spec);
            *OUT_err = "a service table names an operation its model lacks";
            pd_spec_free(*OUT);
            *OUT = NULL;
            return PD_EINTERNAL;
        }
    }
    return PD_OK;
}

int pd_dispatch_check_models(void)
{
    for (size_t i = 0; pd_services[i]; i++) {
        struct pd_spec *spec;
        const char *why;
        if (!pd_services[i]->spec)
            continue;
        if (load_spec(i, &spec, &why) != PD_OK) {
            pd_log(PD_LOG_ERROR, "%s: %s", pd_services[i]->name, why);
            return PD_EINTERNAL;
        }
        pd_spec_free(spec);
    }
    return PD_OK;
}

static const struct pd_spec *spec_of(const struct pd_env *env, const struct pd_service *svc)
{
    struct pd_specs *s = env->specs;
    size_t i = service_index(svc);
    if (!svc->spec)
        return NULL; /* a raw service (admin, OIDC, Kubernetes) has no model */
    struct pd_spec *spec = atomic_load_explicit(&s->spec[i], memory_order_acquire);
    if (spec)
        return spec;
    pthread_mutex_lock(&s->load_lock);
    spec = atomic_load_explicit(&s->spec[i], memory_order_relaxed);
    const char *why = NULL;
    if (!spec && load_spec(i, &spec, &why) != PD_OK) {
        /* The models are compiled in and checked by the unit tests (pd_dispatch_check_models):
         * a failure here is a broken build, not bad input. */
        pd_log(PD_LOG_ERROR, "%s: %s", svc->name, why);
        abort();
    }
    atomic_store_explicit(&s->spec[i], spec, memory_order_release);
    pthread_mutex_unlock(&s->load_lock);
    return spec;
}

int pd_dispatch_init(struct pd_env *env, const char **OUT_err)
{
    struct pd_specs *s = calloc(1, sizeof *s);
    if (!s) {
        *OUT_err = "out of memory";
        return PD_EINTERNAL;
    }
    pd_sigv4_cache_init(&s->keys);
    env->specs = s;
    pd_oidc_init(env);
    env->player = pd_player_new(PD_PLAYER_GONE_MS);
    pd_k8s_auth_init(env);
    pd_k8s_hub_init(env);
    pthread_mutex_init(&s->load_lock, NULL);
    for (size_t i = 0; pd_services[i]; i++) {
        const struct pd_service *svc = pd_services[i];
        if (svc->spec && svc->init && env->store && svc->init(env) != PD_OK) {
            *OUT_err = "a service could not start";
            return PD_EINTERNAL;
        }
    }
    return PD_OK;
}

void pd_dispatch_cleanup(struct pd_env *env)
{
    struct pd_specs *s = env->specs;
    pd_oidc_cleanup(env);
    pd_player_free(env->player);
    env->player = NULL;
    pd_k8s_hub_cleanup(env);
    pd_k8s_auth_cleanup(env);
    if (!s)
        return;
    for (size_t i = 0; i < sizeof s->spec / sizeof s->spec[0]; i++)
        pd_spec_free(atomic_load(&s->spec[i]));
    pthread_mutex_destroy(&s->load_lock);
    pd_sigv4_cache_cleanup(&s->keys);
    free(s);
    env->specs = NULL;
}

static const char *scope_service(struct pd_req *r);
static int finish_early(struct pd_req *r);

/* A body over --max-body: refused in the envelope of the service the request is for (the
 * one its signature names; a query-protocol envelope when it names none), so SDKs show a
 * real error code. Raw services get text. */
static int too_big(struct pd_req *r)
{
    size_t max = r->env->cfg.max_body;
    if (r->svc && r->svc->proto == PD_PROTO_RAW) {
        r->resp.status = 413;
        r->resp.content_type = "text/plain";
        pd_buf_printf(&r->resp.body, "request body larger than %zu bytes\n", max);
        return PD_ETOOBIG;
    }
    if (!r->svc) {
        const char *scope = scope_service(r);
        r->svc = scope ? pd_service_by_signing_name(scope) : NULL;
        if (!r->svc || r->svc->proto == PD_PROTO_RAW)
            r->svc = pd_service_find("sts");
    }
    pd_fail(r, &PD_ERR_RequestEntityTooLarge,
            "The request body is larger than podiam's limit of %zu bytes (--max-body).", max);
    finish_early(r);
    return PD_ETOOBIG;
}

/* Refuse a declared body over the bound before reading a byte of it. */
static int check_length(struct pd_req *r)
{
    const char *cl = pd_req_header(r, "content-length");
    int64_t n;
    if (cl && (pd_parse_i64(cl, 0, INT64_MAX, &n) || (uint64_t)n > r->env->cfg.max_body))
        return too_big(r);
    return PD_OK;
}

/* ---- routing ---- */

/* The service element of the SigV4 credential scope, from the Authorization header or the
 * presigned X-Amz-Credential parameter; NULL when the request is not signed. */
static const char *scope_service(struct pd_req *r)
{
    const char *cred = NULL;
    const char *auth = pd_req_header(r, "authorization");
    if (auth) {
        const char *c = strstr(auth, "Credential=");
        if (c)
            cred = c + 11;
    } else {
        const char *c = strstr(r->query, "X-Amz-Credential=");
        if (c)
            cred = c + 17;
    }
    if (!cred)
        return NULL;
    /* AKID/DATE/REGION/SERVICE/aws4_request, '/' possibly percent-encoded */
    char buf[256];
    size_t n = 0;
    for (const char *p = cred; *p && *p != ',' && *p != '&' && *p != ' ' && n < sizeof buf - 1;)
        buf[n++] = *p++;
    buf[n] = '\0';
    char *dec;
    size_t dlen;
    if (pd_url_decode(&r->arena, buf, n, 0, &dec, &dlen))
        return NULL;
    char *parts[5] = {0};
    int k = 0;
    for (char *p = dec; k < 5; k++) {
        parts[k] = p;
        char *slash = strchr(p, '/');
        if (!slash) {
            k++;
            break;
        }
        *slash = '\0';
        p = slash + 1;
    }
    return k >= 4 ? parts[3] : NULL;
}

/* The query Action, found without decoding anything else: the query string first, then a
 * form body (as the query codec reads them). Enough to route an unsigned call, and to know
 * before authentication whether its operation may be called unsigned; the rest of the
 * parameters are decoded only for an authenticated (or legitimately unsigned) request.
 * *OUT is NULL when there is none; PD_EINVAL when the Action value does not decode. */
static int peek_action(struct pd_req *r, const char **OUT)
{
    if (pd_form_find(&r->arena, r->query, strlen(r->query), "Action", 1, OUT))
        return PD_EINVAL;
    if (*OUT)
        return PD_OK;
    const char *ct = pd_req_header(r, "content-type");
    if (r->body.len && (!ct || pd_strncaseeq(ct, "application/x-www-form-urlencoded", 33)))
        return pd_form_find(&r->arena, pd_buf_str(&r->body), r->body.len, "Action", 1, OUT);
    return PD_OK;
}

static const struct pd_service *route(struct pd_req *r)
{
    const char *scope = scope_service(r);
    if (scope) {
        const struct pd_service *svc = pd_service_by_signing_name(scope);
        if (svc)
            return svc;
    }
    const char *action;
    if (peek_action(r, &action) != PD_OK)
        return pd_service_find("sts"); /* a broken form: the query codec explains it */
    {
        if (action) {
            for (size_t i = 0; pd_services[i]; i++) {
                const struct pd_service *svc = pd_services[i];
                if (svc->proto == PD_PROTO_QUERY && pd_spec_op(spec_of(r->env, svc), action))
                    return svc;
            }
            /* No service has it: STS's codec answers InvalidAction as AWS does. */
            return pd_service_find("sts");
        }
    }
    return NULL; /* S3 was recognised at the headers; nothing else matches */
}

/* ---- authentication ---- */

static int fail_creds(struct pd_req *r, enum pd_sigv4_dialect d, enum pd_creds_fail why,
                      const char *akid)
{
    if (d == PD_SIGV4_S3) {
        switch (why) {
        case PD_CREDS_TOKEN_INVALID:
            return pd_fail(r, &ERR_S3_InvalidToken,
                           "The provided token is malformed or otherwise invalid.");
        case PD_CREDS_TOKEN_EXPIRED:
            return pd_fail(r, &ERR_S3_ExpiredToken, "The provided token has expired.");
        default:
            pd_fail(r, &ERR_S3_InvalidAccessKeyId,
                    "The AWS Access Key Id you provided does not exist in our records.");
            r->err.extra = json_pack("{s:s}", "AWSAccessKeyId", akid ? akid : "");
            return PD_EAWS;
        }
    }
    if (why == PD_CREDS_TOKEN_EXPIRED)
        return pd_fail(r, &ERR_ExpiredToken,
                       "The security token included in the request is expired");
    return pd_fail(r, &ERR_InvalidClientTokenId,
                   "The security token included in the request is invalid.");
}

static int fail_sigv4(struct pd_req *r, const struct pd_sigv4_result *res)
{
    /* Codes vary with the failure: the wire error lives in the request's arena. */
    struct pd_awserr *copy = pd_arena_alloc(&r->arena, sizeof *copy);
    copy->code = res->code;
    copy->status = res->status;
    copy->receiver = res->status >= 500;
    pd_fail(r, copy, "%s", res->message ? res->message : "");
    if (res->extra.n) {
        json_t *x = json_object();
        for (size_t i = 0; i < res->extra.n; i++)
            json_object_set_new(x, res->extra.v[i].name,
                                json_stringn(res->extra.v[i].value, res->extra.v[i].vlen));
        r->err.extra = x;
    }
    if (res->canonical_request && strcmp(res->code, "SignatureDoesNotMatch") == 0)
        pd_log_req(PD_LOG_DEBUG, r->request_id,
                   "signature mismatch; canonical request:\n%s\nstring to sign:\n%s",
                   res->canonical_request, res->string_to_sign ? res->string_to_sign : "");
    return PD_EAWS;
}

/* The region a request for this Host must be signed for, when the Host is an AWS name: the
 * aws partition's global endpoints of IAM and STS sign for us-east-1, SERVICE[-fips].REGION.
 * amazonaws.com for REGION. NULL for any other Host (podiam's own address). */
static const char *host_region(struct pd_req *r, char *buf, size_t cap)
{
    const char *host = pd_req_header(r, "host");
    if (!host)
        return NULL;
    struct pd_awshost h;
    enum pd_awshost_svc svc = pd_awshost_parse(host, strcspn(host, ":"), &h);
    if (svc == PD_AWSHOST_NONE)
        return NULL;
    if (!h.region_len)
        return svc == PD_AWSHOST_IAM || svc == PD_AWSHOST_STS ? "us-east-1" : NULL;
    if (h.region_len >= cap)
        return NULL;
    for (size_t i = 0; i < h.region_len; i++)
        buf[i] = (char)(host[h.region_off + i] | 0x20);
    buf[h.region_len] = '\0';
    return buf;
}

/* The credential scope's region, as AWS checks it: a real region always; and for a request
 * to an AWS host name (through the proxy, or DNS pointed at podiam) the one that host signs
 * for (host_region). A request to podiam's own address comes from an SDK told to use a
 * custom endpoint, and SDKs then sign with their configured region for every service
 * (botocore does for IAM, whose real endpoint signs for us-east-1): any real region is taken
 * there, or such suites would fail against podiam for what never happens against AWS. */
static int check_scope_region(struct pd_req *r, const char *region)
{
    char buf[32];
    const char *want = host_region(r, buf, sizeof buf);
    if (pd_region_known(region, strlen(region)) && (!want || strcmp(want, region) == 0))
        return PD_OK;
    return pd_fail(r, &ERR_SignatureDoesNotMatch,
                   "Credential should be scoped to a valid region, not '%s'.", region);
}

/* An S3 request signed with Signature Version 2 (lib/sigv4/sigv2.h): header or query
 * authentication, checked like SigV4 (the date against the client's clock, a query's
 * Expires against podiam's, the key and session token, then the signature). */
static int authenticate_v2(struct pd_req *r)
{
    struct pd_sigv2_auth auth;
    struct pd_sigv4_result res;
    memset(&res, 0, sizeof res);
    if (pd_sigv2_parse(&r->arena, &r->hdrs, r->query, &auth, &res) != PD_OK)
        return fail_sigv4(r, &res);
    /* the canonical resource names the bucket of a virtual-hosted request */
    const char *host_bucket = NULL, *no_key = NULL;
    if (pd_dispatch_s3_address(&r->arena, pd_req_header(r, "host"), "/", &host_bucket, &no_key) !=
        PD_OK)
        host_bucket = NULL;
    struct pd_sigv2_request sreq = {
        .method = r->method,
        .path = r->path,
        .query = r->query,
        .headers = &r->hdrs,
        .host_bucket = host_bucket,
    };
    struct pd_sigv2_verify_opts o = {
        .now_ms = pd_clock_wall_ms(&r->env->clock),    /* the client dates with its own clock */
        .expires_ms = pd_clock_now_ms(&r->env->clock), /* podiam's clock expires URLs */
    };
    enum pd_creds_fail why;
    int rc = pd_authn_sigv2(r->db, r->env->secrets, &r->arena, &auth, &sreq, &o,
                            pd_clock_now_ms(&r->env->clock), &r->who, &why, &res);
    if (rc == PD_ESIG && why != PD_CREDS_OK)
        return fail_creds(r, PD_SIGV4_S3, why, auth.akid);
    if (rc == PD_EIO)
        return pd_fail(r, &PD_ERR_InternalFailure, "credential lookup failed");
    if (rc) {
        if (res.string_to_sign && res.code && strcmp(res.code, "SignatureDoesNotMatch") == 0)
            pd_log_req(PD_LOG_DEBUG, r->request_id, "SigV2 signature mismatch; string to sign:\n%s",
                       res.string_to_sign);
        return fail_sigv4(r, &res);
    }
    r->sig.auth_type = auth.presigned ? 2 : 1;
    r->sig.v2 = 1;
    return PD_OK;
}

/* Verify the request's signature and set r->who. Anonymous requests pass only where the
 * operation allows them (or for S3, where policies decide). */
static int authenticate(struct pd_req *r, enum pd_sigv4_dialect d, const char *payload_hash)
{
    struct pd_sigv4_auth auth;
    struct pd_sigv4_result res;
    memset(&res, 0, sizeof res);
    if (d == PD_SIGV4_S3 && pd_sigv2_detect(&r->hdrs, r->query))
        return authenticate_v2(r);
    int rc = pd_sigv4_parse(&r->arena, d, &r->hdrs, r->query, &auth, &res);
    if (rc == PD_ENOTFOUND) {
        r->who.kind = PD_CALLER_ANONYMOUS;
        if ((r->op && (r->op->flags & PD_OP_UNSIGNED)) || d == PD_SIGV4_S3)
            return PD_OK;
        return pd_fail(r, &ERR_MissingAuthenticationToken,
                       "Request is missing Authentication Token");
    }
    if (rc)
        return fail_sigv4(r, &res);

    struct pd_sigv4_request sreq = {
        .method = r->method,
        .path = r->path,
        .query = r->query,
        .headers = &r->hdrs,
        .payload_hash = payload_hash,
        .normalize_path = d != PD_SIGV4_S3,
    };
    struct pd_sigv4_verify_opts o = {
        .dialect = d,
        .service = r->svc->signing_name,
        .now_ms = pd_clock_wall_ms(&r->env->clock), /* the client signs with its own clock */
        .cache = &r->env->specs->keys,
    };
    const char *secret = NULL;
    enum pd_creds_fail why;
    rc = pd_authn_sigv4(r->db, r->env->secrets, &r->arena, &auth, &sreq, &o,
                        pd_clock_now_ms(&r->env->clock), &r->who, &secret, &why, &res);
    if (rc == PD_ESIG && why != PD_CREDS_OK)
        return fail_creds(r, d, why, auth.akid);
    if (rc == PD_EIO)
        return pd_fail(r, &PD_ERR_InternalFailure, "credential lookup failed");
    if (rc)
        return fail_sigv4(r, &res);
    if (d != PD_SIGV4_S3 && check_scope_region(r, auth.region) != PD_OK)
        return PD_EAWS;
    snprintf(r->region, sizeof r->region, "%s", auth.region);
    r->sig.auth_type = auth.presigned ? 2 : 1;
    if (d == PD_SIGV4_S3 && !auth.presigned &&
        pd_has_prefix(payload_hash, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) {
        /* the body's chunk signatures chain from this request's signature */
        pd_sigv4_signing_key(o.cache, secret, auth.date8, auth.region, auth.service, r->sig.key);
        snprintf(r->sig.seed, sizeof r->sig.seed, "%s", auth.signature);
        snprintf(r->sig.amz_date, sizeof r->sig.amz_date, "%s", auth.date_raw);
        r->sig.scope = pd_sigv4_scope(&r->arena, auth.date8, auth.region, auth.service);
        r->sig.have_key = 1;
    }
    /* Credentials from GetSessionToken without MFA cannot call IAM: AWS answers as if the
     * token were unknown. */
    if (r->who.kind == PD_CALLER_USER && r->who.temporary && strcmp(r->svc->name, "iam") == 0)
        return pd_fail(r, &ERR_InvalidClientTokenId,
                       "The security token included in the request is invalid");
    return PD_OK;
}

/* ---- S3: addressing, and the work done as soon as the headers are in ---- */

/* Is this an S3 request? Signed for s3, or unsigned and not a query-protocol call. */
static int is_s3(struct pd_req *r)
{
    const char *scope = scope_service(r);
    if (scope)
        return strcmp(scope, "s3") == 0;
    if (strstr(r->query, "Action=") &&
        (pd_has_prefix(r->query, "Action=") || strstr(r->query, "&Action=")))
        return 0;
    const char *ct = pd_req_header(r, "content-type");
    if (ct && pd_strncaseeq(ct, "application/x-www-form-urlencoded", 33) &&
        strcmp(r->method, "POST") == 0 && (!r->path[0] || strcmp(r->path, "/") == 0))
        return 0; /* an unsigned query call (AssumeRoleWithWebIdentity), always to "/"; a
                     form POSTed to a bucket's path is S3's (POST Object refuses it) */
    return pd_service_find("s3") != NULL;
}

/* Bucket and key: virtual-host style (BUCKET.s3.localhost, BUCKET.localhost, BUCKET in front
 * of any S3 endpoint of amazonaws.com: core/awshost.c) or path style. */
int pd_dispatch_s3_address(struct pd_arena *a, const char *host, const char *path,
                           const char **OUT_bucket, const char **OUT_key)
{
    char h[256];
    size_t n = 0;
    *OUT_bucket = NULL;
    *OUT_key = NULL;
    if (host && *host != '[') {
        while (host[n] && host[n] != ':' && n < sizeof h - 1) {
            h[n] = (char)(host[n] >= 'A' && host[n] <= 'Z' ? host[n] + 32 : host[n]);
            n++;
        }
    }
    h[n] = '\0';
    size_t bucket_len = 0;
    static const char *const suffixes[] = {".s3.localhost", ".localhost", NULL};
    for (const char *const *sfx = suffixes; *sfx && !bucket_len; sfx++) {
        size_t sl = strlen(*sfx);
        if (n > sl && strcmp(h + n - sl, *sfx) == 0 && strcmp(h, "s3.localhost") != 0)
            bucket_len = n - sl;
    }
    struct pd_awshost aws;
    if (!bucket_len && pd_awshost_parse(h, n, &aws) == PD_AWSHOST_S3)
        bucket_len = aws.bucket_len;
    if (bucket_len) {
        *OUT_bucket = pd_arena_strndup(a, h, bucket_len);
        char *key;
        size_t klen;
        const char *p = path[0] == '/' ? path + 1 : path;
        if (pd_url_decode(a, p, strlen(p), 0, &key, &klen))
            return PD_EINVAL;
        *OUT_key = *key ? key : NULL;
        return PD_OK;
    }
    return pd_restxml_split_path(a, path, OUT_bucket, OUT_key);
}

static int s3_address(struct pd_req *r)
{
    return pd_dispatch_s3_address(&r->arena, pd_req_header(r, "host"), r->path, &r->bucket,
                                  &r->key);
}

static void http_request(struct pd_req *r, struct pd_http_request *hq)
{
    memset(hq, 0, sizeof *hq);
    hq->method = r->method;
    hq->path = r->path;
    hq->query = r->query;
    hq->headers = &r->hdrs;
    hq->body = r->body.p;
    hq->body_len = r->body.len;
    hq->bucket = r->bucket;
    hq->key = r->key;
}

static void fail_codec(struct pd_req *r, const struct pd_codec_error *cerr)
{
    if (r->svc && r->svc->codec_error) { /* the service words it as its API does */
        r->svc->codec_error(r, cerr->code, cerr->status, cerr->message,
                            cerr->n_violations ? cerr->violations[0].message : NULL);
        return;
    }
    struct pd_awserr *e = pd_arena_alloc(&r->arena, sizeof *e);
    e->code = cerr->code;
    /* EKS answers constraint violations with InvalidParameterException, not the rest-json
     * default ValidationException. */
    if (r->svc && strcmp(r->svc->name, "eks") == 0 &&
        strcmp(cerr->code, "ValidationException") == 0)
        e->code = "InvalidParameterException";
    e->status = cerr->status;
    e->receiver = !cerr->sender;
    pd_fail(r, e, "%s", cerr->message ? cerr->message : "");
}

/* The S3 payload hash a signature covers: what x-amz-content-sha256 declares (header
 * auth), UNSIGNED-PAYLOAD for presigned URLs. */
static const char *s3_payload_hash(struct pd_req *r)
{
    const char *h = pd_req_header(r, "x-amz-content-sha256");
    if (h)
        return h;
    if (strstr(r->query, "X-Amz-Signature="))
        return PD_SIGV4_UNSIGNED_PAYLOAD;
    return PD_SIGV4_EMPTY_SHA256;
}

static int finish_early(struct pd_req *r);

/* A buffered S3 body signed with its SHA-256 (x-amz-content-sha256 in hex) must hash to it
 * (streamed bodies are checked by the service's sink). */
static int s3_body_hash(struct pd_req *r)
{
    static const struct pd_awserr mismatch = {"XAmzContentSHA256Mismatch", 400, 0};
    const char *h = pd_req_header(r, "x-amz-content-sha256");
    if (!h || r->sig.auth_type != 1 || strlen(h) != 64 || pd_has_prefix(h, "STREAMING-"))
        return PD_OK;
    char got[65];
    pd_sha256_hex(r->body.p ? r->body.p : "", r->body.len, got);
    if (pd_strcaseeq(got, h))
        return PD_OK;
    pd_fail(r, &mismatch,
            "The provided 'x-amz-content-sha256' header does not match what was "
            "computed.");
    r->err.extra =
        json_pack("{s:s, s:s}", "ClientComputedContentSHA256", h, "S3ComputedContentSHA256", got);
    return PD_EAWS;
}

/*
 * S3 request headers are in: find the operation, authenticate the signature (an S3 body
 * may be gigabytes; nothing of it is read for a request that would be refused), and for
 * operations that stream their body (PutObject, UploadPart) also decode the headers,
 * authorize, and let the service install a body sink. Anything refused is answered now,
 * before the client sends the body (`Expect: 100-continue` then gets the error).
 */
static int s3_headers(struct pd_req *r)
{
    r->svc = pd_service_find("s3");
    r->db = pd_store_db(r->env->store);
    r->early = 1;
    const struct pd_spec *spec = spec_of(r->env, r->svc);
    struct pd_http_request hq;
    struct pd_codec_error cerr;
    memset(&cerr, 0, sizeof cerr);
    if (s3_address(r) != PD_OK) {
        static const struct pd_awserr invalid_uri = {"InvalidURI", 400, 0};
        pd_fail(r, &invalid_uri, "Couldn't parse the specified URI.");
        return finish_early(r);
    }
    if (r->svc->route && r->svc->route(r)) {
        /* an operation the model lacks (POST Object, the CORS preflight): the service
         * authenticates it its own way (the form's policy and signature; none) */
        r->op_name = r->op->name;
        if (r->svc->stream && r->svc->stream(r) != PD_OK)
            return finish_early(r);
        return r->sink ? PD_OK : check_length(r); /* a sink of its own, or a small body */
    }
    http_request(r, &hq);
    int rrc = pd_rest_route(spec, &r->arena, &hq, &r->spec_op, &cerr);
    if (r->spec_op) {
        r->op_name = r->spec_op->name;
        r->op = pd_service_op(r->svc, r->spec_op->name);
    }
    if (authenticate(r, PD_SIGV4_S3, s3_payload_hash(r)) != PD_OK)
        return finish_early(r);
    if (rrc) {
        fail_codec(r, &cerr);
        return finish_early(r);
    }
    if (!r->op) {
        pd_fail(r, &PD_ERR_NotImplemented,
                "The operation %s of s3 is not implemented by podiam (see docs/coverage.md).",
                r->spec_op->name);
        return finish_early(r);
    }
    if (!r->svc->stream || !pd_spec_op_streams_input(r->spec_op))
        return check_length(r);

    /* A streamed upload: everything but the body is decided now. */
    hq.body = NULL;
    hq.body_len = 0;
    if (pd_rest_decode(spec, &r->arena, r->spec_op, &hq, &r->in, &cerr) != PD_OK) {
        fail_codec(r, &cerr);
        return finish_early(r);
    }
    int rc = pd_db_begin(r->db, 0);
    if (rc == PD_OK) {
        rc = pd_authorize(r);
        pd_db_rollback(r->db);
    } else {
        pd_fail(r, &PD_ERR_ServiceUnavailable, "The state is busy; retry the request.");
    }
    if (rc == PD_OK)
        rc = r->svc->stream(r);
    return rc == PD_OK ? PD_OK : finish_early(r);
}

/* ---- running an operation ---- */

static int run_handler(struct pd_req *r)
{
    int write = (r->op->flags & PD_OP_WRITE) != 0;
    if (r->svc->prepare && r->svc->prepare(r) != PD_OK)
        return PD_EAWS;
    if (r->op->flags & PD_OP_NOTXN) {
        int rc = pd_authorize(r);
        return rc ? rc : r->op->fn(r);
    }
    int rc = pd_db_begin(r->db, write);
    if (rc)
        return pd_fail(r, &PD_ERR_ServiceUnavailable, "The state is busy; retry the request.");
    rc = pd_authorize(r);
    if (rc == PD_OK)
        rc = r->op->fn(r);
    if (rc == PD_OK)
        pd_creds_note_use(r->db, &r->arena, &r->who, pd_clock_now_ms(&r->env->clock),
                          r->region[0] ? r->region : r->env->cfg.region, r->svc->name);
    if (rc == PD_OK)
        rc = pd_db_commit(r->db);
    else
        pd_db_rollback(r->db);
    if (r->after_txn)
        r->after_txn(r, rc == PD_OK);
    if (rc && !r->err.def)
        pd_fail(r, &PD_ERR_InternalFailure, "internal error: %s", pd_strerror(rc));
    return rc;
}

static void copy_response(struct pd_req *r, struct pd_http_response *hr)
{
    r->resp.status = r->status && !r->err.def ? r->status : hr->status;
    if ((r->resp.fd >= 0 || r->resp.payload) && hr->stream && !r->err.def) {
        /* the handler's file or bytes are the body (S3 GetObject); keep them */
        for (size_t i = 0; i < hr->headers.n; i++)
            pd_kvs_add(&r->arena, &r->resp.hdrs, hr->headers.v[i].name, hr->headers.v[i].value,
                       hr->headers.v[i].vlen, 0);
        return;
    }
    if (r->resp.fd >= 0) {
        close(r->resp.fd);
        r->resp.fd = -1;
    }
    for (size_t i = 0; i < hr->headers.n; i++)
        pd_kvs_add(&r->arena, &r->resp.hdrs, hr->headers.v[i].name, hr->headers.v[i].value,
                   hr->headers.v[i].vlen, 0);
    pd_buf_free(&r->resp.body);
    r->resp.body = hr->body;
    pd_buf_init(&hr->body, 0);
}

/* S3's x-amz-id-2 / <HostId>: an opaque id of the request (base64 of its hash). */
static const char *host_id(struct pd_req *r)
{
    unsigned char d[PD_SHA256_LEN];
    pd_sha256(r->request_id, strlen(r->request_id), d);
    return pd_base64_encode(&r->arena, d, sizeof d, 0);
}

static void encode(struct pd_req *r, const struct pd_spec *spec, const struct pd_spec_op *sop)
{
    if (!sop && !r->err.def && r->op && (r->op->flags & PD_OP_NOMODEL)) {
        /* the handler wrote the answer (no output shape to render) */
        if (!r->resp.status)
            r->resp.status = 200;
        pd_req_set_header(r, "x-amz-request-id", r->request_id);
        pd_req_set_header(r, "x-amz-id-2", host_id(r));
        return;
    }
    struct pd_http_response hr;
    pd_http_response_init(&hr);
    int rc = PD_OK;
    if (!r->err.def) {
        rc = pd_codec_encode(spec, &r->arena, sop, r->out, r->request_id, &hr);
        if (rc) {
            pd_log_req(PD_LOG_ERROR, r->request_id, "%s.%s: output does not fit the model",
                       r->svc->name, r->op_name);
            pd_http_response_cleanup(&hr);
            pd_http_response_init(&hr);
            pd_fail(r, &PD_ERR_InternalFailure, "podiam could not encode the response");
        }
    }
    if (r->err.def) {
        struct pd_aws_fault f = {
            .code = r->err.def->code,
            .message = r->err.message,
            .status = r->err.def->status,
            .sender = !r->err.def->receiver,
            .extra = r->err.extra,
            .host_id = r->svc->proto == PD_PROTO_REST_XML ? host_id(r) : NULL,
        };
        pd_codec_encode_error(spec, &r->arena, sop, &f, r->request_id, &hr);
        if (strcmp(r->method, "HEAD") == 0)
            pd_buf_reset(&hr.body);
    }
    copy_response(r, &hr);
    pd_http_response_cleanup(&hr);
    if (r->svc->proto == PD_PROTO_REST_XML && !r->err.def)
        pd_req_set_header(r, "x-amz-id-2", host_id(r));
}

/* The operation a query or REST request names, looked up without decoding its parameters
 * or body (see run_aws); NULL when it names none the model has. */
static const struct pd_spec_op *peek_op(struct pd_req *r, const struct pd_spec *spec,
                                        const struct pd_http_request *hq)
{
    if (r->svc->proto == PD_PROTO_QUERY) {
        const char *action;
        if (peek_action(r, &action) != PD_OK || !action)
            return NULL;
        return pd_spec_op(spec, action);
    }
    const struct pd_spec_op *op = NULL;
    struct pd_codec_error cerr;
    memset(&cerr, 0, sizeof cerr);
    pd_codec_route(spec, &r->arena, hq, &op, &cerr);
    return op;
}

/* An AWS-protocol request: authenticate, decode, authorize, run, encode. S3 requests
 * arrive here authenticated already (s3_headers), uploads with their body streamed. */
static void run_aws(struct pd_req *r)
{
    const struct pd_spec *spec = spec_of(r->env, r->svc);
    r->db = pd_store_db(r->env->store);
    if (r->err.def)
        goto out; /* refused at the headers; the response was sent then */
    struct pd_http_request hq;
    http_request(r, &hq);
    struct pd_codec_error cerr;
    memset(&cerr, 0, sizeof cerr);
    int drc = PD_OK;
    if (r->sink && pd_statelock_epoch(&r->env->state_lock) != r->state_epoch) {
        /* decoded (or claimed) at the headers, authorized against a state that a reset or
         * restore has since replaced: refused (the client retries) */
        pd_fail(r, &PD_ERR_ServiceUnavailable,
                "The state was reset or restored during the upload; retry the request.");
        goto out;
    }
    if (r->op && (r->op->flags & PD_OP_NOMODEL)) {
        /* claimed by the service at the headers; nothing for the codec to decode */
        if (r->sink && r->sink->finish(r) != PD_OK)
            goto out;
        run_handler(r);
        goto out;
    } else if (r->sink) {
        /* decoded at the headers; the body went to the sink */
        if (r->sink->finish(r) != PD_OK)
            goto out;
    } else if (r->early) {
        if (s3_body_hash(r) != PD_OK)
            goto out;
        drc = pd_rest_decode(spec, &r->arena, r->spec_op, &hq, &r->in, &cerr);
    } else {
        /* Authentication comes before everything the client could learn from, and before
         * the work and memory decoding costs: an unsigned or badly signed request learns
         * nothing about operations or parameters, and its body is only hashed. Only the
         * operation is looked up first, to know whether it may be called unsigned. */
        r->spec_op = peek_op(r, spec, &hq);
        if (r->spec_op) {
            r->op_name = r->spec_op->name;
            r->op = pd_service_op(r->svc, r->spec_op->name);
        }
        char body_hash[65];
        pd_sha256_hex(r->body.p ? r->body.p : "", r->body.len, body_hash);
        if (authenticate(r, PD_SIGV4_AWS, body_hash) != PD_OK)
            goto out;
        drc = pd_codec_decode(spec, &r->arena, &hq, &r->spec_op, &r->in, &cerr);
        r->op = NULL;
        if (r->spec_op) {
            r->op_name = r->spec_op->name;
            r->op = pd_service_op(r->svc, r->spec_op->name);
        }
        if (drc && !r->spec_op) {
            fail_codec(r, &cerr);
            goto out;
        }
        if (!r->op) {
            pd_fail(r, &PD_ERR_NotImplemented,
                    "The operation %s of %s is not implemented by podiam (see docs/coverage.md).",
                    r->spec_op->name, r->svc->name);
            goto out;
        }
    }
    if (drc) {
        fail_codec(r, &cerr);
        goto out;
    }
    run_handler(r);
out:
    encode(r, spec, r->spec_op);
}

/* Answer a request refused while its body was still to come (S3 headers, a failed sink). */
static void access_line(struct pd_req *r);

static int finish_early(struct pd_req *r)
{
    encode(r, spec_of(r->env, r->svc), r->spec_op);
    if (r->decision_id)
        pd_req_set_header(r, "x-podiam-decision-id", r->decision_id);
    access_line(r);
    return PD_EAWS;
}

int pd_dispatch_headers(struct pd_req *r)
{
    for (const struct pd_service *const *s = pd_services; *s; s++) {
        if ((*s)->proto == PD_PROTO_RAW && (*s)->route(r)) {
            r->svc = *s; /* raw services buffer their (small) bodies */
            break;
        }
    }
    if (!r->svc && is_s3(r)) {
        pd_statelock_read(&r->env->state_lock);
        r->state_epoch = pd_statelock_epoch(&r->env->state_lock);
        int rc = s3_headers(r);
        pd_statelock_read_done(&r->env->state_lock);
        return rc;
    }
    return check_length(r);
}

int pd_dispatch_body(struct pd_req *r, const char *p, size_t n)
{
    if (r->sink) {
        if (r->sink->write(r, p, n) == PD_OK)
            return PD_OK;
        finish_early(r);
        return PD_EAWS;
    }
    if (pd_buf_add(&r->body, p, n) != PD_OK)
        return too_big(r);
    return PD_OK;
}

static void access_line(struct pd_req *r)
{
    int64_t ms = pd_clock_now_ms(&r->env->clock) - r->start_ms;
    pd_log_req(PD_LOG_INFO, r->request_id, "%s %s %s.%s %d %s %s %lldms", r->method, r->path,
               r->svc ? r->svc->name : "-",
               r->op        ? r->op->name
               : r->op_name ? r->op_name
                            : "-",
               r->resp.status, r->err.def ? r->err.def->code : "-", r->who.arn ? r->who.arn : "-",
               (long long)ms);
}

static void run_raw(struct pd_req *r)
{
    if (!r->op)
        return; /* route already answered (404, 403) */
    r->db = pd_store_db(r->env->store);
    /* Kubernetes protobuf bodies are decoded here: decoding is the pipeline's (proto/), the
     * raw service reads r->in or r->decode_error. */
    const char *ct = pd_req_header(r, "content-type");
    if (ct && pd_strncaseeq(ct, "application/vnd.kubernetes.protobuf", 35) && r->body.len) {
        const char *why = NULL;
        if (pd_k8s_pb_decode((const uint8_t *)r->body.p, r->body.len, &r->in, &why) != PD_OK)
            r->decode_error = why ? why : "the protobuf body does not decode";
    }
    int rc = r->op->fn(r);
    if (rc && !r->resp.status) {
        r->resp.status = 500;
        r->resp.content_type = "text/plain";
        pd_buf_printf(&r->resp.body, "internal error: %s\n", pd_strerror(rc));
    }
}

void pd_dispatch(struct pd_req *r)
{
    if (!r->svc)
        r->svc = route(r);
    /* Every request but the admin API's sees one whole state (statelock.h); the admin API
     * takes the write side itself for reset and restore, and its reads need no more than
     * their own transactions. */
    int locked = !r->svc || strcmp(r->svc->name, "admin") != 0;
    if (locked)
        pd_statelock_read(&r->env->state_lock);
    if (r->svc && r->svc->proto == PD_PROTO_RAW) {
        run_raw(r);
        pd_req_set_header(r, "x-amzn-RequestId", r->request_id);
    } else if (r->svc) {
        run_aws(r);
    } else {
        r->resp.status = 404;
        r->resp.content_type = "text/plain";
        pd_buf_adds(&r->resp.body, "podiam: no service answers this request\n");
    }
    if (locked)
        pd_statelock_read_done(&r->env->state_lock);
    if (r->decision_id)
        pd_req_set_header(r, "x-podiam-decision-id", r->decision_id);
    access_line(r);
}
