/* test_iam_simulate.c - unit tests for the IAM policy simulator (services/iam/iam_simulate.c):
 * SimulateCustomPolicy and SimulatePrincipalPolicy through the service table on a :memory:
 * store; decisions, MatchedStatements and their positions (checked against answers AWS gave
 * for the same documents), MissingContextValues, every ContextKeyType, resource policies,
 * CallerArn, cross-account details, boundaries, pagination and the errors. Also the
 * engine's list of referenced context keys (pd_policy_each_context_key). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/policy.h"
#include "core/err.h"
#include "env.h"
#include "req.h"
#include "services/service.h"
#include "store/store.h"

extern const struct pd_service pd_svc_iam;

#define ACCT "000000000000"
#define USER_ARN "arn:aws:iam::000000000000:user/alice"

/* The AWS CLI reference's simulate-custom-policy example: AWS reports the statement at
 * columns 38..167 of line 1. */
#define DOC_CLI                                                                                    \
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\","   \
    "\"Resource\":\"*\",\"Condition\":{\"DateGreaterThan\":{\"aws:CurrentTime\":"                  \
    "\"2018-08-16T12:00:00Z\"}}}}"

/* AdministratorAccess as AWS stores it: AWS reports its statement at 3:17..8:6. */
#define DOC_ADMIN                                                                                  \
    "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": "             \
    "\"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"

#define DOC_S3                                                                                     \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","        \
    "\"Resource\":\"*\"}]}"
#define DOC_EC2                                                                                    \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ec2:*\","       \
    "\"Resource\":\"*\"}]}"
#define DOC_IAM_GET                                                                                \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:Get*\","    \
    "\"Resource\":\"*\"}]}"
#define DOC_SQS                                                                                    \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sqs:*\","       \
    "\"Resource\":\"*\"}]}"

struct ctx {
    struct pd_env env;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    pd_config_defaults(&c->env.cfg);
    pd_clock_init(&c->env.clock);
    c->env.clock.fixed_ms = 1767225600000LL;
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

/* Run an operation as root of ACCT in a transaction, as dispatch does. Steals in. */
static struct pd_req *run(struct ctx *c, const char *op, json_t *in)
{
    struct pd_req *r = pd_req_new(&c->env);
    r->db = pd_store_db(c->env.store);
    r->who.kind = PD_CALLER_ROOT;
    r->who.account_id = ACCT;
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

static void ok(struct ctx *c, const char *op, json_t *in)
{
    struct pd_req *r = run(c, op, in);
    if (r->err.def)
        fail_msg("%s failed: %s: %s", op, r->err.def->code, r->err.message);
    pd_req_free(r);
}

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

/* Simulate and expect success; the caller frees. */
static struct pd_req *sim(struct ctx *c, const char *op, json_t *in)
{
    struct pd_req *r = run(c, op, in);
    if (r->err.def)
        fail_msg("%s failed: %s: %s", op, r->err.def->code, r->err.message);
    return r;
}

static json_t *result(struct pd_req *r, size_t i)
{
    return json_array_get(json_object_get(r->out, "EvaluationResults"), i);
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_t *matched(json_t *res, size_t i)
{
    return json_array_get(json_object_get(res, "MatchedStatements"), i);
}

static void assert_pos(json_t *st, int sl, int sc, int el, int ec)
{
    json_t *s = json_object_get(st, "StartPosition"), *e = json_object_get(st, "EndPosition");
    assert_int_equal(json_integer_value(json_object_get(s, "Line")), sl);
    assert_int_equal(json_integer_value(json_object_get(s, "Column")), sc);
    assert_int_equal(json_integer_value(json_object_get(e, "Line")), el);
    assert_int_equal(json_integer_value(json_object_get(e, "Column")), ec);
}

/* 1-based column (in characters) of at, on a one-line text. */
static int col_of(const char *text, const char *at)
{
    int col = 1;
    for (const char *p = text; p < at; p++)
        col += ((unsigned char)*p & 0xC0) != 0x80;
    return col;
}

/* A context entry. */
static json_t *entry(const char *name, const char *type, const char *v1, const char *v2)
{
    json_t *vals = json_array();
    if (v1)
        json_array_append_new(vals, json_string(v1));
    if (v2)
        json_array_append_new(vals, json_string(v2));
    return json_pack("{s:s, s:o, s:s}", "ContextKeyName", name, "ContextKeyValues", vals,
                     "ContextKeyType", type);
}

/* The decision for one action under one policy and one context entry. */
static const char *decide(struct ctx *c, const char *doc, const char *action, json_t *e)
{
    json_t *in = json_pack("{s:[s], s:[s]}", "PolicyInputList", doc, "ActionNames", action);
    if (e)
        json_object_set_new(in, "ContextEntries", json_pack("[o]", e));
    struct pd_req *r = sim(c, "SimulateCustomPolicy", in);
    static char out[32];
    snprintf(out, sizeof out, "%s", str(result(r, 0), "EvalDecision"));
    pd_req_free(r);
    return out;
}

/* ------------------------------------------------------------------------------------ */

static void custom_cli_example(void **state)
{
    struct ctx *c = *state;
    /* the CLI reference's example, both ways */
    struct pd_req *r =
        sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", DOC_CLI, "ActionNames",
                      "dynamodb:CreateBackup", "ContextEntries",
                      entry("aws:CurrentTime", "date", "2019-04-25T11:00:00Z", NULL)));
    json_t *res = result(r, 0);
    assert_string_equal(str(res, "EvalActionName"), "dynamodb:CreateBackup");
    assert_string_equal(str(res, "EvalResourceName"), "*");
    assert_string_equal(str(res, "EvalDecision"), "allowed");
    assert_int_equal(json_array_size(json_object_get(res, "MatchedStatements")), 1);
    assert_string_equal(str(matched(res, 0), "SourcePolicyId"), "PolicyInputList.1");
    assert_string_equal(str(matched(res, 0), "SourcePolicyType"), "IAM Policy");
    assert_pos(matched(res, 0), 1, 38, 1, 167);
    assert_int_equal(json_array_size(json_object_get(res, "MissingContextValues")), 0);
    /* same account, all resources: no details, no per-resource results */
    assert_null(json_object_get(res, "EvalDecisionDetails"));
    assert_null(json_object_get(res, "ResourceSpecificResults"));
    assert_null(json_object_get(res, "PermissionsBoundaryDecisionDetail"));
    assert_false(json_is_true(json_object_get(r->out, "IsTruncated")));
    pd_req_free(r);

    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", DOC_CLI, "ActionNames",
                      "dynamodb:CreateBackup", "ContextEntries",
                      entry("aws:CurrentTime", "date", "2014-04-25T11:00:00Z", NULL)));
    res = result(r, 0);
    assert_string_equal(str(res, "EvalDecision"), "implicitDeny");
    assert_int_equal(json_array_size(json_object_get(res, "MatchedStatements")), 0);
    pd_req_free(r);

    /* without the entry: the condition cannot hold, and the key is reported missing */
    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s]}", "PolicyInputList", DOC_CLI, "ActionNames",
                      "dynamodb:CreateBackup"));
    res = result(r, 0);
    assert_string_equal(str(res, "EvalDecision"), "implicitDeny");
    assert_int_equal(json_array_size(json_object_get(res, "MissingContextValues")), 1);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(res, "MissingContextValues"), 0)),
        "aws:CurrentTime");
    pd_req_free(r);
}

