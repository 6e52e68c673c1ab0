/*
 * s3_fixtures.c - the "s3" section of fixtures files (docs/fixtures.md): buckets with their
 * owner, region, policy and tags, and objects given inline (text or base64); and its export.
 *
 * Everything is checked as the API would check it (bucket names, policies compiled as
 * resource policies, tag limits); an error names its place in the file. Object bytes up to
 * the inline threshold are stored with the object's row; bigger ones go through a temp file
 * renamed into the objects directory, inside the caller's transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/policy_cache.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "crypto/hash.h"
#include "env.h"
#include "services/s3/s3.h"
#include "services/s3/s3_internal.h"
#include "store/s3_db.h"
#include "store/store.h"

static int fx_err(char **OUT_err, const char *origin, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fx_err(char **OUT_err, const char *origin, const char *where, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(origin) + strlen(where) + strlen(msg) + 32;
    *OUT_err = pd_xmalloc(n);
    snprintf(*OUT_err, n, "fixtures %s: %s: %s", origin, where, msg);
    return PD_EINVAL;
}

static int known(json_t *obj, const char *const *names, const char **OUT_bad)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int ok = 0;
        for (const char *const *n = names; *n; n++)
            ok |= !strcmp(*n, k);
        if (!ok) {
            *OUT_bad = k;
            return 0;
        }
    }
    return 1;
}

/* {"k": "v"} -> stored tag JSON text (malloc'd), validated. */
static int tags_text(json_t *tags, int object, char **OUT, const char **OUT_why)
{
    *OUT = NULL;
    if (!tags)
        return PD_OK;
    if (!json_is_object(tags)) {
        *OUT_why = "tags must be an object {\"key\": \"value\"}";
        return PD_EINVAL;
    }
    if (json_object_size(tags) > (object ? 10u : 50u)) {
        *OUT_why = object ? "Object tags cannot be greater than 10"
                          : "Bucket tag count cannot be greater than 50";
        return PD_EINVAL;
    }
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        if (!json_is_string(v) || !*k || strlen(k) > 128 || json_string_length(v) > 256) {
            json_decref(arr);
            *OUT_why = "The TagKey or TagValue you have provided is invalid";
            return PD_EINVAL;
        }
        json_array_append_new(arr, json_pack("{s:s, s:O}", "Key", k, "Value", v));
    }
    *OUT = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return PD_OK;
}

static void rand_hex(char out[33])
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        abort();
    pd_hex_encode(b, sizeof b, out);
}

/* Write bytes to a new object file; *OUT_rel its relative name (malloc'd). */
static int write_file(struct pd_env *env, const unsigned char *p, size_t n, char **OUT_rel)
{
    const char *root = pd_store_objects_dir(env->store);
    char hex[33], tmp[4096], dst[4096], dir[4096];
    rand_hex(hex);
    snprintf(tmp, sizeof tmp, "%s/tmp/%s", root, hex);
    snprintf(dir, sizeof dir, "%s/%.2s", root, hex);
    snprintf(dst, sizeof dst, "%s/%.2s/%s", root, hex, hex);
    mkdir(dir, 0700);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return PD_EIO;
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, p + off, n - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            close(fd);
            unlink(tmp);
            return PD_EIO;
        }
        off += (size_t)k;
    }
    if (env->cfg.sync_full)
        fsync(fd);
    close(fd);
    if (rename(tmp, dst) != 0) {
        unlink(tmp);
        return PD_EIO;
    }
    size_t rl = strlen(hex) + 4;
    *OUT_rel = pd_xmalloc(rl);
    snprintf(*OUT_rel, rl, "%.2s/%s", hex, hex);
    return PD_OK;
}

