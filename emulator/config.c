/* config.c - the embedded defaults of struct pd_config (see env.h). */
#include "env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void pd_config_defaults(struct pd_config *cfg)
{
    static char state[4096];
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:4566";
    cfg->listen_tls = "127.0.0.1:4567";
    cfg->listen_proxy = "127.0.0.1:4568";
    const char *dir = getenv("PODIAM_DATA_DIR");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (dir && *dir)
        snprintf(state, sizeof state, "%s/state.db", dir);
    else if (xdg && *xdg)
        snprintf(state, sizeof state, "%s/podiam/state.db", xdg);
    else if (home && *home)
        snprintf(state, sizeof state, "%s/.local/share/podiam/state.db", home);
    else
        snprintf(state, sizeof state, "podiam-state.db");
    cfg->state = state;
    cfg->iam_mode = PD_IAM_ENFORCE;
    cfg->log_level = PD_LOG_INFO;
    cfg->region = "us-east-1";
    cfg->max_body = 16u << 20;
    cfg->threads = 8;
    cfg->s3_inline_max = 64 * 1024;
    cfg->idle_timeout = 30;
    cfg->header_timeout = 30;
    cfg->max_connections = 4096;
    cfg->host_suffix = "localhost";
    cfg->decisions_max = 1000;
    cfg->oidc_fetch_timeout_ms = 5000;
}
