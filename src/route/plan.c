/* plan.c - charging-stop planning: a label-setting search over charging sites.
 *
 * Points are the origin (0), the destination (1) and the sites (2..). A leg
 * between two points is the fastest road route; its energy is summed arc by
 * arc through the energy model and cached. A label is an arrival at a point:
 * time, state of charge, driving since the last break, driving today, cost.
 * From a site a label departs after charging to one of a few levels (every
 * 10 %, or exactly what the destination needs), with or without taking the
 * mandatory break there. Breaks and daily rests that fall due on the road are
 * taken where they fall. Labels beaten on every criterion by another label at
 * the same point are dropped; labels are settled in order of the objective,
 * so the first label settled at the destination is optimal among the plans
 * these charging choices can make.
 */
#include "ecorridor/ec_route.h"

#include <math.h>
#include <string.h>

#define SITE_SNAP_M 5000.0
#define EPS 1e-9

typedef struct {
    char id[64];
    char name[128];
    ec_snap_t snap;
    size_t first_group, n_groups; /* rows of the sites file, grouped */
} site;

typedef struct {
    uint8_t state; /* 0 unknown, 1 known, 2 no route */
    double dur_s, dist_m, energy_wh;
} leg;

typedef struct {
    double key, t, soc, since, day, cost;
    int point, parent;
    int dead;
    /* what happened at the parent's point before this leg */
    double dep_soc, charge_s, stop_s, grid_wh, stop_cost;
    int brk, plug, group;
    /* running totals */
    double drive_s, break_s, rest_s, dist_m, energy_wh;
} label;

typedef struct {
    int plug, group; /* best connector for the vehicle, or plug -1 */
    double power_w;
    int avoid;
} site_choice;

struct ec_trip_planner {
    const ec_graph *g;
    const ec_sites *sites;
    ec_query *q;
    site *s;
    size_t n_sites, skipped;
    ec_snap_t od[2];
    leg *legs; /* (n_sites + 2)^2 */
    site_choice *choice;
    /* what the site-to-site legs were computed for */
    char cached_vehicle[64];
    double cached_payload, cached_temp;
    /* search */
    label *labels;
    size_t n_labels, cap_labels;
    uint64_t *heap;
    size_t heap_n, heap_cap;
    int *at_head;   /* per point: list of label indices via next */
    int *next;
    size_t next_cap;
    const ec_trip_request_t *r;
};

static size_t n_points(const ec_trip_planner *p)
{
    return p->n_sites + 2;
}

static const ec_snap_t *point_snap(const ec_trip_planner *p, int i)
{
    return i < 2 ? &p->od[i] : &p->s[i - 2].snap;
}

static const char *point_name(const ec_trip_planner *p, int i)
{
    return i == 0 ? "the origin" : i == 1 ? "the destination" : p->s[i - 2].name[0] ? p->s[i - 2].name : p->s[i - 2].id;
}

ec_err ec_trip_planner_new(const ec_graph *g, const ec_sites *sites, ec_trip_planner **out)
{
    ec_trip_planner *p = ec_calloc(1, sizeof *p);
    if (!p) return EC_ENOMEM;
    p->g = g;
    p->sites = sites;
    ec_err rc = ec_query_new(g, EC_ALGO_CH, &p->q);
    if (rc) goto fail;
    p->s = ec_calloc(sites->n + 1, sizeof *p->s);
    if (!p->s) {
        rc = EC_ENOMEM;
        goto fail;
    }
    /* Rows with the same site id, in any order, make one site. */
    for (size_t i = 0; i < sites->n; i++) {
        const ec_connector_group_t *c = &sites->groups[i];
        size_t k = 0;
        while (k < p->n_sites && strcmp(p->s[k].id, c->site_id)) k++;
        if (k < p->n_sites) continue;
        site *st = &p->s[p->n_sites];
        memset(st, 0, sizeof *st);
        snprintf(st->id, sizeof st->id, "%s", c->site_id);
        snprintf(st->name, sizeof st->name, "%s", c->name);
        st->first_group = i;
        if (ec_graph_snap(g, c->pos, SITE_SNAP_M, &st->snap)) {
            p->skipped++;
            continue;
        }
        p->n_sites++;
    }
    size_t np = n_points(p);
    p->legs = ec_calloc(np * np, sizeof *p->legs);
    p->choice = ec_calloc(np, sizeof *p->choice);
    p->at_head = ec_malloc(np * sizeof *p->at_head);
    if (!p->legs || !p->choice || !p->at_head) {
        rc = EC_ENOMEM;
        goto fail;
    }
    *out = p;
    return EC_OK;
fail:
    ec_trip_planner_free(p);
    return rc;
}

