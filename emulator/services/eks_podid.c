/*
 * eks_podid.c - EKS Pod Identity (see podid.h): the association operations of the EKS API,
 * the token rules and session tags, and the exchange of a pod's token for role
 * credentials shared by eks-auth and the agent endpoint (services/eks_auth.c).
 */
#include "services/podid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/policy_cache.h"
#include "core/arena.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "authorize.h"
#include "env.h"
#include "services/eks.h"
#include "services/eks_internal.h"
#include "services/oidc.h"
#include "services/service.h"
#include "services/sts.h"
#include "store/eks_db.h"
#include "store/iam_db.h"

const struct pd_awserr pd_podid_InvalidToken = {"InvalidTokenException", 400, 0};
const struct pd_awserr pd_podid_ExpiredToken = {"ExpiredTokenException", 400, 0};
const struct pd_awserr pd_podid_AccessDenied = {"AccessDeniedException", 400, 0};
const struct pd_awserr pd_podid_ResourceNotFound = {"ResourceNotFoundException", 404, 0};
const struct pd_awserr pd_podid_InvalidParameter = {"InvalidParameterException", 400, 0};
static const struct pd_awserr ResourceLimitExceeded = {"ResourceLimitExceededException", 400, 0};

#define LEEWAY_S 60
#define SA_PREFIX "system:serviceaccount:"

/* ---- pure rules ---- */

static int aud_has(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    size_t i;
    json_t *v;
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            return 1;
    }
    return 0;
}

/* a non-empty string member without NUL bytes, or NULL */
static const char *str_member(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    const char *s = json_string_value(v);
    return s && *s && strlen(s) == json_string_length(v) ? s : NULL;
}

enum pd_podid_verdict pd_podid_check_claims(const json_t *claims, int64_t now,
                                            struct pd_podid_subject *OUT, const char **OUT_why)
{
    memset(OUT, 0, sizeof *OUT);
    struct pd_jwt_times t;
    if (!json_is_object(claims) || pd_jwt_times(claims, &t)) {
        *OUT_why = "exp, nbf or iat is not an integer NumericDate";
        return PD_PODID_BAD;
    }
    if (!t.has_exp) {
        *OUT_why = "the token has no exp claim";
        return PD_PODID_BAD;
    }
    if (now >= t.exp) {
        *OUT_why = "the token has expired";
        return PD_PODID_EXPIRED;
    }
    if ((t.has_nbf && t.nbf > now + LEEWAY_S) || (t.has_iat && t.iat > now + LEEWAY_S)) {
        *OUT_why = "the token is not valid yet (nbf or iat in the future)";
        return PD_PODID_BAD;
    }
    if (!aud_has(json_object_get(claims, "aud"), PD_PODID_AUDIENCE)) {
        *OUT_why = "the token's audience is not " PD_PODID_AUDIENCE;
        return PD_PODID_BAD;
    }
    const char *sub = str_member(claims, "sub");
    if (!sub || !pd_has_prefix(sub, SA_PREFIX)) {
        *OUT_why = "the token's sub is not system:serviceaccount:NAMESPACE:NAME";
        return PD_PODID_BAD;
    }
    const json_t *k = json_object_get(claims, "kubernetes.io");
    const char *ns = str_member(k, "namespace");
    const char *sa = str_member(json_object_get(k, "serviceaccount"), "name");
    const json_t *pod = json_object_get(k, "pod");
    const char *pname = str_member(pod, "name"), *puid = str_member(pod, "uid");
    const char *rest = sub + strlen(SA_PREFIX);
    const char *colon = strchr(rest, ':');
    if (!ns || !sa || !colon || strlen(ns) != (size_t)(colon - rest) ||
        strncmp(rest, ns, (size_t)(colon - rest)) != 0 || strcmp(colon + 1, sa) != 0) {
        *OUT_why = "the token's sub and kubernetes.io claims do not name the same service account";
        return PD_PODID_BAD;
    }
    if (!pname || !puid) {
        *OUT_why = "the token is not bound to a pod (no kubernetes.io.pod name and uid)";
        return PD_PODID_BAD;
    }
    OUT->ns = ns;
    OUT->sa = sa;
    OUT->pod = pname;
    OUT->pod_uid = puid;
    *OUT_why = NULL;
    return PD_PODID_OK;
}

