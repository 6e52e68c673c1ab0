/*
 * iam.c - the IAM service: its table of operations and the rules every IAM handler shares
 * (input access, names, paths, tags, policy documents, lookups, output shapes, pagination),
 * plus GetAccountAuthorizationDetails.
 *
 * Handlers live in iam_users.c (users, groups, access keys), iam_roles.c, iam_policies.c
 * (managed and inline policies, attachments) and iam_oidc.c; iam_fixtures.c loads and
 * exports state through the same functions. State is reached only through store/iam_db.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/str.h"
#include "env.h"
#include "auth/policy_cache.h"
#include "services/iam/iam_internal.h"
#include "services/service.h"

#define SENDER 0
#define RECEIVER 1
#define PD_AWSERR(c, status, fault) const struct pd_awserr IAM_##c = {#c, status, fault};
#include "services/iam/iam_errors.def"
#undef PD_AWSERR

#define PD_IAM_ENTRY(op, fn, write) {#op, pd_iam_##fn, (write) ? PD_OP_WRITE : 0},
static const struct pd_op ops[] = {
    PD_IAM_OPS(PD_IAM_ENTRY){NULL, NULL, 0},
};
#undef PD_IAM_ENTRY

const struct pd_service pd_svc_iam = {
    .name = "iam",
    .signing_name = "iam",
    .proto = PD_PROTO_QUERY,
    .spec = "iam.json",
    .ops = ops,
    .authz = pd_iam_authz,
};

/* ------------------------------------------------------------------------------------ */
/* input */

json_t *pd_iam_in(struct pd_req *r, const char *member)
{
    return r->in ? json_object_get(r->in, member) : NULL;
}

const char *pd_iam_in_str(struct pd_req *r, const char *member)
{
    json_t *v = pd_iam_in(r, member);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int pd_iam_in_bool(struct pd_req *r, const char *member, int dflt)
{
    json_t *v = pd_iam_in(r, member);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int64_t pd_iam_in_int(struct pd_req *r, const char *member, int64_t dflt)
{
    json_t *v = pd_iam_in(r, member);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static char *lower_first(struct pd_req *r, const char *member)
{
    char *s = pd_arena_strdup(&r->arena, member);
    s[0] = (char)tolower((unsigned char)s[0]);
    return s;
}

int pd_iam_in_req(struct pd_req *r, const char *member, const char **OUT)
{
    *OUT = pd_iam_in_str(r, member);
    if (*OUT)
        return PD_OK;
    return pd_fail(r, &PD_ERR_ValidationError,
                   "1 validation error detected: Value null at '%s' failed to satisfy "
                   "constraint: Member must not be null",
                   lower_first(r, member));
}

const char *pd_iam_account(struct pd_req *r)
{
    return r->who.account_id ? r->who.account_id : PD_IAM_DEFAULT_ACCOUNT;
}

int64_t pd_iam_now_ms(struct pd_req *r)
{
    return pd_clock_now_ms(&r->env->clock) / 1000 * 1000;
}

char *pd_iam_new_id(struct pd_req *r, const char *prefix)
{
    size_t n = strcmp(prefix, "AKIA") == 0 ? 20 : 21;
    char *id = pd_arena_alloc(&r->arena, n + 1);
    pd_ids_unique(&r->env->ids, prefix, n, id);
    return id;
}

/* ------------------------------------------------------------------------------------ */
/* validation */

int pd_iam_invalid(struct pd_req *r, const char *value, const char *member, const char *constraint)
{
    return pd_fail(r, &PD_ERR_ValidationError,
                   "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                   "constraint: %s",
                   value, member, constraint);
}

static int max_len(struct pd_req *r, const char *value, const char *member, size_t max)
{
    if (strlen(value) <= max)
        return PD_OK;
    char c[96];
    snprintf(c, sizeof c, "Member must have length less than or equal to %zu", max);
    return pd_iam_invalid(r, value, member, c);
}

static int name_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' ||
           c == '-';
}

int pd_iam_check_name(struct pd_req *r, const char *value, const char *member, size_t max)
{
    if (!*value)
        return pd_iam_invalid(r, value, member,
                              "Member must have length greater than or equal to 1");
    if (max_len(r, value, member, max))
        return PD_EAWS;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (!name_char(*p))
            return pd_iam_invalid(r, value, member,
                                  "Member must satisfy regular expression pattern: "
                                  "[\\w+=,.@-]+");
    return PD_OK;
}

int pd_iam_check_path(struct pd_req *r, const char *value, const char *member)
{
    size_t n = strlen(value);
    if (max_len(r, value, member, 512))
        return PD_EAWS;
    int ok = n == 1 ? value[0] == '/' : n >= 3 && value[0] == '/' && value[n - 1] == '/';
    for (size_t i = 0; ok && i < n; i++)
        ok = value[i] >= 0x21 && value[i] <= 0x7e;
    if (!ok)
        return pd_iam_invalid(r, value, member,
                              "Member must satisfy regular expression pattern: "
                              "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
    return PD_OK;
}

int pd_iam_check_policy_path(struct pd_req *r, const char *value, const char *member)
{
    if (max_len(r, value, member, 512))
        return PD_EAWS;
    size_t n = strlen(value);
    int ok = n >= 1 && value[0] == '/' && value[n - 1] == '/';
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '/')
            ok = i == n - 1 || value[i + 1] != '/';
        else
            ok = isalnum(c) || strchr(".,+@=_-", c) != NULL;
    }
    if (!ok)
        return pd_iam_invalid(r, value, member,
                              "Member must satisfy regular expression pattern: "
                              "((/[A-Za-z0-9\\.,\\+@=_-]+)*)/");
    return PD_OK;
}

/* [\p{L}\p{Z}\p{N}_.:/=+\-@]: ASCII letters, digits, space and those symbols; any non-ASCII
 * character is taken as a letter (podiam does not carry Unicode tables). */
static int tag_text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x80 && !isalnum(*p) && !strchr(" _.:/=+-@", *p))
            return 0;
    return pd_utf8_valid(s, strlen(s));
}

