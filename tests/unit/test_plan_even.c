/* test_plan_even.c - pools spaced evenly (ec_plan_even_pools) on hand-made
 * road trees: the gaps walked here with this file's own code (the nearest
 * pool behind and ahead found by a search of the tree, pools put on roads by
 * their own projection), the fewest pools on a straight road by formula and
 * on a junction by trying every smaller set, the budget kept, today's sites
 * used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAT0 50.0
#define LON0 8.0
#define KM_LAT 111.19508 /* km per degree of latitude */
#define NEAR 3.0
#define MAXN 16
#define MAXE 16
#define MAXP 64

/* A road tree: nodes in km east and north of (LAT0, LON0); edges both ways. */
typedef struct {
    int n, m;
    double x[MAXN], y[MAXN];
    int u[MAXE], v[MAXE];
} tree_t;

/* Pools put on the tree's edges: per edge, distances from u. */
typedef struct {
    int k[MAXE];
    double t[MAXE][MAXP];
} on_t;

static double km_lon(void)
{
    return KM_LAT * cos(LAT0 * M_PI / 180);
}

static double edge_km(const tree_t *T, int e)
{
    return hypot(T->x[T->v[e]] - T->x[T->u[e]], T->y[T->v[e]] - T->y[T->u[e]]);
}

/* The graph: each edge its straight length, to the centimetre. */
static ec_graph *build(const tree_t *T)
{
    ec_netbuild *nb;
    assert_int_equal(ec_netbuild_new(&nb), EC_OK);
    for (int i = 0; i < T->n; i++) {
        uint32_t idx;
        ec_latlon_t p = {LAT0 + T->y[i] / KM_LAT, LON0 + T->x[i] / km_lon()};
        assert_int_equal(ec_netbuild_node(nb, 1000 + i, p, NULL, &idx), EC_OK);
    }
    for (int e = 0; e < T->m; e++) {
        uint32_t cm = (uint32_t)lround(edge_km(T, e) * 1e5);
        assert_int_equal(ec_netbuild_arc(nb, (uint32_t)T->u[e], (uint32_t)T->v[e], cm, cm / 25, EC_NO_WAY), EC_OK);
        assert_int_equal(ec_netbuild_arc(nb, (uint32_t)T->v[e], (uint32_t)T->u[e], cm, cm / 25, EC_NO_WAY), EC_OK);
    }
    ec_vehicle_class_t v;
    memset(&v, 0, sizeof v);
    ec_graph *g;
    assert_int_equal(ec_netbuild_finish(nb, EC_METRIC_DISTANCE, EC_SRC_CORRIDOR, &v, "tree", &g), EC_OK);
    return g;
}

static void sort_d(double *a, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && a[j] < a[j - 1]; j--) {
            double s = a[j];
            a[j] = a[j - 1], a[j - 1] = s;
        }
}

/* A pool at (px, py) km on every edge whose line passes within NEAR km of it. */
static void put(const tree_t *T, on_t *on, double px, double py)
{
    for (int e = 0; e < T->m; e++) {
        double ax = T->x[T->u[e]], ay = T->y[T->u[e]], dx = T->x[T->v[e]] - ax, dy = T->y[T->v[e]] - ay;
        double f = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy);
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        if (hypot(ax + f * dx - px, ay + f * dy - py) > NEAR) continue;
        assert_true(on->k[e] < MAXP);
        on->t[e][on->k[e]++] = f * edge_km(T, e);
    }
}

static void put_sites(const tree_t *T, on_t *on, const ec_sites *s)
{
    memset(on, 0, sizeof *on);
    for (size_t i = 0; i < s->n; i++)
        put(T, on, (s->groups[i].pos.lon - LON0) * km_lon(), (s->groups[i].pos.lat - LAT0) * KM_LAT);
    for (int e = 0; e < T->m; e++)
        sort_d(on->t[e], on->k[e]);
}

static int degree(const tree_t *T, int x)
{
    int d = 0;
    for (int e = 0; e < T->m; e++)
        d += T->u[e] == x || T->v[e] == x;
    return d;
}

/* The nearest pool driving from node x on any edge but the one to `from`
 * (a tree: every drive is a search away from where one came). */
static double nearest(const tree_t *T, const on_t *on, int x, int from)
{
    double best = INFINITY;
    for (int e = 0; e < T->m; e++) {
        int z = T->u[e] == x ? T->v[e] : T->v[e] == x ? T->u[e] : -1;
        if (z < 0 || z == from) continue;
        double L = edge_km(T, e), d = INFINITY;
        for (int i = 0; i < on->k[e]; i++) {
            double di = T->u[e] == x ? on->t[e][i] : L - on->t[e][i];
            if (di < d) d = di;
        }
        if (!isfinite(d)) d = L + nearest(T, on, z, x);
        if (d < best) best = d;
    }
    return best;
}

