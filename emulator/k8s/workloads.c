/*
 * workloads.c - the kinds added for workloads (reference/kubernetes-access-facts.md §6, §7):
 * core Secrets, Services, Endpoints, Events, Nodes; apps/v1 Deployments, ReplicaSets,
 * StatefulSets, DaemonSets; batch/v1 Jobs and CronJobs. Their defaults and validation on
 * create and update (hooks), their Table columns (kubectl's printers), their subresources
 * (status, scale, pods/log, pods/eviction, pods/binding) and the built-in virtual node. What
 * makes the objects behave (ReplicaSets and pods appearing, Jobs completing) is in
 * controllers.c.
 */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/str.h"
#include "env.h"
#include "k8s/internal.h"
#include "req.h"

/* ---- helpers ---- */

static json_t *jget(const json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return b ? json_object_get(v, b) : v;
}

static json_int_t jint(const json_t *o, const char *a, const char *b)
{
    return json_integer_value(jget(o, a, b));
}

static void set_default(json_t *o, const char *k, json_t *v)
{
    if (!json_object_get(o, k))
        json_object_set_new(o, k, v);
    else
        json_decref(v);
}

static json_t *obj_child(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(o, k, v);
    }
    return v;
}

/* ---- cells ---- */

static json_t *age(const json_t *o, int64_t now_ms)
{
    const char *ts = json_string_value(jget(o, "metadata", "creationTimestamp"));
    int64_t ms = 0;
    if (ts)
        pd_time_parse_iso8601(ts, &ms);
    char out[32];
    pd_k8s_age(now_ms, ms, out);
    return json_string(out);
}

static json_t *since(const char *ts, int64_t now_ms)
{
    int64_t ms = 0;
    if (!ts || pd_time_parse_iso8601(ts, &ms))
        return json_string("<unknown>");
    char out[32];
    pd_k8s_age(now_ms, ms, out);
    return json_string(out);
}

static json_t *str_or(const char *s, const char *dflt)
{
    return json_string(s && *s ? s : dflt);
}

#define CELL(name) static json_t *name(const json_t *o, int64_t now_ms)
#define UNUSED_NOW (void)now_ms

