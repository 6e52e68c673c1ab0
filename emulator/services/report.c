/*
 * report.c - the decision report and the least-privilege policy (see report.h).
 *
 * Owns nothing past one call: the decisions since the mark are grouped per IAM identity in
 * jansson objects used as maps, then written out as sorted arrays so two runs that made the
 * same calls give the same report. Policies are read from the state in one read
 * transaction, by the same queries (and the same policy ids) authorization uses, so a
 * statement the log names is found again here.
 */
#include "services/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/decisions.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "store/iam_db.h"
#include "store/store.h"

/* IAM's limit on a managed policy's size (characters that are not white space). */
#define MANAGED_POLICY_MAX 6144
/* Bounds on what one report holds, so a huge log cannot make a huge answer: identities,
 * and distinct action/resource pairs per identity. */
#define MAX_PRINCIPALS 1000
#define MAX_PAIRS 20000

/* ---- small helpers over jansson objects used as maps ---- */

static json_t *map_child(json_t *map, const char *key)
{
    json_t *v = json_object_get(map, key);
    if (!v) {
        v = json_object();
        json_object_set_new(map, key, v);
    }
    return v;
}

static void map_count(json_t *map, const char *key)
{
    json_t *v = json_object_get(map, key);
    json_object_set_new(map, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a map, sorted (heap array of borrowed strings; free() it). */
static const char **sorted_keys(const json_t *map, size_t *OUT_n)
{
    size_t n = json_object_size(map), i = 0;
    const char **v = pd_xmalloc((n ? n : 1) * sizeof *v);
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)map, k, x) v[i++] = k;
    qsort(v, n, sizeof *v, cmp_str);
    *OUT_n = n;
    return v;
}

/* ["a", "b"] of a map's keys, sorted; a single key as a plain string. */
static json_t *one_or_list(const json_t *map)
{
    size_t n;
    const char **k = sorted_keys(map, &n);
    json_t *out;
    if (n == 1) {
        out = json_string(k[0]);
    } else {
        out = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(out, json_string(k[i]));
    }
    free(k);
    return out;
}

/* ---- the least-privilege policy ---- */

/* "s3" -> "S3", "iam" -> "Iam": the start of a statement's Sid. */
static void sid_prefix(const char *action, char *out, size_t n)
{
    size_t j = 0;
    for (const char *p = action; *p && *p != ':' && *p != '\n' && j + 1 < n; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            continue;
        out[j] = j == 0 && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
        j++;
    }
    out[j] = '\0';
    if (!j)
        snprintf(out, n, "Used");
}

