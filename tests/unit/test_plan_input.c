/* test_plan_input.c - the planning's inputs: candidates, costs and
 * jurisdictions, their checks, limits and messages, and point-in-polygon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHARED_DATA EC_FIXTURES "/../../../shared/data"

/* Fails the test unless the last message holds both parts. */
static void msg_has(const char *a, const char *b)
{
    const char *m = ec_errmsg();
    if (!strstr(m, a) || (b && !strstr(m, b))) fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", m, a, b ? b : "");
}

static ec_err cands(const char *text, ec_plan_cands_t *c)
{
    return ec_plan_cands_parse("cand.csv", text, strlen(text), c);
}

static ec_err costs(const char *text, ec_plan_costs_t *c)
{
    return ec_plan_costs_parse("costs.json", text, strlen(text), c);
}

static ec_err areas(const char *text, ec_plan_areas_t *a)
{
    return ec_plan_areas_parse("areas", text, strlen(text), a);
}

/* ---- candidates -------------------------------------------------------------------------- */

static void test_cands_read(void **state)
{
    (void)state;
    ec_plan_cands_t c;
    assert_int_equal(cands("lat,id,lon,max_points,renewable_km,headroom_kw,name\r\n"
                           "50.9,koeln,6.9,12,3.5,6000,\"Köln, Eifeltor\"\r\n"
                           "\r\n"
                           "51.2,neuss,6.7,,,,\n",
                           &c),
                     EC_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.c[0].id, "koeln");
    assert_string_equal(c.c[0].name, "Köln, Eifeltor");
    assert_true(c.c[0].pos.lat == 50.9 && c.c[0].pos.lon == 6.9);
    assert_int_equal(c.c[0].max_points, 12);
    assert_true(c.c[0].renewable_km == 3.5 && c.c[0].headroom_kw == 6000);
    assert_true(c.c[0].rail_interchange_km == -1 && c.c[0].logistics_hub_km == -1); /* columns absent */
    assert_string_equal(c.c[0].substation_id, "");
    assert_int_equal(c.c[0].line, 2);
    /* empty cells: the documented meanings */
    assert_int_equal(c.c[1].line, 4);
    assert_true(isinf(c.c[1].headroom_kw) && c.c[1].renewable_km == -1 && c.c[1].max_points == 0);
    assert_string_equal(c.c[1].name, "");
    ec_plan_cands_free(&c);
    assert_null(c.c);
    assert_int_equal(cands("id,lat,lon\n", &c), EC_OK);
    assert_int_equal(c.n, 0);
    ec_plan_cands_free(&c);
}

