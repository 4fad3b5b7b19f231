/* plan.c - charging-stop planning: a label-setting search over charging sites.
 *
 * Points are the origin (0), the destination (1) and the sites (2..). A leg
 * between two points is the fastest road route; on level roads it is met
 * from the points' kept hierarchy search spaces with the sums its energy
 * follows from, with grades summed arc by arc along the route; legs are
 * cached for the vehicle. A label is an arrival at a point: time, state of
 * charge, the driving clocks, cost. From a site a label departs, after any
 * wait for a connector, charging to one of a few levels: every 10 %, exactly
 * what the destination needs, what the break, the first part of a split break
 * or the daily rest gives when the driver takes it there.
 * Breaks and rests that fall due on the road are taken where they fall.
 * Labels beaten on every criterion by another label at the same point are
 * dropped. Labels are settled in order of the objective plus a lower bound of
 * what is still to come (A*): the fastest driving time left, the energy still
 * to charge at the best power any usable site gives, and the breaks and rests
 * the driving left makes due. So the first label settled at the destination
 * is optimal among the plans these charging choices can make. From a site
 * only the sites within the charge's reach are tried, nearest in energy first.
 */
#include "plan_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TIE 1e-6 /* objective values this close are equally good */

size_t route__n_points(const ec_trip_planner *p)
{
    return p->n_sites + 2;
}

const ec_snap_t *route__point_snap(const ec_trip_planner *p, int i)
{
    return i < 2 ? &p->od[i] : &p->s[i - 2].snap;
}