json_t *pd_report_policy(const json_t *pairs)
{
    if (!json_object_size(pairs))
        return NULL;
    /* action -> {resource: true} */
    json_t *by_action = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)pairs, key, v)
    {
        const char *sp = strchr(key, ' ');
        if (!sp || sp == key || !sp[1])
            continue;
        char *action = pd_xstrndup(key, (size_t)(sp - key));
        json_t *res = map_child(by_action, action);
        json_object_set_new(res, sp + 1, json_true());
        free(action);
    }
    /* "*" covers every other resource of that action */
    json_object_foreach(by_action, key, v)
    {
        if (json_object_get(v, "*")) {
            json_object_clear(v);
            json_object_set_new(v, "*", json_true());
        }
    }
    /* Group the actions of one service that need the same resources. A group's key is
     * the service and its resource list as JSON (resources are request bytes: an S3 key may
     * hold any character, so no separator would do); the group holds the resources and
     * {action: true}, and groups keep the order they were first seen. */
    size_t na;
    const char **actions = sorted_keys(by_action, &na);
    json_t *groups = json_object(); /* key -> {"resources": {...}, "actions": {...}} */
    json_t *order = json_array();   /* group keys in the order first seen */
    for (size_t i = 0; i < na; i++) {
        json_t *res = json_object_get(by_action, actions[i]);
        const char *colon = strchr(actions[i], ':');
        size_t svc_len = colon ? (size_t)(colon - actions[i]) : strlen(actions[i]);
        json_t *key_doc = json_pack("[s%, o]", actions[i], svc_len, json_incref(res));
        char *g = json_dumps(key_doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_decref(key_doc);
        if (!g)
            continue;
        json_t *grp = json_object_get(groups, g);
        if (!grp) {
            grp = json_pack("{s:O, s:{}}", "resources", res, "actions");
            json_object_set_new(groups, g, grp);
            json_array_append_new(order, json_string(g));
        }
        json_object_set_new(json_object_get(grp, "actions"), actions[i], json_true());
        free(g);
    }
    json_t *stmts = json_array();
    char prev[64] = "";
    int seq = 0;
    json_t *sids = json_object(); /* Sids in use: unique within a policy, as IAM requires */
    size_t i;
    json_t *gk;
    json_array_foreach(order, i, gk)
    {
        json_t *grp = json_object_get(groups, json_string_value(gk));
        json_t *acts = json_object_get(grp, "actions");
        const char *first = json_object_iter_key(json_object_iter(acts));
        char pre[48];
        sid_prefix(first, pre, sizeof pre);
        seq = strcmp(pre, prev) == 0 ? seq + 1 : 1;
        snprintf(prev, sizeof prev, "%s", pre);
        json_t *sid = json_sprintf("%s%d", pre, seq);
        while (json_object_get(sids, json_string_value(sid))) {
            json_decref(sid);
            sid = json_sprintf("%s%d", pre, ++seq);
        }
        json_object_set_new(sids, json_string_value(sid), json_true());
        json_array_append_new(stmts, json_pack("{s:o, s:s, s:o, s:o}", "Sid", sid, "Effect",
                                               "Allow", "Action", one_or_list(acts), "Resource",
                                               one_or_list(json_object_get(grp, "resources"))));
    }
    json_decref(sids);
    free(actions);
    json_decref(order);
    json_decref(groups);
    json_decref(by_action);
    return json_pack("{s:s, s:o}", "Version", "2012-10-17", "Statement", stmts);
}

/* ---- grouping the log ---- */

struct run {
    json_t *groups; /* identity -> working object (see add_entry) */
    json_t *k8s;    /* {"allowed": N, "denied": [...]} */
    long long decisions;
};

static const char *kind_of(const char *arn)
{
    if (!arn)
        return "anonymous";
    if (strstr(arn, ":role/"))
        return "role";
    if (strstr(arn, ":user/"))
        return "user";
    size_t n = strlen(arn);
    if (n > 5 && strcmp(arn + n - 5, ":root") == 0)
        return "root";
    if (strstr(arn, ":oidc-provider/") || strstr(arn, ":saml-provider/"))
        return "web-identity";
    return "other";
}