static void test_cands_errors(void **state)
{
    (void)state;
    char long_id[80], long_row[200];
    memset(long_id, 'x', 64);
    long_id[64] = 0;
    snprintf(long_row, sizeof long_row, "id,lat,lon\n%s,50,7\n", long_id);
    static const struct {
        const char *text, *a, *b;
    } cases[] = {
        {"", "cand.csv: empty file", NULL},
        {"id,lat\n", "cand.csv: line 1: header: lacks column lon", NULL},
        {"id,lat,lon,colour\n", "line 1: header: unknown column \"colour\"", NULL},
        {"id,lat,lon,lat\n", "line 1: header: column lat is named twice", NULL},
        {"id,lat,lon\n,50,7\n", "cand.csv: line 2: id: empty", NULL},
        {"id,lat,lon\na,50,7\nb,50,7\na,51,7\n", "cand.csv: line 4: id: \"a\" is named twice", "first on line 2"},
        {"id,lat,lon\na,91,7\n", "line 2: lat: 91 is outside -90..90", NULL},
        {"id,lat,lon\na,50,-181\n", "line 2: lon: -181 is outside", NULL},
        {"id,lat,lon\na,,7\n", "line 2: lat: empty", NULL},
        {"id,lat,lon\na,50,\n", "line 2: lon: empty", NULL},
        {"id,lat,lon\na,nan,7\n", "line 2: lat: \"nan\" is not a number", NULL},
        {"id,lat,lon,headroom_kw\na,50,7,inf\n", "line 2: headroom_kw: \"inf\" is not a number", NULL},
        {"id,lat,lon,headroom_kw\na,50,7,-5\n", "line 2: headroom_kw: -5 is negative", NULL},
        {"id,lat,lon,rail_interchange_km\na,50,7,-0.1\n", "line 2: rail_interchange_km: -0.1 is negative", NULL},
        {"id,lat,lon,logistics_hub_km\na,50,7,x\n", "line 2: logistics_hub_km: \"x\" is not a number", NULL},
        {"id,lat,lon,renewable_km\na,50,7,-1\n", "line 2: renewable_km: -1 is negative", NULL},
        {"id,lat,lon,max_points\na,50,7,0\n", "line 2: max_points: 0 is outside 1..1000", NULL},
        {"id,lat,lon,max_points\na,50,7,1001\n", "line 2: max_points: 1001 is outside 1..1000", NULL},
        {"id,lat,lon,max_points\na,50,7,2.5\n", "line 2: max_points: 2.5 is not a whole number", NULL},
        {"id,lat,lon\na,50\n", "line 2: lon: missing", NULL},
        {"id,lat,lon\na,50,7,9\n", "line 2: 4 fields where the header has 3", NULL},
        {"id,lat,lon\na,50,\"7\n", "unterminated quoted field", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_plan_cands_t c = {(ec_plan_cand_t *)&c, 77};
        ec_alloc_stats_t a = ec_alloc_stats();
        assert_int_not_equal(cands(cases[i].text, &c), EC_OK);
        ec_alloc_stats_t b = ec_alloc_stats();
        assert_int_equal(b.allocs - a.allocs, b.frees - a.frees);
        msg_has(cases[i].a, cases[i].b);
        assert_true(c.c == (ec_plan_cand_t *)&c && c.n == 77); /* untouched */
    }
    ec_plan_cands_t c;
    assert_int_equal(cands(long_row, &c), EC_ELIMIT);
    msg_has("line 2: id: longer than 63 bytes", NULL);
    long_id[63] = 0;
    snprintf(long_row, sizeof long_row, "id,lat,lon\n%s,50,7\n", long_id);
    assert_int_equal(cands(long_row, &c), EC_OK);
    ec_plan_cands_free(&c);
}

/* One row more than EC_PLAN_MAX_CANDIDATES is refused, naming its line. */
static void test_cands_limit(void **state)
{
    (void)state;
    ec_buf b;
    ec_buf_init(&b, 64u << 20);
    ec_buf_puts(&b, "id,lat,lon\n");
    size_t all_but_last = 0;
    for (int i = 0; i <= EC_PLAN_MAX_CANDIDATES; i++) {
        all_but_last = b.len;
        ec_buf_printf(&b, "c%d,50,7\n", i);
    }
    assert_int_equal(ec_buf_error(&b), EC_OK);
    ec_plan_cands_t c;
    assert_int_equal(ec_plan_cands_parse("big.csv", b.data, all_but_last, &c), EC_OK);
    assert_int_equal(c.n, EC_PLAN_MAX_CANDIDATES);
    ec_plan_cands_free(&c);
    assert_int_equal(ec_plan_cands_parse("big.csv", b.data, b.len, &c), EC_ELIMIT);
    msg_has("big.csv: line 100002: more than 100000 candidates", NULL);
    ec_buf_free(&b);
}

static void test_cands_fixture(void **state)
{
    (void)state;
    ec_plan_cands_t c;
    assert_int_equal(ec_plan_cands_load(EC_FIXTURES "/plan/rhine_ruhr_candidates.csv", &c), EC_OK);
    assert_true(c.n >= 5);
    for (size_t i = 0; i < c.n; i++) assert_true(c.c[i].pos.lat > 50.4 && c.c[i].pos.lat < 51.6);
    ec_plan_cands_free(&c);
    assert_int_equal(ec_plan_cands_load(EC_FIXTURES "/plan/absent.csv", &c), EC_EIO);
}

/* ---- costs -------------------------------------------------------------------------------- */

static void test_costs_default(void **state)
{
    (void)state;
    ec_plan_costs_t c;
    ec_plan_costs_default(&c);
    assert_string_equal(c.currency, "EUR");
    /* Conversions by hand from the source figures (docs/plan-inputs.md),
     * at 1.0824 USD per EUR. */
    assert_float_equal(c.ccs_point_capex, 120679.0 / 1.0824, 1e-6);
    assert_float_equal(c.point_opex_per_year, 720.0 / 1.0824, 1e-9);
    assert_float_equal(c.energy_price_per_kwh, 0.125 / 1.0824, 1e-12);
    assert_float_equal(c.demand_charge_per_kw_month, 13.0 / 1.0824, 1e-12);
    assert_float_equal(c.discount_rate, 0.07, 0);
    assert_float_equal(c.truck_km_per_year, 173809.152, 1e-6);
    assert_float_equal(c.diesel_price_per_l, 1.649 / 1.19, 1e-12);
    assert_float_equal(c.diesel_l_per_km, 0.326, 0);
    assert_float_equal(c.diesel_truck_capex, 133745.5 / 1.0824, 1e-6);
    assert_float_equal(c.bev_insurance_per_km, 0.198 / 1.609344 / 1.0824, 1e-12);
    assert_float_equal(c.charging_price_per_kwh, -1, 0);
    assert_true(c.point_max_utilisation > 0 && c.point_max_utilisation <= 1);
    assert_true(c.max_points_per_site >= 1 && c.max_points_per_site <= 1000);
    assert_true(c.proximity_km > 0 && c.mcs_point_kw > 0 && c.ccs_point_kw > 0);
}

/* Every key the parser knows is in the docs' defaults table with the
 * default the code has, to the figure's shown precision. */
static void test_costs_documented(void **state)
{
    (void)state;
    char *doc;
    size_t len;
    assert_int_equal(ec_read_file(EC_FIXTURES "/../../docs/plan-inputs.md", 1 << 20, &doc, &len), EC_OK);
    ec_plan_costs_t d;
    ec_plan_costs_default(&d);
    static const char *const keys[] = {
        "mcs_point_capex", "ccs_point_capex", "mcs_point_kw", "ccs_point_kw", "grid_capex_per_kw",
        "site_fixed_capex", "point_opex_per_year", "site_opex_per_year", "energy_price_per_kwh",
        "demand_charge_per_kw_month", "discount_rate", "point_max_utilisation", "weight_rail",
        "weight_logistics", "weight_renewable", "proximity_km", "truck_km_per_year", "diesel_price_per_l",
        "diesel_l_per_km", "diesel_truck_capex", "bev_glider_capex", "battery_capex_per_kwh",
        "motor_capex_per_kw", "diesel_maintenance_per_km", "bev_maintenance_per_km", "diesel_insurance_per_km",
        "bev_insurance_per_km", "charging_price_per_kwh"};
    const double vals[] = {d.mcs_point_capex, d.ccs_point_capex, d.mcs_point_kw, d.ccs_point_kw,
                           d.grid_capex_per_kw, d.site_fixed_capex, d.point_opex_per_year, d.site_opex_per_year,
                           d.energy_price_per_kwh, d.demand_charge_per_kw_month, d.discount_rate,
                           d.point_max_utilisation, d.weight_rail, d.weight_logistics, d.weight_renewable,
                           d.proximity_km, d.truck_km_per_year, d.diesel_price_per_l, d.diesel_l_per_km,
                           d.diesel_truck_capex, d.bev_glider_capex, d.battery_capex_per_kwh,
                           d.motor_capex_per_kw, d.diesel_maintenance_per_km, d.bev_maintenance_per_km,
                           d.diesel_insurance_per_km, d.bev_insurance_per_km, d.charging_price_per_kwh};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        /* a table row: "| `key` | value | ..." */
        char pat[80];
        snprintf(pat, sizeof pat, "| `%s` | ", keys[i]);
        const char *row = strstr(doc, pat);
        if (!row) fail_msg("docs/plan-inputs.md has no defaults row for %s", keys[i]);
        char *end;
        double v = strtod(row + strlen(pat), &end);
        /* the docs show 4 significant figures at least */
        if (fabs(v - vals[i]) > 5e-4 * fabs(vals[i]) + 1e-9)
            fail_msg("docs say %s = %g, the code %g", keys[i], v, vals[i]);
        /* its JSON is accepted */
        char json[120];
        snprintf(json, sizeof json, "{\"%s\": %.17g}", keys[i], vals[i]);
        ec_plan_costs_t c;
        assert_int_equal(costs(json, &c), EC_OK);
    }
    ec_free(doc);
}

