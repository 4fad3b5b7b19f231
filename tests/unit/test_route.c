/* test_route.c - charging-stop plans: invariants on every answer, the fast
 * search against an exhaustive reference, infeasible trips, the sites file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_route.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static ec_graph *g;
static ec_sites all_sites;

static int setup(void **state)
{
    (void)state;
    ec_load_opts_t o = {.metric = EC_METRIC_TIME};
    ec_vehicle_class_builtin("truck-40t", &o.vehicle);
    if (ec_graph_load_corridor(EC_DEMO "/rhine_alpine", &o, &g) || ec_ch_build(g, NULL) || ec_graph_snap_prepare(g))
        return -1;
    return ec_sites_load(EC_DEMO "/rhine_alpine/sites.csv", &all_sites) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    ec_graph_free(g);
    ec_sites_free(&all_sites);
    return 0;
}

static const ec_latlon_t ROTTERDAM = {51.9225, 4.4792}, BASEL = {47.5596, 7.5886};

static ec_trip_request_t request(const ec_vehicle_profile *v, double soc, ec_rules rules)
{
    ec_trip_request_t r;
    memset(&r, 0, sizeof r);
    r.vehicle = v;
    r.cond = ec_conditions_default(v);
    r.soc_start = soc;
    r.soc_min = 0.1;
    r.soc_min_arrival = 0.1;
    r.rules = rules;
    r.depart_s = 1795500000;
    r.stop_overhead_s = 300;
    return r;
}

/* What must hold for any feasible plan. */
static void check_invariants(const ec_trip_plan_t *p, const ec_trip_request_t *r)
{
    assert_true(p->feasible);
    double cap_kwh = r->vehicle->battery_wh / 1000.0;
    double charged_kwh = 0, t_prev = (double)p->departure_s;
    for (int i = 0; i < p->n_stops; i++) {
        const ec_trip_stop_t *s = &p->stops[i];
        assert_true(s->soc_in >= r->soc_min - 1e-9);
        assert_true(s->soc_out >= s->soc_in - 1e-9);
        assert_true(s->soc_out <= r->vehicle->soc_max + 1e-9);
        assert_true((double)s->arrival_s >= t_prev - 1);
        int eu = r->rules == EC_RULES_EU;
        double pause = s->rest ? (eu ? 11 * 3600 : 10 * 3600)
                       : s->brk ? (s->break_part == 2 ? 1800 : eu ? 2700 : 1800)
                       : s->break_part == 1 ? 900 : 0;
        assert_true(s->break_part == 0 || (eu && (s->break_part == 1) == !s->brk));
        assert_true(!s->rest || s->brk);
        assert_true(s->wait_s >= 0 && (s->wait_s == 0 || s->charge_s > 0));
        assert_true(fabs((double)(s->departure_s - s->arrival_s) - s->wait_s - fmax(s->charge_s + s->overhead_s, pause)) <= 2);
        assert_true(fabs(s->energy_kwh - (s->soc_out - s->soc_in) * cap_kwh / r->vehicle->charge_eff) < 0.05);
        charged_kwh += s->energy_kwh * r->vehicle->charge_eff;
        t_prev = (double)s->departure_s;
    }
    assert_true(p->soc_arrival >= r->soc_min_arrival - 1e-9);
    /* The battery balances: start + charged - driven = arrival. */
    assert_true(fabs(r->soc_start * cap_kwh + charged_kwh - p->energy_kwh - p->soc_arrival * cap_kwh) < 0.05);
    /* Times add up. */
    assert_true(fabs(p->duration_s - (p->drive_s + p->charge_s + p->wait_s + p->overhead_s + p->break_s + p->rest_s)) < 2);
    assert_true(llabs(p->arrival_s - p->departure_s - (int64_t)llround(p->duration_s)) <= 1);
    /* Driver rules: every block of driving longer than the limit ends in a break or a rest. */
    if (r->rules != EC_RULES_NONE) {
        double block = r->rules == EC_RULES_EU ? 4.5 * 3600 : 8 * 3600, brk = r->rules == EC_RULES_EU ? 2700 : 1800;
        double day = r->rules == EC_RULES_EU ? 9 * 3600 : 11 * 3600, rest = r->rules == EC_RULES_EU ? 11 * 3600 : 10 * 3600;
        /* Pauses at stops overlap charging; what is left of break_s and rest_s was taken on the road. */
        int stop_breaks = 0, stop_rests = 0;
        double road_break = p->break_s, road_rest = p->rest_s;
        for (int i = 0; i < p->n_stops; i++) {
            const ec_trip_stop_t *s = &p->stops[i];
            double pause = (double)(s->departure_s - s->arrival_s) - s->wait_s - s->charge_s - s->overhead_s;
            if (s->rest) stop_rests++, road_rest -= pause;
            else if (s->brk) stop_breaks++, road_break -= pause;
            else if (s->break_part == 1) road_break -= pause;
        }
        /* The road's pauses are whole breaks (or second parts) and rests. */
        double half = r->rules == EC_RULES_EU ? 1800 : brk;
        assert_true(road_break >= p->road_breaks * half - 3 && road_break <= p->road_breaks * brk + 3);
        assert_true(fabs(road_rest - p->road_rests * rest) < 3);
        int resets = p->road_breaks + p->road_rests + stop_breaks + stop_rests, rests = p->road_rests + stop_rests;
        double need = ceil((p->drive_s + r->driven_since_break_s) / block - 1e-9) - 1;
        assert_true(resets >= need);
        assert_true(rests >= ceil(p->drive_s / day - 1e-9) - 1);
        /* Each duty period ends in a rest within the window (13 h EU, 14 h US). */
        double window = r->rules == EC_RULES_EU ? 13 * 3600 : 14 * 3600;
        assert_true(p->duration_s <= (rests + 1) * window + rests * rest + 2);
    }
    /* Money: whole cents per stop, summing exactly to the total. */
    int64_t sum = 0;
    for (int i = 0; i < p->n_stops; i++) assert_true(p->stops[i].cost % 100 == 0), sum += p->stops[i].cost;
    assert_true(sum == p->cost);
    /* The road's pauses are listed one by one, in time order, between departure
     * and arrival, of the lengths the rules give; the whole lengths of breaks
     * and rests hold what is not charging. */
    assert_int_equal(p->n_pauses, p->road_breaks + p->road_rests);
    int64_t t = p->departure_s;
    for (int i = 0; i < p->n_pauses; i++) {
        const ec_trip_pause_t *x = &p->pauses[i];
        int64_t len = x->end_s - x->start_s;
        int eu = r->rules == EC_RULES_EU;
        assert_true(x->start_s >= t - 1 && x->end_s <= p->arrival_s);
        if (x->kind == EC_PAUSE_REST) assert_true(len == (eu ? 11 * 3600 : 10 * 3600));
        else if (x->kind == EC_PAUSE_BREAK_PART) assert_true(eu && len == 1800);
        else assert_true(x->kind == EC_PAUSE_BREAK && len == (eu ? 2700 : 1800));
        t = x->end_s;
    }
    assert_true(p->break_total_s >= p->break_s - 1 && p->rest_total_s >= p->rest_s - 1);
}

