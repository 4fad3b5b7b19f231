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
    int64_t depart_s;            /* Unix time */
    ec_objective objective;
    const char *const *avoid; /* site ids that must not be used */
    size_t n_avoid;
    double stop_overhead_s; /* pulling in, plugging in, paying: added to every charging stop */
    size_t max_labels; /* search limit; 0: 500,000 labels (the reference: 20 M steps) */
} ec_trip_request_t;

#define EC_TRIP_MAX_STOPS 48

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
    int64_t cost;              /* 1e-4 currency units */
} ec_trip_stop_t;

typedef struct {
    int feasible;
    char reason[512];          /* why not, when not feasible */
    int64_t departure_s, arrival_s;
    double distance_m, duration_s, drive_s, charge_s, wait_s, overhead_s, break_s, rest_s;
    int road_breaks, road_rests; /* breaks and rests taken on the road where they fell due */
    double energy_kwh;         /* drawn by driving, from the battery */
    double soc_arrival;
    int64_t cost;
    char currency[4];
    int n_stops;
    ec_trip_stop_t stops[EC_TRIP_MAX_STOPS];
    int n_points;              /* the visited points, for geometry */
    int points[EC_TRIP_MAX_STOPS + 2];
    uint64_t labels;           /* labels created by the search */
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

#endif
