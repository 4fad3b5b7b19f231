/* plan_model.c - the planning model: the corridor's flows on their fastest
 * paths, the energy the electric trucks on them lack, and for each arc that
 * lies beyond a truck's range the places that can cover it (the arc-cover
 * form of the flow-refuelling location model, docs/plan.md). */
#include "plan_internal.h"

#include "ecorridor/ec_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- growing arrays ------------------------------------------------------------------------- */

static ec_err push_node(struct ec_plan_model *m, uint32_t node, double pos)
{
    size_t cap = m->cap_nodes;
    ec_err rc = ec_grow((void **)&m->nodes, &cap, m->n_nodes + 1, sizeof *m->nodes);
    if (!rc) rc = ec_grow((void **)&m->pos_km, &m->cap_nodes, m->n_nodes + 1, sizeof *m->pos_km);
    if (rc) return rc;
    m->nodes[m->n_nodes] = node, m->pos_km[m->n_nodes++] = pos;
    return EC_OK;
}

static ec_err push_on(struct ec_plan_model *m, uint32_t place, double pos)
{
    size_t cap = m->cap_on;
    ec_err rc = ec_grow((void **)&m->on_place, &cap, m->n_on + 1, sizeof *m->on_place);
    if (!rc) rc = ec_grow((void **)&m->on_pos_km, &m->cap_on, m->n_on + 1, sizeof *m->on_pos_km);
    if (rc) return rc;
    m->on_place[m->n_on] = place, m->on_pos_km[m->n_on++] = pos;
    return EC_OK;
}

static ec_err push_cover(struct ec_plan_model *m, uint32_t lo, uint32_t hi)
{
    size_t cap = m->cap_cover;
    ec_err rc = ec_grow((void **)&m->cover_lo, &cap, m->n_cover + 1, sizeof *m->cover_lo);
    if (!rc) rc = ec_grow((void **)&m->cover_hi, &m->cap_cover, m->n_cover + 1, sizeof *m->cover_hi);
    if (rc) return rc;
    m->cover_lo[m->n_cover] = lo, m->cover_hi[m->n_cover++] = hi;
    return EC_OK;
}

void plan__alloc_range(const struct ec_plan_model *m, const plan_path *p, uint32_t *lo, uint32_t *hi)
{
    *lo = *hi = 0;
    if (!p->n_cover) return;
    *lo = m->cover_lo[p->cover_off];
    *hi = m->cover_hi[p->cover_off + p->n_cover - 1];
}

double plan__point_kwh_per_day(const struct ec_plan_model *m, size_t k)
{
    return m->kwh_per_point ? m->kwh_per_point[k] : 0.0;
}

/* The effective kW of a point of this plug and kW for the model's trucks: a session charges from
 * soc_min to soc_charge_to and holds the point for its charge time plus the stop overhead; over the
 * sessions (one per truck of the paths, each vehicle weighted by its flow), the energy they take
 * over the time they hold it. Vehicles without an inlet for the plug do not charge there; with
 * none that can (or no paths), the point's own kW. */
static double effective_kw(const struct ec_plan_model *m, const double *flow_of, ec_plug plug, double kw)
{
    const ec_plan_model_config_t *c = &m->c;
    double overhead = c->stop_overhead_s > 0 ? c->stop_overhead_s : 300.0;
    double wh = 0, s = 0;
    for (int v = 0; v < c->mix->n; v++) {
        const ec_vehicle_profile *vp = &c->mix->e[v].profile;
        double secs, grid_wh;
        if (!(flow_of[v] > 0) || ec_charge_time_s(vp, plug, kw * 1000.0, c->soc_min, c->soc_charge_to, &secs, &grid_wh))
            continue;
        wh += flow_of[v] * grid_wh, s += flow_of[v] * (secs + overhead);
    }
    ec_errclear();
    return s > 0 ? wh / s * 3.6 : kw;
}

/* Each place's kWh per point a day, once the paths are known. */
static ec_err point_capacities(struct ec_plan_model *m)
{
    const ec_plan_model_config_t *c = &m->c;
    const double *flow_of = m->flow_of;
    m->kwh_per_point = ec_calloc(c->n_places + 1, sizeof *m->kwh_per_point);
    if (!m->kwh_per_point) return EC_ENOMEM;
    /* places mostly share a few plugs and powers: remember the last one */
    ec_plug last_plug = EC_PLUG_COUNT;
    double last_kw = -1, last = 0;
    for (size_t k = 0; k < c->n_places; k++) {
        const ec_plan_place_t *p = &c->places[k];
        if (!(p->kw > 0)) continue;
        if (p->plug != last_plug || p->kw != last_kw)
            last = effective_kw(m, flow_of, p->plug, p->kw), last_plug = p->plug, last_kw = p->kw;
        m->kwh_per_point[k] = last * 24.0 * c->costs->point_max_utilisation;
    }
    return EC_OK;
}

