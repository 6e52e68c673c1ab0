/*
 * s3_objects.c - object operations: put (the body arrives through the upload sink), get and
 * head (conditional headers, ranges, response-* overrides, checksums), delete (one or many),
 * copy, tagging and attributes; and the object metadata, tag and condition helpers.
 *
 * GetObject answers with the object's file: the handler opens the file the committed row
 * names and hands the descriptor to the server (r->resp.fd), so the bytes sent are exactly
 * those of the version read even if the key is overwritten meanwhile (the old file is
 * unlinked, the open descriptor keeps it readable). An inline object's bytes are read in
 * the transaction that read its row and sent from memory (r->resp.body, r->resp.payload).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/json_text.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "services/s3/s3_internal.h"
#include "store/store.h"

/* ---- metadata ---- */

static const char *const content_members[] = {"ContentType",  "ContentDisposition",
                                              "CacheControl", "ContentLanguage",
                                              "Expires",      "WebsiteRedirectLocation",
                                              "StorageClass", "ServerSideEncryption",
                                              "SSEKMSKeyId",  NULL};

json_t *s3_meta_from_input(struct pd_req *r)
{
    json_t *m = json_object();
    for (const char *const *k = content_members; *k; k++) {
        const char *v = s3_in_str(r, *k);
        if (v)
            json_object_set_new(m, *k, json_string(v));
    }
    /* Content-Encoding without the transfer coding aws-chunked */
    const char *ce = s3_in_str(r, "ContentEncoding");
    if (ce) {
        struct pd_buf b;
        pd_buf_init(&b, 0);
        const char *p = ce;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            const char *s = p;
            size_t l = len;
            while (l && *s == ' ') {
                s++;
                l--;
            }
            while (l && s[l - 1] == ' ')
                l--;
            if (l && !(l == 11 && pd_strncaseeq(s, "aws-chunked", 11))) {
                if (b.len)
                    pd_buf_addc(&b, ',');
                pd_buf_add(&b, s, l);
            }
            p += len + (comma != NULL);
        }
        if (b.len)
            json_object_set_new(m, "ContentEncoding", json_stringn(b.p, b.len));
        pd_buf_free(&b);
    }
    if (!json_object_get(m, "ContentType"))
        json_object_set_new(m, "ContentType", json_string("binary/octet-stream"));
    json_t *md = json_object_get(r->in, "Metadata");
    if (json_is_object(md) && json_object_size(md))
        json_object_set(m, "Metadata", md);
    return m;
}

void s3_meta_to_output(struct pd_req *r, const struct pd_s3_object *o, json_t *meta, json_t *out,
                       int with_checksum)
{
    (void)r;
    for (const char *const *k = content_members; *k; k++) {
        json_t *v = json_object_get(meta, *k);
        if (v && strcmp(*k, "StorageClass") != 0)
            json_object_set(out, *k, v);
    }
    json_t *sc = json_object_get(meta, "StorageClass");
    if (sc && strcmp(json_string_value(sc), "STANDARD") != 0)
        json_object_set(out, "StorageClass", sc);
    json_t *ce = json_object_get(meta, "ContentEncoding");
    if (ce)
        json_object_set(out, "ContentEncoding", ce);
    json_t *md = json_object_get(meta, "Metadata");
    if (md)
        json_object_set(out, "Metadata", md);
    json_object_set_new(out, "ETag", json_string(o->etag));
    json_object_set_new(out, "LastModified", json_integer(o->modified_ms));
    json_object_set_new(out, "ContentLength", json_integer(o->size));
    json_object_set_new(out, "AcceptRanges", json_string("bytes"));
    const char *alg = json_string_value(json_object_get(meta, "ChecksumAlgorithm"));
    const char *val = json_string_value(json_object_get(meta, "ChecksumValue"));
    if (with_checksum && alg && val) {
        json_object_set_new(out, s3_ck_member(s3_ck_parse(alg)), json_string(val));
        json_object_set(out, "ChecksumType", json_object_get(meta, "ChecksumType"));
    }
}

/* ---- tags ---- */

static int tag_fail(struct pd_req *r, const char *msg)
{
    return pd_fail(r, &S3_InvalidTag, "%s", msg);
}

/* Validate (key, value) pairs and store them as JSON. */
static int tags_store(struct pd_req *r, json_t *arr, int object, const char **OUT)
{
    size_t n = json_array_size(arr);
    if (object && n > 10)
        return tag_fail(r, "Object tags cannot be greater than 10");
    if (!object && n > 50)
        return tag_fail(r, "Bucket tag count cannot be greater than 50");
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(arr, i);
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k || !v)
            return pd_fail(r, &S3_MalformedXML,
                           "The XML you provided was not well-formed or did "
                           "not validate against our published schema");
        if (!*k || strlen(k) > 128)
            return tag_fail(r, "The TagKey you have provided is invalid");
        if (strlen(v) > 256)
            return tag_fail(r, "The TagValue you have provided is invalid");
        if (pd_has_prefix(k, "aws:"))
            return tag_fail(r, "Your TagKey cannot be prefixed with aws:");
        for (size_t j = 0; j < i; j++)
            if (!strcmp(k, json_string_value(json_object_get(json_array_get(arr, j), "Key"))))
                return tag_fail(r, "Cannot provide multiple Tags with the same key");
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    *OUT = pd_arena_strdup(&r->arena, s);
    free(s);
    return PD_OK;
}

