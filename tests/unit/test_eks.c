/* test_eks.c - the EKS service (services/eks.c) and the OIDC issuers (services/oidc.c):
 * cluster lifecycle, errors as EKS sends them, updates and tags, the authz hook's checks,
 * discovery and JWKS documents by Host header and loopback path, hosted issuers, and the
 * fixtures round trip. Handlers run through the service table or the whole pipeline. */
#include "pipeline_env.h"

#include <unistd.h>

#include "core/arena.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "services/eks.h"
#include "services/oidc.h"

#define ROLE "arn:aws:iam::000000000000:role/eks-cluster"

struct ctx {
    struct pd_env *env;
    struct pd_arena a;
};

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
    json_decref(pt_ok(c->env, "iam", "CreateRole",
                      json_pack("{s:s, s:s}", "RoleName", "ec2-only", "AssumeRolePolicyDocument",
                                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                "\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":"
                                "\"sts:AssumeRole\"}]}")));
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

static json_t *create(struct ctx *c, const char *name)
{
    json_t *out = pt_ok(c->env, "eks", "CreateCluster",
                        json_pack("{s:s, s:s, s:{s:[s, s]}, s:{s:s}}", "name", name, "roleArn",
                                  ROLE, "resourcesVpcConfig", "subnetIds", "subnet-a", "subnet-b",
                                  "tags", "team", "core"));
    json_t *cl = json_incref(json_object_get(out, "cluster"));
    json_decref(out);
    return cl;
}

static const char *str(json_t *o, const char *path)
{
    json_t *cur = o;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf, *dot; cur && p; p = dot ? dot + 1 : NULL) {
        dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        cur = json_object_get(cur, p);
    }
    return json_string_value(cur);
}

