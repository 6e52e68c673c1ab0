/*
 * request.c - the pure parsing of Kubernetes API requests: which cluster and object a
 * path names (pd_k8s_parse_path, k8s.h, over the table of kinds), the attributes an
 * authorizer sees (pd_k8s_request_info: kube-apiserver's RequestInfo), label and field
 * selectors of lists, LabelSelector objects, and the fields a field selector may name. No
 * store, no request context: fuzzed directly.
 */
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/str.h"
#include "k8s/k8s.h"
#include "k8s/internal.h"
#include "k8s/rbac.h"

#define PREFIX "/_podiam/k8s/"

/* ---- path parsing (pure) ---- */

/* Copy segment s (n bytes, percent-decoded) into out. 0 when empty, too long or badly
 * escaped. */
static int copy_seg(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? pd_hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? pd_hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return 0;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || k + 1 >= cap)
            return 0;
        out[k++] = c;
    }
    out[k] = '\0';
    return k > 0;
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

/* The resource part of an /api/v1 or /apis/G/V path: segments from i on. */
static void resource_path(const char *group, const char *version, const char *const *s,
                          const size_t *l, int n, int i, struct pd_k8s_path *OUT)
{
    int in_ns = 0;
    if (seg_is(s[i], l[i], "namespaces") && n >= i + 3) {
        if (!copy_seg(s[i + 1], l[i + 1], OUT->ns, sizeof OUT->ns))
            return;
        i += 2;
        in_ns = 1;
    }
    char plural[64];
    if (!copy_seg(s[i], l[i], plural, sizeof plural))
        return;
    const struct pd_k8s_res *r = pd_k8s_res_lookup(group, version, plural);
    if (!r || (in_ns && !PD_K8S_NAMESPACED_RES(r)))
        return;
    if (n == i + 1) {
        OUT->target = PD_K8S_T_COLLECTION;
    } else if (n == i + 2 && copy_seg(s[i + 1], l[i + 1], OUT->name, sizeof OUT->name)) {
        /* a namespaced object needs its namespace */
        if (PD_K8S_NAMESPACED_RES(r) && !in_ns)
            return;
        OUT->target = PD_K8S_T_OBJECT;
    } else if (n == i + 3 && (in_ns || !PD_K8S_NAMESPACED_RES(r)) &&
               copy_seg(s[i + 1], l[i + 1], OUT->name, sizeof OUT->name)) {
        for (const struct pd_k8s_sub *sub = r->subs; sub && sub->name; sub++)
            if (seg_is(s[i + 2], l[i + 2], sub->name)) {
                OUT->target = PD_K8S_T_SUBRESOURCE;
                OUT->sub = sub;
            }
    }
    if (OUT->target != PD_K8S_T_NONE) {
        OUT->res = r;
        OUT->resource = r->name;
    } else {
        OUT->ns[0] = OUT->name[0] = '\0';
    }
}

int pd_k8s_parse_path(const char *path, struct pd_k8s_path *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    if (!pd_has_prefix(path, PREFIX))
        return PD_EINVAL;
    const char *id = path + strlen(PREFIX);
    size_t idl = strcspn(id, "/");
    if (idl == 0 || idl >= sizeof OUT->cluster)
        return PD_EINVAL;
    memcpy(OUT->cluster, id, idl);
    OUT->cluster[idl] = '\0';
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
        } else if (seg_is(s[1], l[1], "v1")) {
            if (n == 2) {
                OUT->target = PD_K8S_T_GROUPVERSION;
                OUT->group_version = "v1";
            } else {
                resource_path("", "v1", s, l, n, 2, OUT);
            }
        }
    } else if (seg_is(s[0], l[0], "apis")) {
        if (n == 1) {
            OUT->target = PD_K8S_T_APIS;
            return PD_OK;
        }
        const struct pd_k8s_group *g = NULL;
        for (const struct pd_k8s_group *k = pd_k8s_groups; k->name && !g; k++)
            if (seg_is(s[1], l[1], k->name))
                g = k;
        if (!g)
            return PD_OK;
        if (n == 2) {
            OUT->target = PD_K8S_T_GROUP;
            OUT->group_version = g->name;
        } else if (seg_is(s[2], l[2], g->version)) {
            if (n == 3) {
                OUT->target = PD_K8S_T_GROUPVERSION;
                OUT->group_version = g->gv;
            } else {
                resource_path(g->name, g->version, s, l, n, 3, OUT);
            }
        }
    }
    return PD_OK;
}

