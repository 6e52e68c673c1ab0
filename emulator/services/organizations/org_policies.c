/*
 * org_policies.c - Organizations policies: CreatePolicy, UpdatePolicy, DeletePolicy,
 * DescribePolicy, ListPolicies, AttachPolicy, DetachPolicy, ListPoliciesForTarget,
 * ListTargetsForPolicy, EnablePolicyType, DisablePolicyType, and tags (TagResource,
 * UntagResource, ListTagsForResource).
 *
 * The types served are SERVICE_CONTROL_POLICY and RESOURCE_CONTROL_POLICY (the ones that
 * decide access); a document is checked when written by the policy engine's compiler for
 * its type and by AWS's size quota (5,120 characters, white space included), and refused
 * with MalformedPolicyDocumentException / ConstraintViolationException as AWS does. Every
 * target keeps at least one SCP while SCPs are enabled; RCPFullAWSAccess never leaves one.
 */
#include <string.h>

#include "auth/policy.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "services/organizations/org_internal.h"

static int policy_not_found(struct pd_req *r)
{
    return pd_fail(r, &ORG_PolicyNotFoundException,
                   "We can't find a policy with the PolicyId that you specified.");
}

static int policy_load(struct pd_req *r, const struct org_ctx *c, const char *id,
                       struct pd_org_policy *OUT)
{
    int rc = pd_org_db_policy_get(r->db, &r->arena, c->org.id, id, OUT);
    if (rc == PD_ENOTFOUND)
        return policy_not_found(r);
    return org_store_fail(r, rc);
}

static int target_not_found(struct pd_req *r)
{
    return pd_fail(r, &ORG_TargetNotFoundException,
                   "We can't find a root, OU, account, or policy with the TargetId that you "
                   "specified.");
}

static const char *target_type(enum org_node k)
{
    return k == ORG_NODE_ROOT ? "ROOT" : k == ORG_NODE_OU ? "ORGANIZATIONAL_UNIT" : "ACCOUNT";
}

static const char *target_arn(struct pd_req *r, const struct pd_org *o, const char *id,
                              enum org_node k)
{
    return k == ORG_NODE_ROOT ? org_root_arn(r, o)
           : k == ORG_NODE_OU ? org_ou_arn(r, o, id)
                              : org_account_arn(r, o, id);
}

/* Characters of a document as Organizations counts them: every character, white space
 * included (UTF-8 code points). */
static size_t content_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A policy document for type: size quota, then the policy language of the type (SCPs: no
 * Principal; RCPs: Principal "*", and Deny statements only unless AWS manages it). */
static int check_content(struct pd_req *r, const char *type, const char *content)
{
    if (content_chars(content) > PD_ORG_MAX_POLICY_SIZE)
        return org_fail_reason(r, &ORG_ConstraintViolationException,
                               "POLICY_CONTENT_LIMIT_EXCEEDED",
                               "You attempted to create a policy that is larger than the maximum "
                               "size (%d characters).",
                               PD_ORG_MAX_POLICY_SIZE);
    char err[256];
    const char *why = NULL;
    struct pd_policy *p = NULL;
    int rcp = strcmp(type, PD_ORG_RCP) == 0;
    int rc = pd_policy_compile(content, strlen(content), rcp ? PD_POLICY_RCP : PD_POLICY_SCP, err,
                               sizeof err, &p, &why);
    if (!rc && rcp) {
        for (size_t i = 0; i < pd_policy_statement_count(p) && !why; i++)
            if (!pd_policy_statement_deny(p, i))
                why = "a resource control policy may only deny (Allow is RCPFullAWSAccess's)";
        rc = why ? PD_EINVAL : PD_OK;
    }
    pd_policy_free(p);
    if (!rc)
        return PD_OK;
    /* AWS gives this one message whatever is wrong; the log says what */
    pd_log_req(PD_LOG_INFO, r->request_id, "organizations: policy document refused: %s",
               why ? why : "?");
    return pd_fail(r, &ORG_MalformedPolicyDocumentException,
                   "The provided policy document doesn't meet the requirements of the "
                   "specified policy type.");
}

