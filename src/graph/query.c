/* query.c - point-to-point, one-to-many and many-to-many queries, by CH or Dijkstra.
 *
 * A query object owns every array a query touches, sized for its graph when
 * created, so queries do not allocate (the many-to-many bucket store grows
 * only when a larger problem than any before arrives). Distances are reset
 * lazily with a stamp per node.
 */
#include "graph_internal.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct {
    uint32_t node, cost, len_cm, dur_ms;
} seed;

typedef struct {
    uint32_t node, target, dist;
} bucket;

typedef struct {
    uint32_t tail, head, weight, data; /* tail: 1 = up array, 0 = down; head: index */
} unpack_item;

struct ec_query {
    const ec_graph *g;
    ec_algo algo;
    uint32_t n, cur[2]; /* stamp of the current search, per direction */
    uint32_t *dist[2], *stamp[2], *pred_node[2], *pred_arc[2];
    uint64_t *heap[2];
    size_t heap_n[2], heap_cap;
    uint32_t *path, path_cap, n_path;       /* base arcs of the last route */
    uint32_t *chain, chain_cap;             /* CH arcs met while walking back */
    unpack_item *stack;
    size_t stack_cap;
    bucket *buckets;
    size_t n_buckets, buckets_cap;
    ec_route_sums_t *space_sums; /* per rank, for ec_query_space */
    uint64_t settled;
    /* one end kept between queries (ec_query_fix): 0 source, 1 target, -1 none */
    int fixed, fixed_end; /* the kept search's direction; the fixed end (also for Dijkstra) */
    ec_snap_t fixed_snap;
};

static void qfree_arrays(ec_query *q)
{
    for (int d = 0; d < 2; d++) {
        ec_free(q->dist[d]);
        ec_free(q->stamp[d]);
        ec_free(q->pred_node[d]);
        ec_free(q->pred_arc[d]);
        ec_free(q->heap[d]);
    }
    ec_free(q->path);
    ec_free(q->chain);
    ec_free(q->stack);
    ec_free(q->buckets);
    ec_free(q->space_sums);
}

ec_err ec_query_new(const ec_graph *g, ec_algo algo, ec_query **out)
{
    if (algo == EC_ALGO_CH && !g->has_ch)
        return ec_fail(EC_EINVAL, "the graph has no contraction hierarchy");
    ec_query *q = ec_calloc(1, sizeof *q);
    if (!q) return EC_ENOMEM;
    q->g = g;
    q->algo = algo;
    q->fixed = q->fixed_end = -1;
    q->n = g->n_nodes;
    size_t n = (size_t)q->n + 1;
    size_t arcs = g->n_arcs;
    if (g->n_up > arcs) arcs = g->n_up;
    if (g->n_down > arcs) arcs = g->n_down;
    q->heap_cap = arcs + 16;
    int dirs = algo == EC_ALGO_CH ? 2 : 1;
    for (int d = 0; d < dirs; d++) {
        q->dist[d] = ec_malloc(n * sizeof(uint32_t));
        q->stamp[d] = ec_calloc(n, sizeof(uint32_t));
        q->pred_node[d] = ec_malloc(n * sizeof(uint32_t));
        q->pred_arc[d] = ec_malloc(n * sizeof(uint32_t));
        q->heap[d] = ec_malloc(q->heap_cap * sizeof(uint64_t));
        if (!q->dist[d] || !q->stamp[d] || !q->pred_node[d] || !q->pred_arc[d] || !q->heap[d])
            goto oom;
    }
    q->path_cap = q->n + 1;
    q->chain_cap = q->n + 1;
    q->stack_cap = 2 * n + 16;
    q->path = ec_malloc((size_t)q->path_cap * sizeof *q->path);
    q->chain = ec_malloc((size_t)q->chain_cap * sizeof *q->chain);
    q->stack = ec_malloc(q->stack_cap * sizeof *q->stack);
    if (!q->path || !q->chain || !q->stack) goto oom;
    *out = q;
    return EC_OK;
oom:
    qfree_arrays(q);
    ec_free(q);
    return EC_ENOMEM;
}

void ec_query_free(ec_query *q)
{
    if (!q) return;
    qfree_arrays(q);
    ec_free(q);
}

uint64_t ec_query_settled(const ec_query *q)
{
    return q->settled;
}

/* ---- heap and labels --------------------------------------------------------- */