json_t *pd_podid_session_tags(const char *cluster_arn, const char *cluster_name,
                              const struct pd_podid_subject *s)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "eks-cluster-arn", cluster_arn,
                     "eks-cluster-name", cluster_name, "kubernetes-namespace", s->ns,
                     "kubernetes-service-account", s->sa, "kubernetes-pod-name", s->pod,
                     "kubernetes-pod-uid", s->pod_uid);
}

const char *pd_podid_session_name(struct pd_arena *a, const char *cluster, const char *pod,
                                  const char *uuid)
{
    char *s = pd_arena_printf(a, "eks-%s-%s-%s", cluster, pod, uuid);
    /* session names allow [\w+=,.@-]: pod and cluster names are DNS names, so only their
     * characters could differ; replace anything else */
    for (char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("_+=,.@-", *p)))
            *p = '-';
    if (strlen(s) > 64)
        s[64] = '\0';
    return s;
}

const char *pd_podid_arn(struct pd_arena *a, const struct pd_eks_db_cluster *c, const char *id)
{
    return pd_arena_printf(a, "arn:aws:eks:%s:%s:podidentityassociation/%s/%s", c->region,
                           c->account_id, c->name, id);
}

int pd_eks_podid_exists(struct pd_db *db, struct pd_arena *a, const char *cluster_id,
                        const char *ns, const char *sa)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_podid p;
    return pd_eks_db_cluster_by_id(db, a, cluster_id, &c) == PD_OK &&
           pd_eks_db_podid_find(db, a, c.id, ns, sa, &p) == PD_OK;
}

/* ---- associations (EKS API) ---- */

static json_t *assoc_json(struct pd_req *r, const struct pd_eks_db_cluster *c,
                          const struct pd_eks_db_podid *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "clusterName", json_string(c->name));
    json_object_set_new(o, "namespace", json_string(p->namespace_));
    json_object_set_new(o, "serviceAccount", json_string(p->service_account));
    json_object_set_new(o, "roleArn", json_string(p->role_arn));
    json_object_set_new(o, "associationArn", json_string(pd_podid_arn(&r->arena, c, p->assoc_id)));
    json_object_set_new(o, "associationId", json_string(p->assoc_id));
    json_object_set_new(o, "tags", pd_eks_parse_obj(p->tags));
    json_object_set_new(o, "createdAt", json_integer((json_int_t)p->created_ms));
    json_object_set_new(o, "modifiedAt", json_integer((json_int_t)p->modified_ms));
    json_object_set_new(o, "disableSessionTags", json_boolean(p->disable_session_tags));
    if (p->target_role_arn)
        json_object_set_new(o, "targetRoleArn", json_string(p->target_role_arn));
    if (p->external_id)
        json_object_set_new(o, "externalId", json_string(p->external_id));
    if (p->policy)
        json_object_set_new(o, "policy", json_string(p->policy));
    return o;
}

static json_t *summary_json(struct pd_req *r, const struct pd_eks_db_cluster *c,
                            const struct pd_eks_db_podid *p)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "clusterName", c->name, "namespace",
                     p->namespace_, "serviceAccount", p->service_account, "associationArn",
                     pd_podid_arn(&r->arena, c, p->assoc_id), "associationId", p->assoc_id);
}

/* RFC 1123 label (namespaces: <= 63) or subdomain (service accounts: <= 253). */
static int k8s_name_ok(const char *s, size_t max, int dots)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && ch != '-' && !(dots && ch == '.'))
            return 0;
        if ((i == 0 || i == n - 1) && !alnum)
            return 0;
    }
    return 1;
}

/* An IAM role ARN (arn:aws:iam::ACCT:role/[PATH/]NAME): its account, or NULL. */
static const char *role_account(struct pd_req *r, const char *arn)
{
    struct pd_arn a;
    const char *type, *name;
    if (!arn || pd_arn_parse(&r->arena, arn, &a) || strcmp(a.service, "iam") != 0 ||
        pd_arn_resource_split(&r->arena, a.resource, &type, NULL, &name) ||
        strcmp(type, "role") != 0 || strlen(a.account) != 12)
        return NULL;
    return a.account;
}

/* Does the trust policy have an Allow statement for the Service pods.eks.amazonaws.com with
 * sts:AssumeRole (or a wildcard covering it)? What EKS checks when an association is made;
 * conditions are evaluated later, at each AssumeRoleForPodIdentity. */
static int has_any(const json_t *v, const char *want, int action)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (action)
            return strcmp(s, "*") == 0 || strcasecmp(s, "sts:*") == 0 || strcasecmp(s, want) == 0;
        return strcmp(s, want) == 0;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (has_any(e, want, action))
            return 1;
    }
    return 0;
}