static int type_available(struct pd_req *r, const struct org_ctx *c, const char *type)
{
    if (strcmp(c->org.feature_set, "ALL") != 0)
        return pd_fail(r, &ORG_PolicyTypeNotAvailableForOrganizationException,
                       "You can't use the specified policy type with the feature set currently "
                       "enabled for this organization.");
    if (!org_type_served(type))
        return pd_fail(r, &ORG_PolicyTypeNotAvailableForOrganizationException,
                       "podiam serves the policy types SERVICE_CONTROL_POLICY and "
                       "RESOURCE_CONTROL_POLICY, not %s.",
                       type);
    return PD_OK;
}

/* Is another policy of the type named so? */
static int name_taken(struct pd_req *r, const struct org_ctx *c, const char *type, const char *name,
                      const char *except)
{
    struct pd_org_policy *v;
    size_t n;
    if (pd_org_db_policy_list(r->db, &r->arena, c->org.id, type, &v, &n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0 && (!except || strcmp(v[i].id, except) != 0))
            return 1;
    return 0;
}

static json_t *policy_json(struct pd_req *r, const struct pd_org *o, const struct pd_org_policy *p)
{
    return json_pack("{s:o, s:s}", "PolicySummary", org_policy_summary_json(r, o, p), "Content",
                     p->content);
}

/* ---- policies ------------------------------------------------------------------------- */

int org_do_create_policy(struct pd_req *r, const struct org_fixed *fx)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    const char *type = org_in_str(r, "Type"), *name = org_in_str(r, "Name");
    const char *content = org_in_str(r, "Content"), *desc = org_in_str(r, "Description");
    if (type_available(r, &c, type) || check_content(r, type, content))
        return PD_EAWS;
    int64_t count = 0;
    int rc = pd_org_db_policy_count(r->db, c.org.id, type, &count);
    if (rc)
        return org_store_fail(r, rc);
    if (count >= (strcmp(type, PD_ORG_RCP) == 0 ? PD_ORG_MAX_RCPS : PD_ORG_MAX_SCPS))
        return org_fail_reason(r, &ORG_ConstraintViolationException, "POLICY_NUMBER_LIMIT_EXCEEDED",
                               "You attempted to exceed the number of policies of this type "
                               "that you can have in an organization.");
    if (name_taken(r, &c, type, name, NULL))
        return pd_fail(r, &ORG_DuplicatePolicyException,
                       "A policy with the same name already exists.");
    struct pd_org_policy p = {
        .id = fx && fx->id ? fx->id : org_new_id(r, "p-", 8),
        .org_id = c.org.id,
        .type = type,
        .name = name,
        .description = desc ? desc : "",
        .content = content,
    };
    rc = pd_org_db_policy_put(r->db, &p);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &ORG_DuplicatePolicyException, "A policy with the id %s already exists.",
                       p.id);
    if (rc)
        return org_store_fail(r, rc);
    if (org_put_create_tags(r, c.org.id, p.id))
        return PD_EAWS;
    json_object_set_new(org_out(r), "Policy", policy_json(r, &c.org, &p));
    return PD_OK;
}

int org_create_policy(struct pd_req *r)
{
    return org_do_create_policy(r, NULL);
}

static int immutable(struct pd_req *r)
{
    return org_fail_reason(r, &ORG_InvalidInputException, "IMMUTABLE_POLICY",
                           "You specified a policy that is managed by AWS and can't be "
                           "modified.");
}

int org_update_policy(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_policy p;
    if (org_ctx_load(r, &c, 1) || policy_load(r, &c, org_in_str(r, "PolicyId"), &p))
        return PD_EAWS;
    if (p.aws_managed)
        return immutable(r);
    const char *name = org_in_str(r, "Name"), *desc = org_in_str(r, "Description");
    const char *content = org_in_str(r, "Content");
    if (content && check_content(r, p.type, content))
        return PD_EAWS;
    if (name && name_taken(r, &c, p.type, name, p.id))
        return pd_fail(r, &ORG_DuplicatePolicyException,
                       "A policy with the same name already exists.");
    if (name)
        p.name = name;
    if (desc)
        p.description = desc;
    if (content)
        p.content = content;
    int rc = pd_org_db_policy_update(r->db, &p);
    if (rc)
        return org_store_fail(r, rc);
    json_object_set_new(org_out(r), "Policy", policy_json(r, &c.org, &p));
    return PD_OK;
}

