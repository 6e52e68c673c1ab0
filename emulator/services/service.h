/*
 * service.h - how a service describes itself: its protocol, model, operations and the
 * authorization each operation needs.
 *
 * Each service exports one `const struct pd_service` (services/<name>.c); registry.c lists
 * them. Handlers stay static in their file and are reached only through the table. A
 * handler receives decoded input in r->in and fills r->out with the output shape's members
 * (or calls pd_fail); raw services (admin, OIDC, Kubernetes) write r->resp themselves.
 */
#ifndef PD_SERVICES_SERVICE_H
#define PD_SERVICES_SERVICE_H

#include "auth/policy.h"
#include "req.h"

struct pd_env;

/* What authorizing one request takes: filled by emulator/authorize.c (global condition keys)
 * and by the service's authz hook (actions, resources, service keys, resource policy). */
#define PD_AUTHZ_MAX_CHECKS 4
struct pd_authz_check {
    const char *action;   /* "iam:CreateUser" */
    const char *resource; /* ARN evaluated; "*" for actions without a resource */
    const char *shown;    /* how the denial message names it: NULL = resource, "" = omit */
};

struct pd_authz_need {
    struct pd_authz_check checks[PD_AUTHZ_MAX_CHECKS]; /* all must be allowed */
    size_t n;
    struct pd_ctx ctx;            /* condition keys of the request */
    const char *resource_policy;  /* bucket policy / role trust policy text, or NULL */
    int trust;                    /* resource_policy is a role trust policy (must allow) */
    const char *resource_account; /* owner of the resources; NULL: the caller's account */
    const char *policy_id;        /* id of the resource policy in traces */
    const struct pd_awserr *deny; /* wire error of a denial (default AccessDenied 403) */
    int quote_resource;           /* S3 quotes the resource in messages */
    /* The principal evaluated instead of the request's signer (r->who), set by a hook whose
     * caller did not sign: the web identity of AssumeRoleWithWebIdentity. NULL: r->who. Its
     * identity-side policies are none (only the resource or trust policy can allow). */
    const struct pd_principal_id *who;
    const char *deny_message; /* the denial's message instead of AWS's usual one, or NULL */
    json_t *log_extra;        /* members added to the decision log's entry (owned), or NULL */
};

/* Add a check to need (at most PD_AUTHZ_MAX_CHECKS). */
void pd_authz_add(struct pd_authz_need *need, const char *action, const char *resource,
                  const char *shown);

typedef int pd_op_fn(struct pd_req *r);

enum pd_proto {
    PD_PROTO_QUERY = 0, /* IAM, STS: form parameters in, XML out */
    PD_PROTO_REST_JSON, /* EKS, eks-auth */
    PD_PROTO_REST_XML,  /* S3 */
    PD_PROTO_JSON,      /* Organizations: awsJson1_1 (X-Amz-Target, JSON body) */
    PD_PROTO_RAW,       /* admin, OIDC, Kubernetes: the service reads and writes HTTP itself */
};

enum pd_op_flags {
    PD_OP_WRITE = 1 << 0,    /* runs in a write transaction (BEGIN IMMEDIATE) */
    PD_OP_UNSIGNED = 1 << 1, /* may arrive without a signature (model authtype "none") */
    PD_OP_NOAUTHZ = 1 << 2,  /* needs no permission (sts:GetCallerIdentity) */
    PD_OP_NOTXN = 1 << 3,    /* manages its own transactions (streaming uploads, reset) */
    PD_OP_NOMODEL = 1 << 4,  /* an operation AWS serves that its model lacks (S3's POST Object
                                and CORS preflight): claimed by the service's route hook,
                                authenticated by the service, answered in r->resp */
};

struct pd_op {
    const char *name; /* the model's operation name ("CreateRole"), or a raw op's name */
    pd_op_fn *fn;
    unsigned flags; /* enum pd_op_flags */
};

struct pd_service {
    const char *name;         /* "iam", "sts", "s3", "eks", "admin", ... */
    const char *signing_name; /* SigV4 credential-scope service, NULL for raw services */
    enum pd_proto proto;
    const char *spec;        /* embedded model file ("iam.json"), NULL for raw services */
    const struct pd_op *ops; /* terminated by an entry with name NULL */
    /* Raw services: claim the request (return 1 and set r->op) or pass (return 0). Other
     * services: claim a request for one of their PD_OP_NOMODEL operations the same way. */
    int (*route)(struct pd_req *r);
    /* What the decoded request needs to be allowed (checks, service keys, resource policy).
     * Runs before the handler, in a read transaction. PD_OK, or PD_EAWS with an error set
     * (e.g. the resource policy names a bucket that does not exist). NULL: the service has
     * no IAM actions (admin, OIDC). */
    int (*authz)(struct pd_req *r, struct pd_authz_need *need);
    /* An operation whose input payload is a stream (S3 PutObject, UploadPart): called once
     * the headers are decoded, authenticated and authorized, to install r->sink. PD_OK or
     * PD_EAWS. NULL: the service streams nothing. */
    int (*stream)(struct pd_req *r);
    /* After decoding and authentication, before the transaction that authorizes and runs
     * the handler: work that must not hold the state, such as fetching an external issuer's
     * keys (STS). PD_OK, or PD_EAWS with the error set. NULL: nothing to do. */
    int (*prepare)(struct pd_req *r);
    /* A request whose input did not decode or validate: set the wire error as the service's
     * API words it (Organizations: InvalidInputException with a Reason) from the codec's code,
     * status and message and the first violated constraint (NULL when none). NULL: the
     * codec's error as it is. */
    void (*codec_error)(struct pd_req *r, const char *code, int status, const char *message,
                        const char *violation);
    /* Once at start, after the store is open (S3 removes crash debris). PD_OK or an error
     * that stops the start. NULL: nothing to do. */
    int (*init)(struct pd_env *env);
};

/* The registered services, NULL-terminated, in routing order (services/registry.c). */
extern const struct pd_service *const pd_services[];

/* Service by name or by SigV4 signing name, or NULL. */
const struct pd_service *pd_service_find(const char *name);
const struct pd_service *pd_service_by_signing_name(const char *signing_name);
/* Operation by name in a service's table, or NULL. */
const struct pd_op *pd_service_op(const struct pd_service *svc, const char *name);

#endif
