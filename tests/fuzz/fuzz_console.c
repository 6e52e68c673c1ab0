/*
 * fuzz_console.c - libFuzzer target: the console playground's request body
 * (pd_console_simulate_input, emulator/services/console.c) on arbitrary JSON.
 *
 * Invariants beyond "no crash": a refusal says why; an accepted body becomes
 * SimulateCustomPolicy's input members within the stated bounds, all of the right types.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/console.h"

static void check_strings(const json_t *arr, size_t max_n, size_t max_len)
{
    if (!arr)
        return;
    if (!json_is_array(arr) || json_array_size(arr) > max_n)
        abort();
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (!json_is_string(x) || json_string_length(x) > max_len)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *b = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!b)
        return 0;
    const char *why = NULL;
    json_t *in = pd_console_simulate_input(b, &why);
    if (!in) {
        if (!why || !*why)
            abort();
    } else {
        if (why || !json_is_object(in))
            abort();
        check_strings(json_object_get(in, "PolicyInputList"), 10, 131072);
        check_strings(json_object_get(in, "ActionNames"), 20, 2048);
        check_strings(json_object_get(in, "ResourceArns"), 20, 2048);
        json_t *ctx = json_object_get(in, "ContextEntries");
        if (ctx && (!json_is_array(ctx) || json_array_size(ctx) > 50 || !json_array_size(ctx)))
            abort();
        size_t i;
        json_t *e;
        json_array_foreach(ctx, i, e)
        {
            if (!json_is_string(json_object_get(e, "ContextKeyName")) ||
                !json_is_string(json_object_get(e, "ContextKeyType")))
                abort();
            check_strings(json_object_get(e, "ContextKeyValues"), 50, 2048);
        }
        json_decref(in);
    }
    json_decref(b);
    return 0;
}
