/*
 * eks_access.c - EKS access entries and access policies: Create/Describe/List/Update/
 * DeleteAccessEntry, Associate/Disassociate/ListAssociatedAccessPolicies, ListAccessPolicies,
 * the IAM authorization they need, the cluster creator's bootstrap entry, and their fixtures.
 *
 * An access entry belongs to a cluster whose authentication mode is API or
 * API_AND_CONFIG_MAP (otherwise InvalidRequestException, as EKS answers). It names one
 * existing IAM principal (role, path allowed; user; account root) whose unique id is kept
 * (EKS keeps it: a principal made again under the same ARN is another principal). Only
 * STANDARD entries take Kubernetes groups, a custom username and access policies. Messages
 * are EKS's where they are published (facts file §2; cited in docs/kubernetes-access.md),
 * podiam's own wording otherwise. The access policies and their rules are
 * k8s/access_policy.c's catalog; the Kubernetes side reads entries through services/eks.h.
 */
#include <string.h>

#include "core/arena.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"
#include "env.h"
#include "k8s/access_policy.h"
#include "k8s/identity.h"
#include "services/eks.h"
#include "services/eks_internal.h"
#include "store/iam_db.h"

#define MSG_MODE                                                                                   \
    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to "        \
    "perform this operation."
#define MSG_IN_USE "The specified access entry resource is already in use on this cluster."
#define MSG_NO_ENTRY                                                                               \
    "The specified principalArn could not be found. You can view your available access "           \
    "entries with 'list-access-entries'."
#define MSG_BAD_PRINCIPAL "The specified principalArn is invalid: invalid principal."
#define MSG_ONLY_STANDARD                                                                          \
    "This operation can only be performed on Access Entries with a type of \"STANDARD\"."
#define NODE_TYPES "[EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, EC2]"

#define CLUSTER_ADMIN PD_EKS_ACCESS_POLICY_PREFIX "AmazonEKSClusterAdminPolicy"

static const char *const types[] = {"STANDARD",     "EC2_LINUX", "EC2_WINDOWS",    "FARGATE_LINUX",
                                    "HYBRID_LINUX", "EC2",       "HYPERPOD_LINUX", NULL};
static const char *const reserved[] = {"system:", "eks:", "aws:", "amazon:", "iam:", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (; s && *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* Types whose principal must be an IAM role of the cluster's account (EKS's list). */
static int node_type(const char *t)
{
    static const char *const nodes[] = {"EC2_LINUX",    "EC2_WINDOWS", "FARGATE_LINUX",
                                        "HYBRID_LINUX", "EC2",         NULL};
    return in_list(nodes, t);
}

/* ---- principals ---- */

struct principal {
    const char *arn;
    const char *partition;
    const char *account;
    const char *kind; /* "role", "user", "root" */
    const char *path; /* "/" when none; role and user */
    const char *name; /* role or user name; "root" */
};

/* An IAM principal ARN an access entry may name: arn:P:iam::ACCT:{role,user}/[PATH/]NAME or
 * arn:P:iam::ACCT:root. PD_OK or PD_EINVAL. */
static int parse_principal(struct pd_arena *a, const char *arn, struct principal *OUT)
{
    struct pd_arn p;
    memset(OUT, 0, sizeof *OUT);
    if (!arn || pd_arn_parse(a, arn, &p) || strcmp(p.service, "iam") != 0 || *p.region ||
        strlen(p.account) != 12 || strspn(p.account, "0123456789") != 12)
        return PD_EINVAL;
    OUT->arn = arn;
    OUT->partition = p.partition;
    OUT->account = p.account;
    if (strcmp(p.resource, "root") == 0) {
        OUT->kind = "root";
        OUT->path = "/";
        OUT->name = "root";
        return PD_OK;
    }
    const char *type, *path, *name;
    if (pd_arn_resource_split(a, p.resource, &type, &path, &name) || !*name ||
        (strcmp(type, "role") != 0 && strcmp(type, "user") != 0))
        return PD_EINVAL;
    OUT->kind = type;
    OUT->path = path && *path ? path : "/";
    OUT->name = name;
    return PD_OK;
}

/* The principal's IAM unique id, PD_ENOTFOUND when it does not exist (under that ARN). */
static int principal_id(struct pd_req *r, const struct principal *p, const char **OUT)
{
    if (strcmp(p->kind, "root") == 0) {
        int64_t ms;
        if (pd_iam_db_account_get(r->db, p->account, &ms) != PD_OK)
            return PD_ENOTFOUND;
        *OUT = p->account;
        return PD_OK;
    }
    if (strcmp(p->kind, "role") == 0) {
        struct pd_iam_role role;
        if (pd_iam_db_role_get(r->db, &r->arena, p->account, p->name, &role) != PD_OK ||
            strcmp(role.arn, p->arn) != 0)
            return PD_ENOTFOUND;
        *OUT = role.unique_id;
        return PD_OK;
    }
    struct pd_iam_user u;
    if (pd_iam_db_user_get(r->db, &r->arena, p->account, p->name, &u) != PD_OK ||
        strcmp(u.arn, p->arn) != 0)
        return PD_ENOTFOUND;
    *OUT = u.unique_id;
    return PD_OK;
}

/* ---- entries ---- */

const char *pd_eks_entry_arn(struct pd_arena *a, const struct pd_eks_db_cluster *c,
                             const struct pd_eks_db_entry *e)
{
    struct principal p;
    if (parse_principal(a, e->principal_arn, &p))
        return pd_arena_printf(a, "arn:aws:eks:%s:%s:access-entry/%s/unknown/%s", c->region,
                               c->account_id, c->name, e->uuid);
    return pd_arena_printf(a, "arn:aws:eks:%s:%s:access-entry/%s/%s/%s/%s/%s", c->region,
                           c->account_id, c->name, p.kind, p.account, p.name, e->uuid);
}

static json_t *entry_json(struct pd_req *r, const struct pd_eks_db_cluster *c,
                          const struct pd_eks_db_entry *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "clusterName", json_string(c->name));
    json_object_set_new(o, "principalArn", json_string(e->principal_arn));
    json_object_set_new(o, "kubernetesGroups", pd_eks_parse_arr(e->groups));
    json_object_set_new(o, "accessEntryArn", json_string(pd_eks_entry_arn(&r->arena, c, e)));
    json_object_set_new(o, "createdAt", json_integer((json_int_t)e->created_ms));
    json_object_set_new(o, "modifiedAt", json_integer((json_int_t)e->modified_ms));
    json_object_set_new(o, "tags", pd_eks_parse_obj(e->tags));
    json_object_set_new(o, "username", json_string(e->username));
    json_object_set_new(o, "type", json_string(e->type));
    return o;
}

