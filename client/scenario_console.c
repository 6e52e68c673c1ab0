/*
 * scenario_console.c - `podiamctl scenario --console`: the scenario player of podiam's
 * console (docs/console.md). It offers scenario files to the page through podiam's admin
 * API (POST /_podiam/console/api/player/connect), long-polls podiam for the commands the
 * page posts (run a step, run the rest, reset), runs them here as `podiamctl scenario` runs
 * steps, and posts each step's state and output back. podiam itself never runs a command.
 *
 * Owns: the session with podiam, one struct file_run per offered file (made ready on its
 * first step, unready on reset and at the end). Ends on SIGINT/SIGTERM (saying goodbye, so
 * the page shows the player gone at once) or when podiam says another player replaced it.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/str.h"
#include "http.h"
#include "scenario_run.h"

#define POLL_WAIT_S 10   /* a long poll's wait: also how soon a signal is noticed */
#define MAX_OUTPUT 16384 /* a step's output as sent (podiam keeps as much) */
#define MAX_FILES 64     /* podiam's bound on the scenarios offered */
#define MAX_TEXT 4096    /* podiam's bound on a name, description or command */
#define MAX_STEPS 300    /* podiam's bound on a scenario's steps */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

struct player {
    struct runner *r;
    const char *session;
    struct file_run *files;
    int *states; /* per file, per step: 1 passed, 0 failed, -1 skipped, 2 not run */
    size_t nfiles;
    long long after; /* the newest command taken */
    int gone;        /* podiam answered 410: another player replaced this one */
};

/* POST body to /_podiam/console/api/player/WHAT; the answer's JSON in *OUT (or NULL).
 * Returns the HTTP status, 0 on a transport failure. A context per call: the player runs
 * for hours and each context keeps its answers until it is cleaned up. */
static long call(struct player *p, const char *what, json_t *body, json_t **OUT)
{
    struct pdc_ctx c;
    struct pdc_resp resp;
    pdc_ctx_init(&c, p->r->endpoint, p->r->region, NULL);
    char *text = json_dumps(body, JSON_COMPACT);
    void *out = NULL;
    memset(&resp, 0, sizeof resp);
    pdc_admin(&c, "POST", pd_arena_printf(&c.arena, "console/api/player/%s", what), text, &resp,
              &out);
    long status = resp.status;
    if (status == 0 && resp.error)
        fprintf(stderr, "podiamctl scenario --console: %s: %s\n", p->r->endpoint, resp.error);
    else if (status / 100 != 2)
        fprintf(stderr, "podiamctl scenario --console: %s: %ld %s\n", what, status,
                resp.body.p ? resp.body.p : "");
    if (status == 410)
        p->gone = 1;
    free(text);
    pdc_resp_free(&resp);
    pdc_ctx_cleanup(&c);
    if (OUT)
        *OUT = out;
    else
        json_decref(out);
    return status;
}

/* A string cut to podiam's bound on offered texts. */
static json_t *bounded(const char *s)
{
    char *t = pd_cut_middle(s ? s : "", MAX_TEXT);
    json_t *v = json_string(t);
    free(t);
    return v ? v : json_string("(not UTF-8)");
}

/* A step's command as the page shows it, variables not yet substituted. */
static json_t *command_of(struct player *p, const struct pdc_step *st)
{
    return bounded(st->shell ? st->shell : pdc_argv_text(&p->r->a, st->run));
}

static json_t *offer(struct player *p)
{
    json_t *list = json_array();
    for (size_t i = 0; i < p->nfiles; i++) {
        const struct pdc_scenario *sc = &p->files[i].sc;
        char *copy = pd_xstrdup(p->files[i].file);
        json_t *steps = json_array();
        for (size_t k = 0; k < sc->nsteps; k++)
            json_array_append_new(steps, json_pack("{s:o, s:o}", "name", bounded(sc->steps[k].name),
                                                   "command", command_of(p, &sc->steps[k])));
        json_t *s = json_pack("{s:o, s:o, s:o}", "file", bounded(basename(copy)), "name",
                              bounded(sc->name), "steps", steps);
        free(copy);
        if (sc->description)
            json_object_set_new(s, "description", bounded(sc->description));
        if (sc->fixtures)
            json_object_set_new(s, "fixtures", bounded(sc->fixtures));
        json_array_append_new(list, s);
    }
    return json_pack("{s:o, s:I}", "scenarios", list, "pid", (json_int_t)getpid());
}

