/* test_plan_model.c - the planning model on tests/fixtures/plan_small, a line
 * of five nodes whose paths, energies and cover sets are worked out by hand
 * in its README. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ecorridor/ec_plan.h"
#include "plan/plan_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIR EC_FIXTURES "/plan_small"

typedef struct {
    ec_graph *g;
    ec_traffic_t traffic;
    ec_vehicle_mix_t mix;
    ec_plan_costs_t costs;
    ec_plan_place_t places[8];
    size_t n_places;
    ec_plan_model_config_t c;
} world;

static void place_at(world *w, int64_t node)
{
    ec_plan_place_t *p = &w->places[w->n_places++];
    memset(p, 0, sizeof *p);
    snprintf(p->site_id, sizeof p->site_id, "node-%lld", (long long)node);
    p->node = node, p->kw = 100, p->plug = EC_PLUG_MCS, p->point_capex = 400000;
    p->headroom_kw = INFINITY, p->max_points = 2, p->jurisdiction = -1;
}

static void load(world *w)
{
    memset(w, 0, sizeof *w);
    ec_load_opts_t lo;
    memset(&lo, 0, sizeof lo);
    ec_ch_opts_t co;
    memset(&co, 0, sizeof co);
    assert_int_equal(ec_vehicle_class_builtin("truck-40t", &lo.vehicle), EC_OK);
    assert_int_equal(ec_graph_load_corridor(DIR, &lo, &w->g), EC_OK);
    assert_int_equal(ec_ch_build(w->g, &co), EC_OK);
    assert_int_equal(ec_traffic_load(DIR "/traffic.csv", &w->traffic), EC_OK);
    assert_int_equal(ec_vehicle_mix_load(DIR "/mix.csv", &w->mix), EC_OK);
    w->costs.site_fixed_capex = 1000000, w->costs.grid_capex_per_kw = 200;
    w->costs.point_opex_per_year = 15000, w->costs.site_opex_per_year = 30000;
    w->costs.demand_charge_per_kw_month = 12, w->costs.discount_rate = 0.06;
    w->costs.point_max_utilisation = 0.25, w->costs.max_points_per_site = 2;
    ec_plan_model_config_t *c = &w->c;
    c->g = w->g, c->traffic = &w->traffic, c->mix = &w->mix;
    c->bev_share = 1, c->day_factor = 1, c->temp_c = 20;
    c->soc_start = 0.70, c->soc_min = 0.10, c->soc_charge_to = 0.80;
    c->places = w->places, c->costs = &w->costs, c->years = 10;
}

static void unload(world *w)
{
    ec_graph_free(w->g);
    ec_traffic_free(&w->traffic);
}

/* kWh per km of the fixture's truck at 80 km/h and 20 C, from the physics by hand. */
static double per_km(void)
{
    double v = 80 / 3.6, rho = 101325.0 / (287.05 * 293.15);
    double newton = 40000 * 9.80665 * 0.005 + 0.5 * rho * 1.0 * v * v;
    return newton * 1000 / 3.6e6;
}

static const plan_path *find(const ec_plan_model *m, int64_t o, int64_t d)
{
    for (size_t i = 0; i < m->n_paths; i++)
        if (m->paths[i].origin == o && m->paths[i].destination == d) return &m->paths[i];
    return NULL;
}

/* The cover set s of path p as node ids of its places (places here are one per node). */
static void cover_nodes(const world *w, const ec_plan_model *m, const plan_path *p, uint32_t s, int64_t *out, int *n)
{
    *n = 0;
    for (uint32_t i = m->cover_lo[p->cover_off + s]; i < m->cover_hi[p->cover_off + s]; i++)
        out[(*n)++] = w->places[m->on_place[p->on_off + i]].node;
}

