/*
 * str.h - small string helpers: bounded number parsing, percent-decoding, base64, case.
 *
 * Replaces atoi/strtok and friends (banned). Depends on libc and arena.h only.
 */
#ifndef PD_CORE_STR_H
#define PD_CORE_STR_H

#include <stddef.h>
#include <stdint.h>

struct pd_arena;

/* Whole-string decimal integer in [min, max]. Returns PD_OK or PD_EINVAL. */
int pd_parse_i64(const char *s, int64_t min, int64_t max, int64_t *OUT_v);

/* Percent-decode n bytes of s; '+' becomes ' ' when plus_is_space. Result is arena-owned and
 * NUL-terminated (embedded NULs are kept; *OUT_len says the length). Returns PD_OK or
 * PD_EINVAL on a bad escape. */
int pd_url_decode(struct pd_arena *a, const char *s, size_t n, int plus_is_space, char **OUT,
                  size_t *OUT_len);

/* Percent-encode for URIs: unreserved bytes (A-Z a-z 0-9 - _ . ~) stay, everything else is
 * %XX upper-case; '/' stays when keep_slash. Arena-owned. */
char *pd_url_encode(struct pd_arena *a, const char *s, size_t n, int keep_slash);

/* The value of a hexadecimal digit (either case), or -1. */
int pd_hexval(int c);

/* base64 (RFC 4648). url = 1 uses the URL alphabet without padding. Arena-owned. */
char *pd_base64_encode(struct pd_arena *a, const void *p, size_t n, int url);
/* Decode standard or URL alphabet, padding optional; rejects anything else. */
int pd_base64_decode(struct pd_arena *a, const char *s, size_t n, unsigned char **OUT,
                     size_t *OUT_len);

int pd_strcaseeq(const char *a, const char *b); /* ASCII case-insensitive equality */
int pd_strncaseeq(const char *a, const char *b, size_t n);
int pd_has_prefix(const char *s, const char *prefix);
void pd_lower(char *s); /* ASCII, in place */

/* Is s valid UTF-8 (no overlongs, no surrogates)? */
int pd_utf8_valid(const char *s, size_t n);

/* text cut to at most max bytes (max > 64), keeping its start and its end around a marker
 * "[… N bytes cut …]", never inside a UTF-8 sequence: a new string to free (a copy when it
 * fits). For outputs shown with bounded sizes (the console's scenario player). */
char *pd_cut_middle(const char *text, size_t max);

#endif
