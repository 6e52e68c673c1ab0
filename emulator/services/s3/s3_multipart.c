/*
 * s3_multipart.c - multipart uploads: create, upload a part (streamed through the upload
 * sink) or copy one, complete, abort, list parts and uploads; the multipart ETag and
 * composite checksums.
 *
 * Each part is a file like an object. Completing concatenates the listed parts into a new
 * temp file (computing a full-object checksum on the way when the upload asked for one),
 * installs it as the object, and drops the upload with every part file after the commit.
 * The ETag is hex(MD5(concatenated binary part MD5s)) + "-N"; a COMPOSITE checksum is the
 * same construction over the parts' checksums.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "services/s3/s3_internal.h"

int pd_s3_multipart_etag(struct pd_arena *a, const char *const *etags, size_t n, char **OUT)
{
    struct pd_hash h;
    pd_hash_init(&h, PD_HASH_MD5);
    for (size_t i = 0; i < n; i++) {
        const char *e = etags[i];
        size_t l = strlen(e);
        if (l == 34 && e[0] == '"' && e[33] == '"') {
            e++;
            l = 32;
        }
        if (l != 32) {
            pd_hash_cleanup(&h);
            return PD_EINVAL;
        }
        unsigned char raw[16];
        for (int k = 0; k < 16; k++) {
            int hi = pd_hexval(e[2 * k]), lo = pd_hexval(e[2 * k + 1]);
            if (hi < 0 || lo < 0) {
                pd_hash_cleanup(&h);
                return PD_EINVAL;
            }
            raw[k] = (unsigned char)(hi * 16 + lo);
        }
        pd_hash_update(&h, raw, sizeof raw);
    }
    unsigned char d[PD_HASH_MAX_LEN];
    pd_hash_final(&h, d);
    char hex[33];
    pd_hex_encode(d, 16, hex);
    *OUT = pd_arena_printf(a, "\"%s-%zu\"", hex, n);
    return PD_OK;
}

int pd_s3_composite_checksum(struct pd_arena *a, enum s3_ck_alg alg, const char *const *parts,
                             size_t n, char **OUT)
{
    struct s3_cksum c;
    s3_ck_init(&c, alg);
    for (size_t i = 0; i < n; i++) {
        unsigned char *raw;
        size_t rl;
        if (!parts[i] || pd_base64_decode(a, parts[i], strlen(parts[i]), &raw, &rl) ||
            rl != s3_ck_len(alg)) {
            s3_ck_cleanup(&c);
            return PD_EINVAL;
        }
        s3_ck_update(&c, raw, rl);
    }
    unsigned char d[32];
    s3_ck_final(&c, d);
    *OUT = pd_arena_printf(a, "%s-%zu", pd_base64_encode(a, d, s3_ck_len(alg), 0), n);
    return PD_OK;
}

/* ---- helpers ---- */

static int no_such_upload(struct pd_req *r, const char *id)
{
    pd_fail(r, &S3_NoSuchUpload,
            "The specified upload does not exist. The upload ID may be "
            "invalid, or the upload may have been aborted or completed.");
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:s}", "UploadId", id ? id : "");
    return PD_EAWS;
}

static int upload_of(struct pd_req *r, const struct pd_s3_bucket *b, struct pd_s3_upload *OUT,
                     json_t **OUT_meta)
{
    const char *id = s3_in_str(r, "UploadId");
    int rc = id ? pd_s3_db_upload_get(r->db, &r->arena, id, OUT) : PD_ENOTFOUND;
    if (rc == PD_OK && (strcmp(OUT->bucket, b->name) || strcmp(OUT->key, s3_in_str(r, "Key"))))
        rc = PD_ENOTFOUND;
    if (rc == PD_ENOTFOUND)
        return no_such_upload(r, id);
    if (rc)
        return s3_internal(r, rc, "reading an upload");
    *OUT_meta = json_loads(OUT->meta, 0, NULL);
    return PD_OK;
}

static json_t *owner_of(const char *account)
{
    char in[64], hex[65];
    int n = snprintf(in, sizeof in, "podiam-canonical-user:%s", account ? account : "");
    pd_sha256_hex(in, (size_t)n, hex);
    return json_pack("{s:s}", "ID", hex);
}

