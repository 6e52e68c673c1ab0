/*
 * webhook.c - the pod mutation of amazon-eks-pod-identity-webhook in IRSA mode, as a pure
 * function on jansson JSON (see webhook.h). Owns: reading the ServiceAccount and pod
 * annotations (precedence, expiration floor, skip-containers CSV), the per-container env and
 * volumeMount rules, and the projected token volume. Behaviour follows the webhook's
 * pkg/handler/handler.go and pkg/cache/cache.go (reference/aws-wire-facts.md §2).
 */
#include "k8s/webhook.h"

#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"

struct pd_k8s_webhook_cfg pd_k8s_webhook_defaults(const char *region)
{
    struct pd_k8s_webhook_cfg c = {
        .region = region,
        .audience = "sts.amazonaws.com",
        .token_expiration = 86400,
        .sts_regional_endpoints = 0,
    };
    return c;
}

/* ---- small JSON readers that treat the wrong type as absent ---- */

static json_t *obj_get(const json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static const char *str_get(const json_t *o, const char *key)
{
    json_t *v = obj_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* metadata.annotations[key] of obj when it is a string. */
static const char *annotation(const json_t *obj, const char *key)
{
    return str_get(obj_get(obj_get(obj, "metadata"), "annotations"), key);
}

/* Go's strconv.ParseBool. Returns 1/0, or -1 when s is not a boolean. */
static int parse_go_bool(const char *s)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcmp(s, yes[i]))
            return 1;
        if (!strcmp(s, no[i]))
            return 0;
    }
    return -1;
}

/* An expiration annotation: a base-10 int64 raised to the 600 s floor; anything else leaves
 * *v alone. */
static void parse_expiration(const char *s, long long *v)
{
    int64_t n;
    if (!s || pd_parse_i64(s, INT64_MIN, INT64_MAX, &n) != PD_OK)
        return;
    *v = n < PD_K8S_WEBHOOK_MIN_EXPIRATION ? PD_K8S_WEBHOOK_MIN_EXPIRATION : n;
}

/* The first record of the skip-containers annotation, parsed like Go's encoding/csv (quoted
 * fields with "" escapes, no space trimming). Any CSV error skips nothing: returns an empty
 * array. Always returns a new array. */
static json_t *parse_skip_csv(const char *s)
{
    json_t *names = json_array();
    if (!s)
        return names;
    /* encoding/csv skips empty lines before the first record. */
    while (*s == '\n' || (*s == '\r' && s[1] == '\n'))
        s += *s == '\r' ? 2 : 1;
    if (!*s)
        return names;
    char field[1024];
    const char *p = s;
    for (;;) {
        size_t n = 0;
        int overflow = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    goto bad; /* unterminated quote */
                if (*p == '"') {
                    if (p[1] == '"') {
                        p += 2;
                        if (n < sizeof field - 1)
                            field[n++] = '"';
                        else
                            overflow = 1;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\r' && p[1] == '\n')
                    p++; /* csv turns \r\n inside quotes into \n */
                if (n < sizeof field - 1)
                    field[n++] = *p;
                else
                    overflow = 1;
                p++;
            }
            if (*p && *p != ',' && *p != '\n' && !(*p == '\r' && p[1] == '\n'))
                goto bad; /* extraneous character after a closing quote */
        } else {
            while (*p && *p != ',' && *p != '\n' && !(*p == '\r' && p[1] == '\n')) {
                if (*p == '"')
                    goto bad; /* bare quote in an unquoted field */
                if (n < sizeof field - 1)
                    field[n++] = *p;
                else
                    overflow = 1;
                p++;
            }
        }
        /* A name longer than the buffer cannot match a container name we compare against in
         * full, so it is dropped rather than truncated into a false match. */
        if (!overflow)
            json_array_append_new(names, json_stringn(field, n));
        if (*p == ',') {
            p++;
            continue;
        }
        break; /* end of the first record */
    }
    return names;
bad:
    json_array_clear(names);
    return names;
}

static int name_in(const json_t *names, const char *name)
{
    size_t i;
    json_t *v;
    if (!name)
        name = ""; /* a container without a name is Go's "" */
    json_array_foreach(names, i, v)
    {
        if (!strcmp(json_string_value(v), name))
            return 1;
    }
    return 0;
}

/* ---- the mutation ---- */

struct plan {
    const char *role;
    const char *token_file;
    const char *region;
    int regional_sts;
};

static json_t *env_var(const char *name, const char *value)
{
    return json_pack("{s:s, s:s}", "name", name, "value", value);
}

