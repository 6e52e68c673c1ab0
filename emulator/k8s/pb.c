/*
 * pb.c - decoder for Kubernetes protobuf request bodies (see pb.h). Owns: the
 * protobuf wire reader (varint, fixed 64/32-bit, length-delimited; groups refused), the
 * runtime.Unknown envelope, and one table of field descriptors per message kubectl 1.32
 * sends, with the JSON names of kubernetes/api and apimachinery generated.proto.
 *
 * Every read is checked against the end of its message; nesting follows the descriptor
 * tables, never the input, and is also capped at K8S_PB_MAX_DEPTH. Unknown fields are
 * skipped by wire type. status sub-messages are not decoded: what a client writes there is
 * ignored by the API and kubectl only ever sends empty ones.
 */
#include "k8s/pb.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"

#define K8S_PB_MAX_DEPTH 16

enum wire { W_VARINT = 0, W_I64 = 1, W_LEN = 2, W_SGROUP = 3, W_EGROUP = 4, W_I32 = 5 };

enum ftype {
    F_STR,      /* string; "" dropped */
    F_STRS,     /* repeated string; every element kept */
    F_BOOL,     /* optional bool */
    F_INT,      /* int64/int32 varint, kept when present */
    F_INT_NZ,   /* int64 varint, dropped when 0 (generation) */
    F_MSG,      /* sub-message -> object */
    F_MSGS,     /* repeated sub-message -> array of objects */
    F_TIME,     /* metav1.Time -> RFC 3339 string, null when empty */
    F_MAP_STR,  /* map<string,string> */
    F_MAP_B64,  /* map<string,bytes> -> base64 strings */
    F_MAP_STRS, /* map<string,ExtraValue{1 items}> -> string lists (SubjectAccessReview extra) */
};

struct msg;
struct field {
    unsigned num;
    const char *json;
    enum ftype type;
    const struct msg *sub;
};
struct msg {
    const struct field *fields;
    size_t n;
};
#define MSG(name, ...)                                                                             \
    static const struct field name##_f[] = {__VA_ARGS__};                                          \
    static const struct msg name = {name##_f, sizeof name##_f / sizeof *name##_f}

/* apimachinery pkg/apis/meta/v1/generated.proto */
MSG(owner_ref, {1, "kind", F_STR, NULL}, {3, "name", F_STR, NULL}, {4, "uid", F_STR, NULL},
    {5, "apiVersion", F_STR, NULL}, {6, "controller", F_BOOL, NULL},
    {7, "blockOwnerDeletion", F_BOOL, NULL});
MSG(object_meta, {1, "name", F_STR, NULL}, {2, "generateName", F_STR, NULL},
    {3, "namespace", F_STR, NULL}, {4, "selfLink", F_STR, NULL}, {5, "uid", F_STR, NULL},
    {6, "resourceVersion", F_STR, NULL}, {7, "generation", F_INT_NZ, NULL},
    {8, "creationTimestamp", F_TIME, NULL}, {9, "deletionTimestamp", F_TIME, NULL},
    {10, "deletionGracePeriodSeconds", F_INT, NULL}, {11, "labels", F_MAP_STR, NULL},
    {12, "annotations", F_MAP_STR, NULL}, {13, "ownerReferences", F_MSGS, &owner_ref},
    {14, "finalizers", F_STRS, NULL});

/* kubernetes/api core/v1/generated.proto */
MSG(namespace_spec, {1, "finalizers", F_STRS, NULL});
MSG(namespace_msg, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &namespace_spec});
MSG(object_ref, {1, "kind", F_STR, NULL}, {2, "namespace", F_STR, NULL}, {3, "name", F_STR, NULL},
    {4, "uid", F_STR, NULL}, {5, "apiVersion", F_STR, NULL}, {6, "resourceVersion", F_STR, NULL},
    {7, "fieldPath", F_STR, NULL});
MSG(local_object_ref, {1, "name", F_STR, NULL});
MSG(service_account, {1, "metadata", F_MSG, &object_meta}, {2, "secrets", F_MSGS, &object_ref},
    {3, "imagePullSecrets", F_MSGS, &local_object_ref},
    {4, "automountServiceAccountToken", F_BOOL, NULL});
