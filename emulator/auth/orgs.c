/* orgs.c - the organization side of a request's authorization (see orgs.h). */
#include "auth/orgs.h"

#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "store/org_db.h"

/* Stands for a stored policy that no longer compiles: it allows nothing, so a broken
 * guardrail narrows access instead of widening it. */
#define NOTHING_ALLOWED                                                                            \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"                 \
    "\"podiam:Nothing\",\"Resource\":\"*\"}]}"
#define NOTHING_ALLOWED_RCP                                                                        \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","        \
    "\"Action\":\"podiam:Nothing\",\"Resource\":\"*\"}]}"

#define MAX_DEPTH 8 /* the root, five OUs, the account; more only in a state edited by hand */

int pd_authz_org_rcp_covers(const char *action)
{
    /* the services the Organizations User Guide lists for RCPs */
    static const char *const svc[] = {"s3", "sts", "kms", "sqs", "secretsmanager", NULL};
    const char *colon = action ? strchr(action, ':') : NULL;
    if (!colon)
        return 0;
    for (const char *const *s = svc; *s; s++)
        if (strlen(*s) == (size_t)(colon - action) && pd_strncaseeq(action, *s, strlen(*s)))
            return 1;
    return 0;
}

int pd_authz_org_service_linked(const char *role_arn)
{
    return role_arn && strstr(role_arn, ":role/aws-service-role/") != NULL;
}

static void hold(struct pd_arena *a, struct pd_authz_org *o, struct pd_cached_policy *h)
{
    if (o->nheld == o->capheld) {
        size_t cap = o->capheld ? o->capheld * 2 : 16;
        struct pd_cached_policy **n = pd_arena_alloc(a, cap * sizeof *n);
        if (o->nheld)
            memcpy(n, o->held, o->nheld * sizeof *n);
        o->held = n;
        o->capheld = cap;
    }
    o->held[o->nheld++] = h;
}

/* The path of an account in its organization: the ids from the root to the account (the
 * root first), and "o-…/r-…/ou-…/…/" as aws:PrincipalOrgPaths spells it (the account's
 * parents, the account itself left out). */
static int account_path(struct pd_db *db, struct pd_arena *a, const struct pd_org *org,
                        const char *account, const char *ids[MAX_DEPTH], size_t *OUT_n,
                        const char **OUT_text)
{
    struct pd_org_account m;
    int rc = pd_org_db_account_get(db, a, account, &m);
    if (rc)
        return rc;
    const char *rev[MAX_DEPTH];
    size_t n = 0;
    rev[n++] = account;
    const char *p = m.parent_id;
    while (p && n < MAX_DEPTH && pd_has_prefix(p, "ou-")) {
        struct pd_org_ou ou;
        if ((rc = pd_org_db_ou_get(db, a, p, &ou)))
            return rc;
        rev[n++] = ou.id;
        p = ou.parent_id;
    }
    if (!p || strcmp(p, org->root_id) != 0 || n == MAX_DEPTH)
        return PD_EIO; /* not a tree: a state edited by hand */
    rev[n++] = org->root_id;
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_printf(&b, "%s/", org->id);
    for (size_t i = 0; i < n; i++) {
        ids[i] = rev[n - 1 - i];
        if (i + 1 < n) /* the parents, not the account */
            pd_buf_printf(&b, "%s/", ids[i]);
    }
    *OUT_text = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    *OUT_n = n;
    return PD_OK;
}

/* The levels of one policy type for an account: each id of its path with the policies of the
 * type attached to it, compiled. */
static int levels(struct pd_db *db, struct pd_arena *a, struct pd_policy_cache *cache,
                  const struct pd_org *org, const char *const *ids, size_t nids, const char *type,
                  struct pd_authz_org *o, struct pd_org_level **OUT, size_t *OUT_n)
{
    int rcp = strcmp(type, PD_ORG_RCP) == 0;
    enum pd_policy_kind kind = rcp ? PD_POLICY_RCP : PD_POLICY_SCP;
    if (!cache)
        return PD_EINTERNAL; /* an environment without the policy cache (pd_authorize_init) */
    struct pd_org_level *lv = pd_arena_zalloc(a, nids * sizeof *lv);
    for (size_t i = 0; i < nids; i++) {
        struct pd_org_policy *pols;
        size_t np;
        int rc = pd_org_db_target_policies(db, a, org->id, ids[i], type, &pols, &np);
        if (rc)
            return rc;
        struct pd_policy_ref *refs = pd_arena_zalloc(a, (np ? np : 1) * sizeof *refs);
        size_t k = 0;
        for (size_t j = 0; j < np; j++) {
            char err[256];
            const char *why = NULL;
            struct pd_cached_policy *h = NULL;
            const char *text = pols[j].content;
            if (pd_policy_cache_get(cache, kind, text, strlen(text), err, sizeof err, &h, &why)) {
                pd_log(PD_LOG_WARN,
                       "organization policy %s no longer compiles (%s); it allows "
                       "nothing",
                       pols[j].id, why ? why : "?");
                text = rcp ? NOTHING_ALLOWED_RCP : NOTHING_ALLOWED;
                if (pd_policy_cache_get(cache, kind, text, strlen(text), err, sizeof err, &h, &why))
                    continue;
            }
            hold(a, o, h);
            refs[k].policy = pd_cached_policy_get(h);
            refs[k].id = pd_arena_printf(a, "%s (%s)", pols[j].name, pols[j].id);
            refs[k].source = rcp ? PD_SRC_RCP : PD_SRC_SCP;
            k++;
        }
        lv[i].target = ids[i];
        lv[i].policies = refs;
        lv[i].n = k;
    }
    *OUT = lv;
    *OUT_n = nids;
    return PD_OK;
}