static void test_paths_and_covers(void **state)
{
    (void)state;
    world w;
    load(&w);
    for (int64_t n = 2001; n <= 2005; n++) place_at(&w, n);
    w.c.n_places = w.n_places;
    ec_plan_model *m = NULL;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    double k = per_km();
    assert_true(fabs(k - 0.6274) < 1e-4);
    assert_int_equal(m->n_paths, 4); /* 2001 -> 2003 (140 km) needs no charge */
    assert_null(find(m, 2001, 2003));
    const plan_path *p = find(m, 2001, 2005);
    assert_non_null(p);
    assert_true(fabs(p->km - 260) < 1e-9);
    assert_true(fabs(p->flow - 10) < 1e-9);
    assert_true(fabs(p->e_kwh - (260 * k - 90)) < 1e-6);
    assert_true(fabs(p->energy_kwh - 10 * (260 * k - 90)) < 1e-5);
    assert_true(fabs(p->r_start_km - 90 / k) < 1e-6);
    assert_true(fabs(p->r_full_km - 105 / k) < 1e-6);
    assert_true(p->servable);
    int64_t nodes[8];
    int n;
    assert_int_equal(p->n_cover, 2);
    cover_nodes(&w, m, p, 0, nodes, &n);
    assert_int_equal(n, 2), assert_int_equal(nodes[0], 2002), assert_int_equal(nodes[1], 2003);
    cover_nodes(&w, m, p, 1, nodes, &n);
    assert_int_equal(n, 2), assert_int_equal(nodes[0], 2003), assert_int_equal(nodes[1], 2004);
    p = find(m, 2005, 2001);
    assert_non_null(p);
    assert_int_equal(p->n_cover, 2);
    cover_nodes(&w, m, p, 0, nodes, &n);
    assert_int_equal(n, 2), assert_int_equal(nodes[0], 2004), assert_int_equal(nodes[1], 2003);
    cover_nodes(&w, m, p, 1, nodes, &n);
    assert_int_equal(n, 2), assert_int_equal(nodes[0], 2003), assert_int_equal(nodes[1], 2002);
    p = find(m, 2001, 2004);
    assert_non_null(p);
    assert_true(fabs(p->e_kwh - (190 * k - 90)) < 1e-6);
    assert_int_equal(p->n_cover, 1);
    cover_nodes(&w, m, p, 0, nodes, &n);
    assert_int_equal(n, 2), assert_int_equal(nodes[0], 2002), assert_int_equal(nodes[1], 2003);
    p = find(m, 2002, 2005);
    assert_non_null(p);
    assert_true(fabs(p->e_kwh - (200 * k - 90)) < 1e-6);
    assert_int_equal(p->n_cover, 1);
    cover_nodes(&w, m, p, 0, nodes, &n);
    assert_int_equal(n, 2), assert_int_equal(nodes[0], 2003), assert_int_equal(nodes[1], 2004);

    ec_plan_model_stats_t st;
    ec_plan_model_stats(m, &st);
    assert_int_equal(st.paths, 4);
    assert_int_equal(st.unservable, 0);
    assert_true(fabs(st.trucks_per_day - 20) < 1e-9);
    assert_true(fabs(st.truck_km_per_day - (10 * 260 + 5 * 260 + 2 * 190 + 3 * 200)) < 1e-6);

    /* without a budget every path is served; with none, none is */
    ec_plan_solution_t s;
    assert_int_equal(ec_plan_solve_budget(m, -1, 0, 0, &s), EC_OK);
    assert_true(fabs(s.served_truck_km - st.servable_truck_km) < 1e-6);
    double kwh = 0;
    for (size_t i = 0; i < s.n; i++) kwh += s.kwh_per_day[i];
    assert_true(fabs(kwh - st.kwh_per_day) < 1e-6);
    ec_plan_solution_free(&s);
    assert_int_equal(ec_plan_solve_budget(m, 0, 0, 0, &s), EC_OK);
    assert_true(s.served_truck_km == 0 && s.capex == 0);
    ec_plan_solution_free(&s);

    /* a coalition without trucks costs nothing */
    unsigned char none[EC_PLAN_MAX_JURISDICTIONS] = {0};
    assert_int_equal(ec_plan_solve_min_cost(m, none, 0, 0, &s), EC_OK);
    assert_true(s.annual_cost == 0 && s.capex == 0);
    ec_plan_solution_free(&s);
    ec_plan_model_free(m);
    unload(&w);
}

