/*
 * admin.c - podiam's own API under /_podiam/: health, reset, state export, CA, clock,
 * decision log (marks, report), snapshots (snapshots.c), accounts (accounts.c) and an
 * account's root credentials.
 *
 * Unsigned and served to loopback clients only. Answers are JSON (or PEM). Reset and
 * export go through the fixtures module, so "reset" means "back to the fixtures given at
 * start".
 */
#include <stdio.h>
#include <unistd.h>
#include <pthread.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/str.h"
#include "auth/decisions.h"
#include "auth/secrets.h"
#include "env.h"
#include "k8s/k8s.h"
#include "store/store.h"
#include "services/fixtures.h"
#include "services/accounts.h"
#include "services/report.h"
#include "services/snapshots.h"
#include "services/service.h"
#include "store/iam_db.h"

static int admin_error(struct pd_req *r, int status, const char *code, const char *msg)
{
    return pd_req_reply_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

static int health(struct pd_req *r)
{
    const struct pd_env *env = r->env;
    const struct pd_config *cfg = &env->cfg;
    static const char *modes[] = {"enforce", "audit", "off"};
    /* where each listener is (bound ports; absent when it is off): podiamctl finds the
     * proxy here */
    json_t *endpoints = json_object();
    if (env->http_url[0])
        json_object_set_new(endpoints, "http", json_string(env->http_url));
    if (env->https_url[0])
        json_object_set_new(endpoints, "https", json_string(env->https_url));
    if (env->proxy_url[0])
        json_object_set_new(endpoints, "proxy", json_string(env->proxy_url));
    return pd_req_reply_json(
        r, 200,
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:{s:I}}", "status", "ok", "version", PD_VERSION,
                  "iam_mode", modes[cfg->iam_mode], "region", cfg->region, "time_ms",
                  (json_int_t)pd_clock_now_ms(&r->env->clock), "endpoints", endpoints, "k8s",
                  "watches", (json_int_t)pd_k8s_watches(r->env)));
}

static int reset(struct pd_req *r)
{
    char *err = NULL;
    pd_statelock_write(&r->env->state_lock); /* requests see the state before or after */
    int rc = pd_fixtures_reset(r->env, r->db, &err);
    pd_statelock_write_done(&r->env->state_lock, rc == PD_OK);
    if (rc) {
        admin_error(r, 500, "ResetFailed", err ? err : pd_strerror(rc));
        free(err);
        return PD_OK;
    }
    atomic_store(&r->env->clock.offset_ms, 0); /* back to the start: the clock too */
    pd_k8s_state_changed(r->env, NULL);        /* every watch ends: clients list again */
    pd_log_req(PD_LOG_INFO, r->request_id, "state reset to %d fixtures file(s)",
               r->env->cfg.nfixtures);
    return pd_req_reply_json(
        r, 200, json_pack("{s:s, s:i}", "status", "reset", "fixtures", r->env->cfg.nfixtures));
}

/* An unlinked file beside the state's objects for a large answer body, or -1. */
static int scratch_file(struct pd_req *r)
{
    const char *dir = pd_store_objects_dir(r->env->store);
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.export-XXXXXX", dir);
    fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    return fd;
}

/* json_dump_callback's sink: 64 KiB at a time to a file (jansson's own json_dumpfd writes
 * every token with its own system call: two seconds for a 14 MB export). */
struct file_sink {
    int fd, failed;
    size_t n;
    char buf[64 * 1024];
};

static int sink_flush(struct file_sink *k)
{
    for (size_t off = 0; off < k->n && !k->failed;) {
        ssize_t w = write(k->fd, k->buf + off, k->n - off);
        if (w <= 0)
            k->failed = 1;
        else
            off += (size_t)w;
    }
    k->n = 0;
    return k->failed ? -1 : 0;
}

static int sink_add(const char *p, size_t n, void *data)
{
    struct file_sink *k = data;
    while (n) {
        if (k->n == sizeof k->buf && sink_flush(k))
            return -1;
        size_t take = sizeof k->buf - k->n < n ? sizeof k->buf - k->n : n;
        memcpy(k->buf + k->n, p, take);
        k->n += take;
        p += take;
        n -= take;
    }
    return 0;
}

