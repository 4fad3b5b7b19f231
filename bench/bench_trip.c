/* bench_trip.c - trips with charging stops: time per plan, and the exhaustive
 * reference on the same queries where it finishes.
 *
 *   bench_trip germany DIR [PAIRS] [SPACING_KM] [REF_PAIRS]
 *   bench_trip osm PBF [PAIRS] [SITES] [REF_PAIRS]
 *
 * germany: the corridor network in DIR, charging sites along every motorway
 * edge every SPACING_KM (default 20 km: 470 sites; the planned German truck
 * network has 352), every fourth an MCS hub, the rest CCS 400 kW; PAIRS
 * (default 1000) origin-destination pairs drawn from traffic.csv weighted by
 * truck volume, keeping those over 300 km apart; an eactros600 leaving at 80 %
 * under the EU rules.
 * osm: the OSM network in PBF (truck-40t), SITES (default 200) sites on
 * random nodes, random pairs of nodes with a road between them; the truck leaves at 11 % so that most
 * trips across the city need a stop.
 * Making the planner (snapping the sites, their search spaces) and the first
 * plan for the vehicle (the legs between all sites) are timed apart. The exhaustive reference runs on the first REF_PAIRS (default
 * 10) pairs with a budget of 3 M search steps each, with all the sites and
 * with only those within 10 km of the line between origin and destination;
 * the ratios are over the runs that finished, and every finished one must
 * agree with the fast search on the same sites.
 */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_geo.h"
#include "ecorridor/ec_route.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 2024;
static double urand(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint32_t a, b;
    double cum;
} od;

static void add_site(ec_vec *groups, int k, ec_latlon_t pos)
{
    ec_connector_group_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.site_id, sizeof c.site_id, "S%04d", k);
    snprintf(c.name, sizeof c.name, "site %d", k);
    c.pos = pos;
    c.standard = k % 4 == 0 ? EC_PLUG_MCS : EC_PLUG_CCS2;
    c.power_w = k % 4 == 0 ? 1e6 : 4e5;
    c.count = c.available = 4;
    c.price_per_kwh = 4500 + (k % 7) * 150;
    ec_vec_push(groups, &c);
}

/* Sites along each road once (the arc from the lower to the higher node). */
static void sites_along_roads(const ec_graph *g, double spacing_km, ec_vec *groups)
{
    int k = 0;
    for (uint32_t v = 0; v < g->n_nodes; v++)
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++) {
            uint32_t w = g->arcs[e].to;
            if (w < v) continue;
            int n = (int)floor(g->arcs[e].length_cm / 1e5 / spacing_km);
            for (int i = 1; i <= n; i++) {
                double f = (double)i / (n + 1);
                ec_latlon_t a = ec_graph_point(g, v), b = ec_graph_point(g, w);
                add_site(groups, k++, (ec_latlon_t){a.lat + f * (b.lat - a.lat), a.lon + f * (b.lon - a.lon)});
            }
        }
}

