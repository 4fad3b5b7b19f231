/* alloc.c - the online allocation algorithms: sorting heuristics (FCFS,
 * EDF, LLF) that give each session in turn as much as still fits, equal
 * shares by water-filling, and the optimising step (a maximum flow over the
 * horizon). Limits nest: each session, its site's connection, the shared
 * headroom. O(n log n) a step for the heuristics; no allocation beyond index
 * arrays for up to EC_ALLOC_STACK sessions. */
#include "ecorridor/ec_alloc.h"

#include "flow.h"

#include <stdlib.h>
#include <string.h>

#define EC_ALLOC_STACK 4096
#define INF_W 1e300

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
 * they ask; the rest split what is left equally. Over the sessions in
 * ord[0..n) (key: what each can take), sorted here. */
static void water_fill_sorted(size_t n, double limit_w, double *out, order_t *ord)
{
    qsort(ord, n, sizeof *ord, by_key);
    double left = limit_w > 0 ? limit_w : 0;
    for (size_t k = 0; k < n; k++) {
        double share = left / (double)(n - k);
        double give = ord[k].key < share ? ord[k].key : share;
        out[ord[k].i] = give;
        left -= give;
    }
}

/* Scratch of one step: on the stack up to EC_ALLOC_STACK sessions and
 * sites, else on the heap. */
typedef struct {
    order_t ord_stack[EC_ALLOC_STACK], *ord;
    double site_stack[EC_ALLOC_STACK], *site_left; /* per site: what its connection still allows */
} scratch_t;

static int scratch_init(scratch_t *x, size_t n, size_t n_sites)
{
    x->ord = n <= EC_ALLOC_STACK ? x->ord_stack : ec_malloc(n * sizeof *x->ord);
    x->site_left = n_sites <= EC_ALLOC_STACK ? x->site_stack : ec_malloc(n_sites * sizeof *x->site_left);
    return x->ord && x->site_left ? 0 : -1;
}

static void scratch_free(scratch_t *x)
{
    if (x->ord && x->ord != x->ord_stack) ec_free(x->ord);
    if (x->site_left && x->site_left != x->site_stack) ec_free(x->site_left);
}

static size_t site_of(const ec_alloc_session_t *s, const ec_alloc_grid_t *g)
{
    return s->site >= 0 && (size_t)s->site < g->n_sites ? (size_t)s->site : 0;
}

static double site_limit(const ec_alloc_grid_t *g, size_t site)
{
    if (!g->site_limit_w || site >= g->n_sites || g->site_limit_w[site] <= 0) return INF_W;
    return g->site_limit_w[site];
}

static int has_site_limits(const ec_alloc_grid_t *g)
{
    for (size_t i = 0; g->site_limit_w && i < g->n_sites; i++)
        if (g->site_limit_w[i] > 0) return 1;
    return 0;
}

static double series(const double *v, size_t n, size_t k, double dflt)
{
    return v && n ? v[k < n ? k : n - 1] : dflt;
}

/* Max-min fair shares under nested limits: a level L such that every
 * session gets min(what it can take, L) unless its site's connection binds,
 * in which case the site's sessions share the connection max-min fairly;
 * the sum within limit_w. L by bisection on the (monotone) total. */
static void water_fill_sites(const ec_alloc_session_t *s, size_t n, const ec_alloc_grid_t *g, double limit_w,
                             double *out, scratch_t *x)
{
    size_t ns = g->n_sites ? g->n_sites : 1;
    double hi = 0;
    for (size_t i = 0; i < n; i++) {
        double c = cap_w(&s[i], g->period_s);
        if (c > hi) hi = c;
    }
    double lo = 0;
    for (int it = 0; it < 100 && hi - lo > 1e-9 * (hi > 1 ? hi : 1); it++) {
        double mid = (lo + hi) / 2, total = 0;
        for (size_t k = 0; k < ns; k++) x->site_left[k] = 0;
        for (size_t i = 0; i < n; i++) {
            double c = cap_w(&s[i], g->period_s);
            x->site_left[site_of(&s[i], g)] += c < mid ? c : mid;
        }
        for (size_t k = 0; k < ns; k++) total += x->site_left[k] < site_limit(g, k) ? x->site_left[k] : site_limit(g, k);
        if (total <= limit_w) lo = mid;
        else hi = mid;
    }
    /* Sites whose connection binds at level lo share it; the rest take min(cap, lo). */
    for (size_t k = 0; k < ns; k++) x->site_left[k] = 0;
    for (size_t i = 0; i < n; i++) {
        double c = cap_w(&s[i], g->period_s);
        x->site_left[site_of(&s[i], g)] += c < lo ? c : lo;
    }
    for (size_t k = 0; k < ns; k++) {
        size_t m = 0;
        int binds = x->site_left[k] > site_limit(g, k);
        for (size_t i = 0; i < n; i++) {
            if (site_of(&s[i], g) != k) continue;
            double c = cap_w(&s[i], g->period_s);
            if (binds) x->ord[m++] = (order_t){c, i};
            else out[i] = c < lo ? c : lo;
        }
        if (binds) water_fill_sorted(m, site_limit(g, k), out, x->ord);
    }
}

