/*
 * restjson.c - the rest-json protocol (EKS, eks-auth): the JSON body as a walker source, and
 * the output and error renderers.
 *
 * Body values are typed by JSON itself, so scalars check the JSON type against the shape
 * (timestamps: epoch seconds, fraction allowed, or an ISO 8601 string; blobs: base64).
 * Output: status from the model (or a statusCode member), header-bound members, then the
 * JSON body of the remaining members (or the payload member). Errors: status, the
 * X-Amzn-ErrorType header and {"message": ...} (the key spelled as the model's error shape
 * spells it). Owns nothing beyond arena allocations.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "proto/codec.h"
#include "proto/proto.h"

void pd_restjson_node(struct wnode *n, const json_t *v)
{
    memset(n, 0, sizeof *n);
    n->src = &pd_restjson_src;
    n->p = v;
    n->ts = PD_TS_EPOCH;
}

static const char *jtype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static int wrong(struct walk *w, const struct pd_spec_member *m, const json_t *v)
{
    return pd_walk_fail(w, "Unexpected %s for %s", jtype(v), m->name);
}

static int j_scalar(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                    json_t **OUT)
{
    const json_t *v = n->p;
    *OUT = NULL;
    switch (m->shape->type) {
    case PD_ST_STRING:
        if (!json_is_string(v))
            return wrong(w, m, v);
        *OUT = json_incref((json_t *)v);
        return PD_OK;
    case PD_ST_INTEGER:
    case PD_ST_LONG: {
        if (!json_is_integer(v))
            return wrong(w, m, v);
        json_int_t i = json_integer_value(v);
        if (m->shape->type == PD_ST_INTEGER && (i < INT32_MIN || i > INT32_MAX))
            return pd_walk_fail(w, "Integer out of range for %s", m->name);
        *OUT = json_incref((json_t *)v);
        return PD_OK;
    }
    case PD_ST_FLOAT:
    case PD_ST_DOUBLE:
        if (!json_is_number(v))
            return wrong(w, m, v);
        *OUT = json_real(json_number_value(v));
        return PD_OK;
    case PD_ST_BOOLEAN:
        if (!json_is_boolean(v))
            return wrong(w, m, v);
        *OUT = json_incref((json_t *)v);
        return PD_OK;
    case PD_ST_TIMESTAMP:
        if (json_is_number(v)) {
            double d = json_number_value(v);
            if (!(d > -62135596800.0 && d < 253402300800.0))
                return pd_walk_fail(w, "Timestamp out of range for %s", m->name);
            *OUT = json_integer((json_int_t)(d * 1000.0 + (d >= 0 ? 0.5 : -0.5)));
            return PD_OK;
        }
        if (json_is_string(v))
            return pd_walk_text_scalar(w, m, json_string_value(v), json_string_length(v),
                                       PD_TS_EPOCH, OUT);
        return wrong(w, m, v);
    case PD_ST_BLOB:
        if (!json_is_string(v))
            return wrong(w, m, v);
        return pd_walk_text_scalar(w, m, json_string_value(v), json_string_length(v), PD_TS_EPOCH,
                                   OUT);
    default:
        return wrong(w, m, v);
    }
}

static int j_member(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                    struct wnode *OUT)
{
    const json_t *o = n->p;
    if (!json_is_object(o))
        return pd_walk_fail(w, "Expected an object, got %s", jtype(o));
    const json_t *v = json_object_get(o, m->wire_name);
    if (!v || json_is_null(v))
        return 0;
    pd_restjson_node(OUT, v);
    return 1;
}

static int j_items(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                   struct wnode **OUT, size_t *OUT_n)
{
    const json_t *a = n->p;
    *OUT = NULL;
    *OUT_n = 0;
    if (!json_is_array(a))
        return wrong(w, m, a);
    size_t k = json_array_size(a), out = 0;
    *OUT = pd_arena_alloc(w->a, (k + 1) * sizeof **OUT);
    for (size_t i = 0; i < k; i++) {
        const json_t *e = json_array_get(a, i);
        if (json_is_null(e))
            continue;
        pd_restjson_node(&(*OUT)[out++], e);
    }
    *OUT_n = out;
    return PD_OK;
}

static int j_entries(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                     struct wnode **OUT_k, struct wnode **OUT_v, size_t *OUT_n)
{
    const json_t *o = n->p;
    *OUT_k = *OUT_v = NULL;
    *OUT_n = 0;
    if (!json_is_object(o))
        return wrong(w, m, o);
    size_t k = json_object_size(o), out = 0;
    *OUT_k = pd_arena_alloc(w->a, (k + 1) * sizeof **OUT_k);
    *OUT_v = pd_arena_alloc(w->a, (k + 1) * sizeof **OUT_v);
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        if (json_is_null(v))
            continue;
        pd_walk_text_node(&(*OUT_k)[out], key, strlen(key), PD_TS_EPOCH);
        pd_restjson_node(&(*OUT_v)[out], v);
        out++;
    }
    *OUT_n = out;
    return PD_OK;
}

const struct wsrc pd_restjson_src = {j_scalar, j_member, j_items, j_entries};

static int dump_body(struct pd_buf *b, const json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!s)
        return PD_EINTERNAL;
    int rc = pd_buf_adds(b, s);
    free(s);
    return rc;
}

int pd_restjson_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                       const json_t *out, const char *request_id, struct pd_http_response *OUT)
{
    (void)spec;
    const char *where = NULL;
    const struct pd_spec_shape *sh = op->output;
    int rc = PD_OK;
    json_t *body = NULL;
    OUT->status = op->response_code;
    if (out && !json_is_object(out)) {
        where = "(output)";
        rc = PD_EINTERNAL;
        goto out;
    }
    if ((rc = pd_rest_encode_headers(a, sh, out, OUT, &where)))
        goto out;
    const struct pd_spec_member *pm = sh ? sh->payload : NULL;
    if (pm) {
        const json_t *pv = json_object_get(out, pm->name);
        if (pm->shape->type == PD_ST_STRUCTURE) {
            body = pv ? pd_jo_value(a, pm, pv, &where) : json_object();
            if (!body) {
                rc = PD_EINTERNAL;
                goto out;
            }
        } else if ((pm->shape->flags & PD_SF_STREAMING) || (pm->flags & PD_MF_STREAMING)) {
            OUT->stream = pm;
        } else if (pv) {
            size_t len;
            const char *t = json_is_string(pv) ? json_string_value(pv) : NULL;
            len = t ? json_string_length(pv) : 0;
            if (!t) {
                where = pm->name;
                rc = PD_EINTERNAL;
                goto out;
            }
            rc = pd_buf_add(&OUT->body, t, len);
        }
    } else {
        struct pd_spec_member top = {.name = op->name, .wire_name = "", .shape = sh};
        body = sh && out ? pd_jo_value(a, &top, out, &where) : json_object();
        if (!body) {
            rc = PD_EINTERNAL;
            goto out;
        }
    }
    if (body && (rc = dump_body(&OUT->body, body)))
        goto out;
    if (body)
        pd_proto_header(a, OUT, "Content-Type", "application/json");
    pd_proto_header(a, OUT, "x-amzn-RequestId", request_id);
out:
    json_decref(body);
    if (rc == PD_EINTERNAL)
        pd_log(PD_LOG_ERROR, "rest-json: %s output does not fit its shape at %s", op->name,
               where ? where : "?");
    return rc;
}

int pd_restjson_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                             const struct pd_aws_fault *f, const char *request_id,
                             struct pd_http_response *OUT)
{
    /* the model's error shape says how the message member is spelled */
    const struct pd_spec_shape *es = pd_spec_shape(spec, f->code);
    const char *mkey = es && pd_spec_member(es, "Message") && !pd_spec_member(es, "message")
                           ? "Message"
                           : "message";
    json_t *body = json_object();
    if (json_is_object(f->extra)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)f->extra, k, v) json_object_set(body, k, v);
    }
    if (f->message)
        json_object_set_new(body, mkey, json_string(f->message));
    int rc = dump_body(&OUT->body, body);
    json_decref(body);
    if (rc)
        return rc;
    OUT->status = f->status;
    pd_proto_header(a, OUT, "Content-Type", "application/json");
    pd_proto_header(a, OUT, "X-Amzn-ErrorType", f->code);
    pd_proto_header(a, OUT, "x-amzn-RequestId", request_id);
    return PD_OK;
}
