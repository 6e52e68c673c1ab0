/*
 * org_tree.c - the organization and its tree: CreateOrganization, DescribeOrganization,
 * DeleteOrganization, the root, OUs (create, describe, rename, delete, list), accounts
 * (CreateAccount and its status, describe, list, move, remove, leave), ListChildren and
 * ListParents.
 *
 * The tree cannot hold a cycle by construction: an OU is created under a parent that exists
 * in the same organization and is never moved (the API has no operation for it), and
 * accounts, which are leaves, are the only nodes MoveAccount moves. CreateAccount makes a
 * real podiam account: an IAM account with a root access key (the admin API hands it out:
 * GET /_podiam/accounts/ID/credentials) and the role OrganizationAccountAccessRole that the
 * management account may assume, with AdministratorAccess, as AWS makes it. New OUs and
 * accounts get the AWS managed policy of each enabled policy type attached, as in AWS.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"
#include "env.h"
#include "services/organizations/org_internal.h"
#include "services/service.h"
#include "store/iam_db.h"

extern const struct pd_service pd_svc_iam;

static int parent_not_found(struct pd_req *r)
{
    return pd_fail(r, &ORG_ParentNotFoundException,
                   "We can't find a root or OU with the ParentId that you specified.");
}

/* ParentId in the caller's organization: the root or an OU. */
static int parent_of(struct pd_req *r, const struct org_ctx *c, const char *id, enum org_node *OUT)
{
    enum org_node k = org_node_of(r, c, id, NULL);
    if (k != ORG_NODE_ROOT && k != ORG_NODE_OU)
        return parent_not_found(r);
    *OUT = k;
    return PD_OK;
}

/* Attach the AWS managed policy of every enabled type to a new target (AWS does so for new
 * OUs and accounts, and for everything when a type is enabled). */
static int attach_defaults(struct pd_req *r, const char *org_id, const char *target)
{
    const char **types;
    size_t n;
    int rc = pd_org_db_type_list(r->db, &r->arena, org_id, &types, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        const struct pd_org_policy *b = pd_org_db_builtin(types[i]);
        if (b && !pd_org_db_attached(r->db, org_id, b->id, target))
            rc = pd_org_db_attach(r->db, org_id, b->id, target);
    }
    return rc;
}

/* ---- the organization ----------------------------------------------------------------- */

static json_t *organization_json(struct pd_req *r, const struct pd_org *o)
{
    struct pd_org_account m;
    const char *email = "";
    if (pd_org_db_account_get(r->db, &r->arena, o->management_account, &m) == PD_OK)
        email = m.email;
    json_t *avail = json_array();
    if (strcmp(o->feature_set, "ALL") == 0)
        json_array_append_new(avail,
                              json_pack("{s:s, s:s}", "Type", PD_ORG_SCP, "Status", "ENABLED"));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "Id", o->id, "Arn", org_arn(r, o),
                     "FeatureSet", o->feature_set, "MasterAccountArn",
                     org_account_arn(r, o, o->management_account), "MasterAccountId",
                     o->management_account, "MasterAccountEmail", email, "AvailablePolicyTypes",
                     avail);
}

/* The name and email an account has in podiam (which keeps none for accounts): the account
 * id, and an address under example.com that is unique to it. */
static const char *default_email(struct pd_req *r, const char *account)
{
    return pd_arena_printf(&r->arena, "account-%s@example.com", account);
}

