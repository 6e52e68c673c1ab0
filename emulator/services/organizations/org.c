/*
 * org.c - the AWS Organizations service: its operation table, what each operation needs to
 * be allowed (organizations:<Operation> on the entity it names), how its input errors read
 * (InvalidInputException with a Reason), and the helpers every handler shares (the caller's
 * organization, ids, ARNs, shapes, pages).
 *
 * The handlers are in org_tree.c (the organization, its root, OUs and accounts) and
 * org_policies.c (policies, attachments, policy types, tags); the evaluation of the SCPs
 * and RCPs they store is auth/orgs.c's. Must not: speak HTTP or SQL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/str.h"
#include "env.h"
#include "services/organizations/org_internal.h"
#include "services/service.h"

#define SENDER 0
#define RECEIVER 1
#define PD_AWSERR(c, status, fault) const struct pd_awserr ORG_##c = {#c, status, fault};
#include "services/organizations/org_errors.def"
#undef PD_AWSERR

/* ---- input, output, ids --------------------------------------------------------------- */

json_t *org_in(struct pd_req *r, const char *member)
{
    return json_object_get(r->in, member);
}

const char *org_in_str(struct pd_req *r, const char *member)
{
    return json_string_value(json_object_get(r->in, member));
}

json_t *org_out(struct pd_req *r)
{
    if (!r->out)
        r->out = json_object();
    return r->out;
}

int64_t org_now_ms(struct pd_req *r)
{
    return pd_clock_now_ms(&r->env->clock);
}

char *org_new_id(struct pd_req *r, const char *prefix, size_t n)
{
    char hex[64];
    if (n >= sizeof hex)
        n = sizeof hex - 1;
    pd_ids_hex(&r->env->ids, n, 0, hex);
    return pd_arena_printf(&r->arena, "%s%s", prefix, hex);
}

int org_fail_reason(struct pd_req *r, const struct pd_awserr *e, const char *reason,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int rc = pd_fail(r, e, "%s", msg);
    if (!r->err.extra && r->err.def == e)
        r->err.extra = json_pack("{s:s}", "Reason", reason);
    return rc;
}

int org_store_fail(struct pd_req *r, int rc)
{
    if (rc == PD_OK)
        return PD_OK;
    return pd_fail(r, &ORG_ServiceException, "podiam could not read or write its state: %s",
                   pd_strerror(rc));
}

int org_ctx_load(struct pd_req *r, struct org_ctx *c, int management)
{
    memset(c, 0, sizeof *c);
    c->account = r->who.account_id;
    int rc =
        c->account ? pd_org_db_of_account(r->db, &r->arena, c->account, &c->org) : PD_ENOTFOUND;
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &ORG_AWSOrganizationsNotInUseException,
                       "Your account is not a member of an organization.");
    if (rc)
        return org_store_fail(r, rc);
    c->management = strcmp(c->org.management_account, c->account) == 0;
    if (management && !c->management)
        return pd_fail(r, &ORG_AccessDeniedException,
                       "You don't have permissions to access this resource.");
    return PD_OK;
}

/* ---- pages ---------------------------------------------------------------------------- */

int org_page(struct pd_req *r, json_t *items, const char *member)
{
    size_t total = json_array_size(items), start = 0, max = PD_ORG_PAGE;
    json_t *mr = org_in(r, "MaxResults");
    if (json_is_integer(mr))
        max = (size_t)json_integer_value(mr); /* 1..20, validated by the model */
    const char *tok = org_in_str(r, "NextToken");
    if (tok) {
        int64_t v;
        if (!pd_has_prefix(tok, "pd1:") || pd_parse_i64(tok + 4, 0, (int64_t)total, &v)) {
            json_decref(items);
            return org_fail_reason(r, &ORG_InvalidInputException, "INVALID_NEXT_TOKEN",
                                   "You specified an invalid value for nextToken. You must "
                                   "get the value from the response to a previous call to "
                                   "the API.");
        }
        start = (size_t)v;
    }
    json_t *page = json_array();
    for (size_t i = start; i < total && i < start + max; i++)
        json_array_append(page, json_array_get(items, i));
    json_object_set_new(org_out(r), member, page);
    if (start + max < total)
        json_object_set_new(org_out(r), "NextToken",
                            json_string(pd_arena_printf(&r->arena, "pd1:%zu", start + max)));
    json_decref(items);
    return PD_OK;
}

