/*
 * rest.c - what rest-json (EKS) and rest-xml (S3) share: routing a request to an operation
 * by method + path (+ query literals and required keys), and decoding the members bound to
 * the URI, query string and headers; the body is read by restjson.c or restxml.c through
 * the same walker.
 *
 * Routing scores each operation of the request's method: query literals of its requestUri
 * ("?uploads", "?list-type=2") first, then literal path segments, then whether the
 * operation's required query/header members are all present (this is what tells S3's
 * PutObject, CopyObject, UploadPart and UploadPartCopy apart); deprecated twins lose ties.
 * S3 routes take the bucket and key from the caller (virtual-host or path style).
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "proto/codec.h"
#include "proto/proto.h"

struct rpath {
    const char **segs; /* raw segments */
    size_t n;
};

static void split_path(struct pd_arena *a, const char *path, struct rpath *out)
{
    size_t cap = 1;
    for (const char *c = path; *c; c++)
        cap += *c == '/';
    out->segs = pd_arena_alloc(a, cap * sizeof *out->segs);
    out->n = 0;
    const char *p = path[0] == '/' ? path + 1 : path;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (!slash && !len)
            break;
        out->segs[out->n++] = pd_arena_strndup(a, p, len);
        if (!slash)
            break;
        p = slash + 1;
    }
    /* one trailing slash is not a segment: "/clusters/" == "/clusters" */
    if (out->n && !*out->segs[out->n - 1])
        out->n--;
}

struct labels {
    const struct pd_spec_member *m[8];
    const char *v[8]; /* decoded */
    size_t n;
};

/* Does rp match op's path? Fills labels (decoded) when l != NULL. */
static int match_rest_path(struct pd_arena *a, const struct pd_spec_op *op, const struct rpath *rp,
                           struct labels *l)
{
    const struct pd_spec_route *r = &op->route;
    size_t i = 0, j = 0;
    if (l)
        l->n = 0;
    for (; i < r->n_segs; i++) {
        const struct pd_spec_seg *s = &r->segs[i];
        if (j >= rp->n)
            return 0;
        if (s->lit) {
            if (strcmp(s->lit, rp->segs[j]))
                return 0;
            j++;
            continue;
        }
        size_t take = 1;
        if (s->greedy) {
            size_t rest = r->n_segs - i - 1;
            if (rp->n - j < rest + 1)
                return 0;
            take = rp->n - j - rest;
        }
        if (!*rp->segs[j])
            return 0;
        if (!l || l->n < 8) { /* decode even when only routing: a bad escape is no match */
            struct pd_buf b;
            pd_buf_init(&b, 0);
            for (size_t k = 0; k < take; k++)
                pd_buf_printf(&b, "%s%s", k ? "/" : "", rp->segs[j + k]);
            char *dec;
            size_t dlen;
            int bad = pd_url_decode(a, pd_buf_str(&b), b.len, 0, &dec, &dlen);
            pd_buf_free(&b);
            if (bad || strlen(dec) != dlen)
                return 0;
            if (l) {
                l->m[l->n] = s->label;
                l->v[l->n++] = dec;
            }
        }
        j += take;
    }
    return j == rp->n;
}

/* S3: segments are [Bucket] and [Key+] from the caller. */
static int match_s3_path(const struct pd_spec_op *op, const char *bucket, const char *key,
                         struct labels *l)
{
    const struct pd_spec_route *r = &op->route;
    const char *vals[2] = {bucket, key};
    size_t have = !bucket ? 0 : key ? 2 : 1; /* a key without a bucket names nothing */
    if (l)
        l->n = 0;
    if (r->n_segs != have)
        return 0;
    for (size_t i = 0; i < r->n_segs; i++) {
        const struct pd_spec_seg *s = &r->segs[i];
        if (s->lit) {
            if (strcmp(s->lit, vals[i]))
                return 0;
            continue;
        }
        if (!s->greedy && strchr(vals[i], '/'))
            return 0;
        if (l) {
            l->m[l->n] = s->label;
            l->v[l->n++] = vals[i];
        }
    }
    return 1;
}