static void test_demo_trip(void **state)
{
    (void)state;
    ec_vehicle_profile v;
    ec_vehicle_profile_builtin("eactros600", &v);
    ec_trip_planner *pl;
    assert_int_equal(ec_trip_planner_new(g, &all_sites, &pl), EC_OK);
    size_t skipped;
    assert_int_equal(ec_trip_planner_sites(pl, &skipped), 19);
    assert_int_equal(skipped, 0);
    for (int rules = 0; rules < 3; rules++)
        for (int obj = 0; obj < 2; obj++) {
            ec_trip_request_t r = request(&v, 0.85, (ec_rules)rules);
            r.objective = (ec_objective)obj;
            ec_trip_plan_t p;
            assert_int_equal(ec_trip_plan(pl, &r, ROTTERDAM, BASEL, &p), EC_OK);
            check_invariants(&p, &r);
            assert_true(p.n_stops >= 1); /* 836 km do not fit in 85 % of 621 kWh */
            assert_true(fabs(p.distance_m - 836000) < 1000);
        }
    /* Cost objective never costs more than the time objective; time never arrives later. */
    ec_trip_request_t rt = request(&v, 0.85, EC_RULES_EU), rc = rt;
    rc.objective = EC_OBJ_COST;
    ec_trip_plan_t pt, pc;
    ec_trip_plan(pl, &rt, ROTTERDAM, BASEL, &pt);
    ec_trip_plan(pl, &rc, ROTTERDAM, BASEL, &pc);
    assert_true(pc.cost <= pt.cost + 1);
    assert_true(pt.duration_s <= pc.duration_s + 1e-6);
    /* A site the plan used, avoided: a plan without it. */
    const char *avoid[1] = {pt.stops[0].site_id};
    rt.avoid = avoid;
    rt.n_avoid = 1;
    ec_trip_plan_t pa;
    assert_int_equal(ec_trip_plan(pl, &rt, ROTTERDAM, BASEL, &pa), EC_OK);
    check_invariants(&pa, &rt);
    for (int i = 0; i < pa.n_stops; i++) assert_string_not_equal(pa.stops[i].site_id, avoid[0]);
    assert_true(pa.duration_s >= pt.duration_s - 1e-6);
    ec_trip_planner_free(pl);
}

