/*
 * scenario_run.c - `podiamctl scenario`: run scenario files (docs/scenarios.md) step by step
 * against a running podiam, or one it starts (--start) on free ports with --state :memory:.
 *
 * Owns: the podiam child it started (stopped with SIGTERM, then SIGKILL after 10 s), one
 * temporary work directory per scenario (removed afterwards unless --keep-work), and each
 * step's process group (killed on timeout). Steps run with the scenario file's directory as
 * the working directory and an environment without the caller's AWS settings.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/kv.h"
#include "core/mem.h"
#include "core/str.h"
#include "http.h"
#include "scenario.h"
#include "scenario_run.h"

extern char **environ;

double pdc_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

/* Start podiam: `PODIAM serve --listen 127.0.0.1:0 --listen-tls 127.0.0.1:0 --state :memory:
 * --listen-proxy 127.0.0.1:0 [--fixtures F]`, read its ready line. Its log goes
 * to WORK/podiam.log. */
static int start_podiam(struct runner *r, const char *work, const char *fixtures,
                        struct podiam_proc *OUT)
{
    int fds[2];
    memset(OUT, 0, sizeof(*OUT));
    if (pipe(fds) != 0)
        return PD_EIO;
    const char *log = pd_arena_printf(&r->a, "%s/podiam.log", work);
    pid_t pid = fork();
    if (pid < 0)
        return PD_EIO;
    if (pid == 0) {
        int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fds[1], 1);
        if (lfd >= 0)
            dup2(lfd, 2);
        close(fds[0]);
        const char *argv[16] = {
            r->start,      "serve",   "--listen", "127.0.0.1:0",    "--listen-tls",
            "127.0.0.1:0", "--state", ":memory:", "--listen-proxy", "127.0.0.1:0",
            "--region",    r->region, NULL};
        if (fixtures) {
            argv[12] = "--fixtures";
            argv[13] = fixtures;
        }
        execvp(r->start, (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", r->start, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    OUT->pid = pid;
    FILE *f = fdopen(fds[0], "r");
    char line[4096];
    int ok = f && fgets(line, sizeof(line), f) != NULL;
    if (f)
        fclose(f); /* podiam writes nothing more to stdout */
    const char *ep = ok ? strstr(line, "ready: endpoint=") : NULL;
    if (!ep) {
        size_t n = 0;
        char *l = pdc_read_file(log, MAX_CAPTURE, &n);
        fprintf(stderr, "podiamctl scenario: %s did not start:\n%s\n", r->start, l ? l : "");
        free(l);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        OUT->pid = 0;
        return PD_EIO;
    }
    ep += strlen("ready: endpoint=");
    OUT->endpoint = pd_arena_strndup(&r->a, ep, strcspn(ep, " \n"));
    const char *tls = strstr(line, " tls=");
    if (tls) {
        tls += 5;
        OUT->tls_endpoint = pd_arena_strndup(&r->a, tls, strcspn(tls, " \n"));
    }
    return PD_OK;
}

static int stop_podiam(struct podiam_proc *p)
{
    if (p->pid <= 0)
        return 0;
    kill(p->pid, SIGTERM);
    int ws = 0;
    for (int i = 0; i < 200; i++) {
        pid_t w = waitpid(p->pid, &ws, WNOHANG);
        if (w == p->pid) {
            p->pid = 0;
            return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        }
        usleep(50000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &ws, 0);
    p->pid = 0;
    return 137;
}

static int in_path(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        return 0;
    char buf[PATH_MAX];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog) < (int)sizeof(buf) &&
            access(buf, X_OK) == 0)
            return 1;
        p += n;
        if (*p == ':')
            p++;
    }
    return 0;
}

/* The environment of a step: the caller's minus AWS_* and KUBECONFIG, then the runner's
 * settings, the variables, the step's env. */
