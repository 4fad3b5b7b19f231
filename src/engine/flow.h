/* flow.h - maximum flow (Dinic's algorithm) on small capacitated graphs,
 * shared by the optimising allocation (alloc.c) and the offline optimum of a
 * replay (sim/optimal.c). Capacities are doubles (watt-hours). */
#ifndef EC_ENGINE_FLOW_H
#define EC_ENGINE_FLOW_H

#include "ecorridor/ec_base.h"

typedef struct {
    int to;
    double cap; /* residual */
} flow_arc_t;

typedef struct {
    flow_arc_t *arcs; /* arc e and its reverse e ^ 1 */
    int *next, *head, *level, *it, *queue;
    int n_nodes, n_arcs, cap_arcs, cap_nodes;
} flow_t;

/* Empties f for n nodes (keeping its memory for the next use). */
ec_err flow__reset(flow_t *f, int n);
/* Adds u -> v of capacity cap; returns its index in *arc (may be NULL). */
ec_err flow__arc(flow_t *f, int u, int v, double cap, int *arc);
/* Pushes the maximum flow from s to t on top of what flows already;
 * returns the amount added. */
double flow__max(flow_t *f, int s, int t);
/* The flow on arc a (the capacity of its reverse). */
static inline double flow__on(const flow_t *f, int a)
{
    return f->arcs[a ^ 1].cap;
}
void flow__free(flow_t *f);

#endif
