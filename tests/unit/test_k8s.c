/*
 * test_k8s.c - the per-cluster Kubernetes API (emulator/k8s/, store/k8s_db.c) driven
 * through the request pipeline without sockets: routing, discovery shapes, CRUD, Status
 * errors, name validation, patches (merge, strategic with $setElementOrder and other
 * directives, JSON patch, apply), selectors, Tables, TokenRequest claims, get-token
 * verification, service-account token authentication, creator-only authorization, pod
 * admission, fixtures round trip.
 */
#include "pipeline_env.h"

#include "auth/decisions.h"
#include "core/arena.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "services/eks.h"
#include "k8s/k8s.h"
#include "k8s/internal.h"
#include "k8s/patch.h"
#include "services/oidc.h"

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
static const char *aws_token_at(struct pd_arena *a, const char *base_url, const char *akid,
                                const char *secret, const char *cluster, const char *amz_date,
                                const char *const *names, size_t nnames, const char *extra_query)
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

static const char *aws_token(struct pd_arena *a, const char *akid, const char *secret,
                             const char *cluster)
{
    return aws_token_at(a, "https://sts.us-east-1.amazonaws.com", akid, secret, cluster, AMZ_NOW,
                        NULL, 0, NULL);
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
    /* The cluster is in CONFIG_MAP mode: bob exists in it through aws-auth, under his ARN. */
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

static int teardown(void **state)
{
    struct ctx *c = *state;
    pt_env_free(c->env);
    pd_arena_cleanup(&c->a);
    free(c);
    return 0;
}

/* One request; headers: extra header lines (may be NULL). Returns the parsed body (new
 * reference, NULL when not JSON) and the status in *status. */
static json_t *call(struct ctx *c, const char *auth, const char *method, const char *path,
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

static json_t *ok(struct ctx *c, const char *method, const char *path, const char *query,
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
static void status_is(json_t *v, int code, const char *reason, const char *message)
{
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "kind")), "Status");
    assert_string_equal(json_string_value(json_object_get(v, "status")), "Failure");
    assert_int_equal(json_integer_value(json_object_get(v, "code")), code);
    assert_string_equal(json_string_value(json_object_get(v, "reason")), reason);
    if (message)
        assert_string_equal(json_string_value(json_object_get(v, "message")), message);
}

static void fails(struct ctx *c, const char *auth, const char *method, const char *path,
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

static const char *jstr(json_t *v, const char *path)
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

/* ---- routing and discovery ---- */

static void routing_and_discovery(void **state)
{
    struct ctx *c = *state;
    int st;
    /* /version is anonymous, like real clusters (system:public-info-viewer) */
    json_t *v = call(c, NULL, "GET", "/version", "timeout=32s", NULL, NULL, &st);
    assert_int_equal(st, 200);
    assert_string_equal(jstr(v, "gitVersion"), "v1.32.0-eks-podiam");
    assert_string_equal(jstr(v, "minor"), "32");
    assert_string_equal(jstr(v, "major"), "1");
    json_decref(v);
    /* everything else needs credentials */
    fails(c, NULL, "GET", "/api", NULL, NULL, NULL, 401, "Unauthorized", "Unauthorized");
    fails(c, "authorization: Bearer nonsense", "GET", "/version", NULL, NULL, NULL, 401,
          "Unauthorized", "Unauthorized");
    v = ok(c, "GET", "/api", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "versions.0"), "v1");
    json_decref(v);
    v = ok(c, "GET", "/apis", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "groups.0.versions.0.groupVersion"), "apps/v1");
    assert_string_equal(jstr(v, "groups.1.name"), "authentication.k8s.io");
    assert_string_equal(jstr(v, "groups.4.name"), "batch");
    json_decref(v);
    v = ok(c, "GET", "/api/v1", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "groupVersion"), "v1");
    int seen_pods = 0, seen_token = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(v, "resources"), i, e)
    {
        const char *name = jstr(e, "name");
        if (strcmp(name, "pods") == 0) {
            seen_pods = 1;
            assert_string_equal(jstr(e, "kind"), "Pod");
            assert_true(json_is_true(json_object_get(e, "namespaced")));
            assert_string_equal(jstr(e, "shortNames.0"), "po");
            assert_string_equal(jstr(e, "categories.0"), "all");
            assert_int_equal(json_array_size(json_object_get(e, "verbs")), 8);
        }
        if (strcmp(name, "namespaces") == 0) {
            assert_true(json_is_false(json_object_get(e, "namespaced")));
            assert_string_equal(jstr(e, "shortNames.0"), "ns");
        }
        if (strcmp(name, "serviceaccounts/token") == 0) {
            seen_token = 1;
            assert_string_equal(jstr(e, "kind"), "TokenRequest");
            assert_string_equal(jstr(e, "group"), "authentication.k8s.io");
        }
    }
    assert_true(seen_pods && seen_token);
    json_decref(v);
    v = ok(c, "GET", "/apis/authorization.k8s.io/v1", NULL, NULL, NULL, 200);
    /* alphabetical, as kube-apiserver lists them */
    assert_string_equal(jstr(v, "resources.0.kind"), "LocalSubjectAccessReview");
    assert_true(json_is_true(
        json_object_get(json_array_get(json_object_get(v, "resources"), 0), "namespaced")));
    assert_string_equal(jstr(v, "resources.1.kind"), "SelfSubjectAccessReview");
    assert_string_equal(jstr(v, "resources.2.kind"), "SelfSubjectRulesReview");
    assert_string_equal(jstr(v, "resources.3.kind"), "SubjectAccessReview");
    assert_string_equal(jstr(v, "resources.3.verbs.0"), "create");
    json_decref(v);
    v = ok(c, "GET", "/apis/rbac.authorization.k8s.io/v1", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "groupVersion"), "rbac.authorization.k8s.io/v1");
    assert_string_equal(jstr(v, "resources.0.name"), "clusterrolebindings");
    assert_string_equal(jstr(v, "resources.1.kind"), "ClusterRole");
    assert_true(json_is_false(
        json_object_get(json_array_get(json_object_get(v, "resources"), 1), "namespaced")));
    assert_string_equal(jstr(v, "resources.2.kind"), "RoleBinding");
    assert_string_equal(jstr(v, "resources.3.name"), "roles");
    assert_true(json_is_true(
        json_object_get(json_array_get(json_object_get(v, "resources"), 3), "namespaced")));
    assert_int_equal(json_array_size(json_object_get(
                         json_array_get(json_object_get(v, "resources"), 3), "verbs")),
                     8);
    json_decref(v);
    v = ok(c, "GET", "/apis", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "groups.3.name"), "rbac.authorization.k8s.io");
    assert_string_equal(jstr(v, "groups.3.preferredVersion.groupVersion"),
                        "rbac.authorization.k8s.io/v1");
    json_decref(v);
    v = ok(c, "GET", "/apis/rbac.authorization.k8s.io", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "kind"), "APIGroup");
    assert_string_equal(jstr(v, "versions.0.version"), "v1");
    json_decref(v);
    v = ok(c, "GET", "/apis/authentication.k8s.io/v1", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "resources.0.name"), "selfsubjectreviews");
    json_decref(v);
    /* OpenAPI: v3 404, v2 200 empty octet-stream */
    fails(c, c->admin, "GET", "/openapi/v3", NULL, NULL, NULL, 404, "NotFound",
          "the server could not find the requested resource");
    struct pd_req *r = pt_http(c->env, "GET", pd_arena_printf(&c->a, "%s/openapi/v2", c->base),
                               NULL, c->admin, NULL);
    assert_int_equal(r->resp.status, 200);
    assert_int_equal(r->resp.body.len, 0);
    assert_string_equal(r->resp.content_type, "application/octet-stream");
    pd_req_free(r);
    /* unknown paths and clusters */
    fails(c, c->admin, "GET", "/api/v1/widgets", NULL, NULL, NULL, 404, "NotFound", NULL);
    fails(c, c->admin, "GET", "/api/v1/pods/x", NULL, NULL, NULL, 404, "NotFound", NULL);
    r = pt_http(c->env, "GET", "/_podiam/k8s/00000000000000000000000000000000/version", NULL, NULL,
                NULL);
    assert_int_equal(r->resp.status, 404);
    assert_non_null(strstr(pt_body(r), "\"reason\":\"NotFound\""));
    pd_req_free(r);
}

static void path_parser(void **state)
{
    (void)state;
    struct pd_k8s_path p;
    assert_int_equal(pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/namespaces/ns1/pods/p1", &p),
                     PD_OK);
    assert_int_equal(p.target, PD_K8S_T_OBJECT);
    assert_string_equal(p.cluster, "ABC");
    assert_string_equal(p.ns, "ns1");
    assert_string_equal(p.name, "p1");
    assert_string_equal(p.resource, "pods");
    pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/namespaces/ns1/serviceaccounts/sa/token", &p);
    assert_int_equal(p.target, PD_K8S_T_SUBRESOURCE);
    assert_string_equal(p.name, "sa");
    assert_string_equal(p.resource, "serviceaccounts");
    pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/namespaces", &p);
    assert_int_equal(p.target, PD_K8S_T_COLLECTION);
    pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/namespaces/x", &p);
    assert_int_equal(p.target, PD_K8S_T_OBJECT);
    assert_string_equal(p.name, "x");
    pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/configmaps", &p);
    assert_int_equal(p.target, PD_K8S_T_COLLECTION);
    assert_string_equal(p.ns, "");
    pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/namespaces/a/namespaces", &p);
    assert_int_equal(p.target, PD_K8S_T_NONE);
    pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/namespaces/a//pods", &p);
    assert_int_equal(p.target, PD_K8S_T_NONE);
    pd_k8s_parse_path("/_podiam/k8s/ABC/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", &p);
    assert_int_equal(p.target, PD_K8S_T_COLLECTION);
    assert_string_equal(p.resource, "selfsubjectaccessreviews");
    pd_k8s_parse_path(
        "/_podiam/k8s/ABC/apis/rbac.authorization.k8s.io/v1/namespaces/apps/roles/r%3A1", &p);
    assert_int_equal(p.target, PD_K8S_T_OBJECT);
    assert_string_equal(p.resource, "roles");
    assert_string_equal(p.ns, "apps");
    assert_string_equal(p.name, "r:1"); /* percent-decoded */
    pd_k8s_parse_path("/_podiam/k8s/ABC/apis/rbac.authorization.k8s.io/v1/clusterroles/x", &p);
    assert_int_equal(p.target, PD_K8S_T_OBJECT);
    pd_k8s_parse_path(
        "/_podiam/k8s/ABC/apis/rbac.authorization.k8s.io/v1/namespaces/a/clusterroles", &p);
    assert_int_equal(p.target, PD_K8S_T_NONE); /* cluster-scoped kind under a namespace */
    pd_k8s_parse_path("/_podiam/k8s/ABC/apis/rbac.authorization.k8s.io/v1/roles/x", &p);
    assert_int_equal(p.target, PD_K8S_T_NONE); /* a namespaced object needs its namespace */
    pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/namespaces/a/pods/p/log", &p);
    assert_int_equal(p.target, PD_K8S_T_SUBRESOURCE);
    assert_string_equal(p.sub->name, "log");
    pd_k8s_parse_path("/_podiam/k8s/ABC/apis/apps/v1/namespaces/a/deployments/d/scale", &p);
    assert_int_equal(p.target, PD_K8S_T_SUBRESOURCE);
    assert_string_equal(p.sub->path, "deployments/scale");
    pd_k8s_parse_path("/_podiam/k8s/ABC/api/v1/namespaces/a/pods/p/exec", &p);
    assert_int_equal(p.target, PD_K8S_T_NONE); /* subresources podiam does not serve */
    assert_int_equal(pd_k8s_parse_path("/_podiam/k8s/", &p), PD_EINVAL);
    assert_int_equal(pd_k8s_parse_path("/_podiam/other", &p), PD_EINVAL);
}

