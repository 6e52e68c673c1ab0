/*
 * cmds.h - podiamctl's subcommands. Each takes the arguments after its name and returns the
 * process exit status.
 */
#ifndef PDC_CMDS_H
#define PDC_CMDS_H

int pdc_cmd_env(int argc, char **argv);
int pdc_cmd_handshake(int argc, char **argv);
int pdc_cmd_run(int argc, char **argv);
int pdc_cmd_scenario(int argc, char **argv, const char *self);
int pdc_cmd_explain(int argc, char **argv);    /* explain.c */
int pdc_cmd_k8s_access(int argc, char **argv); /* kube_access.c */
/* suite.c: for test suites */
int pdc_cmd_mark(int argc, char **argv);
int pdc_cmd_report(int argc, char **argv);
int pdc_cmd_snapshot(int argc, char **argv);

#endif