MSG(config_map, {1, "metadata", F_MSG, &object_meta}, {2, "data", F_MAP_STR, NULL},
    {3, "binaryData", F_MAP_B64, NULL}, {4, "immutable", F_BOOL, NULL});

/* kubernetes/api authentication/v1/generated.proto */
MSG(bound_object_ref, {1, "kind", F_STR, NULL}, {2, "apiVersion", F_STR, NULL},
    {3, "name", F_STR, NULL}, {4, "uid", F_STR, NULL});
MSG(token_request_spec, {1, "audiences", F_STRS, NULL},
    {3, "boundObjectRef", F_MSG, &bound_object_ref}, {4, "expirationSeconds", F_INT, NULL});
MSG(token_request, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &token_request_spec});
MSG(self_subject_review, {1, "metadata", F_MSG, &object_meta});

/* kubernetes/api authorization/v1/generated.proto */
MSG(selector_requirement, {1, "key", F_STR, NULL}, {2, "operator", F_STR, NULL},
    {3, "values", F_STRS, NULL});
MSG(selector_attributes, {1, "rawSelector", F_STR, NULL},
    {2, "requirements", F_MSGS, &selector_requirement});
MSG(resource_attributes, {1, "namespace", F_STR, NULL}, {2, "verb", F_STR, NULL},
    {3, "group", F_STR, NULL}, {4, "version", F_STR, NULL}, {5, "resource", F_STR, NULL},
    {6, "subresource", F_STR, NULL}, {7, "name", F_STR, NULL},
    {8, "fieldSelector", F_MSG, &selector_attributes},
    {9, "labelSelector", F_MSG, &selector_attributes});
MSG(non_resource_attributes, {1, "path", F_STR, NULL}, {2, "verb", F_STR, NULL});
MSG(ssar_spec, {1, "resourceAttributes", F_MSG, &resource_attributes},
    {2, "nonResourceAttributes", F_MSG, &non_resource_attributes});
MSG(ssar, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &ssar_spec});

MSG(sar_spec, {1, "resourceAttributes", F_MSG, &resource_attributes},
    {2, "nonResourceAttributes", F_MSG, &non_resource_attributes}, {3, "user", F_STR, NULL},
    {4, "groups", F_STRS, NULL}, {5, "extra", F_MAP_STRS, NULL}, {6, "uid", F_STR, NULL});
MSG(sar, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &sar_spec});
MSG(ssrr_spec, {1, "namespace", F_STR, NULL});
MSG(ssrr, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &ssrr_spec});

/* apimachinery pkg/apis/meta/v1/generated.proto: LabelSelector */
MSG(label_selector_requirement, {1, "key", F_STR, NULL}, {2, "operator", F_STR, NULL},
    {3, "values", F_STRS, NULL});
MSG(label_selector, {1, "matchLabels", F_MAP_STR, NULL},
    {2, "matchExpressions", F_MSGS, &label_selector_requirement});

/* kubernetes/api rbac/v1/generated.proto */
MSG(policy_rule, {1, "verbs", F_STRS, NULL}, {2, "apiGroups", F_STRS, NULL},
    {3, "resources", F_STRS, NULL}, {4, "resourceNames", F_STRS, NULL},
    {5, "nonResourceURLs", F_STRS, NULL});
MSG(aggregation_rule, {1, "clusterRoleSelectors", F_MSGS, &label_selector});
MSG(role_msg, {1, "metadata", F_MSG, &object_meta}, {2, "rules", F_MSGS, &policy_rule});
MSG(cluster_role, {1, "metadata", F_MSG, &object_meta}, {2, "rules", F_MSGS, &policy_rule},
    {3, "aggregationRule", F_MSG, &aggregation_rule});
MSG(subject, {1, "kind", F_STR, NULL}, {2, "apiGroup", F_STR, NULL}, {3, "name", F_STR, NULL},
    {4, "namespace", F_STR, NULL});
MSG(role_ref, {1, "apiGroup", F_STR, NULL}, {2, "kind", F_STR, NULL}, {3, "name", F_STR, NULL});
MSG(role_binding, {1, "metadata", F_MSG, &object_meta}, {2, "subjects", F_MSGS, &subject},
    {3, "roleRef", F_MSG, &role_ref});

