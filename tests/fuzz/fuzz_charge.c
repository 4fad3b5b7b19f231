/* fuzz_charge.c - the charging sessions readers (CSV and acnportal event
 * queue, chosen by the first byte's low bit; the CSV with periods or
 * timestamps, from a given start when bit 5 is set) and the price series
 * reader (bit 1), then a short replay of what they read under every
 * algorithm and the offline optimum (with the prices, V2G and a battery when
 * bit 2 is set), each period's schedule checked: no allocation may break
 * its invariants. */
#include "ecorridor/ec_sim.h"

#include <math.h>
#include <string.h>

/* Each period of the schedule: no session above its limit, the controlled
 * runs' draw (charging and battery, with the others' load) within the capacity. */
typedef struct {
    const ec_vec *v;
    double capacity_w, evse_w;
    int controlled;
} check_t;

static void period(void *ctx, int64_t t_s, const double *w, double battery_w, double others_w)
{
    const check_t *c = ctx;
    double total = battery_w + others_w;
    for (size_t i = 0; i < c->v->len; i++) {
        const ec_charge_session_t *s = &EC_VEC_AT(c->v, ec_charge_session_t, i);
        if (w[i] > s->max_w * (1 + 1e-9) + 1e-6 || w[i] > c->evse_w * (1 + 1e-9) + 1e-6) __builtin_trap();
        if (w[i] != 0 && (t_s < s->arrival_s || t_s >= s->departure_s)) __builtin_trap(); /* only while plugged in */
        total += w[i];
    }
    if (c->controlled && total > c->capacity_w * (1 + 1e-9) + 1e-6) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    ec_log_set_level(EC_LOG_OFF);
    ec_vec v;
    ec_vec_init(&v, sizeof(ec_charge_session_t));
    const char *text = (const char *)data + 1;
    if (data[0] & 2) { /* a price series */
        ec_series_t p;
        if (!ec_series_csv("fuzz", text, size - 1, "price_per_kwh", -1e4, 1e4, &p) &&
            (p.n == 0 || p.n > EC_SIM_MAX_SERIES || p.interval_s < 60))
            __builtin_trap();
        ec_series_free(&p);
        return 0;
    }
    int64_t start = data[0] & 32 ? 1795000000 : EC_SIM_NO_START;
    ec_err rc = data[0] & 1 ? ec_charge_sessions_acn("fuzz", text, size - 1, 300, &v)
                            : ec_charge_sessions_csv_at("fuzz", text, size - 1, 300, &start, &v);
    if (rc && v.len) __builtin_trap(); /* a file with an error adds nothing */
    static double pv[] = {0.3, 0.1, 0.5, 0.2}, ov[] = {5000, -3000, 12000};
    static const ec_series_t prices = {pv, 4, 3600}, others = {ov, 3, 5400};
    /* Keep replays short: sessions within a day (half a day with the grid's options,
     * whose optimising steps look over the whole horizon). */
    int grid = data[0] & 4;
    int64_t span = grid ? 43200 : 86400;
    int ok = !rc && v.len <= (grid ? 16u : 64u);
    for (size_t i = 0; ok && i < v.len; i++) {
        ec_charge_session_t *s = &EC_VEC_AT(&v, ec_charge_session_t, i);
        ok = s->departure_s - s->arrival_s <= span && s->arrival_s <= span && s->est_departure_s <= 2 * span;
    }
    for (int a = 0; ok && a <= EC_ALLOC_COUNT; a++) {
        ec_charge_sim_opts_t o = {(ec_alloc_algo)a, 20000, 7000, 300, 0.3};
        check_t c = {&v, 20000, 7000, a != EC_ALLOC_UNCONTROLLED};
        o.on_period = period, o.ctx = &c;
        if (grid) {
            o.prices = &prices, o.others = data[0] & 16 ? &others : NULL, o.v2g_price = 0.4;
            o.minimise_peak = data[0] & 8;
            o.battery = (ec_battery_t){50000, 25000, 10000, 10000, 0.9};
        }
        ec_charge_sim_result_t r;
        if (a == EC_ALLOC_COUNT ? ec_charge_offline_optimum(&v, &o, &r) : ec_charge_simulate(&v, &o, &r)) __builtin_trap();
        if (r.delivered_wh > r.requested_wh * (1 + 1e-9) + 1e-6) __builtin_trap();
        /* Within the capacity, the others' load included (it never exceeds the capacity alone here). */
        if (a != EC_ALLOC_UNCONTROLLED && r.peak_w > 20000 * (1 + 1e-9) + 1e-6) __builtin_trap();
        if (r.below_need_wh > 1e-6) __builtin_trap(); /* V2G never leaves a vehicle below its need */
    }
    ec_vec_free(&v);
    return 0;
}
