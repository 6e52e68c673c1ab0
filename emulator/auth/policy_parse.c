/*
 * policy_parse.c - compile an IAM policy document: validate it as IAM does, pre-split every
 * pattern and pre-parse every condition value, and record where each statement sits in the
 * source text (the simulator reports statement positions).
 *
 * Owns: struct pd_policy and its arena. Validation follows the order IAM applies (as
 * observed by other emulators against AWS): JSON and element syntax, Version, legacy
 * parsing, Sid uniqueness, presence of actions/resources, resource and action formats. The
 * first failing check names the error. Must not: evaluate anything, do I/O.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/policy_int.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"

/* Error classes, in the order IAM checks them: the lowest class found wins. */
enum {
    E_NONE = 0,
    E_SYNTAX,
    E_PRINCIPAL_PROHIBITED,
    E_VERSION,
    E_LEGACY,
    E_SID_DUP,
    E_SID_CHARS,
    E_NO_ACTIONS,
    E_RESOURCE_PRESENCE,
    E_PRINCIPAL_PRESENCE,
    E_RESOURCE_FORMAT,
    E_ACTION_FORMAT,
    E_PRINCIPAL_INVALID,
    E_TRUST_ACTION,
};

struct cc {
    struct pd_policy *p;
    int cls;
    char msg[512];
};

static void fail(struct cc *c, int cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct cc *c, int cls, const char *fmt, ...)
{
    if (c->cls && c->cls <= cls)
        return;
    c->cls = cls;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
}

static int is_iam_kind(enum pd_policy_kind k)
{
    return k == PD_POLICY_INLINE || k == PD_POLICY_MANAGED || k == PD_POLICY_BOUNDARY ||
           k == PD_POLICY_SESSION || k == PD_POLICY_SCP;
}

/* ---- size ----------------------------------------------------------------------------- */

size_t pd_policy_size_nonws(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        if ((ch & 0xC0) == 0x80)
            continue; /* UTF-8 continuation byte: same character */
        n++;
    }
    return n;
}

/* ---- statement positions -------------------------------------------------------------- */

struct scan {
    const char *s;
    size_t n, i;
    unsigned line, col;
};

static void sc_adv(struct scan *sc)
{
    unsigned char ch = (unsigned char)sc->s[sc->i++];
    if (ch == '\n') {
        sc->line++;
        sc->col = 1;
    } else if ((ch & 0xC0) != 0x80) {
        sc->col++;
    }
}

static void sc_ws(struct scan *sc)
{
    while (sc->i < sc->n && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' || sc->s[sc->i] == '\n' ||
                             sc->s[sc->i] == '\r'))
        sc_adv(sc);
}

static void sc_string(struct scan *sc)
{
    sc_adv(sc); /* opening quote */
    while (sc->i < sc->n && sc->s[sc->i] != '"') {
        if (sc->s[sc->i] == '\\' && sc->i + 1 < sc->n)
            sc_adv(sc);
        sc_adv(sc);
    }
    if (sc->i < sc->n)
        sc_adv(sc);
}

/* Skip one JSON value (the text already parsed as JSON). Iterative: nesting depth is only
 * counted, so no document can make it recurse or stall. */
static void sc_value(struct scan *sc, int depth)
{
    (void)depth;
    sc_ws(sc);
    if (sc->i >= sc->n)
        return;
    char ch = sc->s[sc->i];
    if (ch == '"') {
        sc_string(sc);
        return;
    }
    if (ch != '{' && ch != '[') {
        while (sc->i < sc->n && !strchr(",]} \t\r\n:", sc->s[sc->i]))
            sc_adv(sc);
        return;
    }
    size_t nest = 0;
    while (sc->i < sc->n) {
        ch = sc->s[sc->i];
        if (ch == '"') {
            sc_string(sc);
            continue;
        }
        if (ch == '{' || ch == '[')
            nest++;
        else if (ch == '}' || ch == ']')
            nest--;
        sc_adv(sc);
        if (nest == 0)
            return;
    }
}

/* Record the brace positions of one statement object at the scan point. */
static void sc_stmt(struct scan *sc, struct pd_policy *p, size_t *k)
{
    sc_ws(sc);
    if (sc->i >= sc->n)
        return;
    if (sc->s[sc->i] != '{') {
        sc_value(sc, 1);
        return;
    }
    unsigned sl = sc->line, scol = sc->col;
    sc_value(sc, 1);
    /* the scan now stands just past '}' */
    if (*k < p->nst) {
        struct pd_stmt *st = &p->st[*k];
        st->sl = sl;
        st->sc = scol;
        st->el = sc->line;
        st->ec = sc->col - 1;
    }
    (*k)++;
}

