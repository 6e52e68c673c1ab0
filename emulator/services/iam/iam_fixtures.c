/*
 * iam_fixtures.c - load and export the IAM section of fixtures files (see iam_fixtures.h and
 * docs/fixtures.md).
 *
 * Loading builds, for each entry, the input an API call would carry and runs it through the
 * IAM service's functions as the account's root (pd_iam_do_create_* for what may carry fixed
 * ids and dates, the operation table for the rest), so fixtures meet exactly the API's rules.
 * Field names are checked against the format: an unknown field is an error naming it and
 * its place. Export reads the store through iam_db.h and writes the same shapes.
 */
#include "services/iam/iam_fixtures.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "req.h"
#include "services/iam/iam_internal.h"
#include "services/service.h"
#include "store/store.h"

extern const struct pd_service pd_svc_iam;

struct fx {
    struct pd_req *r;
    const char *origin;
    char *err; /* malloc'd */
};

static int fx_fail(struct fx *f, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fx_fail(struct fx *f, const char *where, const char *fmt, ...)
{
    if (f->err)
        return PD_EINVAL;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(msg) + strlen(where) + strlen(f->origin) + 32;
    f->err = pd_xmalloc(n);
    snprintf(f->err, n, "fixtures %s: %s: %s", f->origin, where, msg);
    return PD_EINVAL;
}

static int fields(struct fx *f, json_t *obj, const char *where, const char *const *known)
{
    if (!json_is_object(obj))
        return fx_fail(f, where, "expected an object");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok) {
            char list[512] = "";
            for (const char *const *k = known; *k; k++) {
                strncat(list, *k, sizeof list - strlen(list) - 3);
                if (k[1])
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return fx_fail(f, where, "unknown field \"%s\" (known fields: %s)", key, list);
        }
    }
    return PD_OK;
}

static const char *str_field(struct fx *f, json_t *obj, const char *key, const char *where,
                             int required)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            fx_fail(f, where, "missing field \"%s\"", key);
        return NULL;
    }
    if (!json_is_string(v)) {
        fx_fail(f, where, "field \"%s\" must be a string", key);
        return NULL;
    }
    return json_string_value(v);
}

static int time_field(struct fx *f, json_t *obj, const char *where, int64_t *OUT)
{
    *OUT = 0;
    json_t *v = json_object_get(obj, "created");
    if (!v)
        return PD_OK;
    if (!json_is_string(v) || pd_time_parse_iso8601(json_string_value(v), OUT))
        return fx_fail(f, where,
                       "field \"created\" must be an ISO 8601 time "
                       "(2024-01-31T12:00:00Z)");
    return PD_OK;
}

static char *where_at(struct fx *f, const char *parent, const char *list, size_t i,
                      const char *name)
{
    if (name)
        return pd_arena_printf(&f->r->arena, "%s.%s[%zu] (%s)", parent, list, i, name);
    return pd_arena_printf(&f->r->arena, "%s.%s[%zu]", parent, list, i);
}

/* A document: a JSON object written out compactly, or a string taken as the text. */
static const char *doc_text(struct fx *f, json_t *doc, const char *where, const char *field)
{
    if (json_is_string(doc))
        return json_string_value(doc);
    if (!json_is_object(doc)) {
        fx_fail(f, where, "field \"%s\" must be a policy document (a JSON object)", field);
        return NULL;
    }
    char *s = json_dumps(doc, JSON_COMPACT);
    char *out = pd_arena_strdup(&f->r->arena, s);
    free(s);
    return out;
}

/* {"key": "value", ...} as the API's Tags list. */
static json_t *tags_in(struct fx *f, json_t *tags, const char *where)
{
    if (!tags)
        return NULL;
    if (!json_is_object(tags)) {
        fx_fail(f, where, "field \"tags\" must be an object of key: value");
        return NULL;
    }
    json_t *list = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        if (!json_is_string(v)) {
            json_decref(list);
            fx_fail(f, where, "tag \"%s\" must have a string value", k);
            return NULL;
        }
        json_array_append_new(list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
    }
    return list;
}

