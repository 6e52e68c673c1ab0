/*
 * sigv2.c - S3 Signature Version 2 (see sigv2.h for the string to sign). Pure: strings in,
 * strings out, everything in the caller's arena.
 *
 * Layout: the query split (raw names, decoded values), the request date parser, the string
 * to sign (amz headers, canonical resource), parsing the Authorization header and the query
 * parameters, prechecks and verification with S3's errors.
 */
#include "sigv2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/hash.h"

/* The sub-resources S3 signs: its documentation's list, plus what botocore (HmacV1Auth's
 * QSAOfInterest) and s3cmd (sign_request_v2) sign, which S3 accepts. Sorted. */
static const char *const subresources[] = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

static int is_subresource(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof subresources / sizeof subresources[0]; i++)
        if (strlen(subresources[i]) == n && memcmp(subresources[i], name, n) == 0)
            return 1;
    return 0;
}

#define MSG_MISMATCH                                                                               \
    "The request signature we calculated does not match the signature you provided. Check "        \
    "your key and signing method."

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy v trimmed of surrounding white space. */
static char *trimmed(struct pd_arena *a, const char *v, size_t n)
{
    while (n && is_ws(*v)) {
        v++;
        n--;
    }
    while (n && is_ws(v[n - 1]))
        n--;
    return pd_arena_strndup(a, v, n);
}

static int fail(struct pd_arena *a, struct pd_sigv4_result *r, int rc, const char *code, int status,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

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

/* ---- the query: raw names, values decoded as S3 reads them ---- */

struct qp {
    const char *name; /* raw, as sent */
    size_t nlen;
    const char *value; /* percent-decoded; NULL when the parameter has no '=' */
    size_t vlen;
};

/* Split raw into parameters; '+' in a value is a space except in Signature (base64). */
static int split(struct pd_arena *a, const char *raw, struct qp **OUT, size_t *OUT_n)
{
    size_t len = raw ? strlen(raw) : 0, cap = 1, n = 0;
    for (size_t i = 0; i < len; i++)
        cap += raw[i] == '&';
    struct qp *v = pd_arena_alloc(a, cap * sizeof *v);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && raw[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && raw[eq] != '=')
                eq++;
            struct qp *p = &v[n++];
            p->name = raw + i;
            p->nlen = eq - i;
            p->value = NULL;
            p->vlen = 0;
            if (eq < end) {
                char *dec;
                int plus = !(p->nlen == 9 && memcmp(p->name, "Signature", 9) == 0);
                if (pd_url_decode(a, raw + eq + 1, end - eq - 1, plus, &dec, &p->vlen))
                    return PD_EINVAL;
                p->value = dec;
            }
        }
        i = end + 1;
    }
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}

static const char *qget(const struct qp *q, size_t n, const char *name)
{
    size_t l = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (q[i].nlen == l && memcmp(q[i].name, name, l) == 0)
            return q[i].value ? q[i].value : "";
    return NULL;
}

static const char *hget(const struct pd_kvs *h, const char *name)
{
    return h ? pd_kvs_get(h, name, 1) : NULL;
}

int pd_sigv2_detect(const struct pd_kvs *headers, const char *raw_query)
{
    const char *au = hget(headers, "authorization");
    if (au) {
        while (*au == ' ')
            au++;
        return strncmp(au, "AWS ", 4) == 0;
    }
    const char *q = raw_query ? raw_query : "";
    if (strstr(q, "X-Amz-Signature=") || strstr(q, "X-Amz-Credential="))
        return 0;
    for (const char *p = q; *p;) {
        if (strncmp(p, "AWSAccessKeyId=", 15) == 0 || strncmp(p, "Signature=", 10) == 0)
            return 1;
        p = strchr(p, '&');
        if (!p)
            break;
        p++;
    }
    return 0;
}

/* ---- dates ---- */

static int num(const char *s, size_t n, int *OUT)
{
    int v = 0;
    if (!n)
        return PD_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return PD_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *OUT = v;
    return PD_OK;
}

