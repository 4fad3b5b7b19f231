/* fuzz_osm_values.c - OSM tag values: lengths, weights, speeds. */
#include "ecorridor/ec_graph.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = malloc(size + 1);
    if (!v) return 0;
    memcpy(v, data, size);
    v[size] = '\0';
    double x;
    ec_osm_parse_length_m(v, &x);
    ec_osm_parse_weight_t(v, &x);
    ec_osm_parse_speed_kmh(v, &x);
    ec_osm_class_speed_kmh(v);
    free(v);
    return 0;
}
