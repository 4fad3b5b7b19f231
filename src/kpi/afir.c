/* afir.c - AFIR Article 4(1) on a corridor: the rule of a year, the pools,
 * and the gaps a truck meets between them in each direction of travel
 * (docs/afir.md says why each choice is made). */
#include "ecorridor/ec_afir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lengths are kept to the centimetre; two gaps a centimetre apart are the same gap. */
#define AFIR_EPS_KM 1e-5
/* Pools projected onto segments: a pool at a junction of a dense network
 * touches a handful of them, so this is far above any real corridor. */
#define AFIR_MAX_ATTACH 20000000u
/* Grid cells for finding the segments near a pool: corridor segments run to
 * a hundred kilometres, so cells of about 11 km keep each one in few cells. */
#define AFIR_CELL_DEG 0.1

/* ---- the rule ------------------------------------------------------------------------------- */

/* Article 4(1)(a) to (d). 2025 sets one rule for the whole TEN-T road
 * network; 2030 sets no share: the whole of each network class. */
static const ec_afir_rule_t rules[] = {
    {2025, EC_AFIR_CORE, 120, 1400, 1, 0.15, "Article 4(1)(a)"},
    {2025, EC_AFIR_COMPREHENSIVE, 120, 1400, 1, 0.15, "Article 4(1)(a)"},
    {2027, EC_AFIR_CORE, 120, 2800, 2, 0.50, "Article 4(1)(b)(i)"},
    {2027, EC_AFIR_COMPREHENSIVE, 120, 1400, 1, 0.50, "Article 4(1)(b)(ii)"},
    {2030, EC_AFIR_CORE, 60, 3600, 2, 1.0, "Article 4(1)(c)"},
    {2030, EC_AFIR_COMPREHENSIVE, 100, 1500, 1, 1.0, "Article 4(1)(d)"},
};

int ec_afir_rule(int year, ec_afir_network network, ec_afir_rule_t *out)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].year == year && rules[i].network == network) {
            *out = rules[i];
            return 0;
        }
    return -1;
}

const char *ec_afir_years(void)
{
    return "2025, 2027 and 2030";
}

int ec_afir_network_parse(const char *s, ec_afir_network *out)
{
    if (s && !strcmp(s, "core"))
        *out = EC_AFIR_CORE;
    else if (s && !strcmp(s, "comprehensive"))
        *out = EC_AFIR_COMPREHENSIVE;
    else
        return -1;
    return 0;
}

const char *ec_afir_network_name(ec_afir_network n)
{
    return n == EC_AFIR_COMPREHENSIVE ? "comprehensive" : "core";
}

/* ---- pools ---------------------------------------------------------------------------------- */

ec_err ec_afir_pools(const ec_sites *sites, ec_afir_pool_t **pools, size_t *n)
{
    *pools = NULL;
    *n = 0;
    ec_afir_pool_t *p = ec_calloc(sites->n ? sites->n : 1, sizeof *p);
    ec_map by_id;
    ec_err rc = ec_map_init(&by_id, sites->n);
    if (!rc && !p) rc = EC_ENOMEM;
    size_t np = 0;
    for (size_t i = 0; i < sites->n && !rc; i++) {
        const ec_connector_group_t *g = &sites->groups[i];
        uint64_t h = ec_hash_bytes(g->site_id, strnlen(g->site_id, sizeof g->site_id)), k;
        if (!ec_map_get(&by_id, h, &k)) {
            k = np++;
            if ((rc = ec_map_put(&by_id, h, k))) break;
            snprintf(p[k].id, sizeof p[k].id, "%s", g->site_id);
            snprintf(p[k].name, sizeof p[k].name, "%s", g->name[0] ? g->name : g->site_id);
            p[k].pos = g->pos;
        }
        int count = g->count > 0 ? g->count : 0;
        p[k].power_kw += g->power_w / 1000.0 * count;
        /* A point of 350 kW read as 349.9999 kW is still one of 350 kW. */
        if (g->power_w / 1000.0 >= EC_AFIR_FAST_KW - 1e-6) p[k].fast_points += count;
    }
    ec_map_free(&by_id);
    if (rc) {
        ec_free(p);
        return rc;
    }
    *pools = p;
    *n = np;
    return EC_OK;
}

int ec_afir_pool_qualifies(const ec_afir_pool_t *p, const ec_afir_rule_t *rule)
{
    return p->power_kw >= rule->pool_kw - 1e-6 && p->fast_points >= rule->fast_points;
}