void ec_trip_planner_free(ec_trip_planner *p)
{
    if (!p) return;
    ec_query_free(p->q);
    ec_free(p->s);
    ec_free(p->legs);
    ec_free(p->choice);
    ec_free(p->at_head);
    ec_free(p->labels);
    ec_free(p->heap);
    ec_free(p->next);
    ec_free(p);
}

size_t ec_trip_planner_sites(const ec_trip_planner *p, size_t *skipped)
{
    if (skipped) *skipped = p->skipped;
    return p->n_sites;
}

/* ---- legs ------------------------------------------------------------------------ */

static const leg *get_leg(ec_trip_planner *p, int a, int b)
{
    leg *l = &p->legs[(size_t)a * n_points(p) + (size_t)b];
    if (l->state) return l;
    ec_path_t path;
    if (ec_query_route(p->q, point_snap(p, a), point_snap(p, b), &path)) {
        l->state = 2;
        return l;
    }
    const ec_graph *g = p->g;
    const ec_vehicle_profile *v = p->r->vehicle;
    double e = 0, len = 0, dur = 0;
    for (uint32_t i = 0; i < path.n_arcs; i++) {
        const ec_arc_t *arc = &g->arcs[path.arcs[i]];
        double lm = arc->length_cm / 100.0, ds = arc->duration_ms / 1000.0;
        e += ec_energy_wh(v, &p->r->cond, lm, ds, 0.0);
        len += lm;
        dur += ds;
    }
    /* The partial arcs at both ends, at their average speed. */
    if (path.distance_m > len) e += ec_energy_wh(v, &p->r->cond, path.distance_m - len, path.duration_s - dur, 0.0);
    l->state = 1;
    l->dur_s = path.duration_s;
    l->dist_m = path.distance_m;
    l->energy_wh = e;
    return l;
}

/* Forgets legs that depend on the request: all of them when the vehicle or
 * conditions change, else only those to and from the origin and destination. */
static void reset_legs(ec_trip_planner *p, const ec_trip_request_t *r)
{
    size_t np = n_points(p);
    if (strcmp(p->cached_vehicle, r->vehicle->name) || p->cached_payload != r->cond.payload_kg ||
        p->cached_temp != r->cond.temp_c) {
        memset(p->legs, 0, np * np * sizeof *p->legs);
        snprintf(p->cached_vehicle, sizeof p->cached_vehicle, "%s", r->vehicle->name);
        p->cached_payload = r->cond.payload_kg;
        p->cached_temp = r->cond.temp_c;
        return;
    }
    for (size_t i = 0; i < np; i++)
        for (size_t k = 0; k < 2; k++) {
            memset(&p->legs[i * np + k], 0, sizeof(leg));
            memset(&p->legs[k * np + i], 0, sizeof(leg));
        }
}

/* The best connector at each site for this vehicle: the most power it can take. */
static void choose_connectors(ec_trip_planner *p, const ec_trip_request_t *r)
{
    for (size_t k = 0; k < p->n_sites; k++) {
        site_choice *c = &p->choice[k + 2];
        c->plug = -1;
        c->power_w = 0;
        c->avoid = 0;
        for (size_t a = 0; a < r->n_avoid; a++)
            if (!strcmp(r->avoid[a], p->s[k].id)) c->avoid = 1;
        for (size_t i = p->s[k].first_group; i < p->sites->n; i++) {
            const ec_connector_group_t *gr = &p->sites->groups[i];
            if (strcmp(gr->site_id, p->s[k].id)) continue;
            double w = ec_charge_power_w(r->vehicle, gr->standard, gr->power_w, 0.5);
            if (w > c->power_w) {
                c->power_w = w;
                c->plug = gr->standard;
                c->group = (int)i;
            }
        }
    }
}

/* ---- driver rules --------------------------------------------------------------------- */

typedef struct {
    double break_after_s, break_s, day_limit_s, rest_s;
} rules_t;

