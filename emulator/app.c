/*
 * app.c - process life (see app.h). Knows every long-lived object and the order in which
 * they are made and released; nothing else does.
 */
#include "app.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/decisions.h"
#include "auth/secrets.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "authorize.h"
#include "dispatch.h"
#include "embedded.h"
#include "services/fixtures.h"
#include "services/player.h"
#include "services/service.h"
#include "env.h"
#include "k8s/k8s.h"
#include "k8s/watch.h"
#include "names.h"
#include "server/proxy.h"
#include "server/server.h"
#include "store/store.h"

struct pd_app {
    struct pd_env *env;
    struct pd_server *http;
    struct pd_server *https; /* the TLS listener, or (--listen-tls off) one for the proxy only */
    struct pd_proxy *proxy;
    char tls_addr[160];   /* --listen-tls as used (port 0 when it follows --listen's) */
    char proxy_addr[160]; /* the same for --listen-proxy */
    char ca_file[4096];   /* podiam's CA certificate, written beside the state at start */
};

/* A listener not given follows --listen when that asks for port 0: the same host, port 0,
 * so a second podiam on one machine needs nothing beyond `--listen 127.0.0.1:0`. */
static const char *follow_listen(const struct pd_config *cfg, const char *addr, int given,
                                 char *buf, size_t n)
{
    char host[128];
    int port = -1;
    if (given || !addr || pd_server_parse_addr(cfg->listen, host, sizeof host, &port) || port)
        return addr;
    int v6 = strchr(host, ':') != NULL;
    snprintf(buf, n, "%s%s%s:0", v6 ? "[" : "", host, v6 ? "]" : "");
    return buf;
}

/* Write text to path atomically (a temporary file beside it, then rename), mode 0644. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return PD_EINVAL;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return PD_EIO;
    int bad = fputs(text, f) < 0;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return PD_EIO;
    }
    return PD_OK;
}

static int enabled(const char *addr)
{
    return addr && *addr && strcmp(addr, "off") != 0;
}

/* "scheme://HOST:PORT" for a listener on addr bound to port; a wildcard host shows as
 * 127.0.0.1. */
static void listener_url(char *out, size_t n, const char *scheme, const char *addr, int port)
{
    char host[128];
    int ignored;
    if (pd_server_parse_addr(addr, host, sizeof host, &ignored))
        host[0] = '\0';
    const char *shown = (!*host || strcmp(host, "0.0.0.0") == 0) ? "127.0.0.1" : host;
    int v6 = strchr(shown, ':') != NULL;
    snprintf(out, n, "%s://%s%s%s:%d", scheme, v6 ? "[" : "", shown, v6 ? "]" : "", port);
}

/* Two listeners may each hold --max-connections sockets, beside the state, object files and
 * the proxy's: raise the soft descriptor limit to what that needs (within the hard limit),
 * or lower --max-connections to what the hard limit allows. */
static void fit_connections(struct pd_env *env)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return;
    rlim_t want = (rlim_t)env->cfg.max_connections * 2 + 256;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < want) {
        int fit = rl.rlim_cur > 512 ? (int)((rl.rlim_cur - 256) / 2) : 128;
        pd_log(PD_LOG_WARN, "at most %llu open files here: --max-connections lowered from %d to %d",
               (unsigned long long)rl.rlim_cur, env->cfg.max_connections, fit);
        env->cfg.max_connections = fit;
    }
}

