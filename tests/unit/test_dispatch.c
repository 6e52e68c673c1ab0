/* test_dispatch.c - unit tests for emulator/dispatch.c: S3 addressing (which bucket and key a
 * Host and path name: virtual-hosted under localhost and amazonaws.com, or path style). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "dispatch.h"

struct addr_case {
    const char *host, *path, *bucket, *key; /* bucket/key NULL: none */
};

static void s3_addressing(void **state)
{
    (void)state;
    static const struct addr_case cases[] = {
        /* virtual-hosted: the walkthrough's bucket starts with "s3-" (it was taken for the
         * legacy s3-REGION endpoint and routed path style: PutObject became CreateBucket) */
        {"s3-echoer-demo.s3.amazonaws.com", "/hello.txt", "s3-echoer-demo", "hello.txt"},
        {"s3-echoer-demo.s3.us-east-1.amazonaws.com", "/a/b%20c", "s3-echoer-demo", "a/b c"},
        {"S3-Echoer-Demo.S3.AMAZONAWS.COM:443", "/k", "s3-echoer-demo", "k"},
        {"bucket.s3.amazonaws.com", "/", "bucket", NULL},
        {"bucket.s3.dualstack.us-east-1.amazonaws.com", "/k", "bucket", "k"},
        {"my.dotted.bucket.s3.eu-west-1.amazonaws.com", "/k", "my.dotted.bucket", "k"},
        {"b.s3.localhost:4566", "/k", "b", "k"},
        {"b.localhost", "/k", "b", "k"},
        /* path style: the service's own hosts, legacy forms included, and addresses */
        {"s3.amazonaws.com", "/b/k", "b", "k"},
        {"s3.us-east-1.amazonaws.com", "/b/k/l", "b", "k/l"},
        {"s3-external-1.amazonaws.com", "/b/k", "b", "k"},
        {"s3-us-west-2.amazonaws.com", "/b", "b", NULL},
        {"s3.localhost", "/b/k", "b", "k"},
        {"localhost:4566", "/b/k", "b", "k"},
        {"127.0.0.1:4566", "/b/k", "b", "k"},
        {"[::1]:4566", "/b", "b", NULL},
        {NULL, "/b/k", "b", "k"},
        {"127.0.0.1", "/", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct addr_case *c = &cases[i];
        struct pd_arena a;
        pd_arena_init(&a);
        const char *bucket = "unset", *key = "unset";
        assert_int_equal(pd_dispatch_s3_address(&a, c->host, c->path, &bucket, &key), PD_OK);
        if (c->bucket)
            assert_non_null(bucket);
        if (c->bucket && strcmp(bucket, c->bucket) != 0)
            fail_msg("%s %s: bucket %s, want %s", c->host, c->path, bucket, c->bucket);
        if (!c->bucket && bucket)
            fail_msg("%s %s: bucket %s, want none", c->host, c->path, bucket);
        if (c->key && (!key || strcmp(key, c->key) != 0))
            fail_msg("%s %s: key %s, want %s", c->host, c->path, key ? key : "(none)", c->key);
        if (!c->key && key)
            fail_msg("%s %s: key %s, want none", c->host, c->path, key);
        pd_arena_cleanup(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(s3_addressing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
