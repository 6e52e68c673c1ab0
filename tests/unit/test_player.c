/* test_player.c - the console's scenario player on podiam's side: the parsers of the
 * player's offer, the page's commands and the player's results (services/player.c), the hub
 * (long polls both ways, the bounded queue, a player replaced, gone, leaving, shutdown),
 * output cut with a marker (pd_cut_middle), and the endpoints through the pipeline with
 * the admin API's guards (services/console_player.c). */
#include "pipeline_env.h"

#include <pthread.h>
#include <unistd.h>

#include "core/str.h"
#include "services/player.h"

static int setup(void **state)
{
    *state = pt_env_new();
    return 0;
}

static int teardown(void **state)
{
    pt_env_free(*state);
    return 0;
}

#define OFFER                                                                                      \
    "{\"pid\": 7, \"scenarios\": [{\"file\": \"seed.json\", \"name\": \"seed\", \"description\": " \
    "\"d\", \"steps\": [{\"name\": \"one\", \"command\": \"aws sts get-caller-identity\"}, "       \
    "{\"name\": \"two\", \"command\": \"kubectl get pods\"}]}]}"

static json_t *parse(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(v);
    return v;
}

static void offer_parsed_and_bounded(void **state)
{
    (void)state;
    const char *why = NULL;
    json_t *b = parse(OFFER);
    json_t *o = pd_player_parse_offer(b, &why);
    assert_non_null(o);
    assert_null(why);
    json_t *st = json_array_get(
        json_object_get(json_array_get(json_object_get(o, "scenarios"), 0), "steps"), 1);
    assert_string_equal(json_string_value(json_object_get(st, "state")), "pending");
    assert_string_equal(json_string_value(json_object_get(st, "command")), "kubectl get pods");
    json_decref(o);
    json_decref(b);

    static const char *const bad[] = {
        "[]",
        "{}",
        "{\"scenarios\": []}",
        "{\"scenarios\": [{\"file\": \"f\", \"name\": \"n\", \"steps\": []}]}",
        "{\"scenarios\": [{\"file\": \"f\", \"name\": \"n\", \"steps\": [{\"name\": \"s\"}]}]}",
        "{\"scenarios\": [{\"file\": \"f\", \"name\": \"\", \"steps\": [{\"name\": \"s\", "
        "\"command\": \"c\"}]}]}",
        "{\"scenarios\": [{\"file\": \"f\", \"name\": \"n\", \"extra\": 1, \"steps\": [{\"name\": "
        "\"s\", \"command\": \"c\"}]}]}",
        "{\"scenarios\": [{\"file\": \"f\", \"name\": \"n\", \"steps\": [{\"name\": \"s\", "
        "\"command\": 3}]}]}",
        "{\"scenarios\": [{\"file\": \"f\", \"name\": \"n\", \"steps\": [{\"name\": \"s\", "
        "\"command\": \"a\\u0000b\"}]}]}",
        "{\"pid\": -1, \"scenarios\": [{\"file\": \"f\", \"name\": \"n\", \"steps\": [{\"name\": "
        "\"s\", \"command\": \"c\"}]}]}",
        "{\"other\": 1, \"scenarios\": [{\"file\": \"f\", \"name\": \"n\", \"steps\": [{\"name\": "
        "\"s\", \"command\": \"c\"}]}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = parse(bad[i]);
        why = NULL;
        if (pd_player_parse_offer(b, &why))
            fail_msg("accepted %s", bad[i]);
        assert_non_null(why);
        json_decref(b);
    }
    /* bounds: 65 scenarios, 301 steps, a 4097-byte name */
    json_t *step = json_pack("{s:s, s:s}", "name", "s", "command", "c");
    json_t *steps = json_array();
    for (int i = 0; i < PD_PLAYER_MAX_STEPS + 1; i++)
        json_array_append(steps, step);
    json_t *sc = json_pack("{s:s, s:s, s:o}", "file", "f", "name", "n", "steps", steps);
    b = json_pack("{s:[O]}", "scenarios", sc);
    assert_null(pd_player_parse_offer(b, &why));
    json_decref(b);
    json_array_remove(steps, 0);
    b = json_pack("{s:[O]}", "scenarios", sc);
    o = pd_player_parse_offer(b, &why);
    assert_non_null(o); /* 300 steps are fine */
    json_decref(o);
    json_decref(b);
    /* 4 scenarios of 251 steps: 1004 steps in all */
    json_t *four = json_array();
    json_array_remove(steps, 0);
    for (int i = 0; i < 49; i++)
        json_array_remove(steps, 0);
    assert_int_equal(json_array_size(steps), 250);
    json_array_append(steps, step);
    for (int i = 0; i < 4; i++)
        json_array_append(four, sc);
    b = json_pack("{s:o}", "scenarios", four);
    why = NULL;
    assert_null(pd_player_parse_offer(b, &why));
    assert_non_null(strstr(why, "1000 steps"));
    json_decref(b);
    json_t *many = json_array();
    for (int i = 0; i < PD_PLAYER_MAX_SCENARIOS + 1; i++)
        json_array_append(many, sc);
    b = json_pack("{s:o}", "scenarios", many);
    assert_null(pd_player_parse_offer(b, &why));
    json_decref(b);
    char *big = malloc(PD_PLAYER_MAX_TEXT + 2);
    memset(big, 'x', PD_PLAYER_MAX_TEXT + 1);
    big[PD_PLAYER_MAX_TEXT + 1] = 0;
    b = json_pack("{s:[{s:s, s:s, s:[O]}]}", "scenarios", "file", "f", "name", big, "steps", step);
    assert_null(pd_player_parse_offer(b, &why));
    json_decref(b);
    free(big);
    json_decref(sc);
    json_decref(step);
}

