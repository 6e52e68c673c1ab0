/*
 * eks.c - the EKS service (rest-json): clusters, their config updates and tags.
 *
 * A cluster lives in the account and region of the request (the SigV4 scope's region). It
 * is ACTIVE as soon as CreateCluster returns (no control plane to wait for; `aws eks
 * update-kubeconfig` refuses a CREATING cluster). Each cluster gets a 32-hex id from the
 * seeded id generator, an OIDC issuer https://oidc.eks.REGION.amazonaws.com/id/ID hosted by
 * services/oidc.c with its own RSA key, and a Kubernetes endpoint on podiam's TLS listener
 * (https://127.0.0.1:TLSPORT/_podiam/k8s/ID) whose certificateAuthority.data is podiam's CA.
 * Config updates apply at once; the update object answers InProgress as EKS does and
 * DescribeUpdate shows it Successful. The creator's ARN is kept. accessConfig's
 * authenticationMode moves one step at a time, never back (CONFIG_MAP -> API_AND_CONFIG_MAP
 * -> API); in a mode with access entries the creator gets one (eks_access.c, which also has
 * the access entry and access policy operations this file's table lists).
 */
#include "services/eks.h"

#include <stdlib.h>
#include <string.h>

#include "auth/policy_cache.h"
#include "auth/secrets.h"
#include "core/arena.h"
#include "core/arn.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"
#include "env.h"
#include "k8s/k8s.h"
#include "services/oidc.h"
#include "services/eks_internal.h"
#include "services/service.h"
#include "store/eks_db.h"
#include "store/iam_db.h"

const struct pd_awserr pd_eks_ResourceInUse = {"ResourceInUseException", 409, 0};
const struct pd_awserr pd_eks_ResourceNotFound = {"ResourceNotFoundException", 404, 0};
const struct pd_awserr pd_eks_InvalidParameter = {"InvalidParameterException", 400, 0};
const struct pd_awserr pd_eks_InvalidRequest = {"InvalidRequestException", 400, 0};
const struct pd_awserr pd_eks_NotFound = {"NotFoundException", 404, 0};
const struct pd_awserr pd_eks_BadRequest = {"BadRequestException", 400, 0};
/* EKS's denial (rest-json, the model's AccessDeniedException), not IAM's AccessDenied */
const struct pd_awserr pd_eks_AccessDenied = {"AccessDeniedException", 403, 0};

#define DEFAULT_VERSION "1.32"
#define PLATFORM_VERSION "eks.1"

static const char *const versions[] = {"1.28", "1.29", "1.30", "1.31",
                                       "1.32", "1.33", "1.34", NULL};
static const char *const log_types[] = {"api",       "audit", "authenticator", "controllerManager",
                                        "scheduler", NULL};

/* ---- helpers ---- */

const char *pd_eks_region(struct pd_req *r)
{
    return r->region[0] ? r->region : r->env->cfg.region;
}

const char *pd_eks_in_str(struct pd_req *r, const char *member)
{
    return json_string_value(json_object_get(r->in, member));
}

const char *pd_eks_cluster_arn(struct pd_arena *a, const char *region, const char *account,
                               const char *name)
{
    return pd_arena_printf(a, "arn:aws:eks:%s:%s:cluster/%s", region, account, name);
}

static void to_public(struct pd_eks_db_cluster *row, struct pd_arena *a, struct pd_eks_cluster *OUT)
{
    OUT->account_id = row->account_id;
    OUT->region = row->region;
    OUT->name = row->name;
    OUT->arn = pd_eks_cluster_arn(a, row->region, row->account_id, row->name);
    OUT->id = row->cluster_id;
    OUT->issuer = row->issuer;
    OUT->status = row->status;
    OUT->version = row->version;
    OUT->creator_arn = row->creator_arn;
    OUT->role_arn = row->role_arn;
    OUT->created_ms = row->created_ms;
    OUT->auth_mode = pd_eks_cluster_mode(row);
}

int pd_eks_cluster_by_id(struct pd_db *db, struct pd_arena *a, const char *id,
                         struct pd_eks_cluster *OUT)
{
    struct pd_eks_db_cluster row;
    int rc = pd_eks_db_cluster_by_id(db, a, id, &row);
    if (rc == PD_OK)
        to_public(&row, a, OUT);
    return rc;
}

int pd_eks_cluster_by_name(struct pd_db *db, struct pd_arena *a, const char *account,
                           const char *region, const char *name, struct pd_eks_cluster *OUT)
{
    struct pd_eks_db_cluster row;
    int rc = pd_eks_db_cluster_get(db, a, account, region, name, &row);
    if (rc == PD_OK)
        to_public(&row, a, OUT);
    return rc;
}

int pd_eks_cluster_by_issuer(struct pd_db *db, struct pd_arena *a, const char *url,
                             struct pd_eks_cluster *OUT)
{
    struct pd_eks_db_cluster row;
    int rc = pd_eks_db_cluster_by_issuer(db, a, url, &row);
    if (rc == PD_OK)
        to_public(&row, a, OUT);
    return rc;
}

json_t *pd_eks_parse_obj(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(v)) {
        json_decref(v);
        v = json_object();
    }
    return v;
}

json_t *pd_eks_parse_arr(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(v)) {
        json_decref(v);
        v = json_array();
    }
    return v;
}

const char *pd_eks_cluster_mode(const struct pd_eks_db_cluster *c)
{
    /* the config text holds {"accessConfig": {"authenticationMode": "…"}, …} */
    json_t *cfg = pd_eks_parse_obj(c->config);
    const char *m = json_string_value(
        json_object_get(json_object_get(cfg, "accessConfig"), "authenticationMode"));
    const char *out = "CONFIG_MAP";
    if (m && strcmp(m, "API") == 0)
        out = "API";
    else if (m && strcmp(m, "API_AND_CONFIG_MAP") == 0)
        out = "API_AND_CONFIG_MAP";
    json_decref(cfg);
    return out;
}

char *pd_eks_dump(struct pd_arena *a, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *out = pd_arena_strdup(a, s ? s : "{}");
    free(s);
    return out;
}

static int not_found(struct pd_req *r, const char *name)
{
    pd_fail(r, &pd_eks_ResourceNotFound, "No cluster found for name: %s.", name);
    r->err.extra = json_pack("{s:s}", "clusterName", name);
    return PD_EAWS;
}

/* The cluster the request's "name" names, in the caller's account and region. */
int pd_eks_load(struct pd_req *r, const char *name, struct pd_eks_db_cluster *OUT)
{
    int rc =
        pd_eks_db_cluster_get(r->db, &r->arena, r->who.account_id, pd_eks_region(r), name, OUT);
    if (rc == PD_ENOTFOUND)
        return not_found(r, name);
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the cluster");
    return PD_OK;
}