CELL(c_age)
{
    return age(o, now_ms);
}
CELL(c_secret_type)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(o, "type", NULL)), "Opaque");
}
CELL(c_data_count)
{
    UNUSED_NOW;
    return json_integer((json_int_t)json_object_size(jget(o, "data", NULL)));
}
CELL(c_svc_type)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(o, "spec", "type")), "ClusterIP");
}
CELL(c_svc_ip)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(o, "spec", "clusterIP")), "<none>");
}
CELL(c_svc_ext)
{
    UNUSED_NOW;
    json_t *ing = jget(jget(o, "status", "loadBalancer"), "ingress", NULL);
    const char *t = json_string_value(jget(o, "spec", "type"));
    if (json_array_size(ing)) {
        json_t *i0 = json_array_get(ing, 0);
        const char *h = json_string_value(json_object_get(i0, "hostname"));
        return str_or(h ? h : json_string_value(json_object_get(i0, "ip")), "<pending>");
    }
    return json_string(t && strcmp(t, "LoadBalancer") == 0 ? "<pending>" : "<none>");
}
CELL(c_svc_ports)
{
    UNUSED_NOW;
    char out[256] = "";
    size_t i, used = 0;
    json_t *p;
    json_array_foreach(jget(o, "spec", "ports"), i, p)
    {
        const char *proto = json_string_value(json_object_get(p, "protocol"));
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        int n;
        if (np)
            n = snprintf(out + used, sizeof out - used, "%s%lld:%lld/%s", i ? "," : "",
                         (long long)json_integer_value(json_object_get(p, "port")), (long long)np,
                         proto ? proto : "TCP");
        else
            n = snprintf(out + used, sizeof out - used, "%s%lld/%s", i ? "," : "",
                         (long long)json_integer_value(json_object_get(p, "port")),
                         proto ? proto : "TCP");
        if (n < 0 || (size_t)n >= sizeof out - used)
            break;
        used += (size_t)n;
    }
    return json_string(used ? out : "<none>");
}
/* matchLabels (or a Service's selector map) as a=b,c=d */
static json_t *labels_str(const json_t *m)
{
    char out[512] = "";
    size_t used = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v)
    {
        int n = snprintf(out + used, sizeof out - used, "%s%s=%s", used ? "," : "", k,
                         json_is_string(v) ? json_string_value(v) : "");
        if (n < 0 || (size_t)n >= sizeof out - used)
            break;
        used += (size_t)n;
    }
    return json_string(used ? out : "<none>");
}
CELL(c_svc_selector)
{
    UNUSED_NOW;
    return labels_str(jget(o, "spec", "selector"));
}
CELL(c_sel)
{
    UNUSED_NOW;
    return labels_str(jget(jget(o, "spec", "selector"), "matchLabels", NULL));
}
CELL(c_endpoints)
{
    UNUSED_NOW;
    char out[256] = "";
    size_t used = 0, shown = 0, total = 0, i, j, k;
    json_t *s, *a, *p;
    json_array_foreach(jget(o, "subsets", NULL), i, s)
    {
        json_array_foreach(json_object_get(s, "addresses"), j, a)
        {
            json_t *ports = json_object_get(s, "ports");
            size_t np = json_array_size(ports) ? json_array_size(ports) : 1;
            for (k = 0; k < np; k++) {
                total++;
                if (shown >= 3)
                    continue;
                p = json_array_get(ports, k);
                const char *ip = json_string_value(json_object_get(a, "ip"));
                int n = p ? snprintf(out + used, sizeof out - used, "%s%s:%lld", used ? "," : "",
                                     ip ? ip : "",
                                     (long long)json_integer_value(json_object_get(p, "port")))
                          : snprintf(out + used, sizeof out - used, "%s%s", used ? "," : "",
                                     ip ? ip : "");
                if (n < 0 || (size_t)n >= sizeof out - used)
                    break;
                used += (size_t)n;
                shown++;
            }
        }
    }
    if (total > shown && used < sizeof out - 32)
        snprintf(out + used, sizeof out - used, " + %zu more...", total - shown);
    return json_string(used ? out : "<none>");
}
CELL(c_ev_last)
{
    const char *t = json_string_value(jget(o, "lastTimestamp", NULL));
    if (!t)
        t = json_string_value(jget(o, "eventTime", NULL));
    if (!t)
        t = json_string_value(jget(o, "metadata", "creationTimestamp"));
    return since(t, now_ms);
}
CELL(c_ev_type)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(o, "type", NULL)), "Normal");
}
CELL(c_ev_reason)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(o, "reason", NULL)), "");
}
CELL(c_ev_object)
{
    UNUSED_NOW;
    const char *k = json_string_value(jget(o, "involvedObject", "kind"));
    const char *n = json_string_value(jget(o, "involvedObject", "name"));
    char out[320];
    char lk[64];
    snprintf(lk, sizeof lk, "%s", k ? k : "");
    pd_lower(lk);
    snprintf(out, sizeof out, "%s/%s", lk, n ? n : "");
    return json_string(out);
}
CELL(c_ev_message)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(o, "message", NULL)), "");
}
static const json_t *condition(const json_t *o, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(jget(o, "status", "conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, type) == 0)
            return c;
    }
    return NULL;
}
static int condition_true(const json_t *o, const char *type)
{
    const json_t *c = condition(o, type);
    const char *s = c ? json_string_value(json_object_get(c, "status")) : NULL;
    return s && strcmp(s, "True") == 0;
}
CELL(c_node_status)
{
    UNUSED_NOW;
    const json_t *c = condition(o, "Ready");
    const char *s = c ? json_string_value(json_object_get(c, "status")) : NULL;
    const char *v = !s ? "Unknown" : strcmp(s, "True") == 0 ? "Ready" : "NotReady";
    if (json_is_true(jget(o, "spec", "unschedulable"))) {
        char out[64];
        snprintf(out, sizeof out, "%s,SchedulingDisabled", v);
        return json_string(out);
    }
    return json_string(v);
}
CELL(c_none)
{
    (void)o;
    UNUSED_NOW;
    return json_string("<none>");
}
CELL(c_node_version)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(jget(o, "status", "nodeInfo"), "kubeletVersion", NULL)),
                  "");
}
CELL(c_node_ip)
{
    UNUSED_NOW;
    size_t i;
    json_t *a;
    json_array_foreach(jget(o, "status", "addresses"), i, a)
    {
        const char *t = json_string_value(json_object_get(a, "type"));
        if (t && strcmp(t, "InternalIP") == 0)
            return str_or(json_string_value(json_object_get(a, "address")), "<none>");
    }
    return json_string("<none>");
}
CELL(c_node_os)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(jget(o, "status", "nodeInfo"), "osImage", NULL)),
                  "<unknown>");
}
CELL(c_node_runtime)
{
    UNUSED_NOW;
    return str_or(
        json_string_value(jget(jget(o, "status", "nodeInfo"), "containerRuntimeVersion", NULL)),
        "<unknown>");
}
static json_t *ratio(json_int_t a, json_int_t b)
{
    char out[48];
    snprintf(out, sizeof out, "%lld/%lld", (long long)a, (long long)b);
    return json_string(out);
}
CELL(c_ready_ratio)
{
    UNUSED_NOW;
    return ratio(jint(o, "status", "readyReplicas"), jint(o, "spec", "replicas"));
}
CELL(c_updated)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "updatedReplicas"));
}
CELL(c_available)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "availableReplicas"));
}
CELL(c_desired)
{
    UNUSED_NOW;
    return json_integer(jint(o, "spec", "replicas"));
}
CELL(c_current)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "replicas"));
}
CELL(c_ready)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "readyReplicas"));
}
static const json_t *pod_template(const json_t *o)
{
    const char *k = json_string_value(json_object_get(o, "kind"));
    if (k && strcmp(k, "CronJob") == 0)
        return jget(jget(jget(o, "spec", "jobTemplate"), "spec", "template"), "spec", NULL);
    return jget(jget(o, "spec", "template"), "spec", NULL);
}
static json_t *containers_field(const json_t *o, const char *field)
{
    char out[512] = "";
    size_t used = 0, i;
    json_t *c;
    json_array_foreach(json_object_get(pod_template(o), "containers"), i, c)
    {
        const char *v = json_string_value(json_object_get(c, field));
        int n = snprintf(out + used, sizeof out - used, "%s%s", i ? "," : "", v ? v : "");
        if (n < 0 || (size_t)n >= sizeof out - used)
            break;
        used += (size_t)n;
    }
    return json_string(out);
}
CELL(c_containers)
{
    UNUSED_NOW;
    return containers_field(o, "name");
}
CELL(c_images)
{
    UNUSED_NOW;
    return containers_field(o, "image");
}
CELL(c_ds_desired)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "desiredNumberScheduled"));
}
CELL(c_ds_current)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "currentNumberScheduled"));
}
CELL(c_ds_ready)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "numberReady"));
}
CELL(c_ds_updated)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "updatedNumberScheduled"));
}
CELL(c_ds_available)
{
    UNUSED_NOW;
    return json_integer(jint(o, "status", "numberAvailable"));
}
CELL(c_ds_nodesel)
{
    UNUSED_NOW;
    return labels_str(json_object_get(pod_template(o), "nodeSelector"));
}
CELL(c_job_status)
{
    UNUSED_NOW;
    if (condition_true(o, "Complete"))
        return json_string("Complete");
    if (condition_true(o, "Failed"))
        return json_string("Failed");
    if (condition_true(o, "FailureTarget"))
        return json_string("FailureTarget");
    if (condition_true(o, "SuccessCriteriaMet"))
        return json_string("SuccessCriteriaMet");
    if (json_is_true(jget(o, "spec", "suspend")))
        return json_string("Suspended");
    return json_string("Running");
}
CELL(c_job_completions)
{
    UNUSED_NOW;
    json_t *c = jget(o, "spec", "completions");
    if (!json_is_integer(c)) {
        char out[48];
        snprintf(out, sizeof out, "%lld/1 of %lld", (long long)jint(o, "status", "succeeded"),
                 (long long)jint(o, "spec", "parallelism"));
        return json_string(out);
    }
    return ratio(jint(o, "status", "succeeded"), json_integer_value(c));
}
CELL(c_job_duration)
{
    const char *s = json_string_value(jget(o, "status", "startTime"));
    const char *e = json_string_value(jget(o, "status", "completionTime"));
    int64_t sm = 0, em = now_ms;
    if (!s || pd_time_parse_iso8601(s, &sm))
        return json_string("");
    if (e)
        pd_time_parse_iso8601(e, &em);
    char out[32];
    pd_k8s_age(em, sm, out);
    return json_string(out);
}
CELL(c_cj_schedule)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(o, "spec", "schedule")), "");
}
CELL(c_cj_tz)
{
    UNUSED_NOW;
    return str_or(json_string_value(jget(o, "spec", "timeZone")), "<none>");
}
CELL(c_cj_suspend)
{
    UNUSED_NOW;
    return json_string(json_is_true(jget(o, "spec", "suspend")) ? "True" : "False");
}
CELL(c_cj_active)
{
    UNUSED_NOW;
    return json_integer((json_int_t)json_array_size(jget(o, "status", "active")));
}
CELL(c_cj_last)
{
    const char *t = json_string_value(jget(o, "status", "lastScheduleTime"));
    return t ? since(t, now_ms) : json_string("<none>");
}

