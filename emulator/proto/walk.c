/*
 * walk.c - the shared shape walker, validator, scalar conversions and shape encoders.
 *
 * Decoding: pd_walk_value recurses over the shape and asks the node's source where children
 * are; every protocol's decoder is a source table plus its entry point. Validation runs on
 * the decoded JSON and words violations the way AWS's front ends do ("1 validation error
 * detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have
 * length greater than or equal to 2"). Encoding: XML (query, rest-xml) and JSON (rest-json)
 * writers driven by the output shape. Owns nothing beyond the arena allocations it makes.
 */
#include "proto/walk.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "proto/regex.h"
#include "xml/xml.h"

/* ------------------------------------------------------------------------------------------ */
/* decoding */

int pd_walk_fail(struct walk *w, const char *fmt, ...)
{
    if (w->err && !w->err->code) {
        va_list ap;
        va_start(ap, fmt);
        w->err->message = pd_arena_vprintf(w->a, fmt, ap);
        va_end(ap);
        w->err->code = w->bad_code;
        w->err->status = w->bad_status;
        w->err->sender = 1;
    }
    return PD_EINVAL;
}

enum pd_spec_tsfmt pd_walk_tsfmt(const struct pd_spec_member *m, enum pd_spec_tsfmt dflt)
{
    if (m->ts_format != PD_TS_DEFAULT)
        return m->ts_format;
    if (m->shape->ts_format != PD_TS_DEFAULT)
        return m->shape->ts_format;
    return dflt;
}

static int parse_epoch(const char *s, int64_t *OUT_ms)
{
    char *end;
    if (!*s || !((*s >= '0' && *s <= '9') || *s == '-'))
        return PD_EINVAL;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end || !isfinite(d) || d > 253402300799.0 || d < -62135596800.0)
        return PD_EINVAL;
    *OUT_ms = (int64_t)llround(d * 1000.0);
    return PD_OK;
}

int pd_walk_parse_time(const char *s, size_t n, enum pd_spec_tsfmt prefer, int64_t *OUT_ms)
{
    if (n > 64 || memchr(s, '\0', n))
        return PD_EINVAL;
    char buf[65];
    memcpy(buf, s, n);
    buf[n] = '\0';
    enum pd_spec_tsfmt order[3] = {prefer, PD_TS_ISO8601, PD_TS_EPOCH};
    for (int i = 0; i < 3; i++) {
        int rc = PD_EINVAL;
        switch (order[i]) {
        case PD_TS_ISO8601:
            rc = pd_time_parse_iso8601(buf, OUT_ms);
            break;
        case PD_TS_EPOCH:
            rc = parse_epoch(buf, OUT_ms);
            break;
        case PD_TS_RFC822:
            rc = pd_time_parse_http(buf, OUT_ms);
            break;
        default:
            break;
        }
        if (!rc)
            return PD_OK;
    }
    return pd_time_parse_http(buf, OUT_ms);
}

static const char *type_name(enum pd_spec_type t)
{
    switch (t) {
    case PD_ST_STRUCTURE:
        return "structure";
    case PD_ST_LIST:
        return "list";
    case PD_ST_MAP:
        return "map";
    case PD_ST_STRING:
        return "string";
    case PD_ST_INTEGER:
        return "integer";
    case PD_ST_LONG:
        return "long";
    case PD_ST_BOOLEAN:
        return "boolean";
    case PD_ST_TIMESTAMP:
        return "timestamp";
    case PD_ST_BLOB:
        return "blob";
    case PD_ST_FLOAT:
        return "float";
    case PD_ST_DOUBLE:
        return "double";
    }
    return "?";
}

/* Printable, bounded copy of client text for messages. */
static const char *shown(struct walk *w, const char *s, size_t n)
{
    size_t k = n > 256 ? 256 : n;
    char *c = pd_arena_strndup(w->a, s, k);
    for (size_t i = 0; i < k; i++)
        if ((unsigned char)c[i] < 0x20 || (unsigned char)c[i] >= 0x7F)
            c[i] = '?';
    return c;
}