static void next_round_dir(ec_query *q, int d)
{
    if (++q->cur[d] == 0) {
        if (q->stamp[d]) memset(q->stamp[d], 0, ((size_t)q->n + 1) * sizeof(uint32_t));
        q->cur[d] = 1;
    }
    q->heap_n[d] = 0;
}

static void next_round(ec_query *q)
{
    next_round_dir(q, 0);
    next_round_dir(q, 1);
    q->settled = 0;
    q->fixed = q->fixed_end = -1;
}

static void hpush(ec_query *q, int d, uint32_t key, uint32_t v)
{
    uint64_t *h = q->heap[d], item = (uint64_t)key << 32 | v;
    size_t i = q->heap_n[d]++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= item) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = item;
}

static uint64_t hpop(ec_query *q, int d)
{
    uint64_t *h = q->heap[d], top = h[0], last = h[--q->heap_n[d]];
    size_t i = 0, n = q->heap_n[d];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
    }
    if (n) h[i] = last;
    return top;
}

/* Sets a label if it improves; returns 1 when it did. */
static inline int relax(ec_query *q, int d, uint32_t v, uint64_t nd, uint32_t from, uint32_t arc)
{
    if (nd >= EC_INF_WEIGHT) return 0;
    if (q->stamp[d][v] == q->cur[d] && q->dist[d][v] <= nd) return 0;
    if (q->heap_n[d] >= q->heap_cap) return 0; /* cannot happen on a checked graph */
    q->stamp[d][v] = q->cur[d];
    q->dist[d][v] = (uint32_t)nd;
    q->pred_node[d][v] = from;
    q->pred_arc[d][v] = arc;
    hpush(q, d, (uint32_t)nd, v);
    return 1;
}

static inline uint32_t label(const ec_query *q, int d, uint32_t v)
{
    return q->stamp[d][v] == q->cur[d] ? q->dist[d][v] : EC_INF_WEIGHT;
}

/* ---- CH search ----------------------------------------------------------------- */

/* d = 0 searches up from sources over up arcs; d = 1 up from targets over down arcs. */
static int ch_stalled(const ec_query *q, int d, uint32_t r, uint32_t dr)
{
    const ec_graph *g = q->g;
    const uint32_t *first = d == 0 ? g->down_first : g->up_first;
    const ec_ch_arc_t *arcs = d == 0 ? g->down : g->up;
    for (uint32_t i = first[r]; i < first[r + 1]; i++) {
        uint32_t lx = label(q, d, arcs[i].to);
        if (lx != EC_INF_WEIGHT && (uint64_t)lx + arcs[i].weight < dr) return 1;
    }
    return 0;
}

static void ch_expand(ec_query *q, int d, uint32_t r, uint32_t dr)
{
    const ec_graph *g = q->g;
    const uint32_t *first = d == 0 ? g->up_first : g->down_first;
    const ec_ch_arc_t *arcs = d == 0 ? g->up : g->down;
    for (uint32_t i = first[r]; i < first[r + 1]; i++)
        relax(q, d, arcs[i].to, (uint64_t)dr + arcs[i].weight, r, i);
}

static void ch_seed(ec_query *q, int d, const seed *s, int ns)
{
    for (int i = 0; i < ns; i++)
        relax(q, d, q->g->rank[s[i].node], s[i].cost, NONE, NONE);
}

/* Settles the next node of direction d's search: a meeting with the other
 * direction below *best is recorded, the node expanded unless stalled.
 * Returns 0 for a stale heap entry. */
static int ch_step(ec_query *q, int d, uint32_t *best, uint32_t *meet)
{
    uint64_t it = hpop(q, d);
    uint32_t dr = (uint32_t)(it >> 32), r = (uint32_t)it;
    if (dr != q->dist[d][r]) return 0;
    q->settled++;
    uint32_t lo = label(q, d ^ 1, r);
    if (lo != EC_INF_WEIGHT && (uint64_t)dr + lo < *best) {
        *best = dr + lo;
        *meet = r;
    }
    if (!ch_stalled(q, d, r, dr)) ch_expand(q, d, r, dr);
    return 1;
}

