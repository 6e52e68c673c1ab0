/*
 * s3_versions.c - versioning: the bucket's state (PutBucketVersioning, GetBucketVersioning),
 * how a write or a delete changes a key's versions, finding the version a request names,
 * and ListObjectVersions.
 *
 * A key's current version is its s3_objects row (possibly a delete marker); older versions
 * and markers are s3_versions rows, newest first. The rules (S3 user guide, "Using
 * versioning"; identity-and-s3-facts.md I):
 *  - never versioned: a write replaces the key's only version, the null one; DELETE removes
 *    it;
 *  - Enabled: a write gets a fresh version id and the previous current version becomes
 *    noncurrent; DELETE without an id adds a delete marker (even for a key that does not
 *    exist);
 *  - Suspended: a write is the null version, replacing the null version wherever it is and
 *    keeping the others; DELETE without an id makes a null delete marker the same way;
 *  - DELETE with an id removes that version or marker; when it was current, the newest
 *    noncurrent one becomes current again.
 * A bucket never goes back to unversioned. Version ids are 32 characters of [A-Za-z0-9._].
 */
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/str.h"
#include "env.h"
#include "services/s3/s3_internal.h"

#define VERSION_ID_LEN 32

const char *s3_cfg(const struct pd_s3_bucket *b, const char *kind)
{
    for (size_t i = 0; i < b->ncfg; i++)
        if (!strcmp(b->cfg[i].kind, kind))
            return b->cfg[i].doc;
    return NULL;
}

json_t *s3_cfg_json(const struct pd_s3_bucket *b, const char *kind)
{
    const char *d = s3_cfg(b, kind);
    return d ? json_loads(d, 0, NULL) : NULL;
}

int s3_cfg_put(struct pd_req *r, const struct pd_s3_bucket *b, const char *kind, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    int rc = pd_s3_db_bucket_cfg_set(r->db, b->name, kind, text);
    free(text);
    return rc ? s3_internal(r, rc, "storing a bucket configuration") : PD_OK;
}

enum s3_vstate s3_vstate(const struct pd_s3_bucket *b)
{
    json_t *v = s3_cfg_json(b, "versioning");
    const char *st = json_string_value(json_object_get(v, "Status"));
    enum s3_vstate s = !st                        ? S3_UNVERSIONED
                       : !strcmp(st, "Enabled")   ? S3_VENABLED
                       : !strcmp(st, "Suspended") ? S3_VSUSPENDED
                                                  : S3_UNVERSIONED;
    json_decref(v);
    return s;
}

int s3_version_id_valid(const char *v)
{
    if (!strcmp(v, "null"))
        return 1;
    if (strlen(v) != VERSION_ID_LEN)
        return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_'))
            return 0;
    return 1;
}

static const char *new_version_id(struct pd_req *r)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    char *v = pd_arena_alloc(&r->arena, VERSION_ID_LEN + 1);
    for (int i = 0; i < VERSION_ID_LEN; i += 8) {
        uint64_t x = pd_ids_next(&r->env->ids);
        for (int k = 0; k < 8; k++, x >>= 6)
            v[i + k] = alphabet[x & 63];
    }
    v[VERSION_ID_LEN] = '\0';
    return v;
}

void s3_out_version(json_t *out, const struct pd_s3_bucket *b, const char *version_id)
{
    if (s3_vstate(b) != S3_UNVERSIONED)
        json_object_set_new(out, "VersionId", json_string(version_id ? version_id : "null"));
}

/* Remove the key's noncurrent null version, if any (a suspended bucket's write replaces it). */
static int drop_noncurrent_null(struct pd_req *r, const struct pd_s3_bucket *b, const char *key)
{
    struct pd_s3_object v;
    int rc = pd_s3_db_version_get(r->db, &r->arena, b->name, key, NULL, &v);
    if (rc == PD_ENOTFOUND || (rc == PD_OK && !v.seq))
        return PD_OK;
    const char *old = NULL;
    if (!rc)
        rc = pd_s3_db_version_del(r->db, &r->arena, b->name, key, v.seq, &old);
    if (rc)
        return s3_internal(r, rc, "replacing the null version");
    s3_drop_after_commit(r, old);
    return PD_OK;
}