/* The whole state, which may be large: built one export at a time (the tree is the only
 * copy in memory, freed before the answer is sent) and written to an unlinked file the
 * server sends from (sendfile), so slow readers hold a descriptor, not memory. The one
 * process-wide lock besides the log level's: exports of two environments (tests) only wait
 * for each other. */
static int export_state(struct pd_req *r)
{
    static pthread_mutex_t one_at_a_time = PTHREAD_MUTEX_INITIALIZER;
    char *err = NULL;
    json_t *doc = NULL;
    int fd = scratch_file(r);
    if (fd < 0)
        return admin_error(r, 500, "ExportFailed", "no room for the export file");
    pthread_mutex_lock(&one_at_a_time);
    int rc = pd_fixtures_export(r->env, r->db, &doc, &err);
    struct file_sink *k = pd_xmalloc(sizeof *k);
    k->fd = fd;
    k->failed = 0;
    k->n = 0;
    if (rc == PD_OK &&
        (json_dump_callback(doc, sink_add, k, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
         sink_add("\n", 1, k) != 0 || sink_flush(k) != 0))
        rc = PD_EIO;
    free(k);
    json_decref(doc);
    pthread_mutex_unlock(&one_at_a_time);
    off_t len = rc == PD_OK ? lseek(fd, 0, SEEK_CUR) : -1;
    if (rc || len < 0) {
        close(fd);
        admin_error(r, 500, "ExportFailed", err ? err : pd_strerror(rc ? rc : PD_EIO));
        free(err);
        return PD_OK;
    }
    r->resp.status = 200;
    r->resp.content_type = "application/json";
    r->resp.fd = fd;
    r->resp.fd_off = 0;
    r->resp.fd_len = (int64_t)len;
    return PD_OK;
}

static int ca_pem(struct pd_req *r)
{
    r->resp.status = 200;
    r->resp.content_type = "application/x-pem-file";
    pd_buf_adds(&r->resp.body, r->env->secrets->ca_cert_pem);
    return PD_OK;
}

static const char *query_param(struct pd_req *r, const char *name)
{
    struct pd_kvs q = {0};
    if (pd_kvs_parse_form(&r->arena, &q, r->query, strlen(r->query), 1))
        return NULL;
    return pd_kvs_get(&q, name, 0);
}

/* A mark as given: "d-42" or "42". */
static int parse_mark(const char *v, long long *OUT)
{
    int64_t n;
    if (v && v[0] == 'd' && v[1] == '-')
        v += 2;
    if (!v || pd_parse_i64(v, 0, INT64_MAX, &n) != PD_OK)
        return PD_EINVAL;
    *OUT = (long long)n;
    return PD_OK;
}

/* GET /_podiam/decisions/mark: the point a later ?since= or report starts after. */
static int decisions_mark(struct pd_req *r)
{
    struct pd_decisions *d = r->env->decisions;
    long long m = pd_decisions_mark(d);
    return pd_req_reply_json(r, 200,
                             json_pack("{s:o, s:I}", "mark", json_sprintf("d-%lld", m), "capacity",
                                       (json_int_t)pd_decisions_capacity(d)));
}

/* GET /_podiam/decisions?since=MARK: every decision after the mark, oldest first, or 410
 * when the log has dropped some of them (never a silent part). */
static int decisions_since(struct pd_req *r, const char *since)
{
    long long mark;
    if (parse_mark(since, &mark))
        return admin_error(r, 400, "BadRequest", "since must be a mark such as d-42");
    struct pd_decisions_since info;
    json_t *list = pd_decisions_since(r->env->decisions, mark, &info);
    if (info.lost) {
        json_decref(list);
        char msg[400];
        snprintf(msg, sizeof msg,
                 "decisions after mark d-%lld were dropped from the log (it keeps the last %zu; "
                 "dropped up to d-%lld): start podiam with a larger --decision-log-size",
                 mark, pd_decisions_capacity(r->env->decisions), info.dropped_max);
        return admin_error(r, 410, "Evicted", msg);
    }
    return pd_req_reply_json(r, 200,
                             json_pack("{s:o, s:o, s:o}", "since", json_sprintf("d-%lld", mark),
                                       "through", json_sprintf("d-%lld", info.through), "decisions",
                                       list));
}

/* GET /_podiam/decisions/report?since=MARK[&principal=ARN][&allow_partial=1] */
static int decisions_report(struct pd_req *r)
{
    struct pd_report_opts o = {0};
    const char *since = query_param(r, "since");
    if (since && parse_mark(since, &o.since))
        return admin_error(r, 400, "BadRequest", "since must be a mark such as d-42");
    o.principal = query_param(r, "principal");
    if (o.principal && !*o.principal)
        o.principal = NULL;
    const char *partial = query_param(r, "allow_partial");
    o.allow_partial = partial && (strcmp(partial, "1") == 0 || strcmp(partial, "true") == 0);
    json_t *out = NULL;
    char *err = NULL;
    int rc = pd_report_build(r->env, r->db, &o, &out, &err);
    if (rc) {
        admin_error(r, rc == PD_ENOTFOUND ? 410 : 503,
                    rc == PD_ENOTFOUND ? "Evicted" : "ServiceUnavailable",
                    err ? err : pd_strerror(rc));
        free(err);
        return PD_OK;
    }
    return pd_req_reply_json(r, 200, out);
}

static int decisions(struct pd_req *r)
{
    const char *id = r->path + strlen("/_podiam/decisions");
    if (strcmp(id, "/mark") == 0)
        return decisions_mark(r);
    if (strcmp(id, "/report") == 0)
        return decisions_report(r);
    const char *since = query_param(r, "since");
    if (!*id && since)
        return decisions_since(r, since);
    if (*id == '/' && id[1]) {
        json_t *e = pd_decisions_get(r->env->decisions, id + 1);
        if (!e)
            return admin_error(r, 404, "NotFound",
                               "no such decision (the log keeps the last --decision-log-size)");
        return pd_req_reply_json(r, 200, e);
    }
    struct pd_decisions_filter f = {
        .decision = query_param(r, "decision"),
        .action = query_param(r, "action"),
        .principal = query_param(r, "principal"),
        .request_id = query_param(r, "request_id"),
    };
    int64_t n;
    const char *v = query_param(r, "limit");
    if (v && pd_parse_i64(v, 1, 1000, &n) == PD_OK)
        f.limit = (size_t)n;
    v = query_param(r, "after");
    if (v && *v == 'd' && v[1] == '-')
        v += 2;
    if (v && pd_parse_i64(v, 0, INT64_MAX, &n) == PD_OK)
        f.after = n;
    /* wait=SECONDS (1-20) with after=ID: a long poll, answered as soon as a newer decision
     * is logged (the console's live stream), else empty when the time is up. At most a
     * quarter of the worker threads wait at once; past that the answer comes at once (the
     * console then polls every few seconds). */
    v = query_param(r, "wait");
    if (v) {
        if (pd_parse_i64(v, 0, 20, &n) != PD_OK)
            return admin_error(r, 400, "BadRequest", "wait is a number of seconds, 0 to 20");
        int threads = r->env->cfg.threads > 0 ? r->env->cfg.threads : 4;
        if (n > 0)
            pd_decisions_wait(r->env->decisions, f.after, (int)n * 1000,
                              threads / 4 > 1 ? threads / 4 : 1);
    }
    return pd_req_reply_json(r, 200,
                             json_pack("{s:o, s:I}", "decisions",
                                       pd_decisions_list(r->env->decisions, &f), "last",
                                       (json_int_t)pd_decisions_last_id(r->env->decisions)));
}

/* GET: podiam's clock. POST {"offset_ms": N} or {"advance_ms": N}: move it, so sessions,
 * tokens and dates age without waiting (SigV4 still checks request times against the
 * client's clock: pd_clock_wall_ms). */
static int clock_op(struct pd_req *r)
{
    struct pd_clock *c = &r->env->clock;
    if (strcmp(r->method, "POST") == 0) {
        json_error_t jerr;
        json_t *in = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, &jerr);
        json_t *off = json_object_get(in, "offset_ms");
        json_t *adv = json_object_get(in, "advance_ms");
        if (!json_is_object(in) || (!!json_is_integer(off) + !!json_is_integer(adv)) != 1 ||
            json_object_size(in) != 1) {
            json_decref(in);
            return admin_error(r, 400, "BadRequest",
                               "expected {\"offset_ms\": N} or {\"advance_ms\": N} (integers)");
        }
        int64_t v = (int64_t)json_integer_value(off ? off : adv);
        int64_t now = atomic_load(&c->offset_ms);
        int64_t next = off ? v : now + v;
        json_decref(in);
        const int64_t bound = INT64_C(100) * 365 * 24 * 3600 * 1000; /* a century */
        if (next > bound || next < -bound)
            return admin_error(r, 400, "BadRequest", "the offset is limited to 100 years");
        atomic_store(&c->offset_ms, next);
        pd_log_req(PD_LOG_INFO, r->request_id, "clock offset now %lld ms", (long long)next);
    }
    char iso[32];
    int64_t ms = pd_clock_now_ms(c);
    pd_time_iso8601(ms, 1, iso);
    return pd_req_reply_json(r, 200,
                             json_pack("{s:I, s:s, s:I}", "time_ms", (json_int_t)ms, "time", iso,
                                       "offset_ms", (json_int_t)atomic_load(&c->offset_ms)));
}

