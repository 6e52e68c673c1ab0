/*
 * s3_acl.c - access control lists, Object Ownership and Block Public Access: reading and
 * writing them (Get/PutBucketAcl, Get/PutObjectAcl, the x-amz-acl and x-amz-grant-*
 * headers of writes, *OwnershipControls, *PublicAccessBlock, GetBucketPolicyStatus), and
 * what they add to an authorization decision.
 *
 * An ACL is stored as {"Grants": [{"Grantee": {...}, "Permission": ...}]} (the owner is
 * the bucket's or the object's); NULL means the owner's FULL_CONTROL only. Grants to a
 * canonical user keep the account the id belongs to (resolved when written: podiam knows
 * its accounts), so a decision can name it.
 *
 * How ACLs take part in a decision (S3 user guide, "How Amazon S3 authorizes a request";
 * identity-and-s3-facts.md G): the grants an ACL makes are turned into Allow statements of
 * the resource policy the engine evaluates, beside the bucket policy: a grant to an account
 * names the account (its users still need an identity policy, across accounts both sides
 * must allow), AllUsers is "*", AuthenticatedUsers "*" for signed callers only. A bucket's
 * ACL answers bucket operations and object writes (WRITE); an object's ACL answers reads
 * of that object. When an object belongs to another account than the bucket, the object's
 * owner decides (its ACL, with the bucket owner's explicit denies still applying). Under
 * BucketOwnerEnforced no ACL is consulted. Block Public Access: IgnorePublicAcls drops
 * grants to AllUsers and AuthenticatedUsers, RestrictPublicBuckets keeps a public bucket
 * policy's Allow statements from anyone outside the bucket owner's account, BlockPublicAcls
 * and BlockPublicPolicy refuse writes of public ACLs and policies. An explicit Deny still
 * wins over every grant: the engine's order is unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "env.h"
#include "services/s3/s3_internal.h"
#include "store/iam_db.h"

#define ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define AUTH_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define LOG_DELIVERY "http://acs.amazonaws.com/groups/s3/LogDelivery"
/* The canonical user S3 grants READ to for aws-exec-read (EC2's). */
#define EC2_CANONICAL "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"

#define MALFORMED_ACL                                                                              \
    "The XML you provided was not well-formed or did not validate against our published schema"

/* ---- ownership and public access block ---- */

enum s3_ownership s3_ownership(const struct pd_s3_bucket *b)
{
    json_t *o = s3_cfg_json(b, "ownership");
    const char *v = json_string_value(json_object_get(o, "ObjectOwnership"));
    enum s3_ownership r = !v                                   ? S3_OWN_NONE
                          : !strcmp(v, "BucketOwnerEnforced")  ? S3_OWN_ENFORCED
                          : !strcmp(v, "BucketOwnerPreferred") ? S3_OWN_PREFERRED
                                                               : S3_OWN_WRITER;
    json_decref(o);
    return r;
}

void s3_pab(const struct pd_s3_bucket *b, struct s3_pab *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    json_t *p = s3_cfg_json(b, "public_access_block");
    OUT->block_acls = json_is_true(json_object_get(p, "BlockPublicAcls"));
    OUT->ignore_acls = json_is_true(json_object_get(p, "IgnorePublicAcls"));
    OUT->block_policy = json_is_true(json_object_get(p, "BlockPublicPolicy"));
    OUT->restrict_buckets = json_is_true(json_object_get(p, "RestrictPublicBuckets"));
    json_decref(p);
}

/* ---- grants ---- */

static int is_public_grantee(json_t *g)
{
    const char *uri = json_string_value(json_object_get(g, "URI"));
    return uri && (!strcmp(uri, ALL_USERS) || !strcmp(uri, AUTH_USERS));
}

int s3_acl_public(json_t *acl)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(acl, "Grants"), i, g)
    {
        if (is_public_grantee(json_object_get(g, "Grantee")))
            return 1;
    }
    return 0;
}

static json_t *grant_account(struct pd_req *r, const char *account, const char *perm)
{
    return json_pack("{s:{s:s, s:s, s:s}, s:s}", "Grantee", "Type", "CanonicalUser", "ID",
                     s3_canonical_id(r, account), "Account", account, "Permission", perm);
}

static json_t *grant_group(const char *uri, const char *perm)
{
    return json_pack("{s:{s:s, s:s}, s:s}", "Grantee", "Type", "Group", "URI", uri, "Permission",
                     perm);
}

/* The account a canonical id belongs to (podiam knows its accounts), or NULL. */
static const char *account_of(struct pd_req *r, const char *id)
{
    const char **v;
    size_t n;
    if (pd_iam_db_account_list(r->db, &r->arena, &v, &n) != PD_OK)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s3_canonical_id(r, v[i]), id))
            return v[i];
    return NULL;
}