/* ---- objects ---- */

static void namespaces_and_errors(void **state)
{
    struct ctx *c = *state;
    json_t *v = ok(c, "GET", "/api/v1/namespaces", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "kind"), "NamespaceList");
    assert_int_equal(json_array_size(json_object_get(v, "items")), 4);
    json_decref(v);
    v = ok(c, "POST", "/api/v1/namespaces", "fieldManager=kubectl-create", JSON_CT,
           "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-a\"}}",
           201);
    assert_string_equal(jstr(v, "kind"), "Namespace");
    assert_string_equal(jstr(v, "metadata.name"), "team-a");
    assert_int_equal(strlen(jstr(v, "metadata.uid")), 36);
    assert_string_equal(jstr(v, "metadata.creationTimestamp"), "2026-01-01T00:00:00Z");
    assert_null(
        jstr(v, "metadata.labels.kubernetes.io/metadata.name")); /* dots in the key: not a path */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(json_object_get(v, "metadata"), "labels"),
                                          "kubernetes.io/metadata.name")),
        "team-a");
    assert_string_equal(jstr(v, "status.phase"), "Active");
    long rv1 = strtol(jstr(v, "metadata.resourceVersion"), NULL, 10);
    json_decref(v);
    fails(c, c->admin, "POST", "/api/v1/namespaces", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"team-a\"}}", 409, "AlreadyExists",
          "namespaces \"team-a\" already exists");
    fails(c, c->admin, "POST", "/api/v1/namespaces", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"Bad_Name\"}}", 422, "Invalid",
          "Namespace \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a "
          "lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
          "and must start and end with an alphanumeric character (e.g. 'my-name',  or "
          "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
    fails(c, c->admin, "POST", "/api/v1/namespaces", NULL, JSON_CT, "{\"metadata\":{}}", 422,
          "Invalid", NULL);
    fails(c, c->admin, "POST", "/api/v1/namespaces", NULL, JSON_CT, "{not json", 400, "BadRequest",
          NULL);
    fails(c, c->admin, "POST", "/api/v1/namespaces", NULL, "content-type: text/plain", "x", 415,
          "UnsupportedMediaType", NULL);
    /* a new namespace gets its default service account; resourceVersion grows */
    v = ok(c, "GET", "/api/v1/namespaces/team-a/serviceaccounts/default", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "kind"), "ServiceAccount");
    assert_true(strtol(jstr(v, "metadata.resourceVersion"), NULL, 10) > rv1);
    json_decref(v);
    /* objects need their namespace */
    fails(c, c->admin, "POST", "/api/v1/namespaces/ghost/configmaps", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"c\"}}", 404, "NotFound", "namespaces \"ghost\" not found");
    fails(c, c->admin, "POST", "/api/v1/namespaces/team-a/configmaps", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"c\",\"namespace\":\"other\"}}", 400, "BadRequest",
          "the namespace of the provided object does not match the namespace sent on the "
          "request");
    fails(c, c->admin, "GET", "/api/v1/namespaces/team-a/configmaps/nope", NULL, NULL, NULL, 404,
          "NotFound", "configmaps \"nope\" not found");
    /* built-in namespaces cannot go; others take their content with them */
    fails(c, c->admin, "DELETE", "/api/v1/namespaces/default", NULL, NULL, NULL, 403, "Forbidden",
          "namespaces \"default\" is forbidden: this namespace may not be deleted");
    v = ok(c, "DELETE", "/api/v1/namespaces/team-a", NULL, JSON_CT,
           "{\"propagationPolicy\":\"Background\"}", 200);
    assert_string_equal(jstr(v, "metadata.name"), "team-a");
    json_decref(v);
    fails(c, c->admin, "GET", "/api/v1/namespaces/team-a/serviceaccounts/default", NULL, NULL, NULL,
          404, "NotFound", NULL);
    /* PUT with a stale resourceVersion conflicts */
    v = ok(c, "POST", "/api/v1/namespaces/default/configmaps", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"a\":\"1\"}}", 201);
    json_decref(v);
    fails(c, c->admin, "PUT", "/api/v1/namespaces/default/configmaps/cm", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"1\"},\"data\":{}}", 409, "Conflict",
          NULL);
    v = ok(c, "PUT", "/api/v1/namespaces/default/configmaps/cm", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"b\":\"2\"}}", 200);
    assert_string_equal(jstr(v, "data.b"), "2");
    assert_null(jstr(v, "data.a"));
    json_decref(v);
}

static void lists_selectors_tables(void **state)
{
    struct ctx *c = *state;
    static const char *const names[] = {"a1", "a2", "b1"};
    for (size_t i = 0; i < 3; i++) {
        const char *body = pd_arena_printf(
            &c->a,
            "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"%c\"}},\"data\":{\"k\":"
            "\"v\"}}",
            names[i], names[i][0]);
        json_decref(
            ok(c, "POST", "/api/v1/namespaces/default/configmaps", NULL, JSON_CT, body, 201));
    }
    json_t *v = ok(c, "GET", "/api/v1/namespaces/default/configmaps",
                   "fieldSelector=metadata.name%3Da2", NULL, NULL, 200);
    assert_string_equal(jstr(v, "kind"), "ConfigMapList");
    assert_int_equal(json_array_size(json_object_get(v, "items")), 1);
    assert_string_equal(jstr(v, "items.0.metadata.name"), "a2");
    json_decref(v);
    v = ok(c, "GET", "/api/v1/configmaps", "labelSelector=app%3Da", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "items")), 2);
    json_decref(v);
    v = ok(c, "GET", "/api/v1/configmaps", "labelSelector=app!%3Da,app", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "items")), 1);
    assert_string_equal(jstr(v, "items.0.metadata.name"), "b1");
    json_decref(v);
    v = ok(c, "GET", "/api/v1/configmaps", "labelSelector=app+in+(a,b)", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "items")), 3);
    json_decref(v);
    v = ok(c, "GET", "/api/v1/namespaces", "fieldSelector=metadata.name%3Dkube-system", NULL, NULL,
           200);
    assert_int_equal(json_array_size(json_object_get(v, "items")), 1);
    json_decref(v);
    fails(c, c->admin, "GET", "/api/v1/configmaps", "fieldSelector=spec.bogus%3Dx", NULL, NULL, 400,
          "BadRequest", "field label not supported: spec.bogus");
    /* limit and continue */
    v = ok(c, "GET", "/api/v1/namespaces/default/configmaps", "labelSelector=app&limit=2", NULL,
           NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "items")), 2);
    const char *cont = jstr(v, "metadata.continue");
    assert_non_null(cont);
    json_t *v2 =
        ok(c, "GET", "/api/v1/namespaces/default/configmaps",
           pd_arena_printf(&c->a, "labelSelector=app&limit=2&continue=%s", cont), NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v2, "items")), 1);
    assert_string_equal(jstr(v2, "items.0.metadata.name"), "b1");
    assert_null(jstr(v2, "metadata.continue"));
    json_decref(v2);
    json_decref(v);
    /* Table */
    const char *table_accept = "accept: application/json;as=Table;v=v1;g=meta.k8s.io,"
                               "application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                               "application/json";
    v = ok(c, "GET", "/api/v1/namespaces/default/configmaps", "limit=500", table_accept, NULL, 200);
    assert_string_equal(jstr(v, "kind"), "Table");
    assert_string_equal(jstr(v, "apiVersion"), "meta.k8s.io/v1");
    assert_string_equal(jstr(v, "columnDefinitions.0.name"), "Name");
    assert_string_equal(jstr(v, "columnDefinitions.1.name"), "Data");
    assert_string_equal(jstr(v, "columnDefinitions.2.name"), "Age");
    assert_string_equal(jstr(v, "rows.0.cells.0"), "a1");
    assert_int_equal(
        json_integer_value(json_array_get(
            json_object_get(json_array_get(json_object_get(v, "rows"), 0), "cells"), 1)),
        1);
    assert_string_equal(jstr(v, "rows.0.cells.2"), "0s");
    assert_string_equal(jstr(v, "rows.0.object.kind"), "PartialObjectMetadata");
    assert_string_equal(jstr(v, "rows.0.object.metadata.namespace"), "default");
    json_decref(v);
    v = ok(c, "GET", "/api/v1/namespaces/default/serviceaccounts/default", NULL, table_accept, NULL,
           200);
    assert_string_equal(jstr(v, "columnDefinitions.1.name"), "Secrets");
    assert_string_equal(jstr(v, "rows.0.cells.0"), "default");
    json_decref(v);
    char age[32];
    pd_k8s_age(200000, 0, age);
    assert_string_equal(age, "3m20s");
    pd_k8s_age(3600000 * 5 + 60000, 0, age);
    assert_string_equal(age, "5h1m");
    pd_k8s_age(86400000LL * 30, 0, age);
    assert_string_equal(age, "30d");
}

static const char *POD_BODY =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":"
    "\"web\"}},\"spec\":{\"serviceAccountName\":\"%s\",\"containers\":[{\"name\":\"main\","
    "\"image\":\"nginx:1.27\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]},{\"name\":\"side\","
    "\"image\":\"busybox\"}]}}";

