/*
 * fuzz_common.h - shared by the codec fuzz targets: models loaded once, and a tiny request
 * format so one input file carries method, target, headers and body:
 *   "METHOD TARGET\n" ("TARGET" = path?query, or for S3 "bucket/key?query")
 *   "name: value\n"... then an empty line, then the body bytes.
 */
#ifndef PD_FUZZ_COMMON_H
#define PD_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/kv.h"
#include "proto/codec.h"
#include "proto/spec.h"

static inline struct pd_spec *fuzz_spec(const char *stem)
{
    static struct {
        const char *stem;
        struct pd_spec *spec;
    } cache[8];
    for (int i = 0; i < 8; i++) {
        if (cache[i].stem && !strcmp(cache[i].stem, stem))
            return cache[i].spec;
        if (!cache[i].stem) {
            cache[i].stem = stem;
            if (pd_spec_load_embedded(stem, &cache[i].spec))
                abort();
            return cache[i].spec;
        }
    }
    abort();
}

/* Split data into a request (all strings arena-owned). Returns 0 when the input has no
 * request line. */
static inline int fuzz_request(struct pd_arena *a, const uint8_t *data, size_t size,
                               struct pd_http_request *rq, struct pd_kvs *hdrs, char **OUT_target)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    memset(rq, 0, sizeof *rq);
    memset(hdrs, 0, sizeof *hdrs);
    if (!nl)
        return 0;
    char *line = pd_arena_strndup(a, s, (size_t)(nl - s));
    char *sp = strchr(line, ' ');
    if (!sp)
        return 0;
    *sp = '\0';
    rq->method = line;
    char *target = sp + 1;
    char *q = strchr(target, '?');
    if (q) {
        *q = '\0';
        rq->query = q + 1;
    }
    *OUT_target = target;
    size_t off = (size_t)(nl - s) + 1;
    while (off < size) {
        const char *e = memchr(s + off, '\n', size - off);
        size_t len = e ? (size_t)(e - (s + off)) : size - off;
        if (len == 0) {
            off++;
            break;
        }
        char *h = pd_arena_strndup(a, s + off, len);
        char *colon = strchr(h, ':');
        if (colon) {
            *colon = '\0';
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            pd_kvs_add(a, hdrs, h, v, strlen(v), 1);
        }
        off += len + (e ? 1 : 0);
    }
    rq->headers = hdrs;
    rq->body = off < size ? s + off : NULL;
    rq->body_len = off < size ? size - off : 0;
    return 1;
}

/* Decode, then render the result (or error) the way the dispatcher would; the encoder is fed
 * the decoded input as if it were output, which exercises it with values of the wrong
 * shape. */
static inline void fuzz_codec(struct pd_spec *spec, struct pd_arena *a,
                              const struct pd_http_request *rq)
{
    const struct pd_spec_op *op;
    json_t *in = NULL;
    struct pd_codec_error err;
    struct pd_http_response resp;
    pd_http_response_init(&resp);
    int rc = pd_codec_decode(spec, a, rq, &op, &in, &err);
    if (rc) {
        struct pd_aws_fault f = pd_codec_fault(&err);
        if (f.code)
            pd_codec_encode_error(spec, a, op, &f, "00000000-0000-0000-0000-000000000000", &resp);
    } else {
        pd_codec_encode(spec, a, op, in, "00000000-0000-0000-0000-000000000000", &resp);
    }
    json_decref(in);
    pd_http_response_cleanup(&resp);
}

#endif