int pd_walk_text_scalar(struct walk *w, const struct pd_spec_member *m, const char *s, size_t n,
                        enum pd_spec_tsfmt dflt, json_t **OUT)
{
    const struct pd_spec_shape *sh = m->shape;
    *OUT = NULL;
    switch (sh->type) {
    case PD_ST_STRING:
        if (!pd_utf8_valid(s, n) || memchr(s, '\0', n))
            return pd_walk_fail(w, "Invalid UTF-8 in the value of %s", m->name);
        *OUT = json_stringn(s, n);
        return *OUT ? PD_OK : pd_walk_fail(w, "Invalid UTF-8 in the value of %s", m->name);
    case PD_ST_INTEGER:
    case PD_ST_LONG: {
        int64_t v;
        int64_t lo = sh->type == PD_ST_INTEGER ? INT32_MIN : INT64_MIN;
        int64_t hi = sh->type == PD_ST_INTEGER ? INT32_MAX : INT64_MAX;
        char buf[24];
        if (n == 0 || n >= sizeof buf || memchr(s, '\0', n))
            return pd_walk_fail(w, "Invalid %s value '%s' for %s", type_name(sh->type),
                                shown(w, s, n), m->name);
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (pd_parse_i64(buf, lo, hi, &v))
            return pd_walk_fail(w, "Invalid %s value '%s' for %s", type_name(sh->type),
                                shown(w, s, n), m->name);
        *OUT = json_integer(v);
        return PD_OK;
    }
    case PD_ST_FLOAT:
    case PD_ST_DOUBLE: {
        char buf[64];
        char *end;
        if (n == 0 || n >= sizeof buf || memchr(s, '\0', n))
            return pd_walk_fail(w, "Invalid %s value for %s", type_name(sh->type), m->name);
        memcpy(buf, s, n);
        buf[n] = '\0';
        errno = 0;
        double d = strtod(buf, &end);
        if (errno || *end || !isfinite(d))
            return pd_walk_fail(w, "Invalid %s value '%s' for %s", type_name(sh->type),
                                shown(w, s, n), m->name);
        *OUT = json_real(d);
        return PD_OK;
    }
    case PD_ST_BOOLEAN:
        if (n == 4 && !memcmp(s, "true", 4))
            *OUT = json_true();
        else if (n == 5 && !memcmp(s, "false", 5))
            *OUT = json_false();
        else
            return pd_walk_fail(w, "Invalid boolean value '%s' for %s", shown(w, s, n), m->name);
        return PD_OK;
    case PD_ST_TIMESTAMP: {
        int64_t ms;
        if (pd_walk_parse_time(s, n, pd_walk_tsfmt(m, dflt), &ms))
            return pd_walk_fail(w, "Invalid timestamp value '%s' for %s", shown(w, s, n), m->name);
        *OUT = json_integer(ms);
        return PD_OK;
    }
    case PD_ST_BLOB: {
        unsigned char *raw;
        size_t len;
        if (pd_base64_decode(w->a, s, n, &raw, &len))
            return pd_walk_fail(w, "Invalid base64 value for %s", m->name);
        *OUT = json_stringn_nocheck((const char *)raw, len);
        return PD_OK;
    }
    default:
        return pd_walk_fail(w, "Unexpected value for %s", m->name);
    }
}

int pd_walk_value(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                  json_t **OUT)
{
    const struct pd_spec_shape *sh = m->shape;
    int rc = PD_OK;
    json_t *res = NULL;
    *OUT = NULL;
    if (++w->depth > PD_WALK_MAX_DEPTH) {
        rc = pd_walk_fail(w, "Input nested too deeply at %s", m->name);
        goto out;
    }
    switch (sh->type) {
    case PD_ST_STRUCTURE:
        res = json_object();
        for (size_t i = 0; i < sh->n_members; i++) {
            const struct pd_spec_member *mm = &sh->members[i];
            struct wnode child;
            json_t *v;
            int has = n->src->member(w, n, mm, &child);
            if (has < 0) {
                rc = has;
                goto out;
            }
            if (!has)
                continue;
            if ((rc = pd_walk_value(w, &child, mm, &v)))
                goto out;
            if (v)
                json_object_set_new(res, mm->name, v);
        }
        break;
    case PD_ST_LIST: {
        struct wnode *items;
        size_t k;
        if ((rc = n->src->items(w, n, m, &items, &k)))
            goto out;
        res = json_array();
        for (size_t i = 0; i < k; i++) {
            json_t *v;
            if ((rc = pd_walk_value(w, &items[i], sh->member, &v)))
                goto out;
            json_array_append_new(res, v ? v : json_null());
        }
        break;
    }
    case PD_ST_MAP: {
        struct wnode *keys, *vals;
        size_t k;
        if ((rc = n->src->entries(w, n, m, &keys, &vals, &k)))
            goto out;
        res = json_object();
        for (size_t i = 0; i < k; i++) {
            json_t *kv, *vv;
            if ((rc = pd_walk_value(w, &keys[i], sh->key, &kv)))
                goto out;
            if (!json_is_string(kv)) {
                json_decref(kv);
                rc = pd_walk_fail(w, "Map keys of %s must be strings", m->name);
                goto out;
            }
            if ((rc = pd_walk_value(w, &vals[i], sh->value, &vv))) {
                json_decref(kv);
                goto out;
            }
            json_object_setn_new_nocheck(res, json_string_value(kv), json_string_length(kv),
                                         vv ? vv : json_null());
            json_decref(kv);
        }
        break;
    }
    default:
        rc = n->src->scalar(w, n, m, &res);
        break;
    }
out:
    w->depth--;
    if (rc) {
        json_decref(res);
        res = NULL;
    }
    *OUT = res;
    return rc;
}

