/*
 * restxml.c - the rest-xml protocol (S3): the XML body as a walker source, and the output
 * and error renderers.
 *
 * Body reading follows the SDKs' rules: elements by locationName, lists wrapped in their
 * member element ("member" unless named) or flattened into repeated elements, maps as
 * entry/key/value, xmlAttribute members from the enclosing element's attributes.
 * Output: status (model or statusCode member), header members (timestamps RFC 7231),
 * x-amz-meta-* maps, then the payload member (a structure as XML, a string as is, a
 * streaming blob left to the caller) or an XML document of the body members under S3's
 * root element name and namespace. Errors: <Error><Code/><Message/>[extra]<RequestId/>
 * <HostId/></Error> without a namespace. Owns nothing beyond arena allocations.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/proto.h"

void pd_restxml_node(struct wnode *n, const struct pd_xml_node *el)
{
    memset(n, 0, sizeof *n);
    n->src = &pd_restxml_src;
    n->p = el;
    n->ts = PD_TS_ISO8601;
}

static int x_scalar(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                    json_t **OUT)
{
    const struct pd_xml_node *el = n->p;
    if (el->first)
        return pd_walk_fail(w, "Unexpected element inside %s", m->name);
    return pd_walk_text_scalar(w, m, el->text, el->text_len, PD_TS_ISO8601, OUT);
}

static int flat(const struct pd_spec_member *m)
{
    return (m->shape->flags & PD_SF_FLATTENED) || (m->flags & PD_MF_FLATTENED);
}

static int x_member(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                    struct wnode *OUT)
{
    const struct pd_xml_node *el = n->p;
    if (m->flags & PD_MF_XMLATTR) {
        const char *v = pd_xml_get_attr(el, m->wire_name);
        if (!v)
            return 0;
        pd_walk_text_node(OUT, v, strlen(v), PD_TS_ISO8601);
        return 1;
    }
    const char *name = pd_xo_member_name(m);
    const struct pd_xml_node *c = pd_xml_child(el, name);
    if (!c)
        return 0;
    (void)w;
    pd_restxml_node(OUT, c);
    if ((m->shape->type == PD_ST_LIST || m->shape->type == PD_ST_MAP) && flat(m)) {
        OUT->flat = 1;
        OUT->q = el;
        OUT->s = name;
    }
    return 1;
}

static int x_items(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                   struct wnode **OUT, size_t *OUT_n)
{
    const struct pd_xml_node *parent = n->flat ? n->q : n->p;
    const char *name = n->flat ? n->s : m->shape->member->wire_name;
    size_t k = 0;
    *OUT = pd_arena_alloc(w->a, (parent->n_children + 1) * sizeof **OUT);
    for (const struct pd_xml_node *c = parent->first; c; c = c->next)
        if (!strcmp(c->name, name))
            pd_restxml_node(&(*OUT)[k++], c);
    *OUT_n = k;
    return PD_OK;
}

static int x_entries(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                     struct wnode **OUT_k, struct wnode **OUT_v, size_t *OUT_n)
{
    const struct pd_xml_node *parent = n->flat ? n->q : n->p;
    const char *name = n->flat ? n->s : "entry";
    const struct pd_spec_shape *sh = m->shape;
    size_t k = 0;
    *OUT_k = pd_arena_alloc(w->a, (parent->n_children + 1) * sizeof **OUT_k);
    *OUT_v = pd_arena_alloc(w->a, (parent->n_children + 1) * sizeof **OUT_v);
    for (const struct pd_xml_node *c = parent->first; c; c = c->next) {
        if (strcmp(c->name, name))
            continue;
        const struct pd_xml_node *kn = pd_xml_child(c, sh->key->wire_name);
        const struct pd_xml_node *vn = pd_xml_child(c, sh->value->wire_name);
        if (!kn || !vn)
            continue;
        pd_restxml_node(&(*OUT_k)[k], kn);
        pd_restxml_node(&(*OUT_v)[k], vn);
        k++;
    }
    *OUT_n = k;
    return PD_OK;
}

const struct wsrc pd_restxml_src = {x_scalar, x_member, x_items, x_entries};

/* Root element names of S3 results. The model does not carry them (botocore ignores the
 * root's name); these are the names S3 sends, from the S3 API reference. */
