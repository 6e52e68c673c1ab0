/*
 * internal.h - what the files of the Kubernetes API (k8s/) share: the table of kinds (a row
 * per resource, kinds.c), the request context and the generic helpers the kinds' hooks call
 * (api.c), authentication (authn.c, iam_user.c), impersonation, reviews, RBAC objects and
 * the shapes of documents (render.c). Not for other services: they use k8s.h.
 */
#ifndef PD_K8S_INTERNAL_H
#define PD_K8S_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/kv.h"
#include "k8s/authz.h"
#include "k8s/k8s.h"
#include "k8s/watch.h"
#include "services/eks.h"

struct pd_req;
struct pd_db;
struct pd_arena;
struct pd_env;
struct pd_k8s_ctx;
struct pd_k8s_sel;

/* Largest request body the API server takes (kube-apiserver: 3 MiB). */
#define PD_K8S_MAX_BODY (3 * 1024 * 1024)
/* The built-in virtual node: pods bound to it run nowhere and report Running. */
#define PD_K8S_VIRTUAL_NODE "podiam-node"
/* The audience of tokens meant for the API server (EKS's --api-audiences). */
#define PD_K8S_API_AUDIENCE "https://kubernetes.default.svc"

/* Store keys of the RBAC kinds (k8s_objects.resource: "<plural>.<group>" outside core). */
#define PD_K8S_STORE_ROLES "roles.rbac.authorization.k8s.io"
#define PD_K8S_STORE_CLUSTERROLES "clusterroles.rbac.authorization.k8s.io"
#define PD_K8S_STORE_ROLEBINDINGS "rolebindings.rbac.authorization.k8s.io"
#define PD_K8S_STORE_CLUSTERROLEBINDINGS "clusterrolebindings.rbac.authorization.k8s.io"

/* ---- the table of kinds (kinds.c) ---- */

enum pd_k8s_name_rule {
    PD_K8S_NAME_SUBDOMAIN = 0, /* DNS-1123 subdomain (most namespaced kinds) */
    PD_K8S_NAME_LABEL,         /* DNS-1123 label (namespaces) */
    PD_K8S_NAME_PATHSEG,       /* any path segment: not . or .., no / or % (RBAC) */
};

#define PD_K8S_NAMESPACED 0x01   /* lives in a namespace */
#define PD_K8S_VIRTUAL 0x02      /* create-only, nothing stored (reviews): hooks->post */
#define PD_K8S_NO_DELCOL 0x04    /* discovery lists no deletecollection (namespaces) */
#define PD_K8S_KEEP_STATUS 0x08  /* status is the system's: writes keep the stored one */
#define PD_K8S_NO_STATUS 0x10    /* the kind has no status: a client's is dropped */
#define PD_K8S_NO_DISCOVERY 0x20 /* served but not listed (none yet) */

/* One Table column after Name; cell gives its value for an object (new reference). */
struct pd_k8s_col {
    const char *name, *type, *format;
    int priority;
    const char *desc;
    json_t *(*cell)(const json_t *obj, int64_t now_ms);
};

/* A kind's own behaviour; every member may be NULL. Hooks that refuse answer the request
 * (a Status) and return PD_EAWS; other errors are passed up. */
struct pd_k8s_hooks {
    /* create: defaults and validation of obj (changed in place), before it is stored */
    int (*create)(struct pd_k8s_ctx *x, json_t *obj);
    /* update or patch: obj is the new object, old the stored one */
    int (*update)(struct pd_k8s_ctx *x, json_t *obj, const json_t *old);
    /* may old be deleted? */
    int (*remove)(struct pd_k8s_ctx *x, const json_t *old);
    /* after a write is stored: obj NULL for a delete, old NULL for a create */
    int (*written)(struct pd_k8s_ctx *x, const json_t *obj, const json_t *old);
    /* the object as served (pods: the status a kubelet would report now) */
    void (*read)(json_t *obj, int64_t now_ms);
    /* virtual kinds: answer a POST of body (stolen) */
    int (*post)(struct pd_k8s_ctx *x, json_t *body);
};

