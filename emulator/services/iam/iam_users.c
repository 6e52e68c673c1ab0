/*
 * iam_users.c - IAM users, groups and access keys (handlers; see iam_internal.h).
 *
 * Users and groups are per account, named without regard to case. Deleting either is
 * refused while anything still hangs off it (DeleteConflict), as AWS does. Access keys are
 * AKIA ids with 40-character secrets from the seeded generator; the account root owns keys
 * too (user_id 0), starting with test/test in the default account.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/ids.h"
#include "crypto/seal.h"
#include "env.h"
#include "services/iam/iam_internal.h"

/* ------------------------------------------------------------------------------------ */
/* users */

int pd_iam_do_create_user(struct pd_req *r, const struct pd_iam_fixed *fx)
{
    const char *name, *path = pd_iam_in_str(r, "Path");
    const char *boundary = pd_iam_in_str(r, "PermissionsBoundary");
    json_t *tags = pd_iam_in(r, "Tags");
    if (pd_iam_in_req(r, "UserName", &name) || pd_iam_check_name(r, name, "userName", 64))
        return PD_EAWS;
    if (!path)
        path = "/";
    if (pd_iam_check_path(r, path, "path") || pd_iam_check_tags(r, tags))
        return PD_EAWS;
    struct pd_iam_policy bp;
    if (boundary && pd_iam_policy_find(r, boundary, 1, &bp))
        return PD_EAWS;
    struct pd_iam_user u = {
        .account_id = pd_iam_account(r),
        .name = name,
        .path = path,
        .unique_id = fx && fx->id ? fx->id : pd_iam_new_id(r, "AIDA"),
        .created_ms = fx && fx->created_ms ? fx->created_ms : pd_iam_now_ms(r),
        .boundary_arn = boundary ? bp.arn : NULL,
    };
    int rc = pd_iam_db_user_put(r->db, &u);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists, "User with name %s already exists.", name);
    if (rc || pd_iam_tags_apply(r, PD_IAM_USER, u.id, tags))
        return pd_iam_store_fail(r, rc ? rc : PD_EAWS);
    if ((rc = pd_iam_db_user_get(r->db, &r->arena, u.account_id, name, &u)))
        return pd_iam_store_fail(r, rc);
    json_object_set_new(pd_iam_out(r), "User", pd_iam_user_json(r, &u, PD_IAM_FULL));
    return PD_OK;
}

int pd_iam_create_user(struct pd_req *r)
{
    return pd_iam_do_create_user(r, NULL);
}