/* The cluster named by clusterName, in a mode that admits access entries. */
static int entry_cluster(struct pd_req *r, struct pd_eks_db_cluster *OUT)
{
    if (pd_eks_load(r, pd_eks_in_str(r, "clusterName"), OUT))
        return PD_EAWS;
    if (strcmp(pd_eks_cluster_mode(OUT), "CONFIG_MAP") == 0)
        return pd_fail(r, &pd_eks_InvalidRequest, MSG_MODE);
    return PD_OK;
}

static int load_entry(struct pd_req *r, const struct pd_eks_db_cluster *c,
                      struct pd_eks_db_entry *OUT)
{
    int rc = pd_eks_db_entry_get(r->db, &r->arena, c->id, pd_eks_in_str(r, "principalArn"), OUT);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &pd_eks_ResourceNotFound, MSG_NO_ENTRY);
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the access entry");
    return PD_OK;
}

/* A custom username's rules (STANDARD entries). */
static int check_username(struct pd_req *r, const char *u)
{
    for (const char *const *p = reserved; *p; p++)
        if (pd_has_prefix(u, *p))
            return pd_fail(r, &pd_eks_InvalidParameter, "The username must not begin with %s", *p);
    static const char *const session[] = {"{{SessionName}}", "{{SessionNameRaw}}", NULL};
    for (const char *const *t = session; *t; t++) {
        const char *at = strstr(u, *t);
        if (at && !memchr(u, ':', (size_t)(at - u)))
            return pd_fail(r, &pd_eks_InvalidParameter,
                           "The specified username is invalid: a username with %s needs a "
                           "colon (:) before it",
                           *t);
    }
    return PD_OK;
}

static int check_groups(struct pd_req *r, const json_t *groups)
{
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *s = json_string_value(g);
        if (!s || !*s)
            return pd_fail(r, &pd_eks_InvalidParameter,
                           "The specified kubernetesGroups is invalid: a group name is empty");
        for (const char *const *p = reserved; *p; p++)
            if (pd_has_prefix(s, *p))
                return pd_fail(r, &pd_eks_InvalidParameter,
                               "The kubernetes group name %s is invalid, it cannot start with %s",
                               s, *p);
    }
    return PD_OK;
}

/* Username and groups of an entry of type given in the request (create or update). */
static int check_identity_fields(struct pd_req *r, const char *type, const char *username,
                                 const json_t *groups)
{
    if (strcmp(type, "STANDARD") != 0) {
        if (username)
            return pd_fail(r, &pd_eks_InvalidParameter,
                           "The specified username is invalid: setting username is not allowed "
                           "when the type is \"%s\"",
                           type);
        if (json_array_size(groups))
            return pd_fail(r, &pd_eks_InvalidParameter,
                           "The specified kubernetesGroups is invalid: setting kubernetesGroups "
                           "is not allowed when the type is \"%s\"",
                           type);
        return PD_OK;
    }
    if (username && check_username(r, username))
        return PD_EAWS;
    return check_groups(r, groups);
}

/* The non-empty username of the request, or NULL. */
static const char *in_username(struct pd_req *r)
{
    const char *u = pd_eks_in_str(r, "username");
    return u && *u ? u : NULL;
}

/* Insert an entry (validated) and answer it in *OUT_e. */
static int insert_entry(struct pd_req *r, const struct pd_eks_db_cluster *c,
                        const struct principal *p, const char *pid, const char *type,
                        const char *username, const json_t *groups, const json_t *tags,
                        struct pd_eks_db_entry *OUT_e)
{
    char uuid[37];
    pd_ids_uuid(&r->env->ids, uuid);
    int64_t now = pd_clock_now_ms(&r->env->clock);
    json_t *g = json_array_size(groups) ? json_deep_copy(groups) : json_array();
    if (!json_array_size(groups) &&
        (strcmp(type, "EC2_LINUX") == 0 || strcmp(type, "EC2_WINDOWS") == 0))
        json_array_append_new(g, json_string("system:nodes")); /* as EKS shows node entries */
    struct pd_eks_db_entry e = {
        .cluster = c->id,
        .principal_arn = p->arn,
        .principal_id = pid,
        .type = type,
        .username = username ? username : pd_eks_default_username(&r->arena, p->arn, type),
        .groups = pd_eks_dump(&r->arena, g),
        .tags = json_is_object(tags) ? pd_eks_dump(&r->arena, tags) : "{}",
        .uuid = pd_arena_strdup(&r->arena, uuid),
        .created_ms = now,
        .modified_ms = now,
    };
    json_decref(g);
    int rc = pd_eks_db_entry_put(r->db, &e);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &pd_eks_ResourceInUse, MSG_IN_USE);
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot store the access entry");
    *OUT_e = e;
    return PD_OK;
}

