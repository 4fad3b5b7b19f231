/* bench_alloc.c - one allocation step for N active sessions, per algorithm,
 * beside the uncontrolled step (no sorting, no limit) as the baseline of the
 * same run; then the grid-aware step (10 sites with their own connections, a
 * day of 5-minute headroom and prices) for opt, with and without holding
 * the peak. Prints one JSON line per case.
 *   bench_alloc N REPEATS */
#include "ecorridor/ec_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000, reps = argc > 2 ? strtol(argv[2], NULL, 10) : 2000;
    if (n < 1 || n > 10000000 || reps < 1 || reps > 10000000) {
        fprintf(stderr, "usage: bench_alloc N REPEATS (whole numbers from 1)\n");
        return 2;
    }
    ec_alloc_session_t *s = calloc((size_t)n, sizeof *s);
    double *w = malloc((size_t)n * sizeof *w);
    int64_t *t = malloc((size_t)reps * sizeof *t);
    srand(1);
    for (long i = 0; i < n; i++) {
        s[i].arrival_s = rand() % 86400;
        s[i].departure_s = s[i].arrival_s + 1800 + rand() % 36000;
        s[i].remaining_wh = 1000.0 + rand() % 400000;
        s[i].max_w = 50000.0 + rand() % 1000000;
        s[i].site = (int)(i % 10);
    }
    double limit = 0.3 * n * 300000.0; /* a third of what they could take: the limit binds */
    double base = 0;
    for (int a = 0; a < EC_ALLOC_COUNT; a++) {
        for (int r = 0; r < reps; r++) {
            int64_t t0 = now_ns();
            ec_alloc_step((ec_alloc_algo)a, s, (size_t)n, limit, 86400, 300, w);
            t[r] = now_ns() - t0;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp);
        double med = t[reps / 2] / 1000.0, p99 = t[(size_t)(reps * 0.99)] / 1000.0;
        if (a == EC_ALLOC_UNCONTROLLED) base = med;
        printf("{\"bench\": \"alloc_step\", \"algo\": \"%s\", \"sessions\": %d, \"median_us\": %.2f, \"p99_us\": %.2f, "
               "\"ratio_to_uncontrolled\": %.1f}\n",
               ec_alloc_algo_name((ec_alloc_algo)a), (int)n, med, p99, base > 0 ? med / base : 0);
    }
    /* The grid: a day ahead in 5-minute periods, headroom and price varying by the hour. */
    enum { NP = 288 };
    double head[NP], price[NP], other[NP], site_lim[10];
    for (int p = 0; p < NP; p++) {
        int hour = (p / 12) % 24;
        other[p] = 0.2 * limit * (hour >= 17 && hour < 21 ? 2 : 1);
        head[p] = limit - other[p] + 0.3 * limit;
        price[p] = 0.10 + 0.01 * ((hour * 7) % 24);
    }
    for (int k = 0; k < 10; k++) site_lim[k] = limit / 8;
    for (int peak = 0; peak < 2; peak++) {
        ec_alloc_grid_t g = {86400, 300, NP, head, other, price, 10, site_lim, peak, 0};
        int r2 = peak ? (reps / 10 > 0 ? (int)(reps / 10) : 1) : (int)reps;
        for (int r = 0; r < r2; r++) {
            int64_t t0 = now_ns();
            ec_alloc_solve(EC_ALLOC_OPT, s, (size_t)n, &g, w);
            t[r] = now_ns() - t0;
        }
        qsort(t, (size_t)r2, sizeof *t, cmp);
        double med = t[r2 / 2] / 1000.0, p99 = t[(size_t)(r2 * 0.99)] / 1000.0;
        printf("{\"bench\": \"alloc_step_grid\", \"algo\": \"opt\", \"minimise_peak\": %s, \"sessions\": %d, \"sites\": 10, "
               "\"periods\": %d, \"median_us\": %.2f, \"p99_us\": %.2f, \"ratio_to_uncontrolled\": %.1f}\n",
               peak ? "true" : "false", (int)n, NP, med, p99, base > 0 ? med / base : 0);
    }
    free(s);
    free(w);
    free(t);
    return 0;
}
