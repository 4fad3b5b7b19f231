/* trip.h - `ecorridor route --sites`: plans with charging stops (cmd_trip.c). */
#ifndef EC_CLI_TRIP_H
#define EC_CLI_TRIP_H

#include "cli.h"

int cli_trip(const cli_cmd *cmd, const cli_args *a);

#endif
