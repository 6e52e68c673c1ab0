/*
 * s3_post.c - POST Object: browser form uploads (S3 API reference, "POST Object";
 * identity-and-s3-facts.md F), an operation the model does not describe.
 *
 * The form streams through s3_form.c. Its fields arrive before the file (at most 20 KB of
 * them); when the file part begins, everything but the file is known, and the request is
 * decided there, before a byte of the file is kept: the signature of the policy (SigV2
 * fields AWSAccessKeyId + signature, or SigV4 x-amz-algorithm, x-amz-credential,
 * x-amz-date, x-amz-signature, and x-amz-security-token for sessions) is verified and names
 * the caller (no signature and no policy: an anonymous write), the policy's expiration and
 * conditions are checked with the key's ${filename} expanded, the fields become PutObject's
 * input (Content-Type, Cache-Control, Content-Disposition, Content-Encoding, Expires,
 * x-amz-meta-*, acl, x-amz-storage-class, x-amz-server-side-encryption,
 * x-amz-website-redirect-location, x-amz-checksum-*), and s3:PutObject is authorized as for
 * PutObject (s3:authType POST). The file then streams to a temp file like a PutObject body
 * (s3_feed); content-length-range is enforced as it arrives. The handler stores the object
 * as PutObject does and answers as success_action_redirect / success_action_status say.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/creds.h"
#include "authorize.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/hash.h"
#include "env.h"
#include "services/s3/s3_form.h"
#include "services/s3/s3_internal.h"
#include "services/s3/s3_postpolicy.h"
#include "sigv4/sigv2.h"
#include "sigv4/sigv4.h"
#include "store/store.h"
#include "xml/xml.h"

#define MAX_FIELDS (20 * 1024) /* what may precede the file */

struct post {
    struct pd_body_sink sink;
    struct pd_req *r;
    struct pd_form form;
    int form_live;
    struct pd_kvs fields; /* names lower-cased */
    const char *key;      /* with ${filename} expanded */
    struct s3_feed *feed;
    int has_range;
    int64_t min, max;
    int failed;
};

static const char *field(const struct post *p, const char *name)
{
    return pd_kvs_get(&p->fields, name, 1);
}

static int on_field(void *ctx, const char *name, const char *value, size_t vlen)
{
    struct post *p = ctx;
    pd_kvs_add(&p->r->arena, &p->fields, name, value, vlen, 1);
    return 0;
}

/* ---- authentication from the form ---- */

static int sig_mismatch(struct pd_req *r, const char *akid, const char *sts, const char *sig)
{
    pd_fail(r, &S3_SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.");
    struct pd_buf b;
    pd_buf_init(&b, 0);
    for (const char *c = sts; *c; c++)
        pd_buf_printf(&b, "%s%02x", c == sts ? "" : " ", (unsigned char)*c);
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:s, s:s, s:s, s:s%}", "AWSAccessKeyId", akid, "StringToSign", sts,
                             "SignatureProvided", sig, "StringToSignBytes", pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return PD_EAWS;
}

static int creds_failed(struct pd_req *r, enum pd_creds_fail why, const char *akid)
{
    if (why == PD_CREDS_TOKEN_INVALID)
        return pd_fail(r, &S3_InvalidToken,
                       "The provided token is malformed or otherwise invalid.");
    if (why == PD_CREDS_TOKEN_EXPIRED)
        return pd_fail(r, &S3_ExpiredToken, "The provided token has expired.");
    pd_fail(r, &S3_InvalidAccessKeyId,
            "The AWS Access Key Id you provided does not exist in our records.");
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:s}", "AWSAccessKeyId", akid ? akid : "");
    return PD_EAWS;
}

static int missing_field(struct pd_req *r, const char *name)
{
    pd_fail(r, &S3_InvalidArgument,
            "Bucket POST must contain a field named '%s'.  If it is specified, please check the "
            "order of the fields.",
            name);
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:s, s:s}", "ArgumentName", name, "ArgumentValue", "");
    return PD_EAWS;
}