#define AGE_DESC                                                                                   \
    "CreationTimestamp is a timestamp representing the server time when this object was created."
#define AGE                                                                                        \
    {                                                                                              \
        "Age", "string", "", 0, AGE_DESC, c_age                                                    \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, NULL, 0, NULL, NULL                                                            \
    }
#define CONTAINERS                                                                                 \
    {"Containers", "string", "", 1, "Names of each container in the template.", c_containers},     \
    {                                                                                              \
        "Images", "string", "", 1, "Images referenced by each container in the template.",         \
            c_images                                                                               \
    }

/* kubectl's printers (pkg/printers/internalversion/printers.go) */
const struct pd_k8s_col pd_k8s_cols_secrets[] = {
    {"Type", "string", "", 0, "The type of the secret", c_secret_type},
    {"Data", "string", "", 0, "The number of entries in the secret", c_data_count},
    AGE,
    END,
};
const struct pd_k8s_col pd_k8s_cols_services[] = {
    {"Type", "string", "", 0, "The type of the service.", c_svc_type},
    {"Cluster-IP", "string", "", 0, "The IP address of the service.", c_svc_ip},
    {"External-IP", "string", "", 0, "The external IP address of the service.", c_svc_ext},
    {"Port(s)", "string", "", 0, "The ports of the service.", c_svc_ports},
    AGE,
    {"Selector", "string", "", 1,
     "Route service traffic to pods with label keys and values "
     "matching this selector.",
     c_svc_selector},
    END,
};
const struct pd_k8s_col pd_k8s_cols_endpoints[] = {
    {"Endpoints", "string", "", 0, "Endpoints of the service.", c_endpoints},
    AGE,
    END,
};
const struct pd_k8s_col pd_k8s_cols_events[] = {
    {"Last Seen", "string", "", 0, "The time of the last occurrence.", c_ev_last},
    {"Type", "string", "", 0, "Type of this event.", c_ev_type},
    {"Reason", "string", "", 0, "Why the action was taken.", c_ev_reason},
    {"Object", "string", "", 0, "The object this Event is about.", c_ev_object},
    {"Message", "string", "", 0, "A human-readable description of the status.", c_ev_message},
    END,
};
const struct pd_k8s_col pd_k8s_cols_nodes[] = {
    {"Status", "string", "", 0, "The status of the node", c_node_status},
    {"Roles", "string", "", 0, "The roles of the node", c_none},
    AGE,
    {"Version", "string", "", 0, "Kubelet Version reported by the node.", c_node_version},
    {"Internal-IP", "string", "", 1, "List of internal IPs in the node.", c_node_ip},
    {"External-IP", "string", "", 1, "List of external IPs in the node.", c_none},
    {"OS-Image", "string", "", 1, "OS image reported by the node.", c_node_os},
    {"Container-Runtime", "string", "", 1, "Container runtime reported by the node.",
     c_node_runtime},
    END,
};
const struct pd_k8s_col pd_k8s_cols_deployments[] = {
    {"Ready", "string", "", 0, "Number of the pod with ready state", c_ready_ratio},
    {"Up-to-date", "string", "", 0,
     "Total number of non-terminated pods targeted by this "
     "deployment that have the desired template spec.",
     c_updated},
    {"Available", "string", "", 0,
     "Total number of available pods (ready for at least "
     "minReadySeconds) targeted by this deployment.",
     c_available},
    AGE,
    CONTAINERS,
    {"Selector", "string", "", 1, "Label selector for pods.", c_sel},
    END,
};
const struct pd_k8s_col pd_k8s_cols_replicasets[] = {
    {"Desired", "integer", "", 0, "Replicas is the number of desired replicas.", c_desired},
    {"Current", "integer", "", 0, "Replicas is the most recently observed number of replicas.",
     c_current},
    {"Ready", "integer", "", 0, "The number of ready replicas for this replica set.", c_ready},
    AGE,
    CONTAINERS,
    {"Selector", "string", "", 1,
     "Selector is a label query over pods that should match the "
     "replica count.",
     c_sel},
    END,
};
const struct pd_k8s_col pd_k8s_cols_statefulsets[] = {
    {"Ready", "string", "", 0, "Number of the pod with ready state", c_ready_ratio},
    AGE,
    CONTAINERS,
    END,
};
const struct pd_k8s_col pd_k8s_cols_daemonsets[] = {
    {"Desired", "integer", "", 0,
     "The total number of nodes that should be running the daemon "
     "pod.",
     c_ds_desired},
    {"Current", "integer", "", 0, "The number of nodes that are running at least 1 daemon pod.",
     c_ds_current},
    {"Ready", "integer", "", 0,
     "The number of nodes that should be running the daemon pod and "
     "have one or more of the daemon pod running and ready.",
     c_ds_ready},
    {"Up-to-date", "integer", "", 0,
     "The total number of nodes that are running updated daemon "
     "pod",
     c_ds_updated},
    {"Available", "integer", "", 0,
     "The number of nodes that should be running the daemon pod "
     "and have one or more of the daemon pod running and available",
     c_ds_available},
    {"Node Selector", "string", "", 0,
     "NodeSelector is a selector which must be true for the "
     "pod to fit on a node.",
     c_ds_nodesel},
    AGE,
    CONTAINERS,
    {"Selector", "string", "", 1, "A label query over pods that are managed by the daemon set.",
     c_sel},
    END,
};
const struct pd_k8s_col pd_k8s_cols_jobs[] = {
    {"Status", "string", "", 0, "Status of the job.", c_job_status},
    {"Completions", "string", "", 0,
     "The desired number of successfully finished pods the job "
     "should be run with.",
     c_job_completions},
    {"Duration", "string", "", 0, "Time required to complete the job.", c_job_duration},
    AGE,
    CONTAINERS,
    {"Selector", "string", "", 1, "A label query over pods that should match the pod count.",
     c_sel},
    END,
};
const struct pd_k8s_col pd_k8s_cols_cronjobs[] = {
    {"Schedule", "string", "", 0,
     "The schedule in Cron format, see "
     "https://en.wikipedia.org/wiki/Cron.",
     c_cj_schedule},
    {"Timezone", "string", "", 0, "The time zone name for the given schedule.", c_cj_tz},
    {"Suspend", "boolean", "", 0,
     "This flag tells the controller to suspend subsequent "
     "executions.",
     c_cj_suspend},
    {"Active", "integer", "", 0, "A list of pointers to currently running jobs.", c_cj_active},
    {"Last Schedule", "string", "", 0,
     "Information when was the last time the job was "
     "successfully scheduled.",
     c_cj_last},
    AGE,
    CONTAINERS,
    END,
};