static int valid_permission(const char *p)
{
    static const char *const perms[] = {"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"};
    for (size_t i = 0; p && i < 5; i++)
        if (!strcmp(p, perms[i]))
            return 1;
    return 0;
}

static int invalid_id(struct pd_req *r, const char *id)
{
    pd_fail(r, &S3_InvalidArgument, "Invalid id");
    json_decref(r->err.extra);
    r->err.extra =
        json_pack("{s:s, s:s}", "ArgumentName", "CanonicalUser/ID", "ArgumentValue", id ? id : "");
    return PD_EAWS;
}

/* One grantee (Type and ID / URI / EmailAddress) checked and completed with its account. */
static int grantee(struct pd_req *r, const char *type, const char *id, const char *uri,
                   const char *email, json_t **OUT)
{
    if (email || (type && !strcmp(type, "AmazonCustomerByEmail"))) {
        pd_fail(r, &S3_UnresolvableGrantByEmailAddress,
                "The e-mail address you provided does not match any account on record.");
        json_decref(r->err.extra);
        r->err.extra = json_pack("{s:s}", "EmailAddress", email ? email : "");
        return PD_EAWS;
    }
    if (uri) {
        if (strcmp(uri, ALL_USERS) && strcmp(uri, AUTH_USERS) && strcmp(uri, LOG_DELIVERY))
            return pd_fail(r, &S3_InvalidArgument, "Invalid group uri");
        *OUT = json_pack("{s:s, s:s}", "Type", "Group", "URI", uri);
        return PD_OK;
    }
    if (!id || !*id)
        return pd_fail(r, &S3_MalformedACLError, MALFORMED_ACL);
    if (!strcmp(id, EC2_CANONICAL)) {
        *OUT = json_pack("{s:s, s:s}", "Type", "CanonicalUser", "ID", id);
        return PD_OK;
    }
    const char *acct = account_of(r, id);
    if (!acct)
        return invalid_id(r, id);
    *OUT = json_pack("{s:s, s:s, s:s}", "Type", "CanonicalUser", "ID", id, "Account", acct);
    return PD_OK;
}

/* x-amz-grant-<perm>: 'id="…", uri="…", emailAddress="…"' (comma-separated) into grants. */
static int grant_header(struct pd_req *r, const char *value, const char *perm, json_t *grants)
{
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *eq = strchr(p, '=');
        if (!eq)
            return pd_fail(r, &S3_InvalidArgument, "Invalid grant header: %s", value);
        char *k = pd_arena_strndup(&r->arena, p, (size_t)(eq - p));
        size_t kl = strlen(k);
        while (kl && k[kl - 1] == ' ')
            k[--kl] = '\0';
        const char *v = eq + 1;
        while (*v == ' ')
            v++;
        const char *end;
        char *val;
        if (*v == '"') {
            end = strchr(v + 1, '"');
            if (!end)
                return pd_fail(r, &S3_InvalidArgument, "Invalid grant header: %s", value);
            val = pd_arena_strndup(&r->arena, v + 1, (size_t)(end - v - 1));
            end++;
        } else {
            end = v + strcspn(v, ",");
            val = pd_arena_strndup(&r->arena, v, (size_t)(end - v));
            size_t vl = strlen(val);
            while (vl && val[vl - 1] == ' ')
                val[--vl] = '\0';
        }
        json_t *g = NULL;
        int rc;
        if (pd_strcaseeq(k, "id"))
            rc = grantee(r, "CanonicalUser", val, NULL, NULL, &g);
        else if (pd_strcaseeq(k, "uri"))
            rc = grantee(r, "Group", NULL, val, NULL, &g);
        else if (pd_strcaseeq(k, "emailAddress"))
            rc = grantee(r, "AmazonCustomerByEmail", NULL, NULL, val, &g);
        else
            rc = pd_fail(r, &S3_InvalidArgument, "Invalid grant header: %s", value);
        if (rc)
            return rc;
        json_array_append_new(grants, json_pack("{s:o, s:s}", "Grantee", g, "Permission", perm));
        p = end;
    }
    return PD_OK;
}

/* The grants of a canned ACL (the owner's FULL_CONTROL first). object: an object's ACL.
 * PD_OK, or InvalidArgument for a name S3 does not know here. */
