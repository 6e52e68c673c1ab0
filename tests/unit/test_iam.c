/* test_iam.c - unit tests for the IAM service (services/iam*.c) over store/iam_db.c: every
 * operation through the service table, on a :memory: store, inside a transaction as dispatch
 * runs it; errors, quotas, pagination, the policy-engine lookups and the fixtures round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"
#include "env.h"
#include "req.h"
#include "services/iam/iam_fixtures.h"
#include "services/service.h"
#include "store/iam_db.h"
#include "store/store.h"

extern const struct pd_service pd_svc_iam;

#define ACCT "000000000000"
#define TRUST_EC2                                                                                  \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"              \
    "{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"
#define DOC_S3                                                                                     \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","        \
    "\"Resource\":\"*\"}]}"
#define DOC_EC2                                                                                    \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ec2:*\","       \
    "\"Resource\":\"*\"}]}"

struct ctx {
    struct pd_env env;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    pd_config_defaults(&c->env.cfg);
    pd_clock_init(&c->env.clock);
    c->env.clock.fixed_ms = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    pd_ids_init(&c->env.ids, 1, 42);
    char *err = NULL;
    assert_int_equal(pd_store_open(":memory:", 0, &c->env.store, &err), PD_OK);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    pd_store_close(c->env.store);
    pd_ids_cleanup(&c->env.ids);
    free(c);
    return 0;
}

static void as_root(struct pd_req *r, const char *acct)
{
    r->who.kind = PD_CALLER_ROOT;
    r->who.account_id = acct;
}

/* Run an operation as dispatch will: write transaction, commit on PD_OK, else roll back.
 * Takes ownership of in. The caller frees the request. */
static struct pd_req *run_as(struct ctx *c, const char *acct, const char *op, json_t *in)
{
    struct pd_req *r = pd_req_new(&c->env);
    r->db = pd_store_db(c->env.store);
    as_root(r, acct);
    r->in = in ? in : json_object();
    const struct pd_op *o = pd_service_op(&pd_svc_iam, op);
    assert_non_null(o);
    assert_int_equal(pd_db_begin(r->db, 1), PD_OK);
    int rc = o->fn(r);
    if (rc == PD_OK)
        assert_int_equal(pd_db_commit(r->db), PD_OK);
    else
        pd_db_rollback(r->db);
    assert_true((rc == PD_OK) == (r->err.def == NULL));
    return r;
}

static struct pd_req *run(struct ctx *c, const char *op, json_t *in)
{
    return run_as(c, ACCT, op, in);
}

/* Run, expect success, free. */
static void ok(struct ctx *c, const char *op, json_t *in)
{
    struct pd_req *r = run(c, op, in);
    if (r->err.def)
        fail_msg("%s failed: %s: %s", op, r->err.def->code, r->err.message);
    pd_req_free(r);
}

/* Run, expect the error code (and message when msg is not NULL), free. */
static void fails(struct ctx *c, const char *op, json_t *in, const char *code, const char *msg)
{
    struct pd_req *r = run(c, op, in);
    if (!r->err.def)
        fail_msg("%s succeeded, expected %s", op, code);
    assert_string_equal(r->err.def->code, code);
    if (msg)
        assert_string_equal(r->err.message, msg);
    pd_req_free(r);
}

static const char *sget(json_t *o, const char *path)
{
    /* "A.B.C" through objects */
    json_t *cur = o;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        cur = json_object_get(cur, key);
        p += n + (dot != NULL);
    }
    return json_string_value(cur);
}

static char *decode(struct pd_req *r, const char *s)
{
    char *out;
    size_t n;
    assert_int_equal(pd_url_decode(&r->arena, s, strlen(s), 0, &out, &n), PD_OK);
    return out;
}

/* ------------------------------------------------------------------------------------ */

