/* fuzz_restxml.c - S3 routing and decoding (headers, query, XML bodies); the target line is
 * "bucket/key?query" as a virtual-host caller would pass it; see fuzz_common.h. */
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pd_log_level = -1;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_http_request rq;
    struct pd_kvs h;
    char *target;
    if (fuzz_request(&a, data, size, &rq, &h, &target)) {
        char *slash = strchr(target, '/');
        if (slash)
            *slash = '\0';
        rq.path = "/";
        rq.bucket = *target ? target : NULL;
        rq.key = slash && slash[1] ? slash + 1 : NULL;
        fuzz_codec(fuzz_spec("s3"), &a, &rq);
    }
    pd_arena_cleanup(&a);
    return 0;
}
