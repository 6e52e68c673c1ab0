/*
 * fuzz_arn.c - libFuzzer target: ARN parsing (core/arn), which sees client bytes in RoleArn,
 * PolicyArn, SerialNumber and the like, and in policy Principal and Resource values. The
 * input (up to its first NUL) is parsed and its resource split; checked beyond "no crash":
 * a parsed ARN has every field set and joins back to the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/arn.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_arena a;
    pd_arena_init(&a);
    char *s = pd_arena_strndup(&a, (const char *)data, size);
    struct pd_arn arn;
    if (pd_arn_parse(&a, s, &arn) == PD_OK) {
        if (!arn.partition || !arn.service || !arn.region || !arn.account || !arn.resource)
            abort();
        char *back = pd_arena_printf(&a, "arn:%s:%s:%s:%s:%s", arn.partition, arn.service,
                                     arn.region, arn.account, arn.resource);
        if (strcmp(back, s) != 0)
            abort();
        const char *type, *path, *name;
        (void)pd_arn_resource_split(&a, arn.resource, &type, &path, &name);
    }
    const char *type, *path, *name;
    (void)pd_arn_resource_split(&a, s, &type, &path, &name);
    pd_arena_cleanup(&a);
    return 0;
}
