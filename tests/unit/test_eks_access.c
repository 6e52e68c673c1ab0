/* test_eks_access.c - EKS access entries and access policies (services/eks_access.c) and the
 * authentication modes around them (services/eks.c): errors as EKS sends them, the creator's
 * bootstrap entry, pages, tags, the IAM authorization of each operation (what the authz hook
 * asks, and enforcement through the whole pipeline), what the Kubernetes side reads
 * (pd_eks_access_entries) and the fixtures round trip. */
#include "pipeline_env.h"

#include <unistd.h>

#include "core/arena.h"
#include "k8s/access.h"
#include "k8s/k8s.h"
#include "services/eks.h"
#include "store/eks_db.h"

#define ROLE "arn:aws:iam::000000000000:role/eks-cluster"
#define DEVS "arn:aws:iam::000000000000:role/team/devs"
#define NODE "arn:aws:iam::000000000000:role/node"
#define USER "arn:aws:iam::000000000000:user/ops/bob"
#define ROOT "arn:aws:iam::000000000000:root"
#define POLICY(n) "arn:aws:eks::aws:cluster-access-policy/" n
#define MSG_MODE                                                                                   \
    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to "        \
    "perform this operation."
#define MSG_NO_ENTRY                                                                               \
    "The specified principalArn could not be found. You can view your available access "           \
    "entries with 'list-access-entries'."

static const char *trust_eks =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
    "\"eks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
static const char *trust_root =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
    "\"arn:aws:iam::000000000000:root\"},\"Action\":\"sts:AssumeRole\"}]}";

struct ctx {
    struct pd_env *env;
    struct pd_arena a;
};

static void iam_setup(struct pd_env *env)
{
    json_decref(pt_ok(
        env, "iam", "CreateRole",
        json_pack("{s:s, s:s}", "RoleName", "eks-cluster", "AssumeRolePolicyDocument", trust_eks)));
    json_decref(pt_ok(env, "iam", "CreateRole",
                      json_pack("{s:s, s:s, s:s}", "RoleName", "devs", "Path", "/team/",
                                "AssumeRolePolicyDocument", trust_root)));
    json_decref(
        pt_ok(env, "iam", "CreateRole",
              json_pack("{s:s, s:s}", "RoleName", "node", "AssumeRolePolicyDocument", trust_root)));
    json_decref(pt_ok(env, "iam", "CreateUser",
                      json_pack("{s:s, s:s}", "UserName", "bob", "Path", "/ops/")));
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    pd_arena_init(&c->a);
    c->env = pt_env_new();
    iam_setup(c->env);
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

/* A cluster in mode (NULL: the API's default), bootstrap -1: not given. */
static void cluster(struct ctx *c, const char *name, const char *mode, int bootstrap)
{
    json_t *in = json_pack("{s:s, s:s, s:{}}", "name", name, "roleArn", ROLE, "resourcesVpcConfig");
    if (mode || bootstrap >= 0) {
        json_t *ac = json_object();
        if (mode)
            json_object_set_new(ac, "authenticationMode", json_string(mode));
        if (bootstrap >= 0)
            json_object_set_new(ac, "bootstrapClusterCreatorAdminPermissions",
                                json_boolean(bootstrap));
        json_object_set_new(in, "accessConfig", ac);
    }
    json_decref(pt_ok(c->env, "eks", "CreateCluster", in));
}

static void drop(struct ctx *c, const char *name)
{
    json_decref(pt_ok(c->env, "eks", "DeleteCluster", json_pack("{s:s}", "name", name)));
}

static json_t *entry_in(const char *cluster_name, const char *principal)
{
    return json_pack("{s:s, s:s}", "clusterName", cluster_name, "principalArn", principal);
}

static json_t *entries(struct ctx *c, const char *cluster_name)
{
    json_t *out =
        pt_ok(c->env, "eks", "ListAccessEntries", json_pack("{s:s}", "clusterName", cluster_name));
    json_t *list = json_incref(json_object_get(out, "accessEntries"));
    json_decref(out);
    return list;
}

static void modes(void **state)
{
    struct ctx *c = *state;
    cluster(c, "cm", NULL, -1);
    json_t *out = pt_ok(c->env, "eks", "DescribeCluster", json_pack("{s:s}", "name", "cm"));
    assert_string_equal(str(out, "cluster.accessConfig.authenticationMode"), "CONFIG_MAP");
    assert_true(json_is_true(
        json_object_get(json_object_get(json_object_get(out, "cluster"), "accessConfig"),
                        "bootstrapClusterCreatorAdminPermissions")));
    json_decref(out);
    /* every access entry operation is refused in CONFIG_MAP mode */
    const char *ops[] = {"CreateAccessEntry",           "DescribeAccessEntry",
                         "UpdateAccessEntry",           "DeleteAccessEntry",
                         "AssociateAccessPolicy",       "DisassociateAccessPolicy",
                         "ListAssociatedAccessPolicies"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        json_t *in = entry_in("cm", DEVS);
        json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSViewPolicy")));
        json_object_set_new(in, "accessScope", json_pack("{s:s}", "type", "cluster"));
        pt_fails(c->env, "eks", ops[i], in, "InvalidRequestException", MSG_MODE);
    }
    pt_fails(c->env, "eks", "ListAccessEntries", json_pack("{s:s}", "clusterName", "cm"),
             "InvalidRequestException", MSG_MODE);
    /* the cluster must exist first */
    pt_fails(c->env, "eks", "ListAccessEntries", json_pack("{s:s}", "clusterName", "nope"),
             "ResourceNotFoundException", "No cluster found for name: nope.");
    /* CONFIG_MAP needs the creator's admin */
    pt_fails(c->env, "eks", "CreateCluster",
             json_pack("{s:s, s:s, s:{}, s:{s:b}}", "name", "x", "roleArn", ROLE,
                       "resourcesVpcConfig", "accessConfig",
                       "bootstrapClusterCreatorAdminPermissions", 0),
             "InvalidParameterException",
             "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication "
             "mode is set to CONFIG_MAP");
    /* one step at a time, never back */
    const char *steps[][3] = {
        {"CONFIG_MAP", "API", "Unsupported authentication mode update from CONFIG_MAP to API"},
        {"CONFIG_MAP", "CONFIG_MAP",
         "Unsupported authentication mode update from CONFIG_MAP to CONFIG_MAP"},
    };
    for (size_t i = 0; i < 2; i++)
        pt_fails(c->env, "eks", "UpdateClusterConfig",
                 json_pack("{s:s, s:{s:s}}", "name", "cm", "accessConfig", "authenticationMode",
                           steps[i][1]),
                 "InvalidParameterException", steps[i][2]);
    out = pt_ok(c->env, "eks", "UpdateClusterConfig",
                json_pack("{s:s, s:{s:s}}", "name", "cm", "accessConfig", "authenticationMode",
                          "API_AND_CONFIG_MAP"));
    json_t *param = json_array_get(json_object_get(json_object_get(out, "update"), "params"), 0);
    assert_string_equal(str(param, "type"), "AuthenticationMode");
    assert_string_equal(str(param, "value"), "\"API_AND_CONFIG_MAP\"");
    json_decref(out);
    /* leaving CONFIG_MAP made the creator's entry, with the cluster admin policy */
    json_t *list = entries(c, "cm");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_array_get(list, 0)), ROOT);
    json_decref(list);
    out = pt_ok(c->env, "eks", "ListAssociatedAccessPolicies", entry_in("cm", ROOT));
    json_t *a = json_array_get(json_object_get(out, "associatedAccessPolicies"), 0);
    assert_string_equal(str(a, "policyArn"), POLICY("AmazonEKSClusterAdminPolicy"));
    assert_string_equal(str(a, "accessScope.type"), "cluster");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(a, "accessScope"), "namespaces")), 0);
    json_decref(out);
    pt_fails(c->env, "eks", "UpdateClusterConfig",
             json_pack("{s:s, s:{s:s}}", "name", "cm", "accessConfig", "authenticationMode",
                       "CONFIG_MAP"),
             "InvalidParameterException",
             "Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP");
    json_decref(pt_ok(
        c->env, "eks", "UpdateClusterConfig",
        json_pack("{s:s, s:{s:s}}", "name", "cm", "accessConfig", "authenticationMode", "API")));
    pt_fails(c->env, "eks", "UpdateClusterConfig",
             json_pack("{s:s, s:{s:s}}", "name", "cm", "accessConfig", "authenticationMode",
                       "API_AND_CONFIG_MAP"),
             "InvalidParameterException",
             "Unsupported authentication mode update from API to API_AND_CONFIG_MAP");
    list = entries(c, "cm");
    assert_int_equal(json_array_size(list), 1); /* no second creator entry */
    json_decref(list);
    drop(c, "cm");

    /* made in API mode: the creator's entry at once; bootstrap off: none */
    cluster(c, "api", "API", -1);
    list = entries(c, "api");
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    cluster(c, "bare", "API_AND_CONFIG_MAP", 0);
    list = entries(c, "bare");
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    out = pt_ok(c->env, "eks", "DescribeCluster", json_pack("{s:s}", "name", "bare"));
    assert_true(json_is_false(
        json_object_get(json_object_get(json_object_get(out, "cluster"), "accessConfig"),
                        "bootstrapClusterCreatorAdminPermissions")));
    json_decref(out);
    /* the creator's entry is an ordinary one: it can be deleted */
    json_decref(pt_ok(c->env, "eks", "DeleteAccessEntry", entry_in("api", ROOT)));
    list = entries(c, "api");
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    drop(c, "api");
    drop(c, "bare");
}

