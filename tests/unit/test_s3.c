/* test_s3.c - unit tests for the S3 service's pure parts: the aws-chunked decoder with the
 * published SigV4 streaming vectors (signed and unsigned, with and without trailers) at
 * every split point, checksums, the listing walk (prefix, delimiter, markers, pagination),
 * multipart ETags and composite checksums, ranges and bucket names; and the inline
 * threshold with the store of inline bodies (s3_db.c), including the migration of a
 * version 4 state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigv4/sigv4.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/hash.h"
#include "embedded.h"
#include "services/s3/s3_chunked.h"
#include "services/s3/s3_internal.h"
#include "store/s3_db.h"
#include "store/store.h"

/* ---- the published streaming vectors (aws-wire-facts.md 5.3) ---- */

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20130524T000000Z"
#define SCOPE "20130524/us-east-1/s3/aws4_request"

static const char *const seed1 = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
static const char *const sigs1[] = {
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"};
static const char *const seed2 = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
static const char *const sigs2[] = {
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"};
static const char *const trailer_sig2 =
    "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

struct body {
    char *p;
    size_t n;
};

static void add(struct body *b, const void *p, size_t n)
{
    b->p = realloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void adds(struct body *b, const char *s)
{
    add(b, s, strlen(s));
}

/* 65536 + 1024 bytes of 'a' as aws-chunked, signed with sigs (or unsigned when NULL), then
 * an optional trailer (and its signature). */
static struct body vector_body(const char *const *sigs, const char *trailer, const char *tsig)
{
    struct body b = {NULL, 0};
    static const size_t sizes[] = {65536, 1024, 0};
    char *a = malloc(65536);
    memset(a, 'a', 65536);
    for (int i = 0; i < 3; i++) {
        char line[128];
        if (sigs)
            snprintf(line, sizeof line, "%zx;chunk-signature=%s\r\n", sizes[i], sigs[i]);
        else
            snprintf(line, sizeof line, "%zx\r\n", sizes[i]);
        adds(&b, line);
        if (sizes[i]) {
            add(&b, a, sizes[i]);
            adds(&b, "\r\n");
        }
    }
    if (trailer) {
        adds(&b, trailer);
        adds(&b, "\r\n");
        if (tsig) {
            adds(&b, "x-amz-trailer-signature:");
            adds(&b, tsig);
            adds(&b, "\r\n");
        }
    }
    adds(&b, "\r\n");
    free(a);
    return b;
}

struct sink {
    uint64_t n;
    int all_a;
    uint32_t crc;
};

static int on_data(void *ctx, const char *p, size_t n)
{
    struct sink *s = ctx;
    for (size_t i = 0; i < n; i++)
        if (p[i] != 'a')
            s->all_a = 0;
    s->crc = pd_crc32_update(s->crc, p, n);
    s->n += n;
    return 0;
}

static unsigned char key[PD_SIGV4_KEY_LEN];

static void cfg_for(struct pd_chunked_cfg *c, int signed_chunks, int trailer, const char *seed)
{
    memset(c, 0, sizeof *c);
    c->signed_chunks = signed_chunks;
    c->trailer = trailer;
    c->key = key;
    c->amz_date = DATE;
    c->scope = SCOPE;
    c->seed = seed;
}

/* Decode b fed in pieces: [0, split), then the rest in pieces of `step` bytes. */
static enum pd_chunked_err decode(const struct pd_chunked_cfg *cfg, const struct body *b,
                                  size_t split, size_t step, struct sink *s, struct pd_chunked *dec)
{
    memset(s, 0, sizeof *s);
    s->all_a = 1;
    pd_chunked_init(dec, cfg, on_data, s);
    enum pd_chunked_err e = pd_chunked_feed(dec, b->p, split);
    for (size_t off = split; !e && off < b->n; off += step) {
        size_t k = b->n - off < step ? b->n - off : step;
        e = pd_chunked_feed(dec, b->p + off, k);
    }
    if (!e)
        e = pd_chunked_finish(dec);
    pd_chunked_cleanup(dec);
    return e;
}

/* Every two-piece split around the framing (the first and last bytes and each chunk
 * boundary), a stride elsewhere, and one byte at a time (every split at once). */
static void every_split(const struct pd_chunked_cfg *cfg, const struct body *b,
                        const char *want_trailer)
{
    struct sink s;
    struct pd_chunked dec;
    for (size_t split = 0; split <= b->n; split++) {
        int near = split < 200 || b->n - split < 400 || (split > 65500 && split < 65700);
        if (!near && split % 997)
            continue;
        assert_int_equal(decode(cfg, b, split, b->n, &s, &dec), PD_CHUNKED_OK);
        assert_int_equal(s.n, 66560);
        assert_true(s.all_a);
        if (want_trailer)
            assert_string_equal(pd_chunked_trailer(&dec, "x-amz-checksum-crc32c"), want_trailer);
    }
    assert_int_equal(decode(cfg, b, 0, 1, &s, &dec), PD_CHUNKED_OK);
    assert_int_equal(s.n, 66560);
    assert_int_equal(decode(cfg, b, 3, 7, &s, &dec), PD_CHUNKED_OK);
    assert_int_equal(s.n, 66560);
    /* the CRC32 of the payload is the published one */
    unsigned char be[4];
    pd_be32(s.crc, be);
    struct pd_arena a;
    pd_arena_init(&a);
    assert_string_equal(pd_base64_encode(&a, be, 4, 0), "sK4Y7A==");
    pd_arena_cleanup(&a);
}

static void chunked_signed_vectors(void **state)
{
    (void)state;
    pd_sigv4_signing_key(NULL, SECRET, "20130524", "us-east-1", "s3", key);
    struct pd_chunked_cfg cfg;
    cfg_for(&cfg, 1, 0, seed1);
    struct body b = vector_body(sigs1, NULL, NULL);
    every_split(&cfg, &b, NULL);
    /* a flipped signature, a flipped data byte, a wrong seed: refused */
    struct sink s;
    struct pd_chunked dec;
    b.p[100] = 'b';
    assert_int_equal(decode(&cfg, &b, b.n, 1, &s, &dec), PD_CHUNKED_ESIG);
    b.p[100] = 'a';
    cfg.seed = seed2;
    assert_int_equal(decode(&cfg, &b, b.n, 1, &s, &dec), PD_CHUNKED_ESIG);
    cfg.seed = seed1;
    /* truncated anywhere: incomplete */
    struct body t = {b.p, b.n - 3};
    assert_int_equal(decode(&cfg, &t, t.n, 1, &s, &dec), PD_CHUNKED_EINCOMPLETE);
    t.n = 70;
    assert_int_equal(decode(&cfg, &t, t.n, 1, &s, &dec), PD_CHUNKED_EINCOMPLETE);
    /* a signature missing in the signed form is malformed */
    struct body u = vector_body(NULL, NULL, NULL);
    assert_int_equal(decode(&cfg, &u, u.n, 1, &s, &dec), PD_CHUNKED_EMALFORMED);
    free(u.p);
    free(b.p);
}

static void chunked_signed_trailer_vectors(void **state)
{
    (void)state;
    pd_sigv4_signing_key(NULL, SECRET, "20130524", "us-east-1", "s3", key);
    struct pd_chunked_cfg cfg;
    cfg_for(&cfg, 1, 1, seed2);
    struct body b = vector_body(sigs2, "x-amz-checksum-crc32c:sOO8/Q==", trailer_sig2);
    every_split(&cfg, &b, "sOO8/Q==");
    free(b.p);
    struct sink s;
    struct pd_chunked dec;
    /* a changed trailer value no longer matches its signature */
    b = vector_body(sigs2, "x-amz-checksum-crc32c:sOO8/Q=A", trailer_sig2);
    assert_int_equal(decode(&cfg, &b, b.n, 1, &s, &dec), PD_CHUNKED_ETRAILERSIG);
    free(b.p);
    /* the trailer signature is required in the signed form */
    b = vector_body(sigs2, "x-amz-checksum-crc32c:sOO8/Q==", NULL);
    assert_int_equal(decode(&cfg, &b, b.n, 1, &s, &dec), PD_CHUNKED_ETRAILERSIG);
    free(b.p);
}

static void chunked_unsigned(void **state)
{
    (void)state;
    struct pd_chunked_cfg cfg;
    cfg_for(&cfg, 0, 1, NULL);
    struct body b = vector_body(NULL, "x-amz-checksum-crc32c:sOO8/Q==", NULL);
    every_split(&cfg, &b, "sOO8/Q==");
    free(b.p);
    /* no trailer at all, and no final empty line (tolerated) */
    cfg_for(&cfg, 0, 0, NULL);
    b = vector_body(NULL, NULL, NULL);
    every_split(&cfg, &b, NULL);
    struct sink s;
    struct pd_chunked dec;
    struct body t = {b.p, b.n - 2};
    assert_int_equal(decode(&cfg, &t, t.n, 5, &s, &dec), PD_CHUNKED_OK);
    free(b.p);
    /* a trailer where none was announced */
    b = vector_body(NULL, "x-amz-checksum-crc32:AAAAAA==", NULL);
    assert_int_equal(decode(&cfg, &b, b.n, 5, &s, &dec), PD_CHUNKED_ETRAILER);
    free(b.p);
    /* framing errors */
    static const char *const bad[] = {"zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcX\r\n0\r\n\r\n",
                                      "3\nabc\r\n0\r\n\r\n",    "3;ext=1\r\nabc\r\n0\r\n\r\n",
                                      "0\r\n\r\nextra",         "fffffffffffffffff\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct body x = {(char *)bad[i], strlen(bad[i])};
        if (decode(&cfg, &x, x.n, 1, &s, &dec) == PD_CHUNKED_OK)
            fail_msg("accepted: %s", bad[i]);
    }
    struct body ok = {"3\r\nabc\r\n0\r\n\r\n", 13};
    assert_int_equal(decode(&cfg, &ok, 2, 1, &s, &dec), PD_CHUNKED_OK);
    assert_int_equal(s.n, 3);
}

static int refuse(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return 7;
}

static void chunked_callback_stops(void **state)
{
    (void)state;
    struct pd_chunked_cfg cfg;
    cfg_for(&cfg, 0, 0, NULL);
    struct pd_chunked dec;
    pd_chunked_init(&dec, &cfg, refuse, NULL);
    assert_int_equal(pd_chunked_feed(&dec, "3\r\nabc\r\n", 8), PD_CHUNKED_ECALLBACK);
    assert_int_equal(dec.cb_rc, 7);
    assert_int_equal(pd_chunked_feed(&dec, "0\r\n", 3), PD_CHUNKED_ECALLBACK); /* sticky */
    pd_chunked_cleanup(&dec);
}

/* ---- checksums ---- */

static void checksums(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    /* "123456789" check values: CRC32 cbf43926, CRC32C e3069283, CRC64/NVME ae8b14860a799888 */
    assert_string_equal(s3_ck_b64(&a, S3_CK_CRC32, "123456789", 9), "y/Q5Jg==");
    assert_string_equal(s3_ck_b64(&a, S3_CK_CRC32C, "123456789", 9), "4waSgw==");
    assert_string_equal(s3_ck_b64(&a, S3_CK_CRC64NVME, "123456789", 9), "rosUhgp5mIg=");
    assert_string_equal(s3_ck_b64(&a, S3_CK_SHA1, "abc", 3), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    assert_string_equal(s3_ck_b64(&a, S3_CK_SHA256, "abc", 3),
                        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    assert_int_equal(s3_ck_parse("crc32c"), S3_CK_CRC32C);
    assert_int_equal(s3_ck_parse("SHA512"), S3_CK_NONE);
    assert_string_equal(s3_ck_header(S3_CK_CRC64NVME), "x-amz-checksum-crc64nvme");
    assert_string_equal(s3_ck_member(S3_CK_SHA1), "ChecksumSHA1");
    pd_arena_cleanup(&a);
}

static void multipart_etag_and_composite(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    /* parts "a" and "b": md5("a") = 0cc175b9..., md5("b") = 92eb5ffe... */
    const char *etags[] = {"\"0cc175b9c0f1b6a831c399e269772661\"",
                           "92eb5ffee6ae2fec3ad71c777531578f"};
    char *out = NULL;
    assert_int_equal(pd_s3_multipart_etag(&a, etags, 2, &out), PD_OK);
    /* md5(md5("a") || md5("b")) */
    unsigned char raw[32];
    const char *hex = "0cc175b9c0f1b6a831c399e26977266192eb5ffee6ae2fec3ad71c777531578f";
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        raw[i] = (unsigned char)v;
    }
    struct pd_hash h;
    unsigned char d[PD_HASH_MAX_LEN];
    char want[40];
    pd_hash_init(&h, PD_HASH_MD5);
    pd_hash_update(&h, raw, 32);
    pd_hash_final(&h, d);
    pd_hex_encode(d, 16, want);
    char quoted[48];
    snprintf(quoted, sizeof quoted, "\"%s-2\"", want);
    assert_string_equal(out, quoted);
    const char *bad[] = {"\"xyz\""};
    assert_int_equal(pd_s3_multipart_etag(&a, bad, 1, &out), PD_EINVAL);
    /* composite CRC32 of two parts = CRC32(raw crc1 || raw crc2) + "-2" */
    const char *parts[] = {s3_ck_b64(&a, S3_CK_CRC32, "a", 1), s3_ck_b64(&a, S3_CK_CRC32, "b", 1)};
    assert_int_equal(pd_s3_composite_checksum(&a, S3_CK_CRC32, parts, 2, &out), PD_OK);
    unsigned char both[8];
    pd_be32(pd_crc32_update(0, "a", 1), both);
    pd_be32(pd_crc32_update(0, "b", 1), both + 4);
    char *w = pd_arena_printf(&a, "%s-2", s3_ck_b64(&a, S3_CK_CRC32, both, 8));
    assert_string_equal(out, w);
    const char *missing[] = {parts[0], NULL};
    assert_int_equal(pd_s3_composite_checksum(&a, S3_CK_CRC32, missing, 2, &out), PD_EINVAL);
    pd_arena_cleanup(&a);
}

/* ---- listing ---- */

struct keys {
    const char *const *v;
    size_t n;
    int calls;
};

static int next_key(void *arg, const char *after, int inclusive, struct pd_s3_object *OUT)
{
    struct keys *k = arg;
    k->calls++;
    for (size_t i = 0; i < k->n; i++) {
        int c = after ? strcmp(k->v[i], after) : 1;
        if (c > 0 || (inclusive && c == 0)) {
            memset(OUT, 0, sizeof *OUT);
            OUT->key = k->v[i];
            return PD_OK;
        }
    }
    return PD_ENOTFOUND;
}

/* "k1,k2,p/" of a page */
static char *page_str(struct pd_arena *a, const struct pd_s3_list_page *p)
{
    char *s = "";
    for (size_t i = 0; i < p->n; i++)
        s = pd_arena_printf(a, "%s%s%s", s, i ? "," : "", p->v[i].key);
    return s;
}

static void list_walk(void **state)
{
    (void)state;
    static const char *const v[] = {"a", "b/1", "b/2",        "b/c/3",
                                    "c", "d/z", "d/\xc3\xa9", "e"}; /* byte order */
    struct keys k = {v, sizeof v / sizeof v[0], 0};
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_s3_list_page p;
    struct pd_s3_list_query q = {.prefix = "", .max_keys = 1000};
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_string_equal(page_str(&a, &p), "a,b/1,b/2,b/c/3,c,d/z,d/\xc3\xa9,e");
    assert_false(p.truncated);

    q.delimiter = "/";
    k.calls = 0;
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_string_equal(page_str(&a, &p), "a,b/,c,d/,e");
    assert_true(p.v[1].prefix && !p.v[0].prefix);
    assert_true(k.calls <= 7); /* seeks past each common prefix */

    q.prefix = "b/";
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_string_equal(page_str(&a, &p), "b/1,b/2,b/c/");

    /* pages of two, resuming after the last entry: no prefix repeated */
    q.prefix = "";
    q.max_keys = 2;
    q.after = NULL;
    char *all = "";
    for (int guard = 0; guard < 10; guard++) {
        assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
        all = pd_arena_printf(&a, "%s%s%s", all, *all ? "," : "", page_str(&a, &p));
        if (!p.truncated)
            break;
        q.after = p.next;
    }
    assert_string_equal(all, "a,b/,c,d/,e");

    /* a marker inside a rolled-up prefix does not repeat it */
    q.max_keys = 1000;
    q.after = "b/1";
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_string_equal(page_str(&a, &p), "c,d/,e");

    /* exact truncation: max-keys equal to the count is not truncated */
    q.delimiter = NULL;
    q.after = NULL;
    q.max_keys = 8;
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_false(p.truncated);
    q.max_keys = 7;
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_true(p.truncated);
    assert_string_equal(p.next, "d/\xc3\xa9");
    q.max_keys = 0;
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_int_equal(p.n, 0);
    /* a multi-character delimiter, and a prefix after every key */
    q.max_keys = 1000;
    q.delimiter = "/c/";
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_string_equal(page_str(&a, &p), "a,b/1,b/2,b/c/,c,d/z,d/\xc3\xa9,e");
    q.delimiter = NULL;
    q.prefix = "zz";
    assert_int_equal(pd_s3_list_walk(&a, next_key, &k, &q, &p), PD_OK);
    assert_int_equal(p.n, 0);
    pd_arena_cleanup(&a);
}

/* ---- ranges and names ---- */

static void ranges(void **state)
{
    (void)state;
    int64_t f, l;
    assert_int_equal(pd_s3_parse_range("bytes=0-9", 100, &f, &l), PD_OK);
    assert_true(f == 0 && l == 9);
    assert_int_equal(pd_s3_parse_range("bytes=90-", 100, &f, &l), PD_OK);
    assert_true(f == 90 && l == 99);
    assert_int_equal(pd_s3_parse_range("bytes=-10", 100, &f, &l), PD_OK);
    assert_true(f == 90 && l == 99);
    assert_int_equal(pd_s3_parse_range("bytes=-500", 100, &f, &l), PD_OK);
    assert_true(f == 0 && l == 99);
    assert_int_equal(pd_s3_parse_range("bytes=50-500", 100, &f, &l), PD_OK);
    assert_true(f == 50 && l == 99);
    assert_int_equal(pd_s3_parse_range("bytes=100-200", 100, &f, &l), PD_EINVAL);
    assert_int_equal(pd_s3_parse_range("bytes=-0", 100, &f, &l), PD_EINVAL);
    assert_int_equal(pd_s3_parse_range("bytes=0-0", 0, &f, &l), PD_EINVAL);
    assert_int_equal(pd_s3_parse_range("bytes=5-2", 100, &f, &l), PD_ENOTFOUND);
    assert_int_equal(pd_s3_parse_range("items=0-2", 100, &f, &l), PD_ENOTFOUND);
    assert_int_equal(pd_s3_parse_range("bytes=0-1,5-6", 100, &f, &l), PD_ENOTFOUND);
    assert_int_equal(pd_s3_parse_range("bytes=a-b", 100, &f, &l), PD_ENOTFOUND);
}

static void copy_sources(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    const char *b, *k, *v;
    assert_int_equal(pd_s3_parse_copy_source(&a, "bkt/dir/a%20b%2Bc.txt", &b, &k, &v), PD_OK);
    assert_string_equal(b, "bkt");
    assert_string_equal(k, "dir/a b+c.txt");
    assert_null(v);
    assert_int_equal(pd_s3_parse_copy_source(&a, "/bkt/k?versionId=null", &b, &k, &v), PD_OK);
    assert_string_equal(b, "bkt");
    assert_string_equal(k, "k");
    assert_string_equal(v, "null");
    assert_int_equal(pd_s3_parse_copy_source(&a, "bkt/k%C3%A9", &b, &k, &v), PD_OK);
    assert_string_equal(k, "k\xc3\xa9");
    static const char *const bad[] = {
        "bkt", "bkt/", "/k", "%zz/k", "b/k%00", "b/k?other=1", "b/k?versionId=1&x=2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pd_s3_parse_copy_source(&a, bad[i], &b, &k, &v), PD_EINVAL);
    assert_int_equal(pd_s3_parse_copy_source(&a, NULL, &b, &k, &v), PD_EINVAL);
    pd_arena_cleanup(&a);
}

static void bucket_names(void **state)
{
    (void)state;
    static const char *const good[] = {"abc", "my-bucket.1", "0bucket", "a.b-c", NULL};
    static const char *const bad[] = {
        "ab",          "Abc",        "a_b",         "a..b",    "a.-b",
        "-abc",        "abc-",       "192.168.1.1", "xn--abc", "sthree-x",
        "abc-s3alias", "abc--ol-s3", "abc.mrap",    "b--x-s3", "amzn-s3-demo-x",
        NULL};
    for (const char *const *g = good; *g; g++)
        assert_true(s3_bucket_name_valid(*g));
    for (const char *const *b = bad; *b; b++)
        assert_false(s3_bucket_name_valid(*b));
    char longname[70];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    assert_false(s3_bucket_name_valid(longname));
    longname[63] = '\0';
    assert_true(s3_bucket_name_valid(longname));
}

/* ---- inline bodies ---- */

static void inline_threshold(void **state)
{
    (void)state;
    const int64_t t = 64 * 1024;
    assert_true(pd_s3_inline_fits(t, 0));
    assert_true(pd_s3_inline_fits(t, 1));
    assert_true(pd_s3_inline_fits(t, t - 1));
    assert_true(pd_s3_inline_fits(t, t));
    assert_false(pd_s3_inline_fits(t, t + 1));
    assert_false(pd_s3_inline_fits(t, (int64_t)5 << 30));
    assert_false(pd_s3_inline_fits(t, -1)); /* unknown length: a file */
    assert_false(pd_s3_inline_fits(0, 0));  /* 0 turns inline storage off */
    assert_false(pd_s3_inline_fits(0, 1));
}

static void collect_file(void *arg, const char *file)
{
    struct pd_buf *b = arg;
    pd_buf_adds(b, file);
    pd_buf_addc(b, ';');
}

static struct pd_s3_object obj(const char *k, const char *file, const void *body, int64_t n)
{
    struct pd_s3_object o = {.bucket = "bkt",
                             .key = k,
                             .file = file,
                             .body = body,
                             .size = n,
                             .etag = "\"e\"",
                             .modified_ms = 1,
                             .meta = "{}"};
    return o;
}

static void inline_store(void **state)
{
    (void)state;
    struct pd_store *st;
    char *err = NULL;
    assert_int_equal(pd_store_open(":memory:", 0, &st, &err), PD_OK);
    struct pd_db *db = pd_store_db(st);
    struct pd_arena a;
    pd_arena_init(&a);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    struct pd_s3_bucket b = {.name = "bkt", .account_id = "1", .region = "r", .created_ms = 1};
    assert_int_equal(pd_s3_db_bucket_put(db, &b), PD_OK);

    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7);
    struct pd_s3_object o = obj("k", NULL, data, sizeof data);
    const char *old = "x";
    assert_int_equal(pd_s3_db_object_put(db, &a, &o, &old), PD_OK);
    assert_null(old);
    struct pd_s3_object got;
    assert_int_equal(pd_s3_db_object_get(db, &a, "bkt", "k", &got), PD_OK);
    assert_null(got.file); /* inline: no file */
    assert_int_equal(got.size, sizeof data);
    unsigned char out[1000];
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "k", 0, 0, 1000, out), PD_OK);
    assert_memory_equal(out, data, 1000);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "k", 0, 990, 10, out), PD_OK);
    assert_memory_equal(out, data + 990, 10);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "k", 0, 995, 10, out), PD_EIO);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "nope", 0, 0, 1, out), PD_ENOTFOUND);

    /* an empty inline object */
    struct pd_s3_object e = obj("empty", NULL, NULL, 0);
    assert_int_equal(pd_s3_db_object_put(db, &a, &e, &old), PD_OK);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "empty", 0, 0, 0, out), PD_OK);

    /* inline -> file: the body row goes, no old file to drop */
    struct pd_s3_object f = obj("k", "ab/abfile", NULL, 5000);
    assert_int_equal(pd_s3_db_object_put(db, &a, &f, &old), PD_OK);
    assert_null(old);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "k", 0, 0, 1, out), PD_ENOTFOUND);
    assert_int_equal(pd_s3_db_object_get(db, &a, "bkt", "k", &got), PD_OK);
    assert_string_equal(got.file, "ab/abfile");

    /* only real files are listed for the sweep */
    struct pd_buf files;
    pd_buf_init(&files, 0);
    assert_int_equal(pd_s3_db_files(db, collect_file, &files), PD_OK);
    assert_string_equal(pd_buf_str(&files), "ab/abfile;");
    pd_buf_free(&files);

    /* file -> inline: the old file is reported for unlinking after the commit */
    assert_int_equal(pd_s3_db_object_put(db, &a, &o, &old), PD_OK);
    assert_string_equal(old, "ab/abfile");
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "k", 0, 0, 1000, out), PD_OK);
    assert_memory_equal(out, data, 1000);

    /* inline -> inline (overwrite), then delete: found, no file, the body goes */
    unsigned char other[3] = {1, 2, 3};
    struct pd_s3_object o2 = obj("k", NULL, other, 3);
    assert_int_equal(pd_s3_db_object_put(db, &a, &o2, &old), PD_OK);
    assert_null(old);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "k", 0, 0, 3, out), PD_OK);
    assert_memory_equal(out, other, 3);
    old = "x";
    assert_int_equal(pd_s3_db_object_del(db, &a, "bkt", "k", &old), PD_OK);
    assert_null(old);
    assert_int_equal(pd_s3_db_object_get(db, &a, "bkt", "k", &got), PD_ENOTFOUND);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "k", 0, 0, 1, out), PD_ENOTFOUND);

    /* a rolled-back put leaves nothing */
    assert_int_equal(pd_db_commit(db), PD_OK);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    assert_int_equal(pd_s3_db_object_put(db, &a, &o, &old), PD_OK);
    pd_db_rollback(db);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "k", 0, 0, 1, out), PD_ENOTFOUND);

    /* the bucket's bodies go with it (cascade through s3_objects) */
    assert_int_equal(pd_s3_db_bucket_del(db, "bkt"), PD_OK);
    assert_int_equal(pd_s3_db_object_body(db, "bkt", "empty", 0, 0, 0, out), PD_ENOTFOUND);
    assert_int_equal(pd_db_commit(db), PD_OK);
    pd_arena_cleanup(&a);
    pd_store_close(st);
}

