/*
 * webhook.h - the mutation EKS's pod identity webhook (amazon-eks-pod-identity-webhook,
 * IRSA mode) applies to a pod at admission, as a pure function on JSON: no store, no
 * clock. reference/aws-wire-facts.md §2 lists the rules (annotations and their precedence,
 * env vars, the projected token volume and mount, skip-containers, the all-or-nothing env
 * rule, expiration floor of 600 s).
 */
#ifndef PD_K8S_WEBHOOK_H
#define PD_K8S_WEBHOOK_H

#include <jansson.h>

/* Names the webhook uses (annotation prefix eks.amazonaws.com, the --annotation-prefix
 * default). */
#define PD_K8S_WEBHOOK_ANN_ROLE_ARN "eks.amazonaws.com/role-arn"
#define PD_K8S_WEBHOOK_ANN_AUDIENCE "eks.amazonaws.com/audience"
#define PD_K8S_WEBHOOK_ANN_REGIONAL_STS "eks.amazonaws.com/sts-regional-endpoints"
#define PD_K8S_WEBHOOK_ANN_EXPIRATION "eks.amazonaws.com/token-expiration"
#define PD_K8S_WEBHOOK_ANN_SKIP "eks.amazonaws.com/skip-containers"
#define PD_K8S_WEBHOOK_VOLUME "aws-iam-token"
#define PD_K8S_WEBHOOK_MOUNT_PATH "/var/run/secrets/eks.amazonaws.com/serviceaccount"
#define PD_K8S_WEBHOOK_TOKEN_FILE PD_K8S_WEBHOOK_MOUNT_PATH "/token"
#define PD_K8S_WEBHOOK_TOKEN_FILE_WINDOWS                                                          \
    "C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token"
#define PD_K8S_WEBHOOK_MIN_EXPIRATION 600

/* What the webhook runs with on an EKS cluster (its flags). */
struct pd_k8s_webhook_cfg {
    const char *region;         /* --aws-default-region: the cluster's region, or NULL */
    const char *audience;       /* --token-audience, default "sts.amazonaws.com" */
    long long token_expiration; /* --token-expiration, default 86400 */
    int sts_regional_endpoints; /* --sts-regional-endpoint, default 0 */
};

/* The defaults EKS runs the webhook with, for region. */
struct pd_k8s_webhook_cfg pd_k8s_webhook_defaults(const char *region);

/* Mutate pod (a Pod object: metadata, spec) in place as the webhook would for service
 * account sa (a ServiceAccount object, or NULL when the pod's service account does not
 * exist). Returns 1 when the pod was changed, 0 when the webhook leaves it alone (no
 * role-arn annotation, every container skipped, ...). Never fails on odd input: fields of
 * the wrong JSON type are treated as absent. */
int pd_k8s_webhook_mutate(json_t *pod, const json_t *sa, const struct pd_k8s_webhook_cfg *cfg);

/* The Pod Identity mutation (reference/identity-and-s3-facts.md A.4): for a pod whose
 * namespace and service account have a Pod Identity association (the caller knows), every
 * non-skipped container gets AWS_CONTAINER_CREDENTIALS_FULL_URI and
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (neither when either is set) and a read-only mount
 * of the eks-pod-identity-token volume, a projected token for pods.eks.amazonaws.com.
 * Expiration 86400 s (EKS jitters it to 79200..86400; podiam does not), the pod's
 * token-expiration annotation overrides (floor 600). Takes precedence over IRSA: the caller
 * runs it instead of pd_k8s_webhook_mutate. Returns 1 when the pod changed. */
#define PD_K8S_PODID_VOLUME "eks-pod-identity-token"
#define PD_K8S_PODID_MOUNT_PATH "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
#define PD_K8S_PODID_TOKEN_FILE PD_K8S_PODID_MOUNT_PATH "/eks-pod-identity-token"
#define PD_K8S_PODID_FULL_URI "http://169.254.170.23/v1/credentials"
int pd_k8s_webhook_mutate_pod_identity(json_t *pod);

#endif
