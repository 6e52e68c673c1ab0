/*
 * s3_chunked.h - the aws-chunked payload decoder (S3 streaming uploads). Pure.
 *
 * Parses the body of a request whose x-amz-content-sha256 is one of the STREAMING-* forms:
 *
 *   hex(size)[;chunk-signature=SIG]\r\n <size bytes> \r\n   ... repeated, then
 *   0[;chunk-signature=SIG]\r\n  [trailer lines "name:value\r\n"]  \r\n
 *
 * and, for the signed forms, verifies each chunk's signature (seeded with the request's
 * signature) and the trailer signature (x-amz-trailer-signature) with the request's signing
 * key. Bytes may arrive split anywhere: feed what you have, as often as you like; payload
 * bytes come out through the data callback in order. Memory is fixed (no buffering beyond
 * one header or trailer line). No I/O, no request struct: unit-testable and fuzzable.
 */
#ifndef PD_SERVICES_S3_CHUNKED_H
#define PD_SERVICES_S3_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

#define PD_CHUNKED_LINE_MAX 1024 /* longest chunk header or trailer line */
#define PD_CHUNKED_TRAILERS 4    /* trailing headers kept (besides the signature) */

enum pd_chunked_err {
    PD_CHUNKED_OK = 0,
    PD_CHUNKED_EMALFORMED,  /* bad framing: size line, missing CRLF, bytes after the end */
    PD_CHUNKED_ESIG,        /* a chunk signature does not match */
    PD_CHUNKED_ETRAILER,    /* a malformed trailer line, or one not announced */
    PD_CHUNKED_ETRAILERSIG, /* the trailer signature is missing or does not match */
    PD_CHUNKED_EINCOMPLETE, /* the body ended before the final chunk (finish) */
    PD_CHUNKED_ECALLBACK,   /* the data callback refused (its code in cb_rc) */
};

/* Receives payload bytes; returns 0 to go on, anything else to stop (kept in cb_rc). */
typedef int pd_chunked_data_fn(void *ctx, const char *p, size_t n);

struct pd_chunked_cfg {
    int signed_chunks;        /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] */
    int trailer;              /* the -TRAILER forms: trailing headers may follow the last chunk */
    const unsigned char *key; /* signing key (PD_SIGV4_KEY_LEN bytes), signed forms only */
    const char *amz_date;     /* the request's X-Amz-Date */
    const char *scope;        /* "20130524/us-east-1/s3/aws4_request" */
    const char *seed;         /* the request's signature (hex) */
};

struct pd_chunked_trailer {
    char name[64]; /* lower-cased */
    char value[160];
};

struct pd_chunked {
    struct pd_chunked_cfg cfg;
    pd_chunked_data_fn *data;
    void *ctx;
    int state;
    enum pd_chunked_err err;
    int cb_rc;
    char line[PD_CHUNKED_LINE_MAX];
    size_t line_len;
    uint64_t remaining; /* bytes of the current chunk still to come */
    int crlf_seen;      /* after chunk data: how many of "\r\n" were read */
    int last;           /* the current chunk is the zero-length final one */
    char want_sig[65];  /* signature announced for the current chunk */
    char prev_sig[65];
    struct pd_hash chunk_hash; /* SHA-256 of the current chunk (signed forms) */
    int hashing;
    struct pd_chunked_text {
        char p[PD_CHUNKED_LINE_MAX * 2];
        size_t n;
    } trailer_text; /* "name:value\n" lines, for the trailer signature */
    char trailer_sig[65];
    struct pd_chunked_trailer trailers[PD_CHUNKED_TRAILERS];
    size_t ntrailers;
    uint64_t decoded; /* payload bytes delivered */
    uint64_t chunks;  /* chunks seen, final included */
};

/* Start decoding. cfg's strings must outlive the decoder. */
void pd_chunked_init(struct pd_chunked *c, const struct pd_chunked_cfg *cfg,
                     pd_chunked_data_fn *data, void *ctx);
/* Feed n bytes. Returns PD_CHUNKED_OK or the first error (sticky: later calls return it). */
enum pd_chunked_err pd_chunked_feed(struct pd_chunked *c, const char *p, size_t n);
/* The body has ended: PD_CHUNKED_OK when the final chunk (and trailer) were complete. */
enum pd_chunked_err pd_chunked_finish(struct pd_chunked *c);
/* Release hashing state (safe at any time, and more than once). */
void pd_chunked_cleanup(struct pd_chunked *c);
/* A trailing header's value by lower-case name, or NULL. */
const char *pd_chunked_trailer(const struct pd_chunked *c, const char *name);

#endif
