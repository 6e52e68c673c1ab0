/*
 * awsauth.c - the aws-auth ConfigMap's YAML, read with libyaml (see awsauth.h).
 *
 * Two passes per data key: libyaml's events are built into a small tree (arena nodes, an
 * explicit stack bounded by PD_AWSAUTH_MAX_DEPTH, so no recursion on input), then the tree
 * is read as the authenticator reads its JSON conversion (YAML 1.1 plain scalars resolve to
 * null, booleans and numbers as gopkg.in/yaml.v2 resolves them; only strings are strings).
 */
#include "k8s/awsauth.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/str.h"
#include "crypto/hash.h"

#define MAX_NODES 200000

enum nkind { N_SCALAR, N_SEQ, N_MAP, N_ALIAS };

struct node {
    enum nkind kind;
    unsigned line;
    const char *s; /* scalar text (arena, NUL-terminated) */
    size_t n;
    int plain;          /* plain style (subject to resolution) */
    int str_tag;        /* explicitly tagged !!str */
    int has_nul;        /* the text holds a NUL byte ("\0" escape): never a usable string */
    struct node **kids; /* sequence: items; mapping: key, value, key, value, … */
    size_t nkids, cap;
};

struct parse {
    struct pd_arena *a;
    struct pd_awsauth *out;
    const char *key; /* data key being read */
    size_t issue_cap;
};

static void issue(struct parse *x, long index, unsigned line, int ignored, const char *reason)
{
    struct pd_awsauth *o = x->out;
    if (o->nissues >= PD_AWSAUTH_MAX_ISSUES) {
        o->issues_dropped++;
        return;
    }
    o->issues = pd_arena_grow(x->a, o->issues, o->nissues, &x->issue_cap, sizeof *o->issues);
    struct pd_awsauth_issue *i = &o->issues[o->nissues++];
    i->key = x->key;
    i->index = index;
    i->line = line;
    i->ignored = ignored;
    i->reason = reason;
}

/* ---- YAML text -> tree ---- */

static struct node *new_node(struct pd_arena *a, enum nkind k, const yaml_event_t *ev)
{
    struct node *n = pd_arena_zalloc(a, sizeof *n);
    n->kind = k;
    n->line = (unsigned)ev->start_mark.line + 1;
    return n;
}

static void add_kid(struct pd_arena *a, struct node *parent, struct node *kid)
{
    parent->kids = pd_arena_grow(a, parent->kids, parent->nkids, &parent->cap, sizeof *kid);
    parent->kids[parent->nkids++] = kid;
}

/* The first document of text as a tree; NULL with *OUT_err (arena text) on a YAML error or a
 * bound exceeded, NULL without error for an empty document. */
