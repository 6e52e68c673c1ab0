/*
 * sigv4.c - AWS Signature Version 4 (see sigv4.h for the algorithm and the canonicalisation
 * rules). Pure: strings in, strings out, everything in the caller's arena; the only shared
 * state is the signing-key cache the caller passes in.
 *
 * Layout: small string helpers; canonicalisation (path, query, headers, request); keys and
 * signatures; parsing the Authorization header / presigned query; prechecks and
 * verification, with AWS's error texts in two dialects; signing for clients; aws-chunked
 * signatures.
 */
#include "sigv4.h"
#include "sigv2.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "crypto/hash.h"

/* ------------------------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------------------------- */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Copy a pd_buf into the arena and free it. */
static char *buf_to_arena(struct pd_arena *a, struct pd_buf *b)
{
    char *s = pd_arena_strndup(a, pd_buf_str(b), b->len);
    pd_buf_free(b);
    return s;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Lower-case, sort and de-duplicate a list of header names into a new arena array. */
static const char **sorted_names(struct pd_arena *a, const char *const *in, size_t n, size_t *OUT_n)
{
    const char **v = pd_arena_alloc(a, (n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char *s = pd_arena_strdup(a, in[i]);
        pd_lower(s);
        v[i] = s;
    }
    qsort(v, n, sizeof *v, cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(v[m - 1], v[i]) != 0)
            v[m++] = v[i];
    *OUT_n = m;
    return v;
}

static char *join(struct pd_arena *a, const char *const *v, size_t n, const char *sep)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    for (size_t i = 0; i < n; i++) {
        if (i)
            pd_buf_adds(&b, sep);
        pd_buf_adds(&b, v[i]);
    }
    return buf_to_arena(a, &b);
}

/* Percent-decode n bytes ('+' as space when plus). On a malformed escape returns PD_EINVAL
 * and points *OUT_bad at its '%' ("%zz"), or sets it NULL when the input ends inside the
 * escape ("%4"). The result is NUL-terminated and may hold NULs. */
static int pct_decode(struct pd_arena *a, const char *s, size_t n, int plus, char **OUT,
                      size_t *OUT_len, const char **OUT_bad)
{
    char *o = pd_arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n) { /* fewer than two characters follow */
                *OUT_bad = NULL;
                return PD_EINVAL;
            }
            int hi = pd_hexval(s[i + 1]), lo = pd_hexval(s[i + 2]);
            if (hi < 0 || lo < 0) {
                *OUT_bad = s + i;
                return PD_EINVAL;
            }
            o[j++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (s[i] == '+' && plus) {
            o[j++] = ' ';
        } else {
            o[j++] = s[i];
        }
    }
    o[j] = '\0';
    *OUT = o;
    *OUT_len = j;
    return PD_OK;
}

/* One query parameter: decoded name and value, and their AWS re-encoding. */
struct qparam {
    const char *name, *value; /* decoded, NUL-terminated (may hold NULs) */
    size_t nlen, vlen;
    const char *ename, *evalue; /* AWS-encoded */
};

/* Split a raw query string into parameters. Empty pieces ("a=1&&b=2") are skipped. */
static int split_query(struct pd_arena *a, const char *raw, struct qparam **OUT, size_t *OUT_n,
                       const char **OUT_bad)
{
    size_t len = raw ? strlen(raw) : 0, cap = 1, n = 0;
    for (size_t i = 0; i < len; i++)
        cap += raw[i] == '&';
    struct qparam *v = pd_arena_alloc(a, cap * sizeof *v);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && raw[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && raw[eq] != '=')
                eq++;
            struct qparam *p = &v[n];
            char *name, *value = "";
            p->vlen = 0;
            if (pct_decode(a, raw + i, eq - i, 1, &name, &p->nlen, OUT_bad))
                return PD_EINVAL;
            if (eq < end && pct_decode(a, raw + eq + 1, end - eq - 1, 1, &value, &p->vlen, OUT_bad))
                return PD_EINVAL;
            p->name = name;
            p->value = value;
            p->ename = pd_url_encode(a, name, p->nlen, 0);
            p->evalue = pd_url_encode(a, value, p->vlen, 0);
            n++;
        }
        i = end + 1;
    }
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}

/* First value of a query parameter (exact, case-sensitive name), or NULL. */
static const char *qget(const struct qparam *q, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (q[i].nlen == len && memcmp(q[i].name, name, len) == 0)
            return q[i].value;
    return NULL;
}

/* First value of a header (ASCII case-insensitive), or NULL. */
static const char *hget(const struct pd_kvs *h, const char *name)
{
    return h ? pd_kvs_get(h, name, 1) : NULL;
}

/* ------------------------------------------------------------------------------------------
 * Canonicalisation
 * ---------------------------------------------------------------------------------------- */

/* RFC 3986 dot-segment removal as the SDKs do it: drop empty and "." segments, ".." removes
 * the previous one; keep a leading '/' and, unless the result is empty, a trailing one. */
static char *remove_dot_segments(struct pd_arena *a, const char *path)
{
    size_t len = strlen(path), nseg = 0;
    if (len == 0)
        return "";
    const char **seg = pd_arena_alloc(a, (len + 1) * sizeof *seg);
    size_t *segl = pd_arena_alloc(a, (len + 1) * sizeof *segl);
    size_t i = 0;
    while (i <= len) {
        size_t end = i;
        while (end < len && path[end] != '/')
            end++;
        size_t sl = end - i;
        if (sl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (nseg)
                nseg--;
        } else if (sl > 0 && !(sl == 1 && path[i] == '.')) {
            seg[nseg] = path + i;
            segl[nseg++] = sl;
        }
        i = end + 1;
    }
    struct pd_buf b;
    pd_buf_init(&b, 0);
    if (path[0] == '/')
        pd_buf_addc(&b, '/');
    for (size_t k = 0; k < nseg; k++) {
        if (k)
            pd_buf_addc(&b, '/');
        pd_buf_add(&b, seg[k], segl[k]);
    }
    if (path[len - 1] == '/' && nseg)
        pd_buf_addc(&b, '/');
    return buf_to_arena(a, &b);
}

