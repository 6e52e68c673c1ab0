/*
 * s3_upload.c - the body sink of streamed uploads (PutObject, UploadPart), and checks of
 * buffered bodies' digests.
 *
 * The sink decides at the headers what the body is (x-amz-content-sha256: a signed
 * SHA-256, UNSIGNED-PAYLOAD, or one of the aws-chunked STREAMING-* forms) and which digests
 * it must check (Content-MD5, one x-amz-checksum-* header or trailer). Bytes then flow:
 * aws-chunked decoder (when chunked) -> MD5 (ETag) + SHA-256 (when signed) + the checksum
 * -> a 256 KiB write buffer -> a temp file in tmp/ (8 MiB and bigger bodies: two 1 MiB
 * buffers and a writer thread that also does the MD5). Memory does not grow with the object,
 * except for a PutObject whose announced length is at most the inline threshold
 * (--s3-inline-max): its bytes are collected in memory (that many bytes, no file) for the
 * handler to store in the database with the object's row. finish() checks lengths and
 * digests and leaves the complete temp file (or the bytes) for the handler; discard()
 * removes the temp file when the request ends otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "services/s3/s3_chunked.h"
#include "services/s3/s3_internal.h"

#define WBUF (256 * 1024)
#define ABUF (1024 * 1024)                   /* buffers of the background writer */
#define ASYNC_MIN ((int64_t)8 * 1024 * 1024) /* bodies from this size use it */

/* A second thread that hashes (MD5) and writes full buffers while the request's thread
 * receives the next one (and computes the other digests it needs): the socket copy and the
 * MD5 + page-cache copy then run on two cores. Buffers are handed over in order, so the MD5
 * sees the body in order. */
struct writer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *buf[2];
    size_t len[2];
    int full[2];
    int next;  /* the buffer the writer takes next */
    int stop;  /* no more buffers will come */
    int abort; /* drop what is pending */
    int err;   /* a write failed (errno) */
    int fd;
    struct pd_hash *md5; /* the body's MD5, updated here, in order, before each write */
};

enum payload { P_NONE = 0, P_SIGNED, P_UNSIGNED, P_CHUNKED };

struct s3_feed {
    struct pd_body_sink sink;
    struct s3_body body;
    int fd;
    char *tmp;
    char *mem; /* inline body: the announced length, arena-owned; no file then */
    char *wbuf;
    size_t wlen;
    enum payload mode;
    int chunked_signed, trailer;
    struct pd_chunked dec;
    int dec_live;
    struct pd_hash md5, sha256;
    int md5_live, sha_live;
    char want_sha[65];      /* signed payload hash */
    struct s3_cksum ck;     /* the checksum computed */
    const char *ck_sent;    /* base64 value sent in a header, or NULL */
    const char *ck_trailer; /* "x-amz-checksum-crc32" announced in x-amz-trailer */
    unsigned char md5_sent[PD_MD5_LEN];
    int have_md5;
    int64_t expect; /* payload length announced, or -1 */
    int failed;
    struct writer *w; /* background writer (big bodies), or NULL */
    int cur;          /* with w: the buffer being filled */
};

/* ---- writing ---- */

static int write_all(int fd, const char *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, p + off, n - off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        off += (size_t)k;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->full[w->next] && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->full[w->next] || w->abort)
            break;
        int i = w->next;
        pthread_mutex_unlock(&w->mu);
        pd_hash_update(w->md5, w->buf[i], w->len[i]);
        int e = w->err ? 0 : write_all(w->fd, w->buf[i], w->len[i]);
        pthread_mutex_lock(&w->mu);
        if (e && !w->err)
            w->err = e;
        w->full[i] = 0;
        w->next ^= 1;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static struct writer *writer_start(int fd, struct pd_hash *md5)
{
    struct writer *w = pd_xcalloc(1, sizeof *w);
    w->fd = fd;
    w->md5 = md5;
    w->buf[0] = pd_xmalloc(ABUF);
    w->buf[1] = pd_xmalloc(ABUF);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, writer_main, w) != 0) {
        free(w->buf[0]);
        free(w->buf[1]);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL; /* write synchronously then */
    }
    return w;
}

