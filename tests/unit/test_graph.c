/* test_graph.c - loaders, contraction hierarchies, the graph file, snapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng = 99;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng >> 33) % n);
}

static ec_vehicle_class_t truck(void)
{
    ec_vehicle_class_t v;
    ec_vehicle_class_builtin("truck-40t", &v);
    return v;
}

/* A random sparse directed graph of n nodes. */
static ec_graph *random_graph(uint32_t n, uint32_t arcs)
{
    ec_netbuild *nb;
    assert_int_equal(ec_netbuild_new(&nb), EC_OK);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx;
        ec_latlon_t p = {49.0 + rnd(1000) * 1e-4, 8.0 + rnd(1000) * 1e-4};
        assert_int_equal(ec_netbuild_node(nb, i, p, NULL, &idx), EC_OK);
    }
    for (uint32_t i = 0; i < arcs; i++)
        ec_netbuild_arc(nb, rnd(n), rnd(n), 100 + rnd(10000), 1 + rnd(50), EC_NO_WAY);
    ec_vehicle_class_t v = truck();
    ec_graph *g;
    assert_int_equal(ec_netbuild_finish(nb, EC_METRIC_TIME, EC_SRC_DIMACS, &v, "random", &g), EC_OK);
    return g;
}

/* Floyd-Warshall: an independent all-pairs truth for small graphs. */
static uint64_t *floyd(const ec_graph *g)
{
    uint32_t n = g->n_nodes;
    uint64_t *d = malloc((size_t)n * n * sizeof *d);
    for (size_t i = 0; i < (size_t)n * n; i++) d[i] = UINT64_MAX / 4;
    for (uint32_t v = 0; v < n; v++) {
        d[(size_t)v * n + v] = 0;
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++) {
            uint64_t w = ec_arc_weight(g, &g->arcs[e]);
            if (w < d[(size_t)v * n + g->arcs[e].to]) d[(size_t)v * n + g->arcs[e].to] = w;
        }
    }
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < n; j++)
                if (d[(size_t)i * n + k] + d[(size_t)k * n + j] < d[(size_t)i * n + j])
                    d[(size_t)i * n + j] = d[(size_t)i * n + k] + d[(size_t)k * n + j];
    return d;
}

static void test_ch_equals_floyd_on_random_graphs(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++) {
        uint32_t n = 20 + rnd(60);
        ec_graph *g = random_graph(n, n * (1 + rnd(4)));
        ec_ch_opts_t o = {round % 2 ? 3 : 500, 0}; /* tiny witness limits too */
        assert_int_equal(ec_ch_build(g, &o), EC_OK);
        uint64_t *truth = floyd(g);
        ec_query *ch, *dj;
        assert_int_equal(ec_query_new(g, EC_ALGO_CH, &ch), EC_OK);
        assert_int_equal(ec_query_new(g, EC_ALGO_DIJKSTRA, &dj), EC_OK);
        uint32_t *all = malloc(n * sizeof *all), *m = malloc((size_t)n * n * sizeof *m);
        for (uint32_t i = 0; i < n; i++) all[i] = i;
        assert_int_equal(ec_query_many_to_many(ch, all, n, all, n, m), EC_OK);
        for (uint32_t s = 0; s < n; s++)
            for (uint32_t t = 0; t < n; t++) {
                uint64_t want = truth[(size_t)s * n + t];
                ec_path_t p;
                uint32_t w;
                ec_err rc = ec_query_route_nodes(ch, s, t, &p);
                if (want >= UINT64_MAX / 4) {
                    assert_int_equal(rc, EC_EUNREACHABLE);
                    assert_int_equal(m[(size_t)s * n + t], EC_INF_WEIGHT);
                    assert_int_equal(ec_query_weight_nodes(dj, s, t, &w), EC_EUNREACHABLE);
                    continue;
                }
                assert_int_equal(rc, EC_OK);
                assert_int_equal(p.weight, want);
                assert_int_equal(m[(size_t)s * n + t], want);
                assert_int_equal(ec_query_weight_nodes(dj, s, t, &w), EC_OK);
                assert_int_equal(w, want);
                /* The unpacked arcs join s to t and add up to the weight. */
                uint64_t sum = 0;
                uint32_t v = s;
                for (uint32_t k = 0; k < p.n_arcs; k++) {
                    assert_true(p.arcs[k] >= g->first_out[v] && p.arcs[k] < g->first_out[v + 1]);
                    sum += ec_arc_weight(g, &g->arcs[p.arcs[k]]);
                    v = g->arcs[p.arcs[k]].to;
                }
                assert_int_equal(v, t);
                assert_int_equal(sum, want);
            }
        free(all);
        free(m);
        free(truth);
        ec_query_free(ch);
        ec_query_free(dj);
        ec_graph_free(g);
    }
}

