/*
 * k8s.c - EKS DescribeCluster, EKS bearer tokens, and the Kubernetes calls podiamctl makes.
 */
#include "k8s.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4/sigv4.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/str.h"

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int pdc_eks_cluster(struct pdc_ctx *c, const char *name, struct pdc_cluster *OUT,
                    const char **OUT_err)
{
    struct pd_arena *a = &c->arena;
    struct pdc_resp r;
    int rc;
    json_t *doc = NULL;
    memset(OUT, 0, sizeof(*OUT));
    *OUT_err = NULL;
    struct pdc_signed s = {.service = "eks",
                           .method = "GET",
                           .path = pd_arena_printf(a, "/clusters/%s", pdc_enc(c, name))};
    rc = pdc_aws(c, &s, &r);
    if (rc != PD_OK) {
        *OUT_err = r.error;
        goto out;
    }
    doc = json_loadb(pd_buf_str(&r.body), r.body.len, 0, NULL);
    if (r.status != 200) {
        const char *type = pd_kvs_get(&r.headers, "x-amzn-errortype", 1);
        *OUT_err = pd_arena_printf(
            a, "eks DescribeCluster %s: %s: %s", name,
            type ? pd_arena_strndup(a, type, strcspn(type, ":")) : "HTTP error",
            doc && jstr(doc, "message") ? jstr(doc, "message") : pd_buf_str(&r.body));
        rc = r.status == 404 ? PD_ENOTFOUND : PD_EINVAL;
        goto out;
    }
    json_t *cl = json_object_get(doc, "cluster");
    OUT->name = pd_arena_strdup(a, name);
    OUT->arn = pd_arena_strdup(a, jstr(cl, "arn") ? jstr(cl, "arn") : "");
    const char *ep = jstr(cl, "endpoint");
    OUT->endpoint = ep ? pd_arena_strdup(a, ep) : NULL;
    const char *iss = json_string_value(
        json_object_get(json_object_get(json_object_get(cl, "identity"), "oidc"), "issuer"));
    OUT->issuer = iss ? pd_arena_strdup(a, iss) : NULL;
    const char *ca =
        json_string_value(json_object_get(json_object_get(cl, "certificateAuthority"), "data"));
    if (ca) {
        unsigned char *pem;
        size_t n;
        if (pd_base64_decode(a, ca, strlen(ca), &pem, &n) == PD_OK)
            OUT->ca_pem = pd_arena_strndup(a, (const char *)pem, n);
    }
    rc = pdc_eks_token(c, name, &OUT->token);
out:
    json_decref(doc);
    pdc_resp_free(&r);
    return rc;
}

int pdc_eks_token(struct pdc_ctx *c, const char *cluster, const char **OUT_token)
{
    struct pd_arena *a = &c->arena;
    struct pd_kvs hdrs = {0};
    const char *host = pdc_url_authority(a, c->endpoint);
    char amz[17];
    pd_time_amz((int64_t)time(NULL) * 1000, amz);
    pd_kvs_add(a, &hdrs, "host", host, strlen(host), 0);
    pd_kvs_add(a, &hdrs, "x-k8s-aws-id", cluster, strlen(cluster), 0);
    struct pd_sigv4_signer sg = {c->akid, c->secret, c->token, c->region, "sts", amz};
    struct pd_sigv4_request rq = {
        "GET", "/", "Action=GetCallerIdentity&Version=2011-06-15", &hdrs, PD_SIGV4_EMPTY_SHA256, 1};
    static const char *const names[] = {"host", "x-k8s-aws-id"};
    char *query = NULL;
    int rc = pd_sigv4_presign(a, &sg, &rq, 60, names, 2, &query, NULL);
    if (rc != PD_OK)
        return rc;
    const char *url = pd_arena_printf(a, "%s/?%s", c->endpoint, query);
    *OUT_token = pd_arena_printf(a, "k8s-aws-v1.%s", pd_base64_encode(a, url, strlen(url), 1));
    return PD_OK;
}

