/* embedded.c - lookup in the generated table of embedded files (see embedded.h). */
#include "embedded.h"

#include <string.h>

const struct pd_embedded *pd_embedded_find(const char *name)
{
    for (const struct pd_embedded *e = pd_embedded; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}
