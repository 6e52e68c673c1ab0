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
/* The newest id handed out (0: none yet). */
long long pd_decisions_last_id(struct pd_decisions *d);
/* Long poll: wait until an id greater than after has been handed out, at most timeout_ms
 * (or until pd_decisions_wake). 1 when there is one, 0 on timeout, -1 without waiting when
 * max_waiters threads wait already (each holds a server thread: the bound keeps the
 * others free for the API). */
int pd_decisions_wait(struct pd_decisions *d, long long after, int timeout_ms, int max_waiters);
/* End every wait now and every later one at once (shutdown: the listeners' threads must
 * not sit in a long poll while the server stops). */
void pd_decisions_wake(struct pd_decisions *d);
/* Forget everything (admin reset). Marks taken before stay meaningful: what they would
 * have listed counts as dropped. */
void pd_decisions_clear(struct pd_decisions *d);

/* ---- marks: "every decision since this point" ----
 * A mark is the newest id handed out so far (0 when none): the decisions after it are those
 * of the calls made after it was taken. The ring drops its oldest entries when full; it
 * remembers the newest id it ever dropped, so a listing since a mark knows whether it is
 * whole. */
long long pd_decisions_mark(struct pd_decisions *d);
size_t pd_decisions_capacity(const struct pd_decisions *d);

struct pd_decisions_since {
    long long through;     /* the listing covers the ids (mark, through] */
    long long dropped_max; /* newest id the ring has dropped (0: none) */
    long long lost;        /* ids after the mark that were dropped (0: the listing is whole) */
    long long oldest_kept; /* oldest id still held (0: the log is empty) */
};

/* The entries after mark, oldest first (new reference: an array), and what the listing
 * covers. An entry being written while this runs (its id handed out, its text not yet in
 * the ring) ends the listing before it: through stops short of it, never skips it. */
json_t *pd_decisions_since(struct pd_decisions *d, long long mark, struct pd_decisions_since *OUT);

#endif
