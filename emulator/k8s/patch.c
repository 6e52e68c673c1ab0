/*
 * patch.c - JSON merge patch, strategic merge patch and JSON patch for the Kubernetes
 * API (see patch.h). Works on jansson values; never fails on odd types (a patch value
 * of another type than the target's replaces it, as the API server does).
 */
#include "k8s/patch.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"

/* ---- RFC 7386 ---- */

json_t *pd_k8s_merge_patch(json_t *target, const json_t *patch)
{
    if (!json_is_object(patch)) {
        json_decref(target);
        return json_deep_copy(patch);
    }
    if (!json_is_object(target)) {
        json_decref(target);
        target = json_object();
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v)
    {
        if (json_is_null(v)) {
            json_object_del(target, k);
            continue;
        }
        json_t *cur = json_object_get(target, k);
        json_t *merged = pd_k8s_merge_patch(cur ? json_incref(cur) : NULL, v);
        json_object_set_new(target, k, merged);
    }
    return target;
}

/* ---- strategic merge ---- */

static const char *merge_key(const char *field)
{
    static const char *const keys[][2] = {
        {"containers", "name"},
        {"initContainers", "name"},
        {"ephemeralContainers", "name"},
        {"volumes", "name"},
        {"env", "name"},
        {"imagePullSecrets", "name"},
        {"secrets", "name"},
        {"volumeMounts", "mountPath"},
        {"volumeDevices", "devicePath"},
        {"ports", "containerPort"},
        {"hostAliases", "ip"},
        {"ownerReferences", "uid"},
        {"conditions", "type"},
        {"containerStatuses", "name"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i][0], field) == 0)
            return keys[i][1];
    return NULL;
}

static int same_key(const json_t *a, const json_t *b)
{
    return a && b && json_equal((json_t *)a, (json_t *)b);
}

static int smp_object(json_t *dst, const json_t *patch, const char **why);

/* A copy of a patch value with its directives removed (a new element or a replaced map). */
static json_t *strip(const json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (k[0] == '$' || json_is_null(x))
                continue;
            json_object_set_new(o, k, strip(x));
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (json_is_object(x) && json_is_string(json_object_get(x, "$patch")))
                continue;
            json_array_append_new(a, strip(x));
        }
        return a;
    }
    return json_deep_copy(v);
}

static long find_keyed(const json_t *list, const char *key, const json_t *kv)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        if (json_is_object(x) && same_key(json_object_get(x, key), kv))
            return (long)i;
    }
    return -1;
}

/* Merge the keyed list patch into the keyed list dst (in place). */
static int smp_keyed_list(json_t *dst, const json_t *patch, const char *key, const char **why)
{
    size_t i;
    json_t *pe;
    json_array_foreach(patch, i, pe)
    {
        if (!json_is_object(pe)) {
            *why = "a list element of a merging list must be an object";
            return PD_EINVAL;
        }
        const char *dir = json_string_value(json_object_get(pe, "$patch"));
        json_t *kv = json_object_get(pe, key);
        if (dir && strcmp(dir, "replace") == 0) {
            json_array_clear(dst);
            for (size_t j = 0; j < json_array_size(patch); j++) {
                json_t *x = json_array_get(patch, j);
                if (x != pe)
                    json_array_append_new(dst, strip(x));
            }
            return PD_OK;
        }
        if (!kv) {
            *why = "a list element lacks its merge key";
            return PD_EINVAL;
        }
        long at = find_keyed(dst, key, kv);
        if (dir && strcmp(dir, "delete") == 0) {
            if (at >= 0)
                json_array_remove(dst, (size_t)at);
            continue;
        }
        if (at < 0) {
            json_array_append_new(dst, strip(pe));
            continue;
        }
        int rc = smp_object(json_array_get(dst, (size_t)at), pe, why);
        if (rc)
            return rc;
    }
    return PD_OK;
}

/* Reorder list by order (merge-key objects or primitives): listed elements first in that
 * order, then the others as they were. */
static void set_order(json_t *list, const json_t *order, const char *key)
{
    if (!json_is_array(list) || !json_is_array(order))
        return;
    json_t *out = json_array();
    json_t *used = json_array();
    size_t n = json_array_size(list);
    char *taken = calloc(n ? n : 1, 1);
    if (!taken)
        abort();
    size_t i;
    json_t *o;
    json_array_foreach(order, i, o)
    {
        const json_t *want = key && json_is_object(o) ? json_object_get(o, key) : o;
        for (size_t j = 0; j < n; j++) {
            json_t *x = json_array_get(list, j);
            const json_t *have = key && json_is_object(x) ? json_object_get(x, key) : x;
            if (!taken[j] && same_key(have, want)) {
                taken[j] = 1;
                json_array_append(out, x);
                break;
            }
        }
    }
    for (size_t j = 0; j < n; j++)
        if (!taken[j])
            json_array_append(out, json_array_get(list, j));
    json_array_clear(list);
    json_array_extend(list, out);
    json_decref(out);
    json_decref(used);
    free(taken);
}