/* A subresource podiam serves: serviceaccounts/token (post), or with post NULL one served
 * generically by name: "status" (get, update, patch the status of the object) and "scale"
 * (an autoscaling/v1 Scale of spec.replicas). */
struct pd_k8s_sub {
    const char *name;                   /* "token" */
    const char *path;                   /* "serviceaccounts/token", as discovery lists it */
    const char *group, *version, *kind; /* what discovery says it takes: TokenRequest */
    int (*post)(struct pd_k8s_ctx *x, json_t *body);
};

struct pd_k8s_res {
    const char *group;       /* "" for core */
    const char *version;     /* "v1" */
    const char *name;        /* plural: "pods" */
    const char *singular;    /* "pod" */
    const char *kind;        /* "Pod" */
    const char *api_version; /* "v1", "rbac.authorization.k8s.io/v1" */
    const char *qualified;   /* "pods", "roles.rbac.authorization.k8s.io": store key, messages */
    const char *shortname;   /* NULL: none */
    const char *category;    /* "all" or NULL */
    unsigned flags;          /* PD_K8S_* */
    enum pd_k8s_name_rule name_rule;
    const struct pd_k8s_col *cols; /* NULL-name terminated; NULL: Name, Created At */
    const struct pd_k8s_hooks *hooks;
    const struct pd_k8s_sub *subs; /* NULL-name terminated, or NULL */
};

#define PD_K8S_NAMESPACED_RES(res) (((res)->flags & PD_K8S_NAMESPACED) != 0)

extern const struct pd_k8s_res pd_k8s_resources[]; /* NULL-name terminated */
/* The kind of group/version/plural, or NULL. */
const struct pd_k8s_res *pd_k8s_res_lookup(const char *group, const char *version,
                                           const char *plural);
/* A core (group "") kind by plural, or NULL. */
const struct pd_k8s_res *pd_k8s_res_find(const char *plural);
/* The kind stored under key (pd_k8s_res.qualified), or NULL. */
const struct pd_k8s_res *pd_k8s_res_by_key(const char *key);
/* The served API groups other than core, in discovery order (NULL-name terminated). */
struct pd_k8s_group {
    const char *name;    /* "rbac.authorization.k8s.io" */
    const char *version; /* "v1" (each serves one version) */
    const char *gv;      /* "rbac.authorization.k8s.io/v1" */
};
extern const struct pd_k8s_group pd_k8s_groups[];

/* Hooks of the kinds (core.c, rbac_objects.c, reviews.c). */
extern const struct pd_k8s_hooks pd_k8s_namespace_hooks, pd_k8s_pod_hooks, pd_k8s_plain_hooks,
    pd_k8s_role_hooks, pd_k8s_clusterrole_hooks, pd_k8s_binding_hooks, pd_k8s_ssar_hooks,
    pd_k8s_sar_hooks, pd_k8s_lsar_hooks, pd_k8s_ssrr_hooks, pd_k8s_ssr_hooks;
extern const struct pd_k8s_sub pd_k8s_serviceaccount_subs[];
extern const struct pd_k8s_col pd_k8s_cols_pods[], pd_k8s_cols_configmaps[],
    pd_k8s_cols_serviceaccounts[], pd_k8s_cols_namespaces[], pd_k8s_cols_rolebindings[];
/* The workload kinds and the other core kinds (workloads.c). */
extern const struct pd_k8s_hooks pd_k8s_secret_hooks, pd_k8s_service_hooks, pd_k8s_node_hooks,
    pd_k8s_deployment_hooks, pd_k8s_replicaset_hooks, pd_k8s_statefulset_hooks,
    pd_k8s_daemonset_hooks, pd_k8s_job_hooks, pd_k8s_cronjob_hooks, pd_k8s_event_hooks;