int pd_app_start(struct pd_env *env, struct pd_app **OUT)
{
    struct pd_app *app = pd_xcalloc(1, sizeof *app);
    app->env = env;
    const char *why = NULL;
    char *err = NULL;
    int rc;

    pd_clock_init(&env->clock);
    pd_statelock_init(&env->state_lock);
    pd_ids_init(&env->ids, env->cfg.seeded, env->cfg.seed);
    rc = pd_store_open(env->cfg.state, env->cfg.sync_full, &env->store, &err);
    if (rc) {
        pd_log(PD_LOG_ERROR, "state %s: %s", env->cfg.state, err ? err : pd_strerror(rc));
        free(err);
        goto fail;
    }
    pd_authorize_init(env);
    rc = pd_dispatch_init(env, &why);
    if (rc) {
        pd_log(PD_LOG_ERROR, "start: %s", why);
        goto fail;
    }
    rc = pd_secrets_load(pd_store_db(env->store), time(NULL), NULL, 0, &env->secrets, &why);
    if (rc) {
        pd_log(PD_LOG_ERROR, "start: %s", why);
        goto fail;
    }
    rc = pd_fixtures_start(env, pd_store_db(env->store), &err);
    if (rc) {
        pd_log(PD_LOG_ERROR, "%s", err ? err : "cannot load the fixtures");
        free(err);
        goto fail;
    }
    rc = pd_names_init(env, &why);
    if (rc) {
        pd_log(PD_LOG_ERROR, "start: %s", why);
        goto fail;
    }
    /* podiam's CA as a file, for clients that take a path (AWS_CA_BUNDLE, --cacert) */
    const char *base = strrchr(env->cfg.state, '/');
    base = strcmp(env->cfg.state, ":memory:") == 0 ? "state.db" : base ? base + 1 : env->cfg.state;
    snprintf(app->ca_file, sizeof app->ca_file, "%s/%s.ca.pem", pd_store_dir(env->store), base);
    if (write_atomic(app->ca_file, env->secrets->ca_cert_pem) != PD_OK) {
        pd_log(PD_LOG_WARN, "cannot write the CA certificate to %s", app->ca_file);
        app->ca_file[0] = '\0';
    }
    fit_connections(env);
    const char *tls_addr = follow_listen(&env->cfg, env->cfg.listen_tls, env->cfg.listen_tls_given,
                                         app->tls_addr, sizeof app->tls_addr);
    const char *proxy_addr =
        follow_listen(&env->cfg, env->cfg.listen_proxy, env->cfg.listen_proxy_given,
                      app->proxy_addr, sizeof app->proxy_addr);
    rc = pd_server_start(env, env->cfg.listen, NULL, NULL, &app->http, &env->http_port, &why);
    if (rc) {
        pd_log(PD_LOG_ERROR, "listen %s: %s", env->cfg.listen, why);
        goto fail;
    }
    listener_url(env->http_url, sizeof env->http_url, "http", env->cfg.listen, env->http_port);
    int tls = enabled(tls_addr), proxy = enabled(proxy_addr);
    if (tls || proxy) {
        /* without a TLS listener the proxy still terminates its tunnels: a daemon with no
         * listening socket takes them */
        const char *addr = tls ? tls_addr : NULL;
        int port = 0;
        rc = pd_server_start(env, addr, env->secrets->tls_cert_pem, env->secrets->tls_key_pem,
                             &app->https, &port, &why);
        if (rc) {
            pd_log(PD_LOG_ERROR, "listen-tls %s: %s", addr ? addr : "(for the proxy)", why);
            goto fail;
        }
        if (tls) {
            env->https_port = port;
            listener_url(env->https_url, sizeof env->https_url, "https", addr, port);
        }
    }
    if (proxy) {
        rc = pd_proxy_start(env, proxy_addr, app->http, app->https, &app->proxy, &env->proxy_port,
                            &why);
        if (rc) {
            pd_log(PD_LOG_ERROR, "listen-proxy %s: %s", proxy_addr, why);
            goto fail;
        }
        listener_url(env->proxy_url, sizeof env->proxy_url, "http", proxy_addr, env->proxy_port);
    }
    rc = pd_k8s_hub_start(env); /* watch bookmarks and timeouts */
    if (rc == PD_OK)
        rc = pd_k8s_controllers_start(env);
    if (rc) {
        pd_log(PD_LOG_ERROR, "start: cannot start the Kubernetes watch timer or controllers");
        goto fail;
    }
    *OUT = app;
    return PD_OK;
fail:
    pd_app_stop(app);
    return rc ? rc : PD_EINTERNAL;
}

void pd_app_stop(struct pd_app *app)
{
    if (!app)
        return;
    struct pd_env *env = app->env;
    pd_k8s_controllers_stop(env); /* no more writes of its own */
    pd_k8s_hub_stop(env);         /* no timer resumes a connection of a stopping server */
    if (env->decisions)
        pd_decisions_wake(env->decisions); /* no listener thread stays in a long poll */
    if (env->player)
        pd_player_wake(env->player); /* nor in the scenario player's */
    pd_proxy_stop(app->proxy);       /* first: it hands sockets to the others */
    pd_server_stop(app->https);
    pd_server_stop(app->http);
    env->http_url[0] = env->https_url[0] = env->proxy_url[0] = '\0';
    pd_names_cleanup(env);
    pd_dispatch_cleanup(env);
    pd_authorize_cleanup(env);
    pd_secrets_free(env->secrets);
    env->secrets = NULL;
    pd_store_close(env->store);
    env->store = NULL;
    pd_ids_cleanup(&env->ids);
    pd_statelock_cleanup(&env->state_lock);
    free(app);
}

/* The ready object: everything a harness needs to use this podiam (docs/usage.md). Compact
 * JSON text, malloc'd. */
