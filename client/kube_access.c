/*
 * kube_access.c - `podiamctl k8s-access`: the kubectl side of a cluster's access, step by
 * step, for the identity of a kubeconfig (or of podiamctl's own credentials): the kubeconfig
 * as kubectl resolves it, the `aws eks get-token` exec plugin run as kubectl runs it and its
 * token taken apart, authentication (SelfSubjectReview: who the API server says the caller
 * is) with how EKS mapped the IAM identity (from podiam's decision log: the creator, which
 * access entry, which aws-auth line, the aws-auth lines EKS ignored), then an optional
 * authorization (SelfSubjectAccessReview, with what system:masters, the EKS access policies
 * and RBAC each said) and the rules `kubectl auth can-i --list` shows.
 *
 * Stops at the first failing step and explains it, as `podiamctl handshake` does. The
 * kubeconfig is read with `kubectl config view --minify --raw -o json`, so kubectl's own
 * merging and defaults apply (KUBECONFIG lists, current-context). Owns nothing past the
 * command; the plugin's process is waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/str.h"
#include "explain.h"
#include "http.h"
#include "k8s.h"

extern char **environ;

#define OUT_MAX (4u << 20) /* bytes read from kubectl or the plugin */

struct ka {
    struct pdc_ctx *c;
    int json;
    json_t *steps;
    struct pd_buf detail;
    const char *failed, *explain;
    int n;
    /* what the steps learn */
    const char *server, *ca_pem, *context, *ns, *token;
    int insecure;
    json_t *exec; /* the kubeconfig user's exec stanza (borrowed from kc) */
    json_t *kc;
    const char *static_token;
    json_t *user_info; /* SelfSubjectReview status.userInfo */
    json_t *identity;  /* the decision of the authentication request */
    json_t *access;    /* the decision of the authorization review */
};

static void say(struct ka *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct ka *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pd_buf_vprintf(&h->detail, fmt, ap);
    va_end(ap);
    pd_buf_addc(&h->detail, '\n');
}

/* A block of lines (ending in a newline or not) into the current step's detail. */
static void say_block(struct ka *h, const struct pd_buf *b)
{
    size_t n = b->len;
    while (n && b->p[n - 1] == '\n')
        n--;
    if (n)
        say(h, "%.*s", (int)n, b->p);
}

static int step(struct ka *h, const char *name, int ok, const char *explain)
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

