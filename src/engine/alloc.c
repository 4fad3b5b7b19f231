/* alloc.c - the online allocation algorithms: sorting heuristics (FCFS,
 * EDF, LLF) that give each session in turn as much as still fits, and equal
 * shares by water-filling. O(n log n) a step; no allocation beyond one index
 * array per call for up to EC_ALLOC_STACK sessions. */
#include "ecorridor/ec_alloc.h"

#include "flow.h"

#include <stdlib.h>
#include <string.h>

#define EC_ALLOC_STACK 4096

static const char *const names[EC_ALLOC_COUNT] = {"uncontrolled", "fcfs", "rr", "edf", "llf", "opt"};

const char *ec_alloc_algo_name(ec_alloc_algo a)
{
    return (int)a >= 0 && a < EC_ALLOC_COUNT ? names[a] : "?";
}

int ec_alloc_algo_parse(const char *s, ec_alloc_algo *out)
{
    for (int i = 0; i < EC_ALLOC_COUNT; i++)
        if (s && !strcmp(s, names[i])) {
            *out = (ec_alloc_algo)i;
            return 0;
        }
    return -1;
}

/* The most a session can use this period: its maximum, or what finishes it. */
static double cap_w(const ec_alloc_session_t *s, int64_t period_s)
{
    double need = s->remaining_wh > 0 ? s->remaining_wh * 3600.0 / (double)period_s : 0;
    return need < s->max_w ? need : s->max_w;
}

typedef struct {
    double key;
    size_t i;
} order_t;

static int by_key(const void *a, const void *b)
{
    const order_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i; /* stable: input order breaks ties */
}

static double sort_key(ec_alloc_algo algo, const ec_alloc_session_t *s, int64_t now_s)
{
    switch (algo) {
    case EC_ALLOC_FCFS: return (double)s->arrival_s;
    case EC_ALLOC_EDF: return (double)s->departure_s;
    case EC_ALLOC_LLF: {
        /* Laxity: time left minus the time the remaining energy takes at full power. */
        double need_s = s->max_w > 0 ? s->remaining_wh * 3600.0 / s->max_w : 0;
        return (double)(s->departure_s - now_s) - need_s;
    }
    default: return 0;
    }
}

/* Max-min fair shares: sessions asking less than an equal share get what
 * they ask; the rest split what is left equally. */
static void water_fill(const ec_alloc_session_t *s, size_t n, double limit_w, int64_t period_s, double *out,
                       order_t *ord)
{
    for (size_t i = 0; i < n; i++) ord[i] = (order_t){cap_w(&s[i], period_s), i};
    qsort(ord, n, sizeof *ord, by_key);
    double left = limit_w > 0 ? limit_w : 0;
    for (size_t k = 0; k < n; k++) {
        double share = left / (double)(n - k);
        double give = ord[k].key < share ? ord[k].key : share;
        out[ord[k].i] = give;
        left -= give;
    }
}

#define OPT_INTERVALS 48 /* at most this many blocks of the horizon after the first period */
#define OPT_ARCS 8000    /* fewer blocks when there are many sessions: sessions x blocks at most this */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The optimising step. Over the horizon of the sessions present (each until
 * its estimated departure), a maximum flow: source → session (energy still
 * requested) → the first period and the blocks of time after it up to its
 * departure (its maximum power for that long) → sink (the limit for that
 * long). First only the first period may be used, so it is filled as far as
 * any schedule can; then each block in turn is opened, which moves
 * first-period energy to the sessions that cannot wait: the schedule
 * delivers as much as possible as early as possible (lexicographically),
 * and as much as possible of every request overall. Blocks end at
 * departures (at most OPT_INTERVALS of them, rounded down, so a session is
 * never given time it does not have). Returns -1 when out of memory. */