/* Verify the policy's signature and set r->who (anonymous when the form is not signed). */
static int authenticate(struct post *p, const char *policy)
{
    struct pd_req *r = p->r;
    const char *v4sig = field(p, "x-amz-signature"), *v2sig = field(p, "signature");
    const char *alg = field(p, "x-amz-algorithm");
    r->who.kind = PD_CALLER_ANONYMOUS;
    if (!v4sig && !v2sig && !alg && !field(p, "awsaccesskeyid")) {
        if (policy)
            return missing_field(r, "AWSAccessKeyId");
        return PD_OK; /* an anonymous form: the bucket's policy or ACL must allow it */
    }
    if (!policy)
        return missing_field(r, "policy");
    const char *akid, *secret = NULL, *region = NULL, *date8 = NULL;
    if (v4sig || alg) {
        if (!alg || strcmp(alg, PD_SIGV4_ALGORITHM) != 0) {
            if (alg && !strcmp(alg, "AWS4-ECDSA-P256-SHA256"))
                return pd_fail(r, &S3_NotImplemented,
                               "SigV4a POST forms are not implemented by podiam.");
            return pd_fail(r, &S3_InvalidArgument, "Unsupported x-amz-algorithm: %s",
                           alg ? alg : "");
        }
        const char *cred = field(p, "x-amz-credential");
        if (!cred)
            return missing_field(r, "x-amz-credential");
        if (!v4sig)
            return missing_field(r, "x-amz-signature");
        if (!field(p, "x-amz-date"))
            return missing_field(r, "x-amz-date");
        /* AKID/YYYYMMDD/REGION/s3/aws4_request */
        char *c = pd_arena_strdup(&r->arena, cred), *parts[5];
        int n = 0;
        for (char *s = c; n < 5; n++) {
            parts[n] = s;
            char *slash = strchr(s, '/');
            if (!slash) {
                n++;
                break;
            }
            *slash = '\0';
            s = slash + 1;
        }
        if (n != 5 || strchr(parts[4], '/') || strcmp(parts[3], "s3") ||
            strcmp(parts[4], PD_SIGV4_TERMINATOR) || strlen(parts[1]) != 8)
            return pd_fail(r, &S3_InvalidArgument,
                           "Invalid x-amz-credential: expecting "
                           "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".");
        akid = parts[0];
        date8 = parts[1];
        region = parts[2];
    } else {
        akid = field(p, "awsaccesskeyid");
        if (!akid)
            return missing_field(r, "AWSAccessKeyId");
        if (!v2sig)
            return missing_field(r, "signature");
    }
    enum pd_creds_fail why;
    int rc =
        pd_creds_resolve(r->db, r->env->secrets, &r->arena, akid, field(p, "x-amz-security-token"),
                         pd_clock_now_ms(&r->env->clock), &r->who, &secret, &why);
    if (rc == PD_ESIG) {
        memset(&r->who, 0, sizeof r->who);
        return creds_failed(r, why, akid);
    }
    if (rc)
        return s3_internal(r, rc, "looking up an access key");
    if (region) {
        unsigned char key[PD_SIGV4_KEY_LEN], mac[PD_SHA256_LEN];
        char hex[2 * PD_SHA256_LEN + 1];
        pd_sigv4_signing_key(NULL, secret, date8, region, "s3", key);
        pd_hmac_sha256(key, sizeof key, policy, strlen(policy), mac);
        explicit_bzero(key, sizeof key);
        pd_hex_encode(mac, sizeof mac, hex);
        if (strlen(v4sig) != 64 || !pd_ct_equal(hex, v4sig, 64)) {
            memset(&r->who, 0, sizeof r->who);
            return sig_mismatch(r, akid, policy, v4sig);
        }
        snprintf(r->region, sizeof r->region, "%s", region);
    } else {
        char sig[PD_SIGV2_SIG_B64_LEN + 1];
        pd_sigv2_signature(secret, policy, sig);
        if (strlen(v2sig) != PD_SIGV2_SIG_B64_LEN ||
            !pd_ct_equal(sig, v2sig, PD_SIGV2_SIG_B64_LEN)) {
            memset(&r->who, 0, sizeof r->who);
            return sig_mismatch(r, akid, policy, v2sig);
        }
        r->sig.v2 = 1;
    }
    r->sig.auth_type = 3; /* s3:authType POST */
    return PD_OK;
}

/* ---- the policy ---- */

static int check_policy(struct post *p, const char *policy_b64)
{
    struct pd_req *r = p->r;
    unsigned char *text;
    size_t len;
    char msg[512];
    if (pd_base64_decode(&r->arena, policy_b64, strlen(policy_b64), &text, &len))
        return pd_fail(r, &S3_InvalidPolicyDocument, "Invalid Policy: Invalid Base64 encoding.");
    struct pd_s3_postpolicy pol;
    if (pd_s3_postpolicy_parse((const char *)text, len, &pol, msg, sizeof msg))
        return pd_fail(r, &S3_InvalidPolicyDocument, "%s", msg);
    /* the conditions see the key with ${filename} expanded */
    struct pd_kvs fields = {0};
    for (size_t i = 0; i < p->fields.n; i++) {
        const struct pd_kv *f = &p->fields.v[i];
        int is_key = !strcmp(f->name, "key");
        pd_kvs_add(&r->arena, &fields, f->name, is_key ? p->key : f->value,
                   is_key ? strlen(p->key) : f->vlen, 0);
    }
    enum pd_s3_pp v = pd_s3_postpolicy_check(&pol, &fields, r->bucket,
                                             pd_clock_now_ms(&r->env->clock), msg, sizeof msg);
    p->has_range = pol.has_range;
    p->min = pol.min;
    p->max = pol.max;
    pd_s3_postpolicy_free(&pol);
    if (v != PD_S3_PP_OK)
        return pd_fail(r, &S3_AccessDenied, "%s", msg);
    return PD_OK;
}

/* ---- the fields as PutObject's input ---- */

static int build_input(struct post *p, const char *file_ctype)
{
    struct pd_req *r = p->r;
    (void)file_ctype;
    json_t *in = json_pack("{s:s, s:s}", "Bucket", r->bucket, "Key", p->key);
    static const char *const map[][2] = {
        {"content-type", "ContentType"},
        {"cache-control", "CacheControl"},
        {"content-disposition", "ContentDisposition"},
        {"content-encoding", "ContentEncoding"},
        {"content-language", "ContentLanguage"},
        {"acl", "ACL"},
        {"x-amz-storage-class", "StorageClass"},
        {"x-amz-server-side-encryption", "ServerSideEncryption"},
        {"x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyId"},
        {"x-amz-website-redirect-location", "WebsiteRedirectLocation"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *v = field(p, map[i][0]);
        if (v)
            json_object_set_new(in, map[i][1], json_string(v));
    }
    const char *exp = field(p, "expires");
    int64_t ms;
    if (exp && pd_time_parse_http(exp, &ms) == PD_OK)
        json_object_set_new(in, "Expires", json_integer(ms));
    json_t *md = json_object();
    for (size_t i = 0; i < p->fields.n; i++)
        if (pd_has_prefix(p->fields.v[i].name, "x-amz-meta-"))
            json_object_set_new(md, p->fields.v[i].name + 11,
                                json_stringn(p->fields.v[i].value, p->fields.v[i].vlen));
    if (json_object_size(md))
        json_object_set_new(in, "Metadata", md);
    else
        json_decref(md);
    json_decref(r->in);
    r->in = in;
    if (field(p, "tagging"))
        return pd_fail(r, &S3_NotImplemented,
                       "The tagging field of POST Object is not implemented by podiam.");
    return PD_OK;
}

/* The checksum field (x-amz-checksum-<alg>), validated. */
static int checksum_field(struct post *p, enum s3_ck_alg *OUT_alg, const char **OUT_value)
{
    *OUT_alg = S3_CK_NONE;
    *OUT_value = NULL;
    for (size_t i = 0; i < p->fields.n; i++) {
        const char *n = p->fields.v[i].name;
        if (!pd_has_prefix(n, "x-amz-checksum-") || !strcmp(n, "x-amz-checksum-algorithm") ||
            !strcmp(n, "x-amz-checksum-type"))
            continue;
        enum s3_ck_alg a = s3_ck_parse(n + 15);
        if (!a)
            return pd_fail(p->r, &S3_InvalidRequest,
                           "The algorithm type you specified in %s header is invalid.", n);
        if (*OUT_alg)
            return pd_fail(p->r, &S3_InvalidRequest,
                           "Expecting a single x-amz-checksum- header. Multiple checksum Types "
                           "are not allowed.");
        unsigned char *raw;
        size_t rl;
        const char *v = p->fields.v[i].value;
        if (pd_base64_decode(&p->r->arena, v, strlen(v), &raw, &rl) || rl != s3_ck_len(a))
            return pd_fail(p->r, &S3_InvalidRequest, "Value for %s header is invalid.",
                           s3_ck_header(a));
        *OUT_alg = a;
        *OUT_value = v;
    }
    const char *named = field(p, "x-amz-checksum-algorithm");
    if (named && s3_ck_parse(named) != *OUT_alg)
        return pd_fail(p->r, &S3_InvalidRequest,
                       "Value for x-amz-checksum-algorithm header is invalid.");
    return PD_OK;
}

/* ---- the file begins: decide everything ---- */

static int on_file_begin(void *ctx, const char *filename, const char *ctype)
{
    struct post *p = ctx;
    struct pd_req *r = p->r;
    const char *key = field(p, "key");
    if (!key) {
        missing_field(r, "key");
        return 1;
    }
    /* ${filename}: the uploaded file's name after its last '/' or '\' */
    const char *base = filename ? filename : "";
    for (const char *c = base; *c; c++)
        if (*c == '/' || *c == '\\')
            base = c + 1;
    struct pd_buf kb;
    pd_buf_init(&kb, 0);
    for (const char *c = key; *c;) {
        if (!strncmp(c, "${filename}", 11)) {
            pd_buf_adds(&kb, base);
            c += 11;
        } else {
            pd_buf_addc(&kb, *c++);
        }
    }
    p->key = pd_arena_strndup(&r->arena, pd_buf_str(&kb), kb.len);
    pd_buf_free(&kb);
    if (!*p->key || strlen(p->key) > 1024) {
        pd_fail(r, &S3_InvalidArgument, "Your key is too long");
        return 1;
    }

    const char *policy = field(p, "policy");
    if (authenticate(p, policy) != PD_OK)
        return 1;
    if (policy && check_policy(p, policy) != PD_OK)
        return 1;
    if (build_input(p, ctype) != PD_OK)
        return 1;
    /* authorized like PutObject, with the form's caller and fields */
    int rc = pd_db_begin(r->db, 0);
    if (rc) {
        pd_fail(r, &PD_ERR_ServiceUnavailable, "The state is busy; retry the request.");
        return 1;
    }
    rc = pd_authorize(r);
    struct pd_s3_bucket b;
    const char *owner, *acl;
    if (!rc)
        rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_write_acl(r, &b, &owner, &acl);
    pd_db_rollback(r->db);
    if (rc)
        return 1;
    enum s3_ck_alg alg;
    const char *sent;
    if (checksum_field(p, &alg, &sent) != PD_OK)
        return 1;
    return s3_feed_open(r, alg, sent, &p->feed) != PD_OK;
}

static int too_large(struct pd_req *r, int64_t size, int64_t max)
{
    pd_fail(r, &S3_EntityTooLarge, "Your proposed upload exceeds the maximum allowed size");
    json_decref(r->err.extra);
    r->err.extra = json_pack("{s:I, s:I}", "ProposedSize", (json_int_t)size, "MaxSizeAllowed",
                             (json_int_t)max);
    return PD_EAWS;
}

static int on_file_data(void *ctx, const char *data, size_t n)
{
    struct post *p = ctx;
    int64_t size = s3_feed_size(p->feed) + (int64_t)n;
    int64_t limit = (int64_t)5 * 1024 * 1024 * 1024;
    if (p->has_range && p->max < limit)
        limit = p->max;
    if (size > limit) {
        too_large(p->r, size, limit);
        return 1;
    }
    return s3_feed_write(p->r, p->feed, data, n) != PD_OK;
}

static int on_file_end(void *ctx)
{
    (void)ctx;
    return 0;
}

/* ---- the sink ---- */

static int form_failed(struct pd_req *r, enum pd_form_err e)
{
    switch (e) {
    case PD_FORM_ECALLBACK:
        return PD_EAWS;
    case PD_FORM_ETOOBIG:
        return pd_fail(r, &S3_MaxPostPreDataLengthExceededError,
                       "Your POST request fields preceeding the upload file was too large.");
    case PD_FORM_ENOFILE:
        return pd_fail(r, &S3_IncorrectNumberOfFilesInPostRequest,
                       "POST requires exactly one file upload per request.");
    default:
        return pd_fail(r, &S3_MalformedPOSTRequest,
                       "The body of your POST request is not well-formed multipart/form-data.");
    }
}

static int post_write(struct pd_req *r, const char *data, size_t n)
{
    struct post *p = r->sink->state;
    if (p->failed)
        return PD_EAWS;
    enum pd_form_err e = pd_form_feed(&p->form, data, n);
    if (e == PD_FORM_OK)
        return PD_OK;
    p->failed = 1;
    return form_failed(r, e);
}

static void post_release(struct pd_req *r, struct post *p, int keep_body)
{
    if (p->form_live)
        pd_form_cleanup(&p->form);
    p->form_live = 0;
    if (p->feed && !keep_body)
        s3_feed_discard(r, p->feed);
}

static int post_finish(struct pd_req *r)
{
    struct post *p = r->sink->state;
    if (p->failed)
        return PD_EAWS;
    enum pd_form_err e = pd_form_finish(&p->form);
    int rc = e == PD_FORM_OK ? PD_OK : form_failed(r, e);
    if (!rc)
        rc = s3_feed_finish(r, p->feed);
    int64_t size = p->feed ? s3_feed_size(p->feed) : 0;
    if (!rc && p->has_range && size > p->max)
        rc = too_large(r, size, p->max);
    if (!rc && p->has_range && size < p->min) {
        pd_fail(r, &S3_EntityTooSmall,
                "Your proposed upload is smaller than the minimum allowed "
                "size");
        json_decref(r->err.extra);
        r->err.extra = json_pack("{s:I, s:I}", "ProposedSize", (json_int_t)size, "MinSizeAllowed",
                                 (json_int_t)p->min);
        rc = PD_EAWS;
    }
    post_release(r, p, rc == PD_OK);
    if (rc)
        p->failed = 1;
    return rc;
}

static void post_discard(struct pd_req *r)
{
    post_release(r, r->sink->state, 0);
}

int s3_post_stream(struct pd_req *r)
{
    char boundary[PD_FORM_MAX_BOUNDARY + 1];
    if (!pd_form_boundary(pd_req_header(r, "content-type"), boundary, sizeof boundary)) {
        pd_fail(r, &S3_PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold");
        json_decref(r->err.extra);
        r->err.extra = json_pack("{s:s}", "Condition",
                                 "Bucket POST must be of the enclosure-type multipart/form-data");
        return PD_EAWS;
    }
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b); /* NoSuchBucket before the body */
    if (rc)
        return rc;
    struct post *p = pd_arena_zalloc(&r->arena, sizeof *p);
    p->r = r;
    struct pd_form_cb cb = {on_field, on_file_begin, on_file_data, on_file_end};
    if (pd_form_init(&p->form, boundary, MAX_FIELDS, &cb, p) != PD_FORM_OK)
        return form_failed(r, PD_FORM_EMALFORMED);
    p->form_live = 1;
    p->sink.write = post_write;
    p->sink.finish = post_finish;
    p->sink.discard = post_discard;
    p->sink.state = p;
    r->sink = &p->sink;
    r->authorized = 0;
    return PD_OK;
}

/* ---- the handler ---- */

static const char *object_url(struct pd_req *r, const char *bucket, const char *key)
{
    const char *host = pd_req_header(r, "host");
    return pd_arena_printf(&r->arena, "%s://%s/%s/%s", r->tls ? "https" : "http",
                           host ? host : "localhost", bucket,
                           pd_url_encode(&r->arena, key, strlen(key), 1));
}

int pd_s3_post_object(struct pd_req *r)
{
    if (!r->sink || r->sink->write != post_write)
        return s3_internal(r, PD_EINTERNAL, "POST Object without its form");
    struct post *p = r->sink->state;
    const struct s3_body *body = s3_feed_body(p->feed);
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    s3_lifecycle_apply(r, &b);
    if (!body)
        return s3_internal(r, PD_EINTERNAL, "POST Object without a file");
    const char *owner = NULL, *acl = NULL;
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
    char *meta_s = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    struct pd_s3_object o = {
        .bucket = b.name,
        .key = p->key,
        .file = s3_new_name(r),
        .size = body->size,
        .etag = s3_etag(&r->arena, body->md5),
        .modified_ms = pd_clock_now_ms(&r->env->clock),
        .meta = pd_arena_strdup(&r->arena, meta_s),
        .owner = owner,
        .acl = acl,
    };
    free(meta_s);
    rc = s3_install(r, body->tmp, o.file);
    if (rc)
        return s3_internal(r, rc, "storing an object");
    rc = s3_store_current(r, &b, &o);
    if (rc)
        return rc;

    const char *url = object_url(r, b.name, o.key);
    pd_req_set_header(r, "ETag", o.etag);
    if (s3_vstate(&b) != S3_UNVERSIONED)
        pd_req_set_header(r, "x-amz-version-id", o.version_id ? o.version_id : "null");
    const char *redirect = pd_kvs_get(&p->fields, "success_action_redirect", 1);
    if (!redirect)
        redirect = pd_kvs_get(&p->fields, "redirect", 1);
    if (redirect && (pd_has_prefix(redirect, "http://") || pd_has_prefix(redirect, "https://"))) {
        const char *k = pd_url_encode(&r->arena, o.key, strlen(o.key), 0);
        const char *e = pd_url_encode(&r->arena, o.etag, strlen(o.etag), 0);
        pd_req_set_header(r, "Location",
                          pd_arena_printf(&r->arena, "%s%cbucket=%s&key=%s&etag=%s", redirect,
                                          strchr(redirect, '?') ? '&' : '?', b.name, k, e));
        r->resp.status = 303;
        return PD_OK;
    }
    pd_req_set_header(r, "Location", url);
    const char *status = pd_kvs_get(&p->fields, "success_action_status", 1);
    if (status && !strcmp(status, "201")) {
        struct pd_buf *x = &r->resp.body;
        pd_xml_decl(x);
        pd_xml_open(x, "PostResponse");
        pd_xml_open_end(x);
        pd_xml_elem(x, "Location", url, strlen(url));
        pd_xml_elem(x, "Bucket", b.name, strlen(b.name));
        pd_xml_elem(x, "Key", o.key, strlen(o.key));
        pd_xml_elem(x, "ETag", o.etag, strlen(o.etag));
        pd_xml_close(x, "PostResponse");
        r->resp.content_type = "application/xml";
        r->resp.status = 201;
    } else {
        r->resp.status = status && !strcmp(status, "200") ? 200 : 204;
    }
    return PD_OK;
}