static int canned(struct pd_req *r, const char *name, const char *owner, const char *bucket_owner,
                  int object, json_t **OUT)
{
    json_t *g = json_array();
    json_array_append_new(g, grant_account(r, owner, "FULL_CONTROL"));
    if (!strcmp(name, "private")) {
    } else if (!strcmp(name, "public-read")) {
        json_array_append_new(g, grant_group(ALL_USERS, "READ"));
    } else if (!strcmp(name, "public-read-write")) {
        json_array_append_new(g, grant_group(ALL_USERS, "READ"));
        json_array_append_new(g, grant_group(ALL_USERS, "WRITE"));
    } else if (!strcmp(name, "authenticated-read")) {
        json_array_append_new(g, grant_group(AUTH_USERS, "READ"));
    } else if (!strcmp(name, "aws-exec-read")) {
        json_array_append_new(g,
                              json_pack("{s:{s:s, s:s}, s:s}", "Grantee", "Type", "CanonicalUser",
                                        "ID", EC2_CANONICAL, "Permission", "READ"));
    } else if (object && !strcmp(name, "bucket-owner-read")) {
        if (strcmp(owner, bucket_owner))
            json_array_append_new(g, grant_account(r, bucket_owner, "READ"));
    } else if (object && !strcmp(name, "bucket-owner-full-control")) {
        if (strcmp(owner, bucket_owner))
            json_array_append_new(g, grant_account(r, bucket_owner, "FULL_CONTROL"));
    } else if (!object && !strcmp(name, "log-delivery-write")) {
        json_array_append_new(g, grant_group(LOG_DELIVERY, "WRITE"));
        json_array_append_new(g, grant_group(LOG_DELIVERY, "READ_ACP"));
    } else if (!object &&
               (!strcmp(name, "bucket-owner-read") || !strcmp(name, "bucket-owner-full-control"))) {
        /* accepted and ignored on buckets (facts G) */
    } else {
        json_decref(g);
        return pd_fail(r, &S3_InvalidArgument, "Invalid canned ACL: %s", name);
    }
    *OUT = json_pack("{s:o}", "Grants", g);
    return PD_OK;
}

static const struct {
    const char *member, *perm;
} grant_members[] = {
    {"GrantFullControl", "FULL_CONTROL"}, {"GrantRead", "READ"},
    {"GrantReadACP", "READ_ACP"},         {"GrantWrite", "WRITE"},
    {"GrantWriteACP", "WRITE_ACP"},
};

int s3_acl_from_request(struct pd_req *r, const char *owner, const char *bucket_owner, int object,
                        json_t **OUT)
{
    *OUT = NULL;
    const char *c = s3_in_str(r, "ACL");
    int any_grant = 0;
    for (size_t i = 0; i < sizeof grant_members / sizeof grant_members[0]; i++)
        any_grant |= s3_in_str(r, grant_members[i].member) != NULL;
    json_t *policy = json_object_get(r->in, "AccessControlPolicy");
    if (c && any_grant)
        return pd_fail(r, &S3_InvalidRequest,
                       "Specifying both Canned ACLs and Header Grants is not allowed");
    if ((c || any_grant) && policy && json_object_size(policy))
        return pd_fail(r, &S3_UnexpectedContent, "This request does not support content");
    if (c)
        return canned(r, c, owner, bucket_owner, object, OUT);
    json_t *grants = json_array();
    int rc = PD_OK;
    if (any_grant) {
        for (size_t i = 0; !rc && i < sizeof grant_members / sizeof grant_members[0]; i++) {
            const char *v = s3_in_str(r, grant_members[i].member);
            if (v)
                rc = grant_header(r, v, grant_members[i].perm, grants);
        }
    } else if (policy) {
        const char *oid =
            json_string_value(json_object_get(json_object_get(policy, "Owner"), "ID"));
        if (oid && strcmp(oid, s3_canonical_id(r, owner)) != 0)
            rc = pd_fail(r, &S3_AccessDenied, "Access Denied");
        size_t i;
        json_t *g;
        json_array_foreach(json_object_get(policy, "Grants"), i, g)
        {
            if (rc)
                break;
            json_t *ge = json_object_get(g, "Grantee");
            const char *perm = json_string_value(json_object_get(g, "Permission"));
            if (!ge || !valid_permission(perm)) {
                rc = pd_fail(r, &S3_MalformedACLError, MALFORMED_ACL);
                break;
            }
            json_t *out = NULL;
            rc = grantee(r, json_string_value(json_object_get(ge, "Type")),
                         json_string_value(json_object_get(ge, "ID")),
                         json_string_value(json_object_get(ge, "URI")),
                         json_string_value(json_object_get(ge, "EmailAddress")), &out);
            if (!rc)
                json_array_append_new(grants,
                                      json_pack("{s:o, s:s}", "Grantee", out, "Permission", perm));
        }
    } else {
        json_decref(grants);
        return PD_OK; /* no ACL in the request */
    }
    if (rc) {
        json_decref(grants);
        return rc;
    }
    *OUT = json_pack("{s:o}", "Grants", grants);
    return PD_OK;
}