static void scan_positions(struct pd_policy *p, const char *text, size_t len)
{
    struct scan sc = {text, len, 0, 1, 1};
    size_t k = 0;
    sc_ws(&sc);
    if (sc.i >= sc.n || text[sc.i] != '{')
        return;
    sc_adv(&sc);
    for (;;) {
        sc_ws(&sc);
        if (sc.i >= sc.n || text[sc.i] == '}')
            return;
        if (text[sc.i] == ',') {
            sc_adv(&sc);
            continue;
        }
        if (text[sc.i] != '"')
            return;
        size_t ks = sc.i + 1;
        sc_string(&sc);
        size_t kl = sc.i >= ks + 1 ? sc.i - ks - 1 : 0;
        int is_stmt = kl == 9 && memcmp(text + ks, "Statement", 9) == 0;
        sc_ws(&sc);
        if (sc.i < sc.n && text[sc.i] == ':')
            sc_adv(&sc);
        sc_ws(&sc);
        if (!is_stmt || sc.i >= sc.n) {
            sc_value(&sc, 1);
            continue;
        }
        if (text[sc.i] == '[') {
            sc_adv(&sc);
            for (;;) {
                sc_ws(&sc);
                if (sc.i >= sc.n)
                    return;
                if (text[sc.i] == ']') {
                    sc_adv(&sc);
                    break;
                }
                if (text[sc.i] == ',') {
                    sc_adv(&sc);
                    continue;
                }
                sc_stmt(&sc, p, &k);
            }
        } else {
            sc_stmt(&sc, p, &k);
        }
    }
}

/* ---- strings and variables ------------------------------------------------------------ */

/* Append src[0..n) to dst in matcher form (a literal backslash becomes "\\\\"). */
static size_t put_matcher(char *dst, const char *src, size_t n, int lower)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        if (lower && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        if (ch == '\\')
            dst[j++] = '\\';
        dst[j++] = ch;
    }
    return j;
}

/* Try to read "${...}" at s (s[0]=='$', s[1]=='{'). Returns the length consumed or 0 when it
 * is not a variable. *esc gets the escaped character for ${*} ${?} ${$}; otherwise key and
 * default are returned (default NULL when absent). */
static size_t read_var(struct pd_arena *a, const char *s, char *esc, const char **key,
                       size_t *keylen, const char **def)
{
    const char *close = strchr(s + 2, '}');
    if (!close)
        return 0;
    const char *in = s + 2;
    size_t n = (size_t)(close - in);
    *esc = 0;
    *def = NULL;
    if (n == 1 && (in[0] == '*' || in[0] == '?' || in[0] == '$')) {
        *esc = in[0];
        return n + 3;
    }
    const char *comma = memchr(in, ',', n);
    const char *kend = comma ? comma : close;
    while (kend > in && kend[-1] == ' ')
        kend--;
    const char *kstart = in;
    while (kstart < kend && *kstart == ' ')
        kstart++;
    if (kstart == kend)
        return 0;
    for (const char *q = kstart; q < kend; q++)
        if (*q == '$' || *q == '{' || *q == '\'' || *q == ' ')
            return 0;
    if (comma) {
        const char *d = comma + 1;
        while (d < close && *d == ' ')
            d++;
        const char *dend = close;
        while (dend > d && dend[-1] == ' ')
            dend--;
        if (dend - d < 2 || *d != '\'' || dend[-1] != '\'')
            return 0;
        *def = pd_arena_strndup(a, d + 1, (size_t)(dend - d - 2));
    }
    *key = kstart;
    *keylen = (size_t)(kend - kstart);
    return n + 3;
}