/* The wire Cluster object of a stored cluster. */
static json_t *cluster_json(struct pd_req *r, const struct pd_eks_db_cluster *c)
{
    json_t *cfg = pd_eks_parse_obj(c->config);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(
        o, "arn", json_string(pd_eks_cluster_arn(&r->arena, c->region, c->account_id, c->name)));
    json_object_set_new(o, "createdAt", json_integer((json_int_t)c->created_ms));
    json_object_set_new(o, "version", json_string(c->version));
    if (r->env->https_port > 0)
        json_object_set_new(
            o, "endpoint",
            json_string(pd_arena_printf(&r->arena, "https://127.0.0.1:%d/_podiam/k8s/%s",
                                        r->env->https_port, c->cluster_id)));
    json_object_set_new(o, "roleArn", json_string(c->role_arn));
    const char *keys[] = {"resourcesVpcConfig", "kubernetesNetworkConfig", "logging", NULL};
    for (const char *const *k = keys; *k; k++)
        if (json_object_get(cfg, *k))
            json_object_set(o, *k, json_object_get(cfg, *k));
    json_object_set_new(o, "identity", json_pack("{s:{s:s}}", "oidc", "issuer", c->issuer));
    json_object_set_new(o, "status", json_string(c->status));
    const char *ca = r->env->secrets ? r->env->secrets->ca_cert_pem : NULL;
    if (ca)
        json_object_set_new(
            o, "certificateAuthority",
            json_pack("{s:s}", "data", pd_base64_encode(&r->arena, ca, strlen(ca), 0)));
    if (json_object_get(cfg, "clientRequestToken"))
        json_object_set(o, "clientRequestToken", json_object_get(cfg, "clientRequestToken"));
    json_object_set_new(o, "platformVersion", json_string(c->platform_version));
    json_object_set_new(o, "tags", pd_eks_parse_obj(c->tags));
    const char *more[] = {"encryptionConfig", "accessConfig", "upgradePolicy", NULL};
    for (const char *const *k = more; *k; k++)
        if (json_object_get(cfg, *k))
            json_object_set(o, *k, json_object_get(cfg, *k));
    json_object_set_new(o, "health", json_pack("{s:[]}", "issues"));
    json_decref(cfg);
    return o;
}

