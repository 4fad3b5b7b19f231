/* explain.c - why a trip is not feasible: the farthest point reached, how
 * far short the battery falls, and the sites near it the plan could not use. */
#include "plan_internal.h"

#include <math.h>
#include <string.h>

/* The index of the planner's site with this id, or -1 (left out as too far
 * from a road the vehicle class may use). */
static int site_index(const ec_trip_planner *p, const char *id)
{
    for (size_t k = 0; k < p->n_sites; k++)
        if (!strcmp(p->s[k].id, id)) return (int)k;
    return -1;
}

/* Why site id (first row `row`) did not serve a trip stuck at point `from`
 * with `avail_wh` usable there; NULL when nothing kept it out. */
static const char *site_reason(ec_trip_planner *p, int row, int from, double avail_wh, char *why, size_t n)
{
    const ec_trip_request_t *r = p->r;
    const ec_vehicle_profile *v = r->vehicle;
    int k = site_index(p, p->sites->groups[row].site_id);
    if (k < 0) {
        snprintf(why, n, "more than %.0f km from a road vehicle class %s may use", SITE_SNAP_M / 1000, p->g->vehicle.name);
        return "truck access";
    }
    const site_choice *c = &p->choice[k + 2];
    if (c->avoid) {
        snprintf(why, n, "left out by --avoid-site");
        return "avoided";
    }
    if (!c->usable) {
        /* No connector the vehicle takes, or none of those free or reservable. */
        int fits = 0;
        size_t len = 0;
        why[0] = '\0';
        for (int i = p->s[k].first_row; i >= 0; i = p->row_next[i]) {
            const ec_connector_group_t *gr = &p->sites->groups[i];
            if (v->plug_max_w[gr->standard] > 0) fits = 1;
            if (len < n) len += (size_t)snprintf(why + len, n - len, "%s%s %.0f kW", len ? ", " : "", ec_plug_name(gr->standard),
                                                 gr->power_w / 1000);
        }
        if (!fits) {
            if (len < n) snprintf(why + len, n - len, "; %s has no inlet for %s", v->name, len ? "these" : "it");
            return "plug";
        }
        snprintf(why, n, "no connector %s takes is free now, and none can be reserved", v->name);
        return "status";
    }
    if (!p->settled[k + 2]) {
        const leg *lg = route__get_leg(p, from, k + 2);
        if (lg->state != 1) snprintf(why, n, "no road from %.60s", route__point_name(p, from));
        else snprintf(why, n, "%.0f km from %.60s need %.0f kWh; %.0f kWh can be used there", lg->dist_m / 1000, route__point_name(p, from),
                      lg->energy_wh / 1000, avail_wh / 1000);
        return "out of range";
    }
    if (c->power_w < 50000) {
        snprintf(why, n, "%.0f kW for %s: too slow to cover the gap", c->power_w / 1000, v->name);
        return "power";
    }
    return NULL;
}

/* The sites nearest the farthest point reached, with why each could not
 * help: the nearest 24 distinct sites are looked at, those with a reason kept. */
static void unusable_sites(ec_trip_planner *p, int from, double avail_wh, ec_trip_plan_t *plan)
{
    enum { LOOK = 24 };
    int rows[LOOK], n = 0;
    double dist[LOOK];
    for (size_t i = 0; i < p->sites->n; i++) {
        const ec_connector_group_t *gr = &p->sites->groups[i];
        double d = ec_geo_haversine_m(plan->farthest_at, gr->pos);
        int same = -1;
        for (int k = 0; k < n; k++)
            if (!strcmp(p->sites->groups[rows[k]].site_id, gr->site_id)) same = k;
        if (same >= 0) continue; /* a site is placed by its first row, as the planner does */
        if (n == LOOK && d >= dist[n - 1]) continue;
        int k = n < LOOK ? n++ : n - 1;
        for (; k > 0 && dist[k - 1] > d; k--) dist[k] = dist[k - 1], rows[k] = rows[k - 1];
        dist[k] = d, rows[k] = (int)i;
    }
    /* Which points the search reached. */
    memset(p->settled, 0, route__n_points(p));
    for (size_t i = 0; i < p->n_labels; i++) p->settled[p->labels[i].point] = 1;
    for (int k = 0; k < n && plan->n_unusable < EC_TRIP_MAX_UNUSABLE; k++) {
        ec_trip_unusable_t *u = &plan->unusable[plan->n_unusable];
        const ec_connector_group_t *gr = &p->sites->groups[rows[k]];
        u->reason = site_reason(p, rows[k], from, avail_wh, u->why, sizeof u->why);
        if (!u->reason) continue;
        snprintf(u->site_id, sizeof u->site_id, "%s", gr->site_id);
        snprintf(u->name, sizeof u->name, "%s", gr->name);
        u->distance_m = dist[k];
        plan->n_unusable++;
    }
}

