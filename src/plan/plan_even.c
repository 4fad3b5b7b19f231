/* plan_even.c - recharging pools spaced evenly along the corridor's roads,
 * as AFIR Article 4(1) asks: the network a plan is compared against at the
 * same budget (docs/plan.md).
 *
 * The gaps are read as `ecorridor report afir` reads them (docs/afir.md):
 * per direction of travel, without U-turns, from the nearest pool behind to
 * the nearest pool ahead along the network; a pool serves every road whose
 * line passes within EC_AFIR_NEAR_KM of it; where the network ends, a pool
 * within EC_AFIR_NEAR_KM of the end closes the gap.
 *
 * The walk is greedy: as long as some stretch is too long, a pool goes as far
 * from the pool behind it as the spacing allows (a new pool at the end of
 * the network where nothing stands behind, within reach of the end). On a
 * single road that is the fewest pools there can be; at junctions it may
 * use a pool more than the fewest (tests/unit/test_plan_even.c measures it
 * against every smaller set on a small network). */
#include "ecorridor/ec_afir.h"
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lengths to the centimetre, as the AFIR check keeps them. */
#define EVEN_EPS_KM 1e-5
/* A new pool stands this far inside the spacing (and inside the reach of a
 * network's end), so that its position rounded to 1e-7 degrees in a sites
 * file never makes a gap a centimetre too long. */
#define EVEN_MARGIN_KM 0.01
#define EVEN_MIN_SPACING_KM 1.0
#define EVEN_MAX_SPACING_KM 10000.0
/* Grid cells for finding the roads near a pool, as the AFIR check's. */
#define EVEN_CELL_DEG 0.1

/* A pool on an arc: its distance from the arc's tail. */
typedef struct {
    uint32_t arc;
    double t_km;
} even_at;

typedef struct {
    double d;
    uint32_t a;
} even_item;

typedef struct {
    const ec_graph *g;
    uint32_t n_arcs;
    uint32_t *tail;
    double *len_km;
    uint32_t *in_first, *in_arcs; /* CSR of the arcs into each node */
    ec_grid grid;                 /* the arcs' lines, for the pools near a point */
    uint32_t *seen;               /* per arc: the last pool that looked at it */
    uint32_t stamp;
    ec_vec at;                    /* even_at of every pool, in the order added */
    uint32_t *pool_first;         /* [n_arcs + 1] into pos_km */
    double *pos_km;               /* each arc's pools, sorted */
    double *back, *ahead;         /* per arc: nearest pool behind its tail, past its head */
    double *through;
    even_item *heap;
    size_t heap_len, heap_cap;
    ec_err rc;
    ec_latlon_t p; /* the pool being attached */
} even_net;

static void even__free(even_net *n)
{
    ec_free(n->tail);
    ec_free(n->len_km);
    ec_free(n->in_first);
    ec_free(n->in_arcs);
    ec_grid_free(&n->grid);
    ec_free(n->seen);
    ec_vec_free(&n->at);
    ec_free(n->pool_first);
    ec_free(n->pos_km);
    ec_free(n->back);
    ec_free(n->ahead);
    ec_free(n->through);
    ec_free(n->heap);
}