int s3_tags_from_tagset(struct pd_req *r, json_t *tagset, int object, const char **OUT)
{
    *OUT = NULL;
    json_t *arr = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(tagset, i, t)
    {
        json_array_append_new(arr, json_pack("{s:O?, s:O?}", "Key", json_object_get(t, "Key"),
                                             "Value", json_object_get(t, "Value")));
    }
    int rc = tags_store(r, arr, object, OUT);
    json_decref(arr);
    return rc;
}

int s3_tags_from_header(struct pd_req *r, const char *header, const char **OUT)
{
    *OUT = NULL;
    if (!header || !*header)
        return PD_OK;
    struct pd_kvs kv = {0};
    if (pd_kvs_parse_form(&r->arena, &kv, header, strlen(header), 1))
        return pd_fail(r, &S3_InvalidArgument,
                       "The header 'x-amz-tagging' shall be encoded as "
                       "UTF-8 then URLEncoded URL query parameters "
                       "without tag name duplicates.");
    json_t *arr = json_array();
    for (size_t i = 0; i < kv.n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s%}", "Key", kv.v[i].name, "Value",
                                             kv.v[i].value, kv.v[i].vlen));
    int rc = tags_store(r, arr, 1, OUT);
    json_decref(arr);
    return rc;
}

json_t *s3_tags_to_tagset(const char *tags)
{
    json_t *a = tags ? json_loads(tags, 0, NULL) : NULL;
    return json_is_array(a) ? a : json_array();
}

/* ---- conditions ---- */

/* Does an If-Match / If-None-Match list match etag ("*" matches anything)? */
static int etag_matches(const char *list, const char *etag)
{
    size_t el = strlen(etag);
    const char *bare = etag;
    size_t bl = el;
    if (bl >= 2 && bare[0] == '"') {
        bare++;
        bl -= 2;
    }
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        size_t l = (size_t)(p - s);
        while (l && s[l - 1] == ' ')
            l--;
        if (l >= 2 && s[0] == 'W' && s[1] == '/') {
            s += 2;
            l -= 2;
        }
        if (l >= 2 && s[0] == '"' && s[l - 1] == '"') {
            s++;
            l -= 2;
        }
        if ((l == 1 && *s == '*') || (l == bl && !memcmp(s, bare, bl)))
            return 1;
    }
    return 0;
}

static int precondition(struct pd_req *r, const char *which)
{
    pd_fail(r, &S3_PreconditionFailed,
            "At least one of the pre-conditions you specified did not "
            "hold");
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:s}", "Condition", which);
    return PD_EAWS;
}

int s3_conditions(struct pd_req *r, const char *prefix, const char *etag, int64_t modified_ms)
{
    char m[64];
    const int copy = *prefix != '\0';
    snprintf(m, sizeof m, "%sIfMatch", prefix);
    const char *if_match = s3_in_str(r, m);
    snprintf(m, sizeof m, "%sIfNoneMatch", prefix);
    const char *if_none = s3_in_str(r, m);
    snprintf(m, sizeof m, "%sIfModifiedSince", prefix);
    int64_t ims = s3_in_int(r, m, -1);
    snprintf(m, sizeof m, "%sIfUnmodifiedSince", prefix);
    int64_t ius = s3_in_int(r, m, -1);
    int64_t mod_s = modified_ms / 1000;
    int match_ok = 0;
    if (if_match) {
        if (!etag_matches(if_match, etag))
            return precondition(r, copy ? "x-amz-copy-source-If-Match" : "If-Match");
        match_ok = 1;
    }
    if (ius >= 0 && !match_ok && mod_s > ius / 1000)
        return precondition(r,
                            copy ? "x-amz-copy-source-If-Unmodified-Since" : "If-Unmodified-Since");
    if (if_none && etag_matches(if_none, etag)) {
        if (copy)
            return precondition(r, "x-amz-copy-source-If-None-Match");
        return S3_NOT_MODIFIED;
    }
    if (ims >= 0 && !if_none && mod_s <= ims / 1000) {
        if (copy)
            return precondition(r, "x-amz-copy-source-If-Modified-Since");
        return S3_NOT_MODIFIED;
    }
    return PD_OK;
}

/* ---- ranges ---- */

int pd_s3_parse_range(const char *h, int64_t size, int64_t *OUT_first, int64_t *OUT_last)
{
    if (!h || strncmp(h, "bytes=", 6) != 0)
        return PD_ENOTFOUND;
    const char *p = h + 6;
    if (strchr(p, ','))
        return PD_ENOTFOUND; /* several ranges: S3 serves the whole object */
    const char *dash = strchr(p, '-');
    if (!dash)
        return PD_ENOTFOUND;
    char a[24], b[24];
    size_t al = (size_t)(dash - p), bl = strlen(dash + 1);
    if (al >= sizeof a || bl >= sizeof b)
        return PD_ENOTFOUND;
    memcpy(a, p, al);
    a[al] = '\0';
    memcpy(b, dash + 1, bl + 1);
    int64_t first, last;
    if (!al) { /* suffix: the last N bytes */
        if (pd_parse_i64(b, 0, INT64_MAX, &last))
            return PD_ENOTFOUND;
        if (last == 0)
            return PD_EINVAL;
        if (size == 0)
            return PD_EINVAL;
        first = last >= size ? 0 : size - last;
        *OUT_first = first;
        *OUT_last = size - 1;
        return PD_OK;
    }
    if (pd_parse_i64(a, 0, INT64_MAX, &first))
        return PD_ENOTFOUND;
    if (!bl)
        last = size - 1;
    else if (pd_parse_i64(b, 0, INT64_MAX, &last) || last < first)
        return PD_ENOTFOUND;
    if (first >= size)
        return PD_EINVAL;
    if (last >= size)
        last = size - 1;
    *OUT_first = first;
    *OUT_last = last;
    return PD_OK;
}

