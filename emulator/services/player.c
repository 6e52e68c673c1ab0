/*
 * player.c - the console's scenario player hub (see player.h): the parsers of what the
 * player and the page send, and the hub that passes commands one way and results the other.
 *
 * The hub keeps the offer as a JSON tree it owns: each step gets "state" ("pending" until a
 * result says otherwise), "output", "why", "duration_ms". Every change bumps a version the
 * page long-polls on; a command bumps the command id the player long-polls on. Times are
 * the monotonic clock's (podiam's own clock may be moved by the page).
 */
#include "services/player.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"

/* ---- parsers ---- */

static int only_members(const json_t *o, const char *const *names)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        size_t i = 0;
        while (names[i] && strcmp(names[i], k) != 0)
            i++;
        if (!names[i])
            return 0;
    }
    return 1;
}

/* A string member within max bytes (required or not). 1 when fine. */
static int text_ok(const json_t *o, const char *key, int required, size_t max)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return !required;
    return json_is_string(v) && json_string_length(v) <= max &&
           (!required || json_string_length(v) > 0) &&
           strlen(json_string_value(v)) == json_string_length(v); /* no NUL inside */
}

static json_t *parse_step(const json_t *s)
{
    static const char *const names[] = {"name", "command", NULL};
    if (!json_is_object(s) || !only_members(s, names) ||
        !text_ok(s, "name", 1, PD_PLAYER_MAX_TEXT) || !text_ok(s, "command", 1, PD_PLAYER_MAX_TEXT))
        return NULL;
    return json_pack("{s:O, s:O, s:s, s:s, s:s, s:I, s:I}", "name", json_object_get(s, "name"),
                     "command", json_object_get(s, "command"), "state", "pending", "output", "",
                     "why", "", "duration_ms", (json_int_t)0, "runs", (json_int_t)0);
}

static json_t *parse_scenario(const json_t *s)
{
    static const char *const names[] = {"file", "name", "description", "fixtures", "steps", NULL};
    json_t *steps = json_object_get(s, "steps");
    if (!json_is_object(s) || !only_members(s, names) ||
        !text_ok(s, "file", 1, PD_PLAYER_MAX_TEXT) || !text_ok(s, "name", 1, PD_PLAYER_MAX_TEXT) ||
        !text_ok(s, "description", 0, PD_PLAYER_MAX_TEXT) ||
        !text_ok(s, "fixtures", 0, PD_PLAYER_MAX_TEXT) || !json_is_array(steps) ||
        json_array_size(steps) == 0 || json_array_size(steps) > PD_PLAYER_MAX_STEPS)
        return NULL;
    json_t *out = json_pack("{s:O, s:O, s:o}", "file", json_object_get(s, "file"), "name",
                            json_object_get(s, "name"), "steps", json_array());
    for (size_t k = 0; k < 2; k++) {
        const char *opt = k ? "fixtures" : "description";
        if (json_object_get(s, opt))
            json_object_set(out, opt, json_object_get(s, opt));
    }
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st)
    {
        json_t *x = parse_step(st);
        if (!x) {
            json_decref(out);
            return NULL;
        }
        json_array_append_new(json_object_get(out, "steps"), x);
    }
    return out;
}

json_t *pd_player_parse_offer(const json_t *body, const char **why)
{
    static const char *const names[] = {"scenarios", "pid", NULL};
    *why = "expected {\"scenarios\": [...], \"pid\": N}";
    if (!json_is_object(body) || !only_members(body, names))
        return NULL;
    json_t *pid = json_object_get(body, "pid");
    if (pid && (!json_is_integer(pid) || json_integer_value(pid) < 0))
        return NULL;
    json_t *list = json_object_get(body, "scenarios");
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > PD_PLAYER_MAX_SCENARIOS) {
        *why = "scenarios: 1 to 64 scenarios";
        return NULL;
    }
    json_t *out = json_pack("{s:o}", "scenarios", json_array());
    if (pid)
        json_object_set(out, "pid", pid);
    size_t i, steps = 0, text = 0;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        json_t *x = parse_scenario(s);
        size_t k;
        json_t *st;
        json_array_foreach(json_object_get(x, "steps"), k, st)
        {
            steps++;
            text += json_string_length(json_object_get(st, "name")) +
                    json_string_length(json_object_get(st, "command"));
        }
        text += json_string_length(json_object_get(x, "description")) +
                json_string_length(json_object_get(x, "name"));
        if (x && (steps > PD_PLAYER_MAX_ALL_STEPS || text > PD_PLAYER_MAX_OFFER)) {
            json_decref(x);
            json_decref(out);
            *why = "an offer holds at most 1000 steps and 2 MiB of text in all";
            return NULL;
        }
        if (!x) {
            json_decref(out);
            *why = "each scenario is {\"file\", \"name\", \"description\"?, \"fixtures\"?, "
                   "\"steps\": [{\"name\", \"command\"}]} (1 to 300 steps, strings of at most "
                   "4096 bytes)";
            return NULL;
        }
        json_array_append_new(json_object_get(out, "scenarios"), x);
    }
    *why = NULL;
    return out;
}

