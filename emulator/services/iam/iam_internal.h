/*
 * iam_internal.h - what the files of the IAM service share (iam.c, iam_users.c,
 * iam_roles.c, iam_policies.c, iam_oidc.c, iam_fixtures.c). Private to services/iam*.
 *
 * Handlers read r->in (members named as in the model's input shape) and fill r->out (the
 * output shape's members); errors go through pd_fail with the IAM_* codes of
 * iam_errors.def. The helpers below hold the rules every handler shares (names, paths,
 * tags, documents, pagination, lookups with AWS's not-found messages) so each rule exists
 * once, and so fixtures loading runs through the same code as the API.
 */
#ifndef PD_SERVICES_IAM_INTERNAL_H
#define PD_SERVICES_IAM_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "req.h"
#include "store/iam_db.h"

#define PD_AWSERR(code, status, fault) extern const struct pd_awserr IAM_##code;
#include "services/iam/iam_errors.def"
#undef PD_AWSERR

/* Quotas (AWS defaults). */
#define PD_IAM_MAX_TAGS 50
#define PD_IAM_MAX_KEYS_PER_USER 2
#define PD_IAM_MAX_ATTACHED 10 /* managed policies per user, group or role */
#define PD_IAM_MAX_GROUPS_PER_USER 10
#define PD_IAM_MAX_VERSIONS 5
#define PD_IAM_MAX_CLIENT_IDS 100
#define PD_IAM_MAX_THUMBPRINTS 5

/* Which kind of document is being written (size limits and rules differ). */
enum pd_iam_doc_kind {
    PD_IAM_DOC_MANAGED = 0,  /* managed policy version: 6144 non-whitespace characters */
    PD_IAM_DOC_USER_INLINE,  /* all of a user's inline policies together: 2048 */
    PD_IAM_DOC_GROUP_INLINE, /* 5120 */
    PD_IAM_DOC_ROLE_INLINE,  /* 10240 */
    PD_IAM_DOC_TRUST,        /* role trust policy: 2048 */
};

/* Check a policy document before it is stored: JSON syntax and, for managed and trust
 * documents, the size quota (inline quotas are per entity: pd_iam_check_inline_size). The
 * one place the policy engine's compiler plugs in. PD_OK or PD_EAWS (error set). */
int pd_iam_validate_policy_document(struct pd_req *r, const char *text, enum pd_iam_doc_kind kind);
/* Non-whitespace characters of a document (what IAM's size quotas count). */
size_t pd_iam_doc_size(const char *text);
/* Inline quota: the entity's other inline policies plus this one. */
int pd_iam_check_inline_size(struct pd_req *r, enum pd_iam_kind kind, int64_t id,
                             const char *entity_name, const char *policy_name,
                             const char *document);
/* Trust policy rules beyond syntax: "AWS" principals naming a user or role of an account
 * podiam holds must exist ("Invalid principal in policy"). */
int pd_iam_check_trust_principals(struct pd_req *r, const char *document);

/* ---- request input ---- */

const char *pd_iam_in_str(struct pd_req *r, const char *member);    /* NULL: absent */
int pd_iam_in_bool(struct pd_req *r, const char *member, int dflt); /* 0 / 1 */
int64_t pd_iam_in_int(struct pd_req *r, const char *member, int64_t dflt);
json_t *pd_iam_in(struct pd_req *r, const char *member); /* borrowed, NULL: absent */
/* A required string member (ValidationError when absent). */
int pd_iam_in_req(struct pd_req *r, const char *member, const char **OUT);

/* The caller's account. */
const char *pd_iam_account(struct pd_req *r);
/* Now, truncated to whole seconds (IAM dates carry no fraction). */
int64_t pd_iam_now_ms(struct pd_req *r);
/* A new unique id with the prefix ("AIDA", ...): 21 characters (20 for AKIA). */
char *pd_iam_new_id(struct pd_req *r, const char *prefix);