int org_do_create_organization(struct pd_req *r, const char *org_id, const char *root_id,
                               const struct org_fixed *fx)
{
    const char *acct = r->who.account_id;
    struct pd_org have;
    if (!acct || r->who.kind == PD_CALLER_ANONYMOUS)
        return pd_fail(r, &ORG_AccessDeniedException,
                       "You don't have permissions to access this resource.");
    int rc = pd_org_db_of_account(r->db, &r->arena, acct, &have);
    if (rc == PD_OK)
        return pd_fail(r, &ORG_AlreadyInOrganizationException,
                       "The AWS account is already a member of an organization.");
    if (rc != PD_ENOTFOUND)
        return org_store_fail(r, rc);
    const char *fs = org_in_str(r, "FeatureSet");
    int64_t now = fx && fx->created_ms ? fx->created_ms : org_now_ms(r);
    struct pd_org o = {
        .id = org_id ? org_id : org_new_id(r, "o-", 10),
        .management_account = acct,
        .feature_set = fs ? fs : "ALL",
        .root_id = root_id ? root_id : org_new_id(r, "r-", 4),
        .created_ms = now,
    };
    rc = pd_org_db_create(r->db, &o);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &ORG_AlreadyInOrganizationException,
                       "An organization with the id %s already exists.", o.id);
    struct pd_org_account m = {
        .account_id = acct,
        .org_id = o.id,
        .parent_id = o.root_id,
        .name = acct,
        .email = default_email(r, acct),
        .status = "ACTIVE",
        .joined = "CREATED",
        .joined_ms = now,
    };
    if (!rc)
        rc = pd_org_db_account_put(r->db, &m);
    if (rc)
        return org_store_fail(r, rc);
    json_object_set_new(org_out(r), "Organization", organization_json(r, &o));
    return PD_OK;
}

int org_create_organization(struct pd_req *r)
{
    return org_do_create_organization(r, NULL, NULL, NULL);
}

int org_describe_organization(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 0))
        return PD_EAWS;
    json_object_set_new(org_out(r), "Organization", organization_json(r, &c.org));
    return PD_OK;
}

int org_delete_organization(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    struct pd_org_account *accts;
    size_t n;
    int rc = pd_org_db_account_list(r->db, &r->arena, c.org.id, NULL, &accts, &n);
    if (rc)
        return org_store_fail(r, rc);
    if (n > 1)
        return pd_fail(r, &ORG_OrganizationNotEmptyException,
                       "To delete an organization you must first remove all member accounts "
                       "(except the master).");
    /* OUs and policies go with it (AWS requires none of them to be removed first) */
    return org_store_fail(r, pd_org_db_delete(r->db, c.org.id));
}

int org_list_roots(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    json_t *items = json_array();
    json_array_append_new(items, org_root_json(r, &c.org));
    return org_page(r, items, "Roots");
}

/* ---- OUs ------------------------------------------------------------------------------ */

static int ou_not_found(struct pd_req *r)
{
    return pd_fail(r, &ORG_OrganizationalUnitNotFoundException,
                   "You specified an organizational unit that doesn't exist.");
}

static int ou_load(struct pd_req *r, const struct org_ctx *c, const char *id, struct pd_org_ou *OUT)
{
    int rc = pd_org_db_ou_get(r->db, &r->arena, id, OUT);
    if (rc == PD_ENOTFOUND || (!rc && strcmp(OUT->org_id, c->org.id) != 0))
        return ou_not_found(r);
    return org_store_fail(r, rc);
}