static rules_t rules_of(ec_rules r)
{
    rules_t x = {INFINITY, 0, INFINITY, 0};
    if (r == EC_RULES_EU) x = (rules_t){4.5 * 3600, 45 * 60, 9 * 3600, 11 * 3600};
    if (r == EC_RULES_US) x = (rules_t){8 * 3600, 30 * 60, 11 * 3600, 10 * 3600};
    return x;
}

/* Drives `drive` seconds from state (since, day), taking breaks and daily rests
 * on the road when they fall due. Returns the extra time spent resting. */
static double drive_with_rules(const rules_t *ru, double drive, double *since, double *day,
                               double *break_s, double *rest_s)
{
    double extra = 0, rem = drive;
    for (int guard = 0; rem > EPS && guard < 10000; guard++) {
        if (*day >= ru->day_limit_s - EPS) {
            extra += ru->rest_s, *rest_s += ru->rest_s, *day = 0, *since = 0;
            continue;
        }
        if (*since >= ru->break_after_s - EPS) {
            extra += ru->break_s, *break_s += ru->break_s, *since = 0;
            continue;
        }
        double chunk = fmin(rem, fmin(ru->break_after_s - *since, ru->day_limit_s - *day));
        rem -= chunk;
        *since += chunk;
        *day += chunk;
    }
    return extra;
}

/* ---- the search --------------------------------------------------------------------------- */

/* a is at least as good as b on everything that can still matter: time,
 * charge, the driving clocks, and cost when cost is the objective (for the
 * earliest arrival, cost changes nothing that follows). */
static int dominates(const label *a, const label *b, ec_objective obj)
{
    return a->t <= b->t + 1e-6 && a->soc >= b->soc - 1e-9 && a->since <= b->since + 1e-6 &&
           a->day <= b->day + 1e-6 && (obj == EC_OBJ_TIME || a->cost <= b->cost + 1e-6);
}

static ec_err heap_push(ec_trip_planner *p, int idx)
{
    if (p->heap_n == p->heap_cap) {
        void *h = p->heap;
        if (ec_grow(&h, &p->heap_cap, p->heap_n + 1, sizeof *p->heap)) return EC_ENOMEM;
        p->heap = h;
    }
    /* The heap holds label indices and orders them by the labels' keys. */
    size_t i = p->heap_n++;
    while (i > 0) {
        size_t par = (i - 1) / 2;
        if (p->labels[p->heap[par]].key <= p->labels[idx].key) break;
        p->heap[i] = p->heap[par];
        i = par;
    }
    p->heap[i] = (uint64_t)idx;
    return EC_OK;
}

static int heap_pop(ec_trip_planner *p)
{
    int top = (int)p->heap[0];
    uint64_t last = p->heap[--p->heap_n];
    size_t i = 0, n = p->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && p->labels[p->heap[c + 1]].key < p->labels[p->heap[c]].key) c++;
        if (p->labels[p->heap[c]].key >= p->labels[last].key) break;
        p->heap[i] = p->heap[c];
        i = c;
    }
    if (n) p->heap[i] = last;
    return top;
}

/* Adds a label unless another at its point beats it; kills those it beats. */
static ec_err add_label(ec_trip_planner *p, const label *l)
{
    /* Scan the point's live labels, unlinking those that are dead. */
    for (int *link = &p->at_head[l->point]; *link >= 0;) {
        label *o = &p->labels[*link];
        if (!o->dead && dominates(o, l, p->r->objective)) return EC_OK;
        if (!o->dead && dominates(l, o, p->r->objective)) o->dead = 1;
        if (o->dead) {
            *link = p->next[*link];
            continue;
        }
        link = &p->next[*link];
    }
    size_t limit = p->r->max_labels ? p->r->max_labels : 500000;
    if (p->n_labels >= limit)
        return ec_fail(EC_ELIMIT, "the search needed more than %zu labels", limit);
    if (p->n_labels == p->cap_labels) {
        void *a = p->labels;
        size_t cap = p->cap_labels;
        if (ec_grow(&a, &cap, p->n_labels + 1, sizeof *p->labels)) return EC_ENOMEM;
        p->labels = a;
        void *b = p->next;
        if (ec_grow(&b, &p->next_cap, p->n_labels + 1, sizeof *p->next)) return EC_ENOMEM;
        p->next = b;
        p->cap_labels = cap;
    }
    /* Earliest arrival settles by time plus the driving time still ahead: a
     * lower bound that never decreases along a leg (legs are shortest paths),
     * so the first label settled at the destination stays the best (A*). */
    double ahead = 0;
    if (l->point != 1) {
        const leg *to_d = get_leg(p, l->point, 1);
        if (to_d->state != 1) return EC_OK; /* no road on to the destination */
        ahead = to_d->dur_s;
    }
    int idx = (int)p->n_labels++;
    p->labels[idx] = *l;
    p->labels[idx].key = p->r->objective == EC_OBJ_COST ? l->cost + l->t * 1e-6 : l->t + ahead;
    p->next[idx] = p->at_head[l->point];
    p->at_head[l->point] = idx;
    return heap_push(p, idx);
}

