/* fuzz_form.c - POST Object's multipart/form-data parser (services/s3/s3_form.c) on
 * arbitrary bytes split into arbitrary pieces: no crash, fields stay within their bound, the
 * file bytes delivered never exceed the input, and the same input in one piece and in many
 * gives the same fields and file. The first byte picks the piece size. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "services/s3/s3_form.h"

#define MAX_FIELDS 2048

struct seen {
    size_t fields, field_bytes;
    uint64_t file, file_sum;
    int begun, ended;
};

static int on_field(void *ctx, const char *name, const char *value, size_t vlen)
{
    struct seen *s = ctx;
    if (strlen(name) >= PD_FORM_MAX_NAME || vlen > MAX_FIELDS || value[vlen] != '\0')
        __builtin_trap();
    s->fields++;
    s->field_bytes += vlen;
    return 0;
}

static int on_begin(void *ctx, const char *filename, const char *ctype)
{
    struct seen *s = ctx;
    (void)filename;
    (void)ctype;
    if (s->begun)
        __builtin_trap(); /* one file */
    s->begun = 1;
    return 0;
}

static int on_data(void *ctx, const char *p, size_t n)
{
    struct seen *s = ctx;
    for (size_t i = 0; i < n; i++)
        s->file_sum = s->file_sum * 31 + (unsigned char)p[i];
    s->file += n;
    return 0;
}

static int on_end(void *ctx)
{
    ((struct seen *)ctx)->ended = 1;
    return 0;
}

static enum pd_form_err run(const uint8_t *data, size_t size, size_t step, struct seen *s)
{
    struct pd_form f;
    struct pd_form_cb cb = {on_field, on_begin, on_data, on_end};
    memset(s, 0, sizeof *s);
    if (pd_form_init(&f, "b0undary", MAX_FIELDS, &cb, s) != PD_FORM_OK)
        __builtin_trap();
    enum pd_form_err e = PD_FORM_OK;
    for (size_t off = 0; off < size && !e; off += step)
        e = pd_form_feed(&f, (const char *)data + off, size - off < step ? size - off : step);
    if (!e)
        e = pd_form_finish(&f);
    pd_form_cleanup(&f);
    if (s->file > size || s->field_bytes > MAX_FIELDS)
        __builtin_trap();
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = 1 + data[0] % 64;
    struct seen one, many;
    enum pd_form_err e1 = run(data + 1, size - 1, size, &one);
    enum pd_form_err e2 = run(data + 1, size - 1, step, &many);
    if (e1 != e2 || one.fields != many.fields || one.file != many.file ||
        one.file_sum != many.file_sum || one.ended != many.ended)
        __builtin_trap();
    char b[PD_FORM_MAX_BOUNDARY + 1];
    char ct[256];
    size_t n = size - 1 < sizeof ct - 1 ? size - 1 : sizeof ct - 1;
    memcpy(ct, data + 1, n);
    ct[n] = '\0';
    if (pd_form_boundary(ct, b, sizeof b) && (!*b || strlen(b) > PD_FORM_MAX_BOUNDARY))
        __builtin_trap();
    return 0;
}
