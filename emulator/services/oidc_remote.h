/*
 * oidc_remote.h - the keys of OIDC issuers podiam does not host (a local Dex, Keycloak, a
 * GitLab in a CI job), found the way STS finds them: ISSUER/.well-known/openid-configuration,
 * then its jwks_uri, over HTTPS (services/httpc.h).
 *
 * Owns a process-wide cache (env->oidc_remote, made by pd_oidc_init): per issuer, the keys of
 * the last good fetch, kept PD_OIDC_REMOTE_TTL_MS by podiam's clock; a token whose kid the
 * cached keys lack triggers a new fetch, at most once per PD_OIDC_REMOTE_REFETCH_MS; a
 * failed fetch is remembered PD_OIDC_REMOTE_FAIL_MS (so a dead issuer costs one timeout, not
 * one per request) while keys fetched before stay usable until they expire. One fetch per
 * issuer at a time: other requests for it wait for that one. Bounded: PD_OIDC_REMOTE_MAX
 * issuers (the least recently used goes), PD_OIDC_REMOTE_MAX_DOC bytes per document,
 * PD_JWKS_MAX_KEYS keys, --oidc-fetch-timeout for discovery and keys together.
 *
 * The fetch is made outside any database transaction (STS's prepare hook), never for a
 * token whose issuer has no IAM OIDC provider (an unauthenticated caller cannot make podiam
 * fetch arbitrary URLs). Thread-safe (one mutex). Must not: log keys or tokens.
 */
#ifndef PD_SERVICES_OIDC_REMOTE_H
#define PD_SERVICES_OIDC_REMOTE_H

#include <stddef.h>

struct pd_env;
struct pd_jwks;

#define PD_OIDC_REMOTE_MAX 64
#define PD_OIDC_REMOTE_MAX_DOC (256 * 1024)
#define PD_OIDC_REMOTE_TTL_MS (10 * 60 * 1000)
#define PD_OIDC_REMOTE_REFETCH_MS 5000
#define PD_OIDC_REMOTE_FAIL_MS 5000

struct pd_oidc_remote;

/* Made and freed with the OIDC service (pd_oidc_init / pd_oidc_cleanup). */
struct pd_oidc_remote *pd_oidc_remote_new(void);
void pd_oidc_remote_free(struct pd_oidc_remote *c);

/* May podiam fetch from issuer iss? https://HOST[...] always; http:// to a loopback address
 * only with --oidc-http-loopback on. 1 / 0. */
int pd_oidc_remote_allowed(const struct pd_env *env, const char *iss);

/* Make sure the cache holds keys of iss fit for a token with kid (NULL: any key), fetching
 * them when it does not (see the header comment for when). Blocks at most about twice the
 * fetch timeout. PD_OK: keys are cached (kid may still be unknown: the verifier says so);
 * PD_EIO / PD_EINVAL: none could be had, why says why (NUL-terminated). */
int pd_oidc_remote_refresh(struct pd_env *env, const char *iss, const char *kid, char *why,
                           size_t why_len);

/* The cached keys of iss, appended to s (shared handles; s owns them). No network.
 * PD_OK, or PD_ENOTFOUND (none cached; why says why: never fetched, or the last failure). */
int pd_oidc_remote_jwks(struct pd_env *env, const char *iss, struct pd_jwks *s, char *why,
                        size_t why_len);

/* ---- the parsers (pure; fuzzed by tests/fuzz/fuzz_oidc_remote.c) ---- */

/* A discovery document for issuer iss: a JSON object whose "issuer" is iss byte for byte and
 * whose "jwks_uri" is an https URL (or a loopback http one when allow_http). *OUT_jwks_uri is
 * malloc'd. PD_OK or PD_EINVAL with *OUT_why (static). */
int pd_oidc_remote_parse_discovery(const char *text, size_t n, const char *iss, int allow_http,
                                   char **OUT_jwks_uri, const char **OUT_why);

/* A JWK set: keys appended to s as crypto/keys.h reads them (unusable ones skipped and
 * counted in *OUT_skipped, may be NULL). PD_OK, or PD_EINVAL with *OUT_why (static): not
 * JSON, no "keys" array, more than PD_JWKS_MAX_KEYS keys, or no usable key at all. */
int pd_oidc_remote_parse_jwks(const char *text, size_t n, struct pd_jwks *s, size_t *OUT_skipped,
                              const char **OUT_why);

#endif
