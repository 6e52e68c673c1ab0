/*
 * s3_postpolicy.h - the policy document of an S3 POST Object form: parse it and check a
 * form's fields against it (S3 API reference, "Creating a POST policy"; facts F). Pure:
 * JSON text and field lists in, a verdict and S3's message out; fuzzed by
 * tests/fuzz/fuzz_postpolicy.c.
 *
 * A policy is {"expiration": ISO 8601, "conditions": [...]}, both required (names are case
 * sensitive). A condition is {"field": "value"} (exact match), ["eq", "$field", "value"],
 * ["starts-with", "$field", "prefix"] ("" matches anything) or
 * ["content-length-range", min, max]; operators and field names are case-insensitive. The
 * field "bucket" is the request's bucket. Every form field but AWSAccessKeyId, signature,
 * x-amz-signature, file, policy and x-ignore-* must be named by a condition; a field sent
 * more than once is compared as its values joined with ','.
 */
#ifndef PD_SERVICES_S3_POSTPOLICY_H
#define PD_SERVICES_S3_POSTPOLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kv.h"

/* The longest field value (all its values joined) compared: beyond it a field compares as
 * absent. POST Object's fields total at most 20 KB. */
#define PD_S3_PP_MAX_VALUE (64 * 1024)

struct pd_s3_postpolicy {
    json_t *doc;        /* owned: the parsed policy */
    int64_t expires_ms; /* its expiration */
    int has_range;      /* a content-length-range condition was given */
    int64_t min, max;   /* its bounds */
};

enum pd_s3_pp {
    PD_S3_PP_OK = 0,
    PD_S3_PP_EXPIRED, /* "Invalid according to Policy: Policy expired." */
    PD_S3_PP_FAILED,  /* a condition failed (message names it) */
    PD_S3_PP_EXTRA,   /* a field no condition names */
};

/* Parse the (base64-decoded) policy text. PD_OK, or PD_EINVAL with S3's
 * InvalidPolicyDocument message in msg (size cap). Free with pd_s3_postpolicy_free. */
int pd_s3_postpolicy_parse(const char *text, size_t len, struct pd_s3_postpolicy *OUT, char *msg,
                           size_t cap);
void pd_s3_postpolicy_free(struct pd_s3_postpolicy *p);

/* Check fields (names lower-cased; the key already with ${filename} expanded) and bucket at
 * now_ms. Returns PD_S3_PP_OK or the failure, with S3's AccessDenied message in msg. */
enum pd_s3_pp pd_s3_postpolicy_check(const struct pd_s3_postpolicy *p, const struct pd_kvs *fields,
                                     const char *bucket, int64_t now_ms, char *msg, size_t cap);

#endif
