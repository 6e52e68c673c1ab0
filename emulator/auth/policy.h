/*
 * policy.h - the IAM policy engine: compile, evaluate, explain.
 *
 * Pure: no I/O, no store, no HTTP. Callers gather the compiled policies that apply to a
 * request (identity policies of the user and its groups or of the role, the permissions
 * boundary, session policies, the resource policy or role trust policy) and the request
 * context (condition keys), and the engine decides: allow, explicit deny or implicit deny,
 * plus the policy type that decided and, on request, a trace of every statement considered.
 *
 * A policy document is compiled once (pd_policy_compile) when it is written; the compiled
 * form is immutable, thread-safe to share, and evaluates without touching JSON again.
 * Evaluation allocates only from the caller's arena (trace, messages), never from the heap.
 *
 * Implementation: policy_parse.c (compile, validation, statement positions), policy_cond.c
 * (request context, condition operators, wildcard/ARN/IP matching), policy_eval.c
 * (evaluation logic, trace, denial messages). Shared internals in policy_int.h.
 */
#ifndef PD_AUTH_POLICY_H
#define PD_AUTH_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct pd_arena;
struct pd_policy; /* opaque compiled policy */

/* ---- compile ------------------------------------------------------------------------- */

/* Where a document is used; decides which elements are required or prohibited. */
enum pd_policy_kind {
    PD_POLICY_INLINE = 0, /* identity inline policy (user/group/role): no Principal */
    PD_POLICY_MANAGED,    /* customer managed policy: like inline, Version 2012-10-17 needed */
    PD_POLICY_BOUNDARY,   /* a managed policy used as permissions boundary: same rules */
    PD_POLICY_SESSION,    /* session policy passed to AssumeRole* or GetFederationToken */
    PD_POLICY_RESOURCE,   /* resource policy (S3 bucket policy): Principal required */
    PD_POLICY_TRUST,      /* role trust policy: Principal required, Resource prohibited */
    PD_POLICY_SCP,        /* Organizations SCP: no Principal, Version 2012-10-17 needed */
    PD_POLICY_RCP,        /* Organizations RCP: Principal "*" only, no NotAction/NotPrincipal */
};

/* Compile text (len bytes, need not be NUL-terminated). On success *OUT_policy is a new
 * policy (free with pd_policy_free) and PD_OK is returned. On a malformed document returns
 * PD_EINVAL and the message, worded as IAM words it for MalformedPolicyDocument (S3's
 * MalformedPolicy wording for PD_POLICY_RESOURCE where known), e.g. "Syntax errors in
 * policy.", is written to errbuf (size errlen; 256 bytes is plenty) and *OUT_err points
 * there (NULL when errbuf is NULL). Size limits are the caller's (see
 * pd_policy_size_nonws). */
int pd_policy_compile(const char *text, size_t len, enum pd_policy_kind kind, char *errbuf,
                      size_t errlen, struct pd_policy **OUT_policy, const char **OUT_err);

void pd_policy_free(struct pd_policy *p);

/* Characters that are not white space, counted as IAM does for its size quotas (UTF-8 code
 * points; space, tab, CR and LF are not counted). */
size_t pd_policy_size_nonws(const char *text, size_t len);

/* Number of statements, and a statement's Sid (NULL when absent) and position in the source
 * text (1-based line and column of its opening and closing brace). */
size_t pd_policy_statement_count(const struct pd_policy *p);
const char *pd_policy_statement_sid(const struct pd_policy *p, size_t i);
/* Is statement i a Deny? 1 / 0 (0 past the end). */
int pd_policy_statement_deny(const struct pd_policy *p, size_t i);
void pd_policy_statement_pos(const struct pd_policy *p, size_t i, unsigned *OUT_start_line,
                             unsigned *OUT_start_col, unsigned *OUT_end_line,
                             unsigned *OUT_end_col);

/* Principal element entries, for the caller's own checks (CreateRole rejects a role or user
 * ARN that does not exist: "Invalid principal in policy: \"AWS\":\"ARN\""). Calls fn for
 * every value of every Principal/NotPrincipal in the document with its kind ("AWS",
 * "Service", "Federated", "CanonicalUser", or "*" for the bare wildcard). Stops early and
 * returns fn's value when it is non-zero; returns 0 otherwise. */
