/* plan_areas_pending.c - TEMPORARY: ec_plan_areas_of for a node list only,
 * so that the model links before the jurisdictions' reader (plan_input.c,
 * another part of issue 18) lands. Delete this file when it does: that file
 * defines the same function, for polygons too. */
#include "ecorridor/ec_plan.h"

int ec_plan_areas_of(const ec_plan_areas_t *a, int64_t node, ec_latlon_t pos)
{
    (void)pos;
    for (size_t i = 0; a && i < a->n_nodes; i++)
        if (a->nodes[i] == node) return a->node_j[i];
    return -1;
}
