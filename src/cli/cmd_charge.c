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
    {"sessions", "FILE.csv", "sessions as CSV: session_id,station_id, the times as arrival_period,departure_period,"
                             "estimated_departure_period or as ISO 8601 arrival,departure[,estimated_departure], "
                             "requested_energy_kWh,battery_max_power_kW[,evse_max_power_kW]"
                             "[,v2g,arrival_kWh,departure_need_kWh,battery_max_discharge_kW] (docs/charging.md)", 0},
    {"start", "TIME", "when period 0 is, ISO 8601 (default: the hour of the first timestamped arrival, else 1970-01-01T00:00Z); "
                      "prices and the others' load count their hours from it", 0},
    {"capacity-kw", "N", "the shared limit (a transformer, a grid connection) in kW", 0},
    {"sweep", "LO:HI:STEP", "every capacity from LO to HI kW (instead of --capacity-kw), with the mean", 0},
    {"algo", "A", "uncontrolled, fcfs, rr, edf, llf, opt, offline (the optimum knowing every arrival), or all (default)", 0},
    {"period-s", "S", "length of a period of the file and of the control interval (default 300)", 0},
    {"evse-kw", "KW", "a cap on every session's power (default: none; each session's own limit comes from its row, "
                      "and the ACN input holds its sessions to 6.656 kW itself)", 0},
    {"price-per-kwh", "P", "energy price for the cost (default 0)", 0},
    {"currency", "CODE", "the currency of the prices and costs, ISO 4217 (default EUR)", 0},
    {"prices", "FILE.csv", "a price series instead: start_h,price_per_kwh (hours since the start, evenly spaced); opt charges when cheap", 0},
    {"others", "FILE.csv", "the others' load at the connection: start_h,kw (net of renewables; negative when they give)", 0},
    {"peak", NULL, "opt and offline: after the energy, hold the peak as low as possible", 0},
    {"v2g-price", "P", "vehicles that opted in give energy back in periods priced at least P", 0},
    {"export-price", "P", "what a kWh given back earns its owner (default: the energy price then)", 0},
    {"battery-kwh", "N", "a stationary battery at the connection, N kWh (starts half full, 90 % round trip)", 0},
    {"battery-kw", "N", "its charging and discharging power (default: N kWh over 1 h)", 0},
    {"schedule", "FILE.csv", "write the schedule of the one --algo run: period_start (UTC), total_kw (the load curve), "
                             "then each session's kW", 0},
    {"json", NULL, "one JSON object", 0},
    {NULL, NULL, NULL, 0},
};