/* kubernetes/api core/v1, apps/v1, batch/v1 generated.proto: the workload kinds kubectl 1.32
 * creates (`create deployment|job|cronjob|secret|service`), their pod templates with the
 * container fields kubectl sets and the common ones of hand-written specs. */
MSG(int_or_string, {1, "type", F_INT, NULL}, {2, "intVal", F_INT, NULL},
    {3, "strVal", F_STR, NULL});
MSG(container_port, {1, "name", F_STR, NULL}, {2, "hostPort", F_INT_NZ, NULL},
    {3, "containerPort", F_INT, NULL}, {4, "protocol", F_STR, NULL}, {5, "hostIP", F_STR, NULL});
MSG(env_var, {1, "name", F_STR, NULL}, {2, "value", F_STR, NULL});
/* resources: limits and requests are maps of Quantity messages, not decoded (dropped) */
MSG(resource_requirements, {1000, "-", F_STR, NULL});
MSG(volume_mount, {1, "name", F_STR, NULL}, {2, "readOnly", F_BOOL, NULL},
    {3, "mountPath", F_STR, NULL}, {4, "subPath", F_STR, NULL});
MSG(container, {1, "name", F_STR, NULL}, {2, "image", F_STR, NULL}, {3, "command", F_STRS, NULL},
    {4, "args", F_STRS, NULL}, {5, "workingDir", F_STR, NULL},
    {6, "ports", F_MSGS, &container_port}, {7, "env", F_MSGS, &env_var},
    {8, "resources", F_MSG, &resource_requirements}, {9, "volumeMounts", F_MSGS, &volume_mount},
    {13, "terminationMessagePath", F_STR, NULL}, {14, "imagePullPolicy", F_STR, NULL},
    {20, "terminationMessagePolicy", F_STR, NULL});
MSG(pod_spec, {2, "containers", F_MSGS, &container}, {3, "restartPolicy", F_STR, NULL},
    {4, "terminationGracePeriodSeconds", F_INT, NULL}, {6, "dnsPolicy", F_STR, NULL},
    {7, "nodeSelector", F_MAP_STR, NULL}, {8, "serviceAccountName", F_STR, NULL},
    {10, "nodeName", F_STR, NULL}, {19, "schedulerName", F_STR, NULL},
    {20, "initContainers", F_MSGS, &container}, {21, "automountServiceAccountToken", F_BOOL, NULL});
MSG(pod_template, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &pod_spec});
MSG(deployment_spec, {1, "replicas", F_INT, NULL}, {2, "selector", F_MSG, &label_selector},
    {3, "template", F_MSG, &pod_template}, {6, "revisionHistoryLimit", F_INT, NULL},
    {9, "progressDeadlineSeconds", F_INT, NULL});
MSG(deployment, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &deployment_spec});
MSG(job_spec, {1, "parallelism", F_INT, NULL}, {2, "completions", F_INT, NULL},
    {3, "activeDeadlineSeconds", F_INT, NULL}, {4, "selector", F_MSG, &label_selector},
    {5, "manualSelector", F_BOOL, NULL}, {6, "template", F_MSG, &pod_template},
    {7, "backoffLimit", F_INT, NULL}, {8, "ttlSecondsAfterFinished", F_INT, NULL},
    {9, "completionMode", F_STR, NULL}, {10, "suspend", F_BOOL, NULL});
MSG(job, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &job_spec});
MSG(job_template, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &job_spec});
MSG(cronjob_spec, {1, "schedule", F_STR, NULL}, {2, "startingDeadlineSeconds", F_INT, NULL},
    {3, "concurrencyPolicy", F_STR, NULL}, {4, "suspend", F_BOOL, NULL},
    {5, "jobTemplate", F_MSG, &job_template}, {6, "successfulJobsHistoryLimit", F_INT, NULL},
    {7, "failedJobsHistoryLimit", F_INT, NULL}, {8, "timeZone", F_STR, NULL});
MSG(cronjob, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &cronjob_spec});
MSG(secret, {1, "metadata", F_MSG, &object_meta}, {2, "data", F_MAP_B64, NULL},
    {3, "type", F_STR, NULL}, {4, "stringData", F_MAP_STR, NULL}, {5, "immutable", F_BOOL, NULL});
