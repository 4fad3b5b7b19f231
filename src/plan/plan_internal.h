/* plan_internal.h - the planning model's paths and cover sets, shared by
 * plan_model.c (which builds them) and plan_solve.c (which solves over them). */
#ifndef EC_PLAN_INTERNAL_H
#define EC_PLAN_INTERNAL_H

#include "ecorridor/ec_plan.h"

/* One pair's fastest path, for the trucks of the mix on it that need a charge (the planning
 * vehicle: the shortest ranges among them, their flow and energy); identical ones merged. */
typedef struct {
    int64_t origin, destination; /* node ids */
    int vehicle;                 /* index into the mix: the shortest full-charge range (the first, when merged) */
    int jurisdiction;            /* the origin's: index into the areas' ids, -1 none (0 without areas) */
    double flow;                 /* electric trucks per day */
    double km;                   /* the path's length */
    double e_kwh;                /* grid energy per truck: what it lacks, over its charge efficiency */
    double energy_kwh;           /* flow x e_kwh */
    double r_start_km, r_full_km;
    uint32_t node_off, n_nodes;  /* into the model's nodes and pos_km */
    uint32_t on_off, n_on;       /* places on it, by position: into on_place and on_pos_km */
    uint32_t cover_off, n_cover; /* its cover sets, each a range of its on-list: into cover_lo/hi */
    int servable;                /* every arc needing cover has a place that covers it */
} plan_path;

struct ec_plan_model {
    ec_plan_model_config_t c;
    plan_path *paths;
    size_t n_paths, cap_paths;
    uint32_t *nodes; /* graph node indices */
    double *pos_km;
    size_t n_nodes, cap_nodes;
    uint32_t *on_place;
    double *on_pos_km;
    size_t n_on, cap_on;
    uint32_t *cover_lo, *cover_hi; /* [lo, hi) within the path's on-list; the minimal sets only */
    size_t n_cover, cap_cover;
    double *flow_of;       /* per vehicle of the mix: its trucks a day on the paths */
    double *kwh_per_point; /* per place: what one of its points delivers a day (plan__point_kwh_per_day) */
    double eps;      /* the objective's weight on capex, truck-km per currency unit */
    double capex_max; /* the most the places could cost in all */
    ec_plan_model_stats_t stats;
};

/* The places a path's trucks may charge at: the union of its cover sets, as
 * a range [*lo, *hi) of its on-list. */
void plan__alloc_range(const struct ec_plan_model *m, const plan_path *p, uint32_t *lo, uint32_t *hi);

/* kWh a point at place k may deliver in a day: 24 h x point_max_utilisation x
 * its effective power, the flow-weighted energy of a charge from soc_min to
 * soc_charge_to on its plug and kW over the charge's time plus the stop overhead. */
double plan__point_kwh_per_day(const struct ec_plan_model *m, size_t k);

/* ec_plan_solve_min_cost for each members[i] into out[i] (members[i] NULL: all), up to `workers`
 * at once, each in a child process (plan_fork.c; in turn here when workers < 2 or the model has fewer paths than
 * its fork_min_paths); done(ctx, i), if
 * given, as each answer comes. The same answers as in turn. On failure none is kept. Call it only
 * while no other thread runs. */
/* From now on, in this process, a large min cost is searched without its relaxation made whole
 * (for a solver process retrying a coalition whose first process died). */
void plan__min_cost_plain(void);

ec_err plan__min_cost_many(const ec_plan_model *m, const unsigned char *const *members, size_t n_jobs, double mip_gap,
                           double time_limit_s, int workers, ec_plan_solution_t *out,
                           void (*done)(void *ctx, size_t job), void *ctx);

#endif
