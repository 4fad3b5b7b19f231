/* cmd_route.c - `ecorridor route`: fastest truck-legal paths, one or a batch. */
#include "cli.h"
#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_route.h"

#include <string.h>

static const cli_opt route_opts[] = {
    {"graph", "G.ecg", "graph file from `ecorridor graph build`"},
    {"from", "LAT,LON", "start point (WGS84 degrees)"},
    {"to", "LAT,LON", "destination point"},
    {"batch", "PAIRS.csv", "CSV with from_lat,from_lon,to_lat,to_lon; one JSON line per row"},
    {"algo", "ch|dijkstra", "contraction hierarchy (default) or plain Dijkstra"},
    {"snap-radius", "M", "farthest a point may lie from a usable road (default 5000 m)"},
    {"geometry", NULL, "include the route as a GeoJSON LineString"},
    {"json", NULL, "print JSON instead of a table"},
    {"sites", "SITES.csv", "plan charging stops at these sites (docs/sites.md)"},
    {"vehicle", "NAME|FILE", "electric truck profile with --sites (default eactros600)"},
    {"soc", "F", "state of charge at departure, 0..1 (with --sites; default 0.9)"},
    {"min-soc", "F", "never below this state of charge (default 0.1)"},
    {"arrival-soc", "F", "at least this at the destination (default: --min-soc)"},
    {"payload-kg", "N", "payload (default: the profile's)"},
    {"temp-c", "N", "outside temperature (default 20)"},
    {"rules", "eu|us|none", "driver rules: EU 561/2006 (default), US HOS, or none"},
    {"driven-h", "H", "hours driven since the last break (default 0)"},
    {"depart", "TIME", "departure: now (default), or ISO 8601 with its zone: 2026-11-24T07:00+01:00, 2026-11-24 06:00Z"},
    {"tz", "ZONE", "show the table's times in this zone, e.g. Europe/Berlin or UTC (default: each place's own)"},
    {"objective", "time|cost", "earliest arrival (default) or lowest charging cost"},
    {"avoid-site", "ID", "do not use this site (repeatable)", 1},
    {"stop-overhead-min", "M", "minutes to pull in, plug in and pay at each charging stop (default 5)"},
    {NULL, NULL, NULL},
};

#include "trip.h"

static int run_route(int argc, char **argv);

const cli_cmd cmd_route = {
    "route",
    "route --graph G.ecg (--from LAT,LON --to LAT,LON | --batch PAIRS.csv) [--sites SITES.csv [--vehicle NAME] "
    "[--soc F] [--depart TIME] [--rules eu|us|none] [--tz ZONE] ...] [--algo ch|dijkstra] [--geometry] [--json]",
    "Without --sites: the fastest route for the graph's vehicle class between two points, with the roads it "
    "takes. With --sites: an electric truck's trip, with where and how long to charge, the driver's breaks and "
    "rests (at stops and on the road), times in each place's zone, and the charging cost.",
    route_opts, run_route, NULL};


typedef struct {
    ec_graph *g;
    ec_query *q;
    double snap_m;
    int geometry;
    const char *algo;
} ctx;

static void put_point(ec_jw *w, const char *key, ec_latlon_t p)
{
    ec_jw_key(w, key);
    ec_jw_arr_begin(w);
    ec_jw_num(w, p.lat, 7);
    ec_jw_num(w, p.lon, 7);
    ec_jw_arr_end(w);
}

/* Snaps p; off the map, says whether the point the other way round is on it
 * (latitude and longitude swapped are a common slip). */
static ec_err snap_point(const ec_graph *g, ec_latlon_t p, double max_m, ec_snap_t *out)
{
    ec_err rc = ec_graph_snap(g, p, max_m, out);
    if (rc != EC_ENOTFOUND) return rc;
    char msg[256];
    snprintf(msg, sizeof msg, "%s", ec_errmsg());
    ec_latlon_t sw = {p.lon, p.lat};
    ec_snap_t s2;
    if (sw.lat < -90 || sw.lat > 90 || ec_graph_snap(g, sw, max_m, &s2)) return ec_fail(rc, "%s", msg);
    return ec_fail(rc, "%s; did you mean %.6f,%.6f (latitude first)?", msg, sw.lat, sw.lon);
}

ec_err route_check_point(const ec_graph *g, ec_latlon_t p, double max_m)
{
    ec_snap_t s;
    return snap_point(g, p, max_m, &s);
}