/* Bidirectional search; returns best weight and meeting rank. */
static uint32_t ch_p2p(ec_query *q, const seed *src, int ns, const seed *dst, int nt, uint32_t *meet)
{
    next_round(q);
    ch_seed(q, 0, src, ns);
    ch_seed(q, 1, dst, nt);
    uint32_t best = EC_INF_WEIGHT;
    *meet = NONE;
    int d = 0;
    while (q->heap_n[0] || q->heap_n[1]) {
        for (int k = 0; k < 2; k++)
            if (q->heap_n[k] && (uint32_t)(q->heap[k][0] >> 32) >= best) q->heap_n[k] = 0;
        if (!q->heap_n[d]) d ^= 1;
        if (!q->heap_n[d]) break;
        if (ch_step(q, d, &best, meet)) d ^= 1;
    }
    return best;
}

/* Unpacks one CH arc (up or down array, index i) into base arcs appended to
 * q->path, following the recorded halves of each shortcut. */
static ec_err ch_unpack(ec_query *q, int up, uint32_t i)
{
    const ec_graph *g = q->g;
    size_t sp = 0;
    q->stack[sp++] = (unpack_item){(uint32_t)up, i, 0, 0};
    while (sp) {
        unpack_item it = q->stack[--sp];
        const uint32_t *child = (it.tail ? g->up_child : g->down_child) + 2 * (size_t)it.head;
        if (child[0] & EC_CH_ORIGINAL) {
            if (q->n_path >= q->path_cap) return ec_fail(EC_ECORRUPT, "path longer than the graph");
            q->path[q->n_path++] = child[0] & ~EC_CH_ORIGINAL;
            continue;
        }
        if (sp + 2 > q->stack_cap) return ec_fail(EC_ECORRUPT, "shortcuts nested too deeply");
        q->stack[sp++] = (unpack_item){1, child[1], 0, 0};
        q->stack[sp++] = (unpack_item){0, child[0], 0, 0};
    }
    return EC_OK;
}

/* Rebuilds the base arcs of the CH route through meet; returns the seed ranks. */
static ec_err ch_path(ec_query *q, uint32_t meet, uint32_t *src_rank, uint32_t *dst_rank)
{
    uint32_t nc = 0, r = meet;
    while (q->pred_node[0][r] != NONE) {
        if (nc >= q->chain_cap) return ec_fail(EC_ECORRUPT, "route loops");
        q->chain[nc++] = q->pred_arc[0][r];
        r = q->pred_node[0][r];
    }
    *src_rank = r;
    q->n_path = 0;
    ec_err rc;
    for (uint32_t i = nc; i-- > 0;)
        if ((rc = ch_unpack(q, 1, q->chain[i]))) return rc;
    r = meet;
    while (q->pred_node[1][r] != NONE) {
        /* A down arc stored at the next node; it runs r -> next. */
        if ((rc = ch_unpack(q, 0, q->pred_arc[1][r]))) return rc;
        r = q->pred_node[1][r];
    }
    *dst_rank = r;
    return EC_OK;
}

/* ---- Dijkstra ---------------------------------------------------------------------- */

static uint32_t dij_p2p(ec_query *q, const seed *src, int ns, const seed *dst, int nt,
                        uint32_t *meet)
{
    const ec_graph *g = q->g;
    next_round(q);
    for (int i = 0; i < ns; i++) relax(q, 0, src[i].node, src[i].cost, NONE, NONE);
    uint32_t best = EC_INF_WEIGHT;
    *meet = NONE;
    while (q->heap_n[0]) {
        uint64_t it = hpop(q, 0);
        uint32_t d = (uint32_t)(it >> 32), v = (uint32_t)it;
        if (d >= best) break;
        if (d != q->dist[0][v]) continue;
        q->settled++;
        for (int i = 0; i < nt; i++)
            if (dst[i].node == v && (uint64_t)d + dst[i].cost < best) {
                best = d + dst[i].cost;
                *meet = v;
            }
        for (uint32_t a = g->first_out[v]; a < g->first_out[v + 1]; a++)
            relax(q, 0, g->arcs[a].to, (uint64_t)d + ec_arc_weight(g, &g->arcs[a]), v, a);
    }
    return best;
}

static ec_err dij_path(ec_query *q, uint32_t meet, uint32_t *src)
{
    uint32_t n = 0, v = meet;
    while (q->pred_node[0][v] != NONE) {
        if (n >= q->path_cap) return ec_fail(EC_ECORRUPT, "route loops");
        q->path[n++] = q->pred_arc[0][v];
        v = q->pred_node[0][v];
    }
    *src = v;
    for (uint32_t i = 0; i < n / 2; i++) {
        uint32_t t = q->path[i];
        q->path[i] = q->path[n - 1 - i];
        q->path[n - 1 - i] = t;
    }
    q->n_path = n;
    return EC_OK;
}

