/*
 * iam_authz.c - what each IAM operation needs to be allowed: the action iam:<Operation> on
 * the resource AWS evaluates for it, with IAM's condition keys.
 *
 * Resources (IAM's Service Authorization Reference, and AWS's denial messages): the named
 * user, group, role, managed policy or OIDC provider, by ARN with its path (an entity that
 * does not exist yet is named with the path given, or "/"); list operations name the
 * entity type with the path prefix (arn:aws:iam::ACCT:user/ for ListUsers); operations
 * without a resource use "*". Keys: iam:PolicyARN (attach/detach), iam:PermissionsBoundary,
 * aws:ResourceTag/ and iam:ResourceTag/ (tags of the user or role acted on).
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "services/iam/iam_internal.h"
#include "services/service.h"

static const char *path_or_root(const char *p)
{
    return p && *p ? p : "/";
}

static void resource_tags(struct pd_req *r, struct pd_authz_need *need, enum pd_iam_kind kind,
                          int64_t id)
{
    struct pd_iam_tag *tags = NULL;
    size_t n = 0;
    if (pd_iam_db_tags_get(r->db, &r->arena, kind, id, &tags, &n))
        return;
    for (size_t i = 0; i < n; i++) {
        pd_ctx_add(&need->ctx, pd_arena_printf(&r->arena, "aws:ResourceTag/%s", tags[i].key),
                   PD_CTX_STRING, tags[i].value, (size_t)-1);
        pd_ctx_add(&need->ctx, pd_arena_printf(&r->arena, "iam:ResourceTag/%s", tags[i].key),
                   PD_CTX_STRING, tags[i].value, (size_t)-1);
    }
}

/* ARN of a user, group or role named in the input: the stored one when it exists. */
static const char *entity_arn(struct pd_req *r, struct pd_authz_need *need, enum pd_iam_kind kind,
                              const char *name)
{
    const char *acct = pd_iam_account(r);
    const char *type = kind == PD_IAM_USER ? "user" : kind == PD_IAM_GROUP ? "group" : "role";
    const char *path = NULL;
    if (kind == PD_IAM_USER) {
        struct pd_iam_user u;
        if (pd_iam_db_user_get(r->db, &r->arena, acct, name, &u) == PD_OK) {
            resource_tags(r, need, kind, u.id);
            return u.arn;
        }
    } else if (kind == PD_IAM_GROUP) {
        struct pd_iam_group g;
        if (pd_iam_db_group_get(r->db, &r->arena, acct, name, &g) == PD_OK)
            return g.arn;
    } else {
        struct pd_iam_role role;
        if (pd_iam_db_role_get(r->db, &r->arena, acct, name, &role) == PD_OK) {
            resource_tags(r, need, kind, role.id);
            return role.arn;
        }
    }
    /* Not there (yet): Create* names it with the path it will have. */
    path = pd_iam_in_str(r, "Path");
    return pd_arena_printf(&r->arena, "arn:aws:iam::%s:%s%s%s", acct, type, path_or_root(path),
                           name);
}

/* The caller's own user (operations whose UserName defaults to the caller). */
static const char *self_arn(struct pd_req *r)
{
    return r->who.kind == PD_CALLER_USER ? r->who.arn : "*";
}

static const char *list_arn(struct pd_req *r, const char *type)
{
    const char *prefix = pd_iam_in_str(r, "PathPrefix");
    return pd_arena_printf(&r->arena, "arn:aws:iam::%s:%s%s", pd_iam_account(r), type,
                           path_or_root(prefix));
}

int pd_iam_authz(struct pd_req *r, struct pd_authz_need *need)
{
    const char *op = r->op->name;
    const char *action = pd_arena_printf(&r->arena, "iam:%s", op);
    const char *acct = pd_iam_account(r);
    const char *resource = "*", *shown = NULL;
    const char *group = pd_iam_in_str(r, "GroupName");
    const char *role = pd_iam_in_str(r, "RoleName");
    const char *user = pd_iam_in_str(r, "UserName");
    const char *policy_arn = pd_iam_in_str(r, "PolicyArn");
    const char *boundary = pd_iam_in_str(r, "PermissionsBoundary");

    if (strcmp(op, "ListUsers") == 0) {
        resource = list_arn(r, "user");
    } else if (strcmp(op, "ListRoles") == 0) {
        resource = list_arn(r, "role");
    } else if (strcmp(op, "ListGroups") == 0) {
        resource = list_arn(r, "group");
    } else if (strcmp(op, "ListPolicies") == 0) {
        const char *prefix = pd_iam_in_str(r, "PathPrefix");
        shown = pd_arena_printf(&r->arena, "policy path %s", path_or_root(prefix));
    } else if (strcmp(op, "SimulatePrincipalPolicy") == 0) {
        const char *src = pd_iam_in_str(r, "PolicySourceArn");
        resource = src ? src : "*";
    } else if (group) {
        resource = entity_arn(r, need, PD_IAM_GROUP, group);
    } else if (role) {
        resource = entity_arn(r, need, PD_IAM_ROLE, role);
    } else if (user) {
        resource = entity_arn(r, need, PD_IAM_USER, user);
    } else if (strcmp(op, "CreatePolicy") == 0) {
        const char *name = pd_iam_in_str(r, "PolicyName");
        resource = pd_arena_printf(&r->arena, "arn:aws:iam::%s:policy%s%s", acct,
                                   path_or_root(pd_iam_in_str(r, "Path")), name ? name : "");
    } else if (policy_arn) {
        resource = policy_arn;
    } else if (pd_iam_in_str(r, "OpenIDConnectProviderArn")) {
        resource = pd_iam_in_str(r, "OpenIDConnectProviderArn");
    } else if (strcmp(op, "CreateOpenIDConnectProvider") == 0) {
        const char *url = pd_iam_in_str(r, "Url");
        if (url && pd_has_prefix(url, "https://"))
            url += 8;
        resource =
            pd_arena_printf(&r->arena, "arn:aws:iam::%s:oidc-provider/%s", acct, url ? url : "");
    } else if (strcmp(op, "GetAccessKeyLastUsed") == 0) {
        struct pd_iam_access_key k;
        const char *akid = pd_iam_in_str(r, "AccessKeyId");
        resource = "*";
        if (akid && pd_iam_db_key_get(r->db, &r->arena, acct, akid, &k) == PD_OK && k.user_id)
            resource = self_arn(r);
    } else if (strcmp(op, "GetUser") == 0 || strcmp(op, "CreateAccessKey") == 0 ||
               strcmp(op, "ListAccessKeys") == 0 || strcmp(op, "UpdateAccessKey") == 0 ||
               strcmp(op, "DeleteAccessKey") == 0 || strcmp(op, "ListGroupsForUser") == 0) {
        resource = self_arn(r);
    }

    /* Attaching or detaching a managed policy is about the entity; the policy is a key. */
    if (policy_arn && (pd_has_prefix(op, "Attach") || pd_has_prefix(op, "Detach")))
        pd_ctx_add(&need->ctx, "iam:PolicyARN", PD_CTX_STRING, policy_arn, (size_t)-1);
    if (boundary)
        pd_ctx_add(&need->ctx, "iam:PermissionsBoundary", PD_CTX_STRING, boundary, (size_t)-1);
    pd_authz_add(need, action, resource, shown);
    return PD_OK;
}