/* ---- PutObject ---- */

int pd_s3_put_object(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    s3_lifecycle_apply(r, &b);
    const struct s3_body *body = s3_body_of(r);
    if (!body)
        return s3_internal(r, PD_EINTERNAL, "PutObject without a body");
    const char *key = s3_in_str(r, "Key");
    if (strlen(key) > 1024)
        return pd_fail(r, &S3_InvalidArgument, "Your key is too long");
    const char *if_none = s3_in_str(r, "IfNoneMatch");
    const char *if_match = s3_in_str(r, "IfMatch");
    if (if_none || if_match) {
        struct pd_s3_object cur;
        rc = pd_s3_db_object_get(r->db, &r->arena, b.name, key, &cur);
        if (rc && rc != PD_ENOTFOUND)
            return s3_internal(r, rc, "reading an object");
        if (if_none && rc == PD_OK && etag_matches(if_none, cur.etag))
            return precondition(r, "If-None-Match");
        if (if_match && rc == PD_ENOTFOUND)
            return s3_no_such_key(r, b.name, key);
        if (if_match && !etag_matches(if_match, cur.etag))
            return precondition(r, "If-Match");
    }
    const char *tags = NULL, *owner = NULL, *acl = NULL;
    rc = s3_tags_from_header(r, s3_in_str(r, "Tagging"), &tags);
    if (!rc)
        rc = s3_write_acl(r, &b, &owner, &acl);
    if (rc)
        return rc;
    json_t *meta = s3_meta_from_input(r);
    s3_default_encryption(&b, meta);
    if (body->ck_alg) {
        json_object_set_new(meta, "ChecksumAlgorithm", json_string(s3_ck_name(body->ck_alg)));
        json_object_set_new(meta, "ChecksumValue", json_string(body->ck_b64));
        json_object_set_new(meta, "ChecksumType", json_string("FULL_OBJECT"));
    }
    char *meta_s = pd_json_dumps(meta);
    struct pd_s3_object o = {
        .bucket = b.name,
        .key = key,
        .file = body->mem ? NULL : s3_new_name(r),
        .body = body->mem,
        .size = body->size,
        .etag = s3_etag(&r->arena, body->md5),
        .modified_ms = pd_clock_now_ms(&r->env->clock),
        .meta = pd_arena_strdup(&r->arena, meta_s),
        .tags = tags,
        .owner = owner,
        .acl = acl,
    };
    free(meta_s);
    json_decref(meta);
    rc = o.file ? s3_install(r, body->tmp, o.file) : PD_OK;
    if (rc)
        return s3_internal(r, rc, "storing an object");
    rc = s3_store_current(r, &b, &o);
    if (rc)
        return rc;
    r->out = json_pack("{s:s}", "ETag", o.etag);
    s3_out_version(r->out, &b, o.version_id);
    const char *expiration = s3_lifecycle_expiration(r, &b, &o);
    if (expiration)
        json_object_set_new(r->out, "Expiration", json_string(expiration));
    if (body->ck_alg) {
        json_object_set_new(r->out, s3_ck_member(body->ck_alg), json_string(body->ck_b64));
        json_object_set_new(r->out, "ChecksumType", json_string("FULL_OBJECT"));
    }
    json_t *stored = json_loads(o.meta, 0, NULL);
    static const char *const sse[] = {"ServerSideEncryption", "SSEKMSKeyId"};
    for (size_t i = 0; i < 2; i++)
        if (json_object_get(stored, sse[i]))
            json_object_set(r->out, sse[i], json_object_get(stored, sse[i]));
    json_decref(stored);
    return PD_OK;
}

/* ---- GetObject / HeadObject ---- */

static const struct {
    const char *param, *member;
} overrides[] = {
    {"ResponseContentType", "ContentType"},
    {"ResponseContentLanguage", "ContentLanguage"},
    {"ResponseCacheControl", "CacheControl"},
    {"ResponseContentDisposition", "ContentDisposition"},
    {"ResponseContentEncoding", "ContentEncoding"},
};