int pd_sigv4_canonical_path(struct pd_arena *a, const char *raw_path, int normalize, char **OUT)
{
    const char *p = raw_path ? raw_path : "";
    if (normalize) {
        /* Normalise the path as received, then encode it (again): "%20" -> "%2520". */
        const char *norm = remove_dot_segments(a, p);
        *OUT = pd_url_encode(a, norm, strlen(norm), 1);
    } else {
        /* S3: decode what was received and encode it once with the AWS rules. */
        char *dec;
        size_t dlen;
        const char *bad;
        if (pct_decode(a, p, strlen(p), 0, &dec, &dlen, &bad))
            return PD_EINVAL;
        *OUT = pd_url_encode(a, dec, dlen, 1);
    }
    if (**OUT == '\0')
        *OUT = "/";
    return PD_OK;
}

static int cmp_qparam(const void *x, const void *y)
{
    const struct qparam *p = x, *q = y;
    int c = strcmp(p->ename, q->ename);
    return c ? c : strcmp(p->evalue, q->evalue);
}

int pd_sigv4_canonical_query(struct pd_arena *a, const char *raw_query, int presigned, char **OUT)
{
    struct qparam *q;
    size_t n;
    const char *bad;
    if (split_query(a, raw_query, &q, &n, &bad))
        return PD_EINVAL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (presigned && strcmp(q[i].ename, "X-Amz-Signature") == 0)
            continue;
        q[m++] = q[i];
    }
    qsort(q, m, sizeof *q, cmp_qparam);
    struct pd_buf b;
    pd_buf_init(&b, 0);
    for (size_t i = 0; i < m; i++) {
        if (i)
            pd_buf_addc(&b, '&');
        pd_buf_adds(&b, q[i].ename);
        pd_buf_addc(&b, '=');
        pd_buf_adds(&b, q[i].evalue);
    }
    *OUT = buf_to_arena(a, &b);
    return PD_OK;
}

/* Append one header value trimmed, with every whitespace run collapsed to one space. A NUL
 * counts as whitespace: RFC 9110 (5.5) has recipients replace NUL in a field value with SP,
 * and it keeps the canonical request a C string that no value can cut short. */
static int header_ws(char c)
{
    return is_ws(c) || c == '\0';
}

static void add_trimmed(struct pd_buf *b, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n && header_ws(v[i]))
        i++;
    while (n > i && header_ws(v[n - 1]))
        n--;
    int in_ws = 0;
    for (; i < n; i++) {
        if (header_ws(v[i])) {
            in_ws = 1;
            continue;
        }
        if (in_ws)
            pd_buf_addc(b, ' ');
        in_ws = 0;
        pd_buf_addc(b, v[i]);
    }
}

/* Append the canonical value of header name: all occurrences joined with ','. */
static void add_header_value(struct pd_buf *b, const struct pd_kvs *headers, const char *name)
{
    int first = 1;
    for (size_t i = 0; headers && i < headers->n; i++) {
        if (!pd_strcaseeq(headers->v[i].name, name))
            continue;
        if (!first)
            pd_buf_addc(b, ',');
        first = 0;
        add_trimmed(b, headers->v[i].value, headers->v[i].vlen);
    }
}

char *pd_sigv4_canonical_header_value(struct pd_arena *a, const struct pd_kvs *headers,
                                      const char *name)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    add_header_value(&b, headers, name);
    return buf_to_arena(a, &b);
}

int pd_sigv4_canonical_request(struct pd_arena *a, const struct pd_sigv4_request *req,
                               const char *const *names, size_t n, int presigned, char **OUT)
{
    char *path, *query;
    if (pd_sigv4_canonical_path(a, req->path, req->normalize_path, &path) ||
        pd_sigv4_canonical_query(a, req->query, presigned, &query))
        return PD_EINVAL;
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_printf(&b, "%s\n%s\n%s\n", req->method, path, query);
    for (size_t i = 0; i < n; i++) {
        pd_buf_adds(&b, names[i]);
        pd_buf_addc(&b, ':');
        add_header_value(&b, req->headers, names[i]);
        pd_buf_addc(&b, '\n');
    }
    pd_buf_addc(&b, '\n');
    for (size_t i = 0; i < n; i++) {
        if (i)
            pd_buf_addc(&b, ';');
        pd_buf_adds(&b, names[i]);
    }
    pd_buf_printf(&b, "\n%s", req->payload_hash ? req->payload_hash : "");
    *OUT = buf_to_arena(a, &b);
    return PD_OK;
}

char *pd_sigv4_scope(struct pd_arena *a, const char *date8, const char *region, const char *service)
{
    return pd_arena_printf(a, "%s/%s/%s/%s", date8, region, service, PD_SIGV4_TERMINATOR);
}

char *pd_sigv4_string_to_sign(struct pd_arena *a, const char *amz_date, const char *scope,
                              const char *canonical_request)
{
    char h[2 * PD_SHA256_LEN + 1];
    pd_sha256_hex(canonical_request, strlen(canonical_request), h);
    return pd_arena_printf(a, "%s\n%s\n%s\n%s", PD_SIGV4_ALGORITHM, amz_date, scope, h);
}

/* ------------------------------------------------------------------------------------------
 * Signing keys, the cache, signatures
 * ---------------------------------------------------------------------------------------- */

static void derive_key(const char *secret, const char *date8, const char *region,
                       const char *service, unsigned char out[PD_SIGV4_KEY_LEN])
{
    size_t slen = strlen(secret);
    char *k0 = pd_xmalloc(slen + 5);
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, slen + 1);
    unsigned char k1[32], k2[32], k3[32];
    pd_hmac_sha256(k0, slen + 4, date8, strlen(date8), k1);
    pd_hmac_sha256(k1, 32, region, strlen(region), k2);
    pd_hmac_sha256(k2, 32, service, strlen(service), k3);
    pd_hmac_sha256(k3, 32, PD_SIGV4_TERMINATOR, strlen(PD_SIGV4_TERMINATOR), out);
    explicit_bzero(k0, slen + 4);
    explicit_bzero(k1, sizeof k1);
    explicit_bzero(k2, sizeof k2);
    explicit_bzero(k3, sizeof k3);
    free(k0);
}

void pd_sigv4_cache_init(struct pd_sigv4_cache *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
}

void pd_sigv4_cache_cleanup(struct pd_sigv4_cache *c)
{
    pthread_mutex_destroy(&c->mu);
    explicit_bzero(c->slot, sizeof c->slot);
}

