/*
 * proto.h - internal to proto/: what the protocol files share with codec.c and each other.
 *
 * The public API is codec.h; nothing outside proto/ includes this header.
 */
#ifndef PD_PROTO_PROTO_H
#define PD_PROTO_PROTO_H

#include <jansson.h>

#include "proto/codec.h"
#include "proto/walk.h"
#include "xml/xml.h"

/* Append a response header (name and value copied into a). */
void pd_proto_header(struct pd_arena *a, struct pd_http_response *r, const char *name,
                     const char *value);

/* query.c */
/* The parameters of a query-protocol request (query string, then a form body), decoded.
 * Returns PD_OK, PD_EINVAL (bad percent-encoding) or PD_ETOOBIG (more than
 * PD_QUERY_MAX_PARAMS parameters, counted before anything is decoded). */
int pd_query_params(struct pd_arena *a, const struct pd_http_request *rq, struct pd_kvs *OUT);
int pd_query_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                    const json_t *out, const char *request_id, struct pd_http_response *OUT);
int pd_query_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                          const struct pd_aws_fault *f, const char *request_id,
                          struct pd_http_response *OUT);

/* restjson.c: body source and rendering */
extern const struct wsrc pd_restjson_src;
void pd_restjson_node(struct wnode *n, const json_t *v);
int pd_restjson_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                       const json_t *out, const char *request_id, struct pd_http_response *OUT);
int pd_restjson_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                             const struct pd_aws_fault *f, const char *request_id,
                             struct pd_http_response *OUT);

/* restxml.c: body source and rendering */
extern const struct wsrc pd_restxml_src;
void pd_restxml_node(struct wnode *n, const struct pd_xml_node *el);
int pd_restxml_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                      const json_t *out, const char *request_id, struct pd_http_response *OUT);
int pd_restxml_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                            const struct pd_aws_fault *f, const char *request_id,
                            struct pd_http_response *OUT);

/* An upper bound on the number of values in a JSON text, counted without parsing it: one
 * for the text, one more per '[', '{' and ',' outside strings (rest.c). Checked against
 * PD_JSON_MAX_VALUES before a body is parsed. */
size_t pd_proto_json_values(const char *s, size_t n);

/* awsjson.c: awsJson1_0 / awsJson1_1 (Organizations) */
int pd_awsjson_route(const struct pd_spec *spec, struct pd_arena *a,
                     const struct pd_http_request *rq, const struct pd_spec_op **OUT_op,
                     struct pd_codec_error *OUT_err);
int pd_awsjson_decode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                      const struct pd_http_request *rq, json_t **OUT_in,
                      struct pd_codec_error *OUT_err);
int pd_awsjson_encode(const struct pd_spec *spec, struct pd_arena *a, const struct pd_spec_op *op,
                      const json_t *out, const char *request_id, struct pd_http_response *OUT);
int pd_awsjson_encode_error(const struct pd_spec *spec, struct pd_arena *a,
                            const struct pd_aws_fault *f, const char *request_id,
                            struct pd_http_response *OUT);

/* rest.c: headers shared by both rest encoders (header members, prefix maps, status code).
 * Returns PD_OK or PD_EINTERNAL (*OUT_where names the member). */
int pd_rest_encode_headers(struct pd_arena *a, const struct pd_spec_shape *sh, const json_t *out,
                           struct pd_http_response *OUT, const char **OUT_where);

#endif
