/*
 * explain.c - decision-log entries as text (see explain.h), and `podiamctl explain`: fetch
 * one entry (or the latest ones matching filters) from /_podiam/decisions and print it.
 *
 * Reads the shapes podiam writes (emulator/authorize.c for IAM, S3 and STS; k8s/api.c for
 * the Kubernetes API) and tolerates missing members: an entry from another podiam version
 * prints what it has. Owns nothing past a call.
 */
#include "explain.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "core/err.h"
#include "http.h"

static const char *js(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *jsd(const json_t *o, const char *k, const char *dflt)
{
    const char *s = js(o, k);
    return s ? s : dflt;
}

/* Go-style [a b c] of a string array. */
static const char *list_str(struct pd_arena *a, const json_t *arr)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_addc(&b, '[');
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (i)
            pd_buf_addc(&b, ' ');
        pd_buf_adds(&b, json_is_string(v) ? json_string_value(v) : "?");
    }
    pd_buf_addc(&b, ']');
    const char *s = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return s;
}

static const char *compact(struct pd_arena *a, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *r = pd_arena_strdup(a, s ? s : "null");
    free(s);
    return r;
}

/* Lines of text (a message may hold newlines), each with prefix. */
static void lines(struct pd_buf *out, const char *prefix, const char *text)
{
    for (const char *p = text; p && *p;) {
        size_t n = strcspn(p, "\n");
        pd_buf_printf(out, "%s%.*s\n", prefix, (int)n, p);
        p += n;
        if (*p)
            p++;
    }
}

static const char *verdict_text(const char *v)
{
    if (!v)
        return "?";
    if (strcmp(v, "allow") == 0)
        return "allow";
    if (strcmp(v, "deny") == 0)
        return "deny";
    return "no opinion";
}

/* ---- Kubernetes ---- */

static void k8s_user_line(struct pd_arena *a, struct pd_buf *out, const char *indent,
                          const char *label, const json_t *u)
{
    pd_buf_printf(out, "%s%-9s%s", indent, label, jsd(u, "username", "(none)"));
    if (json_array_size(json_object_get(u, "groups")))
        pd_buf_printf(out, "  groups %s", list_str(a, json_object_get(u, "groups")));
    pd_buf_addc(out, '\n');
}

void pdc_explain_k8s_identity(struct pd_buf *out, const json_t *d, const char *indent)
{
    struct pd_arena a;
    pd_arena_init(&a);
    const json_t *u = json_object_get(d, "impersonated_by");
    if (!u)
        u = json_object_get(d, "user");
    const char *arn = js(u, "arn");
    const char *more = pd_arena_printf(&a, "%s           ", indent);
    if (arn)
        pd_buf_printf(out, "%s%-9s%s\n", indent, "caller", arn);
    const json_t *m = json_object_get(u, "mapping");
    int unauth = js(d, "decision") && strcmp(js(d, "decision"), "unauthenticated") == 0;
    if (!unauth)
        k8s_user_line(&a, out, indent, "user", u);
    if (m) {
        const char *by = jsd(m, "by", "?");
        pd_buf_printf(out, "%s%-9s%s (authentication mode %s)\n", indent, "mapping", by,
                      jsd(m, "mode", "?"));
        if (js(u, "mapped_by") && *js(u, "mapped_by"))
            lines(out, more, js(u, "mapped_by"));
        if (js(m, "access_entry")) {
            if (!js(u, "mapped_by") || !strstr(js(u, "mapped_by"), js(m, "access_entry")))
                pd_buf_printf(out, "%saccess entry %s\n", more, js(m, "access_entry"));
            size_t i;
            json_t *p;
            if (!json_array_size(json_object_get(m, "access_policies")))
                pd_buf_printf(out, "%sno access policy associated\n", more);
            json_array_foreach(json_object_get(m, "access_policies"), i, p)
            {
                const char *scope = jsd(p, "scope", "?");
                pd_buf_printf(
                    out, "%saccess policy %s, %s scope%s%s\n", more, jsd(p, "policy", "?"), scope,
                    strcmp(scope, "namespace") == 0 ? " " : "",
                    strcmp(scope, "namespace") == 0 ? list_str(&a, json_object_get(p, "namespaces"))
                                                    : "");
            }
        }
        if (json_array_size(json_object_get(m, "trace"))) {
            pd_buf_printf(out, "%ssteps:\n", more);
            size_t i;
            json_t *s;
            json_array_foreach(json_object_get(m, "trace"), i, s)
            {
                pd_buf_printf(out, "%s  %zu. %s\n", more, i + 1,
                              json_is_string(s) ? json_string_value(s) : "?");
            }
        }
    } else if (js(u, "mapped_by")) {
        pd_buf_printf(out, "%s%-9s%s\n", indent, "identity", js(u, "mapped_by"));
    }
    if (json_object_get(d, "impersonated_by")) {
        const json_t *as = json_object_get(d, "user");
        k8s_user_line(&a, out, indent, "as", as);
        pd_buf_printf(out, "%s(impersonated: EKS access policies do not apply to this user)\n",
                      more);
    }
    pd_arena_cleanup(&a);
}