static void positions(void **state)
{
    struct ctx *c = *state;
    /* pretty-printed: the statement starts one column past '[' on its line */
    struct pd_req *r = sim(c, "SimulateCustomPolicy",
                           json_pack("{s:[s], s:[s]}", "PolicyInputList", DOC_ADMIN, "ActionNames",
                                     "s3:ListAllMyBuckets"));
    assert_pos(matched(result(r, 0), 0), 3, 17, 8, 6);
    pd_req_free(r);

    /* json.dumps spacing: AWS reports 41 for the first statement ("[{" at 40, 41) */
    const char *spaced = "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "
                         "\"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]}";
    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s]}", "PolicyInputList", spaced, "ActionNames", "s3:GetObject"));
    assert_pos(matched(result(r, 0), 0), 1, 41, 1, (int)strlen(spaced) - 1);
    pd_req_free(r);

    /* a later statement starts just past the previous one's '}' (the comma's column) */
    const char *two = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                      "\"s3:ListBucket\",\"Resource\":\"*\"},{\"Effect\":\"Allow\",\"Action\":"
                      "\"s3:GetObject\",\"Resource\":\"*\"}]}";
    const char *second = strstr(two, "},{") + 1; /* the comma */
    int comma_col = (int)(second - two) + 1;
    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s, s]}", "PolicyInputList", two, "ActionNames", "s3:ListBucket",
                      "s3:GetObject"));
    assert_pos(matched(result(r, 0), 0), 1, 38, 1, comma_col);
    assert_pos(matched(result(r, 1), 0), 1, comma_col, 1, (int)strlen(two) - 1);
    pd_req_free(r);

    /* positions count characters, not bytes */
    const char *utf8 =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"x\",\"Effect\":"
        "\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/\xc3\xa9\"}"
        ",{\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\",\"Resource\":\"*\"}]}";
    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s]}", "PolicyInputList", utf8, "ActionNames", "s3:PutObject"));
    assert_pos(matched(result(r, 0), 0), 1, col_of(utf8, strstr(utf8, "},{") + 1), 1,
               col_of(utf8, utf8 + strlen(utf8)) - 2);
    assert_int_equal(col_of(utf8, strstr(utf8, "},{") + 1) + 1,
                     (int)(strstr(utf8, "},{") + 1 - utf8) + 1); /* one 2-byte character */
    pd_req_free(r);
}

static void matched_statements(void **state)
{
    struct ctx *c = *state;
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"A\",\"Effect\":"
                      "\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},{\"Sid\":\"D\",\"Effect\":"
                      "\"Deny\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"*\"}]}";
    struct pd_req *r =
        sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s, s], s:[s, s, s]}", "PolicyInputList", doc, DOC_S3, "ActionNames",
                      "s3:GetObject", "s3:DeleteObject", "ec2:RunInstances"));
    /* allowed: every Allow that applied, from each input */
    json_t *res = result(r, 0);
    assert_string_equal(str(res, "EvalDecision"), "allowed");
    assert_int_equal(json_array_size(json_object_get(res, "MatchedStatements")), 2);
    assert_string_equal(str(matched(res, 0), "SourcePolicyId"), "PolicyInputList.1");
    assert_string_equal(str(matched(res, 1), "SourcePolicyId"), "PolicyInputList.2");
    /* explicit deny: the deny alone */
    res = result(r, 1);
    assert_string_equal(str(res, "EvalDecision"), "explicitDeny");
    assert_int_equal(json_array_size(json_object_get(res, "MatchedStatements")), 1);
    assert_pos(matched(res, 0), 1, col_of(doc, strstr(doc, "},{") + 1), 1, (int)strlen(doc) - 1);
    /* implicit deny: nothing */
    res = result(r, 2);
    assert_string_equal(str(res, "EvalDecision"), "implicitDeny");
    assert_int_equal(json_array_size(json_object_get(res, "MatchedStatements")), 0);
    pd_req_free(r);
}

