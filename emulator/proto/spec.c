/*
 * spec.c - load and index AWS service models.
 *
 * Two passes over the model JSON: first every shape and operation name (sorted, so references
 * resolve by binary search), then their traits. Routes for the rest protocols are parsed from
 * each requestUri here, once. Owns the pd_spec arena; borrows nothing from jansson after
 * pd_spec_load returns.
 */
#include "proto/spec.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "embedded.h"
#include "proto/regex.h"

static const char *dup(struct pd_spec *s, const char *v)
{
    return v ? pd_arena_strdup(&s->arena, v) : NULL;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int cmp_shape(const void *a, const void *b)
{
    return strcmp(((const struct pd_spec_shape *)a)->name, ((const struct pd_spec_shape *)b)->name);
}

static int cmp_op(const void *a, const void *b)
{
    return strcmp(((const struct pd_spec_op *)a)->name, ((const struct pd_spec_op *)b)->name);
}

static int cmp_method(const void *a, const void *b)
{
    const struct pd_spec_op *x = *(const struct pd_spec_op *const *)a;
    const struct pd_spec_op *y = *(const struct pd_spec_op *const *)b;
    int c = strcmp(x->method, y->method);
    return c ? c : strcmp(x->name, y->name);
}

const struct pd_spec_shape *pd_spec_shape(const struct pd_spec *s, const char *name)
{
    struct pd_spec_shape key = {.name = name};
    if (!name)
        return NULL;
    return bsearch(&key, s->shapes, s->n_shapes, sizeof key, cmp_shape);
}

const struct pd_spec_op *pd_spec_op(const struct pd_spec *s, const char *name)
{
    struct pd_spec_op key = {.name = name};
    if (!name)
        return NULL;
    return bsearch(&key, s->ops, s->n_ops, sizeof key, cmp_op);
}

const struct pd_spec_member *pd_spec_member(const struct pd_spec_shape *sh, const char *name)
{
    if (!sh || sh->type != PD_ST_STRUCTURE)
        return NULL;
    for (size_t i = 0; i < sh->n_members; i++)
        if (!strcmp(sh->members[i].name, name))
            return &sh->members[i];
    return NULL;
}

static enum pd_spec_tsfmt ts_format(const char *f)
{
    if (!f)
        return PD_TS_DEFAULT;
    if (!strcmp(f, "iso8601"))
        return PD_TS_ISO8601;
    if (!strcmp(f, "unixTimestamp"))
        return PD_TS_EPOCH;
    if (!strcmp(f, "rfc822"))
        return PD_TS_RFC822;
    return PD_TS_DEFAULT;
}

static void xmlns(struct pd_spec *s, const json_t *v, struct pd_spec_xmlns *out)
{
    if (json_is_string(v)) {
        out->uri = dup(s, json_string_value(v));
    } else if (json_is_object(v)) {
        out->uri = dup(s, jstr(v, "uri"));
        out->prefix = dup(s, jstr(v, "prefix"));
    }
}

static int shape_type(const char *t, enum pd_spec_type *out)
{
    static const struct {
        const char *name;
        enum pd_spec_type t;
    } tab[] = {
        {"structure", PD_ST_STRUCTURE}, {"list", PD_ST_LIST},           {"map", PD_ST_MAP},
        {"string", PD_ST_STRING},       {"integer", PD_ST_INTEGER},     {"long", PD_ST_LONG},
        {"boolean", PD_ST_BOOLEAN},     {"timestamp", PD_ST_TIMESTAMP}, {"blob", PD_ST_BLOB},
        {"float", PD_ST_FLOAT},         {"double", PD_ST_DOUBLE},
    };
    for (size_t i = 0; t && i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(tab[i].name, t)) {
            *out = tab[i].t;
            return PD_OK;
        }
    return PD_EINVAL;
}

static char *lower_camel(struct pd_spec *s, const char *name)
{
    char *p = pd_arena_strdup(&s->arena, name);
    if (p[0] >= 'A' && p[0] <= 'Z')
        p[0] = (char)(p[0] - 'A' + 'a');
    return p;
}

/* Fill member m (named name) from its model object j. default_wire: the wire name when the
 * model gives no locationName. */
static int load_member(struct pd_spec *s, struct pd_spec_member *m, const char *name,
                       const char *default_wire, const json_t *j)
{
    const char *target = jstr(j, "shape");
    m->name = dup(s, name);
    m->shape = pd_spec_shape(s, target);
    if (!m->shape) {
        pd_log(PD_LOG_ERROR, "spec: member %s refers to unknown shape %s", name,
               target ? target : "(none)");
        return PD_EINVAL;
    }
    const char *ln = jstr(j, "locationName");
    m->wire_name = ln ? dup(s, ln) : dup(s, default_wire);
    if (ln)
        m->flags |= PD_MF_HAS_LOCNAME;
    m->path_name = lower_camel(s, name);
    const char *loc = jstr(j, "location");
    if (!loc)
        m->loc = PD_LOC_BODY;
    else if (!strcmp(loc, "header"))
        m->loc = PD_LOC_HEADER;
    else if (!strcmp(loc, "headers"))
        m->loc = PD_LOC_HEADERS;
    else if (!strcmp(loc, "uri"))
        m->loc = PD_LOC_URI;
    else if (!strcmp(loc, "querystring"))
        m->loc = PD_LOC_QUERY;
    else if (!strcmp(loc, "statusCode"))
        m->loc = PD_LOC_STATUS;
    else {
        pd_log(PD_LOG_ERROR, "spec: member %s has unknown location %s", name, loc);
        return PD_EINVAL;
    }
    if (json_is_true(json_object_get(j, "xmlAttribute")))
        m->flags |= PD_MF_XMLATTR;
    if (json_is_true(json_object_get(j, "idempotencyToken")))
        m->flags |= PD_MF_IDEMPOTENCY;
    if (json_is_true(json_object_get(j, "jsonvalue")))
        m->flags |= PD_MF_JSONVALUE;
    if (json_is_true(json_object_get(j, "streaming")))
        m->flags |= PD_MF_STREAMING;
    if (json_is_true(json_object_get(j, "hostLabel")))
        m->flags |= PD_MF_HOSTLABEL;
    if (json_is_true(json_object_get(j, "flattened")))
        m->flags |= PD_MF_FLATTENED;
    if (json_is_true(json_object_get(j, "deprecated")))
        m->flags |= PD_MF_DEPRECATED;
    m->ts_format = ts_format(jstr(j, "timestampFormat"));
    xmlns(s, json_object_get(j, "xmlNamespace"), &m->xmlns);
    return PD_OK;
}

static int load_shape(struct pd_spec *s, struct pd_spec_shape *sh, const json_t *j)
{
    int rc = shape_type(jstr(j, "type"), &sh->type);
    if (rc) {
        pd_log(PD_LOG_ERROR, "spec: shape %s has unknown type", sh->name);
        return rc;
    }
    const json_t *v;
    if ((v = json_object_get(j, "min")) && json_is_number(v)) {
        sh->has_min = 1;
        sh->min = (int64_t)json_number_value(v);
    }
    if ((v = json_object_get(j, "max")) && json_is_number(v)) {
        sh->has_max = 1;
        sh->max =
            json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)json_number_value(v);
    }
    if ((sh->pattern = dup(s, jstr(j, "pattern")))) {
        if (pd_regex_compile(&s->arena, sh->pattern, &sh->re)) {
            pd_log(PD_LOG_WARN, "spec: shape %s: pattern %s not supported; not checked", sh->name,
                   sh->pattern);
            sh->re = NULL;
        }
    }
    if ((v = json_object_get(j, "enum")) && json_is_array(v)) {
        sh->n_enums = json_array_size(v);
        sh->enums = pd_arena_zalloc(&s->arena, (sh->n_enums + 1) * sizeof *sh->enums);
        for (size_t i = 0; i < sh->n_enums; i++)
            sh->enums[i] = dup(s, json_string_value(json_array_get(v, i)));
    }
    sh->ts_format = ts_format(jstr(j, "timestampFormat"));
    if (json_is_true(json_object_get(j, "sensitive")))
        sh->flags |= PD_SF_SENSITIVE;
    if (json_is_true(json_object_get(j, "flattened")))
        sh->flags |= PD_SF_FLATTENED;
    if (json_is_true(json_object_get(j, "streaming")))
        sh->flags |= PD_SF_STREAMING;
    if (json_is_true(json_object_get(j, "exception")))
        sh->flags |= PD_SF_EXCEPTION;
    if (json_is_true(json_object_get(j, "fault")))
        sh->flags |= PD_SF_FAULT;
    if (json_is_true(json_object_get(j, "union")))
        sh->flags |= PD_SF_UNION;
    if (json_is_true(json_object_get(j, "eventstream")))
        sh->flags |= PD_SF_EVENTSTREAM;
    if ((sh->location_name = dup(s, jstr(j, "locationName"))))
        sh->flags |= PD_SF_HAS_LOCNAME;
    xmlns(s, json_object_get(j, "xmlNamespace"), &sh->xmlns);
    const json_t *err = json_object_get(j, "error");
    if (json_is_object(err) || (sh->flags & PD_SF_EXCEPTION)) {
        const char *code = jstr(err, "code");
        sh->error_code = code ? dup(s, code) : sh->name;
        sh->error_status = (int)json_integer_value(json_object_get(err, "httpStatusCode"));
        if (json_is_false(json_object_get(err, "senderFault")))
            sh->flags |= PD_SF_FAULT;
    }

    switch (sh->type) {
    case PD_ST_STRUCTURE: {
        const json_t *mem = json_object_get(j, "members");
        sh->n_members = json_object_size(mem);
        sh->members = pd_arena_zalloc(&s->arena, (sh->n_members + 1) * sizeof *sh->members);
        size_t i = 0;
        const char *name;
        const json_t *mj;
        json_object_foreach((json_t *)mem, name, mj)
        {
            if ((rc = load_member(s, &sh->members[i], name, name, mj)))
                return rc;
            i++;
        }
        const json_t *req = json_object_get(j, "required");
        for (size_t k = 0; k < json_array_size(req); k++) {
            const char *rn = json_string_value(json_array_get(req, k));
            for (size_t q = 0; rn && q < sh->n_members; q++)
                if (!strcmp(sh->members[q].name, rn))
                    sh->members[q].flags |= PD_MF_REQUIRED;
        }
        const char *payload = jstr(j, "payload");
        if (payload && !(sh->payload = pd_spec_member(sh, payload))) {
            pd_log(PD_LOG_ERROR, "spec: shape %s: payload %s is not a member", sh->name, payload);
            return PD_EINVAL;
        }
        break;
    }
    case PD_ST_LIST:
        sh->member = pd_arena_zalloc(&s->arena, sizeof *sh->member);
        return load_member(s, sh->member, "member", "member", json_object_get(j, "member"));
    case PD_ST_MAP:
        sh->key = pd_arena_zalloc(&s->arena, sizeof *sh->key);
        sh->value = pd_arena_zalloc(&s->arena, sizeof *sh->value);
        if ((rc = load_member(s, sh->key, "key", "key", json_object_get(j, "key"))))
            return rc;
        return load_member(s, sh->value, "value", "value", json_object_get(j, "value"));
    default:
        break;
    }
    return PD_OK;
}

