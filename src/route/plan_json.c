/* plan_json.c - a trip plan as JSON members, for the command line and the API alike. */
#include "ecorridor/ec_route.h"

/* Money in cents: the planner prices every stop in whole cents, in
 * integers, so the stops' numbers add up to the total's exactly. */
static void put_cost(ec_jw *w, int64_t cost)
{
    char b[32];
    ec_money_format(cost, 2, b, sizeof b);
    ec_jw_key(w, "cost"), ec_jw_raw(w, b);
}

static void put_time(ec_jw *w, const char *key, int64_t v)
{
    char t[32];
    ec_time_format_iso(v, t, sizeof t);
    ec_jw_key(w, key), ec_jw_str(w, t);
}

static void put_at(ec_jw *w, ec_latlon_t at)
{
    ec_jw_key(w, "lat"), ec_jw_num(w, at.lat, 6);
    ec_jw_key(w, "lon"), ec_jw_num(w, at.lon, 6);
}

/* Why a trip is not feasible: the reason, the farthest point reached and the
 * sites near it that could not be used. */
static void put_infeasible(ec_jw *w, const ec_trip_plan_t *p)
{
    ec_jw_key(w, "reason"), ec_jw_str(w, p->reason);
    if (!p->farthest[0]) return;
    ec_jw_key(w, "farthest");
    ec_jw_obj_begin(w);
    ec_jw_key(w, "name"), ec_jw_str(w, p->farthest);
    put_at(w, p->farthest_at);
    ec_jw_key(w, "to_go_m"), ec_jw_num(w, p->farthest_to_go_m, 0);
    ec_jw_obj_end(w);
    ec_jw_key(w, "unusable_sites");
    ec_jw_arr_begin(w);
    for (int i = 0; i < p->n_unusable; i++) {
        const ec_trip_unusable_t *u = &p->unusable[i];
        ec_jw_obj_begin(w);
        ec_jw_key(w, "site_id"), ec_jw_str(w, u->site_id);
        ec_jw_key(w, "name"), ec_jw_str(w, u->name);
        ec_jw_key(w, "distance_m"), ec_jw_num(w, u->distance_m, 0);
        ec_jw_key(w, "reason"), ec_jw_str(w, u->reason);
        ec_jw_key(w, "why"), ec_jw_str(w, u->why);
        ec_jw_obj_end(w);
    }
    ec_jw_arr_end(w);
}

void ec_trip_plan_json(ec_jw *w, const ec_trip_plan_t *p)
{
    char t[32];
    ec_jw_key(w, "feasible"), ec_jw_bool(w, p->feasible);
    if (!p->feasible) {
        put_infeasible(w, p);
        return;
    }
    ec_time_format_iso(p->departure_s, t, sizeof t), ec_jw_key(w, "departure"), ec_jw_str(w, t);
    ec_time_format_iso(p->arrival_s, t, sizeof t), ec_jw_key(w, "arrival"), ec_jw_str(w, t);
    ec_jw_key(w, "distance_m"), ec_jw_num(w, p->distance_m, 1);
    ec_jw_key(w, "duration_s"), ec_jw_num(w, p->duration_s, 0);
    ec_jw_key(w, "drive_s"), ec_jw_num(w, p->drive_s, 0);
    ec_jw_key(w, "charge_s"), ec_jw_num(w, p->charge_s, 0);
    ec_jw_key(w, "wait_s"), ec_jw_num(w, p->wait_s, 0);
    ec_jw_key(w, "overhead_s"), ec_jw_num(w, p->overhead_s, 0);
    ec_jw_key(w, "break_s"), ec_jw_num(w, p->break_s, 0);
    ec_jw_key(w, "rest_s"), ec_jw_num(w, p->rest_s, 0);
    ec_jw_key(w, "road_breaks"), ec_jw_int(w, p->road_breaks);
    ec_jw_key(w, "road_rests"), ec_jw_int(w, p->road_rests);
    ec_jw_key(w, "break_total_s"), ec_jw_num(w, p->break_total_s, 0);
    ec_jw_key(w, "rest_total_s"), ec_jw_num(w, p->rest_total_s, 0);
    ec_jw_key(w, "energy_kwh"), ec_jw_num(w, p->energy_kwh, 1);
    ec_jw_key(w, "soc_arrival"), ec_jw_num(w, p->soc_arrival, 3);
    put_cost(w, p->cost);
    ec_jw_key(w, "currency"), ec_jw_str(w, p->currency);
    ec_jw_key(w, "stops");
    ec_jw_arr_begin(w);
    for (int i = 0; i < p->n_stops; i++) {
        const ec_trip_stop_t *s = &p->stops[i];
        ec_jw_obj_begin(w);
        ec_jw_key(w, "site_id"), ec_jw_str(w, s->site_id);
        ec_jw_key(w, "name"), ec_jw_str(w, s->name);
        if (s->charge_s > 0) ec_jw_key(w, "plug"), ec_jw_str(w, ec_plug_name(s->plug));
        ec_time_format_iso(s->arrival_s, t, sizeof t), ec_jw_key(w, "arrival"), ec_jw_str(w, t);
        ec_time_format_iso(s->departure_s, t, sizeof t), ec_jw_key(w, "departure"), ec_jw_str(w, t);
        ec_jw_key(w, "soc_in"), ec_jw_num(w, s->soc_in, 3);
        ec_jw_key(w, "soc_out"), ec_jw_num(w, s->soc_out, 3);
        ec_jw_key(w, "energy_kwh"), ec_jw_num(w, s->energy_kwh, 1);
        ec_jw_key(w, "charge_s"), ec_jw_num(w, s->charge_s, 0);
        ec_jw_key(w, "wait_s"), ec_jw_num(w, s->wait_s, 0);
        ec_jw_key(w, "overhead_s"), ec_jw_num(w, s->overhead_s, 0);
        ec_jw_key(w, "break"), ec_jw_bool(w, s->brk);
        ec_jw_key(w, "rest"), ec_jw_bool(w, s->rest);
        ec_jw_key(w, "reserved"), ec_jw_bool(w, s->reserved);
        ec_jw_key(w, "break_part"), ec_jw_int(w, s->break_part);
        put_cost(w, s->cost);
        put_at(w, s->at);
        if (s->pause != EC_PAUSE_NONE) {
            ec_jw_key(w, "pause");
            ec_jw_obj_begin(w);
            ec_jw_key(w, "kind"), ec_jw_str(w, ec_pause_name(s->pause));
            put_time(w, "start", s->pause_start_s);
            put_time(w, "end", s->pause_end_s);
            ec_jw_obj_end(w);
        }
        ec_jw_obj_end(w);
    }
    ec_jw_arr_end(w);
    ec_jw_key(w, "road_pauses");
    ec_jw_arr_begin(w);
    for (int i = 0; i < p->n_pauses; i++) {
        const ec_trip_pause_t *x = &p->pauses[i];
        ec_jw_obj_begin(w);
        ec_jw_key(w, "kind"), ec_jw_str(w, ec_pause_name(x->kind));
        put_time(w, "start", x->start_s);
        put_time(w, "end", x->end_s);
        put_at(w, x->at);
        ec_jw_key(w, "near"), ec_jw_str(w, x->near);
        if (x->rest_area[0]) ec_jw_key(w, "rest_area"), ec_jw_str(w, x->rest_area);
        ec_jw_obj_end(w);
    }
    ec_jw_arr_end(w);
}
