/*
 * authn.h - authenticating one SigV4-signed (or S3 SigV2-signed) request: the precheck, the access
 * key lookup and the signature check, in AWS's order. The request pipeline (dispatch.c) uses it for
 * every signed AWS call; the Kubernetes API uses it to verify `aws eks get-token` tokens
 * (a presigned sts:GetCallerIdentity URL replayed locally), so both accept and refuse the
 * same credentials. Pure of HTTP: the caller describes the request as SigV4 sees it.
 */
#ifndef PD_AUTH_AUTHN_H
#define PD_AUTH_AUTHN_H

#include "auth/creds.h"
#include "auth/principal.h"
#include "sigv4/sigv2.h"
#include "sigv4/sigv4.h"

struct pd_db;
struct pd_arena;
struct pd_secrets;

/*
 * Precheck (scope, date, skew window / presigned lifetime) at o->now_ms (the client's clock:
 * pd_clock_wall_ms), resolve the access key (and session token) at creds_now_ms (podiam's
 * clock, which the admin API may have moved: sessions expire by it), verify the signature
 * with its secret. On PD_OK *OUT_who is
 * the principal (arena strings) and *OUT_secret the secret key (arena; for chained chunk
 * signatures), which may be NULL. On failure *OUT_who is zeroed and either *OUT_why names a
 * credentials failure (PD_ESIG, unknown key / bad or expired token; *OUT_res has no code) or
 * *OUT_why is PD_CREDS_OK and *OUT_res holds AWS's error (PD_EINVAL / PD_ESIG). PD_EIO when
 * the key lookup itself failed.
 */
int pd_authn_sigv4(struct pd_db *db, const struct pd_secrets *sec, struct pd_arena *a,
                   const struct pd_sigv4_auth *auth, const struct pd_sigv4_request *sreq,
                   const struct pd_sigv4_verify_opts *o, int64_t creds_now_ms,
                   struct pd_principal *OUT_who, const char **OUT_secret,
                   enum pd_creds_fail *OUT_why, struct pd_sigv4_result *OUT_res);

/*
 * The same for an S3 request signed with Signature Version 2 (sigv2.h): the precheck (the
 * Date within 15 minutes of o->now_ms, the client's clock; a query's Expires against
 * o->expires_ms, podiam's clock), the access key and session token at creds_now_ms, then
 * the signature. Results and failures as pd_authn_sigv4.
 */
int pd_authn_sigv2(struct pd_db *db, const struct pd_secrets *sec, struct pd_arena *a,
                   const struct pd_sigv2_auth *auth, const struct pd_sigv2_request *sreq,
                   const struct pd_sigv2_verify_opts *o, int64_t creds_now_ms,
                   struct pd_principal *OUT_who, enum pd_creds_fail *OUT_why,
                   struct pd_sigv4_result *OUT_res);

#endif