int pd_sigv2_parse_date(const char *s, int64_t *OUT_ms)
{
    if (!s)
        return PD_EINVAL;
    if (pd_time_parse_amz(s, OUT_ms) == PD_OK)
        return PD_OK;
    /* [Ddd, ]D[D] Mon YYYY HH:MM:SS ZONE */
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const char *p = s;
    const char *comma = strchr(p, ',');
    if (comma)
        p = comma + 1;
    while (*p == ' ')
        p++;
    const char *q = p;
    while (*q >= '0' && *q <= '9')
        q++;
    int d, y, h, mi, se;
    if (q - p < 1 || q - p > 2 || num(p, (size_t)(q - p), &d) || *q != ' ')
        return PD_EINVAL;
    p = q + 1;
    int mo = 0;
    for (int i = 0; i < 12; i++)
        if (strncmp(p, months[i], 3) == 0)
            mo = i + 1;
    if (!mo || p[3] != ' ')
        return PD_EINVAL;
    p += 4;
    if (num(p, 4, &y) || p[4] != ' ' || num(p + 5, 2, &h) || p[7] != ':' || num(p + 8, 2, &mi) ||
        p[10] != ':' || num(p + 11, 2, &se))
        return PD_EINVAL;
    p += 13;
    while (*p == ' ')
        p++;
    int64_t off = 0;
    if (!strcmp(p, "GMT") || !strcmp(p, "UTC") || !strcmp(p, "UT") || !strcmp(p, "Z")) {
        off = 0;
    } else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 5) {
        int oh, om;
        if (num(p + 1, 2, &oh) || num(p + 3, 2, &om) || oh > 23 || om > 59)
            return PD_EINVAL;
        off = (int64_t)(oh * 60 + om) * 60000 * (p[0] == '-' ? -1 : 1);
    } else {
        return PD_EINVAL;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60 || y < 1)
        return PD_EINVAL;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return PD_EINVAL;
    int64_t days = pd_days_from_civil(y, (unsigned)mo, (unsigned)d);
    *OUT_ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 - off;
    return PD_OK;
}

/* ---- the string to sign ---- */

struct amz {
    const char *name; /* lower-cased */
    struct pd_buf value;
    int used;
};

static int cmp_amz(const void *x, const void *y)
{
    return strcmp(((const struct amz *)x)->name, ((const struct amz *)y)->name);
}

/* Append value v (n bytes, trimmed) to the header called lname (joined with ','). */
static void amz_add(struct pd_arena *a, struct amz *v, size_t *n, const char *lname,
                    const char *val, size_t vlen)
{
    size_t i = 0;
    while (i < *n && strcmp(v[i].name, lname) != 0)
        i++;
    if (i == *n) {
        v[i].name = lname;
        pd_buf_init(&v[i].value, 0);
        v[i].used = 0;
        (*n)++;
    }
    if (v[i].used)
        pd_buf_addc(&v[i].value, ',');
    v[i].used = 1;
    pd_buf_adds(&v[i].value, trimmed(a, val, vlen));
}

/* A resource that names a bucket only ("/bucket" or "/bucket/", before any '?') with its
 * trailing slash toggled, or NULL for any other resource. */
static char *bucket_slash_toggled(struct pd_arena *a, const char *res)
{
    size_t n = strcspn(res, "?");
    if (n < 2 || res[0] != '/')
        return NULL;
    size_t slashes = 0;
    for (size_t i = 0; i < n; i++)
        slashes += res[i] == '/';
    int trailing = res[n - 1] == '/';
    if (slashes != 1 + (size_t)trailing || (trailing && n < 3))
        return NULL;
    if (trailing)
        return pd_arena_printf(a, "%.*s%s", (int)(n - 1), res, res + n);
    return pd_arena_printf(a, "%.*s/%s", (int)n, res, res + n);
}