/* The longest gap a truck meets anywhere on the tree, either way; a network
 * end with no pool within NEAR km of it is an infinite gap. */
static double worst_gap(const tree_t *T, const on_t *on)
{
    double worst = 0;
    for (int e = 0; e < T->m; e++)
        for (int dir = 0; dir < 2; dir++) {
            int a = dir ? T->v[e] : T->u[e], b = dir ? T->u[e] : T->v[e];
            double L = edge_km(T, e), t[MAXP];
            int k = on->k[e];
            for (int i = 0; i < k; i++)
                t[i] = dir ? L - on->t[e][k - 1 - i] : on->t[e][i];
            int a_end = degree(T, a) == 1, b_end = degree(T, b) == 1;
            double behind = a_end ? INFINITY : nearest(T, on, a, b), ahead = b_end ? INFINITY : nearest(T, on, b, a);
            double g = 0;
            if (!k)
                g = behind + L + ahead;
            else {
                if (t[0] > 1e-5 && !(a_end && t[0] <= NEAR)) g = fmax(g, behind + t[0]);
                for (int i = 1; i < k; i++)
                    g = fmax(g, t[i] - t[i - 1]);
                if (L - t[k - 1] > 1e-5 && !(b_end && L - t[k - 1] <= NEAR)) g = fmax(g, L - t[k - 1] + ahead);
            }
            worst = fmax(worst, g);
        }
    return worst;
}

static ec_plan_costs_t costs(void)
{
    ec_plan_costs_t k;
    memset(&k, 0, sizeof k);
    k.site_fixed_capex = 100000, k.mcs_point_capex = 30000, k.mcs_point_kw = 1000, k.max_points_per_site = 12;
    return k;
}

static size_t run(const tree_t *T, double S, double budget, const ec_sites *today, ec_sites *out)
{
    ec_graph *g = build(T);
    ec_plan_costs_t k = costs();
    size_t pools = 99999;
    ec_err rc = ec_plan_even_pools(g, S, &k, budget, today, out, &pools);
    if (rc) fail_msg("ec_plan_even_pools: %s", ec_errmsg());
    ec_graph_free(g);
    assert_int_equal(out->n, (today ? today->n : 0) + pools);
    return pools;
}

/* A straight road of 3 x 100 km (nodes between): the fewest pools are one
 * within NEAR km of each end and as many between as the spacing needs. */
static void test_line(void **state)
{
    (void)state;
    tree_t T = {4, 3, {0, 100, 200, 300}, {0, 0, 0, 0}, {0, 1, 2}, {1, 2, 3}};
    double spacings[] = {60, 100, 37.5, 250};
    for (size_t i = 0; i < sizeof spacings / sizeof spacings[0]; i++) {
        double S = spacings[i];
        ec_sites out;
        size_t n = run(&T, S, -1, NULL, &out);
        on_t on;
        put_sites(&T, &on, &out);
        double worst = worst_gap(&T, &on);
        assert_true(worst <= S + 1e-5);
        size_t fewest = (size_t)ceil((300 - 2 * NEAR) / S - 1e-9) + 1;
        if (n != fewest) fail_msg("spacing %g: %zu pools, the fewest %zu", S, n, fewest);
        ec_sites_free(&out);
    }
}

/* Two junctions, a road through three nodes, branches of 20 to 150 km. */
static const tree_t TREE = {8, 7, {-120, -60, 0, 80, 186, 130, 0, 80}, {0, 0, 0, 0, 106, -60, -30, 40},
                            {0, 1, 2, 3, 3, 2, 3}, {1, 2, 3, 4, 5, 6, 7}};

/* The spacing holds along every road either way, for several spacings;
 * every pool is an MCS pool with the AFIR 2030 size when the budget is
 * unlimited; ids in order. */
