/*
 * test_policy.c - the IAM policy engine: focused tests of the matchers and parsers, and a
 * table-driven corpus (tests/data/policy/NAME.json, found through PODIAM_TEST_DATA) of cases
 * written from the IAM User Guide, each with the decision AWS documents and the rule why.
 *
 * Corpus case shapes (see tests/data/policy/README.md):
 *   evaluation: {name, reason, policies{identity[], boundary, session[], resource, trust,
 *                scps[]}, request{action, resource|resources, resource_account, principal},
 *                context{key: value|[values]}, expect, expect_by?, expect_missing?}
 *   validation: {name, reason, kind, policy | policy_text, expect_error (null = valid)}
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/policy.h"
#include "auth/policy_int.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"

/* ---- focused tests ---------------------------------------------------------------------- */

static void glob_rules(void **state)
{
    (void)state;
    assert_true(pd_pol_glob("s3:get*", 7, "s3:getobject", 12, 1));
    assert_true(pd_pol_glob("S3:GET*", 7, "s3:getobject", 12, 1));
    assert_false(pd_pol_glob("S3:GET*", 7, "s3:getobject", 12, 0));
    assert_true(pd_pol_glob("a?c", 3, "abc", 3, 0));
    assert_false(pd_pol_glob("a?c", 3, "ac", 2, 0));
    assert_true(pd_pol_glob("a?c", 3,
                            "a\xc3\xa9"
                            "c",
                            4, 0)); /* ? is one character */
    assert_true(pd_pol_glob("*", 1, "", 0, 0));
    assert_true(pd_pol_glob("a*b*c", 5, "axxbyyc", 7, 0));
    assert_false(pd_pol_glob("a*b*c", 5, "axxbyy", 6, 0));
    assert_true(pd_pol_glob("a\\*", 3, "a*", 2, 0)); /* escaped star is literal */
    assert_false(pd_pol_glob("a\\*", 3, "ab", 2, 0));
    assert_true(pd_pol_glob("**x", 3, "abx", 3, 0));
}

static void arn_rules(void **state)
{
    (void)state;
    /* the IAM guide's example: ArnLike matches field by field */
    assert_false(pd_pol_arn_match("arn:aws:someservice:*:111122223333:finance/*",
                                  "arn:aws:someservice:us-east-2:999999999999:store/abc:"
                                  "111122223333:finance/document.txt"));
    assert_true(pd_pol_glob("arn:aws:someservice:*:111122223333:finance/*", 44,
                            "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:"
                            "finance/document.txt",
                            86, 0));
    assert_true(pd_pol_arn_match("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b/c"));
    assert_true(pd_pol_arn_match("arn:aws:logs:*:*:*", "arn:aws:logs:us-east-1:1:log-group:x:y"));
    assert_true(pd_pol_arn_match("*", "arn:aws:s3:::b"));
    assert_false(pd_pol_arn_match("arn:aws:s3:::Bucket", "arn:aws:s3:::bucket"));
}

static void cidr_rules(void **state)
{
    (void)state;
    struct pd_cidr net, ip;
    assert_int_equal(pd_pol_parse_cidr("203.0.113.0/24", 14, 1, &net), PD_OK);
    assert_int_equal(pd_pol_parse_cidr("203.0.113.77", 12, 0, &ip), PD_OK);
    assert_true(pd_pol_cidr_contains(&net, &ip));
    assert_int_equal(pd_pol_parse_cidr("203.0.114.1", 11, 0, &ip), PD_OK);
    assert_false(pd_pol_cidr_contains(&net, &ip));
    assert_int_equal(pd_pol_parse_cidr("2001:DB8:1234:5678::/64", 23, 1, &net), PD_OK);
    assert_int_equal(pd_pol_parse_cidr("2001:db8:1234:5678:1::1", 23, 0, &ip), PD_OK);
    assert_true(pd_pol_cidr_contains(&net, &ip));
    assert_int_equal(pd_pol_parse_cidr("10.0.0.1", 8, 1, &net), PD_OK);
    assert_int_equal(net.bits, 32); /* no prefix: /32 */
    assert_int_equal(pd_pol_parse_cidr("10.0.0.1/33", 11, 1, &net), PD_EINVAL);
    assert_int_equal(pd_pol_parse_cidr("10.0.0/8", 8, 1, &net), PD_EINVAL);
    assert_int_equal(pd_pol_parse_cidr("10.0.0.0/8", 10, 0, &net), PD_EINVAL);
}

