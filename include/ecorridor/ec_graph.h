/* ec_graph.h - road graphs, vehicle-class filters, contraction hierarchies.
 *
 * A graph is loaded from OSM, a corridor model or DIMACS files, filtered for
 * one vehicle class, contracted, and saved to one .ecg file. A saved graph is
 * opened read-only (mmap) and shared by every query; each thread queries
 * through its own query object, which does not allocate once created.
 */
#ifndef EC_GRAPH_H
#define EC_GRAPH_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_geo.h"

#define EC_NO_WAY UINT32_MAX
#define EC_INF_WEIGHT UINT32_MAX

/* ---- vehicle classes --------------------------------------------------- */

/* What decides which roads a vehicle may use. Dimensions of 0 mean "no
 * limit applies" (the unrestricted class). */
typedef struct {
    char name[64];
    double height_m, width_m, length_m;
    double weight_t, axle_load_t;
    int hazmat;           /* carries dangerous goods: hazmat=no roads are closed */
    double max_speed_kmh; /* legal or governed top speed */
    int ignore_access;    /* read roads regardless of access/hgv tags */
} ec_vehicle_class_t;

/* Names of the built-in classes, NULL-terminated. */
const char *const *ec_vehicle_class_names(void);
ec_err ec_vehicle_class_builtin(const char *name, ec_vehicle_class_t *out);
/* A user class from a JSON file; fields as in the struct, see docs/networks.md. */
ec_err ec_vehicle_class_load(const char *path, ec_vehicle_class_t *out);
/* The same from JSON text; path names the source in messages. */
ec_err ec_vehicle_class_parse(const char *text, const char *path, ec_vehicle_class_t *out);
/* A built-in name, else a JSON file path. */
ec_err ec_vehicle_class_resolve(const char *name_or_path, ec_vehicle_class_t *out);

/* ---- the graph --------------------------------------------------------- */

typedef enum { EC_METRIC_TIME = 0, EC_METRIC_DISTANCE = 1 } ec_metric;
typedef enum { EC_SRC_OSM = 1, EC_SRC_CORRIDOR = 2, EC_SRC_DIMACS = 3 } ec_source_kind;

typedef struct {
    int32_t lat_e7, lon_e7; /* degrees * 1e7 */
} ec_coord_t;

/* A directed road arc of the vehicle-legal graph. */
typedef struct {
    uint32_t to;
    uint32_t length_cm;
    uint32_t duration_ms;
    uint32_t way; /* index into way_ids, or EC_NO_WAY */
} ec_arc_t;

/* An arc of the contraction hierarchy; `to` is a rank. `data` is the base arc
 * index, or with EC_CH_SHORTCUT set, the rank of the contracted middle node. */
typedef struct {
    uint32_t to;
    uint32_t weight;
    uint32_t data;
} ec_ch_arc_t;
#define EC_CH_SHORTCUT 0x80000000u
#define EC_CH_ORIGINAL 0x80000000u

/* A rest area or service area (OSM highway=rest_area / highway=services). */
typedef struct ec_rest_area {
    int32_t lat_e7, lon_e7;
    uint32_t name; /* offset into road_strs */
    uint32_t kind; /* EC_REST_AREA or EC_REST_SERVICES */
} ec_rest_area_t;
enum { EC_REST_AREA = 0, EC_REST_SERVICES = 1 };

/* Longest road reference or name kept, in bytes (longer ones are cut at a
 * character boundary), and the most rest areas a graph holds. */
#define EC_ROAD_STR_MAX 200
#define EC_MAX_REST_AREAS 1000000u