static void test_costs_parse(void **state)
{
    (void)state;
    ec_plan_costs_t c, d;
    ec_plan_costs_default(&d);
    assert_int_equal(costs("{}", &c), EC_OK);
    assert_memory_equal(&c, &d, sizeof c);
    assert_int_equal(costs("{\"currency\": \"CHF\", \"mcs_point_capex\": 250000, \"discount_rate\": 0,"
                           " \"point_max_utilisation\": 1, \"max_points_per_site\": 1000,"
                           " \"charging_price_per_kwh\": 0.35, \"weight_rail\": 0}",
                           &c),
                     EC_OK);
    assert_string_equal(c.currency, "CHF");
    assert_float_equal(c.mcs_point_capex, 250000, 0);
    assert_float_equal(c.discount_rate, 0, 0);
    assert_float_equal(c.point_max_utilisation, 1, 0);
    assert_int_equal(c.max_points_per_site, 1000);
    assert_float_equal(c.charging_price_per_kwh, 0.35, 0);
    assert_float_equal(c.weight_rail, 0, 0);
    assert_float_equal(c.ccs_point_capex, d.ccs_point_capex, 0); /* the rest stays default */
}

static void test_costs_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *a, *b;
    } cases[] = {
        {"{\"mcs_point_capex\": -1}", "costs.json: mcs_point_capex: -1 is negative", NULL},
        {"{\"grid_capex_per_kw\": -0.5}", "grid_capex_per_kw: -0.5 is negative", NULL},
        {"{\"diesel_price_per_l\": -2}", "diesel_price_per_l: -2 is negative", NULL},
        {"{\"mcs_point_kw\": 0}", "mcs_point_kw: must be above 0", NULL},
        {"{\"proximity_km\": 0}", "proximity_km: must be above 0", NULL},
        {"{\"discount_rate\": 1.5}", "discount_rate: 1.5 is outside [0, 1)", NULL},
        {"{\"discount_rate\": 1}", "discount_rate: 1 is outside [0, 1)", NULL},
        {"{\"discount_rate\": -0.1}", "discount_rate: -0.1 is negative", NULL},
        {"{\"point_max_utilisation\": 0}", "point_max_utilisation: 0 is outside (0, 1]", NULL},
        {"{\"point_max_utilisation\": 1.01}", "point_max_utilisation: 1.01 is outside (0, 1]", NULL},
        {"{\"currency\": \"eur\"}", "currency: \"eur\" is not three upper-case letters", NULL},
        {"{\"currency\": \"EURO\"}", "currency: \"EURO\"", NULL},
        {"{\"currency\": 978}", "currency: expected a string, found", NULL},
        {"{\"max_points_per_site\": 0}", "max_points_per_site: expected a whole number from 1 to 1000", NULL},
        {"{\"max_points_per_site\": 1001}", "max_points_per_site", NULL},
        {"{\"max_points_per_site\": 2.5}", "max_points_per_site", NULL},
        {"{\"mcs_point_cost\": 1}", "costs.json: unknown key \"mcs_point_cost\"", NULL},
        {"{\"site_fixed_capex\": \"100\"}", "site_fixed_capex: expected a number, found string", NULL},
        {"{\"site_fixed_capex\": 1e300}", "site_fixed_capex: 1e+300 is beyond", NULL},
        {"[1]", "costs.json: expected an object of costs, found array", NULL},
        {"{\"a\": ", "costs.json", NULL},
        {"{\"discount_rate\": 0.1, \"discount_rate\": 0.2}", "costs.json", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_plan_costs_t c, before;
        memset(&c, 0x5a, sizeof c);
        before = c;
        ec_alloc_stats_t a = ec_alloc_stats();
        assert_int_not_equal(costs(cases[i].text, &c), EC_OK);
        ec_alloc_stats_t b = ec_alloc_stats();
        assert_int_equal(b.allocs - a.allocs, b.frees - a.frees);
        msg_has(cases[i].a, cases[i].b);
        assert_memory_equal(&c, &before, sizeof c); /* untouched */
    }
}