int s3_store_current(struct pd_req *r, const struct pd_s3_bucket *b, struct pd_s3_object *o)
{
    enum s3_vstate vs = s3_vstate(b);
    int rc = PD_OK;
    o->version_id = vs == S3_VENABLED ? new_version_id(r) : NULL;
    if (vs != S3_UNVERSIONED) {
        struct pd_s3_object cur;
        rc = pd_s3_db_object_current(r->db, &r->arena, b->name, o->key, &cur);
        if (rc == PD_OK && (vs == S3_VENABLED || cur.version_id))
            rc = pd_s3_db_object_demote(r->db, b->name, o->key, o->modified_ms);
        else if (rc == PD_ENOTFOUND)
            rc = PD_OK;
        if (!rc && vs == S3_VSUSPENDED)
            rc = drop_noncurrent_null(r, b, o->key);
        if (rc)
            return s3_internal(r, rc, "keeping the previous version");
    }
    const char *old = NULL;
    rc = pd_s3_db_object_put(r->db, &r->arena, o, &old);
    if (rc)
        return s3_internal(r, rc, "storing an object");
    s3_drop_after_commit(r, old);
    return PD_OK;
}

/* A delete marker as the key's current version. */
static int put_marker(struct pd_req *r, const struct pd_s3_bucket *b, const char *key,
                      const char **OUT_version)
{
    struct pd_s3_object m = {
        .bucket = b->name,
        .key = key,
        .etag = "",
        .modified_ms = pd_clock_now_ms(&r->env->clock),
        .meta = "{}",
        .marker = 1,
        .owner = r->who.account_id,
    };
    int rc = s3_store_current(r, b, &m);
    *OUT_version = m.version_id;
    return rc;
}

int s3_delete_key(struct pd_req *r, const struct pd_s3_bucket *b, const char *key,
                  const char *version, struct s3_deleted *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    int rc;
    const char *old = NULL;
    if (!version) {
        enum s3_vstate vs = s3_vstate(b);
        if (vs == S3_UNVERSIONED) {
            rc = pd_s3_db_object_del(r->db, &r->arena, b->name, key, &old);
            if (rc)
                return s3_internal(r, rc, "deleting an object");
            s3_drop_after_commit(r, old);
            return PD_OK;
        }
        OUT->marker = 1;
        OUT->marker_created = 1;
        return put_marker(r, b, key, &OUT->version_id);
    }
    if (!s3_version_id_valid(version))
        return pd_fail(r, &S3_InvalidArgument, "Invalid version id specified");
    OUT->version_id = version;
    OUT->versioned = 1;
    struct pd_s3_object v;
    rc = pd_s3_db_version_get(r->db, &r->arena, b->name, key,
                              strcmp(version, "null") ? version : NULL, &v);
    if (rc == PD_ENOTFOUND)
        return PD_OK; /* deleting a version that is not there succeeds, as on S3 */
    if (rc)
        return s3_internal(r, rc, "reading a version");
    OUT->marker = v.marker;
    if (v.seq) {
        rc = pd_s3_db_version_del(r->db, &r->arena, b->name, key, v.seq, &old);
    } else {
        rc = pd_s3_db_object_del(r->db, &r->arena, b->name, key, &old);
        if (!rc) {
            rc = pd_s3_db_object_promote(r->db, b->name, key);
            if (rc == PD_ENOTFOUND)
                rc = PD_OK;
        }
    }
    if (rc)
        return s3_internal(r, rc, "deleting a version");
    s3_drop_after_commit(r, old);
    return PD_OK;
}

