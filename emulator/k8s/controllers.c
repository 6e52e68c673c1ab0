/*
 * controllers.c - what makes workload objects behave (reference/kubernetes-access-facts.md
 * §6): Deployment → ReplicaSet → Pods, StatefulSet and DaemonSet pods, Jobs (parallelism,
 * completions, backoffLimit, ttlSecondsAfterFinished), CronJobs on podiam's clock, garbage
 * collection by ownerReferences, and Events for what they do.
 *
 * One thread per process. The watch hub (watch.h) tells it which cluster changed; it then
 * reconciles that cluster in one write transaction, as podiam itself (no authorization),
 * creating pods through the same admission as a client's pods (service account, identity
 * webhook), and publishes its changes like any write, so watches see them. Passes repeat in
 * the transaction until nothing changes (at most PASSES). Every few seconds it also looks at
 * the clusters it knows, for what time alone changes (CronJobs, TTLs).
 *
 * Must not: hold its lock while reconciling; write anything when a cluster is converged (a
 * pass that writes nothing publishes nothing, so the controllers never wake themselves).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "k8s/internal.h"
#include "k8s/watch.h"
#include "req.h"
#include "services/eks.h"
#include "store/k8s_db.h"
#include "store/store.h"

#define PASSES 8
#define DIRTY_MAX 64
#define KNOWN_MAX 256
#define PERIOD_MS 3000

struct pd_k8s_ctl {
    struct pd_env *env;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char dirty[DIRTY_MAX][33];
    size_t ndirty;
    char known[KNOWN_MAX][33];
    size_t nknown;
    int stopping, running;
};

/* ---- small helpers ---- */

static json_t *jget(const json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return b ? json_object_get(v, b) : v;
}

static json_int_t jint(const json_t *o, const char *a, const char *b)
{
    return json_integer_value(jget(o, a, b));
}

static const char *uid_of(const json_t *o)
{
    return pd_k8s_mstr(o, "uid");
}

static json_t *child(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(o, k, v);
    }
    return v;
}

static int has_condition(const json_t *o, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(jget(o, "status", "conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *s = json_string_value(json_object_get(c, "status"));
        if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0)
            return 1;
    }
    return 0;
}

static int pod_ready(const json_t *pod)
{
    return has_condition(pod, "Ready");
}

static const char *phase(const json_t *pod)
{
    const char *p = json_string_value(jget(pod, "status", "phase"));
    return p ? p : "Pending";
}

/* Is obj controlled by the object with uid? */
static int owned_by(const json_t *obj, const char *uid)
{
    size_t i;
    json_t *o;
    json_array_foreach(jget(obj, "metadata", "ownerReferences"), i, o)
    {
        const char *u = json_string_value(json_object_get(o, "uid"));
        if (u && uid && strcmp(u, uid) == 0)
            return 1;
    }
    return 0;
}

static json_t *owner_ref(const struct pd_k8s_res *res, const json_t *owner)
{
    return json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", res->api_version, "kind",
                     res->kind, "name", pd_k8s_mstr(owner, "name"), "uid", uid_of(owner),
                     "controller", 1, "blockOwnerDeletion", 1);
}

/* The objects of res in every namespace owned by uid (new array). */
static json_t *owned(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns,
                     const char *uid)
{
    json_t *all = pd_k8s_load_all(x, res, ns);
    json_t *out = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o)
    {
        if (owned_by(o, uid))
            json_array_append(out, o);
    }
    json_decref(all);
    return out;
}

/* Store obj (a changed copy of old) when it differs; spec changes bump generation. */
static int put(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, json_t *obj, const json_t *old)
{
    if (json_equal(obj, old))
        return PD_OK;
    if (!json_equal(json_object_get(obj, "spec"), json_object_get(old, "spec")) &&
        json_object_get(json_object_get(old, "metadata"), "generation"))
        json_object_set_new(pd_k8s_meta(obj), "generation",
                            json_integer(jint(old, "metadata", "generation") + 1));
    return pd_k8s_save(x, res, obj, 1);
}

/* Create obj (stolen) of res in ns through the API's create path (defaults, admission, the
 * identity webhook for pods), as podiam. *OUT_name (arena) is the created object's name. */
static int create(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns, json_t *obj,
                  const char **OUT_name)
{
    struct pd_req *r = x->r;
    const struct pd_k8s_res *keep = x->res;
    x->res = res;
    r->resp.status = 0;
    pd_buf_reset(&r->resp.body);
    int rc = pd_k8s_create(x, obj, ns);
    x->res = keep;
    if (rc)
        return rc;
    if (r->resp.status != 201) {
        pd_log(PD_LOG_WARN, "k8s controllers: cannot create a %s in %s: %.*s", res->kind, ns,
               (int)(r->resp.body.len > 400 ? 400 : r->resp.body.len),
               r->resp.body.p ? r->resp.body.p : "");
        r->resp.status = 0;
        return PD_EINVAL;
    }
    if (OUT_name) {
        json_t *o = json_loadb(r->resp.body.p, r->resp.body.len, 0, NULL);
        *OUT_name =
            pd_arena_strdup(&r->arena, pd_k8s_mstr(o, "name") ? pd_k8s_mstr(o, "name") : "");
        json_decref(o);
    }
    r->resp.status = 0;
    return PD_OK;
}

/* Was a create for owner refused earlier in this run? Then it is not tried again until the
 * next run (a refusal writes an Event, which would make every pass write). */
static int refused(struct pd_k8s_ctx *x, const json_t *owner)
{
    return json_object_get(x->refused, uid_of(owner) ? uid_of(owner) : "") != NULL;
}

static void refuse(struct pd_k8s_ctx *x, const json_t *owner)
{
    json_object_set_new(x->refused, uid_of(owner) ? uid_of(owner) : "", json_true());
}

