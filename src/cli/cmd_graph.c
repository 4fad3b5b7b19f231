/* cmd_graph.c - `ecorridor graph build|export|info`. */
#include "cli.h"
#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_json.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- graph build ---------------------------------------------------------------- */

static const cli_opt build_opts[] = {
    {"osm", "FILE", "OpenStreetMap .osm.pbf or .osm file"},
    {"corridor", "DIR", "corridor model directory (graph.graphml + segments.csv)"},
    {"dimacs", "FILE.gr", "DIMACS shortest-path graph"},
    {"co", "FILE.co", "DIMACS coordinates for --dimacs"},
    {"vehicle", "NAME|FILE", "vehicle class: truck-40t (default), truck-40t-hazmat, truck-18t, "
                             "unrestricted, or a JSON file"},
    {"metric", "time|distance", "what routes minimise (default time)"},
    {"witness-limit", "N", "nodes settled per witness search while contracting (default 500)"},
    {"out", "G.ecg", "graph file to write"},
    {"json", NULL, "print the summary as JSON"},
    {NULL, NULL, NULL},
};

static int run_build(int argc, char **argv);

const cli_cmd cmd_graph_build = {
    "graph build",
    "graph build (--osm FILE | --corridor DIR | --dimacs FILE.gr [--co FILE.co]) [--vehicle "
    "NAME|FILE] --out G.ecg",
    "Load a road network, keep what the vehicle class may use, contract it and save it.",
    build_opts, run_build, NULL};

static int run_build(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_graph_build, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *osm = cli_get(&a, "osm"), *cor = cli_get(&a, "corridor"),
               *dim = cli_get(&a, "dimacs"), *out = cli_get(&a, "out");
    if (!!osm + !!cor + !!dim != 1)
        return cli_usage_error(&cmd_graph_build, "give exactly one of --osm, --corridor, --dimacs");
    if (!out) return cli_usage_error(&cmd_graph_build, "--out G.ecg is required");
    if (cli_get(&a, "co") && !dim) return cli_usage_error(&cmd_graph_build, "--co goes with --dimacs");
    ec_load_opts_t lo;
    memset(&lo, 0, sizeof lo);
    const char *metric = cli_get(&a, "metric");
    if (!metric || !strcmp(metric, "time")) lo.metric = EC_METRIC_TIME;
    else if (!strcmp(metric, "distance")) lo.metric = EC_METRIC_DISTANCE;
    else return cli_usage_error(&cmd_graph_build, "--metric must be time or distance, not \"%s\"", metric);
    ec_ch_opts_t co = {500, 1};
    const char *wl = cli_get(&a, "witness-limit");
    int64_t v;
    if (wl) {
        if (ec_parse_i64(wl, &v) || v < 1 || v > 1000000)
            return cli_usage_error(&cmd_graph_build, "--witness-limit must be 1..1000000");
        co.witness_settle_limit = (uint32_t)v;
    }
    ec_err rc = ec_vehicle_class_resolve(cli_get(&a, "vehicle") ? cli_get(&a, "vehicle") : "truck-40t",
                                         &lo.vehicle);
    if (rc) return cli_error(rc);

    int64_t t0 = ec_time_mono_ns();
    ec_graph *g = NULL;
    if (osm) rc = ec_graph_load_osm(osm, &lo, &g);
    else if (cor) rc = ec_graph_load_corridor(cor, &lo, &g);
    else rc = ec_graph_load_dimacs(dim, cli_get(&a, "co"), &lo, &g);
    if (rc) return cli_error(rc);
    double load_s = (double)(ec_time_mono_ns() - t0) / 1e9;
    if ((rc = ec_ch_build(g, &co)) || (rc = ec_graph_save(g, out))) {
        ec_graph_free(g);
        return cli_error(rc);
    }
    if (cli_flag(&a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        ec_jw *w = &j.w;
        ec_jw_obj_begin(w);
        ec_jw_key(w, "out"), ec_jw_str(w, out);
        ec_jw_key(w, "vehicle"), ec_jw_str(w, g->vehicle.name);
        ec_jw_key(w, "nodes"), ec_jw_int(w, g->n_nodes);
        ec_jw_key(w, "arcs"), ec_jw_int(w, g->n_arcs);
        ec_jw_key(w, "ch_arcs"), ec_jw_int(w, (int64_t)g->n_up + g->n_down);
        ec_jw_key(w, "load_s"), ec_jw_num(w, load_s, 3);
        ec_jw_key(w, "contract_s"), ec_jw_num(w, g->build_seconds, 3);
        ec_jw_obj_end(w);
        cli_json_print(&j);
    } else {
        printf("wrote %s: %u nodes, %u arcs, %u hierarchy arcs; vehicle %s; loaded in %.2f s, "
               "contracted in %.2f s\n",
               out, g->n_nodes, g->n_arcs, g->n_up + g->n_down, g->vehicle.name, load_s,
               g->build_seconds);
    }
    ec_graph_free(g);
    return EXIT_OK;
}

/* ---- graph export ----------------------------------------------------------------- */

static const cli_opt export_opts[] = {
    {"graph", "G.ecg", "graph file"},
    {"out-dir", "DIR", "directory for nodes.csv and edges.csv (created if absent)"},
    {NULL, NULL, NULL},
};

static int run_export(int argc, char **argv);

const cli_cmd cmd_graph_export = {
    "graph export", "graph export --graph G.ecg --out-dir DIR",
    "Write the vehicle-legal graph as nodes.csv (id,lat,lon) and edges.csv "
    "(from,to,length_m,duration_s) so other tools can check answers.",
    export_opts, run_export, NULL};

/* Writes one file through a temporary name, so a failure leaves no half file. */
static ec_err write_csv(const ec_graph *g, const char *dir, int edges)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, edges ? "edges.csv" : "nodes.csv");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return ec_fail(EC_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    if (!edges) {
        fputs("id,lat,lon\n", f);
        for (uint32_t v = 0; v < g->n_nodes; v++)
            fprintf(f, "%u,%.7f,%.7f\n", v, g->coord[v].lat_e7 / 1e7, g->coord[v].lon_e7 / 1e7);
    } else {
        fputs("from,to,length_m,duration_s\n", f);
        for (uint32_t v = 0; v < g->n_nodes; v++)
            for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++)
                fprintf(f, "%u,%u,%u.%02u,%u.%03u\n", v, g->arcs[e].to, g->arcs[e].length_cm / 100,
                        g->arcs[e].length_cm % 100, g->arcs[e].duration_ms / 1000,
                        g->arcs[e].duration_ms % 1000);
    }
    int bad = ferror(f);
    if (fflush(f) || fsync(fileno(f))) bad = 1;
    if (fclose(f)) bad = 1;
    if (bad || rename(tmp, path)) {
        unlink(tmp);
        return ec_fail(EC_EIO, "%s: write failed", path);
    }
    return EC_OK;
}

