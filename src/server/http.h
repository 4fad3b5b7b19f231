/* http.h - our small HTTP layer: requests in, responses out, on a libuv loop
 * we own. Only http.c knows libwebsockets; handlers see these structs. */
#ifndef EC_SERVER_HTTP_H
#define EC_SERVER_HTTP_H

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

const char *ec_http_method_name(ec_http_method m);

#define EC_HTTP_MAX_PATH 1024
#define EC_HTTP_MAX_ARGS 32
#define EC_HTTP_MAX_ARG 512

typedef struct {
    ec_http_method method;
    char path[EC_HTTP_MAX_PATH];     /* decoded, without the query */
    size_t n_args;
    char args[EC_HTTP_MAX_ARGS][EC_HTTP_MAX_ARG]; /* decoded "name=value" */
    int args_overflow;               /* more or longer arguments than we keep */
    char authorization[256];         /* "" when absent; cut when longer */
    const char *body;                /* NUL-terminated; body_len bytes */
    size_t body_len;
} ec_http_request;

typedef struct {
    int status;
    const char *content_type; /* static string */
    ec_buf body;              /* owned by the layer; the handler appends */
    char www_authenticate[64];
} ec_http_response;

typedef struct {
    /* Answers one request; res->status and body set on return. */
    void (*handle)(void *ctx, const ec_http_request *req, ec_http_response *res);
    /* The largest body accepted for a request to path (bytes). */
    size_t (*body_limit)(void *ctx, ec_http_method m, const char *path);
    /* Called when a response has been handed to the socket. */
    void (*done)(void *ctx, ec_http_method m, int status, double seconds);
    void *ctx;
} ec_http_handler;

typedef struct {
    int64_t open;  /* connections open now */
    int64_t total; /* connections accepted since start */
} ec_http_stats_t;

typedef struct ec_http_server ec_http_server;

/* Listens on host:port (port 0: a free one) on loop. Errors name the address
 * (in use, not permitted, not on this machine). Returns new. */
ec_err ec_http_start(uv_loop_t *loop, const char *host, int port, const ec_http_handler *h,
                     ec_http_server **out);
/* The port actually listened on. */
int ec_http_port(const ec_http_server *s);
ec_http_stats_t ec_http_stats(const ec_http_server *s);
/* Stops listening and closes every connection; the loop then ends once the
 * caller's own handles are closed. Call ec_http_free after that loop run. */
void ec_http_stop(ec_http_server *s);
/* Finishes what ec_http_stop began (the loop must have run since) and frees s;
 * run the loop once more afterwards for the last closes. */
void ec_http_free(ec_http_server *s);

#endif