/* Stop the writer (after what is queued, or at once when abort) and free it. Returns the
 * errno of a failed write, or 0. */
static int writer_stop(struct writer *w, int abort)
{
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    w->abort = abort;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    int e = w->err;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->buf[0]);
    free(w->buf[1]);
    free(w);
    return e;
}

static int flush(struct pd_req *r, struct s3_feed *u)
{
    int e = 0;
    if (u->w) {
        /* hand the filled buffer over and wait for the other one to be free */
        struct writer *w = u->w;
        if (!u->wlen)
            return PD_OK;
        pthread_mutex_lock(&w->mu);
        w->len[u->cur] = u->wlen;
        w->full[u->cur] = 1;
        pthread_cond_broadcast(&w->cv);
        u->cur ^= 1;
        while (w->full[u->cur] && !w->err)
            pthread_cond_wait(&w->cv, &w->mu);
        e = w->err;
        pthread_mutex_unlock(&w->mu);
        u->wbuf = w->buf[u->cur];
    } else {
        e = write_all(u->fd, u->wbuf, u->wlen);
    }
    u->wlen = 0;
    if (e) {
        pd_log_req(PD_LOG_ERROR, r->request_id, "s3: writing %s: %s", u->tmp, strerror(e));
        return PD_EIO;
    }
    return PD_OK;
}

/* Payload bytes (after de-chunking). */
static int payload(struct pd_req *r, struct s3_feed *u, const char *p, size_t n)
{
    if (u->expect >= 0 && u->body.size + (int64_t)n > u->expect)
        return pd_fail(r, &S3_IncompleteBody, "The request body is longer than announced.");
    int64_t at = u->body.size;
    u->body.size += (int64_t)n;
    if (!u->w)
        pd_hash_update(&u->md5, p, n); /* else the writer thread hashes what it writes */
    if (u->sha_live)
        pd_hash_update(&u->sha256, p, n);
    if (u->ck.alg)
        s3_ck_update(&u->ck, p, n);
    if (u->mem) {
        if (n)
            memcpy(u->mem + at, p, n); /* within the announced length, checked above */
        return PD_OK;
    }
    size_t cap = u->w ? ABUF : WBUF;
    if (!u->w && u->wlen == 0 && n >= WBUF) {
        /* a big piece goes straight to the file */
        char *save = u->wbuf;
        u->wbuf = (char *)p;
        u->wlen = n;
        int rc = flush(r, u);
        u->wbuf = save;
        u->wlen = 0;
        return rc ? s3_internal(r, rc, "writing an upload") : PD_OK;
    }
    while (n) {
        size_t take = cap - u->wlen;
        if (take > n)
            take = n;
        memcpy(u->wbuf + u->wlen, p, take);
        u->wlen += take;
        p += take;
        n -= take;
        if (u->wlen == cap) {
            int rc = flush(r, u);
            if (rc)
                return s3_internal(r, rc, "writing an upload");
        }
    }
    return PD_OK;
}

static int on_chunk_data(void *ctx, const char *p, size_t n)
{
    struct pd_req *r = ctx;
    struct s3_feed *u = r->sink->state;
    return payload(r, u, p, n);
}

static int chunked_fail(struct pd_req *r, struct s3_feed *u, enum pd_chunked_err e)
{
    switch (e) {
    case PD_CHUNKED_ECALLBACK:
        return PD_EAWS; /* the error is set */
    case PD_CHUNKED_ESIG:
    case PD_CHUNKED_ETRAILERSIG:
        return pd_fail(r, &S3_SignatureDoesNotMatch,
                       "The request signature we calculated does not match the signature you "
                       "provided. Check your key and signing method.");
    case PD_CHUNKED_ETRAILER:
        return pd_fail(r, &S3_MalformedTrailerError,
                       "The request contained trailing data that was not well-formed or did "
                       "not conform to our published schema.");
    case PD_CHUNKED_EINCOMPLETE:
        return pd_fail(r, &S3_IncompleteBody, "The request body terminated unexpectedly");
    default:
        (void)u;
        return pd_fail(r, &S3_InvalidRequest, "The aws-chunked body is malformed.");
    }
}