MSG(service_port, {1, "name", F_STR, NULL}, {2, "protocol", F_STR, NULL}, {3, "port", F_INT, NULL},
    {4, "targetPort", F_MSG, &int_or_string}, {5, "nodePort", F_INT_NZ, NULL},
    {6, "appProtocol", F_STR, NULL});
MSG(service_spec, {1, "ports", F_MSGS, &service_port}, {2, "selector", F_MAP_STR, NULL},
    {3, "clusterIP", F_STR, NULL}, {4, "type", F_STR, NULL}, {5, "externalIPs", F_STRS, NULL},
    {7, "sessionAffinity", F_STR, NULL}, {11, "externalName", F_STR, NULL});
MSG(service, {1, "metadata", F_MSG, &object_meta}, {2, "spec", F_MSG, &service_spec});

static const struct {
    const char *kind;
    const struct msg *m;
} kinds[] = {
    {"Deployment", &deployment},
    {"Job", &job},
    {"CronJob", &cronjob},
    {"Secret", &secret},
    {"Service", &service},
    {"Namespace", &namespace_msg},
    {"ServiceAccount", &service_account},
    {"ConfigMap", &config_map},
    {"TokenRequest", &token_request},
    {"SelfSubjectAccessReview", &ssar},
    {"SelfSubjectReview", &self_subject_review},
    {"SubjectAccessReview", &sar},
    {"LocalSubjectAccessReview", &sar},
    {"SelfSubjectRulesReview", &ssrr},
    {"Role", &role_msg},
    {"ClusterRole", &cluster_role},
    {"RoleBinding", &role_binding},
    {"ClusterRoleBinding", &role_binding},
};

/* runtime.Unknown and runtime.TypeMeta (apimachinery pkg/runtime/generated.proto) are read
 * by hand below: field numbers 1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding,
 * 4 contentType. */

/* ---- wire reader ---- */

struct rd {
    const uint8_t *p, *end;
    const char *why;
    struct pd_arena *arena;
};

static int fail(struct rd *r, const char *why)
{
    if (!r->why)
        r->why = why;
    return PD_EINVAL;
}

static int read_varint(struct rd *r, uint64_t *OUT)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return fail(r, "truncated varint");
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1)
            return fail(r, "varint overflows 64 bits");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *OUT = v;
            return PD_OK;
        }
    }
    return fail(r, "varint longer than 10 bytes");
}

/* A length-delimited payload: [*OUT_p, *OUT_p + *OUT_n) within the current message. */
static int read_len(struct rd *r, const uint8_t **OUT_p, size_t *OUT_n)
{
    uint64_t n;
    if (read_varint(r, &n))
        return PD_EINVAL;
    if (n > (uint64_t)(r->end - r->p))
        return fail(r, "length-delimited field runs past the end of its message");
    *OUT_p = r->p;
    *OUT_n = (size_t)n;
    r->p += n;
    return PD_OK;
}

static int read_tag(struct rd *r, unsigned *OUT_num, unsigned *OUT_wire)
{
    uint64_t key;
    if (read_varint(r, &key))
        return PD_EINVAL;
    uint64_t num = key >> 3;
    if (num == 0 || num > 536870911u)
        return fail(r, "invalid field number");
    *OUT_num = (unsigned)num;
    *OUT_wire = (unsigned)(key & 7);
    return PD_OK;
}

static int skip_field(struct rd *r, unsigned wire)
{
    uint64_t v;
    const uint8_t *p;
    size_t n;
    switch (wire) {
    case W_VARINT:
        return read_varint(r, &v);
    case W_I64:
        if (r->end - r->p < 8)
            return fail(r, "truncated 64-bit field");
        r->p += 8;
        return PD_OK;
    case W_LEN:
        return read_len(r, &p, &n);
    case W_I32:
        if (r->end - r->p < 4)
            return fail(r, "truncated 32-bit field");
        r->p += 4;
        return PD_OK;
    case W_SGROUP:
    case W_EGROUP:
        return fail(r, "protobuf groups are not supported");
    default:
        return fail(r, "invalid wire type");
    }
}