/* ---- one path ---------------------------------------------------------------------------------- */

/* The places on the path (nodes [first, first+n) of m->nodes), in order of position. */
static ec_err places_on(struct ec_plan_model *m, const uint32_t *place_first, const uint32_t *place_at,
                        uint32_t first, uint32_t n)
{
    for (uint32_t s = 0; s < n; s++) {
        uint32_t v = m->nodes[first + s];
        for (uint32_t i = place_first[v]; i < place_first[v + 1]; i++) {
            ec_err rc = push_on(m, place_at[i], m->pos_km[first + s]);
            if (rc) return rc;
        }
    }
    return EC_OK;
}

/* The cover sets of path p: for each arc i -> j with p_j > R_start, the
 * places k at p_k <= p_i with p_j - p_k <= R_full, as a range of its
 * on-list. Only the minimal ones are kept (a set holding another is implied
 * by it); their ends both rise along the path, so the sets that hold a later
 * one share its upper end and those that hold an earlier one its lower end. */
static ec_err cover_sets(struct ec_plan_model *m, plan_path *p)
{
    const double *pos = m->pos_km + p->node_off;
    const double *on = m->on_pos_km + p->on_off;
    uint32_t n_on = p->n_on;
    p->cover_off = (uint32_t)m->n_cover, p->n_cover = 0, p->servable = 1;
    uint32_t lo = 0, hi = 0;
    for (uint32_t t = 0; t + 1 < p->n_nodes; t++) {
        double pi = pos[t], pj = pos[t + 1];
        if (!(pj > p->r_start_km)) continue;
        while (hi < n_on && on[hi] <= pi) hi++;
        while (lo < hi && pj - on[lo] > p->r_full_km) lo++;
        if (lo >= hi) p->servable = 0;
        /* drop the previous set when it holds this one (same upper end) */
        if (p->n_cover && m->cover_hi[m->n_cover - 1] == hi) m->n_cover--, p->n_cover--;
        /* keep this one only when it does not hold the previous (same lower end) */
        if (p->n_cover && m->cover_lo[m->n_cover - 1] == lo) continue;
        ec_err rc = push_cover(m, lo, hi);
        if (rc) return rc;
        p->n_cover++;
    }
    return EC_OK;
}

/* Pushes the graph nodes of a route from node `from` along its arcs, with cumulative km. */
static ec_err path_nodes(struct ec_plan_model *m, uint32_t from, const ec_path_t *r)
{
    const ec_graph *g = m->c.g;
    double km = 0;
    ec_err rc = push_node(m, from, 0);
    for (uint32_t k = 0; !rc && k < r->n_arcs; k++) {
        const ec_arc_t *a = &g->arcs[r->arcs[k]];
        km += a->length_cm / 1e5;
        rc = push_node(m, a->to, km);
    }
    return rc;
}

/* Key of a path for merging: its nodes and its ranges. */
static uint64_t path_key(const struct ec_plan_model *m, const plan_path *p)
{
    uint64_t h = ec_hash_bytes(m->nodes + p->node_off, p->n_nodes * sizeof *m->nodes);
    double r[2] = {p->r_start_km, p->r_full_km};
    return h ^ (ec_hash_bytes(r, sizeof r) * 0x9e3779b97f4a7c15ULL);
}

static int same_path(const struct ec_plan_model *m, const plan_path *a, const plan_path *b)
{
    return a->n_nodes == b->n_nodes && a->r_start_km == b->r_start_km && a->r_full_km == b->r_full_km &&
           !memcmp(m->nodes + a->node_off, m->nodes + b->node_off, a->n_nodes * sizeof *m->nodes);
}

/* ---- the build ------------------------------------------------------------------------------- */

