/* fuzz_restjson.c - rest-json routing and decoding (EKS, eks-auth); see fuzz_common.h. */
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
        fuzz_codec(fuzz_spec(strstr(target, "assume-role-for-pod") ? "eks-auth" : "eks"), &a, &rq);
    }
    pd_arena_cleanup(&a);
    return 0;
}
