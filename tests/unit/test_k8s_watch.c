/*
 * test_k8s_watch.c - watches of the per-cluster Kubernetes API (emulator/k8s/watch.c)
 * through the pipeline without sockets: the streamed body is read directly. Starting points
 * (the initial state, a resourceVersion, too old, too new), event order and types, label and
 * field selectors moving objects in and out of a watch, Tables, bookmarks and the
 * sendInitialEvents end marker, list-option validation, a watch that falls behind the
 * bounded log, a state reset, timeouts and the cap on open watches.
 */
#include "k8s_env.h"

#include <unistd.h>

#include "k8s/watch.h"

static const char *ev_type(json_t *events, size_t i)
{
    return json_string_value(json_object_get(json_array_get(events, i), "type"));
}

static const char *ev_name(json_t *events, size_t i)
{
    return jstr(json_array_get(events, i), "object.metadata.name");
}

static int64_t rv_of(json_t *o)
{
    const char *s = jstr(o, "metadata.resourceVersion");
    return s ? strtoll(s, NULL, 10) : -1;
}

static void cm(struct ctx *c, const char *name, const char *labels)
{
    const char *body = pd_arena_printf(
        &c->a, "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"data\":{\"a\":\"b\"}}", name,
        labels ? labels : "{}");
    json_decref(ok(c, "POST", "/api/v1/namespaces/default/configmaps", NULL, JSON_CT, body, 201));
}

static int64_t list_rv(struct ctx *c, const char *path)
{
    json_t *l = ok(c, "GET", path, NULL, NULL, NULL, 200);
    int64_t rv = strtoll(jstr(l, "metadata.resourceVersion"), NULL, 10);
    json_decref(l);
    return rv;
}

static void initial_then_changes(void **state)
{
    struct ctx *c = *state;
    cm(c, "one", NULL);
    int st, ended;
    struct pd_stream *s =
        open_stream(c, "/api/v1/namespaces/default/configmaps", "watch=1", NULL, &st);
    assert_int_equal(st, 200);
    assert_non_null(s);
    assert_string_equal(s->content_type, "application/json");
    json_t *ev = drain(s, &ended);
    assert_false(ended);
    /* synthetic ADDED for what exists: kube-root-ca.crt and one */
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(ev_type(ev, 0), "ADDED");
    assert_string_equal(ev_name(ev, 1), "one");
    json_decref(ev);
    ev = drain(s, &ended);
    assert_int_equal(json_array_size(ev), 0); /* nothing new: the server would park */
    json_decref(ev);

    cm(c, "two", NULL);
    json_decref(ok(c, "PATCH", "/api/v1/namespaces/default/configmaps/two", NULL,
                   "content-type: application/merge-patch+json", "{\"data\":{\"a\":\"c\"}}", 200));
    json_decref(
        ok(c, "DELETE", "/api/v1/namespaces/default/configmaps/one", NULL, NULL, NULL, 200));
    /* another kind and another namespace do not show */
    json_decref(ok(c, "POST", "/api/v1/namespaces/default/serviceaccounts", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"sa1\"}}", 201));
    ev = drain(s, &ended);
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(ev_type(ev, 0), "ADDED");
    assert_string_equal(ev_name(ev, 0), "two");
    assert_string_equal(ev_type(ev, 1), "MODIFIED");
    assert_string_equal(jstr(json_array_get(ev, 1), "object.data.a"), "c");
    assert_string_equal(ev_type(ev, 2), "DELETED");
    assert_string_equal(ev_name(ev, 2), "one");
    /* resourceVersions strictly increase; the DELETED one is the deletion's */
    int64_t a = rv_of(json_object_get(json_array_get(ev, 0), "object"));
    int64_t b = rv_of(json_object_get(json_array_get(ev, 1), "object"));
    int64_t d = rv_of(json_object_get(json_array_get(ev, 2), "object"));
    assert_true(a < b && b < d);
    json_decref(ev);
    s->done(s);
    assert_int_equal(pd_k8s_hub_watches(c->env), 0);
}