/* Run one IAM function with this input (stolen) as the account root. */
static int call(struct fx *f, const char *where,
                int (*fn)(struct pd_req *, const struct pd_iam_fixed *), const char *op, json_t *in,
                const struct pd_iam_fixed *fx)
{
    struct pd_req *r = f->r;
    json_decref(r->in);
    json_decref(r->out);
    r->out = NULL;
    r->in = in;
    int rc = fn ? fn(r, fx) : pd_service_op(&pd_svc_iam, op)->fn(r);
    if (rc) {
        if (r->err.def)
            fx_fail(f, where, "%s: %s", r->err.def->code, r->err.message);
        else
            fx_fail(f, where, "%s", pd_strerror(rc));
        r->err.def = NULL;
        return PD_EINVAL;
    }
    return PD_OK;
}

/* inline_policies: {"name": document} */
static int load_inline(struct fx *f, json_t *obj, const char *where, const char *op,
                       const char *member, const char *name)
{
    json_t *pols = json_object_get(obj, "inline_policies");
    if (!pols)
        return PD_OK;
    if (!json_is_object(pols))
        return fx_fail(f, where, "field \"inline_policies\" must be an object of name: document");
    const char *pname;
    json_t *doc;
    json_object_foreach(pols, pname, doc)
    {
        const char *text = doc_text(f, doc, where, "inline_policies");
        if (!text || call(f, where, NULL, op,
                          json_pack("{s:s, s:s, s:s}", member, name, "PolicyName", pname,
                                    "PolicyDocument", text),
                          NULL))
            return PD_EINVAL;
    }
    return PD_OK;
}

/* attached_policies: ["arn", ...] */
static int load_attached(struct fx *f, json_t *obj, const char *where, const char *op,
                         const char *member, const char *name)
{
    json_t *arns = json_object_get(obj, "attached_policies");
    if (!arns)
        return PD_OK;
    if (!json_is_array(arns))
        return fx_fail(f, where, "field \"attached_policies\" must be a list of policy ARNs");
    size_t i;
    json_t *a;
    json_array_foreach(arns, i, a)
    {
        if (!json_is_string(a))
            return fx_fail(f, where, "attached_policies[%zu] must be a policy ARN", i);
        if (call(f, where, NULL, op, json_pack("{s:s, s:O}", member, name, "PolicyArn", a), NULL))
            return PD_EINVAL;
    }
    return PD_OK;
}

static int list_of(struct fx *f, json_t *obj, const char *key, const char *where, json_t **OUT)
{
    *OUT = json_object_get(obj, key);
    if (*OUT && !json_is_array(*OUT))
        return fx_fail(f, where, "field \"%s\" must be a list", key);
    return PD_OK;
}

static int load_keys(struct fx *f, json_t *keys, const char *where, const char *list,
                     const char *user)
{
    static const char *const known[] = {"id", "secret", "status", "created", NULL};
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        char *w = pd_arena_printf(&f->r->arena, "%s.%s[%zu]", where, list, i);
        struct pd_iam_fixed fx = {0};
        if (fields(f, k, w, known) || time_field(f, k, w, &fx.created_ms))
            return PD_EINVAL;
        fx.id = str_field(f, k, "id", w, 1);
        fx.secret = str_field(f, k, "secret", w, 1);
        fx.status = str_field(f, k, "status", w, 0);
        if (f->err)
            return PD_EINVAL;
        if (fx.status && strcmp(fx.status, "Active") && strcmp(fx.status, "Inactive"))
            return fx_fail(f, w, "field \"status\" must be Active or Inactive");
        if (strlen(fx.secret) < 1 || strlen(fx.id) < 4)
            return fx_fail(f, w, "access key id and secret must not be empty");
        json_t *in = user ? json_pack("{s:s}", "UserName", user) : json_object();
        if (call(f, w, pd_iam_do_create_access_key, NULL, in, &fx))
            return PD_EINVAL;
    }
    return PD_OK;
}