/* Basel lies 260 m above Rotterdam. The corridor's grades are gentle: the
 * wheels never brake energy back, so all the work of lifting the truck goes
 * through the drivetrain, and going up costs exactly that much more than on
 * level roads (going down, that much less). */
static void test_grades(void **state)
{
    (void)state;
    ec_vehicle_profile v;
    ec_vehicle_profile_builtin("eactros600", &v);
    ec_trip_request_t r = request(&v, 0.9, EC_RULES_NONE);
    ec_trip_plan_t up, down, level;
    ec_trip_planner *pl;
    assert_int_equal(ec_trip_planner_new(g, &all_sites, &pl), EC_OK);
    assert_int_equal(ec_trip_plan(pl, &r, ROTTERDAM, BASEL, &up), EC_OK);
    assert_int_equal(ec_trip_plan(pl, &r, BASEL, ROTTERDAM, &down), EC_OK);
    check_invariants(&up, &r);
    check_invariants(&down, &r);
    ec_trip_planner_free(pl);
    const float *elev = g->elev_m;
    g->elev_m = NULL;
    assert_int_equal(ec_trip_planner_new(g, &all_sites, &pl), EC_OK);
    assert_int_equal(ec_trip_plan(pl, &r, ROTTERDAM, BASEL, &level), EC_OK);
    ec_trip_planner_free(pl);
    g->elev_m = elev;
    double lift_kwh = (v.empty_mass_kg + r.cond.payload_kg) * 9.80665 * (elev[20] - elev[0]) / 3.6e6 / v.drivetrain_eff;
    print_message("Rotterdam -> Basel %.1f kWh, level %.1f kWh, back %.1f kWh; lifting %.1f kWh at the battery\n",
                  up.energy_kwh, level.energy_kwh, down.energy_kwh, lift_kwh);
    assert_true(fabs(up.distance_m - down.distance_m) < 1 && fabs(up.distance_m - level.distance_m) < 1);
    assert_true(fabs(up.energy_kwh - level.energy_kwh - lift_kwh) < 0.2);
    assert_true(fabs(level.energy_kwh - down.energy_kwh - lift_kwh) < 0.2);
}