/* ---- validation helpers ---- */

static const char *gomap(struct pd_arena *a, const json_t *m)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_adds(&b, "map[string]string{");
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)m, k, v)
    {
        pd_buf_printf(&b, "%s\"%s\":\"%s\"", first ? "" : ", ", k,
                      json_is_string(v) ? json_string_value(v) : "");
        first = 0;
    }
    pd_buf_adds(&b, "}");
    const char *s = pd_arena_strndup(a, b.p, b.len);
    pd_buf_free(&b);
    return s;
}

/* Does every matchLabels pair of sel appear in labels? An empty selector matches nothing
 * here (apps/v1 refuses it). */
static int selector_matches(const json_t *sel, const json_t *labels)
{
    json_t *ml = json_object_get(sel, "matchLabels");
    if (!json_object_size(ml))
        return 0;
    const char *k;
    json_t *v;
    json_object_foreach(ml, k, v)
    {
        json_t *have = json_object_get(labels, k);
        if (!json_is_string(have) || !json_equal(have, v))
            return 0;
    }
    return 1;
}

/* Defaults a pod template's spec gets (as the API server's defaulting does for templates). */
static void template_defaults(json_t *tspec, const char *restart)
{
    set_default(tspec, "restartPolicy", json_string(restart));
    set_default(tspec, "terminationGracePeriodSeconds", json_integer(30));
    set_default(tspec, "dnsPolicy", json_string("ClusterFirst"));
    set_default(tspec, "securityContext", json_object());
    set_default(tspec, "schedulerName", json_string("default-scheduler"));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(tspec, "containers"), i, c)
    {
        if (!json_is_object(c))
            continue;
        const char *image = json_string_value(json_object_get(c, "image"));
        const char *colon = image ? strrchr(image, ':') : NULL;
        const char *slash = image ? strrchr(image, '/') : NULL;
        int latest = !colon || (slash && colon < slash) || strcmp(colon, ":latest") == 0;
        set_default(c, "imagePullPolicy", json_string(latest ? "Always" : "IfNotPresent"));
        set_default(c, "resources", json_object());
        set_default(c, "terminationMessagePath", json_string("/dev/termination-log"));
        set_default(c, "terminationMessagePolicy", json_string("File"));
    }
}

