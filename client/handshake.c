/*
 * handshake.c - `podiamctl handshake`: step through what STS does with a web identity token
 * (in the order docs/eks-oidc.md gives), print each step, stop at the first that fails with
 * an explanation, then make the real AssumeRoleWithWebIdentity call and, on denial, read the
 * decision trace back from /_podiam/decisions/ID.
 *
 * Owns nothing past the command: every string is in the context's arena, JSON references
 * are dropped before returning. The signature check is done here with crypto/jwt.h, with the
 * algorithm pinned by the JWK, never the token's.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/jwt.h"
#include "crypto/keys.h"
#include "http.h"
#include "k8s.h"
#include "xml/xml.h"
#include "token.h"

struct hs {
    struct pdc_ctx *c;
    int json;
    json_t *steps;        /* --json: [{name, ok, detail}] */
    struct pd_buf detail; /* the current step's detail text */
    const char *explain;  /* the first failure's explanation */
    const char *failed;   /* the first failing step's name */
    int n;                /* steps printed */
    /* what the steps learn */
    const char *token, *role_arn, *iss, *sub, *prefix, *provider_arn, *matched_aud;
    const char *session_name, *s3_put;
    json_t *header, *claims, *client_ids, *discovery, *jwks_doc;
    int64_t now;
    const char *akid, *secret, *session_token, *assumed_arn;
    /* EKS Pod Identity (the service account has an association): its own steps */
    int podid;
    const char *cluster, *ns, *sa, *pod;
};

static void say(struct hs *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct hs *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pd_buf_vprintf(&h->detail, fmt, ap);
    va_end(ap);
    pd_buf_addc(&h->detail, '\n');
}

/* End the current step: print it (or record it for --json). ok = 0 stores explain. */
static int step(struct hs *h, const char *name, int ok, const char *explain)
{
    h->n++;
    const char *d = pd_buf_str(&h->detail);
    if (h->json) {
        json_t *s = json_pack("{s:s, s:b, s:s}", "name", name, "ok", ok, "detail", d);
        if (!ok && explain)
            json_object_set_new(s, "explanation", json_string(explain));
        json_array_append_new(h->steps, s);
    } else {
        printf("%s %2d. %s\n", ok ? "[ ok ]" : "[FAIL]", h->n, name);
        for (const char *p = d; *p;) {
            size_t len = strcspn(p, "\n");
            printf("         %.*s\n", (int)len, p);
            p += len;
            if (*p)
                p++;
        }
        if (!ok && explain)
            printf("\n  What is wrong: %s\n", explain);
        fflush(stdout);
    }
    pd_buf_reset(&h->detail);
    if (!ok && !h->failed) {
        h->failed = name;
        h->explain = explain;
    }
    return ok ? PD_OK : PD_EINVAL;
}

