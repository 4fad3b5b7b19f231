/* charging.c - sessions of a site replayed on a simulated clock through the
 * engine's allocation algorithms. */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_sim.h"
#include "ecorridor/ec_share.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static ec_err num(const ec_csv *r, int col, const char *what, double lo, double hi, double *out)
{
    const char *s = r->fields[col];
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi)
        return ec_fail(EC_EPARSE, "%s:%ld: %s \"%.40s\" is not a number from %g to %g", r->name, r->line, what, s, lo, hi);
    *out = v;
    return EC_OK;
}

ec_err ec_charge_sessions_csv(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out)
{
    static const char *const cols[] = {"session_id", "station_id", "arrival_period", "departure_period",
                                       "estimated_departure_period", "requested_energy_kWh", "battery_max_power_kW"};
    static const char *const v2g_cols[] = {"v2g", "arrival_kWh", "departure_need_kWh", "battery_max_discharge_kW"};
    int at[7], vat[4];
    ec_csv r;
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc = ec_csv_next(&r);
    if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty: a header line is needed", name);
    for (int i = 0; !rc && i < 7; i++)
        if ((at[i] = ec_csv_find(&r, cols[i])) < 0)
            rc = ec_fail(EC_EPARSE, "%s:1: no column %s (the columns are %s, %s, %s, %s, %s, %s, %s)", name, cols[i],
                         cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]);
    for (int i = 0; !rc && i < 4; i++) vat[i] = ec_csv_find(&r, v2g_cols[i]);
    if (!rc && vat[0] >= 0 && (vat[1] < 0 || vat[2] < 0))
        rc = ec_fail(EC_EPARSE, "%s:1: a v2g column needs arrival_kWh and departure_need_kWh too", name);
    while (!rc && (rc = ec_csv_next(&r)) == EC_OK) {
        if (out->len >= EC_SIM_MAX_SESSIONS) {
            rc = ec_fail(EC_ELIMIT, "%s:%ld: more than %d sessions", name, r.line, EC_SIM_MAX_SESSIONS);
            break;
        }
        for (int i = 0; i < 7; i++)
            if ((size_t)at[i] >= r.nfields) rc = ec_fail(EC_EPARSE, "%s:%ld: no %s field", name, r.line, cols[i]);
        ec_charge_session_t s;
        memset(&s, 0, sizeof s);
        double a = 0, d = 0, e = 0, kwh = 0, kw = 0;
        if (rc || (rc = num(&r, at[2], "arrival_period", 0, 1e9, &a)) || (rc = num(&r, at[3], "departure_period", 0, 1e9, &d)) ||
            (rc = num(&r, at[4], "estimated_departure_period", 0, 1e9, &e)) ||
            (rc = num(&r, at[5], "requested_energy_kWh", 0, 1e5, &kwh)) ||
            (rc = num(&r, at[6], "battery_max_power_kW", 0, 1e5, &kw)))
            break;
        if (d < a) {
            rc = ec_fail(EC_EPARSE, "%s:%ld: departure_period %g is before arrival_period %g", name, r.line, d, a);
            break;
        }
        snprintf(s.id, sizeof s.id, "%s", r.fields[at[0]]);
        snprintf(s.station, sizeof s.station, "%s", r.fields[at[1]]);
        s.arrival_s = (int64_t)a * period_s;
        s.departure_s = (int64_t)d * period_s;
        s.est_departure_s = (int64_t)(e < a ? a : e) * period_s;
        s.requested_wh = kwh * 1000;
        s.max_w = kw * 1000;
        double v2g = 0, arr = 0, need = 0, dkw = kw;
        for (int i = 0; i < 4; i++)
            if (vat[i] >= 0 && (size_t)vat[i] >= r.nfields) rc = ec_fail(EC_EPARSE, "%s:%ld: no %s field", name, r.line, v2g_cols[i]);
        if (!rc && vat[0] >= 0 && *r.fields[vat[0]] && (rc = num(&r, vat[0], "v2g", 0, 1, &v2g))) break;
        if (!rc && v2g > 0) {
            if ((rc = num(&r, vat[1], "arrival_kWh", 0, 1e5, &arr)) || (rc = num(&r, vat[2], "departure_need_kWh", 0, 1e5, &need)) ||
                (vat[3] >= 0 && *r.fields[vat[3]] && (rc = num(&r, vat[3], "battery_max_discharge_kW", 0, 1e5, &dkw))))
                break;
            if (v2g != 1) rc = ec_fail(EC_EPARSE, "%s:%ld: v2g is 0 or 1", name, r.line);
            else if (need > arr + kwh)
                rc = ec_fail(EC_EPARSE, "%s:%ld: departure_need_kWh %g is more than arrival_kWh + requested_energy_kWh", name, r.line, need);
            s.arrival_wh = arr * 1000, s.need_wh = need * 1000, s.max_discharge_w = dkw * 1000;
        }
        if (rc || (rc = ec_vec_push(out, &s))) break;
    }
    if (rc == EC_EOF) rc = EC_OK;
    ec_csv_free(&r);
    return rc;
}

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
        s.max_w = kw * 1000;
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

