/*
 * policy_cond.c - request context, condition operators and the matchers the policy engine
 * uses (wildcards, ARN fields, CIDRs, numbers, dates, booleans, policy variables).
 *
 * Owns: struct pd_ctx storage (in the caller's arena) and condition semantics as the IAM
 * User Guide states them: several keys AND, several values OR (negated operators: NOR),
 * missing keys false except negated operators and ...IfExists, ForAllValues true and
 * ForAnyValue false on a missing or empty key, a policy variable with no value equal to
 * nothing (so negated operators match it). Must not: allocate from the heap, parse JSON.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "auth/policy_int.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"

/* ---- small helpers -------------------------------------------------------------------- */

static inline unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

uint32_t pd_pol_hash_lower(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= lc((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

const struct pd_ctx_key *pd_pol_ctx_find(const struct pd_ctx *c, const char *lkey, uint32_t hash)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (c->keys[i].hash == hash && strcmp(c->keys[i].name, lkey) == 0)
            return &c->keys[i];
    return NULL;
}

int pd_pol_glob(const char *p, size_t pn, const char *s, size_t sn, int ci)
{
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < sn) {
        if (pi < pn) {
            unsigned char c = (unsigned char)p[pi];
            if (c == '*') {
                star_p = ++pi;
                star_s = si;
                continue;
            }
            if (c == '?') {
                /* one character: a whole UTF-8 sequence */
                pi++;
                si++;
                while (si < sn && ((unsigned char)s[si] & 0xC0) == 0x80)
                    si++;
                continue;
            }
            size_t adv = 1;
            if (c == '\\' && pi + 1 < pn) {
                c = (unsigned char)p[pi + 1];
                adv = 2;
            }
            unsigned char d = (unsigned char)s[si];
            if (ci ? lc(c) == lc(d) : c == d) {
                pi += adv;
                si++;
                continue;
            }
        }
        if (star_p != (size_t)-1) {
            pi = star_p;
            si = ++star_s;
            continue;
        }
        return 0;
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* Split at the first five ':' (an escaped "\:" in a pattern is not a separator). Returns the
 * number of fields (1..6). */
static int split6(const char *s, int pattern, const char *f[6], size_t len[6])
{
    int k = 0;
    const char *start = s, *p = s;
    while (*p && k < 5) {
        if (pattern && *p == '\\' && p[1]) {
            p += 2;
            continue;
        }
        if (*p == ':') {
            f[k] = start;
            len[k] = (size_t)(p - start);
            k++;
            start = p + 1;
        }
        p++;
    }
    f[k] = start;
    len[k] = strlen(start);
    return k + 1;
}

int pd_pol_arn_match(const char *pat, const char *s)
{
    const char *pf[6], *sf[6];
    size_t pl[6], sl[6];
    int sn = split6(s, 0, sf, sl);
    if (sn < 6 || strncmp(s, "arn:", 4) != 0)
        return pd_pol_glob(pat, strlen(pat), s, strlen(s), 0);
    int pn = split6(pat, 1, pf, pl);
    for (int i = 0; i < pn; i++) {
        if (i == pn - 1) {
            /* last pattern field takes the rest of the value */
            const char *rest = sf[i];
            return pd_pol_glob(pf[i], pl[i], rest, strlen(rest), 0);
        }
        if (!pd_pol_glob(pf[i], pl[i], sf[i], sl[i], 0))
            return 0;
    }
    return 1;
}

int pd_pol_parse_cidr(const char *s, size_t n, int allow_prefix, struct pd_cidr *OUT)
{
    char buf[64];
    memset(OUT, 0, sizeof *OUT);
    if (n == 0 || n >= sizeof buf)
        return PD_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        if (!allow_prefix || !slash[1] || strlen(slash + 1) > 3)
            return PD_EINVAL;
        for (const char *q = slash + 1; *q; q++)
            if (*q < '0' || *q > '9')
                return PD_EINVAL;
        bits = strtol(slash + 1, NULL, 10);
        *slash = '\0';
    }
    if (strchr(buf, ':')) {
        if (inet_pton(AF_INET6, buf, OUT->addr) != 1)
            return PD_EINVAL;
        OUT->fam = 6;
        if (bits < 0)
            bits = 128;
        if (bits > 128)
            return PD_EINVAL;
    } else {
        if (inet_pton(AF_INET, buf, OUT->addr) != 1)
            return PD_EINVAL;
        OUT->fam = 4;
        if (bits < 0)
            bits = 32;
        if (bits > 32)
            return PD_EINVAL;
    }
    OUT->bits = (uint8_t)bits;
    return PD_OK;
}

int pd_pol_cidr_contains(const struct pd_cidr *net, const struct pd_cidr *ip)
{
    if (!net->fam || net->fam != ip->fam)
        return 0;
    unsigned bits = net->bits, i = 0;
    for (; bits >= 8; bits -= 8, i++)
        if (net->addr[i] != ip->addr[i])
            return 0;
    if (bits) {
        unsigned mask = (0xFFu << (8 - bits)) & 0xFFu;
        if ((net->addr[i] & mask) != (ip->addr[i] & mask))
            return 0;
    }
    return 1;
}

int pd_pol_parse_number(const char *s, size_t n, double *OUT)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return PD_EINVAL;
    int digits = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            digits++;
        else if (!(c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
            return PD_EINVAL;
    }
    if (!digits)
        return PD_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno || !isfinite(v))
        return PD_EINVAL;
    *OUT = v;
    return PD_OK;
}

int pd_pol_parse_date(const char *s, size_t n, int64_t *OUT_ms)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return PD_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    int epoch = 1;
    for (size_t i = 0; i < n; i++)
        if (!((buf[i] >= '0' && buf[i] <= '9') || (buf[i] == '.' && i > 0)))
            epoch = 0;
    if (epoch) {
        /* epoch (UNIX) seconds, optionally with a fraction */
        char *end;
        errno = 0;
        double v = strtod(buf, &end);
        if (*end || errno || v > 9.2e15)
            return PD_EINVAL;
        *OUT_ms = (int64_t)llround(v * 1000.0);
        return PD_OK;
    }
    /* W3C profile of ISO 8601; a bare year or year-month is the start of that period */
    if (n == 7 && buf[4] == '-') {
        char full[16];
        memcpy(full, buf, 7);
        memcpy(full + 7, "-01", 4);
        return pd_time_parse_iso8601(full, OUT_ms);
    }
    return pd_time_parse_iso8601(buf, OUT_ms);
}