/* An Event about obj of res (reason, message), as the controllers record them. */
static void event(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const json_t *obj,
                  const char *type, const char *reason, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void event(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const json_t *obj,
                  const char *type, const char *reason, const char *component, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *ns = pd_k8s_mstr(obj, "namespace");
    if (!ns || !*ns)
        ns = "default";
    const char *name = pd_k8s_mstr(obj, "name");
    /* one Event per object, reason and message: a repeat bumps its count (as kube's event
     * correlator does), so a controller failing again and again adds nothing */
    uint32_t h = 2166136261u;
    const char *parts[] = {uid_of(obj) ? uid_of(obj) : "", reason, msg};
    for (size_t i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p; p++) {
            h ^= (uint8_t)*p;
            h *= 16777619u;
        }
    const char *ename = pd_arena_printf(&x->r->arena, "%s.%08x", name ? name : "x", h);
    const struct pd_k8s_res *evr = pd_k8s_res_find("events");
    json_t *had = pd_k8s_load(x, evr, ns, ename);
    if (had) {
        json_t *upd = json_deep_copy(had);
        json_object_set_new(upd, "count", json_integer(jint(had, "count", NULL) + 1));
        json_object_set_new(upd, "lastTimestamp", json_string(pd_k8s_iso(x, x->now_ms)));
        if (pd_k8s_save(x, evr, upd, 1))
            pd_log(PD_LOG_WARN, "k8s controllers: cannot record an event (%s)", reason);
        json_decref(upd);
        json_decref(had);
        return;
    }
    json_t *e = json_pack(
        "{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s}, s:s}",
        "apiVersion", "v1", "kind", "Event", "metadata", "name", ename, "involvedObject", "kind",
        res->kind, "apiVersion", res->api_version, "namespace", ns, "name", name ? name : "", "uid",
        uid_of(obj) ? uid_of(obj) : "", "resourceVersion",
        pd_k8s_mstr(obj, "resourceVersion") ? pd_k8s_mstr(obj, "resourceVersion") : "", "type",
        type, "reason", reason, "message", msg, "source", "component", component,
        "reportingComponent", component);
    if (create(x, evr, ns, e, NULL))
        pd_log(PD_LOG_WARN, "k8s controllers: cannot record an event (%s)", reason);
}

static const struct pd_k8s_res *res_of(const char *group, const char *plural)
{
    return pd_k8s_res_lookup(group, "v1", plural);
}

/* A pod of template tpl (spec.template) for owner of res: labels and annotations from the
 * template, ownerReference to owner. name NULL: generateName <owner>-. */
static json_t *pod_from(const struct pd_k8s_res *res, const json_t *owner, const json_t *tpl,
                        const char *name, const json_t *extra_labels)
{
    json_t *tmd = json_object_get(tpl, "metadata");
    json_t *labels = json_deep_copy(json_object_get(tmd, "labels"));
    if (!json_is_object(labels)) {
        json_decref(labels);
        labels = json_object();
    }
    if (extra_labels)
        json_object_update(labels, (json_t *)extra_labels);
    json_t *md =
        json_pack("{s:o, s:o}", "labels", labels, "ownerReferences", owner_ref(res, owner));
    if (json_object_get(tmd, "annotations"))
        json_object_set_new(md, "annotations", json_deep_copy(json_object_get(tmd, "annotations")));
    if (name)
        json_object_set_new(md, "name", json_string(name));
    return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", md,
                     "spec", json_deep_copy(json_object_get(tpl, "spec")));
}

static json_t *new_pod(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const json_t *owner,
                       const json_t *tpl, const char *name, const json_t *extra_labels)
{
    json_t *p = pod_from(res, owner, tpl, name, extra_labels);
    if (!name)
        json_object_set_new(
            pd_k8s_meta(p), "generateName",
            json_string(pd_arena_printf(&x->r->arena, "%s-", pd_k8s_mstr(owner, "name"))));
    return p;
}

/* Delete obj of res (a dependent: its own dependents go at the next pass, by GC). */
static int drop(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const json_t *obj)
{
    return pd_k8s_remove(x, res, obj);
}

/* A condition entry, keeping the transition time of an equal one in old conditions. */
static json_t *cond(struct pd_k8s_ctx *x, const json_t *oldconds, const char *type,
                    const char *status, const char *reason, const char *message)
{
    const char *now = pd_k8s_iso(x, x->now_ms);
    const char *since = now;
    size_t i;
    json_t *c;
    json_array_foreach(oldconds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *s = json_string_value(json_object_get(c, "status"));
        const char *r = json_string_value(json_object_get(c, "reason"));
        if (t && s && strcmp(t, type) == 0 && strcmp(s, status) == 0 && r &&
            strcmp(r, reason) == 0) {
            return json_deep_copy(c);
        }
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status,
                     "lastUpdateTime", since, "lastTransitionTime", since, "reason", reason,
                     "message", message);
}

/* ---- ReplicaSets ---- */

static int replicasets(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *rsr = res_of("apps", "replicasets"), *pods = pd_k8s_res_find("pods");
    json_t *all = pd_k8s_load_all(x, rsr, NULL);
    int rc = PD_OK;
    size_t i;
    json_t *rs;
    json_array_foreach(all, i, rs)
    {
        if (rc)
            break;
        const char *ns = pd_k8s_mstr(rs, "namespace");
        json_t *mine = owned(x, pods, ns, uid_of(rs));
        json_int_t want = jint(rs, "spec", "replicas");
        json_int_t have = (json_int_t)json_array_size(mine);
        for (json_int_t k = have; rc == PD_OK && k < want && !refused(x, rs); k++) {
            const char *name;
            rc = create(x, pods, ns, new_pod(x, rsr, rs, jget(rs, "spec", "template"), NULL, NULL),
                        &name);
            if (rc == PD_OK)
                event(x, rsr, rs, "Normal", "SuccessfulCreate", "replicaset-controller",
                      "Created pod: %s", name);
            else if (rc == PD_EINVAL) {
                refuse(x, rs);
                event(x, rsr, rs, "Warning", "FailedCreate", "replicaset-controller",
                      "Error creating: the pod was refused (see podiam's log)");
                rc = PD_OK;
            }
        }
        /* too many: the newest go first */
        for (json_int_t k = have - 1; rc == PD_OK && k >= want; k--) {
            json_t *p = json_array_get(mine, (size_t)k);
            rc = drop(x, pods, p);
            if (rc == PD_OK)
                event(x, rsr, rs, "Normal", "SuccessfulDelete", "replicaset-controller",
                      "Deleted pod: %s", pd_k8s_mstr(p, "name"));
        }
        json_decref(mine);
        if (rc)
            break;
        mine = owned(x, pods, ns, uid_of(rs));
        json_int_t ready = 0;
        size_t k;
        json_t *p;
        json_array_foreach(mine, k, p)
        {
            ready += pod_ready(p);
        }
        json_t *upd = json_deep_copy(rs);
        json_t *st = json_pack(
            "{s:I, s:I, s:I, s:I, s:I}", "replicas", (json_int_t)json_array_size(mine),
            "fullyLabeledReplicas", (json_int_t)json_array_size(mine), "readyReplicas", ready,
            "availableReplicas", ready, "observedGeneration", jint(rs, "metadata", "generation"));
        json_object_set_new(upd, "status", st);
        rc = put(x, rsr, upd, rs);
        json_decref(upd);
        json_decref(mine);
    }
    json_decref(all);
    return rc;
}

