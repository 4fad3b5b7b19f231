/* test_restrictions.c - each OSM restriction tag closes a road to the vehicle
 * classes it applies to, and only to those (fixture: tests/fixtures/restrictions.osm). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_graph.h"

#include <string.h>

enum { DIRECT = 1, DETOUR = 2 };

typedef struct {
    int k;               /* ladder number in the fixture */
    const char *vehicle; /* class name or JSON file */
    int want;            /* DIRECT: allowed; DETOUR: the tagged road is closed */
    int reverse;         /* route T -> S */
} rcase;

static const rcase cases[] = {
    {1, "truck-40t", DETOUR, 0},        {1, "truck-18t", DETOUR, 0},
    {1, "small", DIRECT, 0},            {1, "unrestricted", DIRECT, 0},
    {2, "truck-40t", DETOUR, 0},        {2, "truck-18t", DIRECT, 0},
    {3, "truck-40t", DETOUR, 0},        {3, "truck-18t", DETOUR, 0},
    {3, "small", DIRECT, 0},            {4, "truck-40t", DETOUR, 0},
    {4, "small", DIRECT, 0},            {5, "truck-40t", DETOUR, 0},
    {5, "small", DETOUR, 0},            {5, "unrestricted", DIRECT, 0},
    {6, "truck-40t-hazmat", DETOUR, 0}, {6, "truck-40t", DIRECT, 0},
    {7, "truck-40t", DETOUR, 0},        {7, "small", DIRECT, 0},
    {8, "truck-40t", DETOUR, 0},        {8, "truck-18t", DIRECT, 0},
    {9, "truck-40t", DETOUR, 0},        {9, "small", DIRECT, 0},
    {10, "truck-40t", DETOUR, 0},       {10, "unrestricted", DIRECT, 0},
    {11, "truck-40t", DIRECT, 0},       {12, "truck-40t", DETOUR, 0},
    {13, "truck-40t", DIRECT, 0},       {13, "truck-40t", DETOUR, 1},
    {14, "truck-40t", DIRECT, 0},
};

static ec_graph *load(const char *vehicle)
{
    ec_load_opts_t o = {.metric = EC_METRIC_DISTANCE};
    const char *v = strcmp(vehicle, "small") ? vehicle : EC_FIXTURES "/small_truck.json";
    assert_int_equal(ec_vehicle_class_resolve(v, &o.vehicle), EC_OK);
    ec_graph *g;
    if (ec_graph_load_osm(EC_FIXTURES "/restrictions.osm", &o, &g)) fail_msg("%s", ec_errmsg());
    assert_int_equal(ec_ch_build(g, NULL), EC_OK);
    return g;
}

static uint32_t node(const ec_graph *g, int64_t osm_id)
{
    for (uint32_t v = 0; v < g->n_nodes; v++)
        if (g->ext_id[v] == osm_id) return v;
    fail_msg("node %lld missing", (long long)osm_id);
    return 0;
}

static void test_each_restriction(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rcase *c = &cases[i];
        ec_graph *g = load(c->vehicle);
        uint32_t s = node(g, c->k * 1000 + 1), t = node(g, c->k * 1000 + 2);
        if (c->reverse) {
            uint32_t x = s;
            s = t;
            t = x;
        }
        ec_latlon_t ps = ec_graph_point(g, s), pt = ec_graph_point(g, t);
        double direct_m = ec_geo_haversine_m(ps, pt);
        for (int algo = 0; algo < 2; algo++) {
            ec_query *q;
            assert_int_equal(ec_query_new(g, algo ? EC_ALGO_DIJKSTRA : EC_ALGO_CH, &q), EC_OK);
            ec_path_t p;
            assert_int_equal(ec_query_route_nodes(q, s, t, &p), EC_OK);
            int took = p.distance_m < direct_m + 1.0 ? DIRECT : DETOUR;
            if (took != c->want)
                fail_msg("case %d with %s%s: took the %s (%.0f m), expected the %s", c->k, c->vehicle,
                         c->reverse ? " (reverse)" : "", took == DIRECT ? "tagged road" : "detour",
                         p.distance_m, c->want == DIRECT ? "tagged road" : "detour");
            /* A route that avoids the tagged road uses only the detour way. */
            if (took == DETOUR)
                for (uint32_t k = 0; k < p.n_arcs; k++)
                    assert_int_equal(g->way_ids[g->arcs[p.arcs[k]].way], c->k * 100 + 2);
            ec_query_free(q);
        }
        ec_graph_free(g);
    }
}

static void test_bad_osm_files(void **state)
{
    (void)state;
    ec_load_opts_t o = {.metric = EC_METRIC_TIME};
    ec_vehicle_class_builtin("truck-40t", &o.vehicle);
    ec_graph *g;
    assert_int_equal(ec_graph_load_osm(EC_FIXTURES "/small_truck.json", &o, &g), EC_EINVAL);
    assert_non_null(strstr(ec_errmsg(), "expected an .osm or .osm.pbf file"));
    assert_int_equal(ec_graph_load_osm("/nonexistent.osm.pbf", &o, &g), EC_EIO);
    assert_non_null(strstr(ec_errmsg(), "/nonexistent.osm.pbf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_restriction),
        cmocka_unit_test(test_bad_osm_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