typedef struct ec_graph {
    uint32_t n_nodes, n_arcs, n_ways;
    const ec_coord_t *coord;     /* [n_nodes] */
    const uint32_t *first_out;   /* [n_nodes + 1] */
    const ec_arc_t *arcs;        /* [n_arcs], grouped by tail node */
    const int64_t *ext_id;       /* [n_nodes]: OSM / GraphML / DIMACS node id */
    const int64_t *way_ids;      /* [n_ways]: OSM way ids; NULL unless the graph is read
                                    from OSM (a corridor's ways are its segments) */
    const uint32_t *name_off;    /* [n_nodes + 1] into names, or NULL */
    const char *names;
    const float *elev_m;         /* [n_nodes]: metres above sea level; NULL when the
                                    source gave none (corridor models may give them) */
    /* Roads: each way's reference and name as offsets into road_strs, whose
     * byte 0 is the empty string (NULL without ways); rest and service areas. */
    const uint32_t *way_ref, *way_name; /* [n_ways] */
    const char *road_strs;
    uint32_t road_strs_len;
    uint32_t n_rest;
    const struct ec_rest_area *rest; /* [n_rest] */
    ec_metric metric;
    ec_source_kind source_kind;
    ec_vehicle_class_t vehicle;
    int64_t built_at_s;
    double build_seconds;
    char source[256];
    /* contraction hierarchy, indexed by rank */
    int has_ch;
    uint32_t n_up, n_down;
    const uint32_t *rank;        /* [n_nodes]: node -> rank */
    const uint32_t *node_at;     /* [n_nodes]: rank -> node */
    const uint32_t *up_first;    /* [n_nodes + 1] */
    const ec_ch_arc_t *up;       /* arcs to higher ranks, at their tail */
    const uint32_t *down_first;  /* [n_nodes + 1] */
    const ec_ch_arc_t *down;     /* arcs from higher ranks, at their head; `to` = tail */
    /* Unpacking data per hierarchy arc, all that path unpacking reads: for a
     * shortcut [2i] indexes down (tail -> mid) and [2i+1] up (mid -> head);
     * for an original arc [2i] is its base arc | EC_CH_ORIGINAL. */
    const uint32_t *up_child, *down_child;
    /* snapping index (built on demand by ec_graph_snap_prepare) */
    ec_grid grid;
    uint32_t *grid_tail; /* [n_arcs]: tail node of each arc, for the grid */
    /* storage */
    void *map;
    size_t map_len;
    void *owned[32];
    int n_owned;
} ec_graph;

static inline uint32_t ec_arc_weight(const ec_graph *g, const ec_arc_t *a)
{
    return g->metric == EC_METRIC_DISTANCE ? a->length_cm : a->duration_ms;
}

static inline ec_latlon_t ec_graph_point(const ec_graph *g, uint32_t node)
{
    ec_latlon_t p = {g->coord[node].lat_e7 / 1e7, g->coord[node].lon_e7 / 1e7};
    return p;
}

/* Elevation of a node in metres (0 without elevations). */
static inline double ec_graph_elev_m(const ec_graph *g, uint32_t node)
{
    return g->elev_m ? g->elev_m[node] : 0.0;
}

/* Name of a node (corridor models may name places), or NULL. */
const char *ec_graph_node_name(const ec_graph *g, uint32_t node);

/* The road a base arc lies on: its reference ("A 5", "E 35") and name, each "" when unknown. */
void ec_graph_arc_road(const ec_graph *g, uint32_t arc, const char **ref, const char **name);
/* The nearest rest area or service area (OSM highway=rest_area or services) within max_m of p:
 * 0 and its point and name ("" when unnamed, kind "rest_area"/"services"), or -1 when none. */
int ec_graph_rest_area(const ec_graph *g, ec_latlon_t p, double max_m, ec_latlon_t *at,
                       const char **name, const char **kind);

void ec_graph_free(ec_graph *g);

/* ---- building a graph ----------------------------------------------------- */

typedef struct ec_netbuild ec_netbuild;

ec_err ec_netbuild_new(ec_netbuild **out);
void ec_netbuild_free(ec_netbuild *nb);
/* Adds a node; name may be NULL. *idx receives its index. */
ec_err ec_netbuild_node(ec_netbuild *nb, int64_t ext_id, ec_latlon_t p, const char *name,
                        uint32_t *idx);
ec_err ec_netbuild_way(ec_netbuild *nb, int64_t way_id, uint32_t *idx);
/* Sets a node's elevation (metres, -500..9000); EC_ERANGE outside. A graph
 * keeps elevations only when every node has one. */
ec_err ec_netbuild_node_elevation(ec_netbuild *nb, uint32_t idx, double elev_m);
ec_err ec_netbuild_arc(ec_netbuild *nb, uint32_t from, uint32_t to, uint32_t length_cm,
                       uint32_t duration_ms, uint32_t way);
/* Sets the reference and name of a way (NULL or "" when unknown). */
ec_err ec_netbuild_way_road(ec_netbuild *nb, uint32_t way, const char *ref, const char *name);
/* Adds a rest area (kind EC_REST_AREA or EC_REST_SERVICES); name may be NULL.
 * EC_ELIMIT past EC_MAX_REST_AREAS. */
