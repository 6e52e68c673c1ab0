/*
 * test_proto_codec.c - the codecs against goldens recorded with botocore
 * (tests/data/codec/record.py; see tests/data/codec/README.md).
 *
 * requests/: botocore-serialized wire requests must decode to the recorded input JSON.
 * responses/: our encoding of each output or error must equal the checked-in "wire" bytes,
 * which record.py's "check" proved botocore parses back to the intended values. With
 * PODIAM_CODEC_REGEN=1 the test rewrites "wire" instead (then run record.py check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>

#include "core/err.h"
#include "core/str.h"
#include "proto_helpers.h"

static char *data_dir(const char *sub)
{
    const char *base = getenv("PODIAM_TEST_DATA");
    if (!base)
        return NULL;
    size_t n = strlen(base) + strlen(sub) + 16;
    char *p = malloc(n);
    snprintf(p, n, "%s/codec/%s", base, sub);
    return p;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.json names in dir; returns count. */
static size_t list_cases(const char *dir, char ***OUT)
{
    DIR *d = opendir(dir);
    size_t n = 0, cap = 64;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
            continue;
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = strdup(e->d_name);
    }
    if (d)
        closedir(d);
    qsort(v, n, sizeof *v, cmp_names);
    *OUT = v;
    return n;
}

static void free_cases(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void requests_decode(void **state)
{
    (void)state;
    char *dir = data_dir("requests");
    if (!dir)
        skip();
    char **names;
    size_t n = list_cases(dir, &names), failed = 0;
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_error_t jerr;
        json_t *c = json_load_file(path, 0, &jerr);
        assert_non_null(c);
        struct pd_arena a;
        pd_arena_init(&a);
        struct pd_spec *spec = spec_of(json_string_value(json_object_get(c, "service")));
        assert_non_null(spec);
        struct pd_kvs hdrs = {0};
        size_t k;
        json_t *h;
        json_array_foreach(json_object_get(c, "headers"), k, h)
        {
            const char *v = json_string_value(json_array_get(h, 1));
            pd_kvs_add(&a, &hdrs, json_string_value(json_array_get(h, 0)), v, strlen(v), 1);
        }
        const char *body = json_string_value(json_object_get(c, "body"));
        struct pd_http_request rq = {
            .method = json_string_value(json_object_get(c, "method")),
            .path = json_string_value(json_object_get(c, "path")),
            .query = json_string_value(json_object_get(c, "query")),
            .headers = &hdrs,
            .body = body,
            .body_len = strlen(body),
        };
        if (spec->proto == PD_SPEC_REST_XML)
            assert_int_equal(pd_restxml_split_path(&a, rq.path, &rq.bucket, &rq.key), PD_OK);
        const struct pd_spec_op *op;
        json_t *in = NULL;
        struct pd_codec_error err;
        int rc = pd_codec_decode(spec, &a, &rq, &op, &in, &err);
        const char *want_op = json_string_value(json_object_get(c, "operation"));
        json_t *want = json_object_get(c, "expected");
        if (rc || strcmp(op->name, want_op) || !json_equal(in, want)) {
            char *got = in ? json_dumps(in, JSON_SORT_KEYS) : NULL;
            char *exp = json_dumps(want, JSON_SORT_KEYS);
            print_error("%s: rc=%d op=%s (want %s) err=%s %s\n  got:  %s\n  want: %s\n", names[i],
                        rc, op ? op->name : "-", want_op, err.code ? err.code : "-",
                        err.message ? err.message : "", got ? got : "-", exp);
            free(got);
            free(exp);
            failed++;
        }
        json_decref(in);
        json_decref(c);
        pd_arena_cleanup(&a);
    }
    free_cases(names, n);
    free(dir);
    assert_int_equal(failed, 0);
}

static json_t *wire_of(const struct pd_http_response *r)
{
    json_t *h = json_array();
    for (size_t i = 0; i < r->headers.n; i++)
        json_array_append_new(h, json_pack("[ss]", r->headers.v[i].name, r->headers.v[i].value));
    json_t *w = json_pack("{s:i,s:o,s:s%}", "status", r->status, "headers", h, "body",
                          pd_buf_str(&r->body), r->body.len);
    if (r->stream)
        json_object_set_new(w, "stream", json_string(r->stream->name));
    return w;
}

static void responses_encode(void **state)
{
    (void)state;
    char *dir = data_dir("responses");
    if (!dir)
        skip();
    int regen = getenv("PODIAM_CODEC_REGEN") && !strcmp(getenv("PODIAM_CODEC_REGEN"), "1");
    char **names;
    size_t n = list_cases(dir, &names), failed = 0;
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_error_t jerr;
        json_t *c = json_load_file(path, JSON_DECODE_ANY, &jerr);
        assert_non_null(c);
        struct pd_arena a;
        pd_arena_init(&a);
        struct pd_spec *spec = spec_of(json_string_value(json_object_get(c, "service")));
        assert_non_null(spec);
        const char *rid = json_string_value(json_object_get(c, "request_id"));
        struct pd_http_response resp;
        pd_http_response_init(&resp);
        int rc;
        json_t *e = json_object_get(c, "error");
        if (e) {
            struct pd_aws_fault f = {
                .code = json_string_value(json_object_get(e, "code")),
                .message = json_string_value(json_object_get(e, "message")),
                .status = (int)json_integer_value(json_object_get(e, "status")),
                .sender = json_is_true(json_object_get(e, "sender")),
                .extra = json_object_get(e, "extra"),
                .host_id = json_string_value(json_object_get(e, "host_id")),
            };
            rc = pd_codec_encode_error(spec, &a, NULL, &f, rid, &resp);
        } else {
            const struct pd_spec_op *op =
                pd_spec_op(spec, json_string_value(json_object_get(c, "operation")));
            assert_non_null(op);
            json_t *out = json_object_get(c, "output");
            rc = pd_codec_encode(spec, &a, op, json_is_null(out) ? NULL : out, rid, &resp);
        }
        json_t *got = wire_of(&resp);
        if (rc) {
            print_error("%s: encode rc=%d\n", names[i], rc);
            failed++;
        } else if (regen) {
            json_object_set(c, "wire", got);
            assert_int_equal(json_dump_file(c, path, JSON_INDENT(1) | JSON_ENSURE_ASCII * 0), 0);
            FILE *f = fopen(path, "a");
            fputc('\n', f);
            fclose(f);
        } else if (!json_equal(got, json_object_get(c, "wire"))) {
            char *g = json_dumps(got, 0);
            char *w = json_dumps(json_object_get(c, "wire"), 0);
            print_error("%s: wire differs\n  got:  %s\n  want: %s\n", names[i], g, w ? w : "-");
            free(g);
            free(w);
            failed++;
        }
        json_decref(got);
        pd_http_response_cleanup(&resp);
        json_decref(c);
        pd_arena_cleanup(&a);
    }
    free_cases(names, n);
    free(dir);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requests_decode),
        cmocka_unit_test(responses_encode),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    specs_free();
    return rc;
}
