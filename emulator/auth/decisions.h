/*
 * decisions.h - the authorization decision log: the last N decisions with their traces.
 *
 * Every authorization podiam makes (enforce or audit mode) is recorded here as a JSON
 * object with an id ("d-42"); the response carries that id in x-podiam-decision-id and
 * GET /_podiam/decisions[/ID] returns the entries. Bounded: the oldest entries go first,
 * and very large traces are cut. Thread-safe (one mutex).
 */
#ifndef PD_AUTH_DECISIONS_H
#define PD_AUTH_DECISIONS_H

#include <jansson.h>
#include <stddef.h>

struct pd_decisions;

struct pd_decisions *pd_decisions_new(size_t capacity);
void pd_decisions_free(struct pd_decisions *d);

/* Record entry (stolen). An "id" member is set on it; the id is also written to OUT_id. */
void pd_decisions_add(struct pd_decisions *d, json_t *entry, char OUT_id[24]);

/* Filters for a listing; NULL / 0 means "any". */
struct pd_decisions_filter {
    const char *decision;  /* "allowed", "explicitDeny", "implicitDeny", or "denied" (both) */
    const char *action;    /* exact action name, case-insensitive ("s3:GetObject") */
    const char *principal; /* exact caller ARN */
    const char *request_id;
    long long after; /* only ids greater than this number */
    size_t limit;    /* newest first, at most this many (default 100) */
};

/* Matching entries, newest first (new reference: an array). */
json_t *pd_decisions_list(struct pd_decisions *d, const struct pd_decisions_filter *f);
/* One entry by id, or NULL (new reference). */
json_t *pd_decisions_get(struct pd_decisions *d, const char *id);
/* Forget everything (admin reset). */
void pd_decisions_clear(struct pd_decisions *d);

#endif
