/*
 * dispatch.h - the request pipeline: route, decode, authenticate, authorize, run the
 * handler in a transaction, encode. The only module that knows every layer.
 *
 * server/ calls pd_dispatch_headers once the headers are in (a chance to refuse early, e.g.
 * a body over the bound), pd_dispatch_body for each piece of the body, and pd_dispatch at
 * the end; each fills r->resp for the server to send. Tests call the same functions on a
 * hand-made struct pd_req, without sockets.
 */
#ifndef PD_DISPATCH_H
#define PD_DISPATCH_H

#include <stddef.h>

struct pd_arena;
struct pd_req;
struct pd_env;

/* Set up what the pipeline needs once per process and start the services. Each service
 * model is loaded on its service's first request. Returns PD_OK or an error with a message
 * in *OUT_err (static). */
int pd_dispatch_init(struct pd_env *env, const char **OUT_err);
void pd_dispatch_cleanup(struct pd_env *env);

/* Load every embedded model and check each service's operation table against it (for the
 * tests: a failure on a first request would be a broken build). PD_OK or PD_EINTERNAL. */
int pd_dispatch_check_models(void);

/* Headers are complete. PD_OK to go on reading the body; otherwise r->resp holds a
 * response to send now. */
int pd_dispatch_headers(struct pd_req *r);
/* A piece of the body. PD_OK, or r->resp holds a response to send now. */
int pd_dispatch_body(struct pd_req *r, const char *p, size_t n);
/* The request is complete: run it. r->resp holds the response afterwards. */
void pd_dispatch(struct pd_req *r);

/* S3 bucket and key of a request from its Host header (virtual-host style; may be NULL)
 * and raw path (path style), decoded into arena strings; NULL when absent. PD_EINVAL for a
 * path that does not decode. Exposed for the fuzz target. */
int pd_dispatch_s3_address(struct pd_arena *a, const char *host, const char *path,
                           const char **OUT_bucket, const char **OUT_key);

#endif
