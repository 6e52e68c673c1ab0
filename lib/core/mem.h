/*
 * mem.h - allocation that never returns NULL.
 *
 * Out of memory aborts the process: a test double gains nothing from degrading, and every
 * caller is spared an untested branch. Depends on libc only.
 */
#ifndef PD_CORE_MEM_H
#define PD_CORE_MEM_H

#include <stddef.h>

void *pd_xmalloc(size_t n);
void *pd_xcalloc(size_t n, size_t size);
void *pd_xrealloc(void *p, size_t n);
char *pd_xstrdup(const char *s);
char *pd_xstrndup(const char *s, size_t n);

#endif