static void test_infeasible_and_bad_requests(void **state)
{
    (void)state;
    ec_vehicle_profile v;
    ec_vehicle_profile_builtin("etgx", &v);
    ec_sites one = {all_sites.groups, 1, "EUR"}; /* only the Rotterdam hub */
    ec_trip_planner *pl;
    assert_int_equal(ec_trip_planner_new(g, &one, &pl), EC_OK);
    ec_trip_request_t r = request(&v, 0.9, EC_RULES_EU);
    ec_trip_plan_t p;
    assert_int_equal(ec_trip_plan(pl, &r, ROTTERDAM, BASEL, &p), EC_OK);
    assert_false(p.feasible);
    assert_non_null(strstr(p.reason, "km short"));
    r.soc_start = 1.5;
    assert_int_equal(ec_trip_plan(pl, &r, ROTTERDAM, BASEL, &p), EC_ERANGE);
    r.soc_start = 0.05;
    assert_int_equal(ec_trip_plan(pl, &r, ROTTERDAM, BASEL, &p), EC_ERANGE);
    assert_non_null(strstr(ec_errmsg(), "below the minimum"));
    r.soc_start = 0.9;
    r.cond.payload_kg = 90000;
    assert_int_equal(ec_trip_plan(pl, &r, ROTTERDAM, BASEL, &p), EC_ERANGE);
    r.cond.payload_kg = 0;
    ec_latlon_t sea = {54.5, 3.0};
    assert_int_equal(ec_trip_plan(pl, &r, ROTTERDAM, sea, &p), EC_ENOTFOUND);
    ec_trip_planner_free(pl);
}

static uint64_t rng = 77;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng >> 33) % n);
}

/* The label-setting search finds the exhaustive search's optimum. */
static void test_against_exhaustive_reference(void **state)
{
    (void)state;
    const char *names[] = {"eactros600", "etgx", "generic-500", "fh-aero-electric"};
    int cases = 0, feasible = 0, with_break = 0, with_split = 0, with_rest = 0, with_wait = 0, with_reserved = 0;
    /* 300 random pairs, then 100 end to end of the corridor, where daily rests fall due. */
    for (int round = 0; round < 400; round++) {
        ec_vehicle_profile v;
        ec_vehicle_profile_builtin(names[rnd(4)], &v);
        /* 1..3 random sites. */
        ec_connector_group_t groups[3];
        int ns = 1 + (int)rnd(3);
        for (int i = 0; i < ns; i++) {
            groups[i] = all_sites.groups[rnd((uint32_t)all_sites.n)];
            snprintf(groups[i].site_id, sizeof groups[i].site_id, "S%d", i);
            /* Queues, busy sites and reservable windows around the trip. */
            if (rnd(3) == 0) groups[i].wait_s = rnd(60) * 60.0;
            if (rnd(4) == 0) groups[i].available = 0;
            if (rnd(3) == 0) {
                groups[i].reservable_from = 1795500000 + rnd(12) * 3600;
                groups[i].reservable_to = groups[i].reservable_from + (1 + rnd(4)) * 3600;
            }
        }
        ec_sites s = {groups, (size_t)ns, "EUR"};
        ec_trip_planner *pl;
        assert_int_equal(ec_trip_planner_new(g, &s, &pl), EC_OK);
        ec_trip_request_t r = request(&v, 0.3 + rnd(70) / 100.0, (ec_rules)rnd(3));
        r.objective = (ec_objective)rnd(2);
        r.soc_min = rnd(3) * 0.05;
        r.soc_min_arrival = r.soc_min + rnd(2) * 0.1;
        r.driven_since_break_s = rnd(4) * 3600.0;
        ec_latlon_t a = ec_graph_point(g, rnd(g->n_nodes)), b = ec_graph_point(g, rnd(g->n_nodes));
        /* Every other case on level roads: the demo region's elevations set aside. */
        const float *elev = g->elev_m;
        if (round % 2) g->elev_m = NULL;
        if (round >= 300) a = round % 2 ? ROTTERDAM : BASEL, b = round % 2 ? BASEL : ROTTERDAM;
        ec_trip_plan_t p;
        assert_int_equal(ec_trip_plan(pl, &r, a, b, &p), EC_OK);
        double best;
        int found;
        assert_int_equal(ec_trip_plan_reference(pl, &r, a, b, &best, &found), EC_OK);
        assert_int_equal(p.feasible, found);
        if (found) {
            double key = r.objective == EC_OBJ_COST ? (double)p.cost : p.duration_s;
            double ref = r.objective == EC_OBJ_COST ? best - p.duration_s * 1e-6 : best;
            /* The search minimises the exact cost; the plan prices each stop
             * in whole cents (and its energy to the watt-hour, its time to the
             * second): within a cent a stop. */
            if (fabs(key - ref) > (r.objective == EC_OBJ_COST ? 100.0 * p.n_stops + 1.0 : 1.5))
                fail_msg("case %d: fast %.3f, reference %.3f", round, key, ref);
            check_invariants(&p, &r);
            feasible++;
            for (int i = 0; i < p.n_stops; i++) {
                with_break += p.stops[i].brk && !p.stops[i].rest, with_rest += p.stops[i].rest;
                with_wait += p.stops[i].wait_s > 0, with_reserved += p.stops[i].reserved;
                with_split += p.stops[i].break_part != 0;
            }
        }
        cases++;
        ec_trip_planner_free(pl);
        g->elev_m = elev;
    }
    print_message("%d cases, %d feasible, all equal to the exhaustive search; at stops: %d breaks, %d split, %d rests, "
                  "%d waits, %d reserved\n", cases, feasible, with_break, with_split, with_rest, with_wait, with_reserved);
    assert_true(feasible > 100);
    assert_true(with_break > 10 && with_split > 0 && with_rest > 0 && with_wait > 0 && with_reserved > 0);
}

