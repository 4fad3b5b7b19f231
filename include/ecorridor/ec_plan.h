/* ec_plan.h - planning: where to build and upgrade, shared against
 * duplicated networks, and who pays (docs/plan.md).
 *
 * Three parts:
 *  - inputs (plan_input.c): candidate places, costs, jurisdictions; each
 *    parser bounded, all or nothing, its errors naming file, line and field;
 *  - the model (plan_model.c): a capacitated flow-refuelling location model
 *    over the corridor's origin-destination flows, solved as a MILP with GLPK;
 *  - its readings (plan_share.c, plan_tco.c): Shapley and use-based cost
 *    shares, total cost of ownership per km.
 * The command (src/cli/cmd_plan.c) ties them to the twin (ec_twin.h), which
 * measures every plan by simulating the day.
 *
 * Money here is double in currency units (a planning estimate, never billed). */
#ifndef EC_PLAN_H
#define EC_PLAN_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_energy.h"
#include "ecorridor/ec_geo.h"
#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_model.h"
#include "ecorridor/ec_twin.h"

/* ---- inputs -------------------------------------------------------------------------------- */

#define EC_PLAN_MAX_CANDIDATES 100000
#define EC_PLAN_MAX_JURISDICTIONS 256
#define EC_PLAN_MAX_POLYGON_VERTICES 2000000 /* over all polygons of one file */

/* One row of a candidates file (docs/plan.md): a place where a new site could be built.
 * Header: id,lat,lon then any of name,substation_id,headroom_kw,rail_interchange_km,
 * logistics_hub_km,renewable_km,max_points (in any order; unknown columns refused). */
typedef struct {
    char id[64];
    char name[128];          /* "" : the id */
    ec_latlon_t pos;
    char substation_id[64];  /* "" : none named */
    double headroom_kw;      /* grid headroom there, >= 0; INFINITY when the cell is empty */
    double rail_interchange_km, logistics_hub_km, renewable_km; /* >= 0; -1 when empty */
    int max_points;          /* > 0; 0 when empty (the costs' max_points_per_site) */
    long line;
} ec_plan_cand_t;

typedef struct {
    ec_plan_cand_t *c;
    size_t n;
} ec_plan_cands_t;

ec_err ec_plan_cands_parse(const char *name, const char *text, size_t len, ec_plan_cands_t *out);
ec_err ec_plan_cands_load(const char *path, ec_plan_cands_t *out);
void ec_plan_cands_free(ec_plan_cands_t *c);

/* COSTS.json: every figure has a documented default (docs/plan.md cites each);
 * a file gives only what it changes. All amounts in `currency`. */
typedef struct {
    char currency[4];             /* ISO 4217 */
    /* the network */
    double mcs_point_capex;       /* one MCS point: hardware and installation */
    double ccs_point_capex;       /* one CCS point */
    double mcs_point_kw, ccs_point_kw; /* a new point's power */
    double grid_capex_per_kw;     /* grid connection, per kW */
    double site_fixed_capex;      /* a new site: land, civil works, transformer bay */
    double point_opex_per_year;   /* per point: maintenance, network fees */
    double site_opex_per_year;    /* per site */
    double energy_price_per_kwh;  /* what the operator pays for energy */
    double demand_charge_per_kw_month; /* per kW of the site's installed power */
    double discount_rate;         /* 0..1, for the annuity of capex */
    double point_max_utilisation; /* the share of a day a planned point may charge, (0, 1] */
    int max_points_per_site;      /* > 0 */
    /* proximity: a place's bonus in the objective, in truck-km per day, is
     * weight x max(0, 1 - km / proximity_km) for each of the three */
    double weight_rail, weight_logistics, weight_renewable, proximity_km;
    /* total cost of ownership (tco.csv) */
    double truck_km_per_year;
    double diesel_price_per_l;
    double diesel_l_per_km;
    double diesel_truck_capex, bev_glider_capex, battery_capex_per_kwh, motor_capex_per_kw;
    double bev_motor_kw;          /* the BEV's motor power, which profiles do not give; > 0 */
    double diesel_maintenance_per_km, bev_maintenance_per_km;
    double diesel_insurance_per_km, bev_insurance_per_km;
    double charging_price_per_kwh; /* < 0: the simulated day's mean price at the sites */
} ec_plan_costs_t;