/* ---- validation (ValidationError in the model's words) ---- */

/* Names of users, groups, roles, policies: [\w+=,.@-]+, 1..max characters. */
int pd_iam_check_name(struct pd_req *r, const char *value, const char *member, size_t max);
/* Paths of users, groups, roles: "/" or "/.../" (printable ASCII), at most 512. */
int pd_iam_check_path(struct pd_req *r, const char *value, const char *member);
/* Managed policy paths: ((/[A-Za-z0-9.,+@=_-]+)*)/ */
int pd_iam_check_policy_path(struct pd_req *r, const char *value, const char *member);
/* A Tags list as decoded (array of {Key, Value}): shape, lengths, characters, duplicates. */
int pd_iam_check_tags(struct pd_req *r, json_t *tags);
/* Set tags on an entity (checks, then the 50-tag quota counting tags already there). */
int pd_iam_tags_apply(struct pd_req *r, enum pd_iam_kind kind, int64_t id, json_t *tags);
/* Remove tag keys (TagKeys list). */
int pd_iam_tags_remove(struct pd_req *r, enum pd_iam_kind kind, int64_t id, json_t *keys);
/* A list*Tags answer for an entity, paginated. */
int pd_iam_tags_list(struct pd_req *r, enum pd_iam_kind kind, int64_t id);
/* Fail with the standard "1 validation error detected" message. */
int pd_iam_invalid(struct pd_req *r, const char *value, const char *member, const char *constraint);

/* ---- lookups (NoSuchEntity with AWS's messages) ---- */

int pd_iam_user_find(struct pd_req *r, const char *name, struct pd_iam_user *OUT);
int pd_iam_group_find(struct pd_req *r, const char *name, struct pd_iam_group *OUT);
int pd_iam_role_find(struct pd_req *r, const char *name, struct pd_iam_role *OUT);
/* A managed policy visible to the caller. attachable = 1 words a miss as attach does
 * ("does not exist or is not attachable"), else "was not found". InvalidInput for a
 * malformed ARN. */
int pd_iam_policy_find(struct pd_req *r, const char *arn, int attachable,
                       struct pd_iam_policy *OUT);
/* Map an unexpected store result to ServiceFailure (PD_OK passes through). */
int pd_iam_store_fail(struct pd_req *r, int rc);

/* ---- output ---- */

json_t *pd_iam_time(int64_t ms);                        /* epoch milliseconds */
json_t *pd_iam_doc(struct pd_req *r, const char *text); /* URL-encoded document */
json_t *pd_iam_tags_json(const struct pd_iam_tag *tags, size_t n);
json_t *pd_iam_boundary_json(const char *arn);
enum { PD_IAM_FULL = 1 }; /* json flags: everything Get* returns (tags, boundary, ...) */
json_t *pd_iam_user_json(struct pd_req *r, const struct pd_iam_user *u, int flags);
json_t *pd_iam_group_json(const struct pd_iam_group *g);
json_t *pd_iam_role_json(struct pd_req *r, const struct pd_iam_role *role, int flags);
json_t *pd_iam_policy_json(struct pd_req *r, const struct pd_iam_policy *p, int flags);
/* Slice items by Marker/MaxItems into r->out[member] (+ IsTruncated, Marker). Steals items. */
int pd_iam_paginate(struct pd_req *r, json_t *items, const char *member);
/* r->out, created on first use. */
json_t *pd_iam_out(struct pd_req *r);

/* ---- creation with fixed values (fixtures) ----
 * The Create* handlers call these with fx = NULL; the fixtures loader passes ids, secrets
 * and dates to reproduce. Input comes from r->in as for the API. */
