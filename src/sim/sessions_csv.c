/* sessions_csv.c - the charging sessions of a site as CSV: one row a
 * session, its times as period numbers or as ISO 8601 timestamps, its power
 * limit from its own row. */
#include "ecorridor/ec_csv.h"
#include "ecorridor/ec_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { C_ID, C_STATION, C_KWH, C_KW, C_N };
enum { T_ARR, T_DEP, T_EST, T_N };
enum { V_ON, V_ARR, V_NEED, V_KW, V_N };

static const char *const cols[C_N] = {"session_id", "station_id", "requested_energy_kWh", "battery_max_power_kW"};
static const char *const period_cols[T_N] = {"arrival_period", "departure_period", "estimated_departure_period"};
static const char *const iso_cols[T_N] = {"arrival", "departure", "estimated_departure"};
static const char *const v2g_cols[V_N] = {"v2g", "arrival_kWh", "departure_need_kWh", "battery_max_discharge_kW"};

/* A session may stay plugged in at most a year: a longer one is a typing
 * error, and the replay steps through every period of it. */
#define SPAN_MAX_S (366 * 86400LL)

typedef struct {
    int at[C_N], t[T_N], v[V_N], evse;
    int iso; /* the times are timestamps, not period numbers */
} layout_t;

static ec_err header(ec_csv *r, layout_t *l)
{
    const char *name = r->name;
    for (int i = 0; i < C_N; i++)
        if ((l->at[i] = ec_csv_find(r, cols[i])) < 0)
            return ec_fail(EC_EPARSE, "%s:1: no column %s (the columns are %s, %s, the times as %s, %s, %s or as %s, %s, %s, "
                           "then %s, %s)", name, cols[i], cols[0], cols[1], period_cols[0], period_cols[1], period_cols[2],
                           iso_cols[0], iso_cols[1], iso_cols[2], cols[2], cols[3]);
    int np = 0, ni = 0, tp[T_N], ti[T_N];
    for (int i = 0; i < T_N; i++) {
        np += (tp[i] = ec_csv_find(r, period_cols[i])) >= 0;
        ni += (ti[i] = ec_csv_find(r, iso_cols[i])) >= 0;
    }
    if (np && ni) return ec_fail(EC_EPARSE, "%s:1: give the times as periods (%s, ...) or as timestamps (%s, ...), not both", name,
                                 period_cols[0], iso_cols[0]);
    l->iso = ni > 0;
    for (int i = 0; i < T_N; i++) {
        l->t[i] = l->iso ? ti[i] : tp[i];
        /* A timestamped file may leave out the estimate: the departure is then what is said. */
        if (l->t[i] < 0 && !(l->iso && i == T_EST))
            return ec_fail(EC_EPARSE, "%s:1: no column %s", name, l->iso ? iso_cols[i] : period_cols[i]);
    }
    for (int i = 0; i < V_N; i++) l->v[i] = ec_csv_find(r, v2g_cols[i]);
    l->evse = ec_csv_find(r, "evse_max_power_kW");
    if (l->v[V_ON] >= 0 && (l->v[V_ARR] < 0 || l->v[V_NEED] < 0))
        return ec_fail(EC_EPARSE, "%s:1: a v2g column needs arrival_kWh and departure_need_kWh too", name);
    return EC_OK;
}

static ec_err timestamp(const ec_csv *r, int col, const char *what, int64_t *t_s)
{
    if (ec_time_parse_iso(r->fields[col], t_s))
        return ec_fail(EC_EPARSE, "%s:%ld: %s \"%.40s\" is not an ISO 8601 time (like 2026-11-24T17:05:00Z or +01:00)",
                       r->name, r->line, what, r->fields[col]);
    return EC_OK;
}

/* One limit for both forms of time: periods are as easy to mistype as dates. */
static ec_err span_ok(const ec_csv *r, const int64_t t[T_N])
{
    if (t[T_DEP] - t[T_ARR] > SPAN_MAX_S || t[T_EST] - t[T_ARR] > SPAN_MAX_S)
        return ec_fail(EC_ELIMIT, "%s:%ld: a session plugged in for more than 366 days", r->name, r->line);
    return EC_OK;
}

/* The times of a row: period numbers as seconds since the start, or
 * timestamps as Unix seconds (made relative once the start is known). */