static void users_crud(void **state)
{
    struct ctx *c = *state;
    struct pd_req *r = run(c, "CreateUser",
                           json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "UserName", "Alice", "Path",
                                     "/eng/", "Tags", "Key", "team", "Value", "core"));
    assert_null(r->err.def);
    json_t *u = json_object_get(r->out, "User");
    assert_string_equal(sget(u, "UserName"), "Alice");
    assert_string_equal(sget(u, "Path"), "/eng/");
    assert_string_equal(sget(u, "Arn"), "arn:aws:iam::000000000000:user/eng/Alice");
    assert_int_equal(strlen(sget(u, "UserId")), 21);
    assert_true(pd_has_prefix(sget(u, "UserId"), "AIDA"));
    assert_int_equal(json_integer_value(json_object_get(u, "CreateDate")), 1767225600000LL);
    assert_string_equal(sget(json_array_get(json_object_get(u, "Tags"), 0), "Value"), "core");
    pd_req_free(r);

    fails(c, "CreateUser", json_pack("{s:s}", "UserName", "alice"), "EntityAlreadyExists",
          "User with name alice already exists.");
    fails(c, "CreateUser", json_pack("{s:s}", "UserName", "bad name"), "ValidationError", NULL);
    fails(c, "CreateUser", json_pack("{s:s, s:s}", "UserName", "b", "Path", "noslash"),
          "ValidationError", NULL);
    fails(c, "CreateUser", json_object(), "ValidationError", NULL);

    /* looked up without regard to case, returned as created */
    r = run(c, "GetUser", json_pack("{s:s}", "UserName", "ALICE"));
    assert_string_equal(sget(r->out, "User.UserName"), "Alice");
    assert_string_equal(
        sget(json_array_get(json_object_get(json_object_get(r->out, "User"), "Tags"), 0), "Key"),
        "team");
    pd_req_free(r);
    fails(c, "GetUser", json_pack("{s:s}", "UserName", "nobody"), "NoSuchEntity",
          "The user with name nobody cannot be found.");

    /* GetUser without a name: the caller (root here) */
    r = run(c, "GetUser", NULL);
    assert_string_equal(sget(r->out, "User.Arn"), "arn:aws:iam::000000000000:root");
    assert_string_equal(sget(r->out, "User.UserId"), ACCT);
    assert_null(json_object_get(json_object_get(r->out, "User"), "UserName"));
    pd_req_free(r);

    ok(c, "UpdateUser",
       json_pack("{s:s, s:s, s:s}", "UserName", "alice", "NewUserName", "alice2", "NewPath",
                 "/ops/"));
    r = run(c, "GetUser", json_pack("{s:s}", "UserName", "alice2"));
    assert_string_equal(sget(r->out, "User.Arn"), "arn:aws:iam::000000000000:user/ops/alice2");
    pd_req_free(r);
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "bob"));
    fails(c, "UpdateUser", json_pack("{s:s, s:s}", "UserName", "bob", "NewUserName", "ALICE2"),
          "EntityAlreadyExists", "User with name ALICE2 already exists.");

    /* tags */
    ok(c, "TagUser",
       json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "UserName", "bob", "Tags", "Key", "a",
                 "Value", "1", "Key", "b", "Value", "2"));
    ok(c, "TagUser",
       json_pack("{s:s, s:[{s:s, s:s}]}", "UserName", "bob", "Tags", "Key", "A", "Value", "3"));
    fails(c, "TagUser",
          json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "UserName", "bob", "Tags", "Key", "x",
                    "Value", "1", "Key", "X", "Value", "2"),
          "InvalidInput",
          "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
    r = run(c, "ListUserTags", json_pack("{s:s}", "UserName", "bob"));
    json_t *tags = json_object_get(r->out, "Tags");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(sget(json_array_get(tags, 0), "Key"), "A");
    assert_string_equal(sget(json_array_get(tags, 0), "Value"), "3");
    assert_false(json_is_true(json_object_get(r->out, "IsTruncated")));
    pd_req_free(r);
    ok(c, "UntagUser", json_pack("{s:s, s:[s]}", "UserName", "bob", "TagKeys", "a"));
    r = run(c, "ListUserTags", json_pack("{s:s}", "UserName", "bob"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Tags")), 1);
    pd_req_free(r);

    /* 50 tags at most, counting those already set */
    json_t *many = json_array();
    for (int i = 0; i < 49; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        json_array_append_new(many, json_pack("{s:s, s:s}", "Key", k, "Value", "v"));
    }
    ok(c, "TagUser", json_pack("{s:s, s:o}", "UserName", "bob", "Tags", many));
    fails(c, "TagUser",
          json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "UserName", "bob", "Tags", "Key", "y",
                    "Value", "1", "Key", "z", "Value", "2"),
          "LimitExceeded", NULL);

    /* boundary */
    fails(c, "PutUserPermissionsBoundary",
          json_pack("{s:s, s:s}", "UserName", "bob", "PermissionsBoundary",
                    "arn:aws:iam::000000000000:policy/none"),
          "NoSuchEntity",
          "Policy arn:aws:iam::000000000000:policy/none does not exist or is not attachable.");
    fails(c, "PutUserPermissionsBoundary",
          json_pack("{s:s, s:s}", "UserName", "bob", "PermissionsBoundary", "not-an-arn"),
          "InvalidInput", "ARN not-an-arn is not valid.");
    ok(c, "PutUserPermissionsBoundary",
       json_pack("{s:s, s:s}", "UserName", "bob", "PermissionsBoundary",
                 "arn:aws:iam::aws:policy/PowerUserAccess"));
    r = run(c, "GetUser", json_pack("{s:s}", "UserName", "bob"));
    assert_string_equal(sget(r->out, "User.PermissionsBoundary.PermissionsBoundaryArn"),
                        "arn:aws:iam::aws:policy/PowerUserAccess");
    assert_string_equal(sget(r->out, "User.PermissionsBoundary.PermissionsBoundaryType"),
                        "PermissionsBoundaryPolicy");
    pd_req_free(r);
    r = run(c, "ListUsers", NULL);
    assert_int_equal(json_array_size(json_object_get(r->out, "Users")), 2);
    /* listings leave tags and boundaries out, as AWS does */
    assert_null(json_object_get(json_array_get(json_object_get(r->out, "Users"), 1),
                                "PermissionsBoundary"));
    pd_req_free(r);
    ok(c, "DeleteUserPermissionsBoundary", json_pack("{s:s}", "UserName", "bob"));
    r = run(c, "GetUser", json_pack("{s:s}", "UserName", "bob"));
    assert_null(json_object_get(json_object_get(r->out, "User"), "PermissionsBoundary"));
    pd_req_free(r);

    r = run(c, "ListUsers", json_pack("{s:s}", "PathPrefix", "/ops"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Users")), 1);
    pd_req_free(r);
    ok(c, "DeleteUser", json_pack("{s:s}", "UserName", "bob"));
    fails(c, "DeleteUser", json_pack("{s:s}", "UserName", "bob"), "NoSuchEntity", NULL);
}

static void pagination(void **state)
{
    struct ctx *c = *state;
    for (int i = 0; i < 7; i++) {
        char n[16];
        snprintf(n, sizeof n, "u%d", i);
        ok(c, "CreateUser", json_pack("{s:s}", "UserName", n));
    }
    const char *marker = NULL;
    int pages = 0, seen = 0;
    char last[16] = "";
    do {
        json_t *in = json_pack("{s:i}", "MaxItems", 3);
        if (marker)
            json_object_set_new(in, "Marker", json_string(marker));
        struct pd_req *r = run(c, "ListUsers", in);
        assert_null(r->err.def);
        json_t *users = json_object_get(r->out, "Users");
        seen += (int)json_array_size(users);
        for (size_t i = 0; i < json_array_size(users); i++) {
            const char *name = sget(json_array_get(users, i), "UserName");
            assert_true(strcmp(last, name) < 0);
            snprintf(last, sizeof last, "%s", name);
        }
        int truncated = json_is_true(json_object_get(r->out, "IsTruncated"));
        const char *m = sget(r->out, "Marker");
        assert_int_equal(truncated, m != NULL);
        free((void *)marker);
        marker = m ? strdup(m) : NULL;
        pages++;
        pd_req_free(r);
    } while (marker);
    assert_int_equal(pages, 3);
    assert_int_equal(seen, 7);
    fails(c, "ListUsers", json_pack("{s:s}", "Marker", "garbage"), "ValidationError", NULL);
    fails(c, "ListUsers", json_pack("{s:i}", "MaxItems", 0), "ValidationError", NULL);
}

static void groups(void **state)
{
    struct ctx *c = *state;
    struct pd_req *r =
        run(c, "CreateGroup", json_pack("{s:s, s:s}", "GroupName", "Devs", "Path", "/teams/"));
    assert_string_equal(sget(r->out, "Group.Arn"), "arn:aws:iam::000000000000:group/teams/Devs");
    assert_true(pd_has_prefix(sget(r->out, "Group.GroupId"), "AGPA"));
    pd_req_free(r);
    fails(c, "CreateGroup", json_pack("{s:s}", "GroupName", "devs"), "EntityAlreadyExists",
          "Group with name devs already exists.");
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "carol"));
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "dan"));
    ok(c, "AddUserToGroup", json_pack("{s:s, s:s}", "GroupName", "devs", "UserName", "carol"));
    ok(c, "AddUserToGroup", json_pack("{s:s, s:s}", "GroupName", "devs", "UserName", "dan"));
    ok(c, "AddUserToGroup", json_pack("{s:s, s:s}", "GroupName", "devs", "UserName", "dan"));
    fails(c, "AddUserToGroup", json_pack("{s:s, s:s}", "GroupName", "nope", "UserName", "dan"),
          "NoSuchEntity", "The group with name nope cannot be found.");
    r = run(c, "GetGroup", json_pack("{s:s, s:i}", "GroupName", "devs", "MaxItems", 1));
    assert_string_equal(sget(r->out, "Group.GroupName"), "Devs");
    assert_int_equal(json_array_size(json_object_get(r->out, "Users")), 1);
    assert_string_equal(sget(json_array_get(json_object_get(r->out, "Users"), 0), "UserName"),
                        "carol");
    assert_true(json_is_true(json_object_get(r->out, "IsTruncated")));
    pd_req_free(r);
    r = run(c, "ListGroupsForUser", json_pack("{s:s}", "UserName", "dan"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Groups")), 1);
    pd_req_free(r);
    fails(c, "DeleteUser", json_pack("{s:s}", "UserName", "dan"), "DeleteConflict", NULL);
    fails(c, "DeleteGroup", json_pack("{s:s}", "GroupName", "devs"), "DeleteConflict",
          "Cannot delete entity, must remove users from group first.");
    ok(c, "RemoveUserFromGroup", json_pack("{s:s, s:s}", "GroupName", "devs", "UserName", "dan"));
    fails(c, "RemoveUserFromGroup", json_pack("{s:s, s:s}", "GroupName", "devs", "UserName", "dan"),
          "NoSuchEntity", NULL);
    ok(c, "RemoveUserFromGroup", json_pack("{s:s, s:s}", "GroupName", "devs", "UserName", "carol"));
    ok(c, "UpdateGroup", json_pack("{s:s, s:s}", "GroupName", "devs", "NewGroupName", "admins"));
    r = run(c, "ListGroups", NULL);
    assert_int_equal(json_array_size(json_object_get(r->out, "Groups")), 1);
    assert_string_equal(sget(json_array_get(json_object_get(r->out, "Groups"), 0), "GroupName"),
                        "admins");
    pd_req_free(r);
    /* quota: 10 groups per user */
    for (int i = 0; i < 11; i++) {
        char n[16];
        snprintf(n, sizeof n, "g%02d", i);
        ok(c, "CreateGroup", json_pack("{s:s}", "GroupName", n));
        if (i < 10)
            ok(c, "AddUserToGroup", json_pack("{s:s, s:s}", "GroupName", n, "UserName", "dan"));
        else
            fails(c, "AddUserToGroup", json_pack("{s:s, s:s}", "GroupName", n, "UserName", "dan"),
                  "LimitExceeded", "Cannot exceed quota for GroupsPerUser: 10");
    }
    ok(c, "DeleteGroup", json_pack("{s:s}", "GroupName", "admins"));
}

/* Is secret what the id generator (in state st) makes within its next 64 draws? */
static int from_id_stream(const uint64_t st[4], const char *secret)
{
    for (int skip = 0; skip < 64; skip++) {
        struct pd_ids g;
        pd_ids_init(&g, 1, 0);
        memcpy(g.s, st, sizeof g.s);
        for (int i = 0; i < skip; i++)
            pd_ids_next(&g);
        char guess[41];
        pd_ids_secret(&g, guess);
        pd_ids_cleanup(&g);
        if (strcmp(guess, secret) == 0)
            return 1;
    }
    return 0;
}

/* Secret access keys come from OpenSSL's CSPRNG, not from the stream request ids (which
 * every client sees) come from; --seed alone makes them reproducible. */
static void secret_keys_are_not_from_the_id_stream(void **state)
{
    struct ctx *c = *state;
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "kim"));
    for (int seeded = 0; seeded < 2; seeded++) {
        c->env.cfg.seeded = seeded;
        uint64_t st[4];
        memcpy(st, c->env.ids.s, sizeof st);
        struct pd_req *r = run(c, "CreateAccessKey", json_pack("{s:s}", "UserName", "kim"));
        const char *secret = sget(r->out, "AccessKey.SecretAccessKey");
        assert_int_equal(strlen(secret), 40);
        assert_int_equal(from_id_stream(st, secret), seeded);
        pd_req_free(r);
    }
    c->env.cfg.seeded = 0;
}

