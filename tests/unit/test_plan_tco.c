/* test_plan_tco.c - total cost of ownership per km against a computation
 * written out here: the eactros600's energy on a level km at 80 km/h from
 * the driving physics, the annuity from its formula, the km costs summed by
 * hand; and the refusals of what cannot be computed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_plan.h"

#include <math.h>
#include <string.h>

/* Costs written out for the test (not the defaults: those are the inputs
 * parser's, and this test is about the arithmetic). */
static ec_plan_costs_t test_costs(void)
{
    ec_plan_costs_t c;
    memset(&c, 0, sizeof c);
    c.discount_rate = 0.07;
    c.truck_km_per_year = 100000;
    c.diesel_price_per_l = 1.6;
    c.diesel_l_per_km = 0.326;
    c.diesel_truck_capex = 120000;
    c.bev_glider_capex = 95000;
    c.battery_capex_per_kwh = 100;
    c.motor_capex_per_kw = 77;
    c.bev_motor_kw = 425;
    c.diesel_maintenance_per_km = 0.12;
    c.bev_maintenance_per_km = 0.10;
    c.diesel_insurance_per_km = 0.04;
    c.bev_insurance_per_km = 0.05;
    c.charging_price_per_kwh = -1; /* the simulated price, given as the argument */
    return c;
}

/* By hand, for the eactros600 (19 t empty, 21 t default payload, 621 kWh,
 * CdA 5.2 m2, crr 0.0045, drivetrain 0.92, charging 0.95, 2.5 kW
 * auxiliaries, 0.97 % more energy per degree below 20 C) at 5 C. */
static void hand(double price, double grid_g, double *bev_per_km, double *diesel_per_km,
                 double *co2_t)
{
    double speed = 80 / 3.6, mass = 19000 + 21000;
    double rho = 101325 / (287.05 * (5 + 273.15));  /* air at 5 C */
    double roll_j = mass * 9.80665 * 0.0045 * 1000; /* a level km */
    double aero_j = 0.5 * rho * 5.2 * 1000 * speed * speed;
    double cold = 0.0097 * (20 - 5);
    double aux_j = 2500 * (1000 / speed);
    double battery_wh = ((roll_j + aero_j) / 0.92 * (1 + cold) + aux_j * (1 + cold)) / 3600;
    double grid_kwh = battery_wh / 1000 / 0.95;
    assert_float_equal(grid_kwh, 1.2735420529, 1e-9); /* the same, worked once in a calculator */

    double r = 0.07, n = 5, km = 100000;
    double bev_capex = 95000 + 100 * 621 + 77 * 425;
    double bev_annuity = bev_capex * r / (1 - pow(1 + r, -n));
    double diesel_annuity = 120000 * r / (1 - pow(1 + r, -n));
    *bev_per_km = (bev_annuity + km * (grid_kwh * price + 0.10 + 0.05)) / km;
    *diesel_per_km = (diesel_annuity + km * (0.326 * 1.6 + 0.12 + 0.04)) / km;
    *co2_t = km * 0.326 * 2.70 / 1000 - km * grid_kwh * grid_g / 1e6;
}

