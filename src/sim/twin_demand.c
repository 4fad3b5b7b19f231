/* twin_demand.c - the day's trucks, drawn from the corridor's flows, and the
 * demand they put on each segment: every truck's fastest path, its energy
 * there for the electric ones. */
#include "twin_internal.h"

#include "ecorridor/ec_csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Percent of a day's departures in each local hour (docs/twin.md says where the shape comes from). */
const double ec_twin_departure_profile[24] = {
    0.015, 0.012, 0.012, 0.015, 0.026, 0.040, 0.055, 0.062, 0.066, 0.066, 0.065, 0.064,
    0.063, 0.063, 0.062, 0.060, 0.056, 0.049, 0.040, 0.030, 0.025, 0.021, 0.018, 0.015,
};

/* States of charge at the depot gate: 70 % to 95 % in steps of 5 %, equally likely. */
#define SOC_STEPS 6
#define SOC_LOW 0.70
#define SOC_STEP 0.05

/* splitmix64: small, fast, and the same sequence on every machine. */
typedef struct {
    uint64_t s;
} rng;

static uint64_t next64(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(rng *r)
{
    return (double)(next64(r) >> 11) * 0x1.0p-53;
}

/* floor(x), plus one with the probability of its fraction: the expected count is x. */
static int64_t draw_count(rng *r, double x)
{
    double f = floor(x);
    return (int64_t)f + (uniform(r) < x - f);
}

ec_err twin__node_map(const ec_graph *g, ec_map *m)
{
    ec_err rc = ec_map_init(m, g->n_nodes);
    for (uint32_t i = 0; !rc && i < g->n_nodes; i++) rc = ec_map_put(m, (uint64_t)g->ext_id[i], i);
    return rc;
}

static ec_err node_of(const ec_map *m, int64_t id, const char *what, long line, uint32_t *out)
{
    uint64_t v;
    if (!ec_map_get(m, (uint64_t)id, &v))
        return ec_fail(EC_ENOTFOUND, "%s line %ld: node %lld is not a node of the corridor's graph", what, line,
                       (long long)id);
    *out = (uint32_t)v;
    return EC_OK;
}

static int by_departure(const void *x, const void *y)
{
    const tw_truck *a = x, *b = y;
    if (a->depart_ms != b->depart_ms) return a->depart_ms < b->depart_ms ? -1 : 1;
    return a->od != b->od ? (a->od < b->od ? -1 : 1) : 0;
}

static ec_err add_truck(tw *w, int od, uint32_t from, uint32_t to, int64_t o, int64_t d, int vehicle, double soc,
                        int64_t depart_ms)
{
    tw_truck t;
    memset(&t, 0, sizeof t);
    t.origin = o, t.destination = d, t.from = from, t.to = to, t.vehicle = vehicle;
    t.soc = t.soc0 = soc, t.depart_ms = depart_ms, t.od = od;
    t.cidx = -1, t.site = -1, t.point = -1;
    return ec_vec_push(&w->trucks, &t);
}

ec_err twin__draw_trucks(tw *w)
{
    const ec_twin_config_t *c = w->c;
    const ec_vehicle_mix_t *mix = c->mix;
    w->vehicles = ec_calloc((size_t)(mix->n ? mix->n : 1), sizeof *w->vehicles);
    if (!w->vehicles) return EC_ENOMEM;
    for (int i = 0; i < mix->n; i++) w->vehicles[i] = mix->e[i].profile;
    ec_map nodes;
    ec_err rc = twin__node_map(c->g, &nodes);
    if (rc) {
        ec_map_free(&nodes);
        return rc;
    }
    if (c->trips) {
        for (size_t i = 0; i < c->trips->n && !rc; i++) {
            const ec_trip_in_t *t = &c->trips->t[i];
            uint32_t a = 0, b = 0;
            if (!(rc = node_of(&nodes, t->origin, "trips file", t->line, &a)) &&
                !(rc = node_of(&nodes, t->destination, "trips file", t->line, &b)))
                rc = add_truck(w, (int)i, a, b, t->origin, t->destination, t->vehicle, t->soc, t->depart_s * 1000);
        }
        w->trips_total = (int64_t)c->trips->n;
    } else {
        rng r = {c->seed};
        double cum[EC_MIX_MAX], s = 0;
        for (int i = 0; i < mix->n; i++) cum[i] = (s += mix->e[i].share);
        for (size_t i = 0; i < c->traffic->n && !rc; i++) {
            const ec_od_t *od = &c->traffic->od[i];
            uint32_t a = 0, b = 0;
            if ((rc = node_of(&nodes, od->origin, "traffic.csv", od->line, &a)) ||
                (rc = node_of(&nodes, od->destination, "traffic.csv", od->line, &b)))
                break;
            double day = od->per_year / 365.0 * c->day_factor;
            int64_t ne = draw_count(&r, day * c->bev_share), nd = draw_count(&r, day * (1 - c->bev_share));
            w->trips_total += ne + nd;
            for (int64_t k = 0; k < ne && !rc; k++) {
                double u = uniform(&r) * s;
                int v = 0;
                while (v < mix->n - 1 && u >= cum[v]) v++;
                double soc = SOC_LOW + SOC_STEP * (double)(next64(&r) % SOC_STEPS);
                double h = uniform(&r), acc = 0;
                int hour = 0;
                while (hour < 23 && h >= (acc += ec_twin_departure_profile[hour])) hour++;
                int64_t sec = (int64_t)hour * 3600 + (int64_t)(next64(&r) % 3600);
                rc = add_truck(w, (int)i, a, b, od->origin, od->destination, v, soc, (c->day_start_s + sec) * 1000);
            }
        }
    }
    ec_map_free(&nodes);
    if (rc) return rc;
    if (w->trucks.len > 1) qsort(w->trucks.data, w->trucks.len, sizeof(tw_truck), by_departure);
    return EC_OK;
}

/* ---- segments --------------------------------------------------------------------------------- */

static uint64_t pair_key(int64_t a, int64_t b)
{
    int64_t k[2] = {a, b};
    return ec_hash_bytes(k, sizeof k);
}

/* The rows of segments.csv, and each graph arc's row (-1 none). */
static ec_err read_segments(tw *w, ec_twin_result_t *r, int32_t *arc_row)
{
    const ec_graph *g = w->c->g;
    char *text = NULL;
    size_t len = 0;
    ec_err rc = ec_read_file(w->c->segments_path, 64u << 20, &text, &len);
    if (rc) return rc;
    ec_csv csv;
    ec_csv_init(&csv, w->c->segments_path, text, len, ',');
    ec_map rows;
    if ((rc = ec_map_init(&rows, 1024))) goto done;
    int cs = -1, ct = -1, cl = -1;
    if ((rc = ec_csv_next(&csv))) goto done;
    cs = ec_csv_find(&csv, "source"), ct = ec_csv_find(&csv, "target"), cl = ec_csv_find(&csv, "segment_length");
    if (cs < 0 || ct < 0) {
        rc = ec_fail(EC_EPARSE, "%s: the header has no source and target", w->c->segments_path);
        goto done;
    }
    while ((rc = ec_csv_next(&csv)) == EC_OK) {
        ec_twin_segment_t s;
        memset(&s, 0, sizeof s);
        if ((size_t)cs >= csv.nfields || (size_t)ct >= csv.nfields || ec_parse_i64(csv.fields[cs], &s.from) ||
            ec_parse_i64(csv.fields[ct], &s.to)) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: source and target must be node ids", w->c->segments_path, csv.line);
            goto done;
        }
        if (cl >= 0 && (rc = ec_csv_number(&csv, cl, "segment_length", 0, 1e5, &s.length_km))) goto done;
        if ((rc = ec_map_put(&rows, pair_key(s.from, s.to), r->segments.len)) || (rc = ec_vec_push(&r->segments, &s)))
            goto done;
    }
    if (rc != EC_EOF) goto done;
    rc = EC_OK;
    for (uint32_t a = 0; a < g->n_arcs; a++) {
        uint64_t row;
        uint32_t tail = g->grid_tail[a], head = g->arcs[a].to;
        arc_row[a] = ec_map_get(&rows, pair_key(g->ext_id[tail], g->ext_id[head]), &row) ? (int32_t)row : -1;
        if (arc_row[a] >= 0) {
            ec_twin_segment_t *s = &EC_VEC_AT(&r->segments, ec_twin_segment_t, row);
            s->a = ec_graph_point(g, tail), s->b = ec_graph_point(g, head);
            if (cl < 0) s->length_km = g->arcs[a].length_cm / 1e5;
        }
    }
done:
    ec_map_free(&rows);
    ec_csv_free(&csv);
    ec_free(text);
    return rc;
}