static void context_types(void **state)
{
    struct ctx *c = *state;
#define COND(op, key, val)                                                                         \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","        \
    "\"Resource\":\"*\",\"Condition\":{\"" op "\":{\"" key "\":" val "}}}]}"
    assert_string_equal(decide(c, COND("StringEquals", "s3:prefix", "\"home/\""), "s3:ListBucket",
                               entry("s3:prefix", "string", "home/", NULL)),
                        "allowed");
    assert_string_equal(decide(c, COND("StringEquals", "s3:prefix", "\"home/\""), "s3:ListBucket",
                               entry("S3:Prefix", "string", "other/", NULL)),
                        "implicitDeny");
    assert_string_equal(decide(c, COND("ForAnyValue:StringEquals", "aws:TagKeys", "[\"a\",\"b\"]"),
                               "s3:PutObjectTagging", entry("aws:TagKeys", "stringList", "x", "b")),
                        "allowed");
    assert_string_equal(decide(c, COND("ForAllValues:StringEquals", "aws:TagKeys", "[\"a\"]"),
                               "s3:PutObjectTagging", entry("aws:TagKeys", "stringList", "a", "b")),
                        "implicitDeny");
    assert_string_equal(decide(c, COND("NumericLessThan", "s3:max-keys", "\"10\""), "s3:ListBucket",
                               entry("s3:max-keys", "numeric", "5", NULL)),
                        "allowed");
    assert_string_equal(decide(c, COND("ForAnyValue:NumericEquals", "test:n", "\"7\""),
                               "s3:ListBucket", entry("test:n", "numericList", "1", "7")),
                        "allowed");
    assert_string_equal(decide(c, COND("Bool", "aws:SecureTransport", "\"true\""), "s3:GetObject",
                               entry("aws:SecureTransport", "boolean", "true", NULL)),
                        "allowed");
    assert_string_equal(decide(c, COND("Bool", "aws:SecureTransport", "\"true\""), "s3:GetObject",
                               entry("aws:SecureTransport", "boolean", "false", NULL)),
                        "implicitDeny");
    assert_string_equal(decide(c, COND("ForAnyValue:Bool", "test:b", "\"false\""), "s3:GetObject",
                               entry("test:b", "booleanList", "true", "false")),
                        "allowed");
    assert_string_equal(decide(c, COND("IpAddress", "aws:SourceIp", "\"10.0.0.0/8\""),
                               "s3:GetObject", entry("aws:SourceIp", "ip", "10.1.2.3", NULL)),
                        "allowed");
    assert_string_equal(decide(c, COND("IpAddress", "aws:SourceIp", "\"10.0.0.0/8\""),
                               "s3:GetObject", entry("aws:SourceIp", "ip", "192.0.2.1", NULL)),
                        "implicitDeny");
    assert_string_equal(decide(c, COND("ForAnyValue:IpAddress", "test:ips", "\"192.0.2.0/24\""),
                               "s3:GetObject",
                               entry("test:ips", "ipList", "10.0.0.1", "192.0.2.9")),
                        "allowed");
    /* binary values are base64, compared as bytes ("hello" = aGVsbG8=) */
    assert_string_equal(decide(c, COND("BinaryEquals", "test:bin", "\"aGVsbG8=\""), "s3:GetObject",
                               entry("test:bin", "binary", "aGVsbG8=", NULL)),
                        "allowed");
    assert_string_equal(decide(c, COND("BinaryEquals", "test:bin", "\"aGVsbG8=\""), "s3:GetObject",
                               entry("test:bin", "binaryList", "d29ybGQ=", "aGVsbG8=")),
                        "allowed");
    assert_string_equal(decide(c, COND("BinaryEquals", "test:bin", "\"aGVsbG8=\""), "s3:GetObject",
                               entry("test:bin", "binary", "d29ybGQ=", NULL)),
                        "implicitDeny");
    assert_string_equal(
        decide(c, COND("DateLessThan", "aws:CurrentTime", "\"2030-01-01T00:00:00Z\""),
               "s3:GetObject", entry("aws:CurrentTime", "date", "2026-01-01T00:00:00Z", NULL)),
        "allowed");
    assert_string_equal(decide(c, COND("ForAnyValue:DateEquals", "test:d", "\"2020-01-01\""),
                               "s3:GetObject",
                               entry("test:d", "dateList", "2019-01-01", "2020-01-01T00:00:00Z")),
                        "allowed");
    /* an empty list is supplied (not missing): ForAllValues holds, ForAnyValue does not */
    assert_string_equal(decide(c, COND("ForAllValues:StringEquals", "aws:TagKeys", "[\"a\"]"),
                               "s3:GetObject", entry("aws:TagKeys", "stringList", NULL, NULL)),
                        "allowed");
    /* policy variables take their values from the entries; "*" (the default resource) is
     * not a resource a specific ARN pattern matches */
    const char *home = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                       "\"Action\":\"s3:GetObject\",\"Resource\":"
                       "\"arn:aws:s3:::home/${aws:username}/*\"}]}";
    assert_string_equal(
        decide(c, home, "s3:GetObject", entry("aws:username", "string", "alice", NULL)),
        "implicitDeny");
    struct pd_req *r =
        sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s], s:[s, s], s:[o]}", "PolicyInputList", home, "ActionNames",
                      "s3:GetObject", "ResourceArns", "arn:aws:s3:::home/alice/a",
                      "arn:aws:s3:::home/bob/b", "ContextEntries",
                      entry("aws:username", "string", "alice", NULL)));
    json_t *rs = json_object_get(result(r, 0), "ResourceSpecificResults");
    assert_string_equal(str(json_array_get(rs, 0), "EvalResourceDecision"), "allowed");
    assert_string_equal(str(json_array_get(rs, 1), "EvalResourceDecision"), "implicitDeny");
    pd_req_free(r);

    /* values that cannot be of their type are refused (a NumericNotEquals would grant) */
    const char *doc = COND("NumericNotEquals", "test:n", "\"1\"");
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", doc, "ActionNames", "s3:GetObject",
                    "ContextEntries", entry("test:n", "numeric", "many", NULL)),
          "InvalidInput", "Invalid value 'many' for context key test:n of type numeric.");
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", doc, "ActionNames", "s3:GetObject",
                    "ContextEntries", entry("test:b", "boolean", "yes", NULL)),
          "InvalidInput", NULL);
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", doc, "ActionNames", "s3:GetObject",
                    "ContextEntries", entry("aws:SourceIp", "ip", "10.0.0.0/8", NULL)),
          "InvalidInput", NULL);
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", doc, "ActionNames", "s3:GetObject",
                    "ContextEntries", entry("test:d", "date", "tomorrow", NULL)),
          "InvalidInput", NULL);
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", doc, "ActionNames", "s3:GetObject",
                    "ContextEntries", entry("test:bin", "binary", "***", NULL)),
          "InvalidInput", NULL);
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", doc, "ActionNames", "s3:GetObject",
                    "ContextEntries", entry("test:s", "string", "a", "b")),
          "InvalidInput", NULL);
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", doc, "ActionNames", "s3:GetObject",
                    "ContextEntries", entry("test:s", "text", "a", NULL)),
          "ValidationError", NULL);
#undef COND
}

struct keys {
    char names[8][64];
    int n;
};

static int count(void *arg, const char *key)
{
    struct keys *seen = arg;
    if (seen->n < 8)
        snprintf(seen->names[seen->n++], 64, "%s", key);
    return 0;
}