/* What one authorizer of the chain said, from its trace. */
static const char *member_text(struct pd_arena *a, const json_t *m)
{
    const char *name = jsd(m, "authorizer", "?");
    const char *v = js(m, "decision");
    const json_t *t = json_object_get(m, "trace");
    const char *text = verdict_text(v);
    if (strcmp(name, "system:masters") == 0) {
        if (v && strcmp(v, "allow") == 0)
            return "allow: the user is in group system:masters (allowed before any other "
                   "authorizer, as kube-apiserver does)";
        return "no opinion: the user is not in group system:masters";
    }
    if (strcmp(name, "eks") == 0) {
        if (v && strcmp(v, "allow") == 0 && js(t, "policy"))
            return pd_arena_printf(a, "allow: EKS access policy %s (%s), rule %lld %s",
                                   js(t, "policy"), jsd(t, "scope", "?"),
                                   (long long)json_integer_value(json_object_get(t, "rule")),
                                   jsd(t, "rule_text", ""));
        return pd_arena_printf(a, "%s: %s", text, jsd(t, "reason", "(no trace)"));
    }
    if (strcmp(name, "rbac") == 0) {
        if (v && strcmp(v, "allow") == 0)
            return pd_arena_printf(a, "allow: %s (%s) via %s, rule %lld %s", jsd(t, "binding", "?"),
                                   jsd(t, "role", "?"), jsd(t, "subject", "?"),
                                   (long long)json_integer_value(json_object_get(t, "rule_index")) +
                                       1,
                                   compact(a, json_object_get(t, "rule")));
        const char *why = jsd(t, "why", "");
        const char *reason = js(m, "reason");
        return pd_arena_printf(
            a, "%s: %s%s%s (%lld ClusterRoleBindings, %lld RoleBindings of the namespace)", text,
            why, reason ? "; " : "", reason ? reason : "",
            (long long)json_integer_value(json_object_get(t, "clusterrolebindings")),
            (long long)json_integer_value(json_object_get(t, "rolebindings")));
    }
    return pd_arena_printf(a, "%s%s%s", text, js(m, "reason") ? ": " : "", jsd(m, "reason", ""));
}

static void k8s_check(struct pd_arena *a, struct pd_buf *out, const char *indent, size_t n,
                      const json_t *c)
{
    const char *more = pd_arena_printf(a, "%s           ", indent);
    const char *label = pd_arena_printf(a, "check %zu", n);
    pd_buf_printf(out, "%s%-9s%s %s: %s", indent, label, jsd(c, "action", "?"),
                  jsd(c, "resource", ""), jsd(c, "decision", "?"));
    if (js(c, "decided_by"))
        pd_buf_printf(out, " (decided by %s)", js(c, "decided_by"));
    pd_buf_addc(out, '\n');
    if (js(c, "review"))
        pd_buf_printf(out, "%sevaluated for a %s about %s\n", more, js(c, "review"),
                      jsd(c, "user", "?"));
    if (js(c, "purpose"))
        pd_buf_printf(out, "%sfor %s\n", more, js(c, "purpose"));
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(c, "authorizers"), i, m)
    {
        pd_buf_printf(out, "%s%-15s %s\n", more, jsd(m, "authorizer", "?"), member_text(a, m));
        const json_t *t = json_object_get(m, "trace");
        size_t k;
        json_t *b;
        json_array_foreach(json_object_get(t, "applied"), k, b)
        {
            pd_buf_printf(out, "%s%-15s   looked at %s -> %s%s%s\n", more, "",
                          jsd(b, "binding", "?"), jsd(b, "role", "?"), js(b, "error") ? ": " : "",
                          jsd(b, "error", ""));
        }
    }
    if (js(c, "missing"))
        lines(out, pd_arena_printf(a, "%smissing: ", more), js(c, "missing"));
    if (js(c, "reason") && !json_object_get(c, "authorizers"))
        pd_buf_printf(out, "%sreason: %s\n", more, js(c, "reason"));
    if (json_is_integer(json_object_get(c, "rules")))
        pd_buf_printf(out, "%s%lld rules listed%s\n", more,
                      (long long)json_integer_value(json_object_get(c, "rules")),
                      json_is_true(json_object_get(c, "incomplete"))
                          ? " (incomplete: EKS access policy grants are never listed)"
                          : "");
}