extern const struct pd_k8s_sub pd_k8s_pod_subs[], pd_k8s_node_subs[], pd_k8s_deployment_subs[],
    pd_k8s_replicaset_subs[], pd_k8s_statefulset_subs[], pd_k8s_daemonset_subs[], pd_k8s_job_subs[],
    pd_k8s_cronjob_subs[], pd_k8s_service_subs[];
extern const struct pd_k8s_col pd_k8s_cols_secrets[], pd_k8s_cols_services[],
    pd_k8s_cols_endpoints[], pd_k8s_cols_events[], pd_k8s_cols_nodes[], pd_k8s_cols_deployments[],
    pd_k8s_cols_replicasets[], pd_k8s_cols_statefulsets[], pd_k8s_cols_daemonsets[],
    pd_k8s_cols_jobs[], pd_k8s_cols_cronjobs[];
/* Is obj controlled by an owner of kind (an ownerReference with controller: true)? */
int pd_k8s_owned_by_kind(const json_t *obj, const char *kind);
/* The built-in virtual node's object (new reference). */
json_t *pd_k8s_virtual_node(void);

/* CronJob schedules (cron.c): five fields or an @macro, UTC. Longest schedule taken: */
#define PD_K8S_CRON_MAX 256
/* PD_OK when sched parses, else PD_EINVAL. Pure. */
int pd_k8s_cron_check(const char *sched);
/* The first time after after_ms (whole minutes) sched fires: PD_OK, PD_EINVAL (does not
 * parse) or PD_ENOTFOUND (never within five years). Pure. */
int pd_k8s_cron_next(const char *sched, int64_t after_ms, int64_t *OUT_ms);

/* ---- the request context (api.c) ---- */

struct pd_k8s_ctx {
    struct pd_req *r;
    struct pd_k8s_path p;
    struct pd_eks_cluster c;
    struct pd_k8s_user u;    /* who the request acts as (after impersonation) */
    struct pd_k8s_user real; /* who authenticated, when impersonating (else unused) */
    int impersonating;
    const struct pd_k8s_res *res; /* p.res */
    struct pd_kvs q;              /* query parameters */
    int64_t now_ms;
    struct pd_k8s_attrs at;     /* the request's attributes (RequestInfo) */
    struct pd_k8s_authz_env az; /* what authorizers read */
    json_t *checks;             /* this request's decisions, for the decision log */
    const char *refusal;        /* the decision that refused the request, if one did */
    int system;                 /* podiam itself (fixtures, bootstrap): no escalation checks */
    struct pd_k8s_pending ev;   /* the changes stored so far, published at commit (watch.h) */
    int status_write;           /* a write of the status subresource: only status changes */
    json_t *refused;            /* controllers: uids of owners whose pods were refused this run */
};