static void missing_context(void **state)
{
    struct ctx *c = *state;
    /* every key the policies name, for whichever action (as AWS lists them), minus those
     * supplied; variables in Resource count; each key once */
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                      "\"s3:ListBucket\",\"Resource\":\"*\",\"Condition\":{\"StringLike\":{"
                      "\"aws:PrincipalTag/allowed_service\":\"s3\"},\"Bool\":{"
                      "\"aws:SecureTransport\":\"true\"}}},{\"Effect\":\"Allow\",\"Action\":"
                      "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/${aws:username}\","
                      "\"Condition\":{\"StringEquals\":{\"aws:principaltag/ALLOWED_service\":"
                      "\"${aws:userid}\"}}}]}";
    struct pd_req *r = sim(c, "SimulateCustomPolicy",
                           json_pack("{s:[s], s:[s], s:[o]}", "PolicyInputList", doc, "ActionNames",
                                     "s3:ListBucket", "ContextEntries",
                                     entry("aws:securetransport", "boolean", "true", NULL)));
    json_t *mv = json_object_get(result(r, 0), "MissingContextValues");
    assert_int_equal(json_array_size(mv), 3);
    assert_string_equal(json_string_value(json_array_get(mv, 0)),
                        "aws:PrincipalTag/allowed_service");
    assert_string_equal(json_string_value(json_array_get(mv, 1)), "aws:username");
    assert_string_equal(json_string_value(json_array_get(mv, 2)), "aws:userid");
    pd_req_free(r);

    /* the engine's list, on its own */
    struct pd_policy *p = NULL;
    assert_int_equal(pd_policy_compile(doc, strlen(doc), PD_POLICY_INLINE, NULL, 0, &p, NULL),
                     PD_OK);
    struct keys seen = {.n = 0};
    assert_int_equal(pd_policy_each_context_key(p, count, &seen), 0);
    assert_int_equal(seen.n, 5);
    assert_string_equal(seen.names[0], "aws:PrincipalTag/allowed_service");
    assert_string_equal(seen.names[1], "aws:SecureTransport");
    assert_string_equal(seen.names[2], "aws:username");
    assert_string_equal(seen.names[3], "aws:principaltag/ALLOWED_service");
    assert_string_equal(seen.names[4], "aws:userid");
    pd_policy_free(p);

    /* Version 2008-10-17: no variables, so none are keys */
    const char *old = "{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                      "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/${aws:username}\"}]}";
    assert_int_equal(pd_policy_compile(old, strlen(old), PD_POLICY_INLINE, NULL, 0, &p, NULL),
                     PD_OK);
    seen.n = 0;
    assert_int_equal(pd_policy_each_context_key(p, count, &seen), 0);
    assert_int_equal(seen.n, 0);
    pd_policy_free(p);
}

static void resources_and_pages(void **state)
{
    struct ctx *c = *state;
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                      "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/ok/*\"},{\"Effect\":\"Deny\","
                      "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/secret/*\"}]}";
    struct pd_req *r =
        sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s], s:[s, s, s]}", "PolicyInputList", doc, "ActionNames",
                      "s3:GetObject", "ResourceArns", "arn:aws:s3:::b/ok/1", "arn:aws:s3:::b/other",
                      "arn:aws:s3:::b/secret/2"));
    json_t *res = result(r, 0);
    assert_int_equal(json_array_size(json_object_get(r->out, "EvaluationResults")), 1);
    /* the aggregate is the most restrictive; its resource is the one that decided it */
    assert_string_equal(str(res, "EvalDecision"), "explicitDeny");
    assert_string_equal(str(res, "EvalResourceName"), "arn:aws:s3:::b/secret/2");
    assert_int_equal(json_array_size(json_object_get(res, "MatchedStatements")), 1);
    assert_true(json_is_object(json_object_get(res, "EvalDecisionDetails")));
    assert_int_equal(json_object_size(json_object_get(res, "EvalDecisionDetails")), 0);
    json_t *rs = json_object_get(res, "ResourceSpecificResults");
    assert_int_equal(json_array_size(rs), 3);
    assert_string_equal(str(json_array_get(rs, 0), "EvalResourceName"), "arn:aws:s3:::b/ok/1");
    assert_string_equal(str(json_array_get(rs, 0), "EvalResourceDecision"), "allowed");
    assert_int_equal(json_array_size(json_object_get(json_array_get(rs, 0), "MatchedStatements")),
                     1);
    assert_string_equal(str(json_array_get(rs, 1), "EvalResourceDecision"), "implicitDeny");
    assert_string_equal(str(json_array_get(rs, 2), "EvalResourceDecision"), "explicitDeny");
    assert_null(json_object_get(json_array_get(rs, 0), "EvalDecisionDetails"));
    pd_req_free(r);

    /* MaxItems / Marker page over the actions */
    json_t *in = json_pack("{s:[s], s:[s, s, s], s:i}", "PolicyInputList", DOC_S3, "ActionNames",
                           "s3:GetObject", "ec2:RunInstances", "s3:PutObject", "MaxItems", 2);
    r = sim(c, "SimulateCustomPolicy", json_deep_copy(in));
    assert_int_equal(json_array_size(json_object_get(r->out, "EvaluationResults")), 2);
    assert_true(json_is_true(json_object_get(r->out, "IsTruncated")));
    const char *marker = str(r->out, "Marker");
    assert_non_null(marker);
    json_object_set_new(in, "Marker", json_string(marker));
    pd_req_free(r);
    r = sim(c, "SimulateCustomPolicy", in);
    assert_int_equal(json_array_size(json_object_get(r->out, "EvaluationResults")), 1);
    assert_string_equal(str(result(r, 0), "EvalActionName"), "s3:PutObject");
    assert_string_equal(str(result(r, 0), "EvalDecision"), "allowed");
    assert_false(json_is_true(json_object_get(r->out, "IsTruncated")));
    pd_req_free(r);
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:i}", "PolicyInputList", DOC_S3, "ActionNames", "s3:GetObject",
                    "MaxItems", 0),
          "ValidationError", NULL);
}

