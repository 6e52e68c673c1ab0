/*
 * sts_db.h - the STS state: each account's outbound identity federation (the issuer of its
 * GetWebIdentityToken tokens and their signing keys), once enabled.
 *
 * Typed functions over sts_outbound (schema.sql version 10); no SQL leaves store/. Strings
 * returned are copied into the caller's arena. Rules (issuer format, keys, errors) are the
 * STS service's (services/sts_outbound.c). Writes run in a write transaction. Return codes:
 * PD_OK, PD_ENOTFOUND, PD_ECONFLICT, PD_EIO / PD_EINTERNAL.
 */
#ifndef PD_STORE_STS_DB_H
#define PD_STORE_STS_DB_H

#include <stddef.h>
#include <stdint.h>

struct pd_db;
struct pd_arena;

struct pd_sts_db_outbound {
    const char *account_id;
    const char *issuer; /* https://UUID.tokens.sts.global.api.aws */
    int enabled;
    const char *rsa_pem; /* PKCS#8 private keys */
    const char *ec_pem;
    int64_t created_ms;
};

/* Insert or replace the account's row. */
int pd_sts_db_outbound_put(struct pd_db *db, const struct pd_sts_db_outbound *o);
int pd_sts_db_outbound_get(struct pd_db *db, struct pd_arena *a, const char *account,
                           struct pd_sts_db_outbound *OUT);
/* The row whose issuer is exactly issuer (enabled or not). */
int pd_sts_db_outbound_by_issuer(struct pd_db *db, struct pd_arena *a, const char *issuer,
                                 struct pd_sts_db_outbound *OUT);
/* Every row, by account: an arena array. */
int pd_sts_db_outbound_all(struct pd_db *db, struct pd_arena *a, struct pd_sts_db_outbound **OUT,
                           size_t *OUT_n);

#endif
