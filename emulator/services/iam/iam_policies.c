/*
 * iam_policies.c - managed policies and their versions, inline policies of users, groups
 * and roles, and managed-policy attachments (handlers; see iam_internal.h).
 *
 * Documents are stored as the caller wrote them and returned URL-encoded, as AWS does. Every
 * document goes through pd_iam_validate_policy_document before it is stored. Customer
 * policies get v1, v2, ... (never reused) and at most five versions; AWS managed policies are
 * built-in and read-only.
 */
#include <string.h>

#include "core/arena.h"
#include "core/arn.h"
#include "core/err.h"
#include "core/str.h"
#include "services/iam/iam_internal.h"

/* ------------------------------------------------------------------------------------ */
/* managed policies */

int pd_iam_do_create_policy(struct pd_req *r, const struct pd_iam_fixed *fx)
{
    const char *name, *doc, *path = pd_iam_in_str(r, "Path");
    const char *desc = pd_iam_in_str(r, "Description");
    json_t *tags = pd_iam_in(r, "Tags");
    if (pd_iam_in_req(r, "PolicyName", &name) || pd_iam_check_name(r, name, "policyName", 128) ||
        pd_iam_in_req(r, "PolicyDocument", &doc))
        return PD_EAWS;
    if (!path)
        path = "/";
    if (pd_iam_check_policy_path(r, path, "path") || pd_iam_check_tags(r, tags))
        return PD_EAWS;
    if (desc && strlen(desc) > 1000)
        return pd_iam_invalid(r, desc, "description",
                              "Member must have length less than or equal to 1000");
    if (pd_iam_validate_policy_document(r, doc, PD_IAM_DOC_MANAGED))
        return PD_EAWS;
    int64_t now = fx && fx->created_ms ? fx->created_ms : pd_iam_now_ms(r);
    const char *acct = pd_iam_account(r);
    struct pd_iam_policy p = {
        .account_id = acct,
        .name = name,
        .path = path,
        .arn = pd_arena_printf(&r->arena, "arn:aws:iam::%s:policy%s%s", acct, path, name),
        .unique_id = fx && fx->id ? fx->id : pd_iam_new_id(r, "ANPA"),
        .description = desc,
        .created_ms = now,
        .updated_ms = now,
        .default_version = fx && fx->version_id ? fx->version_id : "v1",
    };
    int rc = pd_iam_db_policy_put(r->db, &p, doc);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists,
                       "A policy called %s already exists. Duplicate names are not allowed.", name);
    if (rc || pd_iam_tags_apply(r, PD_IAM_POLICY, p.id, tags))
        return pd_iam_store_fail(r, rc ? rc : PD_EAWS);
    if ((rc = pd_iam_db_policy_get(r->db, &r->arena, acct, p.arn, &p)))
        return pd_iam_store_fail(r, rc);
    json_object_set_new(pd_iam_out(r), "Policy", pd_iam_policy_json(r, &p, PD_IAM_FULL));
    return PD_OK;
}

int pd_iam_create_policy(struct pd_req *r)
{
    return pd_iam_do_create_policy(r, NULL);
}

/* PolicyArn of the request, found ("was not found" wording). */
static int the_policy(struct pd_req *r, struct pd_iam_policy *OUT)
{
    const char *arn;
    if (pd_iam_in_req(r, "PolicyArn", &arn))
        return PD_EAWS;
    return pd_iam_policy_find(r, arn, 0, OUT);
}

/* Customer policies only: AWS managed ones cannot be changed. */
static int customer(struct pd_req *r, const struct pd_iam_policy *p)
{
    if (!p->aws_managed)
        return PD_OK;
    return pd_fail(r, &IAM_UnmodifiableEntity,
                   "Policy %s is an AWS managed policy and cannot be "
                   "modified.",
                   p->arn);
}

int pd_iam_get_policy(struct pd_req *r)
{
    struct pd_iam_policy p;
    if (the_policy(r, &p))
        return PD_EAWS;
    json_object_set_new(pd_iam_out(r), "Policy", pd_iam_policy_json(r, &p, PD_IAM_FULL));
    return PD_OK;
}

