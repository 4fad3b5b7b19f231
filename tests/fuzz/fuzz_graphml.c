/* fuzz_graphml.c - a corridor model's GraphML; what loads must contract and route. */
#include "fuzz_common.h"

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
    fuzz_contract_and_route(nb, &o, EC_SRC_CORRIDOR);
    return 0;
}
