/*
 * suite.c - podiamctl's commands for test suites: `mark`, `report` (what a run proved, the
 * least-privilege policy) and `snapshot` (save, restore, list, delete), all through podiam's
 * admin API (docs/testing-with-podiam.md).
 *
 * Owns nothing past one call. Prints results on standard output (JSON where a program reads
 * it: --json, --policy), errors on standard error with exit status 1 (podiam unreachable or
 * refusing), 2 on a usage error.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "core/err.h"
#include "http.h"

static int fail_resp(const char *what, int rc, const struct pdc_resp *resp, json_t *j)
{
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (rc == PD_EIO)
        fprintf(stderr, "podiamctl %s: podiam does not answer: %s\n", what,
                resp->error ? resp->error : "?");
    else
        fprintf(stderr, "podiamctl %s: %s (HTTP %ld)\n", what,
                msg            ? msg
                : resp->body.p ? resp->body.p
                               : "refused",
                resp->status);
    json_decref(j);
    return 1;
}

/* --endpoint/-e, --region, -h: the options every command here takes. */
static const struct option common[] = {{"endpoint", 1, 0, 'e'},  {"since", 1, 0, 's'},
                                       {"principal", 1, 0, 'p'}, {"policy", 1, 0, 'P'},
                                       {"json", 0, 0, 'j'},      {"allow-partial", 0, 0, 'a'},
                                       {"help", 0, 0, 'h'},      {0, 0, 0, 0}};

int pdc_cmd_mark(int argc, char **argv)
{
    const char *endpoint = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "e:h", common, NULL)) != -1) {
        if (o == 'e') {
            endpoint = optarg;
        } else {
            fputs("usage: podiamctl mark [--endpoint URL]\n"
                  "Print a mark of the decision log (d-N): `podiamctl report --since MARK`\n"
                  "and GET /_podiam/decisions?since=MARK cover the calls made after it.\n",
                  o == 'h' ? stdout : stderr);
            return o == 'h' ? 0 : 2;
        }
    }
    struct pdc_ctx c;
    pdc_ctx_init(&c, endpoint, NULL, NULL);
    struct pdc_resp resp;
    json_t *j = NULL;
    int rc = pdc_admin(&c, "GET", "decisions/mark", NULL, &resp, (void **)&j);
    int status = 0;
    if (rc)
        status = fail_resp("mark", rc, &resp, j);
    else {
        printf("%s\n", json_string_value(json_object_get(j, "mark")));
        json_decref(j);
    }
    pdc_resp_free(&resp);
    pdc_ctx_cleanup(&c);
    return status;
}

static void print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* "Action"/"Resource" as written: a string or a list, on one line. */
static void print_list(const json_t *v)
{
    if (json_is_string(v)) {
        printf("%s", json_string_value(v));
        return;
    }
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) printf("%s%s", i ? ", " : "", json_string_value(x));
}

