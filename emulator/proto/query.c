/*
 * query.c - the AWS query protocol (IAM, STS): form parameters in, XML out.
 *
 * Decoding turns the flat parameter list into a trie on '.' ("Tags.member.1.Key" ->
 * Tags/member/1/Key), one hash lookup per segment, and lets the shared walker read it:
 * structures by member name, lists as NAME.member.N (1-based, gaps skipped, any index size),
 * flattened lists as NAME.N, maps as NAME.entry.N.key/value. Unknown parameters are ignored,
 * as AWS does. Encoding writes <OpResponse><OpResult>...</OpResult><ResponseMetadata/> and
 * the <ErrorResponse> envelope. Owns nothing beyond arena allocations.
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "proto/codec.h"
#include "proto/proto.h"
#include "proto/walk.h"
#include "xml/xml.h"

struct qn {
    const char *seg;
    size_t slen;
    const struct qn *parent;
    const char *value; /* NULL when no parameter ends here */
    size_t vlen;
    struct qn *first, *last, *next; /* children in first-seen order */
    size_t n_children;
    struct qn *hnext; /* hash chain */
};

struct qtrie {
    struct qn root;
    struct qn **tab;
    size_t mask;
};

static size_t qhash(const struct qn *parent, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static struct qn *qchild(const struct qtrie *t, const struct qn *parent, const char *s, size_t n)
{
    for (struct qn *c = t->tab[qhash(parent, s, n) & t->mask]; c; c = c->hnext)
        if (c->parent == parent && c->slen == n && !memcmp(c->seg, s, n))
            return c;
    return NULL;
}

static void qtrie_build(struct pd_arena *a, struct qtrie *t, const struct pd_kvs *params)
{
    size_t segs = 1;
    for (size_t i = 0; i < params->n; i++)
        for (const char *c = params->v[i].name; *c; c++)
            segs += *c == '.';
    segs += params->n;
    size_t cap = 16;
    while (cap < segs * 2)
        cap <<= 1;
    memset(&t->root, 0, sizeof t->root);
    t->tab = pd_arena_zalloc(a, cap * sizeof *t->tab);
    t->mask = cap - 1;
    for (size_t i = 0; i < params->n; i++) {
        const char *name = params->v[i].name;
        struct qn *cur = &t->root;
        for (;;) {
            const char *dot = strchr(name, '.');
            size_t n = dot ? (size_t)(dot - name) : strlen(name);
            struct qn *c = qchild(t, cur, name, n);
            if (!c) {
                c = pd_arena_zalloc(a, sizeof *c);
                c->seg = name;
                c->slen = n;
                c->parent = cur;
                size_t h = qhash(cur, name, n) & t->mask;
                c->hnext = t->tab[h];
                t->tab[h] = c;
                if (cur->last)
                    cur->last->next = c;
                else
                    cur->first = c;
                cur->last = c;
                cur->n_children++;
            }
            cur = c;
            if (!dot)
                break;
            name = dot + 1;
        }
        if (!cur->value) { /* the first of repeated parameters wins */
            cur->value = params->v[i].value;
            cur->vlen = params->v[i].vlen;
        }
    }
}

static const struct wsrc qsrc;

static void qnode(struct wnode *out, const struct qtrie *t, const struct qn *n)
{
    memset(out, 0, sizeof *out);
    out->src = &qsrc;
    out->p = n;
    out->q = t;
    out->ts = PD_TS_ISO8601;
}

static int is_aggregate(const struct pd_spec_shape *sh)
{
    return sh->type == PD_ST_STRUCTURE || sh->type == PD_ST_LIST || sh->type == PD_ST_MAP;
}

static int q_scalar(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                    json_t **OUT)
{
    const struct qn *q = n->p;
    return pd_walk_text_scalar(w, m, q->value, q->vlen, PD_TS_ISO8601, OUT);
}

static int flat(const struct pd_spec_member *m)
{
    return (m->shape->flags & PD_SF_FLATTENED) || (m->flags & PD_MF_FLATTENED);
}

static int q_member(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                    struct wnode *OUT)
{
    (void)w;
    const struct qtrie *t = n->q;
    const struct qn *q = n->p;
    const char *name = m->wire_name;
    if (m->shape->type == PD_ST_LIST && flat(m) && (m->shape->member->flags & PD_MF_HAS_LOCNAME))
        name = m->shape->member->wire_name;
    const struct qn *c = qchild(t, q, name, strlen(name));
    if (!c)
        return 0;
    if (m->shape->type == PD_ST_LIST || m->shape->type == PD_ST_MAP) {
        /* present with at least one indexed item; "Tags=" is how an empty list is sent */
        const char *inner = m->shape->type == PD_ST_MAP ? "entry" : m->shape->member->wire_name;
        const struct qn *box = flat(m) ? c : qchild(t, c, inner, strlen(inner));
        int any = 0;
        for (const struct qn *i = box ? box->first : NULL; i && !any; i = i->next)
            any = i->slen && i->seg[0] >= '1' && i->seg[0] <= '9';
        if (!any && !(m->shape->type == PD_ST_LIST && c->value && !c->vlen && !c->n_children))
            return 0;
    } else if (m->shape->type == PD_ST_STRUCTURE) {
        if (!c->n_children)
            return 0;
    } else if (!c->value) {
        return 0;
    }
    qnode(OUT, t, c);
    return 1;
}

struct idx {
    uint64_t i;
    const struct qn *n;
};

static int cmp_idx(const void *a, const void *b)
{
    const struct idx *x = a, *y = b;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Children of container named by positive decimal indexes, in index order. */
static size_t indexed(struct walk *w, const struct qn *container, struct idx **OUT)
{
    size_t k = 0;
    struct idx *v = pd_arena_alloc(w->a, (container ? container->n_children : 0) * sizeof *v + 1);
    for (const struct qn *c = container ? container->first : NULL; c; c = c->next) {
        if (!c->slen || c->slen > 19 || c->seg[0] == '0')
            continue;
        uint64_t i = 0;
        size_t j = 0;
        for (; j < c->slen && c->seg[j] >= '0' && c->seg[j] <= '9'; j++)
            i = i * 10 + (uint64_t)(c->seg[j] - '0');
        if (j != c->slen)
            continue;
        v[k].i = i;
        v[k].n = c;
        k++;
    }
    qsort(v, k, sizeof *v, cmp_idx);
    *OUT = v;
    return k;
}

static int q_items(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                   struct wnode **OUT, size_t *OUT_n)
{
    const struct qtrie *t = n->q;
    const struct qn *q = n->p;
    const struct pd_spec_member *el = m->shape->member;
    const struct qn *container = flat(m) ? q : qchild(t, q, el->wire_name, strlen(el->wire_name));
    struct idx *ix;
    size_t k = indexed(w, container, &ix), out = 0;
    *OUT = pd_arena_alloc(w->a, (k + 1) * sizeof **OUT);
    for (size_t i = 0; i < k; i++) {
        const struct qn *c = ix[i].n;
        if (is_aggregate(el->shape) ? !c->n_children : !c->value)
            continue;
        qnode(&(*OUT)[out++], t, c);
    }
    *OUT_n = out;
    return PD_OK;
}

static int q_entries(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                     struct wnode **OUT_k, struct wnode **OUT_v, size_t *OUT_n)
{
    const struct qtrie *t = n->q;
    const struct qn *q = n->p;
    const struct pd_spec_shape *sh = m->shape;
    const struct qn *container = flat(m) ? q : qchild(t, q, "entry", 5);
    struct idx *ix;
    size_t k = indexed(w, container, &ix), out = 0;
    *OUT_k = pd_arena_alloc(w->a, (k + 1) * sizeof **OUT_k);
    *OUT_v = pd_arena_alloc(w->a, (k + 1) * sizeof **OUT_v);
    for (size_t i = 0; i < k; i++) {
        const struct qn *kn = qchild(t, ix[i].n, sh->key->wire_name, strlen(sh->key->wire_name));
        const struct qn *vn =
            qchild(t, ix[i].n, sh->value->wire_name, strlen(sh->value->wire_name));
        if (!kn || !kn->value || !vn)
            continue;
        if (!is_aggregate(sh->value->shape) && !vn->value)
            continue;
        qnode(&(*OUT_k)[out], t, kn);
        qnode(&(*OUT_v)[out], t, vn);
        out++;
    }
    *OUT_n = out;
    return PD_OK;
}

static const struct wsrc qsrc = {q_scalar, q_member, q_items, q_entries};

static void set_err(struct pd_arena *a, struct pd_codec_error *e, const char *code, int status,
                    const char *msg)
{
    e->code = code;
    e->status = status;
    e->sender = status < 500;
    e->message = pd_arena_strdup(a, msg);
}

int pd_query_decode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_kvs *params,
                    const struct pd_spec_op **OUT_op, json_t **OUT_in,
                    struct pd_codec_error *OUT_err)
{
    memset(OUT_err, 0, sizeof *OUT_err);
    *OUT_op = NULL;
    *OUT_in = NULL;
    const char *action = pd_kvs_get(params, "Action", 0);
    if (!action || !*action) {
        set_err(a, OUT_err, "MissingAction", 400, "Missing Action");
        return PD_ENOTFOUND;
    }
    const struct pd_spec_op *op = pd_spec_op(spec, action);
    if (!op) {
        if (!pd_utf8_valid(action, strlen(action)))
            action = "?";
        OUT_err->code = "InvalidAction";
        OUT_err->status = 400;
        OUT_err->sender = 1;
        OUT_err->message = pd_arena_printf(a, "Could not find operation %s for version %s", action,
                                           spec->api_version);
        return PD_ENOTFOUND;
    }
    *OUT_op = op;
    if (!op->input) {
        *OUT_in = json_object();
        return PD_OK;
    }
    struct qtrie t;
    qtrie_build(a, &t, params);
    struct walk w = {a, spec, OUT_err, "MalformedInput", 400, 0};
    struct pd_spec_member top = {
        .name = op->name, .wire_name = "", .path_name = "", .shape = op->input};
    struct wnode root;
    qnode(&root, &t, &t.root);
    json_t *in = NULL;
    int rc = pd_walk_value(&w, &root, &top, &in);
    if (!rc)
        rc = pd_walk_validate(&w, op->input, in, "ValidationError", 400);
    if (rc) {
        json_decref(in);
        return PD_EINVAL;
    }
    *OUT_in = in;
    return PD_OK;
}

int pd_query_params(struct pd_arena *a, const struct pd_http_request *rq, struct pd_kvs *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    const char *ct = rq->headers ? pd_kvs_get(rq->headers, "content-type", 1) : NULL;
    int form = rq->body_len && (!ct || pd_has_prefix(ct, "application/x-www-form-urlencoded"));
    size_t qlen = rq->query ? strlen(rq->query) : 0;
    if (pd_form_count(rq->query, qlen) + (form ? pd_form_count(rq->body, rq->body_len) : 0) >
        PD_QUERY_MAX_PARAMS)
        return PD_ETOOBIG;
    if (qlen && pd_kvs_parse_form(a, OUT, rq->query, qlen, 1))
        return PD_EINVAL;
    if (form && pd_kvs_parse_form(a, OUT, rq->body, rq->body_len, 1))
        return PD_EINVAL;
    return PD_OK;
}

int pd_query_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                    const json_t *out, const char *request_id, struct pd_http_response *OUT)
{
    struct pd_buf *b = &OUT->body;
    struct xo x = {b, a, 0, NULL};
    const char *resp = pd_arena_printf(a, "%sResponse", op->name);
    const char *ns = spec->xml_namespace;
    int rc = pd_xml_open(b, resp);
    if (!rc && ns)
        rc = pd_xml_attr(b, "xmlns", ns, strlen(ns));
    if (!rc)
        rc = pd_xml_open_end(b);
    if (!rc && op->output) {
        const char *wrap =
            op->result_wrapper ? op->result_wrapper : pd_arena_printf(a, "%sResult", op->name);
        rc = pd_xml_open(b, wrap);
        if (!rc)
            rc = pd_xml_open_end(b);
        if (!rc && out) {
            if (!json_is_object(out)) {
                rc = PD_EINTERNAL;
                x.where = "(output)";
            } else {
                rc = pd_xo_members(&x, op->output, out);
            }
        }
        if (!rc)
            rc = pd_xml_close(b, wrap);
    }
    if (!rc)
        rc = pd_buf_adds(b, "<ResponseMetadata>");
    if (!rc)
        rc = pd_xml_elem(b, "RequestId", request_id, strlen(request_id));
    if (!rc)
        rc = pd_buf_adds(b, "</ResponseMetadata>");
    if (!rc)
        rc = pd_xml_close(b, resp);
    if (rc == PD_EINTERNAL)
        pd_log(PD_LOG_ERROR, "query: %s output does not fit its shape at %s", op->name,
               x.where ? x.where : "?");
    if (rc)
        return rc;
    OUT->status = 200;
    pd_proto_header(a, OUT, "Content-Type", "text/xml");
    pd_proto_header(a, OUT, "x-amzn-RequestId", request_id);
    return PD_OK;
}

