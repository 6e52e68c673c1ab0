/*
 * policy_eval.c - AWS policy evaluation logic over compiled policies, the optional trace,
 * and the AccessDenied message builder.
 *
 * Owns: the decision order of the IAM User Guide ("Policy evaluation logic", single account
 * and cross-account): explicit deny anywhere wins; the resource account's RCPs and the
 * caller's SCPs must allow at every level of the organization; within one account a
 * resource-policy Allow that names the caller's user or session ARN grants by itself, one
 * that names the role ARN (or the IAM user behind a federated session) is still limited by
 * the permissions boundary and session policies, one that names only the account needs the
 * identity side; across accounts both sides must allow; a role trust policy must allow by
 * itself. Must not: allocate from the heap on the fast path, touch JSON unless tracing.
 */
#include <stdio.h>
#include <string.h>

#include "auth/policy_int.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"

/* How strongly a resource-policy statement names the caller. */
enum { M_NONE = 0, M_ACCOUNT, M_ROLE, M_DIRECT };

/* Why a statement did not apply (trace). */
enum { W_MATCH = 0, W_ACTION, W_RESOURCE, W_PRINCIPAL, W_CONDITION };

struct ev {
    struct pd_arena *a;
    const struct pd_authz *req;
    const char *action; /* lower-cased */
    size_t alen;
    const char *svc; /* lower-cased service prefix of the action */
    size_t svclen;
    const char *resource;
    int trace;
    struct pd_cond_trace ct;
    struct pd_matched_stmt *matched;
    size_t nmatched, capmatched;
    json_t *jpolicies; /* trace: array for the current resource */
    const char *level; /* organization policies: the level being evaluated (trace) */
};

/* Result of evaluating one set of policies of one type. */
struct setres {
    int allow;    /* some Allow statement applied */
    int strength; /* resource policies: strongest naming of the caller among Allows */
    int deny;     /* some Deny statement applied */
    const struct pd_policy_ref *deny_ref;
    const struct pd_policy_ref *allow_ref; /* the first policy whose Allow applied */
};

/* ---- principal matching --------------------------------------------------------------- */

static int is_digits12(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return s[12] == '\0';
}

/* Account named by an AWS principal value ("123456789012" or "arn:P:iam::ACCT:root"), or
 * NULL. Writes into buf[13]. */
