/*
 * fuzz_ctl_scenario.c - libFuzzer target for podiamctl's pure parts (client/scenario.c,
 * client/token.c) on arbitrary bytes: the input is read as a scenario document, as a token to
 * decode for display, as a ${VAR} template and as a JSON path into a fixed document.
 *
 * Invariants beyond "no crash": a parsed scenario has at least one step, each with a name
 * and exactly one of run/shell; substitution without "${" is the identity; a path that found
 * something found a member of the fixed document.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/kv.h"
#include "scenario.h"
#include "token.h"

static json_t *fixed;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fixed = json_loads("{\"a\":{\"b\":[1,{\"c\":\"d\"}],\"e.f\":true},\"g\":[[],[null]]}", 0, NULL);
    if (!fixed)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_arena a;
    pd_arena_init(&a);
    char *text = pd_arena_strndup(&a, (const char *)data, size); /* stops at a NUL */

    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (doc) {
        struct pdc_scenario s;
        const char *err = NULL;
        if (pdc_scenario_parse(&a, doc, &s, &err) == PD_OK) {
            if (s.nsteps == 0)
                abort();
            for (size_t i = 0; i < s.nsteps; i++)
                if (!s.steps[i].name || !!s.steps[i].run == !!s.steps[i].shell)
                    abort();
            pdc_scenario_free(&s);
        } else if (!err) {
            abort();
        }
        (void)pdc_json_match(doc, fixed);
        (void)pdc_json_text(&a, doc);
        json_decref(doc);
    }

    struct pdc_token t;
    (void)pdc_token_decode(&a, text, &t);
    pdc_token_free(&t);

    struct pd_kvs vars = {0};
    pd_kvs_add(&a, &vars, "A", "x", 1, 0);
    char *out;
    const char *missing;
    int rc = pdc_subst(&a, text, &vars, &out, &missing);
    if (!strstr(text, "${") && (rc != PD_OK || strcmp(out, text) != 0))
        abort();

    json_t *v = pdc_json_path(fixed, text);
    (void)v;
    pd_arena_cleanup(&a);
    return 0;
}
