/* ec_sim.h - the engine on a simulated clock: charging sessions of a site
 * replayed through an allocation algorithm under a capacity, as planning
 * (and the benchmark against the published ACN results) needs. */
#ifndef EC_SIM_H
#define EC_SIM_H

#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_base.h"
#include "ecorridor/ec_series.h"

#define EC_SIM_MAX_SESSIONS 1000000
#define EC_SIM_MAX_FILE (256u << 20)

typedef struct {
    char id[64];
    char station[40];
    int64_t arrival_s, departure_s; /* plugged in over [arrival, departure) */
    int64_t est_departure_s;        /* what the driver said: what the algorithms see */
    double requested_wh;
    double max_w;                   /* vehicle's maximum charging power */
    double arrival_wh;              /* energy in the battery on arrival (V2G only) */
    double need_wh;                 /* the least it must hold at departure (V2G only) */
    double max_discharge_w;         /* V2G: its maximum discharging power; 0: no V2G */
} ec_charge_session_t;

/* Reads a sessions CSV with the columns session_id, station_id,
 * arrival_period, departure_period, estimated_departure_period,
 * requested_energy_kWh, battery_max_power_kW, and for vehicle-to-grid the
 * optional v2g (0 or 1), arrival_kWh, departure_need_kWh and
 * battery_max_discharge_kW (default: battery_max_power_kW); others ignored.
 * Periods of period_s seconds since the start. Appends to out
 * (ec_charge_session_t); errors name the file, line and column. */
ec_err ec_charge_sessions_csv(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out);
/* Reads an acnportal EventQueue (its JSON, or that JSON inside a JSON
 * string, as the ACN benchmark input is): every acnsim EV is a session. */
ec_err ec_charge_sessions_acn(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out);
/* Reads a sessions file (gzip or plain): csv 1, a CSV as above; csv 0, an
 * acnportal EventQueue (the JSON serialised as a string inside, as the ACN
 * benchmark input is). */
ec_err ec_charge_sessions_load(const char *path, int csv, int64_t period_s, ec_vec *out);

#define EC_SIM_MAX_SERIES 35136 /* a year of 15-minute values */

/* Reads a series from a CSV with the columns start_h (hours since the start
 * of the replay: 0, then evenly spaced, e.g. every 1 or 0.25 hours) and
 * column, each value in [lo, hi]. */
ec_err ec_series_csv(const char *name, const char *text, size_t len, const char *column, double lo, double hi,
                     ec_series_t *out);
ec_err ec_series_load(const char *path, const char *column, double lo, double hi, ec_series_t *out);
/* Its value at t_s (seconds since the start of the replay, the series'
 * origin), by ec_series.h's rule: a shorter series repeats; dflt when s is
 * NULL or empty. */
double ec_series_value(const ec_series_t *s, int64_t t_s, double dflt);

typedef struct {
    ec_alloc_algo algo;
    double capacity_w;     /* the shared limit (a transformer, a grid connection) */
    double evse_max_w;     /* each EVSE's limit; 0: none */
    int64_t period_s;      /* control interval */
    double price_per_kwh;  /* energy price, for cost, when there is no series */
    const ec_series_t *prices; /* energy price per kWh; NULL: price_per_kwh throughout */
    const ec_series_t *others; /* the others' load at the connection, W, net of renewables; NULL: none */
    int minimise_peak;     /* opt: hold the peak down after the energy */
    double v2g_price;      /* V2G sessions discharge in periods priced at least this (0: never for price) */
    double export_price;   /* per kWh V2G gives back; 0: the period's energy price */
    ec_battery_t battery;  /* a stationary battery at the connection (capacity_wh 0: none) */
} ec_charge_sim_opts_t;

typedef struct {
    int64_t sessions, steps, max_active;
    double requested_wh, delivered_wh, delivered_pct; /* pct: of requested energy */
    double peak_w, cost;   /* peak: drawn from the grid (charging + battery + others); cost: of charging
                            * and the battery, net of exports */
    double max_over_w;     /* the most the allocation ever exceeded capacity (0 unless uncontrolled) */
    double exported_wh;    /* given back by V2G sessions */
    double unmet_wh;       /* requested but not delivered */
    double below_need_wh;  /* V2G: the most any vehicle left below its departure need (0 is right) */
    double battery_out_wh; /* what the stationary battery gave */
} ec_charge_sim_result_t;

/* The price of energy at t_s: the series' value then (ec_series_value),
 * else price_per_kwh. */
double ec_charge_price_at(const ec_charge_sim_opts_t *o, int64_t t_s);

/* Replays sessions (ec_charge_session_t) with o; each step allocates the
 * sessions present and delivers what it gives for one period. */
ec_err ec_charge_simulate(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r);

/* The offline optimum of the same replay: every arrival known in advance,
 * the most energy the capacity allows (o->algo is ignored), and with a
 * price series the least cost of that energy. Exact: a maximum flow from
 * the sessions through the periods they are plugged in (opened cheapest
 * first when there are prices). No V2G or battery. */
ec_err ec_charge_offline_optimum(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r);

#endif
