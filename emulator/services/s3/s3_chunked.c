/*
 * s3_chunked.c - the aws-chunked decoder (see s3_chunked.h).
 *
 * A byte-at-a-time state machine for the framing (size lines, CRLFs, trailer lines) with
 * payload bytes passed through in runs: a chunk's data is handed to the callback as whole
 * as it arrived. Signed forms hash each chunk with SHA-256 as it streams and check the
 * chunk signature when the chunk ends (AWS's "AWS4-HMAC-SHA256-PAYLOAD" string to sign).
 */
#include "core/str.h"
#include "services/s3/s3_chunked.h"

#include <stdio.h>
#include <string.h>

#include "sigv4/sigv4.h"

enum { S_SIZE = 0, S_DATA, S_DATA_CRLF, S_TRAILER, S_DONE };

void pd_chunked_init(struct pd_chunked *c, const struct pd_chunked_cfg *cfg,
                     pd_chunked_data_fn *data, void *ctx)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->data = data;
    c->ctx = ctx;
    c->state = S_SIZE;
    if (cfg->signed_chunks && cfg->seed)
        snprintf(c->prev_sig, sizeof c->prev_sig, "%s", cfg->seed);
}

void pd_chunked_cleanup(struct pd_chunked *c)
{
    if (c->hashing) {
        pd_hash_cleanup(&c->chunk_hash);
        c->hashing = 0;
    }
}

static enum pd_chunked_err fail(struct pd_chunked *c, enum pd_chunked_err e)
{
    c->err = e;
    pd_chunked_cleanup(c);
    return e;
}

/* "hex[;chunk-signature=SIG]" */
static enum pd_chunked_err size_line(struct pd_chunked *c)
{
    const char *p = c->line;
    const char *end = c->line + c->line_len;
    uint64_t size = 0;
    int digits = 0;
    while (p < end && pd_hexval(*p) >= 0) {
        if (++digits > 15)
            return fail(c, PD_CHUNKED_EMALFORMED);
        size = size * 16 + (uint64_t)pd_hexval(*p++);
    }
    if (!digits)
        return fail(c, PD_CHUNKED_EMALFORMED);
    c->want_sig[0] = '\0';
    if (c->cfg.signed_chunks) {
        static const char tag[] = ";chunk-signature=";
        size_t tl = sizeof tag - 1;
        if ((size_t)(end - p) != tl + 64 || memcmp(p, tag, tl) != 0)
            return fail(c, PD_CHUNKED_EMALFORMED);
        memcpy(c->want_sig, p + tl, 64);
        c->want_sig[64] = '\0';
        pd_hash_init(&c->chunk_hash, PD_HASH_SHA256);
        c->hashing = 1;
    } else if (p != end) {
        /* unsigned forms carry no extensions */
        return fail(c, PD_CHUNKED_EMALFORMED);
    }
    c->remaining = size;
    c->last = size == 0;
    c->chunks++;
    return PD_CHUNKED_OK;
}

static enum pd_chunked_err chunk_end(struct pd_chunked *c)
{
    if (!c->cfg.signed_chunks)
        return PD_CHUNKED_OK;
    unsigned char d[PD_HASH_MAX_LEN];
    pd_hash_final(&c->chunk_hash, d);
    c->hashing = 0;
    char hex[65], sig[PD_SIGV4_SIG_HEX_LEN + 1];
    pd_hex_encode(d, PD_SHA256_LEN, hex);
    pd_sigv4_chunk_signature(c->cfg.key, c->cfg.amz_date, c->cfg.scope, c->prev_sig, hex, sig);
    if (!pd_ct_equal(sig, c->want_sig, 64))
        return fail(c, PD_CHUNKED_ESIG);
    memcpy(c->prev_sig, sig, sizeof sig);
    return PD_CHUNKED_OK;
}

static enum pd_chunked_err trailer_line(struct pd_chunked *c)
{
    const char *colon = memchr(c->line, ':', c->line_len);
    if (!colon || colon == c->line)
        return fail(c, PD_CHUNKED_ETRAILER);
    size_t nl = (size_t)(colon - c->line);
    const char *v = colon + 1;
    size_t vl = c->line_len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    char name[64];
    if (nl >= sizeof name)
        return fail(c, PD_CHUNKED_ETRAILER);
    for (size_t i = 0; i < nl; i++)
        name[i] = (char)(c->line[i] >= 'A' && c->line[i] <= 'Z' ? c->line[i] + 32 : c->line[i]);
    name[nl] = '\0';
    if (strcmp(name, "x-amz-trailer-signature") == 0) {
        if (!c->cfg.signed_chunks || vl != 64 || c->trailer_sig[0])
            return fail(c, PD_CHUNKED_ETRAILER);
        memcpy(c->trailer_sig, v, 64);
        c->trailer_sig[64] = '\0';
        return PD_CHUNKED_OK;
    }
    if (!c->cfg.trailer || c->trailer_sig[0] || c->ntrailers == PD_CHUNKED_TRAILERS ||
        vl >= sizeof c->trailers[0].value)
        return fail(c, PD_CHUNKED_ETRAILER);
    struct pd_chunked_trailer *t = &c->trailers[c->ntrailers++];
    memcpy(t->name, name, nl + 1);
    memcpy(t->value, v, vl);
    t->value[vl] = '\0';
    /* the signed text is the line as sent, with LF for CRLF */
    struct pd_chunked_text *b = &c->trailer_text;
    if (b->n + c->line_len + 1 > sizeof b->p)
        return fail(c, PD_CHUNKED_ETRAILER);
    memcpy(b->p + b->n, c->line, c->line_len);
    b->n += c->line_len;
    b->p[b->n++] = '\n';
    return PD_CHUNKED_OK;
}