typedef struct {
    double soc, charge_s, stop_s, grid_wh, cost;
    int brk;
} departure;

/* The departures a label at a site can make: charge to each 10 % level above
 * its SoC or exactly to what the destination needs, with or without the break. */
static int departures(ec_trip_planner *p, const label *l, departure *out, int max)
{
    const ec_trip_request_t *r = p->r;
    const ec_vehicle_profile *v = r->vehicle;
    rules_t ru = rules_of(r->rules);
    int n = 0;
    double targets[16];
    int nt = 0;
    targets[nt++] = l->soc;
    if (l->point >= 2 && p->choice[l->point].plug >= 0 && !p->choice[l->point].avoid) {
        for (int k = 1; k <= 10; k++) {
            double s = k / 10.0;
            if (s > l->soc + 0.005 && s <= v->soc_max + EPS) targets[nt++] = fmin(s, v->soc_max);
        }
        const leg *d = get_leg(p, l->point, 1);
        if (d->state == 1) {
            double need = ceil((d->energy_wh / v->battery_wh + r->soc_min_arrival) * 1000.0) / 1000.0;
            if (need > l->soc + 0.0005 && need <= v->soc_max + EPS) targets[nt++] = fmin(need, v->soc_max);
        }
    }
    /* Ascending targets, so each charge time extends the previous one. */
    for (int i = 1; i < nt; i++)
        for (int k = i; k > 0 && targets[k] < targets[k - 1]; k--) {
            double t = targets[k];
            targets[k] = targets[k - 1];
            targets[k - 1] = t;
        }
    double acc_s = 0, acc_wh = 0, acc_soc = l->soc;
    for (int i = 0; i < nt && n < max - 1; i++) {
        departure d = {targets[i], 0, 0, 0, 0, 0};
        if (targets[i] > l->soc) {
            const site_choice *c = &p->choice[l->point];
            const ec_connector_group_t *gr = &p->sites->groups[c->group];
            double ds, dwh;
            if (ec_charge_time_s(v, gr->standard, gr->power_w, acc_soc, targets[i], &ds, &dwh)) continue;
            acc_s += ds, acc_wh += dwh, acc_soc = targets[i];
            d.charge_s = acc_s;
            d.grid_wh = acc_wh;
            d.stop_s = d.charge_s + r->stop_overhead_s;
            d.cost = d.grid_wh / 1000.0 * (double)gr->price_per_kwh + d.charge_s / 60.0 * (double)gr->price_per_min;
        }
        /* A charge at least as long as the break counts as the break. */
        d.brk = r->rules != EC_RULES_NONE && d.stop_s >= ru.break_s - EPS && d.charge_s > 0;
        /* Leaving a site as one arrived is never needed: the direct leg from
         * the previous point is at least as fast. At the origin it is the start. */
        if (l->point < 2 ? i == 0 : targets[i] > l->soc) out[n++] = d;
        if (l->point >= 2 && r->rules != EC_RULES_NONE && !d.brk && l->since > 0) {
            departure b = d;
            b.brk = 1;
            b.stop_s = fmax(d.stop_s, ru.break_s);
            out[n++] = b;
        }
    }
    return n;
}