/* ---- the network ---------------------------------------------------------------------------- */

/* The graph as the check reads it: arcs with their tails, the arcs into each
 * node, and the pools on each arc as positions from its tail. */
typedef struct {
    const ec_graph *g;
    uint32_t n_arcs;
    uint32_t *tail;
    uint32_t *in_first, *in_arcs; /* CSR of the arcs into each node */
    double *len_km;
    uint32_t *pool_first; /* [n_arcs + 1] into pos_km */
    double *pos_km;       /* each arc's pools, sorted */
} afir_net;

typedef struct {
    uint32_t arc;
    double t_km;
} afir_at;

static int by_arc_then_pos(const void *x, const void *y)
{
    const afir_at *a = x, *b = y;
    if (a->arc != b->arc) return a->arc < b->arc ? -1 : 1;
    return a->t_km < b->t_km ? -1 : a->t_km > b->t_km;
}

typedef struct {
    const afir_net *n;
    ec_latlon_t p;
    uint32_t stamp;
    uint32_t *seen; /* per arc: the last pool (stamp) that looked at it */
    ec_vec *at;
    ec_err rc;
} afir_visit;

static void visit_arc(void *ctx, uint32_t a)
{
    afir_visit *v = ctx;
    if (v->rc || v->seen[a] == v->stamp) return;
    v->seen[a] = v->stamp;
    const ec_graph *g = v->n->g;
    double f;
    double d_m = ec_geo_point_segment_m(v->p, ec_graph_point(g, v->n->tail[a]),
                                        ec_graph_point(g, g->arcs[a].to), &f);
    if (d_m > EC_AFIR_NEAR_KM * 1000.0) return;
    if (v->at->len >= AFIR_MAX_ATTACH) {
        v->rc =
            ec_fail(EC_ELIMIT, "more than %u pools-on-segments: too many pools near the corridor",
                    AFIR_MAX_ATTACH);
        return;
    }
    afir_at x = {a, f * v->n->len_km[a]};
    v->rc = ec_vec_push(v->at, &x);
}

/* Places every qualifying pool on the arcs whose line passes within
 * EC_AFIR_NEAR_KM of it, at the fraction of the arc its projection falls at. */
static ec_err afir__attach(afir_net *n, const ec_afir_pool_t *pools, size_t np,
                           const ec_afir_rule_t *rule, ec_afir_result_t *r)
{
    const ec_graph *g = n->g;
    ec_grid grid;
    memset(&grid, 0, sizeof grid);
    ec_vec at;
    ec_vec_init(&at, sizeof(afir_at));
    ec_latlon_t *a = ec_malloc(((size_t)n->n_arcs + 1) * sizeof *a),
                *b = ec_malloc(((size_t)n->n_arcs + 1) * sizeof *b);
    uint32_t *seen = ec_calloc((size_t)n->n_arcs + 1, sizeof *seen);
    uint8_t *near = ec_calloc(np + 1, 1);
    ec_err rc = a && b && seen && near ? EC_OK : EC_ENOMEM;
    for (uint32_t e = 0; !rc && e < n->n_arcs; e++)
        a[e] = ec_graph_point(g, n->tail[e]), b[e] = ec_graph_point(g, g->arcs[e].to);
    if (!rc) rc = ec_grid_build(&grid, a, b, n->n_arcs, AFIR_CELL_DEG);
    afir_visit v = {n, {0, 0}, 0, seen, &at, EC_OK};
    for (size_t i = 0; !rc && i < np; i++) {
        if (!ec_afir_pool_qualifies(&pools[i], rule)) continue;
        r->pools_qualifying++;
        size_t before = at.len;
        v.p = pools[i].pos, v.stamp = (uint32_t)i + 1;
        ec_grid_visit(&grid, v.p, EC_AFIR_NEAR_KM * 1000.0, visit_arc, &v);
        rc = v.rc;
        near[i] = at.len > before;
    }
    if (rc) goto done;
    for (size_t i = 0; i < np; i++)
        r->pools_near += near[i];
    if (at.len > 1) qsort(at.data, at.len, sizeof(afir_at), by_arc_then_pos);
    n->pool_first = ec_calloc((size_t)n->n_arcs + 1, sizeof *n->pool_first);
    n->pos_km = ec_malloc((at.len + 1) * sizeof *n->pos_km);
    if (!n->pool_first || !n->pos_km) {
        rc = EC_ENOMEM;
        goto done;
    }
    for (size_t k = 0; k < at.len; k++) {
        const afir_at *x = &EC_VEC_AT(&at, afir_at, k);
        n->pool_first[x->arc + 1]++;
        n->pos_km[k] = x->t_km;
    }
    for (uint32_t e = 0; e < n->n_arcs; e++)
        n->pool_first[e + 1] += n->pool_first[e];
done:
    ec_grid_free(&grid);
    ec_vec_free(&at);
    ec_free(a);
    ec_free(b);
    ec_free(seen);
    ec_free(near);
    return rc;
}

