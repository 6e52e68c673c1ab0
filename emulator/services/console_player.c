/*
 * console_player.c - the scenario player's endpoints (docs/console.md), routed by console.c
 * under its guard (GET: the admin API's READ level; POST: SENSITIVE, a JSON body):
 *
 *   GET  /_podiam/console/api/player?after=V&wait=S   the page: scenarios, results, player
 *   POST /_podiam/console/api/player/command          the page: run a step, all, reset
 *   POST /_podiam/console/api/player/connect          the player: its offer -> a session
 *   POST /_podiam/console/api/player/poll             the player: commands (long poll)
 *   POST /_podiam/console/api/player/result           the player: a step's state and output
 *   POST /_podiam/console/api/player/leave            the player: goodbye
 *
 * podiam runs nothing here: the hub (services/player.c) passes commands and results.
 * Owns nothing beyond the request.
 */
#include <string.h>

#include "core/err.h"
#include "core/ids.h"
#include "core/kv.h"
#include "core/str.h"
#include "env.h"
#include "services/console.h"
#include "services/player.h"
#include "services/service.h"

#define MAX_WAIT_S 20

static int reply_error(struct pd_req *r, int status, const char *code, const char *msg)
{
    return pd_req_reply_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

static int max_waiters(struct pd_req *r)
{
    int threads = r->env->cfg.threads > 0 ? r->env->cfg.threads : 4;
    return threads / 4 > 1 ? threads / 4 : 1;
}

static json_t *body_json(struct pd_req *r)
{
    json_error_t jerr;
    return json_loadb(r->body.p ? r->body.p : "", r->body.len, JSON_REJECT_DUPLICATES, &jerr);
}

static const char *query_param(struct pd_req *r, const char *name)
{
    struct pd_kvs q = {0};
    if (pd_kvs_parse_form(&r->arena, &q, r->query, strlen(r->query), 1))
        return NULL;
    return pd_kvs_get(&q, name, 0);
}

static const char *const NO_PLAYER =
    "no scenario player is connected: start one with `podiamctl scenario --console scenarios/` "
    "(AWS_ENDPOINT_URL set to this podiam)";
static const char *const NOT_THE_PLAYER =
    "this player is no longer connected (another player replaced it, or it left)";

static int view(struct pd_req *r)
{
    int64_t after = -1, wait = 0;
    const char *a = query_param(r, "after"), *w = query_param(r, "wait");
    if ((a && pd_parse_i64(a, 0, INT64_MAX, &after) != PD_OK) ||
        (w && pd_parse_i64(w, 0, MAX_WAIT_S, &wait) != PD_OK))
        return reply_error(r, 400, "BadRequest",
                           "after is a version (a number), wait a number of seconds, 0 to 20");
    return pd_req_reply_json(
        r, 200, pd_player_view(r->env->player, after, a ? (int)wait * 1000 : 0, max_waiters(r)));
}

static int command(struct pd_req *r, json_t *b)
{
    struct pd_player_cmd c;
    const char *why;
    if (pd_player_parse_command(b, &c, &why))
        return reply_error(r, 400, "BadRequest", why);
    long long id = 0;
    int rc = pd_player_command(r->env->player, &c, &id);
    if (rc == PD_ENOTFOUND)
        return reply_error(r, 409, "NoPlayer", NO_PLAYER);
    if (rc == PD_EINVAL)
        return reply_error(r, 400, "BadRequest", "the player offers no such scenario or step");
    if (rc == PD_ETOOBIG)
        return reply_error(r, 429, "TooManyCommands",
                           "16 commands wait for the player already: let it catch up");
    return pd_req_reply_json(r, 202, json_pack("{s:I}", "command", (json_int_t)id));
}

static int connect_player(struct pd_req *r, json_t *b)
{
    const char *why;
    json_t *offer = pd_player_parse_offer(b, &why);
    if (!offer)
        return reply_error(r, 400, "BadRequest", why);
    char session[37];
    pd_ids_uuid(&r->env->ids, session);
    pd_player_connect(r->env->player, offer, session);
    return pd_req_reply_json(r, 200, json_pack("{s:s}", "session", session));
}

static int poll_commands(struct pd_req *r, json_t *b)
{
    json_t *s = json_object_get(b, "session"), *a = json_object_get(b, "after"),
           *w = json_object_get(b, "wait");
    if (!json_is_object(b) || json_object_size(b) != 3 || !json_is_string(s) ||
        !json_is_integer(a) || json_integer_value(a) < 0 || !json_is_integer(w) ||
        json_integer_value(w) < 0 || json_integer_value(w) > MAX_WAIT_S)
        return reply_error(r, 400, "BadRequest",
                           "expected {\"session\", \"after\": N, \"wait\": 0 to 20}");
    json_t *cmds = NULL;
    if (pd_player_poll(r->env->player, json_string_value(s), (long long)json_integer_value(a),
                       (int)json_integer_value(w) * 1000, max_waiters(r), &cmds))
        return reply_error(r, 410, "PlayerReplaced", NOT_THE_PLAYER);
    return pd_req_reply_json(r, 200, json_pack("{s:o}", "commands", cmds));
}

static int result(struct pd_req *r, json_t *b)
{
    struct pd_player_result res;
    const char *why;
    if (pd_player_parse_result(b, &res, &why))
        return reply_error(r, 400, "BadRequest", why);
    int rc = pd_player_report(r->env->player, &res);
    if (rc == PD_ENOTFOUND)
        return reply_error(r, 410, "PlayerReplaced", NOT_THE_PLAYER);
    if (rc)
        return reply_error(r, 400, "BadRequest", "the player offered no such scenario or step");
    return pd_req_reply_json(r, 200, json_pack("{s:s}", "status", "recorded"));
}

static int leave(struct pd_req *r, json_t *b)
{
    json_t *s = json_object_get(b, "session");
    if (!json_is_object(b) || json_object_size(b) != 1 || !json_is_string(s))
        return reply_error(r, 400, "BadRequest", "expected {\"session\"}");
    if (pd_player_leave(r->env->player, json_string_value(s)))
        return reply_error(r, 410, "PlayerReplaced", NOT_THE_PLAYER);
    return pd_req_reply_json(r, 200, json_pack("{s:s}", "status", "left"));
}

int pd_console_player(struct pd_req *r)
{
    const char *rest = r->path + strlen("/_podiam/console/api/player");
    if (!*rest)
        return view(r);
    static const struct {
        const char *path;
        int (*fn)(struct pd_req *, json_t *);
    } posts[] = {{"/command", command},
                 {"/connect", connect_player},
                 {"/poll", poll_commands},
                 {"/result", result},
                 {"/leave", leave}};
    for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++) {
        if (strcmp(rest, posts[i].path) != 0)
            continue;
        json_t *b = body_json(r);
        if (!b)
            return reply_error(r, 400, "BadRequest", "the body is not JSON");
        int rc = posts[i].fn(r, b);
        json_decref(b);
        return rc;
    }
    return reply_error(r, 404, "NotFound", "no such console endpoint");
}