int org_delete_policy(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_policy p;
    if (org_ctx_load(r, &c, 1) || policy_load(r, &c, org_in_str(r, "PolicyId"), &p))
        return PD_EAWS;
    if (p.aws_managed)
        return immutable(r);
    const char **targets;
    size_t n;
    int rc = pd_org_db_policy_targets(r->db, &r->arena, c.org.id, p.id, &targets, &n);
    if (rc)
        return org_store_fail(r, rc);
    if (n)
        return pd_fail(r, &ORG_PolicyInUseException,
                       "The policy is attached to one or more entities. You must detach it from "
                       "all roots, OUs, and accounts before performing this operation.");
    rc = pd_org_db_tags_del(r->db, p.id, NULL, 0);
    if (!rc)
        rc = pd_org_db_policy_del(r->db, p.id);
    return org_store_fail(r, rc);
}

int org_describe_policy(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_policy p;
    if (org_ctx_load(r, &c, 1) || policy_load(r, &c, org_in_str(r, "PolicyId"), &p))
        return PD_EAWS;
    json_object_set_new(org_out(r), "Policy", policy_json(r, &c.org, &p));
    return PD_OK;
}

int org_list_policies(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    const char *type = org_in_str(r, "Filter");
    json_t *items = json_array();
    if (org_type_served(type)) {
        struct pd_org_policy *v;
        size_t n;
        int rc = pd_org_db_policy_list(r->db, &r->arena, c.org.id, type, &v, &n);
        if (rc) {
            json_decref(items);
            return org_store_fail(r, rc);
        }
        for (size_t i = 0; i < n; i++)
            json_array_append_new(items, org_policy_summary_json(r, &c.org, &v[i]));
    }
    return org_page(r, items, "Policies");
}

/* ---- attachments ---------------------------------------------------------------------- */

static int attach_args(struct pd_req *r, struct org_ctx *c, struct pd_org_policy *p,
                       const char **OUT_target, enum org_node *OUT_kind)
{
    if (org_ctx_load(r, c, 1) || policy_load(r, c, org_in_str(r, "PolicyId"), p))
        return PD_EAWS;
    *OUT_target = org_in_str(r, "TargetId");
    *OUT_kind = org_node_of(r, c, *OUT_target, NULL);
    if (*OUT_kind == ORG_NODE_NONE)
        return target_not_found(r);
    return PD_OK;
}

static int type_not_enabled(struct pd_req *r)
{
    return pd_fail(r, &ORG_PolicyTypeNotEnabledException,
                   "This operation can be performed only for enabled policy types.");
}

int org_attach_policy(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_policy p;
    const char *target;
    enum org_node kind = ORG_NODE_NONE;
    if (attach_args(r, &c, &p, &target, &kind))
        return PD_EAWS;
    if (!pd_org_db_type_enabled(r->db, c.org.id, p.type))
        return type_not_enabled(r);
    if (pd_org_db_attached(r->db, c.org.id, p.id, target))
        return pd_fail(r, &ORG_DuplicatePolicyAttachmentException,
                       "The selected policy is already attached to the specified target.");
    struct pd_org_policy *have;
    size_t n;
    int rc = pd_org_db_target_policies(r->db, &r->arena, c.org.id, target, p.type, &have, &n);
    if (rc)
        return org_store_fail(r, rc);
    if (n >= PD_ORG_MAX_ATTACHED)
        return org_fail_reason(r, &ORG_ConstraintViolationException,
                               "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                               "You attempted to exceed the number of policies of this type "
                               "(%d) that can be attached to an entity.",
                               PD_ORG_MAX_ATTACHED);
    return org_store_fail(r, pd_org_db_attach(r->db, c.org.id, p.id, target));
}

int org_detach_policy(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_policy p;
    const char *target;
    enum org_node kind = ORG_NODE_NONE;
    if (attach_args(r, &c, &p, &target, &kind))
        return PD_EAWS;
    if (!pd_org_db_attached(r->db, c.org.id, p.id, target))
        return pd_fail(r, &ORG_PolicyNotAttachedException,
                       "The policy isn't attached to the specified target in the specified "
                       "root.");
    if (strcmp(p.id, PD_ORG_FULL_RCP) == 0)
        return org_fail_reason(r, &ORG_InvalidInputException, "NON_DETACHABLE_POLICY",
                               "You can't detach this AWS Managed Policy.");
    struct pd_org_policy *have;
    size_t n;
    int rc = pd_org_db_target_policies(r->db, &r->arena, c.org.id, target, p.type, &have, &n);
    if (rc)
        return org_store_fail(r, rc);
    /* every root, OU and account keeps at least one SCP while SCPs are enabled */
    if (strcmp(p.type, PD_ORG_SCP) == 0 && n <= 1)
        return org_fail_reason(r, &ORG_ConstraintViolationException,
                               "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                               "You attempted to detach a policy from an entity that would cause "
                               "the entity to have fewer than the minimum number of policies of "
                               "a certain type required.");
    return org_store_fail(r, pd_org_db_detach(r->db, c.org.id, p.id, target));
}

