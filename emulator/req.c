/* req.c - request context lifetime and helpers (see req.h). */
#include "req.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/json_text.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"
#include "stream.h"

const struct pd_awserr PD_ERR_InternalFailure = {"InternalFailure", 500, 1};
const struct pd_awserr PD_ERR_NotImplemented = {"NotImplemented", 501, 1};
const struct pd_awserr PD_ERR_InvalidAction = {"InvalidAction", 400, 0};
const struct pd_awserr PD_ERR_ValidationError = {"ValidationError", 400, 0};
const struct pd_awserr PD_ERR_AccessDenied = {"AccessDenied", 403, 0};
const struct pd_awserr PD_ERR_RequestEntityTooLarge = {"RequestEntityTooLarge", 413, 0};
const struct pd_awserr PD_ERR_ServiceUnavailable = {"ServiceUnavailable", 503, 1};

struct pd_req *pd_req_new(struct pd_env *env)
{
    struct pd_req *r = pd_xcalloc(1, sizeof *r);
    pd_arena_init(&r->arena);
    r->env = env;
    r->query = "";
    r->resp.fd = -1;
    pd_buf_init(&r->body, env->cfg.max_body);
    pd_buf_init(&r->resp.body, 0);
    pd_ids_uuid(&env->ids, r->request_id);
    r->start_ms = pd_clock_now_ms(&env->clock);
    return r;
}

void pd_req_free(struct pd_req *r)
{
    if (!r)
        return;
    if (r->sink && r->sink->discard)
        r->sink->discard(r);
    /* A large request (a big body, or much decoded from it) leaves freed pages in this
     * worker's malloc arena; give them back so the worker returns to its idle size. */
    int large = r->body.cap + r->resp.body.cap + r->arena.total > PD_REQ_TRIM_BYTES;
    json_decref(r->in);
    json_decref(r->out);
    json_decref(r->err.extra);
    pd_buf_free(&r->body);
    pd_buf_free(&r->resp.body);
    if (r->resp.fd >= 0)
        close(r->resp.fd);
    if (r->resp.stream && r->resp.stream->done)
        r->resp.stream->done(r->resp.stream); /* never handed to a server */
    pd_arena_cleanup(&r->arena);
    free(r);
    if (large)
        malloc_trim(0);
}

const char *pd_req_header(const struct pd_req *r, const char *lname)
{
    return pd_kvs_get(&r->hdrs, lname, 0);
}

void pd_req_set_header(struct pd_req *r, const char *name, const char *value)
{
    pd_kvs_add(&r->arena, &r->resp.hdrs, name, value, strlen(value), 0);
}

int pd_fail(struct pd_req *r, const struct pd_awserr *e, const char *fmt, ...)
{
    if (r->err.def)
        return PD_EAWS;
    r->err.def = e;
    va_list ap;
    va_start(ap, fmt);
    r->err.message = pd_arena_vprintf(&r->arena, fmt, ap);
    va_end(ap);
    return PD_EAWS;
}

int pd_req_reply_json(struct pd_req *r, int status, json_t *body)
{
    r->resp.status = status;
    r->resp.content_type = "application/json";
    pd_buf_reset(&r->resp.body);
    if (pd_json_text(&r->resp.body, body) != PD_OK) {
        pd_buf_reset(&r->resp.body);
        pd_buf_adds(&r->resp.body, "null");
    }
    json_decref(body);
    pd_buf_addc(&r->resp.body, '\n');
    return PD_OK;
}

int pd_req_from_loopback(const struct pd_req *r)
{
    const char *ip = r->peer_ip;
    return pd_has_prefix(ip, "127.") || strcmp(ip, "::1") == 0 ||
           pd_has_prefix(ip, "::ffff:127.") || *ip == '\0';
}

/* Is h[0..n) a loopback host: localhost, NAME.localhost, 127.x.y.z, ::1 (bracketed)? */
static int loopback_host(const char *h, size_t n)
{
    if (n == 9 && pd_strncaseeq(h, "localhost", 9))
        return 1;
    if (n > 10 && pd_strncaseeq(h + n - 10, ".localhost", 10))
        return 1;
    if (n == 5 && memcmp(h, "[::1]", 5) == 0)
        return 1;
    if (n < 7 || n > 15 || memcmp(h, "127.", 4) != 0)
        return 0;
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '.')
            dots++;
        else if (h[i] < '0' || h[i] > '9')
            return 0;
    }
    return dots == 3;
}

/* Split "HOST[:PORT]" (HOST possibly a bracketed IPv6 literal): the host's length, and the
 * port (-1 when absent, -2 when malformed). */
static size_t split_host_port(const char *s, int *OUT_port)
{
    size_t hl = 0;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        hl = close ? (size_t)(close - s) + 1 : strlen(s);
    } else {
        hl = strcspn(s, ":");
    }
    *OUT_port = -1;
    if (s[hl] == ':') {
        int64_t p;
        *OUT_port = pd_parse_i64(s + hl + 1, 1, 65535, &p) ? -2 : (int)p;
    } else if (s[hl]) {
        *OUT_port = -2;
    }
    return hl;
}

const char *pd_req_admin_refusal(const struct pd_req *r, enum pd_admin_level level)
{
    if (!pd_req_from_loopback(r))
        return "the admin API answers loopback clients only";
    if (level == PD_ADMIN_PUBLIC || !*r->peer_ip)
        return NULL; /* in-process (tests): no HTTP headers to check */
    const char *host = pd_req_header(r, "host");
    int port;
    if (!host || !loopback_host(host, split_host_port(host, &port)) || port == -2)
        return "the admin API answers requests for a loopback Host only";
    const char *origin = pd_req_header(r, "origin");
    if (origin) {
        const char *rest = pd_has_prefix(origin, "http://")    ? origin + 7
                           : pd_has_prefix(origin, "https://") ? origin + 8
                                                               : NULL;
        size_t hl = rest ? split_host_port(rest, &port) : 0;
        if (!rest || !loopback_host(rest, hl) || port < 0 ||
            (port != r->env->http_port && port != r->env->https_port))
            return "the admin API refuses requests from other origins";
    }
    if (level == PD_ADMIN_SENSITIVE) {
        const char *ct = pd_req_header(r, "content-type");
        if (!pd_req_header(r, "x-podiam-admin") &&
            !(ct && pd_strncaseeq(ct, "application/json", 16)))
            return "this admin call needs a JSON body (Content-Type: application/json) or the "
                   "header X-Podiam-Admin, so that no web page can make it";
    }
    return NULL;
}