static const char *js(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *nz(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

/* ---- running a program (kubectl, the exec plugin) ---- */

/* Run argv with env (NULL: ours); stdout into *OUT (arena), stderr into *OUT_err (arena).
 * Returns the exit status, or -1 when it could not be started (*OUT_err says why). */
static int run(struct pd_arena *a, char *const *argv, char *const *env, const char **OUT,
               const char **OUT_err)
{
    int po[2], pe[2];
    *OUT = "";
    *OUT_err = "";
    if (pipe(po) || pipe(pe)) {
        *OUT_err = pd_arena_printf(a, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        *OUT_err = pd_arena_printf(a, "fork: %s", strerror(errno));
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        int dn = open("/dev/null", O_RDONLY);
        if (dn >= 0)
            dup2(dn, 0);
        if (env)
            environ = (char **)env;
        execvp(argv[0], argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    struct pd_buf ob, eb;
    pd_buf_init(&ob, OUT_MAX);
    pd_buf_init(&eb, OUT_MAX);
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char tmp[8192];
            ssize_t n = read(fds[i].fd, tmp, sizeof tmp);
            if (n > 0) {
                pd_buf_add(i ? &eb : &ob, tmp, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    *OUT = pd_arena_strndup(a, pd_buf_str(&ob), ob.len);
    *OUT_err = pd_arena_strndup(a, pd_buf_str(&eb), eb.len);
    pd_buf_free(&ob);
    pd_buf_free(&eb);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* ---- step: the kubeconfig ---- */

static int step_kubeconfig(struct ka *h, const char *kubeconfig, const char *context)
{
    struct pd_arena *a = &h->c->arena;
    const char *kubectl = getenv("KUBECTL");
    char *argv[12];
    int n = 0;
    argv[n++] = (char *)(kubectl && *kubectl ? kubectl : "kubectl");
    argv[n++] = "config";
    argv[n++] = "view";
    argv[n++] = "--minify";
    argv[n++] = "--raw";
    argv[n++] = "-o";
    argv[n++] = "json";
    if (kubeconfig) {
        argv[n++] = "--kubeconfig";
        argv[n++] = (char *)kubeconfig;
    }
    if (context) {
        argv[n++] = "--context";
        argv[n++] = (char *)context;
    }
    argv[n] = NULL;
    const char *out, *err;
    int st = run(a, argv, NULL, &out, &err);
    if (st != 0) {
        say(h, "%s config view --minify --raw -o json: %s", argv[0], *err ? err : "failed");
        return step(h, "kubeconfig", 0,
                    st < 0 || st == 127
                        ? "podiamctl reads the kubeconfig with kubectl (as kubectl itself "
                          "resolves it), and kubectl could not be run: install it or set "
                          "KUBECTL; or use --cluster NAME [--role-arn ARN] instead."
                        : "kubectl could not resolve the kubeconfig or context (see above).");
    }
    h->kc = json_loads(out, 0, NULL);
    const json_t *ctx =
        json_object_get(json_array_get(json_object_get(h->kc, "contexts"), 0), "context");
    const json_t *cl =
        json_object_get(json_array_get(json_object_get(h->kc, "clusters"), 0), "cluster");
    const json_t *user =
        json_object_get(json_array_get(json_object_get(h->kc, "users"), 0), "user");
    h->context = js(h->kc, "current-context");
    say(h, "context   %s", h->context ? h->context : "(none)");
    h->server = js(cl, "server");
    if (!h->server) {
        say(h, "no cluster server in the kubeconfig");
        return step(h, "kubeconfig", 0, "The context names no cluster with a server URL.");
    }
    say(h, "server    %s", h->server);
    if (!h->ns)
        h->ns = js(ctx, "namespace") ? js(ctx, "namespace") : "default";
    const char *cad = js(cl, "certificate-authority-data");
    const char *caf = js(cl, "certificate-authority");
    h->insecure = json_is_true(json_object_get(cl, "insecure-skip-tls-verify"));
    if (cad) {
        unsigned char *pem;
        size_t len;
        if (pd_base64_decode(a, cad, strlen(cad), &pem, &len) == PD_OK)
            h->ca_pem = pd_arena_strndup(a, (const char *)pem, len);
        say(h, "CA        certificate-authority-data (%zu bytes)",
            h->ca_pem ? strlen(h->ca_pem) : 0);
    } else if (caf) {
        char *p = pdc_read_file(caf, 1 << 20, NULL);
        if (p) {
            h->ca_pem = pd_arena_strdup(a, p);
            free(p);
        }
        say(h, "CA        %s", caf);
    } else if (h->insecure) {
        say(h, "CA        none (insecure-skip-tls-verify)");
    }
    if (!pd_has_prefix(h->server, "https://"))
        return step(h, "kubeconfig", 0,
                    "The server is not an https URL: kubectl sends no credentials over http "
                    "and never runs the exec plugin, so every request is anonymous. Use the "
                    "https endpoint aws eks describe-cluster gives (with its certificate "
                    "authority data).");
    h->exec = json_object_get(user, "exec");
    h->static_token = js(user, "token");
    if (h->exec) {
        struct pd_buf b;
        pd_buf_init(&b, 0);
        pd_buf_adds(&b, js(h->exec, "command") ? js(h->exec, "command") : "?");
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(h->exec, "args"), i, v)
        {
            pd_buf_printf(&b, " %s", json_is_string(v) ? json_string_value(v) : "?");
        }
        say(h, "user      exec: %s", pd_buf_str(&b));
        pd_buf_free(&b);
        json_array_foreach(json_object_get(h->exec, "env"), i, v)
        {
            say(h, "          env %s=%s", js(v, "name") ? js(v, "name") : "?",
                js(v, "value") ? js(v, "value") : "");
        }
    } else if (h->static_token) {
        say(h, "user      a static token (%zu bytes)", strlen(h->static_token));
    } else {
        say(h, "user      no exec plugin and no token");
        return step(h, "kubeconfig", 0,
                    "The kubeconfig's user has no credentials: for EKS it runs `aws eks "
                    "get-token` as an exec plugin (aws eks update-kubeconfig writes it).");
    }
    say(h, "namespace %s", h->ns);
    return step(h, "kubeconfig", 1, NULL);
}

/* ---- step: the token ---- */

/* The token's presigned URL, taken apart. */
static void describe_token(struct ka *h, const char *token)
{
    struct pd_arena *a = &h->c->arena;
    if (!pd_has_prefix(token, "k8s-aws-v1.")) {
        say(h, "token     not an EKS token (%zu bytes)", strlen(token));
        return;
    }
    const char *b64 = token + 11;
    unsigned char *raw;
    size_t n;
    if (pd_base64_decode(a, b64, strlen(b64), &raw, &n) != PD_OK) {
        say(h, "token     k8s-aws-v1. followed by bytes that are not base64url");
        return;
    }
    const char *url = pd_arena_strndup(a, (const char *)raw, n);
    const char *q = strchr(url, '?');
    say(h, "token     k8s-aws-v1. + a presigned STS GetCallerIdentity URL:");
    say(h, "          %.*s", (int)(q ? (size_t)(q - url) : strlen(url)), url);
    struct pd_kvs kv = {0};
    if (!q || pd_kvs_parse_form(a, &kv, q + 1, strlen(q + 1), 0) != PD_OK)
        return;
    const char *cred = pd_kvs_get(&kv, "X-Amz-Credential", 1);
    const char *date = pd_kvs_get(&kv, "X-Amz-Date", 1);
    const char *exp = pd_kvs_get(&kv, "X-Amz-Expires", 1);
    const char *sh = pd_kvs_get(&kv, "X-Amz-SignedHeaders", 1);
    const char *tok = pd_kvs_get(&kv, "X-Amz-Security-Token", 1);
    say(h, "          Action=%s, signed by %s", nz(pd_kvs_get(&kv, "Action", 1), "?"),
        cred ? cred : "?");
    say(h, "          X-Amz-Date %s (EKS accepts it for 15 minutes), X-Amz-Expires %s",
        date ? date : "?", exp ? exp : "?");
    say(h, "          signed headers %s%s", sh ? sh : "?",
        sh && strstr(sh, "x-k8s-aws-id") ? " (x-k8s-aws-id: the cluster name, not in the URL)"
                                         : "");
    say(h, "          %s",
        tok ? "temporary credentials (X-Amz-Security-Token)"
            : "long-term credentials (no session token)");
}

static int step_token(struct ka *h)
{
    struct pd_arena *a = &h->c->arena;
    if (h->token) { /* --cluster mode: podiamctl made it */
        describe_token(h, h->token);
        return step(h, "get-token", 1, NULL);
    }
    if (h->static_token) {
        h->token = h->static_token;
        describe_token(h, h->token);
        return step(h, "get-token", 1, NULL);
    }
    const char *cmd = js(h->exec, "command");
    const json_t *args = json_object_get(h->exec, "args");
    size_t nargs = json_array_size(args);
    char **argv = pd_arena_zalloc(a, (nargs + 2) * sizeof *argv);
    argv[0] = (char *)cmd;
    for (size_t i = 0; i < nargs; i++)
        argv[i + 1] = (char *)(nz(json_string_value(json_array_get(args, i)), ""));
    /* kubectl's environment for the plugin: ours, the stanza's env, KUBERNETES_EXEC_INFO */
    size_t ne = 0;
    while (environ[ne])
        ne++;
    const json_t *extra = json_object_get(h->exec, "env");
    char **env = pd_arena_zalloc(a, (ne + json_array_size(extra) + 2) * sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (!pd_has_prefix(environ[i], "KUBERNETES_EXEC_INFO="))
            env[k++] = environ[i];
    size_t i;
    json_t *v;
    json_array_foreach(extra, i, v)
    {
        env[k++] = pd_arena_printf(a, "%s=%s", nz(js(v, "name"), ""), nz(js(v, "value"), ""));
    }
    const char *api = nz(js(h->exec, "apiVersion"), "client.authentication.k8s.io/v1beta1");
    env[k++] = pd_arena_printf(a,
                               "KUBERNETES_EXEC_INFO={\"kind\":\"ExecCredential\",\"apiVersion\":"
                               "\"%s\",\"spec\":{\"interactive\":false}}",
                               api);
    env[k] = NULL;
    const char *out, *err;
    int st = run(a, argv, env, &out, &err);
    if (st != 0) {
        say(h, "%s exited with %d", cmd ? cmd : "?", st);
        if (*err)
            say(h, "%s", err);
        return step(h, "get-token", 0,
                    st < 0 || st == 127
                        ? pd_arena_printf(a,
                                          "kubectl would fail the same way: the exec plugin "
                                          "%s cannot be run (is it installed, on PATH?).",
                                          cmd ? cmd : "?")
                        : "The exec plugin failed (see its output above); kubectl says "
                          "`getting credentials: exec: executable ... failed`. For `aws eks "
                          "get-token --role-arn`, the credentials in the environment must be "
                          "allowed sts:AssumeRole on that role (podiamctl explain --last "
                          "--denied shows why not), and AWS_ENDPOINT_URL must point at podiam.");
    }
    json_t *cred = json_loads(out, 0, NULL);
    const char *t = js(json_object_get(cred, "status"), "token");
    const char *expiry = js(json_object_get(cred, "status"), "expirationTimestamp");
    if (!t) {
        json_decref(cred);
        say(h, "%s", out);
        return step(h, "get-token", 0,
                    "The plugin did not print an ExecCredential with status.token.");
    }
    h->token = pd_arena_strdup(a, t);
    say(h, "ran       %s (ExecCredential %s, expires %s)", cmd, nz(js(cred, "apiVersion"), "?"),
        expiry ? expiry : "-");
    json_decref(cred);
    describe_token(h, h->token);
    return step(h, "get-token", 1, NULL);
}

/* ---- calls to the cluster and to podiam's log ---- */

static int cluster_call(struct ka *h, const char *method, const char *path, const char *body,
                        struct pdc_resp *OUT, json_t **OUT_json)
{
    struct pd_arena *a = &h->c->arena;
    struct pd_kvs hdrs = {0};
    const char *bearer = pd_arena_printf(a, "Bearer %s", h->token);
    pd_kvs_add(a, &hdrs, "Authorization", bearer, strlen(bearer), 0);
    pd_kvs_add(a, &hdrs, "Accept", "application/json", 16, 0);
    if (body)
        pd_kvs_add(a, &hdrs, "Content-Type", "application/json", 16, 0);
    size_t n = strlen(h->server);
    while (n && h->server[n - 1] == '/')
        n--;
    struct pdc_req q = {.method = method,
                        .url = pd_arena_printf(a, "%.*s%s", (int)n, h->server, path),
                        .headers = &hdrs,
                        .body = body,
                        .body_len = body ? strlen(body) : 0,
                        .ca_pem = h->ca_pem,
                        .insecure = h->insecure && !h->ca_pem};
    int rc = pdc_http(h->c, &q, OUT);
    *OUT_json = rc == PD_OK ? json_loadb(pd_buf_str(&OUT->body), OUT->body.len, 0, NULL) : NULL;
    return rc;
}

/* The decision-log entry a response names (x-podiam-decision-id), from the podiam that
 * answered: the same scheme, host and port. New reference or NULL. */
static json_t *decision_of(struct ka *h, const struct pdc_resp *r)
{
    struct pd_arena *a = &h->c->arena;
    const char *id = pd_kvs_get(&r->headers, "x-podiam-decision-id", 1);
    const char *auth = pdc_url_authority(a, h->server);
    if (!id || !auth)
        return NULL;
    const char *scheme = pd_has_prefix(h->server, "https://") ? "https" : "http";
    struct pdc_req q = {
        .method = "GET",
        .url = pd_arena_printf(a, "%s://%s/_podiam/decisions/%s", scheme, auth, pdc_enc(h->c, id)),
        .ca_pem = h->ca_pem,
        .insecure = h->insecure && !h->ca_pem};
    struct pdc_resp dr;
    json_t *d = NULL;
    if (pdc_http(h->c, &q, &dr) == PD_OK && dr.status == 200)
        d = json_loadb(pd_buf_str(&dr.body), dr.body.len, 0, NULL);
    pdc_resp_free(&dr);
    return d;
}

/* ---- step: authentication ---- */

static int step_authn(struct ka *h)
{
    struct pd_arena *a = &h->c->arena;
    struct pdc_resp r;
    json_t *body = NULL;
    int rc = cluster_call(h, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                          "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":"
                          "\"SelfSubjectReview\"}",
                          &r, &body);
    if (rc != PD_OK) {
        say(h, "%s", r.error ? r.error : "no answer");
        pdc_resp_free(&r);
        return step(h, "authentication", 0,
                    "The cluster endpoint did not answer (is podiam running, and is this its "
                    "https endpoint and CA?).");
    }
    h->identity = decision_of(h, &r);
    say(h, "POST selfsubjectreviews (kubectl auth whoami): HTTP %ld%s%s", r.status,
        pd_kvs_get(&r.headers, "x-podiam-decision-id", 1) ? ", decision " : "",
        nz(pd_kvs_get(&r.headers, "x-podiam-decision-id", 1), ""));
    int status = (int)r.status;
    pdc_resp_free(&r);
    if (status == 401) {
        const char *why = NULL;
        if (h->identity) {
            struct pd_buf b;
            pd_buf_init(&b, 0);
            pdc_explain_k8s_identity(&b, h->identity, "");
            say_block(h, &b);
            pd_buf_free(&b);
            why = js(json_object_get(h->identity, "authentication"), "reason");
        }
        json_decref(body);
        return step(
            h, "authentication", 0,
            pd_arena_printf(a,
                            "401 Unauthorized (kubectl: \"You must be logged in to the server\"): "
                            "%s. EKS maps an IAM identity by access entries (modes API, "
                            "API_AND_CONFIG_MAP), then by the kube-system/aws-auth ConfigMap "
                            "(CONFIG_MAP, API_AND_CONFIG_MAP: a mapRoles line whose rolearn is the "
                            "role's ARN without path, or mapUsers/mapAccounts). Add one: `aws eks "
                            "create-access-entry`, or a line in aws-auth.",
                            why && *why ? why : "the token was refused"));
    }
    if (status != 201) {
        say(h, "%s", nz(js(body, "message"), ""));
        json_decref(body);
        return step(h, "authentication", 0,
                    "The API server refused the SelfSubjectReview (see the message above).");
    }
    h->user_info = json_incref(json_object_get(json_object_get(body, "status"), "userInfo"));
    json_decref(body);
    if (h->identity) {
        struct pd_buf b;
        pd_buf_init(&b, 0);
        pdc_explain_k8s_identity(&b, h->identity, "");
        say_block(h, &b);
        pd_buf_free(&b);
    } else {
        say(h, "user     %s", nz(js(h->user_info, "username"), "?"));
    }
    const json_t *extra = json_object_get(h->user_info, "extra");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)extra, k, v)
    {
        say(h, "extra    %s = %s", k, nz(json_string_value(json_array_get(v, 0)), ""));
    }
    say(h, "uid      %s", nz(js(h->user_info, "uid"), "(none)"));
    return step(h, "authentication", 1, NULL);
}

/* ---- step: authorization ---- */

/* "pods", "deployments.apps", "pods/NAME" -> resource attributes. */
static json_t *resource_attrs(struct ka *h, const char *verb, const char *what, const char *sub)
{
    struct pd_arena *a = &h->c->arena;
    if (what[0] == '/')
        return json_pack("{s:{s:s, s:s}}", "nonResourceAttributes", "path", what, "verb", verb);
    char *res = pd_arena_strdup(a, what);
    char *name = strchr(res, '/');
    if (name)
        *name++ = '\0';
    char *group = strchr(res, '.');
    if (group)
        *group++ = '\0';
    json_t *ra = json_pack("{s:s, s:s, s:s, s:s}", "namespace", h->ns, "verb", verb, "group",
                           group ? group : "", "resource", res);
    if (name)
        json_object_set_new(ra, "name", json_string(name));
    if (sub)
        json_object_set_new(ra, "subresource", json_string(sub));
    return json_pack("{s:o}", "resourceAttributes", ra);
}

static int step_authz(struct ka *h, const char *verb, const char *what, const char *sub)
{
    struct pd_arena *a = &h->c->arena;
    json_t *req = json_pack("{s:s, s:s, s:o}", "apiVersion", "authorization.k8s.io/v1", "kind",
                            "SelfSubjectAccessReview", "spec", resource_attrs(h, verb, what, sub));
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct pdc_resp r;
    json_t *body = NULL;
    int rc = cluster_call(h, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", text,
                          &r, &body);
    free(text);
    const char *label = pd_arena_printf(a, "can-i %s %s%s%s", verb, what,
                                        what[0] == '/' ? "" : " -n ", what[0] == '/' ? "" : h->ns);
    if (rc != PD_OK || r.status != 201) {
        say(h, "%s", rc != PD_OK ? (nz(r.error, "no answer")) : (nz(js(body, "message"), "")));
        pdc_resp_free(&r);
        json_decref(body);
        return step(h, label, 0, "The SelfSubjectAccessReview itself was refused.");
    }
    h->access = decision_of(h, &r);
    pdc_resp_free(&r);
    const json_t *st = json_object_get(body, "status");
    int allowed = json_is_true(json_object_get(st, "allowed"));
    say(h, "POST selfsubjectaccessreviews: allowed %s%s%s", allowed ? "true" : "false",
        js(st, "reason") ? ", reason " : "", nz(js(st, "reason"), ""));
    const char *why = NULL;
    if (h->access) {
        /* the review's own check (marked review) is the one that matters */
        json_t *one = json_deep_copy(h->access);
        json_t *checks = json_array();
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(h->access, "checks"), i, c)
        {
            if (js(c, "review"))
                json_array_append(checks, c);
        }
        json_object_set_new(one, "checks", checks);
        struct pd_buf b;
        pd_buf_init(&b, 0);
        pdc_explain_checks(a, &b, one, "");
        say_block(h, &b);
        pd_buf_free(&b);
        json_t *rc0 = json_array_get(checks, 0);
        if (!allowed && rc0) {
            struct pd_buf w;
            pd_buf_init(&w, 0);
            pd_buf_printf(&w, "%s may not %s %s%s%s: no authorizer allowed it.",
                          nz(js(h->user_info, "username"), "the user"), verb, what,
                          what[0] == '/' ? "" : " in namespace ", what[0] == '/' ? "" : h->ns);
            json_t *m;
            json_array_foreach(json_object_get(rc0, "authorizers"), i, m)
            {
                const json_t *t = json_object_get(m, "trace");
                const char *r1 = nz(js(t, "why"), js(t, "reason"));
                pd_buf_printf(&w, " %s: %s.", nz(js(m, "authorizer"), "?"), r1 ? r1 : "no opinion");
            }
            pd_buf_adds(&w, " Grant it with a Role and RoleBinding for the user or one of its "
                            "groups, or (access entries) an EKS access policy whose scope "
                            "covers the namespace.");
            why = pd_arena_strndup(a, pd_buf_str(&w), w.len);
            pd_buf_free(&w);
        }
        json_decref(one);
    }
    json_decref(body);
    return step(h, label, allowed, allowed ? NULL : (why ? why : "Not allowed."));
}

/* ---- step: can-i --list ---- */

static int step_rules(struct ka *h)
{
    struct pd_arena *a = &h->c->arena;
    const char *text =
        pd_arena_printf(a,
                        "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":"
                        "\"SelfSubjectRulesReview\",\"spec\":{\"namespace\":\"%s\"}}",
                        h->ns);
    struct pdc_resp r;
    json_t *body = NULL;
    int rc = cluster_call(h, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", text,
                          &r, &body);
    const char *label = pd_arena_printf(a, "can-i --list -n %s", h->ns);
    int status = (int)r.status;
    pdc_resp_free(&r);
    if (rc != PD_OK || status != 201) {
        json_decref(body);
        return step(h, label, 0, "The SelfSubjectRulesReview was refused.");
    }
    const json_t *st = json_object_get(body, "status");
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(st, "resourceRules"), i, rule)
    {
        struct pd_buf b;
        pd_buf_init(&b, 0);
        const char *keys[] = {"resources", "apiGroups", "resourceNames", "verbs"};
        for (size_t k = 0; k < 4; k++) {
            const json_t *l = json_object_get(rule, keys[k]);
            if (!json_array_size(l))
                continue;
            pd_buf_printf(&b, "%s%s [", b.len ? " " : "", keys[k]);
            size_t j;
            json_t *s;
            json_array_foreach(l, j, s)
            {
                pd_buf_printf(&b, "%s%s", j ? " " : "", nz(json_string_value(s), ""));
            }
            pd_buf_addc(&b, ']');
        }
        say_block(h, &b);
        pd_buf_free(&b);
    }
    json_array_foreach(json_object_get(st, "nonResourceRules"), i, rule)
    {
        char *u = json_dumps(json_object_get(rule, "nonResourceURLs"), JSON_COMPACT);
        char *v = json_dumps(json_object_get(rule, "verbs"), JSON_COMPACT);
        say(h, "nonResourceURLs %s verbs %s", u ? u : "", v ? v : "");
        free(u);
        free(v);
    }
    if (json_is_true(json_object_get(st, "incomplete")))
        say(h, "incomplete: %s (kubectl: \"warning: the list may be incomplete\")",
            nz(js(st, "evaluationError"), ""));
    const json_t *m = json_object_get(
        json_object_get(json_object_get(h->identity, "user"), "mapping"), "access_policies");
    if (json_array_size(m)) {
        say(h, "not listed, as on EKS: what the access entry's policies grant:");
        json_t *p;
        json_array_foreach(m, i, p)
        {
            char *ns = json_dumps(json_object_get(p, "namespaces"), JSON_COMPACT);
            say(h, "  %s (%s scope%s%s)", nz(js(p, "policy"), "?"), nz(js(p, "scope"), "?"),
                json_array_size(json_object_get(p, "namespaces")) ? " " : "",
                json_array_size(json_object_get(p, "namespaces")) && ns ? ns : "");
            free(ns);
        }
    }
    json_decref(body);
    return step(h, label, 1, NULL);
}

/* ---- --cluster mode: podiamctl's own credentials, or a role they assume ---- */

static int step_cluster(struct ka *h, const char *cluster, const char *role)
{
    struct pdc_ctx *c = h->c;
    struct pd_arena *a = &c->arena;
    /* DescribeCluster as update-kubeconfig runs it: with the credentials at hand */
    struct pdc_cluster k;
    const char *err = NULL;
    say(h, "key       %s%s", c->akid, c->token ? " (with a session token)" : "");
    if (pdc_eks_cluster(c, cluster, &k, &err) != PD_OK) {
        say(h, "%s", err ? err : "DescribeCluster failed");
        return step(h, "credentials", 0, "The cluster could not be described.");
    }
    h->server = k.endpoint;
    h->ca_pem = k.ca_pem;
    h->token = k.token;
    if (!h->ns)
        h->ns = "default";
    say(h, "cluster   %s: %s", k.name, k.endpoint ? k.endpoint : "(no endpoint)");
    if (!k.endpoint)
        return step(h, "credentials", 0, "The cluster has no Kubernetes endpoint.");
    if (role) {
        /* then the token as `aws eks get-token --role-arn` makes it: AssumeRole first */
        struct pdc_resp r;
        const struct pd_xml_node *res;
        const char *code, *msg;
        int rc =
            pdc_query(c, "sts", "2011-06-15", "AssumeRole",
                      pd_arena_printf(a, "RoleArn=%s&RoleSessionName=podiamctl", pdc_enc(c, role)),
                      1, &r, &res, &code, &msg);
        if (rc != PD_OK) {
            say(h, "sts AssumeRole %s as %s: %s: %s", role, c->akid, code ? code : "error",
                msg ? msg : nz(r.error, ""));
            pdc_resp_free(&r);
            return step(h, "credentials", 0,
                        "The credentials may not assume the role (as `aws eks get-token "
                        "--role-arn` would fail): see `podiamctl explain --last --denied`.");
        }
        c->akid = pdc_xml_text(res, "Credentials/AccessKeyId");
        c->secret = pdc_xml_text(res, "Credentials/SecretAccessKey");
        c->token = pdc_xml_text(res, "Credentials/SessionToken");
        say(h, "assumed   %s", nz(pdc_xml_text(res, "AssumedRoleUser/Arn"), role));
        pdc_resp_free(&r);
        if (pdc_eks_token(c, cluster, &h->token) != PD_OK)
            return step(h, "credentials", 0, "podiamctl could not sign the token.");
    }
    return step(h, "credentials", 1, NULL);
}

static void usage(FILE *f)
{
    fputs("usage: podiamctl k8s-access [--kubeconfig FILE] [--context NAME] [-n NS]\n"
          "                            [--list] [VERB RESOURCE[/NAME] | VERB /PATH]\n"
          "       podiamctl k8s-access --cluster NAME [--role-arn ARN] [-n NS] [--list] [...]\n"
          "\n"
          "Step through what happens between kubectl and a cluster's API server for the\n"
          "identity of a kubeconfig: the kubeconfig (as `kubectl config view` resolves it), the\n"
          "exec plugin (`aws eks get-token`) run as kubectl runs it and its token taken apart,\n"
          "authentication (who the API server says you are, and how EKS mapped the IAM identity:\n"
          "the creator, an access entry and its access policies, or an aws-auth line, with the\n"
          "aws-auth lines EKS ignored), then, with VERB RESOURCE, whether you may (what\n"
          "system:masters, the EKS access policies and RBAC each said), and with --list the\n"
          "rules `kubectl auth can-i --list` shows. Stops at the first failing step and says\n"
          "what is wrong.\n"
          "\n"
          "  --kubeconfig FILE   (default: kubectl's, KUBECONFIG or ~/.kube/config)\n"
          "  --context NAME      (default: its current context)\n"
          "  -n, --namespace NS  for VERB RESOURCE and --list (default: the context's, or\n"
          "                      \"default\")\n"
          "  --subresource SUB   with VERB RESOURCE (log for pods/log)\n"
          "  --list              also the rules of the namespace (SelfSubjectRulesReview)\n"
          "  --cluster NAME      instead of a kubeconfig: DescribeCluster and a token made by\n"
          "                      podiamctl with its credentials (AWS_ACCESS_KEY_ID, ...)\n"
          "  --role-arn ARN      with --cluster: assume this role first\n"
          "  --json              machine output: {ok, steps: [{name, ok, detail}], ...}\n"
          "  --endpoint URL      podiam, for --cluster (AWS_ENDPOINT_URL)\n"
          "  -v                  print each HTTP request on standard error\n"
          "\n"
          "RESOURCE is as kubectl auth can-i takes it: pods, deployments.apps, pods/NAME.\n"
          "KUBECTL names the kubectl to run (default: kubectl on PATH).\n"
          "Exit status 0 when every step passed (authenticated, and allowed when asked), 1\n"
          "otherwise, 2 on usage errors.\n",
          f);
}

int pdc_cmd_k8s_access(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kubeconfig", 1, 0, 'k'}, {"context", 1, 0, 'x'},     {"namespace", 1, 0, 'n'},
        {"list", 0, 0, 'l'},       {"subresource", 1, 0, 's'}, {"cluster", 1, 0, 'c'},
        {"role-arn", 1, 0, 'r'},   {"json", 0, 0, 'j'},        {"endpoint", 1, 0, 'e'},
        {"region", 1, 0, 'R'},     {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
    const char *kubeconfig = NULL, *context = NULL, *ns = NULL, *sub = NULL, *cluster = NULL;
    const char *role = NULL, *endpoint = NULL, *region = NULL;
    int list = 0, json = 0, verbose = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "hvn:", opts, NULL)) != -1) {
        switch (o) {
        case 'k':
            kubeconfig = optarg;
            break;
        case 'x':
            context = optarg;
            break;
        case 'n':
            ns = optarg;
            break;
        case 'l':
            list = 1;
            break;
        case 's':
            sub = optarg;
            break;
        case 'c':
            cluster = optarg;
            break;
        case 'r':
            role = optarg;
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
    const char *verb = NULL, *what = NULL;
    if (argc - optind == 2) {
        verb = argv[optind];
        what = argv[optind + 1];
    } else if (argc != optind) {
        usage(stderr);
        return 2;
    }
    if ((cluster && (kubeconfig || context)) || (role && !cluster)) {
        fprintf(stderr, "podiamctl k8s-access: --cluster [--role-arn] or --kubeconfig/--context, "
                        "not both\n");
        return 2;
    }
    struct pdc_ctx c;
    pdc_ctx_init(&c, endpoint, region, NULL);
    c.verbose = verbose;
    struct ka h;
    memset(&h, 0, sizeof h);
    h.c = &c;
    h.json = json;
    h.ns = ns;
    h.steps = json_array();
    pd_buf_init(&h.detail, 0);
    if (!json)
        printf("podiamctl k8s-access: the kubectl side, step by step\n\n");
    int rc = cluster ? step_cluster(&h, cluster, role) : step_kubeconfig(&h, kubeconfig, context);
    if (rc == PD_OK)
        rc = step_token(&h);
    if (rc == PD_OK)
        rc = step_authn(&h);
    if (rc == PD_OK && verb)
        rc = step_authz(&h, verb, what, sub);
    if ((rc == PD_OK || (verb && h.user_info)) && list)
        step_rules(&h);
    int ok = !h.failed;
    if (json) {
        json_t *out = json_pack("{s:b, s:O}", "ok", ok, "steps", h.steps);
        if (h.failed) {
            json_object_set_new(out, "failed_step", json_string(h.failed));
            json_object_set_new(out, "explanation", json_string(nz(h.explain, "")));
        }
        if (h.user_info)
            json_object_set(out, "user", h.user_info);
        if (h.identity)
            json_object_set(out, "identity_decision", h.identity);
        if (h.access)
            json_object_set(out, "access_decision", h.access);
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
        json_decref(out);
    } else if (ok) {
        printf("\nAuthenticated as %s%s.\n", nz(js(h.user_info, "username"), "?"),
               verb ? ", and allowed" : "");
    }
    json_decref(h.steps);
    json_decref(h.kc);
    json_decref(h.user_info);
    json_decref(h.identity);
    json_decref(h.access);
    pd_buf_free(&h.detail);
    pdc_ctx_cleanup(&c);
    return ok ? 0 : 1;
}