static void create_rules(void **state)
{
    struct ctx *c = *state;
    cluster(c, "c", "API_AND_CONFIG_MAP", 0);
    struct {
        const char *principal, *type, *username;
        const char *group;
        const char *code, *msg;
    } bad[] = {
        {DEVS, "NODE", NULL, NULL, "InvalidParameterException",
         "The specified type is invalid: NODE is not one of [STANDARD, EC2_LINUX, EC2_WINDOWS, "
         "FARGATE_LINUX, HYBRID_LINUX, EC2, HYPERPOD_LINUX]"},
        {"arn:aws:sts::000000000000:assumed-role/devs/s", NULL, NULL, NULL,
         "InvalidParameterException", "The specified principalArn is invalid: invalid principal."},
        {"arn:aws:iam::000000000000:group/admins", NULL, NULL, NULL, "InvalidParameterException",
         "The specified principalArn is invalid: invalid principal."},
        {"not-an-arn", NULL, NULL, NULL, "InvalidParameterException",
         "The specified principalArn is invalid: invalid principal."},
        {"arn:aws:iam::000000000000:role/ghost", NULL, NULL, NULL, "InvalidParameterException",
         "The specified principalArn is invalid: invalid principal."},
        {"arn:aws:iam::000000000000:role/devs", NULL, NULL, NULL, "InvalidParameterException",
         "The specified principalArn is invalid: invalid principal."}, /* path missing */
        {"arn:aws:iam::999999999999:root", NULL, NULL, NULL, "InvalidParameterException",
         "The specified principalArn is invalid: invalid principal."}, /* no such account */
        {"arn:aws:iam::000000000000:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForEKS",
         NULL, NULL, NULL, "InvalidParameterException",
         "The caller is not allowed to modify access entries with a principalArn value of a "
         "Service Linked Role"},
        {USER, "EC2_LINUX", NULL, NULL, "InvalidParameterException",
         "AccessEntry principalArn must be IAM role when using types [EC2_LINUX, EC2_WINDOWS, "
         "FARGATE_LINUX, HYBRID_LINUX, EC2]"},
        {"arn:aws:iam::123456789012:role/node", "FARGATE_LINUX", NULL, NULL,
         "InvalidParameterException",
         "AccessEntry principalArn must be from the same account as the cluster when using types "
         "[EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, EC2]"},
        {NODE, "EC2_LINUX", "me", NULL, "InvalidParameterException",
         "The specified username is invalid: setting username is not allowed when the type is "
         "\"EC2_LINUX\""},
        {NODE, "EC2_WINDOWS", NULL, "g", "InvalidParameterException",
         "The specified kubernetesGroups is invalid: setting kubernetesGroups is not allowed when "
         "the type is \"EC2_WINDOWS\""},
        {DEVS, NULL, "system:admin", NULL, "InvalidParameterException",
         "The username must not begin with system:"},
        {DEVS, NULL, "eks:x", NULL, "InvalidParameterException",
         "The username must not begin with eks:"},
        {DEVS, NULL, "amazon:x", NULL, "InvalidParameterException",
         "The username must not begin with amazon:"},
        {DEVS, NULL, "dev-{{SessionName}}", NULL, "InvalidParameterException",
         "The specified username is invalid: a username with {{SessionName}} needs a colon (:) "
         "before it"},
        {DEVS, NULL, NULL, "system:masters", "InvalidParameterException",
         "The kubernetes group name system:masters is invalid, it cannot start with system:"},
        {DEVS, NULL, NULL, "iam:x", "InvalidParameterException",
         "The kubernetes group name iam:x is invalid, it cannot start with iam:"},
        {DEVS, NULL, NULL, "", "InvalidParameterException",
         "The specified kubernetesGroups is invalid: a group name is empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *in = entry_in("c", bad[i].principal);
        if (bad[i].type)
            json_object_set_new(in, "type", json_string(bad[i].type));
        if (bad[i].username)
            json_object_set_new(in, "username", json_string(bad[i].username));
        if (bad[i].group)
            json_object_set_new(in, "kubernetesGroups", json_pack("[s]", bad[i].group));
        pt_fails(c->env, "eks", "CreateAccessEntry", in, bad[i].code, bad[i].msg);
    }
    /* static checks come before the cluster lookup, as EKS makes them */
    json_t *in = entry_in("nope", DEVS);
    json_object_set_new(in, "username", json_string("system:x"));
    pt_fails(c->env, "eks", "CreateAccessEntry", in, "InvalidParameterException",
             "The username must not begin with system:");

    /* what EKS fills in */
    json_t *out = pt_ok(c->env, "eks", "CreateAccessEntry", entry_in("c", DEVS));
    json_t *e = json_object_get(out, "accessEntry");
    assert_string_equal(str(e, "clusterName"), "c");
    assert_string_equal(str(e, "principalArn"), DEVS);
    assert_string_equal(str(e, "type"), "STANDARD");
    assert_string_equal(str(e, "username"),
                        "arn:aws:sts::000000000000:assumed-role/devs/{{SessionName}}");
    assert_int_equal(json_array_size(json_object_get(e, "kubernetesGroups")), 0);
    assert_int_equal(json_object_size(json_object_get(e, "tags")), 0);
    assert_int_equal(json_integer_value(json_object_get(e, "createdAt")), PT_NOW_MS);
    const char *arn = str(e, "accessEntryArn");
    assert_true(pd_has_prefix(arn, "arn:aws:eks:us-east-1:000000000000:access-entry/c/role/"
                                   "000000000000/devs/"));
    assert_int_equal(strlen(arn) - strlen("arn:aws:eks:us-east-1:000000000000:access-entry/c/"
                                          "role/000000000000/devs/"),
                     36);
    json_decref(out);
    pt_fails(c->env, "eks", "CreateAccessEntry", entry_in("c", DEVS), "ResourceInUseException",
             "The specified access entry resource is already in use on this cluster.");

    in = entry_in("c", NODE);
    json_object_set_new(in, "type", json_string("EC2_LINUX"));
    out = pt_ok(c->env, "eks", "CreateAccessEntry", in);
    e = json_object_get(out, "accessEntry");
    assert_string_equal(str(e, "username"), "system:node:{{EC2PrivateDNSName}}");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(e, "kubernetesGroups"), 0)),
        "system:nodes");
    json_decref(out);
    in = entry_in("c", USER);
    json_object_set_new(in, "username", json_string("ops:bob"));
    json_object_set_new(in, "kubernetesGroups", json_pack("[s, s]", "viewers", "devs"));
    json_object_set_new(in, "tags", json_pack("{s:s}", "team", "ops"));
    out = pt_ok(c->env, "eks", "CreateAccessEntry", in);
    e = json_object_get(out, "accessEntry");
    assert_string_equal(str(e, "username"), "ops:bob");
    assert_string_equal(str(e, "tags.team"), "ops");
    assert_string_equal(str(e, "accessEntryArn") +
                            strlen("arn:aws:eks:us-east-1:000000000000:access-entry/c/"),
                        pd_arena_printf(&c->a, "user/000000000000/bob/%s",
                                        strrchr(str(e, "accessEntryArn"), '/') + 1));
    json_decref(out);
    in = entry_in("c", ROOT);
    json_object_set_new(in, "username", json_string("admin:{{SessionName}}"));
    json_decref(pt_ok(c->env, "eks", "CreateAccessEntry", in));

    /* describe, update, delete */
    out = pt_ok(c->env, "eks", "DescribeAccessEntry", entry_in("c", USER));
    assert_string_equal(str(out, "accessEntry.username"), "ops:bob");
    json_decref(out);
    pt_fails(c->env, "eks", "DescribeAccessEntry",
             entry_in("c", "arn:aws:iam::000000000000:role/devs"), "ResourceNotFoundException",
             MSG_NO_ENTRY);
    c->env->clock.fixed_ms += 5000;
    in = entry_in("c", USER);
    json_object_set_new(in, "kubernetesGroups", json_pack("[s]", "editors"));
    out = pt_ok(c->env, "eks", "UpdateAccessEntry", in);
    e = json_object_get(out, "accessEntry");
    assert_string_equal(str(e, "username"), "ops:bob"); /* unchanged when not given */
    assert_int_equal(json_array_size(json_object_get(e, "kubernetesGroups")), 1);
    assert_int_equal(json_integer_value(json_object_get(e, "modifiedAt")), PT_NOW_MS + 5000);
    assert_int_equal(json_integer_value(json_object_get(e, "createdAt")), PT_NOW_MS);
    json_decref(out);
    in = entry_in("c", USER);
    json_object_set_new(in, "username", json_string("aws:bob"));
    pt_fails(c->env, "eks", "UpdateAccessEntry", in, "InvalidParameterException",
             "The username must not begin with aws:");
    in = entry_in("c", NODE);
    json_object_set_new(in, "kubernetesGroups", json_pack("[s]", "x"));
    pt_fails(c->env, "eks", "UpdateAccessEntry", in, "InvalidParameterException",
             "The specified kubernetesGroups is invalid: setting kubernetesGroups is not allowed "
             "when the type is \"EC2_LINUX\"");
    json_decref(pt_ok(c->env, "eks", "DeleteAccessEntry", entry_in("c", USER)));
    pt_fails(c->env, "eks", "DeleteAccessEntry", entry_in("c", USER), "ResourceNotFoundException",
             MSG_NO_ENTRY);
    json_t *list = entries(c, "c");
    assert_int_equal(json_array_size(list), 3);
    /* sorted by principal ARN */
    assert_string_equal(json_string_value(json_array_get(list, 0)), NODE);
    assert_string_equal(json_string_value(json_array_get(list, 1)), DEVS);
    assert_string_equal(json_string_value(json_array_get(list, 2)), ROOT);
    json_decref(list);
    c->env->clock.fixed_ms = PT_NOW_MS;
    drop(c, "c");
}