typedef int pd_policy_principal_fn(void *arg, const char *kind, const char *value, int negated);
int pd_policy_each_principal(const struct pd_policy *p, pd_policy_principal_fn *fn, void *arg);

/* Context keys the document refers to, as IAM's GetContextKeysFor*Policy and the
 * simulator's MissingContextValues list them: every Condition key (as written) and every
 * policy variable in Resource, NotResource and condition values (Version 2012-10-17 only),
 * in document order. A key may come more than once; callers that need a set compare names
 * without regard to case. Calls fn for each; stops early and returns fn's value when it is
 * non-zero, 0 otherwise. */
typedef int pd_policy_key_fn(void *arg, const char *key);
int pd_policy_each_context_key(const struct pd_policy *p, pd_policy_key_fn *fn, void *arg);

/* ---- request context ---------------------------------------------------------------- */

/* Type of a context value, as the simulator's ContextKeyType names them. Values are always
 * kept as text; the type only says how to read them (and BINARY values are raw bytes). */
enum pd_ctx_type {
    PD_CTX_STRING = 0,
    PD_CTX_NUMERIC,
    PD_CTX_BOOLEAN,
    PD_CTX_DATE,
    PD_CTX_IP,
    PD_CTX_BINARY,
};

struct pd_ctx_key; /* see policy_int.h */

/* Condition keys of one request: key names are case-insensitive, values are not. A key may
 * hold several values (aws:TagKeys) or none (an empty list: "resolves to an empty data
 * set"). Storage comes from the arena; the struct itself may live on the stack. */
struct pd_ctx {
    struct pd_arena *a;
    struct pd_ctx_key *keys;
    size_t n, cap;
};

void pd_ctx_init(struct pd_ctx *c, struct pd_arena *a);
/* Add one value to key (creating the key if needed). value is copied; vlen = (size_t)-1 means
 * strlen. Adding a key that exists appends a value (multi-valued key). */
void pd_ctx_add(struct pd_ctx *c, const char *key, enum pd_ctx_type type, const char *value,
                size_t vlen);
/* Can value (vlen bytes) be read as type? STRING always; NUMERIC a number, BOOLEAN
 * true/false (any case), DATE an ISO 8601 date or epoch seconds, IP one address (no
 * /prefix). BINARY values are raw bytes: always. Returns 1 or 0. Callers that take typed
 * values from clients (the simulator's ContextEntries) refuse what would never match. */
int pd_ctx_value_valid(enum pd_ctx_type type, const char *value, size_t vlen);
/* Create key with no values (empty list), or do nothing when it exists. */
void pd_ctx_add_empty(struct pd_ctx *c, const char *key);
/* Number of values of key, or -1 when the key is absent. */
int pd_ctx_count(const struct pd_ctx *c, const char *key);
/* i-th value of key as text, or NULL. */
const char *pd_ctx_get(const struct pd_ctx *c, const char *key, size_t i);
/* Every key (lower-cased) with its value, or list of values, for the decision log. New
 * reference. */
json_t *pd_ctx_to_json(const struct pd_ctx *c);

struct pd_principal_id;
/* Add the principal keys the IAM guide lists for every request (its "principal key values"
 * table): aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid and, for
 * IAM users, aws:username. A role session's aws:PrincipalArn is its role ARN; keys that do
 * not exist for a principal type are left out (so conditions on them see a missing key). */
void pd_ctx_add_principal_keys(struct pd_ctx *c, const struct pd_principal_id *who);

/* ---- evaluation --------------------------------------------------------------------- */

enum pd_decision {
    PD_DECISION_IMPLICIT_DENY = 0,
    PD_DECISION_ALLOW,
    PD_DECISION_EXPLICIT_DENY,
};