static int load_object(struct pd_env *env, struct pd_db *db, struct pd_arena *a, const char *bucket,
                       json_t *o, const char *origin, const char *where, int64_t now,
                       char **OUT_err)
{
    static const char *const names[] = {
        "key", "text", "base64", "content_type", "metadata", "tags", "checksum", "created", NULL};
    const char *bad;
    if (!json_is_object(o))
        return fx_err(OUT_err, origin, where, "an object must be a JSON object");
    if (!known(o, names, &bad))
        return fx_err(OUT_err, origin, where,
                      "unknown field \"%s\" (known fields: key, text, "
                      "base64, content_type, metadata, tags, checksum, "
                      "created)",
                      bad);
    const char *key = json_string_value(json_object_get(o, "key"));
    if (!key || !*key || strlen(key) > 1024)
        return fx_err(OUT_err, origin, where, "\"key\" is required (1 to 1024 bytes)");
    const char *text = json_string_value(json_object_get(o, "text"));
    const char *b64 = json_string_value(json_object_get(o, "base64"));
    if (!!text == !!b64 && (text || b64))
        return fx_err(OUT_err, origin, where, "give the bytes as \"text\" or \"base64\", not both");
    const unsigned char *bytes = (const unsigned char *)"";
    size_t n = 0;
    if (text) {
        bytes = (const unsigned char *)text;
        n = json_string_length(json_object_get(o, "text"));
    } else if (b64) {
        unsigned char *raw;
        if (pd_base64_decode(a, b64, strlen(b64), &raw, &n))
            return fx_err(OUT_err, origin, where, "\"base64\" is not valid base64");
        bytes = raw;
    }
    json_t *meta = json_object();
    const char *ct = json_string_value(json_object_get(o, "content_type"));
    json_object_set_new(meta, "ContentType", json_string(ct ? ct : "binary/octet-stream"));
    json_t *md = json_object_get(o, "metadata");
    if (md) {
        if (!json_is_object(md)) {
            json_decref(meta);
            return fx_err(OUT_err, origin, where, "\"metadata\" must be an object");
        }
        json_t *lower = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(md, k, v)
        {
            char *lk = pd_arena_strdup(a, k);
            pd_lower(lk);
            json_object_set(lower, lk, v);
        }
        json_object_set_new(meta, "Metadata", lower);
    }
    const char *ck = json_string_value(json_object_get(o, "checksum"));
    if (ck) {
        enum s3_ck_alg alg = s3_ck_parse(ck);
        if (!alg) {
            json_decref(meta);
            return fx_err(OUT_err, origin, where,
                          "\"checksum\" must be CRC32, CRC32C, CRC64NVME, SHA1 or SHA256");
        }
        json_object_set_new(meta, "ChecksumAlgorithm", json_string(s3_ck_name(alg)));
        json_object_set_new(meta, "ChecksumValue", json_string(s3_ck_b64(a, alg, bytes, n)));
        json_object_set_new(meta, "ChecksumType", json_string("FULL_OBJECT"));
    }
    char *tags = NULL;
    const char *why = NULL;
    if (tags_text(json_object_get(o, "tags"), 1, &tags, &why)) {
        json_decref(meta);
        return fx_err(OUT_err, origin, where, "InvalidTag: %s", why);
    }
    int64_t created = now;
    const char *c = json_string_value(json_object_get(o, "created"));
    if (c && pd_time_parse_iso8601(c, &created)) {
        json_decref(meta);
        free(tags);
        return fx_err(OUT_err, origin, where, "\"created\" is not an ISO 8601 time");
    }
    struct pd_hash h;
    unsigned char d[PD_HASH_MAX_LEN];
    pd_hash_init(&h, PD_HASH_MD5);
    pd_hash_update(&h, bytes, n);
    pd_hash_final(&h, d);
    char *rel = NULL;
    int rc = pd_s3_inline_fits(env->cfg.s3_inline_max, (int64_t)n)
                 ? PD_OK
                 : write_file(env, bytes, n, &rel);
    char *ms = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    if (!rc) {
        struct pd_s3_object obj = {
            .bucket = bucket,
            .key = key,
            .file = rel,
            .body = rel ? NULL : bytes,
            .size = (int64_t)n,
            .etag = s3_etag(a, d),
            .modified_ms = created,
            .meta = ms,
            .tags = tags,
        };
        const char *old = NULL;
        rc = pd_s3_db_object_put(db, a, &obj, &old);
    }
    free(ms);
    free(tags);
    free(rel);
    if (rc)
        return fx_err(OUT_err, origin, where, "cannot store the object: %s", pd_strerror(rc));
    return PD_OK;
}