int pd_iam_check_tags(struct pd_req *r, json_t *tags)
{
    if (!tags)
        return PD_OK;
    if (!json_is_array(tags))
        return pd_fail(r, &PD_ERR_ValidationError, "Tags must be a list");
    if (json_array_size(tags) > PD_IAM_MAX_TAGS) {
        char *dump = json_dumps(tags, JSON_COMPACT);
        pd_iam_invalid(r, dump ? dump : "", "tags",
                       "Member must have length less than or equal to 50");
        free(dump);
        return PD_EAWS;
    }
    size_t i, j;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k)
            return pd_fail(r, &PD_ERR_ValidationError,
                           "1 validation error detected: Value null at 'tags.%zu.member.key' "
                           "failed to satisfy constraint: Member must not be null",
                           i + 1);
        if (!v)
            return pd_fail(r, &PD_ERR_ValidationError,
                           "1 validation error detected: Value null at 'tags.%zu.member.value' "
                           "failed to satisfy constraint: Member must not be null",
                           i + 1);
        char *km = pd_arena_printf(&r->arena, "tags.%zu.member.key", i + 1);
        char *vm = pd_arena_printf(&r->arena, "tags.%zu.member.value", i + 1);
        if (!*k)
            return pd_iam_invalid(r, k, km, "Member must have length greater than or equal to 1");
        if (max_len(r, k, km, 128) || max_len(r, v, vm, 256))
            return PD_EAWS;
        if (!tag_text_ok(k))
            return pd_iam_invalid(r, k, km,
                                  "Member must satisfy regular expression pattern: "
                                  "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+");
        if (!tag_text_ok(v))
            return pd_iam_invalid(r, v, vm,
                                  "Member must satisfy regular expression pattern: "
                                  "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");
        for (j = 0; j < i; j++) {
            const char *k2 = json_string_value(json_object_get(json_array_get(tags, j), "Key"));
            if (k2 && pd_strcaseeq(k, k2))
                return pd_fail(r, &IAM_InvalidInput,
                               "Duplicate tag keys found. Please note that Tag keys are case "
                               "insensitive.");
        }
    }
    return PD_OK;
}