static int smp_object(json_t *dst, const json_t *patch, const char **why)
{
    const char *dir = json_string_value(json_object_get(patch, "$patch"));
    if (dir && strcmp(dir, "replace") == 0) {
        json_t *s = strip(patch);
        json_object_clear(dst);
        json_object_update(dst, s);
        json_decref(s);
        return PD_OK;
    }
    if (dir && strcmp(dir, "delete") == 0) {
        json_object_clear(dst);
        return PD_OK;
    }
    if (dir && strcmp(dir, "merge") != 0) {
        *why = "unknown $patch directive";
        return PD_EINVAL;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v)
    {
        if (k[0] == '$') {
            if (pd_has_prefix(k, "$deleteFromPrimitiveList/")) {
                json_t *list = json_object_get(dst, k + 25);
                if (json_is_array(v) && json_is_array(list)) {
                    for (size_t i = json_array_size(list); i-- > 0;) {
                        size_t j;
                        json_t *x;
                        json_array_foreach(v, j, x)
                        {
                            if (json_equal(x, json_array_get(list, i))) {
                                json_array_remove(list, i);
                                break;
                            }
                        }
                    }
                }
            }
            continue; /* $setElementOrder and $retainKeys run after the merge */
        }
        if (json_is_null(v)) {
            json_object_del(dst, k);
            continue;
        }
        json_t *cur = json_object_get(dst, k);
        if (json_is_object(v)) {
            const char *d = json_string_value(json_object_get(v, "$patch"));
            if (d && strcmp(d, "delete") == 0) {
                json_object_del(dst, k);
                continue;
            }
            if (!json_is_object(cur)) {
                json_object_set_new(dst, k, strip(v));
                continue;
            }
            int rc = smp_object(cur, v, why);
            if (rc)
                return rc;
            continue;
        }
        const char *key = json_is_array(v) ? merge_key(k) : NULL;
        if (key && json_is_array(cur)) {
            int rc = smp_keyed_list(cur, v, key, why);
            if (rc)
                return rc;
            continue;
        }
        json_object_set_new(dst, k, strip(v));
    }
    json_object_foreach((json_t *)patch, k, v)
    {
        if (pd_has_prefix(k, "$setElementOrder/"))
            set_order(json_object_get(dst, k + 17), v, merge_key(k + 17));
    }
    json_t *retain = json_object_get(patch, "$retainKeys");
    if (retain) {
        if (!json_is_array(retain)) {
            *why = "$retainKeys must be a list of strings";
            return PD_EINVAL;
        }
        void *it = json_object_iter(dst);
        while (it) {
            const char *name = json_object_iter_key(it);
            void *next = json_object_iter_next(dst, it);
            int keep = 0;
            size_t i;
            json_t *x;
            json_array_foreach(retain, i, x)
            {
                if (json_is_string(x) && strcmp(json_string_value(x), name) == 0)
                    keep = 1;
            }
            if (!keep)
                json_object_del(dst, name);
            it = next;
        }
    }
    return PD_OK;
}

int pd_k8s_strategic_patch(json_t **doc, const json_t *patch, const char **OUT_why)
{
    if (!json_is_object(patch)) {
        *OUT_why = "a strategic merge patch must be a JSON object";
        return PD_EINVAL;
    }
    if (!json_is_object(*doc)) {
        json_decref(*doc);
        *doc = json_object();
    }
    json_t *work = json_deep_copy(*doc);
    int rc = smp_object(work, patch, OUT_why);
    if (rc) {
        json_decref(work);
        return rc;
    }
    json_decref(*doc);
    *doc = work;
    return PD_OK;
}

/* ---- RFC 6902 ---- */

/* Resolve an RFC 6901 pointer to its parent container and last token (decoded, malloc'd). */
static int pointer_parent(json_t *doc, const char *ptr, json_t **OUT_parent, char **OUT_last)
{
    if (*ptr != '/')
        return PD_EINVAL;
    json_t *cur = doc;
    const char *p = ptr + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char *tok = malloc(n + 1);
        if (!tok)
            abort();
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[w++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else if (p[i] == '~') {
                free(tok);
                return PD_EINVAL;
            } else {
                tok[w++] = p[i];
            }
        }
        tok[w] = '\0';
        if (!slash) {
            *OUT_parent = cur;
            *OUT_last = tok;
            return PD_OK;
        }
        json_t *next = NULL;
        if (json_is_object(cur)) {
            next = json_object_get(cur, tok);
        } else if (json_is_array(cur)) {
            int64_t idx;
            if (pd_parse_i64(tok, 0, (int64_t)json_array_size(cur) - 1, &idx) == PD_OK)
                next = json_array_get(cur, (size_t)idx);
        }
        free(tok);
        if (!next)
            return PD_ENOTFOUND;
        cur = next;
        p = slash + 1;
    }
}

