/*
 * fuzz_report.c - libFuzzer target: the test-suite inputs of the admin API that are parsed
 * or rebuilt from client bytes: snapshot names (they become directory names), and the
 * least-privilege policy (services/report.c), whose action and resource strings come from
 * requests (an S3 object key may hold any character, newlines included).
 *
 * First byte 0..127: the rest is a snapshot name; checked against the rule written out here
 * (1-64 of [A-Za-z0-9._-], not starting with '.'), so no name with '/' or ".." is ever
 * accepted. Otherwise the rest is lines "ACTION RESOURCE"; the policy written from them must
 * grant exactly those pairs: every statement's Action x Resource is a needed pair (or the
 * action on "*", which was needed), every needed pair is granted, Sids are unique.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "services/report.h"
#include "services/snapshots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_rule(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* "A B" in a new buffer (the caller frees it). */
static char *join(const char *a, size_t an, const char *b)
{
    size_t n = an + strlen(b) + 2;
    char *out = malloc(n);
    if (!out)
        abort();
    memcpy(out, a, an);
    out[an] = ' ';
    memcpy(out + an + 1, b, n - an - 1);
    return out;
}

static json_t *as_list(json_t *v)
{
    if (json_is_string(v)) {
        json_t *a = json_array();
        json_array_append(a, v);
        return a;
    }
    return json_incref(v);
}

static void check_policy(const json_t *pairs)
{
    json_t *doc = pd_report_policy(pairs);
    if (!doc)
        return;
    json_t *granted = json_object(), *sids = json_object();
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(doc, "Statement"), i, st)
    {
        const char *sid = json_string_value(json_object_get(st, "Sid"));
        if (!sid || json_object_get(sids, sid))
            abort(); /* Sids must be unique in a policy */
        json_object_set_new(sids, sid, json_true());
        json_t *acts = as_list(json_object_get(st, "Action"));
        json_t *res = as_list(json_object_get(st, "Resource"));
        if (!json_array_size(acts) || !json_array_size(res))
            abort();
        size_t j, k;
        json_t *a, *r;
        json_array_foreach(acts, j, a) json_array_foreach(res, k, r)
        {
            const char *as = json_string_value(a);
            char *pair = join(as, strlen(as), json_string_value(r));
            if (!json_object_get(pairs, pair))
                abort(); /* granted more than was needed */
            json_object_set_new(granted, pair, json_true());
            free(pair);
        }
        json_decref(acts);
        json_decref(res);
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)pairs, key, v)
    {
        const char *sp = strchr(key, ' ');
        if (!sp || sp == key || !sp[1] || json_object_get(granted, key))
            continue;
        /* not granted as such: only when the action was needed on "*" */
        char *star = join(key, (size_t)(sp - key), "*");
        if (!json_object_get(granted, star))
            abort(); /* a needed pair the policy does not grant */
        free(star);
    }
    json_decref(granted);
    json_decref(sids);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 8192)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *text = malloc(n + 1);
    memcpy(text, s, n);
    text[n] = '\0';
    if (data[0] < 128) {
        int ok = pd_snapshots_name_ok(text);
        if (ok != name_rule(text, strlen(text)))
            abort();
    } else {
        /* lines "ACTION RESOURCE" (resources may hold '\n' escaped as "\\n") */
        json_t *pairs = json_object();
        for (char *line = text; line < text + n;) {
            char *end = strchr(line, '\n');
            if (end)
                *end = '\0';
            for (char *p = line; (p = strstr(p, "\\n")) != NULL;) {
                p[0] = '\n';
                memmove(p + 1, p + 2, strlen(p + 2) + 1);
            }
            if (*line)
                json_object_set_new(pairs, line, json_true());
            if (!end)
                break;
            line = end + 1;
        }
        check_policy(pairs);
        json_decref(pairs);
    }
    free(text);
    return 0;
}
