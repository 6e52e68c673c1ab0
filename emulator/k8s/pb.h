/*
 * pb.h - Kubernetes protobuf request bodies, decoded to the JSON the API would have
 * received (kubectl 1.32's typed client sends `application/vnd.kubernetes.protobuf` for
 * create namespace/serviceaccount/configmap/role/…, create token, auth can-i and whoami;
 * reference/kubectl-facts.md §6). Decoding only: podiam always answers JSON.
 *
 * Wire: the 4 magic bytes "k8s\0", then runtime.Unknown {1 typeMeta {1 apiVersion,
 * 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}; raw is the object's message, chosen by
 * typeMeta.kind. Known kinds: Namespace, ServiceAccount, ConfigMap, TokenRequest,
 * SelfSubjectAccessReview, SelfSubjectReview, SubjectAccessReview, LocalSubjectAccessReview,
 * SelfSubjectRulesReview, Role, ClusterRole, RoleBinding, ClusterRoleBinding (kubectl 1.32's
 * `create role|clusterrole|rolebinding|clusterrolebinding` and `auth can-i --list`). Unknown
 * fields are skipped as
 * the wire type says. Empty strings (non-pointer Go strings are always written) are
 * dropped, an empty Time is null, an empty status message is dropped.
 * Details: status is never decoded (kubectl only sends empty ones and the API ignores a
 * client's status), so it is always absent; "metadata" is always an object; a zero
 * generation is dropped; binaryData values are standard base64; a Time is whole seconds
 * ("2026-01-02T03:04:05Z"); strings with invalid UTF-8 or a NUL byte are refused;
 * a non-empty contentEncoding is refused.
 */
#ifndef PD_K8S_PB_H
#define PD_K8S_PB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Bodies larger than this are refused before decoding. */
#define PD_K8S_PB_MAX (1024 * 1024)

/* Decode body into a new JSON object with "apiVersion" and "kind" from typeMeta and the
 * message's fields under their JSON names (metadata.name, spec.audiences, data, ...).
 * PD_OK, or PD_EINVAL with *OUT_why a static string naming the problem (bad magic,
 * truncated varint, field of the wrong wire type, unknown kind, nesting too deep, too big).
 * Never reads past len; *OUT is a new reference owned by the caller. */
int pd_k8s_pb_decode(const uint8_t *body, size_t len, json_t **OUT, const char **OUT_why);

#endif
