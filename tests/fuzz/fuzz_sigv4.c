/*
 * fuzz_sigv4.c - libFuzzer target for lib/sigv4/sigv4.
 *
 * Input: one flag byte, then NUL-separated fields: Authorization header value, raw query,
 * raw path, then "Name:value" headers (a 0x01 byte inside a value becomes a NUL).
 * Flag bits: 1 = S3 dialect, 2 = normalise the path.
 *
 * The same input goes through S3's Signature Version 2 (sigv2.c) too: detection, parsing,
 * the string to sign of both x-amz-date placements, verification; and a string to sign
 * signed with the secret verifies.
 *
 * Besides "no crash, no sanitizer report" on parsing, canonicalisation and verification, it
 * checks two properties and aborts when they break:
 *  - anything our signer signs (Authorization header or presigned URL) verifies;
 *  - changing the signed Host afterwards makes verification fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4/sigv2.h"
#include "sigv4/sigv4.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/str.h"

#define NOW_MS 1440938160000LL /* 2015-08-30T12:36:00Z */
#define AMZ_DATE "20150830T123600Z"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static struct pd_sigv4_cache cache;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    pd_sigv4_cache_init(&cache);
    return 0;
}

static int token_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-'))
            return 0;
    return 1;
}

/* The query decodes and carries no X-Amz-* (or SigV2) parameter of its own. */
static int plain_query(struct pd_arena *a, const char *q)
{
    struct pd_kvs l = {0};
    if (pd_kvs_parse_form(a, &l, q, strlen(q), 1))
        return 0;
    for (size_t i = 0; i < l.n; i++)
        if (pd_has_prefix(l.v[i].name, "X-Amz-") || strcmp(l.v[i].name, "AWSAccessKeyId") == 0)
            return 0;
    return 1;
}

static void die(const char *what, const struct pd_sigv4_result *r)
{
    fprintf(stderr, "property broken: %s: %s %s\n%s\n", what, r->code ? r->code : "(ok)",
            r->message ? r->message : "", r->canonical_request ? r->canonical_request : "");
    abort();
}

/* Verify req (with auth in its headers/query) and return the rc. */
static int verify(struct pd_arena *a, enum pd_sigv4_dialect d, const struct pd_sigv4_request *req,
                  struct pd_sigv4_result *r)
{
    struct pd_sigv4_auth au;
    int rc = pd_sigv4_parse(a, d, req->headers, req->query, &au, r);
    if (rc)
        return rc;
    struct pd_sigv4_verify_opts o = {d, "us-east-1", d == PD_SIGV4_S3 ? "s3" : "iam", NOW_MS,
                                     &cache};
    return pd_sigv4_verify(a, &au, req, SECRET, &o, r);
}

/* Same headers with Host's value changed. */
static struct pd_kvs *other_host(struct pd_arena *a, const struct pd_kvs *h)
{
    struct pd_kvs *c = pd_arena_zalloc(a, sizeof *c);
    for (size_t i = 0; i < h->n; i++) {
        if (pd_strcaseeq(h->v[i].name, "host"))
            pd_kvs_add(a, c, h->v[i].name, "evil.example", 12, 0);
        else
            pd_kvs_add(a, c, h->v[i].name, h->v[i].value, h->v[i].vlen, 0);
    }
    return c;
}