static int trusts_pods(const char *policy)
{
    json_t *d = policy ? json_loads(policy, 0, NULL) : NULL;
    json_t *st = json_object_get(d, "Statement");
    int ok = 0;
    if (json_is_object(st)) {
        json_t *one = json_array();
        json_array_append(one, st);
        st = one;
    } else {
        json_incref(st);
    }
    size_t i;
    json_t *s;
    json_array_foreach(st, i, s)
    {
        const char *eff = json_string_value(json_object_get(s, "Effect"));
        json_t *svc = json_object_get(json_object_get(s, "Principal"), "Service");
        if (eff && strcmp(eff, "Allow") == 0 && has_any(svc, PD_PODID_SERVICE, 0) &&
            has_any(json_object_get(s, "Action"), "sts:AssumeRole", 1))
            ok = 1;
    }
    json_decref(st);
    json_decref(d);
    return ok;
}

/* The role, target role, session switch and policy of a create or update (p holds the
 * current values on update); validated and applied to p. */
static int apply_fields(struct pd_req *r, const struct pd_eks_db_cluster *c,
                        struct pd_eks_db_podid *p, int create)
{
    const char *role = pd_eks_in_str(r, "roleArn");
    json_t *dst = json_object_get(r->in, "disableSessionTags");
    json_t *target = json_object_get(r->in, "targetRoleArn");
    json_t *policy = json_object_get(r->in, "policy");
    if (role) {
        const char *acct = role_account(r, role);
        if (!acct)
            return pd_fail(r, &pd_eks_InvalidParameter, "Role ARN %s is not a valid IAM role ARN",
                           role);
        if (strcmp(acct, c->account_id) != 0)
            return pd_fail(r, &pd_eks_InvalidParameter,
                           "The role must be in the same account as the cluster (%s)",
                           c->account_id);
        struct pd_iam_role ro;
        int rc = pd_sts_role_of_arn(r, role, &ro);
        if (rc == PD_ENOTFOUND)
            return pd_fail(r, &pd_eks_InvalidParameter, "Role %s does not exist", role);
        if (rc)
            return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the role");
        if (!trusts_pods(ro.trust_policy))
            return pd_fail(r, &pd_eks_InvalidParameter,
                           "Trust policy of the role provided is "
                           "invalid");
        p->role_arn = role;
    }
    if (json_is_boolean(dst))
        p->disable_session_tags = json_is_true(dst);
    if (target) {
        const char *t = json_string_value(target);
        if (t && !*t) {
            p->target_role_arn = NULL; /* "" removes it (update) */
            p->external_id = NULL;
        } else {
            if (!role_account(r, t))
                return pd_fail(r, &pd_eks_InvalidParameter,
                               "Target role ARN %s is not a valid IAM role ARN", t ? t : "");
            if (p->role_arn && strcmp(t, p->role_arn) == 0)
                return pd_fail(r, &pd_eks_InvalidParameter,
                               "The target role must differ from the role");
            p->target_role_arn = t;
            p->external_id = pd_arena_printf(&r->arena, "%s/%s/%s/%s/%s", c->region, c->account_id,
                                             c->name, p->namespace_, p->service_account);
        }
    }
    if (policy) {
        const char *text = json_string_value(policy);
        if (text && !*text) {
            p->policy = NULL;
        } else {
            char err[256];
            const char *why = NULL;
            struct pd_cached_policy *h = NULL;
            if (!text || strlen(text) > 2048)
                return pd_fail(r, &pd_eks_InvalidParameter,
                               "The policy must be at most 2048 characters");
            if (pd_policy_cache_get(r->env->policies, PD_POLICY_SESSION, text, strlen(text), err,
                                    sizeof err, &h, &why))
                return pd_fail(r, &pd_eks_InvalidParameter, "The policy is invalid: %s",
                               why ? why : "Syntax errors in policy.");
            pd_policy_cache_release(r->env->policies, h);
            p->policy = text;
        }
    }
    if (p->policy && !p->disable_session_tags)
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "A policy can be set only with disableSessionTags set to true");
    (void)create;
    return PD_OK;
}

static int podid_cluster(struct pd_req *r, struct pd_eks_db_cluster *OUT)
{
    return pd_eks_load(r, pd_eks_in_str(r, "clusterName"), OUT) ? PD_EAWS : PD_OK;
}

