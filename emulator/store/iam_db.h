/*
 * iam_db.h - the IAM state: accounts, users, groups, roles, managed policies and their
 * versions, inline policies, attachments, access keys, OIDC providers and tags.
 *
 * Typed functions over the tables of schema.sql (version 2); no SQL leaves store/. Every row
 * belongs to an account. Names of users, groups, roles and managed policies are matched
 * without regard to case and returned as created. Strings returned are copied into the
 * caller's arena. Rules (limits, messages, validation) are the IAM service's
 * (services/iam*.c); this module only stores and finds. Writes must run inside a write
 * transaction (pd_db_begin). Return codes: PD_OK, PD_ENOTFOUND (no such row), PD_ECONFLICT
 * (a unique name or id already taken), PD_EIO / PD_EINTERNAL (database trouble).
 *
 * AWS managed policies (arn:aws:iam::aws:policy/...) are built-in data, not rows: the
 * policy functions below resolve them by ARN, and attachments refer to any policy by ARN.
 */
#ifndef PD_STORE_IAM_DB_H
#define PD_STORE_IAM_DB_H

#include <stddef.h>
#include <stdint.h>

struct pd_db;
struct pd_arena;

#define PD_IAM_DEFAULT_ACCOUNT "000000000000"

/* Entity kinds carried by inline policies, attachments and tags. */
enum pd_iam_kind {
    PD_IAM_USER = 0,
    PD_IAM_GROUP,
    PD_IAM_ROLE,
    PD_IAM_POLICY, /* customer managed policy (tags only) */
    PD_IAM_OIDC,   /* OIDC provider (tags only) */
};

struct pd_iam_tag {
    const char *key;
    const char *value;
};

struct pd_iam_user {
    int64_t id; /* row id */
    const char *account_id;
    const char *name;
    const char *path;
    const char *unique_id; /* AIDA... */
    const char *arn;       /* computed: arn:aws:iam::ACCT:user/PATH/NAME */
    int64_t created_ms;
    const char *boundary_arn; /* permissions boundary, or NULL */
};

struct pd_iam_group {
    int64_t id;
    const char *account_id;
    const char *name;
    const char *path;
    const char *unique_id; /* AGPA... */
    const char *arn;
    int64_t created_ms;
};

struct pd_iam_role {
    int64_t id;
    const char *account_id;
    const char *name;
    const char *path;
    const char *unique_id; /* AROA... */
    const char *arn;
    int64_t created_ms;
    const char *trust_policy; /* the document text as written */
    const char *description;  /* or NULL */
    int max_session;          /* seconds */
    const char *boundary_arn; /* or NULL */
    int64_t last_used_ms;     /* 0: never used */
    const char *last_used_region;
};

struct pd_iam_policy {
    int64_t id;             /* row id; 0 for an AWS managed policy */
    int aws_managed;        /* 1: built-in AWS managed policy */
    const char *account_id; /* owner account, "aws" for AWS managed */
    const char *name;
    const char *path;
    const char *arn;
    const char *unique_id; /* ANPA... */
    const char *description;
    int64_t created_ms;
    int64_t updated_ms;
    const char *default_version; /* "v1" ... */
    int64_t next_version;        /* the number the next version gets */
    int64_t attachment_count;    /* in the caller's account */
    int64_t boundary_count;      /* users and roles using it as boundary, caller's account */
};

struct pd_iam_policy_version {
    const char *version_id;
    const char *document;
    int64_t created_ms;
    int is_default;
};

struct pd_iam_inline {
    const char *name;
    const char *document;
};

struct pd_iam_access_key {
    const char *access_key_id;
    const char *account_id;
    int64_t user_id;       /* 0: the account root's key */
    const char *user_name; /* NULL for root */
    const char *secret;
    const char *status; /* "Active" / "Inactive" */
    int64_t created_ms;
    int64_t last_used_ms; /* 0: never used */
    const char *last_used_region;
    const char *last_used_service;
};

struct pd_iam_oidc {
    int64_t id;
    const char *account_id;
    const char *url; /* host and path, without https:// */
    const char *arn; /* arn:aws:iam::ACCT:oidc-provider/URL */
    int64_t created_ms;
    const char **client_ids;
    size_t nclient_ids;
    const char **thumbprints;
    size_t nthumbprints;
};

/* A member of a policy's entity list (ListEntitiesForPolicy). */
struct pd_iam_entity_ref {
    enum pd_iam_kind kind; /* user, group or role */
    const char *name;
    const char *unique_id;
    const char *path;
};

