/* statelock.c - the state's reader-writer lock (see statelock.h). */
#include "statelock.h"

#include <string.h>

void pd_statelock_init(struct pd_statelock *l)
{
    memset(l, 0, sizeof *l);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* a restore must not wait behind a stream of new readers */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&l->rw, &attr);
    pthread_rwlockattr_destroy(&attr);
    l->ready = 1;
}

void pd_statelock_cleanup(struct pd_statelock *l)
{
    if (!l->ready)
        return;
    pthread_rwlock_destroy(&l->rw);
    l->ready = 0;
}

void pd_statelock_read(struct pd_statelock *l)
{
    if (l->ready)
        pthread_rwlock_rdlock(&l->rw);
}

void pd_statelock_read_done(struct pd_statelock *l)
{
    if (l->ready)
        pthread_rwlock_unlock(&l->rw);
}

void pd_statelock_write(struct pd_statelock *l)
{
    if (l->ready)
        pthread_rwlock_wrlock(&l->rw);
}

void pd_statelock_write_done(struct pd_statelock *l, int changed)
{
    if (changed)
        atomic_fetch_add(&l->epoch, 1);
    if (l->ready)
        pthread_rwlock_unlock(&l->rw);
}

uint64_t pd_statelock_epoch(struct pd_statelock *l)
{
    return atomic_load(&l->epoch);
}