static void add_check(json_t *g, const json_t *entry, const json_t *check)
{
    const char *action = json_string_value(json_object_get(check, "action"));
    const char *resource = json_string_value(json_object_get(check, "resource"));
    const char *dec = json_string_value(json_object_get(check, "decision"));
    const char *mode = json_string_value(json_object_get(entry, "mode"));
    if (!action || !resource || !dec)
        return;
    int allowed = strcmp(dec, "allowed") == 0;
    int audit = mode && strcmp(mode, "audit") == 0;
    char *pair = pd_xmalloc(strlen(action) + strlen(resource) + 2);
    snprintf(pair, strlen(action) + strlen(resource) + 2, "%s %s", action, resource);
    json_t *matched = json_object_get(check, "matched");
    json_t *used = map_child(g, "used");
    size_t i;
    json_t *m;
    json_array_foreach(matched, i, m)
    {
        const char *pol = json_string_value(json_object_get(m, "policy"));
        char idx[24];
        snprintf(idx, sizeof idx, "%lld",
                 (long long)json_integer_value(json_object_get(m, "statement")));
        if (pol && *pol)
            map_count(map_child(used, pol), idx);
    }
    /* what the code needed: every allowed check; in audit mode every check (the run passed
     * because podiam let it) */
    json_t *needed = map_child(g, "needed");
    if ((allowed || audit) && json_object_size(needed) < MAX_PAIRS)
        json_object_set_new(needed, pair, json_true());
    if (allowed) {
        json_t *all = map_child(g, "allowed");
        json_t *a = json_object_get(all, pair);
        if (!a && json_object_size(all) < MAX_PAIRS) {
            a = json_pack("{s:s, s:s, s:i, s:o}", "action", action, "resource", resource, "count",
                          0, "statements", json_object());
            json_object_set_new(all, pair, a);
        }
        if (a) {
            json_object_set_new(a, "count",
                                json_integer(json_integer_value(json_object_get(a, "count")) + 1));
            json_t *by = json_object_get(a, "statements");
            json_array_foreach(matched, i, m)
            {
                const char *eff = json_string_value(json_object_get(m, "effect"));
                if (!eff || strcmp(eff, "Allow") != 0)
                    continue;
                char *k = pd_xmalloc(600);
                snprintf(k, 600, "%s#%lld", json_string_value(json_object_get(m, "policy")),
                         (long long)json_integer_value(json_object_get(m, "statement")));
                if (!json_object_get(by, k))
                    json_object_set(by, k, m);
                free(k);
            }
        }
    } else {
        json_t *all = map_child(g, "denied");
        char *k = pd_xmalloc(strlen(pair) + strlen(dec) + 2);
        snprintf(k, strlen(pair) + strlen(dec) + 2, "%s %s", dec, pair);
        json_t *d = json_object_get(all, k);
        if (!d && json_object_size(all) < MAX_PAIRS) {
            json_t *by = json_array();
            json_array_foreach(matched, i, m)
            {
                const char *eff = json_string_value(json_object_get(m, "effect"));
                if (eff && strcmp(eff, "Deny") == 0)
                    json_array_append(by, m);
            }
            d = json_pack("{s:s, s:s, s:s, s:s?, s:i, s:o, s:s?, s:b}", "action", action,
                          "resource", resource, "decision", dec, "decided_by",
                          json_string_value(json_object_get(check, "decided_by")), "count", 0,
                          "denied_by", by, "message",
                          json_string_value(json_object_get(entry, "message")), "audit", audit);
            json_object_set_new(all, k, d);
        }
        if (d)
            json_object_set_new(d, "count",
                                json_integer(json_integer_value(json_object_get(d, "count")) + 1));
        free(k);
    }
    free(pair);
}

static void add_entry(struct run *run, const json_t *e, const char *only)
{
    const char *svc = json_string_value(json_object_get(e, "service"));
    const char *caller = json_string_value(json_object_get(e, "principal"));
    const char *identity = json_string_value(json_object_get(e, "identity"));
    const char *key = identity ? identity : caller ? caller : "anonymous";
    if (only && strcmp(only, key) != 0 && (!caller || strcmp(only, caller) != 0))
        return;
    run->decisions++;
    if (svc && strcmp(svc, "k8s") == 0) {
        /* Kubernetes RBAC decisions: counted and their denials listed; no IAM policy */
        json_t *allowed = json_object_get(e, "allowed");
        if (json_is_true(allowed)) {
            json_object_set_new(
                run->k8s, "allowed",
                json_integer(json_integer_value(json_object_get(run->k8s, "allowed")) + 1));
        } else {
            json_t *den = json_object_get(run->k8s, "denied");
            if (json_array_size(den) < 1000)
                json_array_append_new(den, json_pack("{s:O?, s:O?, s:O?, s:O?}", "id",
                                                     json_object_get(e, "id"), "cluster",
                                                     json_object_get(e, "cluster"), "principal",
                                                     json_object_get(e, "principal"), "message",
                                                     json_object_get(e, "message")));
        }
        return;
    }
    json_t *g = json_object_get(run->groups, key);
    if (!g) {
        if (json_object_size(run->groups) >= MAX_PRINCIPALS)
            return;
        g = json_object();
        json_object_set_new(run->groups, key, g);
    }
    if (caller)
        map_count(map_child(g, "callers"), caller);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(e, "checks"), i, c) add_check(g, e, c);
}