/* The webhook's addEnvToContainer. Returns 1 when c changed. */
static int mutate_container(json_t *c, const struct plan *pl)
{
    int reserved = 0, region = 0, sts = 0;
    json_t *env = obj_get(c, "env");
    if (!json_is_array(env))
        env = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        const char *n = str_get(e, "name");
        if (!n)
            continue;
        if (!strcmp(n, "AWS_ROLE_ARN") || !strcmp(n, "AWS_WEB_IDENTITY_TOKEN_FILE"))
            reserved = 1;
        if (!strcmp(n, "AWS_REGION") || !strcmp(n, "AWS_DEFAULT_REGION"))
            region = 1;
        if (!strcmp(n, "AWS_STS_REGIONAL_ENDPOINTS"))
            sts = 1;
    }
    /* The webhook returns before the volumeMount check when all three are defined. */
    if (reserved && region && sts)
        return 0;

    int changed = 0;
    json_t *add = json_array();
    if (!sts && pl->regional_sts)
        json_array_append_new(add, env_var("AWS_STS_REGIONAL_ENDPOINTS", "regional"));
    if (!region && pl->region && *pl->region) {
        json_array_append_new(add, env_var("AWS_DEFAULT_REGION", pl->region));
        json_array_append_new(add, env_var("AWS_REGION", pl->region));
    }
    if (!reserved) {
        json_array_append_new(add, env_var("AWS_ROLE_ARN", pl->role));
        json_array_append_new(add, env_var("AWS_WEB_IDENTITY_TOKEN_FILE", pl->token_file));
    }
    if (json_array_size(add)) {
        if (env)
            json_array_extend(env, add);
        else
            json_object_set(c, "env", add);
        changed = 1;
    }
    json_decref(add);

    json_t *mounts = obj_get(c, "volumeMounts");
    if (!json_is_array(mounts))
        mounts = NULL;
    json_array_foreach(mounts, i, e)
    {
        const char *n = str_get(e, "name");
        if (n && !strcmp(n, PD_K8S_WEBHOOK_VOLUME))
            return changed;
    }
    json_t *m = json_pack("{s:s, s:b, s:s}", "name", PD_K8S_WEBHOOK_VOLUME, "readOnly", 1,
                          "mountPath", PD_K8S_WEBHOOK_MOUNT_PATH);
    if (mounts)
        json_array_append_new(mounts, m);
    else
        json_object_set_new(c, "volumeMounts", json_pack("[o]", m));
    return 1;
}

static int mutate_list(json_t *list, const json_t *skip, const struct plan *pl)
{
    int changed = 0;
    size_t i;
    json_t *c;
    if (!json_is_array(list))
        return 0;
    json_array_foreach(list, i, c)
    {
        if (!json_is_object(c) || name_in(skip, str_get(c, "name")))
            continue;
        if (mutate_container(c, pl))
            changed = 1;
    }
    return changed;
}

static int is_windows(const json_t *spec)
{
    json_t *sel = obj_get(spec, "nodeSelector");
    const char *beta = str_get(sel, "beta.kubernetes.io/os");
    const char *os = str_get(sel, "kubernetes.io/os");
    return (beta && !strcmp(beta, "windows")) || (os && !strcmp(os, "windows"));
}

int pd_k8s_webhook_mutate(json_t *pod, const json_t *sa, const struct pd_k8s_webhook_cfg *cfg)
{
    struct pd_k8s_webhook_cfg def = pd_k8s_webhook_defaults(NULL);
    if (!cfg)
        cfg = &def;
    if (!json_is_object(pod))
        return 0;

    /* ServiceAccount annotations over the flags (the webhook's cache entry). */
    struct plan pl = {.role = annotation(sa, PD_K8S_WEBHOOK_ANN_ROLE_ARN),
                      .region = cfg->region,
                      .regional_sts = cfg->sts_regional_endpoints != 0};
    if (!pl.role || !*pl.role)
        return 0;
    const char *audience = cfg->audience ? cfg->audience : "sts.amazonaws.com";
    const char *sa_aud = annotation(sa, PD_K8S_WEBHOOK_ANN_AUDIENCE);
    if (sa_aud)
        audience = sa_aud;
    const char *sa_sts = annotation(sa, PD_K8S_WEBHOOK_ANN_REGIONAL_STS);
    if (sa_sts && parse_go_bool(sa_sts) >= 0)
        pl.regional_sts = parse_go_bool(sa_sts);
    long long expiration = cfg->token_expiration;
    parse_expiration(annotation(sa, PD_K8S_WEBHOOK_ANN_EXPIRATION), &expiration);
    /* Pod annotations last. */
    parse_expiration(annotation(pod, PD_K8S_WEBHOOK_ANN_EXPIRATION), &expiration);
    json_t *skip = parse_skip_csv(annotation(pod, PD_K8S_WEBHOOK_ANN_SKIP));

    json_t *spec = obj_get(pod, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(pod, "spec", spec);
    }
    pl.token_file =
        is_windows(spec) ? PD_K8S_WEBHOOK_TOKEN_FILE_WINDOWS : PD_K8S_WEBHOOK_TOKEN_FILE;

    int changed = mutate_list(obj_get(spec, "initContainers"), skip, &pl);
    changed |= mutate_list(obj_get(spec, "containers"), skip, &pl);
    json_decref(skip);

    json_t *vols = obj_get(spec, "volumes");
    if (!json_is_array(vols))
        vols = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(vols, i, v)
    {
        const char *n = str_get(v, "name");
        if (n && !strcmp(n, PD_K8S_WEBHOOK_VOLUME))
            return changed;
    }
    json_t *vol = json_pack("{s:s, s:{s:[{s:{s:s, s:I, s:s}}]}}", "name", PD_K8S_WEBHOOK_VOLUME,
                            "projected", "sources", "serviceAccountToken", "audience", audience,
                            "expirationSeconds", (json_int_t)expiration, "path", "token");
    if (vols)
        json_array_insert_new(vols, 0, vol); /* JSON patch "add /spec/volumes/0" */
    else
        json_object_set_new(spec, "volumes", json_pack("[o]", vol));
    return 1;
}

