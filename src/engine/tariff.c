/* tariff.c - prices from OCPI tariffs, in integer money.
 *
 * OCPI prices are decimals per unit: ENERGY per kWh, TIME and PARKING_TIME
 * per hour, FLAT per session. They become ten-thousandths of the currency
 * (rounded half away from zero once, when read); every cost after that is
 * integer arithmetic, so a CDR and the settlement built from it agree to the
 * last unit. */
#include "ecorridor/ec_engine.h"

#include <math.h>
#include <string.h>

int ec_tariff_rank(const ec_tariff_scope_t *s, const char *site_id, const char *group_id)
{
    /* A tariff that names a site or a group applies there only; naming one
     * makes it more specific than the general tariff, and a group more
     * specific than a site, so a fleet's negotiated price holds at every site. */
    int rank = 1;
    if (s->site_id[0]) {
        if (!site_id || strcmp(s->site_id, site_id)) return 0;
        rank += 1;
    }
    if (s->customer_group[0]) {
        if (!group_id || strcmp(s->customer_group, group_id)) return 0;
        rank += 2;
    }
    return rank;
}

long ec_tariff_choose(const ec_tariff_scope_t *c, size_t n, const char *site_id, const char *group_id)
{
    long best = -1;
    int best_rank = 0;
    for (size_t i = 0; i < n; i++) {
        int r = ec_tariff_rank(&c[i], site_id, group_id);
        if (r > best_rank) best = (long)i, best_rank = r;
    }
    return best;
}

static ec_price_component_t *slot(ec_tariff_t *t, const char *type)
{
    if (!strcmp(type, "ENERGY")) return &t->energy;
    if (!strcmp(type, "TIME")) return &t->time;
    if (!strcmp(type, "PARKING_TIME")) return &t->parking;
    if (!strcmp(type, "FLAT")) return &t->flat;
    return NULL;
}

ec_err ec_tariff_from_json(const ec_json *doc, ec_tariff_t *out)
{
    memset(out, 0, sizeof *out);
    const char *s = NULL;
    ec_err rc;
    if ((rc = ec_json_get_string(doc, "id", 0, "tariff", &s))) return rc;
    snprintf(out->id, sizeof out->id, "%s", s ? s : "");
    s = NULL;
    if ((rc = ec_json_get_string(doc, "currency", 1, "tariff", &s))) return rc;
    snprintf(out->currency, sizeof out->currency, "%s", s);
    double grace = 0;
    if ((rc = ec_json_get_number(doc, "idle_grace_min", 0, "tariff", &grace))) return rc;
    out->idle_grace_s = (int64_t)grace * 60;
    ec_json *els = ec_json_get(doc, "elements");
    for (size_t i = 0; i < ec_json_array_size(els); i++) {
        ec_json *pcs = ec_json_get(ec_json_array_get(els, i), "price_components");
        for (size_t j = 0; j < ec_json_array_size(pcs); j++) {
            ec_json *pc = ec_json_array_get(pcs, j);
            const char *type = NULL;
            double price = 0, vat = 0, step = 1;
            if ((rc = ec_json_get_string(pc, "type", 1, "tariff price component", &type)) ||
                (rc = ec_json_get_number(pc, "price", 1, "tariff price component", &price)) ||
                (rc = ec_json_get_number(pc, "vat", 0, "tariff price component", &vat)) ||
                (rc = ec_json_get_number(pc, "step_size", 0, "tariff price component", &step)))
                return rc;
            ec_price_component_t *c = slot(out, type);
            if (!c || c->present) continue; /* the first element with a type applies */
            if (price < 0 || price > 1e6 || vat < 0 || vat > 100 || step < 1 || step > 1e6)
                return ec_fail(EC_ERANGE, "tariff %s: a %s price component is out of range", out->id, type);
            c->present = 1;
            c->price = llround(price * EC_MONEY_UNIT);
            c->vat_bp = llround(vat * 100);
            c->step = (int64_t)step;
        }
    }
    return EC_OK;
}

/* The product of two amounts needs 128 bits before it is divided; gcc and
 * clang have them, and __extension__ says we know ISO C does not. */
__extension__ typedef __int128 tariff_i128;

/* round(a * b / d) for non-negative operands, half up. */
static int64_t mul_div(int64_t a, int64_t b, int64_t d)
{
    tariff_i128 p = (tariff_i128)a * b;
    return (int64_t)((p + d / 2) / d);
}

static int64_t billed(int64_t amount, int64_t step)
{
    if (amount <= 0) return 0;
    if (step <= 1) return amount;
    return (amount + step - 1) / step * step;
}

void ec_tariff_cost(const ec_tariff_t *t, int64_t energy_wh, int64_t charging_s, int64_t idle_s,
                    ec_cost_t *out)
{
    memset(out, 0, sizeof *out);
    if (!t) return;
    int64_t idle = idle_s - t->idle_grace_s;
    if (t->energy.present) out->energy = mul_div(billed(energy_wh, t->energy.step), t->energy.price, 1000);
    if (t->time.present) out->time = mul_div(billed(charging_s, t->time.step), t->time.price, 3600);
    if (t->parking.present && idle > 0)
        out->parking = mul_div(billed(idle, t->parking.step), t->parking.price, 3600);
    if (t->flat.present) out->flat = t->flat.price;
    out->vat = mul_div(out->energy, t->energy.vat_bp, 10000) + mul_div(out->time, t->time.vat_bp, 10000) +
               mul_div(out->parking, t->parking.vat_bp, 10000) + mul_div(out->flat, t->flat.vat_bp, 10000);
    out->excl_vat = out->energy + out->time + out->parking + out->flat;
    out->incl_vat = out->excl_vat + out->vat;
}

double ec_congestion_price(double load_share, double threshold, double max_price)
{
    if (max_price <= 0 || !(load_share > threshold)) return 0;
    double x = threshold < 1 ? (load_share - threshold) / (1 - threshold) : 1;
    return max_price * (x > 1 ? 1 : x);
}

ec_err ec_tariff_fix_dynamic(ec_json *tariff, double price_per_kwh, int *fixed)
{
    *fixed = 0;
    int dyn = 0;
    ec_err rc = ec_json_get_bool(tariff, "dynamic", 0, "tariff", &dyn);
    if (rc || !dyn) return rc;
    if (!isfinite(price_per_kwh)) return ec_fail(EC_EINVAL, "the dynamic price is not a number");
    ec_json *els = ec_json_get(tariff, "elements");
    for (size_t i = 0; i < ec_json_array_size(els); i++) {
        ec_json *pcs = ec_json_get(ec_json_array_get(els, i), "price_components");
        for (size_t j = 0; j < ec_json_array_size(pcs); j++) {
            ec_json *pc = ec_json_array_get(pcs, j);
            const char *type = ec_json_str(ec_json_get(pc, "type"));
            double margin = 0;
            if (!type || strcmp(type, "ENERGY") || ec_json_number(ec_json_get(pc, "price"), &margin)) continue;
            double v = round((margin + price_per_kwh) * EC_MONEY_UNIT) / EC_MONEY_UNIT;
            if ((rc = ec_json_set_num(pc, "price", v > 0 ? v : 0))) return rc;
        }
    }
    if ((rc = ec_json_set_num(tariff, "dynamic_price_per_kwh", round(price_per_kwh * EC_MONEY_UNIT) / EC_MONEY_UNIT))) return rc;
    *fixed = 1;
    return EC_OK;
}