static char *write_tmp(const char *content, size_t len)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ec_test_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static ec_graph *demo(void)
{
    ec_load_opts_t o = {truck(), EC_METRIC_TIME};
    ec_graph *g;
    assert_int_equal(ec_graph_load_corridor(EC_DEMO "/rhine_alpine", &o, &g), EC_OK);
    assert_int_equal(ec_ch_build(g, NULL), EC_OK);
    return g;
}

static void test_demo_region(void **state)
{
    (void)state;
    ec_graph *g = demo();
    assert_int_equal(g->n_nodes, 21);
    assert_int_equal(g->n_arcs, 50);
    assert_string_equal(ec_graph_node_name(g, 0), "Rotterdam");
    /* Speeds come from segments.csv, capped at the truck's 80 km/h. */
    assert_int_equal(g->arcs[0].duration_ms, (uint32_t)llround(g->arcs[0].length_cm / 100.0 / (80 / 3.6) * 1000));
    assert_int_equal(ec_graph_snap_prepare(g), EC_OK);
    ec_snap_t a, b;
    ec_latlon_t rot = {51.9225, 4.4792}, bas = {47.5596, 7.5886}, sea = {55.0, 2.0};
    assert_int_equal(ec_graph_snap(g, rot, 5000, &a), EC_OK);
    assert_true(a.offset_m < 1.0);
    assert_int_equal(ec_graph_snap(g, bas, 5000, &b), EC_OK);
    assert_int_equal(ec_graph_snap(g, sea, 5000, &b), EC_ENOTFOUND);
    assert_non_null(strstr(ec_errmsg(), "off the map"));
    assert_int_equal(ec_graph_snap(g, bas, 5000, &b), EC_OK);
    ec_query *q;
    assert_int_equal(ec_query_new(g, EC_ALGO_CH, &q), EC_OK);
    ec_path_t p;
    assert_int_equal(ec_query_route(q, &a, &b, &p), EC_OK);
    /* Rotterdam-Utrecht-Arnhem-Emmerich-...-Heidelberg-Karlsruhe-...-Basel, all at 80 km/h. */
    assert_true(fabs(p.distance_m - 836000) < 1.0);
    assert_true(fabs(p.duration_s - 836000 / (80 / 3.6)) < 1.0);
    /* Two points on one two-way road, the destination behind the start: the
     * route drives straight back along the road (Utrecht -> Arnhem is 64 km). */
    ec_latlon_t ut = {52.0907, 5.1214}, ar = {51.9851, 5.8987};
    ec_latlon_t p1 = {ut.lat + (ar.lat - ut.lat) * 0.7, ut.lon + (ar.lon - ut.lon) * 0.7};
    ec_latlon_t p2 = {ut.lat + (ar.lat - ut.lat) * 0.2, ut.lon + (ar.lon - ut.lon) * 0.2};
    for (int algo = 0; algo < 2; algo++) {
        ec_query *q2;
        assert_int_equal(ec_query_new(g, algo ? EC_ALGO_DIJKSTRA : EC_ALGO_CH, &q2), EC_OK);
        assert_int_equal(ec_graph_snap(g, p1, 5000, &a), EC_OK);
        assert_int_equal(ec_graph_snap(g, p2, 5000, &b), EC_OK);
        assert_int_equal(ec_query_route(q2, &a, &b, &p), EC_OK);
        assert_true(fabs(p.distance_m - 0.5 * 64000) < 50.0);
        /* Straight back along the road: its opposite arc at both ends. */
        uint32_t e0, e1;
        ec_path_end_arcs(&a, &b, &p, &e0, &e1);
        assert_true(e0 == e1 && e0 != UINT32_MAX && g->arcs[e0].to == (a.arc == e0 ? a.head : a.tail));
        assert_true(ec_graph_point(g, g->arcs[e0].to).lat > 52.0); /* towards Utrecht */
        assert_int_equal(ec_query_route(q2, &b, &a, &p), EC_OK);
        assert_true(fabs(p.distance_m - 0.5 * 64000) < 50.0);
        ec_query_free(q2);
    }
    ec_query_free(q);
    ec_graph_free(g);
}