static void pods_admission_and_webhook(void **state)
{
    struct ctx *c = *state;
    fails(c, c->admin, "POST", "/api/v1/namespaces/default/pods", NULL, JSON_CT,
          pd_arena_printf(&c->a, POD_BODY, "ghost"), 403, "Forbidden",
          "pods \"web\" is forbidden: error looking up service account default/ghost: "
          "serviceaccount \"ghost\" not found");
    json_decref(ok(c, "POST", "/api/v1/namespaces/default/serviceaccounts", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"app\",\"annotations\":{\"eks.amazonaws.com/"
                   "role-arn\":\"arn:aws:iam::000000000000:role/r\"}}}",
                   201));
    /* dry run: the mutated pod, nothing stored */
    json_t *v = ok(c, "POST", "/api/v1/namespaces/default/pods", "dryRun=All", JSON_CT,
                   pd_arena_printf(&c->a, POD_BODY, "app"), 201);
    assert_string_equal(jstr(v, "spec.containers.0.env.0.name"), "A");
    int role = 0, file = 0, mount = 0;
    size_t i;
    json_t *e;
    json_array_foreach(
        json_object_get(
            json_array_get(json_object_get(json_object_get(v, "spec"), "containers"), 0), "env"),
        i, e)
    {
        if (strcmp(jstr(e, "name"), "AWS_ROLE_ARN") == 0) {
            role = 1;
            assert_string_equal(jstr(e, "value"), "arn:aws:iam::000000000000:role/r");
        }
        if (strcmp(jstr(e, "name"), "AWS_WEB_IDENTITY_TOKEN_FILE") == 0)
            file = 1;
    }
    json_array_foreach(
        json_object_get(
            json_array_get(json_object_get(json_object_get(v, "spec"), "containers"), 1),
            "volumeMounts"),
        i, e)
    {
        if (strcmp(jstr(e, "name"), "aws-iam-token") == 0)
            mount = 1;
    }
    assert_true(role && file && mount);
    assert_null(jstr(v, "metadata.resourceVersion"));
    json_decref(v);
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/pods/web", NULL, NULL, NULL, 404,
          "NotFound", NULL);
    /* real create: defaults, Running status */
    v = ok(c, "POST", "/api/v1/namespaces/default/pods", NULL, JSON_CT,
           pd_arena_printf(&c->a, POD_BODY, "app"), 201);
    assert_string_equal(jstr(v, "status.phase"), "Running");
    assert_true(json_is_true(json_object_get(
        json_array_get(json_object_get(json_object_get(v, "status"), "containerStatuses"), 0),
        "ready")));
    assert_non_null(jstr(v, "status.podIP"));
    assert_string_equal(jstr(v, "spec.nodeName"), "podiam-node");
    assert_string_equal(jstr(v, "spec.serviceAccountName"), "app");
    assert_string_equal(jstr(v, "spec.containers.1.imagePullPolicy"), "Always");
    assert_string_equal(jstr(v, "spec.containers.0.imagePullPolicy"), "IfNotPresent");
    json_decref(v);
    /* a pod without serviceAccountName gets "default" */
    v = ok(c, "POST", "/api/v1/namespaces/default/pods", NULL, JSON_CT,
           "{\"metadata\":{\"generateName\":\"job-\"},\"spec\":{\"containers\":[{\"name\":\"c\","
           "\"image\":\"x\"}]}}",
           201);
    assert_string_equal(jstr(v, "spec.serviceAccountName"), "default");
    assert_true(strncmp(jstr(v, "metadata.name"), "job-", 4) == 0);
    assert_int_equal(strlen(jstr(v, "metadata.name")), 9);
    json_decref(v);
    /* pods Table */
    v = ok(c, "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name%3Dweb",
           "accept: application/json;as=Table;v=v1;g=meta.k8s.io", NULL, 200);
    static const char *const cols[] = {"Name", "Ready", "Status", "Restarts", "Age", "IP"};
    for (size_t k = 0; k < 6; k++)
        assert_string_equal(jstr(v, pd_arena_printf(&c->a, "columnDefinitions.%zu.name", k)),
                            cols[k]);
    assert_string_equal(jstr(v, "rows.0.cells.1"), "2/2");
    assert_string_equal(jstr(v, "rows.0.cells.2"), "Running");
    assert_int_equal(json_array_size(json_object_get(v, "rows")), 1);
    json_decref(v);
    v = ok(c, "GET", "/api/v1/pods", "fieldSelector=status.phase%3DRunning", NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "items")), 2);
    json_decref(v);
    /* delete answers the object and removes it at once */
    v = ok(c, "DELETE", "/api/v1/namespaces/default/pods/web", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "metadata.name"), "web");
    json_decref(v);
    v = ok(c, "GET", "/api/v1/namespaces/default/pods", "fieldSelector=metadata.name%3Dweb", NULL,
           NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "items")), 0);
    json_decref(v);
}

static void patches_through_the_api(void **state)
{
    struct ctx *c = *state;
    json_decref(ok(c, "POST", "/api/v1/namespaces/default/pods", NULL, JSON_CT,
                   pd_arena_printf(&c->a, POD_BODY, "default"), 201));
    /* merge patch (kubectl annotate) */
    json_t *v = ok(c, "PATCH", "/api/v1/namespaces/default/serviceaccounts/default", NULL,
                   "content-type: application/merge-patch+json",
                   "{\"metadata\":{\"annotations\":{\"eks.amazonaws.com/role-arn\":\"arn:aws:iam:"
                   ":000000000000:role/x\"}}}",
                   200);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(v, "metadata"), "annotations"),
                            "eks.amazonaws.com/role-arn")),
                        "arn:aws:iam::000000000000:role/x");
    json_decref(v);
    /* strategic merge (kubectl apply): containers merge by name, order from the directive */
    v = ok(c, "PATCH", "/api/v1/namespaces/default/pods/web",
           "fieldManager=kubectl-client-side-apply",
           "content-type: application/strategic-merge-patch+json",
           "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
           "\"{\\\"x\\\":1}\\n\"}},\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"side\"},"
           "{\"name\":\"main\"}],\"containers\":[{\"name\":\"main\",\"image\":\"nginx:1.28\"}]}}",
           200);
    assert_string_equal(jstr(v, "spec.containers.0.name"), "side");
    assert_string_equal(jstr(v, "spec.containers.1.name"), "main");
    assert_string_equal(jstr(v, "spec.containers.1.image"), "nginx:1.28");
    assert_string_equal(jstr(v, "spec.containers.1.env.0.value"), "1");
    assert_string_equal(jstr(v, "status.containerStatuses.1.image"), "nginx:1.28");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(v, "metadata"), "annotations"),
                            "kubectl.kubernetes.io/last-applied-configuration")),
                        "{\"x\":1}\n");
    assert_string_equal(jstr(v, "metadata.name"), "web");
    json_decref(v);
    /* JSON patch */
    v = ok(c, "PATCH", "/api/v1/namespaces/default/pods/web", NULL,
           "content-type: application/json-patch+json",
           "[{\"op\":\"add\",\"path\":\"/metadata/labels/tier\",\"value\":\"front\"},"
           "{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"web\"}]",
           200);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(v, "metadata"), "labels"), "tier")),
                        "front");
    json_decref(v);
    fails(c, c->admin, "PATCH", "/api/v1/namespaces/default/pods/web", NULL,
          "content-type: application/json-patch+json",
          "[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"other\"}]", 422, "Invalid",
          NULL);
    /* server-side apply creates when absent, then merges */
    v = ok(c, "PATCH", "/api/v1/namespaces/default/configmaps/applied", "fieldManager=kubectl",
           "content-type: application/apply-patch+yaml",
           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"applied\"},"
           "\"data\":{\"a\":\"1\"}}",
           201);
    assert_string_equal(jstr(v, "data.a"), "1");
    json_decref(v);
    v = ok(c, "PATCH", "/api/v1/namespaces/default/configmaps/applied", "fieldManager=kubectl",
           "content-type: application/apply-patch+yaml",
           "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"applied\"},"
           "\"data\":{\"b\":\"2\"}}",
           200);
    assert_string_equal(jstr(v, "data.b"), "2");
    json_decref(v);
    fails(c, c->admin, "PATCH", "/api/v1/namespaces/default/pods/web", NULL,
          "content-type: application/yaml", "{}", 415, "UnsupportedMediaType", NULL);
    fails(c, c->admin, "PATCH", "/api/v1/namespaces/default/pods/nope", NULL,
          "content-type: application/merge-patch+json", "{}", 404, "NotFound",
          "pods \"nope\" not found");
    json_decref(ok(c, "DELETE", "/api/v1/namespaces/default/pods/web", NULL, NULL, NULL, 200));
}

static void patch_functions(void **state)
{
    (void)state;
    /* RFC 7386 appendix A examples */
    json_t *t = json_loads("{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"}}", 0, NULL);
    json_t *p = json_loads("{\"a\":\"z\",\"c\":{\"f\":null}}", 0, NULL);
    t = pd_k8s_merge_patch(t, p);
    json_t *want = json_loads("{\"a\":\"z\",\"c\":{\"d\":\"e\"}}", 0, NULL);
    assert_true(json_equal(t, want));
    json_decref(t);
    json_decref(p);
    json_decref(want);
    t = json_loads("{\"a\":[{\"b\":\"c\"}]}", 0, NULL);
    p = json_loads("{\"a\":[1]}", 0, NULL);
    t = pd_k8s_merge_patch(t, p);
    want = json_loads("{\"a\":[1]}", 0, NULL);
    assert_true(json_equal(t, want));
    json_decref(t);
    json_decref(p);
    json_decref(want);

    const char *why = NULL;
    /* strategic: $patch delete in a keyed list, $retainKeys, $deleteFromPrimitiveList,
     * volumeMounts keyed by mountPath, plain lists replaced */
    t = json_loads("{\"spec\":{\"containers\":[{\"name\":\"a\",\"volumeMounts\":[{\"name\":\"v\","
                   "\"mountPath\":\"/m\"}],\"args\":[\"x\",\"y\"]},{\"name\":\"b\"}],"
                   "\"finalizers\":[\"f1\",\"f2\"],\"strategy\":{\"type\":\"R\",\"x\":1}}}",
                   0, NULL);
    p = json_loads(
        "{\"spec\":{\"containers\":[{\"name\":\"b\",\"$patch\":\"delete\"},{\"name\":\"a\","
        "\"volumeMounts\":[{\"mountPath\":\"/m\",\"readOnly\":true}],\"args\":[\"z\"]},"
        "{\"name\":\"c\",\"image\":\"i\"}],\"$deleteFromPrimitiveList/finalizers\":[\"f1\"],"
        "\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"S\"}}}",
        0, NULL);
    assert_int_equal(pd_k8s_strategic_patch(&t, p, &why), PD_OK);
    want = json_loads(
        "{\"spec\":{\"containers\":[{\"name\":\"a\",\"volumeMounts\":[{\"name\":\"v\","
        "\"mountPath\":\"/m\",\"readOnly\":true}],\"args\":[\"z\"]},{\"name\":\"c\",\"image\":"
        "\"i\"}],\"finalizers\":[\"f2\"],\"strategy\":{\"type\":\"S\"}}}",
        0, NULL);
    if (!json_equal(t, want))
        fail_msg("strategic merge gave %s", json_dumps(t, JSON_COMPACT));
    json_decref(t);
    json_decref(p);
    json_decref(want);
    /* $patch: replace on a map */
    t = json_loads("{\"m\":{\"a\":1,\"b\":2}}", 0, NULL);
    p = json_loads("{\"m\":{\"$patch\":\"replace\",\"c\":3}}", 0, NULL);
    assert_int_equal(pd_k8s_strategic_patch(&t, p, &why), PD_OK);
    want = json_loads("{\"m\":{\"c\":3}}", 0, NULL);
    assert_true(json_equal(t, want));
    json_decref(t);
    json_decref(p);
    json_decref(want);
    /* a keyed element without its key is refused, the document untouched */
    t = json_loads("{\"containers\":[{\"name\":\"a\"}]}", 0, NULL);
    p = json_loads("{\"containers\":[{\"image\":\"x\"}]}", 0, NULL);
    assert_int_equal(pd_k8s_strategic_patch(&t, p, &why), PD_EINVAL);
    assert_string_equal(why, "a list element lacks its merge key");
    json_decref(t);
    json_decref(p);
    /* RFC 6902: add, remove, replace, move, copy, test; all or nothing */
    t = json_loads("{\"a\":{\"b\":[1,2]},\"c\":\"d\",\"e~f\":1}", 0, NULL);
    p = json_loads("[{\"op\":\"add\",\"path\":\"/a/b/1\",\"value\":9},"
                   "{\"op\":\"add\",\"path\":\"/a/b/-\",\"value\":3},"
                   "{\"op\":\"remove\",\"path\":\"/c\"},"
                   "{\"op\":\"replace\",\"path\":\"/e~0f\",\"value\":2},"
                   "{\"op\":\"copy\",\"from\":\"/a/b/0\",\"path\":\"/x\"},"
                   "{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/y\"},"
                   "{\"op\":\"test\",\"path\":\"/y\",\"value\":1}]",
                   0, NULL);
    assert_int_equal(pd_k8s_json_patch(&t, p, &why), PD_OK);
    want = json_loads("{\"a\":{\"b\":[1,9,2,3]},\"e~f\":2,\"y\":1}", 0, NULL);
    if (!json_equal(t, want))
        fail_msg("json patch gave %s", json_dumps(t, JSON_COMPACT));
    json_decref(p);
    json_decref(want);
    p = json_loads("[{\"op\":\"remove\",\"path\":\"/y\"},{\"op\":\"remove\",\"path\":\"/nope\"}]",
                   0, NULL);
    assert_int_equal(pd_k8s_json_patch(&t, p, &why), PD_EINVAL);
    assert_non_null(json_object_get(t, "y")); /* untouched */
    json_decref(p);
    json_decref(t);
}

