/* profile.c - built-in vehicle profiles and profile files (JSON). */
#include "ecorridor/ec_energy.h"
#include "ecorridor/ec_json.h"

#include <string.h>

#define KW 1000.0
#define KWH 1000.0

/* Profiles made from public specifications; where a maker publishes no
 * figure (drag area, rolling resistance, efficiencies, curve shape) the value
 * is a typical one for a modern 40 t tractor-trailer, chosen so the
 * published measurements hold (docs/energy.md lists each source figure). */
static const ec_vehicle_profile builtins[] = {
    {
        .name = "eactros600",
        .vehicle_class = "truck-40t",
        .empty_mass_kg = 19000, .max_payload_kg = 21000, .default_payload_kg = 21000,
        .battery_wh = 621 * KWH, .soc_min = 0.0, .soc_max = 1.0,
        .cda_m2 = 5.2, .crr = 0.0045, .drivetrain_eff = 0.92, .regen_eff = 0.65,
        .charge_eff = 0.95, .aux_w = 2500, .temp_coeff_per_c = 0.0097,
        .plug_max_w = {[EC_PLUG_MCS] = 1000 * KW, [EC_PLUG_CCS2] = 400 * KW},
        .n_curve = 6,
        .curve = {{0.0, 600 * KW}, {0.1, 800 * KW}, {0.55, 800 * KW}, {0.8, 650 * KW},
                  {0.9, 350 * KW}, {1.0, 80 * KW}},
    },
    {
        .name = "fh-aero-electric",
        .vehicle_class = "truck-40t",
        .empty_mass_kg = 20000, .max_payload_kg = 20000, .default_payload_kg = 20000,
        .battery_wh = 780 * KWH, .soc_min = 0.0, .soc_max = 1.0,
        .cda_m2 = 5.0, .crr = 0.0045, .drivetrain_eff = 0.92, .regen_eff = 0.65,
        .charge_eff = 0.95, .aux_w = 2500, .temp_coeff_per_c = 0.0097,
        .plug_max_w = {[EC_PLUG_MCS] = 750 * KW, [EC_PLUG_CCS2] = 250 * KW},
        .n_curve = 6,
        .curve = {{0.0, 600 * KW}, {0.1, 750 * KW}, {0.6, 750 * KW}, {0.8, 600 * KW},
                  {0.9, 300 * KW}, {1.0, 80 * KW}},
    },
    {
        .name = "etgx",
        .vehicle_class = "truck-40t",
        .empty_mass_kg = 18500, .max_payload_kg = 21500, .default_payload_kg = 21500,
        .battery_wh = 480 * KWH, .soc_min = 0.0, .soc_max = 1.0,
        .cda_m2 = 5.6, .crr = 0.005, .drivetrain_eff = 0.91, .regen_eff = 0.6,
        .charge_eff = 0.95, .aux_w = 3000, .temp_coeff_per_c = 0.0097,
        .plug_max_w = {[EC_PLUG_MCS] = 750 * KW, [EC_PLUG_CCS2] = 375 * KW},
        .n_curve = 6,
        .curve = {{0.0, 500 * KW}, {0.1, 750 * KW}, {0.6, 700 * KW}, {0.8, 500 * KW},
                  {0.9, 250 * KW}, {1.0, 60 * KW}},
    },
    {
        .name = "generic-500",
        .vehicle_class = "truck-40t",
        .empty_mass_kg = 19000, .max_payload_kg = 21000, .default_payload_kg = 21000,
        .battery_wh = 500 * KWH, .soc_min = 0.0, .soc_max = 1.0,
        .cda_m2 = 5.5, .crr = 0.005, .drivetrain_eff = 0.9, .regen_eff = 0.6,
        .charge_eff = 0.94, .aux_w = 3000, .temp_coeff_per_c = 0.0097,
        .plug_max_w = {[EC_PLUG_MCS] = 750 * KW, [EC_PLUG_CCS2] = 350 * KW},
        .n_curve = 5,
        .curve = {{0.0, 400 * KW}, {0.1, 600 * KW}, {0.7, 600 * KW}, {0.85, 400 * KW},
                  {1.0, 60 * KW}},
    },
};

static const char *const builtin_names[] = {"eactros600", "fh-aero-electric", "etgx",
                                            "generic-500", NULL};

const char *const *ec_vehicle_profile_names(void)
{
    return builtin_names;
}

