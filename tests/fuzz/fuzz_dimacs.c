/* fuzz_dimacs.c - DIMACS .gr and .co; the input holds both, split at the first NUL. */
#include "fuzz_common.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *gr = (const char *)data, *co = NULL;
    size_t gl = size, cl = 0;
    const void *nul = memchr(data, 0, size);
    if (nul) {
        gl = (size_t)((const uint8_t *)nul - data);
        co = gr + gl + 1;
        cl = size - gl - 1;
    }
    ec_load_opts_t o = {.metric = size % 2 ? EC_METRIC_TIME : EC_METRIC_DISTANCE};
    ec_vehicle_class_builtin("truck-40t", &o.vehicle);
    ec_netbuild *nb;
    if (ec_netbuild_new(&nb)) return 0;
    if (ec_dimacs_parse("fuzz.gr", gr, gl, "fuzz.co", co, cl, &o, nb) || ec_netbuild_n_nodes(nb) > 5000) {
        ec_netbuild_free(nb);
        return 0;
    }
    fuzz_contract_and_route(nb, &o, EC_SRC_DIMACS);
    return 0;
}
