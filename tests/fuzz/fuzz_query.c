/* fuzz_query.c - the query protocol decoder (IAM and STS) on arbitrary form bodies, and the
 * pipeline's look at the Action before authentication (pd_form_find, pd_form_count): it
 * must agree with the full decode of the same form. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/kv.h"

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

    struct pd_kvs all = {0};
    const char *found = NULL;
    int frc = pd_form_find(&a, (const char *)data, size, "Action", 1, &found);
    if (pd_kvs_parse_form(&a, &all, (const char *)data, size, 1) == PD_OK) {
        if (pd_form_count((const char *)data, size) != all.n)
            abort(); /* the count before decoding is what decoding adds */
        const char *first = pd_kvs_get(&all, "Action", 0);
        if (frc != PD_OK || (first == NULL) != (found == NULL) ||
            (first && strcmp(first, found) != 0))
            abort(); /* the peek finds the Action the decoder finds */
    }
    pd_arena_cleanup(&a);
    return 0;
}