static int load_policies(struct fx *f, json_t *list, const char *where)
{
    static const char *const known[] = {"name",    "path",     "description", "tags", "id",
                                        "created", "document", "versions",    NULL};
    static const char *const vknown[] = {"id", "document", "default", "created", NULL};
    const char *acct = pd_iam_account(f->r);
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        char *w = where_at(f, where, "policies", i, name);
        struct pd_iam_fixed fx = {0};
        if (fields(f, p, w, known) || time_field(f, p, w, &fx.created_ms))
            return PD_EINVAL;
        name = str_field(f, p, "name", w, 1);
        const char *path = str_field(f, p, "path", w, 0);
        const char *desc = str_field(f, p, "description", w, 0);
        fx.id = str_field(f, p, "id", w, 0);
        json_t *versions = json_object_get(p, "versions"), *doc = json_object_get(p, "document");
        if (f->err)
            return PD_EINVAL;
        if (!versions == !doc)
            return fx_fail(f, w, "give either \"document\" or \"versions\"");
        if (versions && (!json_is_array(versions) || !json_array_size(versions)))
            return fx_fail(f, w, "field \"versions\" must be a non-empty list");
        json_t *first = versions ? json_array_get(versions, 0) : NULL;
        char *w0 = pd_arena_printf(&f->r->arena, "%s.versions[0]", w);
        if (first) {
            int64_t vcreated;
            if (fields(f, first, w0, vknown) || time_field(f, first, w0, &vcreated))
                return PD_EINVAL;
            fx.version_id = str_field(f, first, "id", w0, 1);
            doc = json_object_get(first, "document");
            if (!fx.version_id)
                return PD_EINVAL;
        }
        const char *text = doc_text(f, doc, first ? w0 : w, "document");
        json_t *tags = tags_in(f, json_object_get(p, "tags"), w);
        if (!text || f->err) {
            json_decref(tags);
            return PD_EINVAL;
        }
        json_t *in = json_pack("{s:s, s:s}", "PolicyName", name, "PolicyDocument", text);
        if (path)
            json_object_set_new(in, "Path", json_string(path));
        if (desc)
            json_object_set_new(in, "Description", json_string(desc));
        if (tags)
            json_object_set_new(in, "Tags", tags);
        if (call(f, w, pd_iam_do_create_policy, NULL, in, &fx))
            return PD_EINVAL;
        const char *arn = pd_arena_printf(&f->r->arena, "arn:aws:iam::%s:policy%s%s", acct,
                                          path ? path : "/", name);
        size_t k;
        json_t *v;
        json_array_foreach(versions, k, v)
        {
            if (k == 0)
                continue;
            char *wv = pd_arena_printf(&f->r->arena, "%s.versions[%zu]", w, k);
            int64_t vcreated;
            if (fields(f, v, wv, vknown) || time_field(f, v, wv, &vcreated))
                return PD_EINVAL;
            const char *vid = str_field(f, v, "id", wv, 1);
            const char *vtext = doc_text(f, json_object_get(v, "document"), wv, "document");
            if (!vid || !vtext)
                return PD_EINVAL;
            if (!pd_has_prefix(vid, "v") || strtol(vid + 1, NULL, 10) < 1)
                return fx_fail(f, wv, "field \"id\" must be v1, v2, ...");
            json_decref(f->r->out);
            f->r->out = NULL;
            if (pd_iam_add_policy_version(f->r, arn, vid, vtext, vcreated,
                                          json_is_true(json_object_get(v, "default")))) {
                fx_fail(f, wv, "%s: %s", f->r->err.def->code, f->r->err.message);
                f->r->err.def = NULL;
                return PD_EINVAL;
            }
        }
        /* the first version may be the default after later ones were added */
        if (first && json_is_true(json_object_get(first, "default")) &&
            json_array_size(versions) > 1 &&
            call(f, w, NULL, "SetDefaultPolicyVersion",
                 json_pack("{s:s, s:s}", "PolicyArn", arn, "VersionId", fx.version_id), NULL))
            return PD_EINVAL;
    }
    return PD_OK;
}

static int load_groups(struct fx *f, json_t *list, const char *where)
{
    static const char *const known[] = {
        "name", "path", "id", "created", "inline_policies", "attached_policies", NULL};
    size_t i;
    json_t *g;
    json_array_foreach(list, i, g)
    {
        const char *name = json_string_value(json_object_get(g, "name"));
        char *w = where_at(f, where, "groups", i, name);
        struct pd_iam_fixed fx = {0};
        if (fields(f, g, w, known) || time_field(f, g, w, &fx.created_ms))
            return PD_EINVAL;
        name = str_field(f, g, "name", w, 1);
        const char *path = str_field(f, g, "path", w, 0);
        fx.id = str_field(f, g, "id", w, 0);
        if (f->err)
            return PD_EINVAL;
        json_t *in = json_pack("{s:s}", "GroupName", name);
        if (path)
            json_object_set_new(in, "Path", json_string(path));
        if (call(f, w, pd_iam_do_create_group, NULL, in, &fx) ||
            load_inline(f, g, w, "PutGroupPolicy", "GroupName", name) ||
            load_attached(f, g, w, "AttachGroupPolicy", "GroupName", name))
            return PD_EINVAL;
    }
    return PD_OK;
}

