/* test_authorize.c - unit tests for the authorization glue (emulator/authorize.c) with the IAM
 * and STS authz hooks: what a request needs, the global keys it carries (aws:SecureTransport,
 * aws:SourceIp, request tags), the decision log entry and its id, enforce and audit modes, and
 * the hard rules a hook applies before any policy (root cannot assume a role). No sockets: a
 * pd_req is built by hand on a :memory: store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/decisions.h"
#include "authorize.h"
#include "core/err.h"
#include "env.h"
#include "req.h"
#include "services/service.h"
#include "store/store.h"

extern const struct pd_service pd_svc_iam;
extern const struct pd_service pd_svc_sts;

#define ACCT "000000000000"
#define USER_ARN "arn:aws:iam::000000000000:user/u"

struct ctx {
    struct pd_env env;
    char user_id[32];
};

/* Run an IAM operation as root (to set the scene). Steals in. */
static void iam_ok(struct ctx *c, const char *op, json_t *in)
{
    struct pd_req *r = pd_req_new(&c->env);
    r->db = pd_store_db(c->env.store);
    r->who.kind = PD_CALLER_ROOT;
    r->who.account_id = ACCT;
    r->in = in;
    assert_int_equal(pd_db_begin(r->db, 1), PD_OK);
    int rc = pd_service_op(&pd_svc_iam, op)->fn(r);
    if (rc)
        fail_msg("%s: %s", op, r->err.message);
    if (strcmp(op, "CreateUser") == 0)
        snprintf(c->user_id, sizeof c->user_id, "%s",
                 json_string_value(json_object_get(json_object_get(r->out, "User"), "UserId")));
    assert_int_equal(pd_db_commit(r->db), PD_OK);
    pd_req_free(r);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    pd_config_defaults(&c->env.cfg);
    pd_clock_init(&c->env.clock);
    c->env.clock.fixed_ms = 1767225600000LL;
    pd_ids_init(&c->env.ids, 1, 42);
    char *err = NULL;
    assert_int_equal(pd_store_open(":memory:", 0, &c->env.store, &err), PD_OK);
    pd_authorize_init(&c->env);
    iam_ok(c, "CreateUser", json_pack("{s:s}", "UserName", "u"));
    iam_ok(c, "PutUserPolicy",
           json_pack("{s:s, s:s, s:s}", "UserName", "u", "PolicyName", "p", "PolicyDocument",
                     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                     "\"iam:ListRoles\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{"
                     "\"aws:SecureTransport\":\"true\"}}},{\"Effect\":\"Allow\",\"Action\":"
                     "\"iam:CreateUser\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{"
                     "\"aws:RequestTag/team\":\"core\"},\"IpAddress\":{\"aws:SourceIp\":"
                     "\"127.0.0.0/8\"}}}]}"));
    iam_ok(c, "CreateRole",
           json_pack("{s:s, s:s}", "RoleName", "r", "AssumeRolePolicyDocument",
                     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                     "\"Principal\":{\"AWS\":\"" USER_ARN "\"},\"Action\":\"sts:AssumeRole\"}]}"));
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    pd_authorize_cleanup(&c->env);
    pd_store_close(c->env.store);
    pd_ids_cleanup(&c->env.ids);
    free(c);
    return 0;
}

/* A decoded request from the user u (or root), ready for pd_authorize. Steals in. */
static struct pd_req *req(struct ctx *c, const struct pd_service *svc, const char *op, json_t *in,
                          int root)
{
    struct pd_req *r = pd_req_new(&c->env);
    r->db = pd_store_db(c->env.store);
    r->svc = svc;
    r->op = pd_service_op(svc, op);
    assert_non_null(r->op);
    r->in = in ? in : json_object();
    snprintf(r->peer_ip, sizeof r->peer_ip, "127.0.0.1");
    r->who.account_id = ACCT;
    if (root) {
        r->who.kind = PD_CALLER_ROOT;
        r->who.arn = "arn:aws:iam::000000000000:root";
        r->who.user_id = ACCT;
    } else {
        r->who.kind = PD_CALLER_USER;
        r->who.arn = USER_ARN;
        r->who.name = "u";
        r->who.path = "/";
        r->who.user_id = c->user_id;
        r->who.unique_id = c->user_id;
    }
    return r;
}

