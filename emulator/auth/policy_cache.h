/*
 * policy_cache.h - compiled policies, shared by every request, keyed by their text.
 *
 * A document is compiled when it is written (the service validates it through here) and
 * found again by content whenever a request needs it, so evaluation never re-parses JSON and
 * a new version of a policy is simply a new entry. Entries are reference counted: a request
 * holds what it uses until it releases it, and eviction (when the cache is full) only drops
 * the cache's own reference. Thread-safe (one mutex; lookups are short).
 */
#ifndef PD_AUTH_POLICY_CACHE_H
#define PD_AUTH_POLICY_CACHE_H

#include <stddef.h>

#include "auth/policy.h"

struct pd_policy_cache;
struct pd_cached_policy; /* a held reference */

struct pd_policy_cache *pd_policy_cache_new(size_t max_entries);
void pd_policy_cache_free(struct pd_policy_cache *c);

/* The compiled form of text as kind, compiling it on a miss. On success *OUT holds a
 * reference (release with pd_policy_cache_release) and PD_OK is returned; a malformed
 * document returns PD_EINVAL with IAM's message in errbuf (and *OUT_err pointing there). */
int pd_policy_cache_get(struct pd_policy_cache *c, enum pd_policy_kind kind, const char *text,
                        size_t len, char *errbuf, size_t errlen, struct pd_cached_policy **OUT,
                        const char **OUT_err);
const struct pd_policy *pd_cached_policy_get(const struct pd_cached_policy *h);
void pd_policy_cache_release(struct pd_policy_cache *c, struct pd_cached_policy *h);

/* Statistics: entries, hits, misses. */
void pd_policy_cache_stats(struct pd_policy_cache *c, size_t *OUT_entries, size_t *OUT_hits,
                           size_t *OUT_misses);

#endif