const char *route__point_name(const ec_trip_planner *p, int i)
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
    p->row_next = ec_malloc((sites->n + 1) * sizeof *p->row_next);
    int *site_of = ec_malloc((sites->n + 1) * sizeof *site_of);
    if (!p->s || !p->row_next || !site_of) {
        ec_free(site_of);
        rc = EC_ENOMEM;
        goto fail;
    }
    /* Rows with the same site id, in any order, make one site; the first
     * row's position places it (-2: too far from a road). */
    for (size_t i = 0; i < sites->n; i++) {
        const ec_connector_group_t *c = &sites->groups[i];
        p->row_next[i] = -1;
        size_t j = 0;
        while (j < i && strcmp(sites->groups[j].site_id, c->site_id)) j++;
        if (j < i) {
            int k = site_of[i] = site_of[j];
            if (k >= 0) p->row_next[p->s[k].last_row] = (int)i, p->s[k].last_row = (int)i;
            continue;
        }
        site *st = &p->s[p->n_sites];
        memset(st, 0, sizeof *st);
        snprintf(st->id, sizeof st->id, "%s", c->site_id);
        snprintf(st->name, sizeof st->name, "%s", c->name);
        st->first_row = st->last_row = (int)i;
        if (ec_graph_snap(g, c->pos, SITE_SNAP_M, &st->snap)) {
            site_of[i] = -2;
            p->skipped++;
            continue;
        }
        site_of[i] = (int)p->n_sites++;
    }
    ec_free(site_of);
    size_t np = route__n_points(p);
    p->legs = ec_calloc(np * np, sizeof *p->legs);
    p->choice = ec_calloc(np, sizeof *p->choice);
    p->at_head = ec_malloc(np * sizeof *p->at_head);
    p->near = ec_malloc(np * np * sizeof *p->near);
    p->near_n = ec_malloc(np * sizeof *p->near_n);
    p->lb_e = ec_malloc(np * sizeof *p->lb_e);
    p->e_into = ec_malloc(np * np * sizeof *p->e_into);
    p->settled = ec_malloc(np);
    if (!p->legs || !p->choice || !p->at_head || !p->near || !p->near_n || !p->lb_e || !p->e_into || !p->settled) {
        rc = EC_ENOMEM;
        goto fail;
    }
    if (!g->elev_m) {
        p->fw = ec_calloc(np, sizeof *p->fw);
        p->bw = ec_calloc(np, sizeof *p->bw);
        if (!p->fw || !p->bw) {
            rc = EC_ENOMEM;
            goto fail;
        }
        if ((rc = ec_graph_ch_sums(g, &p->up_s, &p->down_s))) goto fail;
        for (size_t i = 2; i < np; i++)
            if ((rc = ec_query_space(p->q, p->up_s, p->down_s, route__point_snap(p, (int)i), 0, &p->fw[i])) ||
                (rc = ec_query_space(p->q, p->up_s, p->down_s, route__point_snap(p, (int)i), 1, &p->bw[i])))
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
    if (p->fw)
        for (size_t i = 0; i < route__n_points(p); i++) ec_space_free(&p->fw[i]), ec_space_free(&p->bw[i]);
    ec_free(p->fw);
    ec_free(p->bw);
    ec_free(p->up_s);
    ec_free(p->down_s);
    ec_free(p->s);
    ec_free(p->row_next);
    ec_free(p->legs);
    ec_free(p->choice);
    ec_free(p->at_head);
    ec_free(p->near);
    ec_free(p->near_n);
    ec_free(p->lb_e);
    ec_free(p->e_into);
    ec_free(p->settled);
    ec_free(p->tabs);
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

/* Elevation of a point: along its snapped road piece. */
static double point_elev(const ec_trip_planner *p, int i)
{
    const ec_snap_t *s = route__point_snap(p, i);
    double a = ec_graph_elev_m(p->g, s->tail), b = ec_graph_elev_m(p->g, s->head);
    return a + s->frac * (b - a);
}

/* A leg from the route found (or not: rc) between points a and b, on a
 * graph with elevations: arc by arc with each arc's grade, so that braking
 * downhill recovers energy only where it happens and the lowest charge on
 * the way is known. The partial arcs at both ends go first, as one piece. */
static void set_leg(ec_trip_planner *p, leg *l, ec_err rc, const ec_path_t *path, int a, int b)
{
    if (rc) {
        l->state = 2;
        return;
    }
    const ec_graph *g = p->g;
    const ec_vehicle_profile *v = p->r->vehicle;
    const ec_conditions_t *c = &p->r->cond;
    double e = 0, peak = 0, pl = path->distance_m, pd = path->duration_s;
    for (uint32_t i = 0; i < path->n_arcs; i++) {
        const ec_arc_t *arc = &g->arcs[path->arcs[i]];
        pl -= arc->length_cm / 100.0, pd -= arc->duration_ms / 1000.0;
    }
    double rise = path->first_node == UINT32_MAX
                      ? point_elev(p, b) - point_elev(p, a)
                      : ec_graph_elev_m(g, path->first_node) - point_elev(p, a) + point_elev(p, b) -
                            ec_graph_elev_m(g, path->last_node);
    if (pl > 0) e = ec_energy_wh(v, c, pl, pd, rise), peak = fmax(0, e);
    uint32_t at = path->first_node;
    for (uint32_t i = 0; i < path->n_arcs; i++) {
        const ec_arc_t *arc = &g->arcs[path->arcs[i]];
        e += ec_energy_wh(v, c, arc->length_cm / 100.0, arc->duration_ms / 1000.0,
                          ec_graph_elev_m(g, arc->to) - ec_graph_elev_m(g, at));
        peak = fmax(peak, e);
        at = arc->to;
    }
    l->state = 1;
    l->dur_s = path->duration_s;
    l->dist_m = path->distance_m;
    l->energy_wh = e;
    l->peak_wh = peak;
}

/* A leg on level roads from the sums of its route (found or not). */
static void set_leg_sums(ec_trip_planner *p, leg *l, int found, const ec_route_sums_t *s)
{
    if (!found) {
        l->state = 2;
        return;
    }
    l->state = 1;
    l->dur_s = s->dur_s;
    l->dist_m = s->len_m;
    l->energy_wh = l->peak_wh = ec_energy_route_wh(p->r->vehicle, &p->r->cond, s->len_m, s->dur_s, s->len_v2);
}

const leg *route__get_leg(ec_trip_planner *p, int a, int b)
{
    leg *l = &p->legs[(size_t)a * route__n_points(p) + (size_t)b];
    if (l->state) return l;
    if (p->fw) {
        ec_route_sums_t s;
        set_leg_sums(p, l, ec_space_meet(p->g, &p->fw[a], &p->bw[b], &s), &s);
        return l;
    }
    ec_path_t path;
    set_leg(p, l, ec_query_route(p->q, route__point_snap(p, a), route__point_snap(p, b), &path), &path, a, b);
    return l;
}

/* The legs from every point to the destination and from the origin to every
 * point, each batch with one search kept at its shared end. */
static ec_err od_legs(ec_trip_planner *p)
{
    size_t np = route__n_points(p);
    if (p->fw) {
        /* The origin's space as a source and the destination's as a target;
         * the legs are met from them when first needed. */
        ec_space_free(&p->fw[0]);
        ec_space_free(&p->bw[1]);
        ec_err rc;
        if ((rc = ec_query_space(p->q, p->up_s, p->down_s, &p->od[0], 0, &p->fw[0])) ||
            (rc = ec_query_space(p->q, p->up_s, p->down_s, &p->od[1], 1, &p->bw[1])))
            return rc;
        for (size_t i = 0; i < np; i++) {
            if (i != 1) route__get_leg(p, (int)i, 1);
            if (i >= 2) route__get_leg(p, 0, (int)i);
        }
        return EC_OK;
    }
    ec_path_t path;
    ec_query_fix(p->q, &p->od[1], 1);
    for (size_t i = 0; i < np; i++) {
        if (i == 1) continue;
        set_leg(p, &p->legs[i * np + 1], ec_query_route_fixed(p->q, route__point_snap(p, (int)i), &path), &path, (int)i, 1);
    }
    ec_query_fix(p->q, &p->od[0], 0);
    for (size_t j = 2; j < np; j++)
        set_leg(p, &p->legs[j], ec_query_route_fixed(p->q, route__point_snap(p, (int)j), &path), &path, 0, (int)j);
    return EC_OK;
}

/* Forgets legs that depend on the request: all of them when the vehicle or
 * conditions change, else only those to and from the origin and destination. */
static void reset_legs(ec_trip_planner *p, const ec_trip_request_t *r)
{
    size_t np = route__n_points(p);
    if (strcmp(p->cached_vehicle, r->vehicle->name) || p->cached_payload != r->cond.payload_kg ||
        p->cached_temp != r->cond.temp_c) {
        memset(p->legs, 0, np * np * sizeof *p->legs);
        for (size_t i = 0; i < np; i++) p->near_n[i] = -1;
        p->n_tabs = 0;
        p->e_into_ok = 0;
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
    p->near_n[0] = -1;
}

/* The other usable sites from point i, nearest in leg energy first. */
typedef struct {
    double e;
    int j;
} by_energy;

static int cmp_energy(const void *a, const void *b)
{
    const by_energy *x = a, *y = b;
    return x->e < y->e ? -1 : x->e > y->e ? 1 : x->j - y->j;
}

static ec_err build_near(ec_trip_planner *p, int i)
{
    size_t np = route__n_points(p);
    by_energy *tmp = ec_malloc(np * sizeof *tmp);
    if (!tmp) return EC_ENOMEM;
    int n = 0;
    for (size_t j = 2; j < np; j++) {
        if ((int)j == i) continue;
        const leg *lg = route__get_leg(p, i, (int)j);
        if (lg->state == 1) tmp[n++] = (by_energy){lg->energy_wh, (int)j};
    }
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_energy);
    for (int k = 0; k < n; k++) p->near[(size_t)i * np + (size_t)k] = tmp[k].j;
    p->near_n[i] = n;
    ec_free(tmp);
    return EC_OK;
}

/* The charging table for a connector, made once per vehicle. */
static int charge_tab_of(ec_trip_planner *p, ec_plug plug, double limit_w)
{
    for (size_t i = 0; i < p->n_tabs; i++)
        if (p->tabs[i].plug == plug && p->tabs[i].limit_w == limit_w) return (int)i;
    if (p->n_tabs == p->cap_tabs) {
        void *a = p->tabs;
        if (ec_grow(&a, &p->cap_tabs, p->n_tabs + 1, sizeof *p->tabs)) return -1;
        p->tabs = a;
    }
    charge_tab *t = &p->tabs[p->n_tabs];
    t->plug = plug;
    t->limit_w = limit_w;
    if (ec_charge_table_init(p->r->vehicle, plug, limit_w, &t->t)) return -1;
    return (int)p->n_tabs++;
}

/* The best connector at each site for this vehicle: the most power it can
 * take. Also the most power any usable site gives into the battery and the
 * lowest energy price, for the bounds. */
static ec_err choose_connectors(ec_trip_planner *p, const ec_trip_request_t *r)
{
    const ec_vehicle_profile *v = r->vehicle;
    double curve_max = 0;
    for (int i = 0; i < v->n_curve; i++) curve_max = fmax(curve_max, v->curve[i].power_w);
    p->pmax_batt_w = 0;
    p->min_price_kwh = INFINITY;
    for (size_t k = 0; k < p->n_sites; k++) {
        site_choice *c = &p->choice[k + 2];
        c->plug = -1;
        c->power_w = 0;
        c->avoid = 0;
        c->usable = 0;
        for (size_t a = 0; a < r->n_avoid; a++)
            if (!strcmp(r->avoid[a], p->s[k].id)) c->avoid = 1;
        for (int i = p->s[k].first_row; i >= 0; i = p->row_next[i]) {
            const ec_connector_group_t *gr = &p->sites->groups[i];
            int window = gr->reservable_to > gr->reservable_from;
            if (gr->available <= 0 && !window) continue; /* none free now, none to reserve */
            double w = ec_charge_power_w(r->vehicle, gr->standard, gr->power_w, 0.5);
            if (w > c->power_w || (w > 0 && w == c->power_w && gr->wait_s < p->sites->groups[c->group].wait_s)) {
                c->power_w = w;
                c->plug = gr->standard;
                c->group = i;
            }
        }
        if (c->plug < 0 || c->avoid) continue;
        const ec_connector_group_t *gr = &p->sites->groups[c->group];
        if ((c->tab = charge_tab_of(p, gr->standard, gr->power_w)) < 0) return EC_ENOMEM;
        c->usable = 1;
        c->available = gr->available;
        c->wait_s = gr->wait_s;
        c->busy_until = (double)gr->busy_until;
        c->res_from = (double)gr->reservable_from;
        c->res_to = (double)gr->reservable_to;
        double most = fmin(curve_max, v->plug_max_w[gr->standard]);
        if (gr->power_w > 0) most = fmin(most, gr->power_w);
        p->pmax_batt_w = fmax(p->pmax_batt_w, most * v->charge_eff);
        p->min_price_kwh = fmin(p->min_price_kwh, (double)gr->price_per_kwh);
    }
    if (!isfinite(p->min_price_kwh)) p->min_price_kwh = 0;
    return EC_OK;
}

/* The battery energy (Wh) of lifting the truck to point i: no leg from i to j
 * draws less than phi(j) - phi(i) (see energy_bounds). */
static double phi(const ec_trip_planner *p, int i)
{
    if (!p->g->elev_m) return 0.0;
    const ec_trip_request_t *r = p->r;
    return (r->vehicle->empty_mass_kg + r->cond.payload_kg) * 9.80665 * point_elev(p, i) / 3600.0;
}

/* A leg's energy less what climbing took (and plus what descending gave):
 * never negative, so Dijkstra may add them up. */
static double reduced(const ec_trip_planner *p, const leg *lg, int i, int j)
{
    return lg->state == 1 ? fmax(0.0, lg->energy_wh - phi(p, j) + phi(p, i)) : INFINITY;
}

/* The least energy from every point to the destination over legs through
 * usable sites: Dijkstra on the complete graph of points. */
static void energy_bounds(ec_trip_planner *p)
{
    size_t np = route__n_points(p);
    /* Leg energies by head, so that relaxing into a point reads one row.
     * With grades a leg downhill may give energy back; but per road piece
     * the battery draws at least the work of lifting the truck (it brakes
     * back less than gravity gives), so the least energy is found on
     * energies reduced by the potential phi and restored at the end. */
    if (!p->e_into_ok) {
        for (size_t u = 2; u < np; u++)
            for (size_t i = 2; i < np; i++)
                p->e_into[u * np + i] = i == u ? INFINITY : reduced(p, route__get_leg(p, (int)i, (int)u), (int)i, (int)u);
        p->e_into_ok = 1;
    }
    for (size_t u = 2; u < np; u++) p->e_into[u * np] = reduced(p, &p->legs[u], 0, (int)u);
    for (size_t i = 0; i < np; i++) {
        p->e_into[np + i] = i != 1 ? reduced(p, &p->legs[i * np + 1], (int)i, 1) : INFINITY;
        p->lb_e[i] = INFINITY;
        p->settled[i] = i >= 2 && !p->choice[i].usable;
    }
    p->lb_e[1] = 0;
    for (;;) {
        size_t u = 0;
        double best = INFINITY;
        for (size_t i = 1; i < np; i++)
            if (!p->settled[i] && p->lb_e[i] < best) best = p->lb_e[i], u = i;
        if (u == 0) break;
        p->settled[u] = 1;
        const double *row = &p->e_into[u * np];
        /* Settled points first: a row has no entry for the leg out of the
         * destination, which is settled before any row is read. */
        for (size_t i = 0; i < np; i++)
            if (!p->settled[i] && row[i] + best < p->lb_e[i]) p->lb_e[i] = row[i] + best;
    }
    double dest = phi(p, 1);
    for (size_t i = 0; i < np; i++)
        if (isfinite(p->lb_e[i])) p->lb_e[i] += dest - phi(p, (int)i);
    p->lb_e[1] = 0;
}

/* ---- driver rules --------------------------------------------------------------------- */


rules_t route__rules_of(ec_rules r)
{
    rules_t x = {INFINITY, 0, 0, 0, INFINITY, 0, INFINITY};
    if (r == EC_RULES_EU) x = (rules_t){4.5 * 3600, 45 * 60, 15 * 60, 30 * 60, 9 * 3600, 11 * 3600, 13 * 3600};
    if (r == EC_RULES_US) x = (rules_t){8 * 3600, 30 * 60, 0, 0, 11 * 3600, 10 * 3600, 14 * 3600};
    return x;
}

/* The break that resets the driving clock now: the second part of a split
 * break when the first was taken, else the whole break. */
static double break_due_s(const rules_t *ru, const label *l)
{
    return l->part ? ru->split_second_s : ru->break_s;
}


/* Drives `drive` seconds from l's clocks, taking breaks and daily rests on the
 * road when they fall due; each is written into log when one is given.
 * Returns the extra time spent resting. */
double route__drive_with_rules(const rules_t *ru, double drive, label *l, road_log *log)
{
    double extra = 0, rem = drive;
    for (int guard = 0; rem > EPS && guard < 10000; guard++) {
        ec_pause_kind kind = EC_PAUSE_NONE;
        double len = 0;
        if (l->day >= ru->day_limit_s - EPS || l->duty >= ru->window_s - EPS) {
            kind = EC_PAUSE_REST, len = ru->rest_s;
            l->rest_s += len, l->road_rests++;
            l->day = l->since = l->duty = 0, l->part = 0;
        } else if (l->since >= ru->break_after_s - EPS) {
            kind = l->part ? EC_PAUSE_BREAK_PART : EC_PAUSE_BREAK, len = break_due_s(ru, l);
            l->break_s += len, l->duty += len, l->road_breaks++;
            l->since = 0, l->part = 0;
        }
        if (kind != EC_PAUSE_NONE) {
            if (log && log->n < EC_TRIP_MAX_PAUSES)
                log->e[log->n].kind = kind, log->e[log->n].drive_s = drive - rem,
                log->e[log->n].start_s = drive - rem + extra, log->e[log->n].len_s = len, log->n++;
            else if (log)
                log->overflow = 1;
            extra += len;
            continue;
        }
        double chunk = fmin(fmin(rem, ru->break_after_s - l->since), fmin(ru->day_limit_s - l->day, ru->window_s - l->duty));
        rem -= chunk;
        l->since += chunk;
        l->day += chunk;
        l->duty += chunk;
    }
    return extra;
}

/* The driving clocks after a stop of stop_s seconds in which the rest, the
 * break or the first part of a split break was taken (pause: the part of the
 * stop that was neither waiting, charging nor plugging in). */
void route__take_stop(label *n, double stop_s, int rest, int brk, int split, double pause)
{
    n->duty += stop_s;
    if (rest) n->day = n->since = n->duty = 0, n->part = 0, n->rest_s += pause;
    else if (brk) n->since = 0, n->part = 0, n->break_s += pause;
    else if (split == 1) n->part = 1, n->break_s += pause;
}

/* ---- the search --------------------------------------------------------------------------- */

/* a is at least as good as b on everything that can still matter: time,
 * charge, the driving clocks (under rules), and cost when cost is the
 * objective (for the earliest arrival, cost changes nothing that follows). */
static int dominates(const label *a, const label *b, ec_objective obj)
{
    /* At the destination only the arrival and the cost count: among equally
     * early plans the search keeps the cheapest. */
    if (a->point == 1) return a->t <= b->t + 1e-6 && a->cost <= b->cost + 1e-6;
    return a->t <= b->t + 1e-6 && a->soc >= b->soc - 1e-9 && a->since <= b->since + 1e-6 &&
           a->day <= b->day + 1e-6 && a->duty <= b->duty + 1e-6 && a->part >= b->part &&
           (obj == EC_OBJ_TIME || a->cost <= b->cost + 1e-6);
}

/* Heap order: by key; among equal keys the label further on (later) first,
 * so that on a plateau of equally good labels the search goes deep and meets
 * the destination soon. */
static int before(const label *a, const label *b)
{
    return a->key < b->key || (a->key == b->key && a->t > b->t);
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
        if (!before(&p->labels[idx], &p->labels[p->heap[par]])) break;
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
        if (c + 1 < n && before(&p->labels[p->heap[c + 1]], &p->labels[p->heap[c]])) c++;
        if (!before(&p->labels[p->heap[c]], &p->labels[last])) break;
        p->heap[i] = p->heap[c];
        i = c;
    }
    if (n) p->heap[i] = last;
    return top;
}

