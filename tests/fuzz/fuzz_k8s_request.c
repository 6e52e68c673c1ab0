/*
 * fuzz_k8s_request.c - the Kubernetes API's request handling without a server: path
 * routing over the table of kinds (pd_k8s_parse_path), the RequestInfo attributes of the
 * path (pd_k8s_request_info), JSON bodies and patch application (merge, strategic, JSON
 * patch), then the shapes rendered from the result (pod defaults and status, Table).
 * Input: "PATH\nKIND\nDOCUMENT\n---\nPATCH" where PATH follows /_podiam/k8s/ (what follows a '?'
 * in it is parsed as a label/field selector and matched against the document), KIND is one of
 * m (merge), s (strategic), j (JSON patch), and DOCUMENT / PATCH are JSON texts.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "k8s/k8s.h"
#include "k8s/internal.h"
#include "k8s/patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pd_log_level = -1;
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    size_t plen = strlen(text);
    char *path = malloc(plen + 16);
    if (!path)
        abort();
    memcpy(path, "/_podiam/k8s/", 13);
    memcpy(path + 13, text, plen + 1);
    struct pd_k8s_path p;
    if (pd_k8s_parse_path(path, &p) == 0 && p.resource &&
        (!p.res || strcmp(p.res->name, p.resource) != 0 ||
         !pd_k8s_res_lookup(p.res->group, p.res->version, p.resource)))
        abort(); /* the parser only names resources it serves */
    if (p.target == PD_K8S_T_SUBRESOURCE && !p.sub)
        abort();
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_k8s_attrs at;
    pd_k8s_request_info(&a, "GET", path + 13 + strcspn(path + 13, "/"), NULL, &at);
    if (!at.verb || !at.resource || !at.name || !at.ns || (at.resource_request && !*at.verb))
        abort();
    free(path);
    struct pd_k8s_sel *sel = NULL;
    size_t nsel = 0;
    char *q = strchr(text, '?');
    if (q && pd_k8s_sel_parse(&a, q + 1, &sel, &nsel) != 0)
        nsel = 0;
    if (!nl) {
        pd_arena_cleanup(&a);
        free(text);
        return 0;
    }
    char kind = nl[1];
    char *doc_text = strchr(nl + 1, '\n');
    char *sep = doc_text ? strstr(doc_text, "\n---\n") : NULL;
    if (!sep) {
        pd_arena_cleanup(&a);
        free(text);
        return 0;
    }
    *sep = '\0';
    json_t *doc = json_loads(doc_text + 1, JSON_DECODE_ANY, NULL);
    json_t *patch = json_loads(sep + 5, JSON_DECODE_ANY, NULL);
    const char *why = NULL;
    if (doc && patch) {
        if (kind == 'm') {
            doc = pd_k8s_merge_patch(doc, patch);
        } else if (kind == 's') {
            pd_k8s_strategic_patch(&doc, patch, &why);
        } else if (kind == 'j') {
            pd_k8s_json_patch(&doc, patch, &why);
        }
        if (json_is_object(doc)) {
            const struct pd_k8s_res *res = pd_k8s_res_find("pods");
            json_t *labels = json_object_get(json_object_get(doc, "metadata"), "labels");
            for (size_t i = 0; i < nsel; i++) {
                int sup;
                pd_k8s_sel_match(&sel[i], json_string_value(json_object_get(labels, sel[i].key)));
                const char *fv = pd_k8s_field_value(res, doc, sel[i].key, &sup);
                pd_k8s_sel_match(&sel[i], fv);
            }
            json_t *items = json_pack("[O]", doc);
            json_decref(pd_k8s_table(res, items, "1", NULL, 0));
            json_decref(items);
            json_t *pod = json_deep_copy(doc);
            pd_k8s_pod_defaults(pod, 0, 7);
            pd_k8s_pod_status(pod, 1000);
            json_decref(pod);
        }
    }
    json_decref(doc);
    json_decref(patch);
    pd_arena_cleanup(&a);
    free(text);
    return 0;
}
