/* trip.h - `ecorridor route --sites`: plans with charging stops (cmd_trip.c)
 * and the clock of their table (trip_time.c). */
#ifndef EC_CLI_TRIP_H
#define EC_CLI_TRIP_H

#include "cli.h"
#include "ecorridor/ec_geo.h"

int cli_trip(const cli_cmd *cmd, const cli_args *a);

struct ec_graph;
/* EC_OK when p lies within max_m of a road of g; else the error, saying
 * when latitude and longitude given the other way round would be on the map. */
ec_err route_check_point(const struct ec_graph *g, ec_latlon_t p, double max_m);

/* The tz database zone a place keeps (a coarse box per corridor country,
 * docs/routing.md), or NULL: none known, shown in UTC. */
const char *trip_zone_of(ec_latlon_t p);
/* 1 when zone names a zone of the system's tz database. */
int trip_zone_known(const char *zone);
/* "2026-11-24 07:00 CET": t (Unix s) in zone (NULL: UTC). */
void trip_time_local(int64_t t, const char *zone, char *out, size_t n);
/* Seconds zone (NULL: UTC) is ahead of UTC at t. */
int trip_utc_offset(int64_t t, const char *zone);
/* Reads a departure: "now", or an ISO 8601 date and time with its zone
 * ("2026-11-24T07:00+01:00", "2026-11-24 06:00Z", "20261124T0600Z").
 * 0 on success, 1 when the zone is missing, -1 when it is not such a time. */
int trip_parse_depart(const char *s, int64_t now, int64_t *t);

#endif
