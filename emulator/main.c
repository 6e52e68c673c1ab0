/*
 * main.c - `podiam`: flags and PODIAM_* environment -> struct pd_config; build the
 * environment (store, models, keys, fixtures); start the listeners; print the ready line;
 * wait for SIGINT/SIGTERM; tear down in reverse order.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/str.h"
#include "dispatch.h"
#include "env.h"
#include "server/server.h"
#include "app.h"
#include "store/store.h"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: podiam serve [options]     run the emulator\n"
           "       podiam coverage            print the operation coverage table (Markdown)\n"
           "       podiam version             print the version\n"
           "\n"
           "podiam is an offline test double of AWS IAM, STS, S3 and EKS (with per-cluster OIDC\n"
           "issuers). Point real clients at it with AWS_ENDPOINT_URL, or at its proxy with\n"
           "HTTPS_PROXY and its CA (GET /_podiam/ca.pem) for clients that read no endpoint.\n"
           "\n"
           "serve options (each has a PODIAM_* environment equivalent; flags win):\n"
           "  --listen ADDR         HTTP listener, HOST:PORT          [PODIAM_LISTEN]   "
           "127.0.0.1:4566\n"
           "  --listen-tls ADDR     HTTPS listener, or 'off'          [PODIAM_LISTEN_TLS] "
           "127.0.0.1:4567\n"
           "  --listen-proxy ADDR   forward proxy, or 'off'           [PODIAM_LISTEN_PROXY] "
           "127.0.0.1:4568\n"
           "                        (HTTPS_PROXY for clients that dial AWS host names)\n"
           "                        both take port 0 when --listen's port is 0 and they are\n"
           "                        not given, so a second podiam needs --listen HOST:0 only\n"
           "  --ready-format FMT    both | text | json: the ready lines on standard output\n"
           "                        (the human line, then one JSON object) [PODIAM_READY_FORMAT]\n"
           "  --ready-file PATH     also write the ready JSON object to PATH, atomically\n"
           "                        [PODIAM_READY_FILE]\n"
           "  --decision-log-size N decisions the log keeps (100..1000000) "
           "[PODIAM_DECISION_LOG_SIZE] 1000\n"
           "  --state PATH          SQLite state file, or :memory:    [PODIAM_STATE]\n"
           "                        default: $PODIAM_DATA_DIR/state.db, else\n"
           "                        $XDG_DATA_HOME/podiam/state.db, else "
           "~/.local/share/podiam/state.db\n"
           "  --fixtures FILE       load a fixtures file at start and on reset; repeatable\n"
           "                        [PODIAM_FIXTURES, several separated by ':']\n"
           "  --seed N              reproducible ids and keys         [PODIAM_SEED]\n"
           "  --iam-mode MODE       enforce | audit | off             [PODIAM_IAM_MODE] enforce\n"
           "  --region REGION       region of unsigned requests       [PODIAM_REGION]   us-east-1\n"
           "  --log-level LEVEL     error | warn | info | debug       [PODIAM_LOG_LEVEL] info\n"
           "  --log-format FORMAT   text | json                       [PODIAM_LOG_FORMAT] text\n"
           "  --threads N           worker threads                    [PODIAM_THREADS]  8\n"
           "  --max-body BYTES      bound on buffered request bodies  [PODIAM_MAX_BODY] 16777216\n"
           "  --idle-timeout SECS   close a connection silent this long [PODIAM_IDLE_TIMEOUT] 30\n"
           "  --header-timeout SECS close a connection whose request headers take longer\n"
           "                        (0: no bound)                     [PODIAM_HEADER_TIMEOUT] 30\n"
           "  --max-connections N   open connections per listener; near it, idle ones are\n"
           "                        closed for new ones; one peer address may hold half\n"
           "                        [PODIAM_MAX_CONNECTIONS] 4096\n"
           "  --sync MODE           normal | full (fsync every write) [PODIAM_SYNC]     normal\n"
           "  --s3-inline-max BYTES S3 objects up to this size live in the database\n"
           "                        instead of files (0: none)  [PODIAM_S3_INLINE_MAX] 65536\n"
           "  --encoded-denials on|off  denials end with AWS's \"Encoded authorization failure\n"
           "                        message: …\" (sts:DecodeAuthorizationMessage reads it)\n"
           "                        [PODIAM_ENCODED_DENIALS] off\n"
           "  --oidc-ca-file PEM    more CAs for external OIDC issuers (the system CAs always)\n"
           "                        [PODIAM_OIDC_CA_FILE]\n"
           "  --oidc-http-loopback on|off  external issuers on a loopback address may be\n"
           "                        plain http                [PODIAM_OIDC_HTTP_LOOPBACK] off\n"
           "  --oidc-fetch-timeout SECS  bound on fetching an external issuer's discovery\n"
           "                        and keys                  [PODIAM_OIDC_FETCH_TIMEOUT] 5\n"
           "  -h, --help            this text\n"
           "\n"
           "Root credentials of the default account 000000000000 are test / test.\n"
           "The admin API lives under /_podiam/ (health, reset, state export); see docs/.\n");
}

static int fail_flag(const char *name, const char *value, const char *why)
{
    fprintf(stderr, "podiam: invalid %s '%s': %s\n", name, value, why);
    return 2;
}

/* Apply one setting (from a flag or the environment). Returns 0 or an exit code. */
static int apply(struct pd_config *cfg, const char *name, const char *v)
{
    int64_t n;
    if (strcmp(name, "listen") == 0) {
        cfg->listen = v;
    } else if (strcmp(name, "listen-tls") == 0) {
        cfg->listen_tls = v;
        cfg->listen_tls_given = 1;
    } else if (strcmp(name, "listen-proxy") == 0) {
        cfg->listen_proxy = v;
        cfg->listen_proxy_given = 1;
    } else if (strcmp(name, "ready-file") == 0) {
        if (!*v)
            return fail_flag(name, v, "must not be empty");
        cfg->ready_file = v;
    } else if (strcmp(name, "ready-format") == 0) {
        if (strcmp(v, "both") == 0)
            cfg->ready_format = PD_READY_BOTH;
        else if (strcmp(v, "text") == 0)
            cfg->ready_format = PD_READY_TEXT;
        else if (strcmp(v, "json") == 0)
            cfg->ready_format = PD_READY_JSON;
        else
            return fail_flag(name, v, "must be both, text or json");
    } else if (strcmp(name, "decision-log-size") == 0) {
        if (pd_parse_i64(v, 100, 1000000, &n))
            return fail_flag(name, v, "must be 100..1000000 entries");
        cfg->decisions_max = (size_t)n;
    } else if (strcmp(name, "state") == 0) {
        if (!*v)
            return fail_flag(name, v, "must not be empty");
        cfg->state = v;
    } else if (strcmp(name, "fixtures") == 0) {
        if (cfg->nfixtures == PD_MAX_FIXTURES)
            return fail_flag(name, v, "too many fixtures files (at most 16)");
        cfg->fixtures[cfg->nfixtures++] = v;
    } else if (strcmp(name, "seed") == 0) {
        if (pd_parse_i64(v, 0, INT64_MAX, &n))
            return fail_flag(name, v, "must be a non-negative integer");
        cfg->seeded = 1;
        cfg->seed = (uint64_t)n;
    } else if (strcmp(name, "iam-mode") == 0) {
        if (strcmp(v, "enforce") == 0)
            cfg->iam_mode = PD_IAM_ENFORCE;
        else if (strcmp(v, "audit") == 0)
            cfg->iam_mode = PD_IAM_AUDIT;
        else if (strcmp(v, "off") == 0)
            cfg->iam_mode = PD_IAM_OFF;
        else
            return fail_flag(name, v, "must be enforce, audit or off");
    } else if (strcmp(name, "region") == 0) {
        if (!*v || strlen(v) > 30)
            return fail_flag(name, v, "must be a region name such as us-east-1");
        cfg->region = v;
    } else if (strcmp(name, "log-level") == 0) {
        if (pd_log_parse_level(v, &cfg->log_level))
            return fail_flag(name, v, "must be error, warn, info or debug");
    } else if (strcmp(name, "log-format") == 0) {
        if (strcmp(v, "text") == 0)
            cfg->log_json = 0;
        else if (strcmp(v, "json") == 0)
            cfg->log_json = 1;
        else
            return fail_flag(name, v, "must be text or json");
    } else if (strcmp(name, "threads") == 0) {
        if (pd_parse_i64(v, 1, 256, &n))
            return fail_flag(name, v, "must be 1..256");
        cfg->threads = (int)n;
    } else if (strcmp(name, "max-body") == 0) {
        if (pd_parse_i64(v, 1024, (int64_t)1 << 40, &n))
            return fail_flag(name, v, "must be 1024 or more bytes");
        cfg->max_body = (size_t)n;
    } else if (strcmp(name, "idle-timeout") == 0) {
        if (pd_parse_i64(v, 1, 86400, &n))
            return fail_flag(name, v, "must be 1..86400 seconds");
        cfg->idle_timeout = (int)n;
    } else if (strcmp(name, "max-connections") == 0) {
        if (pd_parse_i64(v, 16, 1000000, &n))
            return fail_flag(name, v, "must be 16..1000000");
        cfg->max_connections = (int)n;
    } else if (strcmp(name, "header-timeout") == 0) {
        if (pd_parse_i64(v, 0, 86400, &n))
            return fail_flag(name, v, "must be 0..86400 seconds");
        cfg->header_timeout = (int)n;
    } else if (strcmp(name, "sync") == 0) {
        if (strcmp(v, "normal") == 0)
            cfg->sync_full = 0;
        else if (strcmp(v, "full") == 0)
            cfg->sync_full = 1;
        else
            return fail_flag(name, v, "must be normal or full");
    } else if (strcmp(name, "encoded-denials") == 0 || strcmp(name, "oidc-http-loopback") == 0) {
        int on = strcmp(v, "on") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
        if (!on && strcmp(v, "off") != 0 && strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
            return fail_flag(name, v, "must be on or off");
        if (name[0] == 'e')
            cfg->encoded_denials = on;
        else
            cfg->oidc_http_loopback = on;
    } else if (strcmp(name, "oidc-ca-file") == 0) {
        if (access(v, R_OK) != 0)
            return fail_flag(name, v, "is not a readable file");
        cfg->oidc_ca_file = v;
    } else if (strcmp(name, "oidc-fetch-timeout") == 0) {
        if (pd_parse_i64(v, 1, 60, &n))
            return fail_flag(name, v, "must be 1..60 seconds");
        cfg->oidc_fetch_timeout_ms = (int)n * 1000;
    } else if (strcmp(name, "s3-inline-max") == 0) {
        if (pd_parse_i64(v, 0, 1024 * 1024, &n))
            return fail_flag(name, v, "must be 0..1048576 bytes");
        cfg->s3_inline_max = n;
    }
    return 0;
}

static const struct option longopts[] = {
    {"listen", required_argument, NULL, 0},
    {"listen-tls", required_argument, NULL, 0},
    {"listen-proxy", required_argument, NULL, 0},
    {"state", required_argument, NULL, 0},
    {"fixtures", required_argument, NULL, 0},
    {"seed", required_argument, NULL, 0},
    {"iam-mode", required_argument, NULL, 0},
    {"region", required_argument, NULL, 0},
    {"log-level", required_argument, NULL, 0},
    {"log-format", required_argument, NULL, 0},
    {"threads", required_argument, NULL, 0},
    {"max-body", required_argument, NULL, 0},
    {"sync", required_argument, NULL, 0},
    {"s3-inline-max", required_argument, NULL, 0},
    {"idle-timeout", required_argument, NULL, 0},
    {"header-timeout", required_argument, NULL, 0},
    {"max-connections", required_argument, NULL, 0},
    {"ready-file", required_argument, NULL, 0},
    {"ready-format", required_argument, NULL, 0},
    {"decision-log-size", required_argument, NULL, 0},
    {"encoded-denials", required_argument, NULL, 0},
    {"oidc-ca-file", required_argument, NULL, 0},
    {"oidc-http-loopback", required_argument, NULL, 0},
    {"oidc-fetch-timeout", required_argument, NULL, 0},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int from_env(struct pd_config *cfg)
{
    static char fixtures_copy[8192];
    for (const struct option *o = longopts; o->name; o++) {
        if (o->has_arg == no_argument)
            continue;
        char var[64] = "PODIAM_";
        size_t j = 7;
        for (const char *p = o->name; *p && j < sizeof var - 1; p++)
            var[j++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        var[j] = '\0';
        const char *v = getenv(var);
        if (!v || !*v)
            continue;
        if (strcmp(o->name, "fixtures") == 0) {
            snprintf(fixtures_copy, sizeof fixtures_copy, "%s", v);
            for (char *save = NULL, *tok = strtok_r(fixtures_copy, ":", &save); tok;
                 tok = strtok_r(NULL, ":", &save)) {
                int rc = apply(cfg, "fixtures", tok);
                if (rc)
                    return rc;
            }
            continue;
        }
        int rc = apply(cfg, o->name, v);
        if (rc)
            return rc;
    }
    return 0;
}

static int serve(int argc, char **argv)
{
    struct pd_env env;
    memset(&env, 0, sizeof env);
    pd_config_defaults(&env.cfg);
    int rc = from_env(&env.cfg);
    if (rc)
        return rc;
    /* Environment first, then flags; fixtures from flags replace those from the env. */
    int env_fixtures = env.cfg.nfixtures, flag_fixtures = 0;
    int idx, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c != 0) {
            usage(stderr);
            return 2;
        }
        if (strcmp(longopts[idx].name, "fixtures") == 0 && !flag_fixtures++) {
            env.cfg.nfixtures = 0;
            (void)env_fixtures;
        }
        rc = apply(&env.cfg, longopts[idx].name, optarg);
        if (rc)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "podiam: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    pd_log_level = env.cfg.log_level;
    pd_log_json = env.cfg.log_json;
    return pd_app_run(&env);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("podiam %s\n", PD_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "coverage") == 0)
        return pd_app_coverage(stdout);
    fprintf(stderr, "podiam: unknown command '%s' (try podiam --help)\n", argv[1]);
    return 2;
}
