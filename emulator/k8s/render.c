/*
 * render.c - the shapes of the per-cluster Kubernetes API that depend on no state:
 * /version, discovery documents from the table of kinds (legacy APIVersions / APIGroupList /
 * APIResourceList, the fields kubectl relies on: kind, namespaced, shortNames, categories,
 * verbs), Tables for `kubectl get` (each kind's columns and their cells are data here), and
 * the defaults and Running status a pod gets (pods run nowhere).
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "k8s/internal.h"

json_t *pd_k8s_version_doc(const struct pd_eks_cluster *c)
{
    const char *v = c->version && *c->version ? c->version : "1.32";
    const char *dot = strchr(v, '.');
    char minor[16];
    snprintf(minor, sizeof minor, "%s", dot ? dot + 1 : "32");
    char git[64];
    snprintf(git, sizeof git, "v%s.0-eks-podiam", v);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor", minor,
                     "gitVersion", git, "gitCommit", "0000000000000000000000000000000000000000",
                     "gitTreeState", "clean", "buildDate", "2026-01-01T00:00:00Z", "goVersion",
                     "go1.23.0", "compiler", "gc", "platform", "linux/amd64");
}

json_t *pd_k8s_api_versions(void)
{
    return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                     "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                     "127.0.0.1");
}

json_t *pd_k8s_api_groups(void)
{
    json_t *groups = json_array();
    for (const struct pd_k8s_group *g = pd_k8s_groups; g->name; g++)
        json_array_append_new(groups, json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name",
                                                g->name, "versions", "groupVersion", g->gv,
                                                "version", g->version, "preferredVersion",
                                                "groupVersion", g->gv, "version", g->version));
    return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                     groups);
}

static json_t *verbs_of(const struct pd_k8s_res *r)
{
    if (r->flags & PD_K8S_VIRTUAL)
        return json_pack("[s]", "create");
    json_t *v = json_array();
    static const char *const all[] = {
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL};
    for (const char *const *p = all; *p; p++)
        if (!((r->flags & PD_K8S_NO_DELCOL) && strcmp(*p, "deletecollection") == 0))
            json_array_append_new(v, json_string(*p));
    return v;
}

json_t *pd_k8s_resource_list(const char *gv)
{
    const char *slash = strchr(gv, '/');
    char group[96];
    const char *version = gv;
    group[0] = '\0';
    if (slash) {
        snprintf(group, sizeof group, "%.*s", (int)(slash - gv), gv);
        version = slash + 1;
    }
    json_t *res = json_array();
    int any = 0;
    for (const struct pd_k8s_res *r = pd_k8s_resources; r->name; r++) {
        if (strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
            continue;
        any = 1;
        if (r->flags & PD_K8S_NO_DISCOVERY)
            continue;
        json_t *e = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", r->name, "singularName",
                              r->singular, "namespaced", PD_K8S_NAMESPACED_RES(r), "kind", r->kind,
                              "verbs", verbs_of(r));
        if (r->shortname)
            json_object_set_new(e, "shortNames", json_pack("[s]", r->shortname));
        if (r->category)
            json_object_set_new(e, "categories", json_pack("[s]", r->category));
        json_array_append_new(res, e);
        for (const struct pd_k8s_sub *s = r->subs; s && s->name; s++) {
            json_t *se = json_pack("{s:s, s:s, s:b, s:s}", "name", s->path, "singularName", "",
                                   "namespaced", PD_K8S_NAMESPACED_RES(r), "kind", s->kind);
            if (*s->group)
                json_object_set_new(se, "group", json_string(s->group));
            if (*s->version)
                json_object_set_new(se, "version", json_string(s->version));
            json_object_set_new(se, "verbs",
                                s->post ? json_pack("[s]", "create")
                                : strcmp(s->name, "log") == 0
                                    ? json_pack("[s]", "get")
                                    : json_pack("[s, s, s]", "get", "patch", "update"));
            json_array_append_new(res, se);
        }
    }
    if (!any) {
        json_decref(res);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                     "groupVersion", gv, "resources", res);
}

/* k8s.io/apimachinery duration.HumanDuration */
void pd_k8s_age(int64_t now_ms, int64_t then_ms, char out[32])
{
    int64_t s = (now_ms - then_ms) / 1000;
    if (s < 0)
        s = 0;
    int64_t m = s / 60, h = s / 3600, d = s / 86400, y = d / 365;
    if (s < 120)
        snprintf(out, 32, "%llds", (long long)s);
    else if (m < 10 && s % 60)
        snprintf(out, 32, "%lldm%llds", (long long)m, (long long)(s % 60));
    else if (m < 180)
        snprintf(out, 32, "%lldm", (long long)m);
    else if (h < 8 && m % 60)
        snprintf(out, 32, "%lldh%lldm", (long long)h, (long long)(m % 60));
    else if (h < 48)
        snprintf(out, 32, "%lldh", (long long)h);
    else if (h < 192 && h % 24)
        snprintf(out, 32, "%lldd%lldh", (long long)d, (long long)(h % 24));
    else if (y < 2)
        snprintf(out, 32, "%lldd", (long long)d);
    else if (y < 8 && d % 365)
        snprintf(out, 32, "%lldy%lldd", (long long)y, (long long)(d % 365));
    else
        snprintf(out, 32, "%lldy", (long long)y);
}

