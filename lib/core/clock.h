/*
 * clock.h - the injectable clock every time check reads.
 *
 * Wall time plus an offset (set through the admin API to test expiry without waiting), or a
 * fixed instant (unit tests). Reads are lock-free. Also formats and parses the time shapes
 * AWS uses on the wire. Depends on libc only.
 */
#ifndef PD_CORE_CLOCK_H
#define PD_CORE_CLOCK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct pd_clock {
    _Atomic int64_t offset_ms; /* added to wall time */
    _Atomic int64_t fixed_ms;  /* when non-zero, the time is this, always */
};

void pd_clock_init(struct pd_clock *c);
int64_t pd_clock_now_ms(const struct pd_clock *c);
int64_t pd_clock_now(const struct pd_clock *c); /* seconds */
/* The time a client's own clock shows: wall time without the admin offset (or the fixed
 * instant). SigV4 compares X-Amz-Date with this, since clients sign with their own clock;
 * everything podiam issued (sessions, tokens, dates) ages by pd_clock_now_ms. */
int64_t pd_clock_wall_ms(const struct pd_clock *c);

/* The instant ms milliseconds from now on clock clk, for pthread_cond_timedwait (whose
 * condition variable must use the same clock). */
struct timespec pd_timespec_after_ms(clockid_t clk, int64_t ms);

/* ISO 8601 UTC: "2026-01-01T00:00:00Z" (ms == 0 omits the fraction, else ".123Z"). */
void pd_time_iso8601(int64_t ms, int with_ms, char out[32]);
/* SigV4 basic format: "20260101T000000Z". */
void pd_time_amz(int64_t ms, char out[17]);
/* RFC 7231 HTTP date: "Thu, 01 Jan 2026 00:00:00 GMT". */
void pd_time_http(int64_t ms, char out[30]);

/* Parse "YYYYMMDDTHHMMSSZ". Returns PD_OK or PD_EINVAL. */
int pd_time_parse_amz(const char *s, int64_t *OUT_ms);
/* Parse ISO 8601 ("YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)"), epoch seconds
 * ("1700000000" or with fraction) is not accepted here. Returns PD_OK or PD_EINVAL. */
int pd_time_parse_iso8601(const char *s, int64_t *OUT_ms);
/* Parse an RFC 7231 date. Returns PD_OK or PD_EINVAL. */
int pd_time_parse_http(const char *s, int64_t *OUT_ms);

/* Days from 1970-01-01 for a proleptic Gregorian date (no libc time zone involved). */
int64_t pd_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