/* FCFS, EDF, LLF: in the algorithm's order, each as much as still fits
 * under its own maximum, its site's connection and the shared limit. */
static void greedy(ec_alloc_algo algo, const ec_alloc_session_t *s, size_t n, const ec_alloc_grid_t *g,
                   double limit_w, double *out, scratch_t *x)
{
    size_t ns = g->n_sites ? g->n_sites : 1;
    for (size_t k = 0; k < ns; k++) x->site_left[k] = site_limit(g, k);
    for (size_t i = 0; i < n; i++) x->ord[i] = (order_t){sort_key(algo, &s[i], g->now_s), i};
    qsort(x->ord, n, sizeof *x->ord, by_key);
    double left = limit_w;
    for (size_t k = 0; k < n; k++) {
        size_t i = x->ord[k].i, site = site_of(&s[i], g);
        double give = cap_w(&s[i], g->period_s);
        if (give > left) give = left;
        if (give > x->site_left[site]) give = x->site_left[site];
        if (give < 0) give = 0;
        out[i] = give;
        left -= give;
        x->site_left[site] -= give;
    }
}

#define OPT_INTERVALS 48 /* at most this many blocks of the horizon after the first period */
#define OPT_ARCS 8000    /* fewer blocks when there are many sessions: sessions x blocks at most this */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The horizon of one optimising step: block 0 is the first period, blocks
 * 1..k end at ends[0..k-1]. */
typedef struct {
    const ec_alloc_session_t *s;
    size_t n;
    const ec_alloc_grid_t *g;
    int64_t ends[OPT_INTERVALS + 1];
    int k;
    int use_sites;
    flow_t f;
    int *first_arc;   /* per session: its arc into block 0 */
    int sink_arc0;    /* the arcs block j -> sink are sink_arc0 + 2j */
    order_t *ord;     /* sessions from the most laxity to the least */
} opt_t;

static int64_t block_start(const opt_t *o, int j)
{
    return j == 0 ? o->g->now_s : j == 1 ? o->g->now_s + o->g->period_s : o->ends[j - 2];
}

static int64_t block_end(const opt_t *o, int j)
{
    return j == 0 ? o->g->now_s + o->g->period_s : o->ends[j - 1];
}

/* What block j lets the sessions charge with the peak held to peak_w:
 * the sum over its periods of min(headroom, peak − others), in Wh; and
 * its mean price. */
static double block_cap(const opt_t *o, int j, double peak_w, double *price)
{
    const ec_alloc_grid_t *g = o->g;
    int64_t a = (block_start(o, j) - g->now_s) / g->period_s, b = (block_end(o, j) - g->now_s) / g->period_s;
    double h = (double)g->period_s / 3600.0, wh = 0, pr = 0;
    size_t last = g->n_periods ? g->n_periods - 1 : 0;
    for (int64_t p = a; p < b; p++) {
        if ((size_t)p >= last && p > a) { /* the rest repeats the last value */
            double c = series(g->headroom_w, g->n_periods, last, 0), oth = series(g->other_w, g->n_periods, last, 0);
            if (peak_w - oth < c) c = peak_w - oth;
            wh += (c > 0 ? c : 0) * h * (double)(b - p);
            pr += series(g->price, g->n_periods, last, 0) * (double)(b - p);
            break;
        }
        double c = series(g->headroom_w, g->n_periods, (size_t)p, 0), oth = series(g->other_w, g->n_periods, (size_t)p, 0);
        if (peak_w - oth < c) c = peak_w - oth;
        wh += (c > 0 ? c : 0) * h;
        pr += series(g->price, g->n_periods, (size_t)p, 0);
    }
    if (price) *price = b > a ? pr / (double)(b - a) : 0;
    return wh;
}

/* The graph with every block closed: source → session (energy still
 * requested) → [its site in block j, when the site has a connection limit]
 * → block j (its maximum power for as long as the block lasts, while it is
 * plugged in) → sink (opened later). */
