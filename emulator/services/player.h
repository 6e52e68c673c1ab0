/*
 * player.h - the console's scenario player (docs/console.md, "Scenario player"): the
 * scenarios a player (`podiamctl scenario --console`) offers, the commands the page posts
 * for it and the results it posts back. podiam runs no command itself: commands belong to
 * the user's side, so the hub only passes them between the page and the player, through
 * long polls on both sides (as the decision log's).
 *
 * Owns struct pd_player (env->player): one player at a time (a new one replaces the old),
 * its offer, a bounded queue of commands it has not taken, each step's latest result.
 * Every size is bounded (below). Thread-safe: one mutex, one condition variable.
 */
#ifndef PD_SERVICES_PLAYER_H
#define PD_SERVICES_PLAYER_H

#include <jansson.h>

#define PD_PLAYER_MAX_SCENARIOS 64
#define PD_PLAYER_MAX_STEPS 300        /* per scenario */
#define PD_PLAYER_MAX_ALL_STEPS 1000   /* in all: what the hub keeps is at most ~20 MB */
#define PD_PLAYER_MAX_OFFER (2u << 20) /* bytes of text in an offer */
#define PD_PLAYER_MAX_TEXT 4096    /* a file or scenario name, description, step name, command */
#define PD_PLAYER_MAX_OUTPUT 16384 /* a step's output as kept: longer is cut with a marker */
#define PD_PLAYER_MAX_WHY 2048     /* why a step failed or was skipped, as kept */
#define PD_PLAYER_MAX_QUEUE 16     /* commands the player has not taken yet */
#define PD_PLAYER_GONE_MS 30000    /* a player silent for this long (no poll) is gone */

enum pd_player_action { PD_PLAYER_RUN_STEP = 0, PD_PLAYER_RUN_ALL, PD_PLAYER_RESET };

/* A command from the page: run one step, run the rest of a scenario, reset a scenario. */
struct pd_player_cmd {
    enum pd_player_action action;
    int scenario;
    int step; /* PD_PLAYER_RUN_STEP only; else -1 */
};

/* A result from the player. Strings borrowed from the parsed body. */
struct pd_player_result {
    const char *session;
    int scenario;
    int step;                 /* -1: every step of the scenario (a reset: "pending") */
    const char *state;        /* "running", "passed", "failed", "skipped" or "pending" */
    const char *output, *why; /* or NULL; cut to the bounds when stored */
    long long duration_ms;
};

/* ---- parsers (pure; tests/fuzz/fuzz_player.c) ---- */

/* A player's offer {"scenarios": [{"file", "name", "description"?, "fixtures"?, "steps":
 * [{"name", "command"}]}], "pid"?: N} as the hub keeps it (new reference), or NULL with *why
 * (static) when it is not that or passes a bound (1000 steps and 2 MiB of text in all).
 * Unknown members are refused. */
json_t *pd_player_parse_offer(const json_t *body, const char **why);

/* The page's {"action": "run_step" | "run_all" | "reset", "scenario": N, "step": N (run_step
 * only)}. PD_OK, or PD_EINVAL with *why (static). Ranges are the hub's to check. */
int pd_player_parse_command(const json_t *body, struct pd_player_cmd *OUT, const char **why);

/* The player's {"session", "scenario", "step"?, "state", "output"?, "why"?, "duration_ms"?}.
 * PD_OK, or PD_EINVAL with *why (static). */
int pd_player_parse_result(const json_t *body, struct pd_player_result *OUT, const char **why);

/* ---- the hub ---- */

struct pd_player;

/* gone_ms: how long a silent player still counts as connected (PD_PLAYER_GONE_MS). */
struct pd_player *pd_player_new(int gone_ms);
void pd_player_free(struct pd_player *p);
/* Shutdown: every wait ends now and later ones at once. */
void pd_player_wake(struct pd_player *p);

/* A player connects with its offer (taken) under the session id given (a fresh uuid): it
 * replaces any other, whose later calls get PD_ENOTFOUND. */
void pd_player_connect(struct pd_player *p, json_t *offer, const char *session);

/* The commands after id after (which the player has taken), waiting up to timeout_ms for
 * one when there is none (at most max_waiters threads wait in the hub at once; past that
 * the answer comes at once). PD_OK with *OUT (new array, maybe empty), or PD_ENOTFOUND when
 * session is not the connected player's. */
int pd_player_poll(struct pd_player *p, const char *session, long long after, int timeout_ms,
                   int max_waiters, json_t **OUT);

/* Record a result. PD_OK, PD_ENOTFOUND (not the player's session), PD_EINVAL (no such
 * scenario or step). */
int pd_player_report(struct pd_player *p, const struct pd_player_result *res);

/* The player says goodbye: shown as gone at once. PD_OK or PD_ENOTFOUND. */
int pd_player_leave(struct pd_player *p, const char *session);

/* Queue a command from the page. PD_OK with *OUT_id, PD_ENOTFOUND (no player connected),
 * PD_EINVAL (no such scenario or step), PD_ETOOBIG (PD_PLAYER_MAX_QUEUE commands wait). */
int pd_player_command(struct pd_player *p, const struct pd_player_cmd *c, long long *OUT_id);

/* What the page shows (new reference): {"version", "player": {"state": "none" | "connected"
 * | "gone", "pid"?}, "scenarios": [... each step with "state", "output", "why",
 * "duration_ms"], "queue": [commands not taken]}, once the version is past after (waiting up
 * to timeout_ms, bounded as pd_player_poll). */
json_t *pd_player_view(struct pd_player *p, long long after, int timeout_ms, int max_waiters);

#endif