static ec_err check_config(const ec_plan_model_config_t *c)
{
    if (!c->g || !c->traffic || !c->mix || !c->costs || (!c->places && c->n_places))
        return ec_fail(EC_EINVAL, "plan model: the graph, traffic, vehicle mix and costs are needed");
    if (!c->g->has_ch) return ec_fail(EC_EINVAL, "plan model: the corridor's graph must be contracted");
    if (c->mix->n < 1) return ec_fail(EC_EINVAL, "plan model: the vehicle mix is empty");
    if (!(c->bev_share >= 0 && c->bev_share <= 1)) return ec_fail(EC_ERANGE, "plan model: bev_share must be in 0..1");
    if (!(c->day_factor > 0)) return ec_fail(EC_ERANGE, "plan model: day_factor must be > 0");
    if (!(c->soc_min >= 0 && c->soc_min < c->soc_start && c->soc_start <= 1 && c->soc_charge_to > c->soc_min &&
          c->soc_charge_to <= 1))
        return ec_fail(EC_ERANGE, "plan model: need 0 <= soc_min < soc_start <= 1 and soc_min < soc_charge_to <= 1");
    if (!(c->stop_overhead_s >= 0 && c->stop_overhead_s <= 3600))
        return ec_fail(EC_ERANGE, "plan model: stop_overhead_s must be in 0..3600");
    if (!(c->costs->point_max_utilisation > 0 && c->costs->point_max_utilisation <= 1))
        return ec_fail(EC_ERANGE, "plan model: point_max_utilisation must be in (0, 1]");
    if (c->n_places > EC_PLAN_MAX_CANDIDATES + 100000)
        return ec_fail(EC_ELIMIT, "plan model: %zu places, more than we accept", c->n_places);
    for (size_t k = 0; k < c->n_places; k++) {
        const ec_plan_place_t *p = &c->places[k];
        double least_head = p->existing ? -p->points0 * p->kw : 0;
        if (p->max_points < 0 || p->points0 < 0 || p->points0 > p->max_points || !(p->kw >= 0) ||
            !(p->point_capex >= 0) || !(p->headroom_kw >= least_head) || !(p->grid_max_kw >= 0) || !(p->bonus >= 0))
            return ec_fail(EC_ERANGE,
                           "place %s: need 0 <= points0 <= max_points, headroom_kw >= 0 (a site of today: >= -its "
                           "points' kW), and kw, point_capex, grid_max_kw, bonus >= 0",
                           p->site_id);
        if (p->substation < 0 || (size_t)p->substation > c->n_subs)
            return ec_fail(EC_ERANGE, "place %s: substation %d is not one of the %zu given", p->site_id, p->substation, c->n_subs);
    }
    for (size_t i = 0; i < c->n_subs; i++)
        if (isnan(c->subs[i].headroom_kw))
            return ec_fail(EC_ERANGE, "substation %s: headroom_kw is not a number", c->subs[i].id);
    return EC_OK;
}

/* Places by graph node (CSR): place_first[v] .. place_first[v+1] index place_at. */
static ec_err index_places(const ec_plan_model_config_t *c, const ec_map *nodes, uint32_t **first_out,
                           uint32_t **at_out)
{
    uint32_t nn = c->g->n_nodes;
    uint32_t *first = ec_calloc((size_t)nn + 2, sizeof *first);
    uint32_t *at = ec_malloc((c->n_places + 1) * sizeof *at);
    uint32_t *node_of = ec_malloc((c->n_places + 1) * sizeof *node_of);
    ec_err rc = first && at && node_of ? EC_OK : EC_ENOMEM;
    for (size_t k = 0; !rc && k < c->n_places; k++) {
        uint64_t v;
        if (!ec_map_get(nodes, (uint64_t)c->places[k].node, &v))
            rc = ec_fail(EC_ENOTFOUND, "place %s: node %lld is not a node of the corridor's graph",
                         c->places[k].site_id, (long long)c->places[k].node);
        else
            node_of[k] = (uint32_t)v, first[v + 1]++;
    }
    for (uint32_t v = 0; !rc && v < nn; v++) first[v + 1] += first[v];
    if (!rc) {
        uint32_t *fill = ec_malloc(((size_t)nn + 1) * sizeof *fill);
        if (!fill) rc = EC_ENOMEM;
        else {
            memcpy(fill, first, ((size_t)nn + 1) * sizeof *fill);
            for (size_t k = 0; k < c->n_places; k++) at[fill[node_of[k]]++] = (uint32_t)k;
            ec_free(fill);
        }
    }
    ec_free(node_of);
    if (rc) {
        ec_free(first), ec_free(at);
        return rc;
    }
    *first_out = first, *at_out = at;
    return EC_OK;
}