/* Is there a sibling OU of that name under parent (other than except)? */
static int name_taken(struct pd_req *r, const char *parent, const char *name, const char *except)
{
    struct pd_org_ou *kids;
    size_t n;
    if (pd_org_db_ou_children(r->db, &r->arena, parent, &kids, &n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(kids[i].name, name) == 0 && (!except || strcmp(kids[i].id, except) != 0))
            return 1;
    return 0;
}

int org_do_create_ou(struct pd_req *r, const struct org_fixed *fx)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    const char *parent = org_in_str(r, "ParentId"), *name = org_in_str(r, "Name");
    enum org_node kind = ORG_NODE_NONE;
    if (parent_of(r, &c, parent, &kind))
        return PD_EAWS;
    int depth = kind == ORG_NODE_ROOT ? 1 : org_ou_depth(r, parent) + 1;
    if (depth > PD_ORG_MAX_OU_DEPTH)
        return org_fail_reason(r, &ORG_ConstraintViolationException, "OU_DEPTH_LIMIT_EXCEEDED",
                               "You attempted to create an OU tree that is too many levels deep "
                               "(at most %d OUs under the root).",
                               PD_ORG_MAX_OU_DEPTH);
    int64_t count = 0;
    int rc = pd_org_db_ou_count(r->db, c.org.id, &count);
    if (rc)
        return org_store_fail(r, rc);
    if (count >= PD_ORG_MAX_OUS)
        return org_fail_reason(r, &ORG_ConstraintViolationException, "OU_NUMBER_LIMIT_EXCEEDED",
                               "You have reached the maximum number of OUs in an organization "
                               "(%d).",
                               PD_ORG_MAX_OUS);
    if (name_taken(r, parent, name, NULL))
        return pd_fail(r, &ORG_DuplicateOrganizationalUnitException,
                       "An OU with the same name already exists.");
    /* ou-<root suffix>-<8 characters> */
    const char *suffix = c.org.root_id + 2;
    struct pd_org_ou ou = {
        .id = fx && fx->id ? fx->id
                           : pd_arena_printf(&r->arena, "ou-%s-%s", suffix, org_new_id(r, "", 8)),
        .org_id = c.org.id,
        .parent_id = parent,
        .name = name,
        .created_ms = fx && fx->created_ms ? fx->created_ms : org_now_ms(r),
    };
    rc = pd_org_db_ou_put(r->db, &ou);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &ORG_DuplicateOrganizationalUnitException,
                       "An OU with the id %s already exists.", ou.id);
    if (!rc)
        rc = attach_defaults(r, c.org.id, ou.id);
    if (rc)
        return org_store_fail(r, rc);
    if (org_put_create_tags(r, c.org.id, ou.id))
        return PD_EAWS;
    json_object_set_new(org_out(r), "OrganizationalUnit", org_ou_json(r, &c.org, &ou));
    return PD_OK;
}

int org_create_organizational_unit(struct pd_req *r)
{
    return org_do_create_ou(r, NULL);
}

int org_describe_organizational_unit(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_ou ou;
    if (org_ctx_load(r, &c, 1) || ou_load(r, &c, org_in_str(r, "OrganizationalUnitId"), &ou))
        return PD_EAWS;
    json_object_set_new(org_out(r), "OrganizationalUnit", org_ou_json(r, &c.org, &ou));
    return PD_OK;
}

int org_update_organizational_unit(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_ou ou;
    if (org_ctx_load(r, &c, 1) || ou_load(r, &c, org_in_str(r, "OrganizationalUnitId"), &ou))
        return PD_EAWS;
    const char *name = org_in_str(r, "Name");
    if (name && strcmp(name, ou.name) != 0) {
        if (name_taken(r, ou.parent_id, name, ou.id))
            return pd_fail(r, &ORG_DuplicateOrganizationalUnitException,
                           "An OU with the same name already exists.");
        int rc = pd_org_db_ou_rename(r->db, ou.id, name);
        if (rc)
            return org_store_fail(r, rc);
        ou.name = name;
    }
    json_object_set_new(org_out(r), "OrganizationalUnit", org_ou_json(r, &c.org, &ou));
    return PD_OK;
}

int org_delete_organizational_unit(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_ou ou;
    if (org_ctx_load(r, &c, 1) || ou_load(r, &c, org_in_str(r, "OrganizationalUnitId"), &ou))
        return PD_EAWS;
    struct pd_org_ou *kids;
    struct pd_org_account *accts;
    size_t nk, na;
    int rc = pd_org_db_ou_children(r->db, &r->arena, ou.id, &kids, &nk);
    if (!rc)
        rc = pd_org_db_account_list(r->db, &r->arena, c.org.id, ou.id, &accts, &na);
    if (rc)
        return org_store_fail(r, rc);
    if (nk || na)
        return pd_fail(r, &ORG_OrganizationalUnitNotEmptyException,
                       "The specified organizational unit is not empty: it has %zu OU(s) and "
                       "%zu account(s).",
                       nk, na);
    rc = pd_org_db_detach_target(r->db, c.org.id, ou.id);
    if (!rc)
        rc = pd_org_db_tags_del(r->db, ou.id, NULL, 0);
    if (!rc)
        rc = pd_org_db_ou_del(r->db, ou.id);
    return org_store_fail(r, rc);
}