static void value_parsers(void **state)
{
    (void)state;
    int64_t ms;
    double d;
    assert_int_equal(pd_pol_parse_date("2020-01-01T00:00:01Z", 20, &ms), PD_OK);
    assert_true(ms == 1577836801000LL);
    assert_int_equal(pd_pol_parse_date("1577836801", 10, &ms), PD_OK);
    assert_true(ms == 1577836801000LL);
    assert_int_equal(pd_pol_parse_date("2020-01-01", 10, &ms), PD_OK);
    assert_true(ms == 1577836800000LL);
    assert_int_equal(pd_pol_parse_date("2020-01-01T02:00:00+02:00", 25, &ms), PD_OK);
    assert_true(ms == 1577836800000LL);
    assert_int_equal(pd_pol_parse_date("yesterday", 9, &ms), PD_EINVAL);
    assert_int_equal(pd_pol_parse_number("10", 2, &d), PD_OK);
    assert_true(d == 10.0);
    assert_int_equal(pd_pol_parse_number("-1.5", 4, &d), PD_OK);
    assert_true(d == -1.5);
    assert_int_equal(pd_pol_parse_number("0x10", 4, &d), PD_EINVAL);
    assert_int_equal(pd_pol_parse_number("", 0, &d), PD_EINVAL);
    assert_int_equal(pd_pol_parse_bool("TRUE", 4), 1);
    assert_int_equal(pd_pol_parse_bool("false", 5), 0);
    assert_int_equal(pd_pol_parse_bool("yes", 3), -1);
}

static void size_count(void **state)
{
    (void)state;
    const char *t = "{ \"a\" :\n\t\"b c\" }\r\n";
    assert_int_equal(pd_policy_size_nonws(t, strlen(t)), 10);
    const char *u = "\"\xc3\xa9\""; /* é is one character */
    assert_int_equal(pd_policy_size_nonws(u, strlen(u)), 3);
}

static struct pd_policy *compile_ok(const char *text, enum pd_policy_kind kind)
{
    char err[256];
    const char *msg = NULL;
    struct pd_policy *p = NULL;
    int rc = pd_policy_compile(text, strlen(text), kind, err, sizeof err, &p, &msg);
    if (rc != PD_OK)
        fail_msg("compile failed: %s", msg ? msg : "?");
    return p;
}

static void positions(void **state)
{
    (void)state;
    const char *t = "{\n"
                    "  \"Version\": \"2012-10-17\",\n"
                    "  \"Statement\": [\n"
                    "    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n"
                    "    {\n"
                    "      \"Sid\": \"Two\", \"Effect\": \"Deny\", \"Action\": \"s3:Put*\",\n"
                    "      \"Resource\": \"arn:aws:s3:::b/{x}\"\n"
                    "    }\n"
                    "  ]\n"
                    "}\n";
    struct pd_policy *p = compile_ok(t, PD_POLICY_INLINE);
    assert_int_equal(pd_policy_statement_count(p), 2);
    unsigned sl, sc, el, ec;
    pd_policy_statement_pos(p, 0, &sl, &sc, &el, &ec);
    assert_int_equal(sl, 4);
    assert_int_equal(sc, 5);
    assert_int_equal(el, 4);
    assert_int_equal(ec, 58);
    pd_policy_statement_pos(p, 1, &sl, &sc, &el, &ec);
    assert_int_equal(sl, 5);
    assert_int_equal(sc, 5);
    assert_int_equal(el, 8);
    assert_int_equal(ec, 5);
    assert_string_equal(pd_policy_statement_sid(p, 1), "Two");
    assert_null(pd_policy_statement_sid(p, 0));
    pd_policy_free(p);

    /* a single statement object, with a brace inside a string before it */
    const char *t2 = "{\"Id\":\"{[\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
                     "\"Resource\":\"*\"}}";
    p = compile_ok(t2, PD_POLICY_INLINE);
    pd_policy_statement_pos(p, 0, &sl, &sc, &el, &ec);
    assert_int_equal(sl, 1);
    assert_int_equal(sc, 24);
    assert_int_equal(ec, 72);
    pd_policy_free(p);
}

static void deep_nesting(void **state)
{
    (void)state;
    /* nesting deeper than any recursion limit of ours must neither hang nor crash */
    char *t = malloc(4096);
    int n = snprintf(t, 4096,
                     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                     "\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},");
    for (int i = 0; i < 1000; i++)
        t[n++] = '[';
    for (int i = 0; i < 1000; i++)
        t[n++] = ']';
    t[n++] = ']';
    t[n++] = '}';
    char err[256];
    const char *msg = NULL;
    struct pd_policy *p = NULL;
    assert_int_equal(pd_policy_compile(t, (size_t)n, PD_POLICY_INLINE, err, sizeof err, &p, &msg),
                     PD_EINVAL);
    assert_string_equal(msg, "Syntax errors in policy.");
    free(t);
}

static int count_principals(void *arg, const char *kind, const char *value, int negated)
{
    int *n = arg;
    (*n)++;
    if (*n == 2) {
        assert_string_equal(kind, "Service");
        assert_string_equal(value, "ec2.amazonaws.com");
        assert_int_equal(negated, 0);
    }
    return 0;
}

