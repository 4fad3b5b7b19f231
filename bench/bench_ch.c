/* bench_ch.c - contraction hierarchy against plain Dijkstra in the same run.
 *
 *   bench_ch osm FILE.pbf [PAIRS]   real network (truck-40t, time metric)
 *   bench_ch synth NODES [PAIRS]    synthetic road-like grid with a highway layer
 *
 * Prints load/build time, memory per node, and median / p99 query times of
 * CH and Dijkstra on the same random node pairs, and their ratio. With
 * EC_BENCH_EXPORT=DIR it also writes DIR/pairs.csv (source,target by node id)
 * for the pgRouting side of bench/run.
 */
#include "ecorridor/ec_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t rng = 12345;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng >> 33) % n);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A road-like network (documented in bench/RESULTS.md): intersections on a
 * lattice 200 m apart; each street between two intersections is drawn with
 * two shape nodes, as OSM ways are; local streets run at 30-50 km/h and about
 * 10 % of them are missing; every 8th line is an arterial at 60-70 km/h and
 * every 64th a motorway at 100 km/h. Node count: about 4.6 per intersection. */
static ec_netbuild *synth_nb;
static uint32_t synth_node(double lat, double lon)
{
    uint32_t idx;
    ec_latlon_t p = {lat, lon};
    ec_netbuild_node(synth_nb, ec_netbuild_n_nodes(synth_nb), p, NULL, &idx);
    return idx;
}

static void synth_street(uint32_t a, uint32_t b, ec_latlon_t pa, ec_latlon_t pb, double kmh)
{
    uint32_t prev = a;
    ec_latlon_t pp = pa;
    for (int k = 1; k <= 3; k++) {
        ec_latlon_t p = {pa.lat + (pb.lat - pa.lat) * k / 3.0, pa.lon + (pb.lon - pa.lon) * k / 3.0};
        uint32_t v = k == 3 ? b : synth_node(p.lat, p.lon);
        double len = ec_geo_haversine_m(pp, p);
        uint32_t cm = (uint32_t)(len * 100), ms = (uint32_t)(len / (kmh / 3.6) * 1000) + 1;
        ec_netbuild_arc(synth_nb, prev, v, cm, ms, EC_NO_WAY);
        ec_netbuild_arc(synth_nb, v, prev, cm, ms, EC_NO_WAY);
        prev = v;
        pp = p;
    }
}

static ec_graph *synth(uint32_t nodes)
{
    uint32_t side = (uint32_t)sqrt((double)nodes / 4.64);
    ec_netbuild_new(&synth_nb);
    const double dlat = 0.0018, dlon = 0.0028; /* ~200 m at 45 N */
    uint32_t *at = malloc((size_t)side * side * sizeof *at);
    for (uint32_t r = 0; r < side; r++)
        for (uint32_t c = 0; c < side; c++) at[r * side + c] = synth_node(45.0 + r * dlat, 5.0 + c * dlon);
    for (uint32_t r = 0; r < side; r++)
        for (uint32_t c = 0; c < side; c++)
            for (int dir = 0; dir < 2; dir++) {
                uint32_t rr = r + (dir == 0), cc = c + (dir == 1);
                if (rr >= side || cc >= side) continue;
                uint32_t line = dir == 0 ? c : r;
                double kmh = line % 64 == 0 ? 100.0 : line % 8 == 0 ? 60.0 + rnd(11) : 30.0 + rnd(21);
                if (line % 8 != 0 && rnd(100) < 10) continue;
                ec_latlon_t pa = {45.0 + r * dlat, 5.0 + c * dlon}, pb = {45.0 + rr * dlat, 5.0 + cc * dlon};
                synth_street(at[r * side + c], at[rr * side + cc], pa, pb, kmh);
            }
    free(at);
    ec_vehicle_class_t vc;
    ec_vehicle_class_builtin("truck-40t", &vc);
    ec_graph *g;
    if (ec_netbuild_finish(synth_nb, EC_METRIC_TIME, EC_SRC_DIMACS, &vc, "synthetic", &g)) return NULL;
    return g;
}

