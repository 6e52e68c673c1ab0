/*
 * s3_lifecycle.c - what a bucket's lifecycle configuration does, on podiam's clock:
 * Expiration (Days, Date, ExpiredObjectDeleteMarker), NoncurrentVersionExpiration
 * (NoncurrentDays) and AbortIncompleteMultipartUpload (DaysAfterInitiation), for the rules
 * that are Enabled and whose filter (prefix, tag, tags and object sizes) matches; and the
 * x-amz-expiration header of the objects a rule will expire. Transitions are kept in the
 * configuration and do nothing (podiam has one storage class of bytes).
 *
 * S3 applies lifecycle rules asynchronously, about once a day; podiam applies them when a
 * request reads or writes the bucket (the handlers of listings, reads and writes call
 * s3_lifecycle_apply inside their transaction), so a test that moves podiam's clock forward
 * (POST /_podiam/clock) sees the result at once. The times are S3's: an object expires at
 * the first midnight UTC at least Days days after its creation (a noncurrent version: after
 * it became noncurrent; an upload: after it was initiated), or on Date. In a versioned bucket
 * expiring the current version adds a delete marker (suspended: a null one), as S3 does.
 * Each pass expires at most PER_PASS objects per rule; the next request goes on.
 */
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "env.h"
#include "services/s3/s3_internal.h"
#include "store/store.h"

#define DAY_MS ((int64_t)86400000)
#define PER_PASS 1000

static int64_t floor_day(int64_t ms)
{
    return ms >= 0 ? ms / DAY_MS * DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS) * DAY_MS;
}

/* The rule's key prefix (Prefix, Filter.Prefix or Filter.And.Prefix), "" for none. */
static const char *rule_prefix(json_t *rule)
{
    json_t *f = json_object_get(rule, "Filter");
    const char *p = json_string_value(json_object_get(rule, "Prefix"));
    if (!p)
        p = json_string_value(json_object_get(f, "Prefix"));
    if (!p)
        p = json_string_value(json_object_get(json_object_get(f, "And"), "Prefix"));
    return p ? p : "";
}

static int has_tag(json_t *tags, json_t *want)
{
    const char *k = json_string_value(json_object_get(want, "Key"));
    const char *v = json_string_value(json_object_get(want, "Value"));
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *tk = json_string_value(json_object_get(t, "Key"));
        const char *tv = json_string_value(json_object_get(t, "Value"));
        if (k && v && tk && tv && !strcmp(k, tk) && !strcmp(v, tv))
            return 1;
    }
    return 0;
}

/* Does the rule's filter (beyond its prefix) take this object? */
static int filter_takes(json_t *rule, const struct pd_s3_object *o)
{
    json_t *f = json_object_get(rule, "Filter");
    json_t *and = json_object_get(f, "And");
    json_t *src = and? and : f;
    json_t *gt = json_object_get(src, "ObjectSizeGreaterThan");
    json_t *lt = json_object_get(src, "ObjectSizeLessThan");
    if (gt && !(o->size > json_integer_value(gt)))
        return 0;
    if (lt && !(o->size < json_integer_value(lt)))
        return 0;
    json_t *tags = o->tags ? json_loads(o->tags, 0, NULL) : NULL;
    int ok = 1;
    json_t *tag = json_object_get(f, "Tag");
    if (tag)
        ok = has_tag(tags, tag);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(and, "Tags"), i, t) ok &= has_tag(tags, t);
    json_decref(tags);
    return ok;
}

static int enabled(json_t *rule)
{
    const char *s = json_string_value(json_object_get(rule, "Status"));
    return s && !strcmp(s, "Enabled");
}

/* The time an object modified at ms expires under exp (Days or Date), or -1 for none. */
static int64_t expiry_of(json_t *exp, int64_t ms)
{
    json_t *days = json_object_get(exp, "Days"), *date = json_object_get(exp, "Date");
    if (json_is_integer(days)) {
        int64_t t = ms + json_integer_value(days) * DAY_MS;
        int64_t f = floor_day(t);
        return f == t ? t : f + DAY_MS; /* the next midnight UTC */
    }
    if (json_is_integer(date))
        return json_integer_value(date);
    return -1;
}

static int expire_current(struct pd_req *r, const struct pd_s3_bucket *b,
                          const struct pd_s3_object *o)
{
    struct s3_deleted d;
    return s3_delete_key(r, b, o->key, NULL, &d);
}

