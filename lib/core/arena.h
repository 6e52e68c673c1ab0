/*
 * arena.h - per-request memory pool.
 *
 * Everything that dies with a request is allocated here and freed in one call when the
 * request completes; handlers almost never call free(). Allocations are 16-byte aligned and
 * never fail (out of memory aborts). Not thread-safe: one arena belongs to one request.
 */
#ifndef PD_CORE_ARENA_H
#define PD_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct pd_arena_block;

struct pd_arena {
    struct pd_arena_block *head; /* newest block first */
    size_t used;                 /* bytes used in head */
    size_t total;                /* bytes handed out, for statistics */
};

void pd_arena_init(struct pd_arena *a);
void pd_arena_cleanup(struct pd_arena *a); /* frees every allocation */

void *pd_arena_alloc(struct pd_arena *a, size_t n);  /* uninitialised */
void *pd_arena_zalloc(struct pd_arena *a, size_t n); /* zeroed */
/* An arena array p of n elements of size bytes with capacity *cap, grown (doubling, the
 * old elements copied) when it cannot take one more. Returns the array to use. */
void *pd_arena_grow(struct pd_arena *a, void *p, size_t n, size_t *cap, size_t size);
char *pd_arena_strdup(struct pd_arena *a, const char *s);
char *pd_arena_strndup(struct pd_arena *a, const char *s, size_t n);
char *pd_arena_printf(struct pd_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *pd_arena_vprintf(struct pd_arena *a, const char *fmt, va_list ap);

#endif
