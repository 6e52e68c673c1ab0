/*
 * podid.h - EKS Pod Identity: the associations (EKS API, services/eks_podid.c), the
 * exchange of a pod's service-account token for role credentials (eks-auth
 * AssumeRoleForPodIdentity, services/eks_auth.c) and the agent's credentials endpoint that
 * SDKs reach through AWS_CONTAINER_CREDENTIALS_FULL_URI.
 *
 * The token rules and the session tags are pure functions here, unit-tested on their own
 * (tests/unit/test_podid.c). Must not: log tokens or credentials.
 */
#ifndef PD_SERVICES_PODID_H
#define PD_SERVICES_PODID_H

#include <jansson.h>
#include <stdint.h>

#include "req.h"

struct pd_eks_db_cluster;

#define PD_PODID_AUDIENCE "pods.eks.amazonaws.com"
#define PD_PODID_SERVICE "pods.eks.amazonaws.com" /* the role trust policy's Service */
#define PD_PODID_SESSION_S (6 * 3600)             /* credentials of the role: 6 hours */
#define PD_PODID_TARGET_SESSION_S 3600            /* of a target role (a chained session) */
#define PD_PODID_MAX_PER_CLUSTER 5000             /* associations per cluster (EKS's quota) */

/* eks-auth's errors (all 400 but ResourceNotFound 404). */
extern const struct pd_awserr pd_podid_InvalidToken;
extern const struct pd_awserr pd_podid_ExpiredToken;
extern const struct pd_awserr pd_podid_AccessDenied;
extern const struct pd_awserr pd_podid_ResourceNotFound;
extern const struct pd_awserr pd_podid_InvalidParameter;

/* What a pod's token says once its signature and issuer are verified. Borrowed from the
 * claims object. */
struct pd_podid_subject {
    const char *ns, *sa;       /* namespace, service account */
    const char *pod, *pod_uid; /* the pod the token is bound to */
};

enum pd_podid_verdict {
    PD_PODID_OK = 0,
    PD_PODID_BAD,     /* InvalidTokenException */
    PD_PODID_EXPIRED, /* ExpiredTokenException */
};

/* The claim rules of a pod identity token (verified claims, now in Unix seconds): integer
 * times, exp present and in the future, nbf/iat at most 60 s ahead, aud (string or array)
 * containing pods.eks.amazonaws.com, sub "system:serviceaccount:NS:SA" agreeing with the
 * kubernetes.io claim, and the token bound to a pod (kubernetes.io.pod name and uid).
 * Returns the verdict; *OUT_why (static English) says what failed. */
enum pd_podid_verdict pd_podid_check_claims(const json_t *claims, int64_t now,
                                            struct pd_podid_subject *OUT, const char **OUT_why);

/* The session tags EKS attaches (new object): eks-cluster-arn, eks-cluster-name,
 * kubernetes-namespace, kubernetes-service-account, kubernetes-pod-name, kubernetes-pod-uid. */
json_t *pd_podid_session_tags(const char *cluster_arn, const char *cluster_name,
                              const struct pd_podid_subject *s);

/* The role session name: eks-CLUSTER-POD-UUID cut to 64 characters (arena). */
const char *pd_podid_session_name(struct pd_arena *a, const char *cluster, const char *pod,
                                  const char *uuid);

/* What AssumeRoleForPodIdentity answers: the model's response (new reference), and the
 * account of the role whose credentials these are. */
struct pd_podid_result {
    json_t *out;
    const char *account; /* arena */
};

/* The exchange (eks-auth and the agent): verify token against cluster c's issuer, find the
 * association, check the role's trust policy for pods.eks.amazonaws.com (sts:AssumeRole,
 * sts:TagSession) through r->svc's authz hook (pd_podid_trust_authz), mint the session
 * with the EKS tags, then the target role's when the association has one. Refusals are
 * logged and recorded in the decision log. PD_OK or PD_EAWS (error set). */
int pd_podid_assume(struct pd_req *r, const struct pd_eks_db_cluster *c, const char *token,
                    struct pd_podid_result *OUT);

/* For the authz hook of a service calling pd_podid_assume: when a trust check is under way
 * for r, fill need (principal, trust policy, condition keys) and return 1; else 0. */
struct pd_authz_need;
int pd_podid_trust_authz(struct pd_req *r, struct pd_authz_need *need);

/* The association ARN: arn:aws:eks:REGION:ACCT:podidentityassociation/CLUSTER/ID (arena). */
const char *pd_podid_arn(struct pd_arena *a, const struct pd_eks_db_cluster *c, const char *id);

#endif