/* Compile a string value. vars: Version 2012-10-17 (variables and escapes are live). */
static void compile_str(struct pd_arena *a, const char *text, int vars, int lower,
                        struct pd_str *out)
{
    size_t n = strlen(text);
    memset(out, 0, sizeof *out);
    out->raw = pd_arena_strdup(a, text);
    char *m = pd_arena_alloc(a, n * 2 + 1);
    char *plain = pd_arena_alloc(a, n + 1);
    size_t mj = 0, pj = 0;
    struct pd_seg segs[64];
    uint32_t nsegs = 0;
    int has_var = 0;
    size_t seg_start = 0; /* in m */
    for (size_t i = 0; i < n;) {
        if (vars && text[i] == '$' && text[i + 1] == '{') {
            char esc;
            const char *key = NULL, *def = NULL;
            size_t kl = 0;
            size_t used = read_var(a, text + i, &esc, &key, &kl, &def);
            if (used && esc) {
                if (esc == '*' || esc == '?')
                    m[mj++] = '\\';
                m[mj++] = esc;
                plain[pj++] = esc;
                i += used;
                continue;
            }
            if (used && nsegs + 2 < 64) {
                if (mj > seg_start) {
                    segs[nsegs].var = 0;
                    segs[nsegs].text = pd_arena_strndup(a, m + seg_start, mj - seg_start);
                    segs[nsegs].len = (uint32_t)(mj - seg_start);
                    segs[nsegs].def = NULL;
                    segs[nsegs].orig = NULL;
                    nsegs++;
                }
                char *lk = pd_arena_strndup(a, key, kl);
                pd_lower(lk);
                segs[nsegs].var = 1;
                segs[nsegs].text = lk;
                segs[nsegs].len = (uint32_t)kl;
                segs[nsegs].hash = pd_pol_hash_lower(lk, kl);
                segs[nsegs].def = def;
                segs[nsegs].orig = pd_arena_strndup(a, key, kl);
                nsegs++;
                has_var = 1;
                i += used;
                seg_start = mj;
                continue;
            }
        }
        mj += put_matcher(m + mj, text + i, 1, lower);
        plain[pj++] = (lower && text[i] >= 'A' && text[i] <= 'Z') ? (char)(text[i] + 32) : text[i];
        i++;
    }
    m[mj] = '\0';
    plain[pj] = '\0';
    out->m = m;
    out->plain = plain;
    if (has_var) {
        if (mj > seg_start) {
            segs[nsegs].var = 0;
            segs[nsegs].text = pd_arena_strndup(a, m + seg_start, mj - seg_start);
            segs[nsegs].len = (uint32_t)(mj - seg_start);
            segs[nsegs].def = NULL;
            segs[nsegs].orig = NULL;
            nsegs++;
        }
        out->segs = pd_arena_alloc(a, nsegs * sizeof *out->segs);
        memcpy(out->segs, segs, nsegs * sizeof *out->segs);
        out->nsegs = nsegs;
    }
}

/* ---- element helpers ------------------------------------------------------------------ */

/* String or non-empty-or-empty list of strings. Returns count, or -1 on a type error. */
static int str_list(json_t *v, const char ***out, struct pd_arena *a)
{
    if (json_is_string(v)) {
        *out = pd_arena_alloc(a, sizeof **out);
        (*out)[0] = json_string_value(v);
        return 1;
    }
    if (!json_is_array(v))
        return -1;
    size_t n = json_array_size(v);
    *out = pd_arena_alloc(a, (n ? n : 1) * sizeof **out);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e))
            return -1;
        (*out)[i] = json_string_value(e);
    }
    return (int)n;
}

/* Condition value text: strings as is, numbers and booleans as IAM normalises them. */
static const char *cond_text(struct pd_arena *a, json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v))
        return pd_arena_printf(a, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return pd_arena_printf(a, "%.17g", json_real_value(v));
    return NULL;
}

static int parse_op(const char *name, unsigned *op, unsigned *flags)
{
    *flags = 0;
    if (strncmp(name, "ForAllValues:", 13) == 0) {
        *flags |= PD_CF_FORALL;
        name += 13;
    } else if (strncmp(name, "ForAnyValue:", 12) == 0) {
        *flags |= PD_CF_FORANY;
        name += 12;
    }
    size_t n = strlen(name);
    if (n > 8 && strcmp(name + n - 8, "IfExists") == 0) {
        *flags |= PD_CF_IFEXISTS;
        n -= 8;
    }
    for (unsigned i = 0; i < COP_COUNT; i++) {
        if (strlen(pd_pol_cop_name(i)) == n && strncmp(pd_pol_cop_name(i), name, n) == 0) {
            if (i == COP_NULL && (*flags & PD_CF_IFEXISTS))
                return -1; /* "NullIfExists" does not exist */
            *op = i;
            return 0;
        }
    }
    return -1;
}

static int is_date_op(unsigned op)
{
    return op >= COP_DATE_EQ && op <= COP_DATE_GE;
}

static int uses_vars(unsigned op)
{
    return op <= COP_STR_NLIKE || (op >= COP_ARN_EQ && op <= COP_ARN_NLIKE) || op == COP_BOOL;
}

static int all_digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Is v a valid "AWS" principal value? */
static int valid_aws_principal(const char *v)
{
    size_t n = strlen(v);
    if (strcmp(v, "*") == 0)
        return 1;
    if (n == 12 && all_digits(v, 12))
        return 1;
    if ((pd_has_prefix(v, "AIDA") || pd_has_prefix(v, "AROA")) && n >= 16 && n <= 32) {
        for (size_t i = 0; i < n; i++)
            if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9')))
                return 0;
        return 1;
    }
    if (strchr(v, '*') || strchr(v, '?'))
        return 0; /* only the bare "*" may be a wildcard */
    const char *p;
    if (pd_has_prefix(v, "arn:aws:"))
        p = v + 8;
    else if (pd_has_prefix(v, "arn:aws-cn:"))
        p = v + 11;
    else if (pd_has_prefix(v, "arn:aws-us-gov:"))
        p = v + 15;
    else
        return 0;
    int sts = 0;
    if (pd_has_prefix(p, "iam::"))
        p += 5;
    else if (pd_has_prefix(p, "sts::")) {
        p += 5;
        sts = 1;
    } else
        return 0;
    if (!all_digits(p, 12) || p[12] != ':')
        return 0;
    p += 13;
    if (!sts) {
        if (strcmp(p, "root") == 0)
            return 1;
        if ((pd_has_prefix(p, "user/") && p[5]) || (pd_has_prefix(p, "role/") && p[5]))
            return 1;
        return 0;
    }
    if (pd_has_prefix(p, "assumed-role/")) {
        const char *r = p + 13, *slash = strchr(r, '/');
        return slash && slash > r && slash[1];
    }
    if (pd_has_prefix(p, "federated-user/") && p[15])
        return 1;
    return 0;
}