static void policies(void **state)
{
    struct ctx *c = *state;
    cluster(c, "p", "API", 0);
    json_decref(pt_ok(c->env, "eks", "CreateAccessEntry", entry_in("p", DEVS)));
    json_t *in = entry_in("p", NODE);
    json_object_set_new(in, "type", json_string("EC2_LINUX"));
    json_decref(pt_ok(c->env, "eks", "CreateAccessEntry", in));

    struct {
        const char *policy;
        json_t *scope;
        const char *code, *msg;
    } bad[] = {
        {"arn:aws:iam::aws:policy/AdministratorAccess", json_pack("{s:s}", "type", "cluster"),
         "InvalidParameterException", "The policyArn parameter format is not valid"},
        {POLICY("AmazonEKSNope"), json_pack("{s:s}", "type", "cluster"),
         "ResourceNotFoundException", "The specified policyArn could not be found."},
        {"arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
         json_pack("{s:s}", "type", "cluster"), "ResourceNotFoundException",
         "The specified policyArn could not be found."},
        {POLICY("AmazonEKSEditPolicy"), json_pack("{s:s}", "type", "namespace"),
         "InvalidParameterException",
         "At least 1 namespace must be provided if the type is set as namespace"},
        {POLICY("AmazonEKSEditPolicy"), json_pack("{s:s, s:[]}", "type", "namespace", "namespaces"),
         "InvalidParameterException",
         "At least 1 namespace must be provided if the type is set as namespace"},
        {POLICY("AmazonEKSEditPolicy"),
         json_pack("{s:s, s:[s]}", "type", "cluster", "namespaces", "apps"),
         "InvalidParameterException",
         "accessScope should not include namespaces if the type is not set as namespace"},
        {POLICY("AmazonEKSEditPolicy"), json_object(), "InvalidParameterException",
         "The accessScope type must be one of [cluster, namespace]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        in = entry_in("p", DEVS);
        json_object_set_new(in, "policyArn", json_string(bad[i].policy));
        json_object_set_new(in, "accessScope", bad[i].scope);
        pt_fails(c->env, "eks", "AssociateAccessPolicy", in, bad[i].code, bad[i].msg);
    }
    const char *only = "This operation can only be performed on Access Entries with a type of "
                       "\"STANDARD\".";
    in = entry_in("p", NODE);
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSViewPolicy")));
    json_object_set_new(in, "accessScope", json_pack("{s:s}", "type", "cluster"));
    pt_fails(c->env, "eks", "AssociateAccessPolicy", in, "InvalidParameterException", only);
    pt_fails(c->env, "eks", "ListAssociatedAccessPolicies", entry_in("p", NODE),
             "InvalidParameterException", only);
    in = entry_in("p", "arn:aws:iam::000000000000:role/ghost");
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSViewPolicy")));
    json_object_set_new(in, "accessScope", json_pack("{s:s}", "type", "cluster"));
    pt_fails(c->env, "eks", "AssociateAccessPolicy", in, "ResourceNotFoundException", MSG_NO_ENTRY);

    /* associate, then again with another scope: the scope is replaced, associatedAt kept */
    in = entry_in("p", DEVS);
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSEditPolicy")));
    json_object_set_new(
        in, "accessScope",
        json_pack("{s:s, s:[s, s]}", "type", "namespace", "namespaces", "apps", "dev-*"));
    json_t *out = pt_ok(c->env, "eks", "AssociateAccessPolicy", in);
    assert_string_equal(str(out, "clusterName"), "p");
    assert_string_equal(str(out, "principalArn"), DEVS);
    assert_string_equal(str(out, "associatedAccessPolicy.accessScope.type"), "namespace");
    json_decref(out);
    c->env->clock.fixed_ms += 1000;
    in = entry_in("p", DEVS);
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSEditPolicy")));
    json_object_set_new(in, "accessScope",
                        json_pack("{s:s, s:[s]}", "type", "namespace", "namespaces", "apps"));
    out = pt_ok(c->env, "eks", "AssociateAccessPolicy", in);
    json_t *a = json_object_get(out, "associatedAccessPolicy");
    assert_int_equal(json_integer_value(json_object_get(a, "associatedAt")), PT_NOW_MS);
    assert_int_equal(json_integer_value(json_object_get(a, "modifiedAt")), PT_NOW_MS + 1000);
    json_decref(out);
    in = entry_in("p", DEVS);
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSViewPolicy")));
    json_object_set_new(in, "accessScope", json_pack("{s:s}", "type", "cluster"));
    json_decref(pt_ok(c->env, "eks", "AssociateAccessPolicy", in));
    out = pt_ok(c->env, "eks", "ListAssociatedAccessPolicies", entry_in("p", DEVS));
    json_t *list = json_object_get(out, "associatedAccessPolicies");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(str(json_array_get(list, 0), "policyArn"), POLICY("AmazonEKSEditPolicy"));
    assert_int_equal(json_array_size(json_object_get(
                         json_object_get(json_array_get(list, 0), "accessScope"), "namespaces")),
                     1);
    json_decref(out);
    /* pages */
    in = entry_in("p", DEVS);
    json_object_set_new(in, "maxResults", json_integer(1));
    out = pt_ok(c->env, "eks", "ListAssociatedAccessPolicies", in);
    assert_int_equal(json_array_size(json_object_get(out, "associatedAccessPolicies")), 1);
    const char *tok = pd_arena_strdup(&c->a, str(out, "nextToken"));
    json_decref(out);
    in = entry_in("p", DEVS);
    json_object_set_new(in, "nextToken", json_string(tok));
    out = pt_ok(c->env, "eks", "ListAssociatedAccessPolicies", in);
    assert_string_equal(
        str(json_array_get(json_object_get(out, "associatedAccessPolicies"), 0), "policyArn"),
        POLICY("AmazonEKSViewPolicy"));
    assert_null(str(out, "nextToken"));
    json_decref(out);
    /* ListAccessEntries by policy */
    out = pt_ok(c->env, "eks", "ListAccessEntries",
                json_pack("{s:s, s:s}", "clusterName", "p", "associatedPolicyArn",
                          POLICY("AmazonEKSViewPolicy")));
    assert_int_equal(json_array_size(json_object_get(out, "accessEntries")), 1);
    json_decref(out);
    out = pt_ok(c->env, "eks", "ListAccessEntries",
                json_pack("{s:s, s:s}", "clusterName", "p", "associatedPolicyArn",
                          POLICY("AmazonEKSAdminPolicy")));
    assert_int_equal(json_array_size(json_object_get(out, "accessEntries")), 0);
    json_decref(out);
    /* what the Kubernetes side reads */
    struct pd_eks_cluster ec;
    struct pd_db *db = pd_store_db(c->env->store);
    assert_int_equal(pd_eks_cluster_by_name(db, &c->a, PT_ACCT, "us-east-1", "p", &ec), PD_OK);
    assert_string_equal(ec.auth_mode, "API");
    struct pd_eks_access_entry *v;
    size_t n;
    assert_int_equal(pd_eks_access_entries(db, &c->a, ec.id, &v, &n), PD_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[1].ref.principal_arn, DEVS);
    assert_true(pd_has_prefix(v[1].ref.principal_id, "AROA"));
    assert_int_equal(v[1].npolicies, 2);
    assert_int_equal(v[1].policies[0].cluster_scope, 0);
    assert_int_equal(v[1].policies[0].nnamespaces, 1);
    assert_string_equal(v[1].policies[0].namespaces[0], "apps");
    assert_int_equal(v[1].policies[1].cluster_scope, 1);
    assert_string_equal(v[0].ref.type, "EC2_LINUX");
    assert_int_equal(v[0].ref.ngroups, 1);
    assert_string_equal(v[0].ref.groups[0], "system:nodes");
    /* disassociate */
    in = entry_in("p", DEVS);
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSAdminPolicy")));
    pt_fails(c->env, "eks", "DisassociateAccessPolicy", in, "ResourceNotFoundException",
             "The specified policyArn is not associated with the access entry.");
    in = entry_in("p", DEVS);
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSViewPolicy")));
    json_decref(pt_ok(c->env, "eks", "DisassociateAccessPolicy", in));
    out = pt_ok(c->env, "eks", "ListAssociatedAccessPolicies", entry_in("p", DEVS));
    assert_int_equal(json_array_size(json_object_get(out, "associatedAccessPolicies")), 1);
    json_decref(out);

    /* the catalog */
    out = pt_ok(c->env, "eks", "ListAccessPolicies", NULL);
    list = json_object_get(out, "accessPolicies");
    assert_true(json_array_size(list) >= 30);
    int seen = 0;
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        assert_string_equal(str(p, "arn") + strlen(POLICY("")), str(p, "name"));
        seen += strcmp(str(p, "name"), "AmazonEKSEditPolicy") == 0;
    }
    assert_int_equal(seen, 1);
    size_t total = json_array_size(list);
    json_decref(out);
    out = pt_ok(c->env, "eks", "ListAccessPolicies", json_pack("{s:i}", "maxResults", 10));
    assert_int_equal(json_array_size(json_object_get(out, "accessPolicies")), 10);
    tok = pd_arena_strdup(&c->a, str(out, "nextToken"));
    json_decref(out);
    size_t got = 10;
    while (tok) {
        out = pt_ok(c->env, "eks", "ListAccessPolicies",
                    json_pack("{s:i, s:s}", "maxResults", 10, "nextToken", tok));
        got += json_array_size(json_object_get(out, "accessPolicies"));
        tok = str(out, "nextToken") ? pd_arena_strdup(&c->a, str(out, "nextToken")) : NULL;
        json_decref(out);
    }
    assert_int_equal(got, total);
    pt_fails(c->env, "eks", "ListAccessPolicies", json_pack("{s:s}", "nextToken", "e:x"),
             "InvalidParameterException", "The nextToken is invalid.");
    pt_fails(c->env, "eks", "ListAccessEntries",
             json_pack("{s:s, s:s}", "clusterName", "p", "nextToken",
                       pd_base64_encode(&c->a, "a:x", 3, 1)),
             "InvalidParameterException", "The nextToken is invalid.");

    /* deleting the entry deletes its associations; deleting the cluster its entries (the
     * rows, looked at in the store) */
    struct pd_eks_db_cluster row;
    struct pd_eks_db_entry ent;
    struct pd_eks_db_assoc *sv;
    struct pd_eks_db_entry *ev;
    size_t sn, en;
    assert_int_equal(pd_eks_db_cluster_get(db, &c->a, PT_ACCT, "us-east-1", "p", &row), PD_OK);
    assert_int_equal(pd_eks_db_entry_get(db, &c->a, row.id, DEVS, &ent), PD_OK);
    assert_int_equal(pd_eks_db_assoc_list(db, &c->a, ent.id, &sv, &sn), PD_OK);
    assert_int_equal(sn, 1);
    json_decref(pt_ok(c->env, "eks", "DeleteAccessEntry", entry_in("p", DEVS)));
    assert_int_equal(pd_eks_db_assoc_list(db, &c->a, ent.id, &sv, &sn), PD_OK);
    assert_int_equal(sn, 0);
    json_decref(pt_ok(c->env, "eks", "CreateAccessEntry", entry_in("p", DEVS)));
    out = pt_ok(c->env, "eks", "ListAssociatedAccessPolicies", entry_in("p", DEVS));
    assert_int_equal(json_array_size(json_object_get(out, "associatedAccessPolicies")), 0);
    json_decref(out);
    c->env->clock.fixed_ms = PT_NOW_MS;
    assert_int_equal(pd_eks_db_entry_all(db, &c->a, row.id, &ev, &en), PD_OK);
    assert_int_equal(en, 2);
    drop(c, "p");
    assert_int_equal(pd_eks_db_entry_all(db, &c->a, row.id, &ev, &en), PD_OK);
    assert_int_equal(en, 0);
}

