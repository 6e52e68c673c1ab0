/*
 * regex.h - the pattern matcher for the service models' `pattern` constraints.
 *
 * The models carry Java regular expressions ([\w+=,.@-]+, \u0020-\u00FF ranges, \p{L}, (?!-),
 * alternation, {m,n}); AWS validates with whole-string matching (Java's matches()). This is a
 * small backtracking matcher for exactly that subset over UTF-8 text: literals, '.', classes
 * with ranges and negation, \w \d \s \W \D \S \p{L} \p{N} \p{Z}, \uXXXX, groups ( ) (?: ),
 * look-ahead (?= ) (?! ), alternation, quantifiers * + ? {n} {n,} {n,m} (greedy), ^ and $.
 * A step budget bounds every match. Compiled patterns live in the caller's arena and are
 * immutable, so threads may share them. Depends on core/arena only.
 */
#ifndef PD_PROTO_REGEX_H
#define PD_PROTO_REGEX_H

#include <stddef.h>
#include <stdint.h>

struct pd_arena;
struct pd_regex;

/* Compile pattern. Returns PD_OK, or PD_EINVAL for syntax outside the subset (the caller then
 * skips that constraint). *OUT lives in a. */
int pd_regex_compile(struct pd_arena *a, const char *pattern, struct pd_regex **OUT);

/* Does the whole of s (n bytes of valid UTF-8) match? 1 yes, 0 no, -1 the step budget ran out
 * (the caller decides; the codecs treat it as a match rather than reject valid input). */
int pd_regex_match(const struct pd_regex *re, const char *s, size_t n);

/* Is code point cp in Unicode general category cat ('L', 'N' or 'Z')? (uniclass.c) */
int pd_uniclass_is(char cat, uint32_t cp);

#endif
