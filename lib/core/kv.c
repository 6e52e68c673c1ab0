/* kv.c - name/value lists (see kv.h). */
#include "kv.h"

#include <string.h>

#include "arena.h"
#include "err.h"
#include "str.h"

void pd_kvs_add(struct pd_arena *a, struct pd_kvs *l, const char *name, const char *value,
                size_t vlen, int lower_name)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct pd_kv *v = pd_arena_alloc(a, cap * sizeof *v);
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    char *nm = pd_arena_strdup(a, name);
    if (lower_name)
        pd_lower(nm);
    l->v[l->n].name = nm;
    l->v[l->n].value = pd_arena_strndup(a, value, vlen);
    l->v[l->n].vlen = vlen;
    l->n++;
}

const char *pd_kvs_get(const struct pd_kvs *l, const char *name, int ci)
{
    for (size_t i = 0; i < l->n; i++)
        if (ci ? pd_strcaseeq(l->v[i].name, name) : strcmp(l->v[i].name, name) == 0)
            return l->v[i].value;
    return NULL;
}

size_t pd_kvs_count(const struct pd_kvs *l, const char *name, int ci)
{
    size_t c = 0;
    for (size_t i = 0; i < l->n; i++)
        if (ci ? pd_strcaseeq(l->v[i].name, name) : strcmp(l->v[i].name, name) == 0)
            c++;
    return c;
}

int pd_kvs_parse_form(struct pd_arena *a, struct pd_kvs *l, const char *s, size_t n,
                      int plus_is_space)
{
    size_t i = 0;
    while (i < n) {
        size_t amp = i;
        while (amp < n && s[amp] != '&')
            amp++;
        if (amp > i) {
            size_t eq = i;
            while (eq < amp && s[eq] != '=')
                eq++;
            char *name, *value;
            size_t nlen, vlen;
            if (pd_url_decode(a, s + i, eq - i, plus_is_space, &name, &nlen))
                return PD_EINVAL;
            if (eq < amp) {
                if (pd_url_decode(a, s + eq + 1, amp - eq - 1, plus_is_space, &value, &vlen))
                    return PD_EINVAL;
            } else {
                value = "";
                vlen = 0;
            }
            pd_kvs_add(a, l, name, value, vlen, 0);
        }
        i = amp + 1;
    }
    return PD_OK;
}

size_t pd_form_count(const char *s, size_t n)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '&') {
            count += i > start;
            start = i + 1;
        }
    }
    return count;
}

/* Does the form name s[0..n) decode to name, compared as pd_kvs_get compares (up to an
 * embedded NUL)? Decodes as it compares: never allocates, any length. */
static int form_name_is(const char *s, size_t n, const char *name, int plus_is_space)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = n - i >= 3 ? pd_hexval(s[i + 1]) : -1,
                lo = n - i >= 3 ? pd_hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return 0;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0')
            return name[j] == '\0';
        if (name[j] != c)
            return 0;
        j++;
    }
    return name[j] == '\0';
}

int pd_form_find(struct pd_arena *a, const char *s, size_t n, const char *name, int plus_is_space,
                 const char **OUT_value)
{
    *OUT_value = NULL;
    size_t i = 0;
    while (i < n) {
        size_t amp = i;
        while (amp < n && s[amp] != '&')
            amp++;
        size_t eq = i;
        while (eq < amp && s[eq] != '=')
            eq++;
        if (amp > i && form_name_is(s + i, eq - i, name, plus_is_space)) {
            if (eq == amp) {
                *OUT_value = "";
                return PD_OK;
            }
            char *value;
            size_t vlen;
            if (pd_url_decode(a, s + eq + 1, amp - eq - 1, plus_is_space, &value, &vlen))
                return PD_EINVAL;
            *OUT_value = value;
            return PD_OK;
        }
        i = amp + 1;
    }
    return PD_OK;
}
