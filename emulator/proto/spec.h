/*
 * spec.h - AWS service models (botocore service-2.json), loaded once and indexed.
 *
 * A model is parsed at start into immutable structs that the codecs walk: shapes with their
 * constraints and XML/JSON traits, members with their HTTP location, operations with their
 * HTTP binding and a pre-parsed route (path segments, query literals, the required query and
 * header keys that tell S3's look-alike operations apart). Lookups by name are binary
 * searches; nothing is mutated after pd_spec_load returns, so threads share a spec freely.
 * All strings are copied into the spec's own arena; the JSON text is not kept.
 * Depends on core/ and jansson (load time only).
 */
#ifndef PD_PROTO_SPEC_H
#define PD_PROTO_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

struct pd_regex;

enum pd_spec_proto {
    PD_SPEC_QUERY,     /* IAM, STS */
    PD_SPEC_REST_JSON, /* EKS, eks-auth */
    PD_SPEC_REST_XML,  /* S3 */
    PD_SPEC_JSON,      /* awsJson1_0 / awsJson1_1 (Organizations): X-Amz-Target, JSON body */
};

enum pd_spec_type {
    PD_ST_STRUCTURE,
    PD_ST_LIST,
    PD_ST_MAP,
    PD_ST_STRING,
    PD_ST_INTEGER,
    PD_ST_LONG,
    PD_ST_BOOLEAN,
    PD_ST_TIMESTAMP,
    PD_ST_BLOB,
    PD_ST_FLOAT,
    PD_ST_DOUBLE,
};

enum pd_spec_loc {
    PD_LOC_BODY = 0, /* no location: form field, JSON or XML body */
    PD_LOC_HEADER,   /* one header, locationName = header name */
    PD_LOC_HEADERS,  /* map of every header with the locationName prefix (x-amz-meta-) */
    PD_LOC_URI,      /* {label} in requestUri */
    PD_LOC_QUERY,    /* querystring key (a map member takes every unclaimed key) */
    PD_LOC_STATUS,   /* output: the HTTP status code */
};

enum pd_spec_tsfmt { PD_TS_DEFAULT = 0, PD_TS_ISO8601, PD_TS_EPOCH, PD_TS_RFC822 };

/* shape flags */
enum {
    PD_SF_SENSITIVE = 1 << 0,
    PD_SF_FLATTENED = 1 << 1,
    PD_SF_STREAMING = 1 << 2,
    PD_SF_EXCEPTION = 1 << 3,
    PD_SF_FAULT = 1 << 4, /* exception whose fault is the server's */
    PD_SF_UNION = 1 << 5,
    PD_SF_EVENTSTREAM = 1 << 6,
    PD_SF_HAS_LOCNAME = 1 << 7,
};

/* member flags */
enum {
    PD_MF_REQUIRED = 1 << 0,
    PD_MF_XMLATTR = 1 << 1,
    PD_MF_IDEMPOTENCY = 1 << 2,
    PD_MF_JSONVALUE = 1 << 3,
    PD_MF_STREAMING = 1 << 4,
    PD_MF_HOSTLABEL = 1 << 5,
    PD_MF_FLATTENED = 1 << 6, /* member-level "flattened": true */
    PD_MF_HAS_LOCNAME = 1 << 7,
    PD_MF_DEPRECATED = 1 << 8,
};

struct pd_spec_xmlns {
    const char *uri;    /* NULL when absent */
    const char *prefix; /* NULL for a default namespace */
};

struct pd_spec_member;

struct pd_spec_shape {
    const char *name;
    enum pd_spec_type type;
    int has_min, has_max;
    int64_t min, max;    /* length (string, blob, list, map) or value (numbers) */
    const char *pattern; /* as in the model, for messages */
    struct pd_regex *re; /* compiled pattern, NULL when none or unsupported */
    const char **enums;  /* enum values in model order */
    size_t n_enums;
    enum pd_spec_tsfmt ts_format;
    unsigned flags;            /* PD_SF_* */
    const char *location_name; /* shape-level locationName (XML element name) */
    struct pd_spec_xmlns xmlns;
    /* structure */
    struct pd_spec_member *members; /* model order (the trimmed models sort keys) */
    size_t n_members;
    const struct pd_spec_member *payload; /* the "payload" member, or NULL */
    /* list */
    struct pd_spec_member *member;
    /* map */
    struct pd_spec_member *key, *value;
    /* exceptions */
    const char *error_code; /* error.code, else the shape name */
    int error_status;       /* error.httpStatusCode, 0 when absent */
};

