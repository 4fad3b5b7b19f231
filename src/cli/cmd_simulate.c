/* cmd_simulate.c - `ecorridor simulate`: a day of freight on a corridor,
 * on the same engine as live (src/sim/twin*.c, docs/twin.md). Every input
 * is read and checked before --out is touched. */
#include "cli.h"
#include "trip.h"
#include "twin_setup.h"
#include "ecorridor/ec_twin.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int run(int argc, char **argv);

static const cli_opt opts[] = {
    {"corridor", "DIR", "graph.graphml, segments.csv and traffic.csv (origin,destination,volume per year) (required)"},
    {"sites", "SITES.csv", "charging sites (docs/sites.md); each site charges at its points' power"},
    {"db", "HUB.db", "or a hub's database: its sites, their substations, limits and charging policies"},
    {"bev-share", "F", "share of the trucks that are battery-electric, 0..1 (required without --trips)"},
    {"vehicles", "MIX.csv", "the electric trucks' vehicles: vehicle,share (default: docs/twin.md)"},
    {"trips", "TRIPS.csv", "these electric trucks instead of the flows: origin,destination,departure,vehicle,soc"},
    {"day", "weekday|average", "a weekday (default: 1.2 x the yearly average day) or the average day"},
    {"date", "YYYY-MM-DD", "the day simulated (default 2026-06-16, a Tuesday)"},
    {"tz", "ZONE", "its time zone, for the hours of departure (default: the corridor's, else UTC)"},
    {"rules", "eu|us|none", "driving time rules (default eu)"},
    {"temp-c", "T", "outside temperature in C (default 20)"},
    {"grid-g-per-kwh", "G", "the grid's emissions per kWh charged, for CO2 well-to-wheel (default 0)"},
    {"seed", "N", "seed of the trucks drawn (default 1): the same seed, the same day"},
    {"scenario", "FILE.json", "outages, derating, charge points added or removed, temperature, share"},
    {"size-for-wait-min", "W", "also find each site's fewest points with a p95 wait of at most W minutes"},
    {"replan-wait-min", "M", "a truck that would wait longer than this re-plans (default 30)"},
    {"stop-overhead-min", "M", "pulling in and plugging in at each charging stop (default 5)"},
    {"threads", "N", "threads planning routes (default 2)"},
    {"out", "DIR", "where the day's files go, created when missing (required)"},
    {"force", NULL, "write into a --out that is not empty"},
    {"json", NULL, "print the summary as JSON"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_simulate = {
    "simulate",
    "simulate --corridor DIR (--sites SITES.csv | --db HUB.db) --bev-share F [--vehicles MIX.csv] [--trips TRIPS.csv] "
    "[--day weekday|average] [--date YYYY-MM-DD] [--tz ZONE] [--rules eu|us|none] [--temp-c T] [--grid-g-per-kwh G] "
    "[--seed N] [--scenario FILE.json] [--size-for-wait-min W] [--replan-wait-min M] [--stop-overhead-min M] "
    "[--threads N] --out DIR [--force] [--json] [--quiet]",
    "Simulate a day of freight on a corridor: trucks planned and driven, queues, charging through the engine, its journal.",
    opts, run, NULL};

static int number(const cli_args *a, const char *name, double lo, double hi, double *out)
{
    return cli_number(&cmd_simulate, a, name, lo, hi, out);
}






static const char *percent(double v, char *buf, size_t n)
{
    snprintf(buf, n, "%.0f %%", v * 100);
    return buf;
}

static void print_summary(const ec_twin_result_t *r, const ec_twin_config_t *c, const char *corridor, const char *zone,
                          const char *out, const int *pfw, double wait_min)
{
    char when[48], pct[16];
    trip_time_local(c->day_start_s, zone, when, sizeof when);
    const char *name = strrchr(corridor, '/');
    name = name && name[1] ? name + 1 : corridor;
    char a[32], b[32], d[32], e[32], f[32];
    printf("%s on %s, %s of the trucks electric, seed %llu, from %s\n", c->day_factor > 1 ? "A weekday" : "An average day",
           name, percent(c->bev_share, pct, sizeof pct), (unsigned long long)c->seed, when);
    printf("  trucks            %s, %s of them electric: %s charged on the way, %s stranded, %s re-planned\n",
           cli_thousands((double)r->trips_total, a, sizeof a), cli_thousands((double)r->e_trips, b, sizeof b),
           cli_thousands((double)r->e_trips_charged, d, sizeof d), cli_thousands((double)r->stranded, e, sizeof e),
           cli_thousands((double)r->replanned, f, sizeof f));
    printf("  energy            %s kWh charged in %s sessions at %zu sites; ", cli_thousands(r->energy_charged_kwh, a, sizeof a),
           cli_thousands((double)r->sessions, b, sizeof b), r->sites.len);
    printf("%s kWh driven electric on the segments\n", cli_thousands(r->driving_energy_kwh, d, sizeof d));
    printf("  waits             mean %.1f min, p95 %.1f min\n", r->mean_wait_min, r->p95_wait_min);
    printf("  CO2 avoided       %.1f t tank-to-wheel, %.1f t well-to-wheel\n", r->co2_avoided_t_ttw, r->co2_avoided_t_wtw);
    /* The busiest sites: the most energy charged. */
    int top[5] = {-1, -1, -1, -1, -1};
    for (size_t i = 0; i < r->sites.len; i++) {
        const ec_twin_site_t *s = &EC_VEC_AT(&r->sites, ec_twin_site_t, i);
        for (int k = 0; k < 5; k++) {
            const ec_twin_site_t *t = top[k] < 0 ? NULL : &EC_VEC_AT(&r->sites, ec_twin_site_t, top[k]);
            if (!s->sessions) break;
            if (!t || s->energy_kwh > t->energy_kwh) {
                memmove(&top[k + 1], &top[k], (size_t)(4 - k) * sizeof top[0]);
                top[k] = (int)i;
                break;
            }
        }
    }
    if (top[0] >= 0) {
        printf("\n  %-32s %6s %8s %10s %8s %9s %9s%s\n", "busiest sites", "points", "sessions", "kWh", "peak kW", "p95 wait",
               "max queue", pfw ? "  points for the wait" : "");
        for (int k = 0; k < 5 && top[k] >= 0; k++) {
            const ec_twin_site_t *s = &EC_VEC_AT(&r->sites, ec_twin_site_t, top[k]);
            printf("  %-32.32s %6d %8lld %10.0f %8.0f %5.1f min %9lld", s->name[0] ? s->name : s->site_id, s->points, (long long)s->sessions,
                   s->energy_kwh, s->peak_kw, s->p95_wait_min, (long long)s->max_queue);
            if (pfw && pfw[top[k]] > 0) printf("  %d", pfw[top[k]]);
            else if (pfw) printf("  more than %d", EC_TWIN_SIZE_MAX);
            printf("\n");
        }
    }
    if (pfw) printf("\n  points for the wait: the fewest points at which a site's p95 wait is at most %g min\n", wait_min);
    printf("\nwrote %s/: summary.json, sites.csv, segments.csv, segments.geojson, substations.csv, trips.csv, journal.db"
           " (%lld journal rows) in %.1f s\n",
           out, (long long)r->journal_rows, r->runtime_s);
}

typedef struct {
    ec_graph *g;
    ec_traffic_t traffic;
    ec_trips_in_t trips;
    ec_sites sites;
    ec_twin_db_t db;
    ec_vehicle_mix_t mix;
    ec_scenario_t scn;
    ec_store *journal;
    int *pfw;
} inputs;

static void inputs_free(inputs *in)
{
    ec_graph_free(in->g);
    ec_traffic_free(&in->traffic);
    ec_trips_in_free(&in->trips);
    ec_sites_free(&in->sites);
    ec_twin_db_free(&in->db);
    ec_scenario_free(&in->scn);
    ec_store_close(in->journal);
    ec_free(in->pfw);
}


static int run(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_simulate, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    const char *corridor = cli_get(&a, "corridor"), *out = cli_get(&a, "out"), *sites = cli_get(&a, "sites");
    const char *db = cli_get(&a, "db"), *trips = cli_get(&a, "trips"), *day = cli_get(&a, "day");
    const char *rules = cli_get(&a, "rules"), *date = cli_get(&a, "date"), *tz = cli_get(&a, "tz");
    if (!corridor) return cli_usage_error(&cmd_simulate, "--corridor DIR is required");
    if (!out) return cli_usage_error(&cmd_simulate, "--out DIR is required");
    if (!sites == !db) return cli_usage_error(&cmd_simulate, "give --sites SITES.csv or --db HUB.db (one of them)");
    if (!trips && !cli_get(&a, "bev-share")) return cli_usage_error(&cmd_simulate, "--bev-share F is required (or --trips)");
    ec_twin_config_t c;
    memset(&c, 0, sizeof c);
    c.day_factor = EC_TWIN_WEEKDAY_FACTOR, c.temp_c = 20, c.rules = EC_RULES_EU, c.seed = 1;
    c.replan_wait_s = 30, c.stop_overhead_s = 5, c.soc_min = 0.1, c.threads = 2;
    double seed = 1, threads = 2, wait_min = -1;
    if (day && !strcmp(day, "average")) c.day_factor = 1;
    else if (day && strcmp(day, "weekday")) return cli_usage_error(&cmd_simulate, "--day must be weekday or average");
    if (rules && !strcmp(rules, "us")) c.rules = EC_RULES_US;
    else if (rules && !strcmp(rules, "none")) c.rules = EC_RULES_NONE;
    else if (rules && strcmp(rules, "eu")) return cli_usage_error(&cmd_simulate, "--rules must be eu, us or none");
    if ((st = number(&a, "bev-share", 0, 1, &c.bev_share)) >= 0 || (st = number(&a, "temp-c", -50, 60, &c.temp_c)) >= 0 ||
        (st = number(&a, "grid-g-per-kwh", 0, 3000, &c.grid_g_per_kwh)) >= 0 || (st = number(&a, "seed", 0, 4e18, &seed)) >= 0 ||
        (st = number(&a, "size-for-wait-min", 0, 1440, &wait_min)) >= 0 ||
        (st = number(&a, "replan-wait-min", 0, 10000, &c.replan_wait_s)) >= 0 ||
        (st = number(&a, "stop-overhead-min", 0, 60, &c.stop_overhead_s)) >= 0 ||
        (st = number(&a, "threads", 1, EC_TWIN_MAX_THREADS, &threads)) >= 0)
        return st;
    if (seed != floor(seed) || threads != floor(threads))
        return cli_usage_error(&cmd_simulate, "--seed and --threads must be whole numbers");
    c.seed = (uint64_t)seed, c.threads = (int)threads;
    c.replan_wait_s *= 60, c.stop_overhead_s *= 60;
    if (tz && !trip_zone_known(tz))
        return cli_usage_error(&cmd_simulate, "--tz \"%s\" is not a zone of the tz database, like Europe/Berlin or UTC", tz);
    if (!cli_flag(&a, "force") && cli_dir_not_empty(out))
        return cli_error(ec_fail(EC_EINVAL, "--out %s is not empty: give another folder, or --force to write into it", out));

    inputs in;
    memset(&in, 0, sizeof in);
    ec_twin_result_t res;
    memset(&res, 0, sizeof res);
    int code = EXIT_FAIL;
    char path[4096], zone[64];
    ec_err rc = cli_load_corridor(corridor, &in.g, trips ? NULL : &in.traffic);
    if (rc) goto fail;
    if (!tz) {
        const char *z = in.g->n_nodes ? trip_zone_of(ec_graph_point(in.g, 0)) : NULL;
        tz = z ? z : "UTC";
    }
    snprintf(zone, sizeof zone, "%s", tz);
    if (cli_day_start(date ? date : "2026-06-16", zone, &c.day_start_s, &c.utc_offset_s)) {
        code = cli_usage_error(&cmd_simulate, "--date \"%s\" is not a date like 2026-06-16", date);
        goto done;
    }
    if (cli_get(&a, "vehicles")) rc = ec_vehicle_mix_load(cli_get(&a, "vehicles"), &in.mix);
    else rc = ec_vehicle_mix_default(&in.mix);
    if (!rc && trips) rc = ec_trips_in_load(trips, c.day_start_s, &in.mix, &in.trips);
    if (!rc && sites) rc = ec_sites_load(sites, &in.sites);
    struct stat dbst;
    if (!rc && db && stat(db, &dbst) != 0) rc = ec_fail(EC_ENOTFOUND, "--db %s: no such database", db);
    if (!rc && db) rc = ec_twin_db_load(db, 0, &in.db, &in.sites);
    if (!rc && cli_get(&a, "scenario")) {
        rc = ec_scenario_load(cli_get(&a, "scenario"), c.day_start_s, &in.scn);
        if (!rc && in.scn.n_derates && !db)
            rc = ec_fail(EC_EINVAL, "%s: derating[0]: a derating needs the substations of a hub's database (--db); a sites file has none",
                         in.scn.file);
        if (!rc) rc = cli_scenario_in_day(&in.scn, c.day_start_s);
        const char *subs[4096];
        size_t n = 0;
        for (size_t k = 0; k < in.db.n_subs && n < 4096; k++) subs[n++] = in.db.subs[k].id;
        if (!rc) rc = ec_scenario_check(&in.scn, &in.sites, subs, n);
        if (!rc) rc = ec_twin_apply_points(&in.sites, &in.scn);
        if (!rc && in.scn.has_temp) c.temp_c = in.scn.temp_c;
        if (!rc && in.scn.has_bev_share) c.bev_share = in.scn.bev_share;
        c.scenario = &in.scn;
    }
    if (rc) goto fail;
    if (trips) c.bev_share = 1; /* every truck of a trips file is electric */
    c.g = in.g, c.traffic = trips ? NULL : &in.traffic, c.trips = trips ? &in.trips : NULL, c.sites = &in.sites;
    c.site_power = in.db.site_power, c.n_site_power = in.db.n_site_power, c.subs = in.db.subs, c.n_subs = in.db.n_subs;
    c.mix = &in.mix;
    snprintf(path, sizeof path, "%s/segments.csv", corridor);
    c.segments_path = path;
    c.progress = ec_log_get_level() <= EC_LOG_INFO;
    if ((rc = ec_twin_check(&c))) goto fail;
    if (c.day_factor > 1 && ((c.day_start_s + 43200 + c.utc_offset_s) / 86400 + 4) % 7 == 0)
        ec_log(EC_LOG_WARN, "%s is a Sunday: --day weekday simulates a weekday's trucks on it", date ? date : "the day");
    ec_trip_planner *probe = NULL;
    size_t skipped = 0;
    if (!ec_trip_planner_new(in.g, &in.sites, &probe)) ec_trip_planner_sites(probe, &skipped);
    ec_trip_planner_free(probe);
    if (skipped) ec_log(EC_LOG_WARN, "%zu sites lie more than 5 km from a road of the corridor: no truck will reach them", skipped);

    struct stat ost;
    if (stat(out, &ost) == 0 && !S_ISDIR(ost.st_mode)) {
        rc = ec_fail(EC_EINVAL, "--out %s is a file, not a folder", out);
        goto fail;
    }
    if (cli_make_dirs(out)) {
        rc = ec_fail(EC_EIO, "--out %s: %s", out, strerror(errno));
        goto fail;
    }
    char jpath[4096];
    snprintf(jpath, sizeof jpath, "%s/journal.db", out);
    remove(jpath); /* a day's journal holds that day only */
    snprintf(jpath + strlen(jpath), sizeof jpath - strlen(jpath), "-wal");
    remove(jpath);
    snprintf(jpath, sizeof jpath, "%s/journal.db", out);
    /* A new file's schema migrations are no news here. */
    ec_log_level lvl = ec_log_get_level();
    if (lvl == EC_LOG_INFO) ec_log_set_level(EC_LOG_WARN);
    rc = ec_store_open(jpath, &in.journal);
    ec_log_set_level(lvl);
    /* The register the day ran on goes with its journal, so that `ecorridor report` names its
     * sites and groups them by operator and jurisdiction as it does a hub's. */
    if (!rc && db) rc = ec_store_copy_register(in.journal, db);
    if (!rc && sites) {
        ec_import_set set;
        ec_import_summary_t sum;
        memset(&set, 0, sizeof set), memset(&sum, 0, sizeof sum);
        rc = ec_store_import_file(in.journal, sites, "csv", NULL, &set, &sum, NULL);
        ec_import_set_free(&set);
        if (rc) rc = ec_fail(rc, "%s: %s %s", sites, sum.where, sum.err.message);
    }
    if (rc || (rc = ec_store_begin(in.journal))) goto fail;
    c.journal = in.journal;
    if ((rc = ec_twin_run(&c, &res))) goto fail;
    if ((rc = ec_store_commit(in.journal)) || (rc = ec_store_journal_count(in.journal, &res.journal_rows))) goto fail;
    if (wait_min >= 0) {
        c.journal = NULL;
        if (!(in.pfw = ec_calloc(res.sites.len + 1, sizeof *in.pfw))) {
            rc = EC_ENOMEM;
            goto fail;
        }
        if ((rc = ec_twin_size_for_wait(&c, wait_min, in.pfw, res.sites.len))) goto fail;
    }
    if ((rc = ec_twin_write(&res, &c, in.pfw, out))) goto fail;
    if (cli_flag(&a, "json")) {
        ec_buf b;
        ec_buf_init(&b, 1u << 20);
        if (!ec_twin_summary_json(&res, &c, &b)) printf("%s\n", b.data);
        ec_buf_free(&b);
    } else if (ec_log_get_level() <= EC_LOG_INFO) {
        print_summary(&res, &c, corridor, zone, out, in.pfw, wait_min);
    }
    code = EXIT_OK;
    goto done;
fail:
    code = cli_error(rc);
done:
    ec_twin_result_free(&res);
    inputs_free(&in);
    return code;
}
