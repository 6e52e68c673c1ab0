/* test_k8s_pb.c - unit tests for emulator/k8s/pb.c: real kubectl 1.32 bodies and
 * hand-built ones (tests/data/k8s_pb/NAME.bin, expected NAME.json, found through
 * PODIAM_TEST_DATA), then malformed input: every truncation of every body, bad magic, huge
 * lengths, deep nesting, wrong wire types, groups, bad strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "k8s/pb.h"

static const char *const cases[] = {
    "namespace",          "sa",          "sa_dryrun",   "configmap",          "configmap_ns",
    "token_audience",     "token_bound", "token_plain", "ssar_pods",          "ssar_nonresource",
    "ssar_subresource",   "whoami",      "handmade_sa", "handmade_configmap", "handmade_ssar",
    "handmade_namespace",
};
#define NCASES (sizeof cases / sizeof *cases)

static uint8_t *slurp(const char *name, const char *ext, size_t *OUT_len)
{
    const char *dir = getenv("PODIAM_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/k8s_pb/%s.%s", dir ? dir : "tests/data", name, ext);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    uint8_t *buf = pd_xmalloc(65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = 0;
    *OUT_len = n;
    return buf;
}

static json_t *decode_ok(const uint8_t *b, size_t n)
{
    json_t *o = NULL;
    const char *why = NULL;
    int rc = pd_k8s_pb_decode(b, n, &o, &why);
    if (rc != PD_OK)
        fail_msg("decode failed: %s", why ? why : "(no reason)");
    assert_non_null(o);
    assert_null(why);
    return o;
}

/* Decoding must fail with PD_EINVAL and a reason containing want. */
static void decode_bad(const uint8_t *b, size_t n, const char *want)
{
    json_t *o = (json_t *)1;
    const char *why = NULL;
    assert_int_equal(pd_k8s_pb_decode(b, n, &o, &why), PD_EINVAL);
    assert_null(o);
    assert_non_null(why);
    if (!strstr(why, want))
        fail_msg("reason \"%s\" does not contain \"%s\"", why, want);
}

static void test_recorded_bodies(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        size_t n, jn;
        uint8_t *bin = slurp(cases[i], "bin", &n);
        uint8_t *text = slurp(cases[i], "json", &jn);
        json_error_t e;
        json_t *want = json_loadb((const char *)text, jn, 0, &e);
        if (!want)
            fail_msg("%s.json: %s", cases[i], e.text);
        json_t *got = decode_ok(bin, n);
        if (!json_equal(got, want)) {
            char *g = json_dumps(got, JSON_COMPACT);
            print_error("%s: got %s\n", cases[i], g);
            free(g);
            fail();
        }
        json_decref(got);
        json_decref(want);
        free(bin);
        free(text);
    }
}

/* A few values checked directly, so a bad .json file cannot hide a decoding bug. */
static void test_key_values(void **state)
{
    (void)state;
    size_t n;
    uint8_t *bin = slurp("token_audience", "bin", &n);
    json_t *o = decode_ok(bin, n);
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "TokenRequest");
    json_t *spec = json_object_get(o, "spec");
    assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "audiences"), 0)),
                        "sts.amazonaws.com");
    assert_int_equal(json_integer_value(json_object_get(spec, "expirationSeconds")), 3600);
    assert_null(json_object_get(o, "status"));
    json_decref(o);
    free(bin);

    /* namespace "" arrives on the wire and must not come out as "". */
    bin = slurp("sa", "bin", &n);
    o = decode_ok(bin, n);
    json_t *meta = json_object_get(o, "metadata");
    assert_string_equal(json_string_value(json_object_get(meta, "name")), "s3-echoer");
    assert_null(json_object_get(meta, "namespace"));
    assert_true(json_is_null(json_object_get(meta, "creationTimestamp")));
    json_decref(o);
    free(bin);

    bin = slurp("configmap", "bin", &n);
    o = decode_ok(bin, n);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "binaryData"), "blob")), "AAEC//4=");
    json_decref(o);
    free(bin);

    bin = slurp("handmade_sa", "bin", &n);
    o = decode_ok(bin, n);
    meta = json_object_get(o, "metadata");
    assert_string_equal(json_string_value(json_object_get(meta, "creationTimestamp")),
                        "2025-11-27T04:00:00Z");
    assert_int_equal(json_integer_value(json_object_get(meta, "deletionGracePeriodSeconds")), -1);
    json_decref(o);
    free(bin);
}

