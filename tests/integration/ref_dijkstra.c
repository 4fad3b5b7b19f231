/* ref_dijkstra.c - the independent side of ch_vs_dijkstra: CSV reading, a
 * binary-heap Dijkstra from weighted seeds to weighted targets, and the
 * checks of snapped routes against it. Nothing here calls src/graph's
 * search code; ec_graph_snap and ec_query_route are what is checked. */
#include "ref_dijkstra.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ref_item {
    double d;
    uint32_t v;
};

typedef struct {
    uint32_t node;
    double cost;
} ref_seed;

static int read_lines(const char *path, int (*line)(void *ctx, char *s), void *ctx)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    char buf[512];
    int first = 1, rc = 0;
    while (!rc && fgets(buf, sizeof buf, f)) {
        if (first) {
            first = 0;
            continue; /* header */
        }
        rc = line(ctx, buf);
    }
    fclose(f);
    return rc;
}

typedef struct {
    ref_graph *r;
    int time_metric;
    size_t cap;
} load_ctx;

static int node_line(void *vctx, char *s)
{
    load_ctx *c = vctx;
    ref_graph *r = c->r;
    unsigned id;
    double lat, lon;
    if (sscanf(s, "%u,%lf,%lf", &id, &lat, &lon) != 3 || id != r->n) return -1;
    if (r->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        r->lat = realloc(r->lat, c->cap * sizeof *r->lat);
        r->lon = realloc(r->lon, c->cap * sizeof *r->lon);
    }
    r->lat[r->n] = lat, r->lon[r->n] = lon;
    r->n++;
    return 0;
}

static int edge_line(void *vctx, char *s)
{
    load_ctx *c = vctx;
    ref_graph *r = c->r;
    unsigned a, b;
    double len_m, dur_s;
    if (sscanf(s, "%u,%u,%lf,%lf", &a, &b, &len_m, &dur_s) != 4 || a >= r->n || b >= r->n) return -1;
    if (r->m == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        r->efrom = realloc(r->efrom, c->cap * sizeof *r->efrom);
        r->to = realloc(r->to, c->cap * sizeof *r->to);
        r->w = realloc(r->w, c->cap * sizeof *r->w);
    }
    r->efrom[r->m] = a, r->to[r->m] = b;
    r->w[r->m] = (uint32_t)llround(c->time_metric ? dur_s * 1000.0 : len_m * 100.0);
    r->m++;
    return 0;
}

static const ref_graph *sort_graph;
static int cmp_idx(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    const ref_graph *r = sort_graph;
    if (r->lat[a] != r->lat[b]) return r->lat[a] < r->lat[b] ? -1 : 1;
    if (r->lon[a] != r->lon[b]) return r->lon[a] < r->lon[b] ? -1 : 1;
    return 0;
}

int ref_load(ref_graph *r, const char *dir, int time_metric)
{
    memset(r, 0, sizeof *r);
    char path[4200];
    load_ctx c = {r, time_metric, 0};
    snprintf(path, sizeof path, "%s/nodes.csv", dir);
    if (read_lines(path, node_line, &c) || r->n == 0) return -1;
    c.cap = 0;
    snprintf(path, sizeof path, "%s/edges.csv", dir);
    if (read_lines(path, edge_line, &c)) return -1;
    /* Edges are grouped by tail here, whatever the file's order. */
    r->first = calloc((size_t)r->n + 1, sizeof *r->first);
    uint32_t *to = malloc(((size_t)r->m + 1) * sizeof *to), *w = malloc(((size_t)r->m + 1) * sizeof *w);
    uint32_t *pos = malloc(((size_t)r->n + 1) * sizeof *pos);
    for (uint32_t e = 0; e < r->m; e++) r->first[r->efrom[e] + 1]++;
    for (uint32_t v = 0; v < r->n; v++) r->first[v + 1] += r->first[v];
    memcpy(pos, r->first, (size_t)r->n * sizeof *pos);
    for (uint32_t e = 0; e < r->m; e++) {
        uint32_t k = pos[r->efrom[e]]++;
        to[k] = r->to[e], w[k] = r->w[e];
    }
    free(r->to);
    free(r->w);
    free(pos);
    r->to = to, r->w = w;
    for (uint32_t v = 0; v < r->n; v++)
        for (uint32_t e = r->first[v]; e < r->first[v + 1]; e++) r->efrom[e] = v;
    /* Nodes sharing their coordinates with another cannot be told apart by a point. */
    uint32_t *idx = malloc((size_t)r->n * sizeof *idx);
    for (uint32_t v = 0; v < r->n; v++) idx[v] = v;
    sort_graph = r;
    qsort(idx, r->n, sizeof *idx, cmp_idx);
    r->unique = malloc((size_t)r->n * sizeof *r->unique);
    for (uint32_t i = 0; i < r->n; i++)
        r->unique[idx[i]] = !((i > 0 && cmp_idx(&idx[i - 1], &idx[i]) == 0) ||
                              (i + 1 < r->n && cmp_idx(&idx[i], &idx[i + 1]) == 0));
    free(idx);
    r->dist = malloc((size_t)r->n * sizeof *r->dist);
    r->stamp = calloc(r->n, sizeof *r->stamp);
    r->heap_cap = (size_t)r->m + 16;
    r->heap = malloc(r->heap_cap * sizeof *r->heap);
    return 0;
}