static void test_tree_spacing(void **state)
{
    (void)state;
    double spacings[] = {60, 45, 100, 25};
    for (size_t i = 0; i < sizeof spacings / sizeof spacings[0]; i++) {
        ec_sites out;
        size_t n = run(&TREE, spacings[i], -1, NULL, &out);
        assert_true(n > 0);
        on_t on;
        put_sites(&TREE, &on, &out);
        double worst = worst_gap(&TREE, &on);
        if (!(worst <= spacings[i] + 1e-5)) fail_msg("spacing %g: a gap of %.3f km", spacings[i], worst);
        for (size_t r = 0; r < out.n; r++) {
            char id[32];
            snprintf(id, sizeof id, "even-%03zu", r + 1);
            assert_string_equal(out.groups[r].site_id, id);
            assert_int_equal(out.groups[r].standard, EC_PLUG_MCS);
            assert_true(fabs(out.groups[r].power_w - 1e6) < 1e-6);
            assert_int_equal(out.groups[r].count, 4); /* 3,600 kW at 1,000 kW a point */
        }
        ec_sites_free(&out);
    }
}

/* Taking any one pool away leaves a gap too long: the walk places none for nothing. */
static void test_tree_each_needed(void **state)
{
    (void)state;
    ec_sites out;
    size_t n = run(&TREE, 60, -1, NULL, &out);
    for (size_t drop = 0; drop < n; drop++) {
        ec_sites less = out;
        ec_connector_group_t rows[MAXP];
        size_t m = 0;
        for (size_t r = 0; r < out.n; r++)
            if (r != drop) rows[m++] = out.groups[r];
        less.groups = rows, less.n = m;
        on_t on;
        put_sites(&TREE, &on, &less);
        if (worst_gap(&TREE, &on) <= 60 + 1e-5) fail_msg("pool %zu of %zu is not needed", drop + 1, n);
    }
    ec_sites_free(&out);
}

/* A junction of three roads (70, 50 and 40 km): the walk's count against
 * every smaller set of pools on a 1 km grid of the roads. */
static void test_fewest_junction(void **state)
{
    (void)state;
    tree_t Y = {4, 3, {0, -70, 35.36, 28.28}, {0, 0, 35.36, -28.28}, {0, 0, 0}, {1, 2, 3}};
    ec_sites out;
    size_t n = run(&Y, 60, -1, NULL, &out);
    on_t on;
    put_sites(&Y, &on, &out);
    assert_true(worst_gap(&Y, &on) <= 60 + 1e-5);
    /* Candidate places every km along each road. */
    double cx[400], cy[400];
    int nc = 0;
    for (int e = 0; e < Y.m; e++) {
        double L = edge_km(&Y, e);
        for (double t = 0; t <= L; t += 1.0, nc++) {
            cx[nc] = Y.x[Y.u[e]] + (Y.x[Y.v[e]] - Y.x[Y.u[e]]) * t / L;
            cy[nc] = Y.y[Y.u[e]] + (Y.y[Y.v[e]] - Y.y[Y.u[e]]) * t / L;
        }
    }
    size_t fewest = n;
    for (int a = 0; a < nc && fewest == n; a++)
        for (int b = a + 1; b < nc && fewest == n; b++)
            for (int c = b + 1; c < nc && fewest == n; c++) {
                memset(&on, 0, sizeof on);
                put(&Y, &on, cx[a], cy[a]), put(&Y, &on, cx[b], cy[b]), put(&Y, &on, cx[c], cy[c]);
                for (int e = 0; e < Y.m; e++)
                    sort_d(on.t[e], on.k[e]);
                if (worst_gap(&Y, &on) <= 60 + 1e-5) fewest = 3;
            }
    print_message("junction of 70, 50 and 40 km at 60 km: the walk places %zu pools, the fewest on a 1 km grid %s\n",
                  n, fewest < n ? "fewer" : "no fewer (none of 3 suffices)");
    assert_true(n <= 4);
    assert_int_equal(fewest, n);
    ec_sites_free(&out);
}

/* The budget: spread evenly (a point more for the first pools), never over;
 * short of a point a pool, the first pools it pays for. */