static void test_file_roundtrip_and_corruption(void **state)
{
    (void)state;
    ec_graph *g = demo();
    char path[] = "/tmp/ec_test_graphXXXXXX";
    close(mkstemp(path));
    assert_int_equal(ec_graph_save(g, path), EC_OK);
    ec_graph *h;
    assert_int_equal(ec_graph_open(path, &h), EC_OK);
    assert_int_equal(h->n_nodes, g->n_nodes);
    assert_int_equal(h->n_up, g->n_up);
    assert_string_equal(h->vehicle.name, "truck-40t");
    assert_string_equal(ec_graph_node_name(h, 20), "Basel");
    /* Elevations come back as written in the GraphML. */
    assert_non_null(h->elev_m);
    assert_true(h->elev_m[20] == 260.0f && h->elev_m[11] == 230.0f);
    ec_graph_free(h);
    char *img;
    size_t len;
    assert_int_equal(ec_read_file(path, 1 << 20, &img, &len), EC_OK);
    /* Any flipped byte is caught by a checksum; opening never crashes. */
    for (size_t i = 0; i < len; i += 7) {
        img[i] ^= 0x5a;
        ec_err rc = ec_graph_open_mem(img, len, "x.ecg", &h);
        if (rc == EC_OK) fail_msg("byte %zu of %zu", i, len);
        img[i] ^= 0x5a;
    }
    /* Truncated anywhere. */
    for (size_t cut = 0; cut < len; cut += len / 13 + 1)
        assert_int_not_equal(ec_graph_open_mem(img, cut, "x.ecg", &h), EC_OK);
    /* Another format version. */
    img[8] = 1;
    assert_int_equal(ec_graph_open_mem(img, len, "old.ecg", &h), EC_EVERSION);
    assert_non_null(strstr(ec_errmsg(), "old.ecg: graph file format version 1"));
    img[8] = 3;
    assert_int_equal(ec_graph_open_mem(img, len, "x.ecg", &h), EC_OK);
    ec_graph_free(h);
    assert_int_equal(ec_graph_open_mem("hello world", 11, "t.txt", &h), EC_ECORRUPT);
    ec_free(img);
    unlink(path);
    ec_graph_free(g);
}

/* A junction A whose lowest-numbered arc is a one-way road to B, a long way
 * round to T; the short way leaves A by its other arc, through C. T's
 * lowest-numbered arc is the one-way road in from B. */
static ec_graph *junctions(void)
{
    ec_netbuild *nb;
    assert_int_equal(ec_netbuild_new(&nb), EC_OK);
    const ec_latlon_t at[5] = {{49.0, 8.0}, {49.0, 8.01}, {49.01, 8.0}, {49.01, 8.01}, {49.02, 8.01}};
    for (uint32_t i = 0; i < 5; i++) {
        uint32_t idx;
        assert_int_equal(ec_netbuild_node(nb, i, at[i], NULL, &idx), EC_OK);
    }
    enum { A, B, C, T, D };
    assert_int_equal(ec_netbuild_arc(nb, A, B, 73000, 100000, EC_NO_WAY), EC_OK);
    assert_int_equal(ec_netbuild_arc(nb, A, C, 111000, 1000, EC_NO_WAY), EC_OK);
    assert_int_equal(ec_netbuild_arc(nb, B, T, 111000, 1000, EC_NO_WAY), EC_OK);
    assert_int_equal(ec_netbuild_arc(nb, C, T, 73000, 1000, EC_NO_WAY), EC_OK);
    assert_int_equal(ec_netbuild_arc(nb, T, D, 111000, 1000, EC_NO_WAY), EC_OK);
    ec_vehicle_class_t v = truck();
    ec_graph *g;
    assert_int_equal(ec_netbuild_finish(nb, EC_METRIC_TIME, EC_SRC_DIMACS, &v, "junctions", &g), EC_OK);
    assert_int_equal(ec_ch_build(g, NULL), EC_OK);
    assert_int_equal(ec_graph_snap_prepare(g), EC_OK);
    return g;
}

/* A point on a junction leaves by any arc there and is reached by any arc
 * into it, whichever arc it snapped to; with CH, Dijkstra, a fixed end and
 * search spaces alike. */