static int load_assoc(struct pd_req *r, const struct pd_eks_db_cluster *c,
                      struct pd_eks_db_podid *OUT)
{
    const char *id = pd_eks_in_str(r, "associationId");
    int rc = pd_eks_db_podid_get(r->db, &r->arena, c->id, id ? id : "", OUT);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &pd_eks_ResourceNotFound, "No Pod Identity Association found for id %s",
                       id ? id : "");
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the association");
    return PD_OK;
}

static void new_id(struct pd_req *r, char out[20])
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    out[0] = 'a';
    out[1] = '-';
    for (int i = 2; i < 19; i++)
        out[i] = chars[pd_ids_next(&r->env->ids) % 36];
    out[19] = '\0';
}

int pd_eks_create_podid(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    if (podid_cluster(r, &c))
        return PD_EAWS;
    const char *ns = pd_eks_in_str(r, "namespace");
    const char *sa = pd_eks_in_str(r, "serviceAccount");
    if (!k8s_name_ok(ns, 63, 0))
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "Namespace %s is invalid: a lowercase RFC 1123 label is expected",
                       ns ? ns : "");
    if (!k8s_name_ok(sa, 253, 1))
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "Service account %s is invalid: a lowercase RFC 1123 subdomain is "
                       "expected",
                       sa ? sa : "");
    int64_t now = pd_clock_now_ms(&r->env->clock);
    struct pd_eks_db_podid p = {.cluster = c.id,
                                .namespace_ = ns,
                                .service_account = sa,
                                .created_ms = now,
                                .modified_ms = now};
    if (apply_fields(r, &c, &p, 1))
        return PD_EAWS;
    struct pd_eks_db_podid other;
    if (pd_eks_db_podid_find(r->db, &r->arena, c.id, ns, sa, &other) == PD_OK)
        return pd_fail(r, &pd_eks_ResourceInUse, "Association already exists: %s", other.assoc_id);
    struct pd_eks_db_podid *all;
    size_t n;
    if (pd_eks_db_podid_all(r->db, &r->arena, c.id, &all, &n) == PD_OK &&
        n >= PD_PODID_MAX_PER_CLUSTER)
        return pd_fail(r, &ResourceLimitExceeded,
                       "The cluster has %d Pod Identity associations, the most it can have",
                       PD_PODID_MAX_PER_CLUSTER);
    json_t *tags = json_object_get(r->in, "tags");
    p.tags = json_is_object(tags) ? pd_eks_dump(&r->arena, tags) : "{}";
    char id[20];
    new_id(r, id);
    p.assoc_id = pd_arena_strdup(&r->arena, id);
    if (p.target_role_arn)
        p.external_id =
            pd_arena_printf(&r->arena, "%s/%s/%s/%s/%s", c.region, c.account_id, c.name, ns, sa);
    int rc = pd_eks_db_podid_put(r->db, &p);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &pd_eks_ResourceInUse, "Association already exists");
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot store the association");
    pd_log_req(PD_LOG_INFO, r->request_id, "eks: pod identity association %s on %s: %s/%s -> %s",
               p.assoc_id, c.name, ns, sa, p.role_arn);
    r->out = json_pack("{s:o}", "association", assoc_json(r, &c, &p));
    return PD_OK;
}

int pd_eks_describe_podid(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_podid p;
    if (podid_cluster(r, &c) || load_assoc(r, &c, &p))
        return PD_EAWS;
    r->out = json_pack("{s:o}", "association", assoc_json(r, &c, &p));
    return PD_OK;
}