static const char *dump(struct hs *h, const json_t *v, int pretty)
{
    char *s = json_dumps(v, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER |
                                JSON_ENCODE_ANY);
    const char *r = pd_arena_strdup(&h->c->arena, s ? s : "null");
    free(s);
    return r;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* podiam's clock (it may be offset through the admin API), in Unix seconds. */
static int64_t podiam_now(struct pdc_ctx *c)
{
    struct pdc_resp r;
    json_t *j = NULL;
    int64_t now = (int64_t)time(NULL);
    if (pdc_admin(c, "GET", "health", NULL, &r, (void **)&j) == PD_OK &&
        json_is_integer(json_object_get(j, "time_ms")))
        now = json_integer_value(json_object_get(j, "time_ms")) / 1000;
    json_decref(j);
    pdc_resp_free(&r);
    return now;
}

/* ---- EKS Pod Identity (a service account with an association) ---- */

static json_t *fetch_decision(struct hs *h, const struct pdc_resp *r);
static const char *explain_decision(struct hs *h, json_t *d, const char *what);

/* The webhook gave the pod the agent variables: a token bound to the stand-in pod. */
static int source_podid(struct hs *h, const struct pdc_cluster *k, const char *ns, const char *sa,
                        const struct pdc_pod_identity *pi)
{
    struct pdc_ctx *c = h->c;
    const char *err = NULL, *uid = NULL;
    h->podid = 1;
    h->cluster = k->name;
    h->ns = ns;
    h->sa = sa;
    say(h, "webhook   EKS Pod Identity (an association names %s/%s; it wins over IRSA)", ns, sa);
    say(h, "          AWS_CONTAINER_CREDENTIALS_FULL_URI=%s",
        pdc_pod_env(pi->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    say(h, "          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%s",
        pdc_pod_env(pi->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
    int rc = pdc_k8s_standin_pod(c, k, ns, sa, &h->pod, &uid, &err);
    if (rc == PD_OK)
        rc = pdc_k8s_token_bound(c, k, ns, sa, "pods.eks.amazonaws.com", 0, h->pod, uid, &h->token,
                                 &err);
    if (rc != PD_OK) {
        say(h, "%s", err);
        return step(h, "service account", 0,
                    "podiamctl could not make the stand-in pod or its token: see above.");
    }
    say(h, "token     bound to pod %s/%s (uid %s), audience pods.eks.amazonaws.com (%zu bytes)", ns,
        h->pod, uid, strlen(h->token));
    return step(h, "service account", 1, NULL);
}

/* The association and its role, through the EKS and IAM APIs. */
static int step_podid_association(struct hs *h)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    struct pdc_signed s = {.service = "eks",
                           .method = "GET",
                           .path = pd_arena_printf(a, "/clusters/%s/pod-identity-associations",
                                                   pdc_enc(c, h->cluster)),
                           .query = pd_arena_printf(a, "namespace=%s&serviceAccount=%s",
                                                    pdc_enc(c, h->ns), pdc_enc(c, h->sa))};
    struct pdc_resp r;
    int rc = pdc_aws(c, &s, &r);
    json_t *j = rc == PD_OK ? json_loads(pd_buf_str(&r.body), 0, NULL) : NULL;
    json_t *one = json_array_get(json_object_get(j, "associations"), 0);
    const char *id = one ? pd_arena_strdup(a, jstr(one, "associationId")) : NULL;
    json_decref(j);
    pdc_resp_free(&r);
    if (!id) {
        say(h,
            "ListPodIdentityAssociations --cluster-name %s --namespace %s "
            "--service-account %s: none",
            h->cluster, h->ns, h->sa);
        return step(h, "association", 0,
                    "No Pod Identity association names this service account (or these "
                    "credentials may not list them): eks-auth would answer "
                    "ResourceNotFoundException.");
    }
    s.path = pd_arena_printf(a, "/clusters/%s/pod-identity-associations/%s", pdc_enc(c, h->cluster),
                             pdc_enc(c, id));
    s.query = NULL;
    rc = pdc_aws(c, &s, &r);
    j = rc == PD_OK && r.status == 200 ? json_loads(pd_buf_str(&r.body), 0, NULL) : NULL;
    pdc_resp_free(&r);
    json_t *as = json_object_get(j, "association");
    const char *role = jstr(as, "roleArn");
    h->role_arn = role ? pd_arena_strdup(a, role) : NULL;
    say(h, "association %s: role %s%s%s, session tags %s", id, role ? role : "?",
        jstr(as, "targetRoleArn") ? ", target role " : "",
        jstr(as, "targetRoleArn") ? jstr(as, "targetRoleArn") : "",
        json_is_true(json_object_get(as, "disableSessionTags")) ? "off" : "on");
    json_decref(j);
    if (!h->role_arn)
        return step(h, "association", 0, "The association could not be read.");
    /* the role's trust policy, as IAM has it */
    const char *name = strrchr(h->role_arn, '/');
    struct pdc_resp ir;
    const struct pd_xml_node *res;
    const char *code, *msg;
    rc = pdc_query(c, "iam", "2010-05-08", "GetRole",
                   pd_arena_printf(a, "RoleName=%s", pdc_enc(c, name ? name + 1 : "")), 1, &ir,
                   &res, &code, &msg);
    if (rc != PD_OK) {
        say(h, "GetRole: %s: %s", code ? code : "?", msg ? msg : "");
        pdc_resp_free(&ir);
        return step(h, "association", 0,
                    rc == PD_EINVAL && code && strcmp(code, "NoSuchEntity") == 0
                        ? "The association's role does not exist (deleted since?): eks-auth "
                          "answers AccessDeniedException."
                        : "podiamctl could not read the role: see above.");
    }
    const char *doc = pdc_xml_text(res, "Role/AssumeRolePolicyDocument");
    char *dec = NULL;
    size_t dlen;
    if (doc && pd_url_decode(a, doc, strlen(doc), 0, &dec, &dlen) != PD_OK)
        dec = NULL;
    say(h, "trust policy %s", dec ? dec : "?");
    int trusts = dec && strstr(dec, "pods.eks.amazonaws.com") != NULL;
    pdc_resp_free(&ir);
    return step(h, "association", trusts,
                trusts ? NULL
                       : "The role's trust policy does not name the service principal "
                         "pods.eks.amazonaws.com: eks-auth cannot assume it. Add a statement "
                         "allowing {\"Service\": \"pods.eks.amazonaws.com\"} the actions "
                         "sts:AssumeRole and sts:TagSession.");
}

/* The agent's exchange, as the pod's SDK makes it. */
static int step_podid_agent(struct hs *h)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    const char *url = pd_arena_printf(a, "%s/_podiam/pod-identity/v1/credentials", c->endpoint);
    struct pd_kvs hd = {0};
    pd_kvs_add(a, &hd, "Authorization", h->token, strlen(h->token), 0);
    struct pdc_req q = {.method = "GET", .url = url, .headers = &hd};
    struct pdc_resp r;
    say(h, "GET %s with Authorization: <the token> (the SDK's container provider)", url);
    int rc = pdc_http(c, &q, &r);
    if (rc != PD_OK) {
        say(h, "%s", r.error ? r.error : "no answer");
        pdc_resp_free(&r);
        return step(h, "agent", 0, "The agent endpoint did not answer.");
    }
    if (r.status == 200) {
        json_t *j = json_loads(pd_buf_str(&r.body), 0, NULL);
        h->akid = pd_arena_strdup(a, jstr(j, "AccessKeyId") ? jstr(j, "AccessKeyId") : "");
        h->secret =
            pd_arena_strdup(a, jstr(j, "SecretAccessKey") ? jstr(j, "SecretAccessKey") : "");
        h->session_token = pd_arena_strdup(a, jstr(j, "Token") ? jstr(j, "Token") : "");
        say(h, "200: credentials %s for account %s, expire %s", h->akid, jstr(j, "AccountId"),
            jstr(j, "Expiration"));
        json_decref(j);
        pdc_resp_free(&r);
        /* who they are: GetCallerIdentity, signed with them */
        struct pdc_resp wr;
        const struct pd_xml_node *res;
        const char *code, *msg;
        struct pdc_ctx sc = *c;
        sc.akid = h->akid;
        sc.secret = h->secret;
        sc.token = h->session_token;
        if (pdc_query(&sc, "sts", "2011-06-15", "GetCallerIdentity", "", 1, &wr, &res, &code,
                      &msg) == PD_OK) {
            h->assumed_arn = pd_arena_strdup(a, pdc_xml_text(res, "Arn"));
            say(h, "caller    %s", h->assumed_arn);
            say(h,
                "session tags (unless disabled): eks-cluster-arn, eks-cluster-name, "
                "kubernetes-namespace=%s, kubernetes-service-account=%s, "
                "kubernetes-pod-name=%s, kubernetes-pod-uid",
                h->ns, h->sa, h->pod);
        }
        pdc_resp_free(&wr);
        return step(h, "agent", 1, NULL);
    }
    const char *text = pd_arena_strdup(a, pd_buf_str(&r.body));
    say(h, "%ld: %s", r.status, text);
    const char *why;
    if (strstr(text, "(AccessDeniedException)")) {
        json_t *d = fetch_decision(h, &r);
        why = d ? explain_decision(h, d,
                                   pd_arena_printf(a,
                                                   "The trust policy of %s refuses "
                                                   "pods.eks.amazonaws.com",
                                                   h->role_arn ? h->role_arn : "the role"))
                : "eks-auth refused to assume the role: its trust policy must allow the "
                  "Service pods.eks.amazonaws.com sts:AssumeRole and sts:TagSession (the "
                  "latter unless the association disables session tags).";
        json_decref(d);
    } else if (strstr(text, "(ExpiredTokenException)")) {
        why = "The token has expired: pods get a fresh one from the kubelet; request a new "
              "one.";
    } else if (strstr(text, "(InvalidTokenException)")) {
        why = "eks-auth refused the token: it must be issued by the cluster's OIDC issuer, for "
              "the audience pods.eks.amazonaws.com, and bound to a pod.";
    } else if (strstr(text, "(ResourceNotFoundException)")) {
        why = "No Pod Identity association names the token's namespace and service account.";
    } else {
        why = "The agent refused the request: see its answer above.";
    }
    pdc_resp_free(&r);
    return step(h, "agent", 0, why);
}

/* ---- step: where the token comes from (cluster mode) ---- */
static int step_source(struct hs *h, const char *cluster, const char *ns, const char *sa)
{
    struct pdc_ctx *c = h->c;
    struct pdc_cluster k;
    struct pdc_pod_identity pi;
    const char *err = NULL;
    memset(&pi, 0, sizeof(pi));
    int rc = pdc_eks_cluster(c, cluster, &k, &err);
    if (rc != PD_OK) {
        say(h, "%s", err);
        return step(h, "service account", 0,
                    rc == PD_ENOTFOUND
                        ? pd_arena_printf(&c->arena,
                                          "There is no EKS cluster named %s in region %s for "
                                          "these credentials. Check --cluster and --region "
                                          "(aws eks list-clusters).",
                                          cluster, c->region)
                        : "podiamctl could not read the cluster: see above.");
    }
    say(h, "cluster   %s (%s)", k.name, k.arn);
    say(h, "issuer    %s", k.issuer ? k.issuer : "(none)");
    rc = pdc_pod_identity(c, &k, ns, sa, &pi, &err);
    if (rc != PD_OK) {
        say(h, "%s", err);
        step(h, "service account", 0,
             rc == PD_ENOTFOUND
                 ? pd_arena_printf(&c->arena,
                                   "The service account %s/%s does not exist in cluster %s. "
                                   "Create it (kubectl create serviceaccount %s -n %s) and "
                                   "annotate it with eks.amazonaws.com/role-arn=ROLE_ARN.",
                                   ns, sa, cluster, sa, ns)
                 : "podiamctl could not ask the cluster's Kubernetes API: see above.");
        goto out;
    }
    json_t *ann = json_object_get(json_object_get(pi.sa, "metadata"), "annotations");
    say(h, "service account %s/%s, annotations %s", ns, sa, ann ? dump(h, ann, 0) : "{}");
    if (pdc_pod_env(pi.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        rc = source_podid(h, &k, ns, sa, &pi);
        goto out;
    }
    if (!pi.role_arn) {
        rc = step(h, "service account", 0,
                  pd_arena_printf(&c->arena,
                                  "The pod identity webhook leaves pods of %s/%s alone: the "
                                  "service account has no eks.amazonaws.com/role-arn "
                                  "annotation, so the pod gets no AWS_ROLE_ARN or token. "
                                  "Annotate it: kubectl annotate serviceaccount -n %s %s "
                                  "eks.amazonaws.com/role-arn=arn:aws:iam::ACCOUNT:role/ROLE",
                                  ns, sa, ns, sa));
        goto out;
    }
    say(h, "webhook   AWS_ROLE_ARN=%s", pi.role_arn);
    say(h, "          AWS_WEB_IDENTITY_TOKEN_FILE=%s", pi.token_path ? pi.token_path : "?");
    say(h, "          projected token: audience %s, expirationSeconds %lld",
        pi.audience ? pi.audience : "?", pi.expiration);
    if (!h->role_arn)
        h->role_arn = pd_arena_strdup(&c->arena, pi.role_arn);
    rc = pdc_k8s_token(c, &k, ns, sa, pi.audience, pi.expiration, &h->token, &err);
    if (rc != PD_OK) {
        say(h, "%s", err);
        step(h, "service account", 0, "The TokenRequest for the service account failed.");
        goto out;
    }
    say(h, "token     from TokenRequest (%zu bytes)", strlen(h->token));
    rc = step(h, "service account", 1, NULL);
out:
    pdc_pod_identity_free(&pi);
    return rc;
}

/* ---- step: decode the token ---- */
static int step_token(struct hs *h)
{
    struct pd_arena *a = &h->c->arena;
    struct pdc_token t;
    int rc = pdc_token_decode(a, h->token, &t);
    h->header = t.header ? json_incref(t.header) : NULL;
    h->claims = t.claims ? json_incref(t.claims) : NULL;
    pdc_token_free(&t);
    if (rc != PD_OK) {
        say(h, "%s", t.reason);
        return step(h, "token", 0,
                    pd_arena_printf(a,
                                    "The web identity token is not a JWT (%s). STS answers "
                                    "InvalidIdentityToken. Pass the token file's content "
                                    "as it is (a projected service-account token).",
                                    t.reason));
    }
    say(h, "header  %s", dump(h, h->header, 0));
    say(h, "claims  %s", dump(h, h->claims, 1));
    const char *tk[] = {"iat", "nbf", "exp"};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(h->claims, tk[i]);
        if (json_is_integer(v))
            say(h, "%s     %s", tk[i], pdc_time_rel(a, json_integer_value(v), h->now));
    }
    /* the same structural screening STS does (alg none/HS*, crit, strict base64url) */
    json_t *ch = NULL, *cc = NULL;
    enum pd_jwt_reason why = PD_JWT_OK;
    rc = pd_jwt_decode_unverified(h->token, strlen(h->token), &cc, &ch, &why);
    json_decref(ch);
    json_decref(cc);
    if (rc != PD_OK) {
        say(h, "refused: %s", pd_jwt_reason_str(why));
        return step(h, "token", 0,
                    pd_arena_printf(a,
                                    "STS refuses this token before looking at any key: %s. "
                                    "It only accepts tokens signed with RS256/384/512 or "
                                    "ES256/384/512 by the issuer's published key (never "
                                    "\"none\" or an HMAC).",
                                    pd_jwt_reason_str(why)));
    }
    h->iss = jstr(h->claims, "iss");
    h->sub = jstr(h->claims, "sub");
    if (!h->iss)
        return step(h, "token", 0,
                    "The token has no iss claim: STS cannot tell which identity provider "
                    "issued it (InvalidIdentityToken: Missing a required claim: iss).");
    if (!pd_has_prefix(h->iss, "https://"))
        return step(h, "token", 0,
                    pd_arena_printf(a,
                                    "The token's issuer %s is not an https URL; IAM OIDC "
                                    "providers are https URLs, so none can match it.",
                                    h->iss));
    h->prefix = h->iss + 8;
    return step(h, "token", 1, NULL);
}

/* ---- step: the IAM OIDC provider for iss ---- */
static int step_provider(struct hs *h)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    struct pdc_resp r;
    const struct pd_xml_node *res;
    const char *code, *msg;
    const char *want = NULL;
    int rc = pdc_query(c, "iam", "2010-05-08", "ListOpenIDConnectProviders", NULL, 1, &r, &res,
                       &code, &msg);
    if (rc != PD_OK) {
        say(h, "ListOpenIDConnectProviders: %s: %s", code, msg);
        pdc_resp_free(&r);
        return step(h, "IAM OIDC provider", 0,
                    "podiamctl could not list the account's OIDC providers with its own "
                    "credentials (AWS_ACCESS_KEY_ID): see above.");
    }
    const struct pd_xml_node *list = pd_xml_child(res, "OpenIDConnectProviderList");
    say(h, "looking for a provider whose URL is %s", h->iss);
    for (const struct pd_xml_node *m = list ? list->first : NULL; m; m = m->next) {
        const char *arn = pdc_xml_text(m, "Arn");
        if (!arn)
            continue;
        const char *slash = strstr(arn, ":oidc-provider/");
        int match = slash && strcmp(slash + 15, h->prefix) == 0;
        say(h, "  %s %s", match ? "=>" : "  ", arn);
        if (match)
            want = pd_arena_strdup(a, arn);
    }
    pdc_resp_free(&r);
    if (!list || !list->first)
        say(h, "  (the account has no OIDC providers)");
    if (h->role_arn) {
        const char *acct = strstr(h->role_arn, ":iam::");
        if (acct && want && strncmp(acct + 6, strstr(want, ":iam::") + 6, 12) != 0)
            say(h, "note: the role is in another account; STS looks in the role's account");
    }
    if (!want)
        return step(h, "IAM OIDC provider", 0,
                    pd_arena_printf(a,
                                    "No IAM OIDC provider in this account has the URL %s, so "
                                    "STS cannot trust tokens from that issuer "
                                    "(InvalidIdentityToken: No OpenIDConnect provider found "
                                    "in your account for %s). Register it: aws iam "
                                    "create-open-id-connect-provider --url %s "
                                    "--client-id-list sts.amazonaws.com",
                                    h->iss, h->iss, h->iss));
    h->provider_arn = want;
    rc = pdc_query(c, "iam", "2010-05-08", "GetOpenIDConnectProvider",
                   pd_arena_printf(a, "OpenIDConnectProviderArn=%s", pdc_enc(c, want)), 1, &r, &res,
                   &code, &msg);
    if (rc != PD_OK) {
        say(h, "GetOpenIDConnectProvider: %s: %s", code, msg);
        pdc_resp_free(&r);
        return step(h, "IAM OIDC provider", 0, "podiamctl could not read the provider.");
    }
    h->client_ids = json_array();
    const struct pd_xml_node *ids = pd_xml_child(res, "ClientIDList");
    for (const struct pd_xml_node *m = ids ? ids->first : NULL; m; m = m->next)
        json_array_append_new(h->client_ids, json_string(m->text));
    pdc_resp_free(&r);
    say(h, "client ids (audiences) %s", dump(h, h->client_ids, 0));
    return step(h, "IAM OIDC provider", 1, NULL);
}

/* ---- steps: discovery, JWKS, signature ---- */
static int step_keys(struct hs *h)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    struct pdc_resp r;
    json_t *doc = NULL;
    const char *path = pd_arena_printf(a, "oidc/%s/.well-known/openid-configuration", h->prefix);
    say(h, "GET %s/_podiam/%s", c->endpoint, path);
    int rc = pdc_admin(c, "GET", path, NULL, &r, (void **)&doc);
    pdc_resp_free(&r);
    if (rc != PD_OK || !json_is_object(doc)) {
        json_decref(doc);
        say(h, "%s", rc == PD_ENOTFOUND ? "404: podiam does not host this issuer" : "failed");
        return step(h, "discovery", 0,
                    pd_arena_printf(a,
                                    "podiam does not host the issuer %s, so STS cannot fetch "
                                    "its keys (InvalidIdentityToken: Couldn't retrieve "
                                    "verification key from your identity provider). Tokens "
                                    "must come from a cluster's issuer or one made with POST "
                                    "/_podiam/oidc/issuers.",
                                    h->iss));
    }
    h->discovery = doc;
    say(h, "%s", dump(h, doc, 1));
    const char *disc_iss = jstr(doc, "issuer");
    if (!disc_iss || strcmp(disc_iss, h->iss) != 0)
        return step(h, "discovery", 0,
                    pd_arena_printf(a,
                                    "The discovery document's issuer (%s) is not the token's "
                                    "iss (%s) byte for byte.",
                                    disc_iss ? disc_iss : "absent", h->iss));
    step(h, "discovery", 1, NULL);

    const char *jwks_uri = jstr(doc, "jwks_uri");
    json_t *keys = NULL;
    if (jwks_uri) {
        struct pdc_req q = {.method = "GET", .url = jwks_uri};
        say(h, "GET %s", jwks_uri);
        if (pdc_http(c, &q, &r) == PD_OK && r.status == 200)
            keys = json_loadb(pd_buf_str(&r.body), r.body.len, 0, NULL);
        pdc_resp_free(&r);
    }
    if (!json_is_array(json_object_get(keys, "keys"))) {
        json_decref(keys);
        return step(h, "JWKS", 0, "The issuer's JWKS could not be fetched from jwks_uri.");
    }
    h->jwks_doc = keys;
    const char *kid = jstr(h->header, "kid");
    json_t *found = NULL;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(keys, "keys"), i, k)
    {
        const char *kk = jstr(k, "kid");
        int m = kid && kk && strcmp(kid, kk) == 0;
        say(h, "  %s kid %s (%s %s)", m ? "=>" : "  ", kk ? kk : "-", jstr(k, "kty"),
            jstr(k, "alg") ? jstr(k, "alg") : "");
        if (m)
            found = k;
    }
    if (!found)
        return step(h, "JWKS", 0,
                    pd_arena_printf(a,
                                    "The token's kid %s is not among the issuer's published "
                                    "keys (InvalidIdentityToken: Couldn't retrieve "
                                    "verification key...). The key was rotated away twice "
                                    "or the token was signed by another issuer's key: get a "
                                    "fresh token.",
                                    kid ? kid : "(none)"));
    say(h, "key pins alg %s; the token's header says %s", jstr(found, "alg"),
        jstr(h->header, "alg"));
    step(h, "JWKS", 1, NULL);

    struct pd_jwks set;
    pd_jwks_init(&set);
    size_t skipped = 0;
    json_t *vc = NULL;
    enum pd_jwt_reason why = PD_JWT_OK;
    rc = pd_jwks_from_json(keys, &set, &skipped);
    if (rc == PD_OK)
        rc = pd_jwt_verify(h->token, strlen(h->token), &set, -1, &vc, NULL, &why);
    pd_jwks_cleanup(&set);
    json_decref(vc);
    if (rc != PD_OK) {
        say(h, "verification failed: %s", pd_jwt_reason_str(why));
        return step(h, "signature", 0,
                    pd_arena_printf(a,
                                    "The signature does not verify with the issuer's key %s "
                                    "(%s): the token was altered or signed by another key "
                                    "under the same kid. STS answers InvalidIdentityToken.",
                                    kid, pd_jwt_reason_str(why)));
    }
    say(h, "%s signature verified with the published key %s", jstr(found, "alg"), kid);
    return step(h, "signature", 1, NULL);
}

