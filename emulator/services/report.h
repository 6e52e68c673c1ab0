/*
 * report.h - what a test run proved: the decision report and the least-privilege policy.
 *
 * Reads the decision log since a mark (auth/decisions.h) and, for every IAM identity that
 * made calls, summarises which actions on which resources were allowed by which statement,
 * which were denied and why, which statements of its policies were never used, and writes
 * the least-privilege policy: the actions and resources it was actually allowed, grouped
 * into a valid IAM policy document, with a diff against the policies it has
 * (docs/policies.md#marks-and-reports). Reads the state (the identities' policies) but
 * never changes it.
 */
#ifndef PD_SERVICES_REPORT_H
#define PD_SERVICES_REPORT_H

#include <jansson.h>

struct pd_env;
struct pd_db;

struct pd_report_opts {
    long long since;       /* the mark: decisions after it */
    const char *principal; /* only this identity (role or user ARN) or caller ARN; NULL: all */
    int allow_partial;     /* 1: report even when the log dropped decisions after the mark */
};

/* The report (new reference). PD_OK; PD_ENOTFOUND (*OUT_err says so) when decisions after
 * the mark were dropped from the log and opts->allow_partial is 0; PD_EBUSY / PD_EIO when
 * the state cannot be read. *OUT_err: a message (malloc'd) on error. */
int pd_report_build(struct pd_env *env, struct pd_db *db, const struct pd_report_opts *opts,
                    json_t **OUT, char **OUT_err);

/* The least-privilege policy for a set of needed permissions: pairs is an object whose keys
 * are "ACTION RESOURCE" (one space), as the report collects them. Actions of one service
 * that need the same resources share a statement. Returns a policy document (new
 * reference), or NULL when pairs is empty. Pure; exposed for the unit tests. */
json_t *pd_report_policy(const json_t *pairs);

#endif