static int load_users(struct fx *f, json_t *list, const char *where)
{
    static const char *const known[] = {"name",
                                        "path",
                                        "id",
                                        "created",
                                        "tags",
                                        "groups",
                                        "access_keys",
                                        "inline_policies",
                                        "attached_policies",
                                        "permissions_boundary",
                                        NULL};
    size_t i;
    json_t *u;
    json_array_foreach(list, i, u)
    {
        const char *name = json_string_value(json_object_get(u, "name"));
        char *w = where_at(f, where, "users", i, name);
        struct pd_iam_fixed fx = {0};
        json_t *groups, *keys;
        if (fields(f, u, w, known) || time_field(f, u, w, &fx.created_ms) ||
            list_of(f, u, "groups", w, &groups) || list_of(f, u, "access_keys", w, &keys))
            return PD_EINVAL;
        name = str_field(f, u, "name", w, 1);
        const char *path = str_field(f, u, "path", w, 0);
        const char *boundary = str_field(f, u, "permissions_boundary", w, 0);
        fx.id = str_field(f, u, "id", w, 0);
        json_t *tags = tags_in(f, json_object_get(u, "tags"), w);
        if (f->err) {
            json_decref(tags);
            return PD_EINVAL;
        }
        json_t *in = json_pack("{s:s}", "UserName", name);
        if (path)
            json_object_set_new(in, "Path", json_string(path));
        if (boundary)
            json_object_set_new(in, "PermissionsBoundary", json_string(boundary));
        if (tags)
            json_object_set_new(in, "Tags", tags);
        if (call(f, w, pd_iam_do_create_user, NULL, in, &fx))
            return PD_EINVAL;
        size_t k;
        json_t *g;
        json_array_foreach(groups, k, g)
        {
            if (!json_is_string(g))
                return fx_fail(f, w, "groups[%zu] must be a group name", k);
            if (call(f, w, NULL, "AddUserToGroup",
                     json_pack("{s:O, s:s}", "GroupName", g, "UserName", name), NULL))
                return PD_EINVAL;
        }
        if ((keys && load_keys(f, keys, pd_arena_printf(&f->r->arena, "%s.users[%zu]", where, i),
                               "access_keys", name)) ||
            load_inline(f, u, w, "PutUserPolicy", "UserName", name) ||
            load_attached(f, u, w, "AttachUserPolicy", "UserName", name))
            return PD_EINVAL;
    }
    return PD_OK;
}

