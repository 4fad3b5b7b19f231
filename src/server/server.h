/* server.h - `ecorridor serve`, the regional hub's loop (server.c). The
 * state its REST handlers share is hub.h's. */
#ifndef EC_SERVER_SERVER_H
#define EC_SERVER_SERVER_H

#include "http.h"
#include "ocpp.h"

typedef struct {
    const char *db_path;
    const char *host;
    int port;
    const char *region_dir; /* loaded into an empty database; NULL: none */
    const char *graph_path; /* NULL: built from region_dir's corridor model when it has one */
    const char *web_dir;    /* the dashboard's files (build/web); NULL: none, / lists the API */
    const char *program;    /* how ecorridor was run, for the commands the start-up prints; NULL: "ecorridor" */
    ec_http_tls_t tls;      /* certificate and key: https and wss; NULL paths: plain */
    ec_http_limits_t limits; /* what one client may hold (zeros: the defaults) */
    ocpp_opts_t ocpp;
    const char *tile_url;         /* the web page's tile layer ({z}/{x}/{y}); NULL: the road graph alone */
    const char *tile_attribution; /* shown with it */
    const char *scenarios_dir; /* the twin's runs served at /api/v1/scenarios; NULL: none */
} ec_serve_opts_t;

/* Runs the hub until SIGINT or SIGTERM. Prints the address it listens on to
 * stdout once it does. */
ec_err ec_serve(const ec_serve_opts_t *o);

#endif