/* ---- Deployments ---- */

/* kube's pod-template-hash: FNV-32a of the template, its decimal digits mapped onto
 * rand.SafeEncodeString's alphabet. (kube hashes the Go struct as printed; podiam the
 * template's JSON with sorted keys, so the values differ from a real cluster's.) */
static void template_hash(const json_t *tpl, char out[16])
{
    char *s = json_dumps(tpl, JSON_COMPACT | JSON_SORT_KEYS);
    uint32_t h = 2166136261u;
    for (const char *p = s ? s : ""; *p; p++) {
        h ^= (uint8_t)*p;
        h *= 16777619u;
    }
    free(s);
    char dec[16];
    snprintf(dec, sizeof dec, "%u", h);
    static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
    size_t i;
    for (i = 0; dec[i] && i < 15; i++)
        out[i] = alnum[(unsigned char)dec[i] % (sizeof alnum - 1)];
    out[i] = '\0';
}

static json_int_t revision(const json_t *rs)
{
    const char *v = json_string_value(
        jget(jget(rs, "metadata", "annotations"), "deployment.kubernetes.io/revision", NULL));
    int64_t n = 0;
    if (v && pd_parse_i64(v, 0, INT64_MAX, &n))
        n = 0;
    return n;
}

static int deployments(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *dr = res_of("apps", "deployments"),
                            *rsr = res_of("apps", "replicasets");
    json_t *all = pd_k8s_load_all(x, dr, NULL);
    int rc = PD_OK;
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d)
    {
        if (rc)
            break;
        const char *ns = pd_k8s_mstr(d, "namespace");
        const char *dname = pd_k8s_mstr(d, "name");
        json_t *tpl = jget(d, "spec", "template");
        char hash[16];
        template_hash(tpl, hash);
        json_t *rss = owned(x, rsr, ns, uid_of(d));
        json_t *cur = NULL;
        json_int_t maxrev = 0;
        size_t k;
        json_t *rs;
        json_array_foreach(rss, k, rs)
        {
            const char *h =
                json_string_value(jget(jget(rs, "metadata", "labels"), "pod-template-hash", NULL));
            if (h && strcmp(h, hash) == 0)
                cur = rs;
            if (revision(rs) > maxrev)
                maxrev = revision(rs);
        }
        json_int_t want = jint(d, "spec", "replicas");
        char wants[24];
        snprintf(wants, sizeof wants, "%lld", (long long)want);
        if (!cur) {
            json_t *ntpl = json_deep_copy(tpl);
            json_object_set_new(child(child(ntpl, "metadata"), "labels"), "pod-template-hash",
                                json_string(hash));
            json_t *sel = json_deep_copy(jget(d, "spec", "selector"));
            json_object_set_new(child(sel, "matchLabels"), "pod-template-hash", json_string(hash));
            json_t *labels = json_deep_copy(jget(ntpl, "metadata", "labels"));
            char rev[24];
            snprintf(rev, sizeof rev, "%lld", (long long)maxrev + 1);
            const char *rsname = pd_arena_printf(&x->r->arena, "%s-%s", dname, hash);
            json_t *obj = json_pack(
                "{s:s, s:s, s:{s:s, s:o, s:{s:s, s:s, s:s}, s:o}, s:{s:I, s:o, s:o}}", "apiVersion",
                "apps/v1", "kind", "ReplicaSet", "metadata", "name", rsname, "labels", labels,
                "annotations", "deployment.kubernetes.io/desired-replicas", wants,
                "deployment.kubernetes.io/max-replicas", wants, "deployment.kubernetes.io/revision",
                rev, "ownerReferences", owner_ref(dr, d), "spec", "replicas", want, "selector", sel,
                "template", ntpl);
            rc = create(x, rsr, ns, obj, NULL);
            if (rc == PD_OK)
                event(x, dr, d, "Normal", "ScalingReplicaSet", "deployment-controller",
                      "Scaled up replica set %s to %lld", rsname, (long long)want);
            json_decref(rss);
            if (rc == PD_EINVAL)
                rc = PD_OK;
            continue; /* the next pass scales the old ones */
        }
        /* the current one: the latest revision, the wanted replicas; the old ones: none */
        json_t *upd = json_deep_copy(cur);
        json_int_t had = jint(cur, "spec", "replicas");
        json_object_set_new(child(upd, "spec"), "replicas", json_integer(want));
        json_t *ann = child(pd_k8s_meta(upd), "annotations");
        json_object_set_new(ann, "deployment.kubernetes.io/desired-replicas", json_string(wants));
        json_object_set_new(ann, "deployment.kubernetes.io/max-replicas", json_string(wants));
        if (revision(cur) < maxrev) { /* a rollback to this template */
            char rev[24];
            snprintf(rev, sizeof rev, "%lld", (long long)maxrev + 1);
            json_object_set_new(ann, "deployment.kubernetes.io/revision", json_string(rev));
        }
        rc = put(x, rsr, upd, cur);
        json_decref(upd);
        if (rc == PD_OK && had != want)
            event(x, dr, d, "Normal", "ScalingReplicaSet", "deployment-controller",
                  "Scaled %s replica set %s to %lld", want > had ? "up" : "down",
                  pd_k8s_mstr(cur, "name"), (long long)want);
        json_int_t total = 0, updated = 0, ready = 0;
        json_t *olds = json_array();
        json_array_foreach(rss, k, rs)
        {
            if (rc)
                break;
            json_int_t rep = jint(rs, "status", "replicas");
            total += rep;
            if (rs == cur) {
                updated = rep;
                ready += jint(rs, "status", "readyReplicas");
                continue;
            }
            ready += jint(rs, "status", "readyReplicas");
            if (jint(rs, "spec", "replicas") != 0) {
                json_t *o = json_deep_copy(rs);
                json_object_set_new(child(o, "spec"), "replicas", json_integer(0));
                rc = put(x, rsr, o, rs);
                json_decref(o);
                if (rc == PD_OK)
                    event(x, dr, d, "Normal", "ScalingReplicaSet", "deployment-controller",
                          "Scaled down replica set %s to 0 from %lld", pd_k8s_mstr(rs, "name"),
                          (long long)jint(rs, "spec", "replicas"));
            } else {
                json_array_append(olds, rs);
            }
        }
        /* revisionHistoryLimit: the oldest empty ones beyond it go */
        json_int_t limit = jint(d, "spec", "revisionHistoryLimit");
        while (rc == PD_OK && (json_int_t)json_array_size(olds) > limit) {
            size_t oldest = 0;
            json_array_foreach(olds, k, rs)
            {
                if (revision(rs) < revision(json_array_get(olds, oldest)))
                    oldest = k;
            }
            rc = drop(x, rsr, json_array_get(olds, oldest));
            json_array_remove(olds, oldest);
        }
        json_decref(olds);
        json_decref(rss);
        if (rc)
            break;
        json_t *upd2 = json_deep_copy(d);
        /* the deployment carries its current revision (kubectl rollout undo patches it) */
        char currev[24];
        snprintf(currev, sizeof currev, "%lld",
                 (long long)(revision(cur) < maxrev ? maxrev + 1 : revision(cur)));
        json_object_set_new(child(pd_k8s_meta(upd2), "annotations"),
                            "deployment.kubernetes.io/revision", json_string(currev));
        json_t *oc = jget(d, "status", "conditions");
        int done = updated == want && total == want && ready >= want;
        char pmsg[320];
        snprintf(pmsg, sizeof pmsg, "ReplicaSet \"%s\" %s.", pd_k8s_mstr(cur, "name"),
                 done ? "has successfully progressed" : "is progressing");
        json_t *st = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:[o, o]}", "observedGeneration",
            jint(d, "metadata", "generation"), "replicas", total, "updatedReplicas", updated,
            "readyReplicas", ready, "availableReplicas", ready, "conditions",
            cond(x, oc, "Available", ready >= want ? "True" : "False",
                 ready >= want ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                 ready >= want ? "Deployment has minimum availability."
                               : "Deployment does not have minimum availability."),
            cond(x, oc, "Progressing", "True",
                 done ? "NewReplicaSetAvailable" : "ReplicaSetUpdated", pmsg));
        if (total > ready)
            json_object_set_new(st, "unavailableReplicas", json_integer(total - ready));
        /* kube omits zero counts */
        static const char *const counts[] = {"replicas", "updatedReplicas", "readyReplicas",
                                             "availableReplicas", NULL};
        for (const char *const *c = counts; *c; c++)
            if (json_integer_value(json_object_get(st, *c)) == 0)
                json_object_del(st, *c);
        json_object_set_new(upd2, "status", st);
        rc = put(x, dr, upd2, d);
        json_decref(upd2);
    }
    json_decref(all);
    return rc;
}

