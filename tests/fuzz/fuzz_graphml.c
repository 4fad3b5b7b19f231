/* fuzz_graphml.c - a corridor model's GraphML; what loads must contract and route. */
#include "ecorridor/ec_graph.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec_load_opts_t o = {.metric = EC_METRIC_TIME};
    ec_vehicle_class_builtin("truck-40t", &o.vehicle);
    ec_netbuild *nb;
    if (ec_netbuild_new(&nb)) return 0;
    if (ec_graphml_parse("fuzz.graphml", (const char *)data, size, nb, &o, NULL, NULL, 0) ||
        ec_netbuild_n_arcs(nb) == 0) {
        ec_netbuild_free(nb);
        return 0;
    }
    ec_graph *g;
    if (ec_netbuild_finish(nb, o.metric, EC_SRC_CORRIDOR, &o.vehicle, "fuzz", &g)) return 0;
    ec_query *q = NULL;
    ec_path_t p;
    if (!ec_ch_build(g, NULL) && !ec_query_new(g, EC_ALGO_CH, &q))
        ec_query_route_nodes(q, 0, g->n_nodes - 1, &p);
    ec_query_free(q);
    ec_graph_free(g);
    return 0;
}