/* OD pairs over 300 km apart from traffic.csv, with cumulative volume. */
static int traffic_pairs(const ec_graph *g, const char *dir, ec_vec *ods)
{
    char path[4096], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/traffic.csv", dir);
    if (ec_read_file(path, 64u << 20, &text, &len)) return -1;
    ec_csv r;
    ec_csv_init(&r, path, text, len, ',');
    ec_csv_next(&r);
    ec_map node_of;
    ec_map_init(&node_of, g->n_nodes);
    for (uint32_t v = 0; v < g->n_nodes; v++) ec_map_put(&node_of, (uint64_t)g->ext_id[v], v);
    double total = 0;
    while (ec_csv_next(&r) == EC_OK) {
        int64_t oa, ob;
        double vol;
        uint64_t a, b;
        if (r.nfields < 3 || ec_parse_i64(r.fields[0], &oa) || ec_parse_i64(r.fields[1], &ob) ||
            ec_parse_double(r.fields[2], &vol) || !ec_map_get(&node_of, (uint64_t)oa, &a) ||
            !ec_map_get(&node_of, (uint64_t)ob, &b))
            continue;
        if (ec_geo_haversine_m(ec_graph_point(g, (uint32_t)a), ec_graph_point(g, (uint32_t)b)) < 300000) continue;
        total += vol;
        od x = {(uint32_t)a, (uint32_t)b, total};
        ec_vec_push(ods, &x);
    }
    ec_map_free(&node_of);
    ec_csv_free(&r);
    ec_free(text);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "germany") && strcmp(argv[1], "osm"))) {
        fprintf(stderr, "usage: bench_trip germany DIR [PAIRS] [SPACING_KM] [REF_PAIRS]\n"
                        "       bench_trip osm PBF [PAIRS] [SITES] [REF_PAIRS]\n");
        return 2;
    }
    int germany = !strcmp(argv[1], "germany");
    int64_t npairs = 1000, nref = 10;
    double param = germany ? 20 : 200;
    if ((argc > 3 && (ec_parse_i64(argv[3], &npairs) || npairs < 1 || npairs > 100000)) ||
        (argc > 4 && (ec_parse_double(argv[4], &param) || param < 5 || param > 100000)) ||
        (argc > 5 && (ec_parse_i64(argv[5], &nref) || nref < 0 || nref > npairs))) {
        fprintf(stderr, "bench_trip: PAIRS 1..100000, SPACING_KM or SITES >= 5, REF_PAIRS 0..PAIRS\n");
        return 2;
    }
    ec_log_set_level(EC_LOG_WARN);
    ec_load_opts_t o = {.metric = EC_METRIC_TIME};
    ec_vehicle_class_builtin("truck-40t", &o.vehicle);
    ec_graph *g;
    if ((germany ? ec_graph_load_corridor(argv[2], &o, &g) : ec_graph_load_osm(argv[2], &o, &g)) ||
        ec_ch_build(g, NULL) || ec_graph_snap_prepare(g)) {
        fprintf(stderr, "%s\n", ec_errmsg());
        return 1;
    }
    ec_vec groups, ods;
    ec_vec_init(&groups, sizeof(ec_connector_group_t));
    ec_vec_init(&ods, sizeof(od));
    if (germany) {
        sites_along_roads(g, param, &groups);
        if (traffic_pairs(g, argv[2], &ods)) {
            fprintf(stderr, "%s\n", ec_errmsg());
            return 1;
        }
    } else {
        for (int k = 0; k < (int)param; k++) add_site(&groups, k, ec_graph_point(g, (uint32_t)(urand() * g->n_nodes)));
        /* Pairs the truck can drive between (a city extract has one-way
         * streets leaving it, and roads closed to trucks). */
        ec_query *cq;
        if (ec_query_new(g, EC_ALGO_CH, &cq)) return 1;
        while (ods.len < (size_t)(4 * npairs)) {
            od x = {(uint32_t)(urand() * g->n_nodes), (uint32_t)(urand() * g->n_nodes), ods.len + 1.0};
            uint32_t w;
            if (ec_query_weight_nodes(cq, x.a, x.b, &w) == EC_OK) ec_vec_push(&ods, &x);
        }
        ec_query_free(cq);
    }
    ec_sites sites = {groups.data, groups.len, "EUR"};
    ec_trip_planner *pl;
    int64_t t_new = ec_time_mono_ns();
    if (ec_trip_planner_new(g, &sites, &pl)) {
        fprintf(stderr, "%s\n", ec_errmsg());
        return 1;
    }
    double new_ms = (double)(ec_time_mono_ns() - t_new) / 1e6;
    const od *all = ods.data;
    double total = all[ods.len - 1].cum;
    ec_vehicle_profile v;
    ec_vehicle_profile_builtin("eactros600", &v);
    ec_trip_request_t q;
    memset(&q, 0, sizeof q);
    q.vehicle = &v;
    q.cond = ec_conditions_default(&v);
    q.soc_start = germany ? 0.8 : 0.11;
    q.soc_min = 0.1;
    q.soc_min_arrival = 0.1;
    q.rules = EC_RULES_EU;
    q.depart_s = 1795500000;
    q.stop_overhead_s = 300;
    /* The pairs, drawn once: the timed loop and the reference use the same. */
    od *pairs = malloc((size_t)npairs * sizeof *pairs);
    for (int64_t i = 0; i < npairs; i++) {
        double x = urand() * total;
        size_t lo = 0, hi = ods.len - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (all[mid].cum < x) lo = mid + 1;
            else hi = mid;
        }
        pairs[i] = all[lo];
    }
    ec_trip_plan_t warm;
    int64_t t_prep = ec_time_mono_ns();
    ec_trip_plan(pl, &q, ec_graph_point(g, pairs[0].a), ec_graph_point(g, pairs[0].b), &warm);
    double prep_ms = (double)(ec_time_mono_ns() - t_prep) / 1e6;
    double *ms = malloc((size_t)npairs * sizeof *ms), *best = malloc((size_t)npairs * sizeof *best);
    int *feas = malloc((size_t)npairs * sizeof *feas);
    int feasible = 0, errors = 0;
    uint64_t labels = 0;
    double stops = 0;
    int64_t t_all = ec_time_mono_ns();
    for (int64_t i = 0; i < npairs; i++) {
        ec_trip_plan_t p;
        int64_t t0 = ec_time_mono_ns();
        ec_err rc = ec_trip_plan(pl, &q, ec_graph_point(g, pairs[i].a), ec_graph_point(g, pairs[i].b), &p);
        ms[i] = (double)(ec_time_mono_ns() - t0) / 1e6;
        feas[i] = !rc && p.feasible;
        best[i] = p.duration_s;
        if (rc) errors++;
        else if (p.feasible) feasible++, stops += p.n_stops;
        labels += p.labels;
    }
    double wall = (double)(ec_time_mono_ns() - t_all) / 1e9;
    /* The exhaustive reference on the first pairs, where it finishes: with
     * all the sites, and with only the sites within 10 km of the straight
     * line between origin and destination (the fast search on the same). */
    ec_trip_request_t rq = q;
    rq.max_labels = 20000000;
    int ref_done = 0, ref_agree = 0, near_done = 0, near_agree = 0, near_sites = 0;
    double ref_ms = 0, fast_ms = 0, near_ref_ms = 0, near_fast_ms = 0;
    for (int64_t i = 0; i < nref; i++) {
        double key;
        int found;
        ec_latlon_t a = ec_graph_point(g, pairs[i].a), b = ec_graph_point(g, pairs[i].b);
        int64_t t0 = ec_time_mono_ns();
        ec_err rc = ec_trip_plan_reference(pl, &rq, a, b, &key, &found);
        double t = (double)(ec_time_mono_ns() - t0) / 1e6;
        if (!rc) {
            ref_done++;
            ref_ms += t;
            fast_ms += ms[i];
            ref_agree += found == feas[i] && (!found || fabs(key - best[i]) <= 1.5);
        }
        ec_vec sub;
        ec_vec_init(&sub, sizeof(ec_connector_group_t));
        const ec_connector_group_t *gr = groups.data;
        for (size_t k = 0; k < groups.len; k++)
            if (ec_geo_point_segment_m(gr[k].pos, a, b, NULL) <= 5000) ec_vec_push(&sub, &gr[k]);
        ec_sites ss = {sub.data, sub.len, "EUR"};
        ec_trip_planner *sp;
        ec_trip_plan_t fp;
        if (sub.len && !ec_trip_planner_new(g, &ss, &sp)) {
            ec_trip_plan(sp, &q, a, b, &fp); /* the legs between the sites, untimed */
            t0 = ec_time_mono_ns();
            ec_err rf = ec_trip_plan(sp, &q, a, b, &fp);
            double tf = (double)(ec_time_mono_ns() - t0) / 1e6;
            t0 = ec_time_mono_ns();
            rc = ec_trip_plan_reference(sp, &rq, a, b, &key, &found);
            t = (double)(ec_time_mono_ns() - t0) / 1e6;
            if (!rc && !rf) {
                near_done++;
                near_sites += (int)sub.len;
                near_ref_ms += t;
                near_fast_ms += tf;
                near_agree += found == fp.feasible && (!found || fabs(key - fp.duration_s) <= 1.5);
            }
            ec_trip_planner_free(sp);
        }
        ec_vec_free(&sub);
    }
    ref_done += near_done, ref_agree += near_agree;
    if (ref_done && ref_agree != ref_done) fprintf(stderr, "bench_trip: the reference disagrees on %d of %d pairs\n", ref_done - ref_agree, ref_done);
    qsort(ms, (size_t)npairs, sizeof *ms, cmp_d);
    size_t skipped;
    size_t used = ec_trip_planner_sites(pl, &skipped);
    printf("{\"network\":\"%s\",\"nodes\":%u,\"sites\":%zu,\"sites_skipped\":%zu,\"pairs\":%lld,"
           "\"feasible\":%d,\"errors\":%d,\"mean_stops\":%.2f,\"mean_labels\":%.0f,"
           "\"planner_ms\":%.1f,\"prepare_ms\":%.1f,\"median_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"total_s\":%.2f,"
           "\"reference_tried\":%lld,\"reference_finished\":%d,\"reference_ratio\":%.0f,"
           "\"corridor_reference_finished\":%d,\"corridor_mean_sites\":%.1f,\"corridor_fast_ms\":%.3f,"
           "\"corridor_reference_ms\":%.1f,\"corridor_ratio\":%.0f,\"reference_agrees\":%d}\n",
           germany ? "germany" : "osm", g->n_nodes, used, skipped, (long long)npairs, feasible, errors,
           feasible ? stops / feasible : 0, (double)labels / (double)npairs, new_ms, prep_ms, ms[npairs / 2],
           ms[(int64_t)(npairs * 0.99)], ms[npairs - 1], wall, (long long)nref, ref_done - near_done,
           fast_ms > 0 ? ref_ms / fast_ms : 0, near_done, near_done ? (double)near_sites / near_done : 0,
           near_done ? near_fast_ms / near_done : 0, near_done ? near_ref_ms / near_done : 0,
           near_fast_ms > 0 ? near_ref_ms / near_fast_ms : 0, ref_agree == ref_done);
    free(ms), free(best), free(feas), free(pairs);
    ec_trip_planner_free(pl);
    ec_vec_free(&ods);
    ec_vec_free(&groups);
    ec_graph_free(g);
    return ref_agree == ref_done ? 0 : 1;
}