static ec_err opt_build(opt_t *o)
{
    const ec_alloc_grid_t *g = o->g;
    int N = (int)o->n, K = o->k + 1; /* blocks */
    int ns = g->n_sites ? (int)g->n_sites : 1;
    int B0 = N, S0 = B0 + K, src = S0 + (o->use_sites ? ns * K : 0), sink = src + 1;
    ec_err rc = flow__reset(&o->f, sink + 1);
    double h = (double)g->period_s / 3600.0;
    for (size_t r = 0; r < o->n && !rc; r++) {
        size_t i = o->ord[r].i;
        const ec_alloc_session_t *x = &o->s[i];
        int site = (int)site_of(x, g);
        int via = o->use_sites && site_limit(g, (size_t)site) < INF_W;
        rc = flow__arc(&o->f, src, (int)i, x->remaining_wh > 0 ? x->remaining_wh : 0, NULL);
        int to0 = via ? S0 + site * K : B0;
        /* Every session given here is plugged in now, so it may charge in the
         * first period even when its estimated departure has passed: the
         * estimate is what the driver said, and a vehicle that stays longer
         * is still at the charger. Without this arc such a session got
         * nothing while FCFS, which reads no departures, charged it (the
         * depot at 6.656 kW: 126 such periods, opt 17.27 % against 17.70 %).
         * It is taken to leave at the end of this period: no later arcs. */
        if (!rc) rc = flow__arc(&o->f, (int)i, to0, x->max_w * h, &o->first_arc[i]);
        for (int j = 1; j < K && !rc && block_end(o, j) <= x->departure_s; j++)
            rc = flow__arc(&o->f, (int)i, (via ? S0 + site * K : B0) + j,
                           x->max_w * (double)(block_end(o, j) - block_start(o, j)) / 3600.0, NULL);
    }
    for (int st = 0; o->use_sites && st < ns && !rc; st++) {
        double lim = site_limit(g, (size_t)st);
        if (lim >= INF_W) continue;
        for (int j = 0; j < K && !rc; j++)
            rc = flow__arc(&o->f, S0 + st * K + j, B0 + j, lim * (double)(block_end(o, j) - block_start(o, j)) / 3600.0, NULL);
    }
    o->sink_arc0 = o->f.n_arcs;
    for (int j = 0; j < K && !rc; j++) rc = flow__arc(&o->f, B0 + j, sink, 0, NULL);
    return rc;
}

/* Opens the blocks in order (each as far as the peak allows) and pushes
 * the maximum flow after each: the polymatroid greedy, so the energy into
 * the blocks opened first is as large as any schedule allows. Returns the
 * total energy. */
static double opt_fill(opt_t *o, const int *order, double peak_w)
{
    int N = (int)o->n, K = o->k + 1, ns = o->g->n_sites ? (int)o->g->n_sites : 1;
    int src = N + K + (o->use_sites ? ns * K : 0), sink = src + 1;
    double total = 0;
    for (int r = 0; r < K; r++) {
        o->f.arcs[o->sink_arc0 + 2 * order[r]].cap = block_cap(o, order[r], peak_w, NULL);
        total += flow__max(&o->f, src, sink);
    }
    return total;
}

typedef struct {
    double key;
    int j;
} block_order_t;

static int by_block_key(const void *a, const void *b)
{
    const block_order_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->j - y->j;
}

/* The optimising step. Blocks end at departures (at most OPT_INTERVALS of
 * them, rounded down to whole periods, so a session is never given time it
 * does not have) and where the grid's headroom or price changes. With no
 * prices the blocks open in time order: as much energy as possible as early
 * as possible, and as much of every request as possible overall; with
 * prices, cheapest first (ties to the earlier). With minimise_peak, first
 * the least peak that still delivers the most energy, by bisection. Ties
 * between sessions go to the least laxity: arcs added last are searched
 * first. Returns -1 when out of memory. */