static const char *named_account(const char *v, char buf[13])
{
    if (is_digits12(v))
        return v;
    if (!pd_has_prefix(v, "arn:"))
        return NULL;
    const char *p = strchr(v + 4, ':');
    if (!p || !pd_has_prefix(p, ":iam::"))
        return NULL;
    p += 6;
    for (int i = 0; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return NULL;
    if (strcmp(p + 12, ":root") != 0)
        return NULL;
    memcpy(buf, p, 12);
    buf[12] = '\0';
    return buf;
}

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* Does the role-session unique id "AROA...:session" belong to role id v? */
static int role_id_match(const char *uid, const char *v)
{
    if (!uid)
        return 0;
    size_t n = strlen(v);
    return strncmp(uid, v, n) == 0 && (uid[n] == ':' || uid[n] == '\0');
}

/* Strength with which one principal entry names the caller. */
static int entry_match(const struct pd_princ *e, const struct pd_principal_id *w)
{
    char buf[13];
    switch (e->kind) {
    case PK_STAR:
        return M_DIRECT;
    case PK_SERVICE:
        return w->type == PD_PRINCIPAL_SERVICE && streq(e->value, w->service) ? M_DIRECT : M_NONE;
    case PK_FEDERATED:
        return w->type == PD_PRINCIPAL_WEB_IDENTITY && streq(e->value, w->federated) ? M_DIRECT
                                                                                     : M_NONE;
    case PK_CANONICAL:
        return streq(e->value, w->canonical) ? M_DIRECT : M_NONE;
    default:
        break;
    }
    const char *v = e->value;
    if (strcmp(v, "*") == 0)
        return M_DIRECT; /* {"AWS": "*"} is the same as "*" */
    const char *acct = named_account(v, buf);
    if (acct)
        return streq(acct, w->account) && w->type != PD_PRINCIPAL_ANONYMOUS &&
                       w->type != PD_PRINCIPAL_SERVICE && w->type != PD_PRINCIPAL_WEB_IDENTITY
                   ? M_ACCOUNT
                   : M_NONE;
    switch (w->type) {
    case PD_PRINCIPAL_USER:
        if (streq(v, w->arn) || streq(v, w->unique_id))
            return M_DIRECT;
        break;
    case PD_PRINCIPAL_ROLE_SESSION:
        if (streq(v, w->arn))
            return M_DIRECT;
        if (streq(v, w->role_arn) || (pd_has_prefix(v, "AROA") && role_id_match(w->unique_id, v)))
            return M_ROLE;
        break;
    case PD_PRINCIPAL_FEDERATED_USER:
        if (streq(v, w->arn))
            return M_DIRECT;
        if (streq(v, w->user_arn))
            return M_ROLE;
        break;
    case PD_PRINCIPAL_ROOT:
        if (streq(v, w->arn))
            return M_ACCOUNT;
        break;
    default:
        break;
    }
    return M_NONE;
}

/* Is one identity of the caller listed (NotPrincipal)? kind: 0 AWS value, 1 account,
 * 2 service, 3 federated, 4 anonymous. */
static int listed(const struct pd_stmt *st, int kind, const char *value)
{
    char buf[13];
    for (uint32_t i = 0; i < st->npr; i++) {
        const struct pd_princ *e = &st->pr[i];
        if (e->kind == PK_STAR || (e->kind == PK_AWS && strcmp(e->value, "*") == 0))
            return 1;
        if (!value)
            continue;
        if (kind == 1 && e->kind == PK_AWS) {
            const char *acct = named_account(e->value, buf);
            if (acct && strcmp(acct, value) == 0)
                return 1;
        } else if (kind == 0 && e->kind == PK_AWS && strcmp(e->value, value) == 0) {
            return 1;
        } else if (kind == 2 && e->kind == PK_SERVICE && strcmp(e->value, value) == 0) {
            return 1;
        } else if (kind == 3 && e->kind == PK_FEDERATED && strcmp(e->value, value) == 0) {
            return 1;
        }
    }
    return 0;
}

/* NotPrincipal: the caller escapes the statement only when every identity it carries (its
 * session ARN, role ARN, account...) is listed; the IAM guide tells to list the account and
 * the role together with the session for that reason. */
static int not_principal_excludes(const struct pd_stmt *st, const struct pd_principal_id *w)
{
    switch (w->type) {
    case PD_PRINCIPAL_ANONYMOUS:
        return listed(st, 4, NULL);
    case PD_PRINCIPAL_SERVICE:
        return listed(st, 2, w->service);
    case PD_PRINCIPAL_WEB_IDENTITY:
        return listed(st, 3, w->federated);
    case PD_PRINCIPAL_ROOT:
        return listed(st, 1, w->account) || listed(st, 0, w->arn);
    case PD_PRINCIPAL_USER:
        return (listed(st, 0, w->arn) || listed(st, 0, w->unique_id)) && listed(st, 1, w->account);
    case PD_PRINCIPAL_ROLE_SESSION:
        return listed(st, 0, w->arn) && listed(st, 0, w->role_arn) && listed(st, 1, w->account);
    case PD_PRINCIPAL_FEDERATED_USER:
        return listed(st, 0, w->arn) && listed(st, 1, w->account);
    }
    return 0;
}

/* ---- statement matching --------------------------------------------------------------- */

static int action_match(const struct ev *e, const struct pd_stmt *st)
{
    for (uint32_t i = 0; i < st->nact; i++) {
        const struct pd_action *ac = &st->act[i];
        if (ac->svc && (ac->svclen != e->svclen || memcmp(ac->svc, e->svc, e->svclen) != 0))
            continue;
        if (pd_pol_glob(ac->pat, strlen(ac->pat), e->action, e->alen, 1))
            return 1;
    }
    return 0;
}

static int resource_match(struct ev *e, const struct pd_stmt *st, int vars)
{
    for (uint32_t i = 0; i < st->nres; i++) {
        const struct pd_str *r = &st->res[i];
        const char *pat = vars ? pd_pol_resolve(e->a, r, e->req->ctx, 1) : r->m;
        if (!pat)
            continue; /* a policy variable with no value: this entry matches nothing */
        if (pat[0] == '*' && pat[1] == '\0')
            return 1;
        if (pd_pol_arn_match(pat, e->resource))
            return 1;
    }
    return 0;
}

/* Does the statement apply? Returns W_MATCH or the reason it does not; *strength gets how
 * the Principal element named the caller (M_DIRECT when the statement has none). */
static int stmt_applies(struct ev *e, const struct pd_policy *p, const struct pd_stmt *st,
                        int *strength)
{
    *strength = M_DIRECT;
    int am = action_match(e, st);
    if (st->not_action ? am : !am)
        return W_ACTION;
    if (st->nres || st->not_resource) {
        int rm = resource_match(e, st, p->vars);
        /* An entry whose policy variable has no value "will not match any resource" (IAM
         * guide, "Policy variables with no value"), in Resource and NotResource alike: in
         * NotResource such an entry excludes nothing. */
        if (st->not_resource ? rm : !rm)
            return W_RESOURCE;
    }
    if (st->has_principal) {
        const struct pd_principal_id *w = &e->req->who;
        if (st->not_principal) {
            /* the IAM guide: NotPrincipal with Deny always denies a principal that has a
             * permissions boundary, whatever it lists */
            int excluded = not_principal_excludes(st, w);
            if (st->deny && e->req->boundary)
                excluded = 0;
            if (excluded)
                return W_PRINCIPAL;
            *strength = M_DIRECT;
        } else {
            int best = M_NONE;
            for (uint32_t i = 0; i < st->npr && best < M_DIRECT; i++) {
                int m = entry_match(&st->pr[i], w);
                if (m > best)
                    best = m;
            }
            if (best == M_NONE)
                return W_PRINCIPAL;
            *strength = best;
        }
    }
    if (st->ncond && !pd_pol_conditions(e->a, st, e->req->ctx, p->vars, e->trace ? &e->ct : NULL))
        return W_CONDITION;
    return W_MATCH;
}

/* ---- trace ---------------------------------------------------------------------------- */

static const char *const why_names[] = {"matched", "action", "resource", "principal", "condition"};

static json_t *cond_json(const struct pd_cond *cd, const struct pd_ctx *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "operator", json_string(cd->opname));
    json_object_set_new(o, "key", json_string(cd->key_orig));
    json_t *pv = json_array();
    for (uint32_t i = 0; i < cd->nv; i++)
        json_array_append_new(pv, json_string(cd->v[i].s.raw));
    json_object_set_new(o, "values", pv);
    const struct pd_ctx_key *k = pd_pol_ctx_find(c, cd->key, cd->keyhash);
    if (k) {
        json_t *cv = json_array();
        for (uint32_t i = 0; i < k->n; i++)
            json_array_append_new(cv, json_stringn(k->v[i].s, k->v[i].len));
        json_object_set_new(o, "context", cv);
    } else {
        json_object_set_new(o, "context", json_null());
    }
    return o;
}