static void compile_principal(struct cc *c, struct pd_stmt *st, json_t *v, const char *elem)
{
    struct pd_arena *a = &c->p->arena;
    int s3 = c->p->kind == PD_POLICY_RESOURCE;
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") != 0) {
            if (s3)
                fail(c, E_PRINCIPAL_INVALID, "Invalid principal in policy");
            else
                fail(c, E_PRINCIPAL_INVALID, "Invalid principal in policy: \"%s\"",
                     json_string_value(v));
            return;
        }
        st->pr = pd_arena_zalloc(a, sizeof *st->pr);
        st->pr[0].kind = PK_STAR;
        st->pr[0].value = "*";
        st->npr = 1;
        return;
    }
    if (!json_is_object(v)) {
        fail(c, E_SYNTAX, "Syntax errors in policy.");
        return;
    }
    size_t total = 0;
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        if (json_is_array(val))
            total += json_array_size(val);
        else
            total++;
    }
    st->pr = pd_arena_zalloc(a, (total ? total : 1) * sizeof *st->pr);
    json_object_foreach(v, k, val)
    {
        uint8_t kind;
        if (strcmp(k, "AWS") == 0)
            kind = PK_AWS;
        else if (strcmp(k, "Service") == 0)
            kind = PK_SERVICE;
        else if (strcmp(k, "Federated") == 0)
            kind = PK_FEDERATED;
        else if (strcmp(k, "CanonicalUser") == 0)
            kind = PK_CANONICAL;
        else {
            if (s3)
                fail(c, E_PRINCIPAL_INVALID, "Invalid principal in policy");
            else
                fail(c, E_PRINCIPAL_INVALID, "Invalid principal in policy: \"%s\"", k);
            continue;
        }
        const char **vals;
        int nv = str_list(val, &vals, a);
        if (nv < 0) {
            fail(c, E_SYNTAX, "Syntax errors in policy.");
            continue;
        }
        if (nv == 0)
            fail(c, E_PRINCIPAL_INVALID,
                 s3 ? "Invalid principal in policy" : "Invalid principal in policy: \"%s\"", k);
        for (int i = 0; i < nv; i++) {
            const char *pv = vals[i];
            int ok = *pv != '\0';
            if (kind == PK_AWS)
                ok = valid_aws_principal(pv);
            if (!ok) {
                if (s3)
                    fail(c, E_PRINCIPAL_INVALID, "Invalid principal in policy");
                else
                    fail(c, E_PRINCIPAL_INVALID, "Invalid principal in policy: \"%s\":\"%s\"", k,
                         pv);
            }
            st->pr[st->npr].kind = kind;
            st->pr[st->npr].value = pd_arena_strdup(a, pv);
            st->npr++;
        }
    }
    (void)elem;
}

static void check_resource_format(struct cc *c, const char *r)
{
    if (strcmp(r, "*") == 0)
        return;
    const char *colon = strchr(r, ':');
    if (!colon) {
        fail(c, E_RESOURCE_FORMAT,
             c->p->kind == PD_POLICY_RESOURCE ? "Policy has invalid resource"
                                              : "Resource %s must be in ARN format or \"*\".",
             r);
        return;
    }
    /* legacy parsing: an ARN-looking value needs all six fields */
    if (strstr(r, "::") && pd_has_prefix(r, "arn:")) {
        int colons = 0;
        for (const char *q = r; *q; q++)
            colons += *q == ':';
        if (colons < 5)
            fail(c, E_LEGACY, "The policy failed legacy parsing");
    }
    if (!pd_has_prefix(r, "arn:"))
        return;
    const char *part = r + 4, *pe = strchr(part, ':');
    if (!pe)
        return;
    size_t pl = (size_t)(pe - part);
    static const char *const parts[] = {"aws",       "aws-cn",    "aws-us-gov",
                                        "aws-iso",   "aws-iso-b", "aws-iso-e",
                                        "aws-iso-f", "aws-eusc",  "*"};
    int okp = 0;
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (strlen(parts[i]) == pl && strncmp(parts[i], part, pl) == 0)
            okp = 1;
    if (!okp) {
        if (c->p->kind == PD_POLICY_RESOURCE)
            fail(c, E_RESOURCE_FORMAT, "Policy has invalid resource");
        else
            fail(c, E_RESOURCE_FORMAT, "Partition \"%.*s\" is not valid for resource \"%s\".",
                 (int)pl, part, r);
        return;
    }
    const char *svc = pe + 1, *se = strchr(svc, ':');
    if (se && se - svc == 3 && strncmp(svc, "iam", 3) == 0 && se[1] != ':' && se[1] != '*')
        fail(c, E_RESOURCE_FORMAT, "IAM resource %s cannot contain region information.", r);
}