/* The policy type a decision is attributed to (denial messages, simulator details). */
enum pd_ptype {
    PD_PT_NONE = 0,
    PD_PT_IDENTITY, /* identity-based */
    PD_PT_RESOURCE, /* resource-based */
    PD_PT_BOUNDARY, /* permissions boundary */
    PD_PT_SESSION,  /* session */
    PD_PT_TRUST,    /* role trust */
    PD_PT_SCP,      /* service control */
    PD_PT_RCP,      /* resource control */
};

/* Where an identity policy comes from (the simulator's SourcePolicyType). */
enum pd_psource {
    PD_SRC_NONE = 0,
    PD_SRC_USER_INLINE,      /* "user" */
    PD_SRC_GROUP_INLINE,     /* "group" */
    PD_SRC_ROLE_INLINE,      /* "role" */
    PD_SRC_CUSTOMER_MANAGED, /* "user-managed" */
    PD_SRC_AWS_MANAGED,      /* "aws-managed" */
    PD_SRC_RESOURCE,         /* "resource" (also trust policies) */
    PD_SRC_BOUNDARY,         /* "none" in the simulator; a boundary policy */
    PD_SRC_SESSION,          /* "none"; a session policy */
    PD_SRC_SCP,              /* "none"; an SCP */
    PD_SRC_RCP,              /* "none"; an RCP */
};

struct pd_policy_ref {
    const struct pd_policy *policy; /* compiled, borrowed */
    const char *id;                 /* caller's id: policy ARN, "user/u/inline-name", ... */
    enum pd_psource source;
};

/* Who is calling. For resource and trust policies the engine matches the Principal element
 * against every identity the caller has (session ARN, role ARN, account...). */
enum pd_principal_type {
    PD_PRINCIPAL_ANONYMOUS = 0,  /* unsigned request */
    PD_PRINCIPAL_ROOT,           /* arn:aws:iam::ACCT:root */
    PD_PRINCIPAL_USER,           /* arn:aws:iam::ACCT:user/PATH/NAME */
    PD_PRINCIPAL_ROLE_SESSION,   /* arn:aws:sts::ACCT:assumed-role/ROLE/SESSION */
    PD_PRINCIPAL_FEDERATED_USER, /* arn:aws:sts::ACCT:federated-user/NAME (GetFederationToken) */
    PD_PRINCIPAL_WEB_IDENTITY,   /* AssumeRoleWithWebIdentity/SAML caller: federated provider */
    PD_PRINCIPAL_SERVICE,        /* an AWS service principal (ec2.amazonaws.com) */
};

struct pd_principal_id {
    enum pd_principal_type type;
    const char *arn;       /* caller ARN (session ARN for sessions); NULL for anonymous */
    const char *account;   /* 12-digit account of the caller */
    const char *unique_id; /* AIDA... / AROA...:session / account id for root */
    const char *role_arn;  /* ROLE_SESSION: arn:aws:iam::ACCT:role/PATH/NAME */
    const char *user_arn;  /* FEDERATED_USER: the IAM user who called GetFederationToken */
    const char *federated; /* WEB_IDENTITY: provider ARN or name ("accounts.google.com") */
    const char *service;   /* SERVICE: "ec2.amazonaws.com" */
    const char *canonical; /* S3 canonical user id, if any */
};

/* One level of an organization on the path from its root to an account: the root, an OU or
 * the account itself, with the policies of one type (SCP or RCP) attached to it. Every level
 * must allow (some policy of the level has an applicable Allow); a Deny at any level wins. */
struct pd_org_level {
    const char *target; /* "r-ab12", "ou-ab12-1a2b3c4d", "111122223333" (traces, messages) */
    const struct pd_policy_ref *policies;
    size_t n;
};

/* Flags for struct pd_authz. */
#define PD_AUTHZ_TRACE 1u /* build the trace (json + matched statements + missing keys) */
#define PD_AUTHZ_TRUST 2u /* resource_policy is a role trust policy: it must allow itself */

