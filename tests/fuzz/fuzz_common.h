/* fuzz_common.h - what the loader fuzz targets do with a graph that loaded:
 * contract it and route across it, so the hierarchy sees fuzzed graphs too. */
#ifndef EC_FUZZ_COMMON_H
#define EC_FUZZ_COMMON_H

#include "ecorridor/ec_graph.h"

static inline void fuzz_contract_and_route(ec_netbuild *nb, const ec_load_opts_t *o,
                                           ec_source_kind kind)
{
    ec_graph *g;
    if (ec_netbuild_finish(nb, o->metric, kind, &o->vehicle, "fuzz", &g)) return;
    ec_query *q = NULL;
    ec_path_t p;
    if (!ec_ch_build(g, NULL) && !ec_query_new(g, EC_ALGO_CH, &q))
        ec_query_route_nodes(q, 0, g->n_nodes - 1, &p);
    ec_query_free(q);
    ec_graph_free(g);
}

#endif