int pd_pol_parse_bool(const char *s, size_t n)
{
    if (n == 4 && lc((unsigned char)s[0]) == 't' && lc((unsigned char)s[1]) == 'r' &&
        lc((unsigned char)s[2]) == 'u' && lc((unsigned char)s[3]) == 'e')
        return 1;
    if (n == 5 && lc((unsigned char)s[0]) == 'f' && lc((unsigned char)s[1]) == 'a' &&
        lc((unsigned char)s[2]) == 'l' && lc((unsigned char)s[3]) == 's' &&
        lc((unsigned char)s[4]) == 'e')
        return 0;
    return -1;
}

/* ---- request context ------------------------------------------------------------------ */

void pd_ctx_init(struct pd_ctx *c, struct pd_arena *a)
{
    c->a = a;
    c->keys = NULL;
    c->n = c->cap = 0;
}

static struct pd_ctx_key *ctx_key(struct pd_ctx *c, const char *key, int create)
{
    size_t kl = strlen(key);
    uint32_t h = pd_pol_hash_lower(key, kl);
    for (size_t i = 0; i < c->n; i++) {
        struct pd_ctx_key *k = &c->keys[i];
        if (k->hash != h || strlen(k->name) != kl)
            continue;
        size_t j = 0;
        while (j < kl && lc((unsigned char)key[j]) == (unsigned char)k->name[j])
            j++;
        if (j == kl)
            return k;
    }
    if (!create)
        return NULL;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct pd_ctx_key *nk = pd_arena_alloc(c->a, cap * sizeof *nk);
        if (c->n)
            memcpy(nk, c->keys, c->n * sizeof *nk);
        c->keys = nk;
        c->cap = cap;
    }
    struct pd_ctx_key *k = &c->keys[c->n++];
    char *name = pd_arena_strndup(c->a, key, kl);
    for (char *p = name; *p; p++)
        *p = (char)lc((unsigned char)*p);
    k->name = name;
    k->hash = h;
    k->v = NULL;
    k->n = k->cap = 0;
    return k;
}

