/* plan_util.c - small pieces every part of planning shares. */
#include "ecorridor/ec_alloc.h"
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <string.h>

double ec_plan_annuity(double capex, double rate, int years)
{
    if (years <= 0) return capex;
    /* 1 - (1 + r)^-n without the cancellation a tiny rate suffers; a rate too small to tell from
     * none is none */
    double d = rate > 0 ? -expm1(-years * log1p(rate)) : 0;
    if (!(d > 0)) return capex / years;
    return capex * rate / d;
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
