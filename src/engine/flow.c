/* flow.c - Dinic's maximum flow: breadth-first levels, then augmenting
 * paths along them. The graphs here are four layers deep (source, sessions,
 * periods, sink), so the recursion is shallow. */
#include "flow.h"

#include <float.h>
#include <string.h>

#define EPS 1e-9

ec_err flow__reset(flow_t *f, int n)
{
    if (n > f->cap_nodes) {
        int *p[4] = {f->head, f->level, f->it, f->queue};
        for (int i = 0; i < 4; i++) {
            int *q = ec_realloc(p[i], (size_t)n * sizeof(int));
            if (!q) return EC_ENOMEM;
            p[i] = q;
        }
        f->head = p[0], f->level = p[1], f->it = p[2], f->queue = p[3];
        f->cap_nodes = n;
    }
    f->n_nodes = n;
    f->n_arcs = 0;
    for (int i = 0; i < n; i++) f->head[i] = -1;
    return EC_OK;
}

ec_err flow__arc(flow_t *f, int u, int v, double cap, int *arc)
{
    if (f->n_arcs + 2 > f->cap_arcs) {
        int cap2 = f->cap_arcs ? f->cap_arcs * 2 : 1024;
        flow_arc_t *a = ec_realloc(f->arcs, (size_t)cap2 * sizeof *a);
        if (!a) return EC_ENOMEM;
        f->arcs = a;
        int *nx = ec_realloc(f->next, (size_t)cap2 * sizeof *nx);
        if (!nx) return EC_ENOMEM;
        f->next = nx;
        f->cap_arcs = cap2;
    }
    int e = f->n_arcs;
    f->arcs[e] = (flow_arc_t){v, cap};
    f->next[e] = f->head[u];
    f->head[u] = e;
    f->arcs[e + 1] = (flow_arc_t){u, 0};
    f->next[e + 1] = f->head[v];
    f->head[v] = e + 1;
    f->n_arcs += 2;
    if (arc) *arc = e;
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

static double dfs(flow_t *f, int u, int t, double pushed)
{
    if (u == t) return pushed;
    for (int *e = &f->it[u]; *e >= 0; *e = f->next[*e]) {
        flow_arc_t *a = &f->arcs[*e];
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

double flow__max(flow_t *f, int s, int t)
{
    double total = 0;
    while (bfs(f, s, t)) {
        memcpy(f->it, f->head, (size_t)f->n_nodes * sizeof(int));
        double got;
        while ((got = dfs(f, s, t, DBL_MAX)) > EPS) total += got;
    }
    return total;
}

void flow__free(flow_t *f)
{
    ec_free(f->arcs);
    ec_free(f->next);
    ec_free(f->head);
    ec_free(f->level);
    ec_free(f->it);
    ec_free(f->queue);
    memset(f, 0, sizeof *f);
}