/* ---- RequestInfo (apiserver pkg/endpoints/request/requestinfo.go) ---- */

/* Go's path.IsValidPathSegmentName. */
static int valid_path_segment(const char *s)
{
    return *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strpbrk(s, "/%");
}

/* Go's strconv.ParseBool: 1 true, 0 false, -1 not a boolean. */
static int parse_bool(const char *v)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
    for (size_t i = 0; t[i]; i++) {
        if (strcmp(v, t[i]) == 0)
            return 1;
        if (strcmp(v, f[i]) == 0)
            return 0;
    }
    return -1;
}

void pd_k8s_request_info(struct pd_arena *a, const char *method, const char *path,
                         const struct pd_kvs *q, struct pd_k8s_attrs *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    char *decoded = NULL;
    size_t dlen = 0;
    if (!*path)
        path = "/";
    if (pd_url_decode(a, path, strlen(path), 0, &decoded, &dlen) == PD_OK &&
        strlen(decoded) == dlen)
        path = decoded;
    OUT->path = path;
    char *verb = pd_arena_strdup(a, method);
    pd_lower(verb);
    OUT->verb = verb;
    OUT->api_group = OUT->api_version = OUT->resource = OUT->subresource = OUT->ns = OUT->name = "";
    /* splitPath: trim '/' on both ends, split on '/' */
    const char *b = path, *e = path + strlen(path);
    while (b < e && *b == '/')
        b++;
    while (e > b && e[-1] == '/')
        e--;
    const char *parts[64];
    size_t np = 0;
    if (b < e) {
        char *t = pd_arena_strndup(a, b, (size_t)(e - b));
        for (char *p = t; p && np < 64;) {
            char *slash = strchr(p, '/');
            if (slash)
                *slash = '\0';
            parts[np++] = p;
            p = slash ? slash + 1 : NULL;
        }
    }
    if (np < 3 || (strcmp(parts[0], "api") && strcmp(parts[0], "apis")))
        return; /* non-resource */
    size_t i = 1;
    if (strcmp(parts[0], "apis") == 0) {
        if (np - 1 < 3)
            return;
        OUT->api_group = parts[i++];
    }
    OUT->resource_request = 1;
    OUT->api_version = parts[i++];
    if (strcmp(parts[i], "watch") == 0 || strcmp(parts[i], "proxy") == 0) {
        if (np - i < 2) {
            /* kube answers an error here; attribute it as the bare special verb */
            OUT->verb = parts[i];
            return;
        }
        OUT->verb = parts[i++];
    } else if (strcmp(method, "POST") == 0) {
        OUT->verb = "create";
    } else if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        OUT->verb = "get";
    } else if (strcmp(method, "PUT") == 0) {
        OUT->verb = "update";
    } else if (strcmp(method, "PATCH") == 0) {
        OUT->verb = "patch";
    } else if (strcmp(method, "DELETE") == 0) {
        OUT->verb = "delete";
    } else {
        OUT->verb = "";
    }
    /* /namespaces/{namespace}/{kind}/… */
    if (strcmp(parts[i], "namespaces") == 0) {
        if (np - i > 1) {
            OUT->ns = parts[i + 1];
            if (np - i > 2 && strcmp(parts[i + 2], "status") && strcmp(parts[i + 2], "finalize"))
                i += 2;
        }
    }
    size_t nparts = np - i;
    int no_sub = strcmp(OUT->verb, "proxy") == 0;
    if (nparts >= 3 && !no_sub)
        OUT->subresource = parts[i + 2];
    if (nparts >= 2)
        OUT->name = parts[i + 1];
    if (nparts >= 1)
        OUT->resource = parts[i];
    if (!*OUT->name && strcmp(OUT->verb, "get") == 0) {
        const char *w = q ? pd_kvs_get(q, "watch", 0) : NULL;
        int watch = 0;
        if (w) {
            int bv = parse_bool(w);
            if (bv >= 0) {
                watch = bv;
            } else {
                char *lw = pd_arena_strdup(a, w);
                pd_lower(lw);
                watch = strcmp(lw, "false") != 0 && strcmp(lw, "0") != 0;
            }
        }
        OUT->verb = watch ? "watch" : "list";
        const char *fs = q ? pd_kvs_get(q, "fieldSelector", 0) : NULL;
        struct pd_k8s_sel *sel;
        size_t nsel;
        if (fs && pd_k8s_sel_parse(a, fs, &sel, &nsel) == PD_OK) {
            for (size_t k = 0; k < nsel; k++)
                if (strcmp(sel[k].key, "metadata.name") == 0 && sel[k].op == 0) {
                    if (valid_path_segment(sel[k].vals[0]))
                        OUT->name = sel[k].vals[0];
                    break;
                }
        }
    }
    if (!*OUT->name && strcmp(OUT->verb, "delete") == 0)
        OUT->verb = "deletecollection";
}

