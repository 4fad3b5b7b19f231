/* timeline.c - a plan filled in from the search's labels: its stops priced
 * in whole cents, every pause with its time and place (on the road at the
 * rest area before it falls due, where the graph knows one), and its line. */
#include "plan_internal.h"

#include <math.h>
#include <string.h>

/* n / d rounded half away from zero, in integers (d > 0). */
static int64_t div_round(int64_t n, int64_t d)
{
    return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}

/* What a stop costs, as the table shows it: the energy drawn to the watt-hour
 * and the minutes of charging priced in integers, rounded to whole cents, so
 * that the stops add up exactly to the plan's total. */
static int64_t stop_cost(const ec_connector_group_t *gr, double grid_wh, double charge_s)
{
    int64_t e = div_round(llround(grid_wh) * gr->price_per_kwh, 1000);
    int64_t m = div_round(llround(charge_s) * gr->price_per_min, 60);
    return div_round(e + m, 100) * 100;
}

const char *ec_pause_name(ec_pause_kind k)
{
    return k == EC_PAUSE_BREAK ? "break" : k == EC_PAUSE_BREAK_PART ? "break_part" : k == EC_PAUSE_REST ? "rest" : NULL;
}

/* The pauses taken on the leg from label `at` to label `after`: the clocks
 * replayed as the search drove it, each pause placed on the leg's road. */
static ec_err road_pauses(ec_trip_planner *p, const label *at, const label *after, ec_trip_plan_t *plan)
{
    const ec_trip_request_t *r = p->r;
    if (r->rules == EC_RULES_NONE) return EC_OK;
    rules_t ru = route__rules_of(r->rules);
    label c = *at;
    route__take_stop(&c, after->stop_s, after->rest, after->brk, after->split, 0);
    road_log log;
    log.n = log.overflow = 0;
    const leg *lg = route__get_leg(p, at->point, after->point);
    route__drive_with_rules(&ru, lg->dur_s, &c, &log);
    if (!log.n) return EC_OK;
    if (log.overflow || plan->n_pauses + log.n > EC_TRIP_MAX_PAUSES)
        return ec_fail(EC_ELIMIT, "the plan takes more than %d pauses on the road", EC_TRIP_MAX_PAUSES);
    double drive[EC_TRIP_MAX_PAUSES];
    route_spot_t spot[EC_TRIP_MAX_PAUSES];
    for (int k = 0; k < log.n; k++) drive[k] = log.e[k].drive_s;
    ec_err rc = route_walk(p->g, p->q, route__point_snap(p, at->point), route__point_snap(p, after->point), drive, log.n, spot);
    if (rc) return rc;
    double leave = at->t + after->stop_s;
    for (int k = 0; k < log.n; k++) {
        p->pause_leg[plan->n_pauses].a = at->point, p->pause_leg[plan->n_pauses].b = after->point;
        p->pause_leg[plan->n_pauses].drive_s = log.e[k].drive_s;
        ec_trip_pause_t *x = &plan->pauses[plan->n_pauses++];
        memset(x, 0, sizeof *x);
        x->kind = log.e[k].kind;
        x->start_s = r->depart_s + (int64_t)llround(leave + log.e[k].start_s);
        x->end_s = x->start_s + (int64_t)llround(log.e[k].len_s);
        x->at = spot[k].at;
        route_near(p->g, &spot[k], x->near, sizeof x->near);
        if (x->kind == EC_PAUSE_REST) plan->rest_total_s += log.e[k].len_s;
        else plan->break_total_s += log.e[k].len_s;
    }
    return EC_OK;
}

/* Whether the plan's timeline obeys the rules, read from it alone: the
 * stops (a pause from the end of any wait) and the road pauses are the only
 * times the truck stands; a pause as long as the rest, the break, or the
 * parts of a split break in their order resets the clocks it resets. */