static void resume_and_limits(void **state)
{
    struct ctx *c = *state;
    int64_t rv = list_rv(c, "/api/v1/namespaces/default/configmaps");
    cm(c, "r1", NULL);
    cm(c, "r2", NULL);
    int st, ended;
    struct pd_stream *s = open_stream(
        c, "/api/v1/namespaces/default/configmaps",
        pd_arena_printf(&c->a, "watch=true&resourceVersion=%lld", (long long)rv), NULL, &st);
    assert_int_equal(st, 200);
    json_t *ev = drain(s, &ended);
    assert_int_equal(json_array_size(ev), 2); /* only what came after rv */
    assert_string_equal(ev_name(ev, 0), "r1");
    assert_string_equal(ev_name(ev, 1), "r2");
    json_decref(ev);
    s->done(s);

    /* a version from the future: 504 Timeout as kube-apiserver answers */
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/configmaps",
          pd_arena_printf(&c->a, "watch=1&resourceVersion=%lld", (long long)rv + 100000), NULL,
          NULL, 504, "Timeout", NULL);
    /* a version before what the log holds (it restarts when the state changes outside the
     * API): one ERROR event (410 Expired), then the end */
    pd_k8s_state_changed(c->env, c->id);
    cm(c, "r3", NULL);
    s = open_stream(c, "/api/v1/namespaces/default/configmaps",
                    pd_arena_printf(&c->a, "watch=true&resourceVersion=%lld", (long long)rv), NULL,
                    &st);
    assert_int_equal(st, 200);
    ev = drain(s, &ended);
    assert_true(ended);
    assert_int_equal(json_array_size(ev), 1);
    assert_string_equal(ev_type(ev, 0), "ERROR");
    json_t *o = json_object_get(json_array_get(ev, 0), "object");
    status_is(o, 410, "Expired", NULL);
    assert_non_null(strstr(jstr(o, "message"), "too old resource version: "));
    json_decref(ev);
    s->done(s);
    /* bad options */
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/configmaps",
          "watch=1&sendInitialEvents=true", NULL, NULL, 422, "Invalid",
          "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
          "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/configmaps",
          "watch=1&resourceVersionMatch=NotOlderThan", NULL, NULL, 422, "Invalid",
          "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: "
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/configmaps",
          "watch=1&fieldSelector=spec.bogus%3Dx", NULL, NULL, 400, "BadRequest",
          "field label not supported: spec.bogus");
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/configmaps", "watch=1&resourceVersion=x",
          NULL, NULL, 400, "BadRequest", "invalid resource version: x");
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/configmaps", "watch=1",
          "accept: application/vnd.kubernetes.protobuf;stream=watch", NULL, 406, "NotAcceptable",
          NULL);
    /* bob may not watch (RBAC verb watch) */
    fails(c, c->bob, "GET", "/api/v1/namespaces/default/configmaps", "watch=1", NULL, NULL, 403,
          "Forbidden", NULL);
}

static void selectors_move_objects(void **state)
{
    struct ctx *c = *state;
    int64_t rv = list_rv(c, "/api/v1/namespaces/default/configmaps");
    int st, ended;
    struct pd_stream *s =
        open_stream(c, "/api/v1/namespaces/default/configmaps",
                    pd_arena_printf(&c->a, "watch=1&labelSelector=app%%3Dweb&resourceVersion=%lld",
                                    (long long)rv),
                    NULL, &st);
    struct pd_stream *byname = open_stream(
        c, "/api/v1/namespaces/default/configmaps",
        pd_arena_printf(&c->a, "watch=1&fieldSelector=metadata.name%%3Dsel&resourceVersion=%lld",
                        (long long)rv),
        NULL, &st);
    assert_non_null(s);
    assert_non_null(byname);
    cm(c, "sel", "{\"app\":\"db\"}");
    cm(c, "other", "{\"app\":\"web\"}");
    json_decref(ok(c, "PATCH", "/api/v1/namespaces/default/configmaps/sel", NULL,
                   "content-type: application/merge-patch+json",
                   "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}", 200));
    json_decref(ok(c, "PATCH", "/api/v1/namespaces/default/configmaps/sel", NULL,
                   "content-type: application/merge-patch+json",
                   "{\"metadata\":{\"labels\":{\"app\":\"old\"}}}", 200));
    json_t *ev = drain(s, &ended);
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(ev_type(ev, 0), "ADDED"); /* other, created matching */
    assert_string_equal(ev_name(ev, 0), "other");
    assert_string_equal(ev_type(ev, 1), "ADDED"); /* sel, labelled into the selection */
    assert_string_equal(ev_name(ev, 1), "sel");
    assert_string_equal(ev_type(ev, 2), "DELETED"); /* and out of it: its previous state */
    json_t *o = json_object_get(json_array_get(ev, 2), "object");
    assert_string_equal(jstr(o, "metadata.labels.app"), "web");
    json_decref(ev);
    ev = drain(byname, &ended);
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(ev_type(ev, 0), "ADDED");
    assert_string_equal(ev_type(ev, 1), "MODIFIED");
    assert_string_equal(ev_type(ev, 2), "MODIFIED");
    json_decref(ev);
    s->done(s);
    byname->done(byname);
    /* a GET of one object with watch=true watches that name */
    s = open_stream(c, "/api/v1/namespaces/default/configmaps/other", "watch=true", NULL, &st);
    assert_int_equal(st, 200);
    ev = drain(s, &ended);
    assert_int_equal(json_array_size(ev), 1);
    assert_string_equal(ev_name(ev, 0), "other");
    json_decref(ev);
    s->done(s);
}