static int get_or_head(struct pd_req *r, int get)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    s3_lifecycle_apply(r, &b);
    const char *key = s3_in_str(r, "Key");
    struct pd_s3_object o;
    int fd = -1;
    for (int attempt = 0;; attempt++) {
        rc = s3_object_of(r, &b, key, &o);
        if (rc)
            return rc;
        if (!get || !o.file)
            break; /* an inline body is read below, in this same transaction */
        fd = open(s3_path(r, o.file), O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            break;
        if (errno != ENOENT || attempt == 3)
            return s3_internal(r, PD_EIO, "opening an object file");
        /* overwritten since this transaction began: read the newer row */
        pd_db_rollback(r->db);
        if (pd_db_begin(r->db, 0) != PD_OK)
            return s3_internal(r, PD_EBUSY, "re-reading an object");
    }
    json_t *meta = json_loads(o.meta, 0, NULL);
    rc = s3_conditions(r, "", o.etag, o.modified_ms);
    if (rc == S3_NOT_MODIFIED) {
        if (fd >= 0)
            close(fd);
        r->out = json_pack("{s:s, s:I}", "ETag", o.etag, "LastModified", (json_int_t)o.modified_ms);
        r->status = 304;
        json_decref(meta);
        return PD_OK;
    }
    if (rc) {
        if (fd >= 0)
            close(fd);
        json_decref(meta);
        return rc;
    }
    const char *mode = s3_in_str(r, "ChecksumMode");
    int with_ck = mode && pd_strcaseeq(mode, "ENABLED");
    r->out = json_object();
    int64_t first = 0, last = o.size - 1;
    const char *range = s3_in_str(r, "Range");
    int64_t part = s3_in_int(r, "PartNumber", 0);
    int partial = 0;
    if (part) {
        json_t *sizes = json_object_get(meta, "PartSizes");
        size_t np = json_is_array(sizes) ? json_array_size(sizes) : 1;
        if (part < 1 || (size_t)part > np) {
            if (fd >= 0)
                close(fd);
            json_decref(meta);
            pd_fail(r, &S3_InvalidPartNumber, "The requested partnumber is not satisfiable");
            json_decref(r->err.extra);
            r->err.extra = json_pack("{s:I, s:I}", "PartNumberRequested", (json_int_t)part,
                                     "ActualPartCount", (json_int_t)np);
            return PD_EAWS;
        }
        if (json_is_array(sizes)) {
            first = 0;
            for (int64_t i = 0; i < part - 1; i++)
                first += json_integer_value(json_array_get(sizes, (size_t)i));
            last = first + json_integer_value(json_array_get(sizes, (size_t)part - 1)) - 1;
            partial = 1;
            json_object_set_new(r->out, "PartsCount", json_integer((json_int_t)np));
        }
    } else if (range) {
        rc = pd_s3_parse_range(range, o.size, &first, &last);
        if (rc == PD_EINVAL) {
            if (fd >= 0)
                close(fd);
            json_decref(meta);
            pd_fail(r, &S3_InvalidRange, "The requested range is not satisfiable");
            json_decref(r->err.extra);
            r->err.extra = json_pack("{s:s, s:I}", "RangeRequested", range, "ActualObjectSize",
                                     (json_int_t)o.size);
            return PD_EAWS;
        }
        partial = rc == PD_OK;
    }
    s3_meta_to_output(r, &o, meta, r->out, with_ck && !partial);
    s3_out_version(r->out, &b, o.version_id);
    const char *expiration = o.seq ? NULL : s3_lifecycle_expiration(r, &b, &o);
    if (expiration)
        json_object_set_new(r->out, "Expiration", json_string(expiration));
    if (partial) {
        json_object_set_new(r->out, "ContentLength", json_integer(last - first + 1));
        json_object_set_new(
            r->out, "ContentRange",
            json_string(pd_arena_printf(&r->arena, "bytes %lld-%lld/%lld", (long long)first,
                                        (long long)last, (long long)o.size)));
        r->status = 206;
    }
    if (o.tags) {
        /* x-amz-tagging-count, on GET and HEAD, for callers who may read the tags */
        json_t *t = json_loads(o.tags, 0, NULL);
        const char *msg, *decision = r->decision_id;
        if (json_array_size(t) &&
            s3_allowed(r, o.seq ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging",
                       s3_object_arn(r, b.name, key), &msg) == PD_OK)
            json_object_set_new(r->out, "TagCount", json_integer((json_int_t)json_array_size(t)));
        r->decision_id = decision; /* the answer's decision stays the operation's */
        json_decref(t);
    }
    json_decref(meta);
    int any_override = 0;
    for (size_t i = 0; get && i < sizeof overrides / sizeof overrides[0]; i++) {
        const char *v = s3_in_str(r, overrides[i].param);
        if (v) {
            json_object_set_new(r->out, overrides[i].member, json_string(v));
            any_override = 1;
        }
    }
    json_t *rexp = json_object_get(r->in, "ResponseExpires");
    if (get && rexp) {
        any_override = 1;
        json_object_set_new(
            r->out, "Expires",
            json_string(s3_http_date(&r->arena, (int64_t)json_integer_value(rexp))));
    }
    if (any_override && r->who.kind == PD_CALLER_ANONYMOUS) {
        if (fd >= 0)
            close(fd);
        return pd_fail(r, &S3_InvalidRequest,
                       "Request specific response headers cannot be used "
                       "for anonymous GET requests.");
    }
    if (get && !o.file) {
        /* the body is the inline bytes, sent from memory */
        int64_t len = o.size ? last - first + 1 : 0;
        pd_buf_reset(&r->resp.body);
        if (len) { /* read straight into the response buffer */
            if (pd_buf_reserve(&r->resp.body, (size_t)len) != PD_OK)
                return s3_internal(r, PD_ETOOBIG, "reading an object");
            rc = s3_object_read(r, &o, first, len, r->resp.body.p);
            if (rc)
                return s3_internal(r, rc, "reading an object");
            pd_buf_commit(&r->resp.body, (size_t)len);
        }
        r->resp.payload = 1;
    } else if (get) {
        r->resp.fd = fd;
        r->resp.fd_off = first;
        r->resp.fd_len = o.size ? last - first + 1 : 0;
    }
    return PD_OK;
}