/* Adds the path of one (pair, vehicle) whose nodes were just pushed at node_off, merging it into an
 * identical one. Leaves the model's arrays as they were when it merges. */
static ec_err add_path(struct ec_plan_model *m, ec_map *seen, plan_path *p, const uint32_t *place_first,
                       const uint32_t *place_at)
{
    uint64_t key = path_key(m, p), idx;
    if (ec_map_get(seen, key, &idx) && same_path(m, &m->paths[idx], p)) {
        plan_path *q = &m->paths[idx];
        q->flow += p->flow, q->energy_kwh += p->energy_kwh;
        q->e_kwh = q->flow > 0 ? q->energy_kwh / q->flow : q->e_kwh;
        m->n_nodes = p->node_off;
        return EC_OK;
    }
    p->on_off = (uint32_t)m->n_on;
    ec_err rc = places_on(m, place_first, place_at, p->node_off, p->n_nodes);
    if (rc) return rc;
    p->n_on = (uint32_t)(m->n_on - p->on_off);
    if ((rc = cover_sets(m, p))) return rc;
    if ((rc = ec_grow((void **)&m->paths, &m->cap_paths, m->n_paths + 1, sizeof *m->paths))) return rc;
    m->paths[m->n_paths] = *p;
    rc = ec_map_put(seen, key, m->n_paths);
    m->n_paths++;
    return rc;
}

/* The (pair, vehicle) paths of one pair that need a charge. */
static ec_err pair_paths(struct ec_plan_model *m, const ec_od_t *od, uint32_t a, uint32_t b, ec_query *q,
                         ec_map *seen, const uint32_t *place_first, const uint32_t *place_at)
{
    const ec_plan_model_config_t *c = &m->c;
    double day = od->per_year / 365.0 * c->day_factor * c->bev_share;
    if (!(day > 0) || a == b) return EC_OK;
    ec_path_t r;
    if (ec_query_route_nodes(q, a, b, &r) || r.weight == EC_INF_WEIGHT) return EC_OK; /* no road: no flow */
    double len_m = 0, dur_s = 0, len_v2 = 0;
    for (uint32_t k = 0; k < r.n_arcs; k++) {
        const ec_arc_t *arc = &c->g->arcs[r.arcs[k]];
        double len = arc->length_cm / 100.0, dur = arc->duration_ms / 1000.0;
        double v = dur > 0 ? len / dur : 22.0;
        len_m += len, dur_s += dur, len_v2 += len * v * v;
    }
    if (!(len_m > 0)) return EC_OK;
    int jur = 0;
    if (c->areas) jur = ec_plan_areas_of(c->areas, od->origin, ec_graph_point(c->g, a));
    /* One path for the pair's trucks that need a charge, planned for the planning vehicle: covered
     * by the shortest ranges among them, with all their energy and flow. */
    plan_path p;
    memset(&p, 0, sizeof p);
    p.origin = od->origin, p.destination = od->destination, p.vehicle = -1, p.jurisdiction = jur;
    p.km = len_m / 1000.0;
    double rs = INFINITY, rf = INFINITY;
    for (int v = 0; v < c->mix->n; v++) {
        const ec_vehicle_profile *vp = &c->mix->e[v].profile;
        double f = day * c->mix->e[v].share;
        if (!(f > 0) || !(vp->battery_wh > 0)) continue;
        ec_conditions_t cond = ec_conditions_default(vp);
        cond.temp_c = c->temp_c;
        double wh = ec_energy_route_wh(vp, &cond, len_m, dur_s, len_v2);
        double start_wh = (c->soc_start - c->soc_min) * vp->battery_wh;
        if (!(wh > start_wh)) continue;
        double wh_per_km = wh / (len_m / 1000.0);
        double r_start = start_wh / wh_per_km, r_full = (c->soc_charge_to - c->soc_min) * vp->battery_wh / wh_per_km;
        p.flow += f;
        p.energy_kwh += f * (wh - start_wh) / 1000.0 / (vp->charge_eff > 0 ? vp->charge_eff : 1.0);
        if (p.vehicle < 0 || r_full < rf) p.vehicle = v, rf = r_full;
        if (r_start < rs) rs = r_start;
        m->flow_of[v] += f;
    }
    if (p.vehicle < 0) return EC_OK;
    p.r_start_km = rs, p.r_full_km = rf;
    p.e_kwh = p.energy_kwh / p.flow;
    p.node_off = (uint32_t)m->n_nodes;
    ec_err rc = path_nodes(m, a, &r);
    if (rc) return rc;
    p.n_nodes = (uint32_t)(m->n_nodes - p.node_off);
    return add_path(m, seen, &p, place_first, place_at);
}

