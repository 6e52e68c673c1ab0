/*
 * stream.c - the wake-up protocol of streamed responses (see stream.h).
 *
 * States, under s->mu:
 *   RUNNING  the server may call read at any time
 *   WOKEN    a wake arrived while RUNNING or PARKING: the next park does not park
 *   PARKING  read had nothing; the server is suspending the connection
 *   PARKED   suspended; a wake moves it to RUNNING and the waker resumes it
 * Only a PARKED stream is resumed, by exactly one waker, so a connection is never resumed
 * twice nor before it was suspended, and a parked connection (hence s) cannot go away before
 * its waker resumes it.
 */
#include "stream.h"

enum { ST_RUNNING, ST_WOKEN, ST_PARKING, ST_PARKED };

void pd_stream_init(struct pd_stream *s)
{
    pthread_mutex_init(&s->mu, NULL);
    s->state = ST_RUNNING;
    atomic_store(&s->closing, 0);
}

void pd_stream_cleanup(struct pd_stream *s)
{
    pthread_mutex_destroy(&s->mu);
}

int pd_stream_park(struct pd_stream *s)
{
    int again = 0;
    pthread_mutex_lock(&s->mu);
    if (s->state == ST_WOKEN) {
        s->state = ST_RUNNING;
        again = 1;
    } else {
        s->state = ST_PARKING;
    }
    pthread_mutex_unlock(&s->mu);
    return again;
}

int pd_stream_parked(struct pd_stream *s)
{
    int resume = 0;
    pthread_mutex_lock(&s->mu);
    if (s->state == ST_WOKEN) {
        s->state = ST_RUNNING;
        resume = 1;
    } else {
        s->state = ST_PARKED;
    }
    pthread_mutex_unlock(&s->mu);
    return resume;
}

int pd_stream_wake(struct pd_stream *s)
{
    int resume = 0;
    pthread_mutex_lock(&s->mu);
    if (s->state == ST_PARKED) {
        s->state = ST_RUNNING;
        resume = 1;
    } else {
        s->state = ST_WOKEN;
    }
    pthread_mutex_unlock(&s->mu);
    return resume;
}

void pd_stream_resume(struct pd_stream *s)
{
    if (s->resume)
        s->resume(s->resume_arg);
}

int pd_stream_is_parked(struct pd_stream *s)
{
    pthread_mutex_lock(&s->mu);
    int p = s->state == ST_PARKED || s->state == ST_PARKING;
    pthread_mutex_unlock(&s->mu);
    return p;
}
