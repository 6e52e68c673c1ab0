/*
 * identity.h - who an IAM caller is in an EKS cluster's Kubernetes API: the mapping EKS's
 * authenticator makes from a verified `aws eks get-token` identity to a Kubernetes username,
 * groups and extra, through the cluster's access entries and its aws-auth ConfigMap, by the
 * cluster's authentication mode.
 *
 * A pure function of its inputs (no store, no clock, no I/O): the caller gathers the mode,
 * the access entries (services/eks.h) and the parsed aws-auth (awsauth.h). The rules follow
 * aws-iam-authenticator (pkg/token, pkg/arn, pkg/server, pkg/mapper) and the EKS User Guide:
 *  - the caller's ARN is canonicalised (assumed-role session -> IAM role ARN without path;
 *    IAM user/role/root and STS federated-user ARNs unchanged; anything else is refused);
 *  - CONFIG_MAP: the cluster creator first (mapped, in no configuration the user can see, to
 *    user kubernetes-admin in group system:masters: aws/containers-roadmap#378 "implicitly
 *    mapped to the kubernetes-admin user", the EKS User Guide "granted system:masters
 *    permissions"), then aws-auth; API_AND_CONFIG_MAP: access entries first (the entry wins), then
 *    aws-auth; API: access entries only;
 *  - an access entry matches by the principal's IAM unique id kept when it was made, and its
 *    path-less ARN; aws-auth by the canonical ARN (case-insensitive) in mapRoles, then
 *    mapUsers, then the account in mapAccounts (username = canonical ARN, no groups);
 *  - username and group templates: {{AccountID}}, {{SessionName}} ('@' -> '-'),
 *    {{SessionNameRaw}}, {{AccessKeyID}}; {{EC2PrivateDNSName}} cannot be resolved (podiam has
 *    no EC2), so a mapping using it authenticates no one, with the reason EKS would give for a
 *    session that is not an instance id;
 *  - nothing mapped: not authenticated (401 Unauthorized), with every step in the trace.
 */
#ifndef PD_K8S_IDENTITY_H
#define PD_K8S_IDENTITY_H

#include <stddef.h>

#include "k8s/awsauth.h"

struct pd_arena;

enum pd_eks_auth_mode {
    PD_EKS_MODE_CONFIG_MAP = 0,
    PD_EKS_MODE_API_AND_CONFIG_MAP,
    PD_EKS_MODE_API,
};

/* "CONFIG_MAP" … -> mode; PD_OK or PD_EINVAL. */
int pd_eks_auth_mode_parse(const char *s, enum pd_eks_auth_mode *OUT);
const char *pd_eks_auth_mode_name(enum pd_eks_auth_mode m);

/* The caller as STS GetCallerIdentity names it: what EKS's authenticator works from. */
struct pd_eks_caller {
    const char *arn;           /* Arn: user, role session, root, federated user */
    const char *account;       /* Account */
    const char *user_id;       /* UserId: AIDA…, AROA…:SESSION, ACCOUNT:NAME, or the account */
    const char *access_key_id; /* the key that presigned the token */
};

/* An access entry as the mapping reads it. */
struct pd_eks_entry_ref {
    const char *principal_arn; /* as made (a role's path kept) */
    const char *principal_id;  /* IAM unique id kept when the entry was made */
    const char *type;          /* STANDARD, EC2_LINUX, … */
    const char *username;      /* template */
    const char *const *groups; /* templates */
    size_t ngroups;
    const char *entry_arn; /* the entry's own ARN, for the trace */
};

struct pd_eks_identity_in {
    enum pd_eks_auth_mode mode;
    const struct pd_eks_caller *caller;
    const char *creator_arn; /* who called CreateCluster (user, role, session or root ARN) */
    const struct pd_eks_entry_ref *entries;
    size_t nentries;
    const struct pd_awsauth *aws_auth; /* NULL or present = 0: no aws-auth ConfigMap */
};

/* The user EKS makes the cluster's creator in CONFIG_MAP mode. */
#define PD_EKS_CREATOR_USERNAME "kubernetes-admin"

enum pd_eks_mapped_by {
    PD_EKS_NOT_MAPPED = 0,  /* not authenticated: 401 */
    PD_EKS_BY_CREATOR,      /* CONFIG_MAP: the cluster's creator */
    PD_EKS_BY_ACCESS_ENTRY, /* in->entries[entry] */
    PD_EKS_BY_AWS_AUTH,     /* a mapRoles / mapUsers line (line) */
    PD_EKS_BY_MAP_ACCOUNTS, /* the account is in mapAccounts */
};

struct pd_eks_extra {
    const char *key;
    const char *value;
};

#define PD_EKS_EXTRA_MAX 6

struct pd_eks_identity {
    enum pd_eks_mapped_by by;
    const char *username;
    const char *uid;     /* aws-iam-authenticator:ACCOUNT:USERID */
    const char **groups; /* rendered; the API server adds system:authenticated itself */
    size_t ngroups;
    /* arn, canonicalArn, sessionName, accessKeyId, principalId and
     * sigs.k8s.io/aws-iam-authenticator/principalId, as EKS's TokenReview answers */
    struct pd_eks_extra extra[PD_EKS_EXTRA_MAX];
    size_t nextra;
    int creator_admin;                  /* BY_CREATOR: kubernetes-admin in system:masters */
    long entry;                         /* BY_ACCESS_ENTRY: index in in->entries, else -1 */
    const struct pd_awsauth_line *line; /* BY_AWS_AUTH: the line, else NULL */
    const char *canonical_arn;          /* NULL when the ARN is not an identity */
    const char *session_name;           /* "" when none */
    const char *mapped_by;              /* one line: what mapped the caller, or why not */
    const char **trace;                 /* every step looked at, in order */
    size_t ntrace;
};

/* Map in->caller. PD_OK with OUT->by set (PD_EKS_NOT_MAPPED included: the request is then
 * Unauthorized); arena strings. Never fails otherwise. */
int pd_eks_identity_map(struct pd_arena *a, const struct pd_eks_identity_in *in,
                        struct pd_eks_identity *OUT);

/* The canonical ARN of an STS caller ARN as aws-iam-authenticator makes it. PD_OK, or
 * PD_EINVAL with *OUT_why. Arena strings. */
int pd_eks_canonical_arn(struct pd_arena *a, const char *arn, const char **OUT,
                         const char **OUT_why);

/* The username EKS gives an access entry made without one: a user's ARN; for a role
 * arn:P:sts::ACCT:assumed-role/NAME/{{SessionName}} (path removed); root and federated
 * principals their ARN; EC2_LINUX / EC2_WINDOWS / EC2 system:node:{{EC2PrivateDNSName}};
 * FARGATE_LINUX / HYBRID_LINUX / HYPERPOD_LINUX system:node:{{SessionName}}. Arena. */
const char *pd_eks_default_username(struct pd_arena *a, const char *principal_arn,
                                    const char *type);

/* ARN without its IAM path (role/a/b/NAME -> role/NAME; user likewise). Arena. */
const char *pd_eks_strip_path(struct pd_arena *a, const char *arn);

#endif
