/*
 * s3_list.c - ListObjects and ListObjectsV2, and their listing walk (pure: it reads keys
 * through a callback, so unit tests feed it arrays). ListObjectVersions is s3_versions.c's.
 *
 * The walk visits keys in UTF-8 byte order after the start marker, keeps those with the
 * prefix, and rolls keys that contain the delimiter after the prefix up into one common
 * prefix, which counts as one entry; it seeks past every key under a common prefix instead
 * of reading them. A common prefix at or before the start marker is not repeated (a page
 * that ended on "photos/" resumes after everything under it).
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "services/s3/s3_internal.h"

/* The smallest string greater than every string starting with p, or NULL when none (p is
 * all 0xff bytes). */
static char *past_prefix(struct pd_arena *a, const char *p)
{
    size_t n = strlen(p);
    char *s = pd_arena_strndup(a, p, n);
    while (n && (unsigned char)s[n - 1] == 0xff)
        n--;
    if (!n)
        return NULL;
    s[n - 1] = (char)((unsigned char)s[n - 1] + 1);
    s[n] = '\0';
    return s;
}

int pd_s3_list_walk(struct pd_arena *a, pd_s3_next_fn *next, void *arg,
                    const struct pd_s3_list_query *q, struct pd_s3_list_page *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    const char *prefix = q->prefix ? q->prefix : "";
    size_t plen = strlen(prefix);
    const char *delim = q->delimiter && *q->delimiter ? q->delimiter : NULL;
    size_t cap = q->max_keys > 0 && q->max_keys < 1000 ? (size_t)q->max_keys : 1000;
    OUT->v = pd_arena_alloc(a, (cap + 1) * sizeof *OUT->v);

    /* start at the later of the marker and the prefix */
    const char *pos = q->after;
    int inclusive = 0;
    if (plen && (!pos || strcmp(pos, prefix) < 0)) {
        pos = prefix;
        inclusive = 1;
    }
    int64_t max = q->max_keys < 0 ? 1000 : q->max_keys;
    for (;;) {
        struct pd_s3_object o;
        int rc = next(arg, pos, inclusive, &o);
        if (rc == PD_ENOTFOUND)
            return PD_OK;
        if (rc)
            return rc;
        if (strncmp(o.key, prefix, plen) != 0) {
            if (strcmp(o.key, prefix) > 0)
                return PD_OK; /* past every key with the prefix */
            pos = prefix;
            inclusive = 1;
            continue;
        }
        const char *cp_end = delim ? strstr(o.key + plen, delim) : NULL;
        struct pd_s3_list_entry e = {.key = o.key, .prefix = 0, .obj = o};
        const char *resume;
        if (cp_end) {
            char *cp = pd_arena_strndup(a, o.key, (size_t)(cp_end - o.key) + strlen(delim));
            resume = past_prefix(a, cp);
            if (q->after && strcmp(cp, q->after) <= 0) {
                /* rolled up before: skip it */
                if (!resume)
                    return PD_OK;
                pos = resume;
                inclusive = 1;
                continue;
            }
            e.key = cp;
            e.prefix = 1;
        } else {
            resume = NULL;
        }
        if ((int64_t)OUT->n >= max) {
            OUT->truncated = 1;
            return PD_OK;
        }
        if (OUT->n == cap) {
            /* grow (max-keys above 1000 is capped by callers; be safe anyway) */
            struct pd_s3_list_entry *nv = pd_arena_alloc(a, (cap * 2 + 1) * sizeof *nv);
            memcpy(nv, OUT->v, OUT->n * sizeof *nv);
            OUT->v = nv;
            cap *= 2;
        }
        OUT->v[OUT->n++] = e;
        OUT->next = e.key;
        if (e.prefix) {
            if (!resume)
                return PD_OK;
            pos = resume;
            inclusive = 1;
        } else {
            pos = o.key;
            inclusive = 0;
        }
    }
}

/* ---- handlers ---- */

struct db_src {
    struct pd_req *r;
    const char *bucket;
};

static int db_next(void *arg, const char *after, int inclusive, struct pd_s3_object *OUT)
{
    struct db_src *s = arg;
    return pd_s3_db_object_next(s->r->db, &s->r->arena, s->bucket, after, inclusive, OUT);
}

static const char *enc(struct pd_req *r, int url, const char *s)
{
    if (!s || !url)
        return s;
    return pd_url_encode(&r->arena, s, strlen(s), 1);
}

static json_t *jstr(struct pd_req *r, int url, const char *s)
{
    return json_string(enc(r, url, s));
}