/* Places behind one substation share its headroom: the points added at all of them draw no more
 * than it gives. Every path of the fixture charges at 2002, 2003 or 2004, and serving them all
 * takes about 2.3 points of 100 kW (1261 kWh a day, 556 a point). */
static void test_substation(void **state)
{
    (void)state;
    world w;
    load(&w);
    for (int64_t n = 2002; n <= 2004; n++) place_at(&w, n);
    ec_plan_sub_t sub = {"sub-a", 150};
    for (size_t k = 0; k < w.n_places; k++) w.places[k].substation = 1;
    w.c.n_places = w.n_places, w.c.subs = &sub, w.c.n_subs = 1;
    ec_plan_model *m = NULL;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    ec_plan_model_stats_t st;
    ec_plan_model_stats(m, &st);
    assert_true(st.kwh_per_day > 1.5 * plan__point_kwh_per_day(m, 0) && st.kwh_per_day < 3 * plan__point_kwh_per_day(m, 0));
    /* 150 kW for the three: 1.5 points, too few to serve every path */
    ec_plan_solution_t s;
    assert_int_equal(ec_plan_solve_min_cost(m, NULL, 0, 0, &s), EC_EINVAL);
    /* the budget buys one point of 100 kW, whatever it could pay */
    assert_int_equal(ec_plan_solve_budget(m, -1, 0, 0, &s), EC_OK);
    int points = 0;
    for (size_t k = 0; k < s.n; k++) points += s.points[k];
    assert_int_equal(points, 1);
    assert_true(s.served_truck_km > 0 && s.served_truck_km < st.servable_truck_km - 1);
    ec_plan_solution_free(&s);
    ec_plan_model_free(m);
    /* 300 kW: served, the points within it; the same solved as a large MILP (from its relaxation) */
    sub.headroom_kw = 300;
    for (int large = 0; large <= 1; large++) {
        w.c.large_rows = large;
        assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
        assert_int_equal(ec_plan_solve_min_cost(m, NULL, 0, 0, &s), EC_OK);
        assert_true(s.rounded); /* it starts from its relaxation made whole */
        double kw = 0;
        for (size_t k = 0; k < s.n; k++) kw += s.points_exact[k] * w.places[k].kw - s.grid_kw[k];
        assert_true(kw <= 300 + 1e-6 && kw >= 100 * st.kwh_per_day / plan__point_kwh_per_day(m, 0) - 1e-6);
        ec_plan_solution_free(&s);
        ec_plan_model_free(m);
        sub.headroom_kw = 150;
        assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
        assert_int_equal(ec_plan_solve_min_cost(m, NULL, 0, 0, &s), EC_EINVAL);
        ec_plan_model_free(m);
        sub.headroom_kw = 300;
    }
    w.c.large_rows = 0;
    /* the same 150 kW at each place, not shared: served */
    for (size_t k = 0; k < w.n_places; k++) w.places[k].substation = 0, w.places[k].headroom_kw = 150;
    w.c.n_subs = 0;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    assert_int_equal(ec_plan_solve_min_cost(m, NULL, 0, 0, &s), EC_OK);
    ec_plan_solution_free(&s);
    ec_plan_model_free(m);
    /* a place naming a substation not given is refused */
    w.places[0].substation = 2, w.c.n_subs = 1;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_ERANGE);
    unload(&w);
}

/* Many cheapest networks at once, each in a child process: the same answers as in turn, each in
 * its job's slot (every coalition of four jurisdictions, with a large answer or two), and a child's
 * failure comes back with its message. */