static char **step_env(struct runner *r, const struct pd_kvs *vars, const struct pd_kvs *own)
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    char **out = pd_arena_zalloc(&r->a, (n + vars->n + own->n + 16) * sizeof(char *));
    size_t k = 0;
    for (char **e = environ; *e; e++) {
        if (pd_has_prefix(*e, "AWS_") || pd_has_prefix(*e, "KUBECONFIG=") ||
            pd_has_prefix(*e, "HOME="))
            continue;
        int shadowed = 0;
        for (size_t i = 0; i < own->n && !shadowed; i++) {
            size_t l = strlen(own->v[i].name);
            shadowed = strncmp(*e, own->v[i].name, l) == 0 && (*e)[l] == '=';
        }
        for (size_t i = 0; i < vars->n && !shadowed; i++) {
            size_t l = strlen(vars->v[i].name);
            shadowed = strncmp(*e, vars->v[i].name, l) == 0 && (*e)[l] == '=';
        }
        if (!shadowed)
            out[k++] = *e;
    }
    const char *work = pd_kvs_get(vars, "WORK", 0);
    const char *region = pd_kvs_get(vars, "REGION", 0);
    const char *base[][2] = {
        {"AWS_ACCESS_KEY_ID", "test"},
        {"AWS_SECRET_ACCESS_KEY", "test"},
        {"AWS_REGION", region},
        {"AWS_DEFAULT_REGION", region},
        {"AWS_ENDPOINT_URL", pd_kvs_get(vars, "ENDPOINT", 0)},
        {"AWS_CONFIG_FILE", pd_arena_printf(&r->a, "%s/aws-config", work)},
        {"AWS_SHARED_CREDENTIALS_FILE", pd_arena_printf(&r->a, "%s/aws-credentials", work)},
        {"AWS_EC2_METADATA_DISABLED", "true"},
        {"AWS_PAGER", ""},
        {"KUBECONFIG", pd_arena_printf(&r->a, "%s/kubeconfig", work)},
        /* a fresh HOME: no ~/.aws/cli/cache credentials sealed by
           another podiam, no ~/.kube state */
        {"HOME", pd_arena_printf(&r->a, "%s/home", work)}};
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
        if (pd_kvs_get(own, base[i][0], 0))
            continue;
        out[k++] = pd_arena_printf(&r->a, "%s=%s", base[i][0], base[i][1] ? base[i][1] : "");
    }
    for (size_t i = 0; i < vars->n; i++)
        if (!pd_kvs_get(own, vars->v[i].name, 0))
            out[k++] = pd_arena_printf(&r->a, "%s=%s", vars->v[i].name, vars->v[i].value);
    for (size_t i = 0; i < own->n; i++)
        out[k++] = pd_arena_printf(&r->a, "%s=%s", own->v[i].name, own->v[i].value);
    out[k] = NULL;
    return out;
}

/* Substitute variables in every string of a JSON value (a new value). */
static json_t *subst_json(struct runner *r, const json_t *v, const struct pd_kvs *vars,
                          const char **OUT_missing)
{
    if (json_is_string(v)) {
        char *s;
        if (pdc_subst(&r->a, json_string_value(v), vars, &s, OUT_missing) != PD_OK)
            return NULL;
        return json_string(s);
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            json_t *x = subst_json(r, e, vars, OUT_missing);
            if (!x) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, x);
        }
        return out;
    }
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            json_t *x = subst_json(r, e, vars, OUT_missing);
            char *key = NULL;
            if (!x || pdc_subst(&r->a, k, vars, &key, OUT_missing) != PD_OK) {
                json_decref(x);
                json_decref(out);
                return NULL;
            }
            json_object_set_new(out, key, x); /* keys too: JSON paths may name variables */
        }
        return out;
    }
    return json_incref((json_t *)v);
}

/* Run argv (environment envp, working directory dir, standard streams from and to the
 * files named) in a process group of its own, killed after timeout_s seconds (and its
 * leftovers after it exits). Returns the exit status (128 + signal), or -1 when fork fails. */
