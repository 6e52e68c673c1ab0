/*
 * fixtures.h - the state a run starts from and returns to: fixtures files (docs/fixtures.md).
 *
 * A fixtures file is one JSON document with a section per service ("iam", ...); each
 * section's loader runs its entries through the service's own code. Loading happens on the
 * first start of a state and on every reset; export writes the current state in the same
 * format. All of it runs in one write transaction: a failed load leaves nothing behind.
 */
#ifndef PD_SERVICES_FIXTURES_H
#define PD_SERVICES_FIXTURES_H

#include <jansson.h>

struct pd_env;
struct pd_db;

/* On the first start of a state (nothing loaded yet): load env->cfg's fixtures files in
 * order. Later starts keep the state as it was. Returns PD_OK or an error with a message in
 * *OUT_err (malloc'd; caller frees). */
int pd_fixtures_start(struct pd_env *env, struct pd_db *db, char **OUT_err);

/* Wipe the state (keeping the server's keys and CA) and load the fixtures files again.
 * Returns PD_OK or an error with *OUT_err (malloc'd); on error nothing changed. */
int pd_fixtures_reset(struct pd_env *env, struct pd_db *db, char **OUT_err);

/* The whole state as a fixtures document (new reference). */
int pd_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT, char **OUT_err);

#endif