static void test_sites_file(void **state)
{
    (void)state;
    assert_int_equal(all_sites.n, 25);
    assert_string_equal(all_sites.groups[0].site_id, "NL-ROT-HUB");
    assert_int_equal(all_sites.groups[0].standard, EC_PLUG_MCS);
    assert_int_equal(all_sites.groups[0].price_per_kwh, 4900);
    int64_t m;
    assert_int_equal(ec_money_parse("0.4500", &m), 0), assert_int_equal(m, 4500);
    assert_int_equal(ec_money_parse("12", &m), 0), assert_int_equal(m, 120000);
    assert_int_not_equal(ec_money_parse("0.45001", &m), 0);
    assert_int_not_equal(ec_money_parse("-1", &m), 0);
    assert_int_not_equal(ec_money_parse("1.", &m), 0);
    const char *bad[][2] = {
        {"site_id,name,lat,lon,standard,power_kw\n", "header lacks column count"},
        {"site_id,name,lat,lon,standard,power_kw,count\nA,x,51,4,MCS,1000,2\nB,y,95,4,MCS,1000,2\n", "s.csv:3: lat,lon \"95,4\""},
        {"site_id,name,lat,lon,standard,power_kw,count\nA,x,51,4,SCHUKO,11,2\n", "s.csv:2: standard \"SCHUKO\""},
        {"site_id,name,lat,lon,standard,power_kw,count\nA,x,51,4,MCS,-5,2\n", "s.csv:2: power_kw \"-5\""},
        {"site_id,name,lat,lon,standard,power_kw,count\nA,x,51,4,MCS,1000,0\n", "s.csv:2: count \"0\""},
        {"site_id,name,lat,lon,standard,power_kw,count\n,x,51,4,MCS,1000,1\n", "s.csv:2: site_id is empty"},
        {"site_id,name,lat,lon,standard,power_kw,count,price_per_kwh\nA,x,51,4,MCS,1000,1,cheap\n", "s.csv:2: prices"},
        {"site_id,name,lat,lon,standard,power_kw,count\n", "no sites"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ec_sites s = {NULL, 7, ""};
        assert_int_not_equal(ec_sites_parse("s.csv", bad[i][0], strlen(bad[i][0]), &s), EC_OK);
        assert_int_equal(s.n, 7); /* untouched */
        if (!strstr(ec_errmsg(), bad[i][1])) fail_msg("%s: got \"%s\"", bad[i][1], ec_errmsg());
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sites_file),
        cmocka_unit_test(test_demo_trip),
        cmocka_unit_test(test_grades),
        cmocka_unit_test(test_infeasible_and_bad_requests),
        cmocka_unit_test(test_against_exhaustive_reference),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