/* ---- IAM, S3, STS ---- */

static void iam_check(struct pd_arena *a, struct pd_buf *out, const char *indent, size_t n,
                      const json_t *c)
{
    const char *more = pd_arena_printf(a, "%s           ", indent);
    const char *label = pd_arena_printf(a, "check %zu", n);
    pd_buf_printf(out, "%s%-9s%s on %s: %s", indent, label, jsd(c, "action", "?"),
                  jsd(c, "resource", "?"), jsd(c, "decision", "?"));
    if (js(c, "decided_by") && *js(c, "decided_by"))
        pd_buf_printf(out, " (%s)", js(c, "decided_by"));
    pd_buf_addc(out, '\n');
    size_t j, k, m, npol = 0;
    json_t *ev, *pol, *st;
    json_array_foreach(json_object_get(json_object_get(c, "trace"), "evaluations"), j, ev)
    {
        json_array_foreach(json_object_get(ev, "policies"), k, pol)
        {
            npol++;
            pd_buf_printf(out, "%spolicy %s (%s)\n", more, jsd(pol, "id", "?"),
                          jsd(pol, "type", "?"));
            if (!json_array_size(json_object_get(pol, "statements")))
                pd_buf_printf(out, "%s  no statement is about %s\n", more, jsd(c, "action", "?"));
            json_array_foreach(json_object_get(pol, "statements"), m, st)
            {
                const char *sid = js(st, "sid");
                int matched = json_is_true(json_object_get(st, "matched"));
                pd_buf_printf(out, "%s  statement %lld%s%s (%s): %s%s%s\n", more,
                              (long long)json_integer_value(json_object_get(st, "index")),
                              sid ? " " : "", sid ? sid : "", jsd(st, "effect", "?"),
                              matched ? "applies" : "does not apply", js(st, "reason") ? ", " : "",
                              jsd(st, "reason", ""));
                const json_t *cond = json_object_get(st, "condition");
                if (cond)
                    pd_buf_printf(out, "%s    condition %s %s %s; the request has %s\n", more,
                                  jsd(cond, "operator", "?"), jsd(cond, "key", "?"),
                                  compact(a, json_object_get(cond, "values")),
                                  compact(a, json_object_get(cond, "context")));
            }
        }
    }
    if (!npol && strcmp(jsd(c, "decision", ""), "allowed") != 0)
        pd_buf_printf(out, "%sno policy of the caller (or on the resource) was looked at\n", more);
}

/* ---- both ---- */

static int is_k8s(const json_t *d)
{
    return js(d, "service") && strcmp(js(d, "service"), "k8s") == 0;
}

void pdc_explain_checks(struct pd_arena *a, struct pd_buf *out, const json_t *d, const char *indent)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(d, "checks"), i, c)
    {
        if (is_k8s(d))
            k8s_check(a, out, indent, i + 1, c);
        else
            iam_check(a, out, indent, i + 1, c);
    }
}