static void report(struct player *p, size_t f, long step, const char *state,
                   const struct step_report *rep)
{
    json_t *b = json_pack("{s:s, s:I, s:s}", "session", p->session, "scenario", (json_int_t)f,
                          "state", state);
    if (step >= 0)
        json_object_set_new(b, "step", json_integer(step));
    if (rep) {
        char *out = pd_cut_middle(pd_buf_str((struct pd_buf *)&rep->text), MAX_OUTPUT);
        char *why = pd_cut_middle(pd_buf_str((struct pd_buf *)&rep->why), 2048);
        json_t *o = json_string(out), *w = json_string(why);
        json_object_set_new(b, "output", o ? o : json_string("(the output is not UTF-8)"));
        json_object_set_new(b, "why", w ? w : json_string(""));
        json_object_set_new(b, "duration_ms", json_integer((json_int_t)(rep->secs * 1000)));
        free(out);
        free(why);
    }
    call(p, "result", b, NULL);
    json_decref(b);
}

/* The heartbeat while a step runs: a poll that waits for nothing and takes nothing. */
static void heartbeat(void *arg)
{
    struct player *p = arg;
    json_t *b = json_pack("{s:s, s:I, s:i}", "session", p->session, "after", (json_int_t)p->after,
                          "wait", 0);
    call(p, "poll", b, NULL);
    json_decref(b);
}

/* Run step k of file f: "running", then its result. Returns 1 passed, 0 failed, -1 skip. */
static int play_step(struct player *p, size_t f, size_t k)
{
    struct file_run *fr = &p->files[f];
    struct step_report rep;
    memset(&rep, 0, sizeof rep);
    pd_buf_init(&rep.text, 0);
    pd_buf_init(&rep.why, 0);
    if (!fr->ready) {
        printf("== %s (%s)\n", fr->sc.name, fr->file);
        if (pdc_file_ready(p->r, fr) != PD_OK) {
            pd_buf_adds(&rep.why, "the scenario could not be made ready (see podiamctl's output)");
            report(p, f, (long)k, "failed", &rep);
            pd_buf_free(&rep.text);
            pd_buf_free(&rep.why);
            return 0;
        }
    }
    report(p, f, (long)k, "running", NULL);
    int res = pdc_run_step(p->r, fr, k, &rep);
    fflush(stdout);
    p->states[f * MAX_STEPS + k] = res;
    report(p, f, (long)k, res > 0 ? "passed" : res == 0 ? "failed" : "skipped", &rep);
    pd_buf_free(&rep.text);
    pd_buf_free(&rep.why);
    return res;
}

static void reset_file(struct player *p, size_t f)
{
    struct file_run *fr = &p->files[f];
    if (fr->ready)
        pdc_file_unready(p->r, fr, 0);
    for (size_t k = 0; k < fr->sc.nsteps; k++)
        p->states[f * MAX_STEPS + k] = 2;
    report(p, f, -1, "pending", NULL);
    printf("== %s: reset (variables and work directory)\n", fr->sc.name);
}

static void run_command(struct player *p, json_t *cmd)
{
    const char *action = json_string_value(json_object_get(cmd, "action"));
    json_int_t f = json_integer_value(json_object_get(cmd, "scenario"));
    json_int_t step = json_integer_value(json_object_get(cmd, "step"));
    if (!action || f < 0 || (size_t)f >= p->nfiles)
        return;
    size_t n = p->files[f].sc.nsteps;
    if (strcmp(action, "reset") == 0) {
        reset_file(p, (size_t)f);
    } else if (strcmp(action, "run_step") == 0) {
        if (step >= 0 && (size_t)step < n)
            play_step(p, (size_t)f, (size_t)step);
    } else if (strcmp(action, "run_all") == 0) {
        /* the rest: from the first step not passed or skipped, to the first failure */
        size_t k = 0;
        while (k < n && p->states[f * MAX_STEPS + k] != 2 && p->states[f * MAX_STEPS + k] != 0)
            k++;
        for (; k < n && !stopping && !p->gone; k++)
            if (play_step(p, (size_t)f, k) == 0)
                break;
    }
}