/* text nodes: a header, URI label, query-string value (or list of them) */

void pd_walk_text_node(struct wnode *n, const char *s, size_t len, enum pd_spec_tsfmt ts)
{
    memset(n, 0, sizeof *n);
    n->src = &pd_walk_text_src;
    n->s = s;
    n->n = len;
    n->ts = ts;
}

static int text_scalar(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                       json_t **OUT)
{
    return pd_walk_text_scalar(w, m, n->s, n->n, n->ts, OUT);
}

static int text_member(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                       struct wnode *OUT)
{
    (void)w, (void)n, (void)m, (void)OUT;
    return 0;
}

static int text_items(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                      struct wnode **OUT, size_t *OUT_n)
{
    (void)m;
    const struct wtext *t = n->p;
    size_t k = (size_t)(uintptr_t)n->q;
    if (!t) { /* one value where a list is expected: a list of one */
        *OUT = pd_arena_alloc(w->a, sizeof **OUT);
        pd_walk_text_node(*OUT, n->s, n->n, n->ts);
        *OUT_n = 1;
        return PD_OK;
    }
    *OUT = pd_arena_alloc(w->a, (k + 1) * sizeof **OUT);
    for (size_t i = 0; i < k; i++)
        pd_walk_text_node(&(*OUT)[i], t[i].s, t[i].n, n->ts);
    *OUT_n = k;
    return PD_OK;
}

static int text_entries(struct walk *w, const struct wnode *n, const struct pd_spec_member *m,
                        struct wnode **OUT_k, struct wnode **OUT_v, size_t *OUT_n)
{
    (void)n;
    *OUT_k = *OUT_v = NULL;
    *OUT_n = 0;
    return pd_walk_fail(w, "Unexpected value for %s", m->name);
}

const struct wsrc pd_walk_text_src = {text_scalar, text_member, text_items, text_entries};

/* ------------------------------------------------------------------------------------------ */
/* validation */

struct vctx {
    struct walk *w;
    struct pd_violation *v;
    size_t n, cap;
};

/* Java-style rendering of a value, as AWS shows it in messages. */
static void render(struct pd_buf *b, const struct pd_spec_shape *sh, const json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (sh && sh->type == PD_ST_BLOB) {
            pd_buf_printf(b, "java.nio.HeapByteBuffer[pos=0 lim=%zu cap=%zu]",
                          json_string_length(v), json_string_length(v));
        } else {
            pd_buf_add(b, json_string_value(v), json_string_length(v));
        }
        break;
    case JSON_INTEGER:
        if (sh && sh->type == PD_ST_TIMESTAMP) {
            pd_time_iso8601(json_integer_value(v), 0, num);
            pd_buf_adds(b, num);
        } else {
            pd_buf_printf(b, "%" PRId64, (int64_t)json_integer_value(v));
        }
        break;
    case JSON_REAL:
        pd_buf_printf(b, "%g", json_real_value(v));
        break;
    case JSON_TRUE:
        pd_buf_adds(b, "true");
        break;
    case JSON_FALSE:
        pd_buf_adds(b, "false");
        break;
    case JSON_NULL:
        pd_buf_adds(b, "null");
        break;
    case JSON_ARRAY: {
        size_t i;
        const json_t *e;
        pd_buf_addc(b, '[');
        json_array_foreach(v, i, e)
        {
            if (i)
                pd_buf_adds(b, ", ");
            render(b, sh && sh->type == PD_ST_LIST ? sh->member->shape : NULL, e);
        }
        pd_buf_addc(b, ']');
        break;
    }
    case JSON_OBJECT: {
        const char *k;
        const json_t *e;
        int first = 1;
        int is_struct = sh && sh->type == PD_ST_STRUCTURE;
        pd_buf_addc(b, '{');
        json_object_foreach((json_t *)v, k, e)
        {
            if (!first)
                pd_buf_adds(b, ", ");
            first = 0;
            pd_buf_adds(b, k);
            pd_buf_adds(b, is_struct ? ": " : "=");
            const struct pd_spec_member *mm = is_struct ? pd_spec_member(sh, k) : NULL;
            render(b, mm ? mm->shape : (sh && sh->type == PD_ST_MAP ? sh->value->shape : NULL), e);
        }
        pd_buf_addc(b, '}');
        break;
    }
    }
}