/* ---- the identity's policies ---- */

/* The statements of a document as an array (a single statement object becomes one). */
static json_t *statements_of(const char *text)
{
    json_t *doc = json_loads(text ? text : "", 0, NULL);
    json_t *s = json_object_get(doc, "Statement");
    json_t *out = json_is_array(s) ? json_incref(s) : json_array();
    if (json_is_object(s))
        json_array_append(out, s);
    json_decref(doc);
    return out;
}

/* As a list of strings (a string becomes one), for comparing what was granted and used. */
static json_t *as_set(const json_t *v)
{
    json_t *set = json_object();
    if (json_is_string(v))
        json_object_set_new(set, json_string_value(v), json_true());
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) if (json_is_string(x))
        json_object_set_new(set, json_string_value(x), json_true());
    return set;
}

static int same_keys(const json_t *a, const json_t *b)
{
    if (json_object_size(a) != json_object_size(b))
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) if (!json_object_get(b, k)) return 0;
    return 1;
}

/* One policy of the identity: its statements with how often each applied, and its part of
 * the diff (statements never used; statements used for less than they grant). */
static void one_policy(json_t *g, json_t *policies, json_t *diff, const char *id, const char *type,
                       const char *document)
{
    json_t *used = json_object_get(json_object_get(g, "used"), id);
    json_t *stmts = statements_of(document);
    json_t *list = json_array(), *unused = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(stmts, i, s)
    {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        json_int_t n = json_integer_value(json_object_get(used, idx));
        const char *effect = json_string_value(json_object_get(s, "Effect"));
        json_t *sid = json_object_get(s, "Sid");
        json_array_append_new(list, json_pack("{s:I, s:O?, s:s?, s:I}", "index", (json_int_t)i,
                                              "sid", sid, "effect", effect, "used", n));
        json_t *granted = json_object();
        const char *names[] = {"Action", "NotAction", "Resource", "NotResource", "Condition"};
        for (size_t k = 0; k < sizeof names / sizeof *names; k++)
            if (json_object_get(s, names[k]))
                json_object_set(granted, names[k], json_object_get(s, names[k]));
        if (!n) {
            json_array_append_new(unused, json_integer((json_int_t)i));
            json_array_append_new(json_object_get(diff, "unused"),
                                  json_pack("{s:s, s:I, s:O?, s:s?, s:O}", "policy", id,
                                            "statement", (json_int_t)i, "sid", sid, "effect",
                                            effect, "granted", granted));
        } else if (effect && strcmp(effect, "Allow") == 0) {
            /* what this statement was used for, against what it grants */
            json_t *ua = json_object(), *ur = json_object();
            char key[600];
            snprintf(key, sizeof key, "%s#%zu", id, i);
            const char *pk;
            json_t *a;
            json_object_foreach(json_object_get(g, "allowed"), pk, a)
            {
                if (!json_object_get(json_object_get(a, "statements"), key))
                    continue;
                json_object_set_new(ua, json_string_value(json_object_get(a, "action")),
                                    json_true());
                json_object_set_new(ur, json_string_value(json_object_get(a, "resource")),
                                    json_true());
            }
            json_t *ga = as_set(json_object_get(s, "Action"));
            json_t *gr = as_set(json_object_get(s, "Resource"));
            int exact = json_object_get(s, "Action") && json_object_get(s, "Resource") &&
                        !json_object_get(s, "Condition") && same_keys(ga, ua) && same_keys(gr, ur);
            if (!exact && json_object_size(ua))
                json_array_append_new(json_object_get(diff, "narrowed"),
                                      json_pack("{s:s, s:I, s:O?, s:O, s:{s:o, s:o}}", "policy", id,
                                                "statement", (json_int_t)i, "sid", sid, "granted",
                                                granted, "used", "Action", one_or_list(ua),
                                                "Resource", one_or_list(ur)));
            json_decref(ga);
            json_decref(gr);
            json_decref(ua);
            json_decref(ur);
        }
        json_decref(granted);
    }
    json_array_append_new(policies, json_pack("{s:s, s:s, s:o, s:o}", "id", id, "type", type,
                                              "statements", list, "unused", unused));
    json_decref(stmts);
}