static int bool_or(json_t *o, const char *key, int dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static json_t *list_or_empty(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_array(v) ? json_deep_copy(v) : json_array();
}

/* Logging as EKS reports it: enabled types in one entry, disabled ones in another. */
static json_t *logging_json(const int enabled[5])
{
    json_t *on = json_array(), *off = json_array();
    for (int i = 0; log_types[i]; i++)
        json_array_append_new(enabled[i] ? on : off, json_string(log_types[i]));
    json_t *list = json_array();
    if (json_array_size(on))
        json_array_append_new(list, json_pack("{s:o, s:b}", "types", on, "enabled", 1));
    else
        json_decref(on);
    if (json_array_size(off))
        json_array_append_new(list, json_pack("{s:o, s:b}", "types", off, "enabled", 0));
    else
        json_decref(off);
    return json_pack("{s:o}", "clusterLogging", list);
}

/* Apply a requested logging setup to enabled[] (types not named keep their state). */
static int apply_logging(struct pd_req *r, json_t *logging, int enabled[5])
{
    size_t i, j;
    json_t *e, *t;
    json_array_foreach(json_object_get(logging, "clusterLogging"), i, e)
    {
        int on = bool_or(e, "enabled", 0);
        json_array_foreach(json_object_get(e, "types"), j, t)
        {
            const char *name = json_string_value(t);
            int k;
            for (k = 0; log_types[k] && strcmp(log_types[k], name ? name : "") != 0; k++)
                ;
            if (!log_types[k])
                return pd_fail(r, &pd_eks_InvalidParameter, "Invalid log type: %s",
                               name ? name : "");
            enabled[k] = on;
        }
    }
    return PD_OK;
}

static void logging_state(json_t *cfg, int enabled[5])
{
    memset(enabled, 0, 5 * sizeof *enabled);
    size_t i, j;
    json_t *e, *t;
    json_array_foreach(json_object_get(json_object_get(cfg, "logging"), "clusterLogging"), i, e)
    {
        int on = bool_or(e, "enabled", 0);
        json_array_foreach(json_object_get(e, "types"), j, t)
        {
            for (int k = 0; log_types[k]; k++)
                if (strcmp(log_types[k], json_string_value(t) ? json_string_value(t) : "") == 0)
                    enabled[k] = on;
        }
    }
}

static const char *const auth_modes[] = {"CONFIG_MAP", "API_AND_CONFIG_MAP", "API", NULL};

static int auth_mode_rank(const char *m)
{
    for (int i = 0; auth_modes[i]; i++)
        if (m && strcmp(auth_modes[i], m) == 0)
            return i;
    return -1;
}

/* The role a CreateCluster names must exist in the account and trust eks.amazonaws.com. */
static int check_cluster_role(struct pd_req *r, const char *arn)
{
    const char *msg = "Role with arn: %s, could not be assumed because it does not exist or the "
                      "trusted entity is not correct";
    struct pd_arn a;
    const char *type, *name;
    if (pd_arn_parse(&r->arena, arn, &a) || strcmp(a.service, "iam") != 0 ||
        pd_arn_resource_split(&r->arena, a.resource, &type, NULL, &name) ||
        strcmp(type, "role") != 0)
        return pd_fail(r, &pd_eks_InvalidParameter, msg, arn);
    struct pd_iam_role role;
    if (pd_iam_db_role_get(r->db, &r->arena, a.account, name, &role) || strcmp(role.arn, arn) != 0)
        return pd_fail(r, &pd_eks_InvalidParameter, msg, arn);
    char err[256];
    const char *why = NULL;
    struct pd_cached_policy *h = NULL;
    if (pd_policy_cache_get(r->env->policies, PD_POLICY_TRUST, role.trust_policy,
                            strlen(role.trust_policy), err, sizeof err, &h, &why))
        return pd_fail(r, &pd_eks_InvalidParameter, msg, arn);
    struct pd_principal_id svc = {.type = PD_PRINCIPAL_SERVICE, .service = "eks.amazonaws.com"};
    struct pd_ctx ctx;
    pd_ctx_init(&ctx, &r->arena);
    enum pd_decision d = pd_policy_eval_one(&r->arena, pd_cached_policy_get(h), "sts:AssumeRole",
                                            role.arn, &svc, &ctx);
    pd_policy_cache_release(r->env->policies, h);
    if (d != PD_DECISION_ALLOW)
        return pd_fail(r, &pd_eks_InvalidParameter, msg, arn);
    return PD_OK;
}

/* ---- operations ---- */

/* Create a cluster from input in (the API's members). fixed_id / key_pem / created_ms / creator
 * may pin what fixtures pin (NULL / 0: generated, now, the caller). */
static int create_cluster_with(struct pd_req *r, const char *fixed_id, const char *key_pem,
                               int64_t created_ms, const char *creator)
{
    const char *name = pd_eks_in_str(r, "name");
    const char *role_arn = pd_eks_in_str(r, "roleArn");
    const char *version = pd_eks_in_str(r, "version");
    const char *region = pd_eks_region(r);
    if (!version)
        version = DEFAULT_VERSION;
    int ok = 0;
    for (const char *const *v = versions; *v && !ok; v++)
        ok = strcmp(*v, version) == 0;
    if (!ok)
        return pd_fail(r, &pd_eks_InvalidParameter, "unsupported Kubernetes version %s", version);
    json_t *ac_in = json_object_get(r->in, "accessConfig");
    const char *mode = json_string_value(json_object_get(ac_in, "authenticationMode"));
    int bootstrap = bool_or(ac_in, "bootstrapClusterCreatorAdminPermissions", 1);
    if (!mode)
        mode = "CONFIG_MAP";
    if (auth_mode_rank(mode) < 0)
        return pd_fail(r, &pd_eks_InvalidParameter, "Unsupported authentication mode: %s", mode);
    if (!bootstrap && strcmp(mode, "CONFIG_MAP") == 0)
        return pd_fail(r, &pd_eks_InvalidParameter,
                       "bootstrapClusterCreatorAdminPermissions must be true if cluster "
                       "authentication mode is set to CONFIG_MAP");
    if (!role_arn || check_cluster_role(r, role_arn))
        return role_arn ? PD_EAWS : pd_fail(r, &pd_eks_InvalidParameter, "roleArn is required");

    struct pd_eks_db_cluster existing;
    if (pd_eks_db_cluster_get(r->db, &r->arena, r->who.account_id, region, name, &existing) ==
        PD_OK) {
        pd_fail(r, &pd_eks_ResourceInUse, "Cluster already exists with name: %s", name);
        r->err.extra = json_pack("{s:s}", "clusterName", name);
        return PD_EAWS;
    }

    json_t *vpc_in = json_object_get(r->in, "resourcesVpcConfig");
    char hex[18];
    json_t *vpc = json_object();
    json_object_set_new(vpc, "subnetIds", list_or_empty(vpc_in, "subnetIds"));
    json_object_set_new(vpc, "securityGroupIds", list_or_empty(vpc_in, "securityGroupIds"));
    pd_ids_hex(&r->env->ids, 17, 0, hex);
    json_object_set_new(vpc, "clusterSecurityGroupId",
                        json_string(pd_arena_printf(&r->arena, "sg-%s", hex)));
    pd_ids_hex(&r->env->ids, 17, 0, hex);
    json_object_set_new(vpc, "vpcId", json_string(pd_arena_printf(&r->arena, "vpc-%s", hex)));
    int pub = bool_or(vpc_in, "endpointPublicAccess", 1);
    int priv = bool_or(vpc_in, "endpointPrivateAccess", 0);
    json_object_set_new(vpc, "endpointPublicAccess", json_boolean(pub));
    json_object_set_new(vpc, "endpointPrivateAccess", json_boolean(priv));
    json_t *cidrs = json_object_get(vpc_in, "publicAccessCidrs");
    json_object_set_new(vpc, "publicAccessCidrs",
                        json_array_size(cidrs) ? json_deep_copy(cidrs)
                                               : json_pack("[s]", "0.0.0.0/0"));

    json_t *net_in = json_object_get(r->in, "kubernetesNetworkConfig");
    const char *cidr = json_string_value(json_object_get(net_in, "serviceIpv4Cidr"));
    const char *family = json_string_value(json_object_get(net_in, "ipFamily"));
    json_t *net = json_pack("{s:s, s:s}", "serviceIpv4Cidr", cidr ? cidr : "10.100.0.0/16",
                            "ipFamily", family ? family : "ipv4");
    if (json_object_get(net_in, "elasticLoadBalancing"))
        json_object_set(net, "elasticLoadBalancing",
                        json_object_get(net_in, "elasticLoadBalancing"));

    int enabled[5] = {0};
    json_t *cfg = json_object();
    json_object_set_new(cfg, "resourcesVpcConfig", vpc);
    json_object_set_new(cfg, "kubernetesNetworkConfig", net);
    int rc = apply_logging(r, json_object_get(r->in, "logging"), enabled);
    if (rc) {
        json_decref(cfg);
        return rc;
    }
    json_object_set_new(cfg, "logging", logging_json(enabled));
    json_object_set_new(cfg, "accessConfig",
                        json_pack("{s:b, s:s}", "bootstrapClusterCreatorAdminPermissions",
                                  bootstrap, "authenticationMode", mode));
    json_object_set_new(cfg, "upgradePolicy", json_pack("{s:s}", "supportType", "STANDARD"));
    const char *copied[] = {"encryptionConfig", "clientRequestToken", NULL};
    for (const char *const *k = copied; *k; k++)
        if (json_object_get(r->in, *k))
            json_object_set(cfg, *k, json_object_get(r->in, *k));
    json_t *tags = json_object_get(r->in, "tags");

    char id[33];
    if (fixed_id)
        snprintf(id, sizeof id, "%s", fixed_id);
    else
        pd_ids_hex(&r->env->ids, 32, 1, id);
    struct pd_eks_db_cluster row = {
        .account_id = r->who.account_id,
        .region = region,
        .name = name,
        .cluster_id = id,
        .issuer = pd_arena_printf(&r->arena, "https://oidc.eks.%s.amazonaws.com/id/%s", region, id),
        .status = "ACTIVE",
        .version = version,
        .platform_version = PLATFORM_VERSION,
        .role_arn = role_arn,
        .creator_arn = creator ? creator : (r->who.arn ? r->who.arn : ""),
        .created_ms = created_ms ? created_ms : pd_clock_now_ms(&r->env->clock),
        .config = pd_eks_dump(&r->arena, cfg),
        .tags = tags ? pd_eks_dump(&r->arena, tags) : "{}",
    };
    json_decref(cfg);
    rc = pd_eks_db_cluster_put(r->db, &row);
    if (rc == PD_ECONFLICT)
        return pd_fail(r, &pd_eks_ResourceInUse, "A cluster with id %s exists already.", id);
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot store the cluster");
    const char *why = NULL;
    rc = pd_oidc_issuer_create(r->env, r->db, row.issuer, key_pem, &why);
    if (rc == PD_EINVAL || rc == PD_ECONFLICT)
        return pd_fail(r, &pd_eks_InvalidParameter, "%s", why);
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot make the cluster's OIDC issuer");
    if (bootstrap && strcmp(mode, "CONFIG_MAP") != 0 && pd_eks_bootstrap_creator(r, &row))
        return PD_EAWS;
    r->out = json_pack("{s:o}", "cluster", cluster_json(r, &row));
    pd_log_req(PD_LOG_INFO, r->request_id, "eks: cluster %s (%s) issuer %s", name, id, row.issuer);
    return PD_OK;
}

static int create_cluster(struct pd_req *r)
{
    return create_cluster_with(r, NULL, NULL, 0, NULL);
}

static int describe_cluster(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    if (pd_eks_load(r, pd_eks_in_str(r, "name"), &c))
        return PD_EAWS;
    r->out = json_pack("{s:o}", "cluster", cluster_json(r, &c));
    return PD_OK;
}

static int delete_cluster(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    if (pd_eks_load(r, pd_eks_in_str(r, "name"), &c))
        return PD_EAWS;
    if (pd_eks_db_cluster_del(r->db, c.id) || pd_oidc_issuer_delete(r->db, c.issuer))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot delete the cluster");
    pd_k8s_state_changed(r->env, c.cluster_id); /* its watches end */
    c.status = "DELETING";
    r->out = json_pack("{s:o}", "cluster", cluster_json(r, &c));
    return PD_OK;
}

static int list_clusters(struct pd_req *r)
{
    json_t *mr = json_object_get(r->in, "maxResults");
    size_t limit = mr ? (size_t)json_integer_value(mr) : 100;
    const char *token = pd_eks_in_str(r, "nextToken");
    const char *after = NULL;
    if (token) {
        unsigned char *dec;
        size_t n;
        if (pd_base64_decode(&r->arena, token, strlen(token), &dec, &n) || n < 2 || dec[0] != 'c' ||
            dec[1] != ':')
            return pd_fail(r, &pd_eks_InvalidParameter, "The nextToken is invalid.");
        after = pd_arena_strndup(&r->arena, (const char *)dec + 2, n - 2);
    }
    const char **names;
    size_t n;
    int more;
    if (pd_eks_db_cluster_names(r->db, &r->arena, r->who.account_id, pd_eks_region(r), after, limit,
                                &names, &n, &more))
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot list clusters");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(names[i]));
    r->out = json_pack("{s:o}", "clusters", list);
    if (more) {
        const char *raw = pd_arena_printf(&r->arena, "c:%s", names[n - 1]);
        json_object_set_new(r->out, "nextToken",
                            json_string(pd_base64_encode(&r->arena, raw, strlen(raw), 1)));
    }
    return PD_OK;
}

/* Record an update and answer it (InProgress, as EKS answers; stored as Successful). */
static int answer_update(struct pd_req *r, const struct pd_eks_db_cluster *c, const char *type,
                         json_t *params)
{
    char id[37];
    pd_ids_uuid(&r->env->ids, id);
    int64_t now = pd_clock_now_ms(&r->env->clock);
    json_t *u = json_pack("{s:s, s:s, s:s, s:o, s:I, s:[]}", "id", id, "status", "Successful",
                          "type", type, "params", params, "createdAt", (json_int_t)now, "errors");
    int rc = pd_eks_db_update_put(r->db, c->id, id, now, pd_eks_dump(&r->arena, u));
    json_object_set_new(u, "status", json_string("InProgress"));
    if (rc) {
        json_decref(u);
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot store the update");
    }
    r->out = json_pack("{s:o}", "update", u);
    return PD_OK;
}

static json_t *param(const char *type, const char *value)
{
    return json_pack("{s:s, s:s}", "type", type, "value", value);
}

static int update_cluster_config(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    if (pd_eks_load(r, pd_eks_in_str(r, "name"), &c))
        return PD_EAWS;
    static const char *const kinds[] = {"resourcesVpcConfig",
                                        "logging",
                                        "accessConfig",
                                        "upgradePolicy",
                                        "zonalShiftConfig",
                                        "computeConfig",
                                        "storageConfig",
                                        "kubernetesNetworkConfig",
                                        "remoteNetworkConfig",
                                        "deletionProtection",
                                        "controlPlaneScalingConfig",
                                        NULL};
    const char *kind = NULL;
    int nkinds = 0;
    for (const char *const *k = kinds; *k; k++)
        if (json_object_get(r->in, *k)) {
            kind = *k;
            nkinds++;
        }
    if (nkinds != 1)
        return pd_fail(r, &pd_eks_InvalidParameter, "Only one type of update can be allowed.");
    json_t *cfg = pd_eks_parse_obj(c.config);
    json_t *req = json_object_get(r->in, kind);
    int rc = PD_OK;
    const char *type = NULL;
    json_t *params = json_array();
    if (strcmp(kind, "logging") == 0) {
        int before[5], after[5];
        logging_state(cfg, before);
        memcpy(after, before, sizeof after);
        rc = apply_logging(r, req, after);
        if (rc == PD_OK && memcmp(before, after, sizeof after) == 0)
            rc = pd_fail(r, &pd_eks_InvalidParameter,
                         "No changes needed for the logging config "
                         "provided");
        if (rc == PD_OK) {
            json_object_set_new(cfg, "logging", logging_json(after));
            type = "LoggingUpdate";
            json_array_append_new(params, param("ClusterLogging", pd_eks_dump(&r->arena, req)));
        }
    } else if (strcmp(kind, "resourcesVpcConfig") == 0) {
        json_t *vpc = json_object_get(cfg, "resourcesVpcConfig");
        int pub = bool_or(req, "endpointPublicAccess", bool_or(vpc, "endpointPublicAccess", 1));
        int priv = bool_or(req, "endpointPrivateAccess", bool_or(vpc, "endpointPrivateAccess", 0));
        json_t *cidrs = json_object_get(req, "publicAccessCidrs");
        if (!pub && !priv)
            rc = pd_fail(r, &pd_eks_InvalidParameter,
                         "Private and public endpoint access cannot both be disabled.");
        if (rc == PD_OK) {
            type = "EndpointAccessUpdate";
            json_object_set_new(vpc, "endpointPublicAccess", json_boolean(pub));
            json_object_set_new(vpc, "endpointPrivateAccess", json_boolean(priv));
            if (json_object_get(req, "endpointPublicAccess"))
                json_array_append_new(params,
                                      param("EndpointPublicAccess", pub ? "true" : "false"));
            if (json_object_get(req, "endpointPrivateAccess"))
                json_array_append_new(params,
                                      param("EndpointPrivateAccess", priv ? "true" : "false"));
            if (json_array_size(cidrs)) {
                json_object_set(vpc, "publicAccessCidrs", cidrs);
                json_array_append_new(params,
                                      param("PublicAccessCidrs", pd_eks_dump(&r->arena, cidrs)));
            }
            const char *lists[][2] = {{"subnetIds", "Subnets"},
                                      {"securityGroupIds", "SecurityGroups"}};
            for (size_t i = 0; i < 2; i++) {
                json_t *l = json_object_get(req, lists[i][0]);
                if (l) {
                    json_object_set(vpc, lists[i][0], l);
                    json_array_append_new(params, param(lists[i][1], pd_eks_dump(&r->arena, l)));
                    type = "VpcConfigUpdate";
                }
            }
        }
    } else if (strcmp(kind, "accessConfig") == 0) {
        json_t *ac = json_object_get(cfg, "accessConfig");
        const char *cur = json_string_value(json_object_get(ac, "authenticationMode"));
        const char *want = json_string_value(json_object_get(req, "authenticationMode"));
        /* a copy: ac's value is replaced below */
        cur = pd_arena_strdup(&r->arena, cur ? cur : "CONFIG_MAP");
        /* only one step at a time, never back: CONFIG_MAP -> API_AND_CONFIG_MAP -> API */
        if (!want)
            rc = pd_fail(r, &pd_eks_InvalidParameter, "authenticationMode is required");
        else if (auth_mode_rank(want) < 0 || auth_mode_rank(want) != auth_mode_rank(cur) + 1)
            rc = pd_fail(r, &pd_eks_InvalidParameter,
                         "Unsupported authentication mode update from %s to %s", cur, want);
        if (rc == PD_OK) {
            json_object_set_new(ac, "authenticationMode", json_string(want));
            type = "AccessConfigUpdate";
            /* EKS reports the value JSON-quoted: "\"API_AND_CONFIG_MAP\"" */
            json_array_append_new(
                params, param("AuthenticationMode", pd_arena_printf(&r->arena, "\"%s\"", want)));
            /* Leaving CONFIG_MAP makes the creator's (so far hidden) admin an access entry. */
            if (strcmp(cur, "CONFIG_MAP") == 0 &&
                bool_or(ac, "bootstrapClusterCreatorAdminPermissions", 1)) {
                struct pd_eks_db_cluster now = c;
                now.config = pd_eks_dump(&r->arena, cfg);
                rc = pd_eks_bootstrap_creator(r, &now);
            }
        }
    } else {
        rc = pd_fail(r, &pd_eks_InvalidParameter,
                     "podiam does not support updating %s (supported: logging, "
                     "resourcesVpcConfig, accessConfig)",
                     kind);
    }
    if (rc == PD_OK && pd_eks_db_cluster_set(r->db, c.id, pd_eks_dump(&r->arena, cfg), c.tags))
        rc = pd_fail(r, &PD_ERR_InternalFailure, "cannot store the cluster");
    json_decref(cfg);
    if (rc) {
        json_decref(params);
        return rc;
    }
    return answer_update(r, &c, type, params);
}

static int describe_update(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    if (pd_eks_load(r, pd_eks_in_str(r, "name"), &c))
        return PD_EAWS;
    const char *uid = pd_eks_in_str(r, "updateId");
    if (pd_eks_in_str(r, "nodegroupName") || pd_eks_in_str(r, "addonName") ||
        pd_eks_in_str(r, "capabilityName"))
        return pd_fail(r, &pd_eks_ResourceNotFound, "No update found for ID: %s.", uid);
    const char *doc;
    int rc = pd_eks_db_update_get(r->db, &r->arena, c.id, uid, &doc);
    if (rc == PD_ENOTFOUND)
        return pd_fail(r, &pd_eks_ResourceNotFound, "No update found for ID: %s.", uid);
    if (rc)
        return pd_fail(r, &PD_ERR_InternalFailure, "cannot read the update");
    r->out = json_pack("{s:o}", "update", pd_eks_parse_obj(doc));
    return PD_OK;
}

static int list_updates(struct pd_req *r)
{
    struct pd_eks_db_cluster c;
    if (pd_eks_load(r, pd_eks_in_str(r, "name"), &c))
        return PD_EAWS;
    const char **ids = NULL;
    size_t n = 0;
    json_t *list = json_array();
    if (!pd_eks_in_str(r, "nodegroupName") && !pd_eks_in_str(r, "addonName") &&
        pd_eks_db_update_ids(r->db, &r->arena, c.id, &ids, &n) == PD_OK)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, json_string(ids[i]));
    r->out = json_pack("{s:o}", "updateIds", list);
    return PD_OK;
}

