/* ch_build.c - contraction hierarchies: node order and shortcuts.
 *
 * Nodes are contracted one at a time, cheapest first. A node's priority
 * combines its edge quotient (shortcuts it would add over arcs it removes),
 * its hop quotient (original arcs the shortcuts stand for over those removed)
 * and its level (one more than the deepest contracted neighbour, which grows
 * as neighbours are deleted), so the order spreads evenly over the map.
 * Witness searches are Dijkstra runs bounded by weight and by a settle limit;
 * a search that stops early only adds a shortcut that was not needed, never
 * loses a path.
 */
#include "graph_internal.h"

#include <string.h>

typedef struct {
    uint32_t other, weight, data, hops;
} dedge;

typedef struct {
    dedge *e;
    uint32_t n, cap;
} dlist;

typedef struct {
    uint32_t n;
    dlist *out, *in;
    uint8_t *done;
    uint32_t *level, *deleted;
    float *prio;
    /* contraction order heap, with positions for key updates */
    uint32_t *heap, *pos, heap_n;
    /* witness search */
    uint32_t *dist, *stamp, *target, cur;
    uint64_t *wheap;
    size_t wheap_n, wheap_cap;
    uint32_t settle_limit, sim_limit;
    /* shortcuts found while contracting one node */
    dedge *sc;
    uint32_t *sc_from;
    size_t sc_n, sc_cap;
} builder;

/* ---- dynamic adjacency --------------------------------------------------- */

static ec_err list_push(dlist *l, dedge e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap;
        void *p = l->e;
        if (ec_grow(&p, &cap, (size_t)l->n + 1, sizeof(dedge))) return EC_ENOMEM;
        l->e = p;
        l->cap = (uint32_t)cap;
    }
    l->e[l->n++] = e;
    return EC_OK;
}

static void list_remove(dlist *l, uint32_t other)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->e[i].other == other) {
            l->e[i] = l->e[--l->n];
            return;
        }
}

static dedge *list_find(dlist *l, uint32_t other)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->e[i].other == other) return &l->e[i];
    return NULL;
}

/* Adds arc u->x, or lowers the weight of an existing one. */
static ec_err add_arc(builder *b, uint32_t u, uint32_t x, uint32_t w, uint32_t data, uint32_t hops)
{
    dedge *o = list_find(&b->out[u], x);
    if (o) {
        if (o->weight <= w) return EC_OK;
        dedge *i = list_find(&b->in[x], u);
        o->weight = i->weight = w;
        o->data = i->data = data;
        o->hops = i->hops = hops;
        return EC_OK;
    }
    dedge fo = {x, w, data, hops}, fi = {u, w, data, hops};
    if (list_push(&b->out[u], fo) || list_push(&b->in[x], fi)) return EC_ENOMEM;
    return EC_OK;
}

/* ---- witness search ------------------------------------------------------ */

static ec_err wpush(builder *b, uint32_t d, uint32_t v)
{
    if (b->wheap_n == b->wheap_cap) {
        void *p = b->wheap;
        if (ec_grow(&p, &b->wheap_cap, b->wheap_n + 1, sizeof(uint64_t))) return EC_ENOMEM;
        b->wheap = p;
    }
    uint64_t item = (uint64_t)d << 32 | v;
    size_t i = b->wheap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (b->wheap[p] <= item) break;
        b->wheap[i] = b->wheap[p];
        i = p;
    }
    b->wheap[i] = item;
    return EC_OK;
}

static uint64_t wpop(builder *b)
{
    uint64_t top = b->wheap[0], last = b->wheap[--b->wheap_n];
    size_t i = 0, n = b->wheap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && b->wheap[c + 1] < b->wheap[c]) c++;
        if (b->wheap[c] >= last) break;
        b->wheap[i] = b->wheap[c];
        i = c;
    }
    if (n) b->wheap[i] = last;
    return top;
}

/* Bounded Dijkstra from s that avoids node skip. Distances found are in
 * b->dist where b->stamp == b->cur. */