static void finish_stats(struct ec_plan_model *m)
{
    const ec_plan_model_config_t *c = &m->c;
    ec_plan_model_stats_t *s = &m->stats;
    memset(s, 0, sizeof *s);
    double least = INFINITY;
    for (size_t i = 0; i < m->n_paths; i++) {
        const plan_path *p = &m->paths[i];
        s->paths++;
        s->trucks_per_day += p->flow;
        s->truck_km_per_day += p->flow * p->km;
        s->kwh_per_day += p->energy_kwh;
        if (!p->servable) s->unservable++;
        else {
            s->servable_truck_km += p->flow * p->km;
            if (p->flow * p->km > 0 && p->flow * p->km < least) least = p->flow * p->km;
        }
    }
    double cmax = 0;
    for (size_t k = 0; k < c->n_places; k++) {
        const ec_plan_place_t *p = &c->places[k];
        if (p->bonus > 0 && p->bonus < least) least = p->bonus;
        cmax += (p->existing ? 0 : c->costs->site_fixed_capex) + (p->max_points - p->points0) * p->point_capex;
        if (isfinite(p->headroom_kw)) cmax += c->costs->grid_capex_per_kw * p->grid_max_kw;
    }
    /* The whole network's capex weighs less than half the least a path (or a
     * place's bonus) is worth, so no served km is traded for money. */
    m->capex_max = cmax;
    m->eps = isfinite(least) && cmax > 0 ? 0.5 * least / cmax : 0.0;
}

ec_err ec_plan_model_build(const ec_plan_model_config_t *c, ec_plan_model **out)
{
    ec_err rc = check_config(c);
    if (rc) return rc;
    struct ec_plan_model *m = ec_calloc(1, sizeof *m);
    if (!m) return EC_ENOMEM;
    m->c = *c;
    if (!(m->flow_of = ec_calloc((size_t)c->mix->n + 1, sizeof *m->flow_of))) {
        ec_free(m);
        return EC_ENOMEM;
    }
    ec_map nodes, seen;
    memset(&nodes, 0, sizeof nodes), memset(&seen, 0, sizeof seen);
    uint32_t *place_first = NULL, *place_at = NULL;
    ec_query *q = NULL;
    if ((rc = ec_map_init(&nodes, c->g->n_nodes)) || (rc = ec_map_init(&seen, 1024))) goto done;
    for (uint32_t i = 0; !rc && i < c->g->n_nodes; i++) rc = ec_map_put(&nodes, (uint64_t)c->g->ext_id[i], i);
    if (rc || (rc = index_places(c, &nodes, &place_first, &place_at))) goto done;
    if ((rc = ec_query_new(c->g, EC_ALGO_CH, &q))) goto done;
    ec_progress bar;
    if (c->progress) ec_progress_start(&bar, "plan: paths", c->traffic->n);
    for (size_t i = 0; i < c->traffic->n && !rc; i++) {
        const ec_od_t *od = &c->traffic->od[i];
        uint64_t a, b;
        if (!ec_map_get(&nodes, (uint64_t)od->origin, &a) || !ec_map_get(&nodes, (uint64_t)od->destination, &b)) {
            rc = ec_fail(EC_ENOTFOUND, "traffic.csv line %ld: node %lld is not a node of the corridor's graph",
                         od->line, (long long)(ec_map_get(&nodes, (uint64_t)od->origin, &a) ? od->destination : od->origin));
            break;
        }
        rc = pair_paths(m, od, (uint32_t)a, (uint32_t)b, q, &seen, place_first, place_at);
        if (c->progress && (i & 255) == 0) ec_progress_update(&bar, i);
    }
    if (c->progress) {
        ec_progress_update(&bar, c->traffic->n);
        ec_progress_finish(&bar);
    }
    if (!rc) finish_stats(m);
    if (!rc) rc = point_capacities(m);
done:
    ec_query_free(q);
    ec_map_free(&nodes), ec_map_free(&seen);
    ec_free(place_first), ec_free(place_at);
    if (rc) {
        ec_plan_model_free(m);
        return rc;
    }
    *out = m;
    return EC_OK;
}