static void commands_and_results_parsed(void **state)
{
    (void)state;
    struct pd_player_cmd c;
    const char *why;
    json_t *b = parse("{\"action\": \"run_step\", \"scenario\": 0, \"step\": 3}");
    assert_int_equal(pd_player_parse_command(b, &c, &why), PD_OK);
    assert_int_equal(c.action, PD_PLAYER_RUN_STEP);
    assert_int_equal(c.step, 3);
    json_decref(b);
    b = parse("{\"action\": \"run_all\", \"scenario\": 2}");
    assert_int_equal(pd_player_parse_command(b, &c, &why), PD_OK);
    assert_int_equal(c.step, -1);
    json_decref(b);
    static const char *const bad_cmds[] = {
        "{\"action\": \"run_step\", \"scenario\": 0}",
        "{\"action\": \"run_all\", \"scenario\": 0, \"step\": 1}",
        "{\"action\": \"shell\", \"scenario\": 0}",
        "{\"action\": \"reset\", \"scenario\": -1}",
        "{\"action\": \"reset\", \"scenario\": 64}",
        "{\"action\": \"reset\", \"scenario\": 0, \"command\": \"rm -rf /\"}",
        "{\"action\": \"run_step\", \"scenario\": 0, \"step\": \"1\"}",
        "\"reset\"",
    };
    for (size_t i = 0; i < sizeof bad_cmds / sizeof bad_cmds[0]; i++) {
        b = parse(bad_cmds[i]);
        why = NULL;
        if (pd_player_parse_command(b, &c, &why) != PD_EINVAL)
            fail_msg("accepted %s", bad_cmds[i]);
        assert_non_null(why);
        json_decref(b);
    }
    struct pd_player_result res;
    b = parse("{\"session\": \"s\", \"scenario\": 0, \"step\": 1, \"state\": \"failed\", "
              "\"output\": \"o\", \"why\": \"w\", \"duration_ms\": 12}");
    assert_int_equal(pd_player_parse_result(b, &res, &why), PD_OK);
    assert_string_equal(res.state, "failed");
    assert_int_equal(res.duration_ms, 12);
    json_decref(b);
    b = parse("{\"session\": \"s\", \"scenario\": 0, \"state\": \"pending\"}");
    assert_int_equal(pd_player_parse_result(b, &res, &why), PD_OK);
    assert_int_equal(res.step, -1);
    json_decref(b);
    static const char *const bad_results[] = {
        "{\"session\": \"s\", \"scenario\": 0, \"state\": \"passed\"}", /* a whole scenario */
        "{\"session\": \"s\", \"scenario\": 0, \"step\": 0, \"state\": \"great\"}",
        "{\"scenario\": 0, \"step\": 0, \"state\": \"passed\"}",
        "{\"session\": \"s\", \"scenario\": 0, \"step\": 0, \"state\": \"passed\", \"output\": 1}",
        "{\"session\":\"s\",\"scenario\":0,\"step\":0,\"state\":\"passed\",\"duration_ms\":-1}",
        "{\"session\": \"s\", \"scenario\": 0, \"step\": 0, \"state\": \"passed\", \"x\": 1}",
    };
    for (size_t i = 0; i < sizeof bad_results / sizeof bad_results[0]; i++) {
        b = parse(bad_results[i]);
        if (pd_player_parse_result(b, &res, &why) != PD_EINVAL)
            fail_msg("accepted %s", bad_results[i]);
        json_decref(b);
    }
}