int org_list_policies_for_target(struct pd_req *r)
{
    struct org_ctx c;
    if (org_ctx_load(r, &c, 1))
        return PD_EAWS;
    const char *target = org_in_str(r, "TargetId"), *type = org_in_str(r, "Filter");
    if (org_node_of(r, &c, target, NULL) == ORG_NODE_NONE)
        return target_not_found(r);
    json_t *items = json_array();
    if (org_type_served(type)) {
        struct pd_org_policy *v;
        size_t n;
        int rc = pd_org_db_target_policies(r->db, &r->arena, c.org.id, target, type, &v, &n);
        if (rc) {
            json_decref(items);
            return org_store_fail(r, rc);
        }
        for (size_t i = 0; i < n; i++)
            json_array_append_new(items, org_policy_summary_json(r, &c.org, &v[i]));
    }
    return org_page(r, items, "Policies");
}

int org_list_targets_for_policy(struct pd_req *r)
{
    struct org_ctx c;
    struct pd_org_policy p;
    if (org_ctx_load(r, &c, 1) || policy_load(r, &c, org_in_str(r, "PolicyId"), &p))
        return PD_EAWS;
    const char **targets;
    size_t n;
    int rc = pd_org_db_policy_targets(r->db, &r->arena, c.org.id, p.id, &targets, &n);
    if (rc)
        return org_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *name;
        enum org_node k = org_node_of(r, &c, targets[i], &name);
        if (k == ORG_NODE_NONE)
            continue;
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s}", "TargetId", targets[i],
                                               "Arn", target_arn(r, &c.org, targets[i], k), "Name",
                                               name ? name : "", "Type", target_type(k)));
    }
    return org_page(r, items, "Targets");
}

/* ---- policy types --------------------------------------------------------------------- */

static int root_args(struct pd_req *r, struct org_ctx *c, const char **OUT_type)
{
    if (org_ctx_load(r, c, 1))
        return PD_EAWS;
    if (strcmp(org_in_str(r, "RootId"), c->org.root_id) != 0)
        return pd_fail(r, &ORG_RootNotFoundException,
                       "We can't find a root with the RootId that you specified.");
    *OUT_type = org_in_str(r, "PolicyType");
    return PD_OK;
}