/* ---- create ---- */

int pd_s3_create_multipart_upload(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    const char *alg_s = s3_in_str(r, "ChecksumAlgorithm");
    enum s3_ck_alg alg = s3_ck_parse(alg_s);
    if (alg_s && !alg)
        return pd_fail(r, &S3_InvalidRequest,
                       "Checksum algorithm provided is unsupported. "
                       "Please try again with any of the valid types: "
                       "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
    const char *type = s3_in_str(r, "ChecksumType");
    if (type && strcmp(type, "COMPOSITE") && strcmp(type, "FULL_OBJECT"))
        return pd_fail(r, &S3_InvalidRequest, "Value for x-amz-checksum-type header is invalid.");
    if (type && !alg)
        return pd_fail(r, &S3_InvalidRequest,
                       "The x-amz-checksum-type header can only be used "
                       "with the x-amz-checksum-algorithm header.");
    if (alg && !type)
        type = alg == S3_CK_CRC64NVME ? "FULL_OBJECT" : "COMPOSITE";
    if (alg && !strcmp(type, "FULL_OBJECT") && (alg == S3_CK_SHA1 || alg == S3_CK_SHA256))
        return pd_fail(r, &S3_InvalidRequest,
                       "The FULL_OBJECT checksum type cannot be used with "
                       "the %s checksum algorithm.",
                       s3_ck_name(alg));
    if (alg == S3_CK_CRC64NVME && !strcmp(type, "COMPOSITE"))
        return pd_fail(r, &S3_InvalidRequest,
                       "The COMPOSITE checksum type cannot be used with "
                       "the CRC64NVME checksum algorithm.");
    const char *tags = NULL, *owner = NULL, *acl = NULL;
    rc = s3_tags_from_header(r, s3_in_str(r, "Tagging"), &tags);
    if (!rc)
        rc = s3_write_acl(r, &b, &owner, &acl);
    if (rc)
        return rc;
    json_t *meta = s3_meta_from_input(r);
    s3_default_encryption(&b, meta);
    if (alg) {
        json_object_set_new(meta, "ChecksumAlgorithm", json_string(s3_ck_name(alg)));
        json_object_set_new(meta, "ChecksumType", json_string(type));
    }
    /* the completed object's owner and ACL, decided now (as S3 does) */
    if (owner)
        json_object_set_new(meta, "Owner", json_string(owner));
    if (acl)
        json_object_set_new(meta, "Acl", json_string(acl));
    char *ms = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    char id[65];
    pd_ids_hex(&r->env->ids, 64, 0, id);
    struct pd_s3_upload u = {
        .upload_id = id,
        .bucket = b.name,
        .key = s3_in_str(r, "Key"),
        .initiated_ms = pd_clock_now_ms(&r->env->clock),
        .initiator = r->who.arn ? r->who.arn : "anonymous",
        .meta = pd_arena_strdup(&r->arena, ms),
        .tags = tags,
    };
    free(ms);
    rc = pd_s3_db_upload_put(r->db, &u);
    if (rc)
        return s3_internal(r, rc, "creating an upload");
    r->out = json_pack("{s:s, s:s, s:s}", "Bucket", b.name, "Key", u.key, "UploadId", id);
    if (alg) {
        json_object_set_new(r->out, "ChecksumAlgorithm", json_string(s3_ck_name(alg)));
        json_object_set_new(r->out, "ChecksumType", json_string(type));
    }
    return PD_OK;
}

/* ---- parts ---- */

static int part_number(struct pd_req *r, int *OUT)
{
    int64_t n = s3_in_int(r, "PartNumber", 0);
    if (n < 1 || n > S3_MAX_PARTS)
        return pd_fail(r, &S3_InvalidArgument,
                       "Part number must be an integer between 1 and 10000, inclusive");
    *OUT = (int)n;
    return PD_OK;
}

static int store_part(struct pd_req *r, const char *upload_id, int num, const char *tmp,
                      int64_t size, const char *etag, const char *ck, int64_t now)
{
    struct pd_s3_part p = {
        .num = num,
        .file = s3_new_name(r),
        .size = size,
        .etag = etag,
        .checksum = ck,
        .modified_ms = now,
    };
    int rc = s3_install(r, tmp, p.file);
    if (rc) {
        unlink(tmp);
        return s3_internal(r, rc, "storing a part");
    }
    const char *old = NULL;
    rc = pd_s3_db_part_put(r->db, &r->arena, upload_id, &p, &old);
    if (rc)
        return s3_internal(r, rc, "storing a part");
    s3_drop_after_commit(r, old);
    return PD_OK;
}

int pd_s3_upload_part(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_upload u;
    json_t *meta = NULL;
    int num = 0;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = part_number(r, &num);
    if (!rc)
        rc = upload_of(r, &b, &u, &meta);
    if (rc)
        return rc;
    enum s3_ck_alg ualg =
        s3_ck_parse(json_string_value(json_object_get(meta, "ChecksumAlgorithm")));
    json_decref(meta);
    const struct s3_body *body = s3_body_of(r);
    if (!body)
        return s3_internal(r, PD_EINTERNAL, "UploadPart without a body");
    if (ualg && body->ck_alg != ualg)
        return pd_fail(r, &S3_InvalidRequest,
                       "Checksum Type mismatch occurred, expected checksum Type: %s, actual "
                       "checksum Type: %s",
                       s3_ck_name(ualg), body->ck_alg ? s3_ck_name(body->ck_alg) : "null");
    const char *etag = s3_etag(&r->arena, body->md5);
    rc = store_part(r, u.upload_id, num, body->tmp, body->size, etag, ualg ? body->ck_b64 : NULL,
                    pd_clock_now_ms(&r->env->clock));
    if (rc)
        return rc;
    r->out = json_pack("{s:s}", "ETag", etag);
    if (body->ck_alg)
        json_object_set_new(r->out, s3_ck_member(body->ck_alg), json_string(body->ck_b64));
    return PD_OK;
}

/* x-amz-copy-source-range "bytes=FIRST-LAST" (both, FIRST <= LAST). PD_OK or PD_EINVAL. */
static int copy_range(const char *range, int64_t *OUT_first, int64_t *OUT_last)
{
    if (!pd_has_prefix(range, "bytes="))
        return PD_EINVAL;
    const char *dash = strchr(range + 6, '-');
    char a[24];
    size_t al = dash ? (size_t)(dash - range - 6) : 0;
    if (!al || al >= sizeof a)
        return PD_EINVAL;
    memcpy(a, range + 6, al);
    a[al] = '\0';
    if (pd_parse_i64(a, 0, INT64_MAX, OUT_first) ||
        pd_parse_i64(dash + 1, 0, INT64_MAX, OUT_last) || *OUT_last < *OUT_first)
        return PD_EINVAL;
    return PD_OK;
}

int pd_s3_upload_part_copy(struct pd_req *r)
{
    struct pd_s3_bucket b, sb;
    struct pd_s3_upload u;
    struct pd_s3_object so;
    json_t *meta = NULL;
    int num = 0;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = part_number(r, &num);
    if (!rc)
        rc = upload_of(r, &b, &u, &meta);
    if (rc)
        return rc;
    enum s3_ck_alg ualg =
        s3_ck_parse(json_string_value(json_object_get(meta, "ChecksumAlgorithm")));
    json_decref(meta);
    rc = s3_copy_source(r, &sb, &so);
    if (rc)
        return rc;
    int64_t first = 0, last = so.size - 1;
    const char *range = s3_in_str(r, "CopySourceRange");
    if (range) {
        /* bytes=FIRST-LAST, both given: anything else is InvalidArgument; a range past the
         * source's end is InvalidRange (416), as s3-tests' test_multipart_copy_invalid_range
         * expects */
        int64_t f, l;
        if (copy_range(range, &f, &l) != PD_OK)
            return pd_fail(r, &S3_InvalidArgument,
                           "Range specified is not valid for source object of size: %lld",
                           (long long)so.size);
        if (f >= so.size || l >= so.size) {
            pd_fail(r, &S3_InvalidRange, "The requested range is not satisfiable");
            json_decref(r->err.extra);
            r->err.extra = json_pack("{s:s, s:I}", "RangeRequested", range, "ActualObjectSize",
                                     (json_int_t)so.size);
            return PD_EAWS;
        }
        first = f;
        last = l;
    }
    const char *tmp, *ck;
    unsigned char md5[PD_MD5_LEN];
    rc =
        s3_copy_bytes(r, &so, first, so.size ? last - first + 1 : 0, ualg, 0, &tmp, NULL, md5, &ck);
    if (rc)
        return rc;
    const char *etag = s3_etag(&r->arena, md5);
    int64_t now = pd_clock_now_ms(&r->env->clock);
    rc = store_part(r, u.upload_id, num, tmp, so.size ? last - first + 1 : 0, etag, ck, now);
    if (rc)
        return rc;
    json_t *res = json_pack("{s:s, s:I}", "ETag", etag, "LastModified", (json_int_t)now);
    if (ualg)
        json_object_set_new(res, s3_ck_member(ualg), json_string(ck));
    r->out = json_pack("{s:o}", "CopyPartResult", res);
    return PD_OK;
}

/* ---- complete ---- */

static int invalid_part(struct pd_req *r, const char *id, int num, const char *etag)
{
    pd_fail(r, &S3_InvalidPart,
            "One or more of the specified parts could not be found.  The "
            "part may not have been uploaded, or the specified entity tag "
            "may not have matched the part's entity tag.");
    json_decref(r->err.extra);
    r->err.extra =
        json_pack("{s:s, s:i, s:s}", "UploadId", id, "PartNumber", num, "ETag", etag ? etag : "");
    return PD_EAWS;
}

static int same_etag(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= 2 && a[0] == '"') {
        a++;
        la -= 2;
    }
    if (lb >= 2 && b[0] == '"') {
        b++;
        lb -= 2;
    }
    return la == lb && !strncmp(a, b, la);
}

