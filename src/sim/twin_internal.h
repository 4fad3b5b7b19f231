/* twin_internal.h - the corridor twin's state, shared by the run (twin.c),
 * its sites and sessions (twin_site.c), its planning (twin_plan.c), its
 * demand (twin_demand.c) and its outputs (twin_out.c). */
#ifndef EC_SIM_TWIN_INTERNAL_H
#define EC_SIM_TWIN_INTERNAL_H

#include "ecorridor/ec_route.h"
#include "ecorridor/ec_share.h"
#include "ecorridor/ec_store.h"
#include "ecorridor/ec_twin.h"

#define TW_REVIEW_MS 60000    /* sessions' power and the engine's due ticks are looked at this often */
#define TW_METER_MS 300000    /* a charger's meter values every 5 minutes */
#define TW_BATCH_MS 900000    /* trucks leaving in the same 15 minutes are planned with the same waits */
#define TW_DAY_MS 86400000LL
#define TW_SITE_ID_MAX 31    /* "<site>-<n>" is a charge point id and an EVSE uid (36) */
#define TW_MAX_REPLANS 2      /* re-routings for a long wait on one trip (an outage may add more) */
#define TW_WAIT_RESTORE_MS (4 * 3600000LL) /* a driver with nowhere else to go waits this long for a site to come back */

/* A charging stop of a plan, relative to the plan's departure. */
typedef struct {
    int site;          /* twin site */
    int plug;          /* ec_plug */
    int reserved;
    int64_t leg_ms;    /* driving (with any pause on the road) from the previous point */
    int64_t stay_ms;   /* the planned time at the site once a connector is free */
    double grid_wh;    /* energy to draw */
    double overhead_s; /* pulling in and plugging in, before charging */
    double leg_soc;    /* the charge the leg to it takes */
    int64_t leg_pause_ms, leg_after_ms; /* the leg's pauses on the road, and its driving after the last */
    int leg_reset;     /* the leg's last pause: 0 none, 1 a break, 2 a daily rest */
} tw_stop;

typedef struct {
    int feasible;
    int first, n;       /* its stops in tw.stops */
    int64_t last_ms;    /* the last leg's driving */
    int64_t wait_ms;    /* waits the planner expected */
    char reason[200];   /* why not feasible */
    int near_site;      /* the twin site nearest where it got stuck, -1 none */
} tw_plan;

typedef struct {
    int site;
    ec_plug plug;
    double power_w;
    char cp[48];
    int truck;         /* the truck plugged in, -1 none */
    int up;
} tw_point;

typedef struct {
    char id[64];
    char name[128];
    ec_latlon_t pos;
    int first_point, n_points;
    int sub;               /* tw substation, -1 none */
    int up;
    int64_t restore_ms;    /* while down: when it comes back */
    ec_vec queue[EC_PLUG_COUNT]; /* int: trucks waiting, in order of service */
    /* what the day showed */
    int64_t arrivals, sessions, max_queue, stranded_nearby;
    double energy_wh, power_w, peak_w;
    double charge_ms, occupied_ms, congested_ms; /* within the day */
    int charging, occupied;                     /* points now */
    int64_t last_ms;                            /* the counters above run to here */
    ec_vec waits;                               /* double: minutes, one per session */
    double stay_sum_ms;
    int64_t stay_n;
} tw_site;

typedef struct {
    char id[64];
    double capacity_w;
    const ec_substation_power_t *power;
    double factor;          /* derating now */
    double power_w, peak_w; /* charging behind it, and the most with the base load */
    int64_t peak_ms;
} tw_sub;

typedef struct {
    int64_t origin, destination; /* node ids */
    uint32_t from, to;           /* graph nodes */
    int vehicle;
    double soc, soc0;
    int64_t depart_ms;
    int od;                      /* traffic row, -1 from --trips */
    int plan;                    /* tw.plans */
    int stop;                    /* the next stop of the plan */
    int state;                   /* TR_* */
    int site, point;             /* where it waits or charges */
    int64_t tx;
    double target_wh, delivered_wh, power_w, limit_w;
    double partial_wh;           /* what a session cut short by an outage gave of this stop's energy */
    int64_t arrive_ms, start_ms, charge_start_ms, last_ms, stay_until_ms, meter_ms;
    int version;                 /* finish events carry it: a stale one is dropped */
    int cidx;                    /* its place in tw.charging, -1 none */
    double since_s, today_s, duty_s; /* the driver's clocks at its last arrival: driving since the last
                                      * break, since the last daily rest, and time on duty */
    int replanned;
    /* what the trip showed */
    int64_t wait_ms, arrival_ms;
    int stops;
    double charged_wh;
    char reason[200];
} tw_truck;

enum { TR_PLANNED, TR_DRIVING, TR_QUEUED, TR_CHARGING, TR_PARKED, TR_ARRIVED, TR_STRANDED };

typedef struct {
    int64_t t_ms;
    uint64_t seq;
    int kind, a, b;
} tw_event;

