/*
 * iam_simulate.c - the IAM policy simulator: SimulateCustomPolicy and SimulatePrincipalPolicy,
 * answered by the policy engine (auth/policy.h) in the shape AWS gives them.
 *
 * What AWS does and this file follows (docs/policies.md gives the sources):
 *  - one EvaluationResult per action; its top-level fields are the aggregate over the
 *    resources (the most restrictive decision), and ResourceArns, when given, adds one
 *    ResourceSpecificResult per resource;
 *  - the context is what ContextEntries supplies and nothing else (the simulator fills no
 *    global keys); MissingContextValues lists every key the simulated policies refer to that
 *    the entries lack, whatever the action (GetContextKeysFor*Policy's list);
 *  - MatchedStatements: the Allow statements that applied when allowed, the Deny statements
 *    when explicitly denied, none when implicitly denied; SourcePolicyId "PolicyInputList.N",
 *    "PermissionsBoundaryPolicyInputList.1", "ResourcePolicy" or a stored policy's name;
 *    SourcePolicyType "IAM Policy" / "Resource Policy", the values the service sends (the
 *    model's enum is not what comes back); positions as AWS's JSON reader reports them;
 *  - CallerArn must be an IAM user; it defaults to PolicySourceArn when that is a user, and a
 *    ResourcePolicy needs one; cross-account evaluation happens only with a ResourcePolicy,
 *    whose owner is ResourceOwner or else the caller's account;
 *  - the SCPs of the simulated principal's account take part, as the simulator's reference
 *    says ("evaluates statements in identity-based policies, service control policies"),
 *    and OrganizationsDecisionDetail says whether they allowed, when that account is in an
 *    organization; RCPs do not (the simulator does not evaluate them); SCP statements are not
 *    listed in MatchedStatements (the model has no source type for them).
 * Owns nothing beyond the request: input documents are compiled here and freed before the
 * handler returns. Must not: change state.
 */
#include <string.h>

#include "auth/authz.h"
#include "auth/orgs.h"
#include "auth/policy.h"
#include "core/arena.h"
#include "core/arn.h"
#include "core/err.h"
#include "core/str.h"
#include "env.h"
#include "services/iam/iam_internal.h"
#include "services/iam/iam_simulate.h"

#define SRC_IAM "IAM Policy"
#define SRC_RESOURCE "Resource Policy"
#define INVALID_CALLER "Invalid caller - Caller must be an IAM user in this context."

/* One simulated document: its text (positions are reported against it) and compiled form. */
struct sdoc {
    const char *text;
    struct pd_policy *p; /* owned */
};

struct sim {
    struct pd_req *r;
    struct pd_policy_ref *ids; /* identity policies (arena array) */
    struct sdoc *idd;          /* parallel to ids */
    size_t nid, capid;
    struct pd_policy_ref bnd; /* .policy NULL: no permissions boundary */
    struct sdoc bndd;
    struct pd_policy_ref res; /* .policy NULL: no resource policy */
    struct sdoc resd;
    int trust; /* the resource policy is a role trust policy (no Resource element) */
    struct pd_ctx ctx;
    struct pd_principal_id who;
    const char *caller_account;
    const char *resource_account; /* NULL: same account (no resource policy) */
    json_t *missing;              /* MissingContextValues (array of strings) */
    const char *source_role_arn;  /* SimulatePrincipalPolicy of a role: its ARN */
    struct pd_authz_org org;      /* the SCPs of the simulated principal's account */
    int in_org;                   /* that account is in an organization */
    json_t *traces; /* the engine's traces ([{action, resource, trace}]), or NULL: not kept */
};

static void sim_free(struct sim *s)
{
    for (size_t i = 0; i < s->nid; i++)
        pd_policy_free(s->idd[i].p);
    pd_policy_free(s->bndd.p);
    pd_policy_free(s->resd.p);
    json_decref(s->missing);
    if (s->org.nheld)
        pd_authz_org_release(s->r->env->policies, &s->org);
}

/* ---- documents ------------------------------------------------------------------------ */

/* Compile text as kind. A malformed input document is the caller's error (InvalidInput, the
 * operation's modelled error, with IAM's wording of what is wrong); a stored one that no
 * longer compiles is PolicyEvaluation (stored documents were valid when written). */