int pd_eks_list_podid(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    if (podid_cluster(r, &c))
        return PD_EAWS;
    struct pd_eks_db_podid *v;
    size_t n;
    if (pd_eks_db_podid_all(r->db, &r->arena, c.id, &v, &n))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot list associations");
    const char *ns = pd_eks_in_str(r, "namespace");
    const char *sa = pd_eks_in_str(r, "serviceAccount");
    json_t *mr = json_object_get(r->in, "maxResults");
    if (mr && (json_integer_value(mr) < 1 || json_integer_value(mr) > 100))
        return pd_fail(r, &pd_eks_InvalidParameter, "maxResults must be between 1 and 100");
    size_t limit = mr ? (size_t)json_integer_value(mr) : 100;
    const char *token = pd_eks_in_str(r, "nextToken");
    size_t from = 0;
    if (token) {
        /* the token is the position after which the page starts: "ns/sa" of the last one */
        while (from < n && strcmp(pd_arena_printf(&r->arena, "%s/%s", v[from].namespace_,
                                                  v[from].service_account),
                                  token) <= 0)
            from++;
        if (!strchr(token, '/'))
            return pd_fail(r, &pd_eks_InvalidParameter, "The nextToken is invalid.");
    }
    json_t *list = json_array();
    size_t k = 0, i;
    for (i = from; i < n && k < limit; i++) {
        if ((ns && strcmp(ns, v[i].namespace_) != 0) ||
            (sa && strcmp(sa, v[i].service_account) != 0))
            continue;
        json_array_append_new(list, summary_json(r, &c, &v[i]));
        k++;
    }
    r->out = json_pack("{s:o}", "associations", list);
    int more = 0;
    for (size_t j = i; j < n && !more; j++)
        more = !(ns && strcmp(ns, v[j].namespace_) != 0) &&
               !(sa && strcmp(sa, v[j].service_account) != 0);
    if (more && i > 0)
        json_object_set_new(r->out, "nextToken",
                            json_string(pd_arena_printf(&r->arena, "%s/%s", v[i - 1].namespace_,
                                                        v[i - 1].service_account)));
    return PD_OK;
}

int pd_eks_update_podid(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_podid p;
    if (podid_cluster(r, &c) || load_assoc(r, &c, &p))
        return PD_EAWS;
    if (apply_fields(r, &c, &p, 0))
        return PD_EAWS;
    p.modified_ms = pd_clock_now_ms(&r->env->clock);
    if (pd_eks_db_podid_set(r->db, &p))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot store the association");
    r->out = json_pack("{s:o}", "association", assoc_json(r, &c, &p));
    return PD_OK;
}

int pd_eks_delete_podid(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_podid p;
    if (podid_cluster(r, &c) || load_assoc(r, &c, &p))
        return PD_EAWS;
    if (pd_eks_db_podid_del(r->db, p.id))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot delete the association");
    r->out = json_pack("{s:o}", "association", assoc_json(r, &c, &p));
    return PD_OK;
}

int pd_eks_podid_authz(struct pd_req *r, struct pd_authz_need *need)
{
    const char *op = r->op->name;
    if (!strstr(op, "PodIdentityAssociation"))
        return 0;
    const char *account = r->who.account_id ? r->who.account_id : "";
    const char *name = pd_eks_in_str(r, "clusterName");
    const char *action = pd_arena_printf(&r->arena, "eks:%s", op);
    struct pd_eks_db_cluster c = {
        .region = pd_eks_region(r), .account_id = account, .name = name ? name : ""};
    const char *id = pd_eks_in_str(r, "associationId");
    int on_cluster = strcmp(op, "CreatePodIdentityAssociation") == 0 ||
                     strcmp(op, "ListPodIdentityAssociations") == 0;
    pd_authz_add(need, action,
                 on_cluster ? pd_eks_cluster_arn(&r->arena, c.region, account, c.name)
                            : pd_podid_arn(&r->arena, &c, id ? id : ""),
                 NULL);
    if (name) {
        pd_ctx_add(&need->ctx, "eks:clusterName", PD_CTX_STRING, name, (size_t)-1);
        struct pd_eks_db_cluster row;
        struct pd_eks_db_podid p;
        if (!on_cluster &&
            pd_eks_db_cluster_get(r->db, &r->arena, account, c.region, name, &row) == PD_OK &&
            pd_eks_db_podid_get(r->db, &r->arena, row.id, id ? id : "", &p) == PD_OK) {
            json_t *tags = pd_eks_parse_obj(p.tags);
            const char *k;
            json_t *v;
            json_object_foreach(tags, k, v)
            {
                pd_ctx_add(&need->ctx, pd_arena_printf(&r->arena, "aws:ResourceTag/%s", k),
                           PD_CTX_STRING, json_string_value(v), (size_t)-1);
            }
            json_decref(tags);
        }
    }
    /* EKS passes the role to pods.eks.amazonaws.com: iam:PassRole on it (and on a target
     * role), as the EKS User Guide's permissions for associations list. */
    const char *role = pd_eks_in_str(r, "roleArn");
    const char *target = pd_eks_in_str(r, "targetRoleArn");
    if (role || (target && *target))
        pd_ctx_add(&need->ctx, "iam:PassedToService", PD_CTX_STRING, PD_PODID_SERVICE, (size_t)-1);
    if (role)
        pd_authz_add(need, "iam:PassRole", role, NULL);
    if (target && *target)
        pd_authz_add(need, "iam:PassRole", target, NULL);
    return 1;
}