static const struct {
    const char *op, *root;
} s3_roots[] = {
    {"CompleteMultipartUpload", "CompleteMultipartUploadResult"},
    {"CreateMultipartUpload", "InitiateMultipartUploadResult"},
    {"CreateSession", "CreateSessionResult"},
    {"DeleteObjects", "DeleteResult"},
    {"GetBucketAccelerateConfiguration", "AccelerateConfiguration"},
    {"GetBucketAcl", "AccessControlPolicy"},
    {"GetBucketCors", "CORSConfiguration"},
    {"GetBucketLifecycle", "LifecycleConfiguration"},
    {"GetBucketLifecycleConfiguration", "LifecycleConfiguration"},
    {"GetBucketLocation", "LocationConstraint"},
    {"GetBucketLogging", "BucketLoggingStatus"},
    {"GetBucketNotification", "NotificationConfiguration"},
    {"GetBucketNotificationConfiguration", "NotificationConfiguration"},
    {"GetBucketRequestPayment", "RequestPaymentConfiguration"},
    {"GetBucketTagging", "Tagging"},
    {"GetBucketVersioning", "VersioningConfiguration"},
    {"GetBucketWebsite", "WebsiteConfiguration"},
    {"GetObjectAcl", "AccessControlPolicy"},
    {"GetObjectAttributes", "GetObjectAttributesResponse"},
    {"GetObjectTagging", "Tagging"},
    {"ListBucketAnalyticsConfigurations", "ListBucketAnalyticsConfigurationResult"},
    {"ListBucketIntelligentTieringConfigurations",
     "ListBucketIntelligentTieringConfigurationsOutput"},
    {"ListBucketInventoryConfigurations", "ListInventoryConfigurationsResult"},
    {"ListBucketMetricsConfigurations", "ListMetricsConfigurationsResult"},
    {"ListBuckets", "ListAllMyBucketsResult"},
    {"ListDirectoryBuckets", "ListAllMyDirectoryBucketsResult"},
    {"ListMultipartUploads", "ListMultipartUploadsResult"},
    {"ListObjectVersions", "ListVersionsResult"},
    {"ListObjects", "ListBucketResult"},
    {"ListObjectsV2", "ListBucketResult"},
    {"ListParts", "ListPartsResult"},
};

static const char *root_name(const struct pd_spec_op *op)
{
    for (size_t i = 0; i < sizeof s3_roots / sizeof s3_roots[0]; i++)
        if (!strcmp(s3_roots[i].op, op->name))
            return s3_roots[i].root;
    if (op->output->location_name)
        return op->output->location_name;
    return op->output->name;
}

static int has_body_members(const struct pd_spec_shape *sh)
{
    for (size_t i = 0; i < sh->n_members; i++)
        if (sh->members[i].loc == PD_LOC_BODY)
            return 1;
    return 0;
}

/* <Root xmlns="S3"> ... </Root> for structure value v of member m. */
static int write_doc(struct xo *x, const struct pd_spec *spec, const struct pd_spec_member *m,
                     const char *root, const json_t *v)
{
    struct pd_spec_member rm = *m;
    struct pd_spec_shape rs = *m->shape;
    if (!rm.xmlns.uri && !rs.xmlns.uri && spec->xml_namespace)
        rs.xmlns.uri = spec->xml_namespace;
    rm.shape = &rs;
    int rc = pd_xml_decl(x->b);
    return rc ? rc : pd_xo_value(x, &rm, root, v);
}