/* ---- routes ---------------------------------------------------------------------------- */

static const seed *find_seed(const seed *s, int n, uint32_t node)
{
    for (int i = 0; i < n; i++)
        if (s[i].node == node) return &s[i];
    return NULL;
}

/* Searches up from the free end against the fixed end's finished search
 * (direction d is the free one); returns best weight and meeting rank. */
static uint32_t ch_one_side(ec_query *q, int d, const seed *s, int ns, uint32_t *meet)
{
    next_round_dir(q, d);
    ch_seed(q, d, s, ns);
    uint32_t best = EC_INF_WEIGHT;
    *meet = NONE;
    while (q->heap_n[d] && (uint32_t)(q->heap[d][0] >> 32) < best) ch_step(q, d, &best, meet);
    return best;
}

static ec_err route(ec_query *q, const seed *src, int ns, const seed *dst, int nt, ec_path_t *out)
{
    const ec_graph *g = q->g;
    uint32_t meet, first = NONE, last = NONE;
    ec_err rc;
    uint32_t best;
    if (q->fixed == 0) best = ch_one_side(q, 1, dst, nt, &meet);
    else if (q->fixed == 1) best = ch_one_side(q, 0, src, ns, &meet);
    else best = q->algo == EC_ALGO_CH ? ch_p2p(q, src, ns, dst, nt, &meet) : dij_p2p(q, src, ns, dst, nt, &meet);
    if (best == EC_INF_WEIGHT || meet == NONE) return EC_EUNREACHABLE;
    if (q->algo == EC_ALGO_CH) {
        uint32_t sr = 0, dr = 0;
        if ((rc = ch_path(q, meet, &sr, &dr))) return rc;
        first = g->node_at[sr];
        last = g->node_at[dr];
    } else {
        if ((rc = dij_path(q, meet, &first))) return rc;
        last = meet;
    }
    const seed *s = find_seed(src, ns, first), *t = find_seed(dst, nt, last);
    if (!s || !t) return ec_fail(EC_ECORRUPT, "route does not end at its seeds");
    double len_cm = (double)s->len_cm + t->len_cm, dur_ms = (double)s->dur_ms + t->dur_ms;
    for (uint32_t i = 0; i < q->n_path; i++) {
        len_cm += g->arcs[q->path[i]].length_cm;
        dur_ms += g->arcs[q->path[i]].duration_ms;
    }
    out->weight = best;
    out->distance_m = len_cm / 100.0;
    out->duration_s = dur_ms / 1000.0;
    out->arcs = q->path;
    out->n_arcs = q->n_path;
    out->first_node = first;
    out->last_node = last;
    return EC_OK;
}

ec_err ec_query_route_nodes(ec_query *q, uint32_t s, uint32_t t, ec_path_t *out)
{
    if (s >= q->n || t >= q->n) return ec_fail(EC_EINVAL, "node out of range");
    seed a = {s, 0, 0, 0}, b = {t, 0, 0, 0};
    return route(q, &a, 1, &b, 1, out);
}

ec_err ec_query_weight_nodes(ec_query *q, uint32_t s, uint32_t t, uint32_t *weight)
{
    if (s >= q->n || t >= q->n) return ec_fail(EC_EINVAL, "node out of range");
    seed a = {s, 0, 0, 0}, b = {t, 0, 0, 0};
    uint32_t meet;
    *weight = q->algo == EC_ALGO_CH ? ch_p2p(q, &a, 1, &b, 1, &meet) : dij_p2p(q, &a, 1, &b, 1, &meet);
    return *weight == EC_INF_WEIGHT ? EC_EUNREACHABLE : EC_OK;
}

/* Part of arc `arc` between fractions f0 and f1, rounded to whole units. */
static seed part(const ec_graph *g, uint32_t node, uint32_t arc, double f0, double f1)
{
    const ec_arc_t *a = &g->arcs[arc];
    double f = f1 - f0;
    seed s = {node, (uint32_t)(ec_arc_weight(g, a) * f + 0.5), (uint32_t)(a->length_cm * f + 0.5),
              (uint32_t)(a->duration_ms * f + 0.5)};
    return s;
}

