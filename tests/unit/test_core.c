/* test_core.c - unit tests for lib/core: buf, arena, clock, str, arn, ids, kv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/arena.h"
#include "core/arn.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/kv.h"
#include "core/str.h"

static void buf_cap(void **state)
{
    struct pd_buf b;
    pd_buf_init(&b, 8);
    assert_int_equal(pd_buf_adds(&b, "12345678"), PD_OK);
    assert_string_equal(pd_buf_str(&b), "12345678");
    assert_int_equal(pd_buf_addc(&b, '9'), PD_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_string_equal(pd_buf_str(&b), "");
    pd_buf_free(&b);
}

static void buf_xml(void **state)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    const char *s = "a<b>&\"c'\x01";
    pd_buf_add_xml(&b, s, strlen(s));
    assert_string_equal(pd_buf_str(&b), "a&lt;b&gt;&amp;&quot;c&apos;&#1;");
    pd_buf_free(&b);
}

static void buf_reserve_json(void **state)
{
    (void)state;
    struct pd_buf b;
    pd_buf_init(&b, 16);
    assert_int_equal(pd_buf_adds(&b, "ab"), PD_OK);
    assert_int_equal(pd_buf_reserve(&b, 10), PD_OK);
    assert_int_equal(b.len, 2);
    assert_string_equal(pd_buf_str(&b), "ab");
    memcpy(b.p + b.len, "cdef", 4);
    pd_buf_commit(&b, 4);
    assert_string_equal(pd_buf_str(&b), "abcdef");
    assert_int_equal(pd_buf_reserve(&b, 11), PD_ETOOBIG); /* past the bound of 16 */
    assert_int_equal(b.len, 0);
    pd_buf_free(&b);

    pd_buf_init(&b, 0);
    const char s[] = "a\"\\/\b\f\n\r\t\x01\x1f\x7f\0\xc3\xa9";
    assert_int_equal(pd_buf_add_json_str(&b, s, sizeof s - 1), PD_OK);
    assert_int_equal(b.len,
                     strlen("\"a\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\\u0000\xc3\xa9\""));
    assert_memory_equal(b.p, "\"a\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\\u0000\xc3\xa9\"",
                        b.len);
    pd_buf_free(&b);
}

static void arena_many(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    for (int i = 0; i < 10000; i++) {
        char *p = pd_arena_printf(&a, "item-%d", i);
        assert_non_null(p);
        assert_true(((uintptr_t)p & 15) == 0);
    }
    char *big = pd_arena_zalloc(&a, 100000);
    assert_int_equal(big[99999], 0);
    assert_string_equal(pd_arena_strdup(&a, "x"), "x");
    pd_arena_cleanup(&a);
}

static void clock_formats(void **state)
{
    char iso[32], amz[17], http[30];
    int64_t ms = 1440938160000LL; /* 2015-08-30T12:36:00Z */
    pd_time_iso8601(ms, 0, iso);
    assert_string_equal(iso, "2015-08-30T12:36:00Z");
    pd_time_amz(ms, amz);
    assert_string_equal(amz, "20150830T123600Z");
    pd_time_http(ms, http);
    assert_string_equal(http, "Sun, 30 Aug 2015 12:36:00 GMT");
    int64_t back;
    assert_int_equal(pd_time_parse_amz(amz, &back), PD_OK);
    assert_true(back == ms);
    assert_int_equal(pd_time_parse_http(http, &back), PD_OK);
    assert_true(back == ms);
    assert_int_equal(pd_time_parse_iso8601("2015-08-30T14:36:00+02:00", &back), PD_OK);
    assert_true(back == ms);
    assert_int_equal(pd_time_parse_iso8601("2015-08-30T12:36:00.250Z", &back), PD_OK);
    assert_true(back == ms + 250);
    assert_int_equal(pd_time_parse_iso8601("2015-08-30", &back), PD_OK);
    assert_int_equal(pd_time_parse_iso8601("2015-02-30", &back), PD_EINVAL);
    assert_int_equal(pd_time_parse_amz("20150830T123600", &back), PD_EINVAL);
    struct pd_clock c;
    pd_clock_init(&c);
    c.fixed_ms = ms;
    assert_true(pd_clock_now(&c) == ms / 1000);
}

