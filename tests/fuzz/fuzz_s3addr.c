/*
 * fuzz_s3addr.c - libFuzzer target: S3 addressing from client bytes. The input is
 * "HOST\nPATH\nCOPY-SOURCE": the Host header and raw path go through
 * pd_dispatch_s3_address (virtual-host and path style), the third line through
 * pd_s3_parse_copy_source (x-amz-copy-source), and every bucket name found through the
 * bucket-name validator. Checks what callers rely on: a bucket, when found, is not empty;
 * a parsed copy source has a non-empty bucket and key without NUL bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "dispatch.h"
#include "services/s3_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_arena a;
    pd_arena_init(&a);
    char *s = pd_arena_strndup(&a, (const char *)data, size); /* stops at a NUL, as HTTP */
    char *path = strchr(s, '\n');
    char *copy = NULL;
    if (path) {
        *path++ = '\0';
        copy = strchr(path, '\n');
        if (copy)
            *copy++ = '\0';
    }
    const char *bucket, *key;
    if (pd_dispatch_s3_address(&a, *s ? s : NULL, path ? path : "/", &bucket, &key) == PD_OK &&
        bucket) {
        if (!*bucket)
            abort();
        (void)s3_bucket_name_valid(bucket);
    }
    const char *version;
    if (pd_s3_parse_copy_source(&a, copy ? copy : s, &bucket, &key, &version) == PD_OK) {
        if (!*bucket || !*key)
            abort();
        (void)s3_bucket_name_valid(bucket);
    }
    pd_arena_cleanup(&a);
    return 0;
}
