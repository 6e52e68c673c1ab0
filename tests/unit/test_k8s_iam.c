/*
 * test_k8s_iam.c - IAM callers of a cluster's Kubernetes API through the whole pipeline
 * (k8s/iam_user.c, k8s/authz_eks.c, the chain in k8s/authz.c, the decision log of k8s/api.c):
 * who a get-token caller is in each authentication mode (the creator, aws-auth lines, access
 * entries, mapAccounts), 401 for callers nothing maps, the walkthrough's scoped developer by
 * aws-auth + RBAC and by an access entry + AmazonEKSEditPolicy (Forbidden texts byte for
 * byte, can-i --list not showing policy grants, impersonation dropping them), system:masters
 * before RBAC, malformed aws-auth entries named in the decision trace.
 */
#include "pipeline_env.h"

#include "auth/decisions.h"
#include "core/arena.h"

#define ACCT PT_ACCT
#define AMZ_NOW "20260101T000000Z"
#define JSON_CT "content-type: application/json"
#define RBAC_API "/apis/rbac.authorization.k8s.io/v1"
#define EDIT "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
#define DEVS_ARN "arn:aws:iam::" ACCT ":role/devs"

static const char *trust_root =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
    "\"arn:aws:iam::000000000000:root\"},\"Action\":\"sts:AssumeRole\"}]}";

struct ctx {
    struct pd_env *env;
    struct pd_arena a;
    const char *base; /* /_podiam/k8s/ID of the cluster under test */
    const char *name; /* its name */
    const char *admin;
};

/* A get-token Authorization header for credentials (session token may be NULL). */
static const char *bearer(struct ctx *c, const char *akid, const char *secret, const char *token,
                          const char *cluster)
{
    struct pd_arena *a = &c->a;
    const char *host = "sts.us-east-1.amazonaws.com";
    struct pd_kvs h = {0};
    pd_kvs_add(a, &h, "host", host, strlen(host), 0);
    pd_kvs_add(a, &h, "x-k8s-aws-id", cluster, strlen(cluster), 0);
    const char *q = "Action=GetCallerIdentity&Version=2011-06-15";
    struct pd_sigv4_request req = {.method = "GET",
                                   .path = "/",
                                   .query = q,
                                   .headers = &h,
                                   .payload_hash = PD_SIGV4_EMPTY_SHA256,
                                   .normalize_path = 1};
    struct pd_sigv4_signer sg = {.akid = akid,
                                 .secret = secret,
                                 .session_token = token,
                                 .region = "us-east-1",
                                 .service = "sts",
                                 .amz_date = AMZ_NOW};
    static const char *const names[] = {"host", "x-k8s-aws-id"};
    char *query = NULL;
    assert_int_equal(pd_sigv4_presign(a, &sg, &req, 60, names, 2, &query, NULL), PD_OK);
    const char *url = pd_arena_printf(a, "https://%s/?%s", host, query);
    return pd_arena_printf(a, "authorization: Bearer k8s-aws-v1.%s",
                           pd_base64_encode(a, url, strlen(url), 1));
}

/* A session of role name as a bearer header: sts:AssumeRole run by IAM user "assumer" (the
 * operation alone, as pt_op runs one: roles may not be assumed by root). */
static const char *role_session(struct ctx *c, const char *role, const char *session)
{
    const struct pd_service *s = pd_service_find("sts");
    struct pd_req *r = pd_req_new(c->env);
    r->db = pd_store_db(c->env->store);
    r->svc = s;
    r->op = pd_service_op(s, "AssumeRole");
    r->who.kind = PD_CALLER_USER;
    r->who.account_id = ACCT;
    r->who.arn = "arn:aws:iam::" ACCT ":user/assumer";
    r->who.name = "assumer";
    r->who.user_id = r->who.unique_id = "AIDAASSUMER000000001";
    r->who.access_key_id = "AKIAASSUMER000000001";
    snprintf(r->region, sizeof r->region, "us-east-1");
    r->in = json_pack("{s:s, s:s}", "RoleArn",
                      pd_arena_printf(&c->a, "arn:aws:iam::" ACCT ":role/%s", role),
                      "RoleSessionName", session);
    assert_int_equal(pd_db_begin(r->db, 1), PD_OK);
    int rc = r->op->fn(r);
    if (rc || r->err.def)
        fail_msg("AssumeRole: %s", r->err.message ? r->err.message : pd_strerror(rc));
    assert_int_equal(pd_db_commit(r->db), PD_OK);
    json_t *out = json_incref(r->out);
    pd_req_free(r);
    json_t *cr = json_object_get(out, "Credentials");
    const char *h = bearer(c, json_string_value(json_object_get(cr, "AccessKeyId")),
                           json_string_value(json_object_get(cr, "SecretAccessKey")),
                           json_string_value(json_object_get(cr, "SessionToken")), c->name);
    json_decref(out);
    return h;
}

