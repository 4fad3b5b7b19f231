/* plan_internal.h - the planner's state, shared by the search (plan.c), the
 * plan it fills in (timeline.c) and the explanation of an infeasible trip
 * (explain.c). */
#ifndef EC_ROUTE_PLAN_INTERNAL_H
#define EC_ROUTE_PLAN_INTERNAL_H

#include "ecorridor/ec_route.h"
#include "walk.h"

#define SITE_SNAP_M 5000.0
#define EPS 1e-9

typedef struct {
    char id[64];
    char name[128];
    ec_snap_t snap;
    int first_row, last_row; /* rows of the sites file, linked by row_next */
} site;

typedef struct {
    uint8_t state; /* 0 unknown, 1 known, 2 no route */
    double dur_s, dist_m, energy_wh;
    double peak_wh; /* the most drawn from the battery at any point on the way (>= energy_wh) */
} leg;

typedef struct {
    double key, t, soc, since, day, duty, cost;
    int part; /* the first part of a split break was taken since the last break */
    int point, parent;
    int dead;
    /* what happened at the parent's point before this leg */
    double dep_soc, charge_s, stop_s, wait_s, grid_wh, stop_cost;
    int brk, rest, reserved, split, plug, group;
    /* running totals */
    double drive_s, break_s, rest_s, waited_s, dist_m, energy_wh;
    int road_breaks, road_rests;
} label;

typedef struct {
    int plug, group; /* best connector for the vehicle, or plug -1 */
    double power_w;
    int avoid;
    int usable;      /* has a connector for the vehicle and is not avoided */
    int tab;         /* charging table of the connector */
    int available;   /* connectors free now */
    double wait_s;   /* expected wait */
    double busy_until; /* the wait ends then (Unix s); 0: wait_s holds */
    double res_from, res_to; /* reservable window, Unix s (equal: none) */
} site_choice;

typedef struct {
    ec_plug plug;
    double limit_w;
    ec_charge_table_t t;
} charge_tab;

struct ec_trip_planner {
    const ec_graph *g;
    const ec_sites *sites;
    ec_query *q;
    site *s;
    size_t n_sites, skipped;
    int *row_next;  /* [sites->n]: the site's next row, or -1 */
    ec_snap_t od[2];
    /* On level roads legs come from search spaces met by rank (the
     * hierarchy's many-to-many): each point's as a source (fw) and as a target
     * (bw), with the sums the energy follows from. NULL with grades. */
    ec_route_sums_t *up_s, *down_s;
    ec_space_t *fw, *bw;
    leg *legs; /* (n_sites + 2)^2 */
    site_choice *choice;
    /* what the site-to-site legs were computed for */
    char cached_vehicle[64];
    double cached_payload, cached_temp;
    /* per vehicle: charging tables; per site, the other sites by leg energy */
    charge_tab *tabs;
    size_t n_tabs, cap_tabs;
    int *near;      /* [np * np]: near[i * np + k] */
    int *near_n;    /* [np]: -1 until built */
    /* per request: bounds for A* */
    double *lb_e;   /* least energy (Wh) from each point to the destination */
    double *e_into; /* [np * np]: e_into[u * np + i] = leg energy i -> u (INFINITY: none) */
    int e_into_ok;  /* filled for the sites (not origin, destination) for this vehicle */
    uint8_t *settled;
    double pmax_batt_w, min_price_kwh, best_dest_key;
    /* search */
    label *labels;
    size_t n_labels, cap_labels;
    uint64_t *heap;
    size_t heap_n, heap_cap;
    int *at_head;   /* per point: list of label indices via next */
    int *next;
    size_t next_cap;
    const ec_trip_request_t *r;
    /* Where each road pause of the plan being filled fell: its leg's points
     * and the driving into the leg. */
    struct {
        int a, b;
        double drive_s;
    } pause_leg[EC_TRIP_MAX_PAUSES];
};

/* The driving clocks: driving since the last break (`since`), driving since
 * the last daily rest (`day`), time since the duty period began (`duty`:
 * after the last daily rest, or at departure). EU: a 45 min break after 4.5 h
 * of driving, which may be split into 15 min and then 30 min; 9 h of driving
 * a day; an 11 h rest that must end within 24 h of the last, so it starts at
 * most 13 h into the duty period. US (hours of service): a 30 min break after
 * 8 h of driving, 11 h of driving, nothing after the 14th hour on duty, a 10 h
 * rest. */
typedef struct {
    double break_after_s, break_s, split_first_s, split_second_s, day_limit_s, rest_s, window_s;
} rules_t;

/* The pauses a stretch of driving made due, as drive_with_rules takes them:
 * the driving done in the stretch when each began, and its length. */
typedef struct {
    int n;
    struct {
        ec_pause_kind kind;
        double drive_s, start_s, len_s; /* start_s: from the stretch's start, pauses included */
    } e[EC_TRIP_MAX_PAUSES];
    int overflow;
} road_log;

size_t route__n_points(const ec_trip_planner *p);
/* Point i: 0 the origin, 1 the destination, 2.. the sites. */
const ec_snap_t *route__point_snap(const ec_trip_planner *p, int i);
const char *route__point_name(const ec_trip_planner *p, int i);
/* The leg from point a to point b, computed once per vehicle and conditions. */
const leg *route__get_leg(ec_trip_planner *p, int a, int b);
/* The label of the truck at the origin before it leaves. */
label route__start_label(const ec_trip_request_t *r);
rules_t route__rules_of(ec_rules r);
/* Drives `drive` seconds from l's clocks, taking breaks and daily rests on the
 * road when they fall due; each is written into log when one is given.
 * Returns the extra time spent resting. */
double route__drive_with_rules(const rules_t *ru, double drive, label *l, road_log *log);
/* The driving clocks after a stop of stop_s seconds in which the rest, the
 * break or the first part of a split break was taken (pause: the part of the
 * stop that was neither waiting, charging nor plugging in). */
void route__take_stop(label *n, double stop_s, int rest, int brk, int split, double pause);

/* Fills plan from the label li settled at the destination (timeline.c). */
ec_err route__fill_plan(ec_trip_planner *p, int li, ec_trip_plan_t *plan);
/* Says in plan why no label reached the destination (explain.c). */
void route__explain_infeasible(ec_trip_planner *p, ec_trip_plan_t *plan);

#endif