/* The label reached by driving from l (after departure d) to point j, or 0. */
static int apply_leg(ec_trip_planner *p, int li, const departure *d, int j, label *out)
{
    const ec_trip_request_t *r = p->r;
    const label *l = &p->labels[li];
    const leg *lg = get_leg(p, l->point, j);
    if (lg->state != 1) return 0;
    double soc = d->soc - lg->energy_wh / r->vehicle->battery_wh;
    if (soc < (j == 1 ? fmax(r->soc_min, r->soc_min_arrival) : r->soc_min) - EPS) return 0;
    rules_t ru = rules_of(r->rules);
    label n = *l;
    n.point = j;
    n.parent = li;
    n.dead = 0;
    n.dep_soc = d->soc;
    n.charge_s = d->charge_s;
    n.stop_s = d->stop_s;
    n.grid_wh = d->grid_wh;
    n.stop_cost = d->cost;
    n.brk = d->brk;
    n.plug = l->point >= 2 ? p->choice[l->point].plug : -1;
    n.group = l->point >= 2 ? p->choice[l->point].group : -1;
    if (d->brk) n.since = 0;
    if (d->stop_s >= ru.rest_s && ru.rest_s > 0) n.day = 0, n.since = 0;
    double extra = drive_with_rules(&ru, lg->dur_s, &n.since, &n.day, &n.break_s, &n.rest_s);
    n.t = l->t + d->stop_s + lg->dur_s + extra;
    n.soc = soc;
    n.cost = l->cost + d->cost;
    n.drive_s += lg->dur_s;
    n.dist_m += lg->dist_m;
    n.energy_wh += lg->energy_wh;
    if (d->brk) n.break_s += fmax(0, d->stop_s - d->charge_s - (d->charge_s > 0 ? r->stop_overhead_s : 0));
    *out = n;
    return 1;
}

/* The label of the truck at the origin before it leaves. */
static label start_label(const ec_trip_request_t *r)
{
    label start;
    memset(&start, 0, sizeof start);
    start.soc = r->soc_start;
    start.since = r->driven_since_break_s;
    start.parent = -1;
    start.plug = start.group = -1;
    return start;
}

static ec_err check_request(const ec_trip_request_t *r)
{
    const ec_vehicle_profile *v = r->vehicle;
    if (!(r->soc_start >= 0 && r->soc_start <= 1))
        return ec_fail(EC_ERANGE, "starting SoC %.3f is not 0..1", r->soc_start);
    if (!(r->soc_min >= 0 && r->soc_min < 1) || !(r->soc_min_arrival >= 0 && r->soc_min_arrival < 1))
        return ec_fail(EC_ERANGE, "minimum SoC must be 0..1");
    if (r->soc_start < r->soc_min)
        return ec_fail(EC_ERANGE, "starting SoC %.2f is below the minimum %.2f", r->soc_start, r->soc_min);
    if (!(r->cond.payload_kg >= 0 && r->cond.payload_kg <= v->max_payload_kg))
        return ec_fail(EC_ERANGE, "payload %.0f kg is not 0..%.0f kg for %s", r->cond.payload_kg, v->max_payload_kg, v->name);
    if (!(r->cond.temp_c >= -50 && r->cond.temp_c <= 60)) return ec_fail(EC_ERANGE, "temperature must be -50..60 C");
    if (!(r->stop_overhead_s >= 0 && r->stop_overhead_s <= 3600))
        return ec_fail(EC_ERANGE, "stop overhead must be 0..60 min");
    if (!(r->driven_since_break_s >= 0 && r->driven_since_break_s <= 24 * 3600))
        return ec_fail(EC_ERANGE, "driving since the last break must be 0..24 h");
    return EC_OK;
}

static ec_err prepare(ec_trip_planner *p, const ec_trip_request_t *r, ec_latlon_t from, ec_latlon_t to)
{
    ec_err rc = check_request(r);
    if (rc) return rc;
    if ((rc = ec_graph_snap(p->g, from, SITE_SNAP_M, &p->od[0])) || (rc = ec_graph_snap(p->g, to, SITE_SNAP_M, &p->od[1])))
        return rc;
    p->r = r;
    reset_legs(p, r);
    choose_connectors(p, r);
    p->n_labels = 0;
    p->heap_n = 0;
    for (size_t i = 0; i < n_points(p); i++) p->at_head[i] = -1;
    return EC_OK;
}

