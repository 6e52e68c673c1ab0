/*
 * org_fixtures.c - the "organizations" section of fixtures files (see organizations.h and
 * docs/fixtures.md): load it through the service's operations, export the state in the same
 * format.
 *
 * Order of loading, per organization: the organization (as its management account's root),
 * its OUs (each after its parent), its accounts, its policies, the enabled policy types
 * (which attach FullAWSAccess / RCPFullAWSAccess everywhere, as on AWS), then, when the
 * entry lists "attachments", exactly those: the listed ones attached, the AWS managed ones
 * not listed detached. Every step is the API's handler, with its checks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "services/organizations/org_internal.h"
#include "services/organizations/organizations.h"
#include "store/iam_db.h"

struct fx {
    struct pd_env *env;
    struct pd_db *db;
    const char *origin;
    char *err; /* malloc'd, the first failure */
    struct pd_arena a;
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

static int known_fields(struct fx *f, json_t *obj, const char *where, const char *const *known)
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
            size_t used = 0;
            for (const char *const *k = known; *k; k++)
                used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0,
                                         "%s%s", *k, k[1] ? ", " : "");
            return fx_fail(f, where, "unknown field \"%s\" (known fields: %s)", key, list);
        }
    }
    return PD_OK;
}

/* A string field (NULL when absent; an error when not a string). */
static const char *str(struct fx *f, json_t *obj, const char *key, const char *where, int required)
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

static int time_field(struct fx *f, json_t *obj, const char *key, const char *where, int64_t *OUT)
{
    *OUT = 0;
    const char *t = str(f, obj, key, where, 0);
    if (f->err)
        return PD_EINVAL;
    if (t && pd_time_parse_iso8601(t, OUT))
        return fx_fail(f, where, "field \"%s\" must be an ISO 8601 time (2024-01-31T12:00:00Z)",
                       key);
    return PD_OK;
}

/* tags: {"key": "value"} -> Tags: [{Key, Value}] */
static json_t *tags_in(struct fx *f, json_t *obj, const char *where)
{
    json_t *t = json_object_get(obj, "tags");
    if (!t)
        return NULL;
    if (!json_is_object(t)) {
        fx_fail(f, where, "field \"tags\" must be an object of key: value");
        return NULL;
    }
    json_t *list = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(t, k, v)
    {
        if (!json_is_string(v)) {
            json_decref(list);
            fx_fail(f, where, "tag values are strings");
            return NULL;
        }
        json_array_append_new(list, json_pack("{s:s, s:O}", "Key", k, "Value", v));
    }
    return list;
}

/* One step of loading: a handler, or a create function with fixed ids, and what it needs. */
struct step {
    int (*handler)(struct pd_req *r);
    enum { S_HANDLER, S_ORG, S_OU, S_ACCOUNT, S_POLICY } kind;
    struct org_fixed fx;
    const char *root_id; /* S_ORG */
    const char *parent;  /* S_ACCOUNT */
};

static int run_step(struct pd_req *r, const struct step *s)
{
    switch (s->kind) {
    case S_ORG:
        return org_do_create_organization(r, s->fx.id, s->root_id, &s->fx);
    case S_OU:
        return org_do_create_ou(r, &s->fx);
    case S_ACCOUNT:
        return org_do_create_account(r, &s->fx, s->parent);
    case S_POLICY:
        return org_do_create_policy(r, &s->fx);
    default:
        return s->handler(r);
    }
}

/* Run one step as the management account's root. in is stolen; *OUT (optional) gets the
 * output (a new reference). */
static int call(struct fx *f, const char *mgmt, const char *where, const struct step *s, json_t *in,
                json_t **OUT)
{
    struct pd_req *r = pd_req_new(f->env);
    r->db = f->db;
    r->who.kind = PD_CALLER_ROOT;
    r->who.account_id = pd_arena_strdup(&r->arena, mgmt);
    r->who.arn = pd_arena_printf(&r->arena, "arn:aws:iam::%s:root", mgmt);
    r->in = in;
    int rc = run_step(r, s);
    if (rc) {
        if (r->err.def)
            fx_fail(f, where, "%s: %s", r->err.def->code, r->err.message);
        else
            fx_fail(f, where, "%s", pd_strerror(rc));
    } else if (OUT) {
        *OUT = json_incref(r->out);
    }
    pd_req_free(r);
    return rc ? PD_EINVAL : PD_OK;
}