static void principals_walk(void **state)
{
    (void)state;
    const char *t = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":"
                    "{\"AWS\":\"arn:aws:iam::111122223333:root\",\"Service\":"
                    "\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}}";
    struct pd_policy *p = compile_ok(t, PD_POLICY_TRUST);
    int n = 0;
    assert_int_equal(pd_policy_each_principal(p, count_principals, &n), 0);
    assert_int_equal(n, 2);
    pd_policy_free(p);
}

static void variables_resolve(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_ctx c;
    pd_ctx_init(&c, &a);
    pd_ctx_add(&c, "aws:username", PD_CTX_STRING, "a*b", (size_t)-1);
    const char *t = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
                    "\"s3:*\",\"Resource\":\"arn:aws:s3:::b/${aws:UserName}/${*}${?}${$}"
                    "${aws:PrincipalTag/team, 'none'}\"}}";
    struct pd_policy *p = compile_ok(t, PD_POLICY_INLINE);
    const struct pd_str *r = &p->st[0].res[0];
    assert_non_null(r->segs);
    assert_string_equal(pd_pol_resolve(&a, r, &c, 0), "arn:aws:s3:::b/a*b/*?$none");
    assert_string_equal(pd_pol_resolve(&a, r, &c, 1), "arn:aws:s3:::b/a\\*b/\\*\\?$none");
    pd_policy_free(p);
    /* Version 2008-10-17 (or none): variables are literal text */
    const char *t2 = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":"
                     "\"arn:aws:s3:::b/${aws:username}\"}}";
    p = compile_ok(t2, PD_POLICY_INLINE);
    assert_null(p->st[0].res[0].segs);
    assert_string_equal(p->st[0].res[0].plain, "arn:aws:s3:::b/${aws:username}");
    pd_policy_free(p);
    pd_arena_cleanup(&a);
}

static void ctx_case(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_ctx c;
    pd_ctx_init(&c, &a);
    pd_ctx_add(&c, "AWS:SourceIP", PD_CTX_IP, "10.1.2.3", (size_t)-1);
    pd_ctx_add(&c, "aws:TagKeys", PD_CTX_STRING, "a", (size_t)-1);
    pd_ctx_add(&c, "aws:tagkeys", PD_CTX_STRING, "B", (size_t)-1);
    pd_ctx_add_empty(&c, "aws:Empty");
    assert_int_equal(pd_ctx_count(&c, "aws:sourceip"), 1);
    assert_int_equal(pd_ctx_count(&c, "AWS:TAGKEYS"), 2);
    assert_string_equal(pd_ctx_get(&c, "aws:TagKeys", 1), "B");
    assert_int_equal(pd_ctx_count(&c, "aws:empty"), 0);
    assert_int_equal(pd_ctx_count(&c, "aws:nothing"), -1);
    pd_arena_cleanup(&a);
}

static void principal_keys(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_ctx c;
    pd_ctx_init(&c, &a);
    struct pd_principal_id w = {.type = PD_PRINCIPAL_USER,
                                .arn = "arn:aws:iam::111122223333:user/div/alice",
                                .account = "111122223333",
                                .unique_id = "AIDAEXAMPLEALICE00001"};
    pd_ctx_add_principal_keys(&c, &w);
    assert_string_equal(pd_ctx_get(&c, "aws:username", 0), "alice");
    assert_string_equal(pd_ctx_get(&c, "aws:PrincipalType", 0), "User");
    assert_string_equal(pd_ctx_get(&c, "aws:userid", 0), "AIDAEXAMPLEALICE00001");
    pd_ctx_init(&c, &a);
    struct pd_principal_id s = {.type = PD_PRINCIPAL_ROLE_SESSION,
                                .arn = "arn:aws:sts::111122223333:assumed-role/app/s1",
                                .role_arn = "arn:aws:iam::111122223333:role/app",
                                .account = "111122223333",
                                .unique_id = "AROAEXAMPLEAPPROLE001:s1"};
    pd_ctx_add_principal_keys(&c, &s);
    assert_int_equal(pd_ctx_count(&c, "aws:username"), -1);
    assert_string_equal(pd_ctx_get(&c, "aws:PrincipalArn", 0),
                        "arn:aws:iam::111122223333:role/app");
    assert_string_equal(pd_ctx_get(&c, "aws:PrincipalType", 0), "AssumedRole");
    pd_arena_cleanup(&a);
}