void ec_plan_costs_default(ec_plan_costs_t *out);
/* Starts from the defaults; unknown keys, negative amounts, a rate or share
 * outside its range are refused naming the key ("mcs_point_capex"). */
ec_err ec_plan_costs_parse(const char *name, const char *text, size_t len, ec_plan_costs_t *out);
ec_err ec_plan_costs_load(const char *path, ec_plan_costs_t *out);

/* --jurisdictions: GeoJSON (Polygon and MultiPolygon features with a string
 * property jurisdiction_id) or CSV node,jurisdiction_id. */
typedef struct {
    char (*ids)[64];   /* each jurisdiction once, in the order first named */
    size_t n_ids;
    /* GeoJSON: rings, each with its jurisdiction (index into ids) */
    struct ec_plan_ring *rings;
    size_t n_rings;
    /* CSV: node -> jurisdiction */
    int64_t *nodes;
    int *node_j;
    size_t n_nodes;
} ec_plan_areas_t;

ec_err ec_plan_areas_parse(const char *name, const char *text, size_t len, ec_plan_areas_t *out);
ec_err ec_plan_areas_load(const char *path, ec_plan_areas_t *out);
/* The jurisdiction (index into ids) of a corridor node: by its id in a CSV,
 * by its position in a GeoJSON (inside an outer ring and no hole of the same
 * polygon; the first polygon in file order wins). -1: none. */
int ec_plan_areas_of(const ec_plan_areas_t *a, int64_t node, ec_latlon_t pos);
/* Looks every node of g up once and keeps only the answer (the polygons become a node list), so
 * that the many lookups of a plan cost a bisection each, whatever the polygons. */
ec_err ec_plan_areas_resolve(ec_plan_areas_t *a, const ec_graph *g);
void ec_plan_areas_free(ec_plan_areas_t *a);

/* ---- the model -------------------------------------------------------------------------------- */

/* A place the plan may build at or extend. */
typedef struct {
    char site_id[64];      /* an existing site's id, a candidate's id, or "node-<id>" */
    char name[128];
    ec_latlon_t pos;
    int64_t node;          /* the corridor node trucks reach it from */
    int existing;          /* 1: a site today (no new-site cost, its points stay) */
    int points0;           /* points it has today (0 for a new place) */
    double kw;             /* power of each point added (an existing site: of its largest plug) */
    ec_plug plug;          /* the plug of points added */
    double point_capex;    /* capex of one point added */
    double headroom_kw;    /* grid headroom for power added; INFINITY: not a limit; a site of today
                              whose points draw more than its connection: below 0 (down to -their kW) */
    double grid_max_kw;    /* the most grid the plan may add here; 0: none (headroom is hard) */
    double bonus;          /* proximity bonus, truck-km per day, when the place is used */
    int max_points;        /* points it may have in all */
    int jurisdiction;      /* index into the areas' ids, -1 none */
    int substation;        /* 1 + index into the model's substations; 0: none named */
} ec_plan_place_t;

/* A substation places hang on: the power added at all of them together, less the grid added at
 * them, stays within its headroom (the min cost, building from nothing, also counts the power of
 * today's sites behind it as headroom). */
typedef struct {
    char id[64];
    double headroom_kw;    /* below 0 when today's points behind it draw more than it has */
} ec_plan_sub_t;

typedef struct ec_plan_model ec_plan_model; /* the flows, their paths and cover sets */

typedef struct {
    const ec_graph *g;               /* the corridor, contracted */
    const ec_traffic_t *traffic;
    const ec_vehicle_mix_t *mix;
    const ec_plan_areas_t *areas;    /* NULL: one jurisdiction for all */
    double bev_share, day_factor, temp_c;
    double soc_start;                /* the lowest charge a truck leaves with (the twin's: 0.70) */
    double soc_min;                  /* never below (the twin's: 0.10) */
    double soc_charge_to;            /* a stop charges to this (0.80) */
    double stop_overhead_s;          /* each session also holds its point this long (the twin's); 0: 300 s */
    int node_limit;                  /* branch-and-bound nodes a solve may open before it stops with its
                                        incumbent (deterministic, unlike the time limit); 0: 2000 */
    int large_rows;                  /* a MILP with more rows than this, or more columns than five times
                                        this, is large: no cuts, a 64th of the nodes (tests set it low);
                                        0: 5000 */
    size_t fork_min_paths;           /* many coalitions are solved in child processes (--threads at
                                        once) when the model has this many paths; fewer: in turn, as
                                        a process costs more than their MILPs; 0: 2000 */
    const ec_plan_place_t *places;
    size_t n_places;
    const ec_plan_sub_t *subs;       /* the substations the places name */
    size_t n_subs;
    const ec_plan_costs_t *costs;
    int years;                       /* the annuity's years */
    int progress;
} ec_plan_model_config_t;