static void test_points_on_junctions(void **state)
{
    (void)state;
    ec_graph *g = junctions();
    ec_latlon_t a = {49.0, 8.0}, c = {49.01, 8.0}, t = {49.01, 8.01};
    ec_snap_t sa, sc, st;
    assert_int_equal(ec_graph_snap(g, a, 10, &sa), EC_OK);
    assert_int_equal(ec_graph_snap(g, c, 10, &sc), EC_OK);
    assert_int_equal(ec_graph_snap(g, t, 10, &st), EC_OK);
    /* The ties fall on the one-way arcs: what this test is about. */
    assert_true(sa.tail == 0 && sa.head == 1 && sa.frac == 0.0 && sa.rev_arc == UINT32_MAX);
    assert_true(st.tail == 1 && st.head == 3 && st.frac == 1.0 && st.rev_arc == UINT32_MAX);
    for (int algo = 0; algo < 2; algo++) {
        ec_query *q;
        assert_int_equal(ec_query_new(g, algo ? EC_ALGO_DIJKSTRA : EC_ALGO_CH, &q), EC_OK);
        ec_path_t p;
        assert_int_equal(ec_query_route(q, &sa, &st, &p), EC_OK);
        assert_int_equal(p.weight, 2000); /* A -> C -> T, not 101 s round by B */
        assert_true(fabs(p.distance_m - 1840.0) < 1e-6);
        assert_int_equal(p.first_node, 0);
        assert_int_equal(p.last_node, 3);
        uint32_t e0, e1;
        ec_path_end_arcs(&sa, &st, &p, &e0, &e1); /* no part of a road at either end */
        assert_true(e0 == UINT32_MAX && e1 == UINT32_MAX);
        /* The geometry is A, C, T: the points on nodes are not repeated. */
        ec_buf out;
        ec_buf_init(&out, 4096);
        ec_jw w;
        ec_jw_init(&w, &out);
        ec_path_geojson(g, &sa, &st, &p, &w);
        assert_int_equal(ec_jw_finish(&w), EC_OK);
        assert_string_equal(out.data, "{\"type\":\"LineString\",\"coordinates\":[[8.0000000,49.0000000],[8.0000000,49.0100000],[8.0100000,49.0100000]]}");
        ec_buf_free(&out);
        /* Reached by C -> T although T snapped to B -> T (C cannot reach B). */
        assert_int_equal(ec_query_route(q, &sc, &st, &p), EC_OK);
        assert_int_equal(p.weight, 1000);
        /* The same with each end kept. */
        assert_int_equal(ec_query_fix(q, &sa, 0), EC_OK);
        assert_int_equal(ec_query_route_fixed(q, &st, &p), EC_OK);
        assert_int_equal(p.weight, 2000);
        assert_int_equal(ec_query_fix(q, &st, 1), EC_OK);
        assert_int_equal(ec_query_route_fixed(q, &sc, &p), EC_OK);
        assert_int_equal(p.weight, 1000);
        if (algo == 0) {
            ec_route_sums_t *up, *down, m;
            ec_space_t fw, bw;
            assert_int_equal(ec_graph_ch_sums(g, &up, &down), EC_OK);
            assert_int_equal(ec_query_space(q, up, down, &sa, 0, &fw), EC_OK);
            assert_int_equal(ec_query_space(q, up, down, &st, 1, &bw), EC_OK);
            assert_int_equal(ec_space_meet(g, &fw, &bw, &m), 1);
            assert_int_equal(m.weight, 2000);
            assert_true(fabs(m.dur_s - 2.0) < 1e-9);
            ec_space_free(&fw), ec_space_free(&bw);
            ec_free(up), ec_free(down);
        }
        ec_query_free(q);
    }
    /* Part-way along the one-way road A -> B it must still be driven forwards. */
    ec_latlon_t mid = {49.0, 8.005};
    ec_snap_t sm;
    assert_int_equal(ec_graph_snap(g, mid, 10, &sm), EC_OK);
    assert_true(sm.frac > 0.4 && sm.frac < 0.6);
    ec_query *q;
    assert_int_equal(ec_query_new(g, EC_ALGO_CH, &q), EC_OK);
    ec_path_t p;
    assert_int_equal(ec_query_route(q, &sm, &st, &p), EC_OK);
    assert_true(p.weight >= 50000 + 1000 - 1 && p.weight <= 50000 + 1000 + 1);
    uint32_t e0, e1;
    /* The rest of A -> B, then B -> T whole: as a path arc, or as the part of
     * T's arc that ends the route. */
    ec_path_end_arcs(&sm, &st, &p, &e0, &e1);
    assert_true(e0 == sm.arc && p.n_arcs + (e1 != UINT32_MAX) == 1);
    assert_true(e1 == UINT32_MAX || e1 == st.arc);
    assert_int_equal(ec_query_route(q, &sm, &sa, &p), EC_EUNREACHABLE);
    ec_query_free(q);
    ec_graph_free(g);
}

/* The road of the arc from node a to node b (external ids). */
static void road_of(const ec_graph *g, int64_t a, int64_t b, const char **ref, const char **name)
{
    for (uint32_t v = 0; v < g->n_nodes; v++)
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++)
            if (g->ext_id[v] == a && g->ext_id[g->arcs[e].to] == b) {
                ec_graph_arc_road(g, e, ref, name);
                return;
            }
    fail_msg("no arc %lld -> %lld", (long long)a, (long long)b);
}

/* Road references, names and rest areas from a small OSM file, kept through
 * the graph file; corridor segments named by their ref and end points. */