static void lifecycle(void **state)
{
    struct ctx *c = *state;
    json_t *cl = create(c, "alpha");
    assert_string_equal(str(cl, "arn"), "arn:aws:eks:us-east-1:000000000000:cluster/alpha");
    assert_string_equal(str(cl, "status"), "ACTIVE");
    assert_string_equal(str(cl, "version"), "1.32");
    const char *issuer = str(cl, "identity.oidc.issuer");
    assert_true(pd_has_prefix(issuer, "https://oidc.eks.us-east-1.amazonaws.com/id/"));
    const char *id = issuer + strlen("https://oidc.eks.us-east-1.amazonaws.com/id/");
    assert_int_equal(strlen(id), 32);
    for (const char *p = id; *p; p++)
        assert_true((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F'));
    char ep[128];
    snprintf(ep, sizeof ep, "https://127.0.0.1:4567/_podiam/k8s/%s", id);
    assert_string_equal(str(cl, "endpoint"), ep);
    assert_string_equal(str(cl, "accessConfig.authenticationMode"), "CONFIG_MAP");
    assert_string_equal(str(cl, "kubernetesNetworkConfig.serviceIpv4Cidr"), "10.100.0.0/16");
    assert_string_equal(str(cl, "tags.team"), "core");
    unsigned char *ca;
    size_t calen;
    const char *data = str(cl, "certificateAuthority.data");
    assert_int_equal(pd_base64_decode(&c->a, data, strlen(data), &ca, &calen), PD_OK);
    assert_int_equal(calen, strlen(c->env->secrets->ca_cert_pem));
    assert_memory_equal(ca, c->env->secrets->ca_cert_pem, calen);
    assert_true(pd_oidc_is_hosted(pd_store_db(c->env->store), issuer));

    struct pd_eks_cluster ec;
    assert_int_equal(pd_eks_cluster_by_id(pd_store_db(c->env->store), &c->a, id, &ec), PD_OK);
    assert_string_equal(ec.name, "alpha");
    assert_string_equal(ec.creator_arn, "arn:aws:iam::000000000000:root");
    assert_int_equal(pd_eks_cluster_by_name(pd_store_db(c->env->store), &c->a, PT_ACCT, "eu-west-1",
                                            "alpha", &ec),
                     PD_ENOTFOUND);

    pt_fails(c->env, "eks", "CreateCluster",
             json_pack("{s:s, s:s, s:{}}", "name", "alpha", "roleArn", ROLE, "resourcesVpcConfig"),
             "ResourceInUseException", "Cluster already exists with name: alpha");
    pt_fails(c->env, "eks", "DescribeCluster", json_pack("{s:s}", "name", "nope"),
             "ResourceNotFoundException", "No cluster found for name: nope.");
    json_t *out = pt_ok(c->env, "eks", "DeleteCluster", json_pack("{s:s}", "name", "alpha"));
    assert_string_equal(str(out, "cluster.status"), "DELETING");
    json_decref(out);
    assert_false(pd_oidc_is_hosted(pd_store_db(c->env->store), issuer));
    pt_fails(c->env, "eks", "DeleteCluster", json_pack("{s:s}", "name", "alpha"),
             "ResourceNotFoundException", "No cluster found for name: alpha.");
    json_decref(cl);
}

static void validation(void **state)
{
    struct ctx *c = *state;
    const char *msg = "Role with arn: %s, could not be assumed because it does not exist or the "
                      "trusted entity is not correct";
    const char *bad[] = {"arn:aws:iam::000000000000:role/ghost",
                         "arn:aws:iam::000000000000:role/ec2-only", "not-an-arn"};
    for (size_t i = 0; i < 3; i++)
        pt_fails(
            c->env, "eks", "CreateCluster",
            json_pack("{s:s, s:s, s:{}}", "name", "v", "roleArn", bad[i], "resourcesVpcConfig"),
            "InvalidParameterException", pd_arena_printf(&c->a, msg, bad[i]));
    pt_fails(c->env, "eks", "CreateCluster",
             json_pack("{s:s, s:s, s:s, s:{}}", "name", "v", "roleArn", ROLE, "version", "1.10",
                       "resourcesVpcConfig"),
             "InvalidParameterException", "unsupported Kubernetes version 1.10");
    /* the codec's constraint errors become EKS's InvalidParameterException on the wire */
    struct pd_req *r = pt_http_signed(c->env, "eks", "GET", "/clusters", "maxResults=0", NULL);
    assert_int_equal(r->resp.status, 400);
    const char *etype = NULL;
    for (size_t i = 0; i < r->resp.hdrs.n; i++)
        if (pd_strcaseeq(r->resp.hdrs.v[i].name, "x-amzn-errortype"))
            etype = r->resp.hdrs.v[i].value;
    assert_non_null(etype);
    assert_string_equal(etype, "InvalidParameterException");
    assert_non_null(strstr(pt_body(r), "maxResults"));
    pd_req_free(r);
    r = pt_http_signed(c->env, "eks", "GET", "/clusters/nope", NULL, NULL);
    assert_int_equal(r->resp.status, 404);
    assert_non_null(strstr(pt_body(r), "\"clusterName\":\"nope\""));
    assert_non_null(strstr(pt_body(r), "No cluster found for name: nope."));
    pd_req_free(r);
}

static void list_pages(void **state)
{
    struct ctx *c = *state;
    const char *names[] = {"c3", "c1", "c2", "c5", "c4"};
    for (size_t i = 0; i < 5; i++)
        json_decref(create(c, names[i]));
    json_t *out = pt_ok(c->env, "eks", "ListClusters", json_pack("{s:i}", "maxResults", 2));
    assert_int_equal(json_array_size(json_object_get(out, "clusters")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "clusters"), 0)),
                        "c1");
    const char *tok = pd_arena_strdup(&c->a, str(out, "nextToken"));
    json_decref(out);
    out = pt_ok(c->env, "eks", "ListClusters",
                json_pack("{s:i, s:s}", "maxResults", 2, "nextToken", tok));
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "clusters"), 0)),
                        "c3");
    json_decref(out);
    out = pt_ok(c->env, "eks", "ListClusters", NULL);
    assert_int_equal(json_array_size(json_object_get(out, "clusters")), 5);
    assert_null(json_object_get(out, "nextToken"));
    json_decref(out);
    pt_fails(c->env, "eks", "ListClusters", json_pack("{s:s}", "nextToken", "garbage!"),
             "InvalidParameterException", NULL);
    for (size_t i = 0; i < 5; i++)
        json_decref(pt_ok(c->env, "eks", "DeleteCluster", json_pack("{s:s}", "name", names[i])));
}