static void add_matched(struct ev *e, const struct pd_policy_ref *ref, enum pd_ptype t, size_t idx,
                        const struct pd_stmt *st)
{
    if (e->nmatched == e->capmatched) {
        size_t cap = e->capmatched ? e->capmatched * 2 : 8;
        struct pd_matched_stmt *n = pd_arena_alloc(e->a, cap * sizeof *n);
        if (e->nmatched)
            memcpy(n, e->matched, e->nmatched * sizeof *n);
        e->matched = n;
        e->capmatched = cap;
    }
    struct pd_matched_stmt *m = &e->matched[e->nmatched++];
    m->ref = ref;
    m->ptype = t;
    m->index = idx;
    m->deny = st->deny;
    m->start_line = st->sl;
    m->start_col = st->sc;
    m->end_line = st->el;
    m->end_col = st->ec;
}

/* ---- policy sets ---------------------------------------------------------------------- */

static void eval_policy(struct ev *e, const struct pd_policy_ref *ref, enum pd_ptype t,
                        struct setres *r)
{
    const struct pd_policy *p = ref->policy;
    json_t *jst = NULL, *jp = NULL;
    size_t other_actions = 0;
    if (e->trace) {
        jp = json_object();
        json_object_set_new(jp, "id", json_string(ref->id ? ref->id : ""));
        json_object_set_new(jp, "type", json_string(pd_ptype_name(t)));
        json_object_set_new(jp, "source", json_string(pd_psource_name(ref->source)));
        if (e->level)
            json_object_set_new(jp, "level", json_string(e->level));
        jst = json_array();
        json_object_set_new(jp, "statements", jst);
        json_array_append_new(e->jpolicies, jp);
    }
    for (size_t i = 0; i < p->nst; i++) {
        const struct pd_stmt *st = &p->st[i];
        /* fast path: once allowed (as strongly as possible), only Deny statements matter */
        if (!e->trace && !st->deny && r->allow && (t != PD_PT_RESOURCE || r->strength == M_DIRECT))
            continue;
        int strength;
        e->ct.failed = NULL;
        int why = stmt_applies(e, p, st, &strength);
        /* A statement about other actions is only counted: in a real account most are, and
         * listing them would bury the few that explain the decision (and cost a JSON object
         * each on every request). */
        if (e->trace && why == W_ACTION)
            other_actions++;
        else if (e->trace) {
            json_t *js = json_object();
            json_object_set_new(js, "index", json_integer((json_int_t)i));
            if (st->sid)
                json_object_set_new(js, "sid", json_string(st->sid));
            json_object_set_new(js, "effect", json_string(st->deny ? "Deny" : "Allow"));
            json_object_set_new(js, "matched", json_boolean(why == W_MATCH));
            if (why != W_MATCH)
                json_object_set_new(js, "reason", json_string(why_names[why]));
            if (why == W_CONDITION && e->ct.failed)
                json_object_set_new(js, "condition", cond_json(e->ct.failed, e->req->ctx));
            json_array_append_new(jst, js);
        }
        if (why != W_MATCH)
            continue;
        if (e->trace)
            add_matched(e, ref, t, i, st);
        if (st->deny) {
            if (!r->deny)
                r->deny_ref = ref;
            r->deny = 1;
            if (!e->trace)
                return;
        } else {
            if (!r->allow)
                r->allow_ref = ref;
            r->allow = 1;
            if (strength > r->strength)
                r->strength = strength;
        }
    }
    if (jp)
        json_object_set_new(jp, "otherActions", json_integer((json_int_t)other_actions));
}

