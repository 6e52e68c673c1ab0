/* test_awshost.c - the AWS endpoint host grammar (core/awshost.c) and the S3 addressing that
 * rests on it (pd_dispatch_s3_address): which host names are STS, IAM, EKS, S3 and OIDC
 * endpoints, which regions look like regions, and where a virtual-hosted bucket ends,
 * including buckets whose names start with "s3-" or "s3.". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/arena.h"
#include "core/awshost.h"
#include "core/err.h"
#include "dispatch.h"

/* ---- the grammar ---- */

struct host_case {
    const char *host;
    enum pd_awshost_svc svc;
    const char *bucket; /* NULL: none */
    const char *region; /* NULL: none (global) */
    int fips, dualstack;
};

static void awshost_names(void **state)
{
    static const struct host_case cases[] = {
        {"sts.amazonaws.com", PD_AWSHOST_STS, NULL, NULL, 0, 0},
        {"sts.us-east-1.amazonaws.com", PD_AWSHOST_STS, NULL, "us-east-1", 0, 0},
        {"STS.EU-West-3.AMAZONAWS.COM", PD_AWSHOST_STS, NULL, "eu-west-3", 0, 0},
        {"sts-fips.us-east-2.amazonaws.com", PD_AWSHOST_STS, NULL, "us-east-2", 1, 0},
        {"iam.amazonaws.com", PD_AWSHOST_IAM, NULL, NULL, 0, 0},
        {"iam-fips.amazonaws.com", PD_AWSHOST_IAM, NULL, NULL, 1, 0},
        {"eks.ap-southeast-5.amazonaws.com", PD_AWSHOST_EKS, NULL, "ap-southeast-5", 0, 0},
        {"eks-fips.us-gov-west-1.amazonaws.com", PD_AWSHOST_EKS, NULL, "us-gov-west-1", 1, 0},
        {"eks-auth.us-east-1.api.aws", PD_AWSHOST_EKS_AUTH, NULL, "us-east-1", 0, 0},
        {"organizations.us-east-1.amazonaws.com", PD_AWSHOST_ORGANIZATIONS, NULL, "us-east-1", 0,
         0},
        {"oidc.eks.us-east-1.amazonaws.com", PD_AWSHOST_OIDC, NULL, "us-east-1", 0, 0},
        {"oidc.eks.us-isob-east-1.amazonaws.com", PD_AWSHOST_OIDC, NULL, "us-isob-east-1", 0, 0},
        {"s3.amazonaws.com", PD_AWSHOST_S3, NULL, NULL, 0, 0},
        {"s3-external-1.amazonaws.com", PD_AWSHOST_S3, NULL, NULL, 0, 0},
        {"s3.us-west-2.amazonaws.com", PD_AWSHOST_S3, NULL, "us-west-2", 0, 0},
        {"s3-us-west-2.amazonaws.com", PD_AWSHOST_S3, NULL, "us-west-2", 0, 0},
        {"s3.dualstack.us-west-2.amazonaws.com", PD_AWSHOST_S3, NULL, "us-west-2", 0, 1},
        {"s3-fips.us-west-2.amazonaws.com", PD_AWSHOST_S3, NULL, "us-west-2", 1, 0},
        {"s3-fips.dualstack.us-west-2.amazonaws.com", PD_AWSHOST_S3, NULL, "us-west-2", 1, 1},
        {"b1.s3.amazonaws.com", PD_AWSHOST_S3, "b1", NULL, 0, 0},
        {"s3-echoer-demo.s3.amazonaws.com", PD_AWSHOST_S3, "s3-echoer-demo", NULL, 0, 0},
        {"s3-echoer-demo.s3-us-west-2.amazonaws.com", PD_AWSHOST_S3, "s3-echoer-demo", "us-west-2",
         0, 0},
        {"a.b.c.s3.eu-central-2.amazonaws.com", PD_AWSHOST_S3, "a.b.c", "eu-central-2", 0, 0},
        {"b.s3-fips.dualstack.us-east-1.amazonaws.com", PD_AWSHOST_S3, "b", "us-east-1", 1, 1},
        {"sts.s3.amazonaws.com", PD_AWSHOST_S3, "sts", NULL, 0, 0},
        {"s3.s3.amazonaws.com", PD_AWSHOST_S3, "s3", NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct host_case *c = &cases[i];
        struct pd_awshost h;
        enum pd_awshost_svc svc = pd_awshost_parse(c->host, strlen(c->host), &h);
        char lower[PD_AWSHOST_MAX + 1];
        size_t n = strlen(c->host);
        for (size_t j = 0; j <= n; j++)
            lower[j] =
                (char)(c->host[j] >= 'A' && c->host[j] <= 'Z' ? c->host[j] + 32 : c->host[j]);
        if (svc != c->svc || h.svc != svc)
            fail_msg("%s: service %d, want %d", c->host, svc, c->svc);
        size_t bl = c->bucket ? strlen(c->bucket) : 0;
        if (h.bucket_len != bl || (bl && memcmp(c->host, c->bucket, bl)))
            fail_msg("%s: bucket length %zu, want %s", c->host, h.bucket_len,
                     c->bucket ? c->bucket : "none");
        size_t rl = c->region ? strlen(c->region) : 0;
        if (h.region_len != rl || (rl && memcmp(lower + h.region_off, c->region, rl)))
            fail_msg("%s: region %.*s, want %s", c->host, (int)h.region_len, lower + h.region_off,
                     c->region ? c->region : "none");
        if (h.fips != c->fips || h.dualstack != c->dualstack)
            fail_msg("%s: fips %d dualstack %d", c->host, h.fips, h.dualstack);
    }
}

static void awshost_not_served(void **state)
{
    static const char *const no[] = {
        "example.com",
        "amazonaws.com",
        "com",
        "",
        "s3-echoer-demo.amazonaws.com", /* "echoer-demo" is no region */
        "s3-external-2.amazonaws.com",
        "sts.anything.amazonaws.com",
        "sts.us-east.amazonaws.com",     /* no number */
        "sts.useast-1.amazonaws.com",    /* first word must be two letters */
        "sts.us-east-123.amazonaws.com", /* at most two digits */
        "sts.us--east-1.amazonaws.com",
        "sts.us-east-1-.amazonaws.com",
        "sts.u1-east-1.amazonaws.com",
        "sts.us-a-b-c-d-1.amazonaws.com",           /* at most three words between */
        "sts.us-abcdefghijklmnopq-1.amazonaws.com", /* words up to 16 letters */
        "iam.us-east-1.amazonaws.com",
        "eks.amazonaws.com",
        "eks-auth.amazonaws.com",
        "eks-auth.us-east-1.amazonaws.com",
        "sts.us-east-1.api.aws",
        "oidc.eks.amazonaws.com",
        "oidc.eks.us-east-1.amazonaws.com.evil.com",
        "s3.amazonaws.com.evil.com",
        "evil.com.s3.amazonaws.com.", /* trailing dot */
        ".s3.amazonaws.com",
        "a..s3.amazonaws.com",
        "a_b.s3.amazonaws.com",
        "a b.s3.amazonaws.com",
        "s3.dualstack.amazonaws.com",
        "s3.fips.us-east-1.amazonaws.com",
        "s3-fips.amazonaws.com",
        "b.s3.us-east-1.amazonaws.com:443",
        "127.0.0.1",
        "localhost",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        struct pd_awshost h;
        h.svc = PD_AWSHOST_S3;
        h.bucket_len = 7;
        if (pd_awshost_parse(no[i], strlen(no[i]), &h) != PD_AWSHOST_NONE)
            fail_msg("%s was taken for an AWS endpoint (service %d)", no[i], h.svc);
        assert_int_equal(h.svc, PD_AWSHOST_NONE);
        assert_int_equal(h.bucket_len, 0);
    }
    /* a label over 63 bytes, a name over 253 */
    char big[400];
    memset(big, 'a', 64);
    strcpy(big + 64, ".s3.amazonaws.com");
    assert_int_equal(pd_awshost_parse(big, strlen(big), NULL), PD_AWSHOST_NONE);
    strcpy(big + 63, ".s3.amazonaws.com");
    assert_int_equal(pd_awshost_parse(big, strlen(big), NULL), PD_AWSHOST_S3);
    for (size_t i = 0; i < 240; i += 2) {
        big[i] = 'a';
        big[i + 1] = '.';
    }
    strcpy(big + 240, "s3.amazonaws.com");
    assert_int_equal(pd_awshost_parse(big, strlen(big), NULL), PD_AWSHOST_NONE);
    strcpy(big + 236, "s3.amazonaws.com");
    assert_int_equal(pd_awshost_parse(big, strlen(big), NULL), PD_AWSHOST_S3);
    /* only the first n bytes count */
    assert_int_equal(pd_awshost_parse("sts.amazonaws.comXYZ", 17, NULL), PD_AWSHOST_STS);
}

static void awshost_regions(void **state)
{
    static const char *const yes[] = {"us-east-1",      "us-gov-west-1", "ap-southeast-5",
                                      "us-isob-east-1", "il-central-1",  "eu-isoe-west-1",
                                      "cn-north-1",     "mx-central-1",  "xx-yy-99"};
    static const char *const no[] = {
        "",         "us",   "us-east",     "us-east-1a",   "US-EAST-1",  "us_east_1", "1-east-1",
        "u-east-1", "us-1", "us-east-001", "us-a-b-c-d-1", "-us-east-1", "us-east-",  "external-1"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!pd_awshost_region_ok(yes[i], strlen(yes[i])))
            fail_msg("%s is a region", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (pd_awshost_region_ok(no[i], strlen(no[i])))
            fail_msg("%s is no region", no[i]);
}

/* ---- S3 addressing (pd_dispatch_s3_address) ---- */

struct addr_case {
    const char *host, *path;
    const char *bucket, *key; /* NULL: none */
};

static void check_addr(const struct addr_case *c)
{
    struct pd_arena a;
    pd_arena_init(&a);
    const char *bucket = (const char *)1, *key = (const char *)1;
    int rc = pd_dispatch_s3_address(&a, c->host, c->path, &bucket, &key);
    if (rc != PD_OK || (c->bucket ? !bucket || strcmp(bucket, c->bucket) : bucket != NULL) ||
        (c->key ? !key || strcmp(key, c->key) : key != NULL))
        fail_msg("host %s path %s: rc %d bucket %s key %s; want bucket %s key %s",
                 c->host ? c->host : "(none)", c->path, rc, bucket ? bucket : "(none)",
                 key ? key : "(none)", c->bucket ? c->bucket : "(none)",
                 c->key ? c->key : "(none)");
    pd_arena_cleanup(&a);
}

static void s3_address_virtual_hosted_aws(void **state)
{
    static const struct addr_case cases[] = {
        /* the walkthrough's bucket: its name starts with "s3-" */
        {"s3-echoer-demo.s3.amazonaws.com", "/hello.txt", "s3-echoer-demo", "hello.txt"},
        {"s3-echoer-demo.s3.us-west-2.amazonaws.com", "/a/b", "s3-echoer-demo", "a/b"},
        {"s3-echoer-demo.s3-us-west-2.amazonaws.com", "/k", "s3-echoer-demo", "k"},
        {"s3.bucket.s3.amazonaws.com", "/k", "s3.bucket", "k"},
        {"s3-x.s3.amazonaws.com:443", "/", "s3-x", NULL},
        {"S3-Echoer-Demo.S3.AmazonAWS.com", "/Key", "s3-echoer-demo", "Key"},
        {"mybucket.s3.amazonaws.com", "/", "mybucket", NULL},
        {"mybucket.s3.us-east-1.amazonaws.com", "/x%20y", "mybucket", "x y"},
        {"mybucket.s3-us-west-2.amazonaws.com", "/k", "mybucket", "k"},
        {"mybucket.s3-external-1.amazonaws.com", "/k", "mybucket", "k"},
        {"mybucket.s3.dualstack.eu-west-1.amazonaws.com", "/k", "mybucket", "k"},
        {"mybucket.s3-fips.us-gov-west-1.amazonaws.com", "/k", "mybucket", "k"},
        {"mybucket.s3-fips.dualstack.us-east-2.amazonaws.com", "/k", "mybucket", "k"},
        {"my.dotted.bucket.s3.amazonaws.com", "/k", "my.dotted.bucket", "k"},
        /* path style on every S3 endpoint form */
        {"s3.amazonaws.com", "/b/k", "b", "k"},
        {"s3.us-east-1.amazonaws.com", "/s3-echoer-demo/k", "s3-echoer-demo", "k"},
        {"s3-us-west-2.amazonaws.com", "/b/k", "b", "k"},
        {"s3-external-1.amazonaws.com", "/b", "b", NULL},
        {"s3.dualstack.us-east-1.amazonaws.com", "/b/k", "b", "k"},
        {"s3-fips.us-east-1.amazonaws.com", "/b/k", "b", "k"},
        {"s3-fips.dualstack.us-east-1.amazonaws.com", "/b/k", "b", "k"},
        /* not S3 endpoints: path style */
        {"s3-echoer-demo.amazonaws.com", "/b/k", "b", "k"},
        {"sts.amazonaws.com", "/b/k", "b", "k"},
        {"127.0.0.1:4566", "/b/k", "b", "k"},
        {"[::1]:4566", "/b/k", "b", "k"},
        {NULL, "/b/k", "b", "k"},
        {NULL, "/", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_addr(&cases[i]);
}

static void s3_address_localhost(void **state)
{
    static const struct addr_case cases[] = {
        {"mybucket.s3.localhost:4566", "/k", "mybucket", "k"},
        {"s3-echoer-demo.s3.localhost:4566", "/k", "s3-echoer-demo", "k"},
        {"s3.dotted.s3.localhost", "/k", "s3.dotted", "k"},
        {"mybucket.localhost", "/k", "mybucket", "k"},
        {"s3.localhost:4566", "/b/k", "b", "k"},
        {"localhost:4566", "/b/k", "b", "k"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_addr(&cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(awshost_names),        cmocka_unit_test(awshost_not_served),
        cmocka_unit_test(awshost_regions),      cmocka_unit_test(s3_address_virtual_hosted_aws),
        cmocka_unit_test(s3_address_localhost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
