/* cmd_plan.c - `ecorridor plan`: where to build and upgrade within a budget,
 * shared against duplicated networks and who pays, each answer measured by
 * a day of the twin (src/plan/, docs/plan.md). Every input is read and
 * checked before --out is touched. */
#include "cli.h"
#include "trip.h"
#include "twin_setup.h"
#include "ecorridor/ec_plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int run(int argc, char **argv);

static const cli_opt opts[] = {
    {"corridor", "DIR", "graph.graphml, segments.csv and traffic.csv (origin,destination,volume per year) (required)"},
    {"sites", "SITES.csv", "the charging sites of today (docs/sites.md)"},
    {"db", "HUB.db", "or a hub's database: its sites, substations and charging policies"},
    {"bev-share", "F", "share of the trucks that are battery-electric, 0..1 (required)"},
    {"jurisdictions", "FILE", "which jurisdiction each corridor node lies in: AREAS.geojson or NODES.csv (required)"},
    {"candidates", "CAND.csv", "new places that could be built: id,lat,lon and planning attributes"},
    {"costs", "COSTS.json", "capex, opex, energy and demand prices, discount rate (default: docs/plan-inputs.md)"},
    {"budget", "AMOUNT", "the most the plan may spend (capex, in the costs' currency; default: no limit)"},
    {"years", "N", "years over which capex is spread, and of the cost of ownership (default 10)"},
    {"scenario", "FILE.json", "the day planned for: outages, derating, charge points, temperature, share"},
    {"vehicles", "MIX.csv", "the electric trucks' vehicles: vehicle,share (default: docs/twin.md)"},
    {"day", "weekday|average", "a weekday (default) or the yearly average day"},
    {"date", "YYYY-MM-DD", "the day simulated (default 2026-06-16)"},
    {"tz", "ZONE", "its time zone (default: the corridor's)"},
    {"temp-c", "T", "outside temperature in C (default 20)"},
    {"grid-g-per-kwh", "G", "the grid's emissions per kWh charged (default 0)"},
    {"seed", "N", "seed of the trucks drawn (default 1)"},
    {"threads", "N", "threads planning routes in each simulated day (default 2)"},
    {"gap", "F", "the MILP's relative optimality gap to stop at (default 0.01)"},
    {"time-limit-s", "S", "the most each MILP solve may take (default 600)"},
    {"resilience-max", "N", "sites taken down in turn, the busiest first (default: all)"},
    {"shapley-samples", "N", "random orders when there are more than 12 jurisdictions (default 50)"},
    {"compare-spacing", "KM", "also simulate the budget spent on pools every KM along the roads (AFIR: 60)"},
    {"export-model", "FILE.json", "also write the model (places, paths, cover sets) for checking"},
    {"out", "DIR", "where the plan's files go, created when missing (required)"},
    {"force", NULL, "write into a --out that is not empty"},
    {"json", NULL, "print plan.json"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_plan = {
    "plan",
    "plan --corridor DIR (--sites SITES.csv | --db HUB.db) --bev-share F --jurisdictions (AREAS.geojson | NODES.csv) "
    "[--candidates CAND.csv] [--costs COSTS.json] [--budget AMOUNT] [--years N] [--scenario FILE.json] --out DIR [--json]",
    "Plan where to build and upgrade: the budgeted plan and its ranked upgrades, shared against duplicated, who pays.",
    opts, run, NULL};

static int number(const cli_args *a, const char *name, double lo, double hi, double *out)
{
    return cli_number(&cmd_plan, a, name, lo, hi, out);
}


static void print_plan(const ec_plan_result_t *r, const ec_plan_config_t *c, const char *out)
{
    char a[48], b[48];
    const char *cur = c->costs->currency;
    printf("Plan on %zu places: %zu paths need a charge (%.0f electric trucks a day), %zu of them no network could serve\n",
           r->n_places, r->stats.paths, r->stats.trucks_per_day, r->stats.unservable);
    if (r->budget >= 0) printf("  budget            %s %s, spent %s %s", cli_thousands(r->budget, a, sizeof a), cur, cli_thousands(r->spent, b, sizeof b), cur);
    else printf("  no budget limit   spent %s %s", cli_thousands(r->spent, b, sizeof b), cur);
    printf("; optimality gap %.2f %%", r->gap * 100);
    if (r->gap > c->mip_gap + 1e-12) printf(" (the search stopped at its limit before the %.2f %% asked)", c->mip_gap * 100);
    printf("\n");
    printf("  served            %.0f of %.0f truck-km a day that need a charge\n", r->served_truck_km, r->stats.truck_km_per_day);
    printf("  the day           before: %lld stranded, p95 wait %.1f min; with the plan: %lld stranded, p95 wait %.1f min\n",
           (long long)r->base.stranded, r->base.p95_wait_min, (long long)r->planned.stranded, r->planned.p95_wait_min);
    if (r->actions.len) {
        printf("\n  %4s  %-12s %-32s %6s %7s %14s %12s %9s\n", "rank", "action", "site", "points", "kW", "capex", "wait h saved",
               "stranded avoided");
        for (size_t i = 0; i < r->actions.len && i < 15; i++) {
            const ec_plan_action_t *x = &EC_VEC_AT(&r->actions, ec_plan_action_t, i);
            printf("  %4d  %-12s %-32.32s %6d %7.0f %14s %12.1f %9.0f\n", x->rank, x->action, x->name, x->points, x->kw,
                   cli_thousands(x->capex, a, sizeof a), x->wait_h_saved_per_day, x->stranded_avoided_per_day);
        }
        if (r->actions.len > 15) printf("  ... %zu more in upgrades.csv\n", r->actions.len - 15);
        printf("  (wait h saved and stranded: the day with every action up to that rank, against today)\n");
    }
    if (r->compared)
        printf("\n  against %zu pools every %g km at the same budget (%s %s): %lld stranded and %.0f kWh charged,"
               " the plan %lld and %.0f kWh\n", r->even_pools, c->compare_spacing_km, cli_thousands(r->even_capex, a, sizeof a), cur,
               (long long)r->even.stranded, r->even.energy_charged_kwh, (long long)r->planned.stranded, r->planned.energy_charged_kwh);
    if (r->jrows.len) {
        printf("\n  %-20s %14s %14s %14s %14s\n", "who pays, a year", "by use", "Shapley", "alone", "duplicated");
        for (size_t i = 0; i < r->jrows.len; i++) {
            const ec_plan_jrow_t *j = &EC_VEC_AT(&r->jrows, ec_plan_jrow_t, i);
            char s1[48], s2[48], s3[48], s4[48];
            printf("  %-20.20s %14s %14s %14s %14s%s\n", j->id, cli_thousands(j->share_by_use, s1, sizeof s1), cli_thousands(j->shapley, s2, sizeof s2),
                   cli_thousands(j->standalone, s3, sizeof s3), cli_thousands(j->duplicated_cost, s4, sizeof s4),
                   j->pays_more_than_alone ? "  pays more than alone" : "");
        }
        printf("  (%s; Shapley %s)\n", cur, r->shapley_exact ? "exact" : "sampled, see shapley_stderr in cost_shares.csv");
    }
    printf("\nwrote %s/: plan.json, upgrades.csv, upgrades/rank-*.json, shared_vs_duplicated.csv, cost_shares.csv, resilience.csv,"
           " tco.csv and the planned day's summary.json, sites.csv, segments.csv, segments.geojson, substations.csv, trips.csv"
           " in %.1f s\n", out, r->runtime_s);
}

/* 1 when a sites file holds a sites header (docs/sites.md's required columns) and no row: a region
 * that starts from nothing. Anything else goes to the sites reader, which says what is wrong. */
static int sites_file_empty(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char line[4096], head[4096] = "";
    int rows = 0;
    while (rows < 2 && fgets(line, sizeof line, f))
        if (strspn(line, " \t\r\n") < strlen(line) && rows++ == 0) snprintf(head, sizeof head, "%s", line);
    fclose(f);
    if (rows != 1) return 0;
    static const char *const need[] = {"site_id", "name", "lat", "lon", "standard", "power_kw", "count"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        size_t len = strlen(need[i]);
        int found = 0;
        for (const char *t = head; *t && !found; t += strcspn(t, ",") + (t[strcspn(t, ",")] == ',')) {
            size_t cell = strcspn(t, ",\r\n");
            found = cell == len && !strncmp(t, need[i], len);
            if (!t[cell] || t[cell] != ',') break;
        }
        if (!found) return 0;
    }
    return 1;
}

typedef struct {
    ec_graph *g;
    ec_traffic_t traffic;
    ec_sites sites;
    ec_twin_db_t db;
    ec_vehicle_mix_t mix;
    ec_scenario_t scn;
    ec_plan_areas_t areas;
    ec_plan_cands_t cands;
    ec_plan_costs_t costs;
    ec_vec places, subs;
} inputs;

static void inputs_free(inputs *in)
{
    ec_graph_free(in->g);
    ec_traffic_free(&in->traffic);
    ec_sites_free(&in->sites);
    ec_twin_db_free(&in->db);
    ec_scenario_free(&in->scn);
    ec_plan_areas_free(&in->areas);
    ec_plan_cands_free(&in->cands);
    ec_vec_free(&in->places), ec_vec_free(&in->subs);
}

/* Every truck belongs to the jurisdiction of its origin: every origin of traffic.csv must lie in
 * one, and a node list must name nodes of the corridor. */
static ec_err areas_cover(const inputs *in, const char *juris)
{
    ec_map nodes;
    ec_err rc = ec_map_init(&nodes, in->g->n_nodes);
    for (uint32_t i = 0; !rc && i < in->g->n_nodes; i++) rc = ec_map_put(&nodes, (uint64_t)in->g->ext_id[i], i);
    for (size_t i = 0; !rc && i < in->areas.n_nodes; i++)
        if (!ec_map_get(&nodes, (uint64_t)in->areas.nodes[i], NULL))
            rc = ec_fail(EC_EINVAL, "%s: node %lld is not a node of the corridor", juris, (long long)in->areas.nodes[i]);
    size_t lost = 0;
    int64_t first = 0;
    for (size_t i = 0; !rc && i < in->traffic.n; i++) {
        uint64_t v;
        int64_t o = in->traffic.od[i].origin;
        if (!ec_map_get(&nodes, (uint64_t)o, &v)) continue; /* the twin's check names it */
        if (ec_plan_areas_of(&in->areas, o, ec_graph_point(in->g, (uint32_t)v)) >= 0) continue;
        if (!lost++) first = o;
    }
    if (!rc && lost)
        rc = ec_fail(EC_EINVAL, "%s: node %lld, where trucks of traffic.csv start, lies in no jurisdiction (%zu such pairs): a "
                     "truck belongs to the jurisdiction of its origin", juris, (long long)first, lost);
    ec_map_free(&nodes);
    return rc;
}

/* --out must be a folder we can make or write, and not the corridor's own. */
static ec_err out_usable(const char *out, const char *corridor)
{
    struct stat st;
    if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) return ec_fail(EC_EINVAL, "--out %s is a file, not a folder", out);
    char a[PATH_MAX], b[PATH_MAX];
    if (realpath(out, a) && realpath(corridor, b) && !strcmp(a, b))
        return ec_fail(EC_EINVAL, "--out %s is the corridor's folder: its files would be overwritten", out);
    /* The nearest folder that exists must be a folder we may write in. */
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", out);
    while (stat(p, &st) != 0) {
        char *slash = strrchr(p, '/');
        if (!slash) {
            snprintf(p, sizeof p, ".");
            break;
        }
        if (slash == p) slash[1] = 0;
        else *slash = 0;
    }
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
        return ec_fail(EC_EINVAL, "--out %s: %s is not a folder", out, p);
    if (access(p, W_OK | X_OK)) return ec_fail(EC_EINVAL, "--out %s: %s: %s", out, p, strerror(errno));
    return EC_OK;
}

static int run(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_plan, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *corridor = cli_get(&a, "corridor"), *out = cli_get(&a, "out"), *sites = cli_get(&a, "sites");
    const char *db = cli_get(&a, "db"), *day = cli_get(&a, "day"), *date = cli_get(&a, "date"), *tz = cli_get(&a, "tz");
    const char *juris = cli_get(&a, "jurisdictions");
    if (!corridor) return cli_usage_error(&cmd_plan, "--corridor DIR is required");
    if (!out || !*out) return cli_usage_error(&cmd_plan, "--out DIR is required");
    if (!sites == !db) return cli_usage_error(&cmd_plan, "give --sites SITES.csv or --db HUB.db (one of them)");
    if (!cli_get(&a, "bev-share")) return cli_usage_error(&cmd_plan, "--bev-share F is required");
    if (!juris) return cli_usage_error(&cmd_plan, "--jurisdictions AREAS.geojson or NODES.csv is required");
    ec_plan_config_t pc;
    memset(&pc, 0, sizeof pc);
    ec_twin_config_t *c = &pc.twin;
    c->day_factor = EC_TWIN_WEEKDAY_FACTOR, c->temp_c = 20, c->rules = EC_RULES_EU, c->seed = 1;
    c->replan_wait_s = 30 * 60, c->stop_overhead_s = 5 * 60, c->soc_min = 0.1, c->threads = 2;
    double spacing = 0, seed = 1, threads = 2, budget = -1, years = 10, gap = 0.01, limit = 600, rmax = 0, samples = 50;
    if (day && !strcmp(day, "average")) c->day_factor = 1;
    else if (day && strcmp(day, "weekday")) return cli_usage_error(&cmd_plan, "--day must be weekday or average");
    if ((st = number(&a, "bev-share", 0, 1, &c->bev_share)) >= 0 || (st = number(&a, "temp-c", -50, 60, &c->temp_c)) >= 0 ||
        (st = number(&a, "grid-g-per-kwh", 0, 3000, &c->grid_g_per_kwh)) >= 0 || (st = number(&a, "seed", 0, 4e18, &seed)) >= 0 ||
        (st = number(&a, "threads", 1, EC_TWIN_MAX_THREADS, &threads)) >= 0 || (st = number(&a, "budget", 0, 1e15, &budget)) >= 0 ||
        (st = number(&a, "years", 1, 100, &years)) >= 0 || (st = number(&a, "gap", 0, 1, &gap)) >= 0 ||
        (st = number(&a, "time-limit-s", 1, 86400, &limit)) >= 0 || (st = number(&a, "resilience-max", 0, 1e6, &rmax)) >= 0 ||
        (st = number(&a, "shapley-samples", 2, 1e6, &samples)) >= 0 || (st = number(&a, "compare-spacing", 1, 1000, &spacing)) >= 0)
        return st;
    static const char *const whole[] = {"seed", "threads", "years", "resilience-max", "shapley-samples"};
    const double wv[] = {seed, threads, years, rmax, samples};
    for (size_t i = 0; i < 5; i++)
        if (wv[i] != floor(wv[i])) return cli_usage_error(&cmd_plan, "--%s \"%s\" must be a whole number", whole[i], cli_get(&a, whole[i]));
    c->seed = (uint64_t)seed, c->threads = (int)threads;
    pc.budget = budget, pc.years = (int)years, pc.mip_gap = gap, pc.time_limit_s = limit;
    pc.resilience_max = (size_t)rmax, pc.shapley_samples = (size_t)samples, pc.compare_spacing_km = spacing;
    if (tz && !trip_zone_known(tz))
        return cli_usage_error(&cmd_plan, "--tz \"%s\" is not a zone of the tz database, like Europe/Berlin or UTC", tz);
    if (!cli_flag(&a, "force") && cli_dir_not_empty(out))
        return cli_error(ec_fail(EC_EINVAL, "--out %s is not empty: give another folder, or --force to write into it", out));

    inputs in;
    memset(&in, 0, sizeof in);
    ec_vec_init(&in.places, sizeof(ec_plan_place_t)), ec_vec_init(&in.subs, sizeof(ec_plan_sub_t));
    ec_plan_result_t res;
    memset(&res, 0, sizeof res);
    int code = EXIT_FAIL;
    char path[4096], zone[64];
    ec_err rc = cli_load_corridor(corridor, &in.g, &in.traffic);
    if (rc) goto fail;
    if (!tz) {
        const char *z = in.g->n_nodes ? trip_zone_of(ec_graph_point(in.g, 0)) : NULL;
        tz = z ? z : "UTC";
    }
    snprintf(zone, sizeof zone, "%s", tz);
    if (cli_day_start(date ? date : "2026-06-16", zone, &c->day_start_s, &c->utc_offset_s)) {
        code = cli_usage_error(&cmd_plan, "--date \"%s\" is not a date like 2026-06-16", date);
        goto done;
    }
    if (cli_get(&a, "vehicles")) rc = ec_vehicle_mix_load(cli_get(&a, "vehicles"), &in.mix);
    else rc = ec_vehicle_mix_default(&in.mix);
    if (!rc && sites && sites_file_empty(sites)) {
        snprintf(in.sites.currency, sizeof in.sites.currency, "EUR");
        ec_log(EC_LOG_INFO, "%s holds no site: the plan starts from nothing", sites);
    } else if (!rc && sites) {
        rc = ec_sites_load(sites, &in.sites);
    }
    struct stat dbst;
    if (!rc && db && stat(db, &dbst) != 0) rc = ec_fail(EC_ENOTFOUND, "--db %s: no such database", db);
    if (!rc && db) rc = ec_twin_db_load(db, 0, &in.db, &in.sites);
    if (!rc) rc = ec_plan_areas_load(juris, &in.areas);
    if (!rc && in.areas.n_ids > 64)
        rc = ec_fail(EC_EINVAL, "%s: %zu jurisdictions: the cost game takes at most 64", juris, in.areas.n_ids);
    if (!rc) rc = ec_plan_areas_resolve(&in.areas, in.g);
    if (!rc && cli_get(&a, "candidates")) rc = ec_plan_cands_load(cli_get(&a, "candidates"), &in.cands);
    if (!rc && cli_get(&a, "costs")) rc = ec_plan_costs_load(cli_get(&a, "costs"), &in.costs);
    else if (!rc) ec_plan_costs_default(&in.costs);
    if (!rc && cli_get(&a, "scenario")) {
        rc = ec_scenario_load(cli_get(&a, "scenario"), c->day_start_s, &in.scn);
        if (!rc && in.scn.n_derates && !db)
            rc = ec_fail(EC_EINVAL, "%s: derating[0]: a derating needs the substations of a hub's database (--db); a sites file has none",
                         in.scn.file);
        if (!rc) rc = cli_scenario_in_day(&in.scn, c->day_start_s);
        const char *subs[4096];
        size_t n = 0;
        for (size_t k = 0; k < in.db.n_subs && n < 4096; k++) subs[n++] = in.db.subs[k].id;
        if (!rc) rc = ec_scenario_check(&in.scn, &in.sites, subs, n);
        if (!rc) rc = ec_twin_apply_points(&in.sites, &in.scn);
        if (!rc && in.scn.has_temp) c->temp_c = in.scn.temp_c;
        if (!rc && in.scn.has_bev_share) c->bev_share = in.scn.bev_share;
        /* Its points are in the sites now; the ranks' scenarios carry them again for simulate. */
        c->scenario = &in.scn;
    }
    if (rc) goto fail;
    c->g = in.g, c->traffic = &in.traffic, c->sites = &in.sites, c->mix = &in.mix;
    c->site_power = in.db.site_power, c->n_site_power = in.db.n_site_power, c->subs = in.db.subs, c->n_subs = in.db.n_subs;
    snprintf(path, sizeof path, "%s/segments.csv", corridor);
    c->segments_path = path;
    pc.areas = &in.areas, pc.cands = cli_get(&a, "candidates") ? &in.cands : NULL, pc.costs = &in.costs;
    pc.cands_name = cli_get(&a, "candidates");
    pc.progress = ec_log_get_level() <= EC_LOG_INFO;
    if ((rc = ec_twin_check(c))) goto fail;
    /* Every place is checked (a candidate off the network) and the budget against the cheapest action, before anything is written. */
    if ((rc = ec_plan_places(&pc, &in.places, &in.subs))) goto fail;
    if (budget >= 0) {
        char what[256] = "";
        double least = ec_plan_cheapest_action(&pc, in.places.data, in.places.len, what, sizeof what);
        char m1[48], m2[48];
        if (isinf(least)) {
            rc = ec_fail(EC_EINVAL, "--budget: no place can take another point, so no budget can buy anything");
            goto fail;
        }
        if (budget < least) {
            rc = ec_fail(EC_EINVAL, "--budget: %s %s is below the cheapest single action, %s %s (%s)", cli_thousands(budget, m1, sizeof m1),
                         in.costs.currency, cli_thousands(least, m2, sizeof m2), in.costs.currency, what);
            goto fail;
        }
    }
    if ((rc = areas_cover(&in, juris))) goto fail;
    if ((rc = out_usable(out, corridor))) goto fail;
    ec_buf model;
    ec_buf_init(&model, (size_t)1 << 31);
    pc.export_model = cli_get(&a, "export-model") ? &model : NULL;
    rc = ec_plan_run(&pc, &res);
    if (!rc && pc.export_model) {
        FILE *f = fopen(cli_get(&a, "export-model"), "wb");
        if (!f || fwrite(model.data, 1, model.len, f) != model.len) rc = ec_fail(EC_EIO, "--export-model %s: could not be written", cli_get(&a, "export-model"));
        if (f && fclose(f) && !rc) rc = ec_fail(EC_EIO, "--export-model %s: could not be written", cli_get(&a, "export-model"));
    }
    ec_buf_free(&model);
    if (rc) goto fail;
    if (cli_make_dirs(out)) {
        rc = ec_fail(EC_EIO, "--out %s: could not be made", out);
        goto fail;
    }
    if ((rc = ec_plan_write(&res, &pc, out))) goto fail;
    if (cli_flag(&a, "json")) {
        ec_buf b;
        ec_buf_init(&b, 1u << 26);
        if (!ec_plan_json(&res, &pc, &b)) printf("%s\n", b.data);
        ec_buf_free(&b);
    } else if (ec_log_get_level() <= EC_LOG_INFO) {
        print_plan(&res, &pc, out);
    }
    code = EXIT_OK;
    goto done;
fail:
    code = cli_error(rc);
done:
    ec_plan_result_free(&res);
    inputs_free(&in);
    return code;
}
