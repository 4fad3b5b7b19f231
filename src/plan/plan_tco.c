/* plan_tco.c - total cost of ownership per km, an electric truck against a
 * diesel one doing the same km (docs/plan-economics.md). */
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdio.h>

#define YEARS_MAX 100
#define TCO_SPEED_MS (80.0 / 3.6) /* the level-road speed the energy per km is taken at */

/* Grid energy per km (kWh): the driving energy on a level kilometre at
 * 80 km/h with the default payload at temp_c, over the charging efficiency. */
static double grid_kwh_per_km(const ec_vehicle_profile *v, double temp_c)
{
    ec_conditions_t cond = ec_conditions_default(v);
    cond.temp_c = temp_c;
    double length_m = 1000.0, t_s = length_m / TCO_SPEED_MS;
    double wh = ec_energy_route_wh(v, &cond, length_m, t_s, length_m * TCO_SPEED_MS * TCO_SPEED_MS);
    return wh / 1000.0 / v->charge_eff;
}

static ec_err check(const ec_plan_costs_t *c, const ec_vehicle_profile *v, int years, double temp_c,
                    double price, double grid_g_per_kwh)
{
    if (years < 1 || years > YEARS_MAX)
        return ec_fail(EC_EINVAL, "tco: years %d: must be 1..%d", years, YEARS_MAX);
    if (!(c->truck_km_per_year > 0))
        return ec_fail(EC_EINVAL, "tco: costs: truck_km_per_year: must be > 0");
    if (!(c->discount_rate >= 0 && c->discount_rate < 1))
        return ec_fail(EC_EINVAL, "tco: costs: discount_rate: must be in [0, 1)");
    if (!(c->bev_motor_kw > 0)) return ec_fail(EC_EINVAL, "tco: costs: bev_motor_kw: must be > 0");
    if (!(v->charge_eff > 0 && v->charge_eff <= 1))
        return ec_fail(EC_EINVAL, "tco: vehicle %s: charge_eff: must be in (0, 1]", v->name);
    if (!isfinite(temp_c) || temp_c < -60 || temp_c > 60)
        return ec_fail(EC_EINVAL, "tco: temperature %g C: must be -60..60", temp_c);
    if (!(price >= 0) || !isfinite(price))
        return ec_fail(EC_EINVAL,
                       "tco: no charging price: costs: charging_price_per_kwh is unset (< 0) "
                       "and no simulated price was given");
    if (!(grid_g_per_kwh >= 0) || !isfinite(grid_g_per_kwh))
        return ec_fail(EC_EINVAL, "tco: grid_g_per_kwh %g: must be >= 0", grid_g_per_kwh);
    return EC_OK;
}

ec_err ec_plan_tco(const ec_plan_costs_t *c, const ec_vehicle_profile *v, int years, double temp_c,
                   double charging_price_per_kwh, double grid_g_per_kwh, ec_plan_tco_t *out)
{
    if (!c || !v || !out) return ec_fail(EC_EINVAL, "tco: no costs, vehicle or output");
    double price =
        c->charging_price_per_kwh >= 0 ? c->charging_price_per_kwh : charging_price_per_kwh;
    ec_err rc = check(c, v, years, temp_c, price, grid_g_per_kwh);
    if (rc) return rc;

    /* With the same km and prices every year, the present value of the
     * costs over the present value of the km is the capex's annuity plus
     * the running costs of a year, over the km of a year. */
    double km = c->truck_km_per_year, kwh_per_km = grid_kwh_per_km(v, temp_c);
    double bev_capex = c->bev_glider_capex + c->battery_capex_per_kwh * (v->battery_wh / 1000.0) +
                       c->motor_capex_per_kw * c->bev_motor_kw;
    double bev_year =
        ec_plan_annuity(bev_capex, c->discount_rate, years) +
        km * (kwh_per_km * price + c->bev_maintenance_per_km + c->bev_insurance_per_km);
    double diesel_year = ec_plan_annuity(c->diesel_truck_capex, c->discount_rate, years) +
                         km * (c->diesel_l_per_km * c->diesel_price_per_l +
                               c->diesel_maintenance_per_km + c->diesel_insurance_per_km);
    double diesel_t = km * c->diesel_l_per_km * EC_TWIN_DIESEL_TTW_KG_PER_L / 1000.0;
    double grid_t = km * kwh_per_km * grid_g_per_kwh / 1e6;

    ec_plan_tco_t r = {0};
    snprintf(r.vehicle, sizeof r.vehicle, "%s", v->name);
    r.years = years;
    r.bev_cost_per_km = bev_year / km;
    r.diesel_cost_per_km = diesel_year / km;
    r.co2_t_per_year = diesel_t - grid_t;
    *out = r;
    return EC_OK;
}