static void test_every_truncation(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCASES; i++) {
        size_t n;
        uint8_t *bin = slurp(cases[i], "bin", &n);
        for (size_t cut = 0; cut < n; cut++) {
            /* An exact-size copy so ASan sees any read past the end. */
            uint8_t *b = pd_xmalloc(cut ? cut : 1);
            memcpy(b, bin, cut);
            json_t *o = NULL;
            const char *why = NULL;
            int rc = pd_k8s_pb_decode(b, cut, &o, &why);
            if (rc == PD_OK) {
                assert_true(json_is_object(o));
                assert_true(json_is_string(json_object_get(o, "kind")));
                assert_true(json_is_object(json_object_get(o, "metadata")));
                json_decref(o);
            } else {
                assert_int_equal(rc, PD_EINVAL);
                assert_null(o);
                assert_non_null(why);
            }
            free(b);
        }
        free(bin);
    }
}

static void test_bad_magic(void **state)
{
    (void)state;
    size_t n;
    uint8_t *bin = slurp("sa", "bin", &n);
    decode_bad(bin, 3, "magic");
    decode_bad(NULL, 0, "magic");
    bin[3] = 1;
    decode_bad(bin, n, "magic");
    decode_bad((const uint8_t *)"{\"kind\":\"ServiceAccount\"}", 25, "magic");
    free(bin);
}

static void test_too_big(void **state)
{
    (void)state;
    uint8_t *b = pd_xcalloc(PD_K8S_PB_MAX + 1, 1);
    memcpy(b, "k8s", 4);
    decode_bad(b, PD_K8S_PB_MAX + 1, "too big");
    free(b);
}

/* Builds "k8s\0" + Unknown{typeMeta{v1, kind}, raw} into out. */
static size_t envelope(uint8_t *out, const char *kind, const uint8_t *raw, size_t raw_n)
{
    size_t k = strlen(kind), n = 0;
    memcpy(out, "k8s", 4);
    n = 4;
    out[n++] = 0x0a;
    out[n++] = (uint8_t)(4 + 2 + k);
    out[n++] = 0x0a;
    out[n++] = 2;
    out[n++] = 'v';
    out[n++] = '1';
    out[n++] = 0x12;
    out[n++] = (uint8_t)k;
    memcpy(out + n, kind, k);
    n += k;
    out[n++] = 0x12;
    out[n++] = (uint8_t)raw_n; /* callers keep raw under 128 bytes */
    memcpy(out + n, raw, raw_n);
    return n + raw_n;
}

static void bad_raw(const char *kind, const uint8_t *raw, size_t raw_n, const char *want)
{
    uint8_t b[256];
    decode_bad(b, envelope(b, kind, raw, raw_n), want);
}

static void test_huge_length(void **state)
{
    (void)state;
    /* metadata claims 2^62 bytes; then a name claiming more than its message holds. */
    const uint8_t huge[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40};
    bad_raw("ServiceAccount", huge, sizeof huge, "past the end");
    const uint8_t inner[] = {0x0a, 0x03, 0x0a, 0x05, 'a'};
    bad_raw("ServiceAccount", inner, sizeof inner, "past the end");
    /* The envelope's own raw field claiming more than the body. */
    const uint8_t env[] = {'k', '8', 's', 0, 0x12, 0xff, 0xff, 0x03, 0x0a};
    decode_bad(env, sizeof env, "past the end");
}