/* Does the ACL grant anything beyond the owner's FULL_CONTROL (and, for an object the bucket
 * owner does not own, the bucket owner's FULL_CONTROL)? */
static int grants_others(struct pd_req *r, json_t *acl, const char *owner, const char *also)
{
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(acl, "Grants"), i, g)
    {
        json_t *ge = json_object_get(g, "Grantee");
        const char *id = json_string_value(json_object_get(ge, "ID"));
        const char *perm = json_string_value(json_object_get(g, "Permission"));
        int full = perm && !strcmp(perm, "FULL_CONTROL");
        if (id && full && !strcmp(id, s3_canonical_id(r, owner)))
            continue;
        if (id && full && also && !strcmp(id, s3_canonical_id(r, also)))
            continue;
        return 1;
    }
    return 0;
}

int s3_write_acl(struct pd_req *r, const struct pd_s3_bucket *b, const char **OUT_owner,
                 const char **OUT_acl)
{
    *OUT_owner = NULL;
    *OUT_acl = NULL;
    enum s3_ownership own = s3_ownership(b);
    const char *writer = r->who.account_id ? r->who.account_id : b->account_id;
    const char *c = s3_in_str(r, "ACL");
    /* who owns the object: the writer under ObjectWriter (or no controls), the bucket owner
     * otherwise (BucketOwnerPreferred: when the writer grants it full control) */
    const char *owner = writer;
    if (own == S3_OWN_ENFORCED ||
        (own == S3_OWN_PREFERRED && c && !strcmp(c, "bucket-owner-full-control")))
        owner = b->account_id;
    json_t *acl = NULL;
    int rc = s3_acl_from_request(r, owner, b->account_id, 1, &acl);
    if (rc)
        return rc;
    int others = acl && grants_others(r, acl, owner, NULL);
    if (own == S3_OWN_ENFORCED) {
        /* ACLs disabled: no ACL, or one that only gives the bucket owner full control
         * (bucket-owner-full-control or its equivalent) */
        json_decref(acl);
        if (others)
            return pd_fail(r, &S3_AccessControlListNotSupported, "The bucket does not allow ACLs");
        return PD_OK;
    }
    struct s3_pab pab;
    s3_pab(b, &pab);
    if (acl && pab.block_acls && s3_acl_public(acl)) {
        json_decref(acl);
        return pd_fail(r, &S3_AccessDenied, "Access Denied");
    }
    if (strcmp(owner, b->account_id) != 0)
        *OUT_owner = pd_arena_strdup(&r->arena, owner);
    if (others) {
        char *t = json_dumps(acl, JSON_COMPACT);
        *OUT_acl = pd_arena_strdup(&r->arena, t);
        free(t);
    }
    json_decref(acl);
    return PD_OK;
}

/* The grants to show: the stored ACL, or the owner's FULL_CONTROL. */
static json_t *render(struct pd_req *r, const char *stored, const char *owner)
{
    json_t *acl = stored ? json_loads(stored, 0, NULL) : NULL;
    json_t *grants = json_array();
    if (!acl)
        json_array_append_new(grants, grant_account(r, owner, "FULL_CONTROL"));
    else
        json_array_extend(grants, json_object_get(acl, "Grants"));
    json_decref(acl);
    size_t i;
    json_t *g;
    json_array_foreach(grants, i, g)
    {
        json_t *ge = json_deep_copy(json_object_get(g, "Grantee"));
        json_object_del(ge, "Account"); /* podiam's own note, not S3's */
        json_array_set_new(
            grants, i,
            json_pack("{s:o, s:O}", "Grantee", ge, "Permission", json_object_get(g, "Permission")));
    }
    return json_pack("{s:{s:s}, s:o}", "Owner", "ID", s3_canonical_id(r, owner), "Grants", grants);
}

/* ---- Get/PutBucketAcl, Get/PutObjectAcl ---- */

int pd_s3_get_bucket_acl(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    r->out =
        render(r, s3_ownership(&b) == S3_OWN_ENFORCED ? NULL : s3_cfg(&b, "acl"), b.account_id);
    return PD_OK;
}

