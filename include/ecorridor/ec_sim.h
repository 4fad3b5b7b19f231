/* ec_sim.h - the engine on a simulated clock: charging sessions of a site
 * replayed through an allocation algorithm under a capacity, as planning
 * (and the benchmark against the published ACN results) needs. */
#ifndef EC_SIM_H
#define EC_SIM_H

#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_base.h"

#define EC_SIM_MAX_SESSIONS 1000000
#define EC_SIM_MAX_FILE (256u << 20)

typedef struct {
    char id[64];
    char station[40];
    int64_t arrival_s, departure_s; /* plugged in over [arrival, departure) */
    int64_t est_departure_s;        /* what the driver said: what the algorithms see */
    double requested_wh;
    double max_w;                   /* vehicle's maximum charging power */
} ec_charge_session_t;

/* Reads a sessions CSV with the columns session_id, station_id,
 * arrival_period, departure_period, estimated_departure_period,
 * requested_energy_kWh, battery_max_power_kW (others ignored), periods of
 * period_s seconds since the start. Appends to out (ec_charge_session_t);
 * errors name the file, line and column. */
ec_err ec_charge_sessions_csv(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out);
/* Reads an acnportal EventQueue (its JSON, or that JSON inside a JSON
 * string, as the ACN benchmark input is): every acnsim EV is a session. */
ec_err ec_charge_sessions_acn(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out);
/* Reads a sessions file (gzip or plain): csv 1, a CSV as above; csv 0, an
 * acnportal EventQueue (the JSON serialised as a string inside, as the ACN
 * benchmark input is). */
ec_err ec_charge_sessions_load(const char *path, int csv, int64_t period_s, ec_vec *out);

typedef struct {
    ec_alloc_algo algo;
    double capacity_w;     /* the shared limit (a transformer, a grid connection) */
    double evse_max_w;     /* each EVSE's limit; 0: none */
    int64_t period_s;      /* control interval */
    double price_per_kwh;  /* energy price, for cost */
} ec_charge_sim_opts_t;

typedef struct {
    int64_t sessions, steps, max_active;
    double requested_wh, delivered_wh, delivered_pct; /* pct: of requested energy */
    double peak_w, cost;
    double max_over_w;     /* the most the allocation ever exceeded capacity (0 unless uncontrolled) */
} ec_charge_sim_result_t;

/* Replays sessions (ec_charge_session_t) with o; each step allocates the
 * sessions present and delivers what it gives for one period. */
ec_err ec_charge_simulate(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r);

/* The offline optimum of the same replay: every arrival known in advance,
 * the most energy the capacity allows (o->algo is ignored). Exact: a
 * maximum flow from the sessions through the periods they are plugged in. */
ec_err ec_charge_offline_optimum(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r);

#endif