/* A delete marker named where an object was wanted: 405 (by version id) or 404 (current). */
static int marker_answer(struct pd_req *r, const struct pd_s3_bucket *b,
                         const struct pd_s3_object *m, int by_id)
{
    pd_req_set_header(r, "x-amz-delete-marker", "true");
    if (s3_vstate(b) != S3_UNVERSIONED || m->version_id)
        pd_req_set_header(r, "x-amz-version-id", m->version_id ? m->version_id : "null");
    if (!by_id)
        return s3_no_such_key(r, b->name, m->key);
    pd_req_set_header(r, "Last-Modified", s3_http_date(&r->arena, m->modified_ms));
    pd_req_set_header(r, "Allow", "DELETE");
    pd_fail(r, &S3_MethodNotAllowed, "The specified method is not allowed against this resource.");
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:s, s:s}", "Method", r->method, "ResourceType", "DeleteMarker");
    return PD_EAWS;
}

/* NoSuchKey / NoSuchVersion for callers allowed to list the bucket, AccessDenied for the
 * others (S3 does not tell them whether a key exists). */
static int not_found(struct pd_req *r, const struct pd_s3_bucket *b, const char *key,
                     const char *version)
{
    const char *msg = NULL;
    int rc = s3_allowed(r, "s3:ListBucket", s3_bucket_arn(r, b->name), &msg);
    if (rc == PD_EDENIED)
        return pd_fail(r, &S3_AccessDenied, "Access Denied");
    if (rc)
        return rc;
    if (!version)
        return s3_no_such_key(r, b->name, key);
    pd_fail(r, &S3_NoSuchVersion, "The specified version does not exist.");
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:s, s:s}", "Key", key, "VersionId", version);
    return PD_EAWS;
}

int s3_object_of(struct pd_req *r, const struct pd_s3_bucket *b, const char *key,
                 struct pd_s3_object *OUT)
{
    const char *v = s3_in_str(r, "VersionId");
    if (v && !s3_version_id_valid(v))
        return pd_fail(r, &S3_InvalidArgument, "Invalid version id specified");
    int rc =
        v ? pd_s3_db_version_get(r->db, &r->arena, b->name, key, strcmp(v, "null") ? v : NULL, OUT)
          : pd_s3_db_object_current(r->db, &r->arena, b->name, key, OUT);
    if (rc == PD_ENOTFOUND)
        return not_found(r, b, key, v);
    if (rc)
        return s3_internal(r, rc, "reading an object");
    if (OUT->marker)
        return marker_answer(r, b, OUT, v != NULL);
    return PD_OK;
}

/* ---- PutBucketVersioning / GetBucketVersioning ---- */

int pd_s3_put_bucket_versioning(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    json_t *cfg = json_object_get(r->in, "VersioningConfiguration");
    const char *status = json_string_value(json_object_get(cfg, "Status"));
    const char *mfa = json_string_value(json_object_get(cfg, "MFADelete"));
    if (status && strcmp(status, "Enabled") && strcmp(status, "Suspended"))
        return pd_fail(r, &S3_IllegalVersioningConfigurationException,
                       "The Versioning element must be specified");
    if (mfa && strcmp(mfa, "Enabled") && strcmp(mfa, "Disabled"))
        return pd_fail(r, &S3_MalformedXML,
                       "The XML you provided was not well-formed or did not validate against "
                       "our published schema");
    if (mfa && !strcmp(mfa, "Enabled"))
        return pd_fail(r, &S3_NotImplemented,
                       "MFA delete is not implemented by podiam (it cannot check MFA tokens).");
    if (!status && !mfa)
        return pd_fail(r, &S3_IllegalVersioningConfigurationException,
                       "The Versioning element must be specified");
    json_t *doc = s3_cfg_json(&b, "versioning");
    if (!doc)
        doc = json_object();
    if (status)
        json_object_set_new(doc, "Status", json_string(status));
    if (mfa || json_object_get(doc, "MFADelete"))
        json_object_set_new(doc, "MFADelete", json_string(mfa ? mfa : "Disabled"));
    if (!json_object_get(doc, "Status")) {
        /* MFADelete alone on a bucket never versioned: nothing to record */
        json_decref(doc);
        return PD_OK;
    }
    rc = s3_cfg_put(r, &b, "versioning", doc);
    json_decref(doc);
    return rc;
}

