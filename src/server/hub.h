/* hub.h - the regional hub's REST side as its files share it: the limits on
 * request bodies and the state (ec_api) the handlers (api.c, api_sessions.c,
 * policy.c, routes.c), the worker pool (work.c) and the serve loop
 * (server.c) work on. Types and limits only: no file's functions. */
#ifndef EC_SERVER_HUB_H
#define EC_SERVER_HUB_H

#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_register.h"
#include "ecorridor/ec_route.h"
#include "ecorridor/ec_store.h"
#include "http.h"
#include "metrics.h"
#include "ocpp.h"

#define EC_API_BODY_MAX (1u << 20)        /* JSON request bodies */
#define EC_API_IMPORT_MAX (64u << 20)     /* a register file sent to /api/v1/import */
#define EC_API_BODY_OPEN (64u << 10)      /* the largest body read before its key is checked */

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
    struct api_map *map;       /* what the map's handlers keep between requests (api_map.c) */
    const char *tile_url, *tile_attribution; /* the page's tile layer (serve --tile-url); NULL: none */
    const char *scenarios_dir; /* serve --scenarios: the twin's runs, one folder each; NULL: none */
    struct static_files *web;  /* the dashboard's files (static.c); NULL: / lists the API */
    struct events *events;     /* the live events' streams (events.c) */
} ec_api;

#endif