static ec_err afir__net(afir_net *n, const ec_graph *g)
{
    memset(n, 0, sizeof *n);
    n->g = g;
    n->n_arcs = g->n_arcs;
    n->tail = ec_malloc(((size_t)g->n_arcs + 1) * sizeof *n->tail);
    n->len_km = ec_malloc(((size_t)g->n_arcs + 1) * sizeof *n->len_km);
    n->in_first = ec_calloc((size_t)g->n_nodes + 2, sizeof *n->in_first);
    n->in_arcs = ec_malloc(((size_t)g->n_arcs + 1) * sizeof *n->in_arcs);
    if (!n->tail || !n->len_km || !n->in_first || !n->in_arcs) return EC_ENOMEM;
    for (uint32_t v = 0; v < g->n_nodes; v++)
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++) {
            n->tail[e] = v;
            n->len_km[e] = g->arcs[e].length_cm / 1e5;
            n->in_first[g->arcs[e].to + 1]++;
        }
    for (uint32_t v = 0; v < g->n_nodes; v++)
        n->in_first[v + 1] += n->in_first[v];
    uint32_t *fill = ec_malloc(((size_t)g->n_nodes + 1) * sizeof *fill);
    if (!fill) return EC_ENOMEM;
    memcpy(fill, n->in_first, (size_t)g->n_nodes * sizeof *fill);
    for (uint32_t e = 0; e < g->n_arcs; e++)
        n->in_arcs[fill[g->arcs[e].to]++] = e;
    ec_free(fill);
    return EC_OK;
}

static void afir__net_free(afir_net *n)
{
    ec_free(n->tail);
    ec_free(n->len_km);
    ec_free(n->in_first);
    ec_free(n->in_arcs);
    ec_free(n->pool_first);
    ec_free(n->pos_km);
    memset(n, 0, sizeof *n);
}

static uint32_t pools_on(const afir_net *n, uint32_t a)
{
    return n->pool_first[a + 1] - n->pool_first[a];
}

/* ---- distances to the nearest pool, behind and ahead ----------------------------------------- */

/* The arcs a truck may take after arc a (forward) or may have come from
 * before it (backward): every arc from a's head, or into a's tail, but the
 * one that turns back the way it came. There are no U-turns on a motorway. */
typedef struct {
    const afir_net *n;
    uint32_t a;
    int backward;
    uint32_t k, end;
} afir_next;

static void next_begin(afir_next *it, const afir_net *n, uint32_t a, int backward)
{
    it->n = n, it->a = a, it->backward = backward;
    if (backward) {
        uint32_t v = n->tail[a];
        it->k = n->in_first[v], it->end = n->in_first[v + 1];
    } else {
        uint32_t v = n->g->arcs[a].to;
        it->k = n->g->first_out[v], it->end = n->g->first_out[v + 1];
    }
}

static int next_arc(afir_next *it, uint32_t *out)
{
    const afir_net *n = it->n;
    while (it->k < it->end) {
        uint32_t x = it->backward ? n->in_arcs[it->k++] : it->k++;
        /* Forward: x leaves a's head and must not lead back to a's tail;
         * backward: x enters a's tail and must not come from a's head. */
        uint32_t other = it->backward ? n->tail[x] : n->g->arcs[x].to;
        uint32_t back = it->backward ? n->g->arcs[it->a].to : n->tail[it->a];
        if (other == back) continue;
        *out = x;
        return 1;
    }
    return 0;
}

typedef struct {
    double d;
    uint32_t a;
} afir_item;

typedef struct {
    afir_item *h;
    size_t len, cap;
} afir_heap;

