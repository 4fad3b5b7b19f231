/* test_energy.c - profiles, the consumption model and charging, against
 * published measurements (../shared/data/README.md, "Facts worth knowing"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_energy.h"

#include <math.h>
#include <string.h>

static ec_vehicle_profile get(const char *name)
{
    ec_vehicle_profile v;
    assert_int_equal(ec_vehicle_profile_builtin(name, &v), EC_OK);
    return v;
}

/* kWh per 100 km on a flat motorway at 80 km/h. */
static double per_100km(const ec_vehicle_profile *v, double payload_kg, double temp_c)
{
    ec_conditions_t c = {payload_kg, temp_c};
    return ec_energy_wh(v, &c, 100000.0, 100000.0 / (80 / 3.6), 0.0) / 1000.0;
}

/* Mercedes eActros 600: 103 kWh/100 km measured at 40 t over a 15,000 km tour. */
static void test_eactros_motorway_consumption(void **state)
{
    (void)state;
    ec_vehicle_profile v = get("eactros600");
    assert_true(v.empty_mass_kg + v.default_payload_kg == 40000);
    double kwh = per_100km(&v, v.default_payload_kg, 20.0);
    print_message("eactros600 at 40 t, 80 km/h, 20 C: %.1f kWh/100 km (measured 103)\n", kwh);
    assert_true(kwh >= 103 * 0.9 && kwh <= 103 * 1.1);
}

/* About 25 % more at -2 C. */
static void test_eactros_cold(void **state)
{
    (void)state;
    ec_vehicle_profile v = get("eactros600");
    double ratio = per_100km(&v, v.default_payload_kg, -2.0) / per_100km(&v, v.default_payload_kg, 20.0);
    print_message("eactros600 at -2 C: %+.1f %% (measured about +25 %%)\n", (ratio - 1) * 100);
    assert_true(ratio >= 1.20 && ratio <= 1.30);
    /* Warmer than the reference costs no battery penalty. */
    assert_true(per_100km(&v, v.default_payload_kg, 30.0) <= per_100km(&v, v.default_payload_kg, 20.0));
}

/* 20 -> 80 % in about 30 min at a 1 MW MCS charger. */
static void test_eactros_mcs_20_80(void **state)
{
    (void)state;
    ec_vehicle_profile v = get("eactros600");
    double s, grid_wh;
    assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 1e6, 0.2, 0.8, &s, &grid_wh), EC_OK);
    print_message("eactros600 20->80 %% on 1 MW MCS: %.1f min, %.0f kWh from the grid\n", s / 60, grid_wh / 1000);
    assert_true(s >= 27 * 60 && s <= 33 * 60);
    assert_true(fabs(grid_wh - 0.6 * 621000 / 0.95) < 1.0);
    /* On CCS the inlet's 400 kW is the limit: slower. */
    double s_ccs;
    assert_int_equal(ec_charge_time_s(&v, EC_PLUG_CCS2, 0, 0.2, 0.8, &s_ccs, NULL), EC_OK);
    assert_true(fabs(s_ccs - 0.6 * 621000 * 3600 / (400000 * 0.95)) < 1.0);
    /* A site that can give only 150 kW limits it further. */
    double s_site;
    assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 150000, 0.2, 0.8, &s_site, NULL), EC_OK);
    assert_true(fabs(s_site - 0.6 * 621000 * 3600 / (150000 * 0.95)) < 1.0);
}

/* Volvo FH Aero Electric: MCS 20 -> 80 % in about 40 min. */
static void test_volvo_mcs(void **state)
{
    (void)state;
    ec_vehicle_profile v = get("fh-aero-electric");
    double s;
    assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 0, 0.2, 0.8, &s, NULL), EC_OK);
    print_message("fh-aero-electric 20->80 %% on MCS: %.1f min (published about 40)\n", s / 60);
    assert_true(s >= 36 * 60 && s <= 44 * 60);
    assert_true(v.battery_wh == 780000);
}

static void test_man_limits(void **state)
{
    (void)state;
    ec_vehicle_profile v = get("etgx");
    assert_true(v.battery_wh == 480000);
    assert_true(ec_charge_power_w(&v, EC_PLUG_CCS2, 0, 0.3) == 375000);
    assert_true(ec_charge_power_w(&v, EC_PLUG_MCS, 0, 0.1) == 750000);
    assert_true(ec_charge_power_w(&v, EC_PLUG_TYPE2, 0, 0.3) == 0);
    double s;
    assert_int_equal(ec_charge_time_s(&v, EC_PLUG_TYPE2, 0, 0.2, 0.8, &s, NULL), EC_EINVAL);
    assert_non_null(strstr(ec_errmsg(), "etgx cannot charge on TYPE2"));
    assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 0, 0.8, 0.2, &s, NULL), EC_EINVAL);
}

