/* http_types.h - the HTTP layer's public types: what a handler sees of a
 * request, a response and a WebSocket, and what a server is started with.
 * Types only, with no .c of its own, so that the layer's lower files
 * (http_ws.c, http_tls.c) can use them without depending on http.c;
 * callers include http.h, which includes this. */
#ifndef EC_SERVER_HTTP_TYPES_H
#define EC_SERVER_HTTP_TYPES_H

#include "ecorridor/ec_base.h"

#include <uv.h>

typedef enum {
    EC_HTTP_GET,
    EC_HTTP_POST,
    EC_HTTP_PUT,
    EC_HTTP_PATCH,
    EC_HTTP_DELETE,
    EC_HTTP_OPTIONS,
    EC_HTTP_HEAD,
    EC_HTTP_OTHER,
    EC_HTTP_N_METHODS
} ec_http_method;

#define EC_HTTP_MAX_PATH 1024
#define EC_HTTP_MAX_ARGS 32
#define EC_HTTP_MAX_ARG 512

typedef struct {
    ec_http_method method;
    char path[EC_HTTP_MAX_PATH];     /* decoded, without the query */
    size_t n_args;
    char args[EC_HTTP_MAX_ARGS][EC_HTTP_MAX_ARG]; /* decoded "name=value" */
    int args_overflow;               /* more or longer arguments than we keep */
    char authorization[256];         /* "" when absent; "?" when longer than kept */
    char peer[48];                   /* the client's address, "127.0.0.1" */
    int64_t content_length;          /* the body's announced length (0: none) */
    const char *body;                /* NUL-terminated; body_len bytes (NULL in admit) */
    size_t body_len;
    uint64_t serial;                 /* unique per request, for ec_http_complete */
} ec_http_request;

typedef struct {
    int status;
    const char *content_type; /* static string */
    ec_buf body;              /* owned by the layer; the handler appends */
    char www_authenticate[64];
    const char *headers;      /* more header lines, each ending in "\r\n" (static string), or NULL */
} ec_http_response;

/* A WebSocket upgrade, as ws_accept sees it (all borrowed for the call). */
typedef struct {
    const char *path;          /* decoded, without the query */
    const char *authorization; /* "" when absent, "?" when longer than kept */
    const char *peer;          /* the client's address */
    int tls;
    uint64_t serial;           /* for ec_http_ws_decide */
} ec_ws_handshake;

/* ws_accept's answer when it decides later, with ec_http_ws_decide. */
#define EC_HTTP_PENDING (-1)

/* One WebSocket connection (the OCPP endpoint); owned by the layer. */
typedef struct ec_ws ec_ws;

typedef struct {
    /* Answers one request; res->status and body set on return. A handler
     * that cannot answer yet sets res->status to 0 and later calls
     * ec_http_complete with req->serial. */
    void (*handle)(void *ctx, const ec_http_request *req, ec_http_response *res);
    /* Called once a request's headers are in, before any of its body is
     * read (req->body is NULL; content_length says what is announced).
     * Returns the largest body accepted for it (bytes); or refuses it at
     * once by setting res->status (a 401 before a large body is taken in).
     * NULL: 1 MiB for every request. */
    size_t (*admit)(void *ctx, const ec_http_request *req, ec_http_response *res);
    /* Called when a response has been handed to the socket. */
    void (*done)(void *ctx, ec_http_method m, int status, double seconds);
    /* WebSocket upgrades to the subprotocol ws_protocol (NULL: none offered).
     * ws_accept decides at the handshake: returns 0 to accept (setting *user
     * for the other callbacks), an HTTP status to refuse with, or
     * EC_HTTP_PENDING to decide later with ec_http_ws_decide (the client
     * waits meanwhile). */
    const char *ws_protocol;
    int (*ws_accept)(void *ctx, const ec_ws_handshake *hs, void **user);
    void (*ws_open)(void *ctx, void *user, ec_ws *ws);
    /* One whole text message (at most ws_max_message bytes; longer ones close
     * the connection with 1009). data is borrowed for the call. */
    void (*ws_message)(void *ctx, void *user, ec_ws *ws, const char *data, size_t len);
    /* The connection is gone (also one accepted whose handshake then
     * failed: ws_open was never called); ws must not be used after this. */
    void (*ws_closed)(void *ctx, void *user);
    size_t ws_max_message;
    /* A stream (ec_http_stream_open) has ended: its client left or was
     * dropped, or the server stops. serial is the request's; the stream must
     * not be written to after this. NULL: nothing to tell. */
    void (*stream_closed)(void *ctx, uint64_t serial);
    void *ctx;
} ec_http_handler;

typedef struct {
    int64_t open;  /* connections open now */
    int64_t total; /* connections accepted since start */
    int64_t ws_open, ws_total, ws_refused;
    int64_t ws_in, ws_out; /* messages */
    int64_t streams_open, streams_dropped; /* answers being streamed; streams cut for not reading */
    int64_t refused_busy;  /* 503: too many connections, in all or from one address */
    int64_t timeouts;      /* closed for sending a request (or a handshake) too slowly */
    int64_t bad_requests;  /* refused by the layer itself: 400, 405, 413, 414, 431, 501, 505 */
} ec_http_stats_t;

typedef struct {
    const char *cert_path; /* PEM files; NULL: plain HTTP and ws:// */
    const char *key_path;
} ec_http_tls_t;

/* What one client may hold (0 for any field: its default). */
typedef struct {
    int max_connections;      /* open at once, in all; default: the open-file limit less 64 */
    int max_pending_per_addr; /* still sending a request, from one address; default 256 */
    int header_timeout_ms;    /* a request line and its headers; default 10,000 */
    int idle_timeout_ms;      /* a kept-alive connection between requests; default 30,000 */
    int body_min_rate;        /* bytes/s a body must average after the header timeout; default 65,536 */
} ec_http_limits_t;

typedef struct ec_http_server ec_http_server;

#endif