static int handler(struct fx *f, const char *mgmt, const char *where, int (*fn)(struct pd_req *),
                   json_t *in)
{
    struct step s = {.handler = fn, .kind = S_HANDLER};
    return call(f, mgmt, where, &s, in, NULL);
}

static const char *const org_fields[] = {"id",
                                         "root_id",
                                         "management_account",
                                         "feature_set",
                                         "created",
                                         "enabled_policy_types",
                                         "organizational_units",
                                         "accounts",
                                         "policies",
                                         "attachments",
                                         "root_tags",
                                         NULL};
static const char *const ou_fields[] = {"id", "name", "parent", "created", "tags", NULL};
static const char *const acct_fields[] = {"id", "name", "email", "parent", "joined", "tags", NULL};
static const char *const pol_fields[] = {"id",      "name", "type", "description",
                                         "content", "tags", NULL};
static const char *const att_fields[] = {"policy", "target", NULL};

static int load_org(struct fx *f, json_t *e, size_t idx)
{
    char where[128];
    snprintf(where, sizeof where, "organizations.organizations[%zu]", idx);
    if (known_fields(f, e, where, org_fields))
        return PD_EINVAL;
    const char *mgmt = str(f, e, "management_account", where, 1);
    const char *id = str(f, e, "id", where, 0), *root = str(f, e, "root_id", where, 0);
    const char *fs = str(f, e, "feature_set", where, 0);
    int64_t created;
    if (f->err || time_field(f, e, "created", where, &created))
        return PD_EINVAL;
    if (strlen(mgmt) != 12 || strspn(mgmt, "0123456789") != 12)
        return fx_fail(f, where, "\"management_account\" must be a 12-digit account id");
    if (id && (!pd_has_prefix(id, "o-") || strlen(id) < 12 || strlen(id) > 34 ||
               strspn(id + 2, "0123456789abcdefghijklmnopqrstuvwxyz") != strlen(id) - 2))
        return fx_fail(f, where, "\"id\" must be o- and 10 to 32 lower-case letters or digits");
    if (root && (!pd_has_prefix(root, "r-") || strlen(root) < 6 || strlen(root) > 34 ||
                 strspn(root + 2, "0123456789abcdefghijklmnopqrstuvwxyz") != strlen(root) - 2))
        return fx_fail(f, where, "\"root_id\" must be r- and 4 to 32 lower-case letters or digits");
    /* the management account is an account podiam serves (without keys when new) */
    int64_t have;
    if (pd_iam_db_account_get(f->db, mgmt, &have) == PD_ENOTFOUND &&
        pd_iam_db_account_put(f->db, mgmt, created ? created : pd_clock_now_ms(&f->env->clock)))
        return fx_fail(f, where, "cannot create account %s", mgmt);
    struct step so = {.kind = S_ORG, .fx = {id, created}, .root_id = root};
    if (call(f, mgmt, where, &so, fs ? json_pack("{s:s}", "FeatureSet", fs) : json_object(), NULL))
        return PD_EINVAL;
    struct pd_org org;
    if (pd_org_db_of_account(f->db, &f->a, mgmt, &org))
        return fx_fail(f, where, "the organization was not created");
    if (json_object_get(e, "root_tags")) {
        json_t *holder = json_pack("{s:O}", "tags", json_object_get(e, "root_tags"));
        json_t *tags = tags_in(f, holder, where);
        json_decref(holder);
        if (f->err ||
            (tags && handler(f, mgmt, where, org_tag_resource,
                             json_pack("{s:s, s:o}", "ResourceId", org.root_id, "Tags", tags))))
            return PD_EINVAL;
    }

    size_t i;
    json_t *v;
    json_t *list = json_object_get(e, "organizational_units");
    if (list && !json_is_array(list))
        return fx_fail(f, where, "\"organizational_units\" must be a list");
    json_array_foreach(list, i, v)
    {
        char w[192];
        snprintf(w, sizeof w, "%s.organizational_units[%zu]", where, i);
        if (known_fields(f, v, w, ou_fields))
            return PD_EINVAL;
        const char *name = str(f, v, "name", w, 1), *oid = str(f, v, "id", w, 0);
        const char *parent = str(f, v, "parent", w, 0);
        int64_t t;
        json_t *tags = NULL;
        if (f->err || time_field(f, v, "created", w, &t) || ((tags = tags_in(f, v, w)), f->err))
            return PD_EINVAL;
        struct step st = {.kind = S_OU, .fx = {oid, t}};
        json_t *in =
            json_pack("{s:s, s:s}", "ParentId", parent ? parent : org.root_id, "Name", name);
        if (tags)
            json_object_set_new(in, "Tags", tags);
        if (call(f, mgmt, w, &st, in, NULL))
            return PD_EINVAL;
    }

    list = json_object_get(e, "accounts");
    if (list && !json_is_array(list))
        return fx_fail(f, where, "\"accounts\" must be a list");
    json_array_foreach(list, i, v)
    {
        char w[192];
        snprintf(w, sizeof w, "%s.accounts[%zu]", where, i);
        if (known_fields(f, v, w, acct_fields))
            return PD_EINVAL;
        const char *name = str(f, v, "name", w, 1), *email = str(f, v, "email", w, 1);
        const char *aid = str(f, v, "id", w, 0), *parent = str(f, v, "parent", w, 0);
        int64_t t;
        json_t *tags = NULL;
        if (f->err || time_field(f, v, "joined", w, &t) || ((tags = tags_in(f, v, w)), f->err))
            return PD_EINVAL;
        if (aid && (strlen(aid) != 12 || strspn(aid, "0123456789") != 12)) {
            json_decref(tags);
            return fx_fail(f, w, "\"id\" must be a 12-digit account id");
        }
        if (aid && strcmp(aid, mgmt) == 0) {
            /* the management account joined with the organization: its name and email */
            json_decref(tags);
            if (parent && strcmp(parent, org.root_id) != 0)
                return fx_fail(f, w, "the management account stays under the root");
            if (pd_org_db_account_set(f->db, mgmt, name, email, t ? t : org.created_ms))
                return fx_fail(f, w, "cannot update the management account");
            continue;
        }
        struct step st = {.kind = S_ACCOUNT, .fx = {aid, t}, .parent = parent};
        json_t *in = json_pack("{s:s, s:s}", "AccountName", name, "Email", email);
        if (tags)
            json_object_set_new(in, "Tags", tags);
        json_t *out = NULL;
        if (call(f, mgmt, w, &st, in, &out))
            return PD_EINVAL;
        const char *state = json_string_value(
            json_object_get(json_object_get(out, "CreateAccountStatus"), "State"));
        const char *why = json_string_value(
            json_object_get(json_object_get(out, "CreateAccountStatus"), "FailureReason"));
        int failed = !state || strcmp(state, "SUCCEEDED") != 0;
        if (failed)
            fx_fail(f, w, "CreateAccount failed: %s", why ? why : "?");
        json_decref(out);
        if (failed)
            return PD_EINVAL;
    }

    list = json_object_get(e, "policies");
    if (list && !json_is_array(list))
        return fx_fail(f, where, "\"policies\" must be a list");
    json_array_foreach(list, i, v)
    {
        char w[192];
        snprintf(w, sizeof w, "%s.policies[%zu]", where, i);
        if (known_fields(f, v, w, pol_fields))
            return PD_EINVAL;
        const char *name = str(f, v, "name", w, 1), *type = str(f, v, "type", w, 1);
        const char *pid = str(f, v, "id", w, 0), *desc = str(f, v, "description", w, 0);
        json_t *content = json_object_get(v, "content");
        json_t *tags = NULL;
        if (f->err || ((tags = tags_in(f, v, w)), f->err))
            return PD_EINVAL;
        char *text = json_is_string(content) ? strdup(json_string_value(content))
                     : json_is_object(content)
                         ? json_dumps(content, JSON_COMPACT | JSON_PRESERVE_ORDER)
                         : NULL;
        if (!text) {
            json_decref(tags);
            return fx_fail(f, w,
                           "field \"content\" must be the policy document (an object, or "
                           "a string)");
        }
        json_t *in = json_pack("{s:s, s:s, s:s, s:s}", "Name", name, "Type", type, "Description",
                               desc ? desc : "", "Content", text);
        free(text);
        if (tags)
            json_object_set_new(in, "Tags", tags);
        struct step st = {.kind = S_POLICY, .fx = {pid, 0}};
        if (call(f, mgmt, w, &st, in, NULL))
            return PD_EINVAL;
    }

    list = json_object_get(e, "enabled_policy_types");
    if (list && !json_is_array(list))
        return fx_fail(f, where, "\"enabled_policy_types\" must be a list");
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            return fx_fail(f, where, "\"enabled_policy_types\" lists policy types");
        if (handler(f, mgmt, where, org_enable_policy_type,
                    json_pack("{s:s, s:O}", "RootId", org.root_id, "PolicyType", v)))
            return PD_EINVAL;
    }

    json_t *att = json_object_get(e, "attachments");
    if (!att)
        return PD_OK;
    if (!json_is_array(att))
        return fx_fail(f, where, "\"attachments\" must be a list");
    json_array_foreach(att, i, v)
    {
        char w[192];
        snprintf(w, sizeof w, "%s.attachments[%zu]", where, i);
        if (known_fields(f, v, w, att_fields))
            return PD_EINVAL;
        const char *pid = str(f, v, "policy", w, 1), *target = str(f, v, "target", w, 1);
        if (f->err)
            return PD_EINVAL;
        if (pd_org_db_attached(f->db, org.id, pid, target))
            continue; /* the AWS managed policy, attached when its type was enabled */
        if (handler(f, mgmt, w, org_attach_policy,
                    json_pack("{s:s, s:s}", "PolicyId", pid, "TargetId", target)))
            return PD_EINVAL;
    }
    /* the AWS managed attachments the list leaves out go (after the others, so every
     * target keeps an SCP) */
    const char *builtins[] = {PD_ORG_FULL_SCP, PD_ORG_FULL_RCP};
    for (size_t b = 0; b < 2; b++) {
        const char **targets;
        size_t n;
        if (pd_org_db_policy_targets(f->db, &f->a, org.id, builtins[b], &targets, &n))
            return fx_fail(f, where, "cannot read the attachments");
        for (size_t t = 0; t < n; t++) {
            int listed = 0;
            json_array_foreach(att, i, v)
            {
                listed |=
                    strcmp(json_string_value(json_object_get(v, "policy")), builtins[b]) == 0 &&
                    strcmp(json_string_value(json_object_get(v, "target")), targets[t]) == 0;
            }
            if (!listed &&
                handler(f, mgmt, where, org_detach_policy,
                        json_pack("{s:s, s:s}", "PolicyId", builtins[b], "TargetId", targets[t])))
                return PD_EINVAL;
        }
    }
    return PD_OK;
}