/* ---- StatefulSets ---- */

static int statefulsets(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *sr = res_of("apps", "statefulsets"), *pods = pd_k8s_res_find("pods");
    json_t *all = pd_k8s_load_all(x, sr, NULL);
    int rc = PD_OK;
    size_t i;
    json_t *s;
    json_array_foreach(all, i, s)
    {
        if (rc)
            break;
        const char *ns = pd_k8s_mstr(s, "namespace");
        const char *sname = pd_k8s_mstr(s, "name");
        json_int_t want = jint(s, "spec", "replicas");
        char hash[16];
        template_hash(jget(s, "spec", "template"), hash);
        const char *revname = pd_arena_printf(&x->r->arena, "%s-%s", sname, hash);
        json_t *mine = owned(x, pods, ns, uid_of(s));
        /* pods <name>-0 … <name>-(replicas-1), in order; the others go */
        for (json_int_t k = 0; rc == PD_OK && k < want && !refused(x, s); k++) {
            const char *pn = pd_arena_printf(&x->r->arena, "%s-%lld", sname, (long long)k);
            json_t *have = pd_k8s_load(x, pods, ns, pn);
            if (have) {
                json_decref(have);
                continue;
            }
            char idx[24];
            snprintf(idx, sizeof idx, "%lld", (long long)k);
            json_t *extra =
                json_pack("{s:s, s:s, s:s}", "statefulset.kubernetes.io/pod-name", pn,
                          "apps.kubernetes.io/pod-index", idx, "controller-revision-hash", revname);
            json_t *p = new_pod(x, sr, s, jget(s, "spec", "template"), pn, extra);
            json_decref(extra);
            json_t *pspec = child(p, "spec");
            json_object_set_new(pspec, "hostname", json_string(pn));
            const char *svc = json_string_value(jget(s, "spec", "serviceName"));
            if (svc && *svc)
                json_object_set_new(pspec, "subdomain", json_string(svc));
            rc = create(x, pods, ns, p, NULL);
            if (rc == PD_OK)
                event(x, sr, s, "Normal", "SuccessfulCreate", "statefulset-controller",
                      "create Pod %s in StatefulSet %s successful", pn, sname);
            if (rc == PD_EINVAL) {
                refuse(x, s);
                event(x, sr, s, "Warning", "FailedCreate", "statefulset-controller",
                      "create Pod %s in StatefulSet %s failed: the pod was refused", pn, sname);
                rc = PD_OK;
            }
        }
        size_t k;
        json_t *p;
        json_int_t ready = 0, count = 0;
        json_array_foreach(mine, k, p)
        {
            if (rc)
                break;
            const char *pn = pd_k8s_mstr(p, "name");
            const char *dash = pn ? strrchr(pn, '-') : NULL;
            int64_t ord = -1;
            if (dash)
                pd_parse_i64(dash + 1, 0, INT64_MAX, &ord);
            if (ord < 0 || ord >= want) {
                rc = drop(x, pods, p);
                if (rc == PD_OK)
                    event(x, sr, s, "Normal", "SuccessfulDelete", "statefulset-controller",
                          "delete Pod %s in StatefulSet %s successful", pn, sname);
                continue;
            }
            count++;
            ready += pod_ready(p);
        }
        json_decref(mine);
        if (rc)
            break;
        json_t *upd = json_deep_copy(s);
        json_object_set_new(upd, "status",
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I}",
                                      "observedGeneration", jint(s, "metadata", "generation"),
                                      "replicas", count, "readyReplicas", ready, "currentReplicas",
                                      count, "updatedReplicas", count, "availableReplicas", ready,
                                      "currentRevision", revname, "updateRevision", revname,
                                      "collisionCount", (json_int_t)0));
        rc = put(x, sr, upd, s);
        json_decref(upd);
    }
    json_decref(all);
    return rc;
}