static ec_err heap_push(afir_heap *q, double d, uint32_t a)
{
    void *p = q->h;
    if (ec_grow(&p, &q->cap, q->len + 1, sizeof *q->h)) return EC_ENOMEM;
    q->h = p;
    size_t i = q->len++;
    while (i > 0 && q->h[(i - 1) / 2].d > d) {
        q->h[i] = q->h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->h[i] = (afir_item){d, a};
    return EC_OK;
}

static afir_item heap_pop(afir_heap *q)
{
    afir_item top = q->h[0], last = q->h[--q->len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->len) break;
        if (c + 1 < q->len && q->h[c + 1].d < q->h[c].d) c++;
        if (q->h[c].d >= last.d) break;
        q->h[i] = q->h[c];
        i = c;
    }
    if (q->len) q->h[i] = last;
    return top;
}

/* For every arc a, the distance out[a] from the nearest pool behind its tail
 * (backward = 0) or past its head (backward = 1) along arcs a truck can
 * drive without turning back: a multi-source Dijkstra over arcs, from the
 * arcs with pools, whose key is the distance to the far end of an arc. */
static ec_err afir__reach(const afir_net *n, int backward, double *out)
{
    double *through = ec_malloc(((size_t)n->n_arcs + 1) * sizeof *through);
    afir_heap q = {0};
    ec_err rc = through ? EC_OK : EC_ENOMEM;
    for (uint32_t a = 0; !rc && a < n->n_arcs; a++) {
        out[a] = through[a] = INFINITY;
        if (!pools_on(n, a)) continue;
        /* From its last pool to its head, or from its tail to its first pool. */
        through[a] = backward ? n->pos_km[n->pool_first[a]]
                              : n->len_km[a] - n->pos_km[n->pool_first[a + 1] - 1];
        rc = heap_push(&q, through[a], a);
    }
    while (!rc && q.len) {
        afir_item top = heap_pop(&q);
        if (top.d > through[top.a]) continue;
        afir_next it;
        uint32_t x;
        next_begin(&it, n, top.a, backward);
        while (!rc && next_arc(&it, &x)) {
            if (top.d < out[x]) out[x] = top.d;
            double d = top.d + n->len_km[x];
            /* An arc with pools starts gaps of its own: it passes none on. */
            if (pools_on(n, x) || d >= through[x]) continue;
            through[x] = d;
            rc = heap_push(&q, d, x);
        }
    }
    ec_free(through);
    ec_free(q.h);
    return rc;
}

/* ---- one direction of travel ---------------------------------------------------------------- */

typedef struct {
    double *back, *ahead; /* per arc: the nearest pool behind its tail, past its head */
} afir_reach_t;

static const char *node_label(const ec_graph *g, uint32_t v, char *buf, size_t n)
{
    const char *name = ec_graph_node_name(g, v);
    if (name)
        snprintf(buf, n, "%.48s", name);
    else
        snprintf(buf, n, "%lld", (long long)g->ext_id[v]);
    return buf;
}

static const char *kw_text(double kw, char *buf, size_t n)
{
    long v = lround(kw);
    if (v >= 1000)
        snprintf(buf, n, "%ld,%03ld", v / 1000, v % 1000);
    else
        snprintf(buf, n, "%ld", v);
    return buf;
}

static const char *count_text(int k)
{
    static const char *const words[] = {"no", "one", "two", "three", "four", "five"};
    return k >= 0 && k <= 5 ? words[k] : "several";
}

/* What the rule asks of a pool, in words: "3,600 kW with two points of 350 kW". */
static void pool_text(const ec_afir_rule_t *rule, char *buf, size_t n)
{
    char kw[24];
    snprintf(buf, n, "%s kW with %s point%s of %.0f kW", kw_text(rule->pool_kw, kw, sizeof kw),
             count_text(rule->fast_points), rule->fast_points == 1 ? "" : "s", EC_AFIR_FAST_KW);
}

enum { SIDE_INSIDE, SIDE_BEHIND, SIDE_AHEAD };

/* 1 when the network ends at arc a's tail (behind = 1) or head: no arc but
 * the way back leads on from there. */
static int network_ends(const afir_net *n, uint32_t a, int behind)
{
    afir_next it;
    uint32_t x;
    next_begin(&it, n, a, behind);
    return !next_arc(&it, &x);
}

/* The longest gap a truck meets on arc a, and where it lies: between two
 * pools on the arc, or reaching back behind its tail or on past its head.
 * A gap that only touches the arc (a pool at its very end) is not met on it;
 * where the network ends, a pool within EC_AFIR_NEAR_KM of the end closes
 * the gap (docs/afir.md). */