static const char *make_cluster(struct ctx *c, const char *name, const char *mode)
{
    json_t *in = json_pack("{s:s, s:s, s:{}}", "name", name, "roleArn",
                           "arn:aws:iam::" ACCT ":role/eks-cluster", "resourcesVpcConfig");
    if (mode)
        json_object_set_new(in, "accessConfig", json_pack("{s:s}", "authenticationMode", mode));
    json_t *out = pt_ok(c->env, "eks", "CreateCluster", in);
    const char *endpoint =
        json_string_value(json_object_get(json_object_get(out, "cluster"), "endpoint"));
    c->base = pd_arena_strdup(&c->a, strstr(endpoint, "/_podiam/k8s/"));
    c->name = pd_arena_strdup(&c->a, name);
    c->admin = bearer(c, "test", "test", NULL, name);
    json_decref(out);
    return c->base;
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
    const char *roles[] = {"devs", "node", "ops"};
    for (size_t i = 0; i < 3; i++)
        json_decref(pt_ok(
            c->env, "iam", "CreateRole",
            json_pack("{s:s, s:s}", "RoleName", roles[i], "AssumeRolePolicyDocument", trust_root)));
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

struct resp {
    int status;
    json_t *body;
    json_t *decision; /* the decision-log entry of the request */
};

static struct resp call(struct ctx *c, const char *auth, const char *method, const char *path,
                        const char *headers, const char *body)
{
    const char *h = auth;
    if (headers)
        h = auth ? pd_arena_printf(&c->a, "%s\n%s", auth, headers) : headers;
    if (body)
        h = h ? pd_arena_printf(&c->a, "%s\n" JSON_CT, h) : JSON_CT;
    const char *full = pd_arena_printf(&c->a, "%s%s", c->base, path);
    const char *q = strchr(full, '?');
    const char *p = q ? pd_arena_strndup(&c->a, full, (size_t)(q - full)) : full;
    struct pd_req *r = pt_http(c->env, method, p, q ? q + 1 : NULL, h, body);
    struct resp out = {r->resp.status, NULL, NULL};
    if (r->resp.body.len)
        out.body = json_loadb(r->resp.body.p, r->resp.body.len, 0, NULL);
    const char *id = pd_kvs_get(&r->resp.hdrs, "x-podiam-decision-id", 1);
    if (id)
        out.decision = pd_decisions_get(c->env->decisions, id);
    pd_req_free(r);
    return out;
}

static void resp_free(struct resp *r)
{
    json_decref(r->body);
    json_decref(r->decision);
}

static const char *jstr(json_t *v, const char *path)
{
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

static int has_text(const json_t *v, const char *needle)
{
    char *s = json_dumps(v, JSON_COMPACT);
    int found = s && strstr(s, needle) != NULL;
    free(s);
    return found;
}

/* Expect status; for 401/403, the Status's exact message (unless NULL). */
static void expect(struct ctx *c, const char *auth, const char *method, const char *path,
                   const char *headers, const char *body, int status, const char *message)
{
    struct resp r = call(c, auth, method, path, headers, body);
    if (r.status != status)
        fail_msg("%s %s: %d, want %d: %s", method, path, r.status, status,
                 r.body ? json_dumps(r.body, JSON_COMPACT) : "");
    if (message)
        assert_string_equal(jstr(r.body, "message"), message);
    resp_free(&r);
}

static void admin_ok(struct ctx *c, const char *method, const char *path, const char *body)
{
    struct resp r = call(c, c->admin, method, path, NULL, body);
    if (r.status >= 300)
        fail_msg("%s %s: %d: %s", method, path, r.status,
                 r.body ? json_dumps(r.body, JSON_COMPACT) : "");
    resp_free(&r);
}

static void put_aws_auth(struct ctx *c, const char *map_roles, const char *map_users,
                         const char *map_accounts)
{
    json_t *data = json_object();
    if (map_roles)
        json_object_set_new(data, "mapRoles", json_string(map_roles));
    if (map_users)
        json_object_set_new(data, "mapUsers", json_string(map_users));
    if (map_accounts)
        json_object_set_new(data, "mapAccounts", json_string(map_accounts));
    json_t *cm =
        json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "v1", "kind", "ConfigMap",
                  "metadata", "name", "aws-auth", "namespace", "kube-system", "data", data);
    char *body = json_dumps(cm, JSON_COMPACT);
    struct resp r =
        call(c, c->admin, "PUT", "/api/v1/namespaces/kube-system/configmaps/aws-auth", NULL, body);
    if (r.status == 404) {
        resp_free(&r);
        r = call(c, c->admin, "POST", "/api/v1/namespaces/kube-system/configmaps", NULL, body);
    }
    if (r.status >= 300)
        fail_msg("aws-auth: %d %s", r.status, r.body ? json_dumps(r.body, JSON_COMPACT) : "");
    resp_free(&r);
    free(body);
    json_decref(cm);
}

#define WALKTHROUGH_ROLE                                                                           \
    "{\"metadata\":{\"name\":\"pod-manager\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":"     \
    "[\"pods\"],\"verbs\":[\"get\",\"list\",\"watch\",\"create\",\"update\",\"delete\"]}]}"
#define WALKTHROUGH_BINDING                                                                        \
    "{\"metadata\":{\"name\":\"devs-pod-manager\"},\"subjects\":[{\"kind\":\"Group\",\"name\":"    \
    "\"pulumi:devs\",\"apiGroup\":\"rbac.authorization.k8s.io\"}],\"roleRef\":{\"kind\":"          \
    "\"Role\",\"name\":\"pod-manager\",\"apiGroup\":\"rbac.authorization.k8s.io\"}}"
#define POD                                                                                        \
    "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":"     \
    "\"nginx\"}]}}"
#define SSAR(ns, verb)                                                                             \
    "{\"spec\":{\"resourceAttributes\":{\"namespace\":\"" ns "\",\"verb\":\"" verb                 \
    "\",\"resource\":\"pods\"}}}"
#define ALICE_FORBIDDEN(verb, where)                                                               \
    "pods is forbidden: User \"pulumi:alice\" cannot " verb                                        \
    " resource \"pods\" in API group \"\" " where

/* ---- aws-auth (CONFIG_MAP) ---- */

static void scoped_developer_by_aws_auth(void **state)
{
    struct ctx *c = *state;
    make_cluster(c, "cm", NULL);
    const char *alice = role_session(c, "devs", "alice@example.com");
    /* nothing maps the role yet: 401 */
    expect(c, alice, "GET", "/api/v1/namespaces/apps/pods", NULL, NULL, 401, "Unauthorized");
    /* the walkthrough's mapping, after entries EKS ignores (line numbers are the key's) */
    put_aws_auth(c,
                 "- rolearn: arn:aws:iam::000000000000:role/node\n"
                 "  username: {{SessionName}}\n"
                 "- rolearn: arn:aws:iam::000000000000:role/ops\n"
                 "- rolearn: arn:aws:iam::000000000000:role/devs\n"
                 "  username: pulumi:alice\n"
                 "  groups:\n"
                 "    - pulumi:devs\n",
                 "- userarn: [oops\n", NULL);
    struct resp r =
        call(c, alice, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, "{}");
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(r.body, "status.userInfo.username"), "pulumi:alice");
    assert_string_equal(jstr(r.body, "status.userInfo.groups.0"), "pulumi:devs");
    assert_string_equal(jstr(r.body, "status.userInfo.groups.1"), "system:authenticated");
    assert_null(jstr(r.body, "status.userInfo.groups.2"));
    assert_string_equal(jstr(r.body, "status.userInfo.extra.canonicalArn.0"), DEVS_ARN);
    assert_string_equal(jstr(r.body, "status.userInfo.extra.sessionName.0"), "alice@example.com");
    assert_string_equal(jstr(r.body, "status.userInfo.extra.arn.0"),
                        "arn:aws:sts::" ACCT ":assumed-role/devs/alice@example.com");
    const char *pid = jstr(r.body, "status.userInfo.extra.principalId.0");
    assert_non_null(pid);
    assert_true(strncmp(pid, "AROA", 4) == 0);
    assert_string_equal(jstr(r.body, "status.userInfo.uid"),
                        pd_arena_printf(&c->a, "aws-iam-authenticator:" ACCT ":%s", pid));
    json_t *extra =
        json_object_get(json_object_get(json_object_get(r.body, "status"), "userInfo"), "extra");
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(extra, "sigs.k8s.io/aws-iam-authenticator/principalId"), 0)),
        pid);
    assert_non_null(json_string_value(json_array_get(json_object_get(extra, "accessKeyId"), 0)));
    /* the decision log names the line, and the lines EKS ignored with the reason */
    assert_string_equal(jstr(r.decision, "user.mapping.by"), "aws-auth mapRoles");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(r.decision, "user"), "mapping"), "line")),
                     4);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(r.decision, "user"), "mapping"), "entry")),
                     3);
    assert_true(has_text(r.decision, "aws-auth mapRoles entry 1 (line 2) ignored: username is a "
                                     "mapping"));
    assert_true(has_text(r.decision, "aws-auth mapRoles entry 2 (line 3) ignored: no username"));
    assert_true(has_text(r.decision, "aws-auth mapUsers ignored: YAML error"));
    resp_free(&r);

    /* no RBAC yet: Forbidden everywhere, with kube-apiserver's text (nothing appended) */
    expect(c, alice, "GET", "/api/v1/namespaces/apps/pods", NULL, NULL, 403,
           ALICE_FORBIDDEN("list", "in the namespace \"apps\""));
    admin_ok(c, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"apps\"}}");
    admin_ok(c, "POST", RBAC_API "/namespaces/apps/roles", WALKTHROUGH_ROLE);
    admin_ok(c, "POST", RBAC_API "/namespaces/apps/rolebindings", WALKTHROUGH_BINDING);
    /* manages pods in apps */
    expect(c, alice, "GET", "/api/v1/namespaces/apps/pods", NULL, NULL, 200, NULL);
    expect(c, alice, "POST", "/api/v1/namespaces/apps/pods", NULL, POD, 201, NULL);
    expect(c, alice, "DELETE", "/api/v1/namespaces/apps/pods/web", NULL, NULL, 200, NULL);
    /* Forbidden in default and cluster-wide */
    expect(c, alice, "GET", "/api/v1/namespaces/default/pods", NULL, NULL, 403,
           ALICE_FORBIDDEN("list", "in the namespace \"default\""));
    expect(c, alice, "GET", "/api/v1/pods", NULL, NULL, 403,
           ALICE_FORBIDDEN("list", "at the cluster scope"));
    expect(c, alice, "GET", "/api/v1/namespaces", NULL, NULL, 403,
           "namespaces is forbidden: User \"pulumi:alice\" cannot list resource \"namespaces\" "
           "in API group \"\" at the cluster scope");
    /* why: RBAC's binding (the EKS member has nothing for aws-auth users) */
    r = call(c, alice, "GET", "/api/v1/namespaces/apps/pods", NULL, NULL);
    assert_string_equal(jstr(r.decision, "checks.0.decided_by"), "rbac");
    assert_string_equal(jstr(r.decision, "checks.0.reason"),
                        "RBAC: allowed by RoleBinding \"devs-pod-manager/apps\" of Role "
                        "\"pod-manager\" to Group \"pulumi:devs\"");
    assert_non_null(strstr(jstr(r.decision, "checks.0.authorizers.1.trace.reason"),
                           "mapped by aws-auth mapRoles, not by an access entry"));
    resp_free(&r);
    /* can-i --list shows the rule; incomplete as on EKS */
    r = call(c, alice, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", NULL,
             "{\"spec\":{\"namespace\":\"apps\"}}");
    assert_int_equal(r.status, 201);
    assert_true(has_text(r.body, "{\"verbs\":[\"get\",\"list\",\"watch\",\"create\",\"update\","
                                 "\"delete\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}"));
    assert_true(json_is_true(json_object_get(json_object_get(r.body, "status"), "incomplete")));
    resp_free(&r);

    /* the entry for the ops role had no username: still unmapped; the node role's username
     * was an unquoted template: unmapped too */
    expect(c, role_session(c, "ops", "s"), "GET", "/api/v1", NULL, NULL, 401, "Unauthorized");
    expect(c, role_session(c, "node", "s"), "GET", "/api/v1", NULL, NULL, 401, "Unauthorized");
    /* mapAccounts: every principal of the account, under its canonical ARN, no groups */
    put_aws_auth(c, NULL, NULL, "- \"000000000000\"\n");
    r = call(c, role_session(c, "ops", "s"), "POST",
             "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, "{}");
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(r.body, "status.userInfo.username"), "arn:aws:iam::" ACCT ":role/ops");
    assert_string_equal(jstr(r.body, "status.userInfo.groups.0"), "system:authenticated");
    assert_string_equal(jstr(r.decision, "user.mapping.by"), "aws-auth mapAccounts");
    resp_free(&r);
    /* the ConfigMap changed: alice's line is gone, she is mapped by the account now */
    r = call(c, alice, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, "{}");
    assert_string_equal(jstr(r.body, "status.userInfo.username"), DEVS_ARN);
    resp_free(&r);
}

