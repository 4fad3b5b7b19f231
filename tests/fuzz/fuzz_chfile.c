/* fuzz_chfile.c - the .ecg graph file reader; a file it accepts must be safe to query. */
#include "ecorridor/ec_graph.h"

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
    if (!ec_graph_snap_prepare(g)) {
        ec_snap_t s;
        ec_graph_snap(g, ec_graph_point(g, 0), 1000, &s);
    }
    ec_graph_free(g);
    return 0;
}