/* Concatenate the part files into a new temp file; a full-object checksum on the way. */
static int concat(struct pd_req *r, struct pd_s3_part **parts, size_t n, enum s3_ck_alg alg,
                  const char **OUT_tmp, const char **OUT_ck)
{
    int rc = PD_OK;
    char *tmp = s3_new_tmp(r);
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    char *buf = pd_xmalloc(1024 * 1024);
    struct s3_cksum ck;
    s3_ck_init(&ck, alg);
    if (out < 0) {
        rc = PD_EIO;
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        int in = open(s3_path(r, parts[i]->file), O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            rc = PD_EIO;
            break;
        }
        for (;;) {
            ssize_t k = read(in, buf, 1024 * 1024);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                rc = PD_EIO;
            if (k <= 0)
                break;
            if (alg)
                s3_ck_update(&ck, buf, (size_t)k);
            for (ssize_t w = 0; w < k;) {
                ssize_t x = write(out, buf + w, (size_t)(k - w));
                if (x < 0 && errno == EINTR)
                    continue;
                if (x < 0) {
                    rc = PD_EIO;
                    break;
                }
                w += x;
            }
            if (rc)
                break;
        }
        close(in);
    }
    if (!rc && r->env->cfg.sync_full && fsync(out) != 0)
        rc = PD_EIO;
out:
    free(buf);
    if (out >= 0)
        close(out);
    *OUT_ck = NULL;
    if (alg) {
        unsigned char d[32];
        s3_ck_final(&ck, d);
        *OUT_ck = pd_base64_encode(&r->arena, d, s3_ck_len(alg), 0);
    }
    s3_ck_cleanup(&ck);
    if (rc) {
        unlink(tmp);
        return s3_internal(r, rc, "assembling an upload");
    }
    *OUT_tmp = tmp;
    return PD_OK;
}