static struct node *build(struct pd_arena *a, const char *text, size_t len, const char **OUT_err)
{
    yaml_parser_t p;
    yaml_event_t ev;
    struct node *stack[PD_AWSAUTH_MAX_DEPTH];
    size_t depth = 0, nodes = 0;
    struct node *root = NULL;
    int done = 0;
    *OUT_err = NULL;
    if (!yaml_parser_initialize(&p)) {
        *OUT_err = "the YAML parser could not start";
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done && !*OUT_err) {
        if (!yaml_parser_parse(&p, &ev)) {
            *OUT_err = pd_arena_printf(a, "YAML error at line %lu: %s%s%s",
                                       (unsigned long)p.problem_mark.line + 1,
                                       p.problem ? p.problem : "invalid YAML", p.context ? " " : "",
                                       p.context ? p.context : "");
            break;
        }
        struct node *n = NULL;
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
            n = new_node(a, N_SCALAR, &ev);
            n->s = pd_arena_strndup(a, (const char *)ev.data.scalar.value, ev.data.scalar.length);
            n->n = ev.data.scalar.length;
            n->has_nul = strlen(n->s) != n->n;
            n->plain =
                ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && ev.data.scalar.plain_implicit;
            n->str_tag =
                ev.data.scalar.tag && strcmp((const char *)ev.data.scalar.tag, YAML_STR_TAG) == 0;
            break;
        case YAML_ALIAS_EVENT:
            n = new_node(a, N_ALIAS, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            n = new_node(a, N_SEQ, &ev);
            break;
        case YAML_MAPPING_START_EVENT:
            n = new_node(a, N_MAP, &ev);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth)
                depth--;
            break;
        case YAML_DOCUMENT_END_EVENT: /* the first document only, as yaml.Unmarshal reads */
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        if (n) {
            if (++nodes > MAX_NODES)
                *OUT_err = pd_arena_printf(a, "more than %d YAML nodes", MAX_NODES);
            else if (depth)
                add_kid(a, stack[depth - 1], n);
            else if (!root)
                root = n;
            if (!*OUT_err && (n->kind == N_SEQ || n->kind == N_MAP)) {
                if (depth == PD_AWSAUTH_MAX_DEPTH)
                    *OUT_err = pd_arena_printf(a, "YAML nested deeper than %d levels at line %u",
                                               PD_AWSAUTH_MAX_DEPTH, n->line);
                else
                    stack[depth++] = n;
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return *OUT_err ? NULL : root;
}

/* ---- YAML 1.1 plain scalars as gopkg.in/yaml.v2 resolves them ---- */

static int word_in(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return 1;
    return 0;
}

static int all_digits(const char *s, const char *set)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s != '_' && !strchr(set, *s))
            return 0;
    return 1;
}

/* Is plain text s an integer or a float in YAML 1.1 (as yaml.v2 reads it)? */
static int numeric(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (pd_has_prefix(p, "0b"))
        return all_digits(p + 2, "01");
    if (pd_has_prefix(p, "0x"))
        return all_digits(p + 2, "0123456789abcdefABCDEF");
    if (all_digits(p, "0123456789"))
        return 1;
    static const char *const special[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", NULL};
    if (word_in(p, special))
        return 1;
    /* [0-9]*(.[0-9]*)?([eE][-+]?[0-9]+)? with at least one digit */
    int digits = 0;
    while (isdigit((unsigned char)*p) || *p == '_')
        digits += *p++ != '_';
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p) || *p == '_')
            digits += *p++ != '_';
    }
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

enum sval { S_STRING, S_NULL, S_OTHER };

/* What a node is where a string is wanted. */
static enum sval string_of(const struct node *x)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const bools[] = {
        "y",    "Y",     "yes",   "Yes",   "YES", "n",  "N",  "no",  "No",  "NO",  "true", "True",
        "TRUE", "false", "False", "FALSE", "on",  "On", "ON", "off", "Off", "OFF", NULL};
    if (!x)
        return S_NULL;
    if (x->kind != N_SCALAR || x->has_nul)
        return S_OTHER;
    if (x->str_tag || !x->plain)
        return S_STRING;
    if (word_in(x->s, nulls))
        return S_NULL;
    if (word_in(x->s, bools) || numeric(x->s))
        return S_OTHER;
    return S_STRING;
}

static const char *kind_name(const struct node *x)
{
    switch (x->kind) {
    case N_SEQ:
        return "a list";
    case N_MAP:
        return "a mapping";
    case N_ALIAS:
        return "a YAML alias (podiam does not follow aliases)";
    default:
        return x->has_nul ? "a string holding a NUL byte" : "not a string";
    }
}

/* ---- tree -> entries ---- */