/* ---- steps: audience, times, subject ---- */
static int step_claims(struct hs *h)
{
    struct pd_arena *a = &h->c->arena;
    json_t *aud = pdc_token_aud(h->claims);
    size_t i, j;
    json_t *v, *w;
    say(h, "token aud %s", dump(h, aud, 0));
    say(h, "provider client ids %s", dump(h, h->client_ids, 0));
    json_array_foreach(aud, i, v) json_array_foreach(h->client_ids, j, w)
    {
        if (!h->matched_aud && json_equal(v, w))
            h->matched_aud = pd_arena_strdup(a, json_string_value(v));
    }
    const char *auds = dump(h, aud, 0);
    json_decref(aud);
    if (!h->matched_aud)
        return step(h, "audience", 0,
                    pd_arena_printf(a,
                                    "None of the token's audiences %s is a client id of the "
                                    "IAM OIDC provider (%s), so STS answers "
                                    "InvalidIdentityToken: Incorrect token audience. Add it "
                                    "(aws iam add-client-id-to-open-id-connect-provider "
                                    "--open-id-connect-provider-arn %s --client-id AUD) or "
                                    "ask for a token with the provider's audience (IRSA uses "
                                    "sts.amazonaws.com; the service account annotation "
                                    "eks.amazonaws.com/audience changes it).",
                                    auds, dump(h, h->client_ids, 0), h->provider_arn));
    say(h, "matched %s", h->matched_aud);
    step(h, "audience", 1, NULL);

    struct pd_jwt_times t;
    say(h, "podiam's clock %s", pdc_time_rel(a, h->now, h->now));
    if (pd_jwt_times(h->claims, &t) != PD_OK)
        return step(h, "times", 0,
                    "exp, nbf and iat must be integer NumericDates (seconds since 1970, no "
                    "fraction, not strings): STS answers InvalidIdentityToken.");
    if (!t.has_exp)
        return step(h, "times", 0,
                    "The token has no exp claim (InvalidIdentityToken: Missing a required "
                    "claim: exp).");
    say(h, "exp %s", pdc_time_rel(a, t.exp, h->now));
    if (t.has_nbf)
        say(h, "nbf %s", pdc_time_rel(a, t.nbf, h->now));
    if (t.has_iat)
        say(h, "iat %s", pdc_time_rel(a, t.iat, h->now));
    if (t.exp <= h->now)
        return step(h, "times", 0,
                    pd_arena_printf(a,
                                    "The token expired %lld s ago (exp %lld, podiam's clock "
                                    "%lld): STS answers ExpiredTokenException. Get a fresh "
                                    "token (kubelet refreshes projected tokens at 80%% of "
                                    "their lifetime; mint one with a longer ttl, or check "
                                    "the clock offset set with the admin API).",
                                    (long long)(h->now - t.exp), (long long)t.exp,
                                    (long long)h->now));
    if ((t.has_nbf && t.nbf > h->now + 60) || (t.has_iat && t.iat > h->now + 60))
        return step(h, "times", 0,
                    "The token is not valid yet (nbf or iat more than 60 s after podiam's "
                    "clock): STS answers InvalidIdentityToken. Check the issuer's clock.");
    step(h, "times", 1, NULL);

    if (!h->sub)
        return step(h, "subject", 0,
                    "The token has no sub claim (InvalidIdentityToken: Missing a required "
                    "claim: sub).");
    say(h, "sub %s", h->sub);
    return step(h, "subject", 1, NULL);
}

