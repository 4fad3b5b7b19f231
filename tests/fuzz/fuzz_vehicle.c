/* fuzz_vehicle.c - vehicle class JSON files. */
#include "ecorridor/ec_graph.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ec_vehicle_class_t v;
    ec_vehicle_class_parse(text, "fuzz.json", &v);
    free(text);
    return 0;
}