/* The nodes a snapped point leaves by (as a source: forwards to its arc's
 * head, or backwards on the opposite arc) or is reached from (as a target).
 * A point at an end of its arc is that node, as OSRM's phantom nodes are: it
 * may leave by every arc there, or be reached by every arc into it, not only
 * along the arc it snapped to. On a two-way road the opposite arc's seed is
 * already that node at no cost; a one-way arc needs it added. */
static int snap_seeds(const ec_graph *g, const ec_snap_t *p, int target, seed *out)
{
    int n = 0;
    if (!target) {
        out[n++] = part(g, p->head, p->arc, p->frac, 1.0);
        if (p->rev_arc != UINT32_MAX) out[n++] = part(g, p->tail, p->rev_arc, 1.0 - p->frac, 1.0);
        else if (p->frac <= 0.0) out[n++] = (seed){p->tail, 0, 0, 0};
    } else {
        out[n++] = part(g, p->tail, p->arc, 0.0, p->frac);
        if (p->rev_arc != UINT32_MAX) out[n++] = part(g, p->head, p->rev_arc, 0.0, 1.0 - p->frac);
        else if (p->frac >= 1.0) out[n++] = (seed){p->head, 0, 0, 0};
    }
    return n;
}

/* Both points on the same road piece: driving along it, forwards on the
 * start's arc or backwards on its opposite, may be shortest. Cost
 * EC_INF_WEIGHT when they are not. */
static seed direct_seed(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to)
{
    seed direct = {0, EC_INF_WEIGHT, 0, 0};
    double s_pos = from->frac, t_pos = -1.0;
    if (to->arc == from->arc) t_pos = to->frac;
    else if (from->rev_arc != UINT32_MAX && to->arc == from->rev_arc) t_pos = 1.0 - to->frac;
    if (t_pos >= s_pos) direct = part(g, 0, from->arc, s_pos, t_pos);
    else if (t_pos >= 0.0 && from->rev_arc != UINT32_MAX)
        direct = part(g, 0, from->rev_arc, 1.0 - s_pos, 1.0 - t_pos);
    return direct;
}

static ec_err snap_route(ec_query *q, const ec_snap_t *from, const ec_snap_t *to, ec_path_t *out)
{
    const ec_graph *g = q->g;
    seed src[2], dst[2];
    int ns = snap_seeds(g, from, 0, src), nt = snap_seeds(g, to, 1, dst);

    /* Both points on the same road piece: driving along it, forwards on the
     * start's arc or backwards on its opposite, may be shortest. */
    seed direct = direct_seed(g, from, to);
    ec_err rc = route(q, src, ns, dst, nt, out);
    if (rc && rc != EC_EUNREACHABLE) return rc;
    if (direct.cost != EC_INF_WEIGHT && (rc == EC_EUNREACHABLE || direct.cost <= out->weight)) {
        out->weight = direct.cost;
        out->distance_m = direct.len_cm / 100.0;
        out->duration_s = direct.dur_ms / 1000.0;
        out->arcs = q->path;
        out->n_arcs = 0;
        out->first_node = out->last_node = UINT32_MAX;
        return EC_OK;
    }
    return rc;
}

ec_err ec_query_route(ec_query *q, const ec_snap_t *from, const ec_snap_t *to, ec_path_t *out)
{
    q->fixed = q->fixed_end = -1;
    return snap_route(q, from, to, out);
}

ec_err ec_query_fix(ec_query *q, const ec_snap_t *at, int as_target)
{
    int d = as_target ? 1 : 0;
    q->fixed = -1;
    q->fixed_end = d;
    q->fixed_snap = *at;
    if (q->algo != EC_ALGO_CH) return EC_OK; /* plain Dijkstra routes search from the source anyway */
    seed s[2];
    int ns = snap_seeds(q->g, at, d, s);
    next_round_dir(q, d);
    ch_seed(q, d, s, ns);
    /* The whole upward search; the other side is empty, so nothing meets. */
    next_round_dir(q, d ^ 1);
    uint32_t best = EC_INF_WEIGHT, meet;
    while (q->heap_n[d]) ch_step(q, d, &best, &meet);
    q->fixed = d;
    return EC_OK;
}

ec_err ec_query_route_fixed(ec_query *q, const ec_snap_t *other, ec_path_t *out)
{
    int end = q->fixed_end;
    if (end < 0) return ec_fail(EC_EINVAL, "no end fixed");
    ec_err rc = end == 0 ? snap_route(q, &q->fixed_snap, other, out) : snap_route(q, other, &q->fixed_snap, out);
    q->fixed_end = end; /* a Dijkstra route starts a new round */
    return rc;
}

