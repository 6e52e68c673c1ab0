/*
 * request.c - the pure parsing of Kubernetes API requests: which cluster and object a
 * path names (pd_k8s_parse_path, k8s.h), label and field selectors of lists and the fields
 * a field selector may name. No store, no request context: fuzzed directly.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/str.h"
#include "k8s/k8s.h"
#include "k8s/internal.h"

#define PREFIX "/_podiam/k8s/"

/* ---- path parsing (pure) ---- */

static int copy_seg(const char *s, size_t n, char *out, size_t cap)
{
    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

/* Split rest ("/a/b/c") into at most 8 segments; returns the count, or -1 when too many or
 * a segment is empty. */
static int segments(const char *rest, const char *seg[8], size_t len[8])
{
    int n = 0;
    const char *p = rest;
    if (*p == '\0')
        return 0;
    if (*p != '/')
        return -1;
    while (*p == '/') {
        p++;
        if (*p == '\0')
            break; /* one trailing slash is tolerated */
        if (n == 8)
            return -1;
        size_t l = strcspn(p, "/");
        if (l == 0)
            return -1;
        seg[n] = p;
        len[n] = l;
        n++;
        p += l;
    }
    return n;
}

static int seg_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncmp(s, word, n) == 0;
}

int pd_k8s_parse_path(const char *path, struct pd_k8s_path *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    if (!pd_has_prefix(path, PREFIX))
        return PD_EINVAL;
    const char *id = path + strlen(PREFIX);
    size_t idl = strcspn(id, "/");
    if (!copy_seg(id, idl, OUT->cluster, sizeof OUT->cluster))
        return PD_EINVAL;
    OUT->rest = id + idl;
    const char *s[8];
    size_t l[8];
    int n = segments(OUT->rest, s, l);
    if (n <= 0)
        return PD_OK;
    if (n == 1 && seg_is(s[0], l[0], "version")) {
        OUT->target = PD_K8S_T_VERSION;
    } else if (n == 1 && (seg_is(s[0], l[0], "healthz") || seg_is(s[0], l[0], "livez") ||
                          seg_is(s[0], l[0], "readyz"))) {
        OUT->target = PD_K8S_T_HEALTH;
    } else if (seg_is(s[0], l[0], "openapi")) {
        if (n == 2 && seg_is(s[1], l[1], "v2"))
            OUT->target = PD_K8S_T_OPENAPI_V2;
        else if (n >= 2 && seg_is(s[1], l[1], "v3"))
            OUT->target = PD_K8S_T_OPENAPI_V3;
    } else if (seg_is(s[0], l[0], "api")) {
        if (n == 1) {
            OUT->target = PD_K8S_T_API;
            return PD_OK;
        }
        if (!seg_is(s[1], l[1], "v1"))
            return PD_OK;
        if (n == 2) {
            OUT->target = PD_K8S_T_GROUPVERSION;
            OUT->group_version = "v1";
            return PD_OK;
        }
        int i = 2;
        if (seg_is(s[2], l[2], "namespaces") && n >= 5) {
            if (!copy_seg(s[3], l[3], OUT->ns, sizeof OUT->ns))
                return PD_OK;
            i = 4;
        }
        char res[32];
        if (!copy_seg(s[i], l[i], res, sizeof res))
            return PD_OK;
        const struct pd_k8s_res *r = pd_k8s_res_find(res);
        if (!r)
            return PD_OK;
        if (i == 4 && !r->namespaced)
            return PD_OK;
        OUT->resource = r->name;
        if (n == i + 1) {
            OUT->target = PD_K8S_T_COLLECTION;
        } else if (n == i + 2 && copy_seg(s[i + 1], l[i + 1], OUT->name, sizeof OUT->name)) {
            /* a namespaced object needs its namespace */
            OUT->target = r->namespaced && i == 2 ? PD_K8S_T_NONE : PD_K8S_T_OBJECT;
        } else if (n == i + 3 && i == 4 && strcmp(r->name, "serviceaccounts") == 0 &&
                   seg_is(s[i + 2], l[i + 2], "token") &&
                   copy_seg(s[i + 1], l[i + 1], OUT->name, sizeof OUT->name)) {
            OUT->target = PD_K8S_T_TOKEN;
        }
    } else if (seg_is(s[0], l[0], "apis")) {
        static const char *const groups[] = {"authentication.k8s.io", "authorization.k8s.io", NULL};
        static const char *const gvs[] = {"authentication.k8s.io/v1", "authorization.k8s.io/v1"};
        if (n == 1) {
            OUT->target = PD_K8S_T_APIS;
            return PD_OK;
        }
        int g = -1;
        for (int k = 0; groups[k]; k++)
            if (seg_is(s[1], l[1], groups[k]))
                g = k;
        if (g < 0)
            return PD_OK;
        if (n == 2) {
            OUT->target = PD_K8S_T_GROUP;
            OUT->group_version = groups[g];
        } else if (seg_is(s[2], l[2], "v1")) {
            if (n == 3) {
                OUT->target = PD_K8S_T_GROUPVERSION;
                OUT->group_version = gvs[g];
            } else if (n == 4 && g == 0 && seg_is(s[3], l[3], "selfsubjectreviews")) {
                OUT->target = PD_K8S_T_SSR;
            } else if (n == 4 && g == 1 && seg_is(s[3], l[3], "selfsubjectaccessreviews")) {
                OUT->target = PD_K8S_T_SSAR;
            }
        }
    }
    return PD_OK;
}