static int compile(struct sim *s, const char *text, enum pd_policy_kind kind, int stored,
                   const char *label, struct pd_policy **OUT)
{
    char err[256];
    const char *why = NULL;
    if (pd_policy_compile(text, strlen(text), kind, err, sizeof err, OUT, &why) == PD_OK)
        return PD_OK;
    if (stored)
        return pd_fail(s->r, &IAM_PolicyEvaluation, "Policy %s could not be evaluated: %s", label,
                       why ? why : "Syntax errors in policy.");
    return pd_fail(s->r, &IAM_InvalidInput, "%s", why ? why : "Syntax errors in policy.");
}

static int add_identity(struct sim *s, const char *text, const char *id, enum pd_policy_kind kind,
                        enum pd_psource src, int stored)
{
    if (s->nid == s->capid) {
        size_t cap = s->capid ? s->capid * 2 : 8;
        struct pd_policy_ref *ids = pd_arena_zalloc(&s->r->arena, cap * sizeof *ids);
        struct sdoc *idd = pd_arena_zalloc(&s->r->arena, cap * sizeof *idd);
        if (s->nid) {
            memcpy(ids, s->ids, s->nid * sizeof *ids);
            memcpy(idd, s->idd, s->nid * sizeof *idd);
        }
        s->ids = ids;
        s->idd = idd;
        s->capid = cap;
    }
    struct pd_policy *p = NULL;
    int rc = compile(s, text, kind, stored, id, &p);
    if (rc)
        return rc;
    s->idd[s->nid].text = text;
    s->idd[s->nid].p = p;
    s->ids[s->nid].policy = p;
    s->ids[s->nid].id = id;
    s->ids[s->nid].source = src;
    s->nid++;
    return PD_OK;
}

static int set_boundary(struct sim *s, const char *text, const char *id, int stored)
{
    struct pd_policy *p = NULL;
    int rc = compile(s, text, stored ? PD_POLICY_BOUNDARY : PD_POLICY_INLINE, stored, id, &p);
    if (rc)
        return rc;
    pd_policy_free(s->bndd.p);
    s->bndd.text = text;
    s->bndd.p = p;
    s->bnd.policy = p;
    s->bnd.id = id;
    s->bnd.source = PD_SRC_BOUNDARY;
    return PD_OK;
}

/* PolicyInputList and PermissionsBoundaryPolicyInputList. */
static int input_policies(struct sim *s)
{
    json_t *list = pd_iam_in(s->r, "PolicyInputList");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *id = pd_arena_printf(&s->r->arena, "PolicyInputList.%zu", i + 1);
        int rc = add_identity(s, json_string_value(v), id, PD_POLICY_INLINE, PD_SRC_NONE, 0);
        if (rc)
            return rc;
    }
    list = pd_iam_in(s->r, "PermissionsBoundaryPolicyInputList");
    if (json_array_size(list) > 1)
        return pd_fail(s->r, &IAM_InvalidInput,
                       "Only one permissions boundary policy can be simulated at a time.");
    if (json_array_size(list) == 1)
        return set_boundary(s, json_string_value(json_array_get(list, 0)),
                            "PermissionsBoundaryPolicyInputList.1", 0);
    return PD_OK;
}

static int resource_policy(struct sim *s)
{
    const char *text = pd_iam_in_str(s->r, "ResourcePolicy");
    if (!text)
        return PD_OK;
    /* A bucket-style policy, or a role trust policy (no Resource element), which then has to
     * allow on its own as it does for AssumeRole. */
    char err[256];
    const char *why = NULL;
    struct pd_policy *p = NULL;
    if (pd_policy_compile(text, strlen(text), PD_POLICY_RESOURCE, err, sizeof err, &p, &why)) {
        char err2[256];
        const char *why2 = NULL;
        if (pd_policy_compile(text, strlen(text), PD_POLICY_TRUST, err2, sizeof err2, &p, &why2))
            return pd_fail(s->r, &IAM_InvalidInput, "%s", why ? why : "Syntax errors in policy.");
        s->trust = 1;
    }
    s->resd.text = text;
    s->resd.p = p;
    s->res.policy = p;
    s->res.id = "ResourcePolicy";
    s->res.source = PD_SRC_RESOURCE;
    return PD_OK;
}

/* ---- context -------------------------------------------------------------------------- */

