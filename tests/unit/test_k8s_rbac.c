/*
 * test_k8s_rbac.c - Kubernetes RBAC without a store or a request (emulator/k8s/rbac.c,
 * request.c, authz.c, pb.c): the corpus of cases from the Kubernetes documentation
 * (tests/data/k8s_rbac/, one file per page section), rule matching edge cases, kube-apiserver's
 * RequestInfo attributes, Forbidden messages, Go quoting, escalation arithmetic (Covers,
 * CompactRules and the missing-rules text), the aggregation controller's union, bounds on huge rule
 * lists, and protobuf bodies of the RBAC kinds and reviews.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "k8s/authz.h"
#include "k8s/internal.h"
#include "k8s/pb.h"
#include "k8s/rbac.h"

/* ---- an in-memory source ---- */

struct mem {
    struct pd_k8s_binding *b;
    size_t nb;
    struct pd_k8s_role *r;
    size_t nr;
};

static int mem_bindings(void *state, const char *ns, const struct pd_k8s_binding **OUT,
                        size_t *OUT_n)
{
    struct mem *m = state;
    /* the store keeps each namespace's bindings together; hand out a filtered copy */
    static __thread struct pd_k8s_binding out[64];
    size_t n = 0;
    for (size_t i = 0; i < m->nb && n < 64; i++)
        if (strcmp(m->b[i].ns, ns ? ns : "") == 0)
            out[n++] = m->b[i];
    *OUT = out;
    *OUT_n = n;
    return PD_OK;
}

static int mem_role(void *state, const char *ns, const char *name, const struct pd_k8s_role **OUT)
{
    struct mem *m = state;
    for (size_t i = 0; i < m->nr; i++)
        if (strcmp(m->r[i].name, name) == 0 && strcmp(m->r[i].ns, ns ? ns : "") == 0 &&
            strcmp(m->r[i].kind, ns ? "Role" : "ClusterRole") == 0) {
            *OUT = &m->r[i];
            return PD_OK;
        }
    return PD_ENOTFOUND;
}

/* Load objects (an array of RBAC objects) into m; aggregate: run the controller's union. */
static void mem_load(struct pd_arena *a, struct mem *m, json_t *objects, int aggregate)
{
    size_t n = json_array_size(objects);
    m->b = pd_arena_zalloc(a, (n + 1) * sizeof *m->b);
    m->r = pd_arena_zalloc(a, (n + 1) * sizeof *m->r);
    m->nb = m->nr = 0;
    json_t *crs = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(objects, i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "kind")), "ClusterRole") == 0)
            json_array_append(crs, o);
    }
    json_array_foreach(objects, i, o)
    {
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (strstr(kind, "Binding")) {
            pd_k8s_binding_from_json(a, o, &m->b[m->nb++]);
            continue;
        }
        json_t *obj = json_incref(o);
        if (aggregate && json_object_get(o, "aggregationRule")) {
            obj = json_deep_copy(o);
            json_decref(o);
            json_object_set_new(obj, "rules", pd_k8s_rbac_aggregated_rules(a, obj, crs));
        }
        pd_k8s_role_from_json(a, obj, kind, &m->r[m->nr++]);
        json_decref(obj);
    }
    json_decref(crs);
}

static struct pd_k8s_user user_of(struct pd_arena *a, const char *name, json_t *groups)
{
    struct pd_k8s_user u;
    memset(&u, 0, sizeof u);
    u.username = name;
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        pd_k8s_user_add_group(a, &u, pd_arena_strdup(a, json_string_value(g)));
    }
    return u;
}

static const char *js(const json_t *o, const char *k, const char *def)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : def;
}

/* ---- the documentation corpus ---- */