static void tags(void **state)
{
    struct ctx *c = *state;
    cluster(c, "t", "API", 0);
    json_t *out = pt_ok(c->env, "eks", "CreateAccessEntry", entry_in("t", DEVS));
    const char *arn = pd_arena_strdup(&c->a, str(out, "accessEntry.accessEntryArn"));
    json_decref(out);
    json_decref(
        pt_ok(c->env, "eks", "TagResource",
              json_pack("{s:s, s:{s:s, s:s}}", "resourceArn", arn, "tags", "a", "1", "b", "2")));
    json_decref(pt_ok(c->env, "eks", "UntagResource",
                      json_pack("{s:s, s:[s]}", "resourceArn", arn, "tagKeys", "a")));
    out = pt_ok(c->env, "eks", "ListTagsForResource", json_pack("{s:s}", "resourceArn", arn));
    assert_int_equal(json_object_size(json_object_get(out, "tags")), 1);
    assert_string_equal(str(out, "tags.b"), "2");
    json_decref(out);
    out = pt_ok(c->env, "eks", "DescribeAccessEntry", entry_in("t", DEVS));
    assert_string_equal(str(out, "accessEntry.tags.b"), "2");
    json_decref(out);
    /* the cluster's own tags are apart */
    out = pt_ok(c->env, "eks", "ListTagsForResource",
                json_pack("{s:s}", "resourceArn", "arn:aws:eks:us-east-1:000000000000:cluster/t"));
    assert_int_equal(json_object_size(json_object_get(out, "tags")), 0);
    json_decref(out);
    char *wrong = pd_arena_strdup(&c->a, arn);
    wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == '0' ? '1' : '0';
    pt_fails(c->env, "eks", "ListTagsForResource", json_pack("{s:s}", "resourceArn", wrong),
             "NotFoundException", NULL);
    drop(c, "t");
}

