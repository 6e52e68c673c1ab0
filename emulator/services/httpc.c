/*
 * httpc.c - the bounded outbound GET (see httpc.h), on libcurl.
 *
 * libcurl rather than a hand-made client: TLS with the system's CA store, certificate and
 * host name checks, IPv6, timeouts and size limits are its everyday work, and podiamctl
 * already links it. The CA file given by --oidc-ca-file is added to the system CAs by
 * giving curl one blob of both (CURLOPT_CAINFO_BLOB), so a local issuer with its own CA and
 * a public one both verify.
 */
#include "services/httpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"

#define MAX_CA_BYTES (8u << 20)

void pd_httpc_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void pd_httpc_global_cleanup(void)
{
    curl_global_cleanup();
}

/* host of url (scheme://host[:port]/...), lower-cased, brackets kept; or "" */
static void url_host(const char *url, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = strstr(url, "://");
    if (!p)
        return;
    p += 3;
    size_t n;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        if (!e)
            return;
        n = (size_t)(e - p) + 1;
    } else {
        n = strcspn(p, ":/?#");
    }
    if (n >= cap || memchr(p, '@', n))
        return;
    memcpy(out, p, n);
    out[n] = '\0';
    pd_lower(out);
}

int pd_httpc_is_loopback_http(const char *url)
{
    if (!url || !pd_has_prefix(url, "http://"))
        return 0;
    char host[256];
    url_host(url, host, sizeof host);
    if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
        return 1;
    /* 127.0.0.0/8 as a dotted quad */
    unsigned a, b, c, d;
    char tail;
    return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

struct sink {
    struct pd_buf *body;
    int too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    if (pd_buf_add(s->body, p, n) != PD_OK) {
        s->too_big = 1;
        return 0; /* stops the transfer */
    }
    return n;
}

/* The system CA bundle curl uses plus the file, as one PEM blob (malloc'd), or NULL. */
static char *ca_blob(CURL *h, const char *extra, size_t *OUT_len)
{
    struct pd_buf b;
    pd_buf_init(&b, MAX_CA_BYTES);
    char *sys = NULL;
    curl_easy_getinfo(h, CURLINFO_CAINFO, &sys);
    const char *files[2] = {sys, extra};
    for (int i = 0; i < 2; i++) {
        if (!files[i])
            continue;
        FILE *f = fopen(files[i], "rb");
        if (!f)
            continue;
        char chunk[8192];
        size_t n;
        int rc = PD_OK;
        while (rc == PD_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
            rc = pd_buf_add(&b, chunk, n);
        fclose(f);
        if (rc != PD_OK || pd_buf_addc(&b, '\n') != PD_OK)
            return NULL; /* too large: the buffer freed itself */
    }
    if (!b.len) {
        pd_buf_free(&b);
        return NULL;
    }
    return pd_buf_steal(&b, OUT_len);
}

int pd_httpc_get(const struct pd_httpc_opts *o, const char *url, struct pd_buf *OUT_body,
                 enum pd_httpc_fail *OUT_fail, char *why, size_t why_len)
{
    *OUT_fail = PD_HTTPC_OK;
    if (why_len)
        why[0] = '\0';
    int http = o->allow_http_loopback && pd_httpc_is_loopback_http(url);
    if (!url || (!pd_has_prefix(url, "https://") && !http) || strchr(url, ' ') ||
        strlen(url) > 2048) {
        *OUT_fail = PD_HTTPC_URL;
        snprintf(why, why_len, "%s",
                 pd_has_prefix(url ? url : "", "http://")
                     ? "plain http is allowed only to loopback addresses, with "
                       "--oidc-http-loopback on"
                     : "not an https URL");
        return PD_EINVAL;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        *OUT_fail = PD_HTTPC_CONNECT;
        snprintf(why, why_len, "cannot make an HTTP client");
        return PD_EIO;
    }
    struct sink s = {.body = OUT_body};
    char errbuf[CURL_ERROR_SIZE] = "";
    char *blob = NULL;
    size_t blob_len = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, http ? "http" : "https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "podiam-sts/" PD_VERSION);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "identity");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (o->ca_file && (blob = ca_blob(h, o->ca_file, &blob_len)) != NULL) {
        struct curl_blob cb = {.data = blob, .len = blob_len, .flags = CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &cb);
    }
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    free(blob);
    if (s.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        *OUT_fail = PD_HTTPC_TOO_BIG;
        snprintf(why, why_len, "the document is larger than %zu bytes", o->max_bytes);
        return PD_EIO;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        *OUT_fail = PD_HTTPC_TIMEOUT;
        snprintf(why, why_len, "no complete answer within %d ms", o->timeout_ms);
        return PD_EIO;
    }
    if (cc != CURLE_OK) {
        *OUT_fail = PD_HTTPC_CONNECT;
        snprintf(why, why_len, "%s", *errbuf ? errbuf : curl_easy_strerror(cc));
        return PD_EIO;
    }
    if (status != 200) {
        *OUT_fail = PD_HTTPC_STATUS;
        snprintf(why, why_len, "HTTP status %ld", status);
        return PD_EIO;
    }
    return PD_OK;
}