static int spawn_wait(struct runner *r, char **argv, char **envp, const char *dir, const char *in,
                      const char *out, const char *err, long long timeout_s, int *OUT_timed_out)
{
    *OUT_timed_out = 0;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        int fi = open(in, O_RDONLY);
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fi < 0 || fo < 0 || fe < 0 || chdir(dir) != 0)
            _exit(126);
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        environ = envp;
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    int ws = 0;
    double deadline = pdc_now_s() + (double)timeout_s, next_tick = pdc_now_s() + 5;
    for (;;) {
        if (r->tick && pdc_now_s() > next_tick) { /* the console's player: still here */
            r->tick(r->tick_arg);
            next_tick = pdc_now_s() + 5;
        }
        pid_t w = waitpid(pid, &ws, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            break;
        if (pdc_now_s() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &ws, 0);
            *OUT_timed_out = 1;
            break;
        }
        usleep(20000);
    }
    kill(-pid, SIGKILL); /* leftovers of the process group (background jobs) */
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* A skip_unless probe ({"run"|"shell", "why"}, variables substituted), run with the step's
 * environment (own: the step's env, or none), no input and its output discarded, for at most
 * PROBE_TIMEOUT_S. Returns 1 when it exits 0; else 0 with *OUT_why (the probe's "why", or
 * why it could not run). */
#define PROBE_TIMEOUT_S 120
static int probe_ok(struct runner *r, const char *dir, const json_t *probe, struct pd_kvs *vars,
                    const struct pd_kvs *own, const char **OUT_why)
{
    struct pd_arena *a = &r->a;
    const char *missing = NULL;
    json_t *sub = subst_json(r, probe, vars, &missing);
    if (!sub) {
        *OUT_why = pd_arena_printf(a, "skip_unless: unknown variable %s", missing);
        return 0;
    }
    const char *why = pd_arena_strdup(a, json_string_value(json_object_get(sub, "why")));
    json_t *run = json_object_get(sub, "run");
    char **argv;
    size_t i;
    json_t *e;
    if (run) {
        argv = pd_arena_zalloc(a, (json_array_size(run) + 1) * sizeof(char *));
        json_array_foreach(run, i, e) argv[i] = pd_arena_strdup(a, json_string_value(e));
    } else {
        argv = pd_arena_zalloc(a, 4 * sizeof(char *));
        argv[0] = "/bin/sh";
        argv[1] = "-c";
        argv[2] = pd_arena_strdup(a, json_string_value(json_object_get(sub, "shell")));
    }
    json_decref(sub);
    struct pd_kvs none = {0};
    char **envp = step_env(r, vars, own ? own : &none);
    if (r->verbose)
        printf("       probe $ %s\n", run ? argv[0] : argv[2]);
    fflush(stdout);
    int timed_out = 0;
    int code = spawn_wait(r, argv, envp, dir, "/dev/null", "/dev/null", "/dev/null",
                          PROBE_TIMEOUT_S, &timed_out);
    if (code == 0)
        return 1;
    *OUT_why = code < 0    ? pd_arena_printf(a, "%s (the probe could not start)", why)
               : timed_out ? pd_arena_printf(a, "%s (the probe timed out)", why)
                           : why;
    return 0;
}

static void show_tail(const char *label, const char *text, size_t len)
{
    if (!len)
        return;
    size_t start = len > 3000 ? len - 3000 : 0;
    printf("      --- %s%s ---\n", label, start ? " (last 3000 bytes)" : "");
    for (const char *p = text + start; *p;) {
        size_t n = strcspn(p, "\n");
        printf("      | %.*s\n", (int)n, p);
        p += n;
        if (*p)
            p++;
    }
}

/* The command as run (variables substituted) for messages. */
static const char *command_text(struct runner *r, json_t *sub)
{
    json_t *run = json_object_get(sub, "run");
    return run ? pdc_json_text(&r->a, run) : json_string_value(json_object_get(sub, "shell"));
}

/* The same as one shell command line, for the console player. */
static const char *shown_command(struct runner *r, json_t *sub)
{
    json_t *run = json_object_get(sub, "run");
    return run ? pdc_argv_text(&r->a, run) : json_string_value(json_object_get(sub, "shell"));
}

/* What the console player shows of a step: the command, its output, why. */
static void fill_report(struct step_report *rep, const char *command, const char *out,
                        const char *err, const char *why, double t0)
{
    if (!rep)
        return;
    if (command)
        pd_buf_printf(&rep->text, "$ %s\n", command);
    pd_buf_adds(&rep->text, out ? out : "");
    if (err && *err) {
        if (rep->text.len && rep->text.p[rep->text.len - 1] != '\n')
            pd_buf_addc(&rep->text, '\n');
        pd_buf_adds(&rep->text, "--- stderr ---\n");
        pd_buf_adds(&rep->text, err);
    }
    pd_buf_adds(&rep->why, why ? why : "");
    rep->secs = pdc_now_s() - t0;
}

/* Run one step. Returns 1 passed, 0 failed, -1 skipped. */
static int run_step(struct runner *r, const char *dir, const struct pdc_step *st, size_t idx,
                    struct pd_kvs *vars, struct step_report *rep)
{
    struct pd_arena *a = &r->a;
    const char *missing = NULL;
    const char *work = pd_kvs_get(vars, "WORK", 0);
    struct pd_buf why;
    pd_buf_init(&why, 0);
    json_t *sub = NULL, *out_json = NULL;
    char *out = NULL, *err = NULL;
    size_t out_len = 0, err_len = 0;
    int result = 0;
    double t0 = pdc_now_s();
    /* tools */
    size_t i;
    json_t *e;
    if (st->requires_tools) {
        json_t *tools = json_is_string(st->requires_tools) ? json_pack("[O]", st->requires_tools)
                                                           : json_incref(st->requires_tools);
        json_array_foreach(tools, i, e)
        {
            const char *tool = json_string_value(e);
            if (strchr(tool, '/') && tool[0] != '/')
                tool = pd_arena_printf(a, "%s/%s", dir, tool); /* a path in the repository */
            if (!in_path(tool)) {
                const char *skip = pd_arena_printf(a, "%s not found%s", json_string_value(e),
                                                   strchr(tool, '/') ? "" : " on PATH");
                printf("[SKIP] %2zu. %s (%s)\n", idx + 1, st->name, skip);
                fill_report(rep, NULL, NULL, NULL, skip, t0);
                json_decref(tools);
                pd_buf_free(&why);
                return -1;
            }
        }
        json_decref(tools);
    }
    /* the whole step with variables substituted */
    json_t *raw =
        json_pack("{s:O?, s:s?, s:O?, s:s?, s:O?, s:O?, s:O?, s:O?}", "run", st->run, "shell",
                  st->shell, "env", st->env, "stdin", st->stdin_text, "stdout_contains",
                  st->stdout_contains, "stderr_contains", st->stderr_contains,
                  "stdout_not_contains", st->stdout_not_contains, "json", st->json);
    const char *key_;
    void *tmp_;
    json_t *val_;
    json_object_foreach_safe(raw, tmp_, key_, val_) if (json_is_null(val_))
        json_object_del(raw, key_); /* "O?" packs absent members as null */
    sub = subst_json(r, raw, vars, &missing);
    json_decref(raw);
    if (!sub) {
        pd_buf_printf(&why, "unknown variable %s", missing);
        goto done;
    }
    struct pd_kvs own = {0};
    const char *k;
    json_object_foreach(json_object_get(sub, "env"), k, e)
        pd_kvs_add(a, &own, k, json_string_value(e), strlen(json_string_value(e)), 0);
    if (st->skip_unless) {
        const char *skip_why = NULL;
        if (!probe_ok(r, dir, st->skip_unless, vars, &own, &skip_why)) {
            printf("[SKIP] %2zu. %s (%s)\n", idx + 1, st->name, skip_why);
            fill_report(rep, shown_command(r, sub), NULL, NULL, skip_why, t0);
            result = -1;
            goto skipped;
        }
    }
    char **envp = step_env(r, vars, &own);
    const char *out_path = pd_arena_printf(a, "%s/step-%zu.out", work, idx + 1);
    const char *err_path = pd_arena_printf(a, "%s/step-%zu.err", work, idx + 1);
    const char *in_path_ = pd_arena_printf(a, "%s/step-%zu.in", work, idx + 1);
    const char *in_text = json_string_value(json_object_get(sub, "stdin"));
    FILE *fin = fopen(in_path_, "w");
    if (fin) {
        if (in_text)
            fputs(in_text, fin);
        fclose(fin);
    }
    char **argv;
    json_t *run = json_object_get(sub, "run");
    if (run) {
        argv = pd_arena_zalloc(a, (json_array_size(run) + 1) * sizeof(char *));
        json_array_foreach(run, i, e) argv[i] = (char *)json_string_value(e);
    } else {
        argv = pd_arena_zalloc(a, 4 * sizeof(char *));
        argv[0] = "/bin/sh";
        argv[1] = "-c";
        argv[2] = (char *)json_string_value(json_object_get(sub, "shell"));
    }
    if (r->verbose)
        printf("       $ %s%s\n", run ? "" : "sh -c ", run ? pdc_json_text(a, run) : argv[2]);
    fflush(stdout);
    int timed_out = 0;
    int code =
        spawn_wait(r, argv, envp, dir, in_path_, out_path, err_path, st->timeout_s, &timed_out);
    if (code < 0) {
        pd_buf_printf(&why, "fork: %s", strerror(errno));
        goto done;
    }
    out = pdc_read_file(out_path, MAX_CAPTURE, &out_len);
    err = pdc_read_file(err_path, MAX_CAPTURE, &err_len);
    if (!out)
        out = pd_xstrdup("");
    if (!err)
        err = pd_xstrdup("");
    if (timed_out)
        pd_buf_printf(&why, "timed out after %lld s; ", st->timeout_s);
    if (code != st->exit_code)
        pd_buf_printf(&why, "exit status %d, expected %lld; ", code, st->exit_code);
    struct {
        const char *name, *text;
        int negate;
    } lists[] = {
        {"stdout_contains", out, 0}, {"stderr_contains", err, 0}, {"stdout_not_contains", out, 1}};
    for (size_t l = 0; l < 3; l++) {
        json_t *want = json_object_get(sub, lists[l].name);
        json_t *arr = json_is_string(want) ? json_pack("[O]", want) : json_incref(want);
        json_array_foreach(arr, i, e)
        {
            int found = strstr(lists[l].text, json_string_value(e)) != NULL;
            if (found == lists[l].negate)
                pd_buf_printf(&why, "%s %s \"%s\"; ", lists[l].name + 0,
                              lists[l].negate ? "has" : "lacks", json_string_value(e));
        }
        json_decref(arr);
    }
    json_t *expect_json = json_object_get(sub, "json");
    if (expect_json || st->capture) {
        out_json = json_loads(out, JSON_DECODE_ANY, NULL);
        if (!out_json)
            pd_buf_printf(&why, "standard output is not JSON; ");
    }
    if (out_json) {
        json_object_foreach(expect_json, k, e)
        {
            json_t *got = pdc_json_path(out_json, k);
            if (!pdc_json_match(got, e))
                pd_buf_printf(&why, "json %s is %s, expected %s; ", k, pdc_json_text(a, got),
                              pdc_json_text(a, e));
        }
        json_object_foreach(st->capture, k, e)
        {
            json_t *got = pdc_json_path(out_json, json_string_value(e));
            if (!got || json_is_null(got)) {
                pd_buf_printf(&why, "capture %s: no %s in the output; ", k, json_string_value(e));
                continue;
            }
            const char *v = pdc_json_text(a, got);
            pd_kvs_add(a, vars, k, v, strlen(v), 0);
        }
    }
    result = why.len == 0;
done:
    printf("%s %2zu. %s (%.1fs)\n", result ? "[ ok ]" : "[FAIL]", idx + 1, st->name,
           pdc_now_s() - t0);
    fill_report(rep, sub ? shown_command(r, sub) : NULL, out, err, pd_buf_str(&why), t0);
    if (!result) {
        printf("      %s\n", pd_buf_str(&why));
        if (sub)
            printf("      command: %s\n", command_text(r, sub));
        show_tail("stdout", out ? out : "", out_len);
        show_tail("stderr", err ? err : "", err_len);
    } else if (r->verbose) {
        show_tail("stdout", out ? out : "", out_len);
        show_tail("stderr", err ? err : "", err_len);
    }
skipped:
    fflush(stdout);
    free(out);
    free(err);
    json_decref(out_json);
    json_decref(sub);
    pd_buf_free(&why);
    return result;
}

int pdc_file_parse(struct runner *r, const char *file, struct file_run *OUT)
{
    json_error_t je;
    const char *perr = NULL;
    memset(OUT, 0, sizeof(*OUT));
    OUT->file = file;
    json_t *doc = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        printf("%s: %s (line %d)\n", file, je.text, je.line);
        return PD_EINVAL;
    }
    int rc = pdc_scenario_parse(&r->a, doc, &OUT->sc, &perr);
    json_decref(doc);
    if (rc != PD_OK) {
        printf("%s: %s\n", file, perr);
        return PD_EINVAL;
    }
    char abs[PATH_MAX];
    if (!realpath(file, abs)) {
        printf("%s: %s\n", file, strerror(errno));
        pdc_scenario_free(&OUT->sc);
        return PD_EINVAL;
    }
    OUT->dir = pd_arena_strdup(&r->a, dirname(abs));
    return PD_OK;
}