void ec_plan_model_free(ec_plan_model *m)
{
    if (!m) return;
    ec_free(m->paths), ec_free(m->nodes), ec_free(m->pos_km), ec_free(m->on_place), ec_free(m->on_pos_km);
    ec_free(m->cover_lo), ec_free(m->cover_hi), ec_free(m->kwh_per_point), ec_free(m->flow_of);
    ec_free(m);
}

void ec_plan_model_stats(const ec_plan_model *m, ec_plan_model_stats_t *out)
{
    *out = m->stats;
}

/* ---- the model as JSON ------------------------------------------------------------------------ */

static void json_place(const struct ec_plan_model *m, size_t k, ec_jw *w)
{
    const ec_plan_place_t *p = &m->c.places[k];
    const ec_plan_costs_t *c = m->c.costs;
    ec_jw_obj_begin(w);
    ec_jw_key(w, "index"), ec_jw_int(w, (int64_t)k);
    ec_jw_key(w, "site_id"), ec_jw_str(w, p->site_id);
    ec_jw_key(w, "node"), ec_jw_int(w, p->node);
    ec_jw_key(w, "existing"), ec_jw_bool(w, p->existing);
    ec_jw_key(w, "points0"), ec_jw_int(w, p->points0);
    ec_jw_key(w, "max_points"), ec_jw_int(w, p->max_points);
    ec_jw_key(w, "kw"), ec_jw_real(w, p->kw);
    ec_jw_key(w, "kwh_per_point_day"), ec_jw_real(w, plan__point_kwh_per_day(m, k));
    ec_jw_key(w, "point_capex"), ec_jw_real(w, p->point_capex);
    ec_jw_key(w, "site_fixed_capex"), ec_jw_real(w, p->existing ? 0.0 : c->site_fixed_capex);
    ec_jw_key(w, "headroom_kw");
    if (isfinite(p->headroom_kw)) ec_jw_real(w, p->headroom_kw);
    else ec_jw_null(w);
    ec_jw_key(w, "grid_max_kw"), ec_jw_real(w, p->grid_max_kw);
    ec_jw_key(w, "bonus"), ec_jw_real(w, p->bonus);
    ec_jw_key(w, "jurisdiction"), ec_jw_int(w, p->jurisdiction);
    ec_jw_key(w, "substation");
    if (p->substation > 0) ec_jw_str(w, m->c.subs[p->substation - 1].id);
    else ec_jw_null(w);
    ec_jw_obj_end(w);
}

static void json_path(const struct ec_plan_model *m, const plan_path *p, ec_jw *w)
{
    const ec_graph *g = m->c.g;
    ec_jw_obj_begin(w);
    ec_jw_key(w, "origin"), ec_jw_int(w, p->origin);
    ec_jw_key(w, "destination"), ec_jw_int(w, p->destination);
    ec_jw_key(w, "vehicle"), ec_jw_str(w, m->c.mix->e[p->vehicle].profile.name);
    ec_jw_key(w, "jurisdiction"), ec_jw_int(w, p->jurisdiction);
    ec_jw_key(w, "flow"), ec_jw_real(w, p->flow);
    ec_jw_key(w, "km"), ec_jw_real(w, p->km);
    ec_jw_key(w, "e_kwh"), ec_jw_real(w, p->e_kwh);
    ec_jw_key(w, "energy_kwh"), ec_jw_real(w, p->energy_kwh);
    ec_jw_key(w, "r_start_km"), ec_jw_real(w, p->r_start_km);
    ec_jw_key(w, "r_full_km"), ec_jw_real(w, p->r_full_km);
    ec_jw_key(w, "servable"), ec_jw_bool(w, p->servable);
    ec_jw_key(w, "nodes"), ec_jw_arr_begin(w);
    for (uint32_t s = 0; s < p->n_nodes; s++) ec_jw_int(w, g->ext_id[m->nodes[p->node_off + s]]);
    ec_jw_arr_end(w);
    ec_jw_key(w, "pos_km"), ec_jw_arr_begin(w);
    for (uint32_t s = 0; s < p->n_nodes; s++) ec_jw_real(w, m->pos_km[p->node_off + s]);
    ec_jw_arr_end(w);
    ec_jw_key(w, "places"), ec_jw_arr_begin(w);
    for (uint32_t s = 0; s < p->n_on; s++) {
        ec_jw_arr_begin(w);
        ec_jw_int(w, m->on_place[p->on_off + s]), ec_jw_real(w, m->on_pos_km[p->on_off + s]);
        ec_jw_arr_end(w);
    }
    ec_jw_arr_end(w);
    ec_jw_key(w, "cover"), ec_jw_arr_begin(w);
    for (uint32_t s = 0; s < p->n_cover; s++) {
        ec_jw_arr_begin(w);
        for (uint32_t i = m->cover_lo[p->cover_off + s]; i < m->cover_hi[p->cover_off + s]; i++)
            ec_jw_int(w, m->on_place[p->on_off + i]);
        ec_jw_arr_end(w);
    }
    ec_jw_arr_end(w);
    uint32_t lo, hi;
    plan__alloc_range(m, p, &lo, &hi);
    ec_jw_key(w, "alloc"), ec_jw_arr_begin(w);
    for (uint32_t i = lo; i < hi; i++) ec_jw_int(w, m->on_place[p->on_off + i]);
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
}

