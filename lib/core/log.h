/*
 * log.h - one line per event on stderr, text or JSON.
 *
 * pd_log() tests the level before evaluating its arguments. The level and format are the
 * only mutable globals in podiam (set once at start, read everywhere). Secrets (secret keys,
 * session tokens, private keys, whole JWTs) must never be passed here.
 */
#ifndef PD_CORE_LOG_H
#define PD_CORE_LOG_H

enum pd_log_level { PD_LOG_ERROR = 0, PD_LOG_WARN, PD_LOG_INFO, PD_LOG_DEBUG };

extern int pd_log_level;
extern int pd_log_json; /* 1: one JSON object per line */

/* Parse "error|warn|info|debug". Returns PD_OK or PD_EINVAL. */
int pd_log_parse_level(const char *s, int *OUT_level);

void pd_log_write(int level, const char *reqid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define pd_log(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) <= pd_log_level)                                                               \
            pd_log_write((level), NULL, __VA_ARGS__);                                              \
    } while (0)

/* Same, prefixed with a request id (may be NULL). */
#define pd_log_req(level, reqid, ...)                                                              \
    do {                                                                                           \
        if ((level) <= pd_log_level)                                                               \
            pd_log_write((level), (reqid), __VA_ARGS__);                                           \
    } while (0)

#endif