static int load_bucket(struct pd_env *env, struct pd_db *db, struct pd_arena *a, json_t *b,
                       const char *origin, const char *where, int64_t now, char **OUT_err)
{
    static const char *const names[] = {"name", "account", "region",  "policy",
                                        "tags", "created", "objects", NULL};
    const char *bad;
    if (!json_is_object(b))
        return fx_err(OUT_err, origin, where, "a bucket must be a JSON object");
    if (!known(b, names, &bad))
        return fx_err(OUT_err, origin, where,
                      "unknown field \"%s\" (known fields: name, account, "
                      "region, policy, tags, created, objects)",
                      bad);
    const char *name = json_string_value(json_object_get(b, "name"));
    if (!name || !s3_bucket_name_valid(name))
        return fx_err(OUT_err, origin, where,
                      "InvalidBucketName: The specified bucket is not "
                      "valid.");
    const char *acct = json_string_value(json_object_get(b, "account"));
    if (!acct)
        acct = "000000000000";
    if (strlen(acct) != 12 || strspn(acct, "0123456789") != 12)
        return fx_err(OUT_err, origin, where, "\"account\" must be 12 digits");
    const char *region = json_string_value(json_object_get(b, "region"));
    if (!region)
        region = env->cfg.region;
    json_t *pol = json_object_get(b, "policy");
    char *policy = NULL;
    if (json_is_string(pol))
        policy = pd_xstrdup(json_string_value(pol));
    else if (json_is_object(pol))
        policy = json_dumps(pol, JSON_COMPACT);
    else if (pol)
        return fx_err(OUT_err, origin, where, "\"policy\" must be a document (object or string)");
    if (policy) {
        char err[256];
        const char *why = NULL;
        struct pd_cached_policy *held = NULL;
        if (pd_policy_cache_get(env->policies, PD_POLICY_RESOURCE, policy, strlen(policy), err,
                                sizeof err, &held, &why)) {
            int rc = fx_err(OUT_err, origin, where, "MalformedPolicy: %s", why ? why : "?");
            free(policy);
            return rc;
        }
        pd_policy_cache_release(env->policies, held);
    }
    char *tags = NULL;
    const char *why = NULL;
    if (tags_text(json_object_get(b, "tags"), 0, &tags, &why)) {
        free(policy);
        return fx_err(OUT_err, origin, where, "InvalidTag: %s", why);
    }
    int64_t created = now;
    const char *c = json_string_value(json_object_get(b, "created"));
    if (c && pd_time_parse_iso8601(c, &created)) {
        free(policy);
        free(tags);
        return fx_err(OUT_err, origin, where, "\"created\" is not an ISO 8601 time");
    }
    struct pd_s3_bucket nb = {.name = name,
                              .account_id = acct,
                              .region = region,
                              .created_ms = created,
                              .policy = policy,
                              .tags = tags};
    int rc = pd_s3_db_bucket_put(db, &nb);
    free(policy);
    free(tags);
    if (rc == PD_ECONFLICT)
        return fx_err(OUT_err, origin, where,
                      "BucketAlreadyExists: the bucket %s is defined "
                      "twice",
                      name);
    if (rc)
        return fx_err(OUT_err, origin, where, "cannot store the bucket: %s", pd_strerror(rc));
    json_t *objs = json_object_get(b, "objects");
    if (objs && !json_is_array(objs))
        return fx_err(OUT_err, origin, where, "\"objects\" must be a list");
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        char w[512];
        snprintf(w, sizeof w, "%s.objects[%zu]", where, i);
        rc = load_object(env, db, a, name, o, origin, w, now, OUT_err);
        if (rc)
            return rc;
    }
    return PD_OK;
}

int pd_s3_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *section, const char *origin,
                        char **OUT_err)
{
    static const char *const names[] = {"buckets", NULL};
    const char *bad;
    if (!json_is_object(section))
        return fx_err(OUT_err, origin, "s3", "the section must be an object");
    if (!known(section, names, &bad))
        return fx_err(OUT_err, origin, "s3", "unknown field \"%s\" (known fields: buckets)", bad);
    json_t *buckets = json_object_get(section, "buckets");
    if (buckets && !json_is_array(buckets))
        return fx_err(OUT_err, origin, "s3", "\"buckets\" must be a list");
    struct pd_arena a;
    pd_arena_init(&a);
    int64_t now = pd_clock_now_ms(&env->clock);
    int rc = PD_OK;
    size_t i;
    json_t *b;
    json_array_foreach(buckets, i, b)
    {
        char w[128];
        const char *nm = json_string_value(json_object_get(b, "name"));
        snprintf(w, sizeof w, "s3.buckets[%zu]%s%s%s", i, nm ? " (" : "", nm ? nm : "",
                 nm ? ")" : "");
        rc = load_bucket(env, db, &a, b, origin, w, now, OUT_err);
        if (rc)
            break;
    }
    pd_arena_cleanup(&a);
    return rc;
}

