/* test_alloc.c - the optimising allocation step against the heuristics:
 * issue 13's defect on a tiny input (a session past its estimated departure
 * is still plugged in), the step's energy over the horizon against every
 * heuristic's on seeded random states, and replays on which the optimising
 * scheduler can be held to the optimum.
 *
 * Why no test says "opt never delivers less than FCFS over any replay":
 * that is not true of any online algorithm. opt decides each period knowing
 * only the sessions present; when the limit binds it gives the period to
 * the sessions with the least slack, and a vehicle arriving later can take
 * the capacity that slack was counting on, where FCFS happened to have
 * served the other vehicle first. Seeded search found, with exact departure
 * estimates, 1 such replay in 20,000 (5-minute periods, 36,317 W shared;
 * arrival and departure period, Wh requested, W maximum):
 *   2 7 5564 12767 · 3 15 20418 21484 · 11 17 14924 21409 · 7 13 1778 15428 ·
 *   6 16 1120 3407 · 11 16 12958 21917
 * FCFS delivers 39,456.4 Wh (the offline optimum), opt 39,360.3. With
 * estimates that are wrong it is more common (2 % of random replays), and
 * it goes both ways: opt plans by the estimate, FCFS reads no departure.
 * What is true, and tested here: each step's allocation, followed by the
 * best that can be done afterwards with the sessions present, delivers the
 * most energy any allocation of that step can (so at least what every
 * heuristic's does); and over a replay, opt reaches the offline optimum
 * when nothing arrives after the first step, and delivers what every other
 * algorithm does when the limit never binds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PERIOD 300
#define H (PERIOD / 3600.0)

/* Issue 13's root cause on one session: plugged in now, its estimated
 * departure already past. opt gave it nothing (it had no arc into the
 * first period) while FCFS gave it its maximum; the depot with every truck
 * at 6.656 kW lost 126 such periods that way (17.27 % against 17.70 %). */
static void test_alloc_overdue_session(void **state)
{
    (void)state;
    double w[2];
    /* Arrived at 0, said it would leave at 900 s; now is 1,200 s and it is still here. */
    ec_alloc_session_t one[1] = {{0, 900, 10000, 6656, 0, 0, 0}};
    for (int a = EC_ALLOC_FCFS; a < EC_ALLOC_COUNT; a++) {
        ec_alloc_step((ec_alloc_algo)a, one, 1, 3e6, 1200, PERIOD, w);
        if (fabs(w[0] - 6656) > 1e-6) fail_msg("%s gives the overdue session %g W, not 6656", ec_alloc_algo_name((ec_alloc_algo)a), w[0]);
    }
    /* Its estimate exactly now: the same. */
    one[0].departure_s = 1200;
    ec_alloc_step(EC_ALLOC_OPT, one, 1, 3e6, 1200, PERIOD, w);
    assert_true(fabs(w[0] - 6656) < 1e-6);
    /* With a horizon of prices, cheaper later: it may leave at any moment, so it charges now. */
    one[0].departure_s = 900;
    double head[4] = {3e6, 3e6, 3e6, 3e6}, price[4] = {0.40, 0.10, 0.10, 0.10};
    ec_alloc_grid_t g = {1200, PERIOD, 4, head, NULL, price, 0, NULL, 0, 0};
    ec_alloc_solve(EC_ALLOC_OPT, one, 1, &g, w);
    assert_true(fabs(w[0] - 6656) < 1e-6);
    /* Under a binding limit it goes first: the other has an hour to catch up, it has this period. */
    ec_alloc_session_t two[2] = {{0, 4800, 10000, 6656, 0, 0, 0}, {0, 900, 10000, 6656, 0, 0, 0}};
    ec_alloc_step(EC_ALLOC_OPT, two, 2, 6656, 1200, PERIOD, w);
    assert_true(fabs(w[1] - 6656) < 1e-6 && fabs(w[0]) < 1e-6);
}

static double frand(double lo, double hi)
{
    return lo + (hi - lo) * (double)rand() / (double)RAND_MAX;
}