int pd_s3_get_object(struct pd_req *r)
{
    return get_or_head(r, 1);
}

int pd_s3_head_object(struct pd_req *r)
{
    return get_or_head(r, 0);
}

/* ---- DeleteObject(s) ---- */

int pd_s3_delete_object(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    s3_lifecycle_apply(r, &b);
    const char *v = s3_in_str(r, "VersionId");
    const char *key = s3_in_str(r, "Key");
    const char *if_match = s3_in_str(r, "IfMatch");
    if (if_match) {
        struct pd_s3_object cur;
        rc = pd_s3_db_object_get(r->db, &r->arena, b.name, key, &cur);
        if (rc == PD_ENOTFOUND)
            return s3_no_such_key(r, b.name, key);
        if (rc)
            return s3_internal(r, rc, "reading an object");
        if (!etag_matches(if_match, cur.etag))
            return precondition(r, "If-Match");
    }
    struct s3_deleted d;
    rc = s3_delete_key(r, &b, key, v, &d);
    if (rc)
        return rc;
    r->out = json_object();
    if (d.marker)
        json_object_set_new(r->out, "DeleteMarker", json_true());
    if (d.versioned || d.marker_created)
        json_object_set_new(r->out, "VersionId", json_string(d.version_id ? d.version_id : "null"));
    return PD_OK;
}

int pd_s3_delete_objects(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    s3_lifecycle_apply(r, &b);
    if (!pd_req_header(r, "content-md5")) {
        int have_ck = 0;
        for (size_t i = 0; i < r->hdrs.n; i++)
            if (pd_has_prefix(r->hdrs.v[i].name, "x-amz-checksum-") &&
                strcmp(r->hdrs.v[i].name, "x-amz-checksum-type") != 0)
                have_ck = 1;
        if (!have_ck)
            return pd_fail(r, &S3_InvalidRequest,
                           "Missing required header for this request: "
                           "Content-MD5 OR x-amz-checksum-*");
    }
    rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    json_t *del = json_object_get(r->in, "Delete");
    json_t *objs = json_object_get(del, "Objects");
    int quiet = json_is_true(json_object_get(del, "Quiet"));
    if (!json_is_array(objs) || json_array_size(objs) == 0 || json_array_size(objs) > 1000)
        return pd_fail(r, &S3_MalformedXML,
                       "The XML you provided was not well-formed or did not "
                       "validate against our published schema");
    json_t *deleted = json_array(), *errors = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        const char *key = json_string_value(json_object_get(o, "Key"));
        const char *ver = json_string_value(json_object_get(o, "VersionId"));
        if (!key)
            continue;
        if (ver && !s3_version_id_valid(ver)) {
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s, s:s}", "Key", key, "VersionId",
                                                    ver, "Code", "InvalidArgument", "Message",
                                                    "Invalid version id specified"));
            continue;
        }
        const char *msg = NULL;
        rc = s3_allowed(r, ver ? "s3:DeleteObjectVersion" : "s3:DeleteObject",
                        s3_object_arn(r, b.name, key), &msg);
        if (rc == PD_EDENIED) {
            json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "Key", key, "Code",
                                                    "AccessDenied", "Message", "Access Denied"));
            continue;
        }
        if (rc) {
            json_decref(deleted);
            json_decref(errors);
            return rc;
        }
        struct s3_deleted dd;
        rc = s3_delete_key(r, &b, key, ver, &dd);
        if (rc) {
            json_decref(deleted);
            json_decref(errors);
            return rc;
        }
        if (!quiet) {
            json_t *d = json_pack("{s:s}", "Key", key);
            if (ver)
                json_object_set_new(d, "VersionId", json_string(ver));
            if (dd.marker)
                json_object_set_new(d, "DeleteMarker", json_true());
            if (dd.marker_created)
                json_object_set_new(d, "DeleteMarkerVersionId",
                                    json_string(dd.version_id ? dd.version_id : "null"));
            json_array_append_new(deleted, d);
        }
    }
    r->out = json_object();
    if (json_array_size(deleted))
        json_object_set_new(r->out, "Deleted", deleted);
    else
        json_decref(deleted);
    if (json_array_size(errors))
        json_object_set_new(r->out, "Errors", errors);
    else
        json_decref(errors);
    return PD_OK;
}

/* ---- CopyObject ---- */

