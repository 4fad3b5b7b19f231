/* test_geo.c - distances, projection onto segments, the grid index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_geo.h"

#include <math.h>

static void test_haversine(void **state)
{
    (void)state;
    ec_latlon_t a = {0, 0}, b = {0, 1};
    /* One degree of the equator on a sphere of the mean Earth radius. */
    assert_true(fabs(ec_geo_haversine_m(a, b) - 111195.08) < 0.1);
    ec_latlon_t rot = {51.9225, 4.4792}, bas = {47.5596, 7.5886};
    double d = ec_geo_haversine_m(rot, bas);
    assert_true(d > 530000 && d < 540000);
    assert_true(fabs(ec_geo_haversine_m(rot, bas) - ec_geo_haversine_m(bas, rot)) < 1e-6);
}

static void test_parse_and_valid(void **state)
{
    (void)state;
    ec_latlon_t p;
    assert_int_equal(ec_geo_parse("49.41,8.69", &p), 0);
    assert_true(p.lat == 49.41 && p.lon == 8.69);
    assert_int_not_equal(ec_geo_parse("91,0", &p), 0);
    assert_int_not_equal(ec_geo_parse("0,181", &p), 0);
    assert_int_not_equal(ec_geo_parse("49.41", &p), 0);
    assert_int_not_equal(ec_geo_parse("a,b", &p), 0);
    ec_latlon_t nan_p = {NAN, 0};
    assert_false(ec_geo_valid(nan_p));
}

static void test_point_segment(void **state)
{
    (void)state;
    ec_latlon_t a = {49.0, 8.0}, b = {49.0, 8.01}, p = {49.001, 8.005};
    double t;
    double d = ec_geo_point_segment_m(p, a, b, &t);
    assert_true(fabs(t - 0.5) < 1e-3);
    assert_true(fabs(d - 111.2) < 0.5);
    ec_latlon_t beyond = {49.0, 8.02};
    ec_geo_point_segment_m(beyond, a, b, &t);
    assert_true(t == 1.0);
}

static int seen[4];
static void mark(void *ctx, uint32_t id)
{
    (void)ctx;
    seen[id] = 1;
}

static void test_grid(void **state)
{
    (void)state;
    ec_latlon_t a[4] = {{49.0, 8.0}, {49.5, 8.5}, {49.0, 9.0}, {48.0, 8.0}};
    ec_latlon_t b[4] = {{49.0, 8.01}, {49.5, 8.51}, {49.1, 9.0}, {48.0, 8.0}};
    ec_grid g;
    assert_int_equal(ec_grid_build(&g, a, b, 4, 0.01), EC_OK);
    ec_latlon_t q = {49.0005, 8.005};
    ec_grid_visit(&g, q, 200, mark, NULL);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 0);
    assert_int_equal(seen[2], 0);
    ec_latlon_t q2 = {49.05, 9.0};
    ec_grid_visit(&g, q2, 100, mark, NULL);
    assert_int_equal(seen[2], 1);
    assert_int_equal(seen[3], 0);
    ec_grid_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_haversine),
        cmocka_unit_test(test_parse_and_valid),
        cmocka_unit_test(test_point_segment),
        cmocka_unit_test(test_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
