/*
 * statelock.h - the state's one reader-writer lock: requests against a whole-state change.
 *
 * Every request holds it for reading while it is dispatched (authentication, authorization,
 * its transactions); a reset or a snapshot restore holds it for writing, so a request sees
 * the state before or after, never a part of each, and a restore never waits for more than
 * the requests in flight (writers are preferred: new requests queue behind it). What
 * outlives dispatch (a response streamed from a file, an upload's body) holds no lock; an
 * upload whose headers were authorized before a restore is refused at its end (epoch).
 * A zeroed struct (unit tests that build an environment by hand) locks nothing.
 */
#ifndef PD_STATELOCK_H
#define PD_STATELOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct pd_statelock {
    pthread_rwlock_t rw;
    int ready;              /* 0: not initialised, every call does nothing */
    _Atomic uint64_t epoch; /* whole-state changes so far (resets, restores) */
};

void pd_statelock_init(struct pd_statelock *l);
void pd_statelock_cleanup(struct pd_statelock *l);
/* A request: around its dispatch. Never taken twice by one thread. */
void pd_statelock_read(struct pd_statelock *l);
void pd_statelock_read_done(struct pd_statelock *l);
/* A whole-state change (changed = 1: the state was replaced, and the epoch moves on) or a
 * moment nothing may change (a snapshot being taken: changed = 0). */
void pd_statelock_write(struct pd_statelock *l);
void pd_statelock_write_done(struct pd_statelock *l, int changed);
uint64_t pd_statelock_epoch(struct pd_statelock *l);

#endif