int pd_iam_tags_apply(struct pd_req *r, enum pd_iam_kind kind, int64_t id, json_t *tags)
{
    if (pd_iam_check_tags(r, tags))
        return PD_EAWS;
    if (!tags || !json_array_size(tags))
        return PD_OK;
    int64_t have = 0, added = 0;
    int rc = pd_iam_db_tag_count(r->db, kind, id, &have);
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        if (rc)
            break;
        int e = pd_iam_db_tag_exists(r->db, kind, id, json_string_value(json_object_get(t, "Key")));
        if (e < 0)
            rc = e;
        else
            added += !e;
    }
    if (rc)
        return pd_iam_store_fail(r, rc);
    if (have + added > PD_IAM_MAX_TAGS)
        return pd_fail(r, &IAM_LimitExceeded, "The number of tags has reached the maximum limit.");
    json_array_foreach(tags, i, t)
    {
        rc = pd_iam_db_tag_put(r->db, kind, id, json_string_value(json_object_get(t, "Key")),
                               json_string_value(json_object_get(t, "Value")));
        if (rc)
            return pd_iam_store_fail(r, rc);
    }
    return PD_OK;
}

int pd_iam_tags_remove(struct pd_req *r, enum pd_iam_kind kind, int64_t id, json_t *keys)
{
    if (!json_is_array(keys))
        return pd_fail(r, &PD_ERR_ValidationError,
                       "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                       "constraint: Member must not be null");
    if (json_array_size(keys) > PD_IAM_MAX_TAGS)
        return pd_fail(r, &PD_ERR_ValidationError,
                       "1 validation error detected: Value at 'tagKeys' failed to satisfy "
                       "constraint: Member must have length less than or equal to 50");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *key = json_string_value(k);
        if (!key)
            continue;
        int rc = pd_iam_db_tag_del(r->db, kind, id, key);
        if (rc)
            return pd_iam_store_fail(r, rc);
    }
    return PD_OK;
}

int pd_iam_tags_list(struct pd_req *r, enum pd_iam_kind kind, int64_t id)
{
    struct pd_iam_tag *tags;
    size_t n;
    int rc = pd_iam_db_tags_get(r->db, &r->arena, kind, id, &tags, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    return pd_iam_paginate(r, pd_iam_tags_json(tags, n), "Tags");
}

/* ------------------------------------------------------------------------------------ */
/* policy documents */

size_t pd_iam_doc_size(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && (*p & 0xc0) != 0x80)
            n++;
    return n;
}

int pd_iam_validate_policy_document(struct pd_req *r, const char *text, enum pd_iam_doc_kind kind)
{
    /* Size quotas first (AWS refuses an oversized document before reading it), then the
     * compile: done once, here, when written; requests later find the compiled form in the
     * cache by content. */
    enum pd_policy_kind pk = kind == PD_IAM_DOC_MANAGED ? PD_POLICY_MANAGED
                             : kind == PD_IAM_DOC_TRUST ? PD_POLICY_TRUST
                                                        : PD_POLICY_INLINE;
    size_t n = pd_iam_doc_size(text);
    if (kind == PD_IAM_DOC_MANAGED && n > 6144)
        return pd_fail(r, &IAM_LimitExceeded, "Cannot exceed quota for PolicySize: 6144");
    if (kind == PD_IAM_DOC_TRUST && n > 2048)
        return pd_fail(r, &IAM_LimitExceeded, "Cannot exceed quota for ACLSizePerRole: 2048");
    char err[256];
    const char *why = NULL;
    int rc;
    if (r->env->policies) {
        struct pd_cached_policy *h = NULL;
        rc = pd_policy_cache_get(r->env->policies, pk, text, strlen(text), err, sizeof err, &h,
                                 &why);
        pd_policy_cache_release(r->env->policies, h);
    } else {
        struct pd_policy *p = NULL;
        rc = pd_policy_compile(text, strlen(text), pk, err, sizeof err, &p, &why);
        pd_policy_free(p);
    }
    if (rc)
        return pd_fail(r, &IAM_MalformedPolicyDocument, "%s",
                       why ? why : "Syntax errors in policy.");
    return PD_OK;
}