static ec_err witness(builder *b, uint32_t s, uint32_t skip, uint32_t max_w, uint32_t limit,
                      uint32_t targets)
{
    b->wheap_n = 0;
    b->dist[s] = 0;
    b->stamp[s] = b->cur;
    if (wpush(b, 0, s)) return EC_ENOMEM;
    uint32_t settled = 0;
    while (b->wheap_n) {
        uint64_t it = wpop(b);
        uint32_t d = (uint32_t)(it >> 32), x = (uint32_t)it;
        if (d > b->dist[x]) continue;
        if (d > max_w || ++settled > limit) break;
        /* Every target settled: nothing more to learn. */
        if (b->target[x] == b->cur && --targets == 0) break;
        const dlist *l = &b->out[x];
        for (uint32_t i = 0; i < l->n; i++) {
            uint32_t y = l->e[i].other;
            if (y == skip) continue;
            uint64_t nd = (uint64_t)d + l->e[i].weight;
            if (nd > max_w) continue;
            if (b->stamp[y] != b->cur || nd < b->dist[y]) {
                b->stamp[y] = b->cur;
                b->dist[y] = (uint32_t)nd;
                if (wpush(b, (uint32_t)nd, y)) return EC_ENOMEM;
            }
        }
    }
    return EC_OK;
}

/* Finds the shortcuts contracting v needs into b->sc. */
static ec_err find_shortcuts(builder *b, uint32_t v, uint32_t limit)
{
    b->sc_n = 0;
    const dlist *in = &b->in[v], *out = &b->out[v];
    for (uint32_t i = 0; i < in->n; i++) {
        uint32_t u = in->e[i].other, w1 = in->e[i].weight;
        uint64_t max_w = 0;
        for (uint32_t j = 0; j < out->n; j++)
            if (out->e[j].other != u && (uint64_t)w1 + out->e[j].weight > max_w)
                max_w = (uint64_t)w1 + out->e[j].weight;
        if (max_w == 0) continue;
        if (max_w >= EC_INF_WEIGHT)
            return ec_fail(EC_ERANGE, "path weight overflows 32 bits while contracting");
        if (++b->cur == 0) {
            memset(b->stamp, 0, (size_t)b->n * sizeof *b->stamp);
            memset(b->target, 0, (size_t)b->n * sizeof *b->target);
            b->cur = 1;
        }
        uint32_t targets = 0;
        for (uint32_t j = 0; j < out->n; j++)
            if (out->e[j].other != u) {
                b->target[out->e[j].other] = b->cur;
                targets++;
            }
        ec_err rc = witness(b, u, v, (uint32_t)max_w, limit, targets);
        if (rc) return rc;
        for (uint32_t j = 0; j < out->n; j++) {
            uint32_t x = out->e[j].other, w = w1 + out->e[j].weight;
            if (x == u) continue;
            if (b->stamp[x] == b->cur && b->dist[x] <= w) continue;
            if (b->sc_n == b->sc_cap) {
                size_t cap = b->sc_cap;
                void *p = b->sc, *q = b->sc_from;
                if (ec_grow(&p, &cap, b->sc_n + 1, sizeof(dedge))) return EC_ENOMEM;
                b->sc = p;
                cap = b->sc_cap;
                if (ec_grow(&q, &cap, b->sc_n + 1, sizeof(uint32_t))) return EC_ENOMEM;
                b->sc_from = q;
                b->sc_cap = cap;
            }
            dedge e = {x, w, v | EC_CH_SHORTCUT, in->e[i].hops + out->e[j].hops};
            b->sc[b->sc_n] = e;
            b->sc_from[b->sc_n++] = u;
        }
    }
    return EC_OK;
}

