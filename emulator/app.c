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

#include "auth/decisions.h"
#include "auth/secrets.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "authorize.h"
#include "dispatch.h"
#include "embedded.h"
#include "services/fixtures.h"
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
};

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
    fit_connections(env);
    rc = pd_server_start(env, env->cfg.listen, NULL, NULL, &app->http, &env->http_port, &why);
    if (rc) {
        pd_log(PD_LOG_ERROR, "listen %s: %s", env->cfg.listen, why);
        goto fail;
    }
    listener_url(env->http_url, sizeof env->http_url, "http", env->cfg.listen, env->http_port);
    int tls = enabled(env->cfg.listen_tls), proxy = enabled(env->cfg.listen_proxy);
    if (tls || proxy) {
        /* without a TLS listener the proxy still terminates its tunnels: a daemon with no
         * listening socket takes them */
        const char *addr = tls ? env->cfg.listen_tls : NULL;
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
        rc = pd_proxy_start(env, env->cfg.listen_proxy, app->http, app->https, &app->proxy,
                            &env->proxy_port, &why);
        if (rc) {
            pd_log(PD_LOG_ERROR, "listen-proxy %s: %s", env->cfg.listen_proxy, why);
            goto fail;
        }
        listener_url(env->proxy_url, sizeof env->proxy_url, "http", env->cfg.listen_proxy,
                     env->proxy_port);
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
    pd_proxy_stop(app->proxy);             /* first: it hands sockets to the others */
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
    free(app);
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
    printf(
        "podiam %s ready: endpoint=%s%s state=%s%s -- export AWS_ENDPOINT_URL=%s "
        "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=%s AWS_DEFAULT_REGION=%s\n",
        PD_VERSION, env->http_url, tls, env->cfg.state, proxy, env->http_url, env->cfg.region,
        env->cfg.region);
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    pd_log(PD_LOG_INFO, "stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
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