/* ---- names and shapes ----------------------------------------------------------------- */

const char *org_arn(struct pd_req *r, const struct pd_org *o)
{
    return pd_arena_printf(&r->arena, "arn:aws:organizations::%s:organization/%s",
                           o->management_account, o->id);
}

const char *org_root_arn(struct pd_req *r, const struct pd_org *o)
{
    return pd_arena_printf(&r->arena, "arn:aws:organizations::%s:root/%s/%s", o->management_account,
                           o->id, o->root_id);
}

const char *org_ou_arn(struct pd_req *r, const struct pd_org *o, const char *ou_id)
{
    return pd_arena_printf(&r->arena, "arn:aws:organizations::%s:ou/%s/%s", o->management_account,
                           o->id, ou_id);
}

const char *org_account_arn(struct pd_req *r, const struct pd_org *o, const char *account)
{
    return pd_arena_printf(&r->arena, "arn:aws:organizations::%s:account/%s/%s",
                           o->management_account, o->id, account);
}

static const char *type_path(const char *type)
{
    return strcmp(type, PD_ORG_RCP) == 0 ? "resource_control_policy" : "service_control_policy";
}

const char *org_policy_arn(struct pd_req *r, const struct pd_org *o, const struct pd_org_policy *p)
{
    if (p->aws_managed)
        return pd_arena_printf(&r->arena, "arn:aws:organizations::aws:policy/%s/%s",
                               type_path(p->type), p->id);
    return pd_arena_printf(&r->arena, "arn:aws:organizations::%s:policy/%s/%s/%s",
                           o->management_account, o->id, type_path(p->type), p->id);
}

json_t *org_account_json(struct pd_req *r, const struct pd_org *o, const struct pd_org_account *a)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "Id", a->account_id, "Arn",
                     org_account_arn(r, o, a->account_id), "Email", a->email, "Name", a->name,
                     "Status", a->status, "State", a->status, "JoinedMethod", a->joined,
                     "JoinedTimestamp", (json_int_t)a->joined_ms);
}

json_t *org_ou_json(struct pd_req *r, const struct pd_org *o, const struct pd_org_ou *ou)
{
    return json_pack("{s:s, s:s, s:s}", "Id", ou->id, "Arn", org_ou_arn(r, o, ou->id), "Name",
                     ou->name);
}

json_t *org_root_json(struct pd_req *r, const struct pd_org *o)
{
    json_t *types = json_array();
    const char **v;
    size_t n;
    if (pd_org_db_type_list(r->db, &r->arena, o->id, &v, &n) == PD_OK)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(types,
                                  json_pack("{s:s, s:s}", "Type", v[i], "Status", "ENABLED"));
    return json_pack("{s:s, s:s, s:s, s:o}", "Id", o->root_id, "Arn", org_root_arn(r, o), "Name",
                     "Root", "PolicyTypes", types);
}

json_t *org_policy_summary_json(struct pd_req *r, const struct pd_org *o,
                                const struct pd_org_policy *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "Id", p->id, "Arn", org_policy_arn(r, o, p),
                     "Name", p->name, "Description", p->description ? p->description : "", "Type",
                     p->type, "AwsManaged", p->aws_managed);
}

int org_type_served(const char *type)
{
    return type && (strcmp(type, PD_ORG_SCP) == 0 || strcmp(type, PD_ORG_RCP) == 0);
}

/* ---- the tree ------------------------------------------------------------------------- */

enum org_node org_node_of(struct pd_req *r, const struct org_ctx *c, const char *id,
                          const char **OUT_name)
{
    if (OUT_name)
        *OUT_name = NULL;
    if (!id)
        return ORG_NODE_NONE;
    if (strcmp(id, c->org.root_id) == 0) {
        if (OUT_name)
            *OUT_name = "Root";
        return ORG_NODE_ROOT;
    }
    if (pd_has_prefix(id, "ou-")) {
        struct pd_org_ou ou;
        if (pd_org_db_ou_get(r->db, &r->arena, id, &ou) == PD_OK &&
            strcmp(ou.org_id, c->org.id) == 0) {
            if (OUT_name)
                *OUT_name = ou.name;
            return ORG_NODE_OU;
        }
        return ORG_NODE_NONE;
    }
    struct pd_org_account a;
    if (strlen(id) == 12 && strspn(id, "0123456789") == 12 &&
        pd_org_db_account_get(r->db, &r->arena, id, &a) == PD_OK &&
        strcmp(a.org_id, c->org.id) == 0) {
        if (OUT_name)
            *OUT_name = a.name;
        return ORG_NODE_ACCOUNT;
    }
    return ORG_NODE_NONE;
}