/* ---- selectors ---- */

static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

/* Parse one label requirement. PD_OK or PD_EINVAL. */
static int parse_req(char *t, struct pd_k8s_sel *q)
{
    memset(q, 0, sizeof *q);
    t = trim(t);
    char *p;
    if (*t == '!') {
        q->key = trim(t + 1);
        q->op = 3;
        return *q->key ? PD_OK : PD_EINVAL;
    }
    if ((p = strstr(t, " notin ")) || (p = strstr(t, " in "))) {
        q->op = p[1] == 'n' ? 5 : 4;
        *p = '\0';
        q->key = trim(t);
        char *list = trim(p + (q->op == 5 ? 7 : 4));
        size_t n = strlen(list);
        if (n < 2 || list[0] != '(' || list[n - 1] != ')')
            return PD_EINVAL;
        list[n - 1] = '\0';
        for (char *v = list + 1; v && q->nvals < 16;) {
            char *c = strchr(v, ',');
            if (c)
                *c = '\0';
            q->vals[q->nvals++] = trim(v);
            v = c ? c + 1 : NULL;
        }
        return *q->key ? PD_OK : PD_EINVAL;
    }
    if ((p = strstr(t, "!="))) {
        q->op = 1;
        *p = '\0';
        q->vals[0] = trim(p + 2);
    } else if ((p = strstr(t, "=="))) {
        *p = '\0';
        q->vals[0] = trim(p + 2);
    } else if ((p = strchr(t, '='))) {
        *p = '\0';
        q->vals[0] = trim(p + 1);
    } else {
        q->op = 2;
    }
    q->nvals = q->op == 2 ? 0 : 1;
    q->key = trim(t);
    return *q->key && !strpbrk(q->key, " ()") ? PD_OK : PD_EINVAL;
}

int pd_k8s_sel_match(const struct pd_k8s_sel *q, const char *have)
{
    switch (q->op) {
    case 0:
        return have && strcmp(have, q->vals[0]) == 0;
    case 1:
        return !have || strcmp(have, q->vals[0]) != 0;
    case 2:
        return have != NULL;
    case 3:
        return have == NULL;
    default:
        for (size_t i = 0; i < q->nvals; i++)
            if (have && strcmp(have, q->vals[i]) == 0)
                return q->op == 4;
        return q->op == 5;
    }
}

/* Split sel on commas outside parentheses into requirements. */
int pd_k8s_sel_parse(struct pd_arena *a, const char *sel, struct pd_k8s_sel **OUT, size_t *OUT_n)
{
    char *s = pd_arena_strdup(a, sel);
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    struct pd_k8s_sel *v = pd_arena_zalloc(a, cap * sizeof *v);
    size_t n = 0;
    int depth = 0;
    char *start = s;
    for (char *p = s;; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth--;
        if ((*p == ',' && depth == 0) || *p == '\0') {
            int end = *p == '\0';
            *p = '\0';
            if (*trim(start)) {
                if (parse_req(start, &v[n]))
                    return PD_EINVAL;
                n++;
            }
            if (end)
                break;
            start = p + 1;
        }
    }
    *OUT = v;
    *OUT_n = n;
    return PD_OK;
}

/* The value of a field selector key on obj, or NULL when the key is not supported. */
const char *pd_k8s_field_value(const struct pd_k8s_res *res, json_t *obj, const char *key,
                               int *OUT_supported)
{
    *OUT_supported = 1;
    if (strcmp(key, "metadata.name") == 0)
        return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    if (strcmp(key, "metadata.namespace") == 0)
        return res->namespaced ? json_string_value(
                                     json_object_get(json_object_get(obj, "metadata"), "namespace"))
                               : "";
    json_t *spec = json_object_get(obj, "spec"), *st = json_object_get(obj, "status");
    if (strcmp(res->name, "pods") == 0) {
        if (strcmp(key, "spec.nodeName") == 0)
            return json_string_value(json_object_get(spec, "nodeName"));
        if (strcmp(key, "spec.serviceAccountName") == 0)
            return json_string_value(json_object_get(spec, "serviceAccountName"));
        if (strcmp(key, "status.phase") == 0)
            return json_string_value(json_object_get(st, "phase"));
        if (strcmp(key, "spec.restartPolicy") == 0)
            return json_string_value(json_object_get(spec, "restartPolicy"));
        if (strcmp(key, "status.podIP") == 0)
            return json_string_value(json_object_get(st, "podIP"));
    }
    if (strcmp(res->name, "namespaces") == 0 && strcmp(key, "status.phase") == 0)
        return json_string_value(json_object_get(st, "phase"));
    *OUT_supported = 0;
    return NULL;
}