static void str_parse(void **state)
{
    int64_t v;
    assert_int_equal(pd_parse_i64("42", 0, 100, &v), PD_OK);
    assert_true(v == 42);
    assert_int_equal(pd_parse_i64("101", 0, 100, &v), PD_EINVAL);
    assert_int_equal(pd_parse_i64("4x", 0, 100, &v), PD_EINVAL);
    assert_int_equal(pd_parse_i64("", 0, 100, &v), PD_EINVAL);
    assert_int_equal(pd_parse_i64("99999999999999999999", 0, INT64_MAX, &v), PD_EINVAL);

    struct pd_arena a;
    pd_arena_init(&a);
    char *out;
    size_t n;
    assert_int_equal(pd_url_decode(&a, "a%20b+c", 7, 1, &out, &n), PD_OK);
    assert_string_equal(out, "a b c");
    assert_int_equal(pd_url_decode(&a, "a%2", 3, 1, &out, &n), PD_EINVAL);
    assert_int_equal(pd_url_decode(&a, "%zz", 3, 1, &out, &n), PD_EINVAL);
    assert_string_equal(pd_url_encode(&a, "a b/~", 5, 1), "a%20b/~");
    assert_string_equal(pd_url_encode(&a, "a b/~", 5, 0), "a%20b%2F~");

    const char *vec[][2] = {{"", ""},
                            {"f", "Zg=="},
                            {"fo", "Zm8="},
                            {"foo", "Zm9v"},
                            {"foob", "Zm9vYg=="},
                            {"fooba", "Zm9vYmE="},
                            {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char *e = pd_base64_encode(&a, vec[i][0], strlen(vec[i][0]), 0);
        assert_string_equal(e, vec[i][1]);
        unsigned char *d;
        assert_int_equal(pd_base64_decode(&a, e, strlen(e), &d, &n), PD_OK);
        assert_int_equal(n, strlen(vec[i][0]));
        assert_memory_equal(d, vec[i][0], n);
    }
    assert_string_equal(pd_base64_encode(&a, "\xfb\xff", 2, 1), "-_8");
    unsigned char *d;
    assert_int_equal(pd_base64_decode(&a, "Zm9v!", 5, &d, &n), PD_EINVAL);
    assert_int_equal(pd_base64_decode(&a, "Zh==", 4, &d, &n), PD_EINVAL); /* stray bits */
    assert_true(pd_utf8_valid("h\xc3\xa9", 3));
    assert_false(pd_utf8_valid("\xc0\xaf", 2));
    assert_false(pd_utf8_valid("\xed\xa0\x80", 3));
    assert_true(pd_strcaseeq("AbC", "aBc"));
    assert_false(pd_strcaseeq("AbC", "aBcd"));
    pd_arena_cleanup(&a);
}

static void arn_parse(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_arn arn;
    assert_int_equal(pd_arn_parse(&a, "arn:aws:iam::123456789012:role/a/b/R", &arn), PD_OK);
    assert_string_equal(arn.service, "iam");
    assert_string_equal(arn.region, "");
    assert_string_equal(arn.account, "123456789012");
    assert_string_equal(arn.resource, "role/a/b/R");
    const char *type, *path, *name;
    assert_int_equal(pd_arn_resource_split(&a, arn.resource, &type, &path, &name), PD_OK);
    assert_string_equal(type, "role");
    assert_string_equal(path, "/a/b/");
    assert_string_equal(name, "R");
    assert_int_equal(pd_arn_parse(&a, "arn:aws:s3:::b/k:x", &arn), PD_OK);
    assert_string_equal(arn.resource, "b/k:x");
    assert_int_equal(pd_arn_parse(&a, "arn:aws:iam", &arn), PD_EINVAL);
    pd_arena_cleanup(&a);
}

static void ids_seeded(void **state)
{
    struct pd_ids g1, g2;
    pd_ids_init(&g1, 1, 42);
    pd_ids_init(&g2, 1, 42);
    char a[22], b[22];
    pd_ids_unique(&g1, "AIDA", 21, a);
    pd_ids_unique(&g2, "AIDA", 21, b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 21);
    assert_memory_equal(a, "AIDA", 4);
    char u[37];
    pd_ids_uuid(&g1, u);
    assert_int_equal(strlen(u), 36);
    assert_int_equal(u[14], '4');
    pd_ids_cleanup(&g1);
    pd_ids_cleanup(&g2);
}

/* pd_form_find finds one parameter without decoding the rest; pd_form_count counts what
 * pd_kvs_parse_form would add. */
static void form_find(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    const char *v;
    const char *f = "X=%zz&Act%69on=Get%20Caller+Identity&Action=second&Y";
    assert_int_equal(pd_form_find(&a, f, strlen(f), "Action", 1, &v), PD_OK);
    assert_string_equal(v, "Get Caller Identity"); /* the first; a bad escape elsewhere is fine */
    assert_int_equal(pd_form_find(&a, f, strlen(f), "Y", 1, &v), PD_OK);
    assert_string_equal(v, "");
    assert_int_equal(pd_form_find(&a, f, strlen(f), "Missing", 1, &v), PD_OK);
    assert_null(v);
    assert_int_equal(pd_form_find(&a, "Action=%4", 9, "Action", 1, &v), PD_EINVAL);
    assert_int_equal(pd_form_find(&a, "Action%=x&Action=y", 18, "Action", 1, &v), PD_OK);
    assert_string_equal(v, "y"); /* an undecodable name is not the one asked for */
    assert_int_equal(pd_form_find(&a, "a+b=1", 5, "a b", 1, &v), PD_OK);
    assert_string_equal(v, "1");
    assert_int_equal(pd_form_find(&a, "a+b=1", 5, "a b", 0, &v), PD_OK);
    assert_null(v);

    const char *forms[] = {"", "&", "a", "a=1&b", "a=1&&b=2&", "&&x&&", "=&="};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct pd_kvs l = {0};
        assert_int_equal(pd_kvs_parse_form(&a, &l, forms[i], strlen(forms[i]), 1), PD_OK);
        assert_int_equal(pd_form_count(forms[i], strlen(forms[i])), l.n);
    }
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_cap),          cmocka_unit_test(buf_xml),
        cmocka_unit_test(buf_reserve_json), cmocka_unit_test(arena_many),
        cmocka_unit_test(clock_formats),    cmocka_unit_test(str_parse),
        cmocka_unit_test(arn_parse),        cmocka_unit_test(ids_seeded),
        cmocka_unit_test(form_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
