/* test_twin_input.c - the corridor twin's input files: traffic, vehicle mix,
 * trips, times and scenarios, with their limits and messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_twin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2026-06-16T00:00:00Z, the simulated day of these tests. */
static int64_t day(void)
{
    return ec_days_from_civil(2026, 6, 16) * 86400;
}

/* Fails the test unless the last message holds every given part. */
static void msg_has(const char *a, const char *b)
{
    const char *m = ec_errmsg();
    if (!strstr(m, a) || (b && !strstr(m, b))) fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", m, a, b ? b : "");
}

static ec_err traffic(const char *text, ec_traffic_t *t)
{
    return ec_traffic_parse("traffic.csv", text, strlen(text), t);
}

/* ---- traffic --------------------------------------------------------------------------- */

static void test_traffic_reads(void **state)
{
    (void)state;
    ec_traffic_t t;
    assert_int_equal(traffic("id,origin,volume,destination\r\n7,108539,23066.25,112406\r\n\r\n8,-3,0,4\r\n", &t), EC_OK);
    assert_int_equal(t.n, 2);
    assert_true(t.od[0].origin == 108539 && t.od[0].destination == 112406 && t.od[0].per_year == 23066.25);
    assert_int_equal(t.od[0].line, 2);
    assert_true(t.od[1].origin == -3 && t.od[1].destination == 4 && t.od[1].per_year == 0);
    assert_int_equal(t.od[1].line, 4);
    ec_traffic_free(&t);
    assert_null(t.od);
    assert_int_equal(traffic("origin,destination,volume\n", &t), EC_OK);
    assert_int_equal(t.n, 0);
    ec_traffic_free(&t);
}

static void test_traffic_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *a, *b;
    } cases[] = {
        {"origin,destination,volume\n1,2,3\n1,2,abc\n", "traffic.csv:3:", "volume \"abc\" is not a number"},
        {"origin,destination,volume\n1,2,-1\n", "traffic.csv:2:", "volume \"-1\""},
        {"origin,destination,volume\n1,2,2e9\n", "traffic.csv:2:", "volume \"2e9\""},
        {"origin,destination,volume\n1,2,nan\n", "traffic.csv:2:", "volume \"nan\""},
        {"origin,destination,volume\n1,2,inf\n", "traffic.csv:2:", "volume \"inf\""},
        {"origin,destination,volume\n1.5,2,1\n", "traffic.csv:2:", "origin \"1.5\" is not a node id"},
        {"origin,destination,volume\n1,x,1\n", "traffic.csv:2:", "destination \"x\""},
        {"origin,destination,volume\n99999999999999999999,2,1\n", "traffic.csv:2:", "origin"},
        {"origin,destination,volume\n5,5,1\n", "traffic.csv:2:", "destination 5 is the origin"},
        {"origin,destination,volume\n5,6\n", "traffic.csv:2:", "volume is missing"},
        {"origin,dest,volume\n5,6,1\n", "traffic.csv:1:", "header lacks column destination"},
        {"", "traffic.csv", "empty file"},
        {"origin,destination,volume\n1,2,\"3\n", "traffic.csv:", "unterminated quoted field"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_traffic_t t = {(ec_od_t *)&t, 77};
        ec_alloc_stats_t a = ec_alloc_stats();
        assert_int_not_equal(traffic(cases[i].text, &t), EC_OK);
        ec_alloc_stats_t b = ec_alloc_stats();
        assert_int_equal(b.allocs - a.allocs, b.frees - a.frees);
        msg_has(cases[i].a, cases[i].b);
        assert_true(t.od == (ec_od_t *)&t && t.n == 77); /* untouched */
    }
}

static void test_traffic_row_limit(void **state)
{
    (void)state;
    const char head[] = "origin,destination,volume\n", row[] = "1,2,1\n";
    size_t rows = EC_TRAFFIC_MAX_ROWS + 1, len = strlen(head) + rows * strlen(row);
    char *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, head, strlen(head));
    for (size_t i = 0; i < rows; i++) memcpy(text + strlen(head) + i * strlen(row), row, strlen(row));
    text[len] = '\0';
    ec_traffic_t t;
    assert_int_equal(ec_traffic_parse("big.csv", text, len, &t), EC_ELIMIT);
    msg_has("more than 2000000", NULL);
    /* One row fewer is taken whole. */
    assert_int_equal(ec_traffic_parse("big.csv", text, len - strlen(row), &t), EC_OK);
    assert_int_equal(t.n, EC_TRAFFIC_MAX_ROWS);
    ec_traffic_free(&t);
    free(text);
}