#define COMPLETED_KEPT_MS ((int64_t)7 * 86400 * 1000)

/* A CompleteMultipartUpload of an upload completed already, listing the same parts: S3
 * answers it again with the same result. PD_ENOTFOUND when this is not such a request. */
static int repeated_complete(struct pd_req *r, const struct pd_s3_bucket *b)
{
    const char *id = s3_in_str(r, "UploadId");
    struct pd_s3_upload u;
    struct pd_s3_completed c;
    if (!id || pd_s3_db_upload_get(r->db, &r->arena, id, &u) != PD_ENOTFOUND ||
        pd_s3_db_completed_get(r->db, &r->arena, id, &c) != PD_OK || strcmp(c.bucket, b->name) ||
        strcmp(c.key, s3_in_str(r, "Key")))
        return PD_ENOTFOUND;
    json_t *listed = json_object_get(json_object_get(r->in, "MultipartUpload"), "Parts");
    size_t n = json_array_size(listed);
    const char **etags = pd_arena_alloc(&r->arena, (n ? n : 1) * sizeof *etags);
    for (size_t i = 0; i < n; i++)
        etags[i] = json_string_value(json_object_get(json_array_get(listed, i), "ETag"));
    char *etag = NULL;
    for (size_t i = 0; i < n; i++)
        if (!etags[i])
            return PD_ENOTFOUND;
    if (!n || pd_s3_multipart_etag(&r->arena, etags, n, &etag) || strcmp(etag, c.etag))
        return PD_ENOTFOUND; /* other parts: the upload is gone (NoSuchUpload) */
    r->out = json_loads(c.result, 0, NULL);
    return r->out ? PD_OK : s3_internal(r, PD_EIO, "reading a completed upload");
}