/* with_path: full route (unpacked arcs, distance and duration); else weight only. */
static void measure(ec_query *q, const uint32_t *s, const uint32_t *t, int n, double *us,
                    uint32_t *w, double *settled, int with_path)
{
    double tot = 0;
    for (int i = 0; i < n; i++) {
        ec_path_t p;
        uint32_t wt = 0;
        int64_t t0 = ec_time_mono_ns();
        ec_err rc = with_path ? ec_query_route_nodes(q, s[i], t[i], &p)
                              : ec_query_weight_nodes(q, s[i], t[i], &wt);
        us[i] = (double)(ec_time_mono_ns() - t0) / 1e3;
        w[i] = rc ? EC_INF_WEIGHT : with_path ? p.weight : wt;
        tot += (double)ec_query_settled(q);
    }
    *settled = tot / n;
    qsort(us, (size_t)n, sizeof *us, cmp_d);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_ch osm FILE [PAIRS] | synth NODES [PAIRS]\n");
        return 2;
    }
    int64_t n_arg = 0, pairs_arg = 1000;
    if ((argc > 3 && (ec_parse_i64(argv[3], &pairs_arg) || pairs_arg < 10 || pairs_arg > 10000000)) ||
        (strcmp(argv[1], "osm") && (ec_parse_i64(argv[2], &n_arg) || n_arg < 100 || n_arg > 50000000))) {
        fprintf(stderr, "bench_ch: PAIRS must be 10..1e7 and NODES 100..5e7\n");
        return 2;
    }
    int pairs = (int)pairs_arg;
    ec_log_set_level(EC_LOG_WARN);
    int64_t t0 = ec_time_mono_ns();
    ec_graph *g = NULL;
    if (!strcmp(argv[1], "osm")) {
        ec_load_opts_t o = {.metric = EC_METRIC_TIME};
        ec_vehicle_class_builtin("truck-40t", &o.vehicle);
        if (ec_graph_load_osm(argv[2], &o, &g)) {
            fprintf(stderr, "%s\n", ec_errmsg());
            return 1;
        }
    } else {
        g = synth((uint32_t)n_arg);
    }
    double load_s = (double)(ec_time_mono_ns() - t0) / 1e9;
    ec_ch_opts_t co = {0, 0};
    if (ec_ch_build(g, &co)) {
        fprintf(stderr, "build: %s\n", ec_errmsg());
        return 1;
    }
    /* Save, then time opening the file: checksums and structure checks included. */
    char ecg[] = "/tmp/ec_bench_XXXXXX";
    close(mkstemp(ecg));
    if (ec_graph_save(g, ecg)) {
        fprintf(stderr, "save: %s\n", ec_errmsg());
        return 1;
    }
    struct stat st;
    stat(ecg, &st);
    size_t bytes = (size_t)st.st_size;
    int64_t t1 = ec_time_mono_ns();
    ec_graph *opened;
    if (ec_graph_open(ecg, &opened)) {
        fprintf(stderr, "open: %s\n", ec_errmsg());
        return 1;
    }
    double open_s = (double)(ec_time_mono_ns() - t1) / 1e9;
    unlink(ecg);
    ec_graph_free(g);
    g = opened;
    uint32_t *s = calloc(pairs, sizeof *s), *t = calloc(pairs, sizeof *t);
    uint32_t *w_ch = malloc(pairs * sizeof *w_ch), *w_dj = malloc(pairs * sizeof *w_dj);
    double *us_ch = malloc(pairs * sizeof *us_ch), *us_dj = malloc(pairs * sizeof *us_dj);
    for (int i = 0; i < pairs; i++) s[i] = rnd(g->n_nodes), t[i] = rnd(g->n_nodes);
    const char *exp = getenv("EC_BENCH_EXPORT");
    if (exp) {
        char path[4096];
        snprintf(path, sizeof path, "%s/pairs.csv", exp);
        FILE *f = fopen(path, "w");
        fputs("source,target,ch_duration_s\n", f);
        for (int i = 0; i < pairs; i++) {
            ec_query *q0;
            ec_path_t p;
            ec_query_new(g, EC_ALGO_CH, &q0);
            if (ec_query_route_nodes(q0, s[i], t[i], &p) == EC_OK)
                fprintf(f, "%u,%u,%.3f\n", s[i], t[i], p.duration_s);
            ec_query_free(q0);
        }
        fclose(f);
    }
    ec_query *qc, *qd;
    ec_query_new(g, EC_ALGO_CH, &qc);
    ec_query_new(g, EC_ALGO_DIJKSTRA, &qd);
    int nd = pairs < 200 ? pairs : 200; /* Dijkstra is slow: a subset of the same pairs */
    double set_ch, set_dj, set_chp;
    double *us_chp = malloc(pairs * sizeof *us_chp);
    uint32_t *w_chp = malloc(pairs * sizeof *w_chp);
    measure(qc, s, t, pairs, us_chp, w_chp, &set_chp, 1);
    measure(qc, s, t, pairs, us_ch, w_ch, &set_ch, 0);
    measure(qd, s, t, nd, us_dj, w_dj, &set_dj, 0);
    /* Compare answers on the shared subset (the unsorted weights are per pair). */
    int mismatch = 0;
    for (int i = 0; i < nd; i++) {
        ec_path_t a;
        ec_err rc = ec_query_route_nodes(qc, s[i], t[i], &a);
        mismatch += (rc ? EC_INF_WEIGHT : a.weight) != w_dj[i];
    }
    double med_ch = us_ch[pairs / 2], p99_ch = us_ch[(int)(pairs * 0.99)];
    double med_chp = us_chp[pairs / 2], p99_chp = us_chp[(int)(pairs * 0.99)];
    double med_dj = us_dj[nd / 2], p99_dj = us_dj[(int)(nd * 0.99)];
    printf("{\"graph\":\"%s %s\",\"nodes\":%u,\"arcs\":%u,\"ch_arcs\":%u,\"load_s\":%.3f,"
           "\"build_s\":%.3f,\"open_s\":%.3f,\"file_bytes_per_node\":%.1f,\"pairs_ch\":%d,\"pairs_dijkstra\":%d,"
           "\"ch_median_us\":%.2f,\"ch_p99_us\":%.2f,\"ch_settled\":%.0f,"
           "\"ch_path_median_us\":%.2f,\"ch_path_p99_us\":%.2f,"
           "\"dijkstra_median_us\":%.1f,\"dijkstra_p99_us\":%.1f,\"dijkstra_settled\":%.0f,"
           "\"speedup_median\":%.0f,\"speedup_path_median\":%.0f,\"mismatches\":%d}\n",
           argv[1], argv[2], g->n_nodes, g->n_arcs, g->n_up + g->n_down, load_s, g->build_seconds, open_s,
           (double)bytes / g->n_nodes, pairs, nd, med_ch, p99_ch, set_ch, med_chp, p99_chp, med_dj,
           p99_dj, set_dj, med_dj / med_ch, med_dj / med_chp, mismatch);
    ec_query_free(qc);
    ec_query_free(qd);
    ec_graph_free(g);
    return mismatch ? 1 : 0;
}