static void test_budget(void **state)
{
    (void)state;
    ec_sites out;
    size_t n = run(&TREE, 60, -1, NULL, &out);
    ec_latlon_t first[MAXP];
    for (size_t i = 0; i < n; i++)
        first[i] = out.groups[i].pos;
    ec_sites_free(&out);
    ec_plan_costs_t k = costs();
    double budgets[] = {n * (k.site_fixed_capex + 4 * k.mcs_point_capex),
                        n * (k.site_fixed_capex + 2.5 * k.mcs_point_capex) + 1,
                        n * (k.site_fixed_capex + k.mcs_point_capex) - 1,
                        2 * (k.site_fixed_capex + k.mcs_point_capex),
                        n * (k.site_fixed_capex + 40 * k.mcs_point_capex),
                        0};
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        double B = budgets[b];
        size_t m = run(&TREE, 60, B, NULL, &out);
        size_t want = B >= n * (k.site_fixed_capex + k.mcs_point_capex)
                          ? n
                          : (size_t)floor(B / (k.site_fixed_capex + k.mcs_point_capex));
        assert_int_equal(m, want);
        double capex = 0;
        int lo = 1000, hi = 0;
        for (size_t i = 0; i < m; i++) {
            const ec_connector_group_t *r = &out.groups[i];
            capex += k.site_fixed_capex + r->count * k.mcs_point_capex;
            lo = r->count < lo ? r->count : lo, hi = r->count > hi ? r->count : hi;
            assert_true(r->pos.lat == first[i].lat && r->pos.lon == first[i].lon);
            if (i > 0) assert_true(r->count <= out.groups[i - 1].count);
        }
        assert_true(capex <= B + 1e-6);
        if (m) {
            assert_true(lo >= 1 && hi - lo <= 1 && hi <= k.max_points_per_site);
            /* Nothing left that would buy another point, unless every pool has the most. */
            if (hi < k.max_points_per_site) assert_true(B - capex < k.mcs_point_capex);
        }
        ec_sites_free(&out);
    }
}

/* Today's sites: the whole even network as today's leaves nothing to add
 * and keeps today's rows first; a pool of today's in the middle of the
 * long road saves pools; a site far from every road changes nothing. */
static void test_today(void **state)
{
    (void)state;
    ec_sites full;
    size_t n = run(&TREE, 60, -1, NULL, &full);
    ec_sites out;
    assert_int_equal(run(&TREE, 60, -1, &full, &out), 0);
    assert_int_equal(out.n, full.n);
    assert_string_equal(out.groups[0].site_id, "even-001");
    ec_sites_free(&out);

    ec_connector_group_t rows[2];
    memset(rows, 0, sizeof rows);
    snprintf(rows[0].site_id, sizeof rows[0].site_id, "far");
    rows[0].pos = (ec_latlon_t){LAT0 + 1.0, LON0}; /* 111 km north of every road */
    rows[0].standard = EC_PLUG_CCS2, rows[0].power_w = 300e3, rows[0].count = 2;
    ec_sites today = {rows, 1, "EUR"};
    assert_int_equal(run(&TREE, 60, -1, &today, &out), n);
    assert_string_equal(out.groups[0].site_id, "far");
    ec_sites_free(&out);

    /* Today's pools every 59 km along the long branch 3-4 (150 km). */
    today.n = 2;
    rows[1] = rows[0];
    snprintf(rows[0].site_id, sizeof rows[0].site_id, "T1");
    snprintf(rows[1].site_id, sizeof rows[1].site_id, "T2");
    for (int i = 0; i < 2; i++) {
        double f = (59.0 + 59.0 * i) / 150.0;
        double x = 80 + f * 106, y = f * 106;
        rows[i].pos = (ec_latlon_t){LAT0 + y / KM_LAT, LON0 + x / km_lon()};
    }
    size_t m = run(&TREE, 60, -1, &today, &out);
    on_t on;
    put_sites(&TREE, &on, &out);
    assert_true(worst_gap(&TREE, &on) <= 60 + 1e-5);
    if (!(m < n)) fail_msg("with two of today's sites on the long road: %zu new pools, %zu without", m, n);
    ec_sites_free(&out);
    ec_sites_free(&full);
}

static void test_refusals(void **state)
{
    (void)state;
    ec_graph *g = build(&TREE);
    ec_plan_costs_t k = costs();
    ec_sites out = {(ec_connector_group_t *)&k, 7, "XXX"};
    size_t pools = 5;
    assert_int_equal(ec_plan_even_pools(g, 0.5, &k, -1, NULL, &out, &pools), EC_EINVAL);
    assert_non_null(strstr(ec_errmsg(), "spacing_km"));
    assert_int_equal(ec_plan_even_pools(g, NAN, &k, -1, NULL, &out, &pools), EC_EINVAL);
    k.mcs_point_kw = 0;
    assert_int_equal(ec_plan_even_pools(g, 60, &k, -1, NULL, &out, &pools), EC_EINVAL);
    k = costs();
    assert_int_equal(ec_plan_even_pools(g, 60, &k, NAN, NULL, &out, &pools), EC_EINVAL);
    /* Untouched on error. */
    assert_true(out.n == 7 && pools == 5 && !strcmp(out.currency, "XXX"));
    ec_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line),          cmocka_unit_test(test_tree_spacing), cmocka_unit_test(test_tree_each_needed),
        cmocka_unit_test(test_fewest_junction), cmocka_unit_test(test_budget),     cmocka_unit_test(test_today),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