static const char *policy_id(struct pd_arena *a, const struct pd_iam_source_policy *p)
{
    if (p->type == PD_IAM_SRC_MANAGED || p->type == PD_IAM_SRC_AWS_MANAGED)
        return p->id;
    return pd_arena_printf(a, "%s/%s/%s", p->via_kind, p->via_name, p->id);
}

/* The policies of a role or user identity, from the state. */
static int identity_policies(struct pd_db *db, struct pd_arena *a, json_t *g, const char *arn,
                             const char *kind, json_t *out)
{
    /* arn:aws:iam::ACCOUNT:role/PATH/NAME */
    const char *p = arn;
    for (int i = 0; i < 4 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    const char *colon = p ? strchr(p, ':') : NULL;
    const char *slash = strrchr(arn, '/');
    if (!colon || !slash)
        return PD_OK;
    char *account = pd_arena_strndup(a, p, (size_t)(colon - p));
    struct pd_iam_source_policy *src = NULL, boundary;
    size_t n = 0;
    memset(&boundary, 0, sizeof boundary);
    int rc = strcmp(kind, "role") == 0
                 ? pd_iam_db_role_policies(db, a, account, slash + 1, &src, &n, &boundary)
                 : pd_iam_db_user_policies(db, a, account, slash + 1, &src, &n, &boundary);
    if (rc == PD_ENOTFOUND) {
        json_object_set_new(out, "note", json_string("the identity no longer exists"));
        return PD_OK;
    }
    if (rc)
        return rc;
    json_t *policies = json_array();
    json_t *diff = json_pack("{s:[], s:[]}", "unused", "narrowed");
    static const char *const types[] = {"user-inline", "group-inline", "role-inline", "managed",
                                        "aws-managed"};
    for (size_t i = 0; i < n; i++)
        one_policy(g, policies, diff, policy_id(a, &src[i]), types[src[i].type], src[i].document);
    if (boundary.document)
        one_policy(g, policies, diff, boundary.id, "boundary", boundary.document);
    json_object_set_new(out, "policies", policies);
    json_object_set_new(out, "diff", diff);
    return PD_OK;
}

/* ---- writing the report ---- */

static json_t *sorted_values(const json_t *map, const char *sub)
{
    size_t n;
    const char **k = sorted_keys(map, &n);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_deep_copy(json_object_get(map, k[i]));
        if (sub) {
            json_t *m = json_object_get(v, sub);
            size_t nm;
            const char **mk = sorted_keys(m, &nm);
            json_t *list = json_array();
            for (size_t j = 0; j < nm; j++)
                json_array_append(list, json_object_get(m, mk[j]));
            free(mk);
            json_object_set_new(v, sub, list);
        }
        json_array_append_new(out, v);
    }
    free(k);
    return out;
}