/* The curve is honoured: charging the top 10 % takes longer than a middle 10 %. */
static void test_curve_shape(void **state)
{
    (void)state;
    for (const char *const *n = ec_vehicle_profile_names(); *n; n++) {
        ec_vehicle_profile v = get(*n);
        double mid, top, whole, a, b;
        assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 0, 0.4, 0.5, &mid, NULL), EC_OK);
        assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 0, 0.9, 1.0, &top, NULL), EC_OK);
        assert_true(top > 2 * mid);
        /* Additive: a -> b -> c equals a -> c. */
        assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 0, 0.1, 0.9, &whole, NULL), EC_OK);
        assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 0, 0.1, 0.47, &a, NULL), EC_OK);
        assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 0, 0.47, 0.9, &b, NULL), EC_OK);
        assert_true(fabs(whole - a - b) < whole * 1e-4);
        /* Every built-in can cross a 100 km motorway leg on a tenth of its battery or more. */
        assert_true(per_100km(&v, v.default_payload_kg, 20) * 1000 < v.battery_wh);
    }
}

static void test_physics(void **state)
{
    (void)state;
    ec_vehicle_profile v = get("generic-500");
    ec_conditions_t c = ec_conditions_default(&v);
    double flat = ec_energy_wh(&v, &c, 10000, 450, 0);
    double up = ec_energy_wh(&v, &c, 10000, 450, 100);
    double down = ec_energy_wh(&v, &c, 10000, 450, -300);
    /* Climbing 100 m with 40 t costs m g h / efficiency more. */
    assert_true(fabs((up - flat) - 40000 * 9.80665 * 100 / 0.9 / 3600) < 1.0);
    /* Steep enough downhill recovers energy, at the regeneration efficiency. */
    assert_true(down < 0);
    /* Heavier and faster cost more; an empty truck less. */
    ec_conditions_t empty = {0, 20};
    assert_true(ec_energy_wh(&v, &empty, 10000, 450, 0) < flat);
    assert_true(ec_energy_wh(&v, &c, 10000, 360, 0) > flat);
    assert_true(ec_energy_wh(&v, &c, 0, 0, 0) == 0);
}

/* A route's energy from its sums equals the sum over its pieces; charging
 * tables agree with the direct integral. */
static void test_route_sums_and_tables(void **state)
{
    (void)state;
    ec_vehicle_profile v;
    ec_vehicle_profile_builtin("fh-aero-electric", &v);
    ec_conditions_t c = {15000, -5};
    double len[] = {1200, 35000, 800, 15000, 4000}, speed[] = {13.9, 23.6, 8.3, 22.2, 16.7};
    double sum = 0, L = 0, T = 0, lv2 = 0;
    for (int i = 0; i < 5; i++) {
        sum += ec_energy_wh(&v, &c, len[i], len[i] / speed[i], 0);
        L += len[i], T += len[i] / speed[i], lv2 += len[i] * speed[i] * speed[i];
    }
    assert_true(fabs(ec_energy_route_wh(&v, &c, L, T, lv2) - sum) < 1e-6 * sum);
    ec_charge_table_t t;
    assert_int_equal(ec_charge_table_init(&v, EC_PLUG_MCS, 7e5, &t), EC_OK);
    double pairs[][2] = {{0.2, 0.8}, {0.1, 0.9}, {0.437, 0.612}, {0.5, 0.5005}};
    for (int i = 0; i < 4; i++) {
        double direct;
        assert_int_equal(ec_charge_time_s(&v, EC_PLUG_MCS, 7e5, pairs[i][0], pairs[i][1], &direct, NULL), EC_OK);
        double tab = ec_charge_table_time_s(&t, pairs[i][0], pairs[i][1]);
        if (fabs(tab - direct) > 1e-3 * direct + 0.5) fail_msg("%.3f..%.3f: table %.2f s, direct %.2f s", pairs[i][0], pairs[i][1], tab, direct);
        /* And back: the SoC reached in that time. */
        assert_true(fabs(ec_charge_table_soc_after(&t, pairs[i][0], tab) - pairs[i][1]) < 1e-6);
    }
    assert_true(ec_charge_table_soc_after(&t, 0.3, 1e9) == 1.0);
    assert_int_equal(ec_charge_table_init(&v, EC_PLUG_TYPE2, 0, &t), EC_EINVAL);
}