int pd_s3_parse_copy_source(struct pd_arena *a, const char *src, const char **OUT_bucket,
                            const char **OUT_key, const char **OUT_version)
{
    *OUT_version = NULL;
    if (!src)
        return PD_EINVAL;
    if (*src == '/')
        src++;
    const char *q = strchr(src, '?');
    size_t len = q ? (size_t)(q - src) : strlen(src);
    if (q) {
        if (!pd_has_prefix(q + 1, "versionId=") || strchr(q + 1, '&'))
            return PD_EINVAL;
        *OUT_version = pd_arena_strdup(a, q + 11);
    }
    char *dec;
    size_t dl;
    if (pd_url_decode(a, src, len, 0, &dec, &dl) || strlen(dec) != dl)
        return PD_EINVAL;
    char *slash = strchr(dec, '/');
    if (!slash || slash == dec || !slash[1])
        return PD_EINVAL;
    *slash = '\0';
    *OUT_bucket = dec;
    *OUT_key = slash + 1;
    return PD_OK;
}

/* x-amz-copy-source of the request, parsed (version NULL when it names none). */
static int copy_source(struct pd_req *r, const char **OUT_bucket, const char **OUT_key,
                       const char **OUT_version)
{
    if (pd_s3_parse_copy_source(&r->arena, s3_in_str(r, "CopySource"), OUT_bucket, OUT_key,
                                OUT_version))
        return pd_fail(r, &S3_InvalidArgument,
                       "Copy Source must mention the source bucket and key: "
                       "sourcebucket/sourcekey");
    if (*OUT_version && !s3_version_id_valid(*OUT_version))
        return pd_fail(r, &S3_InvalidArgument, "Invalid version id specified");
    return PD_OK;
}

int s3_copy_source(struct pd_req *r, struct pd_s3_bucket *OUT_b, struct pd_s3_object *OUT_o)
{
    const char *sb = NULL, *sk = NULL, *sv = NULL;
    int rc = copy_source(r, &sb, &sk, &sv);
    if (rc)
        return rc;
    rc = pd_s3_db_bucket_get(r->db, &r->arena, sb, OUT_b);
    if (rc == PD_ENOTFOUND)
        return s3_fail_bucket(r, &S3_NoSuchBucket, sb, "The specified bucket does not exist");
    if (rc)
        return s3_internal(r, rc, "reading the source bucket");
    struct s3_state *st = s3_state(r);
    st->authz_bucket = sb;
    st->authz_key = sk;
    st->authz_version = sv;
    const char *msg = NULL;
    rc = s3_allowed(r, sv ? "s3:GetObjectVersion" : "s3:GetObject", s3_object_arn(r, sb, sk), &msg);
    st->authz_bucket = st->authz_key = st->authz_version = NULL;
    if (rc == PD_EDENIED)
        return pd_fail(r, &S3_AccessDenied, "%s", msg);
    if (rc)
        return rc;
    rc = sv ? pd_s3_db_version_get(r->db, &r->arena, sb, sk, strcmp(sv, "null") ? sv : NULL, OUT_o)
            : pd_s3_db_object_get(r->db, &r->arena, sb, sk, OUT_o);
    if (rc == PD_ENOTFOUND && sv) {
        pd_fail(r, &S3_NoSuchVersion, "The specified version does not exist.");
        json_decref(r->err.extra);
        r->err.extra = json_pack("{s:s, s:s}", "Key", sk, "VersionId", sv);
        return PD_EAWS;
    }
    if (rc == PD_ENOTFOUND)
        return s3_no_such_key(r, sb, sk);
    if (rc)
        return s3_internal(r, rc, "reading the source object");
    if (OUT_o->marker)
        return pd_fail(r, &S3_InvalidRequest,
                       "The source of a copy request may not specifically refer to a delete "
                       "marker by version id.");
    rc = s3_conditions(r, "CopySource", OUT_o->etag, OUT_o->modified_ms);
    return rc;
}

/* Write n bytes to fd. PD_OK or PD_EIO. */
static int write_fd(int fd, const char *p, size_t n)
{
    for (size_t w = 0; w < n;) {
        ssize_t x = write(fd, p + w, n - w);
        if (x < 0) {
            if (errno == EINTR)
                continue;
            return PD_EIO;
        }
        w += (size_t)x;
    }
    return PD_OK;
}

int s3_copy_bytes(struct pd_req *r, const struct pd_s3_object *src, int64_t off, int64_t len,
                  enum s3_ck_alg alg, int want_mem, const char **OUT_tmp, const char **OUT_mem,
                  unsigned char md5[PD_MD5_LEN], const char **OUT_ck)
{
    int rc = PD_OK;
    int in = -1, out = -1;
    char *tmp = NULL, *buf = NULL, *mem = NULL;
    struct pd_hash h;
    struct s3_cksum ck;
    pd_hash_init(&h, PD_HASH_MD5);
    s3_ck_init(&ck, alg);
    *OUT_tmp = NULL;
    if (OUT_mem)
        *OUT_mem = NULL;
    if (!src->file || (want_mem && s3_inline(r, len))) {
        /* the source bytes fit in memory: an inline source, or an inline destination */
        mem = pd_arena_alloc(&r->arena, len ? (size_t)len : 1);
        rc = s3_object_read(r, src, off, len, mem);
        if (rc)
            goto out;
        pd_hash_update(&h, mem, (size_t)len);
        if (alg)
            s3_ck_update(&ck, mem, (size_t)len);
        if (want_mem && s3_inline(r, len))
            goto out; /* the copy stays in memory */
    } else {
        in = open(s3_path(r, src->file), O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            rc = PD_EIO;
            goto out;
        }
    }
    tmp = s3_new_tmp(r);
    out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = PD_EIO;
        goto out;
    }
    if (mem) {
        rc = write_fd(out, mem, (size_t)len);
        mem = NULL;
    } else {
        buf = pd_xmalloc(256 * 1024);
        int64_t done = 0;
        while (!rc && done < len) {
            size_t want = (size_t)(len - done < 256 * 1024 ? len - done : 256 * 1024);
            ssize_t k = pread(in, buf, want, off + done);
            if (k <= 0) {
                if (k < 0 && errno == EINTR)
                    continue;
                rc = PD_EIO;
                break;
            }
            pd_hash_update(&h, buf, (size_t)k);
            if (alg)
                s3_ck_update(&ck, buf, (size_t)k);
            rc = write_fd(out, buf, (size_t)k);
            done += k;
        }
    }
    if (!rc && r->env->cfg.sync_full && fsync(out) != 0)
        rc = PD_EIO;
