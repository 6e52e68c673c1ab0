/*
 * req.h - the request context: one struct that flows through every layer.
 *
 * server/ fills the raw HTTP view (method, path, query, headers, body, peer); routing picks
 * svc/op; the codec decodes into `in`; auth fills `who`; the handler fills `out` (or `err`
 * through pd_fail) or, for raw services, `resp` directly; dispatch encodes. Each field is
 * written by one layer (comment names it). Everything that dies with the request lives in
 * `arena`, released by pd_req_free.
 */
#ifndef PD_REQ_H
#define PD_REQ_H

#include <jansson.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/kv.h"

struct pd_env;
struct pd_service;
struct pd_op;
struct pd_db;
struct pd_req;
struct pd_spec_op;
struct pd_stream;

/* Where the body goes when an operation streams it (S3 uploads) instead of buffering it.
 * Installed by the service's stream hook once the headers are authenticated and
 * authorized; write gets the body as it arrives, finish runs when it is complete (before
 * the handler), discard when the request ends without finishing (client gone, error). */
struct pd_body_sink {
    int (*write)(struct pd_req *r, const char *p, size_t n); /* PD_OK or PD_EAWS */
    int (*finish)(struct pd_req *r);                         /* PD_OK or PD_EAWS */
    void (*discard)(struct pd_req *r);
    void *state; /* the service's */
};

/* The AWS error a request ends with (set once, by pd_fail). */
struct pd_awserr {
    const char *code; /* wire code, e.g. "NoSuchEntity" */
    int status;       /* HTTP status */
    int receiver;     /* 1: fault is ours (Type Receiver), 0: Sender */
};

struct pd_error {
    const struct pd_awserr *def; /* NULL while no error is set */
    char *message;               /* arena-owned */
    json_t *extra;               /* extra elements for S3 error bodies (owned), or NULL */
};

/* A response written directly (raw services: admin, OIDC, k8s) or by the encoder. */
struct pd_resp {
    int status;               /* 0 until set */
    const char *content_type; /* static or arena */
    struct pd_kvs hdrs;       /* extra response headers */
    struct pd_buf body;
    int fd;         /* >= 0: body is this file's bytes [fd_off, fd_off + fd_len), closed after */
    int64_t fd_off; /* file-backed body offset */
    int64_t fd_len; /* file-backed body length */
    int payload;    /* 1: body is the handler's streamed payload (S3 GetObject of an object
                       kept in memory), sent as the file would be */
    struct pd_stream *stream; /* raw services: the body is made while it is sent (stream.h);
                                 the server takes it over, else pd_req_free ends it */
};

struct pd_req {
    /* server/: the raw HTTP request, undecoded (SigV4 needs raw bytes) */
    const char *method;
    const char *path;   /* raw path, without the query */
    const char *query;  /* raw query string without '?', "" when none */
    struct pd_kvs hdrs; /* names lower-cased */
    struct pd_buf body; /* capped at cfg max_body */
    int tls;            /* arrived on the TLS listener */
    int proxied;        /* came through podiam's proxy (a CONNECT tunnel or absolute-form) */
    char peer_ip[48];   /* textual client address */

    /* route / decode */
    const struct pd_service *svc;
    const struct pd_op *op;
    const char *op_name;              /* the operation name even when not implemented */
    const struct pd_spec_op *spec_op; /* the model's operation (AWS protocols) */
    const char *bucket, *key;         /* S3: from the Host name or the path, decoded */
    json_t *in;                       /* decoded input (owned) */
    const char *decode_error;         /* why a raw service's body did not decode (static) */
    struct pd_body_sink *sink;        /* streamed body (S3 uploads), or NULL */
    uint64_t state_epoch;             /* dispatch: the state's epoch when the headers were
                                         authorized (statelock.h) */
    int early;                        /* S3: authenticated (and maybe authorized) at headers */
    int authorized;                   /* authorization already decided */
    void *svc_state; /* the service's own per-request state (route or authz hook -> handler) */

