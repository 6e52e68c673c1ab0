/*
 * org_internal.h - what the files of the Organizations service share (org.c, org_tree.c,
 * org_policies.c, org_fixtures.c). Private to services/organizations/.
 *
 * Handlers read r->in and fill r->out with the model's member names; errors go through
 * pd_fail with the ORG_* codes of org_errors.def (Reason members through org_fail_reason).
 * Who may call: every operation is IAM-authorized by dispatch first (org.c's authz hook);
 * then the organization rules apply here: most operations belong to the management account,
 * a member account may only describe its organization and itself (org_ctx_load).
 */
#ifndef PD_SERVICES_ORG_INTERNAL_H
#define PD_SERVICES_ORG_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "req.h"
#include "store/org_db.h"

#define PD_AWSERR(code, status, fault) extern const struct pd_awserr ORG_##code;
#include "services/organizations/org_errors.def"
#undef PD_AWSERR

/* Quotas (AWS defaults, Organizations User Guide "Quotas"). */
#define PD_ORG_MAX_POLICY_SIZE 5120 /* SCPs and RCPs, every character counted */
#define PD_ORG_MAX_ATTACHED 5       /* policies of one type attached to one target */
#define PD_ORG_MAX_OU_DEPTH 5       /* OUs nested under the root */
#define PD_ORG_MAX_OUS 2000         /* OUs in an organization */
#define PD_ORG_MAX_ACCOUNTS 10      /* accounts in an organization (the default quota) */
#define PD_ORG_MAX_SCPS 10000       /* SCPs in an organization */
#define PD_ORG_MAX_RCPS 1000        /* RCPs in an organization */
#define PD_ORG_MAX_TAGS 50          /* tags per resource */
#define PD_ORG_PAGE 20              /* MaxResults' maximum and the default page */

/* The caller's organization, as a handler needs it. */
struct org_ctx {
    struct pd_org org;
    const char *account; /* the caller's account */
    int management;      /* the caller is the management account */
};

/* Need the caller's organization (AWSOrganizationsNotInUseException without one) and, when
 * management is set, that the caller is its management account (AccessDeniedException).
 * PD_OK or PD_EAWS. */
int org_ctx_load(struct pd_req *r, struct org_ctx *c, int management);

/* ---- input and output ---- */

const char *org_in_str(struct pd_req *r, const char *member); /* NULL: absent */
json_t *org_in(struct pd_req *r, const char *member);         /* borrowed, NULL: absent */
json_t *org_out(struct pd_req *r);                            /* r->out, created on demand */
int64_t org_now_ms(struct pd_req *r);
/* A new id: prefix + n random lower-case hex characters (arena). */
char *org_new_id(struct pd_req *r, const char *prefix, size_t n);

/* Set ConstraintViolationException / InvalidInputException with their Reason member. */
int org_fail_reason(struct pd_req *r, const struct pd_awserr *e, const char *reason,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A store error the handler did not expect: ServiceException. */
int org_store_fail(struct pd_req *r, int rc);

/* Page items (a new array, stolen) into r->out[member] with MaxResults and NextToken (an
 * offset token of ours; a foreign one is InvalidInputException INVALID_NEXT_TOKEN). */
int org_page(struct pd_req *r, json_t *items, const char *member);

/* ---- names and shapes ---- */

const char *org_arn(struct pd_req *r, const struct pd_org *o);
const char *org_root_arn(struct pd_req *r, const struct pd_org *o);
const char *org_ou_arn(struct pd_req *r, const struct pd_org *o, const char *ou_id);
const char *org_account_arn(struct pd_req *r, const struct pd_org *o, const char *account);
const char *org_policy_arn(struct pd_req *r, const struct pd_org *o, const struct pd_org_policy *p);
json_t *org_account_json(struct pd_req *r, const struct pd_org *o, const struct pd_org_account *a);
json_t *org_ou_json(struct pd_req *r, const struct pd_org *o, const struct pd_org_ou *ou);
json_t *org_root_json(struct pd_req *r, const struct pd_org *o);
json_t *org_policy_summary_json(struct pd_req *r, const struct pd_org *o,
                                const struct pd_org_policy *p);

/* The policy types podiam serves: SCP and RCP. Others (tag, backup, ...) are valid enum
 * values AWS accepts; podiam answers them as not available. */
int org_type_served(const char *type);

/* ---- the tree ---- */

enum org_node { ORG_NODE_NONE = 0, ORG_NODE_ROOT, ORG_NODE_OU, ORG_NODE_ACCOUNT };

/* What id is in the caller's organization: the root, an OU or an account (by its form,
 * then by lookup). ORG_NODE_NONE when it is none of them. *OUT_name: its name. */
enum org_node org_node_of(struct pd_req *r, const struct org_ctx *c, const char *id,
                          const char **OUT_name);
/* Depth of an OU (1: directly under the root), 0 when not found. */
int org_ou_depth(struct pd_req *r, const char *ou_id);

/* ---- shared with the fixtures loader: the operations with fixed ids and times ---- */

struct org_fixed {
    const char *id;     /* the new entity's id */
    int64_t created_ms; /* its creation (join) time; 0: now */
};

/* Create the caller's organization (CreateOrganization). */
int org_do_create_organization(struct pd_req *r, const char *org_id, const char *root_id,
                               const struct org_fixed *fx);
int org_do_create_ou(struct pd_req *r, const struct org_fixed *fx);
/* CreateAccount with fixed id, name, email, parent (fixtures: accounts listed in a file). */
int org_do_create_account(struct pd_req *r, const struct org_fixed *fx, const char *parent_id);
int org_do_create_policy(struct pd_req *r, const struct org_fixed *fx);

/* Handlers (org_tree.c) */
int org_create_organization(struct pd_req *r);
int org_describe_organization(struct pd_req *r);
int org_delete_organization(struct pd_req *r);
int org_list_roots(struct pd_req *r);
int org_create_organizational_unit(struct pd_req *r);
int org_describe_organizational_unit(struct pd_req *r);
int org_update_organizational_unit(struct pd_req *r);
int org_delete_organizational_unit(struct pd_req *r);
int org_list_organizational_units_for_parent(struct pd_req *r);
int org_list_children(struct pd_req *r);
int org_list_parents(struct pd_req *r);
int org_create_account(struct pd_req *r);
int org_describe_create_account_status(struct pd_req *r);
int org_list_create_account_status(struct pd_req *r);
int org_describe_account(struct pd_req *r);
int org_list_accounts(struct pd_req *r);
int org_list_accounts_for_parent(struct pd_req *r);
int org_move_account(struct pd_req *r);
int org_remove_account_from_organization(struct pd_req *r);
int org_leave_organization(struct pd_req *r);

/* Handlers (org_policies.c) */
int org_create_policy(struct pd_req *r);
int org_update_policy(struct pd_req *r);
int org_delete_policy(struct pd_req *r);
int org_describe_policy(struct pd_req *r);
int org_list_policies(struct pd_req *r);
int org_attach_policy(struct pd_req *r);
int org_detach_policy(struct pd_req *r);
int org_list_policies_for_target(struct pd_req *r);
int org_list_targets_for_policy(struct pd_req *r);
int org_enable_policy_type(struct pd_req *r);
int org_disable_policy_type(struct pd_req *r);
int org_tag_resource(struct pd_req *r);
int org_untag_resource(struct pd_req *r);
int org_list_tags_for_resource(struct pd_req *r);
/* Tags of a create call (CreatePolicy, CreateOrganizationalUnit, CreateAccount). */
int org_put_create_tags(struct pd_req *r, const char *org_id, const char *resource_id);

#endif