/* ---- TokenRequest and service-account tokens ---- */

static json_t *jwt_claims(struct ctx *c, const char *token)
{
    struct pd_jwks s;
    pd_jwks_init(&s);
    assert_int_equal(pd_oidc_issuer_jwks(c->env, pd_store_db(c->env->store), &c->a, c->issuer, &s),
                     PD_OK);
    json_t *claims = NULL, *header = NULL;
    enum pd_jwt_reason why;
    assert_int_equal(pd_jwt_verify(token, strlen(token), &s, -1, &claims, &header, &why), PD_OK);
    assert_string_equal(json_string_value(json_object_get(header, "alg")), "RS256");
    json_decref(header);
    pd_jwks_cleanup(&s);
    return claims;
}

static void token_request(void **state)
{
    struct ctx *c = *state;
    json_t *sa = ok(c, "POST", "/api/v1/namespaces/default/serviceaccounts", NULL, JSON_CT,
                    "{\"metadata\":{\"name\":\"s3-echoer\"}}", 201);
    const char *sa_uid = pd_arena_strdup(&c->a, jstr(sa, "metadata.uid"));
    json_decref(sa);
    /* client-node's body: only a spec */
    json_t *v =
        ok(c, "POST", "/api/v1/namespaces/default/serviceaccounts/s3-echoer/token", NULL, JSON_CT,
           "{\"spec\":{\"audiences\":[\"sts.amazonaws.com\"],\"expirationSeconds\":7200}}", 201);
    assert_string_equal(jstr(v, "kind"), "TokenRequest");
    assert_string_equal(jstr(v, "apiVersion"), "authentication.k8s.io/v1");
    assert_string_equal(jstr(v, "status.expirationTimestamp"), "2026-01-01T02:00:00Z");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(v, "spec"), "expirationSeconds")), 7200);
    json_t *cl = jwt_claims(c, jstr(v, "status.token"));
    assert_string_equal(jstr(cl, "iss"), c->issuer);
    assert_string_equal(jstr(cl, "sub"), "system:serviceaccount:default:s3-echoer");
    assert_int_equal(json_array_size(json_object_get(cl, "aud")), 1);
    assert_string_equal(jstr(cl, "aud.0"), "sts.amazonaws.com");
    int64_t now = PT_NOW_MS / 1000;
    assert_int_equal(json_integer_value(json_object_get(cl, "iat")), now);
    assert_int_equal(json_integer_value(json_object_get(cl, "nbf")), now);
    assert_int_equal(json_integer_value(json_object_get(cl, "exp")), now + 7200);
    assert_int_equal(strlen(jstr(cl, "jti")), 36);
    json_t *k = json_object_get(cl, "kubernetes.io");
    assert_string_equal(jstr(k, "namespace"), "default");
    assert_string_equal(jstr(k, "serviceaccount.name"), "s3-echoer");
    assert_string_equal(jstr(k, "serviceaccount.uid"), sa_uid);
    assert_null(json_object_get(k, "pod"));
    assert_int_equal(json_object_size(cl), 8);
    json_decref(cl);
    json_decref(v);
    /* defaults: API audience, 3600 s; bound to a pod */
    json_t *pod = ok(c, "POST", "/api/v1/namespaces/default/pods", NULL, JSON_CT,
                     pd_arena_printf(&c->a, POD_BODY, "s3-echoer"), 201);
    const char *pod_uid = pd_arena_strdup(&c->a, jstr(pod, "metadata.uid"));
    json_decref(pod);
    v = ok(c, "POST", "/api/v1/namespaces/default/serviceaccounts/s3-echoer/token", NULL, JSON_CT,
           "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\",\"spec\":"
           "{\"boundObjectRef\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"name\":\"web\"}}}",
           201);
    cl = jwt_claims(c, jstr(v, "status.token"));
    assert_string_equal(jstr(cl, "aud.0"), "https://kubernetes.default.svc");
    assert_int_equal(json_integer_value(json_object_get(cl, "exp")), now + 3600);
    assert_null(jstr(cl, "kubernetes.io.pod.name")); /* dots in the key: not a path */
    json_t *kp = json_object_get(json_object_get(cl, "kubernetes.io"), "pod");
    assert_string_equal(jstr(kp, "name"), "web");
    assert_string_equal(jstr(kp, "uid"), pod_uid);
    assert_string_equal(jstr(v, "spec.boundObjectRef.uid"), pod_uid);
    const char *sa_token = pd_arena_strdup(&c->a, jstr(v, "status.token"));
    json_decref(cl);
    json_decref(v);
    /* errors */
    fails(c, c->admin, "POST", "/api/v1/namespaces/default/serviceaccounts/ghost/token", NULL,
          JSON_CT, "{}", 404, "NotFound", "serviceaccounts \"ghost\" not found");
    fails(c, c->admin, "POST", "/api/v1/namespaces/default/serviceaccounts/s3-echoer/token", NULL,
          JSON_CT, "{\"spec\":{\"expirationSeconds\":60}}", 422, "Invalid", NULL);
    fails(c, c->admin, "POST", "/api/v1/namespaces/default/serviceaccounts/s3-echoer/token", NULL,
          JSON_CT, "{\"spec\":{\"boundObjectRef\":{\"kind\":\"Pod\",\"name\":\"nope\"}}}", 404,
          "NotFound", "pods \"nope\" not found");

    /* the SA token authenticates as the service account; it is no admin */
    const char *auth = pd_arena_printf(&c->a, "authorization: Bearer %s", sa_token);
    int st;
    v = call(c, auth, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, JSON_CT,
             "{}", &st);
    assert_int_equal(st, 201);
    assert_string_equal(jstr(v, "status.userInfo.username"),
                        "system:serviceaccount:default:s3-echoer");
    assert_string_equal(jstr(v, "status.userInfo.uid"), sa_uid);
    assert_string_equal(jstr(v, "status.userInfo.groups.1"), "system:serviceaccounts:default");
    json_decref(v);
    fails(c, auth, "GET", "/api/v1/namespaces/default/pods", NULL, NULL, NULL, 403, "Forbidden",
          "pods is forbidden: User \"system:serviceaccount:default:s3-echoer\" cannot list "
          "resource \"pods\" in API group \"\" in the namespace \"default\"");
    /* audience sts.amazonaws.com only: not for the API server */
    v = ok(c, "POST", "/api/v1/namespaces/default/serviceaccounts/s3-echoer/token", NULL, JSON_CT,
           "{\"spec\":{\"audiences\":[\"sts.amazonaws.com\"]}}", 201);
    fails(c, pd_arena_printf(&c->a, "authorization: Bearer %s", jstr(v, "status.token")), "GET",
          "/api", NULL, NULL, NULL, 401, "Unauthorized", NULL);
    json_decref(v);
    /* deleting the bound pod invalidates the token */
    json_decref(ok(c, "DELETE", "/api/v1/namespaces/default/pods/web", NULL, NULL, NULL, 200));
    fails(c, auth, "GET", "/api", NULL, NULL, NULL, 401, "Unauthorized", NULL);
    /* a token of another issuer, and a tampered one */
    size_t n = strlen(sa_token);
    char *bad = pd_arena_strdup(&c->a, sa_token);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    fails(c, pd_arena_printf(&c->a, "authorization: Bearer %s", bad), "GET", "/api", NULL, NULL,
          NULL, 401, "Unauthorized", NULL);
}

/* ---- get-token verification ---- */

static void expect_token(struct ctx *c, const char *token, const char *cluster, int64_t now_ms,
                         int want_ok, const char *want_why)
{
    struct pd_principal p;
    const char *why = NULL;
    int rc = pd_k8s_verify_aws_token(c->env, pd_store_db(c->env->store), &c->a, token, cluster,
                                     now_ms, &p, &why);
    if (want_ok) {
        if (rc != PD_OK)
            fail_msg("token refused: %s", why ? why : "?");
        assert_string_equal(p.arn, "arn:aws:iam::" PT_ACCT ":root");
        return;
    }
    assert_int_equal(rc, PD_ESIG);
    assert_non_null(why);
    if (want_why && !strstr(why, want_why))
        fail_msg("refused for \"%s\", expected \"%s\"", why, want_why);
}

