/* vehicle.c - vehicle classes: the dimensions that decide which roads are legal. */
#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_json.h"

#include <math.h>
#include <string.h>

/* Built-in classes. Dimensions are the EU maxima for a 5-axle articulated
 * truck (Directive 96/53/EC: 4.0 m high, 2.55 m wide, 16.5 m long, 40 t,
 * 11.5 t drive axle); heavy trucks are limited to 80 km/h on most EU roads. */
static const ec_vehicle_class_t builtins[] = {
    {"truck-40t", 4.0, 2.55, 16.5, 40.0, 11.5, 0, 80.0, 0},
    {"truck-40t-hazmat", 4.0, 2.55, 16.5, 40.0, 11.5, 1, 80.0, 0},
    {"truck-18t", 3.6, 2.55, 10.0, 18.0, 11.5, 0, 80.0, 0},
    /* Every drivable road, access tags ignored: the reading the reference
     * distances in ../shared/data use, and a baseline for comparisons. */
    {"unrestricted", 0, 0, 0, 0, 0, 0, 130.0, 1},
};

static const char *const builtin_names[] = {"truck-40t", "truck-40t-hazmat", "truck-18t",
                                            "unrestricted", NULL};

const char *const *ec_vehicle_class_names(void)
{
    return builtin_names;
}

ec_err ec_vehicle_class_builtin(const char *name, ec_vehicle_class_t *out)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0) {
            *out = builtins[i];
            return EC_OK;
        }
    return ec_fail(EC_ENOTFOUND, "no built-in vehicle class \"%s\"", name);
}

/* Reads a number field bounded to [lo, hi]. */
static ec_err field(const ec_json *j, const char *key, double lo, double hi, const char *path,
                    double *out)
{
    ec_err rc = ec_json_get_number(j, key, 0, path, out);
    if (rc) return rc;
    if (!(*out >= lo && *out <= hi))
        return ec_fail(EC_ERANGE, "%s: \"%s\" is %g, expected %g..%g", path, key, *out, lo, hi);
    return EC_OK;
}

ec_err ec_vehicle_class_load(const char *path, ec_vehicle_class_t *out)
{
    char *text;
    ec_err rc = ec_read_file(path, 64 * 1024, &text, NULL);
    if (rc) return rc;
    rc = ec_vehicle_class_parse(text, path, out);
    ec_free(text);
    return rc;
}

ec_err ec_vehicle_class_parse(const char *text, const char *path, ec_vehicle_class_t *out)
{
    ec_json *j = NULL;
    ec_err rc = ec_json_load_str(text, path, &j);
    if (rc) return rc;
    ec_vehicle_class_t v;
    memset(&v, 0, sizeof v);
    v.max_speed_kmh = 80.0;
    const char *name = NULL;
    if (!ec_json_is_object(j)) {
        rc = ec_fail(EC_EPARSE, "%s: expected a JSON object", path);
        goto done;
    }
    if ((rc = ec_json_get_string(j, "name", 1, path, &name))) goto done;
    if (strlen(name) == 0 || strlen(name) >= sizeof v.name) {
        rc = ec_fail(EC_ERANGE, "%s: \"name\" must have 1..%zu characters", path,
                     sizeof v.name - 1);
        goto done;
    }
    snprintf(v.name, sizeof v.name, "%s", name);
    if ((rc = field(j, "height_m", 0, 10, path, &v.height_m)) ||
        (rc = field(j, "width_m", 0, 10, path, &v.width_m)) ||
        (rc = field(j, "length_m", 0, 60, path, &v.length_m)) ||
        (rc = field(j, "weight_t", 0, 200, path, &v.weight_t)) ||
        (rc = field(j, "axle_load_t", 0, 50, path, &v.axle_load_t)) ||
        (rc = field(j, "max_speed_kmh", 5, 200, path, &v.max_speed_kmh)))
        goto done;
    if ((rc = ec_json_get_bool(j, "hazmat", 0, path, &v.hazmat))) goto done;
    if ((rc = ec_json_get_bool(j, "ignore_access", 0, path, &v.ignore_access))) goto done;
    for (size_t i = 0;; i++) {
        const char *k = ec_json_key_at(j, i);
        if (!k) break;
        static const char *const known[] = {"name", "height_m", "width_m", "length_m",
                                            "weight_t", "axle_load_t", "max_speed_kmh",
                                            "hazmat", "ignore_access", NULL};
        int ok = 0;
        for (int q = 0; known[q]; q++) ok |= strcmp(k, known[q]) == 0;
        if (!ok) {
            rc = ec_fail(EC_EPARSE, "%s: unknown field \"%s\"", path, k);
            goto done;
        }
    }
    *out = v;
done:
    ec_json_free(j);
    return rc;
}

ec_err ec_vehicle_class_resolve(const char *name_or_path, ec_vehicle_class_t *out)
{
    if (ec_vehicle_class_builtin(name_or_path, out) == EC_OK) return EC_OK;
    if (!strchr(name_or_path, '/') && !strstr(name_or_path, ".json"))
        return ec_fail(EC_ENOTFOUND,
                       "unknown vehicle class \"%s\" (built-in: truck-40t, truck-40t-hazmat, "
                       "truck-18t, unrestricted; or a JSON file)",
                       name_or_path);
    return ec_vehicle_class_load(name_or_path, out);
}
