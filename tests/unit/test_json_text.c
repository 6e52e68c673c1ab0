/*
 * test_json_text.c - auth/json_text.c against jansson's own writer: the same bytes as
 * json_dumps(v, JSON_COMPACT) for random trees (every escape class, embedded NUL, UTF-8,
 * integer extremes, reals), and its bounds (buffer cap, nesting depth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "auth/json_text.h"
#include "core/buf.h"
#include "core/err.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* A valid UTF-8 string of up to 24 characters drawn from the escape classes. */
static json_t *random_string(void)
{
    static const char *pieces[] = {"a",    "Z",  "\"", "\\", "/",    "\b",
                                   "\f",   "\n", "\r", "\t", "\x01", "\x1f",
                                   "\x7f", " ",  "é",  "€",  "😀",    "\xe2\x80\xa8"};
    char s[24 * 4 + 1];
    size_t n = 0, count = next() % 25;
    for (size_t i = 0; i < count; i++) {
        const char *p = pieces[next() % (sizeof pieces / sizeof *pieces)];
        memcpy(s + n, p, strlen(p));
        n += strlen(p);
    }
    if (next() % 8 == 0) /* an embedded NUL (json_stringn allows it) */
        s[n++] = '\0';
    return json_stringn(s, n);
}

static json_t *random_value(int depth)
{
    static const json_int_t ints[] = {0, -1, 1, 42, INT64_MAX, INT64_MIN, 1795762944000};
    static const double reals[] = {0.0, -0.5, 1.0, 1e20, 1e-5, 3.141592653589793, 123456789.0};
    switch (next() % (depth > 5 ? 6 : 8)) {
    case 0:
        return random_string();
    case 1:
        return json_integer(ints[next() % 7]);
    case 2:
        return json_real(reals[next() % 7]);
    case 3:
        return json_true();
    case 4:
        return json_false();
    case 5:
        return json_null();
    case 6: {
        json_t *a = json_array();
        for (uint32_t i = next() % 5; i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (uint32_t i = next() % 5; i > 0; i--) {
            json_t *k = random_string();
            /* object keys are C strings: cut at an embedded NUL */
            json_object_set_new(o, json_string_value(k), random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

static void same_bytes_as_jansson(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *v = random_value(0);
        char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        char *got = pd_json_dumps(v);
        assert_non_null(want);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(want);
        free(got);
        json_decref(v);
    }
}

static void bounds(void **state)
{
    (void)state;
    /* nesting past the bound */
    json_t *deep = json_array();
    for (int i = 0; i < 3000; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    assert_null(pd_json_dumps(deep));
    json_decref(deep);
    assert_null(pd_json_dumps(NULL));
    /* a capped buffer */
    struct pd_buf b;
    pd_buf_init(&b, 8);
    json_t *v = json_pack("{s:s}", "key", "a value longer than eight bytes");
    assert_int_equal(pd_json_text(&b, v), PD_ETOOBIG);
    assert_int_equal(b.len, 0);
    json_decref(v);
    pd_buf_free(&b);
    /* escapes, spelled out */
    v = json_stringn("q\"b\\s/\x01\x1f\n\t\x7f\0z", 13);
    char *t = pd_json_dumps(v);
    assert_string_equal(t, "\"q\\\"b\\\\s/\\u0001\\u001F\\n\\t\x7f\\u0000z\"");
    free(t);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_bytes_as_jansson),
        cmocka_unit_test(bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