static void test_traffic_real_corridors(void **state)
{
    (void)state;
    /* The shared data's README: pairs and trucks per average day of each. */
    static const struct {
        const char *corridor;
        size_t pairs;
        double per_day;
    } real[] = {{"rhine_ruhr", 812, 127400}, {"germany", 41650, 569300}};
    for (size_t k = 0; k < 2; k++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/../../../shared/data/corridors/%s/traffic.csv", EC_FIXTURES, real[k].corridor);
        if (access(full, R_OK) != 0) {
            skip();
            return;
        }
        ec_traffic_t t;
        assert_int_equal(ec_traffic_load(full, &t), EC_OK);
        assert_int_equal(t.n, real[k].pairs);
        double sum = 0;
        for (size_t i = 0; i < t.n; i++) sum += t.od[i].per_year;
        assert_true(fabs(sum / 365 - real[k].per_day) < 100);
        ec_traffic_free(&t);
    }
}

/* ---- times ----------------------------------------------------------------------------- */

static void test_times(void **state)
{
    (void)state;
    int64_t d = day(), t = 0;
    assert_int_equal(ec_twin_parse_time("00:00", d, &t), 0), assert_true(t == d);
    assert_int_equal(ec_twin_parse_time("07:30", d, &t), 0), assert_true(t == d + 7 * 3600 + 1800);
    assert_int_equal(ec_twin_parse_time("23:59", d, &t), 0), assert_true(t == d + 86340);
    assert_int_equal(ec_twin_parse_time("30:15", d, &t), 0), assert_true(t == d + 30 * 3600 + 900);
    assert_int_equal(ec_twin_parse_time("48:00", d, &t), 0), assert_true(t == d + 48 * 3600);
    assert_int_equal(ec_twin_parse_time("2026-06-16T07:30:00Z", d, &t), 0), assert_true(t == d + 27000);
    assert_int_equal(ec_twin_parse_time("2026-06-16T07:30Z", d, &t), 0), assert_true(t == d + 27000);
    assert_int_equal(ec_twin_parse_time("2026-06-16T07:30+02:00", d, &t), 0), assert_true(t == d + 19800);
    assert_int_equal(ec_twin_parse_time("2026-06-16T07:30:00-01:30", d, &t), 0), assert_true(t == d + 32400);
    static const char *const bad[] = {"48:01", "49:00", "12:60", "7:30", "07:3", "-1:00", "07:30x", "0730", "",
                                      "07-30", "2026-06-16T07:30+2:00", "2026-02-30T07:30Z", "noon",
                                      "2026-06-16T07:30+02:00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 42;
        if (ec_twin_parse_time(bad[i], d, &t) == 0) fail_msg("\"%s\" was read", bad[i]);
        assert_true(t == 42);
    }
    assert_int_not_equal(ec_twin_parse_time(NULL, d, &t), 0);
}

/* ---- vehicle mix ----------------------------------------------------------------------- */

static ec_err mix(const char *text, ec_vehicle_mix_t *m)
{
    return ec_vehicle_mix_parse("dir/mix.csv", text, strlen(text), m);
}

static void test_mix_default(void **state)
{
    (void)state;
    ec_vehicle_mix_t m;
    assert_int_equal(ec_vehicle_mix_default(&m), EC_OK);
    static const char *const names[] = {"eactros600", "fh-aero-electric", "etgx", "generic-500"};
    static const double shares[] = {0.4, 0.3, 0.2, 0.1};
    assert_int_equal(m.n, 4);
    double sum = 0;
    for (int i = 0; i < 4; i++) {
        assert_string_equal(m.e[i].name, names[i]);
        assert_string_equal(m.e[i].profile.name, names[i]);
        assert_true(m.e[i].share == shares[i]);
        sum += m.e[i].share;
    }
    assert_true(fabs(sum - 1) < 1e-12);
    assert_true(m.e[0].profile.battery_wh == 621000);
}

static void test_mix_scales_shares(void **state)
{
    (void)state;
    ec_vehicle_mix_t m;
    assert_int_equal(mix("share,vehicle\n3,eactros600\n1,etgx\n", &m), EC_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.e[0].name, "eactros600");
    assert_true(m.e[0].share == 0.75 && m.e[1].share == 0.25);
    assert_true(m.e[1].profile.battery_wh == 480000);
    assert_int_equal(mix("vehicle,share\ngeneric-500,0.2\n", &m), EC_OK);
    assert_true(m.n == 1 && m.e[0].share == 1);
}

