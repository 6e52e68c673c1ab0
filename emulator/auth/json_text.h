/*
 * json_text.h - compact JSON text of a jansson value, written fast.
 *
 * The same bytes as json_dumps(v, JSON_COMPACT), in one growing buffer and with strings
 * copied in runs. jansson's own writer escapes a character at a time through a callback and
 * grows its buffer from 16 bytes; on the paths that write JSON on every request (the decision
 * log, session tokens) it cost more than the decision itself. It lives in auth/, their
 * layer, which services/ may include too.
 */
#ifndef PD_AUTH_JSON_TEXT_H
#define PD_AUTH_JSON_TEXT_H

#include <jansson.h>

struct pd_buf;

/* Append the text of v to b. PD_OK, PD_ETOOBIG (b's bound), or PD_EINVAL (a value nested
 * deeper than 2048, or a NULL one). */
int pd_json_text(struct pd_buf *b, const json_t *v);

/* The text of v as a NUL-terminated string to free(), or NULL (PD_EINVAL above). */
char *pd_json_dumps(const json_t *v);

#endif
