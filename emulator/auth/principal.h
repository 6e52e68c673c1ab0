/*
 * principal.h - who is making a request, as authentication established it.
 *
 * Filled by auth/creds.c from an access key (long-term AKIA key in the store, or an ASIA key
 * whose sealed session token carries the session), read by the policy engine's callers and
 * by handlers (GetCallerIdentity). Strings are arena-owned by the request.
 */
#ifndef PD_AUTH_PRINCIPAL_H
#define PD_AUTH_PRINCIPAL_H

#include <stdint.h>

enum pd_caller_kind {
    PD_CALLER_ANONYMOUS = 0, /* unsigned request */
    PD_CALLER_ROOT,          /* account root user */
    PD_CALLER_USER,          /* IAM user (long-term key or GetSessionToken session) */
    PD_CALLER_ROLE_SESSION,  /* role session (AssumeRole*, web identity) */
    PD_CALLER_FEDERATED,     /* GetFederationToken session */
};

struct pd_principal {
    enum pd_caller_kind kind;
    const char *account_id;    /* 12 digits; NULL when anonymous */
    const char *arn;           /* caller ARN: user ARN, root ARN, assumed-role session ARN */
    const char *user_id;       /* GetCallerIdentity UserId: AIDA…, AROA…:session, account */
    const char *name;          /* user name, role name or federated name */
    const char *path;          /* IAM path of the user or role ("/" by default) */
    const char *unique_id;     /* AIDA… / AROA… (no session suffix) */
    const char *role_arn;      /* assumed role: the role's IAM ARN, path included */
    const char *session_name;  /* assumed role / federated: the session name */
    const char *access_key_id; /* the key that signed the request */
    int temporary;             /* credentials came from STS (ASIA key + session token) */
    int64_t issued_ms;         /* temporary: when the session was issued */
    int64_t expires_ms;        /* temporary: when it expires */
    const char *session_json;  /* temporary: the sealed session record (policies, tags, …) */
};

#endif
