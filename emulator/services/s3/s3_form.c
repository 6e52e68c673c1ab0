/*
 * s3_form.c - the streaming multipart/form-data parser of POST Object (see s3_form.h).
 *
 * States: PREAMBLE (before the first delimiter; the body is read as if it began with CRLF,
 * so a body that starts with "--boundary" matches the same delimiter), AFTER (the two bytes
 * after a delimiter: "--" ends the body, CRLF begins a part; transport padding of spaces and
 * tabs before the CRLF is skipped), HEADERS (up to the empty line), VALUE (a field's
 * content), FILE (the file's content), DONE (after the file, or after the closing
 * delimiter: nothing more is read).
 */
#include "services/s3/s3_form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/str.h"

enum { S_PREAMBLE, S_AFTER, S_HEADERS, S_VALUE, S_FILE, S_DONE, S_FAILED };

enum pd_form_err pd_form_init(struct pd_form *f, const char *boundary, size_t max_fields,
                              const struct pd_form_cb *cb, void *ctx)
{
    memset(f, 0, sizeof *f);
    size_t bl = boundary ? strlen(boundary) : 0;
    if (!bl || bl > PD_FORM_MAX_BOUNDARY || strpbrk(boundary, "\r\n"))
        return PD_FORM_EMALFORMED;
    memcpy(f->delim, "\r\n--", 4);
    memcpy(f->delim + 4, boundary, bl);
    f->dlen = bl + 4;
    f->match = 2; /* the virtual CRLF before the first delimiter */
    f->cb = *cb;
    f->ctx = ctx;
    f->max_fields = max_fields;
    f->val = pd_xmalloc(max_fields + 1);
    f->state = S_PREAMBLE;
    return PD_FORM_OK;
}

void pd_form_cleanup(struct pd_form *f)
{
    free(f->val);
    f->val = NULL;
}

static enum pd_form_err fail(struct pd_form *f, enum pd_form_err e)
{
    f->state = S_FAILED;
    return e;
}

/* Content of the current part (not a delimiter): to the field's value or the file. */
static enum pd_form_err content(struct pd_form *f, const char *p, size_t n)
{
    if (!n)
        return PD_FORM_OK;
    if (f->state == S_FILE)
        return f->cb.file_data(f->ctx, p, n) ? fail(f, PD_FORM_ECALLBACK) : PD_FORM_OK;
    if (f->state == S_VALUE) {
        if (f->used + n > f->max_fields)
            return fail(f, PD_FORM_ETOOBIG);
        memcpy(f->val + f->vlen, p, n);
        f->vlen += n;
        f->used += n;
    }
    return PD_FORM_OK; /* the preamble is dropped */
}

/* The value of parameter name in a header value ('name="v"' or 'name=v'), copied to out, or
 * 0 when absent. */
static int param(const char *h, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = h; (p = strchr(p, ';')) != NULL;) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!pd_strncaseeq(p, name, nl) || p[nl] != '=')
            continue;
        p += nl + 1;
        size_t k = 0;
        if (*p == '"') {
            p++;
            /* no backslash escapes: browsers send a path's backslashes as they are */
            while (*p && *p != '"' && k + 1 < cap)
                out[k++] = *p++;
            if (*p != '"')
                return 0;
        } else {
            while (*p && *p != ';' && *p != ' ' && *p != '\t' && k + 1 < cap)
                out[k++] = *p++;
        }
        out[k] = '\0';
        return 1;
    }
    return 0;
}

/* The part's headers are complete (f->hdr, hlen bytes, ending in the empty line). */
static enum pd_form_err part_begins(struct pd_form *f)
{
    f->hdr[f->hlen] = '\0';
    char disp[PD_FORM_MAX_HEADER] = "", ctype[256] = "";
    int have_disp = 0, have_ctype = 0;
    for (char *line = f->hdr; *line;) {
        char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        *eol = '\0';
        char *colon = strchr(line, ':');
        if (colon) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            if (pd_strcaseeq(line, "content-disposition")) {
                snprintf(disp, sizeof disp, "%s", v);
                have_disp = 1;
            } else if (pd_strcaseeq(line, "content-type")) {
                size_t l = strlen(v);
                if (l >= sizeof ctype)
                    l = sizeof ctype - 1;
                memcpy(ctype, v, l);
                ctype[l] = '\0';
                have_ctype = 1;
            }
        }
        line = eol + 2;
    }
    if (!have_disp || !pd_strncaseeq(disp, "form-data", 9))
        return fail(f, PD_FORM_EMALFORMED);
    if (!param(disp, "name", f->name, sizeof f->name))
        return fail(f, PD_FORM_EMALFORMED);
    f->vlen = 0;
    if (pd_strcaseeq(f->name, "file")) {
        char fname[PD_FORM_MAX_HEADER];
        int have_fname = param(disp, "filename", fname, sizeof fname);
        f->state = S_FILE;
        f->file_seen = 1;
        if (f->cb.file_begin(f->ctx, have_fname ? fname : NULL, have_ctype ? ctype : NULL))
            return fail(f, PD_FORM_ECALLBACK);
        return PD_FORM_OK;
    }
    size_t nl = strlen(f->name);
    if (f->used + nl > f->max_fields)
        return fail(f, PD_FORM_ETOOBIG);
    f->used += nl;
    f->state = S_VALUE;
    return PD_FORM_OK;
}

