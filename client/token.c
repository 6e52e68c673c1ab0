/*
 * token.c - JWT decoding for display, and time rendering (pure).
 */
#include "token.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/str.h"

static json_t *part(struct pd_arena *a, const char *s, size_t n, const char *what,
                    const char **OUT_reason)
{
    unsigned char *raw;
    size_t len;
    if (pd_base64_decode(a, s, n, &raw, &len) != PD_OK) {
        *OUT_reason = pd_arena_printf(a, "the %s is not base64url", what);
        return NULL;
    }
    json_error_t e;
    json_t *v = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(v)) {
        json_decref(v);
        *OUT_reason = pd_arena_printf(a, "the %s is not a JSON object", what);
        return NULL;
    }
    return v;
}

int pdc_token_decode(struct pd_arena *a, const char *token, struct pdc_token *OUT)
{
    memset(OUT, 0, sizeof(*OUT));
    while (*token == ' ' || *token == '\n' || *token == '\r' || *token == '\t')
        token++;
    size_t n = strlen(token);
    while (n > 0 && (token[n - 1] == ' ' || token[n - 1] == '\n' || token[n - 1] == '\r' ||
                     token[n - 1] == '\t'))
        n--;
    const char *d1 = memchr(token, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - token))) {
        OUT->reason = "a JWT has three parts separated by '.' (header.claims.signature)";
        return PD_EINVAL;
    }
    OUT->header = part(a, token, (size_t)(d1 - token), "header", &OUT->reason);
    if (!OUT->header)
        return PD_EINVAL;
    OUT->claims = part(a, d1 + 1, (size_t)(d2 - d1 - 1), "claims part", &OUT->reason);
    if (!OUT->claims)
        return PD_EINVAL;
    size_t slen = n - (size_t)(d2 + 1 - token);
    unsigned char *sig;
    if (slen && pd_base64_decode(a, d2 + 1, slen, &sig, &OUT->sig_len) != PD_OK) {
        OUT->reason = "the signature is not base64url";
        return PD_EINVAL;
    }
    return PD_OK;
}

void pdc_token_free(struct pdc_token *t)
{
    json_decref(t->header);
    json_decref(t->claims);
    t->header = t->claims = NULL;
}

static void span(char *out, size_t cap, int64_t d)
{
    if (d >= 86400)
        snprintf(out, cap, "%lldd%lldh", (long long)(d / 86400), (long long)(d % 86400 / 3600));
    else if (d >= 3600)
        snprintf(out, cap, "%lldh%02lldm", (long long)(d / 3600), (long long)(d % 3600 / 60));
    else if (d >= 60)
        snprintf(out, cap, "%lldm%02llds", (long long)(d / 60), (long long)(d % 60));
    else
        snprintf(out, cap, "%llds", (long long)d);
}

const char *pdc_time_rel(struct pd_arena *a, int64_t t, int64_t now)
{
    char iso[32], d[32];
    pd_time_iso8601(t * 1000, 0, iso);
    if (t == now)
        return pd_arena_printf(a, "%s (now)", iso);
    span(d, sizeof(d), t > now ? t - now : now - t);
    return pd_arena_printf(a, t > now ? "%s (in %s)" : "%s (%s ago)", iso, d);
}

json_t *pdc_token_aud(const json_t *claims)
{
    json_t *aud = json_object_get(claims, "aud");
    json_t *out = json_array();
    if (json_is_string(aud)) {
        json_array_append(out, aud);
    } else if (json_is_array(aud)) {
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) if (json_is_string(v)) json_array_append(out, v);
    }
    return out;
}
