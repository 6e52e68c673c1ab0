/*
 * scenario.c - scenario parsing, ${VAR} substitution, JSON paths and matching (pure).
 */
#include "scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/str.h"

static int known(const char *key, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(key, names[i]) == 0)
            return 1;
    return 0;
}

static int check_fields(struct pd_arena *a, const json_t *obj, const char *where,
                        const char *const *names, const char **OUT_err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (!known(key, names)) {
            *OUT_err = pd_arena_printf(a, "%s: unknown field \"%s\"", where, key);
            return PD_EINVAL;
        }
    }
    return PD_OK;
}

static int get_string(struct pd_arena *a, json_t *obj, const char *key, const char *where,
                      const char **OUT, const char **OUT_err)
{
    json_t *v = json_object_get(obj, key);
    *OUT = NULL;
    if (!v)
        return PD_OK;
    if (!json_is_string(v)) {
        *OUT_err = pd_arena_printf(a, "%s.%s: must be a string", where, key);
        return PD_EINVAL;
    }
    *OUT = json_string_value(v);
    return PD_OK;
}

static int string_array(struct pd_arena *a, json_t *obj, const char *key, const char *where,
                        json_t **OUT, const char **OUT_err)
{
    json_t *v = json_object_get(obj, key);
    *OUT = NULL;
    if (!v)
        return PD_OK;
    if (json_is_string(v)) { /* one string is a list of one */
        *OUT = v;
        return PD_OK;
    }
    size_t i;
    json_t *e;
    if (!json_is_array(v))
        goto bad;
    json_array_foreach(v, i, e) if (!json_is_string(e)) goto bad;
    *OUT = v;
    return PD_OK;
bad:
    *OUT_err = pd_arena_printf(a, "%s.%s: must be a list of strings", where, key);
    return PD_EINVAL;
}

/* "skip_unless": {"run": [argv] | "shell": "text", "why": "text"} (both required). */
static int parse_probe(struct pd_arena *a, json_t *obj, const char *where, json_t **OUT,
                       const char **OUT_err)
{
    static const char *const fields[] = {"run", "shell", "why", NULL};
    json_t *v = json_object_get(obj, "skip_unless");
    const char *w = pd_arena_printf(a, "%s.skip_unless", where);
    const char *shell = NULL, *why = NULL;
    json_t *run = NULL;
    int rc;
    *OUT = NULL;
    if (!v)
        return PD_OK;
    if (!json_is_object(v)) {
        *OUT_err = pd_arena_printf(a, "%s: must be an object", w);
        return PD_EINVAL;
    }
    if ((rc = check_fields(a, v, w, fields, OUT_err)) ||
        (rc = get_string(a, v, "shell", w, &shell, OUT_err)) ||
        (rc = get_string(a, v, "why", w, &why, OUT_err)))
        return rc;
    run = json_object_get(v, "run");
    if (run) {
        size_t i;
        json_t *e;
        int ok = json_is_array(run) && json_array_size(run) > 0;
        json_array_foreach(run, i, e) ok = ok && json_is_string(e);
        if (!ok) {
            *OUT_err = pd_arena_printf(a, "%s.run: must be a non-empty list of strings", w);
            return PD_EINVAL;
        }
    }
    if (!!run == !!shell) {
        *OUT_err = pd_arena_printf(a, "%s: exactly one of \"run\" and \"shell\"", w);
        return PD_EINVAL;
    }
    if (!why || !*why) {
        *OUT_err = pd_arena_printf(a, "%s: \"why\" is required", w);
        return PD_EINVAL;
    }
    *OUT = v;
    return PD_OK;
}