int pdc_k8s(struct pdc_ctx *c, const struct pdc_cluster *k, const char *method, const char *path,
            const char *body, json_t **OUT_json, const char **OUT_err)
{
    struct pd_arena *a = &c->arena;
    struct pd_kvs hdrs = {0};
    struct pdc_resp r;
    *OUT_json = NULL;
    *OUT_err = NULL;
    if (!k->endpoint) {
        *OUT_err = pd_arena_printf(a,
                                   "cluster %s has no Kubernetes endpoint (is podiam "
                                   "running with --listen-tls off?)",
                                   k->name);
        return PD_EINVAL;
    }
    const char *bearer = pd_arena_printf(a, "Bearer %s", k->token);
    pd_kvs_add(a, &hdrs, "Authorization", bearer, strlen(bearer), 0);
    pd_kvs_add(a, &hdrs, "Accept", "application/json", 16, 0);
    if (body)
        pd_kvs_add(a, &hdrs, "Content-Type", "application/json", 16, 0);
    struct pdc_req q = {.method = method,
                        .url = pd_arena_printf(a, "%s%s", k->endpoint, path),
                        .headers = &hdrs,
                        .body = body,
                        .body_len = body ? strlen(body) : 0,
                        .ca_pem = k->ca_pem};
    int rc = pdc_http(c, &q, &r);
    if (rc != PD_OK) {
        *OUT_err = r.error;
        goto out;
    }
    *OUT_json = json_loadb(pd_buf_str(&r.body), r.body.len, 0, NULL);
    if (r.status / 100 != 2) {
        const char *msg = *OUT_json ? jstr(*OUT_json, "message") : NULL;
        *OUT_err = pd_arena_printf(a, "%s %s: HTTP %ld: %s", method, path, r.status,
                                   msg ? msg : pd_buf_str(&r.body));
        rc = r.status == 404 ? PD_ENOTFOUND : PD_EINVAL;
    }
out:
    pdc_resp_free(&r);
    return rc;
}

const char *pdc_pod_env(const json_t *env, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        const char *n = jstr(e, "name");
        if (n && strcmp(n, name) == 0)
            return jstr(e, "value");
    }
    return NULL;
}

int pdc_pod_identity(struct pdc_ctx *c, const struct pdc_cluster *k, const char *ns, const char *sa,
                     struct pdc_pod_identity *OUT, const char **OUT_err)
{
    struct pd_arena *a = &c->arena;
    memset(OUT, 0, sizeof(*OUT));
    int rc = pdc_k8s(c, k, "GET",
                     pd_arena_printf(a, "/api/v1/namespaces/%s/serviceaccounts/%s", pdc_enc(c, ns),
                                     pdc_enc(c, sa)),
                     NULL, &OUT->sa, OUT_err);
    if (rc != PD_OK)
        return rc;
    json_t *pod =
        json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:[{s:s, s:s, s:[s]}]}}", "apiVersion", "v1",
                  "kind", "Pod", "metadata", "generateName", "podiamctl-", "namespace", ns, "spec",
                  "serviceAccountName", sa, "containers", "name", "app", "image", "podiamctl/local",
                  "command", "true");
    char *body = json_dumps(pod, JSON_COMPACT);
    json_decref(pod);
    rc = pdc_k8s(c, k, "POST",
                 pd_arena_printf(a, "/api/v1/namespaces/%s/pods?dryRun=All", pdc_enc(c, ns)), body,
                 &OUT->pod, OUT_err);
    free(body);
    if (rc != PD_OK)
        return rc;
    json_t *ctr =
        json_array_get(json_object_get(json_object_get(OUT->pod, "spec"), "containers"), 0);
    OUT->env = json_object_get(ctr, "env");
    OUT->role_arn = pdc_pod_env(OUT->env, "AWS_ROLE_ARN");
    OUT->token_path = pdc_pod_env(OUT->env, "AWS_WEB_IDENTITY_TOKEN_FILE");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(OUT->pod, "spec"), "volumes"), i, v)
    {
        if (!jstr(v, "name") || strcmp(jstr(v, "name"), "aws-iam-token") != 0)
            continue;
        size_t j;
        json_t *src;
        json_array_foreach(json_object_get(json_object_get(v, "projected"), "sources"), j, src)
        {
            json_t *t = json_object_get(src, "serviceAccountToken");
            if (!t)
                continue;
            OUT->audience = jstr(t, "audience");
            OUT->expiration = json_integer_value(json_object_get(t, "expirationSeconds"));
        }
    }
    return PD_OK;
}