/* What a tagging ARN names (caller's account; any region): a cluster, or an access entry
 * (entry->id != 0). */
struct tagged {
    struct pd_eks_db_cluster c;
    struct pd_eks_db_entry e; /* e.id 0: the cluster itself */
    struct pd_eks_db_podid p; /* p.id 0: not a Pod Identity association */
};

/* A Pod Identity association ARN (…:podidentityassociation/CLUSTER/a-…) of the caller's
 * account: its cluster and association, PD_OK; else PD_ENOTFOUND. */
static int podid_by_arn(struct pd_req *r, const struct pd_arn *a, const char *path, const char *id,
                        struct tagged *OUT)
{
    size_t n = path ? strlen(path) : 0;
    if (n < 3 || path[0] != '/' || path[n - 1] != '/' || memchr(path + 1, '/', n - 2) ||
        strcmp(a->account, r->who.account_id ? r->who.account_id : "") != 0)
        return PD_ENOTFOUND;
    const char *cluster = pd_arena_strndup(&r->arena, path + 1, n - 2);
    if (pd_eks_db_cluster_get(r->db, &r->arena, a->account, a->region, cluster, &OUT->c) != PD_OK ||
        pd_eks_db_podid_get(r->db, &r->arena, OUT->c.id, id, &OUT->p) != PD_OK)
        return PD_ENOTFOUND;
    return PD_OK;
}