/* A non-negative integer member below max, or -1. */
static int index_of(const json_t *o, const char *key, int max)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= max)
        return -1;
    return (int)json_integer_value(v);
}

int pd_player_parse_command(const json_t *body, struct pd_player_cmd *OUT, const char **why)
{
    static const char *const names[] = {"action", "scenario", "step", NULL};
    static const char *const actions[] = {"run_step", "run_all", "reset"};
    memset(OUT, 0, sizeof *OUT);
    *why = "expected {\"action\": \"run_step\" | \"run_all\" | \"reset\", \"scenario\": N, "
           "\"step\": N (run_step only)}";
    if (!json_is_object(body) || !only_members(body, names))
        return PD_EINVAL;
    const char *a = json_string_value(json_object_get(body, "action"));
    int k = 0;
    while (a && k < 3 && strcmp(a, actions[k]) != 0)
        k++;
    if (!a || k == 3)
        return PD_EINVAL;
    OUT->action = (enum pd_player_action)k;
    OUT->scenario = index_of(body, "scenario", PD_PLAYER_MAX_SCENARIOS);
    OUT->step = index_of(body, "step", PD_PLAYER_MAX_STEPS);
    int has_step = json_object_get(body, "step") != NULL;
    if (OUT->scenario < 0 || (OUT->action == PD_PLAYER_RUN_STEP) != has_step ||
        (has_step && OUT->step < 0))
        return PD_EINVAL;
    if (OUT->action != PD_PLAYER_RUN_STEP)
        OUT->step = -1;
    *why = NULL;
    return PD_OK;
}

static const char *const STATES[] = {"running", "passed", "failed", "skipped", "pending", NULL};

int pd_player_parse_result(const json_t *body, struct pd_player_result *OUT, const char **why)
{
    static const char *const names[] = {"session", "scenario",    "step", "state",
                                        "output",  "duration_ms", "why",  NULL};
    memset(OUT, 0, sizeof *OUT);
    *why = "expected {\"session\", \"scenario\": N, \"step\": N, \"state\": \"running\" | "
           "\"passed\" | \"failed\" | \"skipped\" | \"pending\", \"output\", \"why\", "
           "\"duration_ms\"}";
    if (!json_is_object(body) || !only_members(body, names) || !text_ok(body, "session", 1, 64) ||
        !text_ok(body, "state", 1, 16) ||
        (json_object_get(body, "output") && !json_is_string(json_object_get(body, "output"))) ||
        (json_object_get(body, "why") && !json_is_string(json_object_get(body, "why"))))
        return PD_EINVAL;
    OUT->session = json_string_value(json_object_get(body, "session"));
    OUT->state = json_string_value(json_object_get(body, "state"));
    size_t k = 0;
    while (STATES[k] && strcmp(STATES[k], OUT->state) != 0)
        k++;
    OUT->scenario = index_of(body, "scenario", PD_PLAYER_MAX_SCENARIOS);
    OUT->step = index_of(body, "step", PD_PLAYER_MAX_STEPS);
    json_t *d = json_object_get(body, "duration_ms");
    if (!STATES[k] || OUT->scenario < 0 || (json_object_get(body, "step") && OUT->step < 0) ||
        (d && (!json_is_integer(d) || json_integer_value(d) < 0)))
        return PD_EINVAL;
    /* a whole scenario can only go back to pending (a reset) */
    if (OUT->step < 0 && strcmp(OUT->state, "pending") != 0)
        return PD_EINVAL;
    OUT->output = json_string_value(json_object_get(body, "output"));
    OUT->why = json_string_value(json_object_get(body, "why"));
    OUT->duration_ms = d ? (long long)json_integer_value(d) : 0;
    *why = NULL;
    return PD_OK;
}

/* ---- the hub ---- */