static struct pd_authz_need *needs(struct ctx *c, const char *op, json_t *in, struct pd_req **OUT_r)
{
    const struct pd_service *svc = pd_service_find("eks");
    struct pd_req *r = pd_req_new(c->env);
    r->db = pd_store_db(c->env->store);
    r->svc = svc;
    r->op = pd_service_op(svc, op);
    r->who.account_id = PT_ACCT;
    snprintf(r->region, sizeof r->region, "us-east-1");
    r->in = in;
    struct pd_authz_need *need = pd_arena_zalloc(&r->arena, sizeof *need);
    pd_ctx_init(&need->ctx, &r->arena);
    assert_int_equal(svc->authz(r, need), PD_OK);
    *OUT_r = r;
    return need;
}

static void authz_needs(void **state)
{
    struct ctx *c = *state;
    cluster(c, "z", "API", 0);
    json_t *in = entry_in("z", DEVS);
    json_object_set_new(in, "tags", json_pack("{s:s}", "env", "dev"));
    json_decref(pt_ok(c->env, "eks", "CreateAccessEntry", json_deep_copy(in)));
    struct pd_req *r;
    json_object_set_new(in, "kubernetesGroups", json_pack("[s, s]", "g1", "g2"));
    struct pd_authz_need *need = needs(c, "CreateAccessEntry", in, &r);
    assert_int_equal(need->n, 1);
    assert_string_equal(need->checks[0].action, "eks:CreateAccessEntry");
    assert_string_equal(need->checks[0].resource, "arn:aws:eks:us-east-1:000000000000:cluster/z");
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:principalArn", 0), DEVS);
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:accessEntryType", 0), "STANDARD");
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:kubernetesGroups", 1), "g2");
    assert_string_equal(pd_ctx_get(&need->ctx, "aws:RequestTag/env", 0), "dev");
    pd_req_free(r);

    need = needs(c, "DescribeAccessEntry", entry_in("z", DEVS), &r);
    assert_int_equal(need->n, 1);
    assert_string_equal(need->checks[0].action, "eks:DescribeAccessEntry");
    assert_true(pd_has_prefix(need->checks[0].resource,
                              "arn:aws:eks:us-east-1:000000000000:access-entry/z/role/"
                              "000000000000/devs/"));
    assert_string_equal(pd_ctx_get(&need->ctx, "aws:ResourceTag/env", 0), "dev");
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:clusterName", 0), "z");
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:username", 0),
                        "arn:aws:sts::000000000000:assumed-role/devs/{{SessionName}}");
    pd_req_free(r);

    in = entry_in("z", DEVS);
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSEditPolicy")));
    json_object_set_new(in, "accessScope",
                        json_pack("{s:s, s:[s]}", "type", "namespace", "namespaces", "apps"));
    need = needs(c, "AssociateAccessPolicy", in, &r);
    assert_string_equal(need->checks[0].action, "eks:AssociateAccessPolicy");
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:policyArn", 0), POLICY("AmazonEKSEditPolicy"));
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:accessScope", 0), "namespace");
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:namespaces", 0), "apps");
    pd_req_free(r);

    /* an entry that does not exist: named by its principal, the UUID a wildcard */
    need = needs(c, "DeleteAccessEntry", entry_in("z", USER), &r);
    assert_string_equal(
        need->checks[0].resource,
        "arn:aws:eks:us-east-1:000000000000:access-entry/z/user/000000000000/bob/*");
    pd_req_free(r);

    need = needs(c, "ListAccessPolicies", json_object(), &r);
    assert_string_equal(need->checks[0].resource, "*");
    pd_req_free(r);

    in = entry_in("z", NODE);
    json_object_set_new(in, "type", json_string("EC2_LINUX"));
    need = needs(c, "CreateAccessEntry", in, &r);
    assert_int_equal(need->n, 2);
    assert_string_equal(need->checks[1].action, "iam:PassRole");
    assert_string_equal(need->checks[1].resource, NODE);
    assert_string_equal(pd_ctx_get(&need->ctx, "iam:PassedToService", 0), "ec2.amazonaws.com");
    pd_req_free(r);

    need = needs(c, "CreateCluster",
                 json_pack("{s:s, s:s, s:{s:s}}", "name", "y", "roleArn", ROLE, "accessConfig",
                           "authenticationMode", "API"),
                 &r);
    assert_int_equal(need->n, 3);
    assert_string_equal(need->checks[2].action, "eks:CreateAccessEntry");
    assert_string_equal(need->checks[2].resource, "arn:aws:eks:us-east-1:000000000000:cluster/y");
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:authenticationMode", 0), "API");
    pd_req_free(r);
    need =
        needs(c, "CreateCluster",
              json_pack("{s:s, s:s, s:{s:s, s:b}}", "name", "y", "roleArn", ROLE, "accessConfig",
                        "authenticationMode", "API", "bootstrapClusterCreatorAdminPermissions", 0),
              &r);
    assert_int_equal(need->n, 2);
    assert_string_equal(pd_ctx_get(&need->ctx, "eks:bootstrapClusterCreatorAdminPermissions", 0),
                        "false");
    pd_req_free(r);
    drop(c, "z");
}