static void get_token_verification(void **state)
{
    struct ctx *c = *state;
    struct pd_arena *a = &c->a;
    const char *good = aws_token(a, "test", "test", "demo");
    expect_token(c, good, "demo", PT_NOW_MS, 1, NULL);
    expect_token(c, good, "demo", PT_NOW_MS + 14 * 60 * 1000, 1, NULL);
    /* signed for another cluster */
    expect_token(c, good, "other", PT_NOW_MS, 0, "SignatureDoesNotMatch");
    /* x-k8s-aws-id not signed */
    static const char *const host_only[] = {"host"};
    expect_token(c,
                 aws_token_at(a, "https://sts.us-east-1.amazonaws.com", "test", "test", "demo",
                              AMZ_NOW, host_only, 1, NULL),
                 "demo", PT_NOW_MS, 0, "x-k8s-aws-id");
    /* expired: 15 minutes after X-Amz-Date */
    expect_token(c, good, "demo", PT_NOW_MS + 16 * 60 * 1000, 0, "expired");
    /* hosts */
    expect_token(c,
                 aws_token_at(a, "https://sts.evil.example.com", "test", "test", "demo", AMZ_NOW,
                              NULL, 0, NULL),
                 "demo", PT_NOW_MS, 0, "hostname");
    expect_token(c,
                 aws_token_at(a, "http://sts.us-east-1.amazonaws.com", "test", "test", "demo",
                              AMZ_NOW, NULL, 0, NULL),
                 "demo", PT_NOW_MS, 0, "scheme");
    expect_token(c,
                 aws_token_at(a, "https://sts.us-east-1.amazonaws.com/x", "test", "test", "demo",
                              AMZ_NOW, NULL, 0, NULL),
                 "demo", PT_NOW_MS, 0, "path");
    expect_token(c,
                 aws_token_at(a, "https://sts.amazonaws.com", "test", "test", "demo", AMZ_NOW, NULL,
                              0, NULL),
                 "demo", PT_NOW_MS, 1, NULL);
    /* podiam's own endpoint, with a path (AWS_ENDPOINT_URL_STS); a wrong port is refused */
    expect_token(c,
                 aws_token_at(a, "http://127.0.0.1:4566/_podiam/sts", "test", "test", "demo",
                              AMZ_NOW, NULL, 0, NULL),
                 "demo", PT_NOW_MS, 1, NULL);
    expect_token(
        c,
        aws_token_at(a, "https://localhost:4567", "test", "test", "demo", AMZ_NOW, NULL, 0, NULL),
        "demo", PT_NOW_MS, 1, NULL);
    expect_token(
        c, aws_token_at(a, "http://127.0.0.1:9999", "test", "test", "demo", AMZ_NOW, NULL, 0, NULL),
        "demo", PT_NOW_MS, 0, "scheme");
    /* query keys: extra, duplicate; action */
    expect_token(c,
                 aws_token_at(a, "https://sts.us-east-1.amazonaws.com", "test", "test", "demo",
                              AMZ_NOW, NULL, 0, "&Extra=1"),
                 "demo", PT_NOW_MS, 0, "non-whitelisted");
    expect_token(c,
                 aws_token_at(a, "https://sts.us-east-1.amazonaws.com", "test", "test", "demo",
                              AMZ_NOW, NULL, 0, "&Version=2011-06-15"),
                 "demo", PT_NOW_MS, 0, "multiple values");
    /* bad signature, unknown key, prefix, size, base64 */
    const char *badsig = aws_token(a, "test", "wrong", "demo");
    expect_token(c, badsig, "demo", PT_NOW_MS, 0, "SignatureDoesNotMatch");
    expect_token(c, aws_token(a, "AKIANOSUCHKEY0000000", "x", "demo"), "demo", PT_NOW_MS, 0,
                 "InvalidClientTokenId");
    expect_token(c, "k8s-aws-v2.abc", "demo", PT_NOW_MS, 0, "prefix");
    expect_token(c, "k8s-aws-v1.!!!", "demo", PT_NOW_MS, 0, "base64");
    char *huge = pd_arena_alloc(a, 5000);
    memset(huge, 'A', 4999);
    memcpy(huge, "k8s-aws-v1.", 11);
    huge[4999] = '\0';
    expect_token(c, huge, "demo", PT_NOW_MS, 0, "too large");
    /* a URL whose action is not GetCallerIdentity */
    const char *url = "https://sts.us-east-1.amazonaws.com/?Action=AssumeRole";
    expect_token(c, pd_arena_printf(a, "k8s-aws-v1.%s", pd_base64_encode(a, url, strlen(url), 1)),
                 "demo", PT_NOW_MS, 0, "action");
}

/* ---- authorization ---- */

static int has_text(const json_t *v, const char *needle);

static void creator_and_others(void **state)
{
    struct ctx *c = *state;
    int st;
    /* bob authenticates, reads discovery, is refused resources */
    json_t *v = call(c, c->bob, "GET", "/api/v1", NULL, NULL, NULL, &st);
    assert_int_equal(st, 200);
    json_decref(v);
    fails(c, c->bob, "GET", "/api/v1/namespaces", "limit=500", NULL, NULL, 403, "Forbidden",
          "namespaces is forbidden: User \"arn:aws:iam::000000000000:user/bob\" cannot list "
          "resource \"namespaces\" in API group \"\" at the cluster scope");
    fails(c, c->bob, "GET", "/api/v1/namespaces/default/pods/x", NULL, NULL, NULL, 403, "Forbidden",
          "pods \"x\" is forbidden: User \"arn:aws:iam::000000000000:user/bob\" cannot get "
          "resource \"pods\" in API group \"\" in the namespace \"default\"");
    fails(c, c->bob, "POST", "/api/v1/namespaces/default/serviceaccounts/default/token", NULL,
          JSON_CT, "{}", 403, "Forbidden", NULL);
    const char *ssar = "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":"
                       "\"SelfSubjectAccessReview\",\"spec\":{\"resourceAttributes\":{"
                       "\"namespace\":\"default\",\"verb\":\"create\",\"resource\":\"pods\"}}}";
    v = call(c, c->bob, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL,
             JSON_CT, ssar, &st);
    assert_int_equal(st, 201);
    assert_true(json_is_false(json_object_get(json_object_get(v, "status"), "allowed")));
    assert_string_equal(jstr(v, "spec.resourceAttributes.verb"), "create");
    json_decref(v);
    v = ok(c, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL, JSON_CT, ssar,
           201);
    assert_true(json_is_true(json_object_get(json_object_get(v, "status"), "allowed")));
    json_decref(v);
    v = call(c, c->bob, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, JSON_CT,
             "{}", &st);
    assert_int_equal(st, 201);
    assert_string_equal(jstr(v, "kind"), "SelfSubjectReview");
    assert_string_equal(jstr(v, "status.userInfo.username"), "arn:aws:iam::000000000000:user/bob");
    assert_string_equal(jstr(v, "status.userInfo.groups.0"), "system:authenticated");
    assert_int_equal(
        json_array_size(
            json_object_get(json_object_get(v, "status"), "userInfo")
                ? json_object_get(json_object_get(json_object_get(v, "status"), "userInfo"),
                                  "groups")
                : NULL),
        1);
    assert_string_equal(jstr(v, "status.userInfo.extra.accessKeyId.0"), c->bob_key);
    assert_string_equal(jstr(v, "status.userInfo.extra.canonicalArn.0"),
                        "arn:aws:iam::000000000000:user/bob");
    json_decref(v);
    v = ok(c, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, JSON_CT, "{}",
           201);
    /* the creator in CONFIG_MAP mode: EKS's kubernetes-admin in system:masters */
    assert_string_equal(jstr(v, "status.userInfo.username"), "kubernetes-admin");
    assert_string_equal(jstr(v, "status.userInfo.groups.0"), "system:masters");
    assert_string_equal(jstr(v, "status.userInfo.groups.1"), "system:authenticated");
    assert_string_equal(jstr(v, "status.userInfo.extra.arn.0"), "arn:aws:iam::000000000000:root");
    assert_string_equal(jstr(v, "status.userInfo.uid"),
                        "aws-iam-authenticator:000000000000:000000000000");
    json_decref(v);

    /* an IAM user the cluster does not map: 401, as EKS answers, and the decision log says
     * what was looked at */
    json_decref(pt_ok(c->env, "iam", "CreateUser", json_pack("{s:s}", "UserName", "carl")));
    json_t *out = pt_ok(c->env, "iam", "CreateAccessKey", json_pack("{s:s}", "UserName", "carl"));
    json_t *ak = json_object_get(out, "AccessKey");
    const char *carl = pd_arena_printf(
        &c->a, "authorization: Bearer %s",
        aws_token(&c->a, json_string_value(json_object_get(ak, "AccessKeyId")),
                  json_string_value(json_object_get(ak, "SecretAccessKey")), "demo"));
    json_decref(out);
    fails(c, carl, "GET", "/api/v1", NULL, NULL, NULL, 401, "Unauthorized", "Unauthorized");
    struct pd_req *r = pt_http(
        c->env, "POST",
        pd_arena_printf(&c->a, "%s/apis/authentication.k8s.io/v1/selfsubjectreviews", c->base),
        NULL, pd_arena_printf(&c->a, "%s\n" JSON_CT, carl), "{}");
    assert_int_equal(r->resp.status, 401);
    const char *id = pd_kvs_get(&r->resp.hdrs, "x-podiam-decision-id", 1);
    assert_non_null(id);
    json_t *d = pd_decisions_get(c->env->decisions, id);
    pd_req_free(r);
    assert_non_null(d);
    assert_string_equal(jstr(d, "decision"), "unauthenticated");
    assert_string_equal(jstr(d, "principal"), "arn:aws:iam::000000000000:user/carl");
    assert_string_equal(jstr(d, "user.mapping.by"), "not mapped");
    assert_string_equal(jstr(d, "user.mapping.mode"), "CONFIG_MAP");
    assert_non_null(strstr(jstr(d, "authentication.reason"),
                           "arn:aws:iam::000000000000:user/carl is not mapped by the aws-auth "
                           "ConfigMap"));
    assert_true(has_text(d, "aws-auth has no mapRoles or mapUsers line for "
                            "arn:aws:iam::000000000000:user/carl"));
    json_decref(d);
    /* bob is mapped by his aws-auth line, and the decision log names it */
    r = pt_http(c->env, "GET", pd_arena_printf(&c->a, "%s/api/v1/namespaces", c->base), NULL,
                c->bob, NULL);
    assert_int_equal(r->resp.status, 403);
    d = pd_decisions_get(c->env->decisions, pd_kvs_get(&r->resp.hdrs, "x-podiam-decision-id", 1));
    pd_req_free(r);
    assert_string_equal(jstr(d, "user.mapping.by"), "aws-auth mapUsers");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(d, "user"), "mapping"), "line")),
                     1);
    assert_non_null(strstr(jstr(d, "user.mapped_by"), "aws-auth mapUsers entry 1 (line 1)"));
    json_decref(d);
}

/* ---- fixtures ---- */

static void fixtures_round_trip(void **state)
{
    struct ctx *c = *state;
    struct pd_db *db = pd_store_db(c->env->store);
    json_t *section = json_loads(
        "{\"clusters\":[{\"name\":\"fx\",\"role_arn\":\"arn:aws:iam::000000000000:role/"
        "eks-cluster\",\"kubernetes\":{\"namespaces\":[\"apps\",{\"name\":\"lab\",\"labels\":"
        "{\"team\":\"x\"}}],\"serviceaccounts\":[{\"namespace\":\"apps\",\"name\":\"api\","
        "\"annotations\":{\"eks.amazonaws.com/role-arn\":\"arn:aws:iam::000000000000:role/r\"}},"
        "{\"namespace\":\"default\",\"name\":\"default\",\"annotations\":{\"a\":\"b\"}}],"
        "\"configmaps\":[{\"namespace\":\"apps\",\"name\":\"cfg\",\"data\":{\"k\":\"v\"}}]}}]}",
        0, NULL);
    char *err = NULL;
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    int rc = pd_eks_fixtures_load(c->env, db, section, "test", &err);
    if (rc)
        fail_msg("load: %s", err);
    assert_int_equal(pd_db_commit(db), PD_OK);
    json_decref(section);
    struct pd_eks_cluster cl;
    assert_int_equal(pd_eks_cluster_by_name(db, &c->a, PT_ACCT, c->env->cfg.region, "fx", &cl),
                     PD_OK);
    json_t *out = pd_k8s_fixtures_export(c->env, db, cl.id);
    assert_non_null(out);
    json_t *want = json_loads(
        "{\"namespaces\":[\"apps\",{\"name\":\"lab\",\"labels\":{\"team\":\"x\"}}],"
        "\"serviceaccounts\":[{\"name\":\"api\",\"namespace\":\"apps\",\"annotations\":{"
        "\"eks.amazonaws.com/role-arn\":\"arn:aws:iam::000000000000:role/r\"}},{\"name\":"
        "\"default\",\"namespace\":\"default\",\"annotations\":{\"a\":\"b\"}}],"
        "\"configmaps\":[{\"name\":\"cfg\",\"namespace\":\"apps\",\"data\":{\"k\":\"v\"}}]}",
        0, NULL);
    if (!json_equal(out, want))
        fail_msg("export gave %s", json_dumps(out, JSON_COMPACT));
    json_decref(want);
    json_decref(out);
    /* bad sections are refused with the entry named */
    section = json_loads("{\"clusters\":[{\"name\":\"fx2\",\"role_arn\":\"arn:aws:iam::"
                         "000000000000:role/eks-cluster\",\"kubernetes\":{\"serviceaccounts\":"
                         "[{\"namespace\":\"ghost\",\"name\":\"x\"}]}}]}",
                         0, NULL);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    rc = pd_eks_fixtures_load(c->env, db, section, "test", &err);
    pd_db_rollback(db);
    assert_int_equal(rc, PD_EINVAL);
    assert_non_null(strstr(err, "namespaces \"ghost\" not found"));
    free(err);
    json_decref(section);
    /* deleting the cluster deletes its objects */
    json_decref(pt_ok(c->env, "eks", "DeleteCluster", json_pack("{s:s}", "name", "fx")));
    json_t *gone = pd_k8s_fixtures_export(c->env, db, cl.id);
    assert_null(gone);
}