static void output_cut_with_a_marker(void **state)
{
    (void)state;
    char *s = pd_cut_middle("short", 100);
    assert_string_equal(s, "short");
    free(s);
    /* 10000 bytes of two-byte characters, cut to 1000: start and end kept, valid UTF-8 */
    char *big = malloc(10001);
    for (int i = 0; i < 10000; i += 2) {
        big[i] = (char)0xC3;
        big[i + 1] = (char)0xA9; /* é */
    }
    big[0] = 'A';
    big[1] = 'B';
    big[9998] = 'Y';
    big[9999] = 'Z';
    big[10000] = 0;
    s = pd_cut_middle(big, 1000);
    assert_true(strlen(s) <= 1000);
    assert_true(pd_utf8_valid(s, strlen(s)));
    assert_true(pd_has_prefix(s, "AB"));
    assert_string_equal(s + strlen(s) - 2, "YZ");
    assert_non_null(strstr(s, " bytes cut …]"));
    free(s);
    free(big);
}

/* ---- the hub ---- */

static json_t *offer(void)
{
    json_t *b = parse(OFFER);
    const char *why;
    json_t *o = pd_player_parse_offer(b, &why);
    json_decref(b);
    return o;
}

static const char *state_of(json_t *view, int scenario, int step)
{
    json_t *s = json_array_get(json_object_get(view, "scenarios"), (size_t)scenario);
    return json_string_value(
        json_object_get(json_array_get(json_object_get(s, "steps"), (size_t)step), "state"));
}

static const char *player_state(json_t *view)
{
    return json_string_value(json_object_get(json_object_get(view, "player"), "state"));
}

struct later {
    struct pd_player *p;
    int delay_ms;
};

static void *command_later(void *arg)
{
    struct later *l = arg;
    usleep((useconds_t)l->delay_ms * 1000);
    struct pd_player_cmd c = {PD_PLAYER_RUN_STEP, 0, 1};
    long long id;
    pd_player_command(l->p, &c, &id);
    return NULL;
}

