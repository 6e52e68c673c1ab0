/*
 * cron.c - CronJob schedules: five fields (minute hour day-of-month month day-of-week) with
 * `*`, numbers, ranges `a-b`, steps `/n`, lists `a,b`, month and weekday names, and the
 * macros @yearly @annually @monthly @weekly @daily @midnight @hourly; times are UTC on
 * podiam's clock. Pure; the schedule is bounded (PD_K8S_CRON_MAX).
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/err.h"
#include "k8s/internal.h"

struct cron {
    uint64_t min;  /* bits 0..59 */
    uint32_t hour; /* 0..23 */
    uint32_t dom;  /* 1..31 */
    uint32_t mon;  /* 1..12 */
    uint32_t dow;  /* 0..6 (7 is Sunday too) */
    int dom_star, dow_star;
};

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* A number or a name of the field, from *p; -1 when none. */
static int value(const char **p, int field)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        int v = 0;
        while (isdigit((unsigned char)*s)) {
            v = v * 10 + (*s - '0');
            if (v > 1000)
                return -1;
            s++;
        }
        *p = s;
        return v;
    }
    const char *const *names = field == 3 ? months : field == 4 ? days : NULL;
    size_t n = field == 3 ? 12 : 7;
    if (!names)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strncasecmp(s, names[i], 3) == 0) {
            *p = s + 3;
            return (int)i + (field == 3 ? 1 : 0);
        }
    return -1;
}

/* One field (len bytes at s) into *bits; lo..hi the range. 0 / -1. */
static int field(const char *s, size_t len, int f, int lo, int hi, uint64_t *bits, int *star)
{
    char buf[128];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *bits = 0;
    *star = strcmp(buf, "*") == 0 || strcmp(buf, "?") == 0;
    const char *p = buf;
    for (;;) {
        int a, b, step = 1;
        if (*p == '*' || *p == '?') {
            a = lo;
            b = hi;
            p++;
        } else {
            if ((a = value(&p, f)) < 0)
                return -1;
            b = a;
            if (*p == '-') {
                p++;
                if ((b = value(&p, f)) < 0)
                    return -1;
            }
        }
        if (*p == '/') {
            p++;
            if (!isdigit((unsigned char)*p) || (step = value(&p, 0)) <= 0)
                return -1;
            if (a == b)
                b = hi;
        }
        if (f == 4 && b == 7 && a <= 7) { /* 7 is Sunday */
            *bits |= 1;
            if (a == 7)
                a = b = 0, step = 1;
            else
                b = 6;
        }
        if (a < lo || b > hi || a > b)
            return -1;
        for (int v = a; v <= b; v += step)
            *bits |= (uint64_t)1 << v;
        if (*p == ',') {
            p++;
            continue;
        }
        return *p ? -1 : 0;
    }
}

static int parse(const char *sched, struct cron *c)
{
    static const struct {
        const char *name, *spec;
    } macros[] = {{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
                  {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
                  {"@hourly", "0 * * * *"}};
    if (!sched || strlen(sched) > PD_K8S_CRON_MAX)
        return -1;
    if (strncmp(sched, "TZ=", 3) == 0 || strncmp(sched, "CRON_TZ=", 8) == 0)
        return -1; /* kube refuses these too (spec.timeZone instead) */
    for (size_t i = 0; i < sizeof macros / sizeof *macros; i++)
        if (strcmp(sched, macros[i].name) == 0)
            sched = macros[i].spec;
    const char *s[5];
    size_t l[5];
    int n = 0;
    const char *p = sched;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (n == 5)
            return -1;
        s[n] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        l[n] = (size_t)(p - s[n]);
        n++;
    }
    if (n != 5)
        return -1;
    uint64_t b;
    int star;
    if (field(s[0], l[0], 0, 0, 59, &b, &star))
        return -1;
    c->min = b;
    if (field(s[1], l[1], 1, 0, 23, &b, &star))
        return -1;
    c->hour = (uint32_t)b;
    if (field(s[2], l[2], 2, 1, 31, &b, &c->dom_star))
        return -1;
    c->dom = (uint32_t)b;
    if (field(s[3], l[3], 3, 1, 12, &b, &star))
        return -1;
    c->mon = (uint32_t)b;
    if (field(s[4], l[4], 4, 0, 7, &b, &c->dow_star))
        return -1;
    c->dow = (uint32_t)b & 0x7f;
    return 0;
}

int pd_k8s_cron_check(const char *sched)
{
    struct cron c;
    return parse(sched, &c) ? PD_EINVAL : PD_OK;
}

int pd_k8s_cron_next(const char *sched, int64_t after_ms, int64_t *OUT_ms)
{
    struct cron c;
    if (parse(sched, &c))
        return PD_EINVAL;
    time_t t = (time_t)(after_ms / 1000);
    t = t - t % 60 + 60; /* the next whole minute */
    /* at most 5 years of minutes, skipping whole hours and days that cannot match */
    for (int guard = 0; guard < 5 * 366 * 24 * 60; guard++) {
        struct tm tm;
        gmtime_r(&t, &tm);
        int dom_ok = (c.dom >> tm.tm_mday) & 1, dow_ok = (c.dow >> tm.tm_wday) & 1;
        /* cron: when both day fields are restricted, either may match */
        int day = c.dom_star || c.dow_star ? dom_ok && dow_ok : dom_ok || dow_ok;
        if (!((c.mon >> (tm.tm_mon + 1)) & 1) || !day) {
            t += 86400 - (tm.tm_hour * 3600 + tm.tm_min * 60);
            continue;
        }
        if (!((c.hour >> tm.tm_hour) & 1)) {
            t += 3600 - tm.tm_min * 60;
            continue;
        }
        if (!((c.min >> tm.tm_min) & 1)) {
            t += 60;
            continue;
        }
        *OUT_ms = (int64_t)t * 1000;
        return PD_OK;
    }
    return PD_ENOTFOUND;
}