ec_err ec_vehicle_profile_builtin(const char *name, ec_vehicle_profile *out)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0) {
            *out = builtins[i];
            return EC_OK;
        }
    return ec_fail(EC_ENOTFOUND,
                   "unknown vehicle profile \"%s\" (built-in: eactros600, fh-aero-electric, etgx, "
                   "generic-500; or a JSON file)",
                   name);
}

/* A number field within [lo, hi], scaled into SI units. */
static ec_err num(const ec_json *j, const char *key, int required, double lo, double hi,
                  double scale, const char *src, double *out)
{
    double v = *out / scale;
    ec_err rc = ec_json_get_number(j, key, required, src, &v);
    if (rc) return rc;
    if (!(v >= lo && v <= hi))
        return ec_fail(EC_ERANGE, "%s: \"%s\" is %g, expected %g..%g", src, key, v, lo, hi);
    *out = v * scale;
    return EC_OK;
}

static ec_err read_plugs(const ec_json *plugs, const char *src, ec_vehicle_profile *v)
{
    if (!ec_json_is_object(plugs)) return ec_fail(EC_EPARSE, "%s: \"plugs\" must be an object of kW by plug", src);
    int any = 0;
    for (size_t i = 0;; i++) {
        const char *k = ec_json_key_at(plugs, i);
        if (!k) break;
        ec_plug p;
        if (ec_plug_parse(k, &p))
            return ec_fail(EC_EPARSE, "%s: unknown plug \"%s\" (MCS, CCS2, CCS1, NACS, CHADEMO, TYPE2)", src, k);
        double kw;
        if (ec_json_number(ec_json_get(plugs, k), &kw) || !(kw > 0 && kw <= 4000))
            return ec_fail(EC_ERANGE, "%s: plug %s must have 0..4000 kW", src, k);
        v->plug_max_w[p] = kw * KW;
        any = 1;
    }
    if (!any) return ec_fail(EC_EPARSE, "%s: \"plugs\" names no plug", src);
    return EC_OK;
}

static ec_err read_curve(const ec_json *c, const char *src, ec_vehicle_profile *v)
{
    size_t n = ec_json_array_size(c);
    if (!ec_json_is_array(c) || n < 2 || n > EC_CURVE_MAX)
        return ec_fail(EC_EPARSE, "%s: \"curve\" must be 2..%d [soc, kW] pairs", src, EC_CURVE_MAX);
    for (size_t i = 0; i < n; i++) {
        const ec_json *pt = ec_json_array_get(c, i);
        double soc, kw;
        if (ec_json_array_size(pt) != 2 || ec_json_number(ec_json_array_get(pt, 0), &soc) ||
            ec_json_number(ec_json_array_get(pt, 1), &kw))
            return ec_fail(EC_EPARSE, "%s: curve point %zu must be [soc, kW]", src, i + 1);
        if (!(soc >= 0 && soc <= 1) || !(kw > 0 && kw <= 4000))
            return ec_fail(EC_ERANGE, "%s: curve point %zu: soc 0..1 and 0..4000 kW expected", src, i + 1);
        if (i > 0 && soc <= v->curve[i - 1].soc)
            return ec_fail(EC_EPARSE, "%s: curve point %zu: soc must rise", src, i + 1);
        v->curve[i].soc = soc;
        v->curve[i].power_w = kw * KW;
    }
    if (v->curve[0].soc != 0.0 || v->curve[n - 1].soc != 1.0)
        return ec_fail(EC_EPARSE, "%s: \"curve\" must run from soc 0 to soc 1", src);
    v->n_curve = (int)n;
    return EC_OK;
}