static void access_keys(void **state)
{
    struct ctx *c = *state;
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "erin"));
    struct pd_req *r = run(c, "CreateAccessKey", json_pack("{s:s}", "UserName", "erin"));
    const char *akid = sget(r->out, "AccessKey.AccessKeyId");
    assert_int_equal(strlen(akid), 20);
    assert_true(pd_has_prefix(akid, "AKIA"));
    assert_int_equal(strlen(sget(r->out, "AccessKey.SecretAccessKey")), 40);
    assert_string_equal(sget(r->out, "AccessKey.Status"), "Active");
    assert_string_equal(sget(r->out, "AccessKey.UserName"), "erin");
    char key1[32], secret1[64];
    snprintf(key1, sizeof key1, "%s", akid);
    snprintf(secret1, sizeof secret1, "%s", sget(r->out, "AccessKey.SecretAccessKey"));
    pd_req_free(r);
    ok(c, "CreateAccessKey", json_pack("{s:s}", "UserName", "erin"));
    fails(c, "CreateAccessKey", json_pack("{s:s}", "UserName", "erin"), "LimitExceeded",
          "Cannot exceed quota for AccessKeysPerUser: 2");

    /* authentication lookup */
    {
        struct pd_arena a;
        pd_arena_init(&a);
        struct pd_db *db = pd_store_db(c->env.store);
        const char *acct, *secret, *status;
        struct pd_iam_user *u;
        assert_int_equal(pd_iam_db_access_key_find(db, &a, key1, &acct, &u, &secret, &status),
                         PD_OK);
        assert_string_equal(acct, ACCT);
        assert_non_null(u);
        assert_string_equal(u->name, "erin");
        assert_string_equal(secret, secret1);
        assert_string_equal(status, "Active");
        assert_int_equal(pd_iam_db_access_key_find(db, &a, "test", &acct, &u, &secret, &status),
                         PD_OK);
        assert_null(u);
        assert_string_equal(secret, "test");
        assert_int_equal(pd_iam_db_access_key_find(db, &a, "AKIANOPE", &acct, &u, &secret, &status),
                         PD_ENOTFOUND);
        pd_arena_cleanup(&a);
    }

    ok(c, "UpdateAccessKey",
       json_pack("{s:s, s:s, s:s}", "UserName", "erin", "AccessKeyId", key1, "Status", "Inactive"));
    fails(c, "UpdateAccessKey",
          json_pack("{s:s, s:s, s:s}", "UserName", "erin", "AccessKeyId", key1, "Status", "Sleepy"),
          "ValidationError", NULL);
    r = run(c, "ListAccessKeys", json_pack("{s:s}", "UserName", "erin"));
    json_t *md = json_object_get(r->out, "AccessKeyMetadata");
    assert_int_equal(json_array_size(md), 2);
    assert_string_equal(sget(json_array_get(md, 0), "Status"), "Inactive");
    assert_null(json_object_get(json_array_get(md, 0), "SecretAccessKey"));
    pd_req_free(r);
    r = run(c, "GetAccessKeyLastUsed", json_pack("{s:s}", "AccessKeyId", key1));
    assert_string_equal(sget(r->out, "UserName"), "erin");
    assert_string_equal(sget(r->out, "AccessKeyLastUsed.ServiceName"), "N/A");
    pd_req_free(r);
    fails(c, "DeleteUser", json_pack("{s:s}", "UserName", "erin"), "DeleteConflict",
          "Cannot delete entity, must delete access keys first.");
    fails(c, "DeleteAccessKey", json_pack("{s:s}", "AccessKeyId", key1), "NoSuchEntity",
          NULL); /* root's keys do not include erin's */
    ok(c, "DeleteAccessKey", json_pack("{s:s, s:s}", "UserName", "erin", "AccessKeyId", key1));

    /* the root's keys: test/test plus up to two more */
    r = run(c, "ListAccessKeys", NULL);
    assert_int_equal(json_array_size(json_object_get(r->out, "AccessKeyMetadata")), 1);
    assert_string_equal(
        sget(json_array_get(json_object_get(r->out, "AccessKeyMetadata"), 0), "AccessKeyId"),
        "test");
    pd_req_free(r);
    r = run(c, "CreateAccessKey", NULL);
    assert_null(r->err.def);
    assert_null(json_object_get(json_object_get(r->out, "AccessKey"), "UserName"));
    pd_req_free(r);

    /* a user calling for itself */
    r = pd_req_new(&c->env);
    r->db = pd_store_db(c->env.store);
    r->who.kind = PD_CALLER_USER;
    r->who.account_id = ACCT;
    r->who.name = "erin";
    r->in = json_object();
    assert_int_equal(pd_service_op(&pd_svc_iam, "GetUser")->fn(r), PD_OK);
    assert_string_equal(sget(r->out, "User.UserName"), "erin");
    pd_req_free(r);
    r = pd_req_new(&c->env);
    r->db = pd_store_db(c->env.store);
    r->who.kind = PD_CALLER_ROLE_SESSION;
    r->who.account_id = ACCT;
    r->in = json_object();
    assert_int_equal(pd_service_op(&pd_svc_iam, "GetUser")->fn(r), PD_EAWS);
    assert_string_equal(r->err.def->code, "ValidationError");
    assert_string_equal(r->err.message,
                        "Must specify userName when calling with non-User credentials");
    pd_req_free(r);
}