static const struct {
    const char *name;
    enum pd_ctx_type type;
    int list;
} ctx_types[] = {
    {"string", PD_CTX_STRING, 0},   {"stringList", PD_CTX_STRING, 1},
    {"numeric", PD_CTX_NUMERIC, 0}, {"numericList", PD_CTX_NUMERIC, 1},
    {"boolean", PD_CTX_BOOLEAN, 0}, {"booleanList", PD_CTX_BOOLEAN, 1},
    {"ip", PD_CTX_IP, 0},           {"ipList", PD_CTX_IP, 1},
    {"binary", PD_CTX_BINARY, 0},   {"binaryList", PD_CTX_BINARY, 1},
    {"date", PD_CTX_DATE, 0},       {"dateList", PD_CTX_DATE, 1},
};

/* ContextEntries -> the request context. Values are checked against their type, so a value
 * that could never match (and would make a negated operator true) is refused; binary
 * values are base64, as in BinaryEquals. */
static int context_entries(struct sim *s)
{
    pd_ctx_init(&s->ctx, &s->r->arena);
    json_t *entries = pd_iam_in(s->r, "ContextEntries");
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "ContextKeyName"));
        const char *type = json_string_value(json_object_get(e, "ContextKeyType"));
        json_t *values = json_object_get(e, "ContextKeyValues");
        if (!name)
            return pd_fail(s->r, &IAM_InvalidInput,
                           "ContextKeyName is required for every context entry.");
        size_t t = 0;
        if (type) {
            for (t = 0; t < sizeof ctx_types / sizeof ctx_types[0]; t++)
                if (strcmp(ctx_types[t].name, type) == 0)
                    break;
            if (t == sizeof ctx_types / sizeof ctx_types[0])
                return pd_fail(s->r, &PD_ERR_ValidationError,
                               "1 validation error detected: Value '%s' at "
                               "'contextEntries.%zu.member.contextKeyType' failed to satisfy "
                               "constraint: Member must satisfy enum value set: [string, "
                               "stringList, numeric, numericList, boolean, booleanList, ip, "
                               "ipList, binary, binaryList, date, dateList]",
                               type, i + 1);
        }
        if (!ctx_types[t].list && json_array_size(values) > 1)
            return pd_fail(s->r, &IAM_InvalidInput,
                           "Context key %s of type %s takes one value; use %sList for several.",
                           name, ctx_types[t].name, ctx_types[t].name);
        pd_ctx_add_empty(&s->ctx, name);
        size_t j;
        json_t *v;
        json_array_foreach(values, j, v)
        {
            const char *text = json_string_value(v);
            if (!text)
                continue;
            size_t n = strlen(text);
            if (ctx_types[t].type == PD_CTX_BINARY) {
                unsigned char *raw;
                size_t rn;
                if (pd_base64_decode(&s->r->arena, text, n, &raw, &rn))
                    return pd_fail(s->r, &IAM_InvalidInput,
                                   "Invalid value '%s' for context key %s of type %s: not base64.",
                                   text, name, ctx_types[t].name);
                pd_ctx_add(&s->ctx, name, PD_CTX_BINARY, (const char *)raw, rn);
                continue;
            }
            if (!pd_ctx_value_valid(ctx_types[t].type, text, n))
                return pd_fail(s->r, &IAM_InvalidInput,
                               "Invalid value '%s' for context key %s of type %s.", text, name,
                               ctx_types[t].name);
            pd_ctx_add(&s->ctx, name, ctx_types[t].type, text, n);
        }
    }
    return PD_OK;
}

static int note_key(void *arg, const char *key)
{
    struct sim *s = arg;
    if (pd_ctx_count(&s->ctx, key) >= 0)
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(s->missing, i, v)
    {
        if (pd_strcaseeq(json_string_value(v), key))
            return 0;
    }
    json_array_append_new(s->missing, json_string(key));
    return 0;
}

/* Every key the simulated policies refer to that ContextEntries does not supply. */
static void missing_keys(struct sim *s)
{
    s->missing = json_array();
    for (size_t i = 0; i < s->nid; i++)
        pd_policy_each_context_key(s->ids[i].policy, note_key, s);
    if (s->bnd.policy)
        pd_policy_each_context_key(s->bnd.policy, note_key, s);
    if (s->res.policy)
        pd_policy_each_context_key(s->res.policy, note_key, s);
}

/* ---- positions ------------------------------------------------------------------------ */