/* ---- label selectors (apimachinery meta/v1 LabelSelector) ---- */

int pd_k8s_label_selector_match(const json_t *sel, const json_t *obj)
{
    if (!json_is_object(sel))
        return 0;
    const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    const char *k;
    json_t *v;
    json_t *ml = json_object_get(sel, "matchLabels");
    if (ml && !json_is_object(ml) && !json_is_null(ml))
        return -1;
    json_object_foreach(ml, k, v)
    {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!json_is_string(v))
            return -1;
        if (!have || strcmp(have, json_string_value(v)) != 0)
            return 0;
    }
    json_t *me = json_object_get(sel, "matchExpressions");
    if (me && !json_is_array(me) && !json_is_null(me))
        return -1;
    size_t i;
    json_t *x;
    json_array_foreach(me, i, x)
    {
        const char *key = json_string_value(json_object_get(x, "key"));
        const char *op = json_string_value(json_object_get(x, "operator"));
        json_t *vals = json_object_get(x, "values");
        if (!key || !op)
            return -1;
        const char *have = json_string_value(json_object_get(labels, key));
        int in = 0;
        size_t j;
        json_t *val;
        json_array_foreach(vals, j, val)
        {
            if (have && json_is_string(val) && strcmp(have, json_string_value(val)) == 0)
                in = 1;
        }
        int ok;
        if (strcmp(op, "In") == 0)
            ok = in;
        else if (strcmp(op, "NotIn") == 0)
            ok = !in;
        else if (strcmp(op, "Exists") == 0)
            ok = have != NULL;
        else if (strcmp(op, "DoesNotExist") == 0)
            ok = have == NULL;
        else
            return -1;
        if (!ok)
            return 0;
    }
    return 1;
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
        return PD_K8S_NAMESPACED_RES(res) ? json_string_value(json_object_get(
                                                json_object_get(obj, "metadata"), "namespace"))
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

int pd_k8s_match(const struct pd_k8s_res *res, json_t *obj, const struct pd_k8s_sel *ls, size_t nls,
                 const struct pd_k8s_sel *fs, size_t nfs)
{
    json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    for (size_t k = 0; k < nls; k++)
        if (!pd_k8s_sel_match(&ls[k], json_string_value(json_object_get(labels, ls[k].key))))
            return 0;
    for (size_t k = 0; k < nfs; k++) {
        int sup;
        const char *v = pd_k8s_field_value(res, obj, fs[k].key, &sup);
        if (!sup || !pd_k8s_sel_match(&fs[k], v ? v : ""))
            return 0;
    }
    return 1;
}