int pd_iam_get_user(struct pd_req *r)
{
    const char *name = pd_iam_in_str(r, "UserName");
    struct pd_iam_user u;
    if (!name) {
        switch (r->who.kind) {
        case PD_CALLER_USER:
            name = r->who.name;
            break;
        case PD_CALLER_ROLE_SESSION:
        case PD_CALLER_FEDERATED:
            return pd_fail(r, &PD_ERR_ValidationError,
                           "Must specify userName when calling with non-User credentials");
        default: {
            /* The account root: AWS answers with the account itself. */
            const char *acct = pd_iam_account(r);
            int64_t created = 0;
            int rc = pd_iam_db_account_get(r->db, acct, &created);
            if (rc && rc != PD_ENOTFOUND)
                return pd_iam_store_fail(r, rc);
            json_object_set_new(pd_iam_out(r), "User",
                                json_pack("{s:s, s:s, s:o}", "UserId", acct, "Arn",
                                          pd_arena_printf(&r->arena, "arn:aws:iam::%s:root", acct),
                                          "CreateDate", pd_iam_time(created)));
            return PD_OK;
        }
        }
    }
    if (pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    json_object_set_new(pd_iam_out(r), "User", pd_iam_user_json(r, &u, PD_IAM_FULL));
    return PD_OK;
}

int pd_iam_list_users(struct pd_req *r)
{
    struct pd_iam_user *u;
    size_t n;
    int rc = pd_iam_db_user_list(r->db, &r->arena, pd_iam_account(r),
                                 pd_iam_in_str(r, "PathPrefix"), &u, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, pd_iam_user_json(r, &u[i], 0));
    return pd_iam_paginate(r, items, "Users");
}

int pd_iam_update_user(struct pd_req *r)
{
    const char *name, *new_name = pd_iam_in_str(r, "NewUserName");
    const char *new_path = pd_iam_in_str(r, "NewPath");
    struct pd_iam_user u;
    if (pd_iam_in_req(r, "UserName", &name) ||
        (new_name && pd_iam_check_name(r, new_name, "newUserName", 64)) ||
        (new_path && pd_iam_check_path(r, new_path, "newPath")) || pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    int rc = pd_iam_db_user_update(r->db, u.id, new_name, new_path);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists, "User with name %s already exists.", new_name);
    pd_iam_out(r);
    return pd_iam_store_fail(r, rc);
}

int pd_iam_delete_user(struct pd_req *r)
{
    const char *name;
    struct pd_iam_user u;
    struct pd_iam_deps d;
    if (pd_iam_in_req(r, "UserName", &name) || pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    int rc = pd_iam_db_user_deps(r->db, u.id, &d);
    if (rc)
        return pd_iam_store_fail(r, rc);
    if (d.access_keys)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must delete access keys "
                       "first.");
    if (d.inline_policies)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must delete policies "
                       "first.");
    if (d.attached_policies)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must detach all policies "
                       "first.");
    if (d.groups)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must remove user from all "
                       "groups first.");
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_user_del(r->db, u.id));
}

int pd_iam_put_user_permissions_boundary(struct pd_req *r)
{
    const char *name, *arn;
    struct pd_iam_user u;
    struct pd_iam_policy p;
    if (pd_iam_in_req(r, "UserName", &name) || pd_iam_in_req(r, "PermissionsBoundary", &arn) ||
        pd_iam_user_find(r, name, &u) || pd_iam_policy_find(r, arn, 1, &p))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_user_set_boundary(r->db, u.id, p.arn));
}

int pd_iam_delete_user_permissions_boundary(struct pd_req *r)
{
    const char *name;
    struct pd_iam_user u;
    if (pd_iam_in_req(r, "UserName", &name) || pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_user_set_boundary(r->db, u.id, NULL));
}