static void check_action_format(struct cc *c, const char *act)
{
    if (strcmp(act, "*") == 0)
        return;
    const char *colon = strchr(act, ':');
    if (!colon) {
        fail(c, E_ACTION_FORMAT,
             "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
        return;
    }
    if (strchr(colon + 1, ':')) {
        fail(c, E_ACTION_FORMAT, "Actions/Condition can contain only one colon.");
        return;
    }
    for (const char *q = act; q < colon; q++) {
        char ch = *q;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.' || ch == '*' || ch == '?')) {
            fail(c, E_ACTION_FORMAT, "Vendor %.*s is not valid", (int)(colon - act), act);
            return;
        }
    }
    if (colon == act)
        fail(c, E_ACTION_FORMAT,
             "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
}

static void compile_actions(struct cc *c, struct pd_stmt *st, const char **v, int n)
{
    struct pd_arena *a = &c->p->arena;
    st->act = pd_arena_zalloc(a, (n ? (size_t)n : 1) * sizeof *st->act);
    st->nact = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        const char *s = v[i];
        size_t len = strlen(s);
        check_action_format(c, s);
        if (c->p->kind == PD_POLICY_SCP || c->p->kind == PD_POLICY_RCP) {
            /* Organizations: a wildcard only alone or at the end ("s3:Get*", never
             * "s3:*Object" or "s3:Get*Tagging") */
            const char *w = strpbrk(s, "*?");
            if (w && w[1] != '\0')
                fail(c, E_ACTION_FORMAT,
                     "Action %s: a wildcard is allowed only alone or at the end", s);
        }
        if (c->p->kind == PD_POLICY_TRUST && strcmp(s, "*") != 0) {
            const char *colon = strchr(s, ':');
            if (colon && !pd_pol_glob(s, (size_t)(colon - s), "sts", 3, 1))
                fail(c, E_TRUST_ACTION,
                     "AssumeRole policy may only specify STS AssumeRole "
                     "actions.");
        }
        char *m = pd_arena_alloc(a, len * 2 + 1);
        size_t mj = put_matcher(m, s, len, 1);
        m[mj] = '\0';
        st->act[i].pat = m;
        const char *colon = strchr(s, ':');
        if (colon && !memchr(s, '*', (size_t)(colon - s)) && !memchr(s, '?', (size_t)(colon - s))) {
            char *svc = pd_arena_strndup(a, s, (size_t)(colon - s));
            pd_lower(svc);
            st->act[i].svc = svc;
            st->act[i].svclen = (uint32_t)(colon - s);
        }
    }
}