/* Builds the paths (the fastest path of each pair on which electric trucks
 * need to charge), the energy each needs, and for each arc of each path the
 * places that can cover it. The config's arrays are borrowed for the model's life. */
ec_err ec_plan_model_build(const ec_plan_model_config_t *c, ec_plan_model **out);
void ec_plan_model_free(ec_plan_model *m);

typedef struct {
    size_t paths;             /* paths that need a charge */
    size_t unservable;        /* of them, paths no set of places can cover */
    double trucks_per_day;    /* electric trucks on paths that need a charge */
    double truck_km_per_day;  /* their km */
    double servable_truck_km; /* the km of the paths some network could cover */
    double kwh_per_day;       /* the energy they need on the way */
} ec_plan_model_stats_t;
void ec_plan_model_stats(const ec_plan_model *m, ec_plan_model_stats_t *out);

/* The model as JSON for tests (`plan --export-model`): places, paths with
 * flows, km, energy and cover sets, capacities, costs. */
ec_err ec_plan_model_json(const ec_plan_model *m, ec_buf *out);

typedef struct {
    size_t n;                 /* places */
    int *points;              /* per place: points added (a new place: all its points); the min cost's
                                 fractions rounded up, what a network built from it has */
    double *points_exact;     /* per place: the optimum's points (the min cost: fractions of a point) */
    double *grid_kw;          /* per place: grid added, kW */
    double *kwh_per_day;      /* per place: energy the model charges there */
    double served_truck_km;   /* per day, of paths that need a charge */
    double served_trucks;     /* per day */
    double objective;         /* the MILP's objective at this solution */
    double bound;             /* its best bound */
    double gap;               /* |bound - objective| / max(1e-9, |objective|) */
    double capex;             /* of what is added */
    double annual_cost;       /* of the network it describes (see ec_plan_solve_min_cost) */
    int nodes;                /* branch-and-bound nodes the search opened */
    int timed_out;            /* 1: the time limit stopped it (then a rerun may differ) */
    int rounded;              /* 1: its relaxation was made whole for the search to start from (the
                                 search takes it unless it has as good a plan already) */
} ec_plan_solution_t;

void ec_plan_solution_free(ec_plan_solution_t *s);

/* The most truck-km served within budget (capex; < 0: no limit), ties broken
 * toward the cheaper plan. mip_gap: GLPK's relative gap; time_limit_s: 0 none. */
ec_err ec_plan_solve_budget(const ec_plan_model *m, double budget, double mip_gap, double time_limit_s,
                            ec_plan_solution_t *out);

/* The cheapest network, built from nothing on the same places (existing
 * sites count as new places: their points and the site are paid for), that
 * serves every servable path whose origin's jurisdiction has members[j] != 0
 * (members NULL: all). annual_cost: capex as an annuity over the years at the
 * discount rate, plus opex and demand charges. */
ec_err ec_plan_solve_min_cost(const ec_plan_model *m, const unsigned char *members, double mip_gap,
                              double time_limit_s, ec_plan_solution_t *out);

/* Annual cost of capex spread over years at rate r: capex * r / (1 - (1+r)^-years) (r = 0: capex / years). */
double ec_plan_annuity(double capex, double rate, int years);

/* ---- readings ------------------------------------------------------------------------------ */

/* The cost of a coalition (bit j of mask: jurisdiction j is in it). */
typedef ec_err (*ec_plan_cost_fn)(void *ctx, uint64_t mask, double *cost);

typedef struct {
    double *value;      /* per player */
    double *stderr_;    /* per player: the sampling error (0 when exact) */
    int exact;
    size_t samples;     /* permutations drawn when not exact */
} ec_plan_shapley_t;

