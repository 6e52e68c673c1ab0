/* test_ctl_scenario.c - unit tests for client/scenario.c: scenario parsing and its errors,
 * ${VAR} substitution, JSON paths and expectation matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "scenario.h"

static int parse_text(struct pd_arena *a, const char *text, struct pdc_scenario *s,
                      const char **err)
{
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    int rc = pdc_scenario_parse(a, doc, s, err);
    json_decref(doc);
    return rc;
}

static void parse_ok(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pdc_scenario s;
    const char *err;
    int rc =
        parse_text(&a,
                   "{\"name\":\"n\",\"description\":\"d\",\"fixtures\":\"../f.json\",\"steps\":["
                   "{\"name\":\"one\",\"run\":[\"aws\",\"sts\"],\"env\":{\"A\":\"1\"},"
                   "\"expect\":{\"exit\":3,\"stdout_contains\":[\"x\"],\"json\":{\"a.b\":1}},"
                   "\"capture\":{\"V\":\"a.c\"},\"timeout\":5,\"requires\":[\"kubectl\"]},"
                   "{\"name\":\"two\",\"shell\":\"echo hi\",\"stdin\":\"in\","
                   "\"expect\":{\"stderr_contains\":\"e\"}}]}",
                   &s, &err);
    assert_int_equal(rc, PD_OK);
    assert_string_equal(s.name, "n");
    assert_string_equal(s.description, "d");
    assert_string_equal(s.fixtures, "../f.json");
    assert_int_equal(s.nsteps, 2);
    assert_string_equal(s.steps[0].name, "one");
    assert_int_equal(json_array_size(s.steps[0].run), 2);
    assert_null(s.steps[0].shell);
    assert_int_equal(s.steps[0].has_exit, 1);
    assert_int_equal(s.steps[0].exit_code, 3);
    assert_int_equal(s.steps[0].timeout_s, 5);
    assert_non_null(s.steps[0].capture);
    assert_non_null(s.steps[0].json);
    assert_string_equal(s.steps[1].shell, "echo hi");
    assert_string_equal(s.steps[1].stdin_text, "in");
    assert_int_equal(s.steps[1].has_exit, 0);
    assert_int_equal(s.steps[1].exit_code, 0); /* success expected by default */
    assert_int_equal(s.steps[1].timeout_s, 180);
    assert_true(json_is_string(s.steps[1].stderr_contains)); /* one string = list of one */
    assert_null(s.skip_unless);
    assert_null(s.steps[0].skip_unless);
    pdc_scenario_free(&s);
    /* a probe for the file and for a step */
    rc = parse_text(&a,
                    "{\"name\":\"n\",\"skip_unless\":{\"run\":[\"aws\",\"eks\",\"help\"],"
                    "\"why\":\"old CLI\"},\"steps\":[{\"name\":\"one\",\"run\":[\"x\"],"
                    "\"skip_unless\":{\"shell\":\"kubectl auth --help | grep -q whoami\","
                    "\"why\":\"no whoami\"}}]}",
                    &s, &err);
    assert_int_equal(rc, PD_OK);
    assert_string_equal(json_string_value(json_object_get(s.skip_unless, "why")), "old CLI");
    assert_string_equal(json_string_value(json_object_get(s.steps[0].skip_unless, "shell")),
                        "kubectl auth --help | grep -q whoami");
    pdc_scenario_free(&s);
    pd_arena_cleanup(&a);
}

