/* test_plan_share.c - the Shapley value of cost games against truths found
 * without it: the airport game's closed form (Littlechild & Owen 1973), a
 * brute force over all n! orders, and the axioms (efficiency, the null
 * player, symmetry); a concave game where no one pays more than alone; each
 * coalition asked once; a cost function's error stops it and passes up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_MAX 64

/* A game: the airport game (cost = the largest need among the members, plus
 * a fixed cost even the empty coalition has) or a concave one (sqrt of the
 * members' summed weights). It counts calls and notes each coalition asked. */
typedef struct {
    int n, concave;
    double need[N_MAX];
    double fixed;
    long calls, repeats;
    unsigned char *asked; /* per coalition, n <= 20 */
    uint64_t fail_mask;   /* != 0: asking this coalition fails */
} game_t;

static ec_err game_cost(void *ctx, uint64_t mask, double *cost)
{
    game_t *g = ctx;
    g->calls++;
    if (g->asked) {
        if (g->asked[mask]) g->repeats++;
        g->asked[mask] = 1;
    }
    if (g->fail_mask && mask == g->fail_mask)
        return ec_fail(EC_EIO, "test: coalition 0x%llx", (unsigned long long)mask);
    double c = 0;
    for (int i = 0; i < g->n; i++)
        if (mask & ((uint64_t)1 << i)) c = g->concave ? c + g->need[i] : fmax(c, g->need[i]);
    *cost = g->fixed + (g->concave ? sqrt(c) : c);
    return EC_OK;
}

static void game_init(game_t *g, int n, int concave, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->concave = concave;
    for (int i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        g->need[i] = 1.0 + (double)(seed >> 40) / (double)(1 << 24) * 99.0;
    }
}

/* Littlechild & Owen: with the needs sorted, r(0) = 0, each step
 * r(j) - r(j-1) is split equally among the n - j + 1 players who need at
 * least r(j); a player pays the sum of the steps up to its own need. */
static void airport_truth(const game_t *g, double *phi)
{
    double r[N_MAX];
    memcpy(r, g->need, (size_t)g->n * sizeof *r);
    for (int i = 1; i < g->n; i++)
        for (int j = i; j > 0 && r[j - 1] > r[j]; j--) {
            double x = r[j];
            r[j] = r[j - 1];
            r[j - 1] = x;
        }
    for (int i = 0; i < g->n; i++) {
        double sum = 0, prev = 0;
        for (int j = 0; j < g->n && r[j] <= g->need[i]; j++) {
            sum += (r[j] - prev) / (g->n - j);
            prev = r[j];
        }
        phi[i] = sum;
    }
}

/* Every order of the players, each player's marginal cost averaged. */
static void brute_force(game_t *g, double *phi)
{
    int n = g->n, perm[N_MAX], c[N_MAX] = {0};
    long count = 0;
    for (int i = 0; i < n; i++) {
        perm[i] = i;
        phi[i] = 0;
    }
    for (;;) {
        uint64_t mask = 0;
        double before, after;
        game_cost(g, 0, &before);
        for (int i = 0; i < n; i++) {
            mask |= (uint64_t)1 << perm[i];
            game_cost(g, mask, &after);
            phi[perm[i]] += after - before;
            before = after;
        }
        count++;
        /* Heap's algorithm, iterative. */
        int i = 1;
        while (i < n && c[i] >= i)
            c[i++] = 0;
        if (i >= n) break;
        int j = i % 2 ? c[i] : 0, x = perm[j];
        perm[j] = perm[i];
        perm[i] = x;
        c[i]++;
    }
    for (int i = 0; i < n; i++)
        phi[i] /= (double)count;
}

static double total(const ec_plan_shapley_t *s, int n)
{
    double t = 0;
    for (int i = 0; i < n; i++)
        t += s->value[i];
    return t;
}

