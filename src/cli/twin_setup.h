/* twin_setup.h - what `simulate` and `plan` both need to set up a day of the
 * twin: the corridor, the day's start, the output folder. */
#ifndef EC_CLI_TWIN_SETUP_H
#define EC_CLI_TWIN_SETUP_H

#include "cli.h"
#include "ecorridor/ec_twin.h"

/* 1 when dir exists and holds anything. */
int cli_dir_not_empty(const char *dir);
/* Makes dir and any folder above it that is missing; 0 on success. */
int cli_make_dirs(const char *dir);
/* Local midnight of date (YYYY-MM-DD) in zone, and the zone's offset then; -1: not a date. */
int cli_day_start(const char *date, const char *zone, int64_t *start, int *offset);
/* A scenario's windows must touch the simulated day and the night after it (to 48:00). */
ec_err cli_scenario_in_day(const ec_scenario_t *s, int64_t day0);
/* The corridor's graph, contracted and ready for snapping, and (traffic not NULL) its traffic.csv. */
ec_err cli_load_corridor(const char *dir, ec_graph **g, ec_traffic_t *traffic);

/* --name's value as a number from lo to hi into *out: -1 when absent or good, else the usage error's exit code. */
int cli_number(const cli_cmd *cmd, const cli_args *a, const char *name, double lo, double hi, double *out);
/* 12345.6 as "12,346": counts and money read by people. */
const char *cli_thousands(double v, char *buf, size_t n);

#endif
