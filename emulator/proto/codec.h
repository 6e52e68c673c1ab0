/*
 * codec.h - the protocol codecs' public API: request bytes -> (operation, input JSON) and
 * (operation, output JSON or error) -> status + headers + body.
 *
 * Pure functions of (model, bytes): no store, no server, no request struct. The caller (the
 * dispatcher) hands in what it got from the wire and receives jansson objects keyed by the
 * model's member names; handlers fill output objects the same way. One walker over shapes
 * serves every protocol (proto/walk.c); the protocol files only say where a value comes
 * from (form field, URI label, header, query string, JSON or XML body) and how errors look.
 *
 * Value mapping between the model and jansson, both directions:
 *   string -> string; integer/long -> integer; boolean -> true/false; float/double -> real;
 *   timestamp -> integer, milliseconds since the epoch (the encoder also takes an ISO 8601
 *   string); blob -> string holding the raw bytes (json_stringn_nocheck; may hold NULs);
 *   structure -> object; list -> array; map -> object.
 * Streaming payloads (S3 PutObject/GetObject Body) never go through JSON: decode leaves them
 * out (the caller has the body bytes) and encode names the member the caller must stream.
 */
#ifndef PD_PROTO_CODEC_H
#define PD_PROTO_CODEC_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/kv.h"
#include "proto/spec.h"

struct pd_arena;

/* Bounds on what one request may make the decoder build, checked before it builds anything:
 * decoding costs memory (a tree node per value), and a body within --max-body could
 * otherwise hold hundreds of thousands of tiny parameters. The largest real requests (IAM
 * simulations, EKS tags and labels) stay far below them. */
#define PD_QUERY_MAX_PARAMS 2000 /* form and query-string parameters (ValidationError) */
#define PD_JSON_MAX_VALUES 20000 /* values in a rest-json body (SerializationException) */

/* What the dispatcher read off the wire. */
struct pd_http_request {
    const char *method;           /* "GET" */
    const char *path;             /* raw (percent-encoded) path, no query: "/clusters/a%2Fb" */
    const char *query;            /* raw query string without '?', or NULL */
    const struct pd_kvs *headers; /* names lower-cased */
    const char *body;             /* may be NULL when body_len == 0 */
    size_t body_len;
    /* rest-xml (S3) only: the bucket and key, already decoded, from the Host name (virtual
     * host style) or the path (pd_restxml_split_path). NULL when absent. */
    const char *bucket;
    const char *key;
};

/* One failed constraint, as AWS words it. */
struct pd_violation {
    const char *path;    /* "roleSessionName", "tags.1.member.value" */
    const char *message; /* "Value 'x' at 'roleSessionName' failed to satisfy constraint: ..." */
    int in_body;         /* rest protocols: the member came from the body */
};

/* A decode failure, ready to be rendered with pd_codec_encode_error. */
struct pd_codec_error {
    const char *code;    /* "ValidationError", "InvalidAction", "MalformedXML", ... */
    const char *message; /* arena-owned */
    int status;          /* 400, 404, 405 */
    int sender;          /* 1: client's fault (Type Sender) */
    /* Validation failures: every violated constraint. message already joins them as AWS
     * does ("2 validation errors detected: ...; ..."); rest-json callers that answer with
     * their own code (EKS InvalidParameterException) can keep message and change code. */
    const struct pd_violation *violations;
    size_t n_violations;
};

/* A wire error to render (service errors from pd_fail, or a pd_codec_error). */
struct pd_aws_fault {
    const char *code;    /* "NoSuchEntity" */
    const char *message; /* may be NULL */
    int status;          /* 404 */
    int sender;          /* 1 = Sender (4xx), 0 = Receiver */
    const json_t *extra; /* optional object of extra fields: S3 <BucketName>, <Key>,
                            <StringToSign>...; rest-json extra body members; query ignores it */
    const char *host_id; /* S3 <HostId> and x-amz-id-2; optional */
};