int pd_sigv2_canonical_resource(struct pd_arena *a, const struct pd_sigv2_request *req, char **OUT)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    if (req->host_bucket) {
        pd_buf_addc(&b, '/');
        pd_buf_adds(&b, req->host_bucket);
    }
    const char *path = req->path && *req->path ? req->path : "/";
    pd_buf_adds(&b, path);
    struct qp *q;
    size_t nq;
    if (split(a, req->query, &q, &nq)) {
        pd_buf_free(&b);
        return PD_EINVAL;
    }
    /* the sub-resources present, sorted by name (stable: a repeated one keeps its order) */
    size_t m = 0;
    for (size_t i = 0; i < nq; i++)
        if (is_subresource(q[i].name, q[i].nlen))
            q[m++] = q[i];
    for (size_t i = 1; i < m; i++) {
        struct qp t = q[i];
        size_t j = i;
        while (j > 0) {
            size_t l = q[j - 1].nlen < t.nlen ? q[j - 1].nlen : t.nlen;
            int c = memcmp(q[j - 1].name, t.name, l);
            if (c < 0 || (c == 0 && q[j - 1].nlen <= t.nlen))
                break;
            q[j] = q[j - 1];
            j--;
        }
        q[j] = t;
    }
    for (size_t i = 0; i < m; i++) {
        pd_buf_addc(&b, i ? '&' : '?');
        pd_buf_add(&b, q[i].name, q[i].nlen);
        if (q[i].value) {
            pd_buf_addc(&b, '=');
            pd_buf_add(&b, q[i].value, q[i].vlen);
        }
    }
    *OUT = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return PD_OK;
}

/* The string to sign; toggle_slash: the bucket-only resource with its trailing slash
 * toggled (PD_ENOTFOUND when the resource is not bucket-only). */
static int string_to_sign(struct pd_arena *a, const struct pd_sigv2_request *req,
                          const char *expires, enum pd_sigv2_date date, int toggle_slash,
                          char **OUT)
{
    char *resource;
    if (pd_sigv2_canonical_resource(a, req, &resource))
        return PD_EINVAL;
    if (toggle_slash && !(resource = bucket_slash_toggled(a, resource)))
        return PD_ENOTFOUND;
    const struct pd_kvs *h = req->headers;
    size_t cap = (h ? h->n : 0) + 1;
    struct qp *q = NULL;
    size_t nq = 0;
    if (expires) {
        if (split(a, req->query, &q, &nq))
            return PD_EINVAL;
        cap += nq;
    }
    struct amz *v = pd_arena_alloc(a, cap * sizeof *v);
    size_t n = 0;
    const char *amz_date = NULL;
    for (size_t i = 0; h && i < h->n; i++) {
        char *lname = pd_arena_strdup(a, h->v[i].name);
        pd_lower(lname);
        if (strncmp(lname, "x-amz-", 6) != 0)
            continue;
        if (!strcmp(lname, "x-amz-date")) {
            if (!amz_date)
                amz_date = trimmed(a, h->v[i].value, h->v[i].vlen);
            if (date == PD_SIGV2_DATE_SLOT && !expires)
                continue;
        }
        amz_add(a, v, &n, lname, h->v[i].value, h->v[i].vlen);
    }
    for (size_t i = 0; i < nq; i++) {
        char *lname = pd_arena_strndup(a, q[i].name, q[i].nlen);
        char *dec;
        size_t dl;
        if (pd_url_decode(a, lname, strlen(lname), 1, &dec, &dl)) {
            for (size_t k = 0; k < n; k++)
                pd_buf_free(&v[k].value);
            return PD_EINVAL;
        }
        pd_lower(dec);
        if (strncmp(dec, "x-amz-", 6) == 0 && q[i].value)
            amz_add(a, v, &n, dec, q[i].value, q[i].vlen);
    }
    qsort(v, n, sizeof *v, cmp_amz);

    const char *md5 = hget(h, "content-md5"), *ct = hget(h, "content-type");
    const char *dslot;
    if (expires)
        dslot = expires;
    else if (date == PD_SIGV2_DATE_SLOT && amz_date)
        dslot = amz_date;
    else
        dslot = hget(h, "date");
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_printf(&b, "%s\n%s\n%s\n%s\n", req->method, md5 ? trimmed(a, md5, strlen(md5)) : "",
                  ct ? trimmed(a, ct, strlen(ct)) : "",
                  dslot ? trimmed(a, dslot, strlen(dslot)) : "");
    for (size_t i = 0; i < n; i++) {
        pd_buf_printf(&b, "%s:", v[i].name);
        pd_buf_add(&b, v[i].value.p ? v[i].value.p : "", v[i].value.len);
        pd_buf_addc(&b, '\n');
        pd_buf_free(&v[i].value);
    }
    pd_buf_adds(&b, resource);
    *OUT = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return PD_OK;
}

int pd_sigv2_string_to_sign(struct pd_arena *a, const struct pd_sigv2_request *req,
                            const char *expires, enum pd_sigv2_date date, char **OUT)
{
    return string_to_sign(a, req, expires, date, 0, OUT);
}

