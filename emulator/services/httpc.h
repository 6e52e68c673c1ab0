/*
 * httpc.h - podiam's one outbound HTTP client: a bounded GET, for fetching an external OIDC
 * issuer's discovery document and keys (services/oidc_remote.c), as STS fetches them.
 *
 * Owns libcurl: this module's httpc.c is the only file that includes <curl/curl.h>. A GET is
 * https only (http to a loopback address when the caller allows it), never follows
 * redirects, never uses a proxy, trusts the system CAs plus an optional CA file, and is
 * bounded in time (the whole transfer) and in size (the body). Thread-safe: every call has
 * its own handle. Must not: log bodies or URLs' query strings (none are sent).
 */
#ifndef PD_SERVICES_HTTPC_H
#define PD_SERVICES_HTTPC_H

#include <stddef.h>

struct pd_buf;

struct pd_httpc_opts {
    const char *ca_file;     /* more CAs (PEM) besides the system's, or NULL */
    int allow_http_loopback; /* http:// to 127.0.0.0/8, [::1] or localhost is allowed */
    int timeout_ms;          /* bound on the whole transfer (connect included) */
    size_t max_bytes;        /* bound on the body */
};

enum pd_httpc_fail {
    PD_HTTPC_OK = 0,
    PD_HTTPC_URL,     /* not an https URL (or an allowed loopback http one), or malformed */
    PD_HTTPC_CONNECT, /* name, connection or TLS failure (an untrusted certificate) */
    PD_HTTPC_TIMEOUT, /* longer than timeout_ms */
    PD_HTTPC_TOO_BIG, /* body over max_bytes */
    PD_HTTPC_STATUS,  /* an answer other than 200 */
};

/* Once per process before any pd_httpc_get (curl_global_init), and its pair. */
void pd_httpc_global_init(void);
void pd_httpc_global_cleanup(void);

/* Is url http:// to a loopback address (127.0.0.0/8, [::1], localhost)? 1 / 0. */
int pd_httpc_is_loopback_http(const char *url);

/* GET url. On PD_OK *OUT_body (initialised by the caller, bounded by it too) holds the body
 * of a 200 answer. On failure returns PD_EIO (PD_EINVAL for a refused URL) and sets *OUT_fail
 * and why (a short English phrase, NUL-terminated, for logs and decision traces). */
int pd_httpc_get(const struct pd_httpc_opts *o, const char *url, struct pd_buf *OUT_body,
                 enum pd_httpc_fail *OUT_fail, char *why, size_t why_len);

#endif