int pd_iam_check_inline_size(struct pd_req *r, enum pd_iam_kind kind, int64_t id,
                             const char *entity_name, const char *policy_name, const char *document)
{
    static const size_t limits[] = {2048, 5120, 10240};
    static const char *const words[] = {"user", "group", "role"};
    struct pd_iam_inline *v;
    size_t n;
    int rc = pd_iam_db_inline_list(r->db, &r->arena, kind, id, &v, &n);
    if (rc)
        return pd_iam_store_fail(r, rc);
    size_t total = pd_iam_doc_size(document);
    for (size_t i = 0; i < n; i++)
        if (!pd_strcaseeq(v[i].name, policy_name))
            total += pd_iam_doc_size(v[i].document);
    if (total > limits[kind])
        return pd_fail(r, &IAM_LimitExceeded, "Maximum policy size of %zu bytes exceeded for %s %s",
                       limits[kind], words[kind], entity_name);
    return PD_OK;
}

/* One "AWS" principal: an IAM user or role of an account podiam holds must exist. */
static int check_principal(struct pd_req *r, const char *p)
{
    struct pd_arn arn;
    if (!pd_has_prefix(p, "arn:") || pd_arn_parse(&r->arena, p, &arn) ||
        strcmp(arn.service, "iam") != 0)
        return PD_OK;
    const char *type, *path, *name;
    if (pd_arn_resource_split(&r->arena, arn.resource, &type, &path, &name))
        return PD_OK;
    int is_role = strcmp(type, "role") == 0, is_user = strcmp(type, "user") == 0;
    if ((!is_role && !is_user) || strchr(name, '*'))
        return PD_OK;
    if (pd_iam_db_account_get(r->db, arn.account, NULL) != PD_OK)
        return PD_OK; /* an account podiam does not hold: nothing to check against */
    int rc;
    const char *found_path = NULL;
    if (is_role) {
        struct pd_iam_role x;
        rc = pd_iam_db_role_get(r->db, &r->arena, arn.account, name, &x);
        found_path = rc ? NULL : x.path;
    } else {
        struct pd_iam_user x;
        rc = pd_iam_db_user_get(r->db, &r->arena, arn.account, name, &x);
        found_path = rc ? NULL : x.path;
    }
    if (rc && rc != PD_ENOTFOUND)
        return pd_iam_store_fail(r, rc);
    if (rc || strcmp(found_path, path) != 0)
        return pd_fail(r, &IAM_MalformedPolicyDocument,
                       "Invalid principal in policy: \"AWS\":\"%s\"", p);
    return PD_OK;
}

static int check_statement_principals(struct pd_req *r, json_t *st)
{
    json_t *aws = json_object_get(json_object_get(st, "Principal"), "AWS");
    if (json_is_string(aws))
        return check_principal(r, json_string_value(aws));
    size_t i;
    json_t *v;
    json_array_foreach(aws, i, v)
    {
        if (json_is_string(v) && check_principal(r, json_string_value(v)))
            return PD_EAWS;
    }
    return PD_OK;
}