static int same_point(ec_latlon_t a, ec_latlon_t b)
{
    return a.lat == b.lat && a.lon == b.lon;
}

typedef struct {
    ec_jw *w;
    ec_latlon_t last;
    int n;
} positions;

static void emit(positions *ps, ec_latlon_t p)
{
    if (ps->n && same_point(p, ps->last)) return;
    ec_geojson_position(ps->w, p);
    ps->last = p;
    ps->n++;
}

void ec_path_positions(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to,
                       const ec_path_t *p, int with_end, ec_jw *w)
{
    /* A point on a node is that node: it is written once, not as the point
     * and again as the node. Without the end, the next leg starts with it, so
     * a last node on the end point is left to that leg. */
    positions ps = {w, from->point, 0};
    emit(&ps, from->point);
    if (p->first_node != UINT32_MAX) {
        ec_latlon_t v = ec_graph_point(g, p->first_node);
        if (with_end || p->n_arcs || !same_point(v, to->point)) emit(&ps, v);
        for (uint32_t i = 0; i < p->n_arcs; i++) {
            v = ec_graph_point(g, g->arcs[p->arcs[i]].to);
            if (with_end || i + 1 < p->n_arcs || !same_point(v, to->point)) emit(&ps, v);
        }
    }
    if (with_end) {
        if (ps.n < 2) ec_geojson_position(w, to->point); /* a line has two points at least */
        else emit(&ps, to->point);
    }
}

void ec_path_end_arcs(const ec_snap_t *from, const ec_snap_t *to, const ec_path_t *p, uint32_t *first,
                      uint32_t *last)
{
    *first = *last = UINT32_MAX;
    if (p->first_node == UINT32_MAX) {
        /* Along one piece: forwards on the start's arc, or back on its opposite. */
        double t_pos = to->arc == from->arc ? to->frac : 1.0 - to->frac;
        *first = *last = t_pos >= from->frac ? from->arc : from->rev_arc;
        return;
    }
    if (p->first_node == from->head && from->frac < 1.0) *first = from->arc;
    else if (p->first_node == from->tail && from->frac > 0.0) *first = from->rev_arc;
    if (p->last_node == to->tail && to->frac > 0.0) *last = to->arc;
    else if (p->last_node == to->head && to->frac < 1.0) *last = to->rev_arc;
}

void ec_path_geojson(const ec_graph *g, const ec_snap_t *from, const ec_snap_t *to,
                     const ec_path_t *p, ec_jw *w)
{
    ec_jw_obj_begin(w);
    ec_jw_key(w, "type");
    ec_jw_str(w, "LineString");
    ec_jw_key(w, "coordinates");
    ec_jw_arr_begin(w);
    ec_path_positions(g, from, to, p, 1, w);
    ec_jw_arr_end(w);
    ec_jw_obj_end(w);
}

/* ---- one-to-many and many-to-many ------------------------------------------------- */

/* Exhausts the upward search of direction d from one node. Calls back per settled rank. */
static void ch_upward(ec_query *q, int d, uint32_t node,
                      void (*settle)(ec_query *q, uint32_t r, uint32_t dr, void *ctx), void *ctx)
{
    next_round(q);
    relax(q, d, q->g->rank[node], 0, NONE, NONE);
    while (q->heap_n[d]) {
        uint64_t it = hpop(q, d);
        uint32_t dr = (uint32_t)(it >> 32), r = (uint32_t)it;
        if (dr != q->dist[d][r]) continue;
        q->settled++;
        if (ch_stalled(q, d, r, dr)) continue;
        settle(q, r, dr, ctx);
        ch_expand(q, d, r, dr);
    }
}

typedef struct {
    uint32_t target;
    ec_err rc;
    uint32_t *row;
} m2m_ctx;

static void put_bucket(ec_query *q, uint32_t r, uint32_t dr, void *vctx)
{
    m2m_ctx *c = vctx;
    if (q->n_buckets == q->buckets_cap) {
        void *p = q->buckets;
        if (ec_grow(&p, &q->buckets_cap, q->n_buckets + 1, sizeof(bucket))) {
            c->rc = EC_ENOMEM;
            return;
        }
        q->buckets = p;
    }
    q->buckets[q->n_buckets++] = (bucket){r, c->target, dr};
}