static int parse_step(struct pd_arena *a, json_t *js, const char *where, struct pdc_step *st,
                      const char **OUT_err)
{
    static const char *const fields[] = {"name",    "run",     "shell",       "env",
                                         "stdin",   "expect",  "capture",     "requires",
                                         "timeout", "comment", "skip_unless", NULL};
    static const char *const efields[] = {
        "exit", "stdout_contains", "stderr_contains", "stdout_not_contains", "json", NULL};
    int rc;
    memset(st, 0, sizeof(*st));
    st->timeout_s = 180;
    if (!json_is_object(js)) {
        *OUT_err = pd_arena_printf(a, "%s: must be an object", where);
        return PD_EINVAL;
    }
    if ((rc = check_fields(a, js, where, fields, OUT_err)) ||
        (rc = get_string(a, js, "name", where, &st->name, OUT_err)) ||
        (rc = get_string(a, js, "shell", where, &st->shell, OUT_err)) ||
        (rc = get_string(a, js, "stdin", where, &st->stdin_text, OUT_err)) ||
        (rc = string_array(a, js, "requires", where, &st->requires_tools, OUT_err)) ||
        (rc = parse_probe(a, js, where, &st->skip_unless, OUT_err)))
        return rc;
    json_t *run = json_object_get(js, "run");
    if (run) {
        if ((rc = string_array(a, js, "run", where, &st->run, OUT_err)))
            return rc;
        if (!json_is_array(run) || json_array_size(run) == 0) {
            *OUT_err = pd_arena_printf(a, "%s.run: must be a non-empty list of strings", where);
            return PD_EINVAL;
        }
    }
    if (!st->name) {
        *OUT_err = pd_arena_printf(a, "%s: \"name\" is required", where);
        return PD_EINVAL;
    }
    if (!!st->run == !!st->shell) {
        *OUT_err =
            pd_arena_printf(a, "%s (%s): exactly one of \"run\" and \"shell\"", where, st->name);
        return PD_EINVAL;
    }
    json_t *t = json_object_get(js, "timeout");
    if (t) {
        if (!json_is_integer(t) || json_integer_value(t) <= 0) {
            *OUT_err = pd_arena_printf(a, "%s.timeout: must be a positive integer", where);
            return PD_EINVAL;
        }
        st->timeout_s = json_integer_value(t);
    }
    json_t *env = json_object_get(js, "env");
    if (env) {
        const char *k;
        json_t *v;
        if (!json_is_object(env))
            goto bad_env;
        json_object_foreach(env, k, v) if (!json_is_string(v)) goto bad_env;
        st->env = env;
    }
    json_t *cap = json_object_get(js, "capture");
    if (cap) {
        const char *k;
        json_t *v;
        if (!json_is_object(cap))
            goto bad_cap;
        json_object_foreach(cap, k, v) if (!json_is_string(v)) goto bad_cap;
        st->capture = cap;
    }
    json_t *ex = json_object_get(js, "expect");
    if (ex) {
        const char *w = pd_arena_printf(a, "%s.expect", where);
        if (!json_is_object(ex)) {
            *OUT_err = pd_arena_printf(a, "%s: must be an object", w);
            return PD_EINVAL;
        }
        if ((rc = check_fields(a, ex, w, efields, OUT_err)) ||
            (rc = string_array(a, ex, "stdout_contains", w, &st->stdout_contains, OUT_err)) ||
            (rc = string_array(a, ex, "stderr_contains", w, &st->stderr_contains, OUT_err)) ||
            (rc = string_array(a, ex, "stdout_not_contains", w, &st->stdout_not_contains, OUT_err)))
            return rc;
        json_t *e = json_object_get(ex, "exit");
        if (e) {
            if (!json_is_integer(e)) {
                *OUT_err = pd_arena_printf(a, "%s.exit: must be an integer", w);
                return PD_EINVAL;
            }
            st->has_exit = 1;
            st->exit_code = json_integer_value(e);
        }
        json_t *j = json_object_get(ex, "json");
        if (j) {
            if (!json_is_object(j)) {
                *OUT_err = pd_arena_printf(a, "%s.json: must be an object", w);
                return PD_EINVAL;
            }
            st->json = j;
        }
    }
    if (!st->has_exit)
        st->exit_code = 0;
    return PD_OK;
bad_env:
    *OUT_err = pd_arena_printf(a, "%s.env: must be an object of strings", where);
    return PD_EINVAL;
bad_cap:
    *OUT_err = pd_arena_printf(a, "%s.capture: must be an object of JSON paths", where);
    return PD_EINVAL;
}