static void test_min_cost_many(void **state)
{
    (void)state;
    world w;
    load(&w);
    for (int64_t n = 2001; n <= 2005; n++) place_at(&w, n);
    w.places[2].headroom_kw = 150, w.places[2].grid_max_kw = 100; /* 2003 dearer: grid to buy */
    w.c.n_places = w.n_places;
    w.c.fork_min_paths = 1; /* processes even for these few paths */
    int64_t nodes[] = {2001, 2002, 2003, 2004, 2005};
    int js[] = {0, 1, 2, 1, 3};
    ec_plan_areas_t areas;
    memset(&areas, 0, sizeof areas);
    areas.nodes = nodes, areas.node_j = js, areas.n_nodes = 5;
    w.c.areas = &areas;
    ec_plan_model *m = NULL;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    enum { JOBS = 16 };
    unsigned char bits[JOBS][EC_PLAN_MAX_JURISDICTIONS];
    const unsigned char *jobs[JOBS];
    memset(bits, 0, sizeof bits);
    jobs[0] = NULL;
    for (unsigned mask = 1; mask < JOBS; mask++) {
        for (int j = 0; j < 4; j++) bits[mask][j] = (mask >> j) & 1;
        jobs[mask] = bits[mask];
    }
    ec_plan_solution_t one[JOBS], many[JOBS];
    int differ = 0;
    assert_int_equal(plan__min_cost_many(m, jobs, JOBS, 0, 0, 1, one, NULL, NULL), EC_OK);
    assert_int_equal(plan__min_cost_many(m, jobs, JOBS, 0, 0, 3, many, NULL, NULL), EC_OK);
    for (int i = 0; i < JOBS; i++) {
        ec_plan_solution_t alone;
        assert_int_equal(ec_plan_solve_min_cost(m, jobs[i], 0, 0, &alone), EC_OK);
        assert_true(one[i].annual_cost == alone.annual_cost && many[i].annual_cost == alone.annual_cost);
        assert_true(one[i].gap == many[i].gap && one[i].nodes == many[i].nodes && one[i].n == many[i].n);
        assert_memory_equal(one[i].points, many[i].points, m->c.n_places * sizeof(int));
        assert_memory_equal(one[i].points_exact, many[i].points_exact, m->c.n_places * sizeof(double));
        assert_memory_equal(one[i].grid_kw, many[i].grid_kw, m->c.n_places * sizeof(double));
        assert_memory_equal(one[i].kwh_per_day, many[i].kwh_per_day, m->c.n_places * sizeof(double));
        differ += i > 0 && many[i].annual_cost != many[i - 1].annual_cost;
        ec_plan_solution_free(&alone), ec_plan_solution_free(&one[i]), ec_plan_solution_free(&many[i]);
    }
    assert_true(differ >= 4); /* the coalitions' costs are not all alike: a slot mix-up would show */
    /* every first process dies: each network is solved again, plain, to the same cost */
    setenv("EC_PLAN_TEST_SOLVER_ABORT", "1", 1);
    assert_int_equal(plan__min_cost_many(m, jobs, 4, 0, 0, 2, many, NULL, NULL), EC_OK);
    unsetenv("EC_PLAN_TEST_SOLVER_ABORT");
    for (int i = 0; i < 4; i++) {
        ec_plan_solution_t alone;
        assert_int_equal(ec_plan_solve_min_cost(m, jobs[i], 0, 0, &alone), EC_OK);
        assert_true(fabs(many[i].annual_cost - alone.annual_cost) <= 1e-9 * (1 + alone.annual_cost));
        ec_plan_solution_free(&alone), ec_plan_solution_free(&many[i]);
    }
    ec_plan_model_free(m);
    /* no network serves them: each child says so, and so does the call */
    ec_plan_sub_t sub = {"sub-all", 150};
    for (size_t k = 0; k < w.n_places; k++) w.places[k].substation = 1, w.places[k].grid_max_kw = 0;
    w.c.subs = &sub, w.c.n_subs = 1;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    ec_errclear();
    assert_int_equal(plan__min_cost_many(m, jobs, JOBS, 0, 0, 2, many, NULL, NULL), EC_EINVAL);
    assert_non_null(strstr(ec_errmsg_of(EC_EINVAL), "no network of these places"));
    ec_plan_model_free(m);
    unload(&w);
}