/* Routes one pair; on success writes the JSON object members into w. */
static ec_err route_one(ctx *c, ec_latlon_t a, ec_latlon_t b, ec_snap_t *sa, ec_snap_t *sb,
                        ec_path_t *p, double *us)
{
    ec_err rc;
    if ((rc = snap_point(c->g, a, c->snap_m, sa)) || (rc = snap_point(c->g, b, c->snap_m, sb)))
        return rc;
    int64_t t0 = ec_time_mono_ns();
    rc = ec_query_route(c->q, sa, sb, p);
    *us = (double)(ec_time_mono_ns() - t0) / 1e3;
    if (rc == EC_EUNREACHABLE)
        return ec_fail(rc, "no drivable route from %.6f,%.6f to %.6f,%.6f for vehicle class %s",
                       a.lat, a.lon, b.lat, b.lon, c->g->vehicle.name);
    return rc;
}

/* The OSM way of an arc (none for UINT32_MAX), once for a run of arcs on it. */
static void put_way(ec_jw *w, const ec_graph *g, uint32_t arc, uint32_t *last)
{
    if (arc == UINT32_MAX) return;
    uint32_t way = g->arcs[arc].way;
    if (way != EC_NO_WAY && way != *last) ec_jw_int(w, g->way_ids[way]);
    *last = way;
}

static void json_route(ctx *c, ec_jw *w, const ec_snap_t *sa, const ec_snap_t *sb,
                       const ec_path_t *p, double us)
{
    const ec_graph *g = c->g;
    ec_jw_key(w, "distance_m"), ec_jw_num(w, p->distance_m, 2);
    ec_jw_key(w, "duration_s"), ec_jw_num(w, p->duration_s, 3);
    ec_jw_key(w, "algo"), ec_jw_str(w, c->algo);
    ec_jw_key(w, "vehicle"), ec_jw_str(w, g->vehicle.name);
    put_point(w, "from_snapped", sa->point);
    put_point(w, "to_snapped", sb->point);
    ec_jw_key(w, "query_us"), ec_jw_num(w, us, 1);
    if (g->way_ids) {
        /* The ways of the arcs driven, the part-driven ones at the ends
         * included, as the table names them: not the arc a point on a
         * junction snapped to but left by another. */
        ec_jw_key(w, "osm_way_ids");
        ec_jw_arr_begin(w);
        uint32_t last = EC_NO_WAY, first_arc, last_arc;
        ec_path_end_arcs(sa, sb, p, &first_arc, &last_arc);
        put_way(w, g, first_arc, &last);
        for (uint32_t i = 0; i < p->n_arcs; i++) put_way(w, g, p->arcs[i], &last);
        put_way(w, g, last_arc, &last);
        ec_jw_arr_end(w);
    }
    if (c->geometry) {
        ec_jw_key(w, "geometry");
        ec_route_geojson(g, sa, sb, p, w);
    }
}

static void fmt_duration(double s, char *out, size_t n)
{
    long t = (long)(s + 0.5);
    snprintf(out, n, "%ld:%02ld", t / 3600, (t / 60) % 60);
}

/* Name for a snapped end: the named node it lies on, else its coordinates. */
static void end_label(const ec_graph *g, const ec_snap_t *sn, char *out, size_t n)
{
    uint32_t v = sn->frac < 0.001 ? sn->tail : sn->frac > 0.999 ? sn->head : UINT32_MAX;
    const char *name = v != UINT32_MAX ? ec_graph_node_name(g, v) : NULL;
    if (name) snprintf(out, n, "%s", name);
    else snprintf(out, n, "%.5f,%.5f", sn->point.lat, sn->point.lon);
}

/* Length and time from a snapped point to the first node of the path. */
static void lead(const ec_graph *g, const ec_snap_t *sn, uint32_t node, int at_start, double *km,
                 double *s)
{
    uint32_t arc = sn->arc;
    double f = at_start ? 1.0 - sn->frac : sn->frac;
    if ((at_start && node != sn->head) || (!at_start && node != sn->tail)) {
        arc = sn->rev_arc;
        f = 1.0 - f;
    }
    if (arc == UINT32_MAX) return;
    *km += g->arcs[arc].length_cm / 1e5 * f;
    *s += g->arcs[arc].duration_ms / 1e3 * f;
}

/* Prints s in a column `width` characters wide: printf counts bytes, and
 * road names are UTF-8 ("Köln–Bonn"), so characters are counted here. */
static void cell(const char *s, int width)
{
    int n = 0;
    const char *c = s;
    for (; *c; c++) {
        if (((unsigned char)*c & 0xc0) == 0x80) continue;
        if (n == width) break;
        n++;
    }
    printf("%.*s%*s", (int)(c - s), s, width - n + 1, "");
}

