/*
 * sts_internal.h - what the files of the STS service share (sts.c: AssumeRole,
 * AssumeRoleWithWebIdentity, GetCallerIdentity, GetSessionToken and the table;
 * sts_federation.c: GetFederationToken, GetAccessKeyInfo, DecodeAuthorizationMessage;
 * sts_outbound.c: GetWebIdentityToken and the accounts' outbound issuers). Not for other
 * services: they use sts.h.
 */
#ifndef PD_SERVICES_STS_INTERNAL_H
#define PD_SERVICES_STS_INTERNAL_H

#include <jansson.h>

#include "req.h"

struct pd_authz_need;

/* Rough packed size of session policies and tags, as a percentage of what STS allows. */
int pd_sts_packed_percent(const char *policy, json_t *arns, json_t *tags);

/* The request's session policies (Policy compiled now, so a bad one fails here: AWS's
 * MalformedPolicyDocument; PolicyArns as a new array of ARN strings in *OUT_arns). PD_OK or
 * PD_EAWS. */
int pd_sts_session_policies(struct pd_req *r, const char **OUT_policy, json_t **OUT_arns);

/* ---- sts_federation.c ---- */
int pd_sts_get_federation_token(struct pd_req *r);
int pd_sts_get_access_key_info(struct pd_req *r);
int pd_sts_decode_authorization_message(struct pd_req *r);
/* The authz hook's part for GetFederationToken (sts:GetFederationToken, and sts:TagSession
 * with tags, on arn:aws:sts::ACCT:federated-user/NAME). 1 when it was that operation. */
int pd_sts_federation_authz(struct pd_req *r, struct pd_authz_need *need);

/* ---- sts_outbound.c ---- */
int pd_sts_get_web_identity_token(struct pd_req *r);
/* The authz hook's part for GetWebIdentityToken (its condition keys). 1 when it was. */
int pd_sts_outbound_authz(struct pd_req *r, struct pd_authz_need *need);

#endif
