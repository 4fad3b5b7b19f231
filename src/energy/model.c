/* model.c - energy per road piece from driving physics, and charging time from the curve. */
#include "ecorridor/ec_energy.h"

#include <math.h>
#include <string.h>

#define G 9.80665         /* m/s^2 */
#define R_AIR 287.05      /* J/(kg K), dry air */
#define P_AIR 101325.0    /* Pa, sea level */

static const char *const plug_names[EC_PLUG_COUNT] = {"MCS", "CCS2", "CCS1", "NACS", "CHADEMO",
                                                      "TYPE2"};

const char *ec_plug_name(ec_plug p)
{
    return (int)p >= 0 && p < EC_PLUG_COUNT ? plug_names[p] : NULL;
}

int ec_plug_parse(const char *s, ec_plug *out)
{
    for (int i = 0; i < EC_PLUG_COUNT; i++)
        if (strcmp(s, plug_names[i]) == 0) {
            *out = (ec_plug)i;
            return 0;
        }
    return -1;
}

ec_conditions_t ec_conditions_default(const ec_vehicle_profile *v)
{
    ec_conditions_t c = {v->default_payload_kg, EC_TEMP_REF_C};
    return c;
}

/* The energy a truck needs is the work against rolling resistance, air drag
 * and gravity at the wheel, divided by the drivetrain efficiency (or, when the
 * wheel work is negative downhill, recovered at the regeneration efficiency),
 * plus the auxiliaries over the time driven. Cold adds battery and cabin
 * losses, modelled as a share per degree below 20 C; colder air is also denser. */
static double energy_wh(const ec_vehicle_profile *v, const ec_conditions_t *c, double length_m,
                        double duration_s, double length_speed2, double rise_m)
{
    double mass = v->empty_mass_kg + c->payload_kg;
    double rho = P_AIR / (R_AIR * (c->temp_c + 273.15));
    double roll_j = mass * G * v->crr * length_m;
    double aero_j = 0.5 * rho * v->cda_m2 * length_speed2;
    double climb_j = mass * G * rise_m;
    double wheel_j = roll_j + aero_j + climb_j;
    double battery_j = wheel_j >= 0 ? wheel_j / v->drivetrain_eff : wheel_j * v->regen_eff;
    double cold = c->temp_c < EC_TEMP_REF_C ? v->temp_coeff_per_c * (EC_TEMP_REF_C - c->temp_c) : 0.0;
    double aux_j = v->aux_w * duration_s;
    if (battery_j > 0) battery_j *= 1.0 + cold;
    return (battery_j + aux_j * (1.0 + cold)) / 3600.0;
}

double ec_energy_wh(const ec_vehicle_profile *v, const ec_conditions_t *c, double length_m,
                    double duration_s, double rise_m)
{
    if (length_m <= 0) return 0.0;
    if (duration_s <= 0) duration_s = length_m / 22.0;
    double speed = length_m / duration_s;
    return energy_wh(v, c, length_m, duration_s, length_m * speed * speed, rise_m);
}

double ec_energy_route_wh(const ec_vehicle_profile *v, const ec_conditions_t *c, double length_m,
                          double duration_s, double length_speed2_sum)
{
    if (length_m <= 0) return 0.0;
    return energy_wh(v, c, length_m, duration_s, length_speed2_sum, 0.0);
}

/* The vehicle's curve at soc, linear between points. */
static double curve_w(const ec_vehicle_profile *v, double soc)
{
    if (v->n_curve == 0) return 0.0;
    if (soc <= v->curve[0].soc) return v->curve[0].power_w;
    for (int i = 1; i < v->n_curve; i++)
        if (soc <= v->curve[i].soc) {
            const ec_curve_pt_t *a = &v->curve[i - 1], *b = &v->curve[i];
            double f = (soc - a->soc) / (b->soc - a->soc);
            return a->power_w + f * (b->power_w - a->power_w);
        }
    return v->curve[v->n_curve - 1].power_w;
}

double ec_charge_power_w(const ec_vehicle_profile *v, ec_plug plug, double limit_w, double soc)
{
    if ((int)plug < 0 || plug >= EC_PLUG_COUNT) return 0.0;
    double p = curve_w(v, soc), inlet = v->plug_max_w[plug];
    if (inlet <= 0) return 0.0;
    if (p > inlet) p = inlet;
    if (limit_w > 0 && p > limit_w) p = limit_w;
    return p;
}