void pd_sigv4_signing_key(struct pd_sigv4_cache *c, const char *secret, const char *date8,
                          const char *region, const char *service,
                          unsigned char OUT_key[PD_SIGV4_KEY_LEN])
{
    if (!c) {
        derive_key(secret, date8, region, service, OUT_key);
        return;
    }
    /* id = SHA-256(secret NUL date NUL region NUL service): none of them contains a NUL, so
     * different inputs cannot produce the same byte string. */
    struct pd_hash h;
    unsigned char id[PD_HASH_MAX_LEN];
    pd_hash_init(&h, PD_HASH_SHA256);
    pd_hash_update(&h, secret, strlen(secret) + 1);
    pd_hash_update(&h, date8, strlen(date8) + 1);
    pd_hash_update(&h, region, strlen(region) + 1);
    pd_hash_update(&h, service, strlen(service));
    pd_hash_final(&h, id);

    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < PD_SIGV4_CACHE_SLOTS; i++) {
        struct pd_sigv4_cache_slot *s = &c->slot[i];
        if (s->last_used && pd_ct_equal(s->id, id, sizeof s->id)) {
            s->last_used = ++c->tick;
            c->hits++;
            memcpy(OUT_key, s->key, PD_SIGV4_KEY_LEN);
            pthread_mutex_unlock(&c->mu);
            return;
        }
    }
    c->misses++;
    pthread_mutex_unlock(&c->mu);

    derive_key(secret, date8, region, service, OUT_key); /* outside the lock: 4 HMACs */

    pthread_mutex_lock(&c->mu);
    struct pd_sigv4_cache_slot *victim = &c->slot[0];
    for (size_t i = 0; i < PD_SIGV4_CACHE_SLOTS; i++) {
        struct pd_sigv4_cache_slot *s = &c->slot[i];
        if (s->last_used && memcmp(s->id, id, sizeof s->id) == 0) { /* raced: already in */
            victim = s;
            break;
        }
        if (s->last_used < victim->last_used)
            victim = s;
    }
    memcpy(victim->id, id, sizeof victim->id);
    memcpy(victim->key, OUT_key, PD_SIGV4_KEY_LEN);
    victim->last_used = ++c->tick;
    pthread_mutex_unlock(&c->mu);
}

void pd_sigv4_signature(const unsigned char key[PD_SIGV4_KEY_LEN], const char *string_to_sign,
                        char OUT_hex[PD_SIGV4_SIG_HEX_LEN + 1])
{
    unsigned char mac[PD_SHA256_LEN];
    pd_hmac_sha256(key, PD_SIGV4_KEY_LEN, string_to_sign, strlen(string_to_sign), mac);
    pd_hex_encode(mac, sizeof mac, OUT_hex);
}

/* ------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------- */

/* AWS's texts. Sources: the common front end's messages as quoted in public issues
 * (aws/aws-cli#6676, aws/aws-sdk-go#156, cllunsford/aws-signing-proxy#25, ...) and the
 * error-ordering work of dacut/scratchstack-aws-signature; S3's from real S3 error bodies
 * quoted in public issues and the S3-compatible servers that copy them (versity/versitygw). */
#define MSG_SIG_MISMATCH                                                                           \
    "The request signature we calculated does not match the signature you provided. Check "        \
    "your AWS Secret Access Key and signing method. Consult the service documentation for "        \
    "details."
#define MSG_S3_SIG_MISMATCH                                                                        \
    "The request signature we calculated does not match the signature you provided. Check "        \
    "your key and signing method."
#define MSG_S3_HDR "The authorization header is malformed; "
#define MSG_S3_QRY "Error parsing the X-Amz-Credential parameter; "
#define MSG_S3_CRED_FORMAT                                                                         \
    "the Credential is mal-formed; expecting "                                                     \
    "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
#define MSG_S3_QUERY_REQUIRED                                                                      \
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "       \
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."

static void result_init(struct pd_sigv4_result *r)
{
    memset(r, 0, sizeof *r);
    r->status = 200;
}

static int fail(struct pd_arena *a, struct pd_sigv4_result *r, int rc, const char *code, int status,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Set the AWS error on r and return rc. */
static int fail(struct pd_arena *a, struct pd_sigv4_result *r, int rc, const char *code, int status,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->message = pd_arena_vprintf(a, fmt, ap);
    va_end(ap);
    r->code = code;
    r->status = status;
    return rc;
}

static void extra(struct pd_arena *a, struct pd_sigv4_result *r, const char *name,
                  const char *value)
{
    pd_kvs_add(a, &r->extra, name, value, strlen(value), 0);
}

/* "41 57 53 34 ..." as in S3's StringToSignBytes / CanonicalRequestBytes. */
static char *spaced_hex(struct pd_arena *a, const char *s)
{
    size_t n = strlen(s);
    char *o = pd_arena_alloc(a, n * 3 + 1);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        o[3 * i] = hex[c >> 4];
        o[3 * i + 1] = hex[c & 15];
        o[3 * i + 2] = ' ';
    }
    o[n ? 3 * n - 1 : 0] = '\0';
    return o;
}

static char *iso_time(struct pd_arena *a, int64_t ms)
{
    char t[32];
    pd_time_iso8601(ms, 0, t);
    return pd_arena_strdup(a, t);
}

/* A malformed %-escape in the query (or S3 path). */
static int bad_escape(struct pd_arena *a, enum pd_sigv4_dialect d, struct pd_sigv4_result *r,
                      const char *bad)
{
    if (d == PD_SIGV4_S3)
        return fail(a, r, PD_EINVAL, "InvalidURI", 400, "Couldn't parse the specified URI.");
    if (!bad)
        return fail(a, r, PD_EINVAL, "MalformedQueryString", 400,
                    "Incomplete trailing escape %% sequence");
    return fail(a, r, PD_EINVAL, "MalformedQueryString", 400,
                "Illegal hex character in escape %% pattern: %%%c%c", bad[1], bad[2]);
}

/* ------------------------------------------------------------------------------------------
 * Parsing the request's authentication
 * ---------------------------------------------------------------------------------------- */