enum { EV_BATCH = 1, EV_DEPART, EV_ARRIVE_SITE, EV_FINISH, EV_LEAVE, EV_ARRIVE_DEST, EV_REVIEW, EV_OUTAGE,
       EV_RESTORE, EV_DERATE };

typedef struct tw {
    const ec_twin_config_t *c;
    ec_share *eng;
    ec_buf jbuf;
    ec_vec cmds;      /* ec_share_cmd_t the engine issued, to carry out */
    ec_err err;       /* the first failure (journal, memory) */
    int in_apply;     /* carrying out commands: a result fed meanwhile adds to the same loop */
    /* the world */
    ec_vec sites, points, subs, trucks, plans, stops; /* tw_site, tw_point, tw_sub, tw_truck, tw_plan, tw_stop */
    ec_vec charging;     /* int: the trucks charging now */
    ec_map site_of_row;  /* sites->groups row -> twin site */
    ec_map point_of_cp;  /* hash of cp id -> point */
    tw_event *heap;
    size_t heap_len, heap_cap;
    uint64_t seq;
    int64_t now_ms, tx_next, day0_ms, day1_ms;
    /* One per planning thread and vehicle (a planner keeps the legs of one
     * vehicle and forgets them all for another); [0] also re-plans. Made when first needed. */
    ec_trip_planner *planners[EC_TWIN_MAX_THREADS][EC_MIX_MAX];
    /* The same over no sites: a trip the truck drives without charging is
     * planned there first, at a fraction of the cost (no charging stop
     * makes a trip faster, so that plan is the fastest). */
    ec_trip_planner *direct[EC_TWIN_MAX_THREADS][EC_MIX_MAX];
    ec_sites no_sites;
    ec_map site_by_id;           /* hash of a site id -> twin site */
    int64_t trips_total;         /* every truck of the day, diesel too */
    ec_vehicle_profile *vehicles; /* per mix entry, with the day's temperature */
    size_t next_batch;            /* trucks[] sorted by departure: the first not yet planned */
    ec_progress progress;
    uint64_t planned, questions, replans;
    int64_t batch_ns, replan_ns;  /* time spent planning, for the run's log */
} tw;

#define TW_SITE(w, i) (&EC_VEC_AT(&(w)->sites, tw_site, (i)))
#define TW_POINT(w, i) (&EC_VEC_AT(&(w)->points, tw_point, (i)))
#define TW_SUB(w, i) (&EC_VEC_AT(&(w)->subs, tw_sub, (i)))
#define TW_TRUCK(w, i) (&EC_VEC_AT(&(w)->trucks, tw_truck, (i)))
#define TW_PLAN(w, i) (&EC_VEC_AT(&(w)->plans, tw_plan, (i)))
#define TW_STOP(w, i) (&EC_VEC_AT(&(w)->stops, tw_stop, (i)))

/* twin.c */
void twin__push(tw *w, int64_t t_ms, int kind, int a, int b);
ec_err twin__feed(tw *w, ec_share_event_t *ev);
void twin__fail(tw *w, ec_err rc);

/* twin_site.c: sites, queues, sessions and the engine */
ec_err twin__sites_build(tw *w);
ec_err twin__engine_start(tw *w);
void twin__arrive_site(tw *w, int ti);
void twin__finish(tw *w, int ti, int version);
void twin__leave(tw *w, int ti);
void twin__review(tw *w);
/* The engine limited truck ti's session to limit_w. */
void twin__limit(tw *w, int ti, double limit_w);
void twin__outage(tw *w, int site, int down);
void twin__derate(tw *w, int sub, double factor);
void twin__apply_cmds(tw *w);
void twin__close_day(tw *w);
/* The wait a truck arriving now at site for plug would expect (ms); the free points into *free. */
int64_t twin__expected_wait(tw *w, int site, ec_plug plug, int *free);
void twin__snapshot(tw *w);

/* The driver's clocks run over the leg just driven to stop st, and over a stop left at now. */
void twin__clock_leg(const tw *w, tw_truck *t, const tw_stop *st);
void twin__clock_stop(const tw *w, tw_truck *t);

/* twin_plan.c: plans at departure, shared and spread over threads; re-plans */
ec_err twin__plan_batch(tw *w, size_t first, size_t n);
/* Re-plans truck ti from site (its SoC now), avoiding that site: 1 when it has a new plan. */
int twin__replan(tw *w, int ti, int site);
void twin__start_leg(tw *w, int ti);
/* The twin site nearest p, -1 when there is none. */
int twin__nearest_site(const tw *w, ec_latlon_t p);

/* twin_demand.c */
/* Each node's index by its id in the corridor's files (ext_id). */
ec_err twin__node_map(const ec_graph *g, ec_map *m);
ec_err twin__draw_trucks(tw *w);
ec_err twin__load_segments(tw *w, ec_twin_result_t *r);

/* twin_out.c */
ec_err twin__results(tw *w, ec_twin_result_t *r);

#endif
