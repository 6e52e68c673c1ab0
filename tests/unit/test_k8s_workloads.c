/*
 * test_k8s_workloads.c - the workload kinds and their controllers (emulator/k8s/
 * workloads.c, controllers.c, cron.c) through the pipeline: the controllers are run on the
 * test's thread (pd_k8s_controllers_run) after each change. Deployments (ReplicaSet, pods,
 * status, scale subresource, a new template, rollback, garbage collection), Jobs (completion
 * on the virtual node, ttlSecondsAfterFinished), CronJobs on podiam's clock, the status
 * subresource, pods/log, deletecollection, refusals, and that a converged cluster is left
 * alone (no writes, no events).
 */
#include "k8s_env.h"

#include <time.h>

#include "core/err.h"

#define DEP_CT "content-type: application/merge-patch+json"

/* Move podiam's (fixed) clock on, and sign the admin's token at the new time. */
static void advance(struct ctx *c, int64_t ms)
{
    int64_t now = atomic_fetch_add(&c->env->clock.fixed_ms, ms) + ms;
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char amz[32];
    strftime(amz, sizeof amz, "%Y%m%dT%H%M%SZ", &tm);
    c->admin = pd_arena_printf(&c->a, "authorization: Bearer %s",
                               aws_token_at(&c->a, "https://sts.us-east-1.amazonaws.com", "test",
                                            "test", "demo", amz, NULL, 0, NULL));
}

static void run(struct ctx *c)
{
    assert_int_equal(pd_k8s_controllers_run(c->env, c->id), PD_OK);
}

static json_t *items(struct ctx *c, const char *path, const char *query)
{
    json_t *v = ok(c, "GET", path, query, NULL, NULL, 200);
    json_t *it = json_incref(json_object_get(v, "items"));
    json_decref(v);
    return it;
}

static int64_t cluster_rv(struct ctx *c)
{
    json_t *v = ok(c, "GET", "/api/v1/namespaces", NULL, NULL, NULL, 200);
    int64_t rv = strtoll(jstr(v, "metadata.resourceVersion"), NULL, 10);
    json_decref(v);
    return rv;
}

static const char *DEPLOY =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},"
    "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
    "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"image\":\"nginx:1\"}]}}}}";