static void eactros600_by_hand(void **state)
{
    (void)state;
    ec_vehicle_profile v;
    assert_int_equal(ec_vehicle_profile_builtin("eactros600", &v), EC_OK);
    ec_plan_costs_t c = test_costs();
    ec_plan_tco_t t;
    double bev, diesel, co2;

    assert_int_equal(ec_plan_tco(&c, &v, 5, 5.0, 0.30, 380, &t), EC_OK);
    hand(0.30, 380, &bev, &diesel, &co2);
    assert_string_equal(t.vehicle, "eactros600");
    assert_int_equal(t.years, 5);
    assert_float_equal(t.bev_cost_per_km, bev, 1e-9);
    assert_float_equal(t.diesel_cost_per_km, diesel, 1e-9);
    assert_float_equal(t.co2_t_per_year, co2, 1e-9);
    assert_float_equal(t.bev_cost_per_km, 0.99502813, 1e-7);
    assert_float_equal(t.diesel_cost_per_km, 0.97426883, 1e-7);
    assert_float_equal(t.co2_t_per_year, 39.6254020, 1e-6);

    /* the costs' own price wins over the simulated one */
    c.charging_price_per_kwh = 0.20;
    assert_int_equal(ec_plan_tco(&c, &v, 5, 5.0, 0.30, 0, &t), EC_OK);
    hand(0.20, 0, &bev, &diesel, &co2);
    assert_float_equal(t.bev_cost_per_km, bev, 1e-9);
    /* a clean grid: all the tailpipe */
    assert_float_equal(t.co2_t_per_year, 0.326 * 2.70 * 100, 1e-9);

    /* no discounting: capex over the years, straight */
    c.discount_rate = 0;
    assert_int_equal(ec_plan_tco(&c, &v, 10, 5.0, 0.30, 0, &t), EC_OK);
    assert_float_equal(t.diesel_cost_per_km, 120000.0 / 10 / 100000 + 0.326 * 1.6 + 0.12 + 0.04,
                       1e-12);
}

/* Warmer is cheaper to drive, a longer life cheaper per km. */
static void directions(void **state)
{
    (void)state;
    ec_vehicle_profile v;
    assert_int_equal(ec_vehicle_profile_builtin("generic-500", &v), EC_OK);
    ec_plan_costs_t c = test_costs();
    ec_plan_tco_t cold, warm, longer;
    assert_int_equal(ec_plan_tco(&c, &v, 5, -10, 0.3, 0, &cold), EC_OK);
    assert_int_equal(ec_plan_tco(&c, &v, 5, 20, 0.3, 0, &warm), EC_OK);
    assert_int_equal(ec_plan_tco(&c, &v, 8, 20, 0.3, 0, &longer), EC_OK);
    assert_true(cold.bev_cost_per_km > warm.bev_cost_per_km);
    assert_float_equal(cold.diesel_cost_per_km, warm.diesel_cost_per_km, 0);
    assert_true(longer.bev_cost_per_km < warm.bev_cost_per_km);
    assert_true(longer.diesel_cost_per_km < warm.diesel_cost_per_km);
}

static void refusals(void **state)
{
    (void)state;
    ec_vehicle_profile v;
    assert_int_equal(ec_vehicle_profile_builtin("etgx", &v), EC_OK);
    ec_plan_costs_t c = test_costs();
    ec_plan_tco_t t, before;
    memset(&t, 0x5a, sizeof t);
    before = t;
    assert_int_equal(ec_plan_tco(&c, &v, 0, 10, 0.3, 0, &t), EC_EINVAL);
    assert_int_equal(ec_plan_tco(&c, &v, 101, 10, 0.3, 0, &t), EC_EINVAL);
    assert_int_equal(ec_plan_tco(&c, &v, 5, 10, -1, 0, &t), EC_EINVAL); /* no price anywhere */
    assert_non_null(strstr(ec_errmsg(), "charging_price_per_kwh"));
    assert_int_equal(ec_plan_tco(&c, &v, 5, NAN, 0.3, 0, &t), EC_EINVAL);
    assert_int_equal(ec_plan_tco(&c, &v, 5, 10, 0.3, -5, &t), EC_EINVAL);
    c.bev_motor_kw = 0;
    assert_int_equal(ec_plan_tco(&c, &v, 5, 10, 0.3, 0, &t), EC_EINVAL);
    assert_non_null(strstr(ec_errmsg(), "bev_motor_kw"));
    c = test_costs();
    c.truck_km_per_year = 0;
    assert_int_equal(ec_plan_tco(&c, &v, 5, 10, 0.3, 0, &t), EC_EINVAL);
    assert_non_null(strstr(ec_errmsg(), "truck_km_per_year"));
    assert_memory_equal(&t, &before, sizeof t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eactros600_by_hand),
        cmocka_unit_test(directions),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