int pd_eks_create_access_entry(struct pd_req *r)
{
    const char *type = pd_eks_in_str(r, "type");
    const char *arn = pd_eks_in_str(r, "principalArn");
    const char *username = in_username(r);
    json_t *groups = json_object_get(r->in, "kubernetesGroups");
    if (!type)
        type = "STANDARD";
    if (!in_list(types, type))
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "The specified type is invalid: %s is not one of [STANDARD, EC2_LINUX, "
                       "EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, EC2, HYPERPOD_LINUX]",
                       type);
    struct principal p;
    if (parse_principal(&r->arena, arn, &p))
        return pd_fail(r, &pd_eks_InvalidParameter, MSG_BAD_PRINCIPAL);
    if (strcmp(p.kind, "role") == 0 && pd_has_prefix(p.path, "/aws-service-role/"))
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "The caller is not allowed to modify access entries with a principalArn "
                       "value of a Service Linked Role");
    if (node_type(type) && strcmp(p.kind, "role") != 0)
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "AccessEntry principalArn must be IAM role when using types " NODE_TYPES);
    if (node_type(type) && strcmp(p.account, r->who.account_id ? r->who.account_id : "") != 0)
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "AccessEntry principalArn must be from the same account as the cluster "
                       "when using types " NODE_TYPES);
    if (check_identity_fields(r, type, username, groups))
        return PD_EAWS;
    struct pd_eks_db_cluster c;
    if (entry_cluster(r, &c))
        return PD_EAWS;
    const char *pid;
    if (principal_id(r, &p, &pid))
        return pd_fail(r, &pd_eks_InvalidParameter, MSG_BAD_PRINCIPAL);
    struct pd_eks_db_entry e;
    if (pd_eks_db_entry_get(r->db, &r->arena, c.id, arn, &e) == PD_OK ||
        pd_eks_db_entry_by_principal_id(r->db, &r->arena, c.id, pid, &e) == PD_OK)
        return pd_fail(r, &pd_eks_ResourceInUse, MSG_IN_USE);
    if (insert_entry(r, &c, &p, pid, type, username, groups, json_object_get(r->in, "tags"), &e))
        return PD_EAWS;
    r->out = json_pack("{s:o}", "accessEntry", entry_json(r, &c, &e));
    pd_log_req(PD_LOG_INFO, r->request_id, "eks: access entry %s on %s (%s, username %s)", arn,
               c.name, type, e.username);
    return PD_OK;
}

int pd_eks_describe_access_entry(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_entry e;
    if (entry_cluster(r, &c) || load_entry(r, &c, &e))
        return PD_EAWS;
    r->out = json_pack("{s:o}", "accessEntry", entry_json(r, &c, &e));
    return PD_OK;
}

/* ---- pages of sorted names ---- */

/* The page of names[0..n) (sorted) after the request's nextToken (kind-tagged), at most
 * maxResults (default 100); sets *OUT_from / *OUT_to and the answer's nextToken. */
static int page(struct pd_req *r, const char *kind, const char *const *names, size_t n,
                size_t *OUT_from, size_t *OUT_to, const char **OUT_next)
{
    json_t *mr = json_object_get(r->in, "maxResults");
    size_t limit =
        json_is_integer(mr) && json_integer_value(mr) > 0 ? (size_t)json_integer_value(mr) : 100;
    const char *token = pd_eks_in_str(r, "nextToken");
    size_t from = 0;
    *OUT_next = NULL;
    if (token) {
        unsigned char *dec;
        size_t dn, kn = strlen(kind);
        if (pd_base64_decode(&r->arena, token, strlen(token), &dec, &dn) || dn < kn + 1 ||
            memcmp(dec, kind, kn) != 0 || dec[kn] != ':')
            return pd_fail(r, &pd_eks_InvalidParameter, "The nextToken is invalid.");
        const char *after = pd_arena_strndup(&r->arena, (const char *)dec + kn + 1, dn - kn - 1);
        while (from < n && strcmp(names[from], after) <= 0)
            from++;
    }
    size_t to = from + limit < n ? from + limit : n;
    if (to < n) {
        const char *raw = pd_arena_printf(&r->arena, "%s:%s", kind, names[to - 1]);
        *OUT_next = pd_base64_encode(&r->arena, raw, strlen(raw), 1);
    }
    *OUT_from = from;
    *OUT_to = to;
    return PD_OK;
}

static int has_policy(struct pd_req *r, int64_t entry, const char *policy_arn)
{
    struct pd_eks_db_assoc s;
    return pd_eks_db_assoc_get(r->db, &r->arena, entry, policy_arn, &s) == PD_OK;
}

