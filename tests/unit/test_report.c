/* test_report.c - unit tests for emulator/services/report.c (the least-privilege policy
 * written from the pairs a run needed) and the snapshot name rule of services/snapshots.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "services/report.h"
#include "services/snapshots.h"

static json_t *pairs_of(const char *const *p)
{
    json_t *o = json_object();
    for (; *p; p++)
        json_object_set_new(o, *p, json_true());
    return o;
}

static char *dump(json_t *v)
{
    return json_dumps(v, JSON_COMPACT);
}

static void groups_actions_by_service_and_resources(void **state)
{
    (void)state;
    const char *p[] = {"s3:PutObject arn:aws:s3:::b/k", "s3:GetObject arn:aws:s3:::b/k",
                       "s3:ListBucket arn:aws:s3:::b", "iam:GetRole arn:aws:iam::1:role/x", NULL};
    json_t *pairs = pairs_of(p);
    json_t *doc = pd_report_policy(pairs);
    char *s = dump(doc);
    assert_string_equal(
        s, "{\"Version\":\"2012-10-17\",\"Statement\":["
           "{\"Sid\":\"Iam1\",\"Effect\":\"Allow\",\"Action\":\"iam:GetRole\","
           "\"Resource\":\"arn:aws:iam::1:role/x\"},"
           "{\"Sid\":\"S31\",\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
           "\"Resource\":\"arn:aws:s3:::b/k\"},"
           "{\"Sid\":\"S32\",\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\","
           "\"Resource\":\"arn:aws:s3:::b\"}]}");
    free(s);
    json_decref(doc);
    json_decref(pairs);
}

static void star_covers_the_action(void **state)
{
    (void)state;
    const char *p[] = {"iam:ListRoles *", "iam:ListRoles arn:aws:iam::1:role/", NULL};
    json_t *pairs = pairs_of(p);
    json_t *doc = pd_report_policy(pairs);
    json_t *st = json_array_get(json_object_get(doc, "Statement"), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "Statement")), 1);
    assert_string_equal(json_string_value(json_object_get(st, "Resource")), "*");
    json_decref(doc);
    json_decref(pairs);
}

/* Regression: resources were joined with '\n' into a group key and split again, so an S3
 * object key holding a newline became two resources (found by fuzz_report). */
static void resource_with_a_newline_stays_whole(void **state)
{
    (void)state;
    const char *p[] = {"s3:GetObject arn:aws:s3:::b/a\nb", "s3:PutObject arn:aws:s3:::b/a", NULL};
    json_t *pairs = pairs_of(p);
    json_t *doc = pd_report_policy(pairs);
    json_t *sts = json_object_get(doc, "Statement");
    assert_int_equal(json_array_size(sts), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(sts, 0), "Resource")),
                        "arn:aws:s3:::b/a\nb");
    assert_string_equal(json_string_value(json_object_get(json_array_get(sts, 1), "Resource")),
                        "arn:aws:s3:::b/a");
    json_decref(doc);
    json_decref(pairs);
}

static void sids_are_unique(void **state)
{
    (void)state;
    /* "s-3" and "s3" make the same Sid prefix, with "s1" sorted between them: numbering
     * that restarted per run of equal prefixes wrote "S31" twice */
    const char *p[] = {"s-3:A r1", "s1:Z r4", "s3:B r2", "s3:C r3", NULL};
    json_t *pairs = pairs_of(p);
    json_t *doc = pd_report_policy(pairs);
    json_t *seen = json_object();
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(doc, "Statement"), i, st)
    {
        const char *sid = json_string_value(json_object_get(st, "Sid"));
        assert_null(json_object_get(seen, sid));
        json_object_set_new(seen, sid, json_true());
    }
    assert_int_equal(json_object_size(seen), 4);
    json_decref(seen);
    json_decref(doc);
    json_decref(pairs);
}

static void nothing_needed_is_no_policy(void **state)
{
    (void)state;
    json_t *empty = json_object();
    assert_null(pd_report_policy(empty));
    assert_null(pd_report_policy(NULL));
    json_decref(empty);
}

static void snapshot_names(void **state)
{
    (void)state;
    const char *good[] = {"a", "base", "pytest-0123abcd-test_x.py-test_y", "A.b_c-d", NULL};
    const char *bad[] = {"",    ".",    "..",       ".hidden", "a/b",   "../x",
                         "a b", "a\\b", "\xc3\xa9", "a\nb",    "x%2Fy", NULL};
    for (const char **g = good; *g; g++)
        assert_true(pd_snapshots_name_ok(*g));
    for (const char **b = bad; *b; b++)
        assert_false(pd_snapshots_name_ok(*b));
    char long_name[66];
    memset(long_name, 'x', 65);
    long_name[65] = '\0';
    assert_false(pd_snapshots_name_ok(long_name));
    long_name[64] = '\0';
    assert_true(pd_snapshots_name_ok(long_name));
    assert_false(pd_snapshots_name_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups_actions_by_service_and_resources),
        cmocka_unit_test(star_covers_the_action),
        cmocka_unit_test(resource_with_a_newline_stays_whole),
        cmocka_unit_test(sids_are_unique),
        cmocka_unit_test(nothing_needed_is_no_policy),
        cmocka_unit_test(snapshot_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
