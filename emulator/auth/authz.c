/* authz.c - gather a caller's compiled policies and principal keys (see authz.h). */
#include "auth/authz.h"

#include <string.h>

#include "auth/creds.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "store/iam_db.h"

/* A policy that allows nothing: stands in for one that cannot be used, so a missing piece
 * narrows access instead of widening it. */
#define NOTHING_ALLOWED                                                                            \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"                 \
    "\"podiam:Nothing\",\"Resource\":\"*\"}]}"

/* What the account root may do: everything (it federates with its own permissions). */
#define EVERYTHING_ALLOWED                                                                         \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","           \
    "\"Resource\":\"*\"}]}"

static enum pd_psource source_of(enum pd_iam_source s)
{
    switch (s) {
    case PD_IAM_SRC_USER_INLINE:
        return PD_SRC_USER_INLINE;
    case PD_IAM_SRC_GROUP_INLINE:
        return PD_SRC_GROUP_INLINE;
    case PD_IAM_SRC_ROLE_INLINE:
        return PD_SRC_ROLE_INLINE;
    case PD_IAM_SRC_MANAGED:
        return PD_SRC_CUSTOMER_MANAGED;
    case PD_IAM_SRC_AWS_MANAGED:
        return PD_SRC_AWS_MANAGED;
    }
    return PD_SRC_NONE;
}

void pd_authz_principal_id(struct pd_arena *a, const struct pd_principal *who,
                           struct pd_principal_id *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->arn = who->arn;
    OUT->account = who->account_id;
    OUT->unique_id = who->user_id;
    switch (who->kind) {
    case PD_CALLER_ANONYMOUS:
        OUT->type = PD_PRINCIPAL_ANONYMOUS;
        break;
    case PD_CALLER_ROOT:
        OUT->type = PD_PRINCIPAL_ROOT;
        break;
    case PD_CALLER_USER:
        OUT->type = PD_PRINCIPAL_USER;
        break;
    case PD_CALLER_ROLE_SESSION:
        OUT->type = PD_PRINCIPAL_ROLE_SESSION;
        OUT->role_arn = who->role_arn;
        break;
    case PD_CALLER_FEDERATED:
        OUT->type = PD_PRINCIPAL_FEDERATED_USER;
        OUT->user_arn = who->role_arn; /* the IAM user who federated */
        break;
    }
}

/* Compile text as kind through the cache and append a reference to refs. */
static int add_ref(struct pd_arena *a, struct pd_policy_cache *cache, enum pd_policy_kind kind,
                   const char *text, const char *id, enum pd_psource src,
                   struct pd_policy_ref *refs, size_t *n, struct pd_authz_caller *c)
{
    char err[256];
    const char *why = NULL;
    struct pd_cached_policy *h = NULL;
    if (pd_policy_cache_get(cache, kind, text, strlen(text), err, sizeof err, &h, &why)) {
        pd_log(PD_LOG_WARN, "policy %s no longer compiles (%s); ignored", id, why ? why : "?");
        return PD_OK;
    }
    c->held[c->nheld++] = h;
    refs[*n].policy = pd_cached_policy_get(h);
    refs[*n].id = pd_arena_strdup(a, id);
    refs[*n].source = src;
    (*n)++;
    return PD_OK;
}

static void add_tags(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                     struct pd_ctx *ctx)
{
    struct pd_iam_tag *tags = NULL;
    size_t n = 0;
    if (pd_iam_db_tags_get(db, a, kind, id, &tags, &n))
        return;
    for (size_t i = 0; i < n; i++) {
        char *key = pd_arena_printf(a, "aws:PrincipalTag/%s", tags[i].key);
        if (pd_ctx_count(ctx, key) < 0) /* session tags, added first, win */
            pd_ctx_add(ctx, key, PD_CTX_STRING, tags[i].value, (size_t)-1);
    }
}

int pd_authz_managed_document(struct pd_db *db, struct pd_arena *a, const char *account,
                              const char *arn, const char **OUT_text)
{
    struct pd_iam_policy p;
    int rc = pd_iam_db_policy_get(db, a, account, arn, &p);
    if (rc)
        return rc;
    struct pd_iam_policy_version v;
    rc = pd_iam_db_version_get(db, a, &p, p.default_version, &v);
    if (rc)
        return rc;
    *OUT_text = v.document;
    return PD_OK;
}

/* Session facts carried in the token: session policies and session tags. */
static void load_session(struct pd_db *db, struct pd_arena *a, struct pd_policy_cache *cache,
                         const struct pd_principal *who, struct pd_ctx *ctx,
                         struct pd_authz_caller *c)
{
    json_t *x = pd_creds_session_extra(who);
    if (!x)
        return;
    json_t *tags = json_object_get(x, "tags");
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        pd_ctx_add(ctx, pd_arena_printf(a, "aws:PrincipalTag/%s", k), PD_CTX_STRING,
                   json_string_value(v), (size_t)-1);
    }
    const char *inline_policy = json_string_value(json_object_get(x, "policy"));
    json_t *arns = json_object_get(x, "policy_arns");
    size_t max = (inline_policy ? 1 : 0) + json_array_size(arns);
    if (max) {
        c->session = pd_arena_zalloc(a, max * sizeof *c->session);
        if (inline_policy)
            add_ref(a, cache, PD_POLICY_SESSION, inline_policy, "session policy", PD_SRC_SESSION,
                    c->session, &c->nsession, c);
        size_t i;
        json_t *arn;
        json_array_foreach(arns, i, arn)
        {
            const char *text = NULL;
            if (pd_authz_managed_document(db, a, who->account_id, json_string_value(arn), &text) ==
                PD_OK)
                add_ref(a, cache, PD_POLICY_SESSION, text, json_string_value(arn), PD_SRC_SESSION,
                        c->session, &c->nsession, c);
        }
        if (!c->nsession) {
            /* Session policies were passed but none can be used (a managed policy deleted
             * since): the session is allowed nothing, never everything. */
            static const char deny_all[] = NOTHING_ALLOWED;
            add_ref(a, cache, PD_POLICY_SESSION, deny_all, "session policy (unavailable)",
                    PD_SRC_SESSION, c->session, &c->nsession, c);
        }
    }
    json_decref(x);
}