int pdc_scenario_parse(struct pd_arena *a, json_t *doc, struct pdc_scenario *OUT,
                       const char **OUT_err)
{
    static const char *const fields[] = {"name",    "description", "fixtures", "steps",
                                         "comment", "skip_unless", NULL};
    int rc;
    memset(OUT, 0, sizeof(*OUT));
    *OUT_err = NULL;
    if (!json_is_object(doc)) {
        *OUT_err = "the scenario must be a JSON object";
        return PD_EINVAL;
    }
    if ((rc = check_fields(a, doc, "scenario", fields, OUT_err)) ||
        (rc = get_string(a, doc, "name", "scenario", &OUT->name, OUT_err)) ||
        (rc = get_string(a, doc, "description", "scenario", &OUT->description, OUT_err)) ||
        (rc = get_string(a, doc, "fixtures", "scenario", &OUT->fixtures, OUT_err)) ||
        (rc = parse_probe(a, doc, "scenario", &OUT->skip_unless, OUT_err)))
        return rc;
    if (!OUT->name) {
        *OUT_err = "scenario: \"name\" is required";
        return PD_EINVAL;
    }
    json_t *steps = json_object_get(doc, "steps");
    if (!json_is_array(steps) || json_array_size(steps) == 0) {
        *OUT_err = "scenario: \"steps\" must be a non-empty list";
        return PD_EINVAL;
    }
    OUT->nsteps = json_array_size(steps);
    OUT->steps = pd_arena_zalloc(a, OUT->nsteps * sizeof(*OUT->steps));
    for (size_t i = 0; i < OUT->nsteps; i++) {
        const char *where = pd_arena_printf(a, "steps[%zu]", i);
        if ((rc = parse_step(a, json_array_get(steps, i), where, &OUT->steps[i], OUT_err)))
            return rc;
    }
    OUT->doc = json_incref(doc);
    return PD_OK;
}

void pdc_scenario_free(struct pdc_scenario *s)
{
    json_decref(s->doc);
    s->doc = NULL;
}

static int name_char(char c, int first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

int pdc_subst(struct pd_arena *a, const char *s, const struct pd_kvs *vars, char **OUT,
              const char **OUT_missing)
{
    struct pd_buf b;
    int rc = PD_OK;
    pd_buf_init(&b, 0);
    *OUT_missing = NULL;
    for (const char *p = s; *p;) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            pd_buf_add(&b, "${", 2);
            p += 3;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            pd_buf_addc(&b, *p++);
            continue;
        }
        const char *n = p + 2, *e = n;
        while (*e && name_char(*e, e == n))
            e++;
        if (*e != '}' || e == n) {
            *OUT_missing = pd_arena_strndup(a, p, strcspn(p, "}") + 1);
            rc = PD_EINVAL;
            goto out;
        }
        char *name = pd_arena_strndup(a, n, (size_t)(e - n));
        const char *v = pd_kvs_get(vars, name, 0);
        if (!v) {
            *OUT_missing = name;
            rc = PD_ENOTFOUND;
            goto out;
        }
        pd_buf_adds(&b, v);
        p = e + 1;
    }
    *OUT = pd_arena_strdup(a, pd_buf_str(&b));
out:
    pd_buf_free(&b);
    return rc;
}

static json_t *index_of(json_t *v, const char *s, size_t n)
{
    char tmp[32];
    int64_t i;
    if (!json_is_array(v) || n == 0 || n >= sizeof(tmp))
        return NULL;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (pd_parse_i64(tmp, -1000000, 1000000, &i) != PD_OK)
        return NULL;
    if (i < 0)
        i += (int64_t)json_array_size(v);
    return i < 0 ? NULL : json_array_get(v, (size_t)i);
}