ec_err ec_plan_model_json(const ec_plan_model *m, ec_buf *out)
{
    const ec_plan_costs_t *c = m->c.costs;
    ec_jw w;
    ec_jw_init(&w, out);
    ec_jw_obj_begin(&w);
    ec_jw_key(&w, "eps"), ec_jw_real(&w, m->eps);
    ec_jw_key(&w, "capex_max"), ec_jw_real(&w, m->capex_max);
    ec_jw_key(&w, "years"), ec_jw_int(&w, m->c.years);
    ec_jw_key(&w, "annuity_factor"), ec_jw_real(&w, ec_plan_annuity(1.0, c->discount_rate, m->c.years));
    ec_jw_key(&w, "costs"), ec_jw_obj_begin(&w);
    ec_jw_key(&w, "site_fixed_capex"), ec_jw_real(&w, c->site_fixed_capex);
    ec_jw_key(&w, "grid_capex_per_kw"), ec_jw_real(&w, c->grid_capex_per_kw);
    ec_jw_key(&w, "point_opex_per_year"), ec_jw_real(&w, c->point_opex_per_year);
    ec_jw_key(&w, "site_opex_per_year"), ec_jw_real(&w, c->site_opex_per_year);
    ec_jw_key(&w, "demand_charge_per_kw_month"), ec_jw_real(&w, c->demand_charge_per_kw_month);
    ec_jw_key(&w, "discount_rate"), ec_jw_real(&w, c->discount_rate);
    ec_jw_key(&w, "point_max_utilisation"), ec_jw_real(&w, c->point_max_utilisation);
    ec_jw_obj_end(&w);
    ec_jw_key(&w, "stats"), ec_jw_obj_begin(&w);
    ec_jw_key(&w, "paths"), ec_jw_int(&w, (int64_t)m->stats.paths);
    ec_jw_key(&w, "unservable"), ec_jw_int(&w, (int64_t)m->stats.unservable);
    ec_jw_key(&w, "trucks_per_day"), ec_jw_real(&w, m->stats.trucks_per_day);
    ec_jw_key(&w, "truck_km_per_day"), ec_jw_real(&w, m->stats.truck_km_per_day);
    ec_jw_key(&w, "servable_truck_km"), ec_jw_real(&w, m->stats.servable_truck_km);
    ec_jw_key(&w, "kwh_per_day"), ec_jw_real(&w, m->stats.kwh_per_day);
    ec_jw_obj_end(&w);
    ec_jw_key(&w, "places"), ec_jw_arr_begin(&w);
    for (size_t k = 0; k < m->c.n_places; k++) json_place(m, k, &w);
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "substations"), ec_jw_arr_begin(&w);
    for (size_t i = 0; i < m->c.n_subs; i++) {
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "id"), ec_jw_str(&w, m->c.subs[i].id);
        ec_jw_key(&w, "headroom_kw");
        if (isfinite(m->c.subs[i].headroom_kw)) ec_jw_real(&w, m->c.subs[i].headroom_kw);
        else ec_jw_null(&w);
        ec_jw_obj_end(&w);
    }
    ec_jw_arr_end(&w);
    ec_jw_key(&w, "paths"), ec_jw_arr_begin(&w);
    for (size_t i = 0; i < m->n_paths; i++) json_path(m, &m->paths[i], &w);
    ec_jw_arr_end(&w);
    ec_jw_obj_end(&w);
    return ec_jw_finish(&w);
}
