/*
 * xml.c - expat-based DOM reader with DTDs refused, and the XML writer.
 *
 * The reader builds nodes in the caller's arena while expat streams; character data of each
 * open element gathers in a per-depth buffer and is copied to the node when it closes. Any
 * DOCTYPE stops the parser before a single declaration is read, which rules out entity
 * expansion (billion laughs) and external entities (XXE) together.
 */
#include "xml/xml.h"

#include <expat.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

struct reader {
    XML_Parser p;
    struct pd_arena *a;
    struct pd_xml_node *root, *cur;
    struct pd_buf text[PD_XML_MAX_DEPTH + 1];
    int depth;
    size_t nodes;
    int rc;
    const char *why;
};

static void stop(struct reader *r, int rc, const char *why)
{
    if (!r->rc) {
        r->rc = rc;
        r->why = why;
    }
    XML_StopParser(r->p, XML_FALSE);
}

static const char *local(const char *name)
{
    const char *c = strrchr(name, ':');
    return c ? c + 1 : name;
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct reader *r = ud;
    if (r->rc)
        return;
    if (r->depth >= PD_XML_MAX_DEPTH) {
        stop(r, PD_ETOOBIG, "XML nested too deeply");
        return;
    }
    if (++r->nodes > PD_XML_MAX_NODES) {
        stop(r, PD_ETOOBIG, "too many XML elements");
        return;
    }
    struct pd_xml_node *n = pd_arena_zalloc(r->a, sizeof *n);
    n->name = pd_arena_strdup(r->a, local(name));
    n->text = "";
    size_t na = 0;
    while (atts[na * 2])
        na++;
    if (na) {
        n->attrs = pd_arena_alloc(r->a, na * sizeof *n->attrs);
        for (size_t i = 0; i < na; i++) {
            n->attrs[i].name = pd_arena_strdup(r->a, atts[2 * i]);
            n->attrs[i].value = pd_arena_strdup(r->a, atts[2 * i + 1]);
        }
        n->n_attrs = na;
    }
    n->parent = r->cur;
    if (r->cur) {
        if (r->cur->last)
            r->cur->last->next = n;
        else
            r->cur->first = n;
        r->cur->last = n;
        r->cur->n_children++;
    } else if (!r->root) {
        r->root = n;
    }
    r->cur = n;
    r->depth++;
    pd_buf_reset(&r->text[r->depth]);
}

static void on_end(void *ud, const XML_Char *name)
{
    struct reader *r = ud;
    (void)name;
    if (r->rc || !r->cur)
        return;
    struct pd_buf *t = &r->text[r->depth];
    r->cur->text = pd_arena_strndup(r->a, pd_buf_str(t), t->len);
    r->cur->text_len = t->len;
    pd_buf_reset(t);
    r->cur = r->cur->parent;
    r->depth--;
}

static void on_chars(void *ud, const XML_Char *s, int len)
{
    struct reader *r = ud;
    if (r->rc || !r->cur || len <= 0)
        return;
    if (pd_buf_add(&r->text[r->depth], s, (size_t)len))
        stop(r, PD_ETOOBIG, "XML text too long");
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    stop(ud, PD_EINVAL, "DTDs are not allowed");
}

static void on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                      int value_length, const XML_Char *base, const XML_Char *sysid,
                      const XML_Char *pubid, const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_length, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    stop(ud, PD_EINVAL, "entity declarations are not allowed");
}

static int on_external(XML_Parser p, const XML_Char *context, const XML_Char *base,
                       const XML_Char *sysid, const XML_Char *pubid)
{
    (void)p, (void)context, (void)base, (void)sysid, (void)pubid;
    return XML_STATUS_ERROR;
}