/* What goes back on the wire. Initialise with pd_http_response_init; free with _cleanup. */
struct pd_http_response {
    int status;
    struct pd_kvs headers; /* names as sent ("Content-Type", "x-amzn-RequestId") */
    struct pd_buf body;
    /* A streaming payload member (S3 GetObject "Body"): the caller sends those bytes as the
     * body; body is left empty. NULL otherwise. */
    const struct pd_spec_member *stream;
};

void pd_http_response_init(struct pd_http_response *r);
void pd_http_response_cleanup(struct pd_http_response *r);

/* Decode a request for any protocol: find the operation (query Action=, method + path for
 * rest, X-Amz-Target for awsJson), then its input. Query takes its parameters from the query string
 * and, for a form-encoded body, the body. Returns: PD_OK        *OUT_op and *OUT_in (a new
 * reference; the caller json_decref()s it); PD_ENOTFOUND no operation matches (InvalidAction /
 * UnknownOperationException / MethodNotAllowed in *OUT_err); PD_EINVAL    the operation is known
 * (*OUT_op set) but the input is bad (*OUT_err). Error texts live in a. */
int pd_codec_decode(const struct pd_spec *spec, struct pd_arena *a,
                    const struct pd_http_request *rq, const struct pd_spec_op **OUT_op,
                    json_t **OUT_in, struct pd_codec_error *OUT_err);

/* Query protocol with parameters already parsed and percent-decoded (Action, Version and the
 * operation's members). Same results as pd_codec_decode. */
int pd_query_decode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_kvs *params,
                    const struct pd_spec_op **OUT_op, json_t **OUT_in,
                    struct pd_codec_error *OUT_err);

/* Rest and awsJson protocols: which operation does this request name, found without reading
 * its body? PD_OK or PD_ENOTFOUND (with *OUT_err: UnknownOperationException,
 * MethodNotAllowed, ...). */
int pd_codec_route(const struct pd_spec *spec, struct pd_arena *a, const struct pd_http_request *rq,
                   const struct pd_spec_op **OUT_op, struct pd_codec_error *OUT_err);

/* Rest protocols: which operation does this request name? PD_OK or PD_ENOTFOUND (with
 * *OUT_err). Cheap: compares the route of each operation with the request's method. */
int pd_rest_route(const struct pd_spec *spec, struct pd_arena *a, const struct pd_http_request *rq,
                  const struct pd_spec_op **OUT_op, struct pd_codec_error *OUT_err);
/* Rest protocols: decode the input of a known operation. PD_OK or PD_EINVAL. */
int pd_rest_decode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                   const struct pd_http_request *rq, json_t **OUT_in,
                   struct pd_codec_error *OUT_err);

/* S3 path-style addressing: "/bucket/some/key" -> bucket "bucket", key "some/key" (decoded;
 * key NULL when absent or empty; bucket NULL for "/"). Returns PD_OK or PD_EINVAL (bad
 * percent escape). */
int pd_restxml_split_path(struct pd_arena *a, const char *raw_path, const char **OUT_bucket,
                          const char **OUT_key);

/* Render a successful result. out may be NULL (no output). The request id goes into the
 * body where the protocol carries it and into its header (x-amzn-RequestId, or S3's
 * x-amz-request-id and x-amz-id-2). Returns PD_OK, or PD_EINTERNAL when out does not fit the
 * output shape (a handler bug; logged with the member path) - render a 500 then. */
int pd_codec_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                    const json_t *out, const char *request_id, struct pd_http_response *OUT);

/* Render an error envelope: query <ErrorResponse>, rest-json X-Amzn-ErrorType + JSON,
 * rest-xml <Error>. op may be NULL. For HEAD requests the caller drops the body (S3 sends
 * none). Returns PD_OK (or PD_ETOOBIG from an unbounded buffer: never in practice). */
int pd_codec_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                          const struct pd_spec_op *op, const struct pd_aws_fault *f,
                          const char *request_id, struct pd_http_response *OUT);

/* A pd_codec_error as a fault (same code, message, status, sender). */
struct pd_aws_fault pd_codec_fault(const struct pd_codec_error *e);

#endif