static void read_groups(struct parse *x, long index, const struct node *v,
                        struct pd_awsauth_line *l)
{
    if (!v || string_of(v) == S_NULL)
        return;
    if (v->kind != N_SEQ) {
        issue(x, index, v->line, 0,
              pd_arena_printf(x->a, "groups is %s, not a list: no groups are taken from it",
                              v->kind == N_SCALAR ? "a string" : kind_name(v)));
        return;
    }
    size_t cap = 0;
    for (size_t i = 0; i < v->nkids; i++) {
        const struct node *g = v->kids[i];
        if (string_of(g) != S_STRING || !*g->s) {
            issue(x, index, g->line, 0,
                  pd_arena_printf(x->a, "group %zu is %s: dropped", i + 1,
                                  string_of(g) == S_STRING ? "empty"
                                  : g->kind == N_SCALAR    ? "not a string"
                                                           : kind_name(g)));
            continue;
        }
        if (l->ngroups == PD_AWSAUTH_MAX_GROUPS) {
            issue(x, index, g->line, 0,
                  pd_arena_printf(x->a, "more than %d groups: the rest are dropped",
                                  PD_AWSAUTH_MAX_GROUPS));
            break;
        }
        l->groups = pd_arena_grow(x->a, l->groups, l->ngroups, &cap, sizeof *l->groups);
        l->groups[l->ngroups++] = g->s;
    }
}

/* A string field of an entry: the value, or NULL with an issue when it is not usable. */
static const char *string_field(struct parse *x, long index, const struct node *v,
                                const char *field)
{
    enum sval k = string_of(v);
    if (k == S_STRING && *v->s)
        return v->s;
    if (k == S_OTHER)
        issue(x, index, v->line, 1,
              pd_arena_printf(x->a, "%s is %s%s", field, kind_name(v),
                              v->kind == N_MAP ? " (a {{…}} template must be quoted)" : ""));
    return NULL;
}

static const char *path_of_role_arn(struct pd_arena *a, const char *arn)
{
    /* arn:P:iam::A:role/PATH/NAME — the part between "role/" and the last "/" */
    const char *r = strstr(arn, ":role/");
    if (!r)
        return NULL;
    r += 6;
    const char *last = strrchr(r, '/');
    if (!last)
        return NULL;
    return pd_arena_strndup(a, r - 1, (size_t)(last - r) + 2);
}

static int read_entry(struct parse *x, enum pd_awsauth_kind kind, long index, const struct node *e,
                      struct pd_awsauth_line *l)
{
    const char *arn_key = kind == PD_AWSAUTH_ROLE ? "rolearn" : "userarn";
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->index = (size_t)index;
    l->line = e->line;
    if (e->kind != N_MAP) {
        issue(x, index, e->line, 1,
              pd_arena_printf(x->a, "the entry is %s, not a mapping",
                              e->kind == N_SCALAR ? "a scalar" : kind_name(e)));
        return 0;
    }
    const struct node *arn = NULL, *user = NULL, *groups = NULL;
    for (size_t i = 0; i + 1 < e->nkids; i += 2) {
        const struct node *k = e->kids[i], *v = e->kids[i + 1];
        if (k->kind != N_SCALAR)
            continue;
        const struct node **slot = pd_strcaseeq(k->s, arn_key)      ? &arn
                                   : pd_strcaseeq(k->s, "username") ? &user
                                   : pd_strcaseeq(k->s, "groups")   ? &groups
                                                                    : NULL;
        if (!slot)
            continue; /* unknown fields are ignored, as JSON decoding ignores them */
        if (*slot)
            issue(x, index, k->line, 0,
                  pd_arena_printf(x->a, "%s is given twice: the last one counts", k->s));
        *slot = v;
    }
    if (arn && string_of(arn) == S_OTHER) {
        string_field(x, index, arn, arn_key);
        return 0;
    }
    l->arn = arn ? string_field(x, index, arn, arn_key) : NULL;
    if (!l->arn) {
        issue(x, index, e->line, 1, pd_arena_printf(x->a, "no %s", arn_key));
        return 0;
    }
    if (user && string_of(user) == S_OTHER) {
        string_field(x, index, user, "username");
        return 0;
    }
    l->username = user ? string_field(x, index, user, "username") : NULL;
    if (!l->username) {
        issue(x, index, e->line, 1,
              "no username (the authenticator would map it to an empty user name; podiam "
              "skips the entry)");
        return 0;
    }
    read_groups(x, index, groups, l);
    if (!pd_strncaseeq(l->arn, "arn:", 4))
        issue(x, index, e->line, 0,
              pd_arena_printf(x->a, "%s %s is not an ARN: it never matches", arn_key, l->arn));
    else if (kind == PD_AWSAUTH_ROLE) {
        const char *path = path_of_role_arn(x->a, l->arn);
        if (path)
            issue(x, index, e->line, 0,
                  pd_arena_printf(x->a,
                                  "rolearn has the path %s: EKS compares it with the role ARN "
                                  "of the session, which has no path, so it never matches",
                                  path));
    }
    return 1;
}