int pd_s3_put_bucket_acl(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    if (s3_ownership(&b) == S3_OWN_ENFORCED)
        return pd_fail(r, &S3_AccessControlListNotSupported, "The bucket does not allow ACLs");
    json_t *acl = NULL;
    rc = s3_acl_from_request(r, b.account_id, b.account_id, 0, &acl);
    if (rc)
        return rc;
    if (!acl)
        return pd_fail(r, &S3_MalformedACLError, MALFORMED_ACL);
    struct s3_pab pab;
    s3_pab(&b, &pab);
    if (pab.block_acls && s3_acl_public(acl)) {
        json_decref(acl);
        return pd_fail(r, &S3_AccessDenied, "Access Denied");
    }
    rc = s3_cfg_put(r, &b, "acl", grants_others(r, acl, b.account_id, NULL) ? acl : NULL);
    json_decref(acl);
    return rc;
}

int pd_s3_get_object_acl(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_object o;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_object_of(r, &b, s3_in_str(r, "Key"), &o);
    if (rc)
        return rc;
    int enforced = s3_ownership(&b) == S3_OWN_ENFORCED;
    r->out = render(r, enforced ? NULL : o.acl, enforced || !o.owner ? b.account_id : o.owner);
    return PD_OK;
}

int pd_s3_put_object_acl(struct pd_req *r)
{
    struct pd_s3_bucket b;
    struct pd_s3_object o;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_check_buffered_body(r);
    if (!rc)
        rc = s3_object_of(r, &b, s3_in_str(r, "Key"), &o);
    if (rc)
        return rc;
    if (s3_ownership(&b) == S3_OWN_ENFORCED)
        return pd_fail(r, &S3_AccessControlListNotSupported, "The bucket does not allow ACLs");
    const char *owner = o.owner ? o.owner : b.account_id;
    json_t *acl = NULL;
    rc = s3_acl_from_request(r, owner, b.account_id, 1, &acl);
    if (rc)
        return rc;
    if (!acl)
        return pd_fail(r, &S3_MalformedACLError, MALFORMED_ACL);
    struct s3_pab pab;
    s3_pab(&b, &pab);
    if (pab.block_acls && s3_acl_public(acl)) {
        json_decref(acl);
        return pd_fail(r, &S3_AccessDenied, "Access Denied");
    }
    char *t = grants_others(r, acl, owner, NULL) ? json_dumps(acl, JSON_COMPACT) : NULL;
    json_decref(acl);
    rc = pd_s3_db_object_set_acl(r->db, b.name, o.key, o.seq, t);
    free(t);
    if (rc)
        return s3_internal(r, rc, "storing an object ACL");
    r->out = json_object();
    s3_out_version(r->out, &b, o.version_id);
    return PD_OK;
}

/* ---- ownership controls ---- */

int pd_s3_get_bucket_ownership_controls(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    json_t *o = s3_cfg_json(&b, "ownership");
    if (!o)
        return s3_fail_bucket(r, &S3_OwnershipControlsNotFoundError, b.name,
                              "The bucket ownership controls were not found");
    r->out = json_pack("{s:{s:[o]}}", "OwnershipControls", "Rules", o);
    return PD_OK;
}

int s3_ownership_valid(const char *v)
{
    return v && (!strcmp(v, "BucketOwnerEnforced") || !strcmp(v, "BucketOwnerPreferred") ||
                 !strcmp(v, "ObjectWriter"));
}

int pd_s3_put_bucket_ownership_controls(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    json_t *rules = json_object_get(json_object_get(r->in, "OwnershipControls"), "Rules");
    const char *v = json_string_value(json_object_get(json_array_get(rules, 0), "ObjectOwnership"));
    if (json_array_size(rules) != 1 || !s3_ownership_valid(v))
        return pd_fail(r, &S3_MalformedXML,
                       "The XML you provided was not well-formed or did not validate against "
                       "our published schema");
    if (!strcmp(v, "BucketOwnerEnforced")) {
        json_t *acl = s3_cfg_json(&b, "acl");
        int others = acl && grants_others(r, acl, b.account_id, NULL);
        json_decref(acl);
        if (others)
            return pd_fail(r, &S3_InvalidBucketAclWithObjectOwnership,
                           "Bucket cannot have ACLs set with ObjectOwnership's "
                           "BucketOwnerEnforced setting");
    }
    json_t *doc = json_pack("{s:s}", "ObjectOwnership", v);
    rc = s3_cfg_put(r, &b, "ownership", doc);
    json_decref(doc);
    return rc;
}

int pd_s3_delete_bucket_ownership_controls(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    return rc ? rc : s3_cfg_put(r, &b, "ownership", NULL);
}

/* ---- public access block ---- */

int pd_s3_get_public_access_block(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    json_t *p = s3_cfg_json(&b, "public_access_block");
    if (!p) {
        s3_fail_bucket(r, &S3_NoSuchPublicAccessBlockConfiguration, b.name,
                       "The public access block configuration was not found");
        return PD_EAWS;
    }
    r->out = json_pack("{s:o}", "PublicAccessBlockConfiguration", p);
    return PD_OK;
}

