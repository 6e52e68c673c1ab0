/*
 * policy_int.h - compiled policy form shared by policy_parse.c, policy_cond.c and
 * policy_eval.c. Not for use outside emulator/auth/policy*.c (and the policy unit tests).
 *
 * Strings that take part in wildcard matching are kept in "matcher form": '*' and '?' are
 * wildcards and '\\' makes the next byte literal, so the escapes ${*} ${?} ${$} and values
 * substituted for policy variables can never turn into wildcards.
 */
#ifndef PD_AUTH_POLICY_INT_H
#define PD_AUTH_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "auth/policy.h"

/* Condition operators (base operator; IfExists and set prefixes are flags). */
enum pd_cop {
    COP_STR_EQ = 0,
    COP_STR_NE,
    COP_STR_EQ_IC,
    COP_STR_NE_IC,
    COP_STR_LIKE,
    COP_STR_NLIKE,
    COP_NUM_EQ,
    COP_NUM_NE,
    COP_NUM_LT,
    COP_NUM_LE,
    COP_NUM_GT,
    COP_NUM_GE,
    COP_DATE_EQ,
    COP_DATE_NE,
    COP_DATE_LT,
    COP_DATE_LE,
    COP_DATE_GT,
    COP_DATE_GE,
    COP_BOOL,
    COP_BIN_EQ,
    COP_IP,
    COP_NOT_IP,
    COP_ARN_EQ,
    COP_ARN_LIKE,
    COP_ARN_NE,
    COP_ARN_NLIKE,
    COP_NULL,
    COP_COUNT
};

#define PD_CF_IFEXISTS 1u
#define PD_CF_FORALL 2u
#define PD_CF_FORANY 4u

/* One piece of a string with policy variables. */
struct pd_seg {
    const char *text; /* TEXT: matcher-form text; VAR: lower-cased key name */
    uint32_t len;
    uint32_t hash;    /* VAR: hash of the key name */
    const char *def;  /* VAR: default value (raw), or NULL */
    const char *orig; /* VAR: the key name as written (GetContextKeys* report it) */
    uint8_t var;      /* 1: a variable */
};

/* A compiled string value (Resource entry or string/ARN condition value). */
struct pd_str {
    const char *raw;     /* as written */
    const char *m;       /* matcher form (no variables), NUL-terminated */
    const char *plain;   /* literal value with escapes resolved (no variables) */
    struct pd_seg *segs; /* non-NULL when the value holds policy variables */
    uint32_t nsegs;
};

struct pd_cidr {
    uint8_t fam;  /* 4 or 6; 0 = invalid */
    uint8_t bits; /* prefix length */
    uint8_t addr[16];
};

/* A condition value with every reading the operator may need, parsed at compile time. */
struct pd_cval {
    struct pd_str s;
    double num;
    int64_t date_ms;
    struct pd_cidr ip;
    unsigned char *bin;
    size_t binlen;
    int8_t b; /* Bool/Null: 1 true, 0 false, -1 not a boolean */
    uint8_t num_ok, date_ok, bin_ok;
};

struct pd_cond {
    uint8_t op;         /* enum pd_cop */
    uint8_t flags;      /* PD_CF_* */
    const char *opname; /* as written ("ForAnyValue:StringLike") */
    const char *key;    /* lower-cased */
    const char *key_orig;
    uint32_t keyhash;
    struct pd_cval *v;
    uint32_t nv;
};

struct pd_action {
    const char *pat; /* lower-cased matcher form of "svc:name" or "*" */
    const char *svc; /* lower-cased service prefix when it has no wildcard, else NULL */
    uint32_t svclen;
};

enum pd_pkind { PK_STAR = 0, PK_AWS, PK_SERVICE, PK_FEDERATED, PK_CANONICAL };

struct pd_princ {
    uint8_t kind; /* enum pd_pkind */
    const char *value;
};

struct pd_stmt {
    const char *sid;
    uint8_t deny;
    uint8_t not_action, not_resource, not_principal, has_principal;
    struct pd_action *act;
    uint32_t nact;
    struct pd_str *res;
    uint32_t nres;
    struct pd_princ *pr;
    uint32_t npr;
    struct pd_cond *cond;
    uint32_t ncond;
    unsigned sl, sc, el, ec; /* source position of the statement braces */
};

struct pd_policy {
    struct pd_arena arena; /* owns everything below */
    enum pd_policy_kind kind;
    int vars; /* Version 2012-10-17: policy variables are live */
    struct pd_stmt *st;
    size_t nst;
};

/* A context value. Its typed readings are parsed on first use (pd_pol_ctx_prepare): building
 * a context stays cheap and a request pays only for the operators its policies use. The
 * cache is written through a const context, which is fine because a context belongs to one
 * request on one thread. */
struct pd_ctx_val {
    const char *s;
    size_t len;
    double num;
    int64_t date_ms;
    struct pd_cidr ip;
    int8_t b; /* 1/0, -1 not a boolean */
    uint8_t num_ok, date_ok;
    uint8_t parsed; /* readings below s/len are valid */
    uint8_t binary; /* raw bytes: no typed readings */
};

void pd_pol_ctx_prepare(const struct pd_ctx_val *v);

struct pd_ctx_key {
    const char *name; /* lower-cased */
    uint32_t hash;
    struct pd_ctx_val *v;
    uint32_t n, cap;
};

/* --- helpers shared between the policy files --- */

uint32_t pd_pol_hash_lower(const char *s, size_t n); /* FNV-1a over ASCII-lower-cased bytes */
const struct pd_ctx_key *pd_pol_ctx_find(const struct pd_ctx *c, const char *lkey, uint32_t hash);

/* Wildcard match of value against a matcher-form pattern; ci: ASCII case-insensitive. */
int pd_pol_glob(const char *pat, size_t plen, const char *s, size_t slen, int ci);
/* ARN-aware match: both split at the first five colons, each field matched with pd_pol_glob;
 * a pattern with fewer fields lets its last field match the rest. A value that is not an
 * ARN is matched as a whole string. */
int pd_pol_arn_match(const char *pat, const char *s);

int pd_pol_parse_cidr(const char *s, size_t n, int allow_prefix, struct pd_cidr *OUT);
int pd_pol_cidr_contains(const struct pd_cidr *net, const struct pd_cidr *ip);
int pd_pol_parse_number(const char *s, size_t n, double *OUT);
int pd_pol_parse_date(const char *s, size_t n, int64_t *OUT_ms);
int pd_pol_parse_bool(const char *s, size_t n); /* 1, 0, or -1 */

/* Resolve a string value for a request. mode 0: plain text (equality), 1: matcher form.
 * Returns the text (arena or static) or NULL when a variable is unresolved. */
const char *pd_pol_resolve(struct pd_arena *a, const struct pd_str *s, const struct pd_ctx *c,
                           int matcher);

/* Trace hooks filled by the condition evaluator. */
struct pd_cond_trace {
    struct pd_arena *a;
    const char **missing; /* grows; keys the context lacked */
    size_t nmissing, capmissing;
    const struct pd_cond *failed; /* first condition that was false */
};

/* Evaluate every condition of a statement (AND). tr may be NULL (fast path). */
int pd_pol_conditions(struct pd_arena *a, const struct pd_stmt *st, const struct pd_ctx *c,
                      int vars, struct pd_cond_trace *tr);

const char *pd_pol_cop_name(unsigned op);

#endif