static int load_roles(struct fx *f, json_t *list, const char *where)
{
    static const char *const known[] = {"name",
                                        "path",
                                        "id",
                                        "created",
                                        "description",
                                        "max_session_duration",
                                        "trust_policy",
                                        "tags",
                                        "inline_policies",
                                        "attached_policies",
                                        "permissions_boundary",
                                        NULL};
    size_t i;
    json_t *ro;
    json_array_foreach(list, i, ro)
    {
        const char *name = json_string_value(json_object_get(ro, "name"));
        char *w = where_at(f, where, "roles", i, name);
        struct pd_iam_fixed fx = {0};
        if (fields(f, ro, w, known) || time_field(f, ro, w, &fx.created_ms))
            return PD_EINVAL;
        name = str_field(f, ro, "name", w, 1);
        const char *path = str_field(f, ro, "path", w, 0);
        const char *desc = str_field(f, ro, "description", w, 0);
        const char *boundary = str_field(f, ro, "permissions_boundary", w, 0);
        fx.id = str_field(f, ro, "id", w, 0);
        json_t *ms = json_object_get(ro, "max_session_duration");
        if (ms && !json_is_integer(ms))
            return fx_fail(f, w, "field \"max_session_duration\" must be a number of seconds");
        json_t *trust = json_object_get(ro, "trust_policy");
        if (!trust && !f->err)
            return fx_fail(f, w, "missing field \"trust_policy\"");
        const char *text = f->err ? NULL : doc_text(f, trust, w, "trust_policy");
        json_t *tags = text ? tags_in(f, json_object_get(ro, "tags"), w) : NULL;
        if (f->err) {
            json_decref(tags);
            return PD_EINVAL;
        }
        json_t *in = json_pack("{s:s, s:s}", "RoleName", name, "AssumeRolePolicyDocument", text);
        if (path)
            json_object_set_new(in, "Path", json_string(path));
        if (desc)
            json_object_set_new(in, "Description", json_string(desc));
        if (ms)
            json_object_set(in, "MaxSessionDuration", ms);
        if (boundary)
            json_object_set_new(in, "PermissionsBoundary", json_string(boundary));
        if (tags)
            json_object_set_new(in, "Tags", tags);
        if (call(f, w, pd_iam_do_create_role, NULL, in, &fx) ||
            load_inline(f, ro, w, "PutRolePolicy", "RoleName", name) ||
            load_attached(f, ro, w, "AttachRolePolicy", "RoleName", name))
            return PD_EINVAL;
    }
    return PD_OK;
}

static int load_oidc(struct fx *f, json_t *list, const char *where)
{
    static const char *const known[] = {"url",  "client_ids", "thumbprints",
                                        "tags", "created",    NULL};
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        const char *url = json_string_value(json_object_get(o, "url"));
        char *w = where_at(f, where, "oidc_providers", i, url);
        struct pd_iam_fixed fx = {0};
        json_t *clients, *thumbs;
        if (fields(f, o, w, known) || time_field(f, o, w, &fx.created_ms) ||
            list_of(f, o, "client_ids", w, &clients) || list_of(f, o, "thumbprints", w, &thumbs))
            return PD_EINVAL;
        url = str_field(f, o, "url", w, 1);
        json_t *tags = url ? tags_in(f, json_object_get(o, "tags"), w) : NULL;
        if (f->err) {
            json_decref(tags);
            return PD_EINVAL;
        }
        json_t *in = json_pack("{s:s}", "Url", url);
        if (clients)
            json_object_set(in, "ClientIDList", clients);
        if (thumbs)
            json_object_set(in, "ThumbprintList", thumbs);
        if (tags)
            json_object_set_new(in, "Tags", tags);
        if (call(f, w, pd_iam_do_create_oidc, NULL, in, &fx))
            return PD_EINVAL;
    }
    return PD_OK;
}

static int load_account(struct fx *f, json_t *a, size_t i)
{
    static const char *const known[] = {"id",    "root_access_keys", "policies", "groups", "users",
                                        "roles", "oidc_providers",   NULL};
    const char *id = json_string_value(json_object_get(a, "id"));
    char *w = where_at(f, "iam", "accounts", i, id);
    char *path = pd_arena_printf(&f->r->arena, "iam.accounts[%zu]", i);
    json_t *keys, *pols, *groups, *users, *roles, *oidc;
    if (fields(f, a, w, known) || list_of(f, a, "root_access_keys", w, &keys) ||
        list_of(f, a, "policies", w, &pols) || list_of(f, a, "groups", w, &groups) ||
        list_of(f, a, "users", w, &users) || list_of(f, a, "roles", w, &roles) ||
        list_of(f, a, "oidc_providers", w, &oidc))
        return PD_EINVAL;
    id = str_field(f, a, "id", w, 1);
    if (!id)
        return PD_EINVAL;
    int digits = strlen(id) == 12;
    for (const char *p = id; digits && *p; p++)
        digits = *p >= '0' && *p <= '9';
    if (!digits)
        return fx_fail(f, w, "field \"id\" must be a 12-digit account id");
    int rc = pd_iam_db_account_put(f->r->db, id, 0);
    if (rc)
        return fx_fail(f, w, "store: %s", pd_strerror(rc));
    f->r->who.kind = PD_CALLER_ROOT;
    f->r->who.account_id = pd_arena_strdup(&f->r->arena, id);
    if ((keys && load_keys(f, keys, path, "root_access_keys", NULL)) ||
        (pols && load_policies(f, pols, path)) || (groups && load_groups(f, groups, path)) ||
        (users && load_users(f, users, path)) || (roles && load_roles(f, roles, path)) ||
        (oidc && load_oidc(f, oidc, path)))
        return PD_EINVAL;
    return PD_OK;
}

