/*
 * walk.h - internal to proto/: the one walker over shapes that every decoder uses, the
 * validator, scalar conversions, and the shape encoders (XML for query and rest-xml, JSON for
 * rest-json).
 *
 * A decoder describes its input as nodes with a small source table (struct wsrc): where a
 * structure member, a list's items or a map's entries are found and how a scalar reads. The
 * walker does the recursion, typing and bounds; validation then runs on the decoded JSON, the
 * same for every protocol. Not for use outside proto/.
 */
#ifndef PD_PROTO_WALK_H
#define PD_PROTO_WALK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/codec.h"
#include "proto/spec.h"

#define PD_WALK_MAX_DEPTH 40 /* deeper than any shape in the models */

struct walk;
struct wnode;

struct wsrc {
    /* Scalar at n for member m (m->shape is not a structure, list or map). */
    int (*scalar)(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                  json_t **OUT);
    /* Child for structure member m: 1 and *OUT when present, 0 when absent, or a negative
     * PD_E* after pd_walk_fail (n is not a structure). */
    int (*member)(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                  struct wnode *OUT);
    /* List items (m->shape is a list), arena-allocated. */
    int (*items)(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                 struct wnode **OUT, size_t *OUT_n);
    /* Map entries (m->shape is a map): parallel key and value nodes, arena-allocated. */
    int (*entries)(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                   struct wnode **OUT_k, struct wnode **OUT_v, size_t *OUT_n);
};

struct wnode {
    const struct wsrc *src;
    const void *p, *q; /* source-specific */
    const char *s;     /* text sources: the value */
    size_t n;
    enum pd_spec_tsfmt ts; /* text sources: timestamp format where the model names none */
    int flat;              /* xml: a flattened list or map (items are p's siblings) */
};

struct walk {
    struct pd_arena *a;
    const struct pd_spec *spec;
    struct pd_codec_error *err;
    const char *bad_code; /* code for malformed values: MalformedInput, SerializationException */
    int bad_status;
    int depth;
};

/* Decode the value at n for member m (m->shape) into *OUT (a new reference). */
int pd_walk_value(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                  json_t **OUT);

/* Scalar from text (form field, header, label, query string, XML text). dflt: the timestamp
 * format of that location. */
int pd_walk_text_scalar(struct walk *w, const struct pd_spec_member *m, const char *s, size_t n,
                        enum pd_spec_tsfmt dflt, json_t **OUT);

/* Text-node source: a single value (s, n) or, for lists, p = const struct wtext *, q = count. */
struct wtext {
    const char *s;
    size_t n;
};
extern const struct wsrc pd_walk_text_src;
void pd_walk_text_node(struct wnode *n, const char *s, size_t len, enum pd_spec_tsfmt ts);

/* Set a malformed-value error (w->bad_code) and return PD_EINVAL. */
int pd_walk_fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Validate decoded input v against shape sh. PD_OK, or PD_EINVAL with w->err filled:
 * code/status as given, message "N validation error(s) detected: ...", every violation.
 * in_body(m) tells which top-level members came from the body (NULL: all). */
int pd_walk_validate(struct walk *w, const struct pd_spec_shape *sh, const json_t *v,
                     const char *code, int status);

/* Timestamps: parse ISO 8601, epoch seconds (fraction allowed) or an RFC 7231 date, trying
 * the preferred format first. PD_OK or PD_EINVAL. */
int pd_walk_parse_time(const char *s, size_t n, enum pd_spec_tsfmt prefer, int64_t *OUT_ms);

/* Effective timestamp format of member m (member, then shape, then dflt). */
enum pd_spec_tsfmt pd_walk_tsfmt(const struct pd_spec_member *m, enum pd_spec_tsfmt dflt);

/* ---- encoding ---- */

/* Output timestamps: handler JSON (integer ms, or an ISO 8601 string) -> ms. */
int pd_walk_time_of(const json_t *v, int64_t *OUT_ms);

/* Scalar v of member m as text for a header, URI or query string (timestamps in format fmt).
 * NULL when v does not fit the shape. Arena-owned. */
const char *pd_walk_scalar_text(struct pd_arena *a, const struct pd_spec_member *m, const json_t *v,
                                enum pd_spec_tsfmt fmt, size_t *OUT_len);

struct xo {
    struct pd_buf *b;
    struct pd_arena *a;
    int ts_ms;         /* timestamps with milliseconds (S3) or without (IAM, STS) */
    const char *where; /* first member that did not fit, for the log */
};

/* Write v (member m) as element name. Members of structures follow the model: attributes,
 * namespaces, flattened lists and maps, locationName. PD_OK, PD_EINTERNAL (bad handler
 * value; x->where says where) or PD_ETOOBIG. */
int pd_xo_value(struct xo *x, const struct pd_spec_member *m, const char *name, const json_t *v);
/* Write the body members of structure sh from object v (no enclosing element). */
int pd_xo_members(struct xo *x, const struct pd_spec_shape *sh, const json_t *v);
/* The element name a structure member takes in XML (flattened lists use their member's). */
const char *pd_xo_member_name(const struct pd_spec_member *m);

/* JSON body value for member m (rest-json): timestamps epoch seconds, blobs base64, wire
 * names. NULL when v does not fit (*OUT_where names the member). New reference. */
json_t *pd_jo_value(struct pd_arena *a, const struct pd_spec_member *m, const json_t *v,
                    const char **OUT_where);

#endif