/* pd_authorize inside a read transaction, as dispatch runs it. */
static int authorize(struct pd_req *r)
{
    assert_int_equal(pd_db_begin(r->db, 0), PD_OK);
    int rc = pd_authorize(r);
    pd_db_rollback(r->db);
    return rc;
}

static json_t *decision(struct ctx *c, struct pd_req *r)
{
    assert_non_null(r->decision_id);
    json_t *d = pd_decisions_get(c->env.decisions, r->decision_id);
    assert_non_null(d);
    return d;
}

static void secure_transport(void **state)
{
    struct ctx *c = *state;
    struct pd_req *r = req(c, &pd_svc_iam, "ListRoles", NULL, 0);
    assert_int_equal(authorize(r), PD_EAWS);
    assert_string_equal(r->err.def->code, "AccessDenied");
    assert_string_equal(r->err.message,
                        "User: " USER_ARN " is not authorized to perform: iam:ListRoles on "
                        "resource: arn:aws:iam::000000000000:role/ because no identity-based "
                        "policy allows the iam:ListRoles action");
    json_t *d = decision(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "decision")), "implicitDeny");
    assert_false(json_is_true(json_object_get(d, "allowed")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "context"), "aws:securetransport")),
        "false");
    json_decref(d);
    pd_req_free(r);

    r = req(c, &pd_svc_iam, "ListRoles", NULL, 0);
    r->tls = 1;
    assert_int_equal(authorize(r), PD_OK);
    d = decision(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "decision")), "allowed");
    json_decref(d);
    pd_req_free(r);
}

static void request_tags_and_source_ip(void **state)
{
    struct ctx *c = *state;
    struct pd_req *r = req(
        c, &pd_svc_iam, "CreateUser",
        json_pack("{s:s, s:[{s:s, s:s}]}", "UserName", "v", "Tags", "Key", "team", "Value", "core"),
        0);
    assert_int_equal(authorize(r), PD_OK);
    pd_req_free(r);
    r = req(
        c, &pd_svc_iam, "CreateUser",
        json_pack("{s:s, s:[{s:s, s:s}]}", "UserName", "v", "Tags", "Key", "team", "Value", "web"),
        0);
    assert_int_equal(authorize(r), PD_EAWS);
    pd_req_free(r);
    r = req(
        c, &pd_svc_iam, "CreateUser",
        json_pack("{s:s, s:[{s:s, s:s}]}", "UserName", "v", "Tags", "Key", "team", "Value", "core"),
        0);
    snprintf(r->peer_ip, sizeof r->peer_ip, "::ffff:192.0.2.7");
    assert_int_equal(authorize(r), PD_EAWS);
    json_t *d = decision(c, r);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "context"), "aws:sourceip")),
        "192.0.2.7");
    json_decref(d);
    pd_req_free(r);
}

static void audit_mode(void **state)
{
    struct ctx *c = *state;
    c->env.cfg.iam_mode = PD_IAM_AUDIT;
    struct pd_req *r = req(c, &pd_svc_iam, "ListUsers", NULL, 0);
    assert_int_equal(authorize(r), PD_OK);
    assert_null(r->err.def);
    json_t *d = decision(c, r);
    assert_string_equal(json_string_value(json_object_get(d, "decision")), "implicitDeny");
    assert_string_equal(json_string_value(json_object_get(d, "mode")), "audit");
    assert_true(json_is_true(json_object_get(d, "allowed")));
    json_decref(d);
    pd_req_free(r);

    c->env.cfg.iam_mode = PD_IAM_OFF;
    r = req(c, &pd_svc_iam, "ListUsers", NULL, 0);
    assert_int_equal(authorize(r), PD_OK);
    assert_null(r->decision_id);
    pd_req_free(r);
}