out:
    free(buf);
    {
        unsigned char d[PD_HASH_MAX_LEN];
        pd_hash_final(&h, d);
        memcpy(md5, d, PD_MD5_LEN);
    }
    if (alg) {
        unsigned char d[32];
        s3_ck_final(&ck, d);
        *OUT_ck = pd_base64_encode(&r->arena, d, s3_ck_len(alg), 0);
    } else {
        *OUT_ck = NULL;
    }
    s3_ck_cleanup(&ck);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (rc) {
        if (tmp)
            unlink(tmp);
        return s3_internal(r, rc, "copying object bytes");
    }
    if (mem)
        *OUT_mem = mem;
    else
        *OUT_tmp = tmp;
    return PD_OK;
}

int pd_s3_copy_object(struct pd_req *r)
{
    struct pd_s3_bucket b, sb;
    struct pd_s3_object so;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    s3_lifecycle_apply(r, &b);
    rc = s3_copy_source(r, &sb, &so);
    if (rc)
        return rc;
    const char *key = s3_in_str(r, "Key");
    const char *directive = s3_in_str(r, "MetadataDirective");
    const char *tdirective = s3_in_str(r, "TaggingDirective");
    int replace = directive && !strcmp(directive, "REPLACE");
    if (directive && !replace && strcmp(directive, "COPY") != 0)
        return pd_fail(r, &S3_InvalidArgument, "Unknown metadata directive.");
    json_t *smeta = json_loads(so.meta, 0, NULL);
    const char *alg_name = s3_in_str(r, "ChecksumAlgorithm");
    enum s3_ck_alg alg = s3_ck_parse(alg_name);
    if (!alg && !json_is_true(json_object_get(smeta, "Composite")))
        alg = s3_ck_parse(json_string_value(json_object_get(smeta, "ChecksumAlgorithm")));
    /* (copying a noncurrent version onto its key restores it: allowed) */
    if (!strcmp(sb.name, b.name) && !strcmp(so.key, key) && !so.seq && !replace && !alg_name &&
        !s3_in_str(r, "StorageClass") && !s3_in_str(r, "WebsiteRedirectLocation") &&
        !s3_in_str(r, "ServerSideEncryption")) {
        json_decref(smeta);
        return pd_fail(r, &S3_InvalidRequest,
                       "This copy request is illegal because it is trying to copy an object to "
                       "itself without changing the object's metadata, storage class, website "
                       "redirect location or encryption attributes.");
    }
    json_t *meta;
    if (replace) {
        meta = s3_meta_from_input(r);
    } else {
        meta = json_deep_copy(smeta);
        json_object_del(meta, "ChecksumAlgorithm");
        json_object_del(meta, "ChecksumValue");
        json_object_del(meta, "ChecksumType");
        json_object_del(meta, "PartSizes");
        json_object_del(meta, "Composite");
        /* the copy is encrypted as the request or the destination bucket says */
        json_object_del(meta, "ServerSideEncryption");
        json_object_del(meta, "SSEKMSKeyId");
        const char *sse = s3_in_str(r, "ServerSideEncryption");
        if (sse)
            json_object_set_new(meta, "ServerSideEncryption", json_string(sse));
    }
    s3_default_encryption(&b, meta);
    json_decref(smeta);
    const char *tags = so.tags;
    if (tdirective && !strcmp(tdirective, "REPLACE")) {
        rc = s3_tags_from_header(r, s3_in_str(r, "Tagging"), &tags);
        if (rc) {
            json_decref(meta);
            return rc;
        }
    }
    const char *owner = NULL, *acl = NULL;
    rc = s3_write_acl(r, &b, &owner, &acl);
    if (rc) {
        json_decref(meta);
        return rc;
    }
    const char *tmp, *mem, *ck;
    unsigned char md5[PD_MD5_LEN];
    rc = s3_copy_bytes(r, &so, 0, so.size, alg, 1, &tmp, &mem, md5, &ck);
    if (rc) {
        json_decref(meta);
        return rc;
    }
    if (alg) {
        json_object_set_new(meta, "ChecksumAlgorithm", json_string(s3_ck_name(alg)));
        json_object_set_new(meta, "ChecksumValue", json_string(ck));
        json_object_set_new(meta, "ChecksumType", json_string("FULL_OBJECT"));
    }
    char *meta_s = pd_json_dumps(meta);
    json_decref(meta);
    struct pd_s3_object o = {
        .bucket = b.name,
        .key = key,
        .file = tmp ? s3_new_name(r) : NULL,
        .body = mem,
        .size = so.size,
        .etag = s3_etag(&r->arena, md5),
        .modified_ms = pd_clock_now_ms(&r->env->clock),
        .meta = pd_arena_strdup(&r->arena, meta_s),
        .tags = tags,
        .owner = owner,
        .acl = acl,
    };
    free(meta_s);
    rc = tmp ? s3_install(r, tmp, o.file) : PD_OK;
    if (rc) {
        unlink(tmp);
        return s3_internal(r, rc, "storing a copy");
    }
    rc = s3_store_current(r, &b, &o);
    if (rc)
        return rc;
    json_t *res =
        json_pack("{s:s, s:I}", "ETag", o.etag, "LastModified", (json_int_t)o.modified_ms);
    if (alg) {
        json_object_set_new(res, s3_ck_member(alg), json_string(ck));
        json_object_set_new(res, "ChecksumType", json_string("FULL_OBJECT"));
    }
    r->out = json_pack("{s:o}", "CopyObjectResult", res);
    s3_out_version(r->out, &b, o.version_id);
    if (s3_vstate(&sb) != S3_UNVERSIONED || so.version_id)
        json_object_set_new(r->out, "CopySourceVersionId",
                            json_string(so.version_id ? so.version_id : "null"));
    return PD_OK;
}