static json_t *coldef(const char *name, const char *type, const char *format, int priority,
                      const char *desc)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", name, "type", type, "format", format,
                     "description", desc, "priority", priority);
}

static int64_t created_of(const json_t *o)
{
    const char *ts =
        json_string_value(json_object_get(json_object_get(o, "metadata"), "creationTimestamp"));
    int64_t ms = 0;
    if (ts)
        pd_time_parse_iso8601(ts, &ms);
    return ms;
}

/* ---- cells ---- */

static json_t *cell_age(const json_t *o, int64_t now_ms)
{
    char age[32];
    pd_k8s_age(now_ms, created_of(o), age);
    return json_string(age);
}

static json_t *cell_created_at(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    char iso[32];
    pd_time_iso8601(created_of(o), 0, iso);
    return json_string(iso);
}

static json_t *cell_pod_ready(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    json_t *cs = json_object_get(json_object_get(o, "status"), "containerStatuses");
    size_t n = json_array_size(json_object_get(json_object_get(o, "spec"), "containers"));
    size_t ready = 0, k;
    json_t *c;
    json_array_foreach(cs, k, c)
    {
        ready += json_is_true(json_object_get(c, "ready"));
    }
    char rb[48];
    snprintf(rb, sizeof rb, "%zu/%zu", ready, n);
    return json_string(rb);
}

static json_t *cell_phase(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    const char *phase = json_string_value(json_object_get(json_object_get(o, "status"), "phase"));
    return json_string(phase ? phase : "Pending");
}

static json_t *cell_ns_phase(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    const char *phase = json_string_value(json_object_get(json_object_get(o, "status"), "phase"));
    return json_string(phase ? phase : "Active");
}

static json_t *cell_pod_restarts(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    json_t *cs = json_object_get(json_object_get(o, "status"), "containerStatuses");
    long long restarts = 0;
    size_t k;
    json_t *c;
    json_array_foreach(cs, k, c)
    {
        restarts += json_integer_value(json_object_get(c, "restartCount"));
    }
    char rs[24];
    snprintf(rs, sizeof rs, "%lld", restarts);
    return json_string(rs);
}

static json_t *or_none(const char *s)
{
    return json_string(s ? s : "<none>");
}

static json_t *cell_pod_ip(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    return or_none(json_string_value(json_object_get(json_object_get(o, "status"), "podIP")));
}

static json_t *cell_pod_node(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    return or_none(json_string_value(json_object_get(json_object_get(o, "spec"), "nodeName")));
}

static json_t *cell_none(const json_t *o, int64_t now_ms)
{
    (void)o;
    (void)now_ms;
    return json_string("<none>");
}

static json_t *cell_cm_data(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    return json_integer((json_int_t)(json_object_size(json_object_get(o, "data")) +
                                     json_object_size(json_object_get(o, "binaryData"))));
}

static json_t *cell_sa_secrets(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    return json_integer((json_int_t)json_array_size(json_object_get(o, "secrets")));
}

static json_t *cell_role_ref(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    const json_t *ref = json_object_get(o, "roleRef");
    const char *k = json_string_value(json_object_get(ref, "kind"));
    const char *n = json_string_value(json_object_get(ref, "name"));
    char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", k ? k : "", n ? n : "");
    return json_string(buf);
}

/* rbac.SubjectsStrings: users, groups, "ns/name" service accounts, joined by ", ". */
static json_t *subjects_of(const json_t *o, const char *kind)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(o, "subjects"), i, s)
    {
        const char *k = json_string_value(json_object_get(s, "kind"));
        const char *n = json_string_value(json_object_get(s, "name"));
        if (!k || strcmp(k, kind) != 0)
            continue;
        if (b.len)
            pd_buf_adds(&b, ", ");
        if (strcmp(kind, "ServiceAccount") == 0) {
            const char *ns = json_string_value(json_object_get(s, "namespace"));
            pd_buf_printf(&b, "%s/", ns ? ns : "");
        }
        pd_buf_adds(&b, n ? n : "");
    }
    json_t *v = json_string(pd_buf_str(&b));
    pd_buf_free(&b);
    return v;
}

