/* plan_util.c - small pieces every part of planning shares. */
#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <string.h>

double ec_plan_annuity(double capex, double rate, int years)
{
    if (years <= 0) return capex;
    if (rate <= 0) return capex / years;
    return capex * rate / (1 - pow(1 + rate, -years));
}

void ec_plan_solution_free(ec_plan_solution_t *s)
{
    if (!s) return;
    ec_free(s->points);
    ec_free(s->points_exact);
    ec_free(s->grid_kw);
    ec_free(s->kwh_per_day);
    memset(s, 0, sizeof *s);
}