int pd_eks_list_access_entries(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    if (entry_cluster(r, &c))
        return PD_EAWS;
    struct pd_eks_db_entry *v;
    size_t n;
    if (pd_eks_db_entry_all(r->db, &r->arena, c.id, &v, &n))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot list access entries");
    const char *policy = pd_eks_in_str(r, "associatedPolicyArn");
    const char **names = pd_arena_alloc(&r->arena, (n + 1) * sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!policy || has_policy(r, v[i].id, policy))
            names[k++] = v[i].principal_arn;
    size_t from, to;
    const char *next;
    if (page(r, "e", names, k, &from, &to, &next))
        return PD_EAWS;
    json_t *list = json_array();
    for (size_t i = from; i < to; i++)
        json_array_append_new(list, json_string(names[i]));
    r->out = json_pack("{s:o}", "accessEntries", list);
    if (next)
        json_object_set_new(r->out, "nextToken", json_string(next));
    return PD_OK;
}

int pd_eks_update_access_entry(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_entry e;
    if (entry_cluster(r, &c) || load_entry(r, &c, &e))
        return PD_EAWS;
    const char *username = in_username(r);
    json_t *groups = json_object_get(r->in, "kubernetesGroups");
    if (check_identity_fields(r, e.type, username, groups))
        return PD_EAWS;
    if (username)
        e.username = username;
    if (json_is_array(groups))
        e.groups = pd_eks_dump(&r->arena, groups);
    e.modified_ms = pd_clock_now_ms(&r->env->clock);
    if (pd_eks_db_entry_set(r->db, e.id, e.username, e.groups, e.tags, e.modified_ms))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot store the access entry");
    r->out = json_pack("{s:o}", "accessEntry", entry_json(r, &c, &e));
    return PD_OK;
}

int pd_eks_delete_access_entry(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_entry e;
    if (entry_cluster(r, &c) || load_entry(r, &c, &e))
        return PD_EAWS;
    if (pd_eks_db_entry_del(r->db, e.id))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot delete the access entry");
    r->out = json_object();
    return PD_OK;
}

/* ---- access policies ---- */

static json_t *assoc_json(const struct pd_eks_db_assoc *s)
{
    json_t *scope =
        json_pack("{s:s, s:o}", "type", s->scope, "namespaces", pd_eks_parse_arr(s->namespaces));
    return json_pack("{s:s, s:o, s:I, s:I}", "policyArn", s->policy_arn, "accessScope", scope,
                     "associatedAt", (json_int_t)s->associated_ms, "modifiedAt",
                     (json_int_t)s->modified_ms);
}

/* The policy ARN given: well formed and in the catalog. */
static int check_policy_arn(struct pd_req *r, const char *arn)
{
    struct pd_arn a;
    if (!arn || pd_arn_parse(&r->arena, arn, &a) || strcmp(a.service, "eks") != 0 || *a.region ||
        strcmp(a.account, "aws") != 0 || !pd_has_prefix(a.resource, "cluster-access-policy/") ||
        !a.resource[strlen("cluster-access-policy/")])
        return pd_fail(r, &pd_eks_InvalidParameter, "The policyArn parameter format is not valid");
    if (!pd_eks_access_policy_find(arn))
        return pd_fail(r, &pd_eks_ResourceNotFound, "The specified policyArn could not be found.");
    return PD_OK;
}

/* Store (or replace the scope of) an association; answers it in *OUT. */
static int put_assoc(struct pd_req *r, const struct pd_eks_db_entry *e, const char *policy,
                     const char *scope, const json_t *namespaces, struct pd_eks_db_assoc *OUT)
{
    int64_t now = pd_clock_now_ms(&r->env->clock);
    struct pd_eks_db_assoc old;
    struct pd_eks_db_assoc s = {
        .entry = e->id,
        .policy_arn = policy,
        .scope = scope,
        .namespaces = json_is_array(namespaces) ? pd_eks_dump(&r->arena, namespaces) : "[]",
        .associated_ms = now,
        .modified_ms = now,
    };
    if (pd_eks_db_assoc_get(r->db, &r->arena, e->id, policy, &old) == PD_OK)
        s.associated_ms = old.associated_ms;
    if (pd_eks_db_assoc_put(r->db, &s))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot store the association");
    *OUT = s;
    return PD_OK;
}

int pd_eks_associate_access_policy(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_entry e;
    if (entry_cluster(r, &c) || load_entry(r, &c, &e))
        return PD_EAWS;
    if (strcmp(e.type, "STANDARD") != 0)
        return pd_fail(r, &pd_eks_InvalidParameter, MSG_ONLY_STANDARD);
    const char *policy = pd_eks_in_str(r, "policyArn");
    if (check_policy_arn(r, policy))
        return PD_EAWS;
    json_t *scope = json_object_get(r->in, "accessScope");
    const char *type = json_string_value(json_object_get(scope, "type"));
    json_t *ns = json_object_get(scope, "namespaces");
    if (!type || (strcmp(type, "cluster") != 0 && strcmp(type, "namespace") != 0))
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "The accessScope type must be one of [cluster, namespace]");
    if (strcmp(type, "namespace") == 0 && !json_array_size(ns))
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "At least 1 namespace must be provided if the type is set as namespace");
    if (strcmp(type, "cluster") == 0 && json_array_size(ns))
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "accessScope should not include namespaces if the type is not set as "
                       "namespace");
    size_t i;
    json_t *x;
    json_array_foreach(ns, i, x)
    {
        if (!json_string_value(x) || !*json_string_value(x))
            return pd_fail(r, &pd_eks_InvalidParameter,
                           "The accessScope namespaces must not be empty strings");
    }
    struct pd_eks_db_assoc s;
    if (put_assoc(r, &e, policy, type, ns, &s))
        return PD_EAWS;
    r->out = json_pack("{s:s, s:s, s:o}", "clusterName", c.name, "principalArn", e.principal_arn,
                       "associatedAccessPolicy", assoc_json(&s));
    return PD_OK;
}