static void eval_set(struct ev *e, const struct pd_policy_ref *refs, size_t n, enum pd_ptype t,
                     struct setres *r)
{
    for (size_t i = 0; i < n; i++) {
        if (!refs[i].policy)
            continue;
        eval_policy(e, &refs[i], t, r);
        if (r->deny && !e->trace)
            return;
    }
}

/* Organization policies of one type, level by level (root first). */
struct orgres {
    int deny;                             /* a Deny applied at some level */
    const struct pd_policy_ref *deny_ref; /* its policy */
    const char *deny_level;
    int allow;                 /* every level had an applicable Allow */
    const char *missing_level; /* the first level without one */
    /* trace: per level (root first), the first policy whose Allow applied, or NULL */
    const struct pd_policy_ref **allow_refs;
    const struct pd_org_level *lv;
    size_t n;
};

static void eval_levels(struct ev *e, const struct pd_org_level *lv, size_t n, enum pd_ptype t,
                        struct orgres *o)
{
    memset(o, 0, sizeof *o);
    o->allow = 1;
    o->lv = lv;
    o->n = n;
    if (e->trace && n)
        o->allow_refs = pd_arena_zalloc(e->a, n * sizeof *o->allow_refs);
    for (size_t i = 0; i < n; i++) {
        struct setres one = {0};
        e->level = lv[i].target;
        eval_set(e, lv[i].policies, lv[i].n, t, &one);
        if (o->allow_refs)
            o->allow_refs[i] = one.allow_ref;
        if (one.deny && !o->deny) {
            o->deny = 1;
            o->deny_ref = one.deny_ref;
            o->deny_level = lv[i].target;
        }
        if (!one.allow && o->allow) {
            o->allow = 0;
            o->missing_level = lv[i].target;
        }
        if (o->deny && !e->trace)
            break;
    }
    e->level = NULL;
}

/* Trace: what one type of organization policy decided. */
static json_t *org_json(const struct orgres *o)
{
    const char *d = o->deny ? "explicitDeny" : o->allow ? "allowed" : "implicitDeny";
    json_t *j = json_pack("{s:s}", "decision", d);
    if (o->deny) {
        json_object_set_new(j, "level", json_string(o->deny_level));
        json_object_set_new(j, "policy",
                            json_string(o->deny_ref && o->deny_ref->id ? o->deny_ref->id : ""));
    } else if (!o->allow) {
        json_object_set_new(j, "level", json_string(o->missing_level));
    }
    /* each level with the policy whose Allow applied there (null: none did) */
    if (o->allow_refs) {
        json_t *levels = json_array();
        for (size_t i = 0; i < o->n; i++) {
            const struct pd_policy_ref *ar = o->allow_refs[i];
            json_array_append_new(levels, json_pack("{s:s, s:s?}", "level", o->lv[i].target,
                                                    "allowedBy", ar && ar->id ? ar->id : NULL));
        }
        json_object_set_new(j, "levels", levels);
    }
    return j;
}

