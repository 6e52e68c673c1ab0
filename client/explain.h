/*
 * explain.h - podiam's decision log as a person reads it: one entry of /_podiam/decisions
 * (IAM, S3 and STS checks, or a request to a cluster's Kubernetes API) rendered as indented
 * text, with a one-sentence summary of why it was allowed or refused. `podiamctl explain`
 * prints it; `podiamctl k8s-access` uses the same rendering for its steps.
 *
 * Pure over the JSON it is given: no I/O. Text goes to a caller's buffer, summaries to an
 * arena.
 */
#ifndef PDC_EXPLAIN_H
#define PDC_EXPLAIN_H

#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"

/* Append decision d to out, each line prefixed with indent. Returns the summary (arena):
 * what decided and why, or, for a refusal, what was looked at and why nothing allowed it. */
const char *pdc_explain_decision(struct pd_arena *a, struct pd_buf *out, const json_t *d,
                                 const char *indent);

/* Only the part of a Kubernetes decision that says who the caller is: the IAM identity, the
 * user, how EKS mapped it (the creator, which access entry and its access policies, which
 * aws-auth line) and every step of the mapping (aws-auth lines EKS ignores among them). */
void pdc_explain_k8s_identity(struct pd_buf *out, const json_t *d, const char *indent);

/* Only the checks of a decision (each authorization and what each authorizer said). */
void pdc_explain_checks(struct pd_arena *a, struct pd_buf *out, const json_t *d,
                        const char *indent);

#endif
