/*
 * iam_roles.c - IAM roles (handlers; see iam_internal.h).
 *
 * A role carries its trust policy as the text the caller wrote; it is checked by
 * pd_iam_validate_policy_document (kind TRUST) and by the principal rule (users and roles
 * named in "AWS" principals of accounts podiam holds must exist). Roles under the path
 * /aws-service-role/ are service-linked: only fixtures create them and no API changes them
 * (UnmodifiableEntity).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"
#include "services/iam/iam_internal.h"

static int check_description(struct pd_req *r, const char *d)
{
    if (d && strlen(d) > 1000)
        return pd_iam_invalid(r, d, "description",
                              "Member must have length less than or equal to 1000");
    return PD_OK;
}

static int check_max_session(struct pd_req *r, int64_t v)
{
    if (v >= 3600 && v <= 43200)
        return PD_OK;
    char value[32];
    snprintf(value, sizeof value, "%lld", (long long)v);
    return pd_iam_invalid(r, value, "maxSessionDuration",
                          v < 3600 ? "Member must have value greater than or equal to 3600"
                                   : "Member must have value less than or equal to 43200");
}

/* Service-linked roles belong to AWS. */
static int modifiable(struct pd_req *r, const struct pd_iam_role *role)
{
    if (!pd_has_prefix(role->path, "/aws-service-role/"))
        return PD_OK;
    return pd_fail(r, &IAM_UnmodifiableEntity,
                   "Cannot perform the operation on the protected role '%s' - this role is only "
                   "modifiable by AWS",
                   role->name);
}

static int trust_ok(struct pd_req *r, const char *doc)
{
    if (pd_iam_validate_policy_document(r, doc, PD_IAM_DOC_TRUST))
        return PD_EAWS;
    return pd_iam_check_trust_principals(r, doc);
}

int pd_iam_do_create_role(struct pd_req *r, const struct pd_iam_fixed *fx)
{
    const char *name, *doc, *path = pd_iam_in_str(r, "Path");
    const char *desc = pd_iam_in_str(r, "Description");
    const char *boundary = pd_iam_in_str(r, "PermissionsBoundary");
    int64_t max_session = pd_iam_in_int(r, "MaxSessionDuration", 3600);
    json_t *tags = pd_iam_in(r, "Tags");
    if (pd_iam_in_req(r, "RoleName", &name) || pd_iam_check_name(r, name, "roleName", 64) ||
        pd_iam_in_req(r, "AssumeRolePolicyDocument", &doc))
        return PD_EAWS;
    if (!path)
        path = "/";
    if (pd_iam_check_path(r, path, "path") || check_description(r, desc) ||
        check_max_session(r, max_session) || pd_iam_check_tags(r, tags))
        return PD_EAWS;
    struct pd_iam_policy bp;
    if ((boundary && pd_iam_policy_find(r, boundary, 1, &bp)) || trust_ok(r, doc))
        return PD_EAWS;
    struct pd_iam_role role = {
        .account_id = pd_iam_account(r),
        .name = name,
        .path = path,
        .unique_id = fx && fx->id ? fx->id : pd_iam_new_id(r, "AROA"),
        .created_ms = fx && fx->created_ms ? fx->created_ms : pd_iam_now_ms(r),
        .trust_policy = doc,
        .description = desc,
        .max_session = (int)max_session,
        .boundary_arn = boundary ? bp.arn : NULL,
    };
    int rc = pd_iam_db_role_put(r->db, &role);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists, "Role with name %s already exists.", name);
    if (rc || pd_iam_tags_apply(r, PD_IAM_ROLE, role.id, tags))
        return pd_iam_store_fail(r, rc ? rc : PD_EAWS);
    if ((rc = pd_iam_db_role_get(r->db, &r->arena, role.account_id, name, &role)))
        return pd_iam_store_fail(r, rc);
    json_t *o = pd_iam_role_json(r, &role, PD_IAM_FULL);
    json_object_del(o, "RoleLastUsed");
    json_object_set_new(pd_iam_out(r), "Role", o);
    return PD_OK;
}

int pd_iam_create_role(struct pd_req *r)
{
    return pd_iam_do_create_role(r, NULL);
}