static int score_op(const struct pd_spec_op *op, const struct pd_kvs *q, const struct pd_kvs *hdrs)
{
    const struct pd_spec_route *r = &op->route;
    for (size_t i = 0; i < r->n_qlits; i++) {
        const char *v = pd_kvs_get(q, r->qlits[i].key, 0);
        if (!v || (r->qlits[i].value && strcmp(v, r->qlits[i].value)))
            return -1;
    }
    int lits = 0;
    for (size_t i = 0; i < r->n_segs; i++)
        lits += r->segs[i].lit != NULL;
    size_t have = 0, total = r->n_req_query + r->n_req_headers;
    for (size_t i = 0; i < r->n_req_query; i++)
        have += pd_kvs_get(q, r->req_query[i], 0) != NULL;
    for (size_t i = 0; hdrs && i < r->n_req_headers; i++)
        have += pd_kvs_get(hdrs, r->req_headers[i], 1) != NULL;
    int score = (int)r->n_qlits * 10000 + lits * 1000 + (int)have * 4;
    if (have == total)
        score += 500;
    if (!op->deprecated)
        score += 1;
    return score;
}

static int parse_query(struct pd_arena *a, const struct pd_http_request *rq, struct pd_kvs *q)
{
    memset(q, 0, sizeof *q);
    if (!rq->query || !*rq->query)
        return PD_OK;
    return pd_kvs_parse_form(a, q, rq->query, strlen(rq->query), 1);
}

static void no_route(const struct pd_spec *spec, struct pd_arena *a,
                     const struct pd_http_request *rq, struct pd_codec_error *e)
{
    e->sender = 1;
    if (spec->proto == PD_SPEC_REST_XML) {
        e->code = "MethodNotAllowed";
        e->status = 405;
        e->message = "The specified method is not allowed against this resource.";
    } else {
        e->code = "UnknownOperationException";
        e->status = 404;
        e->message = pd_arena_printf(a, "No operation matches %s %s", rq->method ? rq->method : "?",
                                     rq->path ? rq->path : "/");
    }
}

int pd_rest_route(const struct pd_spec *spec, struct pd_arena *a, const struct pd_http_request *rq,
                  const struct pd_spec_op **OUT_op, struct pd_codec_error *OUT_err)
{
    memset(OUT_err, 0, sizeof *OUT_err);
    *OUT_op = NULL;
    struct pd_kvs q;
    struct rpath rp = {NULL, 0};
    const int s3 = spec->proto == PD_SPEC_REST_XML;
    if (parse_query(a, rq, &q)) {
        OUT_err->code = s3 ? "InvalidArgument" : "SerializationException";
        OUT_err->status = 400;
        OUT_err->sender = 1;
        OUT_err->message = "Invalid percent-encoding in the query string";
        return PD_EINVAL;
    }
    if (!s3)
        split_path(a, rq->path ? rq->path : "/", &rp);
    const char *method = rq->method ? rq->method : "GET";
    const struct pd_spec_op *best = NULL;
    int best_score = -1;
    size_t lo = 0, hi = spec->n_ops; /* first operation of this method */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(spec->by_method[mid]->method, method) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < spec->n_ops; i++) {
        const struct pd_spec_op *op = spec->by_method[i];
        if (strcmp(op->method, method))
            break;
        int ok = s3 ? match_s3_path(op, rq->bucket, rq->key && *rq->key ? rq->key : NULL, NULL)
                    : match_rest_path(a, op, &rp, NULL);
        if (!ok)
            continue;
        int sc = score_op(op, &q, rq->headers);
        if (sc > best_score) {
            best = op;
            best_score = sc;
        }
    }
    if (!best) {
        no_route(spec, a, rq, OUT_err);
        return PD_ENOTFOUND;
    }
    *OUT_op = best;
    return PD_OK;
}

/* ---- decoding the location-bound members ---- */

struct rroot {
    const struct pd_spec_op *op;
    const struct pd_spec *spec;
    struct labels labels;
    struct pd_kvs query;
    const struct pd_kvs *headers;
    int has_body;
    struct wnode body; /* the body's root (JSON object or XML element) */
    int has_payload;
    struct wnode payload; /* the payload member's node */
    json_t *doc;          /* rest-json: the parsed body, released after decoding */
};

static const struct wsrc rsrc;
static const struct wsrc hmap_src;
static const struct wsrc qmap_src;

static int is_s3(const struct rroot *r)
{
    return r->spec->proto == PD_SPEC_REST_XML;
}