int org_list_organizational_units_for_parent(struct pd_req *r)
{
    struct org_ctx c;
    enum org_node kind = ORG_NODE_NONE;
    const char *parent = org_in_str(r, "ParentId");
    if (org_ctx_load(r, &c, 1) || parent_of(r, &c, parent, &kind))
        return PD_EAWS;
    struct pd_org_ou *kids;
    size_t n;
    int rc = pd_org_db_ou_children(r->db, &r->arena, parent, &kids, &n);
    if (rc)
        return org_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, org_ou_json(r, &c.org, &kids[i]));
    return org_page(r, items, "OrganizationalUnits");
}

int org_list_children(struct pd_req *r)
{
    struct org_ctx c;
    enum org_node kind = ORG_NODE_NONE;
    const char *parent = org_in_str(r, "ParentId"), *type = org_in_str(r, "ChildType");
    if (org_ctx_load(r, &c, 1) || parent_of(r, &c, parent, &kind))
        return PD_EAWS;
    json_t *items = json_array();
    int rc;
    if (strcmp(type, "ORGANIZATIONAL_UNIT") == 0) {
        struct pd_org_ou *kids;
        size_t n;
        rc = pd_org_db_ou_children(r->db, &r->arena, parent, &kids, &n);
        for (size_t i = 0; !rc && i < n; i++)
            json_array_append_new(items, json_pack("{s:s, s:s}", "Id", kids[i].id, "Type", type));
    } else {
        struct pd_org_account *accts;
        size_t n;
        rc = pd_org_db_account_list(r->db, &r->arena, c.org.id, parent, &accts, &n);
        for (size_t i = 0; !rc && i < n; i++)
            json_array_append_new(items,
                                  json_pack("{s:s, s:s}", "Id", accts[i].account_id, "Type", type));
    }
    if (rc) {
        json_decref(items);
        return org_store_fail(r, rc);
    }
    return org_page(r, items, "Children");
}

int org_list_parents(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    const char *child = org_in_str(r, "ChildId");
    enum org_node kind = org_node_of(r, &c, child, NULL);
    const char *parent = NULL;
    if (kind == ORG_NODE_OU) {
        struct pd_org_ou ou;
        if (pd_org_db_ou_get(r->db, &r->arena, child, &ou) == PD_OK)
            parent = ou.parent_id;
    } else if (kind == ORG_NODE_ACCOUNT) {
        struct pd_org_account a;
        if (pd_org_db_account_get(r->db, &r->arena, child, &a) == PD_OK)
            parent = a.parent_id;
    }
    if (!parent)
        return pd_fail(r, &ORG_ChildNotFoundException,
                       "We can't find an organizational unit (OU) or AWS account with the "
                       "ChildId that you specified.");
    json_t *items = json_array();
    json_array_append_new(items,
                          json_pack("{s:s, s:s}", "Id", parent, "Type",
                                    pd_has_prefix(parent, "r-") ? "ROOT" : "ORGANIZATIONAL_UNIT"));
    return org_page(r, items, "Parents");
}

/* ---- accounts ------------------------------------------------------------------------- */

static int account_not_found(struct pd_req *r)
{
    return pd_fail(r, &ORG_AccountNotFoundException,
                   "You specified an account that doesn't exist.");
}

