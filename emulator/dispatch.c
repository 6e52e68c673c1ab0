/*
 * dispatch.c - the request pipeline (see dispatch.h): route -> decode -> authenticate ->
 * authorize -> handler in a transaction -> encode, then one access-log line.
 *
 * The only file that knows every layer. Routing order (DESIGN.md): admin /_podiam/, OIDC,
 * Kubernetes, the SigV4 scope's service, the query Action, S3 last.
 */
#include "dispatch.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "env.h"
#include "req.h"
#include "services/service.h"
#include "store/store.h"

int pd_dispatch_init(struct pd_env *env, const char **OUT_err)
{
    return PD_OK;
}

void pd_dispatch_cleanup(struct pd_env *env)
{
}

int pd_dispatch_headers(struct pd_req *r)
{
    const char *cl = pd_req_header(r, "content-length");
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*end || (r->env->cfg.max_body && n > r->env->cfg.max_body)) {
            /* Refuse before reading a byte of an oversized body. */
            r->resp.status = 413;
            r->resp.content_type = "text/plain";
            pd_buf_printf(&r->resp.body, "request body larger than %zu bytes\n",
                          r->env->cfg.max_body);
            return PD_ETOOBIG;
        }
    }
    return PD_OK;
}

int pd_dispatch_body(struct pd_req *r, const char *p, size_t n)
{
    if (pd_buf_add(&r->body, p, n) != PD_OK) {
        r->resp.status = 413;
        r->resp.content_type = "text/plain";
        pd_buf_printf(&r->resp.body, "request body larger than %zu bytes\n", r->env->cfg.max_body);
        return PD_ETOOBIG;
    }
    return PD_OK;
}

static void access_line(struct pd_req *r)
{
    int64_t ms = pd_clock_now_ms(&r->env->clock) - r->start_ms;
    pd_log_req(PD_LOG_INFO, r->request_id, "%s %s %s.%s %d %s %s %lldms", r->method, r->path,
               r->svc ? r->svc->name : "-",
               r->op        ? r->op->name
               : r->op_name ? r->op_name
                            : "-",
               r->resp.status, r->err.def ? r->err.def->code : "-", r->who.arn ? r->who.arn : "-",
               (long long)ms);
}

static void run_raw(struct pd_req *r)
{
    if (!r->op)
        return; /* route already answered (404, 403) */
    r->db = pd_store_db(r->env->store);
    int rc = r->op->fn(r);
    if (rc && !r->resp.status) {
        r->resp.status = 500;
        r->resp.content_type = "text/plain";
        pd_buf_printf(&r->resp.body, "internal error: %s\n", pd_strerror(rc));
    }
}

void pd_dispatch(struct pd_req *r)
{
    for (const struct pd_service *const *s = pd_services; *s; s++) {
        if ((*s)->proto == PD_PROTO_RAW && (*s)->route(r)) {
            r->svc = *s;
            run_raw(r);
            goto done;
        }
    }
    r->resp.status = 404;
    r->resp.content_type = "text/plain";
    pd_buf_adds(&r->resp.body, "not found\n");
done:
    pd_req_set_header(r, "x-amzn-RequestId", r->request_id);
    access_line(r);
}