struct queued {
    long long id;
    struct pd_player_cmd cmd;
};

struct pd_player {
    pthread_mutex_t mu;
    pthread_cond_t changed; /* broadcast on every change and on pd_player_wake */
    int closing, waiters, gone_ms;
    json_t *offer;       /* the player's scenarios with their results, or NULL (none yet) */
    char session[65];    /* the connected player's; "" when it left */
    long long version;   /* bumped on every change the page sees */
    long long next_cmd;  /* id of the next command */
    long long taken;     /* the newest command id the player has taken */
    int polling;         /* the player's polls in progress */
    long long last_seen; /* monotonic ms of its last call */
    struct queued queue[PD_PLAYER_MAX_QUEUE];
    size_t nqueue;
};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct pd_player *pd_player_new(int gone_ms)
{
    struct pd_player *p = pd_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->changed, &ca);
    pthread_condattr_destroy(&ca);
    p->gone_ms = gone_ms > 0 ? gone_ms : PD_PLAYER_GONE_MS;
    p->next_cmd = 1;
    return p;
}

void pd_player_free(struct pd_player *p)
{
    if (!p)
        return;
    json_decref(p->offer);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void pd_player_wake(struct pd_player *p)
{
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->mu);
}

static void changed(struct pd_player *p)
{
    p->version++;
    pthread_cond_broadcast(&p->changed);
}

/* Wait (p->mu held) until ready(p, arg), up to timeout_ms, within the waiters' bound. */
static void wait_for(struct pd_player *p, int (*ready)(struct pd_player *, long long),
                     long long arg, int timeout_ms, int max_waiters)
{
    if (ready(p, arg) || timeout_ms <= 0 || p->waiters >= max_waiters)
        return;
    struct timespec until = pd_timespec_after_ms(CLOCK_MONOTONIC, timeout_ms);
    p->waiters++;
    while (!p->closing && !ready(p, arg) &&
           pthread_cond_timedwait(&p->changed, &p->mu, &until) == 0) {
    }
    p->waiters--;
}

void pd_player_connect(struct pd_player *p, json_t *offer, const char *session)
{
    pthread_mutex_lock(&p->mu);
    json_decref(p->offer);
    p->offer = offer;
    snprintf(p->session, sizeof p->session, "%s", session);
    p->taken = p->next_cmd - 1; /* the old player's queue goes with it */
    p->nqueue = 0;
    p->last_seen = mono_ms();
    changed(p);
    pthread_mutex_unlock(&p->mu);
}

static int is_player(struct pd_player *p, const char *session)
{
    return session && p->session[0] && strcmp(session, p->session) == 0;
}

static void drop_taken(struct pd_player *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->nqueue; i++)
        if (p->queue[i].id > p->taken)
            p->queue[k++] = p->queue[i];
    p->nqueue = k;
}

static int has_command(struct pd_player *p, long long after)
{
    return p->next_cmd - 1 > after;
}

static const char *const ACTIONS[] = {"run_step", "run_all", "reset"};

static json_t *cmd_json(const struct queued *q)
{
    json_t *o = json_pack("{s:I, s:s, s:i}", "id", (json_int_t)q->id, "action",
                          ACTIONS[q->cmd.action], "scenario", q->cmd.scenario);
    if (q->cmd.step >= 0)
        json_object_set_new(o, "step", json_integer(q->cmd.step));
    return o;
}

