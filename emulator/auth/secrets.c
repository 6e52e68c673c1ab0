/* secrets.c - load or make the server's secrets (see secrets.h). */
#include "auth/secrets.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "crypto/x509.h"
#include "store/store.h"

#define META_MASTER "master_key"
#define META_CA_CERT "ca_cert_pem"
#define META_CA_KEY "ca_key_pem"
#define META_GENERATION "generation"
#define META_LINEAGE "generation_lineage"

static int load_master(struct pd_db *db, struct pd_arena *a, unsigned char master[32])
{
    char *b64 = NULL;
    int rc = pd_db_meta_get(db, a, META_MASTER, &b64);
    if (rc == PD_OK) {
        unsigned char *raw;
        size_t n;
        if (pd_base64_decode(a, b64, strlen(b64), &raw, &n) || n != 32)
            return PD_EINVAL;
        memcpy(master, raw, 32);
        return PD_OK;
    }
    if (rc != PD_ENOTFOUND)
        return rc;
    if (pd_random_bytes(master, 32))
        return PD_EINTERNAL;
    return pd_db_meta_put(db, META_MASTER, pd_base64_encode(a, master, 32, 0));
}

static int load_ca(struct pd_db *db, struct pd_arena *a, int64_t now, char **cert, char **key)
{
    int rc = pd_db_meta_get(db, a, META_CA_CERT, cert);
    if (rc == PD_OK)
        rc = pd_db_meta_get(db, a, META_CA_KEY, key);
    if (rc != PD_ENOTFOUND)
        return rc;
    rc = pd_x509_ca_new(PD_KEY_EC_P256, now, a, cert, key);
    if (!rc)
        rc = pd_db_meta_put(db, META_CA_CERT, *cert);
    if (!rc)
        rc = pd_db_meta_put(db, META_CA_KEY, *key);
    return rc;
}

int pd_secrets_load(struct pd_db *db, int64_t now, const char *const *extra_names, int nnames,
                    struct pd_secrets **OUT, const char **OUT_err)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_secrets *s = pd_xcalloc(1, sizeof *s);
    unsigned char master[32];
    char *ca_cert = NULL, *ca_key = NULL, *cert = NULL, *key = NULL;
    int rc = pd_db_begin(db, 1);
    if (rc) {
        *OUT_err = "cannot lock the state to read the server keys";
        goto out;
    }
    rc = load_master(db, &a, master);
    if (rc) {
        *OUT_err = "the stored master key is unreadable";
        pd_db_rollback(db);
        goto out;
    }
    rc = load_ca(db, &a, now, &ca_cert, &ca_key);
    if (rc) {
        *OUT_err = "cannot load or make the certificate authority";
        pd_db_rollback(db);
        goto out;
    }
    char *gen = NULL;
    int64_t g = 0;
    if (pd_db_meta_get(db, &a, META_GENERATION, &gen) == PD_OK)
        pd_parse_i64(gen, 0, INT64_MAX, &g);
    atomic_store(&s->generation, g);
    char *lin = NULL;
    if (pd_db_meta_get(db, &a, META_LINEAGE, &lin) == PD_OK) {
        int nl = 0;
        for (char *p = lin; *p && nl < PD_SECRETS_LINEAGE;) {
            char *end = strchr(p, ',');
            if (end)
                *end = '\0';
            int64_t v;
            if (pd_parse_i64(p, 0, INT64_MAX, &v) == PD_OK)
                atomic_store(&s->lineage[nl++], v);
            if (!end)
                break;
            p = end + 1;
        }
        atomic_store(&s->nlineage, nl);
    }
    rc = pd_db_commit(db);
    if (rc) {
        *OUT_err = "cannot store the server keys";
        goto out;
    }
    if (pd_derive_key(master, "sts-session-seal", s->seal_key) ||
        pd_derive_key(master, "sts-secret-key", s->secret_key)) {
        rc = PD_EINTERNAL;
        *OUT_err = "cannot derive the session keys";
        goto out;
    }
    rc = pd_x509_server_new(ca_cert, ca_key, PD_KEY_EC_P256, extra_names, (size_t)nnames, now, &a,
                            &cert, &key);
    if (rc) {
        *OUT_err = "cannot issue the TLS server certificate";
        goto out;
    }
    s->ca_cert_pem = pd_xstrdup(ca_cert);
    s->ca_key_pem = pd_xstrdup(ca_key);
    s->tls_cert_pem = pd_xstrdup(cert);
    s->tls_key_pem = pd_xstrdup(key);