static int principal_out(struct pd_db *db, struct pd_arena *a, const char *key, json_t *g,
                         json_t **OUT)
{
    const char *kind = kind_of(key);
    json_t *o = json_pack("{s:s, s:s}", "principal", key, "kind", kind);
    size_t n;
    const char **callers = sorted_keys(json_object_get(g, "callers"), &n);
    json_t *cl = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(cl, json_string(callers[i]));
    free(callers);
    json_object_set_new(o, "callers", cl);
    json_object_set_new(o, "allowed", sorted_values(json_object_get(g, "allowed"), "statements"));
    json_object_set_new(o, "denied", sorted_values(json_object_get(g, "denied"), NULL));
    int rc = PD_OK;
    if (strcmp(kind, "role") == 0 || strcmp(kind, "user") == 0) {
        rc = identity_policies(db, a, g, key, kind, o);
        json_t *policy = pd_report_policy(json_object_get(g, "needed"));
        if (policy) {
            char *text = json_dumps(policy, JSON_COMPACT);
            size_t size = text ? strlen(text) : 0;
            free(text);
            json_object_set_new(o, "least_privilege", policy);
            json_object_set_new(o, "least_privilege_size", json_integer((json_int_t)size));
            if (size > MANAGED_POLICY_MAX)
                json_object_set_new(
                    o, "least_privilege_note",
                    json_sprintf("%zu characters: more than IAM's %d for a managed policy; "
                                 "split it or put it inline (10,240 for a role's inline "
                                 "policies together)",
                                 size, MANAGED_POLICY_MAX));
        }
    }
    *OUT = o;
    return rc;
}

int pd_report_build(struct pd_env *env, struct pd_db *db, const struct pd_report_opts *opts,
                    json_t **OUT, char **OUT_err)
{
    *OUT = NULL;
    *OUT_err = NULL;
    struct pd_decisions_since info;
    json_t *entries = pd_decisions_since(env->decisions, opts->since, &info);
    if (info.lost && !opts->allow_partial) {
        char buf[512];
        snprintf(buf, sizeof buf,
                 "the decision log no longer holds every decision after mark d-%lld: it keeps "
                 "the last %zu, and decisions up to d-%lld were dropped (%lld of them after the "
                 "mark). Start podiam with a larger --decision-log-size, or take a mark nearer "
                 "the calls; allow_partial=1 reports on what is left",
                 opts->since, pd_decisions_capacity(env->decisions), info.dropped_max, info.lost);
        *OUT_err = pd_xstrdup(buf);
        json_decref(entries);
        return PD_ENOTFOUND;
    }
    struct run run = {json_object(), json_pack("{s:i, s:[]}", "allowed", 0, "denied"), 0};
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) add_entry(&run, e, opts->principal);
    json_decref(entries);

    struct pd_arena a;
    pd_arena_init(&a);
    json_t *principals = json_array();
    int rc = pd_db_begin(db, 0);
    size_t n = 0;
    const char **keys = sorted_keys(run.groups, &n);
    for (size_t k = 0; !rc && k < n; k++) {
        json_t *o = NULL;
        rc = principal_out(db, &a, keys[k], json_object_get(run.groups, keys[k]), &o);
        if (o)
            json_array_append_new(principals, o);
    }
    free(keys);
    pd_db_rollback(db);
    pd_arena_cleanup(&a);
    json_decref(run.groups);
    if (rc) {
        json_decref(principals);
        json_decref(run.k8s);
        *OUT_err = pd_xstrdup("cannot read the identities' policies");
        return rc;
    }
    json_t *r = json_pack("{s:o, s:o, s:b, s:I, s:I}", "since", json_sprintf("d-%lld", opts->since),
                          "through", json_sprintf("d-%lld", info.through), "complete",
                          info.lost == 0, "decisions", (json_int_t)run.decisions, "log_capacity",
                          (json_int_t)pd_decisions_capacity(env->decisions));
    if (info.lost)
        json_object_set_new(r, "lost", json_integer(info.lost));
    json_object_set_new(r, "principals", principals);
    json_object_set_new(r, "kubernetes", run.k8s);
    *OUT = r;
    return PD_OK;
}