/* ---- step: the role and its trust policy ---- */
static int step_trust(struct hs *h)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    if (!h->role_arn)
        return step(h, "trust policy", 0, "No role ARN: pass --role-arn.");
    const char *name = strrchr(h->role_arn, '/');
    if (!strstr(h->role_arn, ":role/") || !name)
        return step(h, "trust policy", 0,
                    pd_arena_printf(a, "%s is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME).",
                                    h->role_arn));
    name++;
    struct pdc_resp r;
    const struct pd_xml_node *res;
    const char *code, *msg;
    int rc =
        pdc_query(c, "iam", "2010-05-08", "GetRole",
                  pd_arena_printf(a, "RoleName=%s", pdc_enc(c, name)), 1, &r, &res, &code, &msg);
    if (rc != PD_OK) {
        say(h, "GetRole %s: %s: %s", name, code, msg);
        pdc_resp_free(&r);
        return step(h, "trust policy", 0,
                    code && strcmp(code, "NoSuchEntity") == 0
                        ? pd_arena_printf(a,
                                          "The role %s does not exist, so there is nothing to "
                                          "assume. Create it (aws iam create-role --role-name "
                                          "%s --assume-role-policy-document file://trust.json) "
                                          "or fix the eks.amazonaws.com/role-arn annotation.",
                                          h->role_arn, name)
                        : "podiamctl could not read the role: see above.");
    }
    const char *doc = pdc_xml_text(res, "Role/AssumeRolePolicyDocument");
    char *dec = NULL;
    size_t n;
    if (doc && pd_url_decode(a, doc, strlen(doc), 0, &dec, &n) == PD_OK) {
        json_t *j = json_loads(dec, 0, NULL);
        say(h, "role %s", pdc_xml_text(res, "Role/Arn"));
        say(h, "trust policy %s", j ? dump(h, j, 1) : dec);
        json_decref(j);
    }
    pdc_resp_free(&r);
    say(h, "the request will carry:");
    say(h, "  principal  {\"Federated\": \"%s\"}", h->provider_arn);
    say(h, "  action     sts:AssumeRoleWithWebIdentity");
    say(h, "  %s:sub = %s", h->prefix, h->sub);
    say(h, "  %s:aud = %s", h->prefix, h->matched_aud);
    say(h, "  sts:RoleSessionName = %s", h->session_name);
    return step(h, "trust policy", 1, NULL);
}