/* Dependents that block deleting a user, group or role (DeleteConflict). */
struct pd_iam_deps {
    int64_t inline_policies;
    int64_t attached_policies;
    int64_t access_keys; /* users */
    int64_t groups;      /* users: groups they belong to; groups: members */
};

/* ---- built-in AWS managed policies (store/iam_aws_policies.c) ---- */

struct pd_iam_aws_policy {
    const char *name;
    const char *path;
    const char *policy_id;
    const char *description;
    const char *version_id;
    int64_t created_ms;
    int64_t updated_ms;
    const char *document;
};

extern const struct pd_iam_aws_policy pd_iam_aws_policies[]; /* name NULL terminates */

/* The built-in policy with this ARN, or NULL. */
const struct pd_iam_aws_policy *pd_iam_aws_policy_find(const char *arn);

/* ---- accounts ---- */

/* Ensure the default account and its root key test/test exist (after a wipe). */
int pd_iam_db_bootstrap(struct pd_db *db);
/* Create an account if absent (existing accounts are left as they are). */
int pd_iam_db_account_put(struct pd_db *db, const char *account_id, int64_t created_ms);
/* PD_ENOTFOUND when the account does not exist. */
int pd_iam_db_account_get(struct pd_db *db, const char *account_id, int64_t *OUT_created_ms);
/* Every account id, sorted. */
int pd_iam_db_account_list(struct pd_db *db, struct pd_arena *a, const char ***OUT, size_t *OUT_n);

/* ---- users ---- */

int pd_iam_db_user_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *name,
                       struct pd_iam_user *OUT);
/* Insert u (id is set on success). PD_ECONFLICT: name or unique id taken. */
int pd_iam_db_user_put(struct pd_db *db, struct pd_iam_user *u);
/* Rename and/or move (NULL keeps the field). PD_ECONFLICT when the new name is taken. */
int pd_iam_db_user_update(struct pd_db *db, int64_t id, const char *new_name, const char *new_path);
int pd_iam_db_user_set_boundary(struct pd_db *db, int64_t id, const char *arn);
/* Delete the user row and what hangs off it (tags, inline policies, attachments,
 * memberships, keys). Callers check pd_iam_db_user_deps first. */
int pd_iam_db_user_del(struct pd_db *db, int64_t id);
int pd_iam_db_user_deps(struct pd_db *db, int64_t id, struct pd_iam_deps *OUT);
/* Users of the account whose path starts with path_prefix (NULL: all), sorted by name. */
int pd_iam_db_user_list(struct pd_db *db, struct pd_arena *a, const char *account,
                        const char *path_prefix, struct pd_iam_user **OUT, size_t *OUT_n);
/* Groups the user belongs to, sorted by name. */
int pd_iam_db_user_groups(struct pd_db *db, struct pd_arena *a, int64_t user_id,
                          struct pd_iam_group **OUT, size_t *OUT_n);

/* ---- groups ---- */

int pd_iam_db_group_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *name,
                        struct pd_iam_group *OUT);
int pd_iam_db_group_put(struct pd_db *db, struct pd_iam_group *g);
int pd_iam_db_group_update(struct pd_db *db, int64_t id, const char *new_name,
                           const char *new_path);
int pd_iam_db_group_del(struct pd_db *db, int64_t id);
int pd_iam_db_group_deps(struct pd_db *db, int64_t id, struct pd_iam_deps *OUT);
int pd_iam_db_group_list(struct pd_db *db, struct pd_arena *a, const char *account,
                         const char *path_prefix, struct pd_iam_group **OUT, size_t *OUT_n);
/* Members, sorted by user name. */
int pd_iam_db_group_members(struct pd_db *db, struct pd_arena *a, int64_t group_id,
                            struct pd_iam_user **OUT, size_t *OUT_n);
/* Add (idempotent) / remove (PD_ENOTFOUND when not a member). */
int pd_iam_db_member_add(struct pd_db *db, int64_t group_id, int64_t user_id);
int pd_iam_db_member_del(struct pd_db *db, int64_t group_id, int64_t user_id);

/* ---- roles ---- */

int pd_iam_db_role_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *name,
                       struct pd_iam_role *OUT);