/* ---- DaemonSets ---- */

static int node_fits(const json_t *node, const json_t *tspec)
{
    json_t *labels = jget(node, "metadata", "labels");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(tspec, "nodeSelector"), k, v)
    {
        if (!json_equal(json_object_get(labels, k), v))
            return 0;
    }
    return 1;
}

static int daemonsets(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *dr = res_of("apps", "daemonsets"), *pods = pd_k8s_res_find("pods"),
                            *nodes = pd_k8s_res_find("nodes");
    json_t *all = pd_k8s_load_all(x, dr, NULL);
    json_t *ns_all = json_array_size(all) ? pd_k8s_load_all(x, nodes, "") : json_array();
    int rc = PD_OK;
    size_t i;
    json_t *d;
    json_array_foreach(all, i, d)
    {
        if (rc)
            break;
        const char *ns = pd_k8s_mstr(d, "namespace");
        json_t *tpl = jget(d, "spec", "template");
        json_t *mine = owned(x, pods, ns, uid_of(d));
        json_int_t desired = 0, current = 0, ready = 0;
        size_t k, m;
        json_t *node, *p;
        json_array_foreach(ns_all, k, node)
        {
            if (rc)
                break;
            if (!node_fits(node, json_object_get(tpl, "spec")))
                continue;
            desired++;
            const char *nn = pd_k8s_mstr(node, "name");
            json_t *found = NULL;
            json_array_foreach(mine, m, p)
            {
                const char *on = json_string_value(jget(p, "spec", "nodeName"));
                if (on && nn && strcmp(on, nn) == 0)
                    found = p;
            }
            if (found) {
                current++;
                ready += pod_ready(found);
                continue;
            }
            if (refused(x, d))
                continue;
            json_t *np = new_pod(x, dr, d, tpl, NULL, NULL);
            json_object_set_new(child(np, "spec"), "nodeName", json_string(nn));
            const char *name;
            rc = create(x, pods, ns, np, &name);
            if (rc == PD_OK)
                event(x, dr, d, "Normal", "SuccessfulCreate", "daemonset-controller",
                      "Created pod: %s", name);
            if (rc == PD_EINVAL) {
                refuse(x, d);
                event(x, dr, d, "Warning", "FailedCreate", "daemonset-controller",
                      "Error creating: the pod was refused (see podiam's log)");
                rc = PD_OK;
            }
        }
        /* pods on nodes that are gone (or no longer fit) go */
        json_array_foreach(mine, m, p)
        {
            if (rc)
                break;
            const char *on = json_string_value(jget(p, "spec", "nodeName"));
            int keep = 0;
            json_array_foreach(ns_all, k, node)
            {
                const char *nn = pd_k8s_mstr(node, "name");
                if (on && nn && strcmp(on, nn) == 0 &&
                    node_fits(node, json_object_get(tpl, "spec")))
                    keep = 1;
            }
            if (!keep)
                rc = drop(x, pods, p);
        }
        json_decref(mine);
        if (rc)
            break;
        json_t *upd = json_deep_copy(d);
        json_object_set_new(upd, "status",
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "observedGeneration",
                                      jint(d, "metadata", "generation"), "desiredNumberScheduled",
                                      desired, "currentNumberScheduled", current, "numberReady",
                                      ready, "updatedNumberScheduled", current, "numberAvailable",
                                      ready, "numberMisscheduled", (json_int_t)0));
        rc = put(x, dr, upd, d);
        json_decref(upd);
    }
    json_decref(ns_all);
    json_decref(all);
    return rc;
}

/* ---- Jobs ---- */

static int64_t ts_ms(const char *ts)
{
    int64_t ms = 0;
    if (!ts || pd_time_parse_iso8601(ts, &ms))
        return -1;
    return ms;
}