int pd_iam_tag_user(struct pd_req *r)
{
    const char *name;
    struct pd_iam_user u;
    if (pd_iam_in_req(r, "UserName", &name) || pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_tags_apply(r, PD_IAM_USER, u.id, pd_iam_in(r, "Tags"));
}

int pd_iam_untag_user(struct pd_req *r)
{
    const char *name;
    struct pd_iam_user u;
    if (pd_iam_in_req(r, "UserName", &name) || pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_tags_remove(r, PD_IAM_USER, u.id, pd_iam_in(r, "TagKeys"));
}

int pd_iam_list_user_tags(struct pd_req *r)
{
    const char *name;
    struct pd_iam_user u;
    if (pd_iam_in_req(r, "UserName", &name) || pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    return pd_iam_tags_list(r, PD_IAM_USER, u.id);
}

/* ------------------------------------------------------------------------------------ */
/* groups */

int pd_iam_do_create_group(struct pd_req *r, const struct pd_iam_fixed *fx)
{
    const char *name, *path = pd_iam_in_str(r, "Path");
    if (pd_iam_in_req(r, "GroupName", &name) || pd_iam_check_name(r, name, "groupName", 128))
        return PD_EAWS;
    if (!path)
        path = "/";
    if (pd_iam_check_path(r, path, "path"))
        return PD_EAWS;
    struct pd_iam_group g = {
        .account_id = pd_iam_account(r),
        .name = name,
        .path = path,
        .unique_id = fx && fx->id ? fx->id : pd_iam_new_id(r, "AGPA"),
        .created_ms = fx && fx->created_ms ? fx->created_ms : pd_iam_now_ms(r),
    };
    int rc = pd_iam_db_group_put(r->db, &g);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists, "Group with name %s already exists.", name);
    if (rc || (rc = pd_iam_db_group_get(r->db, &r->arena, g.account_id, name, &g)))
        return pd_iam_store_fail(r, rc);
    json_object_set_new(pd_iam_out(r), "Group", pd_iam_group_json(&g));
    return PD_OK;
}

int pd_iam_create_group(struct pd_req *r)
{
    return pd_iam_do_create_group(r, NULL);
}

int pd_iam_get_group(struct pd_req *r)
{
    const char *name;
    struct pd_iam_group g;
    if (pd_iam_in_req(r, "GroupName", &name) || pd_iam_group_find(r, name, &g))
        return PD_EAWS;
    struct pd_iam_user *u;
    size_t n;
    int rc = pd_iam_db_group_members(r->db, &r->arena, g.id, &u, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, pd_iam_user_json(r, &u[i], 0));
    json_object_set_new(pd_iam_out(r), "Group", pd_iam_group_json(&g));
    return pd_iam_paginate(r, items, "Users");
}

int pd_iam_list_groups(struct pd_req *r)
{
    struct pd_iam_group *g;
    size_t n;
    int rc = pd_iam_db_group_list(r->db, &r->arena, pd_iam_account(r),
                                  pd_iam_in_str(r, "PathPrefix"), &g, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, pd_iam_group_json(&g[i]));
    return pd_iam_paginate(r, items, "Groups");
}

int pd_iam_update_group(struct pd_req *r)
{
    const char *name, *new_name = pd_iam_in_str(r, "NewGroupName");
    const char *new_path = pd_iam_in_str(r, "NewPath");
    struct pd_iam_group g;
    if (pd_iam_in_req(r, "GroupName", &name) ||
        (new_name && pd_iam_check_name(r, new_name, "newGroupName", 128)) ||
        (new_path && pd_iam_check_path(r, new_path, "newPath")) || pd_iam_group_find(r, name, &g))
        return PD_EAWS;
    int rc = pd_iam_db_group_update(r->db, g.id, new_name, new_path);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists, "Group with name %s already exists.", new_name);
    pd_iam_out(r);
    return pd_iam_store_fail(r, rc);
}

int pd_iam_delete_group(struct pd_req *r)
{
    const char *name;
    struct pd_iam_group g;
    struct pd_iam_deps d;
    if (pd_iam_in_req(r, "GroupName", &name) || pd_iam_group_find(r, name, &g))
        return PD_EAWS;
    int rc = pd_iam_db_group_deps(r->db, g.id, &d);
    if (rc)
        return pd_iam_store_fail(r, rc);
    if (d.groups)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must remove users from "
                       "group first.");
    if (d.inline_policies)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must delete policies "
                       "first.");
    if (d.attached_policies)
        return pd_fail(r, &IAM_DeleteConflict,
                       "Cannot delete entity, must detach all policies "
                       "first.");
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_group_del(r->db, g.id));
}

int pd_iam_add_user_to_group(struct pd_req *r)
{
    const char *gname, *uname;
    struct pd_iam_group g;
    struct pd_iam_user u;
    if (pd_iam_in_req(r, "GroupName", &gname) || pd_iam_in_req(r, "UserName", &uname) ||
        pd_iam_group_find(r, gname, &g) || pd_iam_user_find(r, uname, &u))
        return PD_EAWS;
    struct pd_iam_deps d;
    int rc = pd_iam_db_user_deps(r->db, u.id, &d);
    if (rc)
        return pd_iam_store_fail(r, rc);
    struct pd_iam_group *mine;
    size_t n;
    if ((rc = pd_iam_db_user_groups(r->db, &r->arena, u.id, &mine, &n)))
        return pd_iam_store_fail(r, rc);
    int already = 0;
    for (size_t i = 0; i < n; i++)
        already |= mine[i].id == g.id;
    if (!already && n >= PD_IAM_MAX_GROUPS_PER_USER)
        return pd_fail(r, &IAM_LimitExceeded, "Cannot exceed quota for GroupsPerUser: %d",
                       PD_IAM_MAX_GROUPS_PER_USER);
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_member_add(r->db, g.id, u.id));
}