int pd_iam_db_role_put(struct pd_db *db, struct pd_iam_role *r);
/* Description (NULL keeps; "" stores empty), max_session (0 keeps). */
int pd_iam_db_role_update(struct pd_db *db, int64_t id, const char *description, int max_session);
int pd_iam_db_role_set_trust(struct pd_db *db, int64_t id, const char *document);
int pd_iam_db_role_set_boundary(struct pd_db *db, int64_t id, const char *arn);
/* Record a use of the role (STS). */
int pd_iam_db_role_touch(struct pd_db *db, int64_t id, int64_t ms, const char *region);
int pd_iam_db_role_del(struct pd_db *db, int64_t id);
int pd_iam_db_role_deps(struct pd_db *db, int64_t id, struct pd_iam_deps *OUT);
int pd_iam_db_role_list(struct pd_db *db, struct pd_arena *a, const char *account,
                        const char *path_prefix, struct pd_iam_role **OUT, size_t *OUT_n);

/* ---- tags (users, roles, customer policies, OIDC providers) ---- */

/* In the order they were first set. */
int pd_iam_db_tags_get(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                       struct pd_iam_tag **OUT, size_t *OUT_n);
/* Set (insert or overwrite by case-insensitive key). */
int pd_iam_db_tag_put(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *key,
                      const char *value);
/* Remove a key (absent keys are fine). */
int pd_iam_db_tag_del(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *key);
/* Is key set (case-insensitively)? 1 / 0, or a negative error. */
int pd_iam_db_tag_exists(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *key);
int pd_iam_db_tag_count(struct pd_db *db, enum pd_iam_kind kind, int64_t id, int64_t *OUT);

/* ---- inline policies (users, groups, roles) ---- */

/* PD_ENOTFOUND when the entity has no inline policy by that name. */
int pd_iam_db_inline_get(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                         const char *name, struct pd_iam_inline *OUT);
/* Insert or replace the document (an existing name keeps its spelling). */
int pd_iam_db_inline_put(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *name,
                         const char *document);
int pd_iam_db_inline_del(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *name);
/* Every inline policy of the entity, sorted by name. */
int pd_iam_db_inline_list(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                          struct pd_iam_inline **OUT, size_t *OUT_n);

/* ---- managed-policy attachments (users, groups, roles) ---- */

/* Attach (idempotent). */
int pd_iam_db_attach(struct pd_db *db, const char *account, enum pd_iam_kind kind, int64_t id,
                     const char *policy_arn);
/* PD_ENOTFOUND when not attached. */
int pd_iam_db_detach(struct pd_db *db, enum pd_iam_kind kind, int64_t id, const char *policy_arn);
/* Attached policy ARNs in attachment order. */
int pd_iam_db_attached_list(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                            const char ***OUT, size_t *OUT_n);
/* Users, groups and roles of the account the policy is attached to (boundary = 0) or that use
 * it as permissions boundary (boundary = 1), each sorted by name. */
int pd_iam_db_policy_entities(struct pd_db *db, struct pd_arena *a, const char *account,
                              const char *policy_arn, int boundary, struct pd_iam_entity_ref **OUT,
                              size_t *OUT_n);

/* ---- managed policies ---- */

/* A customer policy of any account, or a built-in AWS managed policy, by ARN. Counts are
 * those of `account`. PD_ENOTFOUND when unknown. */
int pd_iam_db_policy_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *arn,
                         struct pd_iam_policy *OUT);
/* Insert p (id set) with its first version (p->default_version) holding document. */
int pd_iam_db_policy_put(struct pd_db *db, struct pd_iam_policy *p, const char *document);
/* Delete the policy, its versions and tags. Callers check attachments first. */
int pd_iam_db_policy_del(struct pd_db *db, int64_t id);
enum pd_iam_scope { PD_IAM_SCOPE_ALL = 0, PD_IAM_SCOPE_AWS, PD_IAM_SCOPE_LOCAL };
/* Policies visible to the account: built-in AWS managed ones (scope All/AWS) first, sorted
 * by name, then the account's own (All/Local), sorted by name. */
int pd_iam_db_policy_list(struct pd_db *db, struct pd_arena *a, const char *account,
                          enum pd_iam_scope scope, const char *path_prefix,
                          struct pd_iam_policy **OUT, size_t *OUT_n);
int pd_iam_db_version_get(struct pd_db *db, struct pd_arena *a, const struct pd_iam_policy *p,
                          const char *version_id, struct pd_iam_policy_version *OUT);
/* Versions, newest first. */
int pd_iam_db_version_list(struct pd_db *db, struct pd_arena *a, const struct pd_iam_policy *p,
                           struct pd_iam_policy_version **OUT, size_t *OUT_n);
/* Add version "v<p->next_version>" (or version_id when not NULL), bump next_version, and
 * make it the default when set_default. OUT_version_id: the id given (arena). */
