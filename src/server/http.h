/* http.h - our small HTTP layer: requests in, responses out, on a libuv loop
 * we own (docs/http.md). Handlers see only these functions and the structs
 * of http_types.h. It is three files, one above two: http.c (connections,
 * HTTP/1.1 with http-parser) calls http_ws.c (WebSocket with wslay, whose
 * ec_ws_* are in http_ws.h, included here) and http_tls.c (TLS with
 * OpenSSL), which call back up only through http_internal.h's
 * http_conn_ops. */
#ifndef EC_SERVER_HTTP_H
#define EC_SERVER_HTTP_H

#include "http_types.h"
#include "http_ws.h"

const char *ec_http_method_name(ec_http_method m);

/* Listens on host:port (port 0: a free one) on loop. Errors name the address
 * (in use, not permitted, not on this machine). lim may be NULL. Returns new. */
ec_err ec_http_start(uv_loop_t *loop, const char *host, int port, const ec_http_handler *h,
                     const ec_http_tls_t *tls, const ec_http_limits_t *lim, ec_http_server **out);
/* Answers a request whose handler deferred it: body (len bytes, copied) as
 * content_type with status. Returns EC_ENOTFOUND when the client has gone. */
ec_err ec_http_complete(ec_http_server *s, uint64_t serial, int status, const char *content_type,
                        const char *body, size_t len);

/* Turns a request its handler deferred (res->status 0) into a stream: an
 * answer without a length (Server-Sent Events), its status line and headers
 * sent now (200, content_type, Connection: close). ec_http_stream_send adds
 * to its body until ec_http_stream_end, or until the client leaves or reads
 * too slowly (more than HTTP_STREAM_QUEUE_MAX queued: it is dropped); either
 * way stream_closed is called, from the loop, never from these functions.
 * Whatever the client sends meanwhile is read and dropped. May be called from
 * the handler itself. EC_ENOTFOUND when the client has gone. */
ec_err ec_http_stream_open(ec_http_server *s, uint64_t serial, const char *content_type);
/* EC_ENOTFOUND: no such stream (any more); EC_ELIMIT: its client reads too slowly and is dropped. */
ec_err ec_http_stream_send(ec_http_server *s, uint64_t serial, const char *data, size_t len);
void ec_http_stream_end(ec_http_server *s, uint64_t serial);

/* Decides a handshake that ws_accept left pending: status 0 accepts it with
 * user (ws_open follows, and ws_closed once it ends), an HTTP status refuses
 * it. EC_ENOTFOUND when the client has gone meanwhile: nothing is called
 * for user then, and the caller frees it. On EC_OK, ws_open (and, when the
 * client has already closed, ws_closed) may be called before it returns. */
ec_err ec_http_ws_decide(ec_http_server *s, uint64_t serial, int status, void *user);

/* The port actually listened on. */
int ec_http_port(const ec_http_server *s);
ec_http_stats_t ec_http_stats(const ec_http_server *s);
/* Stops listening and closes every connection; the loop then ends once the
 * caller's own handles are closed. Call ec_http_free after that loop run. */
void ec_http_stop(ec_http_server *s);
/* Finishes what ec_http_stop began (the loop must have run since) and frees s;
 * run the loop once more afterwards for the last closes. */
void ec_http_free(ec_http_server *s);

/* For tests and fuzz targets: a server that does not listen, and a
 * connection over a socket the caller made (a socketpair's end). */
ec_err http__server_new(uv_loop_t *loop, const ec_http_handler *h, const ec_http_limits_t *lim,
                        ec_http_server **out);
ec_err http__adopt(ec_http_server *s, int fd);

#endif