/* ---- the exchange ---- */

/* A trust check under way (r->svc_state of eks-auth and the agent). */
struct trust_check {
    const struct pd_principal_id *who;
    const char *policy;
    const char *account;
    const char *role_arn;
    json_t *tags;            /* request tags (borrowed), or NULL */
    const char *external_id; /* or NULL */
    const char *action;      /* the check under way, for the denial's message */
    json_t *facts;           /* the exchange so far, for the decision log (borrowed) */
};

int pd_podid_trust_authz(struct pd_req *r, struct pd_authz_need *need)
{
    struct trust_check *t = r->svc_state;
    if (!t)
        return 0;
    need->who = t->who;
    need->trust = 1;
    need->resource_policy = t->policy;
    need->resource_account = t->account;
    need->policy_id = t->role_arn;
    need->deny = &pd_podid_AccessDenied;
    if (t->facts) /* the console draws the exchange from these (docs/console.md) */
        need->log_extra = json_pack("{s:o}", "pod_identity", json_deep_copy(t->facts));
    need->deny_message = pd_arena_printf(
        &r->arena, "%s is not authorized to perform: %s on resource: %s (its trust policy)",
        t->who->type == PD_PRINCIPAL_SERVICE ? t->who->service : t->who->arn,
        t->action ? t->action : "sts:AssumeRole", t->role_arn);
    if (t->tags) {
        const char *k;
        json_t *v;
        pd_ctx_add_empty(&need->ctx, "aws:TagKeys");
        json_object_foreach(t->tags, k, v)
        {
            pd_ctx_add(&need->ctx, "aws:TagKeys", PD_CTX_STRING, k, (size_t)-1);
            pd_ctx_add(&need->ctx, pd_arena_printf(&r->arena, "aws:RequestTag/%s", k),
                       PD_CTX_STRING, json_string_value(v), (size_t)-1);
            pd_ctx_add(&need->ctx, "sts:TransitiveTagKeys", PD_CTX_STRING, k, (size_t)-1);
        }
    }
    if (t->external_id)
        pd_ctx_add(&need->ctx, "sts:ExternalId", PD_CTX_STRING, t->external_id, (size_t)-1);
    return 1;
}

/* Is the principal allowed sts:AssumeRole (+ sts:TagSession) on role by its trust policy?
 * PD_OK, or PD_EAWS with AccessDeniedException. */
static int trust_ok(struct pd_req *r, struct trust_check *t)
{
    void *saved = r->svc_state;
    r->svc_state = t;
    const char *msg = NULL;
    t->action = "sts:AssumeRole";
    int rc = pd_authorize_check(r, t->action, t->role_arn, &msg);
    if (rc == PD_OK && t->tags) {
        t->action = "sts:TagSession";
        rc = pd_authorize_check(r, t->action, t->role_arn, &msg);
    }
    r->svc_state = saved;
    if (rc == PD_EDENIED)
        return pd_fail(r, &pd_podid_AccessDenied, "%s", msg ? msg : "Access denied");
    return rc;
}

static void refused(struct pd_req *r, const char *step, const char *iss, const char *why)
{
    pd_log_req(PD_LOG_INFO, r->request_id, "pod identity token refused at %s: %s", step, why);
    json_t *d = json_pack("{s:s, s:s}", "step", step, "reason", why);
    if (iss)
        json_object_set_new(d, "issuer", json_string(iss));
    pd_sts_token_decision(r, iss, d);
}