static void test_mix_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *a, *b;
        ec_err rc;
    } cases[] = {
        {"vehicle,share\netgx,1\netgx,2\n", "dir/mix.csv:3:", "\"etgx\" is named twice", EC_EPARSE},
        {"vehicle,share\netgx,0\n", "dir/mix.csv:2:", "share of etgx is 0", EC_ERANGE},
        {"vehicle,share\netgx,-1\n", "dir/mix.csv:2:", "share \"-1\"", EC_EPARSE},
        {"vehicle,share\netgx,x\n", "dir/mix.csv:2:", "share \"x\"", EC_EPARSE},
        {"vehicle,share\nnope,1\n", "dir/mix.csv:2:", "vehicle \"nope\" is neither a built-in profile", EC_EIO},
        {"vehicle,share\n,1\n", "dir/mix.csv:2:", "vehicle is empty", EC_EPARSE},
        {"vehicle,share\n", "dir/mix.csv", "no vehicles", EC_EPARSE},
        {"vehicle\netgx\n", "dir/mix.csv:1:", "header lacks column share", EC_EPARSE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_vehicle_mix_t m;
        memset(&m, 0x5a, sizeof m);
        ec_alloc_stats_t a = ec_alloc_stats();
        assert_int_equal(mix(cases[i].text, &m), cases[i].rc);
        ec_alloc_stats_t b = ec_alloc_stats();
        assert_int_equal(b.allocs - a.allocs, b.frees - a.frees);
        msg_has(cases[i].a, cases[i].b);
        assert_int_equal(m.n, 0x5a5a5a5a); /* untouched */
    }
    /* A name longer than its field is refused, not cut. */
    char text[600] = "vehicle,share\n";
    size_t n = strlen(text);
    memset(text + n, 'a', 256);
    memcpy(text + n + 256, ",1\n", 4);
    ec_vehicle_mix_t m;
    assert_int_equal(mix(text, &m), EC_ELIMIT);
    msg_has("dir/mix.csv:2:", "vehicle longer than 255 characters");
}