/* One HTTP request through the whole pipeline, SigV4-signed with the given key. */
static struct pd_req *signed_as(struct pd_env *env, const char *akid, const char *secret,
                                const char *method, const char *path, const char *body)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_kvs h = {0};
    const char *host = "eks.us-east-1.amazonaws.com";
    pd_kvs_add(&a, &h, "host", host, strlen(host), 0);
    pd_kvs_add(&a, &h, "x-amz-date", "20260101T000000Z", 16, 0);
    if (body)
        pd_kvs_add(&a, &h, "content-type", "application/json", 16, 0);
    char hash[65];
    pd_sha256_hex(body ? body : "", body ? strlen(body) : 0, hash);
    struct pd_sigv4_request req = {.method = method,
                                   .path = path,
                                   .query = "",
                                   .headers = &h,
                                   .payload_hash = hash,
                                   .normalize_path = 1};
    struct pd_sigv4_signer sg = {.akid = akid,
                                 .secret = secret,
                                 .region = "us-east-1",
                                 .service = "eks",
                                 .amz_date = "20260101T000000Z"};
    char *auth = NULL;
    assert_int_equal(pd_sigv4_sign_headers(&a, &sg, &req, NULL, 0, &auth, NULL), PD_OK);
    const char *hdrs = pd_arena_printf(&a,
                                       "host: %s\nx-amz-date: 20260101T000000Z\n%s"
                                       "authorization: %s",
                                       host, body ? "content-type: application/json\n" : "", auth);
    struct pd_req *r = pt_http(env, method, path, "", hdrs, body);
    pd_arena_cleanup(&a);
    return r;
}

static const char *error_type(struct pd_req *r)
{
    for (size_t i = 0; i < r->resp.hdrs.n; i++)
        if (pd_strcaseeq(r->resp.hdrs.v[i].name, "x-amzn-errortype"))
            return r->resp.hdrs.v[i].value;
    return "";
}

static void enforced(void **state)
{
    struct ctx *c = *state;
    cluster(c, "e", "API", 0);
    json_decref(pt_ok(c->env, "eks", "CreateAccessEntry", entry_in("e", DEVS)));
    json_decref(pt_ok(c->env, "eks", "CreateAccessEntry", entry_in("e", NODE)));
    /* bob may describe entries of roles named devs, and associate only the view policy */
    json_decref(pt_ok(
        c->env, "iam", "PutUserPolicy",
        json_pack("{s:s, s:s, s:s}", "UserName", "bob", "PolicyName", "p", "PolicyDocument",
                  "{\"Version\":\"2012-10-17\",\"Statement\":["
                  "{\"Effect\":\"Allow\",\"Action\":\"eks:DescribeAccessEntry\",\"Resource\":"
                  "\"arn:aws:eks:*:*:access-entry/e/role/*/devs/*\"},"
                  "{\"Effect\":\"Allow\",\"Action\":\"eks:AssociateAccessPolicy\",\"Resource\":"
                  "\"*\",\"Condition\":{\"ArnEquals\":{\"eks:policyArn\":"
                  "\"arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy\"}}}]}")));
    json_t *key = pt_ok(c->env, "iam", "CreateAccessKey", json_pack("{s:s}", "UserName", "bob"));
    const char *akid = pd_arena_strdup(&c->a, str(key, "AccessKey.AccessKeyId"));
    const char *secret = pd_arena_strdup(&c->a, str(key, "AccessKey.SecretAccessKey"));
    json_decref(key);
    const char *devs = pd_url_encode(&c->a, DEVS, strlen(DEVS), 0);
    const char *node = pd_url_encode(&c->a, NODE, strlen(NODE), 0);
    struct pd_req *r =
        signed_as(c->env, akid, secret, "GET",
                  pd_arena_printf(&c->a, "/clusters/e/access-entries/%s", devs), NULL);
    assert_int_equal(r->resp.status, 200);
    assert_non_null(strstr(pt_body(r), "\"principalArn\":\"" DEVS "\""));
    pd_req_free(r);
    r = signed_as(c->env, akid, secret, "GET",
                  pd_arena_printf(&c->a, "/clusters/e/access-entries/%s", node), NULL);
    assert_int_equal(r->resp.status, 403);
    assert_string_equal(error_type(r), "AccessDeniedException"); /* EKS's, not IAM's */
    assert_non_null(strstr(pt_body(r), "is not authorized to perform: eks:DescribeAccessEntry on "
                                       "resource: arn:aws:eks:us-east-1:000000000000:access-entry/"
                                       "e/role/000000000000/node/"));
    pd_req_free(r);
    const char *path =
        pd_arena_printf(&c->a, "/clusters/e/access-entries/%s/access-policies", devs);
    r = signed_as(c->env, akid, secret, "POST", path,
                  "{\"policyArn\":\"arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy\","
                  "\"accessScope\":{\"type\":\"cluster\"}}");
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    r = signed_as(c->env, akid, secret, "POST", path,
                  "{\"policyArn\":\"arn:aws:eks::aws:cluster-access-policy/"
                  "AmazonEKSClusterAdminPolicy\",\"accessScope\":{\"type\":\"cluster\"}}");
    assert_int_equal(r->resp.status, 403);
    pd_req_free(r);
    r = signed_as(c->env, akid, secret, "GET", "/clusters/e/access-entries", NULL);
    assert_int_equal(r->resp.status, 403);
    assert_non_null(strstr(pt_body(r), "eks:ListAccessEntries on resource: "
                                       "arn:aws:eks:us-east-1:000000000000:cluster/e"));
    pd_req_free(r);
    drop(c, "e");
}

