/* json_text.c - compact JSON text of a jansson value (see json_text.h). */
#include "auth/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"

#define MAX_DEPTH 2048

static int text(struct pd_buf *b, const json_t *v, int depth)
{
    char num[32];
    int rc = PD_OK;
    if (!v || depth > MAX_DEPTH)
        return PD_EINVAL;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        size_t i = 0;
        rc = pd_buf_addc(b, '{');
        json_object_foreach((json_t *)v, k, x)
        {
            if (!rc && i++)
                rc = pd_buf_addc(b, ',');
            if (!rc)
                rc = pd_buf_add_json_str(b, k, strlen(k));
            if (!rc)
                rc = pd_buf_addc(b, ':');
            if (!rc)
                rc = text(b, x, depth + 1);
            if (rc)
                return rc;
        }
        return pd_buf_addc(b, '}');
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        rc = pd_buf_addc(b, '[');
        json_array_foreach(v, i, x)
        {
            if (!rc && i)
                rc = pd_buf_addc(b, ',');
            if (!rc)
                rc = text(b, x, depth + 1);
            if (rc)
                return rc;
        }
        return pd_buf_addc(b, ']');
    }
    case JSON_STRING:
        return pd_buf_add_json_str(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return pd_buf_adds(b, num);
    case JSON_REAL: {
        /* Rare here, and jansson's number format has corners (exponent digits, ".0"):
         * let it write them. */
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        rc = t ? pd_buf_adds(b, t) : PD_EINVAL;
        free(t);
        return rc;
    }
    case JSON_TRUE:
        return pd_buf_adds(b, "true");
    case JSON_FALSE:
        return pd_buf_adds(b, "false");
    case JSON_NULL:
        return pd_buf_adds(b, "null");
    }
    return PD_EINVAL;
}

int pd_json_text(struct pd_buf *b, const json_t *v)
{
    return text(b, v, 0);
}

char *pd_json_dumps(const json_t *v)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    pd_buf_reserve(&b, 1024); /* most of ours fit: one allocation */
    if (pd_json_text(&b, v) != PD_OK) {
        pd_buf_free(&b);
        return NULL;
    }
    return pd_buf_steal(&b, NULL);
}
