/*
 * oidc_db.h - the OIDC issuers podiam hosts and their signing keys.
 *
 * Typed functions over oidc_issuers / oidc_keys (schema.sql version 4). An issuer is its URL
 * (https://…, stored whole). Its keys are RSA key pairs as PEM: the one not retired signs;
 * retired ones are still published. Rules (key generation, kid, overlap) are the OIDC
 * service's (services/oidc.c). Strings are copied into the caller's arena; writes run in a
 * write transaction. Return codes: PD_OK, PD_ENOTFOUND, PD_ECONFLICT, PD_EIO / PD_EINTERNAL.
 */
#ifndef PD_STORE_OIDC_DB_H
#define PD_STORE_OIDC_DB_H

#include <stddef.h>
#include <stdint.h>

struct pd_db;
struct pd_arena;

struct pd_oidc_db_key {
    int64_t id;
    const char *kid;
    const char *private_pem;
    const char *public_pem;
    int64_t created_ms;
    int64_t retired_ms; /* 0: the signing key */
};

/* Insert an issuer; *OUT_id its row id. PD_ECONFLICT when url is hosted already. */
int pd_oidc_db_issuer_put(struct pd_db *db, const char *url, int64_t created_ms, int64_t *OUT_id);
/* Row id (and creation time, may be NULL) of the issuer url, or PD_ENOTFOUND. */
int pd_oidc_db_issuer_get(struct pd_db *db, const char *url, int64_t *OUT_id,
                          int64_t *OUT_created_ms);
/* Every hosted issuer URL, sorted. */
int pd_oidc_db_issuer_list(struct pd_db *db, struct pd_arena *a, const char ***OUT_urls,
                           size_t *OUT_n);
/* Is some hosted issuer https://HOST or https://HOST/…? (ASCII case-insensitive.) 1 / 0 (also
 * for a host with a '%', '_' or '\\', which no DNS name has). */
int pd_oidc_db_host_hosted(struct pd_db *db, const char *host);
/* Remove the issuer and its keys (absent is fine). */
int pd_oidc_db_issuer_del(struct pd_db *db, const char *url);

/* Add a signing key to issuer (row id); the previous signing key is retired at now_ms and
 * keys retired before it are removed (one rotation of overlap). */
int pd_oidc_db_key_add(struct pd_db *db, int64_t issuer, const char *kid, const char *private_pem,
                       const char *public_pem, int64_t now_ms);
/* Published keys of issuer (row id): the signing key first, then retired ones, newest
 * first. */
int pd_oidc_db_keys(struct pd_db *db, struct pd_arena *a, int64_t issuer,
                    struct pd_oidc_db_key **OUT, size_t *OUT_n);
#endif