/* A protobuf string as a new JSON string: valid UTF-8 without NUL, else refused. */
static int make_string(struct rd *r, const uint8_t *p, size_t n, json_t **OUT)
{
    if (memchr(p, 0, n))
        return fail(r, "string contains a NUL byte");
    json_t *s = json_stringn((const char *)p, n);
    if (!s)
        return fail(r, "string is not valid UTF-8");
    *OUT = s;
    return PD_OK;
}

/* ---- messages ---- */

static int decode_msg(struct rd *r, const uint8_t *p, size_t n, const struct msg *m, json_t *obj,
                      int depth);

static const struct field *find_field(const struct msg *m, unsigned num)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->fields[i].num == num)
            return &m->fields[i];
    return NULL;
}

/* Seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (metav1.Time marshals whole seconds). */
static int time_string(struct rd *r, int64_t secs, json_t **OUT)
{
    /* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, the range Time documents. */
    if (secs < -62135596800LL || secs > 253402300799LL)
        return fail(r, "timestamp out of range");
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return fail(r, "timestamp out of range");
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    *OUT = json_string(buf);
    return PD_OK;
}

static int decode_time(struct rd *r, const uint8_t *p, size_t n, json_t **OUT)
{
    struct rd sub = {p, p + n, NULL, r->arena};
    int64_t secs = 0, nanos = 0;
    while (sub.p < sub.end) {
        unsigned num, wire;
        uint64_t v;
        if (read_tag(&sub, &num, &wire))
            goto bad;
        if ((num == 1 || num == 2) && wire == W_VARINT) {
            if (read_varint(&sub, &v))
                goto bad;
            if (num == 1)
                secs = (int64_t)v;
            else
                nanos = (int32_t)(uint32_t)v;
        } else if (num == 1 || num == 2) {
            fail(&sub, "field of the wrong wire type");
            goto bad;
        } else if (skip_field(&sub, wire)) {
            goto bad;
        }
    }
    if (secs == 0 && nanos == 0) {
        *OUT = json_null();
        return PD_OK;
    }
    return time_string(r, secs, OUT);
bad:
    return fail(r, sub.why);
}

/* An ExtraValue {1 items (repeated string)} as a new JSON array. */
static int decode_strings(struct rd *r, const uint8_t *p, size_t n, json_t **OUT)
{
    struct rd sub = {p, p + n, NULL, r->arena};
    json_t *arr = json_array();
    while (sub.p < sub.end) {
        unsigned num, wire;
        const uint8_t *v;
        size_t vn;
        json_t *s;
        if (read_tag(&sub, &num, &wire))
            goto bad;
        if (num != 1) {
            if (skip_field(&sub, wire))
                goto bad;
            continue;
        }
        if (wire != W_LEN) {
            fail(&sub, "field of the wrong wire type");
            goto bad;
        }
        if (read_len(&sub, &v, &vn) || make_string(&sub, v, vn, &s))
            goto bad;
        json_array_append_new(arr, s);
    }
    *OUT = arr;
    return PD_OK;
bad:
    json_decref(arr);
    return fail(r, sub.why);
}

/* One map entry {1 key, 2 value} into obj[key]; b64: bytes values, 2: ExtraValue values. */
static int decode_map_entry(struct rd *r, const uint8_t *p, size_t n, int b64, json_t *obj)
{
    struct rd sub = {p, p + n, NULL, r->arena};
    const uint8_t *key = (const uint8_t *)"", *val = (const uint8_t *)"";
    size_t key_n = 0, val_n = 0;
    while (sub.p < sub.end) {
        unsigned num, wire;
        if (read_tag(&sub, &num, &wire))
            return fail(r, sub.why);
        if (num == 1 || num == 2) {
            if (wire != W_LEN)
                return fail(r, "field of the wrong wire type");
            if (read_len(&sub, num == 1 ? &key : &val, num == 1 ? &key_n : &val_n))
                return fail(r, sub.why);
        } else if (skip_field(&sub, wire)) {
            return fail(r, sub.why);
        }
    }
    json_t *k = NULL, *v = NULL;
    if (make_string(r, key, key_n, &k))
        return PD_EINVAL;
    int rc;
    if (b64 == 2) {
        rc = decode_strings(r, val, val_n, &v);
    } else if (b64) {
        v = json_string(pd_base64_encode(r->arena, val, val_n, 0));
        rc = PD_OK;
    } else {
        rc = make_string(r, val, val_n, &v);
    }
    if (rc == PD_OK)
        json_object_set_new(obj, json_string_value(k), v);
    json_decref(k);
    return rc;
}

