/* arn.c - ARN parsing (see arn.h). */
#include "arn.h"

#include <string.h>

#include "arena.h"
#include "err.h"

int pd_arn_parse(struct pd_arena *a, const char *s, struct pd_arn *OUT)
{
    if (strncmp(s, "arn:", 4) != 0)
        return PD_EINVAL;
    const char *f[5];
    size_t len[5];
    const char *p = s + 4;
    for (int i = 0; i < 4; i++) {
        const char *c = strchr(p, ':');
        if (!c)
            return PD_EINVAL;
        f[i] = p;
        len[i] = (size_t)(c - p);
        p = c + 1;
    }
    f[4] = p;
    len[4] = strlen(p);
    OUT->partition = pd_arena_strndup(a, f[0], len[0]);
    OUT->service = pd_arena_strndup(a, f[1], len[1]);
    OUT->region = pd_arena_strndup(a, f[2], len[2]);
    OUT->account = pd_arena_strndup(a, f[3], len[3]);
    OUT->resource = pd_arena_strndup(a, f[4], len[4]);
    if (!*OUT->partition || !*OUT->service)
        return PD_EINVAL;
    return PD_OK;
}

int pd_arn_resource_split(struct pd_arena *a, const char *resource, const char **OUT_type,
                          const char **OUT_path, const char **OUT_name)
{
    const char *slash = strchr(resource, '/');
    if (!slash)
        return PD_EINVAL;
    const char *last = strrchr(resource, '/');
    if (OUT_type)
        *OUT_type = pd_arena_strndup(a, resource, (size_t)(slash - resource));
    if (OUT_path)
        *OUT_path = pd_arena_strndup(a, slash, (size_t)(last - slash) + 1);
    if (OUT_name)
        *OUT_name = pd_arena_strdup(a, last + 1);
    return PD_OK;
}
