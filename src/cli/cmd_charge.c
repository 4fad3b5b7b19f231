/* cmd_charge.c - `ecorridor charge-schedule`: charging sessions replayed
 * through an allocation algorithm under a capacity (sim/). */
#include "cli.h"
#include "ecorridor/ec_model.h"
#include "ecorridor/ec_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int run(int argc, char **argv);

static const cli_opt opts[] = {
    {"acn", "FILE.json.gz", "an ACN-Sim event queue (the Caltech ACN sessions in ../shared/data/charging)", 0},
    {"sessions", "FILE.csv", "sessions as CSV: session_id,station_id,arrival_period,departure_period,"
                             "estimated_departure_period,requested_energy_kWh,battery_max_power_kW "
                             "[,v2g,arrival_kWh,departure_need_kWh,battery_max_discharge_kW]", 0},
    {"capacity-kw", "N", "the shared limit (a transformer, a grid connection) in kW", 0},
    {"sweep", "LO:HI:STEP", "every capacity from LO to HI kW (instead of --capacity-kw), with the mean", 0},
    {"algo", "A", "uncontrolled, fcfs, rr, edf, llf, opt, offline (the optimum knowing every arrival), or all (default)", 0},
    {"period-s", "S", "length of a period of the file and of the control interval (default 300)", 0},
    {"evse-kw", "KW", "each EVSE's limit (default 6.656: 32 A at 208 V; 0 for none)", 0},
    {"price-per-kwh", "P", "energy price for the cost (default 0)", 0},
    {"prices", "FILE.csv", "a price series instead: start_h,price_per_kwh (hours since the start, evenly spaced); opt charges when cheap", 0},
    {"others", "FILE.csv", "the others' load at the connection: start_h,kw (net of renewables; negative when they give)", 0},
    {"peak", NULL, "opt: after the energy, hold the peak as low as possible", 0},
    {"v2g-price", "P", "vehicles that opted in give energy back in periods priced at least P", 0},
    {"export-price", "P", "what a kWh given back earns its owner (default: the energy price then)", 0},
    {"battery-kwh", "N", "a stationary battery at the connection, N kWh (starts half full)", 0},
    {"battery-kw", "N", "its charging and discharging power (default: N kWh over 1 h)", 0},
    {"json", NULL, "one JSON object", 0},
    {NULL, NULL, NULL, 0},
};

const cli_cmd cmd_charge_schedule = {
    "charge-schedule",
    "charge-schedule (--acn FILE.json.gz | --sessions FILE.csv) (--capacity-kw N | --sweep LO:HI:STEP) [--algo A] [--json]",
    "Replay charging sessions through an allocation algorithm under a capacity: energy delivered, peak, cost.",
    opts, run, NULL};

static int number(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !isfinite(d) || d < lo || d > hi)
        return cli_usage_error(&cmd_charge_schedule, "--%s \"%s\" is not a number from %g to %g", opt, v, lo, hi);
    *out = d;
    return -1;
}

static const char *algo_name(ec_alloc_algo a)
{
    return a == EC_ALLOC_COUNT ? "offline" : ec_alloc_algo_name(a);
}

/* The simulation adds up its cost in doubles (energy over continuous time);
 * it becomes money once, here, and is printed as all money is. */
static void cost_text(double cost, char *out, size_t n)
{
    ec_money_format(isfinite(cost) ? llround(cost * EC_MONEY_UNIT) : 0, 2, out, n);
}