/* ---- jurisdictions -------------------------------------------------------------------------- */

/* Two squares side by side sharing the edge lon = 1, A with a hole; and C a
 * MultiPolygon of two squares, one inside A's hole. */
static const char geo_abc[] =
    "{\"type\": \"FeatureCollection\", \"features\": ["
    "{\"type\": \"Feature\", \"properties\": {\"jurisdiction_id\": \"A\"}, \"geometry\": {\"type\": \"Polygon\","
    " \"coordinates\": [[[0,0],[1,0],[1,1],[0,1],[0,0]], [[0.4,0.4],[0.6,0.4],[0.6,0.6],[0.4,0.6],[0.4,0.4]]]}},"
    "{\"type\": \"Feature\", \"properties\": {\"jurisdiction_id\": \"B\", \"name\": \"b\"}, \"geometry\": "
    "{\"type\": \"Polygon\", \"coordinates\": [[[1,0],[2,0],[2,1],[1,1],[1,0]]]}},"
    "{\"type\": \"Feature\", \"properties\": {\"jurisdiction_id\": \"C\"}, \"geometry\": {\"type\": \"MultiPolygon\","
    " \"coordinates\": [[[[5,5],[6,5],[6,6],[5,6],[5,5]]], [[[0.45,0.45],[0.55,0.45],[0.55,0.55],[0.45,0.55],"
    "[0.45,0.45]]]]}}"
    "]}";