static void test_roads_and_rest_areas(void **state)
{
    (void)state;
    ec_load_opts_t o = {truck(), EC_METRIC_TIME};
    ec_graph *built, *g;
    assert_int_equal(ec_graph_load_osm(EC_FIXTURES "/roads.osm", &o, &built), EC_OK);
    assert_int_equal(ec_ch_build(built, NULL), EC_OK);
    char path[] = "/tmp/ec_test_roadsXXXXXX";
    close(mkstemp(path));
    assert_int_equal(ec_graph_save(built, path), EC_OK);
    assert_int_equal(ec_graph_open(path, &g), EC_OK);
    unlink(path);
    for (int k = 0; k < 2; k++) {
        const ec_graph *x = k ? g : built;
        const char *ref, *name, *kind;
        road_of(x, 1, 2, &ref, &name);
        assert_string_equal(ref, "A 5");
        assert_string_equal(name, "");
        road_of(x, 4, 3, &ref, &name); /* a two-way street, backwards */
        assert_string_equal(ref, "");
        assert_string_equal(name, "Hauptstraße");
        road_of(x, 4, 5, &ref, &name);
        assert_string_equal(ref, "K 4100");
        /* Cut to 200 bytes, before the character that would not fit whole. */
        assert_int_equal(strlen(name), 199);
        assert_int_equal(strncmp(name, "Straße mit einem Namen", 23), 0);
        ec_graph_arc_road(x, x->n_arcs, &ref, &name); /* out of range: unknown */
        assert_string_equal(ref, "");
        assert_int_equal(x->n_rest, 3);
        ec_latlon_t at;
        /* Next to the motorway's west end: the named rest area node. */
        ec_latlon_t p = {49.0, 8.005};
        assert_int_equal(ec_graph_rest_area(x, p, 2000, &at, &name, &kind), 0);
        assert_string_equal(name, "Parkplatz Ölbach");
        assert_string_equal(kind, "rest_area");
        assert_true(fabs(at.lat - 48.999) < 1e-7 && fabs(at.lon - 8.01) < 1e-7);
        /* The service area way, at its centre (the closing node counted once). */
        ec_latlon_t q = {49.0, 8.02};
        assert_int_equal(ec_graph_rest_area(x, q, 2000, &at, &name, &kind), 0);
        assert_string_equal(name, "Raststätte Testfeld");
        assert_string_equal(kind, "services");
        assert_true(fabs(at.lat - 49.005) < 1e-7 && fabs(at.lon - 8.025) < 1e-7);
        ec_latlon_t r = {49.02, 8.04};
        assert_int_equal(ec_graph_rest_area(x, r, 2000, &at, &name, &kind), 0);
        assert_string_equal(name, "");
        /* Nothing within reach. */
        assert_int_equal(ec_graph_rest_area(x, r, 100, &at, &name, &kind), -1);
        ec_latlon_t far = {50.0, 9.0};
        assert_int_equal(ec_graph_rest_area(x, far, 50000, &at, &name, &kind), -1);
        assert_non_null(x->way_ids);
    }
    ec_graph_free(built);
    ec_graph_free(g);

    /* Corridor: the segment's ref, and its end points' names for a name. */
    ec_graph *d = demo();
    const char *ref, *name, *kind;
    road_of(d, 1, 2, &ref, &name);
    assert_string_equal(ref, "A15");
    assert_string_equal(name, "Rotterdam\xe2\x80\x93Gorinchem");
    road_of(d, 2, 1, &ref, &name);
    assert_string_equal(name, "Gorinchem\xe2\x80\x93Rotterdam");
    assert_null(d->way_ids); /* no OSM ways to show */
    ec_latlon_t at, rot = {51.9225, 4.4792};
    assert_int_equal(ec_graph_rest_area(d, rot, 1e6, &at, &name, &kind), -1);
    ec_graph_free(d);
}

static void expect_graphml_error(const char *xml, const char *segments, ec_err code, const char *msg)
{
    ec_netbuild *nb;
    ec_netbuild_new(&nb);
    ec_load_opts_t o = {truck(), EC_METRIC_TIME};
    ec_err rc = ec_graphml_parse("m.graphml", xml, strlen(xml), nb, &o, "s.csv", segments,
                                 segments ? strlen(segments) : 0);
    if (rc != code || !strstr(ec_errmsg(), msg)) fail_msg("got %d \"%s\", want %d \"%s\"", rc, ec_errmsg(), code, msg);
    assert_int_equal(ec_netbuild_n_arcs(nb), 0); /* nothing half-built */
    ec_netbuild_free(nb);
}

#define KEYS                                                                                       \
    "<graphml><key id=\"x\" for=\"node\" attr.name=\"position_x\"/><key id=\"y\" for=\"node\" "   \
    "attr.name=\"position_y\"/><key id=\"d\" for=\"edge\" attr.name=\"distance\"/><graph>"