static double arc_gap(const afir_net *n, const afir_reach_t *r, uint32_t a, int *side)
{
    double L = n->len_km[a], back = r->back[a], ahead = r->ahead[a];
    uint32_t k = pools_on(n, a);
    if (!k) {
        *side = isinf(back) ? SIDE_BEHIND : SIDE_AHEAD;
        return back + L + ahead;
    }
    const double *t = n->pos_km + n->pool_first[a];
    double worst = 0, first = t[0], last = L - t[k - 1];
    *side = SIDE_INSIDE;
    if (first > AFIR_EPS_KM && !(first <= EC_AFIR_NEAR_KM && network_ends(n, a, 1)))
        worst = first + back, *side = SIDE_BEHIND;
    for (uint32_t i = 1; i < k; i++)
        if (t[i] - t[i - 1] > worst) worst = t[i] - t[i - 1], *side = SIDE_INSIDE;
    if (last > AFIR_EPS_KM && !(last <= EC_AFIR_NEAR_KM && network_ends(n, a, 0)) &&
        last + ahead > worst)
        worst = last + ahead, *side = SIDE_AHEAD;
    return worst;
}

static void check_dir(const afir_net *n, const afir_reach_t *r, const ec_afir_rule_t *rule,
                      uint32_t a, ec_afir_dir_t *d)
{
    const ec_graph *g = n->g;
    int side;
    d->present = 1;
    d->max_gap_km = arc_gap(n, r, a, &side);
    d->compliant = d->max_gap_km <= rule->spacing_km + AFIR_EPS_KM;
    d->reason[0] = 0;
    if (d->compliant) return;
    char from[52], to[52], pool[96];
    node_label(g, n->tail[a], from, sizeof from);
    node_label(g, g->arcs[a].to, to, sizeof to);
    pool_text(rule, pool, sizeof pool);
    double S = rule->spacing_km;
    if (!pools_on(n, a) && r->back[a] > S && r->ahead[a] > S)
        snprintf(d->reason, sizeof d->reason, "no pool of %s within %g km heading %s\xe2\x86\x92%s",
                 pool, S, from, to);
    else if (isinf(d->max_gap_km) && side == SIDE_BEHIND)
        snprintf(d->reason, sizeof d->reason,
                 network_ends(n, a, 1) ? "no pool of %s between the network's end at %s and the "
                                         "first one heading %s\xe2\x86\x92%s"
                                       : "no pool of %s behind %s heading %s\xe2\x86\x92%s",
                 pool, from, from, to);
    else if (isinf(d->max_gap_km))
        snprintf(d->reason, sizeof d->reason,
                 network_ends(n, a, 0) ? "no pool of %s between the last one and the network's end "
                                         "at %s heading %s\xe2\x86\x92%s"
                                       : "no pool of %s ahead of %s heading %s\xe2\x86\x92%s",
                 pool, to, from, to);
    else
        snprintf(d->reason, sizeof d->reason,
                 "pools %.1f km apart heading %s\xe2\x86\x92%s, over %g km", d->max_gap_km, from,
                 to, S);
}

/* ---- segments ------------------------------------------------------------------------------- */

typedef struct {
    uint32_t lo, hi, order, arc;
} afir_key;

