/*
 * s3_cors.c - what a bucket's CORS configuration does: answer the browser's preflight
 * (OPTIONS, not an operation of the model) and add the CORS headers to the answers of
 * requests that carry an Origin.
 *
 * The first rule that matches wins (S3 user guide, "Troubleshooting CORS"; facts H): the
 * Origin against each AllowedOrigin (one '*' matching any run of characters, or "*" alone
 * everything), the method (the preflight's Access-Control-Request-Method) among the
 * AllowedMethods, and every header of Access-Control-Request-Headers against an
 * AllowedHeader (case-insensitive, '*' patterns). A preflight is answered before any
 * authentication, as on S3; the CORS headers of other requests do not change who may do
 * what (policies and ACLs still decide).
 */
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "services/s3/s3_internal.h"

/* Does s match pattern p (one optional '*' standing for any run, possibly empty)?
 * ci: ASCII case-insensitive. */
static int wild(const char *p, const char *s, int ci)
{
    const char *star = strchr(p, '*');
    size_t pl = strlen(p), sl = strlen(s);
    if (!star)
        return ci ? pd_strcaseeq(p, s) : !strcmp(p, s);
    size_t pre = (size_t)(star - p), post = pl - pre - 1;
    if (sl < pre + post)
        return 0;
    if (ci ? !pd_strncaseeq(p, s, pre) : strncmp(p, s, pre) != 0)
        return 0;
    return ci ? pd_strcaseeq(star + 1, s + sl - post) : !strcmp(star + 1, s + sl - post);
}

static int in_list(json_t *list, const char *s, int ci)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *p = json_string_value(v);
        if (p && wild(p, s, ci))
            return 1;
    }
    return 0;
}

/* Every name of a comma-separated header list allowed by the rule? */
static int headers_allowed(struct pd_req *r, json_t *rule, const char *list)
{
    if (!list)
        return 1;
    char *copy = pd_arena_strdup(&r->arena, list);
    for (char *p = copy; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            p[--n] = '\0';
        if (*p && !in_list(json_object_get(rule, "AllowedHeaders"), p, 1))
            return 0;
        p = comma ? comma + 1 : NULL;
    }
    return 1;
}

/* The first rule of b's CORS configuration matching origin, method and the requested
 * headers (a borrowed reference into doc), or NULL. */
static json_t *match(struct pd_req *r, json_t *doc, const char *origin, const char *method,
                     const char *req_headers)
{
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(doc, "CORSRules"), i, rule)
    {
        if (!in_list(json_object_get(rule, "AllowedOrigins"), origin, 0))
            continue;
        if (!in_list(json_object_get(rule, "AllowedMethods"), method, 0))
            continue;
        if (!headers_allowed(r, rule, req_headers))
            continue;
        return rule;
    }
    return NULL;
}

static char *joined(struct pd_req *r, json_t *list, const char *sep)
{
    struct pd_buf b;
    pd_buf_init(&b, 0);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (i)
            pd_buf_adds(&b, sep);
        pd_buf_adds(&b, json_string_value(v) ? json_string_value(v) : "");
    }
    char *s = pd_arena_strndup(&r->arena, pd_buf_str(&b), b.len);
    pd_buf_free(&b);
    return s;
}

/* The headers a matching rule puts on an answer. */
static void allow_headers(struct pd_req *r, json_t *rule, const char *origin, int preflight,
                          const char *req_headers)
{
    /* a rule for every origin answers "*" (and no credentials) */
    int any = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(rule, "AllowedOrigins"), i, v) any |=
        json_is_string(v) && !strcmp(json_string_value(v), "*");
    pd_req_set_header(r, "Access-Control-Allow-Origin", any ? "*" : origin);
    if (!any)
        pd_req_set_header(r, "Access-Control-Allow-Credentials", "true");
    pd_req_set_header(r, "Vary",
                      "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    pd_req_set_header(r, "Access-Control-Allow-Methods",
                      joined(r, json_object_get(rule, "AllowedMethods"), ", "));
    if (preflight && req_headers) {
        char *h = pd_arena_strdup(&r->arena, req_headers);
        pd_lower(h);
        pd_req_set_header(r, "Access-Control-Allow-Headers", h);
    }
    json_t *expose = json_object_get(rule, "ExposeHeaders");
    if (json_array_size(expose))
        pd_req_set_header(r, "Access-Control-Expose-Headers", joined(r, expose, ", "));
    json_t *age = json_object_get(rule, "MaxAgeSeconds");
    if (json_is_integer(age))
        pd_req_set_header(r, "Access-Control-Max-Age",
                          pd_arena_printf(&r->arena, "%lld", (long long)json_integer_value(age)));
}

void s3_cors_headers(struct pd_req *r, const struct pd_s3_bucket *b)
{
    struct s3_state *st = s3_state(r);
    const char *origin = pd_req_header(r, "origin");
    if (st->cors_done || !origin || !strcmp(r->method, "OPTIONS"))
        return;
    st->cors_done = 1;
    json_t *doc = s3_cfg_json(b, "cors");
    json_t *rule = doc ? match(r, doc, origin, r->method, NULL) : NULL;
    if (rule)
        allow_headers(r, rule, origin, 0, NULL);
    json_decref(doc);
}

static int forbidden(struct pd_req *r, const char *msg, const char *method, int with_extra)
{
    pd_fail(r, &S3_AccessForbidden, "%s", msg);
    if (with_extra) {
        json_decref(r->err.extra);
        r->err.extra = json_pack("{s:s, s:s}", "Method", method ? method : "", "ResourceType",
                                 r->key ? "OBJECT" : "BUCKET");
    }
    return PD_EAWS;
}

int pd_s3_options_object(struct pd_req *r)
{
    const char *origin = pd_req_header(r, "origin");
    const char *method = pd_req_header(r, "access-control-request-method");
    const char *hdrs = pd_req_header(r, "access-control-request-headers");
    if (!origin)
        return pd_fail(r, &S3_BadRequest,
                       "Insufficient information. Origin request header needed.");
    static const char *const ok[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
    int valid = 0;
    for (size_t i = 0; method && i < 5; i++)
        valid |= !strcmp(method, ok[i]);
    if (!valid)
        return pd_fail(r, &S3_BadRequest, "Invalid Access-Control-Request-Method: %s",
                       method ? method : "null");
    struct pd_s3_bucket b;
    int rc = s3_bucket(r, &b);
    if (rc)
        return rc;
    json_t *doc = s3_cfg_json(&b, "cors");
    if (!doc)
        return forbidden(r, "CORSResponse: CORS is not enabled for this bucket.", method, 0);
    json_t *rule = match(r, doc, origin, method, hdrs);
    if (!rule) {
        json_decref(doc);
        return forbidden(r,
                         "CORSResponse: This CORS request is not allowed. This is usually "
                         "because the evalution of Origin, request method / "
                         "Access-Control-Request-Method or Access-Control-Request-Headers are "
                         "not whitelisted by the resource's CORS spec.",
                         method, 1);
    }
    allow_headers(r, rule, origin, 1, hdrs);
    json_decref(doc);
    r->resp.status = 200;
    return PD_OK;
}