static void deployment_lifecycle(void **state)
{
    struct ctx *c = *state;
    json_t *v =
        ok(c, "POST", "/apis/apps/v1/namespaces/default/deployments", NULL, JSON_CT, DEPLOY, 201);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(v, "metadata"), "generation")), 1);
    assert_string_equal(jstr(v, "spec.strategy.type"), "RollingUpdate");
    json_decref(v);
    run(c);
    json_t *rs = items(c, "/apis/apps/v1/namespaces/default/replicasets", NULL);
    assert_int_equal(json_array_size(rs), 1);
    const char *hash = jstr(rs, "0.metadata.labels.pod-template-hash");
    assert_non_null(hash);
    char rsname[64];
    snprintf(rsname, sizeof rsname, "web-%s", hash);
    assert_string_equal(jstr(rs, "0.metadata.name"), rsname);
    assert_string_equal(jstr(rs, "0.metadata.ownerReferences.0.kind"), "Deployment");
    json_t *ann =
        json_object_get(json_object_get(json_array_get(rs, 0), "metadata"), "annotations");
    assert_string_equal(
        json_string_value(json_object_get(ann, "deployment.kubernetes.io/revision")), "1");
    json_decref(rs);
    json_t *pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=app%3Dweb");
    assert_int_equal(json_array_size(pods), 2);
    assert_string_equal(jstr(pods, "0.status.phase"), "Running");
    assert_string_equal(jstr(pods, "0.metadata.ownerReferences.0.name"), rsname);
    json_decref(pods);
    v = ok(c, "GET", "/apis/apps/v1/namespaces/default/deployments/web", NULL, NULL, NULL, 200);
    json_t *st = json_object_get(v, "status");
    assert_int_equal(json_integer_value(json_object_get(st, "readyReplicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "updatedReplicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 1);
    assert_string_equal(jstr(v, "status.conditions.1.reason"), "NewReplicaSetAvailable");
    json_decref(v);

    /* converged: running again writes nothing */
    int64_t before = cluster_rv(c);
    run(c);
    assert_int_equal(cluster_rv(c), before);

    /* the scale subresource */
    v = ok(c, "GET", "/apis/apps/v1/namespaces/default/deployments/web/scale", NULL, NULL, NULL,
           200);
    assert_string_equal(jstr(v, "kind"), "Scale");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "spec"), "replicas")),
                     2);
    assert_string_equal(jstr(v, "status.selector"), "app=web");
    json_decref(v);
    json_decref(ok(c, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", NULL,
                   DEP_CT, "{\"spec\":{\"replicas\":3}}", 200));
    fails(c, c->admin, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", NULL,
          DEP_CT, "{\"spec\":{\"replicas\":-1}}", 422, "Invalid", NULL);
    run(c);
    pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=app%3Dweb");
    assert_int_equal(json_array_size(pods), 3);
    json_decref(pods);

    /* a new template: a second ReplicaSet; the first is scaled to 0, its pods go */
    json_decref(ok(c, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", NULL, DEP_CT,
                   "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                   "\"image\":\"nginx:2\"}]}}}}",
                   200));
    run(c);
    rs = items(c, "/apis/apps/v1/namespaces/default/replicasets", NULL);
    assert_int_equal(json_array_size(rs), 2);
    json_decref(rs);
    pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=app%3Dweb");
    assert_int_equal(json_array_size(pods), 3);
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p)
    {
        assert_string_equal(jstr(p, "spec.containers.0.image"), "nginx:2");
    }
    json_decref(pods);
    v = ok(c, "GET", "/apis/apps/v1/namespaces/default/deployments/web", NULL, NULL, NULL, 200);
    /* generation 1, then the scale, then the template */
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(v, "metadata"), "generation")), 3);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(v, "status"), "observedGeneration")), 3);
    json_decref(v);

    /* deleting the deployment: its ReplicaSets and pods are collected */
    json_decref(
        ok(c, "DELETE", "/apis/apps/v1/namespaces/default/deployments/web", NULL, NULL, NULL, 200));
    run(c);
    rs = items(c, "/apis/apps/v1/namespaces/default/replicasets", NULL);
    assert_int_equal(json_array_size(rs), 0);
    json_decref(rs);
    pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=app%3Dweb");
    assert_int_equal(json_array_size(pods), 0);
    json_decref(pods);
    /* and Events tell what happened */
    json_t *ev = items(c, "/api/v1/namespaces/default/events", NULL);
    int scaled = 0;
    json_array_foreach(ev, i, p)
    {
        scaled += strcmp(jstr(p, "reason"), "ScalingReplicaSet") == 0;
    }
    assert_true(scaled >= 3);
    json_decref(ev);
}