static void kubernetes_side(void **state)
{
    struct ctx *c = *state;
    struct pd_db *db = pd_store_db(c->env->store);
    cluster(c, "k", "API_AND_CONFIG_MAP", 0);
    json_t *in = entry_in("k", DEVS);
    json_object_set_new(in, "kubernetesGroups", json_pack("[s]", "pulumi:devs"));
    json_decref(pt_ok(c->env, "eks", "CreateAccessEntry", in));
    in = entry_in("k", DEVS);
    json_object_set_new(in, "policyArn", json_string(POLICY("AmazonEKSEditPolicy")));
    json_object_set_new(in, "accessScope",
                        json_pack("{s:s, s:[s]}", "type", "namespace", "namespaces", "apps"));
    json_decref(pt_ok(c->env, "eks", "AssociateAccessPolicy", in));
    struct pd_eks_cluster ec;
    assert_int_equal(pd_eks_cluster_by_name(db, &c->a, PT_ACCT, "us-east-1", "k", &ec), PD_OK);
    json_t *kube = json_pack("{s:[{s:s, s:s, s:{s:s}}]}", "configmaps", "namespace", "kube-system",
                             "name", "aws-auth", "data", "mapRoles",
                             "- rolearn: arn:aws:iam::000000000000:role/node\n"
                             "  username: node-user\n"
                             "  groups: [nodes]\n"
                             "- rolearn: arn:aws:iam::000000000000:role/devs\n"
                             "  username: from-aws-auth\n");
    char *why = NULL;
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    assert_int_equal(pd_k8s_fixtures_load(c->env, db, ec.id, kube, &why), PD_OK);
    assert_int_equal(pd_db_commit(db), PD_OK);
    json_decref(kube);
    json_t *role = pt_ok(c->env, "iam", "GetRole", json_pack("{s:s}", "RoleName", "devs"));
    const char *devs_id = pd_arena_strdup(&c->a, str(role, "Role.RoleId"));
    json_decref(role);
    struct pd_principal alice = {
        .kind = PD_CALLER_ROLE_SESSION,
        .account_id = PT_ACCT,
        .arn = "arn:aws:sts::000000000000:assumed-role/devs/alice",
        .user_id = pd_arena_printf(&c->a, "%s:alice", devs_id),
        .access_key_id = "ASIAALICE",
    };
    struct pd_awsauth_cache *cache = pd_awsauth_cache_new(4);
    for (int pass = 0; pass < 2; pass++) {
        struct pd_k8s_eks_identity x;
        assert_int_equal(pd_k8s_eks_identity(db, &c->a, pass ? cache : NULL, &ec, &alice, &x),
                         PD_OK);
        assert_int_equal(x.id.by, PD_EKS_BY_ACCESS_ENTRY); /* the entry wins over aws-auth */
        assert_string_equal(x.id.username, "arn:aws:sts::000000000000:assumed-role/devs/alice");
        assert_string_equal(x.id.groups[0], "pulumi:devs");
        assert_non_null(x.entry);
        assert_int_equal(x.aws_auth->nroles, 2);
        struct pd_k8s_attrs at = {.verb = "create",
                                  .resource_request = 1,
                                  .api_group = "",
                                  .resource = "pods",
                                  .ns = "apps"};
        struct pd_eks_policy_decision d;
        pd_eks_access_policy_authorize(&c->a, x.entry->policies, x.entry->npolicies, &at, &d);
        assert_int_equal(d.verdict, PD_K8S_ALLOW);
        at.ns = "default";
        pd_eks_access_policy_authorize(&c->a, x.entry->policies, x.entry->npolicies, &at, &d);
        assert_int_equal(d.verdict, PD_K8S_NO_OPINION);
        pd_k8s_eks_identity_release(&x);
    }
    struct pd_principal node = {.kind = PD_CALLER_ROLE_SESSION,
                                .account_id = PT_ACCT,
                                .arn = "arn:aws:sts::000000000000:assumed-role/node/i-1",
                                .user_id = "AROANODE:i-1",
                                .access_key_id = "ASIANODE"};
    struct pd_k8s_eks_identity x;
    assert_int_equal(pd_k8s_eks_identity(db, &c->a, cache, &ec, &node, &x), PD_OK);
    assert_int_equal(x.id.by, PD_EKS_BY_AWS_AUTH);
    assert_string_equal(x.id.username, "node-user");
    assert_null(x.entry); /* mapped by aws-auth: no access policy can apply */
    pd_k8s_eks_identity_release(&x);
    assert_int_equal(pd_awsauth_cache_parses(cache), 1); /* one version, parsed once */
    pd_awsauth_cache_free(cache);

    /* CONFIG_MAP: root (the creator) is kubernetes-admin in system:masters; entries are not
     * read */
    cluster(c, "k2", NULL, -1);
    assert_int_equal(pd_eks_cluster_by_name(db, &c->a, PT_ACCT, "us-east-1", "k2", &ec), PD_OK);
    struct pd_principal root = {.kind = PD_CALLER_ROOT,
                                .account_id = PT_ACCT,
                                .arn = ROOT,
                                .user_id = PT_ACCT,
                                .access_key_id = "test"};
    assert_int_equal(pd_k8s_eks_identity(db, &c->a, NULL, &ec, &root, &x), PD_OK);
    assert_int_equal(x.id.by, PD_EKS_BY_CREATOR);
    assert_int_equal(x.id.creator_admin, 1);
    assert_int_equal(x.aws_auth->present, 0);
    pd_k8s_eks_identity_release(&x);
    assert_int_equal(pd_k8s_eks_identity(db, &c->a, NULL, &ec, &alice, &x), PD_OK);
    assert_int_equal(x.id.by, PD_EKS_NOT_MAPPED);
    pd_k8s_eks_identity_release(&x);
    drop(c, "k");
    drop(c, "k2");
}