/* ---- Pod Identity ---- */

static int podid_container(json_t *c)
{
    json_t *env = obj_get(c, "env");
    if (!json_is_array(env))
        env = NULL;
    size_t i;
    json_t *e;
    int has = 0, changed = 0;
    json_array_foreach(env, i, e)
    {
        const char *n = str_get(e, "name");
        if (n && (!strcmp(n, "AWS_CONTAINER_CREDENTIALS_FULL_URI") ||
                  !strcmp(n, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")))
            has = 1;
    }
    if (!has) {
        json_t *add = json_pack(
            "[o, o]", env_var("AWS_CONTAINER_CREDENTIALS_FULL_URI", PD_K8S_PODID_FULL_URI),
            env_var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", PD_K8S_PODID_TOKEN_FILE));
        if (env)
            json_array_extend(env, add);
        else
            json_object_set(c, "env", add);
        json_decref(add);
        changed = 1;
    }
    json_t *mounts = obj_get(c, "volumeMounts");
    if (!json_is_array(mounts))
        mounts = NULL;
    json_array_foreach(mounts, i, e)
    {
        const char *n = str_get(e, "name");
        if (n && !strcmp(n, PD_K8S_PODID_VOLUME))
            return changed;
    }
    json_t *m = json_pack("{s:s, s:b, s:s}", "name", PD_K8S_PODID_VOLUME, "readOnly", 1,
                          "mountPath", PD_K8S_PODID_MOUNT_PATH);
    if (mounts)
        json_array_append_new(mounts, m);
    else
        json_object_set_new(c, "volumeMounts", json_pack("[o]", m));
    return 1;
}

int pd_k8s_webhook_mutate_pod_identity(json_t *pod)
{
    if (!json_is_object(pod))
        return 0;
    long long expiration = 86400;
    parse_expiration(annotation(pod, PD_K8S_WEBHOOK_ANN_EXPIRATION), &expiration);
    json_t *spec = obj_get(pod, "spec");
    if (!json_is_object(spec))
        return 0; /* no containers */
    json_t *skip = parse_skip_csv(annotation(pod, PD_K8S_WEBHOOK_ANN_SKIP));
    int changed = 0;
    const char *lists[] = {"initContainers", "containers"};
    for (size_t k = 0; k < 2; k++) {
        json_t *list = obj_get(spec, lists[k]);
        size_t i;
        json_t *c;
        if (!json_is_array(list))
            continue;
        json_array_foreach(list, i, c)
        {
            if (json_is_object(c) && !name_in(skip, str_get(c, "name")) && podid_container(c))
                changed = 1;
        }
    }
    json_decref(skip);
    if (!changed)
        return 0;
    json_t *vols = obj_get(spec, "volumes");
    if (!json_is_array(vols))
        vols = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(vols, i, v)
    {
        const char *n = str_get(v, "name");
        if (n && !strcmp(n, PD_K8S_PODID_VOLUME))
            return changed;
    }
    json_t *vol = json_pack("{s:s, s:{s:i, s:[{s:{s:s, s:I, s:s}}]}}", "name", PD_K8S_PODID_VOLUME,
                            "projected", "defaultMode", 420, "sources", "serviceAccountToken",
                            "audience", "pods.eks.amazonaws.com", "expirationSeconds",
                            (json_int_t)expiration, "path", "eks-pod-identity-token");
    if (vols)
        json_array_append_new(vols, vol);
    else
        json_object_set_new(spec, "volumes", json_pack("[o]", vol));
    return 1;
}