static int apply_rule(struct pd_req *r, const struct pd_s3_bucket *b, json_t *rule, int64_t now)
{
    const char *prefix = rule_prefix(rule);
    int64_t today = floor_day(now);
    json_t *exp = json_object_get(rule, "Expiration");
    int rc = PD_OK;
    size_t n, i;
    if (exp) {
        json_t *days = json_object_get(exp, "Days"), *date = json_object_get(exp, "Date");
        int64_t before = 0; /* objects modified before this expire now */
        int due = 0;
        if (json_is_integer(days)) {
            before = today - json_integer_value(days) * DAY_MS + 1;
            due = 1;
        } else if (json_is_integer(date) && now >= json_integer_value(date)) {
            before = INT64_MAX;
            due = 1;
        }
        if (due) {
            struct pd_s3_object *v;
            rc =
                pd_s3_db_objects_older(r->db, &r->arena, b->name, prefix, before, PER_PASS, &v, &n);
            for (i = 0; !rc && i < n; i++)
                if (filter_takes(rule, &v[i]))
                    rc = expire_current(r, b, &v[i]);
        }
        if (!rc && json_is_true(json_object_get(exp, "ExpiredObjectDeleteMarker"))) {
            const char **keys;
            rc = pd_s3_db_lone_markers(r->db, &r->arena, b->name, prefix, PER_PASS, &keys, &n);
            for (i = 0; !rc && i < n; i++) {
                const char *old = NULL;
                rc = pd_s3_db_object_del(r->db, &r->arena, b->name, keys[i], &old);
            }
        }
    }
    json_t *nd =
        json_object_get(json_object_get(rule, "NoncurrentVersionExpiration"), "NoncurrentDays");
    if (!rc && json_is_integer(nd)) {
        struct pd_s3_object *v;
        rc = pd_s3_db_versions_older(r->db, &r->arena, b->name, prefix,
                                     today - json_integer_value(nd) * DAY_MS + 1, PER_PASS, &v, &n);
        for (i = 0; !rc && i < n; i++) {
            if (!filter_takes(rule, &v[i]))
                continue;
            const char *old = NULL;
            rc = pd_s3_db_version_del(r->db, &r->arena, b->name, v[i].key, v[i].seq, &old);
            if (!rc)
                s3_drop_after_commit(r, old);
        }
    }
    json_t *ad = json_object_get(json_object_get(rule, "AbortIncompleteMultipartUpload"),
                                 "DaysAfterInitiation");
    if (!rc && json_is_integer(ad)) {
        int64_t before = today - json_integer_value(ad) * DAY_MS + 1;
        struct pd_s3_upload *ups;
        rc = pd_s3_db_upload_list(r->db, &r->arena, b->name, NULL, NULL, PER_PASS, &ups, &n);
        for (i = 0; !rc && i < n; i++) {
            if (ups[i].initiated_ms >= before || !pd_has_prefix(ups[i].key, prefix))
                continue;
            const char **files;
            size_t nf;
            rc = pd_s3_db_upload_del(r->db, &r->arena, ups[i].upload_id, &files, &nf);
            for (size_t k = 0; !rc && k < nf; k++)
                s3_drop_after_commit(r, files[k]);
        }
    }
    return rc;
}

void s3_lifecycle_apply(struct pd_req *r, const struct pd_s3_bucket *b)
{
    struct s3_state *st = s3_state(r);
    if (st->lifecycle_done || !pd_db_in_txn(r->db))
        return;
    st->lifecycle_done = 1;
    json_t *doc = s3_cfg_json(b, "lifecycle");
    if (!doc)
        return;
    int64_t now = pd_clock_now_ms(&r->env->clock);
    size_t i;
    json_t *rule;
    int rc = PD_OK;
    json_array_foreach(json_object_get(doc, "Rules"), i, rule)
    {
        if (!rc && enabled(rule))
            rc = apply_rule(r, b, rule, now);
    }
    json_decref(doc);
    if (rc && rc != PD_EAWS)
        /* the state is busy (a read transaction could not take the write lock): the next
         * request applies the rules; nothing half-done stays (the transaction decides) */
        pd_log_req(PD_LOG_DEBUG, r->request_id, "s3: lifecycle of %s deferred: %s", b->name,
                   pd_strerror(rc));
}

const char *s3_lifecycle_expiration(struct pd_req *r, const struct pd_s3_bucket *b,
                                    const struct pd_s3_object *o)
{
    json_t *doc = s3_cfg_json(b, "lifecycle");
    if (!doc)
        return NULL;
    const char *out = NULL;
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(doc, "Rules"), i, rule)
    {
        if (out || !enabled(rule) || !pd_has_prefix(o->key, rule_prefix(rule)) ||
            !filter_takes(rule, o))
            continue;
        int64_t t = expiry_of(json_object_get(rule, "Expiration"), o->modified_ms);
        if (t < 0)
            continue;
        const char *id = json_string_value(json_object_get(rule, "ID"));
        out = pd_arena_printf(&r->arena, "expiry-date=\"%s\", rule-id=\"%s\"",
                              s3_http_date(&r->arena, t), id ? id : "");
    }
    json_decref(doc);
    return out;
}