static void print_principal(const json_t *p)
{
    printf("\n%s (%s)\n", str(p, "principal"), str(p, "kind"));
    size_t i, k;
    json_t *x, *y;
    json_array_foreach(json_object_get(p, "allowed"), i, x)
    {
        printf("  allowed  %-28s %s  x%lld  by", str(x, "action"), str(x, "resource"),
               (long long)json_integer_value(json_object_get(x, "count")));
        if (json_array_size(json_object_get(x, "statements")) == 0)
            printf(" %s", strcmp(str(p, "kind"), "root") == 0 ? "the account root (no policy)"
                                                              : "no statement");
        json_array_foreach(json_object_get(x, "statements"), k, y)
        {
            const char *sid = str(y, "sid");
            printf(" %s#%lld%s%s%s", str(y, "policy"),
                   (long long)json_integer_value(json_object_get(y, "statement")), *sid ? " (" : "",
                   sid, *sid ? ")" : "");
        }
        printf("\n");
    }
    json_array_foreach(json_object_get(p, "denied"), i, x)
    {
        printf("  DENIED   %-28s %s  x%lld  %s", str(x, "action"), str(x, "resource"),
               (long long)json_integer_value(json_object_get(x, "count")), str(x, "decision"));
        json_array_foreach(json_object_get(x, "denied_by"), k, y)
            printf(" by %s#%lld", str(y, "policy"),
                   (long long)json_integer_value(json_object_get(y, "statement")));
        printf("\n");
    }
    json_array_foreach(json_object_get(p, "policies"), i, x)
    {
        size_t nu = json_array_size(json_object_get(x, "unused"));
        printf("  policy %s (%s): %zu of %zu statement(s) never used\n", str(x, "id"),
               str(x, "type"), nu, json_array_size(json_object_get(x, "statements")));
    }
    json_t *diff = json_object_get(p, "diff");
    json_array_foreach(json_object_get(diff, "unused"), i, x)
    {
        json_t *g = json_object_get(x, "granted");
        printf("  - %s#%lld %s ", str(x, "policy"),
               (long long)json_integer_value(json_object_get(x, "statement")), str(x, "effect"));
        print_list(json_object_get(g, "Action") ? json_object_get(g, "Action")
                                                : json_object_get(g, "NotAction"));
        printf(" on ");
        print_list(json_object_get(g, "Resource") ? json_object_get(g, "Resource")
                                                  : json_object_get(g, "NotResource"));
        printf("   (never used)\n");
    }
    json_array_foreach(json_object_get(diff, "narrowed"), i, x)
    {
        json_t *g = json_object_get(x, "granted"), *u = json_object_get(x, "used");
        printf("  - %s#%lld Allow ", str(x, "policy"),
               (long long)json_integer_value(json_object_get(x, "statement")));
        print_list(json_object_get(g, "Action"));
        printf(" on ");
        print_list(json_object_get(g, "Resource"));
        printf("\n  + used only ");
        print_list(json_object_get(u, "Action"));
        printf(" on ");
        print_list(json_object_get(u, "Resource"));
        printf("\n");
    }
    if (json_object_get(p, "least_privilege"))
        printf("  least-privilege policy: %lld characters (podiamctl report --policy %s)\n",
               (long long)json_integer_value(json_object_get(p, "least_privilege_size")),
               str(p, "principal"));
    if (json_object_get(p, "least_privilege_note"))
        printf("  note: %s\n", str(p, "least_privilege_note"));
}

int pdc_cmd_report(int argc, char **argv)
{
    const char *endpoint = NULL, *since = NULL, *principal = NULL, *policy = NULL;
    int as_json = 0, partial = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "e:h", common, NULL)) != -1) {
        switch (o) {
        case 'e':
            endpoint = optarg;
            break;
        case 's':
            since = optarg;
            break;
        case 'p':
            principal = optarg;
            break;
        case 'P':
            policy = optarg;
            break;
        case 'j':
            as_json = 1;
            break;
        case 'a':
            partial = 1;
            break;
        default:
            fputs("usage: podiamctl report [--since MARK] [--principal ARN] [--json]\n"
                  "                        [--allow-partial] [--endpoint URL]\n"
                  "       podiamctl report --policy ARN [--since MARK]\n"
                  "What the calls since MARK (podiamctl mark; default: the whole log) proved,\n"
                  "per IAM role or user: which actions on which resources were allowed by which\n"
                  "statement, which were denied, which statements were never used, and a diff\n"
                  "against the least-privilege policy. --policy prints that policy (JSON) for\n"
                  "the role or user ARN, ready for `aws iam create-policy --policy-document`.\n"
                  "Fails (exit 1) when the decision log dropped decisions after the mark,\n"
                  "unless --allow-partial.\n",
                  o == 'h' ? stdout : stderr);
            return o == 'h' ? 0 : 2;
        }
    }
    struct pdc_ctx c;
    pdc_ctx_init(&c, endpoint, NULL, NULL);
    const char *who = policy ? policy : principal;
    const char *path = pd_arena_printf(
        &c.arena, "decisions/report?since=%s%s%s%s", since ? pdc_enc(&c, since) : "0",
        who ? "&principal=" : "", who ? pdc_enc(&c, who) : "", partial ? "&allow_partial=1" : "");
    struct pdc_resp resp;
    json_t *j = NULL;
    int rc = pdc_admin(&c, "GET", path, NULL, &resp, (void **)&j);
    int status = 0;
    if (rc) {
        status = fail_resp("report", rc, &resp, j);
    } else if (policy) {
        json_t *found = NULL;
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(j, "principals"), i,
                           p) if (strcmp(str(p, "principal"), policy) == 0) found =
            json_object_get(p, "least_privilege");
        if (found) {
            print_json(found);
        } else {
            fprintf(stderr,
                    "podiamctl report: %s was allowed nothing since %s (no policy to write)\n",
                    policy, since ? since : "the start of the log");
            status = 1;
        }
        json_decref(j);
    } else if (as_json) {
        print_json(j);
        json_decref(j);
    } else {
        printf("decisions %s..%s: %lld%s\n", str(j, "since"), str(j, "through"),
               (long long)json_integer_value(json_object_get(j, "decisions")),
               json_is_true(json_object_get(j, "complete")) ? "" : " (INCOMPLETE: some dropped)");
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(j, "principals"), i, p) print_principal(p);
        json_t *k8s = json_object_get(j, "kubernetes");
        if (json_integer_value(json_object_get(k8s, "allowed")) ||
            json_array_size(json_object_get(k8s, "denied")))
            printf("\nkubernetes: %lld allowed, %zu denied\n",
                   (long long)json_integer_value(json_object_get(k8s, "allowed")),
                   json_array_size(json_object_get(k8s, "denied")));
        json_decref(j);
    }
    pdc_resp_free(&resp);
    pdc_ctx_cleanup(&c);
    return status;
}