static void denial_messages(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    assert_string_equal(
        pd_policy_denial_message(&a, "arn:aws:iam::123456789012:user/u", "s3:PutObject",
                                 "arn:aws:s3:::bucket/key", 1, PD_DECISION_IMPLICIT_DENY,
                                 PD_PT_IDENTITY, NULL),
        "User: arn:aws:iam::123456789012:user/u is not authorized to perform: s3:PutObject on "
        "resource: \"arn:aws:s3:::bucket/key\" because no identity-based policy allows the "
        "s3:PutObject action");
    assert_string_equal(pd_policy_denial_message(&a, "arn:aws:iam::1:user/u", "s3:ListAllMyBuckets",
                                                 NULL, 0, PD_DECISION_EXPLICIT_DENY, PD_PT_IDENTITY,
                                                 NULL),
                        "User: arn:aws:iam::1:user/u is not authorized to perform: "
                        "s3:ListAllMyBuckets with an explicit deny in an identity-based policy");
    assert_string_equal(pd_policy_denial_message(&a, "U", "a:b", "R", 0, PD_DECISION_EXPLICIT_DENY,
                                                 PD_PT_RESOURCE, NULL),
                        "User: U is not authorized to perform: a:b on resource: R with an "
                        "explicit deny in a resource-based policy");
    assert_string_equal(pd_policy_denial_message(&a, "U", "a:b", "R", 0, PD_DECISION_EXPLICIT_DENY,
                                                 PD_PT_BOUNDARY, "arn:aws:iam::1:policy/B"),
                        "User: U is not authorized to perform: a:b on resource: R with an "
                        "explicit deny in a permissions boundary: arn:aws:iam::1:policy/B");
    assert_string_equal(pd_policy_denial_message(&a, "U", "a:b", "R", 0, PD_DECISION_IMPLICIT_DENY,
                                                 PD_PT_BOUNDARY, NULL),
                        "User: U is not authorized to perform: a:b on resource: R because no "
                        "permissions boundary allows the a:b action");
    assert_string_equal(pd_policy_denial_message(&a, "U", "sts:AssumeRole", "R", 0,
                                                 PD_DECISION_IMPLICIT_DENY, PD_PT_TRUST, NULL),
                        "User: U is not authorized to perform: sts:AssumeRole on resource: R "
                        "because no role trust policy allows the sts:AssumeRole action");
    assert_string_equal(pd_policy_denial_message(&a, "U", "a:b", "R", 0, PD_DECISION_EXPLICIT_DENY,
                                                 PD_PT_SCP, NULL),
                        "User: U is not authorized to perform: a:b on resource: R with an "
                        "explicit deny in a service control policy");
    assert_string_equal(pd_policy_denial_message(&a, "U", "a:b", "R", 0, PD_DECISION_IMPLICIT_DENY,
                                                 PD_PT_SCP, NULL),
                        "User: U is not authorized to perform: a:b on resource: R because no "
                        "service control policy allows the a:b action");
    assert_string_equal(pd_policy_denial_message(&a, "U", "a:b", "R", 0, PD_DECISION_EXPLICIT_DENY,
                                                 PD_PT_RCP, NULL),
                        "User: U is not authorized to perform: a:b on resource: R with an "
                        "explicit deny in a resource control policy");
    assert_string_equal(pd_policy_denial_message(&a, "U", "a:b", "R", 0, PD_DECISION_IMPLICIT_DENY,
                                                 PD_PT_SESSION, NULL),
                        "User: U is not authorized to perform: a:b on resource: R because no "
                        "session policy allows the a:b action");
    pd_arena_cleanup(&a);
}

static void trace_shape(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_policy *p = compile_ok(
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"A\",\"Effect\":\"Allow\",\"Action\":"
        "\"s3:GetObject\",\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/"
        "team\":\"red\"}}},{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"*\"}]"
        "}",
        PD_POLICY_INLINE);
    struct pd_policy_ref ref = {p, "arn:aws:iam::111122223333:policy/P", PD_SRC_CUSTOMER_MANAGED};
    struct pd_ctx c;
    pd_ctx_init(&c, &a);
    struct pd_authz q;
    memset(&q, 0, sizeof q);
    q.action = "s3:GetObject";
    q.who.type = PD_PRINCIPAL_USER;
    q.who.arn = "arn:aws:iam::111122223333:user/alice";
    q.who.account = "111122223333";
    q.identity = &ref;
    q.nidentity = 1;
    q.ctx = &c;
    q.flags = PD_AUTHZ_TRACE;
    struct pd_authz_result r;
    assert_int_equal(pd_policy_authorize(&a, &q, &r), PD_OK);
    assert_int_equal(r.decision, PD_DECISION_IMPLICIT_DENY);
    assert_int_equal(r.decided_by, PD_PT_IDENTITY);
    assert_int_equal(r.nmissing, 1);
    assert_string_equal(r.missing[0], "aws:PrincipalTag/team");
    assert_int_equal(r.nmatched, 0);
    assert_non_null(r.trace);
    json_t *st0 = json_array_get(
        json_object_get(
            json_array_get(
                json_object_get(json_array_get(json_object_get(r.trace, "evaluations"), 0),
                                "policies"),
                0),
            "statements"),
        0);
    assert_string_equal(json_string_value(json_object_get(st0, "reason")), "condition");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(st0, "condition"), "operator")),
        "StringEquals");
    /* the statement about another action is counted, not listed */
    json_t *pol0 = json_array_get(
        json_object_get(json_array_get(json_object_get(r.trace, "evaluations"), 0), "policies"), 0);
    assert_int_equal(json_array_size(json_object_get(pol0, "statements")), 1);
    assert_int_equal(json_integer_value(json_object_get(pol0, "otherActions")), 1);
    json_decref(r.trace);

    pd_ctx_add(&c, "aws:principaltag/TEAM", PD_CTX_STRING, "red", (size_t)-1);
    assert_int_equal(pd_policy_authorize(&a, &q, &r), PD_OK);
    assert_int_equal(r.decision, PD_DECISION_ALLOW);
    assert_int_equal(r.nmatched, 1);
    assert_int_equal(r.matched[0].index, 0);
    assert_int_equal(r.matched[0].start_line, 1);
    assert_string_equal(pd_psource_name(r.matched[0].ref->source), "user-managed");
    json_decref(r.trace);
    pd_policy_free(p);
    pd_arena_cleanup(&a);
}

