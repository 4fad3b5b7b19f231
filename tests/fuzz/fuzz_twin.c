/* fuzz_twin.c - the corridor twin's inputs. The first byte chooses the
 * reader (traffic CSV, vehicle mix CSV, trips CSV, scenario JSON); the rest
 * is the file. A scenario that reads is also checked against a few sites. */
#include "ecorridor/ec_twin.h"

#include <stdio.h>
#include <string.h>

/* 2026-06-16T00:00:00Z */
#define FUZZ_DAY_START 1781568000

/* A mix or trips file may name a profile file by path: /dev/stdin must not
 * wait for a keyboard. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (!freopen("/dev/null", "r", stdin)) return -1;
    return 0;
}

static void check_scenario(const ec_scenario_t *s)
{
    static const char sites_csv[] = "site_id,name,lat,lon,standard,power_kw,count\n"
                                    "a,A,50.9,6.9,MCS,1000,2\nb,B,50.7,7.1,CCS2,400,4\na,A,50.9,6.9,CCS2,400,2\n";
    static const char *const subs[] = {"s1", "s2"};
    ec_sites sites;
    if (ec_sites_parse("sites.csv", sites_csv, sizeof sites_csv - 1, &sites)) return;
    ec_scenario_check(s, &sites, subs, 2);
    ec_scenario_check(s, NULL, NULL, 0);
    ec_sites_free(&sites);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 4) {
    case 0: {
        ec_traffic_t t;
        if (ec_traffic_parse("fuzz/traffic.csv", text, len, &t) == EC_OK) ec_traffic_free(&t);
        break;
    }
    case 1: {
        ec_vehicle_mix_t m;
        ec_vehicle_mix_parse("fuzz/mix.csv", text, len, &m);
        break;
    }
    case 2: {
        ec_vehicle_mix_t m;
        ec_trips_in_t t;
        if (ec_vehicle_mix_default(&m)) return 0;
        if (ec_trips_in_parse("fuzz/trips.csv", text, len, FUZZ_DAY_START, &m, &t) == EC_OK) ec_trips_in_free(&t);
        break;
    }
    default: {
        ec_scenario_t s;
        if (ec_scenario_parse("fuzz/scn.json", text, len, FUZZ_DAY_START, &s) == EC_OK) {
            check_scenario(&s);
            ec_scenario_free(&s);
        }
    }
    }
    return 0;
}