static ec_err priority(builder *b, uint32_t v, float *out)
{
    ec_err rc = find_shortcuts(b, v, b->sim_limit);
    if (rc) return rc;
    uint32_t removed = b->in[v].n + b->out[v].n, removed_hops = 0, added_hops = 0;
    for (uint32_t i = 0; i < b->in[v].n; i++) removed_hops += b->in[v].e[i].hops;
    for (uint32_t i = 0; i < b->out[v].n; i++) removed_hops += b->out[v].e[i].hops;
    for (size_t i = 0; i < b->sc_n; i++) added_hops += b->sc[i].hops;
    float eq = removed ? (float)b->sc_n / (float)removed : 0.0f;
    float hq = removed_hops ? (float)added_hops / (float)removed_hops : 0.0f;
    *out = 2.0f * eq + hq + (float)b->level[v] + 0.1f * (float)b->deleted[v];
    return EC_OK;
}

/* ---- order heap ------------------------------------------------------------ */

static void heap_up(builder *b, uint32_t i)
{
    uint32_t v = b->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (b->prio[b->heap[p]] <= b->prio[v]) break;
        b->heap[i] = b->heap[p];
        b->pos[b->heap[i]] = i;
        i = p;
    }
    b->heap[i] = v;
    b->pos[v] = i;
}

static void heap_down(builder *b, uint32_t i)
{
    uint32_t v = b->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= b->heap_n) break;
        if (c + 1 < b->heap_n && b->prio[b->heap[c + 1]] < b->prio[b->heap[c]]) c++;
        if (b->prio[b->heap[c]] >= b->prio[v]) break;
        b->heap[i] = b->heap[c];
        b->pos[b->heap[i]] = i;
        i = c;
    }
    b->heap[i] = v;
    b->pos[v] = i;
}

static void heap_update(builder *b, uint32_t v, float p)
{
    float old = b->prio[v];
    b->prio[v] = p;
    if (p < old) heap_up(b, b->pos[v]);
    else heap_down(b, b->pos[v]);
}

/* ---- the build ------------------------------------------------------------- */

static void builder_free(builder *b)
{
    for (uint32_t v = 0; v < b->n; v++) {
        if (b->out) ec_free(b->out[v].e);
        if (b->in) ec_free(b->in[v].e);
    }
    ec_free(b->out);
    ec_free(b->in);
    ec_free(b->done);
    ec_free(b->level);
    ec_free(b->deleted);
    ec_free(b->prio);
    ec_free(b->heap);
    ec_free(b->pos);
    ec_free(b->dist);
    ec_free(b->stamp);
    ec_free(b->target);
    ec_free(b->wheap);
    ec_free(b->sc);
    ec_free(b->sc_from);
}

/* Appends v's remaining arcs to the final up/down arrays. */
static ec_err emit(builder *b, uint32_t v, ec_vec *up, ec_vec *down)
{
    for (uint32_t i = 0; i < b->out[v].n; i++) {
        ec_ch_arc_t a = {b->out[v].e[i].other, b->out[v].e[i].weight, b->out[v].e[i].data};
        if (ec_vec_push(up, &a)) return EC_ENOMEM;
    }
    for (uint32_t i = 0; i < b->in[v].n; i++) {
        ec_ch_arc_t a = {b->in[v].e[i].other, b->in[v].e[i].weight, b->in[v].e[i].data};
        if (ec_vec_push(down, &a)) return EC_ENOMEM;
    }
    return EC_OK;
}

static uint32_t find_at(const uint32_t *first, const ec_ch_arc_t *arcs, uint32_t at, uint32_t to)
{
    for (uint32_t i = first[at]; i < first[at + 1]; i++)
        if (arcs[i].to == to) return i;
    return UINT32_MAX;
}

/* Records for every shortcut the indices of its two halves, both stored at
 * the middle node: tail -> mid among mid's down arcs, mid -> head among its
 * up arcs. Unpacking then follows indices instead of searching. */