static void explain_infeasible(ec_trip_planner *p, ec_trip_plan_t *plan)
{
    const ec_trip_request_t *r = p->r;
    const leg *direct = get_leg(p, 0, 1);
    if (direct->state != 1) {
        snprintf(plan->reason, sizeof plan->reason, "the destination cannot be reached by road from the origin for vehicle class %s",
                 p->g->vehicle.name);
        return;
    }
    /* From the reached point nearest the destination: how far short is the battery? */
    int best = -1;
    double best_d = INFINITY;
    for (size_t i = 0; i < p->n_labels; i++) {
        const leg *lg = get_leg(p, p->labels[i].point, 1);
        if (lg->state == 1 && lg->dist_m < best_d) best_d = lg->dist_m, best = (int)i;
    }
    const label *l = &p->labels[best];
    const leg *lg = get_leg(p, l->point, 1);
    double avail = l->point >= 2 && p->choice[l->point].plug >= 0 && !p->choice[l->point].avoid ? r->vehicle->soc_max : l->soc;
    double need = lg->energy_wh / r->vehicle->battery_wh + fmax(r->soc_min, r->soc_min_arrival);
    double short_wh = (need - avail) * r->vehicle->battery_wh;
    double km_short = short_wh / (lg->energy_wh / lg->dist_m) / 1000.0;
    if (short_wh > 0)
        snprintf(plan->reason, sizeof plan->reason,
                 "no charging plan reaches the destination: from %s the last %.0f km need %.0f kWh, but at most %.0f kWh "
                 "can be used there: %.0f km short",
                 point_name(p, l->point), lg->dist_m / 1000, lg->energy_wh / 1000,
                 (avail - fmax(r->soc_min, r->soc_min_arrival)) * r->vehicle->battery_wh / 1000, km_short);
    else
        snprintf(plan->reason, sizeof plan->reason, "no charging plan reaches the destination within the limits asked for");
}

static ec_err fill_plan(ec_trip_planner *p, int li, ec_trip_plan_t *plan)
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
    plan->energy_kwh = end->energy_wh / 1000.0;
    plan->soc_arrival = end->soc;
    memcpy(plan->currency, p->sites->currency, 4);
    plan->n_points = 0;
    for (int i = n - 1; i >= 0; i--) plan->points[plan->n_points++] = p->labels[chain[i]].point;
    /* A stop is every site on the chain; its departure data sits in the next label. */
    double cost = 0;
    for (int i = n - 2; i >= 1; i--) {
        const label *at = &p->labels[chain[i]], *after = &p->labels[chain[i - 1]];
        ec_trip_stop_t *s = &plan->stops[plan->n_stops++];
        memset(s, 0, sizeof *s);
        const site *st = &p->s[at->point - 2];
        snprintf(s->site_id, sizeof s->site_id, "%s", st->id);
        snprintf(s->name, sizeof s->name, "%s", st->name);
        s->plug = after->plug >= 0 ? (ec_plug)after->plug : EC_PLUG_COUNT;
        s->power_w = after->charge_s > 0 ? p->choice[at->point].power_w : 0;
        s->arrival_s = r->depart_s + (int64_t)llround(at->t);
        s->departure_s = s->arrival_s + (int64_t)llround(after->stop_s);
        s->soc_in = at->soc;
        s->soc_out = after->dep_soc;
        s->energy_kwh = after->grid_wh / 1000.0;
        s->charge_s = after->charge_s;
        s->brk = after->brk;
        s->overhead_s = after->charge_s > 0 ? r->stop_overhead_s : 0;
        plan->overhead_s += s->overhead_s;
        s->cost = (int64_t)llround(after->stop_cost);
        plan->charge_s += after->charge_s;
        cost += after->stop_cost;
    }
    plan->cost = (int64_t)llround(cost);
    return EC_OK;
}

