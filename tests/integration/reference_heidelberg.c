/* reference_heidelberg.c - the OSM loader, told to read Heidelberg the way the
 * reference distances were computed (every road class, no access filtering,
 * weight = length), reproduces reference_queries.tsv by CH and by Dijkstra.
 *
 * usage: reference_heidelberg DATA_DIR   (exit 77 = skipped: data absent)
 */
#include "ecorridor/ec_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MAX_REF_NODES 1000000

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    char pbf[4096], nodes[4096], refs[4096];
    snprintf(pbf, sizeof pbf, "%s/roads/heidelberg/heidelberg.test.pbf", argv[1]);
    snprintf(nodes, sizeof nodes, "%s/roads/heidelberg/heidelberg_nodes.tsv.gz", argv[1]);
    snprintf(refs, sizeof refs, "%s/roads/heidelberg/reference_queries.tsv", argv[1]);
    FILE *rf = fopen(refs, "r");
    gzFile nf = gzopen(nodes, "rb");
    if (!rf || !nf) {
        printf("SKIP: %s not present\n", refs);
        return 77;
    }
    /* Reference node index -> OSM node id. */
    int64_t *osm = malloc(MAX_REF_NODES * sizeof *osm);
    char line[512];
    long n_ref = 0;
    while (gzgets(nf, line, sizeof line)) {
        if (line[0] == '#') continue;
        long idx;
        long long id;
        if (sscanf(line, "%ld\t%lld", &idx, &id) != 2 || idx != n_ref || n_ref >= MAX_REF_NODES) {
            fprintf(stderr, "bad nodes line %ld\n", n_ref);
            return 1;
        }
        osm[n_ref++] = id;
    }
    gzclose(nf);

    ec_load_opts_t o = {.metric = EC_METRIC_DISTANCE};
    ec_graph *g;
    if (ec_vehicle_class_builtin("unrestricted", &o.vehicle) || ec_graph_load_osm(pbf, &o, &g) ||
        ec_ch_build(g, NULL)) {
        fprintf(stderr, "load failed: %s\n", ec_errmsg());
        return 1;
    }
    printf("graph: %u nodes (reference %ld), %u arcs\n", g->n_nodes, n_ref, g->n_arcs);
    ec_map by_osm;
    ec_map_init(&by_osm, g->n_nodes);
    for (uint32_t v = 0; v < g->n_nodes; v++) ec_map_put(&by_osm, (uint64_t)g->ext_id[v], v);
    ec_query *ch, *dj;
    ec_query_new(g, EC_ALGO_CH, &ch);
    ec_query_new(g, EC_ALGO_DIJKSTRA, &dj);
    int checked = 0, failed = 0;
    while (fgets(line, sizeof line, rf)) {
        if (line[0] == '#') continue;
        long s, t;
        char want[64];
        if (sscanf(line, "%ld\t%ld\t%63s", &s, &t, want) != 3 || s >= n_ref || t >= n_ref) continue;
        uint64_t vs, vt;
        if (!ec_map_get(&by_osm, (uint64_t)osm[s], &vs) || !ec_map_get(&by_osm, (uint64_t)osm[t], &vt)) {
            printf("FAIL %ld -> %ld: node missing from the graph\n", s, t);
            failed++;
            continue;
        }
        ec_path_t pc, pd;
        ec_err rc1 = ec_query_route_nodes(ch, (uint32_t)vs, (uint32_t)vt, &pc);
        ec_err rc2 = ec_query_route_nodes(dj, (uint32_t)vs, (uint32_t)vt, &pd);
        int ok;
        char got[64];
        if (!strcmp(want, "inf")) {
            ok = rc1 == EC_EUNREACHABLE && rc2 == EC_EUNREACHABLE;
            snprintf(got, sizeof got, "%s", rc1 == EC_EUNREACHABLE ? "inf" : "reachable");
        } else {
            double w = strtod(want, NULL);
            /* The reference rounds each segment to 0.1 m; allow that much drift. */
            double tol = 0.5 + 0.0002 * w;
            ok = !rc1 && !rc2 && pc.weight == pd.weight && fabs(pc.distance_m - w) <= tol;
            snprintf(got, sizeof got, "%.2f", rc1 ? -1.0 : pc.distance_m);
        }
        printf("%s %ld -> %ld: reference %s, ecorridor %s\n", ok ? "ok  " : "FAIL", s, t, want, got);
        checked++;
        failed += !ok;
    }
    fclose(rf);
    printf("%d passed, %d failed\n", checked - failed, failed);
    ec_query_free(ch);
    ec_query_free(dj);
    ec_map_free(&by_osm);
    ec_graph_free(g);
    free(osm);
    return failed || checked < 20 ? 1 : 0;
}