/* ---- the corpus ------------------------------------------------------------------------- */

struct corpus {
    int cases, failures;
};

static enum pd_policy_kind kind_of(const char *s)
{
    if (!s || !strcmp(s, "inline"))
        return PD_POLICY_INLINE;
    if (!strcmp(s, "managed"))
        return PD_POLICY_MANAGED;
    if (!strcmp(s, "boundary"))
        return PD_POLICY_BOUNDARY;
    if (!strcmp(s, "session"))
        return PD_POLICY_SESSION;
    if (!strcmp(s, "resource"))
        return PD_POLICY_RESOURCE;
    if (!strcmp(s, "trust"))
        return PD_POLICY_TRUST;
    if (!strcmp(s, "scp"))
        return PD_POLICY_SCP;
    if (!strcmp(s, "rcp"))
        return PD_POLICY_RCP;
    return PD_POLICY_INLINE;
}

static enum pd_psource source_of(const char *s)
{
    if (!s)
        return PD_SRC_CUSTOMER_MANAGED;
    if (!strcmp(s, "user"))
        return PD_SRC_USER_INLINE;
    if (!strcmp(s, "group"))
        return PD_SRC_GROUP_INLINE;
    if (!strcmp(s, "role"))
        return PD_SRC_ROLE_INLINE;
    if (!strcmp(s, "aws-managed"))
        return PD_SRC_AWS_MANAGED;
    return PD_SRC_CUSTOMER_MANAGED;
}

/* Compile one corpus policy: either a document object or {"id","source","doc"}. */
static struct pd_policy *corpus_compile(json_t *v, enum pd_policy_kind kind, const char *name,
                                        const char **OUT_id, enum pd_psource *OUT_src)
{
    json_t *doc = v;
    *OUT_id = NULL;
    *OUT_src = PD_SRC_CUSTOMER_MANAGED;
    if (json_object_get(v, "doc")) {
        doc = json_object_get(v, "doc");
        *OUT_id = json_string_value(json_object_get(v, "id"));
        *OUT_src = source_of(json_string_value(json_object_get(v, "source")));
    }
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char err[256];
    const char *msg = NULL;
    struct pd_policy *p = NULL;
    if (pd_policy_compile(text, strlen(text), kind, err, sizeof err, &p, &msg) != PD_OK)
        print_message("  [%s] policy does not compile: %s\n", name, msg ? msg : "?");
    free(text);
    return p;
}