void pd_ctx_add(struct pd_ctx *c, const char *key, enum pd_ctx_type type, const char *value,
                size_t vlen)
{
    struct pd_ctx_key *k = ctx_key(c, key, 1);
    if (vlen == (size_t)-1)
        vlen = strlen(value);
    if (k->n == k->cap) {
        uint32_t cap = k->cap ? k->cap * 2 : 2;
        struct pd_ctx_val *nv = pd_arena_alloc(c->a, cap * sizeof *nv);
        if (k->n)
            memcpy(nv, k->v, k->n * sizeof *nv);
        k->v = nv;
        k->cap = cap;
    }
    struct pd_ctx_val *v = &k->v[k->n++];
    memset(v, 0, sizeof *v);
    v->s = pd_arena_strndup(c->a, value, vlen);
    v->len = vlen;
    v->b = -1;
    v->binary = type == PD_CTX_BINARY;
}

void pd_pol_ctx_prepare(const struct pd_ctx_val *cv)
{
    struct pd_ctx_val *v = (struct pd_ctx_val *)cv; /* lazily filled cache, see policy_int.h */
    if (v->parsed)
        return;
    v->parsed = 1;
    if (v->binary)
        return;
    v->b = (int8_t)pd_pol_parse_bool(v->s, v->len);
    double d;
    if (pd_pol_parse_number(v->s, v->len, &d) == PD_OK) {
        v->num = d;
        v->num_ok = 1;
    }
    int64_t ms;
    if (pd_pol_parse_date(v->s, v->len, &ms) == PD_OK) {
        v->date_ms = ms;
        v->date_ok = 1;
    }
    pd_pol_parse_cidr(v->s, v->len, 0, &v->ip);
}

int pd_ctx_value_valid(enum pd_ctx_type type, const char *value, size_t vlen)
{
    double d;
    int64_t ms;
    struct pd_cidr ip;
    switch (type) {
    case PD_CTX_NUMERIC:
        return pd_pol_parse_number(value, vlen, &d) == PD_OK;
    case PD_CTX_BOOLEAN:
        return pd_pol_parse_bool(value, vlen) >= 0;
    case PD_CTX_DATE:
        return pd_pol_parse_date(value, vlen, &ms) == PD_OK;
    case PD_CTX_IP:
        return pd_pol_parse_cidr(value, vlen, 0, &ip) == PD_OK && ip.fam != 0;
    default:
        return 1;
    }
}

void pd_ctx_add_empty(struct pd_ctx *c, const char *key)
{
    ctx_key(c, key, 1);
}

int pd_ctx_count(const struct pd_ctx *c, const char *key)
{
    const struct pd_ctx_key *k = ctx_key((struct pd_ctx *)c, key, 0);
    return k ? (int)k->n : -1;
}

const char *pd_ctx_get(const struct pd_ctx *c, const char *key, size_t i)
{
    const struct pd_ctx_key *k = ctx_key((struct pd_ctx *)c, key, 0);
    return (k && i < k->n) ? k->v[i].s : NULL;
}

