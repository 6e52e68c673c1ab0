/*
 * seal.h - authenticated encryption for stateless STS session tokens, secret derivation and
 * random bytes.
 *
 * A session token carries its session (access key id, principal, policies, tags, times) sealed
 * under a server key kept in the store (DESIGN.md, "Stateless session credentials"): verifying a
 * request needs no lookup, minting needs no write. The secret access key is not in the token;
 * it is re-derived from the access key id with an HMAC.
 *
 * Sealed format (all binary; the caller base64-encodes it for the wire):
 *   version (1 byte, 0x01) | nonce (12 random bytes) | AES-256-GCM ciphertext | tag (16 bytes)
 * with GCM associated data = version byte followed by the caller's aad, so neither the version
 * nor the context the caller binds in (e.g. "sts-session") can be changed without detection.
 * Overhead is 29 bytes; a 300-byte JSON session becomes 329 bytes, 440 base64 characters.
 * Random 96-bit nonces are safe for far more than 2^32 seals per key, which no test run nears.
 *
 * Keys: pd_seal and pd_derive_secret should not share a key. Keep one 32-byte master key in
 * the store and split it with pd_derive_key(master, "label") per use.
 *
 * OpenSSL 3 EVP only. Must not: log keys, plaintext or tokens.
 */
#ifndef PD_CRYPTO_SEAL_H
#define PD_CRYPTO_SEAL_H

#include <stddef.h>

struct pd_arena;

#define PD_SEAL_KEY_LEN 32
#define PD_SEAL_VERSION 0x01
#define PD_SEAL_NONCE_LEN 12
#define PD_SEAL_TAG_LEN 16
#define PD_SEAL_OVERHEAD (1 + PD_SEAL_NONCE_LEN + PD_SEAL_TAG_LEN)
#define PD_SEAL_MAX_PLAINTEXT (256 * 1024) /* far above any session record */

/* Seal pt under key, binding aad (may be NULL when aad_len is 0). Output is arena-owned,
 * pt_len + PD_SEAL_OVERHEAD bytes. Returns PD_OK, PD_ETOOBIG (pt_len above
 * PD_SEAL_MAX_PLAINTEXT) or PD_EINTERNAL. */
int pd_seal(const unsigned char key[PD_SEAL_KEY_LEN], const void *aad, size_t aad_len,
            const void *pt, size_t pt_len, struct pd_arena *a, unsigned char **OUT,
            size_t *OUT_len);

/* Open what pd_seal made with the same key and aad. The plaintext is arena-owned and followed
 * by a NUL byte (not counted), so sealed text can be used as a C string. Returns PD_OK,
 * PD_EINVAL (too short, too long, unknown version) or PD_ESIG (any tampering: wrong key, aad,
 * nonce, ciphertext or tag). Nothing is written to the OUT parameters on failure. */
int pd_unseal(const unsigned char key[PD_SEAL_KEY_LEN], const void *aad, size_t aad_len,
              const void *sealed, size_t len, struct pd_arena *a, unsigned char **OUT_pt,
              size_t *OUT_len);

/* The secret access key of an STS access key id: first 30 bytes of
 * HMAC-SHA256(key, "podiam/secret/v1:" + akid), base64 (A-Z a-z 0-9 + /), exactly 40 characters
 * like an AWS secret. out gets 40 characters + NUL. Returns PD_OK or PD_EINTERNAL. */
int pd_derive_secret(const unsigned char key[PD_SEAL_KEY_LEN], const char *akid, char OUT[41]);

/* Sub-key for one purpose: HMAC-SHA256(master, "podiam/key/v1:" + label). Returns PD_OK or
 * PD_EINTERNAL. */
int pd_derive_key(const unsigned char master[PD_SEAL_KEY_LEN], const char *label,
                  unsigned char OUT[PD_SEAL_KEY_LEN]);

/* n bytes from OpenSSL's CSPRNG (never seeded by --seed). Returns PD_OK or PD_EINTERNAL. */
int pd_random_bytes(void *p, size_t n);

/* A 40-character secret access key (A-Z a-z 0-9 + /, as AWS's) from OpenSSL's CSPRNG: what
 * IAM hands out unless --seed asks for reproducible (and so guessable) keys, which
 * core/ids.h's pd_ids_secret makes. out must hold 41 bytes. Returns PD_OK or PD_EINTERNAL. */
int pd_random_secret_key(char out[41]);

#endif