static int obeys_rules(const ec_trip_plan_t *plan, const ec_trip_request_t *r)
{
    rules_t ru = route__rules_of(r->rules);
    double since = r->driven_since_break_s, day = r->driven_today_s, slack = 2;
    int64_t t = plan->departure_s, duty_from = plan->departure_s - (int64_t)r->on_duty_s;
    int part = 0, si = 0, pi = 0;
    for (;;) {
        while (si < plan->n_stops && plan->stops[si].departure_s <= plan->stops[si].arrival_s) si++;
        const ec_trip_stop_t *s = si < plan->n_stops ? &plan->stops[si] : NULL;
        const ec_trip_pause_t *x = pi < plan->n_pauses ? &plan->pauses[pi] : NULL;
        int use_stop = s && (!x || s->arrival_s <= x->start_s);
        int64_t from = use_stop ? s->arrival_s : x ? x->start_s : plan->arrival_s;
        int64_t pause_from = use_stop ? s->arrival_s + (int64_t)llround(s->wait_s) : from;
        int64_t to = use_stop ? s->departure_s : x ? x->end_s : plan->arrival_s;
        if (from < t - slack) return 0; /* overlapping spans */
        double drove = (double)(from - t);
        since += drove, day += drove;
        if (drove > 0 && (since > ru.break_after_s + slack || day > ru.day_limit_s + slack ||
                          (double)(from - duty_from) > ru.window_s + slack))
            return 0;
        if (!s && !x) return 1;
        double len = (double)(to - pause_from);
        if (len >= ru.rest_s - slack) {
            if ((double)(pause_from - duty_from) > ru.window_s + slack) return 0;
            since = day = 0, part = 0, duty_from = to;
        } else if (len >= ru.break_s - slack || (part && len >= ru.split_second_s - slack)) {
            since = 0, part = 0;
        } else if (ru.split_first_s > 0 && len >= ru.split_first_s - slack) {
            part = 1;
        }
        t = to;
        if (use_stop) si++;
        else pi++;
    }
}

#define REST_AREA_BACK_S 1800.0 /* how far back, in driving, a rest area may be */
#define REST_AREA_OFF_M 1000.0  /* how far from the road */

/* Moves each road pause to the last rest or service area the route passes
 * within REST_AREA_BACK_S of driving before the point it falls due (never
 * after it), when the graph knows such areas. Taking a pause earlier leaves
 * every time of the plan as it was but the pause's own and the driving around
 * it; the move is kept only when the whole timeline still obeys the rules. */
static ec_err to_rest_areas(ec_trip_planner *p, ec_trip_plan_t *plan)
{
    if (!p->g->n_rest) return EC_OK;
    enum { STEPS = 31 };
    for (int k = 0; k < plan->n_pauses; k++) {
        double due = p->pause_leg[k].drive_s, floor_s = 0;
        /* Not back past an earlier pause on the same leg. */
        if (k > 0 && p->pause_leg[k - 1].a == p->pause_leg[k].a && p->pause_leg[k - 1].b == p->pause_leg[k].b)
            floor_s = p->pause_leg[k - 1].drive_s + 1;
        double drive[STEPS];
        route_spot_t spot[STEPS];
        int n = 0;
        for (int j = 0; j < STEPS && due - j * (REST_AREA_BACK_S / (STEPS - 1)) >= floor_s; j++)
            drive[n++] = due - j * (REST_AREA_BACK_S / (STEPS - 1));
        if (!n) continue;
        ec_err rc = route_walk(p->g, p->q, route__point_snap(p, p->pause_leg[k].a), route__point_snap(p, p->pause_leg[k].b), drive, n, spot);
        if (rc) return rc;
        for (int j = 0; j < n; j++) {
            ec_latlon_t at;
            const char *name, *kind;
            if (ec_graph_rest_area(p->g, spot[j].at, REST_AREA_OFF_M, &at, &name, &kind)) continue;
            ec_trip_pause_t keep = plan->pauses[k], *x = &plan->pauses[k];
            int64_t back = (int64_t)llround(due - spot[j].route_s);
            x->start_s -= back, x->end_s -= back;
            x->at = at;
            snprintf(x->rest_area, sizeof x->rest_area, "%s", *name ? name : !strcmp(kind, "services") ? "services" : "rest area");
            route_near(p->g, &spot[j], x->near, sizeof x->near);
            if (!obeys_rules(plan, p->r)) *x = keep;
            break; /* an area farther back would only make the clocks later on worse */
        }
    }
    return EC_OK;
}