void pd_ctx_add_principal_keys(struct pd_ctx *c, const struct pd_principal_id *w)
{
    const char *type = NULL, *parn = NULL;
    switch (w->type) {
    case PD_PRINCIPAL_ANONYMOUS:
        pd_ctx_add(c, "aws:PrincipalType", PD_CTX_STRING, "Anonymous", (size_t)-1);
        return;
    case PD_PRINCIPAL_ROOT:
        type = "Account";
        parn = w->arn;
        break;
    case PD_PRINCIPAL_USER:
        type = "User";
        parn = w->arn;
        break;
    case PD_PRINCIPAL_ROLE_SESSION:
        type = "AssumedRole";
        parn = w->role_arn;
        break;
    case PD_PRINCIPAL_FEDERATED_USER:
        type = "FederatedUser";
        parn = w->arn;
        break;
    case PD_PRINCIPAL_WEB_IDENTITY:
    case PD_PRINCIPAL_SERVICE:
        return;
    }
    pd_ctx_add(c, "aws:PrincipalType", PD_CTX_STRING, type, (size_t)-1);
    if (parn)
        pd_ctx_add(c, "aws:PrincipalArn", PD_CTX_STRING, parn, (size_t)-1);
    if (w->account)
        pd_ctx_add(c, "aws:PrincipalAccount", PD_CTX_STRING, w->account, (size_t)-1);
    if (w->unique_id)
        pd_ctx_add(c, "aws:userid", PD_CTX_STRING, w->unique_id, (size_t)-1);
    if (w->type == PD_PRINCIPAL_USER && w->arn) {
        const char *slash = strrchr(w->arn, '/');
        if (slash && slash[1])
            pd_ctx_add(c, "aws:username", PD_CTX_STRING, slash + 1, (size_t)-1);
    }
}

/* ---- policy variables ----------------------------------------------------------------- */

const char *pd_pol_resolve(struct pd_arena *a, const struct pd_str *s, const struct pd_ctx *c,
                           int matcher)
{
    if (!s->segs)
        return matcher ? s->m : s->plain;
    /* measure, then write */
    size_t cap = 1;
    const char *vals[64];
    size_t vlens[64];
    if (s->nsegs > 64)
        return NULL;
    for (uint32_t i = 0; i < s->nsegs; i++) {
        const struct pd_seg *g = &s->segs[i];
        if (!g->var) {
            cap += g->len;
            continue;
        }
        const struct pd_ctx_key *k = pd_pol_ctx_find(c, g->text, g->hash);
        if (k && k->n == 1) {
            vals[i] = k->v[0].s;
            vlens[i] = k->v[0].len;
        } else if ((!k || k->n == 0) && g->def) {
            vals[i] = g->def;
            vlens[i] = strlen(g->def);
        } else {
            return NULL; /* absent (or multi-valued: only single-valued keys can be variables) */
        }
        cap += vlens[i] * 2;
    }
    char *out = pd_arena_alloc(a, cap);
    size_t j = 0;
    for (uint32_t i = 0; i < s->nsegs; i++) {
        const struct pd_seg *g = &s->segs[i];
        if (!g->var) {
            for (uint32_t q = 0; q < g->len; q++) {
                char ch = g->text[q];
                if (!matcher && ch == '\\' && q + 1 < g->len)
                    ch = g->text[++q];
                out[j++] = ch;
            }
            continue;
        }
        for (size_t q = 0; q < vlens[i]; q++) {
            char ch = vals[i][q];
            if (matcher && (ch == '*' || ch == '?' || ch == '\\'))
                out[j++] = '\\';
            out[j++] = ch;
        }
    }
    out[j] = '\0';
    return out;
}

/* ---- operators ------------------------------------------------------------------------ */

static const char *const cop_names[COP_COUNT] = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
};

const char *pd_pol_cop_name(unsigned op)
{
    return op < COP_COUNT ? cop_names[op] : "?";
}

