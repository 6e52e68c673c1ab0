/*
 * env.h - process-wide state: configuration and the long-lived objects every request uses.
 *
 * Built once by main.c (or a test) and immutable afterwards except through the objects'
 * own synchronisation (the store's connections, the clock's atomics, the id generator's
 * mutex, the decision log's mutex). No other globals exist but the log level.
 */
#ifndef PD_ENV_H
#define PD_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/ids.h"
#include "statelock.h"

enum pd_iam_mode { PD_IAM_ENFORCE = 0, PD_IAM_AUDIT, PD_IAM_OFF };

#define PD_MAX_FIXTURES 16

struct pd_config {
    const char *listen;       /* "127.0.0.1:4566" */
    const char *listen_tls;   /* "127.0.0.1:4567", or "" / "off" for none */
    const char *listen_proxy; /* "127.0.0.1:4568", or "" / "off" for none */
    const char *state;        /* SQLite path or ":memory:" */
    const char *fixtures[PD_MAX_FIXTURES];
    int nfixtures;
    int seeded;
    uint64_t seed;
    enum pd_iam_mode iam_mode;
    int log_level;
    int log_json;
    const char *region;      /* default region for unsigned requests */
    size_t max_body;         /* bound on buffered request bodies */
    int threads;             /* worker threads */
    int idle_timeout;        /* seconds a connection may send nothing (libmicrohttpd) */
    int header_timeout;      /* seconds for a request's headers (server.c watchdog); 0: none */
    int max_connections;     /* open connections per listener (server.c makes room) */
    int sync_full;           /* fsync files and commits (--sync full) */
    int64_t s3_inline_max;   /* S3 objects up to this size live in SQLite, not files */
    const char *host_suffix; /* S3 virtual host suffixes are matched against this */
    int listen_tls_given;    /* --listen-tls / PODIAM_LISTEN_TLS was set (else it follows */
    int listen_proxy_given;  /* --listen's port 0); the same for --listen-proxy */
    const char *ready_file;  /* write the ready JSON object here (atomically), or NULL */
    int ready_format;        /* PD_READY_BOTH (default), PD_READY_TEXT or PD_READY_JSON */
    size_t decisions_max;    /* entries the decision log keeps (--decision-log-size) */

    /* identity (issue 13) */
    int encoded_denials;       /* denials end with AWS's "Encoded authorization failure message" */
    const char *oidc_ca_file;  /* more CAs (PEM) for external OIDC issuers, or NULL */
    int oidc_http_loopback;    /* external issuers on loopback may be plain http */
    int oidc_fetch_timeout_ms; /* bound on one external discovery + JWKS fetch */
};

/* What the ready line on standard output holds (--ready-format). */
enum { PD_READY_BOTH = 0, PD_READY_TEXT, PD_READY_JSON };

struct pd_store;
struct pd_specs;
struct pd_secrets;
struct pd_decisions;
struct pd_policy_cache;
struct pd_oidc_keys;
struct pd_oidc_remote;
struct pd_names;
struct pd_awsauth_cache;
struct pd_k8s_hub;
struct pd_k8s_ctl;
struct pd_player;
struct pd_env;

/* What server/ asks about the names clients reach podiam by (TLS SNI, proxy targets), so it
 * needs no service or crypto header. Set by names.c (pd_names_init); all NULL: every TLS
 * client gets the listener's one certificate and the proxy serves loopback names only. */
struct pd_name_hooks {
    /* Does podiam answer for host (a DNS name, no port, any case)? 1 / 0. Any thread. */
    int (*served)(struct pd_env *env, const char *host);
    /* A leaf certificate for host (PEM, malloc'd; the caller frees it) signed by podiam's CA
     * for the key leaf_key_pem. PD_OK, PD_EINVAL (not a DNS name) or PD_EINTERNAL. */
    int (*leaf)(struct pd_env *env, const char *host, char **OUT_cert_pem);
    const char *leaf_key_pem; /* PKCS#8 PEM, the key of every leaf */
};

struct pd_env {
    struct pd_config cfg;
    struct pd_clock clock;
    struct pd_ids ids;
    struct pd_store *store;
    struct pd_specs *specs;           /* loaded service models, signing-key cache (dispatch) */
    struct pd_secrets *secrets;       /* server secrets: session-token keys, CA (auth/secrets.h) */
    struct pd_decisions *decisions;   /* authorization decision log (auth/decisions.h) */
    struct pd_policy_cache *policies; /* compiled policies (auth/policy_cache.h) */
    struct pd_oidc_keys *oidc_keys;   /* imported issuer keys (services/oidc.h), or NULL */
    struct pd_oidc_remote *oidc_remote; /* external issuers' keys (services/oidc_remote.h) */
    struct pd_awsauth_cache *awsauth;   /* parsed aws-auth ConfigMaps (k8s/awsauth.h), or NULL */
    struct pd_names *names;             /* names served, leaf minter (names.h), or NULL */
    struct pd_k8s_hub *k8s;             /* Kubernetes watch log (k8s/watch.h) */
    struct pd_k8s_ctl *k8s_ctl;         /* Kubernetes controllers (k8s/k8s.h), or NULL */
    struct pd_player *player;           /* the console's scenario player (services/player.h) */
    struct pd_name_hooks name_hooks;    /* the same for server/ */
    int http_port;                      /* bound ports, once listening (0: not listening) */
    int https_port;
    int proxy_port;
    char http_url[80]; /* "http://127.0.0.1:4566" once listening, "" when not (app.c) */
    char https_url[80];
    char proxy_url[80];
    struct pd_statelock state_lock; /* requests read, resets and restores write (statelock.h) */
};

/* Fill cfg with the embedded defaults (loopback, port 4566, default state path). */
void pd_config_defaults(struct pd_config *cfg);

#endif
