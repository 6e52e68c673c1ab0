/* authn.c - one SigV4 (or S3 SigV2) request authenticated: precheck, key lookup, signature
 * (authn.h). */
#include "auth/authn.h"

#include <string.h>

#include "core/err.h"

int pd_authn_sigv4(struct pd_db *db, const struct pd_secrets *sec, struct pd_arena *a,
                   const struct pd_sigv4_auth *auth, const struct pd_sigv4_request *sreq,
                   const struct pd_sigv4_verify_opts *o, int64_t creds_now_ms,
                   struct pd_principal *OUT_who, const char **OUT_secret,
                   enum pd_creds_fail *OUT_why, struct pd_sigv4_result *OUT_res)
{
    *OUT_why = PD_CREDS_OK;
    memset(OUT_who, 0, sizeof *OUT_who);
    int rc = pd_sigv4_precheck(a, auth, sreq, o, OUT_res);
    if (rc)
        return rc;
    const char *secret = NULL;
    rc = pd_creds_resolve(db, sec, a, auth->akid, auth->security_token, creds_now_ms, OUT_who,
                          &secret, OUT_why);
    if (rc) {
        memset(OUT_who, 0, sizeof *OUT_who);
        if (rc != PD_ESIG) {
            *OUT_why = PD_CREDS_OK;
            return PD_EIO;
        }
        return PD_ESIG;
    }
    rc = pd_sigv4_verify(a, auth, sreq, secret, o, OUT_res);
    if (rc) {
        memset(OUT_who, 0, sizeof *OUT_who);
        return rc;
    }
    if (OUT_secret)
        *OUT_secret = secret;
    return PD_OK;
}

int pd_authn_sigv2(struct pd_db *db, const struct pd_secrets *sec, struct pd_arena *a,
                   const struct pd_sigv2_auth *auth, const struct pd_sigv2_request *sreq,
                   const struct pd_sigv2_verify_opts *o, int64_t creds_now_ms,
                   struct pd_principal *OUT_who, enum pd_creds_fail *OUT_why,
                   struct pd_sigv4_result *OUT_res)
{
    *OUT_why = PD_CREDS_OK;
    memset(OUT_who, 0, sizeof *OUT_who);
    int rc = pd_sigv2_precheck(a, auth, sreq, o, OUT_res);
    if (rc)
        return rc;
    const char *secret = NULL;
    rc = pd_creds_resolve(db, sec, a, auth->akid, auth->security_token, creds_now_ms, OUT_who,
                          &secret, OUT_why);
    if (rc) {
        memset(OUT_who, 0, sizeof *OUT_who);
        if (rc != PD_ESIG) {
            *OUT_why = PD_CREDS_OK;
            return PD_EIO;
        }
        return PD_ESIG;
    }
    rc = pd_sigv2_verify(a, auth, sreq, secret, o, OUT_res);
    if (rc)
        memset(OUT_who, 0, sizeof *OUT_who);
    return rc;
}