/* Why, in one sentence. */
static const char *summary(struct pd_arena *a, const json_t *d)
{
    const char *dec = jsd(d, "decision", "?");
    if (strcmp(dec, "unauthenticated") == 0) {
        const char *why = js(json_object_get(d, "authentication"), "reason");
        return pd_arena_printf(a,
                               "Not authenticated: %s. As EKS does, the API server answers 401 "
                               "Unauthorized (kubectl: \"You must be logged in to the server\").",
                               why && *why ? why : "the credentials were refused");
    }
    const json_t *checks = json_object_get(d, "checks");
    const json_t *last = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(checks, i, c)
    {
        const char *cd = js(c, "decision");
        if (!last || (cd && strcmp(cd, "allowed") != 0 && !js(c, "review")))
            last = c;
        if (cd && strcmp(cd, "allowed") != 0 && !js(c, "review"))
            break;
    }
    if (strcmp(dec, "allowed") == 0) {
        if (!is_k8s(d))
            return "Allowed: every check was allowed by a policy.";
        const json_t *req = json_array_get(checks, json_array_size(checks) - 1);
        json_array_foreach(checks, i, c)
        {
            if (!js(c, "review") && !js(c, "purpose"))
                req = c;
        }
        const char *by = jsd(req, "decided_by", "?");
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(req, "authorizers"), k, m)
        {
            if (js(m, "authorizer") && strcmp(js(m, "authorizer"), by) == 0) {
                const char *t = member_text(a, m);
                if (strncmp(t, "allow: ", 7) == 0)
                    t += 7;
                return pd_arena_printf(a, "Allowed (%s %s) by %s: %s", jsd(req, "action", "?"),
                                       jsd(req, "resource", ""), by, t);
            }
        }
        return pd_arena_printf(a, "Allowed by %s.", by);
    }
    if (!is_k8s(d))
        return pd_arena_printf(a, "Refused: %s", jsd(d, "message", dec));
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_printf(&b, "Refused: %s.", jsd(d, "message", dec));
    if (last && js(last, "missing"))
        pd_buf_printf(&b, " The user does not hold, through RBAC, what the object grants:\n%s",
                      js(last, "missing"));
    else if (last && json_object_get(last, "authorizers")) {
        pd_buf_adds(&b, " No authorizer allowed it:");
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(last, "authorizers"), k, m)
        {
            pd_buf_printf(&b, "\n  %s: %s", jsd(m, "authorizer", "?"), member_text(a, m));
        }
    }
    const char *s = pd_arena_strndup(a, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return s;
}

const char *pdc_explain_decision(struct pd_arena *a, struct pd_buf *out, const json_t *d,
                                 const char *indent)
{
    pd_buf_printf(out, "%sdecision %s: %s (%s %s", indent, jsd(d, "id", "?"),
                  jsd(d, "decision", "?"), jsd(d, "service", "?"), jsd(d, "operation", "?"));
    if (js(d, "cluster"))
        pd_buf_printf(out, ", cluster %s", js(d, "cluster"));
    pd_buf_printf(out, ", %s, request %s)\n", jsd(d, "time", "?"), jsd(d, "request_id", "?"));
    if (is_k8s(d)) {
        pdc_explain_k8s_identity(out, d, indent);
        const json_t *au = json_object_get(d, "authentication");
        if (au && !json_is_true(json_object_get(au, "authenticated")))
            pd_buf_printf(out, "%s%-9s%s\n", indent, "refused", jsd(au, "reason", "?"));
    } else {
        pd_buf_printf(out, "%s%-9s%s\n", indent, "caller", jsd(d, "principal", "?"));
    }
    pdc_explain_checks(a, out, d, indent);
    if (js(d, "message"))
        lines(out, pd_arena_printf(a, "%s%-9s", indent, "message"), js(d, "message"));
    return summary(a, d);
}

/* ---- podiamctl explain ---- */

static void usage(FILE *f)
{
    fputs("usage: podiamctl explain [--json] DECISION_ID\n"
          "       podiamctl explain [--json] --last [N] [--denied] [--principal ARN]\n"
          "                         [--action ACTION] [--request-id ID]\n"
          "\n"
          "Print entries of podiam's decision log (the x-podiam-decision-id header of a\n"
          "response names one) as text: for IAM, S3 and STS the policies and statements looked\n"
          "at; for a cluster's Kubernetes API who the caller is (the IAM identity, the user and\n"
          "groups, how EKS mapped it: the creator, which access entry and its access policies,\n"
          "which aws-auth line, the aws-auth lines EKS ignored and why), then each\n"
          "authorization with what system:masters, the EKS access policies and RBAC said.\n"
          "\n"
          "  --last [N]          the newest N entries (default 1) matching the filters\n"
          "  --denied            only refusals (also 401s of the Kubernetes API)\n"
          "  --principal ARN     only this caller\n"
          "  --action ACTION     only entries with this check (k8s:list, s3:PutObject)\n"
          "  --request-id ID     the entry of one request\n"
          "  --json              the entries as podiam keeps them\n"
          "  --endpoint URL      podiam (AWS_ENDPOINT_URL, default http://127.0.0.1:4566)\n"
          "\n"
          "Exit status 0 when every entry printed was allowed, 1 otherwise, 2 on errors.\n",
          f);
}