static int jobs(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *jr = res_of("batch", "jobs"), *pods = pd_k8s_res_find("pods");
    json_t *all = pd_k8s_load_all(x, jr, NULL);
    int rc = PD_OK;
    size_t i;
    json_t *j;
    json_array_foreach(all, i, j)
    {
        if (rc)
            break;
        const char *ns = pd_k8s_mstr(j, "namespace");
        int finished = has_condition(j, "Complete") || has_condition(j, "Failed");
        if (finished) {
            json_t *ttl = jget(j, "spec", "ttlSecondsAfterFinished");
            int64_t at = ts_ms(json_string_value(jget(j, "status", "completionTime")));
            if (at < 0) {
                size_t k;
                json_t *c;
                json_array_foreach(jget(j, "status", "conditions"), k, c)
                {
                    int64_t t = ts_ms(json_string_value(json_object_get(c, "lastTransitionTime")));
                    if (t > at)
                        at = t;
                }
            }
            if (json_is_integer(ttl) && at >= 0 && x->now_ms >= at + json_integer_value(ttl) * 1000)
                rc = drop(x, jr, j); /* its pods follow by GC */
            continue;
        }
        json_t *mine = owned(x, pods, ns, uid_of(j));
        json_int_t succeeded = 0, failed = 0, active = 0, ready = 0;
        size_t k;
        json_t *p;
        json_array_foreach(mine, k, p)
        {
            const char *ph = phase(p);
            if (strcmp(ph, "Succeeded") == 0)
                succeeded++;
            else if (strcmp(ph, "Failed") == 0)
                failed++;
            else {
                active++;
                ready += pod_ready(p);
            }
        }
        json_t *comp = jget(j, "spec", "completions");
        json_int_t completions = json_is_integer(comp) ? json_integer_value(comp) : 1;
        json_int_t par = jint(j, "spec", "parallelism");
        json_int_t backoff = jint(j, "spec", "backoffLimit");
        int suspended = json_is_true(jget(j, "spec", "suspend"));
        json_t *upd = json_deep_copy(j);
        json_t *st = child(upd, "status");
        const char *now = pd_k8s_iso(x, x->now_ms);
        if (!json_object_get(st, "startTime") && !suspended)
            json_object_set_new(st, "startTime", json_string(now));
        json_t *oc = jget(j, "status", "conditions");
        if (succeeded >= completions) {
            json_object_set_new(st, "completionTime", json_string(now));
            json_object_set_new(
                st, "conditions",
                json_pack("[o, o]",
                          cond(x, oc, "SuccessCriteriaMet", "True", "CompletionsReached",
                               "Reached expected number of succeeded pods"),
                          cond(x, oc, "Complete", "True", "CompletionsReached",
                               "Reached expected number of succeeded pods")));
            event(x, jr, j, "Normal", "Completed", "job-controller", "Job completed");
        } else if (failed > backoff) {
            json_object_set_new(
                st, "conditions",
                json_pack("[o, o]",
                          cond(x, oc, "FailureTarget", "True", "BackoffLimitExceeded",
                               "Job has reached the specified backoff limit"),
                          cond(x, oc, "Failed", "True", "BackoffLimitExceeded",
                               "Job has reached the specified backoff limit")));
            event(x, jr, j, "Warning", "BackoffLimitExceeded", "job-controller",
                  "Job has reached the specified backoff limit");
            json_array_foreach(mine, k, p)
            {
                if (rc == PD_OK && strcmp(phase(p), "Succeeded") != 0 &&
                    strcmp(phase(p), "Failed") != 0)
                    rc = drop(x, pods, p);
            }
            active = 0;
            ready = 0;
        } else if (!suspended) {
            json_int_t want = completions - succeeded;
            if (want > par)
                want = par;
            for (json_int_t n = active; rc == PD_OK && n < want && !refused(x, j); n++) {
                const char *name;
                rc = create(x, pods, ns, new_pod(x, jr, j, jget(j, "spec", "template"), NULL, NULL),
                            &name);
                if (rc == PD_OK)
                    event(x, jr, j, "Normal", "SuccessfulCreate", "job-controller",
                          "Created pod: %s", name);
                if (rc == PD_EINVAL) {
                    refuse(x, j);
                    event(x, jr, j, "Warning", "FailedCreate", "job-controller",
                          "Error creating: the pod was refused (see podiam's log)");
                    rc = PD_OK;
                }
            }
        }
        json_decref(mine);
        json_object_set_new(st, "active", json_integer(active));
        json_object_set_new(st, "ready", json_integer(ready));
        json_object_set_new(st, "terminating", json_integer(0));
        json_object_set_new(st, "uncountedTerminatedPods", json_object());
        if (succeeded)
            json_object_set_new(st, "succeeded", json_integer(succeeded));
        if (failed)
            json_object_set_new(st, "failed", json_integer(failed));
        if (!active)
            json_object_del(st, "active");
        if (rc == PD_OK)
            rc = put(x, jr, upd, j);
        json_decref(upd);
    }
    json_decref(all);
    return rc;
}

/* ---- CronJobs ---- */