int pd_org_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *section, const char *origin,
                         char **OUT_err)
{
    struct fx f = {env, db, origin, NULL, {0}};
    pd_arena_init(&f.a);
    *OUT_err = NULL;
    static const char *const top[] = {"organizations", NULL};
    int rc = known_fields(&f, section, "organizations", top);
    json_t *list = json_object_get(section, "organizations");
    if (!rc && list && !json_is_array(list))
        rc = fx_fail(&f, "organizations", "\"organizations\" must be a list");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (rc)
            break;
        rc = load_org(&f, e, i);
    }
    pd_arena_cleanup(&f.a);
    *OUT_err = f.err;
    return rc;
}

/* ---- export ----------------------------------------------------------------------------- */

static const char *iso(struct pd_arena *a, int64_t ms)
{
    char buf[32];
    pd_time_iso8601(ms, 0, buf);
    return pd_arena_strdup(a, buf);
}

static void tags_out(struct pd_db *db, struct pd_arena *a, const char *id, json_t *obj,
                     const char *key)
{
    struct pd_org_tag *t;
    size_t n;
    if (pd_org_db_tags_get(db, a, id, &t, &n) || !n)
        return;
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, t[i].key, json_string(t[i].value));
    json_object_set_new(obj, key, o);
}

static json_t *export_org(struct pd_db *db, struct pd_arena *a, const struct pd_org *o)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", o->id, "root_id", o->root_id,
                          "management_account", o->management_account, "feature_set",
                          o->feature_set, "created", iso(a, o->created_ms));
    tags_out(db, a, o->root_id, e, "root_tags");
    const char **types;
    size_t n;
    json_t *tl = json_array();
    if (pd_org_db_type_list(db, a, o->id, &types, &n) == PD_OK)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(tl, json_string(types[i]));
    json_object_set_new(e, "enabled_policy_types", tl);

    /* targets in the order the file will make them: the root, OUs, accounts */
    const char **targets = NULL;
    size_t nt = 0, capt = 0;
    targets = pd_arena_grow(a, targets, nt, &capt, sizeof *targets);
    targets[nt++] = o->root_id;

    struct pd_org_ou *ous;
    json_t *ol = json_array();
    if (pd_org_db_ou_list(db, a, o->id, &ous, &n) == PD_OK)
        for (size_t i = 0; i < n; i++) {
            json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "id", ous[i].id, "name", ous[i].name,
                                  "parent", ous[i].parent_id, "created", iso(a, ous[i].created_ms));
            tags_out(db, a, ous[i].id, j, "tags");
            json_array_append_new(ol, j);
            targets = pd_arena_grow(a, targets, nt, &capt, sizeof *targets);
            targets[nt++] = ous[i].id;
        }
    json_object_set_new(e, "organizational_units", ol);

    struct pd_org_account *accts;
    json_t *al = json_array();
    if (pd_org_db_account_list(db, a, o->id, NULL, &accts, &n) == PD_OK)
        for (size_t i = 0; i < n; i++) {
            json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", accts[i].account_id, "name",
                                  accts[i].name, "email", accts[i].email, "parent",
                                  accts[i].parent_id, "joined", iso(a, accts[i].joined_ms));
            tags_out(db, a, accts[i].account_id, j, "tags");
            json_array_append_new(al, j);
            targets = pd_arena_grow(a, targets, nt, &capt, sizeof *targets);
            targets[nt++] = accts[i].account_id;
        }
    json_object_set_new(e, "accounts", al);

    json_t *pl = json_array();
    const char *served[] = {PD_ORG_SCP, PD_ORG_RCP};
    for (size_t t = 0; t < 2; t++) {
        struct pd_org_policy *ps;
        if (pd_org_db_policy_list(db, a, o->id, served[t], &ps, &n))
            continue;
        for (size_t i = 0; i < n; i++) {
            if (ps[i].aws_managed)
                continue;
            json_t *j =
                json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", ps[i].id, "name", ps[i].name, "type",
                          ps[i].type, "description", ps[i].description, "content", ps[i].content);
            tags_out(db, a, ps[i].id, j, "tags");
            json_array_append_new(pl, j);
        }
    }
    json_object_set_new(e, "policies", pl);

    /* per target: the AWS managed policies first, FullAWSAccess then RCPFullAWSAccess (a load
     * attaches them when it enables their types), then the organization's in the order they
     * were attached; so the list reads the same after a load, whatever order the
     * attachments were made in */
    static const char *const managed[] = {PD_ORG_FULL_SCP, PD_ORG_FULL_RCP, NULL};
    json_t *att = json_array();
    for (size_t t = 0; t < nt; t++) {
        struct pd_org_policy *ps;
        if (pd_org_db_target_policies(db, a, o->id, targets[t], NULL, &ps, &n))
            continue;
        for (const char *const *m = managed; *m; m++)
            for (size_t i = 0; i < n; i++)
                if (strcmp(ps[i].id, *m) == 0)
                    json_array_append_new(
                        att, json_pack("{s:s, s:s}", "policy", ps[i].id, "target", targets[t]));
        for (size_t i = 0; i < n; i++)
            if (!ps[i].aws_managed)
                json_array_append_new(
                    att, json_pack("{s:s, s:s}", "policy", ps[i].id, "target", targets[t]));
    }
    json_object_set_new(e, "attachments", att);
    return e;
}

int pd_org_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT, char **OUT_err)
{
    (void)env;
    *OUT_err = NULL;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_org *orgs;
    size_t n;
    int rc = pd_org_db_list(db, &a, &orgs, &n);
    json_t *list = json_array();
    for (size_t i = 0; !rc && i < n; i++)
        json_array_append_new(list, export_org(db, &a, &orgs[i]));
    pd_arena_cleanup(&a);
    if (rc) {
        json_decref(list);
        *OUT_err = pd_xstrdup("cannot read the organizations");
        return rc;
    }
    *OUT = json_pack("{s:o}", "organizations", list);
    return PD_OK;
}