/* Split a header list value on commas, honouring "quoted, strings". */
static size_t split_header_list(struct pd_arena *a, const char *v, struct wtext **OUT)
{
    size_t cap = 1;
    for (const char *c = v; *c; c++)
        cap += *c == ',';
    struct wtext *t = pd_arena_alloc(a, cap * sizeof *t);
    size_t n = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (*p == '"') {
            struct pd_buf b;
            pd_buf_init(&b, 0);
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                pd_buf_addc(&b, *p++);
            }
            if (*p == '"')
                p++;
            t[n].s = pd_arena_strndup(a, pd_buf_str(&b), b.len);
            t[n].n = b.len;
            pd_buf_free(&b);
            while (*p && *p != ',')
                p++;
        } else {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                len--;
            t[n].s = p;
            t[n].n = len;
            p += e ? (size_t)(e - p) : strlen(p);
        }
        n++;
        if (*p == ',')
            p++;
    }
    *OUT = t;
    return n;
}

static int r_member(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                    struct wnode *OUT)
{
    const struct rroot *r = n->p;
    const struct pd_spec_shape *sh = m->shape;
    w->bad_code = is_s3(r) ? "InvalidArgument" : "SerializationException";
    switch (m->loc) {
    case PD_LOC_URI:
        for (size_t i = 0; i < r->labels.n; i++)
            if (r->labels.m[i] == m) {
                pd_walk_text_node(OUT, r->labels.v[i], strlen(r->labels.v[i]), PD_TS_ISO8601);
                return 1;
            }
        return 0;
    case PD_LOC_QUERY: {
        if (sh->type == PD_ST_MAP) {
            memset(OUT, 0, sizeof *OUT);
            OUT->src = &qmap_src;
            OUT->p = r;
            return 1;
        }
        size_t k = pd_kvs_count(&r->query, m->wire_name, 0);
        if (!k)
            return 0;
        if (sh->type == PD_ST_LIST) {
            struct wtext *t = pd_arena_alloc(w->a, k * sizeof *t);
            size_t j = 0;
            for (size_t i = 0; i < r->query.n; i++)
                if (!strcmp(r->query.v[i].name, m->wire_name)) {
                    t[j].s = r->query.v[i].value;
                    t[j].n = r->query.v[i].vlen;
                    j++;
                }
            pd_walk_text_node(OUT, NULL, 0, PD_TS_ISO8601);
            OUT->p = t;
            OUT->q = (const void *)(uintptr_t)j;
            return 1;
        }
        for (size_t i = 0; i < r->query.n; i++)
            if (!strcmp(r->query.v[i].name, m->wire_name)) {
                pd_walk_text_node(OUT, r->query.v[i].value, r->query.v[i].vlen, PD_TS_ISO8601);
                return 1;
            }
        return 0;
    }
    case PD_LOC_HEADER: {
        const char *v = r->headers ? pd_kvs_get(r->headers, m->wire_name, 1) : NULL;
        if (!v)
            return 0;
        if (sh->type == PD_ST_LIST) {
            struct wtext *t;
            size_t k = split_header_list(w->a, v, &t);
            pd_walk_text_node(OUT, NULL, 0, PD_TS_RFC822);
            OUT->p = t;
            OUT->q = (const void *)(uintptr_t)k;
            return 1;
        }
        pd_walk_text_node(OUT, v, strlen(v), PD_TS_RFC822);
        return 1;
    }
    case PD_LOC_HEADERS: {
        size_t plen = strlen(m->wire_name);
        for (size_t i = 0; r->headers && i < r->headers->n; i++)
            if (pd_strncaseeq(r->headers->v[i].name, m->wire_name, plen)) {
                memset(OUT, 0, sizeof *OUT);
                OUT->src = &hmap_src;
                OUT->p = r;
                OUT->s = m->wire_name;
                OUT->n = plen;
                return 1;
            }
        return 0;
    }
    case PD_LOC_STATUS:
        return 0;
    case PD_LOC_BODY:
        w->bad_code = is_s3(r) ? "MalformedXML" : "SerializationException";
        if (r->op->input->payload == m) {
            if (!r->has_payload)
                return 0;
            *OUT = r->payload;
            return 1;
        }
        if (!r->has_body || r->op->input->payload)
            return 0;
        return r->body.src->member(w, &r->body, m, OUT);
    }
    return 0;
}

static int r_scalar(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                    json_t **OUT)
{
    (void)n;
    *OUT = NULL;
    return pd_walk_fail(w, "Unexpected value for %s", m->name);
}

