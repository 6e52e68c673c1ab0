/*
 * regex.c - backtracking matcher for the Java-pattern subset in the service models.
 *
 * Owns the compiled form (nodes in the caller's arena). Parsing rejects what it does not know
 * rather than guess. Matching walks UTF-8 in place: greedy single-character repeats count
 * forward and step back one code point at a time, so a 2 MiB certificate body against
 * [\u0009...]+ needs no recursion per character; group repeats recurse per iteration and are
 * bounded by a depth cap and a step budget.
 */
#include "proto/regex.h"

#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"

enum ntype { N_CHAR, N_ANY, N_CLASS, N_GROUP, N_LOOK, N_BOL, N_EOL };

/* Class flags for the predefined classes. */
enum {
    C_W = 1 << 0, /* \w */
    C_NW = 1 << 1,
    C_D = 1 << 2, /* \d */
    C_ND = 1 << 3,
    C_S = 1 << 4, /* \s */
    C_NS = 1 << 5,
    C_PL = 1 << 6, /* \p{L} */
    C_PN = 1 << 7,
    C_PZ = 1 << 8,
    C_NPL = 1 << 9, /* \P{L} */
    C_NPN = 1 << 10,
    C_NPZ = 1 << 11,
};

struct crange {
    uint32_t lo, hi;
};

struct cls {
    struct crange *r;
    size_t n, cap;
    unsigned flags;
    int neg;
};

struct node {
    enum ntype type;
    uint32_t ch;        /* N_CHAR */
    struct cls *cls;    /* N_CLASS */
    struct node **alts; /* N_GROUP, N_LOOK: one sequence per alternative (NULL = empty) */
    size_t nalts;
    int neg;           /* N_LOOK: (?! ) */
    int min, max;      /* repeat bounds; max < 0 = unbounded */
    struct node *next; /* next in sequence */
};

struct pd_regex {
    struct node *root; /* a group with the top-level alternatives */
};

/* ---- parsing ---- */

struct parser {
    struct pd_arena *a;
    const char *p;
    int err;
    int depth;
};

static uint32_t utf8_next(const char *s, size_t n, size_t *pos)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = *pos;
    uint32_t c = u[i];
    size_t len = 1;
    if (c >= 0xF0) {
        len = 4;
        c &= 0x07;
    } else if (c >= 0xE0) {
        len = 3;
        c &= 0x0F;
    } else if (c >= 0xC0) {
        len = 2;
        c &= 0x1F;
    }
    if (i + len > n) { /* truncated: take the byte as is */
        *pos = i + 1;
        return u[i];
    }
    for (size_t k = 1; k < len; k++)
        c = (c << 6) | (u[i + k] & 0x3F);
    *pos = i + len;
    return c;
}

static void cls_add(struct parser *ps, struct cls *c, uint32_t lo, uint32_t hi)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        struct crange *nr = pd_arena_alloc(ps->a, ncap * sizeof *nr);
        if (c->n)
            memcpy(nr, c->r, c->n * sizeof *nr);
        c->r = nr;
        c->cap = ncap;
    }
    c->r[c->n].lo = lo;
    c->r[c->n].hi = hi;
    c->n++;
}

/* After a backslash: either a single code point (*OUT_cp, returns 0) or a predefined class
 * (returns its flag). Sets ps->err on unknown syntax. */