/* The organization facts of one account: its organization (PD_ENOTFOUND: none), its path. */
static int account_org(struct pd_db *db, struct pd_arena *a, const char *account,
                       struct pd_org *org, const char *ids[MAX_DEPTH], size_t *n, const char **path)
{
    int rc = pd_org_db_of_account(db, a, account, org);
    if (rc)
        return rc;
    return account_path(db, a, org, account, ids, n, path);
}

int pd_authz_org_load(struct pd_db *db, struct pd_arena *a, struct pd_policy_cache *cache,
                      const struct pd_principal_id *who, const char *resource_account,
                      const char *rcp_action, struct pd_ctx *ctx, struct pd_authz_org *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    int slr = who->type == PD_PRINCIPAL_ROLE_SESSION && pd_authz_org_service_linked(who->role_arn);
    struct pd_org org;
    const char *ids[MAX_DEPTH], *path = NULL;
    size_t n = 0;
    int rc;

    /* the caller's side: an IAM principal of an account (not anonymous, a service, or a web
     * identity that has not yet become a role session) */
    int iam_caller =
        who->account &&
        (who->type == PD_PRINCIPAL_ROOT || who->type == PD_PRINCIPAL_USER ||
         who->type == PD_PRINCIPAL_ROLE_SESSION || who->type == PD_PRINCIPAL_FEDERATED_USER);
    if (iam_caller) {
        rc = account_org(db, a, who->account, &org, ids, &n, &path);
        if (rc == PD_OK) {
            pd_ctx_add(ctx, "aws:PrincipalOrgID", PD_CTX_STRING, org.id, (size_t)-1);
            pd_ctx_add(ctx, "aws:PrincipalOrgPaths", PD_CTX_STRING, path, (size_t)-1);
            if (!slr && strcmp(org.management_account, who->account) != 0 &&
                pd_org_db_type_enabled(db, org.id, PD_ORG_SCP) &&
                (rc = levels(db, a, cache, &org, ids, n, PD_ORG_SCP, OUT, &OUT->scp, &OUT->nscp)))
                return PD_EIO;
        } else if (rc != PD_ENOTFOUND) {
            return PD_EIO;
        }
    }

    /* the resource's side */
    const char *owner = resource_account ? resource_account : iam_caller ? who->account : NULL;
    if (owner) {
        pd_ctx_add(ctx, "aws:ResourceAccount", PD_CTX_STRING, owner, (size_t)-1);
        rc = account_org(db, a, owner, &org, ids, &n, &path);
        if (rc == PD_OK) {
            pd_ctx_add(ctx, "aws:ResourceOrgID", PD_CTX_STRING, org.id, (size_t)-1);
            pd_ctx_add(ctx, "aws:ResourceOrgPaths", PD_CTX_STRING, path, (size_t)-1);
            if (resource_account && !slr && pd_authz_org_rcp_covers(rcp_action) &&
                strcmp(org.management_account, owner) != 0 &&
                pd_org_db_type_enabled(db, org.id, PD_ORG_RCP) &&
                levels(db, a, cache, &org, ids, n, PD_ORG_RCP, OUT, &OUT->rcp, &OUT->nrcp))
                return PD_EIO;
        } else if (rc != PD_ENOTFOUND) {
            return PD_EIO;
        }
    }

    /* a service acting for a resource of an account (aws:SourceAccount): its organization */
    const char *source = pd_ctx_get(ctx, "aws:SourceAccount", 0);
    if (source && account_org(db, a, source, &org, ids, &n, &path) == PD_OK) {
        pd_ctx_add(ctx, "aws:SourceOrgID", PD_CTX_STRING, org.id, (size_t)-1);
        pd_ctx_add(ctx, "aws:SourceOrgPaths", PD_CTX_STRING, path, (size_t)-1);
    }
    return PD_OK;
}

void pd_authz_org_release(struct pd_policy_cache *cache, struct pd_authz_org *o)
{
    for (size_t i = 0; i < o->nheld; i++)
        pd_policy_cache_release(cache, o->held[i]);
    o->nheld = 0;
}