#define KEYS_R                                                                                     \
    "<graphml><key id=\"x\" for=\"node\" attr.name=\"position_x\"/><key id=\"y\" for=\"node\" "   \
    "attr.name=\"position_y\"/><key id=\"d\" for=\"edge\" attr.name=\"distance\"/><key id=\"r\" "      \
    "for=\"edge\" attr.name=\"ref\"/><key id=\"n\" for=\"edge\" attr.name=\"name\"/><graph>"
#define N(id, lon, lat) "<node id=\"" id "\"><data key=\"x\">" lon "</data><data key=\"y\">" lat "</data></node>\n"

static void test_graphml_errors(void **state)
{
    (void)state;
    expect_graphml_error(KEYS "<node id=\"1\"><data key=\"x\">6.9</data></node></graph></graphml>", NULL,
                         EC_EPARSE, "m.graphml:1: node \"1\" lacks position_x or position_y");
    expect_graphml_error(KEYS N("1", "6.9", "50.9") N("2", "7", "51")
                         "<edge source=\"1\" target=\"9\"><data key=\"d\">5</data></edge></graph></graphml>",
                         NULL, EC_EPARSE, "m.graphml:3: edge 1 -> 9 refers to an unknown node \"9\"");
    expect_graphml_error(KEYS N("1", "6.9", "50.9") N("2", "7", "51")
                         "<edge source=\"1\" target=\"2\"><data key=\"d\">-5</data></edge></graph></graphml>",
                         NULL, EC_ERANGE, "distance -5 km");
    expect_graphml_error(KEYS N("1", "6.9", "50.9") N("2", "7", "51")
                         "<edge source=\"1\" target=\"2\"><data key=\"d\">1e9</data></edge></graph></graphml>",
                         NULL, EC_ERANGE, "expected 0..1000 km");
    expect_graphml_error(KEYS N("1", "6.9", "50.9") N("2", "7", "51")
                         "<edge source=\"1\" target=\"2\"></edge></graph></graphml>",
                         NULL, EC_EPARSE, "lacks a distance");
    expect_graphml_error(KEYS N("1", "6.9", "95") "</graph></graphml>", NULL, EC_ERANGE, "off the map");
    expect_graphml_error(KEYS N("1", "6.9", "50") N("1", "7", "51") "</graph></graphml>", NULL,
                         EC_EPARSE, "node id \"1\" defined twice");
    expect_graphml_error(KEYS N("1", "abc", "50") "</graph></graphml>", NULL, EC_EPARSE, "\"abc\" is not a number");
    expect_graphml_error(KEYS "<node id=\"1\">", NULL, EC_EPARSE, "malformed XML");
#define E(id, lon, lat, ele) \
    "<node id=\"" id "\"><data key=\"x\">" lon "</data><data key=\"y\">" lat "</data><data key=\"e\">" ele "</data></node>\n"
#define KEYS_E                                                                                     \
    "<graphml><key id=\"e\" for=\"node\" attr.name=\"elevation\"/><key id=\"x\" for=\"node\" "         \
    "attr.name=\"position_x\"/><key id=\"y\" for=\"node\" attr.name=\"position_y\"/><graph>"
    expect_graphml_error(KEYS_E E("1", "6.9", "50.9", "120") N("2", "7", "51") "</graph></graphml>", NULL, EC_EPARSE,
                         "m.graphml:2: node \"2\" has no elevation while 1 others have one");
    expect_graphml_error(KEYS_E E("1", "6.9", "50.9", "12000") "</graph></graphml>", NULL, EC_ERANGE,
                         "node \"1\" has elevation 12000 m, expected -500..9000 m");
    expect_graphml_error(KEYS N("1", "6.9", "50.9") "</graph></graphml>",
                         "source,target,travel_speed\n1,2,900\n", EC_ERANGE,
                         "s.csv:2: travel_speed \"900\" is not 1..200 km/h");
    expect_graphml_error(KEYS N("1", "6.9", "50.9") "</graph></graphml>", "a,b\n", EC_EPARSE,
                         "s.csv:1: header must name source, target and travel_speed");
    /* Road names are bounded like node names. */
    char long_ref[1024];
    snprintf(long_ref, sizeof long_ref,
             KEYS_R N("1", "6.9", "50.9") N("2", "7", "51") "<edge source=\"1\" target=\"2\"><data key=\"d\">5</data>"
                    "<data key=\"r\">%0150d</data></edge></graph></graphml>", 0);
    expect_graphml_error(long_ref, NULL, EC_ELIMIT, "edge ref too long");
}

/* A corridor edge's own ref and name, and none for an edge without them
 * between unnamed nodes. */