static int tag_target(struct pd_req *r, struct tagged *OUT)
{
    const char *arn = pd_eks_in_str(r, "resourceArn");
    struct pd_arn a;
    const char *type, *name, *path;
    memset(OUT, 0, sizeof *OUT);
    if (!arn || pd_arn_parse(&r->arena, arn, &a) || strcmp(a.service, "eks") != 0 ||
        pd_arn_resource_split(&r->arena, a.resource, &type, &path, &name))
        return pd_fail(r, &pd_eks_BadRequest, "Invalid ARN: %s", arn ? arn : "");
    if (strcmp(type, "podidentityassociation") == 0) {
        if (podid_by_arn(r, &a, path, name, OUT) != PD_OK)
            return pd_fail(r, &pd_eks_NotFound, "Resource was not found: %s", arn);
        return PD_OK;
    }
    if (strcmp(type, "access-entry") == 0) {
        if (pd_eks_entry_by_arn(r, arn, &OUT->c, &OUT->e) != PD_OK)
            return pd_fail(r, &pd_eks_NotFound, "Resource was not found: %s", arn);
        return PD_OK;
    }
    if (strcmp(type, "cluster") != 0 ||
        strcmp(a.account, r->who.account_id ? r->who.account_id : "") != 0 ||
        pd_eks_db_cluster_get(r->db, &r->arena, a.account, a.region, name, &OUT->c) != PD_OK)
        return pd_fail(r, &pd_eks_NotFound, "Resource was not found: %s", arn);
    return PD_OK;
}