static unsigned parse_escape(struct parser *ps, uint32_t *OUT_cp)
{
    char e = *ps->p;
    if (!e) {
        ps->err = 1;
        return 0;
    }
    ps->p++;
    switch (e) {
    case 'w':
        return C_W;
    case 'W':
        return C_NW;
    case 'd':
        return C_D;
    case 'D':
        return C_ND;
    case 's':
        return C_S;
    case 'S':
        return C_NS;
    case 'p':
    case 'P': {
        char cat;
        if (ps->p[0] == '{' && ps->p[1] && ps->p[2] == '}')
            cat = ps->p[1], ps->p += 3;
        else if (ps->p[0] && ps->p[0] != '{')
            cat = ps->p[0], ps->p += 1;
        else {
            ps->err = 1;
            return 0;
        }
        unsigned f = cat == 'L' ? C_PL : cat == 'N' ? C_PN : cat == 'Z' ? C_PZ : 0;
        if (!f) {
            ps->err = 1;
            return 0;
        }
        return e == 'p' ? f : f << 3; /* C_PL << 3 == C_NPL, etc. */
    }
    case 'u': { /* exactly four hex digits, as Java reads \u10000 as \u1000 then '0' */
        uint32_t v = 0;
        for (int i = 0; i < 4; i++) {
            int h = pd_hexval(ps->p[i]);
            if (h < 0) {
                ps->err = 1;
                return 0;
            }
            v = v * 16 + (uint32_t)h;
        }
        ps->p += 4;
        *OUT_cp = v;
        return 0;
    }
    case 'x': {
        int h1 = pd_hexval(ps->p[0]), h2 = h1 >= 0 ? pd_hexval(ps->p[1]) : -1;
        if (h2 < 0) {
            ps->err = 1;
            return 0;
        }
        ps->p += 2;
        *OUT_cp = (uint32_t)(h1 * 16 + h2);
        return 0;
    }
    case 't':
        *OUT_cp = '\t';
        return 0;
    case 'n':
        *OUT_cp = '\n';
        return 0;
    case 'r':
        *OUT_cp = '\r';
        return 0;
    case 'f':
        *OUT_cp = '\f';
        return 0;
    case 'e':
        *OUT_cp = 0x1B;
        return 0;
    case 'a':
        *OUT_cp = 0x07;
        return 0;
    default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
            ps->err = 1; /* \b, \Q, back-references...: not in the subset */
            return 0;
        }
        *OUT_cp = (unsigned char)e;
        return 0;
    }
}

static uint32_t parse_literal_cp(struct parser *ps)
{
    size_t pos = 0, n = strnlen(ps->p, 4);
    uint32_t cp = utf8_next(ps->p, n, &pos);
    ps->p += pos;
    return cp;
}

static struct cls *parse_class(struct parser *ps)
{
    struct cls *c = pd_arena_zalloc(ps->a, sizeof *c);
    if (*ps->p == '^') {
        c->neg = 1;
        ps->p++;
    }
    int first = 1;
    while (*ps->p && (*ps->p != ']' || first)) {
        first = 0;
        uint32_t lo;
        if (*ps->p == '[' || (ps->p[0] == '&' && ps->p[1] == '&')) {
            ps->err = 1; /* unions and intersections: not in the subset */
            return c;
        }
        if (*ps->p == '\\') {
            ps->p++;
            unsigned f = parse_escape(ps, &lo);
            if (ps->err)
                return c;
            if (f) {
                c->flags |= f;
                continue;
            }
        } else {
            lo = parse_literal_cp(ps);
        }
        /* a range lo-hi, unless '-' is last in the class */
        if (ps->p[0] == '-' && ps->p[1] && ps->p[1] != ']') {
            ps->p++;
            uint32_t hi;
            if (*ps->p == '\\') {
                ps->p++;
                if (parse_escape(ps, &hi) || ps->err) {
                    ps->err = 1;
                    return c;
                }
            } else {
                hi = parse_literal_cp(ps);
            }
            if (hi < lo) {
                ps->err = 1;
                return c;
            }
            cls_add(ps, c, lo, hi);
        } else {
            cls_add(ps, c, lo, lo);
        }
    }
    if (*ps->p != ']')
        ps->err = 1;
    else
        ps->p++;
    return c;
}

static struct node *parse_alts(struct parser *ps, struct node *group);

static int parse_int(struct parser *ps, int *OUT)
{
    int v = 0, any = 0;
    while (*ps->p >= '0' && *ps->p <= '9') {
        v = v * 10 + (*ps->p - '0');
        if (v > 100000)
            return -1;
        ps->p++;
        any = 1;
    }
    *OUT = v;
    return any ? 0 : -1;
}

static void parse_quant(struct parser *ps, struct node *n)
{
    n->min = n->max = 1;
    char q = *ps->p;
    if (q == '*' || q == '+' || q == '?') {
        ps->p++;
        n->min = q == '+' ? 1 : 0;
        n->max = q == '?' ? 1 : -1;
    } else if (q == '{') {
        ps->p++;
        if (parse_int(ps, &n->min)) {
            ps->err = 1;
            return;
        }
        n->max = n->min;
        if (*ps->p == ',') {
            ps->p++;
            if (*ps->p == '}')
                n->max = -1;
            else if (parse_int(ps, &n->max) || n->max < n->min) {
                ps->err = 1;
                return;
            }
        }
        if (*ps->p != '}') {
            ps->err = 1;
            return;
        }
        ps->p++;
    } else {
        return;
    }
    if (*ps->p == '?' || *ps->p == '+')
        ps->err = 1; /* lazy and possessive repeats: not in the subset */
}

