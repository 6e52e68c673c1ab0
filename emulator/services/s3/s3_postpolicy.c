/*
 * s3_postpolicy.c - POST Object policy documents (see s3_postpolicy.h).
 *
 * Parsing checks the shape S3 checks before any field (InvalidPolicyDocument: not JSON, no
 * expiration or conditions, a condition of the wrong form, an unknown operator, a bad
 * content-length-range); checking then goes expiration, each condition in order (the first
 * that fails is named, printed in S3's ["eq", "$key", "value"] form), then fields no
 * condition names.
 */
#include "services/s3/s3_postpolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "core/err.h"
#include "core/str.h"

#define INVALID "Invalid Policy: "
#define DENIED "Invalid according to Policy: "

static int invalid(char *msg, size_t cap, const char *what)
{
    snprintf(msg, cap, INVALID "%s", what);
    return PD_EINVAL;
}

/* The name of a "$field" reference (without '$'), or NULL. */
static const char *field_ref(json_t *v)
{
    const char *s = json_string_value(v);
    return s && s[0] == '$' ? s + 1 : NULL;
}

static int is_number(json_t *v, int64_t *OUT)
{
    if (json_is_integer(v)) {
        *OUT = (int64_t)json_integer_value(v);
        return 1;
    }
    const char *s = json_string_value(v);
    return s && pd_parse_i64(s, INT64_MIN, INT64_MAX, OUT) == PD_OK;
}

int pd_s3_postpolicy_parse(const char *text, size_t len, struct pd_s3_postpolicy *OUT, char *msg,
                           size_t cap)
{
    memset(OUT, 0, sizeof *OUT);
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return invalid(msg, cap, "Invalid JSON.");
    }
    OUT->doc = doc;
    json_t *exp = json_object_get(doc, "expiration");
    json_t *conds = json_object_get(doc, "conditions");
    if (!exp) {
        pd_s3_postpolicy_free(OUT);
        return invalid(msg, cap, "Policy missing expiration.");
    }
    if (!json_is_string(exp) ||
        pd_time_parse_iso8601(json_string_value(exp), &OUT->expires_ms) != PD_OK) {
        pd_s3_postpolicy_free(OUT);
        return invalid(msg, cap, "Invalid 'expiration' value: must be an ISO 8601 date.");
    }
    if (!conds) {
        pd_s3_postpolicy_free(OUT);
        return invalid(msg, cap, "Policy missing conditions.");
    }
    if (!json_is_array(conds)) {
        pd_s3_postpolicy_free(OUT);
        return invalid(msg, cap, "Invalid 'conditions' value: must be a List.");
    }
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        if (json_is_object(c)) {
            if (json_object_size(c) != 1) {
                pd_s3_postpolicy_free(OUT);
                return invalid(msg, cap,
                               "Invalid Simple-Condition: Simple-Conditions must have "
                               "exactly one property specified.");
            }
            const char *k;
            json_t *v;
            json_object_foreach(c, k, v) if (!json_is_string(v))
            {
                pd_s3_postpolicy_free(OUT);
                return invalid(msg, cap, "Invalid Simple-Condition: value must be a string.");
            }
            continue;
        }
        const char *op = json_string_value(json_array_get(c, 0));
        if (!json_is_array(c) || !op) {
            pd_s3_postpolicy_free(OUT);
            return invalid(msg, cap, "Invalid Condition: must be an object or a List.");
        }
        if (pd_strcaseeq(op, "content-length-range")) {
            int64_t lo, hi;
            if (json_array_size(c) != 3 || !is_number(json_array_get(c, 1), &lo) ||
                !is_number(json_array_get(c, 2), &hi) || lo < 0 || hi < lo) {
                pd_s3_postpolicy_free(OUT);
                return invalid(msg, cap,
                               "Invalid content-length-range: min and max must be "
                               "integers with 0 <= min <= max.");
            }
            OUT->has_range = 1;
            OUT->min = lo;
            OUT->max = hi;
            continue;
        }
        /* (messages are written before the document, which holds op, is freed) */
        if (!pd_strcaseeq(op, "eq") && !pd_strcaseeq(op, "starts-with")) {
            snprintf(msg, cap, INVALID "Invalid Condition Operator: %s", op);
            pd_s3_postpolicy_free(OUT);
            return PD_EINVAL;
        }
        if (json_array_size(c) != 3 || !field_ref(json_array_get(c, 1)) ||
            !json_is_string(json_array_get(c, 2))) {
            snprintf(msg, cap,
                     INVALID "Invalid Condition: the %s condition takes a $field and a string.",
                     op);
            pd_s3_postpolicy_free(OUT);
            return PD_EINVAL;
        }
    }
    return PD_OK;
}