static void roundtrip(struct pd_arena *a, enum pd_sigv4_dialect d, const char *query,
                      const char *path, const struct pd_kvs *fuzz_h)
{
    int normalize = d == PD_SIGV4_AWS;
    const char *service = d == PD_SIGV4_S3 ? "s3" : "iam";
    struct pd_sigv4_signer s = {"AKIDEXAMPLE", SECRET, NULL, "us-east-1", service, AMZ_DATE};
    struct pd_sigv4_result r;
    if (!plain_query(a, query))
        return;
    for (size_t i = 0; i < fuzz_h->n; i++) {
        const char *n = fuzz_h->v[i].name;
        if (!token_name(n) || pd_strcaseeq(n, "authorization") || pd_strcaseeq(n, "x-amz-date") ||
            pd_strcaseeq(n, "date") || pd_strcaseeq(n, "x-amz-content-sha256") ||
            pd_strcaseeq(n, "host"))
            return;
    }

    /* Header signing. */
    struct pd_kvs h = {0};
    for (size_t i = 0; i < fuzz_h->n; i++)
        pd_kvs_add(a, &h, fuzz_h->v[i].name, fuzz_h->v[i].value, fuzz_h->v[i].vlen, 0);
    pd_kvs_add(a, &h, "Host", "example.amazonaws.com", 21, 0);
    pd_kvs_add(a, &h, "X-Amz-Date", AMZ_DATE, 16, 0);
    pd_kvs_add(a, &h, "x-amz-content-sha256", PD_SIGV4_UNSIGNED_PAYLOAD, 16, 0);
    struct pd_sigv4_request req = {"PUT", path, query, &h, PD_SIGV4_UNSIGNED_PAYLOAD, normalize};
    char *authz;
    if (pd_sigv4_sign_headers(a, &s, &req, NULL, 0, &authz, NULL) == PD_OK) {
        pd_kvs_add(a, &h, "Authorization", authz, strlen(authz), 0);
        if (verify(a, d, &req, &r) != PD_OK)
            die("signed headers do not verify", &r);
        req.headers = other_host(a, &h);
        if (verify(a, d, &req, &r) == PD_OK)
            die("changed Host still verifies", &r);
    }

    /* Presigning, signing every header. */
    struct pd_kvs ph = {0};
    const char **names = pd_arena_alloc(a, (fuzz_h->n + 1) * sizeof *names);
    for (size_t i = 0; i < fuzz_h->n; i++) {
        pd_kvs_add(a, &ph, fuzz_h->v[i].name, fuzz_h->v[i].value, fuzz_h->v[i].vlen, 0);
        names[i] = fuzz_h->v[i].name;
    }
    pd_kvs_add(a, &ph, "Host", "example.amazonaws.com", 21, 0);
    names[fuzz_h->n] = "Host";
    struct pd_sigv4_request preq = {"GET", path, query, &ph, PD_SIGV4_UNSIGNED_PAYLOAD, normalize};
    char *q;
    if (pd_sigv4_presign(a, &s, &preq, 300, names, fuzz_h->n + 1, &q, NULL) == PD_OK) {
        preq.query = q;
        if (verify(a, d, &preq, &r) != PD_OK)
            die("presigned URL does not verify", &r);
        preq.headers = other_host(a, &ph);
        if (verify(a, d, &preq, &r) == PD_OK)
            die("presigned URL with changed Host still verifies", &r);
    }
}

/* SigV2 on the same request: parse and verify whatever came; then sign its string to sign
 * and check that the signature verifies as header authentication. */