static void violate(struct vctx *c, const char *path, const struct pd_spec_shape *sh,
                    const json_t *v, const char *constraint)
{
    struct walk *w = c->w;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        struct pd_violation *nv = pd_arena_alloc(w->a, ncap * sizeof *nv);
        if (c->n)
            memcpy(nv, c->v, c->n * sizeof *nv);
        c->v = nv;
        c->cap = ncap;
    }
    struct pd_buf b;
    pd_buf_init(&b, 0);
    if (!v) {
        pd_buf_printf(&b, "Value null at '%s'", path);
    } else if (sh->flags & PD_SF_SENSITIVE) {
        pd_buf_printf(&b, "Value at '%s'", path);
    } else {
        pd_buf_adds(&b, "Value '");
        render(&b, sh, v);
        pd_buf_printf(&b, "' at '%s'", path);
    }
    pd_buf_printf(&b, " failed to satisfy constraint: %s", constraint);
    struct pd_violation *out = &c->v[c->n++];
    out->path = path;
    out->message = pd_arena_strndup(w->a, pd_buf_str(&b), b.len);
    out->in_body = 0;
    pd_buf_free(&b);
}

static size_t utf8_len(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

/* Size for length constraints: characters, bytes, items or entries; -1 if not applicable. */
static int64_t size_of(const struct pd_spec_shape *sh, const json_t *v)
{
    switch (sh->type) {
    case PD_ST_STRING:
        return json_is_string(v) ? (int64_t)utf8_len(json_string_value(v), json_string_length(v))
                                 : -1;
    case PD_ST_BLOB:
        return json_is_string(v) ? (int64_t)json_string_length(v) : -1;
    case PD_ST_LIST:
        return json_is_array(v) ? (int64_t)json_array_size(v) : -1;
    case PD_ST_MAP:
        return json_is_object(v) ? (int64_t)json_object_size(v) : -1;
    default:
        return -1;
    }
}

static int is_numeric(const struct pd_spec_shape *sh)
{
    return sh->type == PD_ST_INTEGER || sh->type == PD_ST_LONG || sh->type == PD_ST_FLOAT ||
           sh->type == PD_ST_DOUBLE;
}

static const char *enum_set(struct walk *w, const struct pd_spec_shape *sh)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_adds(&b, "Member must satisfy enum value set: [");
    for (size_t i = 0; i < sh->n_enums; i++)
        pd_buf_printf(&b, "%s%s", i ? ", " : "", sh->enums[i]);
    pd_buf_addc(&b, ']');
    const char *r = pd_arena_strndup(w->a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return r;
}

/* Which of sh's own constraints does v break? Bits: 1 pattern, 2 min, 4 max, 8 enum. */
static unsigned broken(const struct pd_spec_shape *sh, const json_t *v)
{
    unsigned r = 0;
    int64_t size = size_of(sh, v);
    if (size >= 0) {
        if (sh->has_min && size < sh->min)
            r |= 2;
        if (sh->has_max && size > sh->max)
            r |= 4;
    } else if (is_numeric(sh) && json_is_number(v)) {
        double d = json_number_value(v);
        if (sh->has_min && d < (double)sh->min)
            r |= 2;
        if (sh->has_max && d > (double)sh->max)
            r |= 4;
    }
    if (sh->type == PD_ST_STRING && json_is_string(v)) {
        if (sh->re && pd_regex_match(sh->re, json_string_value(v), json_string_length(v)) == 0)
            r |= 1;
        if (sh->n_enums) {
            int found = 0;
            for (size_t i = 0; i < sh->n_enums && !found; i++)
                found = !strcmp(sh->enums[i], json_string_value(v));
            if (!found)
                r |= 8;
        }
    }
    return r;
}

static const char *min_text(struct walk *w, const struct pd_spec_shape *sh)
{
    return is_numeric(sh)
               ? pd_arena_printf(w->a, "Member must have value greater than or equal to %" PRId64,
                                 sh->min)
               : pd_arena_printf(w->a, "Member must have length greater than or equal to %" PRId64,
                                 sh->min);
}

static const char *max_text(struct walk *w, const struct pd_spec_shape *sh)
{
    return is_numeric(sh)
               ? pd_arena_printf(w->a, "Member must have value less than or equal to %" PRId64,
                                 sh->max)
               : pd_arena_printf(w->a, "Member must have length less than or equal to %" PRId64,
                                 sh->max);
}

/* "[Member must have length less than or equal to 256, ..., pattern, enum]": every
 * constraint of an element shape, as AWS lists them for list members and map keys/values. */
static const char *all_constraints(struct walk *w, const char *lead, const struct pd_spec_shape *sh)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_printf(&b, "%s must satisfy constraint: [", lead);
    int first = 1;
#define ADD(s)                                                                                     \
    do {                                                                                           \
        pd_buf_printf(&b, "%s%s", first ? "" : ", ", (s));                                         \
        first = 0;                                                                                 \
    } while (0)
    if (sh->has_max)
        ADD(max_text(w, sh));
    if (sh->has_min)
        ADD(min_text(w, sh));
    if (sh->pattern && sh->type == PD_ST_STRING)
        ADD(pd_arena_printf(w->a, "Member must satisfy regular expression pattern: %s",
                            sh->pattern));
    if (sh->n_enums)
        ADD(enum_set(w, sh));
#undef ADD
    pd_buf_addc(&b, ']');
    const char *r = pd_arena_strndup(w->a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return r;
}

static int is_aggregate(const struct pd_spec_shape *sh)
{
    return sh->type == PD_ST_STRUCTURE || sh->type == PD_ST_LIST || sh->type == PD_ST_MAP;
}

static void check(struct vctx *c, const char *path, const struct pd_spec_shape *sh, const json_t *v,
                  int depth);

static void check_struct(struct vctx *c, const char *prefix, const struct pd_spec_shape *sh,
                         const json_t *v, int depth)
{
    for (size_t i = 0; i < sh->n_members; i++) {
        const struct pd_spec_member *mm = &sh->members[i];
        const char *path =
            prefix ? pd_arena_printf(c->w->a, "%s.%s", prefix, mm->path_name) : mm->path_name;
        const json_t *mv = json_object_get(v, mm->name);
        if (!mv || json_is_null(mv)) {
            if (mm->flags & PD_MF_REQUIRED)
                violate(c, path, mm->shape, NULL, "Member must not be null");
            continue;
        }
        check(c, path, mm->shape, mv, depth + 1);
    }
}

static void check(struct vctx *c, const char *path, const struct pd_spec_shape *sh, const json_t *v,
                  int depth)
{
    struct walk *w = c->w;
    if (depth > PD_WALK_MAX_DEPTH)
        return;
    unsigned br = broken(sh, v);
    if (br & 1)
        violate(c, path, sh, v,
                pd_arena_printf(w->a, "Member must satisfy regular expression pattern: %s",
                                sh->pattern));
    if (br & 2)
        violate(c, path, sh, v, min_text(w, sh));
    if (br & 4)
        violate(c, path, sh, v, max_text(w, sh));
    if (br & 8)
        violate(c, path, sh, v, enum_set(w, sh));

    switch (sh->type) {
    case PD_ST_STRUCTURE:
        if (json_is_object(v))
            check_struct(c, path, sh, v, depth);
        break;
    case PD_ST_LIST: {
        const struct pd_spec_shape *el = sh->member->shape;
        size_t i;
        const json_t *e;
        if (!json_is_array(v))
            break;
        if (!is_aggregate(el)) {
            int bad = 0;
            json_array_foreach(v, i, e) bad |= !json_is_null(e) && broken(el, e);
            if (bad)
                violate(c, path, sh, v, all_constraints(w, "Member", el));
            break;
        }
        json_array_foreach(v, i, e)
        {
            if (json_is_null(e))
                continue;
            check(c, pd_arena_printf(w->a, "%s.%zu.member", path, i + 1), el, e, depth + 1);
        }
        break;
    }
    case PD_ST_MAP: {
        const struct pd_spec_shape *ks = sh->key->shape, *vs = sh->value->shape;
        const char *k;
        const json_t *e;
        int badk = 0, badv = 0;
        if (!json_is_object(v))
            break;
        json_object_foreach((json_t *)v, k, e)
        {
            json_t *kj = json_string_nocheck(k);
            badk |= broken(ks, kj) != 0;
            json_decref(kj);
            if (!is_aggregate(vs))
                badv |= !json_is_null(e) && broken(vs, e);
        }
        if (badk)
            violate(c, path, sh, v, all_constraints(w, "Map keys", ks));
        if (badv)
            violate(c, path, sh, v, all_constraints(w, "Map value", vs));
        if (is_aggregate(vs)) {
            size_t idx = 0;
            json_object_foreach((json_t *)v, k, e)
            {
                idx++;
                if (!json_is_null(e))
                    check(c, pd_arena_printf(w->a, "%s.%s.member", path, k), vs, e, depth + 1);
            }
        }
        break;
    }
    default:
        break;
    }
}

int pd_walk_validate(struct walk *w, const struct pd_spec_shape *sh, const json_t *v,
                     const char *code, int status)
{
    struct vctx c = {w, NULL, 0, 0};
    if (!sh)
        return PD_OK;
    check_struct(&c, NULL, sh, v, 0);
    if (!c.n)
        return PD_OK;
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_printf(&b, "%zu validation error%s detected: ", c.n, c.n == 1 ? "" : "s");
    for (size_t i = 0; i < c.n; i++)
        pd_buf_printf(&b, "%s%s", i ? "; " : "", c.v[i].message);
    w->err->code = code;
    w->err->status = status;
    w->err->sender = 1;
    w->err->message = pd_arena_strndup(w->a, pd_buf_str(&b), b.len);
    w->err->violations = c.v;
    w->err->n_violations = c.n;
    pd_buf_free(&b);
    return PD_EINVAL;
}

/* ------------------------------------------------------------------------------------------ */
/* encoding */

int pd_walk_time_of(const json_t *v, int64_t *OUT_ms)
{
    if (json_is_integer(v)) {
        *OUT_ms = (int64_t)json_integer_value(v);
        return PD_OK;
    }
    if (json_is_string(v))
        return pd_time_parse_iso8601(json_string_value(v), OUT_ms);
    return PD_EINVAL;
}

static void epoch_text(int64_t ms, char out[32])
{
    int64_t s = ms / 1000, f = ms % 1000;
    if (f < 0) {
        f += 1000;
        s -= 1;
    }
    if (f)
        snprintf(out, 32, "%" PRId64 ".%03" PRId64, s, f);
    else
        snprintf(out, 32, "%" PRId64, s);
    /* drop trailing zeros of the fraction: 1.500 -> 1.5 */
    char *dot = strchr(out, '.');
    if (dot) {
        char *e = out + strlen(out) - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
    }
}

static void real_text(double d, char out[40])
{
    if (d == floor(d) && fabs(d) < 1e15)
        snprintf(out, 40, "%.1f", d);
    else
        snprintf(out, 40, "%.17g", d);
}

const char *pd_walk_scalar_text(struct pd_arena *a, const struct pd_spec_member *m, const json_t *v,
                                enum pd_spec_tsfmt fmt, size_t *OUT_len)
{
    const struct pd_spec_shape *sh = m->shape;
    char buf[40];
    const char *r = NULL;
    size_t len = 0;
    switch (sh->type) {
    case PD_ST_STRING:
        if (json_is_string(v)) {
            r = json_string_value(v);
            len = json_string_length(v);
        }
        break;
    case PD_ST_INTEGER:
    case PD_ST_LONG:
        if (json_is_integer(v))
            r = pd_arena_printf(a, "%" PRId64, (int64_t)json_integer_value(v));
        break;
    case PD_ST_FLOAT:
    case PD_ST_DOUBLE:
        if (json_is_number(v)) {
            real_text(json_number_value(v), buf);
            r = pd_arena_strdup(a, buf);
        }
        break;
    case PD_ST_BOOLEAN:
        if (json_is_boolean(v))
            r = json_is_true(v) ? "true" : "false";
        break;
    case PD_ST_TIMESTAMP: {
        int64_t ms;
        if (pd_walk_time_of(v, &ms))
            break;
        switch (pd_walk_tsfmt(m, fmt)) {
        case PD_TS_RFC822:
            pd_time_http(ms, buf);
            break;
        case PD_TS_EPOCH:
            epoch_text(ms, buf);
            break;
        default:
            pd_time_iso8601(ms, ms % 1000 != 0, buf);
            break;
        }
        r = pd_arena_strdup(a, buf);
        break;
    }
    case PD_ST_BLOB:
        if (json_is_string(v))
            r = pd_base64_encode(a, json_string_value(v), json_string_length(v), 0);
        break;
    default:
        break;
    }
    if (r && !len)
        len = strlen(r);
    if (OUT_len)
        *OUT_len = len;
    return r;
}

static int xo_bad(struct xo *x, const struct pd_spec_member *m)
{
    if (!x->where)
        x->where = m->name;
    return PD_EINTERNAL;
}

static int xo_ns(struct xo *x, const struct pd_spec_xmlns *ns)
{
    if (!ns->uri)
        return PD_OK;
    const char *attr = ns->prefix ? pd_arena_printf(x->a, "xmlns:%s", ns->prefix) : "xmlns";
    return pd_xml_attr(x->b, attr, ns->uri, strlen(ns->uri));
}

const char *pd_xo_member_name(const struct pd_spec_member *m)
{
    const struct pd_spec_shape *sh = m->shape;
    int flat = (sh->flags & PD_SF_FLATTENED) || (m->flags & PD_MF_FLATTENED);
    if (flat && sh->type == PD_ST_LIST && (sh->member->flags & PD_MF_HAS_LOCNAME))
        return sh->member->wire_name;
    return m->wire_name;
}

/* Open <name ...> for a structure value: namespaces and attribute members. */
static int xo_open_struct(struct xo *x, const struct pd_spec_member *m, const char *name,
                          const json_t *v)
{
    const struct pd_spec_shape *sh = m->shape;
    int rc = pd_xml_open(x->b, name);
    if (!rc)
        rc = xo_ns(x, m->xmlns.uri ? &m->xmlns : &sh->xmlns);
    for (size_t i = 0; !rc && i < sh->n_members; i++) {
        const struct pd_spec_member *mm = &sh->members[i];
        if (!(mm->flags & PD_MF_XMLATTR))
            continue;
        const json_t *av = json_object_get(v, mm->name);
        if (!av || json_is_null(av))
            continue;
        if (mm->xmlns.uri && mm->xmlns.prefix && (rc = xo_ns(x, &mm->xmlns)))
            break;
        size_t len;
        const char *t = pd_walk_scalar_text(x->a, mm, av, PD_TS_ISO8601, &len);
        if (!t)
            return xo_bad(x, mm);
        rc = pd_xml_attr(x->b, mm->wire_name, t, len);
    }
    return rc ? rc : pd_xml_open_end(x->b);
}

int pd_xo_members(struct xo *x, const struct pd_spec_shape *sh, const json_t *v)
{
    int rc = PD_OK;
    for (size_t i = 0; !rc && i < sh->n_members; i++) {
        const struct pd_spec_member *mm = &sh->members[i];
        if (mm->loc != PD_LOC_BODY || (mm->flags & PD_MF_XMLATTR))
            continue;
        const json_t *mv = json_object_get(v, mm->name);
        if (!mv || json_is_null(mv))
            continue;
        rc = pd_xo_value(x, mm, pd_xo_member_name(mm), mv);
    }
    return rc;
}

int pd_xo_value(struct xo *x, const struct pd_spec_member *m, const char *name, const json_t *v)
{
    const struct pd_spec_shape *sh = m->shape;
    int flat = (sh->flags & PD_SF_FLATTENED) || (m->flags & PD_MF_FLATTENED);
    int rc = PD_OK;
    switch (sh->type) {
    case PD_ST_STRUCTURE:
        if (!json_is_object(v))
            return xo_bad(x, m);
        rc = xo_open_struct(x, m, name, v);
        if (!rc)
            rc = pd_xo_members(x, sh, v);
        if (!rc)
            rc = pd_xml_close(x->b, name);
        return rc;
    case PD_ST_LIST: {
        size_t i;
        const json_t *e;
        if (!json_is_array(v))
            return xo_bad(x, m);
        const char *item = flat ? name : sh->member->wire_name;
        if (!flat) {
            rc = pd_xml_open(x->b, name);
            if (!rc)
                rc = xo_ns(x, &sh->xmlns);
            if (!rc)
                rc = pd_xml_open_end(x->b);
        }
        json_array_foreach(v, i, e)
        {
            if (rc)
                break;
            if (!json_is_null(e))
                rc = pd_xo_value(x, sh->member, item, e);
        }
        if (!rc && !flat)
            rc = pd_xml_close(x->b, name);
        return rc;
    }
    case PD_ST_MAP: {
        const char *k;
        const json_t *e;
        if (!json_is_object(v))
            return xo_bad(x, m);
        if (!flat) {
            rc = pd_xml_open(x->b, name);
            if (!rc)
                rc = pd_xml_open_end(x->b);
        }
        json_object_foreach((json_t *)v, k, e)
        {
            if (rc)
                break;
            const char *entry = flat ? name : "entry";
            json_t *kj = json_string_nocheck(k);
            rc = pd_xml_open(x->b, entry);
            if (!rc)
                rc = pd_xml_open_end(x->b);
            if (!rc)
                rc = pd_xo_value(x, sh->key, sh->key->wire_name, kj);
            if (!rc && !json_is_null(e))
                rc = pd_xo_value(x, sh->value, sh->value->wire_name, e);
            if (!rc)
                rc = pd_xml_close(x->b, entry);
            json_decref(kj);
        }
        if (!rc && !flat)
            rc = pd_xml_close(x->b, name);
        return rc;
    }
    default: {
        size_t len;
        const char *t = pd_walk_scalar_text(x->a, m, v, PD_TS_ISO8601, &len);
        if (!t)
            return xo_bad(x, m);
        if (sh->type == PD_ST_TIMESTAMP && pd_walk_tsfmt(m, PD_TS_ISO8601) == PD_TS_ISO8601) {
            int64_t ms;
            char buf[32];
            pd_walk_time_of(v, &ms);
            pd_time_iso8601(ms, x->ts_ms, buf);
            t = pd_arena_strdup(x->a, buf);
            len = strlen(t);
        }
        rc = pd_xml_open(x->b, name);
        if (!rc)
            rc = xo_ns(x, m->xmlns.uri ? &m->xmlns : &sh->xmlns);
        if (!rc)
            rc = pd_xml_open_end(x->b);
        if (!rc)
            rc = pd_xml_text(x->b, t, len);
        if (!rc)
            rc = pd_xml_close(x->b, name);
        return rc;
    }
    }
}

json_t *pd_jo_value(struct pd_arena *a, const struct pd_spec_member *m, const json_t *v,
                    const char **OUT_where)
{
    const struct pd_spec_shape *sh = m->shape;
    switch (sh->type) {
    case PD_ST_STRUCTURE: {
        if (!json_is_object(v))
            break;
        json_t *o = json_object();
        for (size_t i = 0; i < sh->n_members; i++) {
            const struct pd_spec_member *mm = &sh->members[i];
            const json_t *mv = json_object_get(v, mm->name);
            if (mm->loc != PD_LOC_BODY || !mv || json_is_null(mv))
                continue;
            json_t *e = pd_jo_value(a, mm, mv, OUT_where);
            if (!e) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, mm->wire_name, e);
        }
        return o;
    }
    case PD_ST_LIST: {
        if (!json_is_array(v))
            break;
        json_t *arr = json_array();
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            json_t *x = json_is_null(e) ? json_null() : pd_jo_value(a, sh->member, e, OUT_where);
            if (!x) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, x);
        }
        return arr;
    }
    case PD_ST_MAP: {
        if (!json_is_object(v))
            break;
        json_t *o = json_object();
        const char *k;
        const json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            json_t *x = json_is_null(e) ? json_null() : pd_jo_value(a, sh->value, e, OUT_where);
            if (!x) {
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, k, x);
        }
        return o;
    }
    case PD_ST_STRING:
        if (json_is_string(v))
            return json_incref((json_t *)v);
        break;
    case PD_ST_INTEGER:
    case PD_ST_LONG:
        if (json_is_integer(v))
            return json_incref((json_t *)v);
        break;
    case PD_ST_FLOAT:
    case PD_ST_DOUBLE:
        if (json_is_number(v))
            return json_real(json_number_value(v));
        break;
    case PD_ST_BOOLEAN:
        if (json_is_boolean(v))
            return json_incref((json_t *)v);
        break;
    case PD_ST_TIMESTAMP: {
        int64_t ms;
        if (pd_walk_time_of(v, &ms))
            break;
        enum pd_spec_tsfmt f = pd_walk_tsfmt(m, PD_TS_EPOCH);
        if (f == PD_TS_EPOCH)
            return ms % 1000 ? json_real((double)ms / 1000.0) : json_integer(ms / 1000);
        char buf[32];
        if (f == PD_TS_RFC822)
            pd_time_http(ms, buf);
        else
            pd_time_iso8601(ms, ms % 1000 != 0, buf);
        return json_string(buf);
    }
    case PD_ST_BLOB:
        if (json_is_string(v))
            return json_string(pd_base64_encode(a, json_string_value(v), json_string_length(v), 0));
        break;
    }
    if (OUT_where && !*OUT_where)
        *OUT_where = m->name;
    return NULL;
}