ec_err route__fill_plan(ec_trip_planner *p, int li, ec_trip_plan_t *plan)
{
    const ec_trip_request_t *r = p->r;
    const label *end = &p->labels[li];
    int chain[EC_TRIP_MAX_STOPS + 2], n = 0;
    for (int k = li; k >= 0; k = p->labels[k].parent) {
        if (n == EC_TRIP_MAX_STOPS + 2)
            return ec_fail(EC_ELIMIT, "the best plan has more than %d charging stops", EC_TRIP_MAX_STOPS);
        chain[n++] = k;
    }
    plan->feasible = 1;
    plan->departure_s = r->depart_s;
    plan->arrival_s = r->depart_s + (int64_t)llround(end->t);
    plan->duration_s = end->t;
    plan->distance_m = end->dist_m;
    plan->drive_s = end->drive_s;
    plan->break_s = end->break_s;
    plan->rest_s = end->rest_s;
    plan->wait_s = end->waited_s;
    plan->road_breaks = end->road_breaks;
    plan->road_rests = end->road_rests;
    plan->energy_kwh = end->energy_wh / 1000.0;
    plan->soc_arrival = end->soc;
    memcpy(plan->currency, p->sites->currency, 4);
    plan->n_points = 0;
    for (int i = n - 1; i >= 0; i--) plan->points[plan->n_points++] = p->labels[chain[i]].point;
    /* A stop is every site on the chain; its departure data sits in the next label. */
    int64_t cost = 0;
    ec_err rc;
    for (int i = n - 1; i >= 1; i--) {
        const label *at = &p->labels[chain[i]], *after = &p->labels[chain[i - 1]];
        if (i < n - 1) {
            ec_trip_stop_t *s = &plan->stops[plan->n_stops++];
            memset(s, 0, sizeof *s);
            const site *st = &p->s[at->point - 2];
            snprintf(s->site_id, sizeof s->site_id, "%s", st->id);
            snprintf(s->name, sizeof s->name, "%s", st->name);
            s->at = p->sites->groups[st->first_row].pos;
            s->plug = after->plug >= 0 ? (ec_plug)after->plug : EC_PLUG_COUNT;
            s->power_w = after->charge_s > 0 ? p->choice[at->point].power_w : 0;
            s->arrival_s = r->depart_s + (int64_t)llround(at->t);
            s->departure_s = s->arrival_s + (int64_t)llround(after->stop_s);
            s->soc_in = at->soc;
            s->soc_out = after->dep_soc;
            s->energy_kwh = after->grid_wh / 1000.0;
            s->charge_s = after->charge_s;
            s->brk = after->brk;
            s->rest = after->rest;
            s->wait_s = after->wait_s;
            s->break_part = after->split;
            s->reserved = after->reserved;
            s->overhead_s = after->charge_s > 0 ? r->stop_overhead_s : 0;
            plan->overhead_s += s->overhead_s;
            s->cost = after->charge_s > 0 && after->group >= 0
                          ? stop_cost(&p->sites->groups[after->group], after->grid_wh, after->charge_s)
                          : 0;
            /* The pause spans the stop after any wait: charging inside it counts. */
            s->pause = after->rest ? EC_PAUSE_REST
                       : after->brk ? (after->split == 2 ? EC_PAUSE_BREAK_PART : EC_PAUSE_BREAK)
                       : after->split == 1 ? EC_PAUSE_BREAK_PART
                                           : EC_PAUSE_NONE;
            if (s->pause != EC_PAUSE_NONE) {
                s->pause_start_s = s->arrival_s + (int64_t)llround(after->wait_s);
                s->pause_end_s = s->departure_s;
                double len = after->stop_s - after->wait_s;
                if (s->pause == EC_PAUSE_REST) plan->rest_total_s += len;
                else plan->break_total_s += len;
            }
            plan->charge_s += after->charge_s;
            cost += s->cost;
        }
        if ((rc = road_pauses(p, at, after, plan))) return rc;
    }
    plan->cost = cost;
    return to_rest_areas(p, plan);
}

ec_err ec_trip_geojson(ec_trip_planner *p, const ec_trip_plan_t *plan, ec_jw *w)
{
    ec_jw_obj_begin(w);
    ec_jw_key(w, "type");
    ec_jw_str(w, "LineString");
    ec_jw_key(w, "coordinates");
    ec_jw_arr_begin(w);
    route_line_t line = {{0, 0}, 0};
    for (int i = 0; i + 1 < plan->n_points; i++) {
        ec_path_t path;
        const ec_snap_t *a = route__point_snap(p, plan->points[i]), *b = route__point_snap(p, plan->points[i + 1]);
        ec_err rc = ec_query_route(p->q, a, b, &path);
        if (rc) return rc;
        /* Each leg's end is the next leg's start: write it once, at the last leg. */
        route_line(p->g, a, b, &path, i + 2 == plan->n_points, &line, w);
    }
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
    return EC_OK;
}
