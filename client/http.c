/*
 * http.c - podiamctl's HTTP client: libcurl for the transport, lib/sigv4/sigv4.c for
 * signing (the same code podiam verifies with), lib/xml/xml.c for query-protocol answers.
 *
 * Owns the curl handles (one per request, cleaned up before returning). Responses live in
 * the context's arena except the body buffer, which pdc_resp_free releases.
 */
#include "http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4/sigv4.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/str.h"
#include "crypto/hash.h"
#include "xml/xml.h"

#define PDC_MAX_BODY (64u << 20)

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

void pdc_ctx_init(struct pdc_ctx *c, const char *endpoint, const char *region, const char *ca_file)
{
    memset(c, 0, sizeof(*c));
    pd_arena_init(&c->arena);
    const char *ep = endpoint ? endpoint : env_or("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    size_t n = strlen(ep);
    while (n > 0 && ep[n - 1] == '/')
        n--;
    c->endpoint = pd_arena_strndup(&c->arena, ep, n);
    c->region = region ? region : env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"));
    c->akid = env_or("AWS_ACCESS_KEY_ID", "test");
    c->secret = env_or("AWS_SECRET_ACCESS_KEY", "test");
    c->token = env_or("AWS_SESSION_TOKEN", NULL);
    c->ca_file = ca_file; /* not AWS_CA_BUNDLE: it often names the system bundle */
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void pdc_ctx_cleanup(struct pdc_ctx *c)
{
    pd_arena_cleanup(&c->arena);
    curl_global_cleanup();
}

void pdc_resp_free(struct pdc_resp *r)
{
    pd_buf_free(&r->body);
}

struct sink {
    struct pdc_resp *r;
    struct pd_arena *a;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    return pd_buf_add(&s->r->body, p, size * n) == PD_OK ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = size * n;
    const char *colon = memchr(p, ':', len);
    if (!colon || len > 8192)
        return len;
    /* a new status line (redirects, 100-continue) starts a new header set */
    char *name = pd_arena_strndup(s->a, p, (size_t)(colon - p));
    const char *v = colon + 1;
    const char *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    pd_kvs_add(s->a, &s->r->headers, name, v, (size_t)(end - v), 1);
    return len;
}

int pdc_http(struct pdc_ctx *c, const struct pdc_req *q, struct pdc_resp *OUT)
{
    int rc = PD_OK;
    struct curl_slist *hl = NULL;
    memset(OUT, 0, sizeof(*OUT));
    pd_buf_init(&OUT->body, PDC_MAX_BODY);
    CURL *h = curl_easy_init();
    if (!h) {
        OUT->error = "curl_easy_init failed";
        return PD_EIO;
    }
    struct sink s = {OUT, &c->arena};
    curl_easy_setopt(h, CURLOPT_URL, q->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* Straight to podiam, whatever the proxy variables say: the ones `podiamctl env` exports
     * are for the clients it starts, and podiam's proxy would only lead back to podiam. */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
    if (strcmp(q->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (q->body || strcmp(q->method, "POST") == 0 || strcmp(q->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body ? q->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
    }
    hl = curl_slist_append(hl, "Expect:");
    int has_ctype = 0;
    for (size_t i = 0; q->headers && i < q->headers->n; i++) {
        const struct pd_kv *kv = &q->headers->v[i];
        if (pd_strcaseeq(kv->name, "content-type"))
            has_ctype = 1;
        char *line = pd_arena_printf(&c->arena, "%s: %s", kv->name, kv->value);
        hl = curl_slist_append(hl, line);
    }
    if (!has_ctype)
        hl = curl_slist_append(hl, "Content-Type:"); /* curl's form default is not ours */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (pd_has_prefix(q->url, "https:")) {
        if (q->insecure) {
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        } else {
            const char *pem = q->ca_pem;
            if (!pem && pdc_ca_pem(c, &pem) != PD_OK) {
                OUT->error = "cannot get podiam's CA certificate (/_podiam/ca.pem)";
                rc = PD_EIO;
                goto out;
            }
            struct curl_blob blob = {(void *)pem, strlen(pem), CURL_BLOB_COPY};
            curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
        }
    }
    if (c->verbose)
        fprintf(stderr, "> %s %s\n", q->method, q->url);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        OUT->error =
            pd_arena_printf(&c->arena, "%s %s: %s", q->method, q->url, curl_easy_strerror(cc));
        rc = PD_EIO;
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &OUT->status);
    if (c->verbose)
        fprintf(stderr, "< %ld (%zu bytes)\n", OUT->status, OUT->body.len);
out:
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return rc;
}

char *pdc_read_file(const char *path, size_t max, size_t *OUT_len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    struct pd_buf b;
    pd_buf_init(&b, max);
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        if (pd_buf_add(&b, tmp, n) != PD_OK)
            break;
    if (f != stdin)
        fclose(f);
    return pd_buf_steal(&b, OUT_len);
}

int pdc_ca_pem(struct pdc_ctx *c, const char **OUT_pem)
{
    if (c->ca_pem) {
        *OUT_pem = c->ca_pem;
        return PD_OK;
    }
    if (c->ca_file) {
        size_t n;
        char *p = pdc_read_file(c->ca_file, PDC_MAX_BODY, &n);
        if (!p)
            return PD_EIO;
        c->ca_pem = pd_arena_strdup(&c->arena, p);
        free(p);
        *OUT_pem = c->ca_pem;
        return PD_OK;
    }
    struct pdc_resp r;
    struct pdc_req q = {.method = "GET",
                        .url = pd_arena_printf(&c->arena, "%s/_podiam/ca.pem", c->endpoint),
                        .insecure = 1};
    int rc = pdc_http(c, &q, &r);
    if (rc == PD_OK && r.status == 200 && strstr(pd_buf_str(&r.body), "BEGIN CERTIFICATE")) {
        c->ca_pem = pd_arena_strdup(&c->arena, pd_buf_str(&r.body));
        *OUT_pem = c->ca_pem;
    } else {
        rc = PD_EIO;
    }
    pdc_resp_free(&r);
    return rc;
}

int pdc_admin(struct pdc_ctx *c, const char *method, const char *path, const char *body,
              struct pdc_resp *OUT_resp, void **OUT_json)
{
    struct pd_kvs hdrs = {0};
    if (body)
        pd_kvs_add(&c->arena, &hdrs, "Content-Type", "application/json", 16, 0);
    /* podiam refuses admin calls a web page could make (no custom header, no JSON body) */
    pd_kvs_add(&c->arena, &hdrs, "X-Podiam-Admin", "1", 1, 0);
    struct pdc_req q = {.method = method,
                        .url = pd_arena_printf(&c->arena, "%s/_podiam/%s", c->endpoint, path),
                        .headers = &hdrs,
                        .body = body,
                        .body_len = body ? strlen(body) : 0};
    int rc = pdc_http(c, &q, OUT_resp);
    if (OUT_json)
        *OUT_json = NULL;
    if (rc != PD_OK)
        return rc;
    if (OUT_json)
        *OUT_json =
            json_loadb(OUT_resp->body.p ? OUT_resp->body.p : "", OUT_resp->body.len, 0, NULL);
    if (OUT_resp->status == 404)
        return PD_ENOTFOUND;
    return OUT_resp->status / 100 == 2 ? PD_OK : PD_EINVAL;
}

const char *pdc_url_authority(struct pd_arena *a, const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    p += 3;
    size_t n = strcspn(p, "/?#");
    return pd_arena_strndup(a, p, n);
}

const char *pdc_enc(struct pdc_ctx *c, const char *s)
{
    return pd_url_encode(&c->arena, s, strlen(s), 0);
}

int pdc_aws(struct pdc_ctx *c, const struct pdc_signed *s, struct pdc_resp *OUT)
{
    struct pd_arena *a = &c->arena;
    struct pd_kvs hdrs = {0};
    const char *host = pdc_url_authority(a, c->endpoint);
    char amz[17];
    pd_time_amz((int64_t)time(NULL) * 1000, amz);
    char hash[65];
    pd_sha256_hex(s->body ? s->body : "", s->body ? s->body_len : 0, hash);
    const char *akid = s->akid ? s->akid : c->akid;
    const char *secret = s->akid ? s->secret : c->secret;
    const char *token = s->akid ? s->token : c->token;
    pd_kvs_add(a, &hdrs, "host", host, strlen(host), 0);
    pd_kvs_add(a, &hdrs, "x-amz-date", amz, strlen(amz), 0);
    pd_kvs_add(a, &hdrs, "x-amz-content-sha256", hash, strlen(hash), 0);
    if (s->content_type)
        pd_kvs_add(a, &hdrs, "content-type", s->content_type, strlen(s->content_type), 0);
    if (token)
        pd_kvs_add(a, &hdrs, "x-amz-security-token", token, strlen(token), 0);
    const char *region = strcmp(s->service, "iam") == 0 ? "us-east-1" : c->region;
    struct pd_sigv4_signer sg = {akid, secret, token, region, s->service, amz};
    struct pd_sigv4_request rq = {s->method, s->path, s->query,
                                  &hdrs,     hash,    strcmp(s->service, "s3") != 0};
    char *authz = NULL;
    int rc = pd_sigv4_sign_headers(a, &sg, &rq, NULL, 0, &authz, NULL);
    if (rc != PD_OK) {
        memset(OUT, 0, sizeof(*OUT));
        OUT->error = "cannot sign the request (malformed path or query)";
        return rc;
    }
    pd_kvs_add(a, &hdrs, "authorization", authz, strlen(authz), 0);
    struct pdc_req q = {.method = s->method,
                        .url = pd_arena_printf(a, "%s%s%s%s", c->endpoint, s->path,
                                               s->query && *s->query ? "?" : "",
                                               s->query ? s->query : ""),
                        .headers = &hdrs,
                        .body = s->body,
                        .body_len = s->body_len};
    return pdc_http(c, &q, OUT);
}

const char *pdc_xml_text(const struct pd_xml_node *n, const char *path)
{
    const char *p = path;
    while (n && *p) {
        size_t len = strcspn(p, "/");
        char name[128];
        if (len >= sizeof(name))
            return NULL;
        memcpy(name, p, len);
        name[len] = 0;
        n = pd_xml_child(n, name);
        p += len;
        if (*p == '/')
            p++;
    }
    return n ? n->text : NULL;
}

int pdc_query(struct pdc_ctx *c, const char *service, const char *version, const char *action,
              const char *params, int signed_, struct pdc_resp *OUT_resp,
              const struct pd_xml_node **OUT_result, const char **OUT_code,
              const char **OUT_message)
{
    struct pd_arena *a = &c->arena;
    const char *body = pd_arena_printf(a, "Action=%s&Version=%s%s%s", action, version,
                                       params && *params ? "&" : "", params ? params : "");
    const char *ctype = "application/x-www-form-urlencoded; charset=utf-8";
    int rc;
    *OUT_result = NULL;
    *OUT_code = *OUT_message = NULL;
    if (signed_) {
        struct pdc_signed s = {.service = service,
                               .method = "POST",
                               .path = "/",
                               .content_type = ctype,
                               .body = body,
                               .body_len = strlen(body)};
        rc = pdc_aws(c, &s, OUT_resp);
    } else {
        struct pd_kvs hdrs = {0};
        pd_kvs_add(a, &hdrs, "Content-Type", ctype, strlen(ctype), 0);
        struct pdc_req q = {.method = "POST",
                            .url = pd_arena_printf(a, "%s/", c->endpoint),
                            .headers = &hdrs,
                            .body = body,
                            .body_len = strlen(body)};
        rc = pdc_http(c, &q, OUT_resp);
    }
    if (rc != PD_OK) {
        *OUT_code = "TransportError";
        *OUT_message = OUT_resp->error;
        return PD_EIO;
    }
    struct pd_xml_node *root = NULL;
    if (pd_xml_parse(a, pd_buf_str(&OUT_resp->body), OUT_resp->body.len, &root, NULL) != PD_OK) {
        *OUT_code = "UnparsableResponse";
        *OUT_message =
            pd_arena_printf(a, "HTTP %ld: %.200s", OUT_resp->status, pd_buf_str(&OUT_resp->body));
        return PD_EINVAL;
    }
    if (OUT_resp->status / 100 != 2) {
        *OUT_code = pdc_xml_text(root, "Error/Code");
        *OUT_message = pdc_xml_text(root, "Error/Message");
        if (!*OUT_code)
            *OUT_code = pd_arena_printf(a, "HTTP%ld", OUT_resp->status);
        if (!*OUT_message)
            *OUT_message = "";
        return PD_EINVAL;
    }
    *OUT_result = pd_xml_child(root, pd_arena_printf(a, "%sResult", action));
    if (!*OUT_result)
        *OUT_result = root;
    return PD_OK;
}