static int by_pair(const void *x, const void *y)
{
    const afir_key *a = x, *b = y;
    if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
    if (a->hi != b->hi) return a->hi < b->hi ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* A segment while it is made: its first direction's place among the
 * graph's edges, and its arcs (rev UINT32_MAX: one-way). */
typedef struct {
    uint32_t order, fwd, rev;
} afir_pair;

static int by_order(const void *x, const void *y)
{
    const afir_pair *a = x, *b = y;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Pairs each arc u->v with an arc v->u into one segment (the edges' order in
 * the file decides which pairs when there are several), in the order of
 * the graph's edges. An arc without a reverse is a one-way segment. Returns
 * new *pairs. */
static ec_err afir__segments(const afir_net *n, afir_pair **pairs, size_t *np)
{
    const ec_graph *g = n->g;
    afir_key *k = ec_malloc(((size_t)n->n_arcs + 1) * sizeof *k);
    uint8_t *paired = ec_calloc((size_t)n->n_arcs + 1, 1);
    afir_pair *p = ec_malloc(((size_t)n->n_arcs + 1) * sizeof *p);
    ec_err rc = k && paired && p ? EC_OK : EC_ENOMEM;
    if (rc) goto done;
    for (uint32_t a = 0; a < n->n_arcs; a++) {
        uint32_t u = n->tail[a], v = g->arcs[a].to;
        k[a] = (afir_key){u < v ? u : v, u < v ? v : u,
                          g->arcs[a].way != EC_NO_WAY ? g->arcs[a].way : a, a};
    }
    qsort(k, n->n_arcs, sizeof *k, by_pair);
    size_t ns = 0;
    for (uint32_t i = 0; i < n->n_arcs; i++) {
        uint32_t a = k[i].arc, rev = UINT32_MAX;
        if (paired[a]) continue;
        paired[a] = 1;
        for (uint32_t j = i + 1; j < n->n_arcs && k[j].lo == k[i].lo && k[j].hi == k[i].hi; j++) {
            uint32_t b = k[j].arc;
            if (!paired[b] && n->tail[b] == g->arcs[a].to && g->arcs[b].to == n->tail[a]) {
                rev = b;
                paired[b] = 1;
                break;
            }
        }
        p[ns++] = (afir_pair){k[i].order, a, rev};
    }
    if (ns > 1) qsort(p, ns, sizeof *p, by_order);
    *pairs = p, *np = ns;
    p = NULL;
done:
    ec_free(k);
    ec_free(paired);
    ec_free(p);
    return rc;
}

static void join_reasons(ec_afir_segment_t *s)
{
    s->reason[0] = 0;
    const ec_afir_dir_t *d[2] = {&s->fwd, &s->rev};
    for (int i = 0; i < 2; i++) {
        if (!d[i]->present || d[i]->compliant) continue;
        size_t used = strlen(s->reason);
        snprintf(s->reason + used, sizeof s->reason - used, "%s%s", used ? "; " : "", d[i]->reason);
    }
}

ec_err ec_afir_check(const ec_graph *g, const ec_afir_pool_t *pools, size_t np,
                     const ec_afir_rule_t *rule, ec_afir_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->rule = *rule;
    out->pools = np;
    afir_net n;
    afir_reach_t reach;
    memset(&reach, 0, sizeof reach);
    afir_pair *pairs = NULL;
    size_t ns = 0;
    ec_err rc = afir__net(&n, g);
    if (!rc) rc = afir__attach(&n, pools, np, rule, out);
    if (!rc) {
        reach.back = ec_malloc(((size_t)n.n_arcs + 1) * sizeof(double));
        reach.ahead = ec_malloc(((size_t)n.n_arcs + 1) * sizeof(double));
        if (!reach.back || !reach.ahead) rc = EC_ENOMEM;
    }
    if (!rc) rc = afir__reach(&n, 0, reach.back);
    if (!rc) rc = afir__reach(&n, 1, reach.ahead);
    if (!rc) rc = afir__segments(&n, &pairs, &ns);
    if (!rc && !(out->segs = ec_calloc(ns + 1, sizeof *out->segs))) rc = EC_ENOMEM;
    if (rc) goto done;
    out->n_segs = ns;
    for (size_t i = 0; i < ns; i++) {
        ec_afir_segment_t *s = &out->segs[i];
        uint32_t f = pairs[i].fwd, r = pairs[i].rev;
        s->from = n.tail[f], s->to = g->arcs[f].to;
        check_dir(&n, &reach, rule, f, &s->fwd);
        s->length_km = n.len_km[f];
        s->pools = (int)pools_on(&n, f);
        s->compliant = s->fwd.compliant;
        if (r != UINT32_MAX) {
            check_dir(&n, &reach, rule, r, &s->rev);
            s->length_km = (s->length_km + n.len_km[r]) / 2;
            if ((int)pools_on(&n, r) > s->pools) s->pools = (int)pools_on(&n, r);
            s->compliant = s->compliant && s->rev.compliant;
        }
        join_reasons(s);
        out->network_km += s->length_km;
        if (s->compliant) out->compliant_km += s->length_km;
    }
    out->share = out->network_km > 0 ? out->compliant_km / out->network_km : 0;
    out->meets_target = out->share >= rule->required_share - 1e-12;
done:
    if (rc) ec_afir_result_free(out);
    ec_free(reach.back);
    ec_free(reach.ahead);
    ec_free(pairs);
    afir__net_free(&n);
    return rc;
}

void ec_afir_result_free(ec_afir_result_t *r)
{
    ec_free(r->segs);
    r->segs = NULL;
    r->n_segs = 0;
}