int pdc_cmd_snapshot(int argc, char **argv)
{
    const char *endpoint = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "e:h", common, NULL)) != -1) {
        if (o == 'e') {
            endpoint = optarg;
            continue;
        }
        goto usage;
    }
    const char *verb = optind < argc ? argv[optind] : NULL;
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    int needs_name = verb && strcmp(verb, "list") != 0;
    if (!verb || (needs_name && !name) || (!needs_name && name) ||
        optind + (needs_name ? 2 : 1) != argc)
        goto usage;
    struct pdc_ctx c;
    pdc_ctx_init(&c, endpoint, NULL, NULL);
    struct pdc_resp resp;
    json_t *j = NULL;
    int rc;
    if (strcmp(verb, "save") == 0) {
        json_t *b = json_pack("{s:s}", "name", name);
        char *body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        rc = pdc_admin(&c, "POST", "snapshots", body, &resp, (void **)&j);
        free(body);
    } else if (strcmp(verb, "restore") == 0) {
        rc = pdc_admin(&c, "POST",
                       pd_arena_printf(&c.arena, "snapshots/%s/restore", pdc_enc(&c, name)), "{}",
                       &resp, (void **)&j);
    } else if (strcmp(verb, "delete") == 0) {
        rc = pdc_admin(&c, "DELETE", pd_arena_printf(&c.arena, "snapshots/%s", pdc_enc(&c, name)),
                       NULL, &resp, (void **)&j);
    } else if (strcmp(verb, "list") == 0) {
        rc = pdc_admin(&c, "GET", "snapshots", NULL, &resp, (void **)&j);
    } else {
        pdc_ctx_cleanup(&c);
        goto usage;
    }
    int status = 0;
    if (rc) {
        status = fail_resp("snapshot", rc, &resp, j);
    } else if (strcmp(verb, "list") == 0) {
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(j, "snapshots"), i, s)
            printf("%s\t%s\t%lld object file(s)\n", str(s, "name"), str(s, "created"),
                   (long long)json_integer_value(json_object_get(s, "object_files")));
        json_decref(j);
    } else {
        json_t *ms = json_object_get(j, "ms");
        printf("%s %s%s", name,
               strcmp(verb, "save") == 0      ? "saved"
               : strcmp(verb, "restore") == 0 ? "restored"
                                              : "deleted",
               ms ? "" : "\n");
        if (ms)
            printf(" in %.1f ms\n", json_number_value(ms));
        json_decref(j);
    }
    pdc_resp_free(&resp);
    pdc_ctx_cleanup(&c);
    return status;
usage:
    fputs("usage: podiamctl snapshot save|restore|delete NAME [--endpoint URL]\n"
          "       podiamctl snapshot list\n"
          "Save the whole state under NAME, go back to it, delete it, or list the snapshots\n"
          "(POST /_podiam/snapshots ...). NAME: letters, digits, '.', '_', '-'.\n",
          o == 'h' ? stdout : stderr);
    return o == 'h' ? 0 : 2;
}