static json_t *pointer_get(json_t *doc, const char *ptr)
{
    if (*ptr == '\0')
        return doc;
    json_t *parent;
    char *last;
    if (pointer_parent(doc, ptr, &parent, &last))
        return NULL;
    json_t *v = NULL;
    if (json_is_object(parent)) {
        v = json_object_get(parent, last);
    } else if (json_is_array(parent)) {
        int64_t idx;
        if (pd_parse_i64(last, 0, (int64_t)json_array_size(parent) - 1, &idx) == PD_OK)
            v = json_array_get(parent, (size_t)idx);
    }
    free(last);
    return v;
}

/* Remove and return (new reference) the value at ptr, or NULL. */
static json_t *pointer_take(json_t *doc, const char *ptr)
{
    json_t *parent;
    char *last;
    if (*ptr == '\0' || pointer_parent(doc, ptr, &parent, &last))
        return NULL;
    json_t *v = NULL;
    if (json_is_object(parent)) {
        v = json_object_get(parent, last);
        if (v) {
            json_incref(v);
            json_object_del(parent, last);
        }
    } else if (json_is_array(parent)) {
        int64_t idx;
        if (pd_parse_i64(last, 0, (int64_t)json_array_size(parent) - 1, &idx) == PD_OK) {
            v = json_incref(json_array_get(parent, (size_t)idx));
            json_array_remove(parent, (size_t)idx);
        }
    }
    free(last);
    return v;
}

/* Add value (stolen) at ptr. */
static int pointer_add(json_t **doc, const char *ptr, json_t *value, int replace)
{
    if (*ptr == '\0') {
        json_decref(*doc);
        *doc = value;
        return PD_OK;
    }
    json_t *parent;
    char *last;
    if (pointer_parent(*doc, ptr, &parent, &last)) {
        json_decref(value);
        return PD_EINVAL;
    }
    int rc = PD_EINVAL;
    if (json_is_object(parent)) {
        if (!replace || json_object_get(parent, last))
            rc = json_object_set_new(parent, last, value) ? PD_EINVAL : PD_OK;
        else
            json_decref(value);
    } else if (json_is_array(parent)) {
        size_t n = json_array_size(parent);
        int64_t idx;
        if (!replace && strcmp(last, "-") == 0)
            rc = json_array_append_new(parent, value) ? PD_EINVAL : PD_OK;
        else if (pd_parse_i64(last, 0, replace ? (int64_t)n - 1 : (int64_t)n, &idx) == PD_OK)
            rc = (replace ? json_array_set_new(parent, (size_t)idx, value)
                          : json_array_insert_new(parent, (size_t)idx, value))
                     ? PD_EINVAL
                     : PD_OK;
        else
            json_decref(value);
    } else {
        json_decref(value);
    }
    free(last);
    return rc;
}

static int one_op(json_t **doc, const json_t *op, const char **why)
{
    const char *name = json_string_value(json_object_get(op, "op"));
    const char *path = json_string_value(json_object_get(op, "path"));
    const char *from = json_string_value(json_object_get(op, "from"));
    json_t *value = json_object_get(op, "value");
    if (!name || !path) {
        *why = "a JSON patch operation needs \"op\" and \"path\"";
        return PD_EINVAL;
    }
    if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
        if (!value) {
            *why = "a JSON patch add/replace needs \"value\"";
            return PD_EINVAL;
        }
        int rc = pointer_add(doc, path, json_deep_copy(value), name[0] == 'r');
        if (rc)
            *why = "the JSON patch path does not exist";
        return rc;
    }
    if (strcmp(name, "remove") == 0) {
        json_t *v = pointer_take(*doc, path);
        if (!v) {
            *why = "the JSON patch path to remove does not exist";
            return PD_EINVAL;
        }
        json_decref(v);
        return PD_OK;
    }
    if (strcmp(name, "test") == 0) {
        json_t *v = pointer_get(*doc, path);
        if (!v || !value || !json_equal(v, value)) {
            *why = "a JSON patch test failed";
            return PD_EINVAL;
        }
        return PD_OK;
    }
    if ((strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) && from) {
        json_t *v =
            name[0] == 'm' ? pointer_take(*doc, from) : json_deep_copy(pointer_get(*doc, from));
        if (!v) {
            *why = "the JSON patch \"from\" path does not exist";
            return PD_EINVAL;
        }
        int rc = pointer_add(doc, path, v, 0);
        if (rc)
            *why = "the JSON patch path does not exist";
        return rc;
    }
    *why = "unknown JSON patch operation";
    return PD_EINVAL;
}

int pd_k8s_json_patch(json_t **doc, const json_t *ops, const char **OUT_why)
{
    if (!json_is_array(ops)) {
        *OUT_why = "a JSON patch must be a list of operations";
        return PD_EINVAL;
    }
    json_t *work = json_deep_copy(*doc);
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        int rc = json_is_object(op) ? one_op(&work, op, OUT_why) : PD_EINVAL;
        if (rc) {
            if (!json_is_object(op))
                *OUT_why = "a JSON patch operation must be an object";
            json_decref(work);
            return rc;
        }
    }
    json_decref(*doc);
    *doc = work;
    return PD_OK;
}