static void docs_corpus(void **state)
{
    (void)state;
    const char *root = getenv("PODIAM_TEST_DATA");
    assert_non_null(root);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/k8s_rbac", root);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int files = 0, checks = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        json_error_t je;
        json_t *doc = json_load_file(path, 0, &je);
        if (!doc)
            fail_msg("%s: %s", path, je.text);
        assert_non_null(json_object_get(doc, "source"));
        struct pd_arena a;
        pd_arena_init(&a);
        struct mem m;
        mem_load(&a, &m, json_object_get(doc, "objects"),
                 json_is_true(json_object_get(doc, "aggregate")));
        struct pd_k8s_rbac_source src = {&m, mem_bindings, mem_role};
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(doc, "checks"), i, c)
        {
            struct pd_k8s_user u = user_of(&a, js(c, "user", ""), json_object_get(c, "groups"));
            struct pd_k8s_attrs at = {.user = &u,
                                      .verb = js(c, "verb", ""),
                                      .resource_request = !json_object_get(c, "path"),
                                      .api_group = js(c, "group", ""),
                                      .api_version = "v1",
                                      .resource = js(c, "resource", ""),
                                      .subresource = js(c, "subresource", ""),
                                      .ns = js(c, "namespace", ""),
                                      .name = js(c, "name", ""),
                                      .path = js(c, "path", "")};
            struct pd_k8s_decision dec;
            pd_k8s_rbac_authorize(&src, &a, &at, &dec);
            int want = json_is_true(json_object_get(c, "allowed"));
            if ((dec.verdict == PD_K8S_ALLOW) != want)
                fail_msg("%s check %zu (%s): got %s, want %s; reason %s", de->d_name, i,
                         js(c, "why", ""), dec.verdict == PD_K8S_ALLOW ? "allow" : "no",
                         want ? "allow" : "no", dec.reason);
            const char *reason = js(c, "reason", NULL);
            if (reason && strcmp(reason, dec.reason) != 0)
                fail_msg("%s check %zu: reason\n  %s\nwant\n  %s", de->d_name, i, dec.reason,
                         reason);
            assert_non_null(dec.trace);
            json_decref(dec.trace);
            checks++;
        }
        pd_arena_cleanup(&a);
        json_decref(doc);
        files++;
    }
    closedir(d);
    assert_true(files >= 6);
    assert_true(checks >= 50);
}

/* ---- matching edge cases ---- */

static void rule_matching(void **state)
{
    (void)state;
    static const char *const get[] = {"get", NULL}, *const star[] = {"*", NULL},
                             *const core[] = {"", NULL}, *const pods[] = {"pods", NULL},
                             *const scale[] = {"*/scale", NULL}, *const urls[] = {"/a/**", NULL};
    struct pd_k8s_attrs at = {.verb = "get",
                              .resource_request = 1,
                              .api_group = "",
                              .resource = "pods",
                              .subresource = "",
                              .ns = "x",
                              .name = ""};
    struct pd_k8s_rule r = {.verbs = get, .api_groups = core, .resources = pods};
    assert_true(pd_k8s_rule_allows(&r, &at));
    at.subresource = "log";
    assert_false(pd_k8s_rule_allows(&r, &at)); /* pods does not cover pods/log */
    r.resources = star;
    assert_true(pd_k8s_rule_allows(&r, &at)); /* * covers subresources */
    r.resources = scale;
    assert_false(pd_k8s_rule_allows(&r, &at));
    at.subresource = "scale";
    assert_true(pd_k8s_rule_allows(&r, &at));
    at.subresource = "";
    assert_false(pd_k8s_rule_allows(&r, &at));
    /* a resource rule never matches a path, a URL rule never a resource */
    struct pd_k8s_attrs path = {.verb = "get", .path = "/a/b"};
    assert_false(pd_k8s_rule_allows(&r, &path));
    struct pd_k8s_rule u = {.verbs = get, .non_resource_urls = urls};
    assert_true(pd_k8s_rule_allows(&u, &path)); /* every trailing * is trimmed */
    path.path = "/a";
    assert_false(pd_k8s_rule_allows(&u, &path));
    path.path = "/a/";
    assert_true(pd_k8s_rule_allows(&u, &path));
    assert_false(pd_k8s_rule_allows(&u, &at));
    /* verbs are exact: "list" is not "get", "*" is everything */
    at.verb = "list";
    r.resources = pods;
    assert_false(pd_k8s_rule_allows(&r, &at));
    r.verbs = star;
    assert_true(pd_k8s_rule_allows(&r, &at));
    /* groups: "" is core only */
    at.api_group = "apps";
    assert_false(pd_k8s_rule_allows(&r, &at));
}

/* ---- RequestInfo ---- */