/* How many times a driving clock at `clock` must be reset before `drive`
 * more seconds of driving fit under `limit`. */
static double resets_needed(double clock, double drive, double limit)
{
    if (!isfinite(limit) || clock + drive <= limit + EPS) return 0;
    return ceil((clock + drive) / limit - 1e-9) - 1;
}

/* A lower bound of what is still to come from label l: the objective's part
 * of it (seconds for time; money, plus seconds * 1e-6, for cost). INFINITY
 * when the destination cannot be reached from l's point. The driving left is
 * at least the fastest leg on; the energy left at least the least-energy
 * chain of legs; charging it takes at least its energy at the best power any
 * usable site gives, plus one stop's overhead; the breaks and rests the
 * driving left makes due cost their length, and overlap with charging. */
static double bound(const ec_trip_planner *p, const label *l)
{
    if (l->point == 1) return 0;
    if (!isfinite(p->lb_e[l->point])) return INFINITY;
    const ec_trip_request_t *r = p->r;
    const leg *to_d = &p->legs[(size_t)l->point * route__n_points(p) + 1];
    double drive = to_d->dur_s;
    rules_t ru = route__rules_of(r->rules);
    double nb = resets_needed(l->since, drive, ru.break_after_s);
    double nr = fmax(resets_needed(l->day, drive, ru.day_limit_s), resets_needed(l->duty, drive, ru.window_s));
    /* Every break is whole or both parts of a split one, but the first may
     * only lack its second part. */
    double pauses = nr * ru.rest_s + fmax(0, nb - nr) * ru.break_s - (nb > nr && l->part ? ru.split_first_s : 0);
    double need_wh = p->lb_e[l->point] + fmax(r->soc_min, r->soc_min_arrival) * r->vehicle->battery_wh -
                     l->soc * r->vehicle->battery_wh;
    double charge = 0, money = 0;
    if (need_wh > EPS) {
        if (p->pmax_batt_w <= 0) return INFINITY;
        charge = need_wh * 3600.0 / p->pmax_batt_w + r->stop_overhead_s;
        money = need_wh / r->vehicle->charge_eff / 1000.0 * p->min_price_kwh;
    }
    double secs = drive + fmax(pauses, charge);
    return r->objective == EC_OBJ_COST ? money + secs * 1e-6 : secs;
}