int pd_iam_list_policies(struct pd_req *r)
{
    const char *scope_s = pd_iam_in_str(r, "Scope");
    const char *usage = pd_iam_in_str(r, "PolicyUsageFilter");
    int only_attached = pd_iam_in_bool(r, "OnlyAttached", 0);
    enum pd_iam_scope scope = PD_IAM_SCOPE_ALL;
    if (scope_s && strcmp(scope_s, "AWS") == 0)
        scope = PD_IAM_SCOPE_AWS;
    else if (scope_s && strcmp(scope_s, "Local") == 0)
        scope = PD_IAM_SCOPE_LOCAL;
    else if (scope_s && strcmp(scope_s, "All") != 0)
        return pd_iam_invalid(r, scope_s, "scope",
                              "Member must satisfy enum value set: [All, AWS, Local]");
    if (usage && strcmp(usage, "PermissionsPolicy") != 0 &&
        strcmp(usage, "PermissionsBoundary") != 0)
        return pd_iam_invalid(r, usage, "policyUsageFilter",
                              "Member must satisfy enum value set: [PermissionsPolicy, "
                              "PermissionsBoundary]");
    struct pd_iam_policy *p;
    size_t n;
    int rc = pd_iam_db_policy_list(r->db, &r->arena, pd_iam_account(r), scope,
                                   pd_iam_in_str(r, "PathPrefix"), &p, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    int boundary = usage && strcmp(usage, "PermissionsBoundary") == 0;
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        if (only_attached && !(boundary ? p[i].boundary_count : p[i].attachment_count))
            continue;
        json_array_append_new(items, pd_iam_policy_json(r, &p[i], 0));
    }
    return pd_iam_paginate(r, items, "Policies");
}

int pd_iam_delete_policy(struct pd_req *r)
{
    struct pd_iam_policy p;
    if (the_policy(r, &p) || customer(r, &p))
        return PD_EAWS;
    if (p.attachment_count || p.boundary_count)
        return pd_fail(r, &IAM_DeleteConflict, "Cannot delete a policy attached to entities.");
    struct pd_iam_policy_version *v;
    size_t n;
    int rc = pd_iam_db_version_list(r->db, &r->arena, &p, &v, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    if (n > 1)
        return pd_fail(r, &IAM_DeleteConflict,
                       "This policy has more than one version. Before you delete a policy, you "
                       "must delete the policy's versions. The default version is deleted with "
                       "the policy.");
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_policy_del(r->db, p.id));
}

int pd_iam_add_policy_version(struct pd_req *r, const char *arn, const char *version_id,
                              const char *document, int64_t created_ms, int set_default)
{
    struct pd_iam_policy p;
    if (pd_iam_policy_find(r, arn, 0, &p) || customer(r, &p))
        return PD_EAWS;
    struct pd_iam_policy_version *v;
    size_t n;
    int rc = pd_iam_db_version_list(r->db, &r->arena, &p, &v, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    if (n >= PD_IAM_MAX_VERSIONS)
        return pd_fail(r, &IAM_LimitExceeded,
                       "A managed policy can have up to %d versions. Before you create a new "
                       "version, you must delete an existing version.",
                       PD_IAM_MAX_VERSIONS);
    if (pd_iam_validate_policy_document(r, document, PD_IAM_DOC_MANAGED))
        return PD_EAWS;
    const char *vid;
    rc = pd_iam_db_version_put(r->db, &r->arena, &p, version_id, document,
                               created_ms ? created_ms : pd_iam_now_ms(r), set_default, &vid);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists, "Policy %s version %s already exists.", arn,
                       version_id);
    if (rc)
        return pd_iam_store_fail(r, rc);
    struct pd_iam_policy_version pv;
    if ((rc = pd_iam_db_policy_get(r->db, &r->arena, pd_iam_account(r), arn, &p)) ||
        (rc = pd_iam_db_version_get(r->db, &r->arena, &p, vid, &pv)))
        return pd_iam_store_fail(r, rc);
    json_object_set_new(pd_iam_out(r), "PolicyVersion",
                        json_pack("{s:s, s:b, s:o}", "VersionId", pv.version_id, "IsDefaultVersion",
                                  pv.is_default, "CreateDate", pd_iam_time(pv.created_ms)));
    return PD_OK;
}

int pd_iam_create_policy_version(struct pd_req *r)
{
    const char *arn, *doc;
    if (pd_iam_in_req(r, "PolicyArn", &arn) || pd_iam_in_req(r, "PolicyDocument", &doc))
        return PD_EAWS;
    return pd_iam_add_policy_version(r, arn, NULL, doc, 0, pd_iam_in_bool(r, "SetAsDefault", 0));
}

/* The version VersionId of a policy, or NoSuchEntity. */
static int the_version(struct pd_req *r, const struct pd_iam_policy *p,
                       struct pd_iam_policy_version *OUT)
{
    const char *vid;
    if (pd_iam_in_req(r, "VersionId", &vid))
        return PD_EAWS;
    int rc = pd_iam_db_version_get(r->db, &r->arena, p, vid, OUT);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity,
                       "Policy %s version %s does not exist or is not "
                       "attachable.",
                       p->arn, vid);
    return pd_iam_store_fail(r, rc);
}