/* A failure Status (reason may be NULL; details stolen, may be NULL). PD_OK. */
int pd_k8s_fail(struct pd_req *r, int code, const char *reason, json_t *details, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
/* {name?, group?, kind} as Kubernetes' StatusDetails (empty members left out). */
json_t *pd_k8s_details(const char *name, const char *group, const char *kind);
/* 404 `<qualified> "name" not found`. PD_EAWS. */
int pd_k8s_not_found(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *name);
int pd_k8s_bad_request(struct pd_k8s_ctx *x, const char *msg);
/* 403 for at refused with reason (decision log: x->refusal). PD_EAWS. */
int pd_k8s_forbidden(struct pd_k8s_ctx *x, const struct pd_k8s_attrs *at, const char *reason);
/* 403 `<qualified> "name" is forbidden: <msg>` (escalation, admission). PD_EAWS. */
int pd_k8s_forbidden_obj(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *name,
                         const char *msg);

/* Field errors of a 422 Invalid answer, collected then answered at once. */
struct pd_k8s_field_errs {
    json_t *causes; /* [{reason, message, field}] */
    const char *msgs[32];
    size_t n;
};
void pd_k8s_ferr_required(struct pd_arena *a, struct pd_k8s_field_errs *e, const char *field,
                          const char *detail);
/* value: already formatted as Go prints it (`"x"`, `[]string{"a"}`, `rbac.RoleRef{…}`) */
void pd_k8s_ferr_invalid(struct pd_arena *a, struct pd_k8s_field_errs *e, const char *field,
                         const char *value, const char *detail);
/* supported: already formatted (`"Role", "ClusterRole"`) */
void pd_k8s_ferr_unsupported(struct pd_arena *a, struct pd_k8s_field_errs *e, const char *field,
                             const char *value, const char *supported);
/* 422 `<Kind>[.<group>] "name" is invalid: <err>` or `…: [e1, e2]` when e has errors (then
 * PD_EAWS), PD_OK when it has none. Frees e's causes either way. */
int pd_k8s_invalid(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *name,
                   struct pd_k8s_field_errs *e);

/* NULL when name is valid under rule, else Kubernetes' text of the problem. */
const char *pd_k8s_name_problem(enum pd_k8s_name_rule rule, const char *name);

/* The stored object (new reference) or NULL when absent. */
json_t *pd_k8s_load(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns,
                    const char *name);
/* Objects of res in ns (NULL: all namespaces) as a new array. */
json_t *pd_k8s_load_all(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns);
/* Store obj (complete, with metadata) under res with a fresh resourceVersion; replace = 1
 * overwrites. The change is recorded for watchers (x->ev). */
int pd_k8s_save(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, json_t *obj, int replace);
/* Delete the stored object old of res (recorded for watchers with a fresh resourceVersion). */
int pd_k8s_remove(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const json_t *old);
/* Create obj (stolen) of res in ns as the system would, without authorization, admission or
 * answer: fresh uid, creationTimestamp, resourceVersion. PD_ECONFLICT when it exists. */
int pd_k8s_put_new(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns, json_t *obj);
/* obj rebuilt with kind, apiVersion and metadata first (obj released; new reference). */
json_t *pd_k8s_ordered(json_t *obj, const struct pd_k8s_res *res);
/* obj's metadata object (created when missing) and a metadata string member. */
json_t *pd_k8s_meta(json_t *obj);
const char *pd_k8s_mstr(const json_t *obj, const char *k);
/* A random suffix from kube's alphabet (generateName, kube-api-access-xxxxx). */
const char *pd_k8s_suffix(struct pd_k8s_ctx *x, size_t n);
const char *pd_k8s_uuid(struct pd_k8s_ctx *x);
const char *pd_k8s_iso(struct pd_k8s_ctx *x, int64_t ms);
/* The request body as JSON (new reference) or NULL with the error answered. */
json_t *pd_k8s_body(struct pd_k8s_ctx *x, int patch);
/* Refuse a body whose kind/apiVersion are given and differ. PD_OK or PD_EAWS. */
int pd_k8s_check_kind(struct pd_k8s_ctx *x, json_t *obj, const char *kind, const char *api);
int pd_k8s_dry_run(struct pd_k8s_ctx *x);
/* The generic handlers (objects.c). pd_k8s_create: create obj (stolen) of x->res in ns as a
 * client's POST does (validation, hooks, 201 answer). pd_k8s_write_changed: store obj as the
 * new version of old (identity kept, status strategy, hooks) and answer status. */
int pd_k8s_create(struct pd_k8s_ctx *x, json_t *obj, const char *ns);
int pd_k8s_write_changed(struct pd_k8s_ctx *x, json_t *old, json_t *obj, int status);
/* Does the request ask for a Table (Accept ...;as=Table)? */
int pd_k8s_wants_table(struct pd_k8s_ctx *x);
/* Parse a list's label and field selectors (either may be NULL) into arena arrays, refusing
 * (400 answered, PD_EAWS) malformed ones and field labels res does not support. */
int pd_k8s_parse_selectors(struct pd_k8s_ctx *x, const char *lsel, const char *fsel,
                           struct pd_k8s_sel **OUT_ls, size_t *OUT_nls, struct pd_k8s_sel **OUT_fs,
                           size_t *OUT_nfs);
/* The stored objects of res in ns (NULL: every namespace) that pass the selectors, as served
 * (a new array). */
int pd_k8s_collect(struct pd_k8s_ctx *x, const struct pd_k8s_res *res, const char *ns,
                   const struct pd_k8s_sel *ls, size_t nls, const struct pd_k8s_sel *fs, size_t nfs,
                   json_t **OUT);
/* Answer a request for x->res (COLLECTION / OBJECT) or x->p.sub (SUBRESOURCE). */
int pd_k8s_serve_object(struct pd_k8s_ctx *x);
int pd_k8s_serve_subresource(struct pd_k8s_ctx *x);
/* Authorize at for this request through the chain (the decision is logged with the
 * request's). 1 allowed, 0 not. */
int pd_k8s_allowed(struct pd_k8s_ctx *x, const struct pd_k8s_attrs *at);

/* ---- core.c ---- */

/* Start the cluster's Kubernetes state unless started (built-in namespaces and their
 * content), then make sure it has the RBAC bootstrap objects. In the caller's transaction. */
int pd_k8s_start(struct pd_k8s_ctx *x);

/* ---- authn.c, iam_user.c ---- */

/* Authenticate the request's bearer token for cluster c. PD_OK with *OUT filled (anonymous
 * when there is no Authorization header), or PD_ESIG with *OUT_why (arena text for the log)
 * when credentials are present but not valid. extra in *OUT is a new reference. */
int pd_k8s_authenticate(struct pd_req *r, const struct pd_eks_cluster *c, struct pd_k8s_user *OUT,
                        const char **OUT_why);

/* Verify an `aws eks get-token` token (k8s-aws-v1.…) for cluster c without a request: the
 * checks aws-iam-authenticator makes, then SigV4 with podiam's credentials. http_port /
 * https_port are podiam's listening ports (its own endpoint is accepted as the STS host).
 * now_ms is the client's clock (pd_clock_wall_ms): the 15-minute window is checked against
 * it; session credentials expire by podiam's clock (with the admin offset).
 * PD_OK with *OUT (arena strings) or PD_ESIG with *OUT_why (static or arena text). */
int pd_k8s_verify_aws_token(struct pd_env *env, struct pd_db *db, struct pd_arena *a,
                            const char *token, const char *cluster_name, int64_t now_ms,
                            struct pd_principal *OUT, const char **OUT_why);

/* The Kubernetes user the verified IAM caller p is on cluster c, as EKS maps it (k8s/
 * iam_user.c through k8s/access.c and k8s/identity.c: authentication mode, access entries,
 * aws-auth, the creator). Fills OUT->username, uid, groups (system:authenticated included),
 * extra (a new reference), arn, mapped_by and eks (the mapping). PD_OK, or PD_ESIG with
 * *OUT_why when p maps to nobody (the caller answers 401 Unauthorized; OUT->arn, mapped_by
 * and eks still say what was looked at, for the decision log). */
int pd_k8s_identity_from_iam(struct pd_req *r, const struct pd_eks_cluster *c,
                             const struct pd_principal *p, struct pd_k8s_user *OUT,
                             const char **OUT_why);

/* ---- impersonate.c ---- */

/* Apply the request's Impersonate-* headers: nothing when there are none (PD_OK); else
 * authorize each (verb impersonate) as the authenticated user and switch x->u to the
 * impersonated user (x->real keeps the authenticated one), or answer 400/403 and return
 * PD_EAWS. */
int pd_k8s_impersonate(struct pd_k8s_ctx *x);

/* ---- rbac_store.c ---- */

struct pd_k8s_rbac_store *pd_k8s_rbac_store_new(struct pd_arena *a, struct pd_db *db,
                                                const char *cluster);
const struct pd_k8s_rbac_source *pd_k8s_rbac_store_source(struct pd_k8s_rbac_store *s);
/* Forget what was read (after this request wrote RBAC objects). */
void pd_k8s_rbac_store_forget(struct pd_k8s_rbac_store *s);

/* ---- rbac_objects.c ---- */

/* Create the bootstrap ClusterRoles and ClusterRoleBindings a cluster starts with (and
 * aggregate admin/edit/view), unless this cluster already has this bootstrap version. */
int pd_k8s_rbac_bootstrap(struct pd_k8s_ctx *x);
/* Run the ClusterRole aggregation controller once over the cluster (until nothing changes). */
int pd_k8s_rbac_aggregate(struct pd_k8s_ctx *x);

/* ---- request.c ---- */

/* Kubernetes' RequestInfo: the attributes method on path (after the cluster prefix; ""
 * is "/") with query q asks for (user left NULL). Strings live in a. Pure. */
void pd_k8s_request_info(struct pd_arena *a, const char *method, const char *path,
                         const struct pd_kvs *q, struct pd_k8s_attrs *OUT);

/* One requirement of a label or field selector. */
struct pd_k8s_sel {
    const char *key;
    int op; /* 0 =, 1 !=, 2 exists, 3 !exists, 4 in, 5 notin */
    const char *vals[16];
    size_t nvals;
};

/* Parse a selector ("a=b,c!=d,e in (f,g),!h") into an arena array. PD_OK or PD_EINVAL. */
int pd_k8s_sel_parse(struct pd_arena *a, const char *sel, struct pd_k8s_sel **OUT, size_t *OUT_n);
/* Does a value (NULL: the key is absent) satisfy requirement q? 1 / 0. */
int pd_k8s_sel_match(const struct pd_k8s_sel *q, const char *have);
/* Does obj of res pass the label selector ls and the field selector fs? 1 / 0. Pure. */
int pd_k8s_match(const struct pd_k8s_res *res, json_t *obj, const struct pd_k8s_sel *ls, size_t nls,
                 const struct pd_k8s_sel *fs, size_t nfs);
/* The value of field selector key on obj of res; *OUT_supported = 0 when Kubernetes has no
 * such field label for res. */
const char *pd_k8s_field_value(const struct pd_k8s_res *res, json_t *obj, const char *key,
                               int *OUT_supported);

/* ---- render.c ---- */

json_t *pd_k8s_version_doc(const struct pd_eks_cluster *c);
json_t *pd_k8s_api_versions(void);
json_t *pd_k8s_api_groups(void);
/* The APIResourceList of group/version ("v1", "rbac.authorization.k8s.io/v1", …), or
 * NULL. */
json_t *pd_k8s_resource_list(const char *group_version);

/* "5s", "3m20s", "4h", "12d" — kubectl's age of a time, as the server's Table cell. */
void pd_k8s_age(int64_t now_ms, int64_t then_ms, char out[32]);
/* A Table of objects (array of objects of one resource), rows with PartialObjectMetadata. */
json_t *pd_k8s_table(const struct pd_k8s_res *res, const json_t *items, const char *rv,
                     const char *cont, int64_t now_ms);

/* Fill what kube-apiserver and the (absent) kubelet would: spec defaults and a Running
 * status, for a pod created at created_ms; ip_seed picks the pod IP. */
void pd_k8s_pod_defaults(json_t *pod, int64_t created_ms, uint64_t ip_seed);
/* The pod's status as a kubelet running it would report it (kept: startTime, podIP). */
void pd_k8s_pod_status(json_t *pod, int64_t now_ms);

#endif
