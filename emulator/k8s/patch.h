/*
 * patch.h - the Kubernetes API's patch formats as pure functions on JSON: JSON merge
 * patch (RFC 7386, application/merge-patch+json), strategic merge patch
 * (application/strategic-merge-patch+json, also used for apply-patch+yaml) and JSON patch
 * (RFC 6902, application/json-patch+json). No store, no clock, no request.
 *
 * Strategic merge: lists whose Go field carries a patch merge key merge element by element
 * on that key (containers, initContainers, ephemeralContainers, volumes, env,
 * imagePullSecrets, secrets by "name"; volumeMounts by "mountPath"; ports by
 * "containerPort"; hostAliases by "ip"; ownerReferences by "uid"); other lists are
 * replaced. Directives: "$patch": "delete" | "replace" | "merge" (in maps and list
 * elements), "$retainKeys", "$setElementOrder/FIELD", "$deleteFromPrimitiveList/FIELD";
 * other "$" keys are dropped. A null value deletes the key.
 */
#ifndef PD_K8S_PATCH_H
#define PD_K8S_PATCH_H

#include <jansson.h>

/* RFC 7386 merge of patch into target (stolen; NULL = absent). Returns a new reference. */
json_t *pd_k8s_merge_patch(json_t *target, const json_t *patch);

/* Strategic merge of patch (an object) into *doc (an object, replaced in place: *doc may be a
 * new reference afterwards, the old one released). PD_OK or PD_EINVAL with *OUT_why (static
 * text) for a malformed directive. */
int pd_k8s_strategic_patch(json_t **doc, const json_t *patch, const char **OUT_why);

/* RFC 6902 operations (an array) applied to *doc in order, all or nothing. PD_OK, or
 * PD_EINVAL with *OUT_why (a bad operation, a path that does not exist, a failed test). */
int pd_k8s_json_patch(json_t **doc, const json_t *ops, const char **OUT_why);

#endif