static ec_err even__net(even_net *n, const ec_graph *g)
{
    memset(n, 0, sizeof *n);
    n->g = g;
    n->n_arcs = g->n_arcs;
    ec_vec_init(&n->at, sizeof(even_at));
    size_t na = (size_t)g->n_arcs + 1, nn = (size_t)g->n_nodes + 2;
    n->tail = ec_malloc(na * sizeof *n->tail);
    n->len_km = ec_malloc(na * sizeof *n->len_km);
    n->in_first = ec_calloc(nn, sizeof *n->in_first);
    n->in_arcs = ec_malloc(na * sizeof *n->in_arcs);
    n->seen = ec_calloc(na, sizeof *n->seen);
    n->pool_first = ec_calloc(na, sizeof *n->pool_first);
    n->back = ec_malloc(na * sizeof *n->back);
    n->ahead = ec_malloc(na * sizeof *n->ahead);
    n->through = ec_malloc(na * sizeof *n->through);
    ec_latlon_t *a = ec_malloc(na * sizeof *a), *b = ec_malloc(na * sizeof *b);
    uint32_t *fill = ec_malloc(nn * sizeof *fill);
    ec_err rc = EC_OK;
    if (!n->tail || !n->len_km || !n->in_first || !n->in_arcs || !n->seen || !n->pool_first || !n->back ||
        !n->ahead || !n->through || !a || !b || !fill) {
        rc = EC_ENOMEM;
        goto done;
    }
    for (uint32_t v = 0; v < g->n_nodes; v++)
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++) {
            n->tail[e] = v;
            n->len_km[e] = g->arcs[e].length_cm / 1e5;
            n->in_first[g->arcs[e].to + 1]++;
            a[e] = ec_graph_point(g, v), b[e] = ec_graph_point(g, g->arcs[e].to);
        }
    for (uint32_t v = 0; v < g->n_nodes; v++)
        n->in_first[v + 1] += n->in_first[v];
    memcpy(fill, n->in_first, (size_t)g->n_nodes * sizeof *fill);
    for (uint32_t e = 0; e < g->n_arcs; e++)
        n->in_arcs[fill[g->arcs[e].to]++] = e;
    if (g->n_arcs) rc = ec_grid_build(&n->grid, a, b, g->n_arcs, EVEN_CELL_DEG);
done:
    ec_free(a);
    ec_free(b);
    ec_free(fill);
    return rc;
}

/* ---- pools on arcs ------------------------------------------------------------------------ */

static void visit_arc(void *ctx, uint32_t a)
{
    even_net *n = ctx;
    if (n->rc || n->seen[a] == n->stamp) return;
    n->seen[a] = n->stamp;
    const ec_graph *g = n->g;
    double f;
    double d_m = ec_geo_point_segment_m(n->p, ec_graph_point(g, n->tail[a]), ec_graph_point(g, g->arcs[a].to), &f);
    if (d_m > EC_AFIR_NEAR_KM * 1000.0) return;
    even_at x = {a, f * n->len_km[a]};
    n->rc = ec_vec_push(&n->at, &x);
}

/* Puts a pool at p on every arc whose line passes within EC_AFIR_NEAR_KM of
 * it, at the fraction where p projects onto the line. 1: it touched one. */
static ec_err even__attach(even_net *n, ec_latlon_t p, int *near)
{
    size_t before = n->at.len;
    n->p = p;
    n->rc = EC_OK;
    if (++n->stamp == 0) {
        memset(n->seen, 0, ((size_t)n->n_arcs + 1) * sizeof *n->seen);
        n->stamp = 1;
    }
    if (n->n_arcs) ec_grid_visit(&n->grid, p, EC_AFIR_NEAR_KM * 1000.0, visit_arc, n);
    *near = n->at.len > before;
    return n->rc;
}

static int by_arc_then_pos(const void *x, const void *y)
{
    const even_at *a = x, *b = y;
    if (a->arc != b->arc) return a->arc < b->arc ? -1 : 1;
    return a->t_km < b->t_km ? -1 : a->t_km > b->t_km;
}

/* The pools of every arc, sorted along it, from the attachments so far. */
static ec_err even__index(even_net *n)
{
    ec_vec s;
    ec_vec_init(&s, sizeof(even_at));
    ec_err rc = ec_vec_reserve(&s, n->at.len + 1);
    double *pos = ec_malloc((n->at.len + 1) * sizeof *pos);
    if (rc || !pos) {
        ec_vec_free(&s);
        ec_free(pos);
        return EC_ENOMEM;
    }
    if (n->at.len) memcpy(s.data, n->at.data, n->at.len * sizeof(even_at));
    s.len = n->at.len;
    if (s.len > 1) qsort(s.data, s.len, sizeof(even_at), by_arc_then_pos);
    memset(n->pool_first, 0, ((size_t)n->n_arcs + 1) * sizeof *n->pool_first);
    for (size_t k = 0; k < s.len; k++) {
        const even_at *x = &EC_VEC_AT(&s, even_at, k);
        n->pool_first[x->arc + 1]++;
        pos[k] = x->t_km;
    }
    for (uint32_t e = 0; e < n->n_arcs; e++)
        n->pool_first[e + 1] += n->pool_first[e];
    ec_free(n->pos_km);
    n->pos_km = pos;
    ec_vec_free(&s);
    return EC_OK;
}