/* The name or id after PREFIX in the path ("snapshots/NAME/restore" -> NAME), in the
 * arena; "" when there is none. */
static const char *path_item(struct pd_req *r, const char *prefix)
{
    const char *p = r->path + strlen("/_podiam/") + strlen(prefix);
    const char *end = strchr(p, '/');
    return pd_arena_strndup(&r->arena, p, end ? (size_t)(end - p) : strlen(p));
}

/* GET /_podiam/snapshots, POST /_podiam/snapshots {"name": N} */
static int snapshots(struct pd_req *r)
{
    return strcmp(r->method, "POST") == 0 ? pd_snapshots_save(r) : pd_snapshots_list(r);
}

/* POST /_podiam/snapshots/NAME/restore, DELETE /_podiam/snapshots/NAME */
static int snapshot(struct pd_req *r)
{
    const char *name = path_item(r, "snapshots/");
    if (strcmp(r->method, "DELETE") == 0)
        return pd_snapshots_delete(r, name);
    return pd_snapshots_restore(r, name);
}

/* POST /_podiam/accounts, DELETE /_podiam/accounts/ID: whole accounts, under the state's
 * write lock (a deletion removes object files that requests in flight may be reading). */
static int accounts(struct pd_req *r)
{
    if (strcmp(r->method, "POST") == 0)
        return pd_accounts_post(r);
    pd_statelock_write(&r->env->state_lock);
    int rc = pd_accounts_delete(r, path_item(r, "accounts/"));
    pd_statelock_write_done(&r->env->state_lock, 0);
    return rc;
}