static int list_common(struct pd_req *r, int v2)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    s3_lifecycle_apply(r, &b);
    const char *et = s3_in_str(r, "EncodingType");
    if (et && strcmp(et, "url") != 0)
        return pd_fail(r, &S3_InvalidArgument, "Invalid Encoding Method specified in Request");
    int url = et != NULL;
    int64_t max_keys = s3_in_int(r, "MaxKeys", 1000);
    if (max_keys < 0)
        return pd_fail(r, &S3_InvalidArgument,
                       "Provided max-keys not an integer or within "
                       "integer range");
    if (max_keys > 1000)
        max_keys = 1000;
    struct pd_s3_list_query q = {
        .prefix = s3_in_str(r, "Prefix"),
        .delimiter = s3_in_str(r, "Delimiter"),
        .max_keys = max_keys,
    };
    const char *token = NULL;
    if (v2) {
        token = s3_in_str(r, "ContinuationToken");
        if (token) {
            unsigned char *raw;
            size_t rl;
            if (!*token || pd_base64_decode(&r->arena, token, strlen(token), &raw, &rl) || rl < 2 ||
                raw[0] != 'k' || memchr(raw, 0, rl))
                return pd_fail(r, &S3_InvalidArgument,
                               "The continuation token provided is "
                               "incorrect");
            q.after = pd_arena_strndup(&r->arena, (const char *)raw + 1, rl - 1);
        } else {
            q.after = s3_in_str(r, "StartAfter");
        }
    } else {
        q.after = s3_in_str(r, "Marker");
    }
    if (q.after && !*q.after)
        q.after = NULL;
    struct db_src src = {r, b.name};
    struct pd_s3_list_page page;
    if (max_keys == 0) {
        /* an empty page that is not truncated (s3-tests test_bucket_list_maxkeys_zero) */
        memset(&page, 0, sizeof page);
    } else {
        rc = pd_s3_list_walk(&r->arena, db_next, &src, &q, &page);
        if (rc)
            return s3_internal(r, rc, "listing objects");
    }

    json_t *contents = json_array(), *prefixes = json_array();
    for (size_t i = 0; i < page.n; i++) {
        const struct pd_s3_list_entry *e = &page.v[i];
        if (e->prefix) {
            json_array_append_new(prefixes, json_pack("{s:o}", "Prefix", jstr(r, url, e->key)));
            continue;
        }
        json_t *meta = json_loads(e->obj.meta, 0, NULL);
        json_t *sc = json_object_get(meta, "StorageClass");
        json_t *item = json_pack("{s:o, s:I, s:s, s:I, s:s}", "Key", jstr(r, url, e->key),
                                 "LastModified", (json_int_t)e->obj.modified_ms, "ETag",
                                 e->obj.etag, "Size", (json_int_t)e->obj.size, "StorageClass",
                                 sc ? json_string_value(sc) : "STANDARD");
        const char *alg = json_string_value(json_object_get(meta, "ChecksumAlgorithm"));
        if (alg) {
            json_object_set_new(item, "ChecksumAlgorithm", json_pack("[s]", alg));
            json_object_set(item, "ChecksumType", json_object_get(meta, "ChecksumType"));
        }
        if (!v2 || json_is_true(json_object_get(r->in, "FetchOwner")))
            json_object_set_new(
                item, "Owner",
                json_pack("{s:s}", "ID",
                          s3_canonical_id(r, e->obj.owner ? e->obj.owner : b.account_id)));
        json_decref(meta);
        json_array_append_new(contents, item);
    }
    r->out = json_pack("{s:s, s:o, s:I, s:b}", "Name", b.name, "Prefix",
                       jstr(r, url, q.prefix ? q.prefix : ""), "MaxKeys", (json_int_t)max_keys,
                       "IsTruncated", page.truncated);
    if (q.delimiter && *q.delimiter) /* an empty one is not echoed, as on S3 */
        json_object_set_new(r->out, "Delimiter", jstr(r, url, q.delimiter));
    if (url)
        json_object_set_new(r->out, "EncodingType", json_string("url"));
    if (json_array_size(contents))
        json_object_set_new(r->out, "Contents", contents);
    else
        json_decref(contents);
    if (json_array_size(prefixes))
        json_object_set_new(r->out, "CommonPrefixes", prefixes);
    else
        json_decref(prefixes);
    if (v2) {
        json_object_set_new(r->out, "KeyCount", json_integer((json_int_t)page.n));
        if (token)
            json_object_set_new(r->out, "ContinuationToken", json_string(token));
        const char *sa = s3_in_str(r, "StartAfter");
        if (sa)
            json_object_set_new(r->out, "StartAfter", jstr(r, url, sa));
        if (page.truncated) {
            char *t = pd_arena_printf(&r->arena, "k%s", page.next);
            json_object_set_new(r->out, "NextContinuationToken",
                                json_string(pd_base64_encode(&r->arena, t, strlen(t), 0)));
        }
    } else {
        json_object_set_new(r->out, "Marker", jstr(r, url, q.after ? q.after : ""));
        /* S3 returns NextMarker only with a delimiter; clients use the last key otherwise */
        if (page.truncated && q.delimiter && *q.delimiter)
            json_object_set_new(r->out, "NextMarker", jstr(r, url, page.next));
    }
    return PD_OK;
}

int pd_s3_list_objects(struct pd_req *r)
{
    return list_common(r, 0);
}

int pd_s3_list_objects_v2(struct pd_req *r)
{
    return list_common(r, 1);
}
