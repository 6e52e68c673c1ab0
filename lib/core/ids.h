/*
 * ids.h - identifiers, keys and request ids from one seedable generator.
 *
 * With a seed (--seed N) the sequence is reproducible, so fixtures and tests get the same
 * AIDA/AROA/AKIA values run after run; without one it is seeded from the kernel. This is a
 * statistical generator (xoshiro256**), not a cryptographic one: secrets that protect
 * anything (session-token keys, private keys) come from crypto/, never from here.
 * Thread-safe (one mutex).
 */
#ifndef PD_CORE_IDS_H
#define PD_CORE_IDS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct pd_ids {
    pthread_mutex_t mu;
    uint64_t s[4];
};

/* seeded = 0: seed from getrandom(). */
void pd_ids_init(struct pd_ids *g, int seeded, uint64_t seed);
void pd_ids_cleanup(struct pd_ids *g);
/* Start the sequence of an initialised generator again from seed (thread-safe): a reset
 * under --seed gives the ids a fresh start gave. */
void pd_ids_reseed(struct pd_ids *g, uint64_t seed);

uint64_t pd_ids_next(struct pd_ids *g);

/* AWS unique id: prefix ("AIDA", "AROA", "AKIA", ...) + upper-case base32 characters up to
 * total length n (21 for entity ids, 20 for access keys). out must hold n + 1 bytes. */
void pd_ids_unique(struct pd_ids *g, const char *prefix, size_t n, char *out);

/* 40-character secret access key (A-Z a-z 0-9 + /). out must hold 41 bytes. */
void pd_ids_secret(struct pd_ids *g, char out[41]);

/* Random UUID v4, lower-case, 36 characters. */
void pd_ids_uuid(struct pd_ids *g, char out[37]);

/* n random lower- or upper-case hex characters. out must hold n + 1 bytes. */
void pd_ids_hex(struct pd_ids *g, size_t n, int upper, char *out);

#endif