static void roles(void **state)
{
    struct ctx *c = *state;
    struct pd_req *r = run(c, "CreateRole",
                           json_pack("{s:s, s:s, s:s, s:s, s:i}", "RoleName", "App", "Path",
                                     "/svc/", "AssumeRolePolicyDocument", TRUST_EC2, "Description",
                                     "the app", "MaxSessionDuration", 7200));
    assert_null(r->err.def);
    json_t *role = json_object_get(r->out, "Role");
    assert_string_equal(sget(role, "Arn"), "arn:aws:iam::000000000000:role/svc/App");
    assert_true(pd_has_prefix(sget(role, "RoleId"), "AROA"));
    assert_string_equal(decode(r, sget(role, "AssumeRolePolicyDocument")), TRUST_EC2);
    assert_true(pd_has_prefix(sget(role, "AssumeRolePolicyDocument"), "%7B%22Version%22%3A"));
    assert_int_equal(json_integer_value(json_object_get(role, "MaxSessionDuration")), 7200);
    pd_req_free(r);

    fails(c, "CreateRole",
          json_pack("{s:s, s:s}", "RoleName", "app", "AssumeRolePolicyDocument", TRUST_EC2),
          "EntityAlreadyExists", "Role with name app already exists.");
    fails(c, "CreateRole",
          json_pack("{s:s, s:s}", "RoleName", "r2", "AssumeRolePolicyDocument", "{not json"),
          "MalformedPolicyDocument", "Syntax errors in policy.");
    fails(c, "CreateRole",
          json_pack("{s:s, s:s, s:i}", "RoleName", "r2", "AssumeRolePolicyDocument", TRUST_EC2,
                    "MaxSessionDuration", 100),
          "ValidationError", NULL);
    /* trust policy quota: 2048 non-whitespace characters */
    {
        char big[3000];
        int n = snprintf(big, sizeof big, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"");
        memset(big + n, 'x', 2100);
        snprintf(big + n + 2100, sizeof big - (size_t)n - 2100,
                 "\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}");
        fails(c, "CreateRole",
              json_pack("{s:s, s:s}", "RoleName", "r2", "AssumeRolePolicyDocument", big),
              "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048");
    }
    /* principals naming users or roles of a known account must exist */
    fails(c, "CreateRole",
          json_pack("{s:s, s:s}", "RoleName", "r2", "AssumeRolePolicyDocument",
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                    "\"Principal\":{\"AWS\":\"arn:aws:iam::000000000000:role/ghost\"},"
                    "\"Action\":\"sts:AssumeRole\"}]}"),
          "MalformedPolicyDocument",
          "Invalid principal in policy: \"AWS\":\"arn:aws:iam::000000000000:role/ghost\"");
    ok(c, "CreateRole",
       json_pack("{s:s, s:s}", "RoleName", "r2", "AssumeRolePolicyDocument",
                 "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                 "\"Principal\":{\"AWS\":[\"arn:aws:iam::000000000000:role/svc/"
                 "App\",\"arn:aws:iam::123456789012:role/elsewhere\"]},"
                 "\"Action\":\"sts:AssumeRole\"}}"));

    r = run(c, "GetRole", json_pack("{s:s}", "RoleName", "APP"));
    role = json_object_get(r->out, "Role");
    assert_string_equal(sget(role, "RoleName"), "App");
    assert_string_equal(sget(role, "Description"), "the app");
    assert_true(json_is_object(json_object_get(role, "RoleLastUsed")));
    pd_req_free(r);
    fails(c, "GetRole", json_pack("{s:s}", "RoleName", "none"), "NoSuchEntity",
          "The role with name none cannot be found.");

    ok(c, "UpdateRole",
       json_pack("{s:s, s:s, s:i}", "RoleName", "app", "Description", "new", "MaxSessionDuration",
                 43200));
    r = run(c, "UpdateRoleDescription",
            json_pack("{s:s, s:s}", "RoleName", "app", "Description", "newer"));
    assert_string_equal(sget(r->out, "Role.Description"), "newer");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r->out, "Role"), "MaxSessionDuration")),
        43200);
    pd_req_free(r);
    ok(c, "UpdateAssumeRolePolicy",
       json_pack("{s:s, s:s}", "RoleName", "app", "PolicyDocument",
                 "{\n  \"Version\": \"2012-10-17\",\n  "
                 "\"Statement\": {\"Effect\": \"Allow\", \"Principal\": {\"Service\": "
                 "\"ec2.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}\n}"));
    r = run(c, "GetRole", json_pack("{s:s}", "RoleName", "app"));
    /* the document comes back as written, URL-encoded */
    assert_string_equal(sget(r->out, "Role.AssumeRolePolicyDocument"),
                        "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20%22Statement%"
                        "22%3A%20%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Principal%22%3A%20%7B%"
                        "22Service%22%3A%20%22ec2.amazonaws.com%22%7D%2C%20%22Action%22%3A%20%"
                        "22sts%3AAssumeRole%22%7D%0A%7D");
    pd_req_free(r);
    fails(c, "UpdateAssumeRolePolicy",
          json_pack("{s:s, s:s}", "RoleName", "app", "PolicyDocument", "[]"),
          "MalformedPolicyDocument", NULL);

    ok(c, "PutRolePermissionsBoundary",
       json_pack("{s:s, s:s}", "RoleName", "app", "PermissionsBoundary",
                 "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"));
    r = run(c, "GetRole", json_pack("{s:s}", "RoleName", "app"));
    assert_string_equal(sget(r->out, "Role.PermissionsBoundary.PermissionsBoundaryArn"),
                        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess");
    pd_req_free(r);
    ok(c, "DeleteRolePermissionsBoundary", json_pack("{s:s}", "RoleName", "app"));

    ok(c, "TagRole",
       json_pack("{s:s, s:[{s:s, s:s}]}", "RoleName", "app", "Tags", "Key", "env", "Value", "dev"));
    r = run(c, "ListRoleTags", json_pack("{s:s}", "RoleName", "app"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Tags")), 1);
    pd_req_free(r);
    ok(c, "UntagRole", json_pack("{s:s, s:[s]}", "RoleName", "app", "TagKeys", "ENV"));
    r = run(c, "ListRoleTags", json_pack("{s:s}", "RoleName", "app"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Tags")), 0);
    pd_req_free(r);

    r = run(c, "ListRoles", json_pack("{s:s}", "PathPrefix", "/svc/"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Roles")), 1);
    assert_null(
        json_object_get(json_array_get(json_object_get(r->out, "Roles"), 0), "RoleLastUsed"));
    pd_req_free(r);

    /* inline and attached policies block deletion */
    ok(c, "PutRolePolicy",
       json_pack("{s:s, s:s, s:s}", "RoleName", "app", "PolicyName", "s3", "PolicyDocument",
                 DOC_S3));
    fails(c, "DeleteRole", json_pack("{s:s}", "RoleName", "app"), "DeleteConflict",
          "Cannot delete entity, must delete policies first.");
    ok(c, "DeleteRolePolicy", json_pack("{s:s, s:s}", "RoleName", "app", "PolicyName", "s3"));
    ok(c, "AttachRolePolicy",
       json_pack("{s:s, s:s}", "RoleName", "app", "PolicyArn",
                 "arn:aws:iam::aws:policy/AdministratorAccess"));
    fails(c, "DeleteRole", json_pack("{s:s}", "RoleName", "app"), "DeleteConflict",
          "Cannot delete entity, must detach all policies first.");
    ok(c, "DetachRolePolicy",
       json_pack("{s:s, s:s}", "RoleName", "app", "PolicyArn",
                 "arn:aws:iam::aws:policy/AdministratorAccess"));
    /* r2 trusts App: deleting App is allowed (AWS keeps the stale principal) */
    ok(c, "DeleteRole", json_pack("{s:s}", "RoleName", "app"));
    fails(c, "DeleteRole", json_pack("{s:s}", "RoleName", "app"), "NoSuchEntity", NULL);
}

static void managed_policies(void **state)
{
    struct ctx *c = *state;
    struct pd_req *r = run(c, "CreatePolicy",
                           json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}", "PolicyName", "S3",
                                     "Path", "/data/", "PolicyDocument", DOC_S3, "Description",
                                     "s3 things", "Tags", "Key", "k", "Value", "v"));
    assert_null(r->err.def);
    json_t *p = json_object_get(r->out, "Policy");
    const char *arn = "arn:aws:iam::000000000000:policy/data/S3";
    assert_string_equal(sget(p, "Arn"), arn);
    assert_string_equal(sget(p, "DefaultVersionId"), "v1");
    assert_true(pd_has_prefix(sget(p, "PolicyId"), "ANPA"));
    assert_int_equal(json_integer_value(json_object_get(p, "AttachmentCount")), 0);
    assert_true(json_is_true(json_object_get(p, "IsAttachable")));
    pd_req_free(r);
    fails(c, "CreatePolicy", json_pack("{s:s, s:s}", "PolicyName", "S3", "PolicyDocument", DOC_S3),
          "EntityAlreadyExists",
          "A policy called S3 already exists. Duplicate names are not allowed.");
    fails(c, "CreatePolicy",
          json_pack("{s:s, s:s, s:s}", "PolicyName", "x", "Path", "/a//", "PolicyDocument", DOC_S3),
          "ValidationError", NULL);
    {
        char big[7000];
        int n = snprintf(big, sizeof big, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"");
        memset(big + n, 'x', 6200);
        snprintf(big + n + 6200, sizeof big - (size_t)n - 6200,
                 "\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}");
        fails(c, "CreatePolicy",
              json_pack("{s:s, s:s}", "PolicyName", "big", "PolicyDocument", big), "LimitExceeded",
              "Cannot exceed quota for PolicySize: 6144");
        /* whitespace does not count */
        char spaced[20000];
        n = snprintf(spaced, sizeof spaced, "{\"Version\":\"2012-10-17\",\"Statement\":[");
        for (int i = 0; i < 3000; i++)
            spaced[n++] = ' ';
        snprintf(spaced + n, sizeof spaced - (size_t)n,
                 "{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}");
        ok(c, "CreatePolicy",
           json_pack("{s:s, s:s}", "PolicyName", "spaced", "PolicyDocument", spaced));
    }

    r = run(c, "GetPolicy", json_pack("{s:s}", "PolicyArn", arn));
    assert_string_equal(sget(r->out, "Policy.Description"), "s3 things");
    pd_req_free(r);
    fails(c, "GetPolicy", json_pack("{s:s}", "PolicyArn", "arn:aws:iam::000000000000:policy/none"),
          "NoSuchEntity", "Policy arn:aws:iam::000000000000:policy/none was not found.");
    r = run(c, "GetPolicy",
            json_pack("{s:s}", "PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"));
    assert_string_equal(sget(r->out, "Policy.PolicyName"), "AdministratorAccess");
    pd_req_free(r);

    /* versions */
    for (int i = 2; i <= 5; i++) {
        r = run(c, "CreatePolicyVersion",
                json_pack("{s:s, s:s, s:b}", "PolicyArn", arn, "PolicyDocument", DOC_EC2,
                          "SetAsDefault", i == 3));
        char v[8];
        snprintf(v, sizeof v, "v%d", i);
        assert_string_equal(sget(r->out, "PolicyVersion.VersionId"), v);
        assert_int_equal(json_is_true(json_object_get(json_object_get(r->out, "PolicyVersion"),
                                                      "IsDefaultVersion")),
                         i == 3);
        pd_req_free(r);
    }
    fails(c, "CreatePolicyVersion",
          json_pack("{s:s, s:s}", "PolicyArn", arn, "PolicyDocument", DOC_EC2), "LimitExceeded",
          "A managed policy can have up to 5 versions. Before you create a new version, you must "
          "delete an existing version.");
    r = run(c, "ListPolicyVersions", json_pack("{s:s}", "PolicyArn", arn));
    json_t *vs = json_object_get(r->out, "Versions");
    assert_int_equal(json_array_size(vs), 5);
    assert_string_equal(sget(json_array_get(vs, 0), "VersionId"), "v5");
    pd_req_free(r);
    r = run(c, "GetPolicyVersion", json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", "v3"));
    assert_string_equal(decode(r, sget(r->out, "PolicyVersion.Document")), DOC_EC2);
    assert_true(json_is_true(
        json_object_get(json_object_get(r->out, "PolicyVersion"), "IsDefaultVersion")));
    pd_req_free(r);
    fails(c, "GetPolicyVersion", json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", "v9"),
          "NoSuchEntity", NULL);
    fails(c, "DeletePolicyVersion", json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", "v3"),
          "DeleteConflict", "Cannot delete the default version of a policy.");
    ok(c, "DeletePolicyVersion", json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", "v5"));
    r = run(c, "CreatePolicyVersion",
            json_pack("{s:s, s:s}", "PolicyArn", arn, "PolicyDocument", DOC_S3));
    assert_string_equal(sget(r->out, "PolicyVersion.VersionId"), "v6"); /* never reused */
    pd_req_free(r);
    ok(c, "SetDefaultPolicyVersion", json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", "v1"));
    r = run(c, "GetPolicy", json_pack("{s:s}", "PolicyArn", arn));
    assert_string_equal(sget(r->out, "Policy.DefaultVersionId"), "v1");
    pd_req_free(r);

    /* tags */
    ok(c, "TagPolicy",
       json_pack("{s:s, s:[{s:s, s:s}]}", "PolicyArn", arn, "Tags", "Key", "k2", "Value", "v2"));
    r = run(c, "ListPolicyTags", json_pack("{s:s}", "PolicyArn", arn));
    assert_int_equal(json_array_size(json_object_get(r->out, "Tags")), 2);
    pd_req_free(r);
    ok(c, "UntagPolicy", json_pack("{s:s, s:[s]}", "PolicyArn", arn, "TagKeys", "k"));

    /* attach to user, group, role; counts and entity lists */
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "fay"));
    ok(c, "CreateGroup", json_pack("{s:s}", "GroupName", "ops"));
    ok(c, "CreateRole",
       json_pack("{s:s, s:s}", "RoleName", "worker", "AssumeRolePolicyDocument", TRUST_EC2));
    ok(c, "AttachUserPolicy", json_pack("{s:s, s:s}", "UserName", "fay", "PolicyArn", arn));
    ok(c, "AttachUserPolicy", json_pack("{s:s, s:s}", "UserName", "fay", "PolicyArn", arn));
    ok(c, "AttachGroupPolicy", json_pack("{s:s, s:s}", "GroupName", "ops", "PolicyArn", arn));
    ok(c, "AttachRolePolicy", json_pack("{s:s, s:s}", "RoleName", "worker", "PolicyArn", arn));
    ok(c, "PutRolePermissionsBoundary",
       json_pack("{s:s, s:s}", "RoleName", "worker", "PermissionsBoundary", arn));
    fails(c, "AttachUserPolicy",
          json_pack("{s:s, s:s}", "UserName", "fay", "PolicyArn",
                    "arn:aws:iam::000000000000:policy/missing"),
          "NoSuchEntity",
          "Policy arn:aws:iam::000000000000:policy/missing does not exist or is not attachable.");
    r = run(c, "GetPolicy", json_pack("{s:s}", "PolicyArn", arn));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r->out, "Policy"), "AttachmentCount")),
        3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r->out, "Policy"),
                                                        "PermissionsBoundaryUsageCount")),
                     1);
    pd_req_free(r);
    r = run(c, "ListAttachedUserPolicies", json_pack("{s:s}", "UserName", "fay"));
    json_t *ap = json_object_get(r->out, "AttachedPolicies");
    assert_int_equal(json_array_size(ap), 1);
    assert_string_equal(sget(json_array_get(ap, 0), "PolicyName"), "S3");
    pd_req_free(r);
    r = run(c, "ListAttachedUserPolicies",
            json_pack("{s:s, s:s}", "UserName", "fay", "PathPrefix", "/other/"));
    assert_int_equal(json_array_size(json_object_get(r->out, "AttachedPolicies")), 0);
    pd_req_free(r);
    r = run(c, "ListAttachedGroupPolicies", json_pack("{s:s}", "GroupName", "ops"));
    assert_int_equal(json_array_size(json_object_get(r->out, "AttachedPolicies")), 1);
    pd_req_free(r);
    r = run(c, "ListAttachedRolePolicies", json_pack("{s:s}", "RoleName", "worker"));
    assert_int_equal(json_array_size(json_object_get(r->out, "AttachedPolicies")), 1);
    pd_req_free(r);
    r = run(c, "ListEntitiesForPolicy", json_pack("{s:s}", "PolicyArn", arn));
    assert_int_equal(json_array_size(json_object_get(r->out, "PolicyUsers")), 1);
    assert_int_equal(json_array_size(json_object_get(r->out, "PolicyGroups")), 1);
    assert_int_equal(json_array_size(json_object_get(r->out, "PolicyRoles")), 1);
    assert_string_equal(sget(json_array_get(json_object_get(r->out, "PolicyUsers"), 0), "UserName"),
                        "fay");
    pd_req_free(r);
    r = run(c, "ListEntitiesForPolicy",
            json_pack("{s:s, s:s, s:s}", "PolicyArn", arn, "PolicyUsageFilter",
                      "PermissionsBoundary", "EntityFilter", "Role"));
    assert_int_equal(json_array_size(json_object_get(r->out, "PolicyUsers")), 0);
    assert_int_equal(json_array_size(json_object_get(r->out, "PolicyRoles")), 1);
    pd_req_free(r);

    /* listing */
    r = run(c, "ListPolicies", json_pack("{s:s}", "Scope", "Local"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Policies")), 2);
    assert_null(json_object_get(json_array_get(json_object_get(r->out, "Policies"), 0), "Tags"));
    pd_req_free(r);
    r = run(c, "ListPolicies", json_pack("{s:s}", "Scope", "AWS"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Policies")), 6);
    pd_req_free(r);
    r = run(c, "ListPolicies", json_pack("{s:b}", "OnlyAttached", 1));
    assert_int_equal(json_array_size(json_object_get(r->out, "Policies")), 1);
    pd_req_free(r);
    r = run(c, "ListPolicies", json_pack("{s:s}", "PathPrefix", "/data/"));
    assert_int_equal(json_array_size(json_object_get(r->out, "Policies")), 1);
    pd_req_free(r);
    fails(c, "ListPolicies", json_pack("{s:s}", "Scope", "Bogus"), "ValidationError", NULL);

    /* quota: 10 managed policies per entity */
    for (int i = 0; i < 10; i++) {
        char n[16];
        snprintf(n, sizeof n, "p%d", i);
        ok(c, "CreatePolicy", json_pack("{s:s, s:s}", "PolicyName", n, "PolicyDocument", DOC_S3));
        char *parn = NULL;
        if (asprintf(&parn, "arn:aws:iam::000000000000:policy/%s", n) < 0)
            fail();
        if (i < 9)
            ok(c, "AttachUserPolicy",
               json_pack("{s:s, s:s}", "UserName", "fay", "PolicyArn", parn));
        else
            fails(c, "AttachUserPolicy",
                  json_pack("{s:s, s:s}", "UserName", "fay", "PolicyArn", parn), "LimitExceeded",
                  "Cannot exceed quota for PoliciesPerUser: 10");
        free(parn);
    }

    /* deletion rules */
    fails(c, "DeletePolicy", json_pack("{s:s}", "PolicyArn", arn), "DeleteConflict",
          "Cannot delete a policy attached to entities.");
    ok(c, "DetachUserPolicy", json_pack("{s:s, s:s}", "UserName", "fay", "PolicyArn", arn));
    fails(c, "DetachUserPolicy", json_pack("{s:s, s:s}", "UserName", "fay", "PolicyArn", arn),
          "NoSuchEntity", NULL);
    ok(c, "DetachGroupPolicy", json_pack("{s:s, s:s}", "GroupName", "ops", "PolicyArn", arn));
    ok(c, "DetachRolePolicy", json_pack("{s:s, s:s}", "RoleName", "worker", "PolicyArn", arn));
    fails(c, "DeletePolicy", json_pack("{s:s}", "PolicyArn", arn), "DeleteConflict", NULL);
    ok(c, "DeleteRolePermissionsBoundary", json_pack("{s:s}", "RoleName", "worker"));
    fails(c, "DeletePolicy", json_pack("{s:s}", "PolicyArn", arn), "DeleteConflict",
          "This policy has more than one version. Before you delete a policy, you must delete the "
          "policy's versions. The default version is deleted with the policy.");
    const char *vids[] = {"v2", "v3", "v4", "v6"};
    for (int i = 0; i < 4; i++)
        ok(c, "DeletePolicyVersion",
           json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", vids[i]));
    ok(c, "DeletePolicy", json_pack("{s:s}", "PolicyArn", arn));
    fails(c, "DeletePolicy",
          json_pack("{s:s}", "PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
          "UnmodifiableEntity", NULL);
}

static void inline_policies(void **state)
{
    struct ctx *c = *state;
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "gus"));
    ok(c, "CreateGroup", json_pack("{s:s}", "GroupName", "grp"));
    ok(c, "CreateRole",
       json_pack("{s:s, s:s}", "RoleName", "rl", "AssumeRolePolicyDocument", TRUST_EC2));
    const char *ops[][5] = {
        {"PutUserPolicy", "GetUserPolicy", "ListUserPolicies", "DeleteUserPolicy", "UserName"},
        {"PutGroupPolicy", "GetGroupPolicy", "ListGroupPolicies", "DeleteGroupPolicy", "GroupName"},
        {"PutRolePolicy", "GetRolePolicy", "ListRolePolicies", "DeleteRolePolicy", "RoleName"},
    };
    const char *names[] = {"gus", "grp", "rl"};
    const char *words[] = {"user", "group", "role"};
    const int limits[] = {2048, 5120, 10240};
    for (int k = 0; k < 3; k++) {
        ok(c, ops[k][0],
           json_pack("{s:s, s:s, s:s}", ops[k][4], names[k], "PolicyName", "b", "PolicyDocument",
                     DOC_S3));
        ok(c, ops[k][0],
           json_pack("{s:s, s:s, s:s}", ops[k][4], names[k], "PolicyName", "a", "PolicyDocument",
                     DOC_S3));
        ok(c, ops[k][0],
           json_pack("{s:s, s:s, s:s}", ops[k][4], names[k], "PolicyName", "A", "PolicyDocument",
                     DOC_EC2)); /* replaces "a" */
        struct pd_req *r =
            run(c, ops[k][1], json_pack("{s:s, s:s}", ops[k][4], names[k], "PolicyName", "a"));
        assert_string_equal(decode(r, sget(r->out, "PolicyDocument")), DOC_EC2);
        assert_string_equal(sget(r->out, "PolicyName"), "a");
        assert_string_equal(sget(r->out, ops[k][4]), names[k]);
        pd_req_free(r);
        r = run(c, ops[k][2], json_pack("{s:s}", ops[k][4], names[k]));
        json_t *pn = json_object_get(r->out, "PolicyNames");
        assert_int_equal(json_array_size(pn), 2);
        assert_string_equal(json_string_value(json_array_get(pn, 0)), "a");
        pd_req_free(r);
        char msg[128];
        snprintf(msg, sizeof msg, "The %s policy with name zz cannot be found.", words[k]);
        fails(c, ops[k][1], json_pack("{s:s, s:s}", ops[k][4], names[k], "PolicyName", "zz"),
              "NoSuchEntity", msg);
        fails(c, ops[k][3], json_pack("{s:s, s:s}", ops[k][4], names[k], "PolicyName", "zz"),
              "NoSuchEntity", msg);
        fails(c, ops[k][0],
              json_pack("{s:s, s:s, s:s}", ops[k][4], names[k], "PolicyName", "c", "PolicyDocument",
                        "nope"),
              "MalformedPolicyDocument", NULL);
        /* the quota counts every inline policy of the entity together */
        char *big = malloc((size_t)limits[k] + 100);
        int n = snprintf(big, 100, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"");
        memset(big + n, 'x', (size_t)limits[k] - 100);
        snprintf(big + n + limits[k] - 100, 80,
                 "\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}");
        snprintf(msg, sizeof msg, "Maximum policy size of %d bytes exceeded for %s %s", limits[k],
                 words[k], names[k]);
        fails(c, ops[k][0],
              json_pack("{s:s, s:s, s:s}", ops[k][4], names[k], "PolicyName", "big",
                        "PolicyDocument", big),
              "LimitExceeded", msg);
        free(big);
        ok(c, ops[k][3], json_pack("{s:s, s:s}", ops[k][4], names[k], "PolicyName", "b"));
    }
    fails(c, "DeleteGroup", json_pack("{s:s}", "GroupName", "grp"), "DeleteConflict",
          "Cannot delete entity, must delete policies first.");
    fails(c, "DeleteUser", json_pack("{s:s}", "UserName", "gus"), "DeleteConflict",
          "Cannot delete entity, must delete policies first.");
}

static void oidc(void **state)
{
    struct ctx *c = *state;
    const char *url = "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF";
    const char *arn = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/"
                      "id/ABCDEF";
    struct pd_req *r = run(c, "CreateOpenIDConnectProvider",
                           json_pack("{s:s, s:[s], s:[s], s:[{s:s, s:s}]}", "Url", url,
                                     "ClientIDList", "sts.amazonaws.com", "ThumbprintList",
                                     "9e99a48a9960b14926bb7f3b02e22da2b0ab7280", "Tags", "Key",
                                     "cluster", "Value", "demo"));
    assert_null(r->err.def);
    assert_string_equal(sget(r->out, "OpenIDConnectProviderArn"), arn);
    pd_req_free(r);
    fails(c, "CreateOpenIDConnectProvider", json_pack("{s:s}", "Url", url), "EntityAlreadyExists",
          "Provider with url https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF already exists.");
    fails(c, "CreateOpenIDConnectProvider", json_pack("{s:s}", "Url", "http://x"),
          "ValidationError", NULL);
    fails(c, "CreateOpenIDConnectProvider",
          json_pack("{s:s, s:[s]}", "Url", "https://x.example", "ThumbprintList", "abc"),
          "ValidationError", NULL);
    fails(
        c, "CreateOpenIDConnectProvider",
        json_pack(
            "{s:s, s:[s,s,s,s,s,s]}", "Url", "https://y.example", "ThumbprintList",
            "0000000000000000000000000000000000000000", "1111111111111111111111111111111111111111",
            "2222222222222222222222222222222222222222", "3333333333333333333333333333333333333333",
            "4444444444444444444444444444444444444444", "5555555555555555555555555555555555555555"),
        "InvalidInput", NULL);

    ok(c, "AddClientIDToOpenIDConnectProvider",
       json_pack("{s:s, s:s}", "OpenIDConnectProviderArn", arn, "ClientID", "other"));
    ok(c, "AddClientIDToOpenIDConnectProvider",
       json_pack("{s:s, s:s}", "OpenIDConnectProviderArn", arn, "ClientID", "other"));
    ok(c, "RemoveClientIDFromOpenIDConnectProvider",
       json_pack("{s:s, s:s}", "OpenIDConnectProviderArn", arn, "ClientID", "sts.amazonaws.com"));
    ok(c, "UpdateOpenIDConnectProviderThumbprint",
       json_pack("{s:s, s:[s]}", "OpenIDConnectProviderArn", arn, "ThumbprintList",
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    r = run(c, "GetOpenIDConnectProvider", json_pack("{s:s}", "OpenIDConnectProviderArn", arn));
    assert_string_equal(sget(r->out, "Url"), "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF");
    assert_int_equal(json_array_size(json_object_get(r->out, "ClientIDList")), 1);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(r->out, "ClientIDList"), 0)), "other");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(r->out, "ThumbprintList"), 0)),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(json_array_size(json_object_get(r->out, "Tags")), 1);
    pd_req_free(r);

    ok(c, "TagOpenIDConnectProvider",
       json_pack("{s:s, s:[{s:s, s:s}]}", "OpenIDConnectProviderArn", arn, "Tags", "Key", "x",
                 "Value", "y"));
    r = run(c, "ListOpenIDConnectProviderTags",
            json_pack("{s:s}", "OpenIDConnectProviderArn", arn));
    assert_int_equal(json_array_size(json_object_get(r->out, "Tags")), 2);
    pd_req_free(r);
    ok(c, "UntagOpenIDConnectProvider",
       json_pack("{s:s, s:[s]}", "OpenIDConnectProviderArn", arn, "TagKeys", "x"));

    /* STS reads providers by URL */
    {
        struct pd_arena a;
        pd_arena_init(&a);
        struct pd_iam_oidc o;
        assert_int_equal(pd_iam_db_oidc_get(pd_store_db(c->env.store), &a, ACCT,
                                            "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF", &o),
                         PD_OK);
        assert_string_equal(o.arn, arn);
        pd_arena_cleanup(&a);
    }

    r = run(c, "ListOpenIDConnectProviders", NULL);
    assert_int_equal(json_array_size(json_object_get(r->out, "OpenIDConnectProviderList")), 1);
    assert_string_equal(
        sget(json_array_get(json_object_get(r->out, "OpenIDConnectProviderList"), 0), "Arn"), arn);
    pd_req_free(r);
    ok(c, "DeleteOpenIDConnectProvider", json_pack("{s:s}", "OpenIDConnectProviderArn", arn));
    fails(c, "GetOpenIDConnectProvider", json_pack("{s:s}", "OpenIDConnectProviderArn", arn),
          "NoSuchEntity",
          "OpenIDConnect Provider not found for arn arn:aws:iam::000000000000:oidc-"
          "provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF");
    fails(c, "GetOpenIDConnectProvider", json_pack("{s:s}", "OpenIDConnectProviderArn", "nope"),
          "InvalidInput", NULL);
}