int pd_s3_get_bucket_versioning(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    json_t *doc = s3_cfg_json(&b, "versioning");
    r->out = json_object(); /* never versioned: an empty VersioningConfiguration */
    json_t *st = json_object_get(doc, "Status"), *mfa = json_object_get(doc, "MFADelete");
    if (st)
        json_object_set(r->out, "Status", st);
    if (mfa)
        json_object_set(r->out, "MFADelete", mfa);
    json_decref(doc);
    return PD_OK;
}

/* ---- ListObjectVersions ---- */

/* The smallest string greater than every string starting with p, or NULL. */
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

struct vlist {
    struct pd_req *r;
    const struct pd_s3_bucket *b;
    int url;
    int64_t max, count;
    json_t *versions, *markers, *prefixes;
    int truncated;
    const char *next_key, *next_vid;
};

static const char *enc(struct vlist *l, const char *s)
{
    return l->url ? pd_url_encode(&l->r->arena, s, strlen(s), 1) : s;
}

/* Room for one more entry? Marks the page truncated when not. */
static int room(struct vlist *l)
{
    if (l->count < l->max)
        return 1;
    l->truncated = 1;
    return 0;
}

static void add_version(struct vlist *l, const struct pd_s3_object *o)
{
    struct pd_req *r = l->r;
    const char *vid = o->version_id ? o->version_id : "null";
    json_t *owner =
        json_pack("{s:s}", "ID", s3_canonical_id(r, o->owner ? o->owner : l->b->account_id));
    json_t *e;
    if (o->marker) {
        e = json_pack("{s:s, s:s, s:b, s:I, s:o}", "Key", enc(l, o->key), "VersionId", vid,
                      "IsLatest", o->seq == 0, "LastModified", (json_int_t)o->modified_ms, "Owner",
                      owner);
        json_array_append_new(l->markers, e);
    } else {
        json_t *meta = json_loads(o->meta, 0, NULL);
        json_t *sc = json_object_get(meta, "StorageClass");
        e = json_pack("{s:s, s:s, s:b, s:I, s:s, s:I, s:s, s:o}", "Key", enc(l, o->key),
                      "VersionId", vid, "IsLatest", o->seq == 0, "LastModified",
                      (json_int_t)o->modified_ms, "ETag", o->etag, "Size", (json_int_t)o->size,
                      "StorageClass", sc ? json_string_value(sc) : "STANDARD", "Owner", owner);
        const char *alg = json_string_value(json_object_get(meta, "ChecksumAlgorithm"));
        if (alg) {
            json_object_set_new(e, "ChecksumAlgorithm", json_pack("[s]", alg));
            json_object_set(e, "ChecksumType", json_object_get(meta, "ChecksumType"));
        }
        json_decref(meta);
        json_array_append_new(l->versions, e);
    }
    l->count++;
    l->next_key = o->key;
    l->next_vid = vid;
}

/* The versions of key newer-to-older; with after_vid, only those listed after it. */
static int list_key(struct vlist *l, const char *key, const char *after_vid)
{
    struct pd_s3_object *v;
    size_t n;
    int rc = pd_s3_db_versions_of(l->r->db, &l->r->arena, l->b->name, key, &v, &n);
    if (rc)
        return s3_internal(l->r, rc, "listing versions");
    size_t i = 0;
    if (after_vid) {
        while (i < n && strcmp(v[i].version_id ? v[i].version_id : "null", after_vid))
            i++;
        i = i < n ? i + 1 : n; /* an unknown marker version: nothing more of this key */
    }
    for (; i < n; i++) {
        if (!room(l))
            return PD_OK;
        add_version(l, &v[i]);
    }
    return PD_OK;
}