struct pd_authz {
    const char *action;           /* "s3:GetObject" */
    const char *const *resources; /* each evaluated; NULL/0 means the single resource "*" */
    size_t nresources;
    struct pd_principal_id who;
    const struct pd_policy_ref *identity; /* user + group policies, or the role's */
    size_t nidentity;
    const struct pd_policy_ref *boundary; /* NULL: no permissions boundary */
    const struct pd_policy_ref *session;  /* session policies (inline + PolicyArns) */
    size_t nsession;
    const struct pd_policy_ref *resource_policy; /* NULL: none (or trust policy, see flags) */
    const char *resource_account; /* owner of the resource; NULL: same account as caller */
    /* Organizations: the SCPs of the caller's account (root first, the account last) and the
     * RCPs of the resource's account, for the services RCPs cover. NULL/0: none apply (no
     * organization, the management account, a service-linked role...). */
    const struct pd_org_level *scp_levels;
    size_t nscp_levels;
    const struct pd_org_level *rcp_levels;
    size_t nrcp_levels;
    const struct pd_ctx *ctx; /* may be NULL (no keys) */
    unsigned flags;
};

/* A statement that applied to the request (action, resource, principal and conditions all
 * matched), for the simulator's MatchedStatements. */
struct pd_matched_stmt {
    const struct pd_policy_ref *ref;
    enum pd_ptype ptype;
    size_t index; /* statement index in its policy */
    int deny;     /* 1: Effect Deny */
    unsigned start_line, start_col, end_line, end_col;
};

struct pd_authz_result {
    enum pd_decision decision;
    enum pd_ptype decided_by; /* policy type that allowed or denied (PD_PT_NONE: root...) */
    const struct pd_policy_ref *deny_ref; /* the policy with the explicit deny, if any */
    const char *resource;  /* the resource the decision is about (first failing one) */
    int boundary_allowed;  /* -1: no boundary; 0/1: did the boundary allow */
    int scp_allowed;       /* -1: no SCP levels; 0/1: did the SCPs allow (no deny, every level) */
    int rcp_allowed;       /* -1: no RCP levels; 0/1: likewise for the RCPs */
    const char *org_level; /* SCP/RCP denials: the level (root, OU, account) that decided */
    /* Filled only with PD_AUTHZ_TRACE (arena-owned): */
    struct pd_matched_stmt *matched;
    size_t nmatched;
    const char **missing; /* context keys (as the policy spelled them) a condition needed */
    size_t nmissing;
    json_t *trace; /* new reference owned by the caller (json_decref), or NULL */
};

/* Decide. a provides scratch memory and holds the trace arrays. Returns PD_OK (the decision
 * is in *OUT) or PD_EINVAL when req lacks an action. */
int pd_policy_authorize(struct pd_arena *a, const struct pd_authz *req,
                        struct pd_authz_result *OUT);

/* Does one policy, on its own, allow/deny action on resource for who in ctx? (the
 * simulator's per-policy view). Principal is ignored for identity-type policies. */
enum pd_decision pd_policy_eval_one(struct pd_arena *a, const struct pd_policy *p,
                                    const char *action, const char *resource,
                                    const struct pd_principal_id *who, const struct pd_ctx *ctx);

/* "allowed", "explicitDeny", "implicitDeny" (simulator EvalDecision). */
const char *pd_decision_name(enum pd_decision d);
/* "identity-based", "resource-based", "permissions boundary", "session", "role trust",
 * "service control", "resource control" ("" for none). */
const char *pd_ptype_name(enum pd_ptype t);
/* Simulator SourcePolicyType: user|group|role|aws-managed|user-managed|resource|none. */
const char *pd_psource_name(enum pd_psource s);

/* AWS's AccessDenied message, arena-owned:
 *   User: CALLER is not authorized to perform: ACTION[ on resource: RES] because no
 *   identity-based policy allows the ACTION action
 *   ... with an explicit deny in a resource-based policy[: POLICYARN]
 * resource NULL omits the resource clause; quote_resource wraps it in double quotes (S3's
 * variant); policy_arn (may be NULL) is appended to explicit denies. caller NULL is written
 * as "anonymous". */
char *pd_policy_denial_message(struct pd_arena *a, const char *caller, const char *action,
                               const char *resource, int quote_resource, enum pd_decision decision,
                               enum pd_ptype by, const char *policy_arn);

#endif
