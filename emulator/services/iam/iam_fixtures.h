/*
 * iam_fixtures.h - the IAM part of a fixtures file: load it into the store, export the store
 * in the same format (docs/fixtures.md).
 *
 * Loading runs every entity through the IAM service's own code (the Create*, Put*, Attach*
 * paths with their validation), so a fixture can hold nothing the API would refuse; ids,
 * secrets and dates may be fixed. Export then reset then load then export gives the same
 * document. The caller owns the surrounding fixtures file (other services' sections).
 */
#ifndef PD_SERVICES_IAM_FIXTURES_H
#define PD_SERVICES_IAM_FIXTURES_H

#include <jansson.h>

struct pd_env;
struct pd_db;

/* Load an "iam" section (the object under the top-level "iam" key). origin names the file
 * in messages. Runs in the caller's write transaction if one is open, else in its own.
 * Returns PD_OK, or an error with a message in *OUT_err (malloc'd, caller frees) naming
 * the entry (iam.accounts[0].users[2]) and the field or the AWS error. */
int pd_iam_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *iam, const char *origin,
                         char **OUT_err);

/* Read a fixtures file and load its "iam" section (absent: nothing to do). Unknown top-level
 * sections are left to their own loaders. Parse errors name the line and column. */
int pd_iam_fixtures_load_file(struct pd_env *env, struct pd_db *db, const char *path,
                              char **OUT_err);

/* The whole IAM state as an "iam" section (caller decrefs). Deterministic: accounts by id,
 * entities by name, versions oldest first; defaults are left out. */
int pd_iam_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT, char **OUT_err);

#endif