int s3_feed_write(struct pd_req *r, struct s3_feed *u, const char *p, size_t n)
{
    if (u->failed)
        return PD_EAWS;
    int rc;
    if (u->mode == P_CHUNKED) {
        enum pd_chunked_err e = pd_chunked_feed(&u->dec, p, n);
        rc = e ? chunked_fail(r, u, e) : PD_OK;
    } else {
        rc = payload(r, u, p, n);
    }
    if (rc)
        u->failed = 1;
    return rc;
}

static void release(struct s3_feed *u)
{
    if (u->md5_live)
        pd_hash_cleanup(&u->md5);
    if (u->sha_live)
        pd_hash_cleanup(&u->sha256);
    u->md5_live = u->sha_live = 0;
    s3_ck_cleanup(&u->ck);
    if (u->dec_live)
        pd_chunked_cleanup(&u->dec);
    u->dec_live = 0;
    if (u->w) {
        writer_stop(u->w, 1);
        u->w = NULL;
    } else {
        free(u->wbuf);
    }
    u->wbuf = NULL;
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
}

static int bad_digest(struct pd_req *r, enum s3_ck_alg alg)
{
    return pd_fail(r, &S3_BadDigest, "The %s you specified did not match the calculated checksum.",
                   s3_ck_name(alg));
}

int s3_feed_finish(struct pd_req *r, struct s3_feed *u)
{
    int rc = PD_OK;
    if (u->failed)
        return PD_EAWS;
    if (u->mode == P_CHUNKED) {
        enum pd_chunked_err e = pd_chunked_finish(&u->dec);
        if (e) {
            rc = chunked_fail(r, u, e);
            goto out;
        }
    }
    if (u->expect >= 0 && u->body.size != u->expect) {
        rc = pd_fail(r, &S3_IncompleteBody,
                     "You did not provide the number of bytes specified by the Content-Length "
                     "HTTP header");
        goto out;
    }
    if (!u->mem)
        rc = flush(r, u);
    if (u->w) {
        int e = writer_stop(u->w, rc != PD_OK);
        u->w = NULL;
        u->wbuf = NULL;
        if (e && rc == PD_OK) {
            pd_log_req(PD_LOG_ERROR, r->request_id, "s3: writing %s: %s", u->tmp, strerror(e));
            rc = PD_EIO;
        }
    }
    if (rc == PD_OK && !u->mem && r->env->cfg.sync_full && fsync(u->fd) != 0)
        rc = PD_EIO;
    if (rc) {
        rc = s3_internal(r, rc, "writing an upload");
        goto out;
    }
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    {
        unsigned char d[PD_HASH_MAX_LEN];
        pd_hash_final(&u->md5, d);
        memcpy(u->body.md5, d, PD_MD5_LEN);
    }
    u->md5_live = 0;
    if (u->sha_live) {
        unsigned char d[PD_SHA256_LEN];
        char hex[65];
        pd_hash_final(&u->sha256, d);
        u->sha_live = 0;
        pd_hex_encode(d, sizeof d, hex);
        if (!pd_strcaseeq(hex, u->want_sha)) {
            rc = pd_fail(r, &S3_XAmzContentSHA256Mismatch,
                         "The provided 'x-amz-content-sha256' header does not match what was "
                         "computed.");
            r->err.extra = json_pack("{s:s, s:s}", "ClientComputedContentSHA256", u->want_sha,
                                     "S3ComputedContentSHA256", hex);
            goto out;
        }
    }
    if (u->have_md5 && memcmp(u->md5_sent, u->body.md5, PD_MD5_LEN) != 0) {
        rc = pd_fail(r, &S3_BadDigest,
                     "The Content-MD5 you specified did not match what we received.");
        goto out;
    }
    if (u->ck.alg) {
        unsigned char d[32];
        s3_ck_final(&u->ck, d);
        u->body.ck_alg = u->ck.alg;
        u->body.ck_b64 = pd_base64_encode(&r->arena, d, s3_ck_len(u->ck.alg), 0);
        const char *sent = u->ck_sent;
        if (u->ck_trailer) {
            sent = pd_chunked_trailer(&u->dec, u->ck_trailer);
            if (!sent) {
                rc = pd_fail(r, &S3_InvalidRequest,
                             "The x-amz-trailer header announces %s but the body has no such "
                             "trailer.",
                             u->ck_trailer);
                goto out;
            }
            unsigned char *raw;
            size_t rl;
            if (pd_base64_decode(&r->arena, sent, strlen(sent), &raw, &rl) ||
                rl != s3_ck_len(u->ck.alg)) {
                rc = pd_fail(r, &S3_InvalidRequest, "Value for %s trailing header is invalid.",
                             u->ck_trailer);
                goto out;
            }
        }
        if (sent && strcmp(sent, u->body.ck_b64) != 0) {
            rc = bad_digest(r, u->ck.alg);
            goto out;
        }
    }
    u->body.tmp = u->tmp;
    u->body.mem = u->mem;
out:
    release(u);
    if (rc)
        u->failed = 1;
    return rc;
}