int pd_iam_remove_user_from_group(struct pd_req *r)
{
    const char *gname, *uname;
    struct pd_iam_group g;
    struct pd_iam_user u;
    if (pd_iam_in_req(r, "GroupName", &gname) || pd_iam_in_req(r, "UserName", &uname) ||
        pd_iam_group_find(r, gname, &g) || pd_iam_user_find(r, uname, &u))
        return PD_EAWS;
    int rc = pd_iam_db_member_del(r->db, g.id, u.id);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "The user with name %s cannot be found.", uname);
    pd_iam_out(r);
    return pd_iam_store_fail(r, rc);
}

int pd_iam_list_groups_for_user(struct pd_req *r)
{
    const char *name;
    struct pd_iam_user u;
    if (pd_iam_in_req(r, "UserName", &name) || pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    struct pd_iam_group *g;
    size_t n;
    int rc = pd_iam_db_user_groups(r->db, &r->arena, u.id, &g, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, pd_iam_group_json(&g[i]));
    return pd_iam_paginate(r, items, "Groups");
}

/* ------------------------------------------------------------------------------------ */
/* access keys */

/* Whose keys a request is about: UserName, else the caller (a user, or the root: id 0). */
static int key_owner(struct pd_req *r, int64_t *OUT_id, const char **OUT_name)
{
    const char *name = pd_iam_in_str(r, "UserName");
    if (!name) {
        if (r->who.kind == PD_CALLER_ROLE_SESSION || r->who.kind == PD_CALLER_FEDERATED)
            return pd_fail(r, &PD_ERR_ValidationError,
                           "Must specify userName when calling with non-User credentials");
        if (r->who.kind != PD_CALLER_USER) {
            *OUT_id = 0;
            *OUT_name = NULL;
            return PD_OK;
        }
        name = r->who.name;
    }
    struct pd_iam_user u;
    if (pd_iam_user_find(r, name, &u))
        return PD_EAWS;
    *OUT_id = u.id;
    *OUT_name = u.name;
    return PD_OK;
}

int pd_iam_do_create_access_key(struct pd_req *r, const struct pd_iam_fixed *fx)
{
    int64_t uid = 0;
    const char *uname = NULL;
    if (key_owner(r, &uid, &uname))
        return PD_EAWS;
    struct pd_iam_access_key *keys;
    size_t n;
    int rc = pd_iam_db_key_list(r->db, &r->arena, pd_iam_account(r), uid, &keys, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    /* The default root key test/test does not count against the quota. */
    size_t counted = 0;
    for (size_t i = 0; i < n; i++)
        counted += uid != 0 || strcmp(keys[i].access_key_id, "test") != 0;
    if (counted >= PD_IAM_MAX_KEYS_PER_USER)
        return pd_fail(r, &IAM_LimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d",
                       PD_IAM_MAX_KEYS_PER_USER);
    char *secret = pd_arena_alloc(&r->arena, 41);
    if (fx && fx->secret)
        secret = pd_arena_strdup(&r->arena, fx->secret);
    else if (r->env->cfg.seeded) /* --seed: reproducible, documented as not secret */
        pd_ids_secret(&r->env->ids, secret);
    else if (pd_random_secret_key(secret))
        return pd_fail(r, &PD_ERR_InternalFailure, "no random bytes for a secret key");
    struct pd_iam_access_key k = {
        .access_key_id = fx && fx->id ? fx->id : pd_iam_new_id(r, "AKIA"),
        .account_id = pd_iam_account(r),
        .user_id = uid,
        .secret = secret,
        .status = fx && fx->status ? fx->status : "Active",
        .created_ms = fx && fx->created_ms ? fx->created_ms : pd_iam_now_ms(r),
    };
    rc = pd_iam_db_key_put(r->db, &k);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &IAM_EntityAlreadyExists, "Access key %s already exists.",
                       k.access_key_id);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:o}", "AccessKeyId", k.access_key_id, "Status", k.status,
                  "SecretAccessKey", k.secret, "CreateDate", pd_iam_time(k.created_ms));
    if (uname)
        json_object_set_new(o, "UserName", json_string(uname));
    json_object_set_new(pd_iam_out(r), "AccessKey", o);
    return PD_OK;
}