static void tables_and_bookmarks(void **state)
{
    struct ctx *c = *state;
    int st, ended;
    struct pd_stream *s = open_stream(c, "/api/v1/namespaces/default/configmaps", "watch=1",
                                      "accept: application/json;as=Table;v=v1;g=meta.k8s.io", &st);
    json_t *ev = drain(s, &ended);
    assert_true(json_array_size(ev) >= 1);
    json_t *t0 = json_object_get(json_array_get(ev, 0), "object");
    assert_string_equal(jstr(t0, "kind"), "Table");
    assert_int_equal(json_array_size(json_object_get(t0, "columnDefinitions")), 3);
    assert_int_equal(json_array_size(json_object_get(t0, "rows")), 1);
    if (json_array_size(ev) > 1) {
        json_t *t1 = json_object_get(json_array_get(ev, 1), "object");
        assert_int_equal(json_array_size(json_object_get(t1, "columnDefinitions")), 0);
    }
    json_decref(ev);
    cm(c, "tbl", NULL);
    ev = drain(s, &ended);
    assert_int_equal(json_array_size(ev), 1);
    t0 = json_object_get(json_array_get(ev, 0), "object");
    assert_string_equal(jstr(t0, "rows.0.cells.0"), "tbl");
    assert_string_equal(jstr(t0, "rows.0.object.kind"), "PartialObjectMetadata");
    assert_int_equal(json_array_size(json_object_get(t0, "columnDefinitions")), 0);
    json_decref(ev);
    s->done(s);

    /* sendInitialEvents: the state, then a bookmark marking its end */
    s = open_stream(c, "/api/v1/namespaces/default/configmaps",
                    "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&"
                    "allowWatchBookmarks=true",
                    NULL, &st);
    assert_int_equal(st, 200);
    ev = drain(s, &ended);
    size_t n = json_array_size(ev);
    assert_true(n >= 2);
    assert_string_equal(ev_type(ev, n - 1), "BOOKMARK");
    json_t *bm = json_object_get(json_array_get(ev, n - 1), "object");
    assert_string_equal(jstr(bm, "kind"), "ConfigMap");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(bm, "metadata"), "annotations"),
                            "k8s.io/initial-events-end")),
                        "true");
    for (size_t i = 0; i + 1 < n; i++)
        assert_string_equal(ev_type(ev, i), "ADDED");
    json_decref(ev);
    s->done(s);
    /* timeoutSeconds ends the watch */
    s = open_stream(c, "/api/v1/namespaces/default/configmaps", "watch=1&timeoutSeconds=1", NULL,
                    &st);
    json_decref(drain(s, &ended));
    assert_false(ended);
    usleep(1100 * 1000);
    json_decref(drain(s, &ended));
    assert_true(ended);
    s->done(s);
}

static void falls_behind_and_reset(void **state)
{
    struct ctx *c = *state;
    int st, ended;
    struct pd_stream *s =
        open_stream(c, "/api/v1/namespaces/default/configmaps", "watch=1", NULL, &st);
    json_decref(drain(s, &ended));
    /* more changes than the log keeps, none read: the watch lost events and expires */
    for (int i = 0; i < PD_K8S_LOG_EVENTS + 10; i++)
        json_decref(ok(c, "PATCH", "/api/v1/namespaces/default/configmaps/kube-root-ca.crt", NULL,
                       "content-type: application/merge-patch+json",
                       pd_arena_printf(&c->a, "{\"metadata\":{\"labels\":{\"n\":\"%d\"}}}", i),
                       200));
    json_t *ev = drain(s, &ended);
    assert_true(ended);
    assert_int_equal(json_array_size(ev), 1);
    assert_string_equal(ev_type(ev, 0), "ERROR");
    status_is(json_object_get(json_array_get(ev, 0), "object"), 410, "Expired", NULL);
    json_decref(ev);
    s->done(s);

    /* a reset of the state ends every watch the same way */
    s = open_stream(c, "/api/v1/namespaces/default/configmaps", "watch=1", NULL, &st);
    json_decref(drain(s, &ended));
    struct pd_req *r = pt_http(c->env, "POST", "/_podiam/reset", NULL, "x-podiam-admin: 1", NULL);
    assert_int_equal(r->resp.status, 200);
    pd_req_free(r);
    ev = drain(s, &ended);
    assert_true(ended);
    assert_string_equal(ev_type(ev, 0), "ERROR");
    json_decref(ev);
    s->done(s);
}

static void watch_cap(void **state)
{
    struct ctx *c = *state;
    static struct pd_stream *open[PD_K8S_WATCHES_MAX];
    int st;
    for (size_t i = 0; i < PD_K8S_WATCHES_MAX; i++) {
        open[i] =
            open_stream(c, "/api/v1/namespaces/default/serviceaccounts",
                        "watch=1&resourceVersion=0&fieldSelector=metadata.name%3Dnone", NULL, &st);
        assert_non_null(open[i]);
    }
    assert_int_equal(pd_k8s_hub_watches(c->env), PD_K8S_WATCHES_MAX);
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/serviceaccounts", "watch=1", NULL, NULL,
          429, "TooManyRequests", NULL);
    for (size_t i = 0; i < PD_K8S_WATCHES_MAX; i++)
        open[i]->done(open[i]);
    assert_int_equal(pd_k8s_hub_watches(c->env), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(initial_then_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(resume_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(selectors_move_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(tables_and_bookmarks, setup, teardown),
        cmocka_unit_test_setup_teardown(falls_behind_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(watch_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