static void parse_errors(void **state)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"[]", "the scenario must be a JSON object"},
        {"{\"steps\":[{\"name\":\"a\",\"run\":[\"x\"]}]}", "scenario: \"name\" is required"},
        {"{\"name\":\"n\",\"steps\":[]}", "scenario: \"steps\" must be a non-empty list"},
        {"{\"name\":\"n\",\"stpes\":[]}", "scenario: unknown field \"stpes\""},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\"}]}",
         "steps[0] (a): exactly one of \"run\" and \"shell\""},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"shell\":\"y\"}]}",
         "steps[0] (a): exactly one of \"run\" and \"shell\""},
        {"{\"name\":\"n\",\"steps\":[{\"run\":[\"x\"]}]}", "steps[0]: \"name\" is required"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[1]}]}",
         "steps[0].run: must be a list of strings"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[]}]}",
         "steps[0].run: must be a non-empty list of strings"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"]},{\"name\":\"b\","
         "\"run\":[\"x\"],\"expect\":{\"exits\":0}}]}",
         "steps[1].expect: unknown field \"exits\""},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"expect\":{\"exit\":\"0\"}}]"
         "}",
         "steps[0].expect.exit: must be an integer"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"env\":{\"A\":1}}]}",
         "steps[0].env: must be an object of strings"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"capture\":[]}]}",
         "steps[0].capture: must be an object of JSON paths"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"timeout\":0}]}",
         "steps[0].timeout: must be a positive integer"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"skip_unless\":[]}]}",
         "steps[0].skip_unless: must be an object"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"skip_unless\":"
         "{\"run\":[\"y\"]}}]}",
         "steps[0].skip_unless: \"why\" is required"},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"skip_unless\":"
         "{\"why\":\"w\"}}]}",
         "steps[0].skip_unless: exactly one of \"run\" and \"shell\""},
        {"{\"name\":\"n\",\"steps\":[{\"name\":\"a\",\"run\":[\"x\"],\"skip_unless\":"
         "{\"run\":[],\"why\":\"w\"}}]}",
         "steps[0].skip_unless.run: must be a non-empty list of strings"},
        {"{\"name\":\"n\",\"skip_unless\":{\"shell\":\"y\",\"why\":\"w\",\"if\":1},"
         "\"steps\":[{\"name\":\"a\",\"run\":[\"x\"]}]}",
         "scenario.skip_unless: unknown field \"if\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pd_arena a;
        pd_arena_init(&a);
        struct pdc_scenario s;
        const char *err = NULL;
        assert_int_equal(parse_text(&a, cases[i].text, &s, &err), PD_EINVAL);
        assert_non_null(err);
        assert_string_equal(err, cases[i].err);
        assert_null(s.doc);
        pd_arena_cleanup(&a);
    }
}

static void subst(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_kvs vars = {0};
    pd_kvs_add(&a, &vars, "ENDPOINT", "http://127.0.0.1:1", 18, 0);
    pd_kvs_add(&a, &vars, "X_1", "v", 1, 0);
    char *out;
    const char *missing;
    assert_int_equal(pdc_subst(&a, "${ENDPOINT}/a?${X_1}${X_1}", &vars, &out, &missing), PD_OK);
    assert_string_equal(out, "http://127.0.0.1:1/a?vv");
    assert_int_equal(pdc_subst(&a, "no vars $HOME $ {x}", &vars, &out, &missing), PD_OK);
    assert_string_equal(out, "no vars $HOME $ {x}");
    assert_int_equal(pdc_subst(&a, "$${ISSUER##*/} ${X_1}", &vars, &out, &missing), PD_OK);
    assert_string_equal(out, "${ISSUER##*/} v");
    assert_int_equal(pdc_subst(&a, "", &vars, &out, &missing), PD_OK);
    assert_string_equal(out, "");
    assert_int_equal(pdc_subst(&a, "a ${NOPE} b", &vars, &out, &missing), PD_ENOTFOUND);
    assert_string_equal(missing, "NOPE");
    assert_int_equal(pdc_subst(&a, "a ${X_1", &vars, &out, &missing), PD_EINVAL);
    assert_int_equal(pdc_subst(&a, "${A-B}", &vars, &out, &missing), PD_EINVAL);
    assert_string_equal(missing, "${A-B}");
    assert_int_equal(pdc_subst(&a, "${}", &vars, &out, &missing), PD_EINVAL);
    pd_arena_cleanup(&a);
}