#define EC_PLAN_SHAPLEY_EXACT_MAX 12

/* The Shapley value of the cost game on n players: exact (every coalition,
 * each cost asked once) when n <= EC_PLAN_SHAPLEY_EXACT_MAX, else from
 * `samples` random orders (seeded) with each player's standard error. */
ec_err ec_plan_shapley(int n, ec_plan_cost_fn cost, void *ctx, size_t samples, uint64_t seed, ec_plan_shapley_t *out);
void ec_plan_shapley_free(ec_plan_shapley_t *s);

/* One row of tco.csv. */
typedef struct {
    char vehicle[64];
    int years;
    double bev_cost_per_km, diesel_cost_per_km, co2_t_per_year;
} ec_plan_tco_t;

/* The total cost of ownership per km of a vehicle over years against a
 * diesel truck doing the same km (costs->truck_km_per_year), discounted at
 * costs->discount_rate. The BEV's energy: ec_energy_route_wh on level road at
 * 80 km/h with its default payload at temp_c, over its charge_eff, at
 * charging_price_per_kwh (the costs' own when >= 0, else the argument).
 * co2_t_per_year: the tailpipe CO2 the diesel truck emits in a year
 * (EC_TWIN_DIESEL_TTW_KG_PER_L), which the BEV avoids, less the grid's
 * grid_g_per_kwh on the BEV's energy. docs/plan.md. */
ec_err ec_plan_tco(const ec_plan_costs_t *c, const ec_vehicle_profile *v, int years, double temp_c,
                   double charging_price_per_kwh, double grid_g_per_kwh, ec_plan_tco_t *out);

/* The network to compare a plan against (plan_even.c): MCS pools along the
 * corridor's roads so that, read as `ecorridor report afir` reads gaps
 * (docs/afir.md: each direction, no U-turns, nearest pool behind and ahead,
 * a pool within 3 km of a network's end closes it), no stretch between pools
 * is longer than spacing_km (1..10000). Today's sites count as pools where
 * they stand (within 3 km of a road), whatever their size; new ones go by a
 * greedy walk, on a node or along an edge's straight line. Each new pool
 * (site id "even-001", ...) gets k->mcs_point_kw MCS points, the budget
 * (capex: site_fixed_capex + points x mcs_point_capex) spread evenly, every
 * pool the same and a point more for the first ones with what is left, at
 * most max_points_per_site; when it cannot give every pool a point, only the
 * first pools the walk found that it pays for (a warning in the log says how
 * many of how many). budget < 0: no limit, every pool the size AFIR
 * Article 4(1)(c) asks (3,600 kW, two points of 350 kW). *out: today's rows
 * (today may be NULL), then the new pools, one row each; returns new (free
 * with ec_sites_free); *pools: the new pools placed. Untouched on error. */
ec_err ec_plan_even_pools(const ec_graph *g, double spacing_km, const ec_plan_costs_t *k, double budget,
                          const ec_sites *today, ec_sites *out, size_t *pools);

/* ---- the run (plan_run.c, plan_out.c): the command's work, measured by the twin --------- */

typedef struct {
    ec_twin_config_t twin;           /* the day (graph, traffic, existing sites, mix, options, seed);
                                        its journal must be NULL and its scenario's points applied */
    const ec_plan_areas_t *areas;    /* NULL: one jurisdiction, "ALL" */
    const ec_plan_cands_t *cands;    /* NULL: none */
    const char *cands_name;          /* its file, for messages */
    const ec_plan_costs_t *costs;
    double budget;                   /* capex; < 0: no limit */
    int years;
    double mip_gap, time_limit_s;
    size_t resilience_max;           /* sites taken down in turn, the busiest first; 0: all */
    size_t shapley_samples;          /* random orders above EC_PLAN_SHAPLEY_EXACT_MAX jurisdictions */
    ec_buf *export_model;            /* not NULL: the model's JSON (ec_plan_model_json) goes here */
    double compare_spacing_km;       /* > 0: also simulate pools every this many km at the plan's budget */
    int progress;
} ec_plan_config_t;