static int of(const ec_plan_areas_t *a, double lon, double lat)
{
    return ec_plan_areas_of(a, 0, (ec_latlon_t){lat, lon});
}

/* Brute-force truth for a square [x0,x1] x [y0,y1], open on no side: the
 * tests only ask about points strictly inside or strictly outside. */
static void test_areas_geojson(void **state)
{
    (void)state;
    ec_plan_areas_t a;
    assert_int_equal(areas(geo_abc, &a), EC_OK);
    assert_int_equal(a.n_ids, 3);
    assert_string_equal(a.ids[0], "A");
    assert_string_equal(a.ids[2], "C");
    assert_int_equal(a.n_rings, 5);
    assert_int_equal(of(&a, 0.2, 0.2), 0);  /* A */
    assert_int_equal(of(&a, 0.42, 0.5), -1); /* in A's hole, in no other */
    assert_int_equal(of(&a, 0.5, 0.5), 2);   /* in A's hole and inside C's second polygon */
    assert_int_equal(of(&a, 1.5, 0.5), 1);   /* B */
    assert_int_equal(of(&a, 5.5, 5.5), 2);   /* C's first polygon */
    assert_int_equal(of(&a, 3, 3), -1);
    assert_int_equal(of(&a, -0.1, 0.5), -1);
    assert_int_equal(of(&a, 0.5, 1.2), -1);
    /* A grid of points against the squares' arithmetic. */
    for (int i = 1; i < 40; i++)
        for (int k = 1; k < 20; k++) {
            double x = i * 0.05 + 0.001, y = k * 0.05 + 0.001;
            int want = -1;
            int in_hole = x > 0.4 && x < 0.6 && y > 0.4 && y < 0.6;
            if (x < 1 && !in_hole) want = 0;
            else if (x > 0.45 && x < 0.55 && y > 0.45 && y < 0.55) want = 2;
            else if (x > 1) want = 1;
            if (of(&a, x, y) != want) fail_msg("(%g, %g): %d, want %d", x, y, of(&a, x, y), want);
        }
    ec_plan_areas_free(&a);
    assert_null(a.rings);
}

/* A point on the edge two polygons share lies in exactly one of them, read
 * alone: the ray's half-open rule, not file order, decides. */