static uint32_t pools_on(const even_net *n, uint32_t a)
{
    return n->pool_first[a + 1] - n->pool_first[a];
}

/* ---- the nearest pool behind and ahead ----------------------------------------------------- */

/* The arcs a truck may take after arc a (or may have come from before it,
 * backward), but the one that turns back: no U-turns on a motorway. Calls
 * visit for each; returns how many there were. */
static uint32_t next_count(const even_net *n, uint32_t a, int backward, uint32_t *list, uint32_t cap)
{
    uint32_t k = 0;
    if (backward) {
        uint32_t v = n->tail[a], back = n->g->arcs[a].to;
        for (uint32_t i = n->in_first[v]; i < n->in_first[v + 1]; i++) {
            uint32_t x = n->in_arcs[i];
            if (n->tail[x] == back) continue;
            if (k < cap) list[k] = x;
            k++;
        }
    } else {
        uint32_t v = n->g->arcs[a].to, back = n->tail[a];
        for (uint32_t x = n->g->first_out[v]; x < n->g->first_out[v + 1]; x++) {
            if (n->g->arcs[x].to == back) continue;
            if (k < cap) list[k] = x;
            k++;
        }
    }
    return k;
}

/* 1 when the network ends at arc a's tail (behind) or head. */
static int network_ends(const even_net *n, uint32_t a, int behind)
{
    return next_count(n, a, behind, NULL, 0) == 0;
}

static ec_err heap_push(even_net *n, double d, uint32_t a)
{
    void *p = n->heap;
    if (ec_grow(&p, &n->heap_cap, n->heap_len + 1, sizeof *n->heap)) return EC_ENOMEM;
    n->heap = p;
    size_t i = n->heap_len++;
    while (i > 0 && n->heap[(i - 1) / 2].d > d) {
        n->heap[i] = n->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    n->heap[i] = (even_item){d, a};
    return EC_OK;
}

static even_item heap_pop(even_net *n)
{
    even_item top = n->heap[0], last = n->heap[--n->heap_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n->heap_len) break;
        if (c + 1 < n->heap_len && n->heap[c + 1].d < n->heap[c].d) c++;
        if (n->heap[c].d >= last.d) break;
        n->heap[i] = n->heap[c];
        i = c;
    }
    if (n->heap_len) n->heap[i] = last;
    return top;
}

/* out[a]: the distance from the nearest pool behind a's tail (backward = 0)
 * or past its head (backward = 1), driving without turning back; a
 * multi-source Dijkstra over arcs from the arcs with pools. An arc with
 * pools passes no gap on: its own pools start the next. */
static ec_err even__reach(even_net *n, int backward, double *out)
{
    n->heap_len = 0;
    for (uint32_t a = 0; a < n->n_arcs; a++) {
        out[a] = n->through[a] = INFINITY;
        if (!pools_on(n, a)) continue;
        n->through[a] = backward ? n->pos_km[n->pool_first[a]] : n->len_km[a] - n->pos_km[n->pool_first[a + 1] - 1];
        if (heap_push(n, n->through[a], a)) return EC_ENOMEM;
    }
    while (n->heap_len) {
        even_item top = heap_pop(n);
        if (top.d > n->through[top.a]) continue;
        if (backward) {
            uint32_t v = n->tail[top.a], back = n->g->arcs[top.a].to;
            for (uint32_t i = n->in_first[v]; i < n->in_first[v + 1]; i++) {
                uint32_t x = n->in_arcs[i];
                if (n->tail[x] == back) continue;
                if (top.d < out[x]) out[x] = top.d;
                double d = top.d + n->len_km[x];
                if (pools_on(n, x) || d >= n->through[x]) continue;
                n->through[x] = d;
                if (heap_push(n, d, x)) return EC_ENOMEM;
            }
        } else {
            uint32_t v = n->g->arcs[top.a].to, back = n->tail[top.a];
            for (uint32_t x = n->g->first_out[v]; x < n->g->first_out[v + 1]; x++) {
                if (n->g->arcs[x].to == back) continue;
                if (top.d < out[x]) out[x] = top.d;
                double d = top.d + n->len_km[x];
                if (pools_on(n, x) || d >= n->through[x]) continue;
                n->through[x] = d;
                if (heap_push(n, d, x)) return EC_ENOMEM;
            }
        }
    }
    return EC_OK;
}

