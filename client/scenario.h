/*
 * scenario.h - scenario files (docs/scenarios.md): parsing, ${VAR} substitution, JSON path
 * look-ups and expectation matching. Pure: no processes, no I/O but what the caller passes
 * in. scenario_run.c runs them.
 *
 * Owns struct pdc_scenario: steps point into the json_t document it keeps a reference on.
 */
#ifndef PDC_SCENARIO_H
#define PDC_SCENARIO_H

#include <jansson.h>
#include <stddef.h>

struct pd_arena;
struct pd_kvs;

struct pdc_step {
    const char *name;
    json_t *run;             /* array of strings (argv), or NULL */
    const char *shell;       /* /bin/sh -c text, or NULL */
    json_t *env;             /* object name -> string, or NULL */
    const char *stdin_text;  /* or NULL */
    json_t *requires_tools;  /* array of program names; the step is skipped without them */
    json_t *skip_unless;     /* {"run": argv | "shell": text, "why": text}: a probe; the step
                                is skipped when it fails. Or NULL */
    long long timeout_s;     /* default 180 */
    int has_exit;            /* expect.exit given (default: exit 0 is expected) */
    long long exit_code;     /* expected exit status */
    json_t *stdout_contains; /* array of strings, or NULL */
    json_t *stderr_contains;
    json_t *stdout_not_contains;
    json_t *json;    /* object "path" -> expected value, or NULL */
    json_t *capture; /* object VAR -> "path", or NULL */
};

struct pdc_scenario {
    json_t *doc; /* owned reference */
    const char *name, *description, *fixtures;
    json_t *skip_unless;    /* as a step's, for the whole file (probed before the first step) */
    struct pdc_step *steps; /* arena-owned */
    size_t nsteps;
};

/* Parse a scenario document (doc: borrowed; the scenario takes its own reference). Unknown
 * fields and wrong types are errors: *OUT_err (arena) names the place ("steps[2].expect:
 * unknown field \"exits\""). Returns PD_OK or PD_EINVAL. */
int pdc_scenario_parse(struct pd_arena *a, json_t *doc, struct pdc_scenario *OUT,
                       const char **OUT_err);
void pdc_scenario_free(struct pdc_scenario *s);

/* Replace every ${NAME} in s with its value in vars (names [A-Za-z_][A-Za-z0-9_]*); "$${"
 * stands for a literal "${". An unknown name is an error (*OUT_missing = the name).
 * Returns PD_OK or PD_ENOTFOUND / PD_EINVAL (unterminated "${"). */
int pdc_subst(struct pd_arena *a, const char *s, const struct pd_kvs *vars, char **OUT,
              const char **OUT_missing);

/* Look a path up in a JSON value: members separated by '.', array indexes as ".N" or "[N]"
 * ("Buckets[0].Name", "Buckets.0.Name"); negative indexes count from the end; a member
 * whose name has dots or brackets as ["name"] (metadata.annotations["eks.amazonaws.com/x"]). An
 * empty path is the root. Returns the borrowed value or NULL. */
json_t *pdc_json_path(json_t *root, const char *path);

/* Does actual equal expected? Numbers compare by value (1 == 1.0); objects and arrays
 * compare member by member; a string expectation also matches a number or boolean whose
 * text is the same ("3" matches 3). */
int pdc_json_match(const json_t *actual, const json_t *expected);

/* Text of a scalar for captures and messages ("abc", "3", "true", compact JSON otherwise).
 * Arena-owned. */
const char *pdc_json_text(struct pd_arena *a, const json_t *v);

/* An argv (array of strings) as one shell command line, each argument quoted ('...') where
 * the shell would read it otherwise: how the console player shows a step (arena). */
const char *pdc_argv_text(struct pd_arena *a, const json_t *argv);

#endif