/* GET /_podiam/accounts/ID/credentials: the root user's access keys of an account, with
 * their secrets (how a test gets into an account Organizations' CreateAccount made). */
static int account_credentials(struct pd_req *r)
{
    const char *p = r->path + strlen("/_podiam/accounts/");
    const char *slash = strchr(p, '/');
    const char *id = slash ? pd_arena_strndup(&r->arena, p, (size_t)(slash - p)) : "";
    int64_t created;
    if (strlen(id) != 12 || strspn(id, "0123456789") != 12 ||
        pd_iam_db_account_get(r->db, id, &created) != PD_OK)
        return admin_error(r, 404, "NotFound", "no such account");
    struct pd_iam_access_key *keys;
    size_t n;
    if (pd_iam_db_key_list(r->db, &r->arena, id, 0, &keys, &n) != PD_OK)
        return admin_error(r, 500, "InternalFailure", "cannot read the account's keys");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "AccessKeyId",
                                              keys[i].access_key_id, "SecretAccessKey",
                                              keys[i].secret, "Status", keys[i].status));
    return pd_req_reply_json(r, 200,
                             json_pack("{s:s, s:s, s:o}", "account_id", id, "arn",
                                       pd_arena_printf(&r->arena, "arn:aws:iam::%s:root", id),
                                       "root_access_keys", list));
}