static void request_info(void **state)
{
    (void)state;
    struct {
        const char *method, *path, *query;
        int res;
        const char *verb, *group, *resource, *sub, *ns, *name;
    } t[] = {
        {"GET", "/api/v1/namespaces", "", 1, "list", "", "namespaces", "", "", ""},
        {"GET", "/api/v1/namespaces/other", "", 1, "get", "", "namespaces", "", "other", "other"},
        {"GET", "/api/v1/namespaces/other/status", "", 1, "get", "", "namespaces", "status",
         "other", "other"},
        {"GET", "/api/v1/namespaces/other/pods", "limit=500", 1, "list", "", "pods", "", "other",
         ""},
        {"GET", "/api/v1/namespaces/other/pods/foo", "", 1, "get", "", "pods", "", "other", "foo"},
        {"HEAD", "/api/v1/namespaces/other/pods/foo", "", 1, "get", "", "pods", "", "other", "foo"},
        {"GET", "/api/v1/namespaces/other/pods/foo/log", "", 1, "get", "", "pods", "log", "other",
         "foo"},
        {"GET", "/api/v1/pods", "", 1, "list", "", "pods", "", "", ""},
        {"GET", "/api/v1/namespaces/o/pods", "watch=true", 1, "watch", "", "pods", "", "o", ""},
        {"GET", "/api/v1/namespaces/o/pods", "watch=1", 1, "watch", "", "pods", "", "o", ""},
        {"GET", "/api/v1/namespaces/o/pods", "watch=false", 1, "list", "", "pods", "", "o", ""},
        {"GET", "/api/v1/namespaces/o/pods", "watch=yes", 1, "watch", "", "pods", "", "o", ""},
        {"GET", "/api/v1/namespaces/o/pods", "fieldSelector=metadata.name%3Dweb", 1, "list", "",
         "pods", "", "o", "web"},
        {"GET", "/api/v1/namespaces/o/pods", "fieldSelector=metadata.name!%3Dweb", 1, "list", "",
         "pods", "", "o", ""},
        {"GET", "/api/v1/watch/namespaces/o/pods", "", 1, "watch", "", "pods", "", "o", ""},
        {"POST", "/api/v1/namespaces/o/pods", "", 1, "create", "", "pods", "", "o", ""},
        {"PUT", "/api/v1/namespaces/o/pods/p", "", 1, "update", "", "pods", "", "o", "p"},
        {"PATCH", "/api/v1/namespaces/o/pods/p", "", 1, "patch", "", "pods", "", "o", "p"},
        {"DELETE", "/api/v1/namespaces/o/pods/p", "", 1, "delete", "", "pods", "", "o", "p"},
        {"DELETE", "/api/v1/namespaces/o/pods", "", 1, "deletecollection", "", "pods", "", "o", ""},
        {"POST", "/api/v1/namespaces/o/serviceaccounts/sa/token", "", 1, "create", "",
         "serviceaccounts", "token", "o", "sa"},
        {"GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "", 1, "list",
         "rbac.authorization.k8s.io", "clusterroles", "", "", ""},
        {"GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles/r%3Ax", "", 1, "get",
         "rbac.authorization.k8s.io", "roles", "", "a", "r:x"},
        {"POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "", 1, "create",
         "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""},
        {"GET", "/apis/apps/v1/namespaces/a/deployments/d/scale", "", 1, "get", "apps",
         "deployments", "scale", "a", "d"},
        /* non-resource: the verb is the method */
        {"GET", "/api", "", 0, "get", "", "", "", "", ""},
        {"GET", "/api/v1", "", 0, "get", "", "", "", "", ""},
        {"GET", "/apis/rbac.authorization.k8s.io/v1", "", 0, "get", "", "", "", "", ""},
        {"GET", "/apis", "", 0, "get", "", "", "", "", ""},
        {"HEAD", "/version", "", 0, "head", "", "", "", "", ""},
        {"POST", "/healthz", "", 0, "post", "", "", "", "", ""},
        {"GET", "", "", 0, "get", "", "", "", "", ""},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        struct pd_arena a;
        pd_arena_init(&a);
        struct pd_kvs q = {0};
        assert_int_equal(pd_kvs_parse_form(&a, &q, t[i].query, strlen(t[i].query), 1), PD_OK);
        struct pd_k8s_attrs at;
        pd_k8s_request_info(&a, t[i].method, t[i].path, &q, &at);
        if (at.resource_request != t[i].res || strcmp(at.verb, t[i].verb) ||
            strcmp(at.api_group, t[i].group) || strcmp(at.resource, t[i].resource) ||
            strcmp(at.subresource, t[i].sub) || strcmp(at.ns, t[i].ns) ||
            strcmp(at.name, t[i].name))
            fail_msg("%s %s?%s: got res=%d verb=%s group=%s resource=%s sub=%s ns=%s name=%s",
                     t[i].method, t[i].path, t[i].query, at.resource_request, at.verb, at.api_group,
                     at.resource, at.subresource, at.ns, at.name);
        if (!t[i].res)
            assert_string_equal(at.path, *t[i].path ? t[i].path : "/");
        pd_arena_cleanup(&a);
    }
}

/* ---- messages ---- */

static void forbidden_messages(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_k8s_user u = {.username = "pulumi:alice"};
    struct pd_k8s_attrs at = {.user = &u,
                              .verb = "list",
                              .resource_request = 1,
                              .api_group = "",
                              .resource = "pods",
                              .subresource = "",
                              .ns = "default",
                              .name = ""};
    json_t *d;
    const char *m = pd_k8s_forbidden_message(&a, &at, "", &d);
    assert_string_equal(m, "pods is forbidden: User \"pulumi:alice\" cannot list resource "
                           "\"pods\" in API group \"\" in the namespace \"default\"");
    char *ds = json_dumps(d, JSON_COMPACT);
    assert_string_equal(ds, "{\"kind\":\"pods\"}");
    free(ds);
    json_decref(d);
    at = (struct pd_k8s_attrs){.user = &u,
                               .verb = "get",
                               .resource_request = 1,
                               .api_group = "rbac.authorization.k8s.io",
                               .resource = "roles",
                               .subresource = "",
                               .ns = "",
                               .name = "r"};
    m = pd_k8s_forbidden_message(&a, &at, "RBAC: x", &d);
    assert_string_equal(m, "roles.rbac.authorization.k8s.io \"r\" is forbidden: User "
                           "\"pulumi:alice\" cannot get resource \"roles\" in API group "
                           "\"rbac.authorization.k8s.io\" at the cluster scope: RBAC: x");
    ds = json_dumps(d, JSON_COMPACT);
    assert_string_equal(ds, "{\"name\":\"r\",\"group\":\"rbac.authorization.k8s.io\","
                            "\"kind\":\"roles\"}");
    free(ds);
    json_decref(d);
    /* the prefix never names the subresource, the inner text does */
    at = (struct pd_k8s_attrs){.user = &u,
                               .verb = "get",
                               .resource_request = 1,
                               .api_group = "",
                               .resource = "pods",
                               .subresource = "log",
                               .ns = "a",
                               .name = "p"};
    m = pd_k8s_forbidden_message(&a, &at, NULL, &d);
    assert_string_equal(m, "pods \"p\" is forbidden: User \"pulumi:alice\" cannot get resource "
                           "\"pods/log\" in API group \"\" in the namespace \"a\"");
    json_decref(d);
    at = (struct pd_k8s_attrs){.user = &u, .verb = "get", .path = "/<x>&"};
    m = pd_k8s_forbidden_message(&a, &at, NULL, &d);
    assert_string_equal(m, "forbidden: User \"pulumi:alice\" cannot get path \"/&lt;x&gt;&amp;\"");
    ds = json_dumps(d, JSON_COMPACT);
    assert_string_equal(ds, "{}");
    free(ds);
    json_decref(d);
    /* Go's %q */
    assert_string_equal(pd_k8s_goquote(&a, "a\"b\\c\n\x01\xc3\xa9\xff"),
                        "\"a\\\"b\\\\c\\n\\x01\xc3\xa9\\xff\"");
    static const char *const gs[] = {"g", "system:authenticated"};
    assert_string_equal(pd_k8s_goquote_list(&a, gs, 2), "[\"g\" \"system:authenticated\"]");
    static const char *const e[] = {"a", "b", "a"};
    assert_string_equal(pd_k8s_aggregate_errors(&a, e, 1), "a");
    assert_string_equal(pd_k8s_aggregate_errors(&a, e, 3), "[a, b]");
    assert_string_equal(pd_k8s_aggregate_errors(&a, e, 0), "");
    pd_arena_cleanup(&a);
}

/* ---- escalation arithmetic ---- */

static void rules_of(struct pd_arena *a, const char *json, struct pd_k8s_rule **OUT, size_t *OUT_n)
{
    json_t *arr = json_loads(json, 0, NULL);
    assert_non_null(arr);
    *OUT_n = json_array_size(arr);
    *OUT = pd_arena_zalloc(a, (*OUT_n + 1) * sizeof **OUT);
    for (size_t i = 0; i < *OUT_n; i++)
        pd_k8s_rule_from_json(a, json_array_get(arr, i), &(*OUT)[i]);
    json_decref(arr);
}

static const char *missing_of(struct pd_arena *a, const char *owner, const char *servant)
{
    struct pd_k8s_rule *o, *s;
    size_t no, ns;
    rules_of(a, owner, &o, &no);
    rules_of(a, servant, &s, &ns);
    struct pd_k8s_rule_list missing = {0};
    assert_int_equal(pd_k8s_rbac_covers(a, o, no, s, ns, &missing), PD_OK);
    return pd_k8s_rbac_missing_str(a, &missing);
}

static void escalation(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    const char *pods_rw = "[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\","
                          "\"list\",\"delete\"]}]";
    /* the facts' example: one missing verb */
    assert_string_equal(
        missing_of(&a,
                   "[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\","
                   "\"list\"]}]",
                   pods_rw),
        "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}");
    assert_string_equal(missing_of(&a, pods_rw, pods_rw), "");
    /* * covers everything; verbs of one resource are compacted; output sorted */
    assert_string_equal(missing_of(&a,
                                   "[{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],\"verbs\":"
                                   "[\"*\"]}]",
                                   pods_rw),
                        "");
    assert_string_equal(
        missing_of(&a, "[]",
                   "[{\"apiGroups\":[\"\",\"apps\"],\"resources\":[\"secrets\","
                   "\"deployments\"],\"verbs\":[\"get\",\"list\"]}]"),
        "{APIGroups:[\"\"], Resources:[\"deployments\"], Verbs:[\"get\" \"list\"]}\n"
        "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}\n"
        "{APIGroups:[\"apps\"], Resources:[\"deployments\"], Verbs:[\"get\" "
        "\"list\"]}\n"
        "{APIGroups:[\"apps\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}");
    /* resource names: an owner without names covers named rules, not the other way round */
    const char *named = "[{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"resourceNames\":"
                        "[\"a\"],\"verbs\":[\"get\"]}]";
    const char *any = "[{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"verbs\":[\"get\"]}]";
    assert_string_equal(missing_of(&a, any, named), "");
    assert_string_equal(missing_of(&a, named, any),
                        "{APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"get\"]}");
    assert_string_equal(missing_of(&a, "[]", named),
                        "{APIGroups:[\"\"], Resources:[\"configmaps\"], ResourceNames:[\"a\"], "
                        "Verbs:[\"get\"]}");
    /* subresources: an owner naming "*" then "/log" covers pods/log */
    assert_string_equal(missing_of(&a,
                                   "[{\"apiGroups\":[\"\"],\"resources\":[\"*/log\"],"
                                   "\"verbs\":[\"get\"]}]",
                                   "[{\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"],\"verbs\":"
                                   "[\"get\"]}]"),
                        "");
    /* URLs: prefixes cover, exact paths do not cover longer ones */
    assert_string_equal(missing_of(&a, "[{\"nonResourceURLs\":[\"/logs/*\"],\"verbs\":[\"get\"]}]",
                                   "[{\"nonResourceURLs\":[\"/logs/a\",\"/logs\"],\"verbs\":"
                                   "[\"get\"]}]"),
                        "{NonResourceURLs:[\"/logs\"], Verbs:[\"get\"]}");
    /* huge rule lists are bounded, not expanded */
    json_t *huge = json_array(), *list = json_array();
    for (int i = 0; i < 400; i++)
        json_array_append_new(list, json_sprintf("r%d", i));
    json_array_append_new(
        huge, json_pack("{s:O, s:O, s:O}", "apiGroups", list, "resources", list, "verbs", list));
    char *text = json_dumps(huge, JSON_COMPACT);
    struct pd_k8s_rule *s;
    size_t ns;
    rules_of(&a, text, &s, &ns);
    struct pd_k8s_rule_list missing = {0};
    assert_int_equal(pd_k8s_rbac_covers(&a, NULL, 0, s, ns, &missing), PD_ETOOBIG);
    free(text);
    json_decref(list);
    json_decref(huge);
    pd_arena_cleanup(&a);
}