static const struct pd_spec_member *find_wire(const struct pd_spec_shape *in, enum pd_spec_loc loc,
                                              const char *wire)
{
    for (size_t i = 0; in && i < in->n_members; i++)
        if (in->members[i].loc == loc && !strcmp(in->members[i].wire_name, wire))
            return &in->members[i];
    return NULL;
}

static int load_route(struct pd_spec *s, struct pd_spec_op *op)
{
    struct pd_spec_route *r = &op->route;
    char *uri = pd_arena_strdup(&s->arena, op->request_uri ? op->request_uri : "/");
    char *q = strchr(uri, '?');
    if (q)
        *q++ = '\0';
    /* path segments */
    size_t nseg = 0;
    for (char *p = uri; *p; p++)
        nseg += *p == '/';
    r->segs = pd_arena_zalloc(&s->arena, (nseg + 1) * sizeof *r->segs);
    char *p = uri[0] == '/' ? uri + 1 : uri;
    while (*p) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (*p) {
            struct pd_spec_seg *seg = &r->segs[r->n_segs++];
            size_t len = strlen(p);
            if (p[0] == '{' && len > 2 && p[len - 1] == '}') {
                p[len - 1] = '\0';
                p++;
                len -= 2;
                if (p[len - 1] == '+') {
                    seg->greedy = 1;
                    p[len - 1] = '\0';
                }
                seg->label = find_wire(op->input, PD_LOC_URI, p);
                if (!seg->label) {
                    pd_log(PD_LOG_ERROR, "spec: %s: label {%s} has no uri member", op->name, p);
                    return PD_EINVAL;
                }
            } else {
                seg->lit = p;
            }
        }
        if (!slash)
            break;
        if (!slash[1])
            r->trailing_slash = r->n_segs > 0;
        p = slash + 1;
    }
    /* query literals */
    if (q && *q) {
        size_t nq = 1;
        for (char *c = q; *c; c++)
            nq += *c == '&';
        r->qlits = pd_arena_zalloc(&s->arena, nq * sizeof *r->qlits);
        for (char *tok = q; tok;) {
            char *amp = strchr(tok, '&');
            if (amp)
                *amp = '\0';
            if (*tok) {
                char *eq = strchr(tok, '=');
                if (eq)
                    *eq = '\0';
                r->qlits[r->n_qlits].key = tok;
                r->qlits[r->n_qlits].value = eq ? eq + 1 : NULL;
                r->n_qlits++;
            }
            tok = amp ? amp + 1 : NULL;
        }
    }
    /* required query and header members tell look-alike operations apart */
    const struct pd_spec_shape *in = op->input;
    size_t nm = in ? in->n_members : 0;
    r->req_query = pd_arena_zalloc(&s->arena, (nm + 1) * sizeof *r->req_query);
    r->req_headers = pd_arena_zalloc(&s->arena, (nm + 1) * sizeof *r->req_headers);
    for (size_t i = 0; i < nm; i++) {
        const struct pd_spec_member *m = &in->members[i];
        if (!(m->flags & PD_MF_REQUIRED))
            continue;
        if (m->loc == PD_LOC_QUERY)
            r->req_query[r->n_req_query++] = m->wire_name;
        if (m->loc == PD_LOC_HEADER) {
            char *h = pd_arena_strdup(&s->arena, m->wire_name);
            for (char *c = h; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            r->req_headers[r->n_req_headers++] = h;
        }
    }
    return PD_OK;
}