/* ---- tagging ---- */

int pd_s3_get_object_tagging(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_object o;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_object_of(r, &b, s3_in_str(r, "Key"), &o);
    if (rc)
        return rc;
    r->out = json_pack("{s:o}", "TagSet", s3_tags_to_tagset(o.tags));
    s3_out_version(r->out, &b, o.version_id);
    return PD_OK;
}

int pd_s3_put_object_tagging(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_object o;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_object_of(r, &b, s3_in_str(r, "Key"), &o);
    if (!rc)
        rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    const char *stored = NULL;
    json_t *ts = json_object_get(json_object_get(r->in, "Tagging"), "TagSet");
    rc = s3_tags_from_tagset(r, ts, 1, &stored);
    if (rc)
        return rc;
    rc = pd_s3_db_object_set_tags(r->db, b.name, o.key, o.seq, stored);
    if (rc)
        return s3_internal(r, rc, "storing object tags");
    r->out = json_object();
    s3_out_version(r->out, &b, o.version_id);
    return PD_OK;
}

int pd_s3_delete_object_tagging(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_object o;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_object_of(r, &b, s3_in_str(r, "Key"), &o);
    if (rc)
        return rc;
    rc = pd_s3_db_object_set_tags(r->db, b.name, o.key, o.seq, NULL);
    if (rc)
        return s3_internal(r, rc, "removing object tags");
    r->out = json_object();
    s3_out_version(r->out, &b, o.version_id);
    return PD_OK;
}

/* ---- attributes ---- */

int pd_s3_get_object_attributes(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_object o;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_object_of(r, &b, s3_in_str(r, "Key"), &o);
    if (rc)
        return rc;
    json_t *attrs = json_object_get(r->in, "ObjectAttributes");
    json_t *meta = json_loads(o.meta, 0, NULL);
    r->out = json_pack("{s:I}", "LastModified", (json_int_t)o.modified_ms);
    size_t i;
    json_t *a;
    json_array_foreach(attrs, i, a)
    {
        const char *n = json_string_value(a);
        if (!n)
            continue;
        if (!strcmp(n, "ETag")) {
            size_t l = strlen(o.etag);
            json_object_set_new(r->out, "ETag", json_stringn(o.etag + 1, l >= 2 ? l - 2 : 0));
        } else if (!strcmp(n, "ObjectSize")) {
            json_object_set_new(r->out, "ObjectSize", json_integer(o.size));
        } else if (!strcmp(n, "StorageClass")) {
            json_t *sc = json_object_get(meta, "StorageClass");
            json_object_set_new(r->out, "StorageClass",
                                json_string(sc ? json_string_value(sc) : "STANDARD"));
        } else if (!strcmp(n, "Checksum")) {
            const char *alg = json_string_value(json_object_get(meta, "ChecksumAlgorithm"));
            const char *val = json_string_value(json_object_get(meta, "ChecksumValue"));
            if (alg && val) {
                /* composite values carry "-N"; the attribute is the bare digest */
                const char *dash = strchr(val, '-');
                json_t *c = json_object();
                json_object_set_new(c, s3_ck_member(s3_ck_parse(alg)),
                                    dash ? json_stringn(val, (size_t)(dash - val))
                                         : json_string(val));
                json_object_set(c, "ChecksumType", json_object_get(meta, "ChecksumType"));
                json_object_set_new(r->out, "Checksum", c);
            }
        } else if (!strcmp(n, "ObjectParts")) {
            json_t *sizes = json_object_get(meta, "PartSizes");
            if (json_is_array(sizes))
                json_object_set_new(
                    r->out, "ObjectParts",
                    json_pack("{s:i}", "TotalPartsCount", (int)json_array_size(sizes)));
        } else {
            json_decref(meta);
            return pd_fail(r, &S3_InvalidArgument, "Invalid attribute name specified.");
        }
    }
    json_decref(meta);
    return PD_OK;
}