/* Explain a denial from its decision log entry. */
static const char *explain_decision(struct hs *h, json_t *d, const char *what)
{
    struct pd_arena *a = &h->c->arena;
    size_t i, j, k, m;
    json_t *chk, *ev, *pol, *st;
    const char *msg = jstr(d, "message");
    say(h, "decision %s: %s (%s)", jstr(d, "id"), jstr(d, "decision"),
        jstr(d, "decided_by") ? jstr(d, "decided_by") : "-");
    if (msg)
        say(h, "message: %s", msg);
    const char *first = NULL;
    int allows = 0;
    json_array_foreach(json_object_get(d, "checks"), i, chk)
    {
        json_t *tr = json_object_get(chk, "trace");
        json_array_foreach(json_object_get(tr, "evaluations"), j, ev)
        {
            json_array_foreach(json_object_get(ev, "policies"), k, pol)
            {
                say(h, "policy %s (%s)", jstr(pol, "id"), jstr(pol, "type"));
                if (json_array_size(json_object_get(pol, "statements")) == 0)
                    say(h, "  no statement covers %s (%lld about other actions)",
                        jstr(chk, "action"),
                        (long long)json_integer_value(json_object_get(pol, "otherActions")));
                json_array_foreach(json_object_get(pol, "statements"), m, st)
                {
                    const char *sid = jstr(st, "sid");
                    const char *eff = jstr(st, "effect");
                    int matched = json_is_true(json_object_get(st, "matched"));
                    const char *reason = jstr(st, "reason");
                    json_t *cond = json_object_get(st, "condition");
                    say(h, "  statement %lld%s%s (%s): %s%s%s",
                        (long long)json_integer_value(json_object_get(st, "index")), sid ? " " : "",
                        sid ? sid : "", eff ? eff : "?", matched ? "applies" : "does not apply",
                        reason ? ", " : "", reason ? reason : "");
                    if (matched && eff && strcmp(eff, "Allow") == 0)
                        allows = 1;
                    if (cond) {
                        json_t *ctx = json_object_get(cond, "context");
                        say(h, "    condition %s %s %s; the request has %s", jstr(cond, "operator"),
                            jstr(cond, "key"), dump(h, json_object_get(cond, "values"), 0),
                            json_is_null(ctx) || !ctx ? "no value" : dump(h, ctx, 0));
                        if (!first) {
                            const char *key = jstr(cond, "key");
                            const char *tail = key ? strrchr(key, ':') : NULL;
                            const char *said =
                                tail && strcmp(tail, ":sub") == 0 && h->sub
                                    ? pd_arena_printf(a, "the token says sub is %s", h->sub)
                                : json_is_null(ctx) || !ctx
                                    ? "the request has no value for it"
                                    : pd_arena_printf(a, "the request has %s", dump(h, ctx, 0));
                            first = pd_arena_printf(
                                a, "%s: statement %lld of %s needs %s %s %s, but %s.", what,
                                (long long)json_integer_value(json_object_get(st, "index")),
                                jstr(pol, "id"), jstr(cond, "operator"), key,
                                dump(h, json_object_get(cond, "values"), 0), said);
                        }
                    } else if (!matched && reason && !first) {
                        const char *res = jstr(chk, "resource");
                        first = pd_arena_printf(
                            a,
                            "%s: statement %lld of %s does not apply (its %s does not match%s%s).",
                            what, (long long)json_integer_value(json_object_get(st, "index")),
                            jstr(pol, "id"), reason,
                            strcmp(reason, "resource") == 0 && res ? " " : "",
                            strcmp(reason, "resource") == 0 && res ? res : "");
                        if (strcmp(reason, "principal") == 0 && h->provider_arn)
                            first = pd_arena_printf(
                                a,
                                "%s The request's principal is {\"Federated\": \"%s\"}: the "
                                "statement must name exactly that provider ARN.",
                                first, h->provider_arn);
                    }
                }
            }
        }
    }
    json_t *miss = json_object_get(json_object_get(json_object_get(d, "checks"), 0), "trace");
    miss = json_object_get(miss, "missingContextValues");
    if (json_array_size(miss))
        say(h, "missing context values %s", dump(h, miss, 0));
    json_t *ctx = json_object_get(d, "context");
    if (ctx)
        say(h, "context %s", dump(h, ctx, 1));
    if (first)
        return first;
    if (jstr(d, "decision") && strcmp(jstr(d, "decision"), "explicitDeny") == 0)
        return pd_arena_printf(a, "%s: an explicit Deny statement matched (see above). %s", what,
                               msg ? msg : "");
    (void)allows;
    return pd_arena_printf(a, "%s: no statement allows it. %s", what, msg ? msg : "");
}

