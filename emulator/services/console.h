/*
 * console.h - the workshop console's server side (services/console.c): what it exposes
 * beyond its service table, for tests and fuzzing.
 */
#ifndef PD_SERVICES_CONSOLE_H
#define PD_SERVICES_CONSOLE_H

#include <jansson.h>

/* The playground's request body {"policies": [TEXT, ...], "action" or "actions",
 * "resource" or "resources", "caller", "resource_policy", "resource_owner",
 * "context": [{"key", "type", "values": [...]}]} as SimulateCustomPolicy's input members
 * (new reference), every size bounded (at most 10 policies of 131072 characters, 20 actions
 * and resources, 50 context entries of 50 values). NULL when the body is not that, with *why
 * (a static string) saying what is wrong; the simulator itself then checks the policies. */
json_t *pd_console_simulate_input(const json_t *body, const char **why);

/* The scenario player's endpoints under /_podiam/console/api/player (console_player.c),
 * routed and guarded by console.c. */
struct pd_req;
int pd_console_player(struct pd_req *r);

#endif