void route__explain_infeasible(ec_trip_planner *p, ec_trip_plan_t *plan)
{
    const ec_trip_request_t *r = p->r;
    const leg *direct = route__get_leg(p, 0, 1);
    if (direct->state != 1) {
        snprintf(plan->reason, sizeof plan->reason, "the destination cannot be reached by road from the origin for vehicle class %s",
                 p->g->vehicle.name);
        return;
    }
    /* From the reached point nearest the destination: how far short is the battery? */
    int best = -1;
    double best_d = INFINITY;
    for (size_t i = 0; i < p->n_labels; i++) {
        const leg *lg = route__get_leg(p, p->labels[i].point, 1);
        if (lg->state == 1 && lg->dist_m < best_d) best_d = lg->dist_m, best = (int)i;
    }
    /* No label kept at all: the start itself cannot reach the destination. */
    label start = route__start_label(r);
    const label *l = best >= 0 ? &p->labels[best] : &start;
    const leg *lg = route__get_leg(p, l->point, 1);
    double avail = l->point >= 2 && p->choice[l->point].usable ? r->vehicle->soc_max : l->soc;
    double floor_soc = fmax(r->soc_min, r->soc_min_arrival);
    double need = lg->energy_wh / r->vehicle->battery_wh + floor_soc;
    double short_wh = (need - avail) * r->vehicle->battery_wh;
    double km_short = short_wh / (lg->energy_wh / lg->dist_m) / 1000.0;
    double avail_wh = (avail - floor_soc) * r->vehicle->battery_wh;
    snprintf(plan->farthest, sizeof plan->farthest, "%s", route__point_name(p, l->point));
    plan->farthest_at = l->point >= 2 ? p->sites->groups[p->s[l->point - 2].first_row].pos : route__point_snap(p, l->point)->point;
    plan->farthest_to_go_m = lg->dist_m;
    unusable_sites(p, l->point, avail_wh, plan);
    if (short_wh > 0)
        snprintf(plan->reason, sizeof plan->reason,
                 "no charging plan reaches the destination: the farthest the truck gets is about %.0f km past %s, "
                 "where the battery reaches its floor of %.0f %%; from %s the last %.0f km need %.0f kWh, but at most "
                 "%.0f kWh can be used there: %.0f km short",
                 fmax(0, lg->dist_m / 1000 - km_short), route__point_name(p, l->point), floor_soc * 100, route__point_name(p, l->point),
                 lg->dist_m / 1000, lg->energy_wh / 1000, avail_wh / 1000, km_short);
    else
        snprintf(plan->reason, sizeof plan->reason, "no charging plan reaches the destination within the limits asked for");
    /* The nearest site kept out, in words, for those who read only the reason. */
    if (plan->n_unusable) {
        size_t len = strlen(plan->reason);
        const ec_trip_unusable_t *u = &plan->unusable[0];
        snprintf(plan->reason + len, sizeof plan->reason - len, "; the nearest site not used, %s (%.0f km away), %s",
                 u->name[0] ? u->name : u->site_id, u->distance_m / 1000, u->why);
    }
}