static void test_unservable(void **state)
{
    (void)state;
    world w;
    load(&w);
    place_at(&w, 2001), place_at(&w, 2005);
    w.c.n_places = w.n_places;
    ec_plan_model *m = NULL;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    ec_plan_model_stats_t st;
    ec_plan_model_stats(m, &st);
    /* 2001 -> 2005: 2001 is 190 km before the end of 2003-2004, past R_full (167 km) */
    assert_int_equal(st.paths, 4);
    assert_int_equal(st.unservable, 4);
    assert_true(st.servable_truck_km == 0);
    ec_plan_solution_t s;
    assert_int_equal(ec_plan_solve_budget(m, -1, 0, 0, &s), EC_OK);
    assert_true(s.served_truck_km == 0);
    ec_plan_solution_free(&s);
    ec_plan_model_free(m);
    unload(&w);
}

static void test_bad_place(void **state)
{
    (void)state;
    world w;
    load(&w);
    place_at(&w, 2001), place_at(&w, 9999);
    w.c.n_places = w.n_places;
    ec_plan_model *m = NULL;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_ENOTFOUND);
    assert_null(m);
    assert_non_null(strstr(ec_errmsg(), "node-9999"));
    w.places[1].node = 2002, w.places[1].points0 = 3; /* more than max_points */
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_ERANGE);
    unload(&w);
}

/* A mix of two trucks: each pair has one path for those of its trucks that need a charge, with
 * their flow and energy, covered by the shorter ranges among them. The second truck has 200 kWh:
 * it leaves with 120 kWh, enough for 2001 -> 2004 (190 km, 119.2 kWh) but not for 260 km. */
static void test_planning_vehicle(void **state)
{
    (void)state;
    world w;
    load(&w);
    for (int64_t n = 2001; n <= 2005; n++) place_at(&w, n);
    w.c.n_places = w.n_places;
    w.mix.n = 2;
    w.mix.e[1] = w.mix.e[0];
    w.mix.e[1].profile.battery_wh = 200e3;
    w.mix.e[0].share = w.mix.e[1].share = 0.5;
    ec_plan_model *m = NULL;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    double k = per_km();
    assert_int_equal(m->n_paths, 4);
    const plan_path *p = find(m, 2001, 2005);
    assert_non_null(p);
    assert_true(fabs(p->flow - 10) < 1e-9);
    assert_true(fabs(p->energy_kwh - (5 * (260 * k - 90) + 5 * (260 * k - 120))) < 1e-6);
    assert_true(fabs(p->r_start_km - 90 / k) < 1e-6);
    assert_true(fabs(p->r_full_km - 105 / k) < 1e-6);
    assert_int_equal(p->vehicle, 0);
    p = find(m, 2001, 2004);
    assert_non_null(p);
    assert_true(fabs(p->flow - 1) < 1e-9); /* the 200 kWh trucks need no charge */
    assert_true(fabs(p->energy_kwh - (190 * k - 90)) < 1e-6);
    ec_plan_model_free(m);
    unload(&w);
}

/* A point's kWh a day: 24 h x utilisation x the energy of a charge from 10 % to 80 % over its
 * time plus the 5 min overhead, by hand for the fixture's truck (150 kWh, a flat 1000 kW curve,
 * charge efficiency 1): 105 kWh at the least of the point's kW, the inlet's and the curve's. */