static void split_credential(struct pd_arena *a, struct pd_sigv4_auth *au)
{
    const char *c = au->credential;
    const char *part[5];
    size_t plen[5];
    int n = 0;
    const char *start = c;
    for (const char *p = c;; p++) {
        if (*p == '/' || *p == '\0') {
            if (n < 5) {
                part[n] = start;
                plen[n] = (size_t)(p - start);
            }
            n++;
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    au->credential_parts = n;
    if (n != 5)
        return;
    au->akid = pd_arena_strndup(a, part[0], plen[0]);
    au->date8 = pd_arena_strndup(a, part[1], plen[1]);
    au->region = pd_arena_strndup(a, part[2], plen[2]);
    au->service = pd_arena_strndup(a, part[3], plen[3]);
    au->terminator = pd_arena_strndup(a, part[4], plen[4]);
}

static void split_signed_headers(struct pd_arena *a, struct pd_sigv4_auth *au)
{
    const char *s = au->signed_headers;
    size_t cnt = 1;
    for (const char *p = s; *p; p++)
        cnt += *p == ';';
    const char **v = pd_arena_alloc(a, cnt * sizeof *v);
    size_t n = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == ';' || *p == '\0') {
            v[n++] = pd_arena_strndup(a, start, (size_t)(p - start));
            if (*p == '\0')
                break;
            start = p + 1;
        }
    }
    au->headers = sorted_names(a, v, n, &au->nheaders);
}

static int is_sigv4a(const char *alg)
{
    return strcmp(alg, "AWS4-ECDSA-P256-SHA256") == 0;
}

static int parse_header(struct pd_arena *a, enum pd_sigv4_dialect d, const char *value,
                        const struct pd_kvs *headers, struct pd_sigv4_auth *au,
                        struct pd_sigv4_result *r)
{
    /* Trim, then "ALGORITHM key=value, key=value, ..." */
    while (is_ws(*value))
        value++;
    size_t vlen = strlen(value);
    while (vlen && is_ws(value[vlen - 1]))
        vlen--;
    const char *hdr = pd_arena_strndup(a, value, vlen);
    size_t alen = 0;
    while (hdr[alen] && hdr[alen] != ' ')
        alen++;
    const char *alg = pd_arena_strndup(a, hdr, alen);
    au->algorithm = alg;

    if (strcmp(alg, PD_SIGV4_ALGORITHM) != 0) {
        if (is_sigv4a(alg))
            return fail(a, r, PD_ENOTIMPL, "NotImplemented", 501,
                        "SigV4a (AWS4-ECDSA-P256-SHA256) signatures are not supported by "
                        "podiam; sign with AWS4-HMAC-SHA256.");
        if (d == PD_SIGV4_AWS)
            return fail(a, r, PD_EINVAL, "IncompleteSignature", 400,
                        "Unsupported AWS 'algorithm': '%s'.", alg);
        if (strcmp(alg, "AWS") == 0)
            return fail(a, r, PD_EINVAL, "InvalidRequest", 400,
                        "The authorization mechanism you have provided is not supported. "
                        "Please use AWS4-HMAC-SHA256.");
        extra(a, r, "ArgumentName", "Authorization");
        extra(a, r, "ArgumentValue", hdr);
        return fail(a, r, PD_EINVAL, "InvalidArgument", 400, "Unsupported Authorization Type");
    }

    const char *cred = NULL, *sh = NULL, *sig = NULL;
    const char *p = hdr + alen;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *s = p, *e = end;
        while (s < e && is_ws(*s))
            s++;
        while (e > s && is_ws(e[-1]))
            e--;
        if (e > s) {
            const char *eq = memchr(s, '=', (size_t)(e - s));
            if (!eq) {
                const char *comp = pd_arena_strndup(a, s, (size_t)(e - s));
                if (d == PD_SIGV4_S3)
                    return fail(a, r, PD_EINVAL, "AuthorizationHeaderMalformed", 400,
                                MSG_S3_HDR "the authorization component \"%s\" is malformed.",
                                comp);
                return fail(a, r, PD_EINVAL, "IncompleteSignature", 400,
                            "'%s' not a valid key=value pair (missing equal-sign) in "
                            "Authorization header: '%s'.",
                            comp, hdr);
            }
            const char *val = pd_arena_strndup(a, eq + 1, (size_t)(e - eq - 1));
            size_t klen = (size_t)(eq - s);
            /* The last occurrence of a key wins, as on AWS. */
            if (klen == 10 && memcmp(s, "Credential", 10) == 0)
                cred = val;
            else if (klen == 13 && memcmp(s, "SignedHeaders", 13) == 0)
                sh = val;
            else if (klen == 9 && memcmp(s, "Signature", 9) == 0)
                sig = val;
        }
        p = *end ? end + 1 : end;
    }

    const char *date = hget(headers, "x-amz-date");
    if (!date)
        date = hget(headers, "date");

    if (d == PD_SIGV4_S3) {
        if (!cred || !sh || !sig)
            return fail(a, r, PD_EINVAL, "AuthorizationHeaderMalformed", 400,
                        MSG_S3_HDR "the authorization header requires three components: "
                                   "Credential, SignedHeaders, and Signature.");
    } else if (!cred || !sh || !sig || !date) {
        /* One message naming everything missing, then the header's first word. */
        struct pd_buf b;
        pd_buf_init(&b, 0);
        if (!cred)
            pd_buf_adds(&b, "Authorization header requires 'Credential' parameter. ");
        if (!sig)
            pd_buf_adds(&b, "Authorization header requires 'Signature' parameter. ");
        if (!sh)
            pd_buf_adds(&b, "Authorization header requires 'SignedHeaders' parameter. ");
        if (!date)
            pd_buf_adds(&b, "Authorization header requires existence of either a 'X-Amz-Date' "
                            "or a 'Date' header. ");
        pd_buf_printf(&b, "Authorization=%s", alg);
        r->message = buf_to_arena(a, &b);
        r->code = "IncompleteSignature";
        r->status = 400;
        return PD_EINVAL;
    }

    au->presigned = 0;
    au->credential = cred;
    au->signed_headers = sh;
    au->signature = sig;
    au->date_raw = date ? pd_arena_strdup(a, date) : NULL;
    const char *tok = hget(headers, "x-amz-security-token");
    au->security_token = tok ? pd_arena_strdup(a, tok) : NULL;
    split_credential(a, au);
    split_signed_headers(a, au);
    return PD_OK;
}