static void assume_role(void **state)
{
    struct ctx *c = *state;
    /* the trust policy names the user: allowed with no identity policy */
    struct pd_req *r = req(c, &pd_svc_sts, "AssumeRole",
                           json_pack("{s:s, s:s}", "RoleArn", "arn:aws:iam::000000000000:role/r",
                                     "RoleSessionName", "s1"),
                           0);
    assert_int_equal(authorize(r), PD_OK);
    pd_req_free(r);
    /* root never may, even where the trust policy does not name it (checked before any
     * policy; this used to answer with the trust policy's denial) */
    r = req(c, &pd_svc_sts, "AssumeRole",
            json_pack("{s:s, s:s}", "RoleArn", "arn:aws:iam::000000000000:role/r",
                      "RoleSessionName", "s1"),
            1);
    assert_int_equal(authorize(r), PD_EAWS);
    assert_string_equal(r->err.def->code, "AccessDenied");
    assert_string_equal(r->err.message, "Roles may not be assumed by root accounts.");
    pd_req_free(r);
    /* session tags need sts:TagSession in the trust policy */
    r = req(c, &pd_svc_sts, "AssumeRole",
            json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "RoleArn", "arn:aws:iam::000000000000:role/r",
                      "RoleSessionName", "s1", "Tags", "Key", "a", "Value", "b"),
            0);
    assert_int_equal(authorize(r), PD_EAWS);
    assert_string_equal(r->err.message,
                        "User: " USER_ARN " is not authorized to perform: sts:TagSession on "
                        "resource: arn:aws:iam::000000000000:role/r because no role trust policy "
                        "allows the sts:TagSession action");
    pd_req_free(r);
}

static void decision_log_bounds(void **state)
{
    (void)state;
    struct pd_decisions *d = pd_decisions_new(2);
    char id[24];
    /* a trace past 64 KiB is replaced by a note */
    json_t *big = json_array();
    for (int i = 0; i < 2000; i++)
        json_array_append_new(big, json_string("0123456789012345678901234567890123456789"));
    pd_decisions_add(d,
                     json_pack("{s:s, s:[{s:s, s:o}]}", "decision", "allowed", "checks", "action",
                               "iam:ListRoles", "trace", big),
                     id);
    assert_string_equal(id, "d-1");
    json_t *e = pd_decisions_get(d, "d-1");
    json_t *t = json_object_get(json_array_get(json_object_get(e, "checks"), 0), "trace");
    assert_string_equal(json_string_value(json_object_get(t, "truncated")),
                        "trace larger than 64 KiB left out");
    json_decref(e);
    /* a small one is kept whole */
    pd_decisions_add(d,
                     json_pack("{s:s, s:[{s:s, s:{s:i}}]}", "decision", "implicitDeny", "checks",
                               "action", "iam:GetRole", "trace", "x", 1),
                     id);
    e = pd_decisions_get(d, id);
    t = json_object_get(json_array_get(json_object_get(e, "checks"), 0), "trace");
    assert_int_equal(json_integer_value(json_object_get(t, "x")), 1);
    json_decref(e);
    /* the oldest goes first; a reader's reference outlives the eviction */
    json_t *held = pd_decisions_get(d, "d-1");
    pd_decisions_add(d, json_pack("{s:s}", "decision", "allowed"), id);
    assert_string_equal(id, "d-3");
    assert_null(pd_decisions_get(d, "d-1"));
    assert_string_equal(json_string_value(json_object_get(held, "id")), "d-1");
    json_decref(held);
    struct pd_decisions_filter f = {.decision = "denied"};
    json_t *l = pd_decisions_list(d, &f);
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
    /* newest first; after= and limit= apply; ids that are not ours find nothing */
    l = pd_decisions_list(d, NULL);
    assert_int_equal(json_array_size(l), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "id")), "d-3");
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 1), "id")), "d-2");
    json_decref(l);
    f = (struct pd_decisions_filter){.after = 2};
    l = pd_decisions_list(d, &f);
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
    f = (struct pd_decisions_filter){.limit = 1};
    l = pd_decisions_list(d, &f);
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
    assert_null(pd_decisions_get(d, "d-"));
    assert_null(pd_decisions_get(d, "d-3x"));
    assert_null(pd_decisions_get(d, "x-3"));
    assert_null(pd_decisions_get(d, "d--3"));
    pd_decisions_clear(d);
    l = pd_decisions_list(d, NULL);
    assert_int_equal(json_array_size(l), 0);
    json_decref(l);
    pd_decisions_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(secure_transport, setup, teardown),
        cmocka_unit_test_setup_teardown(request_tags_and_source_ip, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(assume_role, setup, teardown),
        cmocka_unit_test(decision_log_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
