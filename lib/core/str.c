/* str.c - string helpers (see str.h). */
#include "str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "err.h"
#include "mem.h"

int pd_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int pd_parse_i64(const char *s, int64_t min, int64_t max, int64_t *OUT_v)
{
    if (!s || !*s)
        return PD_EINVAL;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (!*p)
        return PD_EINVAL;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return PD_EINVAL;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return PD_EINVAL;
    *OUT_v = v;
    return PD_OK;
}

int pd_url_decode(struct pd_arena *a, const char *s, size_t n, int plus_is_space, char **OUT,
                  size_t *OUT_len)
{
    char *out = pd_arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return PD_EINVAL;
            hi = pd_hexval(s[i + 1]);
            lo = pd_hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return PD_EINVAL;
            out[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out[j++] = ' ';
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    *OUT = out;
    if (OUT_len)
        *OUT_len = j;
    return PD_OK;
}

char *pd_url_encode(struct pd_arena *a, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = pd_arena_alloc(a, n * 3 + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash)) {
            out[j++] = (char)c;
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
    return out;
}

char *pd_base64_encode(struct pd_arena *a, const void *p, size_t n, int url)
{
    const char *al = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                         : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    char *out = pd_arena_alloc(a, (n + 2) / 3 * 4 + 1);
    size_t j = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        out[j++] = al[v >> 18];
        out[j++] = al[(v >> 12) & 63];
        out[j++] = al[(v >> 6) & 63];
        out[j++] = al[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
        out[j++] = al[v >> 18];
        out[j++] = al[(v >> 12) & 63];
        if (i + 1 < n)
            out[j++] = al[(v >> 6) & 63];
        else if (!url)
            out[j++] = '=';
        if (!url)
            out[j++] = '=';
    }
    out[j] = '\0';
    return out;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

int pd_base64_decode(struct pd_arena *a, const char *s, size_t n, unsigned char **OUT,
                     size_t *OUT_len)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return PD_EINVAL;
    unsigned char *out = pd_arena_alloc(a, n / 4 * 3 + 3);
    size_t j = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return PD_EINVAL;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[j++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits */
        return PD_EINVAL;
    *OUT = out;
    *OUT_len = j;
    return PD_OK;
}

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

int pd_strcaseeq(const char *a, const char *b)
{
    while (*a && *b && lc(*a) == lc(*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

int pd_strncaseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lc(a[i]) != lc(b[i]))
            return 0;
        if (!a[i])
            return 1;
    }
    return 1;
}

int pd_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

void pd_lower(char *s)
{
    for (; *s; s++)
        *s = lc(*s);
}

int pd_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* Where to cut s before n so that no UTF-8 sequence is split (s has more than n bytes). */
static size_t utf8_floor(const char *s, size_t n)
{
    size_t k = n;
    while (k > 0 && n - k < 3 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

char *pd_cut_middle(const char *text, size_t max)
{
    size_t n = strlen(text);
    if (n <= max)
        return pd_xstrdup(text);
    size_t room = max > 64 ? max - 64 : 0; /* 64: the marker's room */
    size_t head = utf8_floor(text, room / 2);
    size_t tail_from = n - (room - room / 2);
    while (tail_from < n && ((unsigned char)text[tail_from] & 0xC0) == 0x80)
        tail_from++;
    char marker[64];
    snprintf(marker, sizeof marker, "\n[… %zu bytes cut …]\n", tail_from - head);
    size_t ml = strlen(marker);
    char *out = pd_xmalloc(head + ml + (n - tail_from) + 1);
    memcpy(out, text, head);
    memcpy(out + head, marker, ml);
    memcpy(out + head + ml, text + tail_from, n - tail_from + 1);
    return out;
}