/* Negated operators and their positive counterparts. */
static int negated(unsigned op, unsigned *OUT_pos)
{
    switch (op) {
    case COP_STR_NE:
        *OUT_pos = COP_STR_EQ;
        return 1;
    case COP_STR_NE_IC:
        *OUT_pos = COP_STR_EQ_IC;
        return 1;
    case COP_STR_NLIKE:
        *OUT_pos = COP_STR_LIKE;
        return 1;
    case COP_NUM_NE:
        *OUT_pos = COP_NUM_EQ;
        return 1;
    case COP_DATE_NE:
        *OUT_pos = COP_DATE_EQ;
        return 1;
    case COP_NOT_IP:
        *OUT_pos = COP_IP;
        return 1;
    case COP_ARN_NE:
        *OUT_pos = COP_ARN_EQ;
        return 1;
    case COP_ARN_NLIKE:
        *OUT_pos = COP_ARN_LIKE;
        return 1;
    default:
        *OUT_pos = op;
        return 0;
    }
}

static int ci_equal(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (lc((unsigned char)a[i]) != lc((unsigned char)b[i]))
            return 0;
    return 1;
}

/* Does one policy value match one request value under a positive operator? */
static int match_one(struct pd_arena *a, unsigned op, const struct pd_cval *pv,
                     const struct pd_ctx_val *rv, const struct pd_ctx *c, int vars)
{
    const char *t;
    if (op >= COP_NUM_EQ && op != COP_ARN_EQ && op != COP_ARN_LIKE && op != COP_BIN_EQ)
        pd_pol_ctx_prepare(rv);
    switch (op) {
    case COP_STR_EQ:
        t = vars ? pd_pol_resolve(a, &pv->s, c, 0) : pv->s.plain;
        return t && strlen(t) == rv->len && memcmp(t, rv->s, rv->len) == 0;
    case COP_STR_EQ_IC:
        t = vars ? pd_pol_resolve(a, &pv->s, c, 0) : pv->s.plain;
        return t && ci_equal(t, strlen(t), rv->s, rv->len);
    case COP_STR_LIKE:
        t = vars ? pd_pol_resolve(a, &pv->s, c, 1) : pv->s.m;
        return t && pd_pol_glob(t, strlen(t), rv->s, rv->len, 0);
    case COP_ARN_EQ:
    case COP_ARN_LIKE:
        t = vars ? pd_pol_resolve(a, &pv->s, c, 1) : pv->s.m;
        return t && memchr(rv->s, '\0', rv->len) == NULL && pd_pol_arn_match(t, rv->s);
    case COP_NUM_EQ:
        return pv->num_ok && rv->num_ok && pv->num == rv->num;
    case COP_NUM_LT:
        return pv->num_ok && rv->num_ok && rv->num < pv->num;
    case COP_NUM_LE:
        return pv->num_ok && rv->num_ok && rv->num <= pv->num;
    case COP_NUM_GT:
        return pv->num_ok && rv->num_ok && rv->num > pv->num;
    case COP_NUM_GE:
        return pv->num_ok && rv->num_ok && rv->num >= pv->num;
    case COP_DATE_EQ:
        return pv->date_ok && rv->date_ok && rv->date_ms == pv->date_ms;
    case COP_DATE_LT:
        return pv->date_ok && rv->date_ok && rv->date_ms < pv->date_ms;
    case COP_DATE_LE:
        return pv->date_ok && rv->date_ok && rv->date_ms <= pv->date_ms;
    case COP_DATE_GT:
        return pv->date_ok && rv->date_ok && rv->date_ms > pv->date_ms;
    case COP_DATE_GE:
        return pv->date_ok && rv->date_ok && rv->date_ms >= pv->date_ms;
    case COP_BOOL: {
        int b = pv->b;
        if (vars && pv->s.segs) {
            t = pd_pol_resolve(a, &pv->s, c, 0);
            b = t ? pd_pol_parse_bool(t, strlen(t)) : -1;
        }
        return b >= 0 && rv->b >= 0 && b == rv->b;
    }
    case COP_BIN_EQ:
        return pv->bin_ok && pv->binlen == rv->len && memcmp(pv->bin, rv->s, rv->len) == 0;
    case COP_IP:
        return rv->ip.fam && pd_pol_cidr_contains(&pv->ip, &rv->ip);
    default:
        return 0;
    }
}