int pd_s3_complete_multipart_upload(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_upload u;
    json_t *meta = NULL;
    int rc = s3_bucket(r, &b);
    if (!rc) {
        s3_lifecycle_apply(r, &b); /* (an upload its rules abort is gone) */
        rc = repeated_complete(r, &b);
        if (rc != PD_ENOTFOUND)
            return rc;
        rc = upload_of(r, &b, &u, &meta);
    }
    if (rc)
        return rc;
    json_t *listed = json_object_get(json_object_get(r->in, "MultipartUpload"), "Parts");
    size_t n = json_array_size(listed);
    if (!n) {
        json_decref(meta);
        return pd_fail(r, &S3_MalformedXML,
                       "The XML you provided was not well-formed or did not "
                       "validate against our published schema");
    }
    enum s3_ck_alg alg = s3_ck_parse(json_string_value(json_object_get(meta, "ChecksumAlgorithm")));
    const char *type = json_string_value(json_object_get(meta, "ChecksumType"));
    if (type)
        type = pd_arena_strdup(&r->arena, type); /* outlives meta */
    int full = type && !strcmp(type, "FULL_OBJECT");
    struct pd_s3_part *stored;
    size_t ns;
    rc = pd_s3_db_part_list(r->db, &r->arena, u.upload_id, 0, 0, &stored, &ns);
    if (rc) {
        json_decref(meta);
        return s3_internal(r, rc, "reading parts");
    }
    struct pd_s3_part **use = pd_arena_alloc(&r->arena, n * sizeof *use);
    const char **etags = pd_arena_alloc(&r->arena, n * sizeof *etags);
    const char **cks = pd_arena_alloc(&r->arena, n * sizeof *cks);
    json_t *sizes = json_array();
    int prev = 0;
    int64_t total = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *p = json_array_get(listed, i);
        int num = (int)json_integer_value(json_object_get(p, "PartNumber"));
        const char *etag = json_string_value(json_object_get(p, "ETag"));
        if (num <= prev) {
            rc = pd_fail(r, &S3_InvalidPartOrder,
                         "The list of parts was not in ascending order. The parts list must be "
                         "specified in order by part number.");
            break;
        }
        prev = num;
        struct pd_s3_part *sp = NULL;
        for (size_t k = 0; k < ns; k++)
            if (stored[k].num == num)
                sp = &stored[k];
        if (!sp || !etag || !same_etag(etag, sp->etag)) {
            rc = invalid_part(r, u.upload_id, num, etag);
            break;
        }
        if (alg) {
            const char *sent = json_string_value(json_object_get(p, s3_ck_member(alg)));
            if (sent && (!sp->checksum || strcmp(sent, sp->checksum) != 0)) {
                rc = invalid_part(r, u.upload_id, num, etag);
                break;
            }
        }
        use[i] = sp;
        etags[i] = sp->etag;
        cks[i] = sp->checksum;
        total += sp->size;
        json_array_append_new(sizes, json_integer(sp->size));
    }
    for (size_t i = 0; !rc && i + 1 < n; i++) {
        if (use[i]->size < S3_MIN_PART_SIZE) {
            pd_fail(r, &S3_EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed size");
            json_decref(r->err.extra);
            r->err.extra = json_pack(
                "{s:I, s:I, s:i, s:s}", "ProposedSize", (json_int_t)use[i]->size, "MinSizeAllowed",
                (json_int_t)S3_MIN_PART_SIZE, "PartNumber", use[i]->num, "ETag", use[i]->etag);
            rc = PD_EAWS;
        }
    }
    int64_t want_size = s3_in_int(r, "MpuObjectSize", -1);
    if (!rc && want_size >= 0 && want_size != total)
        rc = pd_fail(r, &S3_InvalidRequest,
                     "The provided 'x-amz-mp-object-size' header value "
                     "%lld does not match what was computed: %lld",
                     (long long)want_size, (long long)total);
    char *etag = NULL, *ckv = NULL;
    const char *tmp = NULL, *full_ck = NULL;
    if (!rc && pd_s3_multipart_etag(&r->arena, etags, n, &etag) != PD_OK)
        rc = s3_internal(r, PD_EINTERNAL, "computing the multipart ETag");
    if (!rc && alg && !full && pd_s3_composite_checksum(&r->arena, alg, cks, n, &ckv) != PD_OK)
        rc = pd_fail(r, &S3_InvalidRequest,
                     "The upload was created using a %s checksum. The "
                     "complete request must include the checksum for each "
                     "part.",
                     s3_ck_name(alg));
    if (!rc)
        rc = concat(r, use, n, full ? alg : S3_CK_NONE, &tmp, &full_ck);
    if (!rc && full)
        ckv = (char *)full_ck;
    if (!rc && alg) {
        const char *sent = s3_in_str(r, s3_ck_member(alg));
        if (sent) {
            const char *dash = ckv ? strchr(ckv, '-') : NULL;
            size_t l = dash ? (size_t)(dash - ckv) : strlen(ckv);
            if (strlen(sent) < l || strncmp(sent, ckv, l) != 0)
                rc = pd_fail(r, &S3_BadDigest,
                             "The %s you specified did not match the calculated checksum.",
                             s3_ck_name(alg));
        }
    }
    if (rc) {
        if (tmp)
            unlink(tmp);
        json_decref(sizes);
        json_decref(meta);
        return rc;
    }
    json_object_set_new(meta, "PartSizes", sizes);
    if (alg) {
        json_object_set_new(meta, "ChecksumValue", json_string(ckv));
        if (!full)
            json_object_set_new(meta, "Composite", json_true());
    }
    const char *owner = json_string_value(json_object_get(meta, "Owner"));
    const char *acl = json_string_value(json_object_get(meta, "Acl"));
    owner = owner ? pd_arena_strdup(&r->arena, owner) : NULL;
    acl = acl ? pd_arena_strdup(&r->arena, acl) : NULL;
    json_object_del(meta, "Owner");
    json_object_del(meta, "Acl");
    char *ms = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    struct pd_s3_object o = {
        .bucket = b.name,
        .key = u.key,
        .owner = owner,
        .acl = acl,
        .file = s3_new_name(r),
        .size = total,
        .etag = etag,
        .modified_ms = pd_clock_now_ms(&r->env->clock),
        .meta = pd_arena_strdup(&r->arena, ms),
        .tags = u.tags,
    };
    free(ms);
    rc = s3_install(r, tmp, o.file);
    if (rc) {
        unlink(tmp);
        return s3_internal(r, rc, "storing an object");
    }
    rc = s3_store_current(r, &b, &o);
    if (rc)
        return rc;
    const char **files = NULL;
    size_t nf = 0;
    rc = pd_s3_db_upload_del(r->db, &r->arena, u.upload_id, &files, &nf);
    if (rc)
        return s3_internal(r, rc, "completing an upload");
    for (size_t i = 0; i < nf; i++)
        s3_drop_after_commit(r, files[i]);
    const char *host = pd_req_header(r, "host");
    r->out = json_pack("{s:s, s:s, s:s, s:s}", "Location",
                       pd_arena_printf(&r->arena, "%s://%s/%s/%s", r->tls ? "https" : "http",
                                       host ? host : "localhost", b.name, u.key),
                       "Bucket", b.name, "Key", u.key, "ETag", etag);
    if (alg) {
        json_object_set_new(r->out, s3_ck_member(alg), json_string(ckv));
        json_object_set_new(r->out, "ChecksumType", json_string(type));
    }
    s3_out_version(r->out, &b, o.version_id);
    char *result = json_dumps(r->out, JSON_COMPACT);
    struct pd_s3_completed done = {u.upload_id, b.name, u.key, etag, result, o.modified_ms};
    rc = pd_s3_db_completed_put(r->db, &done, o.modified_ms - COMPLETED_KEPT_MS);
    free(result);
    if (rc)
        return s3_internal(r, rc, "remembering a completed upload");
    return PD_OK;
}