static void row(const char *label, const char *road, double km, double s)
{
    char dur[32];
    fmt_duration(s, dur, sizeof dur);
    printf("  ");
    cell(label, 28);
    cell(road, 32);
    printf("%9.1f %8s\n", km, dur);
}

/* The road an arc lies on, as the table names it: "A 5 Frankfurter Strasse",
 * "A 5" or the name alone; "" when the graph does not know. */
static void road_label(const char *ref, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", ref, *ref && *name ? " " : "", name);
}

/* A run of arcs on one road: it goes on while the reference or the name stays
 * the same (a B 3 that changes its street name, or a street that leaves a
 * shared reference), and through arcs the graph knows no road for. */
typedef struct {
    const char *ref, *name;
} road_run;

static int road_next(const ec_graph *g, uint32_t arc, road_run *run)
{
    const char *ref, *name;
    ec_graph_arc_road(g, arc, &ref, &name);
    if (!*ref && !*name) return 0;
    int same = (*ref && !strcmp(ref, run->ref)) || (*name && !strcmp(name, run->name));
    if (!same) {
        run->ref = ref, run->name = name;
        return 1;
    }
    if (*ref) run->ref = ref;
    if (*name) run->name = name;
    return 0;
}

/* The readable table: the places passed (named nodes) and every change of
 * road, with running totals. */
static void print_table(ctx *c, ec_latlon_t a, ec_latlon_t b, const ec_snap_t *sa,
                        const ec_snap_t *sb, const ec_path_t *p)
{
    const ec_graph *g = c->g;
    char dur[32], label[64], road[160] = "";
    fmt_duration(p->duration_s, dur, sizeof dur);
    printf("route %.5f,%.5f -> %.5f,%.5f   vehicle %s   algo %s\n", a.lat, a.lon, b.lat, b.lon,
           g->vehicle.name, c->algo);
    printf("distance %.1f km   duration %s h:mm   (start %.0f m, end %.0f m from the road)\n\n",
           p->distance_m / 1000.0, dur, sa->offset_m, sb->offset_m);
    printf("  %-28s %-32s %9s %8s\n", "via", "road from here", "km", "h:mm");
    int rows = 0;
    road_run run = {"", ""};
    /* The first row names the road the route leaves on: the arc it drives
     * part of at its start, else the path's first arc. */
    uint32_t first_arc, last_arc;
    ec_path_end_arcs(sa, sb, p, &first_arc, &last_arc);
    road_next(g, first_arc != UINT32_MAX ? first_arc : p->n_arcs ? p->arcs[0] : sa->arc, &run);
    road_label(run.ref, run.name, road, sizeof road);
    end_label(g, sa, label, sizeof label);
    row(label, road, 0, 0);
    if (p->first_node != UINT32_MAX) {
        double km = 0, s = 0;
        lead(g, sa, p->first_node, 1, &km, &s);
        uint32_t v = p->first_node;
        for (uint32_t i = 0; i < p->n_arcs; i++) {
            const char *name = ec_graph_node_name(g, v);
            int new_road = road_next(g, p->arcs[i], &run);
            road_label(run.ref, run.name, road, sizeof road);
            /* A node the route starts on is already the first row. */
            int at_start = i == 0 && km < 0.0005;
            if (!at_start && (name || new_road)) row(name ? name : "", road, km, s), rows++;
            const ec_arc_t *arc = &g->arcs[p->arcs[i]];
            km += arc->length_cm / 1e5;
            s += arc->duration_ms / 1e3;
            v = arc->to;
        }
        const char *name = ec_graph_node_name(g, v);
        /* The last row's road is the arc the route drives part of at its end. */
        if (last_arc != UINT32_MAX) road_next(g, last_arc, &run);
        road_label(run.ref, run.name, road, sizeof road);
        if (name && p->distance_m / 1000.0 - km >= 0.0005) row(name, road, km, s), rows++;
    }
    end_label(g, sb, label, sizeof label);
    row(label, "", p->distance_m / 1000.0, p->duration_s);
    if (!rows && !road[0]) printf("\n(the graph names no roads or places along this route)\n");
}