void pd_sigv2_signature(const char *secret, const char *string_to_sign,
                        char OUT[PD_SIGV2_SIG_B64_LEN + 1])
{
    unsigned char mac[PD_SHA1_LEN];
    pd_hmac_sha1(secret, strlen(secret), string_to_sign, strlen(string_to_sign), mac);
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < PD_SHA1_LEN; i += 3) {
        unsigned v = (unsigned)mac[i] << 16;
        if (i + 1 < PD_SHA1_LEN)
            v |= (unsigned)mac[i + 1] << 8;
        if (i + 2 < PD_SHA1_LEN)
            v |= mac[i + 2];
        OUT[o++] = b64[(v >> 18) & 63];
        OUT[o++] = b64[(v >> 12) & 63];
        OUT[o++] = i + 1 < PD_SHA1_LEN ? b64[(v >> 6) & 63] : '=';
        OUT[o++] = i + 2 < PD_SHA1_LEN ? b64[v & 63] : '=';
    }
    OUT[o] = '\0';
}

/* ---- parsing ---- */

int pd_sigv2_parse(struct pd_arena *a, const struct pd_kvs *headers, const char *raw_query,
                   struct pd_sigv2_auth *OUT_auth, struct pd_sigv4_result *OUT_res)
{
    memset(OUT_auth, 0, sizeof *OUT_auth);
    memset(OUT_res, 0, sizeof *OUT_res);
    OUT_res->status = 200;
    struct qp *q;
    size_t nq;
    if (split(a, raw_query, &q, &nq))
        return fail(a, OUT_res, PD_EINVAL, "InvalidURI", 400, "Couldn't parse the specified URI.");
    const char *au = hget(headers, "authorization");
    const char *qakid = qget(q, nq, "AWSAccessKeyId"), *qsig = qget(q, nq, "Signature");
    if (au && (qakid || qsig)) {
        extra(a, OUT_res, "ArgumentName", "Authorization");
        extra(a, OUT_res, "ArgumentValue", au);
        return fail(a, OUT_res, PD_EINVAL, "InvalidArgument", 400,
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                    "Signature query string parameter or the Authorization header should be "
                    "specified");
    }
    if (au) {
        const char *s = au;
        while (*s == ' ')
            s++;
        const char *cred = s + 4; /* after "AWS " */
        while (*cred == ' ')
            cred++;
        const char *colon = strrchr(cred, ':');
        char *akid = colon ? trimmed(a, cred, (size_t)(colon - cred)) : NULL;
        char *sig = colon ? trimmed(a, colon + 1, strlen(colon + 1)) : NULL;
        if (!akid || !*akid || !*sig || strchr(akid, ' ') || strchr(sig, ' ')) {
            extra(a, OUT_res, "ArgumentName", "Authorization");
            extra(a, OUT_res, "ArgumentValue", au);
            return fail(a, OUT_res, PD_EINVAL, "InvalidArgument", 400,
                        "AWS authorization header is invalid.  Expected "
                        "AwsAccessKeyId:signature");
        }
        OUT_auth->akid = akid;
        OUT_auth->signature = sig;
        const char *d = hget(headers, "x-amz-date");
        if (!d)
            d = hget(headers, "date");
        OUT_auth->date_raw = d ? trimmed(a, d, strlen(d)) : NULL;
        const char *tok = hget(headers, "x-amz-security-token");
        OUT_auth->security_token = tok ? pd_arena_strdup(a, tok) : NULL;
        return PD_OK;
    }
    const char *exp = qget(q, nq, "Expires");
    if (!qakid || !qsig || !exp || !*qakid || !*qsig)
        return fail(a, OUT_res, PD_ESIG, "AccessDenied", 403,
                    "Query-string authentication requires the Signature, Expires and "
                    "AWSAccessKeyId parameters");
    OUT_auth->presigned = 1;
    OUT_auth->akid = qakid;
    /* a literal '+' of the base64 signature left unencoded is still a '+' (split keeps it) */
    OUT_auth->signature = qsig;
    OUT_auth->expires_raw = exp;
    const char *tok = qget(q, nq, "x-amz-security-token");
    if (!tok)
        tok = hget(headers, "x-amz-security-token");
    OUT_auth->security_token = tok;
    return PD_OK;
}

/* ---- checks ---- */

