/* fuzz_postpolicy.c - POST Object policy documents (services/s3/s3_postpolicy.c): arbitrary
 * JSON text parsed, then checked against a fixed form; no crash, a verdict for every policy
 * that parses, and an expired policy never passes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/kv.h"
#include "services/s3/s3_postpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_s3_postpolicy p;
    char msg[512];
    if (pd_s3_postpolicy_parse((const char *)data, size, &p, msg, sizeof msg) != 0) {
        if (!memchr(msg, '\0', sizeof msg))
            __builtin_trap();
        return 0;
    }
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_kvs f = {0};
    static const char *const fields[][2] = {{"key", "user/eric/photo.jpg"},
                                            {"acl", "public-read"},
                                            {"content-type", "image/jpeg"},
                                            {"x-amz-meta-uuid", "14365123651274"},
                                            {"success_action_status", "201"},
                                            {"policy", "eyJ4Ijox"},
                                            {"x-ignore-me", "1"},
                                            {"content-type", "text/plain"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        pd_kvs_add(&a, &f, fields[i][0], fields[i][1], strlen(fields[i][1]), 1);
    enum pd_s3_pp v = pd_s3_postpolicy_check(&p, &f, "bucket", 1767225600000LL, msg, sizeof msg);
    if (v != PD_S3_PP_OK && !memchr(msg, '\0', sizeof msg))
        __builtin_trap();
    if (pd_s3_postpolicy_check(&p, &f, "bucket", p.expires_ms, msg, sizeof msg) != PD_S3_PP_EXPIRED)
        __builtin_trap();
    pd_s3_postpolicy_free(&p);
    pd_arena_cleanup(&a);
    return 0;
}