/* obj[name] as an object or array, created when missing or of another type. */
static json_t *child(json_t *obj, const char *name, int array)
{
    json_t *c = json_object_get(obj, name);
    if (array ? json_is_array(c) : json_is_object(c))
        return c;
    c = array ? json_array() : json_object();
    json_object_set_new(obj, name, c);
    return c;
}

static int decode_field(struct rd *r, const struct field *f, unsigned wire, json_t *obj, int depth)
{
    uint64_t v;
    const uint8_t *p;
    size_t n;
    json_t *j = NULL;
    int varint = f->type == F_BOOL || f->type == F_INT || f->type == F_INT_NZ;
    if (wire == W_SGROUP || wire == W_EGROUP)
        return fail(r, "protobuf groups are not supported");
    if (varint ? wire != W_VARINT : wire != W_LEN)
        return fail(r, "field of the wrong wire type");
    if (varint) {
        if (read_varint(r, &v))
            return PD_EINVAL;
        if (f->type == F_BOOL)
            json_object_set_new(obj, f->json, json_boolean(v != 0));
        else if (f->type == F_INT_NZ && v == 0)
            json_object_del(obj, f->json);
        else
            json_object_set_new(obj, f->json, json_integer((json_int_t)(int64_t)v));
        return PD_OK;
    }
    if (read_len(r, &p, &n))
        return PD_EINVAL;
    switch (f->type) {
    case F_STR:
        if (n == 0) {
            json_object_del(obj, f->json); /* "" is unset; also undoes an earlier value */
            return PD_OK;
        }
        if (make_string(r, p, n, &j))
            return PD_EINVAL;
        json_object_set_new(obj, f->json, j);
        return PD_OK;
    case F_STRS:
        if (make_string(r, p, n, &j))
            return PD_EINVAL;
        json_array_append_new(child(obj, f->json, 1), j);
        return PD_OK;
    case F_TIME:
        if (decode_time(r, p, n, &j))
            return PD_EINVAL;
        json_object_set_new(obj, f->json, j);
        return PD_OK;
    case F_MAP_STR:
    case F_MAP_B64:
    case F_MAP_STRS:
        return decode_map_entry(r, p, n,
                                f->type == F_MAP_STRS  ? 2
                                : f->type == F_MAP_B64 ? 1
                                                       : 0,
                                child(obj, f->json, 0));
    case F_MSG:
        /* A repeated occurrence merges into the same object, as protobuf does. */
        return decode_msg(r, p, n, f->sub, child(obj, f->json, 0), depth + 1);
    case F_MSGS: {
        json_t *o = json_object();
        json_array_append_new(child(obj, f->json, 1), o);
        return decode_msg(r, p, n, f->sub, o, depth + 1);
    }
    default:
        return fail(r, "internal: unhandled field type");
    }
}

static int decode_msg(struct rd *r, const uint8_t *p, size_t n, const struct msg *m, json_t *obj,
                      int depth)
{
    if (depth > K8S_PB_MAX_DEPTH)
        return fail(r, "messages nested too deeply");
    struct rd sub = {p, p + n, NULL, r->arena};
    while (sub.p < sub.end) {
        unsigned num, wire;
        if (read_tag(&sub, &num, &wire))
            return fail(r, sub.why);
        const struct field *f = find_field(m, num);
        if (f ? decode_field(&sub, f, wire, obj, depth) : skip_field(&sub, wire))
            return fail(r, sub.why);
    }
    return PD_OK;
}

/* ---- envelope ---- */

struct unknown {
    const uint8_t *api_version, *kind, *raw, *encoding;
    size_t api_version_n, kind_n, raw_n, encoding_n;
};

