/*
 * main.c - podiamctl: the developer's side of podiam. Dispatches to the subcommands in
 * cmds.h; owns nothing else.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: podiamctl COMMAND [options]   (podiamctl COMMAND --help for more)\n"
            "\n"
            "  env        print the environment that points AWS clients at podiam:\n"
            "             eval \"$(podiamctl env)\"\n"
            "  run        run a command as a pod of an EKS service account would (IRSA)\n"
            "  handshake  step through STS's AssumeRoleWithWebIdentity checks and explain\n"
            "  scenario   run scenario files (steps with expected results)\n"
            "  explain    print entries of podiam's decision log (IAM, S3, Kubernetes) as text\n"
            "  k8s-access step through kubectl's access to a cluster: get-token, authentication,\n"
            "             how EKS mapped the IAM identity, RBAC and access policies\n"
            "  mark       print a mark of the decision log, for report --since\n"
            "  report     what the calls since a mark proved; the least-privilege policy\n"
            "  snapshot   save, restore, list or delete named snapshots of the state\n"
            "\n"
            "podiam is found at --endpoint or AWS_ENDPOINT_URL (default "
            "http://127.0.0.1:4566);\n"
            "credentials AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN "
            "(default test/test);\n"
            "region --region, AWS_REGION or AWS_DEFAULT_REGION (default us-east-1).\n"
            "podiamctl %s\n",
            PD_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("podiamctl %s\n", PD_VERSION);
        return 0;
    }
    if (strcmp(cmd, "env") == 0)
        return pdc_cmd_env(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return pdc_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "handshake") == 0)
        return pdc_cmd_handshake(argc - 1, argv + 1);
    if (strcmp(cmd, "explain") == 0)
        return pdc_cmd_explain(argc - 1, argv + 1);
    if (strcmp(cmd, "k8s-access") == 0)
        return pdc_cmd_k8s_access(argc - 1, argv + 1);
    if (strcmp(cmd, "mark") == 0)
        return pdc_cmd_mark(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return pdc_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "snapshot") == 0)
        return pdc_cmd_snapshot(argc - 1, argv + 1);
    if (strcmp(cmd, "scenario") == 0) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        self[n > 0 ? n : 0] = 0;
        return pdc_cmd_scenario(argc - 1, argv + 1, n > 0 ? self : argv[0]);
    }
    fprintf(stderr, "podiamctl: unknown command %s\n", cmd);
    usage(stderr);
    return 2;
}