static void test_graphml_roads(void **state)
{
    (void)state;
    const char *xml = KEYS_R N("1", "6.9", "50.9") N("2", "7", "51") N("3", "7.1", "51.1")
        "<edge source=\"1\" target=\"2\"><data key=\"d\">5</data><data key=\"r\">A 3</data>"
        "<data key=\"n\">K\xc3\xb6lner Ring</data></edge>"
        "<edge source=\"2\" target=\"3\" directed=\"false\"><data key=\"d\">5</data></edge></graph></graphml>";
    ec_netbuild *nb;
    ec_netbuild_new(&nb);
    ec_load_opts_t o = {truck(), EC_METRIC_TIME};
    assert_int_equal(ec_graphml_parse("m.graphml", xml, strlen(xml), nb, &o, NULL, NULL, 0), EC_OK);
    ec_graph *g;
    assert_int_equal(ec_netbuild_finish(nb, o.metric, EC_SRC_CORRIDOR, &o.vehicle, "m", &g), EC_OK);
    const char *ref, *name;
    road_of(g, 1, 2, &ref, &name);
    assert_string_equal(ref, "A 3");
    assert_string_equal(name, "K\xc3\xb6lner Ring");
    road_of(g, 3, 2, &ref, &name);
    assert_string_equal(ref, "");
    assert_string_equal(name, "");
    assert_int_equal(g->n_ways, 2); /* one per edge, both directions of an undirected one */
    ec_graph_free(g);
}

static void test_corridor_loader_names_the_file(void **state)
{
    (void)state;
    ec_load_opts_t o = {truck(), EC_METRIC_TIME};
    ec_graph *g;
    assert_int_equal(ec_graph_load_corridor("/nonexistent/dir", &o, &g), EC_EIO);
    assert_non_null(strstr(ec_errmsg(), "/nonexistent/dir/graph.graphml"));
}

