/*
 * buf.h - growable byte buffer with a size cap.
 *
 * Embedded in its owner (struct pd_buf b; pd_buf_init(&b, cap)). Appends past the cap fail
 * with PD_ETOOBIG and leave the buffer freed and empty, so a caller can stop reading a body
 * the moment it is too big. The contents are always NUL-terminated (not counted in len),
 * so text can be used as a C string. Depends on libc only.
 */
#ifndef PD_CORE_BUF_H
#define PD_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct pd_buf {
    char *p;    /* bytes, NUL-terminated; NULL while empty */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    size_t max; /* bound on len; 0 = unbounded */
};

void pd_buf_init(struct pd_buf *b, size_t max);
void pd_buf_free(struct pd_buf *b);
void pd_buf_reset(struct pd_buf *b); /* len = 0, keeps memory */

/* Make room for n more bytes without appending any. PD_OK or PD_ETOOBIG (then the buffer
 * is freed). To fill the room in place: write at b->p + b->len, then pd_buf_commit. */
int pd_buf_reserve(struct pd_buf *b, size_t n);
/* Count n bytes written in reserved room as appended (n at most what was reserved). */
void pd_buf_commit(struct pd_buf *b, size_t n);

/* Append bytes. Returns PD_OK or PD_ETOOBIG (then the buffer is freed). */
int pd_buf_add(struct pd_buf *b, const void *p, size_t n);
int pd_buf_adds(struct pd_buf *b, const char *s);
int pd_buf_addc(struct pd_buf *b, char c);
int pd_buf_printf(struct pd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pd_buf_vprintf(struct pd_buf *b, const char *fmt, va_list ap);

/* Append s with XML escaping of & < > " ' and control characters. */
int pd_buf_add_xml(struct pd_buf *b, const char *s, size_t n);

/* Append s (UTF-8) as a quoted JSON string, escaped as jansson writes it with no flags:
 * \" \\ \b \f \n \r \t, other bytes below 0x20 as \u00XX, everything else as is. */
int pd_buf_add_json_str(struct pd_buf *b, const char *s, size_t n);

/* Give the bytes away (caller frees with free()); the buffer becomes empty. Never NULL. */
char *pd_buf_steal(struct pd_buf *b, size_t *len);

/* Text view: never NULL ("" when empty). */
const char *pd_buf_str(const struct pd_buf *b);

#endif