void pdc_pod_identity_free(struct pdc_pod_identity *p)
{
    json_decref(p->sa);
    json_decref(p->pod);
    memset(p, 0, sizeof(*p));
}

int pdc_k8s_token(struct pdc_ctx *c, const struct pdc_cluster *k, const char *ns, const char *sa,
                  const char *audience, long long expiration, const char **OUT_token,
                  const char **OUT_err)
{
    return pdc_k8s_token_bound(c, k, ns, sa, audience, expiration, NULL, NULL, OUT_token, OUT_err);
}

int pdc_k8s_token_bound(struct pdc_ctx *c, const struct pdc_cluster *k, const char *ns,
                        const char *sa, const char *audience, long long expiration, const char *pod,
                        const char *pod_uid, const char **OUT_token, const char **OUT_err)
{
    struct pd_arena *a = &c->arena;
    json_t *spec = json_pack("{s:[s]}", "audiences", audience ? audience : "sts.amazonaws.com");
    if (expiration > 0)
        json_object_set_new(spec, "expirationSeconds", json_integer(expiration));
    if (pod)
        json_object_set_new(spec, "boundObjectRef",
                            json_pack("{s:s, s:s, s:s, s:s}", "kind", "Pod", "apiVersion", "v1",
                                      "name", pod, "uid", pod_uid ? pod_uid : ""));
    json_t *req = json_pack("{s:s, s:s, s:o}", "apiVersion", "authentication.k8s.io/v1", "kind",
                            "TokenRequest", "spec", spec);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    json_t *resp = NULL;
    int rc = pdc_k8s(c, k, "POST",
                     pd_arena_printf(a, "/api/v1/namespaces/%s/serviceaccounts/%s/token",
                                     pdc_enc(c, ns), pdc_enc(c, sa)),
                     body, &resp, OUT_err);
    free(body);
    if (rc == PD_OK) {
        const char *t = jstr(json_object_get(resp, "status"), "token");
        if (t) {
            *OUT_token = pd_arena_strdup(a, t);
        } else {
            *OUT_err = "TokenRequest answered without status.token";
            rc = PD_EINVAL;
        }
    }
    json_decref(resp);
    return rc;
}

int pdc_k8s_standin_pod(struct pdc_ctx *c, const struct pdc_cluster *k, const char *ns,
                        const char *sa, const char **OUT_name, const char **OUT_uid,
                        const char **OUT_err)
{
    struct pd_arena *a = &c->arena;
    const char *name = pd_arena_printf(a, "podiamctl-%s", sa);
    if (strlen(name) > 253)
        name = pd_arena_strndup(a, name, 253);
    const char *path =
        pd_arena_printf(a, "/api/v1/namespaces/%s/pods/%s", pdc_enc(c, ns), pdc_enc(c, name));
    json_t *pod = NULL;
    int rc = pdc_k8s(c, k, "GET", path, NULL, &pod, OUT_err);
    if (rc == PD_ENOTFOUND) {
        json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s, s:[{s:s, s:s, s:[s]}]}}",
                              "apiVersion", "v1", "kind", "Pod", "metadata", "name", name,
                              "namespace", ns, "labels", "app.kubernetes.io/managed-by",
                              "podiamctl", "spec", "serviceAccountName", sa, "containers", "name",
                              "app", "image", "podiamctl/local", "command", "true");
        char *body = json_dumps(p, JSON_COMPACT);
        json_decref(p);
        rc = pdc_k8s(c, k, "POST", pd_arena_printf(a, "/api/v1/namespaces/%s/pods", pdc_enc(c, ns)),
                     body, &pod, OUT_err);
        free(body);
    }
    if (rc == PD_OK) {
        const char *uid = jstr(json_object_get(pod, "metadata"), "uid");
        *OUT_name = name;
        *OUT_uid = uid ? pd_arena_strdup(a, uid) : "";
    }
    json_decref(pod);
    return rc;
}