static void test_profile_files(void **state)
{
    (void)state;
    const char *good =
        "{\"name\":\"my-truck\",\"empty_mass_kg\":18000,\"max_payload_kg\":22000,\"battery_kwh\":560,"
        "\"cda_m2\":5.4,\"crr\":0.0048,\"aux_kw\":2,\"plugs\":{\"MCS\":900,\"CCS2\":350},"
        "\"curve\":[[0,500],[0.5,800],[1,100]]}";
    ec_vehicle_profile v;
    assert_int_equal(ec_vehicle_profile_parse(good, "t.json", &v), EC_OK);
    assert_string_equal(v.name, "my-truck");
    assert_string_equal(v.vehicle_class, "truck-40t");
    assert_true(v.battery_wh == 560000 && v.aux_w == 2000 && v.default_payload_kg == 22000);
    assert_true(ec_charge_power_w(&v, EC_PLUG_MCS, 0, 0.25) == 650000);
    assert_true(ec_charge_power_w(&v, EC_PLUG_CCS2, 0, 0.25) == 350000);
    const char *bad[][2] = {
        {"{\"name\":\"x\"}", "missing required field \"empty_mass_kg\""},
        {"{\"name\":\"x\",\"empty_mass_kg\":18000,\"max_payload_kg\":1,\"battery_kwh\":-5}", "\"battery_kwh\" is -5"},
        {"{\"name\":\"x\",\"wheels\":6}", "unknown field \"wheels\""},
        {"{\"name\":\"x\",\"empty_mass_kg\":18000,\"max_payload_kg\":1,\"battery_kwh\":5,\"cda_m2\":5,"
         "\"crr\":0.005,\"plugs\":{\"SCHUKO\":3},\"curve\":[[0,1],[1,1]]}", "unknown plug \"SCHUKO\""},
        {"{\"name\":\"x\",\"empty_mass_kg\":18000,\"max_payload_kg\":1,\"battery_kwh\":5,\"cda_m2\":5,"
         "\"crr\":0.005,\"plugs\":{\"MCS\":3},\"curve\":[[0,1],[0.5,1],[0.4,1],[1,1]]}", "curve point 3: soc must rise"},
        {"{\"name\":\"x\",\"empty_mass_kg\":18000,\"max_payload_kg\":1,\"battery_kwh\":5,\"cda_m2\":5,"
         "\"crr\":0.005,\"plugs\":{\"MCS\":3},\"curve\":[[0.1,1],[1,1]]}", "must run from soc 0 to soc 1"},
        {"{\"name\":\"x\",\"empty_mass_kg\":18000,\"max_payload_kg\":1,\"battery_kwh\":5,\"cda_m2\":5,"
         "\"crr\":0.005,\"curve\":[[0,1],[1,1]]}", "missing required field \"plugs\""},
        {"[]", "expected a JSON object"},
        {"{", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(ec_vehicle_profile_parse(bad[i][0], "t.json", &v), EC_OK);
        if (!strstr(ec_errmsg(), bad[i][1])) fail_msg("%s: got \"%s\"", bad[i][1], ec_errmsg());
    }
    assert_int_equal(ec_vehicle_profile_resolve("tesla", &v), EC_ENOTFOUND);
    assert_non_null(strstr(ec_errmsg(), "unknown vehicle profile \"tesla\""));
    ec_plug p;
    assert_int_equal(ec_plug_parse("CCS2", &p), 0);
    assert_int_equal(p, EC_PLUG_CCS2);
    assert_int_not_equal(ec_plug_parse("ccs2", &p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eactros_motorway_consumption),
        cmocka_unit_test(test_eactros_cold),
        cmocka_unit_test(test_eactros_mcs_20_80),
        cmocka_unit_test(test_volvo_mcs),
        cmocka_unit_test(test_man_limits),
        cmocka_unit_test(test_curve_shape),
        cmocka_unit_test(test_physics),
        cmocka_unit_test(test_route_sums_and_tables),
        cmocka_unit_test(test_profile_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