/* The token, verified with the cluster's issuer keys; claims checked. */
static int verify(struct pd_req *r, const struct pd_eks_db_cluster *c, const char *token,
                  json_t **OUT_claims, struct pd_podid_subject *OUT)
{
    size_t len = token ? strlen(token) : 0;
    struct pd_jwt *jwt = NULL;
    enum pd_jwt_reason why;
    if (!len || len > PD_JWT_MAX_LEN || pd_jwt_parse(token, len, &jwt, &why)) {
        pd_fail(r, &pd_podid_InvalidToken, "The token is not a valid JWT");
        refused(r, "structure", NULL, len ? pd_jwt_reason_str(why) : "no token");
        return PD_EAWS;
    }
    const char *iss = json_string_value(json_object_get(pd_jwt_unverified_claims(jwt), "iss"));
    iss = iss ? pd_arena_strdup(&r->arena, iss) : NULL;
    if (!iss || strcmp(iss, c->issuer) != 0) {
        pd_jwt_free(jwt);
        pd_fail(r, &pd_podid_InvalidToken, "The token was not issued by the cluster %s", c->name);
        refused(r, "issuer", iss, "iss is not the cluster's OIDC issuer");
        return PD_EAWS;
    }
    struct pd_jwks keys;
    pd_jwks_init(&keys);
    json_t *claims = NULL;
    int rc = pd_oidc_issuer_jwks(r->env, r->db, &r->arena, iss, &keys);
    if (rc == PD_OK)
        rc = pd_jwt_check(jwt, &keys, -1, &claims, NULL, &why);
    pd_jwks_cleanup(&keys);
    pd_jwt_free(jwt);
    if (rc) {
        pd_fail(r, &pd_podid_InvalidToken, "The token's signature could not be verified");
        refused(r, "signature", iss,
                rc == PD_ENOTFOUND ? "no key of the cluster's issuer has the token's kid"
                                   : pd_jwt_reason_str(why));
        return PD_EAWS;
    }
    const char *w = NULL;
    enum pd_podid_verdict v =
        pd_podid_check_claims(claims, pd_clock_now_ms(&r->env->clock) / 1000, OUT, &w);
    if (v != PD_PODID_OK) {
        json_decref(claims);
        pd_fail(r, v == PD_PODID_EXPIRED ? &pd_podid_ExpiredToken : &pd_podid_InvalidToken, "%s",
                v == PD_PODID_EXPIRED ? "The token has expired" : w);
        refused(r, v == PD_PODID_EXPIRED ? "times" : "claims", iss, w);
        return PD_EAWS;
    }
    OUT->ns = pd_arena_strdup(&r->arena, OUT->ns);
    OUT->sa = pd_arena_strdup(&r->arena, OUT->sa);
    OUT->pod = pd_arena_strdup(&r->arena, OUT->pod);
    OUT->pod_uid = pd_arena_strdup(&r->arena, OUT->pod_uid);
    *OUT_claims = claims;
    return PD_OK;
}

/* What the decision log records of an exchange that reached the role's trust policy (no
 * token, no credentials): the door (podiam's agent or the eks-auth API), the cluster and its
 * issuer that verified the token, the pod, the association, the session tags and name. */
static json_t *exchange_facts(struct pd_req *r, const struct pd_eks_db_cluster *c,
                              const struct pd_podid_subject *s, const struct pd_eks_db_podid *p,
                              const json_t *tags, const char *session)
{
    int agent = r->svc && strcmp(r->svc->name, "pod-identity-agent") == 0;
    json_t *assoc = json_pack("{s:s, s:s, s:s}", "id", p->assoc_id, "arn",
                              pd_podid_arn(&r->arena, c, p->assoc_id), "role_arn", p->role_arn);
    if (p->target_role_arn)
        json_object_set_new(assoc, "target_role_arn", json_string(p->target_role_arn));
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:o, s:O?, s:b, s:s, s:s}",
                     "door", agent ? "agent" : "eks-auth", "cluster", c->name, "issuer", c->issuer,
                     "audience", PD_PODID_AUDIENCE, "subject", "namespace", s->ns,
                     "service_account", s->sa, "pod", s->pod ? s->pod : "", "pod_uid",
                     s->pod_uid ? s->pod_uid : "", "association", assoc, "session_tags", tags,
                     "session_tags_disabled", p->disable_session_tags ? 1 : 0, "session_name",
                     session, "hop", "role");
}