/* A state written before inline bodies (schema version 4) opens, migrates, keeps its
 * file-backed objects and takes inline ones. */
static void inline_migration(void **state)
{
    (void)state;
    const char *tmpdir = getenv("TMPDIR");
    char dir[200];
    snprintf(dir, sizeof dir, "%s/podiam-test-s3-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/state.db", dir);
    const struct pd_embedded *e = pd_embedded_find("schema.sql");
    assert_non_null(e);
    const char *cut = strstr(e->data, "-- version 5");
    const char *cut6 = strstr(e->data, "-- version 6");
    assert_non_null(cut6);
    if (!cut || cut > cut6)
        cut = cut6;
    char *v4 = strndup(e->data, (size_t)(cut - e->data));
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, v4, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "PRAGMA user_version=4;"
                                  "INSERT INTO s3_buckets VALUES('old','1','r',1,NULL,NULL);"
                                  "INSERT INTO s3_objects VALUES('old','f','aa/aafile',9,'\"e\"',"
                                  "1,'{}',NULL);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    free(v4);

    struct pd_store *st;
    char *err = NULL;
    assert_int_equal(pd_store_open(path, 0, &st, &err), PD_OK);
    struct pd_db *db = pd_store_db(st);
    struct pd_arena a;
    pd_arena_init(&a);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    struct pd_s3_object got;
    assert_int_equal(pd_s3_db_object_get(db, &a, "old", "f", &got), PD_OK);
    assert_string_equal(got.file, "aa/aafile");
    struct pd_s3_object o = {.bucket = "old",
                             .key = "g",
                             .body = "tiny",
                             .size = 4,
                             .etag = "\"e\"",
                             .modified_ms = 1,
                             .meta = "{}"};
    const char *old;
    assert_int_equal(pd_s3_db_object_put(db, &a, &o, &old), PD_OK);
    char out[4];
    assert_int_equal(pd_s3_db_object_body(db, "old", "g", 0, 0, 4, out), PD_OK);
    assert_memory_equal(out, "tiny", 4);
    assert_int_equal(pd_db_commit(db), PD_OK);
    pd_arena_cleanup(&a);
    pd_store_close(st);
    char p[300];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s.objects/tmp", path);
    rmdir(p);
    snprintf(p, sizeof p, "%s.objects", path);
    rmdir(p);
    rmdir(dir);
}

