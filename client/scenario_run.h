/*
 * scenario_run.h - what `podiamctl scenario` (scenario_run.c) shares with its console player
 * (scenario_console.c): the runner's settings, one scenario file made ready to run (its work
 * directory, variables, podiam when --start), and running one step with its report.
 */
#ifndef PDC_SCENARIO_RUN_H
#define PDC_SCENARIO_RUN_H

#include <limits.h>
#include <sys/types.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/kv.h"
#include "scenario.h"

#define MAX_CAPTURE (256u << 20) /* bound on a step's captured output or the server log read */

struct runner {
    struct pd_arena a;
    const char *self;     /* this podiamctl, absolute */
    const char *start;    /* --start PODIAM, or NULL */
    const char *endpoint; /* --endpoint */
    const char *tls_endpoint;
    const char *region;
    int keep_going, keep_work, verbose;
    struct pd_kvs extra; /* --var NAME=VALUE */
    /* called every few seconds while a step's command runs (the console player's
       heartbeat), or NULL */
    void (*tick)(void *arg);
    void *tick_arg;
};

struct podiam_proc {
    pid_t pid;
    const char *endpoint, *tls_endpoint;
};

/* One scenario file, parsed and ready to run (pdc_file_open) until pdc_file_close. */
struct file_run {
    const char *file;
    struct pdc_scenario sc;
    const char *dir; /* the file's directory, absolute (each step's working directory) */
    char work[PATH_MAX];
    struct podiam_proc proc;
    struct pd_kvs vars;
    const char *skip_why; /* the file's skip_unless failed: every step is skipped */
    int ready;            /* work directory made, variables set */
};

/* What a step did, for the console player. */
struct step_report {
    struct pd_buf text; /* "$ command", its standard output, then its standard error */
    struct pd_buf why;  /* why it failed or was skipped, or empty */
    double secs;
};

double pdc_now_s(void);

/* Parse FILE (printing why it cannot), without making it ready. PD_OK or PD_EINVAL. */
int pdc_file_parse(struct runner *r, const char *file, struct file_run *OUT);
/* Make a parsed file ready: work directory, podiam (--start), its CA, the variables, the
 * file's skip_unless probe. PD_OK or PD_EIO (podiam did not start, no work directory). */
int pdc_file_ready(struct runner *r, struct file_run *f);
/* Stop its podiam and remove its work directory (kept with --keep-work); the file stays
 * parsed (ready again with pdc_file_ready). Returns podiam's exit status (0 without one). */
int pdc_file_unready(struct runner *r, struct file_run *f, int failed);
void pdc_file_free(struct file_run *f);

/* Run step idx of a ready file, printing its line. rep (or NULL) gets what it did.
 * Returns 1 passed, 0 failed, -1 skipped. */
int pdc_run_step(struct runner *r, struct file_run *f, size_t idx, struct step_report *rep);

/* `podiamctl scenario --console`: scenario_console.c. */
int pdc_scenario_console(struct runner *r, char **paths, int n);

#endif