static int is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Byte offset of the character at (line, col), counted as the engine counts (columns are
 * characters); the text's length when past the end. */
static size_t offset_of(const char *t, unsigned line, unsigned col)
{
    unsigned l = 1, c = 1;
    size_t i = 0;
    for (; t[i]; i++) {
        unsigned char ch = (unsigned char)t[i];
        if ((ch & 0xC0) == 0x80)
            continue;
        if (l == line && c == col)
            return i;
        if (ch == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    return i;
}

static void line_col_of(const char *t, size_t off, unsigned *OUT_line, unsigned *OUT_col)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < off && t[i]; i++) {
        unsigned char ch = (unsigned char)t[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    *OUT_line = l;
    *OUT_col = c;
}

/* Where AWS says a statement starts and ends. Its JSON reader reports the position it stood
 * at before reading the statement and after reading it: just past the '[' for the first
 * statement of an array, just past the previous statement's '}' for the others, just past
 * the '{' when Statement is a single object (the reader has already consumed it), and just
 * past the closing '}'. Seen in AWS's answers: '{"Version":"2012-10-17","Statement":{...}}'
 * starts at column 38 where '{' is at 37; a pretty-printed array statement starts on the
 * line of '[' one column past it. */
static void aws_position(const char *text, const struct pd_matched_stmt *m, unsigned out[4])
{
    out[0] = m->start_line;
    out[1] = m->start_col;
    out[2] = m->end_line;
    out[3] = m->end_col + 1;
    if (!text)
        return;
    size_t o = offset_of(text, m->start_line, m->start_col);
    size_t j = o;
    while (j > 0 && is_ws(text[j - 1]))
        j--;
    char prev = j > 0 ? text[j - 1] : '\0';
    if (prev == '[') {
        line_col_of(text, j, &out[0], &out[1]);
    } else if (prev == ',') {
        j--;
        while (j > 0 && is_ws(text[j - 1]))
            j--;
        line_col_of(text, j, &out[0], &out[1]);
    } else if (prev == ':') {
        out[1] = m->start_col + 1;
    }
}

/* ---- evaluation ----------------------------------------------------------------------- */

static const char *text_of(const struct sim *s, const struct pd_policy_ref *ref)
{
    if (ref == &s->bnd)
        return s->bndd.text;
    if (ref == &s->res)
        return s->resd.text;
    if (ref >= s->ids && ref < s->ids + s->nid)
        return s->idd[ref - s->ids].text;
    return NULL;
}

static int is_resource_type(enum pd_ptype t)
{
    return t == PD_PT_RESOURCE || t == PD_PT_TRUST;
}

static json_t *statement_json(const struct sim *s, const struct pd_matched_stmt *m)
{
    unsigned p[4];
    aws_position(text_of(s, m->ref), m, p);
    return json_pack("{s:s, s:s, s:{s:i, s:i}, s:{s:i, s:i}}", "SourcePolicyId", m->ref->id,
                     "SourcePolicyType", is_resource_type(m->ptype) ? SRC_RESOURCE : SRC_IAM,
                     "StartPosition", "Line", (int)p[0], "Column", (int)p[1], "EndPosition", "Line",
                     (int)p[2], "Column", (int)p[3]);
}

/* The statements that determine a decision: the applying Allows when allowed, the applying
 * Denies when explicitly denied (the deny is then the only kind listed), none when
 * implicitly denied. Appended to arr unless already there. */
static void add_matched(const struct sim *s, const struct pd_authz_result *res, json_t *arr)
{
    if (res->decision == PD_DECISION_IMPLICIT_DENY)
        return;
    int want_deny = res->decision == PD_DECISION_EXPLICIT_DENY;
    for (size_t i = 0; i < res->nmatched; i++) {
        const struct pd_matched_stmt *m = &res->matched[i];
        if (m->deny != want_deny || m->ptype == PD_PT_SCP || m->ptype == PD_PT_RCP)
            continue;
        json_t *st = statement_json(s, m);
        size_t k;
        json_t *have;
        int dup = 0;
        json_array_foreach(arr, k, have)
        {
            if (json_equal(have, st))
                dup = 1;
        }
        if (dup)
            json_decref(st);
        else
            json_array_append_new(arr, st);
    }
}

/* Each side of a cross-account decision: the identity side (identity policies and the
 * boundary) and the resource side (the resource policy). */
static json_t *decision_details(const struct sim *s, const struct pd_authz_result *res)
{
    int id_allow = 0, id_deny = 0, bnd_allow = 0, res_allow = 0, res_deny = 0;
    for (size_t i = 0; i < res->nmatched; i++) {
        const struct pd_matched_stmt *m = &res->matched[i];
        if (is_resource_type(m->ptype)) {
            res_deny |= m->deny;
            res_allow |= !m->deny;
        } else if (m->ptype == PD_PT_BOUNDARY) {
            id_deny |= m->deny;
            bnd_allow |= !m->deny;
        } else {
            id_deny |= m->deny;
            id_allow |= !m->deny;
        }
    }
    enum pd_decision idd = id_deny                                     ? PD_DECISION_EXPLICIT_DENY
                           : id_allow && (!s->bnd.policy || bnd_allow) ? PD_DECISION_ALLOW
                                                                       : PD_DECISION_IMPLICIT_DENY;
    enum pd_decision rd = res_deny    ? PD_DECISION_EXPLICIT_DENY
                          : res_allow ? PD_DECISION_ALLOW
                                      : PD_DECISION_IMPLICIT_DENY;
    return json_pack("{s:s, s:s}", SRC_IAM, pd_decision_name(idd), SRC_RESOURCE,
                     pd_decision_name(rd));
}

static int rank(enum pd_decision d)
{
    return d == PD_DECISION_EXPLICIT_DENY ? 2 : d == PD_DECISION_IMPLICIT_DENY ? 1 : 0;
}

static json_t *eval_action(struct sim *s, const char *action, json_t *resources)
{
    static const char *const star = "*";
    size_t nres = json_array_size(resources);
    int explicit_res = nres > 0;
    int cross = s->resource_account && strcmp(s->resource_account, s->caller_account) != 0;
    json_t *specific = json_array();
    json_t *per = json_array(); /* [{decision, statements}] per resource, for the aggregate */
    enum pd_decision worst = PD_DECISION_ALLOW;
    const char *worst_res = NULL;
    int boundary_allowed = -1, orgs_allowed = 1;
    json_t *worst_details = NULL;
    for (size_t i = 0; i < (explicit_res ? nres : 1); i++) {
        const char *resource =
            explicit_res ? json_string_value(json_array_get(resources, i)) : star;
        struct pd_authz q = {
            .action = action,
            .resources = &resource,
            .nresources = 1,
            .who = s->who,
            .identity = s->ids,
            .nidentity = s->nid,
            .boundary = s->bnd.policy ? &s->bnd : NULL,
            .resource_policy = s->res.policy ? &s->res : NULL,
            .resource_account = s->resource_account,
            .scp_levels = s->org.scp,
            .nscp_levels = s->org.nscp,
            .ctx = &s->ctx,
            .flags = PD_AUTHZ_TRACE | (s->trust ? PD_AUTHZ_TRUST : 0),
        };
        struct pd_authz_result res;
        pd_policy_authorize(&s->r->arena, &q, &res);
        if (s->traces)
            json_array_append_new(s->traces, json_pack("{s:s, s:s, s:o*}", "action", action,
                                                       "resource", resource, "trace", res.trace));
        else
            json_decref(res.trace);
        json_t *details = cross ? decision_details(s, &res) : NULL;
        if (i == 0 || rank(res.decision) > rank(worst)) {
            worst = res.decision;
            worst_res = resource;
            json_decref(worst_details);
            worst_details = json_incref(details);
        }
        if (res.boundary_allowed >= 0 &&
            (boundary_allowed < 0 || res.boundary_allowed < boundary_allowed))
            boundary_allowed = res.boundary_allowed;
        if (res.scp_allowed == 0)
            orgs_allowed = 0;
        json_t *m = json_array();
        add_matched(s, &res, m);
        if (explicit_res) {
            json_t *one = json_pack("{s:s, s:s, s:O, s:O}", "EvalResourceName", resource,
                                    "EvalResourceDecision", pd_decision_name(res.decision),
                                    "MatchedStatements", m, "MissingContextValues", s->missing);
            if (details)
                json_object_set(one, "EvalDecisionDetails", details);
            if (res.boundary_allowed >= 0)
                json_object_set_new(
                    one, "PermissionsBoundaryDecisionDetail",
                    json_pack("{s:b}", "AllowedByPermissionsBoundary", res.boundary_allowed));
            json_array_append_new(specific, one);
        }
        json_array_append_new(per, json_pack("{s:i, s:o}", "d", (int)res.decision, "m", m));
        json_decref(details);
    }
    /* The aggregate lists the statements behind the aggregate decision: those of every
     * resource that came to it, each once. */
    json_t *matched = json_array();
    size_t k;
    json_t *one;
    json_array_foreach(per, k, one)
    {
        if (json_integer_value(json_object_get(one, "d")) != (json_int_t)worst)
            continue;
        size_t j;
        json_t *st;
        json_array_foreach(json_object_get(one, "m"), j, st)
        {
            size_t x;
            json_t *have;
            int dup = 0;
            json_array_foreach(matched, x, have)
            {
                dup |= json_equal(have, st);
            }
            if (!dup)
                json_array_append(matched, st);
        }
    }
    json_decref(per);

    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:O}", "EvalActionName", action, "EvalResourceName",
                          worst_res ? worst_res : star, "EvalDecision", pd_decision_name(worst),
                          "MatchedStatements", matched, "MissingContextValues", s->missing);
    if (boundary_allowed >= 0)
        json_object_set_new(o, "PermissionsBoundaryDecisionDetail",
                            json_pack("{s:b}", "AllowedByPermissionsBoundary", boundary_allowed));
    /* "Only applies if the simulated user's account is part of an organization" (API
     * reference): the management account's, whose principals SCPs never restrict, too */
    if (s->in_org)
        json_object_set_new(o, "OrganizationsDecisionDetail",
                            json_pack("{s:b}", "AllowedByOrganizations", orgs_allowed));
    /* EvalDecisionDetails: each side's decision across accounts; present but empty for named
     * resources in one account; absent for "*" in one account. */
    if (cross)
        json_object_set_new(o, "EvalDecisionDetails",
                            worst_details ? json_incref(worst_details) : json_object());
    else if (explicit_res)
        json_object_set_new(o, "EvalDecisionDetails", json_object());
    json_decref(worst_details);
    if (explicit_res)
        json_object_set_new(o, "ResourceSpecificResults", specific);
    else
        json_decref(specific);
    return o;
}