static void test_areas_border(void **state)
{
    (void)state;
    static const char *const one[] = {
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"jurisdiction_id\":"
        "\"A\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"jurisdiction_id\":"
        "\"B\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}}]}",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"jurisdiction_id\":"
        "\"D\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,1],[1,1],[1,2],[0,2],[0,1]]]}}]}",
    };
    ec_plan_areas_t a[3];
    for (int i = 0; i < 3; i++) assert_int_equal(areas(one[i], &a[i]), EC_OK);
    /* on the vertical edge A|B, and on the horizontal edge A|D */
    const double pts[][2] = {{1, 0.5}, {1, 0.25}, {0.5, 1}, {0.3, 1}};
    for (size_t p = 0; p < 4; p++) {
        int hits = 0;
        int pair[2] = {0, pts[p][0] == 1 ? 1 : 2};
        for (int k = 0; k < 2; k++) hits += of(&a[pair[k]], pts[p][0], pts[p][1]) == 0;
        if (hits != 1) fail_msg("(%g, %g) lies in %d of the two", pts[p][0], pts[p][1], hits);
    }
    for (int i = 0; i < 3; i++) ec_plan_areas_free(&a[i]);
}

static void test_areas_csv(void **state)
{
    (void)state;
    ec_plan_areas_t a;
    assert_int_equal(areas("\xEF\xBB\xBFnode,jurisdiction_id\r\n30,koeln\n-2,bonn\n10,koeln\n", &a), EC_OK);
    assert_int_equal(a.n_ids, 2);
    assert_string_equal(a.ids[0], "koeln");
    assert_string_equal(a.ids[1], "bonn");
    assert_int_equal(a.n_nodes, 3);
    ec_latlon_t nowhere = {0, 0};
    assert_int_equal(ec_plan_areas_of(&a, 30, nowhere), 0);
    assert_int_equal(ec_plan_areas_of(&a, 10, nowhere), 0);
    assert_int_equal(ec_plan_areas_of(&a, -2, nowhere), 1);
    assert_int_equal(ec_plan_areas_of(&a, 11, nowhere), -1);
    assert_int_equal(ec_plan_areas_of(&a, 99, nowhere), -1);
    assert_int_equal(ec_plan_areas_of(&a, -99, nowhere), -1);
    assert_int_equal(ec_plan_areas_of(NULL, 10, nowhere), -1);
    ec_plan_areas_free(&a);
}

static void test_areas_errors(void **state)
{
    (void)state;
#define FC(feat) "{\"type\":\"FeatureCollection\",\"features\":[" feat "]}"
#define FEAT(props, geom) "{\"type\":\"Feature\",\"properties\":" props ",\"geometry\":" geom "}"
#define SQ "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]"
    static const struct {
        const char *text, *a, *b;
    } cases[] = {
        {"", "areas: empty file", NULL},
        {"node,jurisdiction\n1,a\n", "areas: line 1: header: expected node,jurisdiction_id", NULL},
        {"node,jurisdiction_id\n", "areas: no nodes", NULL},
        {"node,jurisdiction_id\n1,a\n2,b\n1,c\n", "areas: line 4: node: 1 is named twice", "first on line 2"},
        {"node,jurisdiction_id\n1.5,a\n", "line 2: node: \"1.5\" is not a whole number", NULL},
        {"node,jurisdiction_id\n1,\n", "line 2: jurisdiction_id: empty", NULL},
        {"node,jurisdiction_id\n1,a,b\n", "line 2: 3 fields, expected 2", NULL},
        {"{\"type\":\"Feature\"}", "expected a GeoJSON FeatureCollection", NULL},
        {"{\"type\":\"FeatureCollection\",\"features\":[]}", "areas: no polygons", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}", "{\"type\":\"Point\",\"coordinates\":[0,0]}")),
         "areas: features[0]: geometry: type Point is neither Polygon nor MultiPolygon", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}", "{\"type\":\"Polygon\",\"coordinates\":" SQ "}") ","
                FEAT("{\"jurisdiction_id\":\"b\"}", "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}")),
         "features[1]: geometry: type LineString", NULL},
        {FC(FEAT("{\"id\":\"a\"}", "{\"type\":\"Polygon\",\"coordinates\":" SQ "}")),
         "features[0]: properties.jurisdiction_id: missing or not a string", NULL},
        {FC(FEAT("{\"jurisdiction_id\":7}", "{\"type\":\"Polygon\",\"coordinates\":" SQ "}")),
         "features[0]: properties.jurisdiction_id", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"\"}", "{\"type\":\"Polygon\",\"coordinates\":" SQ "}")),
         "features[0]: jurisdiction_id: empty", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}", "null")), "features[0]: geometry: missing", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}", "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}")),
         "features[0].geometry.coordinates[0]: a ring needs at least 4 positions, has 3", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}",
                 "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0.5]]]}")),
         "coordinates[0]: the ring is not closed", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}",
                 "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,95],[0,1],[0,0]]]}")),
         "coordinates[0][2]: [1, 95] is not a longitude and latitude", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}",
                 "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[\"1\",1],[0,1],[0,0]]]}")),
         "coordinates[0][2]: expected a position [lon, lat]", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}", "{\"type\":\"MultiPolygon\",\"coordinates\":[" SQ ",[]]}")),
         "features[0].geometry.coordinates[1]: expected a polygon", NULL},
        {FC(FEAT("{\"jurisdiction_id\":\"a\"}", "{\"type\":\"Polygon\",\"coordinates\":[]}")),
         "features[0].geometry.coordinates: expected a polygon", NULL},
        {FC("7"), "features[0]: expected an object of type Feature", NULL},
        {"{\"type\":\"FeatureCollection\",\"features\":[", "areas", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_plan_areas_t a, before;
        memset(&a, 0x5a, sizeof a);
        before = a;
        ec_alloc_stats_t s0 = ec_alloc_stats();
        if (areas(cases[i].text, &a) == EC_OK) fail_msg("case %zu read", i);
        ec_alloc_stats_t s1 = ec_alloc_stats();
        assert_int_equal(s1.allocs - s0.allocs, s1.frees - s0.frees);
        msg_has(cases[i].a, cases[i].b);
        assert_memory_equal(&a, &before, sizeof a);
    }
}