static int parse_query(struct pd_arena *a, enum pd_sigv4_dialect d, const struct qparam *q,
                       size_t nq, struct pd_sigv4_auth *au, struct pd_sigv4_result *r)
{
    const char *alg = qget(q, nq, "X-Amz-Algorithm");
    const char *cred = qget(q, nq, "X-Amz-Credential");
    const char *sig = qget(q, nq, "X-Amz-Signature");
    const char *date = qget(q, nq, "X-Amz-Date");
    const char *sh = qget(q, nq, "X-Amz-SignedHeaders");
    const char *exp = qget(q, nq, "X-Amz-Expires");

    if (d == PD_SIGV4_S3) {
        if (!alg || !cred || !sig || !date || !sh || !exp)
            return fail(a, r, PD_EINVAL, "AuthorizationQueryParametersError", 400,
                        MSG_S3_QUERY_REQUIRED);
        if (is_sigv4a(alg))
            return fail(a, r, PD_ENOTIMPL, "NotImplemented", 501,
                        "SigV4a (AWS4-ECDSA-P256-SHA256) signatures are not supported by "
                        "podiam; sign with AWS4-HMAC-SHA256.");
        if (strcmp(alg, PD_SIGV4_ALGORITHM) != 0)
            return fail(a, r, PD_EINVAL, "AuthorizationQueryParametersError", 400,
                        "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256 and "
                        "AWS4-ECDSA-P256-SHA256\"");
    } else {
        /* parse() only comes here when X-Amz-Algorithm is present. */
        if (strcmp(alg, PD_SIGV4_ALGORITHM) != 0)
            return fail(a, r, PD_ESIG, "MissingAuthenticationToken", 403,
                        "Request is missing Authentication Token");
        if (!cred || !sig || !sh || !date) {
            struct pd_buf b;
            pd_buf_init(&b, 0);
            if (!cred)
                pd_buf_adds(&b, "AWS query-string parameters must include 'X-Amz-Credential'. ");
            if (!sig)
                pd_buf_adds(&b, "AWS query-string parameters must include 'X-Amz-Signature'. ");
            if (!sh)
                pd_buf_adds(&b, "AWS query-string parameters must include 'X-Amz-SignedHeaders'. ");
            if (!date)
                pd_buf_adds(&b, "AWS query-string parameters must include 'X-Amz-Date'. ");
            pd_buf_adds(&b, "Re-examine the query-string parameters.");
            r->message = buf_to_arena(a, &b);
            r->code = "IncompleteSignature";
            r->status = 400;
            return PD_EINVAL;
        }
    }
    au->presigned = 1;
    au->algorithm = alg;
    au->credential = cred;
    au->signature = sig;
    au->signed_headers = sh;
    au->date_raw = date;
    au->expires_raw = exp;
    au->security_token = qget(q, nq, "X-Amz-Security-Token");
    split_credential(a, au);
    split_signed_headers(a, au);
    return PD_OK;
}

int pd_sigv4_parse(struct pd_arena *a, enum pd_sigv4_dialect dialect, const struct pd_kvs *headers,
                   const char *raw_query, struct pd_sigv4_auth *OUT_auth,
                   struct pd_sigv4_result *OUT_res)
{
    memset(OUT_auth, 0, sizeof *OUT_auth);
    result_init(OUT_res);

    struct qparam *q;
    size_t nq;
    const char *bad = NULL;
    if (split_query(a, raw_query, &q, &nq, &bad))
        return bad_escape(a, dialect, OUT_res, bad);

    const char *authz = hget(headers, "authorization");
    int query_auth;
    if (dialect == PD_SIGV4_S3)
        query_auth = qget(q, nq, "X-Amz-Algorithm") || qget(q, nq, "X-Amz-Credential") ||
                     qget(q, nq, "X-Amz-Signature");
    else /* the common front end looks for X-Amz-Algorithm only */
        query_auth = qget(q, nq, "X-Amz-Algorithm") != NULL;

    if (!authz && !query_auth) {
        if (dialect == PD_SIGV4_S3 && qget(q, nq, "AWSAccessKeyId") && qget(q, nq, "Signature"))
            return fail(a, OUT_res, PD_EINVAL, "InvalidRequest", 400,
                        "The authorization mechanism you have provided is not supported. "
                        "Please use AWS4-HMAC-SHA256.");
        return PD_ENOTFOUND;
    }
    if (authz && query_auth) {
        if (dialect == PD_SIGV4_S3) {
            extra(a, OUT_res, "ArgumentName", "Authorization");
            extra(a, OUT_res, "ArgumentValue", authz);
            return fail(a, OUT_res, PD_EINVAL, "InvalidArgument", 400,
                        "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                        "parameter, Signature query string parameter or the Authorization "
                        "header should be specified");
        }
        return fail(a, OUT_res, PD_ESIG, "SignatureDoesNotMatch", 403, MSG_SIG_MISMATCH);
    }
    if (authz)
        return parse_header(a, dialect, authz, headers, OUT_auth, OUT_res);
    return parse_query(a, dialect, q, nq, OUT_auth, OUT_res);
}

/* ------------------------------------------------------------------------------------------
 * Prechecks and verification
 * ---------------------------------------------------------------------------------------- */

static int signed_contains(const struct pd_sigv4_auth *au, const char *lname)
{
    for (size_t i = 0; i < au->nheaders; i++)
        if (strcmp(au->headers[i], lname) == 0)
            return 1;
    return 0;
}

static int valid_date8(const char *s)
{
    int64_t ms;
    char buf[17];
    if (strlen(s) != 8)
        return 0;
    snprintf(buf, sizeof buf, "%sT000000Z", s);
    return pd_time_parse_amz(buf, &ms) == PD_OK;
}