ec_err ec_netbuild_rest_area(ec_netbuild *nb, ec_latlon_t p, const char *name, uint32_t kind);
uint32_t ec_netbuild_n_nodes(const ec_netbuild *nb);
uint32_t ec_netbuild_n_arcs(const ec_netbuild *nb);
/* Turns the builder into a graph (without CH). Takes nb (freed either way). */
ec_err ec_netbuild_finish(ec_netbuild *nb, ec_metric metric, ec_source_kind kind,
                          const ec_vehicle_class_t *vehicle, const char *source,
                          ec_graph **out);

typedef struct {
    ec_vehicle_class_t vehicle;
    ec_metric metric;
} ec_load_opts_t;

/* OpenStreetMap .osm / .osm.pbf through readosm. */
ec_err ec_graph_load_osm(const char *path, const ec_load_opts_t *o, ec_graph **out);
/* Corridor model directory: graph.graphml + segments.csv. */
ec_err ec_graph_load_corridor(const char *dir, const ec_load_opts_t *o, ec_graph **out);
/* DIMACS .gr (+ optional .co coordinates). Arc weights are metres when
 * o->metric is distance, tenths of a second when time. */
ec_err ec_graph_load_dimacs(const char *gr_path, const char *co_path, const ec_load_opts_t *o,
                            ec_graph **out);

/* Parsers over memory, used by the loaders and the fuzz targets. They add to nb. */
ec_err ec_graphml_parse(const char *name, const char *text, size_t len, ec_netbuild *nb,
                        const ec_load_opts_t *o, const char *segments_name,
                        const char *segments, size_t segments_len);
ec_err ec_dimacs_parse(const char *gr_name, const char *gr, size_t gr_len, const char *co_name,
                       const char *co, size_t co_len, const ec_load_opts_t *o, ec_netbuild *nb);

/* Truck speed in km/h for an OSM highway class without maxspeed; 0 when the
 * class is not drivable. */
double ec_osm_class_speed_kmh(const char *highway);
/* Parses OSM length/weight/speed values ("3.5", "3.5 m", "12'6\"", "7.5 t",
 * "7500 kg", "50 mph"). Returns 0 and SI units (m, t, km/h) on success. */
int ec_osm_parse_length_m(const char *v, double *out);
int ec_osm_parse_weight_t(const char *v, double *out);
int ec_osm_parse_speed_kmh(const char *v, double *out);

/* ---- contraction hierarchies ------------------------------------------- */

typedef struct {
    uint32_t witness_settle_limit; /* nodes settled per witness search (default 500) */
    int progress;                  /* draw a progress bar on a terminal */
} ec_ch_opts_t;

/* Contracts g in place (sets the CH fields). */
ec_err ec_ch_build(ec_graph *g, const ec_ch_opts_t *opts);

/* Saves graph and CH atomically (temporary file, fsync, rename). */
ec_err ec_graph_save(const ec_graph *g, const char *path);
/* Opens a saved graph read-only; every section is checksummed and checked. */
ec_err ec_graph_open(const char *path, ec_graph **out);
/* The same over a memory image (copied); for the fuzz target. */
ec_err ec_graph_open_mem(const void *data, size_t len, const char *name, ec_graph **out);

/* ---- snapping ------------------------------------------------------------ */

typedef struct {
    uint32_t arc, tail, head; /* snapped arc and its end nodes */
    uint32_t rev_arc;         /* the opposite arc head->tail, or UINT32_MAX */
    double frac;              /* position along the arc, 0 at tail */
    ec_latlon_t point;        /* the snapped point on the road */
    double offset_m;          /* distance from the query point to the road */
} ec_snap_t;

ec_err ec_graph_snap_prepare(ec_graph *g);
/* Nearest arc within max_m; EC_ENOTFOUND with a message when none. */
ec_err ec_graph_snap(const ec_graph *g, ec_latlon_t p, double max_m, ec_snap_t *out);

/* ---- queries ------------------------------------------------------------- */

/* A route's result. arcs is borrowed from the query object and valid until
 * its next query. */
typedef struct {
    uint32_t weight; /* in the graph's metric: ms or cm; EC_INF_WEIGHT if none */
    double distance_m, duration_s;
    const uint32_t *arcs;
    uint32_t n_arcs;
    uint32_t first_node, last_node; /* UINT32_MAX when the route stays on one arc */
} ec_path_t;