static void boundary_and_errors(void **state)
{
    struct ctx *c = *state;
    struct pd_req *r = sim(c, "SimulateCustomPolicy",
                           json_pack("{s:[s, s], s:[s], s:[s, s]}", "PolicyInputList", DOC_S3,
                                     DOC_EC2, "PermissionsBoundaryPolicyInputList", DOC_S3,
                                     "ActionNames", "s3:GetObject", "ec2:RunInstances"));
    json_t *res = result(r, 0);
    assert_string_equal(str(res, "EvalDecision"), "allowed");
    assert_true(
        json_is_true(json_object_get(json_object_get(res, "PermissionsBoundaryDecisionDetail"),
                                     "AllowedByPermissionsBoundary")));
    assert_int_equal(json_array_size(json_object_get(res, "MatchedStatements")), 2);
    assert_string_equal(str(matched(res, 1), "SourcePolicyId"),
                        "PermissionsBoundaryPolicyInputList.1");
    res = result(r, 1);
    assert_string_equal(str(res, "EvalDecision"), "implicitDeny");
    assert_false(
        json_is_true(json_object_get(json_object_get(res, "PermissionsBoundaryDecisionDetail"),
                                     "AllowedByPermissionsBoundary")));
    pd_req_free(r);

    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s, s], s:[s]}", "PolicyInputList", DOC_S3,
                    "PermissionsBoundaryPolicyInputList", DOC_S3, DOC_EC2, "ActionNames",
                    "s3:GetObject"),
          "InvalidInput", NULL);
    /* malformed inputs: InvalidInput (the operation's modelled error) with IAM's wording */
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s]}", "PolicyInputList", "{\"Version\":", "ActionNames",
                    "s3:GetObject"),
          "InvalidInput", "Syntax errors in policy.");
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s]}", "PolicyInputList",
                    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                    "\"s3:*\"}]}",
                    "ActionNames", "s3:GetObject"),
          "InvalidInput", "Policy statement must contain resources.");
    fails(c, "SimulateCustomPolicy", json_pack("{s:[s]}", "ActionNames", "s3:GetObject"),
          "ValidationError", NULL);
    fails(c, "SimulateCustomPolicy", json_pack("{s:[s]}", "PolicyInputList", DOC_S3),
          "ValidationError", NULL);
}

static void resource_policy(void **state)
{
    struct ctx *c = *state;
    const char *bucket =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
        "\"Principal\":{\"AWS\":\"" USER_ARN "\"},\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::b/*\"},{\"Effect\":\"Deny\",\"Principal\":"
        "\"*\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}";
    /* a resource policy needs a caller, and the caller must be a user */
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:s}", "PolicyInputList", DOC_EC2, "ActionNames",
                    "s3:GetObject", "ResourcePolicy", bucket),
          "InvalidInput", "Invalid caller - Caller must be an IAM user in this context.");
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:s, s:s}", "PolicyInputList", DOC_EC2, "ActionNames",
                    "s3:GetObject", "ResourcePolicy", bucket, "CallerArn",
                    "arn:aws:sts::000000000000:assumed-role/r/s"),
          "InvalidInput", "Invalid caller - Caller must be an IAM user in this context.");
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:s}", "PolicyInputList", DOC_EC2, "ActionNames",
                    "s3:GetObject", "CallerArn", "arn:aws:iam::000000000000:role/r"),
          "InvalidInput", "Invalid caller - Caller must be an IAM user in this context.");

    /* same account: the resource policy naming the user grants by itself */
    struct pd_req *r = sim(c, "SimulateCustomPolicy",
                           json_pack("{s:[s], s:[s, s, s], s:s, s:s, s:[s]}", "PolicyInputList",
                                     DOC_EC2, "ActionNames", "s3:GetObject", "s3:DeleteObject",
                                     "s3:PutObject", "ResourcePolicy", bucket, "CallerArn",
                                     USER_ARN, "ResourceArns", "arn:aws:s3:::b/k"));
    json_t *res = result(r, 0);
    assert_string_equal(str(res, "EvalDecision"), "allowed");
    assert_string_equal(str(matched(res, 0), "SourcePolicyId"), "ResourcePolicy");
    assert_string_equal(str(matched(res, 0), "SourcePolicyType"), "Resource Policy");
    assert_pos(matched(res, 0), 1, 38, 1, (int)(strstr(bucket, "},{") - bucket) + 2);
    assert_int_equal(json_object_size(json_object_get(res, "EvalDecisionDetails")), 0);
    assert_string_equal(str(result(r, 1), "EvalDecision"), "explicitDeny");
    assert_string_equal(str(result(r, 2), "EvalDecision"), "implicitDeny");
    pd_req_free(r);

    /* across accounts both sides must allow; the details say which side did */
    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s, s], s:s, s:s, s:s, s:[s]}", "PolicyInputList", DOC_EC2,
                      "ActionNames", "s3:GetObject", "ec2:RunInstances", "ResourcePolicy", bucket,
                      "CallerArn", USER_ARN, "ResourceOwner", "arn:aws:iam::111122223333:root",
                      "ResourceArns", "arn:aws:s3:::b/k"));
    res = result(r, 0);
    assert_string_equal(str(res, "EvalDecision"), "implicitDeny");
    json_t *d = json_object_get(res, "EvalDecisionDetails");
    assert_string_equal(str(d, "IAM Policy"), "implicitDeny");
    assert_string_equal(str(d, "Resource Policy"), "allowed");
    d = json_object_get(json_array_get(json_object_get(res, "ResourceSpecificResults"), 0),
                        "EvalDecisionDetails");
    assert_string_equal(str(d, "Resource Policy"), "allowed");
    res = result(r, 1);
    assert_string_equal(str(res, "EvalDecision"), "implicitDeny");
    d = json_object_get(res, "EvalDecisionDetails");
    assert_string_equal(str(d, "IAM Policy"), "allowed");
    assert_string_equal(str(d, "Resource Policy"), "implicitDeny");
    pd_req_free(r);
    /* the owner as a bare account id: the same account, the same answer */
    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s], s:s, s:s, s:s, s:[s]}", "PolicyInputList", DOC_EC2,
                      "ActionNames", "s3:GetObject", "ResourcePolicy", bucket, "CallerArn",
                      USER_ARN, "ResourceOwner", "111122223333", "ResourceArns",
                      "arn:aws:s3:::b/k"));
    d = json_object_get(result(r, 0), "EvalDecisionDetails");
    assert_string_equal(str(d, "IAM Policy"), "implicitDeny");
    assert_string_equal(str(d, "Resource Policy"), "allowed");
    pd_req_free(r);
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:s, s:s, s:s}", "PolicyInputList", DOC_EC2, "ActionNames",
                    "s3:GetObject", "ResourcePolicy", bucket, "CallerArn", USER_ARN,
                    "ResourceOwner", "nobody"),
          "InvalidInput", NULL);
    fails(c, "SimulateCustomPolicy",
          json_pack("{s:[s], s:[s], s:s, s:s, s:s}", "PolicyInputList", DOC_EC2, "ActionNames",
                    "s3:GetObject", "ResourcePolicy", bucket, "CallerArn", USER_ARN,
                    "ResourceOwner", "11112222333"),
          "InvalidInput", NULL);

    /* a role trust policy as the resource policy must allow by itself */
    const char *trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                        "\"Principal\":{\"AWS\":\"arn:aws:iam::000000000000:root\"},\"Action\":"
                        "\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":"
                        "\"xyz\"}}}]}";
    const char *assume = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                         "\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\"}]}";
    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s], s:s, s:s, s:[o]}", "PolicyInputList", assume, "ActionNames",
                      "sts:AssumeRole", "ResourcePolicy", trust, "CallerArn", USER_ARN,
                      "ContextEntries", entry("sts:ExternalId", "string", "xyz", NULL)));
    assert_string_equal(str(result(r, 0), "EvalDecision"), "allowed");
    pd_req_free(r);
    r = sim(c, "SimulateCustomPolicy",
            json_pack("{s:[s], s:[s], s:s, s:s}", "PolicyInputList", assume, "ActionNames",
                      "sts:AssumeRole", "ResourcePolicy", trust, "CallerArn", USER_ARN));
    assert_string_equal(str(result(r, 0), "EvalDecision"), "implicitDeny");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(result(r, 0), "MissingContextValues"), 0)),
        "sts:ExternalId");
    pd_req_free(r);
}

