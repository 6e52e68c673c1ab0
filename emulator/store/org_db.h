/*
 * org_db.h - the AWS Organizations state: organizations, their root, OUs and member
 * accounts, policies (SCPs, RCPs) and their attachments, CreateAccount requests and tags.
 *
 * Rows are what the service decides to write; the rules (who may call, quotas, which parent
 * is valid) are the service's (services/organizations/). Strings returned live in the
 * caller's arena. The AWS managed policies FullAWSAccess (p-FullAWSAccess, an SCP) and
 * RCPFullAWSAccess (p-RCPFullAWSAccess) are built-in data, found by id like the others and
 * shared by every organization. Errors: PD_ENOTFOUND, PD_ECONFLICT (a unique key), PD_EIO.
 */
#ifndef PD_STORE_ORG_DB_H
#define PD_STORE_ORG_DB_H

#include <stddef.h>
#include <stdint.h>

struct pd_db;
struct pd_arena;

#define PD_ORG_SCP "SERVICE_CONTROL_POLICY"
#define PD_ORG_RCP "RESOURCE_CONTROL_POLICY"
#define PD_ORG_FULL_SCP "p-FullAWSAccess"
#define PD_ORG_FULL_RCP "p-RCPFullAWSAccess"

struct pd_org {
    const char *id;                 /* o-… */
    const char *management_account; /* 12 digits */
    const char *feature_set;        /* ALL | CONSOLIDATED_BILLING */
    const char *root_id;            /* r-… */
    int64_t created_ms;
};

struct pd_org_ou {
    const char *id, *org_id, *parent_id, *name;
    int64_t created_ms;
};

struct pd_org_account {
    const char *account_id, *org_id, *parent_id, *name, *email;
    const char *status; /* ACTIVE */
    const char *joined; /* CREATED | INVITED */
    int64_t joined_ms;
};

struct pd_org_policy {
    const char *id, *org_id; /* org_id NULL for the AWS managed ones */
    const char *type, *name, *description, *content;
    int aws_managed;
};

struct pd_org_car { /* a CreateAccount request */
    const char *id, *org_id, *account_name, *state, *account_id, *failure;
    int64_t requested_ms, completed_ms; /* completed_ms 0: not completed */
};

struct pd_org_tag {
    const char *key, *value;
};

/* ---- organizations ---- */

int pd_org_db_create(struct pd_db *db, const struct pd_org *o);
int pd_org_db_get(struct pd_db *db, struct pd_arena *a, const char *org_id, struct pd_org *OUT);
/* The organization an account belongs to (as management account or member). */
int pd_org_db_of_account(struct pd_db *db, struct pd_arena *a, const char *account,
                         struct pd_org *OUT);
/* Every organization, by id. */
int pd_org_db_list(struct pd_db *db, struct pd_arena *a, struct pd_org **OUT, size_t *OUT_n);
/* Delete the organization and everything in it. */
int pd_org_db_delete(struct pd_db *db, const char *org_id);

/* ---- policy types enabled on the root ---- */

int pd_org_db_type_enabled(struct pd_db *db, const char *org_id, const char *type); /* 1 / 0 */
int pd_org_db_type_set(struct pd_db *db, const char *org_id, const char *type, int enabled);
/* Enabled types, sorted. */
int pd_org_db_type_list(struct pd_db *db, struct pd_arena *a, const char *org_id, const char ***OUT,
                        size_t *OUT_n);

/* ---- OUs ---- */

int pd_org_db_ou_put(struct pd_db *db, const struct pd_org_ou *ou);
int pd_org_db_ou_get(struct pd_db *db, struct pd_arena *a, const char *ou_id,
                     struct pd_org_ou *OUT);
int pd_org_db_ou_rename(struct pd_db *db, const char *ou_id, const char *name);
int pd_org_db_ou_del(struct pd_db *db, const char *ou_id);
/* OUs whose parent is parent_id, by name then id. */
int pd_org_db_ou_children(struct pd_db *db, struct pd_arena *a, const char *parent_id,
                          struct pd_org_ou **OUT, size_t *OUT_n);
/* Every OU of the organization, by creation. */
int pd_org_db_ou_list(struct pd_db *db, struct pd_arena *a, const char *org_id,
                      struct pd_org_ou **OUT, size_t *OUT_n);