static const char *tagged_tags(const struct tagged *t)
{
    return t->p.id ? t->p.tags : t->e.id ? t->e.tags : t->c.tags;
}

static int store_tags(struct pd_req *r, const struct tagged *t, json_t *tags)
{
    const char *text = pd_eks_dump(&r->arena, tags);
    if (t->p.id) {
        struct pd_eks_db_podid p = t->p;
        p.tags = text;
        return pd_eks_db_podid_set(r->db, &p)
                   ? pd_fail(r, &PD_ERR_InternalFailure, "cannot store the tags")
                   : PD_OK;
    }
    int rc = t->e.id ? pd_eks_db_entry_set(r->db, t->e.id, t->e.username, t->e.groups, text,
                                           t->e.modified_ms)
                     : pd_eks_db_cluster_set(r->db, t->c.id, t->c.config, text);
    return rc ? pd_fail(r, &PD_ERR_InternalFailure, "cannot store the tags") : PD_OK;
}

static int tag_resource(struct pd_req *r)
{
    struct tagged t;
    if (tag_target(r, &t))
        return PD_EAWS;
    json_t *tags = pd_eks_parse_obj(tagged_tags(&t));
    json_object_update(tags, json_object_get(r->in, "tags"));
    int rc = PD_OK;
    if (json_object_size(tags) > 50)
        rc = pd_fail(r, &pd_eks_BadRequest, "Tags cannot exceed 50 per resource.");
    else
        rc = store_tags(r, &t, tags);
    json_decref(tags);
    if (rc == PD_OK)
        r->out = json_object();
    return rc;
}

static int untag_resource(struct pd_req *r)
{
    struct tagged t;
    if (tag_target(r, &t))
        return PD_EAWS;
    json_t *tags = pd_eks_parse_obj(tagged_tags(&t));
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(r->in, "tagKeys"), i, k)
    {
        json_object_del(tags, json_string_value(k));
    }
    int rc = store_tags(r, &t, tags);
    json_decref(tags);
    if (rc)
        return rc;
    r->out = json_object();
    return PD_OK;
}

static int list_tags_for_resource(struct pd_req *r)
{
    struct tagged t;
    if (tag_target(r, &t))
        return PD_EAWS;
    r->out = json_pack("{s:o}", "tags", pd_eks_parse_obj(tagged_tags(&t)));
    return PD_OK;
}

/* ---- authorization ---- */

static void tag_keys(struct pd_req *r, struct pd_authz_need *need)
{
    json_t *tags = json_object_get(r->in, "tags");
    const char *k;
    json_t *v;
    if (json_is_object(tags)) {
        pd_ctx_add_empty(&need->ctx, "aws:TagKeys");
        json_object_foreach(tags, k, v)
        {
            pd_ctx_add(&need->ctx, "aws:TagKeys", PD_CTX_STRING, k, (size_t)-1);
            pd_ctx_add(&need->ctx, pd_arena_printf(&r->arena, "aws:RequestTag/%s", k),
                       PD_CTX_STRING, json_string_value(v) ? json_string_value(v) : "", (size_t)-1);
        }
    }
    json_t *keys = json_object_get(r->in, "tagKeys");
    if (json_is_array(keys)) {
        size_t i;
        pd_ctx_add_empty(&need->ctx, "aws:TagKeys");
        json_array_foreach(keys, i, v)
        {
            pd_ctx_add(&need->ctx, "aws:TagKeys", PD_CTX_STRING, json_string_value(v), (size_t)-1);
        }
    }
}

static void resource_tags(struct pd_req *r, struct pd_authz_need *need, const char *text)
{
    json_t *tags = pd_eks_parse_obj(text);
    const char *k;
    json_t *v;
    json_object_foreach(tags, k, v)
    {
        pd_ctx_add(&need->ctx, pd_arena_printf(&r->arena, "aws:ResourceTag/%s", k), PD_CTX_STRING,
                   json_string_value(v) ? json_string_value(v) : "", (size_t)-1);
    }
    json_decref(tags);
}

/* eks:authenticationMode and eks:bootstrapClusterCreatorAdminPermissions, when the request
 * names them (CreateCluster, UpdateClusterConfig). */
static void access_config_keys(struct pd_req *r, struct pd_authz_need *need)
{
    json_t *ac = json_object_get(r->in, "accessConfig");
    const char *mode = json_string_value(json_object_get(ac, "authenticationMode"));
    json_t *boot = json_object_get(ac, "bootstrapClusterCreatorAdminPermissions");
    if (mode)
        pd_ctx_add(&need->ctx, "eks:authenticationMode", PD_CTX_STRING, mode, (size_t)-1);
    if (json_is_boolean(boot))
        pd_ctx_add(&need->ctx, "eks:bootstrapClusterCreatorAdminPermissions", PD_CTX_BOOLEAN,
                   json_is_true(boot) ? "true" : "false", (size_t)-1);
}