/* ---- access entries (API_AND_CONFIG_MAP, API) ---- */

static void scoped_developer_by_access_entry(void **state)
{
    struct ctx *c = *state;
    make_cluster(c, "ae", "API_AND_CONFIG_MAP");
    json_decref(
        pt_ok(c->env, "eks", "CreateAccessEntry",
              json_pack("{s:s, s:s, s:s, s:[s]}", "clusterName", "ae", "principalArn", DEVS_ARN,
                        "username", "pulumi:alice", "kubernetesGroups", "pulumi:devs")));
    json_decref(pt_ok(c->env, "eks", "AssociateAccessPolicy",
                      json_pack("{s:s, s:s, s:s, s:{s:s, s:[s]}}", "clusterName", "ae",
                                "principalArn", DEVS_ARN, "policyArn", EDIT, "accessScope", "type",
                                "namespace", "namespaces", "apps")));
    /* aws-auth maps the same role otherwise: the access entry wins */
    put_aws_auth(
        c,
        "- rolearn: arn:aws:iam::000000000000:role/devs\n  username: not-alice\n"
        "- rolearn: arn:aws:iam::000000000000:role/node\n  username: node-{{SessionName}}\n"
        "  groups: [nodes]\n",
        NULL, NULL);
    admin_ok(c, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"apps\"}}");
    const char *alice = role_session(c, "devs", "alice");
    struct resp r =
        call(c, alice, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, "{}");
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(r.body, "status.userInfo.username"), "pulumi:alice");
    assert_string_equal(jstr(r.body, "status.userInfo.groups.0"), "pulumi:devs");
    assert_string_equal(jstr(r.decision, "user.mapping.by"), "access entry");
    assert_string_equal(jstr(r.decision, "user.mapping.principal_arn"), DEVS_ARN);
    assert_string_equal(jstr(r.decision, "user.mapping.access_policies.0.policy"), EDIT);
    assert_string_equal(jstr(r.decision, "user.mapping.access_policies.0.namespaces.0"), "apps");
    assert_non_null(strstr(jstr(r.decision, "user.mapping.access_entry"), ":access-entry/ae/"));
    resp_free(&r);

    /* no RBAC objects: the policy lets alice manage pods in apps */
    r = call(c, alice, "GET", "/api/v1/namespaces/apps/pods", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.decision, "checks.0.decided_by"), "eks");
    assert_string_equal(jstr(r.decision, "checks.0.authorizers.1.trace.policy"), EDIT);
    assert_string_equal(jstr(r.decision, "checks.0.authorizers.1.trace.scope"),
                        "namespace scope: apps");
    assert_non_null(strstr(jstr(r.decision, "checks.0.authorizers.1.trace.rule_text"), "pods"));
    assert_null(jstr(r.decision, "checks.0.reason")); /* EKS gives clients no reason */
    resp_free(&r);
    expect(c, alice, "POST", "/api/v1/namespaces/apps/pods", NULL, POD, 201, NULL);
    expect(c, alice, "DELETE", "/api/v1/namespaces/apps/pods/web", NULL, NULL, 200, NULL);
    /* Forbidden elsewhere, kube's text unchanged by the EKS member */
    r = call(c, alice, "GET", "/api/v1/namespaces/default/pods", NULL, NULL);
    assert_int_equal(r.status, 403);
    assert_string_equal(jstr(r.body, "message"),
                        ALICE_FORBIDDEN("list", "in the namespace \"default\""));
    assert_non_null(strstr(jstr(r.decision, "checks.0.authorizers.1.trace.reason"),
                           "AmazonEKSEditPolicy (namespace scope: apps): does not cover namespace "
                           "\"default\""));
    resp_free(&r);
    expect(c, alice, "GET", "/api/v1/pods", NULL, NULL, 403,
           ALICE_FORBIDDEN("list", "at the cluster scope"));
    /* can-i: yes in apps (no reason, as EKS), no in default */
    r = call(c, alice, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL,
             SSAR("apps", "create"));
    assert_true(json_is_true(json_object_get(json_object_get(r.body, "status"), "allowed")));
    assert_null(jstr(r.body, "status.reason"));
    resp_free(&r);
    r = call(c, alice, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL,
             SSAR("default", "list"));
    assert_true(json_is_false(json_object_get(json_object_get(r.body, "status"), "allowed")));
    resp_free(&r);
    /* can-i --list does not show policy grants; it says the list may be incomplete */
    r = call(c, alice, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", NULL,
             "{\"spec\":{\"namespace\":\"apps\"}}");
    assert_int_equal(r.status, 201);
    assert_false(has_text(r.body, "\"pods\""));
    assert_true(json_is_true(json_object_get(json_object_get(r.body, "status"), "incomplete")));
    assert_string_equal(jstr(r.body, "status.evaluationError"),
                        "webhook authorizer does not support user rule resolution");
    resp_free(&r);
    /* --as drops policy grants: the admin as alice (no RBAC) may not list pods in apps */
    expect(c, c->admin, "GET", "/api/v1/namespaces/apps/pods",
           "impersonate-user: pulumi:alice\nimpersonate-group: pulumi:devs", NULL, 403,
           ALICE_FORBIDDEN("list", "in the namespace \"apps\""));
    /* alice's own impersonation is authorized by her policy (edit: impersonate service
     * accounts in apps), and the service account then has nothing */
    expect(c, alice, "GET", "/api/v1/namespaces/apps/pods",
           "impersonate-user: system:serviceaccount:apps:default", NULL, 403,
           "pods is forbidden: User \"system:serviceaccount:apps:default\" cannot list resource "
           "\"pods\" in API group \"\" in the namespace \"apps\"");
    expect(c, alice, "GET", "/api/v1/namespaces/default/pods",
           "impersonate-user: system:serviceaccount:default:default", NULL, 403,
           "serviceaccounts \"default\" is forbidden: User \"pulumi:alice\" cannot impersonate "
           "resource \"serviceaccounts\" in API group \"\" in the namespace \"default\"");

    /* aws-auth still maps what no entry does, in API_AND_CONFIG_MAP */
    const char *node = role_session(c, "node", "i-0abc");
    r = call(c, node, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, "{}");
    assert_int_equal(r.status, 201);
    assert_string_equal(jstr(r.body, "status.userInfo.username"), "node-i-0abc");
    resp_free(&r);
    /* API mode: entries only */
    json_decref(pt_ok(
        c->env, "eks", "UpdateClusterConfig",
        json_pack("{s:s, s:{s:s}}", "name", "ae", "accessConfig", "authenticationMode", "API")));
    r = call(c, node, "GET", "/api/v1", NULL, NULL);
    assert_int_equal(r.status, 401);
    assert_string_equal(jstr(r.decision, "decision"), "unauthenticated");
    assert_non_null(strstr(jstr(r.decision, "authentication.reason"),
                           "in API mode the aws-auth ConfigMap is not read"));
    resp_free(&r);
    expect(c, alice, "GET", "/api/v1/namespaces/apps/pods", NULL, NULL, 200, NULL);
    /* the creator's own entry (AmazonEKSClusterAdminPolicy at cluster scope) */
    r = call(c, c->admin, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", NULL, "{}");
    assert_string_equal(jstr(r.body, "status.userInfo.username"), "arn:aws:iam::" ACCT ":root");
    assert_string_equal(jstr(r.body, "status.userInfo.groups.0"), "system:authenticated");
    assert_string_equal(jstr(r.decision, "user.mapping.by"), "access entry");
    resp_free(&r);
    r = call(c, c->admin, "GET", "/api/v1/namespaces", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.decision, "checks.0.decided_by"), "eks");
    resp_free(&r);
    /* deleting it is the end of the creator's access */
    json_decref(pt_ok(c->env, "eks", "DeleteAccessEntry",
                      json_pack("{s:s, s:s}", "clusterName", "ae", "principalArn",
                                "arn:aws:iam::" ACCT ":root")));
    expect(c, c->admin, "GET", "/api/v1/namespaces", NULL, NULL, 401, "Unauthorized");
}