int pd_iam_get_policy_version(struct pd_req *r)
{
    struct pd_iam_policy p;
    struct pd_iam_policy_version v;
    if (the_policy(r, &p) || the_version(r, &p, &v))
        return PD_EAWS;
    json_object_set_new(pd_iam_out(r), "PolicyVersion",
                        json_pack("{s:o, s:s, s:b, s:o}", "Document", pd_iam_doc(r, v.document),
                                  "VersionId", v.version_id, "IsDefaultVersion", v.is_default,
                                  "CreateDate", pd_iam_time(v.created_ms)));
    return PD_OK;
}

int pd_iam_list_policy_versions(struct pd_req *r)
{
    struct pd_iam_policy p;
    if (the_policy(r, &p))
        return PD_EAWS;
    struct pd_iam_policy_version *v;
    size_t n;
    int rc = pd_iam_db_version_list(r->db, &r->arena, &p, &v, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:s, s:b, s:o}", "VersionId", v[i].version_id,
                                               "IsDefaultVersion", v[i].is_default, "CreateDate",
                                               pd_iam_time(v[i].created_ms)));
    return pd_iam_paginate(r, items, "Versions");
}

int pd_iam_delete_policy_version(struct pd_req *r)
{
    struct pd_iam_policy p;
    struct pd_iam_policy_version v;
    if (the_policy(r, &p) || customer(r, &p) || the_version(r, &p, &v))
        return PD_EAWS;
    if (v.is_default)
        return pd_fail(r, &IAM_DeleteConflict, "Cannot delete the default version of a policy.");
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_version_del(r->db, p.id, v.version_id));
}

int pd_iam_set_default_policy_version(struct pd_req *r)
{
    struct pd_iam_policy p;
    struct pd_iam_policy_version v;
    if (the_policy(r, &p) || customer(r, &p) || the_version(r, &p, &v))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(
        r, pd_iam_db_version_set_default(r->db, p.id, v.version_id, pd_iam_now_ms(r)));
}

int pd_iam_tag_policy(struct pd_req *r)
{
    struct pd_iam_policy p;
    if (the_policy(r, &p) || customer(r, &p))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_tags_apply(r, PD_IAM_POLICY, p.id, pd_iam_in(r, "Tags"));
}

int pd_iam_untag_policy(struct pd_req *r)
{
    struct pd_iam_policy p;
    if (the_policy(r, &p) || customer(r, &p))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_tags_remove(r, PD_IAM_POLICY, p.id, pd_iam_in(r, "TagKeys"));
}

int pd_iam_list_policy_tags(struct pd_req *r)
{
    struct pd_iam_policy p;
    if (the_policy(r, &p))
        return PD_EAWS;
    if (p.aws_managed)
        return pd_iam_paginate(r, json_array(), "Tags");
    return pd_iam_tags_list(r, PD_IAM_POLICY, p.id);
}

int pd_iam_list_entities_for_policy(struct pd_req *r)
{
    struct pd_iam_policy p;
    if (the_policy(r, &p))
        return PD_EAWS;
    const char *filter = pd_iam_in_str(r, "EntityFilter");
    const char *usage = pd_iam_in_str(r, "PolicyUsageFilter");
    const char *prefix = pd_iam_in_str(r, "PathPrefix");
    static const char *const lists[] = {"PolicyUsers", "PolicyGroups", "PolicyRoles"};
    static const char *const names[] = {"UserName", "GroupName", "RoleName"};
    static const char *const ids[] = {"UserId", "GroupId", "RoleId"};
    static const char *const filters[] = {"User", "Group", "Role"};
    json_t *items = json_array();
    for (int boundary = 0; boundary < 2; boundary++) {
        if (usage && strcmp(usage, boundary ? "PermissionsBoundary" : "PermissionsPolicy") != 0)
            continue;
        struct pd_iam_entity_ref *e;
        size_t n;
        int rc =
            pd_iam_db_policy_entities(r->db, &r->arena, pd_iam_account(r), p.arn, boundary, &e, &n);
        if (rc) {
            json_decref(items);
            return pd_iam_store_fail(r, rc);
        }
        for (size_t i = 0; i < n; i++) {
            if ((filter && strcmp(filter, filters[e[i].kind]) != 0) ||
                (prefix && !pd_has_prefix(e[i].path, prefix)))
                continue;
            int dup = 0;
            size_t k;
            json_t *it;
            json_array_foreach(items, k, it)
            {
                dup |= strcmp(json_string_value(json_object_get(it, "id")), e[i].unique_id) == 0;
            }
            if (!dup)
                json_array_append_new(items, json_pack("{s:i, s:s, s:s}", "k", (int)e[i].kind,
                                                       "name", e[i].name, "id", e[i].unique_id));
        }
    }
    if (pd_iam_paginate(r, items, "_items"))
        return PD_EAWS;
    json_t *out = pd_iam_out(r);
    json_t *page = json_incref(json_object_get(out, "_items"));
    json_object_del(out, "_items");
    for (int k = 0; k < 3; k++)
        json_object_set_new(out, lists[k], json_array());
    size_t i;
    json_t *it;
    json_array_foreach(page, i, it)
    {
        int k = (int)json_integer_value(json_object_get(it, "k"));
        json_array_append_new(json_object_get(out, lists[k]),
                              json_pack("{s:O, s:O}", names[k], json_object_get(it, "name"), ids[k],
                                        json_object_get(it, "id")));
    }
    json_decref(page);
    return PD_OK;
}