const cli_cmd cmd_charge_schedule = {
    "charge-schedule",
    "charge-schedule (--acn FILE.json.gz | --sessions FILE.csv) (--capacity-kw N | --sweep LO:HI:STEP) [--algo A] "
    "[--schedule FILE.csv] [--json]",
    "Replay charging sessions through an allocation algorithm under a capacity: energy delivered, peak, cost, "
    "and the schedule of each session.",
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

/* What a run is compared on, and whether offline solved the same problem. */
typedef struct {
    const char *currency;
    int offline_same;   /* 0: the run has a battery or V2G, which the offline optimum leaves out */
} report_t;

static const char *offline_problem(const report_t *rp, int peak)
{
    if (rp->offline_same)
        return peak ? "the most energy, then the least peak, then the least cost" : "the most energy, then the least cost";
    return peak ? "the most energy, then the least peak, then the least cost, without the battery and V2G"
                : "the most energy, then the least cost, without the battery and V2G";
}

static void run_json(ec_jw *w, const report_t *rp, ec_alloc_algo a, double cap_kw, int peak, const ec_charge_sim_result_t *r)
{
    ec_jw_obj_begin(w);
    ec_jw_key(w, "algo"), ec_jw_str(w, algo_name(a));
    ec_jw_key(w, "capacity_kw"), ec_jw_num(w, cap_kw, 3);
    ec_jw_key(w, "energy_delivered_pct"), ec_jw_num(w, r->delivered_pct, 3);
    ec_jw_key(w, "peak_kw"), ec_jw_num(w, r->peak_w / 1000, 3);
    char cost[32];
    cost_text(r->cost, cost, sizeof cost);
    ec_jw_key(w, "cost"), ec_jw_raw(w, cost);
    ec_jw_key(w, "currency"), ec_jw_str(w, rp->currency);
    ec_jw_key(w, "requested_kwh"), ec_jw_num(w, r->requested_wh / 1000, 3);
    ec_jw_key(w, "delivered_kwh"), ec_jw_num(w, r->delivered_wh / 1000, 3);
    ec_jw_key(w, "sessions"), ec_jw_int(w, r->sessions);
    ec_jw_key(w, "max_active"), ec_jw_int(w, r->max_active);
    ec_jw_key(w, "max_over_capacity_kw"), ec_jw_num(w, r->max_over_w / 1000, 3);
    ec_jw_key(w, "exceeds_capacity"), ec_jw_bool(w, r->max_over_w >= 0.5);
    ec_jw_key(w, "unmet_kwh"), ec_jw_num(w, r->unmet_wh / 1000, 3);
    ec_jw_key(w, "exported_kwh"), ec_jw_num(w, r->exported_wh / 1000, 3);
    ec_jw_key(w, "battery_out_kwh"), ec_jw_num(w, r->battery_out_wh / 1000, 3);
    ec_jw_key(w, "battery_in_kwh"), ec_jw_num(w, r->battery_in_wh / 1000, 3);
    ec_jw_key(w, "battery_change_kwh"), ec_jw_num(w, r->battery_change_wh / 1000, 3);
    ec_jw_key(w, "below_departure_need_kwh"), ec_jw_num(w, r->below_need_wh / 1000, 3);
    if (a == EC_ALLOC_COUNT) {
        ec_jw_key(w, "same_problem"), ec_jw_bool(w, rp->offline_same);
        ec_jw_key(w, "problem"), ec_jw_str(w, offline_problem(rp, peak));
    }
    ec_jw_obj_end(w);
}

/* A table row. A run over the capacity is marked "!", an offline optimum of
 * a smaller problem "*"; the notes under the table say what each means. */
static void run_row(const report_t *rp, ec_alloc_algo a, double cap_kw, const ec_charge_sim_result_t *r)
{
    char cost[32], name[24];
    cost_text(r->cost, cost, sizeof cost);
    const char *mark = r->max_over_w >= 0.5 ? " !" : a == EC_ALLOC_COUNT && !rp->offline_same ? " *" : "";
    snprintf(name, sizeof name, "%s%s", algo_name(a), mark);
    printf("%-15s %11.1f %13.2f %10.1f %9.1f %13s %10.1f %12.1f\n", name, cap_kw, r->delivered_pct, r->peak_w / 1000,
           r->max_over_w / 1000, cost, r->unmet_wh / 1000, r->exported_wh / 1000);
}

typedef struct {
    double lo, hi, step, period, evse, price, v2g_price, bat_kwh, bat_kw, export_price;
    int64_t start;
    ec_alloc_algo algos[EC_ALLOC_COUNT + 1]; /* EC_ALLOC_COUNT: the offline optimum */
    int n_algos;
    const char *currency, *schedule;
} args_t;

static int parse(cli_args *a, args_t *x)
{
    int st;
    const char *v, *cap = cli_get(a, "capacity-kw"), *sweep = cli_get(a, "sweep");
    memset(x, 0, sizeof *x);
    x->step = 1, x->period = 300, x->bat_kw = -1, x->start = EC_SIM_NO_START, x->currency = "EUR";
    if (!cli_get(a, "acn") == !cli_get(a, "sessions")) return cli_usage_error(&cmd_charge_schedule, "give one of --acn and --sessions");
    if (!cap == !sweep) return cli_usage_error(&cmd_charge_schedule, "give one of --capacity-kw and --sweep");
    if (cap && (st = number("capacity-kw", cap, 0, 1e7, &x->lo)) >= 0) return st;
    if (cap) x->hi = x->lo;
    if (sweep) {
        char *e1, *e2 = NULL, *e3 = NULL;
        x->lo = strtod(sweep, &e1);
        x->hi = *e1 == ':' ? strtod(e1 + 1, &e2) : -1;
        x->step = x->hi >= 0 && *e2 == ':' ? strtod(e2 + 1, &e3) : -1;
        if (x->step <= 0 || *e3 || x->lo < 0 || x->hi < x->lo || x->hi > 1e7 || (x->hi - x->lo) / x->step > 10000)
            return cli_usage_error(&cmd_charge_schedule, "--sweep \"%s\" is not LO:HI:STEP in kW (like 10:125:5)", sweep);
    }
    if ((v = cli_get(a, "period-s")) && (st = number("period-s", v, 1, 86400, &x->period)) >= 0) return st;
    if ((v = cli_get(a, "evse-kw")) && (st = number("evse-kw", v, 0, 1e5, &x->evse)) >= 0) return st;
    if ((v = cli_get(a, "price-per-kwh")) && (st = number("price-per-kwh", v, 0, 1e4, &x->price)) >= 0) return st;
    if ((v = cli_get(a, "v2g-price")) && (st = number("v2g-price", v, 0, 1e4, &x->v2g_price)) >= 0) return st;
    if ((v = cli_get(a, "export-price")) && (st = number("export-price", v, 1e-6, 1e4, &x->export_price)) >= 0) return st;
    if ((v = cli_get(a, "battery-kwh")) && (st = number("battery-kwh", v, 0, 1e6, &x->bat_kwh)) >= 0) return st;
    if ((v = cli_get(a, "battery-kw")) && (st = number("battery-kw", v, 0, 1e6, &x->bat_kw)) >= 0) return st;
    if (x->bat_kw >= 0 && x->bat_kwh <= 0) return cli_usage_error(&cmd_charge_schedule, "--battery-kw needs --battery-kwh");
    if (x->bat_kw < 0) x->bat_kw = x->bat_kwh;
    if ((v = cli_get(a, "start")) && ec_time_parse_iso(v, &x->start))
        return cli_usage_error(&cmd_charge_schedule, "--start \"%s\" is not an ISO 8601 time (like 2026-11-24T12:00Z)", v);
    if ((v = cli_get(a, "currency"))) {
        int ok = strlen(v) == 3;
        for (int i = 0; ok && i < 3; i++) ok = v[i] >= 'A' && v[i] <= 'Z';
        if (!ok) return cli_usage_error(&cmd_charge_schedule, "--currency \"%s\" is not an ISO 4217 code (like EUR, CHF, USD)", v);
        x->currency = v;
    }
    const char *an = cli_get(a, "algo");
    if (!an || !strcmp(an, "all")) {
        for (int i = 0; i <= EC_ALLOC_COUNT; i++) x->algos[x->n_algos++] = (ec_alloc_algo)i;
    } else if (!strcmp(an, "offline")) {
        x->algos[x->n_algos++] = EC_ALLOC_COUNT;
    } else if (ec_alloc_algo_parse(an, &x->algos[0]) == 0) {
        x->n_algos = 1;
    } else {
        return cli_usage_error(&cmd_charge_schedule, "--algo \"%s\" is not uncontrolled, fcfs, rr, edf, llf, opt, offline or all", an);
    }
    /* A schedule is of one run: the algorithm --algo names, at one capacity. */
    if ((x->schedule = cli_get(a, "schedule")) && (x->n_algos != 1 || sweep))
        return cli_usage_error(&cmd_charge_schedule, "--schedule writes one run: give --algo with one algorithm and --capacity-kw");
    return -1;
}

static void notes(const report_t *rp, double over_kw, int offline_ran, int peak)
{
    if (over_kw >= 0.0005)
        printf("! over the capacity: uncontrolled charging draws up to %.1f kW more than it allows\n", over_kw);
    if (offline_ran && !rp->offline_same)
        printf("* offline is %s: not the same problem as the runs above it\n", offline_problem(rp, peak));
}

static int run(int argc, char **argv)
{
    cli_args a;
    args_t x;
    int st = cli_parse(&cmd_charge_schedule, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    if ((st = parse(&a, &x)) >= 0) return st;
    const char *acn = cli_get(&a, "acn"), *csv = cli_get(&a, "sessions");
    ec_vec sessions;
    ec_vec_init(&sessions, sizeof(ec_charge_session_t));
    ec_series_t prices = {0}, others = {0};
    const char *pf = cli_get(&a, "prices"), *of = cli_get(&a, "others");
    ec_charge_schedule_t sched = {0};
    int json = cli_flag(&a, "json"), peak = cli_flag(&a, "peak");
    cli_json j;
    ec_err rc = ec_charge_sessions_load(acn ? acn : csv, csv != NULL, (int64_t)x.period, &x.start, &sessions);
    if (!rc && pf) rc = ec_series_load(pf, "price_per_kwh", -1e4, 1e4, &prices);
    if (!rc && of) rc = ec_series_load(of, "kw", -1e7, 1e7, &others);
    for (size_t i = 0; i < others.n; i++) others.v[i] *= 1000; /* kW to W */
    if (!rc && x.schedule) rc = ec_charge_schedule_open(&sched, x.schedule, x.start, &sessions, x.bat_kwh > 0, of != NULL);
    if (rc) goto done;
    report_t rp = {x.currency, x.bat_kwh <= 0 && x.v2g_price <= 0};
    if (json) {
        cli_json_begin(&j);
        ec_jw_obj_begin(&j.w);
        ec_jw_key(&j.w, "runs"), ec_jw_arr_begin(&j.w);
    } else {
        char head[24];
        snprintf(head, sizeof head, "cost_%s", x.currency);
        printf("%-15s %11s %13s %10s %9s %13s %10s %12s\n", "algo", "capacity_kw", "delivered_pct", "peak_kw", "over_kw", head,
               "unmet_kwh", "exported_kwh");
    }
    double mean[EC_ALLOC_COUNT + 1] = {0}, over = 0;
    int count = 0, offline_ran = 0;
    for (double c = x.lo; c <= x.hi + 1e-9 && !rc; c += x.step, count++) {
        for (int i = 0; i < x.n_algos && !rc; i++) {
            ec_alloc_algo al = x.algos[i];
            ec_charge_sim_opts_t o = {al, c * 1000, x.evse * 1000, (int64_t)x.period, x.price, pf ? &prices : NULL,
                                      of ? &others : NULL, peak, x.v2g_price, x.export_price,
                                      {x.bat_kwh * 1000, x.bat_kwh * 500, x.bat_kw * 1000, x.bat_kw * 1000, 0.9},
                                      x.schedule ? ec_charge_schedule_period : NULL, &sched};
            ec_charge_sim_result_t r;
            rc = al == EC_ALLOC_COUNT ? ec_charge_offline_optimum(&sessions, &o, &r) : ec_charge_simulate(&sessions, &o, &r);
            if (rc) break;
            mean[i] += r.delivered_pct;
            if (r.max_over_w / 1000 > over) over = r.max_over_w / 1000;
            offline_ran |= al == EC_ALLOC_COUNT;
            if (json) run_json(&j.w, &rp, al, c, peak, &r);
            else run_row(&rp, al, c, &r);
        }
    }
    if (!rc) rc = ec_charge_schedule_close(&sched);
    if (json) {
        ec_jw_arr_end(&j.w);
        if (count > 1) {
            ec_jw_key(&j.w, "mean_energy_delivered_pct"), ec_jw_obj_begin(&j.w);
            for (int i = 0; i < x.n_algos; i++) ec_jw_key(&j.w, algo_name(x.algos[i])), ec_jw_num(&j.w, mean[i] / count, 3);
            ec_jw_obj_end(&j.w);
        }
        char when[32];
        ec_time_format_iso(x.start, when, sizeof when);
        ec_jw_key(&j.w, "sessions"), ec_jw_int(&j.w, (int64_t)sessions.len);
        ec_jw_key(&j.w, "currency"), ec_jw_str(&j.w, x.currency);
        ec_jw_key(&j.w, "start"), ec_jw_str(&j.w, when);
        ec_jw_obj_end(&j.w);
        if (!rc) cli_json_print(&j);
        else ec_buf_free(&j.buf);
    } else if (!rc) {
        if (count > 1) {
            printf("mean over %d capacities:", count);
            for (int i = 0; i < x.n_algos; i++) printf("  %s %.2f", algo_name(x.algos[i]), mean[i] / count);
            printf("\n");
        }
        notes(&rp, over, offline_ran, peak);
    }
done:
    ec_charge_schedule_close(&sched);
    ec_vec_free(&sessions);
    ec_series_free(&prices);
    ec_series_free(&others);
    return rc ? cli_error(rc) : EXIT_OK;
}