static void protobuf_bodies(void **state)
{
    struct ctx *c = *state;
    /* kubectl 1.32 `create sa pb`: k8s\0 + Unknown{typeMeta{v1, ServiceAccount}, raw{meta{name}}}
     */
    static const unsigned char body[] = {'k',  '8',  's', 0,   0x0a, 0x14, 0x0a, 0x02, 'v',  '1',
                                         0x12, 0x0e, 'S', 'e', 'r',  'v',  'i',  'c',  'e',  'A',
                                         'c',  'c',  'o', 'u', 'n',  't',  0x12, 0x06, 0x0a, 0x04,
                                         0x0a, 0x02, 'p', 'b', 0x1a, 0x00, 0x22, 0x00};
    struct pd_req *r = pd_req_new(c->env);
    r->method = "POST";
    r->path = pd_arena_printf(&r->arena, "%s/api/v1/namespaces/default/serviceaccounts", c->base);
    r->query = "fieldManager=kubectl-create&fieldValidation=Strict";
    snprintf(r->peer_ip, sizeof r->peer_ip, "127.0.0.1");
    const char *auth = c->admin + strlen("authorization: ");
    pd_kvs_add(&r->arena, &r->hdrs, "authorization", auth, strlen(auth), 0);
    pd_kvs_add(&r->arena, &r->hdrs, "content-type", "application/vnd.kubernetes.protobuf", 35, 0);
    assert_int_equal(pd_dispatch_headers(r), PD_OK);
    assert_int_equal(pd_dispatch_body(r, (const char *)body, sizeof body), PD_OK);
    pd_dispatch(r);
    if (r->resp.status != 201)
        fail_msg("protobuf create: %d %s", r->resp.status, pt_body(r));
    assert_non_null(strstr(pt_body(r), "\"name\":\"pb\""));
    pd_req_free(r);
    json_decref(
        ok(c, "GET", "/api/v1/namespaces/default/serviceaccounts/pb", NULL, NULL, NULL, 200));
}

/* ---- RBAC through the API ---- */

#define RBAC_API "/apis/rbac.authorization.k8s.io/v1"

/* Does the compact text of v contain needle? */
static int has_text(const json_t *v, const char *needle)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int found = t && strstr(t, needle) != NULL;
    free(t);
    return found;
}
#define ALICE "impersonate-user: pulumi:alice\nimpersonate-group: pulumi:devs"

static void rbac_objects_and_validation(void **state)
{
    struct ctx *c = *state;
    /* bootstrap: cluster roles and bindings, aggregated view < edit < admin */
    json_t *v = ok(c, "GET", RBAC_API "/clusterroles", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "kind"), "ClusterRoleList");
    assert_true(json_array_size(json_object_get(v, "items")) >= 30);
    json_decref(v);
    v = ok(c, "GET", RBAC_API "/clusterroles/view", NULL, NULL, NULL, 200);
    size_t nview = json_array_size(json_object_get(v, "rules"));
    assert_true(nview >= 10);
    json_decref(v);
    v = ok(c, "GET", RBAC_API "/clusterroles/admin", NULL, NULL, NULL, 200);
    assert_true(json_array_size(json_object_get(v, "rules")) > nview);
    json_decref(v);
    v = ok(c, "GET", RBAC_API "/clusterrolebindings/system:basic-user", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(v, "subjects.0.name"), "system:authenticated");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(v, "metadata"), "annotations"),
                            "rbac.authorization.kubernetes.io/autoupdate")),
                        "true");
    json_decref(v);

    json_decref(ok(c, "POST", "/api/v1/namespaces", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"apps\"}}", 201));
    v = ok(c, "POST", RBAC_API "/namespaces/apps/roles", NULL, JSON_CT,
           "{\"kind\":\"Role\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"metadata\":{"
           "\"name\":\"pod-manager\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],"
           "\"verbs\":[\"get\",\"list\",\"watch\",\"create\",\"update\",\"delete\"]}]}",
           201);
    assert_string_equal(jstr(v, "metadata.namespace"), "apps");
    assert_string_equal(jstr(v, "apiVersion"), "rbac.authorization.k8s.io/v1");
    json_decref(v);
    v = ok(c, "POST", RBAC_API "/namespaces/apps/rolebindings", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"devs\"},\"subjects\":[{\"kind\":\"Group\",\"name\":"
           "\"pulumi:devs\"}],\"roleRef\":{\"kind\":\"Role\",\"name\":\"pod-manager\"}}",
           201);
    /* defaults: roleRef.apiGroup and the subject's apiGroup */
    assert_string_equal(jstr(v, "roleRef.apiGroup"), "rbac.authorization.k8s.io");
    assert_string_equal(jstr(v, "subjects.0.apiGroup"), "rbac.authorization.k8s.io");
    json_decref(v);
    /* a Role without rules has "rules": null, as Go writes a nil slice */
    v = ok(c, "POST", RBAC_API "/namespaces/apps/roles", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"empty\"}}", 201);
    assert_true(json_is_null(json_object_get(v, "rules")));
    json_decref(v);
    /* validation, with kube-apiserver's messages */
    fails(c, c->admin, "POST", RBAC_API "/namespaces/apps/roles", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"bad\"},\"rules\":[{\"nonResourceURLs\":[\"/x\"],\"verbs\":"
          "[\"get\"]},{\"resources\":[\"pods\"]}]}",
          422, "Invalid",
          "Role.rbac.authorization.k8s.io \"bad\" is invalid: [rules[0].nonResourceURLs: Invalid "
          "value: []string{\"/x\"}: namespaced rules cannot apply to non-resource URLs, "
          "rules[1].verbs: Required value: verbs must contain at least one value, "
          "rules[1].apiGroups: Required value: resource rules must supply at least one api "
          "group]");
    fails(c, c->admin, "POST", RBAC_API "/clusterroles", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"a/b\"}}", 422, "Invalid",
          "ClusterRole.rbac.authorization.k8s.io \"a/b\" is invalid: metadata.name: Invalid "
          "value: \"a/b\": may not contain '/'");
    fails(c, c->admin, "POST", RBAC_API "/clusterroles", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"agg\"},\"aggregationRule\":{}}", 422, "Invalid",
          "ClusterRole.rbac.authorization.k8s.io \"agg\" is invalid: "
          "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector "
          "required if aggregationRule is non-nil");
    fails(c, c->admin, "POST", RBAC_API "/clusterrolebindings", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"x\"},\"roleRef\":{\"kind\":\"Role\",\"name\":\"r\"},"
          "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"sa\"},{\"kind\":\"Robot\","
          "\"name\":\"r\"}]}",
          422, "Invalid",
          "ClusterRoleBinding.rbac.authorization.k8s.io \"x\" is invalid: [roleRef.kind: "
          "Unsupported value: \"Role\": supported values: \"ClusterRole\", subjects[0].namespace: "
          "Required value, subjects[1].kind: Unsupported value: \"Robot\": supported values: "
          "\"ServiceAccount\", \"User\", \"Group\"]");
    fails(c, c->admin, "GET", RBAC_API "/namespaces/apps/roles/nope", NULL, NULL, NULL, 404,
          "NotFound", "roles.rbac.authorization.k8s.io \"nope\" not found");
    fails(c, c->admin, "POST", RBAC_API "/namespaces/apps/roles", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"pod-manager\"}}", 409, "AlreadyExists",
          "roles.rbac.authorization.k8s.io \"pod-manager\" already exists");
    /* roleRef is immutable; subjects may change */
    fails(c, c->admin, "PATCH", RBAC_API "/namespaces/apps/rolebindings/devs", NULL,
          "content-type: application/merge-patch+json", "{\"roleRef\":{\"name\":\"other\"}}", 422,
          "Invalid",
          "RoleBinding.rbac.authorization.k8s.io \"devs\" is invalid: roleRef: Invalid value: "
          "rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"other\"}: "
          "cannot change roleRef");
    json_decref(ok(c, "PATCH", RBAC_API "/namespaces/apps/rolebindings/devs", NULL,
                   "content-type: application/merge-patch+json",
                   "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", 200));
    /* Tables */
    v = ok(c, "GET", RBAC_API "/namespaces/apps/rolebindings", NULL,
           "accept: application/json;as=Table;v=v1;g=meta.k8s.io", NULL, 200);
    assert_string_equal(jstr(v, "columnDefinitions.1.name"), "Role");
    assert_string_equal(jstr(v, "columnDefinitions.4.name"), "Groups");
    assert_string_equal(jstr(v, "rows.0.cells.1"), "Role/pod-manager");
    assert_string_equal(jstr(v, "rows.0.cells.4"), "pulumi:devs");
    json_decref(v);
    v = ok(c, "GET", RBAC_API "/namespaces/apps/roles", NULL,
           "accept: application/json;as=Table;v=v1;g=meta.k8s.io", NULL, 200);
    assert_string_equal(jstr(v, "columnDefinitions.1.name"), "Created At");
    assert_string_equal(jstr(v, "rows.0.cells.1"), "2026-01-01T00:00:00Z");
    json_decref(v);
    /* aggregation follows changes: a labelled role joins view (and so edit and admin) */
    json_decref(ok(
        c, "POST", RBAC_API "/clusterroles", NULL, JSON_CT,
        "{\"metadata\":{\"name\":\"widgets\",\"labels\":{\"rbac.authorization.k8s.io/"
        "aggregate-to-view\":\"true\"}},\"rules\":[{\"apiGroups\":[\"example.com\"],\"resources\":"
        "[\"widgets\"],\"verbs\":[\"get\"]}]}",
        201));
    v = ok(c, "GET", RBAC_API "/clusterroles/admin", NULL, NULL, NULL, 200);
    assert_true(has_text(json_object_get(v, "rules"), "widgets"));
    json_decref(v);
    json_decref(ok(c, "DELETE", RBAC_API "/clusterroles/widgets", NULL, NULL, NULL, 200));
    v = ok(c, "GET", RBAC_API "/clusterroles/view", NULL, NULL, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(v, "rules")), nview);
    json_decref(v);
}