/* ---- where the next pool goes ---------------------------------------------------------- */

/* A proposal: a pool on arc at x_km. Classes, the first tried first:
 * 0 a stretch too long from the pool behind it (or an end not closed):
 *   the pool goes as far from that pool as the spacing allows;
 * 1 nothing behind, at a network's end: a pool within reach of the end;
 * 2 a stretch too long only because of what lies ahead past a junction:
 *   a pool at the arc's head (used only when no arc beyond proposes one);
 * 3 no pool reaches the arc at all: a pool at its tail. */
typedef struct {
    int cls;
    double key;
    uint32_t arc;
    double x_km;
} even_prop;

static int prop_better(const even_prop *a, const even_prop *b)
{
    if (a->cls != b->cls) return a->cls < b->cls;
    if (a->key != b->key) return a->key < b->key;
    return a->arc < b->arc;
}

/* The proposal for the stretch [s, e] of arc a, with bp km to the pool
 * behind its start (0 when a pool stands at s; INFINITY when none) and ap km
 * past its end; start_end / end_end: the stretch starts or ends where the
 * network ends. 0: the stretch is within the spacing. */
static int stretch(uint32_t a, double s, double e, double bp, double ap, int start_end, int end_end, double S,
                   even_prop *out)
{
    double reach = EC_AFIR_NEAR_KM - EVEN_MARGIN_KM, Se = S - EVEN_MARGIN_KM;
    double gap = bp + (e - s) + ap;
    if (end_end) gap = INFINITY; /* no pool within reach of the end */
    if (start_end && !isfinite(bp)) gap = INFINITY;
    if (gap <= S + EVEN_EPS_KM) return 0;
    out->arc = a;
    if (isfinite(bp) && bp + (e - s) > Se) {
        out->cls = 0, out->key = bp;
        out->x_km = s + (Se - bp > 0 ? Se - bp : 0);
    } else if (isfinite(bp) && end_end) {
        out->cls = 0, out->key = bp;
        out->x_km = e - reach > s ? e - reach : s;
    } else if (isfinite(bp)) {
        out->cls = 2, out->key = bp;
        out->x_km = e;
    } else if (start_end) {
        out->cls = 1, out->key = 0;
        out->x_km = s + reach < e ? s + reach : e;
    } else {
        out->cls = 3, out->key = 0;
        out->x_km = s;
    }
    return 1;
}

/* The first stretch of arc a too long, as a proposal; 0 when none is. */
static int arc_prop(const even_net *n, uint32_t a, double S, even_prop *out)
{
    double L = n->len_km[a], B = n->back[a], A = n->ahead[a];
    int tail_end = network_ends(n, a, 1), head_end = network_ends(n, a, 0);
    uint32_t k = pools_on(n, a);
    if (!k) return stretch(a, 0, L, tail_end ? INFINITY : B, head_end ? 0 : A, tail_end, head_end, S, out);
    const double *t = n->pos_km + n->pool_first[a];
    if (t[0] > EVEN_EPS_KM && !(t[0] <= EC_AFIR_NEAR_KM && tail_end) &&
        stretch(a, 0, t[0], tail_end ? INFINITY : B, 0, tail_end, 0, S, out))
        return 1;
    for (uint32_t i = 1; i < k; i++)
        if (stretch(a, t[i - 1], t[i], 0, 0, 0, 0, S, out)) return 1;
    double last = L - t[k - 1];
    if (last > EVEN_EPS_KM && !(last <= EC_AFIR_NEAR_KM && head_end) &&
        stretch(a, t[k - 1], L, 0, head_end ? 0 : A, 0, head_end, S, out))
        return 1;
    return 0;
}

/* ---- the network ---------------------------------------------------------------------------- */

typedef struct {
    ec_latlon_t pos;
    uint32_t arc;
    double t_km;
} even_pool;

static ec_latlon_t point_on(const even_net *n, uint32_t a, double x_km)
{
    ec_latlon_t p = ec_graph_point(n->g, n->tail[a]), q = ec_graph_point(n->g, n->g->arcs[a].to);
    double f = n->len_km[a] > 0 ? x_km / n->len_km[a] : 0;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    ec_latlon_t r = {p.lat + f * (q.lat - p.lat), p.lon + f * (q.lon - p.lon)};
    return r;
}