/* ---- the decision --------------------------------------------------------------------- */

static int is_session(const struct pd_principal_id *w)
{
    return w->type == PD_PRINCIPAL_ROLE_SESSION || w->type == PD_PRINCIPAL_FEDERATED_USER;
}

struct one {
    enum pd_decision d;
    enum pd_ptype by;
    const struct pd_policy_ref *deny_ref;
    int boundary_allowed;
    int scp_allowed, rcp_allowed; /* -1: none given */
    const char *org_level;        /* the level behind an SCP or RCP decision */
    json_t *jorg;                 /* trace: {"serviceControl": ..., "resourceControl": ...} */
};

static void decide(struct ev *e, struct one *o)
{
    const struct pd_authz *q = e->req;
    const struct pd_principal_id *w = &q->who;
    int trust = (q->flags & PD_AUTHZ_TRUST) != 0;
    enum pd_ptype rtype = trust ? PD_PT_TRUST : PD_PT_RESOURCE;
    struct setres scp = {0}, rcp = {0}, res = {0}, id = {0}, bnd = {0}, ses = {0};
    struct orgres org_scp, org_rcp;

    memset(o, 0, sizeof *o);
    o->boundary_allowed = q->boundary ? 0 : -1;

    /* 1. every policy is looked at for an applicable Deny; the organization's first: the
     * resource account's RCPs, then the caller account's SCPs, each level by level */
    eval_levels(e, q->rcp_levels, q->nrcp_levels, PD_PT_RCP, &org_rcp);
    memset(&org_scp, 0, sizeof org_scp);
    org_scp.allow = 1;
    if (!org_rcp.deny || e->trace)
        eval_levels(e, q->scp_levels, q->nscp_levels, PD_PT_SCP, &org_scp);
    rcp.deny = org_rcp.deny;
    rcp.deny_ref = org_rcp.deny_ref;
    scp.deny = org_scp.deny;
    scp.deny_ref = org_scp.deny_ref;
    o->rcp_allowed = q->nrcp_levels ? (org_rcp.allow && !org_rcp.deny) : -1;
    o->scp_allowed = q->nscp_levels ? (org_scp.allow && !org_scp.deny) : -1;
    if (e->trace && (q->nrcp_levels || q->nscp_levels)) {
        o->jorg = json_object();
        if (q->nscp_levels)
            json_object_set_new(o->jorg, "serviceControl", org_json(&org_scp));
        if (q->nrcp_levels)
            json_object_set_new(o->jorg, "resourceControl", org_json(&org_rcp));
    }
    /* without a trace, the first explicit deny ends the look */
#define PD_DENIED (!e->trace && (rcp.deny || scp.deny || res.deny || id.deny || bnd.deny))
    if (q->resource_policy && !PD_DENIED)
        eval_set(e, q->resource_policy, 1, rtype, &res);
    if (!PD_DENIED)
        eval_set(e, q->identity, q->nidentity, PD_PT_IDENTITY, &id);
    if (q->boundary && !PD_DENIED)
        eval_set(e, q->boundary, 1, PD_PT_BOUNDARY, &bnd);
    if (!PD_DENIED)
        eval_set(e, q->session, q->nsession, PD_PT_SESSION, &ses);
#undef PD_DENIED
    if (q->boundary)
        o->boundary_allowed = bnd.allow && !bnd.deny;

    struct {
        struct setres *s;
        enum pd_ptype t;
    } order[] = {{&rcp, PD_PT_RCP},     {&scp, PD_PT_SCP},      {&res, rtype},
                 {&id, PD_PT_IDENTITY}, {&bnd, PD_PT_BOUNDARY}, {&ses, PD_PT_SESSION}};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        if (order[i].s->deny) {
            o->d = PD_DECISION_EXPLICIT_DENY;
            o->by = order[i].t;
            o->deny_ref = order[i].s->deny_ref;
            if (order[i].t == PD_PT_RCP)
                o->org_level = org_rcp.deny_level;
            else if (order[i].t == PD_PT_SCP)
                o->org_level = org_scp.deny_level;
            return;
        }
    }

    /* 2. The organization must allow at every level: the RCPs of the resource's account (for
     * every caller, anonymous ones too), then the SCPs of the caller's account (its root user
     * included). */
    if (q->nrcp_levels && !org_rcp.allow) {
        o->d = PD_DECISION_IMPLICIT_DENY;
        o->by = PD_PT_RCP;
        o->org_level = org_rcp.missing_level;
        return;
    }
    if (q->nscp_levels && !org_scp.allow) {
        o->d = PD_DECISION_IMPLICIT_DENY;
        o->by = PD_PT_SCP;
        o->org_level = org_scp.missing_level;
        return;
    }

    /* Callers with no identity side: anonymous, service and web-identity principals. Only a
     * resource (or trust) policy can let them in. */
    if (w->type == PD_PRINCIPAL_ANONYMOUS || w->type == PD_PRINCIPAL_SERVICE ||
        w->type == PD_PRINCIPAL_WEB_IDENTITY) {
        o->d = res.allow ? PD_DECISION_ALLOW : PD_DECISION_IMPLICIT_DENY;
        o->by = rtype;
        return;
    }

    /* 3. A role trust policy must allow on its own. */
    if (trust && !res.allow) {
        o->d = PD_DECISION_IMPLICIT_DENY;
        o->by = PD_PT_TRUST;
        return;
    }

    int same = !q->resource_account || streq(q->resource_account, w->account);
    int root = w->type == PD_PRINCIPAL_ROOT;
    int id_ok = root || id.allow;
    int bnd_ok = root || !q->boundary || bnd.allow;
    int ses_ok;
    if (root || !is_session(w))
        ses_ok = 1;
    else if (q->nsession)
        ses_ok = ses.allow;
    else
        ses_ok = w->type == PD_PRINCIPAL_ROLE_SESSION; /* a federated user needs one */

    if (same && res.allow) {
        /* IAM guide, "Resource-based policies" (same account): an Allow naming the user ARN,
         * the role session ARN or the federated user session ARN grants directly and is not
         * limited by implicit denies in identity policies, the boundary or session policies.
         * We follow that documentation for role sessions even though one public simulator
         * (iam-simulate) lets a session policy's implicit deny win: the guide's text is
         * explicit. A Principal "*" names every caller, so it counts as a direct grant. */
        if (res.strength == M_DIRECT) {
            o->d = PD_DECISION_ALLOW;
            o->by = rtype;
            return;
        }
        /* Naming the role ARN (or the IAM user behind a federated session): still limited
         * by implicit denies in the boundary and the session policy, not by identity
         * policies. */
        if (res.strength == M_ROLE) {
            if (!bnd_ok) {
                o->d = PD_DECISION_IMPLICIT_DENY;
                o->by = PD_PT_BOUNDARY;
            } else if (!ses_ok) {
                o->d = PD_DECISION_IMPLICIT_DENY;
                o->by = PD_PT_SESSION;
            } else {
                o->d = PD_DECISION_ALLOW;
                o->by = rtype;
            }
            return;
        }
        /* Naming only the account delegates to the account's identity policies. */
    }

    /* 4-6. identity policies, then the boundary, then session policies */
    if (!id_ok) {
        o->d = PD_DECISION_IMPLICIT_DENY;
        o->by = PD_PT_IDENTITY;
        return;
    }
    if (!bnd_ok) {
        o->d = PD_DECISION_IMPLICIT_DENY;
        o->by = PD_PT_BOUNDARY;
        return;
    }
    if (!ses_ok) {
        o->d = PD_DECISION_IMPLICIT_DENY;
        o->by = PD_PT_SESSION;
        return;
    }
    /* Cross-account: the resource's account must allow too (its resource policy must name
     * the caller or its account). A trust policy was already required above. */
    if (!same && !res.allow) {
        o->d = PD_DECISION_IMPLICIT_DENY;
        o->by = rtype;
        return;
    }
    o->d = PD_DECISION_ALLOW;
    o->by = (same || trust) ? (root ? PD_PT_NONE : PD_PT_IDENTITY) : rtype;
    if (trust)
        o->by = PD_PT_TRUST;
}

