/*
 * run.c - `podiamctl run`: play a pod of a service account on this machine. Ask the
 * cluster's Kubernetes API what the pod identity webhook would inject into such a pod, get
 * a token by TokenRequest with the projected volume's audience and lifetime, write it to a
 * private file, set the variables an SDK reads, and run the command.
 *
 * The variables are clientenv.h's, the same `podiamctl env` prints. Owns a temporary
 * directory (mode 0700: the token file 0600 and the CA bundle) that lives while the command
 * runs and is removed after it ends; the command runs as a child so the token does not
 * outlive it. Signals SIGINT/SIGTERM/SIGHUP are passed on to the child.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clientenv.h"
#include "cmds.h"
#include "core/err.h"

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

static void usage(FILE *f)
{
    fputs("usage: podiamctl run --cluster NAME --service-account SA [--namespace NS]\n"
          "                     [--region R] [--endpoint URL] [--ca-file PEM] [--print-env]\n"
          "                     -- CMD ARGS...\n"
          "\n"
          "Run CMD as a pod of service account NS/SA of the EKS cluster NAME would run: the\n"
          "cluster's Kubernetes API (podiam) mutates a dry-run pod as the EKS pod identity\n"
          "webhook does; podiamctl reads AWS_ROLE_ARN, the token path, the region variables\n"
          "and the projected token's audience and expirationSeconds from it, gets a token by\n"
          "TokenRequest, writes it to a private temporary file (mode 0600) and runs CMD with\n"
          "  AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE (that file), AWS_REGION,\n"
          "  AWS_DEFAULT_REGION, AWS_STS_REGIONAL_ENDPOINTS (the webhook's),\n"
          "  PODIAM_POD_TOKEN_PATH (where the pod would read the token),\n"
          "  AWS_ENDPOINT_URL (podiam, for SDKs that read it),\n"
          "  HTTPS_PROXY, HTTP_PROXY, https_proxy, http_proxy (podiam's forward proxy, when it\n"
          "  has one: SDKs that ignore AWS_ENDPOINT_URL reach podiam as if it were AWS),\n"
          "  NO_PROXY, no_proxy (loopback: clients that know the endpoint go straight there),\n"
          "  AWS_CA_BUNDLE, SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE,\n"
          "  NODE_EXTRA_CA_CERTS (one file: the system CAs and podiam's CA)\n"
          "and without AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,\n"
          "so the SDK's default credential chain uses the web identity. These are the lines\n"
          "`podiamctl env --cluster NAME --service-account SA` prints. The token file and the\n"
          "CA bundle are removed when CMD ends; podiamctl exits with CMD's status.\n"
          "\n"
          "Fails (exit 1) when the service account has no eks.amazonaws.com/role-arn\n"
          "annotation: the webhook would not mutate the pod.\n"
          "\n"
          "  --print-env   print the variables (as shell lines) instead of running CMD; the\n"
          "                files they name are removed at once (podiamctl env keeps them)\n"
          "  --ca-file PEM podiam's CA (default: podiam's /_podiam/ca.pem)\n",
          f);
}

int pdc_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"cluster", 1, 0, 'c'},
                                         {"service-account", 1, 0, 's'},
                                         {"namespace", 1, 0, 'n'},
                                         {"region", 1, 0, 'R'},
                                         {"endpoint", 1, 0, 'e'},
                                         {"ca-file", 1, 0, 'C'},
                                         {"print-env", 0, 0, 'P'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cluster = NULL, *sa = NULL, *ns = "default", *region = NULL, *endpoint = NULL;
    const char *ca = NULL;
    int print_env = 0, verbose = 0, o, status = 1;
    char dir[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/podiamctl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int made_dir = 0;
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
        case 'P':
            print_env = 1;
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
    if (!cluster || !sa || (optind >= argc && !print_env)) {
        fprintf(stderr, "podiamctl run: --cluster, --service-account and a command after "
                        "-- are required\n");
        usage(stderr);
        return 2;
    }
    struct pdc_ctx c;
    pdc_ctx_init(&c, endpoint, region, ca);
    c.verbose = verbose;
    struct pdc_vars vars = {0};
    const char *err = NULL;
    if (!mkdtemp(dir)) {
        perror("podiamctl run: mkdtemp");
        goto out;
    }
    made_dir = 1;
    if (pdc_env_reach(&c, dir, &vars, &err) != PD_OK ||
        pdc_env_pod(&c, cluster, ns, sa, dir, &vars, &err) != PD_OK) {
        fprintf(stderr, "podiamctl run: %s\n", err);
        goto out;
    }
    if (print_env) {
        pdc_vars_note(&c.arena, &vars,
                      "(podiamctl run --print-env: the files named here are removed on exit; "
                      "podiamctl env keeps them)");
        pdc_vars_print(stdout, &c.arena, &vars);
        status = 0;
        goto out;
    }
    pdc_vars_apply(&vars);
    fflush(stdout);
    fflush(stderr);
    struct sigaction sa_fwd, old_int, old_term, old_hup;
    memset(&sa_fwd, 0, sizeof(sa_fwd));
    sa_fwd.sa_handler = forward;
    sigaction(SIGINT, &sa_fwd, &old_int);
    sigaction(SIGTERM, &sa_fwd, &old_term);
    sigaction(SIGHUP, &sa_fwd, &old_hup);
    pid_t pid = fork();
    if (pid < 0) {
        perror("podiamctl run: fork");
        goto out;
    }
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "podiamctl run: %s: %s\n", argv[optind], strerror(errno));
        _exit(127);
    }
    child_pid = pid;
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
out:
    if (made_dir) {
        pdc_vars_remove_files(&vars);
        rmdir(dir);
    }
    pdc_ctx_cleanup(&c);
    return status;
}
