/* req.c - request context lifetime and helpers (see req.h). */
#include "req.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/json_text.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "env.h"

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
    json_decref(r->in);
    json_decref(r->out);
    json_decref(r->err.extra);
    pd_buf_free(&r->body);
    pd_buf_free(&r->resp.body);
    if (r->resp.fd >= 0)
        close(r->resp.fd);
    pd_arena_cleanup(&r->arena);
    free(r);
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