static void compile_condition(struct cc *c, struct pd_stmt *st, json_t *cond)
{
    struct pd_arena *a = &c->p->arena;
    if (!json_is_object(cond)) {
        fail(c, E_SYNTAX, "Syntax errors in policy.");
        return;
    }
    size_t total = 0;
    const char *opname;
    json_t *block;
    json_object_foreach(cond, opname, block)
    {
        if (!json_is_object(block)) {
            fail(c, E_SYNTAX, "Syntax errors in policy.");
            return;
        }
        total += json_object_size(block);
    }
    st->cond = pd_arena_zalloc(a, (total ? total : 1) * sizeof *st->cond);
    json_object_foreach(cond, opname, block)
    {
        unsigned op, flags;
        if (parse_op(opname, &op, &flags) != 0) {
            if (json_object_size(block) != 0)
                fail(c, E_SYNTAX, "Syntax errors in policy.");
            continue;
        }
        const char *key;
        json_t *vals;
        json_object_foreach(block, key, vals)
        {
            if (!strchr(key, ':'))
                fail(c, E_ACTION_FORMAT,
                     "Actions/Conditions must be prefaced by a vendor, "
                     "e.g., iam, sdb, ec2, etc.");
            struct pd_cond *cd = &st->cond[st->ncond++];
            cd->op = (uint8_t)op;
            cd->flags = (uint8_t)flags;
            cd->opname = pd_arena_strdup(a, opname);
            cd->key_orig = pd_arena_strdup(a, key);
            char *lk = pd_arena_strdup(a, key);
            pd_lower(lk);
            cd->key = lk;
            cd->keyhash = pd_pol_hash_lower(lk, strlen(lk));
            size_t nv = json_is_array(vals) ? json_array_size(vals) : 1;
            cd->v = pd_arena_zalloc(a, (nv ? nv : 1) * sizeof *cd->v);
            for (size_t i = 0; i < nv; i++) {
                json_t *e = json_is_array(vals) ? json_array_get(vals, i) : vals;
                const char *t = cond_text(a, e);
                if (!t) {
                    fail(c, E_SYNTAX, "Syntax errors in policy.");
                    continue;
                }
                struct pd_cval *cv = &cd->v[cd->nv++];
                int vars = c->p->vars && uses_vars(op);
                compile_str(a, t, vars, 0, &cv->s);
                size_t tl = strlen(t);
                cv->b = (int8_t)pd_pol_parse_bool(t, tl);
                double d;
                if (pd_pol_parse_number(t, tl, &d) == PD_OK) {
                    cv->num = d;
                    cv->num_ok = 1;
                }
                int64_t ms;
                if (pd_pol_parse_date(t, tl, &ms) == PD_OK) {
                    cv->date_ms = ms;
                    cv->date_ok = 1;
                } else if (is_date_op(op)) {
                    fail(c, E_LEGACY, "The policy failed legacy parsing");
                }
                if (op == COP_IP || op == COP_NOT_IP)
                    pd_pol_parse_cidr(t, tl, 1, &cv->ip);
                if (op == COP_BIN_EQ) {
                    unsigned char *bin;
                    size_t bl;
                    if (pd_base64_decode(a, t, tl, &bin, &bl) == PD_OK) {
                        cv->bin = bin;
                        cv->binlen = bl;
                        cv->bin_ok = 1;
                    }
                }
            }
        }
    }
}

