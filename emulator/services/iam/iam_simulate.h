/*
 * iam_simulate.h - the policy simulator for callers outside the IAM API (the console's
 * playground): SimulateCustomPolicy with the engine's traces kept.
 *
 * The IAM operations themselves (SimulateCustomPolicy, SimulatePrincipalPolicy) are in the
 * IAM service's table; this entry point answers the same way and changes no state.
 */
#ifndef PD_SERVICES_IAM_IAM_SIMULATE_H
#define PD_SERVICES_IAM_IAM_SIMULATE_H

#include <jansson.h>

struct pd_req;

/* SimulateCustomPolicy: r->in holds its input members (PolicyInputList, ActionNames,
 * ResourceArns, CallerArn, ResourcePolicy, ContextEntries, ...) and r->who's account is the
 * caller's (the default account when unsigned). PD_OK: r->out holds the operation's output
 * and *OUT_traces (new reference) one {"action", "resource", "trace"} per evaluation, the
 * trace as the decision log shows it. Else PD_EAWS with the wire error set (pd_fail) and
 * *OUT_traces NULL. */
int pd_iam_simulate_traced(struct pd_req *r, json_t **OUT_traces);

#endif
