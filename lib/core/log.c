/* log.c - stderr logger (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "err.h"

int pd_log_level = PD_LOG_INFO;
int pd_log_json = 0;

static const char *names[] = {"error", "warn", "info", "debug"};

int pd_log_parse_level(const char *s, int *OUT_level)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *OUT_level = i;
            return PD_OK;
        }
    }
    if (strcmp(s, "warning") == 0) {
        *OUT_level = PD_LOG_WARN;
        return PD_OK;
    }
    return PD_EINVAL;
}

static void json_str(struct pd_buf *b, const char *s)
{
    pd_buf_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            pd_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            pd_buf_printf(b, "\\u%04x", c);
        else
            pd_buf_addc(b, (char)c);
    }
    pd_buf_addc(b, '"');
}

void pd_log_write(int level, const char *reqid, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[32];
    pd_time_iso8601((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, 1, when);
    if (level < 0 || level > PD_LOG_DEBUG)
        level = PD_LOG_ERROR;

    struct pd_buf b;
    pd_buf_init(&b, 0);
    if (pd_log_json) {
        pd_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\"", when, names[level]);
        if (reqid) {
            pd_buf_adds(&b, ",\"request_id\":");
            json_str(&b, reqid);
        }
        pd_buf_adds(&b, ",\"msg\":");
        json_str(&b, msg);
        pd_buf_adds(&b, "}\n");
    } else {
        pd_buf_printf(&b, "%s %-5s %s%s%s\n", when, names[level], reqid ? reqid : "",
                      reqid ? " " : "", msg);
    }
    fwrite(pd_buf_str(&b), 1, b.len, stderr); /* one write per line: lines never interleave */
    pd_buf_free(&b);
}