static int account_load(struct pd_req *r, const struct org_ctx *c, const char *id,
                        struct pd_org_account *OUT)
{
    int rc = pd_org_db_account_get(r->db, &r->arena, id, OUT);
    if (rc == PD_ENOTFOUND || (!rc && strcmp(OUT->org_id, c->org.id) != 0))
        return account_not_found(r);
    return org_store_fail(r, rc);
}

static json_t *car_json(const struct pd_org_car *car)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "Id", car->id, "AccountName", car->account_name,
                          "State", car->state, "RequestedTimestamp", (json_int_t)car->requested_ms);
    if (car->completed_ms)
        json_object_set_new(o, "CompletedTimestamp", json_integer(car->completed_ms));
    if (car->account_id)
        json_object_set_new(o, "AccountId", json_string(car->account_id));
    if (car->failure)
        json_object_set_new(o, "FailureReason", json_string(car->failure));
    return o;
}

/* A 12-digit account id no account of podiam has yet. */
static const char *new_account_id(struct pd_req *r)
{
    for (int tries = 0; tries < 100; tries++) {
        uint64_t v = pd_ids_next(&r->env->ids) % UINT64_C(900000000000) + UINT64_C(100000000000);
        const char *id = pd_arena_printf(&r->arena, "%012llu", (unsigned long long)v);
        int64_t created;
        if (pd_iam_db_account_get(r->db, id, &created) == PD_ENOTFOUND)
            return id;
    }
    return NULL;
}

/* Run an IAM operation as the root of account (the new account's root key and role). */
static int as_root(struct pd_req *r, const char *account, const char *op, json_t *in,
                   const char **OUT_err)
{
    struct pd_req *sub = pd_req_new(r->env);
    sub->db = r->db;
    sub->svc = &pd_svc_iam;
    sub->op = pd_service_op(&pd_svc_iam, op);
    sub->who.kind = PD_CALLER_ROOT;
    sub->who.account_id = pd_arena_strdup(&sub->arena, account);
    sub->who.arn = pd_arena_printf(&sub->arena, "arn:aws:iam::%s:root", account);
    sub->in = in;
    int rc = sub->op ? sub->op->fn(sub) : PD_EINTERNAL;
    if (rc && OUT_err)
        *OUT_err = pd_arena_printf(&r->arena, "%s: %s", op,
                                   sub->err.def ? sub->err.message : pd_strerror(rc));
    pd_req_free(sub);
    return rc;
}

/* Make the account podiam serves: the IAM account, its root access key, and the role the
 * management account administers it through. */
static int provision(struct pd_req *r, const char *account, const char *mgmt, const char *role,
                     int64_t now)
{
    const char *why = NULL;
    int rc = pd_iam_db_account_put(r->db, account, now);
    if (!rc)
        rc = as_root(r, account, "CreateAccessKey", json_object(), &why);
    const char *trust =
        pd_arena_printf(&r->arena,
                        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                        "\"Principal\":{\"AWS\":\"arn:aws:iam::%s:root\"},\"Action\":"
                        "\"sts:AssumeRole\"}]}",
                        mgmt);
    if (!rc)
        rc = as_root(r, account, "CreateRole",
                     json_pack("{s:s, s:s}", "RoleName", role, "AssumeRolePolicyDocument", trust),
                     &why);
    if (!rc)
        rc = as_root(r, account, "AttachRolePolicy",
                     json_pack("{s:s, s:s}", "RoleName", role, "PolicyArn",
                               "arn:aws:iam::aws:policy/AdministratorAccess"),
                     &why);
    if (rc)
        return pd_fail(r, &ORG_ServiceException, "podiam could not provision account %s: %s",
                       account, why ? why : pd_strerror(rc));
    return PD_OK;
}