/* A user with an inline policy, an attached managed policy, two groups (inline + managed), a
 * boundary; a role; a group. */
static void principal_setup(struct ctx *c)
{
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "alice"));
    ok(c, "PutUserPolicy",
       json_pack("{s:s, s:s, s:s}", "UserName", "alice", "PolicyName", "inline-s3",
                 "PolicyDocument", DOC_S3));
    ok(c, "CreatePolicy",
       json_pack("{s:s, s:s}", "PolicyName", "ec2-all", "PolicyDocument", DOC_EC2));
    ok(c, "AttachUserPolicy",
       json_pack("{s:s, s:s}", "UserName", "alice", "PolicyArn",
                 "arn:aws:iam::000000000000:policy/ec2-all"));
    ok(c, "CreateGroup", json_pack("{s:s}", "GroupName", "readers"));
    ok(c, "AddUserToGroup", json_pack("{s:s, s:s}", "GroupName", "readers", "UserName", "alice"));
    ok(c, "PutGroupPolicy",
       json_pack("{s:s, s:s, s:s}", "GroupName", "readers", "PolicyName", "iam-get",
                 "PolicyDocument", DOC_IAM_GET));
    ok(c, "CreatePolicy",
       json_pack("{s:s, s:s}", "PolicyName", "sqs-all", "PolicyDocument", DOC_SQS));
    ok(c, "AttachGroupPolicy",
       json_pack("{s:s, s:s}", "GroupName", "readers", "PolicyArn",
                 "arn:aws:iam::000000000000:policy/sqs-all"));
    ok(c, "AttachGroupPolicy",
       json_pack("{s:s, s:s}", "GroupName", "readers", "PolicyArn",
                 "arn:aws:iam::aws:policy/AdministratorAccess"));
    ok(c, "CreateRole",
       json_pack("{s:s, s:s}", "RoleName", "app", "AssumeRolePolicyDocument",
                 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                 "{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"));
    ok(c, "PutRolePolicy",
       json_pack("{s:s, s:s, s:s}", "RoleName", "app", "PolicyName", "role-s3", "PolicyDocument",
                 DOC_S3));
}

static const char *decision_of(struct pd_req *r, const char *action)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r->out, "EvaluationResults"), i, v)
    {
        if (strcmp(str(v, "EvalActionName"), action) == 0)
            return str(v, "EvalDecision");
    }
    return NULL;
}