static void compile_statement(struct cc *c, struct pd_stmt *st, json_t *js)
{
    struct pd_policy *p = c->p;
    struct pd_arena *a = &p->arena;
    if (!json_is_object(js)) {
        fail(c, E_SYNTAX, "Syntax errors in policy.");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(js, k, v)
    {
        if (strcmp(k, "Sid") && strcmp(k, "Effect") && strcmp(k, "Action") &&
            strcmp(k, "NotAction") && strcmp(k, "Resource") && strcmp(k, "NotResource") &&
            strcmp(k, "Condition") && strcmp(k, "Principal") && strcmp(k, "NotPrincipal"))
            fail(c, E_SYNTAX, "Syntax errors in policy.");
    }
    json_t *sid = json_object_get(js, "Sid"), *eff = json_object_get(js, "Effect");
    json_t *act = json_object_get(js, "Action"), *nact = json_object_get(js, "NotAction");
    json_t *res = json_object_get(js, "Resource"), *nres = json_object_get(js, "NotResource");
    json_t *pr = json_object_get(js, "Principal"), *npr = json_object_get(js, "NotPrincipal");
    json_t *cond = json_object_get(js, "Condition");

    if ((act && nact) || (res && nres) || (pr && npr))
        fail(c, E_SYNTAX, "Syntax errors in policy.");
    if (sid) {
        if (!json_is_string(sid))
            fail(c, E_SYNTAX, "Syntax errors in policy.");
        else
            st->sid = pd_arena_strdup(a, json_string_value(sid));
    }
    /* Effect: case-insensitive for the syntax check, case-sensitive for legacy parsing */
    if (!eff || !json_is_string(eff)) {
        fail(c, E_SYNTAX, "Syntax errors in policy.");
    } else {
        const char *e = json_string_value(eff);
        if (pd_strcaseeq(e, "Allow") || pd_strcaseeq(e, "Deny")) {
            if (strcmp(e, "Allow") && strcmp(e, "Deny"))
                fail(c, E_LEGACY, "The policy failed legacy parsing");
            st->deny = pd_strcaseeq(e, "Deny");
        } else {
            fail(c, E_SYNTAX, "Syntax errors in policy.");
        }
    }
    /* Principal */
    if (p->kind == PD_POLICY_RCP) {
        /* RCPs: "Principal": "*" and nothing else; conditions say who */
        if (npr)
            fail(c, E_PRINCIPAL_PRESENCE, "Has prohibited field NotPrincipal");
        else if (!pr)
            fail(c, E_PRINCIPAL_PRESENCE, "Missing required field Principal");
        if (pr) {
            st->has_principal = 1;
            compile_principal(c, st, pr, "Principal");
            for (uint32_t i = 0; i < st->npr; i++)
                if (st->pr[i].kind != PK_STAR &&
                    !(st->pr[i].kind == PK_AWS && strcmp(st->pr[i].value, "*") == 0))
                    fail(c, E_PRINCIPAL_INVALID, "Invalid principal in policy");
        }
    } else if (pr || npr) {
        if (is_iam_kind(p->kind))
            fail(c, E_PRINCIPAL_PROHIBITED, "Policy document should not specify a principal.");
        else if (npr && p->kind == PD_POLICY_TRUST)
            fail(c, E_PRINCIPAL_PRESENCE, "Has prohibited field NotPrincipal");
        st->has_principal = 1;
        st->not_principal = npr != NULL;
        compile_principal(c, st, pr ? pr : npr, pr ? "Principal" : "NotPrincipal");
    } else if (p->kind == PD_POLICY_RESOURCE || p->kind == PD_POLICY_TRUST) {
        fail(c, E_PRINCIPAL_PRESENCE, "Missing required field Principal");
    }
    /* Action */
    const char **list;
    int n;
    if (nact && p->kind == PD_POLICY_RCP)
        fail(c, E_SYNTAX, "Has prohibited field NotAction");
    if (act || nact) {
        n = str_list(act ? act : nact, &list, a);
        if (n < 0) {
            fail(c, E_SYNTAX, "Syntax errors in policy.");
        } else {
            if (n == 0)
                fail(c, E_NO_ACTIONS, "Policy statement must contain actions.");
            st->not_action = nact != NULL;
            compile_actions(c, st, list, n);
        }
    } else {
        fail(c, E_NO_ACTIONS, "Policy statement must contain actions.");
    }
    /* Resource */
    if (res || nres) {
        if (p->kind == PD_POLICY_TRUST)
            fail(c, E_RESOURCE_PRESENCE,
                 res ? "Has prohibited field Resource" : "Has prohibited field NotResource");
        n = str_list(res ? res : nres, &list, a);
        if (n < 0) {
            fail(c, E_SYNTAX, "Syntax errors in policy.");
        } else {
            if (n == 0 && p->kind != PD_POLICY_TRUST)
                fail(c, E_RESOURCE_PRESENCE, "Policy statement must contain resources.");
            st->not_resource = nres != NULL;
            st->res = pd_arena_zalloc(a, (n ? (size_t)n : 1) * sizeof *st->res);
            st->nres = (uint32_t)n;
            for (int i = 0; i < n; i++) {
                check_resource_format(c, list[i]);
                compile_str(a, list[i], p->vars, 0, &st->res[i]);
            }
        }
    } else if (p->kind != PD_POLICY_TRUST) {
        fail(c, E_RESOURCE_PRESENCE, "Policy statement must contain resources.");
    }
    if (cond)
        compile_condition(c, st, cond);
}

static int compile_doc(struct cc *c, json_t *doc, const char *text, size_t len)
{
    struct pd_policy *p = c->p;
    struct pd_arena *a = &p->arena;
    if (!json_is_object(doc)) {
        fail(c, E_SYNTAX, "Syntax errors in policy.");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v)
    {
        if (strcmp(k, "Version") && strcmp(k, "Id") && strcmp(k, "Statement"))
            fail(c, E_SYNTAX, "Syntax errors in policy.");
    }
    json_t *ver = json_object_get(doc, "Version"), *id = json_object_get(doc, "Id");
    json_t *stmts = json_object_get(doc, "Statement");
    if (ver) {
        if (!json_is_string(ver) || (strcmp(json_string_value(ver), "2012-10-17") &&
                                     strcmp(json_string_value(ver), "2008-10-17")))
            fail(c, E_SYNTAX, "Syntax errors in policy.");
        else
            p->vars = strcmp(json_string_value(ver), "2012-10-17") == 0;
    }
    if ((p->kind == PD_POLICY_MANAGED || p->kind == PD_POLICY_BOUNDARY ||
         p->kind == PD_POLICY_SCP || p->kind == PD_POLICY_RCP) &&
        !p->vars)
        fail(c, E_VERSION, "Policy document must be version 2012-10-17 or greater.");
    if (id && !json_is_string(id))
        fail(c, E_SYNTAX, "Syntax errors in policy.");
    if (!stmts || !(json_is_object(stmts) || json_is_array(stmts)) ||
        (json_is_array(stmts) && json_array_size(stmts) == 0)) {
        fail(c, E_SYNTAX, "Syntax errors in policy.");
        return -1;
    }
    p->nst = json_is_array(stmts) ? json_array_size(stmts) : 1;
    p->st = pd_arena_zalloc(a, p->nst * sizeof *p->st);
    for (size_t i = 0; i < p->nst; i++)
        compile_statement(c, &p->st[i], json_is_array(stmts) ? json_array_get(stmts, i) : stmts);
    /* Sids: unique when non-empty; managed policies allow only [0-9A-Za-z] */
    for (size_t i = 0; i < p->nst; i++) {
        const char *s = p->st[i].sid;
        if (!s || !*s)
            continue;
        for (size_t j = 0; j < i; j++)
            if (p->st[j].sid && strcmp(p->st[j].sid, s) == 0)
                fail(c, E_SID_DUP, "Statement IDs (SID) in a single policy must be unique.");
        if (p->kind == PD_POLICY_MANAGED || p->kind == PD_POLICY_BOUNDARY) {
            for (const char *q = s; *q; q++)
                if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
                      (*q >= 'A' && *q <= 'Z')))
                    fail(c, E_SID_CHARS,
                         "Statement IDs (SID) must be alpha-numeric. Check that "
                         "your input satisfies the regular expression "
                         "[0-9A-Za-z]*");
        }
    }
    if (!c->cls)
        scan_positions(p, text, len);
    return 0;
}