static void test_dimacs(void **state)
{
    (void)state;
    const char *gr = "c tiny\np sp 3 3\na 1 2 10\na 2 3 20\na 1 3 50\n";
    const char *co = "p aux sp co 3\nv 1 8000000 49000000\nv 2 8010000 49000000\nv 3 8020000 49000000\n";
    ec_load_opts_t o = {truck(), EC_METRIC_DISTANCE};
    ec_netbuild *nb;
    ec_netbuild_new(&nb);
    assert_int_equal(ec_dimacs_parse("t.gr", gr, strlen(gr), "t.co", co, strlen(co), &o, nb), EC_OK);
    ec_graph *g;
    assert_int_equal(ec_netbuild_finish(nb, o.metric, EC_SRC_DIMACS, &o.vehicle, "t.gr", &g), EC_OK);
    assert_int_equal(ec_ch_build(g, NULL), EC_OK);
    ec_query *q;
    ec_query_new(g, EC_ALGO_CH, &q);
    ec_path_t p;
    assert_int_equal(ec_query_route_nodes(q, 0, 2, &p), EC_OK);
    assert_true(fabs(p.distance_m - 30.0) < 1e-9);
    assert_int_equal(p.n_arcs, 2);
    ec_query_free(q);
    ec_graph_free(g);

    const char *bad[][2] = {
        {"p sp 2 1\na 1 3 5\n", "t.gr:2: arc 1 -> 3 names a node outside 1..2"},
        {"a 1 2 5\n", "t.gr:1: arc before the problem line"},
        {"p sp 2 1\na 1 2 -5\n", "t.gr:2: weight -5"},
        {"p sp 2 2\na 1 2 5\n", "declares 2 arcs, the file has 1"},
        {"p sp 2 1\nx\n", "t.gr:2: unknown line type"},
        {"p sp 2 1\na 1 2\n", "t.gr:2: expected \"a FROM TO WEIGHT\""},
        {"p sp -1 1\n", "t.gr:1: node or arc count out of range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ec_netbuild_new(&nb);
        ec_err rc = ec_dimacs_parse("t.gr", bad[i][0], strlen(bad[i][0]), NULL, NULL, 0, &o, nb);
        assert_int_not_equal(rc, EC_OK);
        if (!strstr(ec_errmsg(), bad[i][1])) fail_msg("%s: got \"%s\"", bad[i][1], ec_errmsg());
        ec_netbuild_free(nb);
    }
    ec_netbuild_new(&nb);
    const char *co_bad = "p aux sp co 3\nv 1 8000000 99000000\n";
    assert_int_equal(ec_dimacs_parse("t.gr", gr, strlen(gr), "t.co", co_bad, strlen(co_bad), &o, nb), EC_ERANGE);
    ec_netbuild_free(nb);
}

static void test_vehicle_classes(void **state)
{
    (void)state;
    ec_vehicle_class_t v;
    for (const char *const *n = ec_vehicle_class_names(); *n; n++)
        assert_int_equal(ec_vehicle_class_builtin(*n, &v), EC_OK);
    assert_int_equal(ec_vehicle_class_resolve("truck-40t-hazmat", &v), EC_OK);
    assert_true(v.hazmat && v.weight_t == 40.0 && v.height_m == 4.0);
    assert_int_equal(ec_vehicle_class_resolve("bicycle", &v), EC_ENOTFOUND);
    const char *good = "{\"name\":\"van\",\"height_m\":2.8,\"weight_t\":3.5,\"hazmat\":false}";
    assert_int_equal(ec_vehicle_class_load(write_tmp(good, strlen(good)), &v), EC_OK);
    assert_string_equal(v.name, "van");
    assert_true(v.height_m == 2.8 && v.max_speed_kmh == 80.0);
    const char *bad[][2] = {{"{\"height_m\":2}", "missing required field \"name\""},
                            {"{\"name\":\"x\",\"height_m\":-2}", "\"height_m\" is -2, expected 0..10"},
                            {"{\"name\":\"x\",\"colour\":1}", "unknown field \"colour\""},
                            {"{\"name\":\"x\",\"hazmat\":\"yes\"}", "\"hazmat\" must be true or false"},
                            {"[1]", "expected a JSON object"},
                            {"{\"name\":", "invalid JSON"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(ec_vehicle_class_load(write_tmp(bad[i][0], strlen(bad[i][0])), &v), EC_OK);
        if (!strstr(ec_errmsg(), bad[i][1])) fail_msg("%s: got \"%s\"", bad[i][1], ec_errmsg());
    }
}

static void test_osm_values(void **state)
{
    (void)state;
    double v;
    assert_int_equal(ec_osm_parse_length_m("3.5", &v), 0), assert_true(v == 3.5);
    assert_int_equal(ec_osm_parse_length_m("3.5 m", &v), 0), assert_true(v == 3.5);
    assert_int_equal(ec_osm_parse_length_m("12'6\"", &v), 0), assert_true(fabs(v - 3.81) < 1e-9);
    assert_int_not_equal(ec_osm_parse_length_m("default", &v), 0);
    assert_int_not_equal(ec_osm_parse_length_m("none", &v), 0);
    assert_int_equal(ec_osm_parse_weight_t("7.5", &v), 0), assert_true(v == 7.5);
    assert_int_equal(ec_osm_parse_weight_t("7500 kg", &v), 0), assert_true(v == 7.5);
    assert_int_not_equal(ec_osm_parse_weight_t("7.5 tons", &v), 0);
    assert_int_equal(ec_osm_parse_speed_kmh("50 mph", &v), 0), assert_true(fabs(v - 80.4672) < 1e-9);
    assert_int_not_equal(ec_osm_parse_speed_kmh("DE:urban", &v), 0);
    assert_int_not_equal(ec_osm_parse_speed_kmh("0", &v), 0);
    assert_true(ec_osm_class_speed_kmh("motorway") == 80);
    assert_true(ec_osm_class_speed_kmh("footway") == 0);
}

/* Every allocation of a load and a build may fail: each failure is reported
 * and frees all it took. */
static void test_out_of_memory_everywhere(void **state)
{
    (void)state;
    ec_load_opts_t o = {truck(), EC_METRIC_TIME};
    int failures = 0;
    for (long k = 0;; k++) {
        ec_alloc_stats_t before = ec_alloc_stats();
        ec_alloc_fail_after(k);
        ec_graph *g = NULL;
        ec_err rc = ec_graph_load_corridor(EC_DEMO "/rhine_alpine", &o, &g);
        if (!rc) rc = ec_ch_build(g, NULL);
        ec_alloc_fail_after(-1);
        ec_graph_free(g);
        ec_alloc_stats_t after = ec_alloc_stats();
        assert_int_equal(after.allocs - before.allocs, after.frees - before.frees);
        if (!rc) break;
        assert_int_equal(rc, EC_ENOMEM);
        failures++;
    }
    assert_true(failures > 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ch_equals_floyd_on_random_graphs),
        cmocka_unit_test(test_demo_region),
        cmocka_unit_test(test_file_roundtrip_and_corruption),
        cmocka_unit_test(test_graphml_errors),
        cmocka_unit_test(test_roads_and_rest_areas),
        cmocka_unit_test(test_points_on_junctions),
        cmocka_unit_test(test_graphml_roads),
        cmocka_unit_test(test_corridor_loader_names_the_file),
        cmocka_unit_test(test_dimacs),
        cmocka_unit_test(test_vehicle_classes),
        cmocka_unit_test(test_osm_values),
        cmocka_unit_test(test_out_of_memory_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