static char *iso(struct pd_arena *a, int64_t ms)
{
    char t[32];
    pd_time_iso8601(ms, 0, t);
    return pd_arena_strdup(a, t);
}

/* "47 45 54 0a ..." as S3's StringToSignBytes. */
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

int pd_sigv2_precheck(struct pd_arena *a, const struct pd_sigv2_auth *auth,
                      const struct pd_sigv2_request *req, const struct pd_sigv2_verify_opts *o,
                      struct pd_sigv4_result *OUT_res)
{
    memset(OUT_res, 0, sizeof *OUT_res);
    OUT_res->status = 200;
    (void)req;
    if (auth->presigned) {
        int64_t exp;
        if (pd_parse_i64(auth->expires_raw, INT64_MIN / 2000, INT64_MAX / 2000, &exp) != PD_OK)
            return fail(a, OUT_res, PD_ESIG, "AccessDenied", 403,
                        "Invalid date (should be seconds since epoch): %s", auth->expires_raw);
        if (o->expires_ms / 1000 > exp) {
            extra(a, OUT_res, "Expires", iso(a, exp * 1000));
            extra(a, OUT_res, "ServerTime", iso(a, o->expires_ms / 1000 * 1000));
            return fail(a, OUT_res, PD_ESIG, "AccessDenied", 403, "Request has expired");
        }
        return PD_OK;
    }
    int64_t t;
    if (!auth->date_raw || pd_sigv2_parse_date(auth->date_raw, &t) != PD_OK || t < 0)
        return fail(a, OUT_res, PD_ESIG, "AccessDenied", 403,
                    "AWS authentication requires a valid Date or x-amz-date header");
    int64_t skew = PD_SIGV4_MAX_SKEW_MS;
    if (t < o->now_ms - skew || t > o->now_ms + skew) {
        extra(a, OUT_res, "RequestTime", auth->date_raw);
        extra(a, OUT_res, "ServerTime", iso(a, o->now_ms / 1000 * 1000));
        extra(a, OUT_res, "MaxAllowedSkewMilliseconds", "900000");
        return fail(a, OUT_res, PD_ESIG, "RequestTimeTooSkewed", 403,
                    "The difference between the request time and the current time is too "
                    "large.");
    }
    return PD_OK;
}

int pd_sigv2_verify(struct pd_arena *a, const struct pd_sigv2_auth *auth,
                    const struct pd_sigv2_request *req, const char *secret,
                    const struct pd_sigv2_verify_opts *o, struct pd_sigv4_result *OUT_res)
{
    int rc = pd_sigv2_precheck(a, auth, req, o, OUT_res);
    if (rc)
        return rc;
    const char *expires = auth->presigned ? auth->expires_raw : NULL;
    int has_amz_date = !auth->presigned && hget(req->headers, "x-amz-date");
    char *first = NULL;
    int last = has_amz_date ? PD_SIGV2_DATE_SLOT : PD_SIGV2_DATE_HEADER;
    for (int k = 0; k < 2 * (last + 1); k++) {
        int d = k % (last + 1), toggle = k > last;
        char *sts;
        rc = string_to_sign(a, req, expires, (enum pd_sigv2_date)d, toggle, &sts);
        if (rc == PD_ENOTFOUND)
            break; /* not a bucket-only resource: no other form */
        if (rc)
            return fail(a, OUT_res, PD_EINVAL, "InvalidURI", 400,
                        "Couldn't parse the specified URI.");
        if (!first)
            first = sts;
        char sig[PD_SIGV2_SIG_B64_LEN + 1];
        pd_sigv2_signature(secret, sts, sig);
        if (strlen(auth->signature) == PD_SIGV2_SIG_B64_LEN &&
            pd_ct_equal(sig, auth->signature, PD_SIGV2_SIG_B64_LEN)) {
            OUT_res->string_to_sign = sts;
            return PD_OK;
        }
    }
    OUT_res->string_to_sign = first;
    extra(a, OUT_res, "AWSAccessKeyId", auth->akid);
    extra(a, OUT_res, "StringToSign", first);
    extra(a, OUT_res, "SignatureProvided", auth->signature);
    extra(a, OUT_res, "StringToSignBytes", spaced_hex(a, first));
    return fail(a, OUT_res, PD_ESIG, "SignatureDoesNotMatch", 403, MSG_MISMATCH);
}
