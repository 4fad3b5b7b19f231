/* optimal.c - the offline optimum of a replay: with every arrival, departure
 * and request known in advance, the most energy that can be delivered under
 * the capacity. It is a maximum flow — source → session (its request) →
 * each period it is plugged in (its maximum power for one period) → sink
 * (the capacity for one period) — solved exactly with Dinic's algorithm, so
 * no LP solver is needed for it: the LP over the month has this structure
 * and the same optimum. */
#include "ecorridor/ec_sim.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-9

typedef struct {
    int to;
    double cap;
} arc_t;

typedef struct {
    arc_t *arcs; /* arc e and its reverse e ^ 1 */
    int *next, *head, *level, *it, *queue;
    int n_nodes, n_arcs, cap_arcs;
} flow_t;

static ec_err add_arc(flow_t *f, int u, int v, double cap)
{
    if (f->n_arcs + 2 > f->cap_arcs) {
        int cap2 = f->cap_arcs ? f->cap_arcs * 2 : 1024;
        arc_t *a = ec_realloc(f->arcs, (size_t)cap2 * sizeof *a);
        if (!a) return EC_ENOMEM;
        f->arcs = a;
        int *nx = ec_realloc(f->next, (size_t)cap2 * sizeof *nx);
        if (!nx) return EC_ENOMEM;
        f->next = nx;
        f->cap_arcs = cap2;
    }
    int e = f->n_arcs;
    f->arcs[e] = (arc_t){v, cap};
    f->next[e] = f->head[u];
    f->head[u] = e;
    f->arcs[e + 1] = (arc_t){u, 0};
    f->next[e + 1] = f->head[v];
    f->head[v] = e + 1;
    f->n_arcs += 2;
    return EC_OK;
}

static int bfs(flow_t *f, int s, int t)
{
    for (int i = 0; i < f->n_nodes; i++) f->level[i] = -1;
    int qh = 0, qt = 0;
    f->queue[qt++] = s;
    f->level[s] = 0;
    while (qh < qt) {
        int u = f->queue[qh++];
        for (int e = f->head[u]; e >= 0; e = f->next[e])
            if (f->arcs[e].cap > EPS && f->level[f->arcs[e].to] < 0) {
                f->level[f->arcs[e].to] = f->level[u] + 1;
                f->queue[qt++] = f->arcs[e].to;
            }
    }
    return f->level[t] >= 0;
}

/* One augmenting path by depth-first search in the level graph (iterative
 * over the depth, which here is at most 4: source, session, period, sink). */
static double dfs(flow_t *f, int u, int t, double pushed)
{
    if (u == t) return pushed;
    for (int *e = &f->it[u]; *e >= 0; *e = f->next[*e]) {
        arc_t *a = &f->arcs[*e];
        if (a->cap <= EPS || f->level[a->to] != f->level[u] + 1) continue;
        double got = dfs(f, a->to, t, pushed < a->cap ? pushed : a->cap);
        if (got > EPS) {
            a->cap -= got;
            f->arcs[*e ^ 1].cap += got;
            return got;
        }
    }
    return 0;
}

ec_err ec_charge_offline_optimum(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r)
{
    memset(r, 0, sizeof *r);
    if (o->period_s <= 0) return ec_fail(EC_EINVAL, "the control period must be positive");
    const ec_charge_session_t *ss = sessions->data;
    size_t n = sessions->len;
    int64_t t0 = INT64_MAX, t1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (ss[i].arrival_s < t0) t0 = ss[i].arrival_s;
        if (ss[i].departure_s > t1) t1 = ss[i].departure_s;
        r->requested_wh += ss[i].requested_wh;
    }
    r->sessions = (int64_t)n;
    if (!n || t1 <= t0) {
        r->delivered_pct = 100;
        return EC_OK;
    }
    int64_t periods = (t1 - t0 + o->period_s - 1) / o->period_s;
    if ((int64_t)n + periods + 2 > 50000000) return ec_fail(EC_ELIMIT, "too many sessions and periods for the optimum");
    flow_t f;
    memset(&f, 0, sizeof f);
    f.n_nodes = (int)(n + (size_t)periods + 2);
    int src = f.n_nodes - 2, sink = f.n_nodes - 1;
    ec_err rc = EC_OK;
    f.head = ec_malloc((size_t)f.n_nodes * sizeof(int));
    f.level = ec_malloc((size_t)f.n_nodes * sizeof(int));
    f.it = ec_malloc((size_t)f.n_nodes * sizeof(int));
    f.queue = ec_malloc((size_t)f.n_nodes * sizeof(int));
    if (!f.head || !f.level || !f.it || !f.queue) {
        rc = EC_ENOMEM;
        goto done;
    }
    for (int i = 0; i < f.n_nodes; i++) f.head[i] = -1;
    double per_h = (double)o->period_s / 3600.0;
    for (size_t i = 0; i < n && !rc; i++) {
        double max = ss[i].max_w;
        if (o->evse_max_w > 0 && o->evse_max_w < max) max = o->evse_max_w;
        rc = add_arc(&f, src, (int)i, ss[i].requested_wh);
        for (int64_t t = (ss[i].arrival_s - t0) / o->period_s; !rc && t0 + t * o->period_s < ss[i].departure_s; t++)
            rc = add_arc(&f, (int)i, (int)(n + (size_t)t), max * per_h);
    }
    int first_sink_arc = f.n_arcs;
    for (int64_t t = 0; t < periods && !rc; t++) rc = add_arc(&f, (int)(n + (size_t)t), sink, o->capacity_w * per_h);
    if (rc) goto done;
    while (bfs(&f, src, sink)) {
        memcpy(f.it, f.head, (size_t)f.n_nodes * sizeof(int));
        double got;
        while ((got = dfs(&f, src, sink, DBL_MAX)) > EPS) r->delivered_wh += got;
    }
    for (int e = first_sink_arc; e < f.n_arcs; e += 2) {
        double w = f.arcs[e + 1].cap / per_h; /* the flow into the sink this period, as power */
        if (w > r->peak_w) r->peak_w = w;
    }
    r->steps = periods;
    r->delivered_pct = r->requested_wh > 0 ? 100.0 * r->delivered_wh / r->requested_wh : 100.0;
    r->cost = r->delivered_wh / 1000.0 * o->price_per_kwh;
done:
    ec_free(f.arcs);
    ec_free(f.next);
    ec_free(f.head);
    ec_free(f.level);
    ec_free(f.it);
    ec_free(f.queue);
    return rc;
}