int pd_player_poll(struct pd_player *p, const char *session, long long after, int timeout_ms,
                   int max_waiters, json_t **OUT)
{
    *OUT = NULL;
    pthread_mutex_lock(&p->mu);
    if (!is_player(p, session)) {
        pthread_mutex_unlock(&p->mu);
        return PD_ENOTFOUND;
    }
    if (after > p->taken && after < p->next_cmd) { /* what it has taken leaves the queue */
        p->taken = after;
        drop_taken(p);
        changed(p);
    }
    p->polling++;
    p->last_seen = mono_ms();
    wait_for(p, has_command, after, timeout_ms, max_waiters);
    p->polling--;
    p->last_seen = mono_ms();
    int rc = PD_ENOTFOUND;
    if (is_player(p, session)) {
        rc = PD_OK;
        *OUT = json_array();
        for (size_t i = 0; i < p->nqueue; i++)
            if (p->queue[i].id > after)
                json_array_append_new(*OUT, cmd_json(&p->queue[i]));
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static json_t *step_of(struct pd_player *p, int scenario, int step)
{
    json_t *s = json_array_get(json_object_get(p->offer, "scenarios"), (size_t)scenario);
    return step < 0 ? s : json_array_get(json_object_get(s, "steps"), (size_t)step);
}

static void set_step(json_t *st, const char *state, const char *output, const char *why,
                     long long duration_ms)
{
    char *out = pd_cut_middle(output ? output : "", PD_PLAYER_MAX_OUTPUT);
    char *w = pd_cut_middle(why ? why : "", PD_PLAYER_MAX_WHY);
    json_object_set_new(st, "state", json_string(state));
    /* jansson refuses invalid UTF-8: a command's raw bytes are kept as far as they are text */
    json_t *o = json_string(out), *y = json_string(w);
    json_object_set_new(st, "output", o ? o : json_string("(output not UTF-8)"));
    json_object_set_new(st, "why", y ? y : json_string("(not UTF-8)"));
    json_object_set_new(st, "duration_ms", json_integer(duration_ms));
    if (strcmp(state, "running") == 0)
        json_object_set_new(st, "runs",
                            json_integer(json_integer_value(json_object_get(st, "runs")) + 1));
    free(out);
    free(w);
}

int pd_player_report(struct pd_player *p, const struct pd_player_result *res)
{
    pthread_mutex_lock(&p->mu);
    int rc = PD_OK;
    json_t *target = NULL;
    if (!is_player(p, res->session))
        rc = PD_ENOTFOUND;
    else if (!(target = step_of(p, res->scenario, res->step)))
        rc = PD_EINVAL;
    if (rc == PD_OK) {
        p->last_seen = mono_ms();
        if (res->step >= 0) {
            set_step(target, res->state, res->output, res->why, res->duration_ms);
        } else { /* the whole scenario back to pending */
            size_t i;
            json_t *st;
            json_array_foreach(json_object_get(target, "steps"), i, st)
            {
                set_step(st, "pending", "", "", 0);
                json_object_set_new(st, "runs", json_integer(0));
            }
        }
        changed(p);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int pd_player_leave(struct pd_player *p, const char *session)
{
    pthread_mutex_lock(&p->mu);
    int rc = is_player(p, session) ? PD_OK : PD_ENOTFOUND;
    if (rc == PD_OK) {
        p->session[0] = '\0';
        p->nqueue = 0;
        p->taken = p->next_cmd - 1;
        changed(p);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static int connected(struct pd_player *p)
{
    return p->session[0] && (p->polling > 0 || mono_ms() - p->last_seen < p->gone_ms);
}

int pd_player_command(struct pd_player *p, const struct pd_player_cmd *c, long long *OUT_id)
{
    pthread_mutex_lock(&p->mu);
    int rc = PD_OK;
    if (!connected(p))
        rc = PD_ENOTFOUND;
    else if (!step_of(p, c->scenario, c->action == PD_PLAYER_RUN_STEP ? c->step : -1))
        rc = PD_EINVAL;
    else if (p->nqueue >= PD_PLAYER_MAX_QUEUE)
        rc = PD_ETOOBIG;
    if (rc == PD_OK) {
        struct queued *q = &p->queue[p->nqueue++];
        q->id = p->next_cmd++;
        q->cmd = *c;
        if (c->action != PD_PLAYER_RUN_STEP)
            q->cmd.step = -1;
        *OUT_id = q->id;
        changed(p);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static int newer(struct pd_player *p, long long after)
{
    return p->version > after;
}

json_t *pd_player_view(struct pd_player *p, long long after, int timeout_ms, int max_waiters)
{
    pthread_mutex_lock(&p->mu);
    wait_for(p, newer, after, timeout_ms, max_waiters);
    const char *state = !p->offer ? "none" : connected(p) ? "connected" : "gone";
    json_t *queue = json_array();
    for (size_t i = 0; i < p->nqueue; i++)
        json_array_append_new(queue, cmd_json(&p->queue[i]));
    json_t *who = json_pack("{s:s}", "state", state);
    json_t *pid = json_object_get(p->offer, "pid");
    if (pid)
        json_object_set(who, "pid", pid);
    json_t *out = json_pack(
        "{s:I, s:o, s:o, s:o}", "version", (json_int_t)p->version, "player", who, "scenarios",
        p->offer ? json_deep_copy(json_object_get(p->offer, "scenarios")) : json_array(), "queue",
        queue);
    pthread_mutex_unlock(&p->mu);
    return out;
}