static int opt_step(const ec_alloc_session_t *s, size_t n, const ec_alloc_grid_t *g, double *out)
{
    opt_t o;
    memset(&o, 0, sizeof o);
    o.s = s, o.n = n, o.g = g, o.use_sites = has_site_limits(g);
    int64_t dl[EC_ALLOC_STACK];
    size_t cand_n = n + (g->n_periods > 1 ? g->n_periods : 0);
    int64_t *d = cand_n <= EC_ALLOC_STACK ? dl : ec_malloc(cand_n * sizeof *d);
    int arcs_stack[EC_ALLOC_STACK];
    order_t ord_stack[EC_ALLOC_STACK];
    o.first_arc = n <= EC_ALLOC_STACK ? arcs_stack : ec_malloc(n * sizeof(int));
    o.ord = n <= EC_ALLOC_STACK ? ord_stack : ec_malloc(n * sizeof *o.ord);
    int rc = d && o.first_arc && o.ord ? 0 : -1;
    int64_t p1 = g->now_s + g->period_s, last_dep = p1;
    size_t m = 0;
    for (size_t i = 0; !rc && i < n; i++)
        if (s[i].departure_s > p1) {
            d[m++] = s[i].departure_s;
            if (s[i].departure_s > last_dep) last_dep = s[i].departure_s;
        }
    if (!rc) qsort(d, m, sizeof *d, cmp_i64);
    /* Where the grid changes, within the horizon of the sessions. */
    for (size_t p = 2; !rc && p < g->n_periods; p++) {
        int64_t t = g->now_s + (int64_t)p * g->period_s;
        if (t >= last_dep) break;
        if (series(g->headroom_w, g->n_periods, p, 0) != series(g->headroom_w, g->n_periods, p - 1, 0) ||
            series(g->price, g->n_periods, p, 0) != series(g->price, g->n_periods, p - 1, 0) ||
            series(g->other_w, g->n_periods, p, 0) != series(g->other_w, g->n_periods, p - 1, 0))
            d[m++] = t;
    }
    if (!rc && g->n_periods > 2) qsort(d, m, sizeof *d, cmp_i64);
    size_t blocks = n ? OPT_ARCS / n : OPT_INTERVALS;
    if (blocks > OPT_INTERVALS) blocks = OPT_INTERVALS;
    if (blocks < 4) blocks = 4;
    for (size_t j = 0; !rc && j < m; j++) {
        /* Every boundary while there are few; quantiles when there are many. */
        size_t at = m <= blocks ? j : (j + 1) * m / blocks - 1;
        if (m > blocks && j >= blocks) break;
        int64_t e = (d[at] - g->now_s) / g->period_s * g->period_s + g->now_s; /* whole periods */
        if (e > p1 && (o.k == 0 || e > o.ends[o.k - 1])) o.ends[o.k++] = e;
    }
    if (d && d != dl) ec_free(d);
    for (size_t i = 0; !rc && i < n; i++) o.ord[i] = (order_t){-sort_key(EC_ALLOC_LLF, &s[i], g->now_s), i};
    if (!rc) qsort(o.ord, n, sizeof *o.ord, by_key);
    int K = o.k + 1, order[OPT_INTERVALS + 2];
    if (!rc) {
        block_order_t bo[OPT_INTERVALS + 2];
        for (int j = 0; j < K; j++) {
            double pr = 0;
            block_cap(&o, j, INF_W, &pr);
            bo[j] = (block_order_t){g->price ? pr : (double)j, j};
        }
        qsort(bo, (size_t)K, sizeof *bo, by_block_key);
        for (int j = 0; j < K; j++) order[j] = bo[j].j;
    }
    double peak = INF_W;
    if (!rc && g->minimise_peak) {
        /* The most energy with no peak limit, then the least peak that still delivers it. */
        double lo = 0, hi = 0;
        for (int j = 0; j < K; j++) {
            int64_t a = (block_start(&o, j) - g->now_s) / g->period_s, b = (block_end(&o, j) - g->now_s) / g->period_s;
            for (int64_t p = a; p < b && (size_t)p <= g->n_periods; p++) {
                double oth = series(g->other_w, g->n_periods, (size_t)p, 0);
                double top = oth + series(g->headroom_w, g->n_periods, (size_t)p, 0);
                if (oth > lo) lo = oth;
                if (top > hi) hi = top;
            }
        }
        rc = opt_build(&o) ? -1 : 0;
        double best = rc ? 0 : opt_fill(&o, order, INF_W);
        for (int it = 0; !rc && it < 40 && hi - lo > 1.0; it++) {
            double mid = (lo + hi) / 2;
            if ((rc = opt_build(&o) ? -1 : 0)) break;
            if (opt_fill(&o, order, mid) >= best * (1 - 1e-9) - 1e-6) hi = mid;
            else lo = mid;
        }
        peak = hi;
    }
    if (!rc) rc = opt_build(&o) ? -1 : 0;
    if (!rc) {
        opt_fill(&o, order, peak);
        double h = (double)g->period_s / 3600.0;
        for (size_t i = 0; i < n; i++) {
            double w = flow__on(&o.f, o.first_arc[i]) / h;
            out[i] = w < 0 ? 0 : w > cap_w(&s[i], g->period_s) ? cap_w(&s[i], g->period_s) : w;
        }
    }
    if (o.ord && o.ord != ord_stack) ec_free(o.ord);
    if (o.first_arc && o.first_arc != arcs_stack) ec_free(o.first_arc);
    flow__free(&o.f);
    return rc;
}

