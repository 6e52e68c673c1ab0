/*
 * sigv2.h - S3's Signature Version 2 (HMAC-SHA1): find and parse it, build the string to
 * sign exactly as S3 does, sign and verify. Pure, like sigv4.h: no I/O, no request struct,
 * the caller supplies the secret key; everything returned lives in the caller's arena.
 *
 *   Authorization = "AWS " AccessKeyId ":" Base64(HMAC-SHA1(secret, StringToSign))
 *   StringToSign  = VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
 *                   CanonicalizedAmzHeaders CanonicalizedResource
 *
 *  - Content-MD5, Content-Type, Date: the header values (trimmed), "" when absent. Query
 *    authentication (AWSAccessKeyId, Signature, Expires) puts Expires in the Date slot.
 *  - CanonicalizedAmzHeaders: every x-amz-* header, name lower-cased, sorted by name, the
 *    values of a repeated header trimmed and joined with ',', one "name:value\n" line each.
 *    With query authentication the x-amz-* query parameters count as headers too: botocore
 *    signs x-amz-security-token as a header and then sends it as a parameter.
 *  - x-amz-date: S3's documentation says the Date slot is then empty (or the Date header)
 *    and x-amz-date is one of the amz headers, which is what botocore and boto2 sign; its
 *    own DELETE example instead puts the x-amz-date value in the Date slot and leaves it out
 *    of the amz headers. Verification accepts either (PD_SIGV2_DATE_*).
 *  - CanonicalizedResource: "/" BUCKET when the bucket is named by the Host (virtual-hosted
 *    style), then the path exactly as received (still percent-encoded), then the
 *    sub-resources present in the query, sorted by name, "?" then '&'-joined, each "name" or
 *    "name=value" with the value percent-decoded. The sub-resources are the union of S3's
 *    documented list, botocore's and s3cmd's: a parameter that is not one of them (prefix,
 *    max-keys, list-type, encryption, ...) is not signed, as on S3. A resource naming only
 *    a bucket is accepted with or without its trailing slash: botocore signs "/bucket/" for
 *    the path-style request "/bucket", and S3 accepts it.
 *
 * Errors are S3's (InvalidArgument for a malformed header, AccessDenied for a missing or bad
 * date or a missing query parameter, RequestTimeTooSkewed, "Request has expired",
 * SignatureDoesNotMatch with AWSAccessKeyId, StringToSign, SignatureProvided and
 * StringToSignBytes), reported in a struct pd_sigv4_result as SigV4's are.
 */
#ifndef PD_SIGV4_SIGV2_H
#define PD_SIGV4_SIGV2_H

#include <stddef.h>
#include <stdint.h>

#include "core/kv.h"
#include "sigv4/sigv4.h"

struct pd_arena;

#define PD_SIGV2_SIG_B64_LEN 28 /* base64 of a 20-byte HMAC-SHA1 */

/* What a SigV2 request says about its signature. Strings arena-owned; NULL when absent. */
struct pd_sigv2_auth {
    int presigned;              /* 1: query parameters, 0: Authorization header */
    const char *akid;           /* AWSAccessKeyId */
    const char *signature;      /* base64, decoded from the query when presigned */
    const char *date_raw;       /* header auth: x-amz-date when sent, else Date */
    const char *expires_raw;    /* query auth: Expires (epoch seconds) as sent */
    const char *security_token; /* x-amz-security-token: header, or parameter when presigned */
};

/* The request as received (verify) or about to be sent (sign). */
struct pd_sigv2_request {
    const char *method;
    const char *path;             /* raw path as on the request line, no query */
    const char *query;            /* raw query after '?'; NULL or "" for none */
    const struct pd_kvs *headers; /* names in any case */
    const char *host_bucket;      /* the bucket the Host names (virtual-hosted), or NULL */
};

/* Where the x-amz-date value goes in the string to sign (see above). */
enum pd_sigv2_date {
    PD_SIGV2_DATE_HEADER = 0, /* Date slot: the Date header; x-amz-date among the amz headers */
    PD_SIGV2_DATE_SLOT,       /* Date slot: the x-amz-date value; not among the amz headers */
};

/* Is this request signed with SigV2: an Authorization header "AWS ..." (not AWS4-...), or
 * one of the query parameters AWSAccessKeyId / Signature with no SigV4 X-Amz-Signature?
 * Returns 1 or 0; parses nothing else. */
int pd_sigv2_detect(const struct pd_kvs *headers, const char *raw_query);

/* Parse the SigV2 authentication of a request pd_sigv2_detect accepted. PD_OK (auth filled)
 * or PD_EINVAL / PD_ESIG with S3's error in *OUT_res. */
int pd_sigv2_parse(struct pd_arena *a, const struct pd_kvs *headers, const char *raw_query,
                   struct pd_sigv2_auth *OUT_auth, struct pd_sigv4_result *OUT_res);

/* The CanonicalizedResource of req (see above). Returns PD_OK or PD_EINVAL (a malformed
 * escape in a sub-resource value). */
int pd_sigv2_canonical_resource(struct pd_arena *a, const struct pd_sigv2_request *req, char **OUT);

/* The string to sign. expires: the Expires value for query authentication (then the x-amz-*
 * query parameters are amz headers too), NULL for header authentication. Returns PD_OK or
 * PD_EINVAL (malformed escape). */
int pd_sigv2_string_to_sign(struct pd_arena *a, const struct pd_sigv2_request *req,
                            const char *expires, enum pd_sigv2_date date, char **OUT);

/* Base64(HMAC-SHA1(secret, string_to_sign)), NUL-terminated. */
void pd_sigv2_signature(const char *secret, const char *string_to_sign,
                        char OUT[PD_SIGV2_SIG_B64_LEN + 1]);

/* Parse a SigV2 request date: RFC 1123 ("Tue, 27 Mar 2007 19:36:42 +0000", zone GMT, UTC,
 * UT, Z or a numeric offset; a one-digit day is accepted) or SigV4's basic format
 * ("20070327T193642Z"). Returns PD_OK or PD_EINVAL. */
int pd_sigv2_parse_date(const char *s, int64_t *OUT_ms);

struct pd_sigv2_verify_opts {
    int64_t now_ms;     /* the client's clock (wall time): the 15-minute window of Date */
    int64_t expires_ms; /* the server's own clock: query authentication's Expires */
};

/* What can be decided without the key: the request time within 15 minutes of now_ms (header
 * auth: RequestTimeTooSkewed, or AccessDenied for a missing or malformed date), Expires not
 * passed at expires_ms (query auth: AccessDenied "Request has expired"). PD_OK, or PD_ESIG /
 * PD_EINVAL with S3's error in *OUT_res. */
int pd_sigv2_precheck(struct pd_arena *a, const struct pd_sigv2_auth *auth,
                      const struct pd_sigv2_request *req, const struct pd_sigv2_verify_opts *o,
                      struct pd_sigv4_result *OUT_res);

/* pd_sigv2_precheck, then recompute the signature (each accepted x-amz-date placement) and
 * compare in constant time. On success OUT_res->string_to_sign is the one that matched; on
 * SignatureDoesNotMatch it is the documented form, with S3's extra elements. PD_OK, or
 * PD_ESIG / PD_EINVAL. */
int pd_sigv2_verify(struct pd_arena *a, const struct pd_sigv2_auth *auth,
                    const struct pd_sigv2_request *req, const char *secret,
                    const struct pd_sigv2_verify_opts *o, struct pd_sigv4_result *OUT_res);

#endif
