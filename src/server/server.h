/* server.h - the regional hub: state shared by the REST handlers, the metrics
 * and the serve loop (server.c). */
#ifndef EC_SERVER_SERVER_H
#define EC_SERVER_SERVER_H

#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_route.h"
#include "ecorridor/ec_store.h"
#include "http.h"
#include "ocpp.h"

#define EC_METRIC_BUCKETS 12
#define EC_API_BODY_MAX (1u << 20)        /* JSON request bodies */
#define EC_API_IMPORT_MAX (64u << 20)     /* a register file sent to /api/v1/import */
#define EC_API_BODY_OPEN (64u << 10)      /* the largest body read before its key is checked */

typedef struct {
    int64_t requests[EC_HTTP_N_METHODS][600];
    int64_t latency_buckets[EC_METRIC_BUCKETS];
    int64_t latency_count;
    double latency_sum_s;
    int64_t store_writes, store_write_errors;
} ec_metrics;

void metrics__observe(ec_metrics *m, ec_http_method method, int status, double seconds);
void metrics__write(const ec_metrics *m, const ec_http_stats_t *http, ec_store *store,
                    const char *db_path, ec_buf *out);
void metrics__write_ocpp(const ocpp_stats_t *o, const ec_http_stats_t *http, ec_buf *out);

typedef struct {
    ec_store *store;
    const char *db_path;
    ec_graph *graph;           /* NULL: routes are not offered */
    ec_http_server *http;
    ocpp_cs *ocpp;
    ec_metrics metrics;
    /* /healthz's site count, read again when the register changes or a second has passed */
    int64_t health_generation, health_sites, health_read_ns;
    struct work_pool *work;    /* heavy requests on the worker pool (work.h); NULL: on the loop */
    struct route_planner *route_planner; /* the newest planner the route jobs built (routes.c) */
} ec_api;

/* The ec_http_handler functions over an ec_api. */
void api__handle(void *ctx, const ec_http_request *req, ec_http_response *res);
size_t api__admit(void *ctx, const ec_http_request *req, ec_http_response *res);
void api__done(void *ctx, ec_http_method m, int status, double seconds);
/* Drops the route planner (routes.c), once the loop has ended. */
void api__route_free(ec_api *a);

/* ---- serve -------------------------------------------------------------- */

typedef struct {
    const char *db_path;
    const char *host;
    int port;
    const char *region_dir; /* loaded into an empty database; NULL: none */
    const char *graph_path; /* NULL: built from region_dir's corridor model when it has one */
    ec_http_tls_t tls;      /* certificate and key: https and wss; NULL paths: plain */
    ec_http_limits_t limits; /* what one client may hold (zeros: the defaults) */
    ocpp_opts_t ocpp;
} ec_serve_opts_t;

/* Runs the hub until SIGINT or SIGTERM. Prints the address it listens on to
 * stdout once it does. */
ec_err ec_serve(const ec_serve_opts_t *o);

#endif