/* The files of the paths: each file itself, each directory's *.json in name order. */
static int collect(struct player *p, char **paths, int n)
{
    for (int i = 0; i < n; i++) {
        struct stat stt;
        if (stat(paths[i], &stt) != 0) {
            fprintf(stderr, "podiamctl scenario --console: %s: %s\n", paths[i], strerror(errno));
            return PD_EINVAL;
        }
        struct dirent **names = NULL;
        int k = 0;
        if (S_ISDIR(stt.st_mode))
            k = scandir(paths[i], &names, NULL, alphasort);
        for (int j = S_ISDIR(stt.st_mode) ? 0 : -1; j < k; j++) {
            const char *file = paths[i];
            if (j >= 0) {
                size_t len = strlen(names[j]->d_name);
                if (len < 6 || strcmp(names[j]->d_name + len - 5, ".json") != 0)
                    continue;
                size_t pl = strlen(paths[i]);
                file = pd_arena_printf(&p->r->a, "%s%s%s", paths[i],
                                       pl && paths[i][pl - 1] == '/' ? "" : "/", names[j]->d_name);
            }
            if (p->nfiles == MAX_FILES) {
                fprintf(stderr, "podiamctl scenario --console: at most %d files\n", MAX_FILES);
                break;
            }
            if (pdc_file_parse(p->r, file, &p->files[p->nfiles]) != PD_OK)
                continue; /* said why; the others are still offered */
            if (p->files[p->nfiles].sc.nsteps > MAX_STEPS) {
                printf("%s: more than %d steps, not offered\n", file, MAX_STEPS);
                pdc_file_free(&p->files[p->nfiles]);
                continue;
            }
            p->nfiles++;
        }
        for (int j = 0; j < k; j++)
            free(names[j]);
        free(names);
    }
    if (!p->nfiles) {
        fprintf(stderr, "podiamctl scenario --console: no scenario to offer\n");
        return PD_EINVAL;
    }
    return PD_OK;
}

static int play(struct player *p)
{
    json_t *o = offer(p), *ans = NULL;
    long st = call(p, "connect", o, &ans);
    json_decref(o);
    const char *session = json_string_value(json_object_get(ans, "session"));
    if (st != 200 || !session) {
        json_decref(ans);
        fprintf(stderr, "podiamctl scenario --console: podiam at %s did not take the player\n",
                p->r->endpoint);
        return 1;
    }
    p->session = pd_arena_strdup(&p->r->a, session);
    json_decref(ans);
    printf("player connected: %zu scenario(s) offered on %s/_podiam/console#scenarios\n"
           "(Ctrl-C ends it)\n",
           p->nfiles, p->r->endpoint);
    fflush(stdout);
    while (!stopping && !p->gone) {
        json_t *b = json_pack("{s:s, s:I, s:i}", "session", p->session, "after",
                              (json_int_t)p->after, "wait", POLL_WAIT_S);
        json_t *ans2 = NULL;
        long s = call(p, "poll", b, &ans2);
        json_decref(b);
        json_t *cmds = json_object_get(ans2, "commands");
        if (s != 200 || !json_array_size(cmds)) {
            json_decref(ans2);
            if (s != 200 && !p->gone)
                sleep(2); /* podiam away or busy: try again */
            else if (s == 200)
                usleep(200000); /* an answer at once: podiam has enough long polls */
            continue;
        }
        size_t i;
        json_t *c;
        json_array_foreach(cmds, i, c)
        {
            if (stopping || p->gone)
                break;
            json_int_t id = json_integer_value(json_object_get(c, "id"));
            if (id <= p->after)
                continue;
            p->after = id; /* taken: the next poll tells podiam */
            run_command(p, c);
        }
        json_decref(ans2);
    }
    if (p->gone) {
        fprintf(stderr, "podiamctl scenario --console: another player replaced this one (or "
                        "podiam restarted)\n");
        return 1;
    }
    json_t *b = json_pack("{s:s}", "session", p->session);
    call(p, "leave", b, NULL);
    json_decref(b);
    printf("player left\n");
    return 0;
}

int pdc_scenario_console(struct runner *r, char **paths, int n)
{
    struct player p;
    memset(&p, 0, sizeof p);
    p.r = r;
    p.files = pd_arena_zalloc(&r->a, MAX_FILES * sizeof *p.files);
    if (collect(&p, paths, n) != PD_OK) {
        for (size_t i = 0; i < p.nfiles; i++)
            pdc_file_free(&p.files[i]);
        return 2;
    }
    p.states = pd_arena_zalloc(&r->a, p.nfiles * MAX_STEPS * sizeof *p.states);
    for (size_t i = 0; i < p.nfiles * MAX_STEPS; i++)
        p.states[i] = 2;
    r->tick = heartbeat;
    r->tick_arg = &p;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = play(&p);
    for (size_t i = 0; i < p.nfiles; i++) {
        if (p.files[i].ready)
            pdc_file_unready(r, &p.files[i], 0);
        pdc_file_free(&p.files[i]);
    }
    r->tick = NULL;
    return rc;
}
