/* clock.c - injectable clock and AWS time formats (see clock.h). */
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"

void pd_clock_init(struct pd_clock *c)
{
    atomic_store(&c->offset_ms, 0);
    atomic_store(&c->fixed_ms, 0);
}

int64_t pd_clock_wall_ms(const struct pd_clock *c)
{
    int64_t fixed = atomic_load(&((struct pd_clock *)c)->fixed_ms);
    if (fixed)
        return fixed;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pd_clock_now_ms(const struct pd_clock *c)
{
    int64_t ms = pd_clock_wall_ms(c);
    if (atomic_load(&((struct pd_clock *)c)->fixed_ms))
        return ms;
    return ms + atomic_load(&((struct pd_clock *)c)->offset_ms);
}

int64_t pd_clock_now(const struct pd_clock *c)
{
    int64_t ms = pd_clock_now_ms(c);
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/* Howard Hinnant's civil-date algorithms, public domain math. */
int64_t pd_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

struct parts {
    int64_t y;
    unsigned mo, d, h, mi, s, ms, wday;
};

static void split(int64_t ms, struct parts *p)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    p->ms = (unsigned)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    civil_from_days(days, &p->y, &p->mo, &p->d);
    p->h = (unsigned)(rem / 3600);
    p->mi = (unsigned)(rem / 60 % 60);
    p->s = (unsigned)(rem % 60);
    p->wday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    /* Bound every field for the formatters (and the compiler's truncation analysis). */
    if (p->y < 0 || p->y > 9999)
        p->y = p->y < 0 ? 0 : 9999;
    p->mo %= 13;
    p->d %= 32;
    p->h %= 24;
    p->mi %= 60;
    p->s %= 61;
    p->ms %= 1000;
}

void pd_time_iso8601(int64_t ms, int with_ms, char out[32])
{
    struct parts p;
    split(ms, &p);
    if (with_ms)
        snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)p.y % 10000u, p.mo % 13u,
                 p.d % 32u, p.h % 24u, p.mi % 60u, p.s % 61u, p.ms % 1000u);
    else
        snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)p.y % 10000u, p.mo % 13u,
                 p.d % 32u, p.h % 24u, p.mi % 60u, p.s % 61u);
}

void pd_time_amz(int64_t ms, char out[17])
{
    struct parts p;
    split(ms, &p);
    snprintf(out, 17, "%04u%02u%02uT%02u%02u%02uZ", (unsigned)p.y % 10000u, p.mo % 13u, p.d % 32u,
             p.h % 24u, p.mi % 60u, p.s % 61u);
}

static const char *wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void pd_time_http(int64_t ms, char out[30])
{
    struct parts p;
    split(ms, &p);
    snprintf(out, 30, "%s, %02u %s %04u %02u:%02u:%02u GMT", wdays[p.wday % 7u], p.d % 32u,
             months[(p.mo + 11u) % 12u], (unsigned)p.y % 10000u, p.h % 24u, p.mi % 60u, p.s % 61u);
}

static int digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return PD_EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return PD_OK;
}

static int valid(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    return 1;
}

static int64_t to_ms(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    if (s == 60)
        s = 59; /* leap second: clamp */
    return (pd_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

int pd_time_parse_amz(const char *s, int64_t *OUT_ms)
{
    unsigned y, mo, d, h, mi, se;
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return PD_EINVAL;
    if (digits(s, 4, &y) || digits(s + 4, 2, &mo) || digits(s + 6, 2, &d) || digits(s + 9, 2, &h) ||
        digits(s + 11, 2, &mi) || digits(s + 13, 2, &se))
        return PD_EINVAL;
    if (!valid(y, mo, d, h, mi, se))
        return PD_EINVAL;
    *OUT_ms = to_ms(y, mo, d, h, mi, se);
    return PD_OK;
}

int pd_time_parse_iso8601(const char *s, int64_t *OUT_ms)
{
    unsigned y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
    size_t n = strlen(s);
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return PD_EINVAL;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d))
        return PD_EINVAL;
    const char *p = s + 10;
    int64_t tz_ms = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(p, 2, &h) || p[2] != ':' || digits(p + 3, 2, &mi))
            return PD_EINVAL;
        p += 5;
        if (*p == ':') {
            if (digits(p + 1, 2, &se))
                return PD_EINVAL;
            p += 3;
            if (*p == '.') {
                p++;
                int nd = 0;
                unsigned scale = 100;
                while (*p >= '0' && *p <= '9') {
                    if (nd < 3) {
                        frac += (unsigned)(*p - '0') * scale;
                        scale /= 10;
                    }
                    p++;
                    nd++;
                }
                if (nd == 0 || nd > 9)
                    return PD_EINVAL;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            unsigned th, tm;
            int sign = *p == '-' ? -1 : 1;
            if (digits(p + 1, 2, &th))
                return PD_EINVAL;
            if (p[3] == ':') {
                if (digits(p + 4, 2, &tm))
                    return PD_EINVAL;
                p += 6;
            } else {
                if (digits(p + 3, 2, &tm))
                    return PD_EINVAL;
                p += 5;
            }
            if (th > 23 || tm > 59)
                return PD_EINVAL;
            tz_ms = sign * (int64_t)(th * 3600 + tm * 60) * 1000;
        }
    }
    if (*p != '\0' || !valid(y, mo, d, h, mi, se))
        return PD_EINVAL;
    *OUT_ms = to_ms(y, mo, d, h, mi, se) + frac - tz_ms;
    return PD_OK;
}

int pd_time_parse_http(const char *s, int64_t *OUT_ms)
{
    /* "Thu, 01 Jan 2026 00:00:00 GMT" */
    unsigned d, y, h, mi, se;
    if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return PD_EINVAL;
    if (digits(s + 5, 2, &d) || digits(s + 12, 4, &y) || digits(s + 17, 2, &h) ||
        digits(s + 20, 2, &mi) || digits(s + 23, 2, &se))
        return PD_EINVAL;
    unsigned mo = 0;
    for (unsigned i = 0; i < 12; i++)
        if (strncmp(s + 8, months[i], 3) == 0)
            mo = i + 1;
    if (!mo || !valid(y, mo, d, h, mi, se))
        return PD_EINVAL;
    *OUT_ms = to_ms(y, mo, d, h, mi, se);
    return PD_OK;
}

struct timespec pd_timespec_after_ms(clockid_t clk, int64_t ms)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}