struct sortkey {
    const char *arn;
    size_t at;
};

static int by_arn(const void *pa, const void *pb)
{
    const struct sortkey *a = pa, *b = pb;
    int c = strcasecmp(a->arn, b->arn);
    if (c)
        return c;
    return a->at < b->at ? -1 : a->at > b->at;
}

/* Keep the last line of each ARN (case-insensitive), as the authenticator's map does. */
static void last_wins(struct parse *x, struct pd_awsauth_line *v, size_t *n)
{
    if (*n < 2)
        return;
    struct sortkey *k = pd_arena_alloc(x->a, *n * sizeof *k);
    char *drop = pd_arena_zalloc(x->a, *n);
    for (size_t i = 0; i < *n; i++) {
        k[i].arn = v[i].arn;
        k[i].at = i;
    }
    qsort(k, *n, sizeof *k, by_arn);
    for (size_t i = 0; i + 1 < *n; i++) {
        if (strcasecmp(k[i].arn, k[i + 1].arn) != 0)
            continue;
        const struct pd_awsauth_line *old = &v[k[i].at], *new = &v[k[i + 1].at];
        drop[k[i].at] = 1;
        issue(x, (long)old->index, old->line, 1,
              pd_arena_printf(x->a,
                              "replaced by entry %zu (line %u) for the same ARN: the "
                              "last line for an ARN counts",
                              new->index + 1, new->line));
    }
    size_t w = 0;
    for (size_t i = 0; i < *n; i++)
        if (!drop[i])
            v[w++] = v[i];
    *n = w;
}

static int skippable(const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p))
        p++, n--;
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    return n == 0 || (n == 2 && ((p[0] == '`' && p[1] == '`') || (p[0] == '"' && p[1] == '"')));
}

/* The list a key holds, or NULL (nothing to read, or an issue already said why). */
static const struct node *key_list(struct parse *x, struct pd_awsauth_text t)
{
    if (!t.p || skippable(t.p, t.n))
        return NULL;
    if (t.n > PD_AWSAUTH_MAX_TEXT) {
        issue(x, -1, 0, 1,
              pd_arena_printf(x->a, "larger than %d bytes: not read", PD_AWSAUTH_MAX_TEXT));
        return NULL;
    }
    const char *err;
    const struct node *root = build(x->a, t.p, t.n, &err);
    if (err) {
        issue(x, -1, 0, 1, err);
        return NULL;
    }
    if (!root || string_of(root) == S_NULL)
        return NULL;
    if (root->kind != N_SEQ) {
        issue(x, -1, root->line, 1,
              pd_arena_printf(x->a, "is %s, not a YAML list",
                              root->kind == N_SCALAR ? "a scalar" : kind_name(root)));
        return NULL;
    }
    return root;
}

static void read_map_key(struct parse *x, enum pd_awsauth_kind kind, struct pd_awsauth_text t,
                         struct pd_awsauth_line **OUT, size_t *OUT_n)
{
    const struct node *list = key_list(x, t);
    size_t n = 0, cap = 0;
    struct pd_awsauth_line *v = NULL;
    for (size_t i = 0; list && i < list->nkids; i++) {
        if (i == PD_AWSAUTH_MAX_ENTRIES) {
            issue(x, (long)i, list->kids[i]->line, 1,
                  pd_arena_printf(x->a, "more than %d entries: this one and the rest are not read",
                                  PD_AWSAUTH_MAX_ENTRIES));
            break;
        }
        struct pd_awsauth_line l;
        if (read_entry(x, kind, (long)i, list->kids[i], &l)) {
            v = pd_arena_grow(x->a, v, n, &cap, sizeof *v);
            v[n++] = l;
        }
    }
    last_wins(x, v, &n);
    *OUT = v;
    *OUT_n = n;
}