int pd_iam_check_trust_principals(struct pd_req *r, const char *document)
{
    json_t *doc = json_loads(document, 0, NULL);
    json_t *st = json_object_get(doc, "Statement");
    int rc = PD_OK;
    if (json_is_object(st)) {
        rc = check_statement_principals(r, st);
    } else {
        size_t i;
        json_t *s;
        json_array_foreach(st, i, s)
        {
            if ((rc = check_statement_principals(r, s)))
                break;
        }
    }
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------------------------ */
/* lookups */

int pd_iam_store_fail(struct pd_req *r, int rc)
{
    if (rc == PD_OK || rc == PD_EAWS)
        return rc;
    return pd_fail(r, &IAM_ServiceFailure,
                   "The request processing has failed because of an "
                   "unknown error, exception or failure.");
}

int pd_iam_user_find(struct pd_req *r, const char *name, struct pd_iam_user *OUT)
{
    int rc = pd_iam_db_user_get(r->db, &r->arena, pd_iam_account(r), name, OUT);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "The user with name %s cannot be found.", name);
    return pd_iam_store_fail(r, rc);
}

int pd_iam_group_find(struct pd_req *r, const char *name, struct pd_iam_group *OUT)
{
    int rc = pd_iam_db_group_get(r->db, &r->arena, pd_iam_account(r), name, OUT);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "The group with name %s cannot be found.", name);
    return pd_iam_store_fail(r, rc);
}

int pd_iam_role_find(struct pd_req *r, const char *name, struct pd_iam_role *OUT)
{
    int rc = pd_iam_db_role_get(r->db, &r->arena, pd_iam_account(r), name, OUT);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity, "The role with name %s cannot be found.", name);
    return pd_iam_store_fail(r, rc);
}

int pd_iam_policy_find(struct pd_req *r, const char *arn, int attachable, struct pd_iam_policy *OUT)
{
    struct pd_arn a;
    if (pd_arn_parse(&r->arena, arn, &a) || strcmp(a.service, "iam") != 0 ||
        !pd_has_prefix(a.resource, "policy/"))
        return pd_fail(r, &IAM_InvalidInput, "ARN %s is not valid.", arn);
    int rc = pd_iam_db_policy_get(r->db, &r->arena, pd_iam_account(r), arn, OUT);
    if (rc == PD_OK && !OUT->aws_managed && strcmp(OUT->account_id, pd_iam_account(r)) != 0)
        rc = PD_ENOTFOUND;
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &IAM_NoSuchEntity,
                       attachable ? "Policy %s does not exist or is not attachable."
                                  : "Policy %s was not found.",
                       arn);
    return pd_iam_store_fail(r, rc);
}

/* ------------------------------------------------------------------------------------ */
/* output */

json_t *pd_iam_out(struct pd_req *r)
{
    if (!r->out)
        r->out = json_object();
    return r->out;
}

json_t *pd_iam_time(int64_t ms)
{
    return json_integer(ms); /* the codecs take timestamps as epoch milliseconds */
}

json_t *pd_iam_doc(struct pd_req *r, const char *text)
{
    return json_string(pd_url_encode(&r->arena, text, strlen(text), 0));
}

json_t *pd_iam_tags_json(const struct pd_iam_tag *tags, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a,
                              json_pack("{s:s, s:s}", "Key", tags[i].key, "Value", tags[i].value));
    return a;
}

json_t *pd_iam_boundary_json(const char *arn)
{
    return json_pack("{s:s, s:s}", "PermissionsBoundaryType", "PermissionsBoundaryPolicy",
                     "PermissionsBoundaryArn", arn);
}

static void add_tags(struct pd_req *r, json_t *o, enum pd_iam_kind kind, int64_t id)
{
    struct pd_iam_tag *tags;
    size_t n;
    if (pd_iam_db_tags_get(r->db, &r->arena, kind, id, &tags, &n) == PD_OK && n)
        json_object_set_new(o, "Tags", pd_iam_tags_json(tags, n));
}