static void principal_policy(void **state)
{
    struct ctx *c = *state;
    principal_setup(c);
    struct pd_req *r = sim(c, "SimulatePrincipalPolicy",
                           json_pack("{s:s, s:[s, s, s, s, s]}", "PolicySourceArn", USER_ARN,
                                     "ActionNames", "s3:GetObject", "ec2:RunInstances",
                                     "iam:GetUser", "sqs:SendMessage", "kms:Decrypt"));
    /* every policy of the user and its group applies; SourcePolicyId is the policy's name */
    json_t *res = result(r, 0);
    assert_string_equal(str(res, "EvalDecision"), "allowed");
    assert_string_equal(str(matched(res, 0), "SourcePolicyId"), "inline-s3");
    assert_string_equal(str(matched(res, 0), "SourcePolicyType"), "IAM Policy");
    assert_string_equal(str(matched(result(r, 1), 0), "SourcePolicyId"), "ec2-all");
    assert_string_equal(str(matched(result(r, 2), 0), "SourcePolicyId"), "iam-get");
    assert_string_equal(str(matched(result(r, 3), 0), "SourcePolicyId"), "sqs-all");
    /* AdministratorAccess (via the group) allows everything, as AWS stores it */
    res = result(r, 4);
    assert_string_equal(str(res, "EvalDecision"), "allowed");
    assert_string_equal(str(matched(res, 0), "SourcePolicyId"), "AdministratorAccess");
    assert_null(json_object_get(res, "PermissionsBoundaryDecisionDetail"));
    pd_req_free(r);

    /* a boundary narrows the user; the simulator says so */
    ok(c, "PutUserPermissionsBoundary",
       json_pack("{s:s, s:s}", "UserName", "alice", "PermissionsBoundary",
                 "arn:aws:iam::000000000000:policy/ec2-all"));
    r = sim(c, "SimulatePrincipalPolicy",
            json_pack("{s:s, s:[s, s]}", "PolicySourceArn", USER_ARN, "ActionNames", "s3:GetObject",
                      "ec2:RunInstances"));
    assert_string_equal(decision_of(r, "s3:GetObject"), "implicitDeny");
    assert_false(json_is_true(
        json_object_get(json_object_get(result(r, 0), "PermissionsBoundaryDecisionDetail"),
                        "AllowedByPermissionsBoundary")));
    assert_string_equal(decision_of(r, "ec2:RunInstances"), "allowed");
    assert_true(json_is_true(
        json_object_get(json_object_get(result(r, 1), "PermissionsBoundaryDecisionDetail"),
                        "AllowedByPermissionsBoundary")));
    pd_req_free(r);
    /* a boundary passed in replaces the stored one */
    r = sim(c, "SimulatePrincipalPolicy",
            json_pack("{s:s, s:[s], s:[s, s]}", "PolicySourceArn", USER_ARN,
                      "PermissionsBoundaryPolicyInputList", DOC_S3, "ActionNames", "s3:GetObject",
                      "ec2:RunInstances"));
    assert_string_equal(decision_of(r, "s3:GetObject"), "allowed");
    assert_string_equal(decision_of(r, "ec2:RunInstances"), "implicitDeny");
    pd_req_free(r);
    ok(c, "DeleteUserPermissionsBoundary", json_pack("{s:s}", "UserName", "alice"));

    /* extra input policies join the user's own */
    const char *deny = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":"
                       "\"s3:*\",\"Resource\":\"*\"}]}";
    r = sim(c, "SimulatePrincipalPolicy",
            json_pack("{s:s, s:[s], s:[s]}", "PolicySourceArn", USER_ARN, "PolicyInputList", deny,
                      "ActionNames", "s3:GetObject"));
    assert_string_equal(str(result(r, 0), "EvalDecision"), "explicitDeny");
    assert_string_equal(str(matched(result(r, 0), 0), "SourcePolicyId"), "PolicyInputList.1");
    pd_req_free(r);

    /* a role, a group */
    r = sim(c, "SimulatePrincipalPolicy",
            json_pack("{s:s, s:[s, s]}", "PolicySourceArn", "arn:aws:iam::000000000000:role/app",
                      "ActionNames", "s3:GetObject", "ec2:RunInstances"));
    assert_string_equal(decision_of(r, "s3:GetObject"), "allowed");
    assert_string_equal(str(matched(result(r, 0), 0), "SourcePolicyId"), "role-s3");
    assert_string_equal(decision_of(r, "ec2:RunInstances"), "implicitDeny");
    pd_req_free(r);
    r = sim(c, "SimulatePrincipalPolicy",
            json_pack("{s:s, s:[s, s]}", "PolicySourceArn",
                      "arn:aws:iam::000000000000:group/readers", "ActionNames", "iam:GetRole",
                      "sqs:SendMessage"));
    assert_string_equal(decision_of(r, "iam:GetRole"), "allowed");
    assert_string_equal(decision_of(r, "sqs:SendMessage"), "allowed");
    pd_req_free(r);

    /* the caller defaults to the user (a resource policy naming it applies); a role needs one */
    const char *bucket = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                         "\"Principal\":{\"AWS\":\"" USER_ARN "\"},\"Action\":\"kms:Decrypt\","
                         "\"Resource\":\"*\"}]}";
    ok(c, "DetachGroupPolicy",
       json_pack("{s:s, s:s}", "GroupName", "readers", "PolicyArn",
                 "arn:aws:iam::aws:policy/AdministratorAccess"));
    r = sim(c, "SimulatePrincipalPolicy",
            json_pack("{s:s, s:[s], s:s}", "PolicySourceArn", USER_ARN, "ActionNames",
                      "kms:Decrypt", "ResourcePolicy", bucket));
    assert_string_equal(str(result(r, 0), "EvalDecision"), "allowed");
    assert_string_equal(str(matched(result(r, 0), 0), "SourcePolicyId"), "ResourcePolicy");
    pd_req_free(r);
    fails(c, "SimulatePrincipalPolicy",
          json_pack("{s:s, s:[s], s:s}", "PolicySourceArn", "arn:aws:iam::000000000000:role/app",
                    "ActionNames", "kms:Decrypt", "ResourcePolicy", bucket),
          "InvalidInput", "Invalid caller - Caller must be an IAM user in this context.");
    r = sim(c, "SimulatePrincipalPolicy",
            json_pack("{s:s, s:[s], s:s, s:s}", "PolicySourceArn",
                      "arn:aws:iam::000000000000:role/app", "ActionNames", "kms:Decrypt",
                      "ResourcePolicy", bucket, "CallerArn", USER_ARN));
    assert_string_equal(str(result(r, 0), "EvalDecision"), "allowed");
    pd_req_free(r);

    /* errors */
    fails(c, "SimulatePrincipalPolicy",
          json_pack("{s:s, s:[s]}", "PolicySourceArn", "arn:aws:iam::000000000000:role/none",
                    "ActionNames", "s3:GetObject"),
          "NoSuchEntity", "The role with name none cannot be found.");
    fails(c, "SimulatePrincipalPolicy",
          json_pack("{s:s, s:[s]}", "PolicySourceArn", "arn:aws:iam::000000000000:user/none",
                    "ActionNames", "s3:GetObject"),
          "NoSuchEntity", "The user with name none cannot be found.");
    fails(c, "SimulatePrincipalPolicy",
          json_pack("{s:s, s:[s]}", "PolicySourceArn", "arn:aws:iam::000000000000:group/none",
                    "ActionNames", "s3:GetObject"),
          "NoSuchEntity", "The group with name none cannot be found.");
    fails(c, "SimulatePrincipalPolicy",
          json_pack("{s:s, s:[s]}", "PolicySourceArn",
                    "arn:aws:sts::000000000000:assumed-role/app/session", "ActionNames",
                    "s3:GetObject"),
          "InvalidInput",
          "Invalid Entity Arn: arn:aws:sts::000000000000:assumed-role/app/session does not "
          "clearly define entity type and name.");
    fails(c, "SimulatePrincipalPolicy",
          json_pack("{s:s, s:[s]}", "PolicySourceArn", "arn:aws:iam::111122223333:user/alice",
                    "ActionNames", "s3:GetObject"),
          "InvalidInput",
          "Invalid Policy Source Arn: caller's account 000000000000 does not have access to "
          "policies in account 111122223333");
    fails(c, "SimulatePrincipalPolicy", json_pack("{s:[s]}", "ActionNames", "s3:GetObject"),
          "ValidationError", NULL);
}

