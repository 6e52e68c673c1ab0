/*
 * keys.h - asymmetric keys for podiam: generation, PEM, JWK and JWK sets, key ids.
 *
 * Owns struct pd_key (an OpenSSL EVP_PKEY plus the JOSE algorithm it is pinned to and an
 * optional kid) and struct pd_jwks (a list of keys). The algorithm belongs to the key, never
 * to a token: crypto/jwt.c verifies a token only with the algorithm its key names.
 *
 * Supported: RSA (2048..8192 bits; RS256/RS384/RS512) and EC on P-256/P-384/P-521
 * (ES256/ES384/ES512, one curve per algorithm as RFC 7518 requires). Nothing else (no RSA-PSS,
 * no Ed25519, no symmetric "oct" keys) is ever imported.
 *
 * Keys are always random (OpenSSL's CSPRNG), even when the server runs with --seed: --seed
 * makes ids reproducible, not keys. Fixtures that need a fixed key pin it as PEM or JWK.
 *
 * Threads: a key (and a set of keys) may be used for signing and verifying from many threads at
 * once after it is built; pd_key_set_kid / pd_key_set_alg / pd_jwks_add are not synchronised.
 *
 * Uses OpenSSL 3 EVP/OSSL_PARAM APIs only (no RSA_* / EC_KEY_*), jansson for JWKs.
 * Must not: include <jwt.h>, log key material.
 */
#ifndef PD_CRYPTO_KEYS_H
#define PD_CRYPTO_KEYS_H

#include <jansson.h>
#include <stddef.h>

struct pd_arena;
struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

/* JOSE signature algorithms podiam can verify (RFC 7518 §3.1). No "none", no HMAC. */
enum pd_jwa {
    PD_JWA_INVALID = 0,
    PD_JWA_RS256,
    PD_JWA_RS384,
    PD_JWA_RS512,
    PD_JWA_ES256, /* P-256 only */
    PD_JWA_ES384, /* P-384 only */
    PD_JWA_ES512, /* P-521 only */
};

/* What pd_key_generate makes. */
enum pd_key_kind {
    PD_KEY_RSA_2048 = 1, /* alg RS256 */
    PD_KEY_RSA_3072,     /* alg RS256 */
    PD_KEY_RSA_4096,     /* alg RS256 */
    PD_KEY_EC_P256,      /* alg ES256 */
    PD_KEY_EC_P384,      /* alg ES384 */
    PD_KEY_EC_P521,      /* alg ES512 */
};

/* How pd_key_thumbprint derives a kid. Both give 43 base64url characters. */
enum pd_kid_rule {
    PD_KID_JWK_THUMBPRINT = 1, /* RFC 7638: SHA-256 of the canonical public JWK */
    PD_KID_SPKI_SHA256,        /* Kubernetes: SHA-256 of the DER SubjectPublicKeyInfo */
};

#define PD_KID_LEN 43        /* base64url of a SHA-256, no padding */
#define PD_KID_MAX 1024      /* longest kid accepted from a JWK or set on a key */
#define PD_RSA_MIN_BITS 2048 /* smaller RSA keys are refused everywhere */
#define PD_RSA_MAX_BITS 8192 /* bound on verification cost */
#define PD_JWKS_MAX_KEYS 100 /* bound on keys read from one JWK set */

struct pd_key; /* opaque */

/* A set of keys (a JWKS). Embedded in its owner: pd_jwks_init / pd_jwks_cleanup. */
struct pd_jwks {
    struct pd_key **keys; /* owned */
    size_t n;
    size_t cap;
};

/* "RS256" etc.; NULL for PD_JWA_INVALID. */
const char *pd_jwa_name(enum pd_jwa alg);
/* Exact, case-sensitive match of the names above; PD_JWA_INVALID for anything else. */
enum pd_jwa pd_jwa_from_name(const char *name);

/* New random key of that kind; kid unset, alg as listed in enum pd_key_kind. Returns PD_OK,
 * PD_EINVAL (unknown kind) or PD_EINTERNAL (OpenSSL failure). Free with pd_key_free. */
int pd_key_generate(enum pd_key_kind kind, struct pd_key **OUT_key);

void pd_key_free(struct pd_key *k); /* NULL is fine */

/* A second handle on k's key material (shared, reference-counted: no copy, no parsing), with
 * the same alg and kid. For caches that hand out keys to be freed by their users. Returns
 * PD_OK. Free with pd_key_free. */
int pd_key_share(const struct pd_key *k, struct pd_key **OUT_key);

/* Load a key from PEM: a private key (PKCS#8 "PRIVATE KEY", or traditional "RSA PRIVATE KEY" /
 * "EC PRIVATE KEY"; never an encrypted one) or a public key ("PUBLIC KEY", SPKI). alg pins the
 * algorithm: PD_JWA_INVALID picks the default (RSA -> RS256, EC -> the curve's). Refuses other
 * key types, RSA outside 2048..8192 bits, curves other than P-256/384/521 and an alg that does
 * not fit the key. Returns PD_OK or PD_EINVAL. Free with pd_key_free. */
int pd_key_from_pem(const char *pem, size_t len, enum pd_jwa alg, struct pd_key **OUT_key);