static int run_export(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_graph_export, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *gp = cli_get(&a, "graph"), *dir = cli_get(&a, "out-dir");
    if (!gp || !dir) return cli_usage_error(&cmd_graph_export, "--graph and --out-dir are required");
    ec_graph *g;
    ec_err rc = ec_graph_open(gp, &g);
    if (rc) return cli_error(rc);
    if (mkdir(dir, 0755) && errno != EEXIST) {
        ec_graph_free(g);
        return cli_error(ec_fail(EC_EIO, "%s: cannot create directory: %s", dir, strerror(errno)));
    }
    if ((rc = write_csv(g, dir, 0)) || (rc = write_csv(g, dir, 1))) {
        ec_graph_free(g);
        return cli_error(rc);
    }
    printf("wrote %s/nodes.csv (%u nodes) and %s/edges.csv (%u edges)\n", dir, g->n_nodes, dir,
           g->n_arcs);
    ec_graph_free(g);
    return EXIT_OK;
}

/* ---- graph info ------------------------------------------------------------------- */

static const cli_opt info_opts[] = {
    {"graph", "G.ecg", "graph file"},
    {"json", NULL, "print as JSON"},
    {NULL, NULL, NULL},
};

static int run_info(int argc, char **argv);

const cli_cmd cmd_graph_info = {"graph info", "graph info --graph G.ecg [--json]",
                                "Show a graph file's counts, extent, vehicle class and build time.",
                                info_opts, run_info, NULL};

static const char *source_kind_name(ec_source_kind k)
{
    return k == EC_SRC_OSM ? "osm" : k == EC_SRC_CORRIDOR ? "corridor" : "dimacs";
}