static void run_json(ec_jw *w, ec_alloc_algo a, double cap_kw, const ec_charge_sim_result_t *r)
{
    ec_jw_obj_begin(w);
    ec_jw_key(w, "algo"), ec_jw_str(w, algo_name(a));
    ec_jw_key(w, "capacity_kw"), ec_jw_num(w, cap_kw, 3);
    ec_jw_key(w, "energy_delivered_pct"), ec_jw_num(w, r->delivered_pct, 3);
    ec_jw_key(w, "peak_kw"), ec_jw_num(w, r->peak_w / 1000, 3);
    char cost[32];
    cost_text(r->cost, cost, sizeof cost);
    ec_jw_key(w, "cost"), ec_jw_raw(w, cost);
    ec_jw_key(w, "requested_kwh"), ec_jw_num(w, r->requested_wh / 1000, 3);
    ec_jw_key(w, "delivered_kwh"), ec_jw_num(w, r->delivered_wh / 1000, 3);
    ec_jw_key(w, "sessions"), ec_jw_int(w, r->sessions);
    ec_jw_key(w, "max_active"), ec_jw_int(w, r->max_active);
    ec_jw_key(w, "max_over_capacity_kw"), ec_jw_num(w, r->max_over_w / 1000, 3);
    ec_jw_key(w, "unmet_kwh"), ec_jw_num(w, r->unmet_wh / 1000, 3);
    ec_jw_key(w, "exported_kwh"), ec_jw_num(w, r->exported_wh / 1000, 3);
    ec_jw_key(w, "battery_out_kwh"), ec_jw_num(w, r->battery_out_wh / 1000, 3);
    ec_jw_key(w, "below_departure_need_kwh"), ec_jw_num(w, r->below_need_wh / 1000, 3);
    ec_jw_obj_end(w);
}