static int opt_step(const ec_alloc_session_t *s, size_t n, double limit_w, int64_t now_s, int64_t period_s, double *out)
{
    int64_t ends[OPT_INTERVALS + 1], dl[EC_ALLOC_STACK]; /* block ends; departures */
    int64_t *d = n <= EC_ALLOC_STACK ? dl : ec_malloc(n * sizeof *d);
    if (!d) return -1;
    int64_t p1 = now_s + period_s;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].departure_s > p1) d[m++] = s[i].departure_s;
    qsort(d, m, sizeof *d, cmp_i64);
    int k = 0;
    size_t blocks = n ? OPT_ARCS / n : OPT_INTERVALS;
    if (blocks > OPT_INTERVALS) blocks = OPT_INTERVALS;
    if (blocks < 4) blocks = 4;
    for (size_t j = 0; j < m; j++) {
        /* Every departure while there are few; quantiles when there are many. */
        size_t at = m <= blocks ? j : (j + 1) * m / blocks - 1;
        if (m > blocks && j >= blocks) break;
        int64_t e = (d[at] - now_s) / period_s * period_s + now_s; /* whole periods */
        if (e > p1 && (k == 0 || e > ends[k - 1])) ends[k++] = e;
    }
    if (d != dl) ec_free(d);
    flow_t f;
    memset(&f, 0, sizeof f);
    int N = (int)n, P0 = N, I0 = N + 1, src = N + 1 + k, sink = src + 1;
    double h = (double)period_s / 3600.0;
    int first_block_arc = 0, *first_arc = n <= EC_ALLOC_STACK ? NULL : ec_malloc(n * sizeof(int));
    int arcs_stack[EC_ALLOC_STACK];
    if (!first_arc) first_arc = arcs_stack;
    ec_err rc = n > EC_ALLOC_STACK && first_arc == arcs_stack ? EC_ENOMEM : flow__reset(&f, sink + 1);
    /* Among schedules equally good, the search takes the arcs added last
     * first: adding sessions from the most laxity to the least makes ties go
     * to the sessions that can wait least. */
    order_t ord_stack[EC_ALLOC_STACK], *ord = n <= EC_ALLOC_STACK ? ord_stack : ec_malloc(n * sizeof *ord);
    if (!ord) rc = EC_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) ord[i] = (order_t){-sort_key(EC_ALLOC_LLF, &s[i], now_s), i};
    if (!rc) qsort(ord, n, sizeof *ord, by_key);
    for (size_t r = 0; r < n && !rc; r++) {
        size_t i = ord[r].i;
        rc = flow__arc(&f, src, (int)i, s[i].remaining_wh > 0 ? s[i].remaining_wh : 0, NULL);
        if (!rc) rc = flow__arc(&f, (int)i, P0, s[i].departure_s > now_s ? s[i].max_w * h : 0, &first_arc[i]);
        int64_t start = p1;
        for (int j = 0; j < k && !rc && ends[j] <= s[i].departure_s; j++) {
            rc = flow__arc(&f, (int)i, I0 + j, s[i].max_w * (double)(ends[j] - start) / 3600.0, NULL);
            start = ends[j];
        }
    }
    if (!rc) rc = flow__arc(&f, P0, sink, limit_w * h, NULL);
    first_block_arc = f.n_arcs;
    for (int j = 0; j < k && !rc; j++) rc = flow__arc(&f, I0 + j, sink, 0, NULL); /* opened below */
    if (!rc) {
        flow__max(&f, src, sink);
        int64_t start = p1;
        for (int j = 0; j < k; j++) {
            f.arcs[first_block_arc + 2 * j].cap = limit_w * (double)(ends[j] - start) / 3600.0;
            start = ends[j];
            flow__max(&f, src, sink);
        }
        for (size_t i = 0; i < n; i++) {
            double w = flow__on(&f, first_arc[i]) / h;
            out[i] = w < 0 ? 0 : w > cap_w(&s[i], period_s) ? cap_w(&s[i], period_s) : w;
        }
    }
    if (ord && ord != ord_stack) ec_free(ord);
    if (first_arc != arcs_stack) ec_free(first_arc);
    flow__free(&f);
    return rc ? -1 : 0;
}

void ec_alloc_step(ec_alloc_algo algo, const ec_alloc_session_t *s, size_t n, double limit_w, int64_t now_s,
                   int64_t period_s, double *out_w)
{
    if (!n) return;
    if (algo == EC_ALLOC_UNCONTROLLED) {
        for (size_t i = 0; i < n; i++) out_w[i] = cap_w(&s[i], period_s);
        return;
    }
    order_t stack[EC_ALLOC_STACK], *ord = n <= EC_ALLOC_STACK ? stack : ec_malloc(n * sizeof *ord);
    if (!ord) { /* out of memory: the safe answer is nothing */
        memset(out_w, 0, n * sizeof *out_w);
        return;
    }
    if (algo == EC_ALLOC_OPT && opt_step(s, n, limit_w, now_s, period_s, out_w) == 0) {
        /* done */
    } else if (algo == EC_ALLOC_RR) {
        water_fill(s, n, limit_w, period_s, out_w, ord);
    } else {
        if (algo == EC_ALLOC_OPT) algo = EC_ALLOC_LLF; /* out of memory for the flow: the nearest heuristic */
        for (size_t i = 0; i < n; i++) ord[i] = (order_t){sort_key(algo, &s[i], now_s), i};
        qsort(ord, n, sizeof *ord, by_key);
        double left = limit_w > 0 ? limit_w : 0;
        for (size_t k = 0; k < n; k++) {
            double want = cap_w(&s[ord[k].i], period_s);
            double give = want < left ? want : left;
            out_w[ord[k].i] = give;
            left -= give;
        }
    }
    if (ord != stack) ec_free(ord);
}