ec_err ec_charge_time_s(const ec_vehicle_profile *v, ec_plug plug, double limit_w,
                        double soc_from, double soc_to, double *seconds, double *grid_wh)
{
    if (!(soc_from >= 0 && soc_to <= 1.0 && soc_from <= soc_to))
        return ec_fail(EC_EINVAL, "charging from SoC %.3f to %.3f is not a charge", soc_from, soc_to);
    if ((int)plug < 0 || plug >= EC_PLUG_COUNT || v->plug_max_w[plug] <= 0)
        return ec_fail(EC_EINVAL, "%s cannot charge on %s", v->name,
                       ec_plug_name(plug) ? ec_plug_name(plug) : "an unknown plug");
    /* dt = capacity dSoC / (P(SoC) * charge_eff), integrated by the midpoint
     * rule on steps of at most 0.1 % SoC: within 0.01 % of the exact integral
     * for the piecewise-linear curves profiles use. */
    double span = soc_to - soc_from, t = 0.0;
    int steps = (int)ceil(span / 0.001);
    if (steps < 1) steps = 1;
    double h = span / steps;
    for (int i = 0; i < steps; i++) {
        double p = ec_charge_power_w(v, plug, limit_w, soc_from + (i + 0.5) * h);
        if (p <= 0) return ec_fail(EC_EINVAL, "%s accepts no power at SoC %.3f", v->name, soc_from + (i + 0.5) * h);
        t += v->battery_wh * h * 3600.0 / (p * v->charge_eff);
    }
    *seconds = t;
    if (grid_wh) *grid_wh = v->battery_wh * span / v->charge_eff;
    return EC_OK;
}

ec_err ec_charge_table_init(const ec_vehicle_profile *v, ec_plug plug, double limit_w, ec_charge_table_t *t)
{
    if ((int)plug < 0 || plug >= EC_PLUG_COUNT || v->plug_max_w[plug] <= 0)
        return ec_fail(EC_EINVAL, "%s cannot charge on %s", v->name,
                       ec_plug_name(plug) ? ec_plug_name(plug) : "an unknown plug");
    double h = 1.0 / EC_CHARGE_STEPS;
    t->t_s[0] = 0.0;
    for (int i = 0; i < EC_CHARGE_STEPS; i++) {
        double p = ec_charge_power_w(v, plug, limit_w, (i + 0.5) * h);
        t->t_s[i + 1] = p > 0 ? t->t_s[i] + v->battery_wh * h * 3600.0 / (p * v->charge_eff) : INFINITY;
    }
    t->grid_wh_per_soc = v->battery_wh / v->charge_eff;
    return EC_OK;
}

/* Time from SoC 0 to soc. */
static double table_at(const ec_charge_table_t *t, double soc)
{
    if (soc <= 0) return 0.0;
    if (soc >= 1) return t->t_s[EC_CHARGE_STEPS];
    double x = soc * EC_CHARGE_STEPS;
    int i = (int)x;
    if (i >= EC_CHARGE_STEPS) i = EC_CHARGE_STEPS - 1;
    double a = t->t_s[i], b = t->t_s[i + 1];
    if (isinf(b)) return x - i > 0 ? INFINITY : a;
    return a + (x - i) * (b - a);
}

double ec_charge_table_time_s(const ec_charge_table_t *t, double soc_from, double soc_to)
{
    if (soc_to <= soc_from) return 0.0;
    double b = table_at(t, soc_to);
    return isinf(b) ? INFINITY : b - table_at(t, soc_from);
}

double ec_charge_table_soc_after(const ec_charge_table_t *t, double soc_from, double seconds)
{
    double goal = table_at(t, soc_from) + seconds;
    if (isinf(goal)) return soc_from;
    /* The last step whose start is reached, then linear within it. */
    int lo = 0, hi = EC_CHARGE_STEPS;
    if (!(t->t_s[hi] > goal)) return 1.0;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (t->t_s[mid] <= goal) lo = mid;
        else hi = mid;
    }
    double a = t->t_s[lo], b = t->t_s[hi];
    if (isinf(b)) return (double)lo / EC_CHARGE_STEPS;
    double soc = (lo + (goal - a) / (b - a)) / EC_CHARGE_STEPS;
    return soc < soc_from ? soc_from : soc;
}