int org_ou_depth(struct pd_req *r, const char *ou_id)
{
    /* parents always exist when a node is written, so the walk ends at the root; the bound
     * only guards against a state edited by hand */
    int depth = 0;
    const char *id = ou_id;
    while (pd_has_prefix(id, "ou-") && depth <= PD_ORG_MAX_OU_DEPTH + 1) {
        struct pd_org_ou ou;
        if (pd_org_db_ou_get(r->db, &r->arena, id, &ou) != PD_OK)
            return 0;
        depth++;
        id = ou.parent_id;
    }
    return depth;
}

/* ---- authorization -------------------------------------------------------------------- */

/* The ARN of the entity an id names in the caller's organization, or "*". */
static const char *entity_arn(struct pd_req *r, const struct pd_org *o, const char *id)
{
    if (!o || !id)
        return "*";
    if (pd_has_prefix(id, "r-"))
        return org_root_arn(r, o);
    if (pd_has_prefix(id, "ou-"))
        return org_ou_arn(r, o, id);
    if (pd_has_prefix(id, "p-")) {
        struct pd_org_policy p;
        if (pd_org_db_policy_get(r->db, &r->arena, o->id, id, &p) == PD_OK)
            return org_policy_arn(r, o, &p);
        return "*";
    }
    if (strlen(id) == 12 && strspn(id, "0123456789") == 12)
        return org_account_arn(r, o, id);
    return "*";
}

/* organizations:<Operation> on the entities the request names (the Service Authorization
 * Reference's resource types: account, organizationalunit, root, policy); operations on the
 * organization as a whole on "*". AttachPolicy and DetachPolicy name two resources, the
 * policy and the target, and need both. Key: organizations:PolicyType. */
static int org_authz(struct pd_req *r, struct pd_authz_need *need)
{
    const char *action = pd_arena_printf(&r->arena, "organizations:%s", r->op->name);
    /* Organizations answers a refusal with its own error shape (the message stays IAM's,
     * which says why) */
    need->deny = &ORG_AccessDeniedException;
    struct pd_org org, *o = NULL;
    if (r->who.account_id &&
        pd_org_db_of_account(r->db, &r->arena, r->who.account_id, &org) == PD_OK)
        o = &org;
    const char *type = org_in_str(r, "Type");
    if (!type)
        type = org_in_str(r, "Filter");
    if (!type)
        type = org_in_str(r, "PolicyType");
    if (type)
        pd_ctx_add(&need->ctx, "organizations:PolicyType", PD_CTX_STRING, type, (size_t)-1);
    const char *policy = org_in_str(r, "PolicyId");
    const char *target = org_in_str(r, "TargetId");
    if (policy && target) {
        pd_authz_add(need, action, entity_arn(r, o, policy), NULL);
        pd_authz_add(need, action, entity_arn(r, o, target), NULL);
        return PD_OK;
    }
    static const char *const members[] = {
        "PolicyId", "TargetId",   "AccountId", "OrganizationalUnitId", "ParentId", "ChildId",
        "RootId",   "ResourceId", NULL};
    const char *resource = "*";
    for (const char *const *m = members; *m; m++) {
        const char *id = org_in_str(r, *m);
        if (id) {
            resource = entity_arn(r, o, id);
            break;
        }
    }
    pd_authz_add(need, action, resource, NULL);
    return PD_OK;
}

/* ---- input errors --------------------------------------------------------------------- */

/* Organizations answers a constraint violation with InvalidInputException and a Reason
 * (its model's InvalidInputExceptionReason), not with ValidationException. */