/* Fetch the decision of a denied request: by x-podiam-decision-id, else by request id. */
static json_t *fetch_decision(struct hs *h, const struct pdc_resp *r)
{
    struct pd_arena *a = &h->c->arena;
    const char *id = pd_kvs_get(&r->headers, "x-podiam-decision-id", 1);
    const char *rid = pd_kvs_get(&r->headers, "x-amzn-requestid", 1);
    if (!rid)
        rid = pd_kvs_get(&r->headers, "x-amz-request-id", 1);
    struct pdc_resp dr;
    json_t *d = NULL;
    if (id) {
        pdc_admin(h->c, "GET", pd_arena_printf(a, "decisions/%s", pdc_enc(h->c, id)), NULL, &dr,
                  (void **)&d);
        pdc_resp_free(&dr);
    } else if (rid) {
        json_t *l = NULL;
        pdc_admin(h->c, "GET",
                  pd_arena_printf(a, "decisions?request_id=%s&limit=1", pdc_enc(h->c, rid)), NULL,
                  &dr, (void **)&l);
        pdc_resp_free(&dr);
        json_t *arr = json_is_array(l) ? l : json_object_get(l, "decisions");
        d = json_incref(json_array_get(arr, 0));
        json_decref(l);
    }
    if (d && !json_is_object(d)) {
        json_decref(d);
        d = NULL;
    }
    return d;
}