static int run_info(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_graph_info, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *gp = cli_get(&a, "graph");
    if (!gp) return cli_usage_error(&cmd_graph_info, "--graph is required");
    ec_graph *g;
    ec_err rc = ec_graph_open(gp, &g);
    if (rc) return cli_error(rc);
    double lat0 = 90, lat1 = -90, lon0 = 180, lon1 = -180, km = 0;
    for (uint32_t v = 0; v < g->n_nodes; v++) {
        ec_latlon_t p = ec_graph_point(g, v);
        lat0 = fmin(lat0, p.lat), lat1 = fmax(lat1, p.lat);
        lon0 = fmin(lon0, p.lon), lon1 = fmax(lon1, p.lon);
    }
    for (uint32_t e = 0; e < g->n_arcs; e++) km += g->arcs[e].length_cm / 1e5;
    char built[32];
    ec_time_format_iso(g->built_at_s, built, sizeof built);
    const ec_vehicle_class_t *vc = &g->vehicle;
    if (cli_flag(&a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        ec_jw *w = &j.w;
        ec_jw_obj_begin(w);
        ec_jw_key(w, "source"), ec_jw_str(w, g->source);
        ec_jw_key(w, "source_kind"), ec_jw_str(w, source_kind_name(g->source_kind));
        ec_jw_key(w, "metric"), ec_jw_str(w, g->metric == EC_METRIC_TIME ? "time" : "distance");
        ec_jw_key(w, "nodes"), ec_jw_int(w, g->n_nodes);
        ec_jw_key(w, "arcs"), ec_jw_int(w, g->n_arcs);
        ec_jw_key(w, "ways"), ec_jw_int(w, g->n_ways);
        ec_jw_key(w, "ch_arcs"), ec_jw_int(w, (int64_t)g->n_up + g->n_down);
        ec_jw_key(w, "arc_km"), ec_jw_num(w, km, 1);
        ec_jw_key(w, "bbox");
        ec_jw_arr_begin(w);
        ec_jw_num(w, lon0, 7), ec_jw_num(w, lat0, 7), ec_jw_num(w, lon1, 7), ec_jw_num(w, lat1, 7);
        ec_jw_arr_end(w);
        ec_jw_key(w, "vehicle");
        ec_jw_obj_begin(w);
        ec_jw_key(w, "name"), ec_jw_str(w, vc->name);
        ec_jw_key(w, "height_m"), ec_jw_num(w, vc->height_m, 2);
        ec_jw_key(w, "width_m"), ec_jw_num(w, vc->width_m, 2);
        ec_jw_key(w, "length_m"), ec_jw_num(w, vc->length_m, 2);
        ec_jw_key(w, "weight_t"), ec_jw_num(w, vc->weight_t, 2);
        ec_jw_key(w, "axle_load_t"), ec_jw_num(w, vc->axle_load_t, 2);
        ec_jw_key(w, "hazmat"), ec_jw_bool(w, vc->hazmat);
        ec_jw_key(w, "max_speed_kmh"), ec_jw_num(w, vc->max_speed_kmh, 1);
        ec_jw_obj_end(w);
        ec_jw_key(w, "built_at"), ec_jw_str(w, built);
        ec_jw_key(w, "contract_s"), ec_jw_num(w, g->build_seconds, 3);
        ec_jw_obj_end(w);
        cli_json_print(&j);
    } else {
        printf("graph      %s\n", gp);
        printf("source     %s (%s)\n", g->source, source_kind_name(g->source_kind));
        printf("metric     %s\n", g->metric == EC_METRIC_TIME ? "time" : "distance");
        printf("nodes      %u\n", g->n_nodes);
        printf("arcs       %u (%.1f km of directed road)\n", g->n_arcs, km);
        if (g->way_ids) printf("osm ways   %u\n", g->n_ways);
        printf("hierarchy  %u arcs (%u up, %u down)\n", g->n_up + g->n_down, g->n_up, g->n_down);
        printf("bbox       lat %.5f..%.5f, lon %.5f..%.5f\n", lat0, lat1, lon0, lon1);
        printf("vehicle    %s: %.2f m high, %.2f m wide, %.1f m long, %.1f t, %.1f t/axle, "
               "hazmat %s, %.0f km/h\n",
               vc->name, vc->height_m, vc->width_m, vc->length_m, vc->weight_t, vc->axle_load_t,
               vc->hazmat ? "yes" : "no", vc->max_speed_kmh);
        printf("built      %s (contraction %.2f s)\n", built, g->build_seconds);
    }
    ec_graph_free(g);
    return EXIT_OK;
}