int pd_eks_disassociate_access_policy(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_entry e;
    if (entry_cluster(r, &c) || load_entry(r, &c, &e))
        return PD_EAWS;
    if (strcmp(e.type, "STANDARD") != 0)
        return pd_fail(r, &pd_eks_InvalidParameter, MSG_ONLY_STANDARD);
    const char *policy = pd_eks_in_str(r, "policyArn");
    if (!has_policy(r, e.id, policy))
        return pd_fail(r, &pd_eks_ResourceNotFound,
                       "The specified policyArn is not associated with the access entry.");
    if (pd_eks_db_assoc_del(r->db, e.id, policy))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot delete the association");
    r->out = json_object();
    return PD_OK;
}

int pd_eks_list_associated_access_policies(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    struct pd_eks_db_entry e;
    if (entry_cluster(r, &c) || load_entry(r, &c, &e))
        return PD_EAWS;
    if (strcmp(e.type, "STANDARD") != 0)
        return pd_fail(r, &pd_eks_InvalidParameter, MSG_ONLY_STANDARD);
    struct pd_eks_db_assoc *v;
    size_t n;
    if (pd_eks_db_assoc_list(r->db, &r->arena, e.id, &v, &n))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot list the associations");
    const char **names = pd_arena_alloc(&r->arena, (n + 1) * sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = v[i].policy_arn;
    size_t from, to;
    const char *next;
    if (page(r, "p", names, n, &from, &to, &next))
        return PD_EAWS;
    json_t *list = json_array();
    for (size_t i = from; i < to; i++)
        json_array_append_new(list, assoc_json(&v[i]));
    r->out = json_pack("{s:s, s:s, s:o}", "clusterName", c.name, "principalArn", e.principal_arn,
                       "associatedAccessPolicies", list);
    if (next)
        json_object_set_new(r->out, "nextToken", json_string(next));
    return PD_OK;
}

int pd_eks_list_access_policies(struct pd_req *r)
{
    size_t n;
    const struct pd_eks_access_policy *cat = pd_eks_access_policies(&n);
    const char **names = pd_arena_alloc(&r->arena, (n + 1) * sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = cat[i].name;
    size_t from, to;
    const char *next;
    if (page(r, "a", names, n, &from, &to, &next))
        return PD_EAWS;
    json_t *list = json_array();
    for (size_t i = from; i < to; i++)
        json_array_append_new(list,
                              json_pack("{s:s, s:s}", "name", cat[i].name, "arn", cat[i].arn));
    r->out = json_pack("{s:o}", "accessPolicies", list);
    if (next)
        json_object_set_new(r->out, "nextToken", json_string(next));
    return PD_OK;
}

/* ---- what the Kubernetes API reads ---- */

static void strings_of(struct pd_arena *a, const char *json_text, const char ***OUT, size_t *OUT_n)
{
    json_t *arr = pd_eks_parse_arr(json_text);
    size_t n = json_array_size(arr), k = 0;
    const char **v = pd_arena_zalloc(a, (n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        if (json_string_value(json_array_get(arr, i)))
            v[k++] = pd_arena_strdup(a, json_string_value(json_array_get(arr, i)));
    json_decref(arr);
    *OUT = v;
    *OUT_n = k;
}

int pd_eks_access_entries(struct pd_db *db, struct pd_arena *a, const char *cluster_id,
                          struct pd_eks_access_entry **OUT, size_t *OUT_n)
{
    struct pd_eks_db_cluster c;
    int rc = pd_eks_db_cluster_by_id(db, a, cluster_id, &c);
    if (rc)
        return rc;
    *OUT = NULL;
    *OUT_n = 0;
    if (strcmp(pd_eks_cluster_mode(&c), "CONFIG_MAP") == 0)
        return PD_OK;
    struct pd_eks_db_entry *v;
    size_t n;
    if (pd_eks_db_entry_all(db, a, c.id, &v, &n))
        return PD_EIO;
    struct pd_eks_access_entry *out = pd_arena_zalloc(a, (n + 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        struct pd_eks_entry_ref *ref = &out[i].ref;
        const char **groups;
        ref->principal_arn = v[i].principal_arn;
        ref->principal_id = v[i].principal_id;
        ref->type = v[i].type;
        ref->username = v[i].username;
        strings_of(a, v[i].groups, &groups, &ref->ngroups);
        ref->groups = groups;
        ref->entry_arn = pd_eks_entry_arn(a, &c, &v[i]);
        struct pd_eks_db_assoc *s;
        size_t ns;
        if (pd_eks_db_assoc_list(db, a, v[i].id, &s, &ns))
            return PD_EIO;
        out[i].policies = pd_arena_zalloc(a, (ns + 1) * sizeof *out[i].policies);
        out[i].npolicies = ns;
        for (size_t k = 0; k < ns; k++) {
            struct pd_eks_policy_assoc *p = &out[i].policies[k];
            const char **names;
            p->policy_arn = s[k].policy_arn;
            p->cluster_scope = strcmp(s[k].scope, "cluster") == 0;
            strings_of(a, s[k].namespaces, &names, &p->nnamespaces);
            p->namespaces = names;
        }
    }
    *OUT = out;
    *OUT_n = n;
    return PD_OK;
}

/* ---- the creator's entry ---- */

int pd_eks_bootstrap_creator(struct pd_req *r, const struct pd_eks_db_cluster *c)
{
    const char *canonical, *why;
    struct principal p;
    if (!c->creator_arn || !*c->creator_arn ||
        pd_eks_canonical_arn(&r->arena, c->creator_arn, &canonical, &why) ||
        parse_principal(&r->arena, canonical, &p)) {
        pd_log_req(PD_LOG_WARN, r->request_id,
                   "eks: cluster %s: creator %s cannot have an access entry", c->name,
                   c->creator_arn ? c->creator_arn : "");
        return PD_OK;
    }
    /* A session's canonical ARN has no path: find the role by name for its real ARN. */
    if (strcmp(p.kind, "role") == 0) {
        struct pd_iam_role role;
        if (pd_iam_db_role_get(r->db, &r->arena, p.account, p.name, &role) == PD_OK)
            parse_principal(&r->arena, role.arn, &p);
    }
    const char *pid;
    if (principal_id(r, &p, &pid)) {
        pd_log_req(PD_LOG_WARN, r->request_id,
                   "eks: cluster %s: creator %s no longer exists: no access entry", c->name, p.arn);
        return PD_OK;
    }
    struct pd_eks_db_entry e;
    if (pd_eks_db_entry_get(r->db, &r->arena, c->id, p.arn, &e) == PD_OK ||
        pd_eks_db_entry_by_principal_id(r->db, &r->arena, c->id, pid, &e) == PD_OK)
        return PD_OK;
    if (insert_entry(r, c, &p, pid, "STANDARD", NULL, NULL, NULL, &e))
        return PD_EAWS;
    struct pd_eks_db_assoc s;
    if (put_assoc(r, &e, CLUSTER_ADMIN, "cluster", NULL, &s))
        return PD_EAWS;
    pd_log_req(PD_LOG_INFO, r->request_id,
               "eks: cluster %s: access entry for its creator %s with AmazonEKSClusterAdminPolicy",
               c->name, p.arn);
    return PD_OK;
}

/* ---- authorization ---- */

int pd_eks_entry_by_arn(struct pd_req *r, const char *arn, struct pd_eks_db_cluster *OUT_c,
                        struct pd_eks_db_entry *OUT_e)
{
    struct pd_arn a;
    if (!arn || pd_arn_parse(&r->arena, arn, &a) || strcmp(a.service, "eks") != 0 ||
        !pd_has_prefix(a.resource, "access-entry/") ||
        strcmp(a.account, r->who.account_id ? r->who.account_id : "") != 0)
        return PD_ENOTFOUND;
    /* access-entry/CLUSTER/KIND/ACCOUNT/NAME/UUID */
    const char *cl = a.resource + strlen("access-entry/");
    const char *slash = strchr(cl, '/');
    const char *uuid = strrchr(a.resource, '/');
    if (!slash || !uuid || uuid <= slash)
        return PD_ENOTFOUND;
    const char *cluster = pd_arena_strndup(&r->arena, cl, (size_t)(slash - cl));
    if (pd_eks_db_cluster_get(r->db, &r->arena, a.account, a.region, cluster, OUT_c) != PD_OK)
        return PD_ENOTFOUND;
    struct pd_eks_db_entry *v;
    size_t n;
    if (pd_eks_db_entry_all(r->db, &r->arena, OUT_c->id, &v, &n))
        return PD_ENOTFOUND;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].uuid, uuid + 1) == 0 &&
            strcmp(pd_eks_entry_arn(&r->arena, OUT_c, &v[i]), arn) == 0) {
            *OUT_e = v[i];
            return PD_OK;
        }
    return PD_ENOTFOUND;
}

static void add_str(struct pd_authz_need *need, const char *key, const char *v)
{
    if (v)
        pd_ctx_add(&need->ctx, key, PD_CTX_STRING, v, (size_t)-1);
}

static void add_list(struct pd_authz_need *need, const char *key, const json_t *list)
{
    size_t i;
    json_t *x;
    pd_ctx_add_empty(&need->ctx, key);
    json_array_foreach(list, i, x)
    {
        add_str(need, key, json_string_value(x));
    }
}

static void keys_of(struct pd_req *r, struct pd_authz_need *need, const char *cluster,
                    const char *type, const char *principal, const json_t *groups,
                    const char *username)
{
    add_str(need, "eks:accessEntryType", type);
    add_str(need, "eks:clusterName", cluster);
    add_str(need, "eks:principalArn", principal);
    add_str(need, "eks:username", username);
    if (groups)
        add_list(need, "eks:kubernetesGroups", groups);
}

void pd_eks_entry_keys(struct pd_req *r, struct pd_authz_need *need,
                       const struct pd_eks_db_cluster *c, const struct pd_eks_db_entry *e)
{
    /* the request's groups and username when it names them (UpdateAccessEntry), else the
     * entry's */
    json_t *groups = json_object_get(r->in, "kubernetesGroups");
    json_t *stored = pd_eks_parse_arr(e->groups);
    const char *username = in_username(r);
    keys_of(r, need, c->name, e->type, e->principal_arn, groups ? groups : stored,
            username ? username : e->username);
    json_decref(stored);
    json_t *tags = pd_eks_parse_obj(e->tags);
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        pd_ctx_add(&need->ctx, pd_arena_printf(&r->arena, "aws:ResourceTag/%s", k), PD_CTX_STRING,
                   json_string_value(v) ? json_string_value(v) : "", (size_t)-1);
    }
    json_decref(tags);
}

int pd_eks_access_authz(struct pd_req *r, struct pd_authz_need *need)
{
    static const char *const on_cluster[] = {"CreateAccessEntry", "ListAccessEntries", NULL};
    static const char *const on_entry[] = {"DescribeAccessEntry",
                                           "UpdateAccessEntry",
                                           "DeleteAccessEntry",
                                           "AssociateAccessPolicy",
                                           "DisassociateAccessPolicy",
                                           "ListAssociatedAccessPolicies",
                                           NULL};
    const char *op = r->op->name;
    const char *action = pd_arena_printf(&r->arena, "eks:%s", op);
    if (strcmp(op, "ListAccessPolicies") == 0) {
        pd_authz_add(need, action, "*", NULL);
        return 1;
    }
    int cluster_op = in_list(on_cluster, op);
    if (!cluster_op && !in_list(on_entry, op))
        return 0;
    const char *account = r->who.account_id ? r->who.account_id : "";
    const char *region = pd_eks_region(r);
    const char *name = pd_eks_in_str(r, "clusterName");
    const char *principal = pd_eks_in_str(r, "principalArn");
    struct pd_eks_db_cluster c;
    int have_cluster =
        name && pd_eks_db_cluster_get(r->db, &r->arena, account, region, name, &c) == PD_OK;
    if (cluster_op) {
        pd_authz_add(need, action, pd_eks_cluster_arn(&r->arena, region, account, name ? name : ""),
                     NULL);
        if (have_cluster) {
            json_t *tags = pd_eks_parse_obj(c.tags);
            const char *k;
            json_t *v;
            json_object_foreach(tags, k, v)
            {
                pd_ctx_add(&need->ctx, pd_arena_printf(&r->arena, "aws:ResourceTag/%s", k),
                           PD_CTX_STRING, json_string_value(v) ? json_string_value(v) : "",
                           (size_t)-1);
            }
            json_decref(tags);
        }
        if (strcmp(op, "CreateAccessEntry") == 0) {
            const char *type = pd_eks_in_str(r, "type");
            json_t *groups = json_object_get(r->in, "kubernetesGroups");
            keys_of(r, need, NULL, type ? type : "STANDARD", principal, groups ? groups : NULL,
                    in_username(r));
            /* node entries pass the node role to EC2 */
            if (type &&
                (strcmp(type, "EC2_LINUX") == 0 || strcmp(type, "EC2_WINDOWS") == 0 ||
                 strcmp(type, "EC2") == 0) &&
                principal) {
                pd_authz_add(need, "iam:PassRole", principal, NULL);
                add_str(need, "iam:PassedToService", "ec2.amazonaws.com");
            }
        }
        return 1;
    }
    struct pd_eks_db_entry e;
    const char *arn;
    if (have_cluster && principal &&
        pd_eks_db_entry_get(r->db, &r->arena, c.id, principal, &e) == PD_OK) {
        arn = pd_eks_entry_arn(&r->arena, &c, &e);
        pd_eks_entry_keys(r, need, &c, &e);
    } else {
        /* no such entry (the handler answers 404): name what it would be */
        struct principal p;
        arn = parse_principal(&r->arena, principal, &p) == PD_OK
                  ? pd_arena_printf(&r->arena, "arn:aws:eks:%s:%s:access-entry/%s/%s/%s/%s/*",
                                    region, account, name ? name : "", p.kind, p.account, p.name)
                  : pd_arena_printf(&r->arena, "arn:aws:eks:%s:%s:access-entry/%s/*", region,
                                    account, name ? name : "");
        add_str(need, "eks:clusterName", name);
        add_str(need, "eks:principalArn", principal);
    }
    pd_authz_add(need, action, arn, NULL);
    if (strcmp(op, "AssociateAccessPolicy") == 0 || strcmp(op, "DisassociateAccessPolicy") == 0) {
        const char *policy = pd_eks_in_str(r, "policyArn");
        add_str(need, "eks:policyArn", policy);
        json_t *scope = json_object_get(r->in, "accessScope");
        struct pd_eks_db_assoc s;
        if (!scope && have_cluster && policy && principal &&
            pd_eks_db_entry_get(r->db, &r->arena, c.id, principal, &e) == PD_OK &&
            pd_eks_db_assoc_get(r->db, &r->arena, e.id, policy, &s) == PD_OK) {
            add_str(need, "eks:accessScope", s.scope);
            json_t *ns = pd_eks_parse_arr(s.namespaces);
            add_list(need, "eks:namespaces", ns);
            json_decref(ns);
        } else if (scope) {
            add_str(need, "eks:accessScope", json_string_value(json_object_get(scope, "type")));
            add_list(need, "eks:namespaces", json_object_get(scope, "namespaces"));
        }
    }
    return 1;
}

/* ---- fixtures ---- */

static const char *const fx_fields[] = {
    "principal_arn", "type", "username", "kubernetes_groups", "tags", "access_policies", NULL};

/* Run handler fn on input in (taken) as r's operation; the error as text on failure. */
static int fx_run(struct pd_req *r, pd_op_fn *fn, json_t *in, const char **OUT_why)
{
    json_decref(r->in);
    r->in = in;
    json_decref(r->out);
    r->out = NULL;
    int rc = fn(r);
    if (rc)
        *OUT_why = r->err.def
                       ? pd_arena_printf(&r->arena, "%s: %s", r->err.def->code, r->err.message)
                       : pd_strerror(rc);
    return rc ? PD_EINVAL : PD_OK;
}

int pd_eks_access_fixtures_load(struct pd_req *r, const struct pd_eks_db_cluster *c,
                                const json_t *list, const char **OUT_why)
{
    if (!list)
        return PD_OK;
    if (!json_is_array(list)) {
        *OUT_why = "\"access_entries\" must be a list";
        return PD_EINVAL;
    }
    /* the list is the whole truth: entries EKS made itself (the creator's) go first */
    struct pd_eks_db_entry *v;
    size_t n;
    if (pd_eks_db_entry_all(r->db, &r->arena, c->id, &v, &n)) {
        *OUT_why = "cannot read access entries";
        return PD_EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        pd_eks_db_entry_del(r->db, v[i].id);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *why = NULL;
        const char *key;
        json_t *val;
        if (!json_is_object(e)) {
            *OUT_why = pd_arena_printf(&r->arena, "access_entries[%zu]: expected an object", i);
            return PD_EINVAL;
        }
        json_object_foreach(e, key, val)
        {
            if (!in_list(fx_fields, key)) {
                *OUT_why = pd_arena_printf(&r->arena,
                                           "access_entries[%zu]: unknown field %s (known fields: "
                                           "principal_arn, type, username, kubernetes_groups, "
                                           "tags, access_policies)",
                                           i, key);
                return PD_EINVAL;
            }
        }
        const char *arn = json_string_value(json_object_get(e, "principal_arn"));
        if (!arn) {
            *OUT_why = pd_arena_printf(&r->arena,
                                       "access_entries[%zu]: \"principal_arn\" is "
                                       "required",
                                       i);
            return PD_EINVAL;
        }
        json_t *in = json_pack("{s:s, s:s}", "clusterName", c->name, "principalArn", arn);
        const char *copy[][2] = {{"type", "type"},
                                 {"username", "username"},
                                 {"kubernetes_groups", "kubernetesGroups"},
                                 {"tags", "tags"}};
        for (size_t k = 0; k < 4; k++)
            if (json_object_get(e, copy[k][0]))
                json_object_set(in, copy[k][1], json_object_get(e, copy[k][0]));
        if (fx_run(r, pd_eks_create_access_entry, in, &why)) {
            *OUT_why = pd_arena_printf(&r->arena, "access_entries[%zu] (%s): %s", i, arn, why);
            return PD_EINVAL;
        }
        size_t j;
        json_t *pol;
        json_array_foreach(json_object_get(e, "access_policies"), j, pol)
        {
            json_t *pin =
                json_pack("{s:s, s:s, s:O*, s:O*}", "clusterName", c->name, "principalArn", arn,
                          "policyArn", json_object_get(pol, "policy_arn"), "accessScope",
                          json_object_get(pol, "access_scope"));
            if (!pin || fx_run(r, pd_eks_associate_access_policy, pin, &why)) {
                *OUT_why = pd_arena_printf(&r->arena,
                                           "access_entries[%zu].access_policies[%zu]: "
                                           "%s",
                                           i, j, pin ? why : "policy_arn must be a string");
                return PD_EINVAL;
            }
        }
    }
    return PD_OK;
}

json_t *pd_eks_access_fixtures_export(struct pd_db *db, struct pd_arena *a,
                                      const struct pd_eks_db_cluster *c)
{
    json_t *list = json_array();
    struct pd_eks_db_entry *v;
    size_t n;
    if (pd_eks_db_entry_all(db, a, c->id, &v, &n))
        return list;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s}", "principal_arn", v[i].principal_arn);
        int standard = strcmp(v[i].type, "STANDARD") == 0;
        if (!standard)
            json_object_set_new(o, "type", json_string(v[i].type));
        if (strcmp(v[i].username, pd_eks_default_username(a, v[i].principal_arn, v[i].type)))
            json_object_set_new(o, "username", json_string(v[i].username));
        json_t *groups = pd_eks_parse_arr(v[i].groups);
        if (standard && json_array_size(groups))
            json_object_set(o, "kubernetes_groups", groups);
        json_decref(groups);
        json_t *tags = pd_eks_parse_obj(v[i].tags);
        if (json_object_size(tags))
            json_object_set(o, "tags", tags);
        json_decref(tags);
        struct pd_eks_db_assoc *s;
        size_t ns;
        if (pd_eks_db_assoc_list(db, a, v[i].id, &s, &ns) == PD_OK && ns) {
            json_t *pols = json_array();
            for (size_t k = 0; k < ns; k++) {
                json_t *scope = json_pack("{s:s}", "type", s[k].scope);
                json_t *names = pd_eks_parse_arr(s[k].namespaces);
                if (json_array_size(names))
                    json_object_set(scope, "namespaces", names);
                json_decref(names);
                json_array_append_new(pols, json_pack("{s:s, s:o}", "policy_arn", s[k].policy_arn,
                                                      "access_scope", scope));
            }
            json_object_set_new(o, "access_policies", pols);
        }
        json_array_append_new(list, o);
    }
    return list;
}
