/* buf.c - growable, capped byte buffer (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"

void pd_buf_init(struct pd_buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void pd_buf_free(struct pd_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void pd_buf_reset(struct pd_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

static int grow(struct pd_buf *b, size_t extra)
{
    if (b->max && (extra > b->max || b->len > b->max - extra)) {
        pd_buf_free(b);
        return PD_ETOOBIG;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return PD_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->p = pd_xrealloc(b->p, cap);
    b->cap = cap;
    return PD_OK;
}

int pd_buf_reserve(struct pd_buf *b, size_t n)
{
    int rc = grow(b, n);
    if (rc == PD_OK)
        b->p[b->len] = '\0';
    return rc;
}

void pd_buf_commit(struct pd_buf *b, size_t n)
{
    b->len += n;
    b->p[b->len] = '\0';
}

int pd_buf_add(struct pd_buf *b, const void *p, size_t n)
{
    int rc = grow(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return PD_OK;
}

int pd_buf_adds(struct pd_buf *b, const char *s)
{
    return pd_buf_add(b, s, strlen(s));
}

int pd_buf_addc(struct pd_buf *b, char c)
{
    return pd_buf_add(b, &c, 1);
}

int pd_buf_vprintf(struct pd_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return PD_EINVAL;
    int rc = grow(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return PD_OK;
}

int pd_buf_printf(struct pd_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = pd_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int pd_buf_add_xml(struct pd_buf *b, const char *s, size_t n)
{
    int rc = PD_OK;
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char num[16];
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        default:
            if (c < 0x20) {
                snprintf(num, sizeof num, "&#%u;", c);
                rep = num;
            }
        }
        if (!rep)
            continue;
        rc = pd_buf_add(b, s + run, i - run);
        if (!rc)
            rc = pd_buf_adds(b, rep);
        run = i + 1;
    }
    if (!rc)
        rc = pd_buf_add(b, s + run, n - run);
    return rc;
}

char *pd_buf_steal(struct pd_buf *b, size_t *len)
{
    char *p = b->p ? b->p : pd_xstrdup("");
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *pd_buf_str(const struct pd_buf *b)
{
    return b->p ? b->p : "";
}

int pd_buf_add_json_str(struct pd_buf *b, const char *s, size_t n)
{
    int rc = pd_buf_addc(b, '"');
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
        const char *k = memchr(from, c, sizeof from - 1);
        char esc[8] = {'\\', k ? to[k - from] : 0, 0};
        if (!k)
            snprintf(esc, sizeof esc, "\\u%04X", c);
        rc = pd_buf_add(b, s + run, i - run);
        if (!rc)
            rc = pd_buf_adds(b, esc);
        run = i + 1;
    }
    if (!rc)
        rc = pd_buf_add(b, s + run, n - run);
    return rc ? rc : pd_buf_addc(b, '"');
}