/* ---- step: the real call ---- */
static int step_assume(struct hs *h, int quiet_ok)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    struct pdc_resp r;
    const struct pd_xml_node *res;
    const char *code, *msg;
    const char *params =
        pd_arena_printf(a, "RoleArn=%s&RoleSessionName=%s&WebIdentityToken=%s",
                        pdc_enc(c, h->role_arn), pdc_enc(c, h->session_name), pdc_enc(c, h->token));
    say(h, "POST %s/ Action=AssumeRoleWithWebIdentity (unsigned, as SDKs send it)", c->endpoint);
    int rc = pdc_query(c, "sts", "2011-06-15", "AssumeRoleWithWebIdentity", params, 0, &r, &res,
                       &code, &msg);
    if (rc == PD_OK) {
        h->assumed_arn = pd_arena_strdup(a, pdc_xml_text(res, "AssumedRoleUser/Arn"));
        h->akid = pd_arena_strdup(a, pdc_xml_text(res, "Credentials/AccessKeyId"));
        h->secret = pd_arena_strdup(a, pdc_xml_text(res, "Credentials/SecretAccessKey"));
        h->session_token = pd_arena_strdup(a, pdc_xml_text(res, "Credentials/SessionToken"));
        say(h, "assumed role  %s", h->assumed_arn);
        say(h, "provider      %s", pdc_xml_text(res, "Provider"));
        say(h, "audience      %s", pdc_xml_text(res, "Audience"));
        say(h, "subject       %s", pdc_xml_text(res, "SubjectFromWebIdentityToken"));
        say(h, "credentials   %s (expires %s)", h->akid,
            pdc_xml_text(res, "Credentials/Expiration"));
        pdc_resp_free(&r);
        return step(h, "AssumeRoleWithWebIdentity", 1, NULL);
    }
    say(h, "%s: %s", code, msg);
    const char *why = NULL;
    if (code && strcmp(code, "AccessDenied") == 0) {
        json_t *d = fetch_decision(h, &r);
        if (d) {
            why = explain_decision(h, d,
                                   pd_arena_printf(a,
                                                   "The trust policy of %s refuses "
                                                   "sts:AssumeRoleWithWebIdentity",
                                                   h->role_arn));
            json_decref(d);
        } else {
            why = "The role's trust policy does not allow sts:AssumeRoleWithWebIdentity for "
                  "this provider and token (no decision trace was found).";
        }
    }
    pdc_resp_free(&r);
    (void)quiet_ok;
    return step(h, "AssumeRoleWithWebIdentity", 0,
                why ? why
                    : pd_arena_printf(a,
                                      "STS refused the token with %s: %s (a check podiamctl's "
                                      "own steps did not catch; see docs/eks-oidc.md).",
                                      code, msg));
}

/* After a local check failed: what STS itself answers, for comparison. */
static void sts_says(struct hs *h, json_t *out)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    if (!h->role_arn || !h->token)
        return;
    struct pdc_resp r;
    const struct pd_xml_node *res;
    const char *code, *msg;
    const char *params =
        pd_arena_printf(a, "RoleArn=%s&RoleSessionName=%s&WebIdentityToken=%s",
                        pdc_enc(c, h->role_arn), pdc_enc(c, h->session_name), pdc_enc(c, h->token));
    int rc = pdc_query(c, "sts", "2011-06-15", "AssumeRoleWithWebIdentity", params, 0, &r, &res,
                       &code, &msg);
    pdc_resp_free(&r);
    if (rc == PD_OK) {
        code = "(none)";
        msg = "STS issued credentials anyway";
    }
    if (out)
        json_object_set_new(out, "sts", json_pack("{s:s, s:s}", "code", code, "message", msg));
    else
        printf("\n  STS answers: %s: %s\n", code, msg);
}

/* ---- optional step: an S3 PutObject with the role's credentials ---- */
static int step_s3(struct hs *h)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    const char *target = h->s3_put;
    if (pd_has_prefix(target, "s3://"))
        target += 5;
    const char *slash = strchr(target, '/');
    if (!slash || slash == target || !slash[1])
        return step(h, "S3 PutObject", 0, "--s3-put wants BUCKET/KEY (or s3://BUCKET/KEY).");
    const char *body = "written by podiamctl handshake\n";
    const char *path = pd_arena_printf(a, "/%s", pd_url_encode(a, target, strlen(target), 1));
    struct pdc_signed s = {.service = "s3",
                           .method = "PUT",
                           .path = path,
                           .content_type = "text/plain",
                           .body = body,
                           .body_len = strlen(body),
                           .akid = h->akid,
                           .secret = h->secret,
                           .token = h->session_token};
    struct pdc_resp r;
    say(h, "PUT %s%s signed by %s", c->endpoint, path, h->assumed_arn);
    int rc = pdc_aws(c, &s, &r);
    if (rc != PD_OK) {
        say(h, "%s", r.error);
        pdc_resp_free(&r);
        return step(h, "S3 PutObject", 0, "The request did not get an answer.");
    }
    if (r.status == 200) {
        const char *etag = pd_kvs_get(&r.headers, "etag", 1);
        say(h, "200 OK, ETag %s", etag ? etag : "-");
        pdc_resp_free(&r);
        return step(h, "S3 PutObject", 1, NULL);
    }
    struct pd_xml_node *root = NULL;
    const char *code = NULL, *msg = NULL;
    if (pd_xml_parse(a, pd_buf_str(&r.body), r.body.len, &root, NULL) == PD_OK) {
        code = pdc_xml_text(root, "Code");
        msg = pdc_xml_text(root, "Message");
    }
    say(h, "HTTP %ld %s: %s", r.status, code ? code : "?", msg ? msg : "");
    const char *why = NULL;
    if (r.status == 403) {
        json_t *d = fetch_decision(h, &r);
        if (d) {
            why = explain_decision(
                h, d,
                pd_arena_printf(a, "The role's policies do not allow s3:PutObject on %s", target));
            json_decref(d);
        }
    }
    pdc_resp_free(&r);
    return step(h, "S3 PutObject", 0,
                why ? why
                    : pd_arena_printf(a, "S3 refused the PutObject: %s: %s", code ? code : "?",
                                      msg ? msg : ""));
}