/* The policy engine's view: every document that applies to a user or a role. */
static void engine_lookups(void **state)
{
    struct ctx *c = *state;
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "hal"));
    ok(c, "CreateGroup", json_pack("{s:s}", "GroupName", "g1"));
    ok(c, "AddUserToGroup", json_pack("{s:s, s:s}", "GroupName", "g1", "UserName", "hal"));
    ok(c, "PutUserPolicy",
       json_pack("{s:s, s:s, s:s}", "UserName", "hal", "PolicyName", "own", "PolicyDocument",
                 DOC_S3));
    ok(c, "PutGroupPolicy",
       json_pack("{s:s, s:s, s:s}", "GroupName", "g1", "PolicyName", "grp", "PolicyDocument",
                 DOC_EC2));
    ok(c, "CreatePolicy", json_pack("{s:s, s:s}", "PolicyName", "cust", "PolicyDocument", DOC_S3));
    ok(c, "CreatePolicyVersion",
       json_pack("{s:s, s:s, s:b}", "PolicyArn", "arn:aws:iam::000000000000:policy/cust",
                 "PolicyDocument", DOC_EC2, "SetAsDefault", 1));
    ok(c, "AttachUserPolicy",
       json_pack("{s:s, s:s}", "UserName", "hal", "PolicyArn",
                 "arn:aws:iam::000000000000:policy/cust"));
    ok(c, "AttachGroupPolicy",
       json_pack("{s:s, s:s}", "GroupName", "g1", "PolicyArn",
                 "arn:aws:iam::aws:policy/IAMReadOnlyAccess"));
    ok(c, "PutUserPermissionsBoundary",
       json_pack("{s:s, s:s}", "UserName", "hal", "PermissionsBoundary",
                 "arn:aws:iam::aws:policy/PowerUserAccess"));

    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_db *db = pd_store_db(c->env.store);
    struct pd_iam_source_policy *v, b;
    size_t n;
    assert_int_equal(pd_iam_db_user_policies(db, &a, ACCT, "HAL", &v, &n, &b), PD_OK);
    assert_int_equal(n, 4);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].type == PD_IAM_SRC_USER_INLINE) {
            assert_string_equal(v[i].id, "own");
            assert_string_equal(v[i].document, DOC_S3);
            seen |= 1;
        } else if (v[i].type == PD_IAM_SRC_GROUP_INLINE) {
            assert_string_equal(v[i].via_name, "g1");
            assert_string_equal(v[i].document, DOC_EC2);
            seen |= 2;
        } else if (v[i].type == PD_IAM_SRC_MANAGED) {
            assert_string_equal(v[i].version_id, "v2");
            assert_string_equal(v[i].document, DOC_EC2);
            seen |= 4;
        } else if (v[i].type == PD_IAM_SRC_AWS_MANAGED) {
            assert_string_equal(v[i].id, "arn:aws:iam::aws:policy/IAMReadOnlyAccess");
            assert_string_equal(v[i].via_kind, "group");
            assert_non_null(strstr(v[i].document, "iam:Get*"));
            seen |= 8;
        }
    }
    assert_int_equal(seen, 15);
    assert_string_equal(b.id, "arn:aws:iam::aws:policy/PowerUserAccess");
    assert_non_null(strstr(b.document, "NotAction"));
    assert_int_equal(pd_iam_db_user_policies(db, &a, ACCT, "nobody", &v, &n, &b), PD_ENOTFOUND);

    ok(c, "CreateRole",
       json_pack("{s:s, s:s}", "RoleName", "rr", "AssumeRolePolicyDocument", TRUST_EC2));
    ok(c, "PutRolePolicy",
       json_pack("{s:s, s:s, s:s}", "RoleName", "rr", "PolicyName", "in", "PolicyDocument",
                 DOC_S3));
    ok(c, "AttachRolePolicy",
       json_pack("{s:s, s:s}", "RoleName", "rr", "PolicyArn",
                 "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"));
    assert_int_equal(pd_iam_db_role_policies(db, &a, ACCT, "rr", &v, &n, &b), PD_OK);
    assert_int_equal(n, 2);
    assert_null(b.document);
    pd_arena_cleanup(&a);

    /* GetAccountAuthorizationDetails */
    struct pd_req *r = run(c, "GetAccountAuthorizationDetails", NULL);
    json_t *ud = json_object_get(r->out, "UserDetailList");
    assert_int_equal(json_array_size(ud), 1);
    json_t *hal = json_array_get(ud, 0);
    assert_int_equal(json_array_size(json_object_get(hal, "UserPolicyList")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(hal, "GroupList"), 0)),
                        "g1");
    assert_int_equal(json_array_size(json_object_get(hal, "AttachedManagedPolicies")), 1);
    assert_int_equal(json_array_size(json_object_get(r->out, "GroupDetailList")), 1);
    assert_int_equal(json_array_size(json_object_get(r->out, "RoleDetailList")), 1);
    /* cust + the AWS managed policies in use: IAMReadOnlyAccess, PowerUserAccess (boundary),
     * AmazonS3ReadOnlyAccess */
    json_t *pl = json_object_get(r->out, "Policies");
    assert_int_equal(json_array_size(pl), 4);
    pd_req_free(r);
    r = run(c, "GetAccountAuthorizationDetails",
            json_pack("{s:[s], s:i}", "Filter", "Role", "MaxItems", 1));
    assert_int_equal(json_array_size(json_object_get(r->out, "UserDetailList")), 0);
    assert_int_equal(json_array_size(json_object_get(r->out, "RoleDetailList")), 1);
    assert_false(json_is_true(json_object_get(r->out, "IsTruncated")));
    pd_req_free(r);
    r = run(c, "GetAccountAuthorizationDetails", json_pack("{s:i}", "MaxItems", 2));
    assert_true(json_is_true(json_object_get(r->out, "IsTruncated")));
    assert_non_null(sget(r->out, "Marker"));
    pd_req_free(r);
}

