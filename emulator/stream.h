/*
 * stream.h - a response body made while it is sent (Kubernetes watches, followed logs): the
 * service fills it when the server asks, and wakes the server when it has more.
 *
 * A service embeds struct pd_stream in its own state, sets read and done, and puts it in
 * r->resp.stream. The server calls read whenever the client can take bytes; when read has
 * nothing, the server parks the connection (no thread waits, no polling) until the service
 * calls pd_stream_wake. done is called exactly once, when the server lets go of the stream
 * (sent to the end, client gone, server stopping, or the request freed unsent); the service
 * may free it there. The wake-up protocol (state under mu) lives in stream.c so that server/
 * and the services share it without knowing each other.
 *
 * Must not: block in read (it runs on a server thread); call pd_stream_resume while holding a
 * lock that done or read also take.
 */
#ifndef PD_STREAM_H
#define PD_STREAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define PD_STREAM_END (-1)   /* read: the body is complete */
#define PD_STREAM_ERROR (-2) /* read: abort the response (the connection is closed) */

struct pd_stream {
    /* service: up to max bytes into buf; > 0 bytes written, 0 nothing now, or
     * PD_STREAM_END / PD_STREAM_ERROR. Runs on a server thread, never concurrently with
     * itself. */
    long (*read)(struct pd_stream *s, char *buf, size_t max);
    /* service: the server is done with s (called once; s may be freed here) */
    void (*done)(struct pd_stream *s);
    const char *content_type; /* service: static */

    /* server: how to resume a parked connection (set when the response is made) */
    void (*resume)(void *arg);
    void *resume_arg;
    atomic_int closing; /* server: stopping; read is not asked again, the body ends */

    /* stream.c */
    pthread_mutex_t mu;
    int state;
};

/* Set up the wake-up state (the service calls it when it makes the stream). */
void pd_stream_init(struct pd_stream *s);
/* Release what pd_stream_init made (the service, in done). */
void pd_stream_cleanup(struct pd_stream *s);

/* Server: read returned 0. 1: something arrived meanwhile, read again now; 0: suspend the
 * connection, then call pd_stream_parked. */
int pd_stream_park(struct pd_stream *s);
/* Server: the connection is suspended. 1 when it must be resumed at once (woken while it
 * was being parked), 0 when it now waits for pd_stream_wake. */
int pd_stream_parked(struct pd_stream *s);

/* Service, any thread: read has something new (or should look at the time). 1 when the
 * connection was parked: the caller must call pd_stream_resume(s) once it holds none of its
 * own locks (the connection stays parked, and s alive, until then); 0 otherwise. */
int pd_stream_wake(struct pd_stream *s);
void pd_stream_resume(struct pd_stream *s);

/* Server: is the connection parked now? (for shutting down) */
int pd_stream_is_parked(struct pd_stream *s);

#endif