static ec_err times(const ec_csv *r, const layout_t *l, int64_t period_s, int64_t t[T_N])
{
    if (l->iso) {
        ec_err rc = timestamp(r, l->t[T_ARR], iso_cols[T_ARR], &t[T_ARR]);
        if (!rc) rc = timestamp(r, l->t[T_DEP], iso_cols[T_DEP], &t[T_DEP]);
        t[T_EST] = t[T_DEP];
        if (!rc && l->t[T_EST] >= 0 && *r->fields[l->t[T_EST]]) rc = timestamp(r, l->t[T_EST], iso_cols[T_EST], &t[T_EST]);
        if (rc) return rc;
        if (t[T_DEP] < t[T_ARR])
            return ec_fail(EC_EPARSE, "%s:%ld: departure %s is before arrival %s", r->name, r->line, r->fields[l->t[T_DEP]],
                           r->fields[l->t[T_ARR]]);
        return span_ok(r, t);
    }
    double v[T_N];
    for (int i = 0; i < T_N; i++) {
        ec_err rc = ec_csv_number(r, l->t[i], period_cols[i], 0, 1e9, &v[i]);
        if (rc) return rc;
    }
    if (v[T_DEP] < v[T_ARR])
        return ec_fail(EC_EPARSE, "%s:%ld: departure_period %g is before arrival_period %g", r->name, r->line, v[T_DEP], v[T_ARR]);
    for (int i = 0; i < T_N; i++) t[i] = (int64_t)v[i] * period_s;
    if (t[T_EST] < t[T_ARR]) t[T_EST] = t[T_ARR];
    return span_ok(r, t);
}

static ec_err v2g(const ec_csv *r, const layout_t *l, double kwh, double kw, ec_charge_session_t *s)
{
    double on = 0, arr = 0, need = 0, dkw = kw;
    ec_err rc = EC_OK;
    if (l->v[V_ON] >= 0 && *r->fields[l->v[V_ON]] && (rc = ec_csv_number(r, l->v[V_ON], "v2g", 0, 1, &on))) return rc;
    if (on <= 0) return EC_OK;
    if (on != 1) return ec_fail(EC_EPARSE, "%s:%ld: v2g is 0 or 1", r->name, r->line);
    if ((rc = ec_csv_number(r, l->v[V_ARR], "arrival_kWh", 0, 1e5, &arr)) || (rc = ec_csv_number(r, l->v[V_NEED], "departure_need_kWh", 0, 1e5, &need)) ||
        (l->v[V_KW] >= 0 && *r->fields[l->v[V_KW]] && (rc = ec_csv_number(r, l->v[V_KW], "battery_max_discharge_kW", 0, 1e5, &dkw))))
        return rc;
    if (need > arr + kwh)
        return ec_fail(EC_EPARSE, "%s:%ld: departure_need_kWh %g is more than arrival_kWh + requested_energy_kWh", r->name, r->line, need);
    s->arrival_wh = arr * 1000, s->need_wh = need * 1000, s->max_discharge_w = dkw * 1000;
    return EC_OK;
}

static ec_err row(const ec_csv *r, const layout_t *l, int64_t period_s, ec_charge_session_t *s)
{
    int need[C_N + T_N + V_N + 1], n = 0;
    for (int i = 0; i < C_N; i++) need[n++] = l->at[i];
    for (int i = 0; i < T_N; i++) need[n++] = l->t[i];
    for (int i = 0; i < V_N; i++) need[n++] = l->v[i];
    need[n++] = l->evse;
    for (int i = 0; i < n; i++)
        if (need[i] >= 0 && (size_t)need[i] >= r->nfields)
            return ec_fail(EC_EPARSE, "%s:%ld: %zu fields, the header has more", r->name, r->line, r->nfields);
    memset(s, 0, sizeof *s);
    const char *id = r->fields[l->at[C_ID]], *st = r->fields[l->at[C_STATION]];
    if (!*id || strlen(id) >= sizeof s->id || strlen(st) >= sizeof s->station)
        return ec_fail(EC_EPARSE, "%s:%ld: session_id is 1 to %zu characters, station_id at most %zu", r->name, r->line,
                       sizeof s->id - 1, sizeof s->station - 1);
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->station, sizeof s->station, "%s", st);
    int64_t t[T_N];
    double kwh = 0, kw = 0, evse = 0;
    ec_err rc = times(r, l, period_s, t);
    if (!rc) rc = ec_csv_number(r, l->at[C_KWH], cols[C_KWH], 0, 1e5, &kwh);
    if (!rc) rc = ec_csv_number(r, l->at[C_KW], cols[C_KW], 0, 1e5, &kw);
    if (!rc && l->evse >= 0 && *r->fields[l->evse]) rc = ec_csv_number(r, l->evse, "evse_max_power_kW", 0, 1e5, &evse);
    if (!rc) rc = v2g(r, l, kwh, kw, s);
    if (rc) return rc;
    s->arrival_s = t[T_ARR], s->departure_s = t[T_DEP], s->est_departure_s = t[T_EST];
    s->requested_wh = kwh * 1000;
    /* The session's own limit: its vehicle, and its EVSE when the row names one. */
    s->max_w = (evse > 0 && evse < kw ? evse : kw) * 1000;
    if (s->max_discharge_w > s->max_w && evse > 0 && evse * 1000 < s->max_discharge_w) s->max_discharge_w = evse * 1000;
    return EC_OK;
}