int pd_iam_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *iam, const char *origin,
                         char **OUT_err)
{
    static const char *const known[] = {"accounts", NULL};
    struct fx f = {.origin = origin ? origin : "(inline)"};
    *OUT_err = NULL;
    int own_txn = !pd_db_in_txn(db), rc;
    if (own_txn && (rc = pd_db_begin(db, 1))) {
        *OUT_err = pd_xstrdup("fixtures: cannot begin a transaction");
        return rc;
    }
    f.r = pd_req_new(env);
    f.r->db = db;
    rc = pd_iam_db_bootstrap(db);
    if (rc) {
        fx_fail(&f, "iam", "store: %s", pd_strerror(rc));
        goto out;
    }
    json_t *accounts;
    if ((rc = fields(&f, iam, "iam", known)) ||
        (rc = list_of(&f, iam, "accounts", "iam", &accounts)))
        goto out;
    size_t i;
    json_t *a;
    json_array_foreach(accounts, i, a)
    {
        if ((rc = load_account(&f, a, i)))
            goto out;
    }
out:
    pd_req_free(f.r);
    if (f.err)
        rc = PD_EINVAL;
    if (own_txn) {
        if (rc)
            pd_db_rollback(db);
        else if ((rc = pd_db_commit(db)))
            f.err = pd_xstrdup("fixtures: commit failed");
    }
    *OUT_err = f.err;
    return rc;
}