static int decode_type_meta(struct rd *r, const uint8_t *p, size_t n, struct unknown *u)
{
    struct rd sub = {p, p + n, NULL, r->arena};
    while (sub.p < sub.end) {
        unsigned num, wire;
        if (read_tag(&sub, &num, &wire))
            return fail(r, sub.why);
        if (num == 1 || num == 2) {
            if (wire != W_LEN)
                return fail(r, "field of the wrong wire type");
            if (read_len(&sub, num == 1 ? &u->api_version : &u->kind,
                         num == 1 ? &u->api_version_n : &u->kind_n))
                return fail(r, sub.why);
        } else if (skip_field(&sub, wire)) {
            return fail(r, sub.why);
        }
    }
    return PD_OK;
}

static int decode_unknown(struct rd *r, struct unknown *u)
{
    while (r->p < r->end) {
        unsigned num, wire;
        const uint8_t *p;
        size_t n;
        if (read_tag(r, &num, &wire))
            return PD_EINVAL;
        if (num < 1 || num > 4) {
            if (skip_field(r, wire))
                return PD_EINVAL;
            continue;
        }
        if (wire != W_LEN)
            return fail(r, "field of the wrong wire type");
        if (read_len(r, &p, &n))
            return PD_EINVAL;
        if (num == 1 && decode_type_meta(r, p, n, u))
            return PD_EINVAL;
        if (num == 2) {
            u->raw = p;
            u->raw_n = n;
        } else if (num == 3) {
            u->encoding = p;
            u->encoding_n = n;
        }
    }
    return PD_OK;
}

/* A Service's targetPorts arrive as IntOrString {type, intVal, strVal}: the JSON form is the
 * number or the string. */
static void int_or_strings(json_t *ports)
{
    size_t i;
    json_t *p;
    json_array_foreach(ports, i, p)
    {
        json_t *t = json_object_get(p, "targetPort");
        if (!json_is_object(t))
            continue;
        json_t *v = json_integer_value(json_object_get(t, "type")) == 1
                        ? json_incref(json_object_get(t, "strVal"))
                        : json_integer(json_integer_value(json_object_get(t, "intVal")));
        if (v)
            json_object_set_new(p, "targetPort", v);
        else
            json_object_del(p, "targetPort");
    }
}

int pd_k8s_pb_decode(const uint8_t *body, size_t len, json_t **OUT, const char **OUT_why)
{
    static const uint8_t magic[4] = {'k', '8', 's', 0};
    struct pd_arena arena;
    struct rd r = {NULL, NULL, NULL, &arena};
    struct unknown u = {0};
    json_t *obj = NULL;
    int rc = PD_EINVAL;

    pd_arena_init(&arena);
    *OUT = NULL;
    *OUT_why = NULL;
    if (len > PD_K8S_PB_MAX) {
        r.why = "protobuf body too big";
        goto out;
    }
    if (!body || len < sizeof magic || memcmp(body, magic, sizeof magic)) {
        r.why = "missing the k8s protobuf magic prefix";
        goto out;
    }
    r.p = body + sizeof magic;
    r.end = body + len;
    if (decode_unknown(&r, &u))
        goto out;
    if (u.encoding_n) {
        r.why = "contentEncoding is not supported";
        goto out;
    }
    const struct msg *m = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (u.kind_n == strlen(kinds[i].kind) && !memcmp(u.kind, kinds[i].kind, u.kind_n))
            m = kinds[i].m;
    if (!m) {
        r.why = "unknown kind";
        goto out;
    }
    json_t *api_version = NULL;
    if (make_string(&r, u.api_version ? u.api_version : (const uint8_t *)"", u.api_version_n,
                    &api_version))
        goto out;
    obj = json_object();
    json_object_set_new(obj, "apiVersion", api_version);
    json_object_set_new(obj, "kind", json_stringn((const char *)u.kind, u.kind_n));
    json_object_set_new(obj, "metadata", json_object());
    if (decode_msg(&r, u.raw ? u.raw : (const uint8_t *)"", u.raw_n, m, obj, 1))
        goto out;
    if (!json_is_object(json_object_get(obj, "metadata")))
        json_object_set_new(obj, "metadata", json_object());
    int_or_strings(json_object_get(json_object_get(obj, "spec"), "ports"));
    *OUT = obj;
    obj = NULL;
    rc = PD_OK;
out:
    json_decref(obj);
    if (rc != PD_OK)
        *OUT_why = r.why ? r.why : "malformed protobuf body";
    pd_arena_cleanup(&arena);
    return rc;
}
