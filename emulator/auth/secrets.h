/*
 * secrets.h - the server's own secrets: the master key behind session tokens and the
 * certificate authority behind the TLS listener and every cluster endpoint.
 *
 * Made once, on the first start with a given state, and kept in the store's meta table, so
 * session tokens and kubeconfigs stay valid across restarts and resets. The TLS server
 * certificate is issued afresh at every start from the stored CA. Never logged.
 */
#ifndef PD_AUTH_SECRETS_H
#define PD_AUTH_SECRETS_H

#include <stdint.h>

#include "crypto/seal.h"

struct pd_db;

struct pd_secrets {
    unsigned char seal_key[PD_SEAL_KEY_LEN];   /* seals STS session tokens */
    unsigned char secret_key[PD_SEAL_KEY_LEN]; /* derives ASIA secret access keys */
    char *ca_cert_pem;                         /* podiam's CA (heap) */
    char *ca_key_pem;
    char *tls_cert_pem; /* the listener's certificate, issued at load (heap) */
    char *tls_key_pem;
    /* The state's generation: every reset adds one (pd_secrets_next_generation), and a
     * session token opens only in the generation it was minted in, so no session survives
     * a reset. Kept in the meta table beside the keys. */
    _Atomic int64_t generation;
};

/* Load the secrets from the state, making and storing whatever is missing, and issue the TLS
 * server certificate (extra_names: more SANs, may be NULL). now: real Unix time (certificates
 * are checked against clients' wall clocks). Returns PD_OK or an error with *OUT_err static. */
int pd_secrets_load(struct pd_db *db, int64_t now, const char *const *extra_names, int nnames,
                    struct pd_secrets **OUT, const char **OUT_err);
void pd_secrets_free(struct pd_secrets *s);

/* Inside a write transaction (a reset): store the next generation and return it in *OUT.
 * Publish it with atomic_store(&s->generation, *OUT) once the transaction has committed. */
int pd_secrets_next_generation(struct pd_db *db, const struct pd_secrets *s, int64_t *OUT);

#endif
