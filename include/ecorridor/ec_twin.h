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
#include "ecorridor/ec_graph.h"
#include "ecorridor/ec_model.h"
#include "ecorridor/ec_power.h"
#include "ecorridor/ec_route.h"
#include "ecorridor/ec_store.h"

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

/* ---- the run ------------------------------------------------------------------------------ */

/* Documented figures (docs/twin.md). */
#define EC_TWIN_WEEKDAY_FACTOR 1.2      /* a weekday's trucks against the yearly average day */
#define EC_TWIN_DIESEL_L_PER_KM 0.326   /* a typical EU tractor-trailer, long-haul cycle */
#define EC_TWIN_DIESEL_TTW_KG_PER_L 2.70
#define EC_TWIN_DIESEL_WTW_KG_PER_L 3.27

#define EC_TWIN_MAX_THREADS 16

/* The share of the day's departures in each local hour (sums to 1). */
extern const double ec_twin_departure_profile[24];

typedef struct {
    const ec_graph *g;               /* the corridor, contracted, snapping prepared */
    const char *segments_path;       /* its segments.csv: the rows segments.csv and .geojson report */
    const ec_traffic_t *traffic;     /* the flows (NULL only with trips) */
    const ec_trips_in_t *trips;      /* trucks given by hand, all electric; NULL: drawn from traffic */
    ec_sites *sites;                 /* connector groups; the run writes their waits */
    const ec_site_power_t *site_power; /* per site id (NULL: each site a group of its own, unmanaged) */
    size_t n_site_power;
    const ec_substation_power_t *subs;
    size_t n_subs;
    const ec_vehicle_mix_t *mix;
    const ec_scenario_t *scenario;   /* NULL: none (its temperature and share are already applied) */
    double bev_share;                /* 0..1 */
    double day_factor;               /* 1 the average day, EC_TWIN_WEEKDAY_FACTOR a weekday */
    double temp_c, grid_g_per_kwh;
    ec_rules rules;
    uint64_t seed;
    int64_t day_start_s;             /* the simulated day's local midnight */
    int utc_offset_s;                /* local time = UTC + this, for the hours of the profile */
    double replan_wait_s, stop_overhead_s, soc_min;
    int threads;                     /* planning threads, >= 1 */
    ec_store *journal;               /* the engine's journal goes here; NULL: none */
    const int *points;               /* per site (in the order of first appearance in sites):
                                        this many points of its largest plug instead; NULL: as given */
    int progress;                    /* draw a progress bar */
} ec_twin_config_t;

typedef struct {
    char site_id[64];
    char name[128];
    int points;
    int64_t arrivals, sessions, max_queue, stranded_nearby;
    double energy_kwh, peak_kw, utilisation, occupancy, congestion_pct, mean_wait_min, p95_wait_min;
    ec_latlon_t pos;
} ec_twin_site_t;

typedef struct {
    int64_t from, to;
    double length_km, trucks_per_day, energy_kwh;
    int64_t e_trucks_per_day;
    ec_latlon_t a, b;
} ec_twin_segment_t;

typedef struct {
    char substation_id[64];
    double peak_kw, capacity_kw, mpfi;
    int peak_hour; /* local hour the peak began in, -1 no load */
} ec_twin_sub_t;

typedef struct {
    int64_t origin, destination, departure_s, arrival_s; /* arrival 0 when stranded */
    int stops, stranded, vehicle, replanned;
    double wait_min, charged_kwh, soc;
    char reason[200];
} ec_twin_trip_t;

typedef struct {
    int64_t trips_total, e_trips, e_trips_charged, stranded, sessions, replanned, journal_rows;
    double energy_charged_kwh, driving_energy_kwh, mean_wait_min, p95_wait_min;
    double co2_avoided_t_ttw, co2_avoided_t_wtw, e_km, runtime_s;
    ec_vec sites, segments, subs, trips; /* ec_twin_site_t, ec_twin_segment_t, ec_twin_sub_t, ec_twin_trip_t */
} ec_twin_result_t;

/* What a hub's database gives the twin: its sites as connector groups (into
 * the caller's ec_sites), their power and policies, the substations with
 * their renewables. installed 1: every EVSE, whatever its status now (AFIR);
 * 0: the usable ones (a day simulated as things are). */
typedef struct {
    ec_site_power_t *site_power;
    size_t n_site_power;
    ec_substation_power_t *subs;
    size_t n_subs;
} ec_twin_db_t;

ec_err ec_twin_db_load(const char *path, int installed, ec_twin_db_t *out, ec_sites *sites);
void ec_twin_db_free(ec_twin_db_t *d);

/* Adds a scenario's charge points to sites (new rows; a new site when it has
 * a position) and takes its removed ones away (from the last row of the
 * plug on). EC_EINVAL naming the entry when a site has fewer to remove. */
ec_err ec_twin_apply_points(ec_sites *sites, const ec_scenario_t *s);

/* Checks what the run would only find on its way: every node the trucks name
 * is in the graph, every site id fits a charge point id. Errors name the
 * file and line. */
ec_err ec_twin_check(const ec_twin_config_t *c);

/* Runs the day. EC_OK with *out filled (free with ec_twin_result_free). */
ec_err ec_twin_run(const ec_twin_config_t *c, ec_twin_result_t *out);
void ec_twin_result_free(ec_twin_result_t *r);
/* Writes summary.json, sites.csv, segments.csv, segments.geojson,
 * substations.csv and trips.csv into dir (which exists); points_for_wait
 * (per site, may be NULL) adds that column to sites.csv. */
ec_err ec_twin_write(const ec_twin_result_t *r, const ec_twin_config_t *c, const int *points_for_wait,
                     const char *dir);
/* The most points --size-for-wait-min tries at a site. */
#define EC_TWIN_SIZE_MAX 64

/* For each of the n sites, the fewest points (of its most powerful kind) at
 * which its p95 wait is at most wait_min, found by bisecting every site at
 * once over whole runs of the day (c->journal must be NULL); 0 when even
 * EC_TWIN_SIZE_MAX points do not do. */
ec_err ec_twin_size_for_wait(const ec_twin_config_t *c, double wait_min, int *points, size_t n);

/* The summary as JSON (what summary.json holds). */
ec_err ec_twin_summary_json(const ec_twin_result_t *r, const ec_twin_config_t *c, ec_buf *out);

#endif
