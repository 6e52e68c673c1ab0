/*
 * awsjson.c - the awsJson1_0 / awsJson1_1 protocol (Organizations): every request is
 * `POST /` naming its operation in `X-Amz-Target: <targetPrefix>.<Operation>`, with the input
 * as one JSON object in the body (an empty body is `{}`); the output is the output shape as a
 * JSON object; an error is `{"__type": CODE, "Message": ...}` plus its extra members.
 *
 * The body is read by the rest-json walker source (restjson.c: JSON values typed against the
 * shape, timestamps in epoch seconds, blobs in base64) and validated by the shared validator;
 * the output is written by the same JSON encoder rest-json uses (pd_jo_value). Owns nothing
 * beyond arena allocations. Must not: know any service's operations or errors.
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "proto/codec.h"
#include "proto/proto.h"

static const char *content_type(struct pd_arena *a, const struct pd_spec *spec)
{
    return pd_arena_printf(a, "application/x-amz-json-%s",
                           spec->json_version ? spec->json_version : "1.1");
}

static int unknown_op(struct pd_arena *a, struct pd_codec_error *e, const char *what)
{
    e->code = "UnknownOperationException";
    e->status = 400;
    e->sender = 1;
    e->message = what ? pd_arena_printf(a, "Unknown operation %s", what) : NULL;
    return PD_ENOTFOUND;
}

int pd_awsjson_route(const struct pd_spec *spec, struct pd_arena *a,
                     const struct pd_http_request *rq, const struct pd_spec_op **OUT_op,
                     struct pd_codec_error *OUT_err)
{
    *OUT_op = NULL;
    memset(OUT_err, 0, sizeof *OUT_err);
    const char *target = rq->headers ? pd_kvs_get(rq->headers, "x-amz-target", 0) : NULL;
    size_t pl = strlen(spec->target_prefix);
    if (!rq->method || strcmp(rq->method, "POST") != 0 || !target)
        return unknown_op(a, OUT_err, NULL);
    /* "Prefix.Operation": the prefix is the model's, exactly (AWS compares it as written) */
    if (strncmp(target, spec->target_prefix, pl) != 0 || target[pl] != '.' || !target[pl + 1])
        return unknown_op(a, OUT_err, target);
    const struct pd_spec_op *op = pd_spec_op(spec, target + pl + 1);
    if (!op)
        return unknown_op(a, OUT_err, target);
    *OUT_op = op;
    return PD_OK;
}

int pd_awsjson_decode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                      const struct pd_http_request *rq, json_t **OUT_in,
                      struct pd_codec_error *OUT_err)
{
    memset(OUT_err, 0, sizeof *OUT_err);
    *OUT_in = NULL;
    struct walk w = {a, spec, OUT_err, "SerializationException", 400, 0};
    json_t *doc = NULL, *in = NULL;
    int rc = PD_OK;
    if (rq->body_len) {
        if (pd_proto_json_values(rq->body, rq->body_len) > PD_JSON_MAX_VALUES) {
            rc = pd_walk_fail(&w, "Request body has more than %d JSON values, podiam's limit",
                              PD_JSON_MAX_VALUES);
            goto out;
        }
        json_error_t jerr;
        doc = json_loadb(rq->body, rq->body_len, 0, &jerr);
        if (!doc || !json_is_object(doc)) {
            rc = pd_walk_fail(&w, "Request body is not a JSON object");
            goto out;
        }
    } else {
        doc = json_object();
    }
    if (!op->input) {
        *OUT_in = json_object();
        goto out;
    }
    struct pd_spec_member top = {
        .name = op->name, .wire_name = "", .path_name = "", .shape = op->input};
    struct wnode root;
    pd_restjson_node(&root, doc);
    if ((rc = pd_walk_value(&w, &root, &top, &in)))
        goto out;
    if ((rc = pd_walk_validate(&w, op->input, in, "ValidationException", 400)))
        goto out;
    *OUT_in = in;
    in = NULL;
out:
    json_decref(doc);
    json_decref(in);
    return rc ? PD_EINVAL : PD_OK;
}

static int dump(struct pd_buf *b, const json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!s)
        return PD_EINTERNAL;
    int rc = pd_buf_adds(b, s);
    free(s);
    return rc;
}

int pd_awsjson_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                      const json_t *out, const char *request_id, struct pd_http_response *OUT)
{
    const char *where = NULL;
    json_t *body = NULL;
    int rc = PD_OK;
    OUT->status = 200;
    if (out && !json_is_object(out)) {
        where = "(output)";
        rc = PD_EINTERNAL;
        goto out;
    }
    if (op->output && out) {
        struct pd_spec_member top = {.name = op->name, .wire_name = "", .shape = op->output};
        body = pd_jo_value(a, &top, out, &where);
        if (!body) {
            rc = PD_EINTERNAL;
            goto out;
        }
    } else {
        body = json_object();
    }
    if ((rc = dump(&OUT->body, body)))
        goto out;
    pd_proto_header(a, OUT, "Content-Type", content_type(a, spec));
    pd_proto_header(a, OUT, "x-amzn-RequestId", request_id);
out:
    json_decref(body);
    if (rc == PD_EINTERNAL)
        pd_log(PD_LOG_ERROR, "awsJson: %s output does not fit its shape at %s", op->name,
               where ? where : "?");
    return rc;
}

int pd_awsjson_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                            const struct pd_aws_fault *f, const char *request_id,
                            struct pd_http_response *OUT)
{
    /* the model's error shape spells the message member ("Message" in Organizations) */
    const struct pd_spec_shape *es = pd_spec_shape(spec, f->code);
    const char *mkey = es && pd_spec_member(es, "Message") && !pd_spec_member(es, "message")
                           ? "Message"
                           : "message";
    json_t *body = json_pack("{s:s}", "__type", f->code);
    if (json_is_object(f->extra)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)f->extra, k, v) json_object_set(body, k, v);
    }
    if (f->message)
        json_object_set_new(body, mkey, json_string(f->message));
    int rc = dump(&OUT->body, body);
    json_decref(body);
    if (rc)
        return rc;
    OUT->status = f->status;
    pd_proto_header(a, OUT, "Content-Type", content_type(a, spec));
    pd_proto_header(a, OUT, "x-amzn-RequestId", request_id);
    return PD_OK;
}