static int eks_authz(struct pd_req *r, struct pd_authz_need *need)
{
    const char *op = r->op->name;
    const char *action = pd_arena_printf(&r->arena, "eks:%s", op);
    const char *account = r->who.account_id ? r->who.account_id : "";
    need->deny = &pd_eks_AccessDenied;
    tag_keys(r, need);
    if (pd_eks_access_authz(r, need) || pd_eks_podid_authz(r, need))
        return PD_OK;
    if (strcmp(op, "ListClusters") == 0) {
        pd_authz_add(need, action, "*", NULL);
        return PD_OK;
    }
    const char *arn;
    struct pd_eks_db_cluster c;
    if (json_object_get(r->in, "resourceArn")) {
        arn = pd_eks_in_str(r, "resourceArn");
        struct pd_arn a;
        const char *type, *name;
        struct pd_eks_db_entry e;
        pd_authz_add(need, action, arn, NULL);
        if (pd_arn_parse(&r->arena, arn, &a) ||
            pd_arn_resource_split(&r->arena, a.resource, &type, NULL, &name))
            return PD_OK;
        if (strcmp(type, "access-entry") == 0) {
            if (pd_eks_entry_by_arn(r, arn, &c, &e) == PD_OK)
                pd_eks_entry_keys(r, need, &c, &e);
        } else if (strcmp(type, "podidentityassociation") == 0) {
            struct tagged t;
            const char *path = NULL;
            memset(&t, 0, sizeof t);
            if (pd_arn_resource_split(&r->arena, a.resource, NULL, &path, NULL) == PD_OK &&
                podid_by_arn(r, &a, path, name, &t) == PD_OK)
                resource_tags(r, need, t.p.tags);
        } else if (strcmp(type, "cluster") == 0 &&
                   pd_eks_db_cluster_get(r->db, &r->arena, a.account, a.region, name, &c) ==
                       PD_OK) {
            resource_tags(r, need, c.tags);
        }
        return PD_OK;
    }
    const char *name = pd_eks_in_str(r, "name");
    arn = pd_eks_cluster_arn(&r->arena, pd_eks_region(r), account, name ? name : "");
    pd_authz_add(need, action, arn, NULL);
    if (name &&
        pd_eks_db_cluster_get(r->db, &r->arena, account, pd_eks_region(r), name, &c) == PD_OK)
        resource_tags(r, need, c.tags);
    if (strcmp(op, "CreateCluster") == 0 || strcmp(op, "UpdateClusterConfig") == 0)
        access_config_keys(r, need);
    if (strcmp(op, "CreateCluster") == 0 && pd_eks_in_str(r, "roleArn")) {
        /* EKS passes the cluster role to the service: iam:PassRole is checked too. */
        pd_authz_add(need, "iam:PassRole", pd_eks_in_str(r, "roleArn"), NULL);
        pd_ctx_add(&need->ctx, "iam:PassedToService", PD_CTX_STRING, "eks.amazonaws.com",
                   (size_t)-1);
    }
    if (strcmp(op, "CreateCluster") == 0) {
        /* Making the creator's access entry is eks:CreateAccessEntry on the cluster (the
         * Service Authorization Reference lists it for CreateCluster). */
        json_t *ac = json_object_get(r->in, "accessConfig");
        const char *mode = json_string_value(json_object_get(ac, "authenticationMode"));
        if (mode && strcmp(mode, "CONFIG_MAP") != 0 &&
            bool_or(ac, "bootstrapClusterCreatorAdminPermissions", 1))
            pd_authz_add(need, "eks:CreateAccessEntry", arn, NULL);
    }
    return PD_OK;
}

static const struct pd_op ops[] = {
    {"CreateCluster", create_cluster, PD_OP_WRITE},
    {"DescribeCluster", describe_cluster, 0},
    {"ListClusters", list_clusters, 0},
    {"DeleteCluster", delete_cluster, PD_OP_WRITE},
    {"UpdateClusterConfig", update_cluster_config, PD_OP_WRITE},
    {"DescribeUpdate", describe_update, 0},
    {"ListUpdates", list_updates, 0},
    {"TagResource", tag_resource, PD_OP_WRITE},
    {"UntagResource", untag_resource, PD_OP_WRITE},
    {"ListTagsForResource", list_tags_for_resource, 0},
    {"CreateAccessEntry", pd_eks_create_access_entry, PD_OP_WRITE},
    {"DescribeAccessEntry", pd_eks_describe_access_entry, 0},
    {"ListAccessEntries", pd_eks_list_access_entries, 0},
    {"UpdateAccessEntry", pd_eks_update_access_entry, PD_OP_WRITE},
    {"DeleteAccessEntry", pd_eks_delete_access_entry, PD_OP_WRITE},
    {"AssociateAccessPolicy", pd_eks_associate_access_policy, PD_OP_WRITE},
    {"DisassociateAccessPolicy", pd_eks_disassociate_access_policy, PD_OP_WRITE},
    {"ListAssociatedAccessPolicies", pd_eks_list_associated_access_policies, 0},
    {"ListAccessPolicies", pd_eks_list_access_policies, 0},
    {"CreatePodIdentityAssociation", pd_eks_create_podid, PD_OP_WRITE},
    {"DescribePodIdentityAssociation", pd_eks_describe_podid, 0},
    {"ListPodIdentityAssociations", pd_eks_list_podid, 0},
    {"UpdatePodIdentityAssociation", pd_eks_update_podid, PD_OP_WRITE},
    {"DeletePodIdentityAssociation", pd_eks_delete_podid, PD_OP_WRITE},
    {NULL, NULL, 0},
};

const struct pd_service pd_svc_eks = {
    .name = "eks",
    .signing_name = "eks",
    .proto = PD_PROTO_REST_JSON,
    .spec = "eks.json",
    .ops = ops,
    .authz = eks_authz,
};

/* ---- fixtures ---- */

static int fx_fail(char **OUT_err, const char *origin, size_t i, const char *name, const char *what)
{
    size_t n = strlen(origin) + strlen(what) + (name ? strlen(name) : 0) + 64;
    *OUT_err = malloc(n);
    if (!*OUT_err)
        abort();
    if (name)
        snprintf(*OUT_err, n, "fixtures %s: eks.clusters[%zu] (%s): %s", origin, i, name, what);
    else
        snprintf(*OUT_err, n, "fixtures %s: eks.clusters[%zu]: %s", origin, i, what);
    return PD_EINVAL;
}

static const char *const fx_fields[] = {"account",
                                        "region",
                                        "name",
                                        "role_arn",
                                        "version",
                                        "tags",
                                        "id",
                                        "issuer_key_pem",
                                        "created",
                                        "creator_arn",
                                        "authentication_mode",
                                        "bootstrap_cluster_creator_admin_permissions",
                                        "access_entries",
                                        "kubernetes",
                                        NULL};