static void test_bad_varints(void **state)
{
    (void)state;
    const uint8_t eleven[] = {0x20, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    bad_raw("ServiceAccount", eleven, sizeof eleven, "varint");
    const uint8_t overflow[] = {0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    bad_raw("ServiceAccount", overflow, sizeof overflow, "varint");
    const uint8_t truncated[] = {0x20, 0xff};
    bad_raw("ServiceAccount", truncated, sizeof truncated, "truncated varint");
    /* The largest valid varint (-1 as int64) is fine: automount = true. */
    const uint8_t ten[] = {0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    uint8_t b[64];
    json_t *o = decode_ok(b, envelope(b, "ServiceAccount", ten, sizeof ten));
    assert_true(json_is_true(json_object_get(o, "automountServiceAccountToken")));
    json_decref(o);
    const uint8_t field0[] = {0x02, 0x00};
    bad_raw("ServiceAccount", field0, sizeof field0, "field number");
}

static void test_wrong_wire_type(void **state)
{
    (void)state;
    const uint8_t meta_varint[] = {0x08, 0x01}; /* metadata as a varint */
    bad_raw("ServiceAccount", meta_varint, sizeof meta_varint, "wrong wire type");
    const uint8_t bool_len[] = {0x22, 0x00}; /* automountServiceAccountToken as bytes */
    bad_raw("ServiceAccount", bool_len, sizeof bool_len, "wrong wire type");
    const uint8_t name_i32[] = {0x0a, 0x05, 0x0d, 1, 2, 3, 4}; /* name as fixed32 */
    bad_raw("ServiceAccount", name_i32, sizeof name_i32, "wrong wire type");
    const uint8_t time_len[] = {0x0a, 0x04, 0x42, 0x02, 0x0a, 0x00}; /* Time.seconds as bytes */
    bad_raw("ServiceAccount", time_len, sizeof time_len, "wrong wire type");
    const uint8_t group[] = {0x0b, 0x0c}; /* field 1 start/end group */
    bad_raw("ServiceAccount", group, sizeof group, "groups");
    const uint8_t group_unknown[] = {0xfb, 0x01}; /* unknown field 31 as a group */
    bad_raw("ServiceAccount", group_unknown, sizeof group_unknown, "groups");
    const uint8_t wire7[] = {0xff, 0x01};
    bad_raw("ServiceAccount", wire7, sizeof wire7, "invalid wire type");
    const uint8_t short64[] = {0xf9, 0x01, 1, 2, 3};
    bad_raw("ServiceAccount", short64, sizeof short64, "truncated 64-bit");
    const uint8_t short32[] = {0xfd, 0x01, 1, 2};
    bad_raw("ServiceAccount", short32, sizeof short32, "truncated 32-bit");
}

static void test_unknown_fields_skipped(void **state)
{
    (void)state;
    /* Unknown fields of every wire type around a name; fixed64 and fixed32 included. */
    const uint8_t raw[] = {0xf8, 0x01, 0x05,                          /* 31: varint */
                           0xf9, 0x01, 1,    2,    3,  4, 5, 6, 7, 8, /* 31: fixed64 */
                           0xfd, 0x01, 1,    2,    3,  4,             /* 31: fixed32 */
                           0xfa, 0x01, 0x01, 0xff,                    /* 31: bytes */
                           0x0a, 0x03, 0x0a, 0x01, 'n'};
    uint8_t b[128];
    json_t *o = decode_ok(b, envelope(b, "ServiceAccount", raw, sizeof raw));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
                        "n");
    json_decref(o);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    /* 5000 levels of an unknown length-delimited field inside metadata: skipped as one blob,
     * no recursion. Then the same depth inside a known message chain is bounded by the
     * schema, so it is the unknown field again at the bottom. */
    enum { DEPTH = 5000 };
    uint8_t *inner = pd_xmalloc(DEPTH * 4 + 64);
    size_t n = 0;
    for (int i = 0; i < DEPTH; i++) {
        inner[n++] = 0xfa; /* field 31, bytes */
        inner[n++] = 0x01;
        n += 2; /* placeholder for a 2-byte length, filled below */
    }
    /* Fill lengths from the innermost out: each holds the rest of the buffer. */
    for (int i = DEPTH - 1; i >= 0; i--) {
        size_t at = (size_t)i * 4 + 2, rest = n - (at + 2);
        if (rest >= 16384)
            rest = 16383; /* keep two-byte varints; the outer ones then cover less */
        inner[at] = (uint8_t)(0x80 | (rest & 0x7f));
        inner[at + 1] = (uint8_t)(rest >> 7);
    }
    size_t body_n = 4 + 2 + 16 + 1 + 3 + 1 + 3 + n;
    uint8_t *body = pd_xmalloc(body_n + 16);
    size_t m = 0;
    memcpy(body, "k8s", 4);
    m = 4;
    const uint8_t tm[] = {0x0a, 0x14, 0x0a, 0x02, 'v', '1', 0x12, 0x0e, 'S', 'e', 'r',
                          'v',  'i',  'c',  'e',  'A', 'c', 'c',  'o',  'u', 'n', 't'};
    memcpy(body + m, tm, sizeof tm);
    m += sizeof tm;
    /* raw { 1 metadata { inner } } with 3-byte lengths */
    size_t meta_len = n, raw_len = 1 + 3 + meta_len;
    body[m++] = 0x12;
    body[m++] = (uint8_t)(0x80 | (raw_len & 0x7f));
    body[m++] = (uint8_t)(0x80 | ((raw_len >> 7) & 0x7f));
    body[m++] = (uint8_t)(raw_len >> 14);
    body[m++] = 0x0a;
    body[m++] = (uint8_t)(0x80 | (meta_len & 0x7f));
    body[m++] = (uint8_t)(0x80 | ((meta_len >> 7) & 0x7f));
    body[m++] = (uint8_t)(meta_len >> 14);
    memcpy(body + m, inner, n);
    m += n;
    /* The inner lengths were clamped, so the decoder may see trailing data as more fields;
     * either way it must return without crashing, and the outer framing is valid. */
    json_t *o = NULL;
    const char *why = NULL;
    int rc = pd_k8s_pb_decode(body, m, &o, &why);
    assert_true(rc == PD_OK || rc == PD_EINVAL);
    json_decref(o);
    free(body);
    free(inner);

    /* Nested known messages: ownerReferences inside metadata inside a ServiceAccount, with a
     * metadata field repeated many times (merge, not recursion). */
    uint8_t raw[120];
    size_t k = 0;
    for (int i = 0; i < 20; i++) {
        raw[k++] = 0x0a;
        raw[k++] = 0x04;
        raw[k++] = 0x6a; /* 13 ownerReferences */
        raw[k++] = 0x02;
        raw[k++] = 0x30; /* 6 controller */
        raw[k++] = 0x01;
    }
    uint8_t b[256];
    o = decode_ok(b, envelope(b, "ServiceAccount", raw, k));
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(o, "metadata"), "ownerReferences")), 20);
    json_decref(o);
}