int pd_iam_fixtures_load_file(struct pd_env *env, struct pd_db *db, const char *path,
                              char **OUT_err)
{
    json_error_t e;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    *OUT_err = NULL;
    if (!root) {
        size_t n = strlen(path) + strlen(e.text) + 64;
        *OUT_err = pd_xmalloc(n);
        snprintf(*OUT_err, n, "fixtures %s:%d:%d: %s", path, e.line, e.column, e.text);
        return PD_EINVAL;
    }
    json_t *iam = json_object_get(root, "iam");
    int rc = iam ? pd_iam_fixtures_load(env, db, iam, path, OUT_err) : PD_OK;
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------------------------ */
/* export */

static json_t *doc_json(const char *text)
{
    json_t *d = json_loads(text, 0, NULL);
    if (json_is_object(d))
        return d;
    json_decref(d);
    return json_string(text);
}

static json_t *time_json(int64_t ms)
{
    char buf[32];
    pd_time_iso8601(ms, ms % 1000 != 0, buf);
    return json_string(buf);
}

static void set_path(json_t *o, const char *path)
{
    if (strcmp(path, "/") != 0)
        json_object_set_new(o, "path", json_string(path));
}

static int export_tags(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind, int64_t id,
                       json_t *o)
{
    struct pd_iam_tag *t;
    size_t n;
    int rc = pd_iam_db_tags_get(db, a, kind, id, &t, &n);
    if (rc || !n)
        return rc;
    json_t *tags = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(tags, t[i].key, json_string(t[i].value));
    json_object_set_new(o, "tags", tags);
    return PD_OK;
}

static int export_policies_of(struct pd_db *db, struct pd_arena *a, enum pd_iam_kind kind,
                              int64_t id, json_t *o)
{
    struct pd_iam_inline *v;
    size_t n;
    int rc = pd_iam_db_inline_list(db, a, kind, id, &v, &n);
    if (rc)
        return rc;
    if (n) {
        json_t *pols = json_object();
        for (size_t i = 0; i < n; i++)
            json_object_set_new(pols, v[i].name, doc_json(v[i].document));
        json_object_set_new(o, "inline_policies", pols);
    }
    const char **arns;
    if ((rc = pd_iam_db_attached_list(db, a, kind, id, &arns, &n)))
        return rc;
    if (n) {
        json_t *l = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(l, json_string(arns[i]));
        json_object_set_new(o, "attached_policies", l);
    }
    return PD_OK;
}

static json_t *keys_json(const struct pd_iam_access_key *k, size_t n, int skip_default)
{
    json_t *l = json_array();
    for (size_t i = 0; i < n; i++) {
        if (skip_default && strcmp(k[i].access_key_id, "test") == 0 &&
            strcmp(k[i].secret, "test") == 0)
            continue;
        json_t *o = json_pack("{s:s, s:s}", "id", k[i].access_key_id, "secret", k[i].secret);
        if (strcmp(k[i].status, "Active") != 0)
            json_object_set_new(o, "status", json_string(k[i].status));
        json_object_set_new(o, "created", time_json(k[i].created_ms));
        json_array_append_new(l, o);
    }
    return l;
}

static int export_account(struct pd_db *db, struct pd_arena *a, const char *acct, json_t **OUT)
{
    json_t *o = json_pack("{s:s}", "id", acct);
    int rc;
    size_t n, i, k;
    struct pd_iam_access_key *keys;
    if ((rc = pd_iam_db_key_list(db, a, acct, 0, &keys, &n)))
        goto out;
    json_t *rk = keys_json(keys, n, strcmp(acct, PD_IAM_DEFAULT_ACCOUNT) == 0);
    if (json_array_size(rk))
        json_object_set_new(o, "root_access_keys", rk);
    else
        json_decref(rk);

    struct pd_iam_policy *p;
    if ((rc = pd_iam_db_policy_list(db, a, acct, PD_IAM_SCOPE_LOCAL, NULL, &p, &n)))
        goto out;
    json_t *pl = json_array();
    json_object_set_new(o, "policies", pl);
    for (i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s}", "name", p[i].name);
        json_array_append_new(pl, e);
        set_path(e, p[i].path);
        if (p[i].description)
            json_object_set_new(e, "description", json_string(p[i].description));
        json_object_set_new(e, "id", json_string(p[i].unique_id));
        json_object_set_new(e, "created", time_json(p[i].created_ms));
        if ((rc = export_tags(db, a, PD_IAM_POLICY, p[i].id, e)))
            goto out;
        struct pd_iam_policy_version *v;
        size_t nv;
        if ((rc = pd_iam_db_version_list(db, a, &p[i], &v, &nv)))
            goto out;
        if (nv == 1 && strcmp(v[0].version_id, "v1") == 0 && v[0].created_ms == p[i].created_ms) {
            json_object_set_new(e, "document", doc_json(v[0].document));
            continue;
        }
        json_t *vl = json_array();
        for (k = nv; k-- > 0;) {
            json_t *ve =
                json_pack("{s:s, s:o}", "id", v[k].version_id, "document", doc_json(v[k].document));
            if (v[k].is_default)
                json_object_set_new(ve, "default", json_true());
            json_object_set_new(ve, "created", time_json(v[k].created_ms));
            json_array_append_new(vl, ve);
        }
        json_object_set_new(e, "versions", vl);
    }

    struct pd_iam_group *g;
    if ((rc = pd_iam_db_group_list(db, a, acct, NULL, &g, &n)))
        goto out;
    json_t *gl = json_array();
    json_object_set_new(o, "groups", gl);
    for (i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s}", "name", g[i].name);
        json_array_append_new(gl, e);
        set_path(e, g[i].path);
        json_object_set_new(e, "id", json_string(g[i].unique_id));
        json_object_set_new(e, "created", time_json(g[i].created_ms));
        if ((rc = export_policies_of(db, a, PD_IAM_GROUP, g[i].id, e)))
            goto out;
    }

    struct pd_iam_user *u;
    if ((rc = pd_iam_db_user_list(db, a, acct, NULL, &u, &n)))
        goto out;
    json_t *ul = json_array();
    json_object_set_new(o, "users", ul);
    for (i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s}", "name", u[i].name);
        json_array_append_new(ul, e);
        set_path(e, u[i].path);
        json_object_set_new(e, "id", json_string(u[i].unique_id));
        json_object_set_new(e, "created", time_json(u[i].created_ms));
        if ((rc = export_tags(db, a, PD_IAM_USER, u[i].id, e)))
            goto out;
        struct pd_iam_group *ug;
        size_t ng;
        if ((rc = pd_iam_db_user_groups(db, a, u[i].id, &ug, &ng)))
            goto out;
        if (ng) {
            json_t *names = json_array();
            for (k = 0; k < ng; k++)
                json_array_append_new(names, json_string(ug[k].name));
            json_object_set_new(e, "groups", names);
        }
        if ((rc = pd_iam_db_key_list(db, a, acct, u[i].id, &keys, &k)))
            goto out;
        if (k)
            json_object_set_new(e, "access_keys", keys_json(keys, k, 0));
        if ((rc = export_policies_of(db, a, PD_IAM_USER, u[i].id, e)))
            goto out;
        if (u[i].boundary_arn)
            json_object_set_new(e, "permissions_boundary", json_string(u[i].boundary_arn));
    }

    struct pd_iam_role *ro;
    if ((rc = pd_iam_db_role_list(db, a, acct, NULL, &ro, &n)))
        goto out;
    json_t *rl = json_array();
    json_object_set_new(o, "roles", rl);
    for (i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s}", "name", ro[i].name);
        json_array_append_new(rl, e);
        set_path(e, ro[i].path);
        json_object_set_new(e, "id", json_string(ro[i].unique_id));
        json_object_set_new(e, "created", time_json(ro[i].created_ms));
        if (ro[i].description)
            json_object_set_new(e, "description", json_string(ro[i].description));
        if (ro[i].max_session != 3600)
            json_object_set_new(e, "max_session_duration", json_integer(ro[i].max_session));
        json_object_set_new(e, "trust_policy", doc_json(ro[i].trust_policy));
        if ((rc = export_tags(db, a, PD_IAM_ROLE, ro[i].id, e)) ||
            (rc = export_policies_of(db, a, PD_IAM_ROLE, ro[i].id, e)))
            goto out;
        if (ro[i].boundary_arn)
            json_object_set_new(e, "permissions_boundary", json_string(ro[i].boundary_arn));
    }

    struct pd_iam_oidc *ov;
    if ((rc = pd_iam_db_oidc_list(db, a, acct, &ov, &n)))
        goto out;
    json_t *ol = json_array();
    json_object_set_new(o, "oidc_providers", ol);
    for (i = 0; i < n; i++) {
        struct pd_iam_oidc full;
        if ((rc = pd_iam_db_oidc_get(db, a, acct, ov[i].url, &full)))
            goto out;
        json_t *e = json_pack("{s:s}", "url", pd_arena_printf(a, "https://%s", full.url));
        json_array_append_new(ol, e);
        json_t *cl = json_array(), *tl = json_array();
        for (k = 0; k < full.nclient_ids; k++)
            json_array_append_new(cl, json_string(full.client_ids[k]));
        for (k = 0; k < full.nthumbprints; k++)
            json_array_append_new(tl, json_string(full.thumbprints[k]));
        json_object_set_new(e, "client_ids", cl);
        json_object_set_new(e, "thumbprints", tl);
        json_object_set_new(e, "created", time_json(full.created_ms));
        if ((rc = export_tags(db, a, PD_IAM_OIDC, full.id, e)))
            goto out;
    }
    /* empty lists say nothing */
    const char *lists[] = {"policies", "groups", "users", "roles", "oidc_providers"};
    for (i = 0; i < 5; i++)
        if (!json_array_size(json_object_get(o, lists[i])))
            json_object_del(o, lists[i]);
out:
    if (rc) {
        json_decref(o);
        o = NULL;
    }
    *OUT = o;
    return rc;
}

int pd_iam_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT, char **OUT_err)
{
    struct pd_arena a;
    pd_arena_init(&a);
    *OUT = NULL;
    *OUT_err = NULL;
    const char **ids;
    size_t n;
    json_t *accounts = json_array();
    int rc = pd_iam_db_account_list(db, &a, &ids, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *acct;
        rc = export_account(db, &a, ids[i], &acct);
        if (!rc) {
            /* the default account with nothing in it is implied */
            if (strcmp(ids[i], PD_IAM_DEFAULT_ACCOUNT) == 0 && json_object_size(acct) == 1)
                json_decref(acct);
            else
                json_array_append_new(accounts, acct);
        }
    }
    pd_arena_cleanup(&a);
    if (rc) {
        json_decref(accounts);
        *OUT_err = pd_xstrdup("fixtures export: store error");
        return rc;
    }
    *OUT = json_pack("{s:o}", "accounts", accounts);
    return PD_OK;
}