/* The most energy the sessions present at now can still receive, each until
 * its estimated departure (at least this period): the offline optimum of a
 * replay that holds only them, from now (a different maximum flow from
 * opt's: one node per period, no blocks). */
static double best_from(const ec_alloc_session_t *s, const double *given_w, size_t n, int64_t from, double limit)
{
    ec_vec v;
    ec_vec_init(&v, sizeof(ec_charge_session_t));
    for (size_t i = 0; i < n; i++) {
        ec_charge_session_t c;
        memset(&c, 0, sizeof c);
        c.arrival_s = from;
        c.departure_s = s[i].departure_s;
        c.est_departure_s = c.departure_s;
        c.requested_wh = s[i].remaining_wh - (given_w ? given_w[i] * H : 0);
        c.max_w = s[i].max_w;
        if (c.departure_s > from && c.requested_wh > 1e-9) assert_int_equal(ec_vec_push(&v, &c), EC_OK);
    }
    ec_charge_sim_opts_t o;
    memset(&o, 0, sizeof o);
    o.capacity_w = limit, o.period_s = PERIOD;
    ec_charge_sim_result_t r;
    assert_int_equal(ec_charge_offline_optimum(&v, &o, &r), EC_OK);
    ec_vec_free(&v);
    return r.delivered_wh;
}

/* On seeded random states (some sessions past their estimated departure,
 * some limits binding, prices or none): every step's allocation within
 * each maximum and the limit; opt's, with the best continuation, delivers
 * the most energy the sessions present can receive, so no heuristic's step
 * followed by the same best continuation delivers more; without prices opt
 * uses the whole limit now whenever the sessions can take it. */
static void test_alloc_step_dominates(void **state)
{
    (void)state;
    srand(13);
    enum { N = 10, NP = 16 };
    ec_alloc_session_t s[N];
    double w[N], head[NP], price[NP];
    const int64_t now = 12 * PERIOD;
    for (int round = 0; round < 400; round++) {
        size_t n = 1 + (size_t)(rand() % N);
        double limit = rand() % 5 ? frand(0, 60000) : 1e6;
        int priced = rand() % 2;
        for (size_t p = 0; p < NP; p++) head[p] = limit, price[p] = (double)(rand() % 40) / 100.0;
        memset(s, 0, sizeof s);
        double demand = 0;
        for (size_t i = 0; i < n; i++) {
            s[i].arrival_s = (int64_t)(rand() % 12) * PERIOD;
            /* Whole periods, as the replay's: from 3 periods ago (overdue) to 12 ahead. */
            int64_t k = (int64_t)(rand() % 16) - 3;
            s[i].departure_s = now + k * PERIOD;
            s[i].remaining_wh = frand(0, 20000);
            s[i].max_w = frand(1000, 22000);
            double cap = s[i].remaining_wh / H < s[i].max_w ? s[i].remaining_wh / H : s[i].max_w;
            demand += cap;
        }
        /* The oracle's view: a session past its estimate leaves at the end of this period. */
        ec_alloc_session_t eff[N];
        memcpy(eff, s, sizeof s);
        for (size_t i = 0; i < n; i++)
            if (eff[i].departure_s < now + PERIOD) eff[i].departure_s = now + PERIOD;
        double best = best_from(eff, NULL, n, now, limit), got[EC_ALLOC_COUNT];
        ec_alloc_grid_t g = {now, PERIOD, NP, head, NULL, priced ? price : NULL, 0, NULL, 0, 0};
        for (int a = EC_ALLOC_FCFS; a < EC_ALLOC_COUNT; a++) {
            ec_alloc_solve((ec_alloc_algo)a, s, n, &g, w);
            double sum = 0;
            for (size_t i = 0; i < n; i++) {
                assert_true(w[i] >= -1e-9 && w[i] <= s[i].max_w + 1e-6 && w[i] * H <= s[i].remaining_wh + 1e-6);
                sum += w[i];
            }
            assert_true(sum <= limit + 1e-6);
            got[a] = sum * H + best_from(eff, w, n, now + PERIOD, limit);
            if (a == EC_ALLOC_OPT && !priced && fabs(sum - (demand < limit ? demand : limit)) > 1e-6 * (1 + limit))
                fail_msg("round %d: opt uses %g W of %g with %g wanted", round, sum, limit, demand);
        }
        double tol = 1e-6 * (1 + best);
        if (fabs(got[EC_ALLOC_OPT] - best) > tol) fail_msg("round %d: opt's step leads to %g Wh, the best is %g", round, got[EC_ALLOC_OPT], best);
        for (int a = EC_ALLOC_FCFS; a < EC_ALLOC_OPT; a++)
            if (got[a] > got[EC_ALLOC_OPT] + tol)
                fail_msg("round %d: %s's step leads to %g Wh, opt's to %g", round, ec_alloc_algo_name((ec_alloc_algo)a), got[a],
                         got[EC_ALLOC_OPT]);
    }
}