struct pd_spec_member {
    const char *name;      /* model member name ("RoleName"; "member", "key", "value") */
    const char *wire_name; /* locationName, else name (list element default "member") */
    const char *path_name; /* lower-camel name used in validation messages ("roleName") */
    const struct pd_spec_shape *shape;
    enum pd_spec_loc loc;
    unsigned flags;               /* PD_MF_* */
    enum pd_spec_tsfmt ts_format; /* member override, PD_TS_DEFAULT when none */
    struct pd_spec_xmlns xmlns;
};

/* One segment of a requestUri path: a literal or a {label} / {label+} (greedy). */
struct pd_spec_seg {
    const char *lit;                    /* literal text, NULL for a label */
    const struct pd_spec_member *label; /* the input member bound to the label */
    int greedy;
};

/* A query literal of a requestUri: "?uploads" (value NULL) or "?list-type=2". */
struct pd_spec_qlit {
    const char *key, *value;
};

struct pd_spec_route {
    struct pd_spec_seg *segs;
    size_t n_segs;
    int trailing_slash; /* requestUri path ends with '/' after a segment */
    struct pd_spec_qlit *qlits;
    size_t n_qlits;
    const char **req_query; /* wire names of required querystring members */
    size_t n_req_query;
    const char **req_headers; /* lower-cased names of required header members */
    size_t n_req_headers;
};

struct pd_spec_op {
    const char *name;
    const char *method;                         /* "POST" */
    const char *request_uri;                    /* "/clusters/{name}" */
    int response_code;                          /* http.responseCode, else 200 */
    const struct pd_spec_shape *input, *output; /* NULL when the op has none */
    const char *result_wrapper;                 /* query: output.resultWrapper */
    const char *input_root;                     /* input.locationName (rest-xml root) */
    struct pd_spec_xmlns input_xmlns;           /* input.xmlNamespace */
    const char *authtype;                       /* "none", "v4-unsigned-body", or NULL */
    int deprecated;
    const struct pd_spec_shape **errors;
    size_t n_errors;
    struct pd_spec_route route; /* rest protocols */
};

struct pd_spec {
    struct pd_arena arena; /* owns everything below */
    enum pd_spec_proto proto;
    const char *service_id;    /* metadata.serviceId ("IAM") */
    const char *api_version;   /* "2010-05-08" */
    const char *xml_namespace; /* metadata.xmlNamespace, or the one the model's inputs name */
    const char *signing_name;  /* signingName, else endpointPrefix */
    const char *endpoint_prefix;
    const char *target_prefix; /* awsJson: metadata.targetPrefix ("AWSOrganizationsV20161128") */
    const char *json_version;  /* awsJson: metadata.jsonVersion ("1.1"), NULL otherwise */
    struct pd_spec_op *ops;    /* sorted by name */
    size_t n_ops;
    struct pd_spec_shape *shapes; /* sorted by name */
    size_t n_shapes;
    const struct pd_spec_op **by_method; /* ops sorted by (method, name), for routing */
};

/* Parse a model. Returns PD_OK, or PD_EINVAL when it is not a model this code understands
 * (unknown shape type, dangling shape reference): a bug in the shipped specs, so the caller
 * aborts start-up. *OUT is freed with pd_spec_free. */
int pd_spec_load(const char *json, size_t len, struct pd_spec **OUT);

/* Same for an embedded model by service file stem: "iam", "sts", "s3", "eks", "eks-auth".
 * PD_ENOTFOUND when no such model is compiled in. */
int pd_spec_load_embedded(const char *stem, struct pd_spec **OUT);

void pd_spec_free(struct pd_spec *s);

/* Lookups: NULL when absent. Binary search. */
const struct pd_spec_op *pd_spec_op(const struct pd_spec *s, const char *name);
const struct pd_spec_shape *pd_spec_shape(const struct pd_spec *s, const char *name);
/* Member of a structure by model name (linear; structures are small). */
const struct pd_spec_member *pd_spec_member(const struct pd_spec_shape *sh, const char *name);

/* Does the operation's input payload stream (S3 PutObject Body, UploadPart Body)? */
int pd_spec_op_streams_input(const struct pd_spec_op *op);

/* Coverage: the operations of s whose names are not in implemented[0..n_impl) (any order),
 * in name order. The array lives in a; returns its length. */
size_t pd_spec_unimplemented(const struct pd_spec *s, const char *const *implemented, size_t n_impl,
                             struct pd_arena *a, const char ***OUT);

/* Name of a protocol as the models spell it ("query", "rest-json", "rest-xml", "json"). */
const char *pd_spec_proto_name(enum pd_spec_proto p);

#endif
