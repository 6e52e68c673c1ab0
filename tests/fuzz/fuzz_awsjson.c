/* fuzz_awsjson.c - awsJson routing and decoding (Organizations: X-Amz-Target, JSON body), and
 * the encoders fed the decoded input; see fuzz_common.h. */
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
        rq.path = target;
        fuzz_codec(fuzz_spec("organizations"), &a, &rq);
    }
    pd_arena_cleanup(&a);
    return 0;
}