/* Vehicle-to-grid: sessions that opted in and get no charge give back, in a
 * period priced at or above v2g_price, or to cover the others' load above
 * the limit; never more than v2g_wh, and each site's net export within its
 * connection. */
static void v2g(const ec_alloc_session_t *s, size_t n, const ec_alloc_grid_t *g, double *out, scratch_t *x)
{
    double headroom = series(g->headroom_w, g->n_periods, 0, 0);
    double deficit = headroom < 0 ? -headroom : 0;
    int peak_price = g->v2g_price > 0 && g->price && series(g->price, g->n_periods, 0, 0) >= g->v2g_price;
    if (!peak_price && deficit <= 0) return;
    size_t ns = g->n_sites ? g->n_sites : 1;
    for (size_t k = 0; k < ns; k++) x->site_left[k] = site_limit(g, k); /* export room: limit + its import */
    for (size_t i = 0; i < n; i++) x->site_left[site_of(&s[i], g)] += out[i];
    for (size_t i = 0; i < n; i++) {
        if (s[i].v2g_wh <= 0 || s[i].max_discharge_w <= 0 || out[i] > 0) continue;
        double d = s[i].v2g_wh * 3600.0 / (double)g->period_s;
        if (d > s[i].max_discharge_w) d = s[i].max_discharge_w;
        if (!peak_price && d > deficit) d = deficit;
        size_t site = site_of(&s[i], g);
        if (d > x->site_left[site]) d = x->site_left[site];
        if (d <= 0) continue;
        out[i] = -d;
        x->site_left[site] -= d;
        deficit -= d;
        if (!peak_price && deficit <= 0) break;
    }
}

void ec_alloc_solve(ec_alloc_algo algo, const ec_alloc_session_t *s, size_t n, const ec_alloc_grid_t *g, double *out_w)
{
    if (!n) return;
    if (algo == EC_ALLOC_UNCONTROLLED) {
        for (size_t i = 0; i < n; i++) out_w[i] = cap_w(&s[i], g->period_s);
        return;
    }
    scratch_t x;
    if (scratch_init(&x, n, g->n_sites ? g->n_sites : 1)) { /* out of memory: the safe answer is nothing */
        memset(out_w, 0, n * sizeof *out_w);
        scratch_free(&x);
        return;
    }
    double limit = series(g->headroom_w, g->n_periods, 0, 0);
    if (limit < 0) limit = 0;
    ec_alloc_grid_t now = *g;
    now.headroom_w = &limit;
    now.n_periods = 1;
    if (algo == EC_ALLOC_OPT && opt_step(s, n, g, out_w) == 0) {
        /* done */
    } else if (algo == EC_ALLOC_RR) {
        if (has_site_limits(g)) {
            water_fill_sites(s, n, &now, limit, out_w, &x);
        } else {
            for (size_t i = 0; i < n; i++) x.ord[i] = (order_t){cap_w(&s[i], g->period_s), i};
            water_fill_sorted(n, limit, out_w, x.ord);
        }
    } else {
        /* OPT out of memory for the flow: the nearest heuristic. */
        greedy(algo == EC_ALLOC_OPT ? EC_ALLOC_LLF : algo, s, n, &now, limit, out_w, &x);
    }
    v2g(s, n, g, out_w, &x);
    scratch_free(&x);
}

void ec_alloc_step(ec_alloc_algo algo, const ec_alloc_session_t *s, size_t n, double limit_w, int64_t now_s,
                   int64_t period_s, double *out_w)
{
    ec_alloc_grid_t g;
    memset(&g, 0, sizeof g);
    g.now_s = now_s, g.period_s = period_s, g.n_periods = 1, g.headroom_w = &limit_w;
    ec_alloc_solve(algo, s, n, &g, out_w);
}