void pdc_file_free(struct file_run *f)
{
    pdc_scenario_free(&f->sc);
}

int pdc_file_ready(struct runner *r, struct file_run *f)
{
    struct pd_arena *a = &r->a;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->work, sizeof f->work, "%s/podiamctl-scenario-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->work)) {
        perror("mkdtemp");
        return PD_EIO;
    }
    f->ready = 1;
    f->skip_why = NULL;
    const char *fixtures = NULL;
    if (f->sc.fixtures)
        fixtures = f->sc.fixtures[0] == '/' ? f->sc.fixtures
                                            : pd_arena_printf(a, "%s/%s", f->dir, f->sc.fixtures);
    const char *endpoint = r->endpoint, *tls = r->tls_endpoint;
    if (r->start) {
        if (start_podiam(r, f->work, fixtures, &f->proc) != PD_OK)
            return PD_EIO;
        endpoint = f->proc.endpoint;
        tls = f->proc.tls_endpoint;
        printf("   started %s: %s%s%s\n", r->start, endpoint, tls ? " tls=" : "", tls ? tls : "");
    } else if (fixtures) {
        printf("   note: this scenario expects podiam started with --fixtures %s\n", fixtures);
    }
    /* podiam's CA, for https steps */
    const char *ca_file = pd_arena_printf(a, "%s/ca.pem", f->work);
    {
        struct pdc_ctx c;
        const char *pem;
        pdc_ctx_init(&c, endpoint, r->region, NULL);
        FILE *fp = pdc_ca_pem(&c, &pem) == PD_OK ? fopen(ca_file, "w") : NULL;
        if (fp) {
            fputs(pem, fp);
            fclose(fp);
        } else {
            printf("   note: could not fetch %s/_podiam/ca.pem\n", endpoint);
        }
        pdc_ctx_cleanup(&c);
    }
    mkdir(pd_arena_printf(a, "%s/home", f->work), 0700);
    memset(&f->vars, 0, sizeof f->vars);
    const char *kv[][2] = {{"ENDPOINT", endpoint},  {"TLS_ENDPOINT", tls ? tls : ""},
                           {"CA_FILE", ca_file},    {"REGION", r->region},
                           {"WORK", f->work},       {"PODIAMCTL", r->self},
                           {"SCENARIO_DIR", f->dir}};
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        pd_kvs_add(a, &f->vars, kv[i][0], kv[i][1], strlen(kv[i][1]), 0);
    for (size_t i = 0; i < r->extra.n; i++)
        pd_kvs_add(a, &f->vars, r->extra.v[i].name, r->extra.v[i].value, r->extra.v[i].vlen, 0);
    const char *skip_why = NULL;
    if (f->sc.skip_unless && !probe_ok(r, f->dir, f->sc.skip_unless, &f->vars, NULL, &skip_why))
        f->skip_why = skip_why;
    return PD_OK;
}

