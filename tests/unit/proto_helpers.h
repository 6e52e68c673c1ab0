/*
 * proto_helpers.h - shared by the tests/unit/test_proto_*.c executables: load embedded
 * models once, build requests, read tests/data/codec cases. Header-only (static functions)
 * because each test file is its own executable.
 */
#ifndef PD_TEST_PROTO_HELPERS_H
#define PD_TEST_PROTO_HELPERS_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/kv.h"
#include "proto/codec.h"
#include "proto/spec.h"

struct spec_cache {
    const char *stem;
    struct pd_spec *spec;
};

static struct spec_cache specs[] = {
    {"iam", NULL},      {"sts", NULL},           {"s3", NULL}, {"eks", NULL},
    {"eks-auth", NULL}, {"organizations", NULL}, {NULL, NULL},
};

static inline struct pd_spec *spec_of(const char *stem)
{
    for (struct spec_cache *c = specs; c->stem; c++)
        if (!strcmp(c->stem, stem)) {
            if (!c->spec && pd_spec_load_embedded(stem, &c->spec))
                return NULL;
            return c->spec;
        }
    return NULL;
}

static inline void specs_free(void)
{
    for (struct spec_cache *c = specs; c->stem; c++) {
        pd_spec_free(c->spec);
        c->spec = NULL;
    }
}

/* A request from text: "METHOD /path?query", headers "name: value" lines, body. */
static inline void make_request(struct pd_arena *a, struct pd_http_request *rq, struct pd_kvs *hdrs,
                                const char *method, const char *target, const char *body)
{
    memset(rq, 0, sizeof *rq);
    memset(hdrs, 0, sizeof *hdrs);
    rq->method = method;
    const char *q = strchr(target, '?');
    rq->path = q ? pd_arena_strndup(a, target, (size_t)(q - target)) : target;
    rq->query = q ? q + 1 : NULL;
    rq->headers = hdrs;
    rq->body = body;
    rq->body_len = body ? strlen(body) : 0;
}

#endif