void s3_feed_discard(struct pd_req *r, struct s3_feed *u)
{
    release(u);
    if (u->tmp && unlink(u->tmp) != 0 && errno != ENOENT)
        pd_log_req(PD_LOG_WARN, r->request_id, "s3: cannot remove %s: %s", u->tmp, strerror(errno));
    u->tmp = NULL;
}

const struct s3_body *s3_feed_body(const struct s3_feed *u)
{
    return u->body.tmp || u->body.mem ? &u->body : NULL;
}

int64_t s3_feed_size(const struct s3_feed *u)
{
    return u->body.size;
}

static int sink_write(struct pd_req *r, const char *p, size_t n)
{
    return s3_feed_write(r, r->sink->state, p, n);
}

static int sink_finish(struct pd_req *r)
{
    return s3_feed_finish(r, r->sink->state);
}

static void sink_discard(struct pd_req *r)
{
    s3_feed_discard(r, r->sink->state);
}

const struct s3_body *s3_body_of(struct pd_req *r)
{
    if (!r->sink || r->sink->write != sink_write)
        return NULL;
    return s3_feed_body(r->sink->state);
}

/* ---- what the headers say ---- */

static int is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
            return 0;
    return 1;
}

/* The single checksum of a request: from x-amz-checksum-* headers, an x-amz-trailer, or
 * x-amz-sdk-checksum-algorithm. */