static char *ready_json(const struct pd_env *env, const struct pd_app *app)
{
    json_t *endpoints = json_pack("{s:s}", "http", env->http_url);
    json_t *ports = json_pack("{s:i}", "http", env->http_port);
    if (env->https_url[0]) {
        json_object_set_new(endpoints, "https", json_string(env->https_url));
        json_object_set_new(ports, "https", json_integer(env->https_port));
    }
    if (env->proxy_url[0]) {
        json_object_set_new(endpoints, "proxy", json_string(env->proxy_url));
        json_object_set_new(ports, "proxy", json_integer(env->proxy_port));
    }
    json_t *vars = json_pack("{s:s, s:s, s:s, s:s, s:s}", "AWS_ENDPOINT_URL", env->http_url,
                             "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test",
                             "AWS_REGION", env->cfg.region, "AWS_DEFAULT_REGION", env->cfg.region);
    json_t *o =
        json_pack("{s:s, s:s, s:I, s:o, s:o, s:s?, s:s, s:s, s:o}", "podiam", "ready", "version",
                  PD_VERSION, "pid", (json_int_t)getpid(), "endpoints", endpoints, "ports", ports,
                  "ca_file", app->ca_file[0] ? app->ca_file : NULL, "state", env->cfg.state,
                  "region", env->cfg.region, "env", vars);
    json_object_set_new(o, "admin", json_sprintf("%s/_podiam/", env->http_url));
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

int pd_app_run(struct pd_env *env)
{
    /* Block the stop signals in every thread (the listeners' threads inherit the mask), and
     * take them synchronously here. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Blocks of 256 KiB and more (request bodies, big responses) are mapped and unmapped
     * on their own: a fixed threshold stops glibc from raising it after the first large
     * free, which would keep such blocks in the worker's heap for good. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    struct pd_app *app;
    if (pd_app_start(env, &app) != PD_OK)
        return 1;
    /* Start-up freed more than it keeps (key loading, fixtures, schema): give those pages
     * back, or an idle process holds them for good. */
    malloc_trim(0);

    char tls[100] = "", proxy[100] = "";
    if (env->https_url[0])
        snprintf(tls, sizeof tls, " tls=%s", env->https_url);
    if (env->proxy_url[0])
        snprintf(proxy, sizeof proxy, " proxy=%s", env->proxy_url);
    char *json = ready_json(env, app);
    if (env->cfg.ready_file) {
        size_t n = strlen(json);
        char *line = pd_xmalloc(n + 2);
        memcpy(line, json, n);
        memcpy(line + n, "\n", 2);
        int wrc = write_atomic(env->cfg.ready_file, line);
        free(line);
        if (wrc != PD_OK) {
            pd_log(PD_LOG_ERROR, "cannot write the ready file %s", env->cfg.ready_file);
            free(json);
            pd_app_stop(app);
            return 1;
        }
    }
    /* The human line first (scripts that read one line keep working), then the JSON object
     * on a line of its own; both in one write. */
    if (env->cfg.ready_format != PD_READY_JSON)
        printf("podiam %s ready: endpoint=%s%s state=%s%s -- export AWS_ENDPOINT_URL=%s "
               "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=%s "
               "AWS_DEFAULT_REGION=%s\n",
               PD_VERSION, env->http_url, tls, env->cfg.state, proxy, env->http_url,
               env->cfg.region, env->cfg.region);
    if (env->cfg.ready_format != PD_READY_TEXT)
        printf("%s\n", json);
    fflush(stdout);
    free(json);

    int sig = 0;
    sigwait(&set, &sig);
    pd_log(PD_LOG_INFO, "stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    if (env->cfg.ready_file)
        unlink(env->cfg.ready_file); /* it describes a podiam that no longer runs */
    pd_app_stop(app);
    return 0;
}

/* One service's section of the coverage table. */
static void coverage_service(FILE *out, const struct pd_service *svc)
{
    const struct pd_embedded *e = pd_embedded_find(svc->spec);
    json_t *model = e ? json_loadb(e->data, e->len, 0, NULL) : NULL;
    json_t *ops = json_object_get(model, "operations");
    size_t total = json_object_size(ops), done = 0;
    const char *name;
    json_t *v;
    json_object_foreach(ops, name, v) done += pd_service_op(svc, name) != NULL;
    fprintf(out,
            "\n## %s (%zu of %zu operations, model %s)\n\n| operation | status |\n"
            "| --- | --- |\n",
            svc->name, done, total, svc->spec);
    json_object_foreach(ops, name, v)
    {
        const struct pd_op *op = pd_service_op(svc, name);
        fprintf(out, "| %s | %s |\n", name, op ? "implemented" : "501 NotImplemented");
    }
    /* operations AWS serves that the model does not describe */
    for (const struct pd_op *op = svc->ops; op && op->name; op++)
        if (op->flags & PD_OP_NOMODEL)
            fprintf(out, "| %s | implemented (not in the model) |\n", op->name);
    json_decref(model);
}

int pd_app_coverage(FILE *out)
{
    fprintf(out, "# Operation coverage\n\nGenerated by `podiam coverage` from the service "
                 "tables and the AWS models; do not edit.\nAn operation in the model but not "
                 "implemented answers `501 NotImplemented` naming it.\n");
    for (const struct pd_service *const *s = pd_services; *s; s++)
        if ((*s)->spec)
            coverage_service(out, *s);
    return 0;
}