out:
    memset(master, 0, sizeof master);
    pd_arena_cleanup(&a); /* PEM copies in the arena are freed here */
    if (rc) {
        pd_secrets_free(s);
        return rc;
    }
    *OUT = s;
    return PD_OK;
}

void pd_secrets_free(struct pd_secrets *s)
{
    if (!s)
        return;
    free(s->ca_cert_pem);
    if (s->ca_key_pem)
        memset(s->ca_key_pem, 0, strlen(s->ca_key_pem));
    free(s->ca_key_pem);
    free(s->tls_cert_pem);
    if (s->tls_key_pem)
        memset(s->tls_key_pem, 0, strlen(s->tls_key_pem));
    free(s->tls_key_pem);
    memset(s, 0, sizeof *s);
    free(s);
}

int pd_secrets_next_generation(struct pd_db *db, const struct pd_secrets *s, int64_t *OUT)
{
    char buf[24];
    *OUT = atomic_load(&s->generation) + 1;
    snprintf(buf, sizeof buf, "%lld", (long long)*OUT);
    return pd_db_meta_put(db, META_GENERATION, buf);
}

int pd_secrets_generation_ok(const struct pd_secrets *s, int64_t g)
{
    if (g == atomic_load(&s->generation))
        return 1;
    int n = atomic_load(&s->nlineage);
    for (int i = 0; i < n && i < PD_SECRETS_LINEAGE; i++)
        if (atomic_load(&s->lineage[i]) == g)
            return 1;
    return 0;
}

void pd_secrets_generation_get(const struct pd_secrets *s, struct pd_generation *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->current = atomic_load(&s->generation);
    OUT->n = atomic_load(&s->nlineage);
    if (OUT->n > PD_SECRETS_LINEAGE)
        OUT->n = PD_SECRETS_LINEAGE;
    for (int i = 0; i < OUT->n; i++)
        OUT->lineage[i] = atomic_load(&s->lineage[i]);
}

int pd_secrets_generation_begin(struct pd_db *db, const struct pd_secrets *s,
                                const struct pd_generation *keep, struct pd_generation *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    int rc = pd_secrets_next_generation(db, s, &OUT->current);
    if (rc)
        return rc;
    if (keep) {
        OUT->lineage[OUT->n++] = keep->current;
        for (int i = 0; i < keep->n && OUT->n < PD_SECRETS_LINEAGE; i++)
            OUT->lineage[OUT->n++] = keep->lineage[i];
    }
    char buf[PD_SECRETS_LINEAGE * 24] = "";
    size_t len = 0;
    for (int i = 0; i < OUT->n && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%lld", i ? "," : "",
                                (long long)OUT->lineage[i]);
    return pd_db_meta_put(db, META_LINEAGE, buf);
}

void pd_secrets_generation_publish(struct pd_secrets *s, const struct pd_generation *g)
{
    /* the lineage first: a reader that sees the new current generation sees what it keeps */
    atomic_store(&s->nlineage, 0);
    for (int i = 0; i < g->n && i < PD_SECRETS_LINEAGE; i++)
        atomic_store(&s->lineage[i], g->lineage[i]);
    atomic_store(&s->nlineage, g->n);
    atomic_store(&s->generation, g->current);
}
