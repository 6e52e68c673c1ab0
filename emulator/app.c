/*
 * app.c - process life (see app.h). Knows every long-lived object and the order in which
 * they are made and released; nothing else does.
 */
#include "app.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
#include "server/server.h"
#include "store/store.h"

struct pd_app {
    struct pd_env *env;
    struct pd_server *http;
    struct pd_server *https;
};

static int tls_enabled(const struct pd_config *cfg)
{
    return cfg->listen_tls && *cfg->listen_tls && strcmp(cfg->listen_tls, "off") != 0;
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
    rc = pd_server_start(env, env->cfg.listen, NULL, NULL, &app->http, &env->http_port, &why);
    if (rc) {
        pd_log(PD_LOG_ERROR, "listen %s: %s", env->cfg.listen, why);
        goto fail;
    }
    if (tls_enabled(&env->cfg)) {
        rc = pd_server_start(env, env->cfg.listen_tls, env->secrets->tls_cert_pem,
                             env->secrets->tls_key_pem, &app->https, &env->https_port, &why);
        if (rc) {
            pd_log(PD_LOG_ERROR, "listen-tls %s: %s", env->cfg.listen_tls, why);
            goto fail;
        }
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
    pd_server_stop(app->https);
    pd_server_stop(app->http);
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

    struct pd_app *app;
    if (pd_app_start(env, &app) != PD_OK)
        return 1;
    /* Start-up freed more than it keeps (key loading, fixtures, schema): give those pages
     * back, or an idle process holds them for good. */
    malloc_trim(0);

    char host[128];
    int port;
    pd_server_parse_addr(env->cfg.listen, host, sizeof host, &port);
    const char *shown = (!*host || strcmp(host, "0.0.0.0") == 0) ? "127.0.0.1" : host;
    int v6 = strchr(shown, ':') != NULL;
    char endpoint[200];
    snprintf(endpoint, sizeof endpoint, "http://%s%s%s:%d", v6 ? "[" : "", shown, v6 ? "]" : "",
             env->http_port);
    char tls[220] = "";
    if (app->https)
        snprintf(tls, sizeof tls, " tls=https://%s%s%s:%d", v6 ? "[" : "", shown, v6 ? "]" : "",
                 env->https_port);
    printf("podiam %s ready: endpoint=%s%s state=%s -- export AWS_ENDPOINT_URL=%s "
           "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=%s "
           "AWS_DEFAULT_REGION=%s\n",
           PD_VERSION, endpoint, tls, env->cfg.state, endpoint, env->cfg.region, env->cfg.region);
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
