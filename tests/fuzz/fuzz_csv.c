/* fuzz_csv.c - the RFC 4180 reader, directly and as a corridor's segments.csv. */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_graph.h"

#include <string.h>

static const char model[] =
    "<graphml><key id=\"x\" for=\"node\" attr.name=\"position_x\"/><key id=\"y\" for=\"node\" "
    "attr.name=\"position_y\"/><key id=\"d\" for=\"edge\" attr.name=\"distance\"/><graph>"
    "<node id=\"1\"><data key=\"x\">6.9</data><data key=\"y\">50.9</data></node>"
    "<node id=\"2\"><data key=\"x\">7.0</data><data key=\"y\">51.0</data></node>"
    "<edge source=\"1\" target=\"2\"><data key=\"d\">12</data></edge></graph></graphml>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec_csv r;
    ec_csv_init(&r, "fuzz.csv", (const char *)data, size, ',');
    size_t total = 0;
    while (ec_csv_next(&r) == EC_OK)
        for (size_t i = 0; i < r.nfields; i++) total += strlen(r.fields[i]);
    ec_csv_free(&r);
    ec_load_opts_t o = {.metric = EC_METRIC_TIME};
    ec_vehicle_class_builtin("truck-40t", &o.vehicle);
    ec_netbuild *nb;
    if (ec_netbuild_new(&nb)) return 0;
    ec_graphml_parse("m.graphml", model, sizeof model - 1, nb, &o, "fuzz.csv", (const char *)data, size);
    ec_netbuild_free(nb);
    return total == (size_t)-1;
}
