/* http_internal.h - the types the HTTP layer's three files share: http.c
 * (connections, limits, HTTP/1.1 with http-parser) above http_ws.c
 * (WebSocket with wslay) and http_tls.c (TLS with OpenSSL). Types only, with
 * no .c of its own: the two lower files use the connection and the server
 * without depending on http.c, and call it back through http_conn_ops.
 * Nothing outside the layer includes it. */
#ifndef EC_SERVER_HTTP_INTERNAL_H
#define EC_SERVER_HTTP_INTERNAL_H

#include "http_types.h"

#include <http_parser.h>

#define HTTP_HEADERS_MAX 8192       /* request line and headers, in all: more is 431 */
#define HTTP_URL_MAX 4096           /* the request target: more is 414 */
#define HTTP_ADDR_BUCKETS 65536     /* client addresses, hashed with a secret key, for the per-address limit */
#define HTTP_HELD_MAX (256u << 10)  /* input read ahead of the request being answered */
#define HTTP_HELD_STOP (64u << 10)  /* ... past which the socket is not read until it drains */
#define HTTP_OUT_STOP (1u << 20)    /* queued output past which a peer's input waits */
#define HTTP_WS_QUEUE_MAX (4u << 20) /* output queued for one WebSocket peer before it is dropped */
#define HTTP_STREAM_QUEUE_MAX (256u << 10) /* a stream's output queued before its client is dropped */
#define HTTP_STREAM_GONE_MS 30000 /* a stream's data unacknowledged this long: its client is gone */
#define HTTP_LINGER_MS 2000         /* reading (and dropping) after a refusal, before closing */
#define HTTP_EVICT_AGE_MS 1000      /* a connection still sending this long may make room */

typedef enum {
    CONN_HTTP,       /* reading requests */
    CONN_WS_PENDING, /* a handshake waiting for ec_http_ws_decide */
    CONN_WS,         /* an open WebSocket */
    CONN_STREAM,     /* an answer without a length, still being sent (events): input is dropped */
    CONN_CLOSING     /* answered and shutting down: input is dropped */
} conn_state;

/* The headers the layer looks at; any other is only counted. */
typedef enum {
    HDR_OTHER,
    HDR_AUTHORIZATION,
    HDR_UPGRADE,
    HDR_EXPECT,
    HDR_WS_KEY,
    HDR_WS_VERSION,
    HDR_WS_PROTOCOL,
    HDR_CONTENT_LENGTH,
    HDR_TRANSFER_ENCODING,
    HDR_N
} hdr_id;

typedef struct http_conn http_conn;

/* A request as it is read: taken at its first byte, kept while the
 * connection serves HTTP, given back when it becomes a WebSocket. */
typedef struct {
    ec_http_request req;
    char url[HTTP_URL_MAX + 1];
    char auth[256], upgrade[32], expect[32], ws_key[64], ws_version[8], ws_protocol[256], te[64];
} http_head;

/* What the connection layer (http.c) does for the two files below it.
 * http_ws.c and http_tls.c are called by http.c and never call it: when they
 * must write, read on or close, they go through this table, which http.c
 * puts in every server (s->ops). One indirect call per write or per read,
 * not per byte. */
typedef struct {
    /* Hands n bytes of a connection's plain input (TLS's, decrypted) to
     * HTTP or the WebSocket. */
    void (*input)(http_conn *c, const char *data, size_t n);
    /* Writes bytes to the peer, through TLS when the connection has it. */
    ec_err (*write)(http_conn *c, const void *data, size_t n);
    /* Writes bytes to the socket as they are (TLS's records). */
    ec_err (*write_raw)(http_conn *c, const void *data, size_t n);
    /* Closes the connection now (its close callback frees it); this calls
     * ws_closed, so only where the handler's code is not on the stack. */
    void (*close)(http_conn *c);
    /* Closes it soon, from the loop: where the handler may be on the stack. */
    void (*kill)(http_conn *c);
} http_conn_ops;

struct http_conn {
    uv_tcp_t tcp;
    ec_http_server *s;
    uint32_t slot;        /* index in s->slots: serials name it */
    uint32_t bucket;      /* the client address's bucket */
    unsigned char addr[16]; /* the address itself (IPv6: its /64), to tell colliding ones apart */
    int eof;              /* the client has half-closed: answer what is in, then close */
    int depth;            /* http.c's conn_input calls on the stack */
    int throttled;        /* read its share of this turn: reads again next turn */
    char peer[48];
    conn_state state;
    int closed;           /* uv_close called: nothing more happens */
    int dead;             /* broken: closes at the next sweep, nothing more is written */
    int reading;          /* uv_read_start in force */
    int busy;             /* a whole request is in and not yet answered */
    int close_after;      /* close once the answer is out */
    int64_t t0_ns;
    uint64_t wait_serial; /* the request or handshake an answer is awaited for */

    /* Still sending: on the server's pending list with a deadline. */
    http_conn *pend_prev, *pend_next;
    int pending;
    int64_t pending_since_ms, deadline_ms;
    /* Lingering: answered, shut down, dropping input until this time. */
    int64_t linger_until_ms;

    /* The request being read. */
    http_parser parser;
    http_head *head;       /* from a request's first byte; NULL on a WebSocket */
    ec_http_request *req;  /* &head->req, or NULL */
    ec_http_response res;
    ec_buf body;
    size_t body_limit;
    int refused;           /* the layer answers itself: res is set */
    int message_done;
    int upgrade_ws;
    size_t header_bytes;
    int in_headers;        /* past the request line */
    size_t url_len;
    int url_over;
    char hname[40];
    size_t hname_len;
    int in_value;
    hdr_id cur;
    int hcount[HDR_N];
    size_t hlen[HDR_N];
    int hover[HDR_N];

    ec_buf held;           /* input that arrived while busy */
    size_t out_queued;     /* bytes handed to uv_write and not yet written */
    void *tls;             /* SSL *, NULL for plain */
    ec_ws *ws;
};

struct ec_http_server {
    uv_loop_t *loop;
    const http_conn_ops *ops; /* http.c's, for http_ws.c and http_tls.c */
    uv_tcp_t listener;
    int listening;
    uv_timer_t sweep;
    uv_idle_t resume;      /* reads again, next turn, the connections that read their share */
    ec_vec throttled;      /* their slots */
    ec_http_handler h;
    ec_http_limits_t lim;
    int port;
    ec_http_stats_t stats;
    uint64_t next_serial;
    http_conn **slots;     /* every open connection by slot; NULL: free */
    uint32_t n_slots, cap_slots;
    uint32_t *free_slots;
    uint32_t n_free;
    http_conn *pend_head, *pend_tail; /* still sending, oldest first */
    uint32_t pending_by_bucket[HTTP_ADDR_BUCKETS];
    unsigned char addr_key[16]; /* the buckets' hash key, drawn at start: no client can aim at another's */
    void *tls_ctx;         /* SSL_CTX *, NULL: plain */
    int stopping;
    char readbuf[64 << 10];
    char plainbuf[64 << 10]; /* TLS input, decrypted */
    char outbuf[64 << 10];   /* a small answer's headers and body, for one write */
};

#endif