static void airport_exact(void **state)
{
    (void)state;
    for (int n = 1; n <= EC_PLAN_SHAPLEY_EXACT_MAX; n++) {
        game_t g;
        double truth[N_MAX];
        game_init(&g, n, 0, (uint64_t)n * 7919);
        g.need[n / 2] = g.need[0]; /* a tie among needs */
        g.fixed = 5.0;             /* c(empty) = 5: asked and subtracted */
        g.asked = calloc((size_t)1 << n, 1);
        airport_truth(&g, truth);
        ec_plan_shapley_t s;
        assert_int_equal(ec_plan_shapley(n, game_cost, &g, 0, 1, &s), EC_OK);
        assert_true(s.exact);
        assert_int_equal(s.samples, 0);
        /* each coalition, the empty one too, asked exactly once */
        assert_int_equal(g.calls, 1L << n);
        assert_int_equal(g.repeats, 0);
        double alone_max = 0;
        for (int i = 0; i < n; i++) {
            assert_float_equal(s.value[i], truth[i], 1e-9);
            assert_float_equal(s.stderr_[i], 0.0, 0.0);
            /* subadditive: no one pays more than its cost alone, c({i}) - c(empty) */
            assert_true(s.value[i] <= g.need[i] + 1e-9);
            alone_max = fmax(alone_max, g.need[i]);
        }
        /* efficiency: c(N) - c(empty) */
        assert_float_equal(total(&s, n), alone_max, 1e-9);
        ec_plan_shapley_free(&s);
        assert_null(s.value);
        free(g.asked);
    }
}

static void concave_against_brute_force(void **state)
{
    (void)state;
    for (int n = 3; n <= 7; n++) {
        game_t g;
        double truth[N_MAX];
        game_init(&g, n, 1, (uint64_t)n * 104729);
        g.need[1] = 0;             /* a null player */
        g.need[n - 1] = g.need[0]; /* two symmetric players */
        brute_force(&g, truth);
        ec_plan_shapley_t s;
        g.calls = 0;
        assert_int_equal(ec_plan_shapley(n, game_cost, &g, 0, 1, &s), EC_OK);
        double all = 0, one;
        for (int i = 0; i < n; i++) {
            assert_float_equal(s.value[i], truth[i], 1e-9);
            all += g.need[i];
            /* concave (submodular): no one pays more than alone */
            game_cost(&g, (uint64_t)1 << i, &one);
            assert_true(s.value[i] <= one + 1e-9);
        }
        assert_float_equal(s.value[1], 0.0, 1e-12);
        assert_float_equal(s.value[0], s.value[n - 1], 1e-12);
        assert_float_equal(total(&s, n), sqrt(all), 1e-9);
        ec_plan_shapley_free(&s);
    }
}

static void airport_sampled(void **state)
{
    (void)state;
    int n = 14;
    game_t g;
    double truth[N_MAX];
    game_init(&g, n, 0, 424242);
    g.need[3] = 0; /* a null player */
    g.asked = calloc((size_t)1 << n, 1);
    airport_truth(&g, truth);
    ec_plan_shapley_t s;
    size_t samples = 3000;
    assert_int_equal(ec_plan_shapley(n, game_cost, &g, samples, 99, &s), EC_OK);
    assert_false(s.exact);
    assert_int_equal(s.samples, samples);
    assert_int_equal(g.repeats, 0); /* each coalition asked at most once */
    assert_true(g.calls <= (long)samples * n + 1);
    double all = 0;
    int wide = 0;
    for (int i = 0; i < n; i++) {
        all = fmax(all, g.need[i]);
        assert_true(fabs(s.value[i] - truth[i]) <= 4 * s.stderr_[i] + 1e-9);
        wide += fabs(s.value[i] - truth[i]) > 2 * s.stderr_[i] + 1e-9;
        /* the error is neither zero nor as large as the value (a player's
         * marginals here are 0 or a share of a need, so sd ~ value) */
        if (i != 3) assert_true(s.stderr_[i] > 0 && s.stderr_[i] < 0.1 * fmax(truth[i], 1.0));
    }
    /* about 5 % of players beyond 2 errors; 5 of 14 would say the errors are too small */
    assert_true(wide < 5);
    assert_float_equal(s.value[3], 0.0, 0.0);
    assert_float_equal(s.stderr_[3], 0.0, 0.0);
    /* every order's marginals sum to c(N) - c(empty): so does the mean */
    assert_float_equal(total(&s, n), all, 1e-9);

    /* the same seed gives the same values; another seed other ones */
    ec_plan_shapley_t again, other;
    assert_int_equal(ec_plan_shapley(n, game_cost, &g, samples, 99, &again), EC_OK);
    assert_int_equal(ec_plan_shapley(n, game_cost, &g, samples, 100, &other), EC_OK);
    assert_memory_equal(s.value, again.value, (size_t)n * sizeof *s.value);
    assert_memory_not_equal(s.value, other.value, (size_t)n * sizeof *s.value);
    ec_plan_shapley_free(&s);
    ec_plan_shapley_free(&again);
    ec_plan_shapley_free(&other);
    free(g.asked);
}