int pd_podid_assume(struct pd_req *r, const struct pd_eks_db_cluster *c, const char *token,
                    struct pd_podid_result *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    json_t *claims = NULL;
    struct pd_podid_subject s;
    if (verify(r, c, token, &claims, &s))
        return PD_EAWS;
    json_decref(claims);

    struct pd_eks_db_podid p;
    int rc = pd_eks_db_podid_find(r->db, &r->arena, c->id, s.ns, s.sa, &p);
    if (rc == PD_ENOTFOUND) {
        pd_log_req(PD_LOG_INFO, r->request_id,
                   "pod identity: no association for %s/%s on cluster %s", s.ns, s.sa, c->name);
        return pd_fail(r, &pd_podid_ResourceNotFound,
                       "No Pod Identity Association found for service account %s in namespace "
                       "%s of cluster %s",
                       s.sa, s.ns, c->name);
    }
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the association");

    struct pd_iam_role role;
    rc = pd_sts_role_of_arn(r, p.role_arn, &role);
    if (rc) {
        pd_log_req(PD_LOG_INFO, r->request_id, "pod identity: role %s of %s does not exist",
                   p.role_arn, p.assoc_id);
        return pd_fail(r, &pd_podid_AccessDenied,
                       "Failed to assume role %s of Pod Identity Association %s: the role does "
                       "not exist",
                       p.role_arn, p.assoc_id);
    }
    const char *cluster_arn = pd_eks_cluster_arn(&r->arena, c->region, c->account_id, c->name);
    json_t *tags = p.disable_session_tags ? NULL : pd_podid_session_tags(cluster_arn, c->name, &s);
    struct pd_principal_id *svc = pd_arena_zalloc(&r->arena, sizeof *svc);
    svc->type = PD_PRINCIPAL_SERVICE;
    svc->service = PD_PODID_SERVICE;
    char uuid[37];
    pd_ids_uuid(&r->env->ids, uuid);
    const char *session = pd_podid_session_name(&r->arena, c->name, s.pod, uuid);
    json_t *facts = exchange_facts(r, c, &s, &p, tags, session);
    struct trust_check t = {.who = svc,
                            .policy = role.trust_policy,
                            .account = role.account_id,
                            .role_arn = role.arn,
                            .tags = tags,
                            .facts = facts};
    if (trust_ok(r, &t)) {
        json_decref(facts);
        json_decref(tags);
        return PD_EAWS;
    }
    json_t *creds = NULL;
    struct pd_principal sess;
    rc = pd_sts_service_session(r, &role, session, PD_PODID_SESSION_S, tags, 1,
                                p.target_role_arn ? NULL : p.policy, 0, &creds, &sess);
    if (rc == PD_OK && p.target_role_arn) {
        /* role chaining: the first session assumes the target role with the external id */
        struct pd_iam_role target;
        if (pd_sts_role_of_arn(r, p.target_role_arn, &target)) {
            json_decref(creds);
            json_decref(tags);
            return pd_fail(r, &pd_podid_AccessDenied,
                           "Failed to assume target role %s of Pod Identity Association %s: "
                           "the role does not exist",
                           p.target_role_arn, p.assoc_id);
        }
        struct pd_principal_id *hop = pd_arena_zalloc(&r->arena, sizeof *hop);
        hop->type = PD_PRINCIPAL_ROLE_SESSION;
        hop->arn = sess.arn;
        hop->account = sess.account_id;
        hop->unique_id = sess.user_id;
        hop->role_arn = role.arn;
        json_object_set_new(facts, "hop", json_string("target role"));
        struct trust_check t2 = {.who = hop,
                                 .policy = target.trust_policy,
                                 .account = target.account_id,
                                 .role_arn = target.arn,
                                 .tags = tags,
                                 .external_id = p.external_id,
                                 .facts = facts};
        json_decref(creds);
        creds = NULL;
        rc = trust_ok(r, &t2);
        if (rc == PD_OK)
            rc = pd_sts_service_session(r, &target, session, PD_PODID_TARGET_SESSION_S, tags, 1,
                                        p.policy, 1, &creds, &sess);
    }
    json_decref(facts);
    json_decref(tags);
    if (rc)
        return rc;
    /* eks-auth's Credentials spell their members in lower camel case */
    json_t *cr = json_pack(
        "{s:O, s:O, s:O, s:O}", "sessionToken", json_object_get(creds, "SessionToken"),
        "secretAccessKey", json_object_get(creds, "SecretAccessKey"), "accessKeyId",
        json_object_get(creds, "AccessKeyId"), "expiration", json_object_get(creds, "Expiration"));
    json_decref(creds);
    OUT->out = json_pack(
        "{s:{s:s, s:s}, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:o}", "subject", "namespace", s.ns,
        "serviceAccount", s.sa, "audience", PD_PODID_AUDIENCE, "podIdentityAssociation",
        "associationArn", pd_podid_arn(&r->arena, c, p.assoc_id), "associationId", p.assoc_id,
        "assumedRoleUser", "arn", sess.arn, "assumeRoleId", sess.user_id, "credentials", cr);
    OUT->account = sess.account_id;
    pd_log_req(PD_LOG_INFO, r->request_id, "pod identity: %s/%s (pod %s) on %s -> %s", s.ns, s.sa,
               s.pod, c->name, sess.arn);
    return PD_OK;
}