/* Today's sites, one pool per site id (its first row's position), on the
 * arcs they are near. */
static ec_err even__today(even_net *n, const ec_sites *today)
{
    ec_map ids;
    ec_err rc = ec_map_init(&ids, today->n + 1);
    for (size_t i = 0; !rc && i < today->n; i++) {
        const ec_connector_group_t *g = &today->groups[i];
        uint64_t h = ec_hash_bytes(g->site_id, strnlen(g->site_id, sizeof g->site_id)), v;
        if (ec_map_get(&ids, h, &v)) continue;
        int near;
        if (!(rc = ec_map_put(&ids, h, 1))) rc = even__attach(n, g->pos, &near);
    }
    ec_map_free(&ids);
    return rc;
}

/* The greedy walk: new pools (even_pool) until no stretch is too long. */
static ec_err even__walk(even_net *n, double S, ec_vec *pools)
{
    double total_km = 0;
    for (uint32_t a = 0; a < n->n_arcs; a++)
        total_km += n->len_km[a];
    /* Each pool splits a stretch; far more than a network needs is a fault. */
    size_t max_pools = 2 * (size_t)n->n_arcs + 4 * (size_t)(total_km / (S - EVEN_MARGIN_KM)) + 16;
    for (;;) {
        ec_err rc = even__index(n);
        if (!rc) rc = even__reach(n, 0, n->back);
        if (!rc) rc = even__reach(n, 1, n->ahead);
        if (rc) return rc;
        even_prop best = {4, 0, 0, 0}, p;
        for (uint32_t a = 0; a < n->n_arcs; a++)
            if (arc_prop(n, a, S, &p) && prop_better(&p, &best)) best = p;
        if (best.cls == 4) return EC_OK;
        /* A pool already there would change nothing: the walk would go round. */
        const double *t = n->pos_km + n->pool_first[best.arc];
        for (uint32_t i = 0; i < pools_on(n, best.arc); i++)
            if (fabs(t[i] - best.x_km) <= EVEN_EPS_KM)
                return ec_fail(EC_EINVAL, "even pools: no progress on arc %u at %.3f km", best.arc, best.x_km);
        if (pools->len >= max_pools)
            return ec_fail(EC_ELIMIT, "even pools: more than %zu pools for %.0f km of roads", max_pools, total_km);
        even_pool np = {point_on(n, best.arc, best.x_km), best.arc, best.x_km};
        int near;
        if ((rc = even__attach(n, np.pos, &near)) || (rc = ec_vec_push(pools, &np))) return rc;
        if (!near) return ec_fail(EC_EINVAL, "even pools: a pool on arc %u is on no road", best.arc);
    }
}

/* Points per pool and how many pools the budget pays for: every pool the
 * same, the remainder a point more for the first ones; < 0: no limit, the
 * pool size of AFIR Article 4(1)(c) (3,600 kW, two points of 350 kW). */
static ec_err even__points(const ec_plan_costs_t *k, double budget, size_t n, size_t *paid, int *base, size_t *extra)
{
    int cap = k->max_points_per_site > 0 && k->max_points_per_site < 1000 ? k->max_points_per_site : 1000;
    double fixed = k->site_fixed_capex, point = k->mcs_point_capex;
    *paid = n, *extra = 0;
    if (budget < 0) {
        ec_afir_rule_t rule;
        double need = 2;
        if (!ec_afir_rule(2030, EC_AFIR_CORE, &rule)) {
            need = ceil(rule.pool_kw / k->mcs_point_kw - 1e-9);
            if (need < rule.fast_points) need = rule.fast_points;
        }
        *base = need < cap ? (int)need : cap;
        return EC_OK;
    }
    if (n == 0) {
        *base = 0;
        return EC_OK;
    }
    double one = fixed + point;
    if (one > 0 && budget < (double)n * one - 1e-6) {
        double m = floor(budget / one + 1e-9);
        *paid = m < (double)n ? (size_t)m : n;
    }
    if (*paid == 0) {
        *base = 0;
        return EC_OK;
    }
    double left = budget - (double)*paid * fixed;
    double pts = point > 0 ? floor(left / point + 1e-9) : (double)cap * (double)*paid;
    if (pts > (double)cap * (double)*paid) pts = (double)cap * (double)*paid;
    double b = floor(pts / (double)*paid);
    *base = (int)b;
    *extra = *base < cap ? (size_t)(pts - b * (double)*paid) : 0;
    return EC_OK;
}