int org_enable_policy_type(struct pd_req *r)
{
    struct org_ctx c;
    const char *type;
    if (root_args(r, &c, &type) || type_available(r, &c, type))
        return PD_EAWS;
    if (pd_org_db_type_enabled(r->db, c.org.id, type))
        return pd_fail(r, &ORG_PolicyTypeAlreadyEnabledException,
                       "The specified policy type is already enabled.");
    /* the AWS managed policy of the type goes on the root, every OU and every account */
    const struct pd_org_policy *b = pd_org_db_builtin(type);
    int rc = pd_org_db_type_set(r->db, c.org.id, type, 1);
    if (!rc)
        rc = pd_org_db_attach(r->db, c.org.id, b->id, c.org.root_id);
    struct pd_org_ou *ous;
    struct pd_org_account *accts;
    size_t n = 0;
    if (!rc)
        rc = pd_org_db_ou_list(r->db, &r->arena, c.org.id, &ous, &n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = pd_org_db_attach(r->db, c.org.id, b->id, ous[i].id);
    if (!rc)
        rc = pd_org_db_account_list(r->db, &r->arena, c.org.id, NULL, &accts, &n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = pd_org_db_attach(r->db, c.org.id, b->id, accts[i].account_id);
    if (rc)
        return org_store_fail(r, rc);
    json_object_set_new(org_out(r), "Root", org_root_json(r, &c.org));
    return PD_OK;
}

int org_disable_policy_type(struct pd_req *r)
{
    struct org_ctx c;
    const char *type;
    if (root_args(r, &c, &type))
        return PD_EAWS;
    if (!pd_org_db_type_enabled(r->db, c.org.id, type))
        return type_not_enabled(r);
    /* every attachment of the type goes; the policies stay */
    int rc = pd_org_db_detach_type(r->db, c.org.id, type);
    if (!rc)
        rc = pd_org_db_type_set(r->db, c.org.id, type, 0);
    if (rc)
        return org_store_fail(r, rc);
    json_object_set_new(org_out(r), "Root", org_root_json(r, &c.org));
    return PD_OK;
}

/* ---- tags ----------------------------------------------------------------------------- */

/* The resource a ResourceId names in the caller's organization: the root, an OU, an account
 * or one of its policies (AWS managed policies have no tags). */
static int tag_target(struct pd_req *r, const struct org_ctx *c, const char *id)
{
    if (pd_has_prefix(id, "p-")) {
        struct pd_org_policy p;
        if (pd_org_db_policy_get(r->db, &r->arena, c->org.id, id, &p) == PD_OK && !p.aws_managed)
            return PD_OK;
    } else if (org_node_of(r, c, id, NULL) != ORG_NODE_NONE) {
        return PD_OK;
    }
    return target_not_found(r);
}

static int put_tags(struct pd_req *r, const char *org_id, const char *resource, json_t *tags)
{
    size_t n = json_array_size(tags);
    if (!n)
        return PD_OK;
    struct pd_org_tag *v = pd_arena_alloc(&r->arena, n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tags, i);
        v[i].key = json_string_value(json_object_get(t, "Key"));
        v[i].value = json_string_value(json_object_get(t, "Value"));
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[j].key, v[i].key) == 0)
                return org_fail_reason(r, &ORG_InvalidInputException, "DUPLICATE_TAG_KEY",
                                       "Tag keys must be unique among the tags attached to the "
                                       "same entity.");
        if (pd_has_prefix(v[i].key, "aws:"))
            return org_fail_reason(r, &ORG_InvalidInputException, "INVALID_SYSTEM_TAGS_PARAMETER",
                                   "You specified a tag key that is a system tag: %s", v[i].key);
    }
    struct pd_org_tag *have;
    size_t nh;
    int rc = pd_org_db_tags_get(r->db, &r->arena, resource, &have, &nh);
    if (rc)
        return org_store_fail(r, rc);
    size_t total = nh;
    for (size_t i = 0; i < n; i++) {
        int known = 0;
        for (size_t j = 0; j < nh; j++)
            known |= strcmp(have[j].key, v[i].key) == 0;
        total += !known;
    }
    if (total > PD_ORG_MAX_TAGS)
        return org_fail_reason(r, &ORG_ConstraintViolationException, "MAX_TAG_LIMIT_EXCEEDED",
                               "You have exceeded the number of tags allowed on this resource "
                               "(%d).",
                               PD_ORG_MAX_TAGS);
    return org_store_fail(r, pd_org_db_tags_put(r->db, org_id, resource, v, n));
}

int org_put_create_tags(struct pd_req *r, const char *org_id, const char *resource_id)
{
    return put_tags(r, org_id, resource_id, org_in(r, "Tags"));
}

int org_tag_resource(struct pd_req *r)
{
    struct org_ctx c;
    const char *id = org_in_str(r, "ResourceId");
    if (org_ctx_load(r, &c, 1) || tag_target(r, &c, id))
        return PD_EAWS;
    return put_tags(r, c.org.id, id, org_in(r, "Tags"));
}

int org_untag_resource(struct pd_req *r)
{
    struct org_ctx c;
    const char *id = org_in_str(r, "ResourceId");
    if (org_ctx_load(r, &c, 1) || tag_target(r, &c, id))
        return PD_EAWS;
    json_t *keys = org_in(r, "TagKeys");
    size_t n = json_array_size(keys);
    const char **v = pd_arena_alloc(&r->arena, (n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_string_value(json_array_get(keys, i));
    return org_store_fail(r, pd_org_db_tags_del(r->db, id, v, n));
}

int org_list_tags_for_resource(struct pd_req *r)
{
    struct org_ctx c;
    const char *id = org_in_str(r, "ResourceId");
    if (org_ctx_load(r, &c, 1) || tag_target(r, &c, id))
        return PD_EAWS;
    struct pd_org_tag *v;
    size_t n;
    int rc = pd_org_db_tags_get(r->db, &r->arena, id, &v, &n);
    if (rc)
        return org_store_fail(r, rc);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:s, s:s}", "Key", v[i].key, "Value", v[i].value));
    return org_page(r, items, "Tags");
}