json_t *pdc_json_path(json_t *root, const char *path)
{
    json_t *v = root;
    const char *p = path;
    while (v && *p) {
        if (p[0] == '[' && p[1] == '"') { /* ["key.with.dots"] */
            const char *e = strstr(p + 2, "\"]");
            char key[512];
            if (!e || (size_t)(e - p - 2) >= sizeof(key) || !json_is_object(v))
                return NULL;
            memcpy(key, p + 2, (size_t)(e - p - 2));
            key[e - p - 2] = 0;
            v = json_object_get(v, key);
            p = e + 2;
            if (*p == '.')
                p++;
            continue;
        }
        if (*p == '[') {
            const char *e = strchr(p, ']');
            if (!e)
                return NULL;
            v = index_of(v, p + 1, (size_t)(e - p - 1));
            p = e + 1;
            if (*p == '.')
                p++;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (json_is_array(v)) {
            v = index_of(v, p, n);
        } else if (json_is_object(v)) {
            char key[512];
            if (n >= sizeof(key))
                return NULL;
            memcpy(key, p, n);
            key[n] = 0;
            v = json_object_get(v, key);
        } else {
            return NULL;
        }
        p += n;
        if (*p == '.')
            p++;
    }
    return v;
}

const char *pdc_json_text(struct pd_arena *a, const json_t *v)
{
    if (!v)
        return "(absent)";
    if (json_is_string(v))
        return pd_arena_strdup(a, json_string_value(v));
    if (json_is_integer(v))
        return pd_arena_printf(a, "%lld", (long long)json_integer_value(v));
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_null(v))
        return "null";
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    const char *r = pd_arena_strdup(a, s ? s : "?");
    free(s);
    return r;
}

int pdc_json_match(const json_t *actual, const json_t *expected)
{
    if (!actual)
        return 0;
    if (json_is_number(expected) && json_is_number(actual))
        return fabs(json_number_value(actual) - json_number_value(expected)) < 1e-9;
    if (json_is_string(expected) && !json_is_string(actual)) {
        char tmp[64];
        if (json_is_integer(actual))
            snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(actual));
        else if (json_is_boolean(actual))
            snprintf(tmp, sizeof(tmp), "%s", json_is_true(actual) ? "true" : "false");
        else
            return 0;
        return strcmp(tmp, json_string_value(expected)) == 0;
    }
    if (json_is_object(expected)) {
        if (!json_is_object(actual) || json_object_size(actual) != json_object_size(expected))
            return 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)expected, k, v)
        {
            if (!pdc_json_match(json_object_get(actual, k), v))
                return 0;
        }
        return 1;
    }
    if (json_is_array(expected)) {
        if (!json_is_array(actual) || json_array_size(actual) != json_array_size(expected))
            return 0;
        for (size_t i = 0; i < json_array_size(expected); i++)
            if (!pdc_json_match(json_array_get(actual, i), json_array_get(expected, i)))
                return 0;
        return 1;
    }
    return json_equal((json_t *)actual, (json_t *)expected);
}

const char *pdc_argv_text(struct pd_arena *a, const json_t *argv)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)argv, i, e)
    {
        const char *s = json_string_value(e);
        if (i)
            pd_buf_addc(&b, ' ');
        if (!s)
            continue;
        if (*s && strcspn(s, " \t\n'\"\\$`|&;<>(){}*?!#~") == strlen(s)) {
            pd_buf_adds(&b, s);
            continue;
        }
        pd_buf_addc(&b, '\'');
        for (const char *c = s; *c; c++) {
            if (*c == '\'')
                pd_buf_adds(&b, "'\\''");
            else
                pd_buf_addc(&b, *c);
        }
        pd_buf_addc(&b, '\'');
    }
    const char *out = pd_arena_strdup(a, pd_buf_str(&b));
    pd_buf_free(&b);
    return out;
}