/* The SCPs of the simulated principal's account (none for the management account or a
 * service-linked role), and whether that account is in an organization at all. */
static int org_policies(struct sim *s)
{
    struct pd_req *r = s->r;
    struct pd_principal_id w = s->who;
    if (!w.account)
        return PD_OK;
    w.type = s->source_role_arn ? PD_PRINCIPAL_ROLE_SESSION : PD_PRINCIPAL_USER;
    w.role_arn = s->source_role_arn;
    struct pd_ctx scratch; /* the simulator fills no context keys of its own */
    pd_ctx_init(&scratch, &r->arena);
    if (pd_authz_org_load(r->db, &r->arena, r->env->policies, &w, NULL, NULL, &scratch, &s->org))
        return pd_fail(r, &IAM_ServiceFailure, "cannot read the organization's policies");
    s->in_org = pd_ctx_count(&scratch, "aws:PrincipalOrgID") > 0;
    return PD_OK;
}

/* What both operations share once the policies are gathered. */
static int simulate(struct sim *s)
{
    struct pd_req *r = s->r;
    json_t *actions = pd_iam_in(r, "ActionNames");
    if (!json_is_array(actions) || !json_array_size(actions))
        return pd_fail(r, &PD_ERR_ValidationError,
                       "1 validation error detected: Value null at 'actionNames' failed to "
                       "satisfy constraint: Member must not be null");
    int rc = resource_policy(s);
    if (rc)
        return rc;
    if (s->res.policy) {
        if (!s->who.arn)
            return pd_fail(r, &IAM_InvalidInput, INVALID_CALLER);
        const char *owner = pd_iam_in_str(r, "ResourceOwner");
        s->resource_account = s->caller_account;
        if (owner) {
            struct pd_arn a;
            if (strlen(owner) == 12 && strspn(owner, "0123456789") == 12)
                s->resource_account = owner;
            else if (pd_arn_parse(&r->arena, owner, &a) == PD_OK && strlen(a.account) == 12 &&
                     strspn(a.account, "0123456789") == 12)
                s->resource_account = a.account;
            else
                return pd_fail(r, &IAM_InvalidInput,
                               "Invalid ResourceOwner: %s is not the ARN of an account "
                               "(arn:aws:iam::ACCOUNT-ID:root).",
                               owner);
        }
    }
    if ((rc = org_policies(s)))
        return rc;
    missing_keys(s);
    json_t *resources = pd_iam_in(r, "ResourceArns");
    json_t *items = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        json_array_append_new(items, eval_action(s, json_string_value(a), resources));
    }
    return pd_iam_paginate(r, items, "EvaluationResults");
}