/* Check a workload's template and selector; fe collects the errors. tpl: spec.template. */
static void check_template(struct pd_k8s_ctx *x, struct pd_k8s_field_errs *fe, const char *at,
                           json_t *tpl, const json_t *sel, int need_selector)
{
    struct pd_arena *a = &x->r->arena;
    json_t *tspec = json_object_get(tpl, "spec");
    json_t *cs = json_object_get(tspec, "containers");
    if (!json_array_size(cs)) {
        pd_k8s_ferr_required(a, fe, pd_arena_printf(a, "%s.spec.containers", at), "");
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(cs, i, c)
    {
        const char *img = json_string_value(json_object_get(c, "image"));
        const char *nm = json_string_value(json_object_get(c, "name"));
        if (!nm || !*nm)
            pd_k8s_ferr_required(a, fe, pd_arena_printf(a, "%s.spec.containers[%zu].name", at, i),
                                 "");
        if (!img || !*img)
            pd_k8s_ferr_required(a, fe, pd_arena_printf(a, "%s.spec.containers[%zu].image", at, i),
                                 "");
    }
    if (!need_selector)
        return;
    if (!json_object_size(json_object_get(sel, "matchLabels"))) {
        pd_k8s_ferr_required(a, fe, "spec.selector", "");
        return;
    }
    json_t *labels = jget(json_object_get(tpl, "metadata"), "labels", NULL);
    if (!selector_matches(sel, labels))
        pd_k8s_ferr_invalid(a, fe, pd_arena_printf(a, "%s.metadata.labels", at),
                            gomap(a, labels ? labels : json_object()),
                            "`selector` does not match template `labels`");
}

/* metadata.generation: 1 on create; +1 when the spec changes. */
static void generation(json_t *obj, const json_t *old)
{
    json_t *md = pd_k8s_meta(obj);
    if (!old) {
        json_object_set_new(md, "generation", json_integer(1));
        return;
    }
    json_int_t g = jint(old, "metadata", "generation");
    if (!json_equal(json_object_get(obj, "spec"), json_object_get(old, "spec")))
        g++;
    json_object_set_new(md, "generation", json_integer(g ? g : 1));
}

enum wkind { W_DEPLOY, W_RS, W_STS, W_DS, W_JOB, W_CRONJOB };

static int workload_write(struct pd_k8s_ctx *x, json_t *obj, const json_t *old, enum wkind k)
{
    struct pd_arena *a = &x->r->arena;
    const char *name = pd_k8s_mstr(obj, "name");
    json_t *spec = obj_child(obj, "spec");
    struct pd_k8s_field_errs fe = {0};
    if (!old)
        json_object_set_new(obj, "status", json_object()); /* the controllers fill it */
    json_t *tpl = NULL;
    switch (k) {
    case W_DEPLOY:
        set_default(spec, "replicas", json_integer(1));
        set_default(spec, "revisionHistoryLimit", json_integer(10));
        set_default(spec, "progressDeadlineSeconds", json_integer(600));
        set_default(spec, "strategy",
                    json_pack("{s:s, s:{s:s, s:s}}", "type", "RollingUpdate", "rollingUpdate",
                              "maxUnavailable", "25%", "maxSurge", "25%"));
        break;
    case W_RS:
        set_default(spec, "replicas", json_integer(1));
        break;
    case W_STS:
        set_default(spec, "replicas", json_integer(1));
        set_default(spec, "podManagementPolicy", json_string("OrderedReady"));
        set_default(spec, "revisionHistoryLimit", json_integer(10));
        set_default(
            spec, "updateStrategy",
            json_pack("{s:s, s:{s:i}}", "type", "RollingUpdate", "rollingUpdate", "partition", 0));
        break;
    case W_DS:
        set_default(spec, "revisionHistoryLimit", json_integer(10));
        set_default(spec, "updateStrategy",
                    json_pack("{s:s, s:{s:i, s:i}}", "type", "RollingUpdate", "rollingUpdate",
                              "maxUnavailable", 1, "maxSurge", 0));
        break;
    case W_JOB: {
        json_t *par = json_object_get(spec, "parallelism");
        if (!json_object_get(spec, "completions") && !par)
            json_object_set_new(spec, "completions", json_integer(1));
        set_default(spec, "parallelism", json_integer(1));
        set_default(spec, "backoffLimit", json_integer(6));
        set_default(spec, "completionMode", json_string("NonIndexed"));
        set_default(spec, "suspend", json_false());
        set_default(spec, "podReplacementPolicy", json_string("TerminatedOrFailed"));
        if (jint(obj, "spec", "parallelism") < 0 || jint(obj, "spec", "backoffLimit") < 0)
            pd_k8s_ferr_invalid(a, &fe, "spec.parallelism", "-1",
                                "must be greater than or equal to 0");
        /* the generated selector: batch.kubernetes.io/controller-uid (kept across updates) */
        if (!json_is_true(json_object_get(spec, "manualSelector"))) {
            const char *uid = pd_k8s_mstr(old ? old : obj, "uid");
            json_t *tl = obj_child(obj_child(obj_child(spec, "template"), "metadata"), "labels");
            json_object_set_new(tl, "batch.kubernetes.io/controller-uid", json_string(uid));
            json_object_set_new(tl, "batch.kubernetes.io/job-name", json_string(name));
            json_object_set_new(tl, "controller-uid", json_string(uid));
            json_object_set_new(tl, "job-name", json_string(name));
            json_object_set_new(
                spec, "selector",
                json_pack("{s:{s:s}}", "matchLabels", "batch.kubernetes.io/controller-uid", uid));
        }
        const char *rp = json_string_value(
            jget(jget(json_object_get(spec, "template"), "spec", NULL), "restartPolicy", NULL));
        if (!rp || (strcmp(rp, "Never") != 0 && strcmp(rp, "OnFailure") != 0)) {
            if (rp)
                pd_k8s_ferr_unsupported(a, &fe, "spec.template.spec.restartPolicy",
                                        pd_k8s_goquote(a, rp), "\"OnFailure\", \"Never\"");
            else
                pd_k8s_ferr_required(a, &fe, "spec.template.spec.restartPolicy",
                                     "valid values: \"OnFailure\", \"Never\"");
        }
        break;
    }
    case W_CRONJOB: {
        const char *sched = json_string_value(json_object_get(spec, "schedule"));
        if (!sched || !*sched)
            pd_k8s_ferr_required(a, &fe, "spec.schedule", "");
        else if (pd_k8s_cron_check(sched))
            pd_k8s_ferr_invalid(a, &fe, "spec.schedule", pd_k8s_goquote(a, sched),
                                "unparseable schedule (podiam takes five fields: minute hour "
                                "day-of-month month day-of-week, or @hourly/@daily/...)");
        set_default(spec, "concurrencyPolicy", json_string("Allow"));
        set_default(spec, "suspend", json_false());
        set_default(spec, "successfulJobsHistoryLimit", json_integer(3));
        set_default(spec, "failedJobsHistoryLimit", json_integer(1));
        json_t *jt = obj_child(spec, "jobTemplate");
        json_t *js = obj_child(jt, "spec");
        json_t *t = obj_child(js, "template");
        template_defaults(obj_child(t, "spec"), "Never");
        check_template(x, &fe, "spec.jobTemplate.spec.template", t, NULL, 0);
        const char *rp = json_string_value(jget(jget(t, "spec", NULL), "restartPolicy", NULL));
        if (!rp || (strcmp(rp, "Never") != 0 && strcmp(rp, "OnFailure") != 0))
            pd_k8s_ferr_unsupported(a, &fe, "spec.jobTemplate.spec.template.spec.restartPolicy",
                                    pd_k8s_goquote(a, rp ? rp : ""), "\"OnFailure\", \"Never\"");
        break;
    }
    }
    if (k != W_CRONJOB) {
        tpl = obj_child(spec, "template");
        template_defaults(obj_child(tpl, "spec"), k == W_JOB ? "Never" : "Always");
        check_template(x, &fe, "spec.template", tpl, json_object_get(spec, "selector"), 1);
        json_t *rep = json_object_get(spec, "replicas");
        if (rep && (!json_is_integer(rep) || json_integer_value(rep) < 0))
            pd_k8s_ferr_invalid(a, &fe, "spec.replicas", "-1",
                                "must be greater than or equal to 0");
    }
    generation(obj, old);
    return pd_k8s_invalid(x, x->res, name ? name : "", &fe);
}

#define WORKLOAD_HOOKS(var, kind)                                                                  \
    static int var##_create(struct pd_k8s_ctx *x, json_t *obj)                                     \
    {                                                                                              \
        return workload_write(x, obj, NULL, kind);                                                 \
    }                                                                                              \
    static int var##_update(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)                  \
    {                                                                                              \
        return workload_write(x, obj, old, kind);                                                  \
    }                                                                                              \
    const struct pd_k8s_hooks pd_k8s_##var##_hooks = {.create = var##_create,                      \
                                                      .update = var##_update};

WORKLOAD_HOOKS(deployment, W_DEPLOY)
WORKLOAD_HOOKS(replicaset, W_RS)
WORKLOAD_HOOKS(statefulset, W_STS)
WORKLOAD_HOOKS(daemonset, W_DS)
WORKLOAD_HOOKS(job, W_JOB)
WORKLOAD_HOOKS(cronjob, W_CRONJOB)

/* ---- Secrets ---- */

static int secret_write(struct pd_k8s_ctx *x, json_t *obj)
{
    struct pd_arena *a = &x->r->arena;
    set_default(obj, "type", json_string("Opaque"));
    json_t *sd = json_object_get(obj, "stringData");
    struct pd_k8s_field_errs fe = {0};
    if (sd) {
        json_t *data = obj_child(obj, "data");
        const char *k;
        json_t *v;
        json_object_foreach(sd, k, v)
        {
            if (!json_is_string(v)) {
                pd_k8s_ferr_invalid(a, &fe, pd_arena_printf(a, "stringData[%s]", k), "",
                                    "must be a string");
                continue;
            }
            json_object_set_new(
                data, k,
                json_string(pd_base64_encode(a, json_string_value(v), json_string_length(v), 0)));
        }
        json_object_del(obj, "stringData");
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(obj, "data"), k, v)
    {
        if (!json_is_string(v))
            pd_k8s_ferr_invalid(a, &fe, pd_arena_printf(a, "data[%s]", k), "",
                                "must be a base64 string");
    }
    return pd_k8s_invalid(x, x->res, pd_k8s_mstr(obj, "name"), &fe);
}

static int secret_create(struct pd_k8s_ctx *x, json_t *obj)
{
    return secret_write(x, obj);
}

static int secret_update(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)
{
    (void)old;
    return secret_write(x, obj);
}

const struct pd_k8s_hooks pd_k8s_secret_hooks = {.create = secret_create, .update = secret_update};

/* ---- Services ---- */

static void service_defaults(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)
{
    json_t *spec = obj_child(obj, "spec");
    set_default(spec, "type", json_string("ClusterIP"));
    set_default(spec, "sessionAffinity", json_string("None"));
    set_default(spec, "internalTrafficPolicy", json_string("Cluster"));
    set_default(spec, "ipFamilies", json_pack("[s]", "IPv4"));
    set_default(spec, "ipFamilyPolicy", json_string("SingleStack"));
    json_t *oldip = jget(old, "spec", "clusterIP");
    if (oldip) {
        json_object_set(spec, "clusterIP", oldip);
    } else if (!json_string_value(json_object_get(spec, "clusterIP")) ||
               !*json_string_value(json_object_get(spec, "clusterIP"))) {
        /* a made-up cluster IP in 10.100.0.0/16: nothing routes to it */
        uint64_t n = pd_ids_next(&x->r->env->ids);
        char ip[32];
        snprintf(ip, sizeof ip, "10.100.%u.%u", (unsigned)((n >> 8) & 0xff),
                 (unsigned)(n & 0xff) | 1u);
        json_object_set_new(spec, "clusterIP", json_string(ip));
    }
    json_object_set_new(spec, "clusterIPs", json_pack("[O]", json_object_get(spec, "clusterIP")));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        if (!json_is_object(p))
            continue;
        set_default(p, "protocol", json_string("TCP"));
        if (!json_object_get(p, "targetPort") && json_object_get(p, "port"))
            json_object_set(p, "targetPort", json_object_get(p, "port"));
    }
    if (!old)
        json_object_set_new(obj, "status", json_pack("{s:{}}", "loadBalancer"));
}

