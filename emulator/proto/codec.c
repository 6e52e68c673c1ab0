/*
 * codec.c - the public entry points of proto/: pick the protocol of a model and hand the
 * request or result to query.c, rest.c, restjson.c, restxml.c or awsjson.c.
 *
 * Owns struct pd_http_response's lifetime helpers. Nothing here knows a wire detail.
 */
#include "proto/codec.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "proto/proto.h"

void pd_http_response_init(struct pd_http_response *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
    pd_buf_init(&r->body, 0);
}

void pd_http_response_cleanup(struct pd_http_response *r)
{
    pd_buf_free(&r->body);
    memset(&r->headers, 0, sizeof r->headers);
}

void pd_proto_header(struct pd_arena *a, struct pd_http_response *r, const char *name,
                     const char *value)
{
    pd_kvs_add(a, &r->headers, name, value, strlen(value), 0);
}

int pd_codec_decode(const struct pd_spec *spec, struct pd_arena *a,
                    const struct pd_http_request *rq, const struct pd_spec_op **OUT_op,
                    json_t **OUT_in, struct pd_codec_error *OUT_err)
{
    *OUT_op = NULL;
    *OUT_in = NULL;
    memset(OUT_err, 0, sizeof *OUT_err);
    if (spec->proto == PD_SPEC_QUERY) {
        struct pd_kvs params;
        int rc = pd_query_params(a, rq, &params);
        if (rc == PD_ETOOBIG) {
            OUT_err->code = "ValidationError";
            OUT_err->status = 400;
            OUT_err->sender = 1;
            OUT_err->message = pd_arena_printf(
                a, "The request has more than %d parameters, podiam's limit.", PD_QUERY_MAX_PARAMS);
            return PD_EINVAL;
        }
        if (rc) {
            OUT_err->code = "MalformedQueryString";
            OUT_err->status = 400;
            OUT_err->sender = 1;
            OUT_err->message = "Invalid percent-encoding in the request parameters";
            return PD_EINVAL;
        }
        return pd_query_decode(spec, a, &params, OUT_op, OUT_in, OUT_err);
    }
    if (spec->proto == PD_SPEC_REST_JSON || spec->proto == PD_SPEC_REST_XML) {
        int rc = pd_rest_route(spec, a, rq, OUT_op, OUT_err);
        if (rc)
            return rc;
        return pd_rest_decode(spec, a, *OUT_op, rq, OUT_in, OUT_err);
    }
    if (spec->proto == PD_SPEC_JSON) {
        int rc = pd_awsjson_route(spec, a, rq, OUT_op, OUT_err);
        if (rc)
            return rc;
        return pd_awsjson_decode(spec, a, *OUT_op, rq, OUT_in, OUT_err);
    }
    OUT_err->code = "InternalFailure";
    OUT_err->status = 500;
    OUT_err->message = "Protocol not served";
    return PD_ENOTIMPL;
}

int pd_codec_route(const struct pd_spec *spec, struct pd_arena *a, const struct pd_http_request *rq,
                   const struct pd_spec_op **OUT_op, struct pd_codec_error *OUT_err)
{
    if (spec->proto == PD_SPEC_JSON)
        return pd_awsjson_route(spec, a, rq, OUT_op, OUT_err);
    return pd_rest_route(spec, a, rq, OUT_op, OUT_err);
}

int pd_codec_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                    const json_t *out, const char *request_id, struct pd_http_response *OUT)
{
    switch (spec->proto) {
    case PD_SPEC_QUERY:
        return pd_query_encode(spec, a, op, out, request_id, OUT);
    case PD_SPEC_REST_JSON:
        return pd_restjson_encode(spec, a, op, out, request_id, OUT);
    case PD_SPEC_REST_XML:
        return pd_restxml_encode(spec, a, op, out, request_id, OUT);
    case PD_SPEC_JSON:
        return pd_awsjson_encode(spec, a, op, out, request_id, OUT);
    default:
        return PD_ENOTIMPL;
    }
}

int pd_codec_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                          const struct pd_spec_op *op, const struct pd_aws_fault *f,
                          const char *request_id, struct pd_http_response *OUT)
{
    (void)op;
    switch (spec->proto) {
    case PD_SPEC_QUERY:
        return pd_query_encode_error(spec, a, f, request_id, OUT);
    case PD_SPEC_REST_JSON:
        return pd_restjson_encode_error(spec, a, f, request_id, OUT);
    case PD_SPEC_REST_XML:
        return pd_restxml_encode_error(spec, a, f, request_id, OUT);
    case PD_SPEC_JSON:
        return pd_awsjson_encode_error(spec, a, f, request_id, OUT);
    default:
        return PD_ENOTIMPL;
    }
}

struct pd_aws_fault pd_codec_fault(const struct pd_codec_error *e)
{
    struct pd_aws_fault f = {e->code, e->message, e->status, e->sender, NULL, NULL};
    return f;
}
