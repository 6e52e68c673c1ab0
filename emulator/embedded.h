/*
 * embedded.h - files compiled into the binary (service models, schema), generated at build
 * time by embed.cmake. Data is NUL-terminated (len excludes the NUL).
 */
#ifndef PD_EMBEDDED_H
#define PD_EMBEDDED_H

#include <stddef.h>

struct pd_embedded {
    const char *name; /* file name, e.g. "iam.json" */
    const char *data;
    size_t len;
};

extern const struct pd_embedded pd_embedded[]; /* NULL-name terminated */

/* The named file, or NULL. */
const struct pd_embedded *pd_embedded_find(const char *name);

#endif
