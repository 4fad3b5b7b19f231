/* fuzz_plan_areas.c - jurisdictions, GeoJSON or CSV. Areas that read are
 * asked for a few points and nodes. */
#include "ecorridor/ec_plan.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec_plan_areas_t a;
    if (ec_plan_areas_parse("fuzz/areas", (const char *)data, size, &a)) return 0;
    if (a.n_ids == 0 || a.n_ids > EC_PLAN_MAX_JURISDICTIONS) abort();
    static const ec_latlon_t pts[] = {{0, 0}, {50.9, 6.9}, {0.5, 0.5}, {-90, -180}, {90, 180}, {51.5, 7.4}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        int j = ec_plan_areas_of(&a, (int64_t)i - 2, pts[i]);
        if (j < -1 || j >= (int)a.n_ids) abort();
    }
    ec_plan_areas_free(&a);
    return 0;
}