/* Adds a label unless another at its point beats it, or it cannot beat the
 * best arrival found so far; kills those it beats. */
static ec_err add_label(ec_trip_planner *p, const label *l)
{
    double h = bound(p, l);
    if (!isfinite(h)) return EC_OK;
    double key = (p->r->objective == EC_OBJ_COST ? l->cost + l->t * 1e-6 : l->t) + h;
    if (key >= p->best_dest_key + TIE) return EC_OK;
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
    if (l->point == 1 && key < p->best_dest_key) p->best_dest_key = key;
    int idx = (int)p->n_labels++;
    p->labels[idx] = *l;
    p->labels[idx].key = key;
    p->next[idx] = p->at_head[l->point];
    p->at_head[l->point] = idx;
    return heap_push(p, idx);
}

typedef struct {
    double soc, charge_s, stop_s, wait_s, grid_wh, cost;
    int brk, rest, reserved;
    int split; /* 1: the first part of a split break, 2: its second part */
} departure;

/* The wait for a connector on arriving at Unix time `at`: the expected wait
 * (or what is left of it then, when the site says when it ends), or none inside the reservable window, or until the window opens when that
 * is sooner. So arriving later never means leaving earlier. INFINITY when no
 * connector can be had. */
static double site_wait(const site_choice *c, double at, int *reserved)
{
    double w = c->available > 0 ? c->wait_s : INFINITY;
    if (c->available > 0 && c->busy_until > 0) w = fmax(0, c->busy_until - at);
    *reserved = 0;
    if (c->res_to > c->res_from) {
        if (at >= c->res_from && at < c->res_to) w = 0, *reserved = 1;
        else if (at < c->res_from && c->res_from - at < w) w = c->res_from - at, *reserved = 1;
    }
    return w;
}

