/*
 * sts.h - what other services use of STS: minting temporary credentials for a session
 * (AssumeRole* here, eks-auth for pod identity) and its error codes.
 */
#ifndef PD_SERVICES_STS_H
#define PD_SERVICES_STS_H

#include <jansson.h>
#include <stdint.h>

#include "req.h"

#define PD_AWSERR(name, code, status, fault) extern const struct pd_awserr STS_##name;
#include "services/sts_errors.def"
#undef PD_AWSERR

/* Mint credentials for session (its principal fields), carrying extra facts, valid for
 * duration_s. On success *OUT_credentials is the model's Credentials structure (new
 * reference). Returns PD_OK or PD_EAWS (error set on r). */
int pd_sts_mint(struct pd_req *r, const struct pd_principal *session, const json_t *extra,
                int64_t duration_s, json_t **OUT_credentials);

#endif
