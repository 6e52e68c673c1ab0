/*
 * env.c - `podiamctl env`: print the shell lines that point every client at podiam, for
 * `eval "$(podiamctl env)"`: the root user's keys, or with --cluster/--service-account the
 * web identity of a pod of that service account, plus the endpoint, proxy and CA bundle
 * variables (clientenv.h builds them, as for `podiamctl run`).
 *
 * Owns the files it leaves in the cache directory (pdc_cache_dir): the CA bundle and a pod's
 * token, rewritten atomically on every call. Prints nothing but comments and shell lines on
 * standard output; errors go to standard error with exit status 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "clientenv.h"
#include "cmds.h"
#include "core/err.h"

static void usage(FILE *f)
{
    fputs("usage: podiamctl env [--endpoint URL] [--region R] [--ca-file PEM]\n"
          "                     [--access-key-id KEY --secret-access-key SECRET\n"
          "                      [--session-token TOKEN]]\n"
          "                     [--cluster NAME --service-account SA [--namespace NS]]\n"
          "\n"
          "Print the environment that points AWS clients at podiam, as shell lines:\n"
          "  eval \"$(podiamctl env)\"\n"
          "\n"
          "  AWS_ENDPOINT_URL        podiam (--endpoint, else AWS_ENDPOINT_URL, else\n"
          "                          http://127.0.0.1:4566), for SDKs that read it\n"
          "  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\n"
          "                          --access-key-id/--secret-access-key, default test/test\n"
          "                          (the root user of account 000000000000); never the keys\n"
          "                          of the calling shell. AWS_SESSION_TOKEN is\n"
          "                          --session-token, else unset\n"
          "  AWS_REGION, AWS_DEFAULT_REGION\n"
          "                          --region, else AWS_REGION / AWS_DEFAULT_REGION, else\n"
          "                          us-east-1\n"
          "  HTTPS_PROXY, HTTP_PROXY, https_proxy, http_proxy\n"
          "                          podiam's forward proxy (the \"proxy\" of\n"
          "                          /_podiam/health), for clients that ignore\n"
          "                          AWS_ENDPOINT_URL and dial the AWS hostnames; left out\n"
          "                          when podiam runs without one\n"
          "  NO_PROXY, no_proxy      the loopback names and the endpoint's host: clients\n"
          "                          that know the endpoint go straight to it\n"
          "  AWS_CA_BUNDLE, SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE,\n"
          "  NODE_EXTRA_CA_CERTS     a file with the system CAs and podiam's CA\n"
          "                          (/_podiam/ca.pem, or --ca-file)\n"
          "\n"
          "With --cluster and --service-account, the variables of a pod of that service\n"
          "account instead of the keys, as `podiamctl run` sets them: AWS_ROLE_ARN,\n"
          "AWS_WEB_IDENTITY_TOKEN_FILE (a token from TokenRequest, written to a file),\n"
          "PODIAM_POD_TOKEN_PATH, the webhook's region variables, and the static keys and\n"
          "profiles unset. The token is not refreshed: run the command again when it\n"
          "expires (the comment line says when).\n"
          "\n"
          "Files go to $XDG_CACHE_HOME/podiam, else $HOME/.cache/podiam, else\n"
          "$TMPDIR/podiam-UID (a directory of mode 0700), one CA bundle and one token per\n"
          "endpoint (ca-bundle-HOST_PORT.pem, token-HOST_PORT-CLUSTER-NS-SA), replaced\n"
          "atomically each time.\n",
          f);
}

int pdc_cmd_env(int argc, char **argv)
{
    static const struct option opts[] = {{"cluster", 1, 0, 'c'},
                                         {"service-account", 1, 0, 's'},
                                         {"namespace", 1, 0, 'n'},
                                         {"region", 1, 0, 'R'},
                                         {"endpoint", 1, 0, 'e'},
                                         {"ca-file", 1, 0, 'C'},
                                         {"access-key-id", 1, 0, 'k'},
                                         {"secret-access-key", 1, 0, 'S'},
                                         {"session-token", 1, 0, 't'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cluster = NULL, *sa = NULL, *ns = "default", *region = NULL, *endpoint = NULL;
    const char *ca = NULL, *akid = NULL, *secret = NULL, *token = NULL;
    int verbose = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
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
        case 'R':
            region = optarg;
            break;
        case 'e':
            endpoint = optarg;
            break;
        case 'C':
            ca = optarg;
            break;
        case 'k':
            akid = optarg;
            break;
        case 'S':
            secret = optarg;
            break;
        case 't':
            token = optarg;
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
    if (optind < argc || !cluster != !sa || !akid != !secret || (token && !akid) ||
        (cluster && akid)) {
        fprintf(stderr, "podiamctl env: give --cluster with --service-account, or "
                        "--access-key-id with --secret-access-key, not both\n");
        usage(stderr);
        return 2;
    }
    struct pdc_ctx c;
    pdc_ctx_init(&c, endpoint, region, ca);
    c.verbose = verbose;
    struct pdc_vars vars = {0};
    const char *dir = NULL, *err = NULL;
    int status = 1;
    if (pdc_cache_dir(&c.arena, &dir, &err) != PD_OK ||
        pdc_env_reach(&c, dir, &vars, &err) != PD_OK)
        goto out;
    if (cluster) {
        if (pdc_env_pod(&c, cluster, ns, sa, dir, &vars, &err) != PD_OK)
            goto out;
    } else {
        pdc_env_static(&c, akid ? akid : "test", secret ? secret : "test", token, &vars);
    }
    pdc_vars_print(stdout, &c.arena, &vars);
    status = fflush(stdout) == 0 ? 0 : 1;
out:
    if (status && err)
        fprintf(stderr, "podiamctl env: %s\n", err);
    pdc_ctx_cleanup(&c);
    return status;
}