/* Floor of ms / 1000, also for times before 1970. */
static int64_t to_sec(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static void amz_at(int64_t sec, char out[17])
{
    pd_time_amz(sec * 1000, out);
}

/* The common front end (IAM, STS, EKS). Order as AWS reports them. */
static int precheck_aws(struct pd_arena *a, const struct pd_sigv4_auth *au,
                        const struct pd_sigv4_verify_opts *o, struct pd_sigv4_result *r)
{
    if (!signed_contains(au, "host") && !signed_contains(au, ":authority"))
        return fail(a, r, PD_ESIG, "SignatureDoesNotMatch", 403,
                    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

    int64_t date_ms = 0;
    if (!au->date_raw || pd_time_parse_amz(au->date_raw, &date_ms))
        return fail(a, r, PD_EINVAL, "IncompleteSignature", 400,
                    "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                    "http://en.wikipedia.org/wiki/ISO_8601",
                    au->date_raw ? au->date_raw : "");
    snprintf(r->amz_date, sizeof r->amz_date, "%s", au->date_raw);

    /* 15 minutes either side; for presigned requests too (STS honours X-Amz-Date + 15 min
     * whatever X-Amz-Expires says; aws-wire-facts 4.7). */
    int64_t now = to_sec(o->now_ms), t = to_sec(date_ms), skew = PD_SIGV4_MAX_SKEW_MS / 1000;
    char now_s[17], edge[17];
    amz_at(now, now_s);
    if (t < now - skew) {
        amz_at(now - skew, edge);
        return fail(a, r, PD_ESIG, "SignatureDoesNotMatch", 403,
                    "Signature expired: %s is now earlier than %s (%s - 15 min.)", r->amz_date,
                    edge, now_s);
    }
    if (t > now + skew) {
        amz_at(now + skew, edge);
        return fail(a, r, PD_ESIG, "SignatureDoesNotMatch", 403,
                    "Signature not yet current: %s is still later than %s (%s + 15 min.)",
                    r->amz_date, edge, now_s);
    }

    if (au->credential_parts != 5)
        return fail(a, r, PD_EINVAL, "IncompleteSignature", 400,
                    "Credential must have exactly 5 slash-delimited elements, e.g. "
                    "keyid/date/region/service/term, got '%s'",
                    au->credential);

    /* Every scope problem in one message, each sentence followed by a space as AWS does. */
    struct pd_buf b;
    pd_buf_init(&b, 0);
    if ((o->region && strcmp(au->region, o->region) != 0) || !au->region[0])
        pd_buf_printf(&b, "Credential should be scoped to a valid region, not '%s'. ", au->region);
    if ((o->service && strcmp(au->service, o->service) != 0) || !au->service[0])
        pd_buf_printf(&b, "Credential should be scoped to correct service: '%s'. ",
                      o->service ? o->service : au->service);
    if (strcmp(au->terminator, PD_SIGV4_TERMINATOR) != 0)
        pd_buf_printf(&b, "Credential should be scoped with a valid terminator: '%s', not '%s'. ",
                      PD_SIGV4_TERMINATOR, au->terminator);
    if (strncmp(au->date8, r->amz_date, 8) != 0 || strlen(au->date8) != 8)
        pd_buf_printf(&b,
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                      "of date from HTTP: '%s' != '%.8s', from '%s'. ",
                      au->date8, r->amz_date, r->amz_date);
    if (b.len) {
        r->message = buf_to_arena(a, &b);
        r->code = "SignatureDoesNotMatch";
        r->status = 403;
        return PD_ESIG;
    }
    pd_buf_free(&b);
    return PD_OK;
}

/* S3. */
static int precheck_s3(struct pd_arena *a, const struct pd_sigv4_auth *au,
                       const struct pd_sigv4_request *req, const struct pd_sigv4_verify_opts *o,
                       struct pd_sigv4_result *r)
{
    const char *code =
        au->presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed";
    const char *pre = au->presigned ? MSG_S3_QRY : MSG_S3_HDR;
    int64_t expires = 0;

    if (au->presigned) {
        const char *e = au->expires_raw;
        if (pd_parse_i64(e, INT64_MIN, INT64_MAX, &expires) != PD_OK)
            return fail(a, r, PD_EINVAL, code, 400, "X-Amz-Expires should be a number");
        if (expires < 0)
            return fail(a, r, PD_EINVAL, code, 400, "X-Amz-Expires must be non-negative");
        if (expires > PD_SIGV4_MAX_EXPIRES)
            return fail(a, r, PD_EINVAL, code, 400,
                        "X-Amz-Expires must be less than a week (in seconds); that is, the "
                        "given X-Amz-Expires must be less than 604800 seconds");
    }

    /* Credential: AKID/YYYYMMDD/REGION/SERVICE/aws4_request */
    if (au->credential_parts != 5)
        return fail(a, r, PD_EINVAL, code, 400, "%s" MSG_S3_CRED_FORMAT, pre);
    if (!au->akid[0])
        return fail(a, r, PD_EINVAL, code, 400,
                    "%sa non-empty Access Key (AKID) must be provided in the credential.", pre);
    if (!valid_date8(au->date8))
        return fail(a, r, PD_EINVAL, code, 400,
                    "%sincorrect date format \"%s\". This date in the credential must be in the "
                    "format \"yyyyMMdd\".",
                    pre, au->date8);
    if ((o->region && strcmp(au->region, o->region) != 0) || !au->region[0]) {
        const char *want = o->region ? o->region : "us-east-1";
        extra(a, r, "Region", want);
        return fail(a, r, PD_EINVAL, code, 400, "%sthe region '%s' is wrong; expecting '%s'", pre,
                    au->region, want);
    }
    const char *svc = o->service ? o->service : "s3";
    if (strcmp(au->service, svc) != 0)
        return fail(a, r, PD_EINVAL, code, 400,
                    "%sincorrect service \"%s\". This endpoint belongs to \"%s\".", pre,
                    au->service, svc);
    if (strcmp(au->terminator, PD_SIGV4_TERMINATOR) != 0)
        return fail(a, r, PD_EINVAL, code, 400,
                    "%sincorrect terminal \"%s\". This endpoint uses \"aws4_request\".", pre,
                    au->terminator);

    /* Request time: X-Amz-Date in basic format; a Date header may be an HTTP date. */
    int64_t date_ms = 0;
    int basic = au->date_raw && pd_time_parse_amz(au->date_raw, &date_ms) == PD_OK;
    if (!basic) {
        if (au->presigned)
            return fail(a, r, PD_EINVAL, code, 400,
                        "X-Amz-Date must be in the ISO8601 Long Format "
                        "\"yyyyMMdd'T'HHmmss'Z'\"");
        /* any RFC 1123/2822 form S3 takes: botocore sends "-0000" for the zone when the
         * caller set a Date header (it then drops X-Amz-Date) */
        if (!au->date_raw || hget(req->headers, "x-amz-date") ||
            pd_sigv2_parse_date(au->date_raw, &date_ms) != PD_OK)
            return fail(a, r, PD_ESIG, "AccessDenied", 403,
                        "AWS authentication requires a valid Date or x-amz-date header");
        pd_time_amz(date_ms, r->amz_date);
    } else {
        snprintf(r->amz_date, sizeof r->amz_date, "%s", au->date_raw);
    }
    if (strncmp(au->date8, r->amz_date, 8) != 0)
        return fail(a, r, PD_EINVAL, code, 400,
                    "%sInvalid credential date \"%s\". This date is not the same as X-Amz-Date: "
                    "\"%.8s\".",
                    au->presigned ? "" : MSG_S3_HDR, au->date8, r->amz_date);

    /* Header auth must declare its payload hash, and S3 wants host and every x-amz-* header
     * it received to be signed (an unsigned x-amz-acl could otherwise be slipped in). */
    if (!au->presigned && !hget(req->headers, "x-amz-content-sha256"))
        return fail(a, r, PD_EINVAL, "InvalidRequest", 400,
                    "Missing required header for this request: x-amz-content-sha256");
    struct pd_buf ns;
    pd_buf_init(&ns, 0);
    for (size_t i = 0; req->headers && i < req->headers->n; i++) {
        char *lname = pd_arena_strdup(a, req->headers->v[i].name);
        pd_lower(lname);
        if (strcmp(lname, "host") != 0 && strncmp(lname, "x-amz-", 6) != 0)
            continue;
        if (signed_contains(au, lname))
            continue;
        int listed = 0; /* name each header once, however often it was sent */
        for (size_t j = 0; j < i && !listed; j++)
            listed = pd_strcaseeq(req->headers->v[j].name, lname);
        if (listed)
            continue;
        if (ns.len)
            pd_buf_adds(&ns, ", ");
        pd_buf_adds(&ns, lname);
    }
    if (ns.len) {
        extra(a, r, "HeadersNotSigned", buf_to_arena(a, &ns));
        return fail(a, r, PD_ESIG, "AccessDenied", 403,
                    "There were headers present in the request which were not signed");
    }
    pd_buf_free(&ns);

    int64_t now = to_sec(o->now_ms), t = to_sec(date_ms), skew = PD_SIGV4_MAX_SKEW_MS / 1000;
    if (au->presigned) {
        if (now > t + expires) {
            extra(a, r, "X-Amz-Expires", au->expires_raw);
            extra(a, r, "Expires", iso_time(a, (t + expires) * 1000));
            extra(a, r, "ServerTime", iso_time(a, now * 1000));
            return fail(a, r, PD_ESIG, "AccessDenied", 403, "Request has expired");
        }
        if (t > now + skew)
            return fail(a, r, PD_ESIG, "AccessDenied", 403, "Request is not valid yet");
    } else if (t < now - skew || t > now + skew) {
        extra(a, r, "RequestTime", au->date_raw);
        extra(a, r, "ServerTime", iso_time(a, now * 1000));
        extra(a, r, "MaxAllowedSkewMilliseconds", "900000");
        return fail(a, r, PD_ESIG, "RequestTimeTooSkewed", 403,
                    "The difference between the request time and the current time is too "
                    "large.");
    }
    return PD_OK;
}

int pd_sigv4_precheck(struct pd_arena *a, const struct pd_sigv4_auth *auth,
                      const struct pd_sigv4_request *req, const struct pd_sigv4_verify_opts *o,
                      struct pd_sigv4_result *OUT_res)
{
    result_init(OUT_res);
    if (o->dialect == PD_SIGV4_S3)
        return precheck_s3(a, auth, req, o, OUT_res);
    return precheck_aws(a, auth, o, OUT_res);
}

int pd_sigv4_verify(struct pd_arena *a, const struct pd_sigv4_auth *auth,
                    const struct pd_sigv4_request *req, const char *secret,
                    const struct pd_sigv4_verify_opts *o, struct pd_sigv4_result *OUT_res)
{
    int rc = pd_sigv4_precheck(a, auth, req, o, OUT_res);
    if (rc)
        return rc;
    struct pd_sigv4_result *r = OUT_res;

    char *creq;
    if (pd_sigv4_canonical_request(a, req, auth->headers, auth->nheaders, auth->presigned, &creq))
        return bad_escape(a, o->dialect, r, NULL);
    const char *scope = pd_sigv4_scope(a, auth->date8, auth->region, auth->service);
    const char *sts = pd_sigv4_string_to_sign(a, r->amz_date, scope, creq);
    r->canonical_request = creq;
    r->string_to_sign = sts;

    unsigned char key[PD_SIGV4_KEY_LEN];
    char sig[PD_SIGV4_SIG_HEX_LEN + 1];
    pd_sigv4_signing_key(o->cache, secret, auth->date8, auth->region, auth->service, key);
    pd_sigv4_signature(key, sts, sig);
    explicit_bzero(key, sizeof key);

    if (strlen(auth->signature) == PD_SIGV4_SIG_HEX_LEN &&
        pd_ct_equal(sig, auth->signature, PD_SIGV4_SIG_HEX_LEN))
        return PD_OK;

    if (o->dialect == PD_SIGV4_S3) {
        extra(a, r, "AWSAccessKeyId", auth->akid);
        extra(a, r, "StringToSign", sts);
        extra(a, r, "SignatureProvided", auth->signature);
        extra(a, r, "StringToSignBytes", spaced_hex(a, sts));
        extra(a, r, "CanonicalRequest", creq);
        extra(a, r, "CanonicalRequestBytes", spaced_hex(a, creq));
        return fail(a, r, PD_ESIG, "SignatureDoesNotMatch", 403, MSG_S3_SIG_MISMATCH);
    }
    return fail(a, r, PD_ESIG, "SignatureDoesNotMatch", 403, MSG_SIG_MISMATCH);
}

/* ------------------------------------------------------------------------------------------
 * Signing (clients)
 * ---------------------------------------------------------------------------------------- */

/* Headers an SDK does not sign (botocore's list): proxies and clients change them. */
static int unsigned_by_default(const char *name)
{
    static const char *const skip[] = {"authorization", "user-agent", "expect", "x-amzn-trace-id"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (pd_strcaseeq(name, skip[i]))
            return 1;
    return 0;
}

/* Sign req with the given (already sorted) names; fills sig and trace. */
static int sign(struct pd_arena *a, const struct pd_sigv4_signer *s,
                const struct pd_sigv4_request *req, const char *const *names, size_t n,
                int presigned, char sig[PD_SIGV4_SIG_HEX_LEN + 1], const char **OUT_scope,
                struct pd_sigv4_trace *OUT_trace)
{
    char *creq;
    if (pd_sigv4_canonical_request(a, req, names, n, presigned, &creq))
        return PD_EINVAL;
    char date8[9];
    snprintf(date8, sizeof date8, "%.8s", s->amz_date);
    const char *scope = pd_sigv4_scope(a, date8, s->region, s->service);
    const char *sts = pd_sigv4_string_to_sign(a, s->amz_date, scope, creq);
    unsigned char key[PD_SIGV4_KEY_LEN];
    pd_sigv4_signing_key(NULL, s->secret, date8, s->region, s->service, key);
    pd_sigv4_signature(key, sts, sig);
    explicit_bzero(key, sizeof key);
    *OUT_scope = scope;
    if (OUT_trace) {
        OUT_trace->canonical_request = creq;
        OUT_trace->string_to_sign = sts;
        OUT_trace->signature = pd_arena_strdup(a, sig);
    }
    return PD_OK;
}

int pd_sigv4_sign_headers(struct pd_arena *a, const struct pd_sigv4_signer *s,
                          const struct pd_sigv4_request *req, const char *const *names, size_t n,
                          char **OUT_authorization, struct pd_sigv4_trace *OUT_trace)
{
    const char **all = NULL;
    if (!names) {
        size_t cnt = req->headers ? req->headers->n : 0, m = 0;
        all = pd_arena_alloc(a, (cnt ? cnt : 1) * sizeof *all);
        for (size_t i = 0; i < cnt; i++)
            if (!unsigned_by_default(req->headers->v[i].name))
                all[m++] = req->headers->v[i].name;
        names = all;
        n = m;
    }
    size_t m;
    const char **sorted = sorted_names(a, names, n, &m);
    char sig[PD_SIGV4_SIG_HEX_LEN + 1];
    const char *scope;
    if (sign(a, s, req, sorted, m, 0, sig, &scope, OUT_trace))
        return PD_EINVAL;
    *OUT_authorization =
        pd_arena_printf(a, "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                        PD_SIGV4_ALGORITHM, s->akid, scope, join(a, sorted, m, ";"), sig);
    return PD_OK;
}

static void add_param(struct pd_arena *a, struct pd_buf *b, const char *name, const char *value)
{
    if (b->len)
        pd_buf_addc(b, '&');
    pd_buf_adds(b, name);
    pd_buf_addc(b, '=');
    pd_buf_adds(b, pd_url_encode(a, value, strlen(value), 0));
}

int pd_sigv4_presign(struct pd_arena *a, const struct pd_sigv4_signer *s,
                     const struct pd_sigv4_request *req, int64_t expires, const char *const *names,
                     size_t n, char **OUT_query, struct pd_sigv4_trace *OUT_trace)
{
    static const char *const host_only[] = {"host"};
    if (!names) {
        names = host_only;
        n = 1;
    }
    size_t m;
    const char **sorted = sorted_names(a, names, n, &m);
    char date8[9], exp[24];
    snprintf(date8, sizeof date8, "%.8s", s->amz_date);
    snprintf(exp, sizeof exp, "%" PRId64, expires);

    struct pd_buf b;
    pd_buf_init(&b, 0);
    if (req->query && req->query[0])
        pd_buf_adds(&b, req->query);
    add_param(a, &b, "X-Amz-Algorithm", PD_SIGV4_ALGORITHM);
    add_param(
        a, &b, "X-Amz-Credential",
        pd_arena_printf(a, "%s/%s", s->akid, pd_sigv4_scope(a, date8, s->region, s->service)));
    add_param(a, &b, "X-Amz-Date", s->amz_date);
    add_param(a, &b, "X-Amz-Expires", exp);
    add_param(a, &b, "X-Amz-SignedHeaders", join(a, sorted, m, ";"));
    if (s->session_token)
        add_param(a, &b, "X-Amz-Security-Token", s->session_token);
    char *query = buf_to_arena(a, &b);

    struct pd_sigv4_request r2 = *req;
    r2.query = query;
    char sig[PD_SIGV4_SIG_HEX_LEN + 1];
    const char *scope;
    if (sign(a, s, &r2, sorted, m, 1, sig, &scope, OUT_trace))
        return PD_EINVAL;
    *OUT_query = pd_arena_printf(a, "%s&X-Amz-Signature=%s", query, sig);
    return PD_OK;
}

/* ------------------------------------------------------------------------------------------
 * aws-chunked payload signatures
 * ---------------------------------------------------------------------------------------- */

void pd_sigv4_chunk_signature(const unsigned char key[PD_SIGV4_KEY_LEN], const char *amz_date,
                              const char *scope, const char *prev_sig, const char *chunk_sha256_hex,
                              char OUT_hex[PD_SIGV4_SIG_HEX_LEN + 1])
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_printf(&b, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", amz_date, scope, prev_sig,
                  PD_SIGV4_EMPTY_SHA256, chunk_sha256_hex);
    pd_sigv4_signature(key, pd_buf_str(&b), OUT_hex);
    pd_buf_free(&b);
}

void pd_sigv4_trailer_signature(const unsigned char key[PD_SIGV4_KEY_LEN], const char *amz_date,
                                const char *scope, const char *prev_sig, const void *trailer,
                                size_t n, char OUT_hex[PD_SIGV4_SIG_HEX_LEN + 1])
{
    char h[2 * PD_SHA256_LEN + 1];
    pd_sha256_hex(trailer, n, h);
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_printf(&b, "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s", amz_date, scope, prev_sig, h);
    pd_sigv4_signature(key, pd_buf_str(&b), OUT_hex);
    pd_buf_free(&b);
}