int pd_iam_create_access_key(struct pd_req *r)
{
    return pd_iam_do_create_access_key(r, NULL);
}

int pd_iam_list_access_keys(struct pd_req *r)
{
    int64_t uid = 0;
    const char *uname = NULL;
    if (key_owner(r, &uid, &uname))
        return PD_EAWS;
    struct pd_iam_access_key *keys;
    size_t n;
    int rc = pd_iam_db_key_list(r->db, &r->arena, pd_iam_account(r), uid, &keys, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:o}", "AccessKeyId", keys[i].access_key_id, "Status",
                              keys[i].status, "CreateDate", pd_iam_time(keys[i].created_ms));
        if (uname)
            json_object_set_new(o, "UserName", json_string(uname));
        json_array_append_new(items, o);
    }
    return pd_iam_paginate(r, items, "AccessKeyMetadata");
}

/* The key AccessKeyId of the request's owner (UserName or caller). */
static int owned_key(struct pd_req *r, struct pd_iam_access_key *OUT)
{
    const char *akid;
    int64_t uid = 0;
    const char *uname = NULL;
    if (pd_iam_in_req(r, "AccessKeyId", &akid) || key_owner(r, &uid, &uname))
        return PD_EAWS;
    int rc = pd_iam_db_key_get(r->db, &r->arena, pd_iam_account(r), akid, OUT);
    if (rc == PD_ENOTFOUND || (!rc && OUT->user_id != uid))
        return pd_fail(r, &IAM_NoSuchEntity, "The Access Key with id %s cannot be found.", akid);
    return pd_iam_store_fail(r, rc);
}

int pd_iam_update_access_key(struct pd_req *r)
{
    const char *status;
    struct pd_iam_access_key k;
    if (pd_iam_in_req(r, "Status", &status))
        return PD_EAWS;
    if (strcmp(status, "Active") != 0 && strcmp(status, "Inactive") != 0)
        return pd_iam_invalid(r, status, "status",
                              "Member must satisfy enum value set: [Active, Inactive]");
    if (owned_key(r, &k))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_key_set_status(r->db, k.access_key_id, status));
}

int pd_iam_delete_access_key(struct pd_req *r)
{
    struct pd_iam_access_key k;
    if (owned_key(r, &k))
        return PD_EAWS;
    pd_iam_out(r);
    return pd_iam_store_fail(r, pd_iam_db_key_del(r->db, k.access_key_id));
}

int pd_iam_get_access_key_last_used(struct pd_req *r)
{
    const char *akid;
    struct pd_iam_access_key k;
    if (pd_iam_in_req(r, "AccessKeyId", &akid))
        return PD_EAWS;
    int rc = pd_iam_db_key_get(r->db, &r->arena, pd_iam_account(r), akid, &k);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "The Access Key with id %s cannot be found.", akid);
    if (rc)
        return pd_iam_store_fail(r, rc);
    json_t *lu = json_object();
    if (k.last_used_ms)
        json_object_set_new(lu, "LastUsedDate", pd_iam_time(k.last_used_ms));
    json_object_set_new(lu, "ServiceName",
                        json_string(k.last_used_service ? k.last_used_service : "N/A"));
    json_object_set_new(lu, "Region", json_string(k.last_used_region ? k.last_used_region : "N/A"));
    json_t *out = pd_iam_out(r);
    if (k.user_name)
        json_object_set_new(out, "UserName", json_string(k.user_name));
    json_object_set_new(out, "AccessKeyLastUsed", lu);
    return PD_OK;
}