static enum pd_chunked_err trailer_done(struct pd_chunked *c)
{
    if (c->cfg.signed_chunks && c->cfg.trailer) {
        if (!c->trailer_sig[0])
            return fail(c, PD_CHUNKED_ETRAILERSIG);
        char sig[PD_SIGV4_SIG_HEX_LEN + 1];
        pd_sigv4_trailer_signature(c->cfg.key, c->cfg.amz_date, c->cfg.scope, c->prev_sig,
                                   c->trailer_text.p, c->trailer_text.n, sig);
        if (!pd_ct_equal(sig, c->trailer_sig, 64))
            return fail(c, PD_CHUNKED_ETRAILERSIG);
    }
    c->state = S_DONE;
    return PD_CHUNKED_OK;
}

/* A CRLF-terminated line is complete in c->line (without CRLF). */
static enum pd_chunked_err line_done(struct pd_chunked *c)
{
    enum pd_chunked_err e = PD_CHUNKED_OK;
    if (c->state == S_SIZE) {
        e = size_line(c);
        if (e)
            return e;
        if (c->last) {
            e = chunk_end(c);
            c->state = S_TRAILER;
        } else {
            c->state = S_DATA;
        }
    } else if (c->line_len == 0) {
        e = trailer_done(c);
    } else {
        e = trailer_line(c);
    }
    c->line_len = 0;
    return e;
}

enum pd_chunked_err pd_chunked_feed(struct pd_chunked *c, const char *p, size_t n)
{
    if (c->err)
        return c->err;
    const char *end = p + n;
    while (p < end) {
        switch (c->state) {
        case S_DATA: {
            size_t take = (size_t)(end - p);
            if ((uint64_t)take > c->remaining)
                take = (size_t)c->remaining;
            if (c->hashing)
                pd_hash_update(&c->chunk_hash, p, take);
            if (take && c->data) {
                int rc = c->data(c->ctx, p, take);
                if (rc) {
                    c->cb_rc = rc;
                    return fail(c, PD_CHUNKED_ECALLBACK);
                }
            }
            c->decoded += take;
            c->remaining -= take;
            p += take;
            if (!c->remaining) {
                c->state = S_DATA_CRLF;
                c->crlf_seen = 0;
            }
            break;
        }
        case S_DATA_CRLF:
            if (*p != (c->crlf_seen ? '\n' : '\r'))
                return fail(c, PD_CHUNKED_EMALFORMED);
            p++;
            if (++c->crlf_seen == 2) {
                enum pd_chunked_err e = chunk_end(c);
                if (e)
                    return e;
                c->state = S_SIZE;
            }
            break;
        case S_SIZE:
        case S_TRAILER: {
            char ch = *p++;
            if (ch == '\n') {
                if (!c->line_len || c->line[c->line_len - 1] != '\r')
                    return fail(c,
                                c->state == S_SIZE ? PD_CHUNKED_EMALFORMED : PD_CHUNKED_ETRAILER);
                c->line_len--;
                enum pd_chunked_err e = line_done(c);
                if (e)
                    return e;
                break;
            }
            if (c->line_len == sizeof c->line)
                return fail(c, c->state == S_SIZE ? PD_CHUNKED_EMALFORMED : PD_CHUNKED_ETRAILER);
            c->line[c->line_len++] = ch;
            break;
        }
        default: /* S_DONE: nothing may follow */
            return fail(c, PD_CHUNKED_EMALFORMED);
        }
    }
    return PD_CHUNKED_OK;
}

enum pd_chunked_err pd_chunked_finish(struct pd_chunked *c)
{
    if (c->err)
        return c->err;
    if (c->state == S_DONE)
        return PD_CHUNKED_OK;
    /* Tolerate a body that ends right after the last trailer line (or the final chunk)
     * without the closing empty line: nothing is missing from the payload. */
    if (c->state == S_TRAILER && c->line_len == 0) {
        enum pd_chunked_err e = trailer_done(c);
        return e;
    }
    return fail(c, PD_CHUNKED_EINCOMPLETE);
}

const char *pd_chunked_trailer(const struct pd_chunked *c, const char *name)
{
    for (size_t i = 0; i < c->ntrailers; i++)
        if (strcmp(c->trailers[i].name, name) == 0)
            return c->trailers[i].value;
    return NULL;
}