static int cronjobs(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *cr = res_of("batch", "cronjobs"), *jr = res_of("batch", "jobs");
    json_t *all = pd_k8s_load_all(x, cr, NULL);
    int rc = PD_OK;
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c)
    {
        if (rc)
            break;
        const char *ns = pd_k8s_mstr(c, "namespace");
        const char *cname = pd_k8s_mstr(c, "name");
        json_t *mine = owned(x, jr, ns, uid_of(c));
        json_t *active = json_array(), *done_ok = json_array(), *done_bad = json_array();
        size_t k;
        json_t *j;
        json_array_foreach(mine, k, j)
        {
            if (has_condition(j, "Complete"))
                json_array_append(done_ok, j);
            else if (has_condition(j, "Failed"))
                json_array_append(done_bad, j);
            else
                json_array_append(active, j);
        }
        json_t *upd = json_deep_copy(c);
        json_t *st = child(upd, "status");
        const char *last = json_string_value(jget(c, "status", "lastScheduleTime"));
        int64_t from = ts_ms(last ? last : pd_k8s_mstr(c, "creationTimestamp"));
        int64_t next = 0;
        const char *sched = json_string_value(jget(c, "spec", "schedule"));
        if (!json_is_true(jget(c, "spec", "suspend")) && from >= 0 &&
            pd_k8s_cron_next(sched, from, &next) == PD_OK && next <= x->now_ms) {
            /* only the latest missed time runs (kube: one Job per sync); the search looks
             * at the last week at most, so a clock moved years ahead costs little */
            int64_t n2, week = 7LL * 86400 * 1000;
            if (x->now_ms - next > week &&
                pd_k8s_cron_next(sched, x->now_ms - week, &n2) == PD_OK && n2 <= x->now_ms)
                next = n2;
            for (int tries = 0; tries < 7 * 24 * 60 + 1 &&
                                pd_k8s_cron_next(sched, next, &n2) == PD_OK && n2 <= x->now_ms;
                 tries++)
                next = n2;
            const char *policy = json_string_value(jget(c, "spec", "concurrencyPolicy"));
            int run = 1;
            if (policy && strcmp(policy, "Forbid") == 0 && json_array_size(active))
                run = 0;
            if (run && policy && strcmp(policy, "Replace") == 0)
                json_array_foreach(active, k, j)
                {
                    if (rc == PD_OK)
                        rc = drop(x, jr, j);
                }
            if (run && rc == PD_OK) {
                const char *jname =
                    pd_arena_printf(&x->r->arena, "%s-%lld", cname, (long long)(next / 60000));
                json_t *jt = jget(c, "spec", "jobTemplate");
                json_t *md = json_deep_copy(json_object_get(jt, "metadata"));
                if (!json_is_object(md)) {
                    json_decref(md);
                    md = json_object();
                }
                json_object_set_new(md, "name", json_string(jname));
                json_object_set_new(md, "ownerReferences", owner_ref(cr, c));
                json_object_set_new(child(md, "annotations"),
                                    "batch.kubernetes.io/cronjob-scheduled-timestamp",
                                    json_string(pd_k8s_iso(x, next)));
                json_t *job =
                    json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "batch/v1", "kind", "Job",
                              "metadata", md, "spec", json_deep_copy(json_object_get(jt, "spec")));
                rc = create(x, jr, ns, job, NULL);
                if (rc == PD_OK)
                    event(x, cr, c, "Normal", "SuccessfulCreate", "cronjob-controller",
                          "Created job %s", jname);
                if (rc == PD_EINVAL)
                    rc = PD_OK;
            }
            json_object_set_new(st, "lastScheduleTime", json_string(pd_k8s_iso(x, next)));
        }
        /* history limits: the oldest finished Jobs beyond them go */
        json_int_t keep_ok = jint(c, "spec", "successfulJobsHistoryLimit");
        json_int_t keep_bad = jint(c, "spec", "failedJobsHistoryLimit");
        while (rc == PD_OK && (json_int_t)json_array_size(done_ok) > keep_ok) {
            rc = drop(x, jr, json_array_get(done_ok, 0));
            json_array_remove(done_ok, 0);
        }
        while (rc == PD_OK && (json_int_t)json_array_size(done_bad) > keep_bad) {
            rc = drop(x, jr, json_array_get(done_bad, 0));
            json_array_remove(done_bad, 0);
        }
        json_t *refs = json_array();
        json_array_foreach(active, k, j)
        {
            json_array_append_new(refs, json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "Job",
                                                  "namespace", ns, "name", pd_k8s_mstr(j, "name"),
                                                  "uid", uid_of(j), "apiVersion", "batch/v1"));
        }
        if (json_array_size(refs))
            json_object_set_new(st, "active", refs);
        else {
            json_decref(refs);
            json_object_del(st, "active");
        }
        if (json_array_size(done_ok)) {
            const char *t = json_string_value(jget(
                json_array_get(done_ok, json_array_size(done_ok) - 1), "status", "completionTime"));
            if (t)
                json_object_set_new(st, "lastSuccessfulTime", json_string(t));
        }
        if (rc == PD_OK)
            rc = put(x, cr, upd, c);
        json_decref(upd);
        json_decref(active);
        json_decref(done_ok);
        json_decref(done_bad);
        json_decref(mine);
    }
    json_decref(all);
    return rc;
}

/* ---- garbage collection ---- */

/* Does an owner reference point at an object that exists (same uid)? */
static int owner_exists(struct pd_k8s_ctx *x, const char *ns, const json_t *ref)
{
    const char *av = json_string_value(json_object_get(ref, "apiVersion"));
    const char *kind = json_string_value(json_object_get(ref, "kind"));
    const char *name = json_string_value(json_object_get(ref, "name"));
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    if (!av || !kind || !name || !uid)
        return 1; /* malformed: never collected */
    const struct pd_k8s_res *res = NULL;
    for (const struct pd_k8s_res *r = pd_k8s_resources; r->name; r++)
        if (strcmp(r->kind, kind) == 0 && strcmp(r->api_version, av) == 0)
            res = r;
    if (!res || (res->flags & PD_K8S_VIRTUAL))
        return 1; /* a kind podiam does not serve: leave it alone */
    json_t *o = pd_k8s_load(x, res, PD_K8S_NAMESPACED_RES(res) ? ns : "", name);
    int ok = o && strcmp(uid_of(o) ? uid_of(o) : "", uid) == 0;
    json_decref(o);
    return ok;
}

/* Events older than EVENT_TTL_MS (by their last time) go, as kube-apiserver's --event-ttl
 * (1 h) makes them. */
#define EVENT_TTL_MS (3600 * 1000)
static int expire_events(struct pd_k8s_ctx *x)
{
    const struct pd_k8s_res *evr = pd_k8s_res_find("events");
    json_t *all = pd_k8s_load_all(x, evr, NULL);
    int rc = PD_OK;
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
    {
        const char *t = json_string_value(json_object_get(e, "lastTimestamp"));
        int64_t at = ts_ms(t ? t : pd_k8s_mstr(e, "creationTimestamp"));
        if (at >= 0 && x->now_ms - at > EVENT_TTL_MS && (rc = drop(x, evr, e)) != PD_OK)
            break;
    }
    json_decref(all);
    return rc;
}

