/* arena.c - bump allocator over a list of blocks (see arena.h). */
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define BLOCK_SIZE 8192
#define ALIGN 16

struct pd_arena_block {
    struct pd_arena_block *next;
    size_t size; /* usable bytes in data */
    _Alignas(16) unsigned char data[];
};

void pd_arena_init(struct pd_arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}

void pd_arena_cleanup(struct pd_arena *a)
{
    struct pd_arena_block *b = a->head;
    while (b) {
        struct pd_arena_block *next = b->next;
        free(b);
        b = next;
    }
    pd_arena_init(a);
}

void *pd_arena_alloc(struct pd_arena *a, size_t n)
{
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (n == 0)
        n = ALIGN;
    if (n > BLOCK_SIZE / 4) {
        /* Big allocations get their own block, linked behind the head so the head's free
         * space is not wasted. */
        struct pd_arena_block *b = pd_xmalloc(sizeof *b + n);
        b->size = n;
        if (a->head) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = NULL;
            a->head = b;
            a->used = n;
        }
        a->total += n;
        return b->data;
    }
    if (!a->head || a->head->size - a->used < n) {
        struct pd_arena_block *b = pd_xmalloc(sizeof *b + BLOCK_SIZE);
        b->size = BLOCK_SIZE;
        b->next = a->head;
        a->head = b;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    a->total += n;
    return p;
}

void *pd_arena_zalloc(struct pd_arena *a, size_t n)
{
    void *p = pd_arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

char *pd_arena_strndup(struct pd_arena *a, const char *s, size_t n)
{
    char *p = pd_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *pd_arena_strdup(struct pd_arena *a, const char *s)
{
    return s ? pd_arena_strndup(a, s, strlen(s)) : NULL;
}

char *pd_arena_vprintf(struct pd_arena *a, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        n = 0;
    char *p = pd_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *pd_arena_printf(struct pd_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = pd_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void *pd_arena_grow(struct pd_arena *a, void *p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 8;
    void *q = pd_arena_alloc(a, nc * size);
    if (n)
        memcpy(q, p, n * size);
    *cap = nc;
    return q;
}