static void updates_and_tags(void **state)
{
    struct ctx *c = *state;
    json_decref(create(c, "up"));
    json_t *out = pt_ok(c->env, "eks", "UpdateClusterConfig",
                        json_pack("{s:s, s:{s:[{s:[s, s], s:b}]}}", "name", "up", "logging",
                                  "clusterLogging", "types", "api", "audit", "enabled", 1));
    assert_string_equal(str(out, "update.status"), "InProgress");
    assert_string_equal(str(out, "update.type"), "LoggingUpdate");
    const char *uid = pd_arena_strdup(&c->a, str(out, "update.id"));
    json_decref(out);
    out = pt_ok(c->env, "eks", "DescribeUpdate",
                json_pack("{s:s, s:s}", "name", "up", "updateId", uid));
    assert_string_equal(str(out, "update.status"), "Successful");
    json_decref(out);
    out = pt_ok(c->env, "eks", "DescribeCluster", json_pack("{s:s}", "name", "up"));
    json_t *logs = json_object_get(json_object_get(json_object_get(out, "cluster"), "logging"),
                                   "clusterLogging");
    assert_int_equal(json_array_size(logs), 2);
    assert_true(json_is_true(json_object_get(json_array_get(logs, 0), "enabled")));
    assert_int_equal(json_array_size(json_object_get(json_array_get(logs, 0), "types")), 2);
    json_decref(out);
    pt_fails(c->env, "eks", "UpdateClusterConfig",
             json_pack("{s:s, s:{s:[{s:[s], s:b}]}}", "name", "up", "logging", "clusterLogging",
                       "types", "api", "enabled", 1),
             "InvalidParameterException", "No changes needed for the logging config provided");
    pt_fails(c->env, "eks", "UpdateClusterConfig",
             json_pack("{s:s, s:{s:s}, s:{s:b}}", "name", "up", "accessConfig",
                       "authenticationMode", "API", "resourcesVpcConfig", "endpointPublicAccess",
                       0),
             "InvalidParameterException", "Only one type of update can be allowed.");
    out = pt_ok(c->env, "eks", "UpdateClusterConfig",
                json_pack("{s:s, s:{s:s}}", "name", "up", "accessConfig", "authenticationMode",
                          "API_AND_CONFIG_MAP"));
    assert_string_equal(str(out, "update.type"), "AccessConfigUpdate");
    json_decref(out);
    pt_fails(c->env, "eks", "UpdateClusterConfig",
             json_pack("{s:s, s:{s:s}}", "name", "up", "accessConfig", "authenticationMode",
                       "CONFIG_MAP"),
             "InvalidParameterException",
             "Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP");
    out = pt_ok(c->env, "eks", "UpdateClusterConfig",
                json_pack("{s:s, s:{s:b, s:b}}", "name", "up", "resourcesVpcConfig",
                          "endpointPublicAccess", 0, "endpointPrivateAccess", 1));
    assert_string_equal(str(out, "update.type"), "EndpointAccessUpdate");
    json_decref(out);
    out = pt_ok(c->env, "eks", "ListUpdates", json_pack("{s:s}", "name", "up"));
    assert_int_equal(json_array_size(json_object_get(out, "updateIds")), 3);
    json_decref(out);

    const char *arn = "arn:aws:eks:us-east-1:000000000000:cluster/up";
    json_decref(pt_ok(c->env, "eks", "TagResource",
                      json_pack("{s:s, s:{s:s}}", "resourceArn", arn, "tags", "env", "ci")));
    json_decref(pt_ok(c->env, "eks", "UntagResource",
                      json_pack("{s:s, s:[s]}", "resourceArn", arn, "tagKeys", "team")));
    out = pt_ok(c->env, "eks", "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn));
    assert_string_equal(str(out, "tags.env"), "ci");
    assert_null(str(out, "tags.team"));
    json_decref(out);
    pt_fails(c->env, "eks", "ListTagsForResource",
             json_pack("{s:s}", "resourceArn", "arn:aws:eks:us-east-1:000000000000:cluster/x"),
             "NotFoundException", NULL);
    pt_fails(c->env, "eks", "ListTagsForResource", json_pack("{s:s}", "resourceArn", "x"),
             "BadRequestException", NULL);
    json_decref(pt_ok(c->env, "eks", "DeleteCluster", json_pack("{s:s}", "name", "up")));
}

static void authz_needs(void **state)
{
    struct ctx *c = *state;
    const struct pd_service *svc = pd_service_find("eks");
    struct pd_req *r = pd_req_new(c->env);
    r->db = pd_store_db(c->env->store);
    r->svc = svc;
    r->op = pd_service_op(svc, "CreateCluster");
    r->who.account_id = PT_ACCT;
    snprintf(r->region, sizeof r->region, "eu-west-1");
    r->in = json_pack("{s:s, s:s, s:{s:s}}", "name", "z", "roleArn", ROLE, "tags", "team", "x");
    struct pd_authz_need need;
    memset(&need, 0, sizeof need);
    pd_ctx_init(&need.ctx, &r->arena);
    assert_int_equal(svc->authz(r, &need), PD_OK);
    assert_int_equal(need.n, 2);
    assert_string_equal(need.checks[0].action, "eks:CreateCluster");
    assert_string_equal(need.checks[0].resource, "arn:aws:eks:eu-west-1:000000000000:cluster/z");
    assert_string_equal(need.checks[1].action, "iam:PassRole");
    assert_string_equal(need.checks[1].resource, ROLE);
    assert_string_equal(pd_ctx_get(&need.ctx, "aws:RequestTag/team", 0), "x");
    pd_req_free(r);
}

static void documents(void **state)
{
    struct ctx *c = *state;
    json_t *cl = create(c, "docs");
    const char *issuer = pd_arena_strdup(&c->a, str(cl, "identity.oidc.issuer"));
    json_decref(cl);
    const char *host = issuer + 8;
    const char *id = strrchr(issuer, '/') + 1;

    /* loopback path */
    struct pd_req *r =
        pt_http(c->env, "GET",
                pd_arena_printf(&c->a, "/_podiam/oidc/%s/.well-known/openid-configuration", host),
                "", "host: localhost:4566", NULL);
    assert_int_equal(r->resp.status, 200);
    json_t *d = json_loads(pt_body(r), 0, NULL);
    assert_string_equal(str(d, "issuer"), issuer);
    assert_string_equal(str(d, "jwks_uri"),
                        pd_arena_printf(&c->a, "http://localhost:4566/_podiam/oidc/%s/keys", host));
    json_decref(d);
    pd_req_free(r);

    /* by Host header (any case), with a port */
    r = pt_http(c->env, "GET",
                pd_arena_printf(&c->a, "/id/%s/.well-known/openid-configuration", id), "",
                "host: OIDC.eks.us-east-1.amazonaws.com:4566", NULL);
    assert_int_equal(r->resp.status, 200);
    d = json_loads(pt_body(r), 0, NULL);
    assert_string_equal(str(d, "issuer"), issuer);
    assert_string_equal(str(d, "jwks_uri"),
                        pd_arena_printf(&c->a, "http://127.0.0.1:4566/_podiam/oidc/%s/keys", host));
    json_decref(d);
    pd_req_free(r);

    /* by Host through podiam's proxy: the issuer's own keys URL, as AWS publishes it */
    r = pd_req_new(c->env);
    r->method = "GET";
    r->path = pd_arena_printf(&r->arena, "/id/%s/.well-known/openid-configuration", id);
    r->tls = 1;
    r->proxied = 1;
    snprintf(r->peer_ip, sizeof r->peer_ip, "127.0.0.1");
    pd_kvs_add(&r->arena, &r->hdrs, "host", host, (size_t)(strchr(host, '/') - host), 0);
    assert_int_equal(pd_dispatch_headers(r), PD_OK);
    pd_dispatch(r);
    assert_int_equal(r->resp.status, 200);
    d = json_loads(pt_body(r), 0, NULL);
    assert_string_equal(str(d, "issuer"), issuer);
    assert_string_equal(str(d, "jwks_uri"), pd_arena_printf(&c->a, "%s/keys", issuer));
    json_decref(d);
    pd_req_free(r);

    r = pt_http(c->env, "GET", pd_arena_printf(&c->a, "/id/%s/keys", id), "",
                "host: oidc.eks.us-east-1.amazonaws.com", NULL);
    assert_int_equal(r->resp.status, 200);
    d = json_loads(pt_body(r), 0, NULL);
    json_t *k = json_array_get(json_object_get(d, "keys"), 0);
    assert_int_equal(json_array_size(json_object_get(d, "keys")), 1);
    assert_string_equal(str(k, "kty"), "RSA");
    assert_string_equal(str(k, "alg"), "RS256");
    assert_string_equal(str(k, "use"), "sig");
    /* kid is the RFC 7638 thumbprint of the published key */
    struct pd_key *pub = NULL;
    assert_int_equal(pd_key_from_jwk(k, &pub), PD_OK);
    char kid[PD_KID_LEN + 1];
    assert_int_equal(pd_key_thumbprint(pub, PD_KID_JWK_THUMBPRINT, kid), PD_OK);
    assert_string_equal(str(k, "kid"), kid);
    assert_int_equal(pd_key_bits(pub), 2048);
    pd_key_free(pub);
    json_decref(d);
    pd_req_free(r);

    /* an issuer podiam does not host: not claimed (falls through to other services) */
    r = pt_http(c->env, "GET", "/id/FFFF/keys", "", "host: oidc.eks.us-east-1.amazonaws.com", NULL);
    assert_int_not_equal(r->resp.status, 200);
    pd_req_free(r);
    r = pt_http(c->env, "GET", "/_podiam/oidc/oidc.eks.us-east-1.amazonaws.com/id/FFFF/keys", "",
                NULL, NULL);
    assert_int_equal(r->resp.status, 404);
    pd_req_free(r);
    json_decref(pt_ok(c->env, "eks", "DeleteCluster", json_pack("{s:s}", "name", "docs")));
}

static void hosted_issuers(void **state)
{
    struct ctx *c = *state;
    const char *gh = "https://token.actions.githubusercontent.com";
    struct pd_req *r = pt_http(c->env, "POST", "/_podiam/oidc/issuers", "", NULL,
                               "{\"url\":\"https://token.actions.githubusercontent.com\"}");
    assert_int_equal(r->resp.status, 201);
    pd_req_free(r);
    r = pt_http(c->env, "POST", "/_podiam/oidc/issuers", "", NULL,
                "{\"url\":\"https://token.actions.githubusercontent.com\"}");
    assert_int_equal(r->resp.status, 200); /* idempotent */
    pd_req_free(r);
    const char *bad[] = {"{\"url\":\"http://x.example\"}", "{\"url\":\"https://x.example/\"}",
                         "{\"url\":\"https://x.example:8443/a\"}",
                         "{\"url\":\"https://x.example/a?b=c\"}", "[1]"};
    for (size_t i = 0; i < 5; i++) {
        r = pt_http(c->env, "POST", "/_podiam/oidc/issuers", "", NULL, bad[i]);
        assert_int_equal(r->resp.status, 400);
        pd_req_free(r);
    }
    r = pt_http(c->env, "GET", "/.well-known/openid-configuration", "",
                "host: token.actions.githubusercontent.com", NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    r = pt_http(c->env, "POST", "/_podiam/oidc/token", "", NULL,
                "{\"issuer\":\"https://token.actions.githubusercontent.com\",\"claims\":"
                "{\"sub\":\"repo:o/r:ref:refs/heads/main\",\"exp\":5},\"ttl\":60}");
    assert_int_equal(r->resp.status, 200);
    json_t *resp = json_loads(pt_body(r), 0, NULL);
    const char *tok = json_string_value(json_object_get(resp, "token"));
    struct pd_jwks s;
    pd_jwks_init(&s);
    assert_int_equal(pd_oidc_issuer_jwks(c->env, pd_store_db(c->env->store), &c->a, gh, &s), PD_OK);
    json_t *claims = NULL;
    enum pd_jwt_reason why;
    assert_int_equal(pd_jwt_verify(tok, strlen(tok), &s, -1, &claims, NULL, &why), PD_OK);
    assert_string_equal(str(claims, "iss"), gh);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), 5); /* given: kept */
    assert_int_equal(json_integer_value(json_object_get(claims, "iat")), PT_NOW_MS / 1000);
    json_decref(claims);
    pd_jwks_cleanup(&s);
    json_decref(resp);
    pd_req_free(r);
    r = pt_http(c->env, "POST", "/_podiam/oidc/token", "", NULL,
                "{\"issuer\":\"https://nowhere.example\"}");
    assert_int_equal(r->resp.status, 404);
    pd_req_free(r);
    /* loopback only */
    r = pd_req_new(c->env);
    r->method = "POST";
    r->path = "/_podiam/oidc/rotate";
    snprintf(r->peer_ip, sizeof r->peer_ip, "10.0.0.7");
    assert_int_equal(pd_dispatch_headers(r), PD_OK);
    pd_dispatch(r);
    assert_int_equal(r->resp.status, 403);
    pd_req_free(r);
}

