/* cmd_chargers.c - `ecorridor chargers simulate`: a region's charge points,
 * alive, against a hub (src/cpsim, docs/chargers.md). */
#include "cli.h"
#include "ecorridor/ec_cpsim.h"

#include <string.h>
#include <sys/stat.h>

#ifndef EC_DEMO_REGION
#define EC_DEMO_REGION "data/demo/rhine_alpine"
#endif

static int run(int argc, char **argv);

static const cli_opt opts[] = {
    {"hub", "URL", "the hub's OCPP endpoint, ws://HOST:PORT/ocpp (required); each charger adds /<its id>"},
    {"region", "DIR", "region whose register.json and sites.csv name the chargers (default: the bundled demo region)"},
    {"count", "N", "only the first N chargers of the region (default: all)"},
    {"site", "ID", "only the chargers of this site"},
    {"seed", "N", "seed of the trucks, tokens and times (default 1): the same seed, the same demo"},
    {"session-s", "S", "a session lasts 0.2 to 1.5 times S seconds, unless the truck is full first (default 180)"},
    {"pause-s", "S", "a connector rests about S seconds between sessions (default 45)"},
    {"first-s", "S", "first sessions start within S seconds of a boot (default 10)"},
    {"meter-s", "S", "MeterValues every S seconds during a session (default 10)"},
    {"duration", "S", "stop after S seconds, as Ctrl-C would (default: run until Ctrl-C)"},
    {"json", NULL, "one JSON object per line (meter values too) instead of readable lines"},
    {NULL, NULL, NULL},
};

const cli_cmd cmd_chargers_simulate = {
    "chargers simulate",
    "chargers simulate --hub ws://HOST:PORT/ocpp [--region DIR] [--count N] [--site ID] [--seed N] [--json]",
    "Connect a region's charge points to a hub over OCPP 1.6J and run charging sessions until Ctrl-C.",
    opts, run, NULL};

static int seconds(const cli_args *a, const char *name, int lo, int hi, int *out)
{
    const char *v = cli_get(a, name);
    int64_t n;
    if (!v) return 0;
    if (ec_parse_i64(v, &n) || n < lo || n > hi)
        return cli_usage_error(&cmd_chargers_simulate, "--%s \"%s\" is not a whole number from %d to %d", name, v, lo, hi);
    *out = (int)n;
    return 0;
}

static int run(int argc, char **argv)
{
    cli_args a;
    int st = cli_parse(&cmd_chargers_simulate, argc, argv, &a);
    if (st >= 0) return st == EXIT_OK + 1 ? EXIT_OK : st;
    ec_cpsim_opts_t o;
    memset(&o, 0, sizeof o);
    ec_cpsim_pace_default(&o.pace);
    o.hub_url = cli_get(&a, "hub");
    if (!o.hub_url) return cli_usage_error(&cmd_chargers_simulate, "--hub is required (e.g. --hub ws://127.0.0.1:8080/ocpp)");
    o.region_dir = cli_get(&a, "region");
    if (!o.region_dir) {
        /* As `serve` finds it: beside the checkout this binary was built
         * from, or under the current directory. */
        struct stat sb;
        o.region_dir = stat(EC_DEMO_REGION, &sb) == 0 ? EC_DEMO_REGION : "data/demo/rhine_alpine";
    }
    o.site = cli_get(&a, "site");
    int count = 0, seed = 1, dur = 0;
    if ((st = seconds(&a, "count", 1, EC_CPSIM_MAX_CHARGERS, &count)) || (st = seconds(&a, "seed", 0, 2000000000, &seed)) ||
        (st = seconds(&a, "session-s", 10, 86400, &o.pace.session_s)) ||
        (st = seconds(&a, "pause-s", 1, 86400, &o.pace.pause_s)) || (st = seconds(&a, "first-s", 1, 3600, &o.pace.first_s)) ||
        (st = seconds(&a, "meter-s", 1, 3600, &o.pace.meter_s)) || (st = seconds(&a, "duration", 1, 31536000, &dur)))
        return st;
    o.count = count, o.seed = (uint64_t)seed, o.duration_s = dur;
    o.json = cli_flag(&a, "json");
    o.quiet = ec_log_get_level() > EC_LOG_INFO;
    ec_err rc = ec_cpsim_run(&o);
    return rc ? cli_error(rc) : EXIT_OK;
}