int pd_s3_abort_multipart_upload(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_upload u;
    json_t *meta = NULL;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = upload_of(r, &b, &u, &meta);
    if (rc)
        return rc;
    json_decref(meta);
    const char **files;
    size_t nf;
    rc = pd_s3_db_upload_del(r->db, &r->arena, u.upload_id, &files, &nf);
    if (rc)
        return s3_internal(r, rc, "aborting an upload");
    for (size_t i = 0; i < nf; i++)
        s3_drop_after_commit(r, files[i]);
    r->out = json_object();
    return PD_OK;
}

int pd_s3_list_parts(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_upload u;
    json_t *meta = NULL;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = upload_of(r, &b, &u, &meta);
    if (rc)
        return rc;
    int64_t max = s3_in_int(r, "MaxParts", 1000);
    if (max < 0 || max > 1000)
        max = 1000;
    int marker = (int)s3_in_int(r, "PartNumberMarker", 0);
    struct pd_s3_part *v;
    size_t n;
    rc = pd_s3_db_part_list(r->db, &r->arena, u.upload_id, marker, (size_t)max + 1, &v, &n);
    if (rc) {
        json_decref(meta);
        return s3_internal(r, rc, "listing parts");
    }
    int truncated = n > (size_t)max;
    if (truncated)
        n = (size_t)max;
    enum s3_ck_alg alg = s3_ck_parse(json_string_value(json_object_get(meta, "ChecksumAlgorithm")));
    json_t *parts = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_pack("{s:i, s:I, s:s, s:I}", "PartNumber", v[i].num, "LastModified",
                              (json_int_t)v[i].modified_ms, "ETag", v[i].etag, "Size",
                              (json_int_t)v[i].size);
        if (alg && v[i].checksum)
            json_object_set_new(p, s3_ck_member(alg), json_string(v[i].checksum));
        json_array_append_new(parts, p);
    }
    json_t *init = json_pack("{s:s, s:s}", "ID", u.initiator, "DisplayName", u.initiator);
    r->out = json_pack("{s:s, s:s, s:s, s:i, s:I, s:b, s:o, s:o, s:s}", "Bucket", b.name, "Key",
                       u.key, "UploadId", u.upload_id, "PartNumberMarker", marker, "MaxParts",
                       (json_int_t)max, "IsTruncated", truncated, "Initiator", init, "Owner",
                       owner_of(b.account_id), "StorageClass", "STANDARD");
    if (n)
        json_object_set_new(r->out, "NextPartNumberMarker", json_integer(v[n - 1].num));
    if (json_array_size(parts))
        json_object_set_new(r->out, "Parts", parts);
    else
        json_decref(parts);
    if (alg) {
        json_object_set_new(r->out, "ChecksumAlgorithm", json_string(s3_ck_name(alg)));
        json_object_set(r->out, "ChecksumType", json_object_get(meta, "ChecksumType"));
    }
    json_decref(meta);
    return PD_OK;
}