#define MAX_DEPARTURES 96

/* The departures a label at a site can make, after waiting for a connector.
 * The charge levels: every 10 % above its SoC, exactly what the destination
 * needs, the top of the window, and what charging through the break due, the
 * first part of a split break or the daily rest gives. The fast search
 * (all == 0) leaves out departures another one beats: a pause with less
 * charge than the pause gives (for the earliest arrival, charging costs no
 * time while the driver rests), a pause without charging (the one on the
 * road, taken later, is as good). The exhaustive reference (all == 1) tries
 * every level plain, with the break, with the first part of a split break
 * and with the rest, charging or not. */
static int departures(ec_trip_planner *p, const label *l, departure *out, int all)
{
    const ec_trip_request_t *r = p->r;
    const ec_vehicle_profile *v = r->vehicle;
    if (l->point < 2) {
        memset(out, 0, sizeof *out);
        out->soc = l->soc;
        return l->point == 0;
    }
    const site_choice *c = &p->choice[l->point];
    if (!c->usable) return 0;
    int reserved;
    double wait = site_wait(c, (double)r->depart_s + l->t, &reserved);
    if (!isfinite(wait)) return 0;
    const ec_charge_table_t *tab = &p->tabs[c->tab].t;
    const ec_connector_group_t *gr = &p->sites->groups[c->group];
    rules_t ru = route__rules_of(r->rules);
    int ruled = r->rules != EC_RULES_NONE, time_obj = r->objective == EC_OBJ_TIME;
    double top = v->soc_max, lv[20];
    int n_lv = 0;
    if (all) lv[n_lv++] = l->soc;
    for (int k = 1; k <= 10; k++)
        if (k / 10.0 < top - EPS) lv[n_lv++] = k / 10.0;
    lv[n_lv++] = top;
    const leg *d = &p->legs[(size_t)l->point * route__n_points(p) + 1];
    if (d->state == 1)
        lv[n_lv++] = ceil((d->energy_wh / v->battery_wh + fmax(r->soc_min, r->soc_min_arrival)) * 1000.0) / 1000.0;
    double brk_need = break_due_s(&ru, l), rest_soc = -1;
    int can_split = ruled && ru.split_first_s > 0 && !l->part;
    if (ruled) {
        lv[n_lv++] = ec_charge_table_soc_after(tab, l->soc, fmax(0, brk_need - r->stop_overhead_s));
        rest_soc = lv[n_lv++] = ec_charge_table_soc_after(tab, l->soc, fmax(0, ru.rest_s - r->stop_overhead_s));
    }
    if (can_split) lv[n_lv++] = ec_charge_table_soc_after(tab, l->soc, fmax(0, ru.split_first_s - r->stop_overhead_s));
    /* Ascending, within the window, once each. */
    for (int i = 1; i < n_lv; i++)
        for (int k = i; k > 0 && lv[k] < lv[k - 1]; k--) {
            double t = lv[k];
            lv[k] = lv[k - 1];
            lv[k - 1] = t;
        }
    int n = 0;
    double prev = -1;
    for (int i = 0; i < n_lv; i++) {
        double soc = fmin(lv[i], top);
        if (soc < l->soc - EPS || soc <= prev + 1e-7) continue;
        if (soc < l->soc) soc = l->soc;
        prev = soc;
        departure dp = {soc, 0, 0, wait, 0, 0, 0, 0, reserved, 0};
        if (soc > l->soc) {
            dp.charge_s = ec_charge_table_time_s(tab, l->soc, soc);
            if (!isfinite(dp.charge_s)) break; /* the vehicle takes no more here */
            dp.grid_wh = (soc - l->soc) * tab->grid_wh_per_soc;
            dp.stop_s = dp.charge_s + r->stop_overhead_s;
            dp.cost = dp.grid_wh / 1000.0 * (double)gr->price_per_kwh + dp.charge_s / 60.0 * (double)gr->price_per_min;
        }
        /* A charge at least as long as the break due (the rest, the first
         * part of a split break) counts as one; waiting for a connector does not. */
        int charged = soc > l->soc;
        dp.brk = ruled && charged && dp.stop_s >= brk_need - 1e-6;
        dp.rest = ruled && charged && dp.stop_s >= ru.rest_s - 1e-6;
        if (dp.rest) dp.split = 0;
        else if (dp.brk) dp.split = l->part ? 2 : 0;
        else if (can_split && charged && dp.stop_s >= ru.split_first_s - 1e-6) dp.split = 1;
        dp.stop_s += wait;
        /* The daily rest must begin within the duty window: a stop that would
         * run past it can only be the rest. */
        double room = ru.window_s - l->duty + 1e-6;
        if (charged && (dp.rest || dp.stop_s <= room) && n < MAX_DEPARTURES) out[n++] = dp;
        if (!ruled) continue;
        int last = soc >= top - EPS; /* the level the break or rest would charge to, when clamped */
        if (!dp.brk && wait + brk_need <= room && (all || (charged && (!time_obj || last) && l->since > 0)) &&
            n < MAX_DEPARTURES) {
            departure b = dp;
            b.brk = 1;
            b.split = l->part ? 2 : 0;
            b.stop_s = wait + brk_need;
            out[n++] = b;
        }
        if (can_split && !dp.brk && !dp.split && wait + ru.split_first_s <= room &&
            (all || (charged && (!time_obj || last))) && n < MAX_DEPARTURES) {
            departure b = dp;
            b.split = 1;
            b.stop_s = wait + ru.split_first_s;
            out[n++] = b;
        }
        if (!dp.rest && wait <= room && (all || (charged && (!time_obj || last || soc >= rest_soc - 1e-7) && l->day > 0)) &&
            n < MAX_DEPARTURES) {
            departure b = dp;
            b.brk = b.rest = 1;
            b.split = 0;
            b.stop_s = wait + ru.rest_s;
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
    const leg *lg = route__get_leg(p, l->point, j);
    if (lg->state != 1) return 0;
    /* Never below the minimum on the way, nor at the end below the arrival
     * minimum; braking downhill cannot fill the battery beyond full. */
    double cap = r->vehicle->battery_wh;
    if (d->soc - lg->peak_wh / cap < r->soc_min - EPS) return 0;
    double soc = fmin(1.0, d->soc - lg->energy_wh / cap);
    if (soc < (j == 1 ? fmax(r->soc_min, r->soc_min_arrival) : r->soc_min) - EPS) return 0;
    rules_t ru = route__rules_of(r->rules);
    label n = *l;
    n.point = j;
    n.parent = li;
    n.dead = 0;
    n.dep_soc = d->soc;
    n.charge_s = d->charge_s;
    n.stop_s = d->stop_s;
    n.wait_s = d->wait_s;
    n.reserved = d->reserved;
    n.waited_s += d->wait_s;
    n.grid_wh = d->grid_wh;
    n.stop_cost = d->cost;
    n.brk = d->brk;
    n.rest = d->rest;
    n.plug = l->point >= 2 ? p->choice[l->point].plug : -1;
    n.group = l->point >= 2 ? p->choice[l->point].group : -1;
    /* What the stop held beyond charging and its overhead was the pause. */
    double pause = fmax(0, d->stop_s - d->wait_s - d->charge_s - (d->charge_s > 0 ? r->stop_overhead_s : 0));
    n.split = d->split;
    route__take_stop(&n, d->stop_s, d->rest, d->brk, d->split, pause);
    double extra = 0;
    if (r->rules != EC_RULES_NONE) extra = route__drive_with_rules(&ru, lg->dur_s, &n, NULL);
    n.t = l->t + d->stop_s + lg->dur_s + extra;
    n.soc = soc;
    n.cost = l->cost + d->cost;
    n.drive_s += lg->dur_s;
    n.dist_m += lg->dist_m;
    n.energy_wh += lg->energy_wh;
    *out = n;
    return 1;
}

/* The label of the truck at the origin before it leaves. */
label route__start_label(const ec_trip_request_t *r)
{
    label start;
    memset(&start, 0, sizeof start);
    start.soc = r->soc_start;
    start.since = r->rules == EC_RULES_NONE ? 0 : r->driven_since_break_s;
    start.day = r->rules == EC_RULES_NONE ? 0 : r->driven_today_s;
    start.duty = r->rules == EC_RULES_NONE ? 0 : r->on_duty_s;
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
    if (!(r->driven_today_s >= 0 && r->driven_today_s <= 24 * 3600) || !(r->on_duty_s >= 0 && r->on_duty_s <= 24 * 3600))
        return ec_fail(EC_ERANGE, "driving today and time on duty must be 0..24 h");
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
    if ((rc = choose_connectors(p, r))) return rc;
    if ((rc = od_legs(p))) return rc;
    energy_bounds(p);
    p->best_dest_key = INFINITY;
    p->n_labels = 0;
    p->heap_n = 0;
    for (size_t i = 0; i < route__n_points(p); i++) p->at_head[i] = -1;
    return EC_OK;
}

ec_err ec_trip_plan(ec_trip_planner *p, const ec_trip_request_t *r, ec_latlon_t from, ec_latlon_t to,
                    ec_trip_plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    ec_err rc = prepare(p, r, from, to);
    if (rc) return rc;
    label start = route__start_label(r);
    if ((rc = add_label(p, &start))) return rc;
    size_t np = route__n_points(p);
    double cap = r->vehicle->battery_wh;
    int time_obj = r->objective == EC_OBJ_TIME;
    departure deps[MAX_DEPARTURES];
    int found = -1;
    while (p->heap_n) {
        int li = heap_pop(p);
        if (p->labels[li].dead) continue;
        /* The first arrival settled is the best; of the arrivals found as
         * good (within TIE), the cheapest. */
        if (p->labels[li].point == 1) {
            found = li;
            for (int k = p->at_head[1]; k >= 0; k = p->next[k]) {
                const label *o = &p->labels[k];
                if (!o->dead && o->key <= p->labels[li].key + TIE && o->cost < p->labels[found].cost) found = k;
            }
            break;
        }
        label cur = p->labels[li];
        if (p->near_n[cur.point] < 0 && (rc = build_near(p, cur.point))) return rc;
        const int *near = &p->near[(size_t)cur.point * np];
        int nd = departures(p, &cur, deps, 0);
        for (int d = 0; d < nd; d++) {
            label next;
            if (apply_leg(p, li, &deps[d], 1, &next) && (rc = add_label(p, &next))) return rc;
            /* Only the sites this charge reaches, nearest in energy first. */
            double reach_wh = (deps[d].soc - r->soc_min) * cap + EPS;
            double leave = cur.t + deps[d].stop_s;
            const leg *row = &p->legs[(size_t)cur.point * np];
            for (int k = 0; k < p->near_n[cur.point]; k++) {
                int j = near[k];
                if (row[j].energy_wh > reach_wh) break;
                /* No better than the best arrival found even driving straight on: skip. */
                if (!p->choice[j].usable || (time_obj && leave + row[j].dur_s + p->legs[(size_t)j * np + 1].dur_s >= p->best_dest_key + TIE))
                    continue;
                if (apply_leg(p, li, &deps[d], j, &next) && (rc = add_label(p, &next))) return rc;
            }
        }
    }
    plan->labels = p->n_labels;
    if (found >= 0) return route__fill_plan(p, found, plan);
    plan->feasible = 0;
    plan->departure_s = r->depart_s;
    memcpy(plan->currency, p->sites->currency, 4);
    route__explain_infeasible(p, plan);
    return EC_OK;
}

/* ---- exhaustive reference ------------------------------------------------------------------ */

typedef struct {
    double best;
    int found;
    uint8_t *used;
    long budget;
} ref_ctx;

/* Tries every sequence of distinct usable sites, with every departure, from label li
 * (depth first, cutting branches already worse than the best plan found). */
static ec_err ref_dfs(ec_trip_planner *p, int li, ref_ctx *c)
{
    if (--c->budget < 0) return ec_fail(EC_ELIMIT, "reference search too large");
    const label cur = p->labels[li];
    /* Time and cost only grow along a plan: a branch already no better than
     * the best whole plan found cannot end better. */
    double key = p->r->objective == EC_OBJ_COST ? cur.cost + cur.t * 1e-6 : cur.t;
    if (key >= c->best) return EC_OK;
    if (cur.point == 1) {
        c->best = key;
        c->found = 1;
        return EC_OK;
    }
    departure deps[MAX_DEPARTURES];
    int nd = departures(p, &cur, deps, 1);
    for (int d = 0; d < nd; d++)
        for (size_t j = 1; j < route__n_points(p); j++) {
            if (j >= 2 && (c->used[j] || !p->choice[j].usable)) continue;
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
    ref_ctx c = {INFINITY, 0, ec_calloc(route__n_points(p), 1), r->max_labels ? (long)r->max_labels : 20000000};
    if (!c.used) return EC_ENOMEM;
    label start = route__start_label(r);
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