static void link_children(uint32_t n, const uint32_t *up_first, const ec_ch_arc_t *up,
                          const uint32_t *down_first, const ec_ch_arc_t *down, int is_up,
                          uint32_t *child)
{
    const uint32_t *first = is_up ? up_first : down_first;
    const ec_ch_arc_t *arcs = is_up ? up : down;
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t i = first[r]; i < first[r + 1]; i++) {
            child[2 * i] = arcs[i].data | EC_CH_ORIGINAL;
            child[2 * i + 1] = UINT32_MAX;
            if (!(arcs[i].data & EC_CH_SHORTCUT)) continue;
            uint32_t m = arcs[i].data & ~EC_CH_SHORTCUT;
            uint32_t tail = is_up ? r : arcs[i].to, head = is_up ? arcs[i].to : r;
            child[2 * i] = find_at(down_first, down, m, tail);
            child[2 * i + 1] = find_at(up_first, up, m, head);
        }
}

ec_err ec_ch_build(ec_graph *g, const ec_ch_opts_t *opts)
{
    int64_t t0 = ec_time_mono_ns();
    builder b;
    memset(&b, 0, sizeof b);
    uint32_t n = g->n_nodes;
    b.n = n;
    b.settle_limit = opts && opts->witness_settle_limit ? opts->witness_settle_limit : 500;
    /* Rating a node only needs a count of shortcuts, so its searches are cut shorter. */
    b.sim_limit = b.settle_limit / 4 + 1;
    ec_vec up, down;
    ec_vec_init(&up, sizeof(ec_ch_arc_t));
    ec_vec_init(&down, sizeof(ec_ch_arc_t));
    uint32_t *rank = NULL, *node_at = NULL, *up_first = NULL, *down_first = NULL;
    ec_err rc = EC_ENOMEM;
    b.out = ec_calloc(n, sizeof *b.out);
    b.in = ec_calloc(n, sizeof *b.in);
    b.done = ec_calloc(n, 1);
    b.level = ec_calloc(n, sizeof *b.level);
    b.deleted = ec_calloc(n, sizeof *b.deleted);
    b.prio = ec_malloc((size_t)n * sizeof *b.prio);
    b.heap = ec_malloc((size_t)n * sizeof *b.heap);
    b.pos = ec_malloc((size_t)n * sizeof *b.pos);
    b.dist = ec_malloc((size_t)n * sizeof *b.dist);
    b.stamp = ec_calloc(n, sizeof *b.stamp);
    b.target = ec_calloc(n, sizeof *b.target);
    rank = ec_malloc((size_t)n * sizeof *rank);
    node_at = ec_malloc((size_t)n * sizeof *node_at);
    up_first = ec_malloc(((size_t)n + 1) * sizeof *up_first);
    down_first = ec_malloc(((size_t)n + 1) * sizeof *down_first);
    if (!b.out || !b.in || !b.done || !b.level || !b.deleted || !b.prio || !b.heap || !b.pos ||
        !b.dist || !b.stamp || !b.target || !rank || !node_at || !up_first || !down_first)
        goto fail;
    if (ec_vec_reserve(&up, g->n_arcs) || ec_vec_reserve(&down, g->n_arcs)) goto fail;

    for (uint32_t v = 0; v < n; v++)
        for (uint32_t a = g->first_out[v]; a < g->first_out[v + 1]; a++)
            if ((rc = add_arc(&b, v, g->arcs[a].to, ec_arc_weight(g, &g->arcs[a]), a, 1)))
                goto fail;

    ec_progress prog;
    ec_progress_start(&prog, "contracting", n);
    if (!(opts && opts->progress)) prog.enabled = 0;
    for (uint32_t v = 0; v < n; v++) {
        if ((rc = priority(&b, v, &b.prio[v]))) goto fail;
        b.heap[v] = v;
        b.pos[v] = v;
    }
    b.heap_n = n;
    for (uint32_t i = n / 2; i-- > 0;) heap_down(&b, i);

    for (uint32_t r = 0; r < n; r++) {
        uint32_t v = b.heap[0];
        b.heap[0] = b.heap[--b.heap_n];
        b.pos[b.heap[0]] = 0;
        if (b.heap_n) heap_down(&b, 0);
        if ((rc = find_shortcuts(&b, v, b.settle_limit))) goto fail;
        for (size_t i = 0; i < b.sc_n; i++)
            if ((rc = add_arc(&b, b.sc_from[i], b.sc[i].other, b.sc[i].weight, b.sc[i].data,
                              b.sc[i].hops)))
                goto fail;
        rank[v] = r;
        node_at[r] = v;
        up_first[r] = (uint32_t)up.len;
        down_first[r] = (uint32_t)down.len;
        if ((rc = emit(&b, v, &up, &down))) goto fail;
        b.done[v] = 1;
        /* Detach v, then re-rate the neighbours it leaves behind. */
        for (uint32_t i = 0; i < b.out[v].n; i++) list_remove(&b.in[b.out[v].e[i].other], v);
        for (uint32_t i = 0; i < b.in[v].n; i++) list_remove(&b.out[b.in[v].e[i].other], v);
        for (int side = 0; side < 2; side++) {
            const dlist *l = side ? &b.in[v] : &b.out[v];
            for (uint32_t i = 0; i < l->n; i++) {
                uint32_t x = l->e[i].other;
                if (b.level[x] < b.level[v] + 1) b.level[x] = b.level[v] + 1;
                b.deleted[x]++;
                float p;
                if ((rc = priority(&b, x, &p))) goto fail;
                heap_update(&b, x, p);
            }
        }
        ec_free(b.out[v].e);
        ec_free(b.in[v].e);
        memset(&b.out[v], 0, sizeof b.out[v]);
        memset(&b.in[v], 0, sizeof b.in[v]);
        if ((r & 1023) == 0) ec_progress_update(&prog, r);
    }
    ec_progress_finish(&prog);
    up_first[n] = (uint32_t)up.len;
    down_first[n] = (uint32_t)down.len;
    /* Arcs and middle nodes were recorded as node ids: make them ranks. */
    ec_ch_arc_t *ua = up.data, *da = down.data;
    for (size_t i = 0; i < up.len; i++) {
        ua[i].to = rank[ua[i].to];
        if (ua[i].data & EC_CH_SHORTCUT) ua[i].data = rank[ua[i].data & ~EC_CH_SHORTCUT] | EC_CH_SHORTCUT;
    }
    for (size_t i = 0; i < down.len; i++) {
        da[i].to = rank[da[i].to];
        if (da[i].data & EC_CH_SHORTCUT) da[i].data = rank[da[i].data & ~EC_CH_SHORTCUT] | EC_CH_SHORTCUT;
    }
    builder_free(&b);
    uint32_t *up_child = ec_malloc(((size_t)up.len + 1) * 2 * sizeof *up_child);
    uint32_t *down_child = ec_malloc(((size_t)down.len + 1) * 2 * sizeof *down_child);
    if (!up_child || !down_child) {
        ec_free(up_child);
        ec_free(down_child);
        rc = EC_ENOMEM;
        goto fail_arrays;
    }
    link_children(n, up_first, ua, down_first, da, 1, up_child);
    link_children(n, up_first, ua, down_first, da, 0, down_child);
    g->up_child = graph__own(g, up_child);
    g->down_child = graph__own(g, down_child);
    g->rank = graph__own(g, rank);
    g->node_at = graph__own(g, node_at);
    g->up_first = graph__own(g, up_first);
    g->down_first = graph__own(g, down_first);
    g->up = graph__own(g, up.data);
    g->down = graph__own(g, down.data);
    g->n_up = (uint32_t)up.len;
    g->n_down = (uint32_t)down.len;
    g->has_ch = 1;
    g->build_seconds = (double)(ec_time_mono_ns() - t0) / 1e9;
    return EC_OK;
fail:
    builder_free(&b);
fail_arrays:
    ec_vec_free(&up);
    ec_vec_free(&down);
    ec_free(rank);
    ec_free(node_at);
    ec_free(up_first);
    ec_free(down_first);
    return rc == EC_OK ? EC_ENOMEM : rc;
}