int pdc_cmd_explain(int argc, char **argv)
{
    static const struct option opts[] = {
        {"last", 0, 0, 'l'},     {"denied", 0, 0, 'd'},     {"principal", 1, 0, 'p'},
        {"action", 1, 0, 'a'},   {"request-id", 1, 0, 'r'}, {"json", 0, 0, 'j'},
        {"endpoint", 1, 0, 'e'}, {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    const char *principal = NULL, *action = NULL, *request_id = NULL, *endpoint = NULL;
    int last = 0, denied = 0, json = 0, o;
    long n = 1;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'l':
            last = 1;
            break;
        case 'd':
            denied = 1;
            break;
        case 'p':
            principal = optarg;
            break;
        case 'a':
            action = optarg;
            break;
        case 'r':
            request_id = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    const char *id = NULL;
    if (last && optind < argc) {
        char *end;
        n = strtol(argv[optind], &end, 10);
        if (*end || n < 1 || n > 1000) {
            fprintf(stderr, "podiamctl explain: --last takes a count from 1 to 1000\n");
            return 2;
        }
        optind++;
    } else if (!last && !request_id && optind < argc) {
        id = argv[optind++];
    }
    if (optind != argc || (!id && !last && !request_id)) {
        usage(stderr);
        return 2;
    }
    struct pdc_ctx c;
    pdc_ctx_init(&c, endpoint, NULL, NULL);
    struct pd_arena *a = &c.arena;
    const char *path;
    if (id) {
        path = pd_arena_printf(a, "decisions/%s", pdc_enc(&c, id));
    } else {
        path = pd_arena_printf(a, "decisions?limit=%ld", n);
        if (denied)
            path = pd_arena_printf(a, "%s&decision=denied", path);
        if (principal)
            path = pd_arena_printf(a, "%s&principal=%s", path, pdc_enc(&c, principal));
        if (action)
            path = pd_arena_printf(a, "%s&action=%s", path, pdc_enc(&c, action));
        if (request_id)
            path = pd_arena_printf(a, "%s&request_id=%s", path, pdc_enc(&c, request_id));
    }
    struct pdc_resp r;
    json_t *doc = NULL;
    int rc = pdc_admin(&c, "GET", path, NULL, &r, (void **)&doc);
    int status = 2;
    if (rc == PD_ENOTFOUND) {
        fprintf(stderr,
                "podiamctl explain: no decision %s in podiam's log at %s (the log keeps "
                "the latest entries only; a reset clears it)\n",
                id ? id : "", c.endpoint);
        goto out;
    }
    if (rc != PD_OK || !doc) {
        fprintf(stderr, "podiamctl explain: %s: %s\n", c.endpoint,
                r.error ? r.error : pd_buf_str(&r.body));
        goto out;
    }
    json_t *entries = json_is_array(json_object_get(doc, "decisions"))
                          ? json_incref(json_object_get(doc, "decisions"))
                          : json_pack("[O]", doc);
    if (!json_array_size(entries)) {
        fprintf(stderr, "podiamctl explain: no decision matches\n");
        json_decref(entries);
        goto out;
    }
    status = 0;
    if (json) {
        char *s = json_dumps(id ? doc : entries, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
    }
    size_t i;
    json_t *d;
    json_array_foreach(entries, i, d)
    {
        if (!json_is_true(json_object_get(d, "allowed")))
            status = 1;
        if (json)
            continue;
        struct pd_buf b;
        pd_buf_init(&b, 0);
        const char *why = pdc_explain_decision(a, &b, d, "");
        if (i)
            putchar('\n');
        fputs(pd_buf_str(&b), stdout);
        printf("\n%s\n", why);
        pd_buf_free(&b);
    }
    json_decref(entries);
out:
    json_decref(doc);
    pdc_resp_free(&r);
    pdc_ctx_cleanup(&c);
    return status;
}