static void hub_passes_commands_and_results(void **state)
{
    (void)state;
    struct pd_player *p = pd_player_new(60000);
    json_t *v = pd_player_view(p, -1, 0, 4);
    assert_string_equal(player_state(v), "none");
    json_decref(v);
    struct pd_player_cmd c = {PD_PLAYER_RUN_ALL, 0, -1};
    long long id = 0;
    assert_int_equal(pd_player_command(p, &c, &id), PD_ENOTFOUND); /* nobody to run it */

    pd_player_connect(p, offer(), "s1");
    v = pd_player_view(p, -1, 0, 4);
    assert_string_equal(player_state(v), "connected");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "player"), "pid")), 7);
    assert_string_equal(state_of(v, 0, 0), "pending");
    long long version = json_integer_value(json_object_get(v, "version"));
    json_decref(v);

    /* out of range */
    struct pd_player_cmd far = {PD_PLAYER_RUN_STEP, 0, 2};
    assert_int_equal(pd_player_command(p, &far, &id), PD_EINVAL);
    struct pd_player_cmd other = {PD_PLAYER_RESET, 1, -1};
    assert_int_equal(pd_player_command(p, &other, &id), PD_EINVAL);

    /* the player's long poll ends when the page posts a command */
    struct later l = {p, 50};
    pthread_t th;
    pthread_create(&th, NULL, command_later, &l);
    json_t *cmds = NULL;
    assert_int_equal(pd_player_poll(p, "s1", 0, 5000, 4, &cmds), PD_OK);
    pthread_join(th, NULL);
    assert_int_equal(json_array_size(cmds), 1);
    json_t *cmd = json_array_get(cmds, 0);
    assert_string_equal(json_string_value(json_object_get(cmd, "action")), "run_step");
    assert_int_equal(json_integer_value(json_object_get(cmd, "step")), 1);
    long long taken = json_integer_value(json_object_get(cmd, "id"));
    json_decref(cmds);
    /* the page's long poll ends on the change; the command waits in the queue */
    v = pd_player_view(p, version, 5000, 4);
    assert_true(json_integer_value(json_object_get(v, "version")) > version);
    assert_int_equal(json_array_size(json_object_get(v, "queue")), 1);
    json_decref(v);
    /* a poll after it takes it off the queue; nothing else: the wait times out empty */
    assert_int_equal(pd_player_poll(p, "s1", taken, 50, 4, &cmds), PD_OK);
    assert_int_equal(json_array_size(cmds), 0);
    json_decref(cmds);
    v = pd_player_view(p, -1, 0, 4);
    assert_int_equal(json_array_size(json_object_get(v, "queue")), 0);
    json_decref(v);

    /* results */
    struct pd_player_result res = {"s1", 0, 1, "running", NULL, NULL, 0};
    assert_int_equal(pd_player_report(p, &res), PD_OK);
    char *out = malloc(100000);
    memset(out, 'o', 99999);
    out[99999] = 0;
    struct pd_player_result done = {"s1", 0, 1, "failed", out, "exit status 1", 1500};
    assert_int_equal(pd_player_report(p, &done), PD_OK);
    free(out);
    v = pd_player_view(p, -1, 0, 4);
    assert_string_equal(state_of(v, 0, 1), "failed");
    json_t *st = json_array_get(
        json_object_get(json_array_get(json_object_get(v, "scenarios"), 0), "steps"), 1);
    assert_true(json_string_length(json_object_get(st, "output")) <= PD_PLAYER_MAX_OUTPUT);
    assert_non_null(strstr(json_string_value(json_object_get(st, "output")), "bytes cut"));
    assert_string_equal(json_string_value(json_object_get(st, "why")), "exit status 1");
    assert_int_equal(json_integer_value(json_object_get(st, "runs")), 1);
    json_decref(v);
    struct pd_player_result nowhere = {"s1", 0, 2, "passed", NULL, NULL, 0};
    assert_int_equal(pd_player_report(p, &nowhere), PD_EINVAL);
    struct pd_player_result reset = {"s1", 0, -1, "pending", NULL, NULL, 0};
    assert_int_equal(pd_player_report(p, &reset), PD_OK);
    v = pd_player_view(p, -1, 0, 4);
    assert_string_equal(state_of(v, 0, 1), "pending");
    json_decref(v);

    /* the queue is bounded */
    int queued = 0;
    while (pd_player_command(p, &c, &id) == PD_OK)
        queued++;
    assert_int_equal(queued, PD_PLAYER_MAX_QUEUE);
    assert_int_equal(pd_player_command(p, &c, &id), PD_ETOOBIG);

    /* another player replaces this one: the old session is refused, the queue is gone */
    pd_player_connect(p, offer(), "s2");
    assert_int_equal(pd_player_poll(p, "s1", 0, 0, 4, &cmds), PD_ENOTFOUND);
    assert_int_equal(pd_player_report(p, &res), PD_ENOTFOUND);
    assert_int_equal(pd_player_leave(p, "s1"), PD_ENOTFOUND);
    assert_int_equal(pd_player_poll(p, "s2", 0, 0, 4, &cmds), PD_OK);
    assert_int_equal(json_array_size(cmds), 0);
    json_decref(cmds);
    /* leaving: gone at once, commands refused */
    assert_int_equal(pd_player_leave(p, "s2"), PD_OK);
    v = pd_player_view(p, -1, 0, 4);
    assert_string_equal(player_state(v), "gone");
    assert_int_equal(json_array_size(json_object_get(v, "scenarios")), 1); /* still shown */
    json_decref(v);
    assert_int_equal(pd_player_command(p, &c, &id), PD_ENOTFOUND);
    pd_player_free(p);
}