/* Accounts are separate: the same names live side by side. */
static void accounts(void **state)
{
    struct ctx *c = *state;
    struct pd_db *db = pd_store_db(c->env.store);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    assert_int_equal(pd_iam_db_account_put(db, "111111111111", 0), PD_OK);
    assert_int_equal(pd_db_commit(db), PD_OK);
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "same"));
    struct pd_req *r =
        run_as(c, "111111111111", "CreateUser", json_pack("{s:s}", "UserName", "same"));
    assert_null(r->err.def);
    assert_string_equal(sget(r->out, "User.Arn"), "arn:aws:iam::111111111111:user/same");
    pd_req_free(r);
    r = run_as(c, "111111111111", "ListUsers", NULL);
    assert_int_equal(json_array_size(json_object_get(r->out, "Users")), 1);
    pd_req_free(r);
}

static json_t *export_all(struct ctx *c)
{
    json_t *out;
    char *err = NULL;
    assert_int_equal(pd_iam_fixtures_export(&c->env, pd_store_db(c->env.store), &out, &err), PD_OK);
    assert_null(err);
    return out;
}

static void wipe(struct ctx *c)
{
    struct pd_db *db = pd_store_db(c->env.store);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    assert_int_equal(pd_db_wipe(db), PD_OK);
    assert_int_equal(pd_iam_db_bootstrap(db), PD_OK);
    assert_int_equal(pd_db_commit(db), PD_OK);
}