static void rbac_impersonation_and_reviews(void **state)
{
    struct ctx *c = *state;
    json_decref(ok(c, "POST", "/api/v1/namespaces", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"apps\"}}", 201));
    json_decref(ok(
        c, "POST", RBAC_API "/namespaces/apps/roles", NULL, JSON_CT,
        "{\"metadata\":{\"name\":\"pm\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],"
        "\"verbs\":[\"get\",\"list\"]}]}",
        201));
    json_decref(ok(c, "POST", RBAC_API "/namespaces/apps/rolebindings", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"devs\"},\"subjects\":[{\"kind\":\"Group\",\"name\":"
                   "\"pulumi:devs\"}],\"roleRef\":{\"kind\":\"Role\",\"name\":\"pm\"}}",
                   201));
    /* the admin as alice: apps yes, default no, with kube's message */
    json_decref(ok(c, "GET", "/api/v1/namespaces/apps/pods", NULL, ALICE, NULL, 200));
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/pods", NULL, ALICE, NULL, 403,
          "Forbidden",
          "pods is forbidden: User \"pulumi:alice\" cannot list resource \"pods\" in API group "
          "\"\" in the namespace \"default\"");
    /* the decision log says who was impersonated, by whom, and which binding allowed */
    struct pd_req *r =
        pt_http(c->env, "GET", pd_arena_printf(&c->a, "%s/api/v1/namespaces/apps/pods", c->base),
                NULL, pd_arena_printf(&c->a, "%s\n%s", c->admin, ALICE), NULL);
    assert_int_equal(r->resp.status, 200);
    const char *id = pd_kvs_get(&r->resp.hdrs, "x-podiam-decision-id", 1);
    assert_non_null(id);
    json_t *d = pd_decisions_get(c->env->decisions, id);
    pd_req_free(r);
    assert_non_null(d);
    assert_string_equal(jstr(d, "service"), "k8s");
    assert_string_equal(jstr(d, "decision"), "allowed");
    assert_string_equal(jstr(d, "user.username"), "pulumi:alice");
    assert_string_equal(jstr(d, "impersonated_by.username"), "kubernetes-admin");
    assert_string_equal(jstr(d, "principal"), "arn:aws:iam::000000000000:root");
    assert_string_equal(jstr(d, "checks.0.action"), "k8s:impersonate");
    assert_string_equal(jstr(d, "checks.2.action"), "k8s:list");
    assert_string_equal(jstr(d, "checks.2.reason"),
                        "RBAC: allowed by RoleBinding \"devs/apps\" of Role \"pm\" to Group "
                        "\"pulumi:devs\"");
    /* the creator may impersonate as a member of system:masters, before RBAC is asked */
    assert_string_equal(jstr(d, "checks.0.decided_by"), "system:masters");
    assert_string_equal(jstr(d, "checks.0.authorizers.0.authorizer"), "system:masters");
    assert_null(jstr(d, "checks.0.authorizers.1.authorizer"));
    /* alice (impersonated) gets nothing from EKS access policies */
    assert_string_equal(jstr(d, "checks.2.authorizers.1.authorizer"), "eks");
    assert_string_equal(jstr(d, "checks.2.authorizers.1.decision"), "noOpinion");
    assert_non_null(strstr(jstr(d, "checks.2.authorizers.1.trace.reason"), "impersonated"));
    assert_string_equal(jstr(d, "checks.2.authorizers.2.trace.binding"), "RoleBinding apps/devs");
    json_decref(d);
    /* a denial says what was looked at */
    r = pt_http(c->env, "GET", pd_arena_printf(&c->a, "%s/api/v1/namespaces/default/pods", c->base),
                NULL, c->bob, NULL);
    assert_int_equal(r->resp.status, 403);
    d = pd_decisions_get(c->env->decisions, pd_kvs_get(&r->resp.hdrs, "x-podiam-decision-id", 1));
    pd_req_free(r);
    assert_string_equal(jstr(d, "decision"), "implicitDeny");
    assert_string_equal(jstr(d, "principal"), "arn:aws:iam::000000000000:user/bob");
    assert_string_equal(jstr(d, "checks.0.authorizers.2.trace.why"),
                        "no rule of the bindings that name this user allows the request");
    assert_non_null(strstr(jstr(d, "message"), "cannot list resource \"pods\""));
    json_decref(d);
    /* impersonation refused: bob may not impersonate; groups without a user is a bad request */
    fails(c, c->bob, "GET", "/api/v1/namespaces/apps/pods", NULL, "impersonate-user: alice", NULL,
          403, "Forbidden",
          "users \"alice\" is forbidden: User \"arn:aws:iam::000000000000:user/bob\" cannot "
          "impersonate resource \"users\" in API group \"\" at the cluster scope");
    fails(c, c->admin, "GET", "/api/v1/namespaces/apps/pods", NULL,
          "impersonate-group: system:masters\nimpersonate-extra-scopes: a", NULL, 400, "BadRequest",
          "requested [{Group  system:masters    } {UserExtra  a  authentication.k8s.io/v1  "
          "scopes}] without impersonating a user");
    /* no chain: alice may impersonate carol, bob may impersonate alice; bob as carol is
     * checked as bob */
    json_decref(
        ok(c, "POST", RBAC_API "/clusterroles", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"imp-carol\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":"
           "[\"users\"],\"verbs\":[\"impersonate\"],\"resourceNames\":[\"carol\"]}]}",
           201));
    json_decref(
        ok(c, "POST", RBAC_API "/clusterroles", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"imp-alice\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":"
           "[\"users\"],\"verbs\":[\"impersonate\"],\"resourceNames\":[\"alice\"]}]}",
           201));
    json_decref(
        ok(c, "POST", RBAC_API "/clusterrolebindings", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"alice-imp\"},\"subjects\":[{\"kind\":\"User\",\"name\":"
           "\"alice\"}],\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"imp-carol\"}}",
           201));
    json_decref(ok(
        c, "POST", RBAC_API "/clusterrolebindings", NULL, JSON_CT,
        "{\"metadata\":{\"name\":\"bob-imp\"},\"subjects\":[{\"kind\":\"User\",\"name\":"
        "\"arn:aws:iam::000000000000:user/bob\"}],\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":"
        "\"imp-alice\"}}",
        201));
    int st;
    json_t *v = call(c, c->bob, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL,
                     "impersonate-user: alice\ncontent-type: application/json", "{}", &st);
    assert_int_equal(st, 201);
    assert_string_equal(jstr(v, "status.userInfo.username"), "alice");
    assert_string_equal(jstr(v, "status.userInfo.groups.0"), "system:authenticated");
    assert_null(json_object_get(json_object_get(json_object_get(v, "status"), "userInfo"), "uid"));
    json_decref(v);
    fails(c, c->bob, "GET", "/api/v1/namespaces/apps/pods", NULL,
          "impersonate-user: carol\nimpersonate-user: alice", NULL, 403, "Forbidden",
          "users \"carol\" is forbidden: User \"arn:aws:iam::000000000000:user/bob\" cannot "
          "impersonate resource \"users\" in API group \"\" at the cluster scope");
    /* a service account gets its groups */
    v = ok(c, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL,
           "impersonate-user: system:serviceaccount:apps:builder\ncontent-type: application/json",
           "{}", 201);
    assert_string_equal(jstr(v, "status.userInfo.groups.0"), "system:serviceaccounts");
    assert_string_equal(jstr(v, "status.userInfo.groups.1"), "system:serviceaccounts:apps");
    assert_string_equal(jstr(v, "status.userInfo.groups.2"), "system:authenticated");
    json_decref(v);

    /* reviews */
    const char *ssar = "{\"spec\":{\"resourceAttributes\":{\"namespace\":\"apps\",\"verb\":"
                       "\"list\",\"resource\":\"pods\"}}}";
    v = ok(c, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL,
           ALICE "\ncontent-type: application/json", ssar, 201);
    assert_true(json_is_true(json_object_get(json_object_get(v, "status"), "allowed")));
    assert_string_equal(jstr(v, "status.reason"),
                        "RBAC: allowed by RoleBinding \"devs/apps\" of Role \"pm\" to Group "
                        "\"pulumi:devs\"");
    json_decref(v);
    v = ok(c, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", NULL,
           ALICE "\ncontent-type: application/json", "{\"spec\":{\"namespace\":\"apps\"}}", 201);
    assert_string_equal(jstr(v, "kind"), "SelfSubjectRulesReview");
    assert_true(json_is_true(json_object_get(json_object_get(v, "status"), "incomplete")));
    assert_string_equal(jstr(v, "status.evaluationError"),
                        "webhook authorizer does not support user rule resolution");
    assert_true(has_text(json_object_get(v, "status"),
                         "{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":"
                         "[\"pods\"]}"));
    assert_true(has_text(json_object_get(v, "status"), "\"nonResourceURLs\":[\"/api\",\"/api/*\""));
    json_decref(v);
    fails(c, c->admin, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", NULL,
          JSON_CT, "{\"spec\":{}}", 400, "BadRequest", "no namespace on request");
    v = ok(c, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", NULL, JSON_CT,
           "{\"spec\":{\"user\":\"pulumi:alice\",\"groups\":[\"pulumi:devs\"],"
           "\"resourceAttributes\":{\"namespace\":\"default\",\"verb\":\"list\",\"resource\":"
           "\"pods\"}}}",
           201);
    assert_true(json_is_false(json_object_get(json_object_get(v, "status"), "allowed")));
    assert_null(json_object_get(json_object_get(v, "status"), "denied"));
    assert_string_equal(jstr(v, "spec.user"), "pulumi:alice");
    json_decref(v);
    fails(c, c->admin, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", NULL, JSON_CT,
          "{\"spec\":{\"nonResourceAttributes\":{\"path\":\"/api\",\"verb\":\"get\"}}}", 422,
          "Invalid",
          "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.user: Invalid value: "
          "\"\": at least one of user or group must be specified");
    fails(c, c->bob, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", NULL, JSON_CT,
          "{\"spec\":{\"user\":\"x\",\"nonResourceAttributes\":{\"path\":\"/api\",\"verb\":"
          "\"get\"}}}",
          403, "Forbidden",
          "subjectaccessreviews.authorization.k8s.io is forbidden: User "
          "\"arn:aws:iam::000000000000:user/bob\" cannot create resource \"subjectaccessreviews\" "
          "in API group \"authorization.k8s.io\" at the cluster scope");
    v = ok(c, "POST", "/apis/authorization.k8s.io/v1/namespaces/apps/localsubjectaccessreviews",
           NULL, JSON_CT,
           "{\"spec\":{\"user\":\"pulumi:alice\",\"groups\":[\"pulumi:devs\"],"
           "\"resourceAttributes\":{\"namespace\":\"apps\",\"verb\":\"get\",\"resource\":"
           "\"pods\"}}}",
           201);
    assert_true(json_is_true(json_object_get(json_object_get(v, "status"), "allowed")));
    assert_string_equal(jstr(v, "metadata.namespace"), "apps");
    json_decref(v);
    fails(c, c->admin, "POST",
          "/apis/authorization.k8s.io/v1/namespaces/apps/localsubjectaccessreviews", NULL, JSON_CT,
          "{\"spec\":{\"user\":\"x\",\"resourceAttributes\":{\"namespace\":\"other\",\"verb\":"
          "\"get\",\"resource\":\"pods\"}}}",
          422, "Invalid",
          "LocalSubjectAccessReview.authorization.k8s.io \"\" is invalid: "
          "spec.resourceAttributes.namespace: Invalid value: \"other\": must match "
          "metadata.namespace");
    /* unknown paths are authorized first (RequestInfo): bob gets 403, the admin 404 */
    fails(c, c->bob, "GET", "/apis/networking.k8s.io/v1/namespaces/apps/ingresses", NULL, NULL,
          NULL, 403, "Forbidden",
          "ingresses.networking.k8s.io is forbidden: User "
          "\"arn:aws:iam::000000000000:user/bob\" cannot list resource \"ingresses\" in API "
          "group \"networking.k8s.io\" in the namespace \"apps\"");
    fails(c, c->admin, "GET", "/apis/networking.k8s.io/v1/namespaces/apps/ingresses", NULL, NULL,
          NULL, 404, "NotFound", "the server could not find the requested resource");
}