int pd_query_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                          const struct pd_aws_fault *f, const char *request_id,
                          struct pd_http_response *OUT)
{
    struct pd_buf *b = &OUT->body;
    const char *ns = spec->xml_namespace;
    const char *type = f->sender ? "Sender" : "Receiver";
    int rc = pd_xml_open(b, "ErrorResponse");
    if (!rc && ns)
        rc = pd_xml_attr(b, "xmlns", ns, strlen(ns));
    if (!rc)
        rc = pd_buf_adds(b, "><Error>");
    if (!rc)
        rc = pd_xml_elem(b, "Type", type, strlen(type));
    if (!rc)
        rc = pd_xml_elem(b, "Code", f->code, strlen(f->code));
    if (!rc && f->message)
        rc = pd_xml_elem(b, "Message", f->message, strlen(f->message));
    if (!rc)
        rc = pd_buf_adds(b, "</Error>");
    if (!rc)
        rc = pd_xml_elem(b, "RequestId", request_id, strlen(request_id));
    if (!rc)
        rc = pd_xml_close(b, "ErrorResponse");
    if (rc)
        return rc;
    OUT->status = f->status;
    pd_proto_header(a, OUT, "Content-Type", "text/xml");
    pd_proto_header(a, OUT, "x-amzn-RequestId", request_id);
    return PD_OK;
}