int org_do_create_account(struct pd_req *r, const struct org_fixed *fx, const char *parent_id)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    const char *email = org_in_str(r, "Email"), *name = org_in_str(r, "AccountName");
    const char *role = org_in_str(r, "RoleName");
    if (!role)
        role = "OrganizationAccountAccessRole";
    if (pd_has_prefix(role, "AWSServiceRoleFor"))
        return org_fail_reason(r, &ORG_InvalidInputException, "INVALID_ROLE_NAME",
                               "You provided a role name that isn't valid. A role name can't "
                               "begin with the reserved prefix 'AWSServiceRoleFor'.");
    const char *parent = parent_id ? parent_id : c.org.root_id;
    enum org_node kind = ORG_NODE_NONE;
    if (parent_of(r, &c, parent, &kind))
        return PD_EAWS;
    int64_t now = fx && fx->created_ms ? fx->created_ms : org_now_ms(r);
    struct pd_org_car car = {
        .id = org_new_id(r, "car-", 32),
        .org_id = c.org.id,
        .account_name = name,
        .state = "SUCCEEDED",
        .requested_ms = now,
        .completed_ms = now,
    };
    struct pd_org_account *accts;
    size_t n;
    int rc = pd_org_db_account_list(r->db, &r->arena, c.org.id, NULL, &accts, &n);
    if (rc)
        return org_store_fail(r, rc);
    /* failures of account creation are the request's state, as AWS reports them */
    if (n >= PD_ORG_MAX_ACCOUNTS) {
        car.state = "FAILED";
        car.failure = "ACCOUNT_LIMIT_EXCEEDED";
    } else if (pd_org_db_email_used(r->db, email)) {
        car.state = "FAILED";
        car.failure = "EMAIL_ALREADY_EXISTS";
    } else {
        const char *id = fx && fx->id ? fx->id : new_account_id(r);
        int64_t created;
        if (!id)
            return pd_fail(r, &ORG_ServiceException, "podiam found no free account id");
        if (fx && fx->id && pd_iam_db_account_get(r->db, id, &created) == PD_OK) {
            /* a fixtures file may list an account its iam section made: it joins as is */
            struct pd_org have;
            if (pd_org_db_of_account(r->db, &r->arena, id, &have) == PD_OK)
                return pd_fail(r, &ORG_AlreadyInOrganizationException,
                               "Account %s is already a member of an organization.", id);
        } else if (provision(r, id, c.org.management_account, role, now)) {
            return PD_EAWS;
        }
        struct pd_org_account a = {
            .account_id = id,
            .org_id = c.org.id,
            .parent_id = parent,
            .name = name,
            .email = email,
            .status = "ACTIVE",
            .joined = "CREATED",
            .joined_ms = now,
        };
        rc = pd_org_db_account_put(r->db, &a);
        if (!rc)
            rc = attach_defaults(r, c.org.id, id);
        if (rc)
            return org_store_fail(r, rc);
        if (org_put_create_tags(r, c.org.id, id))
            return PD_EAWS;
        car.account_id = id;
    }
    rc = pd_org_db_car_put(r->db, &car);
    if (rc)
        return org_store_fail(r, rc);
    json_object_set_new(org_out(r), "CreateAccountStatus", car_json(&car));
    return PD_OK;
}

int org_create_account(struct pd_req *r)
{
    return org_do_create_account(r, NULL, NULL);
}

int org_describe_create_account_status(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    struct pd_org_car car;
    int rc = pd_org_db_car_get(r->db, &r->arena, org_in_str(r, "CreateAccountRequestId"), &car);
    if (rc == PD_ENOTFOUND || (!rc && strcmp(car.org_id, c.org.id) != 0))
        return pd_fail(r, &ORG_CreateAccountStatusNotFoundException,
                       "We can't find a create account request with the CreateAccountRequestId "
                       "that you specified.");
    if (rc)
        return org_store_fail(r, rc);
    json_object_set_new(org_out(r), "CreateAccountStatus", car_json(&car));
    return PD_OK;
}

