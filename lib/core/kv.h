/*
 * kv.h - a list of name/value pairs (HTTP headers, form or query parameters).
 *
 * Storage belongs to an arena; the list only grows. Values carry their length because
 * decoded parameters may hold NUL bytes. Lookups by name are linear: lists are short.
 */
#ifndef PD_CORE_KV_H
#define PD_CORE_KV_H

#include <stddef.h>

struct pd_arena;

struct pd_kv {
    const char *name;
    const char *value;
    size_t vlen;
};

struct pd_kvs {
    struct pd_kv *v;
    size_t n, cap;
};

/* Append a copy of name/value (arena-owned). lower_name: store the name lower-cased. */
void pd_kvs_add(struct pd_arena *a, struct pd_kvs *l, const char *name, const char *value,
                size_t vlen, int lower_name);
/* First value for name (exact match, or ASCII case-insensitive with ci), or NULL. */
const char *pd_kvs_get(const struct pd_kvs *l, const char *name, int ci);
/* How many entries have this name. */
size_t pd_kvs_count(const struct pd_kvs *l, const char *name, int ci);

/* Parse "a=1&b=2" (application/x-www-form-urlencoded or a raw query string): names and
 * values percent-decoded, '+' as space when plus_is_space. A name without '=' gets "".
 * Returns PD_OK or PD_EINVAL (bad percent escape). */
int pd_kvs_parse_form(struct pd_arena *a, struct pd_kvs *l, const char *s, size_t n,
                      int plus_is_space);

/* The number of parameters pd_kvs_parse_form would add for s (non-empty '&' segments),
 * counted without decoding or allocating. */
size_t pd_form_count(const char *s, size_t n);

/* The value of the first parameter called name in the form s, decoded into a (NULL when
 * there is none), without decoding or storing the other parameters: the request pipeline
 * learns the Action of an unsigned call before it decodes anything else. A parameter name
 * that does not percent-decode, or is longer than 255 bytes, is not name. Returns PD_OK, or
 * PD_EINVAL when the matching parameter's value does not percent-decode. */
int pd_form_find(struct pd_arena *a, const char *s, size_t n, const char *name, int plus_is_space,
                 const char **OUT_value);

#endif
