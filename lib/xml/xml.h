/*
 * xml.h - a safe XML reader (expat into a small DOM) and a tiny writer, for the query and
 * rest-xml codecs.
 *
 * Reader: any DOCTYPE, entity declaration or external entity is refused (no DTD can be
 * declared, so no entity can expand), depth and node count are bounded, and the whole tree
 * lives in the caller's arena. Element names keep only their local part ("s3:Key" -> "Key"),
 * as the SDKs read them; attribute names are kept as written ("xsi:type").
 * Writer: appends to a struct pd_buf with escaping; callers compose documents from it.
 * Depends on core/ and expat.
 */
#ifndef PD_XML_XML_H
#define PD_XML_XML_H

#include <stddef.h>

struct pd_arena;
struct pd_buf;

#define PD_XML_MAX_DEPTH 64
#define PD_XML_MAX_NODES 100000

struct pd_xml_attr {
    const char *name, *value;
};

struct pd_xml_node {
    const char *name; /* local name */
    const char *text; /* character data directly inside, NUL-terminated; never NULL */
    size_t text_len;
    struct pd_xml_attr *attrs;
    size_t n_attrs;
    struct pd_xml_node *parent, *first, *next; /* children in document order */
    struct pd_xml_node *last;                  /* last child (append cursor) */
    size_t n_children;
};

/* Parse n bytes. Returns PD_OK with *OUT_root, PD_EINVAL (malformed, DTD, entity, ...) or
 * PD_ETOOBIG (depth or node bound). *OUT_why (may be NULL) gets a short reason, arena-owned. */
int pd_xml_parse(struct pd_arena *a, const char *s, size_t n, struct pd_xml_node **OUT_root,
                 const char **OUT_why);

/* First child element named name (local name), or NULL. */
const struct pd_xml_node *pd_xml_child(const struct pd_xml_node *n, const char *name);
/* Attribute value by name as written ("xsi:type"), or by local name; NULL when absent. */
const char *pd_xml_get_attr(const struct pd_xml_node *n, const char *name);

/* Writer. Each returns PD_OK or PD_ETOOBIG from the buffer. */
int pd_xml_decl(struct pd_buf *b); /* <?xml version="1.0" encoding="UTF-8"?> and a newline */
int pd_xml_open(struct pd_buf *b, const char *name); /* "<name" */
int pd_xml_attr(struct pd_buf *b, const char *name, const char *value, size_t vlen);
int pd_xml_open_end(struct pd_buf *b);                /* ">" */
int pd_xml_close(struct pd_buf *b, const char *name); /* "</name>" */
int pd_xml_text(struct pd_buf *b, const char *s, size_t n);
/* <name>text</name> */
int pd_xml_elem(struct pd_buf *b, const char *name, const char *text, size_t n);

#endif
