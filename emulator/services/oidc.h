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

/* Is url an issuer podiam hosts? 1 / 0. */
int pd_oidc_is_hosted(struct pd_db *db, const char *url);

/* The issuer's published keys (the signing key and the retired ones still in their
 * overlap), imported for verification. s must be pd_jwks_init'ed; the caller cleans it up.
 * PD_ENOTFOUND when url is not hosted. */
int pd_oidc_issuer_jwks(struct pd_db *db, struct pd_arena *a, const char *url, struct pd_jwks *s);

/* Sign claims (which must include iss = url) with the issuer's current key: header
 * {"alg":"RS256","kid":…}. *OUT_token is arena-owned. PD_ENOTFOUND when url is not hosted. */
int pd_oidc_sign(struct pd_db *db, struct pd_arena *a, const char *url, const json_t *claims,
                 char **OUT_token);

#endif