ec_err ec_charge_sessions_load(const char *path, int csv, int64_t period_s, ec_vec *out)
{
    ec_buf b;
    ec_buf_init(&b, EC_SIM_MAX_FILE);
    ec_err rc = gunzip(path, &b); /* zlib reads plain files as they are, too */
    if (!rc && csv) {
        rc = ec_charge_sessions_csv(path, b.data ? b.data : "", b.len, period_s, out);
    } else if (!rc) {
        rc = ec_charge_sessions_acn(path, b.data ? b.data : "", b.len, period_s, out);
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
        if ((rc = num(&r, ch, "start_h", 0, 1e6, &h)) || (rc = num(&r, cp, column, lo, hi, &x))) break;
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

static int by_arrival(const void *a, const void *b)
{
    const ec_charge_session_t *x = a, *y = b;
    return x->arrival_s < y->arrival_s ? -1 : x->arrival_s > y->arrival_s;
}

#define HORIZON_MAX 2016 /* periods of price the optimising step sees (a week of 5-minute periods) */

double ec_charge_price_at(const ec_charge_sim_opts_t *o, int64_t t_s)
{
    return ec_series_value(o->prices, t_s, o->price_per_kwh);
}

ec_err ec_charge_simulate(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r)
{
    memset(r, 0, sizeof *r);
    if (o->period_s <= 0) return ec_fail(EC_EINVAL, "the control period must be positive");
    size_t n = sessions->len;
    ec_charge_session_t *ss = n ? ec_malloc(n * sizeof *ss) : NULL;
    double *got = n ? ec_malloc(n * sizeof *got) : NULL; /* delivered to each, net of V2G */
    ec_alloc_session_t *act = n ? ec_malloc(n * sizeof *act) : NULL;
    size_t *which = n ? ec_malloc(n * sizeof *which) : NULL;
    double *w = n ? ec_malloc(n * sizeof *w) : NULL;
    double *head = ec_malloc(HORIZON_MAX * sizeof *head), *price = ec_malloc(HORIZON_MAX * sizeof *price);
    double *other = ec_malloc(HORIZON_MAX * sizeof *other);
    unsigned char *gave = n ? ec_calloc(n, 1) : NULL; /* discharged at some point */
    ec_err rc = EC_OK;
    if ((n && (!ss || !got || !act || !which || !w || !gave)) || !head || !price || !other) {
        rc = EC_ENOMEM;
        goto done;
    }
    if (n) memcpy(ss, sessions->data, n * sizeof *ss);
    if (n > 1) qsort(ss, n, sizeof *ss, by_arrival);
    int64_t t = n ? ss[0].arrival_s : 0, end = 0;
    for (size_t i = 0; i < n; i++) {
        got[i] = 0;
        r->requested_wh += ss[i].requested_wh;
        if (ss[i].departure_s > end) end = ss[i].departure_s;
    }
    r->sessions = (int64_t)n;
    ec_battery_t bat = o->battery;
    int grid = o->prices || o->others || bat.capacity_wh > 0; /* a horizon to look at, else the fast path */
    double h = (double)o->period_s / 3600.0;
    size_t first = 0, next = 0; /* sessions before first have left; from next on are yet to come */
    for (; t < end; t += o->period_s) {
        while (next < n && ss[next].arrival_s <= t) next++;
        while (first < next && ss[first].departure_s <= t) first++;
        size_t k = 0;
        for (size_t i = first; i < next; i++) {
            double left = ss[i].requested_wh - got[i];
            double v2g = ss[i].max_discharge_w > 0 ? ss[i].arrival_wh + got[i] - ss[i].need_wh : 0;
            if (ss[i].departure_s <= t || (left <= 1e-9 && v2g <= 1e-9)) continue;
            double max = ss[i].max_w;
            if (o->evse_max_w > 0 && o->evse_max_w < max) max = o->evse_max_w;
            double dmax = ss[i].max_discharge_w;
            if (o->evse_max_w > 0 && o->evse_max_w < dmax) dmax = o->evse_max_w;
            act[k] = (ec_alloc_session_t){ss[i].arrival_s, ss[i].est_departure_s, left > 0 ? left : 0, max, 0,
                                          v2g > 0 ? v2g : 0, dmax};
            which[k++] = i;
        }
        double bat_w = 0, price_now = ec_charge_price_at(o, t);
        if (k) {
            /* What the battery can give now raises the headroom of this period. */
            double give = bat.stored_wh / h < bat.max_discharge_w ? bat.stored_wh / h : bat.max_discharge_w;
            /* The engine's horizon, as the hub's: without series there is nothing to look ahead at. */
            ec_share_limits_t lim = {o->capacity_w, 0, o->others, NULL, o->prices, 0, bat.capacity_wh > 0 ? give : 0,
                                     grid ? HORIZON_MAX : 1};
            ec_alloc_grid_t g;
            ec_share_horizon(&lim, act, k, t, o->period_s, head, other, price, &g);
            g.minimise_peak = o->minimise_peak, g.v2g_price = o->v2g_price;
            double mean = price_now;
            if (grid) {
                mean = 0;
                for (size_t p = 0; p < g.n_periods; p++)
                    mean += (o->prices ? price[p] : o->price_per_kwh) / (double)g.n_periods;
            }
            ec_alloc_solve(o->algo, act, k, &g, w);
            double sum = 0, out_wh = 0;
            for (size_t j = 0; j < k; j++) {
                size_t i = which[j];
                double e = w[j] * h;
                if (e > ss[i].requested_wh - got[i]) e = ss[i].requested_wh - got[i];
                if (e < 0) {
                    r->exported_wh += -e;
                    out_wh += -e;
                    gave[i] = 1;
                }
                got[i] += e;
                sum += e / h;
            }
            double others = ec_series_value(o->others, t, 0);
            if (bat.capacity_wh > 0) {
                /* Holding the peak: the battery keeps the draw within the highest so far. */
                double target = o->minimise_peak ? (r->peak_w < o->capacity_w ? r->peak_w : o->capacity_w) : o->capacity_w;
                bat_w = ec_battery_step(&bat, target - others, sum, price_now, mean, o->period_s);
                if (bat_w < 0) r->battery_out_wh += -bat_w * h;
            }
            double net = sum + bat_w + others;
            r->steps++;
            if ((int64_t)k > r->max_active) r->max_active = (int64_t)k;
            if (net > r->peak_w) r->peak_w = net;
            if (net - o->capacity_w > r->max_over_w) r->max_over_w = net - o->capacity_w;
            /* The others pay for theirs; what V2G gives back is credited at the export price. */
            double export_price = o->export_price > 0 ? o->export_price : price_now;
            r->cost += ((sum + bat_w) * h + out_wh) / 1000.0 * price_now - out_wh / 1000.0 * export_price;
        } else if (bat.capacity_wh > 0) {
            double mean = 0;
            for (int p = 0; p < 24; p++) mean += ec_charge_price_at(o, t + p * 3600) / 24;
            bat_w = ec_battery_step(&bat, o->minimise_peak ? r->peak_w : o->capacity_w, 0, price_now, mean, o->period_s);
            if (bat_w > r->peak_w) r->peak_w = bat_w;
            r->cost += bat_w * h / 1000.0 * price_now;
        }
    }
    for (size_t i = 0; i < n; i++) {
        r->delivered_wh += got[i] > 0 ? got[i] : 0;
        double short_wh = ss[i].requested_wh - got[i];
        if (short_wh > 0) r->unmet_wh += short_wh;
        double below = ss[i].need_wh - (ss[i].arrival_wh + got[i]);
        if (gave[i] && below > r->below_need_wh) r->below_need_wh = below;
    }
    r->delivered_pct = r->requested_wh > 0 ? 100.0 * r->delivered_wh / r->requested_wh : 100.0;
done:
    ec_free(ss);
    ec_free(got);
    ec_free(act);
    ec_free(which);
    ec_free(w);
    ec_free(head);
    ec_free(price);
    ec_free(other);
    ec_free(gave);
    return rc;
}
