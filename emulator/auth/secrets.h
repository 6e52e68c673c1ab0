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

#define PD_SECRETS_LINEAGE 16

/* A generation and the earlier ones it keeps (at most PD_SECRETS_LINEAGE, newest first). */
struct pd_generation {
    int64_t current;
    int64_t lineage[PD_SECRETS_LINEAGE];
    int n;
};

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
    /* Earlier generations whose sessions still open: a snapshot starts a new generation and
     * keeps the one before it, and restoring the snapshot makes a new generation that keeps
     * what the snapshot kept, so the sessions minted before the snapshot open again and those
     * minted after it do not (docs/testing-with-podiam.md). Changed only under the state's
     * write lock (statelock.h); read by any request. */
    _Atomic int64_t lineage[PD_SECRETS_LINEAGE];
    _Atomic int nlineage;
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

/* Does a session minted in generation g still open? (the current one, or one it keeps) */
int pd_secrets_generation_ok(const struct pd_secrets *s, int64_t g);
/* The current generation and what it keeps. */
void pd_secrets_generation_get(const struct pd_secrets *s, struct pd_generation *OUT);
/* Inside a write transaction: store a new generation that keeps keep->current and
 * keep->lineage (keep NULL: nothing, as a reset), filled into *OUT. Publish it with
 * pd_secrets_generation_publish once the transaction has committed. */
int pd_secrets_generation_begin(struct pd_db *db, const struct pd_secrets *s,
                                const struct pd_generation *keep, struct pd_generation *OUT);
void pd_secrets_generation_publish(struct pd_secrets *s, const struct pd_generation *g);

#endif