static const char *up_enc(struct pd_req *r, int url, const char *s)
{
    return url && s ? pd_url_encode(&r->arena, s, strlen(s), 1) : s;
}

int pd_s3_list_multipart_uploads(struct pd_req *r)
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
    int64_t max = s3_in_int(r, "MaxUploads", 1000);
    if (max < 0 || max > 1000)
        max = 1000;
    const char *km = s3_in_str(r, "KeyMarker");
    const char *im = s3_in_str(r, "UploadIdMarker");
    const char *prefix = s3_in_str(r, "Prefix");
    const char *delim = s3_in_str(r, "Delimiter");
    if (delim && !*delim)
        delim = NULL;
    size_t plen = prefix ? strlen(prefix) : 0;
    struct pd_s3_upload *v;
    size_t n;
    rc = pd_s3_db_upload_list(r->db, &r->arena, b.name, km && *km ? km : NULL,
                              im && *im ? im : NULL, 100000, &v, &n);
    if (rc)
        return s3_internal(r, rc, "listing uploads");
    json_t *ups = json_array(), *prefixes = json_array();
    int truncated = 0;
    const char *nk = NULL, *ni = NULL, *last_cp = NULL;
    for (size_t i = 0; i < n; i++) {
        if (prefix && !pd_has_prefix(v[i].key, prefix))
            continue;
        /* with a delimiter, keys sharing the part up to it after the prefix are one
         * CommonPrefixes entry (counted once toward MaxUploads, as on S3) */
        const char *d = delim ? strstr(v[i].key + plen, delim) : NULL;
        char *cp = d ? pd_arena_strndup(&r->arena, v[i].key, (size_t)(d - v[i].key) + strlen(delim))
                     : NULL;
        if (cp && last_cp && !strcmp(cp, last_cp))
            continue;
        if (cp && km && *km && strcmp(cp, km) <= 0)
            continue; /* the marker was this prefix: its keys were listed */
        if ((int64_t)(json_array_size(ups) + json_array_size(prefixes)) == max) {
            truncated = 1;
            break;
        }
        if (cp) {
            json_array_append_new(prefixes, json_pack("{s:s}", "Prefix", up_enc(r, url, cp)));
            last_cp = cp;
            nk = cp;
            ni = NULL;
            continue;
        }
        json_t *meta = json_loads(v[i].meta, 0, NULL);
        json_t *up =
            json_pack("{s:s, s:s, s:I, s:s, s:o, s:{s:s, s:s}}", "UploadId", v[i].upload_id, "Key",
                      up_enc(r, url, v[i].key), "Initiated", (json_int_t)v[i].initiated_ms,
                      "StorageClass", "STANDARD", "Owner", owner_of(b.account_id), "Initiator",
                      "ID", v[i].initiator, "DisplayName", v[i].initiator);
        const char *alg = json_string_value(json_object_get(meta, "ChecksumAlgorithm"));
        if (alg) {
            json_object_set_new(up, "ChecksumAlgorithm", json_string(alg));
            json_object_set(up, "ChecksumType", json_object_get(meta, "ChecksumType"));
        }
        json_decref(meta);
        json_array_append_new(ups, up);
        nk = v[i].key;
        ni = v[i].upload_id;
    }
    r->out = json_pack("{s:s, s:s, s:s, s:I, s:b}", "Bucket", b.name, "KeyMarker",
                       up_enc(r, url, km ? km : ""), "UploadIdMarker", im ? im : "", "MaxUploads",
                       (json_int_t)max, "IsTruncated", truncated);
    if (prefix)
        json_object_set_new(r->out, "Prefix", json_string(up_enc(r, url, prefix)));
    if (delim)
        json_object_set_new(r->out, "Delimiter", json_string(up_enc(r, url, delim)));
    if (url)
        json_object_set_new(r->out, "EncodingType", json_string("url"));
    if (nk) {
        json_object_set_new(r->out, "NextKeyMarker", json_string(up_enc(r, url, nk)));
        if (ni)
            json_object_set_new(r->out, "NextUploadIdMarker", json_string(ni));
    }
    if (json_array_size(ups))
        json_object_set_new(r->out, "Uploads", ups);
    else
        json_decref(ups);
    if (json_array_size(prefixes))
        json_object_set_new(r->out, "CommonPrefixes", prefixes);
    else
        json_decref(prefixes);
    return PD_OK;
}