/* Completed uploads are remembered for a repeated CompleteMultipartUpload; a newer
 * completion forgets those older than its horizon, and the bucket takes its own along. */
static void completed_uploads(void **state)
{
    (void)state;
    struct pd_store *st;
    char *err = NULL;
    assert_int_equal(pd_store_open(":memory:", 0, &st, &err), PD_OK);
    struct pd_db *db = pd_store_db(st);
    struct pd_arena a;
    pd_arena_init(&a);
    assert_int_equal(pd_db_begin(db, 1), PD_OK);
    struct pd_s3_bucket b = {.name = "bkt", .account_id = "1", .region = "r", .created_ms = 1};
    assert_int_equal(pd_s3_db_bucket_put(db, &b), PD_OK);
    struct pd_s3_completed c1 = {"u1", "bkt", "k", "\"e-2\"", "{\"Key\":\"k\"}", 1000};
    assert_int_equal(pd_s3_db_completed_put(db, &c1, 0), PD_OK);
    struct pd_s3_completed got;
    assert_int_equal(pd_s3_db_completed_get(db, &a, "u1", &got), PD_OK);
    assert_string_equal(got.bucket, "bkt");
    assert_string_equal(got.key, "k");
    assert_string_equal(got.etag, "\"e-2\"");
    assert_string_equal(got.result, "{\"Key\":\"k\"}");
    assert_true(got.completed_ms == 1000);
    assert_int_equal(pd_s3_db_completed_get(db, &a, "u2", &got), PD_ENOTFOUND);
    struct pd_s3_completed c2 = {"u2", "bkt", "k2", "\"f-1\"", "{}", 5000};
    assert_int_equal(pd_s3_db_completed_put(db, &c2, 2000), PD_OK); /* forgets u1 */
    assert_int_equal(pd_s3_db_completed_get(db, &a, "u1", &got), PD_ENOTFOUND);
    assert_int_equal(pd_s3_db_completed_get(db, &a, "u2", &got), PD_OK);
    assert_int_equal(pd_s3_db_bucket_del(db, "bkt"), PD_OK);
    assert_int_equal(pd_s3_db_completed_get(db, &a, "u2", &got), PD_ENOTFOUND);
    assert_int_equal(pd_db_commit(db), PD_OK);
    pd_arena_cleanup(&a);
    pd_store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chunked_signed_vectors),
        cmocka_unit_test(chunked_signed_trailer_vectors),
        cmocka_unit_test(chunked_unsigned),
        cmocka_unit_test(chunked_callback_stops),
        cmocka_unit_test(checksums),
        cmocka_unit_test(multipart_etag_and_composite),
        cmocka_unit_test(list_walk),
        cmocka_unit_test(ranges),
        cmocka_unit_test(copy_sources),
        cmocka_unit_test(bucket_names),
        cmocka_unit_test(inline_threshold),
        cmocka_unit_test(inline_store),
        cmocka_unit_test(inline_migration),
        cmocka_unit_test(completed_uploads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