static int r_items(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                   struct wnode **OUT, size_t *OUT_n)
{
    (void)n;
    *OUT = NULL;
    *OUT_n = 0;
    return pd_walk_fail(w, "Unexpected value for %s", m->name);
}

static int r_entries(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                     struct wnode **OUT_k, struct wnode **OUT_v, size_t *OUT_n)
{
    (void)n;
    *OUT_k = *OUT_v = NULL;
    *OUT_n = 0;
    return pd_walk_fail(w, "Unexpected value for %s", m->name);
}

static const struct wsrc rsrc = {r_scalar, r_member, r_items, r_entries};

/* headers-prefix map (x-amz-meta-*) */
static int hmap_entries(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                        struct wnode **OUT_k, struct wnode **OUT_v, size_t *OUT_n)
{
    const struct rroot *r = n->p;
    (void)m;
    size_t cap = r->headers->n, k = 0;
    *OUT_k = pd_arena_alloc(w->a, (cap + 1) * sizeof **OUT_k);
    *OUT_v = pd_arena_alloc(w->a, (cap + 1) * sizeof **OUT_v);
    for (size_t i = 0; i < r->headers->n; i++) {
        const struct pd_kv *h = &r->headers->v[i];
        if (!pd_strncaseeq(h->name, n->s, n->n))
            continue;
        const char *key = h->name + n->n;
        pd_walk_text_node(&(*OUT_k)[k], key, strlen(key), PD_TS_RFC822);
        pd_walk_text_node(&(*OUT_v)[k], h->value, h->vlen, PD_TS_RFC822);
        k++;
    }
    *OUT_n = k;
    return PD_OK;
}

static const struct wsrc hmap_src = {r_scalar, r_member, r_items, hmap_entries};

/* querystring map: every key no other member or query literal claims */
static int qmap_entries(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                        struct wnode **OUT_k, struct wnode **OUT_v, size_t *OUT_n)
{
    const struct rroot *r = n->p;
    const struct pd_spec_shape *in = r->op->input;
    const struct pd_spec_route *rt = &r->op->route;
    (void)m;
    size_t k = 0;
    *OUT_k = pd_arena_alloc(w->a, (r->query.n + 1) * sizeof **OUT_k);
    *OUT_v = pd_arena_alloc(w->a, (r->query.n + 1) * sizeof **OUT_v);
    for (size_t i = 0; i < r->query.n; i++) {
        const char *name = r->query.v[i].name;
        int claimed = 0;
        for (size_t j = 0; !claimed && j < in->n_members; j++)
            claimed = in->members[j].loc == PD_LOC_QUERY &&
                      in->members[j].shape->type != PD_ST_MAP &&
                      !strcmp(in->members[j].wire_name, name);
        for (size_t j = 0; !claimed && j < rt->n_qlits; j++)
            claimed = !strcmp(rt->qlits[j].key, name);
        for (size_t j = 0; !claimed && j < k; j++) /* first value of a repeated key */
            claimed = !strcmp((*OUT_k)[j].s, name);
        if (claimed)
            continue;
        pd_walk_text_node(&(*OUT_k)[k], name, strlen(name), PD_TS_ISO8601);
        pd_walk_text_node(&(*OUT_v)[k], r->query.v[i].value, r->query.v[i].vlen, PD_TS_ISO8601);
        k++;
    }
    *OUT_n = k;
    return PD_OK;
}

static const struct wsrc qmap_src = {r_scalar, r_member, r_items, qmap_entries};

/* a raw (non-streaming) blob or string payload: the body bytes themselves */
static int raw_scalar(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                      json_t **OUT)
{
    if (m->shape->type == PD_ST_BLOB) {
        *OUT = json_stringn_nocheck(n->s, n->n);
        return PD_OK;
    }
    return pd_walk_text_scalar(w, m, n->s, n->n, PD_TS_ISO8601, OUT);
}

static const struct wsrc raw_src = {raw_scalar, r_member, r_items, r_entries};

static int has_body_members(const struct pd_spec_shape *in)
{
    for (size_t i = 0; i < in->n_members; i++)
        if (in->members[i].loc == PD_LOC_BODY)
            return 1;
    return 0;
}

static const char *s3_malformed =
    "The XML you provided was not well-formed or did not validate against our published schema";

size_t pd_proto_json_values(const char *s, size_t n)
{
    size_t count = 1;
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{' || c == ',') {
            count++;
        }
    }
    return count;
}