/* CallerArn: an IAM user ARN, nothing else (not a role, session, federated user or service). */
static int caller(struct sim *s, const char *arn)
{
    struct pd_req *r = s->r;
    memset(&s->who, 0, sizeof s->who);
    s->who.type = PD_PRINCIPAL_USER;
    s->who.account = pd_iam_account(r);
    s->caller_account = s->who.account;
    if (!arn)
        return PD_OK;
    struct pd_arn a;
    const char *type = NULL, *name = NULL;
    if (pd_arn_parse(&r->arena, arn, &a))
        return pd_fail(r, &IAM_InvalidInput,
                       "Invalid Entity Arn: %s does not clearly define entity type and name.", arn);
    if (strcmp(a.service, "iam") != 0 ||
        pd_arn_resource_split(&r->arena, a.resource, &type, NULL, &name) ||
        strcmp(type, "user") != 0 || !*name || strlen(a.account) != 12)
        return pd_fail(r, &IAM_InvalidInput, INVALID_CALLER);
    s->who.arn = arn;
    s->who.account = a.account;
    s->caller_account = a.account;
    struct pd_iam_user u;
    if (pd_iam_db_user_get(r->db, &r->arena, a.account, name, &u) == PD_OK &&
        strcmp(u.arn, arn) == 0)
        s->who.unique_id = u.unique_id; /* so a Principal naming the AIDA id matches */
    return PD_OK;
}

