/* test_ctl_env.c - unit tests for client/clientenv.c's pure and file parts: shell quoting
 * (checked by a real /bin/sh reading the printed lines back), the variable set, atomic
 * writes and the cache directory's rules. The parts that talk to podiam are covered end to
 * end (tests/e2e/test_podiamctl_env.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clientenv.h"
#include "core/arena.h"
#include "core/err.h"

static void quote(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    assert_string_equal(pdc_shell_quote(&a, "http://127.0.0.1:4566"), "http://127.0.0.1:4566");
    assert_string_equal(pdc_shell_quote(&a, "arn:aws:iam::000000000000:role/s3-echoer"),
                        "arn:aws:iam::000000000000:role/s3-echoer");
    assert_string_equal(pdc_shell_quote(&a, "localhost,127.0.0.1,::1"), "localhost,127.0.0.1,::1");
    assert_string_equal(pdc_shell_quote(&a, ""), "''");
    assert_string_equal(pdc_shell_quote(&a, "a b"), "'a b'");
    assert_string_equal(pdc_shell_quote(&a, "it's"), "'it'\\''s'");
    assert_string_equal(pdc_shell_quote(&a, "$HOME"), "'$HOME'");
    assert_string_equal(pdc_shell_quote(&a, "`id`"), "'`id`'");
    assert_string_equal(pdc_shell_quote(&a, "a\nb"), "'a\nb'");
    pd_arena_cleanup(&a);
}

/* The printed lines, run by /bin/sh, give back exactly the values set, whatever they hold;
 * unset lines remove what the shell had. */
static void print_roundtrip(void **state)
{
    static const char *const values[] = {
        "plain",      "with space", "it's",        "'",  "''\\'", "$(touch /nonexistent/x)",
        "`id`; exit", "a\nb\tc",    "*?[a]{b,c}~", "-n", "#hash", "ünïcödé",
    };
    struct pd_arena a;
    pd_arena_init(&a);
    struct pdc_vars e = {0};
    char name[32];
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        snprintf(name, sizeof name, "PDC_T%zu", i);
        pdc_vars_set(&a, &e, name, values[i]);
    }
    pdc_vars_set(&a, &e, "PDC_GONE", NULL);
    pdc_vars_note(&a, &e, "a note\nover two lines; echo not-run");
    char dir[] = "/tmp/test_ctl_env-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char script[128], out[128];
    snprintf(script, sizeof script, "%s/env.sh", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    pdc_vars_print(f, &a, &e);
    /* print each variable NUL-terminated, so newlines in values survive */
    fputs("printf '%s\\0' \"${PDC_GONE-unset}\"", f);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        fprintf(f, " \"$PDC_T%zu\"", i);
    fputs("\n", f);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "PDC_GONE=was-set /bin/sh %s > %s", script, out);
    assert_int_equal(system(cmd), 0);
    size_t n = 0;
    char *got = pdc_read_file(out, 1 << 20, &n);
    assert_non_null(got);
    const char *p = got;
    assert_string_equal(p, "unset");
    p += strlen(p) + 1;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_true(p < got + n);
        assert_string_equal(p, values[i]);
        p += strlen(p) + 1;
    }
    assert_true(p == got + n);
    free(got);
    unlink(script);
    unlink(out);
    rmdir(dir);
    pd_arena_cleanup(&a);
}

static void vars_set_replaces(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    struct pdc_vars e = {0};
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "V%d", i);
        pdc_vars_set(&a, &e, name, name);
    }
    pdc_vars_set(&a, &e, "V3", NULL);
    pdc_vars_set(&a, &e, "V4", "four");
    assert_int_equal(e.n, 20);
    assert_null(pdc_vars_get(&e, "V3"));
    assert_string_equal(pdc_vars_get(&e, "V4"), "four");
    assert_string_equal(e.v[4].name, "V4"); /* replaced in place: the order stays */
    assert_string_equal(pdc_vars_get(&e, "V19"), "V19");
    assert_null(pdc_vars_get(&e, "nope"));
    pd_arena_cleanup(&a);
}

static void atomic_write(void **state)
{
    char dir[] = "/tmp/test_ctl_env-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/f.pem", dir);
    assert_int_equal(pdc_write_atomic(path, "one\n", 4, 0600), PD_OK);
    assert_int_equal(pdc_write_atomic(path, "second\n", 7, 0600), PD_OK);
    size_t n;
    char *got = pdc_read_file(path, 100, &n);
    assert_string_equal(got, "second\n");
    free(got);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* nothing left beside it */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) = 1", dir);
    assert_int_equal(system(cmd), 0);
    /* a directory that does not exist: an error, no file */
    snprintf(path, sizeof path, "%s/missing/f", dir);
    assert_int_equal(pdc_write_atomic(path, "x", 1, 0600), PD_EIO);
    snprintf(path, sizeof path, "%s/f.pem", dir);
    unlink(path);
    rmdir(dir);
}

static void cache_dir(void **state)
{
    struct pd_arena a;
    pd_arena_init(&a);
    char base[] = "/tmp/test_ctl_env-XXXXXX";
    assert_non_null(mkdtemp(base));
    char *saved_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    const char *dir, *err;

    /* XDG_CACHE_HOME first; made when missing, mode 0700 */
    char xdg[128];
    snprintf(xdg, sizeof xdg, "%s/xdg", base);
    setenv("XDG_CACHE_HOME", xdg, 1);
    assert_int_equal(pdc_cache_dir(&a, &dir, &err), PD_OK);
    assert_string_equal(dir, pd_arena_printf(&a, "%s/podiam", xdg));
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* again: it exists, fine */
    assert_int_equal(pdc_cache_dir(&a, &dir, &err), PD_OK);
    /* others may write to it: refused */
    chmod(dir, 0777);
    assert_int_equal(pdc_cache_dir(&a, &dir, &err), PD_EDENIED);
    assert_non_null(strstr(err, "others may write"));
    chmod(pd_arena_printf(&a, "%s/podiam", xdg), 0700);

    /* a relative XDG_CACHE_HOME is ignored (the XDG rule): HOME/.cache */
    setenv("XDG_CACHE_HOME", "relative", 1);
    setenv("HOME", base, 1);
    assert_int_equal(pdc_cache_dir(&a, &dir, &err), PD_OK);
    assert_string_equal(dir, pd_arena_printf(&a, "%s/.cache/podiam", base));

    /* a file where the directory should be: refused */
    unsetenv("XDG_CACHE_HOME");
    char home2[128];
    snprintf(home2, sizeof home2, "%s/h2", base);
    mkdir(home2, 0700);
    mkdir(pd_arena_printf(&a, "%s/.cache", home2), 0700);
    FILE *f = fopen(pd_arena_printf(&a, "%s/.cache/podiam", home2), "w");
    fclose(f);
    setenv("HOME", home2, 1);
    assert_int_equal(pdc_cache_dir(&a, &dir, &err), PD_EDENIED);

    if (saved_xdg)
        setenv("XDG_CACHE_HOME", saved_xdg, 1);
    if (saved_home)
        setenv("HOME", saved_home, 1);
    free(saved_xdg);
    free(saved_home);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    assert_int_equal(system(cmd), 0);
    pd_arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quote),
        cmocka_unit_test(print_roundtrip),
        cmocka_unit_test(vars_set_replaces),
        cmocka_unit_test(atomic_write),
        cmocka_unit_test(cache_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