int pdc_file_unready(struct runner *r, struct file_run *f, int failed)
{
    int code = 0;
    if (f->proc.pid) {
        code = stop_podiam(&f->proc);
        if (code != 0)
            printf("   podiam exited with status %d on SIGTERM\n", code);
        if (failed || code) {
            size_t n;
            char *log =
                pdc_read_file(pd_arena_printf(&r->a, "%s/podiam.log", f->work), MAX_CAPTURE, &n);
            if (log)
                show_tail("podiam log", log, n);
            free(log);
        }
    }
    if (f->ready) {
        if (r->keep_work)
            printf("   work directory kept: %s\n", f->work);
        else
            nftw(f->work, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
    f->ready = 0;
    return code;
}

int pdc_run_step(struct runner *r, struct file_run *f, size_t idx, struct step_report *rep)
{
    if (f->skip_why) {
        printf("[SKIP] %2zu. %s (%s)\n", idx + 1, f->sc.steps[idx].name, f->skip_why);
        if (rep)
            pd_buf_adds(&rep->why, f->skip_why);
        return -1;
    }
    return run_step(r, f->dir, &f->sc.steps[idx], idx, &f->vars, rep);
}

static int run_file(struct runner *r, const char *file)
{
    struct file_run f;
    int failed = 0, skipped = 0, passed = 0;
    if (pdc_file_parse(r, file, &f) != PD_OK)
        return 0;
    printf("== %s (%s)\n", f.sc.name, file);
    if (f.sc.description)
        printf("   %s\n", f.sc.description);
    if (pdc_file_ready(r, &f) != PD_OK) {
        failed = 1;
    } else if (f.skip_why) {
        printf("[SKIP] every step: %s\n", f.skip_why);
        skipped = (int)f.sc.nsteps;
    } else {
        for (size_t i = 0; i < f.sc.nsteps; i++) {
            int res = pdc_run_step(r, &f, i, NULL);
            if (res < 0)
                skipped++;
            else if (res)
                passed++;
            else {
                failed++;
                if (!r->keep_going)
                    break;
            }
        }
    }
    if (pdc_file_unready(r, &f, failed) != 0)
        failed++;
    printf("== %s: %d passed, %d failed, %d skipped\n\n", f.sc.name, passed, failed, skipped);
    pdc_file_free(&f);
    return failed == 0;
}

static void usage(FILE *f)
{
    fputs("usage: podiamctl scenario [options] FILE...\n"
          "       podiamctl scenario --console [options] [FILE... | DIR]\n"
          "\n"
          "Run scenario files (docs/scenarios.md): each step's command, then its expectations\n"
          "(exit status, text in stdout/stderr, JSON fields). Exit 0 when every step of every\n"
          "file passed, 1 otherwise.\n"
          "\n"
          "  --start PODIAM      start PODIAM (the podiam binary) for each file, on free ports\n"
          "                      with --state :memory: and the file's fixtures; stop it after\n"
          "  --endpoint URL      a running podiam instead (AWS_ENDPOINT_URL, default\n"
          "                      http://127.0.0.1:4566)\n"
          "  --tls-endpoint URL  its https listener (default https://127.0.0.1:4567)\n"
          "  --region R          default us-east-1\n"
          "  --var NAME=VALUE    an extra variable\n"
          "  --keep-going        run every step and file even after a failure\n"
          "  --keep-work         keep each file's ${WORK} directory\n"
          "  -v                  show every command and its output\n"
          "  --console           be the scenario player of podiam's console (--endpoint):\n"
          "                      offer the files (or DIR's *.json; default scenarios/) to\n"
          "                      the page, run the steps it asks for, send their output back\n",
          f);
}

int pdc_cmd_scenario(int argc, char **argv, const char *self)
{
    static const struct option opts[] = {{"start", 1, 0, 's'},        {"endpoint", 1, 0, 'e'},
                                         {"tls-endpoint", 1, 0, 't'}, {"region", 1, 0, 'R'},
                                         {"var", 1, 0, 'V'},          {"keep-going", 0, 0, 'k'},
                                         {"keep-work", 0, 0, 'K'},    {"help", 0, 0, 'h'},
                                         {"console", 0, 0, 'C'},      {0, 0, 0, 0}};
    int console = 0;
    struct runner r;
    memset(&r, 0, sizeof(r));
    pd_arena_init(&r.a);
    r.self = self;
    const char *ep = getenv("AWS_ENDPOINT_URL");
    r.endpoint = ep && *ep ? ep : "http://127.0.0.1:4566";
    r.tls_endpoint = "https://127.0.0.1:4567";
    r.region = getenv("AWS_REGION") && *getenv("AWS_REGION") ? getenv("AWS_REGION") : "us-east-1";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        switch (o) {
        case 's':
            r.start = optarg;
            break;
        case 'e':
            r.endpoint = optarg;
            break;
        case 't':
            r.tls_endpoint = optarg;
            break;
        case 'R':
            r.region = optarg;
            break;
        case 'k':
            r.keep_going = 1;
            break;
        case 'K':
            r.keep_work = 1;
            break;
        case 'v':
            r.verbose = 1;
            break;
        case 'C':
            console = 1;
            break;
        case 'V': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                fprintf(stderr, "podiamctl scenario: --var wants NAME=VALUE\n");
                pd_arena_cleanup(&r.a);
                return 2;
            }
            pd_kvs_add(&r.a, &r.extra, pd_arena_strndup(&r.a, optarg, (size_t)(eq - optarg)),
                       eq + 1, strlen(eq + 1), 0);
            break;
        }
        case 'h':
            usage(stdout);
            pd_arena_cleanup(&r.a);
            return 0;
        default:
            usage(stderr);
            pd_arena_cleanup(&r.a);
            return 2;
        }
    }
    if (console && r.start) {
        fprintf(stderr, "podiamctl scenario: --console plays against the podiam whose console "
                        "shows it (--endpoint), not one it starts (--start)\n");
        pd_arena_cleanup(&r.a);
        return 2;
    }
    if (console) {
        static char *defaults[] = {"scenarios"};
        int rc = optind < argc ? pdc_scenario_console(&r, argv + optind, argc - optind)
                               : pdc_scenario_console(&r, defaults, 1);
        pd_arena_cleanup(&r.a);
        return rc;
    }
    if (optind >= argc) {
        usage(stderr);
        pd_arena_cleanup(&r.a);
        return 2;
    }
    if (r.start && !strchr(r.start, '/') && !in_path(r.start)) {
        fprintf(stderr, "podiamctl scenario: %s not found\n", r.start);
        pd_arena_cleanup(&r.a);
        return 2;
    }
    if (r.start && strchr(r.start, '/')) {
        char abs[PATH_MAX];
        if (realpath(r.start, abs))
            r.start = pd_arena_strdup(&r.a, abs);
    }
    int ok = 1;
    for (int i = optind; i < argc && (ok || r.keep_going); i++)
        ok &= run_file(&r, argv[i]); /* the first failure ends the run, unless --keep-going */
    pd_arena_cleanup(&r.a);
    return ok ? 0 : 1;
}