/* 256 jurisdictions read; the 257th is refused, naming where. Too many
 * vertices are refused before they are stored. */
static void test_areas_limits(void **state)
{
    (void)state;
    ec_buf b;
    ec_buf_init(&b, 1 << 20);
    ec_buf_puts(&b, "node,jurisdiction_id\n");
    for (int i = 0; i < EC_PLAN_MAX_JURISDICTIONS; i++) ec_buf_printf(&b, "%d,j%d\n", i, i);
    ec_plan_areas_t a;
    assert_int_equal(ec_plan_areas_parse("ids.csv", b.data, b.len, &a), EC_OK);
    assert_int_equal(a.n_ids, EC_PLAN_MAX_JURISDICTIONS);
    ec_plan_areas_free(&a);
    ec_buf_puts(&b, "999,one-more\n");
    assert_int_equal(ec_plan_areas_parse("ids.csv", b.data, b.len, &a), EC_ELIMIT);
    msg_has("ids.csv: line 258: jurisdiction_id: \"one-more\" would be the 257th", NULL);
    ec_buf_free(&b);

    /* a ring of EC_PLAN_MAX_POLYGON_VERTICES + 1 positions */
    ec_buf_init(&b, 64u << 20);
    ec_buf_puts(&b, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":"
                    "{\"jurisdiction_id\":\"a\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0]");
    for (int i = 1; i < EC_PLAN_MAX_POLYGON_VERTICES; i++) ec_buf_puts(&b, ",[1,1]");
    ec_buf_puts(&b, ",[0,0]]]}}]}");
    assert_int_equal(ec_buf_error(&b), EC_OK);
    assert_int_equal(ec_plan_areas_parse("big.geojson", b.data, b.len, &a), EC_ELIMIT);
    msg_has("big.geojson: features[0].geometry.coordinates[0]: more than 2000000 vertices", NULL);
    ec_buf_free(&b);
#undef FC
#undef FEAT
#undef SQ
}

/* The Rhine-Ruhr fixture puts every node of the corridor in exactly one
 * jurisdiction; the German states' CSV names every node of Germany's. */
