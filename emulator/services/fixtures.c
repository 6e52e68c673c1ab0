/* fixtures.c - load, reset and export the state as fixtures documents (see fixtures.h). */
#include "services/fixtures.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/secrets.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/mem.h"
#include "env.h"
#include "services/eks.h"
#include "services/iam/iam_fixtures.h"
#include "services/oidc.h"
#include "services/organizations/organizations.h"
#include "services/s3/s3.h"
#include "store/iam_db.h"
#include "store/store.h"

#define META_LOADED "fixtures_loaded"

static const char *const known_sections[] = {"iam", "organizations", "oidc", "eks", "s3", NULL};

static char *msg(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *m = pd_xmalloc(n);
    snprintf(m, n, fmt, a, b);
    return m;
}

static int load_file(struct pd_env *env, struct pd_db *db, const char *path, char **OUT_err)
{
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        char where[64];
        snprintf(where, sizeof where, "line %d column %d", je.line, je.column);
        /* jansson reports line -1 when the file cannot be read at all */
        char *m =
            je.line > 0 ? msg("fixtures %s: %s", path, where) : msg("fixtures %s%s", path, "");
        size_t n = strlen(m) + strlen(je.text) + 3;
        *OUT_err = pd_xmalloc(n);
        snprintf(*OUT_err, n, "%s: %s", m, je.text);
        free(m);
        return PD_EINVAL;
    }
    int rc = PD_OK;
    if (!json_is_object(doc)) {
        *OUT_err = msg("fixtures %s: %s", path, "the document must be a JSON object");
        rc = PD_EINVAL;
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        int known = 0;
        for (const char *const *s = known_sections; *s; s++)
            known |= strcmp(*s, key) == 0;
        if (!known && strcmp(key, "$schema") != 0 && strcmp(key, "description") != 0) {
            *OUT_err = msg("fixtures %s: unknown section \"%s\"", path, key);
            rc = PD_EINVAL;
            goto out;
        }
    }
    /* IAM first: clusters name their roles; then stand-alone issuers, then clusters. */
    json_t *iam = json_object_get(doc, "iam");
    if (iam)
        rc = pd_iam_fixtures_load(env, db, iam, path, OUT_err);
    /* then Organizations: its accounts may be the iam section's */
    json_t *orgs = json_object_get(doc, "organizations");
    if (!rc && orgs)
        rc = pd_org_fixtures_load(env, db, orgs, path, OUT_err);
    json_t *oidc = json_object_get(doc, "oidc");
    if (!rc && oidc)
        rc = pd_oidc_fixtures_load(env, db, oidc, path, OUT_err);
    json_t *eks = json_object_get(doc, "eks");
    if (!rc && eks)
        rc = pd_eks_fixtures_load(env, db, eks, path, OUT_err);
    json_t *s3 = json_object_get(doc, "s3");
    if (!rc && s3)
        rc = pd_s3_fixtures_load(env, db, s3, path, OUT_err);
out:
    json_decref(doc);
    return rc;
}

static int load_all(struct pd_env *env, struct pd_db *db, char **OUT_err)
{
    int rc = pd_iam_db_bootstrap(db);
    for (int i = 0; !rc && i < env->cfg.nfixtures; i++)
        rc = load_file(env, db, env->cfg.fixtures[i], OUT_err);
    if (!rc)
        rc = pd_db_meta_put(db, META_LOADED, "1");
    return rc;
}

static int in_txn(struct pd_env *env, struct pd_db *db, int wipe, char **OUT_err)
{
    struct pd_generation generation = {0};
    *OUT_err = NULL;
    int rc = pd_db_begin(db, 1);
    if (rc) {
        *OUT_err = pd_xstrdup("the state is busy");
        return rc;
    }
    if (wipe)
        rc = pd_db_wipe(db);
    /* a reset ends every session minted before it (auth/secrets.h) */
    if (!rc && wipe && env->secrets)
        rc = pd_secrets_generation_begin(db, env->secrets, NULL, &generation);
    if (!rc)
        rc = load_all(env, db, OUT_err);
    /* object files of the wiped state: no row names them any more (the write lock is held,
     * so no upload is installing a file meanwhile) */
    if (!rc && wipe)
        rc = pd_s3_sweep_unreferenced(env, db);
    if (rc) {
        pd_db_rollback(db);
        if (!*OUT_err)
            *OUT_err = pd_xstrdup(pd_strerror(rc));
        return rc;
    }
    rc = pd_db_commit(db);
    if (rc)
        *OUT_err = pd_xstrdup("cannot commit the fixtures");
    else if (wipe && env->secrets)
        pd_secrets_generation_publish(env->secrets, &generation);
    return rc;
}

int pd_fixtures_start(struct pd_env *env, struct pd_db *db, char **OUT_err)
{
    struct pd_arena a;
    pd_arena_init(&a);
    char *v = NULL;
    int loaded = pd_db_meta_get(db, &a, META_LOADED, &v) == PD_OK;
    pd_arena_cleanup(&a);
    *OUT_err = NULL;
    if (loaded)
        return PD_OK;
    return in_txn(env, db, 0, OUT_err);
}

int pd_fixtures_reset(struct pd_env *env, struct pd_db *db, char **OUT_err)
{
    if (env->cfg.seeded) /* the same ids as a fresh start with the same --seed */
        pd_ids_reseed(&env->ids, env->cfg.seed);
    return in_txn(env, db, 1, OUT_err);
}

int pd_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT, char **OUT_err)
{
    *OUT_err = NULL;
    int rc = pd_db_begin(db, 0);
    if (rc) {
        *OUT_err = pd_xstrdup("the state is busy");
        return rc;
    }
    json_t *iam = NULL, *oidc = NULL, *eks = NULL, *s3 = NULL, *orgs = NULL;
    rc = pd_iam_fixtures_export(env, db, &iam, OUT_err);
    if (!rc)
        rc = pd_org_fixtures_export(env, db, &orgs, OUT_err);
    if (!rc)
        rc = pd_oidc_export(db, &oidc);
    if (!rc)
        rc = pd_eks_fixtures_export(env, db, &eks);
    if (!rc)
        rc = pd_s3_fixtures_export(env, db, &s3, OUT_err);
    pd_db_rollback(db);
    if (rc) {
        json_decref(iam);
        json_decref(oidc);
        json_decref(eks);
        json_decref(s3);
        json_decref(orgs);
        if (!*OUT_err)
            *OUT_err = pd_xstrdup(pd_strerror(rc));
        return rc;
    }
    *OUT = json_pack("{s:o}", "iam", iam);
    if (json_array_size(json_object_get(orgs, "organizations")))
        json_object_set(*OUT, "organizations", orgs);
    json_decref(orgs);
    if (json_array_size(json_object_get(oidc, "issuers")))
        json_object_set(*OUT, "oidc", oidc);
    if (json_array_size(json_object_get(eks, "clusters")))
        json_object_set(*OUT, "eks", eks);
    json_object_set_new(*OUT, "s3", s3);
    json_decref(oidc);
    json_decref(eks);
    return PD_OK;
}
