/* ec_alloc.h - power for each charging session under a shared limit.
 *
 * Pure: the sessions now and the limit in, a power per session out; no I/O,
 * no clock of its own. The online algorithms know only the sessions present
 * (their arrival, estimated departure, remaining energy and maximum power),
 * as a live site does.
 */
#ifndef EC_ALLOC_H
#define EC_ALLOC_H

#include "ecorridor/ec_base.h"

typedef enum {
    EC_ALLOC_UNCONTROLLED, /* every session at its maximum; the limit is ignored */
    EC_ALLOC_FCFS,         /* first come first served: by arrival, each as much as fits */
    EC_ALLOC_RR,           /* equal shares: max-min fair water-filling */
    EC_ALLOC_EDF,          /* earliest (estimated) departure first */
    EC_ALLOC_LLF,          /* least laxity first */
    EC_ALLOC_OPT,          /* optimising over the horizon of the sessions present (a flow each step) */
    EC_ALLOC_COUNT
} ec_alloc_algo;

/* "uncontrolled", "fcfs", "rr", "edf", "llf", "opt". */
const char *ec_alloc_algo_name(ec_alloc_algo a);
int ec_alloc_algo_parse(const char *s, ec_alloc_algo *out);

typedef struct {
    int64_t arrival_s;
    int64_t departure_s;    /* estimated: what the driver or fleet said; a session past it is still
                             * plugged in, and opt takes it to leave at the end of this period */
    double remaining_wh;    /* energy still requested */
    double max_w;           /* min(vehicle, connector, EVSE) */
    int site;               /* index into ec_alloc_grid_t.site_limit_w (0 with one site) */
    double v2g_wh;          /* opted in to vehicle-to-grid: the energy it may give back and still
                             * leave with what its departure needs (0: none) */
    double max_discharge_w; /* min(vehicle, connector) when discharging */
} ec_alloc_session_t;

/* What the sessions share, over the horizon known now: period k covers
 * [now + k·period, now + (k+1)·period); beyond n_periods the last value
 * holds. */
typedef struct {
    int64_t now_s, period_s;
    size_t n_periods;          /* at least 1 */
    const double *headroom_w;  /* the shared limit per period: substation capacity − the others' load
                                * + renewables (+ what a battery can give); below 0 means the others
                                * alone exceed it */
    const double *other_w;     /* the others' load per period, for the peak; NULL: 0 */
    const double *price;       /* energy price per kWh per period; NULL: the same at all times */
    size_t n_sites;
    const double *site_limit_w; /* each site's grid connection (<= 0: none); NULL: no site limits */
    int minimise_peak;         /* opt: after the energy, the lowest peak of others + charging */
    double v2g_price;          /* V2G sessions not charging discharge in a period priced at least this
                                * (0: only to cover the others' load above the limit) */
} ec_alloc_grid_t;

/* Powers for n sessions at now_s over the next period_s, each within
 * [0, max_w] and never more than its remaining energy needs in that period;
 * their sum within limit_w (except EC_ALLOC_UNCONTROLLED). out_w has n. */
void ec_alloc_step(ec_alloc_algo algo, const ec_alloc_session_t *s, size_t n, double limit_w, int64_t now_s,
                   int64_t period_s, double *out_w);

/* The same under every limit of g at once: each session within [0, max_w]
 * (or down to −max_discharge_w for V2G, never giving back more than v2g_wh
 * in the period), each site's net power within its connection, and the sum
 * within headroom_w[0] (except EC_ALLOC_UNCONTROLLED, which ignores limits).
 * EC_ALLOC_OPT minimises over the horizon, in this order: the energy
 * requested but not delivered, then (minimise_peak) the peak of others +
 * charging, then the energy cost; with no prices, energy as early as
 * possible. */
void ec_alloc_solve(ec_alloc_algo algo, const ec_alloc_session_t *s, size_t n, const ec_alloc_grid_t *g, double *out_w);

/* Sites behind one limit, each with its own algorithm and connection. */
typedef struct {
    ec_alloc_algo algo;
    double limit_w; /* its grid connection; <= 0: none */
} ec_alloc_site_t;

/* ec_alloc_solve for sites with their own algorithms: when all sites use
 * one, one solve under the nested limits; else the headroom is first
 * shared among the sites max-min fairly by what each can take (within its
 * connection), then each site's algorithm shares its part among its
 * sessions (s[i].site indexes sites). */
void ec_alloc_sites(const ec_alloc_site_t *sites, size_t n_sites, const ec_alloc_session_t *s, size_t n,
                    const ec_alloc_grid_t *g, double *out_w);

/* A stationary battery at a site or substation. */
typedef struct {
    double capacity_wh, stored_wh;
    double max_charge_w, max_discharge_w;
    double efficiency; /* round trip, 0..1 (applied on charging) */
} ec_battery_t;

/* What the battery does over the next period: given the most the grid
 * should give (target_w: the headroom, or the peak to hold) and the charging
 * power allocated, it discharges what the charging takes above the target,
 * else it charges up to the target when the price now is at most price_ref
 * (the horizon's mean; always when both are 0). Returns the battery's power
 * (> 0 charging from the grid, < 0 discharging) and updates stored_wh. */
double ec_battery_step(ec_battery_t *b, double target_w, double charging_w, double price_now, double price_ref,
                       int64_t period_s);

#endif