json_t *pd_iam_user_json(struct pd_req *r, const struct pd_iam_user *u, int flags)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:o}", "Path", u->path, "UserName", u->name, "UserId",
                  u->unique_id, "Arn", u->arn, "CreateDate", pd_iam_time(u->created_ms));
    if (flags & PD_IAM_FULL) {
        if (u->boundary_arn)
            json_object_set_new(o, "PermissionsBoundary", pd_iam_boundary_json(u->boundary_arn));
        add_tags(r, o, PD_IAM_USER, u->id);
    }
    return o;
}

json_t *pd_iam_group_json(const struct pd_iam_group *g)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "Path", g->path, "GroupName", g->name, "GroupId",
                     g->unique_id, "Arn", g->arn, "CreateDate", pd_iam_time(g->created_ms));
}

json_t *pd_iam_role_json(struct pd_req *r, const struct pd_iam_role *role, int flags)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "Path", role->path, "RoleName",
                          role->name, "RoleId", role->unique_id, "Arn", role->arn, "CreateDate",
                          pd_iam_time(role->created_ms), "AssumeRolePolicyDocument",
                          pd_iam_doc(r, role->trust_policy));
    if (role->description)
        json_object_set_new(o, "Description", json_string(role->description));
    json_object_set_new(o, "MaxSessionDuration", json_integer(role->max_session));
    if (flags & PD_IAM_FULL) {
        if (role->boundary_arn)
            json_object_set_new(o, "PermissionsBoundary", pd_iam_boundary_json(role->boundary_arn));
        add_tags(r, o, PD_IAM_ROLE, role->id);
        json_t *lu = json_object();
        if (role->last_used_ms) {
            json_object_set_new(lu, "LastUsedDate", pd_iam_time(role->last_used_ms));
            if (role->last_used_region)
                json_object_set_new(lu, "Region", json_string(role->last_used_region));
        }
        json_object_set_new(o, "RoleLastUsed", lu);
    }
    return o;
}

json_t *pd_iam_policy_json(struct pd_req *r, const struct pd_iam_policy *p, int flags)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:o, s:o}", "PolicyName",
                          p->name, "PolicyId", p->unique_id, "Arn", p->arn, "Path", p->path,
                          "DefaultVersionId", p->default_version, "AttachmentCount",
                          (json_int_t)p->attachment_count, "PermissionsBoundaryUsageCount",
                          (json_int_t)p->boundary_count, "IsAttachable", 1, "CreateDate",
                          pd_iam_time(p->created_ms), "UpdateDate", pd_iam_time(p->updated_ms));
    if (flags & PD_IAM_FULL) {
        if (p->description && *p->description)
            json_object_set_new(o, "Description", json_string(p->description));
        if (!p->aws_managed)
            add_tags(r, o, PD_IAM_POLICY, p->id);
    }
    return o;
}

/* Markers are opaque to clients: "pd1." + base64url of the offset of the next item. */
static int marker_decode(struct pd_req *r, const char *m, size_t *OUT)
{
    unsigned char *raw;
    size_t n;
    int64_t v;
    if (!pd_has_prefix(m, "pd1.") || pd_base64_decode(&r->arena, m + 4, strlen(m + 4), &raw, &n) ||
        n > 20)
        return PD_EINVAL;
    char buf[24];
    memcpy(buf, raw, n);
    buf[n] = '\0';
    if (pd_parse_i64(buf, 0, INT32_MAX, &v))
        return PD_EINVAL;
    *OUT = (size_t)v;
    return PD_OK;
}

