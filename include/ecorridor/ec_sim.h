/* ec_sim.h - the engine on a simulated clock: charging sessions of a site
 * replayed through an allocation algorithm under a capacity, as planning
 * (and the benchmark against the published ACN results) needs. */
#ifndef EC_SIM_H
#define EC_SIM_H

#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_base.h"
#include "ecorridor/ec_series.h"

#include <stdio.h>

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

/* The start of a replay not yet known (ec_charge_sessions_csv_at). */
#define EC_SIM_NO_START INT64_MIN
/* The EVSE limit of the ACN input: 32 A at 208 V. */
#define EC_SIM_ACN_EVSE_KW 6.656

/* Reads a sessions CSV (docs/charging.md): the columns session_id,
 * station_id, requested_energy_kWh, battery_max_power_kW, the optional
 * evse_max_power_kW (the session's power limit is the lower of the two),
 * the times either as arrival_period, departure_period,
 * estimated_departure_period (periods of period_s since the start) or as
 * arrival, departure and the optional estimated_departure (ISO 8601), and
 * for vehicle-to-grid the optional v2g (0 or 1), arrival_kWh,
 * departure_need_kWh and battery_max_discharge_kW (default:
 * battery_max_power_kW); others ignored. Timestamps are counted from
 * *start_s (Unix seconds; EC_SIM_NO_START: the hour of the first arrival,
 * written back), arrivals rounded up and departures down to whole periods;
 * with period numbers *start_s is only written when unknown (0). Appends
 * to out (ec_charge_session_t, at most EC_SIM_MAX_SESSIONS); on an error
 * out is as it was, and the message names the file, line and column. */
ec_err ec_charge_sessions_csv_at(const char *name, const char *text, size_t len, int64_t period_s, int64_t *start_s,
                                 ec_vec *out);
/* ec_charge_sessions_csv_at with the start the file gives. */
ec_err ec_charge_sessions_csv(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out);
/* Reads an acnportal EventQueue (its JSON, or that JSON inside a JSON
 * string, as the ACN benchmark input is): every acnsim EV is a session,
 * held to its vehicle's and EC_SIM_ACN_EVSE_KW. */
ec_err ec_charge_sessions_acn(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out);
/* Reads a sessions file (gzip or plain): csv 1, a CSV as above; csv 0, an
 * acnportal EventQueue (the JSON serialised as a string inside, as the ACN
 * benchmark input is). *start_s as ec_charge_sessions_csv_at (0 for an
 * event queue). */
ec_err ec_charge_sessions_load(const char *path, int csv, int64_t period_s, int64_t *start_s, ec_vec *out);

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
    double evse_max_w;     /* a cap the user sets on every session, below its own limit; 0: none */
    int64_t period_s;      /* control interval */
    double price_per_kwh;  /* energy price, for cost, when there is no series */
    const ec_series_t *prices; /* energy price per kWh; NULL: price_per_kwh throughout */
    const ec_series_t *others; /* the others' load at the connection, W, net of renewables; NULL: none */
    int minimise_peak;     /* opt: hold the peak down after the energy */
    double v2g_price;      /* V2G sessions discharge in periods priced at least this (0: never for price) */
    double export_price;   /* per kWh V2G gives back; 0: the period's energy price */
    ec_battery_t battery;  /* a stationary battery at the connection (capacity_wh 0: none) */
    /* Called once a period when set (the schedule): the period's start in
     * seconds since the start of the replay, each session's power in W in the
     * order of the sessions given (0 when it is not charging, < 0 when it
     * gives back), the battery's (> 0 charging) and the others' load. */
    void (*on_period)(void *ctx, int64_t t_s, const double *session_w, double battery_w, double others_w);
    void *ctx;
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
    double battery_in_wh;  /* what it took from the grid */
    double battery_change_wh; /* stored at the end less at the start; in the cost at the replay's lowest price */
} ec_charge_sim_result_t;

/* The price of energy at t_s: the series' value then (ec_series_value),
 * else price_per_kwh. */
double ec_charge_price_at(const ec_charge_sim_opts_t *o, int64_t t_s);

/* Replays sessions (ec_charge_session_t) with o; each step allocates the
 * sessions present and delivers what it gives for one period. */
ec_err ec_charge_simulate(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r);

/* The offline optimum of the same replay: every arrival known in advance,
 * the most energy the capacity allows (o->algo is ignored); with
 * minimise_peak, the least peak that lets that energy through; with a
 * price series, the least cost of that energy under that peak. Exact: a
 * maximum flow from the sessions through the periods they are plugged in
 * (opened cheapest first when there are prices), the peak by bisection to
 * 1 W. It has no V2G and no battery (o->battery, o->v2g_price ignored):
 * with those it is the optimum of a smaller problem. on_period is called
 * as by ec_charge_simulate. */
ec_err ec_charge_offline_optimum(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r);

/* A schedule being written (ec_charge_schedule_open). */
typedef struct {
    FILE *f;
    const char *path;         /* borrowed */
    int64_t start_s;          /* the replay's start, Unix seconds */
    const ec_vec *sessions;   /* borrowed: the column order */
    int battery, others;      /* write battery_kw, others_kw */
} ec_charge_schedule_t;

/* Creates path and writes the header: period_start, total_kw (the charging
 * and the battery: what the site draws besides the others' load), with
 * battery set battery_kw, with others set others_kw, then one column per
 * session id, in the order of sessions. Close with ec_charge_schedule_close. */
ec_err ec_charge_schedule_open(ec_charge_schedule_t *s, const char *path, int64_t start_s, const ec_vec *sessions,
                               int battery, int others);
/* An on_period callback (ctx: the schedule): one row, period_start in ISO
 * 8601 UTC, powers in kW to the watt. */
void ec_charge_schedule_period(void *ctx, int64_t t_s, const double *session_w, double battery_w, double others_w);
/* Closes the file; EC_EIO when a write failed. */
ec_err ec_charge_schedule_close(ec_charge_schedule_t *s);

#endif