static json_t *iam_section(void)
{
    return json_pack("{s:[{s:s, s:[{s:s, s:s}]}]}", "accounts", "id", PT_ACCT, "roles", "name",
                     "eks-cluster", "trust_policy", trust_eks);
}

static void fixtures_round_trip(void **state)
{
    struct ctx *c = *state;
    struct pd_db *db = pd_store_db(c->env->store);
    char *path = pd_arena_printf(&c->a, "/tmp/podiam-test-eks-access-%d.json", (int)getpid());
    json_t *doc = json_pack(
        "{s:{s:[{s:s, s:[{s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}]}]},"
        " s:{s:[{s:s, s:s, s:s, s:[{s:s, s:s, s:[s], s:[{s:s, s:{s:s, s:[s]}}]},"
        " {s:s, s:s}]}, {s:s, s:s, s:s, s:b}]}}",
        "iam", "accounts", "id", PT_ACCT, "roles", "name", "eks-cluster", "trust_policy", trust_eks,
        "name", "devs", "path", "/team/", "trust_policy", trust_root, "name", "node",
        "trust_policy", trust_root, "users", "name", "bob", "path", "/ops/", "eks", "clusters",
        "name", "fx", "role_arn", ROLE, "authentication_mode", "API_AND_CONFIG_MAP",
        "access_entries", "principal_arn", DEVS, "username", "dev:{{SessionName}}",
        "kubernetes_groups", "devs", "access_policies", "policy_arn", POLICY("AmazonEKSEditPolicy"),
        "access_scope", "type", "namespace", "namespaces", "apps", "principal_arn", NODE, "type",
        "EC2_LINUX", "name", "api", "role_arn", ROLE, "authentication_mode", "API",
        "bootstrap_cluster_creator_admin_permissions", 0);
    assert_int_equal(json_dump_file(doc, path, 0), 0);
    json_decref(doc);
    c->env->cfg.fixtures[0] = path;
    c->env->cfg.nfixtures = 1;
    char *err = NULL;
    if (pd_fixtures_reset(c->env, db, &err))
        fail_msg("reset: %s", err);
    /* the list is the whole truth: no creator entry beside it */
    json_t *list = entries(c, "fx");
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    json_t *out = pt_ok(c->env, "eks", "DescribeAccessEntry", entry_in("fx", DEVS));
    assert_string_equal(str(out, "accessEntry.username"), "dev:{{SessionName}}");
    json_decref(out);
    list = entries(c, "api");
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);

    json_t *exported = NULL;
    assert_int_equal(pd_fixtures_export(c->env, db, &exported, &err), PD_OK);
    json_t *cl = json_object_get(json_object_get(exported, "eks"), "clusters");
    json_t *fx = json_array_get(cl, 1); /* sorted by name: api, fx */
    assert_string_equal(str(fx, "name"), "fx");
    json_t *e0 = json_array_get(json_object_get(fx, "access_entries"), 0);
    assert_string_equal(str(e0, "principal_arn"), NODE);
    assert_string_equal(str(e0, "type"), "EC2_LINUX");
    assert_null(json_object_get(e0, "username"));          /* the default */
    assert_null(json_object_get(e0, "kubernetes_groups")); /* EKS's own */
    json_t *e1 = json_array_get(json_object_get(fx, "access_entries"), 1);
    assert_string_equal(str(e1, "username"), "dev:{{SessionName}}");
    assert_string_equal(
        str(json_array_get(json_object_get(e1, "access_policies"), 0), "access_scope.type"),
        "namespace");
    json_t *api = json_array_get(cl, 0);
    assert_true(json_is_false(json_object_get(api, "bootstrap_cluster_creator_admin_permissions")));
    assert_int_equal(json_array_size(json_object_get(api, "access_entries")), 0);
    /* export -> load -> export is stable (ARNs' UUIDs are not part of it) */
    assert_int_equal(json_dump_file(exported, path, 0), 0);
    if (pd_fixtures_reset(c->env, db, &err))
        fail_msg("reset 2: %s", err);
    json_t *again = NULL;
    assert_int_equal(pd_fixtures_export(c->env, db, &again, &err), PD_OK);
    assert_true(json_equal(json_object_get(exported, "eks"), json_object_get(again, "eks")));
    json_decref(again);
    json_decref(exported);

    /* errors name the entry and say why, in the API's words */
    doc = json_pack("{s:o, s:{s:[{s:s, s:s, s:s, s:[{s:s}]}]}}", "iam", iam_section(), "eks",
                    "clusters", "name", "bad", "role_arn", ROLE, "authentication_mode", "API",
                    "access_entries", "principal_arn", "arn:aws:iam::000000000000:role/ghost");
    json_dump_file(doc, path, 0);
    json_decref(doc);
    assert_int_not_equal(pd_fixtures_reset(c->env, db, &err), PD_OK);
    assert_non_null(strstr(err,
                           "eks.clusters[0] (bad): access_entries[0] "
                           "(arn:aws:iam::000000000000:role/ghost): InvalidParameterException: "
                           "The specified principalArn is invalid: invalid principal."));
    free(err);
    doc = json_pack("{s:o, s:{s:[{s:s, s:s, s:[]}]}}", "iam", iam_section(), "eks", "clusters",
                    "name", "cm", "role_arn", ROLE, "access_entries");
    json_dump_file(doc, path, 0);
    json_decref(doc);
    assert_int_equal(pd_fixtures_reset(c->env, db, &err), PD_OK); /* empty list: fine */
    doc = json_pack("{s:o, s:{s:[{s:s, s:s, s:[{s:s}]}]}}", "iam", iam_section(), "eks", "clusters",
                    "name", "cm", "role_arn", ROLE, "access_entries", "principal_arn", ROOT);
    json_dump_file(doc, path, 0);
    json_decref(doc);
    assert_int_not_equal(pd_fixtures_reset(c->env, db, &err), PD_OK);
    assert_non_null(strstr(err, "InvalidRequestException"));
    free(err);
    c->env->cfg.nfixtures = 0;
    assert_int_equal(pd_fixtures_reset(c->env, db, &err), PD_OK);
    remove(path);
    iam_setup(c->env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modes),           cmocka_unit_test(create_rules),
        cmocka_unit_test(policies),        cmocka_unit_test(tags),
        cmocka_unit_test(authz_needs),     cmocka_unit_test(enforced),
        cmocka_unit_test(kubernetes_side), cmocka_unit_test(fixtures_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