int pd_iam_paginate(struct pd_req *r, json_t *items, const char *member)
{
    const char *marker = pd_iam_in_str(r, "Marker");
    int64_t max = pd_iam_in_int(r, "MaxItems", 100);
    size_t start = 0;
    if (max < 1 || max > 1000) {
        json_decref(items);
        return pd_fail(r, &PD_ERR_ValidationError,
                       "1 validation error detected: Value '%lld' at 'maxItems' failed to "
                       "satisfy constraint: Member must have value %s",
                       (long long)max,
                       max < 1 ? "greater than or equal to 1" : "less than or equal to 1000");
    }
    if (marker && marker_decode(r, marker, &start)) {
        json_decref(items);
        return pd_fail(r, &PD_ERR_ValidationError, "Invalid Marker.");
    }
    size_t n = json_array_size(items);
    if (start > n)
        start = n;
    json_t *page = json_array();
    for (size_t i = start; i < n && i < start + (size_t)max; i++)
        json_array_append(page, json_array_get(items, i));
    json_decref(items);
    json_t *out = pd_iam_out(r);
    json_object_set_new(out, member, page);
    int truncated = start + (size_t)max < n;
    json_object_set_new(out, "IsTruncated", json_boolean(truncated));
    if (truncated) {
        char buf[24];
        int len = snprintf(buf, sizeof buf, "%zu", start + (size_t)max);
        json_object_set_new(
            out, "Marker",
            json_string(pd_arena_printf(&r->arena, "pd1.%s",
                                        pd_base64_encode(&r->arena, buf, (size_t)len, 1))));
    }
    return PD_OK;
}

/* ------------------------------------------------------------------------------------ */
/* GetAccountAuthorizationDetails */

static json_t *inline_list_json(struct pd_req *r, enum pd_iam_kind kind, int64_t id)
{
    struct pd_iam_inline *v;
    size_t n;
    json_t *a = json_array();
    if (pd_iam_db_inline_list(r->db, &r->arena, kind, id, &v, &n) == PD_OK)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_pack("{s:s, s:o}", "PolicyName", v[i].name,
                                               "PolicyDocument", pd_iam_doc(r, v[i].document)));
    return a;
}

static json_t *attached_json(struct pd_req *r, enum pd_iam_kind kind, int64_t id)
{
    const char **arns;
    size_t n;
    json_t *a = json_array();
    if (pd_iam_db_attached_list(r->db, &r->arena, kind, id, &arns, &n) == PD_OK)
        for (size_t i = 0; i < n; i++) {
            const char *slash = strrchr(arns[i], '/');
            json_array_append_new(a, json_pack("{s:s, s:s}", "PolicyName",
                                               slash ? slash + 1 : arns[i], "PolicyArn", arns[i]));
        }
    return a;
}

static int filter_has(json_t *filter, const char *type)
{
    if (!json_is_array(filter) || !json_array_size(filter))
        return 1;
    size_t i;
    json_t *v;
    json_array_foreach(filter, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), type) == 0)
            return 1;
    }
    return 0;
}