/* A temporary folder with a profile file in it. */
static const char *PROFILE = "{\"name\":\"%s\",\"empty_mass_kg\":18000,\"max_payload_kg\":22000,\"battery_kwh\":%d,"
                             "\"cda_m2\":5,\"crr\":0.005,\"plugs\":{\"MCS\":1000},\"curve\":[[0,700],[1,100]]}";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_profile(const char *dir, const char *file, const char *name, int kwh)
{
    char path[512], text[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(text, sizeof text, PROFILE, name, kwh);
    write_file(path, text);
}

static void test_mix_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/ec_twin_XXXXXX", path[600];
    assert_non_null(mkdtemp(dir));
    write_profile(dir, "big.json", "big-truck", 900);
    snprintf(path, sizeof path, "%s/mix.csv", dir);
    write_file(path, "vehicle,share\nbig.json,1\netgx,1\n");
    /* Read from another folder: the profile is found beside the mix. */
    ec_vehicle_mix_t m;
    assert_int_equal(ec_vehicle_mix_load(path, &m), EC_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.e[0].name, "big.json");
    assert_string_equal(m.e[0].profile.name, "big-truck");
    assert_true(m.e[0].profile.battery_wh == 900000 && m.e[0].share == 0.5);

    /* At most EC_MIX_MAX vehicles. */
    char text[4096] = "vehicle,share\n";
    for (int i = 0; i <= EC_MIX_MAX; i++) {
        char f[32], name[32];
        snprintf(f, sizeof f, "p%d.json", i);
        snprintf(name, sizeof name, "truck-%d", i);
        write_profile(dir, f, name, 400 + i);
        size_t used = strlen(text);
        snprintf(text + used, sizeof text - used, "%s,1\n", f);
        if (i == EC_MIX_MAX - 1) {
            write_file(path, text);
            assert_int_equal(ec_vehicle_mix_load(path, &m), EC_OK);
            assert_int_equal(m.n, EC_MIX_MAX);
            assert_true(m.e[15].profile.battery_wh == 415000 && fabs(m.e[15].share - 1.0 / 16) < 1e-12);
        }
    }
    write_file(path, text);
    assert_int_equal(ec_vehicle_mix_load(path, &m), EC_ELIMIT);
    msg_has("mix.csv:18:", "more than 16 vehicles");

    /* A file over 16 MiB is refused before it is read through. */
    snprintf(path, sizeof path, "%s/huge.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (16 << 20) + 1), 0);
    fclose(f);
    assert_int_equal(ec_vehicle_mix_load(path, &m), EC_ELIMIT);
    ec_scenario_t s;
    assert_int_equal(ec_scenario_load(path, day(), &s), EC_ELIMIT);
    msg_has("huge.csv", "larger than");

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- trips ------------------------------------------------------------------------------- */

static ec_err trips(const char *text, ec_vehicle_mix_t *m, ec_trips_in_t *t)
{
    return ec_trips_in_parse("trips.csv", text, strlen(text), day(), m, t);
}

static void test_trips_read_and_add_vehicles(void **state)
{
    (void)state;
    char dir[] = "/tmp/ec_twin_XXXXXX", path[600];
    assert_non_null(mkdtemp(dir));
    write_profile(dir, "mine.json", "mine", 700);
    snprintf(path, sizeof path, "%s/trips.csv", dir);
    write_file(path, "origin,destination,departure,vehicle,soc\n"
                     "1,2,07:30,etgx,0.9\n"
                     "2,1,2026-06-16T20:00+02:00,mine.json,1\n"
                     "3,4,47:59,mine.json,0\n"
                     "4,3,00:00,eactros600,0.5\n");
    ec_vehicle_mix_t m;
    assert_int_equal(ec_vehicle_mix_default(&m), EC_OK);
    ec_trips_in_t t;
    assert_int_equal(ec_trips_in_load(path, day(), &m, &t), EC_OK);
    assert_int_equal(t.n, 4);
    assert_true(t.t[0].origin == 1 && t.t[0].destination == 2 && t.t[0].depart_s == day() + 27000);
    assert_true(t.t[0].vehicle == 2 && t.t[0].soc == 0.9 && t.t[0].line == 2);
    assert_true(t.t[1].depart_s == day() + 18 * 3600 && t.t[1].vehicle == 4 && t.t[1].soc == 1);
    assert_true(t.t[2].depart_s == day() + 47 * 3600 + 59 * 60 && t.t[2].vehicle == 4);
    assert_true(t.t[3].vehicle == 0 && t.t[3].depart_s == day());
    /* The new vehicle joined with share 0; the others kept theirs. */
    assert_int_equal(m.n, 5);
    assert_string_equal(m.e[4].name, "mine.json");
    assert_true(m.e[4].share == 0 && m.e[4].profile.battery_wh == 700000);
    assert_true(m.e[0].share == 0.4 && m.e[3].share == 0.1);
    ec_trips_in_free(&t);
    assert_null(t.t);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_trips_errors_restore_mix(void **state)
{
    (void)state;
    static const char H[] = "origin,destination,departure,vehicle,soc\n";
    static const struct {
        const char *rows, *a, *b;
    } cases[] = {
        {"1,2,07:00,generic-500,1.5\n", "trips.csv:2:", "soc \"1.5\""},
        {"1,2,07:00,generic-500,-0.1\n", "trips.csv:2:", "soc \"-0.1\""},
        {"1,2,49:00,etgx,1\n", "trips.csv:2:", "departure \"49:00\" is neither HH:MM"},
        {"1,1,07:00,etgx,1\n", "trips.csv:2:", "destination 1 is the origin"},
        {"x,1,07:00,etgx,1\n", "trips.csv:2:", "origin \"x\""},
        {"1,2,07:00,nope,1\n", "trips.csv:2:", "vehicle \"nope\" is neither"},
        {"1,2,07:00,etgx\n", "trips.csv:2:", "soc is missing"},
        /* A vehicle added on line 2 is gone again after line 3 fails. */
        {"1,2,07:00,etgx,1\n3,4,08:00,etgx,2\n", "trips.csv:3:", "soc \"2\""},
    };
    ec_vehicle_mix_t m, before;
    assert_int_equal(ec_vehicle_mix_parse("m.csv", "vehicle,share\neactros600,1\n", 27, &m), EC_OK);
    before = m;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", H, cases[i].rows);
        ec_trips_in_t t = {(ec_trip_in_t *)&t, 9};
        ec_alloc_stats_t a = ec_alloc_stats();
        assert_int_not_equal(trips(text, &m, &t), EC_OK);
        ec_alloc_stats_t b = ec_alloc_stats();
        assert_int_equal(b.allocs - a.allocs, b.frees - a.frees);
        msg_has(cases[i].a, cases[i].b);
        assert_true(t.t == (ec_trip_in_t *)&t && t.n == 9);
        assert_memory_equal(&m, &before, sizeof m);
    }
    /* The header names its columns; an empty trips file is no trips. */
    ec_trips_in_t t;
    assert_int_equal(trips("origin,destination,departure,vehicle\n", &m, &t), EC_EPARSE);
    msg_has("trips.csv:1:", "header lacks column soc");
    assert_int_equal(trips(H, &m, &t), EC_OK);
    assert_int_equal(t.n, 0);
    ec_trips_in_free(&t);
}

static void test_trips_vehicle_limit(void **state)
{
    (void)state;
    ec_vehicle_mix_t m;
    memset(&m, 0, sizeof m);
    for (int i = 0; i < EC_MIX_MAX; i++) {
        snprintf(m.e[i].name, sizeof m.e[i].name, "v%d", i);
        m.e[i].share = 1.0 / EC_MIX_MAX;
    }
    m.n = EC_MIX_MAX;
    ec_trips_in_t t;
    /* A name already in the mix is found without reading any profile. */
    assert_int_equal(trips("origin,destination,departure,vehicle,soc\n1,2,07:00,v15,1\n", &m, &t), EC_OK);
    assert_true(t.n == 1 && t.t[0].vehicle == 15);
    ec_trips_in_free(&t);
    assert_int_equal(trips("origin,destination,departure,vehicle,soc\n1,2,07:00,v3,1\n1,2,07:00,etgx,1\n", &m, &t),
                     EC_ELIMIT);
    msg_has("trips.csv:3:", "at most 16 vehicles");
    assert_int_equal(m.n, EC_MIX_MAX);
}

/* ---- scenarios --------------------------------------------------------------------------- */

static ec_err scenario(const char *text, ec_scenario_t *s)
{
    return ec_scenario_parse("scn.json", text, strlen(text), day(), s);
}

static const char *FULL =
    "{\"name\":\"cold day, Köln out\",\"temp_c\":-10,\"bev_share\":0.3,"
    "\"outages\":[{\"site\":\"koeln\",\"from\":\"06:00\",\"to\":\"10:30\"},{\"site\":\"bonn\"}],"
    "\"derating\":[{\"substation\":\"sub-a\",\"factor\":0.5,\"from\":\"2026-06-16T12:00+02:00\",\"to\":\"26:00\"},"
    "{\"substation\":\"sub-b\",\"factor\":0},{\"substation\":\"sub-b\",\"factor\":1}],"
    "\"charge_points\":[{\"site\":\"koeln\",\"standard\":\"MCS\",\"power_kw\":1000,\"count\":4},"
    "{\"site\":\"bonn\",\"standard\":\"CCS2\",\"count\":-1},"
    "{\"site\":\"new\",\"standard\":\"MCS\",\"power_kw\":750,\"count\":2,\"lat\":50.9,\"lon\":6.9,\"name\":\"Hub\"},"
    "{\"site\":\"new\",\"standard\":\"CCS2\",\"power_kw\":400,\"count\":6,\"lat\":50.9,\"lon\":6.9}]}";

static void test_scenario_reads(void **state)
{
    (void)state;
    ec_scenario_t s;
    int64_t d = day();
    assert_int_equal(scenario(FULL, &s), EC_OK);
    assert_string_equal(s.file, "scn.json");
    assert_string_equal(s.name, "cold day, Köln out");
    assert_true(s.has_temp && s.temp_c == -10 && s.has_bev_share && s.bev_share == 0.3);
    assert_int_equal(s.n_outages, 2);
    assert_string_equal(s.outages[0].site_id, "koeln");
    assert_true(s.outages[0].from_s == d + 6 * 3600 && s.outages[0].to_s == d + 10 * 3600 + 1800);
    /* A window left open is the whole simulated span, 00:00 to 48:00. */
    assert_true(s.outages[1].from_s == d && s.outages[1].to_s == d + 48 * 3600);
    assert_int_equal(s.n_derates, 3);
    assert_string_equal(s.derates[0].substation_id, "sub-a");
    assert_true(s.derates[0].factor == 0.5 && s.derates[0].from_s == d + 10 * 3600 && s.derates[0].to_s == d + 26 * 3600);
    assert_true(s.derates[1].factor == 0 && s.derates[2].factor == 1);
    assert_int_equal(s.n_points, 4);
    assert_true(s.points[0].plug == EC_PLUG_MCS && s.points[0].power_w == 1e6 && s.points[0].count == 4);
    assert_true(!s.points[0].has_pos && s.points[0].name[0] == '\0');
    assert_true(s.points[1].plug == EC_PLUG_CCS2 && s.points[1].power_w == 0 && s.points[1].count == -1);
    assert_true(s.points[2].has_pos && s.points[2].pos.lat == 50.9 && s.points[2].pos.lon == 6.9);
    assert_string_equal(s.points[2].name, "Hub");
    ec_scenario_free(&s);
    assert_null(s.outages);
    assert_int_equal(scenario("{}", &s), EC_OK);
    assert_true(!s.has_temp && !s.has_bev_share && s.n_outages == 0 && s.outages == NULL && s.name[0] == '\0');
    ec_scenario_free(&s);
}

static void test_scenario_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *field, *what;
    } cases[] = {
        /* The three the command's checks name. */
        {"{\"outages\":[{\"site\":\"a\"},{\"site\":\"a\",\"from\":\"10:00\",\"to\":\"09:00\"}]}", "scn.json: outages[1].to",
         "the window ends before it starts"},
        {"{\"derating\":[{\"substation\":\"s\",\"factor\":1.5}]}", "scn.json: derating[0].factor", "outside 0..1"},
        {"{\"derating\":[{\"substation\":\"s\",\"factor\":-0.1}]}", "scn.json: derating[0].factor", "outside 0..1"},
        {"{\"outages\":[{\"site\":\"a\",\"from\":\"10:00\",\"to\":\"10:00\"}]}", "outages[0].to", "ends when it starts"},
        {"{\"outages\":[{\"site\":\"a\",\"from\":\"49:00\"}]}", "outages[0].from", "\"49:00\" is neither"},
        {"{\"outages\":[{\"site\":\"a\",\"from\":600}]}", "outages[0].from", "found integer"},
        {"{\"outages\":[{\"from\":\"06:00\"}]}", "outages[0].site", "missing"},
        {"{\"outages\":[{\"site\":\"\"}]}", "outages[0].site", "empty"},
        {"{\"outages\":[{\"site\":\"a\",\"until\":\"07:00\"}]}", "outages[0]: unknown key \"until\"", "site, from, to"},
        {"{\"outages\":{\"site\":\"a\"}}", "scn.json: outages", "expected an array"},
        {"{\"outages\":[\"a\"]}", "outages[0]", "expected an object"},
        {"{\"derating\":[{\"substation\":\"s\"}]}", "derating[0].factor", "missing"},
        {"{\"derating\":[{\"substation\":\"s\",\"factor\":\"0.5\"}]}", "derating[0].factor", "expected a number"},
        {"{\"weather\":1}", "scn.json: unknown key \"weather\"", "expected name, temp_c"},
        {"{\"temp_c\":70}", "scn.json: temp_c", "outside -50..60"},
        {"{\"temp_c\":-51}", "scn.json: temp_c", "outside -50..60"},
        {"{\"bev_share\":1.2}", "scn.json: bev_share", "outside 0..1"},
        {"{\"name\":5}", "scn.json: name", "expected a string"},
        {"[1]", "scn.json", "expected a JSON object"},
        {"{\n\"name\": \"x\",\n\"temp_c\": ,\n}", "scn.json:3:", "invalid JSON"},
        {"{\"name\":\"a\",\"name\":\"b\"}", "scn.json:1:", "invalid JSON"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"XYZ\",\"count\":1,\"power_kw\":1}]}",
         "charge_points[0].standard", "\"XYZ\" is not one of MCS"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":0,\"power_kw\":1}]}",
         "charge_points[0].count", "whole number"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":2.5,\"power_kw\":1}]}",
         "charge_points[0].count", "whole number"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":1001,\"power_kw\":1}]}",
         "charge_points[0].count", "outside -1000..1000"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"power_kw\":1}]}", "charge_points[0].count",
         "missing"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":3}]}", "charge_points[0].power_kw",
         "added points need a power"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":3,\"power_kw\":0}]}",
         "charge_points[0].power_kw", "added points need a power"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":-3,\"power_kw\":-5}]}",
         "charge_points[0].power_kw", "outside 0..4000"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":3,\"power_kw\":9,\"lat\":50}]}",
         "charge_points[0].lon", "lat and lon come together"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":3,\"power_kw\":9,\"lat\":95,\"lon\":6}]}",
         "charge_points[0].lat", "outside -90..90"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":3,\"power_kw\":9,\"lat\":5,\"lon\":186}]}",
         "charge_points[0].lon", "outside -180..180"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":-3,\"lat\":5,\"lon\":6}]}",
         "charge_points[0].lat", "a removal names a site that exists"},
        {"{\"charge_points\":[{\"site\":\"a\",\"standard\":\"MCS\",\"count\":1,\"power_kw\":1,\"plug\":\"x\"}]}",
         "charge_points[0]: unknown key \"plug\"", "site, standard"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_scenario_t s;
        memset(&s, 0x5a, sizeof s);
        ec_alloc_stats_t a = ec_alloc_stats();
        if (scenario(cases[i].text, &s) == EC_OK) fail_msg("case %zu was read: %s", i, cases[i].text);
        ec_alloc_stats_t b = ec_alloc_stats();
        assert_int_equal(b.allocs - a.allocs, b.frees - a.frees);
        msg_has(cases[i].field, cases[i].what);
        assert_true(s.n_outages == (size_t)0x5a5a5a5a5a5a5a5aULL); /* untouched */
    }
}

static void test_scenario_limits(void **state)
{
    (void)state;
    /* Ids longer than their field are refused, not cut: 63 characters fit. */
    char text[256], id[80];
    memset(id, 's', 64);
    id[64] = '\0';
    snprintf(text, sizeof text, "{\"outages\":[{\"site\":\"%s\"}]}", id);
    ec_scenario_t s;
    assert_int_equal(scenario(text, &s), EC_ELIMIT);
    msg_has("outages[0].site", "longer than 63 characters");
    id[63] = '\0';
    snprintf(text, sizeof text, "{\"outages\":[{\"site\":\"%s\"}]}", id);
    assert_int_equal(scenario(text, &s), EC_OK);
    assert_string_equal(s.outages[0].site_id, id);
    ec_scenario_free(&s);

    /* EC_SCENARIO_MAX_ITEMS entries in a list, and no more. */
    const char *item = "{\"site\":\"a\"},";
    size_t cap = 64 + (EC_SCENARIO_MAX_ITEMS + 1) * strlen(item);
    char *big = malloc(cap);
    assert_non_null(big);
    for (int extra = 0; extra < 2; extra++) {
        size_t n = 0;
        n += (size_t)snprintf(big + n, cap - n, "{\"outages\":[");
        for (int i = 0; i < EC_SCENARIO_MAX_ITEMS + extra; i++) n += (size_t)snprintf(big + n, cap - n, "%s", item);
        snprintf(big + n - 1, cap - n + 1, "]}");
        if (!extra) {
            assert_int_equal(scenario(big, &s), EC_OK);
            assert_int_equal(s.n_outages, EC_SCENARIO_MAX_ITEMS);
            ec_scenario_free(&s);
        } else {
            assert_int_equal(scenario(big, &s), EC_ELIMIT);
            msg_has("scn.json: outages", "more than 10000 entries");
        }
    }
    free(big);
}

/* Every allocation of the readers may fail: each failure is reported and
 * frees what was taken. */
static void test_out_of_memory(void **state)
{
    (void)state;
    int failures = 0;
    for (int which = 0; which < 3; which++) {
        for (long k = 0;; k++) {
            ec_alloc_stats_t before = ec_alloc_stats();
            ec_alloc_fail_after(k);
            ec_err rc;
            if (which == 0) {
                ec_traffic_t t;
                rc = traffic("origin,destination,volume\n1,2,3\n2,3,4\n3,4,5\n4,5,6\n5,6,7\n", &t);
                if (!rc) ec_traffic_free(&t);
            } else if (which == 1) {
                ec_vehicle_mix_t m;
                ec_trips_in_t t;
                memset(&m, 0, sizeof m);
                rc = trips("origin,destination,departure,vehicle,soc\n1,2,07:00,etgx,1\n2,3,08:00,etgx,1\n", &m, &t);
                if (!rc) ec_trips_in_free(&t);
            } else {
                ec_scenario_t s;
                rc = scenario(FULL, &s);
                if (!rc) ec_scenario_free(&s);
            }
            ec_alloc_fail_after(-1);
            ec_alloc_stats_t after = ec_alloc_stats();
            assert_int_equal(after.allocs - before.allocs, after.frees - before.frees);
            if (!rc) break;
            assert_int_equal(rc, EC_ENOMEM);
            failures++;
        }
    }
    assert_true(failures >= 6);
}

/* ---- scenario against the sites ------------------------------------------------------------ */

static const char *SITES = "site_id,name,lat,lon,standard,power_kw,count\n"
                           "koeln,Köln,50.94,6.96,MCS,1000,2\n"
                           "bonn,Bonn,50.73,7.10,CCS2,400,4\n"
                           "koeln,Köln,50.94,6.96,CCS2,400,2\n";

static ec_err check(const char *text, const ec_sites *sites)
{
    static const char *const subs[] = {"sub-a", "sub-b"};
    ec_scenario_t s;
    ec_err rc = scenario(text, &s);
    assert_int_equal(rc, EC_OK);
    rc = ec_scenario_check(&s, sites, subs, 2);
    ec_scenario_free(&s);
    return rc;
}

static void test_scenario_check(void **state)
{
    (void)state;
    ec_sites sites;
    assert_int_equal(ec_sites_parse("sites.csv", SITES, strlen(SITES), &sites), EC_OK);
    assert_int_equal(check(FULL, &sites), EC_OK);
    static const struct {
        const char *text, *field, *what;
    } cases[] = {
        {"{\"outages\":[{\"site\":\"koeln\"},{\"site\":\"X\"}]}", "scn.json: outages[1].site",
         "no site \"X\" in the sites"},
        {"{\"derating\":[{\"substation\":\"sub-c\",\"factor\":0.5}]}", "scn.json: derating[0].substation",
         "no substation \"sub-c\""},
        {"{\"charge_points\":[{\"site\":\"X\",\"standard\":\"MCS\",\"count\":-1}]}", "charge_points[0].site",
         "no site \"X\" in the sites (a removal"},
        {"{\"charge_points\":[{\"site\":\"X\",\"standard\":\"MCS\",\"count\":1,\"power_kw\":1}]}",
         "charge_points[0].site", "a new site needs lat and lon"},
        {"{\"charge_points\":[{\"site\":\"koeln\",\"standard\":\"MCS\",\"count\":1,\"power_kw\":1,\"lat\":1,\"lon\":2}]}",
         "charge_points[0].lat", "\"koeln\" is in the sites"},
        {"{\"charge_points\":[{\"site\":\"bonn\",\"standard\":\"MCS\",\"count\":-1}]}", "charge_points[0].standard",
         "site \"bonn\" has no MCS points to remove"},
        {"{\"charge_points\":[{\"site\":\"koeln\",\"standard\":\"MCS\",\"count\":-1,\"power_kw\":400}]}",
         "charge_points[0].standard", "no MCS points of 400 kW"},
        {"{\"charge_points\":[{\"site\":\"n\",\"standard\":\"MCS\",\"count\":1,\"power_kw\":1,\"lat\":1,\"lon\":2},"
         "{\"site\":\"n\",\"standard\":\"CCS2\",\"count\":1,\"power_kw\":1,\"lat\":1,\"lon\":3}]}",
         "charge_points[1].lat", "other coordinates in charge_points[0]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_alloc_stats_t a = ec_alloc_stats();
        assert_int_not_equal(check(cases[i].text, &sites), EC_OK);
        ec_alloc_stats_t b = ec_alloc_stats();
        assert_int_equal(b.allocs - a.allocs, b.frees - a.frees);
        msg_has(cases[i].field, cases[i].what);
    }
    /* Removals that match: by plug alone, and by plug and power. */
    assert_int_equal(check("{\"charge_points\":[{\"site\":\"koeln\",\"standard\":\"CCS2\",\"count\":-2},"
                           "{\"site\":\"koeln\",\"standard\":\"MCS\",\"count\":-1,\"power_kw\":1000}]}",
                           &sites),
                     EC_OK);
    /* No sites at all: every site named is unknown. */
    assert_int_equal(check("{\"outages\":[{\"site\":\"koeln\"}]}", NULL), EC_ENOTFOUND);
    ec_sites_free(&sites);
}

/* The scenario docs/twin-inputs.md shows reads, and fits the demo region. */
static void test_documented_scenario(void **state)
{
    (void)state;
    char *doc;
    size_t len;
    assert_int_equal(ec_read_file(EC_FIXTURES "/../../docs/twin-inputs.md", 1 << 20, &doc, &len), EC_OK);
    char *json = strstr(doc, "```json\n");
    assert_non_null(json);
    json += 8;
    char *end = strstr(json, "```");
    assert_non_null(end);
    ec_scenario_t s;
    assert_int_equal(ec_scenario_parse("twin-inputs.md", json, (size_t)(end - json), day(), &s), EC_OK);
    assert_true(s.n_outages == 1 && s.n_derates == 1 && s.n_points == 3);
    assert_true(s.derates[0].from_s == day() + 10 * 3600 && s.derates[0].to_s == day() + 26 * 3600);
    ec_sites sites;
    assert_int_equal(ec_sites_load(EC_DEMO "/rhine_alpine/sites.csv", &sites), EC_OK);
    static const char *const subs[] = {"sub-koeln-eifeltor"};
    assert_int_equal(ec_scenario_check(&s, &sites, subs, 1), EC_OK);
    ec_sites_free(&sites);
    ec_scenario_free(&s);
    ec_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traffic_reads),
        cmocka_unit_test(test_traffic_errors),
        cmocka_unit_test(test_traffic_row_limit),
        cmocka_unit_test(test_traffic_real_corridors),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_mix_default),
        cmocka_unit_test(test_mix_scales_shares),
        cmocka_unit_test(test_mix_errors),
        cmocka_unit_test(test_mix_files),
        cmocka_unit_test(test_trips_read_and_add_vehicles),
        cmocka_unit_test(test_trips_errors_restore_mix),
        cmocka_unit_test(test_trips_vehicle_limit),
        cmocka_unit_test(test_scenario_reads),
        cmocka_unit_test(test_scenario_errors),
        cmocka_unit_test(test_scenario_limits),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_scenario_check),
        cmocka_unit_test(test_documented_scenario),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