int org_list_create_account_status(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    struct pd_org_car *cars;
    size_t n;
    int rc = pd_org_db_car_list(r->db, &r->arena, c.org.id, &cars, &n);
    if (rc)
        return org_store_fail(r, rc);
    json_t *states = org_in(r, "States");
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        int keep = !json_array_size(states);
        size_t k;
        json_t *s;
        json_array_foreach(states, k, s)
        {
            keep |= strcmp(json_string_value(s), cars[i].state) == 0;
        }
        if (keep)
            json_array_append_new(items, car_json(&cars[i]));
    }
    return org_page(r, items, "CreateAccountStatuses");
}

int org_describe_account(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_account a;
    if (org_ctx_load(r, &c, 1) || account_load(r, &c, org_in_str(r, "AccountId"), &a))
        return PD_EAWS;
    json_object_set_new(org_out(r), "Account", org_account_json(r, &c.org, &a));
    return PD_OK;
}

static int list_accounts(struct pd_req *r, const char *parent)
{
    struct org_ctx c;
    enum org_node kind = ORG_NODE_NONE;
    if (org_ctx_load(r, &c, 1) || (parent && parent_of(r, &c, parent, &kind)))
        return PD_EAWS;
    struct pd_org_account *accts;
    size_t n;
    int rc = pd_org_db_account_list(r->db, &r->arena, c.org.id, parent, &accts, &n);
    if (rc)
        return org_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, org_account_json(r, &c.org, &accts[i]));
    return org_page(r, items, "Accounts");
}

int org_list_accounts(struct pd_req *r)
{
    return list_accounts(r, NULL);
}

int org_list_accounts_for_parent(struct pd_req *r)
{
    return list_accounts(r, org_in_str(r, "ParentId"));
}

int org_move_account(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_account a;
    if (org_ctx_load(r, &c, 1) || account_load(r, &c, org_in_str(r, "AccountId"), &a))
        return PD_EAWS;
    const char *src = org_in_str(r, "SourceParentId"), *dst = org_in_str(r, "DestinationParentId");
    enum org_node k = org_node_of(r, &c, src, NULL);
    if ((k != ORG_NODE_ROOT && k != ORG_NODE_OU) || strcmp(a.parent_id, src) != 0)
        return pd_fail(r, &ORG_SourceParentNotFoundException,
                       "We can't find a source root or OU with the ParentId that you "
                       "specified.");
    k = org_node_of(r, &c, dst, NULL);
    if (k != ORG_NODE_ROOT && k != ORG_NODE_OU)
        return pd_fail(r, &ORG_DestinationParentNotFoundException,
                       "We can't find the destination container (a root or OU) with the "
                       "ParentId that you specified.");
    if (strcmp(src, dst) == 0)
        return pd_fail(r, &ORG_DuplicateAccountException,
                       "That account is already present in the specified destination.");
    return org_store_fail(r, pd_org_db_account_move(r->db, a.account_id, dst));
}

static int remove_account(struct pd_req *r, const struct org_ctx *c, const char *account)
{
    int rc = pd_org_db_detach_target(r->db, c->org.id, account);
    if (!rc)
        rc = pd_org_db_tags_del(r->db, account, NULL, 0);
    if (!rc)
        rc = pd_org_db_account_del(r->db, account);
    return org_store_fail(r, rc);
}

int org_remove_account_from_organization(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_account a;
    if (org_ctx_load(r, &c, 1) || account_load(r, &c, org_in_str(r, "AccountId"), &a))
        return PD_EAWS;
    if (strcmp(a.account_id, c.org.management_account) == 0)
        return pd_fail(r, &ORG_MasterCannotLeaveOrganizationException,
                       "You can't remove the management account from an organization.");
    return remove_account(r, &c, a.account_id);
}

int org_leave_organization(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 0))
        return PD_EAWS;
    if (c.management)
        return org_fail_reason(r, &ORG_ConstraintViolationException,
                               "ACCOUNT_CANNOT_LEAVE_ORGANIZATION",
                               "You can't remove the management account from an organization. "
                               "Delete the organization instead.");
    return remove_account(r, &c, c.account);
}
