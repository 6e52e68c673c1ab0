/*
 * accounts_db.h - removing a whole account's state in one go (admin API).
 *
 * Creating an account is iam_db.h's (pd_iam_db_account_put, pd_iam_db_key_put); deleting one
 * reaches every service's tables, so it is here: every row of every table with an
 * account_id column, the IAM rows that hang off the account's entities (inline policies,
 * tags), and the hosted OIDC issuers of its EKS clusters. Foreign keys cascade the rest
 * (objects, group members, policy versions, Kubernetes objects, access entries). A table
 * added later with an account_id column is covered without a change here.
 */
#ifndef PD_STORE_ACCOUNTS_DB_H
#define PD_STORE_ACCOUNTS_DB_H

struct pd_db;

/* Inside a write transaction. PD_ENOTFOUND when the account does not exist; PD_OK or
 * PD_EIO. Object files are left for the caller's sweep. */
int pd_accounts_db_delete(struct pd_db *db, const char *account_id);

#endif