static int collect(struct pd_k8s_ctx *x)
{
    static const char *const kinds[][2] = {
        {"apps", "replicasets"},  {"batch", "jobs"},      {"", "pods"},
        {"apps", "statefulsets"}, {"apps", "daemonsets"}, {"apps", "deployments"},
        {"", "configmaps"},       {"", "secrets"},        {"", "services"},
        {"", "endpoints"}};
    int rc = PD_OK;
    for (size_t n = 0; rc == PD_OK && n < sizeof kinds / sizeof *kinds; n++) {
        const struct pd_k8s_res *res = res_of(kinds[n][0], kinds[n][1]);
        /* only objects that have owners are parsed (config maps may be large) */
        struct pd_k8s_db_obj *rows;
        size_t nrows;
        rc = pd_k8s_db_list(x->r->db, &x->r->arena, x->c.id, res->qualified, NULL, &rows, &nrows);
        json_t *all = json_array();
        for (size_t r = 0; rc == PD_OK && r < nrows; r++)
            if (strstr(rows[r].body, "\"ownerReferences\""))
                json_array_append_new(all, json_loads(rows[r].body, 0, NULL));
        size_t i;
        json_t *o;
        json_array_foreach(all, i, o)
        {
            json_t *refs = jget(o, "metadata", "ownerReferences");
            if (!json_array_size(refs))
                continue;
            int alive = 0;
            size_t k;
            json_t *ref;
            json_array_foreach(refs, k, ref)
            {
                alive |= owner_exists(x, pd_k8s_mstr(o, "namespace"), ref);
            }
            if (!alive && (rc = drop(x, res, o)) != PD_OK)
                break;
        }
        json_decref(all);
    }
    return rc;
}

/* ---- reconciling ---- */

static int run_mode(struct pd_env *env, const char *cluster, int full);

int pd_k8s_controllers_run(struct pd_env *env, const char *cluster)
{
    return run_mode(env, cluster, 1);
}

/* full: every controller; else only what time changes (CronJobs, Job TTLs, Event expiry),
 * which the periodic pass runs. */
static int run_mode(struct pd_env *env, const char *cluster, int full)
{
    struct pd_db *db = pd_store_db(env->store);
    struct pd_req *r = pd_req_new(env);
    r->db = db;
    snprintf(r->request_id, sizeof r->request_id, "controllers");
    struct pd_k8s_ctx x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.now_ms = pd_clock_now_ms(&env->clock);
    x.system = 1;
    x.refused = json_object();
    int rc = pd_db_begin(db, 1);
    if (rc) {
        pd_req_free(r);
        return rc;
    }
    rc = pd_eks_cluster_by_id(db, &r->arena, cluster, &x.c);
    int64_t rv;
    if (rc == PD_OK && pd_k8s_db_rv(db, x.c.id, &rv) != PD_OK)
        rc = PD_ENOTFOUND; /* its API was never used: nothing to do */
    for (int pass = 0; rc == PD_OK && pass < PASSES; pass++) {
        size_t before = x.ev.n;
        if (!full) {
            if ((rc = cronjobs(&x)) == PD_OK && (rc = jobs(&x)) == PD_OK)
                rc = expire_events(&x);
            if (x.ev.n == before)
                break;
            full = 1; /* something changed: the others follow in the next pass */
            continue;
        }
        if ((rc = deployments(&x)) == PD_OK && (rc = replicasets(&x)) == PD_OK &&
            (rc = statefulsets(&x)) == PD_OK && (rc = daemonsets(&x)) == PD_OK &&
            (rc = cronjobs(&x)) == PD_OK && (rc = jobs(&x)) == PD_OK && (rc = collect(&x)) == PD_OK)
            rc = expire_events(&x);
        if (x.ev.n == before)
            break;
    }
    if (rc == PD_OK) {
        rc = pd_k8s_commit(env, db, x.c.id, &x.ev);
    } else {
        pd_db_rollback(db);
        pd_k8s_pending_clear(&x.ev);
        if (rc != PD_ENOTFOUND)
            pd_log(PD_LOG_WARN, "k8s controllers: cluster %s: %s", cluster, pd_strerror(rc));
    }
    json_decref(x.refused);
    pd_req_free(r);
    return rc == PD_ENOTFOUND ? PD_OK : rc;
}

/* ---- the thread ---- */

static void remember(char list[][33], size_t *n, size_t max, const char *id)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], id) == 0)
            return;
    if (*n == max) { /* the oldest is forgotten */
        memmove(list[0], list[1], (max - 1) * sizeof list[0]);
        (*n)--;
    }
    snprintf(list[(*n)++], 33, "%s", id);
}

static void on_change(void *arg, const char *cluster)
{
    struct pd_k8s_ctl *c = arg;
    if (!cluster || !*cluster)
        return;
    if (c->running && pthread_equal(pthread_self(), c->th))
        return; /* its own commit: it already ran to a fixed point */
    pthread_mutex_lock(&c->mu);
    remember(c->dirty, &c->ndirty, DIRTY_MAX, cluster);
    remember(c->known, &c->nknown, KNOWN_MAX, cluster);
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *ctl_main(void *arg)
{
    struct pd_k8s_ctl *c = arg;
    int64_t next_period = mono_ms() + PERIOD_MS;
    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        if (!c->ndirty && mono_ms() < next_period) {
            struct timespec until = pd_timespec_after_ms(CLOCK_REALTIME, 250);
            pthread_cond_timedwait(&c->cv, &c->mu, &until);
            continue;
        }
        char work[KNOWN_MAX][33];
        size_t n = 0;
        int full = 1;
        if (c->ndirty) {
            memcpy(work, c->dirty, c->ndirty * sizeof work[0]);
            n = c->ndirty;
            c->ndirty = 0;
        } else {
            memcpy(work, c->known, c->nknown * sizeof work[0]);
            n = c->nknown;
            full = 0;
            next_period = mono_ms() + PERIOD_MS;
        }
        pthread_mutex_unlock(&c->mu);
        for (size_t i = 0; i < n; i++)
            run_mode(c->env, work[i], full);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int pd_k8s_controllers_start(struct pd_env *env)
{
    if (!env->k8s || env->k8s_ctl)
        return PD_OK;
    struct pd_k8s_ctl *c = pd_xcalloc(1, sizeof *c);
    c->env = env;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->running = 1;
    if (pthread_create(&c->th, NULL, ctl_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c);
        return PD_EINTERNAL;
    }
    env->k8s_ctl = c;
    pd_k8s_hub_listen(env, on_change, c);
    return PD_OK;
}

void pd_k8s_controllers_stop(struct pd_env *env)
{
    struct pd_k8s_ctl *c = env->k8s_ctl;
    if (!c)
        return;
    pd_k8s_hub_listen(env, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
    env->k8s_ctl = NULL;
}