static void jobs_and_cronjobs(void **state)
{
    struct ctx *c = *state;
    json_t *v = ok(c, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"once\"},\"spec\":{\"completions\":2,"
                   "\"ttlSecondsAfterFinished\":60,\"template\":{\"spec\":{\"restartPolicy\":"
                   "\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
                   201);
    const char *uid = pd_arena_strdup(&c->a, jstr(v, "metadata.uid"));
    json_t *ml =
        json_object_get(json_object_get(json_object_get(v, "spec"), "selector"), "matchLabels");
    assert_string_equal(
        json_string_value(json_object_get(ml, "batch.kubernetes.io/controller-uid")), uid);
    json_decref(v);
    run(c);
    v = ok(c, "GET", "/apis/batch/v1/namespaces/default/jobs/once", NULL, NULL, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "status"), "succeeded")),
                     2);
    assert_string_equal(jstr(v, "status.conditions.0.type"), "SuccessCriteriaMet");
    assert_string_equal(jstr(v, "status.conditions.1.type"), "Complete");
    assert_non_null(jstr(v, "status.completionTime"));
    json_decref(v);
    json_t *pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=job-name%3Donce");
    assert_int_equal(json_array_size(pods), 2);
    assert_string_equal(jstr(pods, "0.status.phase"), "Succeeded");
    assert_string_equal(jstr(pods, "0.status.containerStatuses.0.state.terminated.reason"),
                        "Completed");
    json_decref(pods);
    /* ttlSecondsAfterFinished on podiam's clock: the Job, then its pods, go */
    advance(c, 61000);
    run(c);
    fails(c, c->admin, "GET", "/apis/batch/v1/namespaces/default/jobs/once", NULL, NULL, NULL, 404,
          "NotFound", NULL);
    pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=job-name%3Donce");
    assert_int_equal(json_array_size(pods), 0);
    json_decref(pods);

    /* refusals */
    fails(c, c->admin, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"bad\"},\"spec\":{\"template\":{\"spec\":{\"containers\":[{"
          "\"name\":\"c\",\"image\":\"x\"}]}}}}",
          422, "Invalid", NULL);
    fails(c, c->admin, "POST", "/apis/batch/v1/namespaces/default/cronjobs", NULL, JSON_CT,
          "{\"metadata\":{\"name\":\"bad\"},\"spec\":{\"schedule\":\"61 * * * *\",\"jobTemplate\":"
          "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}"
          "}}",
          422, "Invalid", NULL);

    /* a CronJob runs when podiam's clock passes its time, once per time */
    json_decref(ok(c, "POST", "/apis/batch/v1/namespaces/default/cronjobs", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"tick\"},\"spec\":{\"schedule\":\"*/5 * * * *\","
                   "\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
                   "\"c\",\"image\":\"x\"}]}}}}}}",
                   201));
    run(c);
    json_t *js = items(c, "/apis/batch/v1/namespaces/default/jobs", NULL);
    assert_int_equal(json_array_size(js), 0);
    json_decref(js);
    advance(c, 5 * 60000);
    run(c);
    run(c);
    js = items(c, "/apis/batch/v1/namespaces/default/jobs", NULL);
    assert_int_equal(json_array_size(js), 1);
    assert_string_equal(jstr(js, "0.metadata.ownerReferences.0.name"), "tick");
    json_decref(js);
    v = ok(c, "GET", "/apis/batch/v1/namespaces/default/cronjobs/tick", NULL, NULL, NULL, 200);
    assert_non_null(jstr(v, "status.lastScheduleTime"));
    json_decref(v);
    /* the clock ten years on: one Job for the latest missed time, found at once */
    advance(c, 10LL * 365 * 86400 * 1000);
    run(c);
    js = items(c, "/apis/batch/v1/namespaces/default/jobs", NULL);
    assert_int_equal(json_array_size(js), 2);
    json_decref(js);
    v = ok(c, "GET", "/apis/batch/v1/namespaces/default/cronjobs/tick", NULL, NULL, NULL, 200);
    int64_t last = 0;
    assert_int_equal(pd_time_parse_iso8601(jstr(v, "status.lastScheduleTime"), &last), PD_OK);
    assert_true(pd_clock_now_ms(&c->env->clock) - last < 5 * 60000);
    json_decref(v);

    /* deleting a Job: its pods are orphaned by default (kube's default for Jobs), collected
     * with propagationPolicy=Background; an unknown policy is refused */
    static const char *const job =
        "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"template\":{\"spec\":{"
        "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}";
    json_decref(ok(c, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, JSON_CT,
                   pd_arena_printf(&c->a, job, "keep"), 201));
    json_decref(ok(c, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, JSON_CT,
                   pd_arena_printf(&c->a, job, "drop"), 201));
    run(c);
    fails(c, c->admin, "DELETE", "/apis/batch/v1/namespaces/default/jobs/keep",
          "propagationPolicy=Sideways", NULL, NULL, 400, "BadRequest", NULL);
    json_decref(
        ok(c, "DELETE", "/apis/batch/v1/namespaces/default/jobs/keep", NULL, NULL, NULL, 200));
    json_decref(ok(c, "DELETE", "/apis/batch/v1/namespaces/default/jobs/drop", NULL, JSON_CT,
                   "{\"propagationPolicy\":\"Background\"}", 200));
    run(c);
    pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=job-name%3Dkeep");
    assert_int_equal(json_array_size(pods), 1);
    assert_null(
        json_object_get(json_object_get(json_array_get(pods, 0), "metadata"), "ownerReferences"));
    json_decref(pods);
    pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=job-name%3Ddrop");
    assert_int_equal(json_array_size(pods), 0);
    json_decref(pods);
}