static int load_op(struct pd_spec *s, struct pd_spec_op *op, const json_t *j)
{
    const json_t *http = json_object_get(j, "http");
    op->method = dup(s, jstr(http, "method"));
    if (!op->method)
        op->method = "POST";
    op->request_uri = dup(s, jstr(http, "requestUri"));
    json_int_t code = json_integer_value(json_object_get(http, "responseCode"));
    op->response_code = code ? (int)code : 200;
    const json_t *in = json_object_get(j, "input"), *out = json_object_get(j, "output");
    if (in) {
        op->input = pd_spec_shape(s, jstr(in, "shape"));
        if (!op->input)
            return PD_EINVAL;
        op->input_root = dup(s, jstr(in, "locationName"));
        xmlns(s, json_object_get(in, "xmlNamespace"), &op->input_xmlns);
    }
    if (out) {
        op->output = pd_spec_shape(s, jstr(out, "shape"));
        if (!op->output)
            return PD_EINVAL;
        op->result_wrapper = dup(s, jstr(out, "resultWrapper"));
    }
    op->authtype = dup(s, jstr(j, "authtype"));
    op->deprecated = json_is_true(json_object_get(j, "deprecated"));
    const json_t *errs = json_object_get(j, "errors");
    op->n_errors = json_array_size(errs);
    op->errors = pd_arena_zalloc(&s->arena, (op->n_errors + 1) * sizeof *op->errors);
    for (size_t i = 0; i < op->n_errors; i++) {
        op->errors[i] = pd_spec_shape(s, jstr(json_array_get(errs, i), "shape"));
        if (!op->errors[i])
            return PD_EINVAL;
    }
    if (s->proto == PD_SPEC_REST_JSON || s->proto == PD_SPEC_REST_XML)
        return load_route(s, op);
    return PD_OK;
}