struct pd_iam_fixed {
    const char *id;         /* unique id / access key id / policy id */
    const char *secret;     /* access keys */
    const char *status;     /* access keys: Active / Inactive */
    int64_t created_ms;     /* 0: now */
    const char *version_id; /* managed policies: id of the first version */
};
int pd_iam_do_create_user(struct pd_req *r, const struct pd_iam_fixed *fx);
int pd_iam_do_create_group(struct pd_req *r, const struct pd_iam_fixed *fx);
int pd_iam_do_create_role(struct pd_req *r, const struct pd_iam_fixed *fx);
int pd_iam_do_create_policy(struct pd_req *r, const struct pd_iam_fixed *fx);
int pd_iam_do_create_access_key(struct pd_req *r, const struct pd_iam_fixed *fx);
int pd_iam_do_create_oidc(struct pd_req *r, const struct pd_iam_fixed *fx);
/* Add a version with a given id and date to a customer policy (fixtures). */
int pd_iam_add_policy_version(struct pd_req *r, const char *arn, const char *version_id,
                              const char *document, int64_t created_ms, int set_default);

/* What an IAM operation needs to be allowed (iam_authz.c; the service's authz hook). */
struct pd_authz_need;
int pd_iam_authz(struct pd_req *r, struct pd_authz_need *need);