static void org_codec_error(struct pd_req *r, const char *code, int status, const char *message,
                            const char *violation)
{
    struct pd_awserr *copy = pd_arena_alloc(&r->arena, sizeof *copy);
    copy->code = pd_arena_strdup(&r->arena, code);
    copy->status = status;
    copy->receiver = status >= 500;
    if (strcmp(code, "ValidationException") != 0 || !violation) {
        pd_fail(r, copy, "%s", message ? message : "");
        return;
    }
    const char *m = violation;
    const char *reason = "INVALID_PATTERN",
               *text = "You provided a value that doesn't match the required pattern.";
    if (strstr(m, "must not be null")) {
        reason = "INPUT_REQUIRED";
        text = "You must specify a value for all required parameters.";
    } else if (strstr(m, "regular expression pattern")) {
        reason = "INVALID_PATTERN";
        text = "You provided a value that doesn't match the required pattern.";
    } else if (strstr(m, "enum value set")) {
        reason = "INVALID_ENUM";
        text = "You specified an invalid value.";
    } else if (strstr(m, "length less than or equal")) {
        reason = "MAX_LENGTH_EXCEEDED";
        text = "You provided a string parameter that is longer than allowed.";
    } else if (strstr(m, "length greater than or equal")) {
        reason = "MIN_LENGTH_EXCEEDED";
        text = "You provided a string parameter that is shorter than allowed.";
    } else if (strstr(m, "less than or equal")) {
        reason = "MAX_VALUE_EXCEEDED";
        text = "You provided a numeric parameter that has a larger value than allowed.";
    } else if (strstr(m, "greater than or equal")) {
        reason = "MIN_VALUE_EXCEEDED";
        text = "You provided a numeric parameter that has a smaller value than allowed.";
    }
    org_fail_reason(r, &ORG_InvalidInputException, reason, "%s (%s)", text, message);
}

/* ---- the table ------------------------------------------------------------------------ */

static const struct pd_op ops[] = {
    {"AttachPolicy", org_attach_policy, PD_OP_WRITE},
    {"CreateAccount", org_create_account, PD_OP_WRITE},
    {"CreateOrganization", org_create_organization, PD_OP_WRITE},
    {"CreateOrganizationalUnit", org_create_organizational_unit, PD_OP_WRITE},
    {"CreatePolicy", org_create_policy, PD_OP_WRITE},
    {"DeleteOrganization", org_delete_organization, PD_OP_WRITE},
    {"DeleteOrganizationalUnit", org_delete_organizational_unit, PD_OP_WRITE},
    {"DeletePolicy", org_delete_policy, PD_OP_WRITE},
    {"DescribeAccount", org_describe_account, 0},
    {"DescribeCreateAccountStatus", org_describe_create_account_status, 0},
    {"DescribeOrganization", org_describe_organization, 0},
    {"DescribeOrganizationalUnit", org_describe_organizational_unit, 0},
    {"DescribePolicy", org_describe_policy, 0},
    {"DetachPolicy", org_detach_policy, PD_OP_WRITE},
    {"DisablePolicyType", org_disable_policy_type, PD_OP_WRITE},
    {"EnablePolicyType", org_enable_policy_type, PD_OP_WRITE},
    {"LeaveOrganization", org_leave_organization, PD_OP_WRITE},
    {"ListAccounts", org_list_accounts, 0},
    {"ListAccountsForParent", org_list_accounts_for_parent, 0},
    {"ListChildren", org_list_children, 0},
    {"ListCreateAccountStatus", org_list_create_account_status, 0},
    {"ListOrganizationalUnitsForParent", org_list_organizational_units_for_parent, 0},
    {"ListParents", org_list_parents, 0},
    {"ListPolicies", org_list_policies, 0},
    {"ListPoliciesForTarget", org_list_policies_for_target, 0},
    {"ListRoots", org_list_roots, 0},
    {"ListTagsForResource", org_list_tags_for_resource, 0},
    {"ListTargetsForPolicy", org_list_targets_for_policy, 0},
    {"MoveAccount", org_move_account, PD_OP_WRITE},
    {"RemoveAccountFromOrganization", org_remove_account_from_organization, PD_OP_WRITE},
    {"TagResource", org_tag_resource, PD_OP_WRITE},
    {"UntagResource", org_untag_resource, PD_OP_WRITE},
    {"UpdateOrganizationalUnit", org_update_organizational_unit, PD_OP_WRITE},
    {"UpdatePolicy", org_update_policy, PD_OP_WRITE},
    {NULL, NULL, 0},
};

const struct pd_service pd_svc_organizations = {
    .name = "organizations",
    .signing_name = "organizations",
    .proto = PD_PROTO_JSON,
    .spec = "organizations.json",
    .ops = ops,
    .authz = org_authz,
    .codec_error = org_codec_error,
};