const char *pd_spec_proto_name(enum pd_spec_proto p)
{
    switch (p) {
    case PD_SPEC_QUERY:
        return "query";
    case PD_SPEC_REST_JSON:
        return "rest-json";
    case PD_SPEC_REST_XML:
        return "rest-xml";
    case PD_SPEC_JSON:
        return "json";
    }
    return "?";
}

int pd_spec_load(const char *text, size_t len, struct pd_spec **OUT)
{
    int rc = PD_EINVAL;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    struct pd_spec *s = pd_xcalloc(1, sizeof *s);
    pd_arena_init(&s->arena);
    if (!root) {
        pd_log(PD_LOG_ERROR, "spec: not JSON: %s (line %d)", jerr.text, jerr.line);
        goto out;
    }
    const json_t *meta = json_object_get(root, "metadata");
    const char *proto = jstr(meta, "protocol");
    if (!proto)
        goto out;
    if (!strcmp(proto, "query"))
        s->proto = PD_SPEC_QUERY;
    else if (!strcmp(proto, "rest-json"))
        s->proto = PD_SPEC_REST_JSON;
    else if (!strcmp(proto, "rest-xml"))
        s->proto = PD_SPEC_REST_XML;
    else if (!strcmp(proto, "json"))
        s->proto = PD_SPEC_JSON;
    else {
        pd_log(PD_LOG_ERROR, "spec: protocol %s not supported", proto);
        goto out;
    }
    s->service_id = dup(s, jstr(meta, "serviceId"));
    s->api_version = dup(s, jstr(meta, "apiVersion"));
    s->xml_namespace = dup(s, jstr(meta, "xmlNamespace"));
    s->endpoint_prefix = dup(s, jstr(meta, "endpointPrefix"));
    s->signing_name = dup(s, jstr(meta, "signingName"));
    s->target_prefix = dup(s, jstr(meta, "targetPrefix"));
    s->json_version = dup(s, jstr(meta, "jsonVersion"));
    if (s->proto == PD_SPEC_JSON && (!s->target_prefix || !s->json_version)) {
        pd_log(PD_LOG_ERROR, "spec: an awsJson model needs targetPrefix and jsonVersion");
        goto out;
    }
    if (!s->signing_name)
        s->signing_name = s->endpoint_prefix;

    /* pass 1: names */
    const json_t *shapes = json_object_get(root, "shapes");
    const json_t *ops = json_object_get(root, "operations");
    s->n_shapes = json_object_size(shapes);
    s->shapes = pd_arena_zalloc(&s->arena, (s->n_shapes + 1) * sizeof *s->shapes);
    const char *name;
    json_t *v;
    size_t i = 0;
    json_object_foreach((json_t *)shapes, name, v) s->shapes[i++].name = dup(s, name);
    qsort(s->shapes, s->n_shapes, sizeof *s->shapes, cmp_shape);
    s->n_ops = json_object_size(ops);
    s->ops = pd_arena_zalloc(&s->arena, (s->n_ops + 1) * sizeof *s->ops);
    i = 0;
    json_object_foreach((json_t *)ops, name, v) s->ops[i++].name = dup(s, name);
    qsort(s->ops, s->n_ops, sizeof *s->ops, cmp_op);

    /* pass 2: traits */
    for (i = 0; i < s->n_shapes; i++)
        if ((rc = load_shape(s, &s->shapes[i], json_object_get(shapes, s->shapes[i].name))))
            goto out;
    for (i = 0; i < s->n_ops; i++)
        if ((rc = load_op(s, &s->ops[i], json_object_get(ops, s->ops[i].name)))) {
            pd_log(PD_LOG_ERROR, "spec: operation %s does not load", s->ops[i].name);
            goto out;
        }
    s->by_method = pd_arena_zalloc(&s->arena, (s->n_ops + 1) * sizeof *s->by_method);
    for (i = 0; i < s->n_ops; i++)
        s->by_method[i] = &s->ops[i];
    qsort(s->by_method, s->n_ops, sizeof *s->by_method, cmp_method);

    /* S3's metadata names no namespace; its inputs do (CreateBucketConfiguration). */
    for (i = 0; !s->xml_namespace && i < s->n_ops; i++)
        if (s->ops[i].input_xmlns.uri)
            s->xml_namespace = s->ops[i].input_xmlns.uri;
    rc = PD_OK;
out:
    json_decref(root);
    if (rc) {
        pd_spec_free(s);
        s = NULL;
    }
    *OUT = s;
    return rc;
}