int pd_s3_put_public_access_block(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (!rc)
        rc = s3_check_buffered_body(r);
    if (rc)
        return rc;
    json_t *in = json_object_get(r->in, "PublicAccessBlockConfiguration");
    static const char *const names[] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                        "RestrictPublicBuckets"};
    json_t *doc = json_object();
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(doc, names[i],
                            json_boolean(json_is_true(json_object_get(in, names[i]))));
    rc = s3_cfg_put(r, &b, "public_access_block", doc);
    json_decref(doc);
    return rc;
}

int pd_s3_delete_public_access_block(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    return rc ? rc : s3_cfg_put(r, &b, "public_access_block", NULL);
}

/* ---- is a bucket policy public? ---- */

/* Condition keys whose fixed values make a statement non-public (S3 user guide, "The
 * meaning of public"). */
static int pinning_key(const char *k)
{
    static const char *const keys[] = {
        "aws:sourceip",          "aws:sourcearn",
        "aws:sourcevpc",         "aws:sourcevpce",
        "aws:sourceowner",       "aws:sourceaccount",
        "aws:principalorgid",    "aws:userid",
        "aws:principalaccount",  "aws:principalarn",
        "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
        "kms:calleraccount",     "aws:principalorgpaths",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (pd_strcaseeq(k, keys[i]))
            return 1;
    return 0;
}

static int has_wildcard(const char *v)
{
    return strchr(v, '*') || strchr(v, '?') || strstr(v, "${");
}

/* A fixed value: no wildcard, no variable; an IPv4 range no wider than /8, IPv6 /32. */
static int fixed_value(const char *key, const char *v)
{
    if (has_wildcard(v))
        return 0;
    if (pd_strcaseeq(key, "aws:sourceip")) {
        const char *slash = strchr(v, '/');
        if (!slash)
            return 1;
        int64_t bits;
        if (pd_parse_i64(slash + 1, 0, 128, &bits))
            return 0;
        return strchr(v, ':') ? bits >= 32 : bits >= 8;
    }
    return 1;
}

/* Does the Condition block pin the statement to fixed values of a pinning key? */
static int pinned(json_t *cond)
{
    const char *op;
    json_t *keys;
    json_object_foreach(cond, op, keys)
    {
        int positive = pd_has_prefix(op, "StringEquals") || pd_has_prefix(op, "ArnEquals") ||
                       pd_has_prefix(op, "IpAddress") || pd_has_prefix(op, "StringLike") ||
                       pd_has_prefix(op, "ArnLike");
        if (!positive || strstr(op, "IfExists") || pd_has_prefix(op, "ForAllValues"))
            continue;
        const char *k;
        json_t *vals;
        json_object_foreach(keys, k, vals)
        {
            if (!pinning_key(k))
                continue;
            int ok = 1;
            if (json_is_string(vals)) {
                ok = fixed_value(k, json_string_value(vals));
            } else if (json_is_array(vals) && json_array_size(vals)) {
                size_t i;
                json_t *v;
                json_array_foreach(vals, i, v) ok &=
                    json_is_string(v) && fixed_value(k, json_string_value(v));
            } else {
                ok = 0;
            }
            if (ok)
                return 1;
        }
    }
    return 0;
}

/* Does a Principal value name everyone? */
static int principal_wild(json_t *p)
{
    if (json_is_string(p))
        return !strcmp(json_string_value(p), "*");
    if (!json_is_object(p))
        return 0;
    const char *kind;
    json_t *v;
    json_object_foreach(p, kind, v)
    {
        if (!strcmp(kind, "Service"))
            continue; /* AWS service principals are not public */
        if (json_is_string(v) && has_wildcard(json_string_value(v)))
            return 1;
        size_t i;
        json_t *e;
        json_array_foreach(v, i,
                           e) if (json_is_string(e) && has_wildcard(json_string_value(e))) return 1;
    }
    return 0;
}

int s3_policy_public(const char *text)
{
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    json_t *sts = json_object_get(doc, "Statement");
    json_t *one = NULL;
    if (json_is_object(sts)) {
        one = json_array();
        json_array_append(one, sts);
        sts = one;
    }
    int pub = 0;
    size_t i;
    json_t *s;
    json_array_foreach(sts, i, s)
    {
        const char *eff = json_string_value(json_object_get(s, "Effect"));
        if (!eff || strcmp(eff, "Allow"))
            continue;
        if (json_object_get(s, "NotPrincipal") ||
            (principal_wild(json_object_get(s, "Principal")) &&
             !pinned(json_object_get(s, "Condition")))) {
            pub = 1;
            break;
        }
    }
    json_decref(one);
    json_decref(doc);
    return pub;
}

int pd_s3_get_bucket_policy_status(struct pd_req *r)
{
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    if (!b.policy)
        return s3_fail_bucket(r, &S3_NoSuchBucketPolicy, b.name,
                              "The bucket policy does not exist");
    r->out = json_pack("{s:{s:b}}", "PolicyStatus", "IsPublic", s3_policy_public(b.policy));
    return PD_OK;
}

/* ---- what ACLs and Block Public Access add to a decision ---- */

/* Actions a permission of a bucket ACL grants (and on which resource), or of an object's. */
static const char *const *bucket_actions(const char *perm, int *OUT_objects)
{
    static const char *const read[] = {"s3:ListBucket", "s3:ListBucketVersions",
                                       "s3:ListBucketMultipartUploads", NULL};
    /* WRITE creates objects, with an ACL of the writer's choosing (s3:PutObjectAcl of a
     * write), and deletes them */
    static const char *const write[] = {"s3:PutObject",
                                        "s3:PutObjectAcl",
                                        "s3:DeleteObject",
                                        "s3:DeleteObjectVersion",
                                        "s3:AbortMultipartUpload",
                                        "s3:ListMultipartUploadParts",
                                        NULL};
    static const char *const read_acp[] = {"s3:GetBucketAcl", NULL};
    static const char *const write_acp[] = {"s3:PutBucketAcl", NULL};
    *OUT_objects = 0;
    if (!strcmp(perm, "READ"))
        return read;
    if (!strcmp(perm, "WRITE")) {
        *OUT_objects = 1;
        return write;
    }
    if (!strcmp(perm, "READ_ACP"))
        return read_acp;
    if (!strcmp(perm, "WRITE_ACP"))
        return write_acp;
    return NULL;
}

static const char *const *object_actions(const char *perm)
{
    static const char *const read[] = {"s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent",
                                       NULL};
    static const char *const read_acp[] = {"s3:GetObjectAcl", "s3:GetObjectVersionAcl", NULL};
    static const char *const write_acp[] = {"s3:PutObjectAcl", "s3:PutObjectVersionAcl", NULL};
    if (!strcmp(perm, "READ"))
        return read;
    if (!strcmp(perm, "READ_ACP"))
        return read_acp;
    if (!strcmp(perm, "WRITE_ACP"))
        return write_acp;
    return NULL;
}

/* Append the Allow statements the grants of acl make: actions of each permission (FULL_CONTROL:
 * all of them) on resource (WRITE: and the objects under it), to the principal the grantee is.
 * Grants to the owner are skipped (the owner's account is allowed by its own policies);
 * ignore_public drops public grants. Returns the number of statements added. */
static size_t acl_statements(struct pd_req *r, json_t *acl, const char *owner, int object,
                             const char *resource, int ignore_public, json_t *out)
{
    static const char *const perms[] = {"READ", "WRITE", "READ_ACP", "WRITE_ACP"};
    size_t added = 0, i;
    json_t *g;
    json_array_foreach(json_object_get(acl, "Grants"), i, g)
    {
        json_t *ge = json_object_get(g, "Grantee");
        const char *perm = json_string_value(json_object_get(g, "Permission"));
        const char *uri = json_string_value(json_object_get(ge, "URI"));
        const char *acct = json_string_value(json_object_get(ge, "Account"));
        if (!perm || (ignore_public && is_public_grantee(ge)))
            continue;
        if (acct && owner && !strcmp(acct, owner))
            continue;
        json_t *principal = NULL, *cond = NULL;
        if (uri && !strcmp(uri, ALL_USERS)) {
            principal = json_string("*");
        } else if (uri && !strcmp(uri, AUTH_USERS)) {
            principal = json_string("*");
            cond = json_pack("{s:{s:s}}", "Null", "aws:PrincipalAccount", "false");
        } else if (acct) {
            principal =
                json_pack("{s:s}", "AWS", pd_arena_printf(&r->arena, "arn:aws:iam::%s:root", acct));
        } else {
            continue; /* LogDelivery, EC2: no caller podiam serves */
        }
        json_t *actions = json_array();
        int objects = 0;
        for (size_t k = 0; k < 4; k++) {
            if (strcmp(perm, "FULL_CONTROL") && strcmp(perm, perms[k]))
                continue;
            const char *const *a;
            if (object) {
                a = object_actions(perms[k]);
            } else {
                int o = 0;
                a = bucket_actions(perms[k], &o);
                objects |= o;
            }
            for (; a && *a; a++)
                json_array_append_new(actions, json_string(*a));
        }
        if (!json_array_size(actions)) {
            json_decref(actions);
            json_decref(principal);
            json_decref(cond);
            continue;
        }
        json_t *res = json_pack("[s]", resource);
        if (objects)
            json_array_append_new(res, json_string(pd_arena_printf(&r->arena, "%s/*", resource)));
        json_t *st = json_pack(
            "{s:s, s:s, s:o, s:o, s:o}", "Sid",
            pd_arena_printf(&r->arena, "%sAcl%s%zu", object ? "Object" : "Bucket", perm, i),
            "Effect", "Allow", "Principal", principal, "Action", actions, "Resource", res);
        if (cond)
            json_object_set_new(st, "Condition", cond);
        json_array_append_new(out, st);
        added++;
    }
    return added;
}

/* The statements of a policy text (a new array; a lone statement object made a list). */
static json_t *statements_of(const char *text)
{
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    json_t *st = json_object_get(doc, "Statement");
    json_t *out = json_array();
    if (json_is_array(st))
        json_array_extend(out, st);
    else if (json_is_object(st))
        json_array_append(out, st);
    json_decref(doc);
    return out;
}

/* Keep only the Deny statements of an array of statements. */
static void keep_denies(json_t *sts)
{
    for (size_t i = json_array_size(sts); i-- > 0;) {
        const char *e = json_string_value(json_object_get(json_array_get(sts, i), "Effect"));
        if (!e || strcmp(e, "Deny"))
            json_array_remove(sts, i);
    }
}

int s3_acl_authz(struct pd_req *r, struct pd_authz_need *need, const struct pd_s3_bucket *b,
                 const char *action, const struct pd_s3_object *obj)
{
    struct s3_pab pab;
    s3_pab(b, &pab);
    int acls = s3_ownership(b) != S3_OWN_ENFORCED;
    int outsider = !r->who.account_id || strcmp(r->who.account_id, b->account_id) != 0;
    int restrict_policy =
        pab.restrict_buckets && b->policy && outsider && s3_policy_public(b->policy);
    /* which ACL answers this action: the object's for reads of it and its ACL, the
     * bucket's for the rest */
    int object_acl =
        obj && (pd_has_prefix(action, "s3:GetObject") || !strcmp(action, "s3:PutObjectAcl") ||
                !strcmp(action, "s3:PutObjectVersionAcl"));
    if (object_acl && (pd_has_prefix(action, "s3:GetObjectTagging") ||
                       pd_has_prefix(action, "s3:GetObjectVersionTagging") ||
                       pd_has_prefix(action, "s3:GetObjectAttributes") ||
                       pd_has_prefix(action, "s3:GetObjectVersionAttributes")))
        object_acl = 0;
    const char *obj_owner = obj && obj->owner && acls ? obj->owner : b->account_id;
    int foreign_object = object_acl && strcmp(obj_owner, b->account_id) != 0;
    const char *acl_text = !acls ? NULL : object_acl ? obj->acl : s3_cfg(b, "acl");
    if (!restrict_policy && !foreign_object && !acl_text)
        return PD_OK; /* the bucket policy alone, as set by the caller */

    json_t *sts = statements_of(b->policy);
    if (restrict_policy || foreign_object)
        keep_denies(sts);
    size_t added = 0;
    if (acl_text) {
        json_t *acl = json_loads(acl_text, 0, NULL);
        const char *res =
            object_acl ? s3_object_arn(r, b->name, obj->key) : s3_bucket_arn(r, b->name);
        added = acl_statements(r, acl, object_acl ? obj_owner : b->account_id, object_acl, res,
                               pab.ignore_acls, sts);
        json_decref(acl);
    }
    if (foreign_object)
        need->resource_account = obj_owner;
    if (!json_array_size(sts)) {
        need->resource_policy = NULL;
    } else {
        json_t *doc = json_pack("{s:s, s:o}", "Version", "2012-10-17", "Statement", sts);
        char *t = json_dumps(doc, JSON_COMPACT);
        need->resource_policy = pd_arena_strdup(&r->arena, t);
        free(t);
        json_decref(doc);
        sts = NULL;
    }
    json_decref(sts);
    need->policy_id =
        pd_arena_printf(&r->arena, "%s%s%s of %s", b->policy ? "bucket policy" : "",
                        b->policy && added ? " and " : "",
                        added ? (object_acl ? "object ACL" : "bucket ACL") : "", b->name);
    if (restrict_policy)
        need->policy_id = pd_arena_printf(&r->arena, "%s (RestrictPublicBuckets)", need->policy_id);
    return PD_OK;
}
