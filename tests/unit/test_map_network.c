/* test_map_network.c - the road graph as the web page's GeoJSON: one line per
 * road (not per direction, not per way), named places, the vertex cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_json.h"
#include "server/map_network.h"

#include <math.h>
#include <string.h>

/* A motorway "A 1" along latitude 50 from 8.0 to 9.0 east in 101 nodes, as
 * two ways (split at node 50), both directions; an unnumbered side road from
 * node 50 north (its two directions two ways); with zigzag > 0, a one-way unnumbered road of that many
 * nodes zigzagging south. Nodes 0 and 100 are the places "West" and "East". */
static ec_graph *corridor(int zigzag)
{
    ec_netbuild *nb;
    assert_int_equal(ec_netbuild_new(&nb), EC_OK);
    uint32_t idx, w[5];
    for (int i = 0; i <= 100; i++) {
        ec_latlon_t p = {50.0, 8.0 + i * 0.01};
        assert_int_equal(ec_netbuild_node(nb, i, p, i == 0 ? "West" : i == 100 ? "East" : NULL, &idx), EC_OK);
    }
    ec_latlon_t north = {50.05, 8.5};
    assert_int_equal(ec_netbuild_node(nb, 101, north, NULL, &idx), EC_OK);
    for (int k = 0; k < 5; k++) assert_int_equal(ec_netbuild_way(nb, 1000 + k, &w[k]), EC_OK);
    assert_int_equal(ec_netbuild_way_road(nb, w[0], "A 1", "Corridor"), EC_OK);
    assert_int_equal(ec_netbuild_way_road(nb, w[1], "A 1", "Corridor"), EC_OK);
    assert_int_equal(ec_netbuild_way_road(nb, w[2], "", "Side street"), EC_OK);
    assert_int_equal(ec_netbuild_way_road(nb, w[3], "", "Zigzag"), EC_OK);
    /* The side street's way back is another way of the same name, as a
     * corridor model's two segments are. */
    assert_int_equal(ec_netbuild_way_road(nb, w[4], "", "Side street"), EC_OK);
    for (uint32_t i = 0; i < 100; i++) {
        uint32_t way = i < 50 ? w[0] : w[1];
        assert_int_equal(ec_netbuild_arc(nb, i, i + 1, 71500, 2600, way), EC_OK);
        assert_int_equal(ec_netbuild_arc(nb, i + 1, i, 71500, 2600, way), EC_OK);
    }
    assert_int_equal(ec_netbuild_arc(nb, 50, 101, 555000, 40000, w[2]), EC_OK);
    assert_int_equal(ec_netbuild_arc(nb, 101, 50, 555000, 40000, w[4]), EC_OK);
    uint32_t prev = 0;
    for (int i = 0; i < zigzag; i++) {
        ec_latlon_t p = {49.9 - (i % 2) * 0.05, 8.0 + i * 0.0001};
        assert_int_equal(ec_netbuild_node(nb, 200 + i, p, NULL, &idx), EC_OK);
        if (i) assert_int_equal(ec_netbuild_arc(nb, prev, idx, 1000, 100, w[3]), EC_OK);
        prev = idx;
    }
    ec_vehicle_class_t v;
    assert_int_equal(ec_vehicle_class_builtin("unrestricted", &v), EC_OK);
    ec_graph *g;
    assert_int_equal(ec_netbuild_finish(nb, EC_METRIC_TIME, EC_SRC_OSM, &v, "test", &g), EC_OK);
    return g;
}

typedef struct {
    int roads, places, vertices;
    int a1_vertices, a1_lines, side_lines, zigzag_lines;
    double a1_first[2], a1_last[2];
} summary;

static ec_json *render(const ec_graph *g, size_t cap, const char *url, const char *attr)
{
    ec_buf b;
    ec_buf_init(&b, 64u << 20);
    assert_int_equal(map__network_geojson(g, cap, url, attr, &b), EC_OK);
    ec_json *j;
    assert_int_equal(ec_json_load_buf(b.data, b.len, "network", &j), EC_OK);
    ec_buf_free(&b);
    return j;
}

