/*
 * authorize.h - authorization of one request: the glue between the request, the service's
 * authz hook, the caller's policies and the policy engine.
 *
 * Fills the global condition keys (aws:CurrentTime, aws:SourceIp, aws:SecureTransport, …),
 * asks the service what the operation needs (actions, resources, service keys, resource
 * policy), evaluates every check, records the decision with its trace in the decision log
 * (its id goes into the x-podiam-decision-id response header) and, in enforce mode, refuses
 * a denied request with AWS's AccessDenied message. Knows the request context, so it lives
 * beside dispatch.c rather than in auth/.
 */
#ifndef PD_AUTHORIZE_H
#define PD_AUTHORIZE_H

struct pd_req;
struct pd_env;

/* Make the process-wide pieces (policy cache, decision log). Returns PD_OK. */
int pd_authorize_init(struct pd_env *env);
void pd_authorize_cleanup(struct pd_env *env);

/* Authorize r (service, op and decoded input known, caller authenticated), inside the
 * request's transaction. PD_OK to go on, PD_EAWS when refused (error set). */
int pd_authorize(struct pd_req *r);

/* One more decision for r beyond what its operation needs (S3: s3:DeleteObject for each key
 * of DeleteObjects; s3:ListBucket before telling a caller that a key does not exist): the
 * service's authz hook supplies the context and resource policy, the check is action on
 * resource, and the decision is logged like any other. Returns PD_OK when allowed (or not
 * enforced), PD_EDENIED with the AccessDenied message in *OUT_message (arena), or PD_EAWS
 * (error set by the hook). Sets no wire error for a denial. */
int pd_authorize_check(struct pd_req *r, const char *action, const char *resource,
                       const char **OUT_message);

#endif