static void read_accounts(struct parse *x, struct pd_awsauth_text t)
{
    const struct node *list = key_list(x, t);
    size_t cap = 0;
    struct pd_awsauth *o = x->out;
    for (size_t i = 0; list && i < list->nkids; i++) {
        const struct node *e = list->kids[i];
        if (i == PD_AWSAUTH_MAX_ENTRIES) {
            issue(x, (long)i, e->line, 1,
                  pd_arena_printf(x->a, "more than %d entries: this one and the rest are not read",
                                  PD_AWSAUTH_MAX_ENTRIES));
            break;
        }
        if (e->kind != N_SCALAR) {
            issue(x, (long)i, e->line, 1,
                  pd_arena_printf(x->a, "the account is %s, not a scalar", kind_name(e)));
            continue;
        }
        if (string_of(e) == S_NULL)
            continue;
        if (e->has_nul) {
            issue(x, (long)i, e->line, 1, "the account holds a NUL byte");
            continue;
        }
        /* yaml.v2 gives a string field the scalar's text, numbers included */
        o->accounts = pd_arena_grow(x->a, o->accounts, o->naccounts, &cap, sizeof *o->accounts);
        o->accounts[o->naccounts++] = e->s;
    }
}

void pd_awsauth_parse(struct pd_arena *a, struct pd_awsauth_text map_roles,
                      struct pd_awsauth_text map_users, struct pd_awsauth_text map_accounts,
                      struct pd_awsauth *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->present = 1;
    struct parse x = {.a = a, .out = OUT};
    x.key = "mapRoles";
    read_map_key(&x, PD_AWSAUTH_ROLE, map_roles, &OUT->roles, &OUT->nroles);
    x.key = "mapUsers";
    read_map_key(&x, PD_AWSAUTH_USER, map_users, &OUT->users, &OUT->nusers);
    x.key = "mapAccounts";
    read_accounts(&x, map_accounts);
}

void pd_awsauth_parse_data(struct pd_arena *a, const json_t *data, struct pd_awsauth *OUT)
{
    if (!data) {
        memset(OUT, 0, sizeof *OUT);
        return;
    }
    static const char *const keys[] = {"mapRoles", "mapUsers", "mapAccounts"};
    struct pd_awsauth_text t[3] = {{0}};
    const char *bad[3] = {NULL};
    for (int i = 0; i < 3; i++) {
        const json_t *v = json_is_object(data) ? json_object_get(data, keys[i]) : NULL;
        if (json_is_string(v)) {
            t[i].p = json_string_value(v);
            t[i].n = json_string_length(v);
        } else if (v) {
            bad[i] = keys[i];
        }
    }
    pd_awsauth_parse(a, t[0], t[1], t[2], OUT);
    struct parse x = {.a = a, .out = OUT, .issue_cap = OUT->nissues};
    for (int i = 0; i < 3; i++) {
        if (!bad[i])
            continue;
        x.key = bad[i];
        issue(&x, -1, 0, 1, "the value is not a string");
    }
}

const char *pd_awsauth_issue_str(struct pd_arena *a, const struct pd_awsauth_issue *i)
{
    const char *what = i->ignored ? "ignored" : "warning";
    if (i->index < 0)
        return i->line ? pd_arena_printf(a, "aws-auth %s (line %u) %s: %s", i->key, i->line, what,
                                         i->reason)
                       : pd_arena_printf(a, "aws-auth %s %s: %s", i->key, what, i->reason);
    return pd_arena_printf(a, "aws-auth %s entry %ld (line %u) %s: %s", i->key, i->index + 1,
                           i->line, what, i->reason);
}

/* ---- cache ---- */

struct pd_awsauth_ref {
    char cluster[64];
    int64_t rv;
    unsigned char digest[PD_SHA256_LEN]; /* of the data parsed: a reset state may reuse rv */
    unsigned refs;                       /* holders (the cache's own slot counts as none) */
    int evicted;                         /* no longer in a slot: freed when refs drop to 0 */
    uint64_t used;                       /* last use tick */
    struct pd_arena a;                   /* owns everything in v */
    struct pd_awsauth v;
};