static int service_create(struct pd_k8s_ctx *x, json_t *obj)
{
    service_defaults(x, obj, NULL);
    return PD_OK;
}

static int service_update(struct pd_k8s_ctx *x, json_t *obj, const json_t *old)
{
    service_defaults(x, obj, old);
    return PD_OK;
}

const struct pd_k8s_hooks pd_k8s_service_hooks = {.create = service_create,
                                                  .update = service_update};

/* ---- Events, Nodes ---- */

static int event_create(struct pd_k8s_ctx *x, json_t *obj)
{
    set_default(obj, "type", json_string("Normal"));
    set_default(obj, "count", json_integer(1));
    const char *now = pd_k8s_iso(x, x->now_ms);
    set_default(obj, "firstTimestamp", json_string(now));
    set_default(obj, "lastTimestamp", json_string(now));
    return PD_OK;
}

const struct pd_k8s_hooks pd_k8s_event_hooks = {.create = event_create};
const struct pd_k8s_hooks pd_k8s_node_hooks = {0};

json_t *pd_k8s_virtual_node(void)
{
    return json_pack(
        "{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s}}, s:{}, s:{s:s, s:[{s:s, s:s, s:s, "
        "s:s}, {s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}], s:[{s:s, s:s}, "
        "{s:s, s:s}], s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, "
        "s:{s:{s:i}}}}",
        "apiVersion", "v1", "kind", "Node", "metadata", "name", PD_K8S_VIRTUAL_NODE, "labels",
        "kubernetes.io/hostname", PD_K8S_VIRTUAL_NODE, "kubernetes.io/os", "linux",
        "kubernetes.io/arch", "amd64", "type", "virtual", "annotations", "podiam.dev/node",
        "virtual: pods bound here run nowhere and report Running", "spec", "status", "phase",
        "Running", "conditions", "type", "Ready", "status", "True", "reason", "KubeletReady",
        "message", "kubelet is posting ready status", "type", "MemoryPressure", "status", "False",
        "reason", "KubeletHasSufficientMemory", "message",
        "kubelet has sufficient memory available", "type", "DiskPressure", "status", "False",
        "reason", "KubeletHasNoDiskPressure", "message", "kubelet has no disk pressure", "type",
        "PIDPressure", "status", "False", "reason", "KubeletHasSufficientPID", "message",
        "kubelet has sufficient PID available", "addresses", "type", "InternalIP", "address",
        "10.0.0.1", "type", "Hostname", "address", PD_K8S_VIRTUAL_NODE, "capacity", "cpu", "64",
        "memory", "256Gi", "pods", "1000", "allocatable", "cpu", "64", "memory", "256Gi", "pods",
        "1000", "nodeInfo", "kubeletVersion", "v1.32.0-podiam", "operatingSystem", "linux",
        "architecture", "amd64", "containerRuntimeVersion", "podiam://virtual", "osImage",
        "podiam virtual node", "kernelVersion", "", "daemonEndpoints", "kubeletEndpoint", "Port",
        10250);
}