/* RoleName of the request, found. */
static int the_role(struct pd_req *r, struct pd_iam_role *OUT)
{
    const char *name;
    if (pd_iam_in_req(r, "RoleName", &name))
        return PD_EAWS;
    return pd_iam_role_find(r, name, OUT);
}

int pd_iam_get_role(struct pd_req *r)
{
    struct pd_iam_role role;
    if (the_role(r, &role))
        return PD_EAWS;
    json_object_set_new(pd_iam_out(r), "Role", pd_iam_role_json(r, &role, PD_IAM_FULL));
    return PD_OK;
}

int pd_iam_list_roles(struct pd_req *r)
{
    struct pd_iam_role *v;
    size_t n;
    int rc = pd_iam_db_role_list(r->db, &r->arena, pd_iam_account(r),
                                 pd_iam_in_str(r, "PathPrefix"), &v, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, pd_iam_role_json(r, &v[i], 0));
    return pd_iam_paginate(r, items, "Roles");
}

int pd_iam_update_role(struct pd_req *r)
{
    struct pd_iam_role role;
    const char *desc = pd_iam_in_str(r, "Description");
    json_t *ms = pd_iam_in(r, "MaxSessionDuration");
    int64_t max_session = ms ? pd_iam_in_int(r, "MaxSessionDuration", 0) : 0;
    if (the_role(r, &role) || check_description(r, desc) ||
        (ms && check_max_session(r, max_session)) || modifiable(r, &role))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_role_update(r->db, role.id, desc, (int)max_session));
}

int pd_iam_update_role_description(struct pd_req *r)
{
    struct pd_iam_role role;
    const char *desc;
    if (the_role(r, &role) || pd_iam_in_req(r, "Description", &desc) ||
        check_description(r, desc) || modifiable(r, &role))
        return PD_EAWS;
    int rc = pd_iam_db_role_update(r->db, role.id, desc, 0);
    if (!rc)
        rc = pd_iam_db_role_get(r->db, &r->arena, role.account_id, role.name, &role);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_object_set_new(pd_iam_out(r), "Role", pd_iam_role_json(r, &role, PD_IAM_FULL));
    return PD_OK;
}

int pd_iam_delete_role(struct pd_req *r)
{
    struct pd_iam_role role;
    struct pd_iam_deps d;
    if (the_role(r, &role) || modifiable(r, &role))
        return PD_EAWS;
    int rc = pd_iam_db_role_deps(r->db, role.id, &d);
    if (rc)
        return pd_iam_store_fail(r, rc);
    if (d.inline_policies)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must delete policies "
                       "first.");
    if (d.attached_policies)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must detach all policies "
                       "first.");
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_role_del(r->db, role.id));
}

int pd_iam_update_assume_role_policy(struct pd_req *r)
{
    struct pd_iam_role role;
    const char *doc;
    if (the_role(r, &role) || pd_iam_in_req(r, "PolicyDocument", &doc) || modifiable(r, &role) ||
        trust_ok(r, doc))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_role_set_trust(r->db, role.id, doc));
}

int pd_iam_put_role_permissions_boundary(struct pd_req *r)
{
    struct pd_iam_role role;
    struct pd_iam_policy p;
    const char *arn;
    if (the_role(r, &role) || pd_iam_in_req(r, "PermissionsBoundary", &arn) ||
        modifiable(r, &role) || pd_iam_policy_find(r, arn, 1, &p))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_role_set_boundary(r->db, role.id, p.arn));
}

int pd_iam_delete_role_permissions_boundary(struct pd_req *r)
{
    struct pd_iam_role role;
    if (the_role(r, &role) || modifiable(r, &role))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_role_set_boundary(r->db, role.id, NULL));
}

int pd_iam_tag_role(struct pd_req *r)
{
    struct pd_iam_role role;
    if (the_role(r, &role))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_tags_apply(r, PD_IAM_ROLE, role.id, pd_iam_in(r, "Tags"));
}

int pd_iam_untag_role(struct pd_req *r)
{
    struct pd_iam_role role;
    if (the_role(r, &role))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_tags_remove(r, PD_IAM_ROLE, role.id, pd_iam_in(r, "TagKeys"));
}

int pd_iam_list_role_tags(struct pd_req *r)
{
    struct pd_iam_role role;
    if (the_role(r, &role))
        return PD_EAWS;
    return pd_iam_tags_list(r, PD_IAM_ROLE, role.id);
}