/* ---- system:masters ---- */

static void masters_before_rbac(void **state)
{
    struct ctx *c = *state;
    make_cluster(c, "sm", NULL);
    admin_ok(c, "DELETE", RBAC_API "/clusterrolebindings/cluster-admin", NULL);
    /* the creator (kubernetes-admin in system:masters) is not locked out */
    struct resp r = call(c, c->admin, "GET", "/api/v1/namespaces", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(jstr(r.decision, "checks.0.decided_by"), "system:masters");
    resp_free(&r);
    r = call(c, c->admin, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL,
             SSAR("default", "delete"));
    assert_true(json_is_true(json_object_get(json_object_get(r.body, "status"), "allowed")));
    assert_null(jstr(r.body, "status.reason")); /* the privileged-group authorizer gives none */
    resp_free(&r);
    /* can-i --list only lists RBAC's rules: with the binding gone, no "*" */
    r = call(c, c->admin, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", NULL,
             "{\"spec\":{\"namespace\":\"default\"}}");
    assert_false(has_text(r.body, "\"resources\":[\"*\"]"));
    resp_free(&r);
    /* a binding can be made again, by a member of system:masters */
    admin_ok(c, "POST", RBAC_API "/clusterrolebindings",
             "{\"metadata\":{\"name\":\"cluster-admin\"},\"subjects\":[{\"kind\":\"Group\","
             "\"name\":\"system:masters\"}],\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":"
             "\"cluster-admin\"}}");
    /* impersonating the group is authorized like any other, then allowed everything */
    put_aws_auth(c, "- rolearn: arn:aws:iam::000000000000:role/ops\n  username: ops\n", NULL, NULL);
    expect(c, role_session(c, "ops", "s"), "GET", "/api/v1/namespaces",
           "impersonate-user: x\nimpersonate-group: system:masters", NULL, 403,
           "users \"x\" is forbidden: User \"ops\" cannot impersonate resource \"users\" in API "
           "group \"\" at the cluster scope");
    expect(c, c->admin, "GET", "/api/v1/namespaces",
           "impersonate-user: x\nimpersonate-group: system:masters", NULL, 200, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(scoped_developer_by_aws_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(scoped_developer_by_access_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(masters_before_rbac, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