/* ---- aggregation ---- */

static void aggregation_union(void **state)
{
    (void)state;
    struct pd_arena a;
    pd_arena_init(&a);
    json_t *roles = json_loads(
        "[{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"1\"}},\"rules\":[{\"verbs\":[\"get\"],"
        "\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]},"
        "{\"metadata\":{\"name\":\"agg\",\"labels\":{\"x\":\"1\"}},\"aggregationRule\":{"
        "\"clusterRoleSelectors\":[{\"matchLabels\":{\"x\":\"1\"}},{\"matchExpressions\":[{"
        "\"key\":\"y\",\"operator\":\"In\",\"values\":[\"2\"]}]}]},\"rules\":[{\"verbs\":[\"*\"],"
        "\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}]},"
        "{\"metadata\":{\"name\":\"b\",\"labels\":{\"y\":\"2\"}},\"rules\":[{\"apiGroups\":[\"\"],"
        "\"resources\":[\"pods\"],\"verbs\":[\"get\"],\"resourceNames\":[]},{\"verbs\":[\"list\"],"
        "\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]},"
        "{\"metadata\":{\"name\":\"c\"},\"rules\":[{\"verbs\":[\"delete\"],\"apiGroups\":[\"\"],"
        "\"resources\":[\"pods\"]}]}]",
        0, NULL);
    assert_non_null(roles);
    json_t *got = pd_k8s_rbac_aggregated_rules(&a, json_array_get(roles, 1), roles);
    /* its own rules are overwritten; a's get; b's get is the same rule (an empty list equals a
     * missing one) and not repeated; b's list; nothing of c */
    json_t *want =
        json_loads("[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]},"
                   "{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]",
                   0, NULL);
    assert_true(pd_k8s_rbac_same_rules(got, want));
    assert_false(pd_k8s_rbac_same_rules(got, json_object_get(json_array_get(roles, 1), "rules")));
    json_decref(got);
    json_decref(want);
    json_decref(roles);
    pd_arena_cleanup(&a);
}

