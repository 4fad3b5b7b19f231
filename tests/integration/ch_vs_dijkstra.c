/* ch_vs_dijkstra.c - the contraction hierarchy answers exactly what plain
 * Dijkstra answers, on a real network, after a save and reopen:
 * node-to-node, point-to-point (snapped), one-to-many and many-to-many.
 *
 * Given the ecorridor binary, also against an independent truth: the graph is
 * written out by `ecorridor graph export`, read back here from its CSV files
 * and searched by this file's own Dijkstra (no code shared with src/graph).
 * Points exactly on nodes, and points part-way along roads, go through
 * ec_graph_snap: a point on a node may leave (or be reached) by every arc
 * there, a point on a two-way road may drive either way. FROM TO SECONDS adds
 * one route whose time is known.
 *
 * usage: ch_vs_dijkstra osm|corridor PATH PAIRS SEED [ECORRIDOR [FROM TO SECONDS]]
 *        (exit 77: data absent)
 */
#include "ecorridor/ec_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ref_dijkstra.h"

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

int main(int argc, char **argv)
{
    if (argc < 5) return 2;
    if (access(argv[2], R_OK)) {
        printf("SKIP: %s not present\n", argv[2]);
        return 77;
    }
    int64_t pairs_arg;
    if (ec_parse_i64(argv[3], &pairs_arg) || pairs_arg < 1 || pairs_arg > 1000000) return 2;
    int pairs = (int)pairs_arg;
    rng_state = strtoull(argv[4], NULL, 10);
    ec_load_opts_t o = {.metric = EC_METRIC_TIME};
    ec_vehicle_class_builtin("truck-40t", &o.vehicle);
    ec_graph *built, *g;
    ec_err rc = !strcmp(argv[1], "osm") ? ec_graph_load_osm(argv[2], &o, &built)
                                        : ec_graph_load_corridor(argv[2], &o, &built);
    if (rc || (rc = ec_ch_build(built, NULL))) {
        fprintf(stderr, "build failed: %s\n", ec_errmsg());
        return 1;
    }
    char tmp[] = "/tmp/ec_chtestXXXXXX";
    int fd = mkstemp(tmp);
    close(fd);
    if ((rc = ec_graph_save(built, tmp)) || (rc = ec_graph_open(tmp, &g))) {
        fprintf(stderr, "save/open failed: %s\n", ec_errmsg());
        return 1;
    }
    unlink(tmp);
    ec_graph_free(built);
    ec_graph_snap_prepare(g);
    ec_query *ch, *dj;
    ec_query_new(g, EC_ALGO_CH, &ch);
    ec_query_new(g, EC_ALGO_DIJKSTRA, &dj);
    int passed = 0, failed = 0, reachable = 0;
    if (argc >= 6) {
        /* Against the exported edges: written by the real binary from the saved file. */
        char dir[] = "/tmp/ec_chexportXXXXXX", cmd[8192];
        char tmp2[] = "/tmp/ec_chtest2XXXXXX";
        if (!mkdtemp(dir) || (fd = mkstemp(tmp2)) < 0) return 1;
        close(fd);
        snprintf(cmd, sizeof cmd, "'%s' graph export --graph '%s' --out-dir '%s' >/dev/null", argv[5], tmp2, dir);
        if (ec_graph_save(g, tmp2) || system(cmd) != 0) {
            fprintf(stderr, "graph export failed\n");
            return 1;
        }
        unlink(tmp2);
        ref_graph rg;
        if (ref_load(&rg, dir, g->metric == EC_METRIC_TIME)) return 1;
        ref_case kase = {0};
        if (argc >= 9) {
            if (sscanf(argv[6], "%lf,%lf", &kase.from.lat, &kase.from.lon) != 2 ||
                sscanf(argv[7], "%lf,%lf", &kase.to.lat, &kase.to.lon) != 2)
                return 2;
            kase.seconds = strtod(argv[8], NULL);
            kase.given = 1;
        }
        int bad = ref_check(&rg, g, ch, dj, 1000, &kase, rnd);
        bad ? failed++ : passed++;
        ref_free(&rg);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) return 1;
    }
    for (int i = 0; i < pairs; i++) {
        uint32_t s = rnd(g->n_nodes), t = rnd(g->n_nodes);
        ec_path_t a, b;
        ec_err r1 = ec_query_route_nodes(ch, s, t, &a), r2 = ec_query_route_nodes(dj, s, t, &b);
        int ok = r1 == r2 && (r1 || a.weight == b.weight);
        /* The unpacked CH path must be a real path of that weight. */
        if (ok && !r1) {
            uint64_t sum = 0;
            uint32_t v = s;
            for (uint32_t k = 0; k < a.n_arcs; k++) {
                const ec_arc_t *arc = &g->arcs[a.arcs[k]];
                if (a.arcs[k] < g->first_out[v] || a.arcs[k] >= g->first_out[v + 1]) ok = 0;
                sum += ec_arc_weight(g, arc);
                v = arc->to;
            }
            ok = ok && v == t && sum == a.weight;
            reachable++;
        }
        if (!ok) printf("FAIL nodes %u -> %u: ch %u (%d), dijkstra %u (%d)\n", s, t, a.weight, r1, b.weight, r2);
        ok ? passed++ : failed++;
    }
    /* Snapped points anywhere in the bounding box of the graph. */
    for (int i = 0; i < pairs / 4; i++) {
        ec_latlon_t p[2];
        for (int k = 0; k < 2; k++) {
            ec_latlon_t c = ec_graph_point(g, rnd(g->n_nodes));
            p[k].lat = c.lat + ((int)rnd(2001) - 1000) * 1e-5;
            p[k].lon = c.lon + ((int)rnd(2001) - 1000) * 1e-5;
        }
        ec_snap_t sa, sb;
        if (ec_graph_snap(g, p[0], 50000, &sa) || ec_graph_snap(g, p[1], 50000, &sb)) {
            printf("FAIL snap: %s\n", ec_errmsg());
            failed++;
            continue;
        }
        ec_path_t a, b;
        ec_err r1 = ec_query_route(ch, &sa, &sb, &a), r2 = ec_query_route(dj, &sa, &sb, &b);
        int ok = r1 == r2 && (r1 || (a.weight == b.weight && a.distance_m > 0));
        if (!ok) printf("FAIL points: ch %u (%d), dijkstra %u (%d)\n", a.weight, r1, b.weight, r2);
        ok ? passed++ : failed++;
    }
    /* Routes sharing an end (the search at the fixed end kept) against plain
     * Dijkstra, both ways, with other queries in between that must not disturb it. */
    ec_snap_t pts[21];
    int n_pts = 0;
    while (n_pts < 21) {
        if (ec_graph_snap(g, ec_graph_point(g, rnd(g->n_nodes)), 50000, &pts[n_pts])) continue;
        n_pts++;
    }
    int fixed_bad = 0;
    for (int end = 0; end < 2; end++) {
        ec_query_fix(ch, &pts[0], end);
        for (int k = 1; k < n_pts; k++) {
            ec_path_t a, b;
            ec_err r1 = ec_query_route_fixed(ch, &pts[k], &a);
            ec_err r2 = end ? ec_query_route(dj, &pts[k], &pts[0], &b) : ec_query_route(dj, &pts[0], &pts[k], &b);
            if (r1 != r2 || (!r1 && (a.weight != b.weight || !(a.distance_m >= 0))))
                fixed_bad++;
        }
    }
    if (fixed_bad) printf("FAIL fixed-end routes: %d of %d differ\n", fixed_bad, 2 * (n_pts - 1));
    fixed_bad ? failed++ : passed++;
    /* Search spaces met by rank, every pair of the points: Dijkstra's weight,
     * and sums that add up to it (the weight is the sum of the arcs' times or
     * lengths). */
    ec_route_sums_t *up_s, *down_s;
    ec_space_t fw[21], bw[21];
    int space_bad = 0;
    if (ec_graph_ch_sums(g, &up_s, &down_s)) return 1;
    for (int k = 0; k < n_pts; k++)
        if (ec_query_space(ch, up_s, down_s, &pts[k], 0, &fw[k]) || ec_query_space(ch, up_s, down_s, &pts[k], 1, &bw[k]))
            return 1;
    for (int i = 0; i < n_pts; i++)
        for (int k = 0; k < n_pts; k++) {
            ec_route_sums_t m;
            ec_path_t b;
            int found = ec_space_meet(g, &fw[i], &bw[k], &m);
            ec_err r2 = ec_query_route(dj, &pts[i], &pts[k], &b);
            double sum = g->metric == EC_METRIC_TIME ? m.dur_s * 1000 : m.len_m * 100;
            if (found != (r2 == EC_OK) || (found && (m.weight != b.weight || fabs(sum - m.weight) > 1e-6 * (1 + m.weight))))
                space_bad++;
        }
    for (int k = 0; k < n_pts; k++) ec_space_free(&fw[k]), ec_space_free(&bw[k]);
    ec_free(up_s);
    ec_free(down_s);
    if (space_bad) printf("FAIL search spaces: %d of %d pairs differ\n", space_bad, n_pts * n_pts);
    space_bad ? failed++ : passed++;
    /* Many-to-many against one-to-one Dijkstra. */
    enum { K = 40 };
    uint32_t src[K], dst[K], m_ch[K * K], m_dj[K * K];
    for (int i = 0; i < K; i++) src[i] = rnd(g->n_nodes), dst[i] = rnd(g->n_nodes);
    ec_query_many_to_many(ch, src, K, dst, K, m_ch);
    ec_query_many_to_many(dj, src, K, dst, K, m_dj);
    int m2m_bad = 0;
    for (int i = 0; i < K * K; i++) m2m_bad += m_ch[i] != m_dj[i];
    uint32_t one[K];
    ec_query_one_to_many(ch, src[0], dst, K, one);
    for (int j = 0; j < K; j++) m2m_bad += one[j] != m_dj[j];
    if (m2m_bad) printf("FAIL many-to-many: %d of %d cells differ\n", m2m_bad, K * K + K);
    m2m_bad ? failed++ : passed++;
    printf("%s: %d node pairs (%d reachable), %d point pairs, %dx%d matrix\n", argv[2], pairs,
           reachable, pairs / 4, K, K);
    printf("%d passed, %d failed\n", passed, failed);
    ec_query_free(ch);
    ec_query_free(dj);
    ec_graph_free(g);
    return failed ? 1 : 0;
}
