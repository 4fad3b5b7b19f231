/* plan_json.c - a trip plan as JSON members, for the command line and the API alike. */
#include "ecorridor/ec_route.h"

/* Money in cents, as a plan's costs are estimates: rounded from the exact
 * ten-thousandths in integers, never through a double. */
static void put_cost(ec_jw *w, int64_t cost)
{
    char b[32];
    ec_money_format(cost, 2, b, sizeof b);
    ec_jw_key(w, "cost"), ec_jw_raw(w, b);
}

void ec_trip_plan_json(ec_jw *w, const ec_trip_plan_t *p)
{
    char t[32];
    ec_jw_key(w, "feasible"), ec_jw_bool(w, p->feasible);
    if (!p->feasible) {
        ec_jw_key(w, "reason"), ec_jw_str(w, p->reason);
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
        ec_jw_obj_end(w);
    }
    ec_jw_arr_end(w);
}