static int run_batch(ctx *c, const char *path)
{
    ec_vec pairs;
    ec_vec_init(&pairs, sizeof(ec_latlon_t) * 2);
    ec_err rc = cli_read_pairs(path, &pairs);
    if (rc) {
        ec_vec_free(&pairs);
        return cli_error(rc);
    }
    ec_buf b;
    ec_buf_init(&b, 64u << 20);
    const ec_latlon_t *pp = pairs.data;
    for (size_t i = 0; i < pairs.len; i++) {
        ec_snap_t sa, sb;
        ec_path_t p;
        double us;
        ec_buf_reset(&b);
        ec_jw w;
        ec_jw_init(&w, &b);
        ec_jw_obj_begin(&w);
        ec_jw_key(&w, "row"), ec_jw_int(&w, (int64_t)i + 1);
        ec_errclear();
        rc = route_one(c, pp[2 * i], pp[2 * i + 1], &sa, &sb, &p, &us);
        if (rc) {
            ec_jw_key(&w, "error"), ec_jw_str(&w, rc == EC_ENOMEM ? ec_strerror(rc) : ec_errmsg());
        } else {
            json_route(c, &w, &sa, &sb, &p, us);
        }
        ec_jw_obj_end(&w);
        puts(b.data);
    }
    ec_buf_free(&b);
    ec_vec_free(&pairs);
    return EXIT_OK;
}

static int run_route(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_route, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *gp = cli_get(&a, "graph"), *from = cli_get(&a, "from"), *to = cli_get(&a, "to"),
               *batch = cli_get(&a, "batch"), *algo = cli_get(&a, "algo");
    if (!gp) return cli_usage_error(&cmd_route, "--graph is required");
    if (cli_get(&a, "sites")) return cli_trip(&cmd_route, &a);
    static const char *const trip_only[] = {"vehicle", "soc", "min-soc", "arrival-soc", "payload-kg", "temp-c",
                                            "rules", "driven-h", "depart", "tz", "objective", "avoid-site",
                                            "stop-overhead-min", NULL};
    for (int k = 0; trip_only[k]; k++)
        if (cli_get(&a, trip_only[k])) return cli_usage_error(&cmd_route, "--%s goes with --sites", trip_only[k]);
    if (batch ? (from || to) : !(from && to))
        return cli_usage_error(&cmd_route, "give --from and --to, or --batch");
    ec_latlon_t pa = {0, 0}, pb = {0, 0};
    if (from && ec_geo_parse(from, &pa))
        return cli_usage_error(&cmd_route, "--from \"%s\" is not LAT,LON in degrees", from);
    if (to && ec_geo_parse(to, &pb))
        return cli_usage_error(&cmd_route, "--to \"%s\" is not LAT,LON in degrees", to);
    ec_algo al = EC_ALGO_CH;
    if (algo && !strcmp(algo, "dijkstra")) al = EC_ALGO_DIJKSTRA;
    else if (algo && strcmp(algo, "ch"))
        return cli_usage_error(&cmd_route, "--algo must be ch or dijkstra, not \"%s\"", algo);
    ctx c = {NULL, NULL, 5000.0, cli_flag(&a, "geometry"), al == EC_ALGO_CH ? "ch" : "dijkstra"};
    const char *sr = cli_get(&a, "snap-radius");
    if (sr && (ec_parse_double(sr, &c.snap_m) || c.snap_m <= 0 || c.snap_m > 1e6))
        return cli_usage_error(&cmd_route, "--snap-radius must be 0..1000000 metres");
    ec_err rc = ec_graph_open(gp, &c.g);
    if (rc) return cli_error(rc);
    int code = EXIT_OK;
    if ((rc = ec_graph_snap_prepare(c.g)) || (rc = ec_query_new(c.g, al, &c.q))) {
        code = cli_error(rc);
        goto done;
    }
    if (batch) {
        code = run_batch(&c, batch);
        goto done;
    }
    ec_snap_t sa, sb;
    ec_path_t p;
    double us;
    if ((rc = route_one(&c, pa, pb, &sa, &sb, &p, &us))) {
        code = cli_error(rc);
        goto done;
    }
    if (cli_flag(&a, "json")) {
        cli_json j;
        cli_json_begin(&j);
        ec_jw_obj_begin(&j.w);
        put_point(&j.w, "from", pa);
        put_point(&j.w, "to", pb);
        json_route(&c, &j.w, &sa, &sb, &p, us);
        ec_jw_obj_end(&j.w);
        cli_json_print(&j);
    } else {
        print_table(&c, pa, pb, &sa, &sb, &p);
        if (c.geometry) {
            cli_json j;
            cli_json_begin(&j);
            ec_route_geojson(c.g, &sa, &sb, &p, &j.w);
            printf("\ngeometry ");
            cli_json_print(&j);
        }
    }
done:
    ec_query_free(c.q);
    ec_graph_free(c.g);
    return code;
}