static double replay(const ec_vec *v, ec_alloc_algo algo, double capacity)
{
    ec_charge_sim_opts_t o;
    memset(&o, 0, sizeof o);
    o.algo = algo, o.capacity_w = capacity, o.period_s = PERIOD;
    ec_charge_sim_result_t r;
    assert_int_equal(ec_charge_simulate(v, &o, &r), EC_OK);
    return r.delivered_wh;
}

static double offline(const ec_vec *v, double capacity)
{
    ec_charge_sim_opts_t o;
    memset(&o, 0, sizeof o);
    o.capacity_w = capacity, o.period_s = PERIOD;
    ec_charge_sim_result_t r;
    assert_int_equal(ec_charge_offline_optimum(v, &o, &r), EC_OK);
    return r.delivered_wh;
}

/* Seeded random replays of a few sessions. (a) A limit that never binds,
 * estimates wrong either way (vehicles staying past what they said, as at
 * the depot, or leaving before): opt delivers what FCFS and the offline
 * optimum do. (b) Everyone there from the first step, exact estimates: opt
 * delivers the offline optimum, so no less than any heuristic. (c) Any
 * arrivals, exact estimates: never above the optimum. */
static void test_alloc_replay_properties(void **state)
{
    (void)state;
    srand(17);
    ec_vec v;
    ec_vec_init(&v, sizeof(ec_charge_session_t));
    for (int round = 0; round < 300; round++) {
        for (int kind = 0; kind < 3; kind++) {
            v.len = 0;
            size_t n = 1 + (size_t)(rand() % 8);
            double sum_max = 0;
            for (size_t i = 0; i < n; i++) {
                ec_charge_session_t c;
                memset(&c, 0, sizeof c);
                int64_t a = kind == 1 ? 0 : rand() % 12, d = a + 1 + rand() % 12;
                c.arrival_s = a * PERIOD, c.departure_s = d * PERIOD;
                c.est_departure_s = kind == 0 ? (a + rand() % 16) * PERIOD : c.departure_s;
                c.requested_wh = frand(500, 20000);
                c.max_w = frand(2000, 22000);
                sum_max += c.max_w;
                assert_int_equal(ec_vec_push(&v, &c), EC_OK);
            }
            double cap = kind == 0 ? sum_max + 1 : frand(2000, 40000);
            double opt = replay(&v, EC_ALLOC_OPT, cap), best = offline(&v, cap), tol = 1e-6 * (1 + best);
            if (opt > best + tol) fail_msg("round %d kind %d: opt %g above the optimum %g", round, kind, opt, best);
            if (kind == 2) continue;
            if (fabs(opt - best) > tol) fail_msg("round %d kind %d: opt %g, the optimum %g", round, kind, opt, best);
            for (int a = EC_ALLOC_FCFS; a < EC_ALLOC_OPT; a++) {
                double h = replay(&v, (ec_alloc_algo)a, cap);
                if (h > opt + tol) fail_msg("round %d kind %d: %s %g above opt %g", round, kind, ec_alloc_algo_name((ec_alloc_algo)a), h, opt);
            }
        }
    }
    ec_vec_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_overdue_session),
        cmocka_unit_test(test_alloc_step_dominates),
        cmocka_unit_test(test_alloc_replay_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
