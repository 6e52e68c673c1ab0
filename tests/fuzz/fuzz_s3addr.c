/*
 * fuzz_s3addr.c - libFuzzer target: S3 addressing and the header values S3 parses itself.
 * The input is "HOST\nPATH\nCOPY-SOURCE\nRANGE-OR-DATE": the Host header and raw path go
 * through pd_dispatch_s3_address (virtual-host and path style), the third line through
 * pd_s3_parse_copy_source (x-amz-copy-source), every bucket name found through the
 * bucket-name validator, the fourth line through pd_s3_parse_range (against a few object
 * sizes) and the date parsers (If-Modified-Since & co., X-Amz-Date, ISO 8601). Checks what
 * callers rely on: a bucket, when found, is not empty; a parsed copy source has a non-empty
 * bucket and key; a satisfiable range lies inside the object.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "dispatch.h"
#include "services/s3/s3_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_arena a;
    pd_arena_init(&a);
    char *s = pd_arena_strndup(&a, (const char *)data, size); /* stops at a NUL, as HTTP */
    char *path = strchr(s, '\n');
    char *copy = NULL, *range = NULL;
    if (path) {
        *path++ = '\0';
        copy = strchr(path, '\n');
        if (copy) {
            *copy++ = '\0';
            range = strchr(copy, '\n');
            if (range)
                *range++ = '\0';
        }
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
    const char *h = range ? range : s;
    static const int64_t sizes[] = {0, 1, 100, (int64_t)5 << 40};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        int64_t first = -1, last = -1;
        if (pd_s3_parse_range(h, sizes[i], &first, &last) == PD_OK &&
            (first < 0 || last < first || last >= sizes[i]))
            abort();
    }
    int64_t ms;
    (void)pd_time_parse_http(h, &ms);
    (void)pd_time_parse_amz(h, &ms);
    (void)pd_time_parse_iso8601(h, &ms);
    pd_arena_cleanup(&a);
    return 0;
}