static void set_principal(struct pd_arena *a, json_t *pj, struct pd_principal_id *w)
{
    memset(w, 0, sizeof *w);
    const char *type = json_string_value(json_object_get(pj, "type"));
    w->arn = json_string_value(json_object_get(pj, "arn"));
    w->account = json_string_value(json_object_get(pj, "account"));
    w->unique_id = json_string_value(json_object_get(pj, "unique_id"));
    w->role_arn = json_string_value(json_object_get(pj, "role_arn"));
    w->user_arn = json_string_value(json_object_get(pj, "user_arn"));
    w->federated = json_string_value(json_object_get(pj, "federated"));
    w->service = json_string_value(json_object_get(pj, "service"));
    w->canonical = json_string_value(json_object_get(pj, "canonical"));
    if (!type || !strcmp(type, "user"))
        w->type = PD_PRINCIPAL_USER;
    else if (!strcmp(type, "root"))
        w->type = PD_PRINCIPAL_ROOT;
    else if (!strcmp(type, "role_session"))
        w->type = PD_PRINCIPAL_ROLE_SESSION;
    else if (!strcmp(type, "federated_user"))
        w->type = PD_PRINCIPAL_FEDERATED_USER;
    else if (!strcmp(type, "web_identity"))
        w->type = PD_PRINCIPAL_WEB_IDENTITY;
    else if (!strcmp(type, "service"))
        w->type = PD_PRINCIPAL_SERVICE;
    else
        w->type = PD_PRINCIPAL_ANONYMOUS;
    /* derive what the ARN says when the case leaves it out */
    if (w->arn && !w->account && strlen(w->arn) > 25) {
        const char *p = strstr(w->arn, "::");
        if (p)
            w->account = pd_arena_strndup(a, p + 2, 12);
    }
    if (w->type == PD_PRINCIPAL_ROLE_SESSION && !w->role_arn && w->arn) {
        const char *r = strstr(w->arn, ":assumed-role/");
        if (r) {
            const char *name = r + 14, *slash = strchr(name, '/');
            if (slash)
                w->role_arn = pd_arena_printf(a, "arn:aws:iam::%s:role/%.*s", w->account,
                                              (int)(slash - name), name);
        }
    }
}

static void set_context(struct pd_arena *a, json_t *cj, struct pd_ctx *c)
{
    const char *k;
    json_t *v;
    json_object_foreach(cj, k, v)
    {
        json_t *items = json_is_array(v) ? v : NULL;
        size_t n = items ? json_array_size(items) : 1;
        if (items && n == 0)
            pd_ctx_add_empty(c, k);
        for (size_t i = 0; i < n; i++) {
            json_t *e = items ? json_array_get(items, i) : v;
            if (json_is_object(e) && json_object_get(e, "binary")) {
                const char *b64 = json_string_value(json_object_get(e, "binary"));
                unsigned char *bin;
                size_t bl;
                if (pd_base64_decode(a, b64, strlen(b64), &bin, &bl) == PD_OK)
                    pd_ctx_add(c, k, PD_CTX_BINARY, (const char *)bin, bl);
                continue;
            }
            char buf[64];
            const char *t = json_string_value(e);
            if (json_is_integer(e)) {
                snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(e));
                t = buf;
            } else if (json_is_real(e)) {
                snprintf(buf, sizeof buf, "%g", json_real_value(e));
                t = buf;
            } else if (json_is_boolean(e)) {
                t = json_is_true(e) ? "true" : "false";
            }
            if (t)
                pd_ctx_add(c, k, PD_CTX_STRING, t, (size_t)-1);
        }
    }
}