static void sampled_64_players(void **state)
{
    (void)state;
    game_t g;
    game_init(&g, 64, 1, 77);
    g.fixed = 2.5;
    g.need[10] = g.need[20];
    ec_plan_shapley_t s;
    assert_int_equal(ec_plan_shapley(64, game_cost, &g, 400, 5, &s), EC_OK);
    double all = 0;
    for (int i = 0; i < 64; i++)
        all += g.need[i];
    assert_float_equal(total(&s, 64), sqrt(all), 1e-9);
    /* the symmetric pair agrees within its errors */
    double d = fabs(s.value[10] - s.value[20]);
    assert_true(d <= 4 * sqrt(s.stderr_[10] * s.stderr_[10] + s.stderr_[20] * s.stderr_[20]));
    ec_plan_shapley_free(&s);
}

static void errors(void **state)
{
    (void)state;
    game_t g;
    ec_plan_shapley_t s, before;
    memset(&s, 0xa5, sizeof s);
    before = s;
    game_init(&g, 6, 0, 1);
    assert_int_equal(ec_plan_shapley(0, game_cost, &g, 0, 1, &s), EC_EINVAL);
    assert_int_equal(ec_plan_shapley(65, game_cost, &g, 100, 1, &s), EC_EINVAL);
    assert_int_equal(ec_plan_shapley(6, NULL, &g, 0, 1, &s), EC_EINVAL);
    assert_int_equal(ec_plan_shapley(13, game_cost, &g, 1, 1, &s), EC_EINVAL);
    assert_int_equal(ec_plan_shapley(13, game_cost, &g, 0, 1, &s), EC_EINVAL);
    assert_memory_equal(&s, &before, sizeof s);

    /* a cost function's error stops it and passes up, exact and sampled */
    g.fail_mask = 0x15;
    ec_alloc_stats_t a0 = ec_alloc_stats();
    assert_int_equal(ec_plan_shapley(6, game_cost, &g, 0, 1, &s), EC_EIO);
    assert_non_null(strstr(ec_errmsg(), "0x15"));
    assert_int_equal(g.calls, 0x15 + 1); /* asked in order, stopped at the failure */
    assert_memory_equal(&s, &before, sizeof s);
    game_init(&g, 20, 0, 1);
    g.fail_mask = 0xfffff; /* the whole set: every order reaches it */
    assert_int_equal(ec_plan_shapley(20, game_cost, &g, 50, 1, &s), EC_EIO);
    assert_int_equal(g.calls, 21);
    assert_memory_equal(&s, &before, sizeof s);
    ec_alloc_stats_t a1 = ec_alloc_stats();
    assert_int_equal(a1.allocs - a0.allocs, a1.frees - a0.frees);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(airport_exact),   cmocka_unit_test(concave_against_brute_force),
        cmocka_unit_test(airport_sampled), cmocka_unit_test(sampled_64_players),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