int pd_s3_list_object_versions(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    s3_lifecycle_apply(r, &b);
    const char *et = s3_in_str(r, "EncodingType");
    if (et && strcmp(et, "url") != 0)
        return pd_fail(r, &S3_InvalidArgument, "Invalid Encoding Method specified in Request");
    int64_t max = s3_in_int(r, "MaxKeys", 1000);
    if (max < 0)
        return pd_fail(r, &S3_InvalidArgument,
                       "Provided max-keys not an integer or within integer range");
    if (max > 1000)
        max = 1000;
    const char *prefix = s3_in_str(r, "Prefix");
    const char *delim = s3_in_str(r, "Delimiter");
    const char *km = s3_in_str(r, "KeyMarker");
    const char *vm = s3_in_str(r, "VersionIdMarker");
    if (km && !*km)
        km = NULL;
    if (vm && !*vm)
        vm = NULL;
    if (vm && !km)
        return pd_fail(r, &S3_InvalidArgument,
                       "A version-id marker cannot be specified without a key marker.");
    if (vm && !s3_version_id_valid(vm))
        return pd_fail(r, &S3_InvalidArgument, "Invalid version id specified");
    const char *pfx = prefix ? prefix : "";
    size_t plen = strlen(pfx);
    const char *dl = delim && *delim ? delim : NULL;
    struct vlist l = {.r = r,
                      .b = &b,
                      .url = et != NULL,
                      .max = max,
                      .versions = json_array(),
                      .markers = json_array(),
                      .prefixes = json_array()};

    const char *pos = km;
    int inclusive = 0;
    if (km && vm && !strncmp(km, pfx, plen) && !(dl && strstr(km + plen, dl))) {
        rc = list_key(&l, km, vm); /* the rest of the key the last page ended in */
        if (rc)
            goto out;
    }
    if (plen && (!pos || strcmp(pos, pfx) < 0)) {
        pos = pfx;
        inclusive = 1;
    }
    while (!l.truncated && max > 0) {
        const char *key;
        rc = pd_s3_db_version_next_key(r->db, &r->arena, b.name, pos, inclusive, &key);
        if (rc == PD_ENOTFOUND) {
            rc = PD_OK;
            break;
        }
        if (rc) {
            rc = s3_internal(r, rc, "listing versions");
            goto out;
        }
        if (strncmp(key, pfx, plen) != 0) {
            if (strcmp(key, pfx) > 0)
                break;
            pos = pfx;
            inclusive = 1;
            continue;
        }
        const char *cp_end = dl ? strstr(key + plen, dl) : NULL;
        if (cp_end) {
            char *cp = pd_arena_strndup(&r->arena, key, (size_t)(cp_end - key) + strlen(dl));
            const char *resume = past_prefix(&r->arena, cp);
            if (!km || strcmp(cp, km) > 0) {
                if (!room(&l))
                    break;
                json_array_append_new(l.prefixes, json_pack("{s:s}", "Prefix", enc(&l, cp)));
                l.count++;
                l.next_key = cp;
                l.next_vid = NULL;
            }
            if (!resume)
                break;
            pos = resume;
            inclusive = 1;
            continue;
        }
        rc = list_key(&l, key, NULL);
        if (rc)
            goto out;
        pos = key;
        inclusive = 0;
    }
    /* MaxKeys 0 is an empty page, not truncated (as ListObjects answers it) */
    r->out = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "Name", b.name, "Prefix", enc(&l, pfx),
                       "KeyMarker", km ? enc(&l, km) : "", "VersionIdMarker", vm ? vm : "",
                       "MaxKeys", (json_int_t)max, "IsTruncated", l.truncated);
    if (dl)
        json_object_set_new(r->out, "Delimiter", json_string(enc(&l, dl)));
    if (l.url)
        json_object_set_new(r->out, "EncodingType", json_string("url"));
    if (l.truncated && l.next_key) {
        json_object_set_new(r->out, "NextKeyMarker", json_string(enc(&l, l.next_key)));
        if (l.next_vid)
            json_object_set_new(r->out, "NextVersionIdMarker", json_string(l.next_vid));
    }
    if (json_array_size(l.versions))
        json_object_set(r->out, "Versions", l.versions);
    if (json_array_size(l.markers))
        json_object_set(r->out, "DeleteMarkers", l.markers);
    if (json_array_size(l.prefixes))
        json_object_set(r->out, "CommonPrefixes", l.prefixes);
out:
    json_decref(l.versions);
    json_decref(l.markers);
    json_decref(l.prefixes);
    return rc;
}