/* ---- subresources ---- */

static int pod_eviction(struct pd_k8s_ctx *x, json_t *body)
{
    /* policy/v1 Eviction: no PodDisruptionBudgets here, so the pod is deleted */
    json_decref(body);
    const struct pd_k8s_res *pods = pd_k8s_res_find("pods");
    json_t *old = pd_k8s_load(x, pods, x->p.ns, x->p.name);
    if (!old)
        return pd_k8s_not_found(x, pods, x->p.name);
    int rc = pd_k8s_dry_run(x) ? PD_OK : pd_k8s_remove(x, pods, old);
    json_decref(old);
    if (rc)
        return rc;
    return pd_req_reply_json(x->r, 201,
                             json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion",
                                       "v1", "metadata", "status", "Success", "code", 201));
}

static int pod_binding(struct pd_k8s_ctx *x, json_t *body)
{
    const struct pd_k8s_res *pods = pd_k8s_res_find("pods");
    const char *node = json_string_value(jget(body, "target", "name"));
    if (!node || !*node) {
        json_decref(body);
        return pd_k8s_bad_request(x, "a Binding needs target.name (the node)");
    }
    json_t *old = pd_k8s_load(x, pods, x->p.ns, x->p.name);
    if (!old) {
        json_decref(body);
        return pd_k8s_not_found(x, pods, x->p.name);
    }
    const char *had = json_string_value(jget(old, "spec", "nodeName"));
    int rc = PD_OK;
    if (had && *had && strcmp(had, PD_K8S_VIRTUAL_NODE) != 0 && strcmp(had, node) != 0) {
        rc = pd_k8s_fail(x->r, 409, "Conflict", pd_k8s_details(x->p.name, "", "pods"),
                         "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already "
                         "assigned to node \"%s\"",
                         x->p.name, x->p.name, had);
    } else {
        json_t *obj = json_deep_copy(old);
        json_object_set_new(obj_child(obj, "spec"), "nodeName", json_string(node));
        rc = pd_k8s_dry_run(x) ? PD_OK : pd_k8s_save(x, pods, obj, 1);
        json_decref(obj);
        if (rc == PD_OK)
            rc = pd_req_reply_json(x->r, 201,
                                   json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status",
                                             "apiVersion", "v1", "metadata", "status", "Success",
                                             "code", 201));
    }
    json_decref(old);
    json_decref(body);
    return rc;
}