/* Timestamps become seconds since the start, the arrival rounded up and the
 * departures down to a whole period: the replay steps by periods, and a
 * vehicle is not charged before it is there nor after it has gone. */
static ec_err relative(const char *name, int64_t period_s, int64_t *start_s, ec_charge_session_t *s, size_t n)
{
    if (*start_s == EC_SIM_NO_START) {
        int64_t first = INT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (s[i].arrival_s < first) first = s[i].arrival_s;
        *start_s = n ? first - ((first % 3600) + 3600) % 3600 : 0; /* the hour of the first arrival */
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i].arrival_s < *start_s)
            return ec_fail(EC_EPARSE, "%s: session %s arrives before the start of the replay", name, s[i].id);
        int64_t a = s[i].arrival_s - *start_s, d = s[i].departure_s - *start_s, e = s[i].est_departure_s - *start_s;
        s[i].arrival_s = (a + period_s - 1) / period_s * period_s;
        s[i].departure_s = d / period_s * period_s;
        s[i].est_departure_s = e / period_s * period_s;
        if (s[i].departure_s < s[i].arrival_s) s[i].departure_s = s[i].arrival_s;
        if (s[i].est_departure_s < s[i].arrival_s) s[i].est_departure_s = s[i].arrival_s;
    }
    return EC_OK;
}

ec_err ec_charge_sessions_csv_at(const char *name, const char *text, size_t len, int64_t period_s, int64_t *start_s, ec_vec *out)
{
    if (period_s <= 0) return ec_fail(EC_EINVAL, "the period must be positive");
    layout_t l;
    memset(&l, 0, sizeof l);
    ec_csv r;
    size_t first = out->len;
    ec_csv_init(&r, name, text, len, ',');
    ec_err rc = ec_csv_next(&r);
    if (rc == EC_EOF) rc = ec_fail(EC_EPARSE, "%s: empty: a header line is needed", name);
    if (!rc) rc = header(&r, &l);
    while (!rc && (rc = ec_csv_next(&r)) == EC_OK) {
        if (out->len >= EC_SIM_MAX_SESSIONS) {
            rc = ec_fail(EC_ELIMIT, "%s:%ld: more than %d sessions", name, r.line, EC_SIM_MAX_SESSIONS);
            break;
        }
        ec_charge_session_t s;
        if ((rc = row(&r, &l, period_s, &s)) || (rc = ec_vec_push(out, &s))) break;
    }
    if (rc == EC_EOF) rc = EC_OK;
    ec_csv_free(&r);
    if (!rc && l.iso && out->len > first) rc = relative(name, period_s, start_s, &EC_VEC_AT(out, ec_charge_session_t, first), out->len - first);
    else if (!rc && *start_s == EC_SIM_NO_START) *start_s = 0;
    /* The replay steps through every period from the start to the last
     * departure, and a schedule writes a row for each: a year at most, as
     * for one session. */
    for (size_t i = first; !rc && i < out->len; i++) {
        const ec_charge_session_t *x = &EC_VEC_AT(out, ec_charge_session_t, i);
        if (x->departure_s > SPAN_MAX_S || x->est_departure_s > SPAN_MAX_S)
            rc = ec_fail(EC_ELIMIT, "%s: session %s leaves more than 366 days after the start: a replay spans a year at most",
                         name, x->id);
    }
    if (rc) out->len = first;
    return rc;
}

ec_err ec_charge_sessions_csv(const char *name, const char *text, size_t len, int64_t period_s, ec_vec *out)
{
    int64_t start = EC_SIM_NO_START;
    return ec_charge_sessions_csv_at(name, text, len, period_s, &start, out);
}
