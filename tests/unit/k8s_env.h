/*
 * k8s_env.h - what the Kubernetes API tests share: an emulator with one EKS cluster "demo"
 * (its creator, root, is cluster admin; IAM user bob is nobody), get-token bearer tokens,
 * and one-line helpers to call the cluster's API through the pipeline and check Status
 * answers. Header-only (static functions), after pipeline_env.h.
 */
#ifndef PD_TESTS_K8S_ENV_H
#define PD_TESTS_K8S_ENV_H

#include "pipeline_env.h"

#include "core/arena.h"
#include "k8s/internal.h"
#include "k8s/k8s.h"
#include "services/eks.h"
#include "stream.h"

struct ctx {
    struct pd_env *env;
    struct pd_arena a;
    const char *id;   /* cluster id */
    const char *base; /* /_podiam/k8s/ID */
    const char *issuer;
    const char *admin; /* "authorization: Bearer k8s-aws-v1.…" of the creator (root) */
    const char *bob;   /* same for IAM user bob */
    const char *bob_key, *bob_secret;
};

#define AMZ_NOW "20260101T000000Z"

/* A get-token token: presigned GetCallerIdentity at base_url (scheme://host[:port][/path]). */
static inline const char *aws_token_at(struct pd_arena *a, const char *base_url, const char *akid,
                                       const char *secret, const char *cluster,
                                       const char *amz_date, const char *const *names,
                                       size_t nnames, const char *extra_query)
{
    const char *netloc = strstr(base_url, "://") + 3;
    size_t hl = strcspn(netloc, "/");
    const char *host = pd_arena_strndup(a, netloc, hl);
    const char *path = netloc[hl] ? netloc + hl : "/";
    struct pd_kvs h = {0};
    pd_kvs_add(a, &h, "host", host, strlen(host), 0);
    pd_kvs_add(a, &h, "x-k8s-aws-id", cluster, strlen(cluster), 0);
    const char *q = pd_arena_printf(a, "Action=GetCallerIdentity&Version=2011-06-15%s",
                                    extra_query ? extra_query : "");
    struct pd_sigv4_request req = {.method = "GET",
                                   .path = path,
                                   .query = q,
                                   .headers = &h,
                                   .payload_hash = PD_SIGV4_EMPTY_SHA256,
                                   .normalize_path = 1};
    struct pd_sigv4_signer sg = {.akid = akid,
                                 .secret = secret,
                                 .region = "us-east-1",
                                 .service = "sts",
                                 .amz_date = amz_date};
    static const char *const both[] = {"host", "x-k8s-aws-id"};
    char *query = NULL;
    assert_int_equal(
        pd_sigv4_presign(a, &sg, &req, 60, names ? names : both, names ? nnames : 2, &query, NULL),
        PD_OK);
    const char *url = pd_arena_printf(a, "%.*s%s?%s", (int)(netloc - base_url + hl), base_url,
                                      netloc[hl] ? netloc + hl : "/", query);
    return pd_arena_printf(a, "k8s-aws-v1.%s", pd_base64_encode(a, url, strlen(url), 1));
}

static inline const char *aws_token(struct pd_arena *a, const char *akid, const char *secret,
                                    const char *cluster)
{
    return aws_token_at(a, "https://sts.us-east-1.amazonaws.com", akid, secret, cluster, AMZ_NOW,
                        NULL, 0, NULL);
}

static inline int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    pd_arena_init(&c->a);
    c->env = pt_env_new();
    json_decref(pt_ok(c->env, "iam", "CreateRole",
                      json_pack("{s:s, s:s}", "RoleName", "eks-cluster", "AssumeRolePolicyDocument",
                                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                "\"Principal\":{\"Service\":\"eks.amazonaws.com\"},\"Action\":"
                                "\"sts:AssumeRole\"}]}")));
    json_t *out =
        pt_ok(c->env, "eks", "CreateCluster",
              json_pack("{s:s, s:s, s:{}}", "name", "demo", "roleArn",
                        "arn:aws:iam::" PT_ACCT ":role/eks-cluster", "resourcesVpcConfig"));
    json_t *cl = json_object_get(out, "cluster");
    const char *endpoint = json_string_value(json_object_get(cl, "endpoint"));
    const char *k = strstr(endpoint, "/_podiam/k8s/");
    assert_non_null(k);
    c->base = pd_arena_strdup(&c->a, k);
    c->id = c->base + strlen("/_podiam/k8s/");
    c->issuer = pd_arena_strdup(
        &c->a, json_string_value(json_object_get(
                   json_object_get(json_object_get(cl, "identity"), "oidc"), "issuer")));
    json_decref(out);
    json_decref(pt_ok(c->env, "iam", "CreateUser", json_pack("{s:s}", "UserName", "bob")));
    out = pt_ok(c->env, "iam", "CreateAccessKey", json_pack("{s:s}", "UserName", "bob"));
    json_t *ak = json_object_get(out, "AccessKey");
    c->bob_key = pd_arena_strdup(&c->a, json_string_value(json_object_get(ak, "AccessKeyId")));
    c->bob_secret =
        pd_arena_strdup(&c->a, json_string_value(json_object_get(ak, "SecretAccessKey")));
    json_decref(out);
    c->admin = pd_arena_printf(&c->a, "authorization: Bearer %s",
                               aws_token(&c->a, "test", "test", "demo"));
    c->bob = pd_arena_printf(&c->a, "authorization: Bearer %s",
                             aws_token(&c->a, c->bob_key, c->bob_secret, "demo"));
    /* The cluster is in CONFIG_MAP mode: bob exists in it through aws-auth, under his ARN
     * (unmapped, EKS answers him 401). */
    struct pd_req *r =
        pt_http(c->env, "POST",
                pd_arena_printf(&c->a, "%s/api/v1/namespaces/kube-system/configmaps", c->base),
                NULL, pd_arena_printf(&c->a, "%s\ncontent-type: application/json", c->admin),
                "{\"metadata\":{\"name\":\"aws-auth\"},\"data\":{\"mapUsers\":\"- userarn: "
                "arn:aws:iam::000000000000:user/bob\\n  username: "
                "arn:aws:iam::000000000000:user/bob\\n\"}}");
    assert_int_equal(r->resp.status, 201);
    pd_req_free(r);
    *state = c;
    return 0;
}