/* ---- handlers (the op table is in iam.c) ---- */
#define PD_IAM_OPS(X)                                                                              \
    X(CreateUser, create_user, 1)                                                                  \
    X(GetUser, get_user, 0)                                                                        \
    X(ListUsers, list_users, 0)                                                                    \
    X(UpdateUser, update_user, 1)                                                                  \
    X(DeleteUser, delete_user, 1)                                                                  \
    X(PutUserPermissionsBoundary, put_user_permissions_boundary, 1)                                \
    X(DeleteUserPermissionsBoundary, delete_user_permissions_boundary, 1)                          \
    X(TagUser, tag_user, 1)                                                                        \
    X(UntagUser, untag_user, 1)                                                                    \
    X(ListUserTags, list_user_tags, 0)                                                             \
    X(CreateGroup, create_group, 1)                                                                \
    X(GetGroup, get_group, 0)                                                                      \
    X(ListGroups, list_groups, 0)                                                                  \
    X(UpdateGroup, update_group, 1)                                                                \
    X(DeleteGroup, delete_group, 1)                                                                \
    X(AddUserToGroup, add_user_to_group, 1)                                                        \
    X(RemoveUserFromGroup, remove_user_from_group, 1)                                              \
    X(ListGroupsForUser, list_groups_for_user, 0)                                                  \
    X(CreateAccessKey, create_access_key, 1)                                                       \
    X(ListAccessKeys, list_access_keys, 0)                                                         \
    X(UpdateAccessKey, update_access_key, 1)                                                       \
    X(DeleteAccessKey, delete_access_key, 1)                                                       \
    X(GetAccessKeyLastUsed, get_access_key_last_used, 0)                                           \
    X(CreateRole, create_role, 1)                                                                  \
    X(GetRole, get_role, 0)                                                                        \
    X(ListRoles, list_roles, 0)                                                                    \
    X(UpdateRole, update_role, 1)                                                                  \
    X(UpdateRoleDescription, update_role_description, 1)                                           \
    X(DeleteRole, delete_role, 1)                                                                  \
    X(UpdateAssumeRolePolicy, update_assume_role_policy, 1)                                        \
    X(PutRolePermissionsBoundary, put_role_permissions_boundary, 1)                                \
    X(DeleteRolePermissionsBoundary, delete_role_permissions_boundary, 1)                          \
    X(TagRole, tag_role, 1)                                                                        \
    X(UntagRole, untag_role, 1)                                                                    \
    X(ListRoleTags, list_role_tags, 0)                                                             \
    X(CreatePolicy, create_policy, 1)                                                              \
    X(GetPolicy, get_policy, 0)                                                                    \
    X(ListPolicies, list_policies, 0)                                                              \
    X(DeletePolicy, delete_policy, 1)                                                              \
    X(CreatePolicyVersion, create_policy_version, 1)                                               \
    X(GetPolicyVersion, get_policy_version, 0)                                                     \
    X(ListPolicyVersions, list_policy_versions, 0)                                                 \
    X(DeletePolicyVersion, delete_policy_version, 1)                                               \
    X(SetDefaultPolicyVersion, set_default_policy_version, 1)                                      \
    X(TagPolicy, tag_policy, 1)                                                                    \
    X(UntagPolicy, untag_policy, 1)                                                                \
    X(ListPolicyTags, list_policy_tags, 0)                                                         \
    X(ListEntitiesForPolicy, list_entities_for_policy, 0)                                          \
    X(PutUserPolicy, put_user_policy, 1)                                                           \
    X(GetUserPolicy, get_user_policy, 0)                                                           \
    X(ListUserPolicies, list_user_policies, 0)                                                     \
    X(DeleteUserPolicy, delete_user_policy, 1)                                                     \
    X(PutGroupPolicy, put_group_policy, 1)                                                         \
    X(GetGroupPolicy, get_group_policy, 0)                                                         \
    X(ListGroupPolicies, list_group_policies, 0)                                                   \
    X(DeleteGroupPolicy, delete_group_policy, 1)                                                   \
    X(PutRolePolicy, put_role_policy, 1)                                                           \
    X(GetRolePolicy, get_role_policy, 0)                                                           \
    X(ListRolePolicies, list_role_policies, 0)                                                     \
    X(DeleteRolePolicy, delete_role_policy, 1)                                                     \
    X(AttachUserPolicy, attach_user_policy, 1)                                                     \
    X(DetachUserPolicy, detach_user_policy, 1)                                                     \
    X(ListAttachedUserPolicies, list_attached_user_policies, 0)                                    \
    X(AttachGroupPolicy, attach_group_policy, 1)                                                   \
    X(DetachGroupPolicy, detach_group_policy, 1)                                                   \
    X(ListAttachedGroupPolicies, list_attached_group_policies, 0)                                  \
    X(AttachRolePolicy, attach_role_policy, 1)                                                     \
    X(DetachRolePolicy, detach_role_policy, 1)                                                     \
    X(ListAttachedRolePolicies, list_attached_role_policies, 0)                                    \
    X(CreateOpenIDConnectProvider, create_open_id_connect_provider, 1)                             \
    X(GetOpenIDConnectProvider, get_open_id_connect_provider, 0)                                   \
    X(ListOpenIDConnectProviders, list_open_id_connect_providers, 0)                               \
    X(DeleteOpenIDConnectProvider, delete_open_id_connect_provider, 1)                             \
    X(AddClientIDToOpenIDConnectProvider, add_client_id_to_open_id_connect_provider, 1)            \
    X(RemoveClientIDFromOpenIDConnectProvider, remove_client_id_from_open_id_connect_provider, 1)  \
    X(UpdateOpenIDConnectProviderThumbprint, update_open_id_connect_provider_thumbprint, 1)        \
    X(TagOpenIDConnectProvider, tag_open_id_connect_provider, 1)                                   \
    X(UntagOpenIDConnectProvider, untag_open_id_connect_provider, 1)                               \
    X(ListOpenIDConnectProviderTags, list_open_id_connect_provider_tags, 0)                        \
    X(GetAccountAuthorizationDetails, get_account_authorization_details, 0)                        \
    X(SimulateCustomPolicy, simulate_custom_policy, 0)                                             \
    X(SimulatePrincipalPolicy, simulate_principal_policy, 0)                                       \
    X(EnableOutboundWebIdentityFederation, enable_outbound_web_identity_federation, 1)             \
    X(DisableOutboundWebIdentityFederation, disable_outbound_web_identity_federation, 1)           \
    X(GetOutboundWebIdentityFederationInfo, get_outbound_web_identity_federation_info, 0)

#define PD_IAM_DECLARE(op, fn, write) int pd_iam_##fn(struct pd_req *r);
PD_IAM_OPS(PD_IAM_DECLARE)
#undef PD_IAM_DECLARE

#endif