ec_err ec_vehicle_profile_parse(const char *json, const char *src, ec_vehicle_profile *out)
{
    ec_json *j;
    ec_err rc = ec_json_load_str(json, src, &j);
    if (rc) return rc;
    ec_vehicle_profile v;
    memset(&v, 0, sizeof v);
    /* Defaults for what a file may leave out. */
    snprintf(v.vehicle_class, sizeof v.vehicle_class, "truck-40t");
    v.drivetrain_eff = 0.9, v.regen_eff = 0.6, v.charge_eff = 0.95, v.aux_w = 3000;
    v.temp_coeff_per_c = 0.0097, v.soc_min = 0.0, v.soc_max = 1.0;
    const char *name = NULL, *cls = NULL;
    static const char *const known[] = {
        "name", "vehicle_class", "empty_mass_kg", "max_payload_kg", "default_payload_kg",
        "battery_kwh", "soc_min", "soc_max", "cda_m2", "crr", "drivetrain_eff", "regen_eff",
        "charge_eff", "aux_kw", "temp_coeff_per_c", "plugs", "curve", NULL};
    if (!ec_json_is_object(j)) {
        rc = ec_fail(EC_EPARSE, "%s: expected a JSON object", src);
        goto done;
    }
    for (size_t i = 0; ec_json_key_at(j, i); i++) {
        const char *k = ec_json_key_at(j, i);
        int ok = 0;
        for (int q = 0; known[q]; q++) ok |= !strcmp(k, known[q]);
        if (!ok) {
            rc = ec_fail(EC_EPARSE, "%s: unknown field \"%s\"", src, k);
            goto done;
        }
    }
    if ((rc = ec_json_get_string(j, "name", 1, src, &name))) goto done;
    if (!*name || strlen(name) >= sizeof v.name) {
        rc = ec_fail(EC_ERANGE, "%s: \"name\" must have 1..63 characters", src);
        goto done;
    }
    snprintf(v.name, sizeof v.name, "%s", name);
    if ((rc = ec_json_get_string(j, "vehicle_class", 0, src, &cls))) goto done;
    if (cls) {
        if (!*cls || strlen(cls) >= sizeof v.vehicle_class) {
            rc = ec_fail(EC_ERANGE, "%s: \"vehicle_class\" must have 1..63 characters", src);
            goto done;
        }
        snprintf(v.vehicle_class, sizeof v.vehicle_class, "%s", cls);
    }
    double aux_kw_scale = KW;
    if ((rc = num(j, "empty_mass_kg", 1, 1000, 60000, 1, src, &v.empty_mass_kg)) ||
        (rc = num(j, "max_payload_kg", 1, 0, 60000, 1, src, &v.max_payload_kg)) ||
        (rc = num(j, "battery_kwh", 1, 1, 5000, KWH, src, &v.battery_wh)) ||
        (rc = num(j, "soc_min", 0, 0, 0.5, 1, src, &v.soc_min)) ||
        (rc = num(j, "soc_max", 0, 0.5, 1, 1, src, &v.soc_max)) ||
        (rc = num(j, "cda_m2", 1, 1, 20, 1, src, &v.cda_m2)) ||
        (rc = num(j, "crr", 1, 0.001, 0.03, 1, src, &v.crr)) ||
        (rc = num(j, "drivetrain_eff", 0, 0.5, 1, 1, src, &v.drivetrain_eff)) ||
        (rc = num(j, "regen_eff", 0, 0, 1, 1, src, &v.regen_eff)) ||
        (rc = num(j, "charge_eff", 0, 0.5, 1, 1, src, &v.charge_eff)) ||
        (rc = num(j, "aux_kw", 0, 0, 50, aux_kw_scale, src, &v.aux_w)) ||
        (rc = num(j, "temp_coeff_per_c", 0, 0, 0.05, 1, src, &v.temp_coeff_per_c)))
        goto done;
    v.default_payload_kg = v.max_payload_kg;
    if ((rc = num(j, "default_payload_kg", 0, 0, v.max_payload_kg, 1, src, &v.default_payload_kg)))
        goto done;
    if (v.soc_min >= v.soc_max) {
        rc = ec_fail(EC_ERANGE, "%s: soc_min must be below soc_max", src);
        goto done;
    }
    const ec_json *plugs = ec_json_get(j, "plugs"), *curve = ec_json_get(j, "curve");
    if (!plugs || !curve) {
        rc = ec_fail(EC_EPARSE, "%s: missing required field \"%s\"", src, plugs ? "curve" : "plugs");
        goto done;
    }
    if ((rc = read_plugs(plugs, src, &v)) || (rc = read_curve(curve, src, &v))) goto done;
    *out = v;
done:
    ec_json_free(j);
    return rc;
}

ec_err ec_vehicle_profile_load(const char *path, ec_vehicle_profile *out)
{
    char *text;
    ec_err rc = ec_read_file(path, 64 * 1024, &text, NULL);
    if (rc) return rc;
    rc = ec_vehicle_profile_parse(text, path, out);
    ec_free(text);
    return rc;
}

ec_err ec_vehicle_profile_resolve(const char *name_or_path, ec_vehicle_profile *out)
{
    if (ec_vehicle_profile_builtin(name_or_path, out) == EC_OK) return EC_OK;
    if (!strchr(name_or_path, '/') && !strstr(name_or_path, ".json")) return EC_ENOTFOUND;
    return ec_vehicle_profile_load(name_or_path, out);
}
