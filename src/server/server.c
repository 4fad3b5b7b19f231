/* server.c - `ecorridor serve`: the store, the demo region, the road graph and
 * the HTTP server on one libuv loop, until SIGINT or SIGTERM. */
#include "server.h"
#include "region.h"

#include "api.h"
#include "api_map.h"
#include "api_internal.h"
#include "events.h"
#include "static.h"
#include "work.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

typedef struct {
    uv_signal_t sig[2];
    uv_check_t release; /* after each turn's I/O: the store's shared read ends */
    ec_api *api;
    int stopping;
} serve_loop;

static void on_signal(uv_signal_t *h, int signum)
{
    serve_loop *L = h->data;
    if (L->stopping) return;
    L->stopping = 1;
    ec_log(EC_LOG_INFO, "signal %d: shutting down", signum);
    for (int i = 0; i < 2; i++) {
        uv_signal_stop(&L->sig[i]);
        uv_close((uv_handle_t *)&L->sig[i], NULL);
    }
    uv_check_stop(&L->release);
    uv_close((uv_handle_t *)&L->release, NULL);
    ocpp__stop(L->api->ocpp);
    work__stop(L->api->work);
    events__stop(L->api->events);
    ec_http_stop(L->api->http);
}

static void stream_closed(void *ctx, uint64_t serial)
{
    ec_api *api = ctx;
    events__closed(api->events, serial);
}

static void site_changed(void *ctx, const char *site_id)
{
    ec_api *api = ctx;
    events__site(api->events, site_id);
}

static void on_turn_end(uv_check_t *h)
{
    serve_loop *L = h->data;
    ocpp__flush(L->api->ocpp);
    ec_store_release(L->api->store);
}

/* The HTTP layer's WebSocket callbacks go to the central system. */
static int ws_accept(void *ctx, const ec_ws_handshake *hs, void **user)
{
    return ocpp__ws_accept(((ec_api *)ctx)->ocpp, hs, user);
}

static void ws_open(void *ctx, void *user, ec_ws *ws)
{
    ocpp__ws_open(((ec_api *)ctx)->ocpp, user, ws);
}

static void ws_message(void *ctx, void *user, ec_ws *ws, const char *data, size_t len)
{
    ocpp__ws_message(((ec_api *)ctx)->ocpp, user, ws, data, len);
}

static void ws_closed(void *ctx, void *user)
{
    ocpp__ws_closed(((ec_api *)ctx)->ocpp, user);
}

/* Every charge point holds a socket open: let this process have as many
 * descriptors as the system allows it. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int is_dir(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static ec_err load_graph(const ec_serve_opts_t *o, ec_graph **g)
{
    ec_err rc;
    *g = NULL;
    if (o->graph_path) {
        rc = ec_graph_open(o->graph_path, g);
    } else {
        char gml[4096];
        struct stat st;
        snprintf(gml, sizeof gml, "%s/graph.graphml", o->region_dir ? o->region_dir : "");
        if (!o->region_dir || stat(gml, &st) != 0) return EC_OK; /* no routes */
        ec_load_opts_t lo;
        memset(&lo, 0, sizeof lo);
        ec_ch_opts_t co;
        memset(&co, 0, sizeof co);
        if ((rc = ec_vehicle_class_builtin("truck-40t", &lo.vehicle)) ||
            (rc = ec_graph_load_corridor(o->region_dir, &lo, g)) || (rc = ec_ch_build(*g, &co)))
            goto fail;
    }
    if (!rc) rc = ec_graph_snap_prepare(*g);
    if (!rc) return EC_OK;
fail:
    ec_graph_free(*g);
    *g = NULL;
    return rc;
}

