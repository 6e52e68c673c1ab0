/*
 * s3.h - what other parts of podiam need from the S3 service: its fixtures section and the
 * sweep of object files no row refers to.
 */
#ifndef PD_SERVICES_S3_H
#define PD_SERVICES_S3_H

#include <jansson.h>

struct pd_env;
struct pd_db;

/* Remove object files no row refers to (after a reset). Run inside a write transaction of
 * db, so no upload installs a file meanwhile. Returns PD_OK or PD_EIO. */
int pd_s3_sweep_unreferenced(struct pd_env *env, struct pd_db *db);

/* The "s3" section of a fixtures file (docs/fixtures.md), inside the caller's write
 * transaction. origin names the file in messages. On error *OUT_err (malloc'd) says where. */
int pd_s3_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *section, const char *origin,
                        char **OUT_err);
/* The state's buckets (policies, tags, objects) as an "s3" section. New reference. */
int pd_s3_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT, char **OUT_err);

#endif
