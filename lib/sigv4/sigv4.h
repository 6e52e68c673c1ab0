/*
 * sigv4.h - AWS Signature Version 4: parse, canonicalise, sign and verify. Pure.
 *
 * No I/O, no request struct, no store, no knowledge of accounts: the server's auth layer and
 * podiamctl's signer both call this with plain strings, and the caller supplies the secret
 * key. Everything returned is allocated in the caller's arena.
 *
 * A request is signed like this (each step has its own function, so a developer can watch
 * a signature being built):
 *
 *   canonical request = METHOD \n canonical path \n canonical query \n
 *                       canonical headers (name:value\n each) \n signed header list \n
 *                       payload hash
 *   string to sign    = AWS4-HMAC-SHA256 \n amz-date \n scope \n hex(sha256(canonical request))
 *   scope             = YYYYMMDD/region/service/aws4_request
 *   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, YYYYMMDD), region), service),
 *                            "aws4_request")
 *   signature         = hex(HMAC(signing key, string to sign))
 *
 * Canonicalisation rules (and why):
 *  - Path, everything but S3 (normalize_path = 1): remove "." and ".." segments and empty
 *    segments (duplicate slashes), then percent-encode the path *as received* once more, so
 *    "%20" becomes "%2520". This is what botocore and the Go/JS SDKs sign ("double
 *    encoding"), and what AWS's common front end expects (aws/aws-sdk-js#853 shows ES
 *    expecting "/%253Fa%3Db%2520c" for "/%3Fa=b%20c").
 *  - Path, S3 (normalize_path = 0): no segment removal; decode the received path and encode
 *    it once with the AWS rules (unreserved A-Z a-z 0-9 - _ . ~ and '/' kept, everything else
 *    %XX upper-case). For the paths SDKs send this is the path unchanged; it is also what S3
 *    itself does with paths it receives in other forms (S3 expected ".../asset_id%3Dmy-asset"
 *    for a raw "=" in curl/curl#13754; "/%3Fa%3Db%20c" for "/%3Fa=b%20c" in
 *    aws/aws-sdk-js#853).
 *  - Query: split on '&', a parameter without '=' has the value "", each name and value is
 *    percent-decoded then re-encoded with the AWS rules, pairs are sorted by encoded name then
 *    value, and X-Amz-Signature is dropped for presigned requests. A literal '+' in the
 *    received query is decoded as a space (so it signs as %20) and "%2B" as a plus: S3 accepts
 *    URLs that carry '+' for a space signed as %20 (mhart/aws4fetch#83), the Go SDK and MinIO
 *    canonicalise the same way, and the services' own form decoders read '+' as a space, so
 *    the signature covers the value the handler will see. A malformed escape ("%zz", a
 *    trailing "%") is an error, as on AWS (MalformedQueryString).
 *  - Headers: names lower-cased, the signed names sorted; each value trimmed and every run of
 *    whitespace (including the line breaks of an obs-folded multi-line value) collapsed to one
 *    space; repeated headers joined with ',' in the order received. A signed header absent
 *    from the request canonicalises as "name:" (empty value).
 *
 * Verification returns AWS's own error codes and messages, in two dialects: the common AWS
 * front end (IAM, STS, EKS: IncompleteSignature, SignatureDoesNotMatch "Signature expired:
 * ...", MissingAuthenticationToken, ...) and S3 (AuthorizationHeaderMalformed,
 * AuthorizationQueryParametersError, RequestTimeTooSkewed, AccessDenied "Request has
 * expired", SignatureDoesNotMatch with StringToSign/CanonicalRequest elements, ...).
 */
#ifndef PD_SIGV4_SIGV4_H
#define PD_SIGV4_SIGV4_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kv.h"

struct pd_arena;

#define PD_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define PD_SIGV4_TERMINATOR "aws4_request"
#define PD_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define PD_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define PD_SIGV4_MAX_SKEW_MS (15 * 60 * 1000) /* header auth, and STS presigned lifetime */
#define PD_SIGV4_MAX_EXPIRES 604800           /* S3 presigned X-Amz-Expires limit (7 days) */
#define PD_SIGV4_KEY_LEN 32
#define PD_SIGV4_SIG_HEX_LEN 64

