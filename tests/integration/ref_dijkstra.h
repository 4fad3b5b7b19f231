/* ref_dijkstra.h - an independent truth for routes: the edges `ecorridor graph
 * export` wrote, read from its CSV files and searched by a Dijkstra of this
 * test's own, compared with what ec_graph_snap and ec_query_route answer. */
#ifndef REF_DIJKSTRA_H
#define REF_DIJKSTRA_H

#include "ecorridor/ec_graph.h"

typedef struct {
    uint32_t n, m;
    double *lat, *lon;    /* [n], as nodes.csv gives them */
    int *unique;          /* [n]: no other node has the same coordinates */
    uint32_t *first;      /* [n + 1] */
    uint32_t *to, *w;     /* [m]: head and weight (ms or cm, as the graph's metric) */
    uint32_t *efrom;      /* [m]: tail */
    /* search state */
    double *dist;
    uint32_t *stamp, cur;
    struct ref_item *heap;
    size_t heap_n, heap_cap;
} ref_graph;

typedef struct {
    int given;
    ec_latlon_t from, to;
    double seconds;
} ref_case;

/* Reads DIR/nodes.csv and DIR/edges.csv; time_metric picks duration_s over length_m. */
int ref_load(ref_graph *r, const char *dir, int time_metric);
void ref_free(ref_graph *r);
/* Checks pairs node-exact point pairs, pairs/4 part-way pairs and the case;
 * prints each failure; returns the number of failures. */
int ref_check(ref_graph *r, const ec_graph *g, ec_query *ch, ec_query *dj, int pairs,
              const ref_case *kase, uint32_t (*rnd)(uint32_t));

#endif