static void fixtures_round_trip(void **state)
{
    struct ctx *c = *state;
    const char *dir = getenv("PODIAM_TEST_DATA");
    if (!dir)
        skip();
    char path[1024];
    snprintf(path, sizeof path, "%s/iam/fixtures.json", dir);
    char *err = NULL;
    int rc = pd_iam_fixtures_load_file(&c->env, pd_store_db(c->env.store), path, &err);
    if (rc)
        fail_msg("load: %s", err);

    /* what was loaded is there, with its fixed ids and secrets */
    struct pd_req *r = run(c, "GetUser", json_pack("{s:s}", "UserName", "alice"));
    assert_string_equal(sget(r->out, "User.UserId"), "AIDAFIXTUREALICE0001");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r->out, "User"), "CreateDate")),
        1717243200000LL);
    pd_req_free(r);
    r = run(c, "GetPolicy",
            json_pack("{s:s}", "PolicyArn", "arn:aws:iam::000000000000:policy/evolving"));
    assert_string_equal(sget(r->out, "Policy.DefaultVersionId"), "v3");
    pd_req_free(r);
    {
        struct pd_arena a;
        pd_arena_init(&a);
        const char *acct, *secret, *status;
        struct pd_iam_user *u;
        assert_int_equal(pd_iam_db_access_key_find(pd_store_db(c->env.store), &a,
                                                   "AKIAROOT111111111111", &acct, &u, &secret,
                                                   &status),
                         PD_OK);
        assert_string_equal(acct, "111111111111");
        assert_null(u);
        assert_string_equal(secret, "root-secret-1111");
        pd_arena_cleanup(&a);
    }

    json_t *first = export_all(c);
    wipe(c);
    r = run(c, "ListUsers", NULL);
    assert_int_equal(json_array_size(json_object_get(r->out, "Users")), 0);
    pd_req_free(r);
    rc = pd_iam_fixtures_load(&c->env, pd_store_db(c->env.store), first, "export", &err);
    if (rc)
        fail_msg("reload: %s", err);
    json_t *second = export_all(c);
    if (!json_equal(first, second)) {
        char *a = json_dumps(first, JSON_INDENT(1)), *b = json_dumps(second, JSON_INDENT(1));
        fail_msg("round trip differs:\n%s\n---\n%s", a, b);
    }
    /* the export keeps documents as objects and leaves defaults out */
    json_t *acct0 = json_array_get(json_object_get(first, "accounts"), 0);
    json_t *alice = json_array_get(json_object_get(acct0, "users"), 0);
    assert_null(json_object_get(alice, "path"));
    assert_true(json_is_object(json_object_get(json_object_get(alice, "inline_policies"), "own")));
    json_decref(first);
    json_decref(second);
}

