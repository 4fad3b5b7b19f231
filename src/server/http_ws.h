/* http_ws.h - WebSocket (RFC 6455) for the HTTP layer, in http_ws.c with
 * wslay. A lower layer: http.c calls it, and it calls http.c back only
 * through the connection's http_conn_ops (http_internal.h). Callers outside
 * the layer get ec_ws_send and ec_ws_close through http.h. */
#ifndef EC_SERVER_HTTP_WS_H
#define EC_SERVER_HTTP_WS_H

#include "http_types.h"

/* Queues a text message on ws; EC_ELIMIT (and the connection closes) when
 * the peer has let more than its queue's limit pile up unread. */
ec_err ec_ws_send(ec_ws *ws, const char *data, size_t len);
/* Closes ws with a WebSocket status code and reason after what is queued. */
void ec_ws_close(ec_ws *ws, int code, const char *reason);

/* Within the layer, for http.c: one connection's handshake and frames. */
typedef struct http_conn http_conn;

/* The handshake's answer: 0 when the request is a WebSocket upgrade to the
 * server's subprotocol that the layer can take to ws_accept; else an HTTP
 * status, with a message. */
int http__ws_check(http_conn *c, const char **message);
/* Accepts the upgrade: 101, the wslay context, ws_open, then held input. */
void http__ws_accept(http_conn *c, void *user);
/* Input on an open WebSocket. */
void http__ws_input(http_conn *c, const char *data, size_t n);
/* The connection is gone: ws_closed, and the context freed. */
void http__ws_free(http_conn *c);
/* Output has drained: a WebSocket may want to send more or close. */
void http__ws_drained(http_conn *c);

#endif