/* The guide's example of a variable with no value ("Policy variables with no value"): the
 * inverted operator matches the null value, so the Deny applies when the principal tag is
 * not set, whether the object tag is there or not; the ...IfExists form too. */
#define DOC_GUIDE_NO_VALUE(op)                                                                     \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:"            \
    "GetObject\","                                                                                 \
    "\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":\"s3:GetObject\",\"Resource\":"           \
    "\"arn:aws:s3:::amzn-s3-demo-bucket/*\",\"Condition\":{\"" op "\":{\"s3:ExistingObjectTag/"    \
    "Team\":\"${aws:PrincipalTag/Team}\"}}}]}"

static const char *guide_case(struct ctx *c, const char *doc, const char *obj_tag,
                              const char *principal_tag)
{
    json_t *entries = json_array();
    if (obj_tag)
        json_array_append_new(entries, entry("s3:ExistingObjectTag/Team", "string", obj_tag, NULL));
    if (principal_tag)
        json_array_append_new(entries,
                              entry("aws:PrincipalTag/Team", "string", principal_tag, NULL));
    json_t *in = json_pack("{s:[s], s:[s], s:[s], s:o}", "PolicyInputList", doc, "ActionNames",
                           "s3:GetObject", "ResourceArns", "arn:aws:s3:::amzn-s3-demo-bucket/r.txt",
                           "ContextEntries", entries);
    struct pd_req *r = sim(c, "SimulateCustomPolicy", in);
    static char out[32];
    snprintf(out, sizeof out, "%s", str(result(r, 0), "EvalDecision"));
    pd_req_free(r);
    return out;
}

static void variable_without_value(void **state)
{
    struct ctx *c = *state;
    const char *plain = DOC_GUIDE_NO_VALUE("StringNotEquals");
    const char *ifex = DOC_GUIDE_NO_VALUE("StringNotEqualsIfExists");
    assert_string_equal(guide_case(c, plain, "red", "red"), "allowed");
    assert_string_equal(guide_case(c, plain, "blue", "red"), "explicitDeny");
    assert_string_equal(guide_case(c, plain, "red", NULL), "explicitDeny"); /* tag not set */
    assert_string_equal(guide_case(c, plain, NULL, NULL), "explicitDeny");  /* key missing */
    assert_string_equal(guide_case(c, ifex, NULL, "red"), "explicitDeny");
    assert_string_equal(guide_case(c, ifex, "red", NULL), "explicitDeny");
    assert_string_equal(guide_case(c, ifex, "red", "red"), "allowed");
}

/* Where IAM refuses a document at write time (MalformedPolicyDocument), the simulator
 * refuses it too (InvalidInput, the same words), in every input list; what IAM accepts on
 * purpose (docs/policies.md, "Decisions at the edges") the simulator accepts. */
static void write_time_refusals(void **state)
{
    struct ctx *c = *state;
    ok(c, "CreateUser", json_pack("{s:s}", "UserName", "w"));
    static const char *const refused[] = {
        /* a Resource ARN with fewer than six fields */
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:*\","
        "\"Resource\":\"arn:aws:iam::*\"}]}",
        /* a policy variable under a date operator */
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
        "\"Resource\":\"*\",\"Condition\":{\"DateNotEquals\":{\"aws:CurrentTime\":"
        "\"${aws:TokenIssueTime}\"}}}]}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        fails(c, "PutUserPolicy",
              json_pack("{s:s, s:s, s:s}", "UserName", "w", "PolicyName", "p", "PolicyDocument",
                        refused[i]),
              "MalformedPolicyDocument", "The policy failed legacy parsing");
        fails(c, "CreatePolicy",
              json_pack("{s:s, s:s}", "PolicyName", "p", "PolicyDocument", refused[i]),
              "MalformedPolicyDocument", "The policy failed legacy parsing");
        fails(c, "SimulateCustomPolicy",
              json_pack("{s:[s], s:[s]}", "PolicyInputList", refused[i], "ActionNames",
                        "iam:GetUser"),
              "InvalidInput", "The policy failed legacy parsing");
        fails(c, "SimulateCustomPolicy",
              json_pack("{s:[s], s:[s], s:[s]}", "PolicyInputList",
                        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                        "\"Action\":\"*\",\"Resource\":\"*\"}]}",
                        "PermissionsBoundaryPolicyInputList", refused[i], "ActionNames",
                        "iam:GetUser"),
              "InvalidInput", "The policy failed legacy parsing");
        fails(c, "SimulatePrincipalPolicy",
              json_pack("{s:s, s:[s], s:[s]}", "PolicySourceArn", "arn:aws:iam::" ACCT ":user/w",
                        "PolicyInputList", refused[i], "ActionNames", "iam:GetUser"),
              "InvalidInput", "The policy failed legacy parsing");
    }
    /* accepted on purpose, by both */
    static const char *const accepted[] = {
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:S3:::b/*\"}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
        "\"Resource\":\"*\",\"Condition\":{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*\"}"
        "}}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
        "\"Resource\":\"*\",\"Condition\":{\"NumericEquals\":{\"s3:max-keys\":\"12*\"}}}]}",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
        "\"Resource\":\"arn:aws:s3:::b/${aws:PrincipalTag/team,'x'}/*\"}]}",
    };
    for (size_t i = 0; i < sizeof accepted / sizeof *accepted; i++) {
        ok(c, "PutUserPolicy",
           json_pack("{s:s, s:s, s:s}", "UserName", "w", "PolicyName", "p", "PolicyDocument",
                     accepted[i]));
        struct pd_req *r = sim(c, "SimulateCustomPolicy",
                               json_pack("{s:[s], s:[s]}", "PolicyInputList", accepted[i],
                                         "ActionNames", "s3:ListBucket"));
        pd_req_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(custom_cli_example, setup, teardown),
        cmocka_unit_test_setup_teardown(positions, setup, teardown),
        cmocka_unit_test_setup_teardown(matched_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(context_types, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_context, setup, teardown),
        cmocka_unit_test_setup_teardown(resources_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(boundary_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(resource_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(principal_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(variable_without_value, setup, teardown),
        cmocka_unit_test_setup_teardown(write_time_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