/* ------------------------------------------------------------------------------------ */
/* inline policies and attachments, for users, groups and roles alike */

struct holder {
    enum pd_iam_kind kind;
    const char *member; /* "UserName" */
    const char *word;   /* "user" */
    const char *quota;  /* "PoliciesPerUser" */
    enum pd_iam_doc_kind doc_kind;
};

static const struct holder holders[] = {
    {PD_IAM_USER, "UserName", "user", "PoliciesPerUser", PD_IAM_DOC_USER_INLINE},
    {PD_IAM_GROUP, "GroupName", "group", "PoliciesPerGroup", PD_IAM_DOC_GROUP_INLINE},
    {PD_IAM_ROLE, "RoleName", "role", "PoliciesPerRole", PD_IAM_DOC_ROLE_INLINE},
};

/* The user, group or role the request names: its row id and name as created. */
static int holder_find(struct pd_req *r, const struct holder *h, int64_t *OUT_id,
                       const char **OUT_name)
{
    const char *name;
    if (pd_iam_in_req(r, h->member, &name))
        return PD_EAWS;
    if (h->kind == PD_IAM_USER) {
        struct pd_iam_user u;
        if (pd_iam_user_find(r, name, &u))
            return PD_EAWS;
        *OUT_id = u.id;
        *OUT_name = u.name;
    } else if (h->kind == PD_IAM_GROUP) {
        struct pd_iam_group g;
        if (pd_iam_group_find(r, name, &g))
            return PD_EAWS;
        *OUT_id = g.id;
        *OUT_name = g.name;
    } else {
        struct pd_iam_role role;
        if (pd_iam_role_find(r, name, &role))
            return PD_EAWS;
        *OUT_id = role.id;
        *OUT_name = role.name;
    }
    return PD_OK;
}

static int put_inline(struct pd_req *r, const struct holder *h)
{
    int64_t id;
    const char *ename, *pname, *doc;
    if (holder_find(r, h, &id, &ename) || pd_iam_in_req(r, "PolicyName", &pname) ||
        pd_iam_check_name(r, pname, "policyName", 128) ||
        pd_iam_in_req(r, "PolicyDocument", &doc) ||
        pd_iam_validate_policy_document(r, doc, h->doc_kind) ||
        pd_iam_check_inline_size(r, h->kind, id, ename, pname, doc))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_inline_put(r->db, h->kind, id, pname, doc));
}

static int get_inline(struct pd_req *r, const struct holder *h)
{
    int64_t id;
    const char *ename, *pname;
    struct pd_iam_inline p;
    if (holder_find(r, h, &id, &ename) || pd_iam_in_req(r, "PolicyName", &pname))
        return PD_EAWS;
    int rc = pd_iam_db_inline_get(r->db, &r->arena, h->kind, id, pname, &p);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "The %s policy with name %s cannot be found.", h->word,
                       pname);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *out = pd_iam_out(r);
    json_object_set_new(out, h->member, json_string(ename));
    json_object_set_new(out, "PolicyName", json_string(p.name));
    json_object_set_new(out, "PolicyDocument", pd_iam_doc(r, p.document));
    return PD_OK;
}

static int list_inline(struct pd_req *r, const struct holder *h)
{
    int64_t id;
    const char *ename;
    struct pd_iam_inline *v;
    size_t n;
    if (holder_find(r, h, &id, &ename))
        return PD_EAWS;
    int rc = pd_iam_db_inline_list(r->db, &r->arena, h->kind, id, &v, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_string(v[i].name));
    return pd_iam_paginate(r, items, "PolicyNames");
}

