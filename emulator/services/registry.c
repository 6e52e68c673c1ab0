/* registry.c - the list of services in routing order, and lookups over it. */
#include <string.h>

#include "services/service.h"

extern const struct pd_service pd_svc_oidc;
extern const struct pd_service pd_svc_k8s;
extern const struct pd_service pd_svc_admin;
extern const struct pd_service pd_svc_console;
extern const struct pd_service pd_svc_sts;
extern const struct pd_service pd_svc_iam;
extern const struct pd_service pd_svc_eks;
extern const struct pd_service pd_svc_s3;
extern const struct pd_service pd_svc_eks_auth;
extern const struct pd_service pd_svc_podid_agent;
extern const struct pd_service pd_svc_organizations;

const struct pd_service *const pd_services[] = {
    &pd_svc_oidc,        /* claims /_podiam/oidc/ before admin claims the rest of /_podiam/ */
    &pd_svc_k8s,         /* claims /_podiam/k8s/, likewise */
    &pd_svc_podid_agent, /* claims /_podiam/pod-identity/, likewise */
    &pd_svc_console,     /* claims /_podiam/console, likewise */
    &pd_svc_admin,       &pd_svc_iam,           &pd_svc_sts, &pd_svc_eks,
    &pd_svc_eks_auth,    &pd_svc_organizations, &pd_svc_s3,  NULL,
};

const struct pd_service *pd_service_find(const char *name)
{
    for (const struct pd_service *const *s = pd_services; *s; s++)
        if (strcmp((*s)->name, name) == 0)
            return *s;
    return NULL;
}

const struct pd_service *pd_service_by_signing_name(const char *signing_name)
{
    for (const struct pd_service *const *s = pd_services; *s; s++)
        if ((*s)->signing_name && strcmp((*s)->signing_name, signing_name) == 0)
            return *s;
    return NULL;
}

const struct pd_op *pd_service_op(const struct pd_service *svc, const char *name)
{
    for (const struct pd_op *op = svc->ops; op && op->name; op++)
        if (strcmp(op->name, name) == 0)
            return op;
    return NULL;
}