ec_err ec_serve(const ec_serve_opts_t *o)
{
    /* Each list query makes SQLite allocate and free some 100 kB (the IN list
     * of longitude bands, the ORDER BY sorter); with glibc's default 128 kB
     * trim threshold the heap top then goes back to the kernel on every
     * request, two brk calls each. A server keeps up to 64 MiB instead. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 1 << 20);
    if (o->region_dir && !is_dir(o->region_dir))
        return ec_fail(EC_ENOTFOUND, "--region %s: no such directory", o->region_dir);
    if (o->scenarios_dir && !is_dir(o->scenarios_dir))
        return ec_fail(EC_ENOTFOUND, "--scenarios %s: no such directory", o->scenarios_dir);
    ec_api *api = ec_calloc(1, sizeof *api);
    if (!api) return EC_ENOMEM;
    api->scenarios_dir = o->scenarios_dir;
    uv_loop_t loop;
    serve_loop L;
    memset(&L, 0, sizeof L);
    L.api = api;
    api->db_path = o->db_path;
    api->tile_url = o->tile_url;
    api->tile_attribution = o->tile_attribution;
    /* The page's files first: a directory refused (too deep, too large) is
     * said at once, before a database is made or a road graph is loaded. */
    ec_err rc = o->web_dir ? static__load(o->web_dir, &api->web) : EC_OK;
    if (!rc) rc = ec_store_open(o->db_path, &api->store);
    if (!rc) rc = load_graph(o, &api->graph);
    if (rc) goto fail_store;
    if (uv_loop_init(&loop)) {
        rc = ec_fail(EC_EIO, "cannot start the event loop");
        goto fail_store;
    }
    raise_fd_limit();
    /* libuv's pool has 4 threads unless told otherwise, and the lanes of
     * work.c may take 4: ask for 8 before the pool starts, so that short
     * jobs (a password hash) never wait behind an import. */
    setenv("UV_THREADPOOL_SIZE", "8", 0);
    if ((rc = work__new(&loop, api, &api->work))) goto fail_store;
    if ((rc = ocpp__new(&loop, api->store, &o->ocpp, &api->ocpp))) goto fail_store;
    if ((rc = events__new(&loop, api->store, &api->events))) goto fail_loop;
    ocpp__on_site(api->ocpp, site_changed, api);
    /* The region's register goes in through the API's handlers, which tell
     * the central system of the chargers they write. */
    if (o->region_dir && (rc = region__load(api, o->region_dir))) goto fail_loop;
    ec_http_handler h;
    memset(&h, 0, sizeof h);
    h.handle = api__handle;
    h.admit = api__admit;
    h.done = api__done;
    h.ws_protocol = "ocpp1.6";
    h.ws_accept = ws_accept;
    h.ws_open = ws_open;
    h.ws_message = ws_message;
    h.ws_closed = ws_closed;
    h.ws_max_message = OCPP_MESSAGE_MAX;
    h.stream_closed = stream_closed;
    h.ctx = api;
    if ((rc = ec_http_start(&loop, o->host, o->port, &h, &o->tls, &o->limits, &api->http))) goto fail_loop;
    ocpp__set_http(api->ocpp, api->http);
    events__set_http(api->events, api->http);
    int sigs[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        uv_signal_init(&loop, &L.sig[i]);
        L.sig[i].data = &L;
        uv_signal_start(&L.sig[i], on_signal, sigs[i]);
    }
    uv_check_init(&loop, &L.release);
    L.release.data = &L;
    uv_check_start(&L.release, on_turn_end);
    int port = ec_http_port(api->http);
    int64_t n_sites = 0;
    ec_store_count(api->store, EC_KIND_SITE, &n_sites);
    api__map_warm(api, n_sites);
    const char *scheme = o->tls.cert_path ? "https" : "http";
    printf("ecorridor hub listening on %s://%s:%d/ (database %s, %lld sites%s)\n", scheme, o->host, port, o->db_path,
           (long long)n_sites, api->graph ? ", truck routes on" : ", no road graph: routes off");
    printf("  ocpp  %s://%s:%d/ocpp/<chargePointId>   (OCPP 1.6J, subprotocol ocpp1.6)\n",
           o->tls.cert_path ? "wss" : "ws", o->host, port);
    if (api->web)
        printf("  dashboard  %s://%s:%d/   (the corridor on a map, live; in a browser)\n", scheme, o->host, port);
    printf("  open  http://%s:%d/api/v1/sites.geojson   (the register for QGIS > Add Vector Layer)\n"
           "        http://%s:%d/api/v1/sites?limit=5   http://%s:%d/healthz   http://%s:%d/metrics\n"
           "  keys  %s keys create --db %s --role admin --org hub   (then: Authorization: Bearer <key>)\n"
           "  stop  Ctrl-C\n",
           o->host, port, o->host, port, o->host, port, o->host, port, o->program ? o->program : "ecorridor",
           o->db_path);
    fflush(stdout);
    uv_run(&loop, UV_RUN_DEFAULT);
    ec_http_free(api->http);
    api->http = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop)) ec_log(EC_LOG_WARN, "event loop closed with handles open");
    ec_log(EC_LOG_INFO, "stopped");
fail_loop:
    ocpp__stop(api->ocpp);
    if (rc) events__stop(api->events);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
fail_store:
    work__free(api->work);
    api__route_free(api);
    api__kpis_forget();
    api__map_free(api);
    ocpp__free(api->ocpp);
    events__free(api->events);
    static__free(api->web);
    ec_graph_free(api->graph);
    ec_store_close(api->store);
    ec_free(api);
    return rc;
}