static void sets_and_subresources(void **state)
{
    struct ctx *c = *state;
    json_decref(ok(c, "POST", "/apis/apps/v1/namespaces/default/statefulsets", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"db\"},\"spec\":{\"replicas\":2,\"selector\":{"
                   "\"matchLabels\":{\"a\":\"db\"}},\"template\":{\"metadata\":{\"labels\":{\"a\":"
                   "\"db\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}",
                   201));
    json_decref(ok(c, "POST", "/apis/apps/v1/namespaces/default/daemonsets", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"agent\"},\"spec\":{\"selector\":{\"matchLabels\":{"
                   "\"a\":\"ds\"}},\"template\":{\"metadata\":{\"labels\":{\"a\":\"ds\"}},\"spec\":"
                   "{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}",
                   201));
    run(c);
    json_decref(ok(c, "GET", "/api/v1/namespaces/default/pods/db-0", NULL, NULL, NULL, 200));
    json_decref(ok(c, "GET", "/api/v1/namespaces/default/pods/db-1", NULL, NULL, NULL, 200));
    json_t *ds = items(c, "/api/v1/namespaces/default/pods", "labelSelector=a%3Dds");
    assert_int_equal(json_array_size(ds), 1); /* one node: the virtual one */
    assert_string_equal(jstr(ds, "0.spec.nodeName"), "podiam-node");
    json_decref(ds);
    json_t *n = ok(c, "GET", "/api/v1/nodes/podiam-node", NULL, NULL, NULL, 200);
    assert_string_equal(jstr(n, "status.conditions.0.reason"), "KubeletReady");
    json_decref(n);

    /* a pod bound to another node waits there (no kubelet reports for it) */
    json_t *pend = ok(c, "POST", "/api/v1/namespaces/default/pods", NULL, JSON_CT,
                      "{\"metadata\":{\"name\":\"elsewhere\"},\"spec\":{\"nodeName\":"
                      "\"laptop\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
                      201);
    assert_string_equal(jstr(pend, "status.phase"), "Pending");
    assert_string_equal(jstr(pend, "spec.nodeName"), "laptop");
    json_decref(pend);

    /* pods/status: only the status changes */
    json_t *v =
        ok(c, "PATCH", "/api/v1/namespaces/default/pods/db-0/status", NULL, DEP_CT,
           "{\"metadata\":{\"labels\":{\"x\":\"y\"}},\"status\":{\"phase\":\"Failed\"}}", 200);
    assert_string_equal(jstr(v, "status.phase"), "Failed");
    assert_null(jstr(v, "metadata.labels.x"));
    json_decref(v);
    /* pods/log: the container is checked; the virtual node ran nothing */
    int st;
    v = call(c, c->admin, "GET", "/api/v1/namespaces/default/pods/db-0/log", NULL, NULL, NULL, &st);
    assert_int_equal(st, 200);
    json_decref(v);
    fails(c, c->admin, "GET", "/api/v1/namespaces/default/pods/db-0/log", "container=nope", NULL,
          NULL, 400, "BadRequest", "container nope is not valid for pod db-0");
    /* deletecollection */
    v = ok(c, "DELETE", "/api/v1/namespaces/default/pods", "labelSelector=a%3Dds", NULL, NULL, 200);
    assert_string_equal(jstr(v, "kind"), "PodList");
    assert_int_equal(json_array_size(json_object_get(v, "items")), 1);
    json_decref(v);
    fails(c, c->admin, "DELETE", "/api/v1/namespaces", NULL, NULL, NULL, 405, "MethodNotAllowed",
          NULL);
    /* a secret's stringData becomes data */
    v = ok(c, "POST", "/api/v1/namespaces/default/secrets", NULL, JSON_CT,
           "{\"metadata\":{\"name\":\"s\"},\"stringData\":{\"k\":\"hello\"}}", 201);
    assert_string_equal(jstr(v, "data.k"), "aGVsbG8=");
    assert_string_equal(jstr(v, "type"), "Opaque");
    assert_null(json_object_get(v, "stringData"));
    json_decref(v);
}

/* A Job whose pods fail (bound to a node where the test reports them Failed): a new pod per
 * failure up to backoffLimit, then FailureTarget and Failed (BackoffLimitExceeded). */
