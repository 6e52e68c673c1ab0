/*
 * run.c - `podiamctl run`: play a pod of a service account on this machine. Ask the
 * cluster's Kubernetes API what the pod identity webhook would inject into such a pod, get
 * a token by TokenRequest with the projected volume's audience and lifetime, write it to a
 * private file, set the variables an SDK reads, and run the command.
 *
 * Owns a temporary directory (mode 0700: the token file 0600 and podiam's CA) that lives
 * while the command runs and is removed after it ends; the command runs as a child so the
 * token does not outlive it. Signals SIGINT/SIGTERM/SIGHUP are passed on to the child.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmds.h"
#include "core/err.h"
#include "core/str.h"
#include "http.h"
#include "k8s.h"

static volatile sig_atomic_t child_pid;

static void forward(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

static void usage(FILE *f)
{
    fputs("usage: podiamctl run --cluster NAME --service-account SA [--namespace NS]\n"
          "                     [--region R] [--endpoint URL] [--print-env] -- CMD ARGS...\n"
          "\n"
          "Run CMD as a pod of service account NS/SA of the EKS cluster NAME would run: the\n"
          "cluster's Kubernetes API (podiam) mutates a dry-run pod as the EKS pod identity\n"
          "webhook does; podiamctl reads AWS_ROLE_ARN, the token path, the region variables\n"
          "and the projected token's audience and expirationSeconds from it, gets a token by\n"
          "TokenRequest, writes it to a private temporary file (mode 0600) and runs CMD with\n"
          "  AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE (that file), AWS_REGION,\n"
          "  AWS_DEFAULT_REGION, AWS_ENDPOINT_URL (podiam), AWS_CA_BUNDLE (https endpoints),\n"
          "  PODIAM_POD_TOKEN_PATH (where the pod would read the token)\n"
          "and without AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE,\n"
          "so the SDK's default credential chain uses the web identity. The token file is\n"
          "removed when CMD ends; podiamctl exits with CMD's status.\n"
          "\n"
          "Fails (exit 1) when the service account has no eks.amazonaws.com/role-arn\n"
          "annotation: the webhook would not mutate the pod.\n"
          "\n"
          "  --print-env   print the variables (token path included) instead of running CMD\n"
          "  --ca-file PEM CA for an https endpoint (default: podiam's /_podiam/ca.pem)\n",
          f);
}

static int write_private(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return PD_EIO;
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return PD_EIO;
        }
        off += (size_t)w;
    }
    return close(fd) == 0 ? PD_OK : PD_EIO;
}

static const char *env_of(const json_t *env, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(env, i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && strcmp(n, name) == 0)
            return json_string_value(json_object_get(e, "value"));
    }
    return NULL;
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
    const char *token_file = NULL, *ca_path = NULL;
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
    struct pdc_cluster k;
    struct pdc_pod_identity pi;
    memset(&pi, 0, sizeof(pi));
    const char *err = NULL, *token = NULL;
    if (pdc_eks_cluster(&c, cluster, &k, &err) != PD_OK) {
        fprintf(stderr, "podiamctl run: %s\n", err);
        goto out;
    }
    if (pdc_pod_identity(&c, &k, ns, sa, &pi, &err) != PD_OK) {
        fprintf(stderr, "podiamctl run: %s\n", err);
        goto out;
    }
    if (!pi.role_arn) {
        fprintf(stderr,
                "podiamctl run: service account %s/%s has no eks.amazonaws.com/role-arn "
                "annotation: the pod identity webhook would not give its pods a role.\n"
                "  kubectl annotate serviceaccount -n %s %s "
                "eks.amazonaws.com/role-arn=arn:aws:iam::ACCOUNT:role/ROLE\n",
                ns, sa, ns, sa);
        goto out;
    }
    if (pdc_k8s_token(&c, &k, ns, sa, pi.audience, pi.expiration, &token, &err) != PD_OK) {
        fprintf(stderr, "podiamctl run: TokenRequest for %s/%s: %s\n", ns, sa, err);
        goto out;
    }
    if (!mkdtemp(dir)) {
        perror("podiamctl run: mkdtemp");
        goto out;
    }
    made_dir = 1;
    token_file = pd_arena_printf(&c.arena, "%s/token", dir);
    if (write_private(token_file, token, 0600) != PD_OK) {
        fprintf(stderr, "podiamctl run: cannot write %s\n", token_file);
        goto out;
    }
    if (pd_has_prefix(c.endpoint, "https:")) {
        const char *pem;
        ca_path = pd_arena_printf(&c.arena, "%s/ca.pem", dir);
        if (pdc_ca_pem(&c, &pem) != PD_OK || write_private(ca_path, pem, 0644) != PD_OK) {
            fprintf(stderr, "podiamctl run: cannot get podiam's CA for %s\n", c.endpoint);
            goto out;
        }
    }
    /* the pod's environment, as the webhook made it, with the token path made local */
    const char *reg = env_of(pi.env, "AWS_REGION");
    const char *dreg = env_of(pi.env, "AWS_DEFAULT_REGION");
    const char *sts_reg = env_of(pi.env, "AWS_STS_REGIONAL_ENDPOINTS");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_SECURITY_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_DEFAULT_PROFILE");
    setenv("AWS_ROLE_ARN", pi.role_arn, 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_file, 1);
    setenv("PODIAM_POD_TOKEN_PATH", pi.token_path ? pi.token_path : "", 1);
    setenv("AWS_REGION", reg ? reg : c.region, 1);
    setenv("AWS_DEFAULT_REGION", dreg ? dreg : c.region, 1);
    if (sts_reg)
        setenv("AWS_STS_REGIONAL_ENDPOINTS", sts_reg, 1);
    setenv("AWS_ENDPOINT_URL", c.endpoint, 1);
    if (ca_path)
        setenv("AWS_CA_BUNDLE", ca_path, 1);
    if (print_env) {
        const char *names[] = {"AWS_ROLE_ARN",
                               "AWS_WEB_IDENTITY_TOKEN_FILE",
                               "AWS_REGION",
                               "AWS_DEFAULT_REGION",
                               "AWS_ENDPOINT_URL",
                               "AWS_CA_BUNDLE",
                               "AWS_STS_REGIONAL_ENDPOINTS",
                               "PODIAM_POD_TOKEN_PATH"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (getenv(names[i]))
                printf("%s=%s\n", names[i], getenv(names[i]));
        printf("# token audience %s, expirationSeconds %lld (the file is removed on exit)\n",
               pi.audience ? pi.audience : "?", pi.expiration);
        status = 0;
        goto out;
    }
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
        if (token_file)
            unlink(token_file);
        if (ca_path)
            unlink(ca_path);
        rmdir(dir);
    }
    pdc_pod_identity_free(&pi);
    pdc_ctx_cleanup(&c);
    return status;
}
