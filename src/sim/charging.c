/* charging.c - what a replay reads besides a sessions CSV: the ACN event
 * queue, gzip files, and the series of prices and of the others' load. */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The whole of a gzip file (at most EC_SIM_MAX_FILE bytes unpacked). */
static ec_err gunzip(const char *path, ec_buf *out)
{
    gzFile f = gzopen(path, "rb");
    if (!f) return ec_fail(EC_EIO, "%s: cannot open", path);
    char chunk[65536];
    int n;
    ec_err rc = EC_OK;
    while (!rc && (n = gzread(f, chunk, sizeof chunk)) > 0)
        if (ec_buf_append(out, chunk, (size_t)n)) rc = ec_fail(EC_ELIMIT, "%s: larger than %u bytes unpacked", path, EC_SIM_MAX_FILE);
    int err = 0;
    if (!rc && n < 0) rc = ec_fail(EC_EPARSE, "%s: not a readable gzip file: %s", path, gzerror(f, &err));
    gzclose(f);
    return rc;
}

/* An acnportal EventQueue as acnportal serialises it: {"id": ..., "context_dict":
 * {id: {"class": ..., "attributes": {...}}}}, objects naming each other by
 * id. Every acnsim EV in it is one session: _arrival, _departure,
 * _estimated_departure (periods), _requested_energy (kWh), _station_id,
 * _session_id, and its _battery's _max_power (kW). */
static ec_err acn_events(const char *path, const ec_json *root, int64_t period_s, ec_vec *out)
{
    ec_json *ctx = ec_json_get(root, "context_dict");
    if (!ec_json_is_object(ctx)) return ec_fail(EC_EPARSE, "%s: not an acnportal event queue (no \"context_dict\")", path);
    void *it = NULL;
    const char *key;
    ec_json *obj;
    while (ec_json_object_next(ctx, &it, &key, &obj)) {
        const char *cls = ec_json_str(ec_json_get(obj, "class"));
        size_t cl = cls ? strlen(cls) : 0;
        if (cl < 6 || strcmp(cls + cl - 6, ".ev.EV")) continue;
        ec_json *at = ec_json_get(obj, "attributes");
        if (out->len >= EC_SIM_MAX_SESSIONS) return ec_fail(EC_ELIMIT, "%s: more than %d sessions", path, EC_SIM_MAX_SESSIONS);
        double a = -1, d = -1, e = -1, kwh = -1, kw = -1;
        ec_json_number(ec_json_get(at, "_arrival"), &a);
        ec_json_number(ec_json_get(at, "_departure"), &d);
        ec_json_number(ec_json_get(at, "_estimated_departure"), &e);
        ec_json_number(ec_json_get(at, "_requested_energy"), &kwh);
        const char *bat = ec_json_str(ec_json_get(at, "_battery"));
        ec_json *b = bat ? ec_json_get(ec_json_get(ctx, bat), "attributes") : NULL;
        ec_json_number(ec_json_get(b, "_max_power"), &kw);
        if (a < 0 || d < a || a > 1e9 || d > 1e9 || kwh < 0 || kwh > 1e5 || kw < 0 || kw > 1e5)
            return ec_fail(EC_EPARSE, "%s: EV %.40s: needs _arrival <= _departure, _requested_energy and a _battery with _max_power",
                           path, key);
        ec_charge_session_t s;
        memset(&s, 0, sizeof s);
        const char *id = ec_json_str(ec_json_get(at, "_session_id"));
        const char *st = ec_json_str(ec_json_get(at, "_station_id"));
        snprintf(s.id, sizeof s.id, "%s", id ? id : key);
        snprintf(s.station, sizeof s.station, "%s", st ? st : "");
        s.arrival_s = (int64_t)a * period_s;
        s.departure_s = (int64_t)d * period_s;
        s.est_departure_s = (int64_t)(e < a ? d : e) * period_s;
        s.requested_wh = kwh * 1000;
        /* The ACN input's EVSEs give at most 32 A at 208 V: the published
         * figures are of sessions held to that, whatever the vehicle takes. */
        s.max_w = (kw < EC_SIM_ACN_EVSE_KW ? kw : EC_SIM_ACN_EVSE_KW) * 1000;
        ec_err rc = ec_vec_push(out, &s);
        if (rc) return rc;
    }
    if (!out->len) return ec_fail(EC_EPARSE, "%s: no acnsim EV in the event queue", path);
    return EC_OK;
}

