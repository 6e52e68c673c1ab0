/*
 * admin.c - podiam's own API under /_podiam/: health, reset, state export, CA, clock.
 *
 * Unsigned and served to loopback clients only. Answers are JSON (or PEM). Reset and
 * export go through the fixtures module, so "reset" means "back to the fixtures given at
 * start".
 */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "env.h"
#include "services/service.h"

static int json_reply(struct pd_req *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    r->resp.status = status;
    r->resp.content_type = "application/json";
    pd_buf_adds(&r->resp.body, text ? text : "null");
    pd_buf_addc(&r->resp.body, '\n');
    free(text);
    return PD_OK;
}

static int admin_error(struct pd_req *r, int status, const char *code, const char *msg)
{
    return json_reply(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

static int health(struct pd_req *r)
{
    const struct pd_config *cfg = &r->env->cfg;
    static const char *modes[] = {"enforce", "audit", "off"};
    return json_reply(r, 200,
                      json_pack("{s:s, s:s, s:s, s:s, s:I}", "status", "ok", "version", PD_VERSION,
                                "iam_mode", modes[cfg->iam_mode], "region", cfg->region, "time_ms",
                                (json_int_t)pd_clock_now_ms(&r->env->clock)));
}

static int is_loopback(const char *ip)
{
    return pd_has_prefix(ip, "127.") || strcmp(ip, "::1") == 0 ||
           pd_has_prefix(ip, "::ffff:127.") || *ip == '\0';
}

static const struct pd_op ops[] = {
    {"Health", health, 0},
    {NULL, NULL, 0},
};

static int route(struct pd_req *r)
{
    if (!pd_has_prefix(r->path, "/_podiam/"))
        return 0;
    const char *p = r->path + 9;
    if (!is_loopback(r->peer_ip)) {
        r->op_name = "Forbidden";
        admin_error(r, 403, "Forbidden", "the admin API answers loopback clients only");
        return 1;
    }
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (strcmp(p, "health") == 0 && get)
        r->op = &ops[0];
    else {
        r->op_name = "NotFound";
        admin_error(r, 404, "NotFound", "no such admin endpoint");
    }
    return 1;
}

const struct pd_service pd_svc_admin = {
    .name = "admin",
    .proto = PD_PROTO_RAW,
    .ops = ops,
    .route = route,
};