const struct pd_k8s_sub pd_k8s_pod_subs[] = {
    {"binding", "pods/binding", "", "v1", "Binding", pod_binding},
    {"eviction", "pods/eviction", "policy", "v1", "Eviction", pod_eviction},
    {"log", "pods/log", "", "", "Pod", NULL},
    {"status", "pods/status", "", "", "Pod", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
#define STATUS_SUB(plural, kind)                                                                   \
    {                                                                                              \
        "status", plural "/status", "", "", kind, NULL                                             \
    }
#define SCALE_SUB(plural)                                                                          \
    {                                                                                              \
        "scale", plural "/scale", "autoscaling", "v1", "Scale", NULL                               \
    }
#define SUBS_END                                                                                   \
    {                                                                                              \
        NULL, NULL, NULL, NULL, NULL, NULL                                                         \
    }
const struct pd_k8s_sub pd_k8s_node_subs[] = {STATUS_SUB("nodes", "Node"), SUBS_END};
const struct pd_k8s_sub pd_k8s_service_subs[] = {STATUS_SUB("services", "Service"), SUBS_END};
const struct pd_k8s_sub pd_k8s_deployment_subs[] = {
    SCALE_SUB("deployments"), STATUS_SUB("deployments", "Deployment"), SUBS_END};
const struct pd_k8s_sub pd_k8s_replicaset_subs[] = {
    SCALE_SUB("replicasets"), STATUS_SUB("replicasets", "ReplicaSet"), SUBS_END};
const struct pd_k8s_sub pd_k8s_statefulset_subs[] = {
    SCALE_SUB("statefulsets"), STATUS_SUB("statefulsets", "StatefulSet"), SUBS_END};
const struct pd_k8s_sub pd_k8s_daemonset_subs[] = {STATUS_SUB("daemonsets", "DaemonSet"), SUBS_END};
const struct pd_k8s_sub pd_k8s_job_subs[] = {STATUS_SUB("jobs", "Job"), SUBS_END};
const struct pd_k8s_sub pd_k8s_cronjob_subs[] = {STATUS_SUB("cronjobs", "CronJob"), SUBS_END};