/* ---- export ---- */

static json_t *tags_object(const char *text)
{
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    json_t *o = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        if (k)
            json_object_set(o, k, json_object_get(t, "Value"));
    }
    json_decref(arr);
    return o;
}

static int read_all(const char *path, int64_t size, unsigned char **OUT)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return PD_EIO;
    unsigned char *p = pd_xmalloc((size_t)size + 1);
    int64_t off = 0;
    while (off < size) {
        ssize_t k = read(fd, p + off, (size_t)(size - off));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            free(p);
            close(fd);
            return PD_EIO;
        }
        off += k;
    }
    close(fd);
    *OUT = p;
    return PD_OK;
}

int pd_s3_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT, char **OUT_err)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_s3_bucket *v;
    size_t n;
    int rc = pd_s3_db_bucket_list(db, &a, NULL, &v, &n);
    json_t *buckets = json_array();
    for (size_t i = 0; !rc && i < n; i++) {
        char iso[32];
        pd_time_iso8601(v[i].created_ms, 0, iso);
        json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "name", v[i].name, "account", v[i].account_id,
                              "region", v[i].region, "created", iso);
        if (v[i].policy) {
            json_t *doc = json_loads(v[i].policy, 0, NULL);
            json_object_set_new(b, "policy", doc ? doc : json_string(v[i].policy));
        }
        if (v[i].tags)
            json_object_set_new(b, "tags", tags_object(v[i].tags));
        json_t *objs = json_array();
        const char *after = NULL;
        struct pd_s3_object o;
        while (!rc && pd_s3_db_object_next(db, &a, v[i].name, after, 0, &o) == PD_OK) {
            after = o.key;
            unsigned char *bytes = NULL;
            if (o.file) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", pd_store_objects_dir(env->store), o.file);
                rc = read_all(path, o.size, &bytes);
            } else {
                bytes = pd_xmalloc((size_t)o.size + 1);
                rc = pd_s3_db_object_body(db, o.bucket, o.key, 0, 0, o.size, bytes);
                if (rc) {
                    free(bytes);
                    rc = PD_EIO;
                }
            }
            if (rc)
                break;
            json_t *meta = json_loads(o.meta, 0, NULL);
            pd_time_iso8601(o.modified_ms, 0, iso);
            json_t *jo = json_pack("{s:s, s:s}", "key", o.key, "created", iso);
            if (pd_utf8_valid((const char *)bytes, (size_t)o.size) &&
                !memchr(bytes, 0, (size_t)o.size))
                json_object_set_new(jo, "text", json_stringn((const char *)bytes, (size_t)o.size));
            else
                json_object_set_new(jo, "base64",
                                    json_string(pd_base64_encode(&a, bytes, (size_t)o.size, 0)));
            free(bytes);
            json_t *ct = json_object_get(meta, "ContentType");
            if (ct && strcmp(json_string_value(ct), "binary/octet-stream") != 0)
                json_object_set(jo, "content_type", ct);
            if (json_object_get(meta, "Metadata"))
                json_object_set(jo, "metadata", json_object_get(meta, "Metadata"));
            json_t *alg = json_object_get(meta, "ChecksumAlgorithm");
            if (alg && !json_object_get(meta, "Composite"))
                json_object_set(jo, "checksum", alg);
            if (o.tags)
                json_object_set_new(jo, "tags", tags_object(o.tags));
            json_decref(meta);
            json_array_append_new(objs, jo);
        }
        if (json_array_size(objs))
            json_object_set_new(b, "objects", objs);
        else
            json_decref(objs);
        json_array_append_new(buckets, b);
    }
    pd_arena_cleanup(&a);
    if (rc) {
        json_decref(buckets);
        *OUT_err = pd_xstrdup("cannot read the S3 state");
        return rc;
    }
    *OUT = json_pack("{s:o}", "buckets", buckets);
    return PD_OK;
}