int pd_spec_load_embedded(const char *stem, struct pd_spec **OUT)
{
    char file[64];
    snprintf(file, sizeof file, "%s.json", stem);
    const struct pd_embedded *e = pd_embedded_find(file);
    if (!e) {
        *OUT = NULL;
        return PD_ENOTFOUND;
    }
    return pd_spec_load(e->data, e->len, OUT);
}

void pd_spec_free(struct pd_spec *s)
{
    if (!s)
        return;
    pd_arena_cleanup(&s->arena);
    free(s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t pd_spec_unimplemented(const struct pd_spec *s, const char *const *implemented, size_t n_impl,
                             struct pd_arena *a, const char ***OUT)
{
    const char **impl = pd_arena_alloc(a, (n_impl + 1) * sizeof *impl);
    for (size_t i = 0; i < n_impl; i++)
        impl[i] = implemented[i];
    qsort(impl, n_impl, sizeof *impl, cmp_str);
    const char **res = pd_arena_alloc(a, (s->n_ops + 1) * sizeof *res);
    size_t n = 0;
    for (size_t i = 0; i < s->n_ops; i++) {
        const char *name = s->ops[i].name;
        if (!bsearch(&name, impl, n_impl, sizeof *impl, cmp_str))
            res[n++] = name;
    }
    res[n] = NULL;
    *OUT = res;
    return n;
}

int pd_spec_op_streams_input(const struct pd_spec_op *op)
{
    const struct pd_spec_member *pm = op && op->input ? op->input->payload : NULL;
    return pm && ((pm->shape->flags & PD_SF_STREAMING) || (pm->flags & PD_MF_STREAMING));
}