static void run_validation(struct corpus *cp, const char *file, json_t *cs)
{
    const char *name = json_string_value(json_object_get(cs, "name"));
    enum pd_policy_kind kind = kind_of(json_string_value(json_object_get(cs, "kind")));
    json_t *want = json_object_get(cs, "expect_error");
    char *text;
    if (json_object_get(cs, "policy_text"))
        text = strdup(json_string_value(json_object_get(cs, "policy_text")));
    else
        text = json_dumps(json_object_get(cs, "policy"), JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    char err[256];
    const char *msg = NULL;
    struct pd_policy *p = NULL;
    int rc = pd_policy_compile(text, strlen(text), kind, err, sizeof err, &p, &msg);
    cp->cases++;
    if (json_is_null(want) || !want) {
        if (rc != PD_OK) {
            cp->failures++;
            print_message("FAIL %s: %s: expected valid, got \"%s\"\n", file, name, msg);
        }
    } else if (rc == PD_OK || !msg || strcmp(msg, json_string_value(want)) != 0) {
        cp->failures++;
        print_message("FAIL %s: %s: expected \"%s\", got \"%s\"\n", file, name,
                      json_string_value(want), rc == PD_OK ? "(valid)" : msg);
    }
    pd_policy_free(p);
    free(text);
}

#define MAXP 16

static void run_evaluation(struct corpus *cp, const char *file, json_t *cs)
{
    const char *name = json_string_value(json_object_get(cs, "name"));
    json_t *pol = json_object_get(cs, "policies"), *rq = json_object_get(cs, "request");
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_policy *owned[MAXP * 4];
    size_t nowned = 0;
    struct pd_policy_ref idr[MAXP], sesr[MAXP], scpr[MAXP], bndr, resr;
    size_t nid = 0, nses = 0, nscp = 0;
    /* organization levels: "scps" (each policy a level of its own) or "scp_levels" /
     * "rcp_levels": [{"target": "r-ab12", "policies": [DOC, ...]}, ...] */
    struct pd_org_level scpl[MAXP], rcpl[MAXP];
    size_t nscpl = 0, nrcpl = 0;
    struct pd_policy_ref orgr[MAXP * 2];
    size_t norgr = 0;
    int have_bnd = 0, have_res = 0, trust = 0, broken = 0;
    struct pd_authz q;
    memset(&q, 0, sizeof q);

    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(pol, "identity"), i, v)
    {
        if (nid == MAXP)
            break;
        const char *id;
        enum pd_psource src;
        struct pd_policy *p = corpus_compile(v, PD_POLICY_INLINE, name, &id, &src);
        broken |= !p;
        owned[nowned++] = p;
        idr[nid++] = (struct pd_policy_ref){p, id ? id : "identity", src};
    }
    json_array_foreach(json_object_get(pol, "session"), i, v)
    {
        if (nses == MAXP)
            break;
        const char *id;
        enum pd_psource src;
        struct pd_policy *p = corpus_compile(v, PD_POLICY_SESSION, name, &id, &src);
        broken |= !p;
        owned[nowned++] = p;
        sesr[nses++] = (struct pd_policy_ref){p, "session", PD_SRC_SESSION};
    }
    json_array_foreach(json_object_get(pol, "scps"), i, v)
    {
        if (nscp == MAXP)
            break;
        const char *id;
        enum pd_psource src;
        struct pd_policy *p = corpus_compile(v, PD_POLICY_SCP, name, &id, &src);
        broken |= !p;
        owned[nowned++] = p;
        scpr[nscp] = (struct pd_policy_ref){p, "scp", PD_SRC_SCP};
        scpl[nscpl++] = (struct pd_org_level){"level", &scpr[nscp], 1};
        nscp++;
    }
    for (int rcp = 0; rcp < 2; rcp++) {
        json_array_foreach(json_object_get(pol, rcp ? "rcp_levels" : "scp_levels"), i, v)
        {
            struct pd_org_level *lv = rcp ? &rcpl[nrcpl] : &scpl[nscpl];
            if ((rcp ? nrcpl : nscpl) == MAXP)
                break;
            lv->target = json_string_value(json_object_get(v, "target"));
            lv->policies = &orgr[norgr];
            lv->n = 0;
            size_t j;
            json_t *d;
            json_array_foreach(json_object_get(v, "policies"), j, d)
            {
                if (norgr == MAXP * 2 || nowned == MAXP * 4)
                    break;
                const char *id;
                enum pd_psource src;
                struct pd_policy *p =
                    corpus_compile(d, rcp ? PD_POLICY_RCP : PD_POLICY_SCP, name, &id, &src);
                broken |= !p;
                owned[nowned++] = p;
                orgr[norgr++] = (struct pd_policy_ref){p, id ? id : (rcp ? "rcp" : "scp"),
                                                       rcp ? PD_SRC_RCP : PD_SRC_SCP};
                lv->n++;
            }
            if (rcp)
                nrcpl++;
            else
                nscpl++;
        }
    }
    if ((v = json_object_get(pol, "boundary"))) {
        const char *id;
        enum pd_psource src;
        struct pd_policy *p = corpus_compile(v, PD_POLICY_BOUNDARY, name, &id, &src);
        broken |= !p;
        owned[nowned++] = p;
        bndr = (struct pd_policy_ref){p, "boundary", PD_SRC_BOUNDARY};
        have_bnd = 1;
    }
    if ((v = json_object_get(pol, "resource")) || (v = json_object_get(pol, "trust"))) {
        trust = json_object_get(pol, "trust") != NULL;
        const char *id;
        enum pd_psource src;
        struct pd_policy *p =
            corpus_compile(v, trust ? PD_POLICY_TRUST : PD_POLICY_RESOURCE, name, &id, &src);
        broken |= !p;
        owned[nowned++] = p;
        resr = (struct pd_policy_ref){p, "resource", PD_SRC_RESOURCE};
        have_res = 1;
    }

    q.action = json_string_value(json_object_get(rq, "action"));
    const char *resources[MAXP];
    json_t *rj = json_object_get(rq, "resources");
    if (!rj)
        rj = json_object_get(rq, "resource");
    if (json_is_string(rj)) {
        resources[0] = json_string_value(rj);
        q.nresources = 1;
    } else if (json_is_array(rj)) {
        json_array_foreach(rj, i, v)
        {
            if (q.nresources < MAXP)
                resources[q.nresources++] = json_string_value(v);
        }
    }
    q.resources = resources;
    q.resource_account = json_string_value(json_object_get(rq, "resource_account"));
    json_t *pj = json_object_get(rq, "principal");
    if (!pj)
        pj = json_pack("{s:s}", "arn", "arn:aws:iam::111122223333:user/alice");
    else
        json_incref(pj);
    set_principal(&a, pj, &q.who);
    struct pd_ctx c;
    pd_ctx_init(&c, &a);
    if (json_object_get(cs, "context"))
        set_context(&a, json_object_get(cs, "context"), &c);
    q.ctx = &c;
    q.identity = idr;
    q.nidentity = nid;
    q.session = sesr;
    q.nsession = nses;
    q.scp_levels = scpl;
    q.nscp_levels = nscpl;
    q.rcp_levels = rcpl;
    q.nrcp_levels = nrcpl;
    q.boundary = have_bnd ? &bndr : NULL;
    q.resource_policy = have_res ? &resr : NULL;
    q.flags = PD_AUTHZ_TRACE | (trust ? PD_AUTHZ_TRUST : 0);

    cp->cases++;
    struct pd_authz_result r;
    int rc = pd_policy_authorize(&a, &q, &r);
    const char *want = json_string_value(json_object_get(cs, "expect"));
    const char *want_by = json_string_value(json_object_get(cs, "expect_by"));
    const char *want_level = json_string_value(json_object_get(cs, "expect_level"));
    if (broken || rc != PD_OK || !want || strcmp(want, pd_decision_name(r.decision)) != 0 ||
        (want_by && strcmp(want_by, pd_ptype_name(r.decided_by)) != 0) ||
        (want_level && (!r.org_level || strcmp(want_level, r.org_level) != 0))) {
        cp->failures++;
        print_message("FAIL %s: %s: expected %s%s%s%s%s, got %s (%s%s%s)\n", file, name, want,
                      want_by ? " by " : "", want_by ? want_by : "", want_level ? " at " : "",
                      want_level ? want_level : "", pd_decision_name(r.decision),
                      pd_ptype_name(r.decided_by), r.org_level ? " at " : "",
                      r.org_level ? r.org_level : "");
        if (getenv("PODIAM_TRACE") && r.trace) {
            char *t = json_dumps(r.trace, JSON_INDENT(1));
            print_message("%s\n", t);
            free(t);
        }
    } else {
        /* the fast path (no trace) must agree with the traced one */
        struct pd_authz_result r2;
        q.flags &= ~PD_AUTHZ_TRACE;
        pd_policy_authorize(&a, &q, &r2);
        if (r2.decision != r.decision || r2.decided_by != r.decided_by ||
            (r.decision == PD_DECISION_EXPLICIT_DENY && r2.org_level != r.org_level)) {
            cp->failures++;
            print_message("FAIL %s: %s: fast path says %s (%s)\n", file, name,
                          pd_decision_name(r2.decision), pd_ptype_name(r2.decided_by));
        }
    }
    json_t *wm = json_object_get(cs, "expect_missing");
    if (wm && json_array_size(wm) != r.nmissing) {
        cp->failures++;
        print_message("FAIL %s: %s: expected %zu missing context keys, got %zu\n", file, name,
                      json_array_size(wm), r.nmissing);
    } else if (wm) {
        json_array_foreach(wm, i, v)
        {
            if (strcmp(json_string_value(v), r.missing[i]) != 0) {
                cp->failures++;
                print_message("FAIL %s: %s: missing key %zu: %s vs %s\n", file, name, i,
                              json_string_value(v), r.missing[i]);
            }
        }
    }
    json_decref(r.trace);
    json_decref(pj);
    for (size_t k = 0; k < nowned; k++)
        pd_policy_free(owned[k]);
    pd_arena_cleanup(&a);
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static void corpus(void **state)
{
    (void)state;
    const char *base = getenv("PODIAM_TEST_DATA");
    if (!base)
        skip();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/policy", base);
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[256];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < 256) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
            names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, name_cmp);
    struct corpus cp = {0, 0};
    for (size_t f = 0; f < nn; f++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        json_error_t je;
        json_t *all = json_load_file(path, 0, &je);
        if (!all)
            fail_msg("%s:%d: %s", path, je.line, je.text);
        size_t i;
        json_t *cs;
        json_array_foreach(all, i, cs)
        {
            if (json_object_get(cs, "expect_error") || json_object_get(cs, "kind"))
                run_validation(&cp, names[f], cs);
            else
                run_evaluation(&cp, names[f], cs);
        }
        json_decref(all);
        free(names[f]);
    }
    print_message("policy corpus: %d cases, %d failures\n", cp.cases, cp.failures);
    assert_true(cp.cases >= 200);
    assert_int_equal(cp.failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(glob_rules),      cmocka_unit_test(arn_rules),
        cmocka_unit_test(cidr_rules),      cmocka_unit_test(value_parsers),
        cmocka_unit_test(size_count),      cmocka_unit_test(positions),
        cmocka_unit_test(principals_walk), cmocka_unit_test(variables_resolve),
        cmocka_unit_test(ctx_case),        cmocka_unit_test(denial_messages),
        cmocka_unit_test(trace_shape),     cmocka_unit_test(deep_nesting),
        cmocka_unit_test(principal_keys),  cmocka_unit_test(corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