static int run(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_charge_schedule, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *acn = cli_get(&a, "acn"), *csv = cli_get(&a, "sessions");
    if (!acn == !csv) return cli_usage_error(&cmd_charge_schedule, "give one of --acn and --sessions");
    double lo = 0, hi = 0, step = 1, period = 300, evse = 6.656, price = 0;
    const char *cap = cli_get(&a, "capacity-kw"), *sweep = cli_get(&a, "sweep");
    if (!cap == !sweep) return cli_usage_error(&cmd_charge_schedule, "give one of --capacity-kw and --sweep");
    if (cap && (st = number("capacity-kw", cap, 0, 1e7, &lo)) >= 0) return st;
    if (cap) hi = lo;
    if (sweep) {
        char *e1, *e2, *e3;
        lo = strtod(sweep, &e1);
        hi = *e1 == ':' ? strtod(e1 + 1, &e2) : -1;
        step = hi >= 0 && *e2 == ':' ? strtod(e2 + 1, &e3) : -1;
        if (step <= 0 || *e3 || lo < 0 || hi < lo || hi > 1e7 || (hi - lo) / step > 10000)
            return cli_usage_error(&cmd_charge_schedule, "--sweep \"%s\" is not LO:HI:STEP in kW (like 10:125:5)", sweep);
    }
    const char *v;
    if ((v = cli_get(&a, "period-s")) && (st = number("period-s", v, 1, 86400, &period)) >= 0) return st;
    if ((v = cli_get(&a, "evse-kw")) && (st = number("evse-kw", v, 0, 1e5, &evse)) >= 0) return st;
    if ((v = cli_get(&a, "price-per-kwh")) && (st = number("price-per-kwh", v, 0, 1e4, &price)) >= 0) return st;
    double v2g_price = 0, bat_kwh = 0, bat_kw = -1, export_price = 0;
    if ((v = cli_get(&a, "v2g-price")) && (st = number("v2g-price", v, 0, 1e4, &v2g_price)) >= 0) return st;
    if ((v = cli_get(&a, "export-price")) && (st = number("export-price", v, 1e-6, 1e4, &export_price)) >= 0) return st;
    if ((v = cli_get(&a, "battery-kwh")) && (st = number("battery-kwh", v, 0, 1e6, &bat_kwh)) >= 0) return st;
    if ((v = cli_get(&a, "battery-kw")) && (st = number("battery-kw", v, 0, 1e6, &bat_kw)) >= 0) return st;
    if (bat_kw >= 0 && bat_kwh <= 0) return cli_usage_error(&cmd_charge_schedule, "--battery-kw needs --battery-kwh");
    if (bat_kw < 0) bat_kw = bat_kwh;
    ec_alloc_algo algos[EC_ALLOC_COUNT + 1]; /* EC_ALLOC_COUNT: the offline optimum */
    int n_algos = 0;
    const char *an = cli_get(&a, "algo");
    if (!an || !strcmp(an, "all")) {
        for (int i = 0; i <= EC_ALLOC_COUNT; i++) algos[n_algos++] = (ec_alloc_algo)i;
    } else if (!strcmp(an, "offline")) {
        algos[n_algos++] = EC_ALLOC_COUNT;
    } else if (ec_alloc_algo_parse(an, &algos[0]) == 0) {
        n_algos = 1;
    } else {
        return cli_usage_error(&cmd_charge_schedule, "--algo \"%s\" is not uncontrolled, fcfs, rr, edf, llf, opt, offline or all", an);
    }
    ec_vec sessions;
    ec_vec_init(&sessions, sizeof(ec_charge_session_t));
    ec_series_t prices = {0}, others = {0};
    const char *pf = cli_get(&a, "prices"), *of = cli_get(&a, "others");
    ec_err rc = ec_charge_sessions_load(acn ? acn : csv, csv != NULL, (int64_t)period, &sessions);
    if (!rc && pf) rc = ec_series_load(pf, "price_per_kwh", -1e4, 1e4, &prices);
    if (!rc && of) rc = ec_series_load(of, "kw", -1e7, 1e7, &others);
    for (size_t i = 0; i < others.n; i++) others.v[i] *= 1000; /* kW to W */
    if (rc) {
        ec_vec_free(&sessions);
        ec_series_free(&prices);
        ec_series_free(&others);
        return cli_error(rc);
    }
    int json = cli_flag(&a, "json");
    cli_json j;
    if (json) {
        cli_json_begin(&j);
        ec_jw_obj_begin(&j.w);
        ec_jw_key(&j.w, "runs"), ec_jw_arr_begin(&j.w);
    } else {
        printf("%-13s %12s %14s %10s %12s %11s %12s\n", "algo", "capacity_kw", "delivered_pct", "peak_kw", "cost",
               "unmet_kwh", "exported_kwh");
    }
    double mean[EC_ALLOC_COUNT + 1] = {0};
    int count = 0;
    for (double c = lo; c <= hi + 1e-9 && !rc; c += step, count++) {
        for (int i = 0; i < n_algos && !rc; i++) {
            ec_charge_sim_opts_t o = {algos[i], c * 1000, evse * 1000, (int64_t)period, price, pf ? &prices : NULL,
                                      of ? &others : NULL, cli_flag(&a, "peak"), v2g_price, export_price,
                                      {bat_kwh * 1000, bat_kwh * 500, bat_kw * 1000, bat_kw * 1000, 0.9}};
            ec_charge_sim_result_t r;
            rc = algos[i] == EC_ALLOC_COUNT ? ec_charge_offline_optimum(&sessions, &o, &r)
                                            : ec_charge_simulate(&sessions, &o, &r);
            if (rc) break;
            mean[i] += r.delivered_pct;
            char cost[32];
            cost_text(r.cost, cost, sizeof cost);
            if (json) run_json(&j.w, algos[i], c, &r);
            else
                printf("%-13s %12.1f %14.2f %10.1f %12s %11.1f %12.1f\n", algo_name(algos[i]), c, r.delivered_pct,
                       r.peak_w / 1000, cost, r.unmet_wh / 1000, r.exported_wh / 1000);
        }
    }
    if (json) {
        ec_jw_arr_end(&j.w);
        if (count > 1) {
            ec_jw_key(&j.w, "mean_energy_delivered_pct"), ec_jw_obj_begin(&j.w);
            for (int i = 0; i < n_algos; i++) ec_jw_key(&j.w, algo_name(algos[i])), ec_jw_num(&j.w, mean[i] / count, 3);
            ec_jw_obj_end(&j.w);
        }
        ec_jw_key(&j.w, "sessions"), ec_jw_int(&j.w, (int64_t)sessions.len);
        ec_jw_obj_end(&j.w);
        if (!rc) cli_json_print(&j);
        else ec_buf_free(&j.buf);
    } else if (count > 1 && !rc) {
        printf("mean over %d capacities:", count);
        for (int i = 0; i < n_algos; i++) printf("  %s %.2f", algo_name(algos[i]), mean[i] / count);
        printf("\n");
    }
    ec_vec_free(&sessions);
    ec_series_free(&prices);
    ec_series_free(&others);
    return rc ? cli_error(rc) : EXIT_OK;
}