static void rbac_escalation(void **state)
{
    struct ctx *c = *state;
    json_decref(ok(c, "POST", "/api/v1/namespaces", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"esc\"}}", 201));
    json_decref(ok(
        c, "POST", RBAC_API "/namespaces/esc/roles", NULL, JSON_CT,
        "{\"metadata\":{\"name\":\"writer\"},\"rules\":[{\"apiGroups\":[\"rbac.authorization.k8s."
        "io\"],\"resources\":[\"roles\",\"rolebindings\"],\"verbs\":[\"create\",\"update\","
        "\"patch\"]},{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]}",
        201));
    json_decref(
        ok(c, "POST", RBAC_API "/namespaces/esc/rolebindings", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"bob-writer\"},\"subjects\":[{\"kind\":\"User\",\"name\":"
           "\"arn:aws:iam::000000000000:user/bob\"}],\"roleRef\":{\"kind\":\"Role\",\"name\":"
           "\"writer\"}}",
           201));
    int st;
    json_t *v = call(c, c->bob, "POST", RBAC_API "/namespaces/esc/roles", NULL, JSON_CT,
                     "{\"metadata\":{\"name\":\"getter\"},\"rules\":[{\"apiGroups\":[\"\"],"
                     "\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]}",
                     &st);
    assert_int_equal(st, 201);
    json_decref(v);
    fails(c, c->bob, "POST", RBAC_API "/namespaces/esc/roles", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"more\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":"
          "[\"pods\",\"secrets\"],\"verbs\":[\"get\",\"delete\"]}]}",
          403, "Forbidden",
          "roles.rbac.authorization.k8s.io \"more\" is forbidden: user "
          "\"arn:aws:iam::000000000000:user/bob\" (groups=[\"system:authenticated\"]) is "
          "attempting to grant RBAC permissions not currently held:\n"
          "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}\n"
          "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"delete\"]}");
    /* updating a role bob may write, to grant more, is refused the same way */
    fails(c, c->bob, "PATCH", RBAC_API "/namespaces/esc/roles/getter", NULL,
          "content-type: application/merge-patch+json",
          "{\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"*\"]}]}", 403,
          "Forbidden", NULL);
    /* huge rule lists: the escalation check is bounded, not expanded (50^3 > 100000) */
    json_t *list = json_array();
    for (int i = 0; i < 50; i++)
        json_array_append_new(list, json_sprintf("x%d", i));
    json_t *huge = json_pack("{s:{s:s}, s:[{s:O, s:O, s:O}]}", "metadata", "name", "huge", "rules",
                             "apiGroups", list, "resources", list, "verbs", list);
    char *body = json_dumps(huge, JSON_COMPACT);
    json_decref(huge);
    json_decref(list);
    fails(c, c->bob, "POST", RBAC_API "/namespaces/esc/roles", NULL, JSON_CT, body, 403,
          "Forbidden",
          "roles.rbac.authorization.k8s.io \"huge\" is forbidden: podiam: the rules expand to "
          "more than 100000 single permissions; the escalation check was not made");
    json_decref(ok(c, "POST", RBAC_API "/namespaces/esc/roles", NULL, JSON_CT, body, 201));
    free(body);
    /* a binding to a role with more than bob holds; to a missing role */
    fails(c, c->bob, "POST", RBAC_API "/namespaces/esc/rolebindings", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"b\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"x\"}],"
          "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"view\"}}",
          403, "Forbidden", NULL);
    fails(c, c->bob, "POST", RBAC_API "/namespaces/esc/rolebindings", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"b\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"x\"}],"
          "\"roleRef\":{\"kind\":\"Role\",\"name\":\"ghost\"}}",
          403, "Forbidden",
          "rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: "
          "role.rbac.authorization.k8s.io \"ghost\" not found");
    v = call(c, c->bob, "POST", RBAC_API "/namespaces/esc/rolebindings", NULL, JSON_CT,
             "{\"metadata\":{\"name\":\"b\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"x\"}],"
             "\"roleRef\":{\"kind\":\"Role\",\"name\":\"getter\"}}",
             &st);
    assert_int_equal(st, 201);
    json_decref(v);
    /* the admin may bind a missing role: it grants nothing */
    json_decref(ok(c, "POST", RBAC_API "/namespaces/esc/rolebindings", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"ghost\"},\"subjects\":[{\"kind\":\"User\",\"name\":"
                   "\"x\"}],\"roleRef\":{\"kind\":\"Role\",\"name\":\"ghost\"}}",
                   201));
    /* bind on the role lifts the check for bindings; escalate for roles */
    json_decref(ok(
        c, "POST", RBAC_API "/namespaces/esc/roles", NULL, JSON_CT,
        "{\"metadata\":{\"name\":\"binder\"},\"rules\":[{\"apiGroups\":[\"rbac.authorization.k8s."
        "io\"],\"resources\":[\"clusterroles\"],\"verbs\":[\"bind\"],\"resourceNames\":[\"view\"]},"
        "{\"apiGroups\":[\"rbac.authorization.k8s.io\"],\"resources\":[\"roles\"],\"verbs\":"
        "[\"escalate\"]}]}",
        201));
    json_decref(
        ok(c, "POST", RBAC_API "/namespaces/esc/rolebindings", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"bob-binder\"},\"subjects\":[{\"kind\":\"User\",\"name\":"
           "\"arn:aws:iam::000000000000:user/bob\"}],\"roleRef\":{\"kind\":\"Role\",\"name\":"
           "\"binder\"}}",
           201));
    v = call(c, c->bob, "POST", RBAC_API "/namespaces/esc/rolebindings", NULL, JSON_CT,
             "{\"metadata\":{\"name\":\"b2\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"x\"}],"
             "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"view\"}}",
             &st);
    assert_int_equal(st, 201);
    json_decref(v);
    v = call(c, c->bob, "POST", RBAC_API "/namespaces/esc/roles", NULL, JSON_CT,
             "{\"metadata\":{\"name\":\"more\"},\"rules\":[{\"apiGroups\":[\"*\"],\"resources\":"
             "[\"*\"],\"verbs\":[\"*\"]}]}",
             &st);
    assert_int_equal(st, 201);
    json_decref(v);
    /* aggregationRule needs everything (here: bob's escalate is on roles, not clusterroles) */
    fails(c, c->bob, "POST", RBAC_API "/clusterroles", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"x\"}}", 403, "Forbidden", NULL);
}

static void rbac_fixtures(void **state)
{
    struct ctx *c = *state;
    struct pd_db *db = pd_store_db(c->env->store);
    json_t *section = json_loads(
        "{\"clusters\":[{\"name\":\"fx\",\"role_arn\":\"arn:aws:iam::000000000000:role/"
        "eks-cluster\",\"kubernetes\":{\"namespaces\":[\"apps\"],\"roles\":[{\"namespace\":"
        "\"apps\",\"name\":\"pm\",\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],"
        "\"verbs\":[\"get\"]}]}],\"rolebindings\":[{\"namespace\":\"apps\",\"name\":\"devs\","
        "\"subjects\":[{\"kind\":\"Group\",\"name\":\"pulumi:devs\"}],\"roleRef\":{\"kind\":"
        "\"Role\",\"name\":\"pm\"}}],\"clusterroles\":[{\"name\":\"agg\",\"aggregationRule\":{"
        "\"clusterRoleSelectors\":[{\"matchLabels\":{\"x\":\"y\"}}]}}]}}]}",
        0, NULL);
    char *err = NULL;
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    int rc = pd_eks_fixtures_load(c->env, db, section, "test", &err);
    if (rc)
        fail_msg("load: %s", err);
    assert_int_equal(pd_db_commit(db), PD_OK);
    json_decref(section);
    struct pd_eks_cluster cl;
    assert_int_equal(pd_eks_cluster_by_name(db, &c->a, PT_ACCT, c->env->cfg.region, "fx", &cl),
                     PD_OK);
    json_t *out = pd_k8s_fixtures_export(c->env, db, cl.id);
    assert_non_null(out);
    /* the fixture's objects come back (defaults applied), the bootstrap ones do not */
    assert_int_equal(json_array_size(json_object_get(out, "roles")), 1);
    assert_string_equal(jstr(out, "rolebindings.0.roleRef.apiGroup"), "rbac.authorization.k8s.io");
    assert_string_equal(jstr(out, "rolebindings.0.subjects.0.name"), "pulumi:devs");
    assert_int_equal(json_array_size(json_object_get(out, "clusterroles")), 1);
    assert_string_equal(jstr(out, "clusterroles.0.name"), "agg");
    assert_null(json_object_get(out, "clusterrolebindings"));
    json_decref(out);
    /* a role in a namespace that does not exist is refused, the entry named */
    section = json_loads("{\"clusters\":[{\"name\":\"fx2\",\"role_arn\":\"arn:aws:iam::"
                         "000000000000:role/eks-cluster\",\"kubernetes\":{\"roles\":[{\"name\":"
                         "\"r\",\"namespace\":\"ghost\"}]}}]}",
                         0, NULL);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    rc = pd_eks_fixtures_load(c->env, db, section, "test", &err);
    pd_db_rollback(db);
    assert_int_equal(rc, PD_EINVAL);
    assert_non_null(strstr(err, "namespaces \"ghost\" not found"));
    free(err);
    json_decref(section);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_parser),
        cmocka_unit_test(patch_functions),
        cmocka_unit_test_setup_teardown(routing_and_discovery, setup, teardown),
        cmocka_unit_test_setup_teardown(namespaces_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(lists_selectors_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(pods_admission_and_webhook, setup, teardown),
        cmocka_unit_test_setup_teardown(patches_through_the_api, setup, teardown),
        cmocka_unit_test_setup_teardown(token_request, setup, teardown),
        cmocka_unit_test_setup_teardown(get_token_verification, setup, teardown),
        cmocka_unit_test_setup_teardown(creator_and_others, setup, teardown),
        cmocka_unit_test_setup_teardown(fixtures_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(protobuf_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(rbac_objects_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(rbac_impersonation_and_reviews, setup, teardown),
        cmocka_unit_test_setup_teardown(rbac_escalation, setup, teardown),
        cmocka_unit_test_setup_teardown(rbac_fixtures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
