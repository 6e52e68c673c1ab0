/*
 * accounts.h - whole accounts for isolation: create one (with root keys) and delete one
 * with everything it owns. The admin API's POST /_podiam/accounts and DELETE
 * /_podiam/accounts/ID; pd_accounts_create is the one function that makes an account, for
 * every caller (fixtures keep their own ids, Organizations' member accounts reuse it).
 */
#ifndef PD_SERVICES_ACCOUNTS_H
#define PD_SERVICES_ACCOUNTS_H

#include <stdint.h>

struct pd_env;
struct pd_db;
struct pd_req;

struct pd_account_keys {
    char account_id[13];
    char access_key_id[21]; /* the root user's key (AKIA…) */
    char secret[41];
};

/* Inside a write transaction of db: create account id (12 digits; NULL or "": a new random
 * id, reproducible with --seed) and an active root access key. PD_ECONFLICT when the id
 * exists, PD_EINVAL when it is not 12 digits, else PD_OK or PD_EIO. */
int pd_accounts_create(struct pd_env *env, struct pd_db *db, const char *id, int64_t now_ms,
                       struct pd_account_keys *OUT);

/* The admin handlers: POST /_podiam/accounts [{"id": "123456789012"}] -> 201 with the root
 * keys; DELETE /_podiam/accounts/ID. */
int pd_accounts_post(struct pd_req *r);
int pd_accounts_delete(struct pd_req *r, const char *id);

#endif