int pd_authz_caller_load(struct pd_db *db, struct pd_arena *a, struct pd_policy_cache *cache,
                         const struct pd_principal *who, struct pd_ctx *ctx,
                         struct pd_authz_caller *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    pd_authz_principal_id(a, who, &OUT->id);
    pd_ctx_add_principal_keys(ctx, &OUT->id);
    if (who->kind == PD_CALLER_ANONYMOUS || who->kind == PD_CALLER_ROOT)
        return PD_OK;

    struct pd_iam_source_policy *src = NULL, boundary;
    size_t n = 0;
    int rc;
    memset(&boundary, 0, sizeof boundary);
    OUT->held = pd_arena_zalloc(a, 64 * sizeof *OUT->held);
    if (who->kind == PD_CALLER_USER) {
        struct pd_iam_user u;
        rc = pd_iam_db_user_get(db, a, who->account_id, who->name, &u);
        if (rc == PD_OK)
            add_tags(db, a, PD_IAM_USER, u.id, ctx);
        rc = pd_iam_db_user_policies(db, a, who->account_id, who->name, &src, &n, &boundary);
    } else if (who->kind == PD_CALLER_ROLE_SESSION) {
        load_session(db, a, cache, who, ctx, OUT);
        struct pd_iam_role role;
        rc = pd_iam_db_role_get(db, a, who->account_id, who->name, &role);
        /* A session belongs to the role it was minted for, by unique id: a role of the same
         * name made after that one was deleted is another role, and lends the session
         * nothing (no policies, no tags), as in IAM. */
        if (rc == PD_OK && who->unique_id && role.unique_id &&
            strcmp(who->unique_id, role.unique_id) != 0)
            return PD_OK;
        if (rc == PD_OK)
            add_tags(db, a, PD_IAM_ROLE, role.id, ctx);
        rc = pd_iam_db_role_policies(db, a, who->account_id, who->name, &src, &n, &boundary);
    } else {
        /* A federated user: the session policies intersected with the policies of the IAM
         * user who federated (the root's are everything). */
        load_session(db, a, cache, who, ctx, OUT);
        json_t *x = pd_creds_session_extra(who);
        json_t *by = json_object_get(x, "federated_by");
        const char *kind = json_string_value(json_object_get(by, "kind"));
        const char *user = json_string_value(json_object_get(by, "name"));
        rc = PD_OK;
        if (kind && strcmp(kind, "root") == 0) {
            OUT->identity = pd_arena_zalloc(a, sizeof *OUT->identity);
            add_ref(a, cache, PD_POLICY_INLINE, EVERYTHING_ALLOWED, "account root", PD_SRC_NONE,
                    OUT->identity, &OUT->nidentity, OUT);
        } else if (user) {
            rc = pd_iam_db_user_policies(db, a, who->account_id, pd_arena_strdup(a, user), &src, &n,
                                         &boundary);
        }
        json_decref(x);
        if (OUT->nidentity)
            return PD_OK;
    }
    if (rc == PD_ENOTFOUND)
        return PD_OK; /* the user or role was deleted: no identity policy applies */
    if (rc)
        return rc;
    if (n + 2 + OUT->nheld > 64) {
        struct pd_cached_policy **held = pd_arena_zalloc(a, (n + 64) * sizeof *held);
        memcpy(held, OUT->held, OUT->nheld * sizeof *held);
        OUT->held = held;
    }
    OUT->identity = pd_arena_zalloc(a, (n ? n : 1) * sizeof *OUT->identity);
    for (size_t i = 0; i < n; i++) {
        const char *id =
            src[i].type == PD_IAM_SRC_MANAGED || src[i].type == PD_IAM_SRC_AWS_MANAGED
                ? src[i].id
                : pd_arena_printf(a, "%s/%s/%s", src[i].via_kind, src[i].via_name, src[i].id);
        add_ref(a, cache,
                src[i].type == PD_IAM_SRC_MANAGED || src[i].type == PD_IAM_SRC_AWS_MANAGED
                    ? PD_POLICY_MANAGED
                    : PD_POLICY_INLINE,
                src[i].document, id, source_of(src[i].type), OUT->identity, &OUT->nidentity, OUT);
    }
    if (boundary.document) {
        size_t one = 0;
        add_ref(a, cache, PD_POLICY_BOUNDARY, boundary.document, boundary.id, PD_SRC_BOUNDARY,
                &OUT->boundary, &one, OUT);
        if (!one) {
            /* A boundary that cannot be used allows nothing. */
            add_ref(a, cache, PD_POLICY_BOUNDARY, NOTHING_ALLOWED, boundary.id, PD_SRC_BOUNDARY,
                    &OUT->boundary, &one, OUT);
        }
    }
    return PD_OK;
}

void pd_authz_caller_release(struct pd_policy_cache *cache, struct pd_authz_caller *c)
{
    for (size_t i = 0; i < c->nheld; i++)
        pd_policy_cache_release(cache, c->held[i]);
    c->nheld = 0;
}
