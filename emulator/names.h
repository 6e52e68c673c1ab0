/*
 * names.h - the host names podiam answers for when a client reaches it as it would reach
 * AWS (TLS server name, proxy target), and the leaf certificates its CA mints for them.
 *
 * Served: every AWS endpoint of core/awshost.h (a virtual-hosted bucket's name 3..63
 * characters), the hosts of the OIDC issuers podiam hosts (EKS clusters' and stand-alone
 * ones, asked of the OIDC service), localhost and every name under it, and names under the
 * configured host suffix. Nothing else: podiam never stands in for a name it does not serve.
 *
 * Owns the leaf minter (crypto/x509.h: one shared EC P-256 key, a leaf per name, serialised
 * by a mutex). Fills env->name_hooks so server/ reaches all this without including services
 * or crypto. Lives beside dispatch.c because it knows several layers.
 */
#ifndef PD_NAMES_H
#define PD_NAMES_H

struct pd_env;

/* Load the CA from env->secrets, make the leaf key and set env->names and env->name_hooks.
 * PD_OK, or an error with *OUT_err (static). */
int pd_names_init(struct pd_env *env, const char **OUT_err);
/* Release what pd_names_init made and clear the hooks (NULL-safe). */
void pd_names_cleanup(struct pd_env *env);

/* Does podiam answer for host (a DNS name, no port, any case; at most 253 characters)?
 * 1 / 0. Asks the store (hosted issuers) on the calling thread's connection. */
int pd_names_served(struct pd_env *env, const char *host);

#endif