static json_t *cell_users(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    return subjects_of(o, "User");
}

static json_t *cell_groups(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    return subjects_of(o, "Group");
}

static json_t *cell_sas(const json_t *o, int64_t now_ms)
{
    (void)now_ms;
    return subjects_of(o, "ServiceAccount");
}

#define AGE_DESC                                                                                   \
    "CreationTimestamp is a timestamp representing the server time when this object was "          \
    "created."
#define AGE                                                                                        \
    {                                                                                              \
        "Age", "string", "", 0, AGE_DESC, cell_age                                                 \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, NULL, 0, NULL, NULL                                                            \
    }

const struct pd_k8s_col pd_k8s_cols_pods[] = {
    {"Ready", "string", "", 0, "The aggregate readiness state of this pod.", cell_pod_ready},
    {"Status", "string", "", 0, "The aggregate status of the containers in this pod.", cell_phase},
    {"Restarts", "string", "", 0,
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     cell_pod_restarts},
    AGE,
    {"IP", "string", "", 1, "The IP address of the pod.", cell_pod_ip},
    {"Node", "string", "", 1, "The node of the pod.", cell_pod_node},
    {"Nominated Node", "string", "", 1, "The nominated node of the pod.", cell_none},
    {"Readiness Gates", "string", "", 1, "The readiness gates of the pod.", cell_none},
    END,
};
const struct pd_k8s_col pd_k8s_cols_configmaps[] = {
    {"Data", "string", "", 0, "Data contains the data.", cell_cm_data},
    AGE,
    END,
};
const struct pd_k8s_col pd_k8s_cols_serviceaccounts[] = {
    {"Secrets", "string", "", 0, "Secrets is a list of the secrets.", cell_sa_secrets},
    AGE,
    END,
};
const struct pd_k8s_col pd_k8s_cols_namespaces[] = {
    {"Status", "string", "", 0, "The status of the namespace", cell_ns_phase},
    AGE,
    END,
};
/* pkg/printers/internalversion: roleBindingsColumnDefinitions (and the cluster one) */
const struct pd_k8s_col pd_k8s_cols_rolebindings[] = {
    {"Role", "string", "", 0, "RoleRef can only reference a ClusterRole in the global namespace.",
     cell_role_ref},
    AGE,
    {"Users", "string", "", 1, "Users in the roleBinding", cell_users},
    {"Groups", "string", "", 1, "Groups in the roleBinding", cell_groups},
    {"ServiceAccounts", "string", "", 1, "ServiceAccounts in the roleBinding", cell_sas},
    END,
};
/* apiserver pkg/registry/rest/table.go: the default Table of kinds without a printer */
static const struct pd_k8s_col default_cols[] = {
    {"Created At", "date", "", 0, AGE_DESC, cell_created_at},
    END,
};

json_t *pd_k8s_table(const struct pd_k8s_res *res, const json_t *items, const char *rv,
                     const char *cont, int64_t now_ms)
{
    const struct pd_k8s_col *cols = res->cols ? res->cols : default_cols;
    json_t *defs = json_array();
    json_array_append_new(
        defs, coldef("Name", "string", "name", 0, "Name must be unique within a namespace."));
    for (const struct pd_k8s_col *c = cols; c->name; c++)
        json_array_append_new(defs, coldef(c->name, c->type, c->format, c->priority, c->desc));
    json_t *rows = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        json_t *md = json_object_get(o, "metadata");
        const char *name = json_string_value(json_object_get(md, "name"));
        json_t *cells = json_pack("[s]", name ? name : "");
        for (const struct pd_k8s_col *c = cols; c->name; c++)
            json_array_append_new(cells, c->cell(o, now_ms));
        json_t *pmd = json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                                "meta.k8s.io/v1", "metadata",
                                json_is_object(md) ? json_incref(md) : json_object());
        json_array_append_new(rows, json_pack("{s:o, s:o}", "cells", cells, "object", pmd));
    }
    json_t *meta = json_pack("{s:s}", "resourceVersion", rv ? rv : "");
    if (cont && *cont)
        json_object_set_new(meta, "continue", json_string(cont));
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                     "metadata", meta, "columnDefinitions", defs, "rows", rows);
}

static void set_default(json_t *o, const char *k, json_t *v)
{
    if (!json_object_get(o, k))
        json_object_set_new(o, k, v);
    else
        json_decref(v);
}

