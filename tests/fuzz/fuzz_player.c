/*
 * fuzz_player.c - libFuzzer target: the console scenario player's parsers
 * (emulator/services/player.c) on arbitrary JSON: the player's offer, the page's command and
 * the player's result; and pd_cut_middle on the input as text.
 *
 * Invariants beyond "no crash": a refusal says why; an accepted offer is within the bounds
 * (64 scenarios, 300 steps, strings of 4096 bytes) with every step pending; an accepted
 * command or result has its indexes in range and a known action or state; a cut text is
 * within its bound and still valid UTF-8 when the input was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "services/player.h"

static void check_text(const json_t *o, const char *key, int required)
{
    json_t *v = json_object_get(o, key);
    if ((!v && required) || (v && (!json_is_string(v) || json_string_length(v) > 4096)))
        abort();
}

static void check_offer(const json_t *o)
{
    json_t *list = json_object_get(o, "scenarios");
    if (!json_is_array(list) || !json_array_size(list) ||
        json_array_size(list) > PD_PLAYER_MAX_SCENARIOS)
        abort();
    size_t i, k, all = 0;
    json_t *s, *st;
    json_array_foreach(list, i, s)
    {
        check_text(s, "file", 1);
        check_text(s, "name", 1);
        check_text(s, "description", 0);
        json_t *steps = json_object_get(s, "steps");
        if (!json_array_size(steps) || json_array_size(steps) > PD_PLAYER_MAX_STEPS)
            abort();
        all += json_array_size(steps);
        if (all > PD_PLAYER_MAX_ALL_STEPS)
            abort();
        json_array_foreach(steps, k, st)
        {
            check_text(st, "name", 1);
            check_text(st, "command", 1);
            if (strcmp(json_string_value(json_object_get(st, "state")), "pending") != 0)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *b = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (b) {
        const char *why = NULL;
        json_t *o = pd_player_parse_offer(b, &why);
        if (!o && (!why || !*why))
            abort();
        if (o) {
            check_offer(o);
            json_decref(o);
        }
        struct pd_player_cmd c;
        why = NULL;
        if (pd_player_parse_command(b, &c, &why) == 0) {
            if (c.scenario < 0 || c.scenario >= PD_PLAYER_MAX_SCENARIOS ||
                (c.action == PD_PLAYER_RUN_STEP) != (c.step >= 0) || c.step >= PD_PLAYER_MAX_STEPS)
                abort();
        } else if (!why) {
            abort();
        }
        struct pd_player_result res;
        why = NULL;
        if (pd_player_parse_result(b, &res, &why) == 0) {
            if (!res.session || !res.state || res.scenario < 0 || res.step >= PD_PLAYER_MAX_STEPS ||
                (res.step < 0 && strcmp(res.state, "pending") != 0) || res.duration_ms < 0)
                abort();
        } else if (!why) {
            abort();
        }
        json_decref(b);
    }
    /* the input as text, cut to a small bound */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    size_t max = 65 + (size ? data[0] : 0);
    char *cut = pd_cut_middle(text, max);
    size_t n = strlen(cut);
    if (strlen(text) > max && n > max)
        abort();
    if (pd_utf8_valid(text, strlen(text)) && !pd_utf8_valid(cut, n))
        abort();
    free(cut);
    free(text);
    return 0;
}