static void job_backoff(void **state)
{
    struct ctx *c = *state;
    json_decref(ok(c, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"flaky\"},\"spec\":{\"backoffLimit\":1,"
                   "\"template\":{\"spec\":{\"nodeName\":\"laptop\",\"restartPolicy\":"
                   "\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}",
                   201));
    for (int round = 0; round < 2; round++) {
        run(c);
        json_t *pods =
            items(c, "/api/v1/namespaces/default/pods", "labelSelector=job-name%3Dflaky");
        assert_int_equal(json_array_size(pods), (size_t)round + 1);
        size_t i;
        json_t *p;
        json_array_foreach(pods, i, p)
        {
            if (strcmp(jstr(p, "status.phase"), "Pending") != 0)
                continue;
            const char *path = pd_arena_printf(&c->a, "/api/v1/namespaces/default/pods/%s/status",
                                               jstr(p, "metadata.name"));
            json_decref(
                ok(c, "PATCH", path, NULL, DEP_CT, "{\"status\":{\"phase\":\"Failed\"}}", 200));
        }
        json_decref(pods);
    }
    run(c);
    json_t *v = ok(c, "GET", "/apis/batch/v1/namespaces/default/jobs/flaky", NULL, NULL, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "status"), "failed")),
                     2);
    assert_string_equal(jstr(v, "status.conditions.0.type"), "FailureTarget");
    assert_string_equal(jstr(v, "status.conditions.1.type"), "Failed");
    assert_string_equal(jstr(v, "status.conditions.1.reason"), "BackoffLimitExceeded");
    json_decref(v);
    /* finished: no more pods */
    run(c);
    json_t *pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=job-name%3Dflaky");
    assert_int_equal(json_array_size(pods), 2);
    json_decref(pods);
}

/* A ReplicaSet whose pods are refused (no such service account): one FailedCreate Event,
 * its count bumped by each new attempt, no pods, nothing else written. */
static void refused_pods_one_event(void **state)
{
    struct ctx *c = *state;
    json_decref(ok(c, "POST", "/apis/apps/v1/namespaces/default/replicasets", NULL, JSON_CT,
                   "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"replicas\":2,\"selector\":{"
                   "\"matchLabels\":{\"a\":\"r\"}},\"template\":{\"metadata\":{\"labels\":{"
                   "\"a\":\"r\"}},\"spec\":{\"serviceAccountName\":\"ghost\",\"containers\":[{"
                   "\"name\":\"c\",\"image\":\"x\"}]}}}}",
                   201));
    run(c);
    run(c);
    json_t *pods = items(c, "/api/v1/namespaces/default/pods", "labelSelector=a%3Dr");
    assert_int_equal(json_array_size(pods), 0);
    json_decref(pods);
    json_t *ev = items(c, "/api/v1/namespaces/default/events", NULL);
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(ev, i, e)
    {
        if (strcmp(jstr(e, "reason"), "FailedCreate") == 0) {
            n++;
            assert_int_equal(json_integer_value(json_object_get(e, "count")), 2);
        }
    }
    assert_int_equal(n, 1);
    json_decref(ev);
}

static void cron_schedules(void **state)
{
    (void)state;
    int64_t t0 = 1767225600000LL; /* 2026-01-01T00:00:00Z, a Thursday */
    int64_t next;
    assert_int_equal(pd_k8s_cron_next("*/5 * * * *", t0, &next), PD_OK);
    assert_int_equal(next, t0 + 5 * 60000);
    assert_int_equal(pd_k8s_cron_next("@hourly", t0, &next), PD_OK);
    assert_int_equal(next, t0 + 3600000);
    assert_int_equal(pd_k8s_cron_next("30 2 * * mon", t0, &next), PD_OK);
    assert_int_equal(next, t0 + 4 * 86400000LL + 2 * 3600000 + 30 * 60000); /* Monday the 5th */
    assert_int_equal(pd_k8s_cron_next("0 0 1 jan *", t0, &next), PD_OK);
    assert_int_equal(next, 1798761600000LL); /* 2027-01-01 */
    assert_int_equal(pd_k8s_cron_next("0 0 30 2 *", t0, &next), PD_ENOTFOUND);
    static const char *const bad[] = {"",          "* * * *",          "60 * * * *", "* 24 * * *",
                                      "* * 0 * *", "* * * 13 *",       "* * * * 8",  "*/0 * * * *",
                                      "a b c d e", "TZ=UTC * * * * *", "1-",         "* * * * * *",
                                      NULL};
    for (const char *const *b = bad; *b; b++)
        assert_int_equal(pd_k8s_cron_check(*b), PD_EINVAL);
    assert_int_equal(pd_k8s_cron_check("0,15,30-45/5 1-3 ? */2 7"), PD_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(deployment_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(jobs_and_cronjobs, setup, teardown),
        cmocka_unit_test_setup_teardown(sets_and_subresources, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_pods_one_event, setup, teardown),
        cmocka_unit_test_setup_teardown(job_backoff, setup, teardown),
        cmocka_unit_test(cron_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