/* A delimiter ended the current part (or the preamble). */
static enum pd_form_err part_ends(struct pd_form *f)
{
    if (f->state == S_VALUE) {
        f->val[f->vlen] = '\0';
        if (f->cb.field(f->ctx, f->name, f->val, f->vlen))
            return fail(f, PD_FORM_ECALLBACK);
    } else if (f->state == S_FILE) {
        f->state = S_DONE; /* S3 reads nothing after the file */
        return f->cb.file_end(f->ctx) ? fail(f, PD_FORM_ECALLBACK) : PD_FORM_OK;
    }
    f->state = S_AFTER;
    f->alen = 0;
    return PD_FORM_OK;
}

enum pd_form_err pd_form_feed(struct pd_form *f, const char *p, size_t n)
{
    enum pd_form_err e;
    size_t i = 0;
    while (i < n) {
        switch (f->state) {
        case S_DONE:
            return PD_FORM_OK;
        case S_FAILED:
            return PD_FORM_EMALFORMED;
        case S_AFTER: {
            char c = p[i++];
            if (f->alen == 0 && (c == ' ' || c == '\t'))
                continue; /* transport padding */
            f->after[f->alen++] = c;
            if (f->alen < 2)
                continue;
            if (f->after[0] == '-' && f->after[1] == '-') {
                f->state = S_DONE;
                return PD_FORM_OK;
            }
            if (f->after[0] != '\r' || f->after[1] != '\n')
                return fail(f, PD_FORM_EMALFORMED);
            f->state = S_HEADERS;
            f->hlen = 0;
            continue;
        }
        case S_HEADERS: {
            if (f->hlen + 1 >= sizeof f->hdr)
                return fail(f, PD_FORM_EMALFORMED);
            f->hdr[f->hlen++] = p[i++];
            if (f->hlen == 2 && f->hdr[0] == '\r' && f->hdr[1] == '\n')
                return fail(f, PD_FORM_EMALFORMED); /* a part without headers */
            if (f->hlen >= 4 && !memcmp(f->hdr + f->hlen - 4, "\r\n\r\n", 4)) {
                f->hlen -= 2; /* keep the last header's CRLF */
                if ((e = part_begins(f)) != PD_FORM_OK)
                    return e;
            }
            continue;
        }
        default:
            break;
        }
        /* PREAMBLE, VALUE, FILE: content up to the next delimiter */
        if (f->match == 0) {
            const char *cr = memchr(p + i, '\r', n - i);
            size_t run = cr ? (size_t)(cr - (p + i)) : n - i;
            if ((e = content(f, p + i, run)) != PD_FORM_OK)
                return e;
            i += run;
            if (i == n)
                break;
        }
        char c = p[i];
        if (c == f->delim[f->match]) {
            f->match++;
            i++;
            if (f->match == f->dlen) {
                f->match = 0;
                if ((e = part_ends(f)) != PD_FORM_OK)
                    return e;
            }
        } else {
            /* the bytes matched so far were content */
            if ((e = content(f, f->delim, f->match)) != PD_FORM_OK)
                return e;
            if (c == '\r') {
                f->match = 1;
                i++;
            } else {
                f->match = 0;
            }
        }
    }
    return PD_FORM_OK;
}

enum pd_form_err pd_form_finish(struct pd_form *f)
{
    if (f->state == S_FAILED)
        return PD_FORM_EMALFORMED;
    if (f->state != S_DONE)
        return f->file_seen ? PD_FORM_EMALFORMED : PD_FORM_ENOFILE;
    return f->file_seen ? PD_FORM_OK : PD_FORM_ENOFILE;
}

int pd_form_boundary(const char *ct, char *out, size_t cap)
{
    if (!ct || !pd_strncaseeq(ct, "multipart/form-data", 19))
        return 0;
    if (!param(ct, "boundary", out, cap) || !*out || strlen(out) > PD_FORM_MAX_BOUNDARY ||
        strpbrk(out, "\r\n"))
        return 0;
    return 1;
}