int pd_xml_parse(struct pd_arena *a, const char *s, size_t n, struct pd_xml_node **OUT_root,
                 const char **OUT_why)
{
    struct reader r;
    memset(&r, 0, sizeof r);
    r.a = a;
    for (int i = 0; i <= PD_XML_MAX_DEPTH; i++)
        pd_buf_init(&r.text[i], n + 1);
    r.p = XML_ParserCreate(NULL);
    XML_SetUserData(r.p, &r);
    XML_SetElementHandler(r.p, on_start, on_end);
    XML_SetCharacterDataHandler(r.p, on_chars);
    XML_SetStartDoctypeDeclHandler(r.p, on_doctype);
    XML_SetEntityDeclHandler(r.p, on_entity);
    XML_SetExternalEntityRefHandler(r.p, on_external);
    XML_SetParamEntityParsing(r.p, XML_PARAM_ENTITY_PARSING_NEVER);
    int ok = 1;
    /* expat takes an int length: feed large bodies in pieces */
    size_t off = 0;
    do {
        size_t chunk = n - off > (1u << 30) ? (1u << 30) : n - off;
        int final = off + chunk == n;
        if (XML_Parse(r.p, s + off, (int)chunk, final) != XML_STATUS_OK) {
            ok = 0;
            break;
        }
        off += chunk;
    } while (off < n);
    if (!ok && !r.rc) {
        r.rc = PD_EINVAL;
        r.why = pd_arena_strdup(a, XML_ErrorString(XML_GetErrorCode(r.p)));
    }
    if (!r.rc && !r.root) {
        r.rc = PD_EINVAL;
        r.why = "no root element";
    }
    XML_ParserFree(r.p);
    for (int i = 0; i <= PD_XML_MAX_DEPTH; i++)
        pd_buf_free(&r.text[i]);
    if (OUT_why)
        *OUT_why = r.rc ? r.why : NULL;
    *OUT_root = r.rc ? NULL : r.root;
    return r.rc;
}

const struct pd_xml_node *pd_xml_child(const struct pd_xml_node *n, const char *name)
{
    for (const struct pd_xml_node *c = n ? n->first : NULL; c; c = c->next)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

const char *pd_xml_get_attr(const struct pd_xml_node *n, const char *name)
{
    for (size_t i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name))
            return n->attrs[i].value;
    for (size_t i = 0; i < n->n_attrs; i++)
        if (!strcmp(local(n->attrs[i].name), local(name)))
            return n->attrs[i].value;
    return NULL;
}

int pd_xml_decl(struct pd_buf *b)
{
    return pd_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

int pd_xml_open(struct pd_buf *b, const char *name)
{
    int rc = pd_buf_addc(b, '<');
    return rc ? rc : pd_buf_adds(b, name);
}

int pd_xml_attr(struct pd_buf *b, const char *name, const char *value, size_t vlen)
{
    int rc = pd_buf_addc(b, ' ');
    if (!rc)
        rc = pd_buf_adds(b, name);
    if (!rc)
        rc = pd_buf_adds(b, "=\"");
    if (!rc)
        rc = pd_buf_add_xml(b, value, vlen);
    if (!rc)
        rc = pd_buf_addc(b, '"');
    return rc;
}

int pd_xml_open_end(struct pd_buf *b)
{
    return pd_buf_addc(b, '>');
}

int pd_xml_close(struct pd_buf *b, const char *name)
{
    int rc = pd_buf_adds(b, "</");
    if (!rc)
        rc = pd_buf_adds(b, name);
    if (!rc)
        rc = pd_buf_addc(b, '>');
    return rc;
}

int pd_xml_text(struct pd_buf *b, const char *s, size_t n)
{
    return pd_buf_add_xml(b, s, n);
}

int pd_xml_elem(struct pd_buf *b, const char *name, const char *text, size_t n)
{
    int rc = pd_xml_open(b, name);
    if (!rc)
        rc = pd_xml_open_end(b);
    if (!rc)
        rc = pd_xml_text(b, text, n);
    if (!rc)
        rc = pd_xml_close(b, name);
    return rc;
}