/* Parse the body into r->body / r->payload. */
static int parse_body(struct walk *w, struct rroot *r, const struct pd_http_request *rq)
{
    const struct pd_spec_shape *in = r->op->input;
    const struct pd_spec_member *pm = in->payload;
    const int s3 = is_s3(r);
    if (pm && pm->shape->type != PD_ST_STRUCTURE) {
        int streaming = (pm->shape->flags & PD_SF_STREAMING) || (pm->flags & PD_MF_STREAMING);
        if (streaming || !rq->body_len)
            return PD_OK; /* the caller streams it, or there is none */
        memset(&r->payload, 0, sizeof r->payload);
        r->payload.src = &raw_src;
        r->payload.s = rq->body;
        r->payload.n = rq->body_len;
        r->has_payload = 1;
        return PD_OK;
    }
    if (!pm && !has_body_members(in))
        return PD_OK;
    if (!rq->body_len)
        return PD_OK;
    if (s3) {
        struct pd_xml_node *root;
        const char *why;
        if (pd_xml_parse(w->a, rq->body, rq->body_len, &root, &why)) {
            w->bad_code = "MalformedXML";
            pd_walk_fail(w, "%s", s3_malformed);
            return PD_EINVAL;
        }
        pd_restxml_node(pm ? &r->payload : &r->body, root);
    } else {
        if (pd_proto_json_values(rq->body, rq->body_len) > PD_JSON_MAX_VALUES) {
            w->bad_code = "SerializationException";
            pd_walk_fail(w, "Request body has more than %d JSON values, podiam's limit",
                         PD_JSON_MAX_VALUES);
            return PD_EINVAL;
        }
        json_error_t jerr;
        json_t *doc = json_loadb(rq->body, rq->body_len, 0, &jerr);
        if (!doc || !json_is_object(doc)) {
            json_decref(doc);
            w->bad_code = "SerializationException";
            pd_walk_fail(w, "Request body is not a JSON object");
            return PD_EINVAL;
        }
        pd_restjson_node(pm ? &r->payload : &r->body, doc);
        r->doc = doc;
    }
    if (pm)
        r->has_payload = 1;
    else
        r->has_body = 1;
    return PD_OK;
}

/* Which top-level member does a violation path start with? */
static const struct pd_spec_member *path_member(const struct pd_spec_shape *in, const char *path)
{
    size_t len = strcspn(path, ".");
    for (size_t i = 0; i < in->n_members; i++)
        if (strlen(in->members[i].path_name) == len &&
            !strncmp(in->members[i].path_name, path, len))
            return &in->members[i];
    return NULL;
}

int pd_rest_decode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                   const struct pd_http_request *rq, json_t **OUT_in,
                   struct pd_codec_error *OUT_err)
{
    memset(OUT_err, 0, sizeof *OUT_err);
    *OUT_in = NULL;
    const int s3 = spec->proto == PD_SPEC_REST_XML;
    struct walk w = {a, spec, OUT_err, s3 ? "InvalidArgument" : "SerializationException", 400, 0};
    if (!op->input) {
        *OUT_in = json_object();
        return PD_OK;
    }
    struct rroot *r = pd_arena_zalloc(a, sizeof *r);
    r->op = op;
    r->spec = spec;
    r->headers = rq->headers;
    int rc = PD_OK;
    json_t *in = NULL;
    if (parse_query(a, rq, &r->query)) {
        rc = pd_walk_fail(&w, "Invalid percent-encoding in the query string");
        goto out;
    }
    if (s3) {
        match_s3_path(op, rq->bucket, rq->key && *rq->key ? rq->key : NULL, &r->labels);
    } else {
        struct rpath rp;
        split_path(a, rq->path ? rq->path : "/", &rp);
        if (!match_rest_path(a, op, &rp, &r->labels)) {
            rc = pd_walk_fail(&w, "Invalid path for %s", op->name);
            goto out;
        }
    }
    if ((rc = parse_body(&w, r, rq)))
        goto out;
    struct pd_spec_member top = {
        .name = op->name, .wire_name = "", .path_name = "", .shape = op->input};
    struct wnode root;
    memset(&root, 0, sizeof root);
    root.src = &rsrc;
    root.p = r;
    if ((rc = pd_walk_value(&w, &root, &top, &in)))
        goto out;
    if ((rc = pd_walk_validate(&w, op->input, in, s3 ? "InvalidArgument" : "ValidationException",
                               400))) {
        int body = 0;
        for (size_t i = 0; i < OUT_err->n_violations; i++) {
            struct pd_violation *v = (struct pd_violation *)&OUT_err->violations[i];
            const struct pd_spec_member *m = path_member(op->input, v->path);
            v->in_body = m && m->loc == PD_LOC_BODY;
            body |= v->in_body;
        }
        if (s3 && body) { /* S3 reports a body that breaks the schema as MalformedXML */
            OUT_err->code = "MalformedXML";
            OUT_err->message = s3_malformed;
        }
    }
out:
    json_decref(r->doc);
    if (rc) {
        json_decref(in);
        return PD_EINVAL;
    }
    *OUT_in = in;
    return PD_OK;
}