static int checksum_setup(struct pd_req *r, enum s3_ck_alg dflt, enum s3_ck_alg *OUT_alg,
                          const char **OUT_sent, const char **OUT_trailer)
{
    *OUT_alg = S3_CK_NONE;
    *OUT_sent = NULL;
    *OUT_trailer = NULL;
    enum s3_ck_alg found = S3_CK_NONE;
    int count = 0;
    for (size_t i = 0; i < r->hdrs.n; i++) {
        const char *name = r->hdrs.v[i].name;
        if (!pd_has_prefix(name, "x-amz-checksum-") || !strcmp(name, "x-amz-checksum-mode") ||
            !strcmp(name, "x-amz-checksum-type") || !strcmp(name, "x-amz-checksum-algorithm"))
            continue;
        enum s3_ck_alg a = s3_ck_parse(name + 15);
        count++;
        if (!a)
            return pd_fail(r, &S3_InvalidRequest,
                           "The algorithm type you specified in %s header is invalid.", name);
        found = a;
        *OUT_sent = r->hdrs.v[i].value;
    }
    const char *trailer = pd_req_header(r, "x-amz-trailer");
    if (count > 1 || (count && trailer))
        return pd_fail(r, &S3_InvalidRequest,
                       "Expecting a single x-amz-checksum- header. "
                       "Multiple checksum Types are not allowed.");
    if (trailer) {
        char *t = pd_arena_strdup(&r->arena, trailer);
        pd_lower(t);
        while (*t == ' ')
            t++;
        if (!pd_has_prefix(t, "x-amz-checksum-") || !s3_ck_parse(t + 15))
            return pd_fail(r, &S3_InvalidRequest,
                           "The value specified in the x-amz-trailer "
                           "header is not supported");
        found = s3_ck_parse(t + 15);
        *OUT_trailer = t;
    }
    if (*OUT_sent) {
        unsigned char *raw;
        size_t rl;
        if (pd_base64_decode(&r->arena, *OUT_sent, strlen(*OUT_sent), &raw, &rl) ||
            rl != s3_ck_len(found))
            return pd_fail(r, &S3_InvalidRequest, "Value for %s header is invalid.",
                           s3_ck_header(found));
    }
    const char *sdk = pd_req_header(r, "x-amz-sdk-checksum-algorithm");
    if (sdk) {
        enum s3_ck_alg a = s3_ck_parse(sdk);
        if (!a)
            return pd_fail(r, &S3_InvalidRequest,
                           "Value for x-amz-sdk-checksum-algorithm header is invalid.");
        if (!found)
            return pd_fail(r, &S3_InvalidRequest,
                           "x-amz-sdk-checksum-algorithm specified, but no corresponding "
                           "x-amz-checksum-* or x-amz-trailer headers were found.");
        if (a != found)
            return pd_fail(r, &S3_InvalidRequest,
                           "Value for x-amz-sdk-checksum-algorithm header is invalid.");
    }
    *OUT_alg = found ? found : dflt;
    return PD_OK;
}

static int content_md5(struct pd_req *r, unsigned char out[PD_MD5_LEN], int *OUT_have)
{
    *OUT_have = 0;
    const char *m = pd_req_header(r, "content-md5");
    if (!m)
        return PD_OK;
    unsigned char *raw;
    size_t rl;
    if (pd_base64_decode(&r->arena, m, strlen(m), &raw, &rl) || rl != PD_MD5_LEN)
        return pd_fail(r, &S3_InvalidDigest, "The Content-MD5 you specified is not valid.");
    memcpy(out, raw, PD_MD5_LEN);
    *OUT_have = 1;
    return PD_OK;
}

/* The upload's checksum algorithm (UploadPart: parts carry the upload's), and NoSuchUpload
 * before the body when the upload does not exist. */
static int part_algorithm(struct pd_req *r, enum s3_ck_alg *OUT)
{
    *OUT = S3_CK_NONE;
    if (strcmp(r->op->name, "UploadPart") != 0)
        return PD_OK;
    struct pd_s3_upload up;
    const char *id = s3_in_str(r, "UploadId");
    int rc = id ? pd_s3_db_upload_get(r->db, &r->arena, id, &up) : PD_ENOTFOUND;
    if (rc == PD_OK &&
        (strcmp(up.bucket, s3_in_str(r, "Bucket")) || strcmp(up.key, s3_in_str(r, "Key"))))
        rc = PD_ENOTFOUND;
    if (rc == PD_ENOTFOUND) {
        pd_fail(r, &S3_NoSuchUpload,
                "The specified upload does not exist. The upload ID may be invalid, or the "
                "upload may have been aborted or completed.");
        r->err.extra = json_pack("{s:s}", "UploadId", id ? id : "");
        return PD_EAWS;
    }
    if (rc)
        return s3_internal(r, rc, "reading the upload");
    json_t *meta = json_loads(up.meta, 0, NULL);
    *OUT = s3_ck_parse(json_string_value(json_object_get(meta, "ChecksumAlgorithm")));
    json_decref(meta);
    return PD_OK;
}

/* Where the body goes (memory for a small PutObject, else a temp file) and the digests it
 * needs. PD_OK or PD_EAWS. */