void pd_s3_postpolicy_free(struct pd_s3_postpolicy *p)
{
    json_decref(p->doc);
    p->doc = NULL;
}

/* The form's value of field (lower-cased), its values joined with ',' when repeated, into
 * buf; NULL when absent. */
static const char *value_of(const struct pd_kvs *fields, const char *name, char *buf, size_t cap)
{
    /* (a value that does not fit compares as absent: never as a prefix of itself) */
    size_t n = 0;
    int found = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < fields->n; i++) {
        if (!pd_strcaseeq(fields->v[i].name, name))
            continue;
        int w = snprintf(buf + n, cap - n, "%s%.*s", found ? "," : "", (int)fields->v[i].vlen,
                         fields->v[i].value);
        found = 1;
        if (w < 0 || (size_t)w >= cap - n)
            return NULL;
        n += (size_t)w;
    }
    return found ? buf : NULL;
}

/* S3 prints a failed condition as ["op", "$field", "value"]. */
static void failed(char *msg, size_t cap, const char *op, const char *field, const char *value)
{
    snprintf(msg, cap, DENIED "Policy Condition failed: [\"%s\", \"$%s\", \"%s\"]", op, field,
             value);
}

static int exempt(const char *name)
{
    static const char *const free_fields[] = {"awsaccesskeyid", "signature", "x-amz-signature",
                                              "file", "policy"};
    for (size_t i = 0; i < sizeof free_fields / sizeof free_fields[0]; i++)
        if (pd_strcaseeq(name, free_fields[i]))
            return 1;
    return pd_strncaseeq(name, "x-ignore-", 9);
}

enum pd_s3_pp pd_s3_postpolicy_check(const struct pd_s3_postpolicy *p, const struct pd_kvs *fields,
                                     const char *bucket, int64_t now_ms, char *msg, size_t cap)
{
    if (now_ms >= p->expires_ms) {
        snprintf(msg, cap, DENIED "Policy expired.");
        return PD_S3_PP_EXPIRED;
    }
    /* a field's values joined: at most the form's 20 KB of fields and their commas */
    char *buf = pd_xmalloc(PD_S3_PP_MAX_VALUE);
    enum pd_s3_pp verdict = PD_S3_PP_OK;
    json_t *conds = json_object_get(p->doc, "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *op, *field, *want;
        if (json_is_object(c)) {
            const char *k;
            json_t *v;
            op = "eq";
            field = want = NULL;
            json_object_foreach(c, k, v)
            {
                field = k;
                want = json_string_value(v);
            }
        } else {
            op = json_string_value(json_array_get(c, 0));
            if (pd_strcaseeq(op, "content-length-range"))
                continue; /* checked against the file's size */
            field = field_ref(json_array_get(c, 1));
            want = json_string_value(json_array_get(c, 2));
        }
        const char *have = pd_strcaseeq(field, "bucket")
                               ? bucket
                               : value_of(fields, field, buf, PD_S3_PP_MAX_VALUE);
        int ok;
        if (pd_strcaseeq(op, "eq"))
            ok = have && !strcmp(have, want);
        else
            ok = !*want || (have && !strncmp(have, want, strlen(want)));
        if (!ok) {
            failed(msg, cap, pd_strcaseeq(op, "eq") ? "eq" : "starts-with", field, want);
            verdict = PD_S3_PP_FAILED;
            goto out;
        }
    }
    /* every field must be named by some condition */
    for (size_t f = 0; f < fields->n; f++) {
        const char *name = fields->v[f].name;
        if (exempt(name))
            continue;
        int named = 0;
        json_array_foreach(conds, i, c)
        {
            const char *field = NULL;
            if (json_is_object(c)) {
                const char *k;
                json_t *v;
                json_object_foreach(c, k, v) field = k;
            } else {
                field = field_ref(json_array_get(c, 1));
            }
            if (field && pd_strcaseeq(field, name))
                named = 1;
        }
        if (!named) {
            snprintf(msg, cap, DENIED "Extra input fields: %s", name);
            verdict = PD_S3_PP_EXTRA;
            goto out;
        }
    }
out:
    free(buf);
    return verdict;
}
