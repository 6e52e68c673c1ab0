/*
 * http.h - podiamctl's HTTP client (libcurl) and its view of podiam: endpoint, region,
 * credentials, CA, and SigV4-signed AWS calls made with lib/sigv4/sigv4.h.
 *
 * Owns struct pdc_ctx (one per podiamctl run) and everything it allocates, in its arena.
 * Must not: log secrets; include microhttpd or sqlite (the client speaks only HTTP).
 */
#ifndef PDC_HTTP_H
#define PDC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/kv.h"

struct pd_xml_node;

/* One podiamctl run's view of podiam. */
struct pdc_ctx {
    struct pd_arena arena; /* everything below and every response */
    const char *endpoint;  /* "http://127.0.0.1:4566", no trailing '/' */
    const char *region;    /* "us-east-1" */
    const char *akid;      /* AWS_ACCESS_KEY_ID, default "test" */
    const char *secret;    /* AWS_SECRET_ACCESS_KEY, default "test" */
    const char *token;     /* AWS_SESSION_TOKEN or NULL */
    const char *ca_file;   /* --ca-file / AWS_CA_BUNDLE, or NULL */
    const char *ca_pem;    /* podiam's CA once known (fetched lazily), or NULL */
    int64_t clock_skew_ms; /* podiam's clock minus ours (from /_podiam/health), 0 unknown */
    int verbose;           /* -v: print each request on stderr */
};

/* An HTTP response. Strings arena-owned. */
struct pdc_resp {
    long status;           /* 0 when the request never got an answer */
    struct pd_kvs headers; /* names lower-cased */
    struct pd_buf body;    /* NUL-terminated; freed with the context (pdc_resp_free) */
    const char *error;     /* transport failure text, or NULL */
};

/* Fill c from the environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and defaults;
 * flags given (non-NULL) win. */
void pdc_ctx_init(struct pdc_ctx *c, const char *endpoint, const char *region, const char *ca_file);
void pdc_ctx_cleanup(struct pdc_ctx *c);

/* A request. ca_pem: PEM of the CA to trust for https (NULL: the context's). */
struct pdc_req {
    const char *method;
    const char *url;
    const struct pd_kvs *headers; /* may be NULL */
    const void *body;
    size_t body_len;
    const char *ca_pem;
    int insecure; /* 1: do not verify TLS (only to fetch podiam's CA itself) */
};

/* Send q. Returns PD_OK when an answer came (any status), PD_EIO with OUT->error otherwise. */
int pdc_http(struct pdc_ctx *c, const struct pdc_req *q, struct pdc_resp *OUT);
void pdc_resp_free(struct pdc_resp *r);

/* podiam's CA PEM: --ca-file/AWS_CA_BUNDLE when given, else GET /_podiam/ca.pem (over https
 * without verification: the CA is what verification needs). Cached. Returns PD_OK or
 * PD_EIO. */
int pdc_ca_pem(struct pdc_ctx *c, const char **OUT_pem);

/* GET/POST a path of podiam's own API (/_podiam/...). body NULL for GET. JSON answer parsed
 * into *OUT_json (new reference, NULL when the body is not JSON). Returns PD_OK (2xx),
 * PD_ENOTFOUND (404), PD_EIO (transport), PD_EINVAL (other status). */
int pdc_admin(struct pdc_ctx *c, const char *method, const char *path, const char *body,
              struct pdc_resp *OUT_resp, void **OUT_json);

/* A SigV4-signed request to the endpoint: service is the signing name ("iam", "sts", "eks",
 * "s3"); path raw (already encoded); query raw or NULL; body may be NULL. Credentials are
 * c's unless akid is given (akid, secret, token: temporary credentials). */
struct pdc_signed {
    const char *service, *method, *path, *query, *content_type;
    const void *body;
    size_t body_len;
    const char *akid, *secret, *token; /* NULL: the context's */
};
int pdc_aws(struct pdc_ctx *c, const struct pdc_signed *s, struct pdc_resp *OUT);

/* A query-protocol call (IAM, STS): POST / with form body "Action=...&Version=...&" + params
 * (already encoded). signed_ = 0 sends it without credentials (AssumeRoleWithWebIdentity).
 * On 2xx *OUT_result is the <ActionResult> element. On an AWS error, *OUT_code and
 * *OUT_message are set (arena) and PD_EINVAL is returned. PD_EIO on transport failure. */
int pdc_query(struct pdc_ctx *c, const char *service, const char *version, const char *action,
              const char *params, int signed_, struct pdc_resp *OUT_resp,
              const struct pd_xml_node **OUT_result, const char **OUT_code,
              const char **OUT_message);

/* Text of a child element by path "A/B/C" under n, or NULL. */
const char *pdc_xml_text(const struct pd_xml_node *n, const char *path);

/* Form-encode s (arena). */
const char *pdc_enc(struct pdc_ctx *c, const char *s);

/* The bytes of a file ("-": standard input) as a NUL-terminated string to free(), its length
 * in *OUT_len when not NULL; NULL when it does not open; "" when longer than max. */
char *pdc_read_file(const char *path, size_t max, size_t *OUT_len);

/* "host:port" part of a URL (arena), or NULL. */
const char *pdc_url_authority(struct pd_arena *a, const char *url);

#endif
