/*
 * s3_form.h - a streaming multipart/form-data parser for S3's POST Object (browser form
 * uploads). Pure: no request, no store, no allocation beyond the parser's own bounded
 * buffers, so it is unit-tested at every split point and fuzzed (tests/fuzz/fuzz_form.c).
 *
 * Bytes arrive in any pieces. Fields before the file are collected whole (their names and
 * values together at most max_fields bytes: S3's 20 KB limit on what precedes the file) and
 * handed over one at a time; the part named "file" (any case) is streamed to the caller as
 * it arrives, never held; S3 reads nothing after it, and neither does this parser. Part
 * headers are bounded too (PD_FORM_MAX_HEADER bytes).
 *
 * Grammar (RFC 7578 / RFC 2046): an optional preamble, then parts separated by
 * CRLF "--" boundary, each with header lines, an empty line and its content; the boundary
 * that closes the body ends in "--". The parser finds a delimiter split across pieces by
 * keeping the partial match of "\r\n--" boundary (a boundary holds no CR or LF, so a failed
 * match can only restart at a CR).
 */
#ifndef PD_SERVICES_S3_FORM_H
#define PD_SERVICES_S3_FORM_H

#include <stddef.h>

#define PD_FORM_MAX_BOUNDARY 70 /* RFC 2046 */
#define PD_FORM_MAX_HEADER 4096 /* one part's header block */
#define PD_FORM_MAX_NAME 256    /* a field name */

enum pd_form_err {
    PD_FORM_OK = 0,
    PD_FORM_EMALFORMED, /* not multipart/form-data as the grammar says */
    PD_FORM_ETOOBIG,    /* the fields before the file exceed max_fields */
    PD_FORM_ENOFILE,    /* the body ended without a part named "file" */
    PD_FORM_ECALLBACK,  /* a callback refused (its own error is set) */
};

struct pd_form_cb {
    /* A field before the file, complete: name (NUL-terminated, as sent), value (vlen bytes,
     * NUL-terminated, may hold NULs). Return 0 to go on. */
    int (*field)(void *ctx, const char *name, const char *value, size_t vlen);
    /* The file part begins: filename (NULL when the part has none) and its Content-Type
     * (NULL when absent). Every field has been handed over. */
    int (*file_begin)(void *ctx, const char *filename, const char *content_type);
    /* File bytes, in order. */
    int (*file_data)(void *ctx, const char *p, size_t n);
    /* The file part ended (its closing delimiter was seen). */
    int (*file_end)(void *ctx);
};

struct pd_form {
    struct pd_form_cb cb;
    void *ctx;
    char delim[PD_FORM_MAX_BOUNDARY + 5]; /* "\r\n--" boundary */
    size_t dlen;
    size_t match;      /* bytes of delim matched so far */
    int state;         /* see s3_form.c */
    size_t max_fields; /* bytes of field names and values allowed before the file */
    size_t used;       /* ... used so far */
    char hdr[PD_FORM_MAX_HEADER];
    size_t hlen;
    char name[PD_FORM_MAX_NAME];
    char *val; /* the current field's value (max_fields + 1 bytes, owned) */
    size_t vlen;
    int in_file;
    int file_seen;
    char after[2]; /* the two bytes after a delimiter ("--" or CRLF) */
    size_t alen;
};

/* Set up for boundary (the Content-Type's boundary parameter, without quotes). Returns
 * PD_FORM_OK, or PD_FORM_EMALFORMED for an empty, overlong or CR/LF-holding boundary. */
enum pd_form_err pd_form_init(struct pd_form *f, const char *boundary, size_t max_fields,
                              const struct pd_form_cb *cb, void *ctx);
enum pd_form_err pd_form_feed(struct pd_form *f, const char *p, size_t n);
/* The body is complete: PD_FORM_OK once the file part has ended, PD_FORM_ENOFILE when there
 * was none, PD_FORM_EMALFORMED when the body stopped mid-part. */
enum pd_form_err pd_form_finish(struct pd_form *f);
void pd_form_cleanup(struct pd_form *f);

/* The boundary parameter of a multipart/form-data Content-Type, copied into out (size cap),
 * or 0 when ct is not multipart/form-data with a usable boundary. */
int pd_form_boundary(const char *ct, char *out, size_t cap);

#endif