/* Whose error codes and messages verification reports. */
enum pd_sigv4_dialect {
    PD_SIGV4_AWS = 0, /* IAM, STS, EKS: the common AWS front end */
    PD_SIGV4_S3,      /* S3 */
};

/* What a request says about its signature: from the Authorization header or from the
 * presigned query parameters. Strings are arena-owned; NULL when absent. */
struct pd_sigv4_auth {
    int presigned;              /* 1: query parameters, 0: Authorization header */
    const char *algorithm;      /* "AWS4-HMAC-SHA256" */
    const char *credential;     /* "AKID/20150830/us-east-1/iam/aws4_request", as sent */
    int credential_parts;       /* number of '/'-separated elements in credential */
    const char *akid;           /* the five elements, set only when there are exactly five */
    const char *date8;          /* "20150830" */
    const char *region;         /* "us-east-1" */
    const char *service;        /* "iam", "sts", "s3", "eks" */
    const char *terminator;     /* "aws4_request" */
    const char *signed_headers; /* "host;x-amz-date", as sent */
    const char **headers;       /* signed header names, lower-cased and sorted */
    size_t nheaders;
    const char *signature;      /* lower-case hex, as sent */
    const char *date_raw;       /* X-Amz-Date (header or query), else the Date header */
    const char *expires_raw;    /* X-Amz-Expires as sent (presigned only) */
    const char *security_token; /* X-Amz-Security-Token: query when presigned, else header */
};

/* An AWS error, or success (code == NULL). */
struct pd_sigv4_result {
    const char *code;              /* "SignatureDoesNotMatch", ...; NULL when verified */
    const char *message;           /* AWS's message text */
    int status;                    /* HTTP status (200 when verified) */
    struct pd_kvs extra;           /* S3 error elements after Message, in order (Region,
                                      RequestTime, ServerTime, StringToSign, ...) */
    const char *canonical_request; /* set once computed, for the debug log and S3 bodies */
    const char *string_to_sign;
    char amz_date[17]; /* the request time in basic format, once known */
};

/* The request as received (verify) or about to be sent (sign). */
struct pd_sigv4_request {
    const char *method;           /* "GET" */
    const char *path;             /* raw path as on the request line, undecoded, no query */
    const char *query;            /* raw query after '?', undecoded; NULL or "" for none */
    const struct pd_kvs *headers; /* names in any case; values as received */
    const char *payload_hash;     /* hex SHA-256 of the body, or UNSIGNED-PAYLOAD /
                                     STREAMING-... as the request declares (for S3, the
                                     x-amz-content-sha256 value; for presigned S3,
                                     UNSIGNED-PAYLOAD; for presigned STS, the empty-body hash) */
    int normalize_path;           /* 1 for every service but S3 */
};

/* ---- signing keys and their cache ----
 * The cache is keyed by SHA-256(secret NUL date NUL region NUL service): it never holds a
 * secret key in clear, only derived signing keys (valid for one day, one region, one
 * service). Fixed size, least recently used entry replaced, one mutex. */
#define PD_SIGV4_CACHE_SLOTS 64

struct pd_sigv4_cache_slot {
    unsigned char id[32];                /* SHA-256 of the inputs */
    unsigned char key[PD_SIGV4_KEY_LEN]; /* derived signing key */
    uint64_t last_used;                  /* 0: empty slot */
};

struct pd_sigv4_cache {
    pthread_mutex_t mu;
    uint64_t tick;         /* use counter for LRU */
    uint64_t hits, misses; /* statistics */
    struct pd_sigv4_cache_slot slot[PD_SIGV4_CACHE_SLOTS];
};

void pd_sigv4_cache_init(struct pd_sigv4_cache *c);
void pd_sigv4_cache_cleanup(struct pd_sigv4_cache *c); /* wipes the keys */