static int simulate_custom(struct pd_req *r, json_t *traces)
{
    struct sim s;
    memset(&s, 0, sizeof s);
    s.r = r;
    s.traces = traces;
    int rc = context_entries(&s);
    if (!rc && !json_array_size(pd_iam_in(r, "PolicyInputList")))
        rc = pd_fail(r, &PD_ERR_ValidationError,
                     "1 validation error detected: Value null at 'policyInputList' failed to "
                     "satisfy constraint: Member must not be null");
    if (!rc)
        rc = caller(&s, pd_iam_in_str(r, "CallerArn"));
    if (!rc)
        rc = input_policies(&s);
    if (!rc)
        rc = simulate(&s);
    sim_free(&s);
    return rc;
}

int pd_iam_simulate_custom_policy(struct pd_req *r)
{
    return simulate_custom(r, NULL);
}

int pd_iam_simulate_traced(struct pd_req *r, json_t **OUT_traces)
{
    json_t *traces = json_array();
    int rc = simulate_custom(r, traces);
    if (rc) {
        json_decref(traces);
        traces = NULL;
    }
    *OUT_traces = traces;
    return rc;
}

/* ---- SimulatePrincipalPolicy: the entity's policies from the store --------------------- */

static const char *policy_name(const char *arn)
{
    const char *slash = strrchr(arn, '/');
    return slash ? slash + 1 : arn;
}

static int add_stored(struct sim *s, const struct pd_iam_source_policy *src)
{
    if (!src->document)
        return PD_OK; /* a managed policy without a readable default version */
    int managed = src->type == PD_IAM_SRC_MANAGED || src->type == PD_IAM_SRC_AWS_MANAGED;
    enum pd_psource ps = src->type == PD_IAM_SRC_USER_INLINE    ? PD_SRC_USER_INLINE
                         : src->type == PD_IAM_SRC_GROUP_INLINE ? PD_SRC_GROUP_INLINE
                         : src->type == PD_IAM_SRC_ROLE_INLINE  ? PD_SRC_ROLE_INLINE
                         : src->type == PD_IAM_SRC_AWS_MANAGED  ? PD_SRC_AWS_MANAGED
                                                                : PD_SRC_CUSTOMER_MANAGED;
    return add_identity(s, src->document, managed ? policy_name(src->id) : src->id,
                        managed ? PD_POLICY_MANAGED : PD_POLICY_INLINE, ps, 1);
}