static long long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void silent_player_gone_and_waits_bounded(void **state)
{
    (void)state;
    struct pd_player *p = pd_player_new(100);
    pd_player_connect(p, offer(), "s1");
    usleep(200 * 1000); /* no poll for longer than gone_ms */
    json_t *v = pd_player_view(p, -1, 0, 4);
    assert_string_equal(player_state(v), "gone");
    json_decref(v);
    struct pd_player_cmd c = {PD_PLAYER_RUN_ALL, 0, -1};
    long long id;
    assert_int_equal(pd_player_command(p, &c, &id), PD_ENOTFOUND);
    /* it polls again: back */
    json_t *cmds;
    assert_int_equal(pd_player_poll(p, "s1", 0, 0, 4, &cmds), PD_OK);
    json_decref(cmds);
    assert_int_equal(pd_player_command(p, &c, &id), PD_OK);

    /* no room for another waiter: the answer comes at once */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    v = pd_player_view(p, 1000000, 5000, 0);
    assert_true(ms_since(&t0) < 1000);
    json_decref(v);
    /* shutdown: waits end at once */
    pd_player_wake(p);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    v = pd_player_view(p, 1000000, 5000, 4);
    assert_true(ms_since(&t0) < 1000);
    json_decref(v);
    pd_player_free(p);
}

/* ---- the endpoints ---- */

static json_t *call(struct pd_env *env, const char *method, const char *path, const char *query,
                    const char *headers, const char *body, int status)
{
    struct pd_req *r = pt_http(env, method, path, query, headers, body);
    if (r->resp.status != status)
        fail_msg("%s %s: expected %d, got %d: %s", method, path, status, r->resp.status,
                 pt_body(r));
    json_t *out = json_loads(pt_body(r), 0, NULL);
    pd_req_free(r);
    assert_non_null(out);
    return out;
}

#define API "/_podiam/console/api/player"

