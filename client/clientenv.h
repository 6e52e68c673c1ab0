/*
 * clientenv.h - the environment a client process needs to reach podiam, built in one place
 * for `podiamctl env` (printed as shell lines) and `podiamctl run` (set for the child):
 * the endpoint, the region, root keys or a pod's web identity, podiam's forward proxy, and
 * a CA bundle (the system CAs plus podiam's) under every name runtimes read.
 *
 * Owns the files it writes (the CA bundle, a pod's token) in a directory the caller names:
 * run's private temporary directory, or env's cache directory (pdc_cache_dir). Everything
 * else lives in the context's arena. Must not: print or log the token itself.
 */
#ifndef PDC_CLIENTENV_H
#define PDC_CLIENTENV_H

#include <stdio.h>
#include <sys/types.h>

#include "http.h"

/* One variable of a client's environment. value NULL: the variable is unset. */
struct pdc_var {
    const char *name;
    const char *value;
};

/* An ordered set of variables, the notes that explain them and the files they name.
 * Zero-initialise; everything is allocated in the arena given to the functions below. */
struct pdc_vars {
    struct pdc_var *v; /* in the order first set */
    size_t n, cap;
    const char **notes; /* lines for people ("# ..." when printed) */
    size_t nnotes, notes_cap;
    const char **files; /* files written for these variables (the caller removes them) */
    size_t nfiles, files_cap;
};

/* Set name to value (NULL: unset), replacing an earlier entry of the same name in place. */
void pdc_vars_set(struct pd_arena *a, struct pdc_vars *e, const char *name, const char *value);
/* The value set for name, or NULL (unset, or never set). */
const char *pdc_vars_get(const struct pdc_vars *e, const char *name);
void pdc_vars_note(struct pd_arena *a, struct pdc_vars *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* setenv / unsetenv every entry in this process (its children inherit them). */
void pdc_vars_apply(const struct pdc_vars *e);
/* The notes as "# " lines, then one `export NAME=VALUE` or `unset NAME` line per entry,
 * values quoted for a POSIX shell (pdc_shell_quote). */
void pdc_vars_print(FILE *f, struct pd_arena *a, const struct pdc_vars *e);
/* unlink every file in e->files (errors ignored). */
void pdc_vars_remove_files(const struct pdc_vars *e);

/* s as one word of a POSIX shell: as is when it is made only of [A-Za-z0-9@%+=:,./_-] and
 * not empty, else in single quotes with each ' written '\''. Pure; arena-owned. */
const char *pdc_shell_quote(struct pd_arena *a, const char *s);

/* The directory for files that outlive one podiamctl command: $XDG_CACHE_HOME/podiam, else
 * $HOME/.cache/podiam, else $TMPDIR/podiam-UID (TMPDIR default /tmp). Made with mode 0700
 * when missing; refused (PD_EDENIED, *OUT_err says why) when it is not a directory owned
 * by this user or when others may write to it. */
int pdc_cache_dir(struct pd_arena *a, const char **OUT_dir, const char **OUT_err);

/* Replace path with text atomically: written to a temporary file beside it (mode), then
 * renamed over it, so a reader sees the old file or the new one, never a part. PD_OK or
 * PD_EIO. */
int pdc_write_atomic(const char *path, const char *text, size_t n, mode_t mode);

/* The system CA bundle podiam's CA is added to: the first readable of the distributions'
 * usual files (/etc/ssl/certs/ca-certificates.crt on Debian), or NULL. */
const char *pdc_system_ca_file(void);

/* How to reach podiam from any client: AWS_ENDPOINT_URL (c->endpoint, for clients that read
 * it); HTTPS_PROXY, HTTP_PROXY and their lower-case forms (podiam's forward proxy, from
 * /_podiam/health endpoints.proxy; left out with a note when podiam has none); NO_PROXY and
 * no_proxy (the loopback names and the endpoint's host, so clients that know the endpoint
 * go straight to it); and the CA bundle DIR/ca-bundle-HOST_PORT.pem (pdc_system_ca_file()
 * plus podiam's CA, rewritten atomically) as AWS_CA_BUNDLE, SSL_CERT_FILE,
 * REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and NODE_EXTRA_CA_CERTS. Returns PD_OK, or PD_EIO
 * with *OUT_err when podiam does not answer or the bundle cannot be written. */
int pdc_env_reach(struct pdc_ctx *c, const char *dir, struct pdc_vars *OUT, const char **OUT_err);

/* The identity of the account's root user with static keys: AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (unset when token is NULL), AWS_REGION and
 * AWS_DEFAULT_REGION (c->region), and the pod variables unset. */
void pdc_env_static(struct pdc_ctx *c, const char *akid, const char *secret, const char *token,
                    struct pdc_vars *OUT);

/* The identity of a pod of service account ns/sa in EKS cluster `cluster`, as the pod
 * identity webhook makes it and a kubelet serves it: asks the cluster's Kubernetes API for
 * the mutated pod (dry run), gets a token by TokenRequest with the projected volume's
 * audience and lifetime and writes it to DIR/token-HOST_PORT-CLUSTER-NS-SA (mode 0600,
 * atomically). Sets AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE (that file),
 * PODIAM_POD_TOKEN_PATH (where the pod reads it), AWS_REGION and AWS_DEFAULT_REGION (the
 * webhook's, else c->region), AWS_STS_REGIONAL_ENDPOINTS when the webhook sets it, and
 * unsets the static keys and profiles (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_SECURITY_TOKEN, AWS_PROFILE, AWS_DEFAULT_PROFILE) so the SDK's
 * default chain uses the web identity. Returns PD_OK; PD_ENOTFOUND / PD_EINVAL / PD_EIO
 * with *OUT_err (no cluster, no service account, no role-arn annotation, no token). */
int pdc_env_pod(struct pdc_ctx *c, const char *cluster, const char *ns, const char *sa,
                const char *dir, struct pdc_vars *OUT, const char **OUT_err);

#endif
