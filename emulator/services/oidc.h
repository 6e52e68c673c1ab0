/*
 * oidc.h - the OIDC issuers podiam hosts: one per EKS cluster, plus stand-alone issuers
 * made through the admin API or fixtures (to imitate a CI provider's tokens).
 *
 * Each issuer has RSA key pairs in the store: one signs, retired ones stay published in
 * the JWKS for an overlap after a rotation. STS (AssumeRoleWithWebIdentity) verifies tokens
 * of hosted issuers with these keys and never touches the network; the Kubernetes API
 * signs service-account tokens with them.
 */
#ifndef PD_SERVICES_OIDC_H
#define PD_SERVICES_OIDC_H

#include <jansson.h>
#include <stdint.h>

struct pd_db;
struct pd_arena;
struct pd_env;
struct pd_jwks;

/* Make a hosted issuer for url (https://…), with a fresh RSA-2048 signing key, or keep the
 * one that exists. Runs in the caller's write transaction. PD_OK / PD_EINVAL (bad URL). */
int pd_oidc_issuer_ensure(struct pd_env *env, struct pd_db *db, const char *url);

/* Like pd_oidc_issuer_ensure for a new issuer whose signing key is pinned: key_pem is an RSA
 * private key (PEM; its kid is its RFC 7638 thumbprint). NULL key_pem generates one. An
 * existing issuer is kept as it is when key_pem is NULL, and is PD_ECONFLICT otherwise.
 * PD_OK / PD_EINVAL (bad URL or key, message in *OUT_why when not NULL) / PD_ECONFLICT. */
int pd_oidc_issuer_create(struct pd_env *env, struct pd_db *db, const char *url,
                          const char *key_pem, const char **OUT_why);

/* Stop hosting url (its keys go too). Absent is fine. Runs in the caller's write
 * transaction. */
int pd_oidc_issuer_delete(struct pd_db *db, const char *url);

/* Rotate url's signing key: a fresh RSA-2048 key signs from now on; the previous one stays
 * published until the next rotation. *OUT_kid (arena) is the new kid. Runs in the caller's
 * write transaction. PD_OK / PD_ENOTFOUND. */
int pd_oidc_issuer_rotate(struct pd_env *env, struct pd_db *db, struct pd_arena *a, const char *url,
                          const char **OUT_kid);

/* Is url a well-formed issuer URL podiam can host (https://HOST[/PATH], no query, fragment,
 * port or trailing slash, at most 255 characters)? NULL when it is, else why not. */
const char *pd_oidc_url_problem(const char *url);

/* The private PEM of url's signing key (arena), for fixtures export. PD_ENOTFOUND when url
 * is not hosted. */
int pd_oidc_signing_key_pem(struct pd_db *db, struct pd_arena *a, const char *url,
                            const char **OUT_pem);

/* The stand-alone hosted issuers (those that are no EKS cluster's) with their signing keys,
 * as the fixtures "oidc" section {"issuers": [{"url", "key_pem"}]} (new reference). */
int pd_oidc_export(struct pd_db *db, json_t **OUT);

/* Load a fixtures "oidc" section: {"issuers": [{"url": …, "key_pem": …}]}. Runs in the
 * caller's write transaction. PD_OK or PD_EINVAL with *OUT_err (malloc'd) naming the entry. */
int pd_oidc_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *section, const char *origin,
                          char **OUT_err);

/* Is url an issuer podiam hosts? 1 / 0. */
int pd_oidc_is_hosted(struct pd_db *db, const char *url);

/* Does podiam host an issuer on host (a DNS name, no port: https://HOST or https://HOST/…)?
 * For TLS certificates and the proxy (names.c). 1 / 0. */
int pd_oidc_host_is_hosted(struct pd_db *db, const char *host);

/* The issuer's published keys (the signing key and the retired ones still in their
 * overlap), imported for verification. s must be pd_jwks_init'ed; the caller cleans it up.
 * PD_ENOTFOUND when url is not hosted. */
int pd_oidc_issuer_jwks(struct pd_env *env, struct pd_db *db, struct pd_arena *a, const char *url,
                        struct pd_jwks *s);

/* Sign claims (which must include iss = url) with the issuer's current key: header
 * {"alg":"RS256","kid":…}. *OUT_token is arena-owned. PD_ENOTFOUND when url is not hosted. */
int pd_oidc_sign(struct pd_env *env, struct pd_db *db, struct pd_arena *a, const char *url,
                 const json_t *claims, char **OUT_token);

/* A key (private or public PEM) with kid set, from the key cache below or imported (and
 * cached). Free with pd_key_free. PD_OK or PD_EINVAL (the PEM does not load). */
struct pd_key;
int pd_oidc_load_key(struct pd_env *env, const char *pem, const char *kid, struct pd_key **OUT);

/* The process-wide cache of imported issuer keys (PEM text -> key), so that verifying or
 * signing parses no PEM (OpenSSL 3's decoders cost far more than an RSA verify). Keys are
 * content-addressed, so the cache never goes stale; it is bounded and emptied when full.
 * Made by pd_oidc_init (env->oidc_keys), freed by pd_oidc_cleanup; without it keys are
 * imported on every call. Thread-safe (one mutex). */
int pd_oidc_init(struct pd_env *env);
void pd_oidc_cleanup(struct pd_env *env);

#endif
