/*
 * authz_message.h - encoded authorization failure messages, the blob AWS puts in some
 * denials ("Encoded authorization failure message: …") and that sts:DecodeAuthorizationMessage
 * turns back into JSON for a principal allowed to read it.
 *
 * Owns the decoded message's shape (AWS's: allowed, explicitDeny, matchedStatements,
 * failures, context{principal, action, resource, conditions}, every list wrapped in
 * {"items": [...]}) and its wire form: the document and the account it belongs to, sealed
 * under a key derived from the server's session key (so only this podiam can open it, and
 * no one can forge or alter one), base64url without padding, at most
 * PD_AUTHZ_MESSAGE_MAX characters (the model's bound on EncodedMessage): conditions, then
 * matched statements, are dropped from a document too large to fit. Pure of requests and
 * of the store. Must not: log documents (they name principals and condition values).
 */
#ifndef PD_AUTH_AUTHZ_MESSAGE_H
#define PD_AUTH_AUTHZ_MESSAGE_H

#include <jansson.h>
#include <stddef.h>

#include "auth/policy.h"

struct pd_arena;
struct pd_secrets;

#define PD_AUTHZ_MESSAGE_MAX 10240

/* What a denial was about, for its decoded message. Borrowed strings. */
struct pd_authz_message_in {
    enum pd_decision decision;
    const char *principal_id;   /* aws:userid (AIDA…, AROA…:session, account) or NULL */
    const char *principal_name; /* IAM user name (users only), or NULL */
    const char *principal_arn;  /* caller ARN, or NULL (anonymous) */
    const char *action;
    const char *resource;
    const struct pd_matched_stmt *matched; /* statements that applied (may be NULL) */
    size_t nmatched;
    const json_t *context; /* pd_ctx_to_json: key -> string or array of strings */
};

/* The decoded message document (new reference). */
json_t *pd_authz_message_doc(const struct pd_authz_message_in *in);

/* Seal doc for account; *OUT (arena) is the encoded message, never longer than
 * PD_AUTHZ_MESSAGE_MAX (doc is trimmed on a copy as the header says). PD_OK or PD_EINTERNAL. */
int pd_authz_message_encode(const struct pd_secrets *sec, struct pd_arena *a, const char *account,
                            const json_t *doc, const char **OUT);

/* Open an encoded message: *OUT_account (the account whose request was denied) and
 * *OUT_doc (the document as compact JSON text), both arena-owned. PD_OK, or PD_EINVAL for
 * anything this podiam did not make (malformed, altered, made by another state's keys). */
int pd_authz_message_decode(const struct pd_secrets *sec, struct pd_arena *a, const char *text,
                            size_t len, const char **OUT_account, const char **OUT_doc);

#endif
