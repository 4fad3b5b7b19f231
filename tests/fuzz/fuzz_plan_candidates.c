/* fuzz_plan_candidates.c - the planning's candidates CSV. A file that reads
 * is checked against the reader's promises. */
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ec_plan_cands_t c;
    if (ec_plan_cands_parse("fuzz/cand.csv", (const char *)data, size, &c)) return 0;
    if (c.n > EC_PLAN_MAX_CANDIDATES) abort();
    for (size_t i = 0; i < c.n; i++) {
        const ec_plan_cand_t *p = &c.c[i];
        if (!p->id[0] || strlen(p->id) >= sizeof p->id || !ec_geo_valid(p->pos)) abort();
        if (!(p->headroom_kw >= 0) || p->max_points < 0 || p->max_points > 1000) abort();
        if (p->rail_interchange_km < 0 && p->rail_interchange_km != -1) abort();
        for (size_t k = 0; k < i; k++)
            if (!strcmp(c.c[k].id, p->id)) abort();
    }
    ec_plan_cands_free(&c);
    return 0;
}
