/* fuzz_chfile.c - the .ecg graph file reader; a file it accepts must be safe to query. */
#include "ecorridor/ec_graph.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec_graph *g;
    if (ec_graph_open_mem(data, size, "fuzz.ecg", &g)) return 0;
    ec_query *q;
    if (!ec_query_new(g, EC_ALGO_CH, &q)) {
        ec_path_t p;
        uint32_t n = g->n_nodes, all[3] = {0, n / 2, n - 1}, m[9];
        for (uint32_t s = 0; s < n && s < 8; s++) ec_query_route_nodes(q, s, n - 1 - s, &p);
        ec_query_many_to_many(q, all, 3, all, 3, m);
        ec_query_free(q);
    }
    /* Every road name and rest area an accepted file gives must be readable. */
    size_t total = 0;
    for (uint32_t a = 0; a < g->n_arcs; a++) {
        const char *ref, *name;
        ec_graph_arc_road(g, a, &ref, &name);
        total += strlen(ref) + strlen(name);
    }
    ec_latlon_t at;
    const char *rname, *kind;
    if (ec_graph_rest_area(g, ec_graph_point(g, 0), 1e7, &at, &rname, &kind) == 0) total += strlen(rname);
    (void)total;
    if (!ec_graph_snap_prepare(g)) {
        ec_snap_t s;
        ec_graph_snap(g, ec_graph_point(g, 0), 1000, &s);
    }
    ec_graph_free(g);
    return 0;
}