int pd_policy_compile(const char *text, size_t len, enum pd_policy_kind kind, char *errbuf,
                      size_t errlen, struct pd_policy **OUT_policy, const char **OUT_err)
{
    int rc = PD_OK;
    struct cc c;
    memset(&c, 0, sizeof c);
    *OUT_policy = NULL;
    if (OUT_err)
        *OUT_err = NULL;
    struct pd_policy *p = pd_xcalloc(1, sizeof *p);
    pd_arena_init(&p->arena);
    p->kind = kind;
    c.p = p;
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (kind == PD_POLICY_RESOURCE)
            fail(&c, E_SYNTAX, "Policies must be valid JSON and the first byte must be '{'");
        else
            fail(&c, E_SYNTAX, "Syntax errors in policy.");
    } else {
        compile_doc(&c, doc, text, len);
        json_decref(doc);
    }
    if (c.cls) {
        rc = PD_EINVAL;
        if (errbuf && errlen) {
            snprintf(errbuf, errlen, "%s", c.msg);
            if (OUT_err)
                *OUT_err = errbuf;
        }
        pd_policy_free(p);
        goto out;
    }
    *OUT_policy = p;
out:
    return rc;
}

void pd_policy_free(struct pd_policy *p)
{
    if (!p)
        return;
    pd_arena_cleanup(&p->arena);
    free(p);
}

size_t pd_policy_statement_count(const struct pd_policy *p)
{
    return p->nst;
}

const char *pd_policy_statement_sid(const struct pd_policy *p, size_t i)
{
    return i < p->nst ? p->st[i].sid : NULL;
}

int pd_policy_statement_deny(const struct pd_policy *p, size_t i)
{
    return i < p->nst && p->st[i].deny;
}

void pd_policy_statement_pos(const struct pd_policy *p, size_t i, unsigned *OUT_start_line,
                             unsigned *OUT_start_col, unsigned *OUT_end_line, unsigned *OUT_end_col)
{
    const struct pd_stmt *st = i < p->nst ? &p->st[i] : NULL;
    *OUT_start_line = st ? st->sl : 0;
    *OUT_start_col = st ? st->sc : 0;
    *OUT_end_line = st ? st->el : 0;
    *OUT_end_col = st ? st->ec : 0;
}

int pd_policy_each_principal(const struct pd_policy *p, pd_policy_principal_fn *fn, void *arg)
{
    static const char *const kinds[] = {"*", "AWS", "Service", "Federated", "CanonicalUser"};
    for (size_t i = 0; i < p->nst; i++) {
        const struct pd_stmt *st = &p->st[i];
        for (uint32_t j = 0; j < st->npr; j++) {
            int r = fn(arg, kinds[st->pr[j].kind], st->pr[j].value, st->not_principal);
            if (r)
                return r;
        }
    }
    return 0;
}

/* Variables of one compiled string, for pd_policy_each_context_key. */
static int str_keys(const struct pd_str *v, pd_policy_key_fn *fn, void *arg)
{
    for (uint32_t i = 0; i < v->nsegs; i++) {
        if (!v->segs[i].var)
            continue;
        int r = fn(arg, v->segs[i].orig);
        if (r)
            return r;
    }
    return 0;
}

int pd_policy_each_context_key(const struct pd_policy *p, pd_policy_key_fn *fn, void *arg)
{
    int r;
    for (size_t i = 0; i < p->nst; i++) {
        const struct pd_stmt *st = &p->st[i];
        for (uint32_t j = 0; j < st->nres; j++)
            if ((r = str_keys(&st->res[j], fn, arg)))
                return r;
        for (uint32_t j = 0; j < st->ncond; j++) {
            const struct pd_cond *cd = &st->cond[j];
            if ((r = fn(arg, cd->key_orig)))
                return r;
            for (uint32_t k = 0; k < cd->nv; k++)
                if ((r = str_keys(&cd->v[k].s, fn, arg)))
                    return r;
        }
    }
    return 0;
}
