/* ec_route.h - truck routes with charging stops, driver breaks and rests.
 *
 * A planner binds a road graph (with its hierarchy) and a set of charging
 * sites; each trip request names the vehicle profile, conditions, state of
 * charge and driver rules. Not thread-safe: one planner per thread.
 */
#ifndef EC_ROUTE_H
#define EC_ROUTE_H

#include "ecorridor/ec_energy.h"
#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_model.h"

typedef enum { EC_RULES_NONE, EC_RULES_EU, EC_RULES_US } ec_rules;
typedef enum { EC_OBJ_TIME, EC_OBJ_COST } ec_objective;

typedef struct {
    const ec_vehicle_profile *vehicle;
    ec_conditions_t cond;
    double soc_start;       /* 0..1 */
    double soc_min;         /* never below, anywhere */
    double soc_min_arrival; /* at the destination */
    ec_rules rules;
    double driven_since_break_s; /* driving already done since the last break */
    double driven_today_s;       /* driving already done since the last daily rest */
    double on_duty_s;            /* time since the duty window began (the last daily rest's end) */
    int64_t depart_s;            /* Unix time */
    ec_objective objective;
    const char *const *avoid; /* site ids that must not be used */
    size_t n_avoid;
    double stop_overhead_s; /* pulling in, plugging in, paying: added to every charging stop */
    size_t max_labels; /* search limit; 0: 500,000 labels (the reference: 20 M steps) */
} ec_trip_request_t;

#define EC_TRIP_MAX_STOPS 48
#define EC_TRIP_MAX_PAUSES 64
#define EC_TRIP_MAX_UNUSABLE 6

/* A driver's pause: the whole break, the second (30 min) part of a split
 * break, or the daily rest. */
typedef enum { EC_PAUSE_NONE, EC_PAUSE_BREAK, EC_PAUSE_BREAK_PART, EC_PAUSE_REST } ec_pause_kind;

/* "break", "break_part", "rest", or NULL for EC_PAUSE_NONE. */
const char *ec_pause_name(ec_pause_kind k);

/* A pause taken on the road, where the rules make it due (or at the rest
 * area before that point, when the graph knows one within reach). */
typedef struct {
    ec_pause_kind kind;
    int64_t start_s, end_s;
    ec_latlon_t at;
    char near[128];            /* the road and the nearest named place, or "" */
    char rest_area[96];        /* the rest area's name when the pause moved to one */
} ec_trip_pause_t;

/* A site near where an infeasible trip gets stuck that the plan could not use. */
typedef struct {
    char site_id[64];
    char name[128];
    double distance_m;         /* as the crow flies from the farthest point reached */
    const char *reason;        /* "plug", "power", "truck access", "status", "avoided", "out of range" */
    char why[160];
} ec_trip_unusable_t;

typedef struct {
    char site_id[64];
    char name[128];
    ec_plug plug;
    double power_w;            /* connector power used */
    int64_t arrival_s, departure_s;
    double soc_in, soc_out;
    double energy_kwh;         /* drawn from the grid */
    double charge_s, wait_s;
    double overhead_s;         /* pulling in, plugging in, paying */
    int brk;                   /* the mandatory break (or the daily rest) was taken here */
    int rest;                  /* the daily rest was taken here */
    int reserved;              /* the site's reservable window serves this stop: reserve it */
    int break_part;            /* EU split break: 1 its first 15 min, 2 its last 30 min taken here */
    int64_t cost;              /* 1e-4 currency units, whole cents: what the table shows */
    ec_pause_kind pause;       /* the pause taken here (with its charging inside it) */
    int64_t pause_start_s, pause_end_s; /* after any wait, until departure */
    ec_latlon_t at;            /* the site's position */
} ec_trip_stop_t;

typedef struct {
    int feasible;
    char reason[1024];         /* why not, when not feasible */
    int64_t departure_s, arrival_s;
    double distance_m, duration_s, drive_s, charge_s, wait_s, overhead_s, break_s, rest_s;
    int road_breaks, road_rests; /* breaks and rests taken on the road where they fell due */
    /* Whole lengths of the breaks and rests, charging and plugging in inside
     * them included (break_s and rest_s count only what is not charging). */
    double break_total_s, rest_total_s;
    double energy_kwh;         /* drawn by driving, from the battery */
    double soc_arrival;
    int64_t cost;              /* exactly the sum of the stops' costs */
    char currency[4];
    int n_stops;
    ec_trip_stop_t stops[EC_TRIP_MAX_STOPS];
    int n_points;              /* the visited points, for geometry */
    int points[EC_TRIP_MAX_STOPS + 2];
    uint64_t labels;           /* labels created by the search */
    int n_pauses;              /* on the road, in time order */
    ec_trip_pause_t pauses[EC_TRIP_MAX_PAUSES];
    /* When not feasible: the point reached nearest the destination, and the
     * sites near it the plan could not use, nearest first. */
    char farthest[128];
    ec_latlon_t farthest_at;
    double farthest_to_go_m;   /* by road to the destination */
    int n_unusable;
    ec_trip_unusable_t unusable[EC_TRIP_MAX_UNUSABLE];
} ec_trip_plan_t;

typedef struct ec_trip_planner ec_trip_planner;

/* Snaps the sites to the graph (sites farther than 5 km from a usable road
 * are left out and counted). Borrows g and sites for the planner's life. */
ec_err ec_trip_planner_new(const ec_graph *g, const ec_sites *sites, ec_trip_planner **out);
void ec_trip_planner_free(ec_trip_planner *p);
/* Sites the planner could use, and those left out as too far from a road. */
size_t ec_trip_planner_sites(const ec_trip_planner *p, size_t *skipped);

/* The best plan from `from` to `to`. EC_OK also for an infeasible trip
 * (plan->feasible == 0 with a reason); errors are bad requests. */
ec_err ec_trip_plan(ec_trip_planner *p, const ec_trip_request_t *r, ec_latlon_t from, ec_latlon_t to,
                    ec_trip_plan_t *plan);
/* The same optimum by exhaustive search over site sequences (slow; for
 * tests on small instances). Only the objective value is filled in. */
ec_err ec_trip_plan_reference(ec_trip_planner *p, const ec_trip_request_t *r, ec_latlon_t from,
                              ec_latlon_t to, double *best_key, int *feasible);
/* The plan's members (feasible, departure, arrival, ..., stops) written into
 * an object the caller has opened. */
void ec_trip_plan_json(ec_jw *w, const ec_trip_plan_t *p);
/* The plan's road geometry as a GeoJSON LineString. */
ec_err ec_trip_geojson(ec_trip_planner *p, const ec_trip_plan_t *plan, ec_jw *w);

/* A road route as a GeoJSON LineString, each position once: a point that
 * lies on a node, or legs that meet, do not repeat a coordinate. */
void ec_route_geojson(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to, const ec_path_t *p, ec_jw *w);

#endif