static struct node *parse_seq(struct parser *ps)
{
    struct node *head = NULL, **tail = &head;
    while (*ps->p && *ps->p != '|' && *ps->p != ')' && !ps->err) {
        struct node *n = pd_arena_zalloc(ps->a, sizeof *n);
        char ch = *ps->p;
        if (ch == '(') {
            ps->p++;
            n->type = N_GROUP;
            if (ps->p[0] == '?') {
                if (ps->p[1] == ':') {
                    ps->p += 2;
                } else if (ps->p[1] == '=' || ps->p[1] == '!') {
                    n->type = N_LOOK;
                    n->neg = ps->p[1] == '!';
                    ps->p += 2;
                } else {
                    ps->err = 1;
                    break;
                }
            }
            if (++ps->depth > 50) {
                ps->err = 1;
                break;
            }
            parse_alts(ps, n);
            ps->depth--;
            if (*ps->p != ')') {
                ps->err = 1;
                break;
            }
            ps->p++;
        } else if (ch == '[') {
            ps->p++;
            n->type = N_CLASS;
            n->cls = parse_class(ps);
        } else if (ch == '.') {
            ps->p++;
            n->type = N_ANY;
        } else if (ch == '^') {
            ps->p++;
            n->type = N_BOL;
        } else if (ch == '$') {
            ps->p++;
            n->type = N_EOL;
        } else if (ch == '\\') {
            ps->p++;
            uint32_t cp = 0;
            unsigned f = parse_escape(ps, &cp);
            if (f) {
                n->type = N_CLASS;
                n->cls = pd_arena_zalloc(ps->a, sizeof *n->cls);
                n->cls->flags = f;
            } else {
                n->type = N_CHAR;
                n->ch = cp;
            }
        } else if (ch == '*' || ch == '+' || ch == '?' || ch == '{' || ch == ']' || ch == '}') {
            ps->err = 1; /* quantifier with nothing to repeat, or a stray bracket */
            break;
        } else {
            n->type = N_CHAR;
            n->ch = parse_literal_cp(ps);
        }
        if (ps->err)
            break;
        if (n->type == N_BOL || n->type == N_EOL || n->type == N_LOOK) {
            n->min = n->max = 1;
        } else {
            parse_quant(ps, n);
        }
        *tail = n;
        tail = &n->next;
    }
    return head;
}

static struct node *parse_alts(struct parser *ps, struct node *group)
{
    size_t cap = 4;
    group->alts = pd_arena_alloc(ps->a, cap * sizeof *group->alts);
    group->nalts = 0;
    for (;;) {
        struct node *s = parse_seq(ps);
        if (group->nalts == cap) {
            struct node **na = pd_arena_alloc(ps->a, cap * 2 * sizeof *na);
            memcpy(na, group->alts, cap * sizeof *na);
            group->alts = na;
            cap *= 2;
        }
        group->alts[group->nalts++] = s;
        if (ps->err || *ps->p != '|')
            break;
        ps->p++;
    }
    return group;
}

int pd_regex_compile(struct pd_arena *a, const char *pattern, struct pd_regex **OUT)
{
    struct parser ps = {a, pattern, 0, 0};
    struct node *root = pd_arena_zalloc(a, sizeof *root);
    root->type = N_GROUP;
    root->min = root->max = 1;
    parse_alts(&ps, root);
    if (ps.err || *ps.p) /* a ')' without its '(' ends parsing early */
        return PD_EINVAL;
    struct pd_regex *re = pd_arena_alloc(a, sizeof *re);
    re->root = root;
    *OUT = re;
    return PD_OK;
}

/* ---- matching ---- */

enum ckind { K_SEQ, K_REP, K_ACCEPT };

struct cont {
    enum ckind kind;
    const struct node *node; /* K_SEQ: continue here; K_REP: the repeated group */
    int count;               /* K_REP: iterations done */
    size_t start;            /* K_REP: where the last iteration began */
    const struct cont *next;
};

struct mctx {
    const char *s;
    size_t n;
    long budget;
    int depth;
    int blown;
};

static int is_word(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
}

