/* ec_twin.h - the corridor twin: a day of freight on the simulated clock.
 *
 * Trucks drawn from a corridor's origin-destination flows are planned with
 * route/ at their departure, driven on a simulated clock, queue at sites and
 * charge through the engine's power sharing (engine/), whose events and
 * commands are journaled as a live hub journals them. docs/twin.md.
 *
 * This header has two halves: the inputs (files a user writes, each read
 * with limits and errors that name file, line and field) and the run.
 */
#ifndef EC_TWIN_H
#define EC_TWIN_H

#include "ecorridor/ec_base.h"
#include "ecorridor/ec_energy.h"
#include "ecorridor/ec_geo.h"
#include "ecorridor/ec_model.h"

/* ---- inputs ---------------------------------------------------------------------------- */

#define EC_TRAFFIC_MAX_ROWS 2000000 /* origin-destination pairs in one traffic.csv */

/* One row of a corridor's traffic.csv: origin,destination,volume (trucks per year). */
typedef struct {
    int64_t origin, destination; /* node ids of the corridor's graph.graphml */
    double per_year;             /* >= 0 */
    long line;
} ec_od_t;

typedef struct {
    ec_od_t *od;
    size_t n;
} ec_traffic_t;

/* Reads traffic.csv (header origin,destination,volume; extra columns ignored).
 * All or nothing: on error *out is untouched and the message names file,
 * line and field. A pair with origin == destination is refused. */
ec_err ec_traffic_parse(const char *name, const char *text, size_t len, ec_traffic_t *out);
ec_err ec_traffic_load(const char *path, ec_traffic_t *out);
void ec_traffic_free(ec_traffic_t *t);

#define EC_MIX_MAX 16

/* The electric trucks' vehicles: a profile each with its share of trucks. */
typedef struct {
    char name[256]; /* as the file gave it: a built-in name or a profile file */
    ec_vehicle_profile profile;
    double share;   /* 0..1; the shares of a mix sum to 1 */
} ec_mix_entry_t;

typedef struct {
    ec_mix_entry_t e[EC_MIX_MAX];
    int n;
} ec_vehicle_mix_t;

/* The documented default mix of the built-in profiles (docs/twin.md). */
ec_err ec_vehicle_mix_default(ec_vehicle_mix_t *out);
/* A mix CSV: header vehicle,share; vehicle a built-in profile name or a
 * profile JSON file (a relative path is read from the mix file's folder);
 * share > 0. The shares are scaled to sum to 1 (so 3 and 1 mean 75 % and
 * 25 %). At most EC_MIX_MAX rows; a vehicle named twice is refused. */
ec_err ec_vehicle_mix_parse(const char *name, const char *text, size_t len, ec_vehicle_mix_t *out);
ec_err ec_vehicle_mix_load(const char *path, ec_vehicle_mix_t *out);

/* A time in an input file: "HH:MM" (00:00 to 48:00, from the simulated day's
 * start, day_start_s) or an ISO 8601 time with its zone
 * ("2026-06-16T07:30+02:00", as ec_time_parse_iso reads). 0 on success. */
int ec_twin_parse_time(const char *s, int64_t day_start_s, int64_t *t_s);

#define EC_TRIPS_MAX_ROWS 2000000

/* One truck given by hand (--trips FILE): electric, with its own departure. */
typedef struct {
    int64_t origin, destination; /* node ids */
    int64_t depart_s;            /* Unix time */
    int vehicle;                 /* index into the mix the file was read with */
    double soc;                  /* state of charge at departure, 0..1 */
    long line;
} ec_trip_in_t;

typedef struct {
    ec_trip_in_t *t;
    size_t n;
} ec_trips_in_t;

/* A trips CSV: header origin,destination,departure,vehicle,soc; departure as
 * ec_twin_parse_time; vehicle a name in mix (a built-in or file name not
 * yet in it is added with share 0, so EC_MIX_MAX bounds the names). */
ec_err ec_trips_in_parse(const char *name, const char *text, size_t len, int64_t day_start_s,
                         ec_vehicle_mix_t *mix, ec_trips_in_t *out);
ec_err ec_trips_in_load(const char *path, int64_t day_start_s, ec_vehicle_mix_t *mix, ec_trips_in_t *out);
void ec_trips_in_free(ec_trips_in_t *t);

/* ---- scenarios (--scenario FILE.json, docs/twin.md) ----------------------------------- */

#define EC_SCENARIO_MAX_ITEMS 10000 /* entries in each list of a scenario */

typedef struct {
    char site_id[64];
    int64_t from_s, to_s; /* from < to */
} ec_scn_outage_t;

typedef struct {
    char substation_id[64];
    double factor; /* 0..1: the share of its capacity left */
    int64_t from_s, to_s;
} ec_scn_derate_t;

/* Charge points added (count > 0) or removed (count < 0) at a site for the
 * whole day. A site the sites file lacks is a new site when lat and lon are given. */
typedef struct {
    char site_id[64];
    char name[128];  /* a new site's name ("" : its id) */
    ec_plug plug;
    double power_w;  /* added points: > 0; removed: 0 means any power of that plug */
    int count;       /* != 0 */
    int has_pos;
    ec_latlon_t pos;
} ec_scn_points_t;

typedef struct {
    char file[256];  /* the file it was read from, for messages */
    char name[128];  /* its "name", "" when none */
    int has_temp;
    double temp_c;
    int has_bev_share;
    double bev_share;
    ec_scn_outage_t *outages;
    size_t n_outages;
    ec_scn_derate_t *derates;
    size_t n_derates;
    ec_scn_points_t *points;
    size_t n_points;
} ec_scenario_t;

/* Reads a scenario document: {"name", "temp_c", "bev_share", "outages":
 * [{"site", "from", "to"}], "derating": [{"substation", "factor", "from",
 * "to"}], "charge_points": [{"site", "standard", "power_kw", "count", "lat",
 * "lon", "name"}]}. Unknown keys, a window that does not end after it
 * starts, a factor or share outside 0..1 are refused, the message naming
 * the file and the field ("outages[1].to"). Times as ec_twin_parse_time. */
ec_err ec_scenario_parse(const char *name, const char *text, size_t len, int64_t day_start_s, ec_scenario_t *out);
ec_err ec_scenario_load(const char *path, int64_t day_start_s, ec_scenario_t *out);
/* Checks the ids a scenario names against the sites (site ids of sites) and
 * the substations known (n_subs ids): an unknown one is refused with the
 * field named; a charge_points entry for an unknown site needs lat and lon. */
ec_err ec_scenario_check(const ec_scenario_t *s, const ec_sites *sites, const char *const *subs, size_t n_subs);
void ec_scenario_free(ec_scenario_t *s);

#endif