static void fixtures_round_trip(void **state)
{
    struct ctx *c = *state;
    char *path = pd_arena_printf(&c->a, "/tmp/podiam-test-eks-%d.json", (int)getpid());
    struct pd_key *k = NULL;
    assert_int_equal(pd_key_generate(PD_KEY_RSA_2048, &k), PD_OK);
    char *pem = NULL;
    assert_int_equal(pd_key_to_pem(k, 1, &c->a, &pem), PD_OK);
    char kid[PD_KID_LEN + 1];
    pd_key_thumbprint(k, PD_KID_JWK_THUMBPRINT, kid);
    pd_key_free(k);
    json_t *doc =
        json_pack("{s:{s:[{s:s, s:[{s:s, s:s}]}]}, s:{s:[{s:s}]}, s:{s:[{s:s, s:s, s:s, s:s, s:s, "
                  "s:{s:s}}]}}",
                  "iam", "accounts", "id", PT_ACCT, "roles", "name", "eks-cluster", "trust_policy",
                  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                  "{\"Service\":\"eks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}",
                  "oidc", "issuers", "url", "https://issuer.example.com/tenant", "eks", "clusters",
                  "name", "fixed", "role_arn", ROLE, "id", "0123456789ABCDEF0123456789ABCDEF",
                  "issuer_key_pem", pem, "region", "eu-west-1", "tags", "a", "b");
    assert_int_equal(json_dump_file(doc, path, 0), 0);
    json_decref(doc);
    c->env->cfg.fixtures[0] = path;
    c->env->cfg.nfixtures = 1;
    char *err = NULL;
    int rc = pd_fixtures_reset(c->env, pd_store_db(c->env->store), &err);
    if (rc)
        fail_msg("reset: %s", err);
    struct pd_db *db = pd_store_db(c->env->store);
    const char *issuer =
        "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";
    assert_true(pd_oidc_is_hosted(db, issuer));
    assert_true(pd_oidc_is_hosted(db, "https://issuer.example.com/tenant"));
    struct pd_jwks s;
    pd_jwks_init(&s);
    assert_int_equal(pd_oidc_issuer_jwks(c->env, db, &c->a, issuer, &s), PD_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(pd_key_kid(s.keys[0]), kid);
    pd_jwks_cleanup(&s);

    json_t *exported = NULL;
    assert_int_equal(pd_fixtures_export(c->env, db, &exported, &err), PD_OK);
    json_t *fx = json_array_get(json_object_get(json_object_get(exported, "eks"), "clusters"), 0);
    assert_string_equal(str(fx, "id"), "0123456789ABCDEF0123456789ABCDEF");
    assert_string_equal(str(fx, "issuer_key_pem"), pem);
    assert_string_equal(str(fx, "region"), "eu-west-1");
    assert_int_equal(json_array_size(json_object_get(json_object_get(exported, "oidc"), "issuers")),
                     1);
    /* export -> load -> export is stable */
    assert_int_equal(json_dump_file(exported, path, 0), 0);
    rc = pd_fixtures_reset(c->env, db, &err);
    if (rc)
        fail_msg("reset 2: %s", err);
    json_t *again = NULL;
    assert_int_equal(pd_fixtures_export(c->env, db, &again, &err), PD_OK);
    assert_true(json_equal(json_object_get(exported, "eks"), json_object_get(again, "eks")));
    assert_true(json_equal(json_object_get(exported, "oidc"), json_object_get(again, "oidc")));
    json_decref(again);
    json_decref(exported);

    /* errors name the entry */
    doc = json_pack("{s:{s:[{s:s, s:s, s:s}]}}", "eks", "clusters", "name", "bad", "role_arn", ROLE,
                    "id", "lowercase");
    json_dump_file(doc, path, 0);
    json_decref(doc);
    assert_int_not_equal(pd_fixtures_reset(c->env, db, &err), PD_OK);
    assert_non_null(strstr(err, "eks.clusters[0] (bad)"));
    free(err);
    c->env->cfg.nfixtures = 0;
    assert_int_equal(pd_fixtures_reset(c->env, db, &err), PD_OK);
    remove(path);
    /* the roles of setup are gone with the reset: recreate them for other tests */
    json_decref(pt_ok(c->env, "iam", "CreateRole",
                      json_pack("{s:s, s:s}", "RoleName", "eks-cluster", "AssumeRolePolicyDocument",
                                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                                "\"Principal\":{\"Service\":\"eks.amazonaws.com\"},\"Action\":"
                                "\"sts:AssumeRole\"}]}")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lifecycle),      cmocka_unit_test(validation),
        cmocka_unit_test(list_pages),     cmocka_unit_test(updates_and_tags),
        cmocka_unit_test(authz_needs),    cmocka_unit_test(documents),
        cmocka_unit_test(hosted_issuers), cmocka_unit_test(fixtures_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