ec_err ec_charge_sessions_acn(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out)
{
    /* The JSON is itself inside a JSON string: read it as the one element
     * of an array, then read the string. */
    ec_json *j = NULL, *inner = NULL;
    ec_buf arr;
    ec_err rc = EC_OK;
    ec_buf_init(&arr, EC_SIM_MAX_FILE + 2);
    if (ec_buf_append(&arr, "[", 1) || ec_buf_append(&arr, text, len) || ec_buf_append(&arr, "]", 1))
        rc = ec_fail(EC_ELIMIT, "%s: larger than %u bytes", name, EC_SIM_MAX_FILE);
    if (!rc) rc = ec_json_load_buf(arr.data, arr.len, name, &j);
    ec_buf_free(&arr);
    ec_json *top = rc ? NULL : ec_json_array_get(j, 0);
    const char *str = ec_json_str(top);
    if (!rc && ec_json_array_size(j) != 1) rc = ec_fail(EC_EPARSE, "%s: not one JSON value", name);
    if (!rc && str) rc = ec_json_load_str(str, name, &inner);
    if (!rc) rc = acn_events(name, inner ? inner : top, period_s, out);
    ec_json_free(inner);
    ec_json_free(j);
    return rc;
}

ec_err ec_charge_sessions_load(const char *path, int csv, int64_t period_s, int64_t *start_s, ec_vec *out)
{
    ec_buf b;
    ec_buf_init(&b, EC_SIM_MAX_FILE);
    ec_err rc = gunzip(path, &b); /* zlib reads plain files as they are, too */
    if (!rc && csv) {
        rc = ec_charge_sessions_csv_at(path, b.data ? b.data : "", b.len, period_s, start_s, out);
    } else if (!rc) {
        rc = ec_charge_sessions_acn(path, b.data ? b.data : "", b.len, period_s, out);
        if (*start_s == EC_SIM_NO_START) *start_s = 0;
    }
    ec_buf_free(&b);
    return rc;
}

ec_err ec_series_csv(const char *name, const char *text, size_t len, const char *column, double lo, double hi,
                     ec_series_t *out)
{
    memset(out, 0, sizeof *out);
    ec_csv r;
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc = ec_csv_next(&r);
    int ch = -1, cp = -1;
    if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty: a header line start_h,%s is needed", name, column);
    if (!rc && ((ch = ec_csv_find(&r, "start_h")) < 0 || (cp = ec_csv_find(&r, column)) < 0))
        rc = ec_fail(EC_EPARSE, "%s:1: the columns are start_h and %s", name, column);
    ec_vec v;
    ec_vec_init(&v, sizeof(double));
    double prev = -1;
    while (!rc && (rc = ec_csv_next(&r)) == EC_OK) {
        if (v.len >= EC_SIM_MAX_SERIES) {
            rc = ec_fail(EC_ELIMIT, "%s:%ld: more than %d values", name, r.line, EC_SIM_MAX_SERIES);
            break;
        }
        if ((size_t)ch >= r.nfields || (size_t)cp >= r.nfields) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: needs start_h and %s", name, r.line, column);
            break;
        }
        double h = 0, x = 0;
        if ((rc = ec_csv_number(&r, ch, "start_h", 0, 1e6, &h)) || (rc = ec_csv_number(&r, cp, column, lo, hi, &x))) break;
        int64_t at_s = (int64_t)llround(h * 3600);
        if (v.len == 0 && at_s != 0) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: the first start_h is 0 (the start of the replay), not %g", name, r.line, h);
        } else if (v.len == 1) {
            out->interval_s = at_s;
            if (at_s < 60) rc = ec_fail(EC_EPARSE, "%s:%ld: values at least a minute apart", name, r.line);
        } else if (v.len > 1 && at_s - (int64_t)llround(prev * 3600) != out->interval_s) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: start_h %g: values must be evenly spaced (every %g h)", name, r.line, h,
                         (double)out->interval_s / 3600);
        }
        prev = h;
        if (!rc) rc = ec_vec_push(&v, &x);
    }
    if (rc == EC_EOF) rc = v.len ? EC_OK : ec_fail(EC_EPARSE, "%s: no values", name);
    ec_csv_free(&r);
    if (rc) {
        ec_vec_free(&v);
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (v.len == 1) out->interval_s = 3600;
    out->v = v.data, out->n = v.len;
    return EC_OK;
}

ec_err ec_series_load(const char *path, const char *column, double lo, double hi, ec_series_t *out)
{
    ec_buf b;
    ec_buf_init(&b, 16u << 20);
    ec_err rc = gunzip(path, &b);
    if (!rc) rc = ec_series_csv(path, b.data ? b.data : "", b.len, column, lo, hi, out);
    ec_buf_free(&b);
    return rc;
}

double ec_series_value(const ec_series_t *s, int64_t t_s, double dflt)
{
    return ec_series_at(s, 0, t_s, dflt);
}