struct pd_awsauth_cache {
    pthread_mutex_t mu;
    struct pd_awsauth_ref **slots;
    size_t max;
    uint64_t tick;
    uint64_t parses;
};

struct pd_awsauth_cache *pd_awsauth_cache_new(size_t max)
{
    struct pd_awsauth_cache *c = pd_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->max = max ? max : 1;
    c->slots = pd_xcalloc(c->max, sizeof *c->slots);
    return c;
}

static void ref_free(struct pd_awsauth_ref *r)
{
    pd_arena_cleanup(&r->a);
    free(r);
}

void pd_awsauth_cache_free(struct pd_awsauth_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->max; i++)
        if (c->slots[i])
            ref_free(c->slots[i]);
    free(c->slots);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const struct pd_awsauth *pd_awsauth_cache_get(struct pd_awsauth_cache *c, const char *cluster,
                                              int64_t rv, const json_t *data,
                                              struct pd_awsauth_ref **OUT_ref)
{
    /* The key is cluster, resourceVersion and the data itself: a cluster made again under
     * the same id (seeded ids after a reset) counts its versions from the start again. */
    unsigned char digest[PD_SHA256_LEN];
    char *text = data ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    pd_sha256(text ? text : "", text ? strlen(text) : 0, digest);
    free(text);
    pthread_mutex_lock(&c->mu);
    size_t free_slot = c->max, victim = c->max;
    for (size_t i = 0; i < c->max; i++) {
        struct pd_awsauth_ref *r = c->slots[i];
        if (!r) {
            if (free_slot == c->max)
                free_slot = i;
            continue;
        }
        if (strcmp(r->cluster, cluster) == 0) {
            if (r->rv == rv && memcmp(r->digest, digest, sizeof digest) == 0) {
                r->refs++;
                r->used = ++c->tick;
                pthread_mutex_unlock(&c->mu);
                *OUT_ref = r;
                return &r->v;
            }
            victim = i; /* an older version of this cluster's map: replace it */
            free_slot = c->max;
            break;
        }
        if (victim == c->max || r->used < c->slots[victim]->used)
            victim = i;
    }
    pthread_mutex_unlock(&c->mu);

    /* Parse outside the lock; two threads may parse the same version, one result is kept. */
    struct pd_awsauth_ref *n = pd_xcalloc(1, sizeof *n);
    snprintf(n->cluster, sizeof n->cluster, "%s", cluster);
    n->rv = rv;
    memcpy(n->digest, digest, sizeof digest);
    n->refs = 1;
    pd_arena_init(&n->a);
    pd_awsauth_parse_data(&n->a, data, &n->v);

    pthread_mutex_lock(&c->mu);
    c->parses++;
    n->used = ++c->tick;
    size_t at = free_slot != c->max ? free_slot : victim;
    /* the slot chosen may have changed meanwhile; whatever is there is evicted */
    struct pd_awsauth_ref *old = at < c->max ? c->slots[at] : NULL;
    if (old) {
        old->evicted = 1;
        if (old->refs == 0)
            ref_free(old);
    }
    if (at < c->max)
        c->slots[at] = n;
    else
        n->evicted = 1; /* not cached: freed on release */
    pthread_mutex_unlock(&c->mu);
    *OUT_ref = n;
    return &n->v;
}

void pd_awsauth_cache_release(struct pd_awsauth_cache *c, struct pd_awsauth_ref *ref)
{
    if (!ref)
        return;
    pthread_mutex_lock(&c->mu);
    int gone = --ref->refs == 0 && ref->evicted;
    pthread_mutex_unlock(&c->mu);
    if (gone)
        ref_free(ref);
}

uint64_t pd_awsauth_cache_parses(struct pd_awsauth_cache *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t n = c->parses;
    pthread_mutex_unlock(&c->mu);
    return n;
}