static void test_areas_fixtures(void **state)
{
    (void)state;
    ec_plan_areas_t a;
    assert_int_equal(ec_plan_areas_load(EC_FIXTURES "/plan/rhine_ruhr_areas.geojson", &a), EC_OK);
    assert_true(a.n_ids >= 4 && a.n_ids <= 6);
    char *text;
    size_t len;
    if (ec_read_file(SHARED_DATA "/corridors/rhine_ruhr/segments.csv", 1 << 24, &text, &len)) {
        ec_plan_areas_free(&a);
        skip(); /* a fresh checkout has no ../shared */
    }
    ec_csv r;
    ec_csv_init(&r, "segments.csv", text, len, ',');
    assert_int_equal(ec_csv_next(&r), EC_OK);
    int cs = ec_csv_find(&r, "source"), cx = ec_csv_find(&r, "position_x"), cy = ec_csv_find(&r, "position_y");
    size_t rows = 0;
    int seen[EC_PLAN_MAX_JURISDICTIONS] = {0};
    while (ec_csv_next(&r) == EC_OK) {
        ec_latlon_t p = {strtod(r.fields[cy], NULL), strtod(r.fields[cx], NULL)};
        int j = ec_plan_areas_of(&a, strtoll(r.fields[cs], NULL, 10), p);
        if (j < 0) fail_msg("node %s at %g,%g lies in no jurisdiction", r.fields[cs], p.lat, p.lon);
        seen[j]++;
        rows++;
    }
    ec_csv_free(&r);
    ec_free(text);
    assert_true(rows > 100);
    for (size_t j = 0; j < a.n_ids; j++)
        if (!seen[j]) fail_msg("jurisdiction %s holds no node", a.ids[j]);
    ec_plan_areas_free(&a);

    assert_int_equal(ec_plan_areas_load(EC_FIXTURES "/plan/germany_states.csv", &a), EC_OK);
    assert_int_equal(a.n_ids, 16);
    assert_int_equal(ec_read_file(SHARED_DATA "/corridors/germany/segments.csv", 1 << 24, &text, &len), EC_OK);
    ec_csv_init(&r, "segments.csv", text, len, ',');
    assert_int_equal(ec_csv_next(&r), EC_OK);
    int ct = ec_csv_find(&r, "target");
    cs = ec_csv_find(&r, "source");
    while (ec_csv_next(&r) == EC_OK)
        for (int k = 0; k < 2; k++) {
            const char *n = r.fields[k ? ct : cs];
            if (ec_plan_areas_of(&a, strtoll(n, NULL, 10), (ec_latlon_t){0, 0}) < 0)
                fail_msg("germany_states.csv lacks node %s", n);
        }
    ec_csv_free(&r);
    ec_free(text);
    ec_plan_areas_free(&a);
}

/* Out of memory at every allocation: an error, nothing leaked. */
static void test_oom(void **state)
{
    (void)state;
    static const char cand_csv[] = "id,lat,lon,name\na,50,7,x\nb,51,7,y\n";
    for (long n = 0; n < 40; n++) {
        ec_alloc_stats_t s0 = ec_alloc_stats();
        ec_alloc_fail_after(n);
        ec_plan_areas_t a;
        ec_plan_cands_t c;
        ec_plan_costs_t k;
        ec_err r1 = areas(geo_abc, &a), r2 = cands(cand_csv, &c), r3 = costs("{\"discount_rate\": 0.05}", &k);
        ec_alloc_fail_after(-1);
        if (!r1) ec_plan_areas_free(&a);
        if (!r2) ec_plan_cands_free(&c);
        (void)r3;
        ec_alloc_stats_t s1 = ec_alloc_stats();
        assert_int_equal(s1.allocs - s0.allocs, s1.frees - s0.frees);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cands_read),     cmocka_unit_test(test_cands_errors),
        cmocka_unit_test(test_cands_limit),    cmocka_unit_test(test_cands_fixture),
        cmocka_unit_test(test_costs_default),  cmocka_unit_test(test_costs_documented),
        cmocka_unit_test(test_costs_parse),    cmocka_unit_test(test_costs_errors),
        cmocka_unit_test(test_areas_geojson),  cmocka_unit_test(test_areas_border),
        cmocka_unit_test(test_areas_csv),      cmocka_unit_test(test_areas_errors),
        cmocka_unit_test(test_areas_limits),   cmocka_unit_test(test_areas_fixtures),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