    /* S3: what verifying chunk signatures of a streamed body needs (header-signed
     * STREAMING-AWS4-HMAC-SHA256-* requests; set by dispatch's authentication) */
    struct {
        int auth_type;         /* 0 anonymous, 1 Authorization header, 2 presigned URL,
                                  3 S3 POST form (policy and signature fields) */
        int v2;                /* signed with S3's Signature Version 2 (HMAC-SHA1) */
        int have_key;          /* key/seed/date/scope below are set */
        unsigned char key[32]; /* signing key */
        char seed[65];         /* the request's signature */
        char amz_date[17];
        const char *scope;
    } sig;

    /* auth/ */
    struct pd_principal who;
    char region[32]; /* credential scope region, or the default */

    /* handler */
    json_t *out; /* output members (owned) */
    struct pd_error err;
    struct pd_resp resp;

    /* everyone */
    struct pd_env *env; /* process-wide: store, config, clock, keys, specs */
    struct pd_db *db;   /* this worker thread's database connection */
    struct pd_arena arena;
    char request_id[37];
    int64_t start_ms;
    const char *decision_id; /* authorization decision, for the response header */
    int status;              /* handler: success status other than the model's (206, 304) */
    /* handler: called once the handler's transaction has ended (committed or not), with
     * state of the handler's own (S3 unlinks replaced object files after a commit) */
    void (*after_txn)(struct pd_req *r, int committed);
    void *txn_state;
};

/* Make a request bound to env (arena ready, ids set). Free with pd_req_free. */
/* Requests that held more than this (body, response, arena) trim the heap when freed. */
#define PD_REQ_TRIM_BYTES (1u << 20)

struct pd_req *pd_req_new(struct pd_env *env);
void pd_req_free(struct pd_req *r);

/* Header value by lower-case name, or NULL. */
const char *pd_req_header(const struct pd_req *r, const char *lname);
/* Add a response header (copied into the arena). */
void pd_req_set_header(struct pd_req *r, const char *name, const char *value);

/* Set the wire error and return PD_EAWS. The message is printf-formatted. The first error
 * set wins: later calls keep the first (the cause is where it was first known). */
/* Raw services: answer body (a new reference, consumed) as compact JSON with status. PD_OK. */
int pd_req_reply_json(struct pd_req *r, int status, json_t *body);
/* Is the peer a loopback client (127.0.0.0/8, ::1, v4-mapped 127.x; "" in-process)? */
int pd_req_from_loopback(const struct pd_req *r);

/* How much an admin call reveals or changes (pd_req_admin_refusal). */
enum pd_admin_level {
    PD_ADMIN_PUBLIC,    /* health, the CA certificate: only a loopback client */
    PD_ADMIN_READ,      /* decisions, issuers: and a loopback Host, podiam's own Origin */
    PD_ADMIN_SENSITIVE, /* changes state or reveals secrets: and a request no page can send */
};

/* The admin API's guard (podiam's own endpoints under /_podiam/; docs/usage.md), so that
 * no web page can drive it:
 *  - the peer is a loopback client (every level);
 *  - Host names a loopback name or address (localhost, *.localhost, 127.0.0.0/8, [::1]):
 *    a page reaching podiam through DNS rebinding, or a request to an AWS host name through
 *    the proxy, carries another Host (PD_ADMIN_READ and up);
 *  - Origin, when present, is podiam's own (http or https, a loopback host, one of podiam's
 *    ports) (PD_ADMIN_READ and up);
 *  - PD_ADMIN_SENSITIVE: the request is not one a browser sends without a CORS preflight,
 *    which podiam never grants: a JSON body (Content-Type application/json) or the header
 *    X-Podiam-Admin.
 * Returns NULL when the request may proceed, else the reason (a static string). */
const char *pd_req_admin_refusal(const struct pd_req *r, enum pd_admin_level level);

int pd_fail(struct pd_req *r, const struct pd_awserr *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Common wire errors shared by every service. */
extern const struct pd_awserr PD_ERR_InternalFailure;       /* 500 */
extern const struct pd_awserr PD_ERR_NotImplemented;        /* 501 */
extern const struct pd_awserr PD_ERR_InvalidAction;         /* 400 */
extern const struct pd_awserr PD_ERR_ValidationError;       /* 400 */
extern const struct pd_awserr PD_ERR_AccessDenied;          /* 403 */
extern const struct pd_awserr PD_ERR_RequestEntityTooLarge; /* 413 */
extern const struct pd_awserr PD_ERR_ServiceUnavailable;    /* 503 */

#endif
