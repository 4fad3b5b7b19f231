/* plan_costs.c - COSTS.json: the planning's money and its defaults, each
 * default a public figure or a stated assumption (docs/plan-inputs.md). */
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* A costs file is a few hundred bytes written by hand. */
#define COSTS_FILE_MAX ((size_t)1 << 20)
/* Far above any figure of a charging network: a bigger one is a typing error. */
#define COSTS_NUMBER_MAX 1e12

/* The figures the defaults are converted from. The ECB's reference rate for
 * the US dollar, averaged over 2024: 1.0824 USD per EUR. */
#define USD_PER_EUR 1.0824
#define KM_PER_MILE 1.609344
#define USD(x) ((x) / USD_PER_EUR)
#define USD_PER_MILE(x) ((x) / USD_PER_EUR / KM_PER_MILE)

typedef enum { BOUND_ZERO_UP, BOUND_POSITIVE, BOUND_UNIT, BOUND_SHARE, BOUND_ANY } cost_bound;

/* Every number of COSTS.json, declared once: its key, where it lives, the
 * range it must lie in, and its default (docs/plan-inputs.md cites each). */
typedef struct {
    const char *key;
    size_t off;
    cost_bound bound;
    double def;
} cost_field;

#define F(k, b, d) {#k, offsetof(ec_plan_costs_t, k), b, d}
static const cost_field cost_fields[] = {
    F(mcs_point_capex, BOUND_ZERO_UP, 400000.0),                   /* assumption, bracketed in the docs */
    F(ccs_point_capex, BOUND_ZERO_UP, USD(87500.0 + 33179.0)),     /* tco_mit charger baseline */
    F(mcs_point_kw, BOUND_POSITIVE, 1000.0),                       /* the 1 MW MCS points being built */
    F(ccs_point_kw, BOUND_POSITIVE, 400.0),                        /* AFIR: >= 350 kW points */
    F(grid_capex_per_kw, BOUND_ZERO_UP, 80.41),                    /* a 20 kV Baukostenzuschuss, EUR/kVA */
    F(site_fixed_capex, BOUND_ZERO_UP, 500000.0),                  /* assumption */
    F(point_opex_per_year, BOUND_ZERO_UP, USD(60.0 * 12)),         /* tco_mit fixed monthly cost */
    F(site_opex_per_year, BOUND_ZERO_UP, 10000.0),                 /* assumption */
    F(energy_price_per_kwh, BOUND_ZERO_UP, USD((0.10 + 0.15) / 2)), /* tco_mit energy charge, mid */
    F(demand_charge_per_kw_month, BOUND_ZERO_UP, USD((6.0 + 20.0) / 2)), /* tco_mit demand charge, mid */
    F(discount_rate, BOUND_UNIT, 0.07),                            /* tco_mit economy params */
    F(point_max_utilisation, BOUND_SHARE, 0.25),                   /* measured on the twin: docs/plan-inputs.md */
    F(weight_rail, BOUND_ZERO_UP, 1000.0),                         /* assumption: a tie-breaker */
    F(weight_logistics, BOUND_ZERO_UP, 1000.0),
    F(weight_renewable, BOUND_ZERO_UP, 500.0),
    F(proximity_km, BOUND_POSITIVE, 10.0),
    F(truck_km_per_year, BOUND_POSITIVE, 108000.0 * KM_PER_MILE),   /* tco_mit default VMT, year 1 */
    F(diesel_price_per_l, BOUND_ZERO_UP, 1.649 / 1.19),             /* ADAC 2024 mean, less 19 % VAT */
    F(diesel_l_per_km, BOUND_ZERO_UP, EC_TWIN_DIESEL_L_PER_KM),
    /* tco_mit class 8 day cab: glider, engine at 425 kW, transmission,
     * fuel tank, aftertreatment, waste heat recovery */
    F(diesel_truck_capex, BOUND_ZERO_UP, USD(95000.0 + 34.62 * 425.0 + 10250.0 + 2100.0 + 5782.0 + 5900.0)),
    F(bev_glider_capex, BOUND_ZERO_UP, USD(95000.0)),
    F(battery_capex_per_kwh, BOUND_ZERO_UP, USD(100.0)), /* LFP */
    F(motor_capex_per_kw, BOUND_ZERO_UP, USD(77.0)),     /* motor and inverter */
    F(bev_motor_kw, BOUND_POSITIVE, 425.0),              /* tco_mit truck params: max motor power */
    F(diesel_maintenance_per_km, BOUND_ZERO_UP, USD_PER_MILE(0.14)),
    F(bev_maintenance_per_km, BOUND_ZERO_UP, USD_PER_MILE(0.14)),
    F(diesel_insurance_per_km, BOUND_ZERO_UP, USD_PER_MILE(0.07)),
    F(bev_insurance_per_km, BOUND_ZERO_UP, USD_PER_MILE(0.198)),
    F(charging_price_per_kwh, BOUND_ANY, -1.0), /* < 0: the simulated day's price */
};
#undef F
#define N_COST_FIELDS (sizeof cost_fields / sizeof cost_fields[0])
#define COSTS_DEFAULT_MAX_POINTS 12 /* assumption: three AFIR 2030 pools' worth of MCS points */
#define COSTS_MAX_POINTS 1000