int pd_iam_db_version_put(struct pd_db *db, struct pd_arena *a, const struct pd_iam_policy *p,
                          const char *version_id, const char *document, int64_t created_ms,
                          int set_default, const char **OUT_version_id);
int pd_iam_db_version_del(struct pd_db *db, int64_t policy_id, const char *version_id);
int pd_iam_db_version_set_default(struct pd_db *db, int64_t policy_id, const char *version_id,
                                  int64_t updated_ms);

/* ---- access keys ---- */

int pd_iam_db_key_put(struct pd_db *db, const struct pd_iam_access_key *k);
/* A key of the account by id (PD_ENOTFOUND otherwise). */
int pd_iam_db_key_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *akid,
                      struct pd_iam_access_key *OUT);
/* Keys of a user (user_id 0: the root's), oldest first. */
int pd_iam_db_key_list(struct pd_db *db, struct pd_arena *a, const char *account, int64_t user_id,
                       struct pd_iam_access_key **OUT, size_t *OUT_n);
int pd_iam_db_key_set_status(struct pd_db *db, const char *akid, const char *status);
int pd_iam_db_key_del(struct pd_db *db, const char *akid);
/* Record a use of the key (authentication). */
int pd_iam_db_key_touch(struct pd_db *db, const char *akid, int64_t ms, const char *region,
                        const char *service);

/* For authentication: the key's account, its user (NULL for the account root), secret and
 * status ("Active"/"Inactive"). One indexed lookup. PD_ENOTFOUND for unknown keys. */
int pd_iam_db_access_key_find(struct pd_db *db, struct pd_arena *a, const char *akid,
                              const char **OUT_account, struct pd_iam_user **OUT_user,
                              const char **OUT_secret, const char **OUT_status);

/* ---- OIDC providers ---- */

/* Insert o (id set) with its client ids and thumbprints. PD_ECONFLICT: URL taken. */
int pd_iam_db_oidc_put(struct pd_db *db, struct pd_iam_oidc *o);
/* By URL without scheme (as stored). */
int pd_iam_db_oidc_get(struct pd_db *db, struct pd_arena *a, const char *account, const char *url,
                       struct pd_iam_oidc *OUT);
/* Providers of the account, sorted by URL. */
int pd_iam_db_oidc_list(struct pd_db *db, struct pd_arena *a, const char *account,
                        struct pd_iam_oidc **OUT, size_t *OUT_n);
int pd_iam_db_oidc_del(struct pd_db *db, int64_t id);
/* Add a client id (idempotent) / remove one (absent is fine). */
int pd_iam_db_oidc_client_add(struct pd_db *db, int64_t id, const char *client_id);
int pd_iam_db_oidc_client_del(struct pd_db *db, int64_t id, const char *client_id);
/* Replace the thumbprint list. */
int pd_iam_db_oidc_set_thumbprints(struct pd_db *db, int64_t id, const char *const *thumbprints,
                                   size_t n);

/* ---- what the policy engine evaluates ---- */

enum pd_iam_source {
    PD_IAM_SRC_USER_INLINE = 0, /* inline policy of the user */
    PD_IAM_SRC_GROUP_INLINE,    /* inline policy of one of the user's groups */
    PD_IAM_SRC_ROLE_INLINE,     /* inline policy of the role */
    PD_IAM_SRC_MANAGED,         /* customer managed policy (default version) */
    PD_IAM_SRC_AWS_MANAGED,     /* AWS managed policy (default version) */
};

struct pd_iam_source_policy {
    enum pd_iam_source type;
    const char *id;         /* inline: the policy name; managed: the policy ARN */
    const char *via_kind;   /* "user", "group" or "role": what carries it */
    const char *via_name;   /* name of that user, group or role */
    const char *version_id; /* managed: the default version; inline: NULL */
    const char *document;   /* the document text as written */
};

/* Every identity policy that applies to the user (inline, attached managed, and those of
 * its groups) plus its permissions boundary (OUT_boundary->document NULL when none). Two
 * queries whatever the number of policies. PD_ENOTFOUND when the user does not exist. */
int pd_iam_db_user_policies(struct pd_db *db, struct pd_arena *a, const char *account,
                            const char *user_name, struct pd_iam_source_policy **OUT, size_t *OUT_n,
                            struct pd_iam_source_policy *OUT_boundary);
/* The same for a role (inline and attached managed policies, boundary). */
int pd_iam_db_role_policies(struct pd_db *db, struct pd_arena *a, const char *account,
                            const char *role_name, struct pd_iam_source_policy **OUT, size_t *OUT_n,
                            struct pd_iam_source_policy *OUT_boundary);

#endif
