/* charging.c - sessions of a site replayed on a simulated clock through the
 * engine's allocation algorithms. */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_json.h"
#include "ecorridor/ec_sim.h"

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
    int at[7];
    ec_csv r;
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc = ec_csv_next(&r);
    if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty: a header line is needed", name);
    for (int i = 0; !rc && i < 7; i++)
        if ((at[i] = ec_csv_find(&r, cols[i])) < 0)
            rc = ec_fail(EC_EPARSE, "%s:1: no column %s (the columns are %s, %s, %s, %s, %s, %s, %s)", name, cols[i],
                         cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]);
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
        if ((rc = ec_vec_push(out, &s))) break;
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

static int by_arrival(const void *a, const void *b)
{
    const ec_charge_session_t *x = a, *y = b;
    return x->arrival_s < y->arrival_s ? -1 : x->arrival_s > y->arrival_s;
}

ec_err ec_charge_simulate(const ec_vec *sessions, const ec_charge_sim_opts_t *o, ec_charge_sim_result_t *r)
{
    memset(r, 0, sizeof *r);
    if (o->period_s <= 0) return ec_fail(EC_EINVAL, "the control period must be positive");
    size_t n = sessions->len;
    ec_charge_session_t *ss = n ? ec_malloc(n * sizeof *ss) : NULL;
    double *left = n ? ec_malloc(n * sizeof *left) : NULL;
    ec_alloc_session_t *act = n ? ec_malloc(n * sizeof *act) : NULL;
    size_t *which = n ? ec_malloc(n * sizeof *which) : NULL;
    double *w = n ? ec_malloc(n * sizeof *w) : NULL;
    ec_err rc = EC_OK;
    if (n && (!ss || !left || !act || !which || !w)) {
        rc = EC_ENOMEM;
        goto done;
    }
    if (n) memcpy(ss, sessions->data, n * sizeof *ss);
    if (n > 1) qsort(ss, n, sizeof *ss, by_arrival);
    int64_t t = n ? ss[0].arrival_s : 0, end = 0;
    for (size_t i = 0; i < n; i++) {
        left[i] = ss[i].requested_wh;
        r->requested_wh += ss[i].requested_wh;
        if (ss[i].departure_s > end) end = ss[i].departure_s;
    }
    r->sessions = (int64_t)n;
    size_t first = 0, next = 0; /* sessions before first have left; from next on are yet to come */
    for (; t < end; t += o->period_s) {
        while (next < n && ss[next].arrival_s <= t) next++;
        while (first < next && (ss[first].departure_s <= t || left[first] <= 0)) first++;
        size_t k = 0;
        for (size_t i = first; i < next; i++) {
            if (ss[i].departure_s <= t || left[i] <= 0) continue;
            double max = ss[i].max_w;
            if (o->evse_max_w > 0 && o->evse_max_w < max) max = o->evse_max_w;
            act[k] = (ec_alloc_session_t){ss[i].arrival_s, ss[i].est_departure_s, left[i], max};
            which[k++] = i;
        }
        if (!k) continue;
        ec_alloc_step(o->algo, act, k, o->capacity_w, t, o->period_s, w);
        double sum = 0;
        for (size_t j = 0; j < k; j++) {
            double e = w[j] * (double)o->period_s / 3600.0;
            if (e > left[which[j]]) e = left[which[j]];
            left[which[j]] -= e;
            r->delivered_wh += e;
            sum += w[j];
        }
        r->steps++;
        if ((int64_t)k > r->max_active) r->max_active = (int64_t)k;
        if (sum > r->peak_w) r->peak_w = sum;
        if (sum - o->capacity_w > r->max_over_w) r->max_over_w = sum - o->capacity_w;
    }
    r->delivered_pct = r->requested_wh > 0 ? 100.0 * r->delivered_wh / r->requested_wh : 100.0;
    r->cost = r->delivered_wh / 1000.0 * o->price_per_kwh;
done:
    ec_free(ss);
    ec_free(left);
    ec_free(act);
    ec_free(which);
    ec_free(w);
    return rc;
}