void ec_alloc_sites(const ec_alloc_site_t *sites, size_t n_sites, const ec_alloc_session_t *s, size_t n,
                    const ec_alloc_grid_t *g, double *out_w)
{
    if (!n) return;
    double lim_stack[64], *lim = n_sites <= 64 ? lim_stack : ec_malloc(n_sites * sizeof *lim);
    ec_alloc_session_t *sub = NULL;
    size_t *idx = NULL;
    double *w = NULL, *head = NULL;
    order_t *ord = NULL;
    int same = 1;
    for (size_t k = 1; k < n_sites; k++) same &= sites[k].algo == sites[0].algo;
    if (!lim) goto oom;
    for (size_t k = 0; k < n_sites; k++) lim[k] = sites[k].limit_w;
    ec_alloc_grid_t all = *g;
    all.n_sites = n_sites, all.site_limit_w = lim;
    if (same || n_sites <= 1) {
        ec_alloc_solve(n_sites ? sites[0].algo : EC_ALLOC_OPT, s, n, &all, out_w);
        goto done;
    }
    /* Each site's demand now: what its sessions can take, within its connection. */
    ord = ec_malloc(n_sites * sizeof *ord);
    sub = ec_malloc(n * sizeof *sub);
    idx = ec_malloc(n * sizeof *idx);
    w = ec_malloc(n * sizeof *w);
    head = ec_malloc((g->n_periods ? g->n_periods : 1) * sizeof *head);
    double *share = ec_malloc(n_sites * sizeof *share);
    if (!ord || !sub || !idx || !w || !head || !share) {
        ec_free(share);
        goto oom;
    }
    for (size_t k = 0; k < n_sites; k++) ord[k] = (order_t){0, k};
    for (size_t i = 0; i < n; i++) ord[site_of(&s[i], &all)].key += cap_w(&s[i], g->period_s);
    for (size_t k = 0; k < n_sites; k++)
        if (lim[k] > 0 && ord[k].key > lim[k]) ord[k].key = lim[k];
    /* Uncontrolled sites take what they take; the others share the rest. */
    double h0 = series(g->headroom_w, g->n_periods, 0, 0), rest = h0;
    size_t nc = 0;
    for (size_t k = 0; k < n_sites; k++) {
        if (sites[ord[k].i].algo == EC_ALLOC_UNCONTROLLED) share[ord[k].i] = ord[k].key, rest -= ord[k].key;
        else ord[nc++] = ord[k];
    }
    water_fill_sorted(nc, rest > 0 ? rest : 0, share, ord);
    for (size_t k = 0; k < n_sites; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (site_of(&s[i], &all) == k) sub[m] = s[i], sub[m].site = 0, idx[m++] = i;
        if (!m) continue;
        /* Its part of the headroom now, and the same fraction of the horizon's. */
        double frac = h0 > 0 ? share[k] / h0 : 0;
        ec_alloc_grid_t one = *g;
        for (size_t p = 0; p < (g->n_periods ? g->n_periods : 1); p++) head[p] = series(g->headroom_w, g->n_periods, p, 0) * frac;
        head[0] = share[k];
        one.headroom_w = head, one.n_periods = g->n_periods ? g->n_periods : 1;
        one.n_sites = 1, one.site_limit_w = &lim[k], one.other_w = NULL;
        ec_alloc_solve(sites[k].algo, sub, m, &one, w);
        for (size_t j = 0; j < m; j++) out_w[idx[j]] = w[j];
    }
    ec_free(share);
    goto done;
oom:
    memset(out_w, 0, n * sizeof *out_w);
done:
    if (lim != lim_stack) ec_free(lim);
    ec_free(ord);
    ec_free(sub);
    ec_free(idx);
    ec_free(w);
    ec_free(head);
}

double ec_battery_step(ec_battery_t *b, double target_w, double charging_w, double price_now, double price_ref,
                       int64_t period_s)
{
    double h = (double)period_s / 3600.0, p = 0;
    double eff = b->efficiency > 0 && b->efficiency <= 1 ? b->efficiency : 1;
    if (charging_w > target_w) {
        p = -(charging_w - target_w);
        if (-p > b->max_discharge_w) p = -b->max_discharge_w;
        if (-p * h > b->stored_wh) p = -b->stored_wh / h;
    } else if (price_now <= price_ref) {
        p = target_w - charging_w;
        if (p > b->max_charge_w) p = b->max_charge_w;
        if (p * h * eff > b->capacity_wh - b->stored_wh) p = (b->capacity_wh - b->stored_wh) / (h * eff);
        if (p < 0) p = 0;
    }
    b->stored_wh += p > 0 ? p * h * eff : p * h;
    if (b->stored_wh < 0) b->stored_wh = 0;
    return p;
}