ec_err twin__load_segments(tw *w, ec_twin_result_t *r)
{
    const ec_twin_config_t *c = w->c;
    const ec_graph *g = c->g;
    size_t n_od = c->trips ? c->trips->n : c->traffic->n;
    int nv = c->mix->n;
    int32_t *arc_row = ec_malloc(((size_t)g->n_arcs + 1) * sizeof *arc_row);
    int64_t *count = ec_calloc(n_od * (size_t)nv + 1, sizeof *count);
    ec_query *q = NULL;
    ec_map nodes;
    ec_err rc = twin__node_map(g, &nodes);
    if (!rc && !(arc_row && count)) rc = EC_ENOMEM;
    if (!rc) rc = read_segments(w, r, arc_row);
    if (!rc) rc = ec_query_new(g, EC_ALGO_CH, &q);
    if (rc) goto done;
    for (size_t i = 0; i < w->trucks.len; i++) {
        const tw_truck *t = TW_TRUCK(w, i);
        count[(size_t)t->od * (size_t)nv + (size_t)t->vehicle]++;
    }
    double grid_kwh = 0;
    for (size_t i = 0; i < n_od; i++) {
        int64_t o, d;
        double day;
        if (c->trips) o = c->trips->t[i].origin, d = c->trips->t[i].destination, day = 1;
        else o = c->traffic->od[i].origin, d = c->traffic->od[i].destination, day = c->traffic->od[i].per_year / 365.0 * c->day_factor;
        int64_t e = 0;
        for (int v = 0; v < nv; v++) e += count[i * (size_t)nv + (size_t)v];
        if (day <= 0 && !e) continue;
        uint64_t a, b;
        ec_path_t p;
        if (!ec_map_get(&nodes, (uint64_t)o, &a) || !ec_map_get(&nodes, (uint64_t)d, &b) ||
            ec_query_route_nodes(q, (uint32_t)a, (uint32_t)b, &p))
            continue; /* no road: no load */
        for (uint32_t k = 0; k < p.n_arcs; k++) {
            uint32_t arc = p.arcs[k];
            const ec_arc_t *ar = &g->arcs[arc];
            double len = ar->length_cm / 100.0, dur = ar->duration_ms / 1000.0;
            double rise = ec_graph_elev_m(g, ar->to) - ec_graph_elev_m(g, g->grid_tail[arc]);
            double wh = 0;
            for (int v = 0; v < nv; v++) {
                int64_t n = count[i * (size_t)nv + (size_t)v];
                if (!n) continue;
                ec_conditions_t cond = ec_conditions_default(&w->vehicles[v]);
                cond.temp_c = c->temp_c;
                double x = ec_energy_wh(&w->vehicles[v], &cond, len, dur, rise) * (double)n;
                wh += x;
                grid_kwh += x / 1000.0 / (w->vehicles[v].charge_eff > 0 ? w->vehicles[v].charge_eff : 1);
            }
            r->e_km += len / 1000.0 * (double)e;
            if (arc_row[arc] < 0) continue;
            ec_twin_segment_t *s = &EC_VEC_AT(&r->segments, ec_twin_segment_t, arc_row[arc]);
            s->trucks_per_day += c->trips ? (double)e : day;
            s->e_trucks_per_day += e;
            s->energy_kwh += wh / 1000.0;
        }
    }
    for (size_t k = 0; k < r->segments.len; k++) r->driving_energy_kwh += EC_VEC_AT(&r->segments, ec_twin_segment_t, k).energy_kwh;
    /* The diesel the electric kilometres did not burn, less what the grid emitted for them. */
    double litres = r->e_km * EC_TWIN_DIESEL_L_PER_KM;
    r->co2_avoided_t_ttw = litres * EC_TWIN_DIESEL_TTW_KG_PER_L / 1000.0;
    r->co2_avoided_t_wtw = (litres * EC_TWIN_DIESEL_WTW_KG_PER_L - grid_kwh * c->grid_g_per_kwh / 1000.0) / 1000.0;
done:
    ec_map_free(&nodes);
    ec_query_free(q);
    ec_free(arc_row);
    ec_free(count);
    return rc;
}