typedef enum { EC_ALGO_CH, EC_ALGO_DIJKSTRA } ec_algo;
typedef struct ec_query ec_query;

/* Returns new; free with ec_query_free. Allocates all it will need. */
ec_err ec_query_new(const ec_graph *g, ec_algo algo, ec_query **out);
void ec_query_free(ec_query *q);
/* Between two snapped points. EC_EUNREACHABLE when no path exists. */
ec_err ec_query_route(ec_query *q, const ec_snap_t *from, const ec_snap_t *to, ec_path_t *out);
/* Many routes sharing one end: ec_query_fix searches once from `at` (as the
 * source, or as the target when as_target), then ec_query_route_fixed routes
 * between it and each other point, searching only from that side. Any other
 * query forgets the fixed end. */
ec_err ec_query_fix(ec_query *q, const ec_snap_t *at, int as_target);
ec_err ec_query_route_fixed(ec_query *q, const ec_snap_t *other, ec_path_t *out);
/* Between two nodes. */
ec_err ec_query_route_nodes(ec_query *q, uint32_t s, uint32_t t, ec_path_t *out);
/* Only the weight from s to t (no path): the classic distance query. */
ec_err ec_query_weight_nodes(ec_query *q, uint32_t s, uint32_t t, uint32_t *weight);
/* Weights from s to each of targets (EC_INF_WEIGHT when unreachable). */
ec_err ec_query_one_to_many(ec_query *q, uint32_t s, const uint32_t *targets, uint32_t n,
                            uint32_t *out);
/* out[i * n_dst + j] = weight from sources[i] to targets[j]. Bucket-based for
 * CH. The bucket store grows with the problem size only. */
ec_err ec_query_many_to_many(ec_query *q, const uint32_t *sources, uint32_t n_src,
                             const uint32_t *targets, uint32_t n_dst, uint32_t *out);
/* Many-to-many with sums: the upward search space of each point, kept, and
 * any two met by rank. Besides the weight, a route carries its length, time
 * and the sum of length x speed^2 over its road arcs (what the energy of
 * driving it on level roads follows from). Partial arcs at snapped points
 * count at their average speed. */
typedef struct {
    uint32_t weight; /* in the graph's metric */
    double len_m, dur_s, len_v2;
} ec_route_sums_t;

/* The sums of every hierarchy arc (arrays of n_up and n_down; free both). */
ec_err ec_graph_ch_sums(const ec_graph *g, ec_route_sums_t **up, ec_route_sums_t **down);

typedef struct {
    uint32_t rank, dist;
    double len_m, dur_s, len_v2;
} ec_space_entry_t;

typedef struct {
    ec_space_entry_t *e; /* by rank */
    uint32_t n;
    ec_snap_t snap;
    int target;
} ec_space_t;

/* The search space of a snapped point as a source (or as the target). */
ec_err ec_query_space(ec_query *q, const ec_route_sums_t *up, const ec_route_sums_t *down,
                      const ec_snap_t *at, int as_target, ec_space_t *out);
void ec_space_free(ec_space_t *s);
/* The best route from fw's point to bw's (a source's and a target's space);
 * 0 when there is none. */
int ec_space_meet(const ec_graph *g, const ec_space_t *fw, const ec_space_t *bw, ec_route_sums_t *out);

/* Nodes settled by the last query (for benchmarks). */
uint64_t ec_query_settled(const ec_query *q);

/* Writes the route's positions into an open JSON array: the start point, the
 * nodes between, and the end point when with_end. */
void ec_path_positions(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to,
                       const ec_path_t *p, int with_end, ec_jw *w);
/* The arcs a route drives part of at its start and at its end: the arc its
 * point snapped to, or that arc's opposite, or UINT32_MAX where it drives
 * none (a route leaving from a node). With p->arcs between them they are
 * every road the route uses, for naming them with ec_graph_arc_road. A route
 * along one road piece (no nodes) has the same arc at both ends. */
void ec_path_end_arcs(const ec_snap_t *from, const ec_snap_t *to, const ec_path_t *p, uint32_t *first,
                      uint32_t *last);
/* Writes the route's geometry as a GeoJSON LineString. */
void ec_path_geojson(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to,
                     const ec_path_t *p, ec_jw *w);

#endif