void ref_free(ref_graph *r)
{
    free(r->lat), free(r->lon), free(r->unique), free(r->first), free(r->to), free(r->w);
    free(r->efrom), free(r->dist), free(r->stamp), free(r->heap);
}

static void push(ref_graph *r, double d, uint32_t v)
{
    if (r->heap_n == r->heap_cap) {
        r->heap_cap *= 2;
        r->heap = realloc(r->heap, r->heap_cap * sizeof *r->heap);
    }
    size_t i = r->heap_n++;
    while (i > 0 && r->heap[(i - 1) / 2].d > d) {
        r->heap[i] = r->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    r->heap[i] = (struct ref_item){d, v};
}

static struct ref_item pop(ref_graph *r)
{
    struct ref_item top = r->heap[0], last = r->heap[--r->heap_n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->heap_n) break;
        if (c + 1 < r->heap_n && r->heap[c + 1].d < r->heap[c].d) c++;
        if (r->heap[c].d >= last.d) break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (r->heap_n) r->heap[i] = last;
    return top;
}

static void relax(ref_graph *r, uint32_t v, double d)
{
    if (r->stamp[v] == r->cur && r->dist[v] <= d) return;
    r->stamp[v] = r->cur;
    r->dist[v] = d;
    push(r, d, v);
}

/* The least seed cost + path + target cost; INFINITY when none. */
static double shortest(ref_graph *r, const ref_seed *src, int ns, const ref_seed *dst, int nt)
{
    r->cur++;
    r->heap_n = 0;
    for (int i = 0; i < ns; i++) relax(r, src[i].node, src[i].cost);
    double best = INFINITY;
    while (r->heap_n) {
        struct ref_item it = pop(r);
        if (it.d >= best) break;
        if (it.d != r->dist[it.v]) continue;
        for (int i = 0; i < nt; i++)
            if (dst[i].node == it.v && it.d + dst[i].cost < best) best = it.d + dst[i].cost;
        for (uint32_t e = r->first[it.v]; e < r->first[it.v + 1]; e++) relax(r, r->to[e], it.d + r->w[e]);
    }
    return best;
}

/* The single arc a -> b, or UINT32_MAX when there is none or more than one. */
static uint32_t the_arc(const ref_graph *r, uint32_t a, uint32_t b)
{
    uint32_t found = UINT32_MAX;
    for (uint32_t e = r->first[a]; e < r->first[a + 1]; e++)
        if (r->to[e] == b) {
            if (found != UINT32_MAX) return UINT32_MAX - 1;
            found = e;
        }
    return found;
}

/* ec_query_route's answer (weight, or INFINITY when unreachable) by CH and,
 * when dj is given, by the built-in Dijkstra (else *w_dj is the CH's). */
static int engine(const ec_graph *g, ec_query *ch, ec_query *dj, const ec_snap_t *a, const ec_snap_t *b,
                  double *w_ch, double *w_dj, double *secs)
{
    ec_path_t pc, pd;
    ec_err r1 = ec_query_route(ch, a, b, &pc), r2 = dj ? ec_query_route(dj, a, b, &pd) : r1;
    if (!dj) pd = pc;
    if ((r1 && r1 != EC_EUNREACHABLE) || (r2 && r2 != EC_EUNREACHABLE)) return -1;
    /* INFINITY is a float: a weight must not be rounded to one. */
    *w_ch = r1 ? (double)INFINITY : (double)pc.weight;
    *w_dj = r2 ? (double)INFINITY : (double)pd.weight;
    *secs = r1 ? (double)INFINITY : pc.duration_s;
    /* The route's time is the sum of what it drives. */
    if (!r1 && g->metric == EC_METRIC_TIME && fabs(pc.duration_s * 1000.0 - pc.weight) > 1.0) return -1;
    return 0;
}

/* A point exactly on node v (as nodes.csv gives it), snapped; 0 when it landed on v. */
static int snap_node(const ref_graph *r, const ec_graph *g, uint32_t v, ec_snap_t *s)
{
    ec_latlon_t p = {r->lat[v], r->lon[v]};
    if (ec_graph_snap(g, p, 1.0, s)) return -1;
    return (s->frac == 0.0 && s->tail == v) || (s->frac == 1.0 && s->head == v) ? 0 : -1;
}

/* Node-exact pairs, ten targets per source: the exported edges searched once
 * from each source to every node; CH for every pair, the built-in Dijkstra
 * (slower) for one pair in ten. */
static int node_pairs(ref_graph *r, const ec_graph *g, ec_query *ch, ec_query *dj, int pairs,
                      uint32_t (*rnd)(uint32_t), int *reachable)
{
    int bad = 0;
    for (int i = 0; i < pairs; i += 10) {
        uint32_t s, t;
        do s = rnd(r->n); while (!r->unique[s]);
        ec_snap_t a, b;
        ref_seed rs = {s, 0};
        shortest(r, &rs, 1, NULL, 0);
        for (int k = 0; k < 10 && i + k < pairs; k++) {
            do t = rnd(r->n); while (!r->unique[t]);
            if (snap_node(r, g, s, &a) || snap_node(r, g, t, &b)) {
                printf("FAIL node-exact %u -> %u: a point on a node did not snap to it\n", s, t);
                bad++;
                continue;
            }
            double want = r->stamp[t] == r->cur ? r->dist[t] : INFINITY, w_ch, w_dj, secs;
            if (engine(g, ch, k == 0 ? dj : NULL, &a, &b, &w_ch, &w_dj, &secs) || w_ch != want || w_dj != want) {
                printf("FAIL node-exact %u -> %u: exported edges %.0f, ch %.0f, dijkstra %.0f\n", s, t, want, w_ch,
                       w_dj);
                bad++;
            }
            *reachable += want != INFINITY;
        }
    }
    return bad;
}

/* Seeds of a point at fraction f along arc u -> v: as a source, v ahead and,
 * on a two-way road, u behind; as a target, reached from u and from v. */
static int seeds(const ref_graph *r, uint32_t u, uint32_t v, double f, int target, ref_seed *out)
{
    uint32_t fw = the_arc(r, u, v), bw = the_arc(r, v, u);
    int n = 0;
    if (!target) {
        out[n++] = (ref_seed){v, (1 - f) * r->w[fw]};
        if (bw < UINT32_MAX - 1) out[n++] = (ref_seed){u, f * r->w[bw]};
    } else {
        out[n++] = (ref_seed){u, f * r->w[fw]};
        if (bw < UINT32_MAX - 1) out[n++] = (ref_seed){v, (1 - f) * r->w[bw]};
    }
    return n;
}

/* A random point part-way along a random road piece with one arc each way at
 * most; its arc, fraction and snap. 0 when the point snapped onto that piece. */
static int random_point(const ref_graph *r, const ec_graph *g, uint32_t (*rnd)(uint32_t), uint32_t *u,
                        uint32_t *v, double *f, ec_snap_t *s)
{
    uint32_t e = rnd(r->m);
    *u = r->efrom[e];
    *v = r->to[e];
    if (the_arc(r, *u, *v) != e || the_arc(r, *v, *u) == UINT32_MAX - 1 || r->w[e] < 100) return -1;
    *f = 0.2 + rnd(601) / 1000.0;
    ec_latlon_t p = {r->lat[*u] + (r->lat[*v] - r->lat[*u]) * *f, r->lon[*u] + (r->lon[*v] - r->lon[*u]) * *f};
    if (ec_graph_snap(g, p, 1.0, s)) return -1;
    return (s->tail == *u && s->head == *v) || (s->tail == *v && s->head == *u) ? 0 : -1;
}

static int part_way_pairs(ref_graph *r, const ec_graph *g, ec_query *ch, ec_query *dj, int pairs,
                          uint32_t (*rnd)(uint32_t), int *tried)
{
    int bad = 0;
    for (int i = 0; i < pairs; i++) {
        uint32_t u1, v1, u2, v2;
        double f1, f2;
        ec_snap_t a, b;
        if (random_point(r, g, rnd, &u1, &v1, &f1, &a) || random_point(r, g, rnd, &u2, &v2, &f2, &b)) {
            i--;
            if (++*tried > 100 * pairs) return bad + 1;
            continue;
        }
        ref_seed src[2], dst[2];
        int ns = seeds(r, u1, v1, f1, 0, src), nt = seeds(r, u2, v2, f2, 1, dst);
        double want = shortest(r, src, ns, dst, nt);
        /* Both on the same piece: straight along it, forwards or (two-way) back. */
        double g2 = u2 == u1 && v2 == v1 ? f2 : u2 == v1 && v2 == u1 ? 1 - f2 : -1;
        uint32_t fw = the_arc(r, u1, v1), bw = the_arc(r, v1, u1);
        if (g2 >= f1) want = fmin(want, (g2 - f1) * r->w[fw]);
        else if (g2 >= 0 && bw < UINT32_MAX - 1) want = fmin(want, (f1 - g2) * r->w[bw]);
        double w_ch, w_dj, secs;
        /* Each end's part of a road is rounded to a whole unit. */
        if (engine(g, ch, dj, &a, &b, &w_ch, &w_dj, &secs) || w_ch != w_dj ||
            !(fabs(w_ch - want) <= 2.0 || (w_ch == INFINITY && want == INFINITY))) {
            printf("FAIL part-way %u-%u @%.3f -> %u-%u @%.3f: exported edges %.1f, ch %.0f, dijkstra %.0f\n", u1,
                   v1, f1, u2, v2, f2, want, w_ch, w_dj);
            bad++;
        }
    }
    return bad;
}

static uint32_t node_at(const ref_graph *r, ec_latlon_t p)
{
    for (uint32_t v = 0; v < r->n; v++)
        if (fabs(r->lat[v] - p.lat) < 5e-8 && fabs(r->lon[v] - p.lon) < 5e-8) return v;
    return UINT32_MAX;
}

static int the_case(ref_graph *r, const ec_graph *g, ec_query *ch, ec_query *dj, const ref_case *k)
{
    ec_snap_t a, b;
    uint32_t s = node_at(r, k->from), t = node_at(r, k->to);
    if (s == UINT32_MAX || t == UINT32_MAX || ec_graph_snap(g, k->from, 1.0, &a) || ec_graph_snap(g, k->to, 1.0, &b)) {
        printf("FAIL case: its points are not nodes of the graph\n");
        return 1;
    }
    ref_seed rs = {s, 0}, rt = {t, 0};
    double want = shortest(r, &rs, 1, &rt, 1), w_ch, w_dj, secs;
    int bad = engine(g, ch, dj, &a, &b, &w_ch, &w_dj, &secs) || w_ch != want || w_dj != want ||
              fabs(secs - k->seconds) > 0.0005;
    printf("%s case %.7f,%.7f -> %.7f,%.7f: exported edges %.3f s, ch %.3f s, dijkstra %.3f s, expected %.3f s\n",
           bad ? "FAIL" : "ok  ", k->from.lat, k->from.lon, k->to.lat, k->to.lon, want / 1000, w_ch / 1000, w_dj / 1000,
           k->seconds);
    return bad;
}

int ref_check(ref_graph *r, const ec_graph *g, ec_query *ch, ec_query *dj, int pairs,
              const ref_case *kase, uint32_t (*rnd)(uint32_t))
{
    int reachable = 0, tried = 0;
    int bad = node_pairs(r, g, ch, dj, pairs, rnd, &reachable);
    int bad_part = part_way_pairs(r, g, ch, dj, pairs / 4, rnd, &tried);
    int bad_case = kase->given ? the_case(r, g, ch, dj, kase) : 0;
    printf("exported edges: %d node-exact pairs (%d reachable), %d part-way pairs (%d points drawn again: not on "
           "one road piece): %d and %d differ\n", pairs, reachable, pairs / 4, tried, bad, bad_part);
    return bad + bad_part + bad_case;
}