ec_err ec_trip_plan(ec_trip_planner *p, const ec_trip_request_t *r, ec_latlon_t from, ec_latlon_t to,
                    ec_trip_plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    ec_err rc = prepare(p, r, from, to);
    if (rc) return rc;
    label start = start_label(r);
    if ((rc = add_label(p, &start))) return rc;
    size_t np = n_points(p);
    departure deps[40];
    while (p->heap_n) {
        int li = heap_pop(p);
        if (p->labels[li].dead) continue;
        if (p->labels[li].point == 1) {
            plan->labels = p->n_labels;
            return fill_plan(p, li, plan);
        }
        label cur = p->labels[li];
        int nd = departures(p, &cur, deps, 40);
        for (int d = 0; d < nd; d++)
            for (size_t j = 1; j < np; j++) {
                if ((int)j == cur.point || (j >= 2 && (p->choice[j].avoid || p->choice[j].plug < 0))) continue;
                label next;
                if (!apply_leg(p, li, &deps[d], (int)j, &next)) continue;
                if ((rc = add_label(p, &next))) return rc;
            }
    }
    plan->feasible = 0;
    plan->departure_s = r->depart_s;
    memcpy(plan->currency, p->sites->currency, 4);
    plan->labels = p->n_labels;
    explain_infeasible(p, plan);
    return EC_OK;
}

/* ---- exhaustive reference ------------------------------------------------------------------ */

typedef struct {
    double best;
    int found;
    uint8_t *used;
    long budget;
} ref_ctx;

/* Tries every sequence of distinct usable sites, with every departure, from label li. */
static ec_err ref_dfs(ec_trip_planner *p, int li, ref_ctx *c)
{
    if (--c->budget < 0) return ec_fail(EC_ELIMIT, "reference search too large");
    const label cur = p->labels[li];
    if (cur.point == 1) {
        double key = p->r->objective == EC_OBJ_COST ? cur.cost + cur.t * 1e-6 : cur.t;
        if (key < c->best) c->best = key;
        c->found = 1;
        return EC_OK;
    }
    departure deps[40];
    int nd = departures(p, &cur, deps, 40);
    for (int d = 0; d < nd; d++)
        for (size_t j = 1; j < n_points(p); j++) {
            if (j >= 2 && (c->used[j] || p->choice[j].avoid || p->choice[j].plug < 0)) continue;
            label next;
            if (!apply_leg(p, li, &deps[d], (int)j, &next)) continue;
            /* Labels here are a stack, not a search frontier: reuse the slot above li. */
            size_t keep = p->n_labels;
            if (p->n_labels == p->cap_labels) {
                void *a = p->labels;
                if (ec_grow(&a, &p->cap_labels, p->n_labels + 1, sizeof *p->labels)) return EC_ENOMEM;
                p->labels = a;
            }
            p->labels[p->n_labels++] = next;
            c->used[j] = 1;
            ec_err rc = ref_dfs(p, (int)p->n_labels - 1, c);
            c->used[j] = 0;
            p->n_labels = keep;
            if (rc) return rc;
        }
    return EC_OK;
}

ec_err ec_trip_plan_reference(ec_trip_planner *p, const ec_trip_request_t *r, ec_latlon_t from,
                              ec_latlon_t to, double *best_key, int *feasible)
{
    ec_err rc = prepare(p, r, from, to);
    if (rc) return rc;
    ref_ctx c = {INFINITY, 0, ec_calloc(n_points(p), 1), 20000000};
    if (!c.used) return EC_ENOMEM;
    label start = start_label(r);
    if (p->cap_labels == 0) {
        void *a = NULL;
        if (ec_grow(&a, &p->cap_labels, 64, sizeof *p->labels)) {
            ec_free(c.used);
            return EC_ENOMEM;
        }
        p->labels = a;
    }
    p->labels[0] = start;
    p->n_labels = 1;
    rc = ref_dfs(p, 0, &c);
    ec_free(c.used);
    *best_key = c.best;
    *feasible = c.found;
    return rc;
}

ec_err ec_trip_geojson(ec_trip_planner *p, const ec_trip_plan_t *plan, ec_jw *w)
{
    ec_jw_obj_begin(w);
    ec_jw_key(w, "type");
    ec_jw_str(w, "LineString");
    ec_jw_key(w, "coordinates");
    ec_jw_arr_begin(w);
    for (int i = 0; i + 1 < plan->n_points; i++) {
        ec_path_t path;
        const ec_snap_t *a = point_snap(p, plan->points[i]), *b = point_snap(p, plan->points[i + 1]);
        ec_err rc = ec_query_route(p->q, a, b, &path);
        if (rc) return rc;
        /* Each leg's end is the next leg's start: write it once, at the last leg. */
        ec_path_positions(p->g, a, b, &path, i + 2 == plan->n_points, w);
    }
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
    return EC_OK;
}