static int delete_inline(struct pd_req *r, const struct holder *h)
{
    int64_t id;
    const char *ename, *pname;
    if (holder_find(r, h, &id, &ename) || pd_iam_in_req(r, "PolicyName", &pname))
        return PD_EAWS;
    int rc = pd_iam_db_inline_del(r->db, h->kind, id, pname);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "The %s policy with name %s cannot be found.", h->word,
                       pname);
    pd_iam_out(r);
    return pd_iam_store_fail(r, rc);
}

static int attach(struct pd_req *r, const struct holder *h)
{
    int64_t id;
    const char *ename, *arn;
    struct pd_iam_policy p;
    if (holder_find(r, h, &id, &ename) || pd_iam_in_req(r, "PolicyArn", &arn) ||
        pd_iam_policy_find(r, arn, 1, &p))
        return PD_EAWS;
    const char **arns;
    size_t n;
    int rc = pd_iam_db_attached_list(r->db, &r->arena, h->kind, id, &arns, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    int already = 0;
    for (size_t i = 0; i < n; i++)
        already |= strcmp(arns[i], p.arn) == 0;
    if (!already && n >= PD_IAM_MAX_ATTACHED)
        return pd_fail(r, &IAM_LimitExceeded, "Cannot exceed quota for %s: %d", h->quota,
                       PD_IAM_MAX_ATTACHED);
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_attach(r->db, pd_iam_account(r), h->kind, id, p.arn));
}

static int detach(struct pd_req *r, const struct holder *h)
{
    int64_t id;
    const char *ename, *arn;
    struct pd_iam_policy p;
    if (holder_find(r, h, &id, &ename) || pd_iam_in_req(r, "PolicyArn", &arn) ||
        pd_iam_policy_find(r, arn, 0, &p))
        return PD_EAWS;
    int rc = pd_iam_db_detach(r->db, h->kind, id, p.arn);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "Policy %s was not found.", arn);
    pd_iam_out(r);
    return pd_iam_store_fail(r, rc);
}

static int list_attached(struct pd_req *r, const struct holder *h)
{
    int64_t id;
    const char *ename, *prefix = pd_iam_in_str(r, "PathPrefix");
    const char **arns;
    size_t n;
    if (holder_find(r, h, &id, &ename) ||
        (prefix && pd_iam_check_policy_path(r, prefix, "pathPrefix")))
        return PD_EAWS;
    int rc = pd_iam_db_attached_list(r->db, &r->arena, h->kind, id, &arns, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        struct pd_arn a;
        const char *path = "/", *name = arns[i];
        if (pd_arn_parse(&r->arena, arns[i], &a) == PD_OK)
            pd_arn_resource_split(&r->arena, a.resource, NULL, &path, &name);
        if (prefix && !pd_has_prefix(path, prefix))
            continue;
        json_array_append_new(items,
                              json_pack("{s:s, s:s}", "PolicyName", name, "PolicyArn", arns[i]));
    }
    return pd_iam_paginate(r, items, "AttachedPolicies");
}

#define PD_IAM_HOLDER_OPS(lc, idx)                                                                 \
    int pd_iam_put_##lc##_policy(struct pd_req *r)                                                 \
    {                                                                                              \
        return put_inline(r, &holders[idx]);                                                       \
    }                                                                                              \
    int pd_iam_get_##lc##_policy(struct pd_req *r)                                                 \
    {                                                                                              \
        return get_inline(r, &holders[idx]);                                                       \
    }                                                                                              \
    int pd_iam_list_##lc##_policies(struct pd_req *r)                                              \
    {                                                                                              \
        return list_inline(r, &holders[idx]);                                                      \
    }                                                                                              \
    int pd_iam_delete_##lc##_policy(struct pd_req *r)                                              \
    {                                                                                              \
        return delete_inline(r, &holders[idx]);                                                    \
    }                                                                                              \
    int pd_iam_attach_##lc##_policy(struct pd_req *r)                                              \
    {                                                                                              \
        return attach(r, &holders[idx]);                                                           \
    }                                                                                              \
    int pd_iam_detach_##lc##_policy(struct pd_req *r)                                              \
    {                                                                                              \
        return detach(r, &holders[idx]);                                                           \
    }                                                                                              \
    int pd_iam_list_attached_##lc##_policies(struct pd_req *r)                                     \
    {                                                                                              \
        return list_attached(r, &holders[idx]);                                                    \
    }

PD_IAM_HOLDER_OPS(user, 0)
PD_IAM_HOLDER_OPS(group, 1)
PD_IAM_HOLDER_OPS(role, 2)