static void usage(FILE *f)
{
    fputs("usage: podiamctl handshake --cluster NAME --service-account SA [--namespace NS]\n"
          "       podiamctl handshake (--token FILE | --token-string JWT) --role-arn ARN\n"
          "\n"
          "Step through what STS does with a web identity token, as podiam does it: decode the\n"
          "token, find the IAM OIDC provider for its issuer, fetch the issuer's discovery\n"
          "document and JWKS, verify the signature with the published key, check audience,\n"
          "times and subject, show the role's trust policy, then call\n"
          "AssumeRoleWithWebIdentity. Stops at the first failing step and explains it; a\n"
          "denial is explained from podiam's decision trace.\n"
          "\n"
          "  --cluster NAME          EKS cluster; with --service-account, the token comes from\n"
          "                          the cluster's TokenRequest and the role from the service\n"
          "                          account's eks.amazonaws.com/role-arn annotation\n"
          "  --service-account SA    --namespace NS (default \"default\")\n"
          "  --token FILE            the token from a file (\"-\": standard input)\n"
          "  --token-string JWT      the token itself\n"
          "  --role-arn ARN          the role to assume (overrides the annotation)\n"
          "  --session-name NAME     RoleSessionName (default podiamctl-handshake)\n"
          "  --s3-put BUCKET/KEY     then PutObject with the credentials obtained\n"
          "  --json                  machine output: {ok, steps: [{name, ok, detail}], ...}\n"
          "  --endpoint URL          podiam (AWS_ENDPOINT_URL, default http://127.0.0.1:4566)\n"
          "  --region R              (AWS_REGION, AWS_DEFAULT_REGION, default us-east-1)\n"
          "  --ca-file PEM           CA for https endpoints (default: podiam's /_podiam/ca.pem)\n"
          "  -v                      print each HTTP request on standard error\n"
          "\n"
          "Exit status 0 when credentials were obtained (and the PutObject succeeded), 1 "
          "otherwise.\n",
          f);
}

int pdc_cmd_handshake(int argc, char **argv)
{
    static const struct option opts[] = {
        {"cluster", 1, 0, 'c'},      {"service-account", 1, 0, 's'},
        {"namespace", 1, 0, 'n'},    {"token", 1, 0, 't'},
        {"token-string", 1, 0, 'T'}, {"role-arn", 1, 0, 'r'},
        {"session-name", 1, 0, 'S'}, {"s3-put", 1, 0, 'p'},
        {"json", 0, 0, 'j'},         {"endpoint", 1, 0, 'e'},
        {"region", 1, 0, 'R'},       {"ca-file", 1, 0, 'C'},
        {"help", 0, 0, 'h'},         {0, 0, 0, 0}};
    const char *cluster = NULL, *sa = NULL, *ns = "default", *token_file = NULL;
    const char *token_str = NULL, *role = NULL, *endpoint = NULL, *region = NULL, *ca = NULL;
    const char *session = "podiamctl-handshake", *s3_put = NULL;
    int json = 0, verbose = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            cluster = optarg;
            break;
        case 's':
            sa = optarg;
            break;
        case 'n':
            ns = optarg;
            break;
        case 't':
            token_file = optarg;
            break;
        case 'T':
            token_str = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'S':
            session = optarg;
            break;
        case 'p':
            s3_put = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'R':
            region = optarg;
            break;
        case 'C':
            ca = optarg;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int sources = !!token_file + !!token_str + !!(cluster || sa);
    if (optind != argc || sources != 1 || (!!cluster != !!sa) ||
        ((token_file || token_str) && !role)) {
        fprintf(stderr, "podiamctl handshake: give --cluster and --service-account, or a token "
                        "(--token/--token-string) and --role-arn\n");
        usage(stderr);
        return 2;
    }
    struct pdc_ctx c;
    pdc_ctx_init(&c, endpoint, region, ca);
    c.verbose = verbose;
    struct hs h;
    memset(&h, 0, sizeof(h));
    h.c = &c;
    h.json = json;
    h.steps = json_array();
    h.role_arn = role;
    h.session_name = session;
    h.s3_put = s3_put;
    pd_buf_init(&h.detail, 0);
    h.now = podiam_now(&c);
    int rc = PD_OK;
    if (token_file) {
        char *t = pdc_read_file(token_file, 1 << 20, NULL);
        if (!t) {
            fprintf(stderr, "podiamctl handshake: cannot read %s\n", token_file);
            rc = 2;
            goto out;
        }
        size_t n = strlen(t);
        while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
            t[--n] = 0;
        h.token = pd_arena_strdup(&c.arena, t);
        free(t);
    } else if (token_str) {
        h.token = token_str;
    }
    if (!json)
        printf("podiamctl handshake against %s (podiam's clock %s)\n\n", c.endpoint,
               pdc_time_rel(&c.arena, h.now, h.now));
    int local_fail = 0;
    if (cluster && (rc = step_source(&h, cluster, ns, sa)) == PD_OK && h.podid) {
        /* EKS Pod Identity: token, association and role, then the agent's exchange */
        if ((rc = step_token(&h)) == PD_OK && (rc = step_podid_association(&h)) == PD_OK &&
            (rc = step_podid_agent(&h)) == PD_OK && s3_put)
            rc = step_s3(&h);
    } else if (rc) {
        local_fail = 1;
    } else if ((rc = step_token(&h)) || (rc = step_provider(&h)) || (rc = step_keys(&h)) ||
               (rc = step_claims(&h)) || (rc = step_trust(&h)))
        local_fail = 1;
    else if ((rc = step_assume(&h, 0)) == PD_OK && s3_put)
        rc = step_s3(&h);
    json_t *out = NULL;
    if (json)
        out = json_pack("{s:b, s:o}", "ok", rc == PD_OK, "steps", json_incref(h.steps));
    if (local_fail && h.token && h.role_arn)
        sts_says(&h, out);
    if (json) {
        if (h.failed) {
            json_object_set_new(out, "failed_step", json_string(h.failed));
            json_object_set_new(out, "explanation", json_string(h.explain ? h.explain : ""));
        }
        if (h.assumed_arn)
            json_object_set_new(out, "assumed_role_arn", json_string(h.assumed_arn));
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
        json_decref(out);
    } else if (rc == PD_OK) {
        printf("\nCredentials obtained: %s\n", h.assumed_arn);
    }
    rc = rc == PD_OK ? 0 : 1;
out:
    json_decref(h.steps);
    json_decref(h.header);
    json_decref(h.claims);
    json_decref(h.client_ids);
    json_decref(h.discovery);
    json_decref(h.jwks_doc);
    pd_buf_free(&h.detail);
    pdc_ctx_cleanup(&c);
    return rc;
}