void pd_k8s_pod_defaults(json_t *pod, int64_t created_ms, uint64_t ip_seed)
{
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(pod, "spec", spec);
    }
    set_default(spec, "restartPolicy", json_string("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json_integer(30));
    set_default(spec, "dnsPolicy", json_string("ClusterFirst"));
    set_default(spec, "securityContext", json_object());
    set_default(spec, "schedulerName", json_string("default-scheduler"));
    set_default(spec, "enableServiceLinks", json_true());
    set_default(spec, "preemptionPolicy", json_string("PreemptLowerPriority"));
    set_default(spec, "priority", json_integer(0));
    set_default(spec, "nodeName", json_string("podiam-node"));
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
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
    char iso[32];
    pd_time_iso8601(created_ms, 0, iso);
    json_t *status = json_object();
    char ip[32];
    snprintf(ip, sizeof ip, "10.0.%u.%u", (unsigned)((ip_seed >> 8) % 254 + 1),
             (unsigned)(ip_seed % 254 + 1));
    json_object_set_new(status, "podIP", json_string(ip));
    json_object_set_new(status, "podIPs", json_pack("[{s:s}]", "ip", ip));
    json_object_set_new(status, "hostIP", json_string("10.0.0.10"));
    json_object_set_new(status, "hostIPs", json_pack("[{s:s}]", "ip", "10.0.0.10"));
    json_object_set_new(status, "startTime", json_string(iso));
    json_object_set_new(pod, "status", status);
    pd_k8s_pod_status(pod, created_ms);
}

static json_t *statuses(json_t *list, const char *start, int init)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *image = json_string_value(json_object_get(c, "image"));
        char cid[96];
        snprintf(cid, sizeof cid, "containerd://podiam-%s", name ? name : "");
        json_t *state = init ? json_pack("{s:{s:i, s:s, s:s, s:s, s:s}}", "terminated", "exitCode",
                                         0, "reason", "Completed", "startedAt", start, "finishedAt",
                                         start, "containerID", cid)
                             : json_pack("{s:{s:s}}", "running", "startedAt", start);
        json_array_append_new(out,
                              json_pack("{s:s, s:o, s:b, s:i, s:s, s:s, s:s, s:b}", "name",
                                        name ? name : "", "state", state, "ready", !init,
                                        "restartCount", 0, "image", image ? image : "", "imageID",
                                        image ? image : "", "containerID", cid, "started", !init));
    }
    return out;
}

int pd_k8s_owned_by_kind(const json_t *obj, const char *kind)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, o)
    {
        const char *k = json_string_value(json_object_get(o, "kind"));
        if (k && strcmp(k, kind) == 0 && json_is_true(json_object_get(o, "controller")))
            return 1;
    }
    return 0;
}

void pd_k8s_pod_status(json_t *pod, int64_t now_ms)
{
    json_t *spec = json_object_get(pod, "spec");
    json_t *status = json_object_get(pod, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(pod, "status", status);
    }
    const char *start = json_string_value(json_object_get(status, "startTime"));
    char iso[32];
    if (!start) {
        pd_time_iso8601(now_ms, 0, iso);
        start = iso;
        json_object_set_new(status, "startTime", json_string(iso));
    }
    /* a Job's pod on the virtual node completes at once, as kwok's stages make it */
    int done = pd_k8s_owned_by_kind(pod, "Job");
    json_object_set_new(status, "phase", json_string(done ? "Succeeded" : "Running"));
    json_object_set_new(status, "qosClass", json_string("BestEffort"));
    json_t *conds = json_array();
    static const char *const types[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                        "ContainersReady", "PodScheduled"};
    for (size_t i = 0; i < 5; i++) {
        /* a completed pod is no longer Ready (PodCompleted) */
        int off = done && (i == 0 || i == 2 || i == 3);
        json_t *c = json_pack("{s:s, s:s, s:n, s:s}", "type", types[i], "status",
                              off ? "False" : "True", "lastProbeTime", "lastTransitionTime", start);
        if (off && i != 0)
            json_object_set_new(c, "reason", json_string("PodCompleted"));
        json_array_append_new(conds, c);
    }
    json_object_set_new(status, "conditions", conds);
    json_object_set_new(status, "containerStatuses",
                        statuses(json_object_get(spec, "containers"), start, done));
    if (json_array_size(json_object_get(spec, "initContainers")))
        json_object_set_new(status, "initContainerStatuses",
                            statuses(json_object_get(spec, "initContainers"), start, 1));
    else
        json_object_del(status, "initContainerStatuses");
}
