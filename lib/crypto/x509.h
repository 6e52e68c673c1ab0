/*
 * x509.h - podiam's own certificate authority and the TLS server certificate it issues.
 *
 * The CA (certificate + private key, PEM) is made once and kept in the state; at every start
 * the server issues itself a fresh server certificate and key signed by that CA, for the
 * loopback names plus any extra names, and hands both PEM strings to libmicrohttpd. A minter
 * issues a leaf per other name the TLS listener is asked for (SNI: AWS endpoints, bucket
 * hosts, issuer hosts). Clients trust the CA (served at /_podiam/ca.pem, written into
 * kubeconfigs).
 *
 * The certificates are shaped for the strictest clients we serve: Go's crypto/x509 (kubectl),
 * OpenSSL with X509_V_FLAG_X509_STRICT (Python 3.13+ default), Node and curl: v3, positive
 * 16-byte serials, SHA-256 signatures, named curves, SAN always present, CA with critical
 * basicConstraints and keyUsage keyCertSign|cRLSign, SKI on both, AKI on the leaf, leaf with
 * critical CA:FALSE, serverAuth, validity within Apple's 398-day limit.
 *
 * Must not: include libmicrohttpd or GnuTLS headers (server/ owns those).
 */
#ifndef PD_CRYPTO_X509_H
#define PD_CRYPTO_X509_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/keys.h"

struct pd_arena;

#define PD_X509_CA_DAYS 3650    /* CA validity (10 years) */
#define PD_X509_SERVER_DAYS 397 /* server certificate validity */
#define PD_X509_BACKDATE 3600   /* notBefore is this many seconds before now (clock skew) */
#define PD_X509_MAX_NAMES 100   /* extra names per server certificate */

/* Make a self-signed CA with a new key of that kind (PD_KEY_RSA_2048 or PD_KEY_EC_P256
 * recommended). Subject "O=podiam, CN=podiam local CA XXXXXXXX" (8 random hex digits so two
 * podiam CAs in one trust store never share a name). now is real Unix time (the certificate is
 * checked against clients' wall clocks, not podiam's clock offset). Both outputs are
 * arena-owned PEM; the key is PKCS#8. Returns PD_OK, PD_EINVAL or PD_EINTERNAL. */
int pd_x509_ca_new(enum pd_key_kind kind, int64_t now, struct pd_arena *a, char **OUT_cert_pem,
                   char **OUT_key_pem);

/* Issue a server certificate with a new key of that kind (PD_KEY_EC_P256 makes start-up fast;
 * RSA-2048 key generation takes tens to hundreds of milliseconds), signed by the CA given as
 * PEM. SANs: DNS localhost, DNS *.localhost, IP 127.0.0.1, IP ::1, DNS s3.localhost,
 * DNS *.s3.localhost (virtual-host buckets; OpenSSL and Node ignore *.localhost), then names[0..n)
 * in order (duplicates dropped): IPv4/IPv6 literals become IP SANs, everything else must be a DNS
 * name (labels of letters, digits and '-', optionally "*." in front). Returns PD_OK, PD_EINVAL (bad
 * CA PEM, key not matching the CA, CA not a CA, a bad name, too many names) or PD_EINTERNAL.
 * Outputs arena-owned PEM; the key is PKCS#8 ("BEGIN PRIVATE KEY"), which GnuTLS reads. */
int pd_x509_server_new(const char *ca_cert_pem, const char *ca_key_pem, enum pd_key_kind kind,
                       const char *const *names, size_t n, int64_t now, struct pd_arena *a,
                       char **OUT_cert_pem, char **OUT_key_pem);

/* A CA loaded once to mint many leaf certificates quickly (one per TLS server name, SNI): the
 * CA certificate and key parsed once, and one leaf key pair (made here) shared by every leaf,
 * so a leaf costs one signature, not a key generation. Not synchronised: callers serialise
 * pd_x509_minter_leaf. */
struct pd_x509_minter;

/* Load the CA (PEM, as for pd_x509_server_new) and make the leaf key of that kind
 * (PD_KEY_EC_P256 recommended). PD_OK, PD_EINVAL (bad or mismatched CA) or PD_EINTERNAL. Free
 * with pd_x509_minter_free. */
int pd_x509_minter_new(const char *ca_cert_pem, const char *ca_key_pem, enum pd_key_kind leaf_kind,
                       struct pd_x509_minter **OUT);
/* A leaf certificate for exactly one DNS name (no wildcard, no IP literal): SAN DNS:name only,
 * CN name (or "podiam" past 64 characters), shaped like the server certificate (see above),
 * signed by the CA, for the minter's leaf key. now: real Unix time. *OUT_cert_pem is
 * arena-owned PEM. PD_OK, PD_EINVAL (not a DNS name) or PD_EINTERNAL. */
int pd_x509_minter_leaf(const struct pd_x509_minter *m, const char *name, int64_t now,
                        struct pd_arena *a, char **OUT_cert_pem);
/* The leaf key (PKCS#8 PEM, owned by m), the private key of every leaf m mints. */
const char *pd_x509_minter_key_pem(const struct pd_x509_minter *m);
void pd_x509_minter_free(struct pd_x509_minter *m);

/* SHA-1 over the DER of the first certificate in cert_pem, as 40 lower-case hex digits (the
 * IAM OIDC provider thumbprint form). Returns PD_OK or PD_EINVAL. */
int pd_x509_sha1_thumbprint(const char *cert_pem, size_t len, char OUT_hex[41]);

/* Is s a name pd_x509_server_new accepts? 1 = IP literal, 2 = DNS name, 0 = neither. */
int pd_x509_name_kind(const char *s);

#endif