static void note_missing(struct pd_cond_trace *tr, const char *key)
{
    for (size_t i = 0; i < tr->nmissing; i++)
        if (ci_equal(tr->missing[i], strlen(tr->missing[i]), key, strlen(key)))
            return;
    if (tr->nmissing == tr->capmissing) {
        size_t cap = tr->capmissing ? tr->capmissing * 2 : 8;
        const char **n = pd_arena_alloc(tr->a, cap * sizeof *n);
        if (tr->nmissing)
            memcpy(n, tr->missing, tr->nmissing * sizeof *n);
        tr->missing = n;
        tr->capmissing = cap;
    }
    tr->missing[tr->nmissing++] = key;
}

static int eval_cond(struct pd_arena *a, const struct pd_cond *cd, const struct pd_ctx *c, int vars,
                     struct pd_cond_trace *tr)
{
    const struct pd_ctx_key *k = pd_pol_ctx_find(c, cd->key, cd->keyhash);
    int present = k && k->n > 0;
    /* A value whose policy variable has no value (the key is missing, or multi-valued) is
     * "effectively null" (IAM guide, "Policy variables with no value"): no request value
     * equals or is like it, so positive operators do not match it and negated operators
     * (StringNotEquals, ArnNotLike, ...) do. match_one already reads an unresolved value as
     * matching nothing; nothing else is needed here (docs/policies.md, decisions table). */
    if (cd->op == COP_NULL) {
        /* "true": the key is absent (an empty list counts as absent); OR over values */
        for (uint32_t i = 0; i < cd->nv; i++) {
            int8_t b = cd->v[i].b;
            if ((b == 1 && !present) || (b == 0 && present))
                return 1;
        }
        return 0;
    }
    if (!present) {
        if (tr)
            note_missing(tr, cd->key_orig);
        if (cd->flags & PD_CF_IFEXISTS)
            return 1;
        if (cd->flags & PD_CF_FORALL)
            return 1;
        if (cd->flags & PD_CF_FORANY)
            return 0;
        unsigned pos;
        return negated(cd->op, &pos);
    }
    unsigned pos;
    int neg = negated(cd->op, &pos);
    int all = 1, any = 0, anym = 0;
    for (uint32_t r = 0; r < k->n; r++) {
        int m = 0;
        for (uint32_t i = 0; i < cd->nv && !m; i++)
            m = match_one(a, pos, &cd->v[i], &k->v[r], c, vars);
        int res = neg ? !m : m;
        if (m)
            anym = 1;
        if (res)
            any = 1;
        else
            all = 0;
    }
    if (cd->flags & PD_CF_FORALL)
        return all;
    if (cd->flags & PD_CF_FORANY)
        return any;
    /* single-valued operator: any pair matches (negated: none may match) */
    return neg ? !anym : anym;
}

int pd_pol_conditions(struct pd_arena *a, const struct pd_stmt *st, const struct pd_ctx *c,
                      int vars, struct pd_cond_trace *tr)
{
    int ok = 1;
    for (uint32_t i = 0; i < st->ncond; i++) {
        if (!eval_cond(a, &st->cond[i], c, vars, tr)) {
            if (tr && !tr->failed)
                tr->failed = &st->cond[i];
            ok = 0;
            if (!tr)
                return 0;
        }
    }
    return ok;
}

json_t *pd_ctx_to_json(const struct pd_ctx *c)
{
    json_t *o = json_object();
    for (size_t i = 0; c && i < c->n; i++) {
        const struct pd_ctx_key *k = &c->keys[i];
        if (k->n == 1) {
            json_object_set_new(o, k->name, json_stringn(k->v[0].s, k->v[0].len));
            continue;
        }
        json_t *arr = json_array();
        for (uint32_t j = 0; j < k->n; j++)
            json_array_append_new(arr, json_stringn(k->v[j].s, k->v[j].len));
        json_object_set_new(o, k->name, arr);
    }
    return o;
}