static void pool_name(const ec_graph *g, const even_net *n, const even_pool *p, char *out, size_t len)
{
    const char *a = ec_graph_node_name(g, n->tail[p->arc]), *b = ec_graph_node_name(g, g->arcs[p->arc].to);
    char an[24], bn[24];
    if (!a) snprintf(an, sizeof an, "%lld", (long long)g->ext_id[n->tail[p->arc]]), a = an;
    if (!b) snprintf(bn, sizeof bn, "%lld", (long long)g->ext_id[g->arcs[p->arc].to]), b = bn;
    snprintf(out, len, "even pool %.40s - %.40s, km %.1f", a, b, p->t_km);
}

ec_err ec_plan_even_pools(const ec_graph *g, double spacing_km, const ec_plan_costs_t *k, double budget,
                          const ec_sites *today, ec_sites *out, size_t *pools)
{
    if (!g || !k || !out || !pools) return ec_fail(EC_EINVAL, "even pools: graph, costs, out and pools are needed");
    if (!(spacing_km >= EVEN_MIN_SPACING_KM && spacing_km <= EVEN_MAX_SPACING_KM))
        return ec_fail(EC_EINVAL, "even pools: spacing_km %g is not %g..%g", spacing_km, EVEN_MIN_SPACING_KM,
                       EVEN_MAX_SPACING_KM);
    if (!(k->mcs_point_kw > 0) || !(k->mcs_point_capex >= 0) || !(k->site_fixed_capex >= 0) ||
        !isfinite(k->mcs_point_capex) || !isfinite(k->site_fixed_capex) || !(k->mcs_point_kw <= 4000))
        return ec_fail(EC_EINVAL, "even pools: costs: mcs_point_kw must be 0..4000 and the capex amounts >= 0");
    if (isnan(budget) || (budget >= 0 && !isfinite(budget)))
        return ec_fail(EC_EINVAL, "even pools: budget %g is not an amount", budget);
    size_t n_today = today ? today->n : 0;
    even_net n;
    ec_vec found;
    ec_vec_init(&found, sizeof(even_pool));
    ec_connector_group_t *rows = NULL;
    ec_err rc = even__net(&n, g);
    if (!rc && today) rc = even__today(&n, today);
    if (!rc) rc = even__walk(&n, spacing_km, &found);
    size_t paid = 0, extra = 0;
    int base = 0;
    if (!rc) rc = even__points(k, budget, found.len, &paid, &base, &extra);
    if (rc) goto done;
    if (paid == 0 || base < 1) paid = 0;
    if (paid < found.len)
        ec_log(EC_LOG_WARN, "even pools: the budget %.0f pays for %zu of the %zu pools every %g km", budget, paid,
               found.len, spacing_km);
    if (!(rows = ec_calloc(n_today + paid + 1, sizeof *rows))) {
        rc = EC_ENOMEM;
        goto done;
    }
    if (n_today) memcpy(rows, today->groups, n_today * sizeof *rows);
    for (size_t i = 0; i < paid; i++) {
        const even_pool *p = &EC_VEC_AT(&found, even_pool, i);
        ec_connector_group_t *r = &rows[n_today + i];
        snprintf(r->site_id, sizeof r->site_id, "even-%03zu", i + 1);
        pool_name(g, &n, p, r->name, sizeof r->name);
        r->pos = p->pos;
        r->standard = EC_PLUG_MCS;
        r->power_w = k->mcs_point_kw * 1000.0;
        r->count = base + (i < extra ? 1 : 0);
        r->available = r->count;
    }
    out->groups = rows;
    out->n = n_today + paid;
    snprintf(out->currency, sizeof out->currency, "%s", today && today->currency[0] ? today->currency : "EUR");
    *pools = paid;
done:
    ec_vec_free(&found);
    even__free(&n);
    return rc;
}