/* One action of the plan, in rank order, with the day measured with it and every action ranked before it. */
typedef struct {
    int rank;                        /* 1.. */
    char action[16];                 /* "new_site", "add_points", "grid_upgrade" */
    char site_id[64];
    char name[128];
    int64_t node;
    ec_latlon_t pos;
    ec_plug plug;
    int points;                      /* points added */
    double kw;                       /* power of each */
    double grid_kw;                  /* grid added */
    double capex, annual_cost;
    int jurisdiction;                /* -1 none */
    double model_kwh_per_day;        /* what the model charges there */
    /* measured, cumulative to this rank */
    double wait_h_saved_per_day, stranded_avoided_per_day, energy_served_kwh_per_day, cost_per_kwh;
} ec_plan_action_t;

typedef struct {
    char id[64];                     /* a jurisdiction, or "ALL" */
    double trucks_per_day;           /* electric trucks starting there */
    double energy_kwh;               /* charged by its trucks in the shared network's day */
    double shared_cost, duplicated_cost;     /* per year */
    double shared_p95_wait_min, duplicated_p95_wait_min;
    int64_t shared_stranded, duplicated_stranded;
    int shared_points, duplicated_points;
    double share_by_use, shapley, shapley_err, standalone;
    int pays_more_than_alone;
} ec_plan_jrow_t;

typedef struct {
    char site_id[80];                /* a site, or "substation:<id>" for a substation at half capacity */
    char name[128];
    int64_t stranded_when_down;
    double extra_wait_h;
    int rank;
} ec_plan_resil_t;

typedef struct {
    double budget, spent, objective, bound, gap;
    double served_truck_km, model_annual_cost;
    ec_plan_model_stats_t stats;
    size_t n_places;
    ec_vec actions;                  /* ec_plan_action_t */
    ec_twin_result_t base, planned;  /* the day as things are, and with every action */
    ec_vec jrows;                    /* ec_plan_jrow_t, the jurisdictions then ALL */
    int shapley_exact;
    size_t shapley_samples;
    size_t cost_game_solves;         /* coalitions whose cheapest network was solved */
    double cost_game_gap;            /* the widest optimality gap among those solves */
    ec_vec resilience;               /* ec_plan_resil_t, by rank */
    ec_vec tco;                      /* ec_plan_tco_t */
    double co2_t_per_year;           /* the region's electric trucks, tank-to-wheel avoided */
    double charging_price_per_kwh;   /* the mean the TCO used */
    /* --compare-spacing: the evenly spaced pools at the same budget, and their day */
    int compared;
    size_t even_pools;
    double even_capex;
    ec_sites even_sites;             /* today's sites and the pools */
    ec_twin_result_t even;
    double runtime_s;
} ec_plan_result_t;

/* The places the plan may build at: the existing sites, every corridor node
 * and the candidates; and the substations they hang on (ec_plan_sub_t): a
 * hub's with a capacity (less the peak of its base load on the day and the
 * power of its sites today), and each other substation_id candidates name
 * (the least headroom_kw they give it; none given: no limit, not listed).
 * EC_EINVAL naming the candidate's line when it lies more than 5 km from a
 * road of the corridor. */
ec_err ec_plan_places(const ec_plan_config_t *c, ec_vec *places, ec_vec *subs);
/* The cheapest single action among places (capex), for checking a budget. */
double ec_plan_cheapest_action(const ec_plan_config_t *c, const ec_plan_place_t *places, size_t n, char *what, size_t what_n);

ec_err ec_plan_run(const ec_plan_config_t *c, ec_plan_result_t *out);
void ec_plan_result_free(ec_plan_result_t *r);
/* Writes plan.json, upgrades.csv, shared_vs_duplicated.csv, cost_shares.csv,
 * resilience.csv, tco.csv, the planned day's twin files (summary.json,
 * sites.csv, segments.csv, segments.geojson, substations.csv, trips.csv) and
 * upgrades/rank-NNN.json (the scenario of the actions up to each rank, which
 * `ecorridor simulate --scenario` reads) into dir (which exists). */
ec_err ec_plan_write(const ec_plan_result_t *r, const ec_plan_config_t *c, const char *dir);
/* plan.json's text. */
ec_err ec_plan_json(const ec_plan_result_t *r, const ec_plan_config_t *c, ec_buf *out);

#endif