static void sigv2(struct pd_arena *a, const struct pd_kvs *h, const char *query, const char *path,
                  const char *host_bucket)
{
    struct pd_sigv2_request req = {"GET", path, query, h, host_bucket};
    struct pd_sigv2_verify_opts o = {NOW_MS, NOW_MS};
    struct pd_sigv2_auth au;
    struct pd_sigv4_result r;
    char *sts;
    pd_sigv2_detect(h, query);
    pd_sigv2_string_to_sign(a, &req, NULL, PD_SIGV2_DATE_HEADER, &sts);
    pd_sigv2_string_to_sign(a, &req, "1", PD_SIGV2_DATE_SLOT, &sts);
    if (pd_sigv2_parse(a, h, query, &au, &r) == PD_OK)
        pd_sigv2_verify(a, &au, &req, SECRET, &o, &r);
    else if (r.code && !r.message)
        die("SigV2 error without a message", &r);
    /* round trip: a signature over the string to sign verifies */
    struct pd_kvs sh = {0};
    for (size_t i = 0; i < h->n; i++)
        if (!pd_strcaseeq(h->v[i].name, "authorization") && !pd_strcaseeq(h->v[i].name, "date") &&
            !pd_strcaseeq(h->v[i].name, "x-amz-date"))
            pd_kvs_add(a, &sh, h->v[i].name, h->v[i].value, h->v[i].vlen, 0);
    pd_kvs_add(a, &sh, "Date", "Sun, 30 Aug 2015 12:36:00 GMT", 29, 0);
    req.headers = &sh;
    if (pd_sigv2_string_to_sign(a, &req, NULL, PD_SIGV2_DATE_HEADER, &sts) != PD_OK ||
        strchr(query, '%') || memchr(sts, '\0', 0))
        return;
    for (size_t i = 0; i < sh.n; i++)
        if (memchr(sh.v[i].value, '\0', sh.v[i].vlen) || strchr(sh.v[i].name, ':'))
            return;
    char sig[PD_SIGV2_SIG_B64_LEN + 1];
    pd_sigv2_signature(SECRET, sts, sig);
    struct pd_sigv2_auth mine = {0,    "AKIDEXAMPLE", sig, "Sun, 30 Aug 2015 12:36:00 GMT",
                                 NULL, NULL};
    if (pd_sigv2_verify(a, &mine, &req, SECRET, &o, &r) != PD_OK)
        die("SigV2 signature over its own string to sign does not verify", &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    unsigned flags = data[0];
    enum pd_sigv4_dialect d = (flags & 1) ? PD_SIGV4_S3 : PD_SIGV4_AWS;
    int normalize = (flags & 2) != 0;

    struct pd_arena a;
    pd_arena_init(&a);
    /* Split the rest into NUL-separated fields. */
    const char *field[32];
    size_t nf = 0, start = 1;
    for (size_t i = 1; i <= size && nf < 32; i++) {
        if (i == size || data[i] == 0) {
            field[nf++] = pd_arena_strndup(&a, (const char *)data + start, i - start);
            start = i + 1;
        }
    }
    const char *authz = nf > 0 ? field[0] : "";
    const char *query = nf > 1 ? field[1] : "";
    const char *path = nf > 2 ? field[2] : "/";
    struct pd_kvs h = {0}, fuzz_h = {0};
    for (size_t i = 3; i < nf; i++) {
        const char *colon = strchr(field[i], ':');
        if (!colon)
            continue;
        char *name = pd_arena_strndup(&a, field[i], (size_t)(colon - field[i]));
        char *value = pd_arena_strdup(&a, colon + 1);
        size_t vlen = strlen(value);
        for (size_t k = 0; k < vlen; k++)
            if (value[k] == 1)
                value[k] = 0;
        pd_kvs_add(&a, &fuzz_h, name, value, vlen, 0);
        pd_kvs_add(&a, &h, name, value, vlen, 0);
    }
    if (*authz)
        pd_kvs_add(&a, &h, "Authorization", authz, strlen(authz), 0);

    /* Canonicalisation on arbitrary input. */
    char *out;
    pd_sigv4_canonical_path(&a, path, 0, &out);
    pd_sigv4_canonical_path(&a, path, 1, &out);
    pd_sigv4_canonical_query(&a, query, 0, &out);
    pd_sigv4_canonical_query(&a, query, 1, &out);
    for (size_t i = 0; i < h.n; i++)
        pd_sigv4_canonical_header_value(&a, &h, h.v[i].name);

    /* Parse, precheck and verify whatever came in. */
    struct pd_sigv4_auth au;
    struct pd_sigv4_result r;
    if (pd_sigv4_parse(&a, d, &h, query, &au, &r) == PD_OK) {
        struct pd_sigv4_request req = {"GET", path, query, &h, PD_SIGV4_EMPTY_SHA256, normalize};
        struct pd_sigv4_verify_opts o = {d, (flags & 4) ? NULL : "us-east-1",
                                         (flags & 8) ? NULL : "s3", NOW_MS, &cache};
        if (pd_sigv4_precheck(&a, &au, &req, &o, &r) == PD_OK)
            pd_sigv4_verify(&a, &au, &req, SECRET, &o, &r);
    } else if (r.code && !r.message) {
        die("error without a message", &r);
    }

    roundtrip(&a, d, query, path, &fuzz_h);
    sigv2(&a, &h, query, path, (flags & 16) ? "bucket" : NULL);
    pd_arena_cleanup(&a);
    return 0;
}
