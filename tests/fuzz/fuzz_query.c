/* fuzz_query.c - the query protocol decoder (IAM and STS) on arbitrary form bodies. */
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pd_log_level = -1;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_kvs h = {0};
    pd_kvs_add(&a, &h, "content-type", "application/x-www-form-urlencoded", 33, 1);
    struct pd_http_request rq = {"POST", "/", NULL, &h, (const char *)data, size, NULL, NULL};
    fuzz_codec(fuzz_spec(size && (data[0] & 1) ? "sts" : "iam"), &a, &rq);
    pd_arena_cleanup(&a);
    return 0;
}