static void test_point_capacity(void **state)
{
    (void)state;
    world w;
    load(&w);
    for (int64_t n = 2001; n <= 2005; n++) place_at(&w, n);
    w.places[0].kw = 1000;            /* the truck's 1000 kW curve and inlet: 105 kWh in 378 s */
    w.places[1].kw = 100;             /* the point's 100 kW: 3780 s */
    w.places[2].kw = 350, w.places[2].plug = EC_PLUG_CCS2; /* no CCS2 inlet: the point's own kW */
    w.c.n_places = w.n_places;
    ec_plan_model *m = NULL;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    double u24 = 24 * 0.25;
    assert_true(fabs(plan__point_kwh_per_day(m, 0) - u24 * 105 / ((378.0 + 300) / 3600)) < 1e-6);
    assert_true(fabs(plan__point_kwh_per_day(m, 1) - u24 * 105 / ((3780.0 + 300) / 3600)) < 1e-6);
    assert_true(fabs(plan__point_kwh_per_day(m, 2) - u24 * 350) < 1e-9);
    ec_plan_model_free(m);

    /* the inlet limits a 1000 kW point to 400 kW; a 10 min overhead */
    w.mix.e[0].profile.plug_max_w[EC_PLUG_MCS] = 400e3;
    w.c.stop_overhead_s = 600;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
    assert_true(fabs(plan__point_kwh_per_day(m, 0) - u24 * 105 / ((945.0 + 600) / 3600)) < 1e-6);
    ec_plan_model_free(m);
    w.c.stop_overhead_s = -1;
    assert_int_equal(ec_plan_model_build(&w.c, &m), EC_ERANGE);
    unload(&w);
}

/* The cost game asks the same coalition many times and compares coalitions that differ by a
 * jurisdiction without trucks: each must cost exactly the same every time, even when the search
 * stops at its node limit (a deterministic stop), and the min cost is never below the LP's. */
static void test_same_cost(void **state)
{
    (void)state;
    world w;
    load(&w);
    for (int64_t n = 2001; n <= 2005; n++) place_at(&w, n);
    w.c.n_places = w.n_places;
    int64_t nodes[] = {2001, 2002, 2003, 2004, 2005};
    int js[] = {0, 1, 2, 1, 3}; /* 2003 (J2) starts no truck that needs a charge */
    ec_plan_areas_t areas;
    memset(&areas, 0, sizeof areas);
    areas.nodes = nodes, areas.node_j = js, areas.n_nodes = 5;
    w.c.areas = &areas;
    for (int limit = 0; limit <= 1; limit++) {
        w.c.node_limit = limit;
        ec_plan_model *m = NULL;
        assert_int_equal(ec_plan_model_build(&w.c, &m), EC_OK);
        for (unsigned mask = 1; mask < 16; mask++) {
            unsigned char mem[EC_PLAN_MAX_JURISDICTIONS] = {0}, with[EC_PLAN_MAX_JURISDICTIONS] = {0};
            for (int j = 0; j < 4; j++) mem[j] = with[j] = (mask >> j) & 1;
            with[2] = 1;
            ec_plan_solution_t a, b, c;
            assert_int_equal(ec_plan_solve_min_cost(m, mem, 0.01, 0, &a), EC_OK);
            assert_int_equal(ec_plan_solve_min_cost(m, mem, 0.01, 0, &b), EC_OK);
            assert_int_equal(ec_plan_solve_min_cost(m, with, 0.01, 0, &c), EC_OK);
            assert_true(a.annual_cost == b.annual_cost && a.annual_cost == c.annual_cost);
            assert_memory_equal(a.points_exact, c.points_exact, a.n * sizeof *a.points_exact);
            assert_true(!a.timed_out);
            if (mask == 4) assert_true(a.annual_cost == 0); /* J2 alone: nothing to serve */
            for (size_t k = 0; k < a.n; k++) {
                assert_true(a.points[k] >= a.points_exact[k] - 1e-9 && a.points[k] < a.points_exact[k] + 1);
                assert_true(a.points_exact[k] == 0 || a.points_exact[k] >= 1 - 1e-9);
            }
            ec_plan_solution_free(&a), ec_plan_solution_free(&b), ec_plan_solution_free(&c);
        }
        ec_plan_model_free(m);
    }
    unload(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_and_covers),
        cmocka_unit_test(test_unservable),
        cmocka_unit_test(test_bad_place),
        cmocka_unit_test(test_point_capacity),
        cmocka_unit_test(test_planning_vehicle),
        cmocka_unit_test(test_same_cost),
        cmocka_unit_test(test_substation),
        cmocka_unit_test(test_min_cost_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