/* The signing key for (secret, date8, region, service), from the cache when present. c may
 * be NULL (derive every time). */
void pd_sigv4_signing_key(struct pd_sigv4_cache *c, const char *secret, const char *date8,
                          const char *region, const char *service,
                          unsigned char OUT_key[PD_SIGV4_KEY_LEN]);

/* ---- canonicalisation building blocks (each arena-owned) ---- */

/* Canonical URI path. Returns PD_OK, or PD_EINVAL for a malformed %-escape (S3 form). */
int pd_sigv4_canonical_path(struct pd_arena *a, const char *raw_path, int normalize, char **OUT);
/* Canonical query string. presigned = 1 drops X-Amz-Signature. Returns PD_OK, or PD_EINVAL
 * for a malformed %-escape. */
int pd_sigv4_canonical_query(struct pd_arena *a, const char *raw_query, int presigned, char **OUT);
/* Canonical value of header name: all occurrences (ASCII case-insensitive), trimmed,
 * whitespace collapsed, joined with ','; "" when absent. */
char *pd_sigv4_canonical_header_value(struct pd_arena *a, const struct pd_kvs *headers,
                                      const char *name);
/* The whole canonical request. names: lower-case signed header names, sorted. Returns PD_OK
 * or PD_EINVAL (malformed escape in path or query). */
int pd_sigv4_canonical_request(struct pd_arena *a, const struct pd_sigv4_request *req,
                               const char *const *names, size_t n, int presigned, char **OUT);
/* "20150830/us-east-1/iam/aws4_request" */
char *pd_sigv4_scope(struct pd_arena *a, const char *date8, const char *region,
                     const char *service);
char *pd_sigv4_string_to_sign(struct pd_arena *a, const char *amz_date, const char *scope,
                              const char *canonical_request);
/* hex(HMAC(key, string_to_sign)) */
void pd_sigv4_signature(const unsigned char key[PD_SIGV4_KEY_LEN], const char *string_to_sign,
                        char OUT_hex[PD_SIGV4_SIG_HEX_LEN + 1]);

/* ---- verifying ---- */

/*
 * Find and parse the request's SigV4 authentication: the Authorization header, or the
 * X-Amz-* query parameters of a presigned URL. Checks only the syntax AWS checks before
 * anything else (algorithm, key=value pairs, required parts).
 * Returns PD_OK (auth filled), PD_ENOTFOUND (no SigV4 authentication at all: an anonymous
 * request, for the caller to accept or refuse with MissingAuthenticationToken/AccessDenied),
 * or PD_EINVAL / PD_ESIG / PD_ENOTIMPL with the AWS error in *OUT_res.
 */
int pd_sigv4_parse(struct pd_arena *a, enum pd_sigv4_dialect dialect, const struct pd_kvs *headers,
                   const char *raw_query, struct pd_sigv4_auth *OUT_auth,
                   struct pd_sigv4_result *OUT_res);

struct pd_sigv4_verify_opts {
    enum pd_sigv4_dialect dialect;
    const char *region;           /* required credential-scope region; NULL accepts any */
    const char *service;          /* required credential-scope service; NULL accepts any */
    int64_t now_ms;               /* the server's clock */
    struct pd_sigv4_cache *cache; /* NULL: derive signing keys every time */
};

/*
 * Everything that can be decided without the secret key: credential scope, date format,
 * which headers must be signed, the clock-skew window (header auth, and STS-style presigned
 * requests: 15 minutes either side of X-Amz-Date) or the presigned lifetime (S3:
 * X-Amz-Date + X-Amz-Expires). Call it before looking the access key up, so errors come in
 * AWS's order (an expired request is "Signature expired" even when the key is unknown).
 * Returns PD_OK, or PD_EINVAL / PD_ESIG with the AWS error in *OUT_res.
 */