int pd_org_db_ou_count(struct pd_db *db, const char *org_id, int64_t *OUT);

/* ---- accounts ---- */

int pd_org_db_account_put(struct pd_db *db, const struct pd_org_account *acct);
int pd_org_db_account_get(struct pd_db *db, struct pd_arena *a, const char *account_id,
                          struct pd_org_account *OUT);
int pd_org_db_account_move(struct pd_db *db, const char *account_id, const char *parent_id);
/* Set an account's name, email and join time (the management account, from fixtures). */
int pd_org_db_account_set(struct pd_db *db, const char *account_id, const char *name,
                          const char *email, int64_t joined_ms);
int pd_org_db_account_del(struct pd_db *db, const char *account_id);
/* Accounts of the organization (parent_id NULL) or of one parent, by join time then id. */
int pd_org_db_account_list(struct pd_db *db, struct pd_arena *a, const char *org_id,
                           const char *parent_id, struct pd_org_account **OUT, size_t *OUT_n);
/* Is the email taken by an account of any organization? 1 / 0. */
int pd_org_db_email_used(struct pd_db *db, const char *email);

/* ---- policies ---- */

int pd_org_db_policy_put(struct pd_db *db, const struct pd_org_policy *p);
/* The organization's policy, or a built-in AWS managed one (any org_id). */
int pd_org_db_policy_get(struct pd_db *db, struct pd_arena *a, const char *org_id,
                         const char *policy_id, struct pd_org_policy *OUT);
int pd_org_db_policy_update(struct pd_db *db, const struct pd_org_policy *p);
int pd_org_db_policy_del(struct pd_db *db, const char *policy_id);
/* Policies of a type: the AWS managed one first, then the organization's by name. */
int pd_org_db_policy_list(struct pd_db *db, struct pd_arena *a, const char *org_id,
                          const char *type, struct pd_org_policy **OUT, size_t *OUT_n);
int pd_org_db_policy_count(struct pd_db *db, const char *org_id, const char *type, int64_t *OUT);
/* The built-in AWS managed policy of a type (NULL for other types). */
const struct pd_org_policy *pd_org_db_builtin(const char *type);

/* ---- attachments ---- */

int pd_org_db_attach(struct pd_db *db, const char *org_id, const char *policy_id,
                     const char *target_id);
int pd_org_db_detach(struct pd_db *db, const char *org_id, const char *policy_id,
                     const char *target_id);
int pd_org_db_attached(struct pd_db *db, const char *org_id, const char *policy_id,
                       const char *target_id); /* 1 / 0 */
/* Policies of a type attached to a target, in attachment order (full rows). */
int pd_org_db_target_policies(struct pd_db *db, struct pd_arena *a, const char *org_id,
                              const char *target_id, const char *type, struct pd_org_policy **OUT,
                              size_t *OUT_n);
/* Targets a policy is attached to, in attachment order. */
int pd_org_db_policy_targets(struct pd_db *db, struct pd_arena *a, const char *org_id,
                             const char *policy_id, const char ***OUT, size_t *OUT_n);
/* Remove every attachment to a target (a deleted OU, a removed account). */
int pd_org_db_detach_target(struct pd_db *db, const char *org_id, const char *target_id);
/* Remove every attachment of a type's policies (DisablePolicyType). */
int pd_org_db_detach_type(struct pd_db *db, const char *org_id, const char *type);

/* ---- CreateAccount requests ---- */

int pd_org_db_car_put(struct pd_db *db, const struct pd_org_car *c);
int pd_org_db_car_get(struct pd_db *db, struct pd_arena *a, const char *id, struct pd_org_car *OUT);
/* Newest first. */
int pd_org_db_car_list(struct pd_db *db, struct pd_arena *a, const char *org_id,
                       struct pd_org_car **OUT, size_t *OUT_n);

/* ---- tags ---- */

/* Add or replace tags (keys kept in the order first added). */
int pd_org_db_tags_put(struct pd_db *db, const char *org_id, const char *resource_id,
                       const struct pd_org_tag *tags, size_t n);
int pd_org_db_tags_get(struct pd_db *db, struct pd_arena *a, const char *resource_id,
                       struct pd_org_tag **OUT, size_t *OUT_n);
int pd_org_db_tags_del(struct pd_db *db, const char *resource_id, const char *const *keys,
                       size_t n); /* n 0 with keys NULL: every tag */

#endif