static inline int teardown(void **state)
{
    struct ctx *c = *state;
    pt_env_free(c->env);
    pd_arena_cleanup(&c->a);
    free(c);
    return 0;
}

/* One request; headers: extra header lines (may be NULL). Returns the parsed body (new
 * reference, NULL when not JSON) and the status in *status. */
static inline json_t *call(struct ctx *c, const char *auth, const char *method, const char *path,
                           const char *query, const char *headers, const char *body, int *status)
{
    const char *full = pd_arena_printf(&c->a, "%s%s", c->base, path);
    const char *h =
        auth ? (headers ? pd_arena_printf(&c->a, "%s\n%s", auth, headers) : auth) : headers;
    struct pd_req *r = pt_http(c->env, method, full, query, h, body);
    *status = r->resp.status;
    json_t *v = r->resp.body.len ? json_loadb(r->resp.body.p, r->resp.body.len, 0, NULL) : NULL;
    pd_req_free(r);
    return v;
}

static inline json_t *ok(struct ctx *c, const char *method, const char *path, const char *query,
                         const char *headers, const char *body, int want)
{
    int st;
    json_t *v = call(c, c->admin, method, path, query, headers, body, &st);
    if (st != want)
        fail_msg("%s %s: status %d, want %d: %s", method, path, st, want,
                 v ? json_dumps(v, JSON_COMPACT) : "(no JSON)");
    return v;
}

/* Expect a Status with code and reason (and message unless NULL). */
static inline void status_is(json_t *v, int code, const char *reason, const char *message)
{
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "kind")), "Status");
    assert_string_equal(json_string_value(json_object_get(v, "status")), "Failure");
    assert_int_equal(json_integer_value(json_object_get(v, "code")), code);
    assert_string_equal(json_string_value(json_object_get(v, "reason")), reason);
    if (message)
        assert_string_equal(json_string_value(json_object_get(v, "message")), message);
}

static inline void fails(struct ctx *c, const char *auth, const char *method, const char *path,
                         const char *query, const char *headers, const char *body, int code,
                         const char *reason, const char *message)
{
    int st;
    json_t *v = call(c, auth, method, path, query, headers, body, &st);
    if (st != code)
        fail_msg("%s %s: status %d, want %d: %s", method, path, st, code,
                 v ? json_dumps(v, JSON_COMPACT) : "(no JSON)");
    status_is(v, code, reason, message);
    json_decref(v);
}

static inline const char *jstr(json_t *v, const char *path)
{
    /* dotted path; numbers index arrays */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = v;
    for (char *p = buf; p && cur;) {
        char *dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        if (json_is_array(cur))
            cur = json_array_get(cur, (size_t)strtol(p, NULL, 10));
        else
            cur = json_object_get(cur, p);
        p = dot ? dot + 1 : NULL;
    }
    return json_string_value(cur);
}

#define JSON_CT "content-type: application/json"

/* A streamed answer (a watch): the stream taken from the request, which is freed. */
static inline struct pd_stream *open_stream(struct ctx *c, const char *path, const char *query,
                                            const char *headers, int *status)
{
    const char *full = pd_arena_printf(&c->a, "%s%s", c->base, path);
    const char *h = headers ? pd_arena_printf(&c->a, "%s\n%s", c->admin, headers) : c->admin;
    struct pd_req *r = pt_http(c->env, "GET", full, query, h, NULL);
    *status = r->resp.status;
    struct pd_stream *s = r->resp.stream;
    r->resp.stream = NULL;
    if (!s && r->resp.body.len)
        fprintf(stderr, "not a stream: %.*s\n", (int)r->resp.body.len, r->resp.body.p);
    pd_req_free(r);
    return s;
}

/* Everything s has now, as an array of the JSON lines; *ended = 1 when it ended. */
static inline json_t *drain(struct pd_stream *s, int *ended)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    char buf[4096];
    long n;
    *ended = 0;
    while ((n = s->read(s, buf, sizeof buf)) > 0)
        pd_buf_add(&b, buf, (size_t)n);
    if (n == PD_STREAM_END)
        *ended = 1;
    json_t *events = json_array();
    const char *p = pd_buf_str(&b);
    while (*p) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every event is a whole line */
        json_t *v = json_loadb(p, (size_t)(nl - p), 0, NULL);
        assert_non_null(v);
        json_array_append_new(events, v);
        p = nl + 1;
    }
    pd_buf_free(&b);
    return events;
}

#endif