static void endpoints_through_the_pipeline(void **state)
{
    struct pd_env *env = *state;
    json_t *v = call(env, "GET", API, NULL, NULL, NULL, 200);
    assert_string_equal(player_state(v), "none");
    json_decref(v);
    /* the page cannot command a player that is not there, and is told how to start one */
    json_t *e = call(env, "POST", API "/command", NULL, NULL,
                     "{\"action\": \"run_all\", \"scenario\": 0}", 409);
    assert_string_equal(json_string_value(json_object_get(e, "error")), "NoPlayer");
    assert_non_null(
        strstr(json_string_value(json_object_get(e, "message")), "podiamctl scenario --console"));
    json_decref(e);

    json_t *s = call(env, "POST", API "/connect", NULL, NULL, OFFER, 200);
    char session[64];
    snprintf(session, sizeof session, "%s", json_string_value(json_object_get(s, "session")));
    json_decref(s);
    assert_int_equal(strlen(session), 36);
    json_t *id = call(env, "POST", API "/command", NULL, NULL,
                      "{\"action\": \"run_step\", \"scenario\": 0, \"step\": 0}", 202);
    assert_int_equal(json_integer_value(json_object_get(id, "command")), 1);
    json_decref(id);
    char body[512];
    snprintf(body, sizeof body, "{\"session\": \"%s\", \"after\": 0, \"wait\": 1}", session);
    json_t *cmds = call(env, "POST", API "/poll", NULL, NULL, body, 200);
    assert_int_equal(json_array_size(json_object_get(cmds, "commands")), 1);
    json_decref(cmds);
    snprintf(body, sizeof body,
             "{\"session\": \"%s\", \"scenario\": 0, \"step\": 0, \"state\": \"passed\", "
             "\"output\": \"{\\\"Account\\\": \\\"000000000000\\\"}\", \"duration_ms\": 800}",
             session);
    json_decref(call(env, "POST", API "/result", NULL, NULL, body, 200));
    v = call(env, "GET", API, "after=0&wait=1", NULL, NULL, 200);
    assert_string_equal(state_of(v, 0, 0), "passed");
    json_decref(v);

    /* refusals: each clear, none changing anything */
    static const char *const bad[][3] = {
        {API "/command", "{\"action\": \"run_step\", \"scenario\": 0, \"step\": 9}", "BadRequest"},
        {API "/command", "{\"action\": \"exec\", \"scenario\": 0}", "BadRequest"},
        {API "/command", "not json", "BadRequest"},
        {API "/connect", "{\"scenarios\": []}", "BadRequest"},
        {API "/poll", "{\"session\": \"x\", \"after\": 0, \"wait\": 21}", "BadRequest"},
        {API "/poll", "{\"session\": \"x\", \"after\": 0, \"wait\": 0}", "PlayerReplaced"},
        {API "/result", "{\"session\": \"x\", \"scenario\": 0, \"step\": 0, \"state\": \"passed\"}",
         "PlayerReplaced"},
        {API "/leave", "{\"session\": \"x\"}", "PlayerReplaced"},
        {API "/nope", "{}", "NotFound"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct pd_req *r = pt_http(env, "POST", bad[i][0], NULL, NULL, bad[i][1]);
        json_t *out = json_loads(pt_body(r), 0, NULL);
        const char *code = json_string_value(json_object_get(out, "error"));
        if (!code || strcmp(code, bad[i][2]) != 0)
            fail_msg("%s %s: expected %s, got %d %s", bad[i][0], bad[i][1], bad[i][2],
                     r->resp.status, pt_body(r));
        json_decref(out);
        pd_req_free(r);
    }
    json_decref(call(env, "GET", API, "wait=30&after=0", NULL, NULL, 400));
    v = call(env, "GET", API, NULL, NULL, NULL, 200);
    assert_string_equal(state_of(v, 0, 0), "passed");
    assert_string_equal(player_state(v), "connected");
    json_decref(v);

    /* the admin API's guards: another page cannot read or drive the player */
    json_decref(
        call(env, "GET", API, NULL, "origin: http://evil.example\nhost: localhost", NULL, 403));
    json_decref(call(env, "GET", API, NULL, "host: evil.example", NULL, 403));
    json_decref(call(env, "POST", API "/command", NULL, "content-type: text/plain",
                     "{\"action\": \"run_all\", \"scenario\": 0}", 403));
    json_decref(call(env, "POST", API "/connect", NULL, "content-type: text/plain", OFFER, 403));
    json_decref(call(env, "GET", API "/command", NULL, NULL, NULL, 404));

    snprintf(body, sizeof body, "{\"session\": \"%s\"}", session);
    json_decref(call(env, "POST", API "/leave", NULL, NULL, body, 200));
    v = call(env, "GET", API, NULL, NULL, NULL, 200);
    assert_string_equal(player_state(v), "gone");
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offer_parsed_and_bounded),
        cmocka_unit_test(commands_and_results_parsed),
        cmocka_unit_test(output_cut_with_a_marker),
        cmocka_unit_test(hub_passes_commands_and_results),
        cmocka_unit_test(silent_player_gone_and_waits_bounded),
        cmocka_unit_test_setup_teardown(endpoints_through_the_pipeline, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