int pd_restxml_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                      const json_t *out, const char *request_id, struct pd_http_response *OUT)
{
    const char *where = NULL;
    const struct pd_spec_shape *sh = op->output;
    struct xo x = {&OUT->body, a, 1, NULL};
    int rc = PD_OK, xml = 0;
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
            if (pv) {
                const char *root = (pm->flags & PD_MF_HAS_LOCNAME) ? pm->wire_name
                                   : pm->shape->location_name      ? pm->shape->location_name
                                                                   : pm->name;
                rc = write_doc(&x, spec, pm, root, pv);
                xml = 1;
            }
        } else if ((pm->shape->flags & PD_SF_STREAMING) || (pm->flags & PD_MF_STREAMING)) {
            OUT->stream = pm;
        } else if (pv) {
            if (!json_is_string(pv)) {
                where = pm->name;
                rc = PD_EINTERNAL;
                goto out;
            }
            rc = pd_buf_add(&OUT->body, json_string_value(pv), json_string_length(pv));
        }
    } else if (sh && has_body_members(sh)) {
        struct pd_spec_member top = {.name = op->name, .wire_name = "", .shape = sh};
        const char *root = root_name(op);
        const json_t *lc = json_object_get(out, "LocationConstraint");
        if (!strcmp(op->name, "GetBucketLocation")) {
            /* the value is the root's text: <LocationConstraint>eu-west-1</...> */
            rc = pd_xml_decl(&OUT->body);
            if (!rc)
                rc = pd_xml_open(&OUT->body, root);
            if (!rc)
                rc = pd_xml_attr(&OUT->body, "xmlns", spec->xml_namespace,
                                 strlen(spec->xml_namespace));
            if (!rc)
                rc = pd_xml_open_end(&OUT->body);
            if (!rc && json_is_string(lc))
                rc = pd_xml_text(&OUT->body, json_string_value(lc), json_string_length(lc));
            if (!rc)
                rc = pd_xml_close(&OUT->body, root);
        } else {
            json_t *empty = out ? NULL : json_object();
            rc = write_doc(&x, spec, &top, root, out ? out : empty);
            json_decref(empty);
        }
        xml = 1;
    }
    if (rc == PD_EINTERNAL && !where)
        where = x.where;
    if (rc)
        goto out;
    if (xml)
        pd_proto_header(a, OUT, "Content-Type", "application/xml");
    pd_proto_header(a, OUT, "x-amz-request-id", request_id);
out:
    if (rc == PD_EINTERNAL)
        pd_log(PD_LOG_ERROR, "rest-xml: %s output does not fit its shape at %s", op->name,
               where     ? where
               : x.where ? x.where
                         : "?");
    return rc;
}

int pd_restxml_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                            const struct pd_aws_fault *f, const char *request_id,
                            struct pd_http_response *OUT)
{
    (void)spec;
    struct pd_buf *b = &OUT->body;
    int rc = pd_xml_decl(b);
    if (!rc)
        rc = pd_buf_adds(b, "<Error>");
    if (!rc)
        rc = pd_xml_elem(b, "Code", f->code, strlen(f->code));
    if (!rc && f->message)
        rc = pd_xml_elem(b, "Message", f->message, strlen(f->message));
    if (json_is_object(f->extra)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)f->extra, k, v)
        {
            if (rc)
                break;
            char num[32];
            const char *t = NULL;
            size_t len = 0;
            if (json_is_string(v)) {
                t = json_string_value(v);
                len = json_string_length(v);
            } else if (json_is_integer(v)) {
                len = (size_t)snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
                t = num;
            } else if (json_is_boolean(v)) {
                t = json_is_true(v) ? "true" : "false";
                len = strlen(t);
            }
            if (t)
                rc = pd_xml_elem(b, k, t, len);
        }
    }
    if (!rc)
        rc = pd_xml_elem(b, "RequestId", request_id, strlen(request_id));
    if (!rc && f->host_id)
        rc = pd_xml_elem(b, "HostId", f->host_id, strlen(f->host_id));
    if (!rc)
        rc = pd_buf_adds(b, "</Error>");
    if (rc)
        return rc;
    OUT->status = f->status;
    pd_proto_header(a, OUT, "Content-Type", "application/xml");
    pd_proto_header(a, OUT, "x-amz-request-id", request_id);
    if (f->host_id)
        pd_proto_header(a, OUT, "x-amz-id-2", f->host_id);
    return PD_OK;
}