static int load_one(struct pd_env *env, struct pd_db *db, json_t *e, const char *origin, size_t i,
                    char **OUT_err)
{
    if (!json_is_object(e))
        return fx_fail(OUT_err, origin, i, NULL, "expected an object");
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v)
    {
        int ok = 0;
        for (const char *const *f = fx_fields; *f && !ok; f++)
            ok = strcmp(*f, key) == 0;
        if (!ok)
            return fx_fail(OUT_err, origin, i, NULL,
                           "unknown field (known fields: account, region, name, role_arn, "
                           "version, tags, id, issuer_key_pem, created, creator_arn, "
                           "authentication_mode, bootstrap_cluster_creator_admin_permissions, "
                           "access_entries, kubernetes)");
        if (strcmp(key, "bootstrap_cluster_creator_admin_permissions") == 0) {
            if (!json_is_boolean(v))
                return fx_fail(OUT_err, origin, i, NULL,
                               "\"bootstrap_cluster_creator_admin_permissions\" is true or "
                               "false");
            continue;
        }
        if (strcmp(key, "tags") != 0 && strcmp(key, "kubernetes") != 0 &&
            strcmp(key, "access_entries") != 0 && !json_is_string(v))
            return fx_fail(OUT_err, origin, i, NULL,
                           "fields other than tags, access_entries, kubernetes and "
                           "bootstrap_cluster_creator_admin_permissions are strings");
    }
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *role = json_string_value(json_object_get(e, "role_arn"));
    const char *account = json_string_value(json_object_get(e, "account"));
    const char *region = json_string_value(json_object_get(e, "region"));
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *created = json_string_value(json_object_get(e, "created"));
    const char *mode = json_string_value(json_object_get(e, "authentication_mode"));
    json_t *tags = json_object_get(e, "tags");
    if (!name || !role)
        return fx_fail(OUT_err, origin, i, name, "\"name\" and \"role_arn\" are required");
    if (tags && !json_is_object(tags))
        return fx_fail(OUT_err, origin, i, name, "\"tags\" must be an object of key: value");
    if (id) {
        int ok = strlen(id) == 32;
        for (size_t k = 0; ok && k < 32; k++)
            ok = (id[k] >= '0' && id[k] <= '9') || (id[k] >= 'A' && id[k] <= 'F');
        if (!ok)
            return fx_fail(OUT_err, origin, i, name,
                           "\"id\" must be 32 upper-case hexadecimal characters");
    }
    int64_t created_ms = 0;
    if (created && pd_time_parse_iso8601(created, &created_ms))
        return fx_fail(OUT_err, origin, i, name,
                       "\"created\" must be an ISO 8601 time (2024-01-31T12:00:00Z)");
    struct pd_req *r = pd_req_new(env);
    r->db = db;
    r->who.kind = PD_CALLER_ROOT;
    r->who.account_id = account ? account : PD_IAM_DEFAULT_ACCOUNT;
    r->who.arn = pd_arena_printf(&r->arena, "arn:aws:iam::%s:root", r->who.account_id);
    snprintf(r->region, sizeof r->region, "%s", region ? region : env->cfg.region);
    r->in = json_pack("{s:s, s:s, s:{}}", "name", name, "roleArn", role, "resourcesVpcConfig");
    const char *version = json_string_value(json_object_get(e, "version"));
    if (version)
        json_object_set_new(r->in, "version", json_string(version));
    if (tags)
        json_object_set(r->in, "tags", tags);
    json_t *boot = json_object_get(e, "bootstrap_cluster_creator_admin_permissions");
    if (mode || boot) {
        json_t *ac = json_object();
        if (mode)
            json_object_set_new(ac, "authenticationMode", json_string(mode));
        if (boot)
            json_object_set(ac, "bootstrapClusterCreatorAdminPermissions", boot);
        json_object_set_new(r->in, "accessConfig", ac);
    }
    int rc = create_cluster_with(r, id, json_string_value(json_object_get(e, "issuer_key_pem")),
                                 created_ms, json_string_value(json_object_get(e, "creator_arn")));
    if (rc) {
        const char *why =
            r->err.def ? pd_arena_printf(&r->arena, "%s: %s", r->err.def->code, r->err.message)
                       : pd_strerror(rc);
        fx_fail(OUT_err, origin, i, name, why);
        rc = PD_EINVAL;
    }
    json_t *entries = json_object_get(e, "access_entries");
    struct pd_eks_db_cluster row;
    if (rc == PD_OK && entries &&
        pd_eks_db_cluster_get(db, &r->arena, r->who.account_id, r->region, name, &row) == PD_OK) {
        const char *why = NULL;
        if (pd_eks_access_fixtures_load(r, &row, entries, &why)) {
            fx_fail(OUT_err, origin, i, name, why ? why : "access_entries: invalid");
            rc = PD_EINVAL;
        }
    }
    json_t *kube = json_object_get(e, "kubernetes");
    struct pd_eks_cluster c;
    if (rc == PD_OK && kube &&
        pd_eks_cluster_by_name(db, &r->arena, r->who.account_id, r->region, name, &c) == PD_OK) {
        char *why = NULL;
        if (pd_k8s_fixtures_load(env, db, c.id, kube, &why)) {
            fx_fail(OUT_err, origin, i, name, why ? why : "kubernetes: invalid");
            rc = PD_EINVAL;
        }
        free(why);
    }
    pd_req_free(r);
    return rc;
}

int pd_eks_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *section, const char *origin,
                         char **OUT_err)
{
    const char *key;
    json_t *v;
    if (!json_is_object(section))
        return fx_fail(OUT_err, origin, 0, NULL, "the \"eks\" section must be an object");
    json_object_foreach(section, key, v)
    {
        if (strcmp(key, "clusters") != 0)
            return fx_fail(OUT_err, origin, 0, NULL,
                           "unknown field in the eks section (known fields: clusters)");
    }
    json_t *list = json_object_get(section, "clusters");
    if (list && !json_is_array(list))
        return fx_fail(OUT_err, origin, 0, NULL, "\"clusters\" must be a list");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        int rc = load_one(env, db, e, origin, i, OUT_err);
        if (rc)
            return rc;
    }
    return PD_OK;
}

int pd_eks_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_eks_db_cluster *v;
    size_t n;
    int rc = pd_eks_db_cluster_all(db, &a, &v, &n);
    json_t *list = json_array();
    for (size_t i = 0; rc == PD_OK && i < n; i++) {
        json_t *cfg = pd_eks_parse_obj(v[i].config);
        char iso[32];
        pd_time_iso8601(v[i].created_ms, 0, iso);
        json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "account",
                              v[i].account_id, "region", v[i].region, "name", v[i].name, "role_arn",
                              v[i].role_arn, "version", v[i].version, "id", v[i].cluster_id,
                              "created", iso, "creator_arn", v[i].creator_arn);
        const char *mode = json_string_value(
            json_object_get(json_object_get(cfg, "accessConfig"), "authenticationMode"));
        if (mode && strcmp(mode, "CONFIG_MAP") != 0)
            json_object_set_new(e, "authentication_mode", json_string(mode));
        json_t *boot = json_object_get(json_object_get(cfg, "accessConfig"),
                                       "bootstrapClusterCreatorAdminPermissions");
        if (json_is_false(boot))
            json_object_set_new(e, "bootstrap_cluster_creator_admin_permissions", json_false());
        if (mode && strcmp(mode, "CONFIG_MAP") != 0)
            json_object_set_new(e, "access_entries", pd_eks_access_fixtures_export(db, &a, &v[i]));
        json_t *tags = pd_eks_parse_obj(v[i].tags);
        if (json_object_size(tags))
            json_object_set(e, "tags", tags);
        json_decref(tags);
        json_decref(cfg);
        const char *pem;
        if (pd_oidc_signing_key_pem(db, &a, v[i].issuer, &pem) == PD_OK)
            json_object_set_new(e, "issuer_key_pem", json_string(pem));
        json_t *kube = pd_k8s_fixtures_export(env, db, v[i].cluster_id);
        if (kube)
            json_object_set_new(e, "kubernetes", kube);
        json_array_append_new(list, e);
    }
    pd_arena_cleanup(&a);
    if (rc) {
        json_decref(list);
        return rc;
    }
    *OUT = json_pack("{s:o}", "clusters", list);
    return PD_OK;
}