enum {
    OP_HEALTH,
    OP_RESET,
    OP_STATE,
    OP_CA,
    OP_DECISIONS,
    OP_CLOCK,
    OP_SNAPSHOTS,
    OP_SNAPSHOT,
    OP_ACCOUNTS,
    OP_CREDENTIALS
};
static const struct pd_op ops[] = {
    [OP_HEALTH] = {"Health", health, 0},
    [OP_RESET] = {"Reset", reset, PD_OP_NOTXN},
    [OP_STATE] = {"ExportState", export_state, PD_OP_NOTXN},
    [OP_CA] = {"CaCertificate", ca_pem, 0},
    [OP_DECISIONS] = {"Decisions", decisions, 0},
    [OP_CLOCK] = {"Clock", clock_op, 0},
    [OP_SNAPSHOTS] = {"Snapshots", snapshots, PD_OP_NOTXN},
    [OP_SNAPSHOT] = {"Snapshot", snapshot, PD_OP_NOTXN},
    [OP_ACCOUNTS] = {"Accounts", accounts, PD_OP_NOTXN},
    [OP_CREDENTIALS] = {"AccountCredentials", account_credentials, 0},
    {NULL, NULL, 0},
};

static int route(struct pd_req *r)
{
    if (!pd_has_prefix(r->path, "/_podiam/"))
        return 0;
    const char *p = r->path + 9;
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    int post = strcmp(r->method, "POST") == 0;
    int del = strcmp(r->method, "DELETE") == 0;
    if (strcmp(p, "health") == 0 && get)
        r->op = &ops[OP_HEALTH];
    else if (strcmp(p, "reset") == 0 && post)
        r->op = &ops[OP_RESET];
    else if (strcmp(p, "state") == 0 && get)
        r->op = &ops[OP_STATE];
    else if (strcmp(p, "ca.pem") == 0 && get)
        r->op = &ops[OP_CA];
    else if (strcmp(p, "clock") == 0 && (get || post))
        r->op = &ops[OP_CLOCK];
    else if ((strcmp(p, "decisions") == 0 || pd_has_prefix(p, "decisions/")) && get)
        r->op = &ops[OP_DECISIONS];
    else if (strcmp(p, "snapshots") == 0 && (get || post))
        r->op = &ops[OP_SNAPSHOTS];
    else if (pd_has_prefix(p, "snapshots/") &&
             ((del && !strchr(p + 10, '/')) ||
              (post && strchr(p + 10, '/') && strcmp(strchr(p + 10, '/'), "/restore") == 0)))
        r->op = &ops[OP_SNAPSHOT];
    else if ((strcmp(p, "accounts") == 0 && post) ||
             (pd_has_prefix(p, "accounts/") && del && !strchr(p + 9, '/')))
        r->op = &ops[OP_ACCOUNTS];
    else if (pd_has_prefix(p, "accounts/") && get && strstr(p, "/credentials") &&
             strcmp(strstr(p, "/credentials"), "/credentials") == 0)
        r->op = &ops[OP_CREDENTIALS];
    /* Every call that changes state, the export and an account's credentials (they hold
     * secrets) are sensitive; health and the CA certificate are public. */
    enum pd_admin_level level = PD_ADMIN_READ;
    if (post || del || r->op == &ops[OP_STATE] || r->op == &ops[OP_CREDENTIALS])
        level = PD_ADMIN_SENSITIVE;
    else if (r->op == &ops[OP_HEALTH] || r->op == &ops[OP_CA])
        level = PD_ADMIN_PUBLIC;
    const char *why = pd_req_admin_refusal(r, level);
    if (why) {
        r->op = NULL;
        r->op_name = "Forbidden";
        admin_error(r, 403, "Forbidden", why);
    } else if (!r->op) {
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
