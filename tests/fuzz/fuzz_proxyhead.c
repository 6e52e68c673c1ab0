/*
 * fuzz_proxyhead.c - libFuzzer target: the proxy's request-head parser (server/proxy.c,
 * pd_proxy_parse_head) and its authority parser. Checks what the proxy thread relies on: a
 * parsed head ends with its empty line inside the input and the bytes before that end are
 * "more", never a head; CONNECT and absolute-form heads name a lower-case host of DNS
 * characters or an IP literal and a port in 1..65535; the authority parser agrees with itself
 * on the first line of the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "server/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_host(const char *host)
{
    size_t n = strlen(host);
    if (n == 0 || n > PD_PROXY_HOST_MAX)
        abort();
    for (size_t i = 0; i < n; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':'))
            abort(); /* ':' only in IPv6 literals, hex digits are lower case here */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct pd_proxy_head h;
    int rc = pd_proxy_parse_head(s, size, &h);
    if (rc == PD_OK) {
        if (h.head_len == 0 || h.head_len > size || s[h.head_len - 1] != '\n')
            abort();
        struct pd_proxy_head h2;
        if (pd_proxy_parse_head(s, h.head_len - 1, &h2) != PD_PROXY_MORE)
            abort();
        if (pd_proxy_parse_head(s, h.head_len, &h2) != PD_OK || h2.head_len != h.head_len)
            abort();
        if (!h.method[0] || (h.form != PD_PROXY_CONNECT && h.form != PD_PROXY_ABSOLUTE &&
                             h.form != PD_PROXY_ORIGIN))
            abort();
        if (h.form != PD_PROXY_ORIGIN) {
            check_host(h.host);
            if (h.port < 1 || h.port > 65535)
                abort();
            (void)pd_proxy_host_loopback(h.host);
        }
    } else if (rc != PD_PROXY_MORE && rc != PD_EINVAL) {
        abort();
    }
    /* the first line as an authority, with and without a port required */
    const char *nl = memchr(s, '\n', size);
    size_t n = nl ? (size_t)(nl - s) : size;
    char host[PD_PROXY_HOST_MAX + 1];
    int port = -1;
    if (pd_proxy_parse_authority(s, n, 80, 0, host, &port) == PD_OK) {
        check_host(host);
        if (port < 1 || port > 65535)
            abort();
        int port2 = -1;
        char host2[PD_PROXY_HOST_MAX + 1];
        int rc2 = pd_proxy_parse_authority(s, n, 80, 1, host2, &port2);
        if (rc2 == PD_OK && (strcmp(host, host2) != 0 || port2 != port))
            abort();
    }
    return 0;
}