static int cls_has(const struct cls *c, uint32_t cp)
{
    int r = 0;
    for (size_t i = 0; i < c->n && !r; i++)
        r = cp >= c->r[i].lo && cp <= c->r[i].hi;
    unsigned f = c->flags;
    if (!r && f) {
        r = ((f & C_W) && is_word(cp)) || ((f & C_NW) && !is_word(cp)) ||
            ((f & C_D) && cp >= '0' && cp <= '9') || ((f & C_ND) && !(cp >= '0' && cp <= '9')) ||
            ((f & C_S) && is_space(cp)) || ((f & C_NS) && !is_space(cp)) ||
            ((f & C_PL) && pd_uniclass_is('L', cp)) || ((f & C_PN) && pd_uniclass_is('N', cp)) ||
            ((f & C_PZ) && pd_uniclass_is('Z', cp)) || ((f & C_NPL) && !pd_uniclass_is('L', cp)) ||
            ((f & C_NPN) && !pd_uniclass_is('N', cp)) || ((f & C_NPZ) && !pd_uniclass_is('Z', cp));
    }
    return c->neg ? !r : r;
}

static int atom_has(const struct node *n, uint32_t cp)
{
    switch (n->type) {
    case N_CHAR:
        return cp == n->ch;
    case N_ANY:
        return cp != '\n' && cp != '\r' && cp != 0x85 && cp != 0x2028 && cp != 0x2029;
    case N_CLASS:
        return cls_has(n->cls, cp);
    default:
        return 0;
    }
}

static size_t step_back(const char *s, size_t pos)
{
    do
        pos--;
    while (pos > 0 && ((unsigned char)s[pos] & 0xC0) == 0x80);
    return pos;
}

static int m(struct mctx *c, const struct node *n, size_t pos, const struct cont *k);

static int rep(struct mctx *c, const struct node *g, size_t pos, int count, size_t start,
               const struct cont *k)
{
    int more = (g->max < 0 || count < g->max) && (count < g->min || count == 0 || pos != start);
    if (more) {
        struct cont it = {K_REP, g, count + 1, pos, k};
        for (size_t i = 0; i < g->nalts; i++) {
            int r = m(c, g->alts[i], pos, &it);
            if (r)
                return r;
            if (c->blown)
                return 0;
        }
    }
    if (count >= g->min)
        return m(c, g->next, pos, k);
    return 0;
}

static int m(struct mctx *c, const struct node *n, size_t pos, const struct cont *k)
{
    if (--c->budget < 0 || c->depth > 20000) {
        c->blown = 1;
        return 0;
    }
    if (!n) {
        if (!k)
            return pos == c->n;
        switch (k->kind) {
        case K_ACCEPT:
            return 1;
        case K_SEQ:
            return m(c, k->node, pos, k->next);
        case K_REP: {
            c->depth++;
            int r = rep(c, k->node, pos, k->count, k->start, k->next);
            c->depth--;
            return r;
        }
        }
        return 0;
    }
    switch (n->type) {
    case N_CHAR:
    case N_ANY:
    case N_CLASS: {
        size_t p = pos;
        long cnt = 0;
        while ((n->max < 0 || cnt < n->max) && p < c->n) {
            size_t q = p;
            uint32_t cp = utf8_next(c->s, c->n, &q);
            if (!atom_has(n, cp))
                break;
            p = q;
            cnt++;
        }
        if (cnt < n->min)
            return 0;
        for (;;) {
            c->depth++;
            int r = m(c, n->next, p, k);
            c->depth--;
            if (r || c->blown)
                return r;
            if (cnt == n->min)
                return 0;
            p = step_back(c->s, p);
            cnt--;
        }
    }
    case N_GROUP: {
        c->depth++;
        int r = rep(c, n, pos, 0, pos, k);
        c->depth--;
        return r;
    }
    case N_LOOK: {
        struct cont acc = {K_ACCEPT, NULL, 0, 0, NULL};
        int found = 0;
        c->depth++;
        for (size_t i = 0; i < n->nalts && !found && !c->blown; i++)
            found = m(c, n->alts[i], pos, &acc);
        c->depth--;
        if (c->blown || found == n->neg)
            return 0;
        return m(c, n->next, pos, k);
    }
    case N_BOL:
        return pos == 0 ? m(c, n->next, pos, k) : 0;
    case N_EOL:
        return pos == c->n ? m(c, n->next, pos, k) : 0;
    }
    return 0;
}

int pd_regex_match(const struct pd_regex *re, const char *s, size_t n)
{
    struct mctx c = {s, n, 2000000, 0, 0};
    int r = m(&c, re->root, 0, NULL);
    if (c.blown)
        return -1;
    return r ? 1 : 0;
}