static void scan_buckets(ec_query *q, uint32_t r, uint32_t dr, void *vctx)
{
    m2m_ctx *c = vctx;
    size_t lo = 0, hi = q->n_buckets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->buckets[mid].node < r) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < q->n_buckets && q->buckets[i].node == r; i++) {
        uint64_t d = (uint64_t)dr + q->buckets[i].dist;
        if (d < c->row[q->buckets[i].target]) c->row[q->buckets[i].target] = (uint32_t)d;
    }
}

static int cmp_bucket(const void *a, const void *b)
{
    const bucket *x = a, *y = b;
    return x->node < y->node ? -1 : x->node > y->node;
}

ec_err ec_query_many_to_many(ec_query *q, const uint32_t *sources, uint32_t n_src,
                             const uint32_t *targets, uint32_t n_dst, uint32_t *out)
{
    const ec_graph *g = q->g;
    for (uint32_t i = 0; i < n_src; i++)
        if (sources[i] >= q->n) return ec_fail(EC_EINVAL, "source node %u out of range", sources[i]);
    for (uint32_t j = 0; j < n_dst; j++)
        if (targets[j] >= q->n) return ec_fail(EC_EINVAL, "target node %u out of range", targets[j]);
    for (size_t k = 0; k < (size_t)n_src * n_dst; k++) out[k] = EC_INF_WEIGHT;
    if (q->algo == EC_ALGO_DIJKSTRA) {
        for (uint32_t i = 0; i < n_src; i++) {
            seed s = {sources[i], 0, 0, 0};
            uint32_t meet;
            dij_p2p(q, &s, 1, NULL, 0, &meet); /* no target: runs to exhaustion */
            for (uint32_t j = 0; j < n_dst; j++) out[(size_t)i * n_dst + j] = label(q, 0, targets[j]);
        }
        return EC_OK;
    }
    m2m_ctx c = {0, EC_OK, NULL};
    q->n_buckets = 0;
    for (uint32_t j = 0; j < n_dst; j++) {
        c.target = j;
        ch_upward(q, 1, targets[j], put_bucket, &c);
        if (c.rc) return c.rc;
    }
    qsort(q->buckets, q->n_buckets, sizeof(bucket), cmp_bucket);
    (void)g;
    for (uint32_t i = 0; i < n_src; i++) {
        c.row = out + (size_t)i * n_dst;
        ch_upward(q, 0, sources[i], scan_buckets, &c);
    }
    return EC_OK;
}

ec_err ec_query_one_to_many(ec_query *q, uint32_t s, const uint32_t *targets, uint32_t n,
                            uint32_t *out)
{
    return ec_query_many_to_many(q, &s, 1, targets, n, out);
}

/* ---- search spaces: many-to-many with sums along the routes ------------------------ */

static ec_route_sums_t base_sums(double len_m, double dur_s)
{
    ec_route_sums_t x = {0, len_m, dur_s, dur_s > 0 ? len_m * len_m * len_m / (dur_s * dur_s) : 0};
    return x;
}

static void add_sums(ec_route_sums_t *a, const ec_route_sums_t *b)
{
    a->len_m += b->len_m, a->dur_s += b->dur_s, a->len_v2 += b->len_v2;
}

ec_err ec_graph_ch_sums(const ec_graph *g, ec_route_sums_t **up_out, ec_route_sums_t **down_out)
{
    if (!g->has_ch) return ec_fail(EC_EINVAL, "the graph has no contraction hierarchy");
    ec_route_sums_t *up = ec_malloc(((size_t)g->n_up + 1) * sizeof *up);
    ec_route_sums_t *down = ec_malloc(((size_t)g->n_down + 1) * sizeof *down);
    if (!up || !down) {
        ec_free(up);
        ec_free(down);
        return EC_ENOMEM;
    }
    /* A shortcut's halves sit at its middle node, which ranks below it: by
     * rank, they are summed before it. */
    for (uint32_t r = 0; r < g->n_nodes; r++)
        for (int dir = 0; dir < 2; dir++) {
            const uint32_t *first = dir ? g->down_first : g->up_first;
            const uint32_t *child = dir ? g->down_child : g->up_child;
            ec_route_sums_t *out = dir ? down : up;
            for (uint32_t i = first[r]; i < first[r + 1]; i++) {
                uint32_t c0 = child[2 * i], c1 = child[2 * i + 1];
                if (c0 & EC_CH_ORIGINAL) {
                    const ec_arc_t *a = &g->arcs[c0 & ~EC_CH_ORIGINAL];
                    out[i] = base_sums(a->length_cm / 100.0, a->duration_ms / 1000.0);
                } else {
                    out[i] = down[c0];
                    add_sums(&out[i], &up[c1]);
                }
                out[i].weight = dir ? g->down[i].weight : g->up[i].weight;
            }
        }
    *up_out = up;
    *down_out = down;
    return EC_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    uint32_t x = ((const ec_space_entry_t *)a)->rank, y = ((const ec_space_entry_t *)b)->rank;
    return x < y ? -1 : x > y;
}