/* ---- protobuf bodies of the RBAC kinds ---- */

struct pbw {
    unsigned char b[512];
    size_t n;
};

static void pb_raw(struct pbw *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void pb_tag_len(struct pbw *w, unsigned num, size_t len)
{
    unsigned char t = (unsigned char)(num << 3 | 2);
    pb_raw(w, &t, 1);
    assert_true(len < 128);
    unsigned char l = (unsigned char)len;
    pb_raw(w, &l, 1);
}

static void pb_str(struct pbw *w, unsigned num, const char *s)
{
    pb_tag_len(w, num, strlen(s));
    pb_raw(w, s, strlen(s));
}

static void pb_msg(struct pbw *w, unsigned num, const struct pbw *m)
{
    pb_tag_len(w, num, m->n);
    pb_raw(w, m->b, m->n);
}

/* k8s\0 + Unknown{typeMeta{apiVersion, kind}, raw} */
static json_t *pb_decode(const char *api, const char *kind, const struct pbw *raw)
{
    struct pbw tm = {0}, u = {0};
    pb_str(&tm, 1, api);
    pb_str(&tm, 2, kind);
    pb_raw(&u, "k8s\0", 4);
    pb_msg(&u, 1, &tm);
    pb_msg(&u, 2, raw);
    json_t *o = NULL;
    const char *why = NULL;
    if (pd_k8s_pb_decode(u.b, u.n, &o, &why) != PD_OK)
        fail_msg("%s: %s", kind, why);
    return o;
}

static void protobuf_kinds(void **state)
{
    (void)state;
    /* kubectl create role r --verb=get --resource=pods: rules[{verbs, apiGroups [""], …}] */
    struct pbw meta = {0}, rule = {0}, role = {0};
    pb_str(&meta, 1, "r");
    pb_str(&meta, 3, "");
    pb_str(&rule, 1, "get");
    pb_str(&rule, 2, "");
    pb_str(&rule, 3, "pods");
    pb_msg(&role, 1, &meta);
    pb_msg(&role, 2, &rule);
    json_t *o = pb_decode("rbac.authorization.k8s.io/v1", "Role", &role);
    char *t = json_dumps(o, JSON_COMPACT);
    assert_string_equal(t, "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\","
                           "\"metadata\":{\"name\":\"r\"},\"rules\":[{\"verbs\":[\"get\"],"
                           "\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]}");
    free(t);
    json_decref(o);
    /* a binding: subjects, roleRef */
    struct pbw sub = {0}, ref = {0}, rb = {0};
    pb_str(&sub, 1, "Group");
    pb_str(&sub, 2, "rbac.authorization.k8s.io");
    pb_str(&sub, 3, "pulumi:devs");
    pb_str(&sub, 4, "");
    pb_str(&ref, 1, "rbac.authorization.k8s.io");
    pb_str(&ref, 2, "ClusterRole");
    pb_str(&ref, 3, "view");
    pb_msg(&rb, 1, &meta);
    pb_msg(&rb, 2, &sub);
    pb_msg(&rb, 3, &ref);
    o = pb_decode("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &rb);
    t = json_dumps(json_object_get(o, "subjects"), JSON_COMPACT);
    assert_string_equal(t, "[{\"kind\":\"Group\",\"apiGroup\":\"rbac.authorization.k8s.io\","
                           "\"name\":\"pulumi:devs\"}]");
    free(t);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "roleRef"), "name")),
                        "view");
    json_decref(o);
    /* a ClusterRole's aggregationRule: LabelSelector matchLabels map */
    struct pbw entry = {0}, sel = {0}, agg = {0}, cr = {0};
    pb_str(&entry, 1, "rbac.example.com/aggregate-to-monitoring");
    pb_str(&entry, 2, "true");
    pb_msg(&sel, 1, &entry);
    pb_msg(&agg, 1, &sel);
    pb_msg(&cr, 1, &meta);
    pb_msg(&cr, 3, &agg);
    o = pb_decode("rbac.authorization.k8s.io/v1", "ClusterRole", &cr);
    t = json_dumps(json_object_get(o, "aggregationRule"), JSON_COMPACT);
    assert_string_equal(t, "{\"clusterRoleSelectors\":[{\"matchLabels\":{"
                           "\"rbac.example.com/aggregate-to-monitoring\":\"true\"}}]}");
    free(t);
    json_decref(o);
    /* SubjectAccessReview: user, groups, extra (map of ExtraValue) */
    struct pbw items = {0}, xentry = {0}, ra = {0}, spec = {0}, sar = {0};
    pb_str(&items, 1, "v1");
    pb_str(&items, 1, "v2");
    pb_str(&xentry, 1, "scopes");
    pb_msg(&xentry, 2, &items);
    pb_str(&ra, 2, "get");
    pb_str(&ra, 5, "pods");
    pb_msg(&spec, 1, &ra);
    pb_str(&spec, 3, "alice");
    pb_str(&spec, 4, "devs");
    pb_msg(&spec, 5, &xentry);
    pb_msg(&sar, 2, &spec);
    o = pb_decode("authorization.k8s.io/v1", "SubjectAccessReview", &sar);
    t = json_dumps(json_object_get(o, "spec"), JSON_COMPACT);
    assert_string_equal(t, "{\"resourceAttributes\":{\"verb\":\"get\",\"resource\":\"pods\"},"
                           "\"user\":\"alice\",\"groups\":[\"devs\"],\"extra\":{\"scopes\":[\"v1\","
                           "\"v2\"]}}");
    free(t);
    json_decref(o);
    /* SelfSubjectRulesReview: spec.namespace */
    struct pbw sspec = {0}, ssrr = {0};
    pb_str(&sspec, 1, "apps");
    pb_msg(&ssrr, 2, &sspec);
    o = pb_decode("authorization.k8s.io/v1", "SelfSubjectRulesReview", &ssrr);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "spec"), "namespace")),
                        "apps");
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docs_corpus),    cmocka_unit_test(rule_matching),
        cmocka_unit_test(request_info),   cmocka_unit_test(forbidden_messages),
        cmocka_unit_test(escalation),     cmocka_unit_test(aggregation_union),
        cmocka_unit_test(protobuf_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