int pd_policy_authorize(struct pd_arena *a, const struct pd_authz *req, struct pd_authz_result *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->boundary_allowed = -1;
    OUT->scp_allowed = OUT->rcp_allowed = -1;
    if (!req->action || !*req->action)
        return PD_EINVAL;
    struct ev e;
    memset(&e, 0, sizeof e);
    e.a = a;
    e.req = req;
    e.trace = (req->flags & PD_AUTHZ_TRACE) != 0;
    e.ct.a = a;

    size_t al = strlen(req->action);
    char stackbuf[256];
    char *act = al < sizeof stackbuf ? stackbuf : pd_arena_alloc(a, al + 1);
    for (size_t i = 0; i <= al; i++) {
        char ch = req->action[i];
        act[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    e.action = act;
    e.alen = al;
    const char *colon = memchr(act, ':', al);
    e.svc = act;
    e.svclen = colon ? (size_t)(colon - act) : al;

    static const char *const star[] = {"*"};
    const char *const *res = req->nresources ? req->resources : star;
    size_t nres = req->nresources ? req->nresources : 1;

    json_t *jt = NULL, *jevals = NULL;
    if (e.trace) {
        jt = json_object();
        json_object_set_new(jt, "action", json_string(req->action));
        json_object_set_new(jt, "caller", json_string(req->who.arn ? req->who.arn : "anonymous"));
        jevals = json_array();
    }
    enum pd_decision worst = PD_DECISION_ALLOW;
    for (size_t i = 0; i < nres; i++) {
        struct one o;
        e.resource = res[i];
        if (e.trace)
            e.jpolicies = json_array();
        decide(&e, &o);
        if (e.trace) {
            json_t *je = json_object();
            json_object_set_new(je, "resource", json_string(res[i]));
            json_object_set_new(je, "decision", json_string(pd_decision_name(o.d)));
            json_object_set_new(je, "decidedBy", json_string(pd_ptype_name(o.by)));
            if (o.org_level)
                json_object_set_new(je, "level", json_string(o.org_level));
            if (o.jorg)
                json_object_set_new(je, "organizations", o.jorg);
            json_object_set_new(je, "policies", e.jpolicies);
            json_array_append_new(jevals, je);
        }
        int rank_new = o.d == PD_DECISION_EXPLICIT_DENY ? 2 : (o.d == PD_DECISION_ALLOW ? 0 : 1);
        int rank_old =
            worst == PD_DECISION_EXPLICIT_DENY ? 2 : (worst == PD_DECISION_ALLOW ? 0 : 1);
        if (i == 0 || rank_new > rank_old) {
            worst = o.d;
            OUT->decided_by = o.by;
            OUT->deny_ref = o.deny_ref;
            OUT->resource = res[i];
            OUT->org_level = o.org_level;
        }
        if (o.scp_allowed >= 0 && (OUT->scp_allowed < 0 || o.scp_allowed < OUT->scp_allowed))
            OUT->scp_allowed = o.scp_allowed;
        if (o.rcp_allowed >= 0 && (OUT->rcp_allowed < 0 || o.rcp_allowed < OUT->rcp_allowed))
            OUT->rcp_allowed = o.rcp_allowed;
        if (o.boundary_allowed >= 0 &&
            (OUT->boundary_allowed < 0 || o.boundary_allowed < OUT->boundary_allowed))
            OUT->boundary_allowed = o.boundary_allowed;
        if (o.d == PD_DECISION_EXPLICIT_DENY && !e.trace)
            break;
    }
    OUT->decision = worst;
    if (e.trace) {
        OUT->matched = e.matched;
        OUT->nmatched = e.nmatched;
        OUT->missing = e.ct.missing;
        OUT->nmissing = e.ct.nmissing;
        json_object_set_new(jt, "decision", json_string(pd_decision_name(worst)));
        json_object_set_new(jt, "decidedBy", json_string(pd_ptype_name(OUT->decided_by)));
        if (OUT->boundary_allowed >= 0)
            json_object_set_new(jt, "boundaryAllowed", json_boolean(OUT->boundary_allowed));
        if (OUT->org_level)
            json_object_set_new(jt, "level", json_string(OUT->org_level));
        if (OUT->deny_ref && OUT->deny_ref->id &&
            (OUT->decided_by == PD_PT_SCP || OUT->decided_by == PD_PT_RCP))
            json_object_set_new(jt, "policy", json_string(OUT->deny_ref->id));
        json_t *jm = json_array();
        for (size_t i = 0; i < e.ct.nmissing; i++)
            json_array_append_new(jm, json_string(e.ct.missing[i]));
        json_object_set_new(jt, "missingContextValues", jm);
        json_object_set_new(jt, "evaluations", jevals);
        OUT->trace = jt;
    }
    return PD_OK;
}

enum pd_decision pd_policy_eval_one(struct pd_arena *a, const struct pd_policy *p,
                                    const char *action, const char *resource,
                                    const struct pd_principal_id *who, const struct pd_ctx *ctx)
{
    struct pd_authz q;
    memset(&q, 0, sizeof q);
    q.action = action;
    if (who)
        q.who = *who;
    q.ctx = ctx;
    struct pd_policy_ref ref = {p, NULL, PD_SRC_NONE};
    struct ev e;
    memset(&e, 0, sizeof e);
    e.a = a;
    e.req = &q;
    size_t al = strlen(action);
    char *act = pd_arena_strdup(a, action);
    pd_lower(act);
    e.action = act;
    e.alen = al;
    const char *colon = strchr(act, ':');
    e.svc = act;
    e.svclen = colon ? (size_t)(colon - act) : al;
    e.resource = resource ? resource : "*";
    struct setres r = {0};
    eval_policy(&e, &ref, PD_PT_IDENTITY, &r);
    if (r.deny)
        return PD_DECISION_EXPLICIT_DENY;
    return r.allow ? PD_DECISION_ALLOW : PD_DECISION_IMPLICIT_DENY;
}

/* ---- names and messages --------------------------------------------------------------- */

const char *pd_decision_name(enum pd_decision d)
{
    switch (d) {
    case PD_DECISION_ALLOW:
        return "allowed";
    case PD_DECISION_EXPLICIT_DENY:
        return "explicitDeny";
    default:
        return "implicitDeny";
    }
}

const char *pd_ptype_name(enum pd_ptype t)
{
    switch (t) {
    case PD_PT_IDENTITY:
        return "identity-based";
    case PD_PT_RESOURCE:
        return "resource-based";
    case PD_PT_BOUNDARY:
        return "permissions boundary";
    case PD_PT_SESSION:
        return "session";
    case PD_PT_TRUST:
        return "role trust";
    case PD_PT_SCP:
        return "service control";
    case PD_PT_RCP:
        return "resource control";
    default:
        return "";
    }
}

const char *pd_psource_name(enum pd_psource s)
{
    switch (s) {
    case PD_SRC_USER_INLINE:
        return "user";
    case PD_SRC_GROUP_INLINE:
        return "group";
    case PD_SRC_ROLE_INLINE:
        return "role";
    case PD_SRC_CUSTOMER_MANAGED:
        return "user-managed";
    case PD_SRC_AWS_MANAGED:
        return "aws-managed";
    case PD_SRC_RESOURCE:
        return "resource";
    default:
        return "none";
    }
}

char *pd_policy_denial_message(struct pd_arena *a, const char *caller, const char *action,
                               const char *resource, int quote_resource, enum pd_decision decision,
                               enum pd_ptype by, const char *policy_arn)
{
    const char *q = quote_resource ? "\"" : "";
    char *head = resource ? pd_arena_printf(a,
                                            "User: %s is not authorized to perform: %s on "
                                            "resource: %s%s%s",
                                            caller ? caller : "anonymous", action, q, resource, q)
                          : pd_arena_printf(a, "User: %s is not authorized to perform: %s",
                                            caller ? caller : "anonymous", action);
    if (by == PD_PT_NONE)
        by = PD_PT_IDENTITY;
    /* "permissions boundary" is a noun on its own; the other types take "policy" */
    const char *noun = by == PD_PT_BOUNDARY ? "" : " policy";
    if (decision == PD_DECISION_EXPLICIT_DENY) {
        const char *art = by == PD_PT_IDENTITY ? "an" : "a";
        return pd_arena_printf(a, "%s with an explicit deny in %s %s%s%s%s", head, art,
                               pd_ptype_name(by), noun, policy_arn ? ": " : "",
                               policy_arn ? policy_arn : "");
    }
    return pd_arena_printf(a, "%s because no %s%s allows the %s action", head, pd_ptype_name(by),
                           noun, action);
}
