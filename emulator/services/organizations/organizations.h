/*
 * organizations.h - what the rest of podiam uses of the Organizations service: the
 * "organizations" section of a fixtures file (docs/fixtures.md), loaded and exported.
 *
 * Loading runs every entity through the service's own code (CreateOrganization,
 * CreateOrganizationalUnit, CreateAccount, CreatePolicy, EnablePolicyType, AttachPolicy,
 * DetachPolicy) as the management account's root, so a fixture can hold nothing the API
 * would refuse; ids and times may be fixed. Export, reset, load and export again gives the
 * same document.
 */
#ifndef PD_SERVICES_ORGANIZATIONS_H
#define PD_SERVICES_ORGANIZATIONS_H

#include <jansson.h>

struct pd_env;
struct pd_db;

/* Load the section (the object under "organizations"); origin names the file in messages.
 * Runs in the caller's write transaction. PD_OK, or an error with *OUT_err (malloc'd) naming
 * the entry (organizations.organizations[0].accounts[1]) and the field or AWS's error. */
int pd_org_fixtures_load(struct pd_env *env, struct pd_db *db, json_t *section, const char *origin,
                         char **OUT_err);

/* The whole Organizations state as a section (caller decrefs): {"organizations": [...]}. */
int pd_org_fixtures_export(struct pd_env *env, struct pd_db *db, json_t **OUT, char **OUT_err);

#endif