void ec_plan_costs_default(ec_plan_costs_t *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->currency, "EUR", 4);
    for (size_t i = 0; i < N_COST_FIELDS; i++)
        *(double *)((char *)out + cost_fields[i].off) = cost_fields[i].def;
    out->max_points_per_site = COSTS_DEFAULT_MAX_POINTS;
}

static ec_err costs__number(const char *name, const cost_field *f, const ec_json *v, double *out)
{
    ec_json_type t = ec_json_typeof(v);
    if (t != EC_JSON_INTEGER && t != EC_JSON_REAL)
        return ec_fail(EC_EPARSE, "%s: %s: expected a number, found %s", name, f->key, ec_json_type_name(t));
    double x;
    ec_json_number(v, &x);
    if (!isfinite(x) || fabs(x) > COSTS_NUMBER_MAX)
        return ec_fail(EC_ERANGE, "%s: %s: %g is beyond %g", name, f->key, x, COSTS_NUMBER_MAX);
    switch (f->bound) {
    case BOUND_ANY:
        break;
    case BOUND_ZERO_UP:
        if (x < 0) return ec_fail(EC_ERANGE, "%s: %s: %g is negative", name, f->key, x);
        break;
    case BOUND_POSITIVE:
        if (x < 0) return ec_fail(EC_ERANGE, "%s: %s: %g is negative", name, f->key, x);
        if (x == 0) return ec_fail(EC_ERANGE, "%s: %s: must be above 0", name, f->key);
        break;
    case BOUND_UNIT:
        if (x < 0) return ec_fail(EC_ERANGE, "%s: %s: %g is negative", name, f->key, x);
        if (x >= 1) return ec_fail(EC_ERANGE, "%s: %s: %g is outside [0, 1) (a fraction: 0.07 for 7 %%)", name, f->key, x);
        break;
    case BOUND_SHARE:
        if (x < 0) return ec_fail(EC_ERANGE, "%s: %s: %g is negative", name, f->key, x);
        if (!(x > 0 && x <= 1))
            return ec_fail(EC_ERANGE, "%s: %s: %g is outside (0, 1] (a share of the day)", name, f->key, x);
        break;
    }
    *out = x;
    return EC_OK;
}

static ec_err costs__currency(const char *name, const ec_json *v, char out[4])
{
    const char *s = ec_json_str(v);
    if (!s)
        return ec_fail(EC_EPARSE, "%s: currency: expected a string, found %s", name,
                       ec_json_type_name(ec_json_typeof(v)));
    if (strlen(s) != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] < 'A' || s[2] > 'Z')
        return ec_fail(EC_EPARSE, "%s: currency: \"%.20s\" is not three upper-case letters (ISO 4217: \"EUR\")", name,
                       s);
    memcpy(out, s, 4);
    return EC_OK;
}

static ec_err costs__max_points(const char *name, const ec_json *v, int *out)
{
    ec_json_type t = ec_json_typeof(v);
    double x = 0;
    if (t == EC_JSON_INTEGER || t == EC_JSON_REAL) ec_json_number(v, &x);
    if (t != EC_JSON_INTEGER || x < 1 || x > COSTS_MAX_POINTS)
        return ec_fail(EC_ERANGE, "%s: max_points_per_site: expected a whole number from 1 to %d", name,
                       COSTS_MAX_POINTS);
    *out = (int)x;
    return EC_OK;
}

static ec_err costs__key(const char *name, const char *key, const ec_json *v, ec_plan_costs_t *c)
{
    if (!strcmp(key, "currency")) return costs__currency(name, v, c->currency);
    if (!strcmp(key, "max_points_per_site")) return costs__max_points(name, v, &c->max_points_per_site);
    for (size_t i = 0; i < N_COST_FIELDS; i++)
        if (!strcmp(key, cost_fields[i].key))
            return costs__number(name, &cost_fields[i], v, (double *)((char *)c + cost_fields[i].off));
    return ec_fail(EC_EPARSE, "%s: unknown key \"%.60s\" (docs/plan-inputs.md lists the keys)", name, key);
}

ec_err ec_plan_costs_parse(const char *name, const char *text, size_t len, ec_plan_costs_t *out)
{
    if (len > COSTS_FILE_MAX) return ec_fail(EC_ELIMIT, "%s: larger than the %zu bytes accepted", name, COSTS_FILE_MAX);
    ec_json *doc;
    ec_err rc = ec_json_load_buf(text, len, name, &doc);
    if (rc) return rc;
    ec_plan_costs_t c;
    ec_plan_costs_default(&c);
    if (!ec_json_is_object(doc)) {
        rc = ec_fail(EC_EPARSE, "%s: expected an object of costs, found %s", name,
                     ec_json_type_name(ec_json_typeof(doc)));
        goto done;
    }
    void *it = NULL;
    const char *key;
    ec_json *v;
    while (ec_json_object_next(doc, &it, &key, &v))
        if ((rc = costs__key(name, key, v, &c))) goto done;
    *out = c;
done:
    ec_json_free(doc);
    return rc;
}

ec_err ec_plan_costs_load(const char *path, ec_plan_costs_t *out)
{
    char *text;
    size_t len;
    ec_err rc = ec_read_file(path, COSTS_FILE_MAX, &text, &len);
    if (rc) return rc;
    rc = ec_plan_costs_parse(path, text, len, out);
    ec_free(text);
    return rc;
}