int pd_sigv4_precheck(struct pd_arena *a, const struct pd_sigv4_auth *auth,
                      const struct pd_sigv4_request *req, const struct pd_sigv4_verify_opts *o,
                      struct pd_sigv4_result *OUT_res);

/*
 * pd_sigv4_precheck, then recompute the signature with secret and compare (constant time).
 * On success *OUT_res has code NULL, status 200, and the canonical request and string to
 * sign (the server logs them at debug level on SignatureDoesNotMatch).
 * Returns PD_OK, or PD_EINVAL / PD_ESIG with the AWS error in *OUT_res.
 */
int pd_sigv4_verify(struct pd_arena *a, const struct pd_sigv4_auth *auth,
                    const struct pd_sigv4_request *req, const char *secret,
                    const struct pd_sigv4_verify_opts *o, struct pd_sigv4_result *OUT_res);

/* ---- signing (clients: podiamctl, tests) ---- */

struct pd_sigv4_signer {
    const char *akid, *secret;
    const char *session_token; /* presign: sent and signed as X-Amz-Security-Token; header
                                  signing: the caller adds the x-amz-security-token header */
    const char *region, *service;
    const char *amz_date; /* "YYYYMMDDTHHMMSSZ"; header signing: the caller sends the
                             same value as X-Amz-Date */
};

/* What a signing step produced, for step-through displays. */
struct pd_sigv4_trace {
    const char *canonical_request;
    const char *string_to_sign;
    const char *signature;
};

/*
 * The Authorization header value for req ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=..."). names: the headers to sign (any case); NULL signs every header in
 * req->headers except authorization, user-agent, expect and x-amzn-trace-id. Deciding
 * x-amz-date, x-amz-content-sha256 and x-amz-security-token is the caller's: put them in
 * req->headers first. trace may be NULL. Returns PD_OK or PD_EINVAL (malformed escape in
 * req's path or query).
 */
int pd_sigv4_sign_headers(struct pd_arena *a, const struct pd_sigv4_signer *s,
                          const struct pd_sigv4_request *req, const char *const *names, size_t n,
                          char **OUT_authorization, struct pd_sigv4_trace *OUT_trace);

/*
 * A presigned query string: req->query (kept as given) followed by X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Security-Token
 * (when s has one) and X-Amz-Signature. names as for pd_sigv4_sign_headers, except NULL
 * signs only "host". Headers that are signed but not sent in the URL (x-k8s-aws-id for
 * EKS tokens) must be in req->headers. Returns PD_OK or PD_EINVAL.
 */
int pd_sigv4_presign(struct pd_arena *a, const struct pd_sigv4_signer *s,
                     const struct pd_sigv4_request *req, int64_t expires, const char *const *names,
                     size_t n, char **OUT_query, struct pd_sigv4_trace *OUT_trace);

/* ---- streaming payloads (S3 aws-chunked) ----
 * chunk:   "AWS4-HMAC-SHA256-PAYLOAD\n" amz_date "\n" scope "\n" prev_sig "\n"
 *          sha256("") "\n" chunk_sha256_hex
 * trailer: "AWS4-HMAC-SHA256-TRAILER\n" amz_date "\n" scope "\n" prev_sig "\n"
 *          hex(sha256(trailer))
 * prev_sig is the seed (the Authorization header's signature) for the first chunk, then the
 * previous chunk's; the trailer's is the final (zero-length) chunk's. trailer is the trailing
 * header lines as "name:value\n" each (LF, not CRLF). */
void pd_sigv4_chunk_signature(const unsigned char key[PD_SIGV4_KEY_LEN], const char *amz_date,
                              const char *scope, const char *prev_sig, const char *chunk_sha256_hex,
                              char OUT_hex[PD_SIGV4_SIG_HEX_LEN + 1]);
void pd_sigv4_trailer_signature(const unsigned char key[PD_SIGV4_KEY_LEN], const char *amz_date,
                                const char *scope, const char *prev_sig, const void *trailer,
                                size_t n, char OUT_hex[PD_SIGV4_SIG_HEX_LEN + 1]);

#endif
