/* fuzz_plan_costs.c - COSTS.json. Costs that read hold their ranges. */
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec_plan_costs_t c;
    if (ec_plan_costs_parse("fuzz/costs.json", (const char *)data, size, &c)) return 0;
    if (strlen(c.currency) != 3) abort();
    if (!(c.discount_rate >= 0 && c.discount_rate <= 1)) abort();
    if (!(c.point_max_utilisation > 0 && c.point_max_utilisation <= 1)) abort();
    if (c.max_points_per_site < 1 || c.max_points_per_site > 1000) abort();
    if (!(c.mcs_point_capex >= 0 && c.grid_capex_per_kw >= 0 && c.proximity_km > 0)) abort();
    if (!isfinite(ec_plan_annuity(c.mcs_point_capex, c.discount_rate, 20))) abort();
    return 0;
}