static int group_policies(struct sim *s, const struct pd_iam_group *g)
{
    struct pd_req *r = s->r;
    struct pd_iam_inline *inl;
    size_t n;
    int rc = pd_iam_db_inline_list(r->db, &r->arena, PD_IAM_GROUP, g->id, &inl, &n);
    for (size_t i = 0; !rc && i < n; i++)
        rc =
            add_identity(s, inl[i].document, inl[i].name, PD_POLICY_INLINE, PD_SRC_GROUP_INLINE, 1);
    if (rc)
        return pd_iam_store_fail(r, rc);
    const char **arns;
    rc = pd_iam_db_attached_list(r->db, &r->arena, PD_IAM_GROUP, g->id, &arns, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *text = NULL;
        if (pd_authz_managed_document(r->db, &r->arena, g->account_id, arns[i], &text) != PD_OK)
            continue;
        rc = add_identity(s, text, policy_name(arns[i]), PD_POLICY_MANAGED, PD_SRC_CUSTOMER_MANAGED,
                          1);
    }
    return pd_iam_store_fail(r, rc);
}

/* The policies of the user, group or role PolicySourceArn names. *OUT_user: it is a user. */
static int source_policies(struct sim *s, const char *arn, int *OUT_user)
{
    struct pd_req *r = s->r;
    struct pd_arn a;
    const char *type = NULL, *name = NULL;
    *OUT_user = 0;
    if (pd_arn_parse(&r->arena, arn, &a) || strcmp(a.service, "iam") != 0 ||
        pd_arn_resource_split(&r->arena, a.resource, &type, NULL, &name) || !*name ||
        (strcmp(type, "user") != 0 && strcmp(type, "group") != 0 && strcmp(type, "role") != 0))
        return pd_fail(r, &IAM_InvalidInput,
                       "Invalid Entity Arn: %s does not clearly define entity type and name.", arn);
    if (strcmp(a.account, pd_iam_account(r)) != 0)
        return pd_fail(r, &IAM_InvalidInput,
                       "Invalid Policy Source Arn: caller's account %s does not have access to "
                       "policies in account %s",
                       pd_iam_account(r), a.account);
    struct pd_iam_source_policy *src = NULL, boundary;
    size_t n = 0;
    int rc;
    memset(&boundary, 0, sizeof boundary);
    if (strcmp(type, "group") == 0) {
        struct pd_iam_group g;
        if ((rc = pd_iam_group_find(r, name, &g)))
            return rc;
        return group_policies(s, &g);
    }
    if (strcmp(type, "user") == 0) {
        struct pd_iam_user u;
        if ((rc = pd_iam_user_find(r, name, &u)))
            return rc;
        *OUT_user = 1;
        rc = pd_iam_db_user_policies(r->db, &r->arena, a.account, name, &src, &n, &boundary);
    } else {
        struct pd_iam_role role;
        if ((rc = pd_iam_role_find(r, name, &role)))
            return rc;
        s->source_role_arn = role.arn; /* a service-linked role escapes SCPs */
        rc = pd_iam_db_role_policies(r->db, &r->arena, a.account, name, &src, &n, &boundary);
    }
    if (rc)
        return pd_iam_store_fail(r, rc);
    for (size_t i = 0; i < n; i++)
        if ((rc = add_stored(s, &src[i])))
            return rc;
    if (boundary.document)
        return set_boundary(s, boundary.document, policy_name(boundary.id), 1);
    if (boundary.id) /* a boundary whose document cannot be read allows nothing */
        return set_boundary(s,
                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                            "\"Action\":\"podiam:Nothing\",\"Resource\":\"*\"}]}",
                            policy_name(boundary.id), 1);
    return PD_OK;
}

int pd_iam_simulate_principal_policy(struct pd_req *r)
{
    struct sim s;
    memset(&s, 0, sizeof s);
    s.r = r;
    const char *source = NULL;
    int user = 0;
    int rc = pd_iam_in_req(r, "PolicySourceArn", &source);
    if (!rc)
        rc = context_entries(&s);
    if (!rc)
        rc = source_policies(&s, source, &user);
    if (!rc) {
        const char *arn = pd_iam_in_str(r, "CallerArn");
        rc = caller(&s, arn ? arn : user ? source : NULL);
    }
    if (!rc)
        rc = input_policies(&s);
    if (!rc)
        rc = simulate(&s);
    sim_free(&s);
    return rc;
}