int pd_restxml_split_path(struct pd_arena *a, const char *raw_path, const char **OUT_bucket,
                          const char **OUT_key)
{
    *OUT_bucket = *OUT_key = NULL;
    const char *p = raw_path && raw_path[0] == '/' ? raw_path + 1 : raw_path ? raw_path : "";
    const char *slash = strchr(p, '/');
    size_t blen = slash ? (size_t)(slash - p) : strlen(p);
    char *dec;
    size_t dlen;
    if (blen) {
        if (pd_url_decode(a, p, blen, 0, &dec, &dlen) || strlen(dec) != dlen)
            return PD_EINVAL;
        *OUT_bucket = dec;
    }
    if (slash && slash[1]) {
        if (pd_url_decode(a, slash + 1, strlen(slash + 1), 0, &dec, &dlen) || strlen(dec) != dlen)
            return PD_EINVAL;
        *OUT_key = dec;
    }
    return PD_OK;
}

/* ---- encoding: header-bound members and the status code ---- */

int pd_rest_encode_headers(struct pd_arena *a, const struct pd_spec_shape *sh, const json_t *out,
                           struct pd_http_response *OUT, const char **OUT_where)
{
    for (size_t i = 0; sh && out && i < sh->n_members; i++) {
        const struct pd_spec_member *m = &sh->members[i];
        const json_t *v = json_object_get(out, m->name);
        if (!v || json_is_null(v))
            continue;
        switch (m->loc) {
        case PD_LOC_STATUS:
            if (!json_is_integer(v))
                goto bad;
            OUT->status = (int)json_integer_value(v);
            break;
        case PD_LOC_HEADER: {
            const char *t;
            if (m->shape->type == PD_ST_LIST) {
                struct pd_buf b;
                size_t k;
                const json_t *e;
                if (!json_is_array(v))
                    goto bad;
                pd_buf_init(&b, 0);
                json_array_foreach(v, k, e)
                {
                    size_t len;
                    const char *et =
                        pd_walk_scalar_text(a, m->shape->member, e, PD_TS_RFC822, &len);
                    if (!et) {
                        pd_buf_free(&b);
                        goto bad;
                    }
                    int quote = memchr(et, ',', len) || memchr(et, '"', len);
                    pd_buf_printf(&b, "%s%s", k ? "," : "", quote ? "\"" : "");
                    for (size_t c = 0; c < len; c++) {
                        if (quote && et[c] == '"')
                            pd_buf_addc(&b, '\\');
                        pd_buf_addc(&b, et[c]);
                    }
                    if (quote)
                        pd_buf_addc(&b, '"');
                }
                t = pd_arena_strndup(a, pd_buf_str(&b), b.len);
                pd_buf_free(&b);
            } else {
                t = pd_walk_scalar_text(a, m, v, PD_TS_RFC822, NULL);
            }
            if (!t || t[strcspn(t, "\r\n")])
                goto bad; /* a stored value must never split a header */
            pd_proto_header(a, OUT, m->wire_name, t);
            break;
        }
        case PD_LOC_HEADERS: {
            const char *k;
            const json_t *e;
            if (!json_is_object(v))
                goto bad;
            json_object_foreach((json_t *)v, k, e)
            {
                if (!json_is_string(e) ||
                    json_string_value(e)[strcspn(json_string_value(e), "\r\n")] ||
                    k[strcspn(k, "\r\n: ")])
                    goto bad;
                pd_proto_header(a, OUT, pd_arena_printf(a, "%s%s", m->wire_name, k),
                                json_string_value(e));
            }
            break;
        }
        default:
            break;
        }
        continue;
    bad:
        *OUT_where = m->name;
        return PD_EINTERNAL;
    }
    return PD_OK;
}
