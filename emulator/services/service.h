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

#include "req.h"

struct pd_env;

typedef int pd_op_fn(struct pd_req *r);

enum pd_proto {
    PD_PROTO_QUERY = 0, /* IAM, STS: form parameters in, XML out */
    PD_PROTO_REST_JSON, /* EKS, eks-auth */
    PD_PROTO_REST_XML,  /* S3 */
    PD_PROTO_RAW,       /* admin, OIDC, Kubernetes: the service reads and writes HTTP itself */
};

enum pd_op_flags {
    PD_OP_WRITE = 1 << 0,    /* runs in a write transaction (BEGIN IMMEDIATE) */
    PD_OP_UNSIGNED = 1 << 1, /* may arrive without a signature (model authtype "none") */
    PD_OP_NOAUTHZ = 1 << 2,  /* needs no permission (sts:GetCallerIdentity) */
    PD_OP_NOTXN = 1 << 3,    /* manages its own transactions (streaming uploads, reset) */
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
    /* Raw services: claim the request (return 1 and set r->op) or pass (return 0). */
    int (*route)(struct pd_req *r);
};

/* The registered services, NULL-terminated, in routing order (services/registry.c). */
extern const struct pd_service *const pd_services[];

/* Service by name or by SigV4 signing name, or NULL. */
const struct pd_service *pd_service_find(const char *name);
const struct pd_service *pd_service_by_signing_name(const char *signing_name);
/* Operation by name in a service's table, or NULL. */
const struct pd_op *pd_service_op(const struct pd_service *svc, const char *name);

#endif