static summary summarise(const ec_json *j)
{
    summary s;
    memset(&s, 0, sizeof s);
    assert_string_equal(ec_json_str(ec_json_get(j, "type")), "FeatureCollection");
    const ec_json *fs = ec_json_get(j, "features");
    for (size_t i = 0; i < ec_json_array_size(fs); i++) {
        const ec_json *f = ec_json_array_get(fs, i), *p = ec_json_get(f, "properties"), *g = ec_json_get(f, "geometry");
        const char *kind = ec_json_str(ec_json_get(p, "kind")), *type = ec_json_str(ec_json_get(g, "type"));
        const ec_json *c = ec_json_get(g, "coordinates");
        if (!strcmp(kind, "place")) {
            assert_string_equal(type, "Point");
            s.places++;
            continue;
        }
        assert_string_equal(kind, "road");
        assert_string_equal(type, "LineString");
        int n = (int)ec_json_array_size(c);
        assert_true(n >= 2);
        s.roads++;
        s.vertices += n;
        const char *ref = ec_json_str(ec_json_get(p, "ref")), *name = ec_json_str(ec_json_get(p, "name"));
        if (!strcmp(ref, "A 1")) {
            assert_string_equal(name, "Corridor");
            s.a1_lines++;
            s.a1_vertices += n;
            for (int k = 0; k < 2; k++) {
                ec_json_number(ec_json_array_get(ec_json_array_get(c, 0), (size_t)k), &s.a1_first[k]);
                ec_json_number(ec_json_array_get(ec_json_array_get(c, (size_t)n - 1), (size_t)k), &s.a1_last[k]);
            }
        } else if (!strcmp(name, "Side street")) {
            s.side_lines++;
        } else {
            assert_string_equal(name, "Zigzag");
            s.zigzag_lines++;
        }
    }
    return s;
}

/* The motorway's two ways and two directions are one line through all its
 * nodes, end to end; the side road is its own line; places are points. */
static void test_one_line_per_road(void **state)
{
    (void)state;
    ec_graph *g = corridor(0);
    ec_json *j = render(g, 200000, NULL, NULL);
    summary s = summarise(j);
    assert_int_equal(s.a1_lines, 1);
    assert_int_equal(s.a1_vertices, 101);
    assert_int_equal(s.side_lines, 1);
    assert_int_equal(s.roads, 2);
    assert_int_equal(s.vertices, 101 + 2); /* the side street there, not there and back */
    assert_int_equal(s.places, 2);
    /* From one end to the other, whichever way round. */
    double lo = fmin(s.a1_first[0], s.a1_last[0]), hi = fmax(s.a1_first[0], s.a1_last[0]);
    assert_true(fabs(lo - 8.0) < 1e-6 && fabs(hi - 9.0) < 1e-6);
    assert_true(fabs(s.a1_first[1] - 50.0) < 1e-6);
    assert_non_null(ec_json_get(j, "tile_url"));
    assert_non_null(ec_json_get(j, "tile_attribution"));
    assert_true(ec_json_typeof(ec_json_get(j, "tile_url")) == EC_JSON_NULL);
    assert_true(ec_json_typeof(ec_json_get(j, "tile_attribution")) == EC_JSON_NULL);
    ec_json_free(j);
    ec_graph_free(g);
}

/* Over the cap the straight motorway keeps its two ends only. */
static void test_cap_simplifies(void **state)
{
    (void)state;
    ec_graph *g = corridor(0);
    ec_json *j = render(g, 10, NULL, NULL);
    summary s = summarise(j);
    assert_true(s.vertices <= 10);
    assert_int_equal(s.a1_lines, 1);
    assert_int_equal(s.a1_vertices, 2);
    double lo = fmin(s.a1_first[0], s.a1_last[0]), hi = fmax(s.a1_first[0], s.a1_last[0]);
    assert_true(fabs(lo - 8.0) < 1e-6 && fabs(hi - 9.0) < 1e-6);
    ec_json_free(j);
    ec_graph_free(g);
}

/* A zigzag no tolerance straightens: the unnumbered roads go, the numbered
 * one stays; under a cap smaller than any line, none is drawn. */
static void test_cap_numbered_roads(void **state)
{
    (void)state;
    ec_graph *g = corridor(3000);
    ec_json *j = render(g, 1000000, NULL, NULL);
    summary s = summarise(j);
    assert_int_equal(s.zigzag_lines, 1);
    assert_int_equal(s.vertices, 101 + 2 + 3000);
    ec_json_free(j);
    j = render(g, 100, NULL, NULL);
    s = summarise(j);
    assert_true(s.vertices <= 100);
    assert_int_equal(s.zigzag_lines, 0);
    assert_int_equal(s.a1_lines, 1);
    ec_json_free(j);
    j = render(g, 1, NULL, NULL);
    s = summarise(j);
    assert_int_equal(s.roads, 0);
    assert_int_equal(s.places, 2);
    ec_json_free(j);
    ec_graph_free(g);
}

/* Without a graph: no features, the tile layer as given. */
static void test_no_graph(void **state)
{
    (void)state;
    ec_json *j = render(NULL, 10, "https://t.example/{z}/{x}/{y}.png", "\"quoted\" & <b>");
    assert_int_equal(ec_json_array_size(ec_json_get(j, "features")), 0);
    assert_string_equal(ec_json_str(ec_json_get(j, "tile_url")), "https://t.example/{z}/{x}/{y}.png");
    assert_string_equal(ec_json_str(ec_json_get(j, "tile_attribution")), "\"quoted\" & <b>");
    ec_json_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_line_per_road),
        cmocka_unit_test(test_cap_simplifies),
        cmocka_unit_test(test_cap_numbered_roads),
        cmocka_unit_test(test_no_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
