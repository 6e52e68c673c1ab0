/* names.c - the names podiam serves and their leaf certificates (see names.h). */
#include "names.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/secrets.h"
#include "core/arena.h"
#include "core/awshost.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "crypto/x509.h"
#include "env.h"
#include "services/oidc.h"
#include "store/store.h"

struct pd_names {
    pthread_mutex_t mu; /* serialises minting */
    struct pd_x509_minter *minter;
};

/* Is s equal to suffix or a name under it (".suffix")? s and suffix lower case. */
static int at_or_under(const char *s, size_t n, const char *suffix)
{
    size_t sl = strlen(suffix);
    if (!sl)
        return 0;
    if (n == sl)
        return memcmp(s, suffix, sl) == 0;
    return n > sl + 1 && s[n - sl - 1] == '.' && memcmp(s + n - sl, suffix, sl) == 0;
}

int pd_names_served(struct pd_env *env, const char *host)
{
    char h[PD_AWSHOST_MAX + 1];
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > PD_AWSHOST_MAX)
        return 0;
    for (size_t i = 0; i <= n; i++)
        h[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32 : host[i]);
    if (pd_x509_name_kind(h) != 2 || h[0] == '*')
        return 0; /* no DNS name (an IP literal, a wildcard, odd bytes) */
    struct pd_awshost aws;
    switch (pd_awshost_parse(h, n, &aws)) {
    case PD_AWSHOST_NONE:
        break;
    case PD_AWSHOST_S3:
        /* bucket names are 3..63 characters */
        return aws.bucket_len == 0 || (aws.bucket_len >= 3 && aws.bucket_len <= 63);
    default:
        return 1;
    }
    if (at_or_under(h, n, "localhost") ||
        (env->cfg.host_suffix && at_or_under(h, n, env->cfg.host_suffix)))
        return 1;
    return env->store && pd_oidc_host_is_hosted(pd_store_db(env->store), h);
}

static int hook_served(struct pd_env *env, const char *host)
{
    return pd_names_served(env, host);
}

static int hook_leaf(struct pd_env *env, const char *host, char **OUT_cert_pem)
{
    struct pd_names *nm = env->names;
    struct pd_arena a;
    pd_arena_init(&a);
    char *pem = NULL;
    pthread_mutex_lock(&nm->mu);
    int rc = pd_x509_minter_leaf(nm->minter, host, (int64_t)time(NULL), &a, &pem);
    pthread_mutex_unlock(&nm->mu);
    if (rc == PD_OK)
        *OUT_cert_pem = pd_xstrdup(pem);
    pd_arena_cleanup(&a);
    return rc;
}

int pd_names_init(struct pd_env *env, const char **OUT_err)
{
    struct pd_names *nm = pd_xcalloc(1, sizeof *nm);
    int rc = pd_x509_minter_new(env->secrets->ca_cert_pem, env->secrets->ca_key_pem, PD_KEY_EC_P256,
                                &nm->minter);
    if (rc) {
        free(nm);
        *OUT_err = "cannot load the certificate authority to mint server certificates";
        return rc;
    }
    pthread_mutex_init(&nm->mu, NULL);
    env->names = nm;
    env->name_hooks.served = hook_served;
    env->name_hooks.leaf = hook_leaf;
    env->name_hooks.leaf_key_pem = pd_x509_minter_key_pem(nm->minter);
    return PD_OK;
}

void pd_names_cleanup(struct pd_env *env)
{
    struct pd_names *nm = env->names;
    memset(&env->name_hooks, 0, sizeof env->name_hooks);
    env->names = NULL;
    if (!nm)
        return;
    pd_x509_minter_free(nm->minter);
    pthread_mutex_destroy(&nm->mu);
    free(nm);
}