static int open_body(struct pd_req *r, struct s3_feed *u, enum s3_ck_alg alg, int may_inline)
{
    if (may_inline && s3_inline(r, u->expect)) {
        /* a small object: its bytes go to the database with its row (parts stay files) */
        u->mem = pd_arena_alloc(&r->arena, u->expect ? (size_t)u->expect : 1);
    } else {
        u->tmp = s3_new_tmp(r);
        u->fd = open(u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (u->fd < 0) {
            pd_log_req(PD_LOG_ERROR, r->request_id, "s3: cannot create %s: %s", u->tmp,
                       strerror(errno));
            u->tmp = NULL;
            return s3_internal(r, PD_EIO, "creating an upload file");
        }
    }
    pd_hash_init(&u->md5, PD_HASH_MD5);
    u->md5_live = 1;
    if (u->mem)
        u->wbuf = NULL;
    else if (u->expect >= ASYNC_MIN && (u->w = writer_start(u->fd, &u->md5)) != NULL)
        u->wbuf = u->w->buf[0];
    else
        u->wbuf = pd_xmalloc(WBUF);
    if (u->mode == P_SIGNED) {
        pd_hash_init(&u->sha256, PD_HASH_SHA256);
        u->sha_live = 1;
    }
    if (alg)
        s3_ck_init(&u->ck, alg);
    return PD_OK;
}

int s3_feed_open(struct pd_req *r, enum s3_ck_alg alg, const char *ck_sent, struct s3_feed **OUT)
{
    struct s3_feed *u = pd_arena_zalloc(&r->arena, sizeof *u);
    u->fd = -1;
    u->expect = -1; /* a form's file has no length of its own */
    u->mode = P_UNSIGNED;
    u->ck_sent = ck_sent;
    *OUT = u;
    return open_body(r, u, alg, 0);
}

int pd_s3_stream(struct pd_req *r)
{
    if (r->op->flags & PD_OP_NOMODEL)
        return !strcmp(r->op->name, "PostObject") ? s3_post_stream(r) : PD_OK;
    struct s3_feed *u = pd_arena_zalloc(&r->arena, sizeof *u);
    u->fd = -1;
    u->expect = -1;
    const char *h = pd_req_header(r, "x-amz-content-sha256");
    if (r->sig.auth_type == 2 || !h) {
        u->mode = h && is_hex64(h) ? P_SIGNED : P_UNSIGNED;
    } else if (is_hex64(h)) {
        u->mode = P_SIGNED;
    } else if (!strcmp(h, "UNSIGNED-PAYLOAD")) {
        u->mode = P_UNSIGNED;
    } else if (!strcmp(h, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") ||
               !strcmp(h, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")) {
        u->mode = P_CHUNKED;
        u->chunked_signed = 1;
        u->trailer = strstr(h, "-TRAILER") != NULL;
    } else if (!strcmp(h, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")) {
        u->mode = P_CHUNKED;
        u->trailer = 1;
    } else if (pd_has_prefix(h, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")) {
        return pd_fail(r, &S3_NotImplemented,
                       "SigV4a streaming payloads are not implemented by podiam.");
    } else {
        return pd_fail(r, &S3_InvalidArgument,
                       "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                       "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                       "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
                       "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "
                       "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 "
                       "value.");
    }
    if (u->mode == P_SIGNED)
        snprintf(u->want_sha, sizeof u->want_sha, "%s", h);
    if (u->chunked_signed && !r->sig.have_key)
        return pd_fail(r, &S3_InvalidRequest, "Streaming signed payloads need header signing.");

    const char *cl = pd_req_header(r, "content-length");
    int64_t n;
    if (u->mode == P_CHUNKED) {
        const char *dl = pd_req_header(r, "x-amz-decoded-content-length");
        if (!dl)
            return pd_fail(r, &S3_MissingContentLength,
                           "You must provide the Content-Length HTTP header.");
        if (pd_parse_i64(dl, 0, INT64_MAX, &n))
            return pd_fail(r, &S3_InvalidArgument,
                           "x-amz-decoded-content-length must be a number.");
        u->expect = n;
    } else if (pd_req_header(r, "transfer-encoding")) {
        /* HTTP chunked without aws-chunked: S3 answers 501 naming the header (public
         * captures: aws/aws-sdk-js#15, Automattic/knox#43, chilts/awssum#30) */
        pd_fail(r, &S3_NotImplemented,
                "A header you provided implies functionality that is not implemented");
        r->err.extra = json_pack("{s:s}", "Header", "Transfer-Encoding");
        return PD_EAWS;
    } else if (cl) {
        if (pd_parse_i64(cl, 0, INT64_MAX, &n))
            return pd_fail(r, &S3_InvalidArgument, "Content-Length must be a number.");
        u->expect = n;
    } else {
        u->expect = 0;
    }
    if (u->expect > (int64_t)5 * 1024 * 1024 * 1024)
        return pd_fail(r, &S3_EntityTooLarge,
                       "Your proposed upload exceeds the maximum allowed size");

    enum s3_ck_alg part_alg;
    int rc = part_algorithm(r, &part_alg);
    if (rc)
        return rc;
    if (!strcmp(r->op->name, "PutObject")) {
        /* an ACL the bucket refuses is refused before the body comes */
        struct pd_s3_bucket b;
        const char *owner, *acl;
        rc = s3_bucket(r, &b);
        if (!rc)
            rc = s3_write_acl(r, &b, &owner, &acl);
        if (rc)
            return rc;
    }
    enum s3_ck_alg alg;
    rc = checksum_setup(r, part_alg, &alg, &u->ck_sent, &u->ck_trailer);
    if (rc)
        return rc;
    if (u->ck_trailer && !u->trailer)
        return pd_fail(r, &S3_InvalidRequest,
                       "The x-amz-trailer header needs a STREAMING-*-TRAILER payload.");
    rc = content_md5(r, u->md5_sent, &u->have_md5);
    if (rc)
        return rc;

    rc = open_body(r, u, alg, !strcmp(r->op->name, "PutObject"));
    if (rc)
        return rc;
    if (u->mode == P_CHUNKED) {
        struct pd_chunked_cfg cfg = {
            .signed_chunks = u->chunked_signed,
            .trailer = u->trailer,
            .key = r->sig.key,
            .amz_date = r->sig.amz_date,
            .scope = r->sig.scope,
            .seed = r->sig.seed,
        };
        pd_chunked_init(&u->dec, &cfg, on_chunk_data, r);
        u->dec_live = 1;
    }
    u->sink.write = sink_write;
    u->sink.finish = sink_finish;
    u->sink.discard = sink_discard;
    u->sink.state = u;
    r->sink = &u->sink;
    return PD_OK;
}

int s3_check_buffered_body(struct pd_req *r)
{
    unsigned char md5[PD_MD5_LEN];
    int have = 0;
    int rc = content_md5(r, md5, &have);
    if (rc)
        return rc;
    if (have) {
        struct pd_hash h;
        unsigned char d[PD_HASH_MAX_LEN];
        pd_hash_init(&h, PD_HASH_MD5);
        pd_hash_update(&h, r->body.p ? r->body.p : "", r->body.len);
        pd_hash_final(&h, d);
        if (memcmp(d, md5, PD_MD5_LEN) != 0)
            return pd_fail(r, &S3_BadDigest,
                           "The Content-MD5 you specified did not match what we received.");
    }
    enum s3_ck_alg alg;
    const char *sent, *trailer;
    rc = checksum_setup(r, S3_CK_NONE, &alg, &sent, &trailer);
    if (rc)
        return rc;
    if (trailer)
        return pd_fail(r, &S3_InvalidRequest, "This operation does not take trailing checksums.");
    if (alg && sent) {
        const char *got = s3_ck_b64(&r->arena, alg, r->body.p ? r->body.p : "", r->body.len);
        if (strcmp(got, sent) != 0)
            return bad_digest(r, alg);
    }
    return PD_OK;
}
