/*
 * app.h - the life of a podiam process: open the state, load models and keys, apply
 * fixtures, listen, print the ready line, wait for a stop signal, tear down.
 *
 * Kept apart from main.c (flags) so tests can start a whole emulator in-process.
 */
#ifndef PD_APP_H
#define PD_APP_H

#include <stdio.h>

struct pd_env;

/* Everything a running emulator owns besides env itself. */
struct pd_app;

/* Build env's long-lived objects from env->cfg (store, models, keys, fixtures) and start
 * the listeners. Returns PD_OK or an error (logged). */
int pd_app_start(struct pd_env *env, struct pd_app **OUT);
/* Stop listening and release everything pd_app_start made. */
void pd_app_stop(struct pd_app *app);

/* pd_app_start, print the ready line, wait for SIGINT/SIGTERM, pd_app_stop. Returns the
 * process exit code. */
int pd_app_run(struct pd_env *env);

/* Print docs/coverage.md (Markdown) from the service tables and models. Exit code. */
int pd_app_coverage(FILE *out);

#endif