static void test_bad_strings(void **state)
{
    (void)state;
    const uint8_t bad_utf8[] = {0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28};
    bad_raw("ServiceAccount", bad_utf8, sizeof bad_utf8, "UTF-8");
    const uint8_t nul[] = {0x0a, 0x05, 0x0a, 0x03, 'a', 0, 'b'};
    bad_raw("ServiceAccount", nul, sizeof nul, "NUL");
    const uint8_t map_nul[] = {0x12, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 0};
    bad_raw("ConfigMap", map_nul, sizeof map_nul, "NUL");
    /* binaryData values are bytes: anything goes, base64 out. */
    const uint8_t bin[] = {0x1a, 0x07, 0x0a, 0x01, 'k', 0x12, 0x02, 0, 0xff};
    uint8_t b[64];
    json_t *o = decode_ok(b, envelope(b, "ConfigMap", bin, sizeof bin));
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "binaryData"), "k")),
                        "AP8=");
    json_decref(o);
}

static void test_time_range(void **state)
{
    (void)state;
    /* creationTimestamp 10^13 s: after year 9999. */
    const uint8_t far[] = {0x0a, 0x0a, 0x42, 0x08, 0x08, 0x80, 0xc0, 0xca, 0xf3, 0x84, 0xa3, 0x02};
    bad_raw("ServiceAccount", far, sizeof far, "timestamp");
    /* nanos only: not empty, so the epoch second. */
    const uint8_t nanos[] = {0x0a, 0x04, 0x42, 0x02, 0x10, 0x01};
    uint8_t b[64];
    json_t *o = decode_ok(b, envelope(b, "ServiceAccount", nanos, sizeof nanos));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "metadata"), "creationTimestamp")),
        "1970-01-01T00:00:00Z");
    json_decref(o);
}

static void test_envelope(void **state)
{
    (void)state;
    uint8_t b[64];
    const uint8_t empty[1] = {0};
    decode_bad(b, envelope(b, "Pod", empty, 0), "unknown kind");
    decode_bad(b, envelope(b, "serviceaccount", empty, 0), "unknown kind");
    const uint8_t nothing[] = {'k', '8', 's', 0};
    decode_bad(nothing, sizeof nothing, "unknown kind");
    /* contentEncoding set: raw would be compressed. */
    size_t n = envelope(b, "ServiceAccount", empty, 0);
    b[n++] = 0x1a;
    b[n++] = 4;
    memcpy(b + n, "gzip", 4);
    n += 4;
    decode_bad(b, n, "contentEncoding");
    /* Empty raw: an object with apiVersion, kind and an empty metadata. */
    json_t *o = decode_ok(b, envelope(b, "ServiceAccount", empty, 0));
    json_t *want =
        json_pack("{s:s, s:s, s:{}}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata");
    assert_true(json_equal(o, want));
    json_decref(want);
    json_decref(o);
    /* typeMeta field of the wrong wire type. */
    const uint8_t tm_varint[] = {'k', '8', 's', 0, 0x08, 0x01};
    decode_bad(tm_varint, sizeof tm_varint, "wrong wire type");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_bodies),
        cmocka_unit_test(test_key_values),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_huge_length),
        cmocka_unit_test(test_bad_varints),
        cmocka_unit_test(test_wrong_wire_type),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_time_range),
        cmocka_unit_test(test_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