static void json_paths(void **state)
{
    json_t *doc =
        json_loads("{\"Role\":{\"Arn\":\"r\",\"List\":[{\"k\":1},{\"k\":2},{\"k\":3}]},"
                   "\"metadata\":{\"annotations\":{\"eks.amazonaws.com/role-arn\":\"x\"}},"
                   "\"n\":null}",
                   0, NULL);
    assert_non_null(doc);
    assert_ptr_equal(pdc_json_path(doc, ""), doc);
    assert_string_equal(json_string_value(pdc_json_path(doc, "Role.Arn")), "r");
    assert_int_equal(json_integer_value(pdc_json_path(doc, "Role.List[1].k")), 2);
    assert_int_equal(json_integer_value(pdc_json_path(doc, "Role.List.1.k")), 2);
    assert_int_equal(json_integer_value(pdc_json_path(doc, "Role.List[-1].k")), 3);
    assert_int_equal(json_integer_value(pdc_json_path(doc, "Role.List.0.k")), 1);
    assert_string_equal(json_string_value(pdc_json_path(
                            doc, "metadata.annotations[\"eks.amazonaws.com/role-arn\"]")),
                        "x");
    assert_true(json_is_null(pdc_json_path(doc, "n")));
    assert_null(pdc_json_path(doc, "Role.List[3]"));
    assert_null(pdc_json_path(doc, "Role.List[-4]"));
    assert_null(pdc_json_path(doc, "Role.List.x"));
    assert_null(pdc_json_path(doc, "Role.Arn.deeper"));
    assert_null(pdc_json_path(doc, "Nope"));
    assert_null(pdc_json_path(doc, "Role.List[1"));
    assert_null(pdc_json_path(doc, "metadata.annotations[\"unterminated"));
    json_decref(doc);
}

static int match(const char *actual, const char *expected)
{
    json_t *a = json_loads(actual, JSON_DECODE_ANY, NULL);
    json_t *e = json_loads(expected, JSON_DECODE_ANY, NULL);
    assert_non_null(a);
    assert_non_null(e);
    int m = pdc_json_match(a, e);
    json_decref(a);
    json_decref(e);
    return m;
}

static void matching(void **state)
{
    assert_true(match("1", "1"));
    assert_true(match("1.0", "1"));
    assert_true(match("1", "1.0"));
    assert_false(match("2", "1"));
    assert_true(match("3", "\"3\""));
    assert_true(match("true", "\"true\""));
    assert_false(match("\"3\"", "3")); /* a number expected: text is not enough */
    assert_true(match("\"a\"", "\"a\""));
    assert_false(match("\"a\"", "\"b\""));
    assert_true(match("[1,\"x\"]", "[1.0,\"x\"]"));
    assert_false(match("[1,2]", "[1]"));
    assert_false(match("[2,1]", "[1,2]"));
    assert_true(match("{\"a\":1,\"b\":[true]}", "{\"b\":[true],\"a\":1}"));
    assert_false(match("{\"a\":1,\"b\":2}", "{\"a\":1}"));
    assert_false(match("{\"a\":1}", "{\"a\":1,\"b\":2}"));
    assert_true(match("null", "null"));
    assert_false(match("null", "false"));
    assert_false(match("false", "true"));
    assert_false(pdc_json_match(NULL, json_null()));

    struct pd_arena a;
    pd_arena_init(&a);
    json_t *v = json_pack("[s,i,b,n,{s:i}]", "x", 42, 1, "k", 1);
    assert_string_equal(pdc_json_text(&a, json_array_get(v, 0)), "x");
    assert_string_equal(pdc_json_text(&a, json_array_get(v, 1)), "42");
    assert_string_equal(pdc_json_text(&a, json_array_get(v, 2)), "true");
    assert_string_equal(pdc_json_text(&a, json_array_get(v, 3)), "null");
    assert_string_equal(pdc_json_text(&a, json_array_get(v, 4)), "{\"k\":1}");
    assert_string_equal(pdc_json_text(&a, NULL), "(absent)");
    json_decref(v);
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ok),   cmocka_unit_test(parse_errors), cmocka_unit_test(subst),
        cmocka_unit_test(json_paths), cmocka_unit_test(matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