/* PEM text of the private part (PKCS#8 "BEGIN PRIVATE KEY", unencrypted; the form GnuTLS and
 * libmicrohttpd read) or of the public part ("BEGIN PUBLIC KEY"). Arena-owned. Returns PD_OK,
 * PD_EINVAL (private asked of a public-only key) or PD_EINTERNAL. */
int pd_key_to_pem(const struct pd_key *k, int private_part, struct pd_arena *a, char **OUT_pem);

/* DER SubjectPublicKeyInfo, arena-owned. Returns PD_OK or PD_EINTERNAL. */
int pd_key_spki_der(const struct pd_key *k, struct pd_arena *a, unsigned char **OUT_der,
                    size_t *OUT_len);

enum pd_jwa pd_key_alg(const struct pd_key *k);
/* Re-pin the algorithm: RS256/384/512 for an RSA key; an EC key accepts only its curve's.
 * Returns PD_OK or PD_EINVAL. */
int pd_key_set_alg(struct pd_key *k, enum pd_jwa alg);
const char *pd_key_kid(const struct pd_key *k); /* NULL when unset; owned by the key */
/* Copy kid (NULL clears it). Returns PD_OK or PD_EINVAL (empty or longer than PD_KID_MAX). */
int pd_key_set_kid(struct pd_key *k, const char *kid);
int pd_key_has_private(const struct pd_key *k);
int pd_key_bits(const struct pd_key *k); /* RSA modulus or EC field size in bits */

/* Derive a kid from the public key by rule; out gets PD_KID_LEN characters + NUL.
 * Returns PD_OK, PD_EINVAL (unknown rule) or PD_EINTERNAL. Does not set the key's kid. */
int pd_key_thumbprint(const struct pd_key *k, enum pd_kid_rule rule, char OUT_kid[PD_KID_LEN + 1]);

/* Public JWK of the key, members in this order: RSA {"kty","kid","use":"sig","alg","n","e"},
 * EC {"kty","kid","use":"sig","alg","crv","x","y"}; "kid" omitted when unset. Integers are
 * minimal big-endian, EC coordinates full length, all base64url without padding. New
 * reference to the caller (json_decref). Returns PD_OK or PD_EINTERNAL. */
int pd_key_to_jwk(const struct pd_key *k, json_t **OUT_jwk);

/* Import a public JWK, strictly: kty "RSA" or "EC"; alg, when present, one that fits (RSA:
 * RS256/384/512, default RS256; EC: the curve's, and crv required); use, when present, "sig";
 * key_ops, when present, must contain "verify"; kid, when present, a non-empty string up to
 * PD_KID_MAX; n/e or x/y strict base64url (RFC 7515, no padding, no stray bits); RSA e odd and
 * >= 3, modulus 2048..8192 bits; EC coordinates exactly the curve's length and a point on the
 * curve; private members (d, p, q, dp, dq, qi, oth) refused: a published key must be public.
 * Returns PD_OK or PD_EINVAL. Free with pd_key_free. */
int pd_key_from_jwk(const json_t *jwk, struct pd_key **OUT_key);

/* Same, from JSON text (duplicate member names are refused). Returns PD_OK or PD_EINVAL. */
int pd_key_from_jwk_text(const char *text, size_t len, struct pd_key **OUT_key);

void pd_jwks_init(struct pd_jwks *s);
void pd_jwks_cleanup(struct pd_jwks *s); /* frees every key */
/* Append k; the set takes ownership. */
void pd_jwks_add(struct pd_jwks *s, struct pd_key *k);

/* Read a JWK set document {"keys":[...]}. Keys that are not usable for signature verification
 * here (use "enc", kty "oct"/"OKP", RSA-PSS or unknown algorithms, bad members) are skipped and
 * counted in *OUT_skipped (may be NULL), so one odd key does not hide the others. More than
 * PD_JWKS_MAX_KEYS entries, or a document that is not an object with a "keys" array, is
 * PD_EINVAL. The set s must be initialised; keys are appended. */
int pd_jwks_from_json(const json_t *doc, struct pd_jwks *s, size_t *OUT_skipped);

/* {"keys":[jwk...]} of every key's public part. New reference. Returns PD_OK or
 * PD_EINTERNAL. */
int pd_jwks_to_json(const struct pd_jwks *s, json_t **OUT_doc);

/* JOSE base64url (RFC 7515 §2): URL alphabet only, no padding, length mod 4 != 1, unused
 * trailing bits zero, so every byte string has exactly one accepted encoding. Arena-owned
 * output (one spare NUL byte after it). Returns PD_OK or PD_EINVAL. */
int pd_jose_b64_decode(struct pd_arena *a, const char *s, size_t n, unsigned char **OUT,
                       size_t *OUT_len);

/* The OpenSSL key, for the other crypto/ files (x509.c, jwt.c). Borrowed. */
struct evp_pkey_st *pd_key_evp(const struct pd_key *k);

/* Wrap an EVP_PKEY that the caller gives away (one reference). Same validation as PEM import.
 * On failure the reference is released. For crypto/ internals. */
int pd_key_from_evp(struct evp_pkey_st *pkey, enum pd_jwa alg, struct pd_key **OUT_key);

#endif