int pd_iam_get_account_authorization_details(struct pd_req *r)
{
    const char *acct = pd_iam_account(r);
    json_t *filter = pd_iam_in(r, "Filter");
    json_t *items = json_array();
    int rc = PD_OK;
    size_t n, i;
    if (filter_has(filter, "User")) {
        struct pd_iam_user *u;
        if ((rc = pd_iam_db_user_list(r->db, &r->arena, acct, NULL, &u, &n)))
            goto out;
        for (i = 0; i < n; i++) {
            json_t *o = pd_iam_user_json(r, &u[i], PD_IAM_FULL);
            json_object_set_new(o, "UserPolicyList", inline_list_json(r, PD_IAM_USER, u[i].id));
            struct pd_iam_group *g;
            size_t ng;
            json_t *gl = json_array();
            if (pd_iam_db_user_groups(r->db, &r->arena, u[i].id, &g, &ng) == PD_OK)
                for (size_t k = 0; k < ng; k++)
                    json_array_append_new(gl, json_string(g[k].name));
            json_object_set_new(o, "GroupList", gl);
            json_object_set_new(o, "AttachedManagedPolicies",
                                attached_json(r, PD_IAM_USER, u[i].id));
            json_array_append_new(items, json_pack("{s:s, s:o}", "t", "UserDetailList", "v", o));
        }
    }
    if (filter_has(filter, "Group")) {
        struct pd_iam_group *g;
        if ((rc = pd_iam_db_group_list(r->db, &r->arena, acct, NULL, &g, &n)))
            goto out;
        for (i = 0; i < n; i++) {
            json_t *o = pd_iam_group_json(&g[i]);
            json_object_set_new(o, "GroupPolicyList", inline_list_json(r, PD_IAM_GROUP, g[i].id));
            json_object_set_new(o, "AttachedManagedPolicies",
                                attached_json(r, PD_IAM_GROUP, g[i].id));
            json_array_append_new(items, json_pack("{s:s, s:o}", "t", "GroupDetailList", "v", o));
        }
    }
    if (filter_has(filter, "Role")) {
        struct pd_iam_role *ro;
        if ((rc = pd_iam_db_role_list(r->db, &r->arena, acct, NULL, &ro, &n)))
            goto out;
        for (i = 0; i < n; i++) {
            json_t *o = pd_iam_role_json(r, &ro[i], PD_IAM_FULL);
            json_object_set_new(o, "InstanceProfileList", json_array());
            json_object_set_new(o, "RolePolicyList", inline_list_json(r, PD_IAM_ROLE, ro[i].id));
            json_object_set_new(o, "AttachedManagedPolicies",
                                attached_json(r, PD_IAM_ROLE, ro[i].id));
            json_array_append_new(items, json_pack("{s:s, s:o}", "t", "RoleDetailList", "v", o));
        }
    }
    int local = filter_has(filter, "LocalManagedPolicy"),
        aws = filter_has(filter, "AWSManagedPolicy");
    if (local || aws) {
        struct pd_iam_policy *p;
        enum pd_iam_scope scope = local && aws ? PD_IAM_SCOPE_ALL
                                  : local      ? PD_IAM_SCOPE_LOCAL
                                               : PD_IAM_SCOPE_AWS;
        if ((rc = pd_iam_db_policy_list(r->db, &r->arena, acct, scope, NULL, &p, &n)))
            goto out;
        for (i = 0; i < n; i++) {
            if (p[i].aws_managed && !p[i].attachment_count && !p[i].boundary_count)
                continue; /* AWS managed policies appear once the account uses them */
            json_t *o = pd_iam_policy_json(r, &p[i], 0);
            if (p[i].description && *p[i].description)
                json_object_set_new(o, "Description", json_string(p[i].description));
            struct pd_iam_policy_version *v;
            size_t nv;
            json_t *vl = json_array();
            if (pd_iam_db_version_list(r->db, &r->arena, &p[i], &v, &nv) == PD_OK)
                for (size_t k = 0; k < nv; k++)
                    json_array_append_new(vl, json_pack("{s:o, s:s, s:b, s:o}", "Document",
                                                        pd_iam_doc(r, v[k].document), "VersionId",
                                                        v[k].version_id, "IsDefaultVersion",
                                                        v[k].is_default, "CreateDate",
                                                        pd_iam_time(v[k].created_ms)));
            json_object_set_new(o, "PolicyVersionList", vl);
            json_array_append_new(items, json_pack("{s:s, s:o}", "t", "Policies", "v", o));
        }
    }
    if ((rc = pd_iam_paginate(r, items, "_items")))
        return rc;
    items = NULL;
    {
        json_t *out = pd_iam_out(r);
        json_t *page = json_incref(json_object_get(out, "_items"));
        json_object_del(out, "_items");
        const char *lists[] = {"UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"};
        for (i = 0; i < 4; i++)
            json_object_set_new(out, lists[i], json_array());
        json_t *it;
        json_array_foreach(page, i, it)
        {
            json_array_append(json_object_get(out, json_string_value(json_object_get(it, "t"))),
                              json_object_get(it, "v"));
        }
        json_decref(page);
    }
out:
    json_decref(items);
    return pd_iam_store_fail(r, rc);
}