static void fixtures_errors(void **state)
{
    struct ctx *c = *state;
    struct pd_db *db = pd_store_db(c->env.store);
    char *err = NULL;
    json_t *bad = json_loads("{\"accounts\":[{\"id\":\"000000000000\",\"users\":[{\"name\":\"a\"},"
                             "{\"nmae\":\"b\"}]}]}",
                             0, NULL);
    assert_int_equal(pd_iam_fixtures_load(&c->env, db, bad, "t.json", &err), PD_EINVAL);
    assert_non_null(strstr(err, "iam.accounts[0].users[1]"));
    assert_non_null(strstr(err, "unknown field \"nmae\""));
    free(err);
    json_decref(bad);
    /* nothing of a failed load remains */
    struct pd_req *r = run(c, "ListUsers", NULL);
    assert_int_equal(json_array_size(json_object_get(r->out, "Users")), 0);
    pd_req_free(r);

    /* the API's rules apply */
    bad = json_loads("{\"accounts\":[{\"id\":\"000000000000\",\"roles\":[{\"name\":\"r\","
                     "\"trust_policy\":{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                     "{\"AWS\":\"arn:aws:iam::000000000000:user/ghost\"},\"Action\":"
                     "\"sts:AssumeRole\"}]}}]}]}",
                     0, NULL);
    assert_int_equal(pd_iam_fixtures_load(&c->env, db, bad, "t.json", &err), PD_EINVAL);
    assert_non_null(strstr(err, "iam.accounts[0].roles[0] (r): MalformedPolicyDocument"));
    free(err);
    json_decref(bad);
    bad = json_loads("{\"accounts\":[{\"id\":\"12\"}]}", 0, NULL);
    assert_int_equal(pd_iam_fixtures_load(&c->env, db, bad, "t.json", &err), PD_EINVAL);
    assert_non_null(strstr(err, "12-digit"));
    free(err);
    json_decref(bad);
}

/* Service-linked roles (fixtures only) cannot be changed; usage dates show up in Get*. */
static void protected_and_usage(void **state)
{
    struct ctx *c = *state;
    struct pd_db *db = pd_store_db(c->env.store);
    char *err = NULL;
    json_t *fx =
        json_loads("{\"accounts\":[{\"id\":\"000000000000\",\"roles\":[{\"name\":"
                   "\"AWSServiceRoleForX\",\"path\":\"/aws-service-role/x.amazonaws.com/\","
                   "\"trust_policy\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                   "\"Allow\",\"Principal\":{\"Service\":\"x.amazonaws.com\"},\"Action\":"
                   "\"sts:AssumeRole\"}]}}],"
                   "\"users\":[{\"name\":\"ivy\",\"access_keys\":[{\"id\":\"AKIAIVY0000000000001\","
                   "\"secret\":\"s\"}]}]}]}",
                   0, NULL);
    assert_int_equal(pd_iam_fixtures_load(&c->env, db, fx, "t.json", &err), PD_OK);
    json_decref(fx);
    fails(c, "UpdateRole",
          json_pack("{s:s, s:s}", "RoleName", "AWSServiceRoleForX", "Description", "x"),
          "UnmodifiableEntity",
          "Cannot perform the operation on the protected role 'AWSServiceRoleForX' - this role is "
          "only modifiable by AWS");
    fails(c, "DeleteRole", json_pack("{s:s}", "RoleName", "AWSServiceRoleForX"),
          "UnmodifiableEntity", NULL);

    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_iam_role role;
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    assert_int_equal(pd_iam_db_role_get(db, &a, ACCT, "awsservicerolefORX", &role), PD_OK);
    assert_int_equal(pd_iam_db_role_touch(db, role.id, 1767225601000LL, "eu-west-1"), PD_OK);
    assert_int_equal(
        pd_iam_db_key_touch(db, "AKIAIVY0000000000001", 1767225602000LL, "us-east-1", "s3"), PD_OK);
    assert_int_equal(pd_db_commit(db), PD_OK);
    pd_arena_cleanup(&a);
    struct pd_req *r = run(c, "GetRole", json_pack("{s:s}", "RoleName", "AWSServiceRoleForX"));
    assert_string_equal(sget(r->out, "Role.RoleLastUsed.Region"), "eu-west-1");
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(r->out, "Role"), "RoleLastUsed"), "LastUsedDate")),
        1767225601000LL);
    pd_req_free(r);
    r = run(c, "GetAccessKeyLastUsed", json_pack("{s:s}", "AccessKeyId", "AKIAIVY0000000000001"));
    assert_string_equal(sget(r->out, "AccessKeyLastUsed.ServiceName"), "s3");
    assert_string_equal(sget(r->out, "AccessKeyLastUsed.Region"), "us-east-1");
    pd_req_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(users_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_keys_are_not_from_the_id_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(pagination, setup, teardown),
        cmocka_unit_test_setup_teardown(groups, setup, teardown),
        cmocka_unit_test_setup_teardown(access_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(roles, setup, teardown),
        cmocka_unit_test_setup_teardown(managed_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(inline_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(oidc, setup, teardown),
        cmocka_unit_test_setup_teardown(engine_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(accounts, setup, teardown),
        cmocka_unit_test_setup_teardown(fixtures_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(fixtures_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(protected_and_usage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
