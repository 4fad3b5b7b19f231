/* reference_heidelberg.c - the OSM loader, told to read Heidelberg the way the
 * reference distances were computed (every road class, no access filtering,
 * weight = length), reproduces reference_queries.tsv by CH and by Dijkstra;
 * after a save and reopen, every way's ref and name are those of
 * heidelberg_ways.tsv, and the extract's two rest areas (OSM ways 276725958
 * and 276740015, highway=rest_area, read from the PBF by hand: centres
 * 49.4130015,8.6755196 and 49.4177974,8.7260209) are found.
 *
 * usage: reference_heidelberg DATA_DIR   (exit 77 = skipped: data absent)
 */
#include "ecorridor/ec_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_REF_NODES 1000000

/* The n-th tab-separated field of line (its end at the tab or newline). */
static const char *field(const char *line, int n, size_t *len)
{
    while (n-- > 0) {
        line = strchr(line, '\t');
        if (!line) return NULL;
        line++;
    }
    *len = strcspn(line, "\t\r\n");
    return line;
}

/* 0 when got is want, or want cut to the graph's limit at a character boundary. */
static int same_road_string(const char *got, const char *want, size_t want_len)
{
    size_t n = strlen(got);
    if (n == want_len) return memcmp(got, want, n);
    return !(want_len > EC_ROAD_STR_MAX && n <= EC_ROAD_STR_MAX && n + 4 > EC_ROAD_STR_MAX && memcmp(got, want, n) == 0);
}

/* Every way of the graph against heidelberg_ways.tsv; returns failures. */
static int check_roads(const ec_graph *g, const char *ways_path)
{
    gzFile f = gzopen(ways_path, "rb");
    if (!f) {
        printf("FAIL %s: cannot open\n", ways_path);
        return 1;
    }
    ec_map row; /* OSM way id -> index into lines */
    ec_map_init(&row, 65536);
    ec_vec lines;
    ec_vec_init(&lines, sizeof(char *));
    char line[4096];
    while (gzgets(f, line, sizeof line)) {
        size_t n;
        const char *id = field(line, 1, &n);
        if (line[0] == '#' || !id) continue;
        char *copy = strdup(line);
        ec_vec_push(&lines, &copy);
        ec_map_put(&row, (uint64_t)strtoll(id, NULL, 10), lines.len - 1);
    }
    gzclose(f);
    int bad = 0, named = 0;
    uint32_t *seen = calloc(g->n_ways, sizeof *seen);
    for (uint32_t a = 0; a < g->n_arcs; a++) {
        uint32_t w = g->arcs[a].way;
        if (w == EC_NO_WAY || seen[w]++) continue;
        uint64_t k;
        const char *ref, *name, *want_ref, *want_name;
        size_t lr = 0, ln = 0;
        ec_graph_arc_road(g, a, &ref, &name);
        if (!ec_map_get(&row, (uint64_t)g->way_ids[w], &k)) {
            printf("FAIL way %lld is not in %s\n", (long long)g->way_ids[w], ways_path);
            bad++;
            continue;
        }
        const char *l = ((char **)lines.data)[k];
        want_ref = field(l, 13, &lr), want_name = field(l, 14, &ln);
        if (!want_ref || !want_name || same_road_string(ref, want_ref, lr) || same_road_string(name, want_name, ln)) {
            if (bad < 10) printf("FAIL way %lld: ref \"%s\" name \"%s\", expected \"%.*s\" \"%.*s\"\n",
                                 (long long)g->way_ids[w], ref, name, (int)lr, want_ref ? want_ref : "", (int)ln,
                                 want_name ? want_name : "");
            bad++;
        }
        named += ref[0] || name[0];
    }
    printf("%s roads: %u ways, %d with a ref or name, %d differ from %s\n", bad ? "FAIL" : "ok  ", g->n_ways, named, bad,
           ways_path);
    for (size_t i = 0; i < lines.len; i++) free(((char **)lines.data)[i]);
    ec_vec_free(&lines);
    ec_map_free(&row);
    free(seen);
    return bad + (named < 1000);
}

static int check_rest_areas(const ec_graph *g)
{
    const ec_latlon_t want[2] = {{49.4130015, 8.6755196}, {49.4177974, 8.7260209}};
    int bad = g->n_rest != 2;
    for (int i = 0; i < 2; i++) {
        /* 300 m off, within 500 m: found, at its centre, unnamed. */
        ec_latlon_t near = {want[i].lat + 0.0027, want[i].lon}, at;
        const char *name = "?", *kind = "?";
        int rc = ec_graph_rest_area(g, near, 500, &at, &name, &kind);
        int ok = rc == 0 && fabs(at.lat - want[i].lat) < 1e-7 && fabs(at.lon - want[i].lon) < 1e-7 && !strcmp(name, "") &&
                 !strcmp(kind, "rest_area") && ec_graph_rest_area(g, near, 250, &at, &name, &kind) == -1;
        printf("%s rest area %.7f,%.7f: %s\n", ok ? "ok  " : "FAIL", want[i].lat, want[i].lon,
               rc ? "not found" : kind);
        bad += !ok;
    }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    char pbf[4096], nodes[4096], refs[4096], ways[4096];
    snprintf(pbf, sizeof pbf, "%s/roads/heidelberg/heidelberg.test.pbf", argv[1]);
    snprintf(nodes, sizeof nodes, "%s/roads/heidelberg/heidelberg_nodes.tsv.gz", argv[1]);
    snprintf(refs, sizeof refs, "%s/roads/heidelberg/reference_queries.tsv", argv[1]);
    snprintf(ways, sizeof ways, "%s/roads/heidelberg/heidelberg_ways.tsv.gz", argv[1]);
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
    ec_graph *built, *g;
    char tmp[] = "/tmp/ec_refhdXXXXXX";
    int fd = mkstemp(tmp);
    if (fd >= 0) close(fd);
    if (ec_vehicle_class_builtin("unrestricted", &o.vehicle) || ec_graph_load_osm(pbf, &o, &built) ||
        ec_ch_build(built, NULL) || ec_graph_save(built, tmp) || ec_graph_open(tmp, &g)) {
        fprintf(stderr, "load failed: %s\n", ec_errmsg());
        return 1;
    }
    unlink(tmp);
    ec_graph_free(built);
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
    failed += check_roads(g, ways) + check_rest_areas(g);
    printf("%d passed, %d failed\n", checked - failed, failed);
    ec_query_free(ch);
    ec_query_free(dj);
    ec_map_free(&by_osm);
    ec_graph_free(g);
    free(osm);
    return failed || checked < 20 ? 1 : 0;
}