ec_err ec_query_space(ec_query *q, const ec_route_sums_t *up_s, const ec_route_sums_t *down_s,
                      const ec_snap_t *at, int as_target, ec_space_t *out)
{
    if (q->algo != EC_ALGO_CH) return ec_fail(EC_EINVAL, "search spaces need the contraction hierarchy");
    const ec_graph *g = q->g;
    int d = as_target ? 1 : 0;
    const ec_route_sums_t *arc_s = d ? down_s : up_s;
    if (!q->space_sums) {
        q->space_sums = ec_malloc(((size_t)q->n + 1) * sizeof *q->space_sums);
        if (!q->space_sums) return EC_ENOMEM;
    }
    ec_route_sums_t *sums = q->space_sums;
    seed s[2];
    int ns = snap_seeds(g, at, d, s);
    next_round(q);
    for (int i = 0; i < ns; i++) {
        uint32_t r = g->rank[s[i].node];
        if (relax(q, d, r, s[i].cost, NONE, NONE)) sums[r] = base_sums(s[i].len_cm / 100.0, s[i].dur_ms / 1000.0);
    }
    ec_vec v;
    ec_vec_init(&v, sizeof(ec_space_entry_t));
    while (q->heap_n[d]) {
        uint64_t it = hpop(q, d);
        uint32_t dr = (uint32_t)(it >> 32), r = (uint32_t)it;
        if (dr != q->dist[d][r]) continue;
        q->settled++;
        /* The route to r is the route to its predecessor and one hierarchy arc. */
        if (q->pred_node[d][r] != NONE) {
            sums[r] = sums[q->pred_node[d][r]];
            add_sums(&sums[r], &arc_s[q->pred_arc[d][r]]);
        }
        if (ch_stalled(q, d, r, dr)) continue;
        ec_space_entry_t e = {r, dr, sums[r].len_m, sums[r].dur_s, sums[r].len_v2};
        if (ec_vec_push(&v, &e)) {
            ec_vec_free(&v);
            return EC_ENOMEM;
        }
        ch_expand(q, d, r, dr);
    }
    qsort(v.data, v.len, sizeof(ec_space_entry_t), cmp_entry);
    out->e = v.data;
    out->n = (uint32_t)v.len;
    out->snap = *at;
    out->target = as_target;
    return EC_OK;
}

void ec_space_free(ec_space_t *s)
{
    ec_free(s->e);
    s->e = NULL;
    s->n = 0;
}

int ec_space_meet(const ec_graph *g, const ec_space_t *fw, const ec_space_t *bw, ec_route_sums_t *out)
{
    uint64_t best = EC_INF_WEIGHT;
    const ec_space_entry_t *a = fw->e, *b = bw->e;
    for (uint32_t i = 0, k = 0; i < fw->n && k < bw->n;) {
        if (a[i].rank < b[k].rank) i++;
        else if (a[i].rank > b[k].rank) k++;
        else {
            uint64_t w = (uint64_t)a[i].dist + b[k].dist;
            if (w < best) {
                best = w;
                out->len_m = a[i].len_m + b[k].len_m;
                out->dur_s = a[i].dur_s + b[k].dur_s;
                out->len_v2 = a[i].len_v2 + b[k].len_v2;
            }
            i++, k++;
        }
    }
    seed direct = direct_seed(g, &fw->snap, &bw->snap);
    if (direct.cost != EC_INF_WEIGHT && direct.cost <= best) {
        best = direct.cost;
        *out = base_sums(direct.len_cm / 100.0, direct.dur_ms / 1000.0);
    }
    if (best >= EC_INF_WEIGHT) return 0;
    out->weight = (uint32_t)best;
    return 1;
}
